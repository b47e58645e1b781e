//! numpy arrays in (time and acceleration columns) and out (event columns).
//!
//! Samples are read straight from the caller's arrays, a chunk at a time into one reused
//! buffer of [`Sample`]s: nothing the size of the night is copied. C-contiguous arrays take a
//! slice fast path; any other strides are walked through an ndarray view.

use numpy::ndarray::{ArrayView1, ArrayView2, Axis};
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sleeptwitch::io::{
    Format, HeadInterval, RateInfo, RecordingInfo, TimeBase, UnitsFrom, UNIX_FROM_S,
};
use sleeptwitch::{Error, Event, Gap, Sample};

/// Samples converted and pushed at a time.
const CHUNK: usize = 4096;

/// A time column and an acceleration matrix of the same length, borrowed from numpy.
#[derive(Clone, Copy)]
pub(crate) struct Columns<'a> {
    t_s: ArrayView1<'a, f64>,
    acc_g: ArrayView2<'a, f64>,
}

impl<'a> Columns<'a> {
    /// Checks the shapes: `t_s` is `(n,)`, `acc_g` is `(n, 3)`.
    pub(crate) fn new(
        t_s: &'a PyReadonlyArray1<'_, f64>,
        acc_g: &'a PyReadonlyArray2<'_, f64>,
    ) -> PyResult<Self> {
        let t_s = t_s.as_array();
        let acc_g = acc_g.as_array();
        let (n, k) = acc_g.dim();
        if k != 3 || n != t_s.len() {
            return Err(PyValueError::new_err(format!(
                "acc_g must have shape (n, 3) with n = len(t_s) = {}; found {:?}",
                t_s.len(),
                acc_g.shape()
            )));
        }
        Ok(Columns { t_s, acc_g })
    }

    /// Number of samples.
    pub(crate) fn len(&self) -> usize {
        self.t_s.len()
    }

    /// Times of the first `n` samples (at most), in seconds.
    pub(crate) fn head_times(&self, n: usize) -> Vec<f64> {
        self.t_s.iter().take(n).copied().collect()
    }

    /// Calls `each` with consecutive chunks of at most [`CHUNK`] samples, in order, reusing
    /// one buffer; stops at the first error.
    pub(crate) fn for_each_chunk(
        &self,
        mut each: impl FnMut(&[Sample]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut buf = Vec::with_capacity(CHUNK.min(self.len()));
        if let (Some(t), Some(acc)) = (self.t_s.as_slice(), self.acc_g.as_slice()) {
            for (t, acc) in t.chunks(CHUNK).zip(acc.chunks(3 * CHUNK)) {
                buf.clear();
                buf.extend(
                    t.iter()
                        .zip(acc.chunks_exact(3))
                        .map(|(&t_s, a)| Sample::new(t_s, [a[0], a[1], a[2]])),
                );
                each(&buf)?;
            }
            return Ok(());
        }
        let rows = self.acc_g.axis_chunks_iter(Axis(0), CHUNK);
        for (t, acc) in self.t_s.axis_chunks_iter(Axis(0), CHUNK).zip(rows) {
            buf.clear();
            buf.extend(
                t.iter()
                    .zip(acc.rows())
                    .map(|(&t_s, a)| Sample::new(t_s, [a[0], a[1], a[2]])),
            );
            each(&buf)?;
        }
        Ok(())
    }
}

/// What a reader would learn about samples handed over in arrays, gathered chunk by chunk.
///
/// Intervals longer than the gap rule, max(1 s, 5 × the median interval), are gaps and kept
/// out of the rate figures, as the readers do; the gaps themselves come from the detector.
pub(crate) struct Stats {
    median_interval_s: f64,
    head_mean_interval_s: f64,
    gap_min_s: f64,
    n: u64,
    first_t_s: f64,
    last_t_s: f64,
    sum_norm_g: f64,
    /// Intervals that are not gaps: count, sum and sum of squares of their deviation from
    /// the median (small numbers, so the variance keeps its digits), longest.
    n_dt: u64,
    sum_d: f64,
    sum_d2: f64,
    max_dt: f64,
}

impl Stats {
    /// Statistics for samples whose first timestamps show `head`.
    pub(crate) fn new(head: HeadInterval) -> Self {
        let median_interval_s = head.median_s;
        Stats {
            median_interval_s,
            head_mean_interval_s: head.mean_s,
            gap_min_s: (5.0 * median_interval_s).max(1.0),
            n: 0,
            first_t_s: f64::NAN,
            last_t_s: f64::NAN,
            sum_norm_g: 0.0,
            n_dt: 0,
            sum_d: 0.0,
            sum_d2: 0.0,
            max_dt: 0.0,
        }
    }

    /// Takes the next samples (already accepted by the detector).
    pub(crate) fn add(&mut self, chunk: &[Sample]) {
        for s in chunk {
            if self.n == 0 {
                self.first_t_s = s.t_s;
            } else {
                let dt = s.t_s - self.last_t_s;
                if dt <= self.gap_min_s {
                    let d = dt - self.median_interval_s;
                    self.n_dt += 1;
                    self.sum_d += d;
                    self.sum_d2 += d * d;
                    self.max_dt = self.max_dt.max(dt);
                }
            }
            self.last_t_s = s.t_s;
            self.sum_norm_g += s.norm_g();
            self.n += 1;
        }
    }

    /// The recording's info, with the gaps the detector reported.
    #[allow(clippy::cast_precision_loss)] // counts far below 2^53
    pub(crate) fn info(&self, gaps: Vec<Gap>) -> RecordingInfo {
        let (mean_dt, jitter_s) = if self.n_dt > 0 {
            let n = self.n_dt as f64;
            let mean_d = self.sum_d / n;
            let var = (self.sum_d2 / n - mean_d * mean_d).max(0.0);
            (self.median_interval_s + mean_d, var.sqrt())
        } else {
            (self.median_interval_s, 0.0)
        };
        let started = self.n > 0;
        RecordingInfo {
            format: Format::Memory,
            units_from: UnitsFrom::Caller,
            time_base: if started && self.first_t_s >= UNIX_FROM_S {
                TimeBase::Unix
            } else {
                TimeBase::Relative
            },
            n_samples: self.n,
            start_s: started.then_some(self.first_t_s),
            end_s: started.then_some(self.last_t_s),
            rate: RateInfo {
                rate_hz: 1.0 / mean_dt,
                median_interval_s: self.median_interval_s,
                head_mean_interval_s: self.head_mean_interval_s,
                jitter_s,
                max_interval_s: self.max_dt,
                nominal_hz: None,
            },
            gaps,
            mean_norm_g: if started {
                self.sum_norm_g / self.n as f64
            } else {
                0.0
            },
            ..RecordingInfo::default()
        }
    }
}

/// The events as a dict of columns: numpy arrays for numbers (`series_id` 0 when the
/// event is in no series, `imi_s` NaN when it has no interval), lists of str for `kind`
/// and `sites` (made into numpy string arrays on the Python side).
pub(crate) fn event_columns<'py>(
    py: Python<'py>,
    events: &[Event],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let f = |get: fn(&Event) -> f64| events.iter().map(get).collect::<Vec<f64>>();
    d.set_item("onset_s", f(|e| e.onset_s).into_pyarray(py))?;
    d.set_item("offset_s", f(|e| e.offset_s).into_pyarray(py))?;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    d.set_item("kind", kinds)?;
    let sites: Vec<String> = events.iter().map(|e| e.sites.to_string()).collect();
    d.set_item("sites", sites)?;
    d.set_item("peak_g", f(|e| e.peak_g).into_pyarray(py))?;
    d.set_item("mean_g", f(|e| e.mean_g).into_pyarray(py))?;
    d.set_item("angle_deg", f(|e| e.angle_deg).into_pyarray(py))?;
    d.set_item(
        "peak_jerk_g_per_s",
        f(|e| e.peak_jerk_g_per_s).into_pyarray(py),
    )?;
    d.set_item("confidence", f(|e| e.confidence).into_pyarray(py))?;
    let series: Vec<i64> = events
        .iter()
        .map(|e| e.series_id.map_or(0, i64::from))
        .collect();
    d.set_item("series_id", series.into_pyarray(py))?;
    d.set_item("imi_s", f(|e| e.imi_s.unwrap_or(f64::NAN)).into_pyarray(py))?;
    Ok(d)
}
