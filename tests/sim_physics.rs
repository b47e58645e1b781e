//! The simulated signal obeys the physics the truth describes: measured from the samples,
//! with the sensor's true calibration (from the truth) undone.
// Test helpers unwrap: a failure there is a test failure, reported with its location.
// Axis loops index three arrays at once; a range reads more plainly than zips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

use sleeptwitch::sim::{Layout, Night, SensorConfig, SensorTruth, SimConfig};
use sleeptwitch::{Kind, Sample, Site};

fn mean(samples: &[Sample], a: f64, b: f64) -> Option<([f64; 3], usize)> {
    let i = samples.partition_point(|s| s.t_s < a);
    let j = samples.partition_point(|s| s.t_s < b);
    let w = samples.get(i..j)?;
    if w.len() < 10 {
        return None;
    }
    let mut m = [0.0; 3];
    for s in w {
        for k in 0..3 {
            m[k] += s.acc_g[k];
        }
    }
    Some((m.map(|x| x / w.len() as f64), w.len()))
}

/// measured = gain × true + offset (+ noise, averaged out); drift is off in these tests.
fn undo(cal: &SensorTruth, m: [f64; 3]) -> [f64; 3] {
    let mut v = [0.0; 3];
    for k in 0..3 {
        v[k] = (m[k] - cal.offset_g[k]) / cal.gain[k];
    }
    v
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn angle_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
    let c = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (norm(a) * norm(b));
    c.clamp(-1.0, 1.0).acos().to_degrees()
}

/// True when no truth event touches [a, b].
fn clear(night: &Night, a: f64, b: f64) -> bool {
    let t = night.truth();
    let in_bed = a >= t.in_bed_start_s && b <= t.in_bed_end_s;
    in_bed
        && t.events
            .iter()
            .all(|e| e.event.offset_s < a || e.event.onset_s > b)
}

fn ankle_night(seed: u64, noise_mg: f64) -> Night {
    Night::new(&SimConfig {
        duration_h: 8.0,
        rate_hz: 50.0,
        difficulty: 0.5,
        sensor: SensorConfig {
            noise_mg: Some(noise_mg),
            ..SensorConfig::default()
        },
        ..SimConfig::new(seed)
    })
    .unwrap()
}

#[test]
fn still_stretches_read_one_g_and_the_configured_noise() {
    let noise_mg = 5.0;
    let night = ankle_night(11, noise_mg);
    let s = night.samples(Site::Ankle);
    let cal = &night.truth().sensors[0];
    let step_mg = cal.step_g * 1000.0;
    let (mut n_windows, mut sum_d2, mut n_d) = (0, [0.0f64; 3], 0usize);
    let mut t = night.truth().in_bed_start_s;
    while t + 30.0 < night.truth().in_bed_end_s {
        if clear(&night, t - 3.0, t + 33.0) {
            let (m, _) = mean(&s, t, t + 30.0).unwrap();
            let g = norm(undo(cal, m));
            // Error sources: the mean of 1500 samples with 5 mg noise (0.13 mg) and the
            // quantisation bias, negligible under noise larger than the step; 1 mg bounds both.
            assert!((g - 1.0).abs() < 1e-3, "window at {t}: |a| = {g}");
            let i = s.partition_point(|x| x.t_s < t);
            let j = s.partition_point(|x| x.t_s < t + 30.0);
            for w in s[i..j].windows(2) {
                for k in 0..3 {
                    let d = w[1].acc_g[k] - w[0].acc_g[k];
                    sum_d2[k] += d * d;
                }
                n_d += 1;
            }
            n_windows += 1;
        }
        t += 60.0;
    }
    assert!(n_windows > 50, "only {n_windows} still windows");
    // White noise plus uniform quantisation error: var = σ² + Δ²/12; differences double it.
    let expected = (noise_mg * noise_mg + step_mg * step_mg / 12.0).sqrt();
    for k in 0..3 {
        let sd_mg = (sum_d2[k] / n_d as f64 / 2.0).sqrt() * 1000.0;
        // The estimate's standard error is about 1/√(2N) ≈ 0.2 % here; 3 % leaves room for
        // the Δ²/12 approximation (exact to far better than 1 % for σ > Δ/2).
        assert!(
            (sd_mg - expected).abs() < 0.03 * expected,
            "axis {k}: noise {sd_mg:.3} mg, expected {expected:.3} mg"
        );
    }
}

#[test]
fn posture_changes_turn_gravity_by_the_planned_angle() {
    let mut checked = 0;
    for seed in [21, 22, 23] {
        let night = ankle_night(seed, 3.0);
        let s = night.samples(Site::Ankle);
        let cal = &night.truth().sensors[0];
        for e in &night.truth().events {
            if e.event.kind != Kind::PostureChange {
                continue;
            }
            let (on, off) = (e.event.onset_s, e.event.offset_s);
            let others_clear =
                night.truth().events.iter().all(|o| {
                    o == e || o.event.offset_s < on - 12.0 || o.event.onset_s > off + 12.0
                });
            if !others_clear {
                continue;
            }
            let (before, _) = mean(&s, on - 6.0, on - 1.0).unwrap();
            let (after, _) = mean(&s, off + 1.0, off + 6.0).unwrap();
            let got = angle_deg(undo(cal, before), undo(cal, after));
            // Means of 250 samples at 3 mg: direction error ≈ 0.2 mg / 1 g ≈ 0.01°.
            assert!(
                (got - e.event.angle_deg).abs() < 0.2,
                "seed {seed} at {on}: turned {got:.3}°, planned {:.3}°",
                e.event.angle_deg
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} posture changes checked");
}

#[test]
fn leg_movements_return_to_baseline() {
    let night = ankle_night(31, 3.0);
    let s = night.samples(Site::Ankle);
    let cal = &night.truth().sensors[0];
    let mut checked = 0;
    let mut moved = 0;
    for e in &night.truth().events {
        if !e.event.kind.is_leg_movement() {
            continue;
        }
        let (on, off) = (e.event.onset_s, e.event.offset_s);
        let others_clear = night
            .truth()
            .events
            .iter()
            .all(|o| o == e || o.event.offset_s < on - 4.0 || o.event.onset_s > off + 4.0);
        if !others_clear {
            continue;
        }
        let (before, _) = mean(&s, on - 3.5, on - 0.5).unwrap();
        let (after, _) = mean(&s, off + 0.5, off + 3.5).unwrap();
        let d = angle_deg(undo(cal, before), undo(cal, after));
        // Means of 150 samples at 3 mg: ≈ 0.25 mg, 0.015°; 0.1° is a wide bound.
        assert!(d < 0.1, "LM at {on}: orientation after differs by {d:.3}°");
        checked += 1;
        // During the movement the reading does leave the baseline (unless the ankle axis
        // is near vertical, as lying on the side, where dorsiflexion hardly tilts gravity).
        let i = s.partition_point(|x| x.t_s < on);
        let j = s.partition_point(|x| x.t_s < off);
        let dev = s[i..j]
            .iter()
            .map(|x| norm([0, 1, 2].map(|k| x.acc_g[k] - before[k])))
            .fold(0.0, f64::max);
        if dev > 0.02 {
            moved += 1;
        }
    }
    assert!(checked >= 20, "only {checked} movements checked");
    assert!(
        moved * 2 > checked,
        "{moved} of {checked} movements visible"
    );
}

#[test]
fn hypnic_jerks_reach_every_site_within_a_few_ms() {
    let mut checked = 0;
    for seed in [41, 42, 43, 44, 45] {
        let night = Night::new(&SimConfig {
            duration_h: 3.0,
            rate_hz: 200.0,
            layout: Layout::Bilateral,
            difficulty: 0.0,
            sensor: SensorConfig {
                noise_mg: Some(1.0),
                ..SensorConfig::default()
            },
            ..SimConfig::new(seed)
        })
        .unwrap();
        let sites = [Site::LeftAnkle, Site::RightAnkle, Site::Wrist];
        let data: Vec<Vec<Sample>> = sites.iter().map(|&x| night.samples(x)).collect();
        for e in &night.truth().events {
            if e.event.kind != Kind::HypnicJerk {
                continue;
            }
            assert_eq!(e.event.sites.len(), 3, "{e:?}");
            let on = e.event.onset_s;
            let mut first = Vec::new();
            for s in &data {
                let (base, _) = mean(s, on - 0.25, on - 0.05).unwrap();
                let i = s.partition_point(|x| x.t_s < on - 0.05);
                let t = s[i..]
                    .iter()
                    .find(|x| norm([0, 1, 2].map(|k| x.acc_g[k] - base[k])) > 0.015)
                    .map(|x| x.t_s)
                    .unwrap();
                first.push(t);
            }
            // Each site responds at most 8 ms after the onset; the weakest (0.15 g at
            // difficulty 0) rises at ≥ 3 g/s, crossing 15 mg (+ noise) within ~8 ms; samples
            // are 5 ms apart and times are rounded to 1 ms: 25 ms bounds it, −1 ms for rounding.
            for (t, site) in first.iter().zip(sites) {
                assert!(
                    *t >= on - 0.001 && *t <= on + 0.025,
                    "seed {seed}: jerk at {on} first seen on {site} at {t}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} jerks checked");
}

#[test]
fn a_wrist_sees_posture_changes_but_not_leg_movements() {
    let night = Night::new(&SimConfig {
        duration_h: 6.0,
        rate_hz: 50.0,
        layout: Layout::Bilateral,
        difficulty: 0.0,
        ..SimConfig::new(51)
    })
    .unwrap();
    let wrist = night.samples(Site::Wrist);
    let truth = night.truth();
    let mut quiet = 0;
    let mut n = 0;
    for e in &truth.events {
        // One-sided or bilateral leg movements that are not triple flexions (those shift the
        // body slightly and reach the wrist at a few mg).
        if !e.event.kind.is_leg_movement() || e.detail.contains("triple") {
            continue;
        }
        let (on, off) = (e.event.onset_s, e.event.offset_s);
        let wrist_clear = truth.events.iter().all(|o| {
            o == e
                || !o.event.sites.contains(Site::Wrist)
                || o.event.offset_s < on - 2.0
                || o.event.onset_s > off + 2.0
        });
        if !wrist_clear {
            continue;
        }
        let (base, _) = mean(&wrist, on - 2.0, on).unwrap();
        let i = wrist.partition_point(|x| x.t_s < on);
        let j = wrist.partition_point(|x| x.t_s < off);
        let dev = wrist[i..j]
            .iter()
            .map(|x| norm([0, 1, 2].map(|k| x.acc_g[k] - base[k])))
            .fold(0.0, f64::max);
        n += 1;
        // Only breathing (≤ 1°, ≈ 17 mg) and noise (2 mg, 3 axes, up to ~5σ) move the wrist.
        if dev < 0.03 {
            quiet += 1;
        }
    }
    assert!(n >= 20, "only {n} movements checked");
    assert_eq!(
        quiet,
        n,
        "the wrist moved during {} leg movements",
        n - quiet
    );
}
