//! Fixed sets of nights for accuracy tables: a development set and a held-out set.

use super::config::{Layout, SensorConfig, Severity, SimConfig, HARD};

/// Rate, duration and sensor variant of benchmark night `i`.
fn variant(i: usize) -> (f64, f64, SensorConfig) {
    // (rate Hz, hours): slower rates get longer nights, so every night stays under
    // about 1.5 M samples per site and the set runs quickly in tests.
    const RATES: [(f64, f64); 6] = [
        (100.0, 4.0),
        (25.0, 8.0),
        (50.0, 6.0),
        (200.0, 2.0),
        (100.0, 3.0),
        (50.0, 8.0),
    ];
    let (rate, hours) = RATES[i % RATES.len()];
    let mut s = SensorConfig::default();
    match i % 5 {
        // AX3-like clock: 98.86 Hz against a nominal 100 (domain data README).
        1 => s.rate_error_ppm = -11_400.0,
        // Packed AX3 resolution: ±8 g in 10 bits, 1/64 g.
        2 => {
            s.bits = 10;
            s.jitter_ms = 1.0;
        }
        // Idle-mode style gaps and a Unix-epoch clock.
        3 => {
            s.gaps = true;
            s.epoch_start_s = Some(1_700_000_000.0 + 86_400.0 * i as f64);
        }
        // Fine resolution (±8 g, 16 bits) with some drift.
        4 => {
            s.bits = 16;
            s.drift_max_g = 0.02;
        }
        _ => {}
    }
    (rate, hours, s)
}

fn set(prefix: &str, seed0: u64, seed_step: u64) -> Vec<SimConfig> {
    let layouts = [Layout::Ankle, Layout::Bilateral, Layout::Wrist];
    (0..24)
        .map(|i| {
            let severity = Severity::ALL[i % 4];
            let layout = layouts[(i / 4) % 3];
            let hard = i >= 12;
            let difficulty = if hard { HARD } else { 0.3 };
            let (rate_hz, duration_h, sensor) = variant(i);
            let name = format!(
                "{prefix}{:02}-{}-{}-{}-{}hz-{}h",
                i + 1,
                layout,
                severity,
                if hard { "hard" } else { "easy" },
                rate_hz,
                duration_h
            );
            SimConfig {
                name,
                seed: seed0 + seed_step * i as u64,
                duration_h,
                rate_hz,
                layout,
                difficulty,
                severity,
                sensor,
                ..SimConfig::default()
            }
        })
        .collect()
}

/// The development benchmark: 24 nights for tuning detectors.
///
/// Every severity on every layout (ankle, both ankles with a wrist, wrist), each once at
/// difficulty 0.3 and once at the hard preset (half the set); rates 25, 50, 100 and 200 Hz;
/// nights of 2 to 8 hours (shorter than a full night at the higher rates, so the set runs
/// in seconds); sensor variants with a device clock error, 10- and 16-bit resolution,
/// time-stamp jitter, gaps with a Unix-epoch clock, and offset drift.
pub fn dev_benchmark() -> Vec<SimConfig> {
    set("dev", 1000, 1)
}

/// The held-out benchmark: the development set's 24 configurations with other seeds, for
/// reporting accuracy on nights no detector was tuned on.
pub fn held_out_benchmark() -> Vec<SimConfig> {
    set("held", 900_001, 7919)
}
