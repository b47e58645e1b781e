//! The streaming contract: any chunking of the same samples gives exactly the events (and
//! gaps, sleep onsets and summary) of one call per sensor, compared with `==`, not a
//! tolerance; `reset` then a replay equals a fresh detector; shifting every timestamp moves
//! every event by the same amount; a night that went through m/s² comes back the same.
// Test helpers unwrap: a failure there is a test failure, reported with its location.
// Events are compared exactly (`==`): that is the contract under test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]
// Small known sample counts and chunk sizes are cast plainly.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use std::sync::OnceLock;

use proptest::prelude::*;
use sleeptwitch::sample::STANDARD_GRAVITY_MPS2;
use sleeptwitch::sim::{Layout, Night, SensorConfig, Severity, SimConfig};
use sleeptwitch::{Collect, Config, Detector, Sample, Site, Summary};

/// A night's samples, one vector per site, with the sites and rate.
struct Recorded {
    name: &'static str,
    rate_hz: f64,
    sites: Vec<Site>,
    samples: Vec<Vec<Sample>>,
}

fn record(name: &'static str, sim: &SimConfig) -> Recorded {
    let night = Night::new(sim).unwrap();
    Recorded {
        name,
        rate_hz: sim.rate_hz,
        sites: night.sites().to_vec(),
        samples: night.sites().iter().map(|s| night.samples(*s)).collect(),
    }
}

/// An ankle night with moderate PLM; a bilateral night (two ankles and a wrist); a hard
/// night at 25 Hz with jitter, gaps and a Unix-epoch clock.
fn nights() -> &'static [Recorded] {
    static NIGHTS: OnceLock<Vec<Recorded>> = OnceLock::new();
    NIGHTS.get_or_init(|| {
        vec![
            record(
                "ankle, moderate, 100 Hz",
                &SimConfig {
                    duration_h: 1.0,
                    severity: Severity::Moderate,
                    ..SimConfig::new(11)
                },
            ),
            record(
                "bilateral + wrist, severe, 50 Hz",
                &SimConfig {
                    duration_h: 1.0,
                    rate_hz: 50.0,
                    layout: Layout::Bilateral,
                    severity: Severity::Severe,
                    ..SimConfig::new(12)
                },
            ),
            record(
                "ankle, hard, 25 Hz, jitter, gaps, epoch clock",
                &SimConfig {
                    duration_h: 2.0,
                    rate_hz: 25.0,
                    sensor: SensorConfig {
                        jitter_ms: 3.0,
                        gaps: true,
                        epoch_start_s: Some(1_700_000_000.0),
                        ..SensorConfig::default()
                    },
                    ..SimConfig::hard(13)
                },
            ),
        ]
    })
}

fn detector(n: &Recorded) -> Detector {
    let sites: Vec<_> = n.sites.iter().map(|s| (*s, n.rate_hz)).collect();
    Detector::with_sites(&Config::default(), &sites).unwrap()
}

/// Cuts `len` samples into chunks of the sizes `sizes` yields (0 is an empty chunk), the last
/// chunk taking what is left.
fn cut(len: usize, mut sizes: impl FnMut() -> usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < len {
        let k = sizes().min(len - at);
        out.push((at, at + k));
        at += k;
    }
    out.push((len, len));
    out
}

/// Pushes every site's chunks in time order (the chunk whose first sample is earliest goes
/// next, as `Detector::run` does), then finishes.
fn run(d: &mut Detector, n: &Recorded, chunks: &[Vec<(usize, usize)>]) -> (Collect, Summary) {
    let mut out = Collect::default();
    let mut next = vec![0usize; n.samples.len()];
    loop {
        let pick = (0..n.samples.len())
            .filter(|&i| next[i] < chunks[i].len())
            .min_by(|&a, &b| {
                let t = |i: usize| {
                    let (lo, _) = chunks[i][next[i]];
                    n.samples[i].get(lo).map_or(f64::INFINITY, |s| s.t_s)
                };
                t(a).total_cmp(&t(b))
            });
        let Some(i) = pick else { break };
        let (lo, hi) = chunks[i][next[i]];
        d.push_site(i, &n.samples[i][lo..hi], &mut out).unwrap();
        next[i] += 1;
    }
    let summary = d.finish(&mut out).unwrap();
    (out, summary)
}

fn chunked(n: &Recorded, sizes: &dyn Fn(usize) -> Box<dyn FnMut() -> usize>) -> (Collect, Summary) {
    let chunks: Vec<_> = n
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| cut(s.len(), sizes(i)))
        .collect();
    run(&mut detector(n), n, &chunks)
}

/// SplitMix64: a small seeded generator for chunk sizes.
fn splitmix(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn whole(n: &Recorded) -> (Collect, Summary) {
    chunked(n, &|_| Box::new(|| usize::MAX))
}

type Sizes = Box<dyn Fn(usize) -> Box<dyn FnMut() -> usize>>;

/// The chunkings every night goes through, each with its label.
fn chunkings() -> Vec<(&'static str, Sizes)> {
    vec![
        ("1", Box::new(|_| Box::new(|| 1))),
        ("7", Box::new(|_| Box::new(|| 7))),
        ("4096", Box::new(|_| Box::new(|| 4096))),
        (
            "random 0..5000",
            Box::new(|site| {
                let mut r = splitmix(77 + site as u64);
                Box::new(move || (r() % 5000) as usize)
            }),
        ),
        (
            "random 0..20, many empty",
            Box::new(|site| {
                let mut r = splitmix(99 + site as u64);
                Box::new(move || (r() % 20).saturating_sub(5) as usize)
            }),
        ),
    ]
}

/// What must not depend on chunking: events, gaps, sleep onsets, each sensor's summary, the
/// event counts. (The night's metrics are checked apart, see below.)
fn streamed(r: &(Collect, Summary)) -> impl PartialEq + std::fmt::Debug + '_ {
    (&r.0, &r.1.sites, &r.1.sleep_bouts, r.1.n_events)
}

#[test]
fn every_chunking_gives_the_events_of_one_call() {
    let mut failed = Vec::new();
    for n in nights() {
        let want = whole(n);
        assert!(
            want.0.events.len() > 20,
            "{}: too few events to test with",
            n.name
        );
        for (label, sizes) in &chunkings() {
            let got = chunked(n, sizes.as_ref());
            if streamed(&got) != streamed(&want) {
                failed.push(format!("{}: chunking {label}", n.name));
            }
        }
    }
    assert!(failed.is_empty(), "differ from one call: {failed:#?}");
}

#[test]
fn every_chunking_gives_the_night_metrics_of_one_call() {
    let mut failed = Vec::new();
    for n in nights() {
        let want = whole(n);
        for (label, sizes) in &chunkings() {
            let got = chunked(n, sizes.as_ref());
            if got.1.metrics != want.1.metrics {
                failed.push(format!("{}: chunking {label}", n.name));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "metrics differ from one call: {failed:#?}"
    );
}

/// A short stretch of the ankle night (20 min) for the property test.
fn short() -> &'static Recorded {
    static SHORT: OnceLock<Recorded> = OnceLock::new();
    SHORT.get_or_init(|| {
        let n = &nights()[0];
        let k = (20.0 * 60.0 * n.rate_hz) as usize;
        Recorded {
            name: "ankle, first 20 min",
            rate_hz: n.rate_hz,
            sites: n.sites.clone(),
            samples: vec![n.samples[0][..k].to_vec()],
        }
    })
}

fn short_whole() -> &'static (Collect, Summary) {
    static WHOLE: OnceLock<(Collect, Summary)> = OnceLock::new();
    WHOLE.get_or_init(|| whole(short()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_cut_points_and_empty_chunks_change_nothing(
        sizes in prop::collection::vec(prop_oneof![Just(0usize), 1usize..40, 40usize..9000], 1..60)
    ) {
        // All-empty chunks would never reach the end of the samples.
        prop_assume!(sizes.iter().any(|&k| k > 0));
        let n = short();
        assert!(!short_whole().0.events.is_empty());
        let mut i = 0;
        let chunks = vec![cut(n.samples[0].len(), || {
            let k = sizes[i % sizes.len()];
            i += 1;
            k
        })];
        let got = run(&mut detector(n), n, &chunks);
        prop_assert_eq!(&got, short_whole());
    }
}

#[test]
fn reset_then_replay_equals_a_fresh_detector() {
    for n in nights() {
        let mut d = detector(n);
        // Half the night, abandoned mid-stream.
        let half: Vec<_> = n
            .samples
            .iter()
            .map(|s| vec![(0, s.len() / 2), (s.len() / 2, s.len() / 2)])
            .collect();
        let mut junk = Collect::default();
        for (i, c) in half.iter().enumerate() {
            d.push_site(i, &n.samples[i][c[0].0..c[0].1], &mut junk)
                .unwrap();
        }
        d.reset();
        let whole_chunks: Vec<_> = n.samples.iter().map(|s| cut(s.len(), || 4096)).collect();
        let again = run(&mut d, n, &whole_chunks);
        let fresh = run(&mut detector(n), n, &whole_chunks);
        assert!(again == fresh, "{}: replay after reset differs", n.name);
    }
}

/// The night with every sample of every sensor passed through `f`.
fn mapped(n: &Recorded, f: impl Fn(&Sample) -> Sample) -> Recorded {
    Recorded {
        name: n.name,
        rate_hz: n.rate_hz,
        sites: n.sites.clone(),
        samples: n
            .samples
            .iter()
            .map(|s| s.iter().map(&f).collect())
            .collect(),
    }
}

#[test]
fn shifting_every_timestamp_shifts_every_event_by_the_same() {
    // 1.7e9 s is about now on the Unix clock. Times there are resolved to 2.4e-7 s, so the
    // shifted samples' times carry that rounding; events may differ by a few of those steps,
    // far below 1 µs, and nothing else may change.
    const SHIFT_S: f64 = 1.7e9;
    const TOL_S: f64 = 1e-6;
    for n in &nights()[..2] {
        let (want, _) = whole(n);
        let shifted = mapped(n, |x| Sample::new(x.t_s + SHIFT_S, x.acc_g));
        let (got, _) = whole(&shifted);
        assert_eq!(got.events.len(), want.events.len(), "{}", n.name);
        for (g, w) in got.events.iter().zip(&want.events) {
            assert_eq!(g.kind, w.kind, "{}: {w:?}", n.name);
            assert_eq!(g.sites, w.sites, "{}: {w:?}", n.name);
            assert!(
                (g.onset_s - SHIFT_S - w.onset_s).abs() < TOL_S
                    && (g.offset_s - SHIFT_S - w.offset_s).abs() < TOL_S,
                "{}: {g:?} vs {w:?}",
                n.name
            );
            // Values do not see the clock at all.
            assert_eq!(g.peak_g, w.peak_g, "{}", n.name);
            assert_eq!(g.angle_deg, w.angle_deg, "{}", n.name);
        }
    }
}

#[test]
fn a_night_through_m_per_s2_and_back_gives_the_same_events() {
    // A file in m/s² holds g × 9.80665; the reader multiplies by 1 / 9.80665. The round trip moves a
    // value by at most an ulp or two (1e-16 relative), far below the f32 signal path's
    // resolution (6e-8), so decisions and times are unchanged and values differ at most by
    // rounding: 1e-6 relative allows for f32 sums over a movement.
    const REL: f64 = 1e-6;
    for n in &nights()[..2] {
        let (want, _) = whole(n);
        let back = mapped(n, |x| {
            let m = x.acc_g.map(|v| v * STANDARD_GRAVITY_MPS2);
            Sample::new(x.t_s, m.map(|v| v * (1.0 / STANDARD_GRAVITY_MPS2)))
        });
        let (got, _) = whole(&back);
        assert_eq!(got.events.len(), want.events.len(), "{}", n.name);
        for (g, w) in got.events.iter().zip(&want.events) {
            assert_eq!(
                (g.kind, g.sites, g.onset_s, g.offset_s),
                (w.kind, w.sites, w.onset_s, w.offset_s),
                "{}",
                n.name
            );
            let close = |a: f64, b: f64| (a - b).abs() <= REL * a.abs().max(b.abs()).max(1e-9);
            assert!(close(g.peak_g, w.peak_g), "{}: {g:?} vs {w:?}", n.name);
            assert!(close(g.mean_g, w.mean_g), "{}: {g:?} vs {w:?}", n.name);
        }
    }
}
