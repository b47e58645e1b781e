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
//! The same steps also smooth the blocks' squared linear envelope, with the same time
//! constant, against a floor of its own: a faint movement that barely tilts the sensor
//! still shakes it, and a rise of the acceleration's RMS by half for a second stands out of
//! a second's worth of samples where each block sees noise
//! ([`slow_linear_on_factor`](crate::config::SegmentConfig::slow_linear_on_factor), 1.6,
//! and its offset factor, 1.2). A step at or above either channel's offset threshold opens
//! or extends a run; reaching the linear onset threshold confirms it and counts as the
//! blocks' stir. A step held up by the energy alone is timed by the energy's own lag (half
//! a step: the linear envelope does not wait for the gravity estimate), and it moves the
//! run's end only if its own, unsmoothed energy reached the onset threshold, as the
//! smoothed energy lingers after the motion.
//!
//! The channel only looks where the segmenter sees nothing. While a movement of the block
//! envelopes is open or closing (or after a gap, or before the floors are warm) the slow
//! channel drops what it holds (the block envelopes measure it better) and its floor
//! stands still; for [`HOLD_S`] after the segmenter lets go, while the limb and the
//! smoothing settle, its rest follows the orientation exactly and no run starts. Then the
//! rest follows as the segmenter's does (time constant `signal.baseline_tau_s`), except
//! during a run. Times are corrected for the channel's lag.
//!
//! A run ends three ways besides the merge gap's quiet. A limb that moves a little and stays
//! there holds the distance above the threshold: once the orientation has stood still for
//! [`settle_s`](crate::config::SegmentConfig::settle_s) the movement ends where the motion
//! did, and the rest takes the new orientation (as the segmenter settles a posture). A run
//! whose motion goes on for longer than `settle_s` is a drift of the orientation, not a leg
//! movement: it is dropped and the rest takes the orientation reached. A gap or the end of
//! the stream ends a run as it stands. A run that settles but began within `settle_s` of a
//! drift, or of the segmenter letting go, is the drift's end or the limb settling, and is
//! dropped. On a coarse sensor whose noise is small next to its steps the thresholds stand
//! at least two quantisation steps above the floor (see [`SlowChannel::MARGIN_STEPS`]); as
//! the noise grows towards half a step it dithers the steps away, and so do the margins.
//!
//! Movements reach the core's sink in order of onset, the segmenter's and this channel's
//! together: a finished movement waits while the segmenter's rising run began before it.
//! If that run becomes a movement the movement takes the slow one in (the block envelopes
//! measure it better); if it dies away, the slow one goes out (see [`SlowChannel::release`]).

use crate::calibrate::{Calibrator, Correction};
use crate::config::{steps, Config};
use crate::envelope::{NoiseFloor, Quantum, Thresholds};
use crate::filter::OnePole;
use crate::gravity::{axes, BlockSums};
use crate::movement::jerk_g_per_s;
use crate::segment::{angle_deg, chord_to_deg, norm, Ending, Movement, Segmenter};

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
    /// Lag of a crossing of the linear energy: half a step. The blocks' linear envelope does
    /// not wait for the gravity estimate, and a movement's energy, several times the
    /// floor's, crosses the offset threshold within a step or so of the smoothing, well
    /// before its mean lag (with which onsets came up to 0.75 s early).
    lin_delay_s: f64,
    merge_gap_s: f64,
    /// Stillness that settles a run on a new orientation, and the longest motion that may
    /// be a leg movement.
    settle_s: f64,
    /// Steps whose values make one floor value.
    floor_steps: u32,
    /// Floor values needed before the channel may start a movement.
    floor_warmup: usize,
    /// Sample rate, in Hz: turns a block's largest sample-to-sample change into g/s.
    sample_rate_hz: f64,
    /// Onset and offset factors of the linear energy over its floor; `None` when the
    /// channel watches orientation alone.
    linear: Option<(f64, f64)>,
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
        let lin_delay_s = 0.5 * step_s;
        Some(SlowPlan {
            blocks,
            step_s,
            smooth,
            rest: OnePole::from_time_constant(config.signal.baseline_tau_s, 1.0 / step_s),
            delay_s: rotation_delay_s + lin_delay_s + (1.0 - a) / a * step_s,
            lin_delay_s,
            merge_gap_s: config.segment.merge_gap_s,
            settle_s: config.segment.settle_s,
            floor_steps: steps(floor_step_s, step_s),
            floor_warmup,
            sample_rate_hz,
            linear: (config.segment.slow_linear_on_factor > 0.0).then_some((
                config.segment.slow_linear_on_factor,
                config.segment.slow_linear_off_factor,
            )),
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
    /// Squared linear-channel envelope of the block (of a step: its largest), in g².
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
    /// The orientation when the limb last moved (by more than the onset threshold from the
    /// one before), and the end of that step, lag corrected.
    anchor: [f32; 4],
    last_motion_s: f64,
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
    /// The blocks' squared linear envelope, a step's mean smoothed as the orientation is,
    /// in g²; its floor (an RMS, in g), the floor step's sum, and its thresholds (`None`
    /// until the floor is warm, or when the plan leaves it out; squared offset infinite).
    lin2: f64,
    lin_floor: NoiseFloor,
    step_lin2: f64,
    lin_off2: f64,
    lin_thresholds: Option<Thresholds>,
    run: Option<Run>,
    /// When the orientation was last known to be on the move without a leg movement (lag
    /// corrected): a run was dropped as a drift, or the hold after the segmenter let go
    /// ended. A run that begins within `settle_s` of it and settles is the drift's end or
    /// the limb settling, not a movement.
    unsettled_s: f64,
    /// The step being gathered: blocks and samples so far, the sum of the gravity estimate
    /// over them, the largest sample-to-sample change per lane, and what the segmenter said
    /// (free throughout, stirred at all, the largest linear envelope).
    acc_n: u32,
    acc_samples: u32,
    acc_g: [f32; 4],
    acc_d: [f32; 4],
    acc_e_h2: f64,
    acc_seg: SegmenterSays,
    /// A finished movement waiting for the segmenter's rising run that began before it.
    waiting: Option<Movement>,
    /// Earliest onset a run opened by the step being gathered (or the last one) can have.
    gather_from_s: f64,
    /// Earliest onset of a movement not yet delivered: the open run's, or `gather_from_s`.
    pending_s: f64,
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
            lin2: 0.0,
            lin_floor: NoiseFloor::new(capacity, quantile),
            step_lin2: 0.0,
            lin_off2: f64::INFINITY,
            lin_thresholds: None,
            run: None,
            unsettled_s: f64::NEG_INFINITY,
            acc_n: 0,
            acc_samples: 0,
            acc_g: [0.0; 4],
            acc_d: [0.0; 4],
            acc_e_h2: 0.0,
            acc_seg: SegmenterSays::GATHER,
            waiting: None,
            gather_from_s: f64::NEG_INFINITY,
            pending_s: f64::NEG_INFINITY,
        }
    }

    /// Earliest onset of a movement not yet delivered: a waiting movement's, an open
    /// run's, or the earliest a run opened by the step being gathered could have.
    pub(crate) fn pending_onset_s(&self) -> f64 {
        match &self.waiting {
            Some(w) if w.onset_s < self.pending_s => w.onset_s,
            _ => self.pending_s,
        }
    }

    /// A gap or the end of the stream: a run ends as it stands (unless the segmenter took
    /// the limb over during the step being gathered), the smoothing restarts. Returns the
    /// movement that ends; the caller passes it through [`SlowChannel::release`].
    pub(crate) fn cut(&mut self, corr: &Correction) -> Option<Movement> {
        let run = self.run.take().filter(|_| self.acc_seg.free);
        self.primed = false;
        self.resting = false;
        self.acc_n = 0;
        self.acc_samples = 0;
        self.acc_g = [0.0; 4];
        self.acc_d = [0.0; 4];
        self.acc_e_h2 = 0.0;
        self.acc_seg = SegmenterSays::GATHER;
        run.and_then(|r| self.finish(r, Ending::Cut, corr))
    }

    /// Takes the movement the channel has just finished, if any, and returns the one to
    /// deliver now, if any, once the segmenter has stepped: a movement waits while the
    /// segmenter is rising since before its onset, is taken in by the movement that run
    /// becomes (the run went on through the slow movement, so the segmenter's movement
    /// spans it), and goes out when the run dies away. Two slow movements inside one rising
    /// run are one.
    #[inline(always)]
    pub(crate) fn release(&mut self, done: Option<Movement>, seg: &Segmenter) -> Option<Movement> {
        if done.is_none() && self.waiting.is_none() {
            return None;
        }
        self.release_waiting(done, seg)
    }

    #[inline(never)]
    fn release_waiting(&mut self, done: Option<Movement>, seg: &Segmenter) -> Option<Movement> {
        let w = match (self.waiting.take(), done) {
            (Some(w), Some(m)) => joined(&w, &m),
            (w, m) => w.or(m)?,
        };
        match seg.pending_onset_s() {
            Some(p) if p < w.onset_s => {
                if !seg.holds_movement() {
                    self.waiting = Some(w);
                }
                None
            }
            _ => Some(w),
        }
    }

    /// Takes one block of the signal path; once a step's blocks are in, advances by the
    /// step. `quantum` is the core's view of the sensor's steps (see
    /// [`SlowChannel::MARGIN_STEPS`]). Returns a movement that became final.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // one index over several lane arrays reads best
    pub(crate) fn step(
        &mut self,
        plan: &SlowPlan,
        config: &Config,
        b: &BlockSums,
        calib: &Calibrator,
        seg: SegmenterSays,
        quantum: &Quantum,
    ) -> Option<Movement> {
        // Σ g_fast over the block's samples, from the sums against its reference.
        let n = b.n as f32;
        let mut acc = self.acc_g;
        for i in 0..4 {
            acc[i] += n * b.ref_g[i] + b.sum_u[i];
        }
        self.acc_g = acc;
        // Branch-free maxima: which block of a step is largest is noise, and a mispredicted
        // branch costs more than the select.
        let mut d = self.acc_d;
        for i in 0..4 {
            d[i] = d[i].max(b.max_abs_d[i]);
        }
        self.acc_d = d;
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
        s.e_h2 = s.e_h2.max(seg.e_h2);
        self.acc_e_h2 += seg.e_h2;
        if self.acc_n < plan.blocks {
            return None;
        }
        self.advance(plan, config, b, calib, quantum)
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
        quantum: &Quantum,
    ) -> Option<Movement> {
        let inv_n = 1.0 / self.acc_samples.max(1) as f32;
        let seg = self.acc_seg;
        let max_d = self.acc_d;
        let t_first_s = self.gather_from_s + plan.delay_s;
        let mut g = self.g;
        let a = if self.primed { plan.smooth.alpha } else { 1.0 };
        for i in 0..4 {
            g[i] += a * (self.acc_g[i] * inv_n - g[i]);
        }
        self.g = g;
        let e_h2 = self.acc_e_h2 / f64::from(self.acc_n);
        self.lin2 += f64::from(a) * (e_h2 - self.lin2);
        self.primed = true;
        self.acc_n = 0;
        self.acc_samples = 0;
        self.acc_g = [0.0; 4];
        self.acc_d = [0.0; 4];
        self.acc_e_h2 = 0.0;
        self.acc_seg = SegmenterSays::GATHER;
        if !seg.free || !self.resting || b.t_last_s < self.quiet_until_s {
            return self.hold(plan, b.t_last_s, seg.free);
        }
        let r2 = dist2(g, self.rest, calib.gain2());
        self.step_r2 += f64::from(r2);
        self.step_lin2 += self.lin2;
        self.step_blocks += 1;
        if self.step_blocks == plan.floor_steps {
            self.close_floor_step(plan, config, quantum.step_g());
        }
        let out = if self.run.is_some() || r2 >= self.off2 || self.lin2 >= self.lin_off2 {
            let times = (t_first_s, b.t_last_s);
            self.run_step(plan, times, (f64::from(r2), e_h2), calib, seg, max_d)
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
    fn hold(&mut self, plan: &SlowPlan, t_s: f64, free: bool) -> Option<Movement> {
        self.run = None;
        if !free {
            self.resting = false;
            return None;
        }
        if !self.resting {
            self.resting = true;
            self.quiet_until_s = t_s + HOLD_S;
            self.unsettled_s = self.quiet_until_s - plan.delay_s;
        }
        // Just let go: the rest takes the orientation as it comes to a stop.
        self.rest = self.g;
        None
    }

    /// The thresholds' least margins above the floor in quantisation steps, to start and to
    /// go on (besides the segmenter's margins in g). A still limb near the edge between two
    /// steps reads as one or the other, and as its true value drifts by a fraction of a step
    /// the smoothed mean wanders by up to a step: on a quiet sensor that is well above the
    /// floor, and not a movement. They shrink as the noise dithers the steps
    /// ([`undithered_share`]).
    const MARGIN_STEPS: (f64, f64) = (2.0, 1.0);

    #[inline(never)]
    fn close_floor_step(&mut self, plan: &SlowPlan, config: &Config, step_g: f64) {
        let blocks = f64::from(self.step_blocks);
        self.floor.push((self.step_r2 / blocks).sqrt());
        self.step_r2 = 0.0;
        if plan.linear.is_some() {
            self.lin_floor.push((self.step_lin2 / blocks).sqrt());
        }
        self.step_lin2 = 0.0;
        self.step_blocks = 0;
        let warm = |f: &NoiseFloor| f.value().filter(|_| f.len() >= plan.floor_warmup);
        let lin_floor_g = plan.linear.and(warm(&self.lin_floor));
        let step_g = step_g * undithered_share(step_g, lin_floor_g);
        self.thresholds = warm(&self.floor)
            .map(|f| Thresholds::for_segment(f, &config.segment, step_g, Self::MARGIN_STEPS));
        #[allow(clippy::cast_possible_truncation)] // a threshold in g: f32 holds it
        let off2 = self
            .thresholds
            .map_or(f32::INFINITY, |t| (t.off_g * t.off_g) as f32);
        self.off2 = off2;
        if let Some(factors) = plan.linear {
            self.lin_thresholds = lin_floor_g.map(|f| {
                Thresholds::with_margins(f, factors, &config.segment, step_g, Self::MARGIN_STEPS)
            });
            self.lin_off2 = self
                .lin_thresholds
                .map_or(f64::INFINITY, |t| t.off_g * t.off_g);
        }
    }

    /// A step from `t_first_s` to `t_last_s` that opens, extends or closes a run: `r2` is
    /// its squared distance from rest, `mean_e_h2` the mean of its blocks' squared linear
    /// envelope (unsmoothed), `max_abs_d` its largest sample-to-sample change per lane.
    fn run_step(
        &mut self,
        plan: &SlowPlan,
        (t_first_s, t_last_s): (f64, f64),
        (r2, mean_e_h2): (f64, f64),
        calib: &Calibrator,
        seg: SegmenterSays,
        max_abs_d: [f32; 4],
    ) -> Option<Movement> {
        let th = self.thresholds?;
        let corr = calib.correction();
        let r = r2.sqrt();
        // The linear energy's score (its RMS over the onset threshold), and whether it is at
        // or above its offset threshold.
        let lin = self.lin2.sqrt();
        let (lin_score, lin_off, raw_on) = self.lin_thresholds.map_or((0.0, false, false), |t| {
            (lin / t.on_g, lin >= t.off_g, mean_e_h2 >= t.on_g * t.on_g)
        });
        let score = (r / th.on_g).max(lin_score);
        // A step above threshold on the linear energy alone is timed by that energy's lag.
        let delay_s = if r < th.off_g && lin_off {
            plan.lin_delay_s
        } else {
            plan.delay_s
        };
        let (start_s, end_s) = (t_first_s - delay_s, t_last_s - delay_s);
        let e_h_g = seg.e_h2.sqrt();
        let m_here = (seg.e_h2 + r2).sqrt();
        let jerk = jerk_g_per_s(max_abs_d, corr, plan.sample_rate_hz);
        let Some(run) = &mut self.run else {
            if r < th.off_g && !lin_off {
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
                    peak_score: score,
                    n_bursts: 1,
                    active_s: end_s - start_s,
                    rest_before: rest,
                    rest_after: rest,
                    ending: Ending::Quiet,
                    ..Movement::default()
                },
                confirmed: r >= th.on_g || lin_score >= 1.0,
                // Energy that rose this far is the stir the blocks could not show.
                stirred: seg.stirred || lin_score >= 1.0,
                sum_m: m_here,
                n_m: 1,
                quiet_since_s: None,
                anchor: self.g,
                last_motion_s: end_s,
            });
            return None;
        };
        if f64::from(dist2(self.g, run.anchor, calib.gain2())) > th.on_g * th.on_g {
            run.anchor = self.g;
            run.last_motion_s = end_s;
        } else if lin_off {
            run.last_motion_s = end_s;
        }
        if r >= th.off_g || lin_off {
            let m = &mut run.m;
            // The smoothed energy lingers after the motion: a step held up by it alone ends
            // the movement only if its own energy reached the onset threshold. An
            // orientation step after one timed by the energy's shorter lag may end earlier
            // than it did.
            if r >= th.off_g || raw_on {
                m.offset_s = m.offset_s.max(end_s);
            }
            m.peak_g = m.peak_g.max(m_here);
            m.peak_h_g = m.peak_h_g.max(e_h_g);
            m.peak_r_g = m.peak_r_g.max(r);
            m.peak_jerk_g_per_s = m.peak_jerk_g_per_s.max(jerk);
            m.peak_score = m.peak_score.max(score);
            m.active_s += t_last_s - t_first_s;
            run.confirmed |= r >= th.on_g || lin_score >= 1.0;
            run.stirred |= seg.stirred || lin_score >= 1.0;
            run.sum_m += m_here;
            run.n_m += 1;
            run.quiet_since_s = None;
        } else {
            let since = *run.quiet_since_s.get_or_insert(t_first_s);
            if t_last_s - since >= plan.merge_gap_s {
                let done = *run;
                self.run = None;
                return self.finish(done, Ending::Quiet, corr);
            }
        }
        if end_s - run.last_motion_s >= plan.settle_s {
            // Still, away from rest: the limb moved and stays; the rest takes where it is.
            let mut done = *run;
            done.m.offset_s = done.last_motion_s;
            done.m.active_s = done.m.active_s.min(done.last_motion_s - done.m.onset_s);
            self.run = None;
            self.rest = self.g;
            if done.m.onset_s - self.unsettled_s < plan.settle_s {
                return None;
            }
            return self.finish(done, Ending::Settled, corr);
        }
        if run.last_motion_s - run.m.onset_s > plan.settle_s {
            // A drift, not a leg movement: the rest takes the orientation reached.
            self.run = None;
            self.rest = self.g;
            self.unsettled_s = end_s;
        }
        None
    }

    /// The movement a run that ends makes, if it reached the onset threshold and a block
    /// envelope stirred during it; the orientation after it is the current one.
    fn finish(&self, done: Run, ending: Ending, corr: &Correction) -> Option<Movement> {
        (done.confirmed && done.stirred).then(|| {
            let mut m = done.m;
            m.mean_g = done.sum_m / f64::from(done.n_m);
            m.rest_after = corr.apply(axes(self.g));
            m.angle_deg = angle_deg(m.rest_before, m.rest_after);
            m.peak_tilt_deg = chord_to_deg(m.peak_r_g, norm(m.rest_before));
            m.ending = ending;
            m
        })
    }
}

/// How much of a sensor's quantisation step of `step_g` still shows in the channel's
/// averages, from 1 (all of it) to 0, given the floor of its linear energy `lin_floor_g`
/// (an RMS over the three axes; `None` while unknown, which counts as all).
///
/// Averaging recovers values between the steps only as far as the noise spreads the readings
/// over neighbouring steps. With Gaussian noise of σ per axis the mean reading misses the
/// true value by a ripple of about step/π · exp(−2π²σ²/step²): a few percent of a step at
/// σ = 0.3 step, 1.3 % at 0.4 and 0.2 % at 0.5, where the noise dithers the steps away. σ is
/// the floor's per-axis RMS less the share quantisation itself adds (step²/12). So a quiet
/// coarse sensor (2–4 mg of noise on 15.6 mg steps) keeps the margins of
/// [`SlowChannel::MARGIN_STEPS`] in full, and a noisy one (10 mg) none: there a margin of
/// two steps, 31 mg, would keep the thresholds far above any wander and blind the channel
/// to the movements it is for.
fn undithered_share(step_g: f64, lin_floor_g: Option<f64>) -> f64 {
    const FULL_BELOW: f64 = 0.4;
    const NONE_FROM: f64 = 0.5;
    match lin_floor_g {
        Some(floor_g) if step_g > 0.0 => {
            let sigma2 = floor_g * floor_g / 3.0 - step_g * step_g / 12.0;
            let ratio = sigma2.max(0.0).sqrt() / step_g;
            ((NONE_FROM - ratio) / (NONE_FROM - FULL_BELOW)).clamp(0.0, 1.0)
        }
        _ => 1.0,
    }
}

/// Squared calibrated distance between two orientations in the signal path's lanes, with
/// the calibration's squared gains `k2`, in g² (summed in pairs, as the lanes allow).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // one index over three lane arrays reads best
fn dist2(a: [f32; 4], b: [f32; 4], k2: [f32; 4]) -> f32 {
    let mut w = [0.0f32; 4];
    for i in 0..4 {
        let d = a[i] - b[i];
        w[i] = k2[i] * d * d;
    }
    (w[0] + w[1]) + (w[2] + w[3])
}

/// One movement from two found in turn inside one rising run of the segmenter.
fn joined(a: &Movement, b: &Movement) -> Movement {
    let (ta, tb) = (a.offset_s - a.onset_s, b.offset_s - b.onset_s);
    Movement {
        onset_s: a.onset_s,
        offset_s: b.offset_s,
        peak_g: a.peak_g.max(b.peak_g),
        mean_g: if ta + tb > 0.0 {
            (a.mean_g * ta + b.mean_g * tb) / (ta + tb)
        } else {
            0.5 * (a.mean_g + b.mean_g)
        },
        peak_h_g: a.peak_h_g.max(b.peak_h_g),
        peak_r_g: a.peak_r_g.max(b.peak_r_g),
        peak_jerk_g_per_s: a.peak_jerk_g_per_s.max(b.peak_jerk_g_per_s),
        angle_deg: angle_deg(a.rest_before, b.rest_after),
        peak_tilt_deg: a.peak_tilt_deg.max(b.peak_tilt_deg),
        peak_score: a.peak_score.max(b.peak_score),
        n_bursts: a.n_bursts + b.n_bursts,
        active_s: a.active_s + b.active_s,
        tail_s: b.tail_s,
        // The slow channel measures neither.
        centre: 0.0,
        wander: 0.0,
        rest_before: a.rest_before,
        rest_after: b.rest_after,
        ending: b.ending,
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
        span: (f64, f64),
        tilt_at: impl Fn(f64) -> f64,
        held: std::ops::Range<f64>,
    ) -> Vec<Movement> {
        run_says(ch, plan, span, tilt_at, |t| SegmenterSays {
            free: !held.contains(&t),
            stirred: true,
            e_h2: 1e-6,
        })
    }

    /// As [`run`], with what the segmenter says of each block from `says(t)`.
    fn run_says(
        ch: &mut SlowChannel,
        plan: &SlowPlan,
        (t0_s, secs): (f64, f64),
        tilt_at: impl Fn(f64) -> f64,
        says: impl Fn(f64) -> SegmenterSays,
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
            out.extend(ch.step(plan, &config, &b, &calib, says(t), &Quantum::UNSEEN));
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
    fn the_steps_show_through_averages_until_the_noise_reaches_half_a_step() {
        let step = 1.0 / 64.0;
        // The linear floor of a sensor with `noise` g per axis: an RMS over three axes,
        // the quantisation's own share included.
        let floor = |noise: f64| Some((3.0 * (noise * noise + step * step / 12.0)).sqrt());
        assert_eq!(undithered_share(step, floor(0.3 * step)), 1.0);
        assert_eq!(undithered_share(step, floor(0.4 * step)), 1.0);
        assert!((undithered_share(step, floor(0.45 * step)) - 0.5).abs() < 1e-9);
        assert_eq!(undithered_share(step, floor(0.5 * step)), 0.0);
        assert_eq!(undithered_share(step, floor(0.64 * step)), 0.0);
        // Unknown noise keeps the margins, and a sensor without steps has none to keep.
        assert_eq!(undithered_share(step, None), 1.0);
        assert_eq!(undithered_share(0.0, floor(0.001)), 1.0);
    }

    #[test]
    fn a_coarse_sensor_keeps_its_margins_when_quiet_and_drops_them_when_noisy() {
        let config = Config::default();
        let plan = plan(&config);
        // 10 bits over ±8 g: 15.6 mg a step.
        let step = 1.0 / 64.0;
        let thresholds = |noise: f64| {
            let mut ch = SlowChannel::new(120, 0.5);
            for _ in 0..8 {
                // The smoothed orientation 1 mg from rest, and the linear energy of the
                // noise with the quantisation's share.
                ch.step_r2 = 1e-6;
                ch.step_lin2 = 3.0 * (noise * noise + step * step / 12.0);
                ch.step_blocks = 1;
                ch.close_floor_step(&plan, &config, step);
            }
            let floor = |f: &NoiseFloor| f.value().unwrap();
            let (r, h) = (ch.thresholds.unwrap(), ch.lin_thresholds.unwrap());
            (r.on_g - floor(&ch.floor), h.on_g - floor(&ch.lin_floor))
        };
        // 3 mg of noise (a fifth of a step): the averages wander with the true value, and
        // the onset thresholds stand two steps above the floors.
        let (r, h) = thresholds(0.003);
        assert!(r >= 2.0 * step - 1e-9 && h >= 2.0 * step - 1e-9, "{r} {h}");
        // 10 mg (0.64 of a step): the noise dithers the steps, and only the factors and the
        // margins in g remain.
        let (r, h) = thresholds(0.010);
        assert!(r < 0.5 * step && h < step, "{r} {h}");
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

    #[test]
    fn the_times_are_corrected_for_the_channels_lag() {
        // A symmetric tilt crosses the thresholds at times symmetric about its middle: the
        // middle of the movement found is the tilt's, within three quarters of a step, once
        // the lag of the estimate, the step and the smoothing (0.6 s here) is taken off. (It
        // sits half a step early: onsets are taken at the start of the first step above.)
        let config = Config::default();
        let plan = plan(&config);
        assert!((plan.delay_s() - 0.607).abs() < 0.01, "{}", plan.delay_s());
        for dur in [1.0, 2.0, 3.0, 4.0] {
            let mut ch = SlowChannel::new(120, 0.5);
            let ms = run(
                &mut ch,
                &plan,
                (0.0, 200.0),
                |t| bump(t, 150.0, dur, 1.0),
                0.0..0.0,
            );
            assert_eq!(ms.len(), 1, "{dur} s: {ms:?}");
            let mid = 0.5 * (ms[0].onset_s + ms[0].offset_s);
            assert!((mid - (150.0 + dur / 2.0)).abs() < 0.15, "{dur} s: {ms:?}");
        }
    }

    #[test]
    fn faint_motion_that_raises_the_linear_energy_is_a_movement_without_a_tilt() {
        // The blocks' linear envelope wanders about 17 mg (a small sensor's noise); for 2 s
        // from 150 s its energy is three times that (an RMS 1.7 times), with no tilt and no
        // block above its offset threshold. A 0.1 s burst as strong at 100 s is a twitch.
        let base2 = 0.017f64.powi(2);
        let says = |t: f64| {
            let wander = 1.0 + 0.3 * (t * 2.7).sin() * (t * 0.37).cos();
            let boost = if (150.0..152.0).contains(&t) || (100.0..100.1).contains(&t) {
                3.0
            } else {
                1.0
            };
            SegmenterSays {
                free: true,
                stirred: false,
                e_h2: base2 * wander * boost,
            }
        };
        let on = plan(&Config::default());
        let mut ch = SlowChannel::new(120, 0.5);
        let ms = run_says(&mut ch, &on, (0.0, 200.0), |_| 0.0, says);
        assert_eq!(ms.len(), 1, "{ms:?}");
        let m = ms[0];
        // Timed by the energy's own lag: within the 0.5 s that scoring allows.
        assert!((149.5..150.5).contains(&m.onset_s), "{m:?}");
        assert!((151.5..152.5).contains(&m.offset_s), "{m:?}");
        assert!(m.angle_deg < 0.2, "{m:?}");
        // Orientation alone finds nothing there.
        let mut off = Config::default();
        off.segment.slow_linear_on_factor = 0.0;
        let mut ch = SlowChannel::new(120, 0.5);
        let ms = run_says(&mut ch, &plan(&off), (0.0, 200.0), |_| 0.0, says);
        assert!(ms.is_empty(), "{ms:?}");
    }

    #[test]
    fn a_run_no_block_envelope_stirred_is_not_a_movement() {
        // The slow wandering of a quiet sensor stirs nothing; a limb moving does.
        let config = Config::default();
        let plan = plan(&config);
        let tilt = |t: f64| bump(t, 150.0, 3.0, 1.0);
        let says = |stirred_from: f64| {
            move |t: f64| SegmenterSays {
                free: true,
                stirred: t >= stirred_from,
                e_h2: 1e-6,
            }
        };
        let mut ch = SlowChannel::new(120, 0.5);
        let calm = run_says(&mut ch, &plan, (0.0, 200.0), tilt, says(f64::INFINITY));
        assert!(calm.is_empty(), "{calm:?}");
        // One stirred block in the middle of the run is enough.
        let mut ch = SlowChannel::new(120, 0.5);
        let once = run_says(&mut ch, &plan, (0.0, 200.0), tilt, |t| SegmenterSays {
            stirred: (151.5..151.55).contains(&t),
            ..says(0.0)(t)
        });
        assert_eq!(once.len(), 1, "{once:?}");
    }

    #[test]
    fn no_run_starts_while_the_limb_settles_after_the_segmenters_movement() {
        // The segmenter lets go at 103 s; a tilt of 1° from 104 s is the limb settling, one
        // from 110 s is a movement of its own.
        let config = Config::default();
        let plan = plan(&config);
        for (at, found) in [(104.0, 0), (106.0, 0), (110.0, 1)] {
            let mut ch = SlowChannel::new(120, 0.5);
            let ms = run(
                &mut ch,
                &plan,
                (0.0, 200.0),
                |t| bump(t, at, 3.0, 1.0),
                100.0..103.0,
            );
            assert_eq!(ms.len(), found, "tilt at {at} s: {ms:?}");
        }
    }

    #[test]
    fn a_tilt_that_stays_settles_as_a_movement_on_a_new_rest() {
        // 1° over 2 s from 150 s, and the limb stays there: one movement, ended where the
        // motion did, reported once the orientation has held still for `settle_s`.
        let config = Config::default();
        let plan = plan(&config);
        let ramp = |t: f64, at: f64| ((t - at) / 2.0).clamp(0.0, 1.0);
        let mut ch = SlowChannel::new(120, 0.5);
        let ms = run(
            &mut ch,
            &plan,
            (0.0, 200.0),
            |t| ramp(t, 150.0) + bump(t, 180.0, 3.0, 1.0),
            0.0..0.0,
        );
        assert_eq!(ms.len(), 2, "{ms:?}");
        let m = ms[0];
        assert_eq!(m.ending, Ending::Settled, "{m:?}");
        assert!(m.onset_s > 149.5 && m.onset_s < 151.0, "{m:?}");
        assert!(m.offset_s > 151.5 && m.offset_s < 153.0, "{m:?}");
        assert!((m.angle_deg - 1.0).abs() < 0.25, "{m:?}");
        // and the tilt after it is measured from where the limb came to rest.
        assert_eq!(ms[1].ending, Ending::Quiet, "{:?}", ms[1]);
        assert!((ms[1].onset_s - 180.0).abs() < 1.0, "{:?}", ms[1]);
    }

    #[test]
    fn a_cut_ends_a_run_as_it_stands() {
        let config = Config::default();
        let plan = plan(&config);
        let calib = Calibrator::new(&config.calibration, BLOCK_S);
        let tilt = |t: f64| bump(t, 150.0, 3.0, 1.0);
        // The stream ends inside the tilt, or in the merge gap after it.
        for end_s in [152.0, 152.9, 153.2] {
            let mut ch = SlowChannel::new(120, 0.5);
            let before = run(&mut ch, &plan, (0.0, end_s), tilt, 0.0..0.0);
            assert!(before.is_empty(), "{before:?}");
            let m = ch.cut(calib.correction());
            let m = m.unwrap_or_else(|| panic!("ending at {end_s} s: nothing"));
            assert_eq!(m.ending, Ending::Cut);
            assert!(m.onset_s > 149.6 && m.onset_s < 150.8, "{m:?}");
            assert!(m.offset_s < end_s, "{m:?}");
        }
        // Nothing is left to end after it, and a run the segmenter took over in the step
        // being gathered is its.
        let mut ch = SlowChannel::new(120, 0.5);
        let before = run(&mut ch, &plan, (0.0, 152.0), tilt, 0.0..0.0);
        assert!(before.is_empty(), "{before:?}");
        let held = run(&mut ch, &plan, (152.0, 0.05), tilt, 0.0..200.0);
        assert!(held.is_empty(), "{held:?}");
        assert_eq!(ch.cut(calib.correction()), None);
    }

    /// A segmenter fed one block of envelope `e_h_g` (thresholds on 2 g, off 1 g) at `t_s`.
    fn segmenter_after(seg: &mut Segmenter, t_s: f64, e_h_g: f64) {
        let th = Thresholds {
            on_g: 2.0,
            off_g: 1.0,
        };
        let plan = crate::segment::SegmentPlan {
            merge_gap_s: 0.5,
            post_window_s: 1.0,
            settle_s: 12.0,
            rotation_delay_s: 0.0,
            wander_alpha: 0.15,
            return_hold_s: None,
        };
        let up = [0.0, 0.0, 1.0];
        seg.step(
            &plan,
            &crate::segment::BlockView {
                t_start_s: t_s,
                t_end_s: t_s + 0.04,
                e_h_g,
                e_r_g: 0.0,
                jerk_g_per_s: 0.0,
                g_fast: up,
                g_rest: up,
                th_h: th,
                th_r: th,
            },
        );
    }

    #[test]
    fn a_finished_movement_waits_for_the_segmenters_rising_run_before_it() {
        let found = |onset_s: f64, offset_s: f64| Movement {
            onset_s,
            offset_s,
            n_bursts: 1,
            ..Movement::default()
        };
        // Rising since 100 s; the slow channel finishes one movement at 100.5–102 s and
        // another at 103–104 s: they wait, as one.
        let mut seg = Segmenter::default();
        segmenter_after(&mut seg, 100.0, 1.5);
        let mut ch = SlowChannel::new(120, 0.5);
        ch.pending_s = 1000.0;
        assert_eq!(ch.release(Some(found(100.5, 102.0)), &seg), None);
        assert_eq!(ch.release(None, &seg), None);
        assert_eq!(ch.release(Some(found(103.0, 104.0)), &seg), None);
        assert_eq!(ch.pending_onset_s(), 100.5);
        // The run dies away: the movement goes out.
        segmenter_after(&mut seg, 104.5, 0.5);
        let m = ch.release(None, &seg).expect("released");
        assert_eq!((m.onset_s, m.offset_s, m.n_bursts), (100.5, 104.0, 2));
        assert_eq!(ch.release(None, &seg), None);
        // The run becomes a movement: it takes the slow one in.
        let mut seg = Segmenter::default();
        segmenter_after(&mut seg, 200.0, 1.5);
        assert_eq!(ch.release(Some(found(200.5, 202.0)), &seg), None);
        segmenter_after(&mut seg, 202.5, 3.0);
        assert_eq!(ch.release(None, &seg), None);
        assert!(ch.pending_onset_s() > 200.5);
        // A rising run that began after the movement holds nothing back.
        let mut seg = Segmenter::default();
        segmenter_after(&mut seg, 300.0, 1.5);
        assert_eq!(
            ch.release(Some(found(299.0, 299.8)), &seg),
            Some(found(299.0, 299.8))
        );
    }
}
