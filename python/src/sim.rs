//! Simulated nights with their truth, for tests, demos and benchmarks.

use std::path::PathBuf;

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use sleeptwitch::sim::{Night, SimConfig};
use sleeptwitch::Site;

use crate::error::{config_text_to_py, config_to_py, to_py};

/// A planned night from a `SimConfig` as JSON text (fields left out take their defaults).
fn plan(py: Python<'_>, config_json: &str) -> PyResult<Night> {
    let config: SimConfig = serde_json::from_str(config_json)
        .map_err(|e| config_text_to_py(py, format!("simulation config: {e}")))?;
    Night::new(&config).map_err(|e| config_to_py(py, &e))
}

/// Writes a simulated night into `out_dir` (each sensor's CSV, `night.truth.csv`,
/// `night.truth.json`); returns the paths written.
#[pyfunction]
pub(crate) fn simulate_to_dir(
    py: Python<'_>,
    out_dir: PathBuf,
    config_json: &str,
) -> PyResult<Vec<PathBuf>> {
    let night = plan(py, config_json)?;
    py.detach(|| night.write_to_dir(&out_dir))
        .map_err(|e| to_py(py, &e))
}

/// Times `(n,)` and accelerations `(n, 3)` as numpy arrays.
type Arrays<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>);

/// The samples of one sensor of a simulated night: times in seconds `(n,)` and
/// acceleration in g `(n, 3)`.
#[pyfunction]
pub(crate) fn simulate_columns<'py>(
    py: Python<'py>,
    config_json: &str,
    site: &str,
) -> PyResult<Arrays<'py>> {
    let night = plan(py, config_json)?;
    let site: Site = site.parse().map_err(PyValueError::new_err)?;
    if !night.sites().contains(&site) {
        return Err(PyValueError::new_err(format!(
            "the simulated night wears no sensor on the {site}; it has {:?}",
            night.sites().iter().map(|s| s.as_str()).collect::<Vec<_>>()
        )));
    }
    let (t_s, acc_g) = py.detach(|| {
        let samples = night.samples(site);
        let t_s: Vec<f64> = samples.iter().map(|s| s.t_s).collect();
        let acc_g: Vec<f64> = samples.iter().flat_map(|s| s.acc_g).collect();
        (t_s, acc_g)
    });
    let n = t_s.len();
    let acc_g =
        Array2::from_shape_vec((n, 3), acc_g).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((t_s.into_pyarray(py), acc_g.into_pyarray(py)))
}
