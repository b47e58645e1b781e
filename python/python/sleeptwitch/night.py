"""Whole nights: :func:`analyze` from files, :func:`analyze_arrays` from numpy arrays."""

from __future__ import annotations

import os
from collections.abc import Mapping

from . import _sleeptwitch as _native

# numpy and json are imported where they are used (in this package's other modules too),
# and typing only by type checkers (hence no `from typing import TYPE_CHECKING`): a script
# that analyses files and writes their outputs pays for none of them, together a tenth of a
# second or more on a loaded machine, half of an 8 h night's analysis.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

    import numpy as np
    import pandas

    PathLike = Union[str, "os.PathLike[str]"]
    #: A config: ``None`` (the defaults), a mapping (as the JSON would be; fields left out
    #: keep their defaults), or the path of a TOML or JSON config file.
    ConfigLike = Union[None, Mapping[str, Any], PathLike]

__all__ = [
    "Events",
    "Night",
    "analyze",
    "analyze_arrays",
    "default_config",
    "site_of",
    "EVENT_COLUMNS",
    "KINDS",
    "SITES",
]

#: Columns of :class:`Events` and of the events CSV, in order.
EVENT_COLUMNS: Tuple[str, ...] = tuple(_native.EVENT_COLUMNS)
#: Event classes, in the order of the summary's counts.
KINDS: Tuple[str, ...] = tuple(_native.KINDS)
#: Places a sensor can be worn.
SITES: Tuple[str, ...] = tuple(_native.SITES)


_STRING_COLUMNS = ("kind", "sites")
#: Columns that are not float64 or str.
_DTYPES = {"series_id": "int64"}


class Events(dict[str, "np.ndarray"]):
    """A night's events as columns: a dict of equal-length numpy arrays.

    Keys, in order (:data:`EVENT_COLUMNS`):

    - ``onset_s``, ``offset_s`` (float64): start and end, in seconds on the input's clock
      (seconds from the start for relative times, Unix seconds for dated ones).
    - ``kind`` (str): ``hypnic_jerk``, ``plm``, ``lm``, ``posture_change``, ``activity`` or
      ``other``.
    - ``sites`` (str): the sites the movement was seen on, joined by ``+``
      (``left_ankle+right_ankle`` for a bilateral leg movement).
    - ``peak_g``, ``mean_g`` (float64): peak and mean of the movement signal, in g.
    - ``angle_deg`` (float64): turn of the gravity direction across the event, in degrees.
    - ``peak_jerk_g_per_s`` (float64): peak rate of change of acceleration, in g/s.
    - ``confidence`` (float64): how sure the class is, 0 to 1.
    - ``series_id`` (int64): the periodic series a ``plm`` belongs to, from 1; 0 for none.
    - ``imi_s`` (float64): onset-to-onset interval from the previous leg movement, in
      seconds; NaN for none.

    Events are in order of onset.
    """

    @classmethod
    def _from_columns(cls, columns: Mapping[str, Any]) -> "Events":
        import numpy as np

        ev = cls()
        for name in EVENT_COLUMNS:
            values = columns[name]
            if name in _STRING_COLUMNS:
                ev[name] = np.asarray(values, dtype=np.str_) if len(values) else np.array([], dtype="<U1")
            else:
                ev[name] = values
        return ev

    @classmethod
    def concat(cls, parts: Iterable["Events"]) -> "Events":
        """Joins event columns end to end (e.g. what :meth:`Detector.push` returned, chunk
        after chunk, then :meth:`Detector.finish`)."""
        import numpy as np

        parts = list(parts)
        if not parts:
            return cls._from_columns(
                {name: [] if name in _STRING_COLUMNS else np.array([], dtype=_DTYPES.get(name, np.float64)) for name in EVENT_COLUMNS}
            )
        ev = cls()
        for name in EVENT_COLUMNS:
            ev[name] = np.concatenate([p[name] for p in parts])
        return ev

    @property
    def n_events(self) -> int:
        """Number of events (the length of every column)."""
        return len(self["onset_s"])

    def to_pandas(self) -> "pandas.DataFrame":
        """The events as a pandas DataFrame, one row per event, columns as in the dict.

        Raises :class:`ImportError` when pandas is not installed.
        """
        import pandas as pd

        return pd.DataFrame({name: self[name] for name in EVENT_COLUMNS})


class Night:
    """One analysed night: its :attr:`events` and its :attr:`summary`."""

    def __init__(self, native: Any, paths: Sequence[str]) -> None:
        self._native = native
        self._events: Optional[Events] = None
        self._summary: Optional[Dict[str, Any]] = None
        #: The files the night was read from (empty for arrays).
        self.paths: List[str] = list(paths)

    @property
    def events(self) -> Events:
        """The night's events as numpy columns (see :class:`Events`), in order of onset."""
        if self._events is None:
            self._events = Events._from_columns(self._native.event_columns())
        return self._events

    @property
    def summary(self) -> Dict[str, Any]:
        """The night's summary: the fields of the ``analyze`` example's summary JSON.

        ``name``, ``software``, ``inputs`` (per recording: path, site, start, duration,
        detector rate, what the reader learnt, warnings, calibration), ``sleep_onset_s``,
        ``metrics`` (sleep times in seconds, PLM indices per hour, periodicity, IMI
        histogram, ...), ``sleep_bouts``, ``n_events`` (per kind and ``total``),
        ``latency_s`` and the ``config`` used. Times are in seconds on the input's clock.
        """
        if self._summary is None:
            import json
            self._summary = json.loads(self._native.summary_json)
        return self._summary

    @property
    def summary_json(self) -> str:
        """The summary as JSON text, as :meth:`write` writes it."""
        return str(self._native.summary_json)

    @property
    def name(self) -> str:
        """The night's name, from its file names (``night`` for ``night.csv``, ``night`` for
        ``night.left_ankle.csv`` + ``night.right_ankle.csv``; ``arrays`` for arrays)."""
        return str(self._native.name)

    def write(self, out_dir: PathLike, name: Optional[str] = None) -> Dict[str, str]:
        """Writes ``NAME.events.csv`` and ``NAME.summary.json`` into ``out_dir``, as the
        ``analyze`` example does with ``--out-dir``; ``NAME`` is :attr:`name` unless given.

        Each file is written under a temporary name and renamed into place, so a reader (or
        a second run of the same night) never sees half a file. Returns the paths written,
        by kind (``events``, ``summary``).
        """
        events, summary = self._native.write(os.fspath(out_dir), name)
        return {"events": os.fspath(events), "summary": os.fspath(summary)}

    def __len__(self) -> int:
        """Number of events."""
        return len(self._native)

    def __repr__(self) -> str:
        where = ", ".join(self.paths) if self.paths else "arrays"
        return f"<sleeptwitch.Night {where}: {len(self)} events>"


def default_config() -> Dict[str, Any]:
    """The detector's default config as a dict, every field named (seconds, Hz, g, degrees)."""
    import json
    result: Dict[str, Any] = json.loads(_native.default_config_json())
    return result


def _config_arg(config: ConfigLike) -> Optional[Tuple[str, str]]:
    """The config as the native side takes it: ``("json", text)``, ``("path", file)`` or None."""
    if config is None:
        return None
    if isinstance(config, Mapping):
        import json
        return ("json", json.dumps(config))
    if isinstance(config, (str, os.PathLike)):
        return ("path", os.fspath(config))
    raise TypeError(f"config must be None, a mapping or the path of a config file, not {type(config).__name__}")


_SEPARATORS = "._-"
_RECORDING_EXTENSIONS = (".csv.gz", ".txt.gz", ".tsv.gz", ".csv", ".txt", ".tsv", ".cwa", ".bin", ".gt3x")


def site_of(path: PathLike) -> Optional[str]:
    """The site a file's name ends with, as the ``analyze`` example reads names in a folder.

    The name without its recording extension must end with ``.``, ``_`` or ``-`` and a site:
    ``night.left_ankle.csv`` → ``left_ankle``, ``p01_wrist.cwa`` → ``wrist``; ``None`` when
    it does not.
    """
    lower = os.path.basename(os.fspath(path)).lower()
    for ext in _RECORDING_EXTENSIONS:
        if lower.endswith(ext) and len(lower) > len(ext):
            lower = lower[: -len(ext)]
            break
    for site in ("left_ankle", "right_ankle", "wrist", "ankle"):
        if len(lower) > len(site) + 1 and lower.endswith(site) and lower[-len(site) - 1] in _SEPARATORS:
            return site
    return None


def _inputs(
    path_or_paths: Union[PathLike, Sequence[PathLike]], site: Union[None, str, Sequence[Optional[str]]]
) -> Tuple[List[str], List[Optional[str]]]:
    """The night's files and each one's site (``None``: the ankle, by default)."""
    if isinstance(path_or_paths, (str, os.PathLike)):
        paths = [os.fspath(path_or_paths)]
    else:
        paths = [os.fspath(p) for p in path_or_paths]
    if not paths:
        raise ValueError("no file given")
    if site is None:
        sites: List[Optional[str]] = [site_of(p) for p in paths]
    elif isinstance(site, str):
        sites = [site] * len(paths)
    else:
        sites = list(site)
    if len(sites) != len(paths):
        raise ValueError(f"one site per file: {len(paths)} file(s), {len(sites)} site(s)")
    return paths, sites


def analyze(
    path_or_paths: Union[PathLike, Sequence[PathLike]],
    site: Union[None, str, Sequence[Optional[str]]] = None,
    config: ConfigLike = None,
    *,
    threads: Optional[int] = None,
    units: Optional[str] = None,
    idle_fill: Optional[bool] = None,
) -> Night:
    """Reads a night's recording(s) and finds its events, as the ``analyze`` example does.

    ``path_or_paths`` is one file, or one file per sensor of the same night (two ankles and
    a wrist, say). Files are CSV, plain or ``.gz`` (a time column in seconds or ISO-8601,
    and x, y, z in g or m/s²), or device files by extension (``.cwa``, ``.gt3x``, ``.bin``).
    ``site`` names where each sensor was worn (:data:`SITES`): one name for all, one per
    file, or ``None`` to take it from the file name as :func:`site_of` reads it
    (``night.left_ankle.csv``), the ankle when the name has none. ``config`` changes
    detector settings: a dict (see :func:`default_config`) or a TOML or JSON file.
    ``threads`` caps the threads that parse a CSV file (default: the CPUs, at most 2); 1
    keeps a night on one core. ``units`` (``"g"`` or ``"m/s2"``) overrides a CSV's units.
    ``idle_fill``: whether runs of one sample repeated in a CSV file are an ActiGraph's
    idle-sleep fill, left out as gaps (``None``: in ActiLife exports only).

    The GIL is released while the files are read and analysed.

    Raises :class:`~sleeptwitch.InputError` (bad contents, naming file and line),
    :class:`~sleeptwitch.ReadError` (a file that cannot be opened) or
    :class:`~sleeptwitch.ConfigError`.
    """
    paths, sites = _inputs(path_or_paths, site)
    native = _native.analyze_paths(paths, sites, _config_arg(config), threads, units, idle_fill)
    return Night(native, paths)


def _columns(t_s: Any, acc_g: Any) -> Tuple["np.ndarray", "np.ndarray"]:
    """``t_s`` and ``acc_g`` as float64 arrays (no copy when they already are), shapes checked."""
    import numpy as np

    t = np.asarray(t_s, dtype=np.float64)
    acc = np.asarray(acc_g, dtype=np.float64)
    if t.ndim != 1 or acc.ndim != 2 or acc.shape != (len(t), 3):
        raise ValueError(f"t_s must have shape (n,) and acc_g shape (n, 3); found {t.shape} and {acc.shape}")
    return t, acc


def analyze_arrays(
    t_s: Any,
    acc_g: Any,
    site: str = "ankle",
    config: ConfigLike = None,
    *,
    sample_rate_hz: Optional[float] = None,
    name: str = "arrays",
) -> Night:
    """Finds the events of a night held in arrays.

    ``t_s``: times, shape ``(n,)``, in seconds, strictly increasing. ``acc_g``: acceleration
    along the sensor's x, y, z, shape ``(n, 3)``, in g (divide m/s² by 9.80665). float64
    arrays are read in place, whatever their strides; anything else is converted first.
    ``sample_rate_hz`` defaults to the inverse of the mean of the first 4,097 samples'
    intervals that lie within half and 1.5 times their median, as for files. Samples must
    be finite and within ±64 g. The summary has the fields of a file's; its one input has the path ``""`` and the night the :attr:`name`
    given.

    The GIL is released while the samples are processed; do not change the arrays from
    another thread meanwhile.

    Raises :class:`~sleeptwitch.InputError` naming the sample index (from 0) of a bad sample,
    :class:`~sleeptwitch.ConfigError`, or :class:`ValueError` for arrays of the wrong shape.
    """
    t, acc = _columns(t_s, acc_g)
    native = _native.analyze_columns(t, acc, site, _config_arg(config), sample_rate_hz, name)
    return Night(native, [])
