//! The movement core stage by stage, in samples per second, on a simulated hour at 100 Hz.
//!
//! Each block stage runs over the blocks the signal path made from the same samples, so
//! every figure reads in samples of input per second and the stages' costs add up to about
//! the whole core's.
#![allow(missing_docs, clippy::unwrap_used)]
// Bench scaffolding: unwrap on inputs built here.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sleeptwitch::stages::{Core, Stages};
use std::hint::black_box;

#[path = "common/night.rs"]
mod common;
use common::night;

fn stages(c: &mut Criterion) {
    let samples = night();
    let st = Stages::new(100.0).unwrap();
    let blocks = st.blocks(&samples);
    let views = st.views(&blocks);
    let n = samples.len() as u64;

    let mut g = c.benchmark_group("signal_path");
    g.throughput(Throughput::Elements(n));
    g.bench_function("checks_filters_block_sums", |b| {
        b.iter(|| st.signal_path(black_box(&samples)))
    });
    g.finish();

    let mut g = c.benchmark_group("envelope_floor");
    g.throughput(Throughput::Elements(blocks.n_samples()));
    g.bench_function("envelopes_and_noise_floors", |b| {
        b.iter(|| st.envelope_floor(black_box(&blocks)))
    });
    g.finish();

    let mut g = c.benchmark_group("calibration");
    g.throughput(Throughput::Elements(blocks.n_samples()));
    g.bench_function("still_windows_and_fits", |b| {
        b.iter(|| st.calibration(black_box(&blocks)))
    });
    g.finish();

    let mut g = c.benchmark_group("segmentation");
    g.throughput(Throughput::Elements(views.n_samples()));
    g.bench_function("every_block_stepped", |b| {
        b.iter(|| st.segmentation(black_box(&views)))
    });
    g.finish();

    let mut g = c.benchmark_group("slow_channel");
    g.throughput(Throughput::Elements(blocks.n_samples()));
    g.bench_function("gathered_and_stepped", |b| {
        b.iter(|| st.slow_channel(black_box(&blocks)))
    });
    g.finish();

    let mut g = c.benchmark_group("block_stage");
    g.throughput(Throughput::Elements(blocks.n_samples()));
    g.bench_function("as_the_core_runs_it", |b| {
        b.iter(|| st.block_stage(black_box(&blocks)))
    });
    g.finish();

    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(n));
    g.bench_function("push_4096", |b| {
        let mut core = Core::new(100.0).unwrap();
        b.iter(|| {
            for c in samples.chunks(4096) {
                core.push(black_box(c)).unwrap();
            }
            core.finish().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
