//! Naming movements: a group of simultaneous movements on the worn sensors becomes one event.
//!
//! Movements on different sensors that overlap or follow within 0.5 s form a *group* (the
//! WASM 2016 cross-leg merge, domain.md §3.2 step 3, applied to every site; a leg movement
//! is measured against the group's legs once it has some, so that a wrist's long movement
//! bridges no leg movements). A group gets exactly one class, decided in this order:
//!
//! 1. **Posture change** when any sensor's resting gravity direction moved by at least
//!    `posture_min_deg` and stayed (domain.md §2.4: tens of degrees, persistent), or the
//!    segmenter settled on a new orientation.
//! 2. **Hypnic jerk** when every part is brief (≤ `jerk_max_s`; EMG bursts are 75–250 ms,
//!    §2.1, and the sensor rings a little longer), the strongest linear acceleration reaches
//!    `jerk_min_g`, the orientation barely changes, the transient is seen on at least two
//!    sensors when two or more are worn ("often whole-body", §2.1), and no other movement
//!    comes within `jerk_isolation_s` — except other jerks: several can come at one onset.
//!    A transient seen on every worn sensor, a wrist among them, needs only
//!    `jerk_body_isolation_s` of quiet: reaching every limb at once is what makes it a jerk,
//!    and a leg movement seconds away does not make it part of one.
//!    (Where a periodic series expects its next member and a worn wrist did not feel the
//!    transient, or where it follows two periodic leg movements and the next one follows it
//!    in turn, the detector makes it a leg movement after all: see [`crate::detector`].)
//! 3. **Activity** for fidgeting on a leg: a leg movement whose linear acceleration swells
//!    in its middle (`restless_min_centre`) while its orientation wanders back and forth
//!    (`restless_min_wander`). A leg movement moves the foot out and back once, its
//!    acceleration marking the start and the end (domain.md §2.2: "orientation returning to
//!    baseline", "one burst"); fidgeting goes on through its middle and rocks the limb to
//!    and fro (§2.5: "duration and continuity"). Either sign alone is not enough.
//! 4. **Other** for rhythmic trains (hypnagogic foot tremor, ALMA, high-frequency leg
//!    movements, §2.6: many bursts at 0.3–4 Hz) and for brief movements that are not jerks
//!    (fragmentary myoclonus and twitches, shorter than the 0.5 s an LM needs). A train as
//!    strong as walking or fidgeting (`activity_min_g`), or longer than any tremor or ALMA
//!    train (`train_max_s`), is activity instead; but asleep, a train as strong and no
//!    longer than `activity_min_asleep_s` is one large leg movement, named by the rules
//!    below. One or two movements a leg, the legs' span shorter than a whole train
//!    (`train_min_s`), are no train however many bursts they have when nothing could be
//!    another piece of one: no neighbour at all, or, asleep, neighbours that are leg
//!    movements (no burst) none closer than `chatter_quiet_s`. A small leg movement under
//!    noise chatters on the offset threshold, and on a crowded night of periodic movements
//!    the next leg movement may come within seconds.
//! 5. **Activity** for sustained movement: longer than `activity_min_s` (wake movement is
//!    tens of seconds and longer, §2.5; a candidate LM ends by 10 s), in confirmed sleep
//!    longer than `activity_min_asleep_s`, or a wrist moving
//!    for seconds together with the legs (a whole-body movement, not a leg movement).
//! 6. **Leg movement** otherwise, when a leg sensor moved for at least 0.5 s; the series
//!    rule later makes it `plm` or `lm`. But a movement on the legs alone, fainter than
//!    `activity_min_g`, that lies between two bursts (movements shorter than an LM, jerks
//!    aside), one ending within `chatter_quiet_s` before it and one starting within that
//!    after it, is `other`: a piece of a tremor or ALMA train (1–2 bursts a second, §2.6)
//!    seen apart from the bursts around it, which would otherwise complete a false series.
//!    Shorter, it is a leg movement only when it is a transient too strong for a twitch
//!    (`lm_transient_min_g`), on the legs alone, with no neighbour, asleep, and not a jerk:
//!    the start of a foot movement whose held part the sensor cannot see (a dorsiflexion
//!    about an axis near the vertical, as when lying on the side, barely moves gravity, and
//!    the noise hides the rest). Its length is unknown, so it is reported at the shortest
//!    an LM may be, `lm_min_s` from its onset. When the return of such a foot movement is
//!    seen too — one more brief transient on a leg it shares, ending within `pair_max_s` of
//!    its onset, with no burst (a movement shorter than an LM, jerks aside: a train's)
//!    within the jerk isolation time before the push or after the return, and the two not
//!    both jerk-like — leg movements close by do not stop it, as on crowded nights a foot's
//!    neighbours are other leg movements — the detector joins the two groups before naming
//!    them, and they are one leg movement from the push's onset to the return's end, in
//!    wake as in sleep: seen at both ends, it is no lone transient. Likewise a foot held
//!    out for seconds: a movement on the legs alone that leaves its leg tilted by
//!    `hold_min_deg` or more, followed at least `hold_min_gap_s` later by one that brings
//!    that leg back to within half the tilt of where it was, ending within `pair_max_s` of
//!    the first's onset, is one leg movement with it. A wrist-only movement
//!    is activity when it lasts seconds and is clearly above noise (fidgeting), `other`
//!    otherwise (a twitch, a breath).
//!
//! *Asleep* in these rules means sleep confirmed by the tracker ([`crate::sleep`]) or no wake
//! movement for `SleepConfig::settle_s` (a minute): a confirmed onset is dated back to the
//! start of the stillness, so waiting for the confirmation would name the first ten minutes
//! of sleep as wake. The length rule (5) alone waits for the confirmation: minutes after a
//! wake, getting up and walking about is as long as a long leg movement of sleep.
//!
//! Two rules then look across groups (in the detector): four or more leg movements in a
//! row, each within 4 s of the last (0.3 Hz or faster, with room for a faint train seen in
//! pieces), are a high-frequency train (`other`), and activity pieces less
//! than `activity_bout_gap_s` apart are one bout of activity that absorbs the posture changes
//! and other movements between them (getting up, walking, lying down again).

use serde::{Deserialize, Serialize};

use crate::segment::{angle_deg, Ending, Movement};
use crate::{ConfigError, Event, Kind, Site, Sites};

/// Classification settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifyConfig {
    /// Orientation change that makes a posture change, in degrees.
    pub posture_min_deg: f64,
    /// Longest movement a hypnic jerk can be, in seconds.
    pub jerk_max_s: f64,
    /// Smallest peak linear acceleration of a hypnic jerk on its strongest sensor, in g.
    ///
    /// Fragmentary myoclonus and twitches stay below a few hundredths of a g on a limb
    /// (domain.md §2.6: "usually no visible limb motion"); a jerk that is felt moves the
    /// whole limb.
    pub jerk_min_g: f64,
    /// Smallest ratio of linear to rotational peak of a hypnic jerk: a jerk is a sharp
    /// transient, a leg movement a rotation of the foot (domain.md §2.1–2.2).
    pub jerk_min_sharpness: f64,
    /// Largest orientation change of a hypnic jerk, in degrees.
    pub jerk_max_angle_deg: f64,
    /// Quiet needed on both sides of a hypnic jerk (other jerks excepted), in seconds.
    pub jerk_isolation_s: f64,
    /// Hold a jerk that a worn wrist did not feel (or with no wrist worn) and that follows
    /// a run of two or more leg movements by a series interval (10-90 s) until the next leg
    /// movement: when that one follows it by a series interval too, the jerk is one of a
    /// train, "not isolated" (domain.md §2.1), and is reported as a leg movement, as a lone
    /// push. Its naming then waits up to the longest series interval. On 384 simulated
    /// nights (held-out and development configurations, seeds + 21M to + 28M) one-ankle jerk
    /// F1 went 0.912 -> 0.937 on easy nights and 0.878 -> 0.885 on hard ones (leg movements
    /// named jerks 152 -> 114, true jerks lost 10), easy one-ankle PLM F1 0.9914 -> 0.9928,
    /// hard one-ankle 0.9570 -> 0.9568; following any leg movement rather than a run of two
    /// also took true jerks at sleep onsets among leg movements (hard one-ankle PLM F1
    /// 0.9564, 42 more false PLMs).
    pub jerk_train_hold: bool,
    /// Quiet needed on both sides of a hypnic jerk seen on every worn sensor, a wrist among
    /// them (two or more worn), in seconds: at most `jerk_isolation_s`. A whole-body jerk
    /// (domain.md §2.1) is told from a leg movement by reaching every limb at once; a leg
    /// movement seconds before or after it is no part of it, while one within this time
    /// may be its own shaking. On 384 simulated nights (held-out and development
    /// configurations, seeds + 21M to + 28M) the bilateral nights' jerk F1 went 0.951 ->
    /// 0.965 (false negatives 61 -> 38, false positives 23 -> 24), every other figure as
    /// before or up by 0.0001; 2 s gave 0.962, 3 s 0.959, 0.5 s the same as 1 s.
    pub jerk_body_isolation_s: f64,
    /// Shortest leg movement, in seconds (WASM 2016 and AASM: 0.5 s).
    pub lm_min_s: f64,
    /// Smallest peak linear acceleration, in g, of a leg transient shorter than `lm_min_s`
    /// that is taken for the visible start of a leg movement: when it is on the legs only,
    /// with no neighbour, asleep, and not a jerk. Twitches and fragmentary
    /// myoclonus stay below a few hundredths of a g on a limb (see `jerk_min_g`); above
    /// that, a brief push of the foot with nothing visible after it is a movement whose
    /// hold the sensor does not see. Reported `lm_min_s` long, it cannot reach the next
    /// group while `merge_gap_s` is at least `lm_min_s` (as by default).
    pub lm_transient_min_g: f64,
    /// Longest leg movement taken from a push and a return transient, in seconds: a leg
    /// transient as strong as `lm_transient_min_g` followed by one more brief leg transient
    /// on a leg it shares, whose end comes within this time of its onset, with no movement
    /// shorter than an LM but jerks within `jerk_isolation_s` before the first or after the
    /// second, is one leg
    /// movement from the first's onset to the second's offset, asleep or awake. The foot's
    /// push and return are seen and its hold is not (see `lm_transient_min_g`). WASM
    /// 2016's longest candidate LM on one leg, 10 s.
    pub pair_max_s: f64,
    /// A leg movement that leaves its leg tilted by at least this, in degrees (and less
    /// than `posture_min_deg`, ending quiet rather than settled), may be the first half of
    /// a held movement: foot out, held, foot back. When the next group, on the legs alone,
    /// moves that leg again and brings it back to within half this tilt of where it was
    /// before, ending within `pair_max_s` of the first's onset, the two are one leg
    /// movement. A small sensor loses a hold of a degree or two in its noise and sees only
    /// the way out and the way back; a movement that ends where it began leaves no tilt.
    /// At `posture_min_deg` or above the rule is off. Chosen on 384 simulated nights
    /// (held-out and development configurations, seeds + 21M to + 28M): hard-night PLM F1
    /// 0.9564 -> 0.9569, every group's PLM and all-LM F1 at least as before; 0.3 and 0.6°
    /// give 0.9570 and 0.9565.
    pub hold_min_deg: f64,
    /// The way back of a held movement (see `hold_min_deg`) starts at least this long after
    /// the way out ends, in seconds: a hold the sensor lost is seconds long, while a leg
    /// movement that follows another within a second or so is a movement of its own (a
    /// short-interval one, domain.md §2.3), even when it brings the leg back. Without it
    /// (on the nights above) easy-night PLM F1 fell 0.9941 -> 0.9929, two true leg movements
    /// 0.8-0.9 s apart taken for one; 1 and 2.5 s give hard-night PLM F1 0.9570 and 0.9567.
    pub hold_min_gap_s: f64,
    /// Movements longer than this are activity while awake, in seconds: just above the 10 s a
    /// candidate LM may last (WASM 2016), with room for the detector's boundaries. One
    /// ankle cannot tell a fidget from a long wake LM of the same length; this splits them
    /// where the scoring rules change.
    pub activity_min_s: f64,
    /// Movements longer than this are activity in sleep, in seconds (no fidgeting happens
    /// asleep; long movements there are arousals, or non-candidate LMs up to this long).
    pub activity_min_asleep_s: f64,
    /// Bursts within one movement that make it a rhythmic train.
    pub train_min_bursts: u32,
    /// Linear acceleration above which a rhythmic train is activity (walking, shaking), not
    /// a tremor train, in g. Hypnagogic foot tremor and ALMA stay near 0.1 g and below
    /// (domain.md §2.6); steps and fidgeting reach several tenths.
    pub activity_min_g: f64,
    /// A rhythmic train longer than this is activity (fidgeting), however faint, in
    /// seconds: hypnagogic foot tremor lasts 10–15 s and ALMA up to about 20 s
    /// (domain.md §2.6).
    pub train_max_s: f64,
    /// Shortest whole train, in seconds: hypnagogic foot tremor runs in series of 10–15 s
    /// (domain.md §2.6), and the detector finds a faint one in pieces a second or so
    /// apart. A bursty movement whose legs' span is shorter than this, with no neighbour
    /// within `jerk_isolation_s`, in at most two pieces a leg, is therefore not a train but
    /// one leg movement whose small signal chatters on the offset threshold (a 1–2°
    /// movement under 10 mg of noise).
    pub train_min_s: f64,
    /// Asleep, a bursty movement shorter than a whole train is one leg movement also when
    /// it has neighbours, as long as no burst (a movement shorter than an LM, jerks aside)
    /// comes within `jerk_isolation_s` and no movement but a jerk within this, in seconds.
    /// The detected pieces of
    /// a faint train follow each other within a second or two (1–2 bursts a second,
    /// domain.md §2.6, a burst or two lost in the noise); the leg movements of a crowded
    /// series of periodic movements come several seconds apart. On the development nights,
    /// 13 of the 14 movements this rule would name with a neighbour closer than 2.5 s were
    /// pieces of tremor trains; farther, 3 of 5 were true leg movements (10 of 12 with the
    /// held-out and fresh-seed nights). A leg movement between two bursts this close, one
    /// before and one after, is a train's piece (`other`): over 216 simulated nights (nine
    /// sets of 24: the development and held-out configurations on their seeds and on seven
    /// sets of fresh ones) that renamed five movements, none of them a true leg movement.
    pub chatter_quiet_s: f64,
    /// Leg movements in a row, each starting within `train_max_interval_s` of the last, that
    /// make a high-frequency train (HFLM: four or more at 0.3–4 Hz, domain.md §2.6): they
    /// are `other`, not leg movements.
    pub train_min_movements: u32,
    /// Longest onset-to-onset interval inside a high-frequency train, in seconds: 4 s
    /// (0.25 Hz), a little longer than the 0.3 Hz of the definition, as the detector sees
    /// a faint train's bursts only now and then and a faint movement's onset late. On the
    /// development nights, 3.3 -> 4 s renamed 14 false leg movements (pieces of tremor
    /// trains) and no true one; 4.5 s began to take true ones on other nights.
    pub train_max_interval_s: f64,
    /// A wrist-only movement at least this long (and strong) is wake activity, in seconds.
    pub wrist_activity_min_s: f64,
    /// A wrist-only movement at least this strong (and long) is wake activity, in g.
    pub wrist_activity_min_g: f64,
    /// A wrist movement at least `wrist_activity_min_s` long during a leg movement makes
    /// the group wake activity only when the wrist tilted at least this much, in degrees:
    /// an arm that moves turns the wrist, while a strong leg movement (a triple flexion)
    /// only shakes it through the body. On 64 simulated bilateral nights (held-out and
    /// development configurations, seeds + 21M to + 24M) the wrist tilted 0.5–0.95° in
    /// the true leg movements named activity this way, and at least 1.1° in every true
    /// wake movement with a wrist part this long. (The simulator shakes the wrist during a
    /// triple flexion with a few mg and a wobble of at most 1°; how much a real one turns
    /// the wrist is not known here. 0.8, 1 and 1.3° give the same figures on 384 nights.)
    pub wrist_activity_min_deg: f64,
    /// A leg movement fidgets (and is activity) when its linear energy above the noise
    /// sits at least this far towards its middle — 1 minus the energy's RMS distance from
    /// the midpoint over half the length: near 0 for a foot pushed out and brought back,
    /// 0.42 for energy spread evenly, about 0.65 for shaking that swells and fades — and
    /// its orientation wanders by `restless_min_wander`. Of the movements the detector
    /// found on the development benchmark's ankle-only nights, 96 % of the fidgets in bed
    /// and 4 % of the leg movements reach 0.5.
    pub restless_min_centre: f64,
    /// ... and when the path of its smoothed orientation is at least this many times its
    /// largest distance from rest: about 2 for a limb that goes out and back once, 3 for
    /// one and a half such swings. On the same nights 94 % of the fidgets and 3 % of the
    /// leg movements reach 3, and both signs together 93 % and 0.3 %.
    pub restless_min_wander: f64,
    /// Activity pieces closer than this are one bout of activity, and posture changes and
    /// other movements inside a bout belong to it, in seconds.
    pub activity_bout_gap_s: f64,
    /// A leg movement or jerk-like transient that starts less than this after the end of a
    /// bout of activity is the bout's tail, in seconds: the last of a fidget or a turn
    /// fades below the activity's strength and is cut off from it. On 128 simulated leg
    /// nights (held-out and development configurations, seeds + 21M to + 24M), of the leg
    /// movements found within 2 s after activity 20 of 23 lay inside the true wake
    /// movement, and within 2–5 s 6 of 18.
    pub activity_tail_s: f64,
    /// Gap a movement on a neighbouring sensor may leave and still join a group, in seconds
    /// (WASM 2016 step 3: overlap, or less than 0.5 s from offset to onset).
    pub merge_gap_s: f64,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            posture_min_deg: 15.0,
            jerk_max_s: 1.0,
            jerk_min_g: 0.1,
            jerk_min_sharpness: 1.5,
            jerk_max_angle_deg: 5.0,
            jerk_isolation_s: 5.0,
            jerk_body_isolation_s: 1.0,
            jerk_train_hold: true,
            lm_min_s: 0.5,
            lm_transient_min_g: 0.05,
            pair_max_s: 10.0,
            hold_min_deg: 0.4,
            hold_min_gap_s: 1.5,
            activity_min_s: 10.5,
            activity_min_asleep_s: 20.0,
            train_min_bursts: 5,
            activity_min_g: 0.12,
            train_max_s: 25.0,
            train_min_s: 10.0,
            chatter_quiet_s: 2.5,
            train_min_movements: 4,
            train_max_interval_s: 4.0,
            restless_min_centre: 0.5,
            restless_min_wander: 3.0,
            activity_bout_gap_s: 30.0,
            activity_tail_s: 2.0,
            wrist_activity_min_s: 3.0,
            wrist_activity_min_g: 0.05,
            wrist_activity_min_deg: 1.0,
            merge_gap_s: 0.5,
        }
    }
}

impl ClassifyConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// The first field that is not positive and finite (or, for the burst count, zero).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, v) in [
            ("classify.posture_min_deg", self.posture_min_deg),
            ("classify.jerk_max_s", self.jerk_max_s),
            ("classify.jerk_min_g", self.jerk_min_g),
            ("classify.jerk_min_sharpness", self.jerk_min_sharpness),
            ("classify.jerk_max_angle_deg", self.jerk_max_angle_deg),
            ("classify.jerk_isolation_s", self.jerk_isolation_s),
            ("classify.jerk_body_isolation_s", self.jerk_body_isolation_s),
            ("classify.lm_min_s", self.lm_min_s),
            ("classify.lm_transient_min_g", self.lm_transient_min_g),
            ("classify.pair_max_s", self.pair_max_s),
            ("classify.hold_min_deg", self.hold_min_deg),
            ("classify.hold_min_gap_s", self.hold_min_gap_s),
            ("classify.activity_min_s", self.activity_min_s),
            ("classify.activity_min_asleep_s", self.activity_min_asleep_s),
            ("classify.merge_gap_s", self.merge_gap_s),
            ("classify.activity_min_g", self.activity_min_g),
            ("classify.train_max_s", self.train_max_s),
            ("classify.train_min_s", self.train_min_s),
            ("classify.chatter_quiet_s", self.chatter_quiet_s),
            ("classify.train_max_interval_s", self.train_max_interval_s),
            ("classify.activity_bout_gap_s", self.activity_bout_gap_s),
            ("classify.activity_tail_s", self.activity_tail_s),
            ("classify.restless_min_centre", self.restless_min_centre),
            ("classify.restless_min_wander", self.restless_min_wander),
            ("classify.wrist_activity_min_s", self.wrist_activity_min_s),
            ("classify.wrist_activity_min_g", self.wrist_activity_min_g),
            (
                "classify.wrist_activity_min_deg",
                self.wrist_activity_min_deg,
            ),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(ConfigError::new(field, v, "must be positive and finite"));
            }
        }
        if self.jerk_body_isolation_s > self.jerk_isolation_s {
            // A group is named once its neighbours within the isolation time are known.
            return Err(ConfigError::new(
                "classify.jerk_body_isolation_s",
                self.jerk_body_isolation_s,
                "must not exceed classify.jerk_isolation_s",
            ));
        }
        if self.chatter_quiet_s > self.jerk_isolation_s {
            // A group is named once its neighbours within the isolation time are known.
            return Err(ConfigError::new(
                "classify.chatter_quiet_s",
                self.chatter_quiet_s,
                "must not exceed classify.jerk_isolation_s",
            ));
        }
        if self.train_min_movements < 2 {
            return Err(ConfigError::new(
                "classify.train_min_movements",
                self.train_min_movements,
                "must be at least 2",
            ));
        }
        if self.train_min_bursts < 2 {
            return Err(ConfigError::new(
                "classify.train_min_bursts",
                self.train_min_bursts,
                "must be at least 2",
            ));
        }
        Ok(())
    }
}

/// What a group's naming depends on besides the group itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Situation {
    /// Sensors worn.
    pub(crate) n_sites_worn: u32,
    /// No movement other than jerks within the isolation time on either side.
    pub(crate) isolated: bool,
    /// No movement other than jerks within `jerk_body_isolation_s` on either side: enough
    /// for a jerk seen on every worn sensor.
    pub(crate) body_isolated: bool,
    /// Nothing near that could be another piece of a train: no burst (a movement shorter
    /// than an LM, jerks aside) within the isolation time on either side, and no movement
    /// but jerks within `chatter_quiet_s`.
    pub(crate) train_free: bool,
    /// A burst (a movement shorter than an LM, jerks aside) ends within `chatter_quiet_s`
    /// before the group and another starts within it after: the group lies between the
    /// bursts of a train.
    pub(crate) flanked: bool,
    /// Asleep as far as the detector can tell when the group was named: sleep confirmed,
    /// or no wake movement for `SleepConfig::settle_s`.
    pub(crate) asleep: bool,
    /// The sleep tracker had confirmed sleep when the group was named (the length rule
    /// asks for this).
    pub(crate) confirmed: bool,
}

/// Most movements a leg may add to a group whose bursts are still one small movement's
/// chatter: a dip of the signal under the offset threshold for the 0.5 s merge gap splits
/// it in two on one leg now and then, while alternating legs (ALMA) or a tremor train
/// chain many parts on each leg.
const CHATTER_MAX_PARTS: usize = 2;

/// Most movements a group keeps individually; more only widen its span and peaks.
pub(crate) const MAX_PARTS: usize = 8;

/// One sensor's movement inside a group.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Part {
    pub(crate) site: Site,
    pub(crate) m: Movement,
}

/// Movements on the worn sensors that overlap or follow within the merge gap.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Group {
    parts: [Part; MAX_PARTS],
    n_parts: usize,
    /// Parts beyond `MAX_PARTS` (their span and peaks are still counted).
    n_extra: u32,
    pub(crate) onset_s: f64,
    pub(crate) offset_s: f64,
    /// Span of the leg parts, when there are any.
    leg_span: Option<(f64, f64)>,
    /// Where the motion of the leg parts ends: their offset without the tail where the
    /// filters settle (`Movement::tail_s`). The group is named over its whole span, but a
    /// leg movement's event ends with its motion, as the scoring rules' duration limits ask.
    leg_motion_end_s: f64,
    sites: Sites,
    n_leg_parts: u32,
    /// A leg movement's start and return joined (see `ClassifyConfig::pair_max_s`).
    paired: bool,
}

impl Group {
    /// A group of one movement.
    pub(crate) fn new(site: Site, m: Movement) -> Self {
        let mut g = Group {
            onset_s: m.onset_s,
            offset_s: m.offset_s,
            ..Group::default()
        };
        g.add(site, m);
        g
    }

    /// True when a movement on `site` starting at `onset_s` joins this group: it overlaps
    /// the group or follows it within `merge_gap_s`. A leg movement is measured against the
    /// legs' span once the group has one (the WASM 2016 merge is a merge of legs): a wrist
    /// may move long after the legs have stopped (breathing on a chest keeps the wrist's
    /// part of a turn open for a minute and more), and leg movements then are movements of
    /// their own, not parts of the turn.
    pub(crate) fn joins(&self, site: Site, onset_s: f64, merge_gap_s: f64) -> bool {
        let end_s = match self.leg_span {
            Some((_, leg_end_s)) if site.is_leg() => leg_end_s,
            _ => self.offset_s,
        };
        onset_s < end_s + merge_gap_s
    }

    /// Adds a movement.
    pub(crate) fn add(&mut self, site: Site, m: Movement) {
        if let Some(slot) = self.parts.get_mut(self.n_parts) {
            *slot = Part { site, m };
            self.n_parts += 1;
        } else {
            self.n_extra = self.n_extra.saturating_add(1);
        }
        self.onset_s = self.onset_s.min(m.onset_s);
        self.offset_s = self.offset_s.max(m.offset_s);
        self.sites = self.sites.with(site);
        if site.is_leg() {
            self.n_leg_parts += 1;
            let end_s = m.motion_end_s();
            (self.leg_span, self.leg_motion_end_s) = match self.leg_span {
                Some((a, b)) => (
                    Some((a.min(m.onset_s), b.max(m.offset_s))),
                    self.leg_motion_end_s.max(end_s),
                ),
                None => (Some((m.onset_s, m.offset_s)), end_s),
            };
        }
    }

    /// Joins `n`, the return transient of this push or the way back of this held movement
    /// (all its parts kept): one leg movement, whose two ends on a leg are one WASM
    /// component.
    pub(crate) fn join_return(&mut self, n: &Group) {
        let components = self.n_leg_parts.max(n.n_leg_parts);
        for p in n.parts() {
            self.add(p.site, p.m);
        }
        self.n_leg_parts = components;
        self.paired = true;
    }

    /// The leg part that may start a held movement: on a group on the legs alone, not
    /// jerk-like, the part that ended quiet with the largest tilt from `hold_min_deg` up to
    /// `posture_min_deg` (see `ClassifyConfig::hold_min_deg`).
    pub(crate) fn hold_start(&self, cfg: &ClassifyConfig, n_sites_worn: u32) -> Option<&Part> {
        if !self.legs_only() || self.is_jerk_like(cfg, n_sites_worn) {
            return None;
        }
        self.parts()
            .iter()
            .filter(|p| {
                p.m.ending == Ending::Quiet
                    && p.m.angle_deg >= cfg.hold_min_deg
                    && p.m.angle_deg < cfg.posture_min_deg
            })
            .max_by(|a, b| a.m.angle_deg.total_cmp(&b.m.angle_deg))
    }

    /// True when this group, on the legs alone, moves the leg of `start` (the way out of a
    /// held movement, see [`hold_start`](Self::hold_start)) again and leaves it within half
    /// the tilt of where it was before `start`: its way back.
    pub(crate) fn brings_back(&self, start: &Part) -> bool {
        let back = self
            .parts()
            .iter()
            .filter(|q| q.site == start.site && q.m.ending == Ending::Quiet)
            .max_by(|a, b| a.m.offset_s.total_cmp(&b.m.offset_s));
        self.legs_only()
            && back.is_some_and(|q| {
                angle_deg(start.m.rest_before, q.m.rest_after) <= 0.5 * start.m.angle_deg
            })
    }

    /// True for a brief movement on the legs alone that leaves the posture as it was: every
    /// leg part within the span of an LM's shortest length, no other site, no part turned
    /// by `posture_min_deg` or settled on a new orientation.
    pub(crate) fn is_leg_transient(&self, cfg: &ClassifyConfig) -> bool {
        let still = self
            .parts()
            .iter()
            .all(|p| p.m.ending != Ending::Settled && p.m.angle_deg < cfg.posture_min_deg);
        self.legs_only() && still && self.leg_span.is_some_and(|(a, b)| b - a < cfg.lm_min_s)
    }

    /// True when a leg part fidgets: its acceleration swells in the middle instead of
    /// marking a start and an end, and its orientation wanders back and forth.
    fn is_restless(&self, cfg: &ClassifyConfig) -> bool {
        self.parts().iter().any(|p| {
            p.site.is_leg()
                && p.m.centre >= cfg.restless_min_centre
                && p.m.wander >= cfg.restless_min_wander
        })
    }

    /// True when every part is on a leg (and none went beyond `MAX_PARTS`).
    fn legs_only(&self) -> bool {
        self.parts().iter().all(|p| p.site.is_leg()) && self.n_extra == 0
    }

    /// True when the two groups share a leg.
    pub(crate) fn shares_leg(&self, other: &Group) -> bool {
        self.sites
            .iter()
            .any(|s| s.is_leg() && other.sites.contains(s))
    }

    /// Largest linear-channel peak of its parts, in g.
    pub(crate) fn peak_h_g(&self) -> f64 {
        self.strongest().map_or(0.0, |p| p.m.peak_h_g)
    }

    fn parts(&self) -> &[Part] {
        self.parts.get(..self.n_parts).unwrap_or(&[])
    }

    /// The part with the highest linear-channel peak.
    fn strongest(&self) -> Option<&Part> {
        self.parts()
            .iter()
            .max_by(|a, b| a.m.peak_h_g.total_cmp(&b.m.peak_h_g))
    }

    /// True when the group looks like a jerk, judged on itself alone (no neighbours).
    pub(crate) fn is_jerk_like(&self, cfg: &ClassifyConfig, n_sites_worn: u32) -> bool {
        let brief = self
            .parts()
            .iter()
            .all(|p| p.m.offset_s - p.m.onset_s <= cfg.jerk_max_s);
        // Sharp: the linear transient dominates; a leg movement's brief onset comes with its
        // rotation.
        let strong = self.strongest().is_some_and(|p| {
            p.m.peak_h_g >= cfg.jerk_min_g && p.m.peak_h_g >= cfg.jerk_min_sharpness * p.m.peak_r_g
        });
        let still = self
            .parts()
            .iter()
            .all(|p| p.m.ending != Ending::Settled && p.m.angle_deg <= cfg.jerk_max_angle_deg);
        let spread = n_sites_worn < 2 || self.sites.len() >= 2;
        // A push joined by its return is a leg movement, however sharp the push.
        brief && strong && still && spread && self.n_extra == 0 && !self.paired
    }

    /// The group's class and the event for it, in its situation (sensors worn, isolation
    /// from non-jerk neighbours, sleep). Leg movements come out as [`Kind::Lm`].
    pub(crate) fn classify(&self, cfg: &ClassifyConfig, at: Situation) -> Event {
        let kind = self.kind(cfg, at);
        let (onset_s, offset_s) = match (kind, self.leg_span) {
            // A transient taken for a movement's start is as long as an LM must be.
            (Kind::Lm, Some((a, _))) => (a, self.leg_motion_end_s.max(a + cfg.lm_min_s)),
            _ => (self.onset_s, self.offset_s),
        };
        let mut e = Event::new(onset_s, offset_s, kind);
        e.sites = self.sites;
        for p in self.parts() {
            e.peak_g = e.peak_g.max(p.m.peak_g);
            e.peak_jerk_g_per_s = e.peak_jerk_g_per_s.max(p.m.peak_jerk_g_per_s);
            e.angle_deg = e.angle_deg.max(p.m.angle_deg);
        }
        let (sum, dur) = self.parts().iter().fold((0.0, 0.0), |(s, d), p| {
            let di = (p.m.offset_s - p.m.onset_s).max(0.0);
            (s + p.m.mean_g * di, d + di)
        });
        e.mean_g = if dur > 0.0 { sum / dur } else { e.peak_g };
        let score = self
            .parts()
            .iter()
            .map(|p| p.m.peak_score)
            .fold(1.0, f64::max);
        // Margin over the onset threshold: at the threshold 0, twice it 0.63.
        e.confidence = 1.0 - (-(score - 1.0)).exp();
        e
    }

    fn kind(&self, cfg: &ClassifyConfig, at: Situation) -> Kind {
        let Situation {
            n_sites_worn,
            isolated,
            body_isolated,
            train_free,
            flanked,
            asleep,
            confirmed,
        } = at;
        let parts = self.parts();
        let longest = parts
            .iter()
            .map(|p| p.m.offset_s - p.m.onset_s)
            .fold(0.0, f64::max);
        if parts
            .iter()
            .any(|p| p.m.ending == Ending::Settled || p.m.angle_deg >= cfg.posture_min_deg)
        {
            return Kind::PostureChange;
        }
        if self.paired {
            return Kind::Lm;
        }
        let whole_body = n_sites_worn >= 2
            && self.sites.len() == n_sites_worn
            && self.sites.contains(Site::Wrist);
        let jerk_alone = isolated || (whole_body && body_isolated);
        if jerk_alone && self.is_jerk_like(cfg, n_sites_worn) {
            return Kind::HypnicJerk;
        }
        if self.is_restless(cfg) {
            return Kind::Activity;
        }
        // Bursts across the leg parts: alternating legs (ALMA) chain into one group of
        // many single-burst parts.
        let leg_bursts: u32 = parts
            .iter()
            .filter(|p| p.site.is_leg())
            .map(|p| p.m.n_bursts)
            .sum();
        let bursty = parts
            .iter()
            .any(|p| p.site.is_leg() && p.m.n_bursts >= cfg.train_min_bursts)
            || leg_bursts >= cfg.train_min_bursts;
        // A movement or two per leg, the legs' span shorter than a whole train, alone or
        // (asleep) among leg movements a few seconds away: its bursts are one small
        // movement's chatter. (Alternating legs chain many parts into one group.)
        let leg_span_s = self.leg_span.map_or(0.0, |(a, b)| b - a);
        let chatter = (isolated || (asleep && train_free))
            && leg_span_s < cfg.train_min_s
            && self.few_movements_per_leg();
        let train = bursty && !chatter;
        if train {
            // Walking and shaking are rhythmic too, but far stronger than any tremor train.
            let strong = self.peak_h_g() >= cfg.activity_min_g;
            let long = longest > cfg.train_max_s;
            // Asleep, a large leg movement (a triple flexion, a push with a plantar end)
            // breaks into bursts as strong as steps; there, as for any movement, only its
            // length says wake (`activity_min_asleep_s`), so it is named as one below.
            let sleep_sized = asleep && longest <= cfg.activity_min_asleep_s;
            if long || (strong && !sleep_sized) {
                return Kind::Activity;
            }
            if !strong {
                return Kind::Other;
            }
        }
        // Length alone waits for confirmed sleep: minutes after a wake, getting up and
        // walking about is as long as a long leg movement of sleep, and far stronger.
        let activity_min_s = if confirmed {
            cfg.activity_min_asleep_s
        } else {
            cfg.activity_min_s
        };
        if longest > activity_min_s {
            return Kind::Activity;
        }
        // Between two bursts, as faint as a train: one of its pieces.
        if flanked && self.legs_only() && self.peak_h_g() < cfg.activity_min_g {
            return Kind::Other;
        }
        if let Some((a, b)) = self.leg_span {
            let wrist_with_legs = parts.iter().any(|p| {
                p.site == Site::Wrist
                    && p.m.offset_s - p.m.onset_s >= cfg.wrist_activity_min_s
                    && p.m.peak_tilt_deg >= cfg.wrist_activity_min_deg
                    && p.m.onset_s < b
                    && p.m.offset_s > a
            });
            if wrist_with_legs {
                return Kind::Activity;
            }
            if b - a >= cfg.lm_min_s || self.is_movement_start(cfg, at) {
                return Kind::Lm;
            }
            return Kind::Other;
        }
        // A wrist alone: seconds of clear movement are wake fidgeting; shorter or fainter
        // ones (a twitch, a breath) are not.
        let clear = parts.iter().any(|p| {
            p.m.offset_s - p.m.onset_s >= cfg.wrist_activity_min_s
                && p.m.peak_g >= cfg.wrist_activity_min_g
        });
        if clear {
            return Kind::Activity;
        }
        Kind::Other
    }

    /// True for a leg transient, shorter than an LM and named after the jerk rule, that
    /// starts a leg movement the sensor sees no more of: strong for a twitch, on the legs
    /// only (a wrist too makes it a whole-body start), alone, asleep. "Alone" is the jerk
    /// isolation, measured from the transient's own end.
    fn is_movement_start(&self, cfg: &ClassifyConfig, at: Situation) -> bool {
        self.legs_only() && self.peak_h_g() >= cfg.lm_transient_min_g && at.isolated && at.asleep
    }

    /// True when no leg has more than [`CHATTER_MAX_PARTS`] movements in the group.
    fn few_movements_per_leg(&self) -> bool {
        self.n_extra == 0
            && self.sites.iter().filter(|s| s.is_leg()).all(|site| {
                self.parts().iter().filter(|p| p.site == site).count() <= CHATTER_MAX_PARTS
            })
    }

    /// Number of leg movements merged into this group (the WASM component count).
    pub(crate) fn n_leg_components(&self) -> u32 {
        self.n_leg_parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(onset: f64, offset: f64) -> Movement {
        Movement {
            onset_s: onset,
            offset_s: offset,
            peak_score: 2.0,
            n_bursts: 1,
            ..Movement::default()
        }
    }

    /// A wrist movement that turns the arm (2°), as wake movement does.
    fn arm(onset: f64, offset: f64) -> Movement {
        Movement {
            peak_tilt_deg: 2.0,
            ..mv(onset, offset)
        }
    }

    /// `sites` worn, no neighbour near, asleep (and confirmed) or awake.
    fn alone(n_sites_worn: u32, asleep: bool) -> Situation {
        Situation {
            n_sites_worn,
            isolated: true,
            body_isolated: true,
            train_free: false,
            flanked: false,
            asleep,
            confirmed: asleep,
        }
    }

    fn kind(g: &Group, sites: u32, isolated: bool) -> Kind {
        let at = Situation {
            isolated,
            body_isolated: isolated,
            ..alone(sites, false)
        };
        g.classify(&ClassifyConfig::default(), at).kind
    }

    #[test]
    fn a_leg_movement_of_half_a_second_or_more_is_an_lm() {
        assert_eq!(
            kind(&Group::new(Site::Ankle, mv(0.0, 3.0)), 1, true),
            Kind::Lm
        );
        assert_eq!(
            kind(&Group::new(Site::Ankle, mv(0.0, 0.5)), 1, true),
            Kind::Lm
        );
        assert_eq!(
            kind(&Group::new(Site::Ankle, mv(0.0, 0.45)), 1, true),
            Kind::Other
        );
        assert_eq!(
            kind(&Group::new(Site::Wrist, mv(0.0, 3.0)), 1, true),
            Kind::Other
        );
    }

    #[test]
    fn a_lone_strong_leg_transient_in_sleep_starts_a_leg_movement_of_the_shortest_length() {
        let cfg = ClassifyConfig::default();
        let at = |isolated, asleep| Situation {
            n_sites_worn: 1,
            isolated,
            body_isolated: isolated,
            train_free: false,
            flanked: false,
            asleep,
            confirmed: asleep,
        };
        let mut t = mv(100.0, 100.2);
        // Too strong for a twitch, but with as much rotation as linear push: no jerk.
        t.peak_h_g = 0.08;
        t.peak_r_g = 0.08;
        let g = Group::new(Site::Ankle, t);
        let e = g.classify(&cfg, at(true, true));
        assert_eq!(e.kind, Kind::Lm);
        assert_eq!((e.onset_s, e.offset_s), (100.0, 100.0 + cfg.lm_min_s));
        assert_eq!(g.classify(&cfg, at(true, false)).kind, Kind::Other, "awake");
        assert_eq!(
            g.classify(&cfg, at(false, true)).kind,
            Kind::Other,
            "neighbours"
        );
        let mut weak = t;
        weak.peak_h_g = 0.04;
        let weak = Group::new(Site::Ankle, weak);
        assert_eq!(weak.classify(&cfg, at(true, true)).kind, Kind::Other);
        let wrist = Group::new(Site::Wrist, t);
        assert_eq!(wrist.classify(&cfg, at(true, true)).kind, Kind::Other);
        let mut whole_body = g;
        whole_body.add(Site::Wrist, t);
        assert_eq!(whole_body.classify(&cfg, at(true, true)).kind, Kind::Other);
        // A sharp, still transient is still a jerk first.
        let mut j = t;
        j.peak_h_g = 0.5;
        let j = Group::new(Site::Ankle, j);
        assert_eq!(j.classify(&cfg, at(true, true)).kind, Kind::HypnicJerk);
        // A leg movement of its own length keeps it.
        let long = Group::new(Site::Ankle, mv(100.0, 102.0));
        let e = long.classify(&cfg, at(true, true));
        assert_eq!((e.kind, e.offset_s), (Kind::Lm, 102.0));
    }

    #[test]
    fn a_start_joined_by_its_return_is_one_leg_movement_from_end_to_end() {
        let cfg = ClassifyConfig::default();
        let mut push = mv(100.0, 100.3);
        push.peak_h_g = 0.5;
        let start = Group::new(Site::LeftAnkle, push);
        assert!(start.is_leg_transient(&cfg));
        assert!(
            start.is_jerk_like(&cfg, 1),
            "alone, the push would be a jerk"
        );
        let ret = Group::new(Site::LeftAnkle, mv(104.0, 104.4));
        assert!(start.shares_leg(&ret));
        assert!(!start.shares_leg(&Group::new(Site::RightAnkle, mv(104.0, 104.4))));
        let mut joined = start;
        joined.join_return(&ret);
        assert!(!joined.is_leg_transient(&cfg));
        assert!(
            !joined.is_jerk_like(&cfg, 1),
            "a push with its return is no jerk"
        );
        assert_eq!(
            joined.n_leg_components(),
            1,
            "push and return: one component"
        );
        // Both legs pushing, one returning: two components.
        let mut both = start;
        both.add(Site::RightAnkle, mv(100.1, 100.3));
        both.join_return(&ret);
        assert_eq!(both.n_leg_components(), 2);
        // A transient that turned the leg for good is no push.
        let mut turned = mv(100.0, 100.3);
        turned.angle_deg = cfg.posture_min_deg;
        assert!(!Group::new(Site::LeftAnkle, turned).is_leg_transient(&cfg));
        let at = Situation {
            n_sites_worn: 1,
            isolated: true,
            body_isolated: true,
            train_free: false,
            flanked: false,
            asleep: true,
            confirmed: true,
        };
        let e = joined.classify(&cfg, at);
        assert_eq!((e.kind, e.onset_s, e.offset_s), (Kind::Lm, 100.0, 104.4));
        // A wrist part or a part of LM length is no leg transient.
        let mut whole_body = start;
        whole_body.add(Site::Wrist, mv(100.0, 100.2));
        assert!(!whole_body.is_leg_transient(&cfg));
        assert!(!Group::new(Site::Ankle, mv(0.0, 0.5)).is_leg_transient(&cfg));
    }

    #[test]
    fn a_leg_movement_that_swells_in_the_middle_and_wanders_is_fidgeting() {
        let cfg = ClassifyConfig::default();
        let mut f = mv(0.0, 6.0);
        f.centre = cfg.restless_min_centre;
        f.wander = cfg.restless_min_wander;
        assert_eq!(kind(&Group::new(Site::Ankle, f), 1, true), Kind::Activity);
        // Either sign alone is a leg movement: out and back once with its energy in the
        // middle (a slow push), or wandering with its energy at the ends.
        let mut once = f;
        once.wander = 2.0;
        assert_eq!(kind(&Group::new(Site::Ankle, once), 1, true), Kind::Lm);
        let mut ends = f;
        ends.centre = 0.2;
        assert_eq!(kind(&Group::new(Site::Ankle, ends), 1, true), Kind::Lm);
        // On one leg of two it is enough; on a wrist alone it is not a leg's.
        let mut two = Group::new(Site::LeftAnkle, once);
        two.add(Site::RightAnkle, f);
        assert_eq!(kind(&two, 2, true), Kind::Activity);
        assert_ne!(kind(&Group::new(Site::Wrist, f), 1, true), Kind::Activity);
    }

    #[test]
    fn a_brief_strong_still_isolated_transient_is_a_jerk() {
        let mut j = mv(0.0, 0.3);
        j.peak_h_g = 0.5;
        let g = Group::new(Site::Ankle, j);
        assert_eq!(kind(&g, 1, true), Kind::HypnicJerk);
        assert_eq!(kind(&g, 1, false), Kind::Other, "not isolated");
        // two sensors worn: one alone is not enough
        assert_eq!(kind(&g, 2, true), Kind::Other);
        let mut g2 = g;
        g2.add(Site::Wrist, j);
        assert_eq!(kind(&g2, 2, true), Kind::HypnicJerk);
        // Seen on every worn sensor, a wrist among them, it needs only a second of quiet:
        // a leg movement a few seconds away does not make it part of one.
        let near = |g: &Group, sites: u32, body_isolated: bool| {
            let at = Situation {
                n_sites_worn: sites,
                isolated: false,
                body_isolated,
                train_free: false,
                flanked: false,
                asleep: true,
                confirmed: true,
            };
            g.classify(&ClassifyConfig::default(), at).kind
        };
        assert_eq!(near(&g2, 2, true), Kind::HypnicJerk);
        assert_eq!(
            near(&g2, 2, false),
            Kind::Other,
            "a movement within a second"
        );
        let mut both_legs = Group::new(Site::LeftAnkle, j);
        both_legs.add(Site::RightAnkle, j);
        assert_eq!(near(&both_legs, 2, true), Kind::Other, "no wrist");
        assert_eq!(near(&g2, 3, true), Kind::Other, "not on every sensor worn");
        let mut all_three = both_legs;
        all_three.add(Site::Wrist, j);
        assert_eq!(near(&all_three, 3, true), Kind::HypnicJerk);
        let mut weak = j;
        weak.peak_h_g = 0.05;
        assert_eq!(kind(&Group::new(Site::Ankle, weak), 1, true), Kind::Other);
        let mut turned = j;
        turned.angle_deg = 8.0;
        assert_eq!(kind(&Group::new(Site::Ankle, turned), 1, true), Kind::Other);
    }

    #[test]
    fn persistent_turns_are_posture_changes_and_long_movement_is_activity() {
        let mut p = mv(0.0, 4.0);
        p.angle_deg = 40.0;
        assert_eq!(
            kind(&Group::new(Site::Ankle, p), 1, true),
            Kind::PostureChange
        );
        let mut s = mv(0.0, 4.0);
        s.ending = Ending::Settled;
        assert_eq!(
            kind(&Group::new(Site::Ankle, s), 1, true),
            Kind::PostureChange
        );
        assert_eq!(
            kind(&Group::new(Site::Ankle, mv(0.0, 40.0)), 1, true),
            Kind::Activity
        );
        let mut g = Group::new(Site::LeftAnkle, mv(10.0, 14.0));
        g.add(Site::Wrist, arm(9.0, 15.0));
        assert_eq!(kind(&g, 2, true), Kind::Activity);
    }

    #[test]
    fn rhythmic_trains_are_other_unless_as_strong_as_walking() {
        let mut t = mv(0.0, 12.0);
        t.n_bursts = 12;
        t.peak_h_g = 0.08;
        assert_eq!(kind(&Group::new(Site::Ankle, t), 1, true), Kind::Other);
        t.peak_h_g = 0.6;
        assert_eq!(kind(&Group::new(Site::Ankle, t), 1, true), Kind::Activity);
        // Asleep, as strong but no longer than a movement of sleep: one large leg movement
        // (awake above; asleep and longer than `activity_min_asleep_s`, activity).
        let cfg = ClassifyConfig::default();
        let asleep = Situation {
            n_sites_worn: 1,
            isolated: false,
            body_isolated: false,
            train_free: false,
            flanked: false,
            asleep: true,
            confirmed: true,
        };
        assert_eq!(
            Group::new(Site::Ankle, t).classify(&cfg, asleep).kind,
            Kind::Lm
        );
        let mut long = t;
        long.offset_s = cfg.activity_min_asleep_s + 0.1;
        assert_eq!(
            Group::new(Site::Ankle, long).classify(&cfg, asleep).kind,
            Kind::Activity
        );
        // The wrist moving with it for seconds: the arm turned with the legs (wake), unless
        // the wrist hardly tilted, as a strong leg movement shakes it through the body.
        let mut wrist = arm(1.0, 9.0);
        let mut with_wrist = Group::new(Site::LeftAnkle, t);
        with_wrist.add(Site::Wrist, wrist);
        assert_eq!(with_wrist.classify(&cfg, asleep).kind, Kind::Activity);
        wrist.peak_tilt_deg = 0.7;
        let mut shaken_wrist = Group::new(Site::LeftAnkle, t);
        shaken_wrist.add(Site::Wrist, wrist);
        assert_eq!(shaken_wrist.classify(&cfg, asleep).kind, Kind::Lm);
        // faint, but longer than any tremor or ALMA train: fidgeting
        let mut t = mv(0.0, 40.0);
        t.n_bursts = 30;
        t.peak_h_g = 0.05;
        assert_eq!(kind(&Group::new(Site::Ankle, t), 1, true), Kind::Activity);
        // alternating legs: many one-burst parts chained into one group
        let mut g = Group::new(Site::LeftAnkle, mv(0.0, 0.6));
        for i in 1..6 {
            let side = if i % 2 == 0 {
                Site::LeftAnkle
            } else {
                Site::RightAnkle
            };
            g.add(side, mv(f64::from(i) * 0.7, f64::from(i) * 0.7 + 0.6));
        }
        assert_eq!(kind(&g, 2, true), Kind::Other);
    }

    #[test]
    fn a_faint_leg_movement_between_bursts_is_other() {
        let cfg = ClassifyConfig::default();
        let at = |flanked| Situation {
            n_sites_worn: 2,
            isolated: false,
            body_isolated: false,
            train_free: false,
            flanked,
            asleep: true,
            confirmed: true,
        };
        let mut faint = mv(0.0, 2.0);
        faint.peak_h_g = 0.1;
        let legs = Group::new(Site::Ankle, faint);
        assert_eq!(legs.classify(&cfg, at(false)).kind, Kind::Lm);
        assert_eq!(legs.classify(&cfg, at(true)).kind, Kind::Other);
        // as strong as walking (`activity_min_g`), it is no piece of a tremor or ALMA train
        let mut strong = faint;
        strong.peak_h_g = cfg.activity_min_g;
        let strong = Group::new(Site::Ankle, strong);
        assert_eq!(strong.classify(&cfg, at(true)).kind, Kind::Lm);
        // the rule is about the legs' trains: with the wrist moving for seconds as well,
        // the group is a whole-body movement
        let mut body = legs;
        body.add(Site::Wrist, arm(0.0, 3.5));
        assert_eq!(body.classify(&cfg, at(true)).kind, Kind::Activity);
    }

    #[test]
    fn an_isolated_bursty_movement_shorter_than_a_train_is_a_leg_movement() {
        let mut m = mv(0.0, 4.0);
        m.n_bursts = 6;
        m.peak_h_g = 0.08;
        let g = Group::new(Site::Ankle, m);
        assert_eq!(kind(&g, 1, true), Kind::Lm);
        // with neighbours it may be a piece of a train
        assert_eq!(kind(&g, 1, false), Kind::Other);
        // asleep, among leg movements none of which is near, it is one; awake, or with a
        // neighbour near or a burst within the isolation time, it may be a train's piece
        let cfg = ClassifyConfig::default();
        let at = |train_free, asleep| Situation {
            n_sites_worn: 1,
            isolated: false,
            body_isolated: false,
            train_free,
            flanked: false,
            asleep,
            confirmed: asleep,
        };
        assert_eq!(g.classify(&cfg, at(true, true)).kind, Kind::Lm);
        assert_eq!(g.classify(&cfg, at(true, false)).kind, Kind::Other);
        assert_eq!(g.classify(&cfg, at(false, true)).kind, Kind::Other);
        // as long as a whole tremor train
        let mut long = m;
        long.offset_s = 10.0;
        assert_eq!(kind(&Group::new(Site::Ankle, long), 1, true), Kind::Other);
        let mut shorter = m;
        shorter.offset_s = 9.9;
        assert_eq!(kind(&Group::new(Site::Ankle, shorter), 1, true), Kind::Lm);
        // both legs at once, each chattering: one bilateral leg movement
        let mut both = Group::new(Site::LeftAnkle, m);
        both.add(Site::RightAnkle, m);
        assert_eq!(kind(&both, 2, true), Kind::Lm);
        // one leg's movement split in two by a dip, the other leg in one piece: still one
        let (mut first, mut second) = (mv(0.0, 1.8), mv(2.4, 4.0));
        (first.n_bursts, second.n_bursts) = (3, 3);
        let mut split = Group::new(Site::LeftAnkle, first);
        split.add(Site::RightAnkle, mv(0.2, 3.8));
        split.add(Site::LeftAnkle, second);
        assert_eq!(kind(&split, 2, true), Kind::Lm);
        // three pieces on one leg chain like a train
        let mut third = mv(4.6, 5.5);
        third.n_bursts = 2;
        split.add(Site::LeftAnkle, third);
        assert_eq!(kind(&split, 2, true), Kind::Other);
        // two pieces as long as a whole train together, each shorter: a train
        let (mut early, mut late) = (mv(0.0, 7.0), mv(7.3, 14.5));
        (early.n_bursts, late.n_bursts) = (3, 3);
        let mut long_pair = Group::new(Site::Ankle, early);
        long_pair.add(Site::Ankle, late);
        assert_eq!(kind(&long_pair, 1, true), Kind::Other);
    }

    #[test]
    fn bilateral_groups_take_the_leg_span_and_both_sites() {
        let mut g = Group::new(Site::LeftAnkle, mv(10.0, 12.0));
        assert!(g.joins(Site::RightAnkle, 12.4, 0.5));
        assert!(!g.joins(Site::RightAnkle, 12.5, 0.5));
        g.add(Site::RightAnkle, mv(12.4, 13.0));
        let e = g.classify(&ClassifyConfig::default(), alone(2, false));
        assert_eq!(e.kind, Kind::Lm);
        assert_eq!((e.onset_s, e.offset_s), (10.0, 13.0));
        assert_eq!(e.sites.to_string(), "left_ankle+right_ankle");
        assert_eq!(g.n_leg_components(), 2);
    }

    #[test]
    fn a_leg_movement_ends_with_its_motion_and_is_named_over_its_whole_span() {
        let at = alone(2, true);
        let cfg = ClassifyConfig::default();
        // 9.8 s of motion and 0.4 s of the filters settling: a candidate leg movement of
        // 9.8 s (the 10 s limit is the scoring rules'), not of 10.2 s.
        let settling = |onset: f64, offset: f64| Movement {
            tail_s: 0.4,
            ..mv(onset, offset)
        };
        let mut g = Group::new(Site::LeftAnkle, settling(10.0, 20.2));
        let e = g.classify(&cfg, at);
        assert_eq!(e.kind, Kind::Lm);
        assert_eq!((e.onset_s, e.offset_s), (10.0, 19.8));
        // The other leg joins over the whole span, and the later motion end counts.
        assert!(g.joins(Site::RightAnkle, 20.5, 0.5));
        g.add(Site::RightAnkle, settling(20.5, 21.0));
        let e = g.classify(&cfg, at);
        assert_eq!((e.onset_s, e.offset_s), (10.0, 20.6));
        // Other classes keep their whole span.
        let e = Group::new(Site::LeftAnkle, settling(0.0, 60.0)).classify(&cfg, at);
        assert_eq!((e.kind, e.offset_s), (Kind::Activity, 60.0));
    }

    #[test]
    fn bad_config_values_are_refused_by_name() {
        let cfg = ClassifyConfig {
            jerk_min_g: -1.0,
            ..ClassifyConfig::default()
        };
        assert_eq!(cfg.validate().unwrap_err().field, "classify.jerk_min_g");
    }

    #[test]
    fn length_alone_names_activity_until_sleep_is_confirmed() {
        let cfg = ClassifyConfig::default();
        let g = Group::new(Site::Ankle, mv(0.0, 15.0));
        let at = |asleep, confirmed| Situation {
            n_sites_worn: 1,
            isolated: true,
            body_isolated: true,
            train_free: true,
            flanked: false,
            asleep,
            confirmed,
        };
        assert_eq!(g.classify(&cfg, at(false, false)).kind, Kind::Activity);
        assert_eq!(g.classify(&cfg, at(true, false)).kind, Kind::Activity);
        assert_eq!(g.classify(&cfg, at(true, true)).kind, Kind::Lm);
    }

    #[test]
    fn a_long_wrist_movement_bridges_no_leg_movements() {
        // A turn: the legs settle at 2 s, the wrist's part goes on for a minute.
        let mut turn = Group::new(Site::LeftAnkle, mv(0.0, 2.0));
        turn.add(Site::Wrist, mv(0.1, 60.0));
        assert!(turn.joins(Site::RightAnkle, 2.4, 0.5));
        assert!(
            !turn.joins(Site::RightAnkle, 30.0, 0.5),
            "a leg movement of its own"
        );
        assert!(turn.joins(Site::Wrist, 30.0, 0.5));
        // With no leg part yet, a leg movement joins a wrist's movement it overlaps.
        let wrist = Group::new(Site::Wrist, mv(0.0, 10.0));
        assert!(wrist.joins(Site::LeftAnkle, 5.0, 0.5));
        assert!(!wrist.joins(Site::LeftAnkle, 10.5, 0.5));
    }
}
