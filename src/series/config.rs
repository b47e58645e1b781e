//! The series rules' parameters: presets, validation, and limits compared within 1 µs.

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Which published rule set scores leg movements into series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringRule {
    /// World Association of Sleep Medicine 2016 standard [Ferri et al. 2016] (`domain.md` §3.2).
    #[default]
    Wasm2016,
    /// AASM scoring manual v2.x (2012 on; rules as in 2007) (`domain.md` §3.1).
    Aasm2012,
}

impl ScoringRule {
    /// The rule's name as written in configs and reports (`wasm2016`, `aasm2012`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ScoringRule::Wasm2016 => "wasm2016",
            ScoringRule::Aasm2012 => "aasm2012",
        }
    }
}

/// Parameters of the series rules; start from [`SeriesConfig::wasm2016`] or
/// [`SeriesConfig::aasm2012`].
///
/// When read with serde, fields left out take the values of the preset named by `rule`
/// (WASM 2016 if `rule` is absent too), and the result is validated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSeriesConfig")]
pub struct SeriesConfig {
    /// The rule set: decides the bilateral merge and how breakers are treated.
    pub rule: ScoringRule,
    /// Shortest leg movement, in seconds; shorter bursts are not LMs (both rules: 0.5 s).
    pub lm_min_s: f64,
    /// Longest monolateral CLM, in seconds; longer LMs are non-CLM (both rules: 10 s).
    pub clm_max_s: f64,
    /// Longest bilateral (merged) CLM, in seconds (WASM 2016 step 3: 15 s; unused by AASM).
    pub bilateral_clm_max_s: f64,
    /// Most monolateral components a bilateral CLM may have (WASM 2016 step 3: 4; unused by AASM).
    pub bilateral_max_components: u32,
    /// Cross-leg merge gap, in seconds: LMs that overlap or whose gap (offset → next onset)
    /// is below it merge (WASM 2016 step 3: 0.5 s; unused by AASM).
    pub merge_gap_s: f64,
    /// Cross-leg merge window for AASM, in seconds: LMs of the two legs whose onsets are less
    /// than this apart count as one (AASM: 5 s; unused by WASM).
    pub aasm_bilateral_onset_s: f64,
    /// Shortest IMI inside a series, in seconds, inclusive (WASM 10 s, AASM 5 s).
    pub imi_min_s: f64,
    /// Longest IMI inside a series, in seconds, inclusive (both rules: 90 s).
    pub imi_max_s: f64,
    /// Fewest consecutive CLMs that make a series (both rules: 4).
    pub min_run: u32,
    /// Whether a CLM preceded by an IMI below `imi_min_s` may be the first member of a new
    /// series (`domain.md` §8 item 4: PLMScoRe allows it, MATPLM forbids it).
    ///
    /// Default `false`: then the three CLM classes partition cleanly — a short-interval LM is
    /// never a PLM, as the WASM glossary has it ("it cannot sit inside a series").
    pub short_interval_may_start: bool,
    /// AASM only: whether an LM longer than `clm_max_s`, or a CLM after an IMI below
    /// `imi_min_s`, breaks a run (`true`) or is ignored (`false`, the default, as earlier
    /// Coleman practice did) (`domain.md` §3.1, §8 item 6). WASM breakers always break.
    pub breakers_break: bool,
    /// Same-leg quiet time that ends an LM, in seconds: bursts of one leg less than this
    /// apart are one LM (WASM 2016 step 1 and the AASM offset rule: 0.5 s).
    pub same_leg_gap_s: f64,
}

impl Default for SeriesConfig {
    /// The WASM 2016 preset.
    fn default() -> Self {
        SeriesConfig::wasm2016()
    }
}

impl SeriesConfig {
    /// The WASM 2016 rules [Ferri et al. 2016] (`domain.md` §3.2).
    pub fn wasm2016() -> Self {
        SeriesConfig {
            rule: ScoringRule::Wasm2016,
            lm_min_s: 0.5,
            clm_max_s: 10.0,
            bilateral_clm_max_s: 15.0,
            bilateral_max_components: 4,
            merge_gap_s: 0.5,
            aasm_bilateral_onset_s: 5.0,
            imi_min_s: 10.0,
            imi_max_s: 90.0,
            min_run: 4,
            short_interval_may_start: false,
            breakers_break: true,
            same_leg_gap_s: 0.5,
        }
    }

    /// The AASM rules (manual v2.x; `domain.md` §3.1), with breakers ignored.
    pub fn aasm2012() -> Self {
        SeriesConfig {
            rule: ScoringRule::Aasm2012,
            imi_min_s: 5.0,
            breakers_break: false,
            ..SeriesConfig::wasm2016()
        }
    }

    /// The preset for a rule.
    pub fn for_rule(rule: ScoringRule) -> Self {
        match rule {
            ScoringRule::Wasm2016 => SeriesConfig::wasm2016(),
            ScoringRule::Aasm2012 => SeriesConfig::aasm2012(),
        }
    }

    /// True when LMs that cannot count (non-CLM, short IMI) are skipped rather than breaking
    /// runs: AASM with `breakers_break = false`.
    pub fn ignores_breakers(&self) -> bool {
        self.rule == ScoringRule::Aasm2012 && !self.breakers_break
    }

    /// True when an IMI (seconds) lies in the series window `[imi_min_s, imi_max_s]`, both
    /// ends inclusive within [`TIME_TOLERANCE_S`].
    pub fn imi_in_window(&self, imi_s: f64) -> bool {
        at_least(imi_s, self.imi_min_s) && at_most(imi_s, self.imi_max_s)
    }

    /// True when an IMI (seconds) is below `imi_min_s` (by more than [`TIME_TOLERANCE_S`]).
    pub fn imi_is_short(&self, imi_s: f64) -> bool {
        below(imi_s, self.imi_min_s)
    }

    /// True when a leg movement of this duration (seconds) can be a CLM: at most
    /// `clm_max_s` when seen on one leg, `bilateral_clm_max_s` when merged across legs under
    /// WASM 2016 (AASM has no bilateral limit beyond its components' `clm_max_s`).
    ///
    /// This is the duration part of the rule only: it cannot see a bilateral LM's component
    /// count or whether a component was a non-CLM.
    pub fn clm_duration_ok(&self, duration_s: f64, bilateral: bool) -> bool {
        match (self.rule, bilateral) {
            (ScoringRule::Wasm2016, true) => at_most(duration_s, self.bilateral_clm_max_s),
            (ScoringRule::Aasm2012, true) => duration_s.is_finite(),
            (_, false) => at_most(duration_s, self.clm_max_s),
        }
    }

    /// Checks every field against its rule.
    ///
    /// # Errors
    /// The first field that is not finite, is negative, or breaks an ordering
    /// (`lm_min_s ≤ clm_max_s ≤ bilateral_clm_max_s`, `imi_min_s ≤ imi_max_s`,
    /// `1 ≤ min_run ≤ 100`, `bilateral_max_components ≥ 1`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let non_negative = [
            ("lm_min_s", self.lm_min_s),
            ("clm_max_s", self.clm_max_s),
            ("bilateral_clm_max_s", self.bilateral_clm_max_s),
            ("merge_gap_s", self.merge_gap_s),
            ("aasm_bilateral_onset_s", self.aasm_bilateral_onset_s),
            ("imi_min_s", self.imi_min_s),
            ("imi_max_s", self.imi_max_s),
            ("same_leg_gap_s", self.same_leg_gap_s),
        ];
        for (field, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ConfigError::new(
                    field,
                    v,
                    "must be a finite number of seconds ≥ 0",
                ));
            }
        }
        if self.clm_max_s < self.lm_min_s {
            return Err(ConfigError::new(
                "clm_max_s",
                self.clm_max_s,
                format!("must be ≥ lm_min_s = {}", self.lm_min_s),
            ));
        }
        if self.bilateral_clm_max_s < self.clm_max_s {
            return Err(ConfigError::new(
                "bilateral_clm_max_s",
                self.bilateral_clm_max_s,
                format!("must be ≥ clm_max_s = {}", self.clm_max_s),
            ));
        }
        if self.imi_max_s < self.imi_min_s {
            return Err(ConfigError::new(
                "imi_max_s",
                self.imi_max_s,
                format!("must be ≥ imi_min_s = {}", self.imi_min_s),
            ));
        }
        if !(1..=MAX_MIN_RUN).contains(&self.min_run) {
            return Err(ConfigError::new(
                "min_run",
                self.min_run,
                format!("must be from 1 to {MAX_MIN_RUN}"),
            ));
        }
        if self.bilateral_max_components == 0 {
            return Err(ConfigError::new(
                "bilateral_max_components",
                0,
                "must be ≥ 1",
            ));
        }
        Ok(())
    }
}

/// Largest accepted `min_run`: it sizes the tracker's queue, and published rules use 4.
const MAX_MIN_RUN: u32 = 100;

/// Times and durations within this many seconds of a rule's limit count as equal to it.
///
/// Onsets are f64 seconds: the difference of two Unix-epoch times (≈ 1.7e9 s, one ulp
/// ≈ 0.24 µs) carries up to about half a microsecond of rounding, and onsets built by adding
/// decimal steps land 1e-15 s off (19.9 − 9.9 = 9.999999999999998). Without a tolerance an
/// IMI meant as exactly 10 s would fall either side of the limit by accident. One microsecond
/// is far below any sample interval (1 ms at 1 kHz), so no limit moves by a sample.
pub const TIME_TOLERANCE_S: f64 = 1e-6;

/// `x ≥ limit`, within [`TIME_TOLERANCE_S`]; false for NaN.
pub(crate) fn at_least(x: f64, limit: f64) -> bool {
    x >= limit - TIME_TOLERANCE_S
}

/// `x ≤ limit`, within [`TIME_TOLERANCE_S`]; false for NaN.
pub(crate) fn at_most(x: f64, limit: f64) -> bool {
    x <= limit + TIME_TOLERANCE_S
}

/// `x < limit`, within [`TIME_TOLERANCE_S`]: the negation of [`at_least`] (true for NaN).
pub(crate) fn below(x: f64, limit: f64) -> bool {
    !at_least(x, limit)
}

/// [`SeriesConfig`] as read from a file: every field optional, filled from the rule's preset.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeriesConfig {
    rule: Option<ScoringRule>,
    lm_min_s: Option<f64>,
    clm_max_s: Option<f64>,
    bilateral_clm_max_s: Option<f64>,
    bilateral_max_components: Option<u32>,
    merge_gap_s: Option<f64>,
    aasm_bilateral_onset_s: Option<f64>,
    imi_min_s: Option<f64>,
    imi_max_s: Option<f64>,
    min_run: Option<u32>,
    short_interval_may_start: Option<bool>,
    breakers_break: Option<bool>,
    same_leg_gap_s: Option<f64>,
}

impl TryFrom<RawSeriesConfig> for SeriesConfig {
    type Error = ConfigError;

    fn try_from(r: RawSeriesConfig) -> Result<Self, ConfigError> {
        let d = SeriesConfig::for_rule(r.rule.unwrap_or_default());
        let cfg = SeriesConfig {
            rule: d.rule,
            lm_min_s: r.lm_min_s.unwrap_or(d.lm_min_s),
            clm_max_s: r.clm_max_s.unwrap_or(d.clm_max_s),
            bilateral_clm_max_s: r.bilateral_clm_max_s.unwrap_or(d.bilateral_clm_max_s),
            bilateral_max_components: r
                .bilateral_max_components
                .unwrap_or(d.bilateral_max_components),
            merge_gap_s: r.merge_gap_s.unwrap_or(d.merge_gap_s),
            aasm_bilateral_onset_s: r.aasm_bilateral_onset_s.unwrap_or(d.aasm_bilateral_onset_s),
            imi_min_s: r.imi_min_s.unwrap_or(d.imi_min_s),
            imi_max_s: r.imi_max_s.unwrap_or(d.imi_max_s),
            min_run: r.min_run.unwrap_or(d.min_run),
            short_interval_may_start: r
                .short_interval_may_start
                .unwrap_or(d.short_interval_may_start),
            breakers_break: r.breakers_break.unwrap_or(d.breakers_break),
            same_leg_gap_s: r.same_leg_gap_s.unwrap_or(d.same_leg_gap_s),
        };
        cfg.validate()?;
        Ok(cfg)
    }
}
