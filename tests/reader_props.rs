//! Properties of the CSV reader on generated input.
//!
//! - Arbitrary bytes, and arbitrary mutations of valid files, end in `Ok` or `Err`, never a
//!   panic (5,000 cases each, run by `cargo test --release`).
//! - What is handed out does not depend on how it is asked for: chunk sizes, block sizes
//!   and thread counts give the same samples, the same error and the same warnings.
//! - A file in m/s² gives the samples of the same file in g.

// Helpers outside #[test] functions fail the test the same way: by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::collection::vec;
use proptest::prelude::*;
use sleeptwitch::io::{AccelUnit, CsvReaderBuilder, UnitsFrom};
use sleeptwitch::{Sample, Source};

/// How one read went: samples handed out, then the error message or the warnings.
#[derive(Debug, PartialEq)]
struct Outcome {
    samples: Vec<Sample>,
    end: Result<Vec<String>, String>,
}

/// Reads `text` with the given block size, threads and chunk sizes (cycled).
fn read(text: &[u8], block: usize, threads: usize, chunks: &[usize]) -> Outcome {
    let mut samples = Vec::new();
    let mut reader = match CsvReaderBuilder::new()
        .block_size_bytes(block)
        .threads(threads)
        .from_reader(text)
    {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                samples,
                end: Err(e.to_string()),
            }
        }
    };
    let mut buf = vec![Sample::default(); chunks.iter().copied().max().unwrap_or(1).max(1)];
    let mut came_short = false;
    for k in 0.. {
        let want = chunks
            .get(k % chunks.len().max(1))
            .copied()
            .unwrap_or(64)
            .max(1);
        match reader.read_samples(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => {
                // chunks are filled, short only at the end or before an error
                assert!(
                    n <= want && !came_short,
                    "{n} of {want} after a short chunk"
                );
                came_short = n < want;
                samples.extend_from_slice(&buf[..n]);
            }
            Err(e) => {
                // after an error the reader is done
                assert_eq!(reader.read_samples(&mut buf).ok(), Some(0));
                return Outcome {
                    samples,
                    end: Err(e.to_string()),
                };
            }
        }
    }
    let info = reader.info();
    assert_eq!(info.n_samples, samples.len() as u64);
    Outcome {
        samples,
        end: Ok(info.warnings.iter().map(ToString::to_string).collect()),
    }
}

/// A valid file of `n` rows at 100 Hz in one of several dialects.
fn valid_file(n: usize, dialect: u8, seed: u64) -> Vec<u8> {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    let mut out = String::new();
    let eol = if dialect == 2 { "\r\n" } else { "\n" };
    match dialect {
        0 => out.push_str("t,x,y,z\n"),
        1 => out.push_str("timestamp,acc_x,acc_y,acc_z\n"),
        2 => out.push_str("\u{feff}Time,X_g,Y_g,Z_g\r\n"),
        3 => out.push_str("id,z,time,y,x\n"),
        _ => {}
    }
    for i in 0..n {
        let (x, y, z) = (0.1 * next(), 0.2 * next(), -1.0 + 0.05 * next());
        let t = format!("{}.{:02}", 1000 + i / 100, i % 100);
        match dialect {
            1 => {
                let ms = i * 10;
                out.push_str(&format!(
                    "2024-03-01T23:{:02}:{:02}.{:03}Z,{x:.5},{y:.5},{z:.5}\n",
                    ms / 60_000,
                    ms / 1000 % 60,
                    ms % 1000
                ));
            }
            3 => out.push_str(&format!("{i},{z:.4},{t},{y:.4},{x:.4}\n")),
            _ => out.push_str(&format!("{t},{x:.5},{y:.5},{z:.5}{eol}")),
        }
    }
    out.into_bytes()
}

/// Bytes that look like CSV often enough to get past the header.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> =
        b"0123456789012345678901234567890123456789.,,,,,--\n\n\n\r eE+nNaAiIfF\"\tTZ:;x\x00\xff"
            .to_vec();
    let body = vec(proptest::sample::select(alphabet), 0..600);
    (
        prop_oneof![
            Just(&b"t,x,y,z\n"[..]),
            Just(&b""[..]),
            Just(&b"time;x;y;z\n"[..])
        ],
        body,
    )
        .prop_map(|(head, body)| [head, &body[..]].concat())
}

/// One edit of a file: overwrite, insert, delete, cut, or copy a stretch elsewhere.
#[derive(Clone, Debug)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
    Copy(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        any::<u8>(),
        proptest::sample::select(b"0123456789.,-\n\r eNa\"".to_vec())
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>(), 1usize..80).prop_map(|(a, b, n)| Edit::Copy(a, b, n)),
    ]
}

fn apply(mut text: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = text.len().max(1);
        match *e {
            Edit::Set(i, b) => {
                if let Some(c) = text.get_mut(i % len) {
                    *c = b;
                }
            }
            Edit::Insert(i, b) => text.insert(i % (text.len() + 1), b),
            Edit::Delete(i, n) => {
                let a = i % len;
                let b = (a + n).min(text.len());
                if a < b {
                    text.drain(a..b);
                }
            }
            Edit::Truncate(i) => text.truncate(i % len),
            Edit::Copy(from, to, n) => {
                let a = from % len;
                let piece: Vec<u8> = text.iter().skip(a).take(n).copied().collect();
                let at = to % (text.len() + 1);
                text.splice(at..at, piece);
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn arbitrary_bytes_never_panic(
        text in prop_oneof![vec(any::<u8>(), 0..1200), csvish()],
        block in 1usize..400,
        threads in 1usize..3,
        chunks in vec(1usize..40, 1..4),
    ) {
        let outcome = read(&text, block, threads, &chunks);
        // Whatever came out came through the checks.
        for s in &outcome.samples {
            prop_assert!(s.t_s.is_finite());
            prop_assert!(s.acc_g.iter().all(|v| v.abs() <= 64.0));
        }
        prop_assert!(outcome.samples.windows(2).all(|w| w[0].t_s < w[1].t_s));
    }

    #[test]
    fn mutated_files_never_panic_and_read_the_same_whatever_the_blocks(
        rows in 5usize..400,
        dialect in 0u8..5,
        seed in any::<u64>(),
        edits in vec(edit(), 1..6),
        block in 1usize..600,
        threads in 1usize..3,
        chunks in vec(1usize..50, 1..4),
    ) {
        let text = apply(valid_file(rows, dialect, seed), &edits);
        let reference = read(&text, 1 << 20, 1, &[4096]);
        let other = read(&text, block, threads, &chunks);
        prop_assert_eq!(other, reference);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn chunk_block_and_thread_sizes_do_not_change_valid_reads(
        rows in 2usize..6000,
        dialect in 0u8..5,
        seed in any::<u64>(),
        block in 1usize..5000,
        threads in 1usize..4,
        chunks in vec(0usize..5000, 1..6),
    ) {
        let text = valid_file(rows, dialect, seed);
        let whole = read(&text, 1 << 20, 1, &[rows]);
        prop_assert_eq!(whole.samples.len(), rows);
        prop_assert!(whole.end.is_ok(), "{:?}", whole.end);
        prop_assert_eq!(read(&text, block, threads, &chunks), whole);
    }

    #[test]
    fn a_file_in_metres_per_second_squared_reads_as_the_same_file_in_g(
        rows in 20usize..2000,
        seed in any::<u64>(),
        named in any::<bool>(),
    ) {
        // Values in g with 5 decimals, as integers of 1e-5 g; the m/s² file holds their
        // exact products with 9.80665 (10 decimals), so both files hold the same quantity.
        let mut s = seed;
        let mut g_text = String::from("t,x,y,z\n");
        let mut ms2_text = String::from(if named { "t,x_ms2,y_ms2,z_ms2\n" } else { "t,x,y,z\n" });
        for i in 0..rows {
            let mut row_g = format!("{}.{:02}", i / 100, i % 100);
            let mut row_ms2 = row_g.clone();
            for base in [0i64, 0, -100_000] {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let units = base + (s >> 40) as i64 % 30_000 - 15_000;
                let sign = if units < 0 { "-" } else { "" };
                let u = units.unsigned_abs();
                row_g.push_str(&format!(",{sign}{}.{:05}", u / 100_000, u % 100_000));
                let p = u * 980_665;
                row_ms2.push_str(&format!(",{sign}{}.{:010}", p / 10_000_000_000, p % 10_000_000_000));
            }
            g_text.push_str(&row_g);
            g_text.push('\n');
            ms2_text.push_str(&row_ms2);
            ms2_text.push('\n');
        }
        let g = read(g_text.as_bytes(), 1 << 20, 1, &[4096]);
        let ms2 = read(ms2_text.as_bytes(), 1 << 20, 1, &[4096]);
        prop_assert!(g.end.is_ok() && ms2.end.is_ok(), "{:?} {:?}", g.end, ms2.end);
        prop_assert_eq!(g.samples.len(), ms2.samples.len());
        for (a, b) in ms2.samples.iter().zip(&g.samples) {
            // the same time text in both files: the same f64
            prop_assert_eq!(a.t_s.to_bits(), b.t_s.to_bits());
            for (va, vb) in a.acc_g.iter().zip(&b.acc_g) {
                // The m/s² value is rounded once when parsed, 1/9.80665 once, the product
                // once; the g value once: at most 4 half-ulps apart, 2 × EPSILON relative.
                prop_assert!((va - vb).abs() <= 2.0 * f64::EPSILON * vb.abs(), "{} vs {}", va, vb);
            }
        }
        let info = CsvReaderBuilder::new().from_reader(ms2_text.as_bytes()).unwrap().info().clone();
        prop_assert_eq!(info.units, AccelUnit::MPerS2);
        prop_assert_eq!(info.units_from, if named { UnitsFrom::Header } else { UnitsFrom::Magnitude });
    }
}
