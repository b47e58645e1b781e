//! The movement signal drawn in the picture: built while the samples stream past, in a
//! bounded number of points whatever the night's length.
//!
//! Each second gets the RMS of the sample-to-sample change of the acceleration vector,
//! |a(i) − a(i−1)| in g: zero for a still sensor (up to noise), large for any movement,
//! tilts included, with no filter to settle. Seconds are kept in bins of 1, 2, 4, … s, each
//! bin the largest of its seconds (so a brief movement is not averaged away); when the bins
//! pass [`MAX_POINTS`], neighbours are merged and the width doubles.

use sleeptwitch::Sample;

/// Most points kept for a night: about one per pixel of a wide picture, twice over.
pub(crate) const MAX_POINTS: usize = 4096;

/// A downsampled movement trace of one sensor.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    t0_s: Option<f64>,
    prev: Option<Sample>,
    /// The second being summed: its index from `t0_s`, sum of squares and count.
    second: Option<(i64, f64, u32)>,
    /// Bin width, in seconds (a power of two).
    width_s: i64,
    /// Bins: index (start second / width) and value, in time order.
    bins: Vec<(i64, f32)>,
}

impl Trace {
    pub(crate) fn new() -> Self {
        Trace {
            width_s: 1,
            bins: Vec::with_capacity(MAX_POINTS + 1),
            ..Trace::default()
        }
    }

    /// Takes the next samples.
    pub(crate) fn push(&mut self, samples: &[Sample]) {
        for s in samples {
            let t0 = *self.t0_s.get_or_insert(s.t_s);
            // Seconds from the start fit an i64 for any recording.
            #[allow(clippy::cast_possible_truncation)]
            let k = ((s.t_s - t0).floor()) as i64;
            let d2 = self.prev.map_or(0.0, |p| {
                let [dx, dy, dz] = [0, 1, 2].map(|i| s.acc_g[i] - p.acc_g[i]);
                dx * dx + dy * dy + dz * dz
            });
            self.prev = Some(*s);
            match &mut self.second {
                Some((sec, sum, n)) if *sec == k => {
                    *sum += d2;
                    *n += 1;
                }
                _ => {
                    self.close_second();
                    self.second = Some((k, d2, 1));
                }
            }
        }
    }

    fn close_second(&mut self) {
        let Some((sec, sum, n)) = self.second.take() else {
            return;
        };
        // Plotted values: f32 is plenty for a picture.
        #[allow(clippy::cast_possible_truncation)]
        let v = (sum / f64::from(n.max(1))).sqrt() as f32;
        let idx = sec.div_euclid(self.width_s);
        match self.bins.last_mut() {
            Some((i, w)) if *i == idx => *w = w.max(v),
            _ => self.bins.push((idx, v)),
        }
        if self.bins.len() > MAX_POINTS {
            self.width_s *= 2;
            let mut merged: Vec<(i64, f32)> = Vec::with_capacity(MAX_POINTS + 1);
            for (i, v) in self.bins.drain(..) {
                let j = i.div_euclid(2);
                match merged.last_mut() {
                    Some((k, w)) if *k == j => *w = w.max(v),
                    _ => merged.push((j, v)),
                }
            }
            self.bins = merged;
        }
    }

    /// The trace as runs of (time in seconds on the input's clock, RMS change in g): a new
    /// run starts after a missing bin (a gap), so no line is drawn across it.
    pub(crate) fn finish(mut self) -> crate::plot::Runs {
        self.close_second();
        let Some(t0) = self.t0_s else {
            return Vec::new();
        };
        let w = self.width_s as f64;
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut last: Option<i64> = None;
        for (i, v) in self.bins {
            if last.is_none_or(|l| i != l + 1) {
                runs.push(Vec::new());
            }
            if let Some(r) = runs.last_mut() {
                r.push((t0 + (i as f64 + 0.5) * w, f64::from(v)));
            }
            last = Some(i);
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_keeps_the_peak() {
        let mut t = Trace::new();
        // 10 h at 10 Hz, still but for one sample at 5 h.
        let n = 360_000;
        let samples: Vec<Sample> = (0..n)
            .map(|i| {
                let z = if i == 180_000 { 1.5 } else { 1.0 };
                Sample::new(i as f64 / 10.0, [0.0, 0.0, z])
            })
            .collect();
        for c in samples.chunks(777) {
            t.push(c);
        }
        let runs = t.finish();
        assert_eq!(runs.len(), 1);
        let pts = &runs[0];
        assert!(pts.len() <= MAX_POINTS && pts.len() > MAX_POINTS / 2);
        // The spike: two changes of 0.5 g among the 10 of its second, RMS sqrt(0.05).
        let peak = pts.iter().map(|p| p.1).fold(0.0, f64::max);
        assert!((peak - 0.05f64.sqrt()).abs() < 1e-6, "{peak}");
    }
}
