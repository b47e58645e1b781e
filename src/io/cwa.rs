//! Axivity AX3 / AX6 `.cwa` files, decoded as a stream of blocks.
//!
//! # The format
//! A 1024-byte header (`MD`: device type and id, configured rate and range, a url-encoded
//! metadata text) is followed by 512-byte data blocks (`AX`), each holding 120 packed or 80
//! (AX3) / 40 (AX6, with gyroscope) unpacked samples, a block timestamp and a checksum (the
//! 16-bit little-endian words of a block sum to zero). Packed samples are one 32-bit word:
//! three 10-bit signed values and a 2-bit exponent, in 1/256 g after the shift. Unpacked
//! samples are 16-bit signed values in 1/2^(8+n) g, `n` in the top three bits of the block's
//! light field (AX3: 0, so 1/256 g; AX6 at ±16 g: 3, so 1/2048 g). In AX6 blocks the three
//! gyroscope values come first; they are skipped.
//!
//! # Sample times
//! A block's timestamp (whole seconds, plus a 15-bit fraction when the top bit of its
//! `deviceFractional` field is set) belongs to the sample `timestampOffset` places from the
//! block's first sample, moved on by `(2 × fraction × rate) >> 16` samples when the fraction
//! is present (integer rate in Hz). These anchors are joined by straight lines: a sample
//! between two anchors gets the interpolated time, and before the first or after the last
//! anchor of a *run* the neighbouring line is extended. A run is a stretch of blocks whose
//! sequence numbers follow one another in one session and whose anchors move forward at a
//! plausible rate (an interval between 0.5 and 2 times the nominal one). A skipped block, a new
//! session or an anchor that fails that test starts a new run, so no time is ever
//! interpolated across a hole. A run with a single anchor uses the nominal rate.
//!
//! # Rate
//! The rate statistics are measured from these times, as a CSV file's are: when the reader
//! is opened it works out the times of the first 4,097 samples, and their median interval
//! (not the header's rate, kept as [`RateInfo::nominal_hz`](crate::io::RateInfo)) sets the
//! gap rule and the detector's rate. An AX3 set to 100 Hz that runs at 98.86 Hz against its
//! own clock has a median interval of 10.115 ms.
//!
//! # Bad blocks
//! A data block with a bad checksum, a wrong tag, an impossible timestamp or sample count is
//! skipped with a [`Warning`] naming its block number (from 0, the first data block) and byte
//! offset; the samples around it stay, with the times their own runs give them. The hole it
//! leaves is a gap whatever its length (a 40-sample AX6 block is 0.4 s, under the 1 s gap
//! rule), and so is a hole where sequence numbers skip: kept out of the rate statistics,
//! never a slow interval. A file cut inside a block loses that block, with a warning. A wrong
//! header tag or a file shorter than its header is an error. If a new run's first times do not
//! come after the previous run's last, reading stops with
//! [`ErrorKind::TimeNotIncreasing`] at that block: nothing is dropped or shifted silently.
//!
//! # Speed and memory
//! Blocks are read in batches of 1024 (512 KiB) and decoded straight into the caller's
//! buffer; when it takes at least 16 Ki samples, the two halves of a call are decoded and
//! checked on two threads (rayon's pool). Memory beyond the caller's buffer is the batch and
//! a few small tables, about 1 MB. Figures are in BENCHMARKS.md ("Decoding device files").

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::io::device::{
    self, civil_to_unix_s, le16, le32, open_unbuffered, read_up_to, SkipLog, HEAD_SAMPLES,
};
use crate::io::{
    AccelUnit, DeviceInfo, Format, HeadInterval, RecordingInfo, SampleCheck, Source, TimeBase,
    UnitsFrom, Warning,
};
use crate::{Error, ErrorKind, Position, Sample};

const FORMAT: &str = "cwa";
/// Length of a data block, in bytes.
const BLOCK_LEN: usize = 512;
/// Data blocks read at a time.
const BATCH_BLOCKS: usize = 1024;
/// The usual header length, in bytes.
const HEADER_LEN: usize = 1024;
/// Byte offset of the sample data inside a block.
const DATA_AT: usize = 30;
/// Bytes of sample data in a block.
const DATA_LEN: usize = 480;
/// Blocks whose times may wait for a later anchor before the run is cut (bounds memory).
const MAX_UNRESOLVED: usize = 64;
/// Decode on a second thread only when a call takes at least this many samples: handing
/// half the work to the pool and waiting for it costs microseconds.
const PARALLEL_MIN_SAMPLES: usize = 16 * 1024;

/// A reader of Axivity `.cwa` files, from any [`Read`].
///
/// ```no_run
/// use sleeptwitch::io::CwaReader;
/// use sleeptwitch::{Sample, Source};
///
/// let mut cwa = CwaReader::from_path("week.cwa".as_ref())?;
/// let mut chunk = vec![Sample::default(); 64 * 1024];
/// while let n @ 1.. = cwa.read_samples(&mut chunk)? {
///     // chunk[..n] holds samples in g, times in seconds on the device clock
/// }
/// println!("{:?}", cwa.info().device);
/// # Ok::<(), sleeptwitch::Error>(())
/// ```
pub struct CwaReader<R> {
    input: R,
    path: Option<PathBuf>,
    header_len: u64,
    nominal_dt_s: f64,
    info: RecordingInfo,
    check: SampleCheck,
    /// Raw data blocks of the current batch (and blocks carried over from the last).
    raw: Vec<u8>,
    /// File block number (from 0) of the next block to be read from the input.
    next_file_block: u64,
    /// Valid blocks in `raw`, in file order.
    blocks: Vec<Block>,
    /// Next block to hand out.
    head: usize,
    /// `blocks[..resolved]` have their times.
    resolved: usize,
    segs: Vec<Seg>,
    run: Run,
    /// A block decoded for a caller whose buffer was smaller than it.
    partial: Vec<Sample>,
    partial_pos: usize,
    partial_block: u64,
    eof: bool,
    done: bool,
    started: bool,
    skips: SkipLog,
    /// A block was skipped since the last valid one: the next valid block follows a hole.
    hole_pending: bool,
    /// For the current call: (first index in `out`, file block, whether data were dropped
    /// right before it) of each piece written.
    spans: Vec<(usize, u64, bool)>,
    threads: usize,
}

#[derive(Clone, Copy, Debug)]
enum Encoding {
    /// One 32-bit word per sample: 3 × 10-bit values and a 2-bit exponent, 1/256 g.
    Packed,
    /// 16-bit values; `stride` bytes per sample, the accelerometer at `accel_at`.
    Unpacked {
        stride: usize,
        accel_at: usize,
        scale_g: f64,
    },
}

#[derive(Clone, Copy, Debug)]
struct Block {
    raw_at: usize,
    file_block: u64,
    n: usize,
    enc: Encoding,
    /// Run-local index of the block's first sample.
    first_idx: i64,
    /// Data were dropped between the previous valid block and this one (a skipped block, a
    /// sequence number jumping): the step to its first sample is a gap.
    hole_before: bool,
    seg_lo: usize,
    seg_hi: usize,
}

/// A stretch of a block's samples on one line: t(i) = t_base_s + (i - base) × dt_s, for
/// block-local indices `from..to`.
#[derive(Clone, Copy, Debug)]
struct Seg {
    from: usize,
    to: usize,
    base: i64,
    t_base_s: f64,
    dt_s: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Knot {
    idx: i64,
    t_s: f64,
}

#[derive(Debug, Default)]
struct Run {
    active: bool,
    session: u32,
    last_seq: u32,
    next_idx: i64,
    knots: VecDeque<Knot>,
}

/// What a data block's header says, once it passed every check.
struct Parsed {
    session: u32,
    seq: u32,
    n: usize,
    enc: Encoding,
    /// Block-local index of the anchor, and its time.
    anchor_offset: i64,
    anchor_t_s: f64,
}

/// The fields of the file header the reader keeps.
struct Header {
    header_len: u64,
    rate_code: u8,
    device: DeviceInfo,
}

impl CwaReader<File> {
    /// Opens a `.cwa` file, reads its header and works out the first samples' times (to
    /// measure the rate).
    ///
    /// # Errors
    /// When the file cannot be read or its header is not a CWA header; the error names the
    /// file.
    pub fn from_path(path: &Path) -> Result<Self, Error> {
        let f = open_unbuffered(path)?;
        CwaReader::open(f, Some(path.to_path_buf())).map_err(|e| e.in_file(path))
    }
}

impl<R: Read> CwaReader<R> {
    /// Reads the header from `input`, works out the first samples' times (to measure the
    /// rate) and readies the reader; samples come with [`Source::read_samples`].
    ///
    /// # Errors
    /// [`ErrorKind::Empty`] for no bytes; [`ErrorKind::Format`] when the header tag is not
    /// `MD`, its length is impossible, or the input ends inside it; [`ErrorKind::Io`] when the
    /// first blocks cannot be read; [`ErrorKind::RateTooLow`] when the first samples' median
    /// interval means a rate below [`MIN_RATE_HZ`](crate::io::MIN_RATE_HZ).
    pub fn new(input: R) -> Result<Self, Error> {
        CwaReader::open(input, None)
    }

    fn open(mut input: R, path: Option<PathBuf>) -> Result<Self, Error> {
        let mut head = vec![0u8; HEADER_LEN];
        let n = read_up_to(&mut input, &mut head)?;
        if n == 0 {
            return Err(Error::new(ErrorKind::Empty));
        }
        let header = parse_header(&head[..n], &mut input)?;
        let rate_hz = rate_hz(header.rate_code);
        let nominal_dt_s = 1.0 / rate_hz;
        let check = SampleCheck::new(nominal_dt_s, Some(rate_hz)).map_err(Error::new)?;
        let mut info = RecordingInfo {
            format: Format::Cwa,
            units: AccelUnit::G,
            units_from: UnitsFrom::Device,
            time_base: TimeBase::Unix,
            device: Some(header.device),
            ..RecordingInfo::default()
        };
        check.fill(&mut info);
        let mut r = CwaReader {
            input,
            path,
            header_len: header.header_len,
            nominal_dt_s,
            info,
            check,
            raw: Vec::with_capacity((BATCH_BLOCKS + MAX_UNRESOLVED + 1) * BLOCK_LEN),
            next_file_block: 0,
            blocks: Vec::with_capacity(BATCH_BLOCKS + MAX_UNRESOLVED + 1),
            head: 0,
            resolved: 0,
            segs: Vec::with_capacity(4 * BATCH_BLOCKS),
            run: Run::default(),
            partial: Vec::new(),
            partial_pos: 0,
            partial_block: 0,
            eof: false,
            done: false,
            started: false,
            skips: SkipLog::default(),
            hole_pending: false,
            spans: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        };
        r.prime()?;
        Ok(r)
    }

    /// Reads the first batch of blocks and builds the checks on the median interval of the
    /// first [`HEAD_SAMPLES`] samples' times, as a CSV reader does; the header's rate stays
    /// as the nominal one. The blocks stay to be handed out. With under two samples in the
    /// first batch's resolved blocks, the header's rate is kept.
    fn prime(&mut self) -> Result<(), Error> {
        while self.head == self.resolved && !self.eof {
            self.refill()?;
        }
        let mut n = 0;
        let mut end = self.head;
        while end < self.resolved && n < HEAD_SAMPLES {
            n += self.blocks[end].n;
            end += 1;
        }
        let mut head = vec![Sample::default(); n];
        decode_blocks(
            &self.raw,
            &self.blocks[self.head..end],
            &self.segs,
            &mut head,
        );
        let times: Vec<f64> = head.iter().map(|s| s.t_s).collect();
        if let Some(head) = HeadInterval::of(&times) {
            let nominal_hz = 1.0 / self.nominal_dt_s;
            self.check = SampleCheck::from_head(head, Some(nominal_hz)).map_err(Error::new)?;
            self.check.fill(&mut self.info);
        }
        Ok(())
    }

    /// Uses at most `threads` threads (at least one; more than two count as two) to decode;
    /// the default is two when the machine has them. The samples are the same either way;
    /// the mean magnitude and jitter in [`RecordingInfo`] may differ in the last bits, as
    /// the two halves' sums are added. Two threads pay when the caller's buffer takes at
    /// least 16 Ki samples and a second core is free.
    pub fn set_threads(&mut self, threads: usize) -> &mut Self {
        self.threads = threads.max(1);
        self
    }

    fn block_position(&self, file_block: u64) -> Position {
        block_position(self.header_len, file_block, self.path.as_deref())
    }

    /// Reads the next batch of blocks and works out the times of those it can.
    fn refill(&mut self) -> Result<(), Error> {
        // Everything resolved was handed out; carry the unresolved blocks over.
        debug_assert!(self.head == self.resolved);
        let carried: Vec<Block> = self.blocks.drain(self.head..).collect();
        self.blocks.clear();
        let mut new_raw_len = 0;
        for mut b in carried {
            self.raw
                .copy_within(b.raw_at..b.raw_at + BLOCK_LEN, new_raw_len);
            b.raw_at = new_raw_len;
            new_raw_len += BLOCK_LEN;
            self.blocks.push(b);
        }
        self.head = 0;
        self.resolved = 0;
        self.segs.clear();

        let want = BATCH_BLOCKS * BLOCK_LEN;
        // The buffer keeps its length between batches: no zero-filling each time.
        if self.raw.len() < new_raw_len + want {
            self.raw.resize(new_raw_len + want, 0);
        }
        let n = read_up_to(
            &mut self.input,
            &mut self.raw[new_raw_len..new_raw_len + want],
        )
        .map_err(|e| self.io_error(e))?;
        let whole = n / BLOCK_LEN;
        if n < want {
            self.eof = true;
            if n % BLOCK_LEN != 0 {
                let at = self.next_file_block + whole as u64;
                let pos = self.block_position(at);
                self.info.warnings.push(Warning::at(
                    pos,
                    format!(
                        "file ends {} bytes into block {at}: the incomplete block is ignored",
                        n % BLOCK_LEN
                    ),
                ));
            }
        }
        let mut at = new_raw_len;
        for _ in 0..whole {
            let file_block = self.next_file_block;
            self.next_file_block += 1;
            let bytes = &self.raw[at..at + BLOCK_LEN];
            match parse_block(bytes) {
                Ok(p) => self.add_block(p, at, file_block),
                Err(reason) => {
                    self.close_run();
                    self.hole_pending = true;
                    let pos = self.block_position(file_block);
                    let msg = format!("block {file_block} skipped: {reason}");
                    self.skips.skip(&mut self.info.warnings, pos, msg);
                }
            }
            at += BLOCK_LEN;
        }
        if self.eof {
            self.close_run();
            self.skips.finish(&mut self.info.warnings, "bad blocks");
        }
        Ok(())
    }

    /// Adds a valid block to the current run (or starts a new one) and resolves what it can.
    fn add_block(&mut self, p: Parsed, raw_at: usize, file_block: u64) {
        if p.n == 0 {
            // An empty block carries no samples; it keeps the sequence going.
            if self.run.active && p.session == self.run.session {
                self.run.last_seq = p.seq;
            }
            return;
        }
        let continues = self.run.active
            && p.session == self.run.session
            && p.seq == self.run.last_seq.wrapping_add(1);
        // Blocks missing from the sequence are dropped data as much as a skipped one.
        let hole_before = std::mem::take(&mut self.hole_pending)
            || (self.run.active && p.session == self.run.session && !continues);
        let first_idx = if continues { self.run.next_idx } else { 0 };
        let knot = Knot {
            idx: first_idx + p.anchor_offset,
            t_s: p.anchor_t_s,
        };
        let plausible = match self.run.knots.back() {
            Some(last) if continues => {
                let d_idx = knot.idx - last.idx;
                let d_t = knot.t_s - last.t_s;
                d_idx >= 1 && {
                    let ratio = d_t / d_idx as f64 / self.nominal_dt_s;
                    (0.5..=2.0).contains(&ratio)
                }
            }
            _ => continues,
        };
        let (first_idx, knot) = if plausible {
            (first_idx, knot)
        } else {
            self.close_run();
            self.run.active = true;
            self.run.next_idx = 0;
            (
                0,
                Knot {
                    idx: p.anchor_offset,
                    t_s: p.anchor_t_s,
                },
            )
        };
        self.run.session = p.session;
        self.run.last_seq = p.seq;
        self.run.next_idx = first_idx + p.n as i64;
        self.run.knots.push_back(knot);
        self.blocks.push(Block {
            raw_at,
            file_block,
            n: p.n,
            enc: p.enc,
            first_idx,
            hole_before,
            seg_lo: 0,
            seg_hi: 0,
        });
        self.resolve(false);
        if self.blocks.len() - self.resolved > MAX_UNRESOLVED {
            // Anchors far behind their samples: stop waiting for them.
            self.close_run();
        }
    }

    /// Ends the current run: every pending block gets its times from the anchors known.
    fn close_run(&mut self) {
        if self.run.active {
            self.resolve(true);
        }
        self.run.active = false;
        self.run.knots.clear();
    }

    /// Gives times to pending blocks whose samples the anchors cover (all when `closing`).
    fn resolve(&mut self, closing: bool) {
        while self.resolved < self.blocks.len() {
            let Some(last) = self.run.knots.back() else {
                return;
            };
            let b = self.blocks[self.resolved];
            let end = b.first_idx + b.n as i64 - 1;
            // Samples before the first anchor need the line through the first two.
            if !closing && (last.idx < end || self.run.knots.len() < 2) {
                return;
            }
            let seg_lo = self.segs.len();
            push_segments(
                &self.run.knots,
                b.first_idx,
                end,
                self.nominal_dt_s,
                &mut self.segs,
            );
            let seg_hi = self.segs.len();
            if let Some(blk) = self.blocks.get_mut(self.resolved) {
                blk.seg_lo = seg_lo;
                blk.seg_hi = seg_hi;
            }
            self.resolved += 1;
            let next_start = end + 1;
            while self.run.knots.len() > 2
                && self.run.knots.get(1).is_some_and(|k| k.idx <= next_start)
            {
                self.run.knots.pop_front();
            }
        }
    }

    #[cold]
    fn io_error(&self, e: std::io::Error) -> Error {
        Error::new(ErrorKind::Io(e)).in_file_if(self.path.as_deref())
    }

    /// Checks `out[from..to]` in order, naming the block of a bad sample; a piece written
    /// after dropped data starts with a gap.
    fn check_written(&mut self, out: &[Sample], from: usize, to: usize) -> Result<(), Error> {
        let mut start = from;
        for k in 0..self.spans.len() {
            let (at, _, hole) = self.spans[k];
            if !hole || at < from || at >= to {
                continue;
            }
            self.check_range(out, start, at)?;
            self.check.hole_before_next();
            start = at;
        }
        self.check_range(out, start, to)
    }

    fn check_range(&mut self, out: &[Sample], from: usize, to: usize) -> Result<(), Error> {
        let part = out.get(from..to).unwrap_or(&[]);
        match self.check.check_slice(part) {
            Ok(()) => Ok(()),
            Err((i, kind)) => Err(self.sample_error(from + i, kind)),
        }
    }

    /// The error for the sample at `out[i]` of the current call.
    #[cold]
    fn sample_error(&mut self, i: usize, kind: ErrorKind) -> Error {
        let block = self
            .spans
            .iter()
            .rev()
            .find(|(start, _, _)| *start <= i)
            .map_or(0, |(_, b, _)| *b);
        let mut pos = self.block_position(block);
        self.done = true;
        self.check.fill(&mut self.info);
        pos.sample_idx = Some(self.info.n_samples);
        Error::at(kind, pos)
    }
}

impl<R: Read> Source for CwaReader<R> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        self.spans.clear();
        let mut written = 0;
        // out[..checked] went through the sample checks.
        let mut checked = 0;
        // What is left of a block a smaller buffer could not take.
        if self.partial_pos < self.partial.len() {
            let rest = &self.partial[self.partial_pos..];
            let k = rest.len().min(out.len());
            out[..k].copy_from_slice(&rest[..k]);
            self.partial_pos += k;
            self.spans.push((0, self.partial_block, false));
            written = k;
        }
        while written < out.len() {
            if self.head == self.resolved {
                if self.eof {
                    break;
                }
                self.refill()?;
                continue;
            }
            let room = out.len() - written;
            // Whole blocks that fit.
            let mut end = self.head;
            let mut n_fit = 0;
            while end < self.resolved {
                let n = self.blocks[end].n;
                if n_fit + n > room {
                    break;
                }
                n_fit += n;
                end += 1;
            }
            if end > self.head {
                let mut at = written;
                for b in &self.blocks[self.head..end] {
                    self.spans.push((at, b.file_block, b.hole_before));
                    at += b.n;
                }
                // Samples before these are checked first: checks go in order.
                self.check_written(out, checked, written)?;
                let dst = &mut out[written..written + n_fit];
                let blocks = &self.blocks[self.head..end];
                let result = if self.threads > 1 && n_fit >= PARALLEL_MIN_SAMPLES {
                    decode_and_check(&self.raw, blocks, &self.segs, dst, &mut self.check)
                } else {
                    decode_checked(&self.raw, blocks, &self.segs, dst, &mut self.check)
                };
                if let Err((i, kind)) = result {
                    return Err(self.sample_error(written + i, kind));
                }
                checked = written + n_fit;
                self.head = end;
                written += n_fit;
            } else {
                // The next block is bigger than the room left: decode it aside.
                let b = self.blocks[self.head];
                self.partial.resize(b.n, Sample::default());
                decode_blocks(
                    &self.raw,
                    std::slice::from_ref(&b),
                    &self.segs,
                    &mut self.partial,
                );
                self.partial_block = b.file_block;
                self.head += 1;
                out[written..].copy_from_slice(&self.partial[..room]);
                self.spans.push((written, b.file_block, b.hole_before));
                self.partial_pos = room;
                written += room;
            }
        }
        self.check_written(out, checked, written)?;
        self.check.fill(&mut self.info);
        if written == 0 && !self.started {
            self.done = true;
            return Err(Error::new(ErrorKind::NoSamples).in_file_if(self.path.as_deref()));
        }
        self.started = true;
        Ok(written)
    }

    fn info(&self) -> &RecordingInfo {
        &self.info
    }
}

fn block_position(header_len: u64, file_block: u64, path: Option<&Path>) -> Position {
    device::block_position(path, file_block, header_len + file_block * BLOCK_LEN as u64)
}

/// Sample rate of a rate code: 3200 / 2^(15 - low nibble) Hz.
fn rate_hz(code: u8) -> f64 {
    3200.0 / f64::from(1u32 << (15 - u32::from(code & 0x0f)))
}

/// Range of a rate code: ±16 / 2^(top two bits) g.
fn range_g(code: u8) -> f64 {
    f64::from(16u32 >> (code >> 6))
}

/// A packed CWA timestamp (YYYYYYMM MMDDDDDh hhhhmmmm mmssssss, years from 2000) in Unix
/// seconds, or `None` when a field is out of range.
fn packed_time_s(v: u32) -> Option<i64> {
    civil_to_unix_s(
        i64::from((v >> 26) & 0x3f) + 2000,
        (v >> 22) & 0x0f,
        (v >> 17) & 0x1f,
        (v >> 12) & 0x1f,
        (v >> 6) & 0x3f,
        v & 0x3f,
    )
}

fn parse_header<R: Read>(head: &[u8], input: &mut R) -> Result<Header, Error> {
    let bad = |reason: String, byte: u64| device::format_error(FORMAT, reason, byte);
    if head.get(..2) != Some(b"MD") {
        let found: Vec<u8> = head.iter().take(2).copied().collect();
        return Err(bad(
            format!(
                "expected the header tag \"MD\", found {:?}",
                String::from_utf8_lossy(&found)
            ),
            0,
        ));
    }
    if head.len() < 64 {
        return Err(bad(
            format!(
                "the file ends after {} bytes, inside the header",
                head.len()
            ),
            head.len() as u64,
        ));
    }
    let packet_len = le16(head, 2);
    let header_len = usize::from(packet_len) + 4;
    if header_len < 512 || header_len % BLOCK_LEN != 0 {
        return Err(bad(
            format!("header length {packet_len} + 4 is not a whole number of 512-byte blocks"),
            2,
        ));
    }
    if head.len() < header_len.min(HEADER_LEN) {
        return Err(bad(
            format!(
                "the file ends after {} bytes, inside the {header_len}-byte header",
                head.len()
            ),
            head.len() as u64,
        ));
    }
    // A longer header than usual: skip the rest of it.
    if header_len > HEADER_LEN {
        let extra = (header_len - HEADER_LEN) as u64;
        let skipped = std::io::copy(&mut input.take(extra), &mut std::io::sink())?;
        if skipped < extra {
            return Err(bad(
                "the file ends inside the header".into(),
                HEADER_LEN as u64 + skipped,
            ));
        }
    }
    let hardware = head.get(4).copied().unwrap_or(0);
    let lower_id = le16(head, 5);
    let upper_id = match le16(head, 11) {
        0xffff => 0,
        u => u,
    };
    let device_id = (u32::from(upper_id) << 16) | u32::from(lower_id);
    let session = le32(head, 7);
    let start = le32(head, 13);
    let sensor_config = head.get(35).copied().unwrap_or(0);
    let rate_code = head.get(36).copied().unwrap_or(0);
    let firmware = head.get(41).copied().unwrap_or(0);
    let is_ax6 = hardware == 0x64;
    let mut extra = vec![
        ("firmware_revision".to_string(), firmware.to_string()),
        ("session_id".to_string(), session.to_string()),
        ("hardware_type".to_string(), format!("{hardware:#04x}")),
    ];
    if sensor_config != 0 && sensor_config != 0xff {
        let gyro_dps = 8000u32 >> u32::from(sensor_config & 0x0f).min(31);
        extra.push(("gyro_range_dps".to_string(), gyro_dps.to_string()));
    }
    let mut location = None;
    let meta_end = header_len.min(HEADER_LEN);
    for area in [head.get(64..512), head.get(512..meta_end)]
        .into_iter()
        .flatten()
    {
        for (k, v) in metadata_pairs(area) {
            if k == "_p" {
                location = Some(v.clone());
            }
            extra.push((format!("metadata{k}"), v));
        }
    }
    let start_s = match start {
        0 | 0xffff_ffff => None,
        v => packed_time_s(v).map(|s| s as f64),
    };
    let device = DeviceInfo {
        device_type: if is_ax6 { "AX6" } else { "AX3" }.to_string(),
        serial: device_id.to_string(),
        rate_hz: Some(rate_hz(rate_code)),
        range_g: Some(range_g(rate_code)),
        start_s,
        location,
        extra,
    };
    Ok(Header {
        header_len: header_len as u64,
        rate_code,
        device,
    })
}

/// The url-encoded `name=value&…` pairs of a metadata area (trailing spaces, 0x00 and 0xff
/// ignored).
fn metadata_pairs(area: &[u8]) -> Vec<(String, String)> {
    let end = area
        .iter()
        .rposition(|&b| b != b' ' && b != 0 && b != 0xff)
        .map_or(0, |i| i + 1);
    let text = &area[..end];
    let mut pairs = Vec::new();
    for part in text.split(|&b| b == b'&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &part[part.len()..]),
        };
        pairs.push((url_decode(k), url_decode(v)));
    }
    pairs
}

fn url_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Checks a data block and reads its header fields; `Err` says why it must be skipped.
fn parse_block(b: &[u8]) -> Result<Parsed, String> {
    if b.get(..2) != Some(b"AX") {
        let found: Vec<u8> = b.iter().take(2).copied().collect();
        return Err(format!(
            "expected the block tag \"AX\", found {:?}",
            String::from_utf8_lossy(&found)
        ));
    }
    let len = le16(b, 2);
    if usize::from(len) + 4 != BLOCK_LEN {
        return Err(format!("block length {len} + 4 is not 512"));
    }
    let sum = block_sum(b);
    if sum != 0 {
        let stored = le16(b, 510);
        let computed = stored.wrapping_sub(sum);
        return Err(ErrorKind::Checksum {
            format: FORMAT,
            stored: u32::from(stored),
            computed: u32::from(computed),
        }
        .to_string());
    }
    let fractional = le16(b, 4);
    let session = le32(b, 6);
    let seq = le32(b, 10);
    let stamp = le32(b, 14);
    let light = le16(b, 18);
    let rate_code = b.get(24).copied().unwrap_or(0);
    let axes_bps = b.get(25).copied().unwrap_or(0);
    let offset = le16(b, 26) as i16;
    let count = usize::from(le16(b, 28));
    let Some(t_s) = packed_time_s(stamp) else {
        return Err(format!("impossible block timestamp {stamp:#010x}"));
    };
    let axes = usize::from(axes_bps >> 4);
    let enc = match (axes, axes_bps & 0x0f) {
        (3, 0) => Encoding::Packed,
        (3 | 6 | 9, 2) => Encoding::Unpacked {
            stride: 2 * axes,
            accel_at: if axes == 3 { 0 } else { 6 },
            scale_g: 1.0 / f64::from(1u32 << (8 + u32::from(light >> 13))),
        },
        _ => return Err(format!("unknown sample layout {axes_bps:#04x}")),
    };
    let capacity = match enc {
        Encoding::Packed => DATA_LEN / 4,
        Encoding::Unpacked { stride, .. } => DATA_LEN / stride,
    };
    if count > capacity {
        return Err(format!(
            "sample count {count} is more than the {capacity} the block holds"
        ));
    }
    let mut anchor_offset = i64::from(offset);
    let mut anchor_t_s = t_s as f64;
    if fractional & 0x8000 != 0 {
        let frac = i64::from(fractional & 0x7fff);
        let rate_int = i64::from(3200u32 >> (15 - u32::from(rate_code & 0x0f)));
        anchor_offset += (frac * 2 * rate_int) >> 16;
        anchor_t_s += frac as f64 / 32768.0;
    }
    Ok(Parsed {
        session,
        seq,
        n: count,
        enc,
        anchor_offset,
        anchor_t_s,
    })
}

/// Sum of a block's 16-bit little-endian words, zero for an intact block.
fn block_sum(b: &[u8]) -> u16 {
    b.chunks_exact(2)
        .map(|w| u16::from_le_bytes([w[0], w[1]]))
        .fold(0u16, u16::wrapping_add)
}

/// Pushes the segments giving times to run-local samples `first..=last`.
fn push_segments(
    knots: &VecDeque<Knot>,
    first: i64,
    last: i64,
    nominal_dt_s: f64,
    segs: &mut Vec<Seg>,
) {
    let n_knots = knots.len();
    let Some(k0) = knots.front().copied() else {
        return;
    };
    if n_knots == 1 {
        segs.push(Seg {
            from: 0,
            to: local(last - first + 1),
            base: k0.idx - first,
            t_base_s: k0.t_s,
            dt_s: nominal_dt_s,
        });
        return;
    }
    // Line p joins knots p and p + 1; line 0 also covers everything before knot 1 and the
    // last line everything after the last knot.
    let mut p = knots
        .iter()
        .skip(1)
        .take(n_knots - 2)
        .take_while(|k| k.idx <= first)
        .count();
    let mut i = first;
    while i <= last {
        let (Some(a), Some(b)) = (knots.get(p), knots.get(p + 1)) else {
            return;
        };
        let end = if p + 2 < n_knots {
            (b.idx - 1).min(last)
        } else {
            last
        };
        let dt_s = (b.t_s - a.t_s) / (b.idx - a.idx) as f64;
        segs.push(Seg {
            from: local(i - first),
            to: local(end - first + 1),
            base: a.idx - first,
            t_base_s: a.t_s,
            dt_s,
        });
        i = end + 1;
        p += 1;
    }
}

/// A block-local sample index (0..=120) from run-local arithmetic; never negative in use.
fn local(i: i64) -> usize {
    usize::try_from(i).unwrap_or(0)
}

/// Decodes blocks in order into `out` (exactly their sample count long).
fn decode_blocks(raw: &[u8], blocks: &[Block], segs: &[Seg], out: &mut [Sample]) {
    let mut at = 0;
    for b in blocks {
        let Some(dst) = out.get_mut(at..at + b.n) else {
            return;
        };
        let Some(bytes) = raw.get(b.raw_at + DATA_AT..b.raw_at + DATA_AT + DATA_LEN) else {
            return;
        };
        for s in segs.get(b.seg_lo..b.seg_hi).unwrap_or(&[]) {
            if let Some(part) = dst.get_mut(s.from..s.to) {
                decode_run(bytes, b.enc, s, part);
            }
        }
        at += b.n;
    }
}

/// Blocks decoded at a time before their samples are checked: about 1000 samples (32 KB),
/// so the check reads what was just written from the nearest cache.
const CHECK_GROUP_BLOCKS: usize = 8;

/// Decodes blocks into `out` and checks them, a few blocks at a time.
///
/// Returns the index in `out` of the first sample that fails the checks, with its error.
fn decode_checked(
    raw: &[u8],
    blocks: &[Block],
    segs: &[Seg],
    out: &mut [Sample],
    check: &mut SampleCheck,
) -> Result<(), (usize, ErrorKind)> {
    let mut at = 0;
    let mut rest = blocks;
    while !rest.is_empty() {
        // A group ends before a block that follows dropped data, which is checked as a gap.
        let len = rest
            .iter()
            .take(CHECK_GROUP_BLOCKS)
            .skip(1)
            .position(|b| b.hole_before)
            .map_or(rest.len().min(CHECK_GROUP_BLOCKS), |i| i + 1);
        let (group, later) = rest.split_at(len);
        rest = later;
        let n: usize = group.iter().map(|b| b.n).sum();
        let Some(dst) = out.get_mut(at..at + n) else {
            return Ok(());
        };
        decode_blocks(raw, group, segs, dst);
        if group.first().is_some_and(|b| b.hole_before) {
            check.hole_before_next();
        }
        check.check_slice(dst).map_err(|(i, kind)| (at + i, kind))?;
        at += n;
    }
    Ok(())
}

/// Decodes and checks on two threads: the blocks are split where their samples are halved,
/// each half is decoded into its own part of `out` and checked with its own checker, and the
/// second checker is then appended to the first (which checks the step across the split).
/// Each thread touches only its half of the buffer, which matters on machines where moving
/// cache lines between cores is slow. `rayon::join` runs the halves: if the pool's other
/// thread is busy or descheduled, one thread takes both, so a loaded machine costs speed,
/// never a stall (a thread spawned and joined per call stalled for milliseconds each time).
///
/// Returns the index in `out` of the first sample that fails the checks, with its error.
fn decode_and_check(
    raw: &[u8],
    blocks: &[Block],
    segs: &[Seg],
    out: &mut [Sample],
    check: &mut SampleCheck,
) -> Result<(), (usize, ErrorKind)> {
    let total: usize = blocks.iter().map(|b| b.n).sum();
    let mut split = 0;
    let mut n_first = 0;
    for b in blocks {
        if n_first >= total / 2 {
            break;
        }
        n_first += b.n;
        split += 1;
    }
    let (b1, b2) = blocks.split_at(split);
    let (o1, o2) = out.split_at_mut(n_first.min(out.len()));
    let later = check.fork();
    let (first, second) = rayon::join(
        || decode_checked(raw, b1, segs, o1, check),
        move || {
            let mut later = later;
            let r = decode_checked(raw, b2, segs, o2, &mut later);
            (later, r)
        },
    );
    first?;
    let (later, second) = second;
    check.append(later).map_err(|kind| (n_first, kind))?;
    second.map_err(|(i, kind)| (n_first + i, kind))
}

/// Decodes the samples `seg.from..seg.to` of a block's data into `out`, time and
/// acceleration in one pass.
///
/// The sample index is carried as an `f64` (integers are exact in it far beyond any block)
/// so the hot loop has no integer-to-float conversion for the time.
#[inline]
fn decode_run(data: &[u8], enc: Encoding, seg: &Seg, out: &mut [Sample]) {
    let (t_base_s, dt_s) = (seg.t_base_s, seg.dt_s);
    let mut i = (seg.from as i64 - seg.base) as f64;
    match enc {
        Encoding::Packed => {
            let words = data.get(4 * seg.from..).unwrap_or(&[]);
            for (o, w) in out.iter_mut().zip(words.chunks_exact(4)) {
                let v = u32::from_le_bytes(w.try_into().unwrap_or_default());
                *o = Sample {
                    t_s: t_base_s + i * dt_s,
                    acc_g: packed_g(v),
                };
                i += 1.0;
            }
        }
        Encoding::Unpacked {
            stride,
            accel_at,
            scale_g,
        } => {
            let words = data.get(stride * seg.from + accel_at..).unwrap_or(&[]);
            for (o, w) in out.iter_mut().zip(words.chunks(stride)) {
                if let Some(&[x0, x1, y0, y1, z0, z1]) = w.get(..6) {
                    *o = Sample {
                        t_s: t_base_s + i * dt_s,
                        acc_g: [
                            f64::from(i16::from_le_bytes([x0, x1])) * scale_g,
                            f64::from(i16::from_le_bytes([y0, y1])) * scale_g,
                            f64::from(i16::from_le_bytes([z0, z1])) * scale_g,
                        ],
                    };
                }
                i += 1.0;
            }
        }
    }
}

/// The three values of a packed sample word, in g: 10-bit signed counts times 2^e / 256,
/// `e` the top two bits. The factor 2^(e - 8) is made from its exponent bits rather than by
/// shifting the counts, which the compiler can do for two axes at once; the product is
/// exact either way (a 10-bit integer times a power of two), so the values are the same.
#[inline(always)]
fn packed_g(v: u32) -> [f64; 3] {
    // Biased exponent of 2^(e - 8): 1023 - 8 + e, in the top bits of an f64.
    let scale = f64::from_bits(u64::from(1015 + (v >> 30)) << 52);
    let x = f64::from(((v << 22) as i32) >> 22);
    let y = f64::from(((v << 12) as i32) >> 22);
    let z = f64::from(((v << 2) as i32) >> 22);
    [x * scale, y * scale, z * scale]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_seg() -> Seg {
        Seg {
            from: 0,
            to: 1,
            base: 0,
            t_base_s: 5.0,
            dt_s: 0.01,
        }
    }

    #[test]
    fn rate_and_range_codes() {
        // 0x4a: 100 Hz, ±8 g (the AX3 test file); 0x0a: 100 Hz, ±16 g; 0x8c: 400 Hz, ±4 g.
        assert_eq!(rate_hz(0x4a), 100.0);
        assert_eq!(range_g(0x4a), 8.0);
        assert_eq!(range_g(0x0a), 16.0);
        assert_eq!(rate_hz(0x8c), 400.0);
        assert_eq!(range_g(0x8c), 4.0);
        assert_eq!(rate_hz(0x07), 12.5);
    }

    #[test]
    fn packed_timestamp() {
        // 2019-02-26 10:55:07: year 19, month 2, day 26, 10 h, 55 min, 7 s.
        let v = (19 << 26) | (2 << 22) | (26 << 17) | (10 << 12) | (55 << 6) | 7;
        assert_eq!(packed_time_s(v), Some(1_551_178_507));
        assert_eq!(packed_time_s(0), None);
    }

    #[test]
    fn packed_values_sign_extend_and_shift() {
        // x = -1, y = 511, z = -512, exponent 2: values × 4 / 256 g.
        let v: u32 = (2 << 30) | (0x200 << 20) | (0x1ff << 10) | 0x3ff;
        let mut s = [Sample::default()];
        decode_run(&v.to_le_bytes(), Encoding::Packed, &one_seg(), &mut s);
        assert_eq!(
            s[0].acc_g,
            [-4.0 / 256.0, 511.0 * 4.0 / 256.0, -512.0 * 4.0 / 256.0]
        );
    }

    #[test]
    fn packed_scale_from_exponent_bits_equals_shifting_the_counts() {
        // The format's own rule: sign-extend each 10-bit field, shift left by the exponent,
        // divide by 256.
        let by_shift = |v: u32| -> [f64; 3] {
            let e = v >> 30;
            [22, 12, 2].map(|s| f64::from((((v << s) as i32) >> 22) << e) / 256.0)
        };
        for e in 0..4u32 {
            for a in 0..1024u32 {
                let b = (a * 7 + 3) % 1024;
                let c = 1023 - a;
                let v = (e << 30) | (c << 20) | (b << 10) | a;
                assert_eq!(packed_g(v), by_shift(v), "word {v:#010x}");
            }
        }
    }

    #[test]
    fn unpacked_six_axis_skips_the_gyroscope() {
        let words: [i16; 6] = [100, 200, 300, -2048, 1024, 32767];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut s = [Sample::default()];
        let enc = Encoding::Unpacked {
            stride: 12,
            accel_at: 6,
            scale_g: 1.0 / 2048.0,
        };
        decode_run(&bytes, enc, &one_seg(), &mut s);
        assert_eq!(s[0].acc_g, [-1.0, 0.5, 32767.0 / 2048.0]);
    }

    #[test]
    fn segments_interpolate_between_and_extend_beyond_anchors() {
        // Anchors at samples 10 (t = 100 s) and 110 (t = 101 s): 10 ms per sample.
        let knots: VecDeque<Knot> = [
            Knot {
                idx: 10,
                t_s: 100.0,
            },
            Knot {
                idx: 110,
                t_s: 101.0,
            },
            Knot {
                idx: 230,
                t_s: 102.0,
            },
        ]
        .into();
        let mut segs = Vec::new();
        push_segments(&knots, 0, 119, 0.01, &mut segs);
        // samples 0..110 on the first line, 110..120 on the second
        assert_eq!(segs.len(), 2);
        let t = |s: &Seg, i: i64| s.t_base_s + (i - s.base) as f64 * s.dt_s;
        assert!((t(&segs[0], 0) - 99.9).abs() < 1e-9);
        assert_eq!((segs[0].from, segs[0].to), (0, 110));
        assert!((t(&segs[1], 110) - 101.0).abs() < 1e-9);
        assert!((t(&segs[1], 119) - (101.0 + 9.0 / 120.0)).abs() < 1e-9);
        // past the last anchor, the last line goes on
        segs.clear();
        push_segments(&knots, 240, 259, 0.01, &mut segs);
        assert_eq!(segs.len(), 1);
        assert!((t(&segs[0], 10) - (102.0 + 20.0 / 120.0)).abs() < 1e-9);
    }

    #[test]
    fn url_metadata() {
        let pairs = metadata_pairs(b"_p=right+wrist&_sc=26&x=%41%zz    \xff\xff");
        assert_eq!(
            pairs,
            vec![
                ("_p".into(), "right wrist".into()),
                ("_sc".into(), "26".into()),
                ("x".into(), "A%zz".into())
            ]
        );
    }
}
