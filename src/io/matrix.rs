//! Parmay Matrix `.BIN` files: a short header, then variable-length packets.
//!
//! # The format
//! 512 bytes of remarks, then `MDTC`, the number of packets (u32), the accelerometer range in
//! ±g and the gyroscope range in ±°/s (i16 each), all little-endian. Each packet is the tag
//! `MDTCPACK`, a CRC-32 (the zip/zlib polynomial) of the packet from its byte 12 to its end,
//! a start and an end time (u32 Unix seconds), the counts of accelerometer, gyroscope, temperature and
//! heart-rate readings (u32 each), then the readings: 6 bytes per accelerometer and
//! gyroscope reading (three i16), 4 per temperature and heart-rate reading.
//!
//! An accelerometer count in g is `raw × range / 32767` (`/ 32768` for negative counts).
//! The `n` readings of a packet are spread evenly over its time span: reading `j` is at
//! `start + j × (end − start) / n`, so the rate follows each packet (101.7–102.6 Hz in the
//! test file set to 100 Hz). Gyroscope, temperature and heart-rate readings are skipped.
//!
//! The rate statistics are measured from these times when the reader is opened (the median
//! interval of the first 4,097 samples sets the gap rule and the detector's rate); the rate
//! the device was set to (12.5, 25, 50 or 100 Hz, the nearest to the first packet's) is kept as
//! [`RateInfo::nominal_hz`](crate::io::RateInfo) only.
//!
//! # Bad packets
//! A packet whose CRC does not match, or whose end time is not after its start, is skipped
//! with a [`Warning`] naming its number (from 0) and byte offset, and the hole it leaves is a
//! gap whatever its length. The CRC cannot say which byte is bad, so the whole packet goes;
//! nothing else does: a damaged head may give wrong reading counts, so the reader looks for
//! the next `MDTCPACK` tag from the byte after the damaged packet's own (among the bytes it
//! already read, if the counts carried it past), and the next packet is read as if nothing
//! had happened. Bytes that are not a packet are skipped up to the next tag, with a warning
//! (not repeated for the rest of a packet just skipped). A file cut inside a packet loses
//! that packet, with a warning. A wrong header tag is an error, as is a packet whose readings
//! do not start after the previous packet's last ([`ErrorKind::TimeNotIncreasing`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::io::device::{
    self, block_position, le32, open_unbuffered, prime, read_staged, read_up_to, SkipLog, Stage,
    StagedReader,
};
use crate::io::{DeviceInfo, Format, RecordingInfo, Source, Warning};
use crate::{Error, ErrorKind, Position, Sample};

const FORMAT: &str = "matrix";
const REMARKS_LEN: usize = 512;
const HEADER_LEN: usize = REMARKS_LEN + 12;
const PACKET_TAG: &[u8; 8] = b"MDTCPACK";
const PACKET_HEAD: usize = 36;
/// Largest packet accepted, in bytes (the test files' largest is 72 KB: two minutes at
/// 100 Hz); bounds the memory a corrupt count can claim.
const MAX_PACKET: usize = 8 * 1024 * 1024;
/// Rates the device is set to, in Hz; the nominal rate is the nearest to the first packet's.
const RATES_HZ: [f64; 4] = [12.5, 25.0, 50.0, 100.0];

/// A buffered input that can take bytes back: after a damaged packet the reader looks for
/// the next tag among the bytes it already read, and reads on from there.
struct Rewind<R> {
    inner: BufReader<R>,
    /// Bytes taken back, read before `inner`'s from `back_pos` on.
    back: Vec<u8>,
    back_pos: usize,
}

impl<R: Read> Rewind<R> {
    fn new(inner: R) -> Self {
        Rewind {
            inner: BufReader::with_capacity(64 * 1024, inner),
            back: Vec::new(),
            back_pos: 0,
        }
    }

    /// Puts `bytes` back in front of what is still to be read.
    #[cold]
    fn unread(&mut self, bytes: &[u8]) {
        let mut back = Vec::with_capacity(bytes.len() + self.back.len() - self.back_pos);
        back.extend_from_slice(bytes);
        back.extend_from_slice(self.back.get(self.back_pos..).unwrap_or(&[]));
        self.back = back;
        self.back_pos = 0;
    }
}

impl<R: Read> Read for Rewind<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let back = self.back.get(self.back_pos..).unwrap_or(&[]);
        if back.is_empty() {
            return self.inner.read(buf);
        }
        let k = back.len().min(buf.len());
        buf[..k].copy_from_slice(&back[..k]);
        self.consume(k);
        Ok(k)
    }
}

impl<R: Read> BufRead for Rewind<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.back_pos < self.back.len() {
            return Ok(self.back.get(self.back_pos..).unwrap_or(&[]));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if self.back_pos < self.back.len() {
            self.back_pos = (self.back_pos + amt).min(self.back.len());
            if self.back_pos == self.back.len() {
                self.back.clear();
                self.back_pos = 0;
            }
        } else {
            self.inner.consume(amt);
        }
    }
}

/// A reader of Parmay Matrix `.BIN` files, from any [`Read`].
pub struct MatrixReader<R> {
    input: Rewind<R>,
    stage: Stage,
    range_g: f64,
    declared: u32,
    /// Byte offset of the next byte of the input.
    byte: u64,
    packet_idx: u64,
    /// A packet was just skipped: the bytes up to the next tag are its remains, not junk to
    /// report again.
    after_bad: bool,
    buf: Vec<u8>,
    skips: SkipLog,
}

impl MatrixReader<File> {
    /// Opens a Matrix `.BIN` file, reads its header and decodes its first samples (to
    /// measure the rate).
    ///
    /// # Errors
    /// When the file cannot be read or its header is not a Matrix header; the error names
    /// the file.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let f = open_unbuffered(path)?;
        MatrixReader::open(f, Some(path.to_path_buf())).map_err(|e| e.in_file(path))
    }
}

fn bad(reason: impl Into<String>, byte: u64) -> Error {
    device::format_error(FORMAT, reason, byte)
}

/// The fields of a packet header.
#[derive(Clone, Copy, Debug)]
struct PacketHead {
    crc: u32,
    start_s: u32,
    end_s: u32,
    n_acc: usize,
    /// Bytes after the 36-byte head.
    body_len: usize,
}

fn packet_head(h: &[u8; PACKET_HEAD]) -> Option<PacketHead> {
    let count = |at| usize::try_from(le32(h, at)).ok();
    let (a, g, t, hr) = (count(20)?, count(24)?, count(28)?, count(32)?);
    let body_len = a
        .checked_mul(6)?
        .checked_add(g.checked_mul(6)?)?
        .checked_add(t.checked_mul(4)?)?
        .checked_add(hr.checked_mul(4)?)?;
    Some(PacketHead {
        crc: le32(h, 8),
        start_s: le32(h, 12),
        end_s: le32(h, 16),
        n_acc: a,
        body_len,
    })
}

/// Where the first packet tag starts in `a` followed by `b`, as an offset into the two.
fn find_tag(a: &[u8], b: &[u8]) -> Option<usize> {
    let mut joined = Vec::with_capacity(a.len() + b.len());
    joined.extend_from_slice(a);
    joined.extend_from_slice(b);
    joined
        .windows(PACKET_TAG.len())
        .position(|w| w == PACKET_TAG)
}

impl<R: Read> MatrixReader<R> {
    /// Reads the header from `input`, decodes the first samples (to measure the rate) and
    /// readies the reader.
    ///
    /// # Errors
    /// [`ErrorKind::Empty`] for no bytes; [`ErrorKind::Format`] when the header tag `MDTC` is
    /// missing, the range is not positive, or the input ends inside the header;
    /// [`ErrorKind::RateTooLow`] when the first samples' median interval means a rate below
    /// [`MIN_RATE_HZ`](crate::io::MIN_RATE_HZ).
    pub fn new(input: R) -> Result<Self, Error> {
        MatrixReader::open(input, None)
    }

    fn open(input: R, path: Option<PathBuf>) -> Result<Self, Error> {
        let mut input = Rewind::new(input);
        let mut head = [0u8; HEADER_LEN];
        let n = read_up_to(&mut input, &mut head)?;
        if n == 0 {
            return Err(Error::new(ErrorKind::Empty));
        }
        if n < HEADER_LEN {
            return Err(bad(
                format!("the file ends after {n} bytes, inside the {HEADER_LEN}-byte header"),
                n as u64,
            ));
        }
        if head.get(REMARKS_LEN..REMARKS_LEN + 4) != Some(b"MDTC") {
            return Err(bad(
                "expected the header tag \"MDTC\" at byte 512",
                REMARKS_LEN as u64,
            ));
        }
        let declared = le32(&head, 516);
        let range = i16::from_le_bytes([head[520], head[521]]);
        let gyro = i16::from_le_bytes([head[522], head[523]]);
        if range <= 0 {
            return Err(bad(
                format!("accelerometer range {range} g is not positive"),
                520,
            ));
        }
        let range_g = f64::from(range);
        // The first packet's head gives the nominal rate; it is read again as a packet.
        let mut first = [0u8; PACKET_HEAD];
        let got = read_up_to(&mut input, &mut first)?;
        input.unread(first.get(..got).unwrap_or(&[]));
        let first = (got == PACKET_HEAD && &first[..8] == PACKET_TAG)
            .then(|| packet_head(&first))
            .flatten();
        let rate_hz = first
            .and_then(|h| {
                let span = f64::from(h.end_s) - f64::from(h.start_s);
                let observed = h.n_acc as f64 / span;
                (span > 0.0 && h.n_acc > 0).then(|| {
                    RATES_HZ
                        .iter()
                        .copied()
                        .min_by(|a, b| (a - observed).abs().total_cmp(&(b - observed).abs()))
                })
            })
            .flatten()
            .unwrap_or(100.0);
        let device = DeviceInfo {
            device_type: "Matrix".into(),
            serial: String::new(),
            rate_hz: Some(rate_hz),
            range_g: Some(range_g),
            start_s: first.map(|h| f64::from(h.start_s)),
            location: None,
            extra: vec![
                ("declared_packets".into(), declared.to_string()),
                ("gyro_range_dps".into(), gyro.to_string()),
            ],
        };
        let mut stage = Stage::new(Format::MatrixBin, device, rate_hz)?;
        stage.path = path;
        let mut r = MatrixReader {
            input,
            stage,
            range_g,
            declared,
            byte: HEADER_LEN as u64,
            packet_idx: 0,
            after_bad: false,
            buf: Vec::new(),
            skips: SkipLog::default(),
        };
        prime(&mut r)?;
        Ok(r)
    }

    fn position(&self, packet: u64, byte: u64) -> Position {
        block_position(self.stage.path.as_deref(), packet, byte)
    }

    #[cold]
    fn io_error(&self, e: std::io::Error) -> Error {
        let mut p = Position::byte(self.byte);
        p.file = self.stage.path.clone();
        Error::at(ErrorKind::Io(e), p)
    }

    #[cold]
    fn report_cut(&mut self, packet: u64, at: u64) {
        let pos = self.position(packet, at);
        self.stage.info.warnings.push(Warning::at(
            pos,
            format!("the file ends inside packet {packet}: the incomplete packet is ignored"),
        ));
    }

    /// Records a packet (or bytes that should have been one) as skipped: a warning, and a
    /// hole before the next samples.
    #[cold]
    fn skip(&mut self, packet: u64, at: u64, message: String) {
        let pos = self.position(packet, at);
        self.skips.skip(&mut self.stage.info.warnings, pos, message);
        self.stage.hole_pending = true;
    }

    /// Reads the next packet head, resynchronising on the tag; `None` at the end.
    fn next_head(&mut self) -> Result<Option<([u8; PACKET_HEAD], u64)>, Error> {
        let quiet = std::mem::take(&mut self.after_bad);
        let mut junk_from = None;
        loop {
            // On to the next byte that may start a tag.
            loop {
                let buf = match self.input.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.io_error(e)),
                };
                if buf.is_empty() {
                    if let (Some(from), false) = (junk_from, quiet) {
                        self.report_junk(from, self.byte);
                    }
                    return Ok(None);
                }
                if buf[0] == PACKET_TAG[0] {
                    break;
                }
                junk_from.get_or_insert(self.byte);
                let skip = buf
                    .iter()
                    .position(|&b| b == PACKET_TAG[0])
                    .unwrap_or(buf.len());
                self.input.consume(skip);
                self.byte += skip as u64;
            }
            let at = self.byte;
            let mut head = [0u8; PACKET_HEAD];
            let got = read_up_to(&mut self.input, &mut head).map_err(|e| self.io_error(e))?;
            self.byte += got as u64;
            let part = head.get(..got.min(PACKET_TAG.len())).unwrap_or(&[]);
            if PACKET_TAG.starts_with(part) {
                // A tag, whole or cut by the end of the file (`got` is short only there).
                if let (Some(from), false) = (junk_from, quiet) {
                    self.report_junk(from, at);
                }
                if got < PACKET_HEAD {
                    let packet = self.packet_idx;
                    self.report_cut(packet, at);
                    return Ok(None);
                }
                return Ok(Some((head, at)));
            }
            // Not a tag: look again from the byte after this one.
            junk_from.get_or_insert(at);
            self.input.unread(head.get(1..got).unwrap_or(&[]));
            self.byte = at + 1;
        }
    }

    #[cold]
    fn report_junk(&mut self, from: u64, to: u64) {
        let packet = self.packet_idx;
        self.skip(
            packet,
            from,
            format!("bytes {from}..{to} skipped: not a packet"),
        );
    }

    /// Reads and decodes the next good packet into `self.stage.staged`; `Ok(false)` at the end.
    fn next_packet(&mut self) -> Result<bool, Error> {
        loop {
            let Some((head, at)) = self.next_head()? else {
                return Ok(false);
            };
            let packet = self.packet_idx;
            self.packet_idx += 1;
            let h = packet_head(&head).filter(|h| h.body_len <= MAX_PACKET);
            let Some(h) = h else {
                self.after_bad = true;
                let msg = format!(
                    "packet {packet} skipped: its reading counts make it longer than {MAX_PACKET} bytes"
                );
                self.skip(packet, at, msg);
                continue;
            };
            self.buf.resize(h.body_len, 0);
            let got = read_up_to(&mut self.input, &mut self.buf).map_err(|e| self.io_error(e))?;
            self.byte += got as u64;
            let body = self.buf.get(..got).unwrap_or(&[]);
            let computed = (got == h.body_len).then(|| {
                let mut crc = crc32fast::Hasher::new();
                crc.update(head.get(12..).unwrap_or(&[]));
                crc.update(body);
                crc.finalize()
            });
            if computed != Some(h.crc) {
                // A damaged packet: its counts may be wrong too, so the next packet may
                // start inside what was read for this one. Read on from the first tag after
                // this packet's own, or else from the last bytes read, which may begin one.
                let after_tag = head.get(PACKET_TAG.len()..).unwrap_or(&[]);
                let next = find_tag(after_tag, body);
                let n_read = after_tag.len() + body.len();
                let from = match next {
                    Some(k) => k,
                    None => n_read.saturating_sub(PACKET_TAG.len() - 1),
                };
                let rest: Vec<u8> = after_tag.iter().chain(body).skip(from).copied().collect();
                self.input.unread(&rest);
                self.byte = at + (PACKET_TAG.len() + from) as u64;
                let reason = match (computed, next) {
                    (None, None) => {
                        self.report_cut(packet, at);
                        return Ok(false);
                    }
                    (None, Some(_)) => format!(
                        "its reading counts run past the next packet's tag at byte {} \
                         (a damaged head, or a packet cut short)",
                        self.byte
                    ),
                    (Some(computed), _) => ErrorKind::Checksum {
                        format: FORMAT,
                        stored: h.crc,
                        computed,
                    }
                    .to_string(),
                };
                self.after_bad = true;
                self.skip(packet, at, format!("packet {packet} skipped: {reason}"));
                continue;
            }
            if h.n_acc == 0 {
                continue;
            }
            if h.end_s <= h.start_s {
                let msg = format!(
                    "packet {packet} skipped: its end time {} s is not after its start time {} s",
                    h.end_s, h.start_s
                );
                self.skip(packet, at, msg);
                continue;
            }
            let t0 = f64::from(h.start_s);
            let dt = (f64::from(h.end_s) - t0) / h.n_acc as f64;
            let pos_scale = self.range_g / 32767.0;
            let neg_scale = self.range_g / 32768.0;
            let g = |lo: u8, hi: u8| {
                let v = i16::from_le_bytes([lo, hi]);
                f64::from(v) * if v >= 0 { pos_scale } else { neg_scale }
            };
            self.stage.staged.clear();
            for (j, w) in self.buf.chunks_exact(6).take(h.n_acc).enumerate() {
                if let &[x0, x1, y0, y1, z0, z1] = w {
                    self.stage.staged.samples.push(Sample::new(
                        t0 + j as f64 * dt,
                        [g(x0, x1), g(y0, y1), g(z0, z1)],
                    ));
                }
            }
            self.stage.staged.at = (packet, at);
            return Ok(true);
        }
    }

    fn finish(&mut self) {
        self.skips.finish(&mut self.stage.info.warnings, "packets");
        if u64::from(self.declared) != self.packet_idx {
            self.stage.info.warnings.push(Warning::new(format!(
                "the header declares {} packets, the file holds {}",
                self.declared, self.packet_idx
            )));
        }
    }
}

impl<R: Read> StagedReader for MatrixReader<R> {
    fn stage(&mut self) -> &mut Stage {
        &mut self.stage
    }

    fn refill(&mut self) -> Result<bool, Error> {
        let more = self.next_packet()?;
        if !more {
            self.finish();
        }
        Ok(more)
    }
}

impl<R: Read> Source for MatrixReader<R> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        read_staged(self, out)
    }

    fn info(&self) -> &RecordingInfo {
        &self.stage.info
    }
}
