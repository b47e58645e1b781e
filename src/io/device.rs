//! Opening a device file by its extension, and what the device decoders share.
//!
//! [`open_device`] picks the decoder for a path: `.cwa` (Axivity), `.gt3x` (ActiGraph), and
//! `.bin`, which is either GENEActiv (a text header starting `Device Identity`) or Parmay
//! Matrix (binary packets tagged `MDTC`), told apart by the first bytes. Every decoder hands
//! out samples in g with times in seconds on the device clock, read as if it were UTC (most
//! devices keep local wall-clock time; the time zone, where stored, is in
//! [`DeviceInfo::extra`](super::DeviceInfo)).
//!
//! A device file's rate statistics are measured as a CSV file's are: from the sample times
//! the decoder produces. Each decoder decodes its first [`HEAD_SAMPLES`] samples when it is
//! opened ([`prime`]) and takes the median interval of their times for the gap rule, the
//! jitter and the detector's rate; the rate in the file's header is kept as
//! [`RateInfo::nominal_hz`](super::RateInfo) only. Devices run off their nominal rate (a
//! Matrix set to 12.5 Hz samples at 12.2 Hz), so the header's rate would build the detector
//! for the wrong rate and give other events than a faithful CSV export of the same file.
//!
//! Data a decoder has to drop (a block failing its checksum, a damaged packet) are a hole:
//! the reader marks it ([`Staged::hole_before`]), and the step across it is reported as a gap
//! whatever its length, besides the warning naming the block.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::{Error, ErrorKind, Position, Sample};

use super::{
    AccelUnit, DeviceInfo, Format, HeadInterval, RecordingInfo, SampleCheck, Source, TimeBase,
    UnitsFrom, Warning,
};

/// Samples whose times a decoder measures its median interval over when it is opened: the
/// 4,097 timestamps (4,096 intervals) a CSV reader takes it over.
pub(crate) const HEAD_SAMPLES: usize = 4097;

/// Opens `path` with the device decoder its extension names (case-insensitive).
///
/// `.cwa` → [`CwaReader`](super::CwaReader), `.gt3x` → [`Gt3xReader`](super::Gt3xReader),
/// `.bin` → [`GeneactivReader`](super::GeneactivReader) or
/// [`MatrixReader`](super::MatrixReader) depending on the first bytes. Any other extension
/// gives `Ok(None)`, so a caller can fall back to its CSV reader.
///
/// # Errors
/// When the file cannot be opened or its header is not the format the extension names; the
/// error names the file.
pub fn open_device(path: &Path) -> Result<Option<Box<dyn Source + Send>>, Error> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let source: Box<dyn Source + Send> = match ext.as_deref() {
        Some("cwa") => Box::new(super::CwaReader::from_path(path)?),
        Some("gt3x") => Box::new(super::Gt3xReader::from_path(path)?),
        Some("bin") => {
            let mut head = [0u8; 1024];
            let n = {
                let mut f = File::open(path).map_err(|e| io_error(e, path))?;
                read_up_to(&mut f, &mut head).map_err(|e| io_error(e, path))?
            };
            match sniff_bin(&head[..n]) {
                Some(BinKind::Geneactiv) => Box::new(super::GeneactivReader::from_path(path)?),
                Some(BinKind::Matrix) => Box::new(super::MatrixReader::from_path(path)?),
                None => {
                    let e = if n == 0 {
                        Error::new(ErrorKind::Empty)
                    } else {
                        Error::at(
                            ErrorKind::Format {
                                format: "bin",
                                reason:
                                    "neither a GENEActiv file (text header \"Device Identity\") \
                                         nor a Matrix file (\"MDTC\" packets)"
                                        .into(),
                            },
                            Position::byte(0),
                        )
                    };
                    return Err(e.in_file(path));
                }
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(source))
}

/// Which device wrote a `.bin` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinKind {
    /// GENEActiv: a CRLF text header.
    Geneactiv,
    /// Parmay Matrix: binary, with `MDTC` after a block of zero bytes.
    Matrix,
}

/// Tells GENEActiv from Matrix by the first bytes of a `.bin` file.
pub(crate) fn sniff_bin(head: &[u8]) -> Option<BinKind> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if text.starts_with(b"Device Identity") {
        return Some(BinKind::Geneactiv);
    }
    // Matrix files start with a zeroed area, then the first "MDTC" tag.
    let first = head.iter().position(|&b| b != 0)?;
    if head.get(first..first + 4) == Some(b"MDTC") {
        return Some(BinKind::Matrix);
    }
    None
}

/// Opens a file for one of the decoders (each buffers its own reads), with its path in any
/// error.
pub(crate) fn open_unbuffered(path: &Path) -> Result<File, Error> {
    File::open(path).map_err(|e| io_error(e, path))
}

/// A failure to read `path`: [`ErrorKind::Io`], naming the file.
#[cold]
pub(crate) fn io_error(e: std::io::Error, path: &Path) -> Error {
    Error::new(ErrorKind::Io(e)).in_file(path)
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
pub(crate) fn read_up_to<R: Read + ?Sized>(
    input: &mut R,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Length of a seekable input, leaving the position at the start.
pub(crate) fn stream_len<R: Seek + ?Sized>(input: &mut R) -> std::io::Result<u64> {
    let len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    Ok(len)
}

/// Seconds from 1970-01-01 00:00:00 to a calendar date and time (proleptic Gregorian, no
/// leap seconds), or `None` when a field is out of its range.
pub(crate) fn civil_to_unix_s(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from the civil calendar (H. Hinnant's algorithm, March-based years).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap {
                29
            } else {
                28
            }
        }
    }
}

/// Little-endian u16 at `at`, or 0 past the end of `b`.
pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => 0,
    }
}

/// Little-endian u32 at `at`, or 0 past the end of `b`.
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[a, b1, c, d]) => u32::from_le_bytes([a, b1, c, d]),
        _ => 0,
    }
}

/// A position in block `block` at byte `byte` of `path`.
pub(crate) fn block_position(path: Option<&Path>, block: u64, byte: u64) -> Position {
    let mut p = Position::block(block, byte);
    p.file = path.map(Path::to_path_buf);
    p
}

/// A malformed file of `format` at byte `byte`.
pub(crate) fn format_error(format: &'static str, reason: impl Into<String>, byte: u64) -> Error {
    Error::at(
        ErrorKind::Format {
            format,
            reason: reason.into(),
        },
        Position::byte(byte),
    )
}

/// The samples of one decoded block (page, record, packet), handed out over as many calls
/// as the caller's buffer needs, each through the sample checks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Staged {
    /// The block's samples.
    pub(crate) samples: Vec<Sample>,
    /// How many were handed out.
    pub(crate) pos: usize,
    /// Block number and byte offset they came from, for errors.
    pub(crate) at: (u64, u64),
    /// Data were dropped between the previous block's samples and these: the step to the
    /// first is a gap whatever its length.
    pub(crate) hole_before: bool,
}

impl Staged {
    /// Empties the stage for the next block.
    pub(crate) fn clear(&mut self) {
        self.samples.clear();
        self.pos = 0;
        self.hole_before = false;
    }

    /// Whether every staged sample was handed out.
    pub(crate) fn is_drained(&self) -> bool {
        self.pos >= self.samples.len()
    }

    /// Copies as many staged samples as fit into `out` and checks them; returns how many.
    ///
    /// # Errors
    /// The first sample failing the checks, at this block's position and its sample index.
    pub(crate) fn hand_out(
        &mut self,
        out: &mut [Sample],
        check: &mut SampleCheck,
        info: &mut RecordingInfo,
        path: Option<&Path>,
    ) -> Result<usize, Error> {
        if self.pos == 0 && self.hole_before {
            check.hole_before_next();
        }
        let rest = self.samples.get(self.pos..).unwrap_or(&[]);
        let k = rest.len().min(out.len());
        let (dst, src) = (&mut out[..k], &rest[..k]);
        dst.copy_from_slice(src);
        if let Err((_, kind)) = check.check_slice(dst) {
            check.fill(info);
            let mut pos = block_position(path, self.at.0, self.at.1);
            pos.sample_idx = Some(info.n_samples);
            return Err(Error::at(kind, pos));
        }
        self.pos += k;
        Ok(k)
    }
}

/// What a staged device reader shares with [`read_staged`]: its stage, checks, recording
/// info, file path and end flags.
pub(crate) struct Stage {
    pub(crate) staged: Staged,
    pub(crate) check: SampleCheck,
    pub(crate) info: RecordingInfo,
    /// The file read, named in errors and warnings.
    pub(crate) path: Option<PathBuf>,
    /// The input is exhausted (whatever is staged may still be handed out).
    pub(crate) eof: bool,
    /// A sample failed the checks: every later call returns 0.
    pub(crate) done: bool,
    /// The reader dropped data since the last block it staged (set by the reader when it
    /// skips something; the next staged block takes it as its `hole_before`).
    pub(crate) hole_pending: bool,
    /// Blocks decoded by [`prime`] ahead of `staged`, in order.
    queue: VecDeque<Staged>,
    /// An error met while priming, returned where reading reaches it.
    deferred: Option<Error>,
    /// [`prime`] has run.
    primed: bool,
    /// The header's rate, in Hz.
    nominal_hz: f64,
}

impl Stage {
    /// The stage of a device file in `format` whose header gives `rate_hz`: values in g on a
    /// Unix clock, checks against the header's rate until [`prime`] has measured the rate
    /// from the first samples' times.
    ///
    /// # Errors
    /// [`ErrorKind::RateTooLow`] for a rate the checks cannot take.
    pub(crate) fn new(format: Format, device: DeviceInfo, rate_hz: f64) -> Result<Self, Error> {
        let check = SampleCheck::new(1.0 / rate_hz, Some(rate_hz)).map_err(Error::new)?;
        let mut info = RecordingInfo {
            format,
            units: AccelUnit::G,
            units_from: UnitsFrom::Device,
            time_base: TimeBase::Unix,
            device: Some(device),
            ..RecordingInfo::default()
        };
        check.fill(&mut info);
        Ok(Stage {
            staged: Staged::default(),
            check,
            info,
            path: None,
            eof: false,
            done: false,
            hole_pending: false,
            queue: VecDeque::new(),
            deferred: None,
            primed: false,
            nominal_hz: rate_hz,
        })
    }

    /// Stages the next block (from the primed queue first, then from `reader`'s input);
    /// `Ok(false)` at the end of the input.
    fn next_block(r: &mut impl StagedReader) -> Result<bool, Error> {
        let st = r.stage();
        if let Some(b) = st.queue.pop_front() {
            st.staged = b;
            return Ok(true);
        }
        if let Some(e) = st.deferred.take() {
            return Err(e);
        }
        let more = r.refill()?;
        let st = r.stage();
        if more {
            st.staged.hole_before = std::mem::take(&mut st.hole_pending);
        }
        Ok(more)
    }
}

/// Decodes the first [`HEAD_SAMPLES`] samples of a staged reader (keeping them to hand out)
/// and builds its checks on the median interval of their times, as a CSV reader does; the
/// header's rate stays as the nominal one. Runs once (later calls do nothing). A reader with
/// under two samples keeps the header's rate. An error met while decoding is kept and
/// returned when reading reaches it, after the samples before it.
///
/// # Errors
/// [`ErrorKind::RateTooLow`] when the measured median interval means a rate below
/// [`MIN_RATE_HZ`](super::MIN_RATE_HZ).
pub(crate) fn prime(r: &mut impl StagedReader) -> Result<(), Error> {
    if std::mem::replace(&mut r.stage().primed, true) {
        return Ok(());
    }
    let mut times: Vec<f64> = Vec::with_capacity(HEAD_SAMPLES);
    // What was staged before priming (nothing, for every reader today) goes first.
    {
        let st = r.stage();
        if !st.staged.is_drained() {
            let b = std::mem::take(&mut st.staged);
            times.extend(b.samples.iter().skip(b.pos).map(|s| s.t_s));
            st.queue.push_back(b);
        }
    }
    while times.len() < HEAD_SAMPLES && !r.stage().eof {
        match r.refill() {
            Ok(true) => {
                let st = r.stage();
                let mut b = std::mem::take(&mut st.staged);
                b.hole_before = std::mem::take(&mut st.hole_pending);
                times.extend(b.samples.iter().map(|s| s.t_s));
                st.queue.push_back(b);
            }
            Ok(false) => r.stage().eof = true,
            Err(e) => {
                r.stage().deferred = Some(e);
                break;
            }
        }
    }
    let st = r.stage();
    if let Some(head) = HeadInterval::of(&times) {
        st.check = SampleCheck::from_head(head, Some(st.nominal_hz))
            .map_err(|k| Error::new(k).in_file_if(st.path.as_deref()))?;
        st.check.fill(&mut st.info);
    }
    Ok(())
}

/// A device reader that decodes one block (page, record, packet) at a time into a
/// [`Staged`] and hands it out through [`read_staged`].
pub(crate) trait StagedReader {
    /// The reader's stage, which the shared loop works on.
    fn stage(&mut self) -> &mut Stage;

    /// Stages the next block's samples (possibly none); `false` once the input is exhausted,
    /// after whatever ends the recording (warnings about what was skipped or missing).
    fn refill(&mut self) -> Result<bool, Error>;
}

/// `Source::read_samples` of a staged device reader: hands out staged samples, refilling
/// the stage as it drains, until `out` is full or the input ends.
///
/// # Errors
/// A refill's error; the first sample failing the checks (the reader is then done); or
/// [`ErrorKind::NoSamples`] when the input ended without a sample.
pub(crate) fn read_staged(r: &mut impl StagedReader, out: &mut [Sample]) -> Result<usize, Error> {
    if r.stage().done || out.is_empty() {
        return Ok(0);
    }
    let mut written = 0;
    while written < out.len() {
        let st = r.stage();
        if st.staged.is_drained() {
            if st.eof && st.queue.is_empty() && st.deferred.is_none() {
                break;
            }
            match Stage::next_block(r) {
                Ok(more) => r.stage().eof |= !more,
                // A reader that failed is done: every later call returns 0.
                Err(e) => {
                    r.stage().done = true;
                    return Err(e);
                }
            }
            continue;
        }
        let path = st.path.as_deref();
        match st
            .staged
            .hand_out(&mut out[written..], &mut st.check, &mut st.info, path)
        {
            Ok(k) => written += k,
            Err(e) => {
                st.done = true;
                return Err(e);
            }
        }
    }
    let st = r.stage();
    if let Err(e) = end_call(&st.check, &mut st.info, st.eof, st.path.as_deref()) {
        st.done = true;
        return Err(e);
    }
    Ok(written)
}

/// Ends a `read_samples` call of a device reader: statistics into `info`, and
/// [`ErrorKind::NoSamples`] when the input ended without a single sample.
pub(crate) fn end_call(
    check: &SampleCheck,
    info: &mut RecordingInfo,
    at_end: bool,
    path: Option<&Path>,
) -> Result<(), Error> {
    check.fill(info);
    if at_end && info.n_samples == 0 {
        return Err(Error::new(ErrorKind::NoSamples).in_file_if(path));
    }
    Ok(())
}

/// How many skipped-block warnings are kept one by one; past it they are counted, so that
/// a file of garbage cannot grow the warning list without bound.
pub(crate) const MAX_BLOCK_WARNINGS: usize = 100;

/// Collects warnings about skipped blocks, the first [`MAX_BLOCK_WARNINGS`] one by one.
#[derive(Clone, Debug, Default)]
pub(crate) struct SkipLog {
    /// Blocks skipped in all.
    pub(crate) n_skipped: u64,
    /// Skipped blocks past the cap, not listed one by one.
    pub(crate) n_unlisted: u64,
}

impl SkipLog {
    /// Records one skipped block; pushes its warning into `warnings` while under the cap.
    #[cold]
    pub(crate) fn skip(
        &mut self,
        warnings: &mut Vec<Warning>,
        position: Position,
        message: String,
    ) {
        self.n_skipped += 1;
        if warnings.len() < MAX_BLOCK_WARNINGS {
            warnings.push(Warning::at(position, message));
        } else {
            self.n_unlisted += 1;
        }
    }

    /// Adds the closing count of unlisted skipped blocks, if any.
    pub(crate) fn finish(&mut self, warnings: &mut Vec<Warning>, what: &str) {
        if self.n_unlisted > 0 {
            warnings.push(Warning::new(format!(
                "{} more {what} skipped (not listed one by one)",
                self.n_unlisted
            )));
            self.n_unlisted = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_time_matches_known_instants() {
        // 1970-01-01 is 0; 2000-03-01 is 951868800 (after a leap day in a century year
        // divisible by 400); 2019-02-26 10:55:07 is 1551178507 (date(1) -u -d @…).
        assert_eq!(civil_to_unix_s(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(civil_to_unix_s(2000, 3, 1, 0, 0, 0), Some(951_868_800));
        assert_eq!(civil_to_unix_s(2000, 2, 29, 0, 0, 0), Some(951_782_400));
        assert_eq!(civil_to_unix_s(2019, 2, 26, 10, 55, 7), Some(1_551_178_507));
        assert_eq!(civil_to_unix_s(1900, 2, 29, 0, 0, 0), None);
        assert_eq!(civil_to_unix_s(2019, 13, 1, 0, 0, 0), None);
        assert_eq!(civil_to_unix_s(2019, 4, 31, 0, 0, 0), None);
        assert_eq!(civil_to_unix_s(2019, 4, 30, 24, 0, 0), None);
    }

    #[test]
    fn bin_files_are_told_apart_by_their_first_bytes() {
        assert_eq!(
            sniff_bin(b"Device Identity\r\nDevice Unique"),
            Some(BinKind::Geneactiv)
        );
        let mut m = vec![0u8; 512];
        m.extend_from_slice(b"MDTC\x02\x00");
        assert_eq!(sniff_bin(&m), Some(BinKind::Matrix));
        assert_eq!(sniff_bin(b"t,x,y,z\n"), None);
        assert_eq!(sniff_bin(&[0u8; 64]), None);
    }

    #[test]
    fn other_extensions_are_not_device_files() {
        assert!(open_device(Path::new("night.csv")).unwrap().is_none());
        assert!(open_device(Path::new("night")).unwrap().is_none());
    }
}
