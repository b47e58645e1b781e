//! Accuracy floors of the crate's detector on a fixed subset of the development benchmark.
//!
//! Twelve of the 24 development nights (every layout at both difficulties, every severity,
//! every rate) go through the detector; the pooled figures must clear floors set well
//! below today's values and far above what a broken detector scores. The floors are not
//! targets (those are in `docs/accuracy.md`, measured on the held-out set): they catch a
//! classification or series stage that stops working, not a figure that moves by 0.01.
//!
//! To show the floors do catch breakage, the same nights are re-scored with the detector's
//! events broken in the ways a stage can break — nothing found, every leg movement named
//! `lm` (series stage gone), every leg movement named `plm` (series stage always on), every
//! event named `lm` (classification gone) — and each broken run must fail a floor.

// Test scaffolding: unwraps on configs and runs built here are test failures.
#![allow(clippy::unwrap_used)]

use sleeptwitch::eval::{
    run_simulated, score_night, truth_night, DetectedSleep, EvalConfig, GroupScore, NightScore,
};
use sleeptwitch::sim::{dev_benchmark, Night, SimConfig};
use sleeptwitch::{Config, Event, Kind};

/// The subset, by position in `dev_benchmark()` (0-based): two nights of each layout at
/// each difficulty — ankle easy dev02 (mild, 25 Hz) and dev04 (severe, 200 Hz); bilateral
/// easy dev06 (mild, 50 Hz) and dev07 (moderate, 100 Hz); wrist easy dev09 (none, 50 Hz) and
/// dev11 (moderate, 100 Hz); ankle hard dev13 (none, 100 Hz) and dev15 (moderate, 50 Hz);
/// bilateral hard dev18 (mild, 50 Hz) and dev20 (severe, 25 Hz); wrist hard dev22 (mild,
/// 200 Hz) and dev24 (severe, 50 Hz).
const SUBSET: [usize; 12] = [1, 3, 5, 6, 8, 10, 12, 14, 17, 19, 21, 23];

/// One floor: a figure of the pooled score and the worst value it may take.
struct Floor {
    name: &'static str,
    /// True for an upper limit (errors), false for a lower one (F1).
    at_most: bool,
    limit: f64,
    get: fn(&GroupScore) -> Option<f64>,
}

fn f1(g: &GroupScore, class: &str) -> Option<f64> {
    g.classes.get(class).map(|c| c.f1)
}

/// Floors, each with the value measured on the subset when it was set (detector of commit
/// 2d9d3e6) and the broken runs' values (see the test's breakages).
///
/// F1 floors sit 0.15–0.25 below the measured value and at least 0.15 above every broken
/// run that the figure can see; error ceilings sit at three to four times the measured
/// value and far below the broken runs' (100 % PLM count error when no PLM is found).
fn floors() -> Vec<Floor> {
    vec![
        // Measured 0.941; floor 0.80. Broken: 0 (nothing, no series, all lm), 0.72 (all plm:
        // every LM outside a series becomes a false PLM).
        Floor {
            name: "plm F1",
            at_most: false,
            limit: 0.80,
            get: |g| f1(g, "plm"),
        },
        // Measured 0.866; floor 0.70. Broken: 0 (nothing, all plm), 0.52 (no series: every
        // true PLM becomes a false `lm`), 0.45 (all lm).
        Floor {
            name: "lm F1",
            at_most: false,
            limit: 0.70,
            get: |g| f1(g, "lm"),
        },
        // Measured 0.937; floor 0.80. Blind to plm/lm, so only a movement stage that finds
        // nothing breaks it (0).
        Floor {
            name: "leg_movement F1",
            at_most: false,
            limit: 0.80,
            get: |g| f1(g, "leg_movement"),
        },
        // Measured 0.939; floor 0.75. Broken: 0 (nothing, all lm).
        Floor {
            name: "hypnic_jerk F1",
            at_most: false,
            limit: 0.75,
            get: |g| f1(g, "hypnic_jerk"),
        },
        // Measured 0.932; floor 0.70. Broken: 0 (nothing, all lm).
        Floor {
            name: "posture_change F1",
            at_most: false,
            limit: 0.70,
            get: |g| f1(g, "posture_change"),
        },
        // Measured 0.762 (the weakest class today); floor 0.50. Broken: 0 (nothing, all lm).
        Floor {
            name: "activity F1",
            at_most: false,
            limit: 0.50,
            get: |g| f1(g, "activity"),
        },
        // Measured 3.9 %; ceiling 15 %. Broken: 100 % (nothing, no series, all lm), 150 %
        // (all plm).
        Floor {
            name: "mean |PLM count error| %",
            at_most: true,
            limit: 15.0,
            get: |g| g.plm_count_error.mean_abs_pct.value,
        },
        // Measured 0.044; ceiling 0.15. The index is computed from leg-movement onsets
        // whatever their kind, so it guards the movement stage's timing: it is undefined
        // (a broken floor) when nothing is found, and unchanged by relabelling.
        Floor {
            name: "Ferri PI mean |error|",
            at_most: true,
            limit: 0.15,
            get: |g| g.periodicity_index_ferri2006_abs_mean.value,
        },
    ]
}

/// The floors `g` breaks, as messages.
fn broken_floors(g: &GroupScore) -> Vec<String> {
    floors()
        .iter()
        .filter_map(|f| {
            let v = (f.get)(g);
            let ok = v.is_some_and(|v| {
                if f.at_most {
                    v <= f.limit
                } else {
                    v >= f.limit
                }
            });
            (!ok).then(|| format!("{}: {v:?} (limit {})", f.name, f.limit))
        })
        .collect()
}

struct Run {
    night: Night,
    events: Vec<Event>,
    sleep: DetectedSleep,
    score: NightScore,
}

fn subset() -> Vec<SimConfig> {
    let all = dev_benchmark();
    let nights: Vec<SimConfig> = SUBSET.iter().map(|&i| all[i].clone()).collect();
    // The floors were measured on these nights: a reordered benchmark must not swap them.
    let names: Vec<&str> = nights.iter().map(|n| n.name.as_str()).collect();
    let expected = [
        "dev02-ankle-mild-easy-25hz",
        "dev04-ankle-severe-easy-200hz",
        "dev06-bilateral-mild-easy-50hz",
        "dev07-bilateral-moderate-easy-100hz",
        "dev09-wrist-none-easy-50hz",
        "dev11-wrist-moderate-easy-100hz",
        "dev13-ankle-none-hard-100hz",
        "dev15-ankle-moderate-hard-50hz",
        "dev18-bilateral-mild-hard-50hz",
        "dev20-bilateral-severe-hard-25hz",
        "dev22-wrist-mild-hard-200hz",
        "dev24-wrist-severe-hard-50hz",
    ];
    for (n, e) in names.iter().zip(expected) {
        assert!(n.starts_with(e), "subset night {n}, expected {e}");
    }
    nights
}

fn run(cfg: &SimConfig) -> Run {
    let r = run_simulated(cfg, &Config::default(), 4096).unwrap();
    Run {
        night: Night::new(cfg).unwrap(),
        sleep: DetectedSleep {
            sleep_onsets_s: Some(r.summary.sleep_bouts.iter().map(|b| b.start_s).collect()),
            sleep_bouts: Some(r.summary.sleep_bouts.clone()),
        },
        events: r.events,
        score: r.score,
    }
}

/// A way of breaking the detector's output.
type Breakage = fn(Vec<Event>) -> Vec<Event>;

/// Scores the runs again with their events passed through `breakage`.
fn rescored(runs: &[Run], breakage: Breakage) -> GroupScore {
    let scores: Vec<NightScore> = runs
        .iter()
        .map(|r| {
            let events = breakage(r.events.clone());
            score_night(
                &truth_night(&r.night),
                &events,
                Some(&r.sleep),
                &EvalConfig::default(),
            )
            .unwrap()
        })
        .collect();
    GroupScore::of(&scores)
}

fn relabel(events: Vec<Event>, from: fn(Kind) -> bool, to: Kind) -> Vec<Event> {
    events
        .into_iter()
        .map(|mut e| {
            if from(e.kind) {
                e.kind = to;
                e.series_id = None;
            }
            e
        })
        .collect()
}

#[test]
fn the_detector_clears_the_floors_and_broken_detectors_do_not() {
    let configs = subset();
    // Two threads: the nights are independent (the machine this was sized on has two cores).
    let runs: Vec<Run> = std::thread::scope(|s| {
        let (a, b) = configs.split_at(configs.len() / 2);
        let ha = s.spawn(|| a.iter().map(run).collect::<Vec<_>>());
        let hb = s.spawn(|| b.iter().map(run).collect::<Vec<_>>());
        let mut v = ha.join().unwrap();
        v.extend(hb.join().unwrap());
        v
    });
    let pooled = GroupScore::of(runs.iter().map(|r| &r.score));
    for f in floors() {
        eprintln!("{:<28} {:?}", f.name, (f.get)(&pooled));
    }
    let broken = broken_floors(&pooled);
    assert!(
        broken.is_empty(),
        "the detector breaks floors on the dev subset: {broken:#?}"
    );

    // The re-scoring path gives the detector's own scores back when nothing is broken.
    assert_eq!(rescored(&runs, |e| e), pooled);

    let breakages: [(&str, Breakage); 4] = [
        ("nothing found", |_| Vec::new()),
        ("series stage gone (every leg movement lm)", |e| {
            relabel(e, Kind::is_leg_movement, Kind::Lm)
        }),
        ("series stage always on (every leg movement plm)", |e| {
            relabel(e, Kind::is_leg_movement, Kind::Plm)
        }),
        ("classification gone (every event lm)", |e| {
            relabel(e, |_| true, Kind::Lm)
        }),
    ];
    for (label, breakage) in breakages {
        let g = rescored(&runs, breakage);
        let caught = broken_floors(&g);
        eprintln!("{label}: {caught:?}");
        assert!(!caught.is_empty(), "no floor catches \"{label}\"");
    }
}

/// Activity F1 pooled over the subset's ankle-only nights, where a fidget in bed is seen by
/// the one leg alone and is named by its own shape, not by a wrist moving with it.
fn ankle_activity_f1(configs: &[SimConfig], config: &Config) -> f64 {
    let scores: Vec<NightScore> = configs
        .iter()
        .filter(|c| c.name.contains("-ankle-"))
        .map(|c| run_simulated(c, config, 4096).unwrap().score)
        .collect();
    assert_eq!(scores.len(), 4);
    let g = GroupScore::of(&scores);
    let a = g.classes["activity"];
    assert!(a.n_truth >= 20, "{a:?}");
    a.f1
}

#[test]
fn fidgeting_on_one_ankle_is_activity_not_leg_movements() {
    // Measured 0.847 with the restless rule (when this test was written) and 0.542 without
    // it, when most fidgets were leg movements; the floor sits between.
    let configs = subset();
    let with = ankle_activity_f1(&configs, &Config::default());
    let mut off = Config::default();
    off.classify.restless_min_wander = f64::MAX;
    let without = ankle_activity_f1(&configs, &off);
    eprintln!("ankle activity F1: {with:.3} (without the restless rule {without:.3})");
    assert!(with >= 0.75, "{with}");
    assert!(without < 0.75, "the floor does not see the rule: {without}");
}

/// The yardstick end to end on a short bilateral night and a wrist night. Needs Python 3
/// with numpy, scipy and pandas and the shared directory (`SLEEPTWITCH_SHARED`, else
/// `../shared`), so it is not run by default:
/// `cargo test --release --test accuracy -- --ignored`.
#[test]
#[ignore = "needs python3 with numpy, scipy, pandas and the shared bench directory"]
fn the_yardstick_runs_on_both_legs_and_skips_the_wrist() {
    use sleeptwitch::eval::Baseline;
    use sleeptwitch::sim::Layout;
    let b = Baseline::from_env();
    b.check().unwrap();
    let night = SimConfig {
        name: "yardstick-test".into(),
        duration_h: 1.0,
        rate_hz: 50.0,
        layout: Layout::Bilateral,
        difficulty: 0.3,
        severity: sleeptwitch::sim::Severity::Moderate,
        ..SimConfig::new(5)
    };
    let s = b.score(&night).unwrap().unwrap();
    // The yardstick found 81 % of the dev set's leg movements (pooled recall 0.806): on an
    // easy night it finds most; a floor of half catches a run that read the wrong files or
    // no merged legs.
    let lm = s.classes["leg_movement"];
    assert!(lm.n_truth > 20, "{lm:?}");
    assert!(lm.recall > 0.5, "{lm:?}");
    // It names no hypnic jerks or activity.
    assert_eq!(s.classes["hypnic_jerk"].n_detected, 0);
    assert_eq!(s.classes["activity"].n_detected, 0);
    let wrist = SimConfig {
        layout: Layout::Wrist,
        ..night
    };
    assert!(b.score(&wrist).unwrap().is_none());
}
