//! Decoding device files: bytes of file per second, and samples per second.
//!
//! - `cwa/week_100hz_packed`: a synthetic week at 100 Hz (60.48 M samples, 504 000 packed
//!   blocks, 258 MB) built in memory by the test writer, decoded from a `Cursor` in chunks
//!   of 64 Ki samples, on one and on two threads.
//! - `cwa/day_100hz_unpacked`: a day of unpacked blocks (8.64 M samples, 55 MB).
//! - `geneactiv`, `gt3x`, `matrix`: the real test files from `testdata/devices`.
//! - `same_day`: one day at 100 Hz (8.64 M samples) read two ways, as a packed CWA file
//!   (36.9 MB) and as the CSV of the same samples (`t,x,y,z`, times with 3 decimals, values
//!   as the shortest decimal of their 1/256 g steps, about 340 MB), both from memory, in
//!   samples per second: what decoding the device file saves over converting it first.
//!
//! Run: `cargo bench --bench decode`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench harness

#[path = "../tests/common/cwa_writer.rs"]
mod cwa_writer;

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sleeptwitch::io::{CsvReaderBuilder, CwaReader, GeneactivReader, Gt3xReader, MatrixReader};
use sleeptwitch::{Sample, Source};

const CHUNK: usize = 64 * 1024;

fn drain(src: &mut dyn Source, buf: &mut [Sample]) -> usize {
    let mut n = 0;
    loop {
        let k = src.read_samples(buf).unwrap();
        if k == 0 {
            return n;
        }
        n += k;
    }
}

fn cwa(c: &mut Criterion) {
    let mut buf = vec![Sample::default(); CHUNK];
    for (name, packed, n_blocks) in [
        ("week_100hz_packed", true, 7 * 24 * 3600 * 100 / 120),
        ("day_100hz_unpacked", false, 24 * 3600 * 100 / 80),
    ] {
        let spec = cwa_writer::CwaSpec {
            rate_code: 0x4a,
            packed,
            start_s: 1_700_000_000.25,
            true_rate_hz: 99.7,
            n_blocks,
        };
        let file = cwa_writer::write_cwa(&spec);
        let mut g = c.benchmark_group(format!("cwa/{name}"));
        g.throughput(Throughput::Bytes(file.len() as u64));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(20));
        for threads in [1, 2] {
            g.bench_function(format!("threads_{threads}"), |b| {
                b.iter(|| {
                    let mut r = CwaReader::new(Cursor::new(black_box(&file[..]))).unwrap();
                    r.set_threads(threads);
                    drain(&mut r, &mut buf)
                })
            });
        }
        g.finish();
    }
}

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/devices")
            .join(name),
    )
    .unwrap()
}

fn others(c: &mut Criterion) {
    let mut buf = vec![Sample::default(); CHUNK];
    let ga = testdata("geneactiv_85p7hz_1min.bin");
    let gt = testdata("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    let mx = testdata("matrix_100hz_6min_mostly_still.bin");
    let mut g = c.benchmark_group("geneactiv");
    g.throughput(Throughput::Bytes(ga.len() as u64));
    g.bench_function("85p7hz_1min", |b| {
        b.iter(|| {
            let mut r = GeneactivReader::new(black_box(&ga[..])).unwrap();
            drain(&mut r, &mut buf)
        })
    });
    g.finish();
    let mut g = c.benchmark_group("gt3x");
    g.throughput(Throughput::Bytes(gt.len() as u64));
    g.bench_function("wgt3xbt_30hz_stored", |b| {
        b.iter(|| {
            let mut r = Gt3xReader::new(Cursor::new(black_box(&gt[..]))).unwrap();
            drain(&mut r, &mut buf)
        })
    });
    g.finish();
    let mut g = c.benchmark_group("matrix");
    g.throughput(Throughput::Bytes(mx.len() as u64));
    g.bench_function("100hz_6min", |b| {
        b.iter(|| {
            let mut r = MatrixReader::new(black_box(&mx[..])).unwrap();
            drain(&mut r, &mut buf)
        })
    });
    g.finish();
}

/// The CSV text of `samples`, as a converter exporting the file would write it.
fn csv_text(samples: &[Sample]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(samples.len() * 40);
    writeln!(out, "t,x,y,z").unwrap();
    for s in samples {
        let [x, y, z] = s.acc_g;
        writeln!(out, "{:.3},{x},{y},{z}", s.t_s).unwrap();
    }
    out
}

fn same_day(c: &mut Criterion) {
    let mut buf = vec![Sample::default(); CHUNK];
    let spec = cwa_writer::CwaSpec {
        rate_code: 0x4a,
        packed: true,
        start_s: 1_700_000_000.25,
        true_rate_hz: 99.7,
        n_blocks: 24 * 3600 * 100 / 120,
    };
    let cwa = cwa_writer::write_cwa(&spec);
    let mut samples = Vec::new();
    let mut r = CwaReader::new(Cursor::new(&cwa[..])).unwrap();
    loop {
        let k = r.read_samples(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        samples.extend_from_slice(&buf[..k]);
    }
    let csv = csv_text(&samples);
    println!(
        "same_day: {} samples, CWA {} bytes, CSV {} bytes",
        samples.len(),
        cwa.len(),
        csv.len()
    );
    drop(samples);
    let n = r.info().n_samples;
    let mut g = c.benchmark_group("same_day");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(15));
    for threads in [1, 2] {
        g.bench_function(format!("cwa_threads_{threads}"), |b| {
            b.iter(|| {
                let mut r = CwaReader::new(Cursor::new(black_box(&cwa[..]))).unwrap();
                r.set_threads(threads);
                drain(&mut r, &mut buf)
            })
        });
        g.bench_function(format!("csv_threads_{threads}"), |b| {
            b.iter(|| {
                let mut r = CsvReaderBuilder::new()
                    .threads(threads)
                    .from_reader(black_box(&csv[..]))
                    .unwrap();
                drain(&mut r, &mut buf)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, cwa, others, same_day);
criterion_main!(benches);
