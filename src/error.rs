//! Errors: one type for reading and streaming, one for building a config.
//!
//! [`Error`] is one pointer wide (`Box`ed), carries an [`ErrorKind`] a caller can match on and
//! an optional [`Position`] (file, line, byte, block, sample), and displays like a compiler
//! diagnostic: `night03.csv:1042: column "z": expected a number (g), found "--"`.
//! Constructors are `#[cold]` so the hot row and sample loops stay small.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input something was found.
///
/// Every field is optional: a text reader knows the line, a device decoder the byte offset and
/// block, a detector the sample index. Lines count from 1 and include the header; byte
/// offsets, blocks and sample indices count from 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// The file the input came from, when it came from one.
    pub file: Option<PathBuf>,
    /// Line, from 1, counting the header line (text formats).
    pub line: Option<u64>,
    /// Byte offset from the start of the input, from 0.
    pub byte: Option<u64>,
    /// Block, page or record number, from 0 (device formats).
    pub block: Option<u64>,
    /// Index of the sample in the stream, from 0.
    pub sample_idx: Option<u64>,
}

impl Position {
    /// A position on a line of a text input (line from 1).
    pub fn line(line: u64) -> Self {
        Position {
            line: Some(line),
            ..Position::default()
        }
    }

    /// A position at a byte offset of a binary input (from 0).
    pub fn byte(byte: u64) -> Self {
        Position {
            byte: Some(byte),
            ..Position::default()
        }
    }

    /// A position in a block (page, record) of a device file, with its byte offset.
    pub fn block(block: u64, byte: u64) -> Self {
        Position {
            block: Some(block),
            byte: Some(byte),
            ..Position::default()
        }
    }

    /// A position in a stream of pushed samples (index from 0).
    pub fn sample(sample_idx: u64) -> Self {
        Position {
            sample_idx: Some(sample_idx),
            ..Position::default()
        }
    }
}

impl fmt::Display for Position {
    /// `file:line`, `file: byte 512 (block 1)`, `sample 42`, … whatever is known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            wrote = true;
        }
        if let Some(line) = self.line {
            if wrote {
                write!(f, ":{line}")?;
            } else {
                write!(f, "line {line}")?;
            }
            return Ok(());
        }
        let mut sep = if wrote { ": " } else { "" };
        if let Some(byte) = self.byte {
            write!(f, "{sep}byte {byte}")?;
            sep = " ";
        }
        if let Some(block) = self.block {
            if self.byte.is_some() {
                write!(f, "{sep}(block {block})")?;
            } else {
                write!(f, "{sep}block {block}")?;
            }
            sep = " ";
        }
        if let Some(idx) = self.sample_idx {
            write!(f, "{sep}sample {idx}")?;
        }
        Ok(())
    }
}

/// What went wrong, for a caller to match on.
///
/// Messages are lower case, without a final period, and give what was expected and what was
/// found, with units.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading the input failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
    /// Writing an output (events, summary, picture, table) failed, or cannot start: the
    /// error's position names the file.
    #[error("write failed: {0}")]
    Write(std::io::Error),
    /// The input holds no bytes at all.
    #[error("the file is empty")]
    Empty,
    /// The input has a header (or device header) but not one sample.
    #[error("no samples: the input ends after its header")]
    NoSamples,
    /// The input is not text where text was expected (binary data, invalid UTF-8, NUL bytes).
    #[error("not a text file: {what}")]
    NotText {
        /// What was found instead, e.g. "byte 0x00".
        what: String,
    },
    /// A required column is not in the header.
    #[error("no {column} column in header {header:?}; expected one of {expected}")]
    MissingColumn {
        /// The role that is missing: "time", "x", "y" or "z".
        column: &'static str,
        /// The header as found.
        header: String,
        /// The names that would have been accepted.
        expected: &'static str,
    },
    /// The header can be read but makes no sense (duplicate roles, mixed units…).
    #[error("bad header: {reason}")]
    BadHeader {
        /// What is wrong with it.
        reason: String,
    },
    /// A field that must be a number is not one.
    #[error("column {column:?}: expected a number ({unit}), found {found:?}")]
    NotANumber {
        /// The column's name as in the header (or its role without a header).
        column: String,
        /// The unit expected, e.g. "g" or "s".
        unit: &'static str,
        /// The field as found (truncated to 40 characters).
        found: String,
    },
    /// A number is NaN or infinite.
    #[error("column {column:?}: expected a finite number, found {found:?}")]
    NotFinite {
        /// The column's name as in the header.
        column: String,
        /// The field as found.
        found: String,
    },
    /// An acceleration beyond what any accelerometer reports (±64 g).
    #[error(
        "column {column:?}: {value} {unit} is beyond the ±{limit} {unit} any accelerometer reports"
    )]
    OutOfRange {
        /// The column's name as in the header.
        column: String,
        /// The value found, in the input's unit.
        value: f64,
        /// The limit, in the input's unit.
        limit: f64,
        /// The input's unit ("g" or "m/s²").
        unit: &'static str,
    },
    /// A time field that is neither seconds nor an ISO-8601 date-time.
    #[error("column {column:?}: expected seconds or an ISO-8601 date-time, found {found:?}")]
    BadTime {
        /// The column's name as in the header.
        column: String,
        /// The field as found.
        found: String,
    },
    /// Time does not increase from one sample to the next.
    #[error("time {verb}: {t_s} s follows {prev_t_s} s")]
    TimeNotIncreasing {
        /// "goes backwards" or "repeats".
        verb: &'static str,
        /// The offending time, in seconds on the input's clock.
        t_s: f64,
        /// The time of the sample before it, in seconds.
        prev_t_s: f64,
    },
    /// A row with fewer (or more) fields than the header.
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// Number of fields the header (or the first row) has.
        expected: usize,
        /// Number of fields on this row.
        found: usize,
    },
    /// The recording is sampled too slowly for the movements this crate detects. When the
    /// rate would be a plausible one had the times been milliseconds or microseconds (a
    /// median step 1,000 or 1,000,000 times an accelerometer's), the message says so.
    #[error(
        "sample rate {rate_hz:.2} Hz is below the {min_hz} Hz minimum: movements of 0.1-0.5 s \
         cannot be seen{}",
        time_unit_hint(*rate_hz, *min_hz)
    )]
    RateTooLow {
        /// The rate found, from the median sample interval, in Hz.
        rate_hz: f64,
        /// The minimum accepted, in Hz.
        min_hz: f64,
    },
    /// A device file that does not follow its format (bad magic, bad field, truncated block).
    #[error("{format}: {reason}")]
    Format {
        /// The format's name, e.g. "cwa".
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A device-file block whose checksum does not match its contents.
    #[error("{format}: checksum mismatch (stored {stored:#06x}, computed {computed:#06x})")]
    Checksum {
        /// The format's name, e.g. "cwa".
        format: &'static str,
        /// The checksum stored in the block.
        stored: u32,
        /// The checksum computed from the block.
        computed: u32,
    },
    /// A pushed sample that cannot be processed (non-finite value, time not increasing).
    #[error("sample {sample_idx}: {reason}")]
    Sample {
        /// Index of the sample in the stream, from 0.
        sample_idx: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A config that failed validation.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Anything else a reader or writer of auxiliary files reports (events, truth, config).
    #[error("{0}")]
    Other(String),
}

/// Highest sample rate taken as plausible when guessing that times are not in seconds, in
/// Hz: the fastest common accelerometers (Axivity AX3, 3,200 Hz) with room to spare.
const MAX_PLAUSIBLE_RATE_HZ: f64 = 4000.0;

/// For a rate below the minimum, a hint when it would be a plausible accelerometer rate (from
/// `min_hz` to [`MAX_PLAUSIBLE_RATE_HZ`]) with the times read as milliseconds or
/// microseconds; else nothing.
fn time_unit_hint(rate_hz: f64, min_hz: f64) -> String {
    for (factor, unit) in [(1e3, "milliseconds"), (1e6, "microseconds")] {
        let scaled = rate_hz * factor;
        if (min_hz..=MAX_PLAUSIBLE_RATE_HZ).contains(&scaled) {
            return format!(
                "; the times may be in {unit} (that would be {scaled:.2} Hz): give them in seconds"
            );
        }
    }
    String::new()
}

/// An error from reading an input or running a detector.
///
/// One pointer wide. `Display` prints the position first, then the kind:
/// `night03.csv:1042: column "z": expected a number (g), found "--"`.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    position: Option<Position>,
}

impl Error {
    /// An error of the given kind, without a position.
    #[cold]
    #[inline(never)]
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner {
            kind,
            position: None,
        }))
    }

    /// An error of the given kind at a position.
    #[cold]
    #[inline(never)]
    pub fn at(kind: ErrorKind, position: Position) -> Self {
        Error(Box::new(Inner {
            kind,
            position: Some(position),
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> ErrorKind {
        self.0.kind
    }

    /// Where it went wrong, if known.
    pub fn position(&self) -> Option<&Position> {
        self.0.position.as_ref()
    }

    /// The line (from 1, counting the header) where it went wrong, if known.
    pub fn line(&self) -> Option<u64> {
        self.position().and_then(|p| p.line)
    }

    /// A failed write of `file`: [`ErrorKind::Write`], naming the file.
    #[cold]
    #[inline(never)]
    pub fn write(e: std::io::Error, file: &Path) -> Self {
        Error::new(ErrorKind::Write(e)).in_file(file)
    }

    /// Names the file the error belongs to (kept if one is already named).
    #[must_use]
    pub fn in_file(mut self, file: &Path) -> Self {
        let position = self.0.position.get_or_insert_with(Position::default);
        if position.file.is_none() {
            position.file = Some(file.to_path_buf());
        }
        self
    }

    /// [`in_file`](Self::in_file) when a file is known: a reader of any input names its
    /// file only when it was opened by path.
    #[must_use]
    pub(crate) fn in_file_if(self, file: Option<&Path>) -> Self {
        match file {
            Some(f) => self.in_file(f),
            None => self,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.position {
            Some(p) if *p != Position::default() => write!(f, "{p}: {}", self.0.kind),
            _ => write!(f, "{}", self.0.kind),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("position", &self.0.position)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Io(e) | ErrorKind::Write(e) => Some(e),
            ErrorKind::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ErrorKind> for Error {
    #[cold]
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<std::io::Error> for Error {
    #[cold]
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io(e))
    }
}

impl From<ConfigError> for Error {
    #[cold]
    fn from(e: ConfigError) -> Self {
        Error::new(ErrorKind::Config(e))
    }
}

/// A config value that breaks a rule, found while validating before anything is built.
///
/// `Display`: "`hp_cutoff_hz` = 80 must be below Nyquist, 50 Hz".
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The field's name, as in [`Config`](crate::Config) and config files.
    pub field: &'static str,
    /// The value given, as text.
    pub value: String,
    /// The rule it breaks, e.g. "must be below Nyquist, 50 Hz".
    pub rule: String,
}

impl ConfigError {
    /// A field, the value given and the rule it breaks.
    #[cold]
    #[inline(never)]
    pub fn new(field: &'static str, value: impl fmt::Display, rule: impl Into<String>) -> Self {
        ConfigError {
            field,
            value: value.to_string(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` = {} {}", self.field, self.value, self.rule)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_reads_like_a_diagnostic() {
        let e = Error::at(
            ErrorKind::NotANumber {
                column: "z".into(),
                unit: "g",
                found: "--".into(),
            },
            Position::line(1042),
        )
        .in_file(Path::new("night03.csv"));
        assert_eq!(
            e.to_string(),
            r#"night03.csv:1042: column "z": expected a number (g), found "--""#
        );
        assert_eq!(e.line(), Some(1042));
    }

    #[test]
    fn block_positions_name_byte_and_block() {
        let e = Error::at(
            ErrorKind::Checksum {
                format: "cwa",
                stored: 0x1234,
                computed: 0xbeef,
            },
            Position::block(13, 13 * 512 + 1024),
        )
        .in_file(Path::new("a.cwa"));
        assert_eq!(
            e.to_string(),
            "a.cwa: byte 7680 (block 13): cwa: checksum mismatch (stored 0x1234, computed 0xbeef)"
        );
    }

    #[test]
    fn a_rate_a_thousand_times_too_low_suggests_milliseconds() {
        let low = |rate_hz: f64| {
            ErrorKind::RateTooLow {
                rate_hz,
                min_hz: 10.0,
            }
            .to_string()
        };
        let base = "sample rate 0.10 Hz is below the 10 Hz minimum: movements of 0.1-0.5 s \
                    cannot be seen";
        // 100 Hz with times in milliseconds: a median step of 10 read as seconds.
        assert_eq!(
            low(0.1),
            format!(
                "{base}; the times may be in milliseconds (that would be 100.00 Hz): give them \
                 in seconds"
            )
        );
        // 50 Hz in microseconds: steps of 20,000.
        assert!(
            low(5e-5).ends_with("in microseconds (that would be 50.00 Hz): give them in seconds"),
            "{}",
            low(5e-5)
        );
        // 5 Hz read as 5,000 Hz, one sample in 200 s as 5 Hz or 5,000 Hz: no hint.
        for rate in [5.0, 0.005, 0.0, f64::INFINITY, f64::NAN] {
            assert!(!low(rate).contains("the times may be"), "{}", low(rate));
        }
    }

    #[test]
    fn writes_say_they_are_writes() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory");
        let e = Error::write(io, Path::new("out/e.csv"));
        assert_eq!(e.to_string(), "out/e.csv: write failed: no such directory");
        assert!(matches!(e.kind(), ErrorKind::Write(_)));
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn config_error_names_field_value_and_rule() {
        let e = ConfigError::new("hp_cutoff_hz", 80, "must be below Nyquist, 50 Hz");
        assert_eq!(
            e.to_string(),
            "`hp_cutoff_hz` = 80 must be below Nyquist, 50 Hz"
        );
        let e: Error = e.into();
        assert!(matches!(e.kind(), ErrorKind::Config(c) if c.field == "hp_cutoff_hz"));
    }
}
