//! Puts simulated nights next to real recordings: sampling, quantisation step, noise floor
//! and |a|, as a Markdown table, and optionally an SVG figure.
//!
//! ```text
//! cargo run --release --example sim_vs_real -- --svg docs/sim-vs-real.svg \
//!     ../shared/data/matrix_100hz_6min_mostly_still.csv \
//!     ../shared/data/actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.csv \
//!     ../shared/data/ax3_right_wrist_100hz_3min.csv
//! ```
//!
//! Exit status: 0 on success, 1 when a file cannot be read or the picture written, 2 on
//! bad usage (an unknown option, a missing value).
//!
//! Real files are read as `t,x,y,z` (seconds, g) with a small parser of its own. The
//! noise floor follows the data README: standard deviation of |a| over the quietest gap-free
//! 60 s window (10 s steps), with the per-axis standard deviations of that window.
// An example: errors go to stderr with exit code 1; indexing is on lengths checked just before.
#![allow(clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use sleeptwitch::sim::{Night, SensorConfig, SimConfig};
use sleeptwitch::{Kind, Sample, Site};

fn read_csv(path: &Path) -> Result<Vec<Sample>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<f64> = line
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        if f.len() < 4 {
            return Err(format!("{}:{}: expected t,x,y,z", path.display(), i + 1));
        }
        out.push(Sample::new(f[0], [f[1], f[2], f[3]]));
    }
    if out.len() < 100 {
        return Err(format!("{}: fewer than 100 samples", path.display()));
    }
    Ok(out)
}

struct Stats {
    n: usize,
    span_s: f64,
    rate_hz: f64,
    dt_sd_ms: f64,
    gaps: usize,
    step_mg: [f64; 3],
    floor60_mg: Option<(f64, [f64; 3])>,
    floor10_mg: f64,
    median_norm_g: f64,
}

fn sd(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = v.clone().count() as f64;
    let m = v.clone().sum::<f64>() / n;
    (v.map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Smallest spacing between distinct values on an axis: the quantisation step.
fn step(s: &[Sample], k: usize) -> f64 {
    let mut v: Vec<f64> = s.iter().map(|x| x.acc_g[k]).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v.windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 1e-12)
        .fold(f64::INFINITY, f64::min)
}

/// (SD of |a|, per-axis SDs) of the quietest gap-free window of `len_s`, in 10 s steps.
fn quietest(s: &[Sample], len_s: f64, gap_s: f64) -> Option<(f64, [f64; 3])> {
    let (t0, t1) = (s[0].t_s, s[s.len() - 1].t_s);
    let mut best: Option<(f64, [f64; 3])> = None;
    let mut a = t0;
    while a + len_s <= t1 {
        let i = s.partition_point(|x| x.t_s < a);
        let j = s.partition_point(|x| x.t_s < a + len_s);
        let w = &s[i..j];
        let gap_free = w.windows(2).all(|p| p[1].t_s - p[0].t_s <= gap_s);
        // The samples must cover the window, not stop at an idle gap just after it.
        let covered = w.len() > 10 && w[w.len() - 1].t_s - w[0].t_s >= len_s - gap_s;
        if covered && gap_free {
            let f = sd(w.iter().map(Sample::norm_g));
            if best.is_none_or(|b| f < b.0) {
                let ax = [0, 1, 2].map(|k| sd(w.iter().map(|x| x.acc_g[k])));
                best = Some((f, ax));
            }
        }
        a += 10.0;
    }
    best
}

/// Start of the quietest covered, gap-free window of `len_s` (10 s steps).
fn quietest_start(s: &[Sample], len_s: f64, gap_s: f64) -> f64 {
    let (t0, t1) = (s[0].t_s, s[s.len() - 1].t_s);
    let mut best = (f64::INFINITY, t0);
    let mut a = t0;
    while a + len_s <= t1 {
        let i = s.partition_point(|x| x.t_s < a);
        let j = s.partition_point(|x| x.t_s < a + len_s);
        let w = &s[i..j];
        let ok = w.len() > 10
            && w[w.len() - 1].t_s - w[0].t_s >= len_s - gap_s
            && w.windows(2).all(|p| p[1].t_s - p[0].t_s <= gap_s);
        if ok {
            let f = sd(w.iter().map(Sample::norm_g));
            if f < best.0 {
                best = (f, a);
            }
        }
        a += 10.0;
    }
    best.1
}

fn stats(s: &[Sample]) -> Stats {
    let dts: Vec<f64> = s.windows(2).map(|w| w[1].t_s - w[0].t_s).collect();
    let med = median(dts.clone());
    let gap_s = (5.0 * med).max(1.0);
    let ok: Vec<f64> = dts.iter().copied().filter(|d| *d <= gap_s).collect();
    let mean_dt = ok.iter().sum::<f64>() / ok.len() as f64;
    Stats {
        n: s.len(),
        span_s: s[s.len() - 1].t_s - s[0].t_s,
        rate_hz: 1.0 / mean_dt,
        dt_sd_ms: sd(ok.iter().copied()) * 1000.0,
        gaps: dts.len() - ok.len(),
        step_mg: [0, 1, 2].map(|k| step(s, k) * 1000.0),
        floor60_mg: quietest(s, 60.0, gap_s).map(|(f, a)| (f * 1000.0, a.map(|x| x * 1000.0))),
        floor10_mg: quietest(s, 10.0, gap_s).map_or(f64::NAN, |(f, _)| f * 1000.0),
        median_norm_g: median(s.iter().map(Sample::norm_g).collect()),
    }
}

fn row(name: &str, st: &Stats) -> String {
    let step = if (st.step_mg[0] - st.step_mg[1]).abs() < 1e-6
        && (st.step_mg[0] - st.step_mg[2]).abs() < 1e-6
    {
        format!("{:.3}", st.step_mg[0])
    } else {
        format!(
            "{:.2} / {:.2} / {:.2}",
            st.step_mg[0], st.step_mg[1], st.step_mg[2]
        )
    };
    let floor = match st.floor60_mg {
        Some((f, a)) => format!("{f:.1} ({:.1} / {:.1} / {:.1})", a[0], a[1], a[2]),
        None => "no still minute".to_string(),
    };
    format!(
        "| {name} | {} | {:.0} | {:.2} | {:.2} | {} | {step} | {floor} | {:.1} | {:.3} |\n",
        st.n, st.span_s, st.rate_hz, st.dt_sd_ms, st.gaps, st.floor10_mg, st.median_norm_g
    )
}

const COLOURS: [&str; 3] = ["#d62728", "#2ca02c", "#1f77b4"];
/// Width of a panel's plot area, in pixels (one min/max pair per column).
const WIDTH_PX: usize = 840;

/// A panel of x, y, z against time, with truth events shaded.
#[allow(clippy::too_many_arguments)]
fn panel(
    svg: &mut String,
    top: f64,
    title: &str,
    s: &[Sample],
    t0: f64,
    t1: f64,
    centre: bool,
    scale_g: f64,
    events: &[(f64, f64, &str)],
) {
    let (left, width, height) = (60.0, WIDTH_PX as f64, 150.0);
    let i = s.partition_point(|x| x.t_s < t0);
    let j = s.partition_point(|x| x.t_s < t1);
    let w = &s[i..j];
    if w.is_empty() {
        return;
    }
    let means = [0, 1, 2].map(|k| {
        if centre {
            w.iter().map(|x| x.acc_g[k]).sum::<f64>() / w.len() as f64
        } else {
            0.0
        }
    });
    let x_of = |t: f64| left + (t - t0) / (t1 - t0) * width;
    let y_of = |v: f64| top + height / 2.0 - (v / scale_g).clamp(-1.0, 1.0) * height / 2.0;
    let _ = writeln!(
        svg,
        r##"<text x="{left}" y="{}" font-size="13">{title}</text>"##,
        top - 6.0
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#999"/>"##
    );
    for (a, b, label) in events {
        if *b < t0 || *a > t1 {
            continue;
        }
        let (xa, xb) = (x_of(a.max(t0)), x_of(b.min(t1)));
        let _ = writeln!(
            svg,
            r##"<rect x="{xa:.1}" y="{top}" width="{:.1}" height="{height}" fill="#fd0" fill-opacity="0.3"/><text x="{xa:.1}" y="{:.1}" font-size="9">{label}</text>"##,
            (xb - xa).max(1.0),
            top + 10.0
        );
    }
    for k in 0..3 {
        let mut pts = String::new();
        // Long stretches: the lowest and highest value of each pixel column, in time order,
        // so peaks survive and the file stays small.
        let cols = WIDTH_PX;
        if w.len() > 2 * cols {
            for c in 0..cols {
                let a = c * w.len() / cols;
                let b = ((c + 1) * w.len() / cols).min(w.len());
                let seg = &w[a..b.max(a + 1)];
                let (lo, hi) = seg.iter().fold((&seg[0], &seg[0]), |(lo, hi), x| {
                    (
                        if x.acc_g[k] < lo.acc_g[k] { x } else { lo },
                        if x.acc_g[k] > hi.acc_g[k] { x } else { hi },
                    )
                });
                let (first, second) = if lo.t_s <= hi.t_s { (lo, hi) } else { (hi, lo) };
                for x in [first, second] {
                    let _ = write!(
                        pts,
                        "{:.1},{:.1} ",
                        x_of(x.t_s),
                        y_of(x.acc_g[k] - means[k])
                    );
                }
            }
        } else {
            for x in w {
                let _ = write!(
                    pts,
                    "{:.1},{:.1} ",
                    x_of(x.t_s),
                    y_of(x.acc_g[k] - means[k])
                );
            }
        }
        let _ = writeln!(
            svg,
            r##"<polyline points="{pts}" fill="none" stroke="{}" stroke-width="0.7"/>"##,
            COLOURS[k]
        );
    }
    let unit = if scale_g < 0.1 {
        format!("±{:.0} mg", scale_g * 1000.0)
    } else {
        format!("±{scale_g} g")
    };
    let _ = writeln!(
        svg,
        r##"<text x="4" y="{:.1}" font-size="10">{unit}</text><text x="{left}" y="{:.1}" font-size="10">{:.0} s</text><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{:.0} s</text>"##,
        top + height / 2.0,
        top + height + 12.0,
        0.0,
        left + width,
        top + height + 12.0,
        t1 - t0
    );
}

const USAGE: &str = "\
usage: sim_vs_real [OPTIONS] [FILE.csv...]

Puts simulated nights next to real recordings: sampling, quantisation step, noise floor
and |a|, as a Markdown table on standard output. Each FILE is a CSV of t,x,y,z (a header
line, then seconds and g).

options:
  --svg PATH             also draw a simulated night beside the first real recording with
                         a still minute, as an SVG picture at PATH
  --plot-difficulty D    difficulty of the drawn night: easy, hard, or 0 to 1 (default 0)
  -h, --help             print this text
";

/// What the command line asks for.
struct Args {
    svg_path: Option<String>,
    plot_difficulty: f64,
    files: Vec<String>,
}

/// Reads the command line: `Ok(None)` for --help, `Err` on bad usage.
fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        svg_path: None,
        plot_difficulty: 0.0,
        files: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-h" | "--help" => return Ok(None),
            "--plot-difficulty" => {
                i += 1;
                let v = args.get(i).ok_or("--plot-difficulty needs a value")?;
                parsed.plot_difficulty = sleeptwitch::sim::parse_difficulty(v)?;
            }
            "--svg" => {
                i += 1;
                parsed.svg_path = Some(args.get(i).ok_or("--svg needs a file")?.clone());
            }
            _ if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ => parsed.files.push(a.to_string()),
        }
        i += 1;
    }
    Ok(Some(parsed))
}

fn run(args: Args) -> Result<(), String> {
    let Args {
        svg_path,
        plot_difficulty,
        files,
    } = args;
    let mut table = String::from(
        "| recording | samples | span s | rate Hz | dt SD ms | gaps | step mg | noise floor mg, quietest 60 s: \\|a\\| (x / y / z) | quietest 10 s mg | median \\|a\\| g |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut real_still: Option<(String, Vec<Sample>)> = None;
    for f in &files {
        let s = read_csv(Path::new(f))?;
        let name = Path::new(f)
            .file_name()
            .map_or(f.clone(), |n| n.to_string_lossy().into_owned());
        let st = stats(&s);
        table.push_str(&row(&name, &st));
        if real_still.is_none() && st.floor60_mg.is_some() {
            real_still = Some((name, s));
        }
    }
    let sims = [
        ("sim easy (2 mg), ankle, 100 Hz", SimConfig::easy(7)),
        ("sim default (5.2 mg), ankle, 100 Hz", SimConfig::new(7)),
        ("sim hard (10 mg), ankle, 100 Hz", SimConfig::hard(7)),
        (
            "sim default, wrist, 30 Hz, 1 ms jitter, clock -1.14 %",
            SimConfig {
                rate_hz: 30.0,
                layout: sleeptwitch::sim::Layout::Wrist,
                sensor: SensorConfig {
                    jitter_ms: 1.0,
                    rate_error_ppm: -11_400.0,
                    ..SensorConfig::default()
                },
                ..SimConfig::new(7)
            },
        ),
    ];
    let plotted = Night::new(&SimConfig {
        duration_h: 2.0,
        difficulty: plot_difficulty,
        ..SimConfig::new(7)
    })
    .map_err(|e| e.to_string())?;
    for (name, cfg) in sims {
        let cfg = SimConfig {
            duration_h: 2.0,
            ..cfg
        };
        let night = Night::new(&cfg).map_err(|e| e.to_string())?;
        let site = night.sites()[0];
        let s = night.samples(site);
        table.push_str(&row(name, &stats(&s)));
    }
    print!("{table}");
    if let Some(path) = svg_path {
        let night = &plotted;
        let sim = night.samples(Site::Ankle);
        let truth = night.truth();
        let mut svg = String::from(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="920" height="860" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="60" y="20" font-size="15">Simulated ankle night (difficulty DIFF, seed 7, 100 Hz) next to a real still recording; x red, y green, z blue</text>
"##,
        )
        .replace("DIFF", &plot_difficulty.to_string());
        // Panel 1: 10 s of a real still stretch, centred, at ±30 mg.
        if let Some((name, real)) = &real_still {
            let best = quietest_start(real, 10.0, 1.0);
            panel(
                &mut svg,
                50.0,
                &format!("real: {name}, quietest 10 s, each axis minus its mean"),
                real,
                best,
                best + 10.0,
                true,
                0.03,
                &[],
            );
        }
        // Panel 2: 10 s of simulated sleep without events, same scale.
        let mut t = truth.sleep_bouts.first().map_or(0.0, |b| b.start_s) + 60.0;
        while !truth
            .events
            .iter()
            .all(|e| e.event.offset_s < t - 1.0 || e.event.onset_s > t + 11.0)
        {
            t += 5.0;
        }
        panel(
            &mut svg,
            250.0,
            &format!(
                "simulated: 10 s of quiet sleep, each axis minus its mean ({:.1} mg noise, 3.9 mg steps)",
                night.config().noise_mg()
            ),
            &sim,
            t,
            t + 10.0,
            true,
            0.03,
            &[],
        );
        // Panel 3: four minutes around the first PLM series, in g.
        let start = truth
            .events
            .iter()
            .find(|e| e.event.kind == Kind::Plm)
            .map_or(t, |e| e.event.onset_s - 20.0);
        let events: Vec<(f64, f64, &str)> = truth
            .events
            .iter()
            .map(|e| (e.event.onset_s, e.event.offset_s, e.event.kind.as_str()))
            .collect();
        panel(
            &mut svg,
            450.0,
            "simulated: 240 s from the first PLM series, each axis minus its mean, truth shaded",
            &sim,
            start,
            start + 240.0,
            true,
            0.3,
            &events,
        );
        // Panel 4: the first posture change and the hypnic jerks near the first sleep onset.
        let onset = truth.sleep_onsets_s.first().copied().unwrap_or(0.0);
        panel(
            &mut svg,
            650.0,
            "simulated: 120 s around the first sleep onset (jerks, twitches), in g",
            &sim,
            onset - 40.0,
            onset + 80.0,
            false,
            1.5,
            &events,
        );
        svg.push_str("</svg>\n");
        std::fs::write(&path, svg).map_err(|e| format!("{path}: {e}"))?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("run with --help for the options");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
