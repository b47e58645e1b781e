//! Throughput of the CSV reader, in bytes of text per second.
//!
//! The input is made in memory in the form `gen_night.py` writes (time with 2 decimals,
//! x, y, z in g with 5): 8 h at 100 Hz, 2.88 M rows, 99.7 MB, the size of the night the
//! reader is meant for (pipelining across threads needs a few blocks to pay off); plus the
//! same night with ISO-8601 date-times (144 MB). Each run reads it all in chunks of 4096
//! samples.
//!
//! ```text
//! cargo bench --bench read
//! ```
// Benches build inputs with casts on fixed sizes and stop on a broken input with expect;
// nothing here reads user data.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::expect_used,
    missing_docs
)]

use std::fmt::Write;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sleeptwitch::io::{iso8601_utc, CsvReaderBuilder};
use sleeptwitch::{Sample, Source};

const RATE_HZ: usize = 100;
const ROWS: usize = 8 * 3600 * RATE_HZ;

/// Seeded SplitMix64.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Gravity on a slowly turning axis plus ~3 mg of noise, one row per sample.
fn night(iso: bool) -> Vec<u8> {
    let mut seed = 1;
    let mut out = String::with_capacity(ROWS * 36);
    out.push_str("t,x,y,z\n");
    for i in 0..ROWS {
        let phase = i as f64 / ROWS as f64 * 6.0;
        let mut noise = || ((splitmix(&mut seed) >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.01;
        let (x, y, z) = (
            0.3 * phase.sin() + noise(),
            0.3 * phase.cos() + noise(),
            -0.9 + noise(),
        );
        if iso {
            let t = 1_709_334_000.0 + i as f64 / RATE_HZ as f64;
            out.push_str(&iso8601_utc(t));
        } else {
            write!(out, "{}.{:02}", i / RATE_HZ, i % RATE_HZ).expect("writing to a String");
        }
        writeln!(out, ",{x:.5},{y:.5},{z:.5}").expect("writing to a String");
    }
    out.into_bytes()
}

fn read_all(text: &[u8], threads: usize) -> u64 {
    let mut reader = CsvReaderBuilder::new()
        .threads(threads)
        .from_reader(text)
        .expect("valid input");
    let mut chunk = vec![Sample::default(); 4096];
    while reader.read_samples(&mut chunk).expect("valid input") > 0 {}
    reader.info().n_samples
}

fn bench_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("read_csv");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(8));
    for (name, iso) in [("seconds", false), ("iso8601", true)] {
        let text = night(iso);
        assert_eq!(read_all(&text, 1), ROWS as u64);
        group.throughput(Throughput::Bytes(text.len() as u64));
        for threads in [1, 2] {
            group.bench_function(format!("{name}/threads={threads}"), |b| {
                b.iter(|| read_all(black_box(&text), threads));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_read);
criterion_main!(benches);
