//! Cutting the input into blocks of whole lines, and parsing blocks on worker threads.
//!
//! The caller's thread reads the input (any `Read`, which need not be `Send`) into blocks
//! that end at a line break, and hands them to workers that own nothing but a copy of the
//! column layout. Results come back in the order blocks were sent, so the reader checks
//! samples and counts lines in file order whatever thread parsed them.

use std::io::Read;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::ErrorKind;

use super::header::Layout;
use super::parse::{parse_block, Parsed};

/// The longest line accepted beyond the block size, in bytes: no accelerometer row comes
/// near it, binary data without line breaks soon passes it.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// How much more to read, in bytes, while looking for the end of a line past the block size.
const READ_MORE: usize = 4 * 1024;

/// The input, read block by block.
pub(crate) struct Input<R> {
    inner: R,
    /// The start of a line that did not fit in the last block.
    carry: Vec<u8>,
    eof: bool,
    block_size: usize,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R, block_size: usize) -> Self {
        Input {
            inner,
            carry: Vec::new(),
            eof: false,
            block_size: block_size.max(1),
        }
    }

    /// Whether everything has been read and handed out.
    pub(crate) fn at_end(&self) -> bool {
        self.eof && self.carry.is_empty()
    }

    /// Fills `buf` with the next block: whole lines, the last ending in `\n` except at the end
    /// of the input. Returns `false` when the input has nothing left.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when reading fails; [`ErrorKind::NotText`] for a line longer than
    /// the block size plus [`MAX_LINE_BYTES`].
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
                        return Err(e.into());
                    }
                }
            };
            buf.truncate(start + n);
            if n == 0 {
                self.eof = true;
                continue;
            }
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

/// A block to parse and the buffer to parse it into; sent to a worker and back.
pub(crate) struct Job {
    pub(crate) raw: Vec<u8>,
    pub(crate) parsed: Parsed,
}

struct Worker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Job>,
    handle: Option<JoinHandle<()>>,
}

/// Threads that parse blocks, each with its own queue; jobs go round-robin.
pub(crate) struct Pool {
    workers: Vec<Worker>,
    next: usize,
}

impl Pool {
    /// Starts `n` workers for blocks of this layout; `None` if not one thread could start.
    pub(crate) fn new(n: usize, layout: &Arc<Layout>) -> Option<Pool> {
        let mut workers = Vec::with_capacity(n);
        for k in 0..n {
            let (job_tx, job_rx) = channel::<Job>();
            let (done_tx, done_rx) = channel::<Job>();
            let layout = Arc::clone(layout);
            let spawned = std::thread::Builder::new()
                .name(format!("csv-parse-{k}"))
                .spawn(move || {
                    for mut job in job_rx {
                        parse_block(&job.raw, &layout, &mut job.parsed);
                        if done_tx.send(job).is_err() {
                            break;
                        }
                    }
                });
            match spawned {
                Ok(handle) => workers.push(Worker {
                    jobs: Some(job_tx),
                    done: done_rx,
                    handle: Some(handle),
                }),
                Err(_) => break,
            }
        }
        (!workers.is_empty()).then_some(Pool { workers, next: 0 })
    }

    /// Sends a job to the next worker; returns which, or the job back if that worker is gone.
    pub(crate) fn send(&mut self, job: Job) -> Result<usize, Box<Job>> {
        let k = self.next;
        self.next = (self.next + 1) % self.workers.len().max(1);
        match self.workers.get(k).and_then(|w| w.jobs.as_ref()) {
            Some(tx) => tx.send(job).map(|()| k).map_err(|e| Box::new(e.0)),
            None => Err(Box::new(job)),
        }
    }

    /// Waits for worker `k`'s oldest job; `None` if the worker is gone.
    pub(crate) fn recv(&self, k: usize) -> Option<Job> {
        self.workers.get(k)?.done.recv().ok()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        for w in &mut self.workers {
            w.jobs = None;
        }
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                // A worker that panicked has nothing left to clean up.
                let _ = h.join();
            }
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
