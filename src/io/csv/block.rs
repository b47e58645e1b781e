//! Cutting the input into blocks of whole lines, and parsing blocks on worker threads.
//!
//! The caller's thread reads the input (any `Read`, which need not be `Send`) into blocks
//! that end at a line break, and queues them for workers that own nothing but a copy of the
//! column layout. The caller takes blocks back in the order they were read, so it checks
//! samples and counts lines in file order whatever thread parsed them.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::ErrorKind;

use super::header::Layout;
use super::parse::{parse_block, Parsed};

/// The longest line accepted beyond the block size, in bytes: no accelerometer row comes
/// near it, binary data without line breaks soon passes it.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// How much more to read, in bytes, while looking for the end of a line past the block size.
const READ_MORE: usize = 4 * 1024;

/// Why a decoder between the file and the reader (gzip) stopped short: an
/// [`std::io::Error`] carrying this ends the input where it stands, with a warning, instead
/// of failing the read; any other error of the input is an error.
#[derive(Debug)]
pub(crate) struct DecodeFailure {
    /// The format decoded, for messages ("gzip").
    pub(crate) format: &'static str,
    /// Whether the compressed stream ended early (cut short) rather than being corrupt.
    pub(crate) cut: bool,
    /// What the decoder said.
    pub(crate) detail: String,
}

impl std::fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.cut {
            write!(
                f,
                "the compressed stream ends early (file cut short?): {}",
                self.detail
            )
        } else {
            write!(f, "the compressed data are corrupt: {}", self.detail)
        }
    }
}

impl std::error::Error for DecodeFailure {}

/// Where the input stopped because its decoder failed.
#[derive(Debug)]
pub(crate) struct Broken {
    /// The failure, as the decoder gave it.
    pub(crate) failure: DecodeFailure,
    /// Bytes of an incomplete last line, dropped.
    pub(crate) dropped_bytes: usize,
}

/// How the input ends its lines, decided at its first line break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineEnds {
    /// No line break seen yet.
    Unknown,
    /// `\n` or `\r\n`, which the parser reads as they are.
    Lf,
    /// `\r` alone (classic Mac OS): each lone `\r` becomes `\n` as it is read.
    Cr,
}

/// The input, read block by block.
pub(crate) struct Input<R> {
    inner: R,
    /// The start of a line that did not fit in the last block.
    carry: Vec<u8>,
    eof: bool,
    block_size: usize,
    line_ends: LineEnds,
    /// Set when the input ended because its decoder failed.
    broken: Option<Broken>,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R, block_size: usize) -> Self {
        Input {
            inner,
            carry: Vec::new(),
            eof: false,
            block_size: block_size.max(1),
            line_ends: LineEnds::Unknown,
            broken: None,
        }
    }

    /// Why the input ended early, if its decoder failed.
    pub(crate) fn broken(&self) -> Option<&Broken> {
        self.broken.as_ref()
    }

    /// Brings the bytes just read, `buf[start..]`, to `\n` or `\r\n` line ends.
    ///
    /// The style is decided once, at the first line break: a `\n`, or a `\r` followed by
    /// `\n`, means the input is read as it is, and this costs one comparison per read. A
    /// `\r` followed by anything else means CR line ends: from then on each `\r` not
    /// followed by `\n` is rewritten as `\n`. Until the style is known no block has been
    /// handed over (that needs a `\n`), so `buf` holds the whole input read so far, with no
    /// line break before its last byte read earlier.
    #[inline]
    fn normalise(&mut self, buf: &mut [u8], start: usize) {
        match self.line_ends {
            LineEnds::Lf => {}
            LineEnds::Cr => cr_to_lf(buf, start.saturating_sub(1)),
            LineEnds::Unknown => {
                // Bytes before the last one read earlier hold no line break.
                let from = start.saturating_sub(1);
                let tail = buf.get(from..).unwrap_or_default();
                let Some(i) = tail.iter().position(|&c| c == b'\n' || c == b'\r') else {
                    return;
                };
                let i = from + i;
                self.line_ends = match (buf.get(i), buf.get(i + 1)) {
                    (Some(b'\r'), None) => return, // decided by the next byte read
                    (Some(b'\r'), Some(&c)) if c != b'\n' => LineEnds::Cr,
                    _ => LineEnds::Lf,
                };
                if self.line_ends == LineEnds::Cr {
                    cr_to_lf(buf, i);
                }
            }
        }
    }

    /// Whether everything has been read and handed out.
    pub(crate) fn at_end(&self) -> bool {
        self.eof && self.carry.is_empty()
    }

    /// Ends the input after the whole lines in `buf`, dropping an incomplete last line, when
    /// the decoder under it failed; returns whether `buf` holds a line.
    #[cold]
    fn stop_early(&mut self, buf: &mut Vec<u8>, failure: DecodeFailure) -> bool {
        self.eof = true;
        // A line whose `\r` has come is complete, whatever the file's line ends.
        if let Some(last) = buf.last_mut().filter(|c| **c == b'\r') {
            *last = b'\n';
        }
        let whole = buf.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
        self.broken = Some(Broken {
            failure,
            dropped_bytes: buf.len() - whole,
        });
        buf.truncate(whole);
        !buf.is_empty()
    }

    /// Fills `buf` with the next block: whole lines, the last ending in `\n` except at the end
    /// of the input. Returns `false` when the input has nothing left.
    ///
    /// A read that fails with a [`DecodeFailure`] ends the input: the whole lines before it
    /// are the last block, and [`broken`](Self::broken) says what happened.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when reading fails otherwise; [`ErrorKind::NotText`] for a line
    /// longer than the block size plus [`MAX_LINE_BYTES`].
    pub(crate) fn next_block(&mut self, buf: &mut Vec<u8>) -> Result<bool, ErrorKind> {
        buf.clear();
        buf.append(&mut self.carry);
        let mut searched = 0;
        loop {
            if self.eof {
                return Ok(!buf.is_empty());
            }
            let want = if buf.len() < self.block_size {
                self.block_size - buf.len()
            } else {
                READ_MORE
            };
            let start = buf.len();
            buf.resize(start + want, 0);
            let n = loop {
                match self.inner.read(buf.get_mut(start..).unwrap_or_default()) {
                    Ok(n) => break n.min(want),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        buf.truncate(start);
                        return match decode_failure(e) {
                            Ok(failure) => Ok(self.stop_early(buf, failure)),
                            Err(e) => Err(e.into()),
                        };
                    }
                }
            };
            buf.truncate(start + n);
            if n == 0 {
                self.eof = true;
                continue;
            }
            self.normalise(buf, start);
            // A full block, or a short read (a pipe with nothing more for now): hand over
            // the whole lines there are.
            if buf.len() >= self.block_size || n < want {
                let tail = buf.get(searched..).unwrap_or_default();
                if let Some(i) = tail.iter().rposition(|&c| c == b'\n') {
                    let cut = searched + i + 1;
                    self.carry
                        .extend_from_slice(buf.get(cut..).unwrap_or_default());
                    buf.truncate(cut);
                    return Ok(true);
                }
                searched = buf.len();
                if buf.len() > self.block_size.saturating_add(MAX_LINE_BYTES) {
                    return Err(ErrorKind::NotText {
                        what: format!("a line longer than {MAX_LINE_BYTES} bytes"),
                    });
                }
            }
        }
    }
}

/// The [`DecodeFailure`] an error carries, or the error itself for any other.
fn decode_failure(e: std::io::Error) -> Result<DecodeFailure, std::io::Error> {
    if !e.get_ref().is_some_and(|inner| inner.is::<DecodeFailure>()) {
        return Err(e);
    }
    let kind = e.kind();
    match e
        .into_inner()
        .map(|inner| inner.downcast::<DecodeFailure>())
    {
        Some(Ok(failure)) => Ok(*failure),
        Some(Err(inner)) => Err(std::io::Error::new(kind, inner)),
        None => Err(kind.into()),
    }
}

/// Rewrites each `\r` in `buf[from..]` that is followed by a byte other than `\n` as `\n`.
/// A `\r` ending `buf` is left for the next call, which starts at it.
fn cr_to_lf(buf: &mut [u8], from: usize) {
    let mut i = from;
    while let Some(rest) = buf.get(i..) {
        let Some(k) = rest.iter().position(|&c| c == b'\r') else {
            return;
        };
        i += k;
        match buf.get(i + 1) {
            None => return,
            Some(b'\n') => {}
            Some(_) => {
                if let Some(c) = buf.get_mut(i) {
                    *c = b'\n';
                }
            }
        }
        i += 1;
    }
}

/// A block to parse and the buffer to parse it into; sent to a worker and back.
pub(crate) struct Job {
    pub(crate) raw: Vec<u8>,
    pub(crate) parsed: Parsed,
}

/// What the caller and the workers share, behind one lock.
#[derive(Default)]
struct State {
    /// Blocks not started yet, oldest first, with their sequence numbers.
    queue: VecDeque<(u64, Job)>,
    /// Blocks being parsed by a worker.
    running: Vec<u64>,
    /// Blocks parsed, not yet taken.
    done: Vec<(u64, Job)>,
    /// Set when the reader is dropped: workers leave.
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    /// The lock, also after a thread panicked while holding it (the state stays consistent:
    /// every change is a single push or removal).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes a block off the running list if its worker unwinds, so the caller does not wait
/// for it forever.
struct Running<'a> {
    shared: &'a Shared,
    seq: u64,
    finished: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.lock().running.retain(|s| *s != self.seq);
            self.shared.changed.notify_all();
        }
    }
}

fn work(shared: &Shared, layout: &Layout) {
    let mut state = shared.lock();
    loop {
        if state.closed {
            return;
        }
        let Some((seq, mut job)) = state.queue.pop_front() else {
            state = shared.wait(state);
            continue;
        };
        state.running.push(seq);
        drop(state);
        let mut guard = Running {
            shared,
            seq,
            finished: false,
        };
        parse_block(&job.raw, layout, &mut job.parsed);
        state = shared.lock();
        state.running.retain(|s| *s != seq);
        state.done.push((seq, job));
        guard.finished = true;
        shared.changed.notify_all();
    }
}

/// Worker threads that parse blocks ahead of the caller.
///
/// Blocks wait in one queue. When the caller needs the next block and no worker has started
/// it, the caller parses it itself, and while it waits for one a worker has started, it
/// parses later ones; so with one worker on two cores neither thread idles for long, and
/// on a busy machine the caller loses little to a worker that is not running.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
    next_seq: u64,
}

impl Pool {
    /// Starts `n` workers for blocks of this layout; `None` if not one thread could start.
    pub(crate) fn new(n: usize, layout: &Arc<Layout>) -> Option<Pool> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let mut handles = Vec::with_capacity(n);
        for k in 0..n {
            let shared = Arc::clone(&shared);
            let layout = Arc::clone(layout);
            let spawned = std::thread::Builder::new()
                .name(format!("csv-parse-{k}"))
                .spawn(move || work(&shared, &layout));
            match spawned {
                Ok(h) => handles.push(h),
                Err(_) => break,
            }
        }
        (!handles.is_empty()).then(|| Pool {
            shared,
            handles,
            next_seq: 0,
        })
    }

    /// Workers running.
    pub(crate) fn n_workers(&self) -> usize {
        self.handles.len()
    }

    /// Queues a block; returns its sequence number.
    pub(crate) fn send(&mut self, job: Job) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.shared.lock().queue.push_back((seq, job));
        self.shared.changed.notify_one();
        seq
    }

    /// The parsed block `seq`: taken when done, parsed here if no worker has started it,
    /// waited for otherwise, parsing later blocks meanwhile. `None` if it was lost (its
    /// worker panicked).
    pub(crate) fn take(&self, seq: u64, layout: &Layout) -> Option<Job> {
        let mut state = self.shared.lock();
        loop {
            if let Some(i) = state.done.iter().position(|(s, _)| *s == seq) {
                return Some(state.done.swap_remove(i).1);
            }
            if let Some(i) = state.queue.iter().position(|(s, _)| *s == seq) {
                let (_, mut job) = state.queue.remove(i)?;
                drop(state);
                parse_block(&job.raw, layout, &mut job.parsed);
                return Some(job);
            }
            if !state.running.contains(&seq) {
                return None;
            }
            // A worker has it: rather than wait, parse a later block that nobody has started.
            if let Some((later, mut job)) = state.queue.pop_front() {
                drop(state);
                parse_block(&job.raw, layout, &mut job.parsed);
                state = self.shared.lock();
                state.done.push((later, job));
                continue;
            }
            state = self.shared.wait(state);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.closed = true;
            state.queue.clear();
        }
        self.shared.changed.notify_all();
        for h in self.handles.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &[u8], size: usize) -> Vec<Vec<u8>> {
        let mut input = Input::new(text, size);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while input.next_block(&mut buf).unwrap() {
            out.push(buf.clone());
        }
        out
    }

    #[test]
    fn blocks_end_at_line_breaks_and_cover_the_input() {
        let text = b"t,x\n1,2\n333,4444\n5,6\n7";
        for size in 1..=text.len() + 2 {
            let b = blocks(text, size);
            assert_eq!(b.concat(), text, "size {size}");
            for (i, block) in b.iter().enumerate() {
                assert!(!block.is_empty());
                if i + 1 < b.len() {
                    assert_eq!(block.last(), Some(&b'\n'), "size {size}");
                }
            }
        }
    }

    /// Hands out at most `step` bytes a read, like a pipe fed a little at a time.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_short_read_hands_over_the_lines_so_far() {
        let text = b"t,x\n1,2\n333,4444\n5,6\n7";
        let mut input = Input::new(
            Trickle {
                data: text,
                step: 10,
            },
            1 << 20,
        );
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while input.next_block(&mut buf).unwrap() {
            got.push(buf.clone());
        }
        assert_eq!(
            got,
            [&b"t,x\n1,2\n"[..], b"333,4444\n", b"5,6\n", b"7"].map(<[u8]>::to_vec)
        );
    }

    #[test]
    fn a_line_without_end_is_refused_after_the_limit() {
        let text = vec![b'a'; 100 + MAX_LINE_BYTES + 10 * READ_MORE];
        let mut input = Input::new(&text[..], 100);
        let mut buf = Vec::new();
        assert!(matches!(
            input.next_block(&mut buf),
            Err(ErrorKind::NotText { .. })
        ));
        assert!(buf.len() <= 100 + MAX_LINE_BYTES + READ_MORE + 1);
    }
}
