//! The slow orientation channel: leg movements too small for the block envelopes.
//!
//! A leg movement of a degree or two, at the noise of a small sensor (10 mg a sample), is
//! lost in the rotation channel: a 50 ms block averages two to ten samples of a gravity
//! estimate that still holds noise up to 2 Hz, and at 25 Hz its floor is twice what it is
//! at 100 Hz. The same estimate averaged over steps of about 0.2 s and smoothed with a time
//! constant of [`slow_tau_s`](crate::config::SegmentConfig::slow_tau_s) (0.6 s) holds a few
//! times less noise, while a leg movement of 0.5–10 s keeps most of its tilt. Its distance
//! from a resting orientation of its own is measured against a noise floor of its own, with
//! the segmenter's factors, and a run above the offset threshold that reaches the onset
//! threshold is a movement, if a block envelope rose above its own offset threshold during
//! it (a movement stirs the blocks a little even when they cannot find it; the slow
//! wandering of a quiet sensor does not).
//!
//! The channel only looks where the segmenter sees nothing. While a movement of the block
//! envelopes is open or closing (or after a gap, or before the floors are warm) the slow
//! channel drops what it holds (the block envelopes measure it better) and its floor
//! stands still; for [`HOLD_S`] after the segmenter lets go, while the limb and the
//! smoothing settle, its rest follows the orientation exactly and no run starts. Then the
//! rest follows as the segmenter's does (time constant `signal.baseline_tau_s`), except
//! during a run. Times are corrected for the channel's lag; a run longer than
//! [`settle_s`](crate::config::SegmentConfig::settle_s) is a drift of the orientation, not
//! a leg movement: it is dropped and the rest takes the orientation reached. On a coarse
//! sensor the thresholds stand at least two quantisation steps above the floor (see
//! [`SlowChannel::margins`]).

use crate::calibrate::{Calibrator, Correction};
use crate::config::{steps, Config};
use crate::envelope::{NoiseFloor, Thresholds};
use crate::filter::OnePole;
use crate::gravity::{axes, BlockSums};
use crate::movement::jerk_g_per_s;
use crate::segment::{angle_deg, chord_to_deg, norm, Ending, Movement};

/// Length of the channel's steps, in seconds: it takes blocks a few at a time, as its
/// smoothing needs no finer steps and each costs as much as a block of the segmenter.
const STEP_S: f64 = 0.2;

/// Time after the segmenter lets go in which no run starts and the rest follows the
/// orientation exactly, in seconds: the smoothing forgets what the segmenter held, and the
/// limb comes to rest. Several time constants of the smoothing, and short enough that a
/// movement the channel loses to it is one that follows the last by less than the 10 s that
/// the periodic-series rules ask between onsets.
const HOLD_S: f64 = 5.0;

/// What the slow channel needs from the plan of its core.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SlowPlan {
    /// Blocks a step takes, and its length in seconds.
    blocks: u32,
    step_s: f64,
    /// The smoothing section, one step a step.
    smooth: OnePole,
    /// The rest's section, one step a step.
    rest: OnePole,
    /// Lag of a crossing behind the motion: the gravity estimate's, half a step, and the
    /// smoothing's.
    delay_s: f64,
    merge_gap_s: f64,
    /// Longest run that may be a leg movement.
    max_run_s: f64,
    /// Steps whose values make one floor value.
    floor_steps: u32,
    /// Floor values needed before the channel may start a movement.
    floor_warmup: usize,
    /// Sample rate, in Hz: turns a block's largest sample-to-sample change into g/s.
    sample_rate_hz: f64,
}

impl SlowPlan {
    /// The plan for blocks of `block_s` seconds behind a gravity estimate that lags slow
    /// motion by `rotation_delay_s`, with a floor value every `floor_step_s` rounded to whole
    /// steps (at 100 Hz three steps, 0.6 s); `None` when the config turns the channel off.
    pub(crate) fn new(
        config: &Config,
        sample_rate_hz: f64,
        block_s: f64,
        rotation_delay_s: f64,
        (floor_step_s, floor_warmup): (f64, usize),
    ) -> Option<Self> {
        let tau_s = config.segment.slow_tau_s;
        if tau_s <= 0.0 {
            return None;
        }
        let blocks = steps(STEP_S, block_s);
        let step_s = f64::from(blocks) * block_s;
        let smooth = OnePole::from_time_constant(tau_s, 1.0 / step_s);
        let a = f64::from(smooth.alpha);
        Some(SlowPlan {
            blocks,
            step_s,
            smooth,
            rest: OnePole::from_time_constant(config.signal.baseline_tau_s, 1.0 / step_s),
            delay_s: rotation_delay_s + 0.5 * step_s + (1.0 - a) / a * step_s,
            merge_gap_s: config.segment.merge_gap_s,
            max_run_s: config.segment.settle_s,
            floor_steps: steps(floor_step_s, step_s),
            floor_warmup,
            sample_rate_hz,
        })
    }

    /// How far the channel's times lag the blocks', in seconds.
    pub(crate) fn delay_s(&self) -> f64 {
        self.delay_s
    }

    /// Length of a step, in seconds.
    pub(crate) fn step_s(&self) -> f64 {
        self.step_s
    }
}

/// What the segmenter says about a block (or a step), as the slow channel needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SegmenterSays {
    /// False while the segmenter holds a movement (open or closing), after a gap, or before
    /// the floors are warm.
    pub(crate) free: bool,
    /// A block envelope is above its offset threshold.
    pub(crate) stirred: bool,
    /// Squared linear-channel envelope of the block, in g².
    pub(crate) e_h2: f64,
}

impl SegmenterSays {
    /// The start of a step's gathering: free until a block says otherwise.
    const GATHER: SegmenterSays = SegmenterSays {
        free: true,
        stirred: false,
        e_h2: 0.0,
    };
}

/// A run above the offset threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Run {
    m: Movement,
    confirmed: bool,
    /// A block envelope rose above its offset threshold during the run.
    stirred: bool,
    sum_m: f64,
    n_m: u32,
    quiet_since_s: Option<f64>,
}

/// The slow channel's state. Orientations are uncalibrated, in the signal path's f32 lanes
/// as the block sums are: lane 0 follows the time through the same arithmetic and weighs
/// nothing in a distance (the calibration's squared gains are 0 there).
#[derive(Clone, Debug)]
pub(crate) struct SlowChannel {
    /// Smoothed gravity estimate; not `primed` until the first block after a start or a
    /// gap.
    g: [f32; 4],
    primed: bool,
    /// Resting orientation; not `resting` while the segmenter holds a movement.
    rest: [f32; 4],
    resting: bool,
    /// No run starts before this time: the smoothing still holds the tail of what the
    /// segmenter held.
    quiet_until_s: f64,
    floor: NoiseFloor,
    step_r2: f64,
    step_blocks: u32,
    /// Squares of the offset threshold, and the thresholds; `None` until the floor is warm.
    off2: f32,
    thresholds: Option<Thresholds>,
    run: Option<Run>,
    /// The step being gathered: blocks and samples so far, the sum of the gravity estimate
    /// over them, and what the segmenter said (free throughout, stirred at all).
    acc_n: u32,
    acc_samples: u32,
    acc_g: [f32; 4],
    acc_seg: SegmenterSays,
    /// Earliest onset a run opened by the step being gathered (or the last one) can have.
    gather_from_s: f64,
    /// Earliest onset of a movement not yet delivered: the open run's, or `gather_from_s`.
    pending_s: f64,
    /// Smallest non-zero largest sample-to-sample change of a step's last block seen on
    /// each axis, in g (lane 0 not read); on a coarse, quiet sensor the least of them is its
    /// quantisation step (see [`SlowChannel::margins`]).
    least_d: [f32; 4],
}

impl SlowChannel {
    pub(crate) fn new(capacity: usize, quantile: f64) -> Self {
        SlowChannel {
            g: [0.0; 4],
            primed: false,
            rest: [0.0; 4],
            resting: false,
            quiet_until_s: f64::NEG_INFINITY,
            floor: NoiseFloor::new(capacity, quantile),
            step_r2: 0.0,
            step_blocks: 0,
            off2: f32::INFINITY,
            thresholds: None,
            run: None,
            least_d: [f32::INFINITY; 4],
            acc_n: 0,
            acc_samples: 0,
            acc_g: [0.0; 4],
            acc_seg: SegmenterSays::GATHER,
            gather_from_s: f64::NEG_INFINITY,
            pending_s: f64::NEG_INFINITY,
        }
    }

    /// Earliest onset of a movement not yet delivered: an open run's, or the earliest a
    /// run opened by the step being gathered could have.
    pub(crate) fn pending_onset_s(&self) -> f64 {
        self.pending_s
    }

    /// A gap or the end of the stream: what is open is dropped, the smoothing restarts.
    pub(crate) fn cut(&mut self) {
        self.run = None;
        self.primed = false;
        self.resting = false;
        self.acc_n = 0;
        self.acc_samples = 0;
        self.acc_g = [0.0; 4];
        self.acc_seg = SegmenterSays::GATHER;
    }

    /// Takes one block of the signal path; once a step's blocks are in, advances by the
    /// step. Returns a movement that became final.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // one index over several lane arrays reads best
    pub(crate) fn step(
        &mut self,
        plan: &SlowPlan,
        config: &Config,
        b: &BlockSums,
        calib: &Calibrator,
        seg: SegmenterSays,
    ) -> Option<Movement> {
        // Σ g_fast over the block's samples, from the sums against its reference.
        let n = b.n as f32;
        let mut acc = self.acc_g;
        for i in 0..4 {
            acc[i] += n * b.ref_g[i] + b.sum_u[i];
        }
        self.acc_g = acc;
        self.acc_samples += b.n;
        if self.acc_n == 0 {
            self.gather_from_s = b.t_first_s - plan.delay_s;
            if self.run.is_none() {
                self.pending_s = self.gather_from_s;
            }
        }
        self.acc_n += 1;
        let s = &mut self.acc_seg;
        s.free &= seg.free;
        s.stirred |= seg.stirred;
        if self.acc_n < plan.blocks {
            return None;
        }
        // The last block's linear envelope stands for the step's.
        s.e_h2 = seg.e_h2;
        self.advance(plan, config, b, calib)
    }

    /// Advances by the step whose last block is `b`.
    #[inline(never)]
    #[allow(clippy::needless_range_loop)] // one index over several lane arrays reads best
    fn advance(
        &mut self,
        plan: &SlowPlan,
        config: &Config,
        b: &BlockSums,
        calib: &Calibrator,
    ) -> Option<Movement> {
        let inv_n = 1.0 / self.acc_samples.max(1) as f32;
        let seg = self.acc_seg;
        let t_first_s = self.gather_from_s + plan.delay_s;
        let mut g = self.g;
        let a = if self.primed { plan.smooth.alpha } else { 1.0 };
        for i in 0..4 {
            g[i] += a * (self.acc_g[i] * inv_n - g[i]);
        }
        self.g = g;
        self.primed = true;
        self.acc_n = 0;
        self.acc_samples = 0;
        self.acc_g = [0.0; 4];
        self.acc_seg = SegmenterSays::GATHER;
        if !seg.free || !self.resting || b.t_last_s < self.quiet_until_s {
            return self.hold(b.t_last_s, seg.free);
        }
        let (rest, k2) = (self.rest, calib.gain2());
        let mut w = [0.0f32; 4];
        for i in 0..4 {
            let d = g[i] - rest[i];
            w[i] = k2[i] * d * d;
        }
        let r2 = (w[0] + w[1]) + (w[2] + w[3]);
        // The last block's largest sample-to-sample changes stand for the step's.
        let max_d = b.max_abs_d;
        for (least, &d) in self.least_d.iter_mut().zip(&max_d) {
            if d > 0.0 && d < *least {
                *least = d;
            }
        }
        self.step_r2 += f64::from(r2);
        self.step_blocks += 1;
        if self.step_blocks == plan.floor_steps {
            self.close_floor_step(plan, config);
        }
        let out = if self.run.is_some() || r2 >= self.off2 {
            let times = (t_first_s, b.t_last_s);
            self.run_step(plan, times, f64::from(r2), calib.correction(), seg, max_d)
        } else {
            None
        };
        if self.run.is_none() {
            let a = plan.rest.alpha;
            let mut rest = self.rest;
            for i in 0..4 {
                rest[i] += a * (g[i] - rest[i]);
            }
            self.rest = rest;
        }
        out
    }

    /// A step in which no run may start: the segmenter holds a movement (`free` false),
    /// or it has just let go and the limb is settling.
    fn hold(&mut self, t_s: f64, free: bool) -> Option<Movement> {
        self.run = None;
        if !free {
            self.resting = false;
            return None;
        }
        if !self.resting {
            self.resting = true;
            self.quiet_until_s = t_s + HOLD_S;
        }
        // Just let go: the rest takes the orientation as it comes to a stop.
        self.rest = self.g;
        None
    }

    /// The thresholds' least margins above the floor, in g: the segmenter's, and on a
    /// coarse sensor (10 bits over ±8 g: 15.6 mg a step) at least two quantisation steps to
    /// start and one to go on. A still limb near the edge between two steps reads as one or
    /// the other, and as its true value drifts by a fraction of a step the smoothed mean
    /// wanders by up to a step: on a quiet sensor that is well above the floor, and not a
    /// movement.
    fn margins(&self, config: &Config) -> (f64, f64) {
        let sc = &config.segment;
        let [_, x, y, z] = self.least_d;
        let step_g = f64::from(x.min(y).min(z));
        (
            sc.min_on_margin_g.max(2.0 * step_g),
            sc.min_off_margin_g.max(step_g),
        )
    }

    #[inline(never)]
    fn close_floor_step(&mut self, plan: &SlowPlan, config: &Config) {
        self.floor
            .push((self.step_r2 / f64::from(self.step_blocks)).sqrt());
        self.step_r2 = 0.0;
        self.step_blocks = 0;
        let (on_margin_g, off_margin_g) = self.margins(config);
        let sc = &config.segment;
        self.thresholds = self
            .floor
            .value()
            .filter(|_| self.floor.len() >= plan.floor_warmup)
            .map(|f| Thresholds::over(f, sc.on_factor, sc.off_factor, on_margin_g, off_margin_g));
        #[allow(clippy::cast_possible_truncation)] // a threshold in g: f32 holds it
        let off2 = self
            .thresholds
            .map_or(f32::INFINITY, |t| (t.off_g * t.off_g) as f32);
        self.off2 = off2;
    }

    /// A step from `t_first_s` to `t_last_s` that opens, extends or closes a run;
    /// `max_abs_d` is its largest sample-to-sample change per lane.
    fn run_step(
        &mut self,
        plan: &SlowPlan,
        (t_first_s, t_last_s): (f64, f64),
        r2: f64,
        corr: &Correction,
        seg: SegmenterSays,
        max_abs_d: [f32; 4],
    ) -> Option<Movement> {
        let th = self.thresholds?;
        let r = r2.sqrt();
        let (start_s, end_s) = (t_first_s - plan.delay_s, t_last_s - plan.delay_s);
        let e_h_g = seg.e_h2.sqrt();
        let m_here = (seg.e_h2 + r2).sqrt();
        let jerk = jerk_g_per_s(max_abs_d, corr, plan.sample_rate_hz);
        let Some(run) = &mut self.run else {
            if r < th.off_g {
                return None;
            }
            let rest = corr.apply(axes(self.rest));
            self.run = Some(Run {
                m: Movement {
                    onset_s: start_s,
                    offset_s: end_s,
                    peak_g: m_here,
                    peak_h_g: e_h_g,
                    peak_r_g: r,
                    peak_jerk_g_per_s: jerk,
                    peak_score: r / th.on_g,
                    n_bursts: 1,
                    active_s: end_s - start_s,
                    rest_before: rest,
                    rest_after: rest,
                    ending: Ending::Quiet,
                    ..Movement::default()
                },
                confirmed: r >= th.on_g,
                stirred: seg.stirred,
                sum_m: m_here,
                n_m: 1,
                quiet_since_s: None,
            });
            return None;
        };
        if r >= th.off_g {
            let m = &mut run.m;
            m.offset_s = end_s;
            m.peak_g = m.peak_g.max(m_here);
            m.peak_h_g = m.peak_h_g.max(e_h_g);
            m.peak_r_g = m.peak_r_g.max(r);
            m.peak_jerk_g_per_s = m.peak_jerk_g_per_s.max(jerk);
            m.peak_score = m.peak_score.max(r / th.on_g);
            m.active_s += t_last_s - t_first_s;
            run.confirmed |= r >= th.on_g;
            run.stirred |= seg.stirred;
            run.sum_m += m_here;
            run.n_m += 1;
            run.quiet_since_s = None;
        } else {
            let since = *run.quiet_since_s.get_or_insert(t_first_s);
            if t_last_s - since >= plan.merge_gap_s {
                let done = *run;
                self.run = None;
                return (done.confirmed && done.stirred).then(|| {
                    let mut m = done.m;
                    m.mean_g = done.sum_m / f64::from(done.n_m);
                    m.rest_after = corr.apply(axes(self.g));
                    m.angle_deg = angle_deg(m.rest_before, m.rest_after);
                    m.peak_tilt_deg = chord_to_deg(m.peak_r_g, norm(m.rest_before));
                    m
                });
            }
        }
        if end_s - run.m.onset_s > plan.max_run_s {
            // A drift, not a leg movement: the rest takes the orientation reached.
            self.run = None;
            self.rest = self.g;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 100.0;
    const BLOCK_S: f64 = 0.05;

    /// A block of five samples at `t_s` holding the orientation `g` (uncalibrated, in g),
    /// with a sample-to-sample change of 1 mg.
    #[allow(clippy::cast_possible_truncation)]
    fn block(t_s: f64, g: [f64; 3]) -> BlockSums {
        let lanes = [0.0, g[0] as f32, g[1] as f32, g[2] as f32];
        BlockSums {
            n: 5,
            t_first_s: t_s,
            t_last_s: t_s + 0.04,
            ref_g: lanes,
            g_fast: lanes,
            max_abs_d: [0.0, 0.001, 0.001, 0.001],
            ..BlockSums::default()
        }
    }

    /// Gravity tilted by `deg` about the x axis.
    fn tilted(deg: f64) -> [f64; 3] {
        let th = deg.to_radians();
        [0.0, th.sin(), th.cos()]
    }

    /// Runs the channel over `secs` of blocks from `t0_s`; `tilt_at(t)` gives the tilt, and
    /// the segmenter holds a movement over `held` and is stirred throughout (its envelopes
    /// chatter on their offset thresholds, as a small sensor's do).
    fn run(
        ch: &mut SlowChannel,
        plan: &SlowPlan,
        (t0_s, secs): (f64, f64),
        tilt_at: impl Fn(f64) -> f64,
        held: std::ops::Range<f64>,
    ) -> Vec<Movement> {
        let config = Config::default();
        let calib = Calibrator::new(&config.calibration, BLOCK_S);
        let mut out = Vec::new();
        let n = (secs / BLOCK_S).round() as usize;
        for k in 0..n {
            let t = t0_s + k as f64 * BLOCK_S;
            // A wobble of a few tenths of a milli-g gives the floor something to measure.
            let wobble = 0.02 * (t * 1.3).sin() + 0.015 * (t * 3.1).cos();
            let b = block(t, tilted(tilt_at(t) + wobble));
            let seg = SegmenterSays {
                free: !held.contains(&t),
                stirred: true,
                e_h2: 1e-6,
            };
            out.extend(ch.step(plan, &config, &b, &calib, seg));
        }
        out
    }

    /// The blocks above carry no gravity-filter lag: none to correct.
    fn plan(config: &Config) -> SlowPlan {
        SlowPlan::new(config, RATE, BLOCK_S, 0.0, (0.5, 4)).unwrap()
    }

    /// A raised-cosine tilt of `deg` over `[at, at + dur)`.
    fn bump(t: f64, at: f64, dur: f64, deg: f64) -> f64 {
        if (at..at + dur).contains(&t) {
            deg * (std::f64::consts::PI * (t - at) / dur).sin()
        } else {
            0.0
        }
    }

    #[test]
    fn a_faint_tilt_is_one_movement_with_its_times() {
        let config = Config::default();
        let plan = plan(&config);
        let mut ch = SlowChannel::new(120, 0.5);
        let ms = run(
            &mut ch,
            &plan,
            (0.0, 200.0),
            |t| bump(t, 150.0, 3.0, 1.0),
            0.0..0.0,
        );
        assert_eq!(ms.len(), 1, "{ms:?}");
        let m = ms[0];
        assert!(m.onset_s > 149.6 && m.onset_s < 150.8, "{m:?}");
        assert!(m.offset_s > 152.2 && m.offset_s < 153.3, "{m:?}");
        assert!(m.angle_deg < 0.2, "{m:?}");
        // Off in the config: no plan.
        let mut off = Config::default();
        off.segment.slow_tau_s = 0.0;
        assert!(SlowPlan::new(&off, RATE, BLOCK_S, 0.15, (0.5, 4)).is_none());
    }

    #[test]
    fn what_the_segmenter_held_is_not_found_again_as_the_limb_settles() {
        // A 20° movement over 2 s that the segmenter holds from 150 s to 153 s, and the
        // limb's rebound of 1° after it, over 3 s: the slow channel says nothing of either.
        let tilt = |t: f64| bump(t, 150.0, 2.0, 20.0) - bump(t, 152.0, 3.0, 1.0);
        let config = Config::default();
        let plan = plan(&config);
        let mut ch = SlowChannel::new(120, 0.5);
        let ms = run(&mut ch, &plan, (0.0, 200.0), tilt, 150.0..153.0);
        assert!(ms.is_empty(), "{ms:?}");
        // A movement while the segmenter holds one is its, not the slow channel's.
        let mut ch = SlowChannel::new(120, 0.5);
        let held = run(
            &mut ch,
            &plan,
            (0.0, 200.0),
            |t| bump(t, 150.0, 3.0, 1.0),
            149.0..155.0,
        );
        assert!(held.is_empty(), "{held:?}");
    }

    #[test]
    fn a_drift_longer_than_a_leg_movement_is_not_one() {
        // The orientation creeps by 2° over 30 s: the run is dropped and the rest moves on.
        let creep = |t: f64| ((t - 100.0) / 30.0).clamp(0.0, 1.0) * 2.0;
        let config = Config::default();
        let plan = plan(&config);
        let mut ch = SlowChannel::new(120, 0.5);
        let ms = run(&mut ch, &plan, (0.0, 200.0), creep, 0.0..0.0);
        assert!(ms.is_empty(), "{ms:?}");
        // and a tilt after it is found against the new rest.
        let ms = run(
            &mut ch,
            &plan,
            (200.0, 60.0),
            |t| 2.0 + bump(t, 230.0, 3.0, 1.0),
            0.0..0.0,
        );
        assert_eq!(ms.len(), 1, "{ms:?}");
    }
}
