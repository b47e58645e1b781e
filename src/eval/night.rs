//! A night's truth files and the night-level comparison of detected and true metrics.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{plm_error_causes, score_events, ClassScore, MatchConfig, PlmErrorCauses, ScoredClass};
use crate::event::SleepBout;
use crate::metrics::{night_metrics, NightMetrics};
use crate::series::ScoringRule;
use crate::{Error, ErrorKind, Event, SeriesConfig};

/// What the truth JSON says about the night (unknown fields are ignored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TruthInfo {
    /// Sleep bouts in time order.
    #[serde(default)]
    pub sleep_bouts: Vec<SleepBout>,
    /// Sleep onsets (first and re-onsets), in seconds.
    #[serde(default)]
    pub sleep_onsets_s: Vec<f64>,
    /// Start of time in bed, in seconds.
    pub in_bed_start_s: f64,
    /// End of time in bed, in seconds.
    pub in_bed_end_s: f64,
    /// The simulator's config, of which only the scoring rule is read.
    #[serde(default)]
    pub config: Option<TruthConfig>,
    /// The simulator's night figures, of which only `lm_listed` is read.
    #[serde(default)]
    pub metrics: Option<TruthFlags>,
}

/// The part of a truth file's config that scoring reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TruthConfig {
    /// The rule the truth's series were scored with.
    #[serde(default)]
    pub rule: Option<ScoringRule>,
}

/// The part of a truth file's night figures that scoring reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TruthFlags {
    /// False when the truth lists no leg movements (a wrist-only night): leg classes are
    /// then not scored.
    #[serde(default)]
    pub lm_listed: Option<bool>,
}

/// Sleep as a detector estimated it (`--summary`; unknown fields are ignored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectedSleep {
    /// Detected sleep bouts.
    #[serde(default)]
    pub sleep_bouts: Option<Vec<SleepBout>>,
    /// Detected sleep onsets, in seconds.
    #[serde(default)]
    pub sleep_onsets_s: Option<Vec<f64>>,
}

impl DetectedSleep {
    /// The first detected sleep onset: the first onset listed, else the first bout's start.
    pub fn first_onset_s(&self) -> Option<f64> {
        let from_onsets = self
            .sleep_onsets_s
            .as_ref()
            .and_then(|v| v.iter().copied().reduce(f64::min));
        let from_bouts = self
            .sleep_bouts
            .as_ref()
            .and_then(|v| v.iter().map(|b| b.start_s).reduce(f64::min));
        from_onsets.or(from_bouts)
    }
}

/// A night's truth: its events and what the JSON says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TruthNight {
    /// Truth events.
    pub events: Vec<Event>,
    /// Sleep, time in bed, rule (`None` when no truth JSON was found).
    pub info: Option<TruthInfo>,
}

impl TruthNight {
    /// Reads `truth_csv` and, when it exists, the truth JSON next to it
    /// (`night.truth.csv` → `night.truth.json`) or at `json` if given.
    ///
    /// # Errors
    /// When a file cannot be read or parsed; the error names the file (and line for CSV).
    pub fn load(truth_csv: &Path, json: Option<&Path>) -> Result<Self, Error> {
        let events = crate::io::read_events(truth_csv)?;
        let default_json = truth_csv.with_extension("json");
        let json_path = match json {
            Some(p) => Some(p.to_path_buf()),
            None => default_json.exists().then_some(default_json),
        };
        let info = json_path.map(|p| read_json::<TruthInfo>(&p)).transpose()?;
        Ok(TruthNight { events, info })
    }

    /// True when leg-movement classes can be scored (the truth lists leg movements).
    pub fn lm_listed(&self) -> bool {
        self.info
            .as_ref()
            .and_then(|i| i.metrics)
            .and_then(|m| m.lm_listed)
            .unwrap_or(true)
    }

    /// The rule the truth was scored with (WASM 2016 when not said).
    pub fn rule(&self) -> ScoringRule {
        self.info
            .as_ref()
            .and_then(|i| i.config)
            .and_then(|c| c.rule)
            .unwrap_or_default()
    }
}

/// Reads a JSON file into `T`, naming the file in errors.
///
/// # Errors
/// When the file cannot be read or does not parse as `T`.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::from(e).in_file(path))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::at(
            ErrorKind::Other(format!("json: {e}")),
            crate::Position::line(u64::try_from(e.line()).unwrap_or(0)),
        )
        .in_file(path)
    })
}

/// Night-level comparison of detected and true metrics. Errors are detected − truth.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NightErrors {
    /// PLMs in the truth, sleep and wake.
    pub truth_n_plm: u32,
    /// PLMs detected.
    pub detected_n_plm: u32,
    /// `detected_n_plm − truth_n_plm`.
    pub plm_count_error: i64,
    /// True PLMS index, per hour of sleep.
    pub truth_plms_index_per_h: Option<f64>,
    /// Detected PLMS index, per hour of sleep.
    pub detected_plms_index_per_h: Option<f64>,
    /// Detected − true PLMS index, per hour.
    pub plms_index_error_per_h: Option<f64>,
    /// Detected − true Ferri 2006 periodicity index.
    pub periodicity_index_ferri2006_error: Option<f64>,
    /// Detected − true PLMS/CLMS periodicity index.
    pub periodicity_index_plms_per_clms_error: Option<f64>,
    /// Earth mover's distance between the IMI histograms, in seconds.
    pub imi_histogram_emd_s: Option<f64>,
    /// Total variation distance between the IMI histograms, 0 to 1.
    pub imi_histogram_tv: Option<f64>,
    /// Detected − true first sleep onset, in seconds (`None` without detected sleep).
    pub sleep_onset_error_s: Option<f64>,
    /// Where the detected metrics' sleep came from: `detector` or `truth`.
    pub sleep_from: String,
}

/// The score of one night.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NightScore {
    /// Per class, keyed by class name; leg classes are absent when the truth lists no leg
    /// movements.
    #[serde(flatten)]
    pub classes: BTreeMap<String, ClassScore>,
    /// Night-level errors (absent without a truth JSON).
    #[serde(default)]
    pub night: Option<NightErrors>,
    /// The PLM errors by the leg-movement discrepancy nearest each (see
    /// [`plm_error_causes`]); absent when the truth lists no leg movements.
    #[serde(default)]
    pub plm_errors: Option<PlmErrorCauses>,
}

/// Settings of a scoring run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvalConfig {
    /// Matching tolerances.
    pub matching: MatchConfig,
    /// Series rules for the night metrics; `None` takes the preset of the truth's rule.
    pub series: Option<SeriesConfig>,
}

/// Scores detected events (and optionally detected sleep) against a night's truth.
///
/// Night-level metrics of the detection use the detector's sleep bouts when given, else the
/// truth's — then the index errors reflect the events alone and there is no sleep-onset
/// error.
///
/// # Errors
/// When the series config fails validation.
pub fn score_night(
    truth: &TruthNight,
    detected: &[Event],
    sleep: Option<&DetectedSleep>,
    cfg: &EvalConfig,
) -> Result<NightScore, Error> {
    let classes: Vec<ScoredClass> = ScoredClass::ALL
        .into_iter()
        .filter(|c| truth.lm_listed() || !c.is_leg())
        .collect();
    let scores = score_events(&truth.events, detected, &classes, &cfg.matching);
    let night = match &truth.info {
        Some(info) => Some(night_errors(truth, info, detected, sleep, cfg)?),
        None => None,
    };
    let series = cfg
        .series
        .clone()
        .unwrap_or_else(|| SeriesConfig::for_rule(truth.rule()));
    let plm_errors = truth
        .lm_listed()
        .then(|| plm_error_causes(&truth.events, detected, &series, &cfg.matching));
    Ok(NightScore {
        classes: scores,
        night,
        plm_errors,
    })
}

fn night_errors(
    truth: &TruthNight,
    info: &TruthInfo,
    detected: &[Event],
    sleep: Option<&DetectedSleep>,
    cfg: &EvalConfig,
) -> Result<NightErrors, Error> {
    let series = cfg
        .series
        .clone()
        .unwrap_or_else(|| SeriesConfig::for_rule(truth.rule()));
    let metrics = |events: &[Event], bouts: &[SleepBout]| -> Result<NightMetrics, Error> {
        Ok(night_metrics(
            &series,
            events,
            bouts,
            info.in_bed_start_s,
            info.in_bed_end_s,
        )?)
    };
    let t = metrics(&truth.events, &info.sleep_bouts)?;
    let det_bouts = sleep.and_then(|s| s.sleep_bouts.as_deref());
    let d = metrics(detected, det_bouts.unwrap_or(&info.sleep_bouts))?;
    let truth_onset = info
        .sleep_onsets_s
        .iter()
        .copied()
        .reduce(f64::min)
        .or(t.sleep_onset_s);
    let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a - b);
    Ok(NightErrors {
        truth_n_plm: t.n_plm,
        detected_n_plm: d.n_plm,
        plm_count_error: i64::from(d.n_plm) - i64::from(t.n_plm),
        truth_plms_index_per_h: t.plms_index_per_h,
        detected_plms_index_per_h: d.plms_index_per_h,
        plms_index_error_per_h: diff(d.plms_index_per_h, t.plms_index_per_h),
        periodicity_index_ferri2006_error: diff(
            d.periodicity_index_ferri2006,
            t.periodicity_index_ferri2006,
        ),
        periodicity_index_plms_per_clms_error: diff(
            d.periodicity_index_plms_per_clms,
            t.periodicity_index_plms_per_clms,
        ),
        imi_histogram_emd_s: d.imi_histogram.emd_s(&t.imi_histogram),
        imi_histogram_tv: d.imi_histogram.total_variation(&t.imi_histogram),
        sleep_onset_error_s: diff(sleep.and_then(DetectedSleep::first_onset_s), truth_onset),
        sleep_from: if det_bouts.is_some() {
            "detector".into()
        } else {
            "truth".into()
        },
    })
}
