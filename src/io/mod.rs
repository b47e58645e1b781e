//! Reading recordings: one [`Source`] abstraction over CSV and device files.
//!
//! Every reader hands out [`Sample`]s in chunks of the caller's choosing, from any
//! `std::io::Read`, with memory that does not grow with the recording, and checks every
//! sample the same way (finite, within ±64 g, time strictly increasing; gaps found by one
//! rule, max(1 s, 5 × the median interval)). What it learnt about the recording — rate and
//! jitter, gaps, units, warnings, device metadata — is in [`RecordingInfo`].

pub(crate) mod check;
mod csv;
mod cwa;
mod device;
mod events;
mod geneactiv;
mod gt3x;
mod idle;
mod matrix;
mod open;
mod zip;

pub use check::HeadInterval;
pub(crate) use check::{median, median_interval_s, SampleCheck};
pub use check::{MAX_ABS_G, MIN_RATE_HZ};
pub use csv::{iso8601_utc, CsvReader, CsvReaderBuilder, UNIX_FROM_S};
pub use cwa::CwaReader;
pub use device::open_device;
pub use events::{read_events, write_events, EventReader, EventWriter, EVENT_COLUMNS};
pub use geneactiv::GeneactivReader;
pub use gt3x::Gt3xReader;
pub use idle::{idle_fill_by_default, IdleFill};
pub use matrix::MatrixReader;
pub use open::{open, FileKind, OpenOptions};

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Gap, Position, Sample};

/// A recording that yields samples in chunks.
pub trait Source {
    /// Fills the front of `out` with the next samples and returns how many it wrote; `Ok(0)`
    /// (with a non-empty `out`) means the recording has ended.
    ///
    /// # Errors
    /// On input that cannot be read or does not follow its format; the error names the
    /// position (file, line or byte, block). After an error the source is done.
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error>;

    /// What is known of the recording so far; complete once `read_samples` has returned 0.
    fn info(&self) -> &RecordingInfo;
}

impl<S: Source + ?Sized> Source for Box<S> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        (**self).read_samples(out)
    }
    fn info(&self) -> &RecordingInfo {
        (**self).info()
    }
}

/// The file format a recording came in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Text: a time column and three acceleration columns.
    #[default]
    Csv,
    /// Axivity AX3/AX6 `.cwa`.
    Cwa,
    /// GENEActiv `.bin`.
    GeneactivBin,
    /// ActiGraph `.gt3x`.
    Gt3x,
    /// Parmay Matrix `.BIN`.
    MatrixBin,
    /// Samples handed over in memory.
    Memory,
}

/// The unit of acceleration in an input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccelUnit {
    /// Standard gravity, g.
    #[default]
    #[serde(rename = "g")]
    G,
    /// Metres per second squared; divided by 9.80665 on reading.
    #[serde(rename = "m/s2")]
    MPerS2,
}

impl AccelUnit {
    /// The unit's symbol as shown to people ("g", "m/s²").
    pub const fn symbol(self) -> &'static str {
        match self {
            AccelUnit::G => "g",
            AccelUnit::MPerS2 => "m/s²",
        }
    }

    /// Multiplier from this unit to g.
    pub fn to_g(self) -> f64 {
        match self {
            AccelUnit::G => 1.0,
            AccelUnit::MPerS2 => 1.0 / crate::sample::STANDARD_GRAVITY_MPS2,
        }
    }
}

impl fmt::Display for AccelUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// How the unit of acceleration was decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitsFrom {
    /// Named in a column header (`x_ms2`, `acc_x_g`, …).
    Header,
    /// From the median vector magnitude of the first seconds (≈ 1 → g, ≈ 9.8 → m/s²).
    #[default]
    Magnitude,
    /// Set by the caller.
    Caller,
    /// Fixed by the device format.
    Device,
}

/// What the time column holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBase {
    /// Seconds from some start, not an absolute time.
    #[default]
    Relative,
    /// Seconds since 1970-01-01 00:00:00 UTC (or the device's local clock read as such).
    Unix,
    /// ISO-8601 date-times, converted to Unix seconds; naive times are taken as UTC.
    Iso8601,
}

/// Sample rate as estimated from the timestamps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RateInfo {
    /// Samples per second: 1 / mean interval over all intervals that are not gaps, in Hz.
    pub rate_hz: f64,
    /// Median interval of the first intervals, used for the gap rule, in seconds.
    pub median_interval_s: f64,
    /// Mean of the first intervals within half and one and a half times the median, in
    /// seconds: the interval the analyses build their detector for (see [`HeadInterval`]);
    /// 0 when unknown.
    #[serde(default)]
    pub head_mean_interval_s: f64,
    /// Standard deviation of the intervals that are not gaps, in seconds.
    pub jitter_s: f64,
    /// Longest interval that is not a gap, in seconds.
    pub max_interval_s: f64,
    /// Rate the device was configured for, in Hz, when the format records it.
    pub nominal_hz: Option<f64>,
}

/// What a device file says about the device and its set-up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Device type, e.g. "AX3", "GENEActiv 1.1", "wGT3X-BT".
    pub device_type: String,
    /// Serial number or device identifier.
    pub serial: String,
    /// Configured sample rate, in Hz.
    pub rate_hz: Option<f64>,
    /// Configured range, ± this many g.
    pub range_g: Option<f64>,
    /// Recording start on the device clock, in seconds (Unix epoch as stored).
    pub start_s: Option<f64>,
    /// Body location, where the file records it.
    pub location: Option<String>,
    /// Anything else worth keeping (firmware, time zone, …), as name/value pairs.
    pub extra: Vec<(String, String)>,
}

/// Something a reader handled but the user should know about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// Where, when it has a place (a file line, a device block).
    #[serde(skip)]
    pub position: Option<Position>,
    /// What happened, in words (lower case, no final period).
    pub message: String,
}

impl Warning {
    /// A warning at a position.
    pub fn at(position: Position, message: impl Into<String>) -> Self {
        Warning {
            position: Some(position),
            message: message.into(),
        }
    }

    /// A warning about the whole input.
    pub fn new(message: impl Into<String>) -> Self {
        Warning {
            position: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What a reader learnt about a recording.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordingInfo {
    /// The file format.
    pub format: Format,
    /// The unit the input was in (samples are always handed out in g).
    pub units: AccelUnit,
    /// How that unit was decided.
    pub units_from: UnitsFrom,
    /// What the time column held.
    pub time_base: TimeBase,
    /// Samples handed out so far.
    pub n_samples: u64,
    /// Time of the first sample, in seconds on the input's clock.
    pub start_s: Option<f64>,
    /// Time of the last sample handed out, in seconds on the input's clock.
    pub end_s: Option<f64>,
    /// Sample rate and its jitter.
    pub rate: RateInfo,
    /// Gaps found so far, in time order.
    pub gaps: Vec<Gap>,
    /// Mean vector magnitude over all samples, before any calibration, in g.
    pub mean_norm_g: f64,
    /// Things handled that the user should know about (a cut last row, a skipped block).
    pub warnings: Vec<Warning>,
    /// Device metadata, for device files.
    pub device: Option<DeviceInfo>,
}

impl RecordingInfo {
    /// Time from the first to the last sample, in seconds (0 before two samples).
    pub fn duration_s(&self) -> f64 {
        match (self.start_s, self.end_s) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        }
    }

    /// Total time inside gaps, in seconds.
    pub fn gap_time_s(&self) -> f64 {
        self.gaps.iter().map(|g| g.duration_s).sum()
    }
}

/// A [`Source`] over samples already in memory (tests, simulations, arrays from elsewhere).
///
/// Samples are checked like any reader's: finite, within ±64 g, strictly increasing time.
pub struct MemorySource<'a> {
    samples: &'a [Sample],
    pos: usize,
    check: Option<SampleCheck>,
    info: RecordingInfo,
}

impl<'a> MemorySource<'a> {
    /// A source over `samples`, which must be in time order.
    pub fn new(samples: &'a [Sample]) -> Self {
        MemorySource {
            samples,
            pos: 0,
            check: None,
            info: RecordingInfo {
                format: Format::Memory,
                units_from: UnitsFrom::Caller,
                ..RecordingInfo::default()
            },
        }
    }
}

impl Source for MemorySource<'_> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        let check = match &mut self.check {
            Some(c) => c,
            None => {
                if self.samples.is_empty() {
                    return Err(Error::new(crate::ErrorKind::NoSamples));
                }
                let head = &self.samples[..self.samples.len().min(4097)];
                let times: Vec<f64> = head.iter().map(|s| s.t_s).collect();
                let head = HeadInterval::of(&times).unwrap_or(HeadInterval::exact(1.0));
                self.check.insert(SampleCheck::from_head(head, None)?)
            }
        };
        let rest = &self.samples[self.pos..];
        let n = rest.len().min(out.len());
        for (i, (o, s)) in out.iter_mut().zip(rest).take(n).enumerate() {
            let idx = (self.pos + i) as u64;
            check
                .check(s)
                .map_err(|k| Error::at(k, Position::sample(idx)))?;
            *o = *s;
        }
        self.pos += n;
        check.fill(&mut self.info);
        Ok(n)
    }

    fn info(&self) -> &RecordingInfo {
        &self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn ramp(n: usize, dt: f64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample::new(i as f64 * dt, [0.0, 0.0, 1.0]))
            .collect()
    }

    #[test]
    fn memory_source_hands_out_everything_in_small_chunks() {
        let s = ramp(1000, 0.01);
        let mut src = MemorySource::new(&s);
        let mut buf = [Sample::default(); 7];
        let mut got = Vec::new();
        loop {
            let n = src.read_samples(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, s);
        let info = src.info();
        assert_eq!(info.n_samples, 1000);
        assert!((info.rate.rate_hz - 100.0).abs() < 1e-6);
        assert!(info.gaps.is_empty());
    }

    #[test]
    fn memory_source_reports_time_going_back_at_its_sample() {
        let mut s = ramp(100, 0.01);
        s[50].t_s = s[48].t_s;
        let mut src = MemorySource::new(&s);
        let mut buf = vec![Sample::default(); 100];
        let e = src.read_samples(&mut buf).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::TimeNotIncreasing { .. }));
        assert_eq!(e.position().unwrap().sample_idx, Some(50));
    }
}
