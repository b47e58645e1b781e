//! Envelopes and the adaptive noise floor they are measured against.
//!
//! The signal path sums squared values over a block (see [`crate::gravity`]); a block's
//! envelope is the root of their mean, an RMS over the block. The floor is a running quantile
//! of envelope values over tens of seconds, kept in a histogram on a logarithmic grid: adding
//! and evicting a value is O(1), reading a quantile walks a fixed number of bins, the memory is
//! fixed by the config, and the floor follows sensor noise from below 1 mg to tens of mg with
//! the same relative resolution. The floor is frozen while a movement is on, so a movement
//! never raises the threshold it is measured against.

/// Lowest envelope the histogram resolves, in g (quieter values share its first bin).
const FLOOR_MIN_G: f64 = 1e-5;
/// Bins per decade: neighbouring bins differ by 10^(1/20), about 12 %.
const BINS_PER_DECADE: f64 = 20.0;
/// Number of bins, covering 1e-5 g to 10 g.
const N_BINS: usize = 120;

/// The rank of quantile `q` among `len` values: ceil(q·len), at least 1.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
// q in (0, 1) and len ≤ capacity: the product is a small non-negative number.
fn rank(q: f64, len: usize) -> u64 {
    ((q * len as f64).ceil() as u64).max(1)
}

/// A running quantile of the last `capacity` values, on a logarithmic grid.
///
/// The quantile is the geometric centre of the bin holding it, so it is exact to ±6 %; the
/// thresholds built on it are multiples of several, so this costs nothing that matters.
#[derive(Clone, Debug)]
pub(crate) struct NoiseFloor {
    counts: [u32; N_BINS],
    ring: Vec<u8>,
    capacity: usize,
    head: usize,
    len: usize,
    quantile: f64,
    centres: [f64; N_BINS],
    /// Lower edges of bins 1.., so a value's bin is a binary search, not a logarithm.
    edges: [f64; N_BINS - 1],
    /// The bin holding the quantile, and how many values lie in the bins below it: kept up
    /// to date on every push, so reading the quantile is O(1).
    q_bin: usize,
    below: u64,
    /// The rank of the quantile for the current count, ceil(q·len) (see `target`), kept so
    /// that a full window does not recompute it.
    target: u64,
}

/// Lower edge of a bin, in g.
fn edge_of(bin: usize) -> f64 {
    FLOOR_MIN_G * 10f64.powf(bin as f64 / BINS_PER_DECADE)
}

fn centre_of(bin: usize) -> f64 {
    FLOOR_MIN_G * 10f64.powf((bin as f64 + 0.5) / BINS_PER_DECADE)
}

impl NoiseFloor {
    /// A floor over the last `capacity` values (at least 1) at `quantile` in (0, 1).
    pub(crate) fn new(capacity: usize, quantile: f64) -> Self {
        let capacity = capacity.max(1);
        NoiseFloor {
            counts: [0; N_BINS],
            ring: vec![0; capacity],
            capacity,
            head: 0,
            len: 0,
            quantile,
            centres: std::array::from_fn(centre_of),
            edges: std::array::from_fn(|i| edge_of(i + 1)),
            q_bin: 0,
            below: 0,
            target: rank(quantile, 0),
        }
    }

    /// Empties the window.
    #[cfg(test)]
    pub(crate) fn clear(&mut self) {
        self.counts = [0; N_BINS];
        self.head = 0;
        self.len = 0;
        self.q_bin = 0;
        self.below = 0;
        self.target = rank(self.quantile, 0);
    }

    /// Number of values in the window.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bin of a value in g (NaN and values below the grid go to bin 0).
    fn bin_of(&self, v_g: f64) -> usize {
        self.edges.partition_point(|e| *e <= v_g)
    }

    fn count(&self, bin: usize) -> u64 {
        self.counts.get(bin).map_or(0, |c| u64::from(*c))
    }

    /// Adds a value (in g), evicting the oldest once the window is full.
    pub(crate) fn push(&mut self, v_g: f64) {
        let b = self.bin_of(v_g);
        if self.len == self.capacity {
            if let Some(old) = self.ring.get(self.head) {
                let old = usize::from(*old);
                if let Some(c) = self.counts.get_mut(old) {
                    *c = c.saturating_sub(1);
                }
                if old < self.q_bin {
                    self.below -= 1;
                }
            }
        } else {
            self.len += 1;
            self.target = rank(self.quantile, self.len);
        }
        if let Some(slot) = self.ring.get_mut(self.head) {
            #[allow(clippy::cast_possible_truncation)] // b < N_BINS = 120
            let b8 = b as u8;
            *slot = b8;
        }
        if let Some(c) = self.counts.get_mut(b) {
            *c += 1;
        }
        if b < self.q_bin {
            self.below += 1;
        }
        self.head += 1;
        if self.head == self.capacity {
            self.head = 0;
        }
        // Move the quantile bin to the smallest bin whose cumulative count reaches q·len.
        let target = self.target();
        while self.below + self.count(self.q_bin) < target && self.q_bin + 1 < N_BINS {
            self.below += self.count(self.q_bin);
            self.q_bin += 1;
        }
        while self.q_bin > 0 && self.below >= target {
            self.q_bin -= 1;
            self.below -= self.count(self.q_bin);
        }
    }

    /// The rank of the quantile: ceil(q·len), at least 1.
    fn target(&self) -> u64 {
        self.target
    }

    /// The quantile of the window, in g; `None` while the window is empty.
    pub(crate) fn value(&self) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        self.centres.get(self.q_bin).copied()
    }
}

/// The quantisation step of a sensor, as far as the samples show it: the smallest non-zero
/// largest sample-to-sample change seen on each axis of the blocks observed, once it has
/// come back [`Quantum::MIN_HITS`] times. On a coarse, quiet sensor (10 bits over ±8 g:
/// 15.6 mg a step) blocks with a single flip of one step come back again and again, the
/// same to the rounding of the file's decimals. On a sensor whose noise is finer than its
/// steps no two blocks' changes agree so closely at the bottom of their range, and the
/// sensor has no step to speak of (0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Quantum {
    /// Per lane of the signal path (lane 0 not read): the least change, in g, and how many
    /// blocks came within [`Quantum::SAME`] of it since it was found.
    least: [f32; 4],
    hits: [u32; 4],
    /// Running share of the axes that did not change at all in the blocks observed.
    still_share: f32,
}

impl Quantum {
    /// Nothing observed yet.
    pub(crate) const UNSEEN: Quantum = Quantum {
        least: [f32::INFINITY; 4],
        hits: [0; 4],
        still_share: 1.0,
    };

    /// Weight of a block in the running share of still blocks: the share follows over a few
    /// hundred observations (minutes, at one a floor step).
    const SHARE_STEP: f32 = 1.0 / 256.0;

    /// Changes within this factor of the least are the same step (a file of four decimals
    /// writes 15.6 mg steps as 0.0156 or 0.0157).
    const SAME: f32 = 1.02;

    /// Blocks at the least change that make it a step.
    const MIN_HITS: u32 = 8;

    /// Takes a block's largest sample-to-sample change per lane.
    #[allow(clippy::needless_range_loop)] // one index over three lane arrays reads best
    pub(crate) fn observe(&mut self, max_abs_d: &[f32; 4]) {
        let mut still = 0.0f32;
        for i in 1..4 {
            let d = max_abs_d[i];
            if d == 0.0 {
                still += 1.0 / 3.0;
            } else if d * Self::SAME < self.least[i] {
                self.least[i] = d;
                self.hits[i] = 1;
            } else if d <= self.least[i] * Self::SAME {
                self.least[i] = self.least[i].min(d);
                self.hits[i] = self.hits[i].saturating_add(1);
            }
        }
        self.still_share += (still - self.still_share) * Self::SHARE_STEP;
    }

    /// How quiet the sensor is for its steps, from 0 to 1: 0 where the noise flips the
    /// readings of an axis in half the blocks or more (the averages then resolve less than
    /// a step, and a flip is no event), 1 where the axes hold still in 70 % of the blocks or
    /// more, in between in proportion. (Measured on simulated 10-bit nights: 2 mg of noise
    /// leaves 68-80 % of the axes still, 4-7 mg 29-51 %.)
    pub(crate) fn quietness(&self) -> f64 {
        f64::from(((self.still_share - 0.5) / 0.2).clamp(0.0, 1.0))
    }

    /// The least step over the axes that show one, in g; 0 when none does.
    pub(crate) fn step_g(&self) -> f64 {
        let mut step = f32::INFINITY;
        for i in 1..4 {
            if self.hits[i] >= Self::MIN_HITS && self.least[i] < step {
                step = self.least[i];
            }
        }
        if step.is_finite() {
            f64::from(step)
        } else {
            0.0
        }
    }
}

/// Onset and offset thresholds of one channel, in g.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Thresholds {
    /// A movement starts when the envelope reaches this.
    pub(crate) on_g: f64,
    /// A movement goes on while the envelope stays at or above this.
    pub(crate) off_g: f64,
}

impl Thresholds {
    /// Thresholds over a floor: each a multiple of it, but at least a margin above it.
    pub(crate) fn over(
        floor_g: f64,
        on_factor: f64,
        off_factor: f64,
        on_margin_g: f64,
        off_margin_g: f64,
    ) -> Self {
        Thresholds {
            on_g: (floor_g * on_factor).max(floor_g + on_margin_g),
            off_g: (floor_g * off_factor).max(floor_g + off_margin_g),
        }
    }

    /// Thresholds over a floor with the segmenter's factors and margins, the margins at
    /// least `(on, off)` quantisation steps of `step_g` each.
    pub(crate) fn for_segment(
        floor_g: f64,
        sc: &crate::config::SegmentConfig,
        step_g: f64,
        steps: (f64, f64),
    ) -> Self {
        Self::with_margins(floor_g, (sc.on_factor, sc.off_factor), sc, step_g, steps)
    }

    /// Thresholds over a floor with factors `(on, off)` and the segmenter's margins, the
    /// margins at least `(on, off)` quantisation steps of `step_g` each.
    pub(crate) fn with_margins(
        floor_g: f64,
        (on_factor, off_factor): (f64, f64),
        sc: &crate::config::SegmentConfig,
        step_g: f64,
        (on_steps, off_steps): (f64, f64),
    ) -> Self {
        Self::over(
            floor_g,
            on_factor,
            off_factor,
            sc.min_on_margin_g.max(on_steps * step_g),
            sc.min_off_margin_g.max(off_steps * step_g),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantum_is_a_least_change_that_comes_back() {
        // Steps of 15.6 mg written with four decimals: 0.0156 or 0.0157.
        let mut q = Quantum::UNSEEN;
        assert_eq!(q.step_g(), 0.0);
        for k in 0..20 {
            let d = if k % 3 == 0 { 0.0157 } else { 0.0156 };
            q.observe(&[0.0, 0.0, d, 2.0 * d]);
            assert_eq!(q.step_g() > 0.0, k + 1 >= 8, "after {} blocks", k + 1);
        }
        assert!((q.step_g() - 0.0156).abs() < 1e-6, "{}", q.step_g());
        // A sensor finer than its noise: the least change keeps falling and never comes
        // back to within 2 %.
        let mut q = Quantum::UNSEEN;
        let mut d = 0.02f32;
        for _ in 0..1000 {
            q.observe(&[0.0, d, d * 1.5, d * 2.0]);
            q.observe(&[0.0, d * 1.1, d * 1.7, d * 3.0]);
            d *= 0.97;
        }
        assert_eq!(q.step_g(), 0.0);
        // Every axis changes in every block: not quiet at all. A coarse sensor whose axes
        // mostly hold still is quiet, one with an axis in two flipping half-way between.
        assert_eq!(q.quietness(), 0.0);
        let mut quiet = Quantum::UNSEEN;
        assert_eq!(quiet.quietness(), 1.0);
        for k in 0..2000 {
            let flip = if k % 4 == 0 { 0.0156 } else { 0.0 };
            quiet.observe(&[0.0, 0.0, flip, 0.0]);
        }
        assert_eq!(quiet.quietness(), 1.0);
        assert!((quiet.step_g() - 0.0156).abs() < 1e-6);
        let mut half = Quantum::UNSEEN;
        for k in 0..2000 {
            let d = if k % 5 < 2 { 0.0156 } else { 0.0 };
            half.observe(&[0.0, 0.0156, d, 0.0]);
        }
        // a third of the axes still always, a third three blocks in five: 53 % still
        assert!(
            (half.quietness() - 0.17).abs() < 0.05,
            "{}",
            half.quietness()
        );
    }

    /// The exact quantile of a slice, the oracle: the ceil(q·n)-th smallest value.
    fn exact_quantile(v: &[f64], q: f64) -> f64 {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let k = ((q * s.len() as f64).ceil() as usize).max(1);
        s[k - 1]
    }

    #[test]
    fn constant_input_gives_that_constant_within_a_bin() {
        let mut f = NoiseFloor::new(100, 0.5);
        assert_eq!(f.value(), None);
        for _ in 0..50 {
            f.push(0.003);
        }
        let v = f.value().unwrap();
        // one bin is a factor 10^(1/20) = 1.122 wide; its centre is within 6 % of any member
        assert!((v / 0.003 - 1.0).abs() < 0.061, "{v}");
    }

    #[test]
    fn running_quantile_matches_a_naive_window_on_seeded_noise() {
        let mut f = NoiseFloor::new(120, 0.5);
        let mut window: Vec<f64> = Vec::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..2000 {
            // xorshift: log-uniform values between 0.1 mg and 100 mg
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            let v = 1e-4 * 10f64.powf(3.0 * u);
            f.push(v);
            window.push(v);
            if window.len() > 120 {
                window.remove(0);
            }
            let want = exact_quantile(&window, 0.5);
            let got = f.value().unwrap();
            assert!((got / want - 1.0).abs() < 0.13, "step {i}: {got} vs {want}");
        }
        assert_eq!(f.len(), 120);
    }

    #[test]
    fn the_tracked_quantile_bin_equals_a_full_scan() {
        // Oracle: scan the histogram from the bottom for the ceil(q·len)-th value.
        for q in [0.1, 0.5, 0.9] {
            let mut f = NoiseFloor::new(50, q);
            let mut x: u64 = 7;
            for _ in 0..3000 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                f.push(1e-4 * 10f64.powf(4.0 * u * u));
                // the rank from its definition, not from the cached value
                let target = ((q * f.len() as f64).ceil() as u64).max(1);
                assert_eq!(f.target(), target);
                let mut cum = 0;
                let scan = f.counts.iter().position(|c| {
                    cum += u64::from(*c);
                    cum >= target
                });
                assert_eq!(Some(f.q_bin), scan);
            }
        }
    }

    #[test]
    fn a_movement_in_a_quiet_window_does_not_move_the_median() {
        let mut f = NoiseFloor::new(120, 0.5);
        for i in 0..120 {
            f.push(if (40..60).contains(&i) { 0.2 } else { 0.002 });
        }
        assert!((f.value().unwrap() / 0.002 - 1.0).abs() < 0.061);
    }

    #[test]
    fn extreme_and_odd_values_land_in_the_edge_bins() {
        let mut f = NoiseFloor::new(4, 0.5);
        f.push(0.0);
        f.push(f64::NAN);
        f.push(1e9);
        f.push(-1.0);
        let v = f.value().unwrap();
        assert!(v < 2.0 * FLOOR_MIN_G);
        f.clear();
        assert_eq!(f.value(), None);
    }

    #[test]
    fn thresholds_take_the_larger_of_factor_and_margin() {
        let t = Thresholds::over(0.010, 3.5, 2.0, 0.004, 0.002);
        assert!((t.on_g - 0.035).abs() < 1e-12 && (t.off_g - 0.020).abs() < 1e-12);
        let t = Thresholds::over(0.0005, 3.5, 2.0, 0.004, 0.002);
        assert!((t.on_g - 0.0045).abs() < 1e-12 && (t.off_g - 0.0025).abs() < 1e-12);
    }
}
