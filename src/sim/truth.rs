//! The night's ground truth: every event with its class, the sleep schedule, the sensors'
//! true calibration, and night metrics, as the scoring rule makes them from the plan.
//!
//! PLM membership is never planned: the visible legs' movements go through the scoring
//! rule (`crate::series`, WASM 2016 by default) exactly as a scorer would take EMG-scored
//! movements: per-leg movements, then the bilateral merge when both legs are worn, then the
//! series walk.

use std::fmt::Write as _;
use std::io::Write;

use serde::{Deserialize, Serialize};

use super::body::Limb;
use super::config::{Layout, SimConfig};
use super::plan::{scored_legs, worn, LmPlan, OtherKind, Plan};
use super::sensor::ticks;
use crate::event::SleepBout;
use crate::series;
use crate::{Error, Event, Kind, Site, Sites};

/// The site name a limb is written under in a layout.
pub(crate) fn site_of(layout: Layout, limb: Limb) -> Site {
    match (layout, limb) {
        (Layout::Ankle, _) => Site::Ankle,
        (Layout::Wrist, _) => Site::Wrist,
        (Layout::Bilateral, Limb::LeftLeg) => Site::LeftAnkle,
        (Layout::Bilateral, Limb::RightLeg) => Site::RightAnkle,
        (Layout::Bilateral, Limb::Wrist) => Site::Wrist,
    }
}

/// The limb behind a site of a layout, if the layout wears it.
pub(crate) fn limb_of(layout: Layout, site: Site) -> Option<Limb> {
    match (layout, site) {
        (Layout::Ankle, Site::Ankle) => Some(Limb::RightLeg),
        (Layout::Wrist, Site::Wrist) => Some(Limb::Wrist),
        (Layout::Bilateral, Site::LeftAnkle) => Some(Limb::LeftLeg),
        (Layout::Bilateral, Site::RightAnkle) => Some(Limb::RightLeg),
        (Layout::Bilateral, Site::Wrist) => Some(Limb::Wrist),
        _ => None,
    }
}

/// A scored leg movement with the planned movements it is made of.
#[derive(Clone, Debug)]
pub(crate) struct ScoredLm {
    pub onset_s: f64,
    pub offset_s: f64,
    pub sites: Sites,
    pub is_clm: bool,
    pub class: series::LmClass,
    pub series_id: Option<u32>,
    pub imi_s: Option<f64>,
    /// Planned units inside it.
    pub units: Vec<u32>,
    pub amp_g: f64,
    pub angle_deg: f64,
    pub triple: bool,
    pub plantar: bool,
    /// Some planned movement in it moved both legs.
    pub bilateral: bool,
}

/// Scores the planned movements of the legs in `legs` (a limb mask).
pub(crate) fn score_legs(cfg: &SimConfig, lms: &[LmPlan], legs: u8) -> Vec<ScoredLm> {
    let sc = series::SeriesConfig::for_rule(cfg.rule);
    let per_leg = |limb: Limb| {
        let spans: Vec<(f64, f64)> = lms
            .iter()
            .filter(|l| l.limb == limb)
            .map(|l| (l.onset_s, l.offset_s))
            .collect();
        series::monolateral(&sc, &spans, site_of(cfg.layout, limb))
    };
    let merged = if legs == Limb::LeftLeg.bit() | Limb::RightLeg.bit() {
        series::merge_bilateral(&sc, &per_leg(Limb::LeftLeg), &per_leg(Limb::RightLeg))
    } else if legs == Limb::LeftLeg.bit() {
        per_leg(Limb::LeftLeg)
    } else {
        per_leg(Limb::RightLeg)
    };
    let scored = series::score(&sc, &merged);
    let mut out: Vec<ScoredLm> = scored
        .iter()
        .map(|s| ScoredLm {
            onset_s: s.lm.onset_s,
            offset_s: s.lm.offset_s,
            sites: s.lm.sites,
            is_clm: s.lm.is_clm,
            class: s.class,
            series_id: s.series_id,
            imi_s: s.imi_s,
            units: Vec::new(),
            amp_g: 0.0,
            angle_deg: 0.0,
            triple: false,
            plantar: false,
            bilateral: false,
        })
        .collect();
    out.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    for l in lms.iter().filter(|l| legs & l.limb.bit() != 0) {
        // The scored movement that contains this planned one: the last with onset ≤ it.
        let k = out.partition_point(|s| s.onset_s <= l.onset_s);
        if let Some(s) = k.checked_sub(1).and_then(|i| out.get_mut(i)) {
            if l.offset_s <= s.offset_s + 1e-9 {
                if !s.units.contains(&l.unit) {
                    s.units.push(l.unit);
                }
                s.amp_g = s.amp_g.max(l.amp_g);
                s.angle_deg = s.angle_deg.max(l.angle_deg);
                s.triple |= l.triple;
                s.plantar |= l.plantar;
                s.bilateral |= l.bilateral;
            }
        }
    }
    out
}

/// One row of the truth: an event and what the simulator knows about it.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthEvent {
    /// The event: times on the written files' clock, kind, sites, and for leg movements the
    /// scorer's `series_id` and `imi_s`; `peak_g` is the planned amplitude and `angle_deg`
    /// the planned change of gravity direction (posture changes) or limb rotation (leg
    /// movements).
    pub event: Event,
    /// Subtype tags joined by `+`: for leg movements the scored class (`plm`,
    /// `short_interval`, `isolated`, `non_clm`), `bilateral` or `one_sided` (as planned),
    /// `triple_flexion`, `plantar_end`; otherwise `sleep_onset`, `fidget`, `out_of_bed`,
    /// `twitch`, `tremor_train`, `alma`, or the posture change's `from_to_to` positions.
    pub detail: String,
    /// True when the onset falls in a sleep bout.
    pub in_sleep: bool,
}

/// A stretch of time, in seconds on the written files' clock.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Start, in seconds.
    pub start_s: f64,
    /// End, in seconds.
    pub end_s: f64,
}

/// What one simulated sensor really did to the signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorTruth {
    /// The site, as in the file name.
    pub site: Site,
    /// File name written for it.
    pub file: String,
    /// Per-axis offset error, in g: measured = gain × true + offset + drift + noise.
    pub offset_g: [f64; 3],
    /// Per-axis gain (1 = exact).
    pub gain: [f64; 3],
    /// Per-axis offset drift reached at full warming, in g.
    pub drift_g: [f64; 3],
    /// White noise per axis, standard deviation in mg.
    pub noise_mg: f64,
    /// Quantisation step, in g.
    pub step_g: f64,
    /// Clipping limit, ± in g.
    pub range_g: f64,
    /// True sample rate (nominal × clock error), in Hz.
    pub true_rate_hz: f64,
    /// Time of the first sample before jitter and rounding, in seconds on the files' clock.
    pub first_sample_s: f64,
    /// Stretches without samples, in seconds on the files' clock.
    pub gaps: Vec<Interval>,
}

/// Night-level figures of the truth (what a perfect detector would report; compare
/// [`crate::NightMetrics`], which detectors and the evaluation compute from events).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TruthMetrics {
    /// Length of the recording, in seconds.
    pub recording_s: f64,
    /// Time in bed (lights out to getting up, trips out of bed excluded), in seconds.
    pub time_in_bed_s: f64,
    /// Total sleep time, in seconds.
    pub total_sleep_s: f64,
    /// Sleep period: first sleep onset to last awakening, in seconds.
    pub sleep_period_s: f64,
    /// Sleep onset latency: getting into bed to the first sleep onset, in seconds.
    pub sleep_onset_latency_s: f64,
    /// Wake after sleep onset, within the sleep period, in seconds.
    pub waso_s: f64,
    /// Wake in bed (time in bed minus sleep), in seconds.
    pub wake_in_bed_s: f64,
    /// Which legs the leg-movement truth is scored from (`ankle`, or both ankles).
    pub lm_scored_from: String,
    /// Whether the leg movements are listed in the truth CSV (not for a wrist night).
    pub lm_listed: bool,
    /// Leg movements (after per-leg and bilateral merging).
    pub n_lm: u32,
    /// Planned monolateral movements of the left leg (seen or not).
    pub n_lm_left: u32,
    /// Planned monolateral movements of the right leg (seen or not).
    pub n_lm_right: u32,
    /// Candidate leg movements.
    pub n_clm: u32,
    /// Candidate leg movements with onset in sleep.
    pub n_clms: u32,
    /// Periodic leg movements.
    pub n_plm: u32,
    /// Periodic leg movements in sleep.
    pub n_plms: u32,
    /// Periodic leg movements in wake.
    pub n_plmw: u32,
    /// Short-interval candidate movements.
    pub n_short_interval: u32,
    /// Isolated candidate movements.
    pub n_isolated: u32,
    /// Movements too long (or too composite) to be candidates.
    pub n_non_clm: u32,
    /// Periodic series.
    pub n_series: u32,
    /// PLMS per hour of sleep.
    pub plmsi_per_h: f64,
    /// PLMW per hour of wake in bed.
    pub plmwi_per_h: f64,
    /// CLM in sleep per hour of sleep.
    pub clmsi_per_h: f64,
    /// Periodicity index as PLMS / CLMS (0 when there is no CLMS).
    pub periodicity_index: f64,
    /// Hypnic jerks.
    pub n_hypnic_jerks: u32,
    /// Posture changes.
    pub n_posture_changes: u32,
    /// Posture changes per hour in bed.
    pub posture_changes_per_h: f64,
    /// Activity events (fidgets in bed and stretches out of bed).
    pub n_activity: u32,
    /// Visible myoclonic twitches on the worn sites.
    pub n_twitches: u32,
    /// Foot tremor trains on the worn sites.
    pub n_tremor_trains: u32,
    /// ALMA sequences on the worn sites.
    pub n_alma: u32,
    /// Steps the planner took to bring the PLMS index into the severity range.
    pub severity_repair_steps: u32,
}

/// A simulated night's ground truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// The config the night came from.
    pub config: SimConfig,
    /// Clock of the files: seconds added to every time (0, or the Unix start).
    pub clock_start_s: f64,
    /// Getting into bed, in seconds on the files' clock.
    pub in_bed_start_s: f64,
    /// Getting up for the day, in seconds on the files' clock.
    pub in_bed_end_s: f64,
    /// Stretches out of bed (before, during and after the night).
    pub out_of_bed: Vec<Interval>,
    /// Sleep bouts in time order.
    pub sleep_bouts: Vec<SleepBout>,
    /// Sleep onsets (first and re-onsets), in seconds on the files' clock.
    pub sleep_onsets_s: Vec<f64>,
    /// Night metrics.
    pub metrics: TruthMetrics,
    /// What each sensor did.
    pub sensors: Vec<SensorTruth>,
    /// The events, sorted by onset (written to the truth CSV, not the JSON).
    #[serde(skip)]
    pub events: Vec<TruthEvent>,
}

impl Truth {
    /// The events alone, sorted by onset.
    pub fn event_list(&self) -> Vec<Event> {
        self.events.iter().map(|e| e.event).collect()
    }

    /// Total sleep time, in seconds.
    pub fn total_sleep_s(&self) -> f64 {
        self.sleep_bouts.iter().map(SleepBout::duration_s).sum()
    }

    /// True when `t_s` (files' clock) falls in a sleep bout.
    pub fn in_sleep(&self, t_s: f64) -> bool {
        self.sleep_bouts.iter().any(|b| b.contains(t_s))
    }

    /// Builds the truth of a plan.
    pub(crate) fn from_plan(plan: &Plan) -> Truth {
        let cfg = &plan.cfg;
        let layout = cfg.layout;
        let tick = 10f64.powi(cfg.sensor.time_decimals as i32);
        let clock_ms = cfg
            .sensor
            .epoch_start_s
            .map_or(0, |t| ticks((t * tick).round() / tick, 1000.0));
        let clock_start_s = clock_ms as f64 / 1000.0;
        // Planned times sit on a 1 ms grid: shift them by whole milliseconds so the f64s
        // are the correctly rounded values of the printed decimals.
        let at = |t: f64| (ticks(t, 1000.0) + clock_ms) as f64 / 1000.0;
        let sleep_bouts: Vec<SleepBout> = plan
            .sleep
            .iter()
            .map(|&(a, b)| SleepBout {
                start_s: at(a),
                end_s: at(b),
            })
            .collect();
        let in_sleep_rel = |t: f64| plan.sleep.iter().any(|&(a, b)| t >= a && t < b);
        let worn = worn(layout);
        let sites_of = |mask: u8| {
            Limb::ALL
                .iter()
                .filter(|l| mask & worn & l.bit() != 0)
                .fold(Sites::NONE, |s, l| s.with(site_of(layout, *l)))
        };
        let first_limb = Limb::ALL
            .into_iter()
            .find(|l| worn & l.bit() != 0)
            .unwrap_or(Limb::RightLeg);
        let mut events: Vec<TruthEvent> = Vec::new();
        let mut m = TruthMetrics::default();
        let lm_listed = layout != Layout::Wrist;
        for s in &plan.scored {
            let is_plm = s.series_id.is_some();
            let sleep = in_sleep_rel(s.onset_s);
            m.n_lm += 1;
            if s.is_clm {
                m.n_clm += 1;
                if sleep {
                    m.n_clms += 1;
                }
            }
            let class = match s.class {
                series::LmClass::Plm => "plm",
                series::LmClass::ShortInterval => "short_interval",
                series::LmClass::Isolated => "isolated",
                series::LmClass::NonClm => "non_clm",
            };
            match s.class {
                series::LmClass::Plm => {
                    m.n_plm += 1;
                    if sleep {
                        m.n_plms += 1;
                    } else {
                        m.n_plmw += 1;
                    }
                }
                series::LmClass::ShortInterval => m.n_short_interval += 1,
                series::LmClass::Isolated => m.n_isolated += 1,
                series::LmClass::NonClm => m.n_non_clm += 1,
            }
            if let Some(id) = s.series_id {
                m.n_series = m.n_series.max(id);
            }
            if !lm_listed {
                continue;
            }
            let mut detail = class.to_string();
            detail.push_str(if s.bilateral {
                "+bilateral"
            } else {
                "+one_sided"
            });
            if s.triple {
                detail.push_str("+triple_flexion");
            }
            if s.plantar {
                detail.push_str("+plantar_end");
            }
            let mut e = Event::new(
                at(s.onset_s),
                at(s.offset_s),
                if is_plm { Kind::Plm } else { Kind::Lm },
            );
            e.sites = s.sites;
            e.series_id = s.series_id;
            e.imi_s = s.imi_s.map(|x| (x * 1000.0).round() / 1000.0);
            e.peak_g = s.amp_g;
            e.angle_deg = s.angle_deg;
            events.push(TruthEvent {
                event: e,
                detail,
                in_sleep: sleep,
            });
        }
        for o in &plan.others {
            let sites = sites_of(o.limbs);
            if sites.is_empty() {
                continue;
            }
            let kind = match o.kind {
                OtherKind::Jerk => {
                    m.n_hypnic_jerks += 1;
                    Kind::HypnicJerk
                }
                OtherKind::Posture => {
                    m.n_posture_changes += 1;
                    Kind::PostureChange
                }
                OtherKind::Fidget | OtherKind::OutOfBed => {
                    m.n_activity += 1;
                    Kind::Activity
                }
                OtherKind::Twitch => {
                    m.n_twitches += 1;
                    Kind::Other
                }
                OtherKind::Tremor => {
                    m.n_tremor_trains += 1;
                    Kind::Other
                }
                OtherKind::Alma => {
                    m.n_alma += 1;
                    Kind::Other
                }
            };
            let mut e = Event::new(at(o.onset_s), at(o.offset_s), kind);
            e.sites = sites;
            e.peak_g = Limb::ALL
                .iter()
                .filter(|l| o.limbs & worn & l.bit() != 0)
                .map(|l| o.amp_g[l.idx()])
                .fold(0.0, f64::max);
            e.angle_deg = o.angle_deg[first_limb.idx()];
            events.push(TruthEvent {
                event: e,
                detail: o.detail.clone(),
                in_sleep: in_sleep_rel(o.onset_s),
            });
        }
        events.sort_by(|a, b| {
            a.event
                .onset_s
                .total_cmp(&b.event.onset_s)
                .then(a.event.kind.cmp(&b.event.kind))
        });
        let (bed0, bed1) = plan.in_bed;
        let trips: f64 = plan
            .out_of_bed
            .iter()
            .filter(|&&(a, b)| a >= bed0 && b <= bed1)
            .map(|(a, b)| b - a)
            .sum();
        let tst: f64 = plan.sleep.iter().map(|(a, b)| b - a).sum();
        m.recording_s = plan.duration_s;
        m.time_in_bed_s = bed1 - bed0 - trips;
        m.total_sleep_s = tst;
        let (first, last) = (
            plan.sleep.first().map_or(bed0, |s| s.0),
            plan.sleep.last().map_or(bed0, |s| s.1),
        );
        m.sleep_period_s = last - first;
        m.sleep_onset_latency_s = first - bed0;
        m.waso_s = m.sleep_period_s - tst;
        m.wake_in_bed_s = m.time_in_bed_s - tst;
        m.lm_scored_from = if scored_legs(layout) == Limb::RightLeg.bit() {
            "ankle".into()
        } else {
            "left_ankle+right_ankle".into()
        };
        m.lm_listed = lm_listed;
        let per_h = |n: u32, s: f64| {
            if s > 0.0 {
                f64::from(n) * 3600.0 / s
            } else {
                0.0
            }
        };
        m.plmsi_per_h = per_h(m.n_plms, tst);
        m.plmwi_per_h = per_h(m.n_plmw, m.wake_in_bed_s);
        m.clmsi_per_h = per_h(m.n_clms, tst);
        m.periodicity_index = if m.n_clms > 0 {
            f64::from(m.n_plms) / f64::from(m.n_clms)
        } else {
            0.0
        };
        m.posture_changes_per_h = per_h(m.n_posture_changes, m.time_in_bed_s);
        m.severity_repair_steps = plan.repair_steps;
        for l in &plan.lms {
            match l.limb {
                Limb::LeftLeg => m.n_lm_left += 1,
                _ => m.n_lm_right += 1,
            }
        }
        let rate = cfg.rate_hz * (1.0 + cfg.sensor.rate_error_ppm * 1e-6);
        let sensors = layout
            .sites()
            .iter()
            .filter_map(|&site| {
                let limb = limb_of(layout, site)?;
                let t = &plan.tracks[limb.idx()];
                Some(SensorTruth {
                    site,
                    file: file_name(layout, site),
                    offset_g: t.calib.offset_g,
                    gain: t.calib.gain,
                    drift_g: t.calib.drift_g,
                    noise_mg: cfg.noise_mg(),
                    step_g: cfg.sensor.step_g(),
                    range_g: cfg.sensor.range_g,
                    true_rate_hz: rate,
                    first_sample_s: clock_start_s + t.calib.phase_s,
                    gaps: t
                        .gaps
                        .iter()
                        .map(|&(a, b)| Interval {
                            start_s: at(a),
                            end_s: at(b),
                        })
                        .collect(),
                })
            })
            .collect();
        Truth {
            config: cfg.clone(),
            clock_start_s,
            in_bed_start_s: at(bed0),
            in_bed_end_s: at(bed1),
            out_of_bed: plan
                .out_of_bed
                .iter()
                .map(|&(a, b)| Interval {
                    start_s: at(a),
                    end_s: at(b),
                })
                .collect(),
            sleep_bouts,
            sleep_onsets_s: plan.onsets.iter().map(|&t| at(t)).collect(),
            metrics: m,
            sensors,
            events,
        }
    }

    /// Writes the truth CSV: `onset_s,offset_s,kind,sites,series_id,imi_s,in_sleep,detail,
    /// amplitude_g,angle_deg`, one row per event in onset order; times with 3 decimals
    /// (exact: truth times sit on a 1 ms grid).
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_csv(&self, mut w: impl Write) -> Result<(), Error> {
        let mut s = String::with_capacity(64 * (self.events.len() + 1));
        s.push_str(
            "onset_s,offset_s,kind,sites,series_id,imi_s,in_sleep,detail,amplitude_g,angle_deg\n",
        );
        for te in &self.events {
            let e = &te.event;
            let series = e.series_id.map(|x| x.to_string()).unwrap_or_default();
            let imi = e.imi_s.map(|x| format!("{x:.3}")).unwrap_or_default();
            // Writing to a String cannot fail.
            let _ = writeln!(
                s,
                "{:.3},{:.3},{},{},{},{},{},{},{:.4},{:.2}",
                e.onset_s,
                e.offset_s,
                e.kind,
                e.sites,
                series,
                imi,
                u8::from(te.in_sleep),
                te.detail,
                e.peak_g,
                e.angle_deg
            );
        }
        w.write_all(s.as_bytes())?;
        Ok(())
    }

    /// Writes the truth JSON (everything but the events).
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_json(&self, mut w: impl Write) -> Result<(), Error> {
        let j = serde_json::to_string_pretty(self)
            .map_err(|e| Error::new(crate::ErrorKind::Other(format!("truth json: {e}"))))?;
        w.write_all(j.as_bytes())?;
        w.write_all(b"\n")?;
        Ok(())
    }
}

/// The file name a site's samples are written to.
pub fn file_name(layout: Layout, site: Site) -> String {
    match layout {
        Layout::Bilateral => format!("night.{}.csv", site.as_str()),
        Layout::Ankle | Layout::Wrist => "night.csv".to_string(),
    }
}
