//! Reads an accelerometer CSV on standard input as it arrives and prints each event as soon
//! as it is final, in the events CSV form of `analyze --events`.
//!
//! ```text
//! cargo run --release --example stream < night.csv > events.csv
//! stdbuf -oL my-logger | cargo run --release --example stream -- --summary night.json
//! ```
//!
//! The input is read as a pipe delivers it: the first 4,097 rows decide the unit and the
//! sample rate (about 41 s of a live 100 Hz stream), then rows go to the detector a tenth
//! of a second of samples at a time. With `--rate` (and `--units`, or a unit named in the
//! header) the detector starts with the first row. Standard output is flushed after each
//! event. For the same file the events are those of `analyze --events`, byte for byte: both
//! build the detector from the reader's first 4,097 timestamps (or the rate given, when it
//! is the file's), and the detector gives the same events however its input is cut into
//! chunks.
//!
//! Exit status: 0 at the end of the input, 1 on bad input (the events before it have been
//! printed; the error names the line), 2 on bad usage.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sleeptwitch::analysis::{check_output_path, detector_rate_hz, InputReport, NightReport};
use sleeptwitch::io::{idle_fill_by_default, AccelUnit, CsvReaderBuilder, EventWriter, IdleFill};
use sleeptwitch::{Config, Detector, Error, ErrorKind, Event, Gap, Sample, Site, Source, Unworn};

/// Time asked for per read, in seconds of samples: a read waits until that many rows have
/// arrived (the reader fills the chunk it is given), so this bounds the wait it adds.
const CHUNK_S: f64 = 0.1;

/// Reads accelerometer samples from standard input and prints events as they become final.
///
/// Standard input is a CSV of one sample a row, read as it arrives: a header naming a time
/// column (t, time, timestamp, seconds) and x, y, z columns (also ax…, acc_x…, accel_x…,
/// with a unit such as x_g or x_ms2), or rows of four numbers t,x,y,z without a header.
/// Times are seconds (relative or Unix), ms, µs or ns (named in the header, t_ms, or Unix
/// times of 13, 16 or 19 digits) or ISO-8601 date-times; an ActiLife export's rows are timed
/// from its preamble. Accelerations are g or m/s² (named in the header, set with --units,
/// or decided from the magnitude). Events go
/// to standard output as the CSV of `analyze --events`, a row as soon as each is final.
#[derive(Debug, Parser)]
#[command(
    name = "stream",
    version,
    about,
    long_about,
    after_help = "Example: stream --rate 100 --units g < night.csv > night.events.csv"
)]
struct Args {
    /// Unit of the acceleration columns (g or ms2); overrides the header and the magnitude test.
    #[arg(long, value_name = "UNIT", value_parser = ["g", "ms2"])]
    units: Option<String>,

    /// Sample rate of the stream in Hz, when known: no estimate from the first 4,097 rows,
    /// so with the unit known too the first row goes straight to the detector.
    #[arg(long, value_name = "HZ")]
    rate: Option<f64>,

    /// Detector config file (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Where the sensor is worn: ankle, left_ankle, right_ankle or wrist.
    #[arg(long, default_value = "ankle", value_name = "SITE")]
    site: Site,

    /// At the end of the input, write the night's summary JSON to PATH.
    #[arg(long, value_name = "PATH")]
    summary: Option<PathBuf>,

    /// Print the detector's notices to standard error as they come: gaps, sleep onsets and
    /// stretches that looked unworn.
    #[arg(long)]
    notices: bool,

    /// Runs of one sample repeated for seconds: `drop` leaves them out as an ActiGraph's
    /// idle-sleep fill (reported as gaps), `keep` reads them as samples. By default an
    /// ActiLife export drops them and other input keeps them, as in `analyze`.
    #[arg(long, value_name = "WHAT", value_parser = ["drop", "keep"])]
    idle_fill: Option<String>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Printing the usage message can only fail if stderr is gone.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Writes each event to standard output as the detector delivers it, flushing every time;
/// keeps the first write error (a closed pipe) for after the push. Keeps the unworn
/// stretches for the summary, and prints the notices to standard error when asked.
struct Printer<W: Write> {
    out: EventWriter<W>,
    failed: Option<Error>,
    unworn: Vec<Unworn>,
    notices: bool,
}

impl<W: Write> sleeptwitch::Sink for Printer<W> {
    fn event(&mut self, e: Event) {
        if self.failed.is_none() {
            if let Err(err) = self.out.write(&e).and_then(|()| self.out.flush()) {
                self.failed = Some(err);
            }
        }
    }

    fn gap(&mut self, gap: Gap) {
        if self.notices {
            eprintln!(
                "notice: gap: no samples for {:.3} s after {:.3} s",
                gap.duration_s, gap.start_s
            );
        }
    }

    fn sleep_onset(&mut self, t_s: f64) {
        if self.notices {
            eprintln!("notice: sleep onset at {t_s:.3} s");
        }
    }

    fn unworn(&mut self, u: Unworn) {
        if self.notices {
            eprintln!(
                "notice: unworn? the {} sensor lay as still as one off the body from {:.3} s \
                 to {:.3} s",
                u.site, u.start_s, u.end_s
            );
        }
        self.unworn.push(u);
    }
}

fn run(args: &Args) -> Result<(), Error> {
    // A missing folder for the summary is found now, not when the input ends.
    if let Some(path) = &args.summary {
        check_output_path(path)?;
    }
    let config = match &args.config {
        Some(p) => {
            let c = Config::from_file(p)?;
            // A bad value is the file's fault, whatever the stream holds.
            c.validate_fields().map_err(|e| {
                Error::new(ErrorKind::Other(format!("{}: config: {e}", p.display())))
            })?;
            c
        }
        None => Config::default(),
    };
    let mut builder = CsvReaderBuilder::new();
    builder
        .units(args.units.as_deref().map(|u| {
            if u == "g" {
                AccelUnit::G
            } else {
                AccelUnit::MPerS2
            }
        }))
        .rate_hz(args.rate)
        .threads(1)
        .file_name("<stdin>");
    let reader = builder.from_reader(std::io::stdin().lock())?;
    // An ActiLife export's idle-sleep fill is left out as gaps unless asked otherwise, as
    // `analyze` does.
    let drop_fill = match args.idle_fill.as_deref() {
        Some(what) => what == "drop",
        None => idle_fill_by_default(reader.info()),
    };
    let mut reader: Box<dyn Source> = if drop_fill {
        Box::new(IdleFill::new(reader))
    } else {
        Box::new(reader)
    };
    let rate = detector_rate_hz(reader.info())?;
    let mut detector = Detector::with_sites(&config, &[(args.site, rate)])?;
    let mut sink = Printer {
        out: EventWriter::new(std::io::stdout().lock())?,
        failed: None,
        unworn: Vec::new(),
        notices: args.notices,
    };
    sink.out.flush()?;
    // Rates are at least 10 Hz (the reader refuses less) and finite: at least one sample.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let chunk_len = (rate * CHUNK_S).ceil().clamp(1.0, 1e6) as usize;
    let mut chunk = vec![Sample::default(); chunk_len];
    loop {
        let n = reader.read_samples(&mut chunk)?;
        if n == 0 {
            break;
        }
        detector.push(chunk.get(..n).unwrap_or_default(), &mut sink)?;
        if let Some(e) = sink.failed.take() {
            return Err(e);
        }
    }
    let summary = detector.finish(&mut sink)?;
    if let Some(e) = sink.failed.take() {
        return Err(e);
    }
    if let Some(path) = &args.summary {
        let input = sleeptwitch::analysis::Input::new("-", args.site);
        let stream = summary
            .sites
            .first()
            .map(|s| s.stream.clone())
            .ok_or_else(|| {
                Error::new(ErrorKind::Other("the detector reported no sensor".into()))
            })?;
        let inputs = vec![InputReport::new(
            &input,
            reader.info(),
            &stream,
            &sink.unworn,
        )];
        let report = NightReport::new("stdin".into(), inputs, &config, summary);
        report.write_json(path)?;
    }
    Ok(())
}
