//! The preamble ActiLife writes above a raw-data CSV export of an ActiGraph.
//!
//! Ten lines: a banner naming the device, the date format and the sample rate
//! (`------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware v2.5.0 date
//! format M/d/yyyy at 30 Hz  Filter Normal -----------`), then `Serial Number: …`,
//! `Start Time HH:MM:SS`, `Start Date` in that date format, the epoch period, download time
//! and date, memory address, battery voltage, and a closing line of dashes. The rows below
//! hold x, y, z in g, one per sample from the start on at the rate; a `Timestamp` column, if
//! exported, repeats what the row number says, in the local date format.

use crate::io::DeviceInfo;
use crate::ErrorKind;

use super::time::days_from_civil;

/// How the first line of an ActiLife export starts.
pub(crate) const BANNER: &[u8] = b"------------ Data File Created By ActiGraph";

/// Most lines a preamble may take before its closing line of dashes.
const MAX_LINES: usize = 20;

/// What the preamble says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Preamble {
    /// Samples per second.
    pub(crate) rate_hz: f64,
    /// The first sample's time, device clock (local time) as Unix seconds.
    pub(crate) start_s: f64,
    /// Device type and serial, from the banner and the serial line.
    pub(crate) device: DeviceInfo,
    /// Lines the preamble takes, the closing one included.
    pub(crate) n_lines: u64,
    /// Bytes the preamble takes, its last line break included.
    pub(crate) n_bytes: usize,
}

fn bad(reason: impl Into<String>) -> ErrorKind {
    ErrorKind::BadHeader {
        reason: format!("ActiLife preamble: {}", reason.into()),
    }
}

/// Reads the preamble at the start of `text`; `Ok(None)` when `text` ends before its closing
/// line (read more and call again).
///
/// # Errors
/// [`ErrorKind::BadHeader`] when the closing line does not come within 20 lines, or the
/// rate, start time or start date cannot be read.
pub(crate) fn parse(text: &[u8]) -> Result<Option<Preamble>, ErrorKind> {
    let mut lines: Vec<&str> = Vec::new();
    let mut n_bytes = 0;
    let mut rest = text;
    loop {
        let Some(end) = rest.iter().position(|&c| c == b'\n') else {
            return Ok(None);
        };
        let (line, after) = rest.split_at(end);
        n_bytes += end + 1;
        rest = after.get(1..).unwrap_or_default();
        let line = std::str::from_utf8(line)
            .map_err(|_| bad(format!("line {} is not UTF-8", lines.len() + 1)))?
            .trim_end_matches('\r');
        let closing = !lines.is_empty() && line.starts_with("---");
        lines.push(line);
        if closing {
            break;
        }
        if lines.len() >= MAX_LINES {
            return Err(bad(format!(
                "no closing line of dashes in {MAX_LINES} lines"
            )));
        }
    }
    let banner = lines.first().copied().unwrap_or_default();
    let after = |key: &str| banner.find(key).map(|i| &banner[i + key.len()..]);
    let rate_hz = after(" at ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse::<f64>().ok())
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| bad(format!("no sample rate (\"at N Hz\") in {banner:?}")))?;
    let date_format = after("date format ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("M/d/yyyy");
    let field = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim_start_matches(':').trim())
    };
    let time = field("Start Time").ok_or_else(|| bad("no Start Time line"))?;
    let date = field("Start Date").ok_or_else(|| bad("no Start Date line"))?;
    let days = parse_date(date, date_format).ok_or_else(|| {
        bad(format!(
            "start date {date:?} is not a date as {date_format}"
        ))
    })?;
    let secs =
        parse_time(time).ok_or_else(|| bad(format!("start time {time:?} is not HH:MM:SS")))?;
    #[allow(clippy::cast_precision_loss)] // days since 1970 are far below 2^53
    let start_s = days as f64 * 86_400.0 + secs;
    let device_type = after("Created By ")
        .map(|r| r.split(" ActiLife").next().unwrap_or(r).trim())
        .unwrap_or("ActiGraph");
    let device = DeviceInfo {
        device_type: device_type.to_string(),
        serial: field("Serial Number").unwrap_or_default().to_string(),
        rate_hz: Some(rate_hz),
        start_s: Some(start_s),
        extra: vec![("date format".into(), date_format.into())],
        ..DeviceInfo::default()
    };
    Ok(Some(Preamble {
        rate_hz,
        start_s,
        device,
        n_lines: lines.len() as u64,
        n_bytes,
    }))
}

/// Days since 1970-01-01 of `date` written as `format` (`M/d/yyyy`, `dd.MM.yyyy`,
/// `yyyy-MM-dd`…: the order of d, M and y is what counts).
fn parse_date(date: &str, format: &str) -> Option<i64> {
    let mut order: Vec<(usize, char)> = ['d', 'M', 'y']
        .iter()
        .map(|&c| format.find(c).map(|i| (i, c)))
        .collect::<Option<_>>()?;
    order.sort_unstable();
    let parts: Vec<i64> = date
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (mut day, mut month, mut year) = (0, 0, 0);
    for ((_, which), v) in order.iter().zip([*a, *b, *c]) {
        match which {
            'd' => day = v,
            'M' => month = v,
            _ => year = v,
        }
    }
    let ok = (1..=12).contains(&month) && (1..=31).contains(&day) && (1900..=2200).contains(&year);
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    // A day past the month's end (31 April) comes back as another date: refuse it.
    let days = days_from_civil(year, month, day);
    (ok && super::time::civil_from_days(days) == (year, month, day)).then_some(days)
}

/// Seconds since midnight of `HH:MM:SS`.
fn parse_time(time: &str) -> Option<f64> {
    let parts: Vec<u32> = time
        .split(':')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    (*h < 24 && *m < 60 && *s < 60).then(|| f64::from(h * 3600 + m * 60 + s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 \
        Firmware v2.5.0 date format M/d/yyyy at 30 Hz  Filter Normal -----------\r\n\
        Serial Number: CLE2B20130000\r\n\
        Start Time 22:15:00\r\n\
        Start Date 5/8/2016\r\n\
        Epoch Period (hh:mm:ss) 00:00:00\r\n\
        Download Time 10:29:58\r\n\
        Download Date 5/15/2016\r\n\
        Current Memory Address: 0\r\n\
        Current Battery Voltage: 4.21     Mode = 12\r\n\
        --------------------------------------------------\r\n\
        Accelerometer X,Accelerometer Y,Accelerometer Z\r\n";

    #[test]
    fn the_preamble_gives_rate_start_and_device() {
        let p = parse(TEXT.as_bytes()).unwrap().unwrap();
        assert_eq!(p.rate_hz, 30.0);
        // 2016-05-08 22:15:00 (as UTC)
        assert_eq!(p.start_s, 1_462_745_700.0);
        assert_eq!(p.device.device_type, "ActiGraph GT3X+");
        assert_eq!(p.device.serial, "CLE2B20130000");
        assert_eq!(p.n_lines, 10);
        assert!(TEXT[p.n_bytes..].starts_with("Accelerometer X"));
        // cut anywhere before its closing line: more is needed
        let close = TEXT.find("-----\r\nAcc").unwrap();
        for cut in [0, 50, 200, close] {
            assert_eq!(parse(&TEXT.as_bytes()[..cut]).unwrap(), None, "{cut}");
        }
    }

    #[test]
    fn dates_follow_the_declared_format() {
        let may8 = days_from_civil(2016, 5, 8);
        assert_eq!(parse_date("5/8/2016", "M/d/yyyy"), Some(may8));
        assert_eq!(parse_date("8/5/2016", "d/M/yyyy"), Some(may8));
        assert_eq!(parse_date("08.05.2016", "dd.MM.yyyy"), Some(may8));
        assert_eq!(parse_date("2016-05-08", "yyyy-MM-dd"), Some(may8));
        assert_eq!(parse_date("4/31/2016", "M/d/yyyy"), None);
        assert_eq!(parse_date("13/1/2016", "M/d/yyyy"), None);
        assert_eq!(parse_date("5/8", "M/d/yyyy"), None);
        assert_eq!(parse_time("24:00:00"), None);
        assert_eq!(parse_time("00:01:02"), Some(62.0));
    }

    #[test]
    fn a_preamble_without_rate_or_end_is_an_error() {
        let no_rate = TEXT.replace(" at 30 Hz", "");
        assert!(parse(no_rate.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("no sample rate"));
        let banner_end = TEXT.find('\n').unwrap() + 1;
        let endless = format!("{}{}", &TEXT[..banner_end], "Serial Number: 1\n".repeat(25));
        assert!(parse(endless.as_bytes()).is_err());
        let bad_date = TEXT.replace("5/8/2016\r", "5/32/2016\r");
        assert!(parse(bad_date.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("not a date"));
    }
}
