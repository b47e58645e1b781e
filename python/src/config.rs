//! The detector's settings, given from Python as JSON text.

use pyo3::prelude::*;
use sleeptwitch::Config;

use crate::error::config_text_to_py;

/// A `Config` from JSON text (fields left out take their defaults), or the defaults for
/// `None`. Values are checked against their rules later, when a detector is built for a rate.
pub(crate) fn parse_config(py: Python<'_>, json: Option<&str>) -> PyResult<Config> {
    match json {
        None => Ok(Config::default()),
        Some(text) => {
            serde_json::from_str(text).map_err(|e| config_text_to_py(py, format!("config: {e}")))
        }
    }
}

/// The default config as JSON text, every field named.
#[pyfunction]
pub(crate) fn default_config_json() -> PyResult<String> {
    serde_json::to_string_pretty(&Config::default())
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}
