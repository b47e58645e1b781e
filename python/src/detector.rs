//! The streaming detector, chunk by chunk from Python.

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use sleeptwitch::{Event, Gap, Sink, Site, Unworn};

use crate::arrays::{event_columns, Columns};
use crate::config::ConfigArg;
use crate::error::{config_to_py, to_py};

/// The streaming core: push chunks of samples, get back the events each chunk made final.
///
/// Any split of a night into chunks (one sample, empty, or all at once) gives the same
/// events, compared exactly. The GIL is released while samples are processed.
#[pyclass(name = "_Detector", module = "sleeptwitch._sleeptwitch")]
pub(crate) struct PyDetector {
    inner: sleeptwitch::Detector,
    n_sites: usize,
    /// What the detector told besides events, in the order told, until taken.
    notices: Vec<Notice>,
}

/// A gap, a sleep onset or an unworn stretch, as the detector reports them to a sink.
#[derive(Clone, Copy, Debug)]
enum Notice {
    Gap(Gap),
    SleepOnset(f64),
    Unworn(Unworn),
}

impl Notice {
    /// The notice as a dict: `kind` (`gap`, `sleep_onset` or `unworn`) and its times.
    fn to_dict<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        match self {
            Notice::Gap(g) => {
                d.set_item("kind", "gap")?;
                d.set_item("start_s", g.start_s)?;
                d.set_item("duration_s", g.duration_s)?;
            }
            Notice::SleepOnset(t_s) => {
                d.set_item("kind", "sleep_onset")?;
                d.set_item("t_s", t_s)?;
            }
            Notice::Unworn(u) => {
                d.set_item("kind", "unworn")?;
                d.set_item("site", u.site.as_str())?;
                d.set_item("start_s", u.start_s)?;
                d.set_item("end_s", u.end_s)?;
            }
        }
        Ok(d)
    }
}

/// Keeps a push's events, and adds the notices to the detector's.
struct Told<'a> {
    events: Vec<Event>,
    notices: &'a mut Vec<Notice>,
}

impl Sink for Told<'_> {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn gap(&mut self, gap: Gap) {
        self.notices.push(Notice::Gap(gap));
    }
    fn sleep_onset(&mut self, t_s: f64) {
        self.notices.push(Notice::SleepOnset(t_s));
    }
    fn unworn(&mut self, stretch: Unworn) {
        self.notices.push(Notice::Unworn(stretch));
    }
}

#[pymethods]
impl PyDetector {
    /// `sites`: `(site name, sample rate in Hz)` per sensor; `config`: `("json", text)`,
    /// `("path", file)` or `None` for the defaults.
    #[new]
    #[pyo3(signature = (sites, config=None))]
    fn new(py: Python<'_>, sites: Vec<(String, f64)>, config: Option<ConfigArg>) -> PyResult<Self> {
        let config = ConfigArg::resolve(config, py)?;
        let sites = sites
            .into_iter()
            .map(|(s, r)| Ok((s.parse::<Site>().map_err(PyValueError::new_err)?, r)))
            .collect::<PyResult<Vec<(Site, f64)>>>()?;
        let inner =
            sleeptwitch::Detector::with_sites(&config, &sites).map_err(|e| config_to_py(py, &e))?;
        Ok(PyDetector {
            inner,
            n_sites: sites.len(),
            notices: Vec::new(),
        })
    }

    /// Pushes samples of sensor `site_idx`; returns the events that became final as columns.
    #[pyo3(signature = (t_s, acc_g, site_idx=0))]
    fn push<'py>(
        &mut self,
        py: Python<'py>,
        t_s: PyReadonlyArray1<'py, f64>,
        acc_g: PyReadonlyArray2<'py, f64>,
        site_idx: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        if site_idx >= self.n_sites {
            return Err(PyValueError::new_err(format!(
                "site_idx {site_idx}: the detector has {} sensor(s)",
                self.n_sites
            )));
        }
        let cols = Columns::new(&t_s, &acc_g)?;
        let inner = &mut self.inner;
        let notices = &mut self.notices;
        let (events, result) = py.detach(|| {
            let mut told = Told {
                events: Vec::new(),
                notices,
            };
            let r = cols.for_each_chunk(|chunk| inner.push_site(site_idx, chunk, &mut told));
            (told.events, r)
        });
        let columns = event_columns(py, &events)?;
        if let Err(e) = result {
            // The samples before the bad one were processed: the events they made final
            // travel with the exception, as its `events` attribute.
            let err = to_py(py, &e);
            err.value(py).setattr("events", &columns)?;
            return Err(err);
        }
        Ok(columns)
    }

    /// Ends the night: returns the pending events as columns and the summary as JSON text,
    /// and resets the detector for a new night.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<(Bound<'py, PyDict>, String)> {
        let inner = &mut self.inner;
        let notices = &mut self.notices;
        let (events, result) = py.detach(|| {
            let mut told = Told {
                events: Vec::new(),
                notices,
            };
            let r = inner.finish(&mut told);
            (told.events, r)
        });
        let summary = result.map_err(|e| to_py(py, &e))?;
        let json = serde_json::to_string(&summary)
            .map_err(|e| PyValueError::new_err(format!("summary to JSON: {e}")))?;
        Ok((event_columns(py, &events)?, json))
    }

    /// The gaps, sleep onsets and unworn stretches told since the last call, in the order
    /// told, as dicts; they are then forgotten.
    fn take_notices<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let dicts = (self.notices.drain(..))
            .map(|n| n.to_dict(py))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, dicts)
    }

    /// Forgets the night, and any notice not taken: the next sample starts a new one.
    fn reset(&mut self) {
        self.inner.reset();
        self.notices.clear();
    }

    /// Upper bound on the time from an event's offset to its delivery, in seconds.
    #[getter]
    fn latency_s(&self) -> f64 {
        self.inner.latency_s()
    }

    /// The sites, in the order `site_idx` numbers them.
    #[getter]
    fn sites(&self) -> Vec<&'static str> {
        self.inner.sites().map(Site::as_str).collect()
    }
}
