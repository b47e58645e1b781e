//! The per-site movement core: samples in, in chunks of any size; movements out.
//!
//! `MovementCore = Plan + State`. The plan is what validating a [`Config`] for a sample rate
//! produced (filter coefficients, block and window lengths in samples); it never changes. The
//! state is everything a stream changes, of a size fixed by the plan: `reset` replaces it
//! whole, so no field is forgotten.
//!
//! Per sample the core checks the sample and runs the signal path of [`crate::gravity`] into
//! blocks; once a block (50 ms) is full it updates the envelopes, the noise floors, the
//! calibration and the resting orientation, and steps the segmenter. Everything is counted in
//! samples and timed by the samples' own timestamps, so any chunking of the same samples gives
//! the same movements, bit for bit. Nothing is allocated after `new`.

use serde::{Deserialize, Serialize};

use crate::calibrate::{CalibrationReport, Calibrator, Correction};
use crate::config::{steps, Config, SegmentConfig, WEAK_FACTOR};
use crate::envelope::{NoiseFloor, Quantum, Thresholds};
use crate::filter::OnePole;
use crate::gravity::{
    axes, is_regular, rotation_delay_s, to_f32, BlockSums, FillBuffer, Gravity, PathPlan, FILL_MAX,
};
use crate::io::check::gap_threshold_s;
use crate::segment::{wander_alpha, BlockView, Movement, SegmentPlan, Segmenter};
use crate::slow::{self, SlowChannel, SlowPlan};
use crate::wear::{WearCheck, WearPlan};
use crate::{ConfigError, Error, ErrorKind, Gap, Position, Sample, Site};

/// What a core reports about its stream when it is finished.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteSummary {
    /// Samples processed.
    pub n_samples: u64,
    /// Time of the first sample, in seconds on the input's clock.
    pub start_s: Option<f64>,
    /// Time of the last sample, in seconds on the input's clock.
    pub end_s: Option<f64>,
    /// Sample rate the detector was built for, in Hz.
    pub sample_rate_hz: f64,
    /// Gaps found in the stream.
    pub n_gaps: u64,
    /// Total time inside gaps, in seconds.
    pub gap_time_s: f64,
    /// Movements found, of every class.
    pub n_movements: u64,
    /// Stretches that looked unworn (see [`crate::wear`]).
    #[serde(default)]
    pub n_unworn: u64,
    /// Total time of those stretches, in seconds.
    #[serde(default)]
    pub unworn_s: f64,
    /// The calibration reached.
    pub calibration: CalibrationReport,
}

impl SiteSummary {
    fn add_unworn(&mut self, start_s: f64, end_s: f64) {
        self.n_unworn += 1;
        self.unworn_s += end_s - start_s;
    }
}

/// Receives what a core finds: movements once final, gaps, and the progress of time.
pub(crate) trait CoreSink {
    /// A final movement; movements arrive in order of onset.
    fn movement(&mut self, m: Movement);
    /// A gap in the input.
    fn gap(&mut self, gap: Gap);
    /// A block ended at `t_s`; every movement with an onset before `watermark_s` has been
    /// delivered.
    fn progress(&mut self, t_s: f64, watermark_s: f64);
    /// A stretch that looked unworn, final (see [`crate::wear`]).
    fn unworn(&mut self, _start_s: f64, _end_s: f64) {}
}

/// Everything derived from the config for one sample rate; never changes during a run.
#[derive(Clone, Debug)]
struct Plan {
    config: Config,
    sample_rate_hz: f64,
    lp: OnePole,
    rest: OnePole,
    block_len: u32,
    block_s: f64,
    gap_min_s: f64,
    floor_step_blocks: u32,
    floor_capacity: usize,
    floor_warmup: usize,
    max_freeze_blocks: u32,
    /// Weight of one floor step in the running share of weak frozen time (step / window).
    weak_share_step: f64,
    /// Blocks after a gap in which no movement starts (see `SegmentConfig::after_gap_s`).
    after_gap_blocks: u32,
    seg: SegmentPlan,
    /// The non-wear rule, observed once a floor step.
    wear: WearPlan,
    /// The slow orientation channel; `None` when it is off (a wrist, or the config).
    slow: Option<SlowPlan>,
    /// How far the watermark trails the last block: the larger lag of the two channels.
    watermark_lag_s: f64,
    latency_s: f64,
}

/// Everything a stream changes; its size is fixed by the plan.
#[derive(Clone, Debug)]
struct State {
    n_samples: u64,
    first_t_s: Option<f64>,
    last_t_s: f64,
    gravity: Gravity,
    block: BlockSums,
    scratch: FillBuffer,
    rest: [f64; 3],
    /// The rest has been set (by the first block).
    rest_known: bool,
    /// The sensor's quantisation step, as far as the blocks show it.
    quantum: Quantum,
    floor_h: NoiseFloor,
    floor_r: NoiseFloor,
    step_h2: f64,
    step_r2: f64,
    step_blocks: u32,
    frozen_blocks: u32,
    /// Running share of recent blocks in which a weak movement held the floor frozen (see
    /// `FloorConfig::max_weak_frozen_share`), taken once a floor step.
    weak_frozen_share: f64,
    /// Blocks of the current floor step inside a weak movement.
    step_weak_blocks: u32,
    /// Thresholds over the current floors; recomputed when a floor changes.
    thresholds: Option<Limits>,
    /// Blocks left in the settling time after a gap.
    after_gap_blocks: u32,
    seg: Segmenter,
    slow: SlowChannel,
    calib: Calibrator,
    wear: WearCheck,
    summary: SiteSummary,
}

impl State {
    fn new(plan: &Plan) -> Self {
        State {
            n_samples: 0,
            first_t_s: None,
            last_t_s: f64::NEG_INFINITY,
            gravity: Gravity::default(),
            block: BlockSums::default(),
            scratch: FillBuffer::default(),
            rest: [0.0; 3],
            rest_known: false,
            quantum: Quantum::UNSEEN,
            floor_h: NoiseFloor::new(plan.floor_capacity, plan.config.floor.quantile),
            floor_r: NoiseFloor::new(plan.floor_capacity, plan.config.floor.quantile),
            step_h2: 0.0,
            step_r2: 0.0,
            step_blocks: 0,
            frozen_blocks: 0,
            weak_frozen_share: 0.0,
            step_weak_blocks: 0,
            thresholds: None,
            after_gap_blocks: 0,
            seg: Segmenter::default(),
            slow: SlowChannel::new(plan.floor_capacity, plan.config.floor.quantile),
            calib: Calibrator::new(&plan.config.calibration, plan.block_s),
            wear: WearCheck::new(&plan.wear),
            summary: SiteSummary {
                sample_rate_hz: plan.sample_rate_hz,
                ..SiteSummary::default()
            },
        }
    }
}

/// The movement detector of one sensor.
#[derive(Clone, Debug)]
pub(crate) struct MovementCore {
    plan: Plan,
    state: State,
}

impl MovementCore {
    /// A detector for a leg sensor's samples arriving at about `sample_rate_hz`.
    ///
    /// # Errors
    /// When a config field breaks its rule for this rate (see [`Config::validate`]).
    pub(crate) fn new(config: &Config, sample_rate_hz: f64) -> Result<Self, ConfigError> {
        Self::for_site(config, sample_rate_hz, Site::Ankle)
    }

    /// A detector for the samples of a sensor at `site`, arriving at about `sample_rate_hz`.
    ///
    /// The slow orientation channel (`src/slow.rs`) runs on leg sensors only: on a wrist
    /// resting on the chest it would follow the breaths.
    ///
    /// # Errors
    /// When a config field breaks its rule for this rate (see [`Config::validate`]).
    pub(crate) fn for_site(
        config: &Config,
        sample_rate_hz: f64,
        site: Site,
    ) -> Result<Self, ConfigError> {
        config.validate(sample_rate_hz)?;
        let lp = OnePole::new(
            "signal.gravity_cutoff_hz",
            config.signal.gravity_cutoff_hz,
            sample_rate_hz,
        )?;
        // At least two samples a block: one-sample "envelopes" at low rates are all chatter.
        let block_len = steps(config.signal.block_s, 1.0 / sample_rate_hz).max(2);
        let block_s = f64::from(block_len) / sample_rate_hz;
        let floor_step_blocks = steps(config.floor.step_s, block_s);
        let floor_step_s = f64::from(floor_step_blocks) * block_s;
        let floor_capacity = steps(config.floor.window_s, floor_step_s) as usize;
        let seg = SegmentPlan {
            merge_gap_s: config.segment.merge_gap_s,
            post_window_s: config.segment.post_window_s,
            settle_s: config.segment.settle_s,
            rotation_delay_s: rotation_delay_s(lp, sample_rate_hz),
            wander_alpha: wander_alpha(block_s),
            // Breathing takes a wrist out of every hold and back.
            return_hold_s: (site != Site::Wrist && config.segment.return_hold_s > 0.0)
                .then_some(config.segment.return_hold_s),
        };
        let floor_warmup = steps(2.0, floor_step_s) as usize;
        let slow = if site == Site::Wrist {
            None
        } else {
            SlowPlan::new(
                config,
                sample_rate_hz,
                block_s,
                seg.rotation_delay_s,
                (floor_step_s, floor_warmup),
            )
        };
        let watermark_lag_s = slow.map_or(seg.rotation_delay_s, |p| {
            p.delay_s().max(seg.rotation_delay_s)
        });
        let slow_step_s = slow.map_or(0.0, |p| p.step_s());
        let quiet_end = seg.merge_gap_s + seg.post_window_s;
        let latency_s = quiet_end.max(seg.settle_s) + 2.0 * block_s + watermark_lag_s + slow_step_s;
        let plan = Plan {
            config: config.clone(),
            sample_rate_hz,
            lp,
            rest: OnePole::from_time_constant(config.signal.baseline_tau_s, 1.0 / block_s),
            block_len,
            block_s,
            gap_min_s: gap_threshold_s(1.0 / sample_rate_hz),
            floor_step_blocks,
            floor_capacity,
            floor_warmup,
            max_freeze_blocks: steps(config.floor.max_freeze_s, block_s),
            weak_share_step: (floor_step_s / config.floor.window_s).min(1.0),
            after_gap_blocks: steps(config.segment.after_gap_s, block_s),
            wear: WearPlan::new(&config.wear, floor_step_s, 1.0 / sample_rate_hz),
            seg,
            slow,
            watermark_lag_s,
            latency_s,
        };
        Ok(MovementCore::from_plan(plan))
    }

    fn from_plan(plan: Plan) -> Self {
        let state = State::new(&plan);
        MovementCore { plan, state }
    }

    /// Upper bound on the time from an event's offset to its delivery, in seconds of input.
    ///
    /// An event is delivered while pushing the first sample later than its offset by this
    /// much (or at [`finish`](Self::finish), or at a gap).
    pub(crate) fn latency_s(&self) -> f64 {
        self.plan.latency_s
    }

    /// Forgets the stream: the next sample starts a new one.
    pub(crate) fn reset(&mut self) {
        self.state = State::new(&self.plan);
    }

    /// Takes the next samples and sends every event that becomes final to `sink`.
    ///
    /// Samples must have finite values within ±64 g and strictly increasing times; an
    /// interval longer than max(1 s, 5 sample intervals) is a gap: reported to the sink,
    /// never bridged.
    ///
    /// # Errors
    /// [`ErrorKind::Sample`] naming the sample's index in the stream when a sample is not
    /// finite, out of range or not later than the one before; the samples before it have
    /// been processed, and the stream may go on with later samples.
    pub(crate) fn push(
        &mut self,
        samples: &[Sample],
        sink: &mut impl CoreSink,
    ) -> Result<(), Error> {
        match samples {
            [one] => self.push_one(one, sink),
            _ => self.push_many(samples, sink),
        }
    }

    /// `push` of any number of samples but one.
    #[inline(never)]
    fn push_many(&mut self, samples: &[Sample], sink: &mut impl CoreSink) -> Result<(), Error> {
        let plan = &self.plan;
        let path = PathPlan {
            lp: plan.lp,
            block_len: plan.block_len,
            gap_min_s: plan.gap_min_s,
        };
        let mut rest = samples;
        while let Some(first) = rest.first() {
            let st = &mut self.state;
            if !st.gravity.is_primed() {
                // The first sample, or the first after a gap: the slow path, one sample.
                self.irregular(first, sink)?;
                self.take_one(first, sink);
                rest = rest.get(1..).unwrap_or(&[]);
                continue;
            }
            // Up to the end of the current block, all at once when every sample is regular.
            let room = ((path.block_len - st.block.n) as usize).min(FILL_MAX);
            let (head, tail) = rest.split_at(room.min(rest.len()));
            // A lone sample (pushed one at a time) is cheaper checked on its own.
            let taken = if head.len() > 1
                && st
                    .gravity
                    .fill(path, head, &mut st.block, &mut st.last_t_s, &mut st.scratch)
            {
                head.len()
            } else {
                st.gravity
                    .run_checked(path, head, &mut st.block, &mut st.last_t_s)
            };
            st.n_samples += taken as u64;
            if st.block.n == path.block_len {
                self.end_block(sink);
            }
            if taken == head.len() {
                rest = tail;
            } else if let Some(bad) = rest.get(taken) {
                // Not regular: a bad sample (an error) or a gap before it.
                self.irregular(bad, sink)?;
                self.take_one(bad, sink);
                rest = rest.get(taken + 1..).unwrap_or(&[]);
            }
        }
        Ok(())
    }

    /// `push` of a lone sample, as a live stream pushes them: the checks of `run_checked`,
    /// without the loop over a slice around them (nor its set-up: the two are apart).
    #[inline(never)]
    fn push_one(&mut self, s: &Sample, sink: &mut impl CoreSink) -> Result<(), Error> {
        let st = &self.state;
        let dt_s = s.t_s - st.last_t_s;
        let regular = st.gravity.is_primed() && is_regular(to_f32(s), dt_s, self.plan.gap_min_s);
        if !regular {
            self.irregular(s, sink)?;
        }
        self.take_one(s, sink);
        Ok(())
    }

    /// Processes one sample that `irregular` has accepted.
    fn take_one(&mut self, s: &Sample, sink: &mut impl CoreSink) {
        let st = &mut self.state;
        let a = to_f32(s);
        if !st.gravity.is_primed() {
            st.gravity.prime(a);
            // The stream's first sample gives the resting orientation a start; after a gap
            // the rest is kept, and settled when the gravity estimate has (see
            // `settle_after_gap`).
            if st.n_samples == 0 {
                st.rest = axes(a);
            }
        }
        st.gravity.run_one(self.plan.lp, a, s.t_s, &mut st.block);
        st.last_t_s = s.t_s;
        st.n_samples += 1;
        if st.block.n == self.plan.block_len {
            self.end_block(sink);
        }
    }

    /// Ends the stream: closes what is open, sends every pending event, returns the summary
    /// and resets the detector for a new stream.
    ///
    /// # Errors
    /// None today; the signature leaves room for stages that can fail at the end.
    pub(crate) fn finish(&mut self, sink: &mut impl CoreSink) -> Result<SiteSummary, Error> {
        if self.state.block.n > 0 {
            self.end_block(sink);
        }
        self.cut(sink);
        let st = &mut self.state;
        let mut summary = std::mem::take(&mut st.summary);
        summary.n_samples = st.n_samples;
        summary.start_s = st.first_t_s;
        summary.end_s = (st.n_samples > 0).then_some(st.last_t_s);
        summary.calibration = st.calib.report();
        summary.sample_rate_hz = self.plan.sample_rate_hz;
        self.reset();
        Ok(summary)
    }

    /// The slow path for a sample that is the first, follows a gap, or is invalid.
    #[cold]
    #[inline(never)]
    fn irregular(&mut self, s: &Sample, sink: &mut impl CoreSink) -> Result<(), Error> {
        let st = &mut self.state;
        let idx = st.n_samples;
        let bad = |reason: String| {
            Error::at(
                ErrorKind::Sample {
                    sample_idx: idx,
                    reason,
                },
                Position::sample(idx),
            )
        };
        for (v, axis) in s.acc_g.iter().zip(["x", "y", "z"]) {
            if !v.is_finite() {
                return Err(bad(format!("{axis} = {v} is not a finite acceleration")));
            }
            if v.abs() > crate::io::MAX_ABS_G {
                return Err(bad(format!(
                    "{axis} = {v} g is beyond ±{} g",
                    crate::io::MAX_ABS_G
                )));
            }
        }
        let t = s.t_s;
        if !t.is_finite() {
            return Err(bad(format!("time {t} is not finite")));
        }
        if st.n_samples == 0 {
            st.first_t_s = Some(t);
            st.seg.set_floor_time(t);
            return Ok(());
        }
        if t <= st.last_t_s {
            let verb = if t < st.last_t_s {
                "goes backwards"
            } else {
                "repeats"
            };
            return Err(bad(format!("time {verb}: {t} s follows {} s", st.last_t_s)));
        }
        // A gap: close the partial block and whatever is open, report, start afresh.
        let gap = Gap {
            start_s: st.last_t_s,
            duration_s: t - st.last_t_s,
        };
        if st.block.n > 0 {
            self.end_block(sink);
        }
        self.cut(sink);
        let st = &mut self.state;
        st.gravity.unprime();
        st.calib.break_window();
        st.after_gap_blocks = self.plan.after_gap_blocks;
        st.seg.set_floor_time(t);
        st.summary.n_gaps += 1;
        st.summary.gap_time_s += gap.duration_s;
        sink.gap(gap);
        Ok(())
    }

    /// Closes whatever movement is open, as at a gap or the end of the stream.
    fn cut(&mut self, sink: &mut impl CoreSink) {
        let g = self.calibrated_g_fast();
        let st = &mut self.state;
        let slow = st.slow.cut(st.calib.correction());
        let movement = st.seg.cut(g);
        let slow = st.slow.release(slow, &st.seg);
        let unworn = st.wear.cut();
        self.emit_in_order(movement, slow, sink);
        if let Some((start_s, end_s)) = unworn {
            self.state.summary.add_unworn(start_s, end_s);
            sink.unworn(start_s, end_s);
        }
    }

    fn calibrated_g_fast(&self) -> [f64; 3] {
        let g = self.state.gravity.g_fast();
        self.state.calib.correction().apply(axes(g))
    }

    /// Ends the current block (full, or cut short by a gap or the end): envelopes, floors,
    /// calibration, resting orientation, segmentation.
    ///
    /// Most blocks are quiet while nothing moves; those take the inline path here (sums,
    /// envelopes, the floor and calibration accumulators, the resting orientation), and
    /// everything rarer is out of line.
    #[inline(always)]
    fn end_block(&mut self, sink: &mut impl CoreSink) {
        let plan = &self.plan;
        let st = &mut self.state;
        // The block's fields stay as they are until the signal path starts the next one;
        // only its count is cleared, at the end.
        let (e_h2, e_r2) = st.block.envelopes(st.calib.gain2(), st.rest);

        // Floors: values enter once a step, except while a movement holds them frozen.
        st.step_h2 += e_h2;
        st.step_r2 += e_r2;
        st.step_blocks += 1;
        let active = st.seg.is_active();
        if active
            && st
                .thresholds
                .is_some_and(|l| e_h2 < l.weak_h2 && e_r2 < l.weak_r2)
        {
            st.step_weak_blocks += 1;
        }
        let frozen = active && st.frozen_blocks < plan.max_freeze_blocks;
        st.frozen_blocks = if active {
            st.frozen_blocks.saturating_add(1)
        } else {
            0
        };
        if st.step_blocks == plan.floor_step_blocks {
            if let Some((start_s, end_s)) = close_floor_step(plan, st, frozen) {
                sink.unworn(start_s, end_s);
            }
        }

        // A changed correction needs nothing redone: the signal path runs uncalibrated. The
        // block is still seen through the correction it started with.
        let recalibrated = if active {
            st.calib.break_window();
            false
        } else {
            let (sum_g, sum_g2) = st.block.still_sums();
            st.calib.push_block(st.block.n, sum_g, sum_g2)
        };

        let g_fast = axes(st.block.g_fast);
        // The movement that became final, and what the slow channel needs to know: may it
        // look (the segmenter holds nothing), and is a block envelope above its offset?
        let (movement, free, stirred) = match st.thresholds {
            Some(_) if st.after_gap_blocks > 0 => {
                settle_after_gap(plan, st, g_fast);
                (None, false, false)
            }
            Some(Limits {
                h: th_h,
                r: th_r,
                off_h2,
                off_r2,
                ..
            }) => {
                let quiet = e_h2 < off_h2 && e_r2 < off_r2;
                let movement = if quiet && st.seg.is_idle() {
                    None
                } else {
                    let corr = if recalibrated {
                        st.calib.previous_correction()
                    } else {
                        *st.calib.correction()
                    };
                    step_segmenter(plan, st, &corr, [e_h2, e_r2], g_fast, (th_h, th_r))
                };
                // The resting orientation follows slowly while nothing moves.
                if e_r2 < off_r2 && !st.seg.is_active() && !st.seg.is_rising() {
                    follow_rest(plan, &mut st.rest, g_fast);
                }
                (movement, !st.seg.holds_movement(), !quiet)
            }
            None => {
                // Warming up: no movement can start. The rest starts at the first block's
                // orientation and follows as it does when nothing moves, so that the rotation
                // floor learns the sensor's noise and not the zeros of a rest that is the
                // orientation itself.
                if st.rest_known {
                    follow_rest(plan, &mut st.rest, g_fast);
                } else {
                    st.rest = g_fast;
                    st.rest_known = true;
                }
                (None, false, false)
            }
        };
        let slow = match &plan.slow {
            Some(sp) => {
                let seg = slow::SegmenterSays {
                    free,
                    stirred,
                    e_h2,
                };
                let done = st
                    .slow
                    .step(sp, &plan.config, &st.block, &st.calib, seg, &st.quantum);
                st.slow.release(done, &st.seg)
            }
            None => None,
        };
        st.block.n = 0;
        let t_last_s = st.block.t_last_s;
        self.emit_in_order(movement, slow, sink);
        let st = &self.state;
        let t = t_last_s - self.plan.watermark_lag_s;
        // Times are finite here: plain comparisons, not `f64::min` and its NaN rule.
        let mut watermark = t;
        if let Some(onset) = st.seg.pending_onset_s() {
            if onset < watermark {
                watermark = onset;
            }
        }
        if self.plan.slow.is_some() && st.slow.pending_onset_s() < watermark {
            watermark = st.slow.pending_onset_s();
        }
        sink.progress(t_last_s, watermark);
    }

    /// Delivers the segmenter's movement and the slow channel's, either or both, earlier
    /// onset first.
    #[inline(always)]
    fn emit_in_order(
        &mut self,
        movement: Option<Movement>,
        mut slow: Option<Movement>,
        sink: &mut impl CoreSink,
    ) {
        if let Some(m) = movement {
            if let Some(s) = slow.take_if(|s| s.onset_s < m.onset_s) {
                self.emit(&s, sink);
            }
            self.emit(&m, sink);
        }
        if let Some(s) = slow {
            self.emit(&s, sink);
        }
    }

    #[inline(never)]
    fn emit(&mut self, m: &Movement, sink: &mut impl CoreSink) {
        self.state.summary.n_movements += 1;
        sink.movement(*m);
    }
}

/// One block's step of the resting orientation towards `g_fast` (time constant
/// `signal.baseline_tau_s`), as it follows while nothing moves.
#[inline(always)]
fn follow_rest(plan: &Plan, rest: &mut [f64; 3], g_fast: [f64; 3]) {
    for (r, g) in rest.iter_mut().zip(g_fast) {
        plan.rest.step_f64(r, g);
    }
}

/// One block of the settling time after a gap: no movement starts; at its end the resting
/// orientation takes the one found after the gap, unless the posture changed in the gap
/// (by at least `classify.posture_min_deg`), which the segmenter then reports as a movement.
#[cold]
#[inline(never)]
fn settle_after_gap(plan: &Plan, st: &mut State, g_fast: [f64; 3]) {
    st.after_gap_blocks -= 1;
    if st.after_gap_blocks == 0
        && crate::segment::angle_deg(st.rest, g_fast) < plan.config.classify.posture_min_deg
    {
        st.rest = g_fast;
    }
}

/// A block's peak rate of change of acceleration, in g/s, from its largest sample-to-sample
/// change per lane (uncalibrated), scaled by the calibration's mean gain.
pub(crate) fn jerk_g_per_s(max_abs_d: [f32; 4], corr: &Correction, sample_rate_hz: f64) -> f64 {
    let mean_k = (corr.gain[0] + corr.gain[1] + corr.gain[2]) / 3.0;
    norm32(max_abs_d) * mean_k * sample_rate_hz
}

/// Length of the axes of a signal-path value, in f64.
fn norm32(v: [f32; 4]) -> f64 {
    let [x, y, z] = axes(v);
    (x * x + y * y + z * z).sqrt()
}

/// A floor step is complete: its mean envelopes enter the floors unless frozen, and the
/// thresholds follow; the non-wear rule takes the step's gravity estimate (uncalibrated) and
/// linear energy.
/// Returns an unworn stretch that became final.
#[inline(never)]
fn close_floor_step(plan: &Plan, st: &mut State, frozen: bool) -> Option<(f64, f64)> {
    let m = f64::from(st.step_blocks);
    // As read, not calibrated: a correction that changed within a window would read as a
    // turn; gains within a few per cent of 1 hardly move the rule's 13 and 50 mg.
    let g = axes(st.block.g_fast);
    let unworn = st
        .wear
        .observe(&plan.wear, st.block.t_last_s, g, st.step_h2 / m);
    if let Some((start_s, end_s)) = unworn {
        st.summary.add_unworn(start_s, end_s);
    }
    let weak_share = f64::from(st.step_weak_blocks) / m;
    let share = st.weak_frozen_share + (weak_share - st.weak_frozen_share) * plan.weak_share_step;
    // A share under a millionth is none: it never decays into slow subnormal numbers.
    st.weak_frozen_share = if share < 1e-6 { 0.0 } else { share };
    st.step_weak_blocks = 0;
    // The step's last block stands for its blocks: the least change of a night's blocks
    // shows in a sample of them.
    st.quantum.observe(&st.block.max_abs_d);
    let frozen = frozen && st.weak_frozen_share <= plan.config.floor.max_weak_frozen_share;
    if !frozen {
        st.floor_h.push((st.step_h2 / m).sqrt());
        st.floor_r.push((st.step_r2 / m).sqrt());
        st.thresholds = thresholds(plan, &st.floor_h, &st.floor_r, &st.quantum);
    }
    st.step_h2 = 0.0;
    st.step_r2 = 0.0;
    st.step_blocks = 0;
    unworn
}

/// Steps the segmenter over a block that is not quiet, or while a movement is open, closing
/// or rising; returns the movement that became final, if any.
#[inline(never)]
fn step_segmenter(
    plan: &Plan,
    st: &mut State,
    corr: &Correction,
    [e_h2, e_r2]: [f64; 2],
    g_fast: [f64; 3],
    (th_h, th_r): (Thresholds, Thresholds),
) -> Option<Movement> {
    let b = &st.block;
    let view = BlockView {
        t_start_s: b.t_first_s,
        t_end_s: b.t_last_s,
        e_h_g: e_h2.sqrt(),
        e_r_g: e_r2.sqrt(),
        jerk_g_per_s: jerk_g_per_s(b.max_abs_d, corr, plan.sample_rate_hz),
        g_fast: corr.apply(g_fast),
        g_rest: corr.apply(st.rest),
        th_h,
        th_r,
    };
    let out = st.seg.step(&plan.seg, &view);
    if out.settle_rest {
        st.rest = g_fast;
    }
    out.movement
}

/// The thresholds of both channels, and the squares of their offset thresholds, taken once
/// when the floors change: every block's squared envelopes are compared with these squares
/// (is the block quiet?), so that check costs no square root and no multiplication.
#[derive(Clone, Copy, Debug)]
struct Limits {
    h: Thresholds,
    r: Thresholds,
    off_h2: f64,
    off_r2: f64,
    /// Squares of `WEAK_FACTOR` times the onset thresholds: below both, a block is weak.
    weak_h2: f64,
    weak_r2: f64,
}

/// The thresholds' least margins above the floors in quantisation steps, to start and to go
/// on (besides the config's margins in g). A still limb whose reading on one axis sits near
/// the edge between two steps flips between them: the linear channel sees each flip as a
/// step of one quantum, the rotation channel a tilt of up to one quantum from rest. When the
/// flips are too rare to lift the floors (a median) they would each start a movement, and a
/// posture that leaves an axis near an edge would chatter until the next one: a flip does
/// not reach a whole step above the floor, nor stays half a step above it. Only a sensor
/// quiet for its steps needs them: where the noise flips the axes in most blocks the floors
/// follow the flips, and the averages resolve less than a step; the margins scale with
/// [`Quantum::quietness`]. (1.5 and 0.75 steps cost more small movements on the
/// benchmarks' 10-bit nights.)
const QUANTUM_MARGIN_STEPS: (f64, f64) = (1.0, 0.5);

/// A channel's thresholds over its floor, with the margins of a sensor whose steps
/// `quantum` shows (the margins found once for both channels).
fn over_floor<'a>(sc: &'a SegmentConfig, quantum: &Quantum) -> impl Fn(f64) -> Thresholds + 'a {
    let step_g = quantum.step_g() * quantum.quietness();
    move |floor_g| Thresholds::for_segment(floor_g, sc, step_g, QUANTUM_MARGIN_STEPS)
}

/// Thresholds over the floors, once the floors have warmed up, for a sensor whose steps
/// `quantum` shows.
fn thresholds(plan: &Plan, h: &NoiseFloor, r: &NoiseFloor, quantum: &Quantum) -> Option<Limits> {
    if h.len() < plan.floor_warmup {
        return None;
    }
    let th = over_floor(&plan.config.segment, quantum);
    let (h, r) = (th(h.value()?), th(r.value()?));
    let weak = |t: Thresholds| (WEAK_FACTOR * t.on_g).powi(2);
    Some(Limits {
        h,
        r,
        off_h2: h.off_g * h.off_g,
        off_r2: r.off_g * r.off_g,
        weak_h2: weak(h),
        weak_r2: weak(r),
    })
}

#[cfg(test)]
mod golden;

pub mod stages;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec {
        movements: Vec<Movement>,
        gaps: Vec<Gap>,
        last_watermark: f64,
    }

    impl CoreSink for Rec {
        fn movement(&mut self, m: Movement) {
            assert!(
                m.onset_s >= self.last_watermark,
                "movement at {} after watermark {}",
                m.onset_s,
                self.last_watermark
            );
            if let Some(last) = self.movements.last() {
                assert!(m.onset_s >= last.onset_s, "{m:?} after {last:?}");
            }
            self.movements.push(m);
        }
        fn gap(&mut self, gap: Gap) {
            self.gaps.push(gap);
        }
        fn progress(&mut self, _t_s: f64, watermark_s: f64) {
            self.last_watermark = self.last_watermark.max(watermark_s);
        }
    }

    fn still(t0: f64, secs: f64, rate: f64, g: [f64; 3]) -> Vec<Sample> {
        let n = (secs * rate).round() as usize;
        (0..n)
            .map(|i| Sample::new(t0 + i as f64 / rate, g))
            .collect()
    }

    /// Seeded uniform noise of ±2 mg (xorshift).
    fn noise(seed: u64) -> impl FnMut() -> f64 {
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.004
        }
    }

    /// A quiet night with small seeded noise, and one tilt of `deg` lasting `dur` s at `at` s.
    fn night(rate: f64, secs: f64, at: f64, dur: f64, deg: f64) -> Vec<Sample> {
        let mut noise = noise(12345);
        let n = (secs * rate).round() as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / rate;
                let th = if (at..at + dur).contains(&t) {
                    deg.to_radians() * (std::f64::consts::PI * (t - at) / dur).sin()
                } else {
                    0.0
                };
                Sample::new(t, [noise(), th.sin() + noise(), th.cos() + noise()])
            })
            .collect()
    }

    fn run(d: &mut MovementCore, s: &[Sample], chunk: usize) -> Vec<Movement> {
        let mut out = Rec::default();
        for c in s.chunks(chunk.max(1)) {
            d.push(c, &mut out).unwrap();
        }
        d.finish(&mut out).unwrap();
        out.movements
    }

    fn core(rate: f64) -> MovementCore {
        MovementCore::new(&Config::default(), rate).unwrap()
    }

    /// 18 min of a wrist at 50 Hz: 3 min still, then a breathing rotation of ±0.8° every
    /// 4 s, growing to full size over 3 min; seconds of the last 10 min inside movements.
    fn breathing_wrist_moving_s(config: &Config) -> f64 {
        let rate = 50.0;
        let mut noise = noise(4242);
        let s: Vec<Sample> = (0..(1080.0 * rate) as usize)
            .map(|i| {
                let t = i as f64 / rate;
                let grown = ((t - 180.0) / 180.0).clamp(0.0, 1.0);
                let th = (0.8 * grown * (std::f64::consts::TAU * t / 4.0).sin()).to_radians();
                Sample::new(t, [noise(), th.sin() + noise(), th.cos() + noise()])
            })
            .collect();
        let mut d = MovementCore::new(config, rate).unwrap();
        run(&mut d, &s, 4096)
            .iter()
            .map(|m| (m.offset_s.min(1080.0) - m.onset_s.max(480.0)).max(0.0))
            .sum()
    }

    #[test]
    fn breathing_just_above_the_floor_does_not_lock_it_low() {
        let guarded = breathing_wrist_moving_s(&Config::default());
        assert!(guarded < 60.0, "{guarded} s of 600 inside movements");
        // Frozen during every breath's movement, the floor learns only the troughs between
        // them: most of the time is "movement".
        let mut unguarded = Config::default();
        unguarded.floor.max_weak_frozen_share = 1.0;
        let locked = breathing_wrist_moving_s(&unguarded);
        assert!(locked > 300.0, "{locked} s of 600 inside movements");
    }

    /// `secs` of a sensor held at `deg` of tilt from t0 on, with ±2 mg of noise.
    fn held(t0: f64, secs: f64, rate: f64, deg: f64) -> Vec<Sample> {
        let mut noise = noise(0x9E37_79B9 ^ deg.to_bits() ^ t0.to_bits());
        let th = deg.to_radians();
        (0..(secs * rate).round() as usize)
            .map(|i| {
                let t = t0 + i as f64 / rate;
                Sample::new(t, [noise(), th.sin() + noise(), th.cos() + noise()])
            })
            .collect()
    }

    #[test]
    fn a_sensor_that_moved_a_little_during_a_gap_starts_no_movement() {
        // The gravity estimate restarts after a gap and the sensor sits 2° away from where
        // it rested (drift, or the strap settling while the logger was idle): neither is
        // a movement.
        for rate in [25.0, 100.0] {
            let mut s = held(0.0, 300.0, rate, 0.0);
            s.extend(held(400.0, 300.0, rate, 2.0));
            let ms = run(&mut core(rate), &s, 1000);
            assert!(ms.is_empty(), "{rate} Hz: {ms:?}");
        }
    }

    #[test]
    fn a_posture_changed_during_a_gap_is_reported_after_it() {
        for rate in [25.0, 100.0] {
            let mut s = held(0.0, 300.0, rate, 0.0);
            s.extend(held(400.0, 300.0, rate, 60.0));
            let ms = run(&mut core(rate), &s, 1000);
            assert_eq!(ms.len(), 1, "{rate} Hz: {ms:?}");
            let m = ms[0];
            assert!((m.angle_deg - 60.0).abs() < 1.0, "{rate} Hz: {m:?}");
            assert_eq!(
                m.ending,
                crate::segment::Ending::Settled,
                "{rate} Hz: {m:?}"
            );
            assert!((400.0..402.0).contains(&m.onset_s), "{rate} Hz: {m:?}");
        }
    }

    /// Roughly Gaussian noise of standard deviation `sd_g` (a sum of four uniforms).
    fn noise_sd(seed: u64, sd_g: f64) -> impl FnMut() -> f64 {
        let mut u = noise(seed);
        // Each uniform spans ±0.002 g: standard deviation 0.004/√12; four of them, twice that.
        let scale = sd_g / (2.0 * 0.004 / 12f64.sqrt());
        move || (u() + u() + u() + u()) * scale
    }

    /// A night of `secs` at `rate` with noise of `sd_g` on every axis, and tilts of `deg`
    /// lasting `dur` s starting at each of `at`.
    fn noisy_night(
        rate: f64,
        secs: f64,
        sd_g: f64,
        at: &[f64],
        (dur, deg): (f64, f64),
    ) -> Vec<Sample> {
        let mut noise = noise_sd(777, sd_g);
        (0..(secs * rate).round() as usize)
            .map(|i| {
                let t = i as f64 / rate;
                let th = at
                    .iter()
                    .find(|&&a| (a..a + dur).contains(&t))
                    .map_or(0.0, |&a| {
                        deg.to_radians() * (std::f64::consts::PI * (t - a) / dur).sin()
                    });
                Sample::new(t, [noise(), th.sin() + noise(), th.cos() + noise()])
            })
            .collect()
    }

    fn with_slow(tau_s: f64) -> Config {
        let mut c = Config::default();
        c.segment.slow_tau_s = tau_s;
        c
    }

    #[test]
    fn the_slow_channel_finds_tilts_lost_in_the_noise_of_a_small_sensor() {
        // 0.8° over 4 s at 25 Hz under 10 mg of noise a sample: the block envelopes miss
        // nearly every one; the slow channel finds each, with its boundaries.
        let at = [300.0, 340.0, 380.0, 420.0, 460.0];
        let s = noisy_night(25.0, 600.0, 0.010, &at, (4.0, 0.8));
        let off = run(
            &mut MovementCore::new(&with_slow(0.0), 25.0).unwrap(),
            &s,
            4096,
        );
        assert!(off.len() <= 1, "{off:?}");
        let on = run(&mut core(25.0), &s, 4096);
        assert_eq!(on.len(), at.len(), "{on:?}");
        // Each is found over the part of its slow rise and fall that stands above the
        // noise: inside the tilt, lag corrected, and around its peak (at 2 s).
        for (m, a) in on.iter().zip(at) {
            assert!(m.onset_s > a - 0.3 && m.offset_s < a + 4.3, "{m:?}");
            assert!(m.onset_s < a + 1.5 && m.offset_s > a + 2.0, "{m:?}");
            assert!(m.angle_deg < 1.0, "{m:?}");
        }
        // A wrist's core has no slow channel (it would follow the breaths).
        let mut wrist = MovementCore::for_site(&Config::default(), 25.0, Site::Wrist).unwrap();
        assert_eq!(run(&mut wrist, &s, 4096), off);
        // At other rates the steps hold other numbers of blocks: at 50 Hz the blocks find
        // three of five tilts of 0.6°, the slow channel all; at 200 Hz the blocks average
        // enough samples to find even 0.4°, and the slow channel adds nothing more.
        for (rate, deg, off_finds) in [(50.0, 0.6, 3), (200.0, 0.4, 5)] {
            let s = noisy_night(rate, 600.0, 0.010, &at, (4.0, deg));
            let off = run(
                &mut MovementCore::new(&with_slow(0.0), rate).unwrap(),
                &s,
                4096,
            );
            assert_eq!(off.len(), off_finds, "{rate} Hz: {off:?}");
            let on = run(&mut core(rate), &s, 4096);
            assert_eq!(on.len(), at.len(), "{rate} Hz: {on:?}");
            for (m, a) in on.iter().zip(at) {
                assert!(
                    m.onset_s > a - 0.3 && m.offset_s < a + 4.3,
                    "{rate} Hz: {m:?}"
                );
                assert!(
                    m.onset_s < a + 2.0 && m.offset_s > a + 2.0,
                    "{rate} Hz: {m:?}"
                );
            }
        }
    }

    #[test]
    fn the_slow_channels_movements_do_not_depend_on_chunking_gaps_or_the_end() {
        // Faint tilts at 25 Hz, a gap of 20 s after the third, and the stream ending inside
        // the last one's merge gap: each chunking gives the same movements, the last cut.
        let at = [300.0, 340.0, 380.0, 500.0, 540.0];
        let mut s = noisy_night(25.0, 600.0, 0.010, &at, (4.0, 0.8));
        s.retain(|x| !(400.0..420.0).contains(&x.t_s) && x.t_s < 544.2);
        let mut d = core(25.0);
        let whole = run(&mut d, &s, s.len());
        assert_eq!(whole.len(), at.len(), "{whole:?}");
        assert_eq!(whole[4].ending, crate::segment::Ending::Cut, "{whole:?}");
        for chunk in [1, 7, 4096] {
            assert_eq!(run(&mut d, &s, chunk), whole, "chunk {chunk}");
        }
        // Random chunk sizes.
        let mut sizes = noise(31);
        let mut sink = Rec::default();
        let mut rest = &s[..];
        d.reset();
        while !rest.is_empty() {
            let n = (((sizes() + 0.002) * 250_000.0) as usize).clamp(1, rest.len());
            d.push(&rest[..n], &mut sink).unwrap();
            rest = &rest[n..];
        }
        d.finish(&mut sink).unwrap();
        assert_eq!(sink.movements, whole);
        assert_eq!(sink.gaps.len(), 1);
    }

    #[test]
    fn a_movement_the_blocks_see_is_found_once_not_again_as_it_settles() {
        for rate in [25.0, 100.0] {
            let at = [300.0, 330.0, 360.0];
            let s = noisy_night(rate, 480.0, 0.010, &at, (4.0, 20.0));
            let ms = run(&mut core(rate), &s, 4096);
            assert_eq!(ms.len(), at.len(), "{rate} Hz: {ms:?}");
            let off = run(
                &mut MovementCore::new(&with_slow(0.0), rate).unwrap(),
                &s,
                4096,
            );
            assert_eq!(ms, off, "{rate} Hz");
        }
    }

    #[test]
    fn a_coarse_quiet_sensor_wandering_across_a_step_is_not_moving() {
        // 10 bits over ±8 g: steps of 15.6 mg, with 3 mg of noise. The limb turns by 10°
        // over the hour, so each axis sits for a minute or more near each edge between two
        // steps and reads as one or the other (without the margin of two steps, the slow
        // channel takes some of that for movements).
        let step = 16.0 / 1024.0;
        let rate = 25.0;
        let mut noise = noise_sd(99, 0.003);
        let s: Vec<Sample> = (0..(3600.0 * rate) as usize)
            .map(|i| {
                let t = i as f64 / rate;
                let th = (10.0 * t / 3600.0).to_radians();
                let acc = [0.3 + noise(), th.sin() + noise(), th.cos() + noise()];
                Sample::new(t, acc.map(|v| (v / step).round() * step))
            })
            .collect();
        // The block envelopes see a step now and then; the slow channel adds nothing.
        let on = run(&mut core(rate), &s, 4096);
        let off = run(
            &mut MovementCore::new(&with_slow(0.0), rate).unwrap(),
            &s,
            4096,
        );
        assert_eq!(on, off);
    }

    #[test]
    fn a_noisy_still_sensor_starts_without_movements() {
        // 10 mg of noise a sample, still from the first sample on: while the floors warm
        // up the rest follows as it does later, so the rotation floor learns the noise (a
        // rest that was the orientation itself taught it zeros, and the first minute was
        // one long movement holding the floors frozen).
        for rate in [25.0, 50.0, 100.0, 200.0] {
            for seed in 1..=5 {
                let mut noise = noise_sd(seed * 7919, 0.010);
                let s: Vec<Sample> = (0..(120.0 * rate) as usize)
                    .map(|i| {
                        let t = i as f64 / rate;
                        Sample::new(t, [noise(), noise(), 1.0 + noise()])
                    })
                    .collect();
                let ms = run(&mut core(rate), &s, 4096);
                assert!(ms.is_empty(), "{rate} Hz, seed {seed}: {ms:?}");
            }
        }
    }

    #[test]
    fn a_coarse_quiet_sensor_with_an_axis_on_the_edge_of_a_step_does_not_chatter() {
        // A simulated night on 10 bits over ±8 g (15.6 mg steps) with 2 mg of noise: after
        // the posture change at 10 888 s an axis sits near the edge between two steps and
        // flips in a minority of blocks, too few to lift the floors, until the next posture
        // change at 13 114 s. Without margins of a step each flip was a movement (859 of
        // them); none of them is.
        use crate::sim::{Layout, Night, SensorConfig, Severity, SimConfig};
        let night = Night::new(&SimConfig {
            duration_h: 6.0,
            rate_hz: 50.0,
            layout: Layout::Ankle,
            difficulty: 0.0,
            severity: Severity::Moderate,
            sensor: SensorConfig {
                bits: 10,
                jitter_ms: 1.0,
                ..SensorConfig::default()
            },
            ..SimConfig::new(1002)
        })
        .unwrap();
        let s = night.samples(Site::Ankle);
        let ms = run(&mut core(50.0), &s, 4096);
        let flips = ms
            .iter()
            .filter(|m| (10_900.0..13_100.0).contains(&m.onset_s) && m.peak_g < 0.012)
            .count();
        assert!(flips <= 3, "{flips} movements of a flip");
    }

    #[test]
    fn a_still_night_has_no_movements() {
        let s = night(100.0, 600.0, 1e9, 1.0, 0.0);
        assert!(run(&mut core(100.0), &s, 4096).is_empty());
    }

    #[test]
    fn a_small_tilt_is_found_with_its_boundaries() {
        for rate in [25.0, 100.0, 200.0] {
            let s = night(rate, 300.0, 120.0, 3.0, 3.0);
            let ms = run(&mut core(rate), &s, 777);
            assert_eq!(ms.len(), 1, "{rate} Hz: {ms:?}");
            assert!(
                (ms[0].onset_s - 120.0).abs() < 0.5,
                "{rate} Hz: {:?}",
                ms[0]
            );
            assert!(
                (ms[0].offset_s - 123.0).abs() < 0.5,
                "{rate} Hz: {:?}",
                ms[0]
            );
            assert!(ms[0].angle_deg < 1.0);
            // the peak tilt of a 3° movement, from the rotation channel's chord
            assert!((ms[0].peak_tilt_deg - 3.0).abs() < 0.6, "{:?}", ms[0]);
        }
    }

    #[test]
    fn chunking_does_not_change_the_movements() {
        let s = night(100.0, 300.0, 100.0, 2.0, 10.0);
        let mut d = core(100.0);
        let whole = run(&mut d, &s, s.len());
        assert_eq!(whole.len(), 1);
        for chunk in [1, 7, 4096] {
            assert_eq!(run(&mut d, &s, chunk), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn a_gap_is_reported_and_cuts_nothing_valid() {
        let mut s = still(0.0, 100.0, 100.0, [0.0, 0.0, 1.0]);
        s.extend(still(103.0, 100.0, 100.0, [0.0, 0.0, 1.0]));
        let mut d = core(100.0);
        let mut sink = Rec::default();
        d.push(&s, &mut sink).unwrap();
        let summary = d.finish(&mut sink).unwrap();
        assert_eq!(sink.gaps.len(), 1);
        assert!((sink.gaps[0].start_s - 99.99).abs() < 1e-9);
        assert!((sink.gaps[0].duration_s - 3.01).abs() < 1e-9);
        assert_eq!(summary.n_gaps, 1);
        assert_eq!(summary.n_samples, 20_000);
        assert!(sink.movements.is_empty());
    }

    #[test]
    fn bad_samples_are_errors_naming_their_index() {
        let mut s = still(0.0, 10.0, 100.0, [0.0, 0.0, 1.0]);
        s[500].acc_g[1] = f64::NAN;
        let mut d = core(100.0);
        let mut out = Rec::default();
        let e = d.push(&s, &mut out).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Sample {
                    sample_idx: 500,
                    ..
                }
            ),
            "{e}"
        );
        let mut s = still(0.0, 10.0, 100.0, [0.0, 0.0, 1.0]);
        s[300].t_s = s[299].t_s;
        d.reset();
        let e = d.push(&s, &mut out).unwrap_err();
        assert!(e.to_string().contains("repeats"), "{e}");
        assert!(matches!(
            e.kind(),
            ErrorKind::Sample {
                sample_idx: 300,
                ..
            }
        ));
    }

    #[test]
    fn reset_then_replay_equals_a_fresh_core() {
        let s = night(100.0, 200.0, 100.0, 2.0, 10.0);
        let mut d = core(100.0);
        let mut junk = Rec::default();
        d.push(&s[..10_000], &mut junk).unwrap();
        d.reset();
        let again = run(&mut d, &s, 333);
        let fresh = run(&mut core(100.0), &s, 333);
        assert_eq!(again, fresh);
    }
}
