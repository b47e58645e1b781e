//! Simulator throughput: planning a night, synthesising samples, and writing them as CSV.
// Benchmarks unwrap: a failure is a broken setup, not data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sleeptwitch::sim::{Layout, Night, SimConfig};
use sleeptwitch::{Sample, Site, Source};

fn night(difficulty: f64) -> Night {
    Night::new(&SimConfig {
        duration_h: 1.0,
        difficulty,
        ..SimConfig::new(7)
    })
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.sample_size(10);
    let cfg8 = SimConfig::new(7);
    g.bench_function("plan_8h_bilateral", |b| {
        let cfg = SimConfig {
            layout: Layout::Bilateral,
            ..cfg8.clone()
        };
        b.iter(|| Night::new(black_box(&cfg)).unwrap())
    });
    for (name, d) in [("easy", 0.0), ("hard", 1.0)] {
        let n = night(d);
        let samples = n.samples(Site::Ankle).len() as u64;
        g.throughput(Throughput::Elements(samples));
        g.bench_function(format!("source_1h_100hz_{name}"), |b| {
            let mut buf = vec![Sample::default(); 4096];
            b.iter(|| {
                let mut src = n.source(Site::Ankle).unwrap();
                let mut total = 0;
                while let Ok(k @ 1..) = src.read_samples(&mut buf) {
                    total += k;
                }
                black_box(total)
            })
        });
        g.bench_function(format!("csv_1h_100hz_{name}"), |b| {
            b.iter(|| n.write_csv(Site::Ankle, std::io::sink()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
