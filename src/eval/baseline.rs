//! The Python yardstick on simulated nights, scored as the crate's detector is (see
//! [`Baseline`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::{score_night, truth_night, EvalConfig, NightScore};
use crate::series::{self, LegMovement, SeriesConfig};
use crate::sim::{Night, SimConfig};
use crate::{Error, ErrorKind, Event, Kind, Site};

/// Environment variable naming the shared directory that holds `bench/baseline_py.py`.
pub const SHARED_ENV: &str = "SLEEPTWITCH_SHARED";

/// The shared directory when [`SHARED_ENV`] is not set, relative to the working directory.
pub const DEFAULT_SHARED: &str = "../shared";

/// How to run the Python yardstick (`bench/baseline_py.py` in the shared directory) on
/// simulated nights, scored exactly as the crate's detector is.
///
/// The yardstick reads one `t,x,y,z` CSV (seconds, g) and writes `onset_s,offset_s,kind`
/// with kinds `lm`, `plm` and `posture_change`. It needs Python 3 with numpy, scipy and
/// pandas (`pip install numpy scipy pandas`).
///
/// - **Ankle nights**: the night's one sensor file goes through the yardstick; its events
///   are scored with [`score_night`] against the truth, with the truth's sleep (the
///   yardstick estimates none, so it has no sleep-onset error).
/// - **Bilateral nights**: the yardstick runs on each ankle's file, and the two legs are
///   merged by the scoring rule, as a scorer merges EMG channels ([`merge_legs`]): each
///   leg's `lm`/`plm` events become monolateral leg movements, [`series::merge_bilateral`]
///   joins them across legs and [`series::score`] finds the series again. Posture changes
///   seen on both ankles at once are one posture change. The wrist file is not read (the
///   yardstick finds no hypnic jerks, which is what the wrist is for).
/// - **Wrist nights**: no leg is worn, so the yardstick has nothing to find; the night is
///   reported as not applicable (`None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The script, `baseline_py.py`.
    pub script: PathBuf,
    /// The Python interpreter (`python3`, found on `PATH`).
    pub python: PathBuf,
    /// Where each night's files are written while the yardstick reads them (a subdirectory
    /// per night, removed afterwards).
    pub work_dir: PathBuf,
}

impl Baseline {
    /// The yardstick in `shared_dir/bench/baseline_py.py`, run by `python3`, with files
    /// under the system's temporary directory.
    pub fn in_shared(shared_dir: &Path) -> Self {
        Baseline {
            script: shared_dir.join("bench").join("baseline_py.py"),
            python: PathBuf::from("python3"),
            work_dir: std::env::temp_dir()
                .join(format!("sleeptwitch-baseline-{}", std::process::id())),
        }
    }

    /// The yardstick of the shared directory named by `SLEEPTWITCH_SHARED`, else
    /// `../shared`.
    pub fn from_env() -> Self {
        let shared = std::env::var_os(SHARED_ENV)
            .map_or_else(|| PathBuf::from(DEFAULT_SHARED), PathBuf::from);
        Baseline::in_shared(&shared)
    }

    /// Checks that the script exists and that Python imports numpy, scipy and pandas.
    ///
    /// # Errors
    /// Naming the script when it is missing, or saying what Python printed when the imports
    /// fail.
    pub fn check(&self) -> Result<(), Error> {
        if !self.script.is_file() {
            return Err(other(format!(
                "baseline script not found (set {SHARED_ENV} to the shared directory)"
            ))
            .in_file(&self.script));
        }
        let out = Command::new(&self.python)
            .args(["-c", "import numpy, scipy, pandas"])
            .output()
            .map_err(|e| other(format!("cannot run {}: {e}", self.python.to_string_lossy())))?;
        if !out.status.success() {
            return Err(other(format!(
                "{} cannot import numpy, scipy and pandas (pip install numpy scipy pandas): {}",
                self.python.to_string_lossy(),
                tail(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Runs the yardstick on one sensor CSV, writing its events to `events_csv`, and reads
    /// them back.
    ///
    /// # Errors
    /// When Python cannot be started or exits with an error (its last stderr lines are in
    /// the message), or its events file cannot be read.
    pub fn run_file(&self, csv: &Path, events_csv: &Path) -> Result<Vec<Event>, Error> {
        let out = Command::new(&self.python)
            .arg(&self.script)
            .arg(csv)
            .arg("--events")
            .arg(events_csv)
            .output()
            .map_err(|e| other(format!("cannot run {}: {e}", self.python.to_string_lossy())))?;
        if !out.status.success() {
            return Err(other(format!(
                "baseline failed ({}): {}",
                out.status,
                tail(&out.stderr)
            ))
            .in_file(csv));
        }
        crate::io::read_events(events_csv)
    }

    /// The yardstick's events for a planned night: one ankle file, or both ankles merged by
    /// the night's scoring rule; `None` for a wrist night (no leg worn).
    ///
    /// The night's leg files are written under `work_dir/<night name or seed>/` and removed
    /// afterwards, whatever the outcome.
    ///
    /// # Errors
    /// When a file cannot be written or the yardstick fails on it.
    pub fn detect(&self, night: &Night) -> Result<Option<Vec<Event>>, Error> {
        let cfg = night.config();
        let legs: Vec<Site> = night
            .sites()
            .iter()
            .copied()
            .filter(|s| s.is_leg())
            .collect();
        if legs.is_empty() {
            return Ok(None);
        }
        let label = if cfg.name.is_empty() {
            format!("seed{}", cfg.seed)
        } else {
            cfg.name.clone()
        };
        let dir = self.work_dir.join(label);
        let result = self.detect_in(night, &legs, &dir);
        // Best effort: a leftover directory under the temporary dir is no reason to fail.
        let _ = std::fs::remove_dir_all(&dir);
        result.map(Some)
    }

    fn detect_in(&self, night: &Night, legs: &[Site], dir: &Path) -> Result<Vec<Event>, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(e, dir))?;
        let mut per_leg = Vec::with_capacity(legs.len());
        for &site in legs {
            let csv = dir.join(night.file_name(site));
            let f = std::fs::File::create(&csv).map_err(|e| Error::write(e, &csv))?;
            night.write_csv(site, f).map_err(|e| e.in_file(&csv))?;
            let events_csv = dir.join(format!("baseline.{}.events.csv", site.as_str()));
            let events = self.run_file(&csv, &events_csv)?;
            // The sensor file is the big one: drop it as soon as it has been read.
            let _ = std::fs::remove_file(&csv);
            per_leg.push((site, events));
        }
        match per_leg.as_slice() {
            [(_, events)] => Ok(events.clone()),
            [(_, left), (_, right)] => Ok(merge_legs(
                &SeriesConfig::for_rule(night.config().rule),
                left,
                right,
            )),
            _ => Err(other(format!(
                "{} leg sensors: the baseline merges one or two",
                per_leg.len()
            ))),
        }
    }

    /// Plans the night of `sim`, runs the yardstick on it ([`Baseline::detect`]) and scores
    /// its events against the truth; `None` for a wrist night.
    ///
    /// # Errors
    /// When the simulator config is invalid, or as [`Baseline::detect`].
    pub fn score(&self, sim: &SimConfig) -> Result<Option<NightScore>, Error> {
        let night = Night::new(sim)?;
        let Some(events) = self.detect(&night)? else {
            return Ok(None);
        };
        score_night(&truth_night(&night), &events, None, &EvalConfig::default()).map(Some)
    }
}

/// Merges two legs' yardstick events by the scoring rule of `series` (see the
/// [`Baseline`] docs): leg movements across legs by [`series::merge_bilateral`] and
/// re-scored by [`series::score`] (so `plm` or `lm` is decided on the merged list, and
/// each leg's own `plm`/`lm` label is ignored); posture changes that overlap or touch
/// become one, spanning both. Other kinds are kept as they are. The result is sorted by
/// onset.
pub fn merge_legs(series_cfg: &SeriesConfig, left: &[Event], right: &[Event]) -> Vec<Event> {
    let legs = |events: &[Event], site: Site| -> Vec<LegMovement> {
        let mut lms: Vec<LegMovement> = events
            .iter()
            .filter(|e| e.kind.is_leg_movement())
            .map(|e| LegMovement::new(series_cfg, e.onset_s, e.offset_s, site))
            .collect();
        lms.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        lms
    };
    let merged = series::merge_bilateral(
        series_cfg,
        &legs(left, Site::LeftAnkle),
        &legs(right, Site::RightAnkle),
    );
    let mut out: Vec<Event> = series::score(series_cfg, &merged)
        .iter()
        .map(|s| {
            let mut e = Event::new(s.lm.onset_s, s.lm.offset_s, s.class.kind());
            e.sites = s.lm.sites;
            e.series_id = s.series_id;
            e.imi_s = s.imi_s;
            e
        })
        .collect();
    let mut postures: Vec<Event> = left
        .iter()
        .map(|e| (e, Site::LeftAnkle))
        .chain(right.iter().map(|e| (e, Site::RightAnkle)))
        .filter(|(e, _)| e.kind == Kind::PostureChange)
        .map(|(e, site)| {
            let mut p = *e;
            p.sites = p.sites.with(site);
            p
        })
        .collect();
    postures.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let mut joined: Vec<Event> = Vec::with_capacity(postures.len());
    for p in postures {
        match joined.last_mut() {
            Some(last) if p.onset_s <= last.offset_s => {
                last.offset_s = last.offset_s.max(p.offset_s);
                last.sites = last.sites.union(p.sites);
            }
            _ => joined.push(p),
        }
    }
    out.extend(joined);
    out.extend(
        left.iter()
            .chain(right)
            .filter(|e| !e.kind.is_leg_movement() && e.kind != Kind::PostureChange)
            .copied(),
    );
    out.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    out
}

/// The last few lines of a process's stderr, for an error message.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(4);
    lines.get(start..).unwrap_or(&[]).join(" | ")
}

#[cold]
fn other(msg: String) -> Error {
    Error::new(ErrorKind::Other(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lm(on: f64, off: f64) -> Event {
        Event::new(on, off, Kind::Lm)
    }

    #[test]
    fn overlapping_legs_merge_into_one_movement_and_series_are_found_on_the_merge() {
        let cfg = SeriesConfig::wasm2016();
        // Left: movements at 100, 140 s; right: at 100.3 (overlapping the left one), 120,
        // 160 s. Merged: 100–101.5 (both legs), 120, 140, 160: four CLMs 20 s apart, a
        // series (WASM: ≥ 4 CLMs with IMIs of 10–90 s), though neither leg has four alone.
        let left = [lm(100.0, 101.0), Event::new(140.0, 141.0, Kind::Plm)];
        let right = [lm(100.3, 101.5), lm(120.0, 121.0), lm(160.0, 161.0)];
        let out = merge_legs(&cfg, &left, &right);
        assert_eq!(out.len(), 4, "{out:?}");
        assert!(out.iter().all(|e| e.kind == Kind::Plm), "{out:?}");
        assert_eq!((out[0].onset_s, out[0].offset_s), (100.0, 101.5));
        assert_eq!(out[0].sites.len(), 2);
        assert_eq!(out[1].sites, crate::Sites::one(Site::RightAnkle));
        assert_eq!(out[2].sites, crate::Sites::one(Site::LeftAnkle));
        assert_eq!(out[3].imi_s, Some(20.0));
    }

    #[test]
    fn a_leg_plm_label_is_dropped_when_the_merge_breaks_the_series() {
        let cfg = SeriesConfig::wasm2016();
        // Each leg's yardstick called these PLMs, but three movements 20 s apart are no
        // series of four once merged.
        let left: Vec<Event> = [0.0, 20.0, 40.0]
            .iter()
            .map(|&t| Event::new(t, t + 1.0, Kind::Plm))
            .collect();
        let out = merge_legs(&cfg, &left, &[]);
        assert_eq!(out.iter().filter(|e| e.kind == Kind::Lm).count(), 3);
    }

    #[test]
    fn posture_changes_seen_on_both_legs_count_once() {
        let cfg = SeriesConfig::wasm2016();
        let p = |on: f64, off: f64| Event::new(on, off, Kind::PostureChange);
        let left = [p(500.0, 503.0), p(900.0, 902.0)];
        let right = [p(502.0, 504.0), p(1200.0, 1201.0)];
        let out = merge_legs(&cfg, &left, &right);
        let spans: Vec<(f64, f64)> = out.iter().map(|e| (e.onset_s, e.offset_s)).collect();
        assert_eq!(spans, [(500.0, 504.0), (900.0, 902.0), (1200.0, 1201.0)]);
        assert_eq!(out[0].sites.len(), 2);
    }

    #[test]
    fn a_missing_script_is_an_error_naming_it() {
        let b = Baseline::in_shared(Path::new("/nonexistent-shared"));
        let e = b.check().unwrap_err();
        assert!(e.to_string().contains("baseline_py.py"), "{e}");
    }
}
