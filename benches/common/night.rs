//! The input the core benches share, so that the per-stage figures and the whole-core
//! figures are measured on the same samples.

use sleeptwitch::sim::{Night, SimConfig};
use sleeptwitch::{Sample, Site};

/// An hour at 100 Hz of an ankle night (seed 7, mild PLM), in memory.
pub(crate) fn night() -> Vec<Sample> {
    let sim = SimConfig {
        duration_h: 1.0,
        ..SimConfig::new(7)
    };
    Night::new(&sim).unwrap().samples(Site::Ankle)
}
