//! The detector's settings from Python: JSON text (from a dict) or a config file's path.

use std::path::Path;

use pyo3::prelude::*;
use sleeptwitch::{Config, ErrorKind};

use crate::error::{config_error_at, config_text_to_py, to_py};

/// A config as Python hands it over: `("json", text)` or `("path", path)`.
#[derive(FromPyObject)]
pub(crate) struct ConfigArg(String, String);

impl ConfigArg {
    /// The config it names, or the defaults for `None`. Fields left out take their defaults;
    /// values are checked against their rules later, when a detector is built for a rate.
    ///
    /// A file is read as the `analyze` example reads `--config` (TOML or JSON, by extension
    /// or content); its errors name the file and line.
    pub(crate) fn resolve(arg: Option<ConfigArg>, py: Python<'_>) -> PyResult<Config> {
        let Some(ConfigArg(kind, value)) = arg else {
            return Ok(Config::default());
        };
        match kind.as_str() {
            "json" => serde_json::from_str(&value)
                .map_err(|e| config_text_to_py(py, format!("config: {e}"))),
            "path" => Config::from_file(Path::new(&value)).map_err(|e| match e.kind() {
                ErrorKind::Io(_) => to_py(py, &e),
                _ => config_error_at(py, &e),
            }),
            other => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "config kind {other:?}: expected \"json\" or \"path\""
            ))),
        }
    }
}

/// The default config as JSON text, every field named.
#[pyfunction]
pub(crate) fn default_config_json() -> PyResult<String> {
    serde_json::to_string_pretty(&Config::default())
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}
