//! The movement core stage by stage, for the benches in `benches/stages.rs` and the
//! allocation test of the core: each stage alone, over inputs made by the stages before it.
//!
//! Not a stable API: hidden from the docs, and free to change with the core.

use super::{follow_rest, over_floor, CoreSink, MovementCore, Plan};
use crate::calibrate::{Calibrator, UNIT_GAIN2};
use crate::config::Config;
use crate::envelope::{NoiseFloor, Quantum};
use crate::gravity::{axes, to_f32, BlockSums, FillBuffer, Gravity, PathPlan, FILL_MAX};
use crate::segment::{BlockView, Movement, Segmenter};
use crate::slow::{self, SlowChannel};
use crate::{ConfigError, Error, Gap, Sample};

/// A sink that counts movements and keeps the last watermark, at next to no cost.
#[derive(Clone, Copy, Debug, Default)]
struct Count {
    n_movements: u64,
    watermark_s: f64,
}

impl CoreSink for Count {
    fn movement(&mut self, _m: Movement) {
        self.n_movements += 1;
    }
    fn gap(&mut self, _gap: Gap) {}
    fn progress(&mut self, _t_s: f64, watermark_s: f64) {
        self.watermark_s = watermark_s;
    }
}

/// The per-block sums of a recording, as the signal path makes them: the input of every
/// block stage.
#[derive(Clone, Debug)]
pub struct Blocks {
    sums: Vec<BlockSums>,
    n_samples: u64,
}

impl Blocks {
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.sums.len()
    }

    /// True when there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// Number of samples the blocks hold.
    pub fn n_samples(&self) -> u64 {
        self.n_samples
    }
}

/// What the segmenter sees of each block (envelopes, thresholds, orientations), made from
/// [`Blocks`] by a simplified block stage: the input of the segmentation bench.
#[derive(Clone, Debug)]
pub struct Views {
    views: Vec<BlockView>,
    n_samples: u64,
}

impl Views {
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.views.len()
    }

    /// True when there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.views.is_empty()
    }

    /// Number of samples the blocks hold.
    pub fn n_samples(&self) -> u64 {
        self.n_samples
    }
}

/// The stages of the core for one sample rate, with the default config.
#[derive(Clone, Debug)]
pub struct Stages {
    plan: Plan,
}

impl Stages {
    /// The stages for samples at `sample_rate_hz`.
    ///
    /// # Errors
    /// When the default config does not validate at this rate.
    pub fn new(sample_rate_hz: f64) -> Result<Self, ConfigError> {
        let core = MovementCore::new(&Config::default(), sample_rate_hz)?;
        Ok(Stages { plan: core.plan })
    }

    fn path(&self) -> PathPlan {
        PathPlan {
            lp: self.plan.lp,
            block_len: self.plan.block_len,
            gap_min_s: self.plan.gap_min_s,
        }
    }

    /// Runs the signal path alone (checks, gravity filters, per-block sums) over `samples`,
    /// handing each full block to `each`; returns the number of blocks. An irregular sample
    /// restarts the path at it (a bench input has none).
    fn signal_path_into(&self, samples: &[Sample], mut each: impl FnMut(&BlockSums)) -> u64 {
        let path = self.path();
        let mut g = Gravity::default();
        let mut cur = BlockSums::default();
        let mut buf = FillBuffer::default();
        let mut last_t_s = f64::NEG_INFINITY;
        let mut n_blocks = 0;
        let mut rest = samples;
        while let Some(first) = rest.first() {
            if !g.is_primed() {
                g.prime(to_f32(first));
                g.run_one(path.lp, to_f32(first), first.t_s, &mut cur);
                last_t_s = first.t_s;
                rest = rest.get(1..).unwrap_or(&[]);
                continue;
            }
            let room = ((path.block_len - cur.n) as usize).min(FILL_MAX);
            let (head, tail) = rest.split_at(room.min(rest.len()));
            let taken = if g.fill(path, head, &mut cur, &mut last_t_s, &mut buf) {
                head.len()
            } else {
                g.run_checked(path, head, &mut cur, &mut last_t_s)
            };
            if cur.n == path.block_len {
                each(&cur);
                cur.n = 0;
                n_blocks += 1;
            }
            if taken == head.len() {
                rest = tail;
            } else {
                g.unprime();
                rest = rest.get(taken..).unwrap_or(&[]);
            }
        }
        n_blocks
    }

    /// The signal path alone; returns the number of full blocks.
    #[inline(never)]
    pub fn signal_path(&self, samples: &[Sample]) -> u64 {
        let mut check = 0.0f32;
        let n = self.signal_path_into(samples, |b| check += b.sum_h2[1]);
        std::hint::black_box(check);
        n
    }

    /// The blocks of `samples`, kept for the block stages.
    #[inline(never)]
    pub fn blocks(&self, samples: &[Sample]) -> Blocks {
        let mut sums = Vec::with_capacity(samples.len() / self.plan.block_len as usize + 1);
        self.signal_path_into(samples, |b| sums.push(*b));
        let n_samples = sums.iter().map(|b| u64::from(b.n)).sum();
        Blocks { sums, n_samples }
    }

    /// Envelopes and noise floors alone: each block's envelopes (identity calibration, the
    /// block's own mean as the resting orientation), into the floors once a step; returns
    /// the last linear floor in g.
    #[inline(never)]
    pub fn envelope_floor(&self, blocks: &Blocks) -> f64 {
        let plan = &self.plan;
        let mut floor_h = NoiseFloor::new(plan.floor_capacity, plan.config.floor.quantile);
        let mut floor_r = NoiseFloor::new(plan.floor_capacity, plan.config.floor.quantile);
        let (mut step_h2, mut step_r2, mut step_blocks) = (0.0, 0.0, 0);
        for b in &blocks.sums {
            let (e_h2, e_r2) = b.envelopes(UNIT_GAIN2, b.mean_g_fast());
            step_h2 += e_h2;
            step_r2 += e_r2;
            step_blocks += 1;
            if step_blocks == plan.floor_step_blocks {
                let m = f64::from(step_blocks);
                floor_h.push((step_h2 / m).sqrt());
                floor_r.push((step_r2 / m).sqrt());
                (step_h2, step_r2, step_blocks) = (0.0, 0.0, 0);
            }
        }
        floor_h.value().unwrap_or(0.0) + floor_r.value().unwrap_or(0.0)
    }

    /// Calibration alone: every block into the still-window accumulator, fitting as
    /// windows close; returns the still windows found.
    #[inline(never)]
    pub fn calibration(&self, blocks: &Blocks) -> u64 {
        let mut c = Calibrator::new(&self.plan.config.calibration, self.plan.block_s);
        for b in &blocks.sums {
            let (sum_g, sum_g2) = b.still_sums();
            c.push_block(b.n, sum_g, sum_g2);
        }
        c.report().n_still_windows
    }

    /// What the segmenter sees of each block, from a simplified block stage (identity
    /// calibration; floors, quantisation margins, thresholds and resting orientation as the
    /// core keeps them).
    #[inline(never)]
    pub fn views(&self, blocks: &Blocks) -> Views {
        let plan = &self.plan;
        let mut quantum = Quantum::UNSEEN;
        let mut floor_h = NoiseFloor::new(plan.floor_capacity, plan.config.floor.quantile);
        let mut floor_r = NoiseFloor::new(plan.floor_capacity, plan.config.floor.quantile);
        let (mut step_h2, mut step_r2, mut step_blocks) = (0.0, 0.0, 0);
        let mut rest: Option<[f64; 3]> = None;
        let mut views = Vec::with_capacity(blocks.len());
        for b in &blocks.sums {
            let g_fast = axes(b.g_fast);
            let r = *rest.get_or_insert(g_fast);
            let (e_h2, e_r2) = b.envelopes(UNIT_GAIN2, r);
            step_h2 += e_h2;
            step_r2 += e_r2;
            step_blocks += 1;
            if step_blocks == plan.floor_step_blocks {
                quantum.observe(&b.max_abs_d);
                let m = f64::from(step_blocks);
                floor_h.push((step_h2 / m).sqrt());
                floor_r.push((step_r2 / m).sqrt());
                (step_h2, step_r2, step_blocks) = (0.0, 0.0, 0);
            }
            let (Some(fh), Some(fr)) = (floor_h.value(), floor_r.value()) else {
                if let Some(r) = rest.as_mut() {
                    follow_rest(plan, r, g_fast);
                }
                continue;
            };
            let th = over_floor(&plan.config.segment, &quantum);
            let (th_h, th_r) = (th(fh), th(fr));
            if e_r2 < th_r.off_g * th_r.off_g {
                if let Some(r) = rest.as_mut() {
                    follow_rest(plan, r, g_fast);
                }
            }
            let [x, y, z] = axes(b.max_abs_d);
            views.push(BlockView {
                t_start_s: b.t_first_s,
                t_end_s: b.t_last_s,
                e_h_g: e_h2.sqrt(),
                e_r_g: e_r2.sqrt(),
                jerk_g_per_s: (x * x + y * y + z * z).sqrt() * plan.sample_rate_hz,
                g_fast,
                g_rest: r,
                th_h,
                th_r,
            });
        }
        let n_samples = blocks.n_samples;
        Views { views, n_samples }
    }

    /// Segmentation alone: every view through the segmenter (quiet ones too); returns the
    /// movements found.
    #[inline(never)]
    pub fn segmentation(&self, views: &Views) -> u64 {
        let mut seg = Segmenter::default();
        let mut n = 0;
        for v in &views.views {
            n += u64::from(seg.step(&self.plan.seg, v).movement.is_some());
        }
        n + u64::from(seg.cut([0.0, 0.0, 1.0]).is_some())
    }

    /// The slow orientation channel alone (`src/slow.rs`): every block gathered, a step
    /// every 0.2 s, the segmenter holding nothing and its blocks stirred throughout (so a
    /// run that reaches the onset threshold is reported); identity calibration. Returns the
    /// movements found.
    #[inline(never)]
    pub fn slow_channel(&self, blocks: &Blocks) -> u64 {
        let Some(plan) = &self.plan.slow else {
            return 0;
        };
        let config = &self.plan.config;
        let calib = Calibrator::new(&config.calibration, self.plan.block_s);
        let mut ch = SlowChannel::new(self.plan.floor_capacity, config.floor.quantile);
        let seg = slow::SegmenterSays {
            free: true,
            stirred: true,
            e_h2: 0.0,
        };
        let mut n = 0;
        for b in &blocks.sums {
            n += u64::from(
                ch.step(plan, config, b, &calib, seg, &Quantum::UNSEEN)
                    .is_some(),
            );
        }
        n
    }

    /// The whole block stage (envelopes, floors, calibration, resting orientation,
    /// segmentation) over blocks the signal path made; returns the movements found.
    #[inline(never)]
    pub fn block_stage(&self, blocks: &Blocks) -> u64 {
        let mut core = MovementCore::from_plan(self.plan.clone());
        let mut sink = Count::default();
        if let Some(first) = blocks.sums.first() {
            core.state.rest = axes(first.g_fast);
        }
        for b in &blocks.sums {
            core.state.block = *b;
            core.end_block(&mut sink);
        }
        std::hint::black_box(sink.watermark_s);
        sink.n_movements
    }
}

/// A movement core with a sink that only counts, for benches and the allocation test.
#[derive(Clone, Debug)]
pub struct Core {
    core: MovementCore,
    sink: Count,
}

impl Core {
    /// A core for samples at about `sample_rate_hz`, with the default config.
    ///
    /// # Errors
    /// When the default config does not validate at this rate.
    pub fn new(sample_rate_hz: f64) -> Result<Self, ConfigError> {
        Ok(Core {
            core: MovementCore::new(&Config::default(), sample_rate_hz)?,
            sink: Count::default(),
        })
    }

    /// Takes the next samples, as the detector's `push` does.
    ///
    /// # Errors
    /// As the detector's `push`: a sample that is not finite, out of range or not later
    /// than the one before.
    pub fn push(&mut self, samples: &[Sample]) -> Result<(), Error> {
        self.core.push(samples, &mut self.sink)
    }

    /// Ends the stream and resets; returns the movements found since the last `finish`.
    ///
    /// # Errors
    /// None today, as the detector's `finish`.
    pub fn finish(&mut self) -> Result<u64, Error> {
        self.core.finish(&mut self.sink)?;
        Ok(std::mem::take(&mut self.sink).n_movements)
    }
}
