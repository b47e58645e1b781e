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

use crate::{Kind, Site, Sites};

mod config;
mod tracker;

use config::below;
pub(crate) use config::{at_least, at_most};
pub use config::{ScoringRule, SeriesConfig, TIME_TOLERANCE_S};
pub use tracker::SeriesTracker;

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

#[cfg(test)]
mod tests;
