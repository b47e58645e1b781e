//! A regression tool for work on the core's speed: records everything the movement cores say
//! on simulated nights, and compares a later build with the recording, bit for bit.
//!
//! Not a test of correctness (its expected values come from the code itself), so both are
//! `#[ignore]`d; run them by hand around a change that must not change behaviour:
//!
//! ```sh
//! SLEEPTWITCH_CORE_RECORD=1 cargo test --release --lib movement::golden -- --ignored
//! cargo test --release --lib movement::golden -- --ignored   # after the change
//! ```
//!
//! For every night of [`crate::sim::dev_benchmark`] and every site it records each movement
//! (`Debug` of f64 prints the shortest text that reads back to the same bits), each gap, the
//! summary, a hash of every `progress` call (time and watermark, as bits), and the detector's
//! events and summary with the classification of this build. Files go to
//! `target/core-golden/` (or `$SLEEPTWITCH_CORE_GOLDEN_DIR`).

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{CoreSink, MovementCore};
use crate::segment::Movement;
use crate::sim::{dev_benchmark, Night, SimConfig};
use crate::{Config, Detector, Event, Gap, Sample, Source};

/// Records a core's output as text, with the progress stream hashed.
#[derive(Default)]
struct Recorder {
    text: String,
    hash: u64,
    n_progress: u64,
}

impl Recorder {
    fn mix(&mut self, v: u64) {
        // FNV-1a over the eight bytes.
        for b in v.to_le_bytes() {
            self.hash ^= u64::from(b);
            self.hash = self.hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl CoreSink for Recorder {
    fn movement(&mut self, m: Movement) {
        let _ = writeln!(self.text, "movement {m:?}");
    }
    fn gap(&mut self, gap: Gap) {
        let _ = writeln!(self.text, "gap {gap:?}");
    }
    fn progress(&mut self, t_s: f64, watermark_s: f64) {
        self.n_progress += 1;
        self.mix(t_s.to_bits());
        self.mix(watermark_s.to_bits());
    }
}

fn samples_of(night: &Night) -> Vec<Vec<Sample>> {
    night
        .sites()
        .iter()
        .map(|site| {
            let mut src = night.source(*site).unwrap();
            let mut out = Vec::new();
            let mut buf = vec![Sample::default(); 4096];
            loop {
                let n = src.read_samples(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            out
        })
        .collect()
}

/// Everything the cores and the detector say about one night, as text.
fn record(sim: &SimConfig) -> String {
    let night = Night::new(sim).unwrap();
    let per_site = samples_of(&night);
    let config = Config::default();
    let mut text = String::new();
    for (site, samples) in night.sites().iter().zip(&per_site) {
        let mut core = MovementCore::new(&config, sim.rate_hz).unwrap();
        let mut rec = Recorder {
            hash: 0xcbf2_9ce4_8422_2325,
            ..Recorder::default()
        };
        for c in samples.chunks(4096) {
            core.push(c, &mut rec).unwrap();
        }
        let summary = core.finish(&mut rec).unwrap();
        let _ = writeln!(text, "site {site:?}: {} samples", samples.len());
        text.push_str(&rec.text);
        let _ = writeln!(
            text,
            "progress {} calls, hash {:016x}",
            rec.n_progress, rec.hash
        );
        let _ = writeln!(text, "summary {summary:?}");
    }
    // The detector, sites pushed in step in chunks of 4096 as `Detector::run` does.
    let sites: Vec<_> = night.sites().iter().map(|s| (*s, sim.rate_hz)).collect();
    let mut det = Detector::with_sites(&config, &sites).unwrap();
    let mut events: Vec<Event> = Vec::new();
    let mut pos = vec![0usize; per_site.len()];
    loop {
        let next = (0..per_site.len())
            .filter(|&i| pos[i] < per_site[i].len())
            .min_by(|&a, &b| per_site[a][pos[a]].t_s.total_cmp(&per_site[b][pos[b]].t_s));
        let Some(i) = next else { break };
        let end = (pos[i] + 4096).min(per_site[i].len());
        det.push_site(i, &per_site[i][pos[i]..end], &mut events)
            .unwrap();
        pos[i] = end;
    }
    let summary = det.finish(&mut events).unwrap();
    for e in &events {
        let _ = writeln!(text, "event {e:?}");
    }
    let _ = writeln!(text, "detector summary {summary:?}");
    text
}

fn dir() -> PathBuf {
    std::env::var_os("SLEEPTWITCH_CORE_GOLDEN_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/core-golden"),
        PathBuf::from,
    )
}

/// Nights to run: all of the development set, or the first `SLEEPTWITCH_CORE_NIGHTS`.
fn nights() -> Vec<SimConfig> {
    let n = std::env::var("SLEEPTWITCH_CORE_NIGHTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    dev_benchmark().into_iter().take(n).collect()
}

#[test]
#[ignore = "a tool: records or compares the cores' output on the development nights"]
fn cores_say_what_they_said_before() {
    let dir = dir();
    let recording = std::env::var_os("SLEEPTWITCH_CORE_RECORD").is_some();
    std::fs::create_dir_all(&dir).unwrap();
    let mut differ = Vec::new();
    for sim in nights() {
        let got = record(&sim);
        let path = dir.join(format!("{}.txt", sim.name));
        if recording {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap();
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            std::fs::write(dir.join(format!("{}.new.txt", sim.name)), &got).unwrap();
            differ.push(format!(
                "{} (first difference at line {})",
                sim.name,
                line + 1
            ));
        }
    }
    assert!(differ.is_empty(), "changed: {differ:#?}");
}

fn profile_night() -> Vec<Sample> {
    let sim = SimConfig {
        duration_h: 1.0,
        rate_hz: 100.0,
        ..SimConfig::new(7)
    };
    let night = Night::new(&sim).unwrap();
    samples_of(&night).swap_remove(0)
}

/// Samples per push in the profiling passes: `$SLEEPTWITCH_PROFILE_CHUNK`, or 4096.
fn profile_chunk() -> usize {
    std::env::var("SLEEPTWITCH_PROFILE_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096)
}

/// One pass of the core over a simulated hour at 100 Hz, for instruction counts:
///
/// ```sh
/// valgrind --tool=callgrind --toggle-collect='*profile_core_pass*' \
///     target/release/deps/sleeptwitch-<hash> --ignored --exact movement::golden::profile_core
/// ```
#[test]
#[ignore = "a tool: a pass to run under callgrind"]
fn profile_core() {
    let samples = profile_night();
    let n = profile_core_pass(&samples, profile_chunk());
    println!("{} samples, {n} movements", samples.len());
}

/// A sink that costs next to nothing: counts movements, keeps the last watermark.
#[derive(Default)]
struct Count {
    n: usize,
    watermark_s: f64,
}

impl CoreSink for Count {
    fn movement(&mut self, _m: Movement) {
        self.n += 1;
    }
    fn gap(&mut self, _gap: Gap) {}
    fn progress(&mut self, _t_s: f64, watermark_s: f64) {
        self.watermark_s = watermark_s;
    }
}

#[inline(never)]
fn profile_core_pass(samples: &[Sample], chunk: usize) -> usize {
    let mut core = MovementCore::new(&Config::default(), 100.0).unwrap();
    let mut sink = Count::default();
    for c in samples.chunks(chunk) {
        core.push(std::hint::black_box(c), &mut sink).unwrap();
    }
    core.finish(&mut sink).unwrap();
    std::hint::black_box(sink.watermark_s);
    sink.n
}

/// The same for the whole detector (`--toggle-collect='*profile_detector_pass*'`).
#[test]
#[ignore = "a tool: a pass to run under callgrind"]
fn profile_detector() {
    let samples = profile_night();
    let n = profile_detector_pass(&samples, profile_chunk());
    println!("{} samples, {n} events", samples.len());
}

#[inline(never)]
fn profile_detector_pass(samples: &[Sample], chunk: usize) -> usize {
    let mut det = Detector::new(&Config::default(), 100.0).unwrap();
    let mut events: Vec<Event> = Vec::new();
    for c in samples.chunks(chunk) {
        det.push(std::hint::black_box(c), &mut events).unwrap();
    }
    det.finish(&mut events).unwrap();
    events.len()
}

/// Rough wall-clock figures for the core and the detector on the profiling hour, best of
/// several passes (the benches in `benches/` are the measured ones).
#[test]
#[ignore = "a tool: prints rough timings"]
fn time_passes() {
    let samples = profile_night();
    for chunk in [1, 64, 4096] {
        for (name, f) in [
            ("core", profile_core_pass as fn(&[Sample], usize) -> usize),
            ("detector", profile_detector_pass),
        ] {
            let mut best = f64::INFINITY;
            for _ in 0..7 {
                let t = std::time::Instant::now();
                std::hint::black_box(f(&samples, chunk));
                best = best.min(t.elapsed().as_secs_f64());
            }
            println!(
                "{name:>8} chunk {chunk:>5}: {:7.1} M samples/s",
                samples.len() as f64 / best / 1e6
            );
        }
    }
}

/// Each stage of `benches/stages.rs` once over the profiling hour, for instruction counts per
/// stage (`--toggle-collect='*Stages*signal_path*'`, `*Stages*envelope_floor*`,
/// `*Stages*calibration*`, `*Stages*segmentation*`, `*Stages*block_stage*`).
#[test]
#[ignore = "a tool: a pass to run under callgrind"]
fn profile_stages() {
    use super::stages::Stages;
    let samples = profile_night();
    let st = Stages::new(100.0).unwrap();
    let blocks = st.blocks(&samples);
    let views = st.views(&blocks);
    let out = (
        st.signal_path(std::hint::black_box(&samples)),
        st.envelope_floor(std::hint::black_box(&blocks)),
        st.calibration(std::hint::black_box(&blocks)),
        st.segmentation(std::hint::black_box(&views)),
        st.block_stage(std::hint::black_box(&blocks)),
    );
    println!("{} samples, {out:?}", samples.len());
}

/// Sizes of the core's and the detector's state, in bytes (stack part; the heap part is
/// measured by `tests/alloc_core.rs`).
#[test]
#[ignore = "a tool: prints sizes"]
fn state_sizes() {
    println!(
        "MovementCore {} B, Detector {} B",
        std::mem::size_of::<MovementCore>(),
        std::mem::size_of::<Detector>()
    );
}
