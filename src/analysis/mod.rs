//! Whole nights from files: which recordings make a night, running them through one
//! detector, and what is reported — the library side of `examples/analyze` and
//! `examples/stream`.
//!
//! - [`Input`] is a recording and the site it was worn at, read from `site:path`;
//!   [`group_nights`] and [`find_nights`] turn command-line arguments and folders into
//!   [`NightInputs`].
//! - [`analyze_night`] opens a night's recordings ([`crate::io::open`]), builds a
//!   [`Detector`](crate::Detector) for their sites at the rate [`detector_rate_hz`] gives,
//!   and runs them in step; [`analyze_night_with`] also hands out the events and samples.
//! - [`NightReport`] is the summary JSON (crate version, config, each recording's
//!   [`RecordingInfo`](crate::RecordingInfo) and calibration, the night's metrics, sleep
//!   bouts, event counts); [`CohortRow`] its flat row in a cohort's `summary.csv`.
//!
//! Any way of reading the same CSV — a file through [`analyze_night`], or standard input
//! through a [`CsvReader`](crate::io::CsvReader) pushed chunk by chunk — builds the same
//! detector (the rate is decided by the first 4,097 timestamps only) and so gives the same
//! events.

mod input;
mod report;
mod run;

pub use input::{
    file_stem, find_nights, group_nights, is_output_file, night_name, unique_names, Input,
    NightInputs,
};
pub use report::{
    check_output_path, write_cohort, write_whole, CohortRow, EventCounts, InputReport, NightReport,
    Reading, Software,
};
pub use run::{analyze_night, analyze_night_with, detector_rate_hz, Options};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Layout, Night, SimConfig};
    use crate::{Config, Event, Kind, Site};

    fn bilateral_night(dir: &std::path::Path) -> Vec<Input> {
        let mut sim = SimConfig::new(3);
        sim.duration_h = 1.0;
        sim.rate_hz = 25.0;
        sim.layout = Layout::Bilateral;
        let night = Night::new(&sim).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        night.write_to_dir(dir).unwrap();
        night
            .sites()
            .iter()
            .map(|s| Input::new(dir.join(night.file_name(*s)), *s))
            .collect()
    }

    #[test]
    fn a_bilateral_night_is_read_in_step_and_reported() {
        let dir = std::env::temp_dir().join(format!("sleeptwitch-an-{}", std::process::id()));
        let inputs = bilateral_night(&dir);
        let sites: Vec<Site> = inputs.iter().map(|i| i.site).collect();
        assert_eq!(sites, [Site::LeftAnkle, Site::RightAnkle, Site::Wrist]);
        let mut events: Vec<Event> = Vec::new();
        let mut seen = [0u64; 3];
        let report = analyze_night_with(
            &inputs,
            &Config::default(),
            &Options::default(),
            &mut events,
            &mut |i, s| seen[i] += s.len() as u64,
        )
        .unwrap();
        // Every row of each file was shown to the tap once: 1 h at 25 Hz is 90,000 rows.
        for (i, input) in inputs.iter().enumerate() {
            let rows = std::fs::read_to_string(&input.path)
                .unwrap()
                .lines()
                .count() as u64
                - 1;
            assert_eq!(rows, 90_000);
            assert_eq!(seen[i], rows, "{}", input.path.display());
            assert_eq!(report.inputs[i].recording.n_samples, rows);
            assert_eq!(report.inputs[i].site, input.site);
            assert!((report.inputs[i].detector_rate_hz - 25.0).abs() < 1e-6);
        }
        assert_eq!(report.n_events.total, events.len() as u64);
        for k in Kind::ALL {
            let n = events.iter().filter(|e| e.kind == k).count() as u64;
            assert_eq!(report.n_events.get(k), n, "{k}");
        }
        // Both ankles reached one detector: some leg movement was seen on both.
        assert!(
            events
                .iter()
                .any(|e| e.sites.contains(Site::LeftAnkle) && e.sites.contains(Site::RightAnkle)),
            "{events:?}"
        );
        assert_eq!(report.software.name, "sleeptwitch");
        let json = report.to_json().unwrap();
        let back: NightReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back.n_events, report.n_events);
        let row = CohortRow::ok("night", &inputs, &report);
        assert_eq!(row.status, "ok");
        assert_eq!(row.n_events, Some(events.len() as u64));

        // Written whole and read back as this night's, every number to its bits; not as
        // another night's, another config's, or from a file cut short.
        let path = dir.join("night.summary.json");
        let n_files = std::fs::read_dir(&dir).unwrap().count();
        write_whole(&path, |part| {
            std::fs::write(part, &json).map_err(|e| crate::Error::write(e, part))
        })
        .unwrap();
        let n_after = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(n_after, n_files + 1, "the file, and no part-file");
        let config = Config::default();
        let asked = crate::io::OpenOptions::default();
        let finished = |name: &str, inputs: &[Input], config: &Config| {
            NightReport::finished(&path, name, inputs, config, &asked)
        };
        assert_eq!(
            finished(&report.name, &inputs, &config),
            Some(report.clone())
        );
        let first = &inputs[0].path;
        let bytes = std::fs::read(first).unwrap();
        std::fs::write(first, [bytes.as_slice(), b"\n"].concat()).unwrap();
        assert_eq!(
            finished(&report.name, &inputs, &config),
            None,
            "a file grew"
        );
        std::fs::write(first, &bytes).unwrap();
        assert_eq!(finished("other", &inputs, &config), None);
        let mut swapped = inputs.clone();
        swapped.swap(0, 1);
        assert_eq!(finished(&report.name, &swapped, &config), None);
        assert_eq!(finished(&report.name, &inputs[..2], &config), None);
        let mut other = config.clone();
        other.segment.on_factor += 0.5;
        assert_eq!(finished(&report.name, &inputs, &other), None);
        let in_ms2 = crate::io::OpenOptions {
            units: Some(crate::io::AccelUnit::MPerS2),
            ..crate::io::OpenOptions::default()
        };
        let read_so = NightReport::finished(&path, &report.name, &inputs, &config, &in_ms2);
        assert_eq!(read_so, None, "read in other units");
        std::fs::write(&path, json.get(..json.len() / 2).unwrap()).unwrap();
        assert_eq!(finished(&report.name, &inputs, &config), None);
        // A write that fails leaves nothing.
        let x = dir.join("x.json");
        let failed = write_whole(&x, |part| {
            std::fs::write(part, "{").unwrap();
            Err(crate::Error::write(
                std::io::Error::other("disk full"),
                part,
            ))
        });
        // Its error names the file asked for, not the hidden one.
        let failed = failed.unwrap_err();
        assert_eq!(
            failed.position().and_then(|p| p.file.as_deref()),
            Some(x.as_path())
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), n_after);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_config_is_the_configs_error_not_the_recordings() {
        let mut config = Config::default();
        config.segment.on_factor = -3.0;
        let file = format!("{}/testdata/gap_100hz.csv", env!("CARGO_MANIFEST_DIR"));
        let e = analyze_night(&[Input::parse(&file)], &config, &Options::default()).unwrap_err();
        assert!(matches!(e.kind(), crate::ErrorKind::Config(_)), "{e:?}");
        assert_eq!(e.position(), None, "{e}");
        assert_eq!(
            e.to_string(),
            "`segment.on_factor` = -3 must be positive and finite"
        );
        // A rule the recording's rate breaks names the recording (100 Hz: below 25 Hz).
        let mut config = Config::default();
        config.signal.gravity_cutoff_hz = 30.0;
        let e = analyze_night(&[Input::parse(&file)], &config, &Options::default()).unwrap_err();
        assert!(e.to_string().starts_with(&format!("{file}: ")), "{e}");
    }

    #[test]
    fn bad_nights_are_errors_naming_the_file() {
        let e = analyze_night(&[], &Config::default(), &Options::default()).unwrap_err();
        assert!(e.to_string().contains("at least one"), "{e}");
        let two = [
            Input::new("a.csv", Site::Ankle),
            Input::new("b.csv", Site::LeftAnkle),
        ];
        let e = analyze_night(&two, &Config::default(), &Options::default()).unwrap_err();
        assert!(e.to_string().contains("cannot be one night"), "{e}");
        let bad = format!("{}/testdata/bad/nan.csv", env!("CARGO_MANIFEST_DIR"));
        let e = analyze_night(
            &[Input::parse(&bad)],
            &Config::default(),
            &Options::default(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with(&format!("{bad}:15:")), "{e}");
        let row = CohortRow::failed("nan", &[Input::parse(&bad)], &e);
        assert_eq!(row.status, "error");
        assert_eq!(row.error, e.to_string());
        let mut out = Vec::new();
        write_cohort(&mut out, &[row]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("name,status,error,inputs,"), "{text}");
        assert_eq!(text.lines().count(), 2);
    }
}
