//! Sleep period and sleep onset from the movements alone, streaming.
//!
//! A streaming form of the inactivity rules of domain.md §5: sleep is sustained inactivity.
//! What counts as activity is *wake evidence* — sustained movement (the `activity` class,
//! and the posture changes and other movements a bout of activity absorbs) — not every
//! movement: leg movements and posture changes happen in sleep (PLMS are leg movements in
//! sleep by definition, and sleepers turn about 1.6 times an hour), so a leg-based
//! inactivity rule that counted them would score a PLM-rich night as wake (§5,
//! "consequences for sleeptwitch").
//!
//! - Awake, a stretch of `persist_s` (10 min, the "persistent sleep" criterion of §5) with
//!   no wake evidence confirms sleep. The onset is then dated back: to the first hypnic jerk
//!   of that stretch when there is one (jerks mark the wake → sleep transition, §2.1; the
//!   inactivity rules are blind to them), otherwise to the end of the last wake evidence,
//!   where the inactivity began (as an SPT window starts at its first still epoch). A jerk
//!   within `jerk_window_s` after that start still moves the onset to it: the stillness
//!   before a sleep-start jerk was quiet wake. The onset is reported once fixed, by a jerk
//!   or by the window running out.
//! - Asleep, wake evidence ends the bout at its onset.
//! - A gap longer than `persist_s` ends a bout at the gap's start: nothing is known inside.
//!   A shorter one leaves a bout open, and while awake it does not count towards the
//!   `persist_s` of quiet that confirms sleep: that asks for ten minutes seen still. (The
//!   night's metrics leave gaps out of sleep and wake alike, see [`crate::metrics`].) For a
//!   device that stops storing samples while still, gaps are stillness instead
//!   ([`SleepConfig::gaps_are_still`]): the tracker passes over them.
//!
//! The tracker holds a handful of numbers; its decisions lag the input by at most
//! `persist_s`: the state at any time older than that is final.

use serde::{Deserialize, Serialize};

use crate::SleepBout;

/// Sleep tracking settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SleepConfig {
    /// Inactivity that confirms sleep, in seconds (domain.md §5: persistent sleep, 10 min).
    pub persist_s: f64,
    /// After the start of the inactivity, how long a hypnic jerk still dates the onset, in
    /// seconds.
    pub jerk_window_s: f64,
    /// Quiet after the last wake movement from which movements are named as in sleep, in
    /// seconds, while sleep waits for its confirmation (`persist_s`); the length rule alone
    /// waits for the confirmation (see [`crate::classify`]). The onset, once confirmed, is
    /// dated back to the start of the quiet, so the movements of its first minutes were
    /// made asleep; named as in wake, a large leg movement there (a bursty one as strong as
    /// a step) became activity, whose wake evidence moved the onset past it. On the
    /// development nights (the length rule then included) 30, 60 and 120 s gave the same
    /// leg movements within 0.001 of F1 and better activity than 0 or 300 s.
    pub settle_s: f64,
    /// Whether a gap in the recording is the sensor lying still: true for a device that
    /// stops storing samples while it does not move (ActiGraph's idle-sleep mode), where
    /// gaps are stillness, count towards confirming sleep and belong to the bout around
    /// them. False (the default): a gap is time nothing is known of (a lost connection, a
    /// flat battery, a file cut short): it is neither sleep nor wake, a long one (at least
    /// `persist_s`) ends a bout, and the metrics leave it out (`NightMetrics::unrecorded_s`).
    pub gaps_are_still: bool,
}

impl Default for SleepConfig {
    fn default() -> Self {
        SleepConfig {
            persist_s: 600.0,
            jerk_window_s: 1800.0,
            settle_s: 60.0,
            gaps_are_still: false,
        }
    }
}

/// What the tracker told its caller after a step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SleepNotice {
    /// Sleep was confirmed; it began at this time, in seconds.
    Onset(f64),
    /// A sleep bout ended (wake evidence, a long gap, or the end of the stream).
    BoutEnd(SleepBout),
}

/// The tracker's state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SleepTracker {
    persist_s: f64,
    jerk_window_s: f64,
    settle_s: f64,
    gaps_are_still: bool,
    /// True once the open bout's onset is fixed and reported.
    onset_fixed: bool,
    /// Start of the current sleep bout, when asleep.
    asleep_since_s: Option<f64>,
    /// End of the last wake evidence (or the stream's start), when awake.
    quiet_since_s: f64,
    /// First hypnic jerk since `quiet_since_s`, when awake.
    first_jerk_s: Option<f64>,
    /// Time without samples since `quiet_since_s`, when awake and not yet confirmed.
    unseen_s: f64,
    /// Time up to which the input has been seen, in seconds.
    now_s: f64,
    started: bool,
}

impl SleepTracker {
    pub(crate) fn new(cfg: &SleepConfig) -> Self {
        SleepTracker {
            persist_s: cfg.persist_s,
            jerk_window_s: cfg.jerk_window_s,
            settle_s: cfg.settle_s,
            gaps_are_still: cfg.gaps_are_still,
            onset_fixed: false,
            asleep_since_s: None,
            quiet_since_s: 0.0,
            first_jerk_s: None,
            unseen_s: 0.0,
            now_s: f64::NEG_INFINITY,
            started: false,
        }
    }

    /// True while sleep is confirmed (a bout is open, its onset maybe not yet fixed).
    pub(crate) fn is_confirmed(&self) -> bool {
        self.asleep_since_s.is_some()
    }

    /// True when a movement starting at `t_s` is named as in sleep: sleep is confirmed, or
    /// `settle_s` have passed since the last wake movement. (Each piece of activity reaches
    /// the tracker as it is named, before the bout it belongs to is over.)
    pub(crate) fn settled_at(&self, t_s: f64) -> bool {
        self.is_confirmed() || t_s - self.quiet_since_s >= self.settle_s
    }

    /// True while a sleep bout is open.
    #[cfg(test)]
    pub(crate) fn is_asleep(&self) -> bool {
        self.asleep_since_s.is_some()
    }

    /// The stream starts (or restarts after a long gap) at `t_s`, awake.
    pub(crate) fn start(&mut self, t_s: f64) {
        if !self.started {
            self.started = true;
            self.quiet_since_s = t_s;
            self.now_s = t_s;
        }
    }

    /// Time passes to `t_s` with no new wake evidence; returns an onset once it is fixed.
    pub(crate) fn advance(&mut self, t_s: f64) -> Option<SleepNotice> {
        if !self.started {
            self.start(t_s);
        }
        self.now_s = self.now_s.max(t_s);
        match self.asleep_since_s {
            None if self.now_s - self.quiet_since_s - self.unseen_s >= self.persist_s => {
                let jerk = self.first_jerk_s.take();
                let onset = jerk.unwrap_or(self.quiet_since_s);
                self.asleep_since_s = Some(onset);
                self.onset_fixed =
                    jerk.is_some() || self.now_s - self.quiet_since_s >= self.jerk_window_s;
                self.onset_fixed.then_some(SleepNotice::Onset(onset))
            }
            Some(start)
                if !self.onset_fixed && self.now_s - self.quiet_since_s >= self.jerk_window_s =>
            {
                self.onset_fixed = true;
                Some(SleepNotice::Onset(start))
            }
            _ => None,
        }
    }

    /// A hypnic jerk at `t_s` (a marker of the transition); returns the onset it fixes.
    pub(crate) fn jerk(&mut self, t_s: f64) -> Option<SleepNotice> {
        if t_s < self.quiet_since_s || t_s - self.quiet_since_s > self.jerk_window_s {
            return None;
        }
        match self.asleep_since_s {
            None => {
                self.first_jerk_s.get_or_insert(t_s);
                None
            }
            Some(_) if !self.onset_fixed && t_s - self.quiet_since_s <= self.jerk_window_s => {
                self.asleep_since_s = Some(t_s);
                self.onset_fixed = true;
                Some(SleepNotice::Onset(t_s))
            }
            Some(_) => None,
        }
    }

    /// Wake evidence from `onset_s` to `offset_s`; returns what it ends: an onset not yet
    /// reported is reported first.
    pub(crate) fn wake(&mut self, onset_s: f64, offset_s: f64) -> [Option<SleepNotice>; 2] {
        let mut out = [None, None];
        if let Some(start) = self.asleep_since_s.take() {
            if !self.onset_fixed {
                out[0] = Some(SleepNotice::Onset(start));
            }
            out[1] = Some(SleepNotice::BoutEnd(SleepBout {
                start_s: start,
                end_s: onset_s.max(start),
            }));
        }
        self.onset_fixed = false;
        self.quiet_since_s = self.quiet_since_s.max(offset_s);
        self.first_jerk_s = None;
        self.unseen_s = 0.0;
        self.now_s = self.now_s.max(offset_s);
        out
    }

    /// A gap from `start_s` lasting `duration_s`: a long one ends the bout at its start; a
    /// short one, awake, is quiet not seen. Where gaps are stillness, nothing.
    pub(crate) fn gap(&mut self, start_s: f64, duration_s: f64) -> [Option<SleepNotice>; 2] {
        if self.gaps_are_still {
            return [None, None];
        }
        if duration_s < self.persist_s {
            if self.asleep_since_s.is_none() && start_s >= self.quiet_since_s {
                self.unseen_s += duration_s;
            }
            return [None, None];
        }
        let end = start_s + duration_s;
        let out = self.wake(start_s, end);
        self.quiet_since_s = end;
        out
    }

    /// The stream ended at `t_s`: an open bout ends there.
    pub(crate) fn finish(&mut self, t_s: f64) -> [Option<SleepNotice>; 2] {
        let first = self.advance(t_s);
        let end = self.now_s.max(t_s);
        let mut out = [first, None];
        if let Some(start) = self.asleep_since_s.take() {
            if !self.onset_fixed {
                out[0] = Some(SleepNotice::Onset(start));
            }
            out[1] = Some(SleepNotice::BoutEnd(SleepBout {
                start_s: start,
                end_s: end.max(start),
            }));
        }
        self.onset_fixed = false;
        out
    }

    /// Earliest time whose state may still change: events before it can be assigned to
    /// sleep or wake for good.
    pub(crate) fn settled_before_s(&self) -> f64 {
        match self.asleep_since_s {
            Some(_) if self.onset_fixed => self.now_s,
            // A later jerk may still move the onset, up to the end of the window.
            Some(start) => start.min(self.quiet_since_s),
            // Before the first jerk (or the quiet start) it stays wake whatever comes next.
            None => self.first_jerk_s.unwrap_or(self.quiet_since_s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> SleepTracker {
        let mut t = SleepTracker::new(&SleepConfig::default());
        t.start(0.0);
        t
    }

    fn onset(t: f64) -> Option<SleepNotice> {
        Some(SleepNotice::Onset(t))
    }

    fn bout(a: f64, b: f64) -> Option<SleepNotice> {
        Some(SleepNotice::BoutEnd(SleepBout {
            start_s: a,
            end_s: b,
        }))
    }

    #[test]
    fn ten_quiet_minutes_start_sleep_at_the_last_wake_movement_fixed_after_the_window() {
        let mut t = tracker();
        assert_eq!(t.wake(100.0, 130.0), [None, None]);
        assert_eq!(t.advance(729.9), None);
        // confirmed, but a jerk may still date it: not reported yet
        assert_eq!(t.advance(730.0), None);
        assert!(t.is_asleep());
        assert_eq!(t.settled_before_s(), 130.0);
        assert_eq!(t.advance(1929.9), None);
        assert_eq!(t.advance(1930.0), onset(130.0));
        assert_eq!(t.settled_before_s(), 1930.0);
        assert_eq!(t.advance(2000.0), None);
    }

    #[test]
    fn a_minute_after_the_last_wake_movement_movements_are_named_as_in_sleep() {
        let mut t = tracker();
        t.wake(100.0, 130.0);
        assert!(!t.settled_at(189.9));
        assert!(t.settled_at(190.0));
        // confirmed sleep stays sleep until wake evidence arrives
        t.advance(730.0);
        assert!(t.settled_at(731.0));
        t.wake(800.0, 810.0);
        assert!(!t.settled_at(830.0));
    }

    #[test]
    fn a_jerk_in_the_quiet_stretch_dates_the_onset_at_once() {
        let mut t = tracker();
        t.wake(100.0, 130.0);
        assert_eq!(t.jerk(400.0), None);
        assert_eq!(t.jerk(420.0), None);
        assert_eq!(t.advance(730.0), onset(400.0));
    }

    #[test]
    fn a_jerk_after_confirmation_moves_the_onset_within_the_window_only() {
        let mut t = tracker();
        t.wake(100.0, 130.0);
        t.advance(800.0);
        assert_eq!(t.jerk(1100.0), onset(1100.0));
        assert_eq!(t.jerk(1200.0), None, "the first jerk fixed it");
        let mut t = tracker();
        t.wake(100.0, 130.0);
        assert_eq!(
            t.jerk(2000.0),
            None,
            "after the window, still in its advance"
        );
        assert_eq!(t.advance(2000.0), onset(130.0));
    }

    #[test]
    fn a_jerk_before_later_wake_movement_is_forgotten() {
        let mut t = tracker();
        t.jerk(50.0);
        t.wake(100.0, 130.0);
        t.advance(730.0);
        assert_eq!(t.advance(1930.0), onset(130.0));
    }

    #[test]
    fn wake_evidence_ends_a_bout_at_its_onset_reporting_an_unfixed_onset_first() {
        let mut t = tracker();
        t.advance(600.0);
        assert_eq!(t.wake(1000.0, 1030.0), [onset(0.0), bout(0.0, 1000.0)]);
        assert!(!t.is_asleep());
        t.advance(1630.0);
        assert_eq!(t.advance(3000.0), onset(1030.0));
        assert_eq!(t.wake(5000.0, 5030.0), [None, bout(1030.0, 5000.0)]);
        t.advance(5630.0);
        assert_eq!(t.finish(9000.0), [onset(5030.0), bout(5030.0, 9000.0)]);
    }

    #[test]
    fn a_long_gap_ends_a_bout_and_a_short_one_does_not() {
        let mut t = tracker();
        t.advance(2000.0);
        assert_eq!(t.gap(2100.0, 30.0), [None, None]);
        assert!(t.is_asleep());
        assert_eq!(t.gap(3000.0, 900.0), [None, bout(0.0, 3000.0)]);
        assert_eq!(t.advance(4400.0), None);
        assert_eq!(t.advance(4500.0), None);
        assert_eq!(t.advance(5700.0), onset(3900.0));
    }

    #[test]
    fn ten_minutes_of_quiet_must_be_seen_a_short_gap_awake_does_not_count() {
        let mut t = tracker();
        t.wake(100.0, 130.0);
        assert_eq!(t.gap(200.0, 180.0), [None, None]);
        assert_eq!(t.advance(909.9), None);
        assert!(!t.is_asleep());
        t.advance(910.0);
        assert!(t.is_asleep());
        // The onset is still the end of the last wake movement, and once asleep a short
        // gap leaves the bout open.
        assert_eq!(t.advance(2110.0), onset(130.0));
        assert_eq!(t.gap(3000.0, 180.0), [None, None]);
        assert!(t.is_asleep());
        // Wake evidence starts the count afresh: an earlier gap no longer delays it.
        assert_eq!(t.wake(4000.0, 4030.0), [None, bout(130.0, 4000.0)]);
        t.advance(4629.9);
        assert!(!t.is_asleep());
        t.advance(4630.0);
        assert!(t.is_asleep());
    }

    #[test]
    fn where_gaps_are_stillness_they_confirm_sleep_and_never_end_a_bout() {
        let mut t = SleepTracker::new(&SleepConfig {
            gaps_are_still: true,
            ..SleepConfig::default()
        });
        t.start(0.0);
        t.wake(100.0, 130.0);
        assert_eq!(t.gap(200.0, 500.0), [None, None]);
        t.advance(730.0);
        assert!(t.is_asleep());
        assert_eq!(t.gap(3000.0, 3600.0), [None, None]);
        assert!(t.is_asleep());
    }

    #[test]
    fn the_settled_time_trails_the_undecided_stretch() {
        let mut t = tracker();
        t.wake(100.0, 130.0);
        t.advance(500.0);
        assert_eq!(t.settled_before_s(), 130.0);
        t.jerk(300.0);
        assert_eq!(t.settled_before_s(), 300.0);
        t.advance(800.0);
        assert_eq!(t.settled_before_s(), 800.0);
    }
}
