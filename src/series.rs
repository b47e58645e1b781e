//! Periodic leg movement (PLM) series: per-leg clean-up, the bilateral merge, and the run rule.
//!
//! Two scoring rules are implemented, chosen by [`ScoringRule`]:
//!
//! - **WASM 2016** [Ferri et al. 2016] (`domain.md` §3.2), the default and current research
//!   standard. Per leg, LMs shorter than 0.5 s are discarded and those longer than 10 s are
//!   kept as *non-CLM* (step 1–2); LMs of the two legs that overlap or lie less than 0.5 s
//!   apart merge into one bilateral LM, a CLM only if it lasts ≤ 15 s, has ≤ 4 components and
//!   contains no non-CLM (step 3); then runs of ≥ 4 consecutive CLMs whose onset-to-onset
//!   intervals (IMI) lie in 10–90 s are PLMs, and an IMI outside that window or any non-CLM
//!   closes a run (steps 4–5).
//! - **AASM 2012** (manual v2.x, unchanged from 2007 in substance; `domain.md` §3.1): LMs of
//!   0.5–10 s, cross-leg LMs with onsets less than 5 s apart merge, IMI window 5–90 s, runs of
//!   ≥ 4. The manual does not say whether an LM longer than 10 s or an IMI shorter than 5 s
//!   breaks a run (`domain.md` §8 item 6): [`SeriesConfig::breakers_break`] chooses. Off (the
//!   default), such LMs are ignored as the older Coleman practice did: they join no run,
//!   break none, and the next IMI is measured from the last LM that counted. On, they break
//!   runs exactly as WASM's breakers do.
//!
//! The vocabulary follows WASM even under AASM: a *CLM* is an LM eligible for a series
//! (AASM: 0.5–10 s), a *non-CLM* one that is not.
//!
//! Classes ([`LmClass`]): every CLM is exactly one of PLM, short-interval (preceded by an IMI
//! below the window, not in a series) or isolated (the rest); every other LM is non-CLM.
//!
//! [`score`] is the batch form and the oracle; [`SeriesTracker`] gives the same output one LM
//! at a time with bounded state, for the streaming detector.
//!
//! # Worked example
//!
//! Seven monolateral CLMs of 2 s on the left leg, with onsets at 0, 20, 40, 60 s (IMIs of
//! 20 s: a run of four, so a series), then 65 s (IMI 5 s < 10 s: short-interval, and it
//! closes the series), then 85 and 180 s (IMIs 20 and 95 s: runs of one, isolated):
//!
//! ```
//! use sleeptwitch::series::{monolateral, score, LmClass, SeriesConfig};
//! use sleeptwitch::Site;
//!
//! let cfg = SeriesConfig::wasm2016();
//! let spans: Vec<(f64, f64)> = [0.0, 20.0, 40.0, 60.0, 65.0, 85.0, 180.0]
//!     .iter()
//!     .map(|&t| (t, t + 2.0))
//!     .collect();
//! let lms = monolateral(&cfg, &spans, Site::LeftAnkle);
//! let scored = score(&cfg, &lms);
//! let classes: Vec<LmClass> = scored.iter().map(|s| s.class).collect();
//! use LmClass::*;
//! assert_eq!(
//!     classes,
//!     [Plm, Plm, Plm, Plm, ShortInterval, Isolated, Isolated]
//! );
//! assert_eq!(scored[0].series_id, Some(1));
//! assert_eq!(scored[4].imi_s, Some(5.0));
//! ```
//!
//! The 85 s movement follows the short-interval one by 20 s, but with the default
//! `short_interval_may_start = false` the 65 s movement cannot open a run, so the 85 s one
//! starts a new run of its own; the next IMI, 95 s, closes it at one member.

use serde::{Deserialize, Serialize};

use crate::{ConfigError, Kind, Site, Sites};

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
fn at_least(x: f64, limit: f64) -> bool {
    x >= limit - TIME_TOLERANCE_S
}

/// `x ≤ limit`, within [`TIME_TOLERANCE_S`]; false for NaN.
fn at_most(x: f64, limit: f64) -> bool {
    x <= limit + TIME_TOLERANCE_S
}

/// `x < limit`, within [`TIME_TOLERANCE_S`]: the negation of [`at_least`] (true for NaN).
fn below(x: f64, limit: f64) -> bool {
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

/// One leg movement, monolateral or merged across legs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LegMovement {
    /// Onset, in seconds on the input's clock (earliest component onset when merged).
    pub onset_s: f64,
    /// Offset, in seconds on the input's clock (latest component offset when merged).
    pub offset_s: f64,
    /// The legs (sites) it was seen on.
    pub sites: Sites,
    /// Number of monolateral LMs merged into it (1 for a monolateral LM).
    pub n_components: u32,
    /// True for a candidate LM (CLM), one eligible for a series; false for a non-CLM.
    pub is_clm: bool,
}

impl LegMovement {
    /// A monolateral LM on `site`, its CLM flag set by duration (`≤ clm_max_s`).
    pub fn new(cfg: &SeriesConfig, onset_s: f64, offset_s: f64, site: Site) -> Self {
        LegMovement {
            onset_s,
            offset_s,
            sites: Sites::one(site),
            n_components: 1,
            is_clm: at_most(offset_s - onset_s, cfg.clm_max_s),
        }
    }

    /// Duration, in seconds.
    pub fn duration_s(&self) -> f64 {
        self.offset_s - self.onset_s
    }
}

/// Turns one leg's activity spans into LMs (WASM 2016 steps 1–2; AASM step 1).
///
/// Spans (onset, offset in seconds, any order) less than `same_leg_gap_s` apart, or
/// overlapping, join into one LM; LMs shorter than `lm_min_s` are dropped (as are spans with
/// a non-finite or negative duration); those longer than `clm_max_s` are kept, flagged
/// non-CLM. The result is sorted by onset.
pub fn monolateral(cfg: &SeriesConfig, spans: &[(f64, f64)], site: Site) -> Vec<LegMovement> {
    let mut sorted: Vec<(f64, f64)> = spans.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::with_capacity(sorted.len());
    let mut keep = |on: f64, off: f64| {
        // A NaN duration is not `at_least` anything, so it is dropped too.
        if at_least(off - on, cfg.lm_min_s) {
            out.push(LegMovement::new(cfg, on, off, site));
        }
    };
    let mut current: Option<(f64, f64)> = None;
    for (on, off) in sorted {
        current = match current {
            Some((c_on, c_off)) if below(on - c_off, cfg.same_leg_gap_s) => {
                Some((c_on, c_off.max(off)))
            }
            Some((c_on, c_off)) => {
                keep(c_on, c_off);
                Some((on, off))
            }
            None => Some((on, off)),
        };
    }
    if let Some((c_on, c_off)) = current {
        keep(c_on, c_off);
    }
    out
}

/// Merges the two legs' LMs into one onset-ordered list (WASM 2016 step 3, or the AASM
/// onset rule, by `cfg.rule`).
///
/// **WASM 2016**: LMs (of either leg) are chained while the next one overlaps the chain or
/// starts less than `merge_gap_s` after the chain's latest offset (a gap of exactly
/// `merge_gap_s` does not merge); the merged LM runs from the earliest onset to the latest
/// offset. A chain of two or more is a CLM only if it lasts ≤ `bilateral_clm_max_s`, has
/// ≤ `bilateral_max_components` components and none is a non-CLM; a lone LM keeps its flag.
///
/// **AASM**: in onset order, an LM joins the earliest open merged LM that has no LM of its
/// leg yet and whose first onset is less than `aasm_bilateral_onset_s` earlier; otherwise it
/// opens one. The merged LM is a CLM when all its components are. With breakers ignored
/// (`breakers_break = false`), non-CLMs stand for LMs AASM drops at step 1 and merge with
/// nothing.
///
/// Inputs should each be sorted by onset (as [`monolateral`] returns them); either may be
/// empty (one-leg recordings).
pub fn merge_bilateral(
    cfg: &SeriesConfig,
    left: &[LegMovement],
    right: &[LegMovement],
) -> Vec<LegMovement> {
    let mut all: Vec<(LegMovement, Leg)> = left
        .iter()
        .map(|l| (*l, Leg::Left))
        .chain(right.iter().map(|r| (*r, Leg::Right)))
        .collect();
    all.sort_by(|a, b| a.0.onset_s.total_cmp(&b.0.onset_s));
    match cfg.rule {
        ScoringRule::Wasm2016 => merge_wasm(cfg, &all),
        ScoringRule::Aasm2012 => merge_aasm(cfg, &all),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Leg {
    Left,
    Right,
}

fn merge_wasm(cfg: &SeriesConfig, all: &[(LegMovement, Leg)]) -> Vec<LegMovement> {
    let mut out: Vec<LegMovement> = Vec::with_capacity(all.len());
    // The chain being built, and whether every component of it is a CLM.
    let mut chain: Option<(LegMovement, bool)> = None;
    let close = |c: (LegMovement, bool), out: &mut Vec<LegMovement>| {
        let (mut lm, all_clm) = c;
        if lm.n_components > 1 {
            lm.is_clm = all_clm
                && at_most(lm.duration_s(), cfg.bilateral_clm_max_s)
                && lm.n_components <= cfg.bilateral_max_components;
        }
        out.push(lm);
    };
    for &(lm, _) in all {
        chain = match chain {
            Some((mut c, all_clm)) if below(lm.onset_s - c.offset_s, cfg.merge_gap_s) => {
                c.offset_s = c.offset_s.max(lm.offset_s);
                c.sites = c.sites.union(lm.sites);
                c.n_components = c.n_components.saturating_add(lm.n_components);
                Some((c, all_clm && lm.is_clm))
            }
            Some(c) => {
                close(c, &mut out);
                Some((lm, lm.is_clm))
            }
            None => Some((lm, lm.is_clm)),
        };
    }
    if let Some(c) = chain {
        close(c, &mut out);
    }
    out
}

fn merge_aasm(cfg: &SeriesConfig, all: &[(LegMovement, Leg)]) -> Vec<LegMovement> {
    // Each group: the merged LM and which legs it holds. Groups are created in onset order,
    // so `out` stays sorted by onset.
    let mut groups: Vec<(LegMovement, [bool; 2])> = Vec::with_capacity(all.len());
    let mut first_open = 0usize;
    for &(lm, leg) in all {
        let leg_idx = match leg {
            Leg::Left => 0,
            Leg::Right => 1,
        };
        let mergeable = lm.is_clm || cfg.breakers_break;
        // Groups whose first onset is too far back can never be joined again.
        while let Some((g, _)) = groups.get(first_open) {
            if below(lm.onset_s - g.onset_s, cfg.aasm_bilateral_onset_s) {
                break;
            }
            first_open += 1;
        }
        let target = if mergeable {
            // With breakers ignored, a non-CLM group is a dropped LM and takes no partner.
            groups
                .iter_mut()
                .skip(first_open)
                .find(|(g, legs)| !legs[leg_idx] && (g.is_clm || cfg.breakers_break))
        } else {
            None
        };
        match target {
            Some((g, legs)) => {
                legs[leg_idx] = true;
                g.offset_s = g.offset_s.max(lm.offset_s);
                g.sites = g.sites.union(lm.sites);
                g.n_components = g.n_components.saturating_add(lm.n_components);
                g.is_clm = g.is_clm && lm.is_clm;
            }
            None => {
                let mut legs = [false; 2];
                legs[leg_idx] = true;
                groups.push((lm, legs));
            }
        }
    }
    groups.into_iter().map(|(g, _)| g).collect()
}

/// How an LM was scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LmClass {
    /// A CLM in a run of at least `min_run` CLMs with IMIs in the window: a PLM.
    Plm,
    /// A CLM preceded by an IMI below `imi_min_s`, not in a series.
    ShortInterval,
    /// A CLM that is neither a PLM nor short-interval.
    Isolated,
    /// An LM that is not a candidate (too long, too composite, or merged with a non-CLM).
    NonClm,
}

impl LmClass {
    /// The event kind an LM of this class is reported as: `plm` for PLMs, `lm` otherwise.
    pub const fn kind(self) -> Kind {
        match self {
            LmClass::Plm => Kind::Plm,
            _ => Kind::Lm,
        }
    }
}

/// An LM with its class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    /// The leg movement.
    pub lm: LegMovement,
    /// Its class.
    pub class: LmClass,
    /// The series it belongs to, numbered from 1 in order within the night (PLMs only).
    pub series_id: Option<u32>,
    /// Onset-to-onset interval from the previous LM the rule walks, in seconds (`None` for
    /// the first). With AASM breakers ignored, measured from the previous LM that counted.
    pub imi_s: Option<f64>,
}

/// Scores a night's LMs, sorted by onset, into PLM series (batch form; the oracle for
/// [`SeriesTracker`]).
///
/// Returns one [`Scored`] per input LM, in input order. Unsorted input is no error: a
/// negative IMI counts as a short one.
pub fn score(cfg: &SeriesConfig, lms: &[LegMovement]) -> Vec<Scored> {
    let ignore = cfg.ignores_breakers();
    let n = lms.len();
    // Pass 1: IMIs and which LMs the run rule walks (all of them, unless breakers are ignored).
    let mut walked = vec![true; n];
    let mut imi: Vec<Option<f64>> = vec![None; n];
    let mut prev: Option<usize> = None;
    for (i, lm) in lms.iter().enumerate() {
        let d = prev
            .and_then(|p| lms.get(p))
            .map(|p| lm.onset_s - p.onset_s);
        imi[i] = d;
        if ignore && (!lm.is_clm || d.is_some_and(|d| cfg.imi_is_short(d))) {
            walked[i] = false;
        } else {
            prev = Some(i);
        }
    }
    // Pass 2: each walked CLM either continues the run of the walked LM before it, starts a
    // run, or (short IMI, not allowed to start) stands alone. `run_start[i]` is the index of
    // the first member of i's run.
    let mut run_start: Vec<Option<usize>> = vec![None; n];
    let mut prev_walked: Option<usize> = None;
    for i in 0..n {
        if !walked[i] {
            continue;
        }
        let lm = lms[i];
        if lm.is_clm {
            let continues = match prev_walked {
                Some(p) => {
                    lms[p].is_clm
                        && run_start[p].is_some()
                        && imi[i].is_some_and(|d| cfg.imi_in_window(d))
                }
                None => false,
            };
            let short = imi[i].is_some_and(|d| cfg.imi_is_short(d));
            run_start[i] = if continues {
                prev_walked.and_then(|p| run_start[p])
            } else if short && !cfg.short_interval_may_start {
                None
            } else {
                Some(i)
            };
        }
        prev_walked = Some(i);
    }
    // Pass 3: run lengths, series ids in order of first member, classes.
    let mut run_len = vec![0u32; n];
    for s in run_start.iter().flatten() {
        run_len[*s] += 1;
    }
    let mut series_of_start: Vec<Option<u32>> = vec![None; n];
    let mut next_id = 1u32;
    for s in 0..n {
        if run_len[s] >= cfg.min_run {
            series_of_start[s] = Some(next_id);
            next_id += 1;
        }
    }
    (0..n)
        .map(|i| {
            let lm = lms[i];
            let series_id = run_start[i].and_then(|s| series_of_start[s]);
            let class = if !lm.is_clm {
                LmClass::NonClm
            } else if series_id.is_some() {
                LmClass::Plm
            } else if imi[i].is_some_and(|d| cfg.imi_is_short(d)) {
                LmClass::ShortInterval
            } else {
                LmClass::Isolated
            };
            Scored {
                lm,
                class,
                series_id,
                imi_s: imi[i],
            }
        })
        .collect()
}

/// The streaming form of [`score`]: push LMs in onset order, receive each one scored as soon
/// as its class is final, in onset order.
///
/// A CLM's class is final once its run reaches `min_run` members (then it is a PLM) or
/// closes (a later LM breaks it, [`SeriesTracker::advance_to`] shows no LM can extend it, or
/// [`SeriesTracker::finish`]). Output equals [`score`]'s, LM for LM, for any input.
///
/// State is bounded: see [`SeriesTracker::new`].
#[derive(Clone, Debug)]
pub struct SeriesTracker {
    cfg: SeriesConfig,
    /// LMs received but not yet emitted: members of a run shorter than `min_run`, and (AASM
    /// with breakers ignored only) the ignored LMs that came after them.
    pending: Vec<Scored>,
    /// Onset and CLM flag of the previous walked LM.
    prev: Option<(f64, bool)>,
    /// Members of the current run (0 when no run is open).
    run_len: u32,
    /// The current run's series id once it has reached `min_run`.
    series_id: Option<u32>,
    /// The id the next series will get.
    next_series_id: u32,
}

impl SeriesTracker {
    /// A tracker for `cfg` (validate it first with [`SeriesConfig::validate`]).
    ///
    /// The queue is reserved here and does not grow for input that follows the LM rules:
    /// under WASM, and AASM with breakers breaking, only members of an open run shorter than
    /// `min_run` wait, so at most `min_run − 1` LMs (3 by default) — every non-CLM or short
    /// interval closes the run and is emitted at once. With AASM breakers ignored, ignored
    /// LMs after a waiting member wait too; an ignored CLM starts < 5 s after the last counted
    /// LM, and merged LMs start ≥ 1 s apart (each ≥ 0.5 s long, then ≥ 0.5 s quiet), so ≤ 5
    /// per member; an ignored non-CLM lasts > 10 s, so ≤ 9 fit in the ≤ 90 s a member waits.
    /// Input breaking those rules only makes the `Vec` grow, never fail.
    pub fn new(cfg: &SeriesConfig) -> Self {
        let waiting = cfg.min_run.saturating_sub(1) as usize;
        let capacity = if cfg.ignores_breakers() {
            waiting * (1 + 5 + 9)
        } else {
            waiting
        };
        SeriesTracker {
            cfg: cfg.clone(),
            pending: Vec::with_capacity(capacity),
            prev: None,
            run_len: 0,
            series_id: None,
            next_series_id: 1,
        }
    }

    /// Number of LMs received but not yet emitted.
    pub fn n_pending(&self) -> usize {
        self.pending.len()
    }

    /// The configuration in use.
    pub fn config(&self) -> &SeriesConfig {
        &self.cfg
    }

    /// Takes the next LM (onsets must not decrease) and emits every LM whose class is now final.
    pub fn push(&mut self, lm: LegMovement, emit: &mut impl FnMut(Scored)) {
        let imi_s = self.prev.map(|(onset, _)| lm.onset_s - onset);
        let short = imi_s.is_some_and(|d| self.cfg.imi_is_short(d));
        let mut scored = Scored {
            lm,
            class: LmClass::Isolated,
            series_id: None,
            imi_s,
        };
        if self.cfg.ignores_breakers() && (!lm.is_clm || short) {
            scored.class = if lm.is_clm {
                LmClass::ShortInterval
            } else {
                LmClass::NonClm
            };
            if self.pending.is_empty() {
                emit(scored);
            } else {
                self.pending.push(scored);
            }
            return;
        }
        if !lm.is_clm {
            self.close_run(emit);
            scored.class = LmClass::NonClm;
            emit(scored);
            self.prev = Some((lm.onset_s, false));
            return;
        }
        let in_window = imi_s.is_some_and(|d| self.cfg.imi_in_window(d));
        let continues = self.run_len > 0 && self.prev.is_some_and(|(_, clm)| clm) && in_window;
        self.prev = Some((lm.onset_s, true));
        if !continues {
            self.close_run(emit);
            if short && !self.cfg.short_interval_may_start {
                scored.class = LmClass::ShortInterval;
                emit(scored);
                return;
            }
        }
        self.run_len += 1;
        if let Some(id) = self.series_id {
            scored.class = LmClass::Plm;
            scored.series_id = Some(id);
            emit(scored);
            return;
        }
        self.pending.push(scored);
        if self.run_len >= self.cfg.min_run {
            let id = self.next_series_id;
            self.next_series_id = self.next_series_id.saturating_add(1);
            self.series_id = Some(id);
            for mut s in self.pending.drain(..) {
                if s.lm.is_clm && s.class == LmClass::Isolated {
                    // Waiting run members carry the placeholder class `Isolated`; ignored
                    // LMs already hold their final class.
                    s.class = LmClass::Plm;
                    s.series_id = Some(id);
                }
                emit(s);
            }
        }
    }

    /// Declares that no LM with an onset before `t_s` (seconds) will be pushed, so a waiting
    /// run that no such LM could extend is closed and emitted.
    ///
    /// Call it as time passes to bound latency: a CLM's class is then final at most
    /// `imi_max_s` after the onset of the run's last member.
    pub fn advance_to(&mut self, t_s: f64, emit: &mut impl FnMut(Scored)) {
        if let Some((onset, _)) = self.prev {
            // A later onset o ≥ t_s gives o − onset ≥ t_s − onset (rounding is monotone), so
            // once this exceeds imi_max_s no future LM can continue the run.
            if !at_most(t_s - onset, self.cfg.imi_max_s) {
                self.close_run(emit);
            }
        }
    }

    /// Ends the night: emits every waiting LM with its final class, then resets.
    pub fn finish(&mut self, emit: &mut impl FnMut(Scored)) {
        self.close_run(emit);
        self.reset();
    }

    /// Forgets everything, ready for another night (series ids restart at 1).
    pub fn reset(&mut self) {
        self.pending.clear();
        self.prev = None;
        self.run_len = 0;
        self.series_id = None;
        self.next_series_id = 1;
    }

    /// Closes the open run: waiting members take their non-PLM class and everything waiting
    /// is emitted.
    fn close_run(&mut self, emit: &mut impl FnMut(Scored)) {
        for mut s in self.pending.drain(..) {
            if s.lm.is_clm
                && s.class == LmClass::Isolated
                && s.imi_s.is_some_and(|d| self.cfg.imi_is_short(d))
            {
                s.class = LmClass::ShortInterval;
            }
            emit(s);
        }
        self.run_len = 0;
        self.series_id = None;
    }
}

#[cfg(test)]
mod tests;
