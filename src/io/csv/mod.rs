//! Streaming CSV reader: a time column and three acceleration columns, in g or m/s².
//!
//! The forms accepted, the checks and the costs are documented on [`CsvReader`].

mod actilife;
mod block;
mod header;
mod number;
mod parse;
mod start;
mod time;

pub use start::UNIX_FROM_S;
pub use time::iso8601_utc;

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Error, ErrorKind, Position, Sample};

use super::{AccelUnit, RecordingInfo, SampleCheck, Source, Warning};
pub(crate) use block::DecodeFailure;
use block::{Broken, Input, Job, Pool};
use header::Layout;
use parse::{parse_block, Parsed, Stop};

/// Samples range-tested and converted at a time before looking for the one out of range.
const CONVERT: usize = 64;

/// Default block size, in bytes.
const DEFAULT_BLOCK_BYTES: usize = 1 << 20;

/// Most parsing threads a reader starts.
const MAX_THREADS: usize = 64;

/// Largest block size, in bytes.
const MAX_BLOCK_BYTES: usize = 1 << 30;

/// Builds a [`CsvReader`] with settings other than the defaults.
///
/// ```no_run
/// use sleeptwitch::io::{AccelUnit, CsvReaderBuilder};
/// let reader = CsvReaderBuilder::new()
///     .units(Some(AccelUnit::MPerS2))
///     .threads(1)
///     .from_path("night.csv")?;
/// # Ok::<(), sleeptwitch::Error>(())
/// ```
///
/// Column names, matched without regard to case, spaces, `_`, `-` or `.`, after an optional
/// unit suffix (`_g`, `_ms2`, `_mps2`, `_s`, or `(g)`, `[m/s^2]`, `(s)`) is taken off:
/// time `t`, `time`, `timestamp`, `seconds`; axes `x`, `ax`, `acc_x`, `accel_x`,
/// `acceleration_x` (and y, z alike). When two columns fit one role, the first is used and
/// a warning says so.
#[derive(Clone, Debug)]
pub struct CsvReaderBuilder {
    units: Option<AccelUnit>,
    rate_hz: Option<f64>,
    file_name: Option<PathBuf>,
    threads: usize,
    block_size_bytes: usize,
}

impl Default for CsvReaderBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvReaderBuilder {
    /// A builder with the defaults: units decided by the file, no file name, up to two
    /// parsing threads, 1 MiB blocks.
    pub fn new() -> Self {
        CsvReaderBuilder {
            units: None,
            rate_hz: None,
            file_name: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
            block_size_bytes: DEFAULT_BLOCK_BYTES,
        }
    }

    /// The unit of the acceleration columns, overriding the header and the magnitude test.
    ///
    /// Default `None`: a unit named in the header, else the median |a| of the first 10 s.
    pub fn units(&mut self, units: Option<AccelUnit>) -> &mut Self {
        self.units = units;
        self
    }

    /// The sample rate, in Hz, when it is known (a live stream from a device set to it):
    /// the reader then takes its interval instead of estimating it from the first 4,097
    /// timestamps, and checks gaps and jitter against it. With the unit known too (set with
    /// [`units`](Self::units), or named in the header) a reader starts after the header and
    /// the first row; without, after the first 10 s of rows, which decide the unit.
    ///
    /// Default `None`: the first 4,097 timestamps' [`HeadInterval`](crate::io::HeadInterval).
    /// A rate below the crate's minimum (or not a number) makes opening fail with
    /// [`ErrorKind::RateTooLow`].
    pub fn rate_hz(&mut self, rate_hz: Option<f64>) -> &mut Self {
        self.rate_hz = rate_hz;
        self
    }

    /// The file name errors and warnings give as their position.
    ///
    /// Default: none for [`from_reader`](Self::from_reader), the path for
    /// [`from_path`](Self::from_path).
    pub fn file_name(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.file_name = Some(path.as_ref().to_path_buf());
        self
    }

    /// Threads that parse blocks, the caller's own included: `n - 1` workers parse ahead
    /// while the caller reads, checks and hands out samples, and parses a block itself
    /// whenever it gets there first. 1 parses on the caller's thread only.
    ///
    /// Default: the number of CPUs, at most 2 (more gains little: checks, reading and the
    /// caller's own work stay on one thread). Taken between 1 and 64.
    pub fn threads(&mut self, n: usize) -> &mut Self {
        self.threads = n.clamp(1, MAX_THREADS);
        self
    }

    /// Bytes read and parsed at a time, rounded up to the next line break.
    ///
    /// Memory held is a few blocks (raw text and samples) per thread. Default 1 MiB: about
    /// 30,000 rows, so a hand-over between threads comes every few milliseconds of parsing.
    /// Taken between 1 byte and 1 GiB. A pipe that delivers less at a time gives smaller blocks: whatever whole lines
    /// one read brings are handed on, so a live stream is not held back for a full block.
    pub fn block_size_bytes(&mut self, n: usize) -> &mut Self {
        self.block_size_bytes = n.clamp(1, MAX_BLOCK_BYTES);
        self
    }

    /// Opens `path` and reads its header and first block (see
    /// [`from_reader`](Self::from_reader)).
    ///
    /// # Errors
    /// As [`from_reader`](Self::from_reader), and [`ErrorKind::Io`] if the file cannot be
    /// opened; the error names the file.
    pub fn from_path(&self, path: impl AsRef<Path>) -> Result<CsvReader<File>, Error> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| crate::io::device::io_error(e, path))?;
        let mut b = self.clone();
        if b.file_name.is_none() {
            b.file_name = Some(path.to_path_buf());
        }
        b.from_reader(file)
    }

    /// A reader over `input`: reads the header and enough rows to estimate the sample rate
    /// and decide the unit, so [`CsvReader::info`] knows them from the start.
    ///
    /// That is the first 4,097 samples (all of them in a shorter file): instant for a file,
    /// about 41 s of a live 100 Hz stream — or, with the rate given
    /// ([`rate_hz`](Self::rate_hz)), one row, or 10 s of rows when the unit is not known.
    ///
    /// # Errors
    /// [`ErrorKind::Empty`], [`ErrorKind::NotText`], [`ErrorKind::MissingColumn`],
    /// [`ErrorKind::BadHeader`], [`ErrorKind::NoSamples`], [`ErrorKind::RateTooLow`], a bad
    /// row among the first when no rate can be estimated before it, or [`ErrorKind::Io`].
    pub fn from_reader<R: Read>(&self, input: R) -> Result<CsvReader<R>, Error> {
        start::open(self, input)
    }
}

/// A slot in the queue of blocks between reading and handing out.
enum Slot {
    /// Parsed on the caller's thread.
    Ready(Parsed),
    /// Queued for the workers, with its sequence number.
    Sent(u64),
    /// Reading the block failed: reported at the block's first line.
    Failed(ErrorKind),
}

/// Reads samples from CSV text, in chunks of the caller's choosing, in constant memory.
///
/// # What it reads
/// - A header line naming the columns, in any order and case, with any other columns
///   ignored (see [`CsvReaderBuilder`] for the names), or no header at all: a first line of
///   four numbers is read as `t,x,y,z`. Fields are separated by `,` (or `;` or a tab, if the
///   first line has no comma or a comma makes no sense of it). A UTF-8 byte order mark,
///   blank lines, spaces around fields and double quotes are accepted, and lines may end in
///   `\n`, `\r\n` or `\r` alone (classic Mac OS): the style is decided at the first line
///   break, after which a file of `\n` or `\r\n` lines is read at no extra cost and one of
///   `\r` lines has each `\r` turned into `\n` as it is read.
/// - Time in seconds (relative, or since 1970-01-01 UTC: values from 946,684,800, i.e.
///   2000-01-01, on are taken as Unix time) or as ISO-8601 date-times
///   (`2024-03-01 23:00:00.000`, `2024-03-01T23:00:00.020Z`, `…+01:00`, or with a decimal
///   comma, `23:00:00,020`, where the comma cannot be the delimiter: in a `;` or tab separated
///   file, or a quoted field), converted to Unix seconds. **A date-time without a UTC offset is taken as UTC**; the reader says so in
///   [`RecordingInfo::warnings`]. Numeric times in milli-, micro- or nanoseconds when the
///   time column's name says so (`t_ms`, `timestamp_us`) or the first time is a Unix time
///   only in one of them (with a warning).
/// - An ActiLife raw-data export (ActiGraph): the rows' times are the preamble's start plus
///   the row number at its rate, the device is in [`RecordingInfo::device`].
/// - Acceleration in g or m/s². The caller's setting wins; then a unit named in the header
///   (`x_g`, `x_ms2`, `x (m/s^2)`); otherwise the median vector magnitude of the first 10 s
///   decides: about 1 means g, about 9.8 means m/s² (the boundary is their geometric mean,
///   3.13). Samples are always handed out in g.
///
/// # Checks
/// Every sample goes through the crate-wide checks (finite, within ±64 g — ±627.6 m/s² in
/// an m/s² file, time strictly increasing, rate at least 10 Hz, gaps longer than
/// max(1 s, 5 × the median interval) reported, never bridged). Bad input is an [`Error`]
/// naming the file and line (from 1, counting the header): nothing is dropped silently and
/// nothing panics. One exception is made for a logger that lost power: a last line without
/// a line break that has fewer fields than the header is dropped with a warning naming it.
/// Another for a compressed input that is cut short or corrupt (see [`open`](fn@crate::io::open), which
/// reads `.csv.gz`): the rows before the damage are read, its incomplete last line is
/// dropped, and a warning names the last complete line; an error only when fewer than two
/// rows came before it. A header quoted in a message is cut to 100 characters, a field to 40.
///
/// # Speed and memory
/// The input is read in blocks of whole lines ([`CsvReaderBuilder::block_size_bytes`]),
/// parsed straight from the bytes on worker threads ([`CsvReaderBuilder::threads`]) while
/// the caller consumes earlier blocks. Memory is a few blocks, whatever the file's length.
///
/// # Example
/// ```
/// use sleeptwitch::io::{AccelUnit, CsvReader};
/// use sleeptwitch::{Sample, Source};
///
/// let text = "time,acc_x,acc_y,acc_z\n0.00,0,0,9.81\n0.01,0,0,9.80\n0.02,4.9,0,9.81\n";
/// let mut reader = CsvReader::from_reader(text.as_bytes())?; // or CsvReader::from_path
/// let mut chunk = vec![Sample::default(); 4096];
/// let mut n_samples = 0;
/// while let n @ 1.. = reader.read_samples(&mut chunk)? {
///     n_samples += n; // use &chunk[..n]
/// }
/// let info = reader.info();
/// assert_eq!(n_samples, 3);
/// assert_eq!(info.units, AccelUnit::MPerS2);
/// assert!((info.rate.rate_hz - 100.0).abs() < 1e-6);
/// assert!((chunk[2].acc_g[0] - 0.5).abs() < 0.001); // 4.9 m/s² is about 0.5 g
/// # Ok::<(), sleeptwitch::Error>(())
/// ```
pub struct CsvReader<R> {
    input: Input<R>,
    input_done: bool,
    layout: Arc<Layout>,
    threads: usize,
    pool: Option<Pool>,
    pool_tried: bool,
    queue: VecDeque<Slot>,
    /// The block being handed out.
    cur: Parsed,
    /// Next sample of `cur` to hand out.
    cur_pos: usize,
    /// Line number (from 1) of `cur`'s first line.
    cur_line: u64,
    free_raw: Vec<Vec<u8>>,
    free_parsed: Vec<Parsed>,
    check: SampleCheck,
    /// Largest magnitude accepted on an axis, in the input's unit.
    limit: f64,
    /// Multiplier from the input's unit to g.
    to_g: f64,
    /// Seconds per unit of the file's numeric times (1 unless they count ms, µs or ns).
    t_scale: f64,
    /// For rows without times (an ActiLife export): the start and the rate.
    clock: Option<start::Clock>,
    info: RecordingInfo,
    file: Option<PathBuf>,
    /// An error found after samples that were handed out first; returned next.
    deferred: Option<Error>,
    done: bool,
}

impl CsvReader<File> {
    /// Opens a CSV file with the default settings.
    ///
    /// # Errors
    /// As [`CsvReaderBuilder::from_path`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        CsvReaderBuilder::new().from_path(path)
    }
}

impl<R: Read> CsvReader<R> {
    /// A reader over any `Read` with the default settings.
    ///
    /// # Errors
    /// As [`CsvReaderBuilder::from_reader`].
    pub fn from_reader(input: R) -> Result<Self, Error> {
        CsvReaderBuilder::new().from_reader(input)
    }

    /// Names of the columns read for time, x, y and z, as in the header (or `t`, `x`, `y`,
    /// `z` for a file without one).
    pub fn column_names(&self) -> [&str; 4] {
        let [t, x, y, z] = &self.layout.names;
        [t, x, y, z]
    }

    /// Whether the file had a header line.
    pub fn has_header(&self) -> bool {
        self.layout.has_header
    }

    #[cold]
    #[inline(never)]
    fn error_at(&self, kind: ErrorKind, line: Option<u64>) -> Error {
        at(
            kind,
            line,
            self.file.as_deref(),
            &self.layout,
            self.info.units,
        )
    }

    /// Keeps enough blocks read and in flight.
    fn refill(&mut self) {
        if !self.pool_tried && self.threads > 1 && !self.input_done && !self.input.at_end() {
            self.pool_tried = true;
            self.pool = Pool::new(self.threads - 1, &self.layout);
        }
        // Enough blocks ahead that every worker has one and one more waits.
        let depth = self.pool.as_ref().map_or(1, |p| p.n_workers() + 2);
        while self.queue.len() < depth && !self.input_done {
            let mut raw = self.free_raw.pop().unwrap_or_default();
            match self.input.next_block(&mut raw) {
                Ok(true) => {}
                Ok(false) => {
                    self.input_done = true;
                    self.free_raw.push(raw);
                    break;
                }
                Err(kind) => {
                    self.input_done = true;
                    self.queue.push_back(Slot::Failed(kind));
                    break;
                }
            }
            let parsed = self.free_parsed.pop().unwrap_or_default();
            let mut job = Job { raw, parsed };
            if let Some(pool) = &mut self.pool {
                let seq = pool.send(job);
                self.queue.push_back(Slot::Sent(seq));
                continue;
            }
            parse_block(&job.raw, &self.layout, &mut job.parsed);
            self.free_raw.push(job.raw);
            self.queue.push_back(Slot::Ready(job.parsed));
        }
    }

    /// Makes the next block current; `false` at the end of the input.
    fn advance(&mut self) -> Result<bool, Error> {
        self.cur_line += self.cur.n_lines;
        self.refill();
        let next = match self.queue.pop_front() {
            None => return Ok(false),
            Some(Slot::Ready(p)) => p,
            Some(Slot::Failed(kind)) => return Err(self.error_at(kind, Some(self.cur_line))),
            Some(Slot::Sent(seq)) => {
                match self.pool.as_ref().and_then(|p| p.take(seq, &self.layout)) {
                    Some(job) => {
                        self.free_raw.push(job.raw);
                        job.parsed
                    }
                    None => {
                        return Err(self.error_at(
                            ErrorKind::Other("a CSV parsing thread stopped".into()),
                            Some(self.cur_line),
                        ))
                    }
                }
            }
        };
        let old = std::mem::replace(&mut self.cur, next);
        self.free_parsed.push(old);
        self.cur_pos = 0;
        Ok(true)
    }

    /// Checks, converts and copies samples of the current block into `out`; returns how
    /// many, and the error at the sample after them if there is one.
    ///
    /// Two passes, each without a branch per sample: the range test in the input's unit
    /// (so that a message quotes the value as written) with the conversion to g, then the
    /// crate's checks on the converted samples ([`SampleCheck::check_slice`]). Up to the
    /// first failure this is what checking each sample in turn would do, so the first bad
    /// sample is the one named.
    #[inline]
    fn hand_out(&mut self, out: &mut [Sample]) -> (usize, Option<Error>) {
        let start = self.cur_pos;
        let avail = self.cur.samples.get(start..).unwrap_or_default();
        let n_avail = avail.len().min(out.len());
        let avail = avail.get(..n_avail).unwrap_or_default();
        let out = out.get_mut(..n_avail).unwrap_or_default();
        let (limit, to_g, t_scale) = (self.limit, self.to_g, self.t_scale);
        // Samples before `in_range` are within the limit in the input's unit.
        let mut in_range = n_avail;
        for (k, (o, s)) in out
            .chunks_mut(CONVERT)
            .zip(avail.chunks(CONVERT))
            .enumerate()
        {
            let mut ok = true;
            for (o, s) in o.iter_mut().zip(s) {
                let [x, y, z] = s.acc_g;
                ok &= (x.abs() <= limit) & (y.abs() <= limit) & (z.abs() <= limit);
                *o = Sample::new(s.t_s * t_scale, [x * to_g, y * to_g, z * to_g]);
            }
            if !ok {
                let at = s.iter().position(|s| !in_limit(s, limit)).unwrap_or(0);
                in_range = k * CONVERT + at;
                break;
            }
        }
        if let Some(c) = &self.clock {
            // The index of a row's sample: those handed out before it, all checked.
            for (i, o) in (self.check.n_checked()..).zip(out.iter_mut()) {
                o.t_s = c.at(i);
            }
        }
        let converted = out.get(..in_range).unwrap_or_default();
        let failure = match self.check.check_slice(converted) {
            Err((i, kind)) => Some((i, kind)),
            Ok(()) => avail
                .get(in_range)
                .map(|s| (in_range, value_error(s, limit, self.info.units))),
        };
        let n = failure.as_ref().map_or(n_avail, |(i, _)| *i);
        self.cur_pos += n;
        let e = failure.map(|(i, kind)| {
            let line = self.cur_line + self.cur.line_of(start + i);
            self.error_at(kind, Some(line))
        });
        (n, e)
    }

    /// Ends the read on an error: returned now if nothing was handed out in this call, else
    /// kept for the next call.
    #[cold]
    fn fail(&mut self, e: Error, handed_out: usize) -> Result<usize, Error> {
        self.check.fill(&mut self.info);
        if handed_out > 0 {
            self.deferred = Some(e);
            Ok(handed_out)
        } else {
            self.done = true;
            Err(e)
        }
    }
}

impl<R: Read> Source for CsvReader<R> {
    /// Fills `out` with the next samples, in g, crossing blocks as needed; returns how many
    /// (fewer only at the end of the input or before an error), `Ok(0)` at the end.
    ///
    /// Samples before a bad row are handed out first; the error comes on the next call, and
    /// after it every call returns `Ok(0)`.
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        if let Some(e) = self.deferred.take() {
            self.done = true;
            return Err(e);
        }
        if self.done {
            return Ok(0);
        }
        let mut total = 0;
        loop {
            let rest = out.get_mut(total..).unwrap_or_default();
            if rest.is_empty() {
                self.check.fill(&mut self.info);
                return Ok(total);
            }
            if self.cur_pos < self.cur.samples.len() {
                let (n, e) = self.hand_out(rest);
                total += n;
                if let Some(e) = e {
                    return self.fail(e, total);
                }
                continue;
            }
            match self.cur.stop.take() {
                Some(Stop::Error { line, kind }) => {
                    let e = self.error_at(kind, Some(self.cur_line + line));
                    return self.fail(e, total);
                }
                Some(Stop::CutTail { line, message }) => {
                    let w = warning_at(self.file.as_deref(), self.cur_line + line, message);
                    self.info.warnings.push(w);
                }
                None => {}
            }
            match self.advance() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    if let Some(broken) = self.input.broken() {
                        // `cur_line` is now the line after the last one read.
                        let last = self.cur_line.saturating_sub(1);
                        let w = broken_warning(self.file.as_deref(), last, broken);
                        self.info.warnings.push(w);
                    }
                    self.check.fill(&mut self.info);
                    return Ok(total);
                }
                Err(e) => return self.fail(e, total),
            }
        }
    }

    fn info(&self) -> &RecordingInfo {
        &self.info
    }
}

/// An error at a line, with the file, the header's column names and the input's unit.
#[cold]
#[inline(never)]
fn at(
    kind: ErrorKind,
    line: Option<u64>,
    file: Option<&Path>,
    layout: &Layout,
    units: AccelUnit,
) -> Error {
    let rename = |column: String| -> String {
        match column.as_str() {
            "t" => layout.names[0].clone(),
            "x" => layout.names[1].clone(),
            "y" => layout.names[2].clone(),
            "z" => layout.names[3].clone(),
            _ => column,
        }
    };
    let kind = match kind {
        ErrorKind::NotANumber { column, found, .. } => ErrorKind::NotANumber {
            column,
            unit: units.symbol(),
            found,
        },
        ErrorKind::NotFinite { column, found } => ErrorKind::NotFinite {
            column: rename(column),
            found,
        },
        ErrorKind::OutOfRange {
            column,
            value,
            limit,
            unit,
        } => ErrorKind::OutOfRange {
            column: rename(column),
            value,
            limit,
            unit,
        },
        other => other,
    };
    let e = match line {
        Some(l) => Error::at(kind, Position::line(l)),
        None => Error::new(kind),
    };
    e.in_file_if(file)
}

/// The warning for an input whose decoder failed after `last_line`, its last complete line.
#[cold]
#[inline(never)]
fn broken_warning(file: Option<&Path>, last_line: u64, broken: &Broken) -> Warning {
    let dropped = if broken.dropped_bytes > 0 {
        format!(
            " (an incomplete line of {} bytes after it is dropped)",
            broken.dropped_bytes
        )
    } else {
        String::new()
    };
    let message = format!(
        "{}: {}; reading stops at this line, the last complete one{dropped}: the rest of the \
         file is lost",
        broken.failure.format, broken.failure
    );
    warning_at(file, last_line, message)
}

/// The error for an input whose decoder failed before two rows (`n_rows` of them) could be
/// read, at `line`, where the next row would have been.
#[cold]
#[inline(never)]
fn broken_error(file: Option<&Path>, line: u64, broken: &Broken, n_rows: usize) -> Error {
    let rows = match n_rows {
        0 => "not one complete row before it",
        _ => "only one complete row before it, and a sample rate needs two",
    };
    let kind = ErrorKind::Format {
        format: broken.failure.format,
        reason: format!("{}; {rows}", broken.failure),
    };
    let e = Error::at(kind, Position::line(line));
    e.in_file_if(file)
}

fn warning_at(file: Option<&Path>, line: u64, message: String) -> Warning {
    let mut p = Position::line(line);
    p.file = file.map(Path::to_path_buf);
    Warning::at(p, message)
}

/// Whether every axis of `s` is within ±`limit` (false for NaN).
fn in_limit(s: &Sample, limit: f64) -> bool {
    s.acc_g.iter().all(|v| v.abs() <= limit)
}

/// What is wrong with a sample that failed the range test, in the input's unit.
#[cold]
#[inline(never)]
fn value_error(s: &Sample, limit: f64, units: AccelUnit) -> ErrorKind {
    for (v, column) in s.acc_g.iter().zip(["x", "y", "z"]) {
        if !v.is_finite() {
            return ErrorKind::NotFinite {
                column: column.into(),
                found: v.to_string(),
            };
        }
        if v.abs() > limit {
            return ErrorKind::OutOfRange {
                column: column.into(),
                value: *v,
                limit,
                unit: units.symbol(),
            };
        }
    }
    ErrorKind::Other("range check failed on a sample within range".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8], block: usize, threads: usize) -> Result<Vec<Sample>, Error> {
        let mut r = CsvReaderBuilder::new()
            .block_size_bytes(block)
            .threads(threads)
            .from_reader(text)?;
        drain(&mut r)
    }

    /// Every sample `r` has left, read 33 at a time.
    fn drain<R: Read>(r: &mut CsvReader<R>) -> Result<Vec<Sample>, Error> {
        let mut out = Vec::new();
        let mut buf = vec![Sample::default(); 33];
        loop {
            let n = r.read_samples(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    fn ramp(n: usize) -> String {
        let mut s = String::from("t,x,y,z\n");
        for i in 0..n {
            s.push_str(&format!("{}.{:02},0.1,-0.2,0.98\n", i / 100, i % 100));
        }
        s
    }

    #[test]
    fn block_size_and_threads_do_not_change_the_samples() {
        let text = ramp(5000);
        let whole = read_all(text.as_bytes(), 1 << 20, 1).unwrap();
        assert_eq!(whole.len(), 5000);
        assert_eq!(whole[4999].t_s, 49.99);
        for (block, threads) in [(1, 1), (7, 2), (100, 2), (4096, 3)] {
            assert_eq!(read_all(text.as_bytes(), block, threads).unwrap(), whole);
        }
    }

    #[test]
    fn errors_in_late_blocks_name_their_line() {
        let mut text = ramp(6000);
        text = text.replace("\n50.00,0.1,", "\n50.00,zz,");
        for (block, threads) in [(1 << 20, 1), (64, 2), (1000, 2)] {
            let e = read_all(text.as_bytes(), block, threads).unwrap_err();
            // sample 5000 is on line 5002 (header is line 1)
            assert_eq!(e.line(), Some(5002), "{e}");
            assert!(matches!(e.kind(), ErrorKind::NotANumber { .. }));
        }
    }

    /// A reader over `text` that counts the bytes taken from it.
    struct Counted<'a> {
        text: &'a [u8],
        taken: std::rc::Rc<std::cell::Cell<usize>>,
    }

    impl std::io::Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let at = self.taken.get();
            let rest = self.text.get(at..).unwrap_or_default();
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.taken.set(at + n);
            Ok(n)
        }
    }

    /// Opens `text` with blocks of 256 bytes on one thread; returns the reader and the data
    /// rows taken whole from the input by the time it is open.
    fn open_counted<'a>(
        text: &'a str,
        builder: &mut CsvReaderBuilder,
    ) -> Result<(CsvReader<Counted<'a>>, usize), Error> {
        let taken = std::rc::Rc::new(std::cell::Cell::new(0));
        let input = Counted {
            text: text.as_bytes(),
            taken: taken.clone(),
        };
        let r = builder
            .block_size_bytes(256)
            .threads(1)
            .from_reader(input)?;
        let bytes = text.as_bytes().get(..taken.get()).unwrap_or_default();
        let rows = bytes.iter().filter(|&&c| c == b'\n').count();
        Ok((r, rows.saturating_sub(1)))
    }

    #[test]
    fn a_known_rate_starts_the_reader_without_the_4097_row_head() {
        let text = ramp(6000);
        // Estimated: the first 4,097 rows are read before the reader exists.
        let (_, rows) = open_counted(&text, &mut CsvReaderBuilder::new()).unwrap();
        assert!(rows >= 4097, "{rows}");
        // Rate and unit given: a block or two.
        let mut b = CsvReaderBuilder::new();
        b.rate_hz(Some(100.0)).units(Some(AccelUnit::G));
        let (_, rows) = open_counted(&text, &mut b).unwrap();
        assert!(rows < 50, "{rows}");
        // Rate given, unit to decide: the first 10 s of rows (1,001 at 100 Hz).
        let mut b = CsvReaderBuilder::new();
        b.rate_hz(Some(100.0));
        let (r, rows) = open_counted(&text, &mut b).unwrap();
        assert!((1001..1100).contains(&rows), "{rows}");
        assert_eq!(r.info().units, AccelUnit::G);
        // The unit named in the header is as good as one given.
        let named = text.replacen("t,x,y,z", "t,x_g,y_g,z_g", 1);
        let mut b = CsvReaderBuilder::new();
        b.rate_hz(Some(100.0));
        let (_, rows) = open_counted(&named, &mut b).unwrap();
        assert!(rows < 50, "{rows}");
    }

    #[test]
    fn a_known_rate_reads_the_same_samples_and_checks_against_it() {
        let text = ramp(6000);
        let whole = read_all(text.as_bytes(), 1 << 20, 1).unwrap();
        let mut r = CsvReaderBuilder::new()
            .rate_hz(Some(100.0))
            .units(Some(AccelUnit::G))
            .block_size_bytes(256)
            .threads(2)
            .from_reader(text.as_bytes())
            .unwrap();
        assert_eq!(drain(&mut r).unwrap(), whole);
        let rate = r.info().rate;
        assert_eq!(rate.median_interval_s, 0.01);
        assert_eq!(rate.nominal_hz, Some(100.0));
        assert!((rate.rate_hz - 100.0).abs() < 1e-6, "{rate:?}");
        // Gaps are found against the given interval: 1.5 s missing after 30 s.
        let mut gappy = String::from("t,x,y,z\n");
        for i in 0..6000 {
            let t = f64::from(i) / 100.0 + if i >= 3000 { 1.5 } else { 0.0 };
            gappy.push_str(&format!("{t:.2},0.1,-0.2,0.98\n"));
        }
        let mut r = CsvReaderBuilder::new()
            .rate_hz(Some(100.0))
            .units(Some(AccelUnit::G))
            .from_reader(gappy.as_bytes())
            .unwrap();
        drain(&mut r).unwrap();
        assert_eq!(r.info().gaps.len(), 1, "{:?}", r.info().gaps);
    }

    #[test]
    fn a_known_rate_that_is_no_rate_is_an_error() {
        let text = ramp(100);
        for bad in [0.0, -5.0, f64::NAN, 0.001] {
            let e = CsvReaderBuilder::new()
                .rate_hz(Some(bad))
                .units(Some(AccelUnit::G))
                .from_reader(text.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("rate {bad} accepted"));
            assert!(matches!(e.kind(), ErrorKind::RateTooLow { .. }), "{e}");
        }
    }

    #[test]
    fn times_in_relative_milliseconds_are_named_in_the_rate_error() {
        // 100 Hz logged in milliseconds from 0, under a header that does not say so: a
        // median step of 10 "seconds".
        let mut text = String::from("t,x,y,z\n");
        for i in 0..500u64 {
            text.push_str(&format!("{},0,0,1\n", 10 * i));
        }
        let e = CsvReader::from_reader(text.as_bytes()).err().unwrap();
        assert!(matches!(e.kind(), ErrorKind::RateTooLow { .. }), "{e}");
        assert!(
            e.to_string().ends_with(
                "; the times may be in milliseconds (that would be 100.00 Hz): give them in \
                 seconds"
            ),
            "{e}"
        );
    }

    /// 6,000 rows at 100 Hz from Unix second `t0`, with times written by `time`.
    fn counted(header: &str, time: impl Fn(u64) -> String) -> String {
        let mut text = format!("{header},x,y,z\n");
        for i in 0..6000u64 {
            text.push_str(&format!("{},0.1,-0.2,0.98\n", time(i)));
        }
        text
    }

    #[test]
    fn unix_times_in_ms_us_or_ns_are_read_as_such_and_said() {
        let t0 = 1_700_000_000u64;
        let seconds = counted("t", |i| format!("{}.{:02}", t0 + i / 100, i % 100));
        let want = read_all(seconds.as_bytes(), 1 << 20, 1).unwrap();
        for (unit, text) in [
            (
                "milliseconds",
                counted("timestamp", |i| format!("{}", t0 * 1000 + 10 * i)),
            ),
            (
                "microseconds",
                counted("t", |i| format!("{}", t0 * 1_000_000 + 10_000 * i)),
            ),
            (
                "nanoseconds",
                counted("time", |i| format!("{}", (t0 * 100 + i) * 10_000_000)),
            ),
        ] {
            for (block, threads) in [(1 << 20, 1), (4096, 2)] {
                let mut r = CsvReaderBuilder::new()
                    .block_size_bytes(block)
                    .threads(threads)
                    .from_reader(text.as_bytes())
                    .unwrap();
                let got = drain(&mut r).unwrap();
                assert_eq!(got.len(), want.len(), "{unit}");
                for (a, b) in got.iter().zip(&want) {
                    assert!((a.t_s - b.t_s).abs() < 1e-6, "{unit}: {a:?} vs {b:?}");
                    assert_eq!(a.acc_g, b.acc_g, "{unit}");
                }
                let info = r.info();
                assert_eq!(info.time_base, crate::io::TimeBase::Unix, "{unit}");
                assert!(
                    (info.rate.rate_hz - 100.0).abs() < 1e-6,
                    "{unit}: {:?}",
                    info.rate
                );
                let said = info
                    .warnings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>();
                assert!(
                    said.iter()
                        .any(|w| w.contains(&format!("are Unix times in {unit}"))),
                    "{unit}: {said:?}"
                );
            }
        }
        // Unix seconds, and relative times, are not touched: no warning.
        let r = CsvReader::from_reader(seconds.as_bytes()).unwrap();
        assert!(r.info().warnings.is_empty(), "{:?}", r.info().warnings);
    }

    #[test]
    fn a_time_unit_in_the_header_scales_numeric_times_only() {
        let seconds = counted("t", |i| format!("{}.{:02}", i / 100, i % 100));
        let want = read_all(seconds.as_bytes(), 1 << 20, 1).unwrap();
        for (header, per_row) in [
            ("t_ms", 10),
            ("Time (ms)", 10),
            ("timestamp_us", 10_000),
            ("t [ns]", 10_000_000),
            ("time_s", 0),
        ] {
            let text = if per_row == 0 {
                counted(header, |i| format!("{}.{:02}", i / 100, i % 100))
            } else {
                counted(header, |i| format!("{}", per_row * i))
            };
            let mut r = CsvReader::from_reader(text.as_bytes()).unwrap();
            let got = drain(&mut r).unwrap();
            assert_eq!(got.len(), want.len(), "{header}");
            for (a, b) in got.iter().zip(&want) {
                assert!((a.t_s - b.t_s).abs() < 1e-9, "{header}: {a:?} vs {b:?}");
            }
            assert!(
                r.info().warnings.is_empty(),
                "{header}: {:?}",
                r.info().warnings
            );
        }
        // A unit named over date-times: read as date-times, and said.
        let iso = "time_ms,x,y,z\n2024-03-02T00:00:00.00Z,0,0,1\n2024-03-02T00:00:00.01Z,0,0,1\n";
        let mut r = CsvReader::from_reader(iso.as_bytes()).unwrap();
        let got = drain(&mut r).unwrap();
        assert!((got[1].t_s - got[0].t_s - 0.01).abs() < 1e-6);
        assert!(
            r.info().warnings[0]
                .to_string()
                .contains("names milliseconds but holds date-times"),
            "{:?}",
            r.info().warnings
        );
    }

    const ACTILIFE: &str = "------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 \
        Firmware v2.5.0 date format d/M/yyyy at 30 Hz  Filter Normal -----------\n\
        Serial Number: CLE2B20130000\n\
        Start Time 22:15:00\n\
        Start Date 8/5/2016\n\
        Epoch Period (hh:mm:ss) 00:00:00\n\
        Download Time 10:29:58\n\
        Download Date 15/5/2016\n\
        Current Memory Address: 0\n\
        Current Battery Voltage: 4.21     Mode = 12\n\
        --------------------------------------------------\n";

    /// An ActiLife export of `n` rows: with `columns` (or none) and a `Timestamp` column.
    fn actilife(n: usize, columns: Option<&str>, stamped: bool) -> String {
        let mut text = String::from(ACTILIFE);
        if let Some(c) = columns {
            text.push_str(c);
            text.push('\n');
        }
        for i in 0..n {
            if stamped {
                let ms = i * 1000 / 30;
                let (s, ms) = (ms / 1000, ms % 1000);
                text.push_str(&format!(
                    "8/5/2016 22:{:02}:{:02}.{ms:03},",
                    15 + s / 60,
                    s % 60
                ));
            }
            text.push_str(&format!(
                "{:.3},-0.2,{:.3}\n",
                (i % 7) as f64 * 0.01,
                0.98 - (i % 3) as f64 * 0.01
            ));
        }
        text
    }

    #[test]
    fn actilife_exports_are_read_with_times_from_their_preamble() {
        let start = 1_462_745_700.0; // 2016-05-08 22:15:00
        let plain = actilife(
            3000,
            Some("Accelerometer X,Accelerometer Y,Accelerometer Z"),
            false,
        );
        let variants = [
            plain.clone(),
            plain.replace('\n', "\r\n"),
            actilife(3000, None, false),
            actilife(
                3000,
                Some("Timestamp,Accelerometer X,Accelerometer Y,Accelerometer Z"),
                true,
            ),
        ];
        let want = read_all(plain.as_bytes(), 1 << 20, 1).unwrap();
        assert_eq!(want.len(), 3000);
        for (i, s) in want.iter().enumerate() {
            assert_eq!(s.t_s, start + i as f64 / 30.0);
            assert_eq!(s.acc_g[1], -0.2);
        }
        for (k, text) in variants.iter().enumerate() {
            for (block, threads) in [(1 << 20, 1), (4096, 2), (1, 1), (700, 2)] {
                let got = read_all(text.as_bytes(), block, threads).unwrap();
                assert_eq!(
                    got, want,
                    "variant {k}, {block} B blocks, {threads} threads"
                );
            }
        }
        // A source that gives a byte at a time ends a block right after the preamble.
        let got = drain(
            &mut CsvReaderBuilder::new()
                .block_size_bytes(1)
                .from_reader(Trickle(variants[0].as_bytes()))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(got, want);
        let r = CsvReader::from_reader(variants[3].as_bytes()).unwrap();
        let info = r.info();
        assert_eq!(info.time_base, crate::io::TimeBase::Unix);
        assert_eq!(info.units, AccelUnit::G);
        let d = info.device.as_ref().unwrap();
        assert_eq!(
            (d.device_type.as_str(), d.serial.as_str()),
            ("ActiGraph GT3X+", "CLE2B20130000")
        );
        assert_eq!(d.rate_hz, Some(30.0));
        assert!(
            info.warnings[0].to_string().contains("ActiLife export"),
            "{:?}",
            info.warnings
        );
        // the detector's rate is the preamble's
        assert!((info.rate.head_mean_interval_s * 30.0 - 1.0).abs() < 1e-12);
    }

    /// A source that hands out one byte a read.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let (Some(b), Some(out)) = (self.0.first(), buf.first_mut()) else {
                return Ok(0);
            };
            *out = *b;
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn actilife_errors_name_their_line() {
        // only the preamble: no samples, after its last line
        let e = CsvReader::from_reader(ACTILIFE.as_bytes()).err().unwrap();
        assert!(matches!(e.kind(), ErrorKind::NoSamples), "{e}");
        assert_eq!(e.position().and_then(|p| p.line), Some(10), "{e}");
        // data rows start at line 12 (ten preamble lines, one of names)
        let text = actilife(
            100,
            Some("Accelerometer X,Accelerometer Y,Accelerometer Z"),
            false,
        )
        .replacen("0.050,-0.2", "0.050,oops", 1);
        let e = drain(&mut CsvReader::from_reader(text.as_bytes()).unwrap()).unwrap_err();
        assert_eq!(e.position().and_then(|p| p.line), Some(17), "{e}");
        // cut inside the preamble, or a preamble without its rate
        let cut = &ACTILIFE[..ACTILIFE.len() - 20];
        let e = CsvReader::from_reader(cut.as_bytes()).err().unwrap();
        assert!(
            e.to_string().contains("ends before its closing line"),
            "{e}"
        );
        let no_rate = actilife(10, None, false).replace(" at 30 Hz", "");
        let e = CsvReader::from_reader(no_rate.as_bytes()).err().unwrap();
        assert!(e.to_string().contains("no sample rate"), "{e}");
    }

    #[test]
    fn cr_lf_and_crlf_line_ends_give_the_same_samples() {
        let lf = ramp(5000);
        let whole = read_all(lf.as_bytes(), 1 << 20, 1).unwrap();
        let crlf = lf.replace('\n', "\r\n");
        let cr = lf.replace('\n', "\r");
        // Without a final line end, and with blank lines (whose numbers still count).
        let cr_open = cr.trim_end_matches('\r').to_string();
        let cr_blank = cr.replacen("\r0.01,", "\r\r\r0.01,", 1);
        for (name, text) in [
            ("crlf", &crlf),
            ("cr", &cr),
            ("cr, no final", &cr_open),
            ("cr, blank lines", &cr_blank),
        ] {
            for (block, threads) in [(1 << 20, 1), (1, 1), (7, 2), (100, 2), (4096, 3)] {
                let got = read_all(text.as_bytes(), block, threads)
                    .unwrap_or_else(|e| panic!("{name}, block {block}: {e}"));
                assert_eq!(got, whole, "{name}, block {block}");
            }
        }
        // A bad row in a CR file is named by its line, as in an LF file: sample 4000 is on
        // line 4002, or 4004 after the two blank lines.
        for (text, line) in [(&cr, 4002), (&cr_blank, 4004)] {
            let bad = text.replace("\r40.00,0.1,", "\r40.00,zz,");
            for (block, threads) in [(1 << 20, 1), (64, 2)] {
                let e = read_all(bad.as_bytes(), block, threads).unwrap_err();
                assert_eq!(e.line(), Some(line), "{e}");
            }
        }
    }

    #[test]
    fn iso_times_with_a_decimal_comma_where_a_comma_is_not_the_delimiter() {
        // 2024-01-01 22:00:00 UTC is 1704146400 s (`date -u -d 2024-01-01T22:00:00 +%s`).
        let t0 = 1_704_146_400.0;
        let expect: Vec<Sample> = (0..300)
            .map(|i| Sample::new(t0 + f64::from(i) / 100.0, [0.0, 0.0, 1.0]))
            .collect();
        let row = |i: u32, sep: &str, quote: bool| {
            let q = if quote { "\"" } else { "" };
            format!(
                "{q}2024-01-01T22:00:{:02},{:02}0{q}{sep}0{sep}0{sep}1\n",
                i / 100,
                i % 100
            )
        };
        let file = |head: &str, sep: &str, quote: bool| {
            let mut s = String::from(head);
            for i in 0..300 {
                s.push_str(&row(i, sep, quote));
            }
            s
        };
        for (name, text) in [
            ("semicolons", file("time;x;y;z\n", ";", false)),
            ("semicolons, no header", file("", ";", false)),
            ("tabs", file("time\tx\ty\tz\n", "\t", false)),
            ("quoted, commas", file("time,x,y,z\n", ",", true)),
            ("quoted, no header", file("", ",", true)),
        ] {
            for (block, threads) in [(1 << 20, 1), (50, 2)] {
                let got = read_all(text.as_bytes(), block, threads)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(got, expect, "{name}, block {block}");
            }
        }
        // Unquoted in a comma-delimited file the comma splits the field: the row has one
        // field too many, an error at its line rather than a misread time.
        let text = file("time,x,y,z\n", ",", false);
        let e = read_all(text.as_bytes(), 1 << 20, 1).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::FieldCount { .. }), "{e}");
        assert_eq!(e.line(), Some(2));
    }

    #[test]
    fn a_reader_dropped_mid_file_stops_its_threads() {
        let text = ramp(20_000);
        for _ in 0..20 {
            let mut r = CsvReaderBuilder::new()
                .block_size_bytes(256)
                .threads(3)
                .from_reader(text.as_bytes())
                .unwrap();
            let mut buf = vec![Sample::default(); 5000];
            assert_eq!(
                r.read_samples(&mut buf).unwrap(),
                5000,
                "chunks cross blocks"
            );
            drop(r); // joins the workers: a hang here fails the test run
        }
    }
}
