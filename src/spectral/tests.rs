//! Spectra of onset trains whose answers come from their construction.
use super::*;

fn train(period_s: f64, n: usize, t0: f64) -> Vec<f64> {
    (0..n).map(|i| t0 + i as f64 * period_s).collect()
}

#[test]
fn a_25_s_train_peaks_at_0_04_hz_within_one_bin() {
    let cfg = SpectralConfig::default();
    // 2 h of movements every 25 s.
    let d = dominant_period(&cfg, &train(25.0, 288, 100.0))
        .unwrap()
        .unwrap();
    let bin_hz = 1.0 / cfg.window_s;
    assert!((d.bin_frequency_hz - 0.04).abs() <= bin_hz, "{d:?}");
    assert!((d.frequency_hz - 0.04).abs() <= bin_hz, "{d:?}");
    // A strictly periodic train concentrates its power: far above a flat spectrum.
    assert!(d.peak_to_mean > 10.0, "{d:?}");
}

#[test]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn periods_across_the_band_are_found() {
    let cfg = SpectralConfig::default();
    // 22.5 s must not be taken for the 45 s sub-harmonic, nor 45 s for its 22.5 s harmonic.
    for period_s in [12.0f64, 20.0, 22.5, 33.0, 45.0, 70.0, 88.0] {
        let n = (7200.0 / period_s).round() as usize;
        let d = dominant_period(&cfg, &train(period_s, n, 0.0))
            .unwrap()
            .unwrap();
        let f = 1.0 / period_s;
        assert!(
            (d.frequency_hz - f).abs() <= 1.0 / cfg.window_s,
            "period {period_s} s: found {d:?}"
        );
    }
}

/// Oracle: the same windows, framed by hand, through an O(N²) DFT.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::needless_range_loop
)]
fn direct_power(cfg: &SpectralConfig, onsets: &[f64]) -> Vec<f64> {
    let n = cfg.window_bins().unwrap();
    let hop = n / 2;
    let t0 = onsets[0] - hop as f64 * cfg.bin_s;
    let bins: Vec<usize> = onsets
        .iter()
        .map(|t| ((t - t0) / cfg.bin_s).floor() as usize)
        .collect();
    let last = *bins.last().unwrap();
    let w: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
        .collect();
    let energy: f64 = w.iter().map(|x| x * x).sum();
    let mut sum = vec![0.0; n / 2 + 1];
    let mut used = 0;
    let mut start = 0;
    while start <= last {
        let mut x = vec![0.0; n];
        for &b in &bins {
            if b >= start && b < start + n {
                x[b - start] += 1.0;
            }
        }
        let count: f64 = x.iter().sum();
        if count >= f64::from(cfg.min_onsets_per_window) {
            let mean = count / n as f64;
            for k in 0..=n / 2 {
                let (mut re, mut im) = (0.0, 0.0);
                for (j, (xj, wj)) in x.iter().zip(&w).enumerate() {
                    let a = -std::f64::consts::TAU * (k * j % n) as f64 / n as f64;
                    re += (xj - mean) * wj * a.cos();
                    im += (xj - mean) * wj * a.sin();
                }
                sum[k] += (re * re + im * im) / energy;
            }
            used += 1;
        }
        start += hop;
    }
    sum.iter().map(|p| p / f64::from(used)).collect()
}

#[test]
fn the_fft_path_equals_a_direct_dft() {
    // Small windows keep the O(N²) oracle quick: 64 s of 0.5 s bins (N = 128).
    let cfg = SpectralConfig {
        window_s: 64.0,
        max_period_s: 60.0,
        ..SpectralConfig::default()
    };
    // An irregular train with a long silence (windows skipped) in the middle.
    let mut onsets: Vec<f64> = (0..30)
        .map(|i| 3.7 + i as f64 * 11.3 + (i % 3) as f64)
        .collect();
    onsets.extend((0..20).map(|i| 2000.0 + i as f64 * 17.1));
    let mut s = OnsetSpectrum::new(&cfg).unwrap();
    for &t in &onsets {
        s.push(t);
    }
    s.finish();
    let fast: Vec<f64> = s.power().collect();
    let slow = direct_power(&cfg, &onsets);
    assert_eq!(fast.len(), slow.len());
    let scale = slow.iter().cloned().fold(0.0, f64::max);
    for (k, (a, b)) in fast.iter().zip(&slow).enumerate() {
        // Both sum 128 terms of size ≤ 1 in f64: rounding stays near 1e-13 of the peak;
        // 1e-9 leaves room and still catches any framing or windowing mistake.
        assert!((a - b).abs() <= 1e-9 * scale, "bin {k}: fft {a}, dft {b}");
    }
}

#[test]
fn jittered_trains_keep_their_period() {
    // 30 s period, each onset moved by up to ±3 s (a fixed, spread pattern), over 3 h.
    let cfg = SpectralConfig::default();
    let jitter = [0.0, 2.1, -1.4, 2.9, -2.7, 0.8, -0.3, 1.6, -2.2, 2.5, -0.9];
    let onsets: Vec<f64> = (0..360)
        .map(|i| 50.0 + i as f64 * 30.0 + jitter[i % jitter.len()])
        .collect();
    let d = dominant_period(&cfg, &onsets).unwrap().unwrap();
    assert!(
        (d.frequency_hz - 1.0 / 30.0).abs() <= 1.0 / cfg.window_s,
        "{d:?}"
    );
}

#[test]
fn irregular_onsets_show_no_strong_peak() {
    // Exponential gaps (mean 30 s) from a fixed linear congruential sequence: a Poisson
    // train has a flat expected spectrum, so its highest band bin stays within a few
    // times the band mean (the max of ~90 bins, each averaged over ~25 windows), far
    // from the > 10 of periodic trains above. No period is reported.
    let cfg = SpectralConfig::default();
    let lenient = SpectralConfig {
        min_peak_to_mean: 0.0,
        ..SpectralConfig::default()
    };
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut t = 0.0;
    let onsets: Vec<f64> = (0..400)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let u = ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            t += -30.0 * u.ln();
            t
        })
        .collect();
    let d = dominant_period(&lenient, &onsets).unwrap().unwrap();
    assert!(d.peak_to_mean < 2.0, "{d:?}");
    assert_eq!(dominant_period(&cfg, &onsets).unwrap(), None);
}

#[test]
fn no_movements_or_too_few_give_none() {
    let cfg = SpectralConfig::default();
    assert_eq!(dominant_period(&cfg, &[]).unwrap(), None);
    // Three onsets: no window reaches four.
    assert_eq!(dominant_period(&cfg, &[10.0, 40.0, 70.0]).unwrap(), None);
}

#[test]
fn epoch_times_give_the_same_spectrum_as_relative_ones() {
    let cfg = SpectralConfig::default();
    let rel = train(25.0, 200, 0.0);
    let abs: Vec<f64> = rel.iter().map(|t| t + 1.7e9).collect();
    let a = dominant_period(&cfg, &rel).unwrap().unwrap();
    let b = dominant_period(&cfg, &abs).unwrap().unwrap();
    assert_eq!(a, b);
}

#[test]
fn reset_then_replay_gives_the_same_and_late_onsets_are_counted() {
    let cfg = SpectralConfig::default();
    let onsets = train(40.0, 100, 0.0);
    let mut s = OnsetSpectrum::new(&cfg).unwrap();
    for &t in &onsets {
        s.push(t);
    }
    let first = s.finish();
    s.reset();
    for &t in &onsets {
        s.push(t);
    }
    assert_eq!(s.finish(), first);
    s.reset();
    s.push(5000.0);
    s.push(1.0);
    s.push(f64::NAN);
    assert_eq!(s.n_ignored(), 2);
}

#[test]
fn bad_configs_are_refused() {
    let bad = [
        SpectralConfig {
            bin_s: 0.0,
            ..SpectralConfig::default()
        },
        SpectralConfig {
            min_period_s: 95.0,
            ..SpectralConfig::default()
        },
        SpectralConfig {
            min_period_s: 0.6,
            ..SpectralConfig::default()
        },
        SpectralConfig {
            max_period_s: 2000.0,
            ..SpectralConfig::default()
        },
        SpectralConfig {
            window_s: 1.0,
            ..SpectralConfig::default()
        },
    ];
    for c in bad {
        assert!(OnsetSpectrum::new(&c).is_err(), "{c:?}");
    }
}
