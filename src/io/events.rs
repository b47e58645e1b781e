//! The events CSV: one row per [`Event`], as written by detectors and read by the scorer.
//!
//! The header starts with exactly `onset_s,offset_s,kind`; the writer adds the rest of
//! [`EVENT_COLUMNS`] (`sites`, `peak_g`, `mean_g`, `angle_deg`, `peak_jerk_g_per_s`,
//! `confidence`, `series_id`, `imi_s`). The reader needs only the first three: known columns
//! are found by name wherever they sit, unknown ones are ignored, and a missing column takes
//! [`Event::new`]'s default (zero, `confidence` 1, no series, no IMI). Truth files from the
//! simulator use the same layout.
//!
//! Numbers are written in Rust's shortest round-trip form, so reading a file back gives the
//! very same `f64`: a Unix-epoch time such as `1700000000.123456` keeps its microseconds
//! (an f64 resolves about 0.24 µs there). Empty `series_id` and `imi_s` fields mean none.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{Error, ErrorKind, Event, Kind, Position, Sites};

/// The columns the writer emits, in order; the first three are required when reading.
pub const EVENT_COLUMNS: [&str; 11] = [
    "onset_s",
    "offset_s",
    "kind",
    "sites",
    "peak_g",
    "mean_g",
    "angle_deg",
    "peak_jerk_g_per_s",
    "confidence",
    "series_id",
    "imi_s",
];

/// Writes events as CSV rows under the [`EVENT_COLUMNS`] header.
pub struct EventWriter<W: Write> {
    wtr: csv::Writer<W>,
    /// One reused row of formatted fields.
    row: Vec<String>,
}

impl<W: Write> EventWriter<W> {
    /// A writer that has written the header to `w`.
    ///
    /// # Errors
    /// When writing the header fails.
    pub fn new(w: W) -> Result<Self, Error> {
        let mut wtr = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        wtr.write_record(EVENT_COLUMNS).map_err(csv_write_error)?;
        Ok(EventWriter {
            wtr,
            row: vec![String::new(); EVENT_COLUMNS.len()],
        })
    }

    /// Writes one event as a row.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write(&mut self, e: &Event) -> Result<(), Error> {
        use std::fmt::Write as _;
        for f in &mut self.row {
            f.clear();
        }
        let [onset, offset, kind, sites, peak, mean, angle, jerk, conf, series, imi] =
            &mut self.row[..]
        else {
            // The row is built with EVENT_COLUMNS.len() fields and never resized.
            return Err(Error::new(ErrorKind::Other(
                "event row has the wrong width".into(),
            )));
        };
        // Writing into a String cannot fail.
        let _ = write!(onset, "{}", e.onset_s);
        let _ = write!(offset, "{}", e.offset_s);
        kind.push_str(e.kind.as_str());
        let _ = write!(sites, "{}", e.sites);
        let _ = write!(peak, "{}", e.peak_g);
        let _ = write!(mean, "{}", e.mean_g);
        let _ = write!(angle, "{}", e.angle_deg);
        let _ = write!(jerk, "{}", e.peak_jerk_g_per_s);
        let _ = write!(conf, "{}", e.confidence);
        if let Some(id) = e.series_id {
            let _ = write!(series, "{id}");
        }
        if let Some(d) = e.imi_s {
            let _ = write!(imi, "{d}");
        }
        self.wtr.write_record(&self.row).map_err(csv_write_error)
    }

    /// Flushes buffered rows to the underlying writer.
    ///
    /// # Errors
    /// When flushing fails.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.wtr
            .flush()
            .map_err(|e| Error::new(ErrorKind::Write(e)))
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// When flushing fails.
    pub fn into_inner(self) -> Result<W, Error> {
        self.wtr
            .into_inner()
            .map_err(|e| Error::new(ErrorKind::Write(std::io::Error::other(e.to_string()))))
    }
}

/// Writes `events` to a new file at `path` (replacing any).
///
/// # Errors
/// When the file cannot be created or written; the error names the file.
pub fn write_events(path: &Path, events: &[Event]) -> Result<(), Error> {
    let run = || -> Result<(), Error> {
        let file = File::create(path).map_err(|e| Error::write(e, path))?;
        let mut w = EventWriter::new(std::io::BufWriter::new(file))?;
        for e in events {
            w.write(e)?;
        }
        w.flush()
    };
    run().map_err(|e| e.in_file(path))
}

/// Where each known column sits in a file's header.
#[derive(Clone, Copy, Debug, Default)]
struct Columns {
    sites: Option<usize>,
    peak_g: Option<usize>,
    mean_g: Option<usize>,
    angle_deg: Option<usize>,
    peak_jerk_g_per_s: Option<usize>,
    confidence: Option<usize>,
    series_id: Option<usize>,
    imi_s: Option<usize>,
}

/// Reads events from an events CSV, one row at a time.
pub struct EventReader<R: Read> {
    rdr: csv::Reader<R>,
    cols: Columns,
    file: Option<PathBuf>,
    record: csv::StringRecord,
}

impl<R: Read> EventReader<R> {
    /// A reader over `r` that has read and checked the header; `file` names the input in errors.
    ///
    /// # Errors
    /// When the input is empty or unreadable, or its header does not start with
    /// `onset_s,offset_s,kind`.
    pub fn new(r: R, file: Option<&Path>) -> Result<Self, Error> {
        let at = |e: Error| e.in_file_if(file);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(r);
        let mut header = csv::StringRecord::new();
        if !rdr.read_record(&mut header).map_err(|e| at(csv_error(e)))? {
            return Err(at(Error::new(ErrorKind::Empty)));
        }
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                h.trim().to_ascii_lowercase()
            })
            .collect();
        let first: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
        if first != ["onset_s", "offset_s", "kind"] {
            return Err(at(Error::at(
                ErrorKind::BadHeader {
                    reason: format!(
                        "the first three columns must be onset_s,offset_s,kind; found {:?}",
                        names.join(",")
                    ),
                },
                Position::line(1),
            )));
        }
        let find = |name: &str| names.iter().position(|n| n == name);
        let cols = Columns {
            sites: find("sites"),
            peak_g: find("peak_g"),
            mean_g: find("mean_g"),
            angle_deg: find("angle_deg"),
            peak_jerk_g_per_s: find("peak_jerk_g_per_s"),
            confidence: find("confidence"),
            series_id: find("series_id"),
            imi_s: find("imi_s"),
        };
        Ok(EventReader {
            rdr,
            cols,
            file: file.map(Path::to_path_buf),
            record: csv::StringRecord::new(),
        })
    }

    /// Reads the next event; `Ok(None)` at the end of the input.
    ///
    /// # Errors
    /// A row with the wrong number of fields, a field that does not parse (number, kind,
    /// sites), a non-finite time, or `offset_s < onset_s`; the error names file and line.
    pub fn read_event(&mut self) -> Result<Option<Event>, Error> {
        let more = self
            .rdr
            .read_record(&mut self.record)
            .map_err(|e| self.locate(csv_error(e), None))?;
        if !more {
            return Ok(None);
        }
        let line = self.record.position().map(|p| p.line());
        let e = parse_row(&self.record, &self.cols).map_err(|e| self.locate(e, line))?;
        Ok(Some(e))
    }

    /// Reads every remaining event.
    ///
    /// # Errors
    /// As for [`EventReader::read_event`].
    pub fn read_all(&mut self) -> Result<Vec<Event>, Error> {
        let mut out = Vec::new();
        while let Some(e) = self.read_event()? {
            out.push(e);
        }
        Ok(out)
    }

    #[cold]
    #[inline(never)]
    fn locate(&self, e: Error, line: Option<u64>) -> Error {
        let e = match (line, e.position().is_some()) {
            (Some(l), false) => Error::at(e.into_kind(), Position::line(l)),
            _ => e,
        };
        e.in_file_if(self.file.as_deref())
    }
}

/// Reads every event of the events CSV at `path`.
///
/// # Errors
/// When the file cannot be opened or read, or as for [`EventReader::read_event`]; errors
/// name the file and line.
pub fn read_events(path: &Path) -> Result<Vec<Event>, Error> {
    let f = File::open(path).map_err(|e| Error::from(e).in_file(path))?;
    EventReader::new(std::io::BufReader::new(f), Some(path))?.read_all()
}

fn parse_row(r: &csv::StringRecord, c: &Columns) -> Result<Event, Error> {
    let onset_s = time(r, 0, "onset_s")?;
    let offset_s = time(r, 1, "offset_s")?;
    let kind_field = r.get(2).unwrap_or("");
    let kind: Kind = kind_field
        .parse()
        .map_err(|e| other(format!("column \"kind\": {e}")))?;
    if offset_s < onset_s {
        return Err(other(format!(
            "offset_s {offset_s} s is before onset_s {onset_s} s"
        )));
    }
    let mut e = Event::new(onset_s, offset_s, kind);
    if let Some(f) = field(r, c.sites) {
        e.sites = f
            .parse::<Sites>()
            .map_err(|m| other(format!("column \"sites\": {m}")))?;
    }
    let number =
        |idx: Option<usize>, name: &str, unit: &'static str| -> Result<Option<f64>, Error> {
            field(r, idx).map(|f| num(f, name, unit)).transpose()
        };
    if let Some(v) = number(c.peak_g, "peak_g", "g")? {
        e.peak_g = v;
    }
    if let Some(v) = number(c.mean_g, "mean_g", "g")? {
        e.mean_g = v;
    }
    if let Some(v) = number(c.angle_deg, "angle_deg", "degrees")? {
        e.angle_deg = v;
    }
    if let Some(v) = number(c.peak_jerk_g_per_s, "peak_jerk_g_per_s", "g/s")? {
        e.peak_jerk_g_per_s = v;
    }
    if let Some(v) = number(c.confidence, "confidence", "0 to 1")? {
        e.confidence = v;
    }
    e.imi_s = number(c.imi_s, "imi_s", "s")?;
    if let Some(f) = field(r, c.series_id) {
        e.series_id = Some(f.parse::<u32>().map_err(|_| {
            Error::new(ErrorKind::NotANumber {
                column: "series_id".into(),
                unit: "a whole number from 1",
                found: truncate(f),
            })
        })?);
    }
    Ok(e)
}

/// The field at `idx`, or `None` when the column is absent or the field empty.
fn field(r: &csv::StringRecord, idx: Option<usize>) -> Option<&str> {
    idx.and_then(|i| r.get(i)).filter(|f| !f.is_empty())
}

fn time(r: &csv::StringRecord, idx: usize, name: &str) -> Result<f64, Error> {
    num(r.get(idx).unwrap_or(""), name, "s")
}

fn num(f: &str, name: &str, unit: &'static str) -> Result<f64, Error> {
    let v: f64 = f.parse().map_err(|_| {
        Error::new(ErrorKind::NotANumber {
            column: name.to_string(),
            unit,
            found: truncate(f),
        })
    })?;
    if !v.is_finite() {
        return Err(Error::new(ErrorKind::NotFinite {
            column: name.to_string(),
            found: truncate(f),
        }));
    }
    Ok(v)
}

fn truncate(f: &str) -> String {
    f.chars().take(40).collect()
}

#[cold]
#[inline(never)]
fn other(msg: String) -> Error {
    Error::new(ErrorKind::Other(msg))
}

/// Turns a csv error met while writing into ours: its io errors are failed writes.
#[cold]
#[inline(never)]
fn csv_write_error(e: csv::Error) -> Error {
    if e.is_io_error() {
        if let csv::ErrorKind::Io(io) = e.into_kind() {
            return Error::new(ErrorKind::Write(io));
        }
        return other("csv: write failed".into());
    }
    csv_error(e)
}

/// Turns a csv error into ours, keeping its line.
#[cold]
#[inline(never)]
fn csv_error(e: csv::Error) -> Error {
    let line = e.position().map(csv::Position::line);
    let kind = match e.into_kind() {
        csv::ErrorKind::Io(io) => ErrorKind::Io(io),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => ErrorKind::FieldCount {
            expected: usize::try_from(expected_len).unwrap_or(usize::MAX),
            found: usize::try_from(len).unwrap_or(usize::MAX),
        },
        csv::ErrorKind::Utf8 { err, .. } => ErrorKind::NotText {
            what: format!("invalid UTF-8 in field {}", err.field() + 1),
        },
        other => ErrorKind::Other(format!("csv: {other:?}")),
    };
    match line {
        Some(l) => Error::at(kind, Position::line(l)),
        None => Error::new(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Site;

    fn read_str(s: &str) -> Result<Vec<Event>, Error> {
        EventReader::new(s.as_bytes(), Some(Path::new("ev.csv")))?.read_all()
    }

    /// A sink that refuses every byte, as a full disk or a closed pipe does.
    struct Refuses;

    impl std::io::Write for Refuses {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::other("disk full"))
        }
    }

    #[test]
    fn failed_writes_are_write_errors_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("sleeptwitch-ev-{}", std::process::id()));
        let path = dir.join("missing").join("e.csv");
        let e = write_events(&path, &[Event::new(0.5, 0.6, Kind::Lm)]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Write(_)), "{e:?}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("{}: write failed: ", path.display())),
            "{shown}"
        );
        // csv buffers the header; the refusal comes with the flush.
        let mut w = EventWriter::new(Refuses).unwrap();
        w.write(&Event::new(0.5, 0.6, Kind::Lm)).unwrap();
        let e = w.flush().unwrap_err();
        assert_eq!(e.to_string(), "write failed: disk full");
    }

    #[test]
    fn round_trip_is_exact_including_epoch_microseconds() {
        let mut e = Event::new(1_700_000_000.123_456, 1_700_000_002.654_321, Kind::Plm);
        e.sites = Sites::one(Site::LeftAnkle).with(Site::RightAnkle);
        e.peak_g = 0.031_25;
        e.mean_g = 0.01;
        e.angle_deg = -3.5;
        e.peak_jerk_g_per_s = 12.0;
        e.confidence = 0.9;
        e.series_id = Some(3);
        e.imi_s = Some(21.7);
        let events = [e, Event::new(0.5, 0.6, Kind::HypnicJerk)];
        let mut w = EventWriter::new(Vec::new()).unwrap();
        for e in &events {
            w.write(e).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("onset_s,offset_s,kind,sites,"));
        // The microseconds survive as digits in the file, not only as bits.
        assert!(text.contains("1700000000.123456"), "{text}");
        let back = read_str(&text).unwrap();
        assert_eq!(back, events);
    }

    #[test]
    fn three_columns_suffice_and_unknown_columns_are_ignored() {
        let ev = read_str("onset_s,offset_s,kind,leg,imi_s\n1,2.5,lm,left,\n3,4,plm,right,12\n")
            .unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0], Event::new(1.0, 2.5, Kind::Lm));
        assert_eq!(ev[1].imi_s, Some(12.0));
        assert_eq!(ev[1].confidence, 1.0);
        let ev = read_str("\u{feff}onset_s, offset_s ,kind\r\n1,2,activity\r\n").unwrap();
        assert_eq!(ev, [Event::new(1.0, 2.0, Kind::Activity)]);
        assert!(read_str("onset_s,offset_s,kind\n").unwrap().is_empty());
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            (
                "onset_s,offset_s,kind\n1,2,lm\n3,x,lm\n",
                "ev.csv:3: column \"offset_s\": expected a number (s), found \"x\"",
            ),
            (
                "onset_s,offset_s,kind\n1,2,jerk\n",
                "ev.csv:2: column \"kind\": unknown event kind",
            ),
            (
                "onset_s,offset_s,kind\n5,3,lm\n",
                "ev.csv:2: offset_s 3 s is before onset_s 5 s",
            ),
            (
                "onset_s,offset_s,kind\n1,2\n",
                "ev.csv:2: expected 3 fields, found 2",
            ),
            (
                "onset_s,offset_s,kind\nNaN,2,lm\n",
                "ev.csv:2: column \"onset_s\": expected a finite number",
            ),
            (
                "onset_s,offset_s,kind,series_id\n1,2,plm,-1\n",
                "ev.csv:2: column \"series_id\"",
            ),
            (
                "onset_s,offset_s,kind,sites\n1,2,plm,knee\n",
                "ev.csv:2: column \"sites\": unknown site",
            ),
            ("start,end,kind\n1,2,lm\n", "ev.csv:1: bad header"),
            ("", "ev.csv: the file is empty"),
        ];
        for (text, want) in cases {
            let got = read_str(text).unwrap_err().to_string();
            assert!(
                got.starts_with(want),
                "{text:?}: got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn files_round_trip_and_missing_files_are_named() {
        let dir = std::env::temp_dir().join(format!("sleeptwitch-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("night.events.csv");
        let events = [Event::new(10.0, 12.0, Kind::PostureChange)];
        write_events(&path, &events).unwrap();
        assert_eq!(read_events(&path).unwrap(), events);
        let missing = dir.join("missing.csv");
        let err = read_events(&missing).unwrap_err();
        assert!(err.to_string().contains("missing.csv"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
