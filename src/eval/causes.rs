//! Where a night's PLM errors come from.
//!
//! A PLM is periodic only among its neighbours, so one leg movement found or lost changes
//! the class of up to three others: a false movement inside a true series makes a short
//! interval that breaks it, a lost one can end a run of four at three. The PLM F1 alone
//! does not say which leg-movement errors cost the most; this attribution does.
//!
//! Leg movements (`plm` and `lm` pooled) of the truth and the detection are matched one to
//! one as for [`ScoredClass::LegMovement`]. Each leg movement left unmatched, and each
//! matched pair whose intervals fall on different sides of a series limit, is a
//! *discrepancy* with a cause ([`Cause`]):
//!
//! - a true leg movement not found: `merged` when it touches a detected leg movement that
//!   was matched to another (two true movements found as one), `missed_as_<class>` when a
//!   detection of another class covers it, `unseen` otherwise;
//! - a detected leg movement with no true one: `split` when it touches a true leg movement
//!   matched to another detection (one true movement found as two), `extra_in_<class>`
//!   when it lies in a true event of another class (a train, a fidget, a jerk, a turn),
//!   `extra_alone` otherwise;
//! - `timing`: two consecutive matched pairs whose onset-to-onset interval is inside the
//!   series window on one side and outside it on the other, or a matched pair whose
//!   duration is within the longest candidate LM on one side only.
//!
//! Every PLM error (a true PLM not matched by a detected one, or a detected PLM not matched
//! by a true one, as in the `plm` F1) is then put down to the discrepancy nearest to it in
//! time, within the span of a shortest series (three longest intervals: the members of a
//! run of four that one discrepancy makes or breaks lie that far from it); `none` when
//! there is none that close (the series rule itself, or a disagreement this list does not
//! name).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{match_class, MatchConfig, ScoredClass};
use crate::{Event, Kind, SeriesConfig, Site};

/// A leg-movement discrepancy that a PLM error is put down to (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// A true leg movement found nowhere.
    Unseen,
    /// A true leg movement covered by a detection of another class.
    MissedAs(Kind),
    /// A true leg movement found together with another as one.
    Merged,
    /// One true leg movement found as two or more.
    Split,
    /// A detected leg movement inside a true event of another class.
    ExtraIn(Kind),
    /// A detected leg movement where the truth has nothing.
    ExtraAlone,
    /// An interval or a duration on different sides of a series limit.
    Timing,
    /// No discrepancy within three series intervals.
    None,
}

impl Cause {
    /// The cause's name in reports.
    pub fn label(self) -> String {
        match self {
            Cause::Unseen => "unseen".into(),
            Cause::MissedAs(k) => format!("missed_as_{}", k.as_str()),
            Cause::Merged => "merged".into(),
            Cause::Split => "split".into(),
            Cause::ExtraIn(k) => format!("extra_in_{}", k.as_str()),
            Cause::ExtraAlone => "extra_alone".into(),
            Cause::Timing => "timing".into(),
            Cause::None => "none".into(),
        }
    }
}

/// PLM errors by cause, keyed by [`Cause::label`]; adds up over nights.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlmErrorCauses {
    /// True PLMs not detected as PLMs, by cause.
    pub false_negatives: BTreeMap<String, u32>,
    /// Detected PLMs that are not true PLMs, by cause.
    pub false_positives: BTreeMap<String, u32>,
}

impl PlmErrorCauses {
    /// Adds another night's (or group's) counts.
    pub fn add(&mut self, other: &PlmErrorCauses) {
        for (mine, theirs) in [
            (&mut self.false_negatives, &other.false_negatives),
            (&mut self.false_positives, &other.false_positives),
        ] {
            for (k, v) in theirs {
                let e = mine.entry(k.clone()).or_insert(0);
                *e = e.saturating_add(*v);
            }
        }
    }

    /// The counts of several nights (or groups) added up.
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a PlmErrorCauses>) -> Self {
        let mut out = PlmErrorCauses::default();
        for p in parts {
            out.add(p);
        }
        out
    }

    /// Every PLM error counted.
    pub fn total(&self) -> u32 {
        self.false_negatives
            .values()
            .chain(self.false_positives.values())
            .fold(0u32, |n, v| n.saturating_add(*v))
    }

    /// Causes with their false negatives and false positives, most errors first.
    pub fn rows(&self) -> Vec<(String, u32, u32)> {
        let mut keys: Vec<&String> = self
            .false_negatives
            .keys()
            .chain(self.false_positives.keys())
            .collect();
        keys.sort();
        keys.dedup();
        let get = |m: &BTreeMap<String, u32>, k: &String| m.get(k).copied().unwrap_or(0);
        let mut rows: Vec<(String, u32, u32)> = keys
            .into_iter()
            .map(|k| {
                (
                    k.clone(),
                    get(&self.false_negatives, k),
                    get(&self.false_positives, k),
                )
            })
            .collect();
        rows.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then_with(|| a.0.cmp(&b.0)));
        rows
    }

    fn count(&mut self, false_negative: bool, cause: Cause) {
        let m = if false_negative {
            &mut self.false_negatives
        } else {
            &mut self.false_positives
        };
        let e = m.entry(cause.label()).or_insert(0);
        *e = e.saturating_add(1);
    }
}

/// Puts each PLM error of `detected` against `truth` down to a cause (module docs). The
/// series limits (interval window, longest candidate LM) are those of `series`.
pub fn plm_error_causes(
    truth: &[Event],
    detected: &[Event],
    series: &SeriesConfig,
    cfg: &MatchConfig,
) -> PlmErrorCauses {
    let discrepancies = discrepancies(truth, detected, series, cfg);
    // A shortest series spans `min_run - 1` intervals: one discrepancy can change the
    // class of members that far away.
    let reach_s = f64::from(series.min_run.saturating_sub(1).max(1)) * series.imi_max_s;
    let nearest = |t_s: f64| {
        discrepancies
            .iter()
            .map(|&(at, c)| ((at - t_s).abs(), c))
            .filter(|&(d, _)| d <= reach_s)
            .min_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
            .map_or(Cause::None, |(_, c)| c)
    };
    let pairs = match_class(truth, detected, ScoredClass::Plm, cfg);
    let (t_matched, d_matched) = matched_flags(&pairs, truth.len(), detected.len());
    let mut out = PlmErrorCauses::default();
    for (e, &m) in truth.iter().zip(&t_matched) {
        if e.kind == Kind::Plm && !m {
            out.count(true, nearest(e.onset_s));
        }
    }
    for (e, &m) in detected.iter().zip(&d_matched) {
        if e.kind == Kind::Plm && !m {
            out.count(false, nearest(e.onset_s));
        }
    }
    out
}

/// Which truth and which detected events a matching took.
fn matched_flags(
    pairs: &[(usize, usize)],
    n_truth: usize,
    n_detected: usize,
) -> (Vec<bool>, Vec<bool>) {
    let (mut t, mut d) = (vec![false; n_truth], vec![false; n_detected]);
    for &(i, j) in pairs {
        if let Some(x) = t.get_mut(i) {
            *x = true;
        }
        if let Some(x) = d.get_mut(j) {
            *x = true;
        }
    }
    (t, d)
}

/// The leg-movement discrepancies of a night, each at a time.
fn discrepancies(
    truth: &[Event],
    detected: &[Event],
    series: &SeriesConfig,
    cfg: &MatchConfig,
) -> Vec<(f64, Cause)> {
    let mut pairs = match_class(truth, detected, ScoredClass::LegMovement, cfg);
    pairs.sort_by(|a, b| {
        let on = |i: usize| truth.get(i).map_or(0.0, |e| e.onset_s);
        on(a.0).total_cmp(&on(b.0))
    });
    let (t_flags, d_flags) = matched_flags(&pairs, truth.len(), detected.len());
    // Widened by the matching tolerance on both sides, as the matching does.
    let touch = |a: &Event, b: &Event| {
        a.onset_s - cfg.widen_s <= b.offset_s + cfg.widen_s
            && b.onset_s - cfg.widen_s <= a.offset_s + cfg.widen_s
    };
    let inside = |a: &Event, b: &Event| a.onset_s < b.offset_s && b.onset_s < a.offset_s;
    let mut out = Vec::new();
    // A true leg movement not found: merged, found as another class (covered, within the
    // tolerance), or unseen.
    for (t_s, joined, other) in unmatched((truth, &t_flags), (detected, &d_flags), &touch, &touch) {
        let cause = match (joined, other) {
            (true, _) => Cause::Merged,
            (false, Some(k)) => Cause::MissedAs(k),
            (false, None) => Cause::Unseen,
        };
        out.push((t_s, cause));
    }
    // A detected leg movement with no true one: split, inside a true event of another
    // class, or alone.
    for (t_s, joined, other) in unmatched((detected, &d_flags), (truth, &t_flags), &touch, &inside)
    {
        let cause = match (joined, other) {
            (true, _) => Cause::Split,
            (false, Some(k)) => Cause::ExtraIn(k),
            (false, None) => Cause::ExtraAlone,
        };
        out.push((t_s, cause));
    }
    let in_window = |imi: f64| series.imi_in_window(imi);
    let candidate = |e: &Event| {
        let bilateral = e.sites.contains(Site::LeftAnkle) && e.sites.contains(Site::RightAnkle);
        series.clm_duration_ok(e.duration_s(), bilateral)
    };
    let matched: Vec<(&Event, &Event)> = pairs
        .iter()
        .filter_map(|&(i, j)| truth.get(i).zip(detected.get(j)))
        .collect();
    for (k, &(t, d)) in matched.iter().enumerate() {
        let interval_differs =
            k.checked_sub(1)
                .and_then(|p| matched.get(p))
                .is_some_and(|&(tp, dp)| {
                    in_window(t.onset_s - tp.onset_s) != in_window(d.onset_s - dp.onset_s)
                });
        if interval_differs || candidate(t) != candidate(d) {
            out.push((t.onset_s, Cause::Timing));
        }
    }
    out
}

/// For each leg movement of `side` that the matching left alone: its onset, whether it
/// `touches` a leg movement of `other` that was matched (to something else), and the class
/// of the first event of `other` of another class that it `meets`.
fn unmatched<'a>(
    (side, side_matched): (&'a [Event], &'a [bool]),
    (other, other_matched): (&'a [Event], &'a [bool]),
    touches: &'a dyn Fn(&Event, &Event) -> bool,
    meets: &'a dyn Fn(&Event, &Event) -> bool,
) -> impl Iterator<Item = (f64, bool, Option<Kind>)> + 'a {
    side.iter()
        .zip(side_matched)
        .filter(|(e, &m)| e.kind.is_leg_movement() && !m)
        .map(move |(e, _)| {
            let joined = other
                .iter()
                .zip(other_matched)
                .any(|(o, &m)| m && o.kind.is_leg_movement() && touches(e, o));
            let class = other
                .iter()
                .find(|o| !o.kind.is_leg_movement() && meets(o, e))
                .map(|o| o.kind);
            (e.onset_s, joined, class)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: Kind, on: f64, off: f64) -> Event {
        Event::new(on, off, kind)
    }

    fn causes(truth: &[Event], detected: &[Event]) -> PlmErrorCauses {
        plm_error_causes(
            truth,
            detected,
            &SeriesConfig::default(),
            &MatchConfig::default(),
        )
    }

    fn disc(truth: &[Event], detected: &[Event]) -> Vec<(f64, Cause)> {
        discrepancies(
            truth,
            detected,
            &SeriesConfig::default(),
            &MatchConfig::default(),
        )
    }

    fn map(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
    }

    /// Four true PLMs 25 s apart from 100 s, 2 s each.
    fn series() -> Vec<Event> {
        (0..4)
            .map(|i| {
                let on = 100.0 + 25.0 * f64::from(i);
                ev(Kind::Plm, on, on + 2.0)
            })
            .collect()
    }

    #[test]
    fn a_series_found_whole_has_no_errors() {
        let c = causes(&series(), &series());
        assert_eq!(c.total(), 0);
        assert!(c.rows().is_empty());
    }

    #[test]
    fn a_member_not_seen_costs_the_run_its_plms() {
        // The third is not found: three left, no series; every true PLM is missed and
        // the nearest discrepancy of each is the unseen movement (50 s from the first).
        let truth = series();
        let detected: Vec<Event> = truth
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let kind = if i == 2 { Kind::Other } else { Kind::Lm };
                ev(kind, e.onset_s, e.offset_s)
            })
            .collect();
        // The third is covered by an `other`: missed as other; without it, unseen.
        let c = causes(&truth, &detected);
        assert_eq!(c.false_negatives, map(&[("missed_as_other", 4)]));
        assert!(c.false_positives.is_empty());
        let without: Vec<Event> = detected
            .iter()
            .filter(|e| e.kind == Kind::Lm)
            .copied()
            .collect();
        assert_eq!(
            causes(&truth, &without).false_negatives,
            map(&[("unseen", 4)])
        );
    }

    #[test]
    fn a_false_movement_in_a_train_completes_a_false_series() {
        // Three true LMs 30 s apart and a tremor train 30 s after the third: a piece of it
        // detected as a leg movement makes a run of four.
        let mut truth: Vec<Event> = (0..3)
            .map(|i| {
                let on = 100.0 + 30.0 * f64::from(i);
                ev(Kind::Lm, on, on + 2.0)
            })
            .collect();
        truth.push(ev(Kind::Other, 188.0, 200.0));
        let mut detected: Vec<Event> = truth
            .iter()
            .take(3)
            .map(|e| ev(Kind::Plm, e.onset_s, e.offset_s))
            .collect();
        detected.push(ev(Kind::Plm, 190.0, 191.5));
        let c = causes(&truth, &detected);
        assert_eq!(c.false_positives, map(&[("extra_in_other", 4)]));
        assert!(c.false_negatives.is_empty());
    }

    #[test]
    fn splits_merges_and_timing_are_told_apart() {
        // A 4 s true movement found as two pieces 1 s apart: split.
        let truth = vec![ev(Kind::Lm, 100.0, 104.0), ev(Kind::Lm, 130.0, 132.0)];
        let detected = vec![
            ev(Kind::Lm, 100.0, 101.5),
            ev(Kind::Lm, 102.5, 104.0),
            ev(Kind::Lm, 130.0, 132.0),
        ];
        let d = disc(&truth, &detected);
        assert_eq!(d, vec![(102.5, Cause::Split)]);
        // Two true movements 1 s apart found as one: merged.
        let d = disc(&detected, &truth);
        assert_eq!(d, vec![(102.5, Cause::Merged)]);
        // An interval of 10.2 s found as 9.8 s (a late onset before it): timing.
        let truth = vec![ev(Kind::Lm, 100.0, 102.0), ev(Kind::Lm, 110.2, 112.0)];
        let detected = vec![ev(Kind::Lm, 100.4, 102.0), ev(Kind::Lm, 110.2, 112.0)];
        let d = disc(&truth, &detected);
        assert_eq!(d, vec![(110.2, Cause::Timing)]);
    }

    #[test]
    fn causes_add_up_and_sort_by_count() {
        let a = PlmErrorCauses {
            false_negatives: map(&[("unseen", 2)]),
            false_positives: map(&[("split", 1)]),
        };
        let b = PlmErrorCauses {
            false_negatives: map(&[("split", 3)]),
            false_positives: map(&[("unseen", 1)]),
        };
        let a = PlmErrorCauses::sum([&a, &b]);
        assert_eq!(a.total(), 7);
        assert_eq!(
            a.rows(),
            vec![("split".to_string(), 3, 1), ("unseen".to_string(), 2, 1)]
        );
    }
}
