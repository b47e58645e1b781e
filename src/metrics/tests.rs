//! Metrics of hand-built nights, every expected value worked out in the comments.

use super::*;
use crate::Sites;

fn lm(onset_s: f64, duration_s: f64, kind: Kind) -> Event {
    let mut e = Event::new(onset_s, onset_s + duration_s, kind);
    e.sites = Sites::one(Site::LeftAnkle);
    e
}

fn plm(onset_s: f64, duration_s: f64, series: u32) -> Event {
    let mut e = lm(onset_s, duration_s, Kind::Plm);
    e.series_id = Some(series);
    e
}

/// In bed 0 → 28 800 s (8 h). Sleep 1 800 → 14 400 and 15 000 → 27 000 s.
///
/// - TST = 12 600 + 12 000 = 24 600 s = 6.8333 h; SPT = 27 000 − 1 800 = 25 200 s;
///   WASO = 25 200 − 24 600 = 600 s; SOL = 1 800 s; wake in bed = 28 800 − 24 600 = 4 200 s.
/// - 4 PLMs in wake at 100, 120, 140, 160 s (series 1): PLMW = 4, PLMWI = 4 / (4 200/3 600)
///   = 3.428 571/h.
/// - 41 PLMs in sleep at 3 600 + 20 k s, k = 0..=40 (series 2), durations 1.5, 2.0, 2.5,
///   3.0 s cycling: PLMS = 41, PLMSI = 41 · 3 600 / 24 600 = 6.0/h exactly.
/// - An isolated CLM at 10 000 s (IMI 5 600 s), a short-interval CLM at 10 005 s (IMI 5 s),
///   a 12 s non-CLM at 12 000 s: CLMS = 43, CLMS index = 43 · 3 600 / 24 600 = 6.292 683/h.
/// - Histogram: 40 IMIs of 20 s (bin [20, 22), index 10), 5 600 s (overflow), 5 s
///   (bin [4, 6), index 2); 10 005 → 12 000 touches the non-CLM and the wake PLMs' IMIs are
///   in wake: omitted. 42 IMIs.
/// - Ferri PI: one run of 40 in-window IMIs, then 5 600 and 5 (outside): 40 / 42.
///   PLMS/CLMS PI: 41 / 43.
/// - PLMS durations sorted: 11 × 1.5, 10 × 2.0, 10 × 2.5, 10 × 3.0 (n = 41). Type-7
///   quantiles: median h = 20 → 2.0; Q1 h = 10 → 1.5; Q3 h = 30 → 2.5; IQR = 1.0.
/// - IMIs sorted: 5, 40 × 20, overflow: median h = 20.5 → 20; Q1 h = 10.25 → 20, Q3
///   h = 30.75 → 20: IQR 0.
/// - Jerks at 1 790 s (no onset before it; 10 s before the 1 800 onset) and 15 010 s (10 s
///   after the 15 000 onset; none follows).
/// - Posture changes at 500 (before SPT), 5 000, 20 000 (in SPT), 27 500 s (after the final
///   awakening): 4 in the night, 2 in SPT, 2 / 7 h = 0.285 714/h.
/// - Activity 28 000 → 28 300 s: one event of 300 s.
fn worked_night() -> (Vec<Event>, Vec<SleepBout>) {
    let mut ev = Vec::new();
    for t in [100.0, 120.0, 140.0, 160.0] {
        ev.push(plm(t, 2.0, 1));
    }
    for k in 0..=40 {
        let d = [1.5, 2.0, 2.5, 3.0][k % 4];
        ev.push(plm(3600.0 + 20.0 * k as f64, d, 2));
    }
    ev.push(lm(10_000.0, 2.0, Kind::Lm));
    ev.push(lm(10_005.0, 2.0, Kind::Lm));
    ev.push(lm(12_000.0, 12.0, Kind::Lm));
    ev.push(Event::new(1790.0, 1790.2, Kind::HypnicJerk));
    ev.push(Event::new(15_010.0, 15_010.2, Kind::HypnicJerk));
    for t in [500.0, 5000.0, 20_000.0, 27_500.0] {
        ev.push(Event::new(t, t + 5.0, Kind::PostureChange));
    }
    ev.push(Event::new(28_000.0, 28_300.0, Kind::Activity));
    let bouts = vec![
        SleepBout {
            start_s: 1800.0,
            end_s: 14_400.0,
        },
        SleepBout {
            start_s: 15_000.0,
            end_s: 27_000.0,
        },
    ];
    (ev, bouts)
}

fn close(a: Option<f64>, b: f64) -> bool {
    // Every expected value is a ratio of small integers; 1e-9 allows only rounding.
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_worked_night() {
    let (mut ev, bouts) = worked_night();
    // Order must not matter to the batch function.
    ev.reverse();
    let m = night_metrics(&SeriesConfig::wasm2016(), &ev, &bouts, 0.0, 28_800.0).unwrap();
    assert_eq!(m.time_in_bed_s, 28_800.0);
    assert_eq!(m.sleep_onset_s, Some(1800.0));
    assert_eq!(m.final_awakening_s, Some(27_000.0));
    assert_eq!(m.total_sleep_time_s, 24_600.0);
    assert_eq!(m.sleep_period_s, 25_200.0);
    assert_eq!(m.waso_s, 600.0);
    assert_eq!(m.sleep_onset_latency_s, Some(1800.0));
    assert_eq!(m.wake_in_bed_s, 4200.0);
    assert_eq!(m.n_sleep_bouts, 2);

    assert_eq!((m.n_plm, m.n_plms, m.n_plmw), (45, 41, 4));
    assert!(close(m.plms_index_per_h, 6.0), "{:?}", m.plms_index_per_h);
    assert!(close(m.plmw_index_per_h, 4.0 * 3600.0 / 4200.0));
    assert_eq!(m.n_plm_series, 2);
    assert_eq!(
        (m.n_plms_left_only, m.n_plms_right_only, m.n_plms_bilateral),
        (41, 0, 0)
    );
    assert_eq!(m.n_clms, 43);
    assert!(close(m.clms_index_per_h, 43.0 * 3600.0 / 24_600.0));
    assert_eq!(
        (
            m.n_short_interval_sleep,
            m.n_isolated_sleep,
            m.n_non_clm_sleep
        ),
        (1, 1, 1)
    );
    assert!(close(m.short_interval_index_per_h, 3600.0 / 24_600.0));
    assert_eq!((m.n_lm, m.n_lm_sleep), (48, 44));

    let mut counts = vec![0u32; IMI_N_BINS];
    counts[10] = 40;
    counts[2] = 1;
    assert_eq!(m.imi_histogram.counts, counts);
    assert_eq!(m.imi_histogram.n_overflow, 1);
    assert_eq!((m.n_imi_in_periodic_runs, m.n_imi_sleep), (40, 42));
    assert!(close(m.periodicity_index_ferri2006, 40.0 / 42.0));
    assert!(close(m.periodicity_index_plms_per_clms, 41.0 / 43.0));

    assert!(close(m.plms_duration_median_s, 2.0));
    assert!(close(m.plms_duration_iqr_s, 1.0));
    assert!(close(m.imi_median_s, 20.0));
    assert!(close(m.imi_iqr_s, 0.0));

    assert_eq!(m.n_hypnic_jerks, 2);
    assert_eq!(m.hypnic_jerks[0].since_sleep_onset_s, None);
    assert_eq!(m.hypnic_jerks[1].since_sleep_onset_s, Some(10.0));
    // 1 790 s is 10 s before the 1 800 onset; nothing follows 15 010 s.
    assert_eq!(m.hypnic_jerks[0].until_sleep_onset_s, Some(10.0));
    assert_eq!(m.hypnic_jerks[1].until_sleep_onset_s, None);
    assert_eq!((m.n_posture_changes, m.n_posture_changes_spt), (4, 2));
    assert!(close(m.posture_changes_per_h_spt, 2.0 / 7.0));
    assert_eq!((m.n_activity, m.activity_s), (1, 300.0));

    // 41 onsets 20 s apart in sleep: 0.05 Hz, within one spectral bin (1/1024 Hz).
    let f = 1.0 / m.dominant_plm_period_s.unwrap();
    assert!((f - 0.05).abs() <= 1.0 / 1024.0, "{:?}", m.dominant_period);
}

#[test]
fn the_accumulator_fed_by_hand_agrees_and_resets() {
    // The same night pushed in time order through the streaming door, twice (finish resets).
    let (mut ev, bouts) = worked_night();
    ev.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let batch = night_metrics(&SeriesConfig::wasm2016(), &ev, &bouts, 0.0, 28_800.0).unwrap();
    let mut acc = NightAccumulator::new(&SeriesConfig::wasm2016(), 0.0).unwrap();
    for _ in 0..2 {
        let mut i = 0;
        for e in &ev {
            while let Some(b) = bouts.get(i / 2) {
                let t = if i % 2 == 0 { b.start_s } else { b.end_s };
                if t > e.onset_s {
                    break;
                }
                if i % 2 == 0 {
                    acc.sleep_onset(t);
                } else {
                    acc.wake(t);
                }
                i += 1;
            }
            acc.event(e);
        }
        assert_eq!(acc.finish(28_800.0), batch);
    }
}

#[test]
fn a_night_without_sleep_divides_by_nothing() {
    let ev = [plm(10.0, 2.0, 1), lm(50.0, 2.0, Kind::Lm)];
    let m = night_metrics(&SeriesConfig::wasm2016(), &ev, &[], 0.0, 3600.0).unwrap();
    assert_eq!(m.total_sleep_time_s, 0.0);
    assert_eq!(m.plms_index_per_h, None);
    assert_eq!(m.clms_index_per_h, None);
    assert_eq!(m.periodicity_index_plms_per_clms, None);
    assert_eq!(m.periodicity_index_ferri2006, None);
    assert_eq!(m.sleep_onset_s, None);
    assert_eq!(m.sleep_onset_latency_s, None);
    assert_eq!(m.posture_changes_per_h_spt, None);
    // All of the hour in bed is wake: 1 PLMW per hour.
    assert!(close(m.plmw_index_per_h, 1.0));
    assert_eq!(m.imi_median_s, None);
    assert_eq!(m.dominant_plm_period_s, None);
    let empty = night_metrics(&SeriesConfig::wasm2016(), &[], &[], 0.0, 0.0).unwrap();
    assert_eq!(empty.plmw_index_per_h, None);
}

#[test]
fn clm_status_follows_the_rule_and_the_sites() {
    let bouts = [SleepBout {
        start_s: 0.0,
        end_s: 3600.0,
    }];
    // A 12 s LM: non-CLM on one leg; a 12 s LM on both legs is a CLM under WASM (≤ 15 s).
    let mut both = lm(100.0, 12.0, Kind::Lm);
    both.sites = Sites::one(Site::LeftAnkle).with(Site::RightAnkle);
    let one = lm(200.0, 12.0, Kind::Lm);
    let m = night_metrics(&SeriesConfig::wasm2016(), &[both, one], &bouts, 0.0, 3600.0).unwrap();
    assert_eq!((m.n_clms, m.n_non_clm_sleep), (1, 1));
    // A 16 s bilateral LM is a non-CLM (> 15 s).
    let mut long = both;
    long.offset_s = long.onset_s + 16.0;
    let m = night_metrics(&SeriesConfig::wasm2016(), &[long], &bouts, 0.0, 3600.0).unwrap();
    assert_eq!((m.n_clms, m.n_non_clm_sleep), (0, 1));
}

#[test]
fn aasm_short_intervals_and_imi_bins() {
    let bouts = [SleepBout {
        start_s: 0.0,
        end_s: 3600.0,
    }];
    // AASM (breakers ignored): CLMs at 100, 104 (IMI 4 s < 5 s: short, and ignored), 109
    // (IMI measured from the last counted LM, 100: 9 s, not short): 1 short, 2 isolated.
    let ev = [
        lm(100.0, 1.0, Kind::Lm),
        lm(104.0, 1.0, Kind::Lm),
        lm(109.0, 1.0, Kind::Lm),
    ];
    let m = night_metrics(&SeriesConfig::aasm2012(), &ev, &bouts, 0.0, 3600.0).unwrap();
    assert_eq!((m.n_short_interval_sleep, m.n_isolated_sleep), (1, 2));
    assert_eq!(m.rule, ScoringRule::Aasm2012);
    // Histogram IMIs are onset to onset between consecutive CLMs: 4 (bin 2) and 5 (bin 2).
    assert_eq!(m.imi_histogram.counts[2], 2);
}

#[test]
fn histogram_edges() {
    let mut h = ImiHistogram::default();
    for imi in [
        0.0,
        1.999,
        2.0,
        10.0,
        19.9 - 9.9,
        89.0,
        90.0,
        90.000_000_5,
        90.1,
        500.0,
    ] {
        h.push(imi);
    }
    // 0, 1.999 → bin 0; 2.0 → bin 1; 10.0 and 9.999999999999998 → bin 5 (within 1 µs);
    // 89, 90, 90 + 0.5 µs → bin 44 (closed at 90); 90.1 and 500 → overflow.
    assert_eq!(h.counts[0], 2);
    assert_eq!(h.counts[1], 1);
    assert_eq!(h.counts[5], 2);
    assert_eq!(h.counts[44], 3);
    assert_eq!(h.n_overflow, 2);
    assert_eq!(h.total(), 10);
}

#[test]
fn histogram_distances() {
    let mut a = ImiHistogram::default();
    let mut b = ImiHistogram::default();
    a.push(20.0);
    b.push(30.0);
    // All mass moves from bin 10 to bin 15: five bins of 2 s = 10 s; disjoint: TV 1.
    assert!(close(a.emd_s(&b), 10.0));
    assert!(close(a.total_variation(&b), 1.0));
    assert!(close(a.emd_s(&a), 0.0));
    b.push(20.0);
    // Half the mass moves 10 s: 5 s; TV = ½ (|1 − ½| + |0 − ½|) = ½.
    assert!(close(a.emd_s(&b), 5.0));
    assert!(close(a.total_variation(&b), 0.5));
    assert_eq!(a.emd_s(&ImiHistogram::default()), None);
}

#[test]
fn grid_quantiles_match_type_7() {
    let mut g = GridQuantiles::new(30.0);
    for x in [4.0, 1.0, 3.0, 2.0] {
        g.push(x);
    }
    // Sorted 1, 2, 3, 4: median h = 1.5 → 2.5; Q1 h = 0.75 → 1.75; Q3 h = 2.25 → 3.25.
    assert!(close(g.quantile(0.5), 2.5));
    assert!(close(g.quantile(0.25), 1.75));
    assert!(close(g.quantile(0.75), 3.25));
    // 1.004 rounds to 1.00 on the 10 ms grid, 1.006 to 1.01.
    let mut g = GridQuantiles::new(30.0);
    g.push(1.004);
    assert!(close(g.quantile(0.5), 1.0));
    g.reset();
    g.push(1.006);
    assert!(close(g.quantile(0.5), 1.01));
    // Past the grid: quantiles that land there are unknown.
    g.push(31.0);
    g.push(32.0);
    assert_eq!(g.quantile(0.75), None);
}

#[test]
fn unrecorded_time_is_neither_sleep_nor_wake_and_overlapping_gaps_count_once() {
    let (_, bouts) = worked_night();
    let mut acc = NightAccumulator::new(&SeriesConfig::wasm2016(), 0.0).unwrap();
    // Before the onset 100 s; in the first bout 600 s, reported by two sensors whose gaps
    // overlap by half; between the bouts 200 s.
    acc.gap(1000.0, 100.0);
    acc.sleep_onset(bouts[0].start_s);
    acc.gap(5000.0, 400.0);
    acc.gap(5200.0, 400.0);
    acc.wake(bouts[0].end_s);
    acc.gap(14_500.0, 200.0);
    acc.sleep_onset(bouts[1].start_s);
    acc.wake(bouts[1].end_s);
    let m = acc.finish(28_800.0);
    assert_eq!(m.unrecorded_s, 900.0);
    assert_eq!(m.time_in_bed_s, 28_800.0);
    assert_eq!(m.sleep_period_s, 25_200.0);
    assert_eq!(m.total_sleep_time_s, 24_600.0 - 600.0);
    assert_eq!(m.waso_s, 600.0 - 200.0);
    // The gaps in wake (100 s and 200 s) come out of it; the one asleep is out of TST.
    assert_eq!(m.wake_in_bed_s, 4200.0 - 300.0);
}
