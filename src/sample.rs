//! The unit of input: one timestamped 3-axis acceleration.

use serde::{Deserialize, Serialize};

/// One accelerometer reading.
///
/// Time is f64 seconds so that Unix epoch times (about 1.7e9 s) keep sub-microsecond
/// resolution; acceleration is in g (1 g = 9.80665 m/s²) along the sensor's own x, y, z axes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Time of the reading, in seconds on the input's clock (relative or Unix epoch).
    pub t_s: f64,
    /// Acceleration along the sensor's x, y and z axes, in g.
    pub acc_g: [f64; 3],
}

impl Sample {
    /// A sample at `t_s` seconds with acceleration `acc_g` in g.
    pub const fn new(t_s: f64, acc_g: [f64; 3]) -> Self {
        Sample { t_s, acc_g }
    }

    /// Length of the acceleration vector, in g (about 1 when the sensor is still).
    pub fn norm_g(&self) -> f64 {
        let [x, y, z] = self.acc_g;
        (x * x + y * y + z * z).sqrt()
    }
}

/// Standard gravity, in m/s² per g (3rd CGPM, 1901).
pub const STANDARD_GRAVITY_MPS2: f64 = 9.80665;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_of_a_3_4_0_vector_is_5() {
        let s = Sample::new(0.0, [3.0, 4.0, 0.0]);
        assert!((s.norm_g() - 5.0).abs() < 1e-12);
    }
}
