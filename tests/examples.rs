//! Runs the built `analyze` example on `testdata/` and checks what it prints and how it
//! exits, and how every example answers `--help` and bad usage. `cargo test` builds the
//! examples next to the test binaries (`target/*/examples/`).

// Helpers outside #[test] functions fail the test the same way: by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/examples-<hash> → target/<profile>/examples/<name>
    let dir = exe.parent().and_then(Path::parent).unwrap();
    BUILT.get_or_init(|| {
        // `cargo test` leaves no plain binary of an example built as a test (`analyze` has
        // unit tests): build it as a user would.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--example", "analyze", "--example", "stream"])
            .args(["--example", "simulate", "--example", "sim_vs_real"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().unwrap().success(),
            "building the examples failed"
        );
    });
    let path = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} not built", path.display());
    path
}

fn testdata(name: &str) -> String {
    format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn analyze(args: &[&str]) -> Output {
    Command::new(example("analyze"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The value printed on the summary row `name`, e.g. "samples".
fn row<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| {
            let l = l.trim_start();
            l.strip_prefix(name)
                .filter(|rest| rest.starts_with(' '))
                .map(str::trim)
        })
        .unwrap_or_else(|| panic!("no {name} row in\n{out}"))
}

#[test]
fn summary_of_a_file_with_a_gap() {
    // Made as 1000 samples at 100 Hz from 0 s, then 1000 from 12.50 s (testdata/make.py).
    let o = analyze(&[&testdata("gap_100hz.csv")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(row(&out, "samples"), "2,000");
    assert_eq!(row(&out, "duration"), "22.49 s");
    assert_eq!(row(&out, "start"), "0.000 s (relative time)");
    assert!(
        row(&out, "rate").starts_with("100.00 Hz ± 0.00 ms jitter"),
        "{out}"
    );
    assert!(!row(&out, "rate").contains("detector at"), "{out}");
    assert_eq!(
        row(&out, "units"),
        "g (from the median |a| of the first 10 s)"
    );
    assert_eq!(row(&out, "gaps"), "1 (2.51 s in all)");
    assert!(out.contains("after 9.990 s: 2.51 s"), "{out}");
    // |a| of the generating motion is 1 g up to a 0.01 g tremor and 5-decimal rounding.
    let mean: f64 = row(&out, "mean |a|")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((mean - 1.0).abs() < 0.001, "{mean}");
}

#[test]
fn summary_of_a_real_recording() {
    // The AX3 excerpt: 5,932 rows after its header; the device ran at 98.86 Hz
    // (shared data README); first time 1551178505.986 = 2019-02-26 10:55:05.986 UTC.
    let o = analyze(&[&testdata("ax3_right_wrist_100hz_1min.csv")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(row(&out, "samples"), "5,932");
    assert!(row(&out, "rate").starts_with("98.86 Hz"), "{out}");
    // times written to the millisecond: a median of 10 ms, the detector at the device's rate
    let rate = row(&out, "rate");
    let detector: f64 = rate
        .split("; detector at ")
        .nth(1)
        .and_then(|r| r.strip_suffix(" Hz)"))
        .unwrap_or_else(|| panic!("{out}"))
        .parse()
        .unwrap();
    assert!(rate.contains("(median interval 10.000 ms"), "{out}");
    assert!((detector - 98.86).abs() < 0.02, "{out}");
    assert_eq!(
        row(&out, "start"),
        "2019-02-26 10:55:05.986 (Unix time, clock as stored)"
    );
}

#[test]
fn units_iso_times_and_warnings_are_reported() {
    let o = analyze(&[
        &testdata("synthetic_ms2_100hz.csv"),
        &testdata("iso_naive_50hz.csv"),
        &testdata("iso_offset_50hz.csv"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let files: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(files.len(), 3, "{out}");
    assert_eq!(
        row(files[0], "units"),
        "m/s² (from the median |a| of the first 10 s)"
    );
    for f in &files[1..] {
        assert_eq!(
            row(f, "start"),
            "2024-03-01 23:00:00.000 UTC (ISO-8601 date-times)"
        );
        assert_eq!(row(f, "samples"), "1,000");
    }
    assert_eq!(
        row(files[1], "warning"),
        "date-times without a UTC offset are taken as UTC"
    );
    assert!(!files[2].contains("warning"), "{}", files[2]);
    let o = analyze(&["--units", "g", &testdata("synthetic_ms2_100hz.csv")]);
    assert_eq!(row(&stdout(&o), "units"), "g (as asked)");
}

#[test]
fn a_bad_file_exits_1_naming_file_and_line_and_the_others_are_still_read() {
    let bad = testdata("bad/not_a_number.csv");
    let o = analyze(&[&bad, &testdata("noheader_100hz.csv")]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("error: {bad}:12: column \"y\"")),
        "{err}"
    );
    assert_eq!(row(&stdout(&o), "samples"), "1,000");
}

#[test]
fn every_bad_file_fails_cleanly() {
    let dir = format!("{}/testdata/bad", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let o = analyze(&[path.to_str().unwrap()]);
        let code = o.status.code();
        if name == "cut_last_row.csv" {
            assert_eq!(code, Some(0), "{name}");
            assert!(row(&stdout(&o), "warning").contains(":52: last row cut short"));
            continue;
        }
        assert_eq!(code, Some(1), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(
            err.starts_with(&format!("error: {}", path.display())),
            "{err}"
        );
    }
}

#[test]
fn bad_usage_exits_2_and_help_exits_0() {
    assert_eq!(analyze(&[]).status.code(), Some(2));
    assert_eq!(
        analyze(&["--units", "furlongs", "x.csv"]).status.code(),
        Some(2)
    );
    let help = analyze(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--units"));
}

/// Runs example `name` with `args` and no standard input.
fn example_run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn every_example_prints_its_usage_and_exits_2_on_bad_usage() {
    // (example, what its --help must say)
    let cases = [
        ("stream", "standard input"),
        ("simulate", "usage: simulate"),
        ("sim_vs_real", "usage: sim_vs_real"),
    ];
    for (name, says) in cases {
        let help = example_run(name, &["--help"]);
        assert_eq!(help.status.code(), Some(0), "{name}: {}", stderr(&help));
        assert!(stdout(&help).contains(says), "{name}: {}", stdout(&help));
        let bad = example_run(name, &["--no-such-option"]);
        assert_eq!(bad.status.code(), Some(2), "{name}: {}", stderr(&bad));
        assert!(
            stderr(&bad).starts_with("error: "),
            "{name}: {}",
            stderr(&bad)
        );
    }
    // stream names the format it reads.
    let help = stdout(&example_run("stream", &["--help"]));
    assert!(
        help.contains("t,x,y,z") && help.contains("ISO-8601"),
        "{help}"
    );
    // simulate: a missing value and a missing output folder are bad usage too.
    for args in [&["--seed"][..], &["--seed", "7"][..]] {
        let o = example_run("simulate", args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_device_location_other_than_the_site_is_warned_of() {
    // The AX3 file stores "right wrist" (testdata/README.md); bare, it is analysed as an
    // ankle, and the table says so.
    let file = testdata("devices/ax3_right_wrist_100hz_3min.cwa");
    let o = analyze(&[&file]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "warning      the device file stores the body location \"right wrist\", but the \
             recording is analysed as ankle (the default when none is given)"
        ),
        "{out}"
    );
    // Given as a wrist, nothing to say.
    let o = analyze(&[&format!("wrist:{file}")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("body location"), "{}", stdout(&o));
}
