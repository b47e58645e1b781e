//! GENEActiv `.bin` files: a text header, then pages of hex-encoded samples.
//!
//! # The format
//! Lines end in CRLF. The header (`Device Identity` … `Memory Status`) holds `name:value`
//! lines, among them the calibration: `x gain`, `x offset` and the same for y and z. Each page
//! starts with a `Recorded Data` line, has `name:value` lines (`Page Time`, `Measurement
//! Frequency`, …) and ends with one line of 3600 hex digits: 300 samples of 48 bits, each
//! x, y, z as 12-bit two's-complement values, then 10 bits of light, a button bit and a spare
//! bit. An axis in g is `(raw × 100 − offset) / gain`.
//!
//! # Sample times
//! Sample `i` of a page is at `page time + i / measurement frequency`, with the page's own
//! time (1 ms resolution) and frequency. Each page restarts at its stored time: where the
//! device clock and the sampling clock disagree, the step across a page boundary is a little
//! shorter or longer than the others (about 0.6 ms shorter in the test file). A page whose
//! first time is not after the previous sample stops reading with
//! [`ErrorKind::TimeNotIncreasing`] naming the page.
//!
//! # Bad pages
//! A page with an unreadable time, frequency or hex line is skipped with a [`Warning`] naming
//! its number (from 0) and byte offset. A file that ends inside a page (a copy cut short)
//! loses that page, with a warning; a header that declares more pages than the file holds
//! gets a warning too. A header without calibration, or not a GENEActiv header, is an error.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::io::device::{
    self, block_position, civil_to_unix_s, open_unbuffered, prime, read_staged, SkipLog, Stage,
    StagedReader,
};
use crate::io::{DeviceInfo, Format, RecordingInfo, Source, Warning};
use crate::{Error, ErrorKind, Position, Sample};

const FORMAT: &str = "geneactiv";
/// Longest line accepted, in bytes (a page's hex line is 3600).
const MAX_LINE: usize = 8192;
/// Most header lines accepted before the first page.
const MAX_HEADER_LINES: usize = 512;
/// Samples in a full page.
const PAGE_SAMPLES: usize = 300;
/// Hex digits per sample.
const HEX_PER_SAMPLE: usize = 12;

/// A reader of GENEActiv `.bin` files, from any [`Read`].
pub struct GeneactivReader<R> {
    input: BufReader<R>,
    stage: Stage,
    /// Per axis: (gain, offset).
    cal: [(f64, f64); 3],
    header_rate_hz: f64,
    declared_pages: Option<u64>,
    line: Vec<u8>,
    /// Byte offset of the next line.
    byte: u64,
    /// The `Recorded Data` line of the next page was already read, at this byte offset.
    pending_page_at: Option<u64>,
    page_idx: u64,
    n_pages: u64,
    skips: SkipLog,
}

impl GeneactivReader<File> {
    /// Opens a GENEActiv `.bin` file, reads its header and decodes its first pages (to
    /// measure the rate).
    ///
    /// # Errors
    /// When the file cannot be read or its header is not a GENEActiv header; the error names
    /// the file.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let f = open_unbuffered(path)?;
        GeneactivReader::open(f, Some(path.to_path_buf())).map_err(|e| e.in_file(path))
    }
}

/// Reads one line (without its CR LF) into `buf`; `Ok(false)` at the end of the input.
/// `Err` with `InvalidData` for a line longer than [`MAX_LINE`].
fn read_line<R: Read>(
    input: &mut BufReader<R>,
    buf: &mut Vec<u8>,
) -> std::io::Result<(bool, usize, bool)> {
    buf.clear();
    let mut consumed = 0usize;
    loop {
        let avail = match input.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            // end of input: a last line without LF
            let any = consumed > 0;
            return Ok((any, consumed, false));
        }
        let (take, found) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if buf.len() + take > MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than {MAX_LINE} bytes"),
            ));
        }
        buf.extend_from_slice(&avail[..take]);
        input.consume(take);
        consumed += take;
        if found {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok((true, consumed, true));
        }
    }
}

/// Splits `name:value` (value trimmed of spaces and NULs).
fn key_value(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = line.iter().position(|&b| b == b':')?;
    let v = &line[i + 1..];
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |e| e + 1);
    let start = v.iter().position(|&b| b != b' ').unwrap_or(end).min(end);
    Some((&line[..i], &v[start..end]))
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// The leading number of a field such as `85.7 Hz` or `-8 to 8`.
fn leading_number(v: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse().ok()
}

/// `YYYY-MM-DD hh:mm:ss:mmm` (fields may lack leading zeros) in Unix seconds.
fn parse_time(v: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let mut f = s.split(['-', ' ', ':']).filter(|p| !p.is_empty());
    let mut next = || f.next().and_then(|p| p.parse::<u32>().ok());
    let (y, mo, d, h, mi, sec) = (next()?, next()?, next()?, next()?, next()?, next()?);
    let ms = next().unwrap_or(0);
    if ms > 999 {
        return None;
    }
    let whole = civil_to_unix_s(i64::from(y), mo, d, h, mi, sec)?;
    Some(whole as f64 + f64::from(ms) / 1000.0)
}

impl<R: Read> GeneactivReader<R> {
    /// Reads the header from `input`, decodes the first pages (to measure the rate) and
    /// readies the reader.
    ///
    /// # Errors
    /// [`ErrorKind::Empty`] for no bytes; [`ErrorKind::Format`] when the first line is not
    /// `Device Identity`, the calibration or measurement frequency is missing or not a
    /// number, or no page follows the header; [`ErrorKind::RateTooLow`] when the first
    /// samples' median interval means a rate below [`MIN_RATE_HZ`](crate::io::MIN_RATE_HZ).
    pub fn new(input: R) -> Result<Self, Error> {
        GeneactivReader::open(input, None)
    }

    fn open(input: R, path: Option<PathBuf>) -> Result<Self, Error> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let mut line = Vec::with_capacity(MAX_LINE);
        let mut byte = 0u64;
        let bad = |reason: String, byte: u64| device::format_error(FORMAT, reason, byte);
        let mut gains = [None; 3];
        let mut offsets = [None; 3];
        let mut rate = None;
        let mut device = DeviceInfo::default();
        let mut model = String::new();
        let mut declared_pages: Option<u64> = None;
        let mut first_page_at = None;
        for n_line in 0..MAX_HEADER_LINES {
            let at = byte;
            let (any, used, _) =
                read_line(&mut input, &mut line).map_err(|e| bad(e.to_string(), at))?;
            byte += used as u64;
            if !any {
                if n_line == 0 {
                    return Err(Error::new(ErrorKind::Empty));
                }
                break;
            }
            let l = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
            if n_line == 0 && l != b"Device Identity" {
                let shown: String = text(l).chars().take(40).collect();
                return Err(bad(
                    format!("expected the first line \"Device Identity\", found {shown:?}"),
                    0,
                ));
            }
            if l == b"Recorded Data" {
                first_page_at = Some(at);
                break;
            }
            let Some((k, v)) = key_value(l) else {
                continue;
            };
            let axis = |name: &[u8]| match name.first() {
                Some(b'x') => Some(0usize),
                Some(b'y') => Some(1),
                Some(b'z') => Some(2),
                _ => None,
            };
            match k {
                b"x gain" | b"y gain" | b"z gain" => {
                    let g = leading_number(v).filter(|g| *g != 0.0 && g.is_finite());
                    let Some(g) = g else {
                        return Err(bad(
                            format!(
                                "{}: expected a non-zero number, found {:?}",
                                text(k),
                                text(v)
                            ),
                            at,
                        ));
                    };
                    if let Some(slot) = axis(k).and_then(|a| gains.get_mut(a)) {
                        *slot = Some(g);
                    }
                }
                b"x offset" | b"y offset" | b"z offset" => {
                    let Some(o) = leading_number(v).filter(|o| o.is_finite()) else {
                        return Err(bad(
                            format!("{}: expected a number, found {:?}", text(k), text(v)),
                            at,
                        ));
                    };
                    if let Some(slot) = axis(k).and_then(|a| offsets.get_mut(a)) {
                        *slot = Some(o);
                    }
                }
                b"Measurement Frequency" => rate = leading_number(v),
                b"Device Unique Serial Code" => device.serial = text(v),
                b"Device Type" => device.device_type = text(v),
                b"Device Model" => model = text(v),
                b"Accelerometer Range" => {
                    device.range_g = text(v)
                        .rsplit(' ')
                        .next()
                        .and_then(|s| s.parse::<f64>().ok())
                        .map(f64::abs);
                }
                b"Start Time" => device.start_s = parse_time(v),
                b"Device Location Code" if !v.is_empty() => device.location = Some(text(v)),
                b"Number of Pages" => {
                    declared_pages = std::str::from_utf8(v)
                        .ok()
                        .and_then(|p| p.trim().parse().ok());
                }
                b"Device Firmware Version"
                | b"Time Zone"
                | b"Calibration Date"
                | b"Volts"
                | b"Lux" => {
                    let name = text(k).to_ascii_lowercase().replace(' ', "_");
                    device.extra.push((name, text(v)));
                }
                _ => {}
            }
        }
        let Some(first_page_at) = first_page_at else {
            return Err(bad(
                "no \"Recorded Data\" page after the header".into(),
                byte,
            ));
        };
        let mut cal = [(1.0, 0.0); 3];
        for (a, name) in ["x", "y", "z"].iter().enumerate() {
            match (
                gains.get(a).copied().flatten(),
                offsets.get(a).copied().flatten(),
            ) {
                (Some(g), Some(o)) => {
                    if let Some(c) = cal.get_mut(a) {
                        *c = (g, o);
                    }
                    device.extra.push((format!("{name}_gain"), g.to_string()));
                    device.extra.push((format!("{name}_offset"), o.to_string()));
                }
                _ => {
                    return Err(bad(
                        format!(
                            "the header has no \"{name} gain\" and \"{name} offset\" calibration"
                        ),
                        first_page_at,
                    ))
                }
            }
        }
        let Some(rate_hz) = rate.filter(|r| r.is_finite() && *r > 0.0) else {
            return Err(bad(
                "the header has no \"Measurement Frequency\"".into(),
                first_page_at,
            ));
        };
        if !model.is_empty() {
            device.device_type = format!("{} {model}", device.device_type.trim());
        }
        device.rate_hz = Some(rate_hz);
        if let Some(p) = declared_pages {
            device.extra.push(("number_of_pages".into(), p.to_string()));
        }
        let mut stage = Stage::new(Format::GeneactivBin, device, rate_hz)?;
        stage.staged.samples.reserve(PAGE_SAMPLES);
        stage.path = path;
        let mut r = GeneactivReader {
            input,
            stage,
            cal,
            header_rate_hz: rate_hz,
            declared_pages,
            line,
            byte,
            pending_page_at: Some(first_page_at),
            page_idx: 0,
            n_pages: 0,
            skips: SkipLog::default(),
        };
        prime(&mut r)?;
        Ok(r)
    }

    fn position(&self, page: u64, byte: u64) -> Position {
        block_position(self.stage.path.as_deref(), page, byte)
    }

    /// Reads the next page into `self.stage.staged`; `Ok(false)` at the end of the file.
    fn next_page(&mut self) -> Result<bool, Error> {
        loop {
            // Find the page's "Recorded Data" line.
            let page_at = match self.pending_page_at.take() {
                Some(at) => at,
                None => loop {
                    let at = self.byte;
                    let (any, _) = self.line()?;
                    if !any {
                        return Ok(false);
                    }
                    if self.line == b"Recorded Data" {
                        break at;
                    }
                },
            };
            let page = self.page_idx;
            self.page_idx += 1;
            match self.read_page()? {
                PageEnd::Ok => {
                    self.n_pages += 1;
                    self.stage.staged.at = (page, page_at);
                    return Ok(true);
                }
                PageEnd::Skip(reason) => {
                    self.stage.hole_pending = true;
                    let pos = self.position(page, page_at);
                    self.skips.skip(
                        &mut self.stage.info.warnings,
                        pos,
                        format!("page {page} skipped: {reason}"),
                    );
                }
                PageEnd::Cut => {
                    let pos = self.position(page, page_at);
                    self.stage.info.warnings.push(Warning::at(
                        pos,
                        format!("the file ends inside page {page}: the incomplete page is ignored"),
                    ));
                    return Ok(false);
                }
            }
        }
    }

    /// Reads one line; returns (any bytes, ended with a line feed).
    fn line(&mut self) -> Result<(bool, bool), Error> {
        let at = self.byte;
        let (any, used, lf) = read_line(&mut self.input, &mut self.line).map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::InvalidData {
                ErrorKind::Format {
                    format: FORMAT,
                    reason: e.to_string(),
                }
            } else {
                ErrorKind::Io(e)
            };
            let mut p = Position::byte(at);
            p.file = self.stage.path.clone();
            Error::at(kind, p)
        })?;
        self.byte += used as u64;
        Ok((any, lf))
    }

    fn read_page(&mut self) -> Result<PageEnd, Error> {
        let mut t0 = None;
        let mut rate = None;
        loop {
            let line_at = self.byte;
            let (any, lf) = self.line()?;
            if !any {
                return Ok(PageEnd::Cut);
            }
            if self.line == b"Recorded Data" {
                // A page without its data line: the next page starts here.
                self.pending_page_at = Some(line_at);
                return Ok(PageEnd::Skip("no data line".into()));
            }
            if let Some((k, v)) = key_value(&self.line) {
                match k {
                    b"Page Time" => t0 = parse_time(v),
                    b"Measurement Frequency" => rate = leading_number(v),
                    _ => {}
                }
                continue;
            }
            // The data line.
            if !lf {
                return Ok(if self.line.len() < PAGE_SAMPLES * HEX_PER_SAMPLE {
                    PageEnd::Cut
                } else {
                    self.decode_page(t0, rate)
                });
            }
            return Ok(self.decode_page(t0, rate));
        }
    }

    fn decode_page(&mut self, t0: Option<f64>, rate: Option<f64>) -> PageEnd {
        let Some(t0) = t0 else {
            return PageEnd::Skip("no readable \"Page Time\"".into());
        };
        let rate = rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .unwrap_or(self.header_rate_hz);
        let hex = &self.line;
        if hex.is_empty()
            || hex.len() % HEX_PER_SAMPLE != 0
            || hex.len() > PAGE_SAMPLES * HEX_PER_SAMPLE
        {
            return PageEnd::Skip(format!(
                "a data line of {} hex digits, expected a multiple of {HEX_PER_SAMPLE} up to {}",
                hex.len(),
                PAGE_SAMPLES * HEX_PER_SAMPLE
            ));
        }
        self.stage.staged.clear();
        let dt = 1.0 / rate;
        let [(gx, ox), (gy, oy), (gz, oz)] = self.cal;
        for (i, digits) in hex.chunks_exact(HEX_PER_SAMPLE).enumerate() {
            let mut v: u64 = 0;
            for &c in digits {
                let d = match c {
                    b'0'..=b'9' => c - b'0',
                    b'A'..=b'F' => c - b'A' + 10,
                    b'a'..=b'f' => c - b'a' + 10,
                    _ => {
                        self.stage.staged.clear();
                        return PageEnd::Skip(format!(
                            "byte {c:#04x} in the hex data of sample {i}"
                        ));
                    }
                };
                v = (v << 4) | u64::from(d);
            }
            let axis = |shift: u32| -> f64 {
                let raw = ((v >> shift) & 0xfff) as i32;
                f64::from((raw << 20) >> 20)
            };
            self.stage.staged.samples.push(Sample::new(
                t0 + i as f64 * dt,
                [
                    (axis(36) * 100.0 - ox) / gx,
                    (axis(24) * 100.0 - oy) / gy,
                    (axis(12) * 100.0 - oz) / gz,
                ],
            ));
        }
        PageEnd::Ok
    }
}

enum PageEnd {
    Ok,
    Skip(String),
    Cut,
}

impl<R: Read> StagedReader for GeneactivReader<R> {
    fn stage(&mut self) -> &mut Stage {
        &mut self.stage
    }

    fn refill(&mut self) -> Result<bool, Error> {
        let more = self.next_page()?;
        if !more {
            self.finish();
        }
        Ok(more)
    }
}

impl<R: Read> Source for GeneactivReader<R> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        read_staged(self, out)
    }

    fn info(&self) -> &RecordingInfo {
        &self.stage.info
    }
}

impl<R: Read> GeneactivReader<R> {
    fn finish(&mut self) {
        self.skips.finish(&mut self.stage.info.warnings, "pages");
        if let Some(declared) = self.declared_pages {
            if declared > self.page_idx {
                self.stage.info.warnings.push(Warning::new(format!(
                    "the header declares {declared} pages, the file holds {} ({} read)",
                    self.page_idx, self.n_pages
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_numbers_parse() {
        assert_eq!(
            parse_time(b"2013-05-30 10:12:54:500"),
            Some(1_369_908_774.5)
        );
        assert_eq!(
            parse_time(b"2013-6-11 17:25:40:479").map(|t| (t * 1000.0).round()),
            Some(1_370_971_540_479.0)
        );
        assert_eq!(parse_time(b"2013-02-30 10:12:54:500"), None);
        assert_eq!(leading_number(b"85.7 Hz"), Some(85.7));
        assert_eq!(leading_number(b"-8 to 8"), Some(-8.0));
        assert_eq!(leading_number(b"Hz"), None);
        assert_eq!(
            key_value(b"x gain:25875\0\0 "),
            Some((&b"x gain"[..], &b"25875"[..]))
        );
    }

    #[test]
    fn one_sample_decodes_with_calibration() {
        // x = 0x800 (-2048), y = 0x7ff (2047), z = 0x001; light etc. zero.
        let header = "Device Identity\r\nDevice Unique Serial Code:1\r\nMeasurement Frequency:100 Hz\r\n\
            x gain:10000\r\nx offset:0\r\ny gain:20000\r\ny offset:100\r\nz gain:10000\r\nz offset:-100\r\n\
            Number of Pages:1\r\n\r\nRecorded Data\r\nPage Time:2020-01-01 00:00:00:250\r\n\
            Measurement Frequency:100\r\n8007FF001000\r\n";
        let mut r = GeneactivReader::new(header.as_bytes()).unwrap();
        let mut out = [Sample::default(); 4];
        assert_eq!(r.read_samples(&mut out).unwrap(), 1);
        assert_eq!(out[0].t_s, 1_577_836_800.25);
        // (raw × 100 − offset) / gain
        assert_eq!(
            out[0].acc_g,
            [
                -204_800.0 / 10_000.0,
                (204_700.0 - 100.0) / 20_000.0,
                200.0 / 10_000.0
            ]
        );
        assert_eq!(r.read_samples(&mut out).unwrap(), 0);
        assert!(r.info().warnings.is_empty(), "{:?}", r.info().warnings);
    }
}
