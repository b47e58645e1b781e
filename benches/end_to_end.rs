//! The movement core and the whole detector on a simulated night, per chunk size, in
//! samples per second.
#![allow(missing_docs, clippy::unwrap_used)]
// Bench scaffolding: unwrap on inputs built here.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sleeptwitch::stages::Core;
use sleeptwitch::{Config, Detector, Event};
use std::hint::black_box;

#[path = "common/night.rs"]
mod common;
use common::night;

fn end_to_end(c: &mut Criterion) {
    let samples = night();
    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(samples.len() as u64));
    g.sample_size(20);
    for chunk in [1usize, 64, 4096] {
        g.bench_with_input(BenchmarkId::new("push", chunk), &chunk, |b, &chunk| {
            let mut core = Core::new(100.0).unwrap();
            b.iter(|| {
                for c in samples.chunks(chunk) {
                    core.push(black_box(c)).unwrap();
                }
                core.finish().unwrap()
            });
        });
    }
    g.finish();

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

criterion_group!(benches, end_to_end);
criterion_main!(benches);
