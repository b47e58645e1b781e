//! The sensor: it samples the body's motion at its own clock, adds calibration error, drift
//! and noise, quantises, clips, and stamps times with jitter and rounding.
//!
//! Samples come one at a time from a small state (the sample index, a cursor into the
//! track's waveforms and posture changes, two generators), so memory does not grow with
//! the night and the output does not depend on how it is read in chunks.

use std::sync::Arc;

use super::body::{gravity_in, Item, Limb, V3};
use super::plan::{Plan, Track};
use super::rng::Rng;
use crate::io::{DeviceInfo, Format, RecordingInfo, SampleCheck, UnitsFrom};
use crate::{Error, Position, Sample, Site, Source};

/// Time `t_s` in whole ticks (rounded to nearest). Times are below 48 h + 4e9 s and
/// ticks at most 1e6 per second, so the result is below 2^53 and exact.
#[allow(clippy::cast_possible_truncation)] // bounded as documented
pub(crate) fn ticks(t_s: f64, ticks_per_s: f64) -> i64 {
    (t_s * ticks_per_s).round() as i64
}

/// Index of the first sample at or after `t_s` on a grid of `dt_s` (0 if before the grid).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to ≥ 0; < 2^53
fn first_index_at(t_s: f64, dt_s: f64) -> u64 {
    (t_s / dt_s).ceil().max(0.0) as u64
}

/// A code already clamped to the converter's range (within ±2^15).
#[allow(clippy::cast_possible_truncation)] // clamped by the caller
fn code_of(q: f64) -> i32 {
    q as i32
}

/// One sample as the device stores it: a time tick and three integer codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawSample {
    /// Time in units of 10^-time_decimals s on the files' clock.
    pub tick: i64,
    /// Acceleration codes; the value in g is code × step.
    pub code: [i32; 3],
}

/// Fixed numbers of a sensor's sampling, from the config.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawFormat {
    pub step_g: f64,
    pub code_max: i32,
    pub ticks_per_s: f64,
    pub start_tick: i64,
    pub time_decimals: u32,
    pub acc_decimals: u32,
}

impl RawFormat {
    pub(crate) fn new(plan: &Plan) -> RawFormat {
        let s = &plan.cfg.sensor;
        let ticks_per_s = 10f64.powi(s.time_decimals as i32);
        RawFormat {
            step_g: s.step_g(),
            code_max: (1i32 << (s.bits - 1)) - 1,
            ticks_per_s,
            start_tick: s.epoch_start_s.map_or(0, |t| ticks(t, ticks_per_s)),
            time_decimals: s.time_decimals,
            acc_decimals: s.acc_decimals(),
        }
    }

    /// A raw sample as a [`Sample`] (times and values exactly what the CSV prints).
    #[inline]
    pub(crate) fn to_sample(self, r: &RawSample) -> Sample {
        Sample::new(
            r.tick as f64 / self.ticks_per_s,
            [
                f64::from(r.code[0]) * self.step_g,
                f64::from(r.code[1]) * self.step_g,
                f64::from(r.code[2]) * self.step_g,
            ],
        )
    }
}

/// Where a sensor is in its track's waveforms and posture changes.
#[derive(Clone, Debug)]
pub(crate) struct Cursor {
    next_item: usize,
    active: Vec<usize>,
    next_change: usize,
    g_rest: V3,
}

/// The per-sample state of one sensor.
#[derive(Clone, Debug)]
pub(crate) struct Synth {
    plan: Arc<Plan>,
    limb: Limb,
    fmt: RawFormat,
    dt_s: f64,
    noise_g: f64,
    jitter_s: f64,
    jitter_max_s: f64,
    bed0_s: f64,
    /// Index of the next sample on the sensor's clock.
    i: u64,
    cursor: Cursor,
    next_gap: usize,
    noise: Rng,
    spare: Option<f64>,
    jitter: Rng,
    prev_tick: i64,
}

impl Synth {
    pub(crate) fn new(plan: Arc<Plan>, limb: Limb) -> Synth {
        let cfg = &plan.cfg;
        let rate = cfg.rate_hz * (1.0 + cfg.sensor.rate_error_ppm * 1e-6);
        let dt_s = 1.0 / rate;
        let fmt = RawFormat::new(&plan);
        let g_rest = gravity_in(&plan.tracks[limb.idx()].rest0);
        let seed = cfg.seed;
        Synth {
            limb,
            fmt,
            dt_s,
            noise_g: cfg.noise_mg() * 1e-3,
            jitter_s: cfg.sensor.jitter_ms * 1e-3,
            jitter_max_s: 0.45 * dt_s,
            bed0_s: plan.in_bed.0,
            i: 0,
            cursor: Cursor {
                next_item: 0,
                // Waveforms rarely overlap more than a few at a time; this grows only if
                // they do.
                active: Vec::with_capacity(16),
                next_change: 0,
                g_rest,
            },
            next_gap: 0,
            noise: Rng::stream(seed, 1000 + limb.idx() as u64),
            spare: None,
            jitter: Rng::stream(seed, 2000 + limb.idx() as u64),
            prev_tick: i64::MIN,
            plan,
        }
    }

    fn track(&self) -> &Track {
        &self.plan.tracks[self.limb.idx()]
    }

    #[inline]
    fn normal(&mut self) -> f64 {
        if let Some(x) = self.spare.take() {
            return x;
        }
        let (a, b) = self.noise.normal_pair();
        self.spare = Some(b);
        a
    }

    /// The true specific force at `t_s` (seconds from the recording start), in g, in the
    /// sensor frame.
    #[inline]
    fn force(track: &Track, st: &mut Cursor, t_s: f64) -> V3 {
        // Posture: constant between changes, slerped during one.
        while let Some(c) = track.changes.get(st.next_change) {
            if t_s >= c.t1_s {
                st.g_rest = gravity_in(&c.to);
                st.next_change += 1;
            } else {
                break;
            }
        }
        let mut g = match track.changes.get(st.next_change) {
            Some(c) if t_s >= c.t0_s => c.gravity_at(t_s),
            _ => st.g_rest,
        };
        // Waveforms: admit those that started, drop those that ended.
        while let Some(item) = track.items.get(st.next_item) {
            if item.start_s <= t_s {
                st.active.push(st.next_item);
                st.next_item += 1;
            } else {
                break;
            }
        }
        let items: &[Item] = &track.items;
        st.active
            .retain(|&k| items.get(k).is_some_and(|it| it.end_s > t_s));
        let mut lin = V3::zeros();
        for &k in &st.active {
            if let Some(item) = items.get(k) {
                item.apply(t_s, &mut g, &mut lin);
            }
        }
        g + lin
    }

    /// The next sample, or `None` at the end of the recording.
    pub(crate) fn next(&mut self) -> Option<RawSample> {
        let t_end = self.plan.duration_s;
        let phase = self.track().calib.phase_s;
        let mut t = phase + self.i as f64 * self.dt_s;
        // Skip samples inside gaps.
        loop {
            let gap = self.track().gaps.get(self.next_gap).copied();
            match gap {
                Some((_, b)) if t >= b => self.next_gap += 1,
                Some((a, b)) if t >= a => {
                    self.i = first_index_at(b - phase, self.dt_s);
                    t = phase + self.i as f64 * self.dt_s;
                    self.next_gap += 1;
                }
                _ => break,
            }
        }
        if t >= t_end {
            return None;
        }
        self.i += 1;
        let f = Self::force(&self.plan.tracks[self.limb.idx()], &mut self.cursor, t);
        let c = self.track().calib;
        let warm = if t > self.bed0_s {
            1.0 - (-(t - self.bed0_s) / 1800.0).exp()
        } else {
            0.0
        };
        let mut code = [0i32; 3];
        let fmt = self.fmt;
        for (k, slot) in code.iter_mut().enumerate() {
            let m = c.gain[k] * f[k]
                + c.offset_g[k]
                + c.drift_g[k] * warm
                + self.noise_g * self.normal();
            let q = (m / fmt.step_g).round();
            let lim = f64::from(fmt.code_max);
            // Clipping at the range: the lowest code is one below -code_max.
            *slot = code_of(q.clamp(-lim - 1.0, lim));
        }
        let j = if self.jitter_s > 0.0 {
            (self.jitter_s * self.jitter.normal()).clamp(-self.jitter_max_s, self.jitter_max_s)
        } else {
            0.0
        };
        let mut tick = fmt.start_tick + ticks(t + j, fmt.ticks_per_s);
        tick = tick.max(fmt.start_tick);
        if tick <= self.prev_tick {
            tick = self.prev_tick + 1;
        }
        self.prev_tick = tick;
        Some(RawSample { tick, code })
    }
}

/// A simulated sensor's samples as a [`Source`], generated as they are read.
///
/// Memory is a few hundred bytes of state plus the night's plan (shared, its size follows
/// the number of events, not of samples). Reading in chunks of any size gives the same
/// samples as reading the whole night at once.
pub struct SimSource {
    synth: Synth,
    site: Site,
    check: SampleCheck,
    info: RecordingInfo,
    done: bool,
}

impl SimSource {
    pub(crate) fn new(plan: Arc<Plan>, limb: Limb, site: Site) -> SimSource {
        let cfg = &plan.cfg;
        let rate = cfg.rate_hz;
        let mut info = RecordingInfo {
            format: Format::Memory,
            units_from: UnitsFrom::Device,
            time_base: if cfg.sensor.epoch_start_s.is_some() {
                crate::io::TimeBase::Unix
            } else {
                crate::io::TimeBase::Relative
            },
            ..RecordingInfo::default()
        };
        info.device = Some(DeviceInfo {
            device_type: "sleeptwitch simulated accelerometer".into(),
            serial: format!("seed {}", cfg.seed),
            rate_hz: Some(rate),
            range_g: Some(cfg.sensor.range_g),
            start_s: cfg.sensor.epoch_start_s,
            location: Some(site.as_str().to_string()),
            extra: vec![("difficulty".into(), cfg.difficulty.to_string())],
        });
        // The nominal interval is valid (validated rate ≥ the minimum); fall back to the
        // minimum rate's interval if the check ever disagrees.
        let check = SampleCheck::new(1.0 / rate, Some(rate))
            .or_else(|_| SampleCheck::new(1.0 / crate::io::MIN_RATE_HZ, Some(rate)));
        let check = match check {
            Ok(c) => c,
            Err(_) => unreachable_check(),
        };
        SimSource {
            synth: Synth::new(plan, limb),
            site,
            check,
            info,
            done: false,
        }
    }

    /// The site this source is worn on.
    pub fn site(&self) -> Site {
        self.site
    }

    /// Fills `out` with the next raw samples; returns how many (0 at the end).
    pub(crate) fn read_raw(&mut self, out: &mut [RawSample]) -> usize {
        let mut n = 0;
        for slot in out.iter_mut() {
            match self.synth.next() {
                Some(r) => {
                    *slot = r;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    pub(crate) fn format(&self) -> RawFormat {
        self.synth.fmt
    }
}

#[cold]
#[inline(never)]
#[allow(clippy::panic)] // the minimum rate's interval always passes the rate check
fn unreachable_check() -> ! {
    panic!("sample check rejected the minimum rate")
}

impl Source for SimSource {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        if self.done {
            return Ok(0);
        }
        let fmt = self.synth.fmt;
        let mut n = 0;
        for slot in out.iter_mut() {
            let Some(r) = self.synth.next() else {
                self.done = true;
                break;
            };
            let s = fmt.to_sample(&r);
            let idx = self.info.n_samples + n as u64;
            self.check
                .check(&s)
                .map_err(|k| Error::at(k, Position::sample(idx)))?;
            *slot = s;
            n += 1;
        }
        self.check.fill(&mut self.info);
        Ok(n)
    }

    fn info(&self) -> &RecordingInfo {
        &self.info
    }
}
