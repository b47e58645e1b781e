//! Matching and scoring on hand-built event lists.

use super::*;
use crate::event::SleepBout;

fn ev(onset_s: f64, offset_s: f64, kind: Kind) -> Event {
    Event::new(onset_s, offset_s, kind)
}

fn all(truth: &[Event], det: &[Event]) -> BTreeMap<String, ClassScore> {
    score_events(truth, det, &ScoredClass::ALL, &MatchConfig::default())
}

fn a_night() -> Vec<Event> {
    vec![
        ev(10.0, 10.2, Kind::HypnicJerk),
        ev(100.0, 102.0, Kind::Plm),
        ev(120.0, 123.0, Kind::Plm),
        ev(140.0, 141.5, Kind::Plm),
        ev(160.0, 162.0, Kind::Plm),
        ev(400.0, 402.0, Kind::Lm),
        ev(900.0, 906.0, Kind::PostureChange),
        ev(2000.0, 2100.0, Kind::Activity),
    ]
}

#[test]
fn truth_fed_back_scores_one_everywhere() {
    let t = a_night();
    let s = all(&t, &t);
    assert_eq!(s.len(), 6);
    for (name, c) in &s {
        assert_eq!((c.precision, c.recall, c.f1), (1.0, 1.0, 1.0), "{name}");
        assert_eq!((c.fp, c.fn_), (0, 0), "{name}");
    }
    assert_eq!(s["plm"].tp, 4);
    assert_eq!(s["leg_movement"].tp, 5);
}

#[test]
fn an_empty_detector_scores_recall_zero() {
    let s = all(&a_night(), &[]);
    for (name, c) in &s {
        assert_eq!(c.recall, 0.0, "{name}");
        assert_eq!(c.f1, 0.0, "{name}");
        // Nothing detected, so nothing detected wrongly.
        assert_eq!(c.precision, 1.0, "{name}");
        assert_eq!(c.tp, 0);
        assert_eq!(c.fn_, c.n_truth);
    }
}

#[test]
fn zero_conventions() {
    // Neither truth nor detection: perfect. Detections only: precision 0, recall 1, F1 0.
    let c = ClassScore::from_counts(0, 0, 0);
    assert_eq!((c.precision, c.recall, c.f1), (1.0, 1.0, 1.0));
    let c = ClassScore::from_counts(0, 3, 0);
    assert_eq!((c.precision, c.recall, c.f1), (0.0, 1.0, 0.0));
    // 3 of 4 found with 1 false alarm: P = 3/4, R = 3/4, F1 = 3/4.
    let c = ClassScore::from_counts(3, 1, 1);
    assert_eq!((c.precision, c.recall, c.f1), (0.75, 0.75, 0.75));
}

#[test]
fn shifted_events_match_within_the_widening() {
    // Widening each interval by w = 0.5 s on both sides, [a − w, b + w] and
    // [c − w, d + w] overlap iff the gap between the raw intervals is at most 2w = 1 s.
    // A 0.1 s event shifted by s leaves a gap of |s| − 0.1 s: s = 0.4 → gap 0.3 s ≤ 1 s,
    // match; s = 1.2 → gap 1.1 s > 1 s, no match. (Widened: [49.5, 50.6] vs [50.7, 51.8].)
    for (shift_s, tp) in [(0.4, 1), (-0.4, 1), (1.2, 0), (-1.2, 0)] {
        let t = [ev(50.0, 50.1, Kind::PostureChange)];
        let d = [ev(50.0 + shift_s, 50.1 + shift_s, Kind::PostureChange)];
        let c = score_class(&t, &d, ScoredClass::PostureChange, &MatchConfig::default());
        assert_eq!(c.tp, tp, "shift {shift_s} s");
    }
    // A 2 s LM and a detection starting g after its offset: gap g. g = 0.4 ≤ 1 s matches,
    // g = 1.2 > 1 s does not. (A whole 2 s LM shifted by 1.2 s still overlaps itself.)
    for (gap_s, tp) in [(0.4, 1), (1.0, 1), (1.2, 0)] {
        let t = [ev(100.0, 102.0, Kind::Lm)];
        let d = [ev(102.0 + gap_s, 103.0 + gap_s, Kind::Lm)];
        let c = score_class(&t, &d, ScoredClass::Lm, &MatchConfig::default());
        assert_eq!(c.tp, tp, "gap {gap_s} s");
    }
    let t = [ev(100.0, 102.0, Kind::Lm)];
    let d = [ev(101.2, 103.2, Kind::Lm)];
    assert_eq!(
        score_class(&t, &d, ScoredClass::Lm, &MatchConfig::default()).tp,
        1
    );
}

#[test]
fn jerks_match_by_onset_within_one_second() {
    for (delta_s, tp) in [(0.9, 1), (-0.9, 1), (1.1, 0), (-1.1, 0)] {
        let t = [ev(30.0, 30.2, Kind::HypnicJerk)];
        // The detection's interval is long enough to overlap: only the onset rule decides.
        let d = [ev(30.0 + delta_s, 32.0 + delta_s, Kind::HypnicJerk)];
        let c = score_class(&t, &d, ScoredClass::HypnicJerk, &MatchConfig::default());
        assert_eq!(c.tp, tp, "onsets {delta_s} s apart");
    }
}

#[test]
fn matching_is_one_to_one_and_greedy_in_time() {
    // Two detections on one truth: one TP, one FP.
    let t = [ev(10.0, 12.0, Kind::Lm)];
    let d = [ev(10.1, 11.0, Kind::Lm), ev(11.2, 12.0, Kind::Lm)];
    let c = score_class(&t, &d, ScoredClass::Lm, &MatchConfig::default());
    assert_eq!((c.tp, c.fp, c.fn_), (1, 1, 0));
    assert_eq!(
        match_class(&t, &d, ScoredClass::Lm, &MatchConfig::default()),
        [(0, 0)]
    );
    // Greedy in time order: the first truth takes the first detection that matches it, even
    // though that detection also matches the second truth; the second then takes the next.
    let t = [ev(10.0, 12.0, Kind::Lm), ev(13.0, 15.0, Kind::Lm)];
    let d = [ev(12.5, 13.5, Kind::Lm), ev(14.0, 15.0, Kind::Lm)];
    assert_eq!(
        match_class(&t, &d, ScoredClass::Lm, &MatchConfig::default()),
        [(0, 0), (1, 1)]
    );
    // Indices refer to the slices as given, in any order.
    let d_rev = [d[1], d[0]];
    assert_eq!(
        match_class(&t, &d_rev, ScoredClass::Lm, &MatchConfig::default()),
        [(0, 1), (1, 0)]
    );
}

#[test]
fn a_long_early_detection_is_not_skipped() {
    // Detections sorted by onset: a short early one dies, a long early one still matches
    // the later truth.
    let t = [
        ev(5.0, 6.0, Kind::Activity),
        ev(100.0, 110.0, Kind::Activity),
    ];
    let d = [ev(0.0, 1.0, Kind::Activity), ev(1.0, 200.0, Kind::Activity)];
    let m = match_class(&t, &d, ScoredClass::Activity, &MatchConfig::default());
    assert_eq!(m, [(0, 1)]);
    let d = [
        ev(0.0, 1.0, Kind::Activity),
        ev(2.0, 3.0, Kind::Activity),
        ev(50.0, 200.0, Kind::Activity),
    ];
    let m = match_class(&t, &d, ScoredClass::Activity, &MatchConfig::default());
    assert_eq!(m, [(1, 2)]);
}

#[test]
fn leg_movement_pools_plm_and_lm() {
    let t = [ev(100.0, 102.0, Kind::Plm)];
    let d = [ev(100.2, 102.1, Kind::Lm)];
    let s = all(&t, &d);
    assert_eq!((s["plm"].tp, s["plm"].fn_), (0, 1));
    assert_eq!((s["lm"].tp, s["lm"].fp), (0, 1));
    assert_eq!(s["leg_movement"].tp, 1);
    assert_eq!(s["leg_movement"].f1, 1.0);
}

#[test]
fn the_json_has_an_entry_per_class() {
    let truth = TruthNight {
        events: a_night(),
        info: None,
    };
    let s = score_night(&truth, &a_night()[..3], None, &EvalConfig::default()).unwrap();
    let v: serde_json::Value = serde_json::to_value(&s).unwrap();
    for c in ScoredClass::ALL {
        let e = &v[c.as_str()];
        for key in ["precision", "recall", "f1", "tp", "fp", "fn"] {
            assert!(e.get(key).is_some(), "{c}: no {key} in {e}");
        }
    }
    assert_eq!(v["plm"]["tp"], 2);
    assert_eq!(v["plm"]["fn"], 2);
    assert_eq!(v["hypnic_jerk"]["recall"], 1.0);
}

#[test]
fn wrist_nights_skip_leg_classes() {
    let truth = TruthNight {
        events: vec![ev(900.0, 906.0, Kind::PostureChange)],
        info: Some(TruthInfo {
            metrics: Some(TruthFlags {
                lm_listed: Some(false),
            }),
            in_bed_end_s: 3600.0,
            ..TruthInfo::default()
        }),
    };
    let s = score_night(
        &truth,
        &[ev(5.0, 7.0, Kind::Lm)],
        None,
        &EvalConfig::default(),
    )
    .unwrap();
    assert!(!s.classes.contains_key("lm"));
    assert!(!s.classes.contains_key("leg_movement"));
    assert!(s.classes.contains_key("posture_change"));
}

#[test]
fn pooled_counts_are_the_sums_of_the_nights() {
    let t = a_night();
    let n1 = score_night(
        &TruthNight {
            events: t.clone(),
            info: None,
        },
        &t[..4],
        None,
        &EvalConfig::default(),
    )
    .unwrap();
    let mut shifted = t.clone();
    shifted.push(ev(3000.0, 3002.0, Kind::Plm));
    let n2 = score_night(
        &TruthNight {
            events: t.clone(),
            info: None,
        },
        &shifted,
        None,
        &EvalConfig::default(),
    )
    .unwrap();
    let r = Report::new(BTreeMap::from([
        ("a".to_string(), n1.clone()),
        ("b".to_string(), n2.clone()),
    ]));
    for c in ScoredClass::ALL {
        let (p, a, b) = (
            &r.pooled[c.as_str()],
            &n1.classes[c.as_str()],
            &n2.classes[c.as_str()],
        );
        assert_eq!(p.tp, a.tp + b.tp, "{c}");
        assert_eq!(p.fp, a.fp + b.fp, "{c}");
        assert_eq!(p.fn_, a.fn_ + b.fn_, "{c}");
        assert_eq!(p.n_truth, a.n_truth + b.n_truth, "{c}");
    }
    // plm: night a found 3 of 4, night b 4 of 4 plus one false: P = 7/8, R = 7/8.
    assert_eq!(r.pooled["plm"].precision, 7.0 / 8.0);
    assert_eq!(r.pooled["plm"].recall, 7.0 / 8.0);
    let text = r.to_string();
    assert!(text.contains("2 night(s), pooled"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("plm ")), "{text}");
}

#[test]
fn night_errors_are_zero_for_a_perfect_detector_and_signed_otherwise() {
    let bouts = vec![SleepBout {
        start_s: 50.0,
        end_s: 3650.0,
    }];
    let truth = TruthNight {
        events: a_night(),
        info: Some(TruthInfo {
            sleep_bouts: bouts.clone(),
            sleep_onsets_s: vec![50.0],
            in_bed_start_s: 0.0,
            in_bed_end_s: 3700.0,
            config: None,
            metrics: None,
        }),
    };
    let sleep = DetectedSleep {
        sleep_bouts: Some(bouts),
        sleep_onsets_s: None,
    };
    let s = score_night(&truth, &a_night(), Some(&sleep), &EvalConfig::default()).unwrap();
    let n = s.night.unwrap();
    assert_eq!(n.plm_count_error, 0);
    assert_eq!(n.plms_index_error_per_h, Some(0.0));
    assert_eq!(n.imi_histogram_emd_s, Some(0.0));
    assert_eq!(n.sleep_onset_error_s, Some(0.0));
    assert_eq!(n.sleep_from, "detector");
    // Drop one PLM, detect sleep 30 s late: 3 PLMS in the 1 h of TST vs 4 → −1/h; onset +30 s.
    let late = DetectedSleep {
        sleep_bouts: None,
        sleep_onsets_s: Some(vec![80.0]),
    };
    let mut det = a_night();
    det.remove(1);
    let n = score_night(&truth, &det, Some(&late), &EvalConfig::default())
        .unwrap()
        .night
        .unwrap();
    assert_eq!(n.plm_count_error, -1);
    assert!((n.plms_index_error_per_h.unwrap() + 1.0).abs() < 1e-12);
    assert_eq!(n.sleep_onset_error_s, Some(30.0));
    assert_eq!(n.sleep_from, "truth");
}

#[test]
fn boundary_errors_fall_in_bins_of_a_twentieth_of_a_second_with_overflow_at_the_ends() {
    assert_eq!(boundary_bin(-2.0), 0);
    assert_eq!(boundary_bin(f64::NAN), 0);
    assert_eq!(boundary_bin(-0.75), 1);
    assert_eq!(boundary_bin(-0.7001), 1);
    assert_eq!(boundary_bin(-0.7), 2);
    assert_eq!(boundary_bin(0.0), 16);
    assert_eq!(boundary_bin(0.7499), 30);
    assert_eq!(boundary_bin(0.75), 31);
    assert_eq!(boundary_bin(f64::INFINITY), 31);
}

#[test]
fn matched_pairs_give_boundary_errors_that_pool_over_nights() {
    let truth = [ev(100.0, 102.0, Kind::Lm), ev(200.0, 203.0, Kind::Lm)];
    // onset +0.1, offset +0.3: both within 0.5 s; onset +0.2, offset +1.0: offset too late
    let det = [ev(100.1, 102.3, Kind::Lm), ev(200.2, 204.0, Kind::Lm)];
    let b = all(&truth, &det)["lm"].boundaries;
    assert_eq!((b.n, b.both_within), (2, 1));
    assert_eq!(b.share_within(), Some(0.5));
    assert_eq!(b.offset_hist[boundary_bin(1.0)], 1);
    assert_eq!(b.offset_hist.iter().sum::<u32>(), 2);
    // Unmatched events measure nothing.
    let b = all(&truth, &[ev(500.0, 501.0, Kind::Lm)])["lm"].boundaries;
    assert_eq!((b.n, b.share_within()), (0, None));
    assert_eq!(b.onset_quantile_s(0.5), None);
    // Pooling adds pairs, as it adds counts.
    let night = all(&truth, &det)["lm"];
    let two = night.pooled_with(&night);
    assert_eq!((two.boundaries.n, two.boundaries.both_within), (4, 2));
    assert_eq!(two.boundaries.offset_hist[boundary_bin(1.0)], 2);
}

#[test]
fn boundary_quantiles_interpolate_within_a_bin() {
    let mut b = BoundaryErrors::default();
    for onset in [0.02, 0.12, 0.12, 0.3] {
        b.add(onset, -2.0, 0.5);
    }
    // Half of four is reached inside [0.10, 0.15), which holds two: halfway into it.
    let median = b.onset_quantile_s(0.5).unwrap();
    assert!((median - 0.125).abs() < 1e-12, "{median}");
    assert!((b.onset_quantile_s(1.0).unwrap() - 0.35).abs() < 1e-12);
    // Errors beyond the histogram read as its edge.
    assert_eq!(b.offset_quantile_s(0.5), Some(-0.75));
    assert_eq!(b.both_within, 0);
}
