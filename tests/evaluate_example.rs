//! Runs the built `evaluate` example (cargo builds examples for `cargo test`) on small files
//! and checks its output and exit codes.

// Fixture helpers outside #[test] fns unwrap too: a failed write is a broken test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example() -> PathBuf {
    // target/<profile>/deps/evaluate_example-<hash> → target/<profile>/examples/evaluate
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir
        .join("examples")
        .join(format!("evaluate{}", std::env::consts::EXE_SUFFIX))
}

fn run(args: &[&str]) -> Output {
    Command::new(example()).args(args).output().unwrap()
}

fn temp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("sleeptwitch-evalex-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

const TRUTH: &str = "onset_s,offset_s,kind,sites,series_id,imi_s,in_sleep,detail\n\
10.000,10.200,hypnic_jerk,ankle,,,0,sleep_onset\n\
100.000,102.000,plm,ankle,1,,1,plm\n\
125.000,127.000,plm,ankle,1,25.000,1,plm\n\
150.000,152.000,plm,ankle,1,25.000,1,plm\n\
175.000,177.000,plm,ankle,1,25.000,1,plm\n";

const TRUTH_JSON: &str = r#"{"sleep_bouts":[{"start_s":20.0,"end_s":3620.0}],
"sleep_onsets_s":[20.0],"in_bed_start_s":0.0,"in_bed_end_s":3700.0,"extra":{"ignored":true}}"#;

#[test]
fn one_night_as_json() {
    let dir = temp("one");
    std::fs::write(dir.join("night.truth.csv"), TRUTH).unwrap();
    std::fs::write(dir.join("night.truth.json"), TRUTH_JSON).unwrap();
    // The detector found three of the four PLMs, 0.3 s late, and an extra jerk.
    std::fs::write(
        dir.join("night.events.csv"),
        "onset_s,offset_s,kind\n100.3,102.3,plm\n125.3,127.3,plm\n150.3,152.3,plm\n500,500.1,hypnic_jerk\n",
    )
    .unwrap();
    let out = run(&[
        dir.join("night.truth.csv").to_str().unwrap(),
        dir.join("night.events.csv").to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["plm"]["tp"], 3);
    assert_eq!(v["plm"]["fn"], 1);
    assert_eq!(v["plm"]["precision"], 1.0);
    assert_eq!(v["plm"]["recall"], 0.75);
    assert_eq!(v["hypnic_jerk"]["fp"], 1);
    assert_eq!(v["hypnic_jerk"]["fn"], 1);
    // 4 → 3 PLMS in 1 h of sleep: −1/h.
    assert_eq!(v["night"]["plm_count_error"], -1);
    assert_eq!(v["night"]["plms_index_error_per_h"], -1.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_of_nights_as_a_table() {
    let dir = temp("dir");
    for n in ["a", "b"] {
        let d = dir.join(n);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("night.truth.csv"), TRUTH).unwrap();
        std::fs::write(d.join("night.truth.json"), TRUTH_JSON).unwrap();
        std::fs::write(d.join("night.events.csv"), TRUTH).unwrap();
    }
    let out = run(&[
        "--dir",
        dir.to_str().unwrap(),
        "--events",
        "night.events.csv",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("2 night(s), pooled"), "{text}");
    let plm = text.lines().find(|l| l.starts_with("plm ")).unwrap();
    // precision, recall, f1, tp, fp, fn, and the share with both boundaries within 0.5 s
    let cols: Vec<&str> = plm.split_whitespace().collect();
    assert_eq!(
        cols[1..],
        ["1.000", "1.000", "1.000", "8", "0", "0", "100.0"],
        "{plm}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_file_exits_1_naming_file_and_line() {
    let dir = temp("bad");
    std::fs::write(dir.join("night.truth.csv"), TRUTH).unwrap();
    std::fs::write(
        dir.join("ev.csv"),
        "onset_s,offset_s,kind\n1,2,lm\n3,oops,lm\n",
    )
    .unwrap();
    let out = run(&[
        dir.join("night.truth.csv").to_str().unwrap(),
        dir.join("ev.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("ev.csv:3:"), "{err}");
    assert!(err.contains("expected a number"), "{err}");
    let out = run(&["--bogus"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
