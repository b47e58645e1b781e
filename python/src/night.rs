//! Whole nights: from files by path (the library's `analysis::analyze_night_with`, as the
//! `analyze` example runs them), or from numpy arrays; their outputs and cohort rows.

use std::path::{Path, PathBuf};

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sleeptwitch::analysis::{
    analyze_night_with, night_name, unique_names, write_cohort, write_whole, CohortRow, Input,
    InputReport, NightReport, Options,
};
use sleeptwitch::io::{self, AccelUnit, HeadInterval, OpenOptions};
use sleeptwitch::{Collect, Config, Detector, Error, ErrorKind, Event, Position, Site};

use crate::arrays::{event_columns, Columns, Stats};
use crate::config::ConfigArg;
use crate::error::to_py;

/// One analysed night: its events and its report.
#[pyclass(name = "_Night", module = "sleeptwitch._sleeptwitch", frozen)]
pub(crate) struct PyNight {
    events: Vec<Event>,
    report: NightReport,
    /// The report as JSON, made once.
    summary_json: String,
}

impl PyNight {
    fn new(events: Vec<Event>, report: NightReport) -> Result<Self, Error> {
        let summary_json = report.to_json()?;
        Ok(PyNight {
            events,
            report,
            summary_json,
        })
    }
}

/// Where a night's events and summary go in `dir`.
fn output_paths(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{name}.events.csv")),
        dir.join(format!("{name}.summary.json")),
    )
}

/// Writes `NAME.events.csv` and `NAME.summary.json` into `dir`, as the `analyze` example
/// does with `--out-dir`; each whole or not at all ([`write_whole`]), the summary last, so a
/// reader, or a second run of the same night, never sees half a file, and a summary there
/// means the night is done.
fn write_outputs(
    dir: &Path,
    name: &str,
    events: &[Event],
    summary_json: &str,
) -> Result<(PathBuf, PathBuf), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(e, dir))?;
    let (events_path, summary_path) = output_paths(dir, name);
    write_whole(&events_path, |part| io::write_events(part, events))?;
    // Last: a summary there means the events are whole (what `resume` relies on).
    write_whole(&summary_path, |part| {
        std::fs::write(part, format!("{summary_json}\n")).map_err(|e| Error::write(e, part))
    })?;
    Ok((events_path, summary_path))
}

#[pymethods]
impl PyNight {
    /// The events as a dict of columns.
    fn event_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        event_columns(py, &self.events)
    }

    /// The report as JSON text (pretty-printed, as the example writes it).
    #[getter]
    fn summary_json(&self) -> &str {
        &self.summary_json
    }

    /// The night's name (from its file names), which its outputs are named by.
    #[getter]
    fn name(&self) -> &str {
        &self.report.name
    }

    /// Number of events.
    fn __len__(&self) -> usize {
        self.events.len()
    }

    /// Writes `NAME.events.csv` and `NAME.summary.json` into `out_dir` (`NAME` the night's
    /// name unless given); returns their paths.
    #[pyo3(signature = (out_dir, name=None))]
    fn write(
        &self,
        py: Python<'_>,
        out_dir: PathBuf,
        name: Option<String>,
    ) -> PyResult<(PathBuf, PathBuf)> {
        let name = name.unwrap_or_else(|| self.report.name.clone());
        py.detach(|| write_outputs(&out_dir, &name, &self.events, &self.summary_json))
            .map_err(|e| to_py(py, &e))
    }
}

/// The inputs of one night: each path with its site, or the ankle by default.
fn inputs(paths: Vec<PathBuf>, sites: Vec<Option<String>>) -> PyResult<Vec<Input>> {
    if paths.is_empty() || paths.len() != sites.len() {
        return Err(PyValueError::new_err(format!(
            "one site (or None) per file: {} file(s), {} site(s)",
            paths.len(),
            sites.len()
        )));
    }
    paths
        .into_iter()
        .zip(sites)
        .map(|(path, site)| match site {
            Some(s) => Ok(Input::new(
                path,
                s.parse::<Site>().map_err(PyValueError::new_err)?,
            )),
            None => Ok(Input {
                path,
                site: Site::Ankle,
                site_given: false,
            }),
        })
        .collect()
}

/// How the files are opened: CSV units (`"g"`, `"m/s2"` or `None` to let the file decide),
/// parsing threads (`None`: the reader's default) and whether runs of one sample repeated
/// are idle-sleep fill (`None`: in ActiLife exports).
fn options(
    units: Option<&str>,
    threads: Option<usize>,
    idle_fill: Option<bool>,
) -> PyResult<Options> {
    let units = match units {
        None => None,
        Some("g") => Some(AccelUnit::G),
        Some("m/s2" | "ms2" | "m/s²") => Some(AccelUnit::MPerS2),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "units {other:?}: expected \"g\" or \"m/s2\""
            )))
        }
    };
    Ok(Options {
        open: OpenOptions {
            units,
            csv_threads: threads,
            csv_block_size_bytes: None,
            idle_fill,
        },
        ..Options::default()
    })
}

/// Analyses one night, recorded by one sensor or several: opens the files, runs them in step
/// through one detector, reports. The GIL is released throughout.
#[pyfunction]
#[pyo3(signature = (paths, sites, config=None, threads=None, units=None, idle_fill=None))]
pub(crate) fn analyze_paths(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    sites: Vec<Option<String>>,
    config: Option<ConfigArg>,
    threads: Option<usize>,
    units: Option<&str>,
    idle_fill: Option<bool>,
) -> PyResult<PyNight> {
    let inputs = inputs(paths, sites)?;
    let options = options(units, threads, idle_fill)?;
    let config = ConfigArg::resolve(config, py)?;
    py.detach(|| {
        let mut events: Vec<Event> = Vec::new();
        let report = analyze_night_with(&inputs, &config, &options, &mut events, &mut |_, _| {})?;
        PyNight::new(events, report)
    })
    .map_err(|e| to_py(py, &e))
}

/// The names the `analyze` example gives nights (from their file names, made unique in
/// order: `night`, `night-2`, …), one per night of `(path, site or None)` lists.
#[pyfunction]
pub(crate) fn night_names(nights: Vec<Vec<(PathBuf, Option<String>)>>) -> PyResult<Vec<String>> {
    let names: Vec<String> = nights
        .into_iter()
        .map(|night| {
            let (paths, sites) = night.into_iter().unzip();
            Ok(night_name(&inputs(paths, sites)?))
        })
        .collect::<PyResult<_>>()?;
    Ok(unique_names(names.iter().map(String::as_str)))
}

/// One night of a cohort, as its row of the cohort table: JSON text of the example's
/// `summary.csv` row, with `error_kind`, `error_file` and `error_line` added (null for a
/// night that went well). Writes the night's outputs into `out_dir` when given. Never
/// raises for a bad night.
#[pyfunction]
#[pyo3(signature = (paths, sites, name, config=None, out_dir=None, threads=None, units=None, idle_fill=None, resume=false))]
#[allow(clippy::too_many_arguments)] // one per option of a night, as analyze_paths has
pub(crate) fn cohort_row(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    sites: Vec<Option<String>>,
    name: String,
    config: Option<ConfigArg>,
    out_dir: Option<PathBuf>,
    threads: Option<usize>,
    units: Option<&str>,
    idle_fill: Option<bool>,
    resume: bool,
) -> PyResult<String> {
    let inputs = inputs(paths, sites)?;
    let options = options(units, threads, idle_fill)?;
    let config = ConfigArg::resolve(config, py)?;
    // A night a former run finished in `out_dir` with this config: its row from its summary.
    let finished = out_dir.as_ref().filter(|_| resume).and_then(|dir| {
        let (events_path, summary_path) = output_paths(dir, &name);
        NightReport::finished(&summary_path, &name, &inputs, &config, &options.open)
            .filter(|_| events_path.is_file())
    });
    if let Some(report) = finished {
        return row_json(&CohortRow::ok(&name, &inputs, &report), None, None);
    }
    let run = || -> Result<NightReport, Error> {
        let mut events: Vec<Event> = Vec::new();
        let mut report =
            analyze_night_with(&inputs, &config, &options, &mut events, &mut |_, _| {})?;
        report.name.clone_from(&name);
        if let Some(dir) = &out_dir {
            write_outputs(dir, &name, &events, &report.to_json()?)?;
        }
        Ok(report)
    };
    match py.detach(run) {
        Ok(report) => row_json(&CohortRow::ok(&name, &inputs, &report), None, None),
        Err(e) => row_json(
            &CohortRow::failed(&name, &inputs, &e),
            Some(crate::error::kind_name(e.kind())),
            e.position(),
        ),
    }
}

/// The row of a night whose task failed outside the analysis (a worker lost too often, an
/// import error on a worker): `kind` names what was raised, `message` says it.
#[pyfunction]
pub(crate) fn lost_row(
    paths: Vec<PathBuf>,
    sites: Vec<Option<String>>,
    name: String,
    kind: String,
    message: String,
) -> PyResult<String> {
    let inputs = inputs(paths, sites)?;
    let e = Error::new(ErrorKind::Other(message));
    row_json(&CohortRow::failed(&name, &inputs, &e), Some(&kind), None)
}

/// A cohort row as JSON text with `error_kind`, `error_file` and `error_line` added.
fn row_json(row: &CohortRow, kind: Option<&str>, at: Option<&Position>) -> PyResult<String> {
    let mut value = serde_json::to_value(row).map_err(|e| PyValueError::new_err(e.to_string()))?;
    if let Some(fields) = value.as_object_mut() {
        let file = at
            .and_then(|p| p.file.as_ref())
            .map(|f| f.display().to_string());
        fields.insert("error_kind".into(), kind.into());
        fields.insert("error_file".into(), file.into());
        fields.insert("error_line".into(), at.and_then(|p| p.line).into());
    }
    Ok(value.to_string())
}

/// The columns of the cohort table, in the order `write_cohort` writes them (its header).
pub(crate) fn cohort_columns() -> PyResult<Vec<String>> {
    let mut out = Vec::new();
    write_cohort(&mut out, &[CohortRow::default()])
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let text = String::from_utf8_lossy(&out);
    let header = text.lines().next().unwrap_or_default();
    Ok(header.split(',').map(str::to_string).collect())
}

/// Writes the cohort table (`summary.csv`, as the example writes it) from rows' JSON text.
#[pyfunction]
pub(crate) fn write_cohort_table(py: Python<'_>, path: PathBuf, rows: Vec<String>) -> PyResult<()> {
    let rows = rows
        .iter()
        .map(|r| serde_json::from_str::<CohortRow>(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("cohort row: {e}")))?;
    py.detach(|| {
        let f = std::fs::File::create(&path).map_err(|e| Error::write(e, &path))?;
        write_cohort(std::io::BufWriter::new(f), &rows).map_err(|e| e.in_file(&path))
    })
    .map_err(|e| to_py(py, &e))
}

/// Analyses one night held in arrays: times in seconds `(n,)`, acceleration in g `(n, 3)`.
///
/// The report has the fields of a file's; its one input has path `""`, and its recording
/// info is worked out from the arrays as a reader would (rate and jitter over the intervals
/// that are not gaps, gaps as the detector found them, mean |a|).
#[pyfunction]
#[pyo3(signature = (t_s, acc_g, site, config=None, sample_rate_hz=None, name=None))]
pub(crate) fn analyze_columns(
    py: Python<'_>,
    t_s: PyReadonlyArray1<'_, f64>,
    acc_g: PyReadonlyArray2<'_, f64>,
    site: &str,
    config: Option<ConfigArg>,
    sample_rate_hz: Option<f64>,
    name: Option<String>,
) -> PyResult<PyNight> {
    let config = ConfigArg::resolve(config, py)?;
    let site: Site = site.parse().map_err(PyValueError::new_err)?;
    let cols = Columns::new(&t_s, &acc_g)?;
    let name = name.unwrap_or_else(|| "arrays".into());
    py.detach(|| run_columns(cols, site, &config, sample_rate_hz, name))
        .map_err(|e| to_py(py, &e))
}

/// The arrays' night: detector at the given rate (or the readers' rule), then the report.
fn run_columns(
    cols: Columns<'_>,
    site: Site,
    config: &Config,
    sample_rate_hz: Option<f64>,
    name: String,
) -> Result<PyNight, Error> {
    if cols.len() == 0 {
        return Err(Error::new(ErrorKind::NoSamples));
    }
    let head = HeadInterval::of(&cols.head_times(4097));
    let rate_hz = match (sample_rate_hz, head) {
        (Some(r), _) => r,
        // The readers' rule (`analysis::detector_rate_hz`): one over the mean of the first
        // 4,097 timestamps' intervals near their median.
        (None, Some(h)) => 1.0 / h.mean_s,
        (None, None) => {
            return Err(Error::new(ErrorKind::Other(
                "no sample rate: the times hold no increasing pair; give sample_rate_hz".into(),
            )))
        }
    };
    let mut detector = Detector::with_sites(config, &[(site, rate_hz)])?;
    let mut stats = Stats::new(head.unwrap_or(HeadInterval::exact(1.0 / rate_hz)));
    let mut sink = Collect::default();
    cols.for_each_chunk(|chunk| {
        detector.push(chunk, &mut sink)?;
        stats.add(chunk);
        Ok(())
    })?;
    let summary = detector.finish(&mut sink)?;
    let info = stats.info(std::mem::take(&mut sink.gaps));
    let input = Input::new("", site);
    let reports: Vec<InputReport> = summary
        .sites
        .iter()
        .map(|s| InputReport::new(&input, &info, &s.stream, &sink.unworn))
        .collect();
    let report = NightReport::new(name, reports, config, summary);
    PyNight::new(sink.events, report)
}
