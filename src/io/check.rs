//! The checks every reader applies to every sample, and the running statistics they keep.

use crate::{ErrorKind, Gap, Sample};

use super::{RateInfo, RecordingInfo};

/// Largest acceleration magnitude on any axis that a reader accepts, in g.
///
/// Consumer and research accelerometers range to ±16 g (a few to ±200 g for impacts, never
/// worn in bed); ±64 g leaves room for any of them and still catches a unit mix-up of
/// m/s² read as g at strong accelerations, or corrupt values.
pub const MAX_ABS_G: f64 = 64.0;

/// Lowest sample rate accepted, in Hz: below it, movements of 0.1–0.5 s cannot be seen.
pub const MIN_RATE_HZ: f64 = 10.0;

/// How many of the first intervals the median interval is taken over.
const MEDIAN_WINDOW: usize = 4096;

/// Median of the positive intervals among the first [`MEDIAN_WINDOW`] + 1 timestamps, in
/// seconds; `None` when there is no positive interval.
pub(crate) fn median_interval_s(times_s: &[f64]) -> Option<f64> {
    let head = &times_s[..times_s.len().min(MEDIAN_WINDOW + 1)];
    let mut dts: Vec<f64> = head
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| d.is_finite() && *d > 0.0)
        .collect();
    if dts.is_empty() {
        return None;
    }
    let mid = dts.len() / 2;
    let (_, m, _) = dts.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// Validates samples one by one and keeps the recording's running statistics.
///
/// Checks, in order: every axis finite and within ±[`MAX_ABS_G`]; time finite and strictly
/// increasing. An interval longer than max(1 s, 5 × median interval) is a gap: reported,
/// kept out of the rate statistics, never bridged.
#[derive(Clone, Debug)]
pub(crate) struct SampleCheck {
    median_interval_s: f64,
    gap_min_s: f64,
    nominal_hz: Option<f64>,
    n: u64,
    first_t_s: f64,
    last_t_s: f64,
    /// Non-gap intervals: count, and sums of (dt - median) and its square (shifted for
    /// precision), and the longest.
    n_dt: u64,
    sum_d: f64,
    sum_d2: f64,
    max_dt: f64,
    sum_norm: f64,
    gaps: Vec<Gap>,
}

const AXES: [&str; 3] = ["x", "y", "z"];

impl SampleCheck {
    /// A checker for a recording whose median sample interval is `median_interval_s`.
    ///
    /// # Errors
    /// [`ErrorKind::RateTooLow`] when that interval means a rate below [`MIN_RATE_HZ`].
    pub(crate) fn new(median_interval_s: f64, nominal_hz: Option<f64>) -> Result<Self, ErrorKind> {
        let rate_hz = 1.0 / median_interval_s;
        if !(median_interval_s > 0.0 && rate_hz >= MIN_RATE_HZ) {
            return Err(ErrorKind::RateTooLow {
                rate_hz,
                min_hz: MIN_RATE_HZ,
            });
        }
        Ok(SampleCheck::new_unchecked(median_interval_s, nominal_hz))
    }

    fn new_unchecked(median_interval_s: f64, nominal_hz: Option<f64>) -> Self {
        SampleCheck {
            median_interval_s,
            gap_min_s: gap_threshold_s(median_interval_s),
            nominal_hz,
            n: 0,
            first_t_s: f64::NAN,
            last_t_s: f64::NEG_INFINITY,
            n_dt: 0,
            sum_d: 0.0,
            sum_d2: 0.0,
            max_dt: 0.0,
            sum_norm: 0.0,
            gaps: Vec::new(),
        }
    }

    /// Checks the next sample; returns the gap before it, if there is one.
    ///
    /// # Errors
    /// [`ErrorKind::NotFinite`], [`ErrorKind::OutOfRange`] or
    /// [`ErrorKind::TimeNotIncreasing`]; the caller adds the position.
    #[inline]
    pub(crate) fn check(&mut self, s: &Sample) -> Result<Option<Gap>, ErrorKind> {
        let [x, y, z] = s.acc_g;
        if !(x.abs() <= MAX_ABS_G && y.abs() <= MAX_ABS_G && z.abs() <= MAX_ABS_G) {
            return Err(bad_value(s));
        }
        let t = s.t_s;
        if !t.is_finite() || t <= self.last_t_s {
            return Err(bad_time(t, self.last_t_s));
        }
        self.sum_norm += (x * x + y * y + z * z).sqrt();
        let mut gap = None;
        if self.n == 0 {
            self.first_t_s = t;
        } else {
            let dt = t - self.last_t_s;
            if dt > self.gap_min_s {
                let g = Gap {
                    start_s: self.last_t_s,
                    duration_s: dt,
                };
                self.gaps.push(g);
                gap = Some(g);
            } else {
                let d = dt - self.median_interval_s;
                self.n_dt += 1;
                self.sum_d += d;
                self.sum_d2 += d * d;
                if dt > self.max_dt {
                    self.max_dt = dt;
                }
            }
        }
        self.last_t_s = t;
        self.n += 1;
        Ok(gap)
    }

    /// Checks samples in order exactly as [`check`](Self::check) on each would (the same
    /// sums in the same order, so the same statistics to the last bit), faster: the
    /// per-sample call stores its running sums to memory every time, which held a device
    /// decoder to a few hundred MB/s. Groups of 64 samples are first validated and their
    /// vector lengths taken in a loop without carried state (which the compiler can
    /// vectorise), then summed in order.
    ///
    /// # Errors
    /// The index in `samples` of the first bad sample and its error; the samples before it
    /// are counted, it and those after are not.
    pub(crate) fn check_slice(&mut self, samples: &[Sample]) -> Result<(), (usize, ErrorKind)> {
        const GROUP: usize = 64;
        let mut norms = [0.0f64; GROUP];
        let median = self.median_interval_s;
        let gap_min = self.gap_min_s;
        let mut done = 0;
        for group in samples.chunks(GROUP) {
            let mut ok = group.first().is_some_and(|s| s.t_s > self.last_t_s);
            for (s, norm) in group.iter().zip(norms.iter_mut()) {
                let [x, y, z] = s.acc_g;
                ok &= (x.abs() <= MAX_ABS_G)
                    & (y.abs() <= MAX_ABS_G)
                    & (z.abs() <= MAX_ABS_G)
                    & (s.t_s.abs() < f64::INFINITY);
                *norm = (x * x + y * y + z * z).sqrt();
            }
            for w in group.windows(2) {
                ok &= w[1].t_s > w[0].t_s;
            }
            if !ok {
                return self
                    .check_slice_scalar(group)
                    .map_err(|(i, kind)| (done + i, kind));
            }
            let mut last = self.last_t_s;
            let mut n = self.n;
            let mut sum_norm = self.sum_norm;
            let mut n_dt = self.n_dt;
            let mut sum_d = self.sum_d;
            let mut sum_d2 = self.sum_d2;
            let mut max_dt = self.max_dt;
            for (s, norm) in group.iter().zip(&norms) {
                let t = s.t_s;
                sum_norm += norm;
                if n == 0 {
                    self.first_t_s = t;
                } else {
                    let dt = t - last;
                    if dt > gap_min {
                        self.gaps.push(Gap {
                            start_s: last,
                            duration_s: dt,
                        });
                    } else {
                        let d = dt - median;
                        n_dt += 1;
                        sum_d += d;
                        sum_d2 += d * d;
                        if dt > max_dt {
                            max_dt = dt;
                        }
                    }
                }
                last = t;
                n += 1;
            }
            self.last_t_s = last;
            self.n = n;
            self.sum_norm = sum_norm;
            self.n_dt = n_dt;
            self.sum_d = sum_d;
            self.sum_d2 = sum_d2;
            self.max_dt = max_dt;
            done += group.len();
        }
        Ok(())
    }

    /// [`check_slice`](Self::check_slice) one sample at a time through [`check`](Self::check):
    /// used on a group that holds a bad sample, to count the good ones before it and name it.
    fn check_slice_scalar(&mut self, samples: &[Sample]) -> Result<(), (usize, ErrorKind)> {
        for (i, s) in samples.iter().enumerate() {
            self.check(s).map_err(|kind| (i, kind))?;
        }
        Ok(())
    }

    /// A checker with this one's rules and no samples yet, for checking a later stretch of
    /// the recording on another thread; [`append`](Self::append) joins it back.
    pub(crate) fn fork(&self) -> Self {
        let mut c = SampleCheck::new_unchecked(self.median_interval_s, self.nominal_hz);
        c.gap_min_s = self.gap_min_s;
        c
    }

    /// Joins the statistics of `later`, a [`fork`](Self::fork) that checked the samples
    /// right after this one's, checking the interval between the two stretches.
    ///
    /// The sums are added, not re-accumulated sample by sample, so the mean magnitude and
    /// jitter can differ from a sequential check in the last bits.
    ///
    /// # Errors
    /// When `later`'s first sample does not come after this one's last; nothing is joined.
    pub(crate) fn append(&mut self, later: SampleCheck) -> Result<(), ErrorKind> {
        if later.n == 0 {
            return Ok(());
        }
        if self.n > 0 {
            let t = later.first_t_s;
            if t <= self.last_t_s {
                return Err(bad_time(t, self.last_t_s));
            }
            let dt = t - self.last_t_s;
            if dt > self.gap_min_s {
                self.gaps.push(Gap {
                    start_s: self.last_t_s,
                    duration_s: dt,
                });
            } else {
                let d = dt - self.median_interval_s;
                self.n_dt += 1;
                self.sum_d += d;
                self.sum_d2 += d * d;
                if dt > self.max_dt {
                    self.max_dt = dt;
                }
            }
        } else {
            self.first_t_s = later.first_t_s;
        }
        self.n += later.n;
        self.last_t_s = later.last_t_s;
        self.n_dt += later.n_dt;
        self.sum_d += later.sum_d;
        self.sum_d2 += later.sum_d2;
        if later.max_dt > self.max_dt {
            self.max_dt = later.max_dt;
        }
        self.sum_norm += later.sum_norm;
        self.gaps.extend(later.gaps);
        Ok(())
    }

    /// Copies what is known so far into `info` (gaps are appended, not re-copied).
    pub(crate) fn fill(&self, info: &mut RecordingInfo) {
        info.n_samples = self.n;
        if self.n > 0 {
            info.start_s = Some(self.first_t_s);
            info.end_s = Some(self.last_t_s);
            info.mean_norm_g = self.sum_norm / self.n as f64;
        }
        let (mean_dt, jitter) = if self.n_dt > 0 {
            let n = self.n_dt as f64;
            let mean_d = self.sum_d / n;
            let var = (self.sum_d2 / n - mean_d * mean_d).max(0.0);
            (self.median_interval_s + mean_d, var.sqrt())
        } else {
            (self.median_interval_s, 0.0)
        };
        info.rate = RateInfo {
            rate_hz: 1.0 / mean_dt,
            median_interval_s: self.median_interval_s,
            jitter_s: jitter,
            max_interval_s: self.max_dt,
            nominal_hz: self.nominal_hz,
        };
        if info.gaps.len() < self.gaps.len() {
            info.gaps.extend_from_slice(&self.gaps[info.gaps.len()..]);
        }
    }
}

/// The gap rule: an interval longer than max(1 s, 5 × the median interval), in seconds.
pub(crate) fn gap_threshold_s(median_interval_s: f64) -> f64 {
    (5.0 * median_interval_s).max(1.0)
}

#[cold]
#[inline(never)]
fn bad_value(s: &Sample) -> ErrorKind {
    for (v, name) in s.acc_g.iter().zip(AXES) {
        if !v.is_finite() {
            return ErrorKind::NotFinite {
                column: name.to_string(),
                found: v.to_string(),
            };
        }
        if v.abs() > MAX_ABS_G {
            return ErrorKind::OutOfRange {
                column: name.to_string(),
                value: *v,
                limit: MAX_ABS_G,
                unit: "g",
            };
        }
    }
    ErrorKind::Other("sample check failed on a valid sample".into())
}

#[cold]
#[inline(never)]
fn bad_time(t_s: f64, prev_t_s: f64) -> ErrorKind {
    if !t_s.is_finite() {
        return ErrorKind::NotFinite {
            column: "t".into(),
            found: t_s.to_string(),
        };
    }
    ErrorKind::TimeNotIncreasing {
        verb: if t_s.total_cmp(&prev_t_s).is_eq() {
            "repeats"
        } else {
            "goes backwards"
        },
        t_s,
        prev_t_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: f64) -> Sample {
        Sample::new(t, [0.0, 0.0, 1.0])
    }

    #[test]
    fn median_ignores_a_few_outliers() {
        let t = [0.0, 0.01, 0.02, 0.03, 5.0, 5.01, 5.02];
        assert!((median_interval_s(&t).unwrap() - 0.01).abs() < 1e-12);
        assert_eq!(median_interval_s(&[1.0]), None);
        assert_eq!(median_interval_s(&[1.0, 1.0]), None);
    }

    #[test]
    fn gap_rule_is_max_of_one_second_and_five_intervals() {
        assert_eq!(gap_threshold_s(0.01), 1.0);
        assert_eq!(gap_threshold_s(0.08), 1.0);
        assert!((gap_threshold_s(0.3) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn a_gap_is_reported_and_kept_out_of_the_rate() {
        let mut c = SampleCheck::new(0.01, None).unwrap();
        for i in 0..100 {
            assert_eq!(c.check(&s(i as f64 * 0.01)).unwrap(), None);
        }
        // 0.99 + 1.0 s is just not a gap; 1.001 s after is one.
        assert_eq!(c.check(&s(1.99)).unwrap(), None);
        let g = c.check(&s(2.991)).unwrap().unwrap();
        assert!((g.start_s - 1.99).abs() < 1e-12);
        assert!((g.duration_s - 1.001).abs() < 1e-9);
        let mut info = RecordingInfo::default();
        c.fill(&mut info);
        assert_eq!(info.gaps.len(), 1);
        assert_eq!(info.n_samples, 102);
        assert!((info.rate.max_interval_s - 1.0).abs() < 1e-9);
        c.fill(&mut info);
        assert_eq!(info.gaps.len(), 1, "fill must not duplicate gaps");
    }

    #[test]
    fn jitter_is_the_interval_standard_deviation() {
        let mut c = SampleCheck::new(0.01, None).unwrap();
        let mut t = 0.0;
        for i in 0..1001 {
            c.check(&s(t)).unwrap();
            t += if i % 2 == 0 { 0.009 } else { 0.011 };
        }
        let mut info = RecordingInfo::default();
        c.fill(&mut info);
        assert!((info.rate.jitter_s - 0.001).abs() < 1e-9);
        assert!((info.rate.rate_hz - 100.0).abs() < 1e-6);
    }

    #[test]
    fn check_slice_equals_check_per_sample() {
        let mut t = 0.0;
        let samples: Vec<Sample> = (0..3000)
            .map(|i| {
                t += if i == 1500 {
                    2.5
                } else {
                    0.01 + 0.001 * ((i % 7) as f64 - 3.0)
                };
                Sample::new(t, [0.1 * (i % 5) as f64, -0.3, 1.0])
            })
            .collect();
        let mut one = SampleCheck::new(0.01, None).unwrap();
        for s in &samples {
            one.check(s).unwrap();
        }
        let mut many = SampleCheck::new(0.01, None).unwrap();
        for part in samples.chunks(333) {
            many.check_slice(part).unwrap();
        }
        let (mut a, mut b) = (RecordingInfo::default(), RecordingInfo::default());
        one.fill(&mut a);
        many.fill(&mut b);
        assert_eq!(a, b);
        assert_eq!(b.gaps.len(), 1);
        // the first bad sample is named and nothing from it on is counted
        let mut c = SampleCheck::new(0.01, None).unwrap();
        let mut bad = samples[..10].to_vec();
        bad[6].t_s = bad[4].t_s;
        let (i, e) = c.check_slice(&bad).unwrap_err();
        assert_eq!(i, 6);
        assert!(matches!(e, ErrorKind::TimeNotIncreasing { .. }));
        assert_eq!(c.n, 6);
        bad[6] = Sample::new(100.0, [f64::NAN, 0.0, 0.0]);
        let mut c = SampleCheck::new(0.01, None).unwrap();
        let (i, e) = c.check_slice(&bad).unwrap_err();
        assert_eq!(i, 6);
        assert!(matches!(e, ErrorKind::NotFinite { .. }));
    }

    #[test]
    fn fork_and_append_give_the_sequential_statistics() {
        let samples: Vec<Sample> = (0..2000)
            .map(|i| {
                let t = i as f64 * 0.01 + if i >= 1200 { 3.0 } else { 0.0 };
                Sample::new(t, [0.0, 0.6, 0.8])
            })
            .collect();
        let mut seq = SampleCheck::new(0.01, None).unwrap();
        seq.check_slice(&samples).unwrap();
        // split inside a run and exactly at the gap (samples 1199 | 1200)
        for cut in [700, 1200] {
            let mut a = SampleCheck::new(0.01, None).unwrap();
            let mut b = a.fork();
            a.check_slice(&samples[..cut]).unwrap();
            b.check_slice(&samples[cut..]).unwrap();
            a.append(b).unwrap();
            let (mut x, mut y) = (RecordingInfo::default(), RecordingInfo::default());
            seq.fill(&mut x);
            a.fill(&mut y);
            assert_eq!(x.n_samples, y.n_samples);
            assert_eq!(x.gaps, y.gaps, "cut {cut}");
            assert_eq!((x.start_s, x.end_s), (y.start_s, y.end_s));
            assert!((x.rate.rate_hz - y.rate.rate_hz).abs() < 1e-9);
            assert!((x.rate.jitter_s - y.rate.jitter_s).abs() < 1e-12);
            assert!((x.mean_norm_g - y.mean_norm_g).abs() < 1e-12);
        }
        // the later stretch must start after the earlier one ends
        let mut a = SampleCheck::new(0.01, None).unwrap();
        let mut b = a.fork();
        a.check_slice(&samples[..10]).unwrap();
        b.check_slice(&samples[5..10]).unwrap();
        assert!(matches!(
            a.append(b),
            Err(ErrorKind::TimeNotIncreasing { .. })
        ));
    }

    #[test]
    fn slow_rates_are_refused() {
        assert!(matches!(
            SampleCheck::new(0.2, None),
            Err(ErrorKind::RateTooLow { .. })
        ));
        assert!(SampleCheck::new(0.1, None).is_ok());
        assert!(SampleCheck::new(0.0, None).is_err());
        assert!(SampleCheck::new(f64::NAN, None).is_err());
    }

    #[test]
    fn bad_values_and_times_are_named() {
        let mut c = SampleCheck::new(0.01, None).unwrap();
        c.check(&s(0.0)).unwrap();
        let e = c
            .check(&Sample::new(0.01, [0.0, f64::NAN, 1.0]))
            .unwrap_err();
        assert!(matches!(e, ErrorKind::NotFinite { ref column, .. } if column == "y"));
        let e = c.check(&Sample::new(0.01, [0.0, 0.0, -64.5])).unwrap_err();
        assert!(matches!(e, ErrorKind::OutOfRange { ref column, .. } if column == "z"));
        let e = c.check(&s(0.0)).unwrap_err();
        assert!(matches!(
            e,
            ErrorKind::TimeNotIncreasing {
                verb: "repeats",
                ..
            }
        ));
        let e = c.check(&s(-0.5)).unwrap_err();
        assert!(matches!(
            e,
            ErrorKind::TimeNotIncreasing {
                verb: "goes backwards",
                ..
            }
        ));
        let e = c.check(&s(f64::INFINITY)).unwrap_err();
        assert!(matches!(e, ErrorKind::NotFinite { ref column, .. } if column == "t"));
        // a failed sample changes nothing
        assert_eq!(c.n, 1);
    }
}
