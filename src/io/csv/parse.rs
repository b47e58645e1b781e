//! Data rows to samples, one block of whole lines at a time.
//!
//! Each row is first tried on the fast path: fields exactly as a logger writes them (plain
//! decimals or ISO date-times, no spaces or quotes, `\n` or `\r\n` line ends), parsed
//! straight from the bytes. A row the fast path declines goes to the slow path, which splits
//! it properly (quotes, spaces), takes any float syntax and, if the row is bad, says why.
//! The fast path accepts a subset of what the slow path accepts, with the same values, so
//! the result does not depend on which path a row took.
//!
//! Values stay in the input's unit here; range checks and conversion to g happen in order,
//! in the reader, where the unit is known.

use crate::{ErrorKind, Sample};

use super::header::{first_control_byte, split_fields, Layout, Role};
use super::number::{fast_decimal_at, parse_field, trim_field};
use super::time::parse_iso;

/// The most bytes of a bad field quoted in a message.
const MAX_QUOTE: usize = 40;

/// Why parsing a block stopped before its end.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A bad row, at a line counted from 0 within the block.
    Error {
        /// Line within the block, from 0.
        line: u64,
        /// What is wrong with it.
        kind: ErrorKind,
    },
    /// The file's last line, without a line break, is cut short: dropped, not an error.
    CutTail {
        /// Line within the block, from 0.
        line: u64,
        /// What was dropped, for the warning.
        message: String,
    },
}

/// The samples of one block and what is needed to name their lines.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// Samples in the input's unit, in file order.
    pub(crate) samples: Vec<Sample>,
    /// Blank lines: (index of the sample they precede, how many), in order.
    pub(crate) blanks: Vec<(usize, u64)>,
    /// Lines the block held up to where parsing stopped.
    pub(crate) n_lines: u64,
    /// Why parsing stopped early, if it did.
    pub(crate) stop: Option<Stop>,
    /// Whether the block's first sample had an ISO-8601 time, and whether that carried a
    /// UTC offset; `None` when the block has no sample.
    pub(crate) first_time: Option<FirstTime>,
}

/// How the first time in a block was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FirstTime {
    /// Seconds.
    Seconds,
    /// An ISO-8601 date-time; `true` when it carried a UTC offset.
    Iso(bool),
}

impl Parsed {
    /// Empties it, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.samples.clear();
        self.blanks.clear();
        self.n_lines = 0;
        self.stop = None;
        self.first_time = None;
    }

    /// Line of sample `idx`, from 0 within the block (rows plus the blank lines before it).
    pub(crate) fn line_of(&self, idx: usize) -> u64 {
        let blanks: u64 = self
            .blanks
            .iter()
            .take_while(|(i, _)| *i <= idx)
            .map(|(_, n)| n)
            .sum();
        idx as u64 + blanks
    }

    fn blank_line(&mut self) {
        let idx = self.samples.len();
        match self.blanks.last_mut() {
            Some((i, n)) if *i == idx => *n += 1,
            _ => self.blanks.push((idx, 1)),
        }
        self.n_lines += 1;
    }
}

/// A time field on the fast path at `b[i..]`: a date-time when its 5th byte is `-`, else a
/// decimal. Returns the time and the index just past it. A comma starts a fraction of a
/// second only when the delimiter is not a comma.
#[inline(always)]
fn fast_time(b: &[u8], i: usize, delim: u8) -> Option<(f64, usize)> {
    if b.get(i + 4) == Some(&b'-') {
        parse_iso(b.get(i..)?, delim != b',').map(|(t, n, _)| (t, i + n))
    } else {
        fast_decimal_at(b, i)
    }
}

/// Where the line ends after the last field at `i`: the index after the line break, or the
/// end of the block; `None` if anything else follows.
#[inline(always)]
fn line_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i) {
        None => Some(i),
        Some(b'\n') => Some(i + 1),
        Some(b'\r') => match b.get(i + 1) {
            Some(b'\n') => Some(i + 2),
            None => Some(i + 1),
            Some(_) => None,
        },
        Some(_) => None,
    }
}

/// The fast path for rows of exactly time, x, y, z: the sample and the bytes it took.
#[inline(always)]
fn fast_row_ordered(b: &[u8], delim: u8) -> Option<(Sample, usize)> {
    let (t, mut i) = fast_time(b, 0, delim)?;
    let mut acc = [0.0; 3];
    for a in &mut acc {
        if b.get(i) != Some(&delim) {
            return None;
        }
        let (v, end) = fast_decimal_at(b, i + 1)?;
        *a = v;
        i = end;
    }
    Some((Sample::new(t, acc), line_end(b, i)?))
}

/// The fast path for any column layout.
#[inline]
fn fast_row_any(b: &[u8], layout: &Layout) -> Option<(Sample, usize)> {
    let mut s = Sample::default();
    let mut i = 0;
    let last = layout.roles.len().checked_sub(1)?;
    for (k, role) in layout.roles.iter().enumerate() {
        i = match role {
            Role::Skip => {
                let rest = b.get(i..)?;
                i + rest
                    .iter()
                    .position(|&c| c == layout.delim || c == b'\n' || c == b'"')
                    .unwrap_or(rest.len())
            }
            Role::Time => {
                let (v, end) = fast_time(b, i, layout.delim)?;
                s.t_s = v;
                end
            }
            Role::X | Role::Y | Role::Z => {
                let (v, end) = fast_decimal_at(b, i)?;
                let axis = match role {
                    Role::X => &mut s.acc_g[0],
                    Role::Y => &mut s.acc_g[1],
                    _ => &mut s.acc_g[2],
                };
                *axis = v;
                end
            }
        };
        if k == last {
            return Some((s, line_end(b, i)?));
        }
        if b.get(i) != Some(&layout.delim) {
            return None;
        }
        i += 1;
    }
    None
}

/// A field quoted for a message: trimmed, at most [`MAX_QUOTE`] bytes, lossy UTF-8.
fn quote(f: &[u8]) -> String {
    let f = trim_field(f);
    let cut = f.get(..MAX_QUOTE).unwrap_or(f);
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if cut.len() < f.len() {
        s.push('…');
    }
    s
}

/// Reads a time field of any accepted form.
fn slow_time(f: &[u8]) -> Option<f64> {
    let t = trim_field(f);
    if t.get(4) == Some(&b'-') {
        parse_iso(t, true).and_then(|(v, n, _)| (n == t.len()).then_some(v))
    } else {
        parse_field(t)
    }
}

/// The slow path: one line (without its `\n`) to a sample, `None` for a blank line.
///
/// # Errors
/// [`ErrorKind::NotText`] for control bytes, [`ErrorKind::FieldCount`],
/// [`ErrorKind::BadTime`], [`ErrorKind::NotANumber`] (with the unit left as `g`; the reader
/// puts in the input's unit).
#[cold]
#[inline(never)]
pub(crate) fn slow_row(line: &[u8], layout: &Layout) -> Result<Option<Sample>, ErrorKind> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.trim_ascii().is_empty() {
        return Ok(None);
    }
    let result = slow_fields(line, layout);
    if result.is_err() {
        if let Some((i, c)) = first_control_byte(line) {
            return Err(ErrorKind::NotText {
                what: format!("byte {c:#04x} at column {} of the line", i + 1),
            });
        }
    }
    result.map(Some)
}

fn slow_fields(line: &[u8], layout: &Layout) -> Result<Sample, ErrorKind> {
    let n = split_fields(line, layout.delim).count();
    if n != layout.n_fields {
        return Err(ErrorKind::FieldCount {
            expected: layout.n_fields,
            found: n,
        });
    }
    let mut s = Sample::default();
    for (f, role) in split_fields(line, layout.delim).zip(&layout.roles) {
        let (k, slot) = match role {
            Role::Skip => continue,
            Role::Time => {
                s.t_s = slow_time(f).ok_or_else(|| ErrorKind::BadTime {
                    column: layout.names[0].clone(),
                    found: quote(f),
                })?;
                continue;
            }
            Role::X => (1, &mut s.acc_g[0]),
            Role::Y => (2, &mut s.acc_g[1]),
            Role::Z => (3, &mut s.acc_g[2]),
        };
        *slot = parse_field(f).ok_or_else(|| ErrorKind::NotANumber {
            column: layout.names.get(k).cloned().unwrap_or_default(),
            unit: "g",
            found: quote(f),
        })?;
    }
    Ok(s)
}

/// Whether a last line without a line break is a row cut short (a logger that lost power):
/// fewer fields than the header, or an empty last field, once trailing NUL bytes are taken
/// off. Returns what to say about it.
fn cut_short(line: &[u8], layout: &Layout) -> Option<String> {
    let mut l = line;
    while let [rest @ .., 0 | b'\r'] = l {
        l = rest;
    }
    if l.is_empty() {
        return Some("the last line holds only NUL bytes: ignored".into());
    }
    let fields: Vec<&[u8]> = split_fields(l, layout.delim).collect();
    let mut present = fields.len();
    if fields.last().is_some_and(|f| f.trim_ascii().is_empty()) {
        present -= 1;
    }
    (present < layout.n_fields).then(|| {
        format!(
            "last row cut short ({present} of {} fields, no line break): dropped",
            layout.n_fields
        )
    })
}

/// Parses a block of whole lines (ending in `\n`, except the file's last) into `out`.
///
/// Stops at the first bad row, keeping the samples before it.
pub(crate) fn parse_block(block: &[u8], layout: &Layout, out: &mut Parsed) {
    out.clear();
    // About one sample per 32 bytes in typical files; reserving avoids most regrowth.
    out.samples.reserve(block.len() / 32);
    let mut pos = 0;
    let ordered = layout.ordered;
    while let Some(rest) = block.get(pos..) {
        if rest.is_empty() {
            break;
        }
        let fast = if ordered {
            fast_row_ordered(rest, layout.delim)
        } else {
            fast_row_any(rest, layout)
        };
        if let Some((s, n)) = fast {
            if out.first_time.is_none() {
                out.first_time = Some(first_time(rest, layout));
            }
            out.samples.push(s);
            out.n_lines += 1;
            pos += n;
            continue;
        }
        if rest.first() == Some(&b'\n') {
            out.blank_line();
            pos += 1;
            continue;
        }
        let (line, terminated) = match rest.iter().position(|&c| c == b'\n') {
            Some(i) => (rest.get(..i).unwrap_or(rest), true),
            None => (rest, false),
        };
        pos += line.len() + usize::from(terminated);
        match slow_row(line, layout) {
            Ok(Some(s)) => {
                if out.first_time.is_none() {
                    out.first_time = Some(first_time(line, layout));
                }
                out.samples.push(s);
                out.n_lines += 1;
            }
            Ok(None) => out.blank_line(),
            Err(kind) => {
                let line_idx = out.n_lines;
                out.n_lines += 1;
                out.stop = Some(match (terminated, cut_short(line, layout)) {
                    (false, Some(message)) => Stop::CutTail {
                        line: line_idx,
                        message,
                    },
                    _ => Stop::Error {
                        line: line_idx,
                        kind,
                    },
                });
                return;
            }
        }
    }
}

/// How the time in a row that parsed was written (looked at once per block).
#[cold]
#[inline(never)]
fn first_time(line: &[u8], layout: &Layout) -> FirstTime {
    let line = match line.iter().position(|&c| c == b'\n') {
        Some(i) => line.get(..i).unwrap_or(line),
        None => line,
    };
    let k = layout
        .roles
        .iter()
        .position(|r| *r == Role::Time)
        .unwrap_or(0);
    let field = split_fields(line, layout.delim)
        .nth(k)
        .map(trim_field)
        .unwrap_or_default();
    if field.get(4) == Some(&b'-') {
        parse_iso(field, true).map_or(FirstTime::Seconds, |(_, _, offset)| FirstTime::Iso(offset))
    } else {
        FirstTime::Seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::csv::header::read_first_line;

    fn parse(text: &str) -> Parsed {
        let (head, body) = text.split_once('\n').unwrap();
        let layout = read_first_line(head.as_bytes()).unwrap();
        let mut p = Parsed::default();
        parse_block(body.as_bytes(), &layout, &mut p);
        p
    }

    #[test]
    fn plain_rows_take_the_fast_path_and_keep_their_values() {
        let p = parse("t,x,y,z\n0.00,0.1,-0.2,0.98\n0.01,0.11,-0.21,0.97\n");
        assert_eq!(p.samples.len(), 2);
        assert_eq!(p.samples[1], Sample::new(0.01, [0.11, -0.21, 0.97]));
        assert_eq!(p.n_lines, 2);
        assert!(p.stop.is_none());
    }

    #[test]
    fn crlf_spaces_quotes_and_exponents_take_the_slow_path_with_the_same_values() {
        let p = parse("t,x,y,z\n0.5,1e-1,\" -0.2\",0.98\r\n1.0 , 0.1,-2E-1,9.8e-1\r\n");
        assert_eq!(p.samples[0], Sample::new(0.5, [0.1, -0.2, 0.98]));
        assert_eq!(p.samples[1], Sample::new(1.0, [0.1, -0.2, 0.98]));
        assert!(p.stop.is_none());
    }

    #[test]
    fn blank_lines_are_counted_but_hold_no_sample() {
        let p = parse("t,x,y,z\n\n0,0,0,1\n  \n\r\n1,0,0,1\n");
        assert_eq!(p.samples.len(), 2);
        assert_eq!(p.n_lines, 5);
        assert_eq!(p.line_of(0), 1);
        assert_eq!(p.line_of(1), 4);
    }

    #[test]
    fn other_layouts_read_by_role() {
        let p = parse("id,z,time,y,x\na,3,0.5,2,1\n\"b,c\",6,1.5,5,4\n");
        assert_eq!(p.samples[0], Sample::new(0.5, [1.0, 2.0, 3.0]));
        assert_eq!(p.samples[1], Sample::new(1.5, [4.0, 5.0, 6.0]));
    }

    #[test]
    fn a_bad_row_stops_the_block_at_its_line() {
        let p = parse("t,x,y,z\n0,0,0,1\n1,0,--,1\n2,0,0,1\n");
        assert_eq!(p.samples.len(), 1);
        match p.stop {
            Some(Stop::Error {
                line: 1,
                kind: ErrorKind::NotANumber { column, found, .. },
            }) => {
                assert_eq!(column, "y");
                assert_eq!(found, "--");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn short_rows_are_errors_unless_last_and_unterminated() {
        let p = parse("t,x,y,z\n0,0,0,1\n1,0,0\n2,0,0,1\n");
        assert!(matches!(
            p.stop,
            Some(Stop::Error {
                line: 1,
                kind: ErrorKind::FieldCount {
                    expected: 4,
                    found: 3
                }
            })
        ));
        let p = parse("t,x,y,z\n0,0,0,1\n1,0,0");
        assert!(
            matches!(p.stop, Some(Stop::CutTail { line: 1, .. })),
            "{:?}",
            p.stop
        );
        let p = parse("t,x,y,z\n0,0,0,1\n1,0,0,");
        assert!(matches!(p.stop, Some(Stop::CutTail { line: 1, .. })));
        let p = parse("t,x,y,z\n0,0,0,1\n1,0,\0\0\0");
        assert!(matches!(p.stop, Some(Stop::CutTail { line: 1, .. })));
        let p = parse("t,x,y,z\n0,0,0,1\n1,0,0,1");
        assert_eq!(p.samples.len(), 2);
        assert!(p.stop.is_none());
        // a full last row with a bad field is an error, not a cut
        let p = parse("t,x,y,z\n0,0,0,1\n1,0,0,x");
        assert!(matches!(p.stop, Some(Stop::Error { line: 1, .. })));
    }

    #[test]
    fn control_bytes_in_a_bad_row_mean_binary_data() {
        let p = parse("t,x,y,z\n0,0,0,1\n\x00\x17\x7fjunk\n");
        assert!(matches!(
            p.stop,
            Some(Stop::Error {
                line: 1,
                kind: ErrorKind::NotText { .. }
            })
        ));
    }

    #[test]
    fn iso_times_on_both_paths() {
        let p = parse(
            "time,x,y,z\n2024-03-01 23:00:00.000,0,0,1\n\"2024-03-01T23:00:00.010Z\",0,0,1\n",
        );
        assert_eq!(p.samples[0].t_s, 1_709_334_000.0);
        assert_eq!(p.samples[1].t_s, 1_709_334_000.01);
        let p = parse("time,x,y,z\n2024-03-01 23:00:00.000,0,0,1\n2024-03-01 25:00:00.010,0,0,1\n");
        assert!(matches!(
            p.stop,
            Some(Stop::Error {
                line: 1,
                kind: ErrorKind::BadTime { .. }
            })
        ));
    }
}
