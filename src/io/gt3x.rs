//! ActiGraph `.gt3x` files: a zip archive holding `info.txt` and a stream of log records.
//!
//! # The format
//! `info.txt` is `name: value` lines: serial number, device type, firmware, sample rate (Hz),
//! acceleration scale (counts per g), times in .NET ticks, body location (`Limb`), time zone.
//! `log.bin` is a sequence of records: a separator byte 0x1E, a type byte, a 32-bit Unix
//! timestamp (seconds, the device's local clock), a 16-bit payload size, the payload and a
//! checksum byte (the complement of the XOR of every byte before it). Stray zero bytes
//! between records are allowed. Two record types carry samples, one second each:
//! - `ACTIVITY` (0x00): 12-bit two's-complement values packed most significant bit first,
//!   in y, x, z order, 36 bits a sample;
//! - `ACTIVITY2` (0x1A): 16-bit little-endian values in x, y, z order (a 1-byte payload is a
//!   USB-connection marker, not a sample).
//!
//! Values in g are the counts divided by `Acceleration Scale` (when `info.txt` lacks it:
//! 341 for serials starting NEO or CLE, 256 otherwise), as the files say their data are
//! already calibrated. Sample `i` of a record is at `timestamp + i / sample rate`.
//!
//! # Idle sleep
//! With idle-sleep mode on, a still device stops storing samples; those stretches have no
//! records and come out as gaps, never as zeros or repeated samples.
//!
//! # Bad records
//! A record with a bad checksum is skipped with a [`Warning`] naming its number (from 0) and
//! byte offset in `log.bin`; bytes that are neither a separator nor padding are skipped up to
//! the next separator, with a warning. A `log.bin` cut inside a record loses that record, with
//! a warning. A file that is not a zip archive, or a whole archive lacking `log.bin` or
//! `info.txt`, is an error, as is a record whose samples do not come after the previous
//! record's ([`ErrorKind::TimeNotIncreasing`] at that record).
//!
//! # Files cut short
//! A `.gt3x` cut short (a copy or download that stopped) has lost the zip directory at its
//! end. Its members are then found by their local headers from the start of the file, and
//! `log.bin` is read (inflated, if deflated) until its data or the file end: the samples of
//! every complete record, then a warning that the archive is cut and after how many bytes
//! `log.bin` ends. Devices store `log.bin` before `info.txt`, so a cut usually takes
//! `info.txt` with it; the sample rate and acceleration scale then come from the PARAMETERS
//! record (type 0x15) the device writes at the start of `log.bin` (`SAMPLE_RATE`, address
//! space 1, identifier 10; `ACCEL_SCALE`, address space 0, identifier 55), with a warning
//! saying so; serial number, device type and body location are unknown. A cut before any
//! of `log.bin`, before its PARAMETERS record (without `info.txt`) or before its first
//! sample is an error.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};

use flate2::read::DeflateDecoder;

use crate::io::device::{
    self, block_position, le16, le32, open_unbuffered, prime, read_staged, read_up_to, SkipLog,
    Stage, StagedReader,
};
use crate::io::zip::{self, Member};
use crate::io::{DeviceInfo, Format, RecordingInfo, Source, Warning};
use crate::{Error, ErrorKind, Position, Sample};

const FORMAT: &str = "gt3x";
const SEPARATOR: u8 = 0x1e;
const ACTIVITY: u8 = 0x00;
const ACTIVITY2: u8 = 0x1a;
/// The record of device settings written when a recording starts.
const PARAMETERS: u8 = 0x15;
/// Bytes at the start of `log.bin` searched for the PARAMETERS record when `info.txt` is lost.
const PARAMETERS_SEARCH: u64 = 64 * 1024;
/// Acceleration scale (counts per g) of the devices whose serial does not start NEO or CLE.
const DEFAULT_SCALE: f64 = 256.0;
/// Largest `info.txt` read, in bytes.
const MAX_INFO: u64 = 64 * 1024;
/// Seconds from 0001-01-01 (the .NET epoch) to 1970-01-01.
const DOTNET_EPOCH_S: i64 = 62_135_596_800;

/// A reader of ActiGraph `.gt3x` files, from any [`Read`] + [`Seek`] (the zip directory is at
/// the end of the archive).
pub struct Gt3xReader<R: Read> {
    log: BufReader<LogStream<R>>,
    stage: Stage,
    rate_hz: f64,
    scale: f64,
    /// Byte offset of the next byte in `log.bin`.
    byte: u64,
    record_idx: u64,
    payload: Vec<u8>,
    skips: SkipLog,
    /// Set for an archive cut short (no central directory).
    cut: Option<CutLog>,
    /// Whether a record has held samples.
    decoded_any: bool,
}

/// What is known of `log.bin` in an archive cut short, for the warning at its end.
#[derive(Clone, Copy, Debug)]
struct CutLog {
    /// Its uncompressed size as its local header gives it, if it does.
    size: Option<u64>,
    /// Whether all of its stored data are in the file (a deflated one is whole when its
    /// stream ends before the file does).
    stored_complete: bool,
}

/// The `log.bin` member's bytes: stored, or inflated on the fly.
enum LogStream<R: Read> {
    Stored(Take<R>),
    Deflated(DeflateDecoder<Take<R>>),
    /// Deflated, in an archive cut short: a stream that runs out ends `log.bin` there, and
    /// the flag says it did.
    DeflatedCut(DeflateDecoder<Take<R>>, bool),
}

impl<R: Read> LogStream<R> {
    /// `log.bin`'s bytes, `member` being where it is in `input` (already sought to), `cut`
    /// when the archive is cut short.
    fn new(input: R, member: &Member, cut: bool) -> Self {
        let take = input.take(member.compressed);
        match (member.method, cut) {
            (8, false) => LogStream::Deflated(DeflateDecoder::new(take)),
            (8, true) => LogStream::DeflatedCut(DeflateDecoder::new(take), false),
            _ => LogStream::Stored(take),
        }
    }

    /// Whether the deflate stream of a cut archive ran out before its end.
    fn ran_out(&self) -> bool {
        matches!(self, LogStream::DeflatedCut(_, true))
    }
}

impl<R: Read> Read for LogStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            LogStream::Stored(r) => r.read(buf),
            LogStream::Deflated(r) => r.read(buf),
            LogStream::DeflatedCut(r, ran_out) => match r.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    *ran_out = true;
                    Ok(0)
                }
                other => other,
            },
        }
    }
}

impl Gt3xReader<File> {
    /// Opens a `.gt3x` file and reads `info.txt`.
    ///
    /// # Errors
    /// When the file cannot be read or is not a `.gt3x` archive; the error names the file.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let f = open_unbuffered(path)?;
        Gt3xReader::open(f, Some(path.to_path_buf())).map_err(|e| e.in_file(path))
    }
}

fn bad(reason: impl Into<String>, byte: u64) -> Error {
    device::format_error(FORMAT, reason, byte)
}

/// The `info.txt` fields the reader uses.
struct InfoTxt {
    rate_hz: Option<f64>,
    scale: Option<f64>,
    device: DeviceInfo,
}

/// A number written with a point or a decimal comma ("4,03").
fn number(v: &str) -> Option<f64> {
    v.trim().replace(',', ".").parse().ok()
}

fn ticks_to_unix_s(v: &str) -> Option<f64> {
    let ticks: i64 = v.trim().parse().ok()?;
    if ticks <= 0 {
        return None;
    }
    Some((ticks / 10_000_000 - DOTNET_EPOCH_S) as f64 + (ticks % 10_000_000) as f64 * 1e-7)
}

fn parse_info(text: &str) -> InfoTxt {
    let mut out = InfoTxt {
        rate_hz: None,
        scale: None,
        device: DeviceInfo::default(),
    };
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "Serial Number" => out.device.serial = v.to_string(),
            "Device Type" => out.device.device_type = v.to_string(),
            "Sample Rate" => out.rate_hz = number(v),
            "Acceleration Scale" => out.scale = number(v).filter(|s| *s > 0.0),
            "Acceleration Max" => out.device.range_g = number(v).map(f64::abs),
            "Start Date" => out.device.start_s = ticks_to_unix_s(v),
            "Limb" if !v.is_empty() => {
                out.device.location = Some(v.to_string());
            }
            "Firmware" | "TimeZone" | "Side" | "Dominance" | "Board Revision" => {
                let name = k.to_ascii_lowercase().replace(' ', "_");
                out.device.extra.push((name, v.to_string()));
            }
            _ => {}
        }
    }
    out
}

impl<R: Read + Seek> Gt3xReader<R> {
    /// Reads the archive's directory and `info.txt` from `input` and readies the reader.
    ///
    /// An archive cut short (no central directory) is read from its local headers: `log.bin`
    /// up to where the file ends, and, when `info.txt` came after the cut, the sample rate and
    /// acceleration scale from `log.bin`'s PARAMETERS record, with a warning.
    ///
    /// # Errors
    /// [`ErrorKind::Empty`] for no bytes; [`ErrorKind::Format`] when `input` is not a zip
    /// archive holding `log.bin` and `info.txt`, `info.txt` has no usable sample rate, or a
    /// cut archive ends before `log.bin`'s data or (without `info.txt`) before a PARAMETERS
    /// record giving the rate.
    pub fn new(input: R) -> Result<Self, Error> {
        Gt3xReader::open(input, None)
    }

    /// [`Gt3xReader::new`], naming `path` in warnings and errors; the rate is measured from
    /// the first samples' times, as every device reader does when it opens.
    fn open(mut input: R, path: Option<PathBuf>) -> Result<Self, Error> {
        let archive = zip::find(&mut input, &["log.bin", "info.txt"], FORMAT)?;
        let member = |k: usize| archive.members.get(k).copied().flatten();
        let (log, info_member) = (member(0), member(1));
        if !archive.cut && info_member.is_none() {
            return Err(bad("the archive has no info.txt", archive.dir_at));
        }
        let Some(log) = log else {
            let reason = if archive.cut {
                "the zip archive is cut short (no central directory) before any of log.bin"
            } else {
                "the archive has no log.bin"
            };
            return Err(bad(reason, archive.dir_at));
        };
        let mut notes = Vec::new();
        let (device, rate_hz, scale) = match info_member.filter(|m| m.complete) {
            Some(m) => settings_from_info(&mut input, &m)?,
            None => {
                let (device, rate_hz, scale, note) = settings_from_log(&mut input, &log)?;
                notes.push(note);
                (device, rate_hz, scale)
            }
        };
        let mut stage = Stage::new(Format::Gt3x, device, rate_hz)?;
        stage.path = path;
        stage
            .info
            .warnings
            .extend(notes.into_iter().map(Warning::new));
        input.seek(SeekFrom::Start(log.data_at))?;
        let cut = archive.cut.then_some(CutLog {
            size: log.size,
            stored_complete: log.complete,
        });
        let mut r = Gt3xReader {
            log: BufReader::with_capacity(64 * 1024, LogStream::new(input, &log, archive.cut)),
            stage,
            rate_hz,
            scale,
            byte: 0,
            record_idx: 0,
            payload: Vec::with_capacity(1024),
            skips: SkipLog::default(),
            cut,
            decoded_any: false,
        };
        prime(&mut r)?;
        Ok(r)
    }
}

/// Device information, sample rate (Hz) and acceleration scale (counts per g) from
/// `info.txt`.
fn settings_from_info<R: Read + Seek>(
    input: &mut R,
    info: &Member,
) -> Result<(DeviceInfo, f64, f64), Error> {
    if info.size.is_some_and(|s| s > MAX_INFO) || info.compressed > MAX_INFO {
        return Err(bad("info.txt is implausibly large", info.data_at));
    }
    input.seek(SeekFrom::Start(info.data_at))?;
    let mut raw = Vec::new();
    {
        let take = input.take(info.compressed);
        let mut r: Box<dyn Read + '_> = if info.method == 8 {
            Box::new(DeflateDecoder::new(take).take(MAX_INFO))
        } else {
            Box::new(take)
        };
        r.read_to_end(&mut raw)
            .map_err(|e| bad(format!("info.txt: {e}"), info.data_at))?;
    }
    let text = String::from_utf8_lossy(&raw);
    let parsed = parse_info(&text);
    let Some(rate_hz) = parsed.rate_hz.filter(|r| r.is_finite() && *r > 0.0) else {
        return Err(bad("info.txt has no usable \"Sample Rate\"", info.data_at));
    };
    let mut device = parsed.device;
    let scale = parsed.scale.unwrap_or({
        if device.serial.starts_with("NEO") || device.serial.starts_with("CLE") {
            341.0
        } else {
            DEFAULT_SCALE
        }
    });
    device.rate_hz = Some(rate_hz);
    device
        .extra
        .push(("acceleration_scale".into(), scale.to_string()));
    Ok((device, rate_hz, scale))
}

/// Device information, sample rate (Hz), acceleration scale (counts per g) and a note
/// saying where they came from, for a cut archive that lost `info.txt`: from the PARAMETERS
/// record the device writes at the start of `log.bin`.
fn settings_from_log<R: Read + Seek>(
    input: &mut R,
    log: &Member,
) -> Result<(DeviceInfo, f64, f64, String), Error> {
    input.seek(SeekFrom::Start(log.data_at))?;
    let mut head = Vec::new();
    // What can be had of the first bytes: a cut stream ends them early, which is no error.
    let mut stream = LogStream::new(&mut *input, log, true).take(PARAMETERS_SEARCH);
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => break,
            Err(e) => return Err(Error::new(ErrorKind::Io(e))),
        }
    }
    let params = find_parameters(&head);
    let Some(rate_hz) = params
        .as_ref()
        .and_then(|p| p.rate_hz)
        .filter(|r| r.is_finite() && *r > 0.0)
    else {
        return Err(bad(
            "the zip archive is cut short (no central directory) before info.txt, and the \
             start of log.bin has no PARAMETERS record giving the sample rate",
            log.data_at,
        ));
    };
    let given_scale = params
        .and_then(|p| p.scale)
        .filter(|s| s.is_finite() && *s > 0.0);
    let scale = given_scale.unwrap_or(DEFAULT_SCALE);
    let scale_from = if given_scale.is_some() {
        "its PARAMETERS record"
    } else {
        "the usual value, as its PARAMETERS record gives none"
    };
    let note = format!(
        "the zip archive is cut short before info.txt: sample rate {rate_hz} Hz from log.bin's \
         PARAMETERS record, acceleration scale {scale} counts per g from {scale_from}; the \
         device's serial number, type and body location are unknown"
    );
    let device = DeviceInfo {
        rate_hz: Some(rate_hz),
        extra: vec![
            ("acceleration_scale".into(), scale.to_string()),
            ("info_txt".into(), "lost: the archive is cut short".into()),
        ],
        ..DeviceInfo::default()
    };
    Ok((device, rate_hz, scale, note))
}

/// What a PARAMETERS record gives.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Parameters {
    /// `SAMPLE_RATE` (address space 1, identifier 10), in Hz.
    rate_hz: Option<f64>,
    /// `ACCEL_SCALE` (address space 0, identifier 55), in counts per g.
    scale: Option<f64>,
}

/// The first PARAMETERS record with a good checksum in `log`, the first bytes of `log.bin`.
///
/// Its payload is 8-byte entries: a 16-bit address space, a 16-bit identifier and a 32-bit
/// value, little-endian; floats are encoded as [`parameter_float`] reads them.
fn find_parameters(log: &[u8]) -> Option<Parameters> {
    let mut i = 0;
    while let Some(&b) = log.get(i) {
        if b != SEPARATOR {
            i += 1;
            continue;
        }
        let size = usize::from(le16(log, i + 6));
        let record = log.get(i..i + 9 + size)?;
        let (body, stored) = record.split_at(8 + size);
        if stored.first() != Some(&!body.iter().fold(0u8, |acc, b| acc ^ b)) {
            i += 1;
            continue;
        }
        if body.get(1) == Some(&PARAMETERS) {
            let mut p = Parameters::default();
            for entry in body.get(8..).unwrap_or_default().chunks_exact(8) {
                let value = le32(entry, 4);
                match (le16(entry, 0), le16(entry, 2)) {
                    (1, 10) if value > 0 => p.rate_hz = Some(f64::from(value)),
                    (0, 55) => p.scale = parameter_float(value),
                    _ => {}
                }
            }
            return Some(p);
        }
        i += 9 + size;
    }
    None
}

/// A float as PARAMETERS records encode it: the low 24 bits a two's-complement fraction,
/// 2^23 times the value's mantissa, the high 8 bits a two's-complement power of 2; `None`
/// for the codes standing for values too large to encode.
fn parameter_float(code: u32) -> Option<f64> {
    if code == 0x007F_FFFF || code == 0x0080_0000 {
        return None;
    }
    let [.., exponent] = code.to_le_bytes();
    let exponent = i32::from(i8::from_le_bytes([exponent]));
    // The fraction's sign bit moved to bit 31, then shifted back with the sign extended.
    let fraction = i32::from_le_bytes((code << 8).to_le_bytes()) >> 8;
    Some(f64::from(fraction) / f64::from(1u32 << 23) * 2f64.powi(exponent))
}

enum Next {
    /// A record was read into `payload`: (type, timestamp).
    Record(u8, u32),
    End,
}

impl<R: Read> Gt3xReader<R> {
    fn position(&self, record: u64, byte: u64) -> Position {
        block_position(self.stage.path.as_deref(), record, byte)
    }

    #[cold]
    fn read_error(&self, e: std::io::Error) -> Error {
        let kind = if e.kind() == std::io::ErrorKind::InvalidInput
            || e.kind() == std::io::ErrorKind::InvalidData
        {
            ErrorKind::Format {
                format: FORMAT,
                reason: format!("log.bin cannot be inflated: {e}"),
            }
        } else {
            ErrorKind::Io(e)
        };
        let mut p = Position::byte(self.byte);
        p.file = self.stage.path.clone();
        Error::at(kind, p)
    }

    /// Reads up to `buf.len()` bytes of `log.bin`; returns how many.
    fn fill(&mut self, buf_len: usize) -> Result<usize, Error> {
        let start = self.payload.len();
        self.payload.resize(start + buf_len, 0);
        let n = match read_up_to(&mut self.log, &mut self.payload[start..]) {
            Ok(n) => n,
            Err(e) => return Err(self.read_error(e)),
        };
        self.payload.truncate(start + n);
        self.byte += n as u64;
        Ok(n)
    }

    /// Reads the next record with a good checksum, skipping (and reporting) bad ones.
    fn next_record(&mut self) -> Result<Next, Error> {
        loop {
            // Find a separator, skipping padding zeros and reporting anything else.
            let mut junk_from = None;
            let sep_at = loop {
                let buf = match self.log.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.read_error(e)),
                };
                if buf.is_empty() {
                    if let Some(from) = junk_from {
                        self.report_junk(from);
                    }
                    return Ok(Next::End);
                }
                let first = buf.first().copied();
                if first == Some(SEPARATOR) {
                    break self.byte;
                }
                let skip = if first == Some(0) {
                    // padding between records: allowed, not reported
                    buf.iter().position(|&b| b != 0).unwrap_or(buf.len())
                } else {
                    junk_from.get_or_insert(self.byte);
                    buf.iter()
                        .position(|&b| b == SEPARATOR)
                        .unwrap_or(buf.len())
                };
                self.log.consume(skip);
                self.byte += skip as u64;
            };
            if let Some(from) = junk_from {
                self.report_junk(from);
            }
            let record = self.record_idx;
            self.record_idx += 1;
            self.payload.clear();
            if self.fill(8)? < 8 {
                self.report_cut(record, sep_at);
                return Ok(Next::End);
            }
            let kind = self.payload.get(1).copied().unwrap_or(0);
            let stamp = le32(&self.payload, 2);
            let size = usize::from(le16(&self.payload, 6));
            if self.fill(size + 1)? < size + 1 {
                self.report_cut(record, sep_at);
                return Ok(Next::End);
            }
            let (body, stored) = self.payload.split_at(8 + size);
            let computed = !body.iter().fold(0u8, |acc, b| acc ^ b);
            let stored = stored.first().copied().unwrap_or(0);
            if stored != computed {
                let pos = self.position(record, sep_at);
                let msg = format!(
                    "record {record} (type {kind:#04x}) skipped: {}",
                    ErrorKind::Checksum {
                        format: FORMAT,
                        stored: u32::from(stored),
                        computed: u32::from(computed),
                    }
                );
                self.skips.skip(&mut self.stage.info.warnings, pos, msg);
                // A sample record's second is missing: the step over it is a gap.
                if matches!(kind, ACTIVITY | ACTIVITY2) && size > 1 {
                    self.stage.hole_pending = true;
                }
                continue;
            }
            self.stage.staged.at = (record, sep_at);
            // keep only the payload
            self.payload.drain(..8);
            self.payload.pop();
            return Ok(Next::Record(kind, stamp));
        }
    }

    #[cold]
    fn report_junk(&mut self, from: u64) {
        let pos = self.position(self.record_idx, from);
        let msg = format!(
            "bytes {from}..{} of log.bin skipped: not a record",
            self.byte
        );
        self.skips.skip(&mut self.stage.info.warnings, pos, msg);
    }

    #[cold]
    fn report_cut(&mut self, record: u64, at: u64) {
        let pos = self.position(record, at);
        self.stage.info.warnings.push(Warning::at(
            pos,
            format!("log.bin ends inside record {record}: the incomplete record is ignored"),
        ));
    }

    /// Says where `log.bin` ended in an archive cut short; an error if no sample came before.
    #[cold]
    fn report_cut_archive(&mut self, cut: CutLog) -> Result<(), Error> {
        let ran_out = self.log.get_ref().ran_out();
        let whole = match self.log.get_ref() {
            LogStream::Stored(_) => cut.stored_complete,
            _ => !ran_out,
        };
        let of = match cut.size {
            Some(size) if !whole => format!(" of its {size}"),
            _ => String::new(),
        };
        let pos = self.position(self.record_idx, self.byte);
        if !self.decoded_any {
            let e = bad(
                format!(
                    "the zip archive is cut short (no central directory): log.bin ends after \
                     {}{of} bytes, before its first sample",
                    self.byte
                ),
                self.byte,
            );
            return Err(e.in_file_if(self.stage.path.as_deref()));
        }
        let message = if whole {
            format!(
                "the zip archive is cut short (no central directory) after the whole of \
                 log.bin ({} bytes)",
                self.byte
            )
        } else {
            format!(
                "the zip archive is cut short (no central directory): log.bin ends after {}{of} \
                 bytes, the rest of the recording is lost",
                self.byte
            )
        };
        self.stage.info.warnings.push(Warning::at(pos, message));
        Ok(())
    }

    /// Decodes the samples of an activity record into `self.stage.staged`.
    fn decode(&mut self, kind: u8, stamp: u32) {
        self.stage.staged.clear();
        let t0 = f64::from(stamp);
        let dt = 1.0 / self.rate_hz;
        let inv = 1.0 / self.scale;
        let p = &self.payload;
        match kind {
            ACTIVITY => {
                let n = p.len() * 8 / 36;
                let nibble = |k: usize| -> u32 {
                    let b = u32::from(p.get(k / 2).copied().unwrap_or(0));
                    if k % 2 == 0 {
                        b >> 4
                    } else {
                        b & 0x0f
                    }
                };
                for i in 0..n {
                    let at = i * 9;
                    let v = |a: usize| -> f64 {
                        let k = at + 3 * a;
                        let raw = (nibble(k) << 8) | (nibble(k + 1) << 4) | nibble(k + 2);
                        f64::from(((raw << 20) as i32) >> 20) * inv
                    };
                    let (y, x, z) = (v(0), v(1), v(2));
                    self.stage
                        .staged
                        .samples
                        .push(Sample::new(t0 + i as f64 * dt, [x, y, z]));
                }
            }
            ACTIVITY2 if p.len() >= 6 => {
                for (i, w) in p.chunks_exact(6).enumerate() {
                    let v = |a: usize| {
                        f64::from(i16::from_le_bytes([
                            w.get(2 * a).copied().unwrap_or(0),
                            w.get(2 * a + 1).copied().unwrap_or(0),
                        ])) * inv
                    };
                    self.stage
                        .staged
                        .samples
                        .push(Sample::new(t0 + i as f64 * dt, [v(0), v(1), v(2)]));
                }
            }
            _ => {}
        }
        self.decoded_any |= !self.stage.staged.samples.is_empty();
    }
}

impl<R: Read> StagedReader for Gt3xReader<R> {
    fn stage(&mut self) -> &mut Stage {
        &mut self.stage
    }

    fn refill(&mut self) -> Result<bool, Error> {
        match self.next_record()? {
            Next::Record(kind @ (ACTIVITY | ACTIVITY2), stamp) => self.decode(kind, stamp),
            Next::Record(..) => {}
            Next::End => {
                self.skips
                    .finish(&mut self.stage.info.warnings, "bad records");
                if let Some(cut) = self.cut {
                    self.report_cut_archive(cut)?;
                }
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl<R: Read> Source for Gt3xReader<R> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        read_staged(self, out)
    }

    fn info(&self) -> &RecordingInfo {
        &self.stage.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_parse_with_decimal_commas_and_ticks() {
        let i = parse_info(
            "Serial Number: MOS2E39180594\r\nSample Rate: 30\r\nAcceleration Scale: 256,0\r\n\
             Start Date: 637340333400000000\r\nLimb: Waist\r\nTimeZone: 02:00:00\r\n",
        );
        assert_eq!(i.rate_hz, Some(30.0));
        assert_eq!(i.scale, Some(256.0));
        // 637340333400000000 ticks = 2020-08-26 10:09:00 (as the data README gives)
        assert_eq!(i.device.start_s, Some(1_598_436_540.0));
        assert_eq!(i.device.location.as_deref(), Some("Waist"));
        assert!(i
            .device
            .extra
            .contains(&("timezone".into(), "02:00:00".into())));
    }

    #[test]
    fn packed_activity_follows_the_published_example() {
        // The format description's example: 00 60 08 EB D0 07 00 9E BF 00 70 08 EB F0 gives
        // (y, x, z) = (6, 8, -323), (7, 9, -321), (7, 8, -321) counts.
        let p = [
            0x00, 0x60, 0x08, 0xEB, 0xD0, 0x07, 0x00, 0x9E, 0xBF, 0x00, 0x70, 0x08, 0xEB, 0xF0,
        ];
        let mut r = reader_stub(1.0, 1.0);
        r.payload = p.to_vec();
        r.decode(ACTIVITY, 100);
        let got: Vec<[f64; 3]> = r.stage.staged.samples.iter().map(|s| s.acc_g).collect();
        assert_eq!(
            got,
            vec![[8.0, 6.0, -323.0], [9.0, 7.0, -321.0], [8.0, 7.0, -321.0]]
        );
        assert_eq!(r.stage.staged.samples[2].t_s, 102.0);
    }

    fn reader_stub(rate_hz: f64, scale: f64) -> Gt3xReader<std::io::Empty> {
        Gt3xReader {
            log: BufReader::new(LogStream::Stored(std::io::empty().take(0))),
            // Decoding reads `rate_hz`; the stage's checks only run when samples are handed out.
            stage: Stage::new(Format::Gt3x, DeviceInfo::default(), 100.0).unwrap(),
            rate_hz,
            scale,
            byte: 0,
            record_idx: 0,
            payload: Vec::new(),
            skips: SkipLog::default(),
            cut: None,
            decoded_any: false,
        }
    }
}
