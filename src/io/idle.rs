//! ActiGraph's idle-sleep fill: one sample repeated for seconds, left out as a gap.
//!
//! With idle-sleep mode on (an ActiGraph's default), a device that has lain still for 10 s
//! stops measuring and looks for motion once a second; ActiLife's raw-data export fills the
//! time with the last sample measured, repeated at the nominal rate (domain.md §6: "exact
//! repeat runs are a device artefact, not stillness"). Those rows are no readings. A real
//! sensor's noise moves the last bit of some axis within a few samples, and the same three
//! values seconds on end are the device asleep. Read as samples, the flat line is stillness
//! without noise: the detector's noise floor sinks towards zero, and when the device wakes
//! its ordinary noise reads as a movement that lasts until the floor has caught up (on a
//! simulated night whose gap was filled this way, a minute of false activity over four
//! periodic leg movements).
//!
//! [`IdleFill`] wraps a source and leaves out the repeats of a run of bit-identical samples
//! when the run's first sample and the next new one are further apart than the gap rule's
//! interval (max(1 s, 5 × the median interval)): the first sample, the last one measured,
//! stays, and the time to the next new sample is a gap, as the `.gt3x` reader reports the
//! same stretch of the device file. Shorter runs pass unchanged. [`open`](super::open)
//! wraps ActiLife exports in it; [`OpenOptions::idle_fill`](super::OpenOptions::idle_fill)
//! asks for it on any CSV file (another converter that fills a device's gaps with its last
//! value) or turns it off.

use super::check::gap_threshold_s;
use super::{RecordingInfo, Source, Warning};
use crate::{Error, Gap, Sample};

/// Samples read from the wrapped source at a time.
const READ_LEN: usize = 4096;

/// Whether a CSV source with this info is read without its idle-sleep fill unless told
/// otherwise: it is an ActiLife export, the only CSV files that name their device (in the
/// preamble).
pub fn idle_fill_by_default(info: &RecordingInfo) -> bool {
    info.device.is_some()
}

/// A [`Source`] without the idle-sleep fill of the one it wraps (see the module docs).
///
/// Memory is fixed but for the list of gaps: it holds one read of the wrapped source and the
/// times of a run's repeats until the run is known to be fill (at most the gap rule's
/// interval of samples).
pub struct IdleFill<S> {
    inner: S,
    /// Samples read from `inner`: `buf[next..len]` are still to be looked at. Each read asks
    /// for at most `read_len` samples, the size of the caller's last request, so that a live
    /// stream waits no longer for a chunk than it would without the wrapper.
    buf: Vec<Sample>,
    read_len: usize,
    next: usize,
    len: usize,
    /// `inner` has ended, or failed with `failed`.
    input_done: bool,
    failed: Option<Error>,
    /// The last sample kept: handed out, or about to be with the repeats in `held`.
    last: Option<Sample>,
    /// Times of the repeats of `last` seen while their run is not known to be fill; they go
    /// out when a new sample comes within `min_s` of `last`, or at the end (`held[..flushed]`
    /// have).
    held: Vec<f64>,
    flushed: usize,
    flushing: bool,
    /// The current run is fill: its repeats are left out.
    dropping: bool,
    /// The gap rule's interval, in seconds: a run is fill when its first sample and the next
    /// new one are further apart.
    min_s: f64,
    /// The fill's gaps, in time order, and what was left out.
    gaps: Vec<Gap>,
    n_runs: u64,
    n_dropped: u64,
    /// Samples handed out, and the time of the last.
    n_out: u64,
    end_s: Option<f64>,
    info: RecordingInfo,
    /// `inner`'s info or the fill's gaps changed since `info` was built.
    stale: bool,
}

impl<S: Source> IdleFill<S> {
    /// Wraps `inner`, whose rate (median interval) is known: it sets how long a run of
    /// repeats must be to be fill.
    pub fn new(inner: S) -> Self {
        // The gap rule gives 1 s for a median not known (0, or below); an infinite one too.
        let median_s = Some(inner.info().rate.median_interval_s).filter(|m| m.is_finite());
        let info = inner.info().clone();
        IdleFill {
            inner,
            buf: vec![Sample::default(); READ_LEN],
            read_len: READ_LEN,
            next: 0,
            len: 0,
            input_done: false,
            failed: None,
            last: None,
            held: Vec::new(),
            flushed: 0,
            flushing: false,
            dropping: false,
            min_s: gap_threshold_s(median_s.unwrap_or(0.0)),
            gaps: Vec::new(),
            n_runs: 0,
            n_dropped: 0,
            n_out: 0,
            end_s: None,
            info,
            stale: false,
        }
    }

    /// Runs of repeats left out so far, and the samples in them.
    pub fn dropped(&self) -> (u64, u64) {
        (self.n_runs, self.n_dropped)
    }

    /// The next sample of `inner` not yet looked at; `None` at its end (or its failure,
    /// kept for after the samples before it).
    fn peek(&mut self) -> Option<Sample> {
        if self.next == self.len && !self.input_done {
            let want = self.read_len.clamp(1, self.buf.len());
            match self.inner.read_samples(&mut self.buf[..want]) {
                Ok(0) => self.input_done = true,
                Ok(n) => (self.next, self.len) = (0, n),
                Err(e) => {
                    self.input_done = true;
                    self.failed = Some(e);
                }
            }
            self.stale = true;
        }
        self.buf.get(self.next..self.len)?.first().copied()
    }

    /// Takes the next sample: a repeat of the last kept one is held back or, in fill, left
    /// out; a new one ends the run. Returns the sample to hand out, if any; sets `flushing`
    /// (without taking the sample) when held repeats must go out first. A run is fill when
    /// the time from its first sample to the next new one is a gap by the gap rule: known as
    /// soon as a repeat comes that late, else when the new sample comes.
    fn take(&mut self, s: Sample) -> Option<Sample> {
        let Some(last) = self.last else {
            self.next += 1;
            self.last = Some(s);
            return Some(s);
        };
        let late = s.t_s - last.t_s > self.min_s;
        if last.acc_g.map(f64::to_bits) == s.acc_g.map(f64::to_bits) {
            self.next += 1;
            if !self.dropping && late {
                self.drop_held();
            }
            if self.dropping {
                self.n_dropped += 1;
            } else {
                self.held.push(s.t_s);
            }
            return None;
        }
        if !self.dropping && !self.held.is_empty() {
            if !late {
                self.flushing = true;
                return None;
            }
            self.drop_held();
        }
        self.next += 1;
        if self.dropping {
            self.dropping = false;
            self.gaps.push(Gap {
                start_s: last.t_s,
                duration_s: s.t_s - last.t_s,
            });
            self.stale = true;
        }
        self.last = Some(s);
        Some(s)
    }

    /// The current run is fill: its held repeats are left out, and so are the rest.
    fn drop_held(&mut self) {
        self.dropping = true;
        self.n_runs += 1;
        self.n_dropped += self.held.len() as u64;
        self.held.clear();
    }

    /// Rebuilds `info` from `inner`'s, with the fill's gaps and what was handed out.
    fn refresh(&mut self) {
        if self.stale {
            self.stale = false;
            self.info.clone_from(self.inner.info());
            if !self.gaps.is_empty() {
                self.info.gaps.extend_from_slice(&self.gaps);
                self.info
                    .gaps
                    .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
            }
            if self.n_runs > 0 {
                self.info.warnings.push(Warning::new(format!(
                    "{} run(s) of one sample repeated for more than {:.1} s ({} samples) \
                     left out as the device's idle-sleep fill: a gap where a new sample \
                     follows",
                    self.n_runs, self.min_s, self.n_dropped
                )));
            }
        }
        self.info.n_samples = self.n_out;
        self.info.end_s = self.end_s;
    }
}

impl<S: Source> Source for IdleFill<S> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        self.read_len = out.len();
        let mut n = 0;
        while n < out.len() {
            if self.flushing {
                let Some(last) = self.last else { break };
                for (slot, &t_s) in out[n..].iter_mut().zip(&self.held[self.flushed..]) {
                    *slot = Sample { t_s, ..last };
                    n += 1;
                    self.flushed += 1;
                }
                if self.flushed < self.held.len() {
                    break;
                }
                self.held.clear();
                self.flushed = 0;
                self.flushing = false;
                continue;
            }
            if n > 0 && self.next == self.len {
                // What one read of the wrapped source gave: a live stream waits no longer.
                break;
            }
            let Some(s) = self.peek() else {
                // The end: repeats too few to be fill are samples.
                if !self.dropping && !self.held.is_empty() {
                    self.flushing = true;
                    continue;
                }
                break;
            };
            if let Some(s) = self.take(s) {
                out[n] = s;
                n += 1;
            }
        }
        if n > 0 {
            self.n_out += n as u64;
            self.end_s = Some(out[n - 1].t_s);
        }
        self.refresh();
        if n == 0 {
            if let Some(e) = self.failed.take() {
                return Err(e);
            }
        }
        Ok(n)
    }

    fn info(&self) -> &RecordingInfo {
        &self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemorySource;

    /// 30 Hz samples with a little noise; `flat` ranges of seconds hold the value before them.
    fn recording(secs: f64, flat: &[(f64, f64)]) -> Vec<Sample> {
        let mut x: u64 = 7;
        let mut out = Vec::new();
        let mut prev = [0.0, 0.0, 1.0];
        let n = (secs * 30.0) as usize;
        for i in 0..n {
            let t = i as f64 / 30.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let noise = ((x >> 40) % 5) as f64 / 256.0;
            let in_flat = flat.iter().any(|&(a, b)| t >= a && t < b);
            let acc = if in_flat {
                prev
            } else {
                [noise, 0.01, 1.0 - noise]
            };
            prev = acc;
            out.push(Sample::new(t, acc));
        }
        out
    }

    fn read_all(src: &mut impl Source, chunk: usize) -> Vec<Sample> {
        let mut out = vec![Sample::default(); chunk];
        let mut got = Vec::new();
        loop {
            let n = src.read_samples(&mut out).unwrap();
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&out[..n]);
        }
    }

    #[test]
    fn a_long_run_of_repeats_is_a_gap_and_a_short_one_stays() {
        // 5 s of fill from 10 s, 0.5 s of repeats from 20 s.
        let samples = recording(30.0, &[(10.0, 15.0), (20.0, 20.5)]);
        for chunk in [1, 7, 4096] {
            let mut src = IdleFill::new(MemorySource::new(&samples));
            let got = read_all(&mut src, chunk);
            let fill_start = samples.iter().position(|s| s.t_s >= 10.0).unwrap();
            let fill_end = samples.iter().position(|s| s.t_s >= 15.0).unwrap();
            // Everything but the fill's repeats, in order and unchanged.
            let want: Vec<Sample> = samples
                .iter()
                .enumerate()
                .filter(|&(i, _)| !(fill_start..fill_end).contains(&i))
                .map(|(_, s)| *s)
                .collect();
            assert_eq!(got, want, "chunk {chunk}");
            let info = src.info();
            assert_eq!(info.gaps.len(), 1, "chunk {chunk}");
            let gap = info.gaps[0];
            assert_eq!(gap.start_s, samples[fill_start - 1].t_s);
            assert_eq!(gap.end_s(), samples[fill_end].t_s);
            assert_eq!(info.n_samples, want.len() as u64);
            assert_eq!(src.dropped(), (1, (fill_end - fill_start) as u64));
            assert!(info
                .warnings
                .iter()
                .any(|w| w.message.contains("idle-sleep")));
        }
    }

    #[test]
    fn fill_at_the_end_is_left_out_and_repeats_too_short_at_the_end_stay() {
        let samples = recording(12.0, &[(8.0, 12.0)]);
        let mut src = IdleFill::new(MemorySource::new(&samples));
        let got = read_all(&mut src, 64);
        let kept = samples.iter().position(|s| s.t_s >= 8.0).unwrap();
        assert_eq!(got, samples[..kept]);
        // No gap after the last sample, but the fill is said.
        assert!(src.info().gaps.is_empty());
        assert_eq!(src.dropped(), (1, (samples.len() - kept) as u64));
        assert!(src
            .info()
            .warnings
            .iter()
            .any(|w| w.message.contains("idle-sleep")));
        let samples = recording(12.0, &[(11.5, 12.0)]);
        let got = read_all(&mut IdleFill::new(MemorySource::new(&samples)), 64);
        assert_eq!(got, samples);
    }

    #[test]
    fn a_source_without_repeats_passes_unchanged() {
        let samples = recording(20.0, &[]);
        let mut src = IdleFill::new(MemorySource::new(&samples));
        assert_eq!(read_all(&mut src, 100), samples);
        assert!(src.info().gaps.is_empty());
        assert!(src.info().warnings.is_empty());
        assert_eq!(src.info().end_s, samples.last().map(|s| s.t_s));
    }

    /// Hands out its samples in one read, then fails.
    struct ThenFails {
        samples: Vec<Sample>,
        info: RecordingInfo,
    }

    impl Source for ThenFails {
        fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
            if self.samples.is_empty() {
                return Err(Error::new(crate::ErrorKind::Other("cut".into())));
            }
            let n = self.samples.len();
            out[..n].copy_from_slice(&self.samples);
            self.samples.clear();
            Ok(n)
        }

        fn info(&self) -> &RecordingInfo {
            &self.info
        }
    }

    #[test]
    fn samples_before_a_failure_come_out_before_the_error() {
        // The source fails 0.5 s into a run of repeats: the repeats come out, then the error;
        // 3 s into one, the run is fill and the error follows the samples before it.
        for (end_s, fill) in [(2.5, false), (5.0, true)] {
            let samples: Vec<Sample> = recording(6.0, &[(2.0, 6.0)])
                .into_iter()
                .filter(|s| s.t_s < end_s)
                .collect();
            let mut src = IdleFill::new(ThenFails {
                samples: samples.clone(),
                info: RecordingInfo::default(),
            });
            let mut out = vec![Sample::default(); 4096];
            let mut got = Vec::new();
            let failed = loop {
                match src.read_samples(&mut out) {
                    Ok(0) => break false,
                    Ok(n) => got.extend_from_slice(&out[..n]),
                    Err(_) => break true,
                }
            };
            assert!(failed);
            let kept = samples.iter().position(|s| s.t_s >= 2.0).unwrap();
            let want = if fill { &samples[..kept] } else { &samples[..] };
            assert_eq!(got, want);
        }
    }
}
