//! The first line: which columns hold time and x, y, z, the unit they name, the delimiter.
//!
//! Names are matched without regard to case, spaces, `_`, `-` or `.` inside them, after an
//! optional unit is taken off the end (`_g`, `_ms2`, `_mps2`, `_s`, `_ms`, `_us`, `_ns`, or
//! one in brackets: `(g)`, `[m/s^2]`, `(s)`, `(ms)`). Time: `t`, `time`, `timestamp`,
//! `seconds` (so also `t_s`, `time_s`, `time (s)`, and `timestamp_ms`, `t_us`, `time (ns)`
//! for times counted in milli-, micro- or nanoseconds). Axis x (y, z alike): `x`, `ax`, `acc_x`, `accel_x`,
//! `acceleration_x` (so also `x_g`, `x_ms2`, `acc_x_mps2`, `Accel X (m/s²)`). Other columns
//! are ignored. A first line of four numbers is not a header: the file is read as t,x,y,z.

use crate::io::AccelUnit;
use crate::ErrorKind;

use super::number::{parse_field, trim_field};
use super::time::parse_iso;

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Not used.
    Skip,
    /// Time: seconds or ISO-8601 date-times.
    Time,
    /// Acceleration along the sensor's x axis.
    X,
    /// Acceleration along y.
    Y,
    /// Acceleration along z.
    Z,
}

/// Roles in the order samples hold them.
const ROLES: [Role; 4] = [Role::Time, Role::X, Role::Y, Role::Z];

/// Names accepted for the time column, for messages.
pub(crate) const TIME_NAMES: &str =
    "t, time, timestamp, seconds (any case), optionally with _s, _ms, _us or _ns";
const X_NAMES: &str = "x, ax, acc_x, accel_x, acceleration_x, optionally with _g, _ms2 or _mps2";
const Y_NAMES: &str = "y, ay, acc_y, accel_y, acceleration_y, optionally with _g, _ms2 or _mps2";
const Z_NAMES: &str = "z, az, acc_z, accel_z, acceleration_z, optionally with _g, _ms2 or _mps2";

/// How the fields of a data row map to a sample.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Field separator: `,`, `;` or tab.
    pub(crate) delim: u8,
    /// Fields in every row.
    pub(crate) n_fields: usize,
    /// What each field holds, by position.
    pub(crate) roles: Vec<Role>,
    /// The fields are exactly time, x, y, z in that order (the fastest path).
    pub(crate) ordered: bool,
    /// Column names for messages, for time, x, y, z: as in the header, or `t`, `x`, `y`, `z`.
    pub(crate) names: [String; 4],
    /// The unit the header names for the axes, if it names one.
    pub(crate) header_unit: Option<AccelUnit>,
    /// The unit the header names for numeric times, if it names one.
    pub(crate) time_unit: Option<TimeUnit>,
    /// Whether the first line was a header (else it is the first data row).
    pub(crate) has_header: bool,
    /// Things about the header a user should know (duplicate columns), lower case.
    pub(crate) notes: Vec<String>,
}

/// Splits a line into fields at `delim`, not inside double quotes.
pub(crate) fn split_fields(line: &[u8], delim: u8) -> impl Iterator<Item = &[u8]> {
    let mut quoted = false;
    line.split(move |&c| {
        if c == b'"' {
            quoted = !quoted;
            false
        } else {
            c == delim && !quoted
        }
    })
}

/// The first byte that has no place in a text line (control characters other than tab and
/// carriage return), with its position.
pub(crate) fn first_control_byte(line: &[u8]) -> Option<(usize, u8)> {
    line.iter()
        .position(|&c| (c < 0x20 && c != b'\t' && c != b'\r') || c == 0x7f)
        .and_then(|i| line.get(i).map(|&c| (i, c)))
}

/// What numeric times count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeUnit {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

impl TimeUnit {
    /// Seconds in one unit.
    pub(crate) fn to_s(self) -> f64 {
        match self {
            TimeUnit::Seconds => 1.0,
            TimeUnit::Milliseconds => 1e-3,
            TimeUnit::Microseconds => 1e-6,
            TimeUnit::Nanoseconds => 1e-9,
        }
    }

    /// The unit's symbol, as a column name's suffix (`t_ms`).
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "s",
            TimeUnit::Milliseconds => "ms",
            TimeUnit::Microseconds => "us",
            TimeUnit::Nanoseconds => "ns",
        }
    }

    /// The unit's name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Milliseconds => "milliseconds",
            TimeUnit::Microseconds => "microseconds",
            TimeUnit::Nanoseconds => "nanoseconds",
        }
    }
}

/// Unit named with a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnitTag {
    Accel(AccelUnit),
    Time(TimeUnit),
}

fn unit_tag(text: &str) -> Option<UnitTag> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match t.as_str() {
        "g" => Some(UnitTag::Accel(AccelUnit::G)),
        "ms2" | "mps2" | "m/s2" | "m/s^2" | "m/s²" | "ms-2" | "ms^-2" | "m*s^-2" | "m.s-2" => {
            Some(UnitTag::Accel(AccelUnit::MPerS2))
        }
        "s" | "sec" | "secs" | "seconds" => Some(UnitTag::Time(TimeUnit::Seconds)),
        "ms" | "msec" | "msecs" | "millis" | "milliseconds" => {
            Some(UnitTag::Time(TimeUnit::Milliseconds))
        }
        "us" | "µs" | "μs" | "usec" | "usecs" | "micros" | "microseconds" => {
            Some(UnitTag::Time(TimeUnit::Microseconds))
        }
        "ns" | "nsec" | "nsecs" | "nanos" | "nanoseconds" => {
            Some(UnitTag::Time(TimeUnit::Nanoseconds))
        }
        _ => None,
    }
}

/// Splits a lower-cased name into its base and the unit it names, if any.
fn split_unit(name: &str) -> (&str, Option<UnitTag>) {
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(inner_end) = name.strip_suffix(close) {
            if let Some(i) = inner_end.rfind(open) {
                if let (Some(base), Some(unit)) = (inner_end.get(..i), inner_end.get(i + 1..)) {
                    if let Some(tag) = unit_tag(unit) {
                        return (base.trim(), Some(tag));
                    }
                }
            }
        }
    }
    if let Some(i) = name.rfind('_') {
        if let (Some(base), Some(unit)) = (name.get(..i), name.get(i + 1..)) {
            if let Some(tag) = unit_tag(unit) {
                if !base.is_empty() {
                    return (base, Some(tag));
                }
            }
        }
    }
    (name, None)
}

/// The role a column name stands for, and the unit it names (of acceleration for an axis,
/// of time for the time).
fn classify(name: &str) -> (Role, Option<UnitTag>) {
    let lower = name.trim().to_lowercase();
    let (base, tag) = split_unit(&lower);
    let key: String = base
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
        .collect();
    let is_time = matches!(key.as_str(), "t" | "time" | "timestamp" | "seconds");
    if is_time {
        return match tag {
            None | Some(UnitTag::Time(_)) => (Role::Time, tag),
            Some(UnitTag::Accel(_)) => (Role::Skip, None),
        };
    }
    let axis = key
        .strip_prefix("accelerometer")
        .or_else(|| key.strip_prefix("acceleration"))
        .or_else(|| key.strip_prefix("accel"))
        .or_else(|| key.strip_prefix("acc"))
        .or_else(|| key.strip_prefix('a'))
        .unwrap_or(&key);
    let role = match axis {
        "x" => Role::X,
        "y" => Role::Y,
        "z" => Role::Z,
        _ => return (Role::Skip, None),
    };
    match tag {
        None | Some(UnitTag::Accel(_)) => (role, tag),
        Some(UnitTag::Time(_)) => (Role::Skip, None),
    }
}

/// The delimiters a first line may use, in the order they are tried: those of `,`, `;` and
/// tab it holds, or `,` when it holds none.
fn delimiters(line: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let found = [b',', b';', b'\t'].into_iter().filter(|d| line.contains(d));
    let none = ![b',', b';', b'\t'].iter().any(|d| line.contains(d));
    found.chain(none.then_some(b','))
}

/// The most characters of a header quoted in a message.
pub(crate) const MAX_HEADER_QUOTE: usize = 100;

/// The most characters of a column name quoted in a message.
const MAX_NAME_QUOTE: usize = 40;

/// `text` cut to at most `max_chars` characters, with `…` when something was cut.
pub(crate) fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", text.get(..i).unwrap_or(text)),
        None => text.to_string(),
    }
}

/// Reads the first line of a file (without its line break) into a [`Layout`].
///
/// # Errors
/// [`ErrorKind::NotText`] for control bytes or invalid UTF-8; [`ErrorKind::MissingColumn`]
/// when time, x, y or z cannot be found; [`ErrorKind::BadHeader`] for axes in different
/// units, or a line of numbers that is not four columns.
pub(crate) fn read_first_line(line: &[u8]) -> Result<Layout, ErrorKind> {
    read_columns(line, true)
}

/// [`read_first_line`] for rows whose times come from elsewhere (a preamble's start and
/// rate): no time column is needed and none is read, and a first line of three numbers is
/// the first row, x, y, z.
///
/// # Errors
/// As [`read_first_line`].
pub(crate) fn read_timeless_first_line(line: &[u8]) -> Result<Layout, ErrorKind> {
    read_columns(line, false)
}

fn read_columns(line: &[u8], with_time: bool) -> Result<Layout, ErrorKind> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some((_, c)) = first_control_byte(line) {
        return Err(ErrorKind::NotText {
            what: format!("byte {c:#04x} in the first line"),
        });
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(ErrorKind::NotText {
            what: "the first line is not UTF-8".into(),
        });
    };
    // A line may hold more than one candidate (a `;` file with ISO times whose fraction
    // follows a comma): the first delimiter that makes sense of it is taken, and if none
    // does, what is wrong is told for the first.
    let mut first_error = None;
    for delim in delimiters(line) {
        match layout_for(line, text, delim, with_time) {
            Ok(layout) => return Ok(layout),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(ErrorKind::BadHeader {
        reason: "no delimiter to try".into(),
    }))
}

/// [`read_first_line`] with the delimiter `delim`.
fn layout_for(line: &[u8], text: &str, delim: u8, with_time: bool) -> Result<Layout, ErrorKind> {
    let fields: Vec<&[u8]> = split_fields(line, delim).collect();
    let numeric = fields.iter().enumerate().all(|(i, f)| {
        parse_field(f).is_some()
            || (i == 0 && {
                let f = trim_field(f);
                parse_iso(f, true).is_some_and(|(_, n, _)| n == f.len())
            })
    });
    if numeric && !with_time && fields.len() == 3 {
        return Ok(Layout {
            delim,
            n_fields: 3,
            roles: vec![Role::X, Role::Y, Role::Z],
            ordered: false,
            names: ["", "x", "y", "z"].map(String::from),
            header_unit: None,
            time_unit: None,
            has_header: false,
            notes: Vec::new(),
        });
    }
    if numeric {
        if fields.len() != 4 {
            return Err(ErrorKind::BadHeader {
                reason: format!(
                    "the first line holds {} numbers and no names; a file without a header \
                     must have exactly 4 columns, t,x,y,z",
                    fields.len()
                ),
            });
        }
        return Ok(Layout {
            delim,
            n_fields: 4,
            roles: ROLES.to_vec(),
            ordered: true,
            names: ["t", "x", "y", "z"].map(String::from),
            header_unit: None,
            time_unit: None,
            has_header: false,
            notes: Vec::new(),
        });
    }

    let names: Vec<String> = fields
        .iter()
        .map(|f| String::from_utf8_lossy(trim_field(f)).into_owned())
        .collect();
    let mut roles = vec![Role::Skip; names.len()];
    let mut found: [Option<usize>; 4] = [None; 4];
    let mut units: [Option<UnitTag>; 4] = [None; 4];
    let mut notes = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (role, unit) = match classify(name) {
            (Role::Time, _) if !with_time => (Role::Skip, None),
            found => found,
        };
        let Some(k) = ROLES.iter().position(|r| *r == role) else {
            continue;
        };
        let (Some(slot), Some(unit_slot)) = (found.get_mut(k), units.get_mut(k)) else {
            continue;
        };
        match slot {
            Some(first) => {
                let first = clip(names.get(*first).map_or("", String::as_str), MAX_NAME_QUOTE);
                notes.push(format!(
                    "columns {first:?} and {:?} both look like {}; using {first:?}",
                    clip(name, MAX_NAME_QUOTE),
                    role_word(role),
                ));
            }
            None => {
                *slot = Some(i);
                *unit_slot = unit;
                if let Some(r) = roles.get_mut(i) {
                    *r = role;
                }
            }
        }
    }
    let expected = [TIME_NAMES, X_NAMES, Y_NAMES, Z_NAMES];
    let mut picked = [String::new(), String::new(), String::new(), String::new()];
    for (k, slot) in found.iter().enumerate().skip(usize::from(!with_time)) {
        let Some(i) = slot else {
            return Err(ErrorKind::MissingColumn {
                column: ["time", "x", "y", "z"].get(k).copied().unwrap_or("time"),
                header: clip(text, MAX_HEADER_QUOTE),
                expected: expected.get(k).copied().unwrap_or(TIME_NAMES),
            });
        };
        if let (Some(p), Some(n)) = (picked.get_mut(k), names.get(*i)) {
            p.clone_from(n);
        }
    }
    let mut header_unit = None;
    for (k, unit) in units.iter().enumerate().skip(1) {
        let Some(UnitTag::Accel(u)) = unit else {
            continue;
        };
        match header_unit {
            None => header_unit = Some((*u, k)),
            Some((v, j)) if v != *u => {
                return Err(ErrorKind::BadHeader {
                    reason: format!(
                        "column {:?} is in {} but {:?} in {}",
                        clip(picked.get(j).map_or("", String::as_str), MAX_NAME_QUOTE),
                        v,
                        clip(picked.get(k).map_or("", String::as_str), MAX_NAME_QUOTE),
                        u
                    ),
                });
            }
            Some(_) => {}
        }
    }
    let ordered = roles == ROLES;
    Ok(Layout {
        delim,
        n_fields: roles.len(),
        roles,
        ordered,
        names: picked,
        header_unit: header_unit.map(|(u, _)| u),
        time_unit: match units.first() {
            Some(Some(UnitTag::Time(u))) => Some(*u),
            _ => None,
        },
        has_header: true,
        notes,
    })
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Time => "time",
        Role::X => "x",
        Role::Y => "y",
        Role::Z => "z",
        Role::Skip => "nothing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(s: &str) -> Layout {
        read_first_line(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_documented_name_is_recognised() {
        for (t, x, y, z, unit) in [
            ("t", "x", "y", "z", None),
            ("time", "ax", "ay", "az", None),
            ("timestamp", "acc_x", "acc_y", "acc_z", None),
            ("t_s", "accel_x", "accel_y", "accel_z", None),
            ("seconds", "x_g", "y_g", "z_g", Some(AccelUnit::G)),
            ("time_s", "x_ms2", "y_ms2", "z_ms2", Some(AccelUnit::MPerS2)),
            (
                "TIME",
                "X_MPS2",
                "Y_MPS2",
                "Z_MPS2",
                Some(AccelUnit::MPerS2),
            ),
            (
                "Time (s)",
                "Accel X (m/s^2)",
                "Accel Y (m/s^2)",
                "Accel Z (m/s^2)",
                Some(AccelUnit::MPerS2),
            ),
            ("t", "acc_x_g", "acc_y_g", "acc_z_g", Some(AccelUnit::G)),
            ("t", "x [g]", "y [g]", "z [g]", Some(AccelUnit::G)),
            ("t", "accelerationX", "accelerationY", "accelerationZ", None),
        ] {
            let l = layout(&format!("{t},{x},{y},{z}"));
            assert!(l.has_header && l.ordered, "{t},{x}");
            assert_eq!(l.names, [t, x, y, z].map(String::from));
            assert_eq!(l.header_unit, unit, "{x}");
        }
    }

    #[test]
    fn a_time_column_may_name_its_unit() {
        for (t, unit) in [
            ("t", None),
            ("time_s", Some(TimeUnit::Seconds)),
            ("t_ms", Some(TimeUnit::Milliseconds)),
            ("Timestamp (ms)", Some(TimeUnit::Milliseconds)),
            ("time_millis", Some(TimeUnit::Milliseconds)),
            ("timestamp_us", Some(TimeUnit::Microseconds)),
            ("t [µs]", Some(TimeUnit::Microseconds)),
            ("time_ns", Some(TimeUnit::Nanoseconds)),
        ] {
            let l = layout(&format!("{t},x,y,z"));
            assert_eq!((l.roles[0], l.time_unit), (Role::Time, unit), "{t}");
            assert_eq!(l.header_unit, None, "{t}");
        }
        // a time unit on an axis, or an acceleration unit on the time, is not that column
        assert!(read_first_line(b"t,x_ms,y,z").is_err());
        assert!(read_first_line(b"t_g,x,y,z").is_err());
        assert_eq!(TimeUnit::Microseconds.to_s(), 1e-6);
    }

    #[test]
    fn any_order_and_extra_columns() {
        let l = layout("\"id\",Z,temp,time,y,x,label");
        assert_eq!(
            l.roles,
            [
                Role::Skip,
                Role::Z,
                Role::Skip,
                Role::Time,
                Role::Y,
                Role::X,
                Role::Skip
            ]
        );
        assert!(!l.ordered);
        assert_eq!(l.n_fields, 7);
        assert_eq!(l.names, ["time", "x", "y", "Z"].map(String::from));
    }

    #[test]
    fn delimiters_semicolon_and_tab() {
        assert_eq!(layout("t;x;y;z").delim, b';');
        assert_eq!(layout("t\tx\ty\tz").delim, b'\t');
        assert_eq!(layout("t,x,y,z\r").delim, b',');
        // A comma that makes no sense of the line gives way to the next candidate.
        let l = layout("2024-01-01T22:00:00,5;0.1;0.2;0.98");
        assert_eq!((l.delim, l.has_header), (b';', false));
        assert_eq!(layout("time;x;y;z;note, free text").delim, b';');
        // When none does, the error is the first candidate's.
        let e = read_first_line(b"t,x;y;q").unwrap_err();
        assert!(
            matches!(&e, ErrorKind::MissingColumn { column: "x", header, .. } if header == "t,x;y;q"),
            "{e}"
        );
    }

    #[test]
    fn a_long_header_is_quoted_cut_short() {
        let long: String = (0..2000).map(|i| format!("c{i},")).collect();
        let e = read_first_line(long.as_bytes()).unwrap_err();
        let ErrorKind::MissingColumn { header, .. } = &e else {
            panic!("{e}");
        };
        assert_eq!(header.chars().count(), MAX_HEADER_QUOTE + 1, "{header}");
        assert!(
            header.starts_with("c0,c1,c2,") && header.ends_with('…'),
            "{header}"
        );
        assert!(e.to_string().len() < 400, "{e}");
        // Multi-byte characters are cut between characters.
        assert_eq!(clip("äöü", 2), "äö…");
        assert_eq!(clip("äöü", 3), "äöü");
        // Column names in other messages are cut too ('-' inside a name is ignored).
        let long_y = format!("y{}_ms2", "-".repeat(500));
        let e = read_first_line(format!("t,x_g,{long_y},z").as_bytes()).unwrap_err();
        assert!(matches!(e, ErrorKind::BadHeader { .. }), "{e}");
        assert!(e.to_string().len() < 200, "{e}");
        let l = layout(&format!("t,x,y,z,x{}", "-".repeat(500)));
        assert_eq!(l.notes.len(), 1);
        assert!(l.notes[0].len() < 200, "{:?}", l.notes);
    }

    #[test]
    fn four_numbers_mean_no_header() {
        let l = layout("0.00,0.1,-0.2,0.98");
        assert!(!l.has_header && l.ordered);
        let l = layout("2024-03-01 23:00:00.000,0.1,-0.2,0.98");
        assert!(!l.has_header);
        let e = read_first_line(b"0,1,2").unwrap_err();
        assert!(matches!(e, ErrorKind::BadHeader { .. }), "{e}");
    }

    #[test]
    fn missing_columns_are_named_in_role_order() {
        let e = read_first_line(b"x,y,z").unwrap_err();
        assert!(
            matches!(e, ErrorKind::MissingColumn { column: "time", .. }),
            "{e}"
        );
        let e = read_first_line(b"t,x,y").unwrap_err();
        assert!(
            matches!(e, ErrorKind::MissingColumn { column: "z", .. }),
            "{e}"
        );
        // A time unit on an axis, or an acceleration unit on time, does not count.
        let e = read_first_line(b"t,x_s,y,z").unwrap_err();
        assert!(
            matches!(e, ErrorKind::MissingColumn { column: "x", .. }),
            "{e}"
        );
        let e = read_first_line(b"t_g,x,y,z").unwrap_err();
        assert!(
            matches!(e, ErrorKind::MissingColumn { column: "time", .. }),
            "{e}"
        );
        // Not an axis: gyroscope, magnetometer, a longer word.
        let e = read_first_line(b"t,gx,gy,gz").unwrap_err();
        assert!(
            matches!(e, ErrorKind::MissingColumn { column: "x", .. }),
            "{e}"
        );
    }

    #[test]
    fn mixed_units_are_a_bad_header() {
        let e = read_first_line(b"t,x_g,y_ms2,z").unwrap_err();
        assert!(matches!(e, ErrorKind::BadHeader { .. }), "{e}");
        // One unit named is enough for all.
        assert_eq!(layout("t,x,y,z_ms2").header_unit, Some(AccelUnit::MPerS2));
    }

    #[test]
    fn duplicates_keep_the_first_and_say_so() {
        let l = layout("timestamp,t,x,y,z,acc_x");
        assert_eq!(l.names, ["timestamp", "x", "y", "z"].map(String::from));
        assert_eq!(l.notes.len(), 2, "{:?}", l.notes);
    }

    #[test]
    fn control_bytes_and_bad_utf8_are_not_text() {
        for line in [&b"t,x,y,\x00z"[..], b"MD\x00\x01", b"t,x,y,z\xff"] {
            let e = read_first_line(line).unwrap_err();
            assert!(matches!(e, ErrorKind::NotText { .. }), "{e}");
        }
    }

    #[test]
    fn quoted_fields_keep_their_delimiters() {
        let f: Vec<&[u8]> = split_fields(b"a,\"b,c\",d", b',').collect();
        assert_eq!(f, [&b"a"[..], b"\"b,c\"", b"d"]);
    }
}
