//! Dominant period of the leg-movement onset train, from a Welch-averaged spectrum (rustfft).
//!
//! PLMs repeat every 10–90 s (`domain.md` §2.3, §3); in RLS the IMI histogram peaks near
//! 15–30 s (§4.2). This module finds the period at which a night's LM onsets repeat most
//! strongly, with bounded state so the streaming detector can run it:
//!
//! 1. **Train.** Each onset adds 1 to the bin `floor((t − t0) / bin_s)` of a count train
//!    sampled every `bin_s` seconds (default 0.5 s, i.e. 2 Hz; Nyquist 1 Hz, ten times the
//!    highest PLM rate of 0.1 Hz).
//! 2. **Windows.** The train is cut into windows of `window_s` seconds (default 1024 s,
//!    2048 bins) overlapping by half. `t0` sits half a window before the first onset, so every
//!    onset falls in two windows whose Hann weights sum to 1 (constant overlap-add).
//! 3. **Per window** with at least `min_onsets_per_window` onsets (default 4, a series'
//!    minimum; emptier windows say nothing about periodicity and are skipped): subtract the
//!    window's mean, multiply by a periodic Hann window `w[n] = 0.5 − 0.5 cos(2πn/N)`, take a
//!    forward FFT `X[k] = Σ x[n] e^{−2πikn/N}` (RustFFT's convention: no normalisation), and
//!    add the one-sided power `|X[k]|² / Σ w[n]²` for `k = 0..=N/2`.
//! 4. **Average** over the windows used (Welch's method); bin `k` is at `k / window_s` Hz
//!    (`k / (N · bin_s)`; 0.000977 Hz by default).
//! 5. **Peak** in the band `1/max_period_s ..= 1/min_period_s` Hz (10–90 s), refined by a
//!    parabola through the log power of the peak bin and its neighbours (at most half a bin).
//!
//! Memory is fixed by the config (one window of counts, one complex buffer, FFT scratch, the
//! power sum: about 100 kB by default) and nothing is allocated per onset or per window.
//!
//! Windows of 17 minutes resolve 0.001 Hz: a 25 s period (0.04 Hz) to about ±0.3 s, a 60 s
//! one to about ±1.8 s before refinement. Averaging short windows rather than one night-long
//! transform is deliberate: PLM periods drift across a night and jitter from one movement to
//! the next, so a night-long line would be smeared anyway, while short windows keep memory
//! fixed.

use std::fmt;
use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Settings of the onset-train spectrum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpectralConfig {
    /// Width of one bin of the count train, in seconds (0.5 s: sampled at 2 Hz).
    pub bin_s: f64,
    /// Length of one analysis window, in seconds (1024 s); windows overlap by half.
    pub window_s: f64,
    /// Fewest onsets a window needs to enter the average (4: the fewest a series has).
    pub min_onsets_per_window: u32,
    /// Shortest period searched, in seconds (10 s: the WASM IMI floor, `domain.md` §3.2).
    pub min_period_s: f64,
    /// Longest period searched, in seconds (90 s: the IMI ceiling of both rules).
    pub max_period_s: f64,
    /// Least ratio of peak power to the band's mean power for a period to be reported (3).
    ///
    /// An irregular (Poisson) train has a flat expected spectrum and its highest band bin
    /// stays near the mean (1.1 in the test with 400 onsets); strictly or jittered periodic
    /// trains give 10 and more. Three separates the two with room on both sides.
    pub min_peak_to_mean: f64,
}

impl Default for SpectralConfig {
    fn default() -> Self {
        SpectralConfig {
            bin_s: 0.5,
            window_s: 1024.0,
            min_onsets_per_window: 4,
            min_period_s: 10.0,
            max_period_s: 90.0,
            min_peak_to_mean: 3.0,
        }
    }
}

impl SpectralConfig {
    /// Number of bins per window, `window_s / bin_s` rounded to the nearest even number.
    ///
    /// # Errors
    /// When the config fails [`SpectralConfig::validate`].
    pub fn window_bins(&self) -> Result<usize, ConfigError> {
        self.validate()?;
        let half = (self.window_s / self.bin_s / 2.0).round();
        // validate() bounds window_s / bin_s to 4..=2^20, so `half` is a small positive integer.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let half = half as usize;
        Ok(2 * half)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// A field that is not finite and positive, `min_period_s ≥ max_period_s`, a window of
    /// fewer than 4 or more than 2^20 bins, or a band above the Nyquist frequency
    /// (`min_period_s < 2 · bin_s`) or below one bin (`max_period_s > window_s`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, v) in [
            ("bin_s", self.bin_s),
            ("window_s", self.window_s),
            ("min_period_s", self.min_period_s),
            ("max_period_s", self.max_period_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(ConfigError::new(
                    field,
                    v,
                    "must be a finite number of seconds > 0",
                ));
            }
        }
        if !(self.min_peak_to_mean.is_finite() && self.min_peak_to_mean >= 0.0) {
            return Err(ConfigError::new(
                "min_peak_to_mean",
                self.min_peak_to_mean,
                "must be a finite ratio ≥ 0",
            ));
        }
        let n = self.window_s / self.bin_s;
        if !(4.0..=1_048_576.0).contains(&n) {
            return Err(ConfigError::new(
                "window_s",
                self.window_s,
                format!("must hold 4 to 2^20 bins of bin_s = {} s", self.bin_s),
            ));
        }
        if self.min_period_s >= self.max_period_s {
            return Err(ConfigError::new(
                "min_period_s",
                self.min_period_s,
                format!("must be below max_period_s = {}", self.max_period_s),
            ));
        }
        if self.min_period_s < 2.0 * self.bin_s {
            return Err(ConfigError::new(
                "min_period_s",
                self.min_period_s,
                format!(
                    "must be at least two bins (2 × bin_s = {} s) to lie below Nyquist",
                    2.0 * self.bin_s
                ),
            ));
        }
        if self.max_period_s > self.window_s {
            return Err(ConfigError::new(
                "max_period_s",
                self.max_period_s,
                format!("must fit in one window, window_s = {} s", self.window_s),
            ));
        }
        Ok(())
    }
}

/// The strongest period of an onset train.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DominantPeriod {
    /// Frequency of the peak, in Hz, refined between bins.
    pub frequency_hz: f64,
    /// Its period, `1 / frequency_hz`, in seconds.
    pub period_s: f64,
    /// Frequency of the peak bin itself, in Hz (`k / window_s`).
    pub bin_frequency_hz: f64,
    /// Power of the peak bin over the mean power of the band's bins (1 for a flat spectrum).
    pub peak_to_mean: f64,
    /// Number of windows averaged.
    pub n_windows: u32,
}

/// Streaming Welch spectrum of an onset train: push onsets in time order, read the dominant
/// period at the end (conventions in the [module docs](self)).
#[derive(Clone)]
pub struct OnsetSpectrum {
    cfg: SpectralConfig,
    n_bins: usize,
    hop: usize,
    fft: Arc<dyn Fft<f64>>,
    /// Hann window, `n_bins` long.
    window: Vec<f64>,
    /// Σ w\[n\]², the power normalisation.
    window_energy: f64,
    /// Counts of the current window.
    counts: Vec<f64>,
    /// FFT buffer and scratch, sized once.
    buffer: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// Sum of one-sided power over used windows, `n_bins / 2 + 1` long.
    power_sum: Vec<f64>,
    n_windows: u32,
    /// Time of bin 0 of window 0, once the first onset set it.
    t0_s: Option<f64>,
    /// Index of the current window (its first bin is `window_idx · hop`).
    window_idx: u64,
    /// Onsets in the first and second half of the current window.
    n_first_half: u32,
    n_second_half: u32,
    /// Onsets ignored because they came before the current window (out of order).
    n_late: u64,
}

impl fmt::Debug for OnsetSpectrum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnsetSpectrum")
            .field("cfg", &self.cfg)
            .field("n_bins", &self.n_bins)
            .field("n_windows", &self.n_windows)
            .field("t0_s", &self.t0_s)
            .field("window_idx", &self.window_idx)
            .finish_non_exhaustive()
    }
}

impl OnsetSpectrum {
    /// An empty spectrum; plans the FFT and sizes every buffer.
    ///
    /// # Errors
    /// When `cfg` fails [`SpectralConfig::validate`].
    pub fn new(cfg: &SpectralConfig) -> Result<Self, ConfigError> {
        let n = cfg.window_bins()?;
        let fft = FftPlanner::<f64>::new().plan_fft_forward(n);
        let window: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
            .collect();
        let window_energy = window.iter().map(|w| w * w).sum();
        let scratch_len = fft.get_inplace_scratch_len();
        Ok(OnsetSpectrum {
            cfg: cfg.clone(),
            n_bins: n,
            hop: n / 2,
            fft,
            window,
            window_energy,
            counts: vec![0.0; n],
            buffer: vec![Complex::default(); n],
            scratch: vec![Complex::default(); scratch_len],
            power_sum: vec![0.0; n / 2 + 1],
            n_windows: 0,
            t0_s: None,
            window_idx: 0,
            n_first_half: 0,
            n_second_half: 0,
            n_late: 0,
        })
    }

    /// Adds one onset (seconds on the input's clock). Onsets must come in time order; a
    /// non-finite one, or one earlier than the current window, is counted in
    /// [`OnsetSpectrum::n_ignored`] and otherwise ignored.
    pub fn push(&mut self, onset_s: f64) {
        if !onset_s.is_finite() {
            self.n_late += 1;
            return;
        }
        let half_window_s = self.hop as f64 * self.cfg.bin_s;
        let t0 = *self.t0_s.get_or_insert(onset_s - half_window_s);
        let Some(bin) = bin_index((onset_s - t0) / self.cfg.bin_s) else {
            self.n_late += 1;
            return;
        };
        let hop = self.hop as u64;
        let start = self.window_idx.saturating_mul(hop);
        if bin < start {
            self.n_late += 1;
            return;
        }
        // Close every window that ends at or before this bin.
        while bin >= self.window_idx.saturating_mul(hop).saturating_add(2 * hop) {
            self.advance();
        }
        let offset = bin - self.window_idx * hop;
        // offset < 2·hop = n_bins by the loop above, so the index is in range.
        if let Some(c) = usize::try_from(offset)
            .ok()
            .and_then(|o| self.counts.get_mut(o))
        {
            *c += 1.0;
            if offset < hop {
                self.n_first_half += 1;
            } else {
                self.n_second_half += 1;
            }
        }
    }

    /// Number of onsets ignored (non-finite or out of order).
    pub fn n_ignored(&self) -> u64 {
        self.n_late
    }

    /// Closes the last windows and returns the dominant period, `None` when no window held
    /// enough onsets or no peak reached `min_peak_to_mean`. The spectrum stays readable until [`OnsetSpectrum::reset`].
    pub fn finish(&mut self) -> Option<DominantPeriod> {
        // The current window and the one after it (which holds its second half) may hold onsets.
        if self.t0_s.is_some() {
            self.advance();
            self.advance();
        }
        self.dominant()
    }

    /// The dominant period of the windows closed so far.
    pub fn dominant(&self) -> Option<DominantPeriod> {
        if self.n_windows == 0 {
            return None;
        }
        let window_s = self.n_bins as f64 * self.cfg.bin_s;
        let k_lo = (window_s / self.cfg.max_period_s).ceil().max(1.0);
        let k_hi = (window_s / self.cfg.min_period_s).floor();
        let band = bin_index(k_lo)?..=bin_index(k_hi)?;
        let powers = self
            .power_sum
            .get(usize::try_from(*band.start()).ok()?..=usize::try_from(*band.end()).ok()?)?;
        let (max_rel, &max_power) = powers
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        if max_power <= 0.0 {
            return None;
        }
        let mean = powers.iter().sum::<f64>() / powers.len() as f64;
        let floor = self.cfg.min_peak_to_mean * mean;
        if max_power < floor {
            return None;
        }
        let (rel, peak) = fundamental(powers, max_rel, k_lo, floor);
        let k = k_lo + rel as f64;
        // Parabolic refinement on log power, from the neighbours (inside or outside the band).
        let idx = usize::try_from(*band.start()).ok()? + rel;
        let delta = match (
            idx.checked_sub(1).and_then(|i| self.power_sum.get(i)),
            self.power_sum.get(idx + 1),
        ) {
            (Some(&a), Some(&c)) if a > 0.0 && c > 0.0 => {
                let (la, lb, lc) = (a.ln(), peak.ln(), c.ln());
                let denom = la - 2.0 * lb + lc;
                if denom < 0.0 {
                    (0.5 * (la - lc) / denom).clamp(-0.5, 0.5)
                } else {
                    0.0
                }
            }
            _ => 0.0,
        };
        let frequency_hz = (k + delta) / window_s;
        Some(DominantPeriod {
            frequency_hz,
            period_s: 1.0 / frequency_hz,
            bin_frequency_hz: k / window_s,
            peak_to_mean: peak / mean,
            n_windows: self.n_windows,
        })
    }

    /// The averaged one-sided power spectrum so far, bin `k` at [`OnsetSpectrum::bin_hz`]`(k)`;
    /// empty when no window was used.
    pub fn power(&self) -> impl Iterator<Item = f64> + '_ {
        let n = f64::from(self.n_windows.max(1));
        self.power_sum
            .iter()
            .take(if self.n_windows == 0 { 0 } else { usize::MAX })
            .map(move |p| p / n)
    }

    /// Frequency of bin `k`, in Hz: `k / window_s`.
    pub fn bin_hz(&self, k: usize) -> f64 {
        k as f64 / (self.n_bins as f64 * self.cfg.bin_s)
    }

    /// Forgets every onset and window; keeps the plan and buffers.
    pub fn reset(&mut self) {
        self.counts.fill(0.0);
        self.power_sum.fill(0.0);
        self.n_windows = 0;
        self.t0_s = None;
        self.window_idx = 0;
        self.n_first_half = 0;
        self.n_second_half = 0;
        self.n_late = 0;
    }

    /// Adds the current window to the average if it holds enough onsets, then slides by half.
    fn advance(&mut self) {
        if self.n_first_half + self.n_second_half >= self.cfg.min_onsets_per_window {
            self.add_window();
        }
        self.counts.copy_within(self.hop.., 0);
        if let Some(upper) = self.counts.get_mut(self.hop..) {
            upper.fill(0.0);
        }
        self.n_first_half = self.n_second_half;
        self.n_second_half = 0;
        self.window_idx += 1;
    }

    fn add_window(&mut self) {
        let mean = self.counts.iter().sum::<f64>() / self.n_bins as f64;
        for ((b, c), w) in self.buffer.iter_mut().zip(&self.counts).zip(&self.window) {
            *b = Complex::new((c - mean) * w, 0.0);
        }
        self.fft
            .process_with_scratch(&mut self.buffer, &mut self.scratch);
        for (p, x) in self.power_sum.iter_mut().zip(&self.buffer) {
            *p += x.norm_sqr() / self.window_energy;
        }
        self.n_windows += 1;
    }
}

/// Share of the highest peak's power a sub-harmonic needs to be taken as the fundamental.
///
/// A train of identical pulses has lines of equal height at every harmonic of its rate
/// (a Dirac comb), so the highest bin of a 45 s train may be its 22.5 s harmonic. Timing
/// jitter lowers higher harmonics, so the fundamental is then at least as high as they are;
/// a bin that falls between two lines loses up to 1.42 dB (Hann scalloping, a factor 0.72).
/// Half the peak accepts both, while a true 22.5 s train has only the noise floor at 45 s
/// (periodic trains show peaks 10× the band mean and more, see the tests).
const SUBHARMONIC_SHARE: f64 = 0.5;

/// From the highest bin `max_rel` of `powers` (band-relative; the band's first bin is `k_lo`
/// in absolute bins), the lowest sub-harmonic `max/m` (m = 2, 3, …, still inside the band)
/// holding at least [`SUBHARMONIC_SHARE`] of its power and at least `floor` (the power a
/// reported peak needs), searched ±1 bin; else `max_rel`.
fn fundamental(powers: &[f64], max_rel: usize, k_lo: f64, floor: f64) -> (usize, f64) {
    let peak = powers.get(max_rel).copied().unwrap_or(0.0);
    let k_max = k_lo + max_rel as f64;
    let mut best = (max_rel, peak);
    for m in 2..=16u32 {
        let k_sub = k_max / f64::from(m);
        if k_sub + 1.0 < k_lo {
            break;
        }
        let centre = (k_sub - k_lo).round();
        let candidates = [centre - 1.0, centre, centre + 1.0];
        let found = candidates
            .iter()
            .filter_map(|&r| bin_index(r))
            .filter_map(|r| usize::try_from(r).ok())
            .filter_map(|r| powers.get(r).map(|p| (r, *p)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((r, p)) = found {
            if p >= SUBHARMONIC_SHARE * peak && p >= floor && r < best.0 {
                best = (r, p);
            }
        }
    }
    best
}

/// The dominant period of a whole list of onsets (seconds, sorted), in one call.
///
/// # Errors
/// When `cfg` fails [`SpectralConfig::validate`].
pub fn dominant_period(
    cfg: &SpectralConfig,
    onsets_s: &[f64],
) -> Result<Option<DominantPeriod>, ConfigError> {
    let mut s = OnsetSpectrum::new(cfg)?;
    for &t in onsets_s {
        s.push(t);
    }
    Ok(s.finish())
}

/// `floor(x)` as a bin index; `None` for negative, non-finite or absurdly large `x`.
fn bin_index(x: f64) -> Option<u64> {
    if x.is_finite() && (0.0..9.0e15).contains(&x) {
        // Checked just above: finite, non-negative and below 2^53, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(x.floor() as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
