//! The native half of the `sleeptwitch` Python package.
//!
//! Thin bindings over the `sleeptwitch` crate: whole nights from files or numpy arrays, the
//! streaming detector, simulated nights. The Python half (`python/sleeptwitch/`) gives them
//! their public shape (`analyze`, `Detector`, `Night`, `Events`, the exceptions, the cohort
//! runner); names here start with an underscore or are plain functions it wraps. Every call
//! that processes samples or reads files releases the GIL, so Python threads run nights in
//! parallel; errors become exceptions naming file, line and cause, never a crash.

mod arrays;
mod config;
mod detector;
mod error;
mod night;
mod sim;

use pyo3::prelude::*;

/// `sleeptwitch._sleeptwitch`: see the `sleeptwitch` package for the documented API.
#[pymodule]
fn _sleeptwitch(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<detector::PyDetector>()?;
    m.add_class::<night::PyNight>()?;
    m.add_function(wrap_pyfunction!(night::analyze_paths, m)?)?;
    m.add_function(wrap_pyfunction!(night::analyze_columns, m)?)?;
    m.add_function(wrap_pyfunction!(night::night_names, m)?)?;
    m.add_function(wrap_pyfunction!(night::cohort_row, m)?)?;
    m.add_function(wrap_pyfunction!(night::lost_row, m)?)?;
    m.add_function(wrap_pyfunction!(night::write_cohort_table, m)?)?;
    m.add_function(wrap_pyfunction!(sim::simulate_to_dir, m)?)?;
    m.add_function(wrap_pyfunction!(sim::simulate_columns, m)?)?;
    m.add_function(wrap_pyfunction!(config::default_config_json, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("EVENT_COLUMNS", sleeptwitch::io::EVENT_COLUMNS.to_vec())?;
    let kinds: Vec<&str> = sleeptwitch::Kind::ALL.iter().map(|k| k.as_str()).collect();
    m.add("KINDS", kinds)?;
    let sites: Vec<&str> = sleeptwitch::Site::ALL.iter().map(|s| s.as_str()).collect();
    m.add("SITES", sites)?;
    m.add("COHORT_COLUMNS", night::cohort_columns()?)?;
    Ok(())
}
