#![doc = include_str!("../README.md")]
// Unit tests compare floats exactly on purpose: batch and stream must agree bit for bit, and
// values that pass through unchanged must come out unchanged.
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod error;
pub mod eval;
pub mod event;
pub mod io;
pub mod metrics;
pub mod sample;
pub mod series;
pub mod sim;
pub mod spectral;

pub use error::{ConfigError, Error, ErrorKind, Position};
pub use eval::{ClassScore, MatchConfig, Report, ScoredClass};
pub use event::{Collect, Detect, Event, Gap, Kind, Sink, Site, Sites, WholeRecording};
pub use io::{MemorySource, RecordingInfo, Source};
pub use metrics::{night_metrics, ImiHistogram, NightAccumulator, NightMetrics};
pub use sample::Sample;
pub use series::{LegMovement, LmClass, Scored, ScoringRule, SeriesConfig, SeriesTracker};
pub use spectral::{DominantPeriod, OnsetSpectrum, SpectralConfig};
