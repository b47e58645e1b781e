//! Finds and names the movements of sleep in accelerometer recordings, night by night, and
//! writes what a sleep researcher opens: events CSV, summary JSON, a picture, a cohort table.
//!
//! ```text
//! cargo run --release --example analyze -- [OPTIONS] INPUT...
//! cargo run --release --example analyze -- night.csv --events ev.csv --summary s.json --plot night.svg
//! cargo run --release --example analyze -- left_ankle:L.cwa right_ankle:R.cwa wrist:W.cwa
//! cargo run --release --example analyze -- --out-dir results/ cohort/
//! ```
//!
//! The work is the library's ([`sleeptwitch::analysis`]); this file parses options, runs
//! nights (side by side on a thread pool when there are several), and writes outputs.
//!
//! Exit status: 0 when every night was analysed and written, 1 when any failed (the others
//! still are; each failure is one line on stderr naming file, line and cause, and a row of
//! `summary.csv`), 2 on bad usage.

mod args;
mod plot;
mod table;
mod trace;

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use sleeptwitch::analysis::{
    analyze_night_with, check_output_path, find_nights, group_nights, unique_names, write_cohort,
    write_whole, CohortRow, Input, NightInputs, NightReport, Options,
};
use sleeptwitch::config::SegmentConfig;
use sleeptwitch::io::{EventWriter, OpenOptions};
use sleeptwitch::series::SeriesConfig;
use sleeptwitch::{Config, Error, ErrorKind, Event, ScoringRule};

use args::{Args, IdleFillArg};
use trace::Trace;

/// What one night produced.
struct Done {
    night: NightInputs,
    result: Result<NightReport, Error>,
    /// Failures writing its outputs (the analysis itself succeeded).
    write_errors: Vec<Error>,
    seconds: f64,
    bytes: u64,
    /// Taken from the summary JSON a former run left in the output folder (`--resume`).
    resumed: bool,
}

/// Where a night's outputs go.
#[derive(Default)]
struct Outputs {
    events: Option<PathBuf>,
    summary: Option<PathBuf>,
    plot: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = match args::parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Printing the usage message can only fail if stderr is gone.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// A usage error: exit status 2.
struct Usage(String);

/// The detector config: the file's, then the command line's changes, checked against every
/// rule that holds at any rate. A value that breaks one is reported as the config's, naming
/// the file or the options that set it (`c.toml: config: ...`), not as a recording's.
fn config(args: &Args) -> Result<Config, String> {
    let mut c = match &args.config {
        Some(p) => Config::from_file(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    let from_file = c.segment.clone();
    if let Some(rule) = args.rule {
        let rule = ScoringRule::from(rule);
        if c.series.rule != rule {
            c.series = match rule {
                ScoringRule::Wasm2016 => SeriesConfig::wasm2016(),
                ScoringRule::Aasm2012 => SeriesConfig::aasm2012(),
            };
        }
    }
    if let Some(x) = args.on_factor {
        c.segment.on_factor = x;
    }
    if let Some(x) = args.off_factor {
        c.segment.off_factor = x;
    }
    if let Err(e) = c.validate_fields() {
        return Err(format!(
            "{}: config: {e}",
            config_source(args, &from_file, e.field)
        ));
    }
    // Checked against the rules that depend on the rate when each detector is built.
    Ok(c)
}

/// Where a config field that breaks its rule was set: the options that set the movement
/// thresholds, for those, with the file if it changed them too; else the file.
fn config_source(args: &Args, from_file: &SegmentConfig, field: &str) -> String {
    let mut parts = Vec::new();
    if matches!(field, "segment.on_factor" | "segment.off_factor") {
        let default = SegmentConfig::default();
        let file_set = from_file.on_factor.to_bits() != default.on_factor.to_bits()
            || from_file.off_factor.to_bits() != default.off_factor.to_bits();
        if let (Some(p), true) = (&args.config, file_set) {
            parts.push(p.display().to_string());
        }
        if let Some(x) = args.on_factor {
            parts.push(format!("--on-factor {x}"));
        }
        if let Some(x) = args.off_factor {
            parts.push(format!("--off-factor {x}"));
        }
    }
    match (&args.config, parts.is_empty()) {
        (Some(p), true) => p.display().to_string(),
        (None, true) => "the default config".into(),
        _ => parts.join(" with "),
    }
}

/// The nights named by the command line, in its order: folders searched, files grouped.
fn nights(args: &Args) -> Result<Vec<NightInputs>, Error> {
    let mut nights = Vec::new();
    let mut files: Vec<Input> = Vec::new();
    for arg in &args.inputs {
        let input = Input::parse_checked(arg)?;
        if !input.site_given && input.path.is_dir() {
            nights.extend(group_nights(files.drain(..)));
            nights.extend(find_nights(&input.path)?);
        } else {
            files.push(input);
        }
    }
    nights.extend(group_nights(files));
    let names = unique_names(nights.iter().map(|n| n.name.as_str()));
    for (n, name) in nights.iter_mut().zip(names) {
        n.name = name;
    }
    Ok(nights)
}

/// Runs everything; `Ok(false)` when some night failed.
fn run(args: &Args) -> Result<bool, Usage> {
    let config = match config(args) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Ok(false);
        }
    };
    let nights = match nights(args) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(false);
        }
    };
    if nights.is_empty() {
        return Err(Usage("no recordings found in the inputs given".into()));
    }
    if args.read_only {
        return Ok(read_only(args, &nights));
    }
    let single = nights.len() == 1;
    if !single && (args.events.is_some() || args.summary.is_some() || args.plot.is_some()) {
        return Err(Usage(format!(
            "--events, --summary and --plot take one night and {} were given; use --out-dir",
            nights.len()
        )));
    }
    if let Some(dir) = &args.out_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("error: {}: cannot create the folder: {e}", dir.display());
            return Ok(false);
        }
    }
    // A missing output folder is found now, not after the analysis.
    for path in [&args.events, &args.summary, &args.plot]
        .into_iter()
        .flatten()
    {
        if let Err(e) = check_output_path(path) {
            eprintln!("error: {e}");
            return Ok(false);
        }
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let options = Options {
        open: OpenOptions {
            units: args.units.map(Into::into),
            // One night: parse on a second thread while detecting. Several: one thread per
            // night, nights side by side.
            csv_threads: Some(if single { threads.min(2) } else { 1 }),
            csv_block_size_bytes: args.block_size,
            idle_fill: args.idle_fill.map(IdleFillArg::on),
        },
        ..Options::default()
    };
    let outputs = |n: &NightInputs| -> Outputs {
        match &args.out_dir {
            Some(dir) => Outputs {
                events: Some(dir.join(format!("{}.events.csv", n.name))),
                summary: Some(dir.join(format!("{}.summary.json", n.name))),
                plot: Some(dir.join(format!("{}.svg", n.name))),
            },
            None => Outputs {
                events: args.events.clone(),
                summary: args.summary.clone(),
                plot: args.plot.clone(),
            },
        }
    };

    let bar = progress(nights.len(), args.quiet);
    let work = |n: NightInputs| -> Done {
        let taken = (args.resume)
            .then(|| finished(&n, &config, &options.open, &outputs(&n)))
            .flatten();
        let done = match taken {
            Some(report) => Done {
                night: n,
                result: Ok(report),
                write_errors: Vec::new(),
                seconds: 0.0,
                bytes: 0,
                resumed: true,
            },
            None => analyze(n, &config, &options, &outputs),
        };
        bar.inc(1);
        done
    };
    let done: Vec<Done> = if single || threads == 1 {
        nights.into_iter().map(work).collect()
    } else {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(|| nights.into_par_iter().map(work).collect()),
            Err(e) => {
                eprintln!("error: cannot start {threads} threads: {e}");
                return Ok(false);
            }
        }
    };
    bar.finish_and_clear();
    if let (true, Some(dir)) = (args.resume, &args.out_dir) {
        let n = done.iter().filter(|d| d.resumed).count();
        eprintln!(
            "resumed: {n} of {} nights taken from {} as a former run finished them",
            done.len(),
            dir.display()
        );
    }

    report(args, &done)
}

/// The night's report, when a former run with this config, these reading options and this
/// version finished its outputs: its summary JSON (written last) reads back as this night's,
/// and its events and picture are there.
fn finished(
    night: &NightInputs,
    config: &Config,
    reading: &OpenOptions,
    out: &Outputs,
) -> Option<NightReport> {
    let summary = out.summary.as_ref()?;
    let report = NightReport::finished(summary, &night.name, &night.inputs, config, reading)?;
    [&out.events, &out.plot]
        .into_iter()
        .flatten()
        .all(|p| p.is_file())
        .then_some(report)
}

/// Prints tables or JSON, errors, and writes the cohort table; `Ok(false)` if anything failed.
fn report(args: &Args, done: &[Done]) -> Result<bool, Usage> {
    let mut ok = true;
    let mut stdout = std::io::stdout().lock();
    let mut json = Vec::new();
    let mut first = true;
    for d in done {
        match &d.result {
            Ok(r) if args.json => json.push(r),
            Ok(r) => {
                if !first {
                    let _ = writeln!(stdout);
                }
                first = false;
                let header = match d.night.inputs.as_slice() {
                    [one] => one.path.display().to_string(),
                    many => format!(
                        "{}: {}",
                        d.night.name,
                        many.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                };
                let secs = args.timing.then_some(d.seconds);
                let _ = write!(stdout, "{}", table::night(&header, r, secs, d.bytes));
            }
            Err(e) => {
                ok = false;
                eprintln!("error: {e}");
            }
        }
        for e in &d.write_errors {
            ok = false;
            eprintln!("error: {e}");
        }
    }
    if args.json {
        let text = match json.as_slice() {
            [one] => serde_json::to_string_pretty(one),
            many => serde_json::to_string_pretty(many),
        };
        match text {
            Ok(t) => {
                let _ = writeln!(stdout, "{t}");
            }
            Err(e) => {
                ok = false;
                eprintln!("error: summary JSON: {e}");
            }
        }
    }
    if let Some(dir) = &args.out_dir {
        let rows: Vec<CohortRow> = done
            .iter()
            .map(|d| match &d.result {
                Ok(r) => CohortRow::ok(&d.night.name, &d.night.inputs, r),
                Err(e) => CohortRow::failed(&d.night.name, &d.night.inputs, e),
            })
            .collect();
        let path = dir.join("summary.csv");
        let written = File::create(&path)
            .map_err(|e| Error::write(e, &path))
            .and_then(|f| write_cohort(BufWriter::new(f), &rows));
        if let Err(e) = written {
            ok = false;
            eprintln!("error: {}", e.in_file(&path));
        }
    }
    Ok(ok)
}

/// Reads every recording and prints what it holds; `false` if any failed.
fn read_only(args: &Args, nights: &[NightInputs]) -> bool {
    let threads = args.threads.unwrap_or(2).clamp(1, 2);
    let options = OpenOptions {
        units: args.units.map(Into::into),
        csv_threads: Some(threads),
        csv_block_size_bytes: args.block_size,
        idle_fill: args.idle_fill.map(IdleFillArg::on),
    };
    let mut ok = true;
    let mut first = true;
    for input in nights.iter().flat_map(|n| &n.inputs) {
        let start = Instant::now();
        let read = || -> Result<sleeptwitch::RecordingInfo, Error> {
            let mut source = sleeptwitch::io::open(&input.path, &options)?;
            let mut chunk = vec![sleeptwitch::Sample::default(); 4096];
            while source.read_samples(&mut chunk)? > 0 {}
            Ok(source.info().clone())
        };
        match read() {
            Ok(info) => {
                let seconds = start.elapsed().as_secs_f64();
                let bytes = std::fs::metadata(&input.path).map_or(0, |m| m.len());
                if !first {
                    println!();
                }
                first = false;
                let path = input.path.display().to_string();
                let secs = args.timing.then_some(seconds);
                print!("{}", table::read_only(&path, &info, secs, bytes));
            }
            Err(e) => {
                ok = false;
                eprintln!("error: {e}");
            }
        }
    }
    ok
}

/// A bar of nights done, drawn only on a terminal, for more than one night.
fn progress(n: usize, quiet: bool) -> ProgressBar {
    if quiet || n < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} nights, {elapsed} (about {eta} left)")
    {
        bar.set_style(style);
    }
    bar
}

/// Analyses one night and writes its outputs.
fn analyze(
    night: NightInputs,
    config: &Config,
    options: &Options,
    outputs: &(dyn Fn(&NightInputs) -> Outputs + Sync),
) -> Done {
    let start = Instant::now();
    let out = outputs(&night);
    let bytes = night
        .inputs
        .iter()
        .map(|i| std::fs::metadata(&i.path).map_or(0, |m| m.len()))
        .sum();
    let want_plot = out.plot.is_some();
    let mut traces: Vec<Trace> = night.inputs.iter().map(|_| Trace::new()).collect();
    let mut events: Vec<Event> = Vec::new();
    let result = analyze_night_with(
        &night.inputs,
        config,
        options,
        &mut events,
        &mut |i, samples| {
            if want_plot {
                if let Some(t) = traces.get_mut(i) {
                    t.push(samples);
                }
            }
        },
    )
    .map(|mut r| {
        r.name.clone_from(&night.name);
        r
    });
    let mut write_errors = Vec::new();
    if let Ok(r) = &result {
        if let Some(p) = &out.events {
            write_errors.extend(write_events(p, &events).err());
        }
        if let Some(p) = &out.plot {
            let sites = night.inputs.iter().map(|i| i.site);
            let drawn = plot::Night {
                name: &night.name,
                report: r,
                events: &events,
                traces: sites.zip(traces.into_iter().map(Trace::finish)).collect(),
            };
            let drawn = write_whole(p, |part| {
                plot::draw(part, &drawn).map_err(|msg| Error::new(ErrorKind::Other(msg)))
            });
            write_errors.extend(drawn.err());
        }
        // Last: a summary in the folder means the night's other outputs are there and whole
        // (what `--resume` relies on).
        if let Some(p) = &out.summary {
            write_errors.extend(r.write_json(p).err());
        }
    }
    Done {
        night,
        result,
        write_errors,
        seconds: start.elapsed().as_secs_f64(),
        bytes,
        resumed: false,
    }
}

/// Writes the events CSV (`-` for standard output).
fn write_events(path: &Path, events: &[Event]) -> Result<(), Error> {
    if path == Path::new("-") {
        let mut w = EventWriter::new(std::io::stdout().lock())?;
        for e in events {
            w.write(e)?;
        }
        return w.flush();
    }
    write_whole(path, |part| sleeptwitch::io::write_events(part, events))
}
