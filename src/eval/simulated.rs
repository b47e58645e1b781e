//! The crate's detector on simulated nights, scored against their truth in memory.

use serde::{Deserialize, Serialize};

use super::night::{TruthConfig, TruthFlags, TruthInfo, TruthNight};
use super::{score_night, DetectedSleep, EvalConfig, NightScore};
use crate::sim::{Night, SimConfig};
use crate::{Config, Detector, Error, Event, Summary};

/// What one simulated night gave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulatedRun {
    /// The night's name (from its config).
    pub name: String,
    /// The detector's events.
    pub events: Vec<Event>,
    /// The detector's summary.
    pub summary: Summary,
    /// The score against the truth.
    pub score: NightScore,
}

/// The truth of a simulated night, as scoring reads it from files.
pub fn truth_night(night: &Night) -> TruthNight {
    let t = night.truth();
    TruthNight {
        events: t.event_list(),
        info: Some(TruthInfo {
            sleep_bouts: t.sleep_bouts.clone(),
            sleep_onsets_s: t.sleep_onsets_s.clone(),
            in_bed_start_s: t.in_bed_start_s,
            in_bed_end_s: t.in_bed_end_s,
            config: Some(TruthConfig {
                rule: Some(t.config.rule),
            }),
            metrics: Some(TruthFlags {
                lm_listed: Some(t.metrics.lm_listed),
            }),
        }),
    }
}

/// Plans the night of `sim`, runs a detector built from `config` over every sensor it wears
/// (in step, `chunk_len` samples at a time) and scores the events and the detected sleep.
///
/// # Errors
/// When the simulator or detector config is invalid, or the detector fails on a sample.
pub fn run_simulated(
    sim: &SimConfig,
    config: &Config,
    chunk_len: usize,
) -> Result<SimulatedRun, Error> {
    let night = Night::new(sim)?;
    let sites: Vec<_> = night.sites().iter().map(|s| (*s, sim.rate_hz)).collect();
    let mut detector = Detector::with_sites(config, &sites)?;
    let mut sources: Vec<_> = night
        .sites()
        .iter()
        .filter_map(|s| night.source(*s))
        .collect();
    let mut refs: Vec<&mut crate::sim::SimSource> = sources.iter_mut().collect();
    let mut events: Vec<Event> = Vec::new();
    let summary = detector.run(&mut refs, chunk_len, &mut events)?;
    let sleep = DetectedSleep {
        sleep_bouts: Some(summary.sleep_bouts.clone()),
        sleep_onsets_s: Some(summary.sleep_bouts.iter().map(|b| b.start_s).collect()),
    };
    let score = score_night(
        &truth_night(&night),
        &events,
        Some(&sleep),
        &EvalConfig::default(),
    )?;
    Ok(SimulatedRun {
        name: sim.name.clone(),
        events,
        summary,
        score,
    })
}
