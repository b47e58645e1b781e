//! Scores detected events against the ground truth of simulated nights.
//!
//! ```text
//! cargo run --release --example evaluate -- night.truth.csv night.events.csv [--json]
//! cargo run --release --example evaluate -- --dir NIGHTS [--events night.events.csv] [--json]
//! cargo run --release --example evaluate -- --bench dev|held [--baseline] [--json PATH] [--markdown PATH] [--threads N]
//! cargo run --release --example evaluate -- --bench dev|held --seed-sets N [--json PATH] [--markdown PATH]
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
//! night's sensor files (`night.csv`, or `night.<site>.csv` for several sensors) — see
//! `run_crate_detector` below, where it plugs in.
//!
//! A benchmark: `--bench dev` (the development nights, for tuning) or `--bench held` (the
//! held-out nights, for claims) are simulated in memory and run through the crate's
//! detector; with `--baseline`, the Python yardstick (`bench/baseline_py.py` in the shared
//! directory: `--shared DIR`, else `$SLEEPTWITCH_SHARED`, else `../shared`; it needs
//! `pip install numpy scipy pandas`) runs on the same nights, written to temporary CSV
//! files. The markdown table — targets met or missed, pooled classes, groups, nights, both
//! detectors side by side — goes to stdout (and to `--markdown PATH`); `--json PATH` writes
//! every figure. Progress goes to stderr.
//!
//! Seed sets: `--seed-sets N` runs the benchmark's nights N more times with fresh seeds
//! (seeds + 1 000 000, + 2 000 000, … on top of `--seed-shift`) and gives each target's
//! spread: the figure over all those nights pooled, the sets' mean and range, and how many
//! sets meet it (`sleeptwitch::eval::SeedSpread`). A claim for the detector should hold there
//! as well as on the benchmark's own seeds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sleeptwitch::eval::{
    evaluate_dir, read_json, run_bench, score_night, AccuracyTable, Baseline, BenchOptions,
    DetectedSleep, Detection, EvalConfig, NightDir, SeedSpread, TruthNight,
};
use sleeptwitch::io::{read_events, CsvReader};
use sleeptwitch::sim::{dev_benchmark, held_out_benchmark, SimConfig};
use sleeptwitch::{
    Config, Detector, Error, ErrorKind, Event, ScoringRule, SeriesConfig, Site, Source,
};

const USAGE: &str = "\
usage: evaluate TRUTH.csv EVENTS.csv [--truth-json PATH] [--summary PATH] [OPTIONS]
       evaluate --dir DIR [--events NAME] [OPTIONS]
       evaluate --bench dev|held [--baseline] [BENCH OPTIONS]

options:
  --json             print JSON instead of a table
  --rule R           series rules for the night metrics: wasm2016 or aasm2012
                     (default: the rule named in the truth JSON, else wasm2016)
  --truth-json PATH  truth JSON (default: TRUTH.json beside TRUTH.csv, if present)
  --summary PATH     detector summary JSON with sleep_bouts and/or sleep_onsets_s
  --events NAME      with --dir: score each night's saved events file NAME

bench options:
  --baseline         also run the Python yardstick on the same nights
  --shared DIR       directory holding bench/baseline_py.py
                     (default: $SLEEPTWITCH_SHARED, else ../shared)
  --json PATH        write every figure as JSON to PATH
  --markdown PATH    write the markdown table to PATH too
  --threads N        nights run in parallel (default: one per core)
  --only TEXT        only the nights whose name contains TEXT
  --seed-shift N     add N to every night's seed (fresh nights of the same configs)
  --seed-sets N      run N sets of fresh seeds (+1000000, +2000000, ... on top of
                     --seed-shift) and report each target's spread over them
  --config FILE      the detector's config (TOML or JSON, naming only what changes),
                     for the bench and for --dir without --events; default: the defaults
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
    bench: Option<String>,
    baseline: bool,
    shared: Option<PathBuf>,
    json_path: Option<PathBuf>,
    markdown_path: Option<PathBuf>,
    threads: usize,
    only: Option<String>,
    seed_shift: u64,
    seed_sets: u64,
    detector_config: Option<PathBuf>,
}

fn parse(raw: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    // In bench mode `--json` names a file; elsewhere it is a switch.
    let bench_mode = raw.iter().any(|r| r == "--bench");
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--json" if bench_mode => a.json_path = Some(value(arg)?.into()),
            "--json" => a.json = true,
            "--bench" => a.bench = Some(value(arg)?),
            "--baseline" => a.baseline = true,
            "--shared" => a.shared = Some(value(arg)?.into()),
            "--markdown" => a.markdown_path = Some(value(arg)?.into()),
            "--only" => a.only = Some(value(arg)?),
            "--config" => a.detector_config = Some(value(arg)?.into()),
            "--threads" => {
                let v = value(arg)?;
                a.threads = v
                    .parse()
                    .map_err(|_| format!("--threads: expected a count, found {v:?}"))?;
            }
            "--seed-shift" => {
                let v = value(arg)?;
                a.seed_shift = v
                    .parse()
                    .map_err(|_| format!("--seed-shift: expected a count, found {v:?}"))?;
            }
            "--seed-sets" => {
                let v = value(arg)?;
                a.seed_sets = v.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!("--seed-sets: expected a count of 1 or more, found {v:?}")
                })?;
            }
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
    if let Some(b) = &a.bench {
        if !matches!(b.as_str(), "dev" | "held") {
            return Err(format!("--bench: expected dev or held, found {b:?}"));
        }
        if a.dir.is_some() || !a.positional.is_empty() {
            return Err("--bench takes no --dir, TRUTH.csv or EVENTS.csv".into());
        }
        return Ok(a);
    }
    if a.baseline
        || a.shared.is_some()
        || a.markdown_path.is_some()
        || a.only.is_some()
        || a.seed_sets > 0
    {
        return Err(
            "--baseline, --shared, --markdown, --only and --seed-sets go with --bench".into(),
        );
    }
    match (&a.dir, a.positional.len()) {
        (Some(_), 0) | (None, 2) => Ok(a),
        (Some(_), _) => Err("--dir takes no TRUTH.csv or EVENTS.csv".into()),
        (None, _) => Err("expected TRUTH.csv and EVENTS.csv, or --dir DIR".into()),
    }
}

/// Runs the crate's detector on one night's sensor files.
///
/// This is where the crate's streaming detector plugs in: each sensor file becomes a
/// `Source`, and `Detector::run` pushes them in step (any other `Detect` implementation
/// plugs in through `sleeptwitch::eval::run_detector`). The site of `night.<site>.csv` is
/// read from its name; a lone `night.csv` is an ankle. The files are streamed through the
/// crate's `CsvReader`.
fn run_crate_detector(night: &NightDir, config: &Config) -> Result<Detection, Error> {
    let mut sites = Vec::new();
    let mut readers = Vec::new();
    for path in &night.sensor_files {
        let site = site_of_file(path)?;
        let reader = CsvReader::from_path(path)?;
        sites.push((site, reader.info().rate.rate_hz));
        readers.push(reader);
    }
    if sites.is_empty() {
        return Err(Error::new(ErrorKind::Other(format!(
            "night {:?}: no sensor file (night.csv or night.<site>.csv)",
            night.name
        ))));
    }
    let mut detector = Detector::with_sites(config, &sites)?;
    let mut refs: Vec<&mut CsvReader<std::fs::File>> = readers.iter_mut().collect();
    let mut events: Vec<Event> = Vec::new();
    let summary = detector.run(&mut refs, 4096, &mut events)?;
    Ok(Detection {
        events,
        sleep: Some(DetectedSleep {
            sleep_onsets_s: Some(summary.sleep_bouts.iter().map(|b| b.start_s).collect()),
            sleep_bouts: Some(summary.sleep_bouts),
        }),
    })
}

/// The site a sensor file's name gives: `night.csv` is an ankle, `night.<site>.csv` names it.
fn site_of_file(path: &Path) -> Result<Site, Error> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "night.csv" {
        return Ok(Site::Ankle);
    }
    let middle = name
        .strip_prefix("night.")
        .and_then(|r| r.strip_suffix(".csv"))
        .unwrap_or("");
    Site::ALL
        .into_iter()
        .find(|s| s.as_str() == middle)
        .ok_or_else(|| {
            Error::new(ErrorKind::Other(
                "no site in the file name (night.csv or night.<site>.csv, site one of \
                 ankle, left_ankle, right_ankle, wrist)"
                    .into(),
            ))
            .in_file(path)
        })
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

/// Writes to stdout; a reader that stopped early (`| head`) is not an error.
fn emit(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::new(ErrorKind::Write(e))),
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string_pretty(v).map_err(|e| Error::new(ErrorKind::Other(e.to_string())))
}

/// Seeds of one seed set apart from the next.
const SEED_SET_STEP: u64 = 1_000_000;

/// Runs a benchmark: the crate's detector and, with `--baseline`, the yardstick; with
/// `--seed-sets`, over that many sets of fresh seeds.
fn run_benchmark(a: &Args, which: &str) -> Result<(), Error> {
    let start = std::time::Instant::now();
    // The nights, the detector's config and the yardstick are the same for every seed set.
    let mut nights = if which == "held" {
        held_out_benchmark()
    } else {
        dev_benchmark()
    };
    if let Some(only) = &a.only {
        nights.retain(|n| n.name.contains(only.as_str()));
    }
    if nights.is_empty() {
        return Err(Error::new(ErrorKind::Other(
            "--only matches no night".into(),
        )));
    }
    let baseline = if a.baseline {
        let b = match &a.shared {
            Some(dir) => Baseline::in_shared(dir),
            None => Baseline::from_env(),
        };
        b.check()?;
        Some(b)
    } else {
        None
    };
    let bench = Bench {
        which,
        nights: &nights,
        config: &detector_config(a)?,
        opts: &BenchOptions {
            threads: a.threads,
            baseline,
            ..BenchOptions::default()
        },
    };
    let (md, json_text, n_nights) = if a.seed_sets == 0 {
        let table = bench.table(a.seed_shift)?;
        (table.to_markdown(), json(&table)?, table.nights.len())
    } else {
        let shifts: Vec<u64> = (1..=a.seed_sets)
            .map(|k| a.seed_shift.wrapping_add(k.wrapping_mul(SEED_SET_STEP)))
            .collect();
        let tables = shifts
            .iter()
            .map(|&shift| bench.table(shift))
            .collect::<Result<Vec<_>, Error>>()?;
        let spread = SeedSpread::new(which, shifts, &tables)?;
        let n = tables.iter().map(|t| t.nights.len()).sum();
        (spread.to_markdown(), json(&spread)?, n)
    };
    eprintln!(
        "{n_nights} nights in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    emit(&md)?;
    let write =
        |path: &Path, text: &str| std::fs::write(path, text).map_err(|e| Error::write(e, path));
    if let Some(p) = &a.markdown_path {
        write(p, &md)?;
    }
    if let Some(p) = &a.json_path {
        write(p, &json_text)?;
    }
    Ok(())
}

/// A benchmark's nights, the detector's config and the run's options.
struct Bench<'a> {
    which: &'a str,
    nights: &'a [SimConfig],
    config: &'a Config,
    opts: &'a BenchOptions,
}

impl Bench<'_> {
    /// The nights with `seed_shift` added to their seeds, run and tabulated.
    fn table(&self, seed_shift: u64) -> Result<AccuracyTable, Error> {
        let nights: Vec<SimConfig> = self
            .nights
            .iter()
            .map(|n| SimConfig {
                seed: n.seed.wrapping_add(seed_shift),
                ..n.clone()
            })
            .collect();
        let which = self.which;
        let label = if seed_shift == 0 {
            which.to_string()
        } else {
            format!("{which} (seeds + {seed_shift})")
        };
        run_bench(&label, &nights, self.config, self.opts, &|det, night, s| {
            eprintln!("{det:>12} {night:<40} {s:6.1} s");
        })
    }
}

/// The detector's config: `--config FILE` (TOML or JSON, naming only what changes), else
/// the defaults.
fn detector_config(a: &Args) -> Result<Config, Error> {
    a.detector_config
        .as_deref()
        .map_or_else(|| Ok(Config::default()), Config::from_file)
}

fn run(a: &Args) -> Result<(), Error> {
    if let Some(which) = &a.bench {
        return run_benchmark(a, which);
    }
    let cfg = config(a.rule);
    if let Some(dir) = &a.dir {
        let detector = detector_config(a)?;
        let report = evaluate_dir(dir, &cfg, &mut |night| match &a.events_name {
            Some(name) => saved_events(night, name),
            None => run_crate_detector(night, &detector),
        })?;
        if a.json {
            emit(&format!("{}\n", json(&report)?))?;
        } else {
            emit(&report.to_string())?;
        }
        return Ok(());
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
    if a.json {
        emit(&format!("{}\n", json(&score)?))?;
    } else {
        emit(&score.to_string())?;
    }
    Ok(())
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
