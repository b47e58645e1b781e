//! Scoring stages: series rules, night metrics, onset spectrum, event matching.
//!
//! Inputs are one synthetic 8 h night of leg movements built below from a fixed linear
//! congruential sequence (the same every run), outside the timed closures.
//!
//! ```text
//! cargo bench --bench scoring
//! ```

// Benchmarks are not library code: unwrap on fixed, valid inputs, and casts of small counts.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sleeptwitch::eval::{match_class, MatchConfig, ScoredClass};
use sleeptwitch::event::SleepBout;
use sleeptwitch::series::{score, LegMovement, SeriesConfig, SeriesTracker};
use sleeptwitch::spectral::{dominant_period, SpectralConfig};
use sleeptwitch::{night_metrics, Event, Site};

/// 8 h of LMs: trains of 25 ± 4 s IMIs broken by short and long gaps (about 1 100 LMs).
fn night() -> Vec<LegMovement> {
    let cfg = SeriesConfig::wasm2016();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut t = 0.0;
    let mut out = Vec::new();
    while t < 8.0 * 3600.0 {
        let r = uniform();
        t += if r < 0.05 {
            3.0 + 4.0 * uniform()
        } else if r < 0.1 {
            120.0 + 600.0 * uniform()
        } else {
            21.0 + 8.0 * uniform()
        };
        let dur = 1.0 + 4.0 * uniform() + if uniform() < 0.02 { 10.0 } else { 0.0 };
        out.push(LegMovement::new(&cfg, t, t + dur, Site::LeftAnkle));
    }
    out
}

fn events(lms: &[LegMovement]) -> Vec<Event> {
    score(&SeriesConfig::wasm2016(), lms)
        .iter()
        .map(|s| {
            let mut e = Event::new(s.lm.onset_s, s.lm.offset_s, s.class.kind());
            e.series_id = s.series_id;
            e
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let cfg = SeriesConfig::wasm2016();
    let lms = night();
    let evs = events(&lms);
    let n = lms.len() as u64;
    let bouts = [SleepBout {
        start_s: 900.0,
        end_s: 8.0 * 3600.0,
    }];
    // Detections: every event 0.3 s late, every tenth one dropped.
    let det: Vec<Event> = evs
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 0)
        .map(|(_, e)| Event::new(e.onset_s + 0.3, e.offset_s + 0.3, e.kind))
        .collect();
    let onsets: Vec<f64> = lms.iter().map(|l| l.onset_s).collect();

    let mut g = c.benchmark_group("scoring");
    g.throughput(Throughput::Elements(n));
    g.bench_function("series_score_batch", |b| {
        b.iter(|| score(black_box(&cfg), black_box(&lms)))
    });
    g.bench_function("series_tracker", |b| {
        let mut t = SeriesTracker::new(&cfg);
        b.iter(|| {
            let mut k = 0u32;
            for lm in black_box(&lms) {
                t.push(*lm, &mut |_| k += 1);
            }
            t.finish(&mut |_| k += 1);
            k
        })
    });
    g.bench_function("night_metrics", |b| {
        b.iter(|| night_metrics(&cfg, black_box(&evs), &bouts, 0.0, 8.0 * 3600.0).unwrap())
    });
    g.bench_function("onset_spectrum", |b| {
        b.iter(|| dominant_period(&SpectralConfig::default(), black_box(&onsets)).unwrap())
    });
    g.bench_function("match_leg_movements", |b| {
        b.iter(|| {
            match_class(
                black_box(&evs),
                black_box(&det),
                ScoredClass::LegMovement,
                &MatchConfig::default(),
            )
        })
    });
    g.finish();
}

criterion_group!(scoring, benches);
criterion_main!(scoring);
