//! Whole nights: from files by path, or from numpy arrays.

use std::path::{Path, PathBuf};

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sleeptwitch::io::{self, CsvReaderBuilder};
use sleeptwitch::{Config, Detector, Error, ErrorKind, Event, Site, Source};

use crate::arrays::{event_columns, median_interval_s, Columns, CHUNK};
use crate::config::parse_config;
use crate::error::{config_to_py, to_py};

/// One analysed night: its events and its summary.
#[pyclass(name = "_Night", module = "sleeptwitch._sleeptwitch", frozen)]
pub(crate) struct PyNight {
    events: Vec<Event>,
    summary_json: String,
}

#[pymethods]
impl PyNight {
    /// The events as a dict of columns.
    fn event_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        event_columns(py, &self.events)
    }

    /// The summary as JSON text.
    #[getter]
    fn summary_json(&self) -> &str {
        &self.summary_json
    }

    /// Number of events.
    fn __len__(&self) -> usize {
        self.events.len()
    }

    /// Writes the events CSV to `path` (the columns of `sleeptwitch::io::EVENT_COLUMNS`).
    fn write_events(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let events = &self.events;
        py.detach(|| io::write_events(&path, events))
            .map_err(|e| to_py(py, &e))
    }
}

/// Opens a recording by path: a device file by its extension, CSV otherwise.
fn open(path: &Path, threads: Option<usize>) -> Result<Box<dyn Source + Send>, Error> {
    if let Some(source) = io::open_device(path)? {
        return Ok(source);
    }
    let mut builder = CsvReaderBuilder::new();
    if let Some(n) = threads {
        builder.threads(n);
    }
    Ok(Box::new(builder.from_path(path)?))
}

/// What can go wrong in a night: the config (with its own exception) or the input.
enum Failure {
    Config(sleeptwitch::ConfigError),
    Input(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Input(e)
    }
}

impl Failure {
    fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Config(c) => config_to_py(py, &c),
            Failure::Input(e) => to_py(py, &e),
        }
    }
}

/// Reads the recordings of one night (one per sensor) and runs the detector over them.
fn run_paths(
    inputs: &[(PathBuf, Site)],
    config: &Config,
    threads: Option<usize>,
) -> Result<(Vec<Event>, serde_json::Value), Failure> {
    let mut sources = Vec::with_capacity(inputs.len());
    let mut sites = Vec::with_capacity(inputs.len());
    for (path, site) in inputs {
        let source = open(path, threads)?;
        // The rate every reader decides its gap rule by: one over the median interval of the
        // first 4,097 timestamps.
        sites.push((*site, 1.0 / source.info().rate.median_interval_s));
        sources.push(source);
    }
    let mut detector = Detector::with_sites(config, &sites).map_err(Failure::Config)?;
    let mut events: Vec<Event> = Vec::new();
    let mut refs: Vec<&mut (dyn Source + Send)> = sources.iter_mut().map(|s| &mut **s).collect();
    let summary = detector.run(&mut refs, CHUNK, &mut events)?;
    let recordings: Vec<serde_json::Value> = inputs
        .iter()
        .zip(&sources)
        .map(|((path, site), s)| {
            serde_json::json!({
                "path": path.display().to_string(),
                "site": site,
                "recording": s.info(),
            })
        })
        .collect();
    let mut report = serde_json::json!({ "inputs": recordings });
    merge(&mut report, &summary);
    Ok((events, report))
}

/// Adds the fields of the summary to `report`.
fn merge(report: &mut serde_json::Value, summary: &sleeptwitch::Summary) {
    if let (Some(out), Ok(serde_json::Value::Object(fields))) =
        (report.as_object_mut(), serde_json::to_value(summary))
    {
        out.extend(fields);
    }
}

/// Analyses one night recorded by one or more sensors, each file with its site.
#[pyfunction]
#[pyo3(signature = (paths, sites, config_json=None, threads=None))]
pub(crate) fn analyze_paths(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    sites: Vec<String>,
    config_json: Option<&str>,
    threads: Option<usize>,
) -> PyResult<PyNight> {
    if paths.is_empty() || paths.len() != sites.len() {
        return Err(PyValueError::new_err(format!(
            "one site per file: {} file(s), {} site(s)",
            paths.len(),
            sites.len()
        )));
    }
    let config = parse_config(py, config_json)?;
    let inputs = paths
        .into_iter()
        .zip(sites)
        .map(|(p, s)| Ok((p, s.parse::<Site>().map_err(PyValueError::new_err)?)))
        .collect::<PyResult<Vec<_>>>()?;
    let (events, report) = py
        .detach(|| run_paths(&inputs, &config, threads))
        .map_err(|f| f.into_py(py))?;
    Ok(PyNight {
        events,
        summary_json: report.to_string(),
    })
}

/// Analyses one night held in arrays: times in seconds `(n,)`, acceleration in g `(n, 3)`.
#[pyfunction]
#[pyo3(signature = (t_s, acc_g, site, config_json=None, sample_rate_hz=None))]
pub(crate) fn analyze_columns(
    py: Python<'_>,
    t_s: PyReadonlyArray1<'_, f64>,
    acc_g: PyReadonlyArray2<'_, f64>,
    site: &str,
    config_json: Option<&str>,
    sample_rate_hz: Option<f64>,
) -> PyResult<PyNight> {
    let config = parse_config(py, config_json)?;
    let site: Site = site.parse().map_err(PyValueError::new_err)?;
    let cols = Columns::new(&t_s, &acc_g)?;
    let run = || -> Result<(Vec<Event>, serde_json::Value), Failure> {
        if cols.len() == 0 {
            return Err(Error::new(ErrorKind::NoSamples).into());
        }
        let rate_hz =
            match sample_rate_hz {
                Some(r) => r,
                // The readers' rule: the median interval of the first 4,097 samples.
                None => match median_interval_s(&cols.head_times(4097)) {
                    Some(d) => 1.0 / d,
                    None => return Err(Error::new(ErrorKind::Other(
                        "no sample rate: the times hold no increasing pair; give sample_rate_hz"
                            .into(),
                    ))
                    .into()),
                },
            };
        let mut detector =
            Detector::with_sites(&config, &[(site, rate_hz)]).map_err(Failure::Config)?;
        let mut events: Vec<Event> = Vec::new();
        cols.for_each_chunk(|chunk| detector.push(chunk, &mut events))?;
        let summary = detector.finish(&mut events)?;
        let mut report = serde_json::json!({
            "inputs": [{ "path": null, "site": site }],
        });
        merge(&mut report, &summary);
        Ok((events, report))
    };
    let (events, report) = py.detach(run).map_err(|f| f.into_py(py))?;
    Ok(PyNight {
        events,
        summary_json: report.to_string(),
    })
}
