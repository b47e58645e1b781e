//! ISO-8601 date-times to Unix seconds, and Unix seconds back to text for people.
//!
//! Accepted: `YYYY-MM-DD`, then `T`, `t` or a space, then `HH:MM:SS`, an optional fraction
//! of a second (`.` and 1 or more digits — or `,`, the decimal sign ISO 8601 prefers, where
//! the text is a whole field so that a comma cannot be a delimiter; digits past the ninth are
//! read but ignored), and an optional UTC offset (`Z`, `z`, `±HH`, `±HHMM`, `±HH:MM`). A date-time without an offset
//! is taken as UTC. Dates are proleptic Gregorian; leap seconds (`:60`) are refused.

/// Seconds in a day.
const DAY_S: i64 = 86_400;

/// Days from 1970-01-01 to a proleptic Gregorian date (negative before 1970).
///
/// Counts in 400-year eras of 146,097 days, with years starting on 1 March so that the
/// leap day falls at the end of the year.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // 0..=399
    let mp = i64::from((month + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146096
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day counted from 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Two ASCII digits at `b[i..i + 2]`.
#[inline(always)]
fn two(b: &[u8], i: usize) -> Option<u32> {
    match b.get(i..i + 2)? {
        [h @ b'0'..=b'9', l @ b'0'..=b'9'] => Some(u32::from(h - b'0') * 10 + u32::from(l - b'0')),
        _ => None,
    }
}

#[inline(always)]
fn byte_is(b: &[u8], i: usize, want: u8) -> bool {
    b.get(i) == Some(&want)
}

/// Parses an ISO-8601 date-time at the start of `b` into Unix seconds.
///
/// Returns the time, the number of bytes it took and whether it carried a UTC offset;
/// `None` when the text is not a date-time of the accepted form or names an impossible
/// date or time. What follows is not looked at.
///
/// `decimal_comma` lets a comma start the fraction of a second (`23:00:00,5`, as ISO 8601
/// allows): right for a field already cut from its line, or one in a file whose delimiter
/// is not a comma. In a row of a comma-delimited file a comma after the seconds ends the
/// field, and the fraction would swallow the next one.
#[inline]
pub(crate) fn parse_iso(b: &[u8], decimal_comma: bool) -> Option<(f64, usize, bool)> {
    let year = i64::from(two(b, 0)? * 100 + two(b, 2)?);
    if !(byte_is(b, 4, b'-') && byte_is(b, 7, b'-')) {
        return None;
    }
    let month = two(b, 5)?;
    let day = two(b, 8)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = two(b, 11)?;
    let minute = two(b, 14)?;
    let second = two(b, 17)?;
    if !(byte_is(b, 13, b':') && byte_is(b, 16, b':')) {
        return None;
    }
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut frac_s = 0.0;
    if byte_is(b, i, b'.') || (decimal_comma && byte_is(b, i, b',')) {
        i += 1;
        let start = i;
        let mut m = 0u64;
        let mut scale = 1u64;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if i - start < 9 {
                m = m * 10 + u64::from(d);
                scale *= 10;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        // Both below 2^53: exact, so the quotient is correctly rounded.
        frac_s = m as f64 / scale as f64;
    }
    let mut offset_s = 0i64;
    let mut has_offset = false;
    match b.get(i) {
        Some(b'Z' | b'z') => {
            has_offset = true;
            i += 1;
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = two(b, i + 1)?;
            i += 3;
            let mut om = 0;
            if byte_is(b, i, b':') {
                om = two(b, i + 1)?;
                i += 3;
            } else if let Some(m) = two(b, i) {
                om = m;
                i += 2;
            }
            if oh > 23 || om > 59 {
                return None;
            }
            offset_s = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                offset_s = -offset_s;
            }
            has_offset = true;
        }
        _ => {}
    }
    let secs = days_from_civil(year, month, day) * DAY_S
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_s;
    // |secs| < 2^38: exact in f64.
    Some((secs as f64 + frac_s, i, has_offset))
}

/// Unix seconds as a UTC date-time for people, to the millisecond:
/// `2024-03-01 23:00:00.020`.
///
/// Times beyond ±10^11 s (about ±3000 years) or not finite are shown as plain seconds.
pub fn iso8601_utc(t_s: f64) -> String {
    if !(t_s.is_finite() && t_s.abs() < 1e11) {
        return format!("{t_s} s");
    }
    // Finite and below 1e14 in magnitude: fits an i64 exactly.
    #[allow(clippy::cast_possible_truncation)]
    let ms = (t_s * 1000.0).round() as i64;
    let days = ms.div_euclid(DAY_S * 1000);
    let rest = ms.rem_euclid(DAY_S * 1000);
    let (y, mo, d) = civil_from_days(days);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}.{milli:03}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> Option<f64> {
        parse_iso(s.as_bytes(), true).map(|(t, n, _)| {
            assert_eq!(n, s.len(), "{s} not taken whole");
            t
        })
    }

    #[test]
    fn known_dates_give_their_day_numbers() {
        // 1970-01-01 is day 0; 2000-03-01 is 11,017 days later (30 years of 365 days,
        // 7 leap days to 1996, 2000-01-01 → 2000-03-01 is 31 + 29 days);
        // `date -u -d 2024-03-01 +%s` = 1709251200 = 19,783 days.
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 30 * 365 + 7 + 31 + 29);
        assert_eq!(days_from_civil(2024, 3, 1), 1_709_251_200 / 86_400);
        for days in [-800_000, -1, 0, 1, 11_016, 11_017, 19_783, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn date_times_in_the_accepted_forms() {
        // 2024-03-01 23:00:00 UTC = 1709251200 + 23 h.
        let base = 1_709_251_200.0 + 23.0 * 3600.0;
        assert_eq!(iso("2024-03-01 23:00:00"), Some(base));
        assert_eq!(iso("2024-03-01T23:00:00Z"), Some(base));
        assert_eq!(iso("2024-03-01t23:00:00z"), Some(base));
        assert_eq!(iso("2024-03-01 23:00:00.000"), Some(base));
        assert_eq!(iso("2024-03-01T23:00:00.020Z"), Some(base + 0.02));
        assert_eq!(iso("2024-03-01T23:00:00.5"), Some(base + 0.5));
        assert_eq!(iso("2024-03-02T00:00:00+01:00"), Some(base));
        assert_eq!(iso("2024-03-02T00:00:00+0100"), Some(base));
        assert_eq!(iso("2024-03-02T00:00:00+01"), Some(base));
        assert_eq!(iso("2024-03-01T21:30:00-01:30"), Some(base));
        assert_eq!(
            iso("2024-03-01T23:00:00.1234567891234Z"),
            Some(base + 0.123_456_789)
        );
        assert_eq!(
            parse_iso(b"2024-03-01 23:00:00Z", false).map(|(_, _, o)| o),
            Some(true)
        );
        assert_eq!(
            parse_iso(b"2024-03-01 23:00:00", false).map(|(_, _, o)| o),
            Some(false)
        );
    }

    #[test]
    fn a_comma_fraction_is_read_only_where_a_comma_cannot_be_a_delimiter() {
        let base = 1_709_251_200.0 + 23.0 * 3600.0;
        // A whole field: the comma is the decimal sign ISO 8601 allows.
        assert_eq!(iso("2024-03-01T23:00:00,5"), Some(base + 0.5));
        assert_eq!(iso("2024-03-01 23:00:00,020Z"), Some(base + 0.02));
        assert_eq!(iso("2024-03-02T00:00:00,25+01:00"), Some(base + 0.25));
        assert_eq!(parse_iso(b"2024-03-01 23:00:00,", true), None);
        // In a comma-delimited row the comma ends the time: the seconds are whole and the
        // next field is not taken as their fraction.
        assert_eq!(
            parse_iso(b"2024-03-01 23:00:00,1", false).map(|(t, n, _)| (t, n)),
            Some((base, 19))
        );
        assert_eq!(
            parse_iso(b"2024-03-01 23:00:00.5,1", false).map(|(t, n, _)| (t, n)),
            Some((base + 0.5, 21))
        );
    }

    #[test]
    fn a_millisecond_survives_at_epoch_scale() {
        let a = iso("2024-03-01T23:00:00.001").unwrap();
        let b = iso("2024-03-01T23:00:00.002").unwrap();
        assert!(((b - a) - 0.001).abs() < 1e-6);
    }

    #[test]
    fn impossible_or_malformed_date_times_are_refused() {
        for s in [
            "2023-02-29 00:00:00",
            "2024-13-01 00:00:00",
            "2024-00-01 00:00:00",
            "2024-04-31 00:00:00",
            "2024-03-01 24:00:00",
            "2024-03-01 23:60:00",
            "2024-03-01 23:59:60",
            "2024-03-01 23:59",
            "2024-03-01",
            "2024/03/01 23:00:00",
            "2024-03-01_23:00:00",
            "2024-03-01 23:00:00.",
            "2024-03-01 23:00:00+",
            "2024-03-01 23:00:00+25:00",
            "24-03-01 23:00:00",
            "",
        ] {
            assert_eq!(parse_iso(s.as_bytes(), true), None, "{s}");
        }
        assert!(iso("2024-02-29 00:00:00").is_some());
        assert!(iso("2000-02-29 00:00:00").is_some());
        assert!(parse_iso(b"1900-02-29 00:00:00", true).is_none());
    }

    #[test]
    fn unix_seconds_print_as_utc_date_times() {
        assert_eq!(iso8601_utc(0.0), "1970-01-01 00:00:00.000");
        assert_eq!(iso8601_utc(1_709_334_000.02), "2024-03-01 23:00:00.020");
        assert_eq!(iso8601_utc(-0.5), "1969-12-31 23:59:59.500");
        assert_eq!(iso8601_utc(1_551_178_505.986), "2019-02-26 10:55:05.986");
        assert_eq!(iso8601_utc(f64::NAN), "NaN s");
    }
}
