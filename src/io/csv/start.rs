//! Opening a reader: the header, then enough rows to estimate the rate and decide the unit.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;

use crate::io::{
    median, AccelUnit, Format, HeadInterval, RecordingInfo, SampleCheck, TimeBase, UnitsFrom,
    Warning, MAX_ABS_G,
};
use crate::{Error, ErrorKind, Position, Sample};

use super::actilife;
use super::block::Input;
use super::header::{read_first_line, read_timeless_first_line, Layout, TimeUnit};
use super::parse::{parse_block, FirstTime, Parsed, Stop};
use super::{at, broken_error, value_error, CsvReader, CsvReaderBuilder, Slot};

/// Timestamps looked at to find the median interval: the crate's window plus one.
const HEAD_SAMPLES: usize = 4097;

/// The first seconds of a recording whose median |a| decides the unit, in seconds.
const UNITS_WINDOW_S: f64 = 10.0;

/// Median |a| below this is g, above it m/s²: the geometric mean of 1 and 9.80665.
const UNITS_BOUNDARY: f64 = 3.131_557;

/// Times from this on (2000-01-01 00:00:00 UTC) are taken as Unix seconds, in seconds: a
/// recording's clock before it is relative (seconds since its start).
pub const UNIX_FROM_S: f64 = 946_684_800.0;

/// 2100-01-01 in Unix seconds: the end of the range in which a huge number is taken for a
/// Unix time counted in a smaller unit.
const UNIX_TO_S: f64 = 4_102_444_800.0;

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the header and the first rows, decides units and rate, and builds the reader.
pub(super) fn open<R: Read>(b: &CsvReaderBuilder, inner: R) -> Result<CsvReader<R>, Error> {
    let file = b.file_name.clone();
    let file_ref = file.as_deref();
    let plain = |kind: ErrorKind, line: Option<u64>| {
        let e = match line {
            Some(l) => Error::at(kind, Position::line(l)),
            None => Error::new(kind),
        };
        e.in_file_if(file_ref)
    };
    let mut input = Input::new(inner, b.block_size_bytes);
    let mut raw = Vec::new();
    let mut first_block = true;
    let mut line_no = 1u64;
    // Find the first line that is not blank.
    let mut off;
    loop {
        let more = input.next_block(&mut raw).map_err(|k| plain(k, None))?;
        if !more {
            if let Some(broken) = input.broken() {
                return Err(broken_error(file_ref, line_no, broken, 0));
            }
            return Err(plain(ErrorKind::Empty, None));
        }
        off = 0;
        if first_block && raw.starts_with(BOM) {
            off = BOM.len();
        }
        first_block = false;
        while let Some(rest) = raw.get(off..) {
            let end = rest.iter().position(|&c| c == b'\n');
            let line = end.map_or(rest, |e| rest.get(..e).unwrap_or(rest));
            if rest.is_empty() || !line.trim_ascii().is_empty() {
                break;
            }
            match end {
                Some(e) => {
                    off += e + 1;
                    line_no += 1;
                }
                None => off = raw.len(),
            }
        }
        if off < raw.len() {
            break;
        }
    }
    // An ActiLife export: its preamble gives the start and the rate, and the rows no times.
    let mut preamble = None;
    if raw
        .get(off..)
        .is_some_and(|r| r.starts_with(actilife::BANNER))
    {
        let mut more = Vec::new();
        let p = loop {
            let text = raw.get(off..).unwrap_or_default();
            if let Some(p) = actilife::parse(text).map_err(|k| plain(k, Some(line_no)))? {
                break p;
            }
            if !input.next_block(&mut more).map_err(|k| plain(k, None))? {
                return Err(plain(
                    ErrorKind::BadHeader {
                        reason: "ActiLife preamble: the file ends before its closing line".into(),
                    },
                    Some(line_no),
                ));
            }
            raw.extend_from_slice(&more);
        };
        off += p.n_bytes;
        line_no += p.n_lines;
        preamble = Some(p);
        // The names or the first row may start the next block.
        if off >= raw.len() {
            if !input.next_block(&mut raw).map_err(|k| plain(k, None))? {
                return Err(plain(ErrorKind::NoSamples, Some(line_no - 1)));
            }
            off = 0;
        }
    }
    let rest = raw.get(off..).unwrap_or_default();
    let header_end = rest.iter().position(|&c| c == b'\n');
    let first_line = header_end.map_or(rest, |e| rest.get(..e).unwrap_or(rest));
    let mut layout = match preamble {
        Some(_) => read_timeless_first_line(first_line),
        None => read_first_line(first_line),
    }
    .map_err(|k| plain(k, Some(line_no)))?;
    if preamble.is_some() {
        // ActiLife writes g.
        layout.header_unit = layout.header_unit.or(Some(AccelUnit::G));
    }
    let header_line = line_no;
    let data_line = if layout.has_header {
        off += header_end.map_or(rest.len(), |e| e + 1);
        line_no + 1
    } else {
        line_no
    };

    // Parse blocks on this thread until the head holds enough samples: enough timestamps
    // for the rate, and enough seconds for the unit, unless the caller or header gives them.
    let head_len = match b.rate_hz {
        None => HEAD_SAMPLES,
        Some(_) if b.units.is_some() || layout.header_unit.is_some() => 1,
        Some(rate) => units_head_len(rate),
    };
    let mut queue: VecDeque<Parsed> = VecDeque::new();
    let mut first = Parsed::default();
    parse_block(raw.get(off..).unwrap_or_default(), &layout, &mut first);
    let mut n_head = first.samples.len();
    let mut stopped = first.stop.is_some();
    queue.push_back(first);
    let mut input_done = false;
    while n_head < head_len && !stopped && !input_done {
        match input.next_block(&mut raw) {
            Ok(true) => {
                let mut p = Parsed::default();
                parse_block(&raw, &layout, &mut p);
                n_head += p.samples.len();
                stopped = p.stop.is_some();
                queue.push_back(p);
            }
            Ok(false) => input_done = true,
            Err(kind) => {
                // Reported in order, after the samples before it.
                input_done = true;
                queue.push_back(Parsed {
                    stop: Some(Stop::Error { line: 0, kind }),
                    ..Parsed::default()
                });
            }
        }
    }

    let mut head: Vec<Sample> = queue
        .iter()
        .flat_map(|p| p.samples.iter())
        .take(head_len)
        .copied()
        .collect();
    let mut info = RecordingInfo {
        format: Format::Csv,
        ..RecordingInfo::default()
    };
    let first_time = queue.iter().find_map(|p| p.first_time);
    let clock = preamble.as_ref().map(|p| Clock::new(p.start_s, p.rate_hz));
    let t_scale = match &clock {
        Some(c) => {
            for (i, s) in (0u64..).zip(head.iter_mut()) {
                s.t_s = c.at(i);
            }
            1.0
        }
        None => {
            let t_scale = decide_time_unit(&layout, first_time, &head, &mut info).to_s();
            for s in &mut head {
                s.t_s *= t_scale;
            }
            t_scale
        }
    };
    info.warnings.extend(layout.notes.iter().map(|n| {
        let mut p = Position::line(header_line);
        p.file = file.clone();
        Warning::at(p, n.clone())
    }));

    // Units.
    let (units, units_from) = decide_units(b.units, layout.header_unit, &head, &mut info);
    info.units = units;
    info.units_from = units_from;
    let to_g = units.to_g();
    let limit = MAX_ABS_G / to_g;

    // The first bad row among the head's blocks, for errors found before the reader exists.
    let first_error = |queue: &mut VecDeque<Parsed>| -> Option<Error> {
        let mut base = data_line;
        for p in queue.iter_mut() {
            if let Some(Stop::Error { line, kind }) = p.stop.take() {
                return Some(at(kind, Some(base + line), file_ref, &layout, units));
            }
            base += p.n_lines;
        }
        None
    };
    let head_line = |queue: &VecDeque<Parsed>, idx: usize| -> u64 {
        let mut base = data_line;
        let mut idx = idx;
        for p in queue {
            if idx < p.samples.len() {
                return base + p.line_of(idx);
            }
            idx -= p.samples.len();
            base += p.n_lines;
        }
        base
    };

    let interval = match b.rate_hz.or(clock.map(|c| c.rate_hz)) {
        Some(rate) if !head.is_empty() => Some(HeadInterval::exact(1.0 / rate)),
        _ => HeadInterval::of(&head.iter().map(|s| s.t_s).collect::<Vec<_>>()),
    };
    let Some(interval) = interval else {
        // A decoder that failed before two rows explains their absence better than the
        // rows do: the error is that failure, at the line where rows stop.
        let broken = input
            .broken()
            .filter(|_| head.len() < 2 && queue.iter().all(|p| p.stop.is_none()));
        if let Some(broken) = broken {
            let end = data_line + queue.iter().map(|p| p.n_lines).sum::<u64>();
            return Err(broken_error(file_ref, end, broken, head.len()));
        }
        if head.is_empty() {
            if let Some(e) = first_error(&mut queue) {
                return Err(e);
            }
            return Err(plain(ErrorKind::NoSamples, Some(header_line)));
        }
        // No positive interval: find the first sample the checks refuse.
        if head.len() >= 2 {
            if let Ok(mut probe) = SampleCheck::new(0.01, None) {
                for (i, s) in head.iter().enumerate() {
                    let [x, y, z] = s.acc_g;
                    let result = if x.abs() <= limit && y.abs() <= limit && z.abs() <= limit {
                        probe
                            .check(&Sample::new(s.t_s, [x * to_g, y * to_g, z * to_g]))
                            .map(|_| ())
                    } else {
                        Err(value_error(s, limit, units))
                    };
                    if let Err(kind) = result {
                        return Err(at(
                            kind,
                            Some(head_line(&queue, i)),
                            file_ref,
                            &layout,
                            units,
                        ));
                    }
                }
            }
        }
        if let Some(e) = first_error(&mut queue) {
            return Err(e);
        }
        return Err(plain(
            ErrorKind::Other("only one sample: a sample rate needs at least two timestamps".into()),
            Some(head_line(&queue, 0)),
        ));
    };
    let nominal_hz = b.rate_hz.or(clock.map(|c| c.rate_hz));
    let check = SampleCheck::from_head(interval, nominal_hz).map_err(|k| plain(k, None))?;

    // Time base.
    info.time_base = match first_time {
        Some(FirstTime::Iso(has_offset)) => {
            if !has_offset {
                info.warnings.push(Warning::new(
                    "date-times without a UTC offset are taken as UTC",
                ));
            }
            TimeBase::Iso8601
        }
        _ if head.first().is_some_and(|s| s.t_s >= UNIX_FROM_S) => TimeBase::Unix,
        _ => TimeBase::Relative,
    };
    if let Some(p) = preamble {
        info.time_base = TimeBase::Unix;
        info.warnings.push(Warning::new(format!(
            "ActiLife export: each row's time is the preamble's start, {} (the device's \
             clock, taken as UTC), plus its row number at {} Hz",
            super::time::iso8601_utc(p.start_s),
            p.rate_hz
        )));
        info.device = Some(p.device);
    }
    check.fill(&mut info);

    let mut reader = CsvReader {
        input,
        input_done,
        layout: Arc::new(layout),
        threads: b.threads,
        pool: None,
        pool_tried: false,
        queue: queue.into_iter().map(Slot::Ready).collect(),
        cur: Parsed::default(),
        cur_pos: 0,
        cur_line: data_line,
        free_raw: vec![raw],
        free_parsed: Vec::new(),
        check,
        limit,
        to_g,
        t_scale,
        clock,
        info,
        file,
        deferred: None,
        done: false,
    };
    // Start parsing what follows the head while the caller gets going.
    reader.refill();
    Ok(reader)
}

/// Times made from a start and a rate, for rows that hold none.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    start_s: f64,
    rate_hz: f64,
}

impl Clock {
    fn new(start_s: f64, rate_hz: f64) -> Clock {
        Clock { start_s, rate_hz }
    }

    /// The time of sample `i` (from 0), in seconds.
    #[inline]
    pub(super) fn at(&self, i: u64) -> f64 {
        #[allow(clippy::cast_precision_loss)] // sample counts far below 2^53
        let i = i as f64;
        self.start_s + i / self.rate_hz
    }
}

/// Unix times from 2000 to 2100 counted in milli-, micro- or nanoseconds: as seconds they
/// would be dates past the year 31,000, so a first time in one of these ranges says its unit.
const UNIX_COUNTS: [(TimeUnit, f64); 3] = [
    (TimeUnit::Milliseconds, 1e3),
    (TimeUnit::Microseconds, 1e6),
    (TimeUnit::Nanoseconds, 1e9),
];

/// Decides what numeric times count: what the header names, else seconds, unless the first
/// time is a Unix time that only makes sense in milli-, micro- or nanoseconds (13, 16 or 19
/// digits, as phone and logger apps write them), which is read so and said.
fn decide_time_unit(
    layout: &Layout,
    first_time: Option<FirstTime>,
    head: &[Sample],
    info: &mut RecordingInfo,
) -> TimeUnit {
    let named = layout.time_unit;
    if matches!(first_time, Some(FirstTime::Iso(_))) {
        if let Some(u) = named.filter(|u| *u != TimeUnit::Seconds) {
            info.warnings.push(Warning::new(format!(
                "column {:?} names {} but holds date-times: read as date-times",
                layout.names[0],
                u.name()
            )));
        }
        return TimeUnit::Seconds;
    }
    if let Some(u) = named {
        return u;
    }
    let t0 = head.first().map_or(0.0, |s| s.t_s);
    for (unit, per_s) in UNIX_COUNTS {
        if (UNIX_FROM_S * per_s..UNIX_TO_S * per_s).contains(&t0) {
            info.warnings.push(Warning::new(format!(
                "times like {t0} are Unix times in {}: read as such (a column named {:?} \
                 says so)",
                unit.name(),
                format!("{}_{}", layout.names[0], unit.symbol()),
            )));
            return unit;
        }
    }
    TimeUnit::Seconds
}

/// Rows that cover the unit's window at a known rate, and one more.
fn units_head_len(rate_hz: f64) -> usize {
    // A rate that is not a positive number fails when the reader is built; a huge one
    // still reads no more than the head without a rate.
    let rows = (UNITS_WINDOW_S * rate_hz)
        .ceil()
        .clamp(0.0, HEAD_SAMPLES as f64);
    // In 0..=4097 just above (NaN casts to 0).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rows = rows as usize;
    (rows + 1).min(HEAD_SAMPLES)
}

/// Decides the unit: the caller's, the header's, or the median |a| of the first 10 s.
fn decide_units(
    caller: Option<AccelUnit>,
    header: Option<AccelUnit>,
    head: &[Sample],
    info: &mut RecordingInfo,
) -> (AccelUnit, UnitsFrom) {
    if let Some(u) = caller {
        if let Some(h) = header.filter(|h| *h != u) {
            info.warnings.push(Warning::new(format!(
                "the header names {h} but {u} was asked for: reading {u}"
            )));
        }
        return (u, UnitsFrom::Caller);
    }
    let median = median_norm(head);
    if let Some(h) = header {
        // The header is believed, but a magnitude that fits the other unit is said: the
        // values are not changed.
        if let Some(median) = median.filter(|m| !near_1_g(m * h.to_g())) {
            let other = match h {
                AccelUnit::G => AccelUnit::MPerS2,
                AccelUnit::MPerS2 => AccelUnit::G,
            };
            let found = if near_1_g(median * other.to_g()) {
                format!("{median:.3}, near 1 g in {other}")
            } else {
                format!("{median:.3} {h}, far from 1 g")
            };
            info.warnings.push(Warning::new(format!(
                "the header names {h} but the median |a| over the first {UNITS_WINDOW_S} s is \
                 {found}: read as {h} all the same; set the unit if the header is wrong"
            )));
        }
        return (h, UnitsFrom::Header);
    }
    let Some(median) = median else {
        return (AccelUnit::G, UnitsFrom::Magnitude);
    };
    let unit = if median < UNITS_BOUNDARY {
        AccelUnit::G
    } else {
        AccelUnit::MPerS2
    };
    if !near_1_g(median * unit.to_g()) {
        info.warnings.push(Warning::new(format!(
            "median |a| over the first {UNITS_WINDOW_S} s is {median:.3}, far from 1 g or \
             9.81 m/s²: units guessed as {unit}; name them in the header or set them if wrong"
        )));
    }
    (unit, UnitsFrom::Magnitude)
}

/// Median |a| of the samples in the first [`UNITS_WINDOW_S`] of `head`, in the file's
/// unit; `None` when none is finite.
fn median_norm(head: &[Sample]) -> Option<f64> {
    let t0 = head.first().map_or(0.0, |s| s.t_s);
    let mut norms: Vec<f64> = head
        .iter()
        .take_while(|s| s.t_s - t0 <= UNITS_WINDOW_S)
        .map(Sample::norm_g)
        .filter(|n| n.is_finite())
        .collect();
    median(&mut norms)
}

/// Whether a median |a| in g is within a factor of 2 of gravity, as a worn sensor's is.
fn near_1_g(median_g: f64) -> bool {
    (0.5..=2.0).contains(&median_g)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 Hz samples of magnitude `norm` along z.
    fn still(norm: f64) -> Vec<Sample> {
        (0..2000)
            .map(|i| Sample::new(f64::from(i) * 0.01, [0.0, 0.0, norm]))
            .collect()
    }

    fn units(
        caller: Option<AccelUnit>,
        header: Option<AccelUnit>,
        norm: f64,
    ) -> (AccelUnit, UnitsFrom, usize) {
        let mut info = RecordingInfo::default();
        let (u, from) = decide_units(caller, header, &still(norm), &mut info);
        (u, from, info.warnings.len())
    }

    #[test]
    fn the_magnitude_decides_at_the_geometric_mean_of_1_and_9_81() {
        use AccelUnit::{MPerS2, G};
        use UnitsFrom::Magnitude;
        assert_eq!(units(None, None, 1.0), (G, Magnitude, 0));
        assert_eq!(units(None, None, 9.80665), (MPerS2, Magnitude, 0));
        // Either side of 3.13, far from both: decided, with a warning.
        assert_eq!(units(None, None, 3.1), (G, Magnitude, 1));
        assert_eq!(units(None, None, 3.2), (MPerS2, Magnitude, 1));
        // Within a factor of 2 of 1 g (in either unit) no warning.
        assert_eq!(units(None, None, 1.9), (G, Magnitude, 0));
        assert_eq!(units(None, None, 5.0), (MPerS2, Magnitude, 0));
    }

    #[test]
    fn the_caller_then_the_header_win_over_the_magnitude() {
        use AccelUnit::{MPerS2, G};
        // The header decides, with a warning when the magnitude says the other unit.
        assert_eq!(
            units(None, Some(MPerS2), 1.0),
            (MPerS2, UnitsFrom::Header, 1)
        );
        assert_eq!(
            units(None, Some(MPerS2), 9.8),
            (MPerS2, UnitsFrom::Header, 0)
        );
        assert_eq!(units(Some(G), None, 9.8), (G, UnitsFrom::Caller, 0));
        // The caller overriding the header is said.
        assert_eq!(units(Some(G), Some(MPerS2), 9.8), (G, UnitsFrom::Caller, 1));
    }

    #[test]
    fn a_header_unit_the_magnitude_contradicts_is_kept_and_said() {
        use AccelUnit::{MPerS2, G};
        let warned = |header: AccelUnit, norm: f64| {
            let mut info = RecordingInfo::default();
            let decided = decide_units(None, Some(header), &still(norm), &mut info);
            assert_eq!(decided, (header, UnitsFrom::Header));
            info.warnings
                .into_iter()
                .map(|w| w.message)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            warned(G, 9.80665),
            [
                "the header names g but the median |a| over the first 10 s is 9.807, near 1 g \
              in m/s²: read as g all the same; set the unit if the header is wrong"
            ]
        );
        assert_eq!(
            warned(MPerS2, 1.0),
            [
                "the header names m/s² but the median |a| over the first 10 s is 1.000, near 1 g \
              in g: read as m/s² all the same; set the unit if the header is wrong"
            ]
        );
        // Far from 1 g in both units: said without naming the other.
        let w = warned(G, 30.0);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("is 30.000 g, far from 1 g: read as g"),
            "{w:?}"
        );
        // Near 1 g in the header's unit: nothing to say.
        assert!(warned(G, 1.0).is_empty());
        assert!(warned(G, 1.9).is_empty());
        assert!(warned(MPerS2, 9.80665).is_empty());
    }

    #[test]
    fn only_the_first_10_s_count() {
        // 10 s at 1 g, then 20 s at 9.81: the whole median would say m/s², the first 10 s g.
        let s: Vec<Sample> = (0..3000)
            .map(|i| {
                let z = if i <= 1000 { 1.0 } else { 9.81 };
                Sample::new(f64::from(i) * 0.01, [0.0, 0.0, z])
            })
            .collect();
        let mut info = RecordingInfo::default();
        assert_eq!(decide_units(None, None, &s, &mut info).0, AccelUnit::G);
    }
}
