//! Hysteresis segmentation: block envelopes → movements with onset, offset and features.
//!
//! The structure mirrors the EMG scoring rules (domain.md §3.3): a movement starts where an
//! envelope reaches the onset threshold, reaching back to where it last rose above the lower
//! offset threshold, and ends only after [`merge_gap_s`](crate::config::SegmentConfig) (0.5 s)
//! below the offset threshold on every channel, so parts closer than that are one movement.
//!
//! A posture change ends differently: the gravity direction moves and *stays* moved, so the
//! rotation channel never falls back. When the orientation has held still, displaced, for
//! [`settle_s`](crate::config::SegmentConfig) (longer than any candidate leg movement, so a
//! held dorsiflexion is not cut), the movement is closed at its last motion and the detector
//! takes the new orientation as the resting one.
//!
//! After a movement ends, the new orientation is averaged over
//! [`post_window_s`](crate::config::SegmentConfig) so that the orientation change
//! (`angle_deg`) compares rest before with rest after, not a moment of the movement itself.

use crate::envelope::Thresholds;

/// One block as the segmenter sees it: envelopes in g, orientation vectors calibrated, in g.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct BlockView {
    /// Time of the block's first sample, in seconds.
    pub(crate) t_start_s: f64,
    /// Time of the block's last sample, in seconds.
    pub(crate) t_end_s: f64,
    /// RMS of the linear channel over the block, in g.
    pub(crate) e_h_g: f64,
    /// RMS of the rotation channel over the block, in g.
    pub(crate) e_r_g: f64,
    /// Largest sample-to-sample rate of change of acceleration in the block, in g/s.
    pub(crate) jerk_g_per_s: f64,
    /// Gravity estimate at the block's end, calibrated, in g.
    pub(crate) g_fast: [f64; 3],
    /// Resting orientation, calibrated, in g.
    pub(crate) g_rest: [f64; 3],
    /// Thresholds of the linear channel.
    pub(crate) th_h: Thresholds,
    /// Thresholds of the rotation channel.
    pub(crate) th_r: Thresholds,
}

/// Timing settings of the segmenter, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SegmentPlan {
    pub(crate) merge_gap_s: f64,
    pub(crate) post_window_s: f64,
    pub(crate) settle_s: f64,
    /// Lag of the rotation channel behind the motion (the gravity filter's group delay),
    /// subtracted from its onset crossings and from the end crossings of both channels.
    pub(crate) rotation_delay_s: f64,
    /// Weight of a block in the orientation smoothing behind `Movement::wander` (see
    /// [`wander_alpha`]).
    pub(crate) wander_alpha: f64,
    /// Hold, displaced from rest, after which coming back to the held orientation and
    /// staying as long settles the movement (`segment.return_hold_s`); `None`: only
    /// `settle_s` settles.
    pub(crate) return_hold_s: Option<f64>,
}

/// The smoothing weight per block of the orientation whose path gives `Movement::wander`,
/// for blocks `block_s` apart: a time constant of [`WANDER_TAU_S`] at every rate.
pub(crate) fn wander_alpha(block_s: f64) -> f64 {
    1.0 - (-block_s / WANDER_TAU_S).exp()
}

/// A movement's tail, where its envelopes are above the offset threshold but below this
/// fraction of their peak, keeps it open but does not extend its offset: it is mostly the
/// gravity filter settling after the limb has come back.
const TAIL_FRACTION: f64 = 0.1;

/// A movement's motion ends with its last block above this fraction of its peak: up to its
/// offset the envelopes are mostly the filters settling ([`Movement::tail_s`]).
const MOTION_FRACTION: f64 = 0.2;

/// The longest end under [`MOTION_FRACTION`] taken for the filters settling, in seconds.
/// On the simulated nights such ends reach 2 s and the true movement ends before them; one
/// that goes on longer is weak motion (a limb moving on for seconds after a strong start),
/// and part of the movement.
const MAX_SETTLE_S: f64 = 2.0;

/// Blocks below the offset threshold that separate two bursts of one movement.
const MIN_DIP_BLOCKS: u32 = 2;

/// Time constant of the orientation smoothing whose path gives a movement's `wander`, in
/// seconds: it keeps most of a limb's slow rocking (a few tenths of a hertz) and drops
/// most of the noise the gravity estimate still holds, whose block-to-block steps would
/// otherwise add up along the path. Chosen on the development nights from 0.3, 0.45 and
/// 0.6 s (hard-night PLM F1 0.951, 0.953, 0.952).
const WANDER_TAU_S: f64 = 0.45;

/// How a movement ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Every channel fell below its offset threshold for the merge gap.
    #[default]
    Quiet,
    /// The orientation held still away from rest for `settle_s`: a new resting orientation.
    Settled,
    /// A gap in the input or the end of the stream cut it.
    Cut,
}

/// A detected movement, before classification.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Movement {
    /// Start, in seconds on the input's clock.
    pub(crate) onset_s: f64,
    /// End, in seconds on the input's clock.
    pub(crate) offset_s: f64,
    /// Peak of the combined envelope √(h² + r²), in g.
    pub(crate) peak_g: f64,
    /// Mean of the combined envelope over the movement, in g.
    pub(crate) mean_g: f64,
    /// Peak of the linear channel, in g.
    pub(crate) peak_h_g: f64,
    /// Peak of the rotation channel, in g.
    pub(crate) peak_r_g: f64,
    /// Peak rate of change of acceleration, in g/s.
    pub(crate) peak_jerk_g_per_s: f64,
    /// Angle between resting gravity before and after, in degrees.
    pub(crate) angle_deg: f64,
    /// Largest tilt away from rest during the movement, in degrees.
    pub(crate) peak_tilt_deg: f64,
    /// Highest envelope-to-onset-threshold ratio reached (≥ 1).
    pub(crate) peak_score: f64,
    /// Separate bursts above the offset threshold (1 for one continuous burst).
    pub(crate) n_bursts: u32,
    /// Time spent above the offset threshold, in seconds.
    pub(crate) active_s: f64,
    /// The end of the movement, in seconds, where its envelopes are under
    /// [`MOTION_FRACTION`] of their peak (0 when none, or longer than [`MAX_SETTLE_S`]):
    /// the filters settling after the limb stopped (a leg's gravity estimate catching up
    /// with a tilt) and the faintest end of the motion. The movement is named over its
    /// whole span, but the duration the scoring rules read ends that much before its offset
    /// ([`Movement::motion_end_s`]).
    pub(crate) tail_s: f64,
    /// Where in time the linear channel's energy above the noise lies: 1 − its RMS distance
    /// from the movement's midpoint over half the movement's length. A limb that moves out,
    /// holds and comes back puts its acceleration at the ends (near 0); shaking that swells
    /// and fades puts it in the middle (near 1); energy spread evenly gives 1 − 1/√3 ≈ 0.42.
    /// 0 when no block's energy rose above the noise.
    pub(crate) centre: f64,
    /// Length of the path of the smoothed orientation over the largest distance from rest
    /// (the rotation channel's peak): about 2 for a limb that moves out and back once, more
    /// for one that wanders back and forth. 0 when unknown (no rotation at all, or a
    /// movement the slow channel found).
    pub(crate) wander: f64,
    /// Resting gravity direction before, calibrated, in g.
    pub(crate) rest_before: [f64; 3],
    /// Resting gravity direction after, calibrated, in g.
    pub(crate) rest_after: [f64; 3],
    /// How the movement ended.
    pub(crate) ending: Ending,
}

impl Movement {
    /// Where the motion ends: the offset without the tail where the filters settle.
    pub(crate) fn motion_end_s(&self) -> f64 {
        self.offset_s - self.tail_s
    }
}

/// What a block step asks of the detector besides emitting a movement.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct StepOutcome {
    /// A movement that has become final.
    pub(crate) movement: Option<Movement>,
    /// Take the current orientation as the resting one (a posture change settled).
    pub(crate) settle_rest: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Open {
    m: Movement,
    sum_m: f64,
    n_m: u32,
    // Quiet blocks not yet known to be inside the movement: their sums join on resumption.
    pending_sum_m: f64,
    pending_n_m: u32,
    last_above_s: f64,
    /// End of the last block still strong: above the offset threshold and above
    /// `TAIL_FRACTION` of the movement's peak so far on the same channel.
    last_strong_s: f64,
    /// The same above `MOTION_FRACTION`.
    last_moving_s: f64,
    quiet_since_s: Option<f64>,
    anchor: [f64; 3],
    last_motion_s: f64,
    hold_sum: [f64; 3],
    hold_n: u32,
    /// The mean orientation of the last hold, displaced from rest, that lasted
    /// `return_hold_s` before the limb moved again: the posture its later motions come back
    /// to.
    held: Option<[f64; 3]>,
    block_s: f64,
    /// The linear channel's energy above the noise, summed over the blocks with its first
    /// and second moments in time (from the movement's onset): `[Σw, Σw·t, Σw·t²]`.
    energy: [f64; 3],
    /// The smoothed orientation and its path so far.
    wander_g: [f64; 3],
    path_g: f64,
}

impl Open {
    /// True when the current hold has lasted `return_hold_s` by `t_s`.
    fn held_for(&self, plan: &SegmentPlan, t_s: f64) -> bool {
        self.hold_n > 0
            && plan
                .return_hold_s
                .is_some_and(|x| t_s - self.last_motion_s >= x)
    }

    /// Mean orientation of the current hold (at least one block).
    fn hold_mean(&self) -> [f64; 3] {
        let n = f64::from(self.hold_n.max(1));
        self.hold_sum.map(|s| s / n)
    }

    /// Adds a block to the energy moments and the orientation's path.
    fn track(&mut self, plan: &SegmentPlan, b: &BlockView) {
        // Energy above twice the noise's: the floor is about half the offset threshold, so
        // a block of noise alone adds little or nothing.
        let w = (b.e_h_g * b.e_h_g - 0.5 * b.th_h.off_g * b.th_h.off_g).max(0.0);
        let t = 0.5 * (b.t_start_s + b.t_end_s) - self.m.onset_s;
        self.energy[0] += w;
        self.energy[1] += w * t;
        self.energy[2] += w * t * t;
        let before = self.wander_g;
        for (s, g) in self.wander_g.iter_mut().zip(b.g_fast) {
            *s += plan.wander_alpha * (g - *s);
        }
        self.path_g += dist(self.wander_g, before);
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Post {
    m: Movement,
    sum: [f64; 3],
    n: u32,
    until_s: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Phase {
    #[default]
    Idle,
    Active(Open),
    Post(Post),
}

/// The segmenter's state.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Segmenter {
    phase: Phase,
    /// Start of the current run above an offset threshold, while no movement is open.
    run_start_s: Option<f64>,
    /// Earliest time a movement may start (the first sample after the last gap).
    floor_time_s: f64,
}

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// Angle between two vectors, in degrees; 0 when either is (nearly) zero.
pub(crate) fn angle_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
    let na = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    let nb = (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]).sqrt();
    if na < 1e-9 || nb < 1e-9 {
        return 0.0;
    }
    // atan2 of |a×b| and a·b stays accurate for small angles, unlike acos.
    let c = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    let cross = (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt();
    let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    cross.atan2(dot).to_degrees()
}

/// Tilt angle that moves a vector of length `norm_g` by a chord of `chord_g`, in degrees.
pub(crate) fn chord_to_deg(chord_g: f64, norm_g: f64) -> f64 {
    if norm_g <= 0.0 {
        return 0.0;
    }
    let half = (chord_g / (2.0 * norm_g)).clamp(0.0, 1.0);
    2.0 * half.asin().to_degrees()
}

pub(crate) fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

impl Segmenter {
    /// True while a movement is open (the floor and the resting orientation stay frozen).
    pub(crate) fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Active(_))
    }

    /// True while a movement is open or closing.
    pub(crate) fn holds_movement(&self) -> bool {
        !matches!(self.phase, Phase::Idle)
    }

    /// True when no movement is open or closing and nothing is rising: a quiet block changes
    /// nothing then, and need not be stepped.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle) && self.run_start_s.is_none()
    }

    /// Earliest onset a movement not yet delivered can have: the open or closing movement's
    /// onset, or the start of a rising run; `None` when nothing is pending.
    pub(crate) fn pending_onset_s(&self) -> Option<f64> {
        let open = match &self.phase {
            Phase::Idle => None,
            Phase::Active(o) => Some(o.m.onset_s),
            Phase::Post(p) => Some(p.m.onset_s),
        };
        match (open, self.run_start_s) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// True while a channel is above its offset threshold but no movement has started yet.
    pub(crate) fn is_rising(&self) -> bool {
        self.run_start_s.is_some()
    }

    /// No movement may start before `t_s` (the first sample after a gap).
    pub(crate) fn set_floor_time(&mut self, t_s: f64) {
        self.floor_time_s = t_s;
    }

    /// Advances by one block.
    pub(crate) fn step(&mut self, plan: &SegmentPlan, b: &BlockView) -> StepOutcome {
        let h_on = b.e_h_g >= b.th_h.on_g;
        let r_on = b.e_r_g >= b.th_r.on_g;
        let h_off = b.e_h_g >= b.th_h.off_g;
        let r_off = b.e_r_g >= b.th_r.off_g;
        let above_on = h_on || r_on;
        let above_off = h_off || r_off;
        // When only the rotation channel is up, its crossing lags the motion.
        let start_here = if h_off {
            b.t_start_s
        } else {
            b.t_start_s - plan.rotation_delay_s
        }
        .max(self.floor_time_s);
        // Ends lag on both channels: the linear one is the input minus the gravity estimate,
        // and rings while that estimate settles after the limb has stopped. A block that is
        // still up ends the movement no later than its first sample.
        let end_here = (b.t_end_s - plan.rotation_delay_s).max(b.t_start_s);
        let m_here = (b.e_h_g * b.e_h_g + b.e_r_g * b.e_r_g).sqrt();
        let score = (b.e_h_g / b.th_h.on_g).max(b.e_r_g / b.th_r.on_g);
        let mut out = StepOutcome::default();

        match &mut self.phase {
            Phase::Active(o) => {
                o.track(plan, b);
                if above_off {
                    if o.quiet_since_s.is_some() {
                        // A dip of one block is chatter on the threshold, not a new burst.
                        if o.pending_n_m >= MIN_DIP_BLOCKS {
                            o.m.n_bursts += 1;
                        }
                        o.sum_m += o.pending_sum_m;
                        o.n_m += o.pending_n_m;
                    }
                    o.pending_sum_m = 0.0;
                    o.pending_n_m = 0;
                    o.quiet_since_s = None;
                    o.last_above_s = o.last_above_s.max(end_here);
                    let above = |fraction: f64| {
                        (h_off && b.e_h_g >= fraction * o.m.peak_h_g)
                            || (r_off && b.e_r_g >= fraction * o.m.peak_r_g)
                    };
                    if above(TAIL_FRACTION) {
                        o.last_strong_s = o.last_strong_s.max(end_here);
                    }
                    if above(MOTION_FRACTION) {
                        o.last_moving_s = o.last_moving_s.max(end_here);
                    }
                    o.sum_m += m_here;
                    o.n_m += 1;
                    o.m.active_s += o.block_s;
                    o.m.peak_g = o.m.peak_g.max(m_here);
                    o.m.peak_h_g = o.m.peak_h_g.max(b.e_h_g);
                    o.m.peak_r_g = o.m.peak_r_g.max(b.e_r_g);
                    o.m.peak_jerk_g_per_s = o.m.peak_jerk_g_per_s.max(b.jerk_g_per_s);
                    o.m.peak_score = o.m.peak_score.max(score);
                } else {
                    o.pending_sum_m += m_here;
                    o.pending_n_m += 1;
                    let since = *o.quiet_since_s.get_or_insert(b.t_start_s);
                    if b.t_end_s - since >= plan.merge_gap_s {
                        let mut m = finish_open(o);
                        m.ending = Ending::Quiet;
                        self.phase = Phase::Post(Post {
                            m,
                            sum: [0.0; 3],
                            n: 0,
                            until_s: b.t_end_s + plan.post_window_s,
                        });
                        self.run_start_s = None;
                        return out;
                    }
                }
                // Motion: linear activity, or the orientation leaving the hold it was in.
                if h_off || dist(b.g_fast, o.anchor) > b.th_r.on_g {
                    // A hold this long inside an open movement is away from rest (at rest,
                    // the movement would have ended after the merge gap).
                    if o.held_for(plan, b.t_end_s) {
                        o.held = Some(o.hold_mean());
                    }
                    o.anchor = b.g_fast;
                    o.last_motion_s = b.t_end_s;
                    o.hold_sum = [0.0; 3];
                    o.hold_n = 0;
                } else {
                    for (s, g) in o.hold_sum.iter_mut().zip(b.g_fast) {
                        *s += g;
                    }
                    o.hold_n += 1;
                }
                // Still for `settle_s`, or back in an earlier hold for `return_hold_s`: the
                // limb is in a new posture.
                let back_to_held = o.held.is_some_and(|h| {
                    o.held_for(plan, b.t_end_s) && dist(o.hold_mean(), h) <= b.th_r.on_g
                });
                if r_off && (b.t_end_s - o.last_motion_s >= plan.settle_s || back_to_held) {
                    let mut m = finish_open(o);
                    m.offset_s = o.last_motion_s.max(m.onset_s);
                    m.tail_s = 0.0;
                    let after = if o.hold_n > 0 {
                        o.hold_mean()
                    } else {
                        b.g_fast
                    };
                    m.rest_after = after;
                    m.angle_deg = angle_deg(m.rest_before, after);
                    m.ending = Ending::Settled;
                    out.movement = Some(m);
                    out.settle_rest = true;
                    self.phase = Phase::Idle;
                    self.run_start_s = None;
                }
                return out;
            }
            Phase::Post(p) => {
                for (s, g) in p.sum.iter_mut().zip(b.g_fast) {
                    *s += g;
                }
                p.n += 1;
                if !above_on && b.t_end_s >= p.until_s {
                    out.movement = Some(close_post(p));
                    self.phase = Phase::Idle;
                }
            }
            Phase::Idle => {}
        }

        // Idle, or in the post window: track runs above the offset threshold, start on onset.
        if above_off {
            let start = *self.run_start_s.get_or_insert(start_here);
            if above_on {
                if let Phase::Post(p) = &self.phase {
                    out.movement = Some(close_post(p));
                }
                let m = Movement {
                    onset_s: start,
                    offset_s: end_here.max(start),
                    peak_g: m_here,
                    mean_g: 0.0,
                    peak_h_g: b.e_h_g,
                    peak_r_g: b.e_r_g,
                    peak_jerk_g_per_s: b.jerk_g_per_s,
                    angle_deg: 0.0,
                    peak_tilt_deg: 0.0,
                    peak_score: score,
                    n_bursts: 1,
                    active_s: (b.t_end_s - start).max(0.0),
                    tail_s: 0.0,
                    centre: 0.0,
                    wander: 0.0,
                    rest_before: b.g_rest,
                    rest_after: b.g_rest,
                    ending: Ending::Quiet,
                };
                let mut open = Open {
                    m,
                    sum_m: m_here,
                    n_m: 1,
                    last_above_s: end_here.max(start),
                    last_strong_s: end_here.max(start),
                    last_moving_s: end_here.max(start),
                    anchor: b.g_fast,
                    last_motion_s: b.t_end_s,
                    block_s: (b.t_end_s - b.t_start_s).max(0.0),
                    wander_g: b.g_rest,
                    ..Open::default()
                };
                open.track(plan, b);
                self.phase = Phase::Active(open);
                self.run_start_s = None;
            }
        } else {
            self.run_start_s = None;
        }
        out
    }

    /// Ends whatever is open at time `t_s` (a gap follows, or the stream ended), with
    /// `g_fast` as the orientation after; returns the movement that ends, if any.
    pub(crate) fn cut(&mut self, g_fast: [f64; 3]) -> Option<Movement> {
        let phase = std::mem::take(&mut self.phase);
        self.run_start_s = None;
        match phase {
            Phase::Idle => None,
            Phase::Active(o) => {
                let mut m = finish_open(&o);
                m.rest_after = g_fast;
                m.angle_deg = angle_deg(m.rest_before, g_fast);
                m.ending = Ending::Cut;
                Some(m)
            }
            Phase::Post(mut p) => {
                if p.n == 0 {
                    p.sum = g_fast;
                    p.n = 1;
                }
                Some(close_post(&p))
            }
        }
    }
}

fn finish_open(o: &Open) -> Movement {
    let mut m = o.m;
    m.peak_tilt_deg = chord_to_deg(m.peak_r_g, norm(m.rest_before));
    m.offset_s = o.last_strong_s.max(m.onset_s);
    let tail_s = (m.offset_s - o.last_moving_s.max(m.onset_s)).max(0.0);
    m.tail_s = if tail_s <= MAX_SETTLE_S { tail_s } else { 0.0 };
    m.mean_g = if o.n_m > 0 {
        o.sum_m / f64::from(o.n_m)
    } else {
        m.peak_g
    };
    let [w, wt, wt2] = o.energy;
    let half = 0.5 * (m.offset_s - m.onset_s);
    if w > 0.0 && half > 0.0 {
        // The moments are taken from the onset, so the midpoint is `half` after it.
        let spread2 = (wt2 - 2.0 * half * wt + half * half * w) / w;
        m.centre = 1.0 - (spread2.max(0.0).sqrt() / half).min(1.0);
    }
    if m.peak_r_g > 0.0 {
        m.wander = o.path_g / m.peak_r_g;
    }
    m
}

fn close_post(p: &Post) -> Movement {
    let mut m = p.m;
    if p.n > 0 {
        let n = f64::from(p.n);
        m.rest_after = p.sum.map(|s| s / n);
    }
    m.angle_deg = angle_deg(m.rest_before, m.rest_after);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: SegmentPlan = SegmentPlan {
        merge_gap_s: 0.5,
        post_window_s: 1.0,
        settle_s: 12.0,
        rotation_delay_s: 0.0,
        // wander_alpha(0.05): blocks 50 ms apart.
        wander_alpha: 0.1052,
        return_hold_s: None,
    };

    fn th() -> Thresholds {
        Thresholds {
            on_g: 0.010,
            off_g: 0.005,
        }
    }

    /// Blocks of 50 ms from t = 0 with the linear envelope given per block.
    fn blocks(h: &[f64]) -> Vec<BlockView> {
        h.iter()
            .enumerate()
            .map(|(i, &e)| BlockView {
                t_start_s: i as f64 * 0.05,
                t_end_s: i as f64 * 0.05 + 0.04,
                e_h_g: e,
                e_r_g: 0.0,
                jerk_g_per_s: 0.0,
                g_fast: [0.0, 0.0, 1.0],
                g_rest: [0.0, 0.0, 1.0],
                th_h: th(),
                th_r: th(),
            })
            .collect()
    }

    fn run(bs: &[BlockView]) -> Vec<Movement> {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        for b in bs {
            let o = s.step(&PLAN, b);
            out.extend(o.movement);
        }
        out.extend(s.cut([0.0, 0.0, 1.0]));
        out
    }

    fn pulse(quiet_before: usize, levels: &[f64], quiet_after: usize) -> Vec<f64> {
        let mut v = vec![0.001; quiet_before];
        v.extend_from_slice(levels);
        v.extend(std::iter::repeat_n(0.001, quiet_after));
        v
    }

    #[test]
    fn a_pulse_crossing_both_thresholds_gives_one_movement_reaching_back_to_the_off_crossing() {
        // off-level at blocks 20-21, on at 22-29, off at 30-31, then quiet
        let mut lv = vec![0.006; 2];
        lv.extend(vec![0.02; 8]);
        lv.extend(vec![0.006; 2]);
        let ms = run(&blocks(&pulse(20, &lv, 60)));
        assert_eq!(ms.len(), 1);
        let m = ms[0];
        assert!((m.onset_s - 1.0).abs() < 1e-9, "onset {}", m.onset_s);
        // last block above off is block 31, which ends at 31·0.05 + 0.04
        assert!((m.offset_s - 1.59).abs() < 1e-9, "offset {}", m.offset_s);
        assert_eq!(m.n_bursts, 1);
        assert!((m.peak_g - 0.02).abs() < 1e-12);
        assert!((m.peak_score - 2.0).abs() < 1e-12);
        assert_eq!(m.ending, Ending::Quiet);
    }

    #[test]
    fn ends_are_moved_back_by_the_filter_lag_but_not_before_their_block() {
        // The same pulse seen through filters lagging 0.02 s, then 0.3 s: the end moves back
        // by the lag, at most to the first sample of the last block above the offset
        // threshold (block 31, 1.55-1.59 s); the onset, on the linear channel, does not move.
        let mut lv = vec![0.006; 2];
        lv.extend(vec![0.02; 8]);
        lv.extend(vec![0.006; 2]);
        let bs = blocks(&pulse(20, &lv, 60));
        for (lag, offset) in [(0.02, 1.57), (0.3, 1.55)] {
            let plan = SegmentPlan {
                rotation_delay_s: lag,
                ..PLAN
            };
            let mut s = Segmenter::default();
            let ms: Vec<Movement> = bs
                .iter()
                .filter_map(|b| s.step(&plan, b).movement)
                .collect();
            assert_eq!(ms.len(), 1);
            assert!(
                (ms[0].onset_s - 1.0).abs() < 1e-9,
                "onset {}",
                ms[0].onset_s
            );
            assert!(
                (ms[0].offset_s - offset).abs() < 1e-9,
                "offset {}",
                ms[0].offset_s
            );
        }
    }

    #[test]
    fn a_faint_tail_keeps_a_movement_open_but_does_not_extend_its_offset() {
        // A strong burst (0.2 g, blocks 20-29), then a tail above the offset threshold
        // (blocks 30-37): the filters settling. Under a tenth of the peak, the movement stays
        // one movement through the tail and ends where the strong part ended; from a tenth
        // it ends with the tail, and under a fifth the tail is not motion (`tail_s`).
        for (tail_g, offset_s, motion_end_s) in
            [(0.015, 1.49, 1.49), (0.03, 1.89, 1.49), (0.05, 1.89, 1.89)]
        {
            let mut lv = vec![0.2; 10];
            lv.extend(vec![tail_g; 8]);
            let ms = run(&blocks(&pulse(20, &lv, 60)));
            assert_eq!(ms.len(), 1, "{ms:?}");
            let (offset, end) = (ms[0].offset_s, ms[0].motion_end_s());
            assert!(
                (offset - offset_s).abs() < 1e-9,
                "{tail_g}: offset {offset}"
            );
            assert!(
                (end - motion_end_s).abs() < 1e-9,
                "{tail_g}: motion end {end}"
            );
        }
        // Under a fifth for longer than the filters take to settle (2.5 s): weak motion,
        // part of the movement.
        let mut lv = vec![0.2; 10];
        lv.extend(vec![0.03; 50]);
        let ms = run(&blocks(&pulse(20, &lv, 60)));
        assert_eq!(ms.len(), 1, "{ms:?}");
        assert!((ms[0].offset_s - 3.99).abs() < 1e-9, "{}", ms[0].offset_s);
        assert_eq!(ms[0].tail_s, 0.0);
    }

    #[test]
    fn chatter_between_the_thresholds_adds_nothing() {
        let lv: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 0.006 } else { 0.009 })
            .collect();
        assert!(run(&blocks(&pulse(10, &lv, 10))).is_empty());
    }

    #[test]
    fn parts_closer_than_the_merge_gap_are_one_movement_and_farther_are_two() {
        // gap of 8 quiet blocks = 0.4 s (block starts 0.40 s apart): merged
        let mut lv = vec![0.02; 5];
        lv.extend(vec![0.001; 8]);
        lv.extend(vec![0.02; 5]);
        let ms = run(&blocks(&pulse(20, &lv, 60)));
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].n_bursts, 2);
        // gap of 12 quiet blocks: the quiet spell reaches 0.5 s at its 10th block → two
        let mut lv = vec![0.02; 5];
        lv.extend(vec![0.001; 12]);
        lv.extend(vec![0.02; 5]);
        let ms = run(&blocks(&pulse(20, &lv, 60)));
        assert_eq!(ms.len(), 2);
        assert!(ms[0].offset_s < ms[1].onset_s);
    }

    #[test]
    fn a_pulse_below_the_onset_threshold_gives_nothing() {
        assert!(run(&blocks(&pulse(20, &[0.009; 30], 20))).is_empty());
    }

    #[test]
    fn a_held_displacement_settles_into_a_posture_change() {
        // The rotation channel rises and stays up with no motion: after settle_s the movement
        // closes at its last motion, with the held orientation as the new rest.
        let th_r = th();
        let tilted = [0.0, 0.5f64.sin(), 0.5f64.cos()];
        let mut bs = Vec::new();
        for i in 0..600 {
            let t0 = i as f64 * 0.05;
            let moving = (100..140).contains(&i);
            let after = i >= 120;
            bs.push(BlockView {
                t_start_s: t0,
                t_end_s: t0 + 0.04,
                e_h_g: if moving { 0.05 } else { 0.001 },
                e_r_g: if after {
                    0.48
                } else if moving {
                    0.2
                } else {
                    0.0
                },
                jerk_g_per_s: 0.0,
                g_fast: if after { tilted } else { [0.0, 0.0, 1.0] },
                g_rest: [0.0, 0.0, 1.0],
                th_h: th(),
                th_r,
            });
        }
        let mut s = Segmenter::default();
        let mut got = None;
        let mut settle_at = None;
        for b in &bs {
            let o = s.step(&PLAN, b);
            if o.settle_rest {
                settle_at = Some(b.t_end_s);
                got = o.movement;
                break;
            }
        }
        let m = got.expect("settled");
        assert_eq!(m.ending, Ending::Settled);
        assert!((m.onset_s - 5.0).abs() < 1e-9);
        // last motion: block 139 ends at 6.99 s; settles 12 s later
        assert!((m.offset_s - 6.99).abs() < 1e-9, "{}", m.offset_s);
        assert!((settle_at.unwrap() - 18.99).abs() < 0.051);
        assert!((m.angle_deg - 0.5f64.to_degrees()).abs() < 1e-9);
    }

    /// `PLAN` with the return-to-hold rule at 5 s.
    const RETURN_PLAN: SegmentPlan = SegmentPlan {
        return_hold_s: Some(5.0),
        ..PLAN
    };

    /// Blocks of 50 ms at the orientations `g(i)`, moving (linear envelope up) where
    /// `moving(i)`; the rotation channel reads the distance from the upright rest.
    fn posture_blocks(
        n: usize,
        g: impl Fn(usize) -> [f64; 3],
        moving: impl Fn(usize) -> bool,
    ) -> Vec<BlockView> {
        let up = [0.0, 0.0, 1.0];
        (0..n)
            .map(|i| {
                let t0 = i as f64 * 0.05;
                let moving = moving(i);
                BlockView {
                    t_start_s: t0,
                    t_end_s: t0 + 0.04,
                    e_h_g: if moving { 0.05 } else { 0.001 },
                    e_r_g: dist(g(i), up).max(if moving { 0.2 } else { 0.0 }),
                    jerk_g_per_s: 0.0,
                    g_fast: g(i),
                    g_rest: up,
                    th_h: th(),
                    th_r: th(),
                }
            })
            .collect()
    }

    /// The first movement, the end time of the block that emitted it, and whether that
    /// block settled the rest.
    fn first_movement(plan: &SegmentPlan, bs: &[BlockView]) -> Option<(Movement, f64, bool)> {
        let mut s = Segmenter::default();
        bs.iter().find_map(|b| {
            let o = s.step(plan, b);
            o.movement.map(|m| (m, b.t_end_s, o.settle_rest))
        })
    }

    #[test]
    fn a_turn_settles_once_the_leg_is_back_in_its_hold() {
        // Turned from 5 to 7 s, held 7 s, then a leg movement out from the new posture and
        // back (14-16 s), then held again: the turn settles 5 s after that movement, not
        // after `settle_s` of stillness that the movements of a series would never leave.
        let tilted = [0.0, 0.5f64.sin(), 0.5f64.cos()];
        let out = [0.0, 0.7f64.sin(), 0.7f64.cos()];
        let g = |i: usize| match i {
            0..120 => [0.0, 0.0, 1.0],
            280..300 => out,
            _ => tilted,
        };
        let moving = |i: usize| (100..140).contains(&i) || (280..320).contains(&i);
        let bs = posture_blocks(800, g, moving);
        let (m, at, settled) = first_movement(&RETURN_PLAN, &bs).expect("a movement");
        assert!(settled);
        assert_eq!(m.ending, Ending::Settled);
        assert!((m.onset_s - 5.0).abs() < 1e-9);
        assert!((m.offset_s - 15.99).abs() < 1e-9, "{}", m.offset_s);
        assert!((at - 20.99).abs() < 0.051, "{at}");
        assert!((m.angle_deg - 0.5f64.to_degrees()).abs() < 1e-9);
        // Without the rule, only `settle_s` after the last motion.
        let (m, at, _) = first_movement(&PLAN, &bs).expect("a movement");
        assert_eq!(m.ending, Ending::Settled);
        assert!((at - 27.99).abs() < 0.051, "{at}");
    }

    #[test]
    fn a_held_leg_movement_that_comes_back_to_rest_ends_quiet() {
        // Out at 5 s, held 6 s, back to rest at 11-12 s: one leg movement, no new posture.
        let tilted = [0.0, 0.5f64.sin(), 0.5f64.cos()];
        let g = |i: usize| {
            if (120..240).contains(&i) {
                tilted
            } else {
                [0.0, 0.0, 1.0]
            }
        };
        let moving = |i: usize| (100..120).contains(&i) || (240..260).contains(&i);
        let bs = posture_blocks(600, g, moving);
        let (m, _, settled) = first_movement(&RETURN_PLAN, &bs).expect("a movement");
        assert!(!settled);
        assert_eq!(m.ending, Ending::Quiet);
        assert!((m.onset_s - 5.0).abs() < 1e-9);
        assert!((m.offset_s - 12.99).abs() < 0.051, "{}", m.offset_s);
    }

    #[test]
    fn angles_are_exact_for_small_and_right_angles() {
        assert!((angle_deg([0.0, 0.0, 1.0], [0.0, 1.0, 0.0]) - 90.0).abs() < 1e-12);
        let t = 0.5f64.to_radians();
        assert!((angle_deg([0.0, 0.0, 1.0], [0.0, t.sin(), t.cos()]) - 0.5).abs() < 1e-12);
        assert_eq!(angle_deg([0.0; 3], [1.0, 0.0, 0.0]), 0.0);
        assert!((chord_to_deg(2.0 * 1f64.to_radians().sin(), 1.0) - 2.0).abs() < 1e-12);
    }

    /// Blocks of 50 ms from t = 0, each with its linear envelope and its tilt about the x
    /// axis (radians) from a rest straight up; the rotation envelope is the tilt's chord.
    fn tilting(blocks: &[(f64, f64)]) -> Vec<BlockView> {
        blocks
            .iter()
            .enumerate()
            .map(|(i, &(e_h_g, tilt))| {
                let g_fast = [0.0, tilt.sin(), tilt.cos()];
                let g_rest = [0.0, 0.0, 1.0];
                BlockView {
                    t_start_s: i as f64 * 0.05,
                    t_end_s: i as f64 * 0.05 + 0.04,
                    e_h_g,
                    e_r_g: dist(g_fast, g_rest),
                    jerk_g_per_s: 0.0,
                    g_fast,
                    g_rest,
                    th_h: th(),
                    th_r: th(),
                }
            })
            .collect()
    }

    #[test]
    fn a_limb_out_held_and_back_has_its_energy_at_the_ends_and_wanders_out_and_back() {
        // 2° out in 0.2 s with a push, held 2 s, back in 0.2 s with a push.
        let a = 2f64.to_radians();
        let mut lv = vec![(0.001, 0.0); 20];
        lv.extend((1..=4).map(|k| (0.03, a * f64::from(k) / 4.0)));
        lv.extend(vec![(0.001, a); 40]);
        lv.extend((0..4).map(|k| (0.03, a * f64::from(3 - k) / 4.0)));
        lv.extend(vec![(0.001, 0.0); 40]);
        let ms = run(&tilting(&lv));
        assert_eq!(ms.len(), 1, "{ms:?}");
        let m = ms[0];
        assert!(m.centre < 0.15, "centre {}", m.centre);
        // Out and back: twice the reach, less what the smoothing has not followed back when
        // the movement closes.
        assert!((1.5..=2.05).contains(&m.wander), "wander {}", m.wander);
    }

    #[test]
    fn shaking_that_swells_and_fades_has_its_energy_in_the_middle_and_wanders_back_and_forth() {
        // 4 s of shaking under a sin² envelope, the limb rocking ±2° at 0.5 Hz.
        let a = 2f64.to_radians();
        let n = 80;
        let mut lv = vec![(0.001, 0.0); 20];
        lv.extend((0..n).map(|k| {
            let x = f64::from(k) / f64::from(n);
            let swell = (std::f64::consts::PI * x).sin().powi(2);
            (
                0.001 + 0.03 * swell,
                a * (std::f64::consts::TAU * 2.0 * x).sin(),
            )
        }));
        lv.extend(vec![(0.001, 0.0); 40]);
        let ms = run(&tilting(&lv));
        assert_eq!(ms.len(), 1, "{ms:?}");
        let m = ms[0];
        assert!(m.centre > 0.55, "centre {}", m.centre);
        assert!(m.wander > 4.0, "wander {}", m.wander);
        // Evenly spread energy sits between the two.
        let even: Vec<_> = std::iter::repeat_n((0.03, 0.0), 60).collect();
        let m = run(&tilting(
            &[vec![(0.001, 0.0); 20], even, vec![(0.001, 0.0); 40]].concat(),
        ))[0];
        assert!(
            (m.centre - (1.0 - 1.0 / 3f64.sqrt())).abs() < 0.05,
            "{}",
            m.centre
        );
        assert_eq!(m.wander, 0.0, "no rotation, no wander");
    }
}
