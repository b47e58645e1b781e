//! Runs the built `analyze` and `stream` examples as a user would, on `testdata/` and on
//! simulated nights, and checks their outputs: events CSV, summary JSON, SVG, cohort table,
//! exit status, and that `stream` prints what `analyze` writes.

// Helpers outside #[test] functions fail the test the same way: by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

mod common;

/// The example binary `name`, built (once per test run) next to this test's profile.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/analyze-<hash> → target/<profile>
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    BUILT.get_or_init(|| {
        // `cargo test` builds examples but leaves no plain binary for one built as a test
        // (`analyze` has unit tests); build them as a user would.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--example", "analyze", "--example", "stream"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().unwrap();
        assert!(status.success(), "building the examples failed");
    });
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} not built", path.display());
    path
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// A fresh temporary folder for one test.
fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sleeptwitch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A testdata file's text, inflated if it is gzip-compressed (`.gz`).
fn plain_text(path: &Path) -> String {
    use std::io::Read;
    let file = std::fs::File::open(path).unwrap();
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap();
    } else {
        BufReader::new(file).read_to_string(&mut text).unwrap();
    }
    text
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name)).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Rows of an events CSV as maps from column to field, after checking the header's start.
fn read_events(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..3], ["onset_s", "offset_s", "kind"], "{header:?}");
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The colours the picture gives each class (examples/analyze/plot.rs), by kind name.
const CLASS_COLORS: [(&str, &str); 6] = [
    ("hypnic_jerk", "#D62728"),
    ("plm", "#1F77B4"),
    ("lm", "#2CA02C"),
    ("posture_change", "#FF7F0E"),
    ("activity", "#8C564B"),
    ("other", "#BCBD22"),
];

/// Checks that `svg` is well-formed XML with an `svg` root, and counts its `rect`s by fill.
fn svg_rects_by_fill(svg: &str) -> BTreeMap<String, usize> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut stack: Vec<String> = Vec::new();
    let mut fills: BTreeMap<String, usize> = BTreeMap::new();
    let mut root = None;
    loop {
        match reader.read_event().unwrap() {
            X::Start(e) => {
                let name = text(e.name().as_ref());
                root.get_or_insert_with(|| name.clone());
                stack.push(name);
            }
            X::End(e) => assert_eq!(stack.pop().as_deref(), Some(&*text(e.name().as_ref()))),
            X::Empty(e) if e.name().as_ref() == b"rect" => {
                let fill = e
                    .attributes()
                    .map(|a| a.unwrap())
                    .find(|a| a.key.as_ref() == b"fill")
                    .map(|a| text(&a.value))
                    .unwrap_or_default();
                *fills.entry(fill).or_default() += 1;
            }
            X::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(root.as_deref(), Some("svg"));
    fills
}

/// Each class present has one rectangle per event plus its legend swatch; absent classes
/// none.
fn check_svg_marks(svg_path: &Path, events: &[BTreeMap<String, String>]) {
    let fills = svg_rects_by_fill(&std::fs::read_to_string(svg_path).unwrap());
    for (kind, color) in CLASS_COLORS {
        let n = events.iter().filter(|e| e["kind"] == kind).count();
        let expected = if n == 0 { 0 } else { n + 1 };
        assert_eq!(
            fills.get(color).copied().unwrap_or(0),
            expected,
            "{kind} in {}",
            svg_path.display()
        );
    }
}

#[test]
fn one_night_writes_events_summary_and_picture() {
    let dir = temp("one");
    let input = testdata("night_ankle_100hz_10min.csv.gz");
    let (ev, sum, svg) = (
        dir.join("ev.csv"),
        dir.join("s.json"),
        dir.join("night.svg"),
    );
    let o = run(
        "analyze",
        &[
            s(&input),
            "--events",
            s(&ev),
            "--summary",
            s(&sum),
            "--plot",
            s(&svg),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("  events       plm 19\n"), "{out}");

    // Events: the generator put 19 PLMs in this window; each is found within 0.5 s of its
    // true onset (the detector's onset lags the physical start by a few 50 ms blocks).
    let events = read_events(&ev);
    let truth = read_events(&testdata("night_ankle_100hz_10min_truth.csv"));
    assert_eq!(events.len(), 19);
    for (e, t) in events.iter().zip(&truth) {
        assert_eq!(e["kind"], "plm");
        let (a, b): (f64, f64) = (e["onset_s"].parse().unwrap(), t["onset_s"].parse().unwrap());
        assert!((a - b).abs() < 0.5, "onset {a} vs truth {b}");
        assert_eq!(e["series_id"], "1");
        assert_eq!(e["sites"], "ankle");
    }

    // Summary JSON: version, config, recording, metrics agree with the file and the events.
    let j = json(&sum);
    assert_eq!(j["software"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(j["name"], "night_ankle_100hz_10min");
    assert_eq!(j["config"]["series"]["rule"], "wasm2016");
    let rec = &j["inputs"][0]["recording"];
    assert_eq!(rec["n_samples"], 60_000);
    assert_eq!(rec["format"], "csv");
    assert!((rec["rate"]["rate_hz"].as_f64().unwrap() - 100.0).abs() < 1e-6);
    assert_eq!(j["inputs"][0]["site"], "ankle");
    assert!(j["inputs"][0]["calibration"]["status"].is_string());
    assert_eq!(j["n_events"]["plm"], 19);
    assert_eq!(j["n_events"]["total"], 19);
    assert_eq!(j["metrics"]["n_plm"], 19);
    // 10 min in bed: 599.99 s from the first to the last sample, less at most one 50 ms
    // block (the detector's clock advances a block at a time).
    let tib = j["metrics"]["time_in_bed_s"].as_f64().unwrap();
    assert!(
        (599.99 - 0.05 - 1e-9..=599.99 + 1e-9).contains(&tib),
        "{tib}"
    );
    assert!(j["metrics"]["imi_histogram"]["counts"].is_array());
    assert!(j["metrics"]["hypnic_jerks"].is_array());

    check_svg_marks(&svg, &events);

    // --json prints the same summary.
    let o = run("analyze", &[s(&input), "--json"]);
    assert!(o.status.success());
    let printed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed, j);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_with_a_corrupt_file_reports_it_and_writes_the_others() {
    let dir = temp("cohort");
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::copy(
        testdata("night_ankle_100hz_10min.csv.gz"),
        data.join("night.csv.gz"),
    )
    .unwrap();
    std::fs::copy(
        testdata("devices/ax3_right_wrist_100hz_3min.cwa"),
        data.join("sub/wrist_ax3.cwa"),
    )
    .unwrap();
    std::fs::copy(testdata("bad/nan.csv"), data.join("sub/broken.csv")).unwrap();
    // Not a recording: left out by name.
    std::fs::write(data.join("night.truth.csv"), "onset_s,offset_s,kind\n").unwrap();
    let out = dir.join("out");
    let o = run("analyze", &["--out-dir", s(&out), s(&data)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    let broken = data.join("sub/broken.csv");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("error: {}:15: ", broken.display())),
        "{err}"
    );
    for name in ["night", "wrist_ax3"] {
        for ext in ["events.csv", "summary.json", "svg"] {
            let p = out.join(format!("{name}.{ext}"));
            assert!(p.exists(), "{} missing", p.display());
        }
        let events = read_events(&out.join(format!("{name}.events.csv")));
        check_svg_marks(&out.join(format!("{name}.svg")), &events);
    }
    assert!(!out.join("broken.events.csv").exists());
    let mut r = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<BTreeMap<String, String>> = r
        .records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect();
    let by_name: BTreeMap<&str, &BTreeMap<String, String>> =
        rows.iter().map(|r| (r["name"].as_str(), r)).collect();
    assert_eq!(by_name.len(), 3, "{rows:?}");
    assert_eq!(by_name["night"]["status"], "ok");
    assert_eq!(by_name["night"]["n_events"], "19");
    assert_eq!(by_name["wrist_ax3"]["status"], "ok");
    assert_eq!(by_name["broken"]["status"], "error");
    assert!(by_name["broken"]["error"].contains(":15: "), "{rows:?}");
    assert_eq!(by_name["broken"]["n_events"], "");
    // Tables on stdout for the two that worked, none for the failure.
    assert_eq!(text(&o.stdout).matches("  samples ").count(), 2);

    // The same with two nights at a time gives the same files.
    let out2 = dir.join("out2");
    let o = run(
        "analyze",
        &["--threads", "2", "--out-dir", s(&out2), s(&data)],
    );
    assert_eq!(o.status.code(), Some(1));
    for f in ["night.events.csv", "wrist_ax3.summary.json", "summary.csv"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(out2.join(f)).unwrap(),
            "{f}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The cohort table's rows by night name.
fn cohort_rows(path: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let row: BTreeMap<String, String> = header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect();
            (row["name"].clone(), row)
        })
        .collect()
}

#[test]
fn resume_takes_the_nights_a_former_run_finished_and_redoes_the_rest() {
    let dir = temp("resume");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let night = testdata("night_ankle_100hz_10min.csv.gz");
    let a = data.join("a.csv");
    std::fs::write(&a, plain_text(&night)).unwrap();
    std::fs::copy(
        testdata("devices/ax3_right_wrist_100hz_3min.cwa"),
        data.join("b.cwa"),
    )
    .unwrap();
    std::fs::copy(testdata("bad/nan.csv"), data.join("c.csv")).unwrap();
    let out = dir.join("out");
    let o = run("analyze", &["--quiet", "--out-dir", s(&out), s(&data)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let first = cohort_rows(&out.join("summary.csv"));
    assert_eq!(first["c"]["status"], "error");
    let b_summary = std::fs::read(out.join("b.summary.json")).unwrap();
    let listed = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    // Every output whole under its name; nothing of the failed night, nothing half-written.
    assert_eq!(
        listed(&out),
        [
            "a.events.csv",
            "a.summary.json",
            "a.svg",
            "b.events.csv",
            "b.summary.json",
            "b.svg",
            "summary.csv"
        ]
    );

    // Now a's recording reads as corrupt at the same size (it would fail if read again), b's
    // summary is gone (as if the run had stopped before writing it) and c's recording is
    // fixed.
    let good = std::fs::read_to_string(&a).unwrap();
    let line_15 = good.match_indices('\n').nth(13).unwrap().0 + 1;
    let corrupt = format!("{}x{}", &good[..line_15], &good[line_15 + 1..]);
    assert_eq!(corrupt.len(), good.len());
    std::fs::write(&a, &corrupt).unwrap();
    std::fs::remove_file(out.join("b.summary.json")).unwrap();
    std::fs::copy(&night, data.join("c.csv")).unwrap();
    // analyze --resume into `out`, with these options too.
    let resume = |extra: &[&str]| {
        let head = ["--quiet", "--resume", "--out-dir", s(&out)];
        run("analyze", &[&head[..], extra, &[s(&data)]].concat())
    };
    let o = resume(&[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("resumed: 1 of 3 nights taken from"),
        "{}",
        text(&o.stderr)
    );
    let second = cohort_rows(&out.join("summary.csv"));
    assert_eq!(second["a"], first["a"], "a is taken as it was");
    assert_eq!(second["b"], first["b"], "b is done again, the same");
    assert_eq!(
        std::fs::read(out.join("b.summary.json")).unwrap(),
        b_summary
    );
    assert_eq!(second["c"]["status"], "ok");
    assert_eq!(second["c"]["n_events"], first["a"]["n_events"]);
    // Tables on stdout for all three, a's from its summary.
    assert_eq!(text(&o.stdout).matches("  samples ").count(), 3);

    // A recording whose size changed is read again (and a's now fails); b and c are taken.
    std::fs::write(&a, corrupt + "\n").unwrap();
    let o = resume(&[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("resumed: 2 of 3 nights"), "{err}");
    assert!(err.contains("a.csv:15: "), "{err}");

    // Under another config nothing is taken: a is read again, and fails.
    let o = resume(&["--on-factor", "4"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("resumed: 0 of 3 nights"), "{err}");
    assert!(err.contains("a.csv:15: "), "{err}");
    // Nor when the files are to be read otherwise (the same config, units forced).
    let o = resume(&["--units", "g"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("resumed: 0 of 3 nights"));
    // --resume needs an output folder.
    let o = run("analyze", &["--resume", s(&night)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bilateral_pair_and_a_wrist_are_one_night() {
    let dir = temp("bilateral");
    let night = dir.join("sim");
    let mut sim = sleeptwitch::sim::SimConfig::new(11);
    sim.duration_h = 1.0;
    sim.rate_hz = 50.0;
    sim.layout = sleeptwitch::sim::Layout::Bilateral;
    sim.severity = sleeptwitch::sim::Severity::Severe;
    std::fs::create_dir_all(&night).unwrap();
    sleeptwitch::sim::Night::new(&sim)
        .unwrap()
        .write_to_dir(&night)
        .unwrap();
    let l = night.join("night.left_ankle.csv");
    let r = night.join("night.right_ankle.csv");
    let w = night.join("night.wrist.csv");
    let sum = dir.join("s.json");
    let ev = dir.join("ev.csv");
    let args = [
        format!("left_ankle:{}", l.display()),
        format!("right_ankle:{}", r.display()),
        format!("wrist:{}", w.display()),
    ];
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--summary", s(&sum), "--events", s(&ev)]);
    let o = run("analyze", &all);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let j = json(&sum);
    let sites: Vec<&str> = j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["site"].as_str().unwrap())
        .collect();
    assert_eq!(sites, ["left_ankle", "right_ankle", "wrist"]);
    assert_eq!(j["name"], "night");
    for i in j["inputs"].as_array().unwrap() {
        // 1 h at 50 Hz.
        assert_eq!(i["recording"]["n_samples"], 180_000);
    }
    let events = read_events(&ev);
    assert!(!events.is_empty());
    // Leg movements seen by both ankles were merged into one event on both sites.
    assert!(
        events
            .iter()
            .any(|e| e["sites"].contains("left_ankle") && e["sites"].contains("right_ankle")),
        "{events:?}"
    );
    assert_eq!(j["n_events"]["total"], events.len());

    // The simulator's folder (with its truth files) is the same one night.
    let out = dir.join("out");
    let o = run("analyze", &["--out-dir", s(&out), s(&night)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(out.join("night.events.csv")).unwrap(),
        std::fs::read(&ev).unwrap()
    );
    let rows = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(rows.lines().count(), 2, "{rows}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stream_prints_what_analyze_writes() {
    let dir = temp("stream");
    for name in [
        "night_ankle_100hz_10min.csv.gz",
        "ax3_right_wrist_100hz_1min.csv",
        "actigraph_30hz_idle_gaps_10min.csv",
    ] {
        let ev = dir.join(format!("{name}.events.csv"));
        let o = run("analyze", &[s(&testdata(name)), "--events", s(&ev)]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        // `stream` reads plain CSV text on its standard input.
        let plain = dir.join(format!("{name}.plain.csv"));
        std::fs::write(&plain, plain_text(&testdata(name))).unwrap();
        let o = Command::new(example("stream"))
            .stdin(std::fs::File::open(&plain).unwrap())
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        assert_eq!(
            text(&o.stdout),
            std::fs::read_to_string(&ev).unwrap(),
            "{name}"
        );
    }
    // Told the rate and unit, `stream` starts at the first row and finds the same events.
    // The rate is exactly 100 Hz rather than the reciprocal of the median of differences of
    // decimal times (100 Hz to 1e-10), so the peak jerk (a difference times the rate) may
    // move in its last digits; every other field is the same text.
    let name = "night_ankle_100hz_10min.csv.gz";
    let o = Command::new(example("stream"))
        .args(["--rate", "100", "--units", "g"])
        .stdin(std::fs::File::open(dir.join(format!("{name}.plain.csv"))).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ev = std::fs::read_to_string(dir.join(format!("{name}.events.csv"))).unwrap();
    let got = text(&o.stdout);
    assert_eq!(got.lines().count(), ev.lines().count());
    let jerk = ev
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "peak_jerk_g_per_s")
        .unwrap();
    for (a, b) in got.lines().zip(ev.lines()).skip(1) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            if i == jerk {
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                assert!((x - y).abs() <= 1e-9 * y.abs(), "{a:?} {b:?}");
            } else {
                assert_eq!(x, y, "{a:?} {b:?}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stream_prints_events_before_its_input_ends() {
    let input = plain_text(&testdata("night_ankle_100hz_10min.csv.gz"));
    let lines: Vec<&str> = input.lines().collect();
    let mut child = Command::new(example("stream"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    // Rows up to 2700 s (the file runs 2280–2880 s), and the pipe kept open.
    let head = lines.iter().take(42_001).fold(String::new(), |mut acc, l| {
        acc.push_str(l);
        acc.push('\n');
        acc
    });
    stdin.write_all(head.as_bytes()).unwrap();
    stdin.flush().unwrap();
    // The first four PLMs (onsets 2320–2413 s) form a series once the fourth is known and
    // their neighbours are settled, well before 2700 s: their rows must come now.
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        let mut n = 0;
        while r.read_line(&mut line).unwrap() > 0 {
            n += 1;
            tx.send(line.clone()).unwrap();
            line.clear();
        }
        n
    });
    let mut early = Vec::new();
    while early.len() < 5 {
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(l) => early.push(l),
            Err(e) => panic!("only {} lines before the input ended: {e}", early.len()),
        }
    }
    assert!(early[0].starts_with("onset_s,offset_s,kind"));
    assert!(early[1].contains(",plm,"), "{early:?}");
    // Then the rest of the input, and the end.
    let rest = lines[42_001..].join("\n") + "\n";
    stdin.write_all(rest.as_bytes()).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    let total = reader.join().unwrap();
    assert_eq!(total, 20, "a header and 19 events");
}

#[test]
fn config_files_and_options_reach_the_detector() {
    let dir = temp("config");
    let cfg = dir.join("aasm.toml");
    std::fs::write(&cfg, "[series]\nrule = \"aasm2012\"\nimi_min_s = 5.0\n").unwrap();
    let sum = dir.join("s.json");
    let input = testdata("night_ankle_100hz_10min.csv.gz");
    let o = run(
        "analyze",
        &[
            s(&input),
            "--config",
            s(&cfg),
            "--on-factor",
            "4",
            "--summary",
            s(&sum),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let j = json(&sum);
    assert_eq!(j["config"]["series"]["rule"], "aasm2012");
    assert_eq!(j["config"]["series"]["imi_min_s"], 5.0);
    assert_eq!(j["config"]["segment"]["on_factor"], 4.0);
    assert_eq!(j["metrics"]["rule"], "aasm2012");
    // --rule replaces the series section by the rule's published values.
    let o = run(
        "analyze",
        &[s(&input), "--rule", "aasm", "--summary", s(&sum)],
    );
    assert!(o.status.success());
    assert_eq!(json(&sum)["config"]["series"]["rule"], "aasm2012");

    // A bad config file: exit 1, naming file and line.
    std::fs::write(&cfg, "[series]\nrule = \"aasm2012\"\nimi_minimum_s = 5.0\n").unwrap();
    let o = run("analyze", &[s(&input), "--config", s(&cfg)]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with(&format!("error: {}:3: config: ", cfg.display())),
        "{err}"
    );
    // A value that breaks a rule names the field, and the option or file that set it, not
    // the recording.
    let o = run("analyze", &[s(&input), "--off-factor", "9"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "error: --off-factor 9: config: `segment.off_factor` = 9 must lie between 1 and \
         segment.on_factor\n"
    );
    let o = run(
        "analyze",
        &[s(&input), "--on-factor", "1", "--off-factor", "2"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).starts_with("error: --on-factor 1 with --off-factor 2: config: "),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(&cfg, "[segment]\non_factor = -3\n").unwrap();
    for args in [
        vec![s(&input), "--config", s(&cfg)],
        vec!["--config", s(&cfg)],
    ] {
        let (o, name) = if args.len() == 3 {
            (run("analyze", &args), "analyze")
        } else {
            // Refused before standard input is read.
            let o = Command::new(example("stream"))
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            (o, "stream")
        };
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert_eq!(
            text(&o.stderr),
            format!(
                "error: {}: config: `segment.on_factor` = -3 must be positive and finite\n",
                cfg.display()
            ),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn per_night_outputs_need_one_night() {
    let o = run(
        "analyze",
        &[
            s(&testdata("noheader_100hz.csv")),
            s(&testdata("gap_100hz.csv")),
            "--events",
            "x.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--out-dir"), "{}", text(&o.stderr));
}

#[test]
fn an_unknown_site_is_named_and_a_file_of_that_name_still_read() {
    let dir = temp("site");
    let o = Command::new(example("analyze"))
        .arg("knee:n.csv")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "error: knee:n.csv: unknown site \"knee\"; expected ankle, left_ankle, right_ankle or \
         wrist\n"
    );
    // Once a file has that name, it is read as the file it is (an ankle).
    std::fs::copy(testdata("gap_100hz.csv"), dir.join("knee:n.csv")).unwrap();
    let o = Command::new(example("analyze"))
        .arg("knee:n.csv")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("knee:n.csv\n"),
        "{}",
        text(&o.stdout)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_output_in_a_missing_folder_is_refused_before_the_analysis() {
    let dir = temp("no-folder");
    let input = testdata("gap_100hz.csv");
    for option in ["--events", "--summary", "--plot"] {
        let out = dir.join("missing").join("out");
        let o = run("analyze", &[option, s(&out), s(&input)]);
        assert_eq!(o.status.code(), Some(1), "{option}");
        let err = text(&o.stderr);
        assert_eq!(
            err,
            format!(
                "error: {}: write failed: folder {} does not exist\n",
                out.display(),
                dir.join("missing").display()
            ),
            "{option}"
        );
        // Nothing was analysed: no table on stdout.
        assert_eq!(text(&o.stdout), "", "{option}");
    }
    // A write that fails once the analysis is done says it is a write, naming the file:
    // here the events file is a folder.
    let taken = dir.join("taken");
    std::fs::create_dir_all(&taken).unwrap();
    let o = run("analyze", &["--events", s(&taken), s(&input)]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with(&format!("error: {}: write failed: ", taken.display())),
        "{err}"
    );
    // The summary JSON of stream is checked before its input is read.
    let o = Command::new(example("stream"))
        .args(["--summary", s(&dir.join("missing").join("s.json"))])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("write failed: folder"),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The README's first command: the compressed simulated night in testdata, scored against
/// the truth that came with it.
#[test]
fn the_readme_night_is_found_and_named() {
    use sleeptwitch::eval::{score_class, MatchConfig, ScoredClass};
    let dir = temp("readme");
    let (ev, sum) = (dir.join("ev.csv"), dir.join("s.json"));
    let input = testdata("sim_ankle_50hz_90min.csv.gz");
    let o = run(
        "analyze",
        &[s(&input), "--events", s(&ev), "--summary", s(&sum)],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events = sleeptwitch::io::read_events(&ev).unwrap();
    let truth = sleeptwitch::io::read_events(&testdata("sim_ankle_50hz_90min.truth.csv")).unwrap();
    let cfg = MatchConfig::default();
    for (class, floor) in [
        (ScoredClass::Plm, 0.9),
        (ScoredClass::LegMovement, 0.9),
        (ScoredClass::HypnicJerk, 0.8),
    ] {
        let score = score_class(&truth, &events, class, &cfg);
        assert!(score.f1 >= floor, "{class:?}: {score:?}");
    }
    // Sleep starts at the first true onset (the one its hypnic jerks mark), within 2 min.
    let truth_json = json(&testdata("sim_ankle_50hz_90min.truth.json"));
    let true_onset = truth_json["sleep_onsets_s"][0].as_f64().unwrap();
    let onset = json(&sum)["sleep_onset_s"].as_f64().unwrap();
    assert!(
        (onset - true_onset).abs() <= 120.0,
        "{onset} vs {true_onset}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_actilife_export_with_its_idle_time_filled_reads_as_the_recording_with_gaps() {
    // The real idle-sleep excerpt as ActiLife would export it: a row every 1/30 s from the
    // start, each idle-sleep gap filled with the last sample before it.
    let dir = temp("idle-fill");
    let original = testdata("actigraph_30hz_idle_gaps_10min.csv");
    let samples = common::read_csv(&original);
    let export = common::actilife_export_with_idle_fill(&samples);
    let n_filled = export.lines().count() - 11 - samples.len();
    assert!(n_filled > 30 * 400, "{n_filled} rows of fill");
    let path = dir.join("export.csv");
    std::fs::write(&path, &export).unwrap();

    let (want_ev, got_ev) = (dir.join("original.csv"), dir.join("export.events.csv"));
    let o = run("analyze", &[s(&original), "--events", s(&want_ev)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run("analyze", &[s(&path), "--events", s(&got_ev)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("  gaps         6 ("), "{out}");
    assert!(
        out.contains("left out as the device's idle-sleep fill"),
        "{out}"
    );
    // The same events as the recording with its gaps (its times rounded to 1 ms).
    let (want, got) = (read_events(&want_ev), read_events(&got_ev));
    assert_eq!(got.len(), want.len());
    assert!(!want.is_empty());
    for (a, b) in want.iter().zip(&got) {
        assert_eq!(a["kind"], b["kind"]);
        for col in ["onset_s", "offset_s"] {
            let (x, y): (f64, f64) = (a[col].parse().unwrap(), b[col].parse().unwrap());
            assert!((x - y).abs() < 2e-3, "{col}: {a:?} vs {b:?}");
        }
    }
    // `stream` leaves the fill out too.
    let o = Command::new(example("stream"))
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), std::fs::read_to_string(&got_ev).unwrap());
    // Kept, the fill is samples: no gaps.
    let kept_ev = dir.join("kept.events.csv");
    let o = run(
        "analyze",
        &[s(&path), "--idle-fill", "keep", "--events", s(&kept_ev)],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("  gaps         none"));
    // `stream` keeps it when asked, with analyze's events, and tells no gap.
    let stream = |what: &str| {
        let o = Command::new(example("stream"))
            .args(["--notices", "--idle-fill", what])
            .stdin(std::fs::File::open(&path).unwrap())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        (
            text(&o.stdout),
            text(&o.stderr).matches("notice: gap:").count(),
        )
    };
    assert_eq!(
        stream("keep"),
        (std::fs::read_to_string(&kept_ev).unwrap(), 0)
    );
    assert_eq!(
        stream("drop"),
        (std::fs::read_to_string(&got_ev).unwrap(), 6)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sensor_off_for_three_hours_is_reported_unworn_in_the_table_and_the_summary() {
    let dir = temp("unworn");
    let input = dir.join("night.csv");
    let mut csv = String::from("t,x,y,z\n");
    for s in common::night_with_time_off(25.0, 5.0, (3600.0, 14_400.0)) {
        let [x, y, z] = s.acc_g;
        csv.push_str(&format!("{:.2},{x:.5},{y:.5},{z:.5}\n", s.t_s));
    }
    std::fs::write(&input, csv).unwrap();
    let sum = dir.join("s.json");
    let o = run("analyze", &[s(&input), "--summary", s(&sum)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains(
            "  unworn?      3 h 00 min 00 s in 1 stretch as still as a sensor off the body"
        ),
        "{out}"
    );
    assert!(
        out.contains("               from 3600.000 s for 3 h 00 min 00 s\n"),
        "{out}"
    );
    let j = json(&sum);
    let unworn = j["inputs"][0]["unworn"].as_array().unwrap();
    assert_eq!(unworn.len(), 1);
    assert_eq!(unworn[0]["site"], "ankle");
    assert_eq!(unworn[0]["start_s"].as_f64(), Some(3600.0));
    assert_eq!(j["inputs"][0]["unworn_s"].as_f64(), Some(10_800.0));
    // Leg movements are no wake evidence: the night is one sleep bout, and the time on the
    // table is inside it (total sleep time holds it, and the report says how much).
    let bouts = j["sleep_bouts"].as_array().unwrap();
    assert_eq!(bouts.len(), 1);
    assert!(bouts[0]["start_s"].as_f64().unwrap() < 3600.0);
    assert!(bouts[0]["end_s"].as_f64().unwrap() > 14_400.0);
    assert_eq!(j["inputs"][0]["unworn_asleep_s"].as_f64(), Some(10_800.0));
    assert!(
        out.contains(", 3 h 00 min 00 s of it asleep (still counted in the night"),
        "{out}"
    );

    // `stream` tells of the stretch as it becomes final, when asked, and its summary holds
    // what analyze's does.
    let streamed = dir.join("stream.json");
    let o = Command::new(example("stream"))
        .args(["--notices", "--summary", s(&streamed)])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "notice: unworn? the ankle sensor lay as still as one off the body from 3600.000 s \
             to 14400.000 s\n"
        ),
        "{err}"
    );
    assert!(err.contains("notice: sleep onset at "), "{err}");
    let js = json(&streamed);
    for key in ["unworn", "unworn_s", "unworn_asleep_s"] {
        assert_eq!(js["inputs"][0][key], j["inputs"][0][key], "{key}");
    }
}
