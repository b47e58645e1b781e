//! Fixed-memory distributions: the IMI histogram and quantiles on a 10 ms grid.

use serde::{Deserialize, Serialize};

/// IMI histogram bin width, in seconds (`domain.md` §4.2).
pub const IMI_BIN_S: f64 = 2.0;
/// Upper end of the IMI histogram, in seconds; longer IMIs go to the overflow count.
pub const IMI_MAX_S: f64 = 90.0;
/// Number of IMI histogram bins (45 bins of 2 s over 0–90 s).
pub const IMI_N_BINS: usize = 45;

/// Histogram of IMIs in sleep: 2 s bins over 0–90 s plus an overflow count (`domain.md` §4.2).
///
/// Bin `i` holds IMIs in `[2i, 2i + 2)` s; the last bin is closed, `[88, 90]`, so that an
/// IMI of exactly 90 s (inside the series window) is not an overflow. Edges are compared
/// within [`TIME_TOLERANCE_S`](crate::series::TIME_TOLERANCE_S), as the series rules are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImiHistogram {
    /// Width of each bin, in seconds (2).
    pub bin_width_s: f64,
    /// Count per bin, from 0 s up.
    pub counts: Vec<u32>,
    /// IMIs above 90 s.
    pub n_overflow: u32,
}

impl Default for ImiHistogram {
    fn default() -> Self {
        ImiHistogram {
            bin_width_s: IMI_BIN_S,
            counts: vec![0; IMI_N_BINS],
            n_overflow: 0,
        }
    }
}

impl ImiHistogram {
    /// Counts one IMI (seconds); negative or non-finite IMIs are not counted.
    pub fn push(&mut self, imi_s: f64) {
        let tol = crate::series::TIME_TOLERANCE_S;
        if !(imi_s.is_finite() && imi_s >= -tol) {
            return;
        }
        if imi_s > IMI_MAX_S + tol {
            self.n_overflow = self.n_overflow.saturating_add(1);
            return;
        }
        let i = ((imi_s + tol) / IMI_BIN_S)
            .floor()
            .clamp(0.0, (IMI_N_BINS - 1) as f64);
        // Clamped to 0..=44 just above.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = i as usize;
        if let Some(c) = self.counts.get_mut(i) {
            *c = c.saturating_add(1);
        }
    }

    /// Number of IMIs counted, overflow included.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum::<u64>() + u64::from(self.n_overflow)
    }

    /// Earth mover's distance between the two normalised histograms, in seconds.
    ///
    /// How far, on average, IMI mass must move to turn one histogram into the other:
    /// `bin_width_s · Σ_i |P_i − Q_i|` over the cumulative shares P, Q, with the overflow as
    /// one more bin just above 90 s. `None` when either histogram is empty.
    pub fn emd_s(&self, other: &ImiHistogram) -> Option<f64> {
        let (n, m) = (self.total(), other.total());
        if n == 0 || m == 0 {
            return None;
        }
        let (mut p, mut q, mut d) = (0.0, 0.0, 0.0);
        for (a, b) in self.counts.iter().zip(&other.counts) {
            p += f64::from(*a) / n as f64;
            q += f64::from(*b) / m as f64;
            d += (p - q).abs();
        }
        Some(d * self.bin_width_s)
    }

    /// Total variation distance between the two normalised histograms, from 0 to 1 (half
    /// the L1 distance, overflow as a bin); `None` when either is empty.
    pub fn total_variation(&self, other: &ImiHistogram) -> Option<f64> {
        let (n, m) = (self.total() as f64, other.total() as f64);
        if n == 0.0 || m == 0.0 {
            return None;
        }
        let bins: f64 = self
            .counts
            .iter()
            .zip(&other.counts)
            .map(|(a, b)| (f64::from(*a) / n - f64::from(*b) / m).abs())
            .sum();
        let over = (f64::from(self.n_overflow) / n - f64::from(other.n_overflow) / m).abs();
        Some(0.5 * (bins + over))
    }
}

/// Quantiles of values on a 10 ms grid over `0..=max_s`, in fixed memory.
///
/// Each value is rounded to the nearest 10 ms (an error of at most 5 ms, half a sample at
/// 100 Hz) and counted; values above `max_s` only raise the overflow count. Quantiles follow
/// the common "type 7" definition (linear between order statistics `h = (n − 1) p`).
#[derive(Clone, Debug)]
pub(crate) struct GridQuantiles {
    counts: Vec<u32>,
    n_over: u64,
    n: u64,
}

/// Grid steps per second (10 ms).
const GRID_PER_S: f64 = 100.0;

impl GridQuantiles {
    pub(crate) fn new(max_s: f64) -> Self {
        let bins = (max_s * GRID_PER_S).round().max(0.0) + 1.0;
        // A small constant (3001 or 9001) from the two call sites.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bins = bins as usize;
        GridQuantiles {
            counts: vec![0; bins],
            n_over: 0,
            n: 0,
        }
    }

    pub(crate) fn push(&mut self, x: f64) {
        if !(x.is_finite() && x >= 0.0) {
            return;
        }
        self.n += 1;
        let i = (x * GRID_PER_S).round();
        if i >= self.counts.len() as f64 {
            self.n_over += 1;
            return;
        }
        // 0 ≤ i < counts.len() checked above.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = i as usize;
        if let Some(c) = self.counts.get_mut(i) {
            *c = c.saturating_add(1);
        }
    }

    /// The `j`-th smallest value (from 0), `None` past the grid.
    pub(crate) fn order_stat(&self, j: u64) -> Option<f64> {
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen > j {
                return Some(i as f64 / GRID_PER_S);
            }
        }
        None
    }

    pub(crate) fn quantile(&self, p: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let h = (self.n - 1) as f64 * p;
        let lo = h.floor();
        let frac = h - lo;
        // 0 ≤ lo ≤ n − 1 since 0 ≤ p ≤ 1 at every call site.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let lo = lo as u64;
        let a = self.order_stat(lo)?;
        if frac == 0.0 {
            return Some(a);
        }
        let b = self.order_stat(lo + 1)?;
        Some(a + frac * (b - a))
    }

    pub(crate) fn reset(&mut self) {
        self.counts.fill(0);
        self.n_over = 0;
        self.n = 0;
    }
}
