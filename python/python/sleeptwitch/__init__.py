"""sleeptwitch: finds and names movements in sleep from raw accelerometer recordings.

Periodic limb movements, leg movements, hypnic jerks, posture changes and wake activity,
with the night's clinical metrics (PLMS index, sleep time...), from the Rust crate of the
same name: the same code, the same results, the same speed.

- :func:`analyze` a night from files (CSV or device files), :func:`analyze_arrays` from
  numpy arrays: a :class:`Night` with ``events`` (numpy columns, ``.to_pandas()``) and
  ``summary`` (a dict).
- :class:`Detector`: the streaming core, chunk by chunk.
- :mod:`sleeptwitch.cohort`: many nights on a Dask cluster, a row per night.
- :func:`simulate`, :func:`simulate_arrays`: simulated nights with ground truth.

Units are in the names: ``_s`` seconds, ``_hz`` hertz, ``_g`` standard gravity
(9.80665 m/s²), ``_deg`` degrees, ``_per_h`` per hour. Errors are :class:`SleeptwitchError`
subclasses naming file, line and cause. Calls that read or process samples release the
GIL, so Python threads run nights in parallel.
"""

from ._sleeptwitch import __version__
from .errors import ConfigError, InputError, ReadError, SleeptwitchError, WriteError
from .night import EVENT_COLUMNS, KINDS, SITES, Events, Night, analyze, analyze_arrays, default_config, site_of
from .sim import simulate, simulate_arrays
from .stream import Detector

__all__ = [
    "__version__",
    "analyze",
    "analyze_arrays",
    "Night",
    "Events",
    "Detector",
    "default_config",
    "site_of",
    "simulate",
    "simulate_arrays",
    "SleeptwitchError",
    "InputError",
    "ReadError",
    "WriteError",
    "ConfigError",
    "EVENT_COLUMNS",
    "KINDS",
    "SITES",
]
