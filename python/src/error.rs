//! The library's errors as Python exceptions, with the position as attributes.
//!
//! The exception classes are defined in Python (`sleeptwitch/errors.py`), so that they can
//! subclass both the package's base class and the built-in they resemble (`ValueError`,
//! `OSError`); this module builds instances of them. Each carries the library's message as
//! its text (`night03.csv:1042: column "z": expected a number (g), found "--"`), and as
//! attributes: `kind` (a snake_case name of the error kind), `cause` (the message without
//! the position), `file`, `line` (from 1, counting the header), `byte` (from 0), `block`
//! (from 0) and `sample_idx` (from 0), each `None` when unknown.

use pyo3::prelude::*;
use pyo3::types::PyType;
use sleeptwitch::{ConfigError, Error, ErrorKind};

/// The exception classes of `sleeptwitch.errors`, imported when first raised.
mod exc {
    pyo3::import_exception!(sleeptwitch.errors, SleeptwitchError);
    pyo3::import_exception!(sleeptwitch.errors, InputError);
    pyo3::import_exception!(sleeptwitch.errors, ReadError);
    pyo3::import_exception!(sleeptwitch.errors, WriteError);
    pyo3::import_exception!(sleeptwitch.errors, ConfigError);
}

/// A snake_case name for each error kind, as the exception's `kind` attribute.
pub(crate) fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Io(_) => "io",
        ErrorKind::Write(_) => "write",
        ErrorKind::Empty => "empty",
        ErrorKind::NoSamples => "no_samples",
        ErrorKind::NotText { .. } => "not_text",
        ErrorKind::MissingColumn { .. } => "missing_column",
        ErrorKind::BadHeader { .. } => "bad_header",
        ErrorKind::NotANumber { .. } => "not_a_number",
        ErrorKind::NotFinite { .. } => "not_finite",
        ErrorKind::OutOfRange { .. } => "out_of_range",
        ErrorKind::BadTime { .. } => "bad_time",
        ErrorKind::TimeNotIncreasing { .. } => "time_not_increasing",
        ErrorKind::FieldCount { .. } => "field_count",
        ErrorKind::RateTooLow { .. } => "rate_too_low",
        ErrorKind::Format { .. } => "format",
        ErrorKind::Checksum { .. } => "checksum",
        ErrorKind::Sample { .. } => "sample",
        ErrorKind::Config(_) => "config",
        _ => "other",
    }
}

/// An instance of `ty` with `message` as its text; `set` then sets its attributes.
fn build<'py>(
    ty: Bound<'py, PyType>,
    message: String,
    set: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<()>,
) -> PyErr {
    let made = ty.call1((message,)).and_then(|value| {
        set(&value)?;
        Ok(value)
    });
    match made {
        Ok(value) => PyErr::from_value(value),
        // Building the exception failed (the package is broken): raise what that raised.
        Err(e) => e,
    }
}

/// The Python exception for a library error: `ConfigError` for a config rule broken,
/// `ReadError` (an `OSError`) when a file cannot be read, `WriteError` (an `OSError`) when
/// an output cannot be written, `InputError` (a `ValueError`) for
/// input that breaks its format or the sample checks, `SleeptwitchError` otherwise.
pub(crate) fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    if let ErrorKind::Config(c) = e.kind() {
        return config_to_py(py, c);
    }
    let ty = match e.kind() {
        ErrorKind::Io(_) => py.get_type::<exc::ReadError>(),
        ErrorKind::Write(_) => py.get_type::<exc::WriteError>(),
        ErrorKind::Other(_) => py.get_type::<exc::SleeptwitchError>(),
        _ => py.get_type::<exc::InputError>(),
    };
    positioned(ty, e)
}

/// A `ConfigError` for a config file that does not parse, naming its file and line.
pub(crate) fn config_error_at(py: Python<'_>, e: &Error) -> PyErr {
    positioned(py.get_type::<exc::ConfigError>(), e)
}

/// An instance of `ty` carrying `e`'s message, kind and position.
fn positioned(ty: Bound<'_, PyType>, e: &Error) -> PyErr {
    let p = e.position();
    build(ty, e.to_string(), |v| {
        v.setattr("kind", kind_name(e.kind()))?;
        v.setattr("cause", e.kind().to_string())?;
        v.setattr(
            "file",
            p.and_then(|p| p.file.as_ref())
                .map(|f| f.display().to_string()),
        )?;
        v.setattr("line", p.and_then(|p| p.line))?;
        v.setattr("byte", p.and_then(|p| p.byte))?;
        v.setattr("block", p.and_then(|p| p.block))?;
        v.setattr("sample_idx", p.and_then(|p| p.sample_idx))
    })
}

/// The Python `ConfigError` for a config rule broken, naming field, value and rule.
pub(crate) fn config_to_py(py: Python<'_>, c: &ConfigError) -> PyErr {
    build(py.get_type::<exc::ConfigError>(), c.to_string(), |v| {
        v.setattr("kind", "config")?;
        v.setattr("cause", c.to_string())?;
        v.setattr("field", c.field)?;
        v.setattr("value", c.value.as_str())?;
        v.setattr("rule", c.rule.as_str())
    })
}

/// The Python `ConfigError` for a config that could not be read (not JSON, an unknown
/// field, a wrong type): no single field and rule to name.
pub(crate) fn config_text_to_py(py: Python<'_>, message: String) -> PyErr {
    let cause = message.clone();
    build(py.get_type::<exc::ConfigError>(), message, |v| {
        v.setattr("kind", "config")?;
        v.setattr("cause", cause)
    })
}
