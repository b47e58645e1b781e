//! Seeded synthetic nights with ground truth.
//!
//! No public accelerometer recordings come with scored leg movements or hypnic jerks, so
//! sleeptwitch makes its own ground truth, and scores every detector against it. A night is
//! planned first (sleep schedule, postures, events, all drawn from one seed), then its
//! samples are synthesised on demand by a [`SimSource`] per worn sensor, with memory
//! independent of the night's length.
//!
//! The model follows the body, not a detector: each sensor's orientation follows its limb
//! (gravity turns with it), leg movements are dorsiflexion or triple-flexion rotations
//! about the ankle or knee with the linear acceleration of the point the sensor sits on
//! plus muscle jitter, hypnic jerks are whole-body transients felt by every sensor a few
//! ms apart, posture changes turn every sensor by tens of degrees and stay, and distractors
//! (wake activity, fragmentary myoclonus, foot tremor trains, alternating leg muscle
//! activation) are labelled `activity` or `other`. The sensor adds per-axis offset and gain
//! error, optional drift, white noise, quantisation, clipping, a clock error, time-stamp
//! jitter and gaps. Which leg movements are periodic is decided by the scoring rule
//! (WASM 2016 by default) applied to the true movements, never by hand.
//!
//! ```
//! use sleeptwitch::sim::{Night, SimConfig};
//! use sleeptwitch::{Kind, Site, Source, Sample};
//!
//! let night = Night::new(&SimConfig { duration_h: 1.0, ..SimConfig::easy(7) })?;
//! let mut source = night.source(Site::Ankle).expect("an ankle night wears an ankle sensor");
//! let mut chunk = vec![Sample::default(); 4096];
//! let mut n = 0;
//! while let k @ 1.. = source.read_samples(&mut chunk)? {
//!     n += k;
//! }
//! assert!(n > 350_000); // one hour at 100 Hz
//! let jerks = night.truth().events.iter().filter(|e| e.event.kind == Kind::HypnicJerk).count();
//! assert_eq!(jerks as u32, night.truth().metrics.n_hypnic_jerks);
//! # Ok::<(), sleeptwitch::Error>(())
//! ```

mod bench;
mod body;
mod config;
mod csv_out;
mod plan;
mod rng;
mod sensor;
mod truth;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use bench::{dev_benchmark, held_out_benchmark};
pub use config::{
    parse_difficulty, parse_rule, Layout, SensorConfig, Severity, SimConfig, EASY, HARD,
};
pub use sensor::SimSource;
pub use truth::{file_name, Interval, SensorTruth, Truth, TruthEvent, TruthMetrics};

use crate::{ConfigError, Error, Sample, Site};
use plan::Plan;
use truth::limb_of;

/// A simulated night: its plan, its truth, and a source of samples for each worn sensor.
#[derive(Clone, Debug)]
pub struct Night {
    plan: Arc<Plan>,
    truth: Truth,
}

impl Night {
    /// Plans a night and works out its truth (no samples are made yet).
    ///
    /// Planning takes about 0.1 s for an 8 h night; samples come from [`Night::source`].
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid field of `config`.
    pub fn new(config: &SimConfig) -> Result<Night, ConfigError> {
        config.validate()?;
        let plan = Plan::new(config);
        let truth = Truth::from_plan(&plan);
        Ok(Night {
            plan: Arc::new(plan),
            truth,
        })
    }

    /// The config the night was made from.
    pub fn config(&self) -> &SimConfig {
        &self.plan.cfg
    }

    /// The night's ground truth.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// The sites worn, in file order.
    pub fn sites(&self) -> &'static [Site] {
        self.plan.cfg.layout.sites()
    }

    /// A fresh source of the samples of the sensor at `site`, from the first sample;
    /// `None` if the night does not wear one there.
    pub fn source(&self, site: Site) -> Option<SimSource> {
        let limb = limb_of(self.plan.cfg.layout, site)?;
        Some(SimSource::new(Arc::clone(&self.plan), limb, site))
    }

    /// Every sample of the sensor at `site` in memory (empty if not worn). An 8 h night at
    /// 100 Hz is 2.9 M samples, 92 MB: prefer [`Night::source`] for long nights.
    pub fn samples(&self, site: Site) -> Vec<Sample> {
        let Some(mut src) = self.source(site) else {
            return Vec::new();
        };
        let fmt = src.format();
        let rate = self.plan.cfg.rate_hz;
        let mut out = Vec::with_capacity(plan::count(self.plan.duration_s * rate * 1.06) + 16);
        let mut chunk = vec![sensor::RawSample::default(); 4096];
        loop {
            let n = src.read_raw(&mut chunk);
            if n == 0 {
                break;
            }
            out.extend(chunk.iter().take(n).map(|r| fmt.to_sample(r)));
        }
        out
    }

    /// The file name of the sensor at `site` (`night.csv`, or `night.<site>.csv` for a
    /// bilateral night).
    pub fn file_name(&self, site: Site) -> String {
        file_name(self.plan.cfg.layout, site)
    }

    /// Writes the sensor at `site` as CSV (`t,x,y,z`, seconds and g) to `w`; returns the
    /// number of rows (0 if the site is not worn).
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_csv(&self, site: Site, mut w: impl std::io::Write) -> Result<u64, Error> {
        match self.source(site) {
            Some(mut src) => csv_out::write_samples(&mut src, &mut w),
            None => Ok(0),
        }
    }

    /// Writes every sensor's CSV, `night.truth.csv` and `night.truth.json` into `dir`
    /// (created if missing); returns the paths written.
    ///
    /// # Errors
    /// When the directory cannot be created or a file cannot be written; the error names
    /// the file.
    pub fn write_to_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(e, dir))?;
        let mut paths = Vec::new();
        for &site in self.sites() {
            let path = dir.join(self.file_name(site));
            let f = File::create(&path).map_err(|e| Error::write(e, &path))?;
            self.write_csv(site, f).map_err(|e| e.in_file(&path))?;
            paths.push(path);
        }
        let path = dir.join("night.truth.csv");
        let f = File::create(&path).map_err(|e| Error::write(e, &path))?;
        self.truth
            .write_csv(std::io::BufWriter::new(f))
            .map_err(|e| e.in_file(&path))?;
        paths.push(path);
        let path = dir.join("night.truth.json");
        let f = File::create(&path).map_err(|e| Error::write(e, &path))?;
        self.truth
            .write_json(std::io::BufWriter::new(f))
            .map_err(|e| e.in_file(&path))?;
        paths.push(path);
        Ok(paths)
    }
}
