//! Speed and accuracy together: the detector timed on a few development nights, with the
//! accuracy of those nights printed beside the throughput.
//!
//! Criterion measures time only, so the accuracy is printed once, before the timed runs,
//! as a labelled table: a change that makes the detector faster but worse shows in the same
//! output. Samples are simulated (fixed seeds, `sim::dev_benchmark`) before timing starts,
//! and each timed iteration runs `Detector::run` over in-memory sources, as a caller with
//! decoded samples would.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
// Bench scaffolding: unwraps on configs and runs built here.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sleeptwitch::eval::{
    score_night, truth_night, DetectedSleep, EvalConfig, GroupScore, NightScore,
};
use sleeptwitch::sim::{dev_benchmark, Night};
use sleeptwitch::{Config, Detector, Event, MemorySource, Sample, ScoredClass, Summary};

/// Development nights timed, by name prefix: ankle easy (200 Hz, 2 h), ankle hard (200 Hz,
/// 2 h), bilateral hard (three sensors at 100 Hz, 3 h), wrist hard (200 Hz, 2 h).
const NIGHTS: [&str; 4] = ["dev04", "dev16", "dev17", "dev22"];

const CHUNK: usize = 4096;

struct Loaded {
    name: String,
    night: Night,
    samples: Vec<Vec<Sample>>,
}

impl Loaded {
    fn n_samples(&self) -> u64 {
        self.samples.iter().map(|s| s.len() as u64).sum()
    }

    fn detect(&self, config: &Config) -> (Vec<Event>, Summary) {
        let rate = self.night.config().rate_hz;
        let sites: Vec<_> = self.night.sites().iter().map(|s| (*s, rate)).collect();
        let mut d = Detector::with_sites(config, &sites).unwrap();
        let mut sources: Vec<MemorySource<'_>> =
            self.samples.iter().map(|s| MemorySource::new(s)).collect();
        let mut refs: Vec<&mut MemorySource<'_>> = sources.iter_mut().collect();
        let mut events = Vec::with_capacity(4096);
        let summary = d.run(&mut refs, CHUNK, &mut events).unwrap();
        (events, summary)
    }

    fn score(&self, config: &Config) -> NightScore {
        let (events, summary) = self.detect(config);
        let sleep = DetectedSleep {
            sleep_onsets_s: Some(summary.sleep_bouts.iter().map(|b| b.start_s).collect()),
            sleep_bouts: Some(summary.sleep_bouts),
        };
        score_night(
            &truth_night(&self.night),
            &events,
            Some(&sleep),
            &EvalConfig::default(),
        )
        .unwrap()
    }
}

fn load() -> Vec<Loaded> {
    dev_benchmark()
        .into_iter()
        .filter(|c| NIGHTS.iter().any(|p| c.name.starts_with(p)))
        .map(|c| {
            let night = Night::new(&c).unwrap();
            let samples = night.sites().iter().map(|s| night.samples(*s)).collect();
            Loaded {
                name: c.name,
                night,
                samples,
            }
        })
        .collect()
}

fn f1_cell(s: &NightScore, c: ScoredClass) -> String {
    s.classes
        .get(c.as_str())
        .map_or_else(|| "-".to_string(), |x| format!("{:.3}", x.f1))
}

/// Prints the accuracy of the benchmarked nights (F1 per class and pooled).
fn print_accuracy(nights: &[Loaded], config: &Config) {
    let scores: Vec<NightScore> = nights.iter().map(|n| n.score(config)).collect();
    println!("\naccuracy of the benchmarked nights (F1 per class; not timed)");
    print!("{:<40} {:>9}", "night", "samples");
    for c in ScoredClass::ALL {
        print!(" {:>14}", c.as_str());
    }
    println!();
    for (n, s) in nights.iter().zip(&scores) {
        print!("{:<40} {:>9}", n.name, n.n_samples());
        for c in ScoredClass::ALL {
            print!(" {:>14}", f1_cell(s, c));
        }
        println!();
    }
    let pooled = GroupScore::of(&scores);
    print!(
        "{:<40} {:>9}",
        "pooled",
        nights.iter().map(Loaded::n_samples).sum::<u64>()
    );
    for c in ScoredClass::ALL {
        let cell = pooled
            .classes
            .get(c.as_str())
            .map_or_else(|| "-".to_string(), |x| format!("{:.3}", x.f1));
        print!(" {cell:>14}");
    }
    println!(
        "\nmean |PLM count error| {:.1} % over {} nights with PLMs\n",
        pooled
            .plm_count_error
            .mean_abs_pct
            .value
            .unwrap_or(f64::NAN),
        pooled.plm_count_error.mean_abs_pct.n_nights
    );
}

fn accuracy(c: &mut Criterion) {
    let config = Config::default();
    let nights = load();
    print_accuracy(&nights, &config);
    let mut g = c.benchmark_group("accuracy_nights");
    g.sample_size(10);
    for n in &nights {
        g.throughput(Throughput::Elements(n.n_samples()));
        g.bench_with_input(BenchmarkId::new("detector", &n.name), n, |b, n| {
            b.iter(|| black_box(n.detect(black_box(&config)).0.len()));
        });
    }
    g.finish();
}

criterion_group!(benches, accuracy);
criterion_main!(benches);
