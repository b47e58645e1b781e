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

use super::body::{Item, JointMove, Limb, Mount, Pose, RestChange, Shake, Tones, Wave, Wobble};
use super::config::{Layout, SimConfig};
use super::rng::Rng;
use super::truth::ScoredLm;

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
            jitter_g: (lerp(0.01, 0.005, d), lerp(0.04, 0.03, d)),
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

/// A count from a planning quantity (finite by construction), rounded to nearest and
/// clamped to [0, 1e9].
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped just before
pub(crate) fn count(x: f64) -> usize {
    let x = x.round();
    if x.is_nan() {
        return 0;
    }
    x.clamp(0.0, 1e9) as usize
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
        if let Some(i) = self.spans.iter().position(|&(s, e, m, lm)| {
            lm && m == mask && s.to_bits() == a.to_bits() && e.to_bits() == b.to_bits()
        }) {
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
    /// PLMS index the night aims at, per hour of sleep (inside the severity's range).
    target_plmsi: f64,
    /// Series keep 10 s clear of other scored leg movements (see [`Plan::new`]).
    clear_series: bool,
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
}

mod brief;
mod legs;
mod schedule;

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
    ///
    /// A crowded night (short, severe, hard) can defeat the severity repair: series added on
    /// one leg fall between the other leg's, the scoring rule sees intervals under 10 s and
    /// the series break instead of counting. Such a night is planned again from the same
    /// seed with every series kept 10 s clear of other scored leg movements; a night the
    /// repair brings into range is never planned twice, so its events stay as they were.
    pub(crate) fn new(cfg: &SimConfig) -> Plan {
        let (plan, in_range) = Plan::attempt(cfg, false);
        if in_range {
            plan
        } else {
            Plan::attempt(cfg, true).0
        }
    }

    /// One planning of the night; true if the scored PLMS index is in the severity's range.
    fn attempt(cfg: &SimConfig, clear_series: bool) -> (Plan, bool) {
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
            // On the 1 ms grid of truth times, so that no event ends past the recording.
            t_end: ms(cfg.duration_h * 3600.0),
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
            target_plmsi: 0.0,
            clear_series,
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
        let (scored, repair_steps, in_range) = p.repair(&mut Rng::stream(seed, stream::REPAIR));
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
        let plan = Plan {
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
        };
        (plan, in_range)
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
                duration_h: 2.0 + (seed % 7) as f64,
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
    fn leg_movement_angles_start_and_end_at_zero_without_jumps() {
        // A movement's waveform stops at its offset, so an angle left over at the end would
        // be a jump back to baseline in the samples. Every planned movement (and every burst
        // of a train) must start and end at angle 0 and change smoothly in between.
        for seed in 0..6 {
            let cfg = SimConfig {
                duration_h: 3.0,
                difficulty: seed as f64 / 5.0,
                severity: crate::sim::Severity::Severe,
                layout: Layout::Bilateral,
                ..SimConfig::new(seed)
            };
            let p = Plan::new(&cfg);
            let mut n = 0;
            for track in &p.tracks {
                for item in &track.items {
                    let Wave::Joint(m) = &item.wave else { continue };
                    let dur = item.end_s - item.start_s;
                    assert!((m.dur_s - dur).abs() < 1e-9);
                    let (a0, _, _) = m.profile.eval(0.0);
                    let (a1, w1, _) = m.profile.eval(dur - 1e-9);
                    assert!(
                        a0.abs() < 1e-12 && a1.abs() < 1e-6 && w1.abs() < 1e-3,
                        "{m:?}"
                    );
                    // No jump larger than the steepest step allows over 1 ms.
                    let mut prev = a0;
                    let steps = count(dur * 1000.0);
                    for i in 1..=steps {
                        let (a, _, _) = m.profile.eval(i as f64 * 1e-3);
                        assert!((a - prev).abs() < 0.01, "jump at {i} ms: {m:?}");
                        prev = a;
                    }
                    n += 1;
                }
            }
            assert!(n > 100, "seed {seed}: only {n} joint movements");
        }
    }

    #[test]
    fn ms_rounds_to_the_millisecond_grid() {
        assert_eq!(ms(1.0004), 1.0);
        assert_eq!(ms(1.0006), 1.001);
    }
}
