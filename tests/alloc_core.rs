//! The movement core allocates nothing per sample, and its state does not grow: a day of
//! samples after a minute's warm-up. (`tests/alloc.rs` asks the same of the whole detector.)
//!
//! One test in this file: the counting allocator (dhat) is global to the process.
// Test helpers unwrap: a failure there is a test failure, reported with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sleeptwitch::sim::{Night, SensorConfig, SimConfig};
use sleeptwitch::stages::Core;
use sleeptwitch::{Sample, Site, Source};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn a_core_pushed_a_day_allocates_nothing_and_does_not_grow() {
    let _profiler = dhat::Profiler::builder().testing().build();
    // A day at 50 Hz with gaps and jitter, so the slow paths run too.
    let sim = SimConfig {
        duration_h: 24.0,
        rate_hz: 50.0,
        sensor: SensorConfig {
            gaps: true,
            jitter_ms: 2.0,
            ..SensorConfig::default()
        },
        ..SimConfig::new(22)
    };
    let night = Night::new(&sim).unwrap();
    let mut src = night.source(Site::Ankle).unwrap();
    let before_new = dhat::HeapStats::get().curr_bytes;
    let mut core = Core::new(sim.rate_hz).unwrap();
    // The core's heap, for BENCHMARKS.md (its inline size is printed by a lib tool).
    println!(
        "core heap after new: {} bytes",
        dhat::HeapStats::get().curr_bytes - before_new
    );
    let mut buf = vec![Sample::default(); 777];
    // The source's own bookkeeping may allocate between pushes; only what happens inside
    // `push` is the core's.
    let (mut t_s, mut allocs, mut live_change) = (0.0, 0, 0i64);
    loop {
        let n = src.read_samples(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        t_s = buf[n - 1].t_s;
        let before = dhat::HeapStats::get();
        core.push(&buf[..n]).unwrap();
        let after = dhat::HeapStats::get();
        if t_s >= 60.0 {
            allocs += after.total_blocks - before.total_blocks;
            live_change += i64::try_from(after.curr_bytes).unwrap()
                - i64::try_from(before.curr_bytes).unwrap();
        }
    }
    let n_movements = core.finish().unwrap();
    assert!(t_s > 23.9 * 3600.0, "the night ended at {t_s} s");
    assert!(n_movements > 100, "{n_movements} movements: too few");
    assert_eq!(allocs, 0, "allocations inside push after the first minute");
    assert_eq!(
        live_change, 0,
        "live heap change inside push after the first minute"
    );
}
