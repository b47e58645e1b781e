//! Non-wear: stretches where a sensor lay as still as one off the body.
//!
//! A sensor taken off at 3 am and left on the night table reads as the deepest sleep there
//! is: nothing moves. Its time counts as sleep and thins every index. The accelerometer
//! alone cannot tell a table from a limb that did not stir for an hour, so this stage does
//! not change the night; it reports the stretches that look unworn, for the reader to
//! check (domain.md §4.4: wear time is one of the night's data-quality figures).
//!
//! The rule is van Hees et al.'s (2013; GGIR's non-wear detection) over longer windows: in
//! a window, an axis is still when its standard deviation is below 13 mg and its range below
//! 50 mg, and the window is unworn when at least two of the three axes are still. Windows
//! advance by 15 minutes, and an unworn window marks all of its quarters (GGIR's 2023 form,
//! which flags the whole window rather than its middle quarter). The window is 2 hours where
//! van Hees's is 1: asleep, a limb lies that still for an hour and more. On 24 simulated
//! worn 8 h nights (seeds 11–13, none and mild PLM, ankle and wrist, easy and hard), 1 h
//! windows called 7 nights partly unworn (60 to 195 minutes each; still wrists, and ankles
//! without periodic movements), 90 min windows 2 nights, 2 h windows none; on 32 more with
//! fresh seeds (21–24, 100 Hz), 2 h windows called one, a wrist that lay 3 h 45 min with
//! nothing but twitches under 15 mg. The quantities are
//! taken from what the detector already has, twice a second (once a noise-floor step), not
//! from every sample: the gravity estimate (low-passed at 2 Hz, as read: a calibration that
//! changed within a window would read as a turn) gives each axis's mean,
//! spread and range, and the linear channel's energy adds the fast part of the spread, a
//! third of it to each axis. The range is thus the range of the orientation, which a
//! sensor's noise hardly moves; on raw samples a noisy sensor spans 50 mg by its noise
//! alone.
//!
//! Memory is one summary per quarter of the window (128 bytes each, on the heap), fixed by
//! the config. A gap starts the windows afresh: an unworn stretch never spans a gap (its
//! first observation after one may reach back into it by up to a floor step, half a second).
//! A stretch is final once no later window can extend it: a window after its end (a window
//! starting where it ends would still join it), 2 h by default.

use serde::{Deserialize, Serialize};

use crate::config::steps;
use crate::ConfigError;

/// Settings of the non-wear rule (`[wear]` in a config file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WearConfig {
    /// Length of a window, in seconds; a whole number of `step_s`, at most 16 of them.
    pub window_s: f64,
    /// How far windows advance, in seconds.
    pub step_s: f64,
    /// An axis is still when its standard deviation over the window is below this, in g.
    pub sd_max_g: f64,
    /// … and its range below this, in g.
    pub range_max_g: f64,
    /// Still axes that make a window unworn (1 to 3).
    pub min_still_axes: u8,
}

impl Default for WearConfig {
    fn default() -> Self {
        WearConfig {
            window_s: 7200.0,
            step_s: 900.0,
            sd_max_g: 0.013,
            range_max_g: 0.050,
            min_still_axes: 2,
        }
    }
}

/// Most quarters (steps) a window may hold.
const MAX_PARTS: usize = 16;

impl WearConfig {
    /// Checks the fields; names the first that breaks its rule.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.step_s >= 60.0 && self.step_s.is_finite()) {
            return Err(ConfigError::new(
                "wear.step_s",
                self.step_s,
                "must be at least 60 s",
            ));
        }
        let parts = self.window_s / self.step_s;
        #[allow(clippy::cast_precision_loss)] // 16
        if !((parts - parts.round()).abs() < 1e-9 && (1.0..=MAX_PARTS as f64).contains(&parts)) {
            return Err(ConfigError::new(
                "wear.window_s",
                self.window_s,
                "must be 1 to 16 times wear.step_s",
            ));
        }
        for (name, v) in [
            ("wear.sd_max_g", self.sd_max_g),
            ("wear.range_max_g", self.range_max_g),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(ConfigError::new(name, v, "must be 0 or more"));
            }
        }
        if !(1..=3).contains(&self.min_still_axes) {
            return Err(ConfigError::new(
                "wear.min_still_axes",
                f64::from(self.min_still_axes),
                "must be 1, 2 or 3",
            ));
        }
        Ok(())
    }
}

/// A stretch of one sensor's recording that looked unworn, in seconds on the input's clock.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unworn {
    /// Where the sensor was meant to be worn.
    pub site: crate::Site,
    /// Start of the stretch.
    pub start_s: f64,
    /// End of the stretch.
    pub end_s: f64,
}

/// What one quarter (one step of the window) saw.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Part {
    /// Observations (floor steps).
    n: u32,
    start_s: f64,
    end_s: f64,
    sum: [f64; 3],
    sum2: [f64; 3],
    min: [f64; 3],
    max: [f64; 3],
    /// Sum of the linear channel's mean energy, all axes together, in g².
    lin2: f64,
}

impl Part {
    const EMPTY: Part = Part {
        n: 0,
        start_s: 0.0,
        end_s: 0.0,
        sum: [0.0; 3],
        sum2: [0.0; 3],
        min: [f64::INFINITY; 3],
        max: [f64::NEG_INFINITY; 3],
        lin2: 0.0,
    };

    fn add(&mut self, other: &Part) {
        if self.n == 0 {
            self.start_s = other.start_s;
        }
        self.n += other.n;
        self.end_s = other.end_s;
        for i in 0..3 {
            self.sum[i] += other.sum[i];
            self.sum2[i] += other.sum2[i];
            self.min[i] = self.min[i].min(other.min[i]);
            self.max[i] = self.max[i].max(other.max[i]);
        }
        self.lin2 += other.lin2;
    }
}

/// The plan of a [`WearCheck`] for one sample rate (its floor step and sample interval).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WearPlan {
    /// Observations in a quarter.
    per_part: u32,
    /// Quarters in a window.
    parts: usize,
    /// Time one observation stands for, in seconds.
    obs_s: f64,
    /// The sample interval, in seconds: an observation at the time of its last sample
    /// stands for the time up to the next one.
    sample_s: f64,
    sd2_max: f64,
    range_max: f64,
    min_axes: usize,
}

impl WearPlan {
    /// The plan for observations every `obs_s` seconds of samples every `sample_s` (a
    /// validated config).
    pub(crate) fn new(cfg: &WearConfig, obs_s: f64, sample_s: f64) -> Self {
        WearPlan {
            per_part: steps(cfg.step_s, obs_s),
            parts: (steps(cfg.window_s, cfg.step_s) as usize).clamp(1, MAX_PARTS),
            obs_s,
            sample_s,
            sd2_max: cfg.sd_max_g * cfg.sd_max_g,
            range_max: cfg.range_max_g,
            min_axes: usize::from(cfg.min_still_axes),
        }
    }
}

/// The streaming non-wear rule of one sensor (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WearCheck {
    /// The last full quarters, oldest first from `head`; `len` of them. Sized by the plan.
    ring: Vec<Part>,
    head: usize,
    len: usize,
    cur: Part,
    /// The unworn stretch still growing: start and end in seconds.
    open: Option<(f64, f64)>,
}

impl WearCheck {
    /// A check with room for the windows of `plan`.
    pub(crate) fn new(plan: &WearPlan) -> Self {
        WearCheck {
            ring: vec![Part::EMPTY; plan.parts],
            head: 0,
            len: 0,
            cur: Part::EMPTY,
            open: None,
        }
    }

    /// One observation at `t_s`, the time of the last sample it saw: the gravity estimate
    /// `g` (g, per axis) and the linear channel's mean energy `lin2` (g², all axes) since
    /// the last. Returns an unworn stretch that can grow no more, as `(start_s, end_s)`:
    /// from its first sample to one sample interval after its last.
    pub(crate) fn observe(
        &mut self,
        plan: &WearPlan,
        t_s: f64,
        g: [f64; 3],
        lin2: f64,
    ) -> Option<(f64, f64)> {
        let c = &mut self.cur;
        let end_s = t_s + plan.sample_s;
        if c.n == 0 {
            c.start_s = end_s - plan.obs_s;
        }
        c.n += 1;
        c.end_s = end_s;
        for (i, v) in g.into_iter().enumerate() {
            c.sum[i] += v;
            c.sum2[i] += v * v;
            c.min[i] = c.min[i].min(v);
            c.max[i] = c.max[i].max(v);
        }
        c.lin2 += lin2;
        if c.n < plan.per_part {
            return None;
        }
        self.close_part(plan)
    }

    /// Files the current quarter and judges the window it completes.
    fn close_part(&mut self, plan: &WearPlan) -> Option<(f64, f64)> {
        let part = std::mem::replace(&mut self.cur, Part::EMPTY);
        if self.len == plan.parts {
            self.head = (self.head + 1) % plan.parts;
        } else {
            self.len += 1;
        }
        let slot = (self.head + self.len - 1) % plan.parts;
        if let Some(s) = self.ring.get_mut(slot) {
            *s = part;
        }
        if self.len < plan.parts {
            return None;
        }
        let mut window = Part::EMPTY;
        for k in 0..plan.parts {
            if let Some(p) = self.ring.get((self.head + k) % plan.parts) {
                window.add(p);
            }
        }
        if is_unworn(plan, &window) {
            match &mut self.open {
                Some((_, end)) if window.start_s <= *end + plan.obs_s => *end = window.end_s,
                open => {
                    let done = open.take();
                    *open = Some((window.start_s, window.end_s));
                    return done;
                }
            }
            return None;
        }
        // Later windows start at the second quarter of this one (after it, for a window of one
        // quarter): a stretch ending before that cannot grow.
        let next_start = if plan.parts == 1 {
            window.end_s
        } else {
            self.ring.get((self.head + 1) % plan.parts)?.start_s
        };
        self.open.take_if(|(_, end)| *end + plan.obs_s < next_start)
    }

    /// Ends the windows (a gap, or the end of the stream): returns the stretch still open,
    /// and starts afresh (allocating nothing).
    pub(crate) fn cut(&mut self) -> Option<(f64, f64)> {
        self.head = 0;
        self.len = 0;
        self.cur = Part::EMPTY;
        self.open.take()
    }
}

/// True when at least `plan.min_axes` axes are still over the window `w`.
fn is_unworn(plan: &WearPlan, w: &Part) -> bool {
    let n = f64::from(w.n.max(1));
    let fast2 = w.lin2 / n / 3.0;
    let still = (0..3)
        .filter(|&i| {
            let mean = w.sum[i] / n;
            let var = (w.sum2[i] / n - mean * mean).max(0.0) + fast2;
            var < plan.sd2_max && w.max[i] - w.min[i] < plan.range_max
        })
        .count();
    still >= plan.min_axes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observations every 0.5 s; quarters of 900 s, windows of 3600 s (van Hees's). The
    /// sample interval is left out (zero) so that stretches fall on whole seconds.
    fn plan() -> WearPlan {
        let cfg = WearConfig {
            window_s: 3600.0,
            ..WearConfig::default()
        };
        WearPlan::new(&cfg, 0.5, 0.0)
    }

    /// Runs `secs` seconds from `t0` of observations made by `g_at(t)` with linear energy
    /// `lin2`, returning the stretches that became final.
    fn run(
        w: &mut WearCheck,
        t0: f64,
        secs: f64,
        lin2: f64,
        g_at: impl Fn(f64) -> [f64; 3],
    ) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let n = (secs / 0.5).round() as u64;
        for k in 1..=n {
            let t = t0 + 0.5 * k as f64;
            out.extend(w.observe(&plan(), t, g_at(t), lin2));
        }
        out
    }

    fn flat(_: f64) -> [f64; 3] {
        [0.0, 0.0, 1.0]
    }

    #[test]
    fn the_defaults_are_valid_and_bad_fields_are_named() {
        assert!(WearConfig::default().validate().is_ok());
        for (cfg, field) in [
            (
                WearConfig {
                    window_s: 3000.0,
                    ..WearConfig::default()
                },
                "wear.window_s",
            ),
            (
                WearConfig {
                    step_s: 0.0,
                    ..WearConfig::default()
                },
                "wear.step_s",
            ),
            (
                WearConfig {
                    sd_max_g: f64::NAN,
                    ..WearConfig::default()
                },
                "wear.sd_max_g",
            ),
            (
                WearConfig {
                    min_still_axes: 4,
                    ..WearConfig::default()
                },
                "wear.min_still_axes",
            ),
        ] {
            let e = cfg.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
    }

    #[test]
    fn two_still_hours_are_one_stretch_and_a_still_half_hour_is_none() {
        let mut w = WearCheck::new(&plan());
        // Noise of 5 mg per axis in the linear channel: 75 µg² over three axes.
        let mut out = run(&mut w, 0.0, 7200.0, 3.0 * 0.005f64.powi(2), flat);
        assert!(out.is_empty(), "still growing: {out:?}");
        out.extend(w.cut());
        assert_eq!(out, vec![(0.0, 7200.0)]);

        let mut w = WearCheck::new(&plan());
        let mut out = run(&mut w, 0.0, 1800.0, 0.0, flat);
        out.extend(w.cut());
        assert!(out.is_empty());
    }

    #[test]
    fn noise_above_the_sd_limit_is_worn() {
        // 14 mg per axis: above 13 mg.
        let mut w = WearCheck::new(&plan());
        let mut out = run(&mut w, 0.0, 7200.0, 3.0 * 0.014f64.powi(2), flat);
        out.extend(w.cut());
        assert!(out.is_empty(), "{out:?}");
        // 12 mg: below.
        let mut w = WearCheck::new(&plan());
        let mut out = run(&mut w, 0.0, 7200.0, 3.0 * 0.012f64.powi(2), flat);
        out.extend(w.cut());
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn a_tilt_on_two_axes_keeps_every_window_holding_it_worn() {
        // Still for 3 h, but for a 10 s tilt of 20° at 5400 s (x and z move 342 and 60 mg).
        let tilt = |t: f64| {
            let a = if (5400.0..5410.0).contains(&t) {
                20f64.to_radians()
            } else {
                0.0
            };
            [a.sin(), 0.0, a.cos()]
        };
        let mut w = WearCheck::new(&plan());
        let mut out = run(&mut w, 0.0, 10_800.0, 0.0, tilt);
        out.extend(w.cut());
        // Windows of whole quarters: the tilt is in the quarters [4500, 5400] (its first
        // observation, at 5400, is that quarter's last) and [5400, 6300]; the windows holding
        // either are worn, and the others, [0, 3600], [900, 4500], [6300, 9900] and
        // [7200, 10800], unworn.
        assert_eq!(out, vec![(0.0, 4500.0), (6300.0, 10_800.0)]);
    }

    #[test]
    fn a_tilt_on_one_axis_leaves_two_still_axes() {
        // y sways by 100 mg every 10 minutes; x and z stay put.
        let sway = |t: f64| {
            let y = if (t % 600.0) < 5.0 { 0.1 } else { 0.0 };
            [0.0, y, 1.0]
        };
        let mut w = WearCheck::new(&plan());
        let mut out = run(&mut w, 0.0, 3600.0, 0.0, sway);
        out.extend(w.cut());
        assert_eq!(out, vec![(0.0, 3600.0)]);
    }

    #[test]
    fn stretches_become_final_once_no_window_can_reach_them() {
        // Still for 1 h, then moving every minute (80 mg on x and y) for 2 h.
        let g = |t: f64| {
            if t > 3600.0 && (t % 60.0) < 2.0 {
                [0.08, 0.08, 1.0]
            } else {
                [0.0, 0.0, 1.0]
            }
        };
        let mut w = WearCheck::new(&plan());
        // Final a window after its end: the window starting where it ends could still have
        // joined it.
        assert!(run(&mut w, 0.0, 7199.5, 0.0, g).is_empty());
        let out = run(&mut w, 7199.5, 3600.5, 0.0, g);
        assert_eq!(out, vec![(0.0, 3600.0)], "final before the end");
        assert_eq!(w.cut(), None);
    }

    #[test]
    fn a_window_of_one_quarter_ends_its_stretch_at_the_next_worn_quarter() {
        let cfg = WearConfig {
            window_s: 900.0,
            ..WearConfig::default()
        };
        let plan = WearPlan::new(&cfg, 0.5, 0.0);
        let mut w = WearCheck::new(&plan);
        let mut out = Vec::new();
        // Still for 30 min, then a 200 mg sway on x and y every minute.
        for k in 1..=7200u32 {
            let t = 0.5 * f64::from(k);
            let g = if t > 1800.0 && (t % 60.0) < 2.0 {
                [0.2, 0.2, 1.0]
            } else {
                [0.0, 0.0, 1.0]
            };
            if let Some(s) = w.observe(&plan, t, g, 0.0) {
                out.push((t, s));
            }
        }
        assert_eq!(out, vec![(2700.0, (0.0, 1800.0))]);
    }

    #[test]
    fn a_cut_starts_the_windows_afresh() {
        let mut w = WearCheck::new(&plan());
        let mut out = run(&mut w, 0.0, 2700.0, 0.0, flat);
        out.extend(w.cut());
        out.extend(run(&mut w, 2800.0, 2700.0, 0.0, flat));
        out.extend(w.cut());
        assert!(out.is_empty(), "no window spans the cut: {out:?}");
    }
}
