//! A sensor taken off for hours is reported as unworn, through the detector and its sinks,
//! whatever the chunking; a worn night with periodic leg movements is not.
// Test helpers unwrap: a failure there is a test failure, reported with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use common::night_with_time_off;
use sleeptwitch::{Collect, Config, Detector, Sample, Summary, Unworn};

const RATE: f64 = 50.0;

fn night(hours: f64, off: (f64, f64)) -> Vec<Sample> {
    night_with_time_off(RATE, hours, off)
}

fn run(samples: &[Sample], chunk: usize) -> (Collect, Summary) {
    let mut d = Detector::new(&Config::default(), RATE).unwrap();
    let mut sink = Collect::default();
    for c in samples.chunks(chunk) {
        d.push(c, &mut sink).unwrap();
    }
    let summary = d.finish(&mut sink).unwrap();
    (sink, summary)
}

#[test]
fn three_hours_on_the_table_are_one_unworn_stretch_in_any_chunking() {
    let samples = night(6.0, (3600.0, 14_400.0));
    let (sink, summary) = run(&samples, 4096);
    let [u]: [Unworn; 1] = sink.unworn.clone().try_into().unwrap();
    // Windows of 2 h advancing by 15 min: the stretch starts and ends within a quarter of
    // an hour inside the time off.
    assert!((3600.0..=4500.0).contains(&u.start_s), "{u:?}");
    assert!((13_500.0..=14_400.0).contains(&u.end_s), "{u:?}");
    let site = &summary.sites[0].stream;
    assert_eq!(site.n_unworn, 1);
    assert!((site.unworn_s - (u.end_s - u.start_s)).abs() < 1e-6);
    // The leg movements around it are found; none inside, once the sensor has settled on
    // the table.
    assert!(sink.events.iter().any(|e| e.onset_s < 3600.0));
    assert!(sink.events.iter().any(|e| e.onset_s > 14_400.0));
    let inside: Vec<_> = (sink.events.iter())
        .filter(|e| e.onset_s > 3630.0 && e.onset_s < 14_400.0)
        .collect();
    assert!(inside.is_empty(), "{inside:?}");
    for chunk in [1, 7, 1000] {
        let (other, s) = run(&samples, chunk);
        assert_eq!(other.unworn, sink.unworn, "chunks of {chunk}");
        assert_eq!(s.sites, summary.sites, "chunks of {chunk}");
    }
}

#[test]
fn a_worn_night_moving_every_half_minute_has_no_unworn_stretch() {
    let samples = night(4.0, (0.0, 0.0));
    let (sink, summary) = run(&samples, 4096);
    assert!(sink.unworn.is_empty(), "{:?}", sink.unworn);
    assert_eq!(summary.sites[0].stream.n_unworn, 0);
    assert_eq!(summary.sites[0].stream.unworn_s, 0.0);
}

#[test]
fn an_hour_off_is_too_short_to_tell_from_a_still_sleeper() {
    let samples = night(4.0, (3600.0, 7200.0));
    let (sink, _) = run(&samples, 4096);
    assert!(sink.unworn.is_empty(), "{:?}", sink.unworn);
}
