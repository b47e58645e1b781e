//! Hand-built trains at every limit of `domain.md` §3: just inside, just outside.
//!
//! Every train goes through both the batch oracle and the streaming tracker (`both`), so each
//! expectation below checks the two paths.

use super::*;
use LmClass::{Isolated, NonClm, Plm, ShortInterval};

const L: Site = Site::LeftAnkle;
const R: Site = Site::RightAnkle;

/// Scores with `score` and with a `SeriesTracker`, asserts they agree, returns the result.
fn both(cfg: &SeriesConfig, lms: &[LegMovement]) -> Vec<Scored> {
    let batch = score(cfg, lms);
    let mut streamed = Vec::new();
    let mut t = SeriesTracker::new(cfg);
    for lm in lms {
        t.push(*lm, &mut |s| streamed.push(s));
    }
    t.finish(&mut |s| streamed.push(s));
    assert_eq!(streamed, batch, "tracker and score disagree");
    batch
}

/// Monolateral 2-s CLMs on the left leg at the given onsets.
fn clms(cfg: &SeriesConfig, onsets: &[f64]) -> Vec<LegMovement> {
    onsets
        .iter()
        .map(|&t| LegMovement::new(cfg, t, t + 2.0, L))
        .collect()
}

fn classes(s: &[Scored]) -> Vec<LmClass> {
    s.iter().map(|s| s.class).collect()
}

// ---------------------------------------------------------------- per-leg LMs (steps 1-2)

#[test]
fn monolateral_drops_short_bursts_and_flags_long_ones() {
    let cfg = SeriesConfig::wasm2016();
    // 0.4 s < 0.5 s: dropped; 0.5 s: kept; 10 s: CLM; 10.5 s > 10 s: non-CLM.
    let spans = [(0.0, 0.4), (10.0, 10.5), (20.0, 30.0), (40.0, 50.5)];
    let lms = monolateral(&cfg, &spans, L);
    let got: Vec<(f64, bool)> = lms.iter().map(|l| (l.onset_s, l.is_clm)).collect();
    assert_eq!(got, [(10.0, true), (20.0, true), (40.0, false)]);
    assert!(lms
        .iter()
        .all(|l| l.sites == Sites::one(L) && l.n_components == 1));
}

#[test]
fn monolateral_joins_bursts_less_than_half_a_second_apart() {
    let cfg = SeriesConfig::wasm2016();
    // Two 0.3 s bursts 0.25 s apart are one 0.85 s LM (step 1); given out of order.
    let lms = monolateral(&cfg, &[(0.55, 0.85), (0.0, 0.3)], L);
    assert_eq!(lms.len(), 1);
    assert_eq!((lms[0].onset_s, lms[0].offset_s), (0.0, 0.85));
    // 0.5 s apart exactly: the quiet rule is met, so two 0.3 s bursts, both dropped.
    assert!(monolateral(&cfg, &[(0.0, 0.3), (0.8, 1.1)], L).is_empty());
}

// ---------------------------------------------------------------- WASM 2016 runs (steps 4-5)

#[test]
fn three_clms_are_no_series_four_are() {
    let cfg = SeriesConfig::wasm2016();
    let s = both(&cfg, &clms(&cfg, &[0.0, 20.0, 40.0]));
    assert_eq!(classes(&s), [Isolated; 3]);
    let s = both(&cfg, &clms(&cfg, &[0.0, 20.0, 40.0, 60.0]));
    assert_eq!(classes(&s), [Plm; 4]);
    assert!(s.iter().all(|s| s.series_id == Some(1)));
    assert_eq!(s[0].imi_s, None);
    assert_eq!(s[3].imi_s, Some(20.0));
}

#[test]
fn imi_of_ten_seconds_is_inside_nine_point_nine_is_not() {
    let cfg = SeriesConfig::wasm2016();
    let s = both(&cfg, &clms(&cfg, &[0.0, 10.0, 20.0, 30.0]));
    assert_eq!(classes(&s), [Plm; 4]);
    // IMI 9.9 s: the second LM is short-interval, cannot start a run (default), and the
    // remaining two form a run of two.
    let s = both(&cfg, &clms(&cfg, &[0.0, 9.9, 19.9, 29.9]));
    assert_eq!(classes(&s), [Isolated, ShortInterval, Isolated, Isolated]);
}

#[test]
fn imi_of_ninety_seconds_is_inside_ninety_point_one_is_not() {
    let cfg = SeriesConfig::wasm2016();
    let s = both(&cfg, &clms(&cfg, &[0.0, 90.0, 180.0, 270.0]));
    assert_eq!(classes(&s), [Plm; 4]);
    // 90.1 s after the first: the run closes at one member, the next three make only three.
    let s = both(&cfg, &clms(&cfg, &[0.0, 90.1, 180.1, 270.1]));
    assert_eq!(classes(&s), [Isolated; 4]);
}

#[test]
fn a_twelve_second_movement_breaks_a_series() {
    let cfg = SeriesConfig::wasm2016();
    let mut lms = clms(&cfg, &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    let s = both(&cfg, &lms);
    assert_eq!(classes(&s), [Plm; 6]);
    // A 12 s LM at 50 s (> 10 s: non-CLM) splits six into three and three.
    lms.insert(3, LegMovement::new(&cfg, 50.0, 62.0, L));
    let s = both(&cfg, &lms);
    assert_eq!(
        classes(&s),
        [Isolated, Isolated, Isolated, NonClm, Isolated, Isolated, Isolated]
    );
    // The CLM after it has IMI 10 s from the non-CLM's onset, and still opens a new run.
    assert_eq!(s[4].imi_s, Some(10.0));
}

#[test]
fn a_clm_soon_after_a_non_clm_is_short_interval() {
    let cfg = SeriesConfig::wasm2016();
    let lms = vec![
        LegMovement::new(&cfg, 0.0, 11.0, L),
        LegMovement::new(&cfg, 5.0, 7.0, R),
    ];
    assert_eq!(classes(&both(&cfg, &lms)), [NonClm, ShortInterval]);
}

#[test]
fn short_interval_may_start_changes_who_opens_a_run() {
    // Onsets 0, 9.9 (short), then 10 s steps: 19.9, 29.9, 39.9.
    let onsets = [0.0, 9.9, 19.9, 29.9, 39.9];
    let forbid = SeriesConfig::wasm2016();
    let s = both(&forbid, &clms(&forbid, &onsets));
    // MATPLM: the run starts at 19.9 and has three members.
    assert_eq!(
        classes(&s),
        [Isolated, ShortInterval, Isolated, Isolated, Isolated]
    );
    let allow = SeriesConfig {
        short_interval_may_start: true,
        ..SeriesConfig::wasm2016()
    };
    let s = both(&allow, &clms(&allow, &onsets));
    // PLMScoRe: the run starts at 9.9 and has four members; its first is a PLM.
    assert_eq!(classes(&s), [Isolated, Plm, Plm, Plm, Plm]);
    // Three after a short interval (no fifth): the short one stays short-interval.
    let s = both(&allow, &clms(&allow, &onsets[..4]));
    assert_eq!(classes(&s), [Isolated, ShortInterval, Isolated, Isolated]);
}

#[test]
fn series_are_numbered_from_one_in_order() {
    let cfg = SeriesConfig::wasm2016();
    let onsets = [0.0, 20.0, 40.0, 60.0, 200.0, 220.0, 240.0, 260.0, 280.0];
    let s = both(&cfg, &clms(&cfg, &onsets));
    let ids: Vec<Option<u32>> = s.iter().map(|s| s.series_id).collect();
    assert_eq!(ids[..4], [Some(1); 4]);
    assert_eq!(ids[4..], [Some(2); 5]);
}

// ---------------------------------------------------------------- WASM 2016 merge (step 3)

#[test]
fn overlapping_legs_merge_into_one_bilateral_lm() {
    let cfg = SeriesConfig::wasm2016();
    let left = [LegMovement::new(&cfg, 0.0, 3.0, L)];
    let right = [LegMovement::new(&cfg, 2.0, 4.0, R)];
    let m = merge_bilateral(&cfg, &left, &right);
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].onset_s, m[0].offset_s), (0.0, 4.0));
    assert_eq!(m[0].sites, Sites::one(L).with(R));
    assert_eq!(m[0].n_components, 2);
    assert!(m[0].is_clm);
}

#[test]
fn a_gap_of_point_four_merges_point_six_does_not() {
    let cfg = SeriesConfig::wasm2016();
    let left = [LegMovement::new(&cfg, 0.0, 2.0, L)];
    for (gap_s, n) in [(0.4, 1), (0.5, 2), (0.6, 2)] {
        let right = [LegMovement::new(&cfg, 2.0 + gap_s, 4.0, R)];
        let m = merge_bilateral(&cfg, &left, &right);
        assert_eq!(m.len(), n, "gap {gap_s} s");
    }
}

#[test]
fn five_components_make_a_non_clm_four_do_not() {
    let cfg = SeriesConfig::wasm2016();
    // Alternating legs, each 2 s, each starting 1 s after the previous: a chain of 6 s (4)
    // or 7 s (5), well under 15 s, so only the component count decides.
    let chain = |n: usize| -> (Vec<LegMovement>, Vec<LegMovement>) {
        let (mut l, mut r) = (Vec::new(), Vec::new());
        for i in 0..n {
            let t = i as f64;
            if i % 2 == 0 {
                l.push(LegMovement::new(&cfg, t, t + 2.0, L));
            } else {
                r.push(LegMovement::new(&cfg, t, t + 2.0, R));
            }
        }
        (l, r)
    };
    let (l, r) = chain(4);
    let m = merge_bilateral(&cfg, &l, &r);
    assert_eq!((m.len(), m[0].n_components, m[0].is_clm), (1, 4, true));
    let (l, r) = chain(5);
    let m = merge_bilateral(&cfg, &l, &r);
    assert_eq!((m.len(), m[0].n_components, m[0].is_clm), (1, 5, false));
}

#[test]
fn a_merged_lm_of_sixteen_seconds_is_non_clm_fifteen_is_clm() {
    let cfg = SeriesConfig::wasm2016();
    for (end_s, clm) in [(15.0, true), (16.0, false)] {
        // Two CLMs of ≤ 9 s each, overlapping, spanning 0 → end_s.
        let left = [LegMovement::new(&cfg, 0.0, 8.0, L)];
        let right = [LegMovement::new(&cfg, 7.0, end_s, R)];
        let m = merge_bilateral(&cfg, &left, &right);
        assert!(left[0].is_clm && right[0].is_clm);
        assert_eq!((m.len(), m[0].is_clm), (1, clm), "merged to {end_s} s");
    }
}

#[test]
fn a_non_clm_component_makes_the_merge_non_clm() {
    let cfg = SeriesConfig::wasm2016();
    // 12 s on the left (non-CLM) with 2 s on the right: 12 s ≤ 15 s, 2 components, still non-CLM.
    let left = [LegMovement::new(&cfg, 0.0, 12.0, L)];
    let right = [LegMovement::new(&cfg, 1.0, 3.0, R)];
    let m = merge_bilateral(&cfg, &left, &right);
    assert_eq!((m.len(), m[0].is_clm), (1, false));
    // A lone 12 s LM stays non-CLM, a lone 2 s one stays CLM.
    let m = merge_bilateral(&cfg, &left, &[]);
    assert!(!m[0].is_clm);
}

#[test]
fn bilateral_lms_form_series_and_one_onset_counts() {
    let cfg = SeriesConfig::wasm2016();
    // Four bilateral LMs 20 s apart (right leg 1 s late): four PLMs, not eight LMs.
    let left = clms(&cfg, &[0.0, 20.0, 40.0, 60.0]);
    let right: Vec<LegMovement> = [1.0, 21.0, 41.0, 61.0]
        .iter()
        .map(|&t| LegMovement::new(&cfg, t, t + 2.0, R))
        .collect();
    let m = merge_bilateral(&cfg, &left, &right);
    let s = both(&cfg, &m);
    assert_eq!(classes(&s), [Plm; 4]);
    assert_eq!(s[1].imi_s, Some(20.0));
}

// ---------------------------------------------------------------- AASM

#[test]
fn aasm_merges_onsets_less_than_five_seconds_apart() {
    let cfg = SeriesConfig::aasm2012();
    let left = [LegMovement::new(&cfg, 0.0, 1.0, L)];
    for (onset_s, n) in [(4.9, 1), (5.0, 2)] {
        let right = [LegMovement::new(&cfg, onset_s, onset_s + 1.0, R)];
        let m = merge_bilateral(&cfg, &left, &right);
        assert_eq!(m.len(), n, "right onset {onset_s} s");
    }
    // Same leg, onsets 3 s apart: two LMs, never merged by the onset rule.
    let left = [
        LegMovement::new(&cfg, 0.0, 1.0, L),
        LegMovement::new(&cfg, 3.0, 4.0, L),
    ];
    assert_eq!(merge_bilateral(&cfg, &left, &[]).len(), 2);
    // L 0, R 3, L 4: the right LM pairs with the first left one, the second stays alone.
    let left = [
        LegMovement::new(&cfg, 0.0, 1.0, L),
        LegMovement::new(&cfg, 4.0, 5.0, L),
    ];
    let right = [LegMovement::new(&cfg, 3.0, 3.6, R)];
    let m = merge_bilateral(&cfg, &left, &right);
    let got: Vec<(f64, f64, u32)> = m
        .iter()
        .map(|l| (l.onset_s, l.offset_s, l.n_components))
        .collect();
    assert_eq!(got, [(0.0, 3.6, 2), (4.0, 5.0, 1)]);
}

#[test]
fn aasm_imi_window_is_five_to_ninety() {
    let cfg = SeriesConfig::aasm2012();
    let s = both(&cfg, &clms(&cfg, &[0.0, 5.0, 10.0, 15.0]));
    assert_eq!(classes(&s), [Plm; 4]);
    let s = both(&cfg, &clms(&cfg, &[0.0, 90.0, 180.0, 270.0]));
    assert_eq!(classes(&s), [Plm; 4]);
}

#[test]
fn aasm_ignores_short_intervals_or_breaks_on_them() {
    let onsets = [0.0, 20.0, 22.0, 40.0, 60.0];
    let ignore = SeriesConfig::aasm2012();
    let s = both(&ignore, &clms(&ignore, &onsets));
    // 22 s is 2 s after 20 s: ignored; 40 s is then 20 s after 20 s.
    assert_eq!(classes(&s), [Plm, Plm, ShortInterval, Plm, Plm]);
    assert_eq!(s[3].imi_s, Some(20.0));
    assert_eq!(s[2].imi_s, Some(2.0));
    let brk = SeriesConfig {
        breakers_break: true,
        ..SeriesConfig::aasm2012()
    };
    let s = both(&brk, &clms(&brk, &onsets));
    assert_eq!(
        classes(&s),
        [Isolated, Isolated, ShortInterval, Isolated, Isolated]
    );
}

#[test]
fn aasm_ignores_long_movements_or_breaks_on_them() {
    let ignore = SeriesConfig::aasm2012();
    let mut lms = clms(&ignore, &[0.0, 20.0, 40.0, 60.0]);
    lms.insert(2, LegMovement::new(&ignore, 30.0, 42.0, R));
    let s = both(&ignore, &lms);
    assert_eq!(classes(&s), [Plm, Plm, NonClm, Plm, Plm]);
    assert_eq!(s[3].imi_s, Some(20.0));
    let brk = SeriesConfig {
        breakers_break: true,
        ..SeriesConfig::aasm2012()
    };
    assert_eq!(
        classes(&both(&brk, &lms)),
        [Isolated, Isolated, NonClm, Isolated, Isolated]
    );
    // Ignored long LMs merge with nothing; with breakers breaking they taint the merge.
    let left = [LegMovement::new(&ignore, 0.0, 12.0, L)];
    let right = [LegMovement::new(&ignore, 1.0, 2.0, R)];
    assert_eq!(merge_bilateral(&ignore, &left, &right).len(), 2);
    let m = merge_bilateral(&brk, &left, &right);
    assert_eq!((m.len(), m[0].is_clm), (1, false));
}

// ---------------------------------------------------------------- tracker

#[test]
fn tracker_holds_at_most_three_and_releases_on_the_fourth() {
    let cfg = SeriesConfig::wasm2016();
    let mut t = SeriesTracker::new(&cfg);
    let mut out = Vec::new();
    for (i, lm) in clms(&cfg, &[0.0, 20.0, 40.0]).into_iter().enumerate() {
        t.push(lm, &mut |s| out.push(s));
        assert_eq!(t.n_pending(), i + 1);
    }
    assert!(out.is_empty());
    t.push(clms(&cfg, &[60.0])[0], &mut |s| out.push(s));
    assert_eq!((out.len(), t.n_pending()), (4, 0));
    // Members after the fourth are emitted at once.
    t.push(clms(&cfg, &[80.0])[0], &mut |s| out.push(s));
    assert_eq!(out.len(), 5);
    assert_eq!(out[4].class, Plm);
}

#[test]
fn advance_to_closes_a_run_only_past_ninety_seconds() {
    let cfg = SeriesConfig::wasm2016();
    let mut t = SeriesTracker::new(&cfg);
    let mut out = Vec::new();
    for lm in clms(&cfg, &[0.0, 20.0, 40.0]) {
        t.push(lm, &mut |s| out.push(s));
    }
    // An LM at exactly 40 + 90 s could still extend the run.
    t.advance_to(130.0, &mut |s| out.push(s));
    assert!(out.is_empty());
    t.advance_to(130.5, &mut |s| out.push(s));
    assert_eq!(classes(&out), [Isolated; 3]);
}

#[test]
fn reset_restarts_series_ids() {
    let cfg = SeriesConfig::wasm2016();
    let mut t = SeriesTracker::new(&cfg);
    let mut out = Vec::new();
    for lm in clms(&cfg, &[0.0, 20.0, 40.0, 60.0]) {
        t.push(lm, &mut |s| out.push(s));
    }
    t.reset();
    for lm in clms(&cfg, &[0.0, 20.0, 40.0, 60.0]) {
        t.push(lm, &mut |s| out.push(s));
    }
    assert!(out.iter().all(|s| s.series_id == Some(1)));
    assert_eq!(out.len(), 8);
}

// ---------------------------------------------------------------- config

#[test]
fn validate_names_the_bad_field() {
    let bad = [
        (
            SeriesConfig {
                lm_min_s: -0.5,
                ..SeriesConfig::wasm2016()
            },
            "lm_min_s",
        ),
        (
            SeriesConfig {
                imi_max_s: f64::NAN,
                ..SeriesConfig::wasm2016()
            },
            "imi_max_s",
        ),
        (
            SeriesConfig {
                imi_max_s: 5.0,
                ..SeriesConfig::wasm2016()
            },
            "imi_max_s",
        ),
        (
            SeriesConfig {
                clm_max_s: 0.2,
                ..SeriesConfig::wasm2016()
            },
            "clm_max_s",
        ),
        (
            SeriesConfig {
                bilateral_clm_max_s: 9.0,
                ..SeriesConfig::wasm2016()
            },
            "bilateral_clm_max_s",
        ),
        (
            SeriesConfig {
                min_run: 0,
                ..SeriesConfig::wasm2016()
            },
            "min_run",
        ),
        (
            SeriesConfig {
                bilateral_max_components: 0,
                ..SeriesConfig::wasm2016()
            },
            "bilateral_max_components",
        ),
    ];
    for (cfg, field) in bad {
        assert_eq!(cfg.validate().unwrap_err().field, field);
    }
    assert!(SeriesConfig::wasm2016().validate().is_ok());
    assert!(SeriesConfig::aasm2012().validate().is_ok());
}

#[test]
fn serde_fills_missing_fields_from_the_rule_preset() {
    let cfg: SeriesConfig = serde_json::from_str(r#"{"rule":"aasm2012","min_run":5}"#).unwrap();
    assert_eq!(
        cfg,
        SeriesConfig {
            min_run: 5,
            ..SeriesConfig::aasm2012()
        }
    );
    let cfg: SeriesConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, SeriesConfig::wasm2016());
    let back: SeriesConfig =
        serde_json::from_str(&serde_json::to_string(&SeriesConfig::aasm2012()).unwrap()).unwrap();
    assert_eq!(back, SeriesConfig::aasm2012());
    assert!(serde_json::from_str::<SeriesConfig>(r#"{"imi_min_s":-1}"#).is_err());
    assert!(serde_json::from_str::<SeriesConfig>(r#"{"imi_mni_s":1}"#).is_err());
}

#[test]
fn limits_hold_within_a_microsecond() {
    let cfg = SeriesConfig::wasm2016();
    // 0.5 µs short of 10 s is still 10 s; 2 µs short is not (TIME_TOLERANCE_S = 1 µs).
    let s = both(
        &cfg,
        &clms(&cfg, &[0.0, 9.999_999_5, 19.999_999_5, 29.999_999_5]),
    );
    assert_eq!(classes(&s), [Plm; 4]);
    let s = both(&cfg, &clms(&cfg, &[0.0, 9.999_998, 19.999_998, 29.999_998]));
    assert_eq!(classes(&s), [Isolated, ShortInterval, Isolated, Isolated]);
    // Decimal onsets: 19.9 − 9.9 is 9.999999999999998 in f64, and counts as 10 s.
    let (a, b) = (std::hint::black_box(19.9), std::hint::black_box(9.9));
    assert!(a - b < 10.0);
    assert!(cfg.imi_in_window(a - b));
    // 90 s + 0.5 µs is inside, + 2 µs outside.
    assert!(cfg.imi_in_window(90.000_000_5));
    assert!(!cfg.imi_in_window(90.000_002));
    // Durations: 10 s + 0.5 µs is a CLM, + 2 µs is not.
    assert!(LegMovement::new(&cfg, 0.0, 10.000_000_5, L).is_clm);
    assert!(!LegMovement::new(&cfg, 0.0, 10.000_002, L).is_clm);
}

#[test]
fn epoch_times_score_as_relative_ones() {
    // Onsets near 1.7e9 s: the IMIs of 10 and 90 s carry rounding, and still count.
    let cfg = SeriesConfig::wasm2016();
    let t0 = 1.7e9 + 0.123_456_7;
    let rel = [0.0, 10.0, 100.0, 110.0, 119.9, 209.9];
    let abs: Vec<f64> = rel.iter().map(|t| t0 + t).collect();
    let a = classes(&both(&cfg, &clms(&cfg, &rel)));
    let b = classes(&both(&cfg, &clms(&cfg, &abs)));
    assert_eq!(a, [Plm, Plm, Plm, Plm, ShortInterval, Isolated]);
    assert_eq!(a, b);
}
