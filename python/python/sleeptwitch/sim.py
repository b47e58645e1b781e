"""Simulated nights with ground truth, from the crate's simulator."""

from __future__ import annotations

import os
TYPE_CHECKING = False  # typing stays unimported at run time (see night.py)

from . import _sleeptwitch as _native

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, List, Tuple, Union

    import numpy as np

__all__ = ["simulate", "simulate_arrays"]


def _sim_json(seed: int, hours: float, rate_hz: float, layout: str, difficulty: float, severity: str, extra: Any) -> str:
    fields = {
        "seed": int(seed),
        "duration_h": float(hours),
        "rate_hz": float(rate_hz),
        "layout": layout,
        "difficulty": float(difficulty),
        "severity": severity,
    }
    fields.update(extra)
    import json
    return json.dumps(fields)


def simulate(
    out_dir: Union[str, "os.PathLike[str]"],
    *,
    seed: int = 1,
    hours: float = 8.0,
    rate_hz: float = 100.0,
    layout: str = "ankle",
    difficulty: float = 0.4,
    severity: str = "mild",
    **fields: Any,
) -> List[str]:
    """Writes a simulated night into ``out_dir`` and returns the paths written.

    As the ``simulate`` example: ``night.csv`` (``t,x,y,z``, seconds and g; for
    ``layout="bilateral"`` ``night.left_ankle.csv``, ``night.right_ankle.csv`` and
    ``night.wrist.csv``), ``night.truth.csv`` and ``night.truth.json``. ``hours``: 1 to 48;
    ``rate_hz``: nominal rate in Hz; ``layout``: ``ankle``, ``wrist`` or ``bilateral``;
    ``difficulty``: 0 (easy) to 1 (hard); ``severity``: ``none``, ``mild``, ``moderate`` or
    ``severe`` PLM. Other ``SimConfig`` fields (``rule``, ``sensor={...}``) pass through.
    The same arguments give byte-identical files.
    """
    cfg = _sim_json(seed, hours, rate_hz, layout, difficulty, severity, fields)
    return [os.fspath(p) for p in _native.simulate_to_dir(os.fspath(out_dir), cfg)]


def simulate_arrays(
    *,
    seed: int = 1,
    hours: float = 8.0,
    rate_hz: float = 100.0,
    site: str = "ankle",
    difficulty: float = 0.4,
    severity: str = "mild",
    **fields: Any,
) -> Tuple["np.ndarray", "np.ndarray"]:
    """The samples of a simulated night in memory: times ``(n,)`` in seconds, acceleration
    ``(n, 3)`` in g.

    The samples :func:`simulate` writes, at full precision.
    ``site`` picks the sensor (``ankle`` or ``wrist``; for ``layout="bilateral"`` in
    ``fields``, ``left_ankle``, ``right_ankle`` or ``wrist``). An 8 h night at 100 Hz is
    2.9 M samples, 92 MB.
    """
    layout = fields.pop("layout", "wrist" if site == "wrist" else "ankle")
    cfg = _sim_json(seed, hours, rate_hz, layout, difficulty, severity, fields)
    t_s, acc_g = _native.simulate_columns(cfg, site)
    return t_s, acc_g
