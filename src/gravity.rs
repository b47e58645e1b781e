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
//! The per-sample loop ([`Gravity::run`]) only filters and sums, per axis, over blocks of a
//! fixed number of samples; it never reads anything the block stage computes, so it runs
//! through a whole chunk in registers. The rotation channel needs `g_rest`, which the block
//! stage owns: the loop sums `u = g_fast − ref` and `u²` against a reference `ref` fixed at
//! the block's start, and the block stage recovers `Σ (g_fast − g_rest)²` exactly as
//! `Σu² + 2 (ref − g_rest)·Σu + n·(ref − g_rest)²`, in f64.
//!
//! The path runs on uncalibrated values: it is linear up to the squares, so a per-axis affine
//! calibration `(a − o)·k` shifts `g_fast` and `g_rest` alike (offsets cancel in `h` and `r`)
//! and scales `h` and `r` by `k`, which the block stage applies to the per-axis sums.
//! Calibration can therefore change at any block without a transient.

use crate::filter::OnePole;
use crate::Sample;

/// Per-axis sums over one block of samples, in uncalibrated g (lane 3 unused, kept zero so
/// the arithmetic runs four lanes wide).
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
    pub(crate) fn mean_g_fast(&self) -> [f64; 3] {
        let n = f64::from(self.n.max(1));
        [0, 1, 2].map(|i| f64::from(self.ref_g[i]) + f64::from(self.sum_u[i]) / n)
    }

    /// `Σ (g_fast − rest)²` per axis, from the sums against `ref`.
    pub(crate) fn sum_r2(&self, rest: [f64; 3]) -> [f64; 3] {
        let n = f64::from(self.n);
        [0, 1, 2].map(|i| {
            let c = f64::from(self.ref_g[i]) - rest[i];
            (f64::from(self.sum_u2[i]) + 2.0 * c * f64::from(self.sum_u[i]) + n * c * c).max(0.0)
        })
    }
}

/// Completed blocks waiting for the block stage, in order; a fixed capacity.
#[derive(Clone, Debug)]
pub(crate) struct BlockQueue {
    blocks: Vec<BlockSums>,
}

/// Blocks the per-sample loop may complete before the block stage must run (12.8 s at 50 ms).
const QUEUE_CAPACITY: usize = 256;

impl BlockQueue {
    pub(crate) fn new() -> Self {
        BlockQueue {
            blocks: Vec::with_capacity(QUEUE_CAPACITY),
        }
    }

    /// A queue with no capacity, a placeholder while the real one is drained.
    pub(crate) fn new_empty() -> Self {
        BlockQueue { blocks: Vec::new() }
    }

    fn is_full(&self) -> bool {
        self.blocks.len() >= QUEUE_CAPACITY
    }

    /// Removes and returns the queued blocks, oldest first, keeping the capacity.
    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, BlockSums> {
        self.blocks.drain(..)
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

/// The sample's acceleration in f32, lane 3 zero.
#[inline(always)]
#[allow(clippy::cast_possible_truncation)]
// Values beyond f32 become ±inf, which the range check that follows rejects.
pub(crate) fn to_f32(s: &Sample) -> [f32; 4] {
    let [x, y, z] = s.acc_g;
    [x as f32, y as f32, z as f32, 0.0]
}

/// True when every lane is within ±64 g (so finite).
#[inline(always)]
pub(crate) fn in_range(a: [f32; 4]) -> bool {
    #[allow(clippy::cast_possible_truncation)] // 64 is exact in f32
    const MAX: f32 = crate::io::MAX_ABS_G as f32;
    a[0].abs() <= MAX && a[1].abs() <= MAX && a[2].abs() <= MAX
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

    /// Runs consecutive samples through the path into blocks of `block_len` samples: `cur` is
    /// the block being filled, completed ones go to `queue`. Stops before the first sample
    /// that is not regular (out of range, not finite, not later than the last, or after a
    /// gap of more than `gap_min_s`) or when the queue is full; returns how many it took.
    #[inline]
    #[allow(clippy::needless_range_loop)] // one index over several lane arrays reads best
    pub(crate) fn run(
        &mut self,
        path: PathPlan,
        samples: &[Sample],
        cur: &mut BlockSums,
        queue: &mut BlockQueue,
        last_t_s: &mut f64,
    ) -> usize {
        let PathPlan {
            lp,
            block_len,
            gap_min_s,
        } = path;
        let alpha = lp.alpha;
        let (mut y1, mut y2, mut prev) = (self.y1, self.y2, self.prev);
        let mut b = *cur;
        if b.n == 0 {
            b.ref_g = y2;
        }
        let mut last = *last_t_s;
        let mut taken = 0usize;
        if queue.is_full() {
            return 0;
        }
        for s in samples {
            let a = to_f32(s);
            let dt = s.t_s - last;
            if !(in_range(a) && dt > 0.0 && dt <= gap_min_s) {
                break;
            }
            for i in 0..4 {
                y1[i] += alpha * (a[i] - y1[i]);
                y2[i] += alpha * (y1[i] - y2[i]);
                let h = a[i] - y2[i];
                let u = y2[i] - b.ref_g[i];
                b.sum_h2[i] += h * h;
                b.sum_u[i] += u;
                b.sum_u2[i] += u * u;
                let d = (a[i] - prev[i]).abs();
                // `if` rather than `f32::max`: no NaN can reach here, and this compiles to
                // one vector max instead of a NaN-aware blend.
                b.max_abs_d[i] = if d > b.max_abs_d[i] {
                    d
                } else {
                    b.max_abs_d[i]
                };
            }
            prev = a;
            if b.n == 0 {
                b.t_first_s = s.t_s;
            }
            b.n += 1;
            last = s.t_s;
            taken += 1;
            if b.n == block_len {
                b.t_last_s = last;
                b.g_fast = y2;
                queue.blocks.push(b);
                b = BlockSums {
                    ref_g: y2,
                    ..BlockSums::default()
                };
                if queue.is_full() {
                    break;
                }
            }
        }
        b.t_last_s = last;
        b.g_fast = y2;
        *cur = b;
        (self.y1, self.y2, self.prev) = (y1, y2, prev);
        *last_t_s = last;
        taken
    }

    /// Runs one sample that the caller has accepted (the first, or the first after a gap).
    #[allow(clippy::needless_range_loop)] // one index over several lane arrays reads best
    pub(crate) fn run_one(&mut self, lp: OnePole, a: [f32; 4], t_s: f64, cur: &mut BlockSums) {
        if cur.n == 0 {
            cur.ref_g = self.y2;
            cur.t_first_s = t_s;
        }
        for i in 0..4 {
            let y1 = lp.step(&mut self.y1[i], a[i]);
            let y2 = lp.step(&mut self.y2[i], y1);
            let h = a[i] - y2;
            let u = y2 - cur.ref_g[i];
            cur.sum_h2[i] += h * h;
            cur.sum_u[i] += u;
            cur.sum_u2[i] += u * u;
            cur.max_abs_d[i] = cur.max_abs_d[i].max((a[i] - self.prev[i]).abs());
        }
        self.prev = a;
        cur.n += 1;
        cur.t_last_s = t_s;
        cur.g_fast = self.y2;
    }
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

    /// Runs `xs` (at 100 Hz from t = 0) in blocks of `len`; returns the completed blocks.
    fn run(g: &mut Gravity, t0: f64, xs: &[[f64; 3]], len: u32) -> Vec<BlockSums> {
        let samples: Vec<Sample> = xs
            .iter()
            .enumerate()
            .map(|(i, a)| Sample::new(t0 + i as f64 * 0.01, *a))
            .collect();
        let mut cur = BlockSums::default();
        let mut q = BlockQueue::new();
        let mut last = t0 - 0.01;
        if !g.is_primed() {
            g.prime(to_f32(&samples[0]));
        }
        let mut out = Vec::new();
        let mut rest = &samples[..];
        while !rest.is_empty() {
            let k = g.run(path(len), rest, &mut cur, &mut q, &mut last);
            out.extend(q.drain());
            rest = &rest[k..];
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
            assert_eq!(b.sum_h2, [0.0; 4]);
            assert_eq!(b.max_abs_d, [0.0; 4]);
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
        assert!(last.sum_h2.iter().sum::<f32>() < 1e-9);
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
    fn an_impulse_shows_on_the_linear_channel_and_the_step_size() {
        let mut xs = vec![[0.0, 0.0, 1.0]; 100];
        xs[60] = [0.5, 0.0, 1.0];
        let mut g = Gravity::default();
        let bs = run(&mut g, 0.0, &xs, 10);
        let b = bs[6];
        // the step into and out of the impulse is 0.5 g between samples on x only
        assert_eq!(b.max_abs_d[0], 0.5);
        assert_eq!(b.max_abs_d[1], 0.0);
        // h at the impulse is 0.5·(1 − α)², nearly all of it
        let a = f64::from(lp().alpha);
        let h0 = 0.5 * (1.0 - a) * (1.0 - a);
        assert!(f64::from(b.sum_h2[0]) > h0 * h0);
        assert_eq!(b.sum_h2[1], 0.0);
        assert_eq!(bs[5].sum_h2[0], 0.0);
    }

    #[test]
    fn irregular_samples_stop_the_loop_before_them() {
        let mut samples: Vec<Sample> = (0..20)
            .map(|i| Sample::new(f64::from(i) * 0.01, [0.0, 0.0, 1.0]))
            .collect();
        samples[7].acc_g[1] = f64::NAN;
        samples[12].t_s = samples[11].t_s;
        samples[15].t_s += 5.0;
        let mut g = Gravity::default();
        g.prime([0.0, 0.0, 1.0, 0.0]);
        let (mut cur, mut q, mut last) = (BlockSums::default(), BlockQueue::new(), -0.01);
        assert_eq!(g.run(path(5), &samples, &mut cur, &mut q, &mut last), 7);
        assert_eq!(last, samples[6].t_s);
        samples[7].acc_g[1] = 0.0;
        assert_eq!(
            g.run(path(5), &samples[7..], &mut cur, &mut q, &mut last),
            5
        );
        samples[12].t_s = 0.125;
        assert_eq!(
            g.run(path(5), &samples[12..], &mut cur, &mut q, &mut last),
            3
        );
        assert_eq!(cur.n, 0);
        assert_eq!(q.drain().count(), 3);
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
