//! The picture of a night (SVG): movement signal, events by class, PLM series, sleep, gaps
//! and the IMI histogram, on one time axis.
//!
//! Each event is one rectangle in its class's colour and each class present has one legend
//! swatch of that colour; no other element uses those colours (tests count them).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use sleeptwitch::analysis::NightReport;
use sleeptwitch::io::TimeBase;
use sleeptwitch::{Event, Kind, Site};

/// Picture size, in pixels.
const SIZE: (u32, u32) = (1280, 760);

/// Lanes of the event panel, top to bottom.
const LANES: [Kind; 6] = [
    Kind::HypnicJerk,
    Kind::Plm,
    Kind::Lm,
    Kind::PostureChange,
    Kind::Activity,
    Kind::Other,
];

/// The colour of a class's events; used for nothing else.
pub(crate) fn kind_color(kind: Kind) -> RGBColor {
    match kind {
        Kind::HypnicJerk => RGBColor(0xD6, 0x27, 0x28),
        Kind::Plm => RGBColor(0x1F, 0x77, 0xB4),
        Kind::Lm => RGBColor(0x2C, 0xA0, 0x2C),
        Kind::PostureChange => RGBColor(0xFF, 0x7F, 0x0E),
        Kind::Activity => RGBColor(0x8C, 0x56, 0x4B),
        Kind::Other => RGBColor(0xBC, 0xBD, 0x22),
    }
}

/// A class's name in the picture.
fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::HypnicJerk => "hypnic jerk",
        Kind::Plm => "PLM",
        Kind::Lm => "LM",
        Kind::PostureChange => "posture change",
        Kind::Activity => "activity",
        Kind::Other => "other",
    }
}

const SLEEP: RGBColor = RGBColor(0xDD, 0xEE, 0xFF);
const GAP: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const SERIES: RGBColor = RGBColor(0x08, 0x30, 0x6B);
const HIST: RGBColor = RGBColor(0x6B, 0xAE, 0xD6);
const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);

fn trace_color(site: Site) -> RGBColor {
    match site {
        Site::Ankle | Site::LeftAnkle => RGBColor(0x40, 0x40, 0x40),
        Site::RightAnkle => RGBColor(0x90, 0x90, 0x90),
        Site::Wrist => RGBColor(0x94, 0x67, 0xBD),
    }
}

/// A movement trace: runs of (time in s, RMS change in g), split at gaps.
pub(crate) type Runs = Vec<Vec<(f64, f64)>>;

/// What is drawn.
pub(crate) struct Night<'a> {
    pub(crate) name: &'a str,
    pub(crate) report: &'a NightReport,
    pub(crate) events: &'a [Event],
    /// Per input: its site and its trace as runs of (time in s, RMS change in g).
    pub(crate) traces: Vec<(Site, Runs)>,
}

type Res<T> = Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing failed: {e:?}")
}

/// Draws the night into an SVG file at `path`.
pub(crate) fn draw(path: &Path, night: &Night<'_>) -> Res<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let r = night.report;
    let t0 = r
        .inputs
        .iter()
        .filter_map(|i| i.recording.start_s)
        .fold(f64::INFINITY, f64::min);
    let t1 = r
        .inputs
        .iter()
        .filter_map(|i| i.recording.end_s)
        .fold(f64::NEG_INFINITY, f64::max);
    if !(t0.is_finite() && t1 > t0) {
        return Err("nothing to draw: the night has under two samples".into());
    }
    let absolute = r
        .inputs
        .iter()
        .any(|i| i.recording.time_base != TimeBase::Relative);
    let hours = |t: f64| (t - t0) / 3600.0;
    let span_h = hours(t1);

    let (title, rest) = root.split_vertically(56);
    draw_title(&title, night, absolute)?;
    let (signal, rest) = rest.split_vertically(300);
    let (lanes, bottom) = rest.split_vertically(230);
    let (legend, hist) = bottom.split_horizontally(760);

    // Seconds on short recordings, minutes otherwise.
    let fine = span_h < 0.5;
    let x_fmt = move |x: &f64| -> String {
        let secs = if absolute {
            (t0 + x * 3600.0).rem_euclid(86_400.0)
        } else {
            x * 3600.0
        };
        // Whole seconds of a recording: far below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let s = secs.max(0.0).round() as u64;
        match (absolute, fine) {
            (true, true) => format!("{:02}:{:02}:{:02}", s / 3600 % 24, s / 60 % 60, s % 60),
            (true, false) => format!("{:02}:{:02}", s / 3600 % 24, s / 60 % 60),
            (false, true) => format!("{}:{:02}", s / 60, s % 60),
            (false, false) => format!("{}:{:02}", s / 3600, s / 60 % 60),
        }
    };
    let x_desc = match (absolute, fine) {
        (true, true) => "time of day, h:min:s (device clock, as UTC)",
        (true, false) => "time of day, h:min (device clock, as UTC)",
        (false, true) => "time from start, min:s",
        (false, false) => "time from start, h:min",
    };

    // Movement signal.
    let y_max = night
        .traces
        .iter()
        .flat_map(|(_, runs)| runs.iter().flatten())
        .map(|p| p.1)
        .fold(0.01f64, f64::max)
        * 1.5;
    let mut chart = ChartBuilder::on(&signal)
        .margin_left(10)
        .margin_right(20)
        .margin_top(8)
        .x_label_area_size(28)
        .y_label_area_size(120)
        .build_cartesian_2d(0.0..span_h, (1e-3..y_max).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(12)
        .x_label_formatter(&x_fmt)
        .y_labels(5)
        .y_desc("movement (RMS |Δa|, g)")
        .label_style(("sans-serif", 12).into_font().color(&TEXT))
        .draw()
        .map_err(err)?;
    for b in &r.sleep_bouts {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(hours(b.start_s), 1e-3), (hours(b.end_s), y_max)],
                SLEEP.filled(),
            )))
            .map_err(err)?;
    }
    for input in &r.inputs {
        for g in &input.recording.gaps {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(hours(g.start_s), 1e-3), (hours(g.end_s()), y_max)],
                    GAP.filled(),
                )))
                .map_err(err)?;
        }
    }
    for (site, runs) in &night.traces {
        let color = trace_color(*site);
        for run in runs {
            chart
                .draw_series(LineSeries::new(
                    run.iter().map(|&(t, v)| (hours(t), v.max(1e-3))),
                    color.stroke_width(1),
                ))
                .map_err(err)?;
        }
    }
    if let Some(onset) = r.sleep_onset_s {
        let x = hours(onset);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, 1e-3), (x, y_max)],
                SERIES.stroke_width(1),
            )))
            .map_err(err)?;
        let label = format!("sleep onset {}", x_fmt(&x));
        let (px, py) = chart.backend_coord(&(x, y_max));
        root.draw(&Text::new(
            label,
            (px + 4, py + 4),
            ("sans-serif", 12).into_font().color(&SERIES),
        ))
        .map_err(err)?;
    }

    // Events, one lane per class.
    let n_lanes = LANES.len() as f64;
    let mut ev = ChartBuilder::on(&lanes)
        .margin_left(10)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(120)
        .build_cartesian_2d(0.0..span_h, 0.0..n_lanes)
        .map_err(err)?;
    ev.configure_mesh()
        .disable_y_mesh()
        .disable_x_mesh()
        .y_labels(0)
        .x_labels(12)
        .x_label_formatter(&x_fmt)
        .x_desc(x_desc)
        .label_style(("sans-serif", 12).into_font().color(&TEXT))
        .draw()
        .map_err(err)?;
    for b in &r.sleep_bouts {
        ev.draw_series(std::iter::once(Rectangle::new(
            [(hours(b.start_s), 0.0), (hours(b.end_s), n_lanes)],
            SLEEP.filled(),
        )))
        .map_err(err)?;
    }
    let lane_y = |k: Kind| n_lanes - 1.0 - LANES.iter().position(|l| *l == k).unwrap_or(5) as f64;
    for k in LANES {
        let y = lane_y(k) + 0.5;
        let (px, py) = ev.backend_coord(&(0.0, y));
        root.draw(&Text::new(
            kind_label(k),
            (px - 112, py - 6),
            ("sans-serif", 12).into_font().color(&TEXT),
        ))
        .map_err(err)?;
    }
    // At least a pixel and a half wide, so a 0.1 s jerk shows on an 8 h axis.
    let min_w = span_h / 800.0;
    ev.draw_series(night.events.iter().map(|e| {
        let y = lane_y(e.kind);
        let a = hours(e.onset_s);
        let b = hours(e.offset_s).max(a + min_w);
        Rectangle::new([(a, y + 0.15), (b, y + 0.85)], kind_color(e.kind).filled())
    }))
    .map_err(err)?;
    // PLM series: a bar over each series, from its first onset to its last offset.
    let mut series: Vec<(u32, f64, f64)> = Vec::new();
    for e in night.events.iter().filter(|e| e.kind == Kind::Plm) {
        let Some(id) = e.series_id else { continue };
        match series.iter_mut().find(|s| s.0 == id) {
            Some(s) => {
                s.1 = s.1.min(e.onset_s);
                s.2 = s.2.max(e.offset_s);
            }
            None => series.push((id, e.onset_s, e.offset_s)),
        }
    }
    let y = lane_y(Kind::Plm) + 0.95;
    ev.draw_series(series.iter().map(|s| {
        PathElement::new(
            vec![(hours(s.1), y), (hours(s.2).max(hours(s.1) + min_w), y)],
            SERIES.stroke_width(3),
        )
    }))
    .map_err(err)?;

    draw_legend(&legend, night)?;
    draw_histogram(&hist, r)?;
    // The SVG is written to the file here.
    root.present().map_err(|e| format!("write failed: {e}"))
}

fn draw_title(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    night: &Night<'_>,
    absolute: bool,
) -> Res<()> {
    let r = night.report;
    let m = &r.metrics;
    let date = r
        .inputs
        .first()
        .and_then(|i| i.start_utc.clone())
        .filter(|_| absolute)
        .map(|d| format!("  ·  from {}", d.get(..16).unwrap_or(&d)))
        .unwrap_or_default();
    let sites: Vec<String> = r.inputs.iter().map(|i| i.site.to_string()).collect();
    area.draw(&Text::new(
        format!("{}  ·  {}{}", night.name, sites.join(" + "), date),
        (12, 8),
        ("sans-serif", 20).into_font().color(&TEXT),
    ))
    .map_err(err)?;
    let idx = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1}/h"));
    let line = format!(
        "time in bed {:.1} h   total sleep {:.1} h   PLMS index {}   PLMW index {}   PLMs {} of {} leg movements   hypnic jerks {}   posture changes {}   rule {}",
        m.time_in_bed_s / 3600.0,
        m.total_sleep_time_s / 3600.0,
        idx(m.plms_index_per_h),
        idx(m.plmw_index_per_h),
        m.n_plm,
        m.n_lm,
        m.n_hypnic_jerks,
        m.n_posture_changes,
        m.rule.as_str(),
    );
    area.draw(&Text::new(
        line,
        (12, 34),
        ("sans-serif", 13).into_font().color(&TEXT),
    ))
    .map_err(err)?;
    Ok(())
}

fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, night: &Night<'_>) -> Res<()> {
    let font = ("sans-serif", 13).into_font().color(&TEXT);
    let mut y = 16;
    let mut x = 140;
    for k in LANES {
        let n = night.events.iter().filter(|e| e.kind == k).count();
        if n == 0 {
            continue;
        }
        area.draw(&Rectangle::new(
            [(x, y), (x + 14, y + 12)],
            kind_color(k).filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            format!("{} ({n})", kind_label(k)),
            (x + 20, y),
            font.clone(),
        ))
        .map_err(err)?;
        x += 200;
        if x > 600 {
            x = 140;
            y += 22;
        }
    }
    y += 30;
    let swatches: [(RGBColor, String); 3] = [
        (SLEEP, "sleep".into()),
        (GAP, "gap (no samples)".into()),
        (SERIES, "PLM series · sleep onset".into()),
    ];
    x = 140;
    for (c, label) in swatches {
        area.draw(&Rectangle::new([(x, y), (x + 14, y + 12)], c.filled()))
            .map_err(err)?;
        area.draw(&Text::new(label, (x + 20, y), font.clone()))
            .map_err(err)?;
        x += 200;
    }
    y += 24;
    x = 140;
    for (site, _) in &night.traces {
        let c = trace_color(*site);
        area.draw(&PathElement::new(
            vec![(x, y + 6), (x + 14, y + 6)],
            c.stroke_width(2),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            format!("{site} movement"),
            (x + 20, y),
            font.clone(),
        ))
        .map_err(err)?;
        x += 200;
    }
    Ok(())
}

fn draw_histogram(area: &DrawingArea<SVGBackend<'_>, Shift>, r: &NightReport) -> Res<()> {
    let h = &r.metrics.imi_histogram;
    let w = h.bin_width_s;
    let n_bins = h.counts.len() as f64;
    let top = h
        .counts
        .iter()
        .copied()
        .chain(std::iter::once(h.n_overflow))
        .max()
        .unwrap_or(0)
        .max(1);
    let x_end = (n_bins + 2.0) * w;
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .caption(
            format!("IMI in sleep ({} intervals)", h.total()),
            ("sans-serif", 13).into_font().color(&TEXT),
        )
        .x_label_area_size(26)
        .y_label_area_size(36)
        .build_cartesian_2d(0.0..x_end, 0.0..f64::from(top) * 1.1)
        .map_err(err)?;
    let overflow_at = (n_bins + 0.5) * w;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(6)
        .x_label_formatter(&|x: &f64| {
            if *x >= overflow_at - 0.5 * w {
                ">90 s".into()
            } else {
                format!("{x:.0} s")
            }
        })
        .y_labels(4)
        .label_style(("sans-serif", 11).into_font().color(&TEXT))
        .draw()
        .map_err(err)?;
    let bars = h
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| (i as f64 * w, *c))
        .chain(std::iter::once((overflow_at - 0.5 * w, h.n_overflow)))
        .filter(|(_, c)| *c > 0);
    chart
        .draw_series(bars.map(|(x, c)| {
            Rectangle::new([(x + 0.1, 0.0), (x + w - 0.1, f64::from(c))], HIST.filled())
        }))
        .map_err(err)?;
    // The overflow bar's label, above it (the axis labels fall on round seconds).
    chart
        .draw_series(std::iter::once(Text::new(
            format!(">90 s: {}", h.n_overflow),
            (
                overflow_at - 3.5 * w,
                f64::from(h.n_overflow.max(1)) + f64::from(top) * 0.08,
            ),
            ("sans-serif", 11).into_font().color(&TEXT),
        )))
        .map_err(err)?;
    Ok(())
}
