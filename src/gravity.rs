//! Gravity, orientation and the per-sample signal path.
//!
//! A body-worn sensor reads gravity in its own frame plus the linear acceleration of the limb
//! (domain.md §2.0). Leg movements on an ankle are as much rotation as acceleration, so the
//! movement signal has two channels:
//!
//! - **linear** `h = a − g_fast`: what a two-section low-pass gravity estimate `g_fast` does
//!   not follow — muscle jitter, jerks, tremor, the shaking of a turn, and sensor noise;
//! - **rotation** `r = g_fast − g_rest`: how far the gravity direction has moved from the
//!   resting orientation `g_rest`, a slow baseline that only follows while nothing moves. A
//!   tilt of θ moves it by 2·sin(θ/2) g, so 1° reads as 17 mg, well above the noise left in
//!   `g_fast` (σ/5 at 2 Hz and 100 Hz).
//!
//! The per-sample loop ([`Gravity::fill`]) only filters and sums, per axis, over blocks of a
//! fixed number of samples; it never reads anything the block stage computes, so it runs
//! through a block in registers, its checks folded in without a branch per sample, and the
//! block stage runs once the block is full. The rotation channel needs `g_rest`, which the block
//! stage owns: the loop sums `u = g_fast − ref` and `u²` against a reference `ref` fixed at
//! the block's start, and the block stage recovers `Σ (g_fast − g_rest)²` exactly as
//! `Σu² + 2 (ref − g_rest)·Σu + n·(ref − g_rest)²`, in f64.
//!
//! The path runs on uncalibrated values: it is linear up to the squares, so a per-axis affine
//! calibration `(a − o)·k` shifts `g_fast` and `g_rest` alike (offsets cancel in `h` and `r`)
//! and scales `h` and `r` by `k`, which the block stage applies to the per-axis sums.
//! Calibration can therefore change at any block without a transient.
//!
//! Precision: the filters, sums and checks of values run in f32 (the sensors resolve 12 to
//! 16 bits; sums over a 50 ms block of at most a few dozen samples lose nothing that
//! matters), and so do a block's envelopes and calibration sums, taken from those sums
//! ([`BlockSums::envelopes`], [`BlockSums::still_sums`]); time stays f64, and so does
//! everything the block stage keeps from block to block (resting orientation, floors,
//! calibration windows). Speed: BENCHMARKS.md, "Detector core".

use crate::filter::OnePole;
use crate::Sample;

/// Per-axis sums over one block of samples, in uncalibrated g, in the lanes of [`to_f32`]
/// (`[t, x, y, z]`; lane 0 follows the time through the same arithmetic and is never read).
///
/// A block with `n = 0` is empty whatever its other fields hold: the signal path starts its
/// sums afresh then, so ending a block is setting `n` to zero.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct BlockSums {
    /// Samples in the block.
    pub(crate) n: u32,
    /// Time of the block's first sample, in seconds.
    pub(crate) t_first_s: f64,
    /// Time of the block's last sample, in seconds.
    pub(crate) t_last_s: f64,
    /// The gravity estimate just before the block's first sample: the reference of `u`.
    pub(crate) ref_g: [f32; 4],
    /// Sum of `u = g_fast − ref`, per axis.
    pub(crate) sum_u: [f32; 4],
    /// Sum of `u²`, per axis.
    pub(crate) sum_u2: [f32; 4],
    /// Sum of the squared linear channel `h`, per axis.
    pub(crate) sum_h2: [f32; 4],
    /// Largest sample-to-sample change, per axis, in g.
    pub(crate) max_abs_d: [f32; 4],
    /// The gravity estimate at the block's last sample, per axis.
    pub(crate) g_fast: [f32; 4],
}

impl BlockSums {
    /// Mean of `g_fast` over the block, per axis, in g.
    #[inline(always)]
    pub(crate) fn mean_g_fast(&self) -> [f64; 3] {
        let n = f64::from(self.n.max(1));
        let [r0, r1, r2] = axes(self.ref_g);
        let [u0, u1, u2] = axes(self.sum_u);
        [r0 + u0 / n, r1 + u1 / n, r2 + u2 / n]
    }

    /// `Σ (g_fast − rest)²` per axis, from the sums against `ref`, in f64: the reference
    /// [`envelopes`](Self::envelopes) is checked against.
    #[cfg(test)]
    pub(crate) fn sum_r2(&self, rest: [f64; 3]) -> [f64; 3] {
        let n = f64::from(self.n);
        let r = axes(self.ref_g);
        let u = axes(self.sum_u);
        let u2 = axes(self.sum_u2);
        let lane = |i: usize| {
            let (c, u, u2) = (r[i] - rest[i], u[i], u2[i]);
            (u2 + 2.0 * c * u + n * c * c).max(0.0)
        };
        [lane(0), lane(1), lane(2)]
    }

    /// The block's squared envelopes (linear, rotation) in calibrated g²: the means over the
    /// block of `Σ k²·h²` and `Σ k²·(g_fast − rest)²` over the axes, with `k2` the squared
    /// gains in the lanes of [`to_f32`] and `rest` the resting orientation (uncalibrated g).
    ///
    /// In f32, four lanes at once: the sums are f32 already, and an envelope is compared
    /// with thresholds a few times the noise floor, so seven digits are plenty. Only
    /// `c = ref − rest` is taken in f64, where both are near 1 g and their difference is
    /// small; `Σ (u + c)² = Σu² + c·(2·Σu + n·c)`.
    #[inline(always)]
    #[allow(clippy::cast_possible_truncation, clippy::needless_range_loop)]
    // c is a difference of accelerations within ±64 g; one index over several lane arrays
    // reads best.
    pub(crate) fn envelopes(&self, k2: [f32; 4], rest: [f64; 3]) -> (f64, f64) {
        let n = block_count_f32(self.n);
        let r = axes(self.ref_g);
        let c = [0.0, r[0] - rest[0], r[1] - rest[1], r[2] - rest[2]].map(|c| c as f32);
        let (mut h2, mut r2) = ([0.0f32; 4], [0.0f32; 4]);
        for i in 0..4 {
            h2[i] = k2[i] * self.sum_h2[i];
            r2[i] = k2[i] * (self.sum_u2[i] + c[i] * (2.0 * self.sum_u[i] + n * c[i]));
        }
        let inv_n = 1.0 / n;
        let mean = |v: [f32; 4]| (v[1] + v[2] + v[3]) * inv_n;
        // Rounding can take a sum of squares a hair below zero.
        (f64::from(mean(h2)), f64::from(mean(r2).max(0.0)))
    }

    /// What the block adds to the calibration's still-window sums, per axis: `Σ g_fast` (g)
    /// and `Σ g_fast² + Σ h²` (g²), so that the window's spread counts both the slow
    /// changes the gravity estimate follows and the fast ones the linear channel holds.
    ///
    /// From the sums against `ref` (`g_fast = ref + u`), in f32 as they are, without a
    /// division: `Σ g = n·ref + Σu` and `Σ g² = (Σ g + Σu)·ref + Σu²`.
    #[inline(always)]
    pub(crate) fn still_sums(&self) -> ([f32; 4], [f32; 4]) {
        let n = block_count_f32(self.n);
        let (mut s1, mut s2) = ([0.0f32; 4], [0.0f32; 4]);
        for i in 0..4 {
            let (r, u) = (self.ref_g[i], self.sum_u[i]);
            s1[i] = n * r + u;
            s2[i] = (s1[i] + u) * r + self.sum_u2[i] + self.sum_h2[i];
        }
        (s1, s2)
    }
}

/// A block's sample count as f32, exact (a block holds a few dozen samples at most), and
/// at least 1 so that an empty block divides by nothing.
#[inline(always)]
fn block_count_f32(n: u32) -> f32 {
    n.max(1) as f32
}

/// Most samples [`Gravity::fill`] takes at once.
pub(crate) const FILL_MAX: usize = 32;

/// Scratch for [`Gravity::fill`]: the values of up to [`FILL_MAX`] samples in f32. It holds
/// nothing between calls; it lives with the state only so that it is not cleared per call.
#[derive(Clone, Debug)]
pub(crate) struct FillBuffer([[f32; 4]; FILL_MAX]);

impl Default for FillBuffer {
    fn default() -> Self {
        FillBuffer([[0.0; 4]; FILL_MAX])
    }
}

/// The settings the per-sample loop needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PathPlan {
    /// Each of the two gravity low-pass sections.
    pub(crate) lp: OnePole,
    /// Samples per block.
    pub(crate) block_len: u32,
    /// Longest interval between samples that is not a gap, in seconds.
    pub(crate) gap_min_s: f64,
}

/// State of the per-sample signal path.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Gravity {
    y1: [f32; 4],
    y2: [f32; 4],
    prev: [f32; 4],
    primed: bool,
}

/// The sample in f32 lanes `[t, x, y, z]`, as it lies in memory.
///
/// The signal path runs four lanes wide. Lane 0 takes the time along only because
/// converting the sample's four numbers together is the cheapest way to fill the other
/// three: it goes through the same arithmetic and nothing reads it (the time is checked in
/// f64 apart). [`axes`] reads lanes 1 to 3.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
// Values beyond f32 become ±inf, which the range check that follows rejects.
pub(crate) fn to_f32(s: &Sample) -> [f32; 4] {
    let [x, y, z] = s.acc_g;
    [s.t_s as f32, x as f32, y as f32, z as f32]
}

/// The x, y and z lanes of a signal-path value, in f64.
#[inline(always)]
pub(crate) fn axes(v: [f32; 4]) -> [f64; 3] {
    [f64::from(v[1]), f64::from(v[2]), f64::from(v[3])]
}

/// Largest accepted |acceleration|, in g, in f32 (64 is exact).
#[allow(clippy::cast_possible_truncation)]
const MAX_G: f32 = crate::io::MAX_ABS_G as f32;

/// True when every axis is within ±64 g (so finite).
#[inline(always)]
fn in_range(a: [f32; 4]) -> bool {
    a[1].abs() <= MAX_G && a[2].abs() <= MAX_G && a[3].abs() <= MAX_G
}

/// True for a sample the signal path takes as it comes: values `a` within ±64 g, and a
/// time `dt_s` after the last one that is later but no gap (at most `gap_min_s`).
#[inline(always)]
pub(crate) fn is_regular(a: [f32; 4], dt_s: f64, gap_min_s: f64) -> bool {
    in_range(a) && dt_s > 0.0 && dt_s <= gap_min_s
}

impl Gravity {
    /// True once a first sample has set the filter state.
    #[inline(always)]
    pub(crate) fn is_primed(&self) -> bool {
        self.primed
    }

    /// Starts the filters at `a`, as if it had always been there (no start-up transient);
    /// used at the start and after every gap.
    pub(crate) fn prime(&mut self, a: [f32; 4]) {
        self.y1 = a;
        self.y2 = a;
        self.prev = a;
        self.primed = true;
    }

    /// Forgets everything; the next sample primes the path again.
    pub(crate) fn unprime(&mut self) {
        *self = Gravity::default();
    }

    /// The current gravity estimate `g_fast`, uncalibrated, per axis.
    pub(crate) fn g_fast(&self) -> [f32; 4] {
        self.y2
    }

    /// Runs `samples` into the current block `cur`, all or nothing: when every sample is
    /// regular (values within ±64 g, so finite, and each time later than the one before by
    /// no more than `gap_min_s`) it takes them all and returns true; otherwise it changes
    /// nothing and returns false, and [`run_checked`](Self::run_checked) finds the first
    /// irregular one. Takes at most [`FILL_MAX`] samples, which must not overfill the block
    /// (`cur.n + len ≤ block_len`).
    ///
    /// Two passes, with the checks folded in without a branch. The first converts the
    /// samples to f32 into a small buffer and keeps the largest of `bits(dt) − 1` as unsigned
    /// integers, which is below `bits(gap_min_s)` exactly when 0 < dt ≤ `gap_min_s`
    /// (positive floats order as their bits; zero wraps to the top, and negative, infinite
    /// and NaN steps have larger bits than any positive finite one). The second runs the
    /// filter over the buffer and keeps the largest |value| per axis; a NaN value escapes
    /// that maximum but turns the gravity estimate NaN for good, so a finite estimate at the
    /// end means none came in. Accepting exactly the samples the per-sample check accepts, it computes
    /// the same numbers in the same order as [`run_checked`](Self::run_checked).
    #[inline(always)]
    pub(crate) fn fill(
        &mut self,
        path: PathPlan,
        samples: &[Sample],
        cur: &mut BlockSums,
        last_t_s: &mut f64,
        buf: &mut FillBuffer,
    ) -> bool {
        let Some(first) = samples.first() else {
            return true;
        };
        if samples.len() > FILL_MAX {
            return false;
        }
        let n = samples.len();
        let buf = &mut buf.0;
        let mut last = *last_t_s;
        let mut worst_step = 0u64;
        for (s, slot) in samples.iter().zip(buf.iter_mut()) {
            *slot = to_f32(s);
            let step_bits = (s.t_s - last).to_bits().wrapping_sub(1);
            worst_step = worst_step.max(step_bits);
            last = s.t_s;
        }
        if worst_step >= path.gap_min_s.to_bits() {
            return false;
        }
        let lp = path.lp;
        let (mut y1, mut y2) = (self.y1, self.y2);
        let ref_g = if cur.n == 0 { y2 } else { cur.ref_g };
        let mut acc = Sums::of(cur);
        let mut prev = self.prev;
        let mut a_max = [0.0f32; 4];
        let mut f = Filter {
            lp,
            y1: &mut y1,
            y2: &mut y2,
            prev: &mut prev,
            ref_g,
            acc: &mut acc,
            a_max: &mut a_max,
        };
        // Two at a time: the loop's registers then need no shuffling between samples.
        let mut pairs = buf.get(..n).unwrap_or(&[]).chunks_exact(2);
        for p in &mut pairs {
            if let [a0, a1] = p {
                f.one(a0);
                f.one(a1);
            }
        }
        for a in pairs.remainder() {
            f.one(a);
        }
        // Lane 0 is the time in f32: finite unless the time is beyond f32, which only sends
        // the block to the per-sample path. Checking all four lanes keeps the maximum one
        // vector operation.
        const LIMIT: [f32; 4] = [f32::MAX, MAX_G, MAX_G, MAX_G];
        let values_ok = (0..4).all(|i| a_max[i] <= LIMIT[i]);
        if !(values_ok && (y2[1] + y2[2] + y2[3]).is_finite()) {
            return false;
        }
        if cur.n == 0 {
            cur.ref_g = ref_g;
            cur.t_first_s = first.t_s;
        }
        acc.store(cur);
        // At most FILL_MAX samples.
        cur.n += u32::try_from(n).unwrap_or(u32::MAX);
        cur.t_last_s = last;
        cur.g_fast = y2;
        (self.y1, self.y2, self.prev) = (y1, y2, prev);
        *last_t_s = last;
        true
    }

    /// Runs samples one by one into the current block `cur`, checking each: stops before
    /// the first that is not regular (out of range, not finite, not later than the last, or
    /// after a gap of more than `gap_min_s`) or once the block is full; returns how many it
    /// took.
    pub(crate) fn run_checked(
        &mut self,
        path: PathPlan,
        samples: &[Sample],
        cur: &mut BlockSums,
        last_t_s: &mut f64,
    ) -> usize {
        let mut taken = 0;
        for s in samples {
            if cur.n >= path.block_len {
                break;
            }
            let a = to_f32(s);
            let dt = s.t_s - *last_t_s;
            if !is_regular(a, dt, path.gap_min_s) {
                break;
            }
            self.run_one(path.lp, a, s.t_s, cur);
            *last_t_s = s.t_s;
            taken += 1;
        }
        taken
    }

    /// Runs one sample that the caller has accepted into the current block `cur`.
    ///
    /// Always inlined: called apart, its sample went through memory, written as parts and
    /// read as a whole, which stalls the load (store forwarding fails) on every sample
    /// pushed one at a time.
    #[inline(always)]
    pub(crate) fn run_one(&mut self, lp: OnePole, a: [f32; 4], t_s: f64, cur: &mut BlockSums) {
        if cur.n == 0 {
            cur.ref_g = self.y2;
            cur.t_first_s = t_s;
        }
        let mut acc = Sums::of(cur);
        step(
            lp,
            a,
            &mut self.y1,
            &mut self.y2,
            &mut self.prev,
            cur.ref_g,
            &mut acc,
        );
        acc.store(cur);
        cur.n += 1;
        cur.t_last_s = t_s;
        cur.g_fast = self.y2;
    }
}

/// The running sums of a block, kept apart from it so that they live in registers.
#[derive(Clone, Copy)]
struct Sums {
    h2: [f32; 4],
    u: [f32; 4],
    u2: [f32; 4],
    max_abs_d: [f32; 4],
}

impl Sums {
    /// The sums of `b` so far; zero when it is empty (whatever its fields hold: an ended
    /// block is emptied by setting its count to zero).
    #[inline(always)]
    fn of(b: &BlockSums) -> Self {
        if b.n == 0 {
            return Sums {
                h2: [0.0; 4],
                u: [0.0; 4],
                u2: [0.0; 4],
                max_abs_d: [0.0; 4],
            };
        }
        Sums {
            h2: b.sum_h2,
            u: b.sum_u,
            u2: b.sum_u2,
            max_abs_d: b.max_abs_d,
        }
    }

    #[inline(always)]
    fn store(self, b: &mut BlockSums) {
        b.sum_h2 = self.h2;
        b.sum_u = self.u;
        b.sum_u2 = self.u2;
        b.max_abs_d = self.max_abs_d;
    }
}

/// The filter pass of [`Gravity::fill`]: its state borrowed, one sample at a time.
struct Filter<'a> {
    lp: OnePole,
    y1: &'a mut [f32; 4],
    y2: &'a mut [f32; 4],
    prev: &'a mut [f32; 4],
    ref_g: [f32; 4],
    acc: &'a mut Sums,
    a_max: &'a mut [f32; 4],
}

impl Filter<'_> {
    /// One sample: its largest |value| per lane kept, then [`step`].
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // one index over two lane arrays reads best
    fn one(&mut self, a: &[f32; 4]) {
        for i in 0..4 {
            let m = a[i].abs();
            // NaN is dropped here; the gravity estimate catches it.
            self.a_max[i] = if m > self.a_max[i] { m } else { self.a_max[i] };
        }
        step(
            self.lp, *a, self.y1, self.y2, self.prev, self.ref_g, self.acc,
        );
    }
}

/// One sample through the two gravity sections and into the block's sums: every path runs
/// this, so every path computes the same numbers in the same order.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // one index over several lane arrays reads best
fn step(
    lp: OnePole,
    a: [f32; 4],
    y1: &mut [f32; 4],
    y2: &mut [f32; 4],
    prev: &mut [f32; 4],
    ref_g: [f32; 4],
    acc: &mut Sums,
) {
    for i in 0..4 {
        lp.step(&mut y1[i], a[i]);
        lp.step(&mut y2[i], y1[i]);
        let h = a[i] - y2[i];
        let u = y2[i] - ref_g[i];
        acc.h2[i] += h * h;
        acc.u[i] += u;
        acc.u2[i] += u * u;
        let d = (a[i] - prev[i]).abs();
        // `if` rather than `f32::max`: no NaN reaches a kept sum, and this compiles to one
        // vector max instead of a NaN-aware blend.
        acc.max_abs_d[i] = if d > acc.max_abs_d[i] {
            d
        } else {
            acc.max_abs_d[i]
        };
    }
    *prev = a;
}

/// Group delay of the two-section gravity low-pass at low frequencies, in seconds.
///
/// One section `y += α(x − y)` delays slow signals by (1 − α)/α samples; two delay twice that.
/// The rotation channel lags the motion by this much, and movement times are corrected for it.
pub(crate) fn rotation_delay_s(lp: OnePole, sample_rate_hz: f64) -> f64 {
    let a = f64::from(lp.alpha);
    2.0 * (1.0 - a) / a / sample_rate_hz
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp() -> OnePole {
        OnePole::new("f", 2.0, 100.0).unwrap()
    }

    fn path(block_len: u32) -> PathPlan {
        PathPlan {
            lp: lp(),
            block_len,
            gap_min_s: 1.0,
        }
    }

    /// Runs `xs` (at 100 Hz from `t0`) in blocks of `len` through the all-or-nothing path;
    /// returns the completed blocks.
    fn run(g: &mut Gravity, t0: f64, xs: &[[f64; 3]], len: u32) -> Vec<BlockSums> {
        let samples: Vec<Sample> = xs
            .iter()
            .enumerate()
            .map(|(i, a)| Sample::new(t0 + i as f64 * 0.01, *a))
            .collect();
        let mut cur = BlockSums::default();
        let mut last = t0 - 0.01;
        if !g.is_primed() {
            g.prime(to_f32(&samples[0]));
        }
        let mut out = Vec::new();
        for block in samples.chunks(len as usize) {
            assert!(g.fill(
                path(len),
                block,
                &mut cur,
                &mut last,
                &mut FillBuffer::default()
            ));
            if cur.n == len {
                out.push(std::mem::take(&mut cur));
            }
        }
        out
    }

    fn total(v: [f64; 3]) -> f64 {
        v.iter().sum()
    }

    #[test]
    fn a_still_sensor_gives_zero_channels() {
        let mut g = Gravity::default();
        let bs = run(&mut g, 0.0, &vec![[0.1, -0.2, 0.97]; 500], 5);
        assert_eq!(bs.len(), 100);
        for b in &bs {
            assert_eq!(axes(b.sum_h2), [0.0; 3]);
            assert_eq!(axes(b.max_abs_d), [0.0; 3]);
            assert_eq!(
                total(b.sum_r2([0.1, -0.2, 0.97].map(|v: f64| f64::from(v as f32)))),
                0.0
            );
            assert!((b.mean_g_fast()[2] - 0.97).abs() < 1e-6);
        }
    }

    #[test]
    fn a_tilt_shows_on_the_rotation_channel_and_settles_to_the_chord() {
        // Rotate gravity by 2° about x and hold: g_fast converges to the new vector, so
        // r tends to the chord 2·sin(1°) = 0.034905 g while h decays to zero.
        let th = 2f64.to_radians();
        let mut xs = vec![[0.0, 0.0, 1.0]; 100];
        xs.extend(vec![[0.0, th.sin(), th.cos()]; 600]);
        let mut g = Gravity::default();
        let bs = run(&mut g, 0.0, &xs, 5);
        let last = bs.last().unwrap();
        let r = (total(last.sum_r2([0.0, 0.0, 1.0])) / 5.0).sqrt();
        let chord = 2.0 * (1f64.to_radians()).sin();
        assert!((r - chord).abs() < 1e-5, "{r} vs {chord}");
        assert!(total(axes(last.sum_h2)) < 1e-9);
    }

    #[test]
    fn the_rotation_sum_against_ref_equals_the_direct_sum() {
        // Oracle: Σ(g_fast − rest)² computed directly from a replayed filter, in f64.
        let xs: Vec<[f64; 3]> = (0..400)
            .map(|i| {
                let t = f64::from(i) * 0.01;
                [0.02 * (7.0 * t).sin(), 0.3 * (1.3 * t).sin(), 0.95]
            })
            .collect();
        let mut g = Gravity::default();
        let bs = run(&mut g, 0.0, &xs, 10);
        let a = f64::from(lp().alpha);
        let (mut y1, mut y2) = (xs[0], xs[0]);
        let rest = [0.01, 0.1, 0.96];
        for (k, b) in bs.iter().enumerate() {
            let mut direct = 0.0;
            for x in &xs[k * 10..k * 10 + 10] {
                for i in 0..3 {
                    y1[i] += a * (x[i] - y1[i]);
                    y2[i] += a * (y1[i] - y2[i]);
                    direct += (y2[i] - rest[i]).powi(2);
                }
            }
            let got = total(b.sum_r2(rest));
            // f32 filter state vs the f64 replay: ~1e-7 g per sample on values ~0.3 g
            assert!(
                (got - direct).abs() < 1e-6 * (1.0 + direct),
                "block {k}: {got} vs {direct}"
            );
        }
    }

    #[test]
    fn the_f32_block_figures_match_sums_taken_sample_by_sample_in_f64() {
        // Oracle: the filter replayed in f64, each block's sums taken sample by sample.
        let xs: Vec<[f64; 3]> = (0..600)
            .map(|i| {
                let t = f64::from(i) * 0.01;
                [
                    0.05 * (9.0 * t).sin(),
                    0.4 * (1.1 * t).sin(),
                    0.9 + 0.01 * (23.0 * t).cos(),
                ]
            })
            .collect();
        let mut g = Gravity::default();
        let bs = run(&mut g, 0.0, &xs, 5);
        let a = f64::from(lp().alpha);
        let (mut y1, mut y2) = (xs[0], xs[0]);
        let rest = [0.02, 0.1, 0.95];
        let k2 = [0.0, 1.1, 0.9, 1.0];
        for (k, b) in bs.iter().enumerate() {
            let (mut h2, mut r2) = (0.0, 0.0);
            let (mut s1, mut s2) = ([0.0; 3], [0.0; 3]);
            for x in &xs[k * 5..k * 5 + 5] {
                for i in 0..3 {
                    y1[i] += a * (x[i] - y1[i]);
                    y2[i] += a * (y1[i] - y2[i]);
                    let w = f64::from(k2[i + 1]);
                    h2 += w * (x[i] - y2[i]).powi(2) / 5.0;
                    r2 += w * (y2[i] - rest[i]).powi(2) / 5.0;
                    s1[i] += y2[i];
                    s2[i] += y2[i] * y2[i] + (x[i] - y2[i]).powi(2);
                }
            }
            // f32 filter state and sums against the f64 replay: a few 1e-7 g on values of
            // about 1 g, so relative errors of 1e-4 on the small linear channel
            let (e_h2, e_r2) = b.envelopes(k2, rest);
            assert!(
                (e_h2 - h2).abs() < 1e-4 * h2 + 1e-12,
                "block {k}: {e_h2} vs {h2}"
            );
            assert!(
                (e_r2 - r2).abs() < 1e-5 * r2 + 1e-12,
                "block {k}: {e_r2} vs {r2}"
            );
            let (g1, g2) = b.still_sums();
            let (g1, g2) = (axes(g1), axes(g2));
            for i in 0..3 {
                assert!((g1[i] - s1[i]).abs() < 1e-5, "block {k}: {g1:?} vs {s1:?}");
                assert!((g2[i] - s2[i]).abs() < 1e-5, "block {k}: {g2:?} vs {s2:?}");
            }
        }
    }

    #[test]
    fn an_impulse_shows_on_the_linear_channel_and_the_step_size() {
        let mut xs = vec![[0.0, 0.0, 1.0]; 100];
        xs[60] = [0.5, 0.0, 1.0];
        let mut g = Gravity::default();
        let bs = run(&mut g, 0.0, &xs, 10);
        let b = bs[6];
        // the step into and out of the impulse is 0.5 g between samples on x only
        assert_eq!(axes(b.max_abs_d)[0], 0.5);
        assert_eq!(axes(b.max_abs_d)[1], 0.0);
        // h at the impulse is 0.5·(1 − α)², nearly all of it
        let a = f64::from(lp().alpha);
        let h0 = 0.5 * (1.0 - a) * (1.0 - a);
        assert!(axes(b.sum_h2)[0] > h0 * h0);
        assert_eq!(axes(b.sum_h2)[1], 0.0);
        assert_eq!(axes(bs[5].sum_h2)[0], 0.0);
    }

    #[test]
    fn irregular_samples_stop_the_checked_loop_before_them() {
        let mut samples: Vec<Sample> = (0..20)
            .map(|i| Sample::new(f64::from(i) * 0.01, [0.0, 0.0, 1.0]))
            .collect();
        samples[7].acc_g[1] = f64::NAN;
        samples[12].t_s = samples[11].t_s;
        samples[15].t_s += 5.0;
        let mut g = Gravity::default();
        g.prime([0.0, 0.0, 1.0, 0.0]);
        let (mut cur, mut last) = (BlockSums::default(), -0.01);
        let mut blocks = 0;
        let mut run = |g: &mut Gravity, s: &[Sample], cur: &mut BlockSums, last: &mut f64| {
            let k = g.run_checked(path(5), s, cur, last);
            if cur.n == 5 {
                *cur = BlockSums::default();
                blocks += 1;
            }
            k
        };
        assert_eq!(run(&mut g, &samples, &mut cur, &mut last), 5);
        assert_eq!(run(&mut g, &samples[5..], &mut cur, &mut last), 2);
        assert_eq!(last, samples[6].t_s);
        samples[7].acc_g[1] = 0.0;
        assert_eq!(run(&mut g, &samples[7..], &mut cur, &mut last), 3);
        assert_eq!(run(&mut g, &samples[10..], &mut cur, &mut last), 2);
        samples[12].t_s = 0.125;
        assert_eq!(run(&mut g, &samples[12..], &mut cur, &mut last), 3);
        assert_eq!(cur.n, 0);
        assert_eq!(blocks, 3);
    }

    /// Seeded samples at 100 Hz: a slow sway of ±0.3 g with 5 mg noise.
    fn noisy(n: usize, seed: u64) -> Vec<Sample> {
        let mut x = seed | 1;
        let mut noise = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.01
        };
        (0..n)
            .map(|i| {
                let t = 1.7e9 + i as f64 * 0.01;
                let w = 0.3 * (i as f64 * 0.003).sin();
                Sample::new(t, [w + noise(), 0.2 + noise(), 0.9 + noise()])
            })
            .collect()
    }

    #[test]
    fn the_all_or_nothing_path_equals_the_checked_path_bit_for_bit() {
        // Oracle: the per-sample checked loop, one sample at a time.
        let samples = noisy(2003, 5);
        for len in [2u32, 5, 7] {
            let (mut g1, mut g2) = (Gravity::default(), Gravity::default());
            g1.prime(to_f32(&samples[0]));
            g2.prime(to_f32(&samples[0]));
            let (mut c1, mut c2) = (BlockSums::default(), BlockSums::default());
            let (mut l1, mut l2) = (samples[0].t_s - 0.01, samples[0].t_s - 0.01);
            // uneven pieces, never past a block's end
            let mut i = 0;
            let mut k = 0;
            while i < samples.len() {
                let room = (len - c1.n) as usize;
                let take = (1 + k % 4).min(room).min(samples.len() - i);
                assert!(g1.fill(
                    path(len),
                    &samples[i..i + take],
                    &mut c1,
                    &mut l1,
                    &mut FillBuffer::default()
                ));
                for s in &samples[i..i + take] {
                    assert_eq!(g2.run_checked(path(len), &[*s], &mut c2, &mut l2), 1);
                }
                assert_eq!(c1, c2, "len {len}, sample {i}");
                assert_eq!(g1, g2);
                assert_eq!(l1, l2);
                if c1.n == len {
                    c1 = BlockSums::default();
                    c2 = BlockSums::default();
                }
                i += take;
                k += 1;
            }
        }
    }

    #[test]
    fn the_all_or_nothing_path_refuses_a_block_with_any_irregular_sample() {
        type Spoil = fn(&mut Sample, f64);
        let spoil: [(&str, Spoil); 9] = [
            ("x NaN", |s, _| s.acc_g[0] = f64::NAN),
            ("z NaN", |s, _| s.acc_g[2] = f64::NAN),
            ("y +inf", |s, _| s.acc_g[1] = f64::INFINITY),
            ("x beyond 64 g", |s, _| s.acc_g[0] = 64.001),
            ("z huge", |s, _| s.acc_g[2] = -1e300),
            ("time NaN", |s, _| s.t_s = f64::NAN),
            ("time repeats", |s, prev| s.t_s = prev),
            ("time goes back", |s, prev| s.t_s = prev - 0.5),
            ("a gap", |s, _| s.t_s += 2.0),
        ];
        let good = noisy(8, 9);
        for (name, f) in spoil {
            for at in 0..8 {
                let mut s = good.clone();
                let prev = if at == 0 {
                    good[0].t_s - 0.01
                } else {
                    s[at - 1].t_s
                };
                f(&mut s[at], prev);
                if name == "a gap" {
                    for later in &mut s[at + 1..] {
                        later.t_s += 2.0;
                    }
                }
                let mut g = Gravity::default();
                g.prime(to_f32(&good[0]));
                let before = g;
                let mut cur = BlockSums::default();
                let mut last = good[0].t_s - 0.01;
                assert!(
                    !g.fill(path(8), &s, &mut cur, &mut last, &mut FillBuffer::default()),
                    "{name} at {at}"
                );
                assert_eq!(
                    (g, cur, last),
                    (before, BlockSums::default(), good[0].t_s - 0.01)
                );
                assert_eq!(
                    g.run_checked(path(8), &s, &mut cur, &mut last),
                    at,
                    "{name}"
                );
            }
        }
        // the edges of the range: 64 g is in, and so is what rounds to it in f32
        let mut s = good.clone();
        s[3].acc_g = [64.0, -64.0, 64.0 + 2f64.powi(-18)];
        let mut g = Gravity::default();
        g.prime(to_f32(&good[0]));
        let (mut cur, mut last) = (BlockSums::default(), good[0].t_s - 0.01);
        assert!(g.fill(path(8), &s, &mut cur, &mut last, &mut FillBuffer::default()));
        s[3].acc_g[2] = 64.0 + 2f64.powi(-17);
        let mut g = Gravity::default();
        g.prime(to_f32(&good[0]));
        let (mut cur, mut last) = (BlockSums::default(), good[0].t_s - 0.01);
        assert!(!g.fill(path(8), &s, &mut cur, &mut last, &mut FillBuffer::default()));
    }

    #[test]
    fn rotation_delay_matches_the_centroid_of_the_impulse_response() {
        // Centroid of a·(1−a)^n convolved with itself = 2(1−a)/a samples.
        let f = lp();
        let a = f64::from(f.alpha);
        let (mut y1, mut y2) = (0.0f32, 0.0f32);
        let (mut m0, mut m1) = (0.0, 0.0);
        for n in 0..5000 {
            let x = if n == 0 { 1.0 } else { 0.0 };
            let y = f64::from(f.step(&mut y2, f.step(&mut y1, x)));
            m0 += y;
            m1 += y * f64::from(n);
        }
        let want = 2.0 * (1.0 - a) / a;
        assert!((m1 / m0 - want).abs() < 1e-2, "{} vs {want}", m1 / m0);
        assert!((rotation_delay_s(f, 100.0) - want / 100.0).abs() < 1e-12);
    }
}
