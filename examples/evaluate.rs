//! Scores detected events against the ground truth of simulated nights.
//!
//! ```text
//! cargo run --release --example evaluate -- night.truth.csv night.events.csv [--json]
//! cargo run --release --example evaluate -- --dir NIGHTS [--events night.events.csv] [--json]
//! ```
//!
//! One night: reads the truth CSV (and `night.truth.json` beside it, for sleep, time in bed
//! and the scoring rule), the detected events CSV and, with `--summary`, a detector's JSON
//! with `sleep_bouts` and/or `sleep_onsets_s`; prints precision, recall and F1 per class and
//! the night-level errors. `--json` prints an object with one entry per class name
//! (`precision`, `recall`, `f1`, `tp`, `fp`, `fn`, …) and a `night` entry.
//!
//! A directory: every night found in `NIGHTS` (itself and its subdirectories holding a
//! `night.truth.csv`) is scored and the pooled table printed. With `--events NAME`, each
//! night's saved `NAME` file is scored; without it, the crate's detector is run on each
//! night's sensor file — see `run_crate_detector` below, where it plugs in.

use std::path::PathBuf;
use std::process::ExitCode;

use sleeptwitch::eval::{
    evaluate_dir, read_json, score_night, DetectedSleep, Detection, EvalConfig, NightDir,
    TruthNight,
};
use sleeptwitch::io::read_events;
use sleeptwitch::{Error, ErrorKind, ScoringRule, SeriesConfig};

const USAGE: &str = "\
usage: evaluate TRUTH.csv EVENTS.csv [--truth-json PATH] [--summary PATH] [OPTIONS]
       evaluate --dir DIR [--events NAME] [OPTIONS]

options:
  --json             print JSON instead of a table
  --rule R           series rules for the night metrics: wasm2016 or aasm2012
                     (default: the rule named in the truth JSON, else wasm2016)
  --truth-json PATH  truth JSON (default: TRUTH.json beside TRUTH.csv, if present)
  --summary PATH     detector summary JSON with sleep_bouts and/or sleep_onsets_s
  --events NAME      with --dir: score each night's saved events file NAME
";

#[derive(Default)]
struct Args {
    positional: Vec<PathBuf>,
    dir: Option<PathBuf>,
    events_name: Option<String>,
    truth_json: Option<PathBuf>,
    summary: Option<PathBuf>,
    rule: Option<ScoringRule>,
    json: bool,
}

fn parse(raw: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--json" => a.json = true,
            "--dir" => a.dir = Some(value(arg)?.into()),
            "--events" => a.events_name = Some(value(arg)?),
            "--truth-json" => a.truth_json = Some(value(arg)?.into()),
            "--summary" => a.summary = Some(value(arg)?.into()),
            "--rule" => {
                a.rule = Some(match value(arg)?.as_str() {
                    "wasm2016" => ScoringRule::Wasm2016,
                    "aasm2012" => ScoringRule::Aasm2012,
                    other => {
                        return Err(format!(
                            "--rule: expected wasm2016 or aasm2012, found {other:?}"
                        ))
                    }
                })
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => a.positional.push(s.into()),
        }
    }
    match (&a.dir, a.positional.len()) {
        (Some(_), 0) | (None, 2) => Ok(a),
        (Some(_), _) => Err("--dir takes no TRUTH.csv or EVENTS.csv".into()),
        (None, _) => Err("expected TRUTH.csv and EVENTS.csv, or --dir DIR".into()),
    }
}

/// Runs the crate's detector on one night's sensor file.
///
/// This is where the crate's streaming detector plugs in: open the night's sensor file as a
/// `Source` (the CSV reader) and hand it to `sleeptwitch::eval::run_detector` with a factory
/// `|rate_hz| Detector::new(&config, rate_hz)`; any other `Detect` implementation plugs in
/// the same way. This build has neither the detector nor the sample reader, so it says so.
fn run_crate_detector(night: &NightDir) -> Result<Detection, Error> {
    Err(Error::new(ErrorKind::Other(format!(
        "night {:?}: no built-in detector in this build; score saved events with --events NAME",
        night.name
    ))))
}

/// Reads a night's saved events file, and `<NAME without .csv>.summary.json` beside it if
/// present, as the detection.
fn saved_events(night: &NightDir, name: &str) -> Result<Detection, Error> {
    let events = read_events(&night.dir.join(name))?;
    let stem = name.strip_suffix(".csv").unwrap_or(name);
    let summary = night.dir.join(format!("{stem}.summary.json"));
    let sleep = if summary.is_file() {
        Some(read_json::<DetectedSleep>(&summary)?)
    } else {
        None
    };
    Ok(Detection { events, sleep })
}

fn config(rule: Option<ScoringRule>) -> EvalConfig {
    EvalConfig {
        series: rule.map(SeriesConfig::for_rule),
        ..EvalConfig::default()
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string_pretty(v).map_err(|e| Error::new(ErrorKind::Other(e.to_string())))
}

fn run(a: &Args) -> Result<(), Error> {
    let cfg = config(a.rule);
    if let Some(dir) = &a.dir {
        let report = evaluate_dir(dir, &cfg, &mut |night| match &a.events_name {
            Some(name) => saved_events(night, name),
            None => run_crate_detector(night),
        })?;
        let text = if a.json {
            json(&report)? + "\n"
        } else {
            report.to_string()
        };
        return emit(&text);
    }
    let [truth_csv, events_csv] = a.positional.as_slice() else {
        return Err(Error::new(ErrorKind::Other(
            "expected TRUTH.csv and EVENTS.csv".into(),
        )));
    };
    let truth = TruthNight::load(truth_csv, a.truth_json.as_deref())?;
    let events = read_events(events_csv)?;
    let sleep = a
        .summary
        .as_deref()
        .map(read_json::<DetectedSleep>)
        .transpose()?;
    let score = score_night(&truth, &events, sleep.as_ref(), &cfg)?;
    let text = if a.json {
        json(&score)? + "\n"
    } else {
        score.to_string()
    };
    emit(&text)
}

/// Writes to stdout; a closed pipe (`evaluate … | head`) ends the output quietly.
fn emit(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&raw) {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
