//! Accuracy tables: detectors run over a list of simulated nights, scored, and pooled per
//! class and per group of nights (difficulty × layout, severity, rate), beside the targets.
//!
//! How each figure is pooled is documented on [`GroupScore`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::baseline::Baseline;
use super::night::{NightErrors, NightScore};
use super::{run_simulated, ClassScore, PlmErrorCauses, ScoredClass};
use crate::sim::{Layout, Severity, SimConfig};
use crate::{Config, Error, ErrorKind};

/// Difficulty from which a night counts as hard (the benchmarks use 0.3 for easy nights
/// and 1 for hard ones).
pub const HARD_FROM: f64 = 0.5;

/// Name of the crate's detector in tables.
pub const SLEEPTWITCH: &str = "sleeptwitch";

/// Name of the Python yardstick in tables.
pub const BASELINE_PY: &str = "baseline_py";

/// What a night is, for grouping and for its row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NightInfo {
    /// The config's name.
    pub name: String,
    /// The simulator's seed.
    pub seed: u64,
    /// Sensors worn.
    pub layout: Layout,
    /// PLMS index range.
    pub severity: Severity,
    /// Difficulty, 0 to 1.
    pub difficulty: f64,
    /// True when `difficulty ≥ HARD_FROM`.
    pub hard: bool,
    /// Nominal sample rate, in Hz.
    pub rate_hz: f64,
    /// Length of the recording, in hours.
    pub duration_h: f64,
}

impl NightInfo {
    /// The description of the night `cfg` makes.
    pub fn of(cfg: &SimConfig) -> Self {
        NightInfo {
            name: cfg.name.clone(),
            seed: cfg.seed,
            layout: cfg.layout,
            severity: cfg.severity,
            difficulty: cfg.difficulty,
            hard: cfg.difficulty >= HARD_FROM,
            rate_hz: cfg.rate_hz,
            duration_h: cfg.duration_h,
        }
    }

    /// `easy` or `hard`.
    pub fn difficulty_label(&self) -> &'static str {
        if self.hard {
            "hard"
        } else {
            "easy"
        }
    }
}

/// A value pooled over the nights that have it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Nights that contributed.
    pub n_nights: u32,
    /// The pooled value (`None` when no night had one).
    pub value: Option<f64>,
}

impl Stat {
    /// The mean of `values`.
    pub fn mean(values: &[f64]) -> Self {
        let n = count(values.len());
        Stat {
            n_nights: n,
            value: (n > 0).then(|| values.iter().sum::<f64>() / f64::from(n)),
        }
    }

    /// The median of `values` (the mean of the middle two for an even count).
    pub fn median(values: &[f64]) -> Self {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let value = if v.len() % 2 == 1 {
            v.get(mid).copied()
        } else {
            mid.checked_sub(1)
                .and_then(|lo| Some((v.get(lo)? + v.get(mid)?) / 2.0))
        };
        Stat {
            n_nights: count(v.len()),
            value,
        }
    }
}

/// Mean relative PLM count error over a group of nights (definition on
/// [`GroupScore`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlmCountError {
    /// Nights with at least one true PLM, and the mean of their
    /// `100 × |detected − truth| / truth`, in percent.
    pub mean_abs_pct: Stat,
    /// `100 × Σ |detected − truth| / Σ truth` over the same nights, in percent: the error
    /// per true PLM, which nights with few PLMs do not dominate.
    pub pooled_abs_pct: Option<f64>,
    /// Nights with leg movements but without a true PLM (left out of both).
    pub n_truth_zero: u32,
    /// PLMs detected on those nights, all counted as wrong.
    pub n_detected_on_truth_zero: u32,
}

/// One detector's figures over a group of nights.
///
/// # What is pooled, and how
///
/// - **Class scores** add the counts of every night in the group and recompute precision,
///   recall and F1 from the sums (see the [`eval`](crate::eval) docs). Leg classes are absent
///   from wrist nights, so they pool over ankle and bilateral nights only.
/// - **Leg figures** (PLM count, periodicity index, PLMS index, IMI histogram) are taken
///   over the nights whose truth lists leg movements: wrist nights have none and are left
///   out.
/// - **PLM count error, in %**: for each night with at least one true PLM,
///   `100 × |detected PLMs − true PLMs| / true PLMs`, counting every `plm` event (sleep and
///   wake); the group's figure is the mean over those nights. Nights without a true PLM
///   have no relative error: they are left out of the mean, counted in
///   [`PlmCountError::n_truth_zero`], and the PLMs detected on them are summed in
///   [`PlmCountError::n_detected_on_truth_zero`]. The mean weighs a night of 4 true PLMs as
///   much as one of 500, so [`PlmCountError::pooled_abs_pct`] also gives
///   `100 × Σ |detected − truth| / Σ truth` over the same nights.
/// - **Sleep onset**: the median over nights (wrist nights included) of |detected − true
///   first sleep onset|, in seconds, over the nights where the detector gave a sleep
///   estimate.
/// - **Periodicity index (Ferri 2006)**: the mean over nights of |detected − true|, where
///   both are defined.
/// - **IMI histogram distance**: the mean over nights of the earth mover's distance
///   between the detected and true IMI histograms, in seconds (and the mean total
///   variation distance, 0 to 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupScore {
    /// Nights of the group this detector was scored on.
    pub n_nights: u32,
    /// Class scores with the nights' counts added, keyed by class name.
    pub classes: BTreeMap<String, ClassScore>,
    /// Relative PLM count error.
    pub plm_count_error: PlmCountError,
    /// Median of |sleep-onset error|, in seconds.
    pub sleep_onset_abs_median_s: Stat,
    /// Mean of |Ferri 2006 periodicity-index error|.
    pub periodicity_index_ferri2006_abs_mean: Stat,
    /// Mean of |PLMS index error|, per hour of sleep.
    pub plms_index_abs_mean_per_h: Stat,
    /// Mean earth mover's distance between the IMI histograms, in seconds.
    pub imi_histogram_emd_mean_s: Stat,
    /// Mean total variation distance between the IMI histograms, 0 to 1.
    pub imi_histogram_tv_mean: Stat,
    /// The nights' PLM errors by cause, added up.
    #[serde(default)]
    pub plm_errors: PlmErrorCauses,
}

/// `100 × |detected − truth| / truth` of a night's PLM count; `None` without true PLMs.
pub fn plm_count_error_pct(e: &NightErrors) -> Option<f64> {
    (e.truth_n_plm > 0).then(|| {
        100.0 * (f64::from(e.detected_n_plm) - f64::from(e.truth_n_plm)).abs()
            / f64::from(e.truth_n_plm)
    })
}

impl GroupScore {
    /// Pools night scores (definitions above).
    pub fn of<'a>(nights: impl IntoIterator<Item = &'a NightScore>) -> Self {
        let nights: Vec<&NightScore> = nights.into_iter().collect();
        let mut classes: BTreeMap<String, ClassScore> = BTreeMap::new();
        for s in &nights {
            for (name, c) in &s.classes {
                let e = classes
                    .entry(name.clone())
                    .or_insert_with(|| ClassScore::from_counts(0, 0, 0));
                *e = e.pooled_with(c);
            }
        }
        let errs: Vec<&NightErrors> = nights.iter().filter_map(|s| s.night.as_ref()).collect();
        // Leg figures only where the truth lists leg movements (not on wrist nights).
        let leg_errs: Vec<&NightErrors> = nights
            .iter()
            .filter(|s| s.classes.contains_key(ScoredClass::LegMovement.as_str()))
            .filter_map(|s| s.night.as_ref())
            .collect();
        let abs = |errs: &[&NightErrors], f: &dyn Fn(&NightErrors) -> Option<f64>| -> Vec<f64> {
            errs.iter().filter_map(|e| f(e)).map(f64::abs).collect()
        };
        let zero: Vec<&&NightErrors> = leg_errs.iter().filter(|e| e.truth_n_plm == 0).collect();
        let with_plm: Vec<&&NightErrors> = leg_errs.iter().filter(|e| e.truth_n_plm > 0).collect();
        let truth_sum: f64 = with_plm.iter().map(|e| f64::from(e.truth_n_plm)).sum();
        let abs_sum: f64 = with_plm
            .iter()
            .map(|e| (f64::from(e.detected_n_plm) - f64::from(e.truth_n_plm)).abs())
            .sum();
        GroupScore {
            n_nights: count(nights.len()),
            classes,
            plm_count_error: PlmCountError {
                mean_abs_pct: Stat::mean(&abs(&leg_errs, &plm_count_error_pct)),
                pooled_abs_pct: (truth_sum > 0.0).then(|| 100.0 * abs_sum / truth_sum),
                n_truth_zero: count(zero.len()),
                n_detected_on_truth_zero: zero
                    .iter()
                    .fold(0u32, |n, e| n.saturating_add(e.detected_n_plm)),
            },
            sleep_onset_abs_median_s: Stat::median(&abs(&errs, &|e| e.sleep_onset_error_s)),
            periodicity_index_ferri2006_abs_mean: Stat::mean(&abs(&leg_errs, &|e| {
                e.periodicity_index_ferri2006_error
            })),
            plms_index_abs_mean_per_h: Stat::mean(&abs(&leg_errs, &|e| e.plms_index_error_per_h)),
            imi_histogram_emd_mean_s: Stat::mean(&abs(&leg_errs, &|e| e.imi_histogram_emd_s)),
            imi_histogram_tv_mean: Stat::mean(&abs(&leg_errs, &|e| e.imi_histogram_tv)),
            plm_errors: PlmErrorCauses::sum(nights.iter().filter_map(|s| s.plm_errors.as_ref())),
        }
    }

    /// The figure a target reads.
    pub fn metric(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::F1(c) => self.classes.get(c.as_str()).map(|s| s.f1),
            Metric::PlmCountErrorPct => self.plm_count_error.mean_abs_pct.value,
            Metric::SleepOnsetMedianAbsS => self.sleep_onset_abs_median_s.value,
            Metric::PeriodicityIndexMeanAbs => self.periodicity_index_ferri2006_abs_mean.value,
        }
    }
}

/// A set of nights a table pools over.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Every night.
    All,
    /// Easy or hard nights (`true`: hard).
    Difficulty(bool),
    /// Nights of one layout.
    Layout(Layout),
    /// Nights of one difficulty (`true`: hard) and layout.
    DifficultyLayout(bool, Layout),
    /// Nights of one severity.
    Severity(Severity),
    /// Nights at one nominal rate, in Hz.
    RateHz(f64),
}

impl Group {
    /// True when `night` belongs to the group.
    pub fn contains(&self, night: &NightInfo) -> bool {
        match *self {
            Group::All => true,
            Group::Difficulty(h) => night.hard == h,
            Group::Layout(l) => night.layout == l,
            Group::DifficultyLayout(h, l) => night.hard == h && night.layout == l,
            Group::Severity(s) => night.severity == s,
            // Rates in configs are written as literals, so equal rates are equal bits.
            Group::RateHz(r) => night.rate_hz.to_bits() == r.to_bits(),
        }
    }

    /// The group's label in tables (`all`, `hard`, `easy/bilateral`, `severe`, `25 Hz`).
    pub fn label(&self) -> String {
        let d = |h: bool| if h { "hard" } else { "easy" };
        match *self {
            Group::All => "all".into(),
            Group::Difficulty(h) => d(h).into(),
            Group::Layout(l) => l.as_str().into(),
            Group::DifficultyLayout(h, l) => format!("{}/{}", d(h), l.as_str()),
            Group::Severity(s) => format!("severity {s}"),
            Group::RateHz(r) => format!("{r} Hz"),
        }
    }

    /// The groups of a table over `nights`: all; easy, hard; each layout; each difficulty ×
    /// layout; each severity; each rate present, in ascending order.
    pub fn standard(nights: &[NightInfo]) -> Vec<Group> {
        let layouts = [Layout::Ankle, Layout::Bilateral, Layout::Wrist];
        let mut g = vec![
            Group::All,
            Group::Difficulty(false),
            Group::Difficulty(true),
        ];
        g.extend(layouts.iter().map(|&l| Group::Layout(l)));
        for h in [false, true] {
            g.extend(layouts.iter().map(|&l| Group::DifficultyLayout(h, l)));
        }
        g.extend(Severity::ALL.iter().map(|&s| Group::Severity(s)));
        let mut rates: Vec<f64> = nights.iter().map(|n| n.rate_hz).collect();
        rates.sort_by(f64::total_cmp);
        rates.dedup_by(|a, b| a.to_bits() == b.to_bits());
        g.extend(rates.into_iter().map(Group::RateHz));
        g
    }
}

/// A figure a target bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Pooled F1 of a class.
    F1(ScoredClass),
    /// Mean relative PLM count error, in percent.
    PlmCountErrorPct,
    /// Median |sleep-onset error|, in seconds.
    SleepOnsetMedianAbsS,
    /// Mean |Ferri 2006 periodicity-index error|.
    PeriodicityIndexMeanAbs,
}

impl Metric {
    /// The figure's label in tables.
    pub fn label(&self) -> String {
        match self {
            Metric::F1(c) => format!("{c} F1"),
            Metric::PlmCountErrorPct => "PLM count error (%)".into(),
            Metric::SleepOnsetMedianAbsS => "sleep onset median abs error (s)".into(),
            Metric::PeriodicityIndexMeanAbs => "Ferri PI mean abs error".into(),
        }
    }

    pub(crate) fn decimals(&self) -> usize {
        match self {
            Metric::F1(_) | Metric::PeriodicityIndexMeanAbs => 3,
            Metric::PlmCountErrorPct | Metric::SleepOnsetMedianAbsS => 1,
        }
    }
}

/// Which side of a limit a figure must stay on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The figure must be at least this.
    AtLeast(f64),
    /// The figure must be at most this.
    AtMost(f64),
}

impl std::fmt::Display for Bound {
    /// `≥ 0.95`, `≤ 5`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::AtLeast(x) => write!(f, "≥ {x}"),
            Bound::AtMost(x) => write!(f, "≤ {x}"),
        }
    }
}

impl Bound {
    /// How far `value` is from the limit on the wrong side (0 when the bound holds).
    pub fn shortfall(&self, value: f64) -> f64 {
        match *self {
            Bound::AtLeast(x) => (x - value).max(0.0),
            Bound::AtMost(x) => (value - x).max(0.0),
        }
    }
}

/// An accuracy target: a group, a figure, a bound.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The nights it applies to.
    pub group: Group,
    /// The figure.
    pub metric: Metric,
    /// The bound.
    pub bound: Bound,
}

impl Target {
    /// The targets the detector is held to on the benchmark nights: hard, easy and
    /// bilateral nights' PLM, all-LM and hypnic-jerk F1 and PLM count error, and over all
    /// nights the sleep-onset and periodicity-index errors.
    pub fn standard() -> Vec<Target> {
        let mut t = Vec::new();
        for (group, plm, lm, jerk, count_pct) in [
            (Group::Difficulty(true), 0.95, 0.93, 0.85, 5.0),
            (Group::Difficulty(false), 0.99, 0.98, 0.95, 2.0),
            (Group::Layout(Layout::Bilateral), 0.98, 0.96, 0.90, 3.0),
        ] {
            for (metric, bound) in [
                (Metric::F1(ScoredClass::Plm), Bound::AtLeast(plm)),
                (Metric::F1(ScoredClass::LegMovement), Bound::AtLeast(lm)),
                (Metric::F1(ScoredClass::HypnicJerk), Bound::AtLeast(jerk)),
                (Metric::PlmCountErrorPct, Bound::AtMost(count_pct)),
            ] {
                t.push(Target {
                    group,
                    metric,
                    bound,
                });
            }
        }
        t.push(Target {
            group: Group::All,
            metric: Metric::SleepOnsetMedianAbsS,
            bound: Bound::AtMost(120.0),
        });
        t.push(Target {
            group: Group::All,
            metric: Metric::PeriodicityIndexMeanAbs,
            bound: Bound::AtMost(0.05),
        });
        t
    }
}

/// One detector's figure for a target.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    /// The figure (`None` when the detector has none for the group).
    pub value: Option<f64>,
    /// Whether the bound holds (`None` without a figure).
    pub met: Option<bool>,
    /// How far the figure is on the wrong side of the bound (0 when met).
    pub shortfall: Option<f64>,
}

/// A target and each detector's figure for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetRow {
    /// The target.
    pub target: Target,
    /// Per detector, in the table's order.
    pub results: Vec<TargetResult>,
}

/// One detector's scores of the nights, in the nights' order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectorScores {
    /// The detector's name.
    pub name: String,
    /// Classes the detector reports; the others are shown as not applicable (the scores
    /// keep them all).
    pub classes: Vec<ScoredClass>,
    /// Each night's score; `None` where the detector does not apply (the yardstick on a
    /// wrist night).
    pub nights: Vec<Option<NightScore>>,
}

/// One group's figures, per detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The group.
    pub group: Group,
    /// Its label.
    pub label: String,
    /// Nights in the group.
    pub n_nights: u32,
    /// Per detector, in the table's order (`None`: the detector applies to no night of it).
    pub scores: Vec<Option<GroupScore>>,
}

/// Accuracy of one or more detectors on a list of nights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyTable {
    /// The benchmark's name.
    pub bench: String,
    /// The nights, in order.
    pub nights: Vec<NightInfo>,
    /// Each detector's night scores.
    pub detectors: Vec<DetectorScores>,
    /// Figures per group.
    pub groups: Vec<GroupRow>,
    /// Targets and each detector's figure.
    pub targets: Vec<TargetRow>,
}

impl AccuracyTable {
    /// Pools the detectors' night scores into groups ([`Group::standard`], those with at
    /// least one night) and checks `targets`.
    ///
    /// # Errors
    /// When a detector has a different number of scores than there are nights.
    pub fn new(
        bench: &str,
        nights: Vec<NightInfo>,
        detectors: Vec<DetectorScores>,
        targets: &[Target],
    ) -> Result<Self, Error> {
        if let Some(d) = detectors.iter().find(|d| d.nights.len() != nights.len()) {
            return Err(Error::new(ErrorKind::Other(format!(
                "detector {:?} has {} night scores for {} nights",
                d.name,
                d.nights.len(),
                nights.len()
            ))));
        }
        let groups: Vec<GroupRow> = Group::standard(&nights)
            .into_iter()
            .filter_map(|group| {
                let members: Vec<usize> = (0..nights.len())
                    .filter(|&i| nights.get(i).is_some_and(|n| group.contains(n)))
                    .collect();
                if members.is_empty() {
                    return None;
                }
                let scores = detectors
                    .iter()
                    .map(|d| {
                        let s: Vec<&NightScore> = members
                            .iter()
                            .filter_map(|&i| d.nights.get(i).and_then(Option::as_ref))
                            .collect();
                        (!s.is_empty()).then(|| GroupScore::of(s))
                    })
                    .collect();
                Some(GroupRow {
                    group,
                    label: group.label(),
                    n_nights: count(members.len()),
                    scores,
                })
            })
            .collect();
        let targets = targets
            .iter()
            .map(|&target| {
                let row = groups.iter().find(|g| g.group == target.group);
                let results = (0..detectors.len())
                    .map(|k| {
                        let value = row
                            .and_then(|r| r.scores.get(k))
                            .and_then(Option::as_ref)
                            .and_then(|s| s.metric(target.metric));
                        let shortfall = value.map(|v| target.bound.shortfall(v));
                        TargetResult {
                            value,
                            met: shortfall.map(|s| s <= 0.0),
                            shortfall,
                        }
                    })
                    .collect();
                TargetRow { target, results }
            })
            .collect();
        Ok(AccuracyTable {
            bench: bench.to_string(),
            nights,
            detectors,
            groups,
            targets,
        })
    }

    /// The group row of `group`, if the table has it.
    pub fn group(&self, group: Group) -> Option<&GroupRow> {
        self.groups.iter().find(|g| g.group == group)
    }

    /// The figures of detector `k` over `group`.
    pub fn score(&self, group: Group, k: usize) -> Option<&GroupScore> {
        self.group(group)
            .and_then(|g| g.scores.get(k))
            .and_then(Option::as_ref)
    }

    /// The whole table as markdown: targets, pooled classes, groups, nights.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_markdown(&mut s);
        s
    }

    fn names(&self) -> Vec<&str> {
        self.detectors.iter().map(|d| d.name.as_str()).collect()
    }

    fn reports(&self, k: usize, c: ScoredClass) -> bool {
        self.detectors
            .get(k)
            .is_some_and(|d| d.classes.contains(&c))
    }

    /// Whether detector `k` has a figure of `metric` (an F1 only of a class it reports).
    pub(crate) fn applies(&self, k: usize, metric: Metric) -> bool {
        match metric {
            Metric::F1(c) => self.reports(k, c),
            _ => true,
        }
    }

    /// The PLM errors of the hard nights and of all nights by cause, per detector.
    fn write_causes(&self, s: &mut String, names: &[&str]) -> std::fmt::Result {
        let causes = |g: Group, k: usize| self.score(g, k).map(|x| &x.plm_errors);
        if (0..names.len()).all(|k| causes(Group::All, k).is_none_or(|c| c.total() == 0)) {
            return Ok(());
        }
        writeln!(
            s,
            "\nPLM errors by the leg-movement discrepancy nearest each (within three series \
             intervals, 270 s under both rules; \
             `missed_as_*`: a true leg movement found as another class, `extra_in_*`: a \
             detected one inside a true event of another class; false negatives + false \
             positives):\n"
        )?;
        for (k, name) in names.iter().enumerate() {
            let (Some(hard), Some(all)) =
                (causes(Group::Difficulty(true), k), causes(Group::All, k))
            else {
                continue;
            };
            if all.total() == 0 {
                continue;
            }
            writeln!(
                s,
                "| {name}: cause | hard nights | share | all nights | share |"
            )?;
            writeln!(s, "|---|---:|---:|---:|---:|")?;
            let share = |n: u32, c: &PlmErrorCauses| {
                fmt_opt(
                    (c.total() > 0).then(|| 100.0 * f64::from(n) / f64::from(c.total())),
                    1,
                )
            };
            for (cause, fn_, fp) in all.rows() {
                let (h_fn, h_fp) = hard
                    .rows()
                    .into_iter()
                    .find(|r| r.0 == cause)
                    .map_or((0, 0), |r| (r.1, r.2));
                writeln!(
                    s,
                    "| {cause} | {h_fn} + {h_fp} | {} % | {fn_} + {fp} | {} % |",
                    share(h_fn + h_fp, hard),
                    share(fn_ + fp, all)
                )?;
            }
            writeln!(s)?;
        }
        Ok(())
    }

    fn write_markdown(&self, s: &mut String) -> std::fmt::Result {
        let names = self.names();
        let joined = names.join(" / ");
        writeln!(
            s,
            "### {}: {} nights\n\nCells read `{joined}`; `n/a` where a detector does not \
             apply or does not report the class.\n",
            self.bench,
            self.nights.len()
        )?;
        // Targets.
        write!(s, "| group | figure | target |")?;
        for n in &names {
            write!(s, " {n} | met |")?;
        }
        write!(s, "\n|---|---|---|")?;
        for _ in &names {
            write!(s, "---:|---|")?;
        }
        writeln!(s)?;
        for row in &self.targets {
            let t = &row.target;
            let d = t.metric.decimals();
            write!(
                s,
                "| {} | {} | {} |",
                t.group.label(),
                t.metric.label(),
                t.bound
            )?;
            for (k, r) in row.results.iter().enumerate() {
                let applies = self.applies(k, t.metric);
                match (applies, r.value, r.shortfall) {
                    (true, Some(v), Some(sh)) => {
                        let met = if sh <= 0.0 {
                            "yes".to_string()
                        } else {
                            format!("no, by {sh:.d$}")
                        };
                        write!(s, " {v:.d$} | {met} |")?;
                    }
                    _ => write!(s, " n/a | |")?,
                }
            }
            writeln!(s)?;
        }
        // Pooled classes.
        writeln!(s, "\nPooled over all nights, per class:\n")?;
        write!(s, "| class |")?;
        for n in &names {
            write!(s, " {n} P | R | F1 | TP | FP | FN |")?;
        }
        write!(s, "\n|---|")?;
        for _ in &names {
            write!(s, "---:|---:|---:|---:|---:|---:|")?;
        }
        writeln!(s)?;
        for c in ScoredClass::ALL {
            write!(s, "| {c} |")?;
            for k in 0..names.len() {
                match self
                    .score(Group::All, k)
                    .and_then(|g| g.classes.get(c.as_str()))
                {
                    Some(x) if self.reports(k, c) => write!(
                        s,
                        " {:.3} | {:.3} | {:.3} | {} | {} | {} |",
                        x.precision, x.recall, x.f1, x.tp, x.fp, x.fn_
                    )?,
                    _ => write!(s, " n/a | | | | | |")?,
                }
            }
            writeln!(s)?;
        }
        // Boundaries of the matched events.
        writeln!(
            s,
            "\nBoundaries of the matched events, pooled over all nights (errors detected − \
             truth, in s, from 0.05 s bins; within: both onset and offset within the 0.5 s \
             matching tolerance):\n"
        )?;
        write!(s, "| class |")?;
        for n in &names {
            write!(
                s,
                " {n} pairs | within (%) | onset median | offset median | offset 10–90 % |"
            )?;
        }
        write!(s, "\n|---|")?;
        for _ in &names {
            write!(s, "---:|---:|---:|---:|---|")?;
        }
        writeln!(s)?;
        for c in ScoredClass::ALL {
            write!(s, "| {c} |")?;
            for k in 0..names.len() {
                let b = self
                    .score(Group::All, k)
                    .and_then(|g| g.classes.get(c.as_str()))
                    .filter(|_| self.reports(k, c))
                    .map(|x| x.boundaries)
                    .filter(|b| b.n > 0);
                match b {
                    Some(b) => write!(
                        s,
                        " {} | {} | {} | {} | {} to {} |",
                        b.n,
                        fmt_opt(b.share_within().map(|x| 100.0 * x), 1),
                        fmt_signed(b.onset_quantile_s(0.5)),
                        fmt_signed(b.offset_quantile_s(0.5)),
                        fmt_signed(b.offset_quantile_s(0.1)),
                        fmt_signed(b.offset_quantile_s(0.9)),
                    )?,
                    None => write!(s, " n/a | | | | |")?,
                }
            }
            writeln!(s)?;
        }
        self.write_causes(s, &names)?;
        // Groups.
        writeln!(
            s,
            "\nPer group (F1 pooled; PLM count error: mean over nights with true PLMs of \
             |det − truth| / truth, and pooled Σ|det − truth| / Σ truth; onset: median \
             |error|; PI: mean |error|; IMI: mean earth mover's distance):\n"
        )?;
        writeln!(
            s,
            "| group | nights | plm F1 | lm F1 | leg_movement F1 | hypnic_jerk F1 | \
             posture_change F1 | activity F1 | PLM count err % (mean) | PLM count err % \
             (pooled) | onset err (s) | Ferri PI err | IMI EMD (s) |"
        )?;
        writeln!(s, "|---|---:|---|---|---|---|---|---|---|---|---|---|---|")?;
        for g in &self.groups {
            write!(s, "| {} | {} |", g.label, g.n_nights)?;
            for c in ScoredClass::ALL {
                let cells: Vec<String> = (0..names.len())
                    .map(|k| {
                        let v = g
                            .scores
                            .get(k)
                            .and_then(Option::as_ref)
                            .and_then(|x| x.classes.get(c.as_str()))
                            .filter(|_| self.reports(k, c))
                            .map(|x| x.f1);
                        fmt_opt(v, 3)
                    })
                    .collect();
                write!(s, " {} |", cells.join(" / "))?;
            }
            let stat = |f: &dyn Fn(&GroupScore) -> Option<f64>, d: usize| -> String {
                (0..names.len())
                    .map(|k| fmt_opt(g.scores.get(k).and_then(Option::as_ref).and_then(f), d))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            writeln!(
                s,
                " {} | {} | {} | {} | {} |",
                stat(&|x| x.plm_count_error.mean_abs_pct.value, 1),
                stat(&|x| x.plm_count_error.pooled_abs_pct, 1),
                stat(&|x| x.sleep_onset_abs_median_s.value, 1),
                stat(&|x| x.periodicity_index_ferri2006_abs_mean.value, 3),
                stat(&|x| x.imi_histogram_emd_mean_s.value, 2),
            )?;
        }
        if let Some(all) = self.group(Group::All) {
            for (k, x) in all.scores.iter().enumerate() {
                let Some(x) = x else { continue };
                let c = &x.plm_count_error;
                if c.n_truth_zero > 0 {
                    writeln!(
                        s,
                        "\n{}: {} leg night(s) without a true PLM, left out of the PLM count \
                         error; {} PLM(s) detected on them.",
                        names.get(k).unwrap_or(&""),
                        c.n_truth_zero,
                        c.n_detected_on_truth_zero
                    )?;
                }
            }
        }
        // Nights.
        writeln!(
            s,
            "\nPer night (errors signed, detected − truth; PLM count error relative to the \
             true count):\n"
        )?;
        writeln!(
            s,
            "| night | true PLM | detected PLM | PLM count err % | plm F1 | leg_movement F1 | \
             hypnic_jerk F1 | posture_change F1 | activity F1 | onset err (s) | Ferri PI err |"
        )?;
        writeln!(s, "|---|---:|---|---|---|---|---|---|---|---|---|")?;
        for (i, n) in self.nights.iter().enumerate() {
            let scores: Vec<Option<&NightScore>> = self
                .detectors
                .iter()
                .map(|d| d.nights.get(i).and_then(Option::as_ref))
                .collect();
            let truth_plm = scores
                .iter()
                .flatten()
                .find_map(|x| x.night.as_ref())
                .filter(|_| n.layout != Layout::Wrist)
                .map_or_else(|| "n/a".to_string(), |e| e.truth_n_plm.to_string());
            let per = |f: &dyn Fn(usize, &NightScore) -> Option<String>| -> String {
                scores
                    .iter()
                    .enumerate()
                    .map(|(k, x)| x.and_then(|x| f(k, x)).unwrap_or_else(|| "n/a".into()))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            let leg = n.layout != Layout::Wrist;
            let f1 = |c: ScoredClass| {
                per(&|k, x| {
                    x.classes
                        .get(c.as_str())
                        .filter(|_| self.reports(k, c))
                        .map(|v| format!("{:.3}", v.f1))
                })
            };
            let err = |f: &dyn Fn(&NightErrors) -> Option<f64>, d: usize| {
                per(&|_, x| x.night.as_ref().and_then(f).map(|v| format!("{v:.d$}")))
            };
            writeln!(
                s,
                "| {} | {truth_plm} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                n.name,
                per(&|_, x| x
                    .night
                    .as_ref()
                    .filter(|_| leg)
                    .map(|e| e.detected_n_plm.to_string())),
                err(
                    &|e| (e.truth_n_plm > 0 && leg).then(|| {
                        100.0 * (f64::from(e.detected_n_plm) - f64::from(e.truth_n_plm))
                            / f64::from(e.truth_n_plm)
                    }),
                    1
                ),
                f1(ScoredClass::Plm),
                f1(ScoredClass::LegMovement),
                f1(ScoredClass::HypnicJerk),
                f1(ScoredClass::PostureChange),
                f1(ScoredClass::Activity),
                err(&|e| e.sleep_onset_error_s, 1),
                err(&|e| e.periodicity_index_ferri2006_error.filter(|_| leg), 3),
            )?;
        }
        Ok(())
    }
}

pub(crate) fn fmt_opt(v: Option<f64>, d: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.d$}"))
}

/// A boundary error in seconds with its sign, to the 0.01 s its histogram allows.
fn fmt_signed(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:+.2}"))
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Settings of a benchmark run.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    /// Worker threads (0: one per core). Nights, and the yardstick's runs, go in parallel.
    pub threads: usize,
    /// Samples per chunk pushed to the detector.
    pub chunk_len: usize,
    /// The Python yardstick, if it is to be run beside the detector.
    pub baseline: Option<Baseline>,
}

impl Default for BenchOptions {
    /// One thread per core, chunks of 4096 samples, no yardstick.
    fn default() -> Self {
        BenchOptions {
            threads: 0,
            chunk_len: 4096,
            baseline: None,
        }
    }
}

/// Classes the yardstick reports: leg movements and posture changes.
pub const BASELINE_CLASSES: [ScoredClass; 4] = [
    ScoredClass::Plm,
    ScoredClass::Lm,
    ScoredClass::LegMovement,
    ScoredClass::PostureChange,
];

/// Runs the crate's detector (built from `config`) and, if `opts.baseline` is set, the
/// Python yardstick over the nights of `configs`, and tabulates both against the
/// [standard targets](Target::standard).
///
/// `progress` is called as each night finishes, with the detector's name, the night's name
/// and the seconds it took.
///
/// # Errors
/// When a config is invalid, the detector fails on a night, or the yardstick fails; the
/// error names the night.
pub fn run_bench(
    bench: &str,
    configs: &[SimConfig],
    config: &Config,
    opts: &BenchOptions,
    progress: &(dyn Fn(&str, &str, f64) + Sync),
) -> Result<AccuracyTable, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::new(ErrorKind::Other(format!("thread pool: {e}"))))?;
    // Jobs: (night index, run the yardstick?). The yardstick's jobs come first, as they are
    // the slower ones on leg nights.
    let mut jobs: Vec<(usize, bool)> = Vec::new();
    if opts.baseline.is_some() {
        jobs.extend((0..configs.len()).map(|i| (i, true)));
    }
    jobs.extend((0..configs.len()).map(|i| (i, false)));
    // (night index, yardstick?, score) per job.
    type Done = (usize, bool, Option<NightScore>);
    let results: Vec<Result<Done, Error>> = pool.install(|| {
        jobs.par_iter()
            .with_max_len(1)
            .map(|&(i, yardstick)| {
                let Some(sim) = configs.get(i) else {
                    return Err(Error::new(ErrorKind::Other(format!("no night {i}"))));
                };
                let start = Instant::now();
                let score = match (&opts.baseline, yardstick) {
                    (Some(b), true) => b.score(sim),
                    _ => run_simulated(sim, config, opts.chunk_len).map(|r| Some(r.score)),
                }
                .map_err(|e| e.in_file(std::path::Path::new(&night_label(sim))))?;
                let name = if yardstick { BASELINE_PY } else { SLEEPTWITCH };
                progress(name, &sim.name, start.elapsed().as_secs_f64());
                Ok((i, yardstick, score))
            })
            .collect()
    });
    if let Some(b) = &opts.baseline {
        // Each night removed its own directory; drop the (now empty) parent too.
        let _ = std::fs::remove_dir(&b.work_dir);
    }
    let mut ours: Vec<Option<NightScore>> = vec![None; configs.len()];
    let mut theirs: Vec<Option<NightScore>> = vec![None; configs.len()];
    for r in results {
        let (i, yardstick, score) = r?;
        let slot = if yardstick {
            theirs.get_mut(i)
        } else {
            ours.get_mut(i)
        };
        if let Some(slot) = slot {
            *slot = score;
        }
    }
    let mut detectors = vec![DetectorScores {
        name: SLEEPTWITCH.into(),
        classes: ScoredClass::ALL.to_vec(),
        nights: ours,
    }];
    if opts.baseline.is_some() {
        detectors.push(DetectorScores {
            name: BASELINE_PY.into(),
            classes: BASELINE_CLASSES.to_vec(),
            nights: theirs,
        });
    }
    let nights = configs.iter().map(NightInfo::of).collect();
    AccuracyTable::new(bench, nights, detectors, &Target::standard())
}

/// The night's name, or its seed when it has none.
fn night_label(sim: &SimConfig) -> String {
    if sim.name.is_empty() {
        format!("seed {}", sim.seed)
    } else {
        sim.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(truth_plm: u32, det_plm: u32, onset: Option<f64>, pi: Option<f64>) -> NightScore {
        let mut classes = BTreeMap::new();
        let tp = truth_plm.min(det_plm);
        classes.insert(
            "plm".to_string(),
            ClassScore::from_counts(tp, det_plm - tp, truth_plm - tp),
        );
        // A leg night: its truth lists leg movements.
        classes.insert("leg_movement".to_string(), classes["plm"]);
        NightScore {
            classes,
            plm_errors: None,
            night: Some(NightErrors {
                truth_n_plm: truth_plm,
                detected_n_plm: det_plm,
                plm_count_error: i64::from(det_plm) - i64::from(truth_plm),
                periodicity_index_ferri2006_error: pi,
                sleep_onset_error_s: onset,
                ..NightErrors::default()
            }),
        }
    }

    fn info(name: &str, layout: Layout, difficulty: f64, rate_hz: f64) -> NightInfo {
        NightInfo::of(&SimConfig {
            name: name.into(),
            layout,
            difficulty,
            rate_hz,
            ..SimConfig::default()
        })
    }

    #[test]
    fn count_error_is_a_mean_of_night_ratios_without_truth_zero_nights() {
        // 100 → 95: 5 %; 40 → 42: 5 %; 10 → 13: 30 %; a night without true PLMs where 3
        // were detected is left out of the mean and counted apart. Mean (5 + 5 + 30) / 3.
        let nights = [
            night(100, 95, None, None),
            night(40, 42, None, None),
            night(10, 13, None, None),
            night(0, 3, None, None),
        ];
        let g = GroupScore::of(&nights);
        assert_eq!(g.n_nights, 4);
        let m = g.plm_count_error.mean_abs_pct;
        assert_eq!(m.n_nights, 3);
        assert!((m.value.unwrap() - 40.0 / 3.0).abs() < 1e-12, "{m:?}");
        // Pooled: (5 + 2 + 3) / (100 + 40 + 10) = 10 / 150.
        let pooled = g.plm_count_error.pooled_abs_pct.unwrap();
        assert!((pooled - 100.0 * 10.0 / 150.0).abs() < 1e-12, "{pooled}");
        assert_eq!(g.plm_count_error.n_truth_zero, 1);
        assert_eq!(g.plm_count_error.n_detected_on_truth_zero, 3);
        // A wrist night (no leg classes) adds to no leg figure, though its errors say 0 PLMs.
        let mut wrist = night(0, 0, Some(10.0), Some(0.0));
        wrist.classes.clear();
        let mut with_wrist = nights.to_vec();
        with_wrist.push(wrist);
        let w = GroupScore::of(&with_wrist);
        assert_eq!(w.plm_count_error, g.plm_count_error);
        assert_eq!(w.periodicity_index_ferri2006_abs_mean.n_nights, 0);
        assert_eq!(w.sleep_onset_abs_median_s.n_nights, 1);
        // Pooled counts: tp 95 + 40 + 10, fp 2 + 3 + 3, fn 5.
        let plm = g.classes["plm"];
        assert_eq!((plm.tp, plm.fp, plm.fn_), (145, 8, 5));
    }

    #[test]
    fn onset_is_a_median_of_absolute_errors_and_pi_a_mean() {
        // |−30|, 60, 200 → median 60; with a fourth, 10: (30 + 60) / 2 = 45.
        let mut nights = vec![
            night(1, 1, Some(-30.0), Some(-0.1)),
            night(1, 1, Some(60.0), Some(0.05)),
            night(1, 1, Some(200.0), None),
        ];
        let g = GroupScore::of(&nights);
        assert_eq!(g.sleep_onset_abs_median_s.value, Some(60.0));
        assert_eq!(g.sleep_onset_abs_median_s.n_nights, 3);
        let pi = g.periodicity_index_ferri2006_abs_mean;
        assert_eq!(pi.n_nights, 2);
        assert!((pi.value.unwrap() - 0.075).abs() < 1e-12);
        nights.push(night(1, 1, Some(10.0), None));
        assert_eq!(
            GroupScore::of(&nights).sleep_onset_abs_median_s.value,
            Some(45.0)
        );
        assert_eq!(Stat::median(&[]).value, None);
    }

    #[test]
    fn groups_pick_their_nights_and_targets_report_shortfalls() {
        let nights = vec![
            info("a", Layout::Ankle, 0.3, 25.0),
            info("b", Layout::Bilateral, 1.0, 100.0),
            info("c", Layout::Wrist, 1.0, 25.0),
        ];
        // Detector 1: night a perfect (10 of 10), night b 8 of 10 with 2 false; the second
        // detector does not apply to night c.
        let one = DetectorScores {
            name: "one".into(),
            classes: ScoredClass::ALL.to_vec(),
            nights: vec![
                Some(night(10, 10, Some(30.0), None)),
                Some(night(10, 10, Some(300.0), None)),
                Some(NightScore::default()),
            ],
        };
        let mut b = night(10, 10, None, None);
        b.classes
            .insert("plm".into(), ClassScore::from_counts(8, 2, 2));
        b.plm_errors = Some(PlmErrorCauses {
            false_negatives: [("unseen".to_string(), 2)].into(),
            false_positives: [("split".to_string(), 2)].into(),
        });
        let mut two = one.clone();
        two.name = "two".into();
        two.nights[1] = Some(b);
        two.nights[2] = None;
        let t = AccuracyTable::new("test", nights, vec![one, two], &Target::standard()).unwrap();
        let hard = t.group(Group::Difficulty(true)).unwrap();
        assert_eq!(hard.n_nights, 2);
        assert_eq!(t.score(Group::Difficulty(true), 0).unwrap().n_nights, 2);
        assert_eq!(t.score(Group::Difficulty(true), 1).unwrap().n_nights, 1);
        assert!(t.score(Group::Layout(Layout::Wrist), 1).is_none());
        assert_eq!(t.score(Group::RateHz(25.0), 0).unwrap().n_nights, 2);
        // Hard PLM F1 ≥ 0.95: detector one has 1.0 (met), two has 0.8 (short by 0.15).
        let row = t
            .targets
            .iter()
            .find(|r| {
                r.target.group == Group::Difficulty(true)
                    && r.target.metric == Metric::F1(ScoredClass::Plm)
            })
            .unwrap();
        assert_eq!(row.results[0].met, Some(true));
        assert_eq!(row.results[1].met, Some(false));
        assert!((row.results[1].shortfall.unwrap() - 0.15).abs() < 1e-12);
        // Sleep onset median ≤ 120 s over all: |30|, |300| → 165, short by 45.
        let onset = t
            .targets
            .iter()
            .find(|r| r.target.metric == Metric::SleepOnsetMedianAbsS)
            .unwrap();
        assert_eq!(onset.results[0].value, Some(165.0));
        assert_eq!(onset.results[0].shortfall, Some(45.0));
        let md = t.to_markdown();
        assert!(md.contains("| hard | plm F1 | ≥ 0.95 | 1.000 | yes | 0.800 | no, by 0.150 |"));
        // PLM errors by cause: detector two's, on its hard night; one has none.
        assert!(md.contains("| two: cause | hard nights | share | all nights | share |"));
        assert!(md.contains("| split | 0 + 2 | 50.0 % | 0 + 2 | 50.0 % |"));
        assert!(md.contains("| unseen | 2 + 0 | 50.0 % | 2 + 0 | 50.0 % |"));
        assert!(!md.contains("one: cause"));
        // The table survives a JSON round trip.
        // (compared as text: the parser may round the last bit of a float differently).
        let json = serde_json::to_string(&t).unwrap();
        let back: AccuracyTable = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn a_detector_with_a_missing_night_is_an_error() {
        let d = DetectorScores {
            name: "short".into(),
            classes: vec![],
            nights: vec![],
        };
        let nights = vec![info("a", Layout::Ankle, 0.3, 25.0)];
        assert!(AccuracyTable::new("t", nights, vec![d], &[]).is_err());
    }
}
