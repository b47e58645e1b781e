"""Exceptions raised by sleeptwitch.

Every exception from the library is a :class:`SleeptwitchError`. Its text reads like a
compiler diagnostic, position first::

    night03.csv:1042: column "z": expected a number (g), found "--"

and its attributes give the parts: ``kind`` (a snake_case name such as ``"not_a_number"``),
``cause`` (the message without the position), ``file``, ``line`` (from 1, counting the
header line), ``byte`` (from 0), ``block`` (from 0, device files) and ``sample_idx`` (from 0,
pushed samples), each ``None`` when unknown. Exceptions pickle with their attributes, so
they travel from Dask workers intact.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time (see night.py)

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Optional

__all__ = ["SleeptwitchError", "InputError", "ReadError", "WriteError", "ConfigError"]


class SleeptwitchError(Exception):
    """Base class of every error sleeptwitch raises."""

    #: Snake_case name of the error kind (``"not_a_number"``, ``"time_not_increasing"``, ...).
    kind: str = "other"
    #: The message without its position.
    cause: Optional[str] = None
    #: The file the error was found in.
    file: Optional[str] = None
    #: Line, from 1, counting the header line (text files).
    line: Optional[int] = None
    #: Byte offset from the start of the file, from 0 (device files).
    byte: Optional[int] = None
    #: Block, page or record number, from 0 (device files).
    block: Optional[int] = None
    #: Index of the sample in the stream, from 0 (pushed samples).
    sample_idx: Optional[int] = None
    #: Events a :class:`~sleeptwitch.Detector` made final before the bad sample, if any.
    events: Any = None


class InputError(SleeptwitchError, ValueError):
    """A recording or pushed samples that break the format or the sample checks.

    Non-finite values, accelerations beyond +/-64 g, time not increasing, a missing column,
    a sample rate below 10 Hz, a corrupt device block...
    """


class ReadError(SleeptwitchError, OSError):
    """A file that cannot be opened or read."""


class WriteError(SleeptwitchError, OSError):
    """An output file that cannot be created or written."""


class ConfigError(SleeptwitchError, ValueError):
    """A config that cannot be read, or a value that breaks its rule.

    ``field``, ``value`` and ``rule`` name the broken rule, e.g. ``hp_cutoff_hz``, ``80``,
    ``must be below Nyquist, 50 Hz``; they are ``None`` when the config could not be read
    at all (not JSON, an unknown field).
    """

    kind = "config"
    #: The config field that breaks its rule.
    field: Optional[str] = None
    #: The value given, as text.
    value: Optional[str] = None
    #: The rule it breaks.
    rule: Optional[str] = None
