//! Simulated samples are the same however they are read, and the CSV holds exactly them.
// Test helpers unwrap: a failure there is a test failure, reported with its location.
// Values are exact multiples of the quantisation step, so they are compared exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

use std::path::PathBuf;
use std::process::Command;

use sleeptwitch::sim::{Layout, Night, SensorConfig, SimConfig};
use sleeptwitch::{Sample, Site, Source};

fn read_all(night: &Night, site: Site, chunk: usize) -> Vec<Sample> {
    let mut src = night.source(site).unwrap();
    let mut buf = vec![Sample::default(); chunk];
    let mut out = Vec::new();
    loop {
        let n = src.read_samples(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    // Reading after the end keeps returning 0.
    assert_eq!(src.read_samples(&mut buf).unwrap(), 0);
    assert_eq!(src.info().n_samples, out.len() as u64);
    out
}

fn parse_csv(text: &str) -> Vec<Sample> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,x,y,z"));
    lines
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            Sample::new(f[0], [f[1], f[2], f[3]])
        })
        .collect()
}

fn hard_night() -> Night {
    Night::new(&SimConfig {
        duration_h: 1.0,
        rate_hz: 25.0,
        layout: Layout::Bilateral,
        difficulty: 1.0,
        sensor: SensorConfig {
            jitter_ms: 5.0,
            gaps: true,
            rate_error_ppm: -11_400.0,
            epoch_start_s: Some(1_700_000_000.0),
            ..SensorConfig::default()
        },
        ..SimConfig::new(9)
    })
    .unwrap()
}

#[test]
fn any_chunking_gives_the_same_samples_and_the_csv_holds_them_exactly() {
    let night = hard_night();
    for &site in night.sites() {
        let whole = night.samples(site);
        assert!(whole.len() > 80_000, "{site}: {} samples", whole.len());
        for chunk in [1, 7, 4096, whole.len() + 10] {
            let got = read_all(&night, site, chunk);
            assert!(got == whole, "{site}: chunk {chunk} differs");
        }
        let mut text = Vec::new();
        let rows = night.write_csv(site, &mut text).unwrap();
        assert_eq!(rows, whole.len() as u64);
        let parsed = parse_csv(std::str::from_utf8(&text).unwrap());
        assert!(
            parsed == whole,
            "{site}: CSV does not parse back to the samples"
        );
    }
}

#[test]
fn gaps_jitter_and_clock_error_show_in_the_samples() {
    let night = hard_night();
    let truth = night.truth();
    for (k, &site) in night.sites().iter().enumerate() {
        let s = night.samples(site);
        let t0 = 1_700_000_000.0;
        assert!(s[0].t_s >= t0 && s[0].t_s < t0 + 0.05);
        assert!(s.windows(2).all(|w| w[1].t_s > w[0].t_s));
        // Every planned gap leaves no sample inside it and a jump across it.
        let gaps = &truth.sensors[k].gaps;
        assert!(!gaps.is_empty());
        for g in gaps {
            let i = s.partition_point(|x| x.t_s < g.start_s);
            assert!(
                s[i].t_s >= g.end_s - 0.05,
                "{site}: sample inside gap {g:?}"
            );
            assert!(s[i].t_s - s[i - 1].t_s >= g.end_s - g.start_s - 0.1);
        }
        let mut src = night.source(site).unwrap();
        let mut buf = vec![Sample::default(); 1 << 16];
        while src.read_samples(&mut buf).unwrap() > 0 {}
        let info = src.info();
        // Planned gaps last at least 2 s, above the 1 s gap rule at 25 Hz.
        assert_eq!(info.gaps.len(), gaps.len());
        for (found, planned) in info.gaps.iter().zip(gaps) {
            assert!(found.start_s < planned.start_s && found.end_s() >= planned.end_s);
            assert!(found.duration_s < planned.end_s - planned.start_s + 0.2);
        }
        // Rate from the time stamps: 25 Hz × (1 − 0.0114) = 24.715 Hz. The jitter (5 ms SD,
        // independent per sample) spreads each interval by about 7 ms but leaves the mean.
        assert!(
            (info.rate.rate_hz - 24.715).abs() < 0.01,
            "{}",
            info.rate.rate_hz
        );
        assert!(info.rate.jitter_s > 0.004 && info.rate.jitter_s < 0.009);
    }
}

#[test]
fn values_clip_at_the_range() {
    let night = Night::new(&SimConfig {
        duration_h: 1.0,
        rate_hz: 100.0,
        sensor: SensorConfig {
            range_g: 2.0,
            bits: 10,
            ..SensorConfig::default()
        },
        ..SimConfig::new(5)
    })
    .unwrap();
    let s = night.samples(Site::Ankle);
    // ±2 g in 10 bits: steps of 1/256 g, codes −512..511, so values in [−2, 2 − 1/256].
    let top = 2.0 - 1.0 / 256.0;
    let mut clipped = 0;
    for x in &s {
        for v in x.acc_g {
            assert!((-2.0..=top).contains(&v), "{v}");
            assert_eq!((v * 256.0).fract(), 0.0);
            if v == -2.0 || v == top {
                clipped += 1;
            }
        }
    }
    // Walking before bed lands heel strikes of 1–2.5 g on top of gravity along the shank.
    assert!(clipped > 0, "no sample reached the range");
}

fn example() -> Option<PathBuf> {
    // tests run from target/<profile>/deps; cargo builds examples into ../examples.
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("examples").join("simulate");
    p.exists().then_some(p)
}

#[test]
fn the_simulate_example_writes_the_documented_files() {
    let Some(exe) = example() else {
        panic!("examples/simulate was not built next to the tests (run `cargo test`)");
    };
    let dir = std::env::temp_dir().join(format!("sleeptwitch-sim-ex-{}", std::process::id()));
    let out = Command::new(&exe)
        .args(["--seed", "7", "--hours", "1", "--rate", "50", "--bilateral"])
        .args(["--difficulty", "hard", "--severity", "severe", "--gaps"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "night.left_ankle.csv",
        "night.right_ankle.csv",
        "night.wrist.csv",
        "night.truth.csv",
        "night.truth.json",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(text.len() > 100, "{f}");
    }
    let truth = std::fs::read_to_string(dir.join("night.truth.csv")).unwrap();
    assert!(truth.starts_with("onset_s,offset_s,kind,"));
    // The same options in the library give the same truth.
    let cfg = SimConfig {
        seed: 7,
        duration_h: 1.0,
        rate_hz: 50.0,
        layout: Layout::Bilateral,
        difficulty: 1.0,
        severity: sleeptwitch::sim::Severity::Severe,
        sensor: SensorConfig {
            gaps: true,
            ..SensorConfig::default()
        },
        ..SimConfig::default()
    };
    let mut mine = Vec::new();
    Night::new(&cfg)
        .unwrap()
        .truth()
        .write_csv(&mut mine)
        .unwrap();
    assert!(
        truth.as_bytes() == &mine[..],
        "the example's truth differs from the library's for the same config"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // Bad input exits with a message, never a panic: 2 for bad usage (an option without
    // its value, a value that names nothing), 1 for a config value out of its range.
    for (bad, code) in [
        (vec!["--rate", "5", "x"], 1),
        (vec!["--severity", "extreme", "x"], 2),
        (vec!["--hours"], 2),
        (vec!["--bits", "7", "x"], 1),
    ] {
        let out = Command::new(&exe).args(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{bad:?}: {err}");
    }
}

#[test]
fn nights_and_sources_can_move_to_other_threads() {
    fn send<T: Send + 'static>() {}
    send::<Night>();
    send::<sleeptwitch::sim::SimSource>();
    // One night's sensors read on three threads give what one thread reads.
    let night = Night::new(&SimConfig {
        duration_h: 1.0,
        rate_hz: 25.0,
        layout: Layout::Bilateral,
        ..SimConfig::new(4)
    })
    .unwrap();
    let handles: Vec<_> = night
        .sites()
        .iter()
        .map(|&site| {
            let mut src = night.source(site).unwrap();
            std::thread::spawn(move || {
                let mut buf = vec![Sample::default(); 1000];
                let mut out = Vec::new();
                while let Ok(n @ 1..) = src.read_samples(&mut buf) {
                    out.extend_from_slice(&buf[..n]);
                }
                out
            })
        })
        .collect();
    for (h, &site) in handles.into_iter().zip(night.sites()) {
        assert!(h.join().unwrap() == night.samples(site), "{site}");
    }
}
