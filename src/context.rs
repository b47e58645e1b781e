//! Rules that name a movement by its neighbours: high-frequency trains and activity bouts.
//!
//! Both take named events in order of onset and pass them on, changed or merged, in order of
//! onset; each says how far back its output may still reach (`pending_onset_s`) so the
//! detector knows what it may deliver.
//!
//! - [`TrainFilter`]: four or more leg movements (or jerk-like transients) in a row, each
//!   starting within `train_max_interval_s` (4 s) of the last (0.3 Hz or faster, with room for
//!   a faint train seen in pieces), are a rhythmic train, not leg
//!   movements or jerks: a high-frequency train (HFLM, hypnagogic foot tremor, domain.md
//!   §2.6) becomes `other`, a train as strong as footsteps `activity`. A chain waits until
//!   it either reaches four (then it and everything after it in the chain is renamed at
//!   once) or breaks.
//! - [`BoutMerger`]: activity pieces less than `gap` apart are one bout (getting up, walking,
//!   fidgeting), and posture changes and `other` movements within `gap` of a bout belong to
//!   it, before or after; so do leg movements and brief jerks between two of its pieces
//!   (steps and stumbles, not movements of sleep). Three or more posture changes in a row,
//!   each within `gap` of the one before, are restlessness (a sleeper turns about 1.6 times
//!   an hour, domain.md §2.4) and make a bout too. A bout is delivered once nothing can
//!   extend it.

use crate::{Event, Kind};

/// An event with the number of leg movements merged into it (the WASM component count).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Named {
    pub(crate) event: Event,
    pub(crate) n_components: u32,
}

/// True for an event that can be a member of a rhythmic train: a leg movement, a brief leg
/// burst too short to be one, or a jerk-like transient (footsteps look like jerks one by
/// one; hypnic jerks come at most a few to an onset, tens of seconds apart).
fn train_member(e: &Event) -> bool {
    match e.kind {
        Kind::Lm | Kind::Plm | Kind::HypnicJerk => true,
        Kind::Other => e.sites.iter().any(|s| s.is_leg()),
        _ => false,
    }
}

/// The high-frequency train rule.
#[derive(Clone, Debug)]
pub(crate) struct TrainFilter {
    min_members: usize,
    max_interval_s: f64,
    activity_min_g: f64,
    chain: Vec<Named>,
    last_onset_s: f64,
    in_train: bool,
}

impl TrainFilter {
    /// A filter for trains of `min_members` or more at intervals up to `max_interval_s`;
    /// members peaking at `activity_min_g` or more are activity (steps), the rest `other`.
    pub(crate) fn new(min_members: u32, max_interval_s: f64, activity_min_g: f64) -> Self {
        let min_members = min_members as usize;
        TrainFilter {
            min_members,
            max_interval_s,
            activity_min_g,
            chain: Vec::with_capacity(min_members),
            last_onset_s: f64::NEG_INFINITY,
            in_train: false,
        }
    }

    /// Earliest onset still held back, if any.
    pub(crate) fn pending_onset_s(&self) -> Option<f64> {
        self.chain.first().map(|n| n.event.onset_s)
    }

    /// Earliest time at which [`advance`](Self::advance) may change anything: when the
    /// chain can no longer grow. `None` when nothing waits and no train is open.
    pub(crate) fn due_s(&self) -> Option<f64> {
        (!self.chain.is_empty() || self.in_train).then_some(self.last_onset_s + self.max_interval_s)
    }

    /// Takes the next named event; passes on what is decided.
    pub(crate) fn push(&mut self, n: Named, out: &mut impl FnMut(Named)) {
        if !train_member(&n.event) {
            out(n);
            return;
        }
        let close = n.event.onset_s - self.last_onset_s <= self.max_interval_s;
        self.last_onset_s = n.event.onset_s;
        if !close {
            self.flush(out);
            self.in_train = false;
        }
        if self.in_train {
            out(self.in_a_train(n));
            return;
        }
        self.chain.push(n);
        if self.chain.len() >= self.min_members {
            self.in_train = true;
            let strong = self.activity_min_g;
            for m in self.chain.drain(..) {
                out(renamed(m, strong));
            }
        }
    }

    /// No event before `t_s` can still arrive: a chain that cannot grow is released.
    pub(crate) fn advance(&mut self, t_s: f64, out: &mut impl FnMut(Named)) {
        if t_s > self.last_onset_s + self.max_interval_s {
            self.flush(out);
            self.in_train = false;
        }
    }

    fn flush(&mut self, out: &mut impl FnMut(Named)) {
        for m in self.chain.drain(..) {
            out(m);
        }
    }
}

/// A member of a train: activity when as strong as a step, `other` (tremor, ALMA) if not.
fn renamed(mut n: Named, activity_min_g: f64) -> Named {
    n.event.kind = if n.event.peak_g >= activity_min_g {
        Kind::Activity
    } else {
        Kind::Other
    };
    n
}

impl TrainFilter {
    fn in_a_train(&self, n: Named) -> Named {
        renamed(n, self.activity_min_g)
    }
}

/// The activity-bout rule.
#[derive(Clone, Debug)]
pub(crate) struct BoutMerger {
    gap_s: f64,
    tail_s: f64,
    bout: Option<Event>,
    /// Posture changes and other movements waiting to see whether activity follows.
    waiting: Vec<Named>,
    /// Leg movements and jerk-like transients after the open bout's last activity, waiting
    /// to see whether more activity follows (then they were part of it: steps, not sleep).
    inside: Vec<Named>,
}

/// What the bout merger hands on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum BoutOut {
    /// An event to deliver (a closed bout is one `activity` event).
    Event(Named),
    /// Activity seen, or a movement an open bout absorbs (as each arrives, before the
    /// bout closes): wake evidence.
    Activity { onset_s: f64, offset_s: f64 },
}

/// Posture changes and other movements wait for a following bout at most this many.
const WAITING_CAPACITY: usize = 64;

/// Posture changes in a row, within the bout gap of each other, that make a bout of activity.
const RESTLESS_TURNS: usize = 3;

fn absorbable(e: &Event) -> bool {
    matches!(e.kind, Kind::PostureChange | Kind::Other)
}

fn extend(b: &mut Event, e: &Event) {
    b.onset_s = b.onset_s.min(e.onset_s);
    b.offset_s = b.offset_s.max(e.offset_s);
    b.sites = b.sites.union(e.sites);
    b.peak_g = b.peak_g.max(e.peak_g);
    b.peak_jerk_g_per_s = b.peak_jerk_g_per_s.max(e.peak_jerk_g_per_s);
    b.angle_deg = b.angle_deg.max(e.angle_deg);
    b.confidence = b.confidence.max(e.confidence);
}

impl BoutMerger {
    /// A merger joining activity less than `gap_s` apart, and taking the leg movements that
    /// start less than `tail_s` after a bout as its tail.
    pub(crate) fn new(gap_s: f64, tail_s: f64) -> Self {
        BoutMerger {
            gap_s,
            tail_s,
            bout: None,
            waiting: Vec::with_capacity(WAITING_CAPACITY),
            inside: Vec::with_capacity(WAITING_CAPACITY),
        }
    }

    /// Earliest onset still held back, if any.
    pub(crate) fn pending_onset_s(&self) -> Option<f64> {
        [
            self.bout.map(|b| b.onset_s),
            self.waiting.first().map(|n| n.event.onset_s),
            self.inside.first().map(|n| n.event.onset_s),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::min)
    }

    /// Takes the next event (in order of onset).
    pub(crate) fn push(&mut self, n: Named, out: &mut impl FnMut(BoutOut)) {
        let e = n.event;
        if e.kind == Kind::Activity {
            out(BoutOut::Activity {
                onset_s: e.onset_s,
                offset_s: e.offset_s,
            });
        }
        if let Some(b) = &self.bout {
            if e.onset_s - b.offset_s > self.gap_s {
                self.close(out);
            }
        }
        match (&mut self.bout, e.kind) {
            (Some(b), Kind::Activity) => {
                // Leg movements between two activity pieces were part of the activity.
                for i in self.inside.drain(..) {
                    extend(b, &i.event);
                }
                extend(b, &e);
            }
            (Some(b), _) if absorbable(&e) || e.onset_s - b.offset_s < self.tail_s => {
                // Part of the bout, so wake too: the turn of lying down again ends it, and a
                // leg movement right after it is its fading tail.
                extend(b, &e);
                out(BoutOut::Activity {
                    onset_s: e.onset_s,
                    offset_s: e.offset_s,
                });
            }
            (Some(_), Kind::Lm | Kind::Plm | Kind::HypnicJerk) => {
                if self.inside.len() == WAITING_CAPACITY {
                    let first = self.inside.remove(0);
                    out(BoutOut::Event(first));
                }
                self.inside.push(n);
            }
            (Some(_), _) => out(BoutOut::Event(n)),
            (None, Kind::Activity) => {
                // Waiting movements within the gap before the activity join its bout.
                let mut b = e;
                let cut = e.onset_s - self.gap_s;
                for w in self.waiting.drain(..) {
                    if w.event.offset_s >= cut {
                        extend(&mut b, &w.event);
                    } else {
                        out(BoutOut::Event(w));
                    }
                }
                self.bout = Some(b);
            }
            (None, _) if absorbable(&e) => {
                if self.waiting.len() == WAITING_CAPACITY {
                    let first = self.waiting.remove(0);
                    out(BoutOut::Event(first));
                }
                self.waiting.push(n);
                self.restless(out);
            }
            (None, _) => out(BoutOut::Event(n)),
        }
    }

    /// Earliest time at which [`advance`](Self::advance) may change anything: the open
    /// bout's end plus the gap, else the first waiting event's. `None` when nothing waits.
    pub(crate) fn due_s(&self) -> Option<f64> {
        match &self.bout {
            Some(b) => Some(b.offset_s + self.gap_s),
            None => self.waiting.first().map(|w| w.event.offset_s + self.gap_s),
        }
    }

    /// No event before `t_s` can still arrive.
    pub(crate) fn advance(&mut self, t_s: f64, out: &mut impl FnMut(BoutOut)) {
        if let Some(b) = &self.bout {
            if t_s - b.offset_s > self.gap_s {
                self.close(out);
            }
        }
        if self.bout.is_none() {
            let gap = self.gap_s;
            let n = self
                .waiting
                .iter()
                .take_while(|w| t_s - w.event.offset_s > gap)
                .count();
            for w in self.waiting.drain(..n) {
                out(BoutOut::Event(w));
            }
        }
    }

    /// Posture changes in a row, each within the gap of the one before, are restlessness,
    /// not the turns of a sleeper (about 1.6 an hour): once `RESTLESS_TURNS` of them chain
    /// up, the chain (with the other movements in it) is a bout of activity.
    fn restless(&mut self, out: &mut impl FnMut(BoutOut)) {
        // The chain: the waiting events that end within the gap of the next one's onset,
        // back from the newest.
        let mut start = self.waiting.len();
        // The newest starts the chain.
        let mut next_onset = self.waiting.last().map_or(0.0, |w| w.event.offset_s);
        let mut turns = 0;
        for w in self.waiting.iter().rev() {
            if next_onset - w.event.offset_s > self.gap_s {
                break;
            }
            start -= 1;
            next_onset = w.event.onset_s;
            turns += usize::from(w.event.kind == Kind::PostureChange);
        }
        if turns < RESTLESS_TURNS {
            return;
        }
        let mut waiting = self.waiting.drain(..);
        for w in waiting.by_ref().take(start) {
            out(BoutOut::Event(w));
        }
        let Some(first) = waiting.next() else {
            return;
        };
        let mut b = first.event;
        b.kind = Kind::Activity;
        for w in waiting {
            extend(&mut b, &w.event);
        }
        out(BoutOut::Activity {
            onset_s: b.onset_s,
            offset_s: b.offset_s,
        });
        self.bout = Some(b);
    }

    fn close(&mut self, out: &mut impl FnMut(BoutOut)) {
        if let Some(b) = self.bout.take() {
            out(BoutOut::Event(Named {
                event: b,
                n_components: 0,
            }));
        }
        for i in self.inside.drain(..) {
            out(BoutOut::Event(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Site, Sites};

    fn ev(onset: f64, offset: f64, kind: Kind) -> Named {
        let mut e = Event::new(onset, offset, kind);
        e.sites = Sites::one(Site::Ankle);
        Named {
            event: e,
            n_components: 1,
        }
    }

    fn run_train(events: &[Named], end: f64) -> Vec<Kind> {
        let mut f = TrainFilter::new(4, 1.0 / 0.3, 0.12);
        let mut out = Vec::new();
        for e in events {
            f.push(*e, &mut |n| out.push(n));
        }
        f.advance(end, &mut |n| out.push(n));
        out.iter().map(|n| n.event.kind).collect()
    }

    #[test]
    fn four_leg_movements_at_0_3_hz_or_faster_are_a_train() {
        let t: Vec<Named> = (0..4)
            .map(|i| ev(f64::from(i) * 3.0, f64::from(i) * 3.0 + 0.6, Kind::Lm))
            .collect();
        assert_eq!(run_train(&t, 100.0), [Kind::Other; 4]);
        // three are not
        assert_eq!(run_train(&t[..3], 100.0), [Kind::Lm; 3]);
        // 3.4 s apart is slower than 0.3 Hz
        let t: Vec<Named> = (0..4)
            .map(|i| ev(f64::from(i) * 3.4, f64::from(i) * 3.4 + 0.6, Kind::Lm))
            .collect();
        assert_eq!(run_train(&t, 100.0), [Kind::Lm; 4]);
    }

    #[test]
    fn a_train_goes_on_while_members_come_and_brief_bursts_count() {
        let mut t: Vec<Named> = (0..6)
            .map(|i| ev(f64::from(i), f64::from(i) + 0.6, Kind::Lm))
            .collect();
        t[2].event.kind = Kind::Other;
        t.push(ev(30.0, 33.0, Kind::Lm));
        let k = run_train(&t, 100.0);
        assert_eq!(&k[..6], &[Kind::Other; 6]);
        assert_eq!(k[6], Kind::Lm);
    }

    #[test]
    fn strong_rhythmic_transients_are_steps() {
        let t: Vec<Named> = (0..6)
            .map(|i| {
                let mut n = ev(
                    f64::from(i) * 1.2,
                    f64::from(i) * 1.2 + 0.1,
                    Kind::HypnicJerk,
                );
                n.event.peak_g = 0.8;
                n
            })
            .collect();
        assert_eq!(run_train(&t, 100.0), [Kind::Activity; 6]);
        // two jerks at one onset are no train
        assert_eq!(run_train(&t[..2], 100.0), [Kind::HypnicJerk; 2]);
    }

    #[test]
    fn other_kinds_pass_straight_through() {
        let mut f = TrainFilter::new(4, 3.3, 0.12);
        let mut out = Vec::new();
        f.push(ev(0.0, 1.0, Kind::Lm), &mut |n| out.push(n));
        f.push(ev(1.0, 1.2, Kind::PostureChange), &mut |n| out.push(n));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].event.kind, Kind::PostureChange);
        assert_eq!(f.pending_onset_s(), Some(0.0));
    }

    /// The events handed on and the wake evidence, as (onset, offset).
    fn run_bouts(events: &[Named], end: f64) -> (Vec<Event>, Vec<(f64, f64)>) {
        let mut m = BoutMerger::new(30.0, 2.0);
        let mut out = Vec::new();
        let mut wake = Vec::new();
        let mut sink = |o: BoutOut| match o {
            BoutOut::Event(n) => out.push(n.event),
            BoutOut::Activity { onset_s, offset_s } => wake.push((onset_s, offset_s)),
        };
        for e in events {
            m.push(*e, &mut sink);
        }
        m.advance(end, &mut sink);
        (out, wake)
    }

    /// Each event's kind, onset and offset.
    fn spans(events: &[Event]) -> Vec<(Kind, f64, f64)> {
        events
            .iter()
            .map(|e| (e.kind, e.onset_s, e.offset_s))
            .collect()
    }

    #[test]
    fn activity_pieces_and_posture_changes_around_them_are_one_bout() {
        let events = [
            ev(100.0, 104.0, Kind::PostureChange),
            ev(120.0, 160.0, Kind::Activity),
            ev(170.0, 175.0, Kind::Other),
            ev(190.0, 250.0, Kind::Activity),
            ev(260.0, 264.0, Kind::PostureChange),
            ev(400.0, 403.0, Kind::PostureChange),
        ];
        let (out, wake) = run_bouts(&events, 1000.0);
        // The pieces, and what the bout absorbs after its first piece: the turn that ends
        // it too (the one before the first piece joins when it arrives, already followed
        // by the piece's own evidence).
        assert_eq!(
            wake,
            [
                (120.0, 160.0),
                (170.0, 175.0),
                (190.0, 250.0),
                (260.0, 264.0)
            ]
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(
            (out[0].kind, out[0].onset_s, out[0].offset_s),
            (Kind::Activity, 100.0, 264.0)
        );
        assert_eq!((out[1].kind, out[1].onset_s), (Kind::PostureChange, 400.0));
    }

    #[test]
    fn leg_movements_and_jerks_after_a_bout_stay() {
        let events = [
            ev(120.0, 160.0, Kind::Activity),
            ev(165.0, 168.0, Kind::Lm),
            ev(170.0, 170.3, Kind::HypnicJerk),
        ];
        let (out, _) = run_bouts(&events, 1000.0);
        let kinds: Vec<Kind> = out.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [Kind::Activity, Kind::Lm, Kind::HypnicJerk]);
    }

    #[test]
    fn a_leg_movement_right_after_a_bout_is_its_tail() {
        // 1.5 s after the activity's end: the fidget fading, so activity and wake; a leg
        // movement 2 s after that tail is farther than the tail time from the bout's end.
        let events = [
            ev(120.0, 160.0, Kind::Activity),
            ev(161.5, 162.5, Kind::Lm),
            ev(164.5, 166.0, Kind::Plm),
        ];
        let (out, wake) = run_bouts(&events, 1000.0);
        assert_eq!(
            spans(&out),
            [(Kind::Activity, 120.0, 162.5), (Kind::Plm, 164.5, 166.0)]
        );
        assert_eq!(wake, [(120.0, 160.0), (161.5, 162.5)]);
    }

    #[test]
    fn leg_movements_between_activity_pieces_belong_to_the_bout() {
        let events = [
            ev(120.0, 160.0, Kind::Activity),
            ev(165.0, 168.0, Kind::Lm),
            ev(172.0, 172.2, Kind::HypnicJerk),
            ev(180.0, 200.0, Kind::Activity),
            ev(300.0, 303.0, Kind::Lm),
        ];
        let (out, _) = run_bouts(&events, 1000.0);
        assert_eq!(
            spans(&out),
            [(Kind::Activity, 120.0, 200.0), (Kind::Lm, 300.0, 303.0)]
        );
    }

    #[test]
    fn three_posture_changes_in_a_row_are_restlessness() {
        // Turns 20 s apart, an `other` between them: one bout of activity from the third.
        let events = [
            ev(100.0, 103.0, Kind::PostureChange),
            ev(120.0, 124.0, Kind::PostureChange),
            ev(130.0, 130.1, Kind::Other),
            ev(140.0, 146.0, Kind::PostureChange),
            ev(160.0, 163.0, Kind::PostureChange),
        ];
        let (out, wake) = run_bouts(&events, 1000.0);
        // The chain once it is three turns, then the turn the bout absorbs.
        assert_eq!(wake, [(100.0, 146.0), (160.0, 163.0)]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            (out[0].kind, out[0].onset_s, out[0].offset_s),
            (Kind::Activity, 100.0, 163.0)
        );
        // Two turns in a row, and a third more than the gap after the second, stay turns.
        let events = [
            ev(100.0, 103.0, Kind::PostureChange),
            ev(120.0, 124.0, Kind::PostureChange),
            ev(160.0, 163.0, Kind::PostureChange),
        ];
        let (out, wake) = run_bouts(&events, 1000.0);
        assert!(wake.is_empty());
        assert!(out.iter().all(|e| e.kind == Kind::PostureChange), "{out:?}");
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn a_lone_posture_change_waits_for_the_gap_then_goes_on() {
        let mut m = BoutMerger::new(30.0, 2.0);
        let mut out = Vec::new();
        m.push(ev(100.0, 104.0, Kind::PostureChange), &mut |o| out.push(o));
        m.advance(130.0, &mut |o| out.push(o));
        assert!(out.is_empty());
        assert_eq!(m.pending_onset_s(), Some(100.0));
        m.advance(134.1, &mut |o| out.push(o));
        assert_eq!(out.len(), 1);
        assert_eq!(m.pending_onset_s(), None);
    }
}
