"""Type stubs of the native module; the documented API is the ``sleeptwitch`` package."""

from typing import Any, Dict, List, Optional, Tuple, final

import numpy as np
import numpy.typing as npt
from typing_extensions import TypeAlias

__all__ = [
    "COHORT_COLUMNS",
    "EVENT_COLUMNS",
    "KINDS",
    "SITES",
    "_Detector",
    "_Night",
    "__version__",
    "analyze_columns",
    "analyze_paths",
    "cohort_row",
    "default_config_json",
    "lost_row",
    "night_names",
    "simulate_columns",
    "simulate_to_dir",
    "write_cohort_table",
]

__version__: str
EVENT_COLUMNS: List[str]
KINDS: List[str]
SITES: List[str]
COHORT_COLUMNS: List[str]

_F64: TypeAlias = npt.NDArray[np.float64]
#: ``("json", text)`` or ``("path", config file)``.
_Config: TypeAlias = Optional[Tuple[str, str]]

@final
class _Night:
    """One analysed night: events (kept in Rust) and the summary as JSON text."""

    @property
    def summary_json(self) -> str: ...
    @property
    def name(self) -> str: ...
    def event_columns(self) -> Dict[str, Any]:
        """Event columns: float64/int64 arrays, and lists of str for ``kind`` and ``sites``."""
    def write(self, out_dir: str, name: Optional[str] = None) -> Tuple[str, str]:
        """Writes ``NAME.events.csv`` and ``NAME.summary.json``; returns their paths."""
    def __len__(self) -> int: ...

@final
class _Detector:
    """The streaming detector over ``(site, sample rate in Hz)`` sensors."""

    def __new__(cls, sites: List[Tuple[str, float]], config: _Config = None) -> "_Detector": ...
    def push(self, t_s: _F64, acc_g: _F64, site_idx: int = 0) -> Dict[str, Any]:
        """Pushes ``t_s`` (n,) seconds and ``acc_g`` (n, 3) g; returns the events made final."""
    def finish(self) -> Tuple[Dict[str, Any], str]:
        """Returns the pending events and the summary as JSON text; resets."""
    def take_notices(self) -> List[Dict[str, Any]]:
        """The gaps, sleep onsets and unworn stretches told since the last call."""
    def reset(self) -> None: ...
    @property
    def latency_s(self) -> float: ...
    @property
    def sites(self) -> List[str]: ...

def analyze_paths(
    paths: List[str],
    sites: List[Optional[str]],
    config: _Config = None,
    threads: Optional[int] = None,
    units: Optional[str] = None,
    idle_fill: Optional[bool] = None,
) -> _Night:
    """Reads and analyses one night, one file per sensor (site None: the ankle)."""

def analyze_columns(
    t_s: _F64,
    acc_g: _F64,
    site: str,
    config: _Config = None,
    sample_rate_hz: Optional[float] = None,
    name: Optional[str] = None,
) -> _Night:
    """Analyses one night from ``t_s`` (n,) seconds and ``acc_g`` (n, 3) g."""

def night_names(nights: List[List[Tuple[str, Optional[str]]]]) -> List[str]:
    """The example's names for nights of ``(path, site)`` lists, unique in order."""

def cohort_row(
    paths: List[str],
    sites: List[Optional[str]],
    name: str,
    config: _Config = None,
    out_dir: Optional[str] = None,
    threads: Optional[int] = None,
    units: Optional[str] = None,
    idle_fill: Optional[bool] = None,
    resume: bool = False,
) -> str:
    """One night's cohort row as JSON text; writes its outputs into ``out_dir`` (with
    ``resume``, takes them from there when a former run finished them)."""

def lost_row(paths: List[str], sites: List[Optional[str]], name: str, kind: str, message: str) -> str:
    """The cohort row (JSON text) of a night whose task failed with ``kind``: ``message``."""

def write_cohort_table(path: str, rows: List[str]) -> None:
    """Writes the cohort table from rows' JSON text."""

def simulate_to_dir(out_dir: str, config_json: str) -> List[str]:
    """Writes a simulated night (``SimConfig`` JSON) into ``out_dir``; returns the paths."""

def simulate_columns(config_json: str, site: str) -> Tuple[_F64, _F64]:
    """One sensor of a simulated night: times (n,) in s, acceleration (n, 3) in g."""

def default_config_json() -> str:
    """The default detector config as JSON text."""
