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

pub mod calibrate;
mod classify;
pub mod config;
pub mod detector;
mod envelope;
pub mod error;
pub mod event;
mod filter;
mod gravity;
pub mod io;
pub mod sample;
mod segment;
pub mod sleep;

pub use calibrate::{CalibrationReport, CalibrationStatus};
pub use config::Config;
pub use detector::{Detector, Summary};
pub use error::{ConfigError, Error, ErrorKind, Position};
pub use event::{Collect, Detect, Event, Gap, Kind, Sink, Site, Sites, SleepBout, WholeRecording};
pub use io::{MemorySource, RecordingInfo, Source};
pub use sample::Sample;
