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
//! # Bad packets
//! A packet whose CRC does not match, or whose end time is not after its start, is skipped
//! with a [`Warning`] naming its number (from 0) and byte offset; bytes that are not a packet
//! are skipped up to the next `MDTCPACK` tag, with a warning. A file cut inside a packet loses
//! that packet, with a warning. A wrong header tag is an error, as is a packet whose readings
//! do not start after the previous packet's last ([`ErrorKind::TimeNotIncreasing`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::io::device::{
    self, block_position, le32, open_unbuffered, read_staged, read_up_to, SkipLog, Stage,
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

/// A reader of Parmay Matrix `.BIN` files, from any [`Read`].
pub struct MatrixReader<R> {
    input: BufReader<R>,
    stage: Stage,
    range_g: f64,
    declared: u32,
    /// Byte offset of the next byte of the input.
    byte: u64,
    packet_idx: u64,
    /// The header of the next packet, already read (by `new`, to find the rate).
    pending: Option<([u8; PACKET_HEAD], u64)>,
    buf: Vec<u8>,
    skips: SkipLog,
}

impl MatrixReader<File> {
    /// Opens a Matrix `.BIN` file and reads its header.
    ///
    /// # Errors
    /// When the file cannot be read or its header is not a Matrix header; the error names
    /// the file.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let f = open_unbuffered(path)?;
        let mut r = MatrixReader::new(f).map_err(|e| e.in_file(path))?;
        r.stage.path = Some(path.to_path_buf());
        Ok(r)
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

impl<R: Read> MatrixReader<R> {
    /// Reads the header and the first packet's header from `input` and readies the reader.
    ///
    /// # Errors
    /// [`ErrorKind::Empty`] for no bytes; [`ErrorKind::Format`] when the header tag `MDTC` is
    /// missing, the range is not positive, or the input ends inside the header.
    pub fn new(input: R) -> Result<Self, Error> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
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
        // The first packet's head gives the nominal rate.
        let mut first = [0u8; PACKET_HEAD];
        let got = read_up_to(&mut input, &mut first)?;
        let mut pending = None;
        let mut rate_hz = None;
        if got == PACKET_HEAD && &first[..8] == PACKET_TAG {
            if let Some(h) = packet_head(&first) {
                let span = f64::from(h.end_s) - f64::from(h.start_s);
                if span > 0.0 && h.n_acc > 0 {
                    let observed = h.n_acc as f64 / span;
                    rate_hz = RATES_HZ
                        .iter()
                        .copied()
                        .min_by(|a, b| (a - observed).abs().total_cmp(&(b - observed).abs()));
                }
            }
        }
        if got > 0 {
            pending = Some((first, HEADER_LEN as u64));
        }
        let rate_hz = rate_hz.unwrap_or(100.0);
        let device = DeviceInfo {
            device_type: "Matrix".into(),
            serial: String::new(),
            rate_hz: Some(rate_hz),
            range_g: Some(range_g),
            start_s: pending
                .as_ref()
                .map(|(h, _)| f64::from(le32(h, 12)))
                .filter(|_| got == PACKET_HEAD),
            location: None,
            extra: vec![
                ("declared_packets".into(), declared.to_string()),
                ("gyro_range_dps".into(), gyro.to_string()),
            ],
        };
        let stage = Stage::new(Format::MatrixBin, device, rate_hz)?;
        // A partial first head is handled by `next_packet` as a cut file.
        let (pending, eof_early) = match pending {
            Some((h, at)) if got == PACKET_HEAD => (Some((h, at)), false),
            Some(_) => (None, true),
            None => (None, false),
        };
        let mut r = MatrixReader {
            input,
            stage,
            range_g,
            declared,
            byte: (HEADER_LEN + got) as u64,
            packet_idx: 0,
            pending,
            buf: Vec::new(),
            skips: SkipLog::default(),
        };
        if eof_early {
            r.report_cut(0, HEADER_LEN as u64);
            r.stage.eof = true;
        }
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

    /// Reads the next packet head, resynchronising on the tag; `None` at the end.
    fn next_head(&mut self) -> Result<Option<([u8; PACKET_HEAD], u64)>, Error> {
        if let Some(p) = self.pending.take() {
            return Ok(Some(p));
        }
        loop {
            let mut junk_from = None;
            loop {
                let at = self.byte;
                let buf = match self.input.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.io_error(e)),
                };
                if buf.is_empty() {
                    if let Some(from) = junk_from {
                        self.report_junk(from);
                    }
                    return Ok(None);
                }
                if buf.starts_with(PACKET_TAG) || (buf.len() < PACKET_TAG.len() && buf[0] == b'M') {
                    // A tag, or a short buffer that may start one: read the head and see.
                    break;
                }
                junk_from.get_or_insert(at);
                let skip = buf
                    .iter()
                    .skip(1)
                    .position(|&b| b == b'M')
                    .map_or(buf.len(), |i| i + 1);
                self.input.consume(skip);
                self.byte += skip as u64;
            }
            if let Some(from) = junk_from {
                self.report_junk(from);
            }
            let at = self.byte;
            let mut head = [0u8; PACKET_HEAD];
            let got = read_up_to(&mut self.input, &mut head).map_err(|e| self.io_error(e))?;
            self.byte += got as u64;
            if got < PACKET_HEAD {
                let packet = self.packet_idx;
                self.report_cut(packet, at);
                return Ok(None);
            }
            if &head[..8] == PACKET_TAG {
                return Ok(Some((head, at)));
            }
            let pos = self.position(self.packet_idx, at);
            let msg = format!("bytes {at}..{} skipped: not a packet", self.byte);
            self.skips.skip(&mut self.stage.info.warnings, pos, msg);
        }
    }

    #[cold]
    fn report_junk(&mut self, from: u64) {
        let pos = self.position(self.packet_idx, from);
        let msg = format!("bytes {from}..{} skipped: not a packet", self.byte);
        self.skips.skip(&mut self.stage.info.warnings, pos, msg);
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
                let pos = self.position(packet, at);
                let msg = format!(
                    "packet {packet} skipped: its reading counts make it longer than {MAX_PACKET} bytes"
                );
                self.skips.skip(&mut self.stage.info.warnings, pos, msg);
                continue;
            };
            self.buf.resize(h.body_len, 0);
            let got = read_up_to(&mut self.input, &mut self.buf).map_err(|e| self.io_error(e))?;
            self.byte += got as u64;
            if got < h.body_len {
                self.report_cut(packet, at);
                return Ok(false);
            }
            let mut crc = crc32fast::Hasher::new();
            crc.update(head.get(12..).unwrap_or(&[]));
            crc.update(&self.buf);
            let computed = crc.finalize();
            if computed != h.crc {
                let pos = self.position(packet, at);
                let msg = format!(
                    "packet {packet} skipped: {}",
                    ErrorKind::Checksum {
                        format: FORMAT,
                        stored: h.crc,
                        computed,
                    }
                );
                self.skips.skip(&mut self.stage.info.warnings, pos, msg);
                continue;
            }
            if h.n_acc == 0 {
                continue;
            }
            if h.end_s <= h.start_s {
                let pos = self.position(packet, at);
                let msg = format!(
                    "packet {packet} skipped: its end time {} s is not after its start time {} s",
                    h.end_s, h.start_s
                );
                self.skips.skip(&mut self.stage.info.warnings, pos, msg);
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
