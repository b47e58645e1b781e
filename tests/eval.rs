//! The scoring harness end to end: nights on disk in the simulator's layout, detectors run
//! through `Detect`, pooled versus per-night counts.

// Helpers that write fixtures outside #[test] fns unwrap too: a failed write is a broken test.
#![allow(clippy::unwrap_used)]
// Exact float comparisons on purpose: the values are small ratios computed the same way.
#![allow(clippy::float_cmp)]

use std::path::{Path, PathBuf};

use sleeptwitch::eval::{
    evaluate_dir, find_nights, run_detector, score_night, Detection, EvalConfig, TruthNight,
};
use sleeptwitch::io::{read_events, write_events};
use sleeptwitch::{Error, Event, Kind, MemorySource, Sample, WholeRecording};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("sleeptwitch-eval-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a night as the simulator does: a truth CSV with its extra columns and a truth
/// JSON with fields scoring does not read.
fn write_night(dir: &Path, events: &[Event]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut csv = String::from(
        "onset_s,offset_s,kind,sites,series_id,imi_s,in_sleep,detail,amplitude_g,angle_deg\n",
    );
    for e in events {
        let series = e.series_id.map(|s| s.to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "{:.3},{:.3},{},{},{},,1,plm+one_sided,0.0500,3.00\n",
            e.onset_s, e.offset_s, e.kind, e.sites, series
        ));
    }
    std::fs::write(dir.join("night.truth.csv"), csv).unwrap();
    let json = r#"{
      "config": {"seed": 7, "rule": "wasm2016", "layout": "ankle"},
      "clock_start_s": 0.0,
      "in_bed_start_s": 0.0,
      "in_bed_end_s": 7200.0,
      "out_of_bed": [],
      "sleep_bouts": [{"start_s": 600.0, "end_s": 7200.0}],
      "sleep_onsets_s": [600.0],
      "metrics": {"lm_listed": true, "n_plm": 4},
      "sensors": []
    }"#;
    std::fs::write(dir.join("night.truth.json"), json).unwrap();
    std::fs::write(dir.join("night.csv"), "t,x,y,z\n0,0,0,1\n").unwrap();
}

fn plms(start_s: f64, n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let t = start_s + 25.0 * i as f64;
            let mut e = Event::new(t, t + 2.0, Kind::Plm);
            e.series_id = Some(1);
            e
        })
        .collect()
}

#[test]
fn saved_events_over_a_directory_pool_to_the_nights_sums() {
    let tmp = TempDir::new("dir");
    let mut a = plms(1000.0, 8);
    a.push(Event::new(3000.0, 3002.0, Kind::Lm));
    a.push(Event::new(598.0, 598.2, Kind::HypnicJerk));
    let b = plms(2000.0, 5);
    write_night(&tmp.0.join("a"), &a);
    write_night(&tmp.0.join("b"), &b);
    // Night a: all but two PLMs found, one false posture change. Night b: perfect.
    let mut det_a: Vec<Event> = a
        .iter()
        .copied()
        .filter(|e| e.onset_s != 1000.0 && e.onset_s != 1025.0)
        .collect();
    det_a.push(Event::new(5000.0, 5005.0, Kind::PostureChange));
    write_events(&tmp.0.join("a").join("night.events.csv"), &det_a).unwrap();
    write_events(&tmp.0.join("b").join("night.events.csv"), &b).unwrap();

    let nights = find_nights(&tmp.0).unwrap();
    assert_eq!(
        nights.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(nights[0].sensor_files, [tmp.0.join("a").join("night.csv")]);

    let report = evaluate_dir(&tmp.0, &EvalConfig::default(), &mut |n| {
        Ok(Detection {
            events: read_events(&n.dir.join("night.events.csv"))?,
            sleep: None,
        })
    })
    .unwrap();
    let (na, nb) = (&report.nights["a"], &report.nights["b"]);
    assert_eq!((na.classes["plm"].tp, na.classes["plm"].fn_), (6, 2));
    assert_eq!(na.classes["posture_change"].fp, 1);
    assert_eq!(nb.classes["plm"].tp, 5);
    for (name, pooled) in &report.pooled {
        let (x, y) = (&na.classes[name], &nb.classes[name]);
        assert_eq!(pooled.tp, x.tp + y.tp, "{name}");
        assert_eq!(pooled.fp, x.fp + y.fp, "{name}");
        assert_eq!(pooled.fn_, x.fn_ + y.fn_, "{name}");
    }
    // plm pooled: 11 of 13 found, no false: recall 11/13, precision 1.
    assert_eq!(report.pooled["plm"].recall, 11.0 / 13.0);
    assert_eq!(report.pooled["plm"].precision, 1.0);
    // Night-level: night a misses 2 PLMs in 6600 s of sleep: −2 / (6600/3600) = −1.0909/h.
    let err_a = na.night.as_ref().unwrap();
    assert_eq!(err_a.plm_count_error, -2);
    assert!((err_a.plms_index_error_per_h.unwrap() + 2.0 * 3600.0 / 6600.0).abs() < 1e-12);
    assert_eq!(nb.night.as_ref().unwrap().plm_count_error, 0);
    assert_eq!(report.pooled_night.plm_count_error.n_nights, 2);
    assert_eq!(report.pooled_night.plm_count_error.mean, Some(-1.0));
    assert_eq!(report.pooled_night.plm_count_error.mean_abs, Some(1.0));
    // The JSON report has pooled, pooled_night and nights.
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["pooled"]["plm"]["tp"], 11);
    assert_eq!(v["nights"]["b"]["plm"]["f1"], 1.0);
}

#[test]
fn a_whole_recording_detector_runs_through_detect() {
    let tmp = TempDir::new("detect");
    let truth_events = plms(100.0, 6);
    write_night(&tmp.0, &truth_events);
    let truth = TruthNight::load(&tmp.0.join("night.truth.csv"), None).unwrap();
    assert_eq!(truth.events.len(), 6);
    assert!(truth.info.is_some());

    // 200 s of still samples at 50 Hz; the "detector" returns the truth (a perfect oracle)
    // once it has seen the whole recording.
    let samples: Vec<Sample> = (0..10_000)
        .map(|i| Sample::new(i as f64 / 50.0, [0.0, 0.0, 1.0]))
        .collect();
    let mut source = MemorySource::new(&samples);
    let mut rate_seen = 0.0;
    let oracle = truth_events.clone();
    let collected = run_detector(
        &mut source,
        &mut |rate_hz| {
            rate_seen = rate_hz;
            let events = oracle.clone();
            Ok(WholeRecording::new(move |s: &[Sample]| {
                assert_eq!(s.len(), 10_000);
                Ok::<_, Error>(events.clone())
            }))
        },
        777,
    )
    .unwrap();
    assert!((rate_seen - 50.0).abs() < 1e-6, "rate {rate_seen}");
    let det = Detection::from(collected);
    let s = score_night(
        &truth,
        &det.events,
        det.sleep.as_ref(),
        &EvalConfig::default(),
    )
    .unwrap();
    for (name, c) in &s.classes {
        assert_eq!(c.f1, 1.0, "{name}");
    }
    let n = s.night.unwrap();
    assert_eq!(n.plm_count_error, 0);
    assert_eq!(n.sleep_from, "truth");
    assert_eq!(n.sleep_onset_error_s, None);
}

#[test]
fn a_missing_truth_is_an_error_naming_the_directory() {
    let tmp = TempDir::new("empty");
    let err = find_nights(&tmp.0).unwrap_err().to_string();
    assert!(err.contains("no night.truth.csv"), "{err}");
    assert!(err.contains("sleeptwitch-eval-empty"), "{err}");
}

mod matching_props {
    use proptest::prelude::*;
    use sleeptwitch::eval::{match_class, MatchConfig, ScoredClass};
    use sleeptwitch::{Event, Kind};

    /// The matching rule written the slow, obvious way: every truth in onset order scans
    /// every detection in onset order and takes the first unused one that matches.
    fn naive(truth: &[Event], det: &[Event], class: ScoredClass) -> Vec<(usize, usize)> {
        let order = |v: &[Event]| {
            let mut i: Vec<usize> = (0..v.len())
                .filter(|&i| class.includes(v[i].kind))
                .collect();
            i.sort_by(|&a, &b| v[a].onset_s.total_cmp(&v[b].onset_s));
            i
        };
        let (ti, di) = (order(truth), order(det));
        let mut used = vec![false; det.len()];
        let mut pairs = Vec::new();
        for t in ti {
            let t_ev = truth[t];
            for &d in &di {
                let d_ev = det[d];
                let ok = if class == ScoredClass::HypnicJerk {
                    (d_ev.onset_s - t_ev.onset_s).abs() <= 1.0
                } else {
                    d_ev.onset_s - 0.5 <= t_ev.offset_s + 0.5
                        && t_ev.onset_s - 0.5 <= d_ev.offset_s + 0.5
                };
                if ok && !used[d] {
                    used[d] = true;
                    pairs.push((t, d));
                    break;
                }
            }
        }
        pairs
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        let kind = prop_oneof![
            Just(Kind::Plm),
            Just(Kind::Lm),
            Just(Kind::HypnicJerk),
            Just(Kind::PostureChange),
            Just(Kind::Activity),
            Just(Kind::Other),
        ];
        // Onsets and durations on a 1/8 s grid, so boundary cases (gap exactly 1 s) occur.
        prop::collection::vec((0u32..800, 0u32..80, kind), 0..40).prop_map(|v| {
            v.into_iter()
                .map(|(on, dur, k)| {
                    let on = f64::from(on) / 8.0;
                    Event::new(on, on + f64::from(dur) / 8.0, k)
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn greedy_matching_equals_the_naive_scan(truth in events(), det in events()) {
            for class in ScoredClass::ALL {
                let fast = match_class(&truth, &det, class, &MatchConfig::default());
                prop_assert_eq!(&fast, &naive(&truth, &det, class), "{}", class);
            }
        }

        #[test]
        fn truth_against_itself_matches_everything(truth in events()) {
            for class in ScoredClass::ALL {
                let n = truth.iter().filter(|e| class.includes(e.kind)).count();
                let m = match_class(&truth, &truth, class, &MatchConfig::default());
                prop_assert_eq!(m.len(), n, "{}", class);
            }
        }
    }
}
