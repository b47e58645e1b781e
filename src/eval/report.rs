//! Many nights: pooled scores, the text table, and running a detector over a directory.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::night::{score_night, DetectedSleep, EvalConfig, NightErrors, NightScore, TruthNight};
use super::{ClassScore, PlmErrorCauses, ScoredClass};
use crate::{Collect, Detect, Error, ErrorKind, Event, Sample, Source};

/// Mean and mean absolute value of one night-level error over the nights that have it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorSummary {
    /// Nights with a value.
    pub n_nights: u32,
    /// Mean of the signed errors.
    pub mean: Option<f64>,
    /// Mean of the absolute errors.
    pub mean_abs: Option<f64>,
}

impl ErrorSummary {
    fn of(values: impl Iterator<Item = f64>) -> Self {
        let (mut n, mut sum, mut sum_abs) = (0u32, 0.0, 0.0);
        for v in values {
            n += 1;
            sum += v;
            sum_abs += v.abs();
        }
        let mean = |s: f64| (n > 0).then(|| s / f64::from(n));
        ErrorSummary {
            n_nights: n,
            mean: mean(sum),
            mean_abs: mean(sum_abs),
        }
    }
}

/// Night-level errors pooled over nights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PooledErrors {
    /// PLM count error (detected − truth).
    pub plm_count_error: ErrorSummary,
    /// PLMS index error, per hour.
    pub plms_index_error_per_h: ErrorSummary,
    /// Ferri 2006 periodicity-index error.
    pub periodicity_index_ferri2006_error: ErrorSummary,
    /// PLMS/CLMS periodicity-index error.
    pub periodicity_index_plms_per_clms_error: ErrorSummary,
    /// IMI histogram earth mover's distance, in seconds (always ≥ 0: mean = mean_abs).
    pub imi_histogram_emd_s: ErrorSummary,
    /// Sleep-onset error, in seconds.
    pub sleep_onset_error_s: ErrorSummary,
}

/// Scores of many nights: each night, and pooled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Class scores with every night's counts added.
    pub pooled: BTreeMap<String, ClassScore>,
    /// Night-level errors over the nights.
    pub pooled_night: PooledErrors,
    /// Each night's score, by name.
    pub nights: BTreeMap<String, NightScore>,
    /// The nights' PLM errors by cause, added up.
    #[serde(default)]
    pub plm_errors: PlmErrorCauses,
}

impl Report {
    /// Builds the report of named night scores (pooling their counts and errors).
    pub fn new(nights: BTreeMap<String, NightScore>) -> Self {
        let mut pooled: BTreeMap<String, ClassScore> = BTreeMap::new();
        for s in nights.values() {
            for (name, c) in &s.classes {
                let e = pooled
                    .entry(name.clone())
                    .or_insert_with(|| ClassScore::from_counts(0, 0, 0));
                *e = e.pooled_with(c);
            }
        }
        let errs: Vec<&NightErrors> = nights.values().filter_map(|s| s.night.as_ref()).collect();
        let of = |f: &dyn Fn(&NightErrors) -> Option<f64>| {
            ErrorSummary::of(errs.iter().filter_map(|e| f(e)))
        };
        let pooled_night = PooledErrors {
            plm_count_error: of(&|e| Some(e.plm_count_error as f64)),
            plms_index_error_per_h: of(&|e| e.plms_index_error_per_h),
            periodicity_index_ferri2006_error: of(&|e| e.periodicity_index_ferri2006_error),
            periodicity_index_plms_per_clms_error: of(&|e| e.periodicity_index_plms_per_clms_error),
            imi_histogram_emd_s: of(&|e| e.imi_histogram_emd_s),
            sleep_onset_error_s: of(&|e| e.sleep_onset_error_s),
        };
        let plm_errors = PlmErrorCauses::sum(nights.values().filter_map(|s| s.plm_errors.as_ref()));
        Report {
            pooled,
            pooled_night,
            nights,
            plm_errors,
        }
    }
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

/// The class table shared by both reports: a header, then one row per class present.
fn write_class_table(
    f: &mut fmt::Formatter<'_>,
    classes: &BTreeMap<String, ClassScore>,
) -> fmt::Result {
    writeln!(
        f,
        "{:<16} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7} {:>10}",
        "class", "precision", "recall", "f1", "tp", "fp", "fn", "within %"
    )?;
    for c in ScoredClass::ALL {
        if let Some(s) = classes.get(c.as_str()) {
            // Matched events with both boundaries within the matching tolerance.
            let within = s.boundaries.share_within().map(|x| 100.0 * x);
            writeln!(
                f,
                "{:<16} {:>9.3} {:>9.3} {:>9.3} {:>7} {:>7} {:>7} {:>10}",
                c.as_str(),
                s.precision,
                s.recall,
                s.f1,
                s.tp,
                s.fp,
                s.fn_,
                opt(within, 1)
            )?;
        }
    }
    Ok(())
}

/// The PLM errors by cause, most first; nothing when there are none.
fn write_causes(f: &mut fmt::Formatter<'_>, causes: &PlmErrorCauses) -> fmt::Result {
    if causes.total() == 0 {
        return Ok(());
    }
    writeln!(
        f,
        "\nPLM errors by nearest leg-movement discrepancy   false neg  false pos"
    )?;
    for (cause, fn_, fp) in causes.rows() {
        writeln!(f, "{cause:<46} {fn_:>10} {fp:>10}")?;
    }
    Ok(())
}

impl fmt::Display for Report {
    /// A plain-text table: pooled class scores, pooled night errors, then one line per night.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} night(s), pooled", self.nights.len())?;
        write_class_table(f, &self.pooled)?;
        let p = &self.pooled_night;
        writeln!(
            f,
            "\nnight-level error (detected - truth)   mean   mean |.|  nights"
        )?;
        for (name, e, d) in [
            ("PLM count", &p.plm_count_error, 1),
            ("PLMS index (/h)", &p.plms_index_error_per_h, 2),
            ("PI Ferri 2006", &p.periodicity_index_ferri2006_error, 3),
            ("PI PLMS/CLMS", &p.periodicity_index_plms_per_clms_error, 3),
            ("IMI histogram EMD (s)", &p.imi_histogram_emd_s, 2),
            ("sleep onset (s)", &p.sleep_onset_error_s, 1),
        ] {
            writeln!(
                f,
                "{:<36} {:>7} {:>9} {:>7}",
                name,
                opt(e.mean, d),
                opt(e.mean_abs, d),
                e.n_nights
            )?;
        }
        write_causes(f, &self.plm_errors)?;
        writeln!(
            f,
            "\n{:<24} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7}",
            "night", "plm f1", "lm f1", "PLMSI", "PLMSI det", "PI err", "onset"
        )?;
        for (name, s) in &self.nights {
            let f1 = |c: &str| opt(s.classes.get(c).map(|x| x.f1), 3);
            let n = s.night.as_ref();
            writeln!(
                f,
                "{:<24} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7}",
                name,
                f1("plm"),
                f1("lm"),
                opt(n.and_then(|n| n.truth_plms_index_per_h), 2),
                opt(n.and_then(|n| n.detected_plms_index_per_h), 2),
                opt(n.and_then(|n| n.periodicity_index_plms_per_clms_error), 3),
                opt(n.and_then(|n| n.sleep_onset_error_s), 1),
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for NightScore {
    /// A plain-text table: class scores, then the night-level errors when known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_class_table(f, &self.classes)?;
        if let Some(c) = &self.plm_errors {
            write_causes(f, c)?;
        }
        let Some(n) = &self.night else {
            return writeln!(f, "\n(no truth JSON: night-level errors not computed)");
        };
        writeln!(
            f,
            "\nnight level                     truth  detected     error"
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>9} {:>9}",
            "PLM count", n.truth_n_plm, n.detected_n_plm, n.plm_count_error
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>9} {:>9}",
            "PLMS index (/h)",
            opt(n.truth_plms_index_per_h, 2),
            opt(n.detected_plms_index_per_h, 2),
            opt(n.plms_index_error_per_h, 2)
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>9} {:>9}",
            "PI Ferri 2006",
            "",
            "",
            opt(n.periodicity_index_ferri2006_error, 3)
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>9} {:>9}",
            "PI PLMS/CLMS",
            "",
            "",
            opt(n.periodicity_index_plms_per_clms_error, 3)
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>9} {:>9}",
            "IMI histogram EMD (s)",
            "",
            "",
            opt(n.imi_histogram_emd_s, 2)
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>9} {:>9}",
            "sleep onset (s)",
            "",
            "",
            opt(n.sleep_onset_error_s, 1)
        )?;
        writeln!(f, "(detected indices use sleep from the {})", n.sleep_from)
    }
}

/// Runs a [`Detect`] over a whole [`Source`], in chunks of `chunk_len` samples.
///
/// The detector is built by `make` once the first chunk is read, from the sample rate the
/// source reports (or, if it reports none yet, 1 / the median interval of that chunk).
/// Events, gaps and sleep onsets are collected.
///
/// # Errors
/// When the source cannot be read, holds no samples, or the detector fails.
pub fn run_detector<D: Detect>(
    source: &mut dyn Source,
    make: &mut dyn FnMut(f64) -> Result<D, Error>,
    chunk_len: usize,
) -> Result<Collect, Error> {
    let mut chunk = vec![Sample::default(); chunk_len.max(1)];
    let mut out = Collect::default();
    let n = source.read_samples(&mut chunk)?;
    let first = chunk.get(..n).unwrap_or(&[]);
    if first.is_empty() {
        return Err(Error::new(ErrorKind::NoSamples));
    }
    let reported = source.info().rate.rate_hz;
    let rate_hz = if reported.is_finite() && reported > 0.0 {
        reported
    } else {
        let times: Vec<f64> = first.iter().map(|s| s.t_s).collect();
        crate::io::median_interval_s(&times).map_or(1.0, |m| 1.0 / m)
    };
    let mut det = make(rate_hz)?;
    det.push(first, &mut out)?;
    loop {
        let n = source.read_samples(&mut chunk)?;
        if n == 0 {
            break;
        }
        det.push(chunk.get(..n).unwrap_or(&[]), &mut out)?;
    }
    det.finish(&mut out)?;
    Ok(out)
}

/// One simulated night found in a directory.
#[derive(Clone, Debug, PartialEq)]
pub struct NightDir {
    /// The night's name: its directory's path relative to the searched directory (`.` for
    /// the directory itself).
    pub name: String,
    /// The directory holding the night's files.
    pub dir: PathBuf,
    /// `night.truth.csv`.
    pub truth_csv: PathBuf,
    /// Sensor files (`night.csv`, `night.<site>.csv`), sorted.
    pub sensor_files: Vec<PathBuf>,
}

/// Finds the simulated nights in `dir`: `dir` itself and each subdirectory (one level down)
/// that holds a `night.truth.csv`, sorted by name.
///
/// # Errors
/// When the directory cannot be listed, or holds no night.
pub fn find_nights(dir: &Path) -> Result<Vec<NightDir>, Error> {
    let mut nights = Vec::new();
    let mut dirs = vec![(".".to_string(), dir.to_path_buf())];
    let mut subs: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| Error::from(e).in_file(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, p)
        })
        .collect();
    subs.sort();
    dirs.extend(subs);
    for (name, d) in dirs {
        let truth_csv = d.join("night.truth.csv");
        if !truth_csv.is_file() {
            continue;
        }
        let mut sensor_files: Vec<PathBuf> = std::fs::read_dir(&d)
            .map_err(|e| Error::from(e).in_file(&d))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned());
                n.is_some_and(|n| {
                    n.starts_with("night.")
                        && n.ends_with(".csv")
                        && !n.starts_with("night.truth")
                        && !n.contains(".events")
                })
            })
            .collect();
        sensor_files.sort();
        nights.push(NightDir {
            name,
            dir: d,
            truth_csv,
            sensor_files,
        });
    }
    if nights.is_empty() {
        return Err(Error::new(ErrorKind::Other(
            "no night.truth.csv in the directory or its subdirectories".into(),
        ))
        .in_file(dir));
    }
    Ok(nights)
}

/// What a detector produced for one night: events and, optionally, its sleep estimate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detection {
    /// Detected events.
    pub events: Vec<Event>,
    /// Detected sleep, if the detector estimates it.
    pub sleep: Option<DetectedSleep>,
}

impl From<Collect> for Detection {
    /// Events as collected; sleep onsets (if any were reported) as the detected onsets.
    fn from(c: Collect) -> Self {
        let sleep = (!c.sleep_onsets_s.is_empty()).then_some(DetectedSleep {
            sleep_bouts: None,
            sleep_onsets_s: Some(c.sleep_onsets_s),
        });
        Detection {
            events: c.events,
            sleep,
        }
    }
}

/// Scores every night under `dir` (see [`find_nights`]), running `detect` on each.
///
/// `detect` is where a detector plugs in: given a night's files, it returns what was
/// detected — typically by opening the sensor file as a [`Source`] and calling
/// [`run_detector`] with a factory of the detector (`|rate_hz| Detector::new(..)`), or by
/// reading a saved events file.
///
/// # Errors
/// When a night's truth cannot be read, `detect` fails, or the series config is invalid; the
/// error names the night's files.
pub fn evaluate_dir(
    dir: &Path,
    cfg: &EvalConfig,
    detect: &mut dyn FnMut(&NightDir) -> Result<Detection, Error>,
) -> Result<Report, Error> {
    let mut scores = BTreeMap::new();
    for night in find_nights(dir)? {
        let truth = TruthNight::load(&night.truth_csv, None)?;
        let det = detect(&night)?;
        let s = score_night(&truth, &det.events, det.sleep.as_ref(), cfg)?;
        scores.insert(night.name.clone(), s);
    }
    Ok(Report::new(scores))
}
