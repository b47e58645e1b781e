//! The night's plan: sleep schedule, postures, and every event with its waveform parameters,
//! drawn from the seed before any sample exists.
//!
//! Numbers come from `domain.md`: posture changes 1.6 (SD 0.7) per hour in bed, 2–10 s
//! (§2.4); leg movements 0.5–10 s, mean about 3.3 s in sleep and longer in wake (§2.2);
//! PLM intervals 10–90 s with most at 15–40 s and quiet-wake series near 11–12 s (§2.3);
//! hypnic jerks 0.1–0.5 s at sleep onsets (§2.1); foot tremor trains of 0.3–0.7 s bursts at
//! 1–2 Hz for 10–15 s, ALMA bursts of 0.1–0.5 s alternating at 1–2 Hz for up to 20 s,
//! fragmentary myoclonus under 150 ms (§2.6).
//!
//! Leg movements are planned per leg; which of them are PLM is never decided here but by
//! the scoring rule applied to the visible legs' movements ([`super::truth`]). The planner
//! only adds or removes whole series until the scored PLMS index lands in the severity's
//! range.

use nalgebra::UnitQuaternion;

use super::body::{
    angle_deg, gravity_in, perturb, random_unit, Gait, Item, JointMove, Limb, Mount, Pose, Profile,
    Pulse, RestChange, Shake, Step, Tones, Wave, Wobble, V3,
};
use super::config::{Layout, Severity, SimConfig};
use super::rng::Rng;
use super::truth::{score_legs, ScoredLm};

/// Difficulty turned into the ranges events are drawn from (`lerp` from easy to hard).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Knobs {
    /// Sensor rotation of a leg movement, log-uniform range, degrees.
    lm_angle_deg: (f64, f64),
    /// Peak linear acceleration aimed at by a leg movement's rise, log-uniform range, g.
    lm_acc_g: (f64, f64),
    /// RMS muscle jitter during a leg movement, log-uniform range, g.
    jitter_g: (f64, f64),
    /// Closest a leg movement comes to a posture change, activity, jerk or train, s.
    guard_lm_global_s: f64,
    /// Closest an isolated leg movement comes to another one on the same leg, s.
    iso_guard_s: f64,
    /// Log-normal spread of intervals within a series.
    imi_sigma: f64,
    /// Chance that a series gets a short-interval movement that breaks it.
    p_break: f64,
    /// Short-interval clusters (2–3 movements 2–8 s apart) per hour in bed.
    clusters_per_h: f64,
    /// Isolated leg movements per hour in bed.
    isolated_per_h: f64,
    /// Mean number of foot tremor trains per night.
    tremor_trains: f64,
    /// Largest burst acceleration of a tremor train, g.
    tremor_max_g: f64,
    /// Mean number of ALMA sequences per night.
    alma: f64,
    /// Visible myoclonic twitches per hour of sleep, per sensor.
    twitch_per_h: f64,
    /// Largest twitch, g.
    twitch_max_g: f64,
    /// Hypnic jerk peak, log-uniform range, g.
    jerk_g: (f64, f64),
    /// Awakenings per hour of the sleep period.
    awakenings_per_h: f64,
}

fn lerp(a: f64, b: f64, d: f64) -> f64 {
    a + (b - a) * d
}

impl Knobs {
    pub(crate) fn new(d: f64) -> Knobs {
        Knobs {
            lm_angle_deg: (lerp(6.0, 1.0, d), lerp(30.0, 20.0, d)),
            lm_acc_g: (lerp(0.05, 0.01, d), 0.5),
            jitter_g: (lerp(0.02, 0.005, d), lerp(0.08, 0.04, d)),
            guard_lm_global_s: lerp(20.0, 1.5, d),
            iso_guard_s: lerp(95.0, 0.6, d),
            imi_sigma: lerp(0.08, 0.2, d),
            p_break: lerp(0.05, 0.5, d),
            clusters_per_h: lerp(0.3, 3.0, d),
            isolated_per_h: lerp(4.0, 10.0, d),
            tremor_trains: lerp(0.3, 4.0, d),
            tremor_max_g: lerp(0.03, 0.1, d),
            alma: lerp(0.0, 2.5, d),
            twitch_per_h: lerp(10.0, 120.0, d),
            twitch_max_g: lerp(0.015, 0.04, d),
            jerk_g: (lerp(0.5, 0.2, d), 2.0),
            awakenings_per_h: lerp(0.5, 1.2, d),
        }
    }
}

/// A planned monolateral leg movement.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LmPlan {
    /// Onset, s from the recording start (on a 1 ms grid).
    pub onset_s: f64,
    /// Offset, s (on a 1 ms grid).
    pub offset_s: f64,
    pub limb: Limb,
    /// Movements planned together (the two legs of a bilateral movement) share a unit.
    pub unit: u32,
    /// Planned series, for the severity repair only (truth comes from scoring).
    pub group: Option<u32>,
    /// Sensor rotation at the peak, degrees.
    pub angle_deg: f64,
    /// Peak linear acceleration (rise) plus RMS jitter, g.
    pub amp_g: f64,
    pub triple: bool,
    pub plantar: bool,
    pub bilateral: bool,
    pub motion: JointMove,
}

/// Classes of planned events other than leg movements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OtherKind {
    Jerk,
    Posture,
    Fidget,
    OutOfBed,
    Twitch,
    Tremor,
    Alma,
}

/// A planned event that is not a leg movement.
#[derive(Clone, Debug)]
pub(crate) struct OtherPlan {
    pub kind: OtherKind,
    pub onset_s: f64,
    pub offset_s: f64,
    /// Limbs that feel it (bit mask of [`Limb::bit`]).
    pub limbs: u8,
    /// Peak amplitude per limb, g.
    pub amp_g: [f64; 3],
    /// Change of gravity direction per limb, degrees (posture changes).
    pub angle_deg: [f64; 3],
    /// Subtype for the truth file's `detail` column.
    pub detail: String,
}

/// Calibration error and sampling phase of one sensor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Calib {
    pub offset_g: [f64; 3],
    pub gain: [f64; 3],
    pub drift_g: [f64; 3],
    /// Time of the first sample, s after the recording start (within one interval).
    pub phase_s: f64,
}

/// Everything one sensor needs to synthesise its samples.
#[derive(Clone, Debug)]
pub(crate) struct Track {
    /// Waveforms sorted by start.
    pub items: Vec<Item>,
    /// Orientation before the first change.
    pub rest0: UnitQuaternion<f64>,
    /// Posture transitions in time order.
    pub changes: Vec<RestChange>,
    /// Stretches without samples, s, in time order.
    pub gaps: Vec<(f64, f64)>,
    pub calib: Calib,
}

/// The night's plan.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub cfg: SimConfig,
    pub duration_s: f64,
    pub in_bed: (f64, f64),
    pub sleep: Vec<(f64, f64)>,
    pub onsets: Vec<f64>,
    pub out_of_bed: Vec<(f64, f64)>,
    pub lms: Vec<LmPlan>,
    pub others: Vec<OtherPlan>,
    pub tracks: [Track; 3],
    /// The scored leg movements of the visible legs (final).
    pub scored: Vec<ScoredLm>,
    /// Iterations the severity repair took.
    pub repair_steps: u32,
}

/// Rounds to the 1 ms grid truth times live on.
pub(crate) fn ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

fn in_any(t: f64, spans: &[(f64, f64)]) -> bool {
    spans.iter().any(|&(a, b)| t >= a && t < b)
}

/// Occupied stretches of time, so that events keep their distances.
#[derive(Default)]
struct Occupancy {
    /// (start, end, limb mask, is a leg movement)
    spans: Vec<(f64, f64, u8, bool)>,
}

impl Occupancy {
    fn add(&mut self, a: f64, b: f64, mask: u8, lm: bool) {
        self.spans.push((a, b, mask, lm));
    }

    /// No non-LM event within `guard_global` of [a, b], and no leg movement on `mask`
    /// within `guard_lm`.
    fn free(&self, a: f64, b: f64, mask: u8, guard_global: f64, guard_lm: f64) -> bool {
        self.spans.iter().all(|&(s, e, m, lm)| {
            let g = if lm {
                if m & mask == 0 {
                    return true;
                }
                guard_lm
            } else {
                guard_global
            };
            b + g <= s || a - g >= e
        })
    }

    fn remove_lm(&mut self, a: f64, b: f64, mask: u8) {
        if let Some(i) = self
            .spans
            .iter()
            .position(|&(s, e, m, lm)| lm && m == mask && s == a && e == b)
        {
            self.spans.swap_remove(i);
        }
    }
}

const LEGS: u8 = 0b011;
const ALL: u8 = 0b111;

/// The limbs whose leg movements the truth lists (and the severity is scored on).
pub(crate) fn scored_legs(layout: Layout) -> u8 {
    match layout {
        Layout::Ankle => Limb::RightLeg.bit(),
        Layout::Wrist | Layout::Bilateral => LEGS,
    }
}

/// The limbs a layout wears.
pub(crate) fn worn(layout: Layout) -> u8 {
    match layout {
        Layout::Ankle => Limb::RightLeg.bit(),
        Layout::Wrist => Limb::Wrist.bit(),
        Layout::Bilateral => ALL,
    }
}

struct Planner {
    cfg: SimConfig,
    k: Knobs,
    t_end: f64,
    max_f_hz: f64,
    mounts: [Mount; 3],
    occ: Occupancy,
    in_bed: (f64, f64),
    sleep: Vec<(f64, f64)>,
    onsets: Vec<f64>,
    wake_in_bed: Vec<(f64, f64)>,
    out_of_bed: Vec<(f64, f64)>,
    /// Pose transitions: (start, end, pose after).
    poses: Vec<(f64, f64, Pose)>,
    lms: Vec<LmPlan>,
    others: Vec<OtherPlan>,
    items: [Vec<Item>; 3],
    next_unit: u32,
    next_group: u32,
    /// PLMS index the night aims at, per hour of sleep (inside the severity's range).
    target_plmsi: f64,
}

impl Planner {
    fn lying_spans(&self) -> Vec<(f64, f64)> {
        // In bed and not on a trip out of it.
        let mut spans = vec![self.in_bed];
        for &(a, b) in &self.out_of_bed {
            let mut next = Vec::new();
            for (s, e) in spans {
                if b <= s || a >= e {
                    next.push((s, e));
                } else {
                    if a > s {
                        next.push((s, a));
                    }
                    if b < e {
                        next.push((b, e));
                    }
                }
            }
            spans = next;
        }
        spans
    }

    fn sleep_s(&self) -> f64 {
        self.sleep.iter().map(|(a, b)| b - a).sum()
    }

    // ----- schedule -----------------------------------------------------------------------

    fn schedule(&mut self, rng: &mut Rng) {
        let t = self.t_end;
        let pre = (rng.uniform(0.02, 0.05) * t).clamp(120.0, 1200.0);
        let post = (rng.uniform(0.01, 0.03) * t).clamp(90.0, 900.0);
        let bed0 = ms(pre);
        let bed1 = ms(t - post);
        let b = bed1 - bed0;
        let sol = (rng.uniform(5.0, 20.0 + 25.0 * self.cfg.difficulty) * 60.0).min(0.15 * b);
        let onset0 = ms(bed0 + sol);
        let final_wake = ms(bed1 - (rng.uniform(3.0, 15.0) * 60.0).min(0.05 * b));
        let span = final_wake - onset0;
        let n = rng.poisson(self.k.awakenings_per_h * span / 3600.0);
        let mut wakes: Vec<(f64, f64)> = Vec::new();
        for _ in 0..n {
            for _ in 0..50 {
                let dur = rng.log_uniform(90.0, 900.0);
                let lo = onset0 + 600.0;
                let hi = final_wake - 600.0 - dur;
                if hi <= lo {
                    break;
                }
                let a = rng.uniform(lo, hi);
                let ok = wakes
                    .iter()
                    .all(|&(s, e)| a + dur + 600.0 <= s || a >= e + 600.0);
                if ok {
                    wakes.push((ms(a), ms(a + dur)));
                    break;
                }
            }
        }
        wakes.sort_by(|x, y| x.0.total_cmp(&y.0));
        // A trip out of bed during one long-enough awakening, on some longer nights.
        let mut trips = Vec::new();
        if self.cfg.duration_h >= 4.0 && rng.chance(0.3) {
            if let Some(w) = wakes
                .iter()
                .max_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)))
            {
                let trip = rng.uniform(120.0, 300.0);
                if w.1 - w.0 >= trip + 180.0 {
                    let a = ms(w.0 + rng.uniform(60.0, 90.0));
                    trips.push((a, ms(a + trip)));
                }
            }
        }
        let mut sleep = Vec::new();
        let mut onsets = Vec::new();
        let mut cur = onset0;
        for &(a, b) in &wakes {
            sleep.push((cur, a));
            onsets.push(cur);
            cur = b;
        }
        sleep.push((cur, final_wake));
        onsets.push(cur);
        let mut wake_in_bed = vec![(bed0, onset0)];
        for &(a, b) in &wakes {
            wake_in_bed.push((a, b));
        }
        wake_in_bed.push((final_wake, bed1));
        self.in_bed = (bed0, bed1);
        self.sleep = sleep;
        self.onsets = onsets;
        self.out_of_bed = vec![(0.0, bed0)];
        self.out_of_bed.extend(trips);
        self.out_of_bed.push((bed1, t));
        // Wake in bed excludes the trips.
        let lying = self.lying_spans();
        self.wake_in_bed = wake_in_bed
            .into_iter()
            .flat_map(|(a, b)| {
                lying
                    .iter()
                    .filter_map(move |&(s, e)| {
                        let (x, y) = (a.max(s), b.min(e));
                        (y > x).then_some((x, y))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    }

    // ----- postures and activity ----------------------------------------------------------

    fn postures(&mut self, rng: &mut Rng) {
        let lying = self.lying_spans();
        // Lying down and getting up: the edges of the out-of-bed stretches.
        let mut slots: Vec<(f64, f64, u8)> = Vec::new(); // (start, dur, 0 lie down / 1 get up / 2 change)
        for &(a, b) in &self.out_of_bed {
            if a > 0.0 {
                slots.push((a, rng.uniform(3.0, 6.0), 1));
            }
            if b < self.t_end {
                // The lie-down transition ends the out-of-bed stretch.
                let d = rng.uniform(3.0, 8.0);
                slots.push((b - d, d, 0));
            }
        }
        let b_h: f64 = lying.iter().map(|(a, b)| b - a).sum::<f64>() / 3600.0;
        let rate = (1.6 + 0.7 * rng.normal()).clamp(0.5, 3.5);
        let n = rng.poisson(rate * b_h);
        let mut changes: Vec<(f64, f64)> = Vec::new();
        let total: f64 = lying.iter().map(|(a, b)| b - a).sum();
        for _ in 0..n {
            for _ in 0..40 {
                let dur = rng.uniform(2.0, 10.0);
                let mut u = rng.uniform(0.0, total);
                let mut t0 = None;
                for &(a, b) in &lying {
                    if u < b - a {
                        t0 = Some(a + u);
                        break;
                    }
                    u -= b - a;
                }
                let Some(t0) = t0 else { continue };
                let t0 = ms(t0);
                let t1 = ms(t0 + dur);
                let inside = lying.iter().any(|&(a, b)| t0 >= a + 30.0 && t1 <= b - 30.0);
                if inside && self.occ.free(t0, t1, ALL, 60.0, 0.0) {
                    self.occ.add(t0, t1, ALL, false);
                    changes.push((t0, t1));
                    break;
                }
            }
        }
        for &(a, b) in &changes {
            slots.push((a, b - a, 2));
        }
        slots.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut pose = Pose::upright(rng);
        self.poses.push((0.0, 0.0, pose));
        for (t0, dur, what) in slots {
            let t1 = ms(t0 + dur);
            let next = match what {
                0 => Pose::lying(rng, None),
                1 => Pose::upright(rng),
                _ => {
                    // A posture change turns each leg sensor by tens of degrees (§2.4).
                    let mut best = Pose::lying(rng, Some(pose.roll_deg));
                    for _ in 0..30 {
                        let angles = self.site_angles(&pose, &best);
                        if angles[0] >= 20.0 && angles[1] >= 20.0 {
                            break;
                        }
                        best = Pose::lying(rng, Some(pose.roll_deg));
                    }
                    best
                }
            };
            if what == 2 {
                let angles = self.site_angles(&pose, &next);
                let mut amp = [0.0; 3];
                for a in &mut amp {
                    *a = rng.log_uniform(0.05, 0.3) * rng.uniform(0.5, 1.0);
                }
                self.others.push(OtherPlan {
                    kind: OtherKind::Posture,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: ALL,
                    amp_g: amp,
                    angle_deg: angles,
                    detail: format!("{}_to_{}", position_name(&pose), position_name(&next)),
                });
                for limb in Limb::ALL {
                    let tones = Tones::new(rng, 1.0, 8f64.min(self.max_f_hz), amp[limb.idx()]);
                    let wobble = Wobble::new(rng, 0.2, 1.0, 3.0);
                    self.items[limb.idx()].push(Item {
                        start_s: t0,
                        end_s: t1,
                        wave: Wave::Shake(Shake {
                            dur_s: t1 - t0,
                            tones,
                            wobble,
                        }),
                    });
                }
            }
            self.poses.push((t0, t1, next));
            pose = next;
        }
    }

    fn site_angles(&self, a: &Pose, b: &Pose) -> [f64; 3] {
        let mut out = [0.0; 3];
        for limb in Limb::ALL {
            let m = &self.mounts[limb.idx()];
            let ga = gravity_in(&m.orientation(a, limb));
            let gb = gravity_in(&m.orientation(b, limb));
            out[limb.idx()] = angle_deg(&ga, &gb);
        }
        out
    }

    fn out_of_bed_activity(&mut self, rng: &mut Rng) {
        let spans = self.out_of_bed.clone();
        for (a, b) in spans {
            // The event covers the stretch and its get-up / lie-down transitions.
            let onset = if a > 0.0 { a } else { 0.0 };
            let offset = b.min(self.t_end);
            self.occ.add(onset, offset, ALL, false);
            let mut peaks = [0.0f64; 3];
            // Alternate walking and standing/sitting with fidgets, inside the transitions.
            let mut t = onset + 8.0;
            let end = offset - 10.0;
            let mut walk = rng.chance(0.6);
            while t + 5.0 < end {
                let dur = if walk {
                    rng.uniform(10.0, 60.0)
                } else {
                    rng.uniform(10.0, 90.0)
                };
                let t1 = (t + dur).min(end);
                if walk {
                    let p = self.walk(rng, t, t1);
                    for k in 0..3 {
                        peaks[k] = peaks[k].max(p[k]);
                    }
                } else {
                    let rms = rng.log_uniform(0.03, 0.15);
                    self.fidget_items(rng, t, t1, ALL, rms, 8.0);
                }
                walk = !walk;
                t = t1 + rng.uniform(0.5, 3.0);
            }
            self.others.push(OtherPlan {
                kind: OtherKind::OutOfBed,
                onset_s: onset,
                offset_s: offset,
                limbs: ALL,
                amp_g: peaks,
                angle_deg: [0.0; 3],
                detail: "out_of_bed".into(),
            });
        }
    }

    /// Walking on every limb from `t0` to `t1`; returns each limb's heel-strike peak, g.
    fn walk(&mut self, rng: &mut Rng, t0: f64, t1: f64) -> [f64; 3] {
        let mut peaks = [0.0; 3];
        let stride_hz = rng.uniform(0.8, 1.0);
        for limb in Limb::ALL {
            let m = self.mounts[limb.idx()];
            let (swing_deg, p_seg, axis_seg, impact) = match limb {
                Limb::Wrist => (
                    rng.uniform(10.0, 25.0),
                    V3::new(-0.6, 0.0, 0.0),
                    V3::y(),
                    rng.uniform(0.2, 0.4),
                ),
                _ => (
                    rng.uniform(20.0, 35.0),
                    V3::new(-0.4, 0.0, 0.04),
                    V3::y(),
                    rng.uniform(1.0, 2.5),
                ),
            };
            let axis = m.to_sensor(axis_seg);
            let (u_t, u_c) = JointMove::levers(&axis, &m.to_sensor(p_seg));
            let phase = match limb {
                Limb::LeftLeg => 0.0,
                Limb::RightLeg => std::f64::consts::PI,
                Limb::Wrist => std::f64::consts::FRAC_PI_2,
            };
            let sway_g = rng.uniform(0.05, 0.15);
            let g = Gait {
                dur_s: t1 - t0,
                stride_hz,
                phase,
                swing_rad: swing_deg.to_radians(),
                axis,
                u_t,
                u_c,
                impact_g: impact,
                impact_dir: m.to_sensor(V3::x()),
                sway: Tones::new(rng, 1.0, 6f64.min(self.max_f_hz), sway_g),
            };
            peaks[limb.idx()] = impact;
            self.items[limb.idx()].push(Item {
                start_s: t0,
                end_s: t1,
                wave: Wave::Gait(g),
            });
        }
        peaks
    }

    /// Shaking and wobble on the limbs in `mask`, one limb at full strength.
    fn fidget_items(
        &mut self,
        rng: &mut Rng,
        t0: f64,
        t1: f64,
        mask: u8,
        rms_g: f64,
        max_deg: f64,
    ) {
        let strong = rng.below(3) as usize;
        for limb in Limb::ALL {
            if mask & limb.bit() == 0 {
                continue;
            }
            let f = if limb.idx() == strong {
                1.0
            } else {
                rng.uniform(0.2, 1.0)
            };
            let tones = Tones::new(rng, 0.5, 6f64.min(self.max_f_hz), rms_g * f);
            let wobble = Wobble::new(rng, 0.1, 0.8, max_deg * f);
            self.items[limb.idx()].push(Item {
                start_s: t0,
                end_s: t1,
                wave: Wave::Shake(Shake {
                    dur_s: t1 - t0,
                    tones,
                    wobble,
                }),
            });
        }
    }

    fn fidgets(&mut self, rng: &mut Rng) {
        for (a, b) in self.wake_in_bed.clone() {
            let n = rng.poisson((b - a) / 240.0);
            for _ in 0..n {
                for _ in 0..20 {
                    let dur = rng.log_uniform(5.0, 60.0);
                    if b - a < dur + 20.0 {
                        break;
                    }
                    let t0 = ms(rng.uniform(a + 10.0, b - 10.0 - dur));
                    let t1 = ms(t0 + dur);
                    if self.occ.free(t0, t1, ALL, 10.0, 0.0) {
                        self.occ.add(t0, t1, ALL, false);
                        let rms = rng.log_uniform(0.03, 0.3);
                        let max_deg = rng.uniform(3.0, 15.0);
                        self.fidget_items(rng, t0, t1, ALL, rms, max_deg);
                        self.others.push(OtherPlan {
                            kind: OtherKind::Fidget,
                            onset_s: t0,
                            offset_s: t1,
                            limbs: ALL,
                            amp_g: [rms; 3],
                            angle_deg: [0.0; 3],
                            detail: "fidget".into(),
                        });
                        break;
                    }
                }
            }
        }
    }

    // ----- jerks and trains ---------------------------------------------------------------

    fn jerks(&mut self, rng: &mut Rng) {
        let worn = worn(self.cfg.layout);
        for onset in self.onsets.clone() {
            let n = rng.weighted(&[0.3, 0.35, 0.2, 0.1, 0.05]);
            for _ in 0..n {
                for _ in 0..20 {
                    let dur = rng.uniform(0.1, 0.5);
                    let t0 = ms(onset + rng.uniform(-30.0, 60.0));
                    let t1 = ms(t0 + dur);
                    if !self.occ.free(t0, t1, ALL, 3.0, 0.0) || in_any(t0, &self.out_of_bed) {
                        continue;
                    }
                    self.occ.add(t0, t1, ALL, false);
                    let peak = rng.log_uniform(self.k.jerk_g.0, self.k.jerk_g.1);
                    let f_hz = rng.uniform(4.0, 12f64.min(self.max_f_hz));
                    let mut amp = [0.0; 3];
                    for limb in Limb::ALL {
                        amp[limb.idx()] = peak * rng.uniform(0.3, 1.0);
                    }
                    // The strongest worn site feels the drawn peak.
                    let top = Limb::ALL
                        .iter()
                        .filter(|l| worn & l.bit() != 0)
                        .map(|l| amp[l.idx()])
                        .fold(0.0, f64::max);
                    if top > 0.0 {
                        for a in &mut amp {
                            *a *= peak / top;
                        }
                    }
                    for limb in Limb::ALL {
                        // Sites respond a few ms apart (conduction and coupling).
                        let delay = rng.uniform(0.0, 0.008);
                        let p = Pulse::new(
                            dur,
                            f_hz * rng.uniform(0.8, 1.2),
                            dur / 3.0,
                            amp[limb.idx()],
                            random_unit(rng),
                            random_unit(rng),
                            rng.uniform(1.0, 4.0).to_radians(),
                        );
                        self.items[limb.idx()].push(Item {
                            start_s: t0 + delay,
                            end_s: t0 + delay + dur,
                            wave: Wave::Pulse(p),
                        });
                    }
                    self.others.push(OtherPlan {
                        kind: OtherKind::Jerk,
                        onset_s: t0,
                        offset_s: t1,
                        limbs: ALL,
                        amp_g: amp,
                        angle_deg: [0.0; 3],
                        detail: "sleep_onset".into(),
                    });
                    break;
                }
            }
        }
    }

    /// A burst of a tremor train or ALMA sequence: a small joint movement.
    fn burst(&self, rng: &mut Rng, limb: Limb, dur: f64, angle_deg: f64, acc_g: f64) -> Item {
        let motion = self.joint(rng, limb, dur, angle_deg, acc_g, 0.0, false, false);
        Item {
            start_s: 0.0,
            end_s: dur,
            wave: Wave::Joint(motion.0),
        }
    }

    fn trains(&mut self, rng: &mut Rng) {
        // Hypnagogic foot tremor: near sleep onsets and early sleep.
        let n = rng.poisson(self.k.tremor_trains);
        for _ in 0..n {
            for _ in 0..30 {
                let onset = self.onsets[rng.below(self.onsets.len() as u64) as usize];
                let len = rng.uniform(10.0, 15.0);
                let t0 = ms(onset + rng.uniform(-60.0, 600.0));
                let t1 = ms(t0 + len);
                if !self.lying_spans().iter().any(|&(a, b)| t0 >= a && t1 <= b)
                    || !self.occ.free(t0, t1, ALL, 5.0, 0.0)
                {
                    continue;
                }
                let mask = if rng.chance(0.3) {
                    LEGS
                } else if rng.chance(0.5) {
                    Limb::LeftLeg.bit()
                } else {
                    Limb::RightLeg.bit()
                };
                let period = 1.0 / rng.uniform(1.0, 2.0);
                let max_g = self.k.tremor_max_g;
                let mut peak = [0.0f64; 3];
                let mut t = t0;
                while t < t1 - 0.3 {
                    let dur = rng.uniform(0.3, 0.7).min(0.8 * period).min(t1 - t);
                    for limb in [Limb::LeftLeg, Limb::RightLeg] {
                        if mask & limb.bit() == 0 {
                            continue;
                        }
                        let acc = rng.log_uniform(0.01, max_g);
                        let angle = rng.log_uniform(1.0, 5.0);
                        let mut item = self.burst(rng, limb, dur, angle, acc);
                        item.start_s += t;
                        item.end_s += t;
                        peak[limb.idx()] = peak[limb.idx()].max(acc);
                        self.items[limb.idx()].push(item);
                    }
                    t += period * rng.uniform(0.9, 1.1);
                }
                self.occ.add(t0, t1, ALL, false);
                self.others.push(OtherPlan {
                    kind: OtherKind::Tremor,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: mask,
                    amp_g: peak,
                    angle_deg: [0.0; 3],
                    detail: "tremor_train".into(),
                });
                break;
            }
        }
        // Alternating leg muscle activation: in sleep, bursts alternate between the legs.
        let n = rng.poisson(self.k.alma);
        for _ in 0..n {
            for _ in 0..30 {
                let len = rng.uniform(5.0, 20.0);
                let Some(t0) = self.time_in(rng, true) else {
                    break;
                };
                let t0 = ms(t0);
                let t1 = ms(t0 + len);
                if !self.sleep.iter().any(|&(a, b)| t0 >= a && t1 <= b)
                    || !self.occ.free(t0, t1, ALL, 5.0, 0.0)
                {
                    continue;
                }
                let period = 1.0 / rng.uniform(1.0, 2.0);
                let mut limb = if rng.chance(0.5) {
                    Limb::LeftLeg
                } else {
                    Limb::RightLeg
                };
                let mut peak = [0.0f64; 3];
                let mut t = t0;
                while t < t1 - 0.1 {
                    let dur = rng.uniform(0.1, 0.5).min(0.8 * period).min(t1 - t);
                    let acc = rng.log_uniform(0.01, 0.05);
                    let angle = rng.log_uniform(1.0, 4.0);
                    let mut item = self.burst(rng, limb, dur, angle, acc);
                    item.start_s += t;
                    item.end_s += t;
                    peak[limb.idx()] = peak[limb.idx()].max(acc);
                    self.items[limb.idx()].push(item);
                    limb = if limb == Limb::LeftLeg {
                        Limb::RightLeg
                    } else {
                        Limb::LeftLeg
                    };
                    t += period * rng.uniform(0.9, 1.1);
                }
                self.occ.add(t0, t1, ALL, false);
                self.others.push(OtherPlan {
                    kind: OtherKind::Alma,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: LEGS,
                    amp_g: peak,
                    angle_deg: [0.0; 3],
                    detail: "alma".into(),
                });
                break;
            }
        }
    }

    // ----- leg movements ------------------------------------------------------------------

    /// A time in sleep (density falling across the night, as PLMS do in RLS, §2.3) or in
    /// wake in bed.
    fn time_in(&self, rng: &mut Rng, sleep: bool) -> Option<f64> {
        let spans = if sleep {
            &self.sleep
        } else {
            &self.wake_in_bed
        };
        let total: f64 = spans.iter().map(|(a, b)| b - a).sum();
        if total <= 0.0 {
            return None;
        }
        let first = spans.first().map_or(0.0, |s| s.0);
        let last = spans.last().map_or(1.0, |s| s.1);
        for _ in 0..100 {
            let mut u = rng.uniform(0.0, total);
            for &(a, b) in spans {
                if u < b - a {
                    let t = a + u;
                    let w = if sleep {
                        1.0 - 0.5 * (t - first) / (last - first).max(1.0)
                    } else {
                        1.0
                    };
                    if rng.chance(w) {
                        return Some(t);
                    }
                    break;
                }
                u -= b - a;
            }
        }
        None
    }

    /// A joint movement of `dur` s on a leg: returns it with its peak angle (degrees) and
    /// amplitude (g).
    #[allow(clippy::too_many_arguments)]
    fn joint(
        &self,
        rng: &mut Rng,
        limb: Limb,
        dur: f64,
        angle_deg: f64,
        acc_g: f64,
        jitter_g: f64,
        triple: bool,
        plantar: bool,
    ) -> (JointMove, f64, f64) {
        let m = &self.mounts[limb.idx()];
        // Dorsiflexion turns the foot about the ankle's mediolateral axis (±15°, some
        // inversion/eversion); triple flexion turns the shank about the knee.
        let axis_seg = perturb(V3::y(), 15.0, rng);
        let p_seg = if triple {
            V3::new(-rng.uniform(0.3, 0.45), 0.0, 0.04)
        } else {
            V3::new(-0.03, 0.0, rng.uniform(0.05, 0.12))
        };
        let axis = m.to_sensor(axis_seg);
        let p = m.to_sensor(p_seg);
        let (u_t, u_c) = JointMove::levers(&axis, &p);
        let r = u_t.norm() * super::body::G0_MPS2;
        let a = angle_deg.to_radians();
        // Rise time that gives the aimed peak tangential acceleration r·A·π²/(2·tr²).
        let tr = (std::f64::consts::PI * (r * a / (2.0 * acc_g * super::body::G0_MPS2)).sqrt())
            .clamp(0.08, dur / 3.0);
        let tf = (tr * rng.uniform(1.0, 2.0)).clamp(0.08, dur / 3.0);
        let profile = if plantar {
            let b = -a * rng.uniform(0.2, 0.5);
            let tp = (tf * 0.8).min(dur / 4.0);
            let tf = tf.min(dur - tr - tp);
            Profile::new(&[
                Step {
                    t0_s: 0.0,
                    dur_s: tr,
                    from: 0.0,
                    to: a,
                },
                Step {
                    t0_s: dur - tf - tp,
                    dur_s: tf,
                    from: a,
                    to: b,
                },
                Step {
                    t0_s: dur - tp,
                    dur_s: tp,
                    from: b,
                    to: 0.0,
                },
            ])
        } else {
            Profile::new(&[
                Step {
                    t0_s: 0.0,
                    dur_s: tr,
                    from: 0.0,
                    to: a,
                },
                Step {
                    t0_s: dur - tf,
                    dur_s: tf,
                    from: a,
                    to: 0.0,
                },
            ])
        };
        let jitter =
            (jitter_g > 0.0).then(|| Tones::new(rng, 6.0, 25f64.min(self.max_f_hz), jitter_g));
        let peak = r * profile.peak_accel() / super::body::G0_MPS2 + jitter_g;
        (
            JointMove {
                profile,
                axis,
                u_t,
                u_c,
                jitter,
                dur_s: dur,
            },
            angle_deg,
            peak,
        )
    }

    fn dur_sleep(rng: &mut Rng) -> f64 {
        if rng.chance(0.08) {
            rng.uniform(5.0, 9.8)
        } else {
            (3.3 + 1.0 * rng.normal()).clamp(0.6, 9.5)
        }
    }

    fn dur_wake(rng: &mut Rng) -> f64 {
        rng.uniform(1.5, 9.8)
    }

    fn is_sleep(&self, t: f64) -> bool {
        in_any(t, &self.sleep)
    }

    /// Legs of one movement: both, or one.
    fn legs(rng: &mut Rng, p_both: f64) -> u8 {
        if rng.chance(p_both) {
            LEGS
        } else if rng.chance(0.5) {
            Limb::LeftLeg.bit()
        } else {
            Limb::RightLeg.bit()
        }
    }

    /// Plans one movement unit (one leg or both) at `t0` lasting about `dur`; returns
    /// false if it does not fit.
    fn try_lm(
        &mut self,
        rng: &mut Rng,
        t0: f64,
        dur: f64,
        legs: u8,
        group: Option<u32>,
        guard_lm: f64,
    ) -> bool {
        let t0 = ms(t0);
        let lying = self.lying_spans();
        // Plan both components first, then check and commit.
        let mut comps: Vec<(f64, f64, Limb)> = Vec::new();
        let mut first = true;
        for limb in [Limb::LeftLeg, Limb::RightLeg] {
            if legs & limb.bit() == 0 {
                continue;
            }
            // The second leg starts within 0.45 s of the first (bilateral onsets < 0.5 s).
            let (a, d) = if first {
                (t0, dur)
            } else {
                (
                    ms(t0 + rng.uniform(-0.2, 0.45)),
                    (dur * rng.uniform(0.7, 1.3)).clamp(0.6, if dur > 10.0 { 25.0 } else { 9.8 }),
                )
            };
            first = false;
            comps.push((a, ms(a + d), limb));
        }
        for &(a, b, limb) in &comps {
            if !lying.iter().any(|&(s, e)| a >= s + 5.0 && b <= e - 5.0)
                || !self
                    .occ
                    .free(a, b, limb.bit(), self.k.guard_lm_global_s, guard_lm)
            {
                return false;
            }
        }
        let unit = self.next_unit;
        self.next_unit += 1;
        let bilateral = comps.len() == 2;
        let (triple, plantar) = (rng.chance(0.28), rng.chance(0.21));
        let angle0 = rng.log_uniform(self.k.lm_angle_deg.0, self.k.lm_angle_deg.1);
        for (a, b, limb) in comps {
            let angle = if triple {
                (angle0 * rng.uniform(1.5, 2.5)).min(50.0)
            } else {
                angle0 * rng.uniform(0.8, 1.2)
            };
            let acc = rng.log_uniform(self.k.lm_acc_g.0, self.k.lm_acc_g.1);
            let jit = rng.log_uniform(self.k.jitter_g.0, self.k.jitter_g.1);
            let (motion, angle_deg, amp_g) =
                self.joint(rng, limb, b - a, angle, acc, jit, triple, plantar);
            self.occ.add(a, b, limb.bit(), true);
            self.lms.push(LmPlan {
                onset_s: a,
                offset_s: b,
                limb,
                unit,
                group,
                angle_deg,
                amp_g,
                triple,
                plantar,
                bilateral,
                motion,
            });
        }
        true
    }

    /// A periodic series of up to `k` movements starting in sleep (or wake); returns how
    /// many were placed (0 if none fitted).
    fn series(&mut self, rng: &mut Rng, k: usize, sleep: bool) -> usize {
        let p_both = 0.5;
        let one_leg = if rng.chance(0.5) {
            Limb::LeftLeg.bit()
        } else {
            Limb::RightLeg.bit()
        };
        let pattern = rng.weighted(&[0.35, 0.2, 0.2, 0.25]);
        let period = if sleep {
            match rng.weighted(&[0.7, 0.2, 0.1]) {
                0 => rng.uniform(18.0, 40.0),
                1 => rng.uniform(12.0, 18.0),
                _ => rng.uniform(40.0, 70.0),
            }
        } else {
            rng.uniform(11.0, 20.0)
        };
        let group = self.next_group;
        self.next_group += 1;
        for _attempt in 0..60 {
            let Some(t0) = self.time_in(rng, sleep) else {
                return 0;
            };
            let spans = if sleep {
                &self.sleep
            } else {
                &self.wake_in_bed
            };
            let Some(&(_, bout_end)) = spans.iter().find(|&&(a, b)| t0 >= a && t0 < b) else {
                continue;
            };
            let mut placed = 0usize;
            let mut t = t0;
            let mut prev_onset: Option<f64> = None;
            let start_units = self.next_unit;
            while placed < k {
                let iv = if rng.chance(0.05) && 2.0 * period < 85.0 {
                    2.0 * period
                } else {
                    period
                } * (self.k.imi_sigma * rng.normal()).exp();
                let dur = if sleep {
                    Self::dur_sleep(rng)
                } else {
                    Self::dur_wake(rng)
                }
                .min(iv.min(period) - 1.5)
                .max(0.6);
                if t + dur > bout_end - 1.0 {
                    break;
                }
                // No other event between the series' movements.
                if let Some(p) = prev_onset {
                    if !self.occ.free(p, t, 0, self.k.guard_lm_global_s, 0.0) {
                        break;
                    }
                }
                let legs = match pattern {
                    0 => LEGS,
                    1 | 2 => one_leg,
                    _ => Self::legs(rng, p_both),
                };
                if !self.try_lm(rng, t, dur, legs, Some(group), 0.6) {
                    break;
                }
                prev_onset = Some(t);
                placed += 1;
                t += iv;
            }
            if placed >= 4 {
                // Sometimes a short-interval movement breaks the series (§2.3, §3.2).
                if rng.chance(self.k.p_break) {
                    let members: Vec<LmPlan> = self
                        .lms
                        .iter()
                        .filter(|l| l.unit >= start_units)
                        .copied()
                        .collect();
                    let j = rng.below((members.len() - 1) as u64) as usize;
                    let at = members[j].onset_s + rng.uniform(2.0, 8.0);
                    let dur = rng.uniform(0.6, 2.5);
                    let next_onset = members
                        .iter()
                        .map(|l| l.onset_s)
                        .filter(|&o| o > members[j].onset_s + 0.5)
                        .fold(f64::INFINITY, f64::min);
                    if at + dur < next_onset - 1.0 {
                        let legs = Self::legs(rng, 0.4);
                        self.try_lm(rng, at, dur, legs, None, 0.6);
                    }
                }
                return placed;
            }
            // Too short: take it back and try elsewhere.
            self.remove_units(|l| l.unit >= start_units);
        }
        0
    }

    fn remove_units(&mut self, pred: impl Fn(&LmPlan) -> bool) {
        let gone: Vec<LmPlan> = self.lms.iter().filter(|l| pred(l)).copied().collect();
        for l in &gone {
            self.occ.remove_lm(l.onset_s, l.offset_s, l.limb.bit());
        }
        self.lms.retain(|l| !pred(l));
    }

    fn leg_movements(&mut self, rng: &mut Rng) {
        let sleep_h = self.sleep_s() / 3600.0;
        let (lo, hi) = self.cfg.severity.plmsi_range_per_h();
        let target = self.target_plmsi;
        let mean_len = match self.cfg.severity {
            Severity::None => 5.0,
            Severity::Mild => 15.0,
            Severity::Moderate => 30.0,
            Severity::Severe => 60.0,
        };
        let need = (target * sleep_h).round() as usize;
        let mut planned = 0usize;
        let mut failures = 0;
        while planned < need && failures < 20 {
            let k = (4.0 + rng.log_uniform(1.0, 2.0 * mean_len)).round() as usize;
            let n = self.series(rng, k.min(need - planned + 4), true);
            if n == 0 {
                failures += 1;
            }
            planned += n;
        }
        // PLM in quiet wakefulness (PLMW), shorter intervals (§2.3).
        if self.cfg.severity != Severity::None {
            let sev = Severity::ALL
                .iter()
                .position(|s| *s == self.cfg.severity)
                .unwrap_or(0) as f64;
            let n = rng.poisson(0.5 + 0.7 * sev);
            for _ in 0..n {
                let k = 4 + rng.below(9) as usize;
                self.series(rng, k, false);
            }
        }
        let bed_h = (self.in_bed.1 - self.in_bed.0) / 3600.0;
        // Isolated movements anywhere in bed.
        let n = rng.poisson(self.k.isolated_per_h * bed_h);
        for _ in 0..n {
            for _ in 0..20 {
                let sleep = rng.chance(0.7);
                let Some(t) = self.time_in(rng, sleep) else {
                    break;
                };
                let dur = if sleep {
                    Self::dur_sleep(rng)
                } else {
                    Self::dur_wake(rng)
                };
                let legs = Self::legs(rng, 0.3);
                if self.try_lm(rng, t, dur, legs, None, self.k.iso_guard_s) {
                    break;
                }
            }
        }
        // Short-interval clusters: 2–3 movements 2–8 s apart.
        let n = rng.poisson(self.k.clusters_per_h * bed_h);
        for _ in 0..n {
            for _ in 0..20 {
                let sleep = rng.chance(0.6);
                let Some(t) = self.time_in(rng, sleep) else {
                    break;
                };
                let legs = Self::legs(rng, 0.3);
                let dur = rng.uniform(0.6, 3.0);
                if self.try_lm(rng, t, dur, legs, None, self.k.iso_guard_s.min(20.0)) {
                    let mut at = t;
                    for _ in 0..(1 + rng.below(2)) {
                        at += dur.max(1.0) + rng.uniform(1.0, 6.0);
                        let legs = Self::legs(rng, 0.3);
                        let d = rng.uniform(0.6, 3.0);
                        self.try_lm(rng, at, d, legs, None, 0.6);
                    }
                    break;
                }
            }
        }
        // Long movements in wake (> 10 s: non-candidates that break series).
        let wake_h: f64 = self.wake_in_bed.iter().map(|(a, b)| b - a).sum::<f64>() / 3600.0;
        let n = rng.poisson(0.5 * wake_h + 0.2);
        for _ in 0..n {
            for _ in 0..20 {
                let Some(t) = self.time_in(rng, false) else {
                    break;
                };
                let legs = Self::legs(rng, 0.3);
                let d = rng.uniform(10.5, 20.0);
                if self.try_lm(rng, t, d, legs, None, 5.0) {
                    break;
                }
            }
        }
    }

    /// Moves movements off the scoring rules' decision edges (IMI of 5, 10 or 90 s, merge
    /// gap of 0.5 s, to within 2 ms), so that truth does not hinge on a rounding.
    fn nudge(&mut self, legs: u8) {
        for _pass in 0..8 {
            let mut idx: Vec<usize> = (0..self.lms.len())
                .filter(|&i| legs & self.lms[i].limb.bit() != 0)
                .collect();
            idx.sort_by(|&a, &b| self.lms[a].onset_s.total_cmp(&self.lms[b].onset_s));
            let mut moved = false;
            for (n, &i) in idx.iter().enumerate() {
                for &j in &idx[n + 1..] {
                    let (a, b) = (self.lms[i], self.lms[j]);
                    let imi = b.onset_s - a.onset_s;
                    if imi > 91.0 {
                        break;
                    }
                    let gap = b.onset_s - a.offset_s;
                    let near = |x: f64, edge: f64| (x - edge).abs() < 0.002;
                    if near(imi, 5.0) || near(imi, 10.0) || near(imi, 90.0) || near(gap, 0.5) {
                        let l = &mut self.lms[j];
                        l.onset_s = ms(l.onset_s + 0.005);
                        l.offset_s = ms(l.offset_s + 0.005);
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn repair(&mut self, rng: &mut Rng) -> (Vec<ScoredLm>, u32) {
        let legs = scored_legs(self.cfg.layout);
        let (lo, hi) = self.cfg.severity.plmsi_range_per_h();
        let sleep_h = self.sleep_s() / 3600.0;
        let mid = self.target_plmsi;
        // Close enough to the target: within 15 % of the range's width.
        let tol = 0.15 * (hi - lo);
        let mut steps = 0;
        loop {
            self.nudge(legs);
            let scored = score_legs(&self.cfg, &self.lms, legs);
            let n_plms = scored
                .iter()
                .filter(|s| s.series_id.is_some() && self.is_sleep(s.onset_s))
                .count();
            let plmsi = n_plms as f64 / sleep_h;
            let in_range = plmsi >= lo && plmsi < hi;
            if (in_range && (plmsi - mid).abs() <= tol) || (in_range && steps >= 40) || steps >= 80
            {
                return (scored, steps);
            }
            steps += 1;
            if plmsi < mid {
                let deficit = ((mid - plmsi) * sleep_h).ceil().max(4.0) as usize;
                self.series(rng, deficit.min(200), true);
            } else {
                let excess = n_plms
                    .saturating_sub((mid * sleep_h).floor() as usize)
                    .max(1);
                // The longest scored series in sleep loses its last movements, or all.
                let mut by_series: std::collections::BTreeMap<u32, Vec<&ScoredLm>> =
                    std::collections::BTreeMap::new();
                for s in &scored {
                    if let Some(id) = s.series_id {
                        if self.is_sleep(s.onset_s) {
                            by_series.entry(id).or_default().push(s);
                        }
                    }
                }
                let Some(longest) = by_series.values().max_by_key(|v| v.len()) else {
                    return (scored, steps);
                };
                let drop: Vec<&ScoredLm> = if longest.len() >= excess + 4 {
                    longest[longest.len() - excess..].to_vec()
                } else {
                    longest.clone()
                };
                let units: Vec<u32> = drop.iter().flat_map(|s| s.units.clone()).collect();
                self.remove_units(|l| units.contains(&l.unit));
            }
        }
    }

    fn twitches(&mut self, rng: &mut Rng) {
        let sleep_h = self.sleep_s() / 3600.0;
        for limb in Limb::ALL {
            let n = rng.poisson(self.k.twitch_per_h * sleep_h);
            for _ in 0..n {
                let Some(t0) = self.time_in(rng, true) else {
                    break;
                };
                let dur = rng.uniform(0.02, 0.15);
                let t0 = ms(t0);
                let t1 = ms(t0 + dur);
                if !self.occ.free(t0, t1, limb.bit(), 1.0, 1.0) {
                    continue;
                }
                let amp = rng.log_uniform(0.003, self.k.twitch_max_g);
                let p = Pulse::new(
                    dur,
                    rng.uniform(10.0, 25f64.min(self.max_f_hz)),
                    dur / 2.0,
                    amp,
                    random_unit(rng),
                    random_unit(rng),
                    rng.uniform(0.0, 0.3).to_radians(),
                );
                self.items[limb.idx()].push(Item {
                    start_s: t0,
                    end_s: t1,
                    wave: Wave::Pulse(p),
                });
                let mut a = [0.0; 3];
                a[limb.idx()] = amp;
                self.others.push(OtherPlan {
                    kind: OtherKind::Twitch,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: limb.bit(),
                    amp_g: a,
                    angle_deg: [0.0; 3],
                    detail: "twitch".into(),
                });
            }
        }
    }

    /// Breathing turns a wrist lying on the chest or belly by up to a degree.
    fn breathing(&mut self, rng: &mut Rng) {
        let f_hz = rng.uniform(0.2, 0.3);
        for w in self.poses.windows(2) {
            let (_, start, pose) = w[0];
            let (end, _, _) = w[1];
            if pose.upright || end - start < 20.0 {
                continue;
            }
            let amp = rng.uniform(0.0, 1.0);
            let wobble = Wobble::new(rng, f_hz, f_hz * 1.001, amp);
            self.items[Limb::Wrist.idx()].push(Item {
                start_s: start,
                end_s: end,
                wave: Wave::Shake(Shake {
                    dur_s: end - start,
                    tones: Tones::new(rng, 1.0, 2.0, 0.0),
                    wobble,
                }),
            });
        }
    }

    fn gaps(&self, rng: &mut Rng, track: &Track, limb: Limb) -> Vec<(f64, f64)> {
        let mut gaps: Vec<(f64, f64)> = Vec::new();
        let n = 1 + rng.below(3);
        let (bed0, bed1) = self.in_bed;
        for _ in 0..n {
            for _ in 0..50 {
                let len = rng.log_uniform(2.0, 300.0);
                if bed1 - bed0 < len + 120.0 {
                    break;
                }
                let a = ms(rng.uniform(bed0 + 60.0, bed1 - 60.0 - len));
                let b = ms(a + len);
                let clear = |s: f64, e: f64| b + 2.0 <= s || a - 2.0 >= e;
                let busy_item = track.items.iter().any(|i| !clear(i.start_s, i.end_s));
                let busy_rest = track.changes.iter().any(|c| !clear(c.t0_s, c.t1_s));
                let busy_lm = self
                    .lms
                    .iter()
                    .any(|l| l.limb == limb && !clear(l.onset_s, l.offset_s));
                let busy_gap = gaps.iter().any(|&(s, e)| !clear(s, e));
                if !(busy_item || busy_rest || busy_lm || busy_gap) {
                    gaps.push((a, b));
                    break;
                }
            }
        }
        gaps.sort_by(|x, y| x.0.total_cmp(&y.0));
        gaps
    }
}

fn position_name(p: &Pose) -> &'static str {
    if p.upright {
        return "upright";
    }
    let r = p.roll_deg.rem_euclid(360.0);
    if !(45.0..315.0).contains(&r) {
        "supine"
    } else if r < 135.0 {
        "left_side"
    } else if r < 225.0 {
        "prone"
    } else {
        "right_side"
    }
}

/// RNG stream numbers, one per part of the plan.
mod stream {
    pub(super) const SCHEDULE: u64 = 1;
    pub(super) const POSTURE: u64 = 2;
    pub(super) const ACTIVITY: u64 = 3;
    pub(super) const JERKS: u64 = 4;
    pub(super) const TRAINS: u64 = 5;
    pub(super) const LEGS: u64 = 6;
    pub(super) const REPAIR: u64 = 7;
    pub(super) const TWITCH: u64 = 8;
    pub(super) const BREATH: u64 = 9;
    pub(super) const TARGET: u64 = 11;
    pub(super) const SENSOR: u64 = 10; // + limb
    pub(super) const GAPS: u64 = 20; // + limb
}

impl Plan {
    /// Plans a night. The config must be valid.
    pub(crate) fn new(cfg: &SimConfig) -> Plan {
        let seed = cfg.seed;
        let rate = cfg.rate_hz * (1.0 + cfg.sensor.rate_error_ppm * 1e-6);
        let mut sensor_rngs: Vec<Rng> = Limb::ALL
            .iter()
            .map(|l| Rng::stream(seed, stream::SENSOR + l.idx() as u64))
            .collect();
        let mounts: Vec<Mount> = sensor_rngs.iter_mut().map(Mount::random).collect();
        let calibs: Vec<Calib> = sensor_rngs
            .iter_mut()
            .map(|r| {
                let s = &cfg.sensor;
                let mut c = Calib {
                    offset_g: [0.0; 3],
                    gain: [1.0; 3],
                    drift_g: [0.0; 3],
                    phase_s: r.uniform(0.0, 1.0 / rate),
                };
                for k in 0..3 {
                    c.offset_g[k] = r.uniform(-s.offset_max_g, s.offset_max_g);
                    c.gain[k] = 1.0 + r.uniform(-s.gain_error_max, s.gain_error_max);
                    c.drift_g[k] = r.uniform(-s.drift_max_g, s.drift_max_g);
                }
                c
            })
            .collect();
        let mut p = Planner {
            cfg: cfg.clone(),
            k: Knobs::new(cfg.difficulty),
            t_end: cfg.duration_h * 3600.0,
            max_f_hz: 0.4 * cfg.rate_hz,
            mounts: [mounts[0], mounts[1], mounts[2]],
            occ: Occupancy::default(),
            in_bed: (0.0, 0.0),
            sleep: Vec::new(),
            onsets: Vec::new(),
            wake_in_bed: Vec::new(),
            out_of_bed: Vec::new(),
            poses: Vec::new(),
            lms: Vec::new(),
            others: Vec::new(),
            items: [Vec::new(), Vec::new(), Vec::new()],
            next_unit: 0,
            next_group: 0,
            target_plmsi: 0.0,
        };
        {
            let (lo, hi) = cfg.severity.plmsi_range_per_h();
            let mut r = Rng::stream(seed, stream::TARGET);
            p.target_plmsi = r.uniform(lo + 0.15 * (hi - lo), hi - 0.15 * (hi - lo));
        }
        p.schedule(&mut Rng::stream(seed, stream::SCHEDULE));
        p.postures(&mut Rng::stream(seed, stream::POSTURE));
        let mut act = Rng::stream(seed, stream::ACTIVITY);
        p.out_of_bed_activity(&mut act);
        p.fidgets(&mut act);
        p.jerks(&mut Rng::stream(seed, stream::JERKS));
        p.trains(&mut Rng::stream(seed, stream::TRAINS));
        p.leg_movements(&mut Rng::stream(seed, stream::LEGS));
        let (scored, repair_steps) = p.repair(&mut Rng::stream(seed, stream::REPAIR));
        p.twitches(&mut Rng::stream(seed, stream::TWITCH));
        p.breathing(&mut Rng::stream(seed, stream::BREATH));
        // Leg movements become items on their leg; a knee-and-hip flexion also shifts the
        // body a little, which the wrist feels at a few mg.
        let mut breath = Rng::stream(seed, stream::BREATH + 100);
        for l in &p.lms {
            p.items[l.limb.idx()].push(Item {
                start_s: l.onset_s,
                end_s: l.offset_s,
                wave: Wave::Joint(l.motion),
            });
            if l.triple {
                let rms = breath.uniform(0.003, 0.01);
                let tones = Tones::new(&mut breath, 1.0, 6f64.min(p.max_f_hz), rms);
                let wobble = Wobble::new(&mut breath, 0.2, 1.0, 0.3);
                p.items[Limb::Wrist.idx()].push(Item {
                    start_s: l.onset_s,
                    end_s: l.offset_s,
                    wave: Wave::Shake(Shake {
                        dur_s: l.offset_s - l.onset_s,
                        tones,
                        wobble,
                    }),
                });
            }
        }
        let mut tracks: Vec<Track> = Vec::with_capacity(3);
        for limb in Limb::ALL {
            let m = p.mounts[limb.idx()];
            let mut items = std::mem::take(&mut p.items[limb.idx()]);
            items.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
            let rest0 = p
                .poses
                .first()
                .map_or(UnitQuaternion::identity(), |(_, _, pose)| {
                    m.orientation(pose, limb)
                });
            let changes = p
                .poses
                .windows(2)
                .map(|w| RestChange {
                    t0_s: w[1].0,
                    t1_s: w[1].1,
                    from: m.orientation(&w[0].2, limb),
                    to: m.orientation(&w[1].2, limb),
                })
                .collect();
            let mut track = Track {
                items,
                rest0,
                changes,
                gaps: Vec::new(),
                calib: calibs[limb.idx()],
            };
            if cfg.sensor.gaps {
                track.gaps = p.gaps(
                    &mut Rng::stream(seed, stream::GAPS + limb.idx() as u64),
                    &track,
                    limb,
                );
            }
            tracks.push(track);
        }
        let mut tracks = tracks.into_iter();
        let (Some(t0), Some(t1), Some(t2)) = (tracks.next(), tracks.next(), tracks.next()) else {
            unreachable_tracks()
        };
        p.lms.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        p.others.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        Plan {
            cfg: cfg.clone(),
            duration_s: p.t_end,
            in_bed: p.in_bed,
            sleep: p.sleep,
            onsets: p.onsets,
            out_of_bed: p.out_of_bed,
            lms: p.lms,
            others: p.others,
            tracks: [t0, t1, t2],
            scored,
            repair_steps,
        }
    }
}

#[cold]
#[inline(never)]
#[allow(clippy::panic)] // three tracks are built from Limb::ALL just above; no data can change that
fn unreachable_tracks() -> ! {
    panic!("a plan has exactly three tracks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_ordered_and_inside_the_recording() {
        for seed in 0..20 {
            let cfg = SimConfig {
                duration_h: 2.0 + f64::from(seed as u32 % 7),
                ..SimConfig::new(seed)
            };
            let p = Plan::new(&cfg);
            let (b0, b1) = p.in_bed;
            assert!(0.0 < b0 && b0 < b1 && b1 < p.duration_s);
            let mut prev = b0;
            for &(a, b) in &p.sleep {
                assert!(a >= prev && b > a, "seed {seed}: {a} {b}");
                prev = b;
            }
            assert!(prev <= b1);
            assert_eq!(p.onsets.len(), p.sleep.len());
            for l in &p.lms {
                assert!(l.offset_s > l.onset_s && l.onset_s >= b0 && l.offset_s <= b1);
            }
        }
    }

    #[test]
    fn ms_rounds_to_the_millisecond_grid() {
        assert_eq!(ms(1.0004), 1.0);
        assert_eq!(ms(1.0006), 1.001);
    }
}
