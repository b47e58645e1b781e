//! The detector's settings: seconds and Hz, never samples; defaults that need no tuning.
//!
//! A `Config` is checked once by [`Config::validate`] (done by
//! [`Detector::new`](crate::Detector::new)), which names the field and the rule a bad value
//! breaks. Sample counts are derived from it for a given rate and never change during a run.

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Every setting of the detector, with units in the field names.
///
/// Serialises to and from JSON/TOML; missing fields take their defaults, so a config file
/// names only what it changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Signal path: gravity estimate, envelope blocks, baseline.
    pub signal: SignalConfig,
    /// Adaptive noise floor.
    pub floor: FloorConfig,
    /// Hysteresis segmentation into movements.
    pub segment: SegmentConfig,
    /// Per-axis offset and gain from still periods.
    pub calibration: CalibrationConfig,
    /// Naming movements.
    pub classify: crate::classify::ClassifyConfig,
    /// The periodic-series rule (WASM 2016 by default).
    pub series: crate::series::SeriesConfig,
    /// Sleep tracking.
    pub sleep: crate::sleep::SleepConfig,
    /// The non-wear rule (reported, never applied).
    pub wear: crate::wear::WearConfig,
}

/// Signal path settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// Corner of each of the two one-pole sections of the gravity (orientation) low-pass, in Hz.
    ///
    /// 2 Hz keeps the tilt of a 0.5 s leg movement (its fastest) while cutting sensor noise to
    /// about a fifth; what is above it is the high-passed linear acceleration.
    pub gravity_cutoff_hz: f64,
    /// Envelope block length, in seconds: envelopes, floor and segmentation run once a block.
    ///
    /// 50 ms resolves the 0.1–0.5 s of a jerk in 2–10 blocks and the 0.5 s scoring limits in 10.
    pub block_s: f64,
    /// Time constant of the resting-orientation baseline, in seconds (updated only at rest).
    pub baseline_tau_s: f64,
}

impl Default for SignalConfig {
    fn default() -> Self {
        SignalConfig {
            gravity_cutoff_hz: 2.0,
            block_s: 0.05,
            baseline_tau_s: 5.0,
        }
    }
}

/// Noise floor settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FloorConfig {
    /// Length of the window the floor is a running quantile over, in seconds.
    pub window_s: f64,
    /// Step at which envelope values enter the window, in seconds.
    pub step_s: f64,
    /// Quantile of the window taken as the floor, in (0, 1).
    pub quantile: f64,
    /// Longest time the floor stays frozen during one movement, in seconds; past it, the
    /// floor follows again (a sensor whose noise rose must not stay "moving" for ever).
    pub max_freeze_s: f64,
    /// Largest share of the recent past (a time constant of `window_s`) that weak movements
    /// (within [`WEAK_FACTOR`] times the onset thresholds) may hold the floor frozen; past
    /// it, the floor follows them. A slow rhythm just above the floor, such as a wrist on a
    /// breathing chest, makes one short weak movement after another: frozen during each,
    /// the floor would learn only the quiet between them and stay low enough for every next
    /// one to start. 1 lets weak movements hold the floor frozen as long as they last.
    pub max_weak_frozen_share: f64,
}

/// A block whose envelopes are all within this many times their onset thresholds belongs to
/// a weak movement (see [`FloorConfig::max_weak_frozen_share`]): a leg movement or a breath,
/// not the shaking of a turn or of walking.
pub const WEAK_FACTOR: f64 = 4.0;

impl Default for FloorConfig {
    fn default() -> Self {
        FloorConfig {
            window_s: 60.0,
            step_s: 0.5,
            quantile: 0.5,
            max_freeze_s: 60.0,
            max_weak_frozen_share: 0.7,
        }
    }
}

/// Segmentation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// Onset threshold, as a multiple of the noise floor.
    ///
    /// The displacement envelope at rest is the length of a 3-D Gaussian noise vector, whose
    /// mean is 1.6 σ; 3.5 × that is 5.6 σ, where chance crossings are about one a night.
    pub on_factor: f64,
    /// Offset threshold, as a multiple of the noise floor (must not exceed `on_factor`).
    pub off_factor: f64,
    /// Smallest margin of the onset threshold above the floor, in g (quantised still data
    /// can have a floor near zero).
    pub min_on_margin_g: f64,
    /// Smallest margin of the offset threshold above the floor, in g.
    pub min_off_margin_g: f64,
    /// Quiet time that ends a movement, in seconds: parts closer than this are one movement
    /// (WASM 2016 and AASM: an LM ends only after 0.5 s below the offset threshold).
    pub merge_gap_s: f64,
    /// Time after a movement over which the new orientation is averaged, in seconds.
    pub post_window_s: f64,
    /// Time a displaced but motionless orientation must hold before the movement is closed
    /// and the new orientation taken as the resting one (a posture change), in seconds.
    ///
    /// Longer than the 10 s a candidate leg movement may last, so a held dorsiflexion is
    /// not mistaken for a new posture.
    pub settle_s: f64,
    /// On a leg, an orientation held this long, displaced from rest, before the limb moves
    /// again settles the movement as soon as the limb is back in it for as long, in
    /// seconds; 0 turns the rule off.
    ///
    /// After turning over, the legs often go on with periodic movements 10–40 s apart,
    /// each out from the new posture and back, so the new orientation never holds still
    /// for `settle_s` and the turn swallowed them for up to a minute and a half. A leg
    /// movement that holds a dorsiflexion comes back to the resting orientation, not to
    /// its hold, and ends as before. Not on the wrist: breathing takes it out of and back
    /// into every hold. On 384 simulated nights 3.5 and 5 s raised the PLM F1 of every
    /// group (7 s only the bilateral nights'), and 5 s the posture-change F1 most.
    pub return_hold_s: f64,
    /// Time after a gap during which no movement may start, in seconds: the gravity
    /// estimate restarts from the first sample and rings while it settles. At its end the
    /// resting orientation takes the one found after the gap, unless the two differ by at
    /// least `classify.posture_min_deg` (then the posture changed in the gap, and the
    /// movement that follows reports it).
    pub after_gap_s: f64,
    /// Time constant of the slow orientation channel, in seconds; 0 turns it off.
    ///
    /// The gravity estimate averaged over steps of about 0.2 s and smoothed this much finds leg
    /// movements of a degree or two that the blocks' rotation envelope loses in the noise
    /// of a small sensor (see `src/slow.rs`): 0.6 s keeps most of the tilt of a 0.5–10 s
    /// movement and cuts the noise a few times. Only leg sensors use it.
    pub slow_tau_s: f64,
    /// Onset threshold of the slow channel's linear energy, as a multiple of its own floor
    /// (an RMS ratio); 0 leaves the slow channel to orientation alone.
    ///
    /// The blocks' linear envelope averaged over the slow channel's steps and smoothed
    /// with `slow_tau_s` holds a second's worth of samples: a faint leg movement that
    /// raises the acceleration's RMS by half for a second or more stands out of it, while
    /// each 50 ms block sees only noise (see `src/slow.rs`).
    pub slow_linear_on_factor: f64,
    /// Offset threshold of the slow channel's linear energy, as a multiple of its floor
    /// (between 1 and `slow_linear_on_factor`).
    pub slow_linear_off_factor: f64,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig {
            on_factor: 3.5,
            off_factor: 2.0,
            min_on_margin_g: 0.004,
            min_off_margin_g: 0.002,
            merge_gap_s: 0.5,
            post_window_s: 1.0,
            settle_s: 12.0,
            return_hold_s: 5.0,
            after_gap_s: 1.0,
            slow_tau_s: 0.6,
            slow_linear_on_factor: 1.6,
            slow_linear_off_factor: 1.2,
        }
    }
}

/// Calibration settings (domain.md §6, after van Hees et al. 2014).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalibrationConfig {
    /// Fit and apply calibration at all.
    pub enabled: bool,
    /// Length of the windows tested for stillness, in seconds.
    pub window_s: f64,
    /// Largest per-axis standard deviation of a still window, in g (13 mg in the reference).
    pub still_sd_g: f64,
    /// Largest residual |a| − 1 accepted for a fit, in g (10 mg in the reference).
    pub max_residual_g: f64,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            enabled: true,
            window_s: 10.0,
            still_sd_g: 0.013,
            max_residual_g: 0.01,
        }
    }
}

fn positive(field: &'static str, v: f64) -> Result<(), ConfigError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(ConfigError::new(field, v, "must be positive and finite"))
    }
}

fn non_negative(field: &'static str, v: f64) -> Result<(), ConfigError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(ConfigError::new(
            field,
            v,
            "must be zero or positive, and finite",
        ))
    }
}

impl Config {
    /// Reads a config file: TOML (`.toml`) or JSON (`.json`, or any other name whose text
    /// starts with `{`), naming only the fields that differ from the defaults.
    ///
    /// ```
    /// # let dir = std::env::temp_dir();
    /// # let path = dir.join(format!("sleeptwitch-doc-{}.toml", std::process::id()));
    /// std::fs::write(&path, "[series]\nrule = \"aasm2012\"\nimi_min_s = 5.0\n")?;
    /// let config = sleeptwitch::Config::from_file(&path)?;
    /// assert_eq!(config.series.imi_min_s, 5.0);
    /// assert_eq!(config.segment, Default::default());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// The file is only parsed: values are checked against their rules when a detector is
    /// built (see [`validate`](Self::validate)).
    ///
    /// # Errors
    /// When the file cannot be read, or does not parse as a config (bad syntax, an unknown
    /// field, a value of the wrong type); the error names the file and the line.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Config, crate::Error> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|e| crate::Error::from(e).in_file(path))?;
        Config::from_text(&text, path)
    }

    /// Parses the text of a config file; `path` decides the format and names the file in
    /// errors.
    fn from_text(text: &str, path: &std::path::Path) -> Result<Config, crate::Error> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let json = match ext.as_deref() {
            Some("json") => true,
            Some("toml") => false,
            _ => text.trim_start().starts_with('{'),
        };
        let (line, message) = if json {
            match serde_json::from_str::<Config>(text) {
                Ok(c) => return Ok(c),
                Err(e) => (Some(e.line() as u64).filter(|l| *l > 0), e.to_string()),
            }
        } else {
            match toml::from_str::<Config>(text) {
                Ok(c) => return Ok(c),
                Err(e) => {
                    let line = e.span().map(|span| {
                        let before = text.get(..span.start).unwrap_or(text);
                        before.bytes().filter(|b| *b == b'\n').count() as u64 + 1
                    });
                    (line, e.message().to_string())
                }
            }
        };
        // serde_json appends " at line L column C"; the position already says where.
        let message = match message.rfind(" at line ") {
            Some(i) if json => message.get(..i).unwrap_or(&message).to_string(),
            _ => message,
        };
        let kind = crate::ErrorKind::Other(format!("config: {}", message.trim_end()));
        let e = match line {
            Some(l) => crate::Error::at(kind, crate::Position::line(l)),
            None => crate::Error::new(kind),
        };
        Err(e.in_file(path))
    }

    /// Checks every field against its rule, for a recording sampled at `sample_rate_hz`:
    /// the rules of [`validate_fields`](Self::validate_fields), then those that depend on
    /// the rate.
    ///
    /// # Errors
    /// The first field that breaks a rule, with its value and the rule.
    pub fn validate(&self, sample_rate_hz: f64) -> Result<(), ConfigError> {
        if !(sample_rate_hz >= crate::io::MIN_RATE_HZ && sample_rate_hz.is_finite()) {
            return Err(ConfigError::new(
                "sample_rate_hz",
                sample_rate_hz,
                format!("must be at least {} Hz", crate::io::MIN_RATE_HZ),
            ));
        }
        self.validate_fields()?;
        let s = &self.signal;
        if s.gravity_cutoff_hz >= sample_rate_hz / 4.0 {
            return Err(ConfigError::new(
                "signal.gravity_cutoff_hz",
                s.gravity_cutoff_hz,
                format!(
                    "must be below a quarter of the sample rate, {} Hz",
                    sample_rate_hz / 4.0
                ),
            ));
        }
        Ok(())
    }

    /// Checks every rule that holds whatever the recording's sample rate: all of
    /// [`validate`](Self::validate) but the gravity cutoff's bound by the rate. A config
    /// that passes can still fail for a slow recording; one that fails fails for all, so a
    /// caller can report it as the config's fault before any recording is opened.
    ///
    /// # Errors
    /// The first field that breaks a rule, with its value and the rule.
    pub fn validate_fields(&self) -> Result<(), ConfigError> {
        let s = &self.signal;
        positive("signal.gravity_cutoff_hz", s.gravity_cutoff_hz)?;
        positive("signal.block_s", s.block_s)?;
        if s.block_s > 0.25 {
            return Err(ConfigError::new(
                "signal.block_s",
                s.block_s,
                "must be at most 0.25 s, half the shortest leg movement",
            ));
        }
        positive("signal.baseline_tau_s", s.baseline_tau_s)?;
        let f = &self.floor;
        positive("floor.window_s", f.window_s)?;
        positive("floor.step_s", f.step_s)?;
        if f.step_s < s.block_s || f.window_s < 4.0 * f.step_s {
            return Err(ConfigError::new(
                "floor.step_s",
                f.step_s,
                "must be at least one block and at most a quarter of floor.window_s",
            ));
        }
        if f.window_s / f.step_s > 4096.0 {
            return Err(ConfigError::new(
                "floor.window_s",
                f.window_s,
                "must hold at most 4096 steps of floor.step_s",
            ));
        }
        if !(f.quantile > 0.0 && f.quantile < 1.0) {
            return Err(ConfigError::new(
                "floor.quantile",
                f.quantile,
                "must lie in (0, 1)",
            ));
        }
        positive("floor.max_freeze_s", f.max_freeze_s)?;
        if !(f.max_weak_frozen_share > 0.0 && f.max_weak_frozen_share <= 1.0) {
            return Err(ConfigError::new(
                "floor.max_weak_frozen_share",
                f.max_weak_frozen_share,
                "must lie in (0, 1]",
            ));
        }
        let g = &self.segment;
        positive("segment.on_factor", g.on_factor)?;
        positive("segment.off_factor", g.off_factor)?;
        if g.off_factor > g.on_factor || g.off_factor < 1.0 {
            return Err(ConfigError::new(
                "segment.off_factor",
                g.off_factor,
                "must lie between 1 and segment.on_factor",
            ));
        }
        non_negative("segment.min_on_margin_g", g.min_on_margin_g)?;
        non_negative("segment.min_off_margin_g", g.min_off_margin_g)?;
        if g.min_off_margin_g > g.min_on_margin_g {
            return Err(ConfigError::new(
                "segment.min_off_margin_g",
                g.min_off_margin_g,
                "must not exceed segment.min_on_margin_g",
            ));
        }
        positive("segment.merge_gap_s", g.merge_gap_s)?;
        positive("segment.post_window_s", g.post_window_s)?;
        positive("segment.settle_s", g.settle_s)?;
        non_negative("segment.return_hold_s", g.return_hold_s)?;
        positive("segment.after_gap_s", g.after_gap_s)?;
        non_negative("segment.slow_tau_s", g.slow_tau_s)?;
        non_negative("segment.slow_linear_on_factor", g.slow_linear_on_factor)?;
        if g.slow_linear_on_factor > 0.0
            && !(g.slow_linear_off_factor >= 1.0
                && g.slow_linear_off_factor <= g.slow_linear_on_factor)
        {
            return Err(ConfigError::new(
                "segment.slow_linear_off_factor",
                g.slow_linear_off_factor,
                "must lie between 1 and segment.slow_linear_on_factor",
            ));
        }
        let c = &self.calibration;
        positive("calibration.window_s", c.window_s)?;
        positive("calibration.still_sd_g", c.still_sd_g)?;
        positive("calibration.max_residual_g", c.max_residual_g)?;
        self.classify.validate()?;
        self.series.validate()?;
        positive("sleep.persist_s", self.sleep.persist_s)?;
        positive("sleep.jerk_window_s", self.sleep.jerk_window_s)?;
        positive("sleep.settle_s", self.sleep.settle_s)?;
        self.wear.validate()?;
        Ok(())
    }
}

/// Converts a duration to a whole number of steps of `step_s`, at least one.
///
/// Rounds to nearest, and a ratio short of a half by at most 10 parts per million (and at
/// most a tenth of a step) up with the half: at 30 Hz a block is 2/30 s and half a second
/// 7.5 blocks, and a rate measured from timestamps misses 30 Hz in the sixth digit (times
/// rounded to the millisecond) or the ninth (a device's times computed in floating point),
/// which would otherwise make the same samples 7 blocks in one file and 8 in another. The
/// one helper every seconds → samples/blocks conversion goes through.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
// Callers pass validated positive, finite durations; the ratio is clamped to [1, 2^31].
pub(crate) fn steps(duration_s: f64, step_s: f64) -> u32 {
    let ratio = duration_s / step_s;
    let n = (ratio + (ratio * 1e-5).min(0.1)).round();
    n.clamp(1.0, 2_147_483_648.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_step_is_the_same_whether_the_rate_is_exact_or_measured() {
        // Half a second in blocks of two samples at 30 Hz: 7.5 blocks, rounded up, whether
        // the rate is exactly 30 Hz, computed in floating point from a device's clock, or
        // measured from times rounded to the millisecond.
        for rate in [30.0, 29.999_999_972, 30.000_000_03, 29.999_8, 30.000_2] {
            assert_eq!(steps(0.5, 2.0 / rate), 8, "{rate} Hz");
        }
        // Away from the half, nearest as ever.
        assert_eq!(steps(0.5, 2.0 / 29.9), 7);
        assert_eq!(steps(0.5, 0.1), 5);
        assert_eq!(steps(0.01, 0.1), 1);
        // Long durations in samples stay exact: 10 minutes at 200 Hz.
        assert_eq!(steps(600.0, 1.0 / 200.0), 120_000);
        assert_eq!(steps(600.0025, 1.0 / 200.0), 120_001);
    }

    #[test]
    fn defaults_validate_across_the_supported_rates() {
        for rate in [10.0, 12.5, 25.0, 30.0, 50.0, 85.7, 100.0, 200.0, 3200.0] {
            Config::default().validate(rate).unwrap();
        }
    }

    #[test]
    fn bad_values_name_field_and_rule() {
        let mut c = Config::default();
        c.segment.off_factor = 5.0;
        let e = c.validate(100.0).unwrap_err();
        assert_eq!(e.field, "segment.off_factor");
        // The slow channel's linear factors: the offset between 1 and the onset, unless
        // the onset is 0 (off).
        let mut c = Config::default();
        c.segment.slow_linear_off_factor = 2.0;
        let e = c.validate(100.0).unwrap_err();
        assert_eq!(e.field, "segment.slow_linear_off_factor");
        c.segment.slow_linear_on_factor = 0.0;
        assert!(c.validate(100.0).is_ok());
        c.segment.slow_linear_on_factor = -1.0;
        let e = c.validate(100.0).unwrap_err();
        assert_eq!(e.field, "segment.slow_linear_on_factor");
        let mut c = Config::default();
        c.signal.gravity_cutoff_hz = 30.0;
        assert_eq!(
            c.validate(100.0).unwrap_err().to_string(),
            "`signal.gravity_cutoff_hz` = 30 must be below a quarter of the sample rate, 25 Hz"
        );
        let e = Config::default().validate(5.0).unwrap_err();
        assert_eq!(e.field, "sample_rate_hz");
        let mut c = Config::default();
        c.floor.quantile = 1.0;
        assert_eq!(c.validate(100.0).unwrap_err().field, "floor.quantile");
        // Naming waits for the neighbours within the jerk isolation time, no longer.
        let mut c = Config::default();
        c.classify.chatter_quiet_s = c.classify.jerk_isolation_s + 0.1;
        let e = c.validate(100.0).unwrap_err();
        assert_eq!(e.field, "classify.chatter_quiet_s");
        c.classify.chatter_quiet_s = c.classify.jerk_isolation_s;
        assert!(c.validate(100.0).is_ok());
        let mut c = Config::default();
        c.classify.jerk_body_isolation_s = c.classify.jerk_isolation_s + 0.1;
        let e = c.validate(100.0).unwrap_err();
        assert_eq!(e.field, "classify.jerk_body_isolation_s");
        c.classify.jerk_body_isolation_s = c.classify.jerk_isolation_s;
        assert!(c.validate(100.0).is_ok());
        let mut c = Config::default();
        c.classify.hold_min_gap_s = 0.0;
        let e = c.validate(100.0).unwrap_err();
        assert_eq!(e.field, "classify.hold_min_gap_s");
        let mut c = Config::default();
        c.classify.hold_min_deg = f64::NAN;
        let e = c.validate(100.0).unwrap_err();
        assert_eq!(e.field, "classify.hold_min_deg");
        let mut c = Config::default();
        c.sleep.settle_s = 0.0;
        assert_eq!(c.validate(100.0).unwrap_err().field, "sleep.settle_s");
        // 0 turns the return-to-hold rule off; below that is an error.
        let mut c = Config::default();
        c.segment.return_hold_s = 0.0;
        assert!(c.validate(100.0).is_ok());
        c.segment.return_hold_s = -1.0;
        assert_eq!(
            c.validate(100.0).unwrap_err().field,
            "segment.return_hold_s"
        );
    }

    #[test]
    fn rules_free_of_the_rate_are_checked_without_one() {
        Config::default().validate_fields().unwrap();
        let mut c = Config::default();
        c.segment.on_factor = -3.0;
        let e = c.validate_fields().unwrap_err();
        assert_eq!(
            e.to_string(),
            "`segment.on_factor` = -3 must be positive and finite"
        );
        assert_eq!(c.validate(100.0).unwrap_err(), e);
        let mut c = Config::default();
        c.series.imi_min_s = -1.0;
        assert!(c.validate_fields().is_err());
        // The gravity cutoff's bound depends on the rate: only `validate` knows it.
        let mut c = Config::default();
        c.signal.gravity_cutoff_hz = 5.0;
        c.validate_fields().unwrap();
        assert!(c.validate(10.0).is_err());
        c.validate(100.0).unwrap();
    }

    #[test]
    fn partial_json_takes_defaults_and_unknown_fields_are_refused() {
        let c: Config = serde_json::from_str(r#"{"segment": {"on_factor": 4.0}}"#).unwrap();
        assert_eq!(c.segment.on_factor, 4.0);
        assert_eq!(c.segment.off_factor, SegmentConfig::default().off_factor);
        assert!(serde_json::from_str::<Config>(r#"{"segment": {"on": 4.0}}"#).is_err());
    }

    #[test]
    fn config_files_in_toml_and_json_with_errors_naming_file_and_line() {
        use std::path::Path;
        let toml = "# a comment\n[segment]\non_factor = 4.0\n\n[series]\nrule = \"aasm2012\"\n";
        let c = Config::from_text(toml, Path::new("a.toml")).unwrap();
        assert_eq!(c.segment.on_factor, 4.0);
        assert_eq!(c.series.rule, crate::ScoringRule::Aasm2012);
        assert_eq!(c.floor, FloorConfig::default());
        let json = r#"{"segment": {"on_factor": 4.0}, "series": {"rule": "aasm2012"}}"#;
        assert_eq!(Config::from_text(json, Path::new("b.json")).unwrap(), c);
        // A name without an extension: JSON if the text starts with a brace.
        assert_eq!(Config::from_text(json, Path::new("cfg")).unwrap(), c);
        // An unknown field on line 3 of the TOML file.
        let bad = "[segment]\non_factor = 4.0\non = 5\n";
        let e = Config::from_text(bad, Path::new("bad.toml")).unwrap_err();
        assert_eq!(e.line(), Some(3), "{e}");
        assert!(e.to_string().starts_with("bad.toml:3: config: "), "{e}");
        assert!(e.to_string().contains("on"), "{e}");
        // A string where a number goes, on line 2 of the JSON file.
        let bad = "{\"segment\":\n {\"on_factor\": \"four\"}}";
        let e = Config::from_text(bad, Path::new("bad.json")).unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.to_string().starts_with("bad.json:2: config: "), "{e}");
        assert!(!e.to_string().contains("at line"), "{e}");
        // Syntax error on line 2.
        let e = Config::from_text("[segment]\non_factor = = 4\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");
    }

    #[test]
    fn steps_round_and_never_reach_zero() {
        assert_eq!(steps(0.05, 0.01), 5);
        assert_eq!(steps(0.05, 0.04), 1);
        assert_eq!(steps(0.001, 0.01), 1);
        assert_eq!(steps(0.5, 0.05), 10);
        assert_eq!(steps(60.0, 0.5), 120);
    }
}
