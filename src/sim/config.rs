//! What a simulated night is made of: [`SimConfig`] and its parts, with units in every name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::series::ScoringRule;
use crate::{ConfigError, Site};

/// Which sensors a simulated night has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One sensor on an ankle (the right leg of the simulated body), file `night.csv`.
    #[default]
    Ankle,
    /// One sensor on a wrist, file `night.csv`.
    Wrist,
    /// Left ankle, right ankle and wrist of the same night, files
    /// `night.left_ankle.csv`, `night.right_ankle.csv` and `night.wrist.csv`.
    Bilateral,
}

impl Layout {
    /// The sites worn, in file order.
    pub const fn sites(self) -> &'static [Site] {
        match self {
            Layout::Ankle => &[Site::Ankle],
            Layout::Wrist => &[Site::Wrist],
            Layout::Bilateral => &[Site::LeftAnkle, Site::RightAnkle, Site::Wrist],
        }
    }

    /// The layout's name on the command line (`ankle`, `wrist`, `bilateral`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Layout::Ankle => "ankle",
            Layout::Wrist => "wrist",
            Layout::Bilateral => "bilateral",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layout {
    type Err = String;

    /// Parses `ankle`, `wrist` or `bilateral` (ASCII case ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Layout::Ankle, Layout::Wrist, Layout::Bilateral]
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown layout {s:?}; expected ankle, wrist or bilateral"))
    }
}

/// How many periodic leg movements the night has, as a PLMS index range.
///
/// Ranges follow the usual severity grading of the PLMS index: fewer than 5/h is normal
/// (`domain.md` §4.5: the PLMD threshold is 15/h in adults, and 36 % of healthy adults
/// exceed 5/h), 5–25/h mild, 25–50/h moderate, 50/h and more severe. The simulator keeps
/// the *scored* index of its truth inside the range (it adds or removes series until it is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// PLMSI below 5/h: isolated and short-interval movements, rarely a short series.
    None,
    /// PLMSI 5 to 25/h.
    #[default]
    Mild,
    /// PLMSI 25 to 50/h.
    Moderate,
    /// PLMSI 50 to 90/h.
    Severe,
}

impl Severity {
    /// Every severity, mildest first.
    pub const ALL: [Severity; 4] = [
        Severity::None,
        Severity::Mild,
        Severity::Moderate,
        Severity::Severe,
    ];

    /// The PLMS index range `[low, high)` the truth lands in, per hour of sleep.
    pub const fn plmsi_range_per_h(self) -> (f64, f64) {
        match self {
            Severity::None => (0.0, 5.0),
            Severity::Mild => (5.0, 25.0),
            Severity::Moderate => (25.0, 50.0),
            Severity::Severe => (50.0, 90.0),
        }
    }

    /// The severity's name on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Mild => "mild",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    /// Parses `none`, `mild`, `moderate` or `severe` (ASCII case ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity {s:?}; expected none, mild, moderate or severe")
            })
    }
}

/// Parses a scoring rule name, `wasm2016` or `aasm2012` (ASCII case ignored).
///
/// # Errors
/// A message naming the accepted names.
pub fn parse_rule(s: &str) -> Result<ScoringRule, String> {
    [ScoringRule::Wasm2016, ScoringRule::Aasm2012]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| format!("unknown rule {s:?}; expected wasm2016 or aasm2012"))
}

/// Difficulty of the easy preset (0: big movements, low noise, few distractors).
pub const EASY: f64 = 0.0;
/// Difficulty of the hard preset (1: 1–2° movements, 10 mg noise, crowded distractors).
pub const HARD: f64 = 1.0;

/// Parses a difficulty: `easy`, `hard`, or a number from 0 to 1.
///
/// # Errors
/// A message naming what was expected when `s` is none of them.
pub fn parse_difficulty(s: &str) -> Result<f64, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "easy" => Ok(EASY),
        "hard" => Ok(HARD),
        t => match t.parse::<f64>() {
            Ok(d) if (0.0..=1.0).contains(&d) => Ok(d),
            _ => Err(format!(
                "unknown difficulty {s:?}; expected easy, hard or a number from 0 to 1"
            )),
        },
    }
}

/// The simulated sensor: calibration error, noise, resolution, range and timing.
///
/// Defaults follow `domain.md` §6 and the real recordings in `../shared/data`: ±8 g at
/// 12 bits (1/256 g, 3.9 mg steps, as AX3 full resolution, GENEActiv and wGT3X-BT),
/// offsets up to ±0.05 g and gains up to ±3 % per axis, time stamps rounded to 1 ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorConfig {
    /// White noise per axis, standard deviation in mg; `None` takes 2 + 8 × difficulty.
    pub noise_mg: Option<f64>,
    /// Full-scale range, ± this many g; one of 2, 4, 8, 16. Values beyond it clip.
    pub range_g: f64,
    /// Bits per axis over the full range (8–16): the step is 2 × range / 2^bits g.
    pub bits: u32,
    /// Largest per-axis offset error, in g (each axis draws uniformly in ±this).
    pub offset_max_g: f64,
    /// Largest per-axis gain error, as a fraction (each axis draws 1 ± up to this).
    pub gain_error_max: f64,
    /// Largest per-axis offset drift over the night (skin warming under the covers), in g;
    /// 0 turns drift off. The drift follows 1 − exp(−t/30 min) from getting into bed.
    pub drift_max_g: f64,
    /// Time-stamp jitter, standard deviation in ms (clamped to ±45 % of a sample interval).
    pub jitter_ms: f64,
    /// Device clock error: the true rate is `rate_hz × (1 + rate_error_ppm × 1e-6)`.
    pub rate_error_ppm: f64,
    /// Decimals of the time column (3: 1 ms like the real files, up to 6).
    pub time_decimals: u32,
    /// Drop a few stretches of samples (2 s to 5 min) where nothing happens, as devices
    /// with idle modes or lost blocks do.
    pub gaps: bool,
    /// Unix time of the recording start, in seconds (rounded to the time resolution);
    /// `None` writes times from 0.
    pub epoch_start_s: Option<f64>,
}

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            noise_mg: None,
            range_g: 8.0,
            bits: 12,
            offset_max_g: 0.05,
            gain_error_max: 0.03,
            drift_max_g: 0.0,
            jitter_ms: 0.0,
            rate_error_ppm: 0.0,
            time_decimals: 3,
            gaps: false,
            epoch_start_s: None,
        }
    }
}

impl SensorConfig {
    /// Quantisation step, in g (2 × range / 2^bits).
    pub fn step_g(&self) -> f64 {
        2.0 * self.range_g / f64::from(1u32 << self.bits.min(30))
    }

    /// Decimals that print every multiple of the step exactly: the step is 2^-k g, and
    /// 2^-k has exactly k decimals.
    pub(crate) fn acc_decimals(&self) -> u32 {
        // range_g is 2^r with r in 1..=4, step = 2^(1 + r - bits) = 2^-k.
        let r = [2.0, 4.0, 8.0]
            .iter()
            .zip(1u32..)
            .find(|(x, _)| (self.range_g - **x).abs() < 1e-9)
            .map_or(4, |(_, r)| r);
        self.bits.saturating_sub(1 + r)
    }
}

/// One simulated night: what happens, how severe, how hard, and the sensor that records it.
///
/// All randomness comes from `seed`: the same config gives byte-identical files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// A label for benchmark tables (free text, may be empty).
    pub name: String,
    /// Seed of every random draw.
    pub seed: u64,
    /// Length of the recording, in hours (1 to 48).
    pub duration_h: f64,
    /// Nominal sample rate, in Hz (10 to 1000; 25–200 is the tested range).
    pub rate_hz: f64,
    /// Which sensors are worn.
    pub layout: Layout,
    /// From 0 (easy) to 1 (hard): movement size, noise, distractors and crowding.
    pub difficulty: f64,
    /// PLMS index range of the night.
    pub severity: Severity,
    /// Scoring rule of the PLM truth.
    pub rule: ScoringRule,
    /// The sensor.
    pub sensor: SensorConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            name: String::new(),
            seed: 1,
            duration_h: 8.0,
            rate_hz: 100.0,
            layout: Layout::Ankle,
            difficulty: 0.4,
            severity: Severity::Mild,
            rule: ScoringRule::Wasm2016,
            sensor: SensorConfig::default(),
        }
    }
}

impl SimConfig {
    /// An 8 h ankle night at 100 Hz, difficulty 0.4, mild PLM, with this seed.
    pub fn new(seed: u64) -> Self {
        SimConfig {
            seed,
            ..SimConfig::default()
        }
    }

    /// The easy preset: difficulty 0 (movements of 6–30°, 2 mg noise, distractors apart).
    pub fn easy(seed: u64) -> Self {
        SimConfig {
            difficulty: EASY,
            ..SimConfig::new(seed)
        }
    }

    /// The hard preset: difficulty 1 (movements down to 1°, 10 mg noise, crowded series,
    /// strong tremor trains, weak jerks).
    pub fn hard(seed: u64) -> Self {
        SimConfig {
            difficulty: HARD,
            ..SimConfig::new(seed)
        }
    }

    /// White noise per axis in mg: the configured value or 2 + 8 × difficulty.
    pub fn noise_mg(&self) -> f64 {
        self.sensor.noise_mg.unwrap_or(2.0 + 8.0 * self.difficulty)
    }

    /// Checks every field against its rule.
    ///
    /// # Errors
    /// The first field that breaks its rule, with the value and the rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.sensor;
        let in_range = |field: &'static str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(ConfigError::new(
                    field,
                    v,
                    format!("must be between {lo} and {hi}"),
                ))
            }
        };
        in_range("duration_h", self.duration_h, 1.0, 48.0)?;
        in_range("rate_hz", self.rate_hz, crate::io::MIN_RATE_HZ, 1000.0)?;
        in_range("difficulty", self.difficulty, 0.0, 1.0)?;
        in_range("noise_mg", self.noise_mg(), 0.0, 100.0)?;
        if ![2.0, 4.0, 8.0, 16.0].contains(&s.range_g) {
            return Err(ConfigError::new(
                "range_g",
                s.range_g,
                "must be 2, 4, 8 or 16",
            ));
        }
        if !(8..=16).contains(&s.bits) || s.acc_decimals() < 4 {
            return Err(ConfigError::new(
                "bits",
                s.bits,
                format!(
                    "must be 8 to 16 and give a step of 1/16 g or finer at ±{} g",
                    s.range_g
                ),
            ));
        }
        in_range("offset_max_g", s.offset_max_g, 0.0, 0.5)?;
        in_range("gain_error_max", s.gain_error_max, 0.0, 0.2)?;
        in_range("drift_max_g", s.drift_max_g, 0.0, 0.2)?;
        in_range("rate_error_ppm", s.rate_error_ppm, -50_000.0, 50_000.0)?;
        if !(3..=6).contains(&s.time_decimals) {
            return Err(ConfigError::new(
                "time_decimals",
                s.time_decimals,
                "must be 3 to 6",
            ));
        }
        let tick_s = 10f64.powi(-(s.time_decimals as i32));
        let interval_s = 1.0 / self.rate_hz;
        if interval_s < 4.0 * tick_s {
            return Err(ConfigError::new(
                "time_decimals",
                s.time_decimals,
                format!(
                    "must resolve the {:.6} s sample interval in 4 steps or more",
                    interval_s
                ),
            ));
        }
        in_range("jitter_ms", s.jitter_ms, 0.0, 1000.0 * interval_s)?;
        if let Some(t0) = s.epoch_start_s {
            in_range("epoch_start_s", t0, 0.0, 4.0e9)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_step_is_one_256th_g_with_8_exact_decimals() {
        let s = SensorConfig::default();
        assert_eq!(s.step_g(), 1.0 / 256.0);
        assert_eq!(s.acc_decimals(), 8);
        // ±16 g at 16 bits: 1/2048 g = 2^-11, 11 decimals.
        let s = SensorConfig {
            range_g: 16.0,
            bits: 16,
            ..SensorConfig::default()
        };
        assert_eq!(s.step_g(), 1.0 / 2048.0);
        assert_eq!(s.acc_decimals(), 11);
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = SimConfig::new(1);
        assert!(c.validate().is_ok());
        c.rate_hz = 5.0;
        assert_eq!(c.validate().unwrap_err().field, "rate_hz");
        c = SimConfig::new(1);
        c.sensor.range_g = 3.0;
        assert_eq!(c.validate().unwrap_err().field, "range_g");
        c = SimConfig::new(1);
        c.sensor.bits = 8; // ±8 g at 8 bits is a 1/16 g step: the coarsest allowed
        assert!(c.validate().is_ok());
        c.sensor.range_g = 16.0; // 1/8 g: too coarse
        assert_eq!(c.validate().unwrap_err().field, "bits");
        c = SimConfig::new(1);
        c.rate_hz = 1000.0; // 1 ms interval at 1 ms resolution
        assert_eq!(c.validate().unwrap_err().field, "time_decimals");
        c.sensor.time_decimals = 4;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn names_parse() {
        assert_eq!("Bilateral".parse::<Layout>().unwrap(), Layout::Bilateral);
        assert_eq!("severe".parse::<Severity>().unwrap(), Severity::Severe);
        assert_eq!(parse_difficulty("hard").unwrap(), HARD);
        assert_eq!(parse_difficulty("0.7").unwrap(), 0.7);
        assert!(parse_difficulty("1.5").is_err());
        assert!("medium".parse::<Severity>().is_err());
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = SimConfig::hard(9);
        let j = serde_json::to_string(&c).unwrap();
        let back: SimConfig = serde_json::from_str(&j).unwrap();
        assert_eq!(back, c);
        let partial: SimConfig = serde_json::from_str(r#"{"seed": 3, "layout": "wrist"}"#).unwrap();
        assert_eq!(partial.seed, 3);
        assert_eq!(partial.layout, Layout::Wrist);
        assert_eq!(partial.rate_hz, 100.0);
    }
}
