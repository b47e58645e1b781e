//! Scoring any detector against ground truth: event matching, precision/recall/F1 per class,
//! and the night-level errors that matter clinically.
//!
//! # Matching
//!
//! Per class, truth and detections are matched one to one, greedily in time order: each
//! truth event, in order of onset, takes the earliest unmatched detection that matches it.
//!
//! - **Interval classes** (`plm`, `lm`, `posture_change`, `activity`, and `leg_movement`,
//!   which pools `plm` and `lm` and ignores which of the two each side said): a detection
//!   matches when the two intervals overlap once each is widened by [`MatchConfig::widen_s`]
//!   (0.5 s) on both sides. Equivalently, when the gap between them is at most 1 s: touching
//!   widened intervals count as overlapping.
//! - **`hypnic_jerk`**: a detection matches when the onsets are at most
//!   [`MatchConfig::jerk_onset_s`] (1 s) apart. Jerks last a fraction of a second, so their
//!   onset is the whole of their timing.
//!
//! # Precision and recall at zero
//!
//! `precision = tp / (tp + fp)`, `recall = tp / (tp + fn)`, `F1 = 2PR / (P + R)`. With
//! nothing detected, precision is 1 (no detection was wrong); with nothing to find, recall is
//! 1 (nothing was missed); F1 is 0 when P + R = 0. So a class absent from both truth and
//! detections scores 1, 1, 1 — the detector did exactly right — while a silent detector on a
//! night with events scores recall 0 and F1 0, and a detector that invents events on a night
//! without any scores precision 0. The counts (`tp`, `fp`, `fn`, `n_truth`, `n_detected`)
//! travel with every score, so a 1.0 over zero events is never mistaken for evidence.
//!
//! # Boundaries
//!
//! Every matched pair also measures the detection's timing: the signed onset and offset
//! errors (detected − truth) go into a [`BoundaryErrors`] — the pairs whose two boundaries
//! both lie within [`MatchConfig::widen_s`] of the truth's, and histograms of each error in
//! 0.05 s bins over ±0.75 s (one overflow bin each side). It is small, fixed in size, and
//! adds up over nights like the counts; medians and percentiles come from the histograms, to
//! within a bin.
//!
//! # Pooling
//!
//! Pooled scores add the nights' counts and recompute precision, recall and F1 from the sums
//! (micro-averaging): a night with many events weighs more than one with few. Night-level
//! errors are pooled as mean and mean absolute error over the nights that have them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Event, Kind};

mod baseline;
mod causes;
mod night;
mod report;
mod simulated;
mod spread;
mod table;

pub use baseline::{merge_legs, Baseline, DEFAULT_SHARED, SHARED_ENV};
pub use causes::{plm_error_causes, Cause, PlmErrorCauses};
pub use night::{
    read_json, score_night, DetectedSleep, EvalConfig, NightErrors, NightScore, TruthConfig,
    TruthFlags, TruthInfo, TruthNight,
};
pub use report::{
    evaluate_dir, find_nights, run_detector, Detection, ErrorSummary, NightDir, PooledErrors,
    Report,
};
pub use simulated::{run_simulated, truth_night, SimulatedRun};
pub use spread::{SeedSpread, SpreadFigures, SpreadRow};
pub use table::{
    plm_count_error_pct, run_bench, AccuracyTable, BenchOptions, Bound, DetectorScores, Group,
    GroupRow, GroupScore, Metric, NightInfo, PlmCountError, Stat, Target, TargetResult, TargetRow,
    BASELINE_CLASSES, BASELINE_PY, HARD_FROM, SLEEPTWITCH,
};

/// A class that detections are scored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoredClass {
    /// Periodic leg movements (`plm` events).
    Plm,
    /// Leg movements outside series (`lm` events).
    Lm,
    /// Hypnic jerks.
    HypnicJerk,
    /// Posture changes.
    PostureChange,
    /// Wake activity.
    Activity,
    /// Any leg movement, `plm` and `lm` pooled, the kind ignored.
    LegMovement,
}

impl ScoredClass {
    /// Every class, in report order.
    pub const ALL: [ScoredClass; 6] = [
        ScoredClass::Plm,
        ScoredClass::Lm,
        ScoredClass::LegMovement,
        ScoredClass::HypnicJerk,
        ScoredClass::PostureChange,
        ScoredClass::Activity,
    ];

    /// The class's name in reports (`plm`, `lm`, `hypnic_jerk`, `posture_change`,
    /// `activity`, `leg_movement`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ScoredClass::Plm => "plm",
            ScoredClass::Lm => "lm",
            ScoredClass::HypnicJerk => "hypnic_jerk",
            ScoredClass::PostureChange => "posture_change",
            ScoredClass::Activity => "activity",
            ScoredClass::LegMovement => "leg_movement",
        }
    }

    /// True when an event of `kind` belongs to this class.
    pub const fn includes(self, kind: Kind) -> bool {
        match self {
            ScoredClass::Plm => matches!(kind, Kind::Plm),
            ScoredClass::Lm => matches!(kind, Kind::Lm),
            ScoredClass::HypnicJerk => matches!(kind, Kind::HypnicJerk),
            ScoredClass::PostureChange => matches!(kind, Kind::PostureChange),
            ScoredClass::Activity => matches!(kind, Kind::Activity),
            ScoredClass::LegMovement => kind.is_leg_movement(),
        }
    }

    /// True for the classes built from leg movements (`plm`, `lm`, `leg_movement`).
    pub const fn is_leg(self) -> bool {
        matches!(
            self,
            ScoredClass::Plm | ScoredClass::Lm | ScoredClass::LegMovement
        )
    }
}

impl fmt::Display for ScoredClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tolerances of the matching rule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchConfig {
    /// Each interval is widened by this much on both sides before testing overlap, in
    /// seconds (0.5 s).
    pub widen_s: f64,
    /// Largest onset difference for a hypnic-jerk match, in seconds (1 s).
    pub jerk_onset_s: f64,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            widen_s: 0.5,
            jerk_onset_s: 1.0,
        }
    }
}

/// Precision, recall, F1 and the counts behind them, for one class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// `tp / (tp + fp)`; 1 when nothing was detected.
    pub precision: f64,
    /// `tp / (tp + fn)`; 1 when there was nothing to find.
    pub recall: f64,
    /// `2PR / (P + R)`; 0 when both are 0.
    pub f1: f64,
    /// Detections matched to a truth event.
    pub tp: u32,
    /// Detections matched to nothing.
    pub fp: u32,
    /// Truth events matched to nothing.
    #[serde(rename = "fn")]
    pub fn_: u32,
    /// Truth events of the class (`tp + fn`).
    pub n_truth: u32,
    /// Detections of the class (`tp + fp`).
    pub n_detected: u32,
    /// Timing of the matched detections.
    #[serde(default)]
    pub boundaries: BoundaryErrors,
}

/// Width of a boundary-error bin, in seconds.
const BOUNDARY_BIN_S: f64 = 0.05;
/// Bins of [`BOUNDARY_BIN_S`] covering ±0.75 s, plus one overflow bin each side.
const BOUNDARY_BINS: usize = 32;
/// Errors from −this to +this fall in the inner bins, in seconds.
const BOUNDARY_SPAN_S: f64 = BOUNDARY_BIN_S * (BOUNDARY_BINS - 2) as f64 / 2.0;

/// Onset and offset errors of matched detections (detected − truth), summable over nights.
///
/// Bin 0 holds errors below −0.75 s, bin 31 errors of +0.75 s and more, and bin `k` in
/// between errors in [−0.75 + 0.05 (k − 1), −0.75 + 0.05 k) s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundaryErrors {
    /// Matched pairs measured.
    pub n: u32,
    /// Pairs whose onset and offset errors are both at most the matching tolerance
    /// ([`MatchConfig::widen_s`]) in size.
    pub both_within: u32,
    /// Histogram of the onset errors.
    pub onset_hist: [u32; BOUNDARY_BINS],
    /// Histogram of the offset errors.
    pub offset_hist: [u32; BOUNDARY_BINS],
}

fn boundary_bin(err_s: f64) -> usize {
    if err_s.is_nan() || err_s < -BOUNDARY_SPAN_S {
        0
    } else if err_s >= BOUNDARY_SPAN_S {
        BOUNDARY_BINS - 1
    } else {
        // In [0, 30) by the tests above; the bound keeps rounding at the top inside.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = ((err_s + BOUNDARY_SPAN_S) / BOUNDARY_BIN_S) as usize;
        1 + k.min(BOUNDARY_BINS - 3)
    }
}

/// The `q` quantile of a boundary histogram, interpolated within its bin; the overflow
/// bins read as their inner edge (±0.75 s). `None` when the histogram is empty.
fn hist_quantile(hist: &[u32; BOUNDARY_BINS], q: f64) -> Option<f64> {
    let n: u64 = hist.iter().map(|&c| u64::from(c)).sum();
    if n == 0 {
        return None;
    }
    let target = q.clamp(0.0, 1.0) * n as f64;
    let mut below = 0.0;
    for (k, &c) in hist.iter().enumerate() {
        let c = f64::from(c);
        if c > 0.0 && below + c >= target {
            return Some(match k {
                0 => -BOUNDARY_SPAN_S,
                k if k == BOUNDARY_BINS - 1 => BOUNDARY_SPAN_S,
                k => {
                    let lo = -BOUNDARY_SPAN_S + BOUNDARY_BIN_S * (k - 1) as f64;
                    lo + BOUNDARY_BIN_S * ((target - below) / c)
                }
            });
        }
        below += c;
    }
    Some(BOUNDARY_SPAN_S)
}

impl BoundaryErrors {
    /// Adds one matched pair's errors, in seconds; `tolerance_s` decides `both_within`.
    pub fn add(&mut self, onset_err_s: f64, offset_err_s: f64, tolerance_s: f64) {
        self.n = self.n.saturating_add(1);
        if onset_err_s.abs() <= tolerance_s && offset_err_s.abs() <= tolerance_s {
            self.both_within = self.both_within.saturating_add(1);
        }
        for (hist, err) in [
            (&mut self.onset_hist, onset_err_s),
            (&mut self.offset_hist, offset_err_s),
        ] {
            if let Some(c) = hist.get_mut(boundary_bin(err)) {
                *c = c.saturating_add(1);
            }
        }
    }

    /// Both sets of pairs together.
    #[must_use]
    pub fn merged(&self, other: &BoundaryErrors) -> BoundaryErrors {
        let mut m = *self;
        m.n = m.n.saturating_add(other.n);
        m.both_within = m.both_within.saturating_add(other.both_within);
        for (a, b) in m.onset_hist.iter_mut().zip(other.onset_hist) {
            *a = a.saturating_add(b);
        }
        for (a, b) in m.offset_hist.iter_mut().zip(other.offset_hist) {
            *a = a.saturating_add(b);
        }
        m
    }

    /// Share of the pairs with both boundaries within the tolerance; `None` without pairs.
    pub fn share_within(&self) -> Option<f64> {
        (self.n > 0).then(|| f64::from(self.both_within) / f64::from(self.n))
    }

    /// The `q` quantile of the onset errors, in seconds, to within a bin (0.05 s).
    pub fn onset_quantile_s(&self, q: f64) -> Option<f64> {
        hist_quantile(&self.onset_hist, q)
    }

    /// The `q` quantile of the offset errors, in seconds, to within a bin (0.05 s).
    pub fn offset_quantile_s(&self, q: f64) -> Option<f64> {
        hist_quantile(&self.offset_hist, q)
    }
}

impl ClassScore {
    /// The score of these counts (conventions at zero in the [module docs](self)).
    pub fn from_counts(tp: u32, fp: u32, fn_: u32) -> Self {
        let precision = if tp + fp == 0 {
            1.0
        } else {
            f64::from(tp) / (f64::from(tp) + f64::from(fp))
        };
        let recall = if tp + fn_ == 0 {
            1.0
        } else {
            f64::from(tp) / (f64::from(tp) + f64::from(fn_))
        };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        ClassScore {
            precision,
            recall,
            f1,
            tp,
            fp,
            fn_,
            n_truth: tp.saturating_add(fn_),
            n_detected: tp.saturating_add(fp),
            boundaries: BoundaryErrors::default(),
        }
    }

    /// The score of both sets of counts added (micro-average).
    #[must_use]
    pub fn pooled_with(&self, other: &ClassScore) -> ClassScore {
        ClassScore {
            boundaries: self.boundaries.merged(&other.boundaries),
            ..ClassScore::from_counts(
                self.tp.saturating_add(other.tp),
                self.fp.saturating_add(other.fp),
                self.fn_.saturating_add(other.fn_),
            )
        }
    }
}

/// The one-to-one matching of a class: pairs of indices into the truth and detection slices
/// given to [`match_class`], in the truth's onset order.
pub fn match_class(
    truth: &[Event],
    detected: &[Event],
    class: ScoredClass,
    cfg: &MatchConfig,
) -> Vec<(usize, usize)> {
    let sorted = |events: &[Event]| -> Vec<usize> {
        let mut idx: Vec<usize> = (0..events.len())
            .filter(|&i| events.get(i).is_some_and(|e| class.includes(e.kind)))
            .collect();
        idx.sort_by(|&a, &b| {
            let (x, y) = (events.get(a), events.get(b));
            x.map(|e| e.onset_s)
                .unwrap_or(0.0)
                .total_cmp(&y.map(|e| e.onset_s).unwrap_or(0.0))
        });
        idx
    };
    let t_idx = sorted(truth);
    let d_idx = sorted(detected);
    let dets: Vec<&Event> = d_idx.iter().filter_map(|&i| detected.get(i)).collect();
    let mut used = vec![false; dets.len()];
    // Detections before `first` are all matched or end too early for any later truth.
    let mut first = 0usize;
    let mut pairs = Vec::new();
    let jerk = class == ScoredClass::HypnicJerk;
    let reach_s = if jerk {
        cfg.jerk_onset_s
    } else {
        2.0 * cfg.widen_s
    };
    for &ti in &t_idx {
        let Some(t) = truth.get(ti) else { continue };
        // Widened [on − w, off + w] overlap iff d.on ≤ t.off + 2w and d.off ≥ t.on − 2w.
        let too_early = |d: &Event| {
            if jerk {
                d.onset_s < t.onset_s - reach_s
            } else {
                d.offset_s < t.onset_s - reach_s
            }
        };
        // Truths come in onset order, so a detection too early for this truth is too early
        // for every later one: a matched or too-early head of the list is dead.
        while first < dets.len()
            && (used.get(first).copied().unwrap_or(true)
                || dets.get(first).is_some_and(|d| too_early(d)))
        {
            first += 1;
        }
        let limit_s = if jerk {
            t.onset_s + reach_s
        } else {
            t.offset_s + reach_s
        };
        for (j, d) in dets.iter().enumerate().skip(first) {
            if d.onset_s > limit_s {
                break;
            }
            if used.get(j).copied().unwrap_or(true) || too_early(d) {
                continue;
            }
            if let (Some(u), Some(&di)) = (used.get_mut(j), d_idx.get(j)) {
                *u = true;
                pairs.push((ti, di));
            }
            break;
        }
    }
    pairs
}

/// Scores one class: matches, then counts.
pub fn score_class(
    truth: &[Event],
    detected: &[Event],
    class: ScoredClass,
    cfg: &MatchConfig,
) -> ClassScore {
    let n_t = truth.iter().filter(|e| class.includes(e.kind)).count();
    let n_d = detected.iter().filter(|e| class.includes(e.kind)).count();
    let pairs = match_class(truth, detected, class, cfg);
    let mut boundaries = BoundaryErrors::default();
    for (t, d) in pairs
        .iter()
        .filter_map(|&(t, d)| truth.get(t).zip(detected.get(d)))
    {
        boundaries.add(d.onset_s - t.onset_s, d.offset_s - t.offset_s, cfg.widen_s);
    }
    let tp = pairs.len();
    let c = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    ClassScore {
        boundaries,
        ..ClassScore::from_counts(c(tp), c(n_d - tp), c(n_t - tp))
    }
}

/// Scores every class in `classes`, keyed by class name.
pub fn score_events(
    truth: &[Event],
    detected: &[Event],
    classes: &[ScoredClass],
    cfg: &MatchConfig,
) -> BTreeMap<String, ClassScore> {
    classes
        .iter()
        .map(|&c| (c.as_str().to_string(), score_class(truth, detected, c, cfg)))
        .collect()
}

#[cfg(test)]
mod tests;
