//! Reads accelerometer recordings and prints, per file, what it holds: samples, duration,
//! start, rate and jitter, units, gaps and the mean |a| before any calibration.
//!
//! ```text
//! cargo run --release --example analyze -- [OPTIONS] FILE...
//! ```
//!
//! Exit status: 0 when every file was read, 1 when any failed (the others are still read;
//! each failure is one line on stderr naming file, line and cause), 2 on bad usage.

mod args;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use sleeptwitch::io::{iso8601_utc, CsvReaderBuilder, TimeBase, UnitsFrom};
use sleeptwitch::{Error, RecordingInfo, Sample, Source};

/// Samples asked for per read.
const CHUNK: usize = 4096;

/// Gaps listed one by one; past this only their count is given.
const GAPS_LISTED: usize = 10;

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
    let mut builder = CsvReaderBuilder::new();
    builder.units(args.units.map(Into::into));
    if let Some(n) = args.threads {
        builder.threads(n);
    }
    if let Some(n) = args.block_size {
        builder.block_size_bytes(n);
    }
    let mut failed = false;
    for (i, path) in args.files.iter().enumerate() {
        if i > 0 {
            println!();
        }
        match read(&builder, path) {
            Ok((info, seconds)) => {
                print!("{}", summary(path, &info));
                if args.timing {
                    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                    println!(
                        "  {:<11} {seconds:.3} s, {:.0} MB/s",
                        "read",
                        bytes as f64 / 1e6 / seconds
                    );
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads a whole file; returns what was learnt and the seconds it took.
fn read(builder: &CsvReaderBuilder, path: &Path) -> Result<(RecordingInfo, f64), Error> {
    let start = Instant::now();
    let mut reader = builder.from_path(path)?;
    let mut chunk = vec![Sample::default(); CHUNK];
    while reader.read_samples(&mut chunk)? > 0 {}
    Ok((reader.info().clone(), start.elapsed().as_secs_f64()))
}

/// The human summary of one recording.
fn summary(path: &Path, info: &RecordingInfo) -> String {
    let mut s = format!("{}\n", path.display());
    let mut row = |name: &str, value: String| {
        s.push_str(&format!("  {name:<11} {value}\n"));
    };
    row("samples", thousands(info.n_samples));
    row("duration", duration(info.duration_s()));
    let start = info.start_s.unwrap_or(0.0);
    row(
        "start",
        match info.time_base {
            TimeBase::Relative => format!("{start:.3} s (relative time)"),
            TimeBase::Unix => format!("{} (Unix time, clock as stored)", iso8601_utc(start)),
            TimeBase::Iso8601 => format!("{} UTC (ISO-8601 date-times)", iso8601_utc(start)),
        },
    );
    let r = &info.rate;
    row(
        "rate",
        format!(
            "{:.2} Hz ± {:.2} ms jitter (median interval {:.3} ms, longest {:.3} ms)",
            r.rate_hz,
            r.jitter_s * 1e3,
            r.median_interval_s * 1e3,
            r.max_interval_s * 1e3
        ),
    );
    let from = match info.units_from {
        UnitsFrom::Header => "named in the header",
        UnitsFrom::Magnitude => "from the median |a| of the first 10 s",
        UnitsFrom::Caller => "as asked",
        UnitsFrom::Device => "fixed by the device",
    };
    row("units", format!("{} ({from})", info.units));
    if info.gaps.is_empty() {
        row("gaps", "none".into());
    } else {
        row(
            "gaps",
            format!(
                "{} ({} in all)",
                info.gaps.len(),
                duration(info.gap_time_s())
            ),
        );
        for g in info.gaps.iter().take(GAPS_LISTED) {
            let at = match info.time_base {
                TimeBase::Relative => format!("{:.3} s", g.start_s),
                _ => iso8601_utc(g.start_s),
            };
            row("", format!("after {at}: {}", duration(g.duration_s)));
        }
        if info.gaps.len() > GAPS_LISTED {
            row("", format!("… and {} more", info.gaps.len() - GAPS_LISTED));
        }
    }
    row(
        "mean |a|",
        format!("{:.4} g (before calibration)", info.mean_norm_g),
    );
    for w in &info.warnings {
        row("warning", w.to_string());
    }
    s
}

/// A count with thousands separators: 2,880,000.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration for people: `59.99 s`, `10 min 00.0 s`, `8 h 00 min 00 s`.
fn duration(seconds: f64) -> String {
    if seconds < 59.995 {
        return format!("{seconds:.2} s");
    }
    // Below 2^53 tenths for any recording: exact integers.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tenths = (seconds * 10.0).round() as u64;
    if tenths < 36_000 {
        return format!(
            "{} min {:02}.{} s",
            tenths / 600,
            tenths % 600 / 10,
            tenths % 10
        );
    }
    let s = (tenths + 5) / 10;
    format!("{} h {:02} min {:02} s", s / 3600, s / 60 % 60, s % 60)
}
