//! The benchmark's targets over several sets of seeds.
//!
//! A set of 24 nights is a small sample: on hard nights one crowded night can move the
//! PLM F1 by a hundredth and the mean count error by several percent. A figure claimed
//! for the detector should hold on nights nobody looked at, so the benchmark's
//! configurations are run again with their seeds shifted, set after set, and each target
//! is reported as the pooled figure over every night of every set, the mean and range of
//! the sets' own figures, and how many sets meet it.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::table::fmt_opt;
use super::{AccuracyTable, DetectorScores, Target, TargetResult};
use crate::{Error, ErrorKind};

/// One detector's figures for one target over the seed sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpreadFigures {
    /// The figure of every night of every set scored as one benchmark (`None` when the
    /// detector has no figure for the target).
    pub pooled: Option<f64>,
    /// Whether the pooled figure meets the target.
    pub pooled_met: Option<bool>,
    /// Each set's own figure, in the sets' order.
    pub per_set: Vec<Option<f64>>,
    /// Mean, least and greatest of the sets' figures (over the sets that have one).
    pub mean: Option<f64>,
    /// Least of the sets' figures.
    pub min: Option<f64>,
    /// Greatest of the sets' figures.
    pub max: Option<f64>,
    /// Sets whose own figure meets the target, of `n_sets`.
    pub sets_met: u32,
    /// Sets with a figure.
    pub n_sets: u32,
}

/// A target and each detector's figures over the seed sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpreadRow {
    /// The target.
    pub target: Target,
    /// Per detector, in the sets' order of detectors.
    pub detectors: Vec<SpreadFigures>,
}

/// The targets over several seed sets of one benchmark's configurations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedSpread {
    /// The benchmark's name.
    pub bench: String,
    /// What was added to every night's seed, per set.
    pub seed_shifts: Vec<u64>,
    /// Nights in each set.
    pub nights_per_set: u32,
    /// The detectors' names.
    pub detectors: Vec<String>,
    /// One row per target.
    pub rows: Vec<SpreadRow>,
}

impl SeedSpread {
    /// The spread of `tables`, one per seed set (`seed_shifts[i]` added to the seeds of
    /// `tables[i]`), which must list the same detectors and targets.
    ///
    /// # Errors
    /// When there is no table, the counts differ, or the tables' detectors or targets
    /// differ.
    pub fn new(
        bench: &str,
        seed_shifts: Vec<u64>,
        tables: &[AccuracyTable],
    ) -> Result<Self, Error> {
        let mismatch = |what: &str| Error::new(ErrorKind::Other(format!("seed sets: {what}")));
        let Some(first) = tables.first() else {
            return Err(mismatch("no set"));
        };
        if tables.len() != seed_shifts.len() {
            return Err(mismatch("one seed shift per set is needed"));
        }
        let names: Vec<String> = first.detectors.iter().map(|d| d.name.clone()).collect();
        let targets: Vec<Target> = first.targets.iter().map(|r| r.target).collect();
        for t in tables {
            let same_detectors = t.detectors.iter().map(|d| &d.name).eq(names.iter());
            let same_targets = t
                .targets
                .iter()
                .map(|r| r.target)
                .eq(targets.iter().copied());
            if !(same_detectors && same_targets) {
                return Err(mismatch("the sets' detectors or targets differ"));
            }
        }
        let pooled = pool(bench, tables, &targets)?;
        let rows = targets
            .iter()
            .enumerate()
            .map(|(i, &target)| SpreadRow {
                target,
                detectors: (0..names.len())
                    .map(|k| {
                        let result = |t: &AccuracyTable| {
                            t.targets
                                .get(i)
                                .and_then(|r| r.results.get(k))
                                .filter(|_| t.applies(k, target.metric))
                                .copied()
                        };
                        let pooled = result(&pooled);
                        let per_set: Vec<_> = tables.iter().map(result).collect();
                        figures(pooled, &per_set)
                    })
                    .collect(),
            })
            .collect();
        Ok(SeedSpread {
            bench: bench.to_string(),
            seed_shifts,
            nights_per_set: u32::try_from(first.nights.len()).unwrap_or(u32::MAX),
            detectors: names,
            rows,
        })
    }

    /// The spread as markdown: one row per target, per detector the pooled figure, the
    /// sets' mean and range and the sets that meet the target.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_markdown(&mut s);
        s
    }

    fn write_markdown(&self, s: &mut String) -> std::fmt::Result {
        let shifts: Vec<String> = self.seed_shifts.iter().map(u64::to_string).collect();
        writeln!(
            s,
            "### {}: {} seed sets of {} nights\n\nSeeds + {}. Pooled: every night of every set \
             scored as one benchmark; mean, range and sets that meet the target: each set \
             scored on its own.\n",
            self.bench,
            self.seed_shifts.len(),
            self.nights_per_set,
            shifts.join(", ")
        )?;
        write!(s, "| group | figure | target |")?;
        for n in &self.detectors {
            write!(s, " {n}: pooled | mean | range | sets met |")?;
        }
        write!(s, "\n|---|---|---|")?;
        for _ in &self.detectors {
            write!(s, "---:|---:|---:|---:|")?;
        }
        writeln!(s)?;
        for row in &self.rows {
            let t = &row.target;
            let d = t.metric.decimals();
            write!(
                s,
                "| {} | {} | {} |",
                t.group.label(),
                t.metric.label(),
                t.bound
            )?;
            for f in &row.detectors {
                if f.n_sets == 0 {
                    write!(s, " n/a | | | |")?;
                    continue;
                }
                let mark = if f.pooled_met == Some(false) {
                    " ✗"
                } else {
                    ""
                };
                let range = format!("{}–{}", fmt_opt(f.min, d), fmt_opt(f.max, d));
                write!(
                    s,
                    " {}{mark} | {} | {range} | {} / {} |",
                    fmt_opt(f.pooled, d),
                    fmt_opt(f.mean, d),
                    f.sets_met,
                    f.n_sets
                )?;
            }
            writeln!(s)?;
        }
        writeln!(s, "\n✗: the pooled figure misses the target.")
    }
}

/// Every night of every set as one table, scored against `targets`.
fn pool(bench: &str, tables: &[AccuracyTable], targets: &[Target]) -> Result<AccuracyTable, Error> {
    let nights = tables
        .iter()
        .flat_map(|t| t.nights.iter().cloned())
        .collect();
    let detectors = tables
        .first()
        .map(|first| {
            first
                .detectors
                .iter()
                .enumerate()
                .map(|(k, d)| DetectorScores {
                    name: d.name.clone(),
                    classes: d.classes.clone(),
                    nights: tables
                        .iter()
                        .filter_map(|t| t.detectors.get(k))
                        .flat_map(|d| d.nights.iter().cloned())
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    AccuracyTable::new(bench, nights, detectors, targets)
}

/// A detector's figures for one target from its pooled result and each set's.
fn figures(pooled: Option<TargetResult>, per_set: &[Option<TargetResult>]) -> SpreadFigures {
    let values: Vec<f64> = per_set.iter().flatten().filter_map(|r| r.value).collect();
    let n = values.len();
    let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
    let min = values.iter().copied().reduce(f64::min);
    let max = values.iter().copied().reduce(f64::max);
    let sets_met = per_set
        .iter()
        .flatten()
        .filter(|r| r.met == Some(true))
        .count();
    SpreadFigures {
        pooled: pooled.and_then(|r| r.value),
        pooled_met: pooled.and_then(|r| r.met),
        per_set: per_set.iter().map(|r| r.and_then(|r| r.value)).collect(),
        mean,
        min,
        max,
        sets_met: u32::try_from(sets_met).unwrap_or(u32::MAX),
        n_sets: u32::try_from(n).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::eval::{ClassScore, Group, Metric, NightInfo, NightScore, ScoredClass};
    use crate::sim::{Layout, SimConfig};

    /// A hard one-ankle night whose PLMs were found `tp` right, `fp` wrong and `fn_` missed.
    fn night(tp: u32, fp: u32, fn_: u32) -> NightScore {
        let plm = ClassScore::from_counts(tp, fp, fn_);
        let classes = BTreeMap::from([("plm".to_string(), plm), ("leg_movement".to_string(), plm)]);
        NightScore {
            classes,
            night: None,
            plm_errors: None,
        }
    }

    fn set(nights: &[(u32, u32, u32)]) -> AccuracyTable {
        let info = NightInfo::of(&SimConfig {
            layout: Layout::Ankle,
            difficulty: 1.0,
            ..SimConfig::default()
        });
        let scores = DetectorScores {
            name: "d".into(),
            classes: vec![ScoredClass::Plm, ScoredClass::LegMovement],
            nights: nights
                .iter()
                .map(|&(a, b, c)| Some(night(a, b, c)))
                .collect(),
        };
        AccuracyTable::new(
            "t",
            vec![info; nights.len()],
            vec![scores],
            &Target::standard(),
        )
        .unwrap()
    }

    fn hard_plm(s: &SeedSpread) -> &SpreadFigures {
        let row = s.rows.iter().find(|r| {
            r.target.group == Group::Difficulty(true)
                && r.target.metric == Metric::F1(ScoredClass::Plm)
        });
        &row.unwrap().detectors[0]
    }

    #[test]
    fn sets_are_pooled_by_their_counts_and_summed_up_by_their_own_figures() {
        // Set 1: 96 right, 4 wrong, 4 missed (F1 0.96); set 2: 45 right, 5 wrong, 5 missed
        // (F1 0.9). Pooled: 141 right of 150 found and 150 true, F1 0.94.
        let tables = [set(&[(50, 2, 2), (46, 2, 2)]), set(&[(45, 5, 5)])];
        let s = SeedSpread::new("t", vec![1, 2], &tables).unwrap();
        let f = hard_plm(&s);
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
        assert!(
            close(f.per_set[0], 0.96) && close(f.per_set[1], 0.9),
            "{f:?}"
        );
        assert!(close(f.pooled, 0.94), "{f:?}");
        assert!(close(f.mean, 0.93) && close(f.min, 0.9) && close(f.max, 0.96));
        assert_eq!((f.sets_met, f.n_sets, f.pooled_met), (1, 2, Some(false)));
        assert_eq!(s.nights_per_set, 2);
        // The easy nights' targets have no figure here: no set counts for them.
        let easy = s
            .rows
            .iter()
            .find(|r| r.target.group == Group::Difficulty(false))
            .unwrap();
        assert_eq!(easy.detectors[0].n_sets, 0);
        assert_eq!(easy.detectors[0].pooled, None);
        let md = s.to_markdown();
        assert!(
            md.contains("| hard | plm F1 | ≥ 0.95 | 0.940 ✗ | 0.930 | 0.900–0.960 | 1 / 2 |"),
            "{md}"
        );
    }

    #[test]
    fn sets_of_different_detectors_or_no_set_are_refused() {
        let mut other = set(&[(10, 0, 0)]);
        other.detectors[0].name = "e".into();
        assert!(SeedSpread::new("t", vec![1, 2], &[set(&[(10, 0, 0)]), other]).is_err());
        assert!(SeedSpread::new("t", vec![], &[]).is_err());
        assert!(SeedSpread::new("t", vec![1], &[set(&[(1, 0, 0)]), set(&[(1, 0, 0)])]).is_err());
    }
}
