"""Type stubs of the native module; the documented API is the ``sleeptwitch`` package."""

from typing import Any, Dict, List, Optional, Tuple, final

import numpy as np
import numpy.typing as npt
from typing_extensions import TypeAlias

__all__ = [
    "EVENT_COLUMNS",
    "KINDS",
    "SITES",
    "_Detector",
    "_Night",
    "__version__",
    "analyze_columns",
    "analyze_paths",
    "default_config_json",
    "simulate_columns",
    "simulate_to_dir",
]

__version__: str
EVENT_COLUMNS: List[str]
KINDS: List[str]
SITES: List[str]

_F64: TypeAlias = npt.NDArray[np.float64]

@final
class _Night:
    """One analysed night: events (kept in Rust) and the summary as JSON text."""

    @property
    def summary_json(self) -> str: ...
    def event_columns(self) -> Dict[str, Any]:
        """Event columns: float64/int64 arrays, and lists of str for ``kind`` and ``sites``."""
    def write_events(self, path: str) -> None:
        """Writes the events CSV to ``path``."""
    def __len__(self) -> int: ...

@final
class _Detector:
    """The streaming detector over ``(site, sample rate in Hz)`` sensors."""

    def __new__(cls, sites: List[Tuple[str, float]], config_json: Optional[str] = None) -> "_Detector": ...
    def push(self, t_s: _F64, acc_g: _F64, site_idx: int = 0) -> Dict[str, Any]:
        """Pushes ``t_s`` (n,) seconds and ``acc_g`` (n, 3) g; returns the events made final."""
    def finish(self) -> Tuple[Dict[str, Any], str]:
        """Returns the pending events and the summary as JSON text; resets."""
    def reset(self) -> None: ...
    @property
    def latency_s(self) -> float: ...
    @property
    def sites(self) -> List[str]: ...

def analyze_paths(
    paths: List[str], sites: List[str], config_json: Optional[str] = None, threads: Optional[int] = None
) -> _Night:
    """Reads and analyses one night, one file per sensor."""

def analyze_columns(
    t_s: _F64,
    acc_g: _F64,
    site: str,
    config_json: Optional[str] = None,
    sample_rate_hz: Optional[float] = None,
) -> _Night:
    """Analyses one night from ``t_s`` (n,) seconds and ``acc_g`` (n, 3) g."""

def simulate_to_dir(out_dir: str, config_json: str) -> List[str]:
    """Writes a simulated night (``SimConfig`` JSON) into ``out_dir``; returns the paths."""

def simulate_columns(config_json: str, site: str) -> Tuple[_F64, _F64]:
    """One sensor of a simulated night: times (n,) in s, acceleration (n, 3) in g."""

def default_config_json() -> str:
    """The default detector config as JSON text."""
