//! Every kind of bad CSV input gives a clear error with its kind and line, never a panic.
//!
//! Each case reads a file from `testdata/bad/` (see `testdata/README.md`: the bad line of
//! each file is placed there on purpose) through the path API, then again from memory with
//! small blocks on two threads, where the line must not change.

// Helpers outside #[test] functions fail the test the same way: by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Numbers read from text are compared exactly: parsing is correctly rounded, as literals are.
#![allow(clippy::float_cmp)]

use std::io::Read;
use std::path::PathBuf;

use sleeptwitch::io::{AccelUnit, CsvReader, CsvReaderBuilder};
use sleeptwitch::{Error, ErrorKind, RecordingInfo, Sample, Source};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/bad")
        .join(name)
}

/// Reads everything; the samples handed out and how it ended.
fn drain<R: Read>(mut r: CsvReader<R>) -> (Vec<Sample>, Result<RecordingInfo, Error>) {
    let mut out = Vec::new();
    let mut buf = vec![Sample::default(); 17];
    loop {
        match r.read_samples(&mut buf) {
            Ok(0) => return (out, Ok(r.info().clone())),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Err(e)),
        }
    }
}

fn open_and_drain(
    open: Result<CsvReader<impl Read>, Error>,
) -> (Vec<Sample>, Result<RecordingInfo, Error>) {
    match open {
        Ok(r) => drain(r),
        Err(e) => (Vec::new(), Err(e)),
    }
}

/// The error reading `name` gives, after checking that small blocks on two threads give the
/// same error (same message, so the same kind, line and values) after the same samples.
fn error_of(name: &str) -> (Error, usize) {
    let (samples, result) = open_and_drain(CsvReader::from_path(path(name)));
    let e = match result {
        Ok(_) => panic!("{name}: read without error"),
        Err(e) => e,
    };
    let bytes = std::fs::read(path(name)).unwrap();
    for (block, threads) in [(1, 1), (64, 2), (300, 2)] {
        let (s2, r2) = open_and_drain(
            CsvReaderBuilder::new()
                .block_size_bytes(block)
                .threads(threads)
                .file_name(path(name))
                .from_reader(&bytes[..]),
        );
        let e2 = r2
            .err()
            .unwrap_or_else(|| panic!("{name}: no error with block {block}"));
        assert_eq!(e2.to_string(), e.to_string(), "{name}, block {block}");
        assert_eq!(s2, samples, "{name}, block {block}");
    }
    (e, samples.len())
}

/// The message starts with `file:line: ` (or `file: ` without a line).
fn assert_names_position(e: &Error, name: &str, line: Option<u64>) {
    let text = e.to_string();
    let expected = match line {
        Some(l) => format!("{}:{l}: ", path(name).display()),
        None => format!("{}: ", path(name).display()),
    };
    assert!(
        text.starts_with(&expected),
        "{text:?} should start with {expected:?}"
    );
    assert_eq!(e.line(), line, "{text}");
    assert!(!text.contains('\n'), "one line: {text:?}");
}

#[test]
fn empty_file() {
    let (e, _) = error_of("empty.csv");
    assert!(matches!(e.kind(), ErrorKind::Empty), "{e}");
    assert_names_position(&e, "empty.csv", None);
}

#[test]
fn whitespace_only_is_empty_too() {
    let e = CsvReader::from_reader(&b"\r\n \n\t\n"[..]).err().unwrap();
    assert!(matches!(e.kind(), ErrorKind::Empty), "{e}");
}

#[test]
fn header_only() {
    let (e, _) = error_of("header_only.csv");
    assert!(matches!(e.kind(), ErrorKind::NoSamples), "{e}");
    assert_names_position(&e, "header_only.csv", Some(1));
}

#[test]
fn missing_time_column() {
    let (e, _) = error_of("missing_time.csv");
    assert!(
        matches!(e.kind(), ErrorKind::MissingColumn { column: "time", header, .. } if header == "x,y,z"),
        "{e}"
    );
    assert_names_position(&e, "missing_time.csv", Some(1));
}

#[test]
fn missing_axis_column() {
    let (e, _) = error_of("missing_axis.csv");
    assert!(
        matches!(e.kind(), ErrorKind::MissingColumn { column: "z", .. }),
        "{e}"
    );
    assert_names_position(&e, "missing_axis.csv", Some(1));
}

#[test]
fn non_numeric_field() {
    let (e, n) = error_of("not_a_number.csv");
    assert!(
        matches!(e.kind(), ErrorKind::NotANumber { column, unit: "g", found } if column == "y" && found == "--"),
        "{e}"
    );
    assert_names_position(&e, "not_a_number.csv", Some(12));
    assert_eq!(n, 10, "the 10 rows before line 12 are handed out first");
}

#[test]
fn nan_value() {
    let (e, _) = error_of("nan.csv");
    assert!(
        matches!(e.kind(), ErrorKind::NotFinite { column, .. } if column == "z"),
        "{e}"
    );
    assert_names_position(&e, "nan.csv", Some(15));
}

#[test]
fn infinite_value() {
    let (e, _) = error_of("inf.csv");
    assert!(
        matches!(e.kind(), ErrorKind::NotFinite { column, found } if column == "x" && found == "-inf"),
        "{e}"
    );
    assert_names_position(&e, "inf.csv", Some(9));
}

#[test]
fn infinite_time() {
    let text = b"t,x,y,z\n0,0,0,1\n0.01,0,0,1\n0.02,0,0,1\ninf,0,0,1\n";
    let (_, r) = open_and_drain(CsvReader::from_reader(&text[..]));
    let e = r.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NotFinite { column, .. } if column == "t"),
        "{e}"
    );
    assert_eq!(e.line(), Some(5));
}

#[test]
fn beyond_64_g() {
    let (e, _) = error_of("out_of_range_g.csv");
    assert!(
        matches!(e.kind(), ErrorKind::OutOfRange { column, value, limit, unit: "g" }
            if column == "x" && *value == 65.0 && *limit == 64.0),
        "{e}"
    );
    assert_names_position(&e, "out_of_range_g.csv", Some(20));
}

#[test]
fn beyond_64_g_in_metres_per_second_squared() {
    let (e, _) = error_of("out_of_range_ms2.csv");
    // 64 g × 9.80665 m/s² per g = 627.6256 m/s²; the message stays in the file's unit.
    assert!(
        matches!(e.kind(), ErrorKind::OutOfRange { column, value, limit, unit: "m/s²" }
            if column == "y_ms2" && *value == 640.0 && (*limit - 627.6256).abs() < 1e-9),
        "{e}"
    );
    assert_names_position(&e, "out_of_range_ms2.csv", Some(20));
}

#[test]
fn just_inside_the_range_is_accepted() {
    let text = b"t,x,y,z\n0,64,0,0\n0.01,-64,0,0\n0.02,0,0,1\n";
    let (s, r) = open_and_drain(
        CsvReaderBuilder::new()
            .units(Some(AccelUnit::G))
            .from_reader(&text[..]),
    );
    r.unwrap();
    assert_eq!(s.len(), 3);
}

#[test]
fn time_going_backwards() {
    let (e, _) = error_of("time_backwards.csv");
    assert!(
        matches!(e.kind(), ErrorKind::TimeNotIncreasing { verb: "goes backwards", t_s, prev_t_s }
            if *t_s == 0.21 && *prev_t_s == 0.22),
        "{e}"
    );
    assert_names_position(&e, "time_backwards.csv", Some(25));
}

#[test]
fn time_repeating() {
    let (e, _) = error_of("time_repeats.csv");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::TimeNotIncreasing {
                verb: "repeats",
                ..
            }
        ),
        "{e}"
    );
    assert_names_position(&e, "time_repeats.csv", Some(25));
}

#[test]
fn short_row() {
    let (e, _) = error_of("short_row.csv");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::FieldCount {
                expected: 4,
                found: 3
            }
        ),
        "{e}"
    );
    assert_names_position(&e, "short_row.csv", Some(18));
}

#[test]
fn long_row() {
    let text = b"t,x,y,z\n0,0,0,1\n0.01,0,0,1,7\n";
    let (_, r) = open_and_drain(CsvReader::from_reader(&text[..]));
    let e = r.unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::FieldCount {
                expected: 4,
                found: 5
            }
        ),
        "{e}"
    );
    assert_eq!(e.line(), Some(3));
}

#[test]
fn binary_garbage() {
    let (e, _) = error_of("binary_garbage.csv");
    assert!(matches!(e.kind(), ErrorKind::NotText { .. }), "{e}");
    assert_names_position(&e, "binary_garbage.csv", Some(1));
}

#[test]
fn binary_garbage_after_good_rows() {
    let (e, n) = error_of("garbage_mid_file.csv");
    assert!(matches!(e.kind(), ErrorKind::NotText { .. }), "{e}");
    assert_names_position(&e, "garbage_mid_file.csv", Some(39));
    assert_eq!(n, 37);
}

#[test]
fn a_line_without_end_is_not_text() {
    let mut text = b"t,x,y,z\n".to_vec();
    for i in 0..5000 {
        text.extend_from_slice(format!("{}.{:02},0,0,1\n", i / 100, i % 100).as_bytes());
    }
    text.extend(std::iter::repeat_n(b'7', 200_000));
    let (s, r) = open_and_drain(
        CsvReaderBuilder::new()
            .block_size_bytes(4096)
            .from_reader(&text[..]),
    );
    let e = r.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotText { .. }), "{e}");
    assert_eq!(e.line(), Some(5002));
    assert_eq!(s.len(), 5000);
}

#[test]
fn a_cut_last_row_is_dropped_with_a_warning() {
    let (samples, result) = open_and_drain(CsvReader::from_path(path("cut_last_row.csv")));
    let info = result.unwrap();
    assert_eq!(samples.len(), 50);
    assert_eq!(info.n_samples, 50);
    assert_eq!(samples[49].t_s, 0.49);
    assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
    let w = &info.warnings[0];
    assert_eq!(w.position.as_ref().and_then(|p| p.line), Some(52));
    assert!(w
        .to_string()
        .starts_with(&format!("{}:52: ", path("cut_last_row.csv").display())));
}

#[test]
fn rate_below_10_hz() {
    let (e, _) = error_of("rate_too_low.csv");
    assert!(
        matches!(e.kind(), ErrorKind::RateTooLow { rate_hz, min_hz } if (*rate_hz - 1.0).abs() < 1e-12 && *min_hz == 10.0),
        "{e}"
    );
    assert_names_position(&e, "rate_too_low.csv", None);
}

#[test]
fn impossible_iso_time() {
    let (e, _) = error_of("bad_iso_time.csv");
    assert!(
        matches!(e.kind(), ErrorKind::BadTime { column, found } if column == "time" && found == "2024-03-01 23:00:61.100"),
        "{e}"
    );
    assert_names_position(&e, "bad_iso_time.csv", Some(7));
}

#[test]
fn mixed_units_in_the_header() {
    let (e, _) = error_of("mixed_units.csv");
    assert!(matches!(e.kind(), ErrorKind::BadHeader { .. }), "{e}");
    assert_names_position(&e, "mixed_units.csv", Some(1));
}

#[test]
fn numbers_without_a_header_must_be_four_columns() {
    let (e, _) = error_of("five_numbers_no_header.csv");
    assert!(matches!(e.kind(), ErrorKind::BadHeader { .. }), "{e}");
    assert_names_position(&e, "five_numbers_no_header.csv", Some(1));
}

#[test]
fn a_single_sample_has_no_rate() {
    let e = CsvReader::from_reader(&b"t,x,y,z\n0,0,0,1\n"[..])
        .err()
        .unwrap();
    assert!(matches!(e.kind(), ErrorKind::Other(_)), "{e}");
    assert_eq!(e.line(), Some(2));
}

#[test]
fn all_times_equal_is_a_repeat_at_the_second_row() {
    let e = CsvReader::from_reader(&b"t,x,y,z\n5,0,0,1\n5,0,0,1\n5,0,0,1\n"[..])
        .err()
        .unwrap();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::TimeNotIncreasing {
                verb: "repeats",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.line(), Some(3));
}

#[test]
fn blank_lines_bom_and_crlf_count_in_line_numbers() {
    // line 1 blank, 2 header, 3-4 rows, 5-6 blank, 7-8 rows, 9 bad
    let text = b"\xEF\xBB\xBF\r\nt,x,y,z\r\n0,0,0,1\r\n0.01,0,0,1\r\n\r\n  \r\n0.02,0,0,1\r\n0.03,0,0,1\r\n0.04,0,x,1\r\n";
    for (block, threads) in [(1 << 20, 1), (1, 1), (5, 2), (16, 2)] {
        let (s, r) = open_and_drain(
            CsvReaderBuilder::new()
                .block_size_bytes(block)
                .threads(threads)
                .from_reader(&text[..]),
        );
        let e = r.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::NotANumber { .. }), "{e}");
        assert_eq!(e.line(), Some(9), "block {block}: {e}");
        assert_eq!(s.len(), 4);
    }
    // and a sample-check error after blank lines
    let text = b"t,x,y,z\n\n0,0,0,1\n\n\n0.01,0,0,1\n0.02,0,0,1\n\n0.02,0,0,1\n";
    let (_, r) = open_and_drain(CsvReader::from_reader(&text[..]));
    assert_eq!(r.unwrap_err().line(), Some(9));
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let e = CsvReader::from_path(path("no_such_file.csv"))
        .err()
        .unwrap();
    assert!(matches!(e.kind(), ErrorKind::Io(_)), "{e}");
    assert!(e.to_string().contains("no_such_file.csv"), "{e}");
}

/// Fails with an I/O error once `ok` bytes have been read.
struct FailAfter<'a> {
    data: &'a [u8],
    ok: usize,
}

impl Read for FailAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.ok == 0 {
            return Err(std::io::Error::other("device removed"));
        }
        let n = buf.len().min(self.ok).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn a_read_failure_mid_file_comes_after_the_samples_before_it() {
    let mut text = b"t,x,y,z\n".to_vec();
    for i in 0..20_000 {
        text.extend_from_slice(format!("{}.{:02},0,0,1\n", i / 100, i % 100).as_bytes());
    }
    for threads in [1, 2] {
        let r = CsvReaderBuilder::new()
            .block_size_bytes(10_000)
            .threads(threads)
            .from_reader(FailAfter {
                data: &text,
                ok: 200_000,
            });
        let (s, result) = open_and_drain(r);
        let e = result.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Io(_)), "{e}");
        // Whole lines before the failure are handed out, and the error names the next line.
        let complete = text[..200_000].iter().filter(|&&c| c == b'\n').count() - 1;
        assert!(
            s.len() <= complete && s.len() + 1000 > complete,
            "{} of {complete}",
            s.len()
        );
        assert_eq!(e.line(), Some(s.len() as u64 + 2), "{e}");
    }
}

#[test]
fn a_read_failure_before_any_sample_is_an_io_error_at_its_line() {
    let text = b"t,x,y,z\n\n0,0,0,1\n";
    let e = CsvReaderBuilder::new()
        .block_size_bytes(4)
        .from_reader(FailAfter { data: text, ok: 9 })
        .err()
        .unwrap();
    assert!(matches!(e.kind(), ErrorKind::Io(_)), "{e}");
    // Lines 1 (header) and 2 (blank) were read; reading line 3 failed.
    assert_eq!(e.line(), Some(3), "{e}");
}
