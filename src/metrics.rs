//! The night's clinical metrics (`domain.md` §4): sleep figures, PLM indices, periodicity,
//! IMI histogram, jerk and posture counts, dominant PLM period.
//!
//! [`NightAccumulator`] takes classified [`Event`]s and sleep/wake transitions in time order,
//! one at a time, with state of fixed size (counters, fixed-grid histograms, the spectral
//! window; the only list is the hypnic jerks' times, at most 256); [`night_metrics`]
//! drives it over whole lists.
//!
//! # Conventions
//!
//! - **Sleep or wake** of an event is the state at its onset (WASM 2016 step 7, `domain.md`
//!   §3.2); a bout holds its start, not its end. Series are the detector's: an event of kind
//!   `plm` is a PLM wherever it lies, and counts as PLMS or PLMW by its onset.
//! - **CLM or not** is re-derived from each leg-movement event with the [`SeriesConfig`]:
//!   a `plm` is a CLM; an `lm` is one when its duration is within `clm_max_s`, or within
//!   `bilateral_clm_max_s` when its `sites` hold both ankles (WASM 2016 step 3). Events do
//!   not carry a merge's component count, so that part of the bilateral rule cannot be
//!   checked here.
//! - **Short-interval and isolated** split the non-PLM CLMs by the IMI from the previous leg
//!   movement (under AASM with breakers ignored, from the previous one that counted), below
//!   `imi_min_s` or not.
//! - **IMI histogram and Ferri PI** use IMIs between consecutive leg movements that are both
//!   CLMs with onsets in the same sleep bout (`domain.md` §4.2); an interval touching a
//!   non-CLM, wake or another bout is omitted.
//! - **Indices** are per hour of total sleep time (PLMS, CLMS, short-interval, isolated, LM),
//!   per hour of wake in bed (PLMW: time in bed minus total sleep time), per hour of sleep
//!   period (posture changes, `domain.md` §4.4). A zero denominator gives `None`, never a
//!   division by zero.
//! - **Unrecorded time** (the recording's gaps) is neither sleep nor wake: no movement could
//!   be seen in it, so total sleep time, WASO and wake in bed, and with them the indices'
//!   denominators, leave it out. Time in bed and the sleep period are spans of the clock and
//!   keep it; `unrecorded_s` says how much there was.

use serde::{Deserialize, Serialize};

use crate::event::SleepBout;
use crate::series::{at_least, at_most};

mod histogram;

use crate::series::ScoringRule;
use crate::spectral::{DominantPeriod, OnsetSpectrum, SpectralConfig};
use crate::{ConfigError, Event, Kind, SeriesConfig, Site};
use histogram::GridQuantiles;
pub use histogram::{ImiHistogram, IMI_BIN_S, IMI_MAX_S, IMI_N_BINS};

/// Most hypnic-jerk times a night keeps (all are counted): the list is reserved up front so
/// that streaming never allocates.
pub const MAX_JERK_TIMES: usize = 256;

/// A hypnic jerk's time, with its offset from the sleep onset before it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HypnicJerkTime {
    /// Onset of the jerk, in seconds on the input's clock.
    pub onset_s: f64,
    /// Seconds from the nearest sleep onset at or before the jerk (`None` when there is none:
    /// a jerk just before the night's first sleep onset).
    pub since_sleep_onset_s: Option<f64>,
    /// Seconds from the jerk to the first sleep onset after it (`None` when none follows).
    /// Jerks happen at the wake → sleep transition, often just before the onset an
    /// accelerometer or a scorer places (`domain.md` §2.1, §5), so this is often the small one.
    pub until_sleep_onset_s: Option<f64>,
}

/// Everything measured over one night. Times in seconds on the input's clock; durations in
/// seconds; indices per hour (`None` when their denominator is zero).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NightMetrics {
    /// The scoring rule the series and CLM tests follow (`domain.md` §4.1: always reported).
    pub rule: ScoringRule,
    /// Whether a short-interval CLM may start a series (`domain.md` §8 item 4).
    pub short_interval_may_start: bool,
    /// Start of time in bed (lights off, or the recording's start).
    pub in_bed_start_s: f64,
    /// End of time in bed (lights on, or the recording's end).
    pub in_bed_end_s: f64,
    /// Time in bed, `in_bed_end_s − in_bed_start_s`.
    pub time_in_bed_s: f64,
    /// Time in bed without samples: the recording's gaps (counted once where the sensors'
    /// gaps overlap). Nothing is known of it, so it is neither sleep nor wake: total sleep
    /// time, WASO and wake in bed leave it out, and so do the indices' denominators. (The
    /// detector reports 0 where gaps are stillness, `SleepConfig::gaps_are_still`.)
    pub unrecorded_s: f64,
    /// Sleep onset: start of the first sleep bout.
    pub sleep_onset_s: Option<f64>,
    /// Final awakening: end of the last sleep bout.
    pub final_awakening_s: Option<f64>,
    /// Sleep period time (SPT), sleep onset → final awakening (0 without sleep).
    pub sleep_period_s: f64,
    /// Total sleep time (TST), the sum of the sleep bouts less the unrecorded time inside
    /// them.
    pub total_sleep_time_s: f64,
    /// Wake after sleep onset: sleep period minus total sleep time and the unrecorded time
    /// inside it.
    pub waso_s: f64,
    /// Sleep-onset latency from the start of time in bed.
    pub sleep_onset_latency_s: Option<f64>,
    /// Wake time in bed, time in bed minus total sleep time and the unrecorded time (the
    /// PLMW denominator).
    pub wake_in_bed_s: f64,
    /// Number of sleep bouts.
    pub n_sleep_bouts: u32,
    /// Leg movements (`plm` and `lm` events) in the night.
    pub n_lm: u32,
    /// Leg movements with onset in sleep.
    pub n_lm_sleep: u32,
    /// Leg movements in sleep per hour of sleep.
    pub lm_sleep_index_per_h: Option<f64>,
    /// PLMs in the night, sleep and wake.
    pub n_plm: u32,
    /// PLMs with onset in sleep (PLMS).
    pub n_plms: u32,
    /// PLMS per hour of sleep (PLMSI).
    pub plms_index_per_h: Option<f64>,
    /// PLMs with onset in wake (PLMW).
    pub n_plmw: u32,
    /// PLMW per hour of wake in bed (PLMWI).
    pub plmw_index_per_h: Option<f64>,
    /// Series seen (by `series_id`; events without ids start a series after any non-PLM LM).
    pub n_plm_series: u32,
    /// PLMS seen on the left ankle only.
    pub n_plms_left_only: u32,
    /// PLMS seen on the right ankle only.
    pub n_plms_right_only: u32,
    /// PLMS seen on both ankles (bilateral).
    pub n_plms_bilateral: u32,
    /// CLMs with onset in sleep (PLM, short-interval and isolated).
    pub n_clms: u32,
    /// CLMS per hour of sleep.
    pub clms_index_per_h: Option<f64>,
    /// Short-interval CLMs in sleep.
    pub n_short_interval_sleep: u32,
    /// Short-interval CLMs in sleep per hour of sleep.
    pub short_interval_index_per_h: Option<f64>,
    /// Isolated CLMs in sleep.
    pub n_isolated_sleep: u32,
    /// Isolated CLMs in sleep per hour of sleep.
    pub isolated_index_per_h: Option<f64>,
    /// Non-CLM leg movements in sleep.
    pub n_non_clm_sleep: u32,
    /// Periodicity index after Ferri et al. 2006 (`domain.md` §4.3): the share of sleep IMIs
    /// that sit in runs of ≥ 3 consecutive IMIs each within 10–90 s. Denominator (§8 item
    /// 5): every histogram IMI, those above 90 s and below 10 s included.
    pub periodicity_index_ferri2006: Option<f64>,
    /// Numerator of the Ferri PI: IMIs in runs of ≥ 3 in-window IMIs.
    pub n_imi_in_periodic_runs: u32,
    /// Denominator of the Ferri PI: IMIs in the histogram.
    pub n_imi_sleep: u32,
    /// Simplified periodicity index used with WASM 2016 (`domain.md` §4.3): PLMS / CLMS.
    pub periodicity_index_plms_per_clms: Option<f64>,
    /// IMIs between consecutive CLMs in sleep (conventions in the module docs).
    pub imi_histogram: ImiHistogram,
    /// Median PLMS duration (to 10 ms: values are kept on a 10 ms grid).
    pub plms_duration_median_s: Option<f64>,
    /// Interquartile range (Q3 − Q1) of PLMS duration.
    pub plms_duration_iqr_s: Option<f64>,
    /// Median of the histogram IMIs (`None` if it lies above 90 s).
    pub imi_median_s: Option<f64>,
    /// Interquartile range of the histogram IMIs (`None` if Q3 lies above 90 s).
    pub imi_iqr_s: Option<f64>,
    /// Hypnic jerks in the night.
    pub n_hypnic_jerks: u32,
    /// Each hypnic jerk's onset and its offset from the sleep onset before it (the first
    /// 256 of the night; a night has a handful).
    pub hypnic_jerks: Vec<HypnicJerkTime>,
    /// Posture changes in the night.
    pub n_posture_changes: u32,
    /// Posture changes with onset inside the sleep period.
    pub n_posture_changes_spt: u32,
    /// Posture changes per hour of sleep period (reference 1.6/h per hour in bed, `domain.md` §2.4).
    pub posture_changes_per_h_spt: Option<f64>,
    /// Wake-activity events.
    pub n_activity: u32,
    /// Total duration of wake-activity events.
    pub activity_s: f64,
    /// Dominant period of the leg-movement onsets in sleep, in seconds (10–90 s), from the
    /// onset-train spectrum; `None` when no period stands out.
    pub dominant_plm_period_s: Option<f64>,
    /// The spectral peak behind `dominant_plm_period_s`.
    pub dominant_period: Option<DominantPeriod>,
}

/// Builds [`NightMetrics`] from events and sleep transitions fed in time order.
///
/// Call [`sleep_onset`](Self::sleep_onset), [`wake`](Self::wake) and
/// [`event`](Self::event) in order of time (an event by its onset; a transition at the same
/// time as an onset goes first), then [`finish`](Self::finish). Out-of-order calls are not
/// an error but assign events to the wrong state.
#[derive(Clone, Debug)]
pub struct NightAccumulator {
    cfg: SeriesConfig,
    in_bed_start_s: f64,
    asleep: bool,
    bout_start_s: f64,
    tst_s: f64,
    n_bouts: u32,
    first_onset_s: Option<f64>,
    last_wake_s: Option<f64>,
    last_sleep_onset_s: Option<f64>,
    prev_lm: Option<PrevLm>,
    prev_counted_onset_s: Option<f64>,
    prev_lm_was_plm: bool,
    last_series_id: Option<u32>,
    c: Counts,
    hist: ImiHistogram,
    ferri_run: u32,
    durations: GridQuantiles,
    imis: GridQuantiles,
    spectrum: OnsetSpectrum,
    jerks: Vec<HypnicJerkTime>,
    n_jerks: u32,
    activity_s: f64,
    n_posture_after_last_wake: u32,
    gaps: Unrecorded,
}

/// The unrecorded time of a night, split as the metrics need it.
#[derive(Clone, Copy, Debug)]
struct Unrecorded {
    /// All of it so far, in seconds.
    total_s: f64,
    /// The part inside sleep bouts.
    asleep_s: f64,
    /// `total_s` at the first sleep onset and at the last awakening: the sleep period holds
    /// what lies between.
    at_first_onset_s: f64,
    at_last_wake_s: f64,
    /// End of the last gap counted: a gap reaching back before it (another sensor's,
    /// overlapping) counts only from there.
    until_s: f64,
}

impl Unrecorded {
    /// A night without gaps so far.
    const NONE: Unrecorded = Unrecorded {
        total_s: 0.0,
        asleep_s: 0.0,
        at_first_onset_s: 0.0,
        at_last_wake_s: 0.0,
        until_s: f64::NEG_INFINITY,
    };
}

#[derive(Clone, Copy, Debug)]
struct PrevLm {
    onset_s: f64,
    is_clm: bool,
    /// The sleep bout (number, from 1) its onset fell in; `None` in wake.
    bout: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    lm: u32,
    lm_sleep: u32,
    plm: u32,
    plms: u32,
    plmw: u32,
    series: u32,
    plms_left: u32,
    plms_right: u32,
    plms_both: u32,
    clms: u32,
    short_sleep: u32,
    isolated_sleep: u32,
    non_clm_sleep: u32,
    imi_in_runs: u32,
    imi_sleep: u32,
    posture: u32,
    posture_since_onset: u32,
    activity: u32,
}

fn inc(x: &mut u32) {
    *x = x.saturating_add(1);
}

impl NightAccumulator {
    /// An empty night that starts (in bed) at `in_bed_start_s`.
    ///
    /// # Errors
    /// When `cfg` fails [`SeriesConfig::validate`].
    pub fn new(cfg: &SeriesConfig, in_bed_start_s: f64) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(NightAccumulator {
            cfg: cfg.clone(),
            in_bed_start_s,
            asleep: false,
            bout_start_s: 0.0,
            tst_s: 0.0,
            n_bouts: 0,
            first_onset_s: None,
            last_wake_s: None,
            last_sleep_onset_s: None,
            prev_lm: None,
            prev_counted_onset_s: None,
            prev_lm_was_plm: false,
            last_series_id: None,
            c: Counts::default(),
            hist: ImiHistogram::default(),
            ferri_run: 0,
            durations: GridQuantiles::new(30.0),
            imis: GridQuantiles::new(IMI_MAX_S),
            spectrum: OnsetSpectrum::new(&SpectralConfig::default())?,
            jerks: Vec::with_capacity(MAX_JERK_TIMES),
            n_jerks: 0,
            activity_s: 0.0,
            n_posture_after_last_wake: 0,
            gaps: Unrecorded::NONE,
        })
    }

    /// Wake → sleep at `t_s`; ignored when already asleep.
    pub fn sleep_onset(&mut self, t_s: f64) {
        if self.asleep {
            return;
        }
        self.asleep = true;
        self.bout_start_s = t_s;
        self.n_bouts = self.n_bouts.saturating_add(1);
        if self.first_onset_s.is_none() {
            self.first_onset_s = Some(t_s);
            self.gaps.at_first_onset_s = self.gaps.total_s;
        }
        self.last_sleep_onset_s = Some(t_s);
        // Jerks still waiting for a following onset are the last ones pushed.
        for j in self.jerks.iter_mut().rev() {
            if j.until_sleep_onset_s.is_some() {
                break;
            }
            j.until_sleep_onset_s = Some(t_s - j.onset_s);
        }
    }

    /// Sleep → wake at `t_s`; ignored when already awake.
    pub fn wake(&mut self, t_s: f64) {
        if !self.asleep {
            return;
        }
        self.asleep = false;
        self.tst_s += (t_s - self.bout_start_s).max(0.0);
        self.last_wake_s = Some(t_s);
        self.n_posture_after_last_wake = 0;
        self.gaps.at_last_wake_s = self.gaps.total_s;
    }

    /// No samples from `start_s` for `duration_s` seconds, in time order with the rest
    /// (at a sleep transition's time, after it). Several sensors' gaps may overlap: the
    /// time counts once.
    pub fn gap(&mut self, start_s: f64, duration_s: f64) {
        let end_s = start_s + duration_s;
        let d = end_s - start_s.max(self.gaps.until_s);
        if d > 0.0 {
            self.gaps.total_s += d;
            if self.asleep {
                self.gaps.asleep_s += d;
            }
            self.gaps.until_s = end_s;
        }
    }

    /// Takes one classified event.
    pub fn event(&mut self, e: &Event) {
        match e.kind {
            Kind::Plm | Kind::Lm => self.leg_movement(e),
            Kind::HypnicJerk => {
                inc(&mut self.n_jerks);
                // The times of the first `MAX_JERK_TIMES` are kept (reserved in `new`, so
                // no allocation while streaming); all are counted.
                if self.jerks.len() < MAX_JERK_TIMES {
                    self.jerks.push(HypnicJerkTime {
                        onset_s: e.onset_s,
                        since_sleep_onset_s: self.last_sleep_onset_s.map(|t| e.onset_s - t),
                        until_sleep_onset_s: None,
                    });
                }
            }
            Kind::PostureChange => {
                inc(&mut self.c.posture);
                if self.first_onset_s.is_some() {
                    inc(&mut self.c.posture_since_onset);
                    if !self.asleep {
                        inc(&mut self.n_posture_after_last_wake);
                    }
                }
            }
            Kind::Activity => {
                inc(&mut self.c.activity);
                self.activity_s += e.duration_s().max(0.0);
            }
            Kind::Other => {}
        }
    }

    fn leg_movement(&mut self, e: &Event) {
        let cfg = &self.cfg;
        let bilateral = e.sites.contains(Site::LeftAnkle) && e.sites.contains(Site::RightAnkle);
        let is_plm = e.kind == Kind::Plm;
        let is_clm = is_plm || cfg.clm_duration_ok(e.duration_s(), bilateral);
        let bout = self.asleep.then_some(self.n_bouts);
        let c = &mut self.c;

        // IMI histogram, its quantiles and the Ferri PI: consecutive CLMs in one sleep bout.
        let pair = self
            .prev_lm
            .filter(|p| is_clm && p.is_clm && bout.is_some() && p.bout == bout);
        match pair {
            Some(p) => {
                let imi_s = e.onset_s - p.onset_s;
                self.hist.push(imi_s);
                self.imis.push(imi_s);
                inc(&mut c.imi_sleep);
                if ferri_in_window(imi_s) {
                    self.ferri_run = self.ferri_run.saturating_add(1);
                } else {
                    close_ferri_run(&mut self.ferri_run, c);
                }
            }
            None => close_ferri_run(&mut self.ferri_run, c),
        }

        // Short interval by the rule's IMI.
        let rule_prev = if cfg.ignores_breakers() {
            self.prev_counted_onset_s
        } else {
            self.prev_lm.map(|p| p.onset_s)
        };
        let short = rule_prev.is_some_and(|t| cfg.imi_is_short(e.onset_s - t));
        if is_clm && !(short && cfg.ignores_breakers()) {
            self.prev_counted_onset_s = Some(e.onset_s);
        }

        inc(&mut c.lm);
        if bout.is_some() {
            inc(&mut c.lm_sleep);
            self.spectrum.push(e.onset_s);
        }
        if is_plm {
            inc(&mut c.plm);
            let new_series = match e.series_id {
                Some(id) => self.last_series_id != Some(id),
                None => !self.prev_lm_was_plm,
            };
            if new_series {
                inc(&mut c.series);
            }
            self.last_series_id = e.series_id;
            if bout.is_some() {
                inc(&mut c.plms);
                self.durations.push(e.duration_s());
                match (
                    e.sites.contains(Site::LeftAnkle),
                    e.sites.contains(Site::RightAnkle),
                ) {
                    (true, true) => inc(&mut c.plms_both),
                    (true, false) => inc(&mut c.plms_left),
                    (false, true) => inc(&mut c.plms_right),
                    (false, false) => {}
                }
            } else {
                inc(&mut c.plmw);
            }
        }
        if bout.is_some() {
            match (is_clm, is_plm, short) {
                (false, _, _) => inc(&mut c.non_clm_sleep),
                (true, true, _) => inc(&mut c.clms),
                (true, false, true) => {
                    inc(&mut c.clms);
                    inc(&mut c.short_sleep);
                }
                (true, false, false) => {
                    inc(&mut c.clms);
                    inc(&mut c.isolated_sleep);
                }
            }
        }
        self.prev_lm_was_plm = is_plm;
        self.prev_lm = Some(PrevLm {
            onset_s: e.onset_s,
            is_clm,
            bout,
        });
    }

    /// Ends the night at `in_bed_end_s` (closing an open sleep bout there), returns its
    /// metrics and resets for another night starting at the same `in_bed_start_s`.
    pub fn finish(&mut self, in_bed_end_s: f64) -> NightMetrics {
        let ended_awake = !self.asleep;
        self.wake(in_bed_end_s);
        close_ferri_run(&mut self.ferri_run, &mut self.c);
        let c = self.c;
        let gaps = self.gaps;
        let tst_s = (self.tst_s - gaps.asleep_s).max(0.0);
        let time_in_bed_s = (in_bed_end_s - self.in_bed_start_s).max(0.0);
        let sleep_period_s = match (self.first_onset_s, self.last_wake_s) {
            (Some(a), Some(b)) => (b - a).max(0.0),
            _ => 0.0,
        };
        let unrecorded_spt_s = gaps.at_last_wake_s - gaps.at_first_onset_s;
        let wake_in_bed_s = (time_in_bed_s - tst_s - gaps.total_s).max(0.0);
        let n_posture_spt = if ended_awake {
            c.posture_since_onset
                .saturating_sub(self.n_posture_after_last_wake)
        } else {
            c.posture_since_onset
        };
        let dominant = self.spectrum.finish();
        let q = |g: &GridQuantiles| -> (Option<f64>, Option<f64>) {
            let iqr = match (g.quantile(0.25), g.quantile(0.75)) {
                (Some(a), Some(b)) => Some(b - a),
                _ => None,
            };
            (g.quantile(0.5), iqr)
        };
        let (dur_med, dur_iqr) = q(&self.durations);
        let (imi_med, imi_iqr) = q(&self.imis);
        let m = NightMetrics {
            rule: self.cfg.rule,
            short_interval_may_start: self.cfg.short_interval_may_start,
            in_bed_start_s: self.in_bed_start_s,
            in_bed_end_s,
            time_in_bed_s,
            unrecorded_s: gaps.total_s,
            sleep_onset_s: self.first_onset_s,
            final_awakening_s: self.last_wake_s.filter(|_| self.first_onset_s.is_some()),
            sleep_period_s,
            total_sleep_time_s: tst_s,
            waso_s: (sleep_period_s - tst_s - unrecorded_spt_s).max(0.0),
            sleep_onset_latency_s: self.first_onset_s.map(|t| t - self.in_bed_start_s),
            wake_in_bed_s,
            n_sleep_bouts: self.n_bouts,
            n_lm: c.lm,
            n_lm_sleep: c.lm_sleep,
            lm_sleep_index_per_h: per_h(c.lm_sleep, tst_s),
            n_plm: c.plm,
            n_plms: c.plms,
            plms_index_per_h: per_h(c.plms, tst_s),
            n_plmw: c.plmw,
            plmw_index_per_h: per_h(c.plmw, wake_in_bed_s),
            n_plm_series: c.series,
            n_plms_left_only: c.plms_left,
            n_plms_right_only: c.plms_right,
            n_plms_bilateral: c.plms_both,
            n_clms: c.clms,
            clms_index_per_h: per_h(c.clms, tst_s),
            n_short_interval_sleep: c.short_sleep,
            short_interval_index_per_h: per_h(c.short_sleep, tst_s),
            n_isolated_sleep: c.isolated_sleep,
            isolated_index_per_h: per_h(c.isolated_sleep, tst_s),
            n_non_clm_sleep: c.non_clm_sleep,
            periodicity_index_ferri2006: ratio(c.imi_in_runs, c.imi_sleep),
            n_imi_in_periodic_runs: c.imi_in_runs,
            n_imi_sleep: c.imi_sleep,
            periodicity_index_plms_per_clms: ratio(c.plms, c.clms),
            imi_histogram: self.hist.clone(),
            plms_duration_median_s: dur_med,
            plms_duration_iqr_s: dur_iqr,
            imi_median_s: imi_med,
            imi_iqr_s: imi_iqr,
            n_hypnic_jerks: self.n_jerks,
            hypnic_jerks: self.jerks.clone(),
            n_posture_changes: c.posture,
            n_posture_changes_spt: n_posture_spt,
            posture_changes_per_h_spt: per_h(n_posture_spt, sleep_period_s),
            n_activity: c.activity,
            activity_s: self.activity_s,
            dominant_plm_period_s: dominant.map(|d| d.period_s),
            dominant_period: dominant,
        };
        self.reset();
        m
    }

    /// Forgets everything but the config and the start of time in bed.
    pub fn reset(&mut self) {
        self.asleep = false;
        self.bout_start_s = 0.0;
        self.tst_s = 0.0;
        self.n_bouts = 0;
        self.first_onset_s = None;
        self.last_wake_s = None;
        self.last_sleep_onset_s = None;
        self.prev_lm = None;
        self.prev_counted_onset_s = None;
        self.prev_lm_was_plm = false;
        self.last_series_id = None;
        self.c = Counts::default();
        self.hist = ImiHistogram::default();
        self.ferri_run = 0;
        self.durations.reset();
        self.imis.reset();
        self.spectrum.reset();
        self.jerks.clear();
        self.n_jerks = 0;
        self.activity_s = 0.0;
        self.n_posture_after_last_wake = 0;
        self.gaps = Unrecorded::NONE;
    }
}

/// True when an IMI (seconds) is inside Ferri 2006's fixed 10–90 s window, both ends
/// included within [`TIME_TOLERANCE_S`](crate::series::TIME_TOLERANCE_S) as in the series rules.
fn ferri_in_window(imi_s: f64) -> bool {
    at_least(imi_s, 10.0) && at_most(imi_s, 90.0)
}

/// Closes a run of in-window IMIs: runs of three or more count towards the Ferri PI.
fn close_ferri_run(run: &mut u32, c: &mut Counts) {
    if *run >= 3 {
        c.imi_in_runs = c.imi_in_runs.saturating_add(*run);
    }
    *run = 0;
}

/// `n` per hour of `seconds`; `None` when `seconds` is not positive.
fn per_h(n: u32, seconds: f64) -> Option<f64> {
    (seconds > 0.0).then(|| f64::from(n) * 3600.0 / seconds)
}

/// `a / b`; `None` when `b` is 0.
fn ratio(a: u32, b: u32) -> Option<f64> {
    (b > 0).then(|| f64::from(a) / f64::from(b))
}

/// The metrics of one night from whole lists: events (any order), sleep bouts and time in bed.
///
/// # Errors
/// When `cfg` fails [`SeriesConfig::validate`].
pub fn night_metrics(
    cfg: &SeriesConfig,
    events: &[Event],
    sleep: &[SleepBout],
    in_bed_start_s: f64,
    in_bed_end_s: f64,
) -> Result<NightMetrics, ConfigError> {
    let mut acc = NightAccumulator::new(cfg, in_bed_start_s)?;
    let mut bouts = sleep.to_vec();
    bouts.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut transitions: Vec<(f64, bool)> = Vec::with_capacity(2 * bouts.len());
    for b in &bouts {
        transitions.push((b.start_s, true));
        transitions.push((b.end_s, false));
    }
    let mut order: Vec<&Event> = events.iter().collect();
    order.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let mut next = transitions.iter().peekable();
    for e in order {
        while let Some(&&(t, onset)) = next.peek() {
            if t > e.onset_s {
                break;
            }
            if onset {
                acc.sleep_onset(t);
            } else {
                acc.wake(t);
            }
            next.next();
        }
        acc.event(e);
    }
    for &(t, onset) in next {
        if onset {
            acc.sleep_onset(t);
        } else {
            acc.wake(t);
        }
    }
    Ok(acc.finish(in_bed_end_s))
}

#[cfg(test)]
mod tests;
