//! First-order recursive low-pass sections, the filters the signal path is built from.
//!
//! Why first-order sections: the movement signal needs a gravity estimate that follows
//! orientation changes of a second or so (leg movements last 0.5–10 s) and rejects sensor
//! noise; a cascade of two identical one-pole sections does that with one multiply-add per
//! stage and axis, a monotone step response (no overshoot, so a step of orientation never
//! reads as a movement back), and coefficients that stay far from the unit circle (at
//! 2 Hz and 100 Hz the pole is 0.88), so f32 state is exact enough. A Butterworth biquad
//! would roll off faster but rings on steps and costs five multiplies.
//!
//! Conventions: `alpha = 1 − exp(−2π·fc/fs)` (the pole of the matched z-transform of an RC
//! low-pass, `p = 1 − alpha`); unit gain at DC; one section is −3 dB at about `fc` when
//! `fc ≪ fs` (exactly where `|H| = 1/√2`, see `OnePole::gain_at` in the tests).

use crate::ConfigError;

/// A one-pole low-pass section: `y[n] = y[n−1] + alpha·(x[n] − y[n−1])`.
///
/// The coefficient is config (it never changes during a run); the state `y` belongs to the
/// caller, so one section drives any number of channels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct OnePole {
    /// Smoothing coefficient in (0, 1].
    pub(crate) alpha: f32,
}

impl OnePole {
    /// A section with corner `cutoff_hz` at `sample_rate_hz`.
    ///
    /// # Errors
    /// When the corner is not positive and finite, or not below Nyquist.
    pub(crate) fn new(
        field: &'static str,
        cutoff_hz: f64,
        sample_rate_hz: f64,
    ) -> Result<Self, ConfigError> {
        let nyquist = sample_rate_hz / 2.0;
        if !(cutoff_hz > 0.0 && cutoff_hz.is_finite()) {
            return Err(ConfigError::new(
                field,
                cutoff_hz,
                "must be a positive frequency in Hz",
            ));
        }
        if cutoff_hz >= nyquist {
            return Err(ConfigError::new(
                field,
                cutoff_hz,
                format!("must be below Nyquist, {nyquist} Hz"),
            ));
        }
        Ok(OnePole::from_alpha(Self::alpha_for(
            cutoff_hz,
            sample_rate_hz,
        )))
    }

    /// A section with a time constant of `tau_s` seconds, updated at `update_rate_hz`.
    pub(crate) fn from_time_constant(tau_s: f64, update_rate_hz: f64) -> Self {
        let alpha = 1.0 - (-1.0 / (tau_s * update_rate_hz)).exp();
        OnePole::from_alpha(alpha)
    }

    fn alpha_for(cutoff_hz: f64, sample_rate_hz: f64) -> f64 {
        1.0 - (-std::f64::consts::TAU * cutoff_hz / sample_rate_hz).exp()
    }

    #[allow(clippy::cast_possible_truncation)] // alpha is in (0, 1]: f32 keeps 7 digits of it
    fn from_alpha(alpha: f64) -> Self {
        OnePole {
            alpha: alpha as f32,
        }
    }

    /// Advances the state `y` by one input `x` and returns the new output.
    #[inline(always)]
    pub(crate) fn step(self, y: &mut f32, x: f32) -> f32 {
        *y += self.alpha * (x - *y);
        *y
    }

    /// Advances an f64 state (for slow, block-rate uses where precision matters more).
    #[inline]
    pub(crate) fn step_f64(self, y: &mut f64, x: f64) -> f64 {
        *y += f64::from(self.alpha) * (x - *y);
        *y
    }

    /// Magnitude of the section's frequency response at `f_hz`, for a sample rate `fs_hz`.
    ///
    /// `H(z) = alpha / (1 − (1 − alpha)·z⁻¹)` evaluated on the unit circle.
    #[cfg(test)]
    pub(crate) fn gain_at(self, f_hz: f64, fs_hz: f64) -> f64 {
        let a = f64::from(self.alpha);
        let p = 1.0 - a;
        let w = std::f64::consts::TAU * f_hz / fs_hz;
        let re = 1.0 - p * w.cos();
        let im = p * w.sin();
        a / (re * re + im * im).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    #[test]
    fn impulse_response_is_the_difference_equation() {
        // y[n] = y[n-1] + a (x[n] - y[n-1]) with x = δ: y[0] = a, y[n] = a (1-a)^n.
        let f = OnePole::new("f", 2.0, 100.0).unwrap();
        let a = f64::from(f.alpha);
        let mut y = 0.0f32;
        for n in 0..50 {
            let x = if n == 0 { 1.0 } else { 0.0 };
            let out = f64::from(f.step(&mut y, x));
            let want = a * (1.0 - a).powi(n);
            assert!((out - want).abs() < 1e-6, "n = {n}: {out} vs {want}");
        }
    }

    #[test]
    fn step_settles_to_one_without_overshoot() {
        let f = OnePole::new("f", 2.0, 100.0).unwrap();
        let (mut y1, mut y2) = (0.0f32, 0.0f32);
        let mut prev = 0.0;
        for _ in 0..500 {
            let out = f.step(&mut y2, f.step(&mut y1, 1.0));
            assert!(out >= prev && out <= 1.0);
            prev = out;
        }
        assert!((prev - 1.0).abs() < 1e-5);
    }

    #[test]
    fn frequency_response_table() {
        // (f_hz, expected_db, tol_db) for one section at fc = 2 Hz, fs = 100 Hz. Expected
        // values are the analog RC response 1/sqrt(1 + (f/fc)^2); the matched-z section
        // departs from it as f approaches Nyquist, hence the widening tolerances.
        let f = OnePole::new("f", 2.0, 100.0).unwrap();
        let rows = [
            (0.0, 0.0, 1e-9),
            (0.2, -0.043, 0.01),
            (2.0, -3.01, 0.15),
            (10.0, -14.15, 1.0),
        ];
        for (f_hz, want, tol) in rows {
            let got = db(f.gain_at(f_hz, 100.0));
            assert!(
                (got - want).abs() <= tol,
                "{f_hz} Hz: {got:.3} dB, want {want} ± {tol}"
            );
        }
    }

    #[test]
    fn sine_amplitude_matches_the_transfer_function() {
        let fs = 100.0;
        let f = OnePole::new("f", 2.0, fs).unwrap();
        for f_hz in [0.5, 2.0, 8.0] {
            let mut y = 0.0f32;
            let mut peak = 0.0f64;
            for n in 0..5000 {
                let x = (std::f64::consts::TAU * f_hz * f64::from(n) / fs).sin();
                #[allow(clippy::cast_possible_truncation)]
                let out = f64::from(f.step(&mut y, x as f32));
                if n > 2500 {
                    peak = peak.max(out.abs());
                }
            }
            let want = f.gain_at(f_hz, fs);
            assert!(
                (peak - want).abs() < 0.01 * want + 1e-3,
                "{f_hz} Hz: {peak} vs {want}"
            );
        }
    }

    #[test]
    fn bad_corners_are_refused_by_name() {
        let e = OnePole::new("gravity_cutoff_hz", 80.0, 100.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`gravity_cutoff_hz` = 80 must be below Nyquist, 50 Hz"
        );
        assert!(OnePole::new("x", 0.0, 100.0).is_err());
        assert!(OnePole::new("x", f64::NAN, 100.0).is_err());
    }

    #[test]
    fn time_constant_section_reaches_63_percent_after_tau() {
        let f = OnePole::from_time_constant(5.0, 20.0);
        let mut y = 0.0;
        for _ in 0..100 {
            f.step_f64(&mut y, 1.0);
        }
        assert!((y - (1.0 - (-1.0f64).exp())).abs() < 1e-3, "{y}");
    }
}
