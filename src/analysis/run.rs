//! Running one night's recordings through one detector.

use std::cell::RefCell;

use crate::io::{open, OpenOptions, RecordingInfo};
use crate::{Config, Detector, Error, ErrorKind, Event, Gap, Sample, Sink, Source};

use super::report::{InputReport, NightReport, Reading};
use super::Input;

/// How a night is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How each recording is opened (units, CSV parsing threads).
    pub open: OpenOptions,
    /// Samples read and pushed at a time, per recording. Events do not depend on it.
    pub chunk_len: usize,
}

impl Default for Options {
    /// Default opening, chunks of 4,096 samples.
    fn default() -> Self {
        Options {
            open: OpenOptions::default(),
            chunk_len: 4096,
        }
    }
}

/// The sample rate a detector is built for from what a reader knows once it is open, in Hz:
/// one over the mean of the first 4,097 timestamps' intervals that lie within half and one
/// and a half times their median ([`RateInfo::head_mean_interval_s`](crate::io::RateInfo),
/// which every reader fills as it opens), so that any way of reading the same file builds
/// the same detector, and times rounded to the millisecond give the rate the device ran at,
/// not one over a whole number of milliseconds. Info without that mean (built by hand, or
/// read from an older report) falls back to the median interval.
///
/// # Errors
/// When the reader has no sample interval (no two timestamps yet).
pub fn detector_rate_hz(info: &RecordingInfo) -> Result<f64, Error> {
    let usable = |dt: f64| dt > 0.0 && dt.is_finite();
    let dt = Some(info.rate.head_mean_interval_s)
        .filter(|&dt| usable(dt))
        .unwrap_or(info.rate.median_interval_s);
    if usable(dt) {
        Ok(1.0 / dt)
    } else {
        Err(Error::new(ErrorKind::Other(
            "no sample interval known: the recording is not open or has under two samples".into(),
        )))
    }
}

/// Analyses one night: opens its recordings, runs them in step through one detector and
/// reports (see [`analyze_night_with`] to also receive the events and samples).
///
/// ```no_run
/// use sleeptwitch::analysis::{analyze_night, Input, Options};
/// use sleeptwitch::{Config, Site};
/// let night = [
///     Input::new("night.left_ankle.csv", Site::LeftAnkle),
///     Input::new("night.right_ankle.csv", Site::RightAnkle),
/// ];
/// let report = analyze_night(&night, &Config::default(), &Options::default())?;
/// println!("PLMS index {:?}/h", report.metrics.plms_index_per_h);
/// # Ok::<(), sleeptwitch::Error>(())
/// ```
///
/// # Errors
/// As [`analyze_night_with`].
pub fn analyze_night(
    inputs: &[Input],
    config: &Config,
    options: &Options,
) -> Result<NightReport, Error> {
    analyze_night_with(inputs, config, options, &mut |_: Event| {}, &mut |_, _| {})
}

/// Analyses one night, sending each event to `sink` as it becomes final and each chunk of
/// samples read to `tap` (with the index of its input in `inputs`) before the detector
/// takes it.
///
/// The recordings are opened with [`open`], a detector is built for their sites with
/// [`Detector::with_sites`] at the rate [`detector_rate_hz`] gives, and [`Detector::run`]
/// pushes them in step by time. Memory is the readers' and the detector's: it does not grow
/// with the night.
///
/// # Errors
/// When `inputs` is empty, names a site twice or mixes `ankle` with `left_ankle` or
/// `right_ankle`; when the config breaks a rule that holds at any rate
/// ([`Config::validate_fields`]: checked before any file is opened, and the error names
/// no recording, as the config is at fault); when a recording cannot be opened or read (the
/// error names the file and the line or block); when the config breaks a rule for a
/// recording's rate (the error names the recording, for a night of one).
pub fn analyze_night_with(
    inputs: &[Input],
    config: &Config,
    options: &Options,
    sink: &mut dyn Sink,
    tap: &mut dyn FnMut(usize, &[Sample]),
) -> Result<NightReport, Error> {
    check_sites(inputs)?;
    config.validate_fields()?;
    let mut sources = Vec::with_capacity(inputs.len());
    let mut sites = Vec::with_capacity(inputs.len());
    for input in inputs {
        let source = open(&input.path, &options.open)?;
        let rate = detector_rate_hz(source.info()).map_err(|e| e.in_file(&input.path))?;
        sites.push((input.site, rate));
        sources.push(source);
    }
    let one_file = |e: Error| match inputs {
        [only] => e.in_file(&only.path),
        _ => e,
    };
    let mut detector = Detector::with_sites(config, &sites).map_err(|e| one_file(e.into()))?;
    let tap = RefCell::new(tap);
    let mut tapped: Vec<Tapped<'_, '_, '_>> = sources
        .iter_mut()
        .enumerate()
        .map(|(idx, inner)| Tapped {
            inner: &mut **inner,
            idx,
            tap: &tap,
        })
        .collect();
    let mut refs: Vec<&mut Tapped<'_, '_, '_>> = tapped.iter_mut().collect();
    let mut relay = Relay {
        sink,
        unworn: Vec::new(),
    };
    let summary = detector
        .run(&mut refs, options.chunk_len, &mut relay)
        .map_err(one_file)?;
    drop(refs);
    drop(tapped);
    let reports = inputs
        .iter()
        .zip(&sources)
        .zip(&summary.sites)
        .map(|((input, source), site)| {
            InputReport::new(input, source.info(), &site.stream, &relay.unworn)
        })
        .collect();
    let mut report = NightReport::new(super::night_name(inputs), reports, config, summary);
    report.reading = Reading::of(&options.open);
    Ok(report)
}

/// Refuses a set of inputs no detector can take.
fn check_sites(inputs: &[Input]) -> Result<(), Error> {
    let bad = |msg: String| Err(Error::new(ErrorKind::Other(msg)));
    if inputs.is_empty() {
        return bad("a night needs at least one recording".into());
    }
    if inputs.len() > 4 {
        return bad(format!(
            "a night takes at most four recordings, {} were given",
            inputs.len()
        ));
    }
    for (i, a) in inputs.iter().enumerate() {
        for b in inputs.iter().skip(i + 1) {
            if !super::input::compatible(a.site, b.site) {
                return bad(format!(
                    "{} and {} cannot be one night: sites {} and {}",
                    a.path.display(),
                    b.path.display(),
                    a.site,
                    b.site
                ));
            }
        }
    }
    Ok(())
}

/// A source whose chunks are shown to a tap as they are read.
struct Tapped<'a, 't, 'f> {
    inner: &'a mut (dyn Source + Send),
    idx: usize,
    tap: &'t RefCell<Tap<'f>>,
}

/// What is shown each chunk: the input's index and its samples.
type Tap<'f> = &'f mut dyn FnMut(usize, &[Sample]);

impl Source for Tapped<'_, '_, '_> {
    fn read_samples(&mut self, out: &mut [Sample]) -> Result<usize, Error> {
        let n = self.inner.read_samples(out)?;
        if n > 0 {
            if let Ok(mut tap) = self.tap.try_borrow_mut() {
                (*tap)(self.idx, out.get(..n).unwrap_or_default());
            }
        }
        Ok(n)
    }

    fn info(&self) -> &RecordingInfo {
        self.inner.info()
    }
}

/// Passes everything on to a `dyn Sink`, keeping the unworn stretches for the report.
struct Relay<'a> {
    sink: &'a mut dyn Sink,
    unworn: Vec<crate::Unworn>,
}

impl Sink for Relay<'_> {
    fn event(&mut self, event: Event) {
        self.sink.event(event);
    }
    fn gap(&mut self, gap: Gap) {
        self.sink.gap(gap);
    }
    fn sleep_onset(&mut self, t_s: f64) {
        self.sink.sleep_onset(t_s);
    }
    fn unworn(&mut self, stretch: crate::Unworn) {
        self.unworn.push(stretch);
        self.sink.unworn(stretch);
    }
}
