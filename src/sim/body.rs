//! The body: limb and sensor orientation, and the movement waveforms a sensor feels.
//!
//! Frames. The world has X along the bed (towards the head), Y to the sleeper's left and Z
//! up. The body frame has x towards the head, y to the left and z forwards (anterior);
//! lying with roll φ turns it about X (0 supine, +90° on the left side, 180° prone). A leg
//! frame has x along the shank towards the knee, y mediolateral (the ankle and knee axis) and
//! z forwards along the foot; a sensor sits on its limb at a fixed, random mounting
//! rotation. A still sensor reads the specific force `R⁻¹ ẑ` (1 g "up" in its own frame);
//! a moving one adds the linear acceleration of the point it sits on.
//!
//! Every waveform is a closed-form function of time, built once from its planned
//! parameters, so that samples depend only on the sample's time, never on how a night is
//! cut into chunks.

use std::f64::consts::{PI, TAU};

use nalgebra::{UnitQuaternion, Vector3};

use super::rng::Rng;

/// A 3-vector in a sensor's frame (g, rad, or m as the name says).
pub(crate) type V3 = Vector3<f64>;

/// Standard gravity, m/s² per g.
pub(crate) const G0_MPS2: f64 = crate::sample::STANDARD_GRAVITY_MPS2;

/// A unit vector from three components.
pub(crate) fn v3(a: [f64; 3]) -> V3 {
    Vector3::new(a[0], a[1], a[2])
}

/// A random unit vector.
pub(crate) fn random_unit(rng: &mut Rng) -> V3 {
    v3(rng.unit_vector())
}

/// A rotation of `angle_deg` about `axis` (any non-zero vector).
pub(crate) fn rot(axis: V3, angle_deg: f64) -> UnitQuaternion<f64> {
    match nalgebra::Unit::try_new(axis, 1e-12) {
        Some(a) => UnitQuaternion::from_axis_angle(&a, angle_deg.to_radians()),
        None => UnitQuaternion::identity(),
    }
}

/// A unit vector perpendicular to `v` (`v` a unit vector).
fn perpendicular(v: &V3) -> V3 {
    let other = if v.x.abs() < 0.9 { V3::x() } else { V3::y() };
    v.cross(&other).normalize()
}

/// `axis` tilted by a random angle of at most `max_deg` in a random direction.
pub(crate) fn perturb(axis: V3, max_deg: f64, rng: &mut Rng) -> V3 {
    let p = perpendicular(&axis);
    let spin = rot(axis, rng.uniform(0.0, 360.0));
    let tilt_axis = spin * p;
    (rot(tilt_axis, rng.uniform(0.0, max_deg)) * axis).normalize()
}

/// Rotates `v` by `-angle_rad` about the unit `axis` (Rodrigues): what a frame that turned
/// by `angle_rad` about `axis` sees of a fixed vector.
#[inline]
pub(crate) fn unrotate(v: &V3, axis: &V3, angle_rad: f64) -> V3 {
    let (s, c) = angle_rad.sin_cos();
    v * c - axis.cross(v) * s + axis * (axis.dot(v) * (1.0 - c))
}

/// Gravity as a sensor with orientation `q` (world ← sensor) reads it, in g.
pub(crate) fn gravity_in(q: &UnitQuaternion<f64>) -> V3 {
    q.inverse_transform_vector(&V3::z())
}

/// Angle between two vectors, in degrees.
pub(crate) fn angle_deg(a: &V3, b: &V3) -> f64 {
    let c = a.dot(b) / (a.norm() * b.norm());
    c.clamp(-1.0, 1.0).acos().to_degrees()
}

/// Which body segment a sensor is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Limb {
    /// Left ankle/foot.
    LeftLeg = 0,
    /// Right ankle/foot.
    RightLeg = 1,
    /// A wrist.
    Wrist = 2,
}

impl Limb {
    /// All three, in index order.
    pub(crate) const ALL: [Limb; 3] = [Limb::LeftLeg, Limb::RightLeg, Limb::Wrist];

    /// 0, 1, 2.
    pub(crate) const fn idx(self) -> usize {
        self as usize
    }

    /// Bit of the limb in an occupancy mask.
    pub(crate) const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// How the body lies (or stands).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pose {
    /// Upright (standing, walking, sitting) instead of lying.
    pub upright: bool,
    /// Body roll about the bed's long axis, in degrees (0 supine, ±90 side, 180 prone).
    pub roll_deg: f64,
    /// Outward rotation of each leg about its long axis, in degrees.
    pub leg_rot_deg: [f64; 2],
    /// Hip/knee flexion tilting each shank, in degrees.
    pub leg_pitch_deg: [f64; 2],
    /// Forearm orientation relative to the body.
    pub arm: UnitQuaternion<f64>,
}

/// Sleep positions and their shares of time in bed (`domain.md` §2.4: 54 % side,
/// 37.5 % supine, 7.3 % prone), as (centre roll in degrees, weight).
const POSITIONS: [(f64, f64); 4] = [(0.0, 37.5), (90.0, 27.0), (-90.0, 27.0), (180.0, 7.3)];

impl Pose {
    /// A random lying pose; `avoid_roll_deg` makes a different position likelier.
    pub(crate) fn lying(rng: &mut Rng, avoid_roll_deg: Option<f64>) -> Pose {
        let mut w: Vec<f64> = POSITIONS.iter().map(|p| p.1).collect();
        if let Some(avoid) = avoid_roll_deg {
            for (i, p) in POSITIONS.iter().enumerate() {
                let d = (p.0 - avoid).rem_euclid(360.0);
                if !(45.0..=315.0).contains(&d) {
                    w[i] *= 0.25;
                }
            }
        }
        let (centre, _) = POSITIONS[rng.weighted(&w)];
        let roll_deg = centre + rng.uniform(-20.0, 20.0);
        let side = (centre.abs() - 90.0).abs() < 1.0;
        let pitch = |rng: &mut Rng| {
            if side {
                rng.uniform(15.0, 60.0)
            } else {
                rng.uniform(0.0, 12.0)
            }
        };
        Pose {
            upright: false,
            roll_deg,
            leg_rot_deg: [rng.uniform(0.0, 45.0), rng.uniform(0.0, 45.0)],
            leg_pitch_deg: [pitch(rng), pitch(rng)],
            arm: rot(random_unit(rng), rng.uniform(0.0, 180.0)),
        }
    }

    /// A random upright pose (shanks near vertical, forearm hanging or on the lap).
    pub(crate) fn upright(rng: &mut Rng) -> Pose {
        Pose {
            upright: true,
            roll_deg: 0.0,
            leg_rot_deg: [rng.uniform(-10.0, 10.0), rng.uniform(-10.0, 10.0)],
            leg_pitch_deg: [rng.uniform(-8.0, 8.0), rng.uniform(-8.0, 8.0)],
            arm: rot(V3::y(), rng.uniform(-20.0, 20.0)) * rot(V3::x(), rng.uniform(0.0, 360.0)),
        }
    }

    /// The body's orientation (world ← body).
    fn body(&self) -> UnitQuaternion<f64> {
        if self.upright {
            // Body x (head) up: about y by -90° sends x to +Z.
            rot(V3::x(), self.roll_deg) * rot(V3::y(), -90.0)
        } else {
            rot(V3::x(), self.roll_deg)
        }
    }

    /// Orientation of a limb segment (world ← segment).
    pub(crate) fn limb(&self, limb: Limb) -> UnitQuaternion<f64> {
        let body = self.body();
        match limb {
            Limb::LeftLeg | Limb::RightLeg => {
                let i = limb.idx();
                // Outward rotation turns the left leg one way and the right the other.
                let sign = if limb == Limb::LeftLeg { 1.0 } else { -1.0 };
                body * rot(V3::x(), sign * self.leg_rot_deg[i])
                    * rot(V3::y(), -self.leg_pitch_deg[i])
            }
            Limb::Wrist => body * self.arm,
        }
    }
}

/// One sensor's fixed mounting on its limb and the lever arms of limb motion.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mount {
    /// Segment ← sensor rotation.
    pub q: UnitQuaternion<f64>,
}

impl Mount {
    /// A random strap orientation: any turn about the limb's long axis, tilted up to ±15°.
    pub(crate) fn random(rng: &mut Rng) -> Mount {
        let q = rot(V3::x(), rng.uniform(0.0, 360.0))
            * rot(V3::y(), rng.uniform(-15.0, 15.0))
            * rot(V3::z(), rng.uniform(-15.0, 15.0));
        Mount { q }
    }

    /// A segment-frame vector in the sensor's frame.
    pub(crate) fn to_sensor(self, v: V3) -> V3 {
        self.q.inverse_transform_vector(&v)
    }

    /// Orientation of the sensor in a pose (world ← sensor).
    pub(crate) fn orientation(&self, pose: &Pose, limb: Limb) -> UnitQuaternion<f64> {
        pose.limb(limb) * self.q
    }
}

/// One raised-cosine step of an angle profile: from `from` to `to` over `dur_s` from `t0_s`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Step {
    pub t0_s: f64,
    pub dur_s: f64,
    pub from: f64,
    pub to: f64,
}

/// An angle as a chain of raised-cosine steps (holding between them), in radians, with its
/// first and second derivatives in closed form.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Profile {
    steps: [Step; 4],
    n: usize,
}

impl Profile {
    /// A profile from up to four steps in time order (extra steps are ignored).
    pub(crate) fn new(steps: &[Step]) -> Profile {
        let mut p = Profile::default();
        for (slot, s) in p.steps.iter_mut().zip(steps) {
            *slot = *s;
        }
        p.n = steps.len().min(4);
        p
    }

    /// Angle (rad), angular velocity (rad/s) and acceleration (rad/s²) at `tau_s` from the
    /// start of the movement.
    #[inline]
    pub(crate) fn eval(&self, tau_s: f64) -> (f64, f64, f64) {
        let mut theta = 0.0;
        for s in self.steps.iter().take(self.n) {
            if tau_s < s.t0_s {
                return (theta, 0.0, 0.0);
            }
            let u = tau_s - s.t0_s;
            if u < s.dur_s {
                let d = s.to - s.from;
                let w = PI / s.dur_s;
                let (sn, cs) = (w * u).sin_cos();
                return (
                    s.from + d * 0.5 * (1.0 - cs),
                    d * 0.5 * w * sn,
                    d * 0.5 * w * w * cs,
                );
            }
            theta = s.to;
        }
        (theta, 0.0, 0.0)
    }

    /// Largest |angular acceleration| over the profile, in rad/s² (at a step's ends).
    pub(crate) fn peak_accel(&self) -> f64 {
        self.steps
            .iter()
            .take(self.n)
            .map(|s| (s.to - s.from).abs() * 0.5 * (PI / s.dur_s).powi(2))
            .fold(0.0, f64::max)
    }
}

/// A few sinusoids along fixed directions: muscle jitter, shaking, broadband fidgeting.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tones {
    f_hz: [f64; 4],
    phase: [f64; 4],
    dir: [V3; 4],
    scale: f64,
}

impl Tones {
    /// Four tones with frequencies drawn log-uniformly in [f_lo, f_hi] Hz, random phases and
    /// directions, scaled so that the RMS length of their vector sum is `rms_g`.
    pub(crate) fn new(rng: &mut Rng, f_lo: f64, f_hi: f64, rms_g: f64) -> Tones {
        let mut t = Tones {
            f_hz: [0.0; 4],
            phase: [0.0; 4],
            dir: [V3::zeros(); 4],
            // Four unit-amplitude sinusoids along unit vectors: mean square length 4 × 1/2.
            scale: rms_g / 2f64.sqrt(),
        };
        for k in 0..4 {
            t.f_hz[k] = rng.log_uniform(f_lo, f_hi.max(f_lo * 1.01));
            t.phase[k] = rng.uniform(0.0, TAU);
            t.dir[k] = random_unit(rng);
        }
        t
    }

    /// The vector sum at `tau_s`, in g.
    #[inline]
    pub(crate) fn eval(&self, tau_s: f64) -> V3 {
        let mut v = V3::zeros();
        for k in 0..4 {
            v += self.dir[k] * (TAU * self.f_hz[k] * tau_s + self.phase[k]).sin();
        }
        v * self.scale
    }
}

/// Slow rotations about three random axes (body sway while moving), in radians.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wobble {
    axis: [V3; 3],
    f_hz: [f64; 3],
    phase: [f64; 3],
    amp_rad: [f64; 3],
}

impl Wobble {
    /// Three rotations of up to `max_deg`, at `f_lo`–`f_hi` Hz.
    pub(crate) fn new(rng: &mut Rng, f_lo: f64, f_hi: f64, max_deg: f64) -> Wobble {
        let mut w = Wobble {
            axis: [V3::zeros(); 3],
            f_hz: [0.0; 3],
            phase: [0.0; 3],
            amp_rad: [0.0; 3],
        };
        for k in 0..3 {
            w.axis[k] = random_unit(rng);
            w.f_hz[k] = rng.uniform(f_lo, f_hi);
            w.phase[k] = rng.uniform(0.0, TAU);
            w.amp_rad[k] = rng.uniform(0.3, 1.0) * max_deg.to_radians();
        }
        w
    }

    /// Turns `g` as the wobble at `tau_s`, scaled by `env`, turns the sensor.
    #[inline]
    fn apply(&self, tau_s: f64, env: f64, g: &mut V3) {
        for k in 0..3 {
            let a = env * self.amp_rad[k] * (TAU * self.f_hz[k] * tau_s + self.phase[k]).sin();
            *g = unrotate(g, &self.axis[k], a);
        }
    }
}

/// A limb rotation about a joint: the sensor turns about `axis` (sensor frame) and, sitting
/// at a lever from the joint, feels tangential and centripetal acceleration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JointMove {
    /// Joint angle over time.
    pub profile: Profile,
    /// Rotation axis in the sensor frame (unit).
    pub axis: V3,
    /// Tangential acceleration per unit angular acceleration, in g per rad/s².
    pub u_t: V3,
    /// Centripetal acceleration per unit squared angular velocity, in g per (rad/s)².
    pub u_c: V3,
    /// Muscle jitter during the movement.
    pub jitter: Option<Tones>,
    /// Length of the movement, in seconds (the jitter envelope spans it).
    pub dur_s: f64,
}

impl JointMove {
    /// Lever vectors for a sensor at `p_m` (sensor frame, metres from the joint) turning
    /// about the unit `axis`: `(a × p, −p⊥)` in g per rad/s² and per (rad/s)².
    pub(crate) fn levers(axis: &V3, p_m: &V3) -> (V3, V3) {
        let u_t = axis.cross(p_m) / G0_MPS2;
        let perp = p_m - axis * axis.dot(p_m);
        (u_t, -perp / G0_MPS2)
    }
}

/// A brief transient: a decaying oscillation of linear acceleration with a small transient
/// rotation that returns to zero (hypnic jerk, myoclonic twitch).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pulse {
    pub dur_s: f64,
    pub f_hz: f64,
    pub decay_s: f64,
    /// Peak linear acceleration, in g (the oscillation is normalised to it).
    pub amp_g: f64,
    norm: f64,
    pub dir: V3,
    pub rot_axis: V3,
    pub rot_rad: f64,
}

impl Pulse {
    /// A pulse whose linear acceleration peaks at `amp_g`.
    pub(crate) fn new(
        dur_s: f64,
        f_hz: f64,
        decay_s: f64,
        amp_g: f64,
        dir: V3,
        rot_axis: V3,
        rot_rad: f64,
    ) -> Pulse {
        let mut p = Pulse {
            dur_s,
            f_hz,
            decay_s,
            amp_g,
            norm: 1.0,
            dir,
            rot_axis,
            rot_rad,
        };
        // Normalise on a fine grid so the waveform's peak is amp_g.
        let peak = (0..=2000)
            .map(|i| p.shape(dur_s * f64::from(i) / 2000.0).abs())
            .fold(0.0, f64::max);
        if peak > 0.0 {
            p.norm = 1.0 / peak;
        }
        p
    }

    /// The unscaled waveform: sharp start, exponential decay, tapered to 0 at the end.
    #[inline]
    fn shape(&self, tau_s: f64) -> f64 {
        let taper_from = 0.7 * self.dur_s;
        let taper = if tau_s < taper_from {
            1.0
        } else {
            let u = (tau_s - taper_from) / (self.dur_s - taper_from);
            0.5 * (1.0 + (PI * u.min(1.0)).cos())
        };
        (-tau_s / self.decay_s).exp() * (TAU * self.f_hz * tau_s).sin() * taper
    }
}

/// Seconds-long broadband shaking with a slow wobble (posture change, fidgeting),
/// under a sin² envelope.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shake {
    pub dur_s: f64,
    pub tones: Tones,
    pub wobble: Wobble,
}

/// Walking: the limb swings at the stride frequency and takes an impact each stride.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gait {
    pub dur_s: f64,
    pub stride_hz: f64,
    pub phase: f64,
    pub swing_rad: f64,
    pub axis: V3,
    pub u_t: V3,
    pub u_c: V3,
    pub impact_g: f64,
    pub impact_dir: V3,
    pub sway: Tones,
}

/// Breathing: a slow rotation of a wrist resting on the chest or belly, faded in and out
/// over 5 s.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Breath {
    pub dur_s: f64,
    pub wobble: Wobble,
}

/// What an item does to its sensor.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wave {
    Joint(JointMove),
    Pulse(Pulse),
    Shake(Shake),
    Gait(Gait),
    Breath(Breath),
}

/// A waveform placed in time on one sensor, active over `[start_s, end_s)` of the
/// recording's physical clock (seconds from its start).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    pub start_s: f64,
    pub end_s: f64,
    pub wave: Wave,
}

/// Smooth 0 → 1 → 0 envelope over `dur_s`, with ramps of `ramp_s` at each end.
#[inline]
fn ramps(tau_s: f64, dur_s: f64, ramp_s: f64) -> f64 {
    let r = ramp_s.min(dur_s / 2.0).max(1e-6);
    let e = (tau_s / r).min((dur_s - tau_s) / r).clamp(0.0, 1.0);
    0.5 * (1.0 - (PI * e).cos())
}

impl Item {
    /// Applies the item at time `t_s`: turns the gravity reading `g` and adds linear
    /// acceleration to `lin` (both in the sensor frame, in g).
    #[inline]
    pub(crate) fn apply(&self, t_s: f64, g: &mut V3, lin: &mut V3) {
        let tau = t_s - self.start_s;
        if tau < 0.0 || t_s >= self.end_s {
            return;
        }
        match &self.wave {
            Wave::Joint(m) => {
                let (th, om, al) = m.profile.eval(tau);
                if th != 0.0 {
                    *g = unrotate(g, &m.axis, th);
                }
                *lin += m.u_t * al + m.u_c * (om * om);
                if let Some(j) = &m.jitter {
                    *lin += j.eval(tau) * ramps(tau, m.dur_s, 0.15);
                }
            }
            Wave::Pulse(p) => {
                *lin += p.dir * (p.amp_g * p.norm * p.shape(tau));
                let s = (PI * tau / p.dur_s).sin();
                *g = unrotate(g, &p.rot_axis, p.rot_rad * s * s);
            }
            Wave::Shake(s) => {
                let sn = (PI * tau / s.dur_s).sin();
                let env = sn * sn;
                *lin += s.tones.eval(tau) * env;
                s.wobble.apply(tau, env, g);
            }
            Wave::Breath(b) => {
                b.wobble.apply(tau, ramps(tau, b.dur_s, 5.0), g);
            }
            Wave::Gait(w) => {
                let env = ramps(tau, w.dur_s, 1.0);
                let om_s = TAU * w.stride_hz;
                let x = om_s * tau + w.phase;
                let (sn, cs) = x.sin_cos();
                let th = env * w.swing_rad * sn;
                let om = env * w.swing_rad * om_s * cs;
                let al = -env * w.swing_rad * om_s * om_s * sn;
                *g = unrotate(g, &w.axis, th);
                *lin += w.u_t * al + w.u_c * (om * om) + w.sway.eval(tau) * env;
                // Heel strike: a 60 ms biphasic pulse once per stride.
                let u = (w.stride_hz * tau + w.phase / TAU).rem_euclid(1.0) / w.stride_hz;
                if u < 0.06 {
                    *lin += w.impact_dir * (env * w.impact_g * (TAU * u / 0.06).sin());
                }
            }
        }
    }
}

/// A change of rest orientation over `[t0_s, t1_s)`: the gravity reading turns smoothly
/// from one posture's to the next one's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RestChange {
    pub t0_s: f64,
    pub t1_s: f64,
    pub from: UnitQuaternion<f64>,
    pub to: UnitQuaternion<f64>,
}

impl RestChange {
    /// Gravity in the sensor frame at `t_s` inside the change (smoothstep slerp).
    pub(crate) fn gravity_at(&self, t_s: f64) -> V3 {
        let u = ((t_s - self.t0_s) / (self.t1_s - self.t0_s)).clamp(0.0, 1.0);
        let s = 0.5 * (1.0 - (PI * u).cos());
        gravity_in(&self.from.slerp(&self.to, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supine_leg_with_identity_mount_reads_gravity_along_the_foot() {
        // Supine, no leg rotation or pitch: the leg frame is the body frame, whose z
        // (forwards) points up, so an identity-mounted sensor reads +1 g on z.
        let pose = Pose {
            upright: false,
            roll_deg: 0.0,
            leg_rot_deg: [0.0; 2],
            leg_pitch_deg: [0.0; 2],
            arm: UnitQuaternion::identity(),
        };
        let m = Mount {
            q: UnitQuaternion::identity(),
        };
        let g = gravity_in(&m.orientation(&pose, Limb::RightLeg));
        assert!((g - V3::z()).norm() < 1e-12);
        // Rolling 90° onto the side turns gravity by exactly 90° about the long axis.
        let side = Pose {
            roll_deg: 90.0,
            ..pose
        };
        let g2 = gravity_in(&m.orientation(&side, Limb::RightLeg));
        assert!((angle_deg(&g, &g2) - 90.0).abs() < 1e-9);
        // Upright, the shank's x points up.
        let up = Pose {
            upright: true,
            ..pose
        };
        let g3 = gravity_in(&m.orientation(&up, Limb::LeftLeg));
        assert!((g3 - V3::x()).norm() < 1e-12, "{g3:?}");
    }

    #[test]
    fn profile_derivatives_match_finite_differences() {
        let p = Profile::new(&[
            Step {
                t0_s: 0.0,
                dur_s: 0.3,
                from: 0.0,
                to: 0.4,
            },
            Step {
                t0_s: 2.0,
                dur_s: 0.5,
                from: 0.4,
                to: -0.1,
            },
            Step {
                t0_s: 2.5,
                dur_s: 0.4,
                from: -0.1,
                to: 0.0,
            },
        ]);
        let h = 1e-5;
        for i in 1..300 {
            let t = f64::from(i) * 0.01 + 0.0013;
            let (th, om, al) = p.eval(t);
            let (a, _, _) = p.eval(t - h);
            let (b, _, _) = p.eval(t + h);
            // Central differences are exact to O(h²) inside a step (≈ 1e-9 here) but jump at
            // step ends, which the grid avoids by its 1.3 ms offset.
            assert!(((b - a) / (2.0 * h) - om).abs() < 1e-5, "t {t}");
            let (_, oa, _) = p.eval(t - h);
            let (_, ob, _) = p.eval(t + h);
            assert!(((ob - oa) / (2.0 * h) - al).abs() < 1e-3, "t {t}");
            assert!(th.is_finite());
        }
        assert_eq!(p.eval(10.0).0, 0.0);
        assert_eq!(p.eval(1.0).0, 0.4);
        // Peak angular acceleration of a raised cosine: Δθ·π²/(2·T²); the first step's
        // 0.4 rad in 0.3 s (21.9 rad/s²) beats 0.5 rad in 0.5 s (9.9) and 0.1 in 0.4 (3.1).
        let expected = 0.4 * 0.5 * (PI / 0.3).powi(2);
        assert!((p.peak_accel() - expected).abs() < 1e-12);
    }

    #[test]
    fn unrotate_undoes_a_rotation() {
        let axis = V3::new(1.0, 2.0, -0.5).normalize();
        let q = rot(axis, 30.0);
        let v = V3::new(0.3, -0.2, 0.9);
        // The sensor turned by q: a world vector reads q⁻¹ v.
        let expected = q.inverse_transform_vector(&v);
        let got = unrotate(&v, &axis, 30f64.to_radians());
        assert!((expected - got).norm() < 1e-12);
    }

    #[test]
    fn levers_give_r_times_alpha_tangentially() {
        let axis = V3::y();
        let p = V3::new(0.0, 0.0, 0.1);
        let (u_t, u_c) = JointMove::levers(&axis, &p);
        // |a × p| = r = 0.1 m: 1 rad/s² gives 0.1 m/s² = 0.1/9.80665 g.
        assert!((u_t.norm() - 0.1 / G0_MPS2).abs() < 1e-15);
        assert!((u_c.norm() - 0.1 / G0_MPS2).abs() < 1e-15);
        assert!(u_t.dot(&u_c).abs() < 1e-15);
    }

    #[test]
    fn pulse_peaks_at_its_amplitude_and_ends_at_zero() {
        let p = Pulse::new(0.3, 8.0, 0.1, 0.7, V3::x(), V3::y(), 0.02);
        let item = Item {
            start_s: 10.0,
            end_s: 10.3,
            wave: Wave::Pulse(p),
        };
        let mut peak: f64 = 0.0;
        for i in 0..3000 {
            let mut g = V3::z();
            let mut lin = V3::zeros();
            item.apply(10.0 + f64::from(i) * 1e-4, &mut g, &mut lin);
            peak = peak.max(lin.norm());
        }
        // The grid of the normalisation is 0.15 ms; the test grid 0.1 ms: peaks agree to
        // the waveform's change over 0.1 ms (≤ 2π·8 Hz·1e-4 s ≈ 0.5 %).
        assert!((peak - 0.7).abs() < 0.7 * 0.005, "peak {peak}");
        let mut g = V3::z();
        let mut lin = V3::zeros();
        item.apply(10.2999999, &mut g, &mut lin);
        assert!(lin.norm() < 1e-6 && (g - V3::z()).norm() < 1e-6);
    }
}
