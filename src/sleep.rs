//! Sleep period and sleep onset from the movements alone, streaming.
//!
//! A streaming form of the inactivity rules of domain.md §5: sleep is sustained inactivity.
//! What counts as activity is *wake evidence* — sustained movement (the `activity` class) —
//! not every movement: leg movements and posture changes happen in sleep (PLMS are leg
//! movements in sleep by definition, and sleepers turn about 1.6 times an hour), so a
//! leg-based inactivity rule that counted them would score a PLM-rich night as wake (§5,
//! "consequences for sleeptwitch").
//!
//! - Awake, a stretch of `persist_s` (10 min, the "persistent sleep" criterion of §5) with
//!   no wake evidence confirms sleep. The onset is then dated back: to the first hypnic jerk
//!   of that stretch when there is one (jerks mark the wake → sleep transition, §2.1; the
//!   inactivity rules are blind to them), otherwise to the end of the last wake evidence,
//!   where the inactivity began (as an SPT window starts at its first still epoch).
//! - Asleep, wake evidence ends the bout at its onset.
//! - A gap longer than `persist_s` ends a bout at the gap's start: nothing is known inside.
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
}

impl Default for SleepConfig {
    fn default() -> Self {
        SleepConfig { persist_s: 600.0 }
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
    /// Start of the current sleep bout, when asleep.
    asleep_since_s: Option<f64>,
    /// End of the last wake evidence (or the stream's start), when awake.
    quiet_since_s: f64,
    /// First hypnic jerk since `quiet_since_s`, when awake.
    first_jerk_s: Option<f64>,
    /// Time up to which the input has been seen, in seconds.
    now_s: f64,
    started: bool,
}

impl SleepTracker {
    pub(crate) fn new(cfg: &SleepConfig) -> Self {
        SleepTracker {
            persist_s: cfg.persist_s,
            asleep_since_s: None,
            quiet_since_s: 0.0,
            first_jerk_s: None,
            now_s: f64::NEG_INFINITY,
            started: false,
        }
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

    /// Time passes to `t_s` with no new wake evidence; returns an onset once confirmed.
    pub(crate) fn advance(&mut self, t_s: f64) -> Option<SleepNotice> {
        if !self.started {
            self.start(t_s);
        }
        self.now_s = self.now_s.max(t_s);
        if self.asleep_since_s.is_none() && self.now_s - self.quiet_since_s >= self.persist_s {
            let onset = self.first_jerk_s.unwrap_or(self.quiet_since_s);
            self.asleep_since_s = Some(onset);
            self.first_jerk_s = None;
            return Some(SleepNotice::Onset(onset));
        }
        None
    }

    /// A hypnic jerk at `t_s` (a candidate marker of the transition).
    pub(crate) fn jerk(&mut self, t_s: f64) {
        if self.asleep_since_s.is_none() && t_s >= self.quiet_since_s && self.first_jerk_s.is_none()
        {
            self.first_jerk_s = Some(t_s);
        }
    }

    /// Wake evidence from `onset_s` to `offset_s`; returns the bout it ends, if any.
    pub(crate) fn wake(&mut self, onset_s: f64, offset_s: f64) -> Option<SleepNotice> {
        let ended = self.asleep_since_s.take().map(|start| {
            SleepNotice::BoutEnd(SleepBout {
                start_s: start,
                end_s: onset_s.max(start),
            })
        });
        self.quiet_since_s = self.quiet_since_s.max(offset_s);
        self.first_jerk_s = None;
        self.now_s = self.now_s.max(offset_s);
        ended
    }

    /// A gap from `start_s` lasting `duration_s`: a long one ends the bout at its start.
    pub(crate) fn gap(&mut self, start_s: f64, duration_s: f64) -> Option<SleepNotice> {
        if duration_s < self.persist_s {
            return None;
        }
        let end = start_s + duration_s;
        let ended = self.asleep_since_s.take().map(|start| {
            SleepNotice::BoutEnd(SleepBout {
                start_s: start,
                end_s: start_s.max(start),
            })
        });
        self.quiet_since_s = end;
        self.first_jerk_s = None;
        self.now_s = self.now_s.max(end);
        ended
    }

    /// The stream ended at `t_s`: an open bout ends there.
    pub(crate) fn finish(&mut self, t_s: f64) -> Option<SleepNotice> {
        self.advance(t_s);
        let end = self.now_s.max(t_s);
        self.asleep_since_s.take().map(|start| {
            SleepNotice::BoutEnd(SleepBout {
                start_s: start,
                end_s: end.max(start),
            })
        })
    }

    /// Earliest time whose state may still change: events before it can be assigned to
    /// sleep or wake for good.
    pub(crate) fn settled_before_s(&self) -> f64 {
        match self.asleep_since_s {
            Some(_) => self.now_s,
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

    #[test]
    fn ten_quiet_minutes_confirm_sleep_dated_back_to_the_last_wake_movement() {
        let mut t = tracker();
        assert_eq!(t.wake(100.0, 130.0), None);
        assert_eq!(t.advance(729.9), None);
        assert_eq!(t.advance(730.0), Some(SleepNotice::Onset(130.0)));
        assert!(t.is_asleep());
        assert_eq!(t.advance(2000.0), None);
    }

    #[test]
    fn a_jerk_in_the_quiet_stretch_dates_the_onset() {
        let mut t = tracker();
        t.wake(100.0, 130.0);
        t.jerk(400.0);
        t.jerk(420.0);
        assert_eq!(t.advance(730.0), Some(SleepNotice::Onset(400.0)));
    }

    #[test]
    fn a_jerk_before_later_wake_movement_is_forgotten() {
        let mut t = tracker();
        t.jerk(50.0);
        t.wake(100.0, 130.0);
        assert_eq!(t.advance(730.0), Some(SleepNotice::Onset(130.0)));
    }

    #[test]
    fn wake_evidence_ends_a_bout_at_its_onset() {
        let mut t = tracker();
        t.advance(600.0);
        let bout = t.wake(5000.0, 5030.0);
        assert_eq!(
            bout,
            Some(SleepNotice::BoutEnd(SleepBout {
                start_s: 0.0,
                end_s: 5000.0
            }))
        );
        assert!(!t.is_asleep());
        assert_eq!(t.advance(5630.0), Some(SleepNotice::Onset(5030.0)));
        assert_eq!(
            t.finish(9000.0),
            Some(SleepNotice::BoutEnd(SleepBout {
                start_s: 5030.0,
                end_s: 9000.0
            }))
        );
    }

    #[test]
    fn a_long_gap_ends_a_bout_and_a_short_one_does_not() {
        let mut t = tracker();
        t.advance(700.0);
        assert_eq!(t.gap(1000.0, 30.0), None);
        assert!(t.is_asleep());
        assert_eq!(
            t.gap(2000.0, 900.0),
            Some(SleepNotice::BoutEnd(SleepBout {
                start_s: 0.0,
                end_s: 2000.0
            }))
        );
        assert_eq!(t.advance(3400.0), None);
        assert_eq!(t.advance(3500.0), Some(SleepNotice::Onset(2900.0)));
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
