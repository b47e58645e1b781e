//! No heap allocation per sample, and a state whose size does not follow the night's length.
//!
//! One test in this file: the counting allocator (dhat) is global to the process.
// Test helpers unwrap: a failure there is a test failure, reported with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sleeptwitch::sim::{Layout, Night, SimConfig};
use sleeptwitch::{Config, Detector, Event, Sample, Source};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Allocations and live bytes, now.
fn heap() -> (u64, usize) {
    let s = dhat::HeapStats::get();
    (s.total_blocks, s.curr_bytes)
}

#[test]
fn pushing_a_day_allocates_nothing_and_the_state_does_not_grow() {
    let _profiler = dhat::Profiler::builder().testing().build();
    // A day and a night with both ankles and a wrist, pushed in step as a reader would.
    let sim = SimConfig {
        duration_h: 24.0,
        rate_hz: 25.0,
        layout: Layout::Bilateral,
        ..SimConfig::new(21)
    };
    let night = Night::new(&sim).unwrap();
    let sites: Vec<_> = night.sites().iter().map(|s| (*s, sim.rate_hz)).collect();
    let mut sources: Vec<_> = night
        .sites()
        .iter()
        .map(|s| night.source(*s).unwrap())
        .collect();
    let before_new = heap().1;
    let mut detector = Detector::with_sites(&Config::default(), &sites).unwrap();
    // The detector's heap, for BENCHMARKS.md.
    println!("detector heap after new: {} bytes", heap().1 - before_new);
    let mut printed = false;
    let mut n_events = 0u64;
    let mut sink = |_e: Event| n_events += 1;
    let chunk = 1000;
    let mut bufs = vec![vec![Sample::default(); chunk]; sources.len()];

    // The sources' own bookkeeping may allocate between pushes; only what happens inside
    // `push_site` is the detector's.
    let warm_up_s = 60.0;
    let mut t_s = 0.0;
    let mut allocs_in_push = 0u64;
    let mut live_change = 0i64;
    let mut first_alloc_at_s = None;
    loop {
        let mut any = false;
        for (i, src) in sources.iter_mut().enumerate() {
            let n = src.read_samples(&mut bufs[i]).unwrap();
            if n == 0 {
                continue;
            }
            any = true;
            t_s = bufs[i][n - 1].t_s;
            let before = heap();
            detector.push_site(i, &bufs[i][..n], &mut sink).unwrap();
            let after = heap();
            if t_s >= warm_up_s && !printed {
                printed = true;
                println!(
                    "detector heap after warm-up: {} bytes",
                    heap().1 - before_new
                );
            }
            if t_s >= warm_up_s {
                allocs_in_push += after.0 - before.0;
                live_change += i64::try_from(after.1).unwrap() - i64::try_from(before.1).unwrap();
                if after.0 > before.0 {
                    first_alloc_at_s.get_or_insert(t_s);
                }
            }
        }
        if !any {
            break;
        }
    }
    assert!(t_s > 23.9 * 3600.0, "the night ended at {t_s} s");
    assert!(
        n_events > 100,
        "{n_events} events: too few to exercise the pipeline"
    );
    assert_eq!(
        allocs_in_push, 0,
        "push allocated after the warm-up, first at t = {first_alloc_at_s:?} s"
    );
    assert_eq!(
        live_change, 0,
        "live heap change inside push after {warm_up_s} s"
    );
}
