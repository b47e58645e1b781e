//! The human summary of a night: one short table, a row a line (`  name   value`).

use sleeptwitch::analysis::{InputReport, NightReport};
use sleeptwitch::io::{iso8601_utc, RecordingInfo, TimeBase, UnitsFrom};
use sleeptwitch::Kind;

/// Gaps and unworn stretches listed one by one; past this only their count is given.
const LISTED: usize = 10;

/// The table of one night; `header` is its first line (the file, or the night's files).
pub(crate) fn night(header: &str, r: &NightReport, seconds: Option<f64>, bytes: u64) -> String {
    let mut s = format!("{header}\n");
    let several = r.inputs.len() > 1;
    for input in &r.inputs {
        if several {
            s.push_str(&format!("  {}: {}\n", input.site, input.path));
        }
        recording(&mut s, &input.recording, &input.warnings);
        calibration(&mut s, input);
        unworn(&mut s, input);
    }
    detection(&mut s, r);
    if let Some(t) = seconds {
        push_row(
            &mut s,
            "time",
            format!("{t:.3} s ({:.0} MB/s of input)", bytes as f64 / 1e6 / t),
        );
    }
    s
}

fn push_row(s: &mut String, name: &str, value: String) {
    s.push_str(&format!("  {name:<12} {value}\n"));
}

/// Rows without a name under the row before, one per item up to [`LISTED`], then the count
/// of the rest.
fn push_listed(row: &mut impl FnMut(&str, String), items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    for item in items.take(LISTED) {
        row("", item);
    }
    if n > LISTED {
        row("", format!("… and {} more", n - LISTED));
    }
}

/// A time on the input's clock, as people read it.
fn when(t: f64, base: TimeBase) -> String {
    match base {
        TimeBase::Relative => format!("{t:.3} s"),
        _ => iso8601_utc(t),
    }
}

/// The table of a recording that was only read: what it holds and how long reading took.
pub(crate) fn read_only(
    path: &str,
    info: &RecordingInfo,
    seconds: Option<f64>,
    bytes: u64,
) -> String {
    let mut s = format!("{path}\n");
    let warnings: Vec<String> = info.warnings.iter().map(ToString::to_string).collect();
    recording(&mut s, info, &warnings);
    if let Some(t) = seconds {
        push_row(
            &mut s,
            "read",
            format!("{t:.3} s, {:.0} MB/s", bytes as f64 / 1e6 / t),
        );
    }
    s
}

fn recording(s: &mut String, info: &RecordingInfo, warnings: &[String]) {
    let mut row = |name: &str, value: String| push_row(s, name, value);
    row("samples", thousands(info.n_samples));
    row("duration", duration(info.duration_s()));
    let start = info.start_s.unwrap_or(0.0);
    row(
        "start",
        match info.time_base {
            TimeBase::Relative => format!("{start:.3} s (relative time)"),
            TimeBase::Unix => format!("{} (Unix time, clock as stored)", iso8601_utc(start)),
            TimeBase::Iso8601 => format!("{} UTC (ISO-8601 date-times)", iso8601_utc(start)),
        },
    );
    let r = &info.rate;
    // The detector's rate, when times rounded to a clock tick put the median elsewhere.
    let mean = r.head_mean_interval_s;
    let detector = if mean > 0.0 && (mean / r.median_interval_s - 1.0).abs() > 5e-4 {
        format!("; detector at {:.2} Hz", 1.0 / mean)
    } else {
        String::new()
    };
    row(
        "rate",
        format!(
            "{:.2} Hz ± {:.2} ms jitter (median interval {:.3} ms, longest {:.3} ms{detector})",
            r.rate_hz,
            r.jitter_s * 1e3,
            r.median_interval_s * 1e3,
            r.max_interval_s * 1e3
        ),
    );
    let from = match info.units_from {
        UnitsFrom::Header => "named in the header",
        UnitsFrom::Magnitude => "from the median |a| of the first 10 s",
        UnitsFrom::Caller => "as asked",
        UnitsFrom::Device => "fixed by the device",
    };
    row("units", format!("{} ({from})", info.units));
    if info.gaps.is_empty() {
        row("gaps", "none".into());
    } else {
        row(
            "gaps",
            format!(
                "{} ({} in all)",
                info.gaps.len(),
                duration(info.gap_time_s())
            ),
        );
        push_listed(
            &mut row,
            info.gaps.iter().map(|g| {
                format!(
                    "after {}: {}",
                    when(g.start_s, info.time_base),
                    duration(g.duration_s)
                )
            }),
        );
    }
    row(
        "mean |a|",
        format!("{:.4} g (before calibration)", info.mean_norm_g),
    );
    for w in warnings {
        row("warning", w.clone());
    }
}

fn calibration(s: &mut String, input: &InputReport) {
    let c = &input.calibration;
    let status = serde_json::to_value(c.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    push_row(
        s,
        "calibration",
        format!(
            "{status} ({} still windows, |a| − 1 RMS {:.1} → {:.1} mg)",
            c.n_still_windows,
            c.residual_before_g * 1e3,
            c.residual_after_g * 1e3
        ),
    );
}

/// The stretches in which the sensor lay as still as one off the body, when there are any.
fn unworn(s: &mut String, input: &InputReport) {
    if input.unworn.is_empty() {
        return;
    }
    let base = input.recording.time_base;
    let n = input.unworn.len();
    push_row(
        s,
        "unworn?",
        format!(
            "{} in {n} stretch{} as still as a sensor off the body, {} of it asleep (still \
             counted in the night; check against a wear log)",
            duration(input.unworn_s),
            if n == 1 { "" } else { "es" },
            duration(input.unworn_asleep_s),
        ),
    );
    push_listed(
        &mut |name, value| push_row(s, name, value),
        input.unworn.iter().map(|u| {
            format!(
                "from {} for {}",
                when(u.start_s, base),
                duration(u.end_s - u.start_s)
            )
        }),
    );
}

fn detection(s: &mut String, r: &NightReport) {
    let m = &r.metrics;
    let base = r
        .inputs
        .first()
        .map_or(TimeBase::Relative, |i| i.recording.time_base);
    let mut row = |name: &str, value: String| push_row(s, name, value);
    row(
        "sleep onset",
        r.sleep_onset_s.map_or("none found".into(), |t| {
            let latency = m.sleep_onset_latency_s.map_or(String::new(), |l| {
                format!(", {} after the start", duration(l))
            });
            format!("{}{latency}", when(t, base))
        }),
    );
    // Gaps are neither sleep nor wake: say how much of the time in bed they took, and when
    // it is much, that a device idling while still needs its gaps taken as stillness.
    let unrecorded = if m.unrecorded_s > 0.0 {
        format!(", {} of it unrecorded", duration(m.unrecorded_s))
    } else {
        String::new()
    };
    row(
        "total sleep",
        format!(
            "{} in {} bout{} (sleep period {}, WASO {}, time in bed {}{unrecorded})",
            duration(m.total_sleep_time_s),
            m.n_sleep_bouts,
            if m.n_sleep_bouts == 1 { "" } else { "s" },
            duration(m.sleep_period_s),
            duration(m.waso_s),
            duration(m.time_in_bed_s)
        ),
    );
    if m.unrecorded_s > 0.25 * m.time_in_bed_s {
        row(
            "note",
            "gaps are counted as neither sleep nor wake; for a device that stops storing \
             samples while still (ActiGraph idle-sleep mode) set sleep.gaps_are_still"
                .to_string(),
        );
    }
    let idx = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}/h"));
    row(
        "PLMS index",
        format!(
            "{} ({} PLMS in {} series; rule {})",
            idx(m.plms_index_per_h),
            m.n_plms,
            m.n_plm_series,
            m.rule.as_str()
        ),
    );
    row(
        "PLMW index",
        format!("{} ({} PLMW)", idx(m.plmw_index_per_h), m.n_plmw),
    );
    let pi = m
        .periodicity_index_ferri2006
        .map_or("–".into(), |v| format!("{v:.2}"));
    let imi = m.imi_median_s.map_or("–".into(), |v| format!("{v:.1} s"));
    row(
        "periodicity",
        format!(
            "{pi} (Ferri 2006, {} IMIs in sleep; median IMI {imi})",
            m.n_imi_sleep
        ),
    );
    let counts: Vec<String> = Kind::ALL
        .iter()
        .filter(|k| r.n_events.get(**k) > 0)
        .map(|k| format!("{} {}", k.as_str(), r.n_events.get(*k)))
        .collect();
    row(
        "events",
        if counts.is_empty() {
            "none".into()
        } else {
            counts.join(", ")
        },
    );
    if !m.hypnic_jerks.is_empty() {
        let times: Vec<String> = m
            .hypnic_jerks
            .iter()
            .take(5)
            .map(|j| when(j.onset_s, base))
            .collect();
        let more = m.hypnic_jerks.len().saturating_sub(5);
        let tail = if more > 0 {
            format!(" … and {more} more")
        } else {
            String::new()
        };
        row("jerks at", format!("{}{tail}", times.join(", ")));
    }
}

/// A count with thousands separators: 2,880,000.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration for people: `59.99 s`, `10 min 00.0 s`, `8 h 00 min 00 s`.
pub(crate) fn duration(seconds: f64) -> String {
    if seconds < 59.995 {
        return format!("{seconds:.2} s");
    }
    // Below 2^53 tenths for any recording: exact integers.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tenths = (seconds * 10.0).round() as u64;
    if tenths < 36_000 {
        return format!(
            "{} min {:02}.{} s",
            tenths / 600,
            tenths % 600 / 10,
            tenths % 10
        );
    }
    let s = (tenths + 5) / 10;
    format!("{} h {:02} min {:02} s", s / 3600, s / 60 % 60, s % 60)
}
