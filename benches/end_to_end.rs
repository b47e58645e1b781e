//! The detector on a synthetic night, per chunk size, in samples per second.
#![allow(
    missing_docs,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::unwrap_used
)]
// Bench scaffolding: plain casts on small known values, unwrap on inputs built here.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sleeptwitch::{Config, Detector, Event, Sample};
use std::hint::black_box;

/// One hour at 100 Hz: 3 mg noise, a 15° tilt of 2 s every 30 s (seeded, no sim dependency).
fn night() -> Vec<Sample> {
    let rate = 100.0;
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut noise = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.01
    };
    (0..360_000)
        .map(|i| {
            let t = f64::from(i) / rate;
            let p = t % 30.0;
            let th = if (10.0..12.0).contains(&p) {
                15f64.to_radians() * (std::f64::consts::PI * (p - 10.0) / 2.0).sin()
            } else {
                0.0
            };
            Sample::new(t, [noise(), th.sin() + noise(), th.cos() + noise()])
        })
        .collect()
}

fn detector(c: &mut Criterion) {
    let samples = night();
    let mut g = c.benchmark_group("detector");
    g.throughput(Throughput::Elements(samples.len() as u64));
    g.sample_size(20);
    for chunk in [1usize, 64, 4096] {
        g.bench_with_input(BenchmarkId::new("push", chunk), &chunk, |b, &chunk| {
            let mut d = Detector::new(&Config::default(), 100.0).unwrap();
            let mut events: Vec<Event> = Vec::with_capacity(1024);
            b.iter(|| {
                events.clear();
                for c in samples.chunks(chunk) {
                    d.push(black_box(c), &mut events).unwrap();
                }
                d.finish(&mut events).unwrap();
                black_box(events.len())
            });
        });
    }
    g.finish();
}

criterion_group!(benches, detector);
criterion_main!(benches);
