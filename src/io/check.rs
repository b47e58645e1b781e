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
    median(&mut dts)
}

/// The sample interval the first timestamps of a recording show.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadInterval {
    /// Median of the positive intervals among the first 4,097 timestamps, in seconds: the
    /// unit of the gap rule, which no outlier moves.
    pub median_s: f64,
    /// Mean of those intervals that lie within half and one and a half times the median, in
    /// seconds: the interval a detector is built for. Times rounded to a clock's tick (most
    /// exports write milliseconds) make every interval a multiple of the tick, the median
    /// too; the mean of thousands keeps the true interval (85.7 Hz written to the
    /// millisecond: intervals of 11 and 12 ms, median 12 ms, mean 11.67 ms).
    pub mean_s: f64,
}

impl HeadInterval {
    /// The interval of the first 4,097 timestamps; `None` when they hold no
    /// positive interval.
    pub fn of(times_s: &[f64]) -> Option<HeadInterval> {
        let median_s = median_interval_s(times_s)?;
        let head = &times_s[..times_s.len().min(MEDIAN_WINDOW + 1)];
        let (mut sum, mut n) = (0.0, 0u32);
        for w in head.windows(2) {
            let d = w[1] - w[0];
            if d >= 0.5 * median_s && d <= 1.5 * median_s {
                sum += d;
                n += 1;
            }
        }
        // The median itself is in the band, so n ≥ 1.
        Some(HeadInterval {
            median_s,
            mean_s: sum / f64::from(n.max(1)),
        })
    }

    /// An interval known exactly (a rate stated in a header, or given by the caller).
    pub fn exact(interval_s: f64) -> HeadInterval {
        HeadInterval {
            median_s: interval_s,
            mean_s: interval_s,
        }
    }
}

/// The median of `values` (the upper one of an even count), reordering them; `None` when
/// there are none.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// Lanes of the running sums: sample `n` of the recording (from 0) adds to lane `n % LANES`,
/// whichever way the samples were split into calls. Two independent sums let the slice
/// check add two samples at a time (one SSE2 register), where one sum would make every
/// addition wait for the one before; the lanes are added up only when the statistics are
/// read, always in the same order, so the result does not depend on the calls either.
const LANES: usize = 2;

/// Samples validated in one go by [`SampleCheck::check_slice`] before their sums are kept.
const GROUP: usize = 64;

/// Running sums, one per lane (see [`LANES`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Sums {
    /// Vector lengths, in g.
    norm: [f64; LANES],
    /// Non-gap intervals minus the median interval (shifted for precision), in seconds.
    d: [f64; LANES],
    /// Squares of those, in s².
    d2: [f64; LANES],
}

impl Sums {
    /// The lanes added up in a fixed order.
    fn total(lanes: &[f64; LANES]) -> f64 {
        lanes.iter().sum()
    }

    /// Lane-wise sum with `other`.
    fn add(&mut self, other: &Sums) {
        for (a, b) in [
            (&mut self.norm, &other.norm),
            (&mut self.d, &other.d),
            (&mut self.d2, &other.d2),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }
}

/// Validates samples one by one and keeps the recording's running statistics.
///
/// Checks, in order: every axis finite and within ±[`MAX_ABS_G`]; time finite and strictly
/// increasing. An interval longer than max(1 s, 5 × median interval) is a gap: reported,
/// kept out of the rate statistics, never bridged. So is an interval of any length across
/// data a reader had to drop (a block failing its checksum): the reader says so with
/// [`hole_before_next`](Self::hole_before_next), since a hole shorter than the gap rule
/// would otherwise pass for one slow interval and bias the rate.
#[derive(Clone, Debug)]
pub(crate) struct SampleCheck {
    median_interval_s: f64,
    /// [`HeadInterval::mean_s`], reported as [`RateInfo::head_mean_interval_s`].
    head_mean_interval_s: f64,
    gap_min_s: f64,
    nominal_hz: Option<f64>,
    n: u64,
    /// `n % LANES`: the lane of the next sample.
    lane: usize,
    first_t_s: f64,
    last_t_s: f64,
    /// Non-gap intervals: count and longest; their sums are in `sums`.
    n_dt: u64,
    max_dt: f64,
    sums: Sums,
    gaps: Vec<Gap>,
    /// The reader dropped data before the next sample: the interval to it is a gap.
    hole_next: bool,
    /// Data were dropped before this checker's first sample (a [`fork`](Self::fork) then
    /// reports the step from the earlier stretch as a gap when it is appended).
    hole_first: bool,
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

    /// A checker for a recording whose first timestamps show `head`: as [`new`](Self::new)
    /// with `head.median_s`, reporting `head.mean_s` too.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub(crate) fn from_head(
        head: HeadInterval,
        nominal_hz: Option<f64>,
    ) -> Result<Self, ErrorKind> {
        let mut check = SampleCheck::new(head.median_s, nominal_hz)?;
        check.head_mean_interval_s = head.mean_s;
        Ok(check)
    }

    fn new_unchecked(median_interval_s: f64, nominal_hz: Option<f64>) -> Self {
        SampleCheck {
            median_interval_s,
            head_mean_interval_s: median_interval_s,
            gap_min_s: gap_threshold_s(median_interval_s),
            nominal_hz,
            n: 0,
            lane: 0,
            first_t_s: f64::NAN,
            last_t_s: f64::NEG_INFINITY,
            n_dt: 0,
            max_dt: 0.0,
            sums: Sums::default(),
            gaps: Vec::new(),
            hole_next: false,
            hole_first: false,
        }
    }

    /// Marks that the reader dropped data (a bad block, a damaged packet) right before the
    /// next sample it checks: the interval up to that sample is reported as a gap whatever
    /// its length, and kept out of the rate statistics. Before the first sample there is no
    /// interval, so nothing is reported.
    pub(crate) fn hole_before_next(&mut self) {
        self.hole_next = true;
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
        let lane = self.lane;
        if let Some(v) = self.sums.norm.get_mut(lane) {
            *v += (x * x + y * y + z * z).sqrt();
        }
        let mut gap = None;
        let hole = std::mem::take(&mut self.hole_next);
        if self.n == 0 {
            self.first_t_s = t;
            self.hole_first = hole;
        } else {
            let dt = t - self.last_t_s;
            if dt > self.gap_min_s || hole {
                let g = Gap {
                    start_s: self.last_t_s,
                    duration_s: dt,
                };
                self.gaps.push(g);
                gap = Some(g);
            } else {
                let d = dt - self.median_interval_s;
                self.n_dt += 1;
                if let (Some(s1), Some(s2)) =
                    (self.sums.d.get_mut(lane), self.sums.d2.get_mut(lane))
                {
                    *s1 += d;
                    *s2 += d * d;
                }
                if dt > self.max_dt {
                    self.max_dt = dt;
                }
            }
        }
        self.last_t_s = t;
        self.n += 1;
        self.lane = (lane + 1) % LANES;
        Ok(gap)
    }

    /// Checks samples in order exactly as [`check`](Self::check) on each would (the same
    /// sums in the same lanes, so the same statistics to the last bit), faster: groups of
    /// [`GROUP`] samples are validated and summed two at a time in a loop the compiler
    /// vectorises, and kept only if every sample passed and no interval was a gap; a group
    /// that fails goes through [`check`](Self::check) one sample at a time, which names the
    /// bad sample or records the gap. Samples before the first of lane 0, and the last few,
    /// go one at a time too.
    ///
    /// # Errors
    /// The index in `samples` of the first bad sample and its error; the samples before it
    /// are counted, it and those after are not.
    pub(crate) fn check_slice(&mut self, samples: &[Sample]) -> Result<(), (usize, ErrorKind)> {
        // One at a time up to lane 0 (and past the first sample, which has no interval).
        // A sample after a hole goes one at a time too: its interval is a gap.
        let mut head = (LANES - self.lane) % LANES;
        if (self.n == 0 || self.hole_next) && head == 0 {
            head = LANES;
        }
        let head = head.min(samples.len());
        let (first, rest) = samples.split_at(head);
        self.check_each(first, 0)?;
        let mut done = head;
        for group in rest.chunks(GROUP) {
            let whole = group.len() - group.len() % LANES;
            let (body, tail) = group.split_at(whole);
            if !self.check_group(body) {
                self.check_each(body, done)?;
            }
            self.check_each(tail, done + whole)?;
            done += group.len();
        }
        Ok(())
    }

    /// [`check`](Self::check) on each sample; errors carry the index plus `offset`.
    fn check_each(&mut self, samples: &[Sample], offset: usize) -> Result<(), (usize, ErrorKind)> {
        for (i, s) in samples.iter().enumerate() {
            self.check(s).map_err(|kind| (offset + i, kind))?;
        }
        Ok(())
    }

    /// Checks and counts `body` (a whole number of lanes, starting at lane 0, after at least
    /// one sample) if every sample passes and no interval is a gap; otherwise changes nothing
    /// and returns `false`.
    ///
    /// The loop has no branch and no test per sample; what it keeps per lane tells whether
    /// every sample passed, at the end:
    /// - range: the largest |a|² at most [`MAX_ABS_G`]², which implies every axis within
    ///   ±[`MAX_ABS_G`]; a sample beyond it on |a| alone (rare: a strong hit on several axes)
    ///   sends the group to the exact per-sample check, which accepts it;
    /// - time: the smallest interval above 0 (strictly increasing) and the largest at most
    ///   the gap threshold (no gap); an infinite time gives an infinite interval;
    /// - NaN, which comparisons let pass, makes a running sum NaN: the sums must stay finite.
    #[inline]
    fn check_group(&mut self, body: &[Sample]) -> bool {
        debug_assert!(self.lane == 0 && self.n > 0 && !self.hole_next && body.len() % LANES == 0);
        const MAX_SQ_G2: f64 = MAX_ABS_G * MAX_ABS_G;
        let (median, gap_min) = (self.median_interval_s, self.gap_min_s);
        let mut sums = self.sums;
        let mut max_sq = [0.0; LANES];
        let mut min_dt = [f64::INFINITY; LANES];
        let mut max_dt = [self.max_dt; LANES];
        let mut prev = self.last_t_s;
        for pair in body.chunks_exact(LANES) {
            let &[a, b] = pair else {
                return false;
            };
            let t = [a.t_s, b.t_s];
            let before = [prev, a.t_s];
            let acc = [a.acc_g, b.acc_g];
            for k in 0..LANES {
                let [x, y, z] = acc[k];
                let sq = x * x + y * y + z * z;
                let dt = t[k] - before[k];
                let dm = dt - median;
                sums.norm[k] += sq.sqrt();
                sums.d[k] += dm;
                sums.d2[k] += dm * dm;
                max_sq[k] = if sq > max_sq[k] { sq } else { max_sq[k] };
                min_dt[k] = if dt < min_dt[k] { dt } else { min_dt[k] };
                max_dt[k] = if dt > max_dt[k] { dt } else { max_dt[k] };
            }
            prev = b.t_s;
        }
        let ok = (0..LANES).all(|k| {
            (max_sq[k] <= MAX_SQ_G2)
                & (min_dt[k] > 0.0)
                & (max_dt[k] <= gap_min)
                & sums.norm[k].is_finite()
                & sums.d[k].is_finite()
        });
        if !ok {
            return false;
        }
        self.sums = sums;
        self.max_dt = max_dt.into_iter().fold(self.max_dt, f64::max);
        self.last_t_s = prev;
        let n = body.len() as u64;
        self.n += n;
        self.n_dt += n;
        true
    }

    /// Samples checked so far (those before a failure included, the failing one not).
    pub(crate) fn n_checked(&self) -> u64 {
        self.n
    }

    /// A checker with this one's rules and no samples yet, for checking a later stretch of
    /// the recording on another thread; [`append`](Self::append) joins it back.
    pub(crate) fn fork(&self) -> Self {
        let mut c = SampleCheck::new_unchecked(self.median_interval_s, self.nominal_hz);
        c.gap_min_s = self.gap_min_s;
        c.head_mean_interval_s = self.head_mean_interval_s;
        c
    }

    /// Joins the statistics of `later`, a [`fork`](Self::fork) that checked the samples
    /// right after this one's, checking the interval between the two stretches (a gap when
    /// it is long or when `later` was told of a hole before its first sample).
    ///
    /// The sums are added lane by lane, not re-accumulated sample by sample, so the mean
    /// magnitude and jitter can differ from a sequential check in the last bits.
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
            if dt > self.gap_min_s || later.hole_first {
                self.gaps.push(Gap {
                    start_s: self.last_t_s,
                    duration_s: dt,
                });
            } else {
                let d = dt - self.median_interval_s;
                self.n_dt += 1;
                if let (Some(s1), Some(s2)) = (self.sums.d.first_mut(), self.sums.d2.first_mut()) {
                    *s1 += d;
                    *s2 += d * d;
                }
                if dt > self.max_dt {
                    self.max_dt = dt;
                }
            }
        } else {
            self.first_t_s = later.first_t_s;
            self.hole_first = later.hole_first;
        }
        self.n += later.n;
        self.lane = (self.lane + later.lane) % LANES;
        self.last_t_s = later.last_t_s;
        self.n_dt += later.n_dt;
        self.sums.add(&later.sums);
        if later.max_dt > self.max_dt {
            self.max_dt = later.max_dt;
        }
        self.gaps.extend(later.gaps);
        Ok(())
    }

    /// Copies what is known so far into `info` (gaps are appended, not re-copied).
    pub(crate) fn fill(&self, info: &mut RecordingInfo) {
        info.n_samples = self.n;
        if self.n > 0 {
            info.start_s = Some(self.first_t_s);
            info.end_s = Some(self.last_t_s);
            info.mean_norm_g = Sums::total(&self.sums.norm) / self.n as f64;
        }
        let (mean_dt, jitter) = if self.n_dt > 0 {
            let n = self.n_dt as f64;
            let mean_d = Sums::total(&self.sums.d) / n;
            let var = (Sums::total(&self.sums.d2) / n - mean_d * mean_d).max(0.0);
            (self.median_interval_s + mean_d, var.sqrt())
        } else {
            (self.median_interval_s, 0.0)
        };
        info.rate = RateInfo {
            rate_hz: 1.0 / mean_dt,
            median_interval_s: self.median_interval_s,
            head_mean_interval_s: self.head_mean_interval_s,
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
    fn head_mean_sees_through_millisecond_rounding_and_leaves_out_gaps() {
        // 85.7 Hz written to the millisecond: intervals of 11 and 12 ms
        let mut t: Vec<f64> = (0..3000)
            .map(|i| (f64::from(i) / 85.7 * 1000.0).round() / 1000.0)
            .collect();
        // a 2 s gap and a dropped sample (a doubled interval) after sample 1000
        for (i, v) in t.iter_mut().enumerate().skip(1000) {
            *v += if i > 2000 { 2.0 + 1.0 / 85.7 } else { 2.0 };
        }
        t.remove(2001);
        let h = HeadInterval::of(&t).unwrap();
        assert!((h.median_s - 0.012).abs() < 1e-12, "{h:?}");
        assert!((h.mean_s * 85.7 - 1.0).abs() < 1e-4, "{h:?}");
        // only the first 4,097 times count
        let mut long = t.clone();
        let end = t[t.len() - 1];
        long.extend((1..5000).map(|i| end + 0.5 * f64::from(i)));
        let h_long = HeadInterval::of(&long[..4097]).unwrap();
        assert_eq!(HeadInterval::of(&long), Some(h_long));
        assert_eq!(HeadInterval::of(&[1.0, 1.0]), None);
        assert_eq!(HeadInterval::exact(0.04).mean_s, 0.04);
        // a checker reports both
        let mut c = SampleCheck::from_head(h, None).unwrap();
        c.check(&s(0.0)).unwrap();
        let mut info = RecordingInfo::default();
        c.fill(&mut info);
        assert_eq!(info.rate.median_interval_s, h.median_s);
        assert_eq!(info.rate.head_mean_interval_s, h.mean_s);
        assert_eq!(c.fork().head_mean_interval_s, h.mean_s);
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

    /// What checking `samples` gives: the first error (index and kind) or none, and the
    /// statistics of the samples counted.
    fn outcome(
        samples: &[Sample],
        mut run: impl FnMut(&mut SampleCheck, &[Sample]) -> Result<(), (usize, ErrorKind)>,
    ) -> (Option<(usize, String)>, RecordingInfo) {
        let mut c = SampleCheck::new(0.01, None).unwrap();
        let err = run(&mut c, samples)
            .err()
            .map(|(i, k)| (i, format!("{k:?}")));
        let mut info = RecordingInfo::default();
        c.fill(&mut info);
        (err, info)
    }

    #[test]
    fn check_slice_equals_check_per_sample_on_awkward_samples() {
        // 300 samples with uneven intervals and values; one is replaced by each case below,
        // at positions covering both lanes, group edges and the first samples.
        let base: Vec<Sample> = (0..300)
            .map(|i| {
                let t = i as f64 * 0.01 + 0.002 * ((i * 7 % 5) as f64 - 2.0) / 5.0;
                let a = [
                    0.3 * (i % 11) as f64 - 1.5,
                    -0.7,
                    0.05 * (i % 3) as f64 + 0.9,
                ];
                Sample::new(t, a)
            })
            .collect();
        let value_cases: [[f64; 3]; 9] = [
            [f64::NAN, 0.0, 1.0],
            [0.0, f64::INFINITY, 1.0],
            [0.0, 0.0, f64::NEG_INFINITY],
            [64.0, -64.0, 64.0],          // on the limit: accepted
            [0.0, 64.000_000_000_1, 0.0], // just past it
            [50.0, 50.0, -50.0],          // |a| > 64 g, every axis within: accepted
            [1e200, 0.0, 0.0],            // |a|² overflows
            [-64.5, 0.0, 0.0],
            [0.0, 0.0, f64::MIN_POSITIVE], // tiny: accepted
        ];
        // times relative to the previous sample's
        let time_cases: [fn(f64) -> f64; 8] = [
            |_| f64::NAN,
            |_| f64::INFINITY,
            |_| f64::NEG_INFINITY,
            |p| p,         // repeats
            |p| p - 0.005, // goes back
            |p| p + 1.5,   // a gap (and every later interval shifted by it)
            |p| p + 1.0,   // exactly the gap threshold: not a gap
            |p| p + 1e-9,  // tiny interval
        ];
        let mut cases: Vec<Vec<Sample>> = vec![base.clone()];
        for at in [
            0, 1, 2, 3, 4, 5, 62, 63, 64, 65, 66, 67, 68, 127, 128, 129, 298, 299,
        ] {
            for v in value_cases {
                let mut s = base.clone();
                s[at].acc_g = v;
                cases.push(s);
            }
            for f in time_cases {
                let mut s = base.clone();
                let prev = if at == 0 { -1.0 } else { s[at - 1].t_s };
                let shift = f(prev) - s[at].t_s;
                if shift.is_finite() && shift > 0.0 {
                    // keep the later samples in order after a forward jump
                    for x in &mut s[at..] {
                        x.t_s += shift;
                    }
                } else {
                    s[at].t_s = f(prev);
                }
                cases.push(s);
            }
        }
        for (k, samples) in cases.iter().enumerate() {
            let want = outcome(samples, |c, s| {
                for (i, x) in s.iter().enumerate() {
                    c.check(x).map_err(|e| (i, e))?;
                }
                Ok(())
            });
            for chunk in [1, 2, 3, 5, 64, 65, 130, 300] {
                let got = outcome(samples, |c, s| {
                    for (j, part) in s.chunks(chunk).enumerate() {
                        c.check_slice(part).map_err(|(i, e)| (j * chunk + i, e))?;
                    }
                    Ok(())
                });
                assert_eq!(got, want, "case {k}, chunk {chunk}");
            }
        }
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
    fn a_hole_is_a_gap_whatever_its_length_on_every_path() {
        // 100 Hz with 0.3 s of samples dropped before sample 150: far under the 1 s rule.
        let samples: Vec<Sample> = (0..400)
            .map(|i| {
                let t = i as f64 * 0.01 + if i >= 150 { 0.3 } else { 0.0 };
                Sample::new(t, [0.0, 0.6, 0.8])
            })
            .collect();
        let expect = |info: &RecordingInfo, what: &str| {
            assert_eq!(info.gaps.len(), 1, "{what}");
            assert!((info.gaps[0].start_s - 1.49).abs() < 1e-9, "{what}");
            assert!((info.gaps[0].duration_s - 0.31).abs() < 1e-9, "{what}");
            // kept out of the rate statistics
            assert!((info.rate.rate_hz - 100.0).abs() < 1e-6, "{what}");
            assert!((info.rate.max_interval_s - 0.01).abs() < 1e-9, "{what}");
        };
        // one at a time
        let mut one = SampleCheck::new(0.01, None).unwrap();
        for (i, s) in samples.iter().enumerate() {
            if i == 150 {
                one.hole_before_next();
            }
            one.check(s).unwrap();
        }
        let mut want = RecordingInfo::default();
        one.fill(&mut want);
        expect(&want, "check");
        // in slices of every length, the hole marked before the slice that starts with it
        for chunk in [1, 2, 3, 7, 64, 150] {
            let mut c = SampleCheck::new(0.01, None).unwrap();
            c.check_slice(&samples[..150]).unwrap();
            c.hole_before_next();
            for part in samples[150..].chunks(chunk) {
                c.check_slice(part).unwrap();
            }
            let mut got = RecordingInfo::default();
            c.fill(&mut got);
            assert_eq!(got, want, "chunk {chunk}");
        }
        // a fork told of the hole before its first sample, appended
        let mut a = SampleCheck::new(0.01, None).unwrap();
        let mut b = a.fork();
        a.check_slice(&samples[..150]).unwrap();
        b.hole_before_next();
        b.check_slice(&samples[150..]).unwrap();
        a.append(b).unwrap();
        let mut got = RecordingInfo::default();
        a.fill(&mut got);
        expect(&got, "fork");
        // without the mark the same samples hold no gap: the hole passes for a slow interval
        let mut c = SampleCheck::new(0.01, None).unwrap();
        c.check_slice(&samples).unwrap();
        let mut plain = RecordingInfo::default();
        c.fill(&mut plain);
        assert!(plain.gaps.is_empty());
        // a hole before the very first sample has no interval to report
        let mut c = SampleCheck::new(0.01, None).unwrap();
        c.hole_before_next();
        c.check_slice(&samples[..10]).unwrap();
        let mut first = RecordingInfo::default();
        c.fill(&mut first);
        assert!(first.gaps.is_empty());
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
