//! The streaming detector: samples in, from one or several sensors, in chunks of any size;
//! final, classified events out to a sink, in order of onset.
//!
//! Each sensor has its own movement core (`movement.rs`); what they find goes through one
//! pipeline:
//!
//! 1. **Groups.** Movements from all sensors are taken in order of onset, up to the time every
//!    core has delivered everything before (its *watermark*), and chained into groups when
//!    they overlap or follow within 0.5 s ([`crate::classify`]).
//! 2. **Classes.** A group is named once nothing that could change its name can still come:
//!    its neighbours within the jerk isolation time are known. A brief leg transient strong
//!    enough for a foot's push, with no burst but jerks before it, waits too for a return
//!    that would make it one leg movement with it ([`crate::classify`], `pair_max_s`):
//!    such a transient, a jerk included, is named up to `pair_max_s` after its onset
//!    instead of the isolation time after its end. So does a leg movement that leaves its
//!    leg tilted, for the movement that brings the leg back (`hold_min_deg`).
//! 3. **Series.** Leg movements go through the streaming PLM rule ([`crate::series`]), which
//!    holds at most three of them until their run reaches four or breaks. A jerk on the
//!    legs that a worn wrist did not feel, coming where a series expects its next member
//!    (the last leg movement one of its members, the interval inside the window), is that
//!    member's start: a leg movement, reported at the shortest an LM may be. So is a jerk
//!    no worn wrist felt that follows a run of two or more leg movements by a series
//!    interval, when the next leg movement follows it by one too: it is held until that
//!    leg movement comes or the longest interval has passed (`jerk_train_hold`).
//! 4. **Order.** Events are delivered in order of onset, each as soon as nothing earlier can
//!    still appear.
//! 5. **Sleep and metrics.** Activity and jerks drive the sleep tracker ([`crate::sleep`]);
//!    delivered events and sleep transitions feed the night's metrics
//!    ([`crate::metrics`]) once the sleep state at their time is settled.
//!
//! Every stage holds a bounded amount: a few movements per sensor, a few groups, three LMs,
//! a few events. With several sensors, push them in step (by time): a sensor pushed far ahead
//! of the others waits in its queue until they catch up.
//!
//! The pipeline moves on after every 50 ms block of every core, but most blocks change
//! nothing in it: a leg movement waits up to 90 s for the next of its series. After each full
//! pass the pipeline notes the earliest watermark at which any stage can change (a group
//! closing or being named, a neighbour rule or the series rule letting go); until then, and
//! while no new movement arrives, a block only moves the sleep tracker and feeds the
//! metrics. The events and the moment each is delivered are those of a full pass
//! every block.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::classify::{Group, Situation};
use crate::context::{BoutMerger, BoutOut, Named, TrainFilter};
use crate::metrics::{NightAccumulator, NightMetrics};
use crate::movement::{CoreSink, MovementCore, SiteSummary};
use crate::segment::Movement;
use crate::series::{LegMovement, LmClass, Scored, SeriesTracker, TIME_TOLERANCE_S};
use crate::sleep::{SleepNotice, SleepTracker};
use crate::{Config, ConfigError, Error, Event, Gap, Kind, Sample, Sink, Site, Sites, SleepBout};

/// What a detector reports about a whole night when it is finished.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Each sensor's stream: samples, span, rate, gaps, calibration.
    pub sites: Vec<SiteReport>,
    /// The night's clinical metrics.
    pub metrics: NightMetrics,
    /// The sleep bouts found, in time order.
    pub sleep_bouts: Vec<SleepBout>,
    /// Events delivered, per kind, in the order of [`Kind::ALL`].
    pub n_events: [u64; 6],
    /// The detector's latency bound, in seconds (see [`Detector::latency_s`]).
    pub latency_s: f64,
}

/// One sensor's part of a [`Summary`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteReport {
    /// Where the sensor was worn.
    pub site: Site,
    /// What its stream held.
    #[serde(flatten)]
    pub stream: SiteSummary,
}

impl Summary {
    /// Events delivered of one kind.
    pub fn count(&self, kind: Kind) -> u64 {
        let i = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.n_events.get(i).copied().unwrap_or(0)
    }
}

/// Per-sensor queue of movements waiting to be grouped.
#[derive(Clone, Debug)]
struct Feed {
    site: Site,
    queue: VecDeque<Movement>,
    watermark_s: f64,
    now_s: f64,
    done: bool,
    /// Time of the sensor's first sample, once one has been pushed.
    first_t_s: Option<f64>,
}

/// Movements a sensor may have waiting before the others catch up, reserved up front.
const FEED_CAPACITY: usize = 64;
/// Events waiting for earlier ones, reserved up front.
const OUT_CAPACITY: usize = 256;

/// The pipeline from movements to delivered events, sleep and metrics.
#[derive(Clone, Debug)]
struct Scorer {
    config: Config,
    n_sites: u32,
    /// The sensors worn (a transient that a worn wrist does not see is no whole-body jerk).
    worn: Sites,
    open: Option<Group>,
    closed: VecDeque<Group>,
    /// End of the last decided group that was not jerk-like (for jerk isolation).
    last_nonjerk_end_s: f64,
    /// End of the last decided group that was brief (shorter than an LM) and not jerk-like:
    /// a burst such as a train's, which no push of a paired leg movement may follow closely.
    last_burst_end_s: f64,
    trains: TrainFilter,
    bouts: BoutMerger,
    scratch_named: Vec<Named>,
    scratch_bout: Vec<BoutOut>,
    /// A jerk that follows a run of leg movements by a series interval, held until the next
    /// leg movement shows whether it is one of a train (see [`Scorer::may_be_in_train`]).
    held_jerk: Option<Named>,
    series: SeriesTracker,
    /// Leg movements inside the series tracker, in the same order.
    lm_events: VecDeque<Event>,
    /// Decided events waiting for earlier ones, sorted by onset.
    out: Vec<Event>,
    sleep: SleepTracker,
    /// Sleep transitions not yet fed to the metrics: (time, true for an onset).
    transitions: VecDeque<(f64, bool)>,
    /// Gaps not yet fed to the metrics, by start: (start, duration), in seconds.
    gaps: VecDeque<(f64, f64)>,
    /// Delivered events not yet fed to the metrics.
    for_metrics: VecDeque<Event>,
    metrics: NightAccumulator,
    sleep_bouts: Vec<SleepBout>,
    n_events: [u64; 6],
    first_t_s: Option<f64>,
    last_t_s: f64,
    /// Earliest watermark at which the full pass may change anything but the sleep tracker
    /// and the metrics, while no movement waits in a feed (see [`Scorer::due_s`]).
    next_pass_s: f64,
    /// Earliest onset still undecided or held back (see [`Scorer::held_s`]), as the last full
    /// pass left it.
    held_s: f64,
    /// Tests: take the full pass on every call, as if no deadline were known.
    #[cfg(test)]
    every_pass: bool,
}

/// How the pairing of the first closed group stands (see [`Scorer::pair_state`]).
enum PairState {
    /// Not a push, or nothing that can still come is its return: named alone.
    Alone,
    /// The open group may be its return once it closes.
    OpenGroup,
    /// No group follows yet; a return may start until this time.
    NoneUntil(f64),
    /// The next closed group is its return if no burst but jerks comes before this time.
    Return(f64),
    /// The next closed group brings back the leg it left tilted: the two are one held
    /// movement, named once this time is known.
    Held(f64),
}

/// What the first closed group waits for before it is named.
enum Pairing {
    /// It may be a leg movement's start whose return is yet to be known.
    Wait,
    /// It is a start, and the next closed group its return.
    Pair,
    /// It is named alone.
    Alone,
}

/// How much earlier than its exact time a deadline is taken: a full pass a microsecond
/// early changes nothing, and it keeps rounding in the deadline's sum from ever making a
/// pass late. The deadline and the test it stands for each round by at most an ulp of the
/// time, which stays under half a microsecond below 2^32 s: a Unix clock in seconds (as
/// the readers give it) until the year 2106.
const DUE_MARGIN_S: f64 = 1e-6;

impl Scorer {
    fn new(config: &Config, worn: Sites) -> Result<Self, ConfigError> {
        Ok(Scorer {
            config: config.clone(),
            n_sites: worn.len(),
            worn,
            open: None,
            closed: VecDeque::with_capacity(16),
            last_nonjerk_end_s: f64::NEG_INFINITY,
            last_burst_end_s: f64::NEG_INFINITY,
            trains: TrainFilter::new(
                config.classify.train_min_movements,
                config.classify.train_max_interval_s,
                config.classify.activity_min_g,
            ),
            bouts: BoutMerger::new(
                config.classify.activity_bout_gap_s,
                config.classify.activity_tail_s,
            ),
            scratch_named: Vec::with_capacity(16),
            scratch_bout: Vec::with_capacity(16),
            held_jerk: None,
            series: SeriesTracker::new(&config.series),
            lm_events: VecDeque::with_capacity(16),
            out: Vec::with_capacity(OUT_CAPACITY),
            sleep: SleepTracker::new(&config.sleep),
            transitions: VecDeque::with_capacity(16),
            gaps: VecDeque::with_capacity(16),
            for_metrics: VecDeque::with_capacity(OUT_CAPACITY),
            metrics: NightAccumulator::new(&config.series, 0.0)?,
            sleep_bouts: Vec::with_capacity(16),
            n_events: [0; 6],
            first_t_s: None,
            last_t_s: f64::NEG_INFINITY,
            next_pass_s: f64::NEG_INFINITY,
            held_s: f64::NEG_INFINITY,
            #[cfg(test)]
            every_pass: false,
        })
    }

    /// Starts the night at the earliest first sample, once every sensor has given one (or,
    /// at the end, with those that did): in bed, awake, metrics from then on. Whatever order
    /// the sensors are pushed in, the night starts at the same time.
    fn start_if_ready(&mut self, feeds: &[Feed], at_end: bool) {
        if self.first_t_s.is_some() {
            return;
        }
        let ready = feeds.iter().all(|f| f.first_t_s.is_some()) || at_end;
        let start = feeds
            .iter()
            .filter_map(|f| f.first_t_s)
            .fold(f64::INFINITY, f64::min);
        if ready && start.is_finite() {
            self.first_t_s = Some(start);
            self.sleep.start(start);
            // The series config was validated when the detector was built.
            if let Ok(acc) = NightAccumulator::new(&self.config.series, start) {
                self.metrics = acc;
            }
        }
    }

    /// Earliest watermark at which a full pass, with no new movement, may change anything
    /// but the sleep tracker and the metrics: a group closing or being named, a neighbour
    /// rule or the series rule letting go. Taken after every full pass; until the watermark
    /// reaches it, a pass would only move the sleep tracker and feed the metrics, which the
    /// short path does.
    ///
    /// The neighbour rules see time only up to the first unnamed group's onset, a held jerk
    /// only up to the first event not yet named (`named_s`), the series rule only up to the
    /// first held event's (`held_s`): a deadline beyond that can only
    /// be reached after a group is named or let go, in a full pass that another deadline
    /// brings. Counting it anyway would bring a full pass on every block while it waits.
    /// Decided events need no deadline of their own: one still waiting after a full pass is
    /// behind a leg movement in the series rule or at or after `held_s`, and goes out in
    /// the full pass that moves either.
    fn due_s(&self, held: f64) -> f64 {
        let merge_gap = self.config.classify.merge_gap_s;
        let unnamed = self.unnamed_s();
        [
            self.open.as_ref().map(|g| g.offset_s + merge_gap),
            self.front_due_s(),
            self.trains.due_s().filter(|d| *d < unnamed),
            self.bouts.due_s().filter(|d| *d < unnamed),
            self.jerk_due_s().filter(|d| *d < self.named_s()),
            self.series.due_s().filter(|d| *d < held),
        ]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min)
            - DUE_MARGIN_S
    }

    /// When the first closed group may be named: once its neighbours within the jerk
    /// isolation time are known, and, when it may start a leg movement, once its return is
    /// known or can no longer come (see [`Scorer::pairing`]). While it waits on the open
    /// group, that group's closing is the deadline.
    fn front_due_s(&self) -> Option<f64> {
        let g = self.closed.front()?;
        let horizon = g.offset_s + self.config.classify.jerk_isolation_s;
        match self.pair_state() {
            PairState::Alone => Some(horizon),
            PairState::OpenGroup => None,
            PairState::NoneUntil(t) | PairState::Return(t) | PairState::Held(t) => {
                Some(t.max(horizon))
            }
        }
    }

    /// Earliest onset of a group not yet named: the neighbour rules see time up to it.
    fn unnamed_s(&self) -> f64 {
        [
            self.open.as_ref().map(|g| g.onset_s),
            self.closed.front().map(|g| g.onset_s),
        ]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min)
    }

    /// Earliest onset of a group not yet named or an event a neighbour rule still holds:
    /// the stages after naming settle up to the watermark or this, whichever comes first.
    fn held_s(&self) -> f64 {
        let named = self.named_s();
        self.held_jerk
            .as_ref()
            .map_or(named, |j| j.event.onset_s.min(named))
    }

    /// Earliest onset of a group not yet named or an event the train and bout rules still
    /// hold: every event before it has reached [`Scorer::named`].
    fn named_s(&self) -> f64 {
        [self.trains.pending_onset_s(), self.bouts.pending_onset_s()]
            .into_iter()
            .flatten()
            .fold(self.unnamed_s(), f64::min)
    }

    /// When the held jerk is a jerk after all, if no leg movement comes first: once every
    /// event starting up to the longest series interval after it has been named.
    fn jerk_due_s(&self) -> Option<f64> {
        let imi_max = self.config.series.imi_max_s;
        self.held_jerk
            .as_ref()
            .map(|j| j.event.onset_s + imi_max + TIME_TOLERANCE_S)
    }

    /// Time of the first event or sleep transition not yet fed to the metrics: the short
    /// path calls `feed_metrics` only when this precedes what the sleep tracker has settled
    /// (the same test `feed_metrics` makes, without the call).
    fn unfed_s(&self) -> f64 {
        let mut t = f64::INFINITY;
        if let Some(e) = self.for_metrics.front() {
            t = e.onset_s;
        }
        if let Some(tr) = self.transitions.front() {
            t = t.min(tr.0);
        }
        if let Some(g) = self.gaps.front() {
            t = t.min(g.0);
        }
        t
    }

    /// Moves everything forward as far as the feeds allow.
    fn advance(&mut self, feeds: &mut [Feed], sink: &mut impl Sink) {
        if self.first_t_s.is_none() {
            return;
        }
        let w = feeds
            .iter()
            .map(|f| if f.done { f64::INFINITY } else { f.watermark_s })
            .fold(f64::INFINITY, f64::min);
        #[cfg(test)]
        if self.every_pass {
            self.next_pass_s = f64::NEG_INFINITY;
        }
        if w.is_finite() && w < self.next_pass_s && feeds.iter().all(|f| f.queue.is_empty()) {
            // Nothing before the deadline but what the full pass would do here: the sleep
            // tracker follows the settled time, the metrics take what it settles.
            if let Some(n) = self.sleep.advance(w.min(self.held_s)) {
                self.sleep_notice(n, sink);
            }
            let until = self.sleep.settled_before_s();
            if self.unfed_s() < until {
                self.feed_metrics(until);
            }
            return;
        }
        let merge_gap = self.config.classify.merge_gap_s;
        // 1. Movements in onset order, into groups.
        loop {
            let next = feeds
                .iter()
                .enumerate()
                .filter_map(|(i, f)| f.queue.front().map(|m| (i, m.onset_s)))
                .filter(|(_, t)| *t < w)
                .min_by(|a, b| a.1.total_cmp(&b.1));
            let Some((i, _)) = next else { break };
            let Some(f) = feeds.get_mut(i) else { break };
            let Some(m) = f.queue.pop_front() else { break };
            let site = f.site;
            match &mut self.open {
                Some(g) if g.joins(site, m.onset_s, merge_gap) => g.add(site, m),
                _ => {
                    if let Some(g) = self.open.replace(Group::new(site, m)) {
                        self.closed.push_back(g);
                    }
                }
            }
        }
        if let Some(g) = &self.open {
            if w >= g.offset_s + merge_gap {
                self.closed.extend(self.open.take());
            }
        }
        // 2. Name groups whose neighbours within the isolation time are known.
        let iso = self.config.classify.jerk_isolation_s;
        // A group is a kilobyte: it is looked at in place while it waits, taken when named.
        while let Some(horizon) = self.closed.front().map(|g| g.offset_s + iso) {
            let open_near = self.open.as_ref().is_some_and(|o| o.onset_s < horizon);
            if !(w >= horizon || w.is_infinite()) || open_near {
                break;
            }
            // A movement's start whose return may follow is named with it.
            let paired = match self.pairing(w) {
                Pairing::Wait => break,
                Pairing::Pair => true,
                Pairing::Alone => false,
            };
            let Some(mut g) = self.closed.pop_front() else {
                break;
            };
            if paired {
                if let Some(n) = self.closed.pop_front() {
                    g.join_return(&n);
                }
            }
            let cfg = &self.config.classify;
            let isolated = self.alone_within(&g, iso);
            let body_isolated = self.alone_within(&g, cfg.jerk_body_isolation_s);
            let quiet = cfg.chatter_quiet_s;
            let train_free = !self.burst_before(g.onset_s, iso)
                && !self.burst_after(&g, iso)
                && self.alone_within(&g, quiet);
            let flanked = self.burst_before(g.onset_s, quiet) && self.burst_after(&g, quiet);
            if !g.is_jerk_like(cfg, self.n_sites) {
                self.last_nonjerk_end_s = self.last_nonjerk_end_s.max(g.offset_s);
                if is_burst(&g, cfg) {
                    self.last_burst_end_s = self.last_burst_end_s.max(g.offset_s);
                }
            }
            let at = Situation {
                n_sites_worn: self.n_sites,
                isolated,
                body_isolated,
                train_free,
                flanked,
                asleep: self.sleep.settled_at(g.onset_s),
                confirmed: self.sleep.is_confirmed(),
            };
            let e = g.classify(cfg, at);
            self.decided(e, &g, sink);
        }
        // 3. Everything before `decided` is named.
        let decided = w.min(self.unnamed_s());
        if decided.is_finite() || w.is_infinite() {
            self.advance_context(decided, sink);
            // No leg movement before the held jerk's deadline can still come: a jerk.
            if self.jerk_due_s().is_some_and(|d| d < w.min(self.named_s())) {
                self.settle_jerk(false, sink);
            }
            // Everything before `settled` is also let go by the neighbour rules.
            let settled = w.min(self.held_s());
            if settled.is_finite() {
                let (series, lm_events, out) =
                    (&mut self.series, &mut self.lm_events, &mut self.out);
                series.advance_to(settled, &mut |s| scored(s, lm_events, out));
                if let Some(n) = self.sleep.advance(settled) {
                    self.sleep_notice(n, sink);
                }
            }
            self.release(settled, sink);
        }
        self.held_s = self.held_s();
        self.next_pass_s = self.due_s(self.held_s);
    }

    /// True when `g`, the first closed group, may be the push of a leg movement whose
    /// return is to come: a brief leg transient as strong as a push, with no burst (a group
    /// shorter than an LM) but jerks within the jerk isolation time before it. Nothing this
    /// depends on changes while `g` waits at the front.
    fn may_start_pair(&self, g: &Group) -> bool {
        let cfg = &self.config.classify;
        g.is_leg_transient(cfg)
            && g.peak_h_g() >= cfg.lm_transient_min_g
            && !self.burst_before(g.onset_s, cfg.jerk_isolation_s)
    }

    /// True when a burst (a group shorter than an LM, jerks aside) named so far ended
    /// within `within_s` before `onset_s`.
    fn burst_before(&self, onset_s: f64, within_s: f64) -> bool {
        onset_s - self.last_burst_end_s < within_s
    }

    /// True when a closed group that is a burst starts within `within_s` after `g`, the
    /// group being named (at most the jerk isolation time, which naming waits for).
    fn burst_after(&self, g: &Group, within_s: f64) -> bool {
        !self.no_bursts(0, g.offset_s + within_s)
    }

    /// True when every closed group from the `from`-th on that starts before `t_s` is
    /// jerk-like or as long as an LM: no burst comes before `t_s` among those known.
    fn no_bursts(&self, from: usize, t_s: f64) -> bool {
        let cfg = &self.config.classify;
        self.closed_before(from, t_s)
            .all(|a| a.is_jerk_like(cfg, self.n_sites) || !is_burst(a, cfg))
    }

    /// True when nothing but jerks comes within `within_s` of `g`, the group being named,
    /// on either side: no group named so far ended that close before it, and no closed
    /// group starts that soon after it (at most the jerk isolation time, which naming
    /// waits for).
    fn alone_within(&self, g: &Group, within_s: f64) -> bool {
        g.onset_s - self.last_nonjerk_end_s >= within_s && self.only_jerks(0, g.offset_s + within_s)
    }

    /// True when every closed group from the `from`-th on that starts before `t_s` is
    /// jerk-like: nothing else comes before `t_s` among those known.
    fn only_jerks(&self, from: usize, t_s: f64) -> bool {
        self.closed_before(from, t_s)
            .all(|a| a.is_jerk_like(&self.config.classify, self.n_sites))
    }

    /// The closed groups from the `from`-th on that start before `t_s`.
    fn closed_before(&self, from: usize, t_s: f64) -> impl Iterator<Item = &Group> {
        self.closed
            .iter()
            .skip(from)
            .take_while(move |a| a.onset_s < t_s)
    }

    /// How the pairing of the first closed group stands, whatever the watermark: whether it
    /// is the push of a leg movement whose return is the next group (see
    /// `ClassifyConfig::pair_max_s`), or may still be. The return is a brief leg transient
    /// on a leg the push moved, ending within `pair_max_s` of the push's onset, the two not
    /// both jerk-like. The open group is given up as soon as it can no longer be one: it
    /// only grows. A group that is no push may still be the way out of a held movement
    /// ([`Scorer::hold_state`]).
    fn pair_state(&self) -> PairState {
        let cfg = &self.config.classify;
        let Some(g) = self.closed.front() else {
            return PairState::Alone;
        };
        if !self.may_start_pair(g) {
            return self.hold_state(g);
        }
        let reach = g.onset_s + cfg.pair_max_s;
        let fits = |n: &Group| n.is_leg_transient(cfg) && n.offset_s <= reach;
        let closed = |n: &Group| {
            let two_jerks = g.is_jerk_like(cfg, self.n_sites) && n.is_jerk_like(cfg, self.n_sites);
            if fits(n) && g.shares_leg(n) && !two_jerks {
                PairState::Return(n.offset_s + cfg.jerk_isolation_s)
            } else {
                PairState::Alone
            }
        };
        self.second_half(reach, closed, fits)
    }

    /// How the first closed group `g` stands as the way out of a held movement (see
    /// `ClassifyConfig::hold_min_deg`): the next group, ending within `pair_max_s` of its
    /// onset and starting `hold_min_gap_s` or more after its end, may bring its tilted leg
    /// back. Whether the open group does is known only once it closes; it is given up as
    /// soon as it ends too late.
    fn hold_state(&self, g: &Group) -> PairState {
        let cfg = &self.config.classify;
        let Some(start) = g.hold_start(cfg, self.n_sites) else {
            return PairState::Alone;
        };
        let reach = g.onset_s + cfg.pair_max_s;
        let in_time =
            |n: &Group| n.onset_s >= g.offset_s + cfg.hold_min_gap_s && n.offset_s <= reach;
        let closed = |n: &Group| {
            if in_time(n) && n.brings_back(start) {
                PairState::Held(n.offset_s + cfg.jerk_isolation_s)
            } else {
                PairState::Alone
            }
        };
        self.second_half(reach, closed, in_time)
    }

    /// How the group after the first closed one stands as its second half (a push's return,
    /// a held movement's way back), which must start before `reach`: `closed` judges it once
    /// it is closed; while it is open, `open_fits` says whether it still may be one.
    fn second_half(
        &self,
        reach: f64,
        closed: impl Fn(&Group) -> PairState,
        open_fits: impl Fn(&Group) -> bool,
    ) -> PairState {
        match (self.closed.get(1), &self.open) {
            (Some(n), _) if n.onset_s < reach => closed(n),
            (None, Some(o)) if o.onset_s < reach && open_fits(o) => PairState::OpenGroup,
            (None, None) => PairState::NoneUntil(reach),
            _ => PairState::Alone,
        }
    }

    /// What the first closed group's pairing decides at watermark `w`: no burst but jerks
    /// may come within the jerk isolation time after the return (the push's side was
    /// checked by `may_start_pair`); leg movements may.
    fn pairing(&self, w: f64) -> Pairing {
        let known = |t: f64| w >= t || w.is_infinite();
        match self.pair_state() {
            PairState::Alone => Pairing::Alone,
            PairState::OpenGroup => Pairing::Wait,
            PairState::NoneUntil(t) if known(t) => Pairing::Alone,
            PairState::NoneUntil(_) => Pairing::Wait,
            state @ (PairState::Return(t) | PairState::Held(t)) => {
                let open_near = self.open.as_ref().is_some_and(|o| o.onset_s < t);
                if !known(t) || open_near {
                    return Pairing::Wait;
                }
                // A push's return has no burst after it; a held movement's way back may.
                if matches!(state, PairState::Held(_)) || self.no_bursts(2, t) {
                    Pairing::Pair
                } else {
                    Pairing::Alone
                }
            }
        }
    }

    /// A group has been named: on through the neighbour rules.
    fn decided(&mut self, e: Event, g: &Group, sink: &mut impl Sink) {
        let mut trained = std::mem::take(&mut self.scratch_named);
        let named = Named {
            event: e,
            n_components: g.n_leg_components(),
        };
        self.trains.push(named, &mut |n| trained.push(n));
        self.after_trains(&mut trained, sink);
        self.scratch_named = trained;
    }

    /// Neighbour rules may release held events once no event before `t_s` can come.
    fn advance_context(&mut self, t_s: f64, sink: &mut impl Sink) {
        let mut trained = std::mem::take(&mut self.scratch_named);
        self.trains.advance(t_s, &mut |n| trained.push(n));
        self.after_trains(&mut trained, sink);
        let mut bouted = std::mem::take(&mut self.scratch_bout);
        self.bouts.advance(t_s, &mut |o| bouted.push(o));
        for o in bouted.drain(..) {
            self.named(o, sink);
        }
        self.scratch_bout = bouted;
        self.scratch_named = trained;
    }

    fn after_trains(&mut self, trained: &mut Vec<Named>, sink: &mut impl Sink) {
        let mut bouted = std::mem::take(&mut self.scratch_bout);
        for n in trained.drain(..) {
            self.bouts.push(n, &mut |o| bouted.push(o));
        }
        for o in bouted.drain(..) {
            self.named(o, sink);
        }
        self.scratch_bout = bouted;
    }

    /// An event whose name is final but for a jerk that may be one of a train (held until
    /// the next leg movement decides it): into the series rule, or out; activity and jerks
    /// tell the sleep tracker.
    fn named(&mut self, o: BoutOut, sink: &mut impl Sink) {
        if let Some(j) = &self.held_jerk {
            // The next leg movement decides a held jerk: one of a train when it follows by a
            // series interval. Activity or another jerk ends the wait.
            let in_train = match &o {
                BoutOut::Event(n) if matches!(n.event.kind, Kind::Lm | Kind::Plm) => Some(
                    self.config
                        .series
                        .imi_in_window(n.event.onset_s - j.event.onset_s),
                ),
                BoutOut::Event(n) if n.event.kind == Kind::HypnicJerk => Some(false),
                BoutOut::Activity { .. } => Some(false),
                BoutOut::Event(_) => None,
            };
            if let Some(in_train) = in_train {
                self.settle_jerk(in_train, sink);
            }
        }
        let n = match o {
            BoutOut::Activity { onset_s, offset_s } => {
                for notice in self.sleep.wake(onset_s, offset_s).into_iter().flatten() {
                    self.sleep_notice(notice, sink);
                }
                return;
            }
            BoutOut::Event(n) => n,
        };
        if self.may_be_in_train(&n.event) {
            self.held_jerk = Some(n);
            return;
        }
        self.deliver(n, sink);
    }

    /// True for a jerk that a worn wrist did not feel (or with no wrist worn), following a
    /// run of two or more leg movements by a series interval: it is held until the next leg
    /// movement (`classify.jerk_train_hold`).
    fn may_be_in_train(&self, e: &Event) -> bool {
        let wrist = self.worn.contains(Site::Wrist);
        self.config.classify.jerk_train_hold
            && e.kind == Kind::HypnicJerk
            && !(wrist && e.sites.contains(Site::Wrist))
            // Where a series already runs and a wrist is worn, `deliver` decides at once.
            && !(wrist && self.series.continues_series(e.onset_s))
            && self.series.follows_run(e.onset_s)
    }

    /// Decides the held jerk: a leg movement when it is one of a train, a jerk otherwise.
    fn settle_jerk(&mut self, in_train: bool, sink: &mut impl Sink) {
        let Some(mut j) = self.held_jerk.take() else {
            return;
        };
        if in_train {
            // Between two leg movements a series interval apart on either side: one of a
            // train (domain.md §2.1: a jerk is isolated, not part of a 10-90 s train),
            // reported at the shortest an LM may be, as a lone push.
            as_lone_push(&mut j.event, self.config.classify.lm_min_s);
        }
        self.deliver(j, sink);
    }

    /// An event whose name is final after the neighbour rules and the train wait: into the
    /// series rule, or out.
    fn deliver(&mut self, n: Named, sink: &mut impl Sink) {
        let mut e = n.event;
        if e.kind == Kind::HypnicJerk
            && self.worn.contains(Site::Wrist)
            && !e.sites.contains(Site::Wrist)
            && self.series.continues_series(e.onset_s)
        {
            // A jerk-like transient on the legs that the wrist did not feel, where a
            // periodic series expects its next member, is that member's start: a hypnic
            // jerk comes at sleep onset and is often whole-body (domain.md §2.1), a
            // periodic series has already shown the sleeper asleep and the legs moving
            // every 10-90 s. It is reported at the shortest an LM may be, as a lone push.
            as_lone_push(&mut e, self.config.classify.lm_min_s);
        }
        match e.kind {
            Kind::Lm | Kind::Plm => {
                let cfg = &self.config.series;
                let bilateral =
                    e.sites.contains(Site::LeftAnkle) && e.sites.contains(Site::RightAnkle);
                let is_clm = cfg.clm_duration_ok(e.duration_s(), bilateral)
                    && (!bilateral || n.n_components <= cfg.bilateral_max_components);
                let lm = LegMovement {
                    onset_s: e.onset_s,
                    offset_s: e.offset_s,
                    sites: e.sites,
                    n_components: n.n_components,
                    is_clm,
                };
                self.lm_events.push_back(e);
                let (series, lm_events, out) =
                    (&mut self.series, &mut self.lm_events, &mut self.out);
                series.push(lm, &mut |s| scored(s, lm_events, out));
            }
            other => {
                if other == Kind::HypnicJerk {
                    if let Some(notice) = self.sleep.jerk(e.onset_s) {
                        self.sleep_notice(notice, sink);
                    }
                }
                insert_sorted(&mut self.out, e);
            }
        }
    }

    fn sleep_notice(&mut self, n: SleepNotice, sink: &mut impl Sink) {
        match n {
            SleepNotice::Onset(t) => {
                sink.sleep_onset(t);
                self.transitions.push_back((t, true));
            }
            SleepNotice::BoutEnd(b) => {
                self.sleep_bouts.push(b);
                self.transitions.push_back((b.end_s, false));
            }
        }
    }

    /// Delivers events before `decided` that no pending leg movement precedes, then feeds
    /// the metrics as far as the sleep state is settled.
    fn release(&mut self, decided: f64, sink: &mut impl Sink) {
        let mark = self
            .lm_events
            .front()
            .map_or(decided, |e| e.onset_s.min(decided));
        let n = self.out.iter().take_while(|e| e.onset_s < mark).count();
        for e in self.out.drain(..n) {
            if let Some(i) = Kind::ALL.iter().position(|k| *k == e.kind) {
                if let Some(c) = self.n_events.get_mut(i) {
                    *c += 1;
                }
            }
            sink.event(e);
            self.for_metrics.push_back(e);
        }
        self.feed_metrics(self.sleep.settled_before_s());
    }

    /// Feeds events, sleep transitions and gaps before `until` to the metrics, in time order
    /// (at equal times a transition first, as a bout holds its start, then a gap).
    fn feed_metrics(&mut self, until: f64) {
        let acc = &mut self.metrics;
        loop {
            let te = self
                .for_metrics
                .front()
                .map_or(f64::INFINITY, |e| e.onset_s);
            let tt = self.transitions.front().map_or(f64::INFINITY, |t| t.0);
            let tg = self.gaps.front().map_or(f64::INFINITY, |g| g.0);
            if tt <= te && tt <= tg && tt < until {
                if let Some((t, onset)) = self.transitions.pop_front() {
                    if onset {
                        acc.sleep_onset(t);
                    } else {
                        acc.wake(t);
                    }
                }
            } else if tg <= te && tg < until {
                if let Some((start, duration)) = self.gaps.pop_front() {
                    acc.gap(start, duration);
                }
            } else if te < until {
                if let Some(e) = self.for_metrics.pop_front() {
                    acc.event(&e);
                }
            } else {
                break;
            }
        }
    }

    /// Every feed has finished: decide and deliver everything, close the night.
    fn finish(
        &mut self,
        feeds: &mut [Feed],
        sink: &mut impl Sink,
    ) -> (NightMetrics, Vec<SleepBout>, [u64; 6]) {
        self.start_if_ready(feeds, true);
        for f in feeds.iter_mut() {
            f.done = true;
        }
        self.advance(feeds, sink);
        {
            let (series, lm_events, out) = (&mut self.series, &mut self.lm_events, &mut self.out);
            series.finish(&mut |s| scored(s, lm_events, out));
        }
        let end = self.last_t_s;
        if end.is_finite() {
            for n in self.sleep.finish(end).into_iter().flatten() {
                self.sleep_notice(n, sink);
            }
        }
        self.release(f64::INFINITY, sink);
        self.feed_metrics(f64::INFINITY);
        let metrics = self.metrics.finish(if end.is_finite() { end } else { 0.0 });
        (
            metrics,
            std::mem::take(&mut self.sleep_bouts),
            self.n_events,
        )
    }
}

/// A leg movement scored by the series rule becomes the event pushed with it.
/// A group shorter than an LM: a burst, as a train's are.
fn is_burst(g: &Group, cfg: &crate::classify::ClassifyConfig) -> bool {
    g.offset_s - g.onset_s < cfg.lm_min_s
}

/// Makes `e` a leg movement reported as a lone push: at least `lm_min_s` long, the shortest
/// an LM may be.
fn as_lone_push(e: &mut Event, lm_min_s: f64) {
    e.kind = Kind::Lm;
    e.offset_s = e.offset_s.max(e.onset_s + lm_min_s);
}

fn scored(s: Scored, lm_events: &mut VecDeque<Event>, out: &mut Vec<Event>) {
    if let Some(mut e) = lm_events.pop_front() {
        e.kind = if s.class == LmClass::Plm {
            Kind::Plm
        } else {
            Kind::Lm
        };
        e.series_id = s.series_id;
        e.imi_s = s.imi_s;
        insert_sorted(out, e);
    }
}

fn insert_sorted(out: &mut Vec<Event>, e: Event) {
    let at = out.partition_point(|x| x.onset_s <= e.onset_s);
    out.insert(at, e);
}

/// Hands a core's output to its feed and moves the pipeline on.
struct Relay<'a, S: Sink> {
    feeds: &'a mut [Feed],
    idx: usize,
    scorer: &'a mut Scorer,
    sink: &'a mut S,
}

impl<S: Sink> CoreSink for Relay<'_, S> {
    fn movement(&mut self, m: Movement) {
        if let Some(f) = self.feeds.get_mut(self.idx) {
            f.queue.push_back(m);
        }
    }

    fn gap(&mut self, gap: Gap) {
        for n in self
            .scorer
            .sleep
            .gap(gap.start_s, gap.duration_s)
            .into_iter()
            .flatten()
        {
            self.scorer.sleep_notice(n, self.sink);
        }
        // Each sensor reports its own gaps: kept in order of start for the metrics, unless
        // gaps are stillness (then they are sleep or wake as the time around them).
        if !self.scorer.config.sleep.gaps_are_still {
            let gaps = &mut self.scorer.gaps;
            let at = gaps.partition_point(|g| g.0 <= gap.start_s);
            gaps.insert(at, (gap.start_s, gap.duration_s));
        }
        self.sink.gap(gap);
    }

    fn unworn(&mut self, start_s: f64, end_s: f64) {
        if let Some(f) = self.feeds.get(self.idx) {
            self.sink.unworn(crate::Unworn {
                site: f.site,
                start_s,
                end_s,
            });
        }
    }

    fn progress(&mut self, t_s: f64, watermark_s: f64) {
        self.scorer.last_t_s = self.scorer.last_t_s.max(t_s);
        if let Some(f) = self.feeds.get_mut(self.idx) {
            f.now_s = t_s;
            f.watermark_s = f.watermark_s.max(watermark_s);
        }
        self.scorer.advance(self.feeds, self.sink);
    }
}

/// The streaming detector of one night, from one sensor or several.
///
/// ```
/// use sleeptwitch::{Config, Detector, Event, Kind, Sample};
///
/// let mut detector = Detector::new(&Config::default(), 100.0)?;
/// let mut events: Vec<Event> = Vec::new();
/// // 60 s still, a 2 s foot tilt of 15°, 60 s still, pushed one second at a time
/// let night: Vec<Sample> = (0..12_200)
///     .map(|i| {
///         let t = i as f64 / 100.0;
///         let tilt = if (60.0..62.0).contains(&t) {
///             15f64.to_radians() * (std::f64::consts::PI * (t - 60.0) / 2.0).sin()
///         } else {
///             0.0
///         };
///         Sample::new(t, [0.0, tilt.sin(), tilt.cos()])
///     })
///     .collect();
/// for chunk in night.chunks(100) {
///     detector.push(chunk, &mut events)?;
/// }
/// let summary = detector.finish(&mut events)?;
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].kind, Kind::Lm);
/// assert!((events[0].onset_s - 60.0).abs() < 0.5);
/// assert_eq!(summary.count(Kind::Lm), 1);
/// # Ok::<(), sleeptwitch::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Detector {
    cores: Vec<MovementCore>,
    feeds: Vec<Feed>,
    scorer: Scorer,
    latency_s: f64,
}

impl Detector {
    /// A detector for one ankle sensor sampled at about `sample_rate_hz`.
    ///
    /// # Errors
    /// When a config field breaks its rule for this rate (see [`Config::validate`]).
    pub fn new(config: &Config, sample_rate_hz: f64) -> Result<Self, ConfigError> {
        Detector::with_sites(config, &[(Site::Ankle, sample_rate_hz)])
    }

    /// A detector for one night seen by several sensors: `(site, sample rate in Hz)` each, in
    /// the order [`push_site`](Self::push_site) numbers them. Two ankles are merged into
    /// bilateral leg movements; a wrist joins jerk, posture and activity decisions.
    ///
    /// # Errors
    /// When a config field breaks its rule for a rate, or no site (or more than four) is
    /// given.
    pub fn with_sites(config: &Config, sites: &[(Site, f64)]) -> Result<Self, ConfigError> {
        if sites.is_empty() || sites.len() > 4 {
            return Err(ConfigError::new(
                "sites",
                sites.len(),
                "must name one to four sensors",
            ));
        }
        config.classify.validate()?;
        config.series.validate()?;
        let mut cores = Vec::with_capacity(sites.len());
        let mut feeds = Vec::with_capacity(sites.len());
        let mut core_latency = 0.0f64;
        for &(site, rate) in sites {
            let core = MovementCore::for_site(config, rate, site)?;
            core_latency = core_latency.max(core.latency_s());
            cores.push(core);
            feeds.push(Feed {
                site,
                queue: VecDeque::with_capacity(FEED_CAPACITY),
                watermark_s: f64::NEG_INFINITY,
                now_s: f64::NEG_INFINITY,
                done: false,
                first_t_s: None,
            });
        }
        // Grouping waits for the merge gap, naming for the jerk isolation time (and a foot's
        // push or a leg left tilted for its way back), the train rule for up to three more
        // movements, the bout rule for its gap, and a leg movement for its series: up to three
        // IMIs of the longest allowed.
        let c = &config.classify;
        let series_s = 3.0 * config.series.imi_max_s + config.series.bilateral_clm_max_s;
        let train_s = f64::from(c.train_min_movements) * c.train_max_interval_s;
        let latency_s = core_latency
            + c.merge_gap_s
            + c.jerk_isolation_s
            + c.pair_max_s
            + train_s
            + c.activity_bout_gap_s
            + series_s;
        let worn = sites
            .iter()
            .fold(Sites::NONE, |worn, &(site, _)| worn.with(site));
        Ok(Detector {
            cores,
            feeds,
            scorer: Scorer::new(config, worn)?,
            latency_s,
        })
    }

    /// The config it was built from.
    pub fn config(&self) -> &Config {
        &self.scorer.config
    }

    /// The sites, in the order `push_site` numbers them.
    pub fn sites(&self) -> impl Iterator<Item = Site> + '_ {
        self.feeds.iter().map(|f| f.site)
    }

    /// Upper bound on the time from an event's offset to its delivery, in seconds of input.
    ///
    /// The movement core needs its quiet time and post-movement window (or the settle time of
    /// a posture change), naming needs the jerk isolation time (and a foot's push, or a leg
    /// left tilted, up to `pair_max_s` more, for its return), the train rule up to four
    /// movements at 4 s, the bout rule its 30 s gap, and a leg movement waits until its
    /// series reaches four or breaks: at most three intervals of 90 s (a jerk that may be
    /// one of a train waits one of them for the next leg movement). One exception: while
    /// a bout of activity goes on (walking about, say), what happens inside it waits for
    /// the bout to end, since a later piece of the bout may still absorb it.
    pub fn latency_s(&self) -> f64 {
        self.latency_s
    }

    /// Forgets the night: the next sample starts a new one.
    pub fn reset(&mut self) {
        for c in &mut self.cores {
            c.reset();
        }
        for f in &mut self.feeds {
            f.queue.clear();
            f.watermark_s = f64::NEG_INFINITY;
            f.now_s = f64::NEG_INFINITY;
            f.done = false;
            f.first_t_s = None;
        }
        // The config was validated when the detector was built, so this cannot fail; keep
        // the old scorer's settings if it somehow did.
        if let Ok(fresh) = Scorer::new(&self.scorer.config, self.scorer.worn) {
            self.scorer = fresh;
        }
    }

    /// Takes the next samples of the first (or only) sensor and sends every event that
    /// becomes final to `sink`.
    ///
    /// Samples must have finite values within ±64 g and strictly increasing times; an
    /// interval longer than max(1 s, 5 sample intervals) is a gap: reported to the sink,
    /// never bridged.
    ///
    /// # Errors
    /// [`ErrorKind::Sample`](crate::ErrorKind::Sample) naming the sample's index in the
    /// stream when a sample is not finite, out of range or not later than the one before;
    /// the samples before it have been processed.
    pub fn push(&mut self, samples: &[Sample], sink: &mut impl Sink) -> Result<(), Error> {
        self.push_site(0, samples, sink)
    }

    /// Takes the next samples of sensor `site_idx` (numbered as given to
    /// [`with_sites`](Self::with_sites)).
    ///
    /// # Errors
    /// As for [`push`](Self::push), and when `site_idx` names no sensor.
    pub fn push_site(
        &mut self,
        site_idx: usize,
        samples: &[Sample],
        sink: &mut impl Sink,
    ) -> Result<(), Error> {
        let Some(core) = self.cores.get_mut(site_idx) else {
            return Err(Error::new(crate::ErrorKind::Other(format!(
                "no sensor number {site_idx}: the detector has {}",
                self.feeds.len()
            ))));
        };
        if let (Some(f), Some(s)) = (self.feeds.get_mut(site_idx), samples.first()) {
            if f.first_t_s.is_none() && s.t_s.is_finite() {
                f.first_t_s = Some(s.t_s);
                self.scorer.start_if_ready(&self.feeds, false);
            }
        }
        let mut relay = Relay {
            feeds: &mut self.feeds,
            idx: site_idx,
            scorer: &mut self.scorer,
            sink,
        };
        core.push(samples, &mut relay)
    }

    /// Ends the night: closes what is open on every sensor, sends every pending event,
    /// returns the summary and resets the detector for a new night.
    ///
    /// # Errors
    /// None today; the signature leaves room for stages that can fail at the end.
    pub fn finish(&mut self, sink: &mut impl Sink) -> Result<Summary, Error> {
        let mut sites = Vec::with_capacity(self.cores.len());
        for (i, core) in self.cores.iter_mut().enumerate() {
            let mut relay = Relay {
                feeds: &mut self.feeds,
                idx: i,
                scorer: &mut self.scorer,
                sink,
            };
            let stream = core.finish(&mut relay)?;
            let site = self.feeds.get(i).map_or(Site::Ankle, |f| f.site);
            sites.push(SiteReport { site, stream });
        }
        let (metrics, sleep_bouts, n_events) = self.scorer.finish(&mut self.feeds, sink);
        let summary = Summary {
            sites,
            metrics,
            sleep_bouts,
            n_events,
            latency_s: self.latency_s,
        };
        self.reset();
        Ok(summary)
    }
}

impl Detector {
    /// Runs whole recordings through the detector, one source per site in the order given to
    /// [`with_sites`](Self::with_sites), reading `chunk_len` samples at a time and pushing
    /// the sources in step by time; then finishes. The batch form of the stream: the events
    /// are those any chunking of `push_site` calls would give.
    ///
    /// # Errors
    /// A source's read error, a detector error on a sample, or a count of sources that does
    /// not match the sites.
    pub fn run<S: crate::Source + ?Sized>(
        &mut self,
        sources: &mut [&mut S],
        chunk_len: usize,
        sink: &mut impl Sink,
    ) -> Result<Summary, Error> {
        if sources.len() != self.feeds.len() {
            return Err(Error::new(crate::ErrorKind::Other(format!(
                "{} sources for a detector of {} sensors",
                sources.len(),
                self.feeds.len()
            ))));
        }
        let chunk_len = chunk_len.max(1);
        let mut bufs: Vec<Vec<Sample>> = sources
            .iter()
            .map(|_| vec![Sample::default(); chunk_len])
            .collect();
        let mut lens = vec![0usize; sources.len()];
        let mut done = vec![false; sources.len()];
        loop {
            // Refill empty buffers, then push the one whose samples start earliest.
            for (i, src) in sources.iter_mut().enumerate() {
                if lens[i] == 0 && !done[i] {
                    lens[i] = src.read_samples(&mut bufs[i])?;
                    done[i] = lens[i] == 0;
                }
            }
            let next = (0..sources.len())
                .filter(|&i| lens[i] > 0)
                .min_by(|&a, &b| bufs[a][0].t_s.total_cmp(&bufs[b][0].t_s));
            let Some(i) = next else { break };
            let n = lens[i];
            self.push_site(i, &bufs[i][..n], sink)?;
            lens[i] = 0;
        }
        self.finish(sink)
    }
}

impl crate::Detect for Detector {
    fn push(&mut self, samples: &[Sample], sink: &mut dyn Sink) -> Result<(), Error> {
        Detector::push(self, samples, &mut { sink })
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        Detector::finish(self, &mut { sink }).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collect;

    /// A quiet night with seeded noise and foot tilts of `deg` lasting 2 s at the given times.
    fn night(rate: f64, secs: f64, at: &[f64], deg: f64) -> Vec<Sample> {
        let mut x: u64 = 99;
        let mut noise = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.004
        };
        let n = (secs * rate).round() as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / rate;
                let th = at
                    .iter()
                    .find(|a| (**a..**a + 2.0).contains(&t))
                    .map_or(0.0, |a| {
                        deg.to_radians() * (std::f64::consts::PI * (t - a) / 2.0).sin()
                    });
                Sample::new(t, [noise(), th.sin() + noise(), th.cos() + noise()])
            })
            .collect()
    }

    fn run(d: &mut Detector, s: &[Sample], chunk: usize) -> (Vec<Event>, Summary) {
        let mut out = Vec::new();
        for c in s.chunks(chunk.max(1)) {
            d.push(c, &mut out).unwrap();
        }
        let summary = d.finish(&mut out).unwrap();
        (out, summary)
    }

    #[test]
    fn a_run_of_four_leg_movements_25_s_apart_is_a_series() {
        let at = [100.0, 125.0, 150.0, 175.0, 400.0];
        let s = night(100.0, 600.0, &at, 8.0);
        let mut d = Detector::new(&Config::default(), 100.0).unwrap();
        let (ev, summary) = run(&mut d, &s, 4096);
        let kinds: Vec<Kind> = ev.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Plm, Kind::Plm, Kind::Plm, Kind::Plm, Kind::Lm],
            "{ev:?}"
        );
        assert!(ev.windows(2).all(|w| w[0].onset_s <= w[1].onset_s));
        assert_eq!(ev[0].series_id, Some(1));
        assert!((ev[1].imi_s.unwrap() - 25.0).abs() < 0.3);
        assert_eq!(summary.count(Kind::Plm), 4);
        assert_eq!(summary.metrics.n_plm, 4, "{:?}", summary.metrics);
    }

    #[test]
    fn chunking_does_not_change_events_or_summary() {
        let at = [100.0, 125.0, 150.0, 175.0, 400.0];
        let s = night(100.0, 600.0, &at, 8.0);
        let mut d = Detector::new(&Config::default(), 100.0).unwrap();
        let whole = run(&mut d, &s, s.len());
        for chunk in [1, 7, 4096] {
            let got = run(&mut d, &s, chunk);
            assert_eq!(got.0, whole.0, "chunk {chunk}");
            assert_eq!(got.1, whole.1, "chunk {chunk}");
        }
    }

    /// What came out, each with the push that delivered it: a deadline missed would
    /// deliver the same events, later.
    #[derive(Default, PartialEq, Debug)]
    struct Timed {
        push: usize,
        events: Vec<(usize, Event)>,
        onsets: Vec<(usize, f64)>,
        gaps: Vec<(usize, Gap)>,
    }

    impl Sink for Timed {
        fn event(&mut self, e: Event) {
            self.events.push((self.push, e));
        }
        fn sleep_onset(&mut self, t_s: f64) {
            self.onsets.push((self.push, t_s));
        }
        fn gap(&mut self, g: Gap) {
            self.gaps.push((self.push, g));
        }
    }

    /// Replays a simulated night, each site `chunks[i]` samples a round (so sites with
    /// different sizes drift out of step), with full passes every block or on deadlines.
    fn replay_timed(
        sim: &crate::sim::SimConfig,
        config: &Config,
        chunks: &[usize],
        every_pass: bool,
    ) -> (Timed, Summary) {
        let night = crate::sim::Night::new(sim).unwrap();
        let sites: Vec<_> = night.sites().iter().map(|s| (*s, sim.rate_hz)).collect();
        let samples: Vec<_> = night.sites().iter().map(|s| night.samples(*s)).collect();
        let mut d = Detector::with_sites(config, &sites).unwrap();
        d.scorer.every_pass = every_pass;
        let mut out = Timed::default();
        let mut at = vec![0; samples.len()];
        while at.iter().zip(&samples).any(|(a, s)| *a < s.len()) {
            for (i, s) in samples.iter().enumerate() {
                let k = chunks.get(i).copied().unwrap_or(1000);
                let part = s.get(at[i]..(at[i] + k).min(s.len())).unwrap_or(&[]);
                at[i] += part.len();
                out.push += 1;
                d.push_site(i, part, &mut out).unwrap();
            }
        }
        let summary = d.finish(&mut out).unwrap();
        (out, summary)
    }

    #[test]
    fn skipping_passes_until_a_deadline_changes_nothing() {
        use crate::sim::{Layout, SensorConfig, Severity, SimConfig};
        // Crowded hard nights: series, trains, bouts of activity, jerks, posture changes,
        // sleep transitions and gaps, each with its deadline.
        let bilateral = SimConfig {
            duration_h: 2.0,
            rate_hz: 50.0,
            layout: Layout::Bilateral,
            severity: Severity::Severe,
            ..SimConfig::hard(31)
        };
        let gappy = SimConfig {
            duration_h: 2.0,
            rate_hz: 25.0,
            sensor: SensorConfig {
                jitter_ms: 3.0,
                gaps: true,
                epoch_start_s: Some(1_700_000_000.0),
                ..SensorConfig::default()
            },
            ..SimConfig::hard(32)
        };
        let aasm = Config {
            series: crate::series::SeriesConfig::aasm2012(),
            ..Config::default()
        };
        let cases = [
            (&bilateral, Config::default(), vec![50, 50, 50]),
            (&bilateral, aasm, vec![37, 13, 101]),
            (&gappy, Config::default(), vec![7]),
        ];
        for (sim, config, chunks) in &cases {
            let (skipping, summary) = replay_timed(sim, config, chunks, false);
            let (every, every_summary) = replay_timed(sim, config, chunks, true);
            let kinds: std::collections::BTreeSet<_> =
                skipping.events.iter().map(|(_, e)| e.kind).collect();
            assert!(kinds.len() >= 4, "a night with most classes: {kinds:?}");
            assert!(!skipping.onsets.is_empty());
            assert_eq!(sim.sensor.gaps, !skipping.gaps.is_empty());
            assert_eq!(skipping, every, "{} with chunks {chunks:?}", sim.name);
            assert_eq!(
                summary, every_summary,
                "{} with chunks {chunks:?}",
                sim.name
            );
        }
    }

    /// A brief leg movement at `onset_s` with linear peak `h` and rotational peak `r`, in g.
    fn transient(onset_s: f64, h: f64, r: f64) -> Movement {
        Movement {
            onset_s,
            offset_s: onset_s + 0.2,
            peak_g: h.max(r),
            mean_g: h / 2.0,
            peak_h_g: h,
            peak_r_g: r,
            peak_score: 2.0,
            n_bursts: 1,
            ..Movement::default()
        }
    }

    /// A leg movement of 0.1 g on both channels from `onset_s`, lasting `duration_s`.
    fn lasting(onset_s: f64, duration_s: f64) -> Movement {
        Movement {
            offset_s: onset_s + duration_s,
            ..transient(onset_s, 0.1, 0.1)
        }
    }

    /// Hands `moves` (one ankle, in onset order) to the pipeline as a core would, block by
    /// block to `end_s`, each movement 0.5 s after its end; the night starts at 0.
    fn name_movements(moves: &[Movement], end_s: f64, every_pass: bool) -> Timed {
        let mut d = Detector::new(&Config::default(), 100.0).unwrap();
        d.scorer.every_pass = every_pass;
        d.feeds[0].first_t_s = Some(0.0);
        d.scorer.start_if_ready(&d.feeds, false);
        let mut out = Timed::default();
        let mut next = 0;
        for block in 1..=(end_s / 0.05).round() as u32 {
            let t = f64::from(block) * 0.05;
            while let Some(m) = moves.get(next).filter(|m| m.offset_s + 0.5 <= t) {
                d.feeds[0].queue.push_back(*m);
                next += 1;
            }
            let watermark = moves.get(next).map_or(t, |m| m.onset_s.min(t));
            out.push += 1;
            let mut relay = Relay {
                feeds: &mut d.feeds,
                idx: 0,
                scorer: &mut d.scorer,
                sink: &mut out,
            };
            relay.progress(t, watermark);
        }
        out.push += 1;
        d.scorer.finish(&mut d.feeds, &mut out);
        out
    }

    #[test]
    fn a_push_and_its_return_are_one_leg_movement() {
        let still = |on: f64| lasting(on, 2.0);
        let push = |on: f64| transient(on, 0.08, 0.08);
        let weak = |on: f64| transient(on, 0.03, 0.03);
        let jerk = |on: f64| transient(on, 0.3, 0.05);
        let moves = [
            // Awake (movements are named as in sleep after a minute without wake evidence,
            // and sleep is confirmed after 10), a push and its return 4 s later.
            push(30.0),
            weak(34.0),
            // A sharp push too; the jerk after the pair is then not alone.
            jerk(400.0),
            weak(404.0),
            jerk(406.0),
            // Two jerks stay two jerks.
            jerk(800.0),
            jerk(803.0),
            // Asleep, a return ending more than 10 s after the push: a lone push (a leg
            // movement in sleep), then a twitch.
            push(900.0),
            weak(911.0),
            // A leg movement within the isolation time after the return: still a pair (a
            // neighbour as long as an LM is no train)...
            push(1000.0),
            weak(1003.0),
            still(1006.0),
            // ...but a third burst is: no pair.
            push(1050.0),
            weak(1053.0),
            weak(1056.0),
            // Too weak for a push.
            weak(1100.0),
            weak(1103.0),
            // A jerk followed, within the push's reach, by a movement too long for a return:
            // named as soon as that is known.
            jerk(1200.0),
            still(1207.0),
            transient(1209.3, 0.1, 0.1),
            // A return starting in time but ending after the reach.
            push(1300.0),
            weak(1309.9),
            // A push less than the isolation time after a leg movement pairs; after a
            // burst, it does not.
            still(1400.0),
            push(1404.0),
            weak(1407.0),
            weak(1450.0),
            push(1453.0),
            weak(1456.0),
            // A sharp push whose return has a burst after it: the push is a jerk, named once
            // the return's neighbours are known.
            jerk(1500.0),
            weak(1506.0),
            weak(1508.0),
        ];
        let got = name_movements(&moves, 1600.0, false);
        let kinds: Vec<Kind> = got.events.iter().map(|(_, e)| e.kind).collect();
        use Kind::{HypnicJerk as J, Lm, Other as O};
        #[rustfmt::skip]
        let want = [
            Lm, Lm, O, J, J, Lm, O, Lm, Lm, O, O, O, O, O, J, Lm, Lm, O, Lm, Lm, O, O, O, J, O, O,
        ];
        assert_eq!(kinds, want, "{got:?}");
        let span = |i: usize| (got.events[i].1.onset_s, got.events[i].1.offset_s);
        assert_eq!(span(0), (30.0, 34.2));
        assert_eq!(span(1), (400.0, 404.2));
        assert_eq!(span(5), (900.0, 900.5));
        assert_eq!(span(7), (1000.0, 1003.2));
        assert_eq!(span(16), (1300.0, 1300.5));
        assert_eq!(span(19), (1404.0, 1407.2));
        // The jerk at 1200 s goes out once the movement after it is handed over, too long
        // to be a return, not when that movement's group closes half a second later.
        let handed_over = ((1209.5 + 0.2) / 0.05) as usize;
        assert!(got.events[14].0 <= handed_over, "{:?}", got.events[14]);
        // The deadlines of the wait for a return are those of a full pass every block.
        assert_eq!(got, name_movements(&moves, 1600.0, true));
    }

    #[test]
    fn a_leg_held_out_and_brought_back_is_one_leg_movement() {
        let rest = [0.0, 0.0, 1.0];
        let tilt = |deg: f64| [deg.to_radians().sin(), 0.0, deg.to_radians().cos()];
        // A leg movement from `from` to `to`, 1 s long.
        let moving = |on: f64, from: [f64; 3], to: [f64; 3]| Movement {
            rest_before: from,
            rest_after: to,
            angle_deg: crate::segment::angle_deg(from, to),
            ..lasting(on, 1.0)
        };
        let out = |on: f64, deg: f64| moving(on, rest, tilt(deg));
        let back = |on: f64, deg: f64| moving(on, tilt(deg), rest);
        let moves = [
            // Out by 1°, back 4 s later: one leg movement.
            out(100.0, 1.0),
            back(105.0, 1.0),
            // Not back: the second movement tilts the leg further.
            out(200.0, 1.0),
            moving(205.0, tilt(1.0), tilt(2.0)),
            // Back, but within a second of the way out: a movement of its own.
            out(300.0, 1.0),
            back(302.0, 1.0),
            // Back, ending more than 10 s after the way out's onset.
            out(400.0, 1.0),
            back(409.5, 1.0),
            // A tilt too small to tell from the noise of the resting orientation.
            out(500.0, 0.3),
            back(505.0, 0.3),
            // Halfway back is back enough.
            out(600.0, 1.0),
            moving(605.0, tilt(1.0), tilt(0.45)),
        ];
        let got = name_movements(&moves, 700.0, false);
        let spans: Vec<(Kind, f64, f64)> = got
            .events
            .iter()
            .map(|(_, e)| (e.kind, e.onset_s, e.offset_s))
            .collect();
        use Kind::Lm;
        let want = [
            (Lm, 100.0, 106.0),
            (Lm, 200.0, 201.0),
            (Lm, 205.0, 206.0),
            (Lm, 300.0, 301.0),
            (Lm, 302.0, 303.0),
            (Lm, 400.0, 401.0),
            (Lm, 409.5, 410.5),
            (Lm, 500.0, 501.0),
            (Lm, 505.0, 506.0),
            (Lm, 600.0, 606.0),
        ];
        assert_eq!(spans, want, "{got:?}");
        assert_eq!(got, name_movements(&moves, 700.0, true));
    }

    #[test]
    fn a_leg_movement_between_two_bursts_is_a_piece_of_a_train() {
        let lm = |on: f64| lasting(on, 2.0);
        // Too weak for a push: a burst of a train (or a twitch).
        let burst = |on: f64| transient(on, 0.03, 0.03);
        let moves = [
            // A burst ending 1.3 s before and one starting 1 s after: between them.
            burst(98.5),
            lm(100.0),
            burst(103.0),
            // A burst on one side only, before or after, leaves a leg movement.
            burst(198.5),
            lm(200.0),
            lm(300.0),
            burst(303.0),
            // Bursts farther than `chatter_quiet_s` (2.5 s) on both sides.
            burst(396.5),
            lm(400.0),
            burst(404.6),
        ];
        let got = name_movements(&moves, 600.0, false);
        let kinds: Vec<Kind> = got.events.iter().map(|(_, e)| e.kind).collect();
        use Kind::{Lm, Other as O};
        assert_eq!(kinds, [O, O, O, O, Lm, Lm, O, O, Lm, O], "{got:?}");
        assert_eq!(got, name_movements(&moves, 600.0, true));
    }

    #[test]
    fn every_event_arrives_within_the_latency_bound() {
        let at = [100.0, 125.0, 150.0, 175.0, 400.0];
        let s = night(100.0, 900.0, &at, 8.0);
        let mut d = Detector::new(&Config::default(), 100.0).unwrap();
        let bound = d.latency_s();
        let mut out: Vec<Event> = Vec::new();
        let mut late = Vec::new();
        for c in s.chunks(50) {
            d.push(c, &mut out).unwrap();
            let now = c.last().unwrap().t_s;
            for e in out.drain(..) {
                if now - e.offset_s > bound {
                    late.push((e, now));
                }
            }
        }
        assert!(late.is_empty(), "late: {late:?} (bound {bound} s)");
    }

    #[test]
    fn a_gap_in_the_recording_is_neither_sleep_nor_wake() {
        let rate = 50.0;
        let s: Vec<Sample> = night(rate, 3600.0, &[], 0.0)
            .into_iter()
            .filter(|x| !(1800.0..1980.0).contains(&x.t_s))
            .collect();
        let mut d = Detector::new(&Config::default(), rate).unwrap();
        let (_, summary) = run(&mut d, &s, 4096);
        let m = &summary.metrics;
        // From the last sample before the hole to the first after it.
        let gap = 180.0 + 1.0 / rate;
        let end = s.last().unwrap().t_s;
        assert!((m.unrecorded_s - gap).abs() < 1e-6, "{m:?}");
        // Still throughout: asleep from the start, one bout over the short gap.
        assert_eq!(m.sleep_onset_s, Some(0.0));
        assert_eq!(summary.sleep_bouts.len(), 1);
        assert!((m.time_in_bed_s - end).abs() < 1e-9);
        assert!((m.total_sleep_time_s - (end - gap)).abs() < 1e-6, "{m:?}");
        assert!(m.wake_in_bed_s.abs() < 1e-6, "{m:?}");
        // A device that stops storing samples while still: the gap is sleep.
        let mut config = Config::default();
        config.sleep.gaps_are_still = true;
        let mut d = Detector::new(&config, rate).unwrap();
        let (_, summary) = run(&mut d, &s, 4096);
        let m = &summary.metrics;
        assert_eq!(m.unrecorded_s, 0.0);
        assert!((m.total_sleep_time_s - end).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn a_minute_after_wake_movements_are_named_as_in_sleep() {
        // Wake: a leg moving for 15 s (longer than any candidate LM; before sleep is
        // confirmed, activity whatever the quiet before it).
        let long = |on: f64| lasting(on, 15.0);
        // A lone push of the foot, its hold unseen: a leg movement asleep, `other` awake.
        let push = |on: f64| transient(on, 0.08, 0.08);
        // The night starts at 0. Wake at 30 s; a push 35 s after it (past the bout gap,
        // within a minute); another 255 s after it, long before sleep is confirmed; then a
        // long movement 100 s later, still unconfirmed: activity again.
        let moves = [long(30.0), push(80.0), push(300.0), long(400.0)];
        let out = name_movements(&moves, 1000.0, false);
        let got: Vec<_> = out
            .events
            .iter()
            .map(|(_, e)| (e.kind, e.onset_s, e.offset_s))
            .collect();
        assert_eq!(
            got,
            [
                (Kind::Activity, 30.0, 45.0),
                (Kind::Other, 80.0, 80.2),
                (Kind::Lm, 300.0, 300.5),
                (Kind::Activity, 400.0, 415.0),
            ]
        );
    }

    #[test]
    fn a_legs_only_jerk_where_a_series_expects_its_next_member_is_that_member() {
        use crate::context::{BoutOut, Named};
        let legs = Sites::one(Site::LeftAnkle).with(Site::RightAnkle);
        let event = |onset_s: f64, kind: Kind, sites: Sites| {
            let mut e = Event::new(
                onset_s,
                onset_s + if kind == Kind::Lm { 2.0 } else { 0.3 },
                kind,
            );
            e.sites = sites;
            BoutOut::Event(Named {
                event: e,
                n_components: 1,
            })
        };
        // Four leg movements 25 s apart (a series), then a brief, sharp transient on both
        // legs 25 s after the last; `wrist`: the wrist is worn, `felt`: it saw the
        // transient too, `series`: the four come before it.
        let kinds = |wrist: bool, felt: bool, series: bool| {
            let mut worn = legs;
            if wrist {
                worn = worn.with(Site::Wrist);
            }
            let mut scorer = Scorer::new(&Config::default(), worn).unwrap();
            let mut sink = Timed::default();
            if series {
                for k in 0..4 {
                    scorer.named(
                        event(100.0 + 25.0 * f64::from(k), Kind::Lm, legs),
                        &mut sink,
                    );
                }
            }
            let sites = if felt { legs.with(Site::Wrist) } else { legs };
            scorer.named(event(200.0, Kind::HypnicJerk, sites), &mut sink);
            scorer
                .out
                .iter()
                .map(|e| (e.onset_s, e.kind))
                .collect::<Vec<_>>()
        };
        let member = kinds(true, false, true);
        assert_eq!(member.len(), 5, "{member:?}");
        assert!(member.iter().all(|&(_, k)| k == Kind::Plm), "{member:?}");
        // No wrist worn: the jerk waits for the next leg movement (see the next test).
        assert_eq!(kinds(false, false, true).len(), 4);
        // The wrist felt it: a whole-body jerk. No series: a jerk.
        for (wrist, felt, series) in [(true, true, true), (true, false, false)] {
            let out = kinds(wrist, felt, series);
            assert_eq!(
                out.last(),
                Some(&(200.0, Kind::HypnicJerk)),
                "wrist {wrist}, felt {felt}, series {series}: {out:?}"
            );
        }
    }

    #[test]
    fn a_jerk_between_leg_movements_a_series_interval_apart_is_one_of_the_train() {
        let lm = |on: f64| lasting(on, 2.0);
        let jerk = |on: f64| transient(on, 0.3, 0.05);
        let moves = [
            // A series, a jerk-like transient where the next member is due, and more
            // members: the transient is one of them, reported as a lone push.
            lm(100.0),
            lm(125.0),
            lm(150.0),
            lm(175.0),
            jerk(200.0),
            lm(225.0),
            lm(250.0),
            // The same with nothing after it: a jerk, once 90 s have passed.
            lm(1000.0),
            lm(1025.0),
            lm(1050.0),
            lm(1075.0),
            jerk(1100.0),
            // After a run of two, followed by a leg movement 110 s later: a jerk.
            lm(2000.0),
            lm(2025.0),
            jerk(2050.0),
            lm(2160.0),
            // After a single leg movement: a jerk, whatever follows.
            lm(2500.0),
            jerk(2530.0),
            lm(2555.0),
            // Long after any leg movement: a jerk at once.
            jerk(3000.0),
        ];
        let got = name_movements(&moves, 3200.0, false);
        let kinds: Vec<(f64, Kind)> = got
            .events
            .iter()
            .map(|(_, e)| (e.onset_s, e.kind))
            .collect();
        use Kind::{HypnicJerk as J, Lm, Plm};
        #[rustfmt::skip]
        let want = [
            (100.0, Plm), (125.0, Plm), (150.0, Plm), (175.0, Plm), (200.0, Plm), (225.0, Plm),
            (250.0, Plm),
            (1000.0, Plm), (1025.0, Plm), (1050.0, Plm), (1075.0, Plm), (1100.0, J),
            (2000.0, Lm), (2025.0, Lm), (2050.0, J), (2160.0, Lm),
            (2500.0, Lm), (2530.0, J), (2555.0, Lm),
            (3000.0, J),
        ];
        assert_eq!(kinds, want, "{got:?}");
        assert_eq!(got.events[4].1.offset_s, 200.5);
        // The jerk at 1100 s waits for the series interval to pass, no longer than that
        // and the naming before it.
        let waited = got.events[11].0 as f64 * 0.05;
        assert!((1190.0..1200.0).contains(&waited), "{waited}");
        assert_eq!(got, name_movements(&moves, 3200.0, true));
    }

    #[test]
    fn two_ankles_merge_into_bilateral_movements() {
        let left = night(100.0, 300.0, &[100.0], 8.0);
        let right = night(100.0, 300.0, &[100.3], 8.0);
        let mut d = Detector::with_sites(
            &Config::default(),
            &[(Site::LeftAnkle, 100.0), (Site::RightAnkle, 100.0)],
        )
        .unwrap();
        let mut out = Collect::default();
        for (l, r) in left.chunks(1000).zip(right.chunks(1000)) {
            d.push_site(0, l, &mut out).unwrap();
            d.push_site(1, r, &mut out).unwrap();
        }
        let summary = d.finish(&mut out).unwrap();
        assert_eq!(out.events.len(), 1, "{:?}", out.events);
        assert_eq!(out.events[0].sites.len(), 2);
        assert_eq!(summary.sites.len(), 2);
        assert!(d.push_site(2, &left[..10], &mut out).is_err());
    }
}
