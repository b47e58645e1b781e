//! Naming movements: a detected movement becomes an event of one class.
//!
//! This first form decides from the movement alone (duration, sharpness, orientation
//! change); the context rules — sleep onset for jerks, periodic series for PLMs, wake for
//! activity — build on it.

use crate::segment::{Ending, Movement};
use crate::{Event, Kind};

/// Orientation change that makes a movement a posture change, in degrees.
const POSTURE_MIN_DEG: f64 = 20.0;
/// Shortest leg movement (WASM 2016 and AASM), in seconds.
const LM_MIN_S: f64 = 0.5;
/// Linear-channel peak a sub-0.5 s transient needs to count as a jerk, in g.
const JERK_MIN_G: f64 = 0.1;
/// Longest movement still called a leg movement rather than activity, in seconds.
const ACTIVITY_MIN_S: f64 = 60.0;

/// The class of a movement judged on its own.
pub(crate) fn kind_of(m: &Movement) -> Kind {
    let duration = m.offset_s - m.onset_s;
    if m.ending == Ending::Settled || m.angle_deg >= POSTURE_MIN_DEG {
        Kind::PostureChange
    } else if duration < LM_MIN_S {
        if m.peak_h_g >= JERK_MIN_G {
            Kind::HypnicJerk
        } else {
            Kind::Other
        }
    } else if duration > ACTIVITY_MIN_S {
        Kind::Activity
    } else {
        Kind::Lm
    }
}

/// The event for a movement, with its class and measurements.
pub(crate) fn to_event(m: &Movement) -> Event {
    let mut e = Event::new(m.onset_s, m.offset_s, kind_of(m));
    e.peak_g = m.peak_g;
    e.mean_g = m.mean_g;
    e.angle_deg = m.angle_deg;
    e.peak_jerk_g_per_s = m.peak_jerk_g_per_s;
    // Margin over the onset threshold: 1 at threshold → 0, doubling it → 0.63.
    e.confidence = 1.0 - (-(m.peak_score - 1.0).max(0.0)).exp();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(onset: f64, offset: f64) -> Movement {
        Movement {
            onset_s: onset,
            offset_s: offset,
            peak_score: 2.0,
            ..Movement::default()
        }
    }

    #[test]
    fn duration_angle_and_sharpness_decide() {
        assert_eq!(kind_of(&mv(0.0, 3.0)), Kind::Lm);
        assert_eq!(kind_of(&mv(0.0, 0.3)), Kind::Other);
        let mut j = mv(0.0, 0.3);
        j.peak_h_g = 0.5;
        assert_eq!(kind_of(&j), Kind::HypnicJerk);
        let mut p = mv(0.0, 4.0);
        p.angle_deg = 45.0;
        assert_eq!(kind_of(&p), Kind::PostureChange);
        assert_eq!(kind_of(&mv(0.0, 120.0)), Kind::Activity);
        let e = to_event(&mv(1.0, 2.0));
        assert!((e.confidence - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    }
}
