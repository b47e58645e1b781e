//! Property tests: the streaming `SeriesTracker` gives exactly the batch `score`, and both
//! keep the invariants of the series rules, on random LM trains built around the limits of
//! `domain.md` §3 (IMIs at and just outside 5, 10 and 90 s; durations around 10 and 15 s).

use proptest::prelude::*;
use sleeptwitch::series::{
    merge_bilateral, monolateral, score, LegMovement, LmClass, Scored, ScoringRule, SeriesConfig,
    SeriesTracker,
};
use sleeptwitch::{Site, Sites};

/// Intervals in seconds: the limits exactly, 1/4 s either side, within and beyond the 1 µs
/// tolerance, and anything on a 1/64 s grid (exact in f64, so sums stay exact).
fn imi_s() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(10.0),
        Just(90.0),
        Just(5.0),
        Just(9.75),
        Just(90.25),
        Just(4.75),
        Just(10.0 - 0.5e-6),
        Just(10.0 - 2e-6),
        Just(90.0 + 0.5e-6),
        Just(90.0 + 2e-6),
        (32u32..7680).prop_map(|k| f64::from(k) / 64.0),
    ]
}

/// Durations in seconds around the CLM limits.
fn duration_s() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.5),
        Just(10.0),
        Just(10.25),
        Just(15.0),
        Just(15.25),
        Just(16.0),
        (32u32..640).prop_map(|k| f64::from(k) / 64.0),
    ]
}

fn config() -> impl Strategy<Value = SeriesConfig> {
    (any::<bool>(), any::<bool>(), any::<bool>(), 1u32..6).prop_map(
        |(aasm, may_start, brk, min_run)| {
            let rule = if aasm {
                ScoringRule::Aasm2012
            } else {
                ScoringRule::Wasm2016
            };
            SeriesConfig {
                short_interval_may_start: may_start,
                breakers_break: brk,
                min_run,
                ..SeriesConfig::for_rule(rule)
            }
        },
    )
}

/// A sorted train of LMs with random CLM flags (as a merge could leave them).
fn train() -> impl Strategy<Value = Vec<LegMovement>> {
    prop::collection::vec((imi_s(), duration_s(), 0u32..10, 1u32..6), 0..60).prop_map(|steps| {
        let mut t = 0.0;
        steps
            .into_iter()
            .map(|(imi, dur, clm_roll, n)| {
                t += imi;
                LegMovement {
                    onset_s: t,
                    offset_s: t + dur,
                    sites: Sites::one(Site::LeftAnkle),
                    n_components: n,
                    is_clm: clm_roll < 8,
                }
            })
            .collect()
    })
}

/// Runs the tracker, calling `advance_to` at the fraction `u` of each gap between onsets
/// (u = 1 is exactly the next onset, allowed: no *earlier* onset follows).
fn track(cfg: &SeriesConfig, lms: &[LegMovement], advance: &[f64]) -> (Vec<Scored>, usize) {
    let mut out = Vec::new();
    let mut t = SeriesTracker::new(cfg);
    let mut max_pending = 0;
    for (i, lm) in lms.iter().enumerate() {
        if let (Some(prev), Some(u)) = (i.checked_sub(1).map(|p| lms[p]), advance.get(i)) {
            let at = prev.onset_s + u * (lm.onset_s - prev.onset_s);
            t.advance_to(at.min(lm.onset_s), &mut |s| out.push(s));
        }
        t.push(*lm, &mut |s| out.push(s));
        max_pending = max_pending.max(t.n_pending());
    }
    t.finish(&mut |s| out.push(s));
    (out, max_pending)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn tracker_equals_score(
        cfg in config(),
        lms in train(),
        advance in prop::collection::vec(prop_oneof![Just(1.0), 0.0..1.0f64], 60),
    ) {
        let batch = score(&cfg, &lms);
        let (streamed, max_pending) = track(&cfg, &lms, &advance);
        prop_assert_eq!(&streamed, &batch);
        if !cfg.ignores_breakers() {
            // The documented bound: only members of a run shorter than min_run wait.
            prop_assert!(max_pending < cfg.min_run as usize);
        }
        // Replaying after finish (which resets) gives the same again.
        let (again, _) = track(&cfg, &lms, &[]);
        prop_assert_eq!(&again, &batch);
    }

    #[test]
    fn score_keeps_the_rules(cfg in config(), lms in train()) {
        let s = score(&cfg, &lms);
        prop_assert_eq!(s.len(), lms.len());
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (i, x) in s.iter().enumerate() {
            prop_assert_eq!(x.lm, lms[i]);
            prop_assert_eq!(x.class == LmClass::Plm, x.series_id.is_some());
            prop_assert_eq!(x.class == LmClass::NonClm, !x.lm.is_clm);
            if x.class == LmClass::ShortInterval {
                prop_assert!(x.imi_s.is_some_and(|d| cfg.imi_is_short(d)));
            }
            if let Some(id) = x.series_id {
                let id = id as usize;
                // Ids are handed out 1, 2, 3… in order of first member.
                prop_assert!(id >= 1 && id <= members.len() + 1);
                if id > members.len() {
                    members.push(Vec::new());
                }
                members[id - 1].push(i);
            }
        }
        for m in &members {
            prop_assert!(m.len() >= cfg.min_run as usize);
            // Members of a series are consecutive among the LMs the rule walks, with IMIs in
            // the window; under WASM nothing at all lies between them.
            for w in m.windows(2) {
                let d = s[w[1]].imi_s;
                prop_assert!(d.is_some_and(|d| cfg.imi_in_window(d)), "imi {:?}", d);
                if !cfg.ignores_breakers() {
                    prop_assert_eq!(w[1], w[0] + 1);
                }
            }
        }
    }

    #[test]
    fn merging_keeps_every_component_and_sorts(
        cfg in config(),
        left in prop::collection::vec((0u32..4000, 1u32..1200), 0..40),
        right in prop::collection::vec((0u32..4000, 1u32..1200), 0..40),
    ) {
        let spans = |v: &[(u32, u32)]| -> Vec<(f64, f64)> {
            v.iter()
                .map(|&(a, d)| (f64::from(a) / 8.0, f64::from(a) / 8.0 + f64::from(d) / 64.0))
                .collect()
        };
        let l = monolateral(&cfg, &spans(&left), Site::LeftAnkle);
        let r = monolateral(&cfg, &spans(&right), Site::RightAnkle);
        for leg in [&l, &r] {
            for w in leg.windows(2) {
                // Same-leg LMs are separated by at least the quiet time.
                prop_assert!(w[1].onset_s - w[0].offset_s >= cfg.same_leg_gap_s - 1e-6);
            }
            prop_assert!(leg.iter().all(|x| x.duration_s() >= cfg.lm_min_s - 1e-6));
        }
        let m = merge_bilateral(&cfg, &l, &r);
        let n: u32 = m.iter().map(|x| x.n_components).sum();
        prop_assert_eq!(n as usize, l.len() + r.len());
        for w in m.windows(2) {
            prop_assert!(w[0].onset_s <= w[1].onset_s);
        }
        for x in &m {
            prop_assert!(x.onset_s <= x.offset_s);
            if x.is_clm && cfg.rule == ScoringRule::Wasm2016 {
                prop_assert!(x.n_components <= cfg.bilateral_max_components);
                prop_assert!(x.duration_s() <= cfg.bilateral_clm_max_s + 1e-6);
            }
        }
    }
}
