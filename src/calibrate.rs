//! Calibration: per-axis offset and gain from still periods, fitted to the unit sphere.
//!
//! After van Hees et al. 2014 (domain.md §6): a window of 10 s in which every axis varies by
//! less than 13 mg is *still*; its mean vector should then have length 1 g. Still windows are
//! gathered as distinct orientations (nearby ones merged, at most 64, so memory is
//! fixed), and each new one triggers a least-squares fit:
//!
//! - **Full** (offset and gain per axis) when the sphere is populated — every axis has been
//!   seen beyond ±0.3 g on both sides — as the axis-aligned ellipsoid
//!   `A x² + B y² + C z² + D x + E y + F z = 1`, linear in its six unknowns and solved from the
//!   6 × 6 normal equations (nalgebra), then rewritten as `(a − o)·k` with unit length;
//! - **Offset only** when at least four orientations span enough directions that the
//!   centre is determined (checked by the singular values of the 4 × 4 system), as
//!   `|a − o|² = 1`, linear in `o` and `1 − |o|²`;
//! - otherwise nothing: the identity stays and the report says why. One night lying still
//!   rarely fills the sphere.
//!
//! A fit is kept only when it lowers the residual (RMS of |a| − 1 over the still points),
//! stays below `max_residual_g`, and its values are plausible (offsets within ±0.2 g, gains
//! within ±20 %). The correction is applied by the detector where geometry happens (see
//! the signal path in `gravity.rs` for why that equals correcting every sample).

use nalgebra::{SMatrix, SVector};
use serde::{Deserialize, Serialize};

use crate::config::CalibrationConfig;

/// Most distinct still orientations kept; more are merged into the nearest.
pub(crate) const MAX_POINTS: usize = 64;
/// Blocks whose sums are added in f32 before they join a window's f64 sums.
const FLUSH_BLOCKS: u32 = 10;
/// Still windows closer than this (in g, about 1.7°) are one orientation.
const MERGE_RADIUS_G: f64 = 0.03;
/// How far beyond zero each axis must be seen, both ways, for a full fit, in g.
const SPHERE_REACH_G: f64 = 0.3;

/// How far the calibration got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationStatus {
    /// Switched off in the config.
    Disabled,
    /// No still 10 s window yet: nothing to fit, the identity is used.
    #[default]
    NoStillPeriod,
    /// Still windows were found, but too few orientations to determine a fit.
    TooFewOrientations,
    /// Offsets fitted, gains left at 1 (the sphere is not populated).
    OffsetOnly,
    /// Offsets and gains fitted.
    Full,
}

/// The calibration in use and how it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// How far the fit got.
    pub status: CalibrationStatus,
    /// Offset subtracted from each axis, in g.
    pub offset_g: [f64; 3],
    /// Gain each axis is multiplied by after the offset, dimensionless.
    pub gain: [f64; 3],
    /// RMS of |a| − 1 over the still orientations before correction, in g.
    pub residual_before_g: f64,
    /// RMS of |a| − 1 over the still orientations after correction, in g.
    pub residual_after_g: f64,
    /// Still windows found.
    pub n_still_windows: u64,
    /// Distinct orientations among them.
    pub n_orientations: u32,
}

impl Default for CalibrationReport {
    fn default() -> Self {
        CalibrationReport {
            status: CalibrationStatus::NoStillPeriod,
            offset_g: [0.0; 3],
            gain: [1.0; 3],
            residual_before_g: 0.0,
            residual_after_g: 0.0,
            n_still_windows: 0,
            n_orientations: 0,
        }
    }
}

/// A per-axis affine correction `(a − offset)·gain`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Correction {
    pub(crate) offset_g: [f64; 3],
    pub(crate) gain: [f64; 3],
}

impl Default for Correction {
    fn default() -> Self {
        Correction {
            offset_g: [0.0; 3],
            gain: [1.0; 3],
        }
    }
}

impl Correction {
    /// Corrects a position (an acceleration vector), in g.
    pub(crate) fn apply(&self, a: [f64; 3]) -> [f64; 3] {
        [0, 1, 2].map(|i| (a[i] - self.offset_g[i]) * self.gain[i])
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Point {
    v: [f64; 3],
    weight: f64,
}

/// The calibration stage's state: the still-window accumulator and the orientations found.
#[derive(Clone, Debug)]
pub(crate) struct Calibrator {
    window_blocks: u32,
    still_sd_g: f64,
    max_residual_g: f64,
    enabled: bool,
    blocks: u32,
    /// Samples in the window so far.
    n: u32,
    s1: [f64; 3],
    s2: [f64; 3],
    /// The blocks' sums since the last flush into `s1` and `s2`, in the f32 lanes the blocks
    /// give them in (`[t, x, y, z]`, lane 0 unused): adding a block is two vector additions,
    /// and a flush every [`FLUSH_BLOCKS`] keeps each f32 sum to a few blocks' samples.
    pending: ([f32; 4], [f32; 4]),
    pending_blocks: u32,
    points: [Point; MAX_POINTS],
    n_points: usize,
    report: CalibrationReport,
    correction: Correction,
    /// The correction in use before the last change.
    previous: Correction,
    /// The squares of the correction's gains, kept with it, in the lanes of the signal path
    /// (`[t, x, y, z]`, lane 0 zero).
    gain2: [f32; 4],
}

/// Squared gains of the identity correction, in the signal path's lanes `[t, x, y, z]`.
pub(crate) const UNIT_GAIN2: [f32; 4] = [0.0, 1.0, 1.0, 1.0];

/// Squared gains in the signal path's lanes `[t, x, y, z]` (lane 0 zero), in f32: they scale
/// the f32 block sums (see `BlockSums::envelopes`).
#[allow(clippy::cast_possible_truncation)] // a plausible gain is within ±20 % of 1
fn gain2_lanes(gain: [f64; 3]) -> [f32; 4] {
    let [x, y, z] = gain.map(|k| (k * k) as f32);
    [0.0, x, y, z]
}

fn len3(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn residual(points: &[Point], c: &Correction) -> f64 {
    let (mut s, mut w) = (0.0, 0.0);
    for p in points {
        let e = len3(c.apply(p.v)) - 1.0;
        s += p.weight * e * e;
        w += p.weight;
    }
    if w > 0.0 {
        (s / w).sqrt()
    } else {
        0.0
    }
}

fn plausible(c: &Correction) -> bool {
    c.offset_g.iter().all(|o| o.is_finite() && o.abs() <= 0.2)
        && c.gain
            .iter()
            .all(|k| k.is_finite() && (0.8..=1.2).contains(k))
}

/// Offset and gain from the ellipsoid `A x² + B y² + C z² + D x + E y + F z = 1`.
fn fit_full(points: &[Point]) -> Option<Correction> {
    let mut ata = SMatrix::<f64, 6, 6>::zeros();
    let mut atb = SVector::<f64, 6>::zeros();
    for p in points {
        let [x, y, z] = p.v;
        let row = SVector::<f64, 6>::from([x * x, y * y, z * z, x, y, z]);
        ata += p.weight * row * row.transpose();
        atb += p.weight * row;
    }
    let u = ata.lu().solve(&atb)?;
    let (a, d) = ([u[0], u[1], u[2]], [u[3], u[4], u[5]]);
    if a.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return None;
    }
    let o = [0, 1, 2].map(|i| -d[i] / (2.0 * a[i]));
    let k = 1.0 + (0..3).map(|i| a[i] * o[i] * o[i]).sum::<f64>();
    if k.is_nan() || k <= 0.0 {
        return None;
    }
    Some(Correction {
        offset_g: o,
        gain: [0, 1, 2].map(|i| (a[i] / k).sqrt()),
    })
}

/// Offset only, from `|a − o|² = 1` written as `2 a·o + w = |a|²` with `w = 1 − |o|²`.
fn fit_offset(points: &[Point]) -> Option<Correction> {
    let mut ata = SMatrix::<f64, 4, 4>::zeros();
    let mut atb = SVector::<f64, 4>::zeros();
    for p in points {
        let [x, y, z] = p.v;
        let row = SVector::<f64, 4>::from([2.0 * x, 2.0 * y, 2.0 * z, 1.0]);
        ata += p.weight * row * row.transpose();
        atb += p.weight * row * (x * x + y * y + z * z);
    }
    // Orientations on a small cap leave the centre undetermined along the cap's axis: refuse
    // when the system is that close to singular.
    let sv = ata.singular_values();
    let (max, min) = (sv.max(), sv.min());
    if !(max > 0.0 && min / max > 1e-4) {
        return None;
    }
    let u = ata.lu().solve(&atb)?;
    Some(Correction {
        offset_g: [u[0], u[1], u[2]],
        gain: [1.0; 3],
    })
}

impl Calibrator {
    /// A calibrator for blocks of `block_s` seconds.
    pub(crate) fn new(cfg: &CalibrationConfig, block_s: f64) -> Self {
        Calibrator {
            window_blocks: crate::config::steps(cfg.window_s, block_s),
            still_sd_g: cfg.still_sd_g,
            max_residual_g: cfg.max_residual_g,
            enabled: cfg.enabled,
            blocks: 0,
            n: 0,
            s1: [0.0; 3],
            s2: [0.0; 3],
            pending: ([0.0; 4], [0.0; 4]),
            pending_blocks: 0,
            points: [Point::default(); MAX_POINTS],
            n_points: 0,
            report: CalibrationReport {
                status: if cfg.enabled {
                    CalibrationStatus::NoStillPeriod
                } else {
                    CalibrationStatus::Disabled
                },
                ..CalibrationReport::default()
            },
            correction: Correction::default(),
            previous: Correction::default(),
            gain2: UNIT_GAIN2,
        }
    }

    /// The correction in use.
    pub(crate) fn correction(&self) -> &Correction {
        &self.correction
    }

    /// The correction in use before the last change (the identity before any).
    pub(crate) fn previous_correction(&self) -> Correction {
        self.previous
    }

    /// The squares of the correction's gains (what scales squared envelopes), in the lanes
    /// of the signal path (`[t, x, y, z]`, lane 0 zero).
    #[inline(always)]
    pub(crate) fn gain2(&self) -> [f32; 4] {
        self.gain2
    }

    /// What the calibration has reached so far.
    pub(crate) fn report(&self) -> CalibrationReport {
        self.report
    }

    /// Abandons the window being gathered (a gap or a movement interrupts stillness).
    pub(crate) fn break_window(&mut self) {
        self.blocks = 0;
        self.n = 0;
        self.s1 = [0.0; 3];
        self.s2 = [0.0; 3];
        self.pending = ([0.0; 4], [0.0; 4]);
        self.pending_blocks = 0;
    }

    /// Takes one block of `n` samples; returns true when the correction changed.
    ///
    /// `sum_g` is the block's sum of values and `sum_g2` its sum of squared values, per axis
    /// in the lanes `[t, x, y, z]` (lane 0 unused; uncalibrated g and g²); the detector
    /// passes the gravity estimate's sums, with the squared deviations around it added to
    /// `sum_g2` (see `BlockSums::still_sums`).
    #[inline(always)]
    pub(crate) fn push_block(&mut self, n: u32, sum_g: [f32; 4], sum_g2: [f32; 4]) -> bool {
        if !self.enabled || n == 0 {
            return false;
        }
        let (p1, p2) = &mut self.pending;
        for i in 0..4 {
            p1[i] += sum_g[i];
            p2[i] += sum_g2[i];
        }
        self.pending_blocks += 1;
        self.n += n;
        self.blocks += 1;
        if self.blocks < self.window_blocks {
            if self.pending_blocks == FLUSH_BLOCKS {
                self.flush();
            }
            return false;
        }
        self.flush();
        self.close_window()
    }

    /// Adds the pending f32 sums to the window's f64 sums.
    #[inline(never)]
    fn flush(&mut self) {
        let (p1, p2) = &mut self.pending;
        for i in 0..3 {
            self.s1[i] += f64::from(p1[i + 1]);
            self.s2[i] += f64::from(p2[i + 1]);
        }
        self.pending = ([0.0; 4], [0.0; 4]);
        self.pending_blocks = 0;
    }

    /// A window is complete: keeps its mean as an orientation if it was still, and refits.
    #[inline(never)]
    fn close_window(&mut self) -> bool {
        let n = f64::from(self.n);
        let mean = self.s1.map(|s| s / n);
        let still = (0..3).all(|i| {
            let var = self.s2[i] / n - mean[i] * mean[i];
            var.max(0.0).sqrt() < self.still_sd_g
        });
        self.break_window();
        if !still {
            return false;
        }
        self.add_point(mean);
        self.refit()
    }

    fn add_point(&mut self, v: [f64; 3]) {
        self.report.n_still_windows += 1;
        let live = &mut self.points[..self.n_points];
        let nearest = live
            .iter_mut()
            .map(|p| {
                let d = len3([p.v[0] - v[0], p.v[1] - v[1], p.v[2] - v[2]]);
                (d, p)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        match nearest {
            Some((d, p)) if d < MERGE_RADIUS_G || self.n_points == MAX_POINTS => {
                let w = p.weight + 1.0;
                p.v = [0, 1, 2].map(|i| p.v[i] + (v[i] - p.v[i]) / w);
                p.weight = w;
            }
            _ => {
                if let Some(slot) = self.points.get_mut(self.n_points) {
                    *slot = Point { v, weight: 1.0 };
                    self.n_points += 1;
                }
            }
        }
        #[allow(clippy::cast_possible_truncation)] // at most MAX_POINTS
        let n = self.n_points as u32;
        self.report.n_orientations = n;
    }

    fn refit(&mut self) -> bool {
        let pts = &self.points[..self.n_points];
        let identity = Correction::default();
        let before = residual(pts, &identity);
        let populated = (0..3).all(|i| {
            pts.iter().any(|p| p.v[i] > SPHERE_REACH_G)
                && pts.iter().any(|p| p.v[i] < -SPHERE_REACH_G)
        });
        let candidate = if populated && pts.len() >= 6 {
            fit_full(pts).map(|c| (c, CalibrationStatus::Full))
        } else {
            None
        }
        .or_else(|| {
            if pts.len() >= 4 {
                fit_offset(pts).map(|c| (c, CalibrationStatus::OffsetOnly))
            } else {
                None
            }
        });
        self.report.residual_before_g = before;
        let current_after = residual(pts, &self.correction);
        match candidate {
            Some((c, status)) if plausible(&c) => {
                let after = residual(pts, &c);
                if after < before && after <= self.max_residual_g {
                    let changed = c != self.correction;
                    self.previous = self.correction;
                    self.correction = c;
                    self.gain2 = gain2_lanes(c.gain);
                    self.report.status = status;
                    self.report.offset_g = c.offset_g;
                    self.report.gain = c.gain;
                    self.report.residual_after_g = after;
                    return changed;
                }
            }
            _ => {}
        }
        if self.report.status == CalibrationStatus::NoStillPeriod {
            self.report.status = CalibrationStatus::TooFewOrientations;
        }
        self.report.residual_after_g = current_after;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes a still block of `n` samples at raw vector `v` with noise variance `var` per axis.
    fn push_still(c: &mut Calibrator, v: [f64; 3], n: u32, var: f64) {
        let nf = f64::from(n);
        let lanes = |f: &dyn Fn(f64) -> f64| {
            let [x, y, z] = v.map(|v| f(v) as f32);
            [0.0, x, y, z]
        };
        c.push_block(n, lanes(&|v| nf * v), lanes(&|v| nf * v * v + var * nf));
    }

    fn cfg() -> CalibrationConfig {
        CalibrationConfig::default()
    }

    /// Raw readings of unit gravity vector `u` through offset `o` and gain error `k`:
    /// raw = u / k + o, so that (raw − o)·k = u.
    fn raw(u: [f64; 3], o: [f64; 3], k: [f64; 3]) -> [f64; 3] {
        [0, 1, 2].map(|i| u[i] / k[i] + o[i])
    }

    fn directions() -> Vec<[f64; 3]> {
        let mut d = Vec::new();
        for (th, ph) in [
            (0.0, 0.0),
            (90.0, 0.0),
            (90.0, 90.0),
            (90.0, 180.0),
            (90.0, 270.0),
            (180.0, 0.0),
            (45.0, 45.0),
            (135.0, 225.0),
        ] {
            let (t, p) = (f64::to_radians(th), f64::to_radians(ph));
            d.push([t.sin() * p.cos(), t.sin() * p.sin(), t.cos()]);
        }
        d
    }

    fn feed(c: &mut Calibrator, v: [f64; 3], windows: u32) {
        for _ in 0..windows * 200 {
            push_still(c, v, 5, 1e-6);
        }
    }

    #[test]
    fn a_populated_sphere_recovers_offsets_and_gains() {
        let (o, k) = ([0.04, -0.03, 0.02], [1.03, 0.98, 1.01]);
        let mut c = Calibrator::new(&cfg(), 0.05);
        for u in directions() {
            feed(&mut c, raw(u, o, k), 1);
        }
        let r = c.report();
        assert_eq!(r.status, CalibrationStatus::Full);
        assert_eq!(r.n_still_windows, 8);
        for i in 0..3 {
            // exact data, but in block sums of f32 as the detector gives them: values of
            // about 1 g to seven digits, so a few 1e-8 g of rounding
            assert!(
                (r.offset_g[i] - o[i]).abs() < 1e-6,
                "offset {i}: {:?}",
                r.offset_g
            );
            assert!((r.gain[i] - k[i]).abs() < 1e-6, "gain {i}: {:?}", r.gain);
        }
        assert!(r.residual_after_g < 1e-4 && r.residual_before_g > 0.01);
    }

    #[test]
    fn a_half_sphere_gives_offsets_only() {
        let o = [0.03, 0.01, -0.02];
        let mut c = Calibrator::new(&cfg(), 0.05);
        // five orientations over the upper half: z never below −0.3 g
        for (th, ph) in [
            (0.0, 0.0),
            (70.0, 0.0),
            (70.0, 90.0),
            (70.0, 180.0),
            (70.0, 270.0),
        ] {
            let (t, p) = (f64::to_radians(th), f64::to_radians(ph));
            feed(
                &mut c,
                raw([t.sin() * p.cos(), t.sin() * p.sin(), t.cos()], o, [1.0; 3]),
                1,
            );
        }
        let r = c.report();
        assert_eq!(r.status, CalibrationStatus::OffsetOnly);
        for i in 0..3 {
            assert!((r.offset_g[i] - o[i]).abs() < 1e-4, "{:?}", r.offset_g);
        }
        assert_eq!(r.gain, [1.0; 3]);
    }

    #[test]
    fn one_orientation_leaves_the_identity_and_says_why() {
        let mut c = Calibrator::new(&cfg(), 0.05);
        feed(&mut c, [0.05, 0.0, 0.99], 5);
        let r = c.report();
        assert_eq!(r.status, CalibrationStatus::TooFewOrientations);
        assert_eq!(r.n_orientations, 1);
        assert_eq!(r.n_still_windows, 5);
        assert_eq!(*c.correction(), Correction::default());
    }

    #[test]
    fn moving_windows_are_not_still() {
        let mut c = Calibrator::new(&cfg(), 0.05);
        // per-axis SD of 20 mg > 13 mg
        for _ in 0..400 {
            push_still(&mut c, [0.0, 0.0, 1.0], 5, 0.02 * 0.02);
        }
        assert_eq!(c.report().status, CalibrationStatus::NoStillPeriod);
        assert_eq!(c.report().n_still_windows, 0);
    }

    #[test]
    fn orientations_are_bounded_and_merged() {
        let mut c = Calibrator::new(&cfg(), 0.05);
        for i in 0..200 {
            let t = f64::from(i) * 0.05;
            feed(&mut c, [t.sin(), 0.0, t.cos()], 1);
        }
        assert!(c.report().n_orientations as usize <= MAX_POINTS);
        assert_eq!(c.report().n_still_windows, 200);
    }

    #[test]
    fn disabled_does_nothing() {
        let mut cf = cfg();
        cf.enabled = false;
        let mut c = Calibrator::new(&cf, 0.05);
        for u in directions() {
            feed(&mut c, raw(u, [0.05; 3], [1.0; 3]), 1);
        }
        assert_eq!(c.report().status, CalibrationStatus::Disabled);
        assert_eq!(*c.correction(), Correction::default());
    }
}
