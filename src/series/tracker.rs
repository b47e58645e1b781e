//! The streaming form of the run rule.

use super::config::at_most;
use super::{LegMovement, LmClass, Scored, SeriesConfig};

/// The streaming form of [`score`](super::score): push LMs in onset order, receive each one scored as soon
/// as its class is final, in onset order.
///
/// A CLM's class is final once its run reaches `min_run` members (then it is a PLM) or
/// closes (a later LM breaks it, [`SeriesTracker::advance_to`] shows no LM can extend it, or
/// [`SeriesTracker::finish`]). Output equals [`score`](super::score)'s, LM for LM, for any input.
///
/// State is bounded: see [`SeriesTracker::new`].
#[derive(Clone, Debug)]
pub struct SeriesTracker {
    cfg: SeriesConfig,
    /// LMs received but not yet emitted: members of a run shorter than `min_run`, and (AASM
    /// with breakers ignored only) the ignored LMs that came after them.
    pending: Vec<Scored>,
    /// Onset and CLM flag of the previous walked LM.
    prev: Option<(f64, bool)>,
    /// Members of the current run (0 when no run is open).
    run_len: u32,
    /// The current run's series id once it has reached `min_run`.
    series_id: Option<u32>,
    /// The id the next series will get.
    next_series_id: u32,
}

impl SeriesTracker {
    /// A tracker for `cfg` (validate it first with [`SeriesConfig::validate`]).
    ///
    /// The queue is reserved here and does not grow for input that follows the LM rules:
    /// under WASM, and AASM with breakers breaking, only members of an open run shorter than
    /// `min_run` wait, so at most `min_run − 1` LMs (3 by default), plus the member that
    /// completes the run while the queue drains — every non-CLM or short
    /// interval closes the run and is emitted at once. With AASM breakers ignored, ignored
    /// LMs after a waiting member wait too; an ignored CLM starts < 5 s after the last counted
    /// LM, and merged LMs start ≥ 1 s apart (each ≥ 0.5 s long, then ≥ 0.5 s quiet), so ≤ 5
    /// per member; an ignored non-CLM lasts > 10 s, so ≤ 9 fit in the ≤ 90 s a member waits.
    /// Input breaking those rules only makes the `Vec` grow, never fail.
    pub fn new(cfg: &SeriesConfig) -> Self {
        let waiting = cfg.min_run.saturating_sub(1) as usize;
        // The member that completes a run is pushed before the queue drains: one more slot.
        let capacity = 1 + if cfg.ignores_breakers() {
            waiting * (1 + 5 + 9)
        } else {
            waiting
        };
        SeriesTracker {
            cfg: cfg.clone(),
            pending: Vec::with_capacity(capacity),
            prev: None,
            run_len: 0,
            series_id: None,
            next_series_id: 1,
        }
    }

    /// Number of LMs received but not yet emitted.
    pub fn n_pending(&self) -> usize {
        self.pending.len()
    }

    /// The configuration in use.
    pub fn config(&self) -> &SeriesConfig {
        &self.cfg
    }

    /// Takes the next LM (onsets must not decrease) and emits every LM whose class is now final.
    pub fn push(&mut self, lm: LegMovement, emit: &mut impl FnMut(Scored)) {
        let imi_s = self.prev.map(|(onset, _)| lm.onset_s - onset);
        let short = imi_s.is_some_and(|d| self.cfg.imi_is_short(d));
        let mut scored = Scored {
            lm,
            class: LmClass::Isolated,
            series_id: None,
            imi_s,
        };
        if self.cfg.ignores_breakers() && (!lm.is_clm || short) {
            scored.class = if lm.is_clm {
                LmClass::ShortInterval
            } else {
                LmClass::NonClm
            };
            if self.pending.is_empty() {
                emit(scored);
            } else {
                self.pending.push(scored);
            }
            return;
        }
        if !lm.is_clm {
            self.close_run(emit);
            scored.class = LmClass::NonClm;
            emit(scored);
            self.prev = Some((lm.onset_s, false));
            return;
        }
        let in_window = imi_s.is_some_and(|d| self.cfg.imi_in_window(d));
        let continues = self.run_len > 0 && self.prev.is_some_and(|(_, clm)| clm) && in_window;
        self.prev = Some((lm.onset_s, true));
        if !continues {
            self.close_run(emit);
            if short && !self.cfg.short_interval_may_start {
                scored.class = LmClass::ShortInterval;
                emit(scored);
                return;
            }
        }
        self.run_len += 1;
        if let Some(id) = self.series_id {
            scored.class = LmClass::Plm;
            scored.series_id = Some(id);
            emit(scored);
            return;
        }
        self.pending.push(scored);
        if self.run_len >= self.cfg.min_run {
            let id = self.next_series_id;
            self.next_series_id = self.next_series_id.saturating_add(1);
            self.series_id = Some(id);
            for mut s in self.pending.drain(..) {
                if s.lm.is_clm && s.class == LmClass::Isolated {
                    // Waiting run members carry the placeholder class `Isolated`; ignored
                    // LMs already hold their final class.
                    s.class = LmClass::Plm;
                    s.series_id = Some(id);
                }
                emit(s);
            }
        }
    }

    /// Declares that no LM with an onset before `t_s` (seconds) will be pushed, so a waiting
    /// run that no such LM could extend is closed and emitted.
    ///
    /// Call it as time passes to bound latency: a CLM's class is then final at most
    /// `imi_max_s` after the onset of the run's last member.
    pub fn advance_to(&mut self, t_s: f64, emit: &mut impl FnMut(Scored)) {
        if let Some((onset, _)) = self.prev {
            // A later onset o ≥ t_s gives o − onset ≥ t_s − onset (rounding is monotone), so
            // once this exceeds imi_max_s no future LM can continue the run.
            if !at_most(t_s - onset, self.cfg.imi_max_s) {
                self.close_run(emit);
            }
        }
    }

    /// True when a movement starting at `onset_s` follows, by an interval inside the series
    /// window, a CLM that ended a run of at least two (the last two leg movements periodic).
    pub(crate) fn follows_run(&self, onset_s: f64) -> bool {
        self.run_len >= 2 && self.follows_clm(onset_s)
    }

    /// True when a CLM starting at `onset_s` would continue a run that is already a series:
    /// the last LM was a member of it and the interval is inside the window.
    pub(crate) fn continues_series(&self, onset_s: f64) -> bool {
        self.series_id.is_some() && self.follows_clm(onset_s)
    }

    /// True when the last leg movement was a CLM and `onset_s` follows it by an interval
    /// inside the series window.
    fn follows_clm(&self, onset_s: f64) -> bool {
        self.prev
            .is_some_and(|(prev, clm)| clm && self.cfg.imi_in_window(onset_s - prev))
    }

    /// Earliest time at which [`advance_to`](Self::advance_to) may change anything: when no
    /// later LM can continue the open run. `None` when no run is open and nothing waits.
    pub(crate) fn due_s(&self) -> Option<f64> {
        let open = self.run_len > 0 || self.series_id.is_some() || !self.pending.is_empty();
        self.prev
            .filter(|_| open)
            .map(|(onset, _)| onset + self.cfg.imi_max_s)
    }

    /// Ends the night: emits every waiting LM with its final class, then resets.
    pub fn finish(&mut self, emit: &mut impl FnMut(Scored)) {
        self.close_run(emit);
        self.reset();
    }

    /// Forgets everything, ready for another night (series ids restart at 1).
    pub fn reset(&mut self) {
        self.pending.clear();
        self.prev = None;
        self.run_len = 0;
        self.series_id = None;
        self.next_series_id = 1;
    }

    /// Closes the open run: waiting members take their non-PLM class and everything waiting
    /// is emitted.
    fn close_run(&mut self, emit: &mut impl FnMut(Scored)) {
        for mut s in self.pending.drain(..) {
            if s.lm.is_clm
                && s.class == LmClass::Isolated
                && s.imi_s.is_some_and(|d| self.cfg.imi_is_short(d))
            {
                s.class = LmClass::ShortInterval;
            }
            emit(s);
        }
        self.run_len = 0;
        self.series_id = None;
    }
}
