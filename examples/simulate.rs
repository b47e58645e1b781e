//! Writes a simulated night with its ground truth.
//!
//! ```text
//! cargo run --release --example simulate -- --seed 7 --hours 8 --rate 100 --site ankle OUT_DIR
//! ```
//!
//! Writes `night.csv` (`t,x,y,z`, seconds and g; with `--bilateral`, `night.left_ankle.csv`,
//! `night.right_ankle.csv` and `night.wrist.csv`), `night.truth.csv` and `night.truth.json`.
//! The same options and seed give byte-identical files.
//!
//! Exit status: 0 on success, 1 when the night cannot be made (a value out of its range) or
//! written, 2 on bad usage (an unknown option, a value that is not a number, no OUT_DIR).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use sleeptwitch::sim::{parse_difficulty, parse_rule, Layout, Night, SimConfig};

const USAGE: &str = "\
usage: simulate [OPTIONS] OUT_DIR

Writes a simulated night (night.csv or, with --bilateral, night.left_ankle.csv,
night.right_ankle.csv and night.wrist.csv) with night.truth.csv and night.truth.json.

options:
  --seed N               seed of every random draw (default 1)
  --hours H              recording length, 1 to 48 h (default 8)
  --rate HZ              nominal sample rate (default 100)
  --site ankle|wrist     where the single sensor is worn (default ankle)
  --bilateral            left ankle, right ankle and wrist of the same night
  --difficulty D         easy, hard, or 0 to 1 (default 0.4)
  --severity S           none, mild, moderate or severe PLM (default mild)
  --rule R               wasm2016 or aasm2012 (default wasm2016)
  --noise-mg X           white noise per axis, mg (default 2 + 8 x difficulty)
  --bits N               resolution over the range, 8 to 16 bits (default 12: 1/256 g at 8 g)
  --range-g G            range, 2, 4, 8 or 16 g (default 8)
  --jitter-ms X          time-stamp jitter, ms (default 0)
  --rate-error-ppm X     device clock error (default 0)
  --drift-mg X           largest offset drift over the night, mg (default 0)
  --gaps                 drop a few quiet stretches of samples
  --epoch-start T        start the clock at Unix time T s instead of 0
  --time-decimals N      decimals of the time column, 3 to 6 (default 3)
  --config FILE.json     start from a SimConfig in JSON (options given after it override)
  --print-config         print the resolved config as JSON and exit
";

fn value<'a>(args: &'a [String], i: &mut usize, name: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| format!("{name} needs a value"))
}

fn number(s: &str, name: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{name}: expected a number, found {s:?}"))
}

fn parse(args: &[String]) -> Result<(SimConfig, Option<PathBuf>, bool), String> {
    let mut cfg = SimConfig::default();
    let mut out = None;
    let mut print = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-h" | "--help" => return Err(String::new()),
            "--seed" => {
                let v = value(args, &mut i, a)?;
                cfg.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: expected a whole number, found {v:?}"))?;
            }
            "--hours" => cfg.duration_h = number(value(args, &mut i, a)?, a)?,
            "--rate" => cfg.rate_hz = number(value(args, &mut i, a)?, a)?,
            "--site" => {
                let v = value(args, &mut i, a)?;
                cfg.layout = match v {
                    "ankle" => Layout::Ankle,
                    "wrist" => Layout::Wrist,
                    _ => return Err(format!("--site: expected ankle or wrist, found {v:?}")),
                };
            }
            "--bilateral" => cfg.layout = Layout::Bilateral,
            "--difficulty" => cfg.difficulty = parse_difficulty(value(args, &mut i, a)?)?,
            "--severity" => cfg.severity = value(args, &mut i, a)?.parse()?,
            "--rule" => cfg.rule = parse_rule(value(args, &mut i, a)?)?,
            "--noise-mg" => cfg.sensor.noise_mg = Some(number(value(args, &mut i, a)?, a)?),
            "--bits" => {
                let v = value(args, &mut i, a)?;
                cfg.sensor.bits = v
                    .parse()
                    .map_err(|_| format!("--bits: expected a whole number, found {v:?}"))?;
            }
            "--range-g" => cfg.sensor.range_g = number(value(args, &mut i, a)?, a)?,
            "--jitter-ms" => cfg.sensor.jitter_ms = number(value(args, &mut i, a)?, a)?,
            "--rate-error-ppm" => cfg.sensor.rate_error_ppm = number(value(args, &mut i, a)?, a)?,
            "--drift-mg" => cfg.sensor.drift_max_g = number(value(args, &mut i, a)?, a)? / 1000.0,
            "--gaps" => cfg.sensor.gaps = true,
            "--epoch-start" => cfg.sensor.epoch_start_s = Some(number(value(args, &mut i, a)?, a)?),
            "--time-decimals" => {
                let v = value(args, &mut i, a)?;
                cfg.sensor.time_decimals = v
                    .parse()
                    .map_err(|_| format!("--time-decimals: expected 3 to 6, found {v:?}"))?;
            }
            "--config" => {
                let path = value(args, &mut i, a)?;
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                cfg = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            }
            "--print-config" => print = true,
            _ if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ => {
                if out.is_some() {
                    return Err(format!("more than one output directory ({a})"));
                }
                out = Some(PathBuf::from(a));
            }
        }
        i += 1;
    }
    Ok((cfg, out, print))
}

fn run(cfg: &SimConfig, out: &Path) -> Result<(), String> {
    let t0 = Instant::now();
    let night = Night::new(cfg).map_err(|e| e.to_string())?;
    let planned = t0.elapsed();
    let paths = night.write_to_dir(out).map_err(|e| e.to_string())?;
    let total = t0.elapsed();
    let m = &night.truth().metrics;
    for p in &paths {
        println!("wrote {}", p.display());
    }
    println!(
        "{:.1} h at {} Hz, {}, difficulty {}, severity {}: TST {:.2} h, PLMSI {:.1}/h \
         (PLMS {}, PLMW {}, series {}), LM {}, hypnic jerks {}, posture changes {}, \
         activity {}, twitches {}, tremor trains {}, ALMA {}",
        cfg.duration_h,
        cfg.rate_hz,
        cfg.layout,
        cfg.difficulty,
        cfg.severity,
        m.total_sleep_s / 3600.0,
        m.plmsi_per_h,
        m.n_plms,
        m.n_plmw,
        m.n_series,
        m.n_lm,
        m.n_hypnic_jerks,
        m.n_posture_changes,
        m.n_activity,
        m.n_twitches,
        m.n_tremor_trains,
        m.n_alma
    );
    println!(
        "planned in {:.3} s, written in {:.2} s",
        planned.as_secs_f64(),
        (total - planned).as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = |e: &str| {
        eprintln!("error: {e}");
        eprintln!("run with --help for the options");
        ExitCode::from(2)
    };
    let (cfg, out) = match parse(&args) {
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage(&e),
        Ok((cfg, _, true)) => {
            return match serde_json::to_string_pretty(&cfg) {
                Ok(j) => {
                    println!("{j}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Ok((_, None, false)) => return usage("no output directory given"),
        Ok((cfg, Some(out), false)) => (cfg, out),
    };
    match run(&cfg, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
