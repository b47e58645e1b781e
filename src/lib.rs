#![doc = include_str!("../README.md")]
// Unit tests compare floats exactly on purpose: batch and stream must agree bit for bit, and
// values that pass through unchanged must come out unchanged.
#![cfg_attr(test, allow(clippy::float_cmp))]
// Test scaffolding converts small known counts and durations freely.
#![cfg_attr(
    test,
    allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::needless_range_loop
    )
)]

pub mod analysis;
pub mod calibrate;
pub mod classify;
pub mod config;
mod context;
pub mod detector;
mod envelope;
pub mod error;
pub mod eval;
pub mod event;
mod filter;
mod gravity;
pub mod io;
pub mod metrics;
mod movement;
pub mod sample;
mod segment;
pub mod series;
pub mod sim;
pub mod sleep;
mod slow;
pub mod spectral;
pub mod wear;

pub use calibrate::{CalibrationReport, CalibrationStatus};
pub use classify::ClassifyConfig;
pub use config::Config;
pub use detector::{Detector, SiteReport, Summary};
pub use error::{ConfigError, Error, ErrorKind, Position};
pub use eval::{BoundaryErrors, ClassScore, MatchConfig, Report, ScoredClass};
pub use event::{Collect, Detect, Event, Gap, Kind, Sink, Site, Sites, SleepBout, WholeRecording};
pub use io::{MemorySource, RecordingInfo, Source};
pub use metrics::{night_metrics, ImiHistogram, NightAccumulator, NightMetrics};
pub use movement::SiteSummary;
// The movement core stage by stage, for benches/stages.rs and tests/alloc_core.rs; not API.
#[doc(hidden)]
pub use movement::stages;
pub use sample::Sample;
pub use series::{LegMovement, LmClass, Scored, ScoringRule, SeriesConfig, SeriesTracker};
pub use sleep::SleepConfig;
pub use spectral::{DominantPeriod, OnsetSpectrum, SpectralConfig};
pub use wear::{Unworn, WearConfig};
