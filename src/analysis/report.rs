//! What an analysed night reports: the summary JSON and the cohort table's row.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::calibrate::{CalibrationReport, CalibrationStatus};
use crate::io::{iso8601_utc, AccelUnit, OpenOptions, RecordingInfo, TimeBase};
use crate::{Config, Error, Kind, NightMetrics, Position, Site, SiteSummary, SleepBout, Summary};

use super::Input;

/// The crate that made a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// The crate's name, `sleeptwitch`.
    pub name: String,
    /// Its version, e.g. `0.1.0`.
    pub version: String,
}

impl Default for Software {
    /// This crate, at this version.
    fn default() -> Self {
        Software {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Whether a device's stored body location (free text: `right wrist`, `Waist`, `left
/// ankle`) fits the site a recording is analysed as. Text that names a wrist fits only the
/// wrist; an ankle, any ankle site of its side (or of either side when it names none); a
/// trunk or limb place this crate has no site for (waist, hip, thigh, chest, arm…), none.
/// Text that names no body part (`unknown`, a code) fits every site, so it is not warned of.
fn location_fits(location: &str, site: Site) -> bool {
    let text = location.to_ascii_lowercase();
    let has = |w: &str| text.contains(w);
    if has("wrist") {
        return site == Site::Wrist;
    }
    if has("ankle") {
        return match site {
            Site::Ankle => true,
            Site::LeftAnkle => !has("right"),
            Site::RightAnkle => !has("left"),
            Site::Wrist => false,
        };
    }
    let elsewhere = [
        "waist", "hip", "thigh", "chest", "trunk", "back", "arm", "hand", "head", "neck",
    ];
    !elsewhere.iter().any(|w| has(w))
}

/// Events delivered in a night, per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCounts {
    /// Hypnic jerks.
    pub hypnic_jerk: u64,
    /// Leg movements in a periodic series.
    pub plm: u64,
    /// Leg movements outside any series.
    pub lm: u64,
    /// Posture changes.
    pub posture_change: u64,
    /// Wake-activity events.
    pub activity: u64,
    /// Movements of no scored class.
    pub other: u64,
    /// All events.
    pub total: u64,
}

impl EventCounts {
    /// Counts in the order of [`Kind::ALL`], as a detector's [`Summary`] holds them.
    pub fn from_array(n: [u64; 6]) -> Self {
        let [hypnic_jerk, plm, lm, posture_change, activity, other] = n;
        EventCounts {
            hypnic_jerk,
            plm,
            lm,
            posture_change,
            activity,
            other,
            total: n.iter().sum(),
        }
    }

    /// The count of one kind.
    pub fn get(&self, kind: Kind) -> u64 {
        match kind {
            Kind::HypnicJerk => self.hypnic_jerk,
            Kind::Plm => self.plm,
            Kind::Lm => self.lm,
            Kind::PostureChange => self.posture_change,
            Kind::Activity => self.activity,
            Kind::Other => self.other,
        }
    }
}

/// One recording of a night, as read and as the detector saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputReport {
    /// The file, as given.
    pub path: String,
    /// Where the sensor was worn.
    pub site: crate::Site,
    /// First sample's time as a UTC date-time (`2024-03-01 23:00:00.000`), for inputs with
    /// absolute times (the device clock read as UTC); `None` for relative times.
    pub start_utc: Option<String>,
    /// Time from the first to the last sample, in seconds.
    pub duration_s: f64,
    /// The rate the detector was built for (see
    /// [`detector_rate_hz`](super::detector_rate_hz)), in Hz.
    pub detector_rate_hz: f64,
    /// What the reader learnt: format, units, time base, samples, rate and jitter, gaps,
    /// mean |a|, warnings (their text) and device metadata.
    pub recording: RecordingInfo,
    /// The reader's warnings with their positions (`night.csv:52: last row cut short`),
    /// then one when the body location a device file stores disagrees with `site`.
    pub warnings: Vec<String>,
    /// The calibration the detector reached on this sensor.
    pub calibration: CalibrationReport,
    /// Movements the detector found on this sensor, before naming.
    pub n_movements: u64,
    /// Stretches in which the sensor lay as still as one off the body ([`crate::wear`]), in
    /// time order. They are reported, not taken out of the night: the sleep and the indices
    /// count them as the detector saw them.
    #[serde(default)]
    pub unworn: Vec<crate::Unworn>,
    /// Their total time, in seconds.
    #[serde(default)]
    pub unworn_s: f64,
    /// The part of it inside the night's sleep bouts, in seconds: what total sleep time
    /// holds of it.
    #[serde(default)]
    pub unworn_asleep_s: f64,
    /// The size of the recording's file when it was read, in bytes (none for standard input
    /// or samples handed over in memory): how `--resume` tells a file changed since.
    #[serde(default)]
    pub file_bytes: Option<u64>,
}

impl InputReport {
    /// The report of `input` from its reader's info, its part of the detector's summary and
    /// the unworn stretches the detector reported (every sensor's: those of `input.site` are
    /// kept). The part of them inside sleep is filled in by [`NightReport::new`].
    pub fn new(
        input: &Input,
        info: &RecordingInfo,
        stream: &SiteSummary,
        unworn: &[crate::Unworn],
    ) -> Self {
        let start_utc = match (info.time_base, info.start_s) {
            (TimeBase::Unix | TimeBase::Iso8601, Some(t)) => Some(iso8601_utc(t)),
            _ => None,
        };
        let mut warnings: Vec<String> = info.warnings.iter().map(ToString::to_string).collect();
        let stored = info.device.as_ref().and_then(|d| d.location.as_deref());
        if let Some(location) = stored.filter(|l| !location_fits(l, input.site)) {
            let how = if input.site_given {
                "given"
            } else {
                "the default when none is given"
            };
            warnings.push(format!(
                "the device file stores the body location {location:?}, but the recording is \
                 analysed as {} ({how}); give its site as a prefix, e.g. wrist:FILE",
                input.site
            ));
        }
        InputReport {
            path: input.path.display().to_string(),
            site: input.site,
            start_utc,
            duration_s: info.duration_s(),
            detector_rate_hz: stream.sample_rate_hz,
            recording: info.clone(),
            warnings,
            calibration: stream.calibration,
            n_movements: stream.n_movements,
            unworn: (unworn.iter())
                .filter(|u| u.site == input.site)
                .copied()
                .collect(),
            unworn_s: stream.unworn_s,
            unworn_asleep_s: 0.0,
            file_bytes: file_bytes(&input.path),
        }
    }
}

/// The size of the file at `path`, if it is one.
fn file_bytes(path: &Path) -> Option<u64> {
    std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
}

/// Everything known about an analysed night: the summary JSON of `examples/analyze`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NightReport {
    /// The night's name, from its file names (see [`night_name`](super::night_name)).
    pub name: String,
    /// The crate and version that made it.
    pub software: Software,
    /// The night's recordings.
    pub inputs: Vec<InputReport>,
    /// Sleep onset (start of the first sleep bout), in seconds on the input's clock.
    pub sleep_onset_s: Option<f64>,
    /// The same as a UTC date-time, for inputs with absolute times.
    pub sleep_onset_utc: Option<String>,
    /// The night's clinical metrics: sleep figures, PLM indices, periodicity, IMI histogram,
    /// jerk times, posture changes.
    pub metrics: NightMetrics,
    /// Sleep bouts, in time order.
    pub sleep_bouts: Vec<SleepBout>,
    /// Events delivered, per kind.
    pub n_events: EventCounts,
    /// The detector's bound on the time from an event's end to its delivery, in seconds.
    pub latency_s: f64,
    /// The detector's config, every field.
    pub config: Config,
    /// How the recordings were asked to be read, where that can change what is read.
    #[serde(default)]
    pub reading: Reading,
}

/// The reading options that can change what is read from a file (`analyze`'s `--units` and
/// `--idle-fill`): `None` where each file decides, as by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// Unit the CSV inputs' accelerations were read in ([`OpenOptions::units`]).
    pub units: Option<AccelUnit>,
    /// Whether runs of repeats in CSV inputs were left out as idle-sleep fill
    /// ([`OpenOptions::idle_fill`]).
    pub idle_fill: Option<bool>,
}

impl Reading {
    /// What `options` ask for.
    pub fn of(options: &OpenOptions) -> Self {
        Reading {
            units: options.units,
            idle_fill: options.idle_fill,
        }
    }
}

impl NightReport {
    /// A report from the inputs' reports, the config used and the detector's summary.
    pub fn new(
        name: String,
        mut inputs: Vec<InputReport>,
        config: &Config,
        summary: Summary,
    ) -> Self {
        for input in &mut inputs {
            input.unworn_asleep_s = (input.unworn.iter())
                .flat_map(|u| {
                    (summary.sleep_bouts.iter())
                        .map(|b| (u.end_s.min(b.end_s) - u.start_s.max(b.start_s)).max(0.0))
                })
                .sum();
        }
        let absolute = inputs.iter().any(|i| i.start_utc.is_some());
        let sleep_onset_s = summary.metrics.sleep_onset_s;
        NightReport {
            name,
            software: Software::default(),
            inputs,
            sleep_onset_s,
            sleep_onset_utc: sleep_onset_s.filter(|_| absolute).map(iso8601_utc),
            metrics: summary.metrics,
            sleep_bouts: summary.sleep_bouts,
            n_events: EventCounts::from_array(summary.n_events),
            latency_s: summary.latency_s,
            config: config.clone(),
            reading: Reading::default(),
        }
    }

    /// The summary as pretty-printed JSON.
    ///
    /// # Errors
    /// Only if serialising fails, which plain data does not.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::new(crate::ErrorKind::Other(format!("summary JSON: {e}"))))
    }

    /// Writes [`to_json`](Self::to_json) and a line break to `path`, whole or not at all
    /// ([`write_whole`]).
    ///
    /// # Errors
    /// As [`write_whole`], naming `path`.
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        write_whole(path, |part| {
            std::fs::write(part, self.to_json()? + "\n").map_err(|e| Error::write(e, part))
        })
    }
}

/// One night's row of a cohort table (`summary.csv`): a few figures per night, failures
/// included with their error.
///
/// Durations of the night are in hours, WASO in minutes, times in seconds on the input's
/// clock; empty fields are figures that do not exist (no sleep, a failed night).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CohortRow {
    /// The night's name (its output files are `NAME.*`).
    pub name: String,
    /// `ok`, or `error` when the night could not be analysed.
    pub status: String,
    /// The error, for a failed night.
    pub error: String,
    /// The recordings, as `site:path`, joined by `;`.
    pub inputs: String,
    /// Start of the first recording, in seconds on the input's clock.
    pub start_s: Option<f64>,
    /// The same as a UTC date-time, for absolute times.
    pub start_utc: Option<String>,
    /// Length of the first recording, in hours.
    pub duration_h: Option<f64>,
    /// Sample rate of the first recording, in Hz.
    pub rate_hz: Option<f64>,
    /// Gaps in all recordings.
    pub n_gaps: Option<u64>,
    /// Time inside gaps, all recordings, in seconds.
    pub gap_time_s: Option<f64>,
    /// Time the sensors lay as still as off the body, added over the inputs, in hours.
    pub unworn_h: Option<f64>,
    /// The part of it in sleep (inside total sleep time), added over the inputs, in hours.
    pub unworn_asleep_h: Option<f64>,
    /// Reader warnings, all recordings.
    pub n_warnings: Option<u64>,
    /// Calibration reached on the first recording.
    pub calibration: Option<CalibrationStatus>,
    /// Sleep onset, in seconds on the input's clock.
    pub sleep_onset_s: Option<f64>,
    /// Sleep-onset latency from the start of the recording, in minutes.
    pub sleep_onset_latency_min: Option<f64>,
    /// Time in bed, in hours.
    pub time_in_bed_h: Option<f64>,
    /// Total sleep time, in hours.
    pub total_sleep_time_h: Option<f64>,
    /// Sleep period time, in hours.
    pub sleep_period_h: Option<f64>,
    /// Wake after sleep onset, in minutes.
    pub waso_min: Option<f64>,
    /// Leg movements.
    pub n_lm: Option<u32>,
    /// PLMs with onset in sleep.
    pub n_plms: Option<u32>,
    /// PLMS per hour of sleep.
    pub plms_index_per_h: Option<f64>,
    /// PLMs in wake per hour of wake in bed.
    pub plmw_index_per_h: Option<f64>,
    /// Ferri 2006 periodicity index.
    pub periodicity_index: Option<f64>,
    /// Median IMI in sleep, in seconds.
    pub imi_median_s: Option<f64>,
    /// Hypnic jerks.
    pub n_hypnic_jerks: Option<u32>,
    /// Posture changes.
    pub n_posture_changes: Option<u32>,
    /// Posture changes per hour of sleep period.
    pub posture_changes_per_h_spt: Option<f64>,
    /// Wake-activity events.
    pub n_activity: Option<u32>,
    /// Events of every kind.
    pub n_events: Option<u64>,
    /// The scoring rule (`wasm2016`, `aasm2012`).
    pub rule: Option<String>,
}

/// `v` rounded to the nearest `1 / scale`.
fn round(v: f64, scale: f64) -> f64 {
    (v * scale).round() / scale
}

fn joined(inputs: &[Input]) -> String {
    inputs
        .iter()
        .map(|i| format!("{}:{}", i.site, i.path.display()))
        .collect::<Vec<_>>()
        .join(";")
}

impl CohortRow {
    /// The row of an analysed night.
    pub fn ok(name: &str, inputs: &[Input], r: &NightReport) -> Self {
        let m = &r.metrics;
        let first = r.inputs.first();
        // Rounded for people reading a spreadsheet: hours to 0.36 s, minutes and indices
        // to 0.001.
        let h = |s: f64| round(s / 3600.0, 1e4);
        let min = |s: f64| round(s / 60.0, 1e3);
        let per_h = |v: Option<f64>| v.map(|v| round(v, 1e3));
        CohortRow {
            name: name.into(),
            status: "ok".into(),
            error: String::new(),
            inputs: joined(inputs),
            start_s: first.and_then(|i| i.recording.start_s),
            start_utc: first.and_then(|i| i.start_utc.clone()),
            duration_h: first.map(|i| h(i.duration_s)),
            rate_hz: first.map(|i| round(i.recording.rate.rate_hz, 1e3)),
            n_gaps: Some(r.inputs.iter().map(|i| i.recording.gaps.len() as u64).sum()),
            gap_time_s: Some(
                r.inputs
                    .iter()
                    .map(|i| i.recording.gap_time_s())
                    .fold(0.0, |a, b| a + b),
            ),
            unworn_h: Some(h(r
                .inputs
                .iter()
                .map(|i| i.unworn_s)
                .fold(0.0, |a, b| a + b))),
            unworn_asleep_h: Some(h(r
                .inputs
                .iter()
                .map(|i| i.unworn_asleep_s)
                .fold(0.0, |a, b| a + b))),
            n_warnings: Some(r.inputs.iter().map(|i| i.warnings.len() as u64).sum()),
            calibration: first.map(|i| i.calibration.status),
            sleep_onset_s: m.sleep_onset_s,
            sleep_onset_latency_min: m.sleep_onset_latency_s.map(min),
            time_in_bed_h: Some(h(m.time_in_bed_s)),
            total_sleep_time_h: Some(h(m.total_sleep_time_s)),
            sleep_period_h: Some(h(m.sleep_period_s)),
            waso_min: Some(min(m.waso_s)),
            n_lm: Some(m.n_lm),
            n_plms: Some(m.n_plms),
            plms_index_per_h: per_h(m.plms_index_per_h),
            plmw_index_per_h: per_h(m.plmw_index_per_h),
            periodicity_index: per_h(m.periodicity_index_ferri2006),
            imi_median_s: m.imi_median_s,
            n_hypnic_jerks: Some(m.n_hypnic_jerks),
            n_posture_changes: Some(m.n_posture_changes),
            posture_changes_per_h_spt: per_h(m.posture_changes_per_h_spt),
            n_activity: Some(m.n_activity),
            n_events: Some(r.n_events.total),
            rule: Some(m.rule.as_str().into()),
        }
    }

    /// The row of a night that failed, with its error.
    pub fn failed(name: &str, inputs: &[Input], error: &Error) -> Self {
        CohortRow {
            name: name.into(),
            status: "error".into(),
            error: error.to_string(),
            inputs: joined(inputs),
            ..CohortRow::default()
        }
    }
}

/// Writes a cohort table: a header, then one row per night.
///
/// # Errors
/// When writing fails.
pub fn write_cohort<W: std::io::Write>(w: W, rows: &[CohortRow]) -> Result<(), Error> {
    let mut wtr = csv::Writer::from_writer(w);
    for row in rows {
        wtr.serialize(row)
            .map_err(|e| Error::new(crate::ErrorKind::Other(format!("cohort table: {e}"))))?;
    }
    wtr.flush()
        .map_err(|e| Error::new(crate::ErrorKind::Write(e)))
}

/// Checks, before any work is done, that an output can be created at `path`: its folder
/// exists (a bare file name is in the current folder). `-`, standard output, always can.
///
/// The file itself is not created, so a night that fails leaves nothing behind; a write can
/// still fail later (no permission, a full disk) and then says so.
///
/// # Errors
/// [`ErrorKind::Write`](crate::ErrorKind::Write) naming `path`, when its folder does not
/// exist or is not a folder.
pub fn check_output_path(path: &Path) -> Result<(), Error> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if path == Path::new("-") || dir.is_dir() {
        return Ok(());
    }
    let why = if dir.exists() {
        format!("{} is not a folder", dir.display())
    } else {
        format!("folder {} does not exist", dir.display())
    };
    Err(Error::write(
        std::io::Error::new(std::io::ErrorKind::NotFound, why),
        path,
    ))
}

/// Writes a file whole or not at all: `write` writes to a hidden name beside `path` (unique
/// to this process), which is then renamed to `path`. A run stopped while writing leaves no
/// file at `path`; one that fails removes what it wrote.
///
/// # Errors
/// What `write` returns, or [`ErrorKind::Write`](crate::ErrorKind::Write) when the rename
/// fails; either names `path`, not the hidden name.
pub fn write_whole(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let file = path
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let part = path.with_file_name(format!(".{file}.{}.part", std::process::id()));
    let written = write(&part)
        .map_err(|e| match e.position() {
            Some(at) if at.file.as_deref() == Some(part.as_path()) => {
                let at = Position {
                    file: Some(path.to_path_buf()),
                    ..at.clone()
                };
                Error::at(e.into_kind(), at)
            }
            _ => e.in_file(path),
        })
        .and_then(|()| std::fs::rename(&part, path).map_err(|e| Error::write(e, path)));
    if written.is_err() {
        // Nothing half-written is left behind (there may be nothing to remove).
        let _ = std::fs::remove_file(&part);
    }
    written
}

impl NightReport {
    /// The report a former run left at `path` (a summary JSON), when it is this night's as
    /// this config and these reading options would make it: it reads back, and names
    /// `name`, the same recordings at the same sites and of the same sizes, `config`, the
    /// [`Reading`] of `options` and this crate's version. Whether the night's other outputs
    /// are there is the caller's to check; a recording rewritten since at the same size is
    /// not noticed.
    pub fn finished(
        path: &Path,
        name: &str,
        inputs: &[Input],
        config: &Config,
        options: &OpenOptions,
    ) -> Option<NightReport> {
        let report: NightReport = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        let same_inputs = report.inputs.len() == inputs.len()
            && (report.inputs.iter().zip(inputs)).all(|(r, i)| {
                r.path == i.path.display().to_string()
                    && r.site == i.site
                    && r.file_bytes == file_bytes(&i.path)
            });
        (same_inputs
            && report.name == name
            && report.config == *config
            && report.reading == Reading::of(options)
            && report.software == Software::default())
        .then_some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_body_locations_fit_their_sites() {
        use Site::{Ankle, LeftAnkle, RightAnkle, Wrist};
        // (location as stored, sites it fits)
        let cases: [(&str, &[Site]); 8] = [
            ("right wrist", &[Wrist]),
            ("Wrist", &[Wrist]),
            ("left ankle", &[Ankle, LeftAnkle]),
            ("Right Ankle", &[Ankle, RightAnkle]),
            ("ankle", &[Ankle, LeftAnkle, RightAnkle]),
            ("Waist", &[]),
            ("thigh", &[]),
            ("unknown", &[Ankle, LeftAnkle, RightAnkle, Wrist]),
        ];
        for (location, fits) in cases {
            for site in Site::ALL {
                assert_eq!(
                    location_fits(location, site),
                    fits.contains(&site),
                    "{location:?} at {site}"
                );
            }
        }
    }

    #[test]
    fn a_stored_location_that_disagrees_with_the_site_is_warned_of() {
        let info = RecordingInfo {
            device: Some(crate::io::DeviceInfo {
                location: Some("right wrist".into()),
                ..crate::io::DeviceInfo::default()
            }),
            ..RecordingInfo::default()
        };
        let stream = SiteSummary::default();
        let bare = Input::parse("night.cwa");
        let report = InputReport::new(&bare, &info, &stream, &[]);
        assert_eq!(
            report.warnings,
            [
                "the device file stores the body location \"right wrist\", but the recording is \
              analysed as ankle (the default when none is given); give its site as a prefix, \
              e.g. wrist:FILE"
            ]
        );
        // The site used is not changed.
        assert_eq!(report.site, Site::Ankle);
        let given = Input::parse("left_ankle:night.cwa");
        let report = InputReport::new(&given, &info, &stream, &[]);
        assert!(
            report.warnings[0].contains("as left_ankle (given)"),
            "{report:?}"
        );
        let wrist = Input::parse("wrist:night.cwa");
        assert!(InputReport::new(&wrist, &info, &stream, &[])
            .warnings
            .is_empty());
    }

    #[test]
    fn outputs_need_an_existing_folder() {
        let dir = std::env::temp_dir().join(format!("sleeptwitch-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        check_output_path(&dir.join("e.csv")).unwrap();
        check_output_path(Path::new("e.csv")).unwrap();
        check_output_path(Path::new("-")).unwrap();
        let missing = dir.join("missing").join("e.csv");
        let e = check_output_path(&missing).unwrap_err();
        assert!(matches!(e.kind(), crate::ErrorKind::Write(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: write failed: folder {} does not exist",
                missing.display(),
                dir.join("missing").display()
            )
        );
        // A file where the folder should be.
        let file = dir.join("f");
        std::fs::write(&file, "").unwrap();
        let e = check_output_path(&file.join("e.csv")).unwrap_err();
        assert!(e.to_string().ends_with("is not a folder"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
