"""Cohorts: many nights over a Dask cluster, one task per night, one row per night.

:func:`run` maps nights over a ``dask.distributed`` client (a :class:`LocalCluster` on this
machine when none is given) and returns a pandas DataFrame with a row per night, failures
included as rows carrying their error. Workers read the files themselves: only paths travel
through the scheduler, and only a row of numbers comes back. When ``out_dir`` is given, each
night's events CSV and summary JSON are written there, as :meth:`Night.write` does, in
folders that mirror the inputs' (so ``p01/night.csv`` and ``p02/night.csv`` do not collide).

A worker that dies mid-night (killed, out of memory, its machine lost) costs nothing but
time: the scheduler hands its nights to the other workers, and each night is still reported
exactly once. A night whose file is bad is a row with ``ok = False`` and the error's text,
kind, file and line.

:func:`run_local` computes the same table in this process, night after night, for small
cohorts and for checking a cluster's result.

Needs ``pandas`` and ``dask[distributed]`` (``pip install "dask[distributed]" pandas``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Union

from .errors import SleeptwitchError
from .night import KINDS, ConfigLike, _config_json, analyze

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    from distributed import Client

__all__ = ["run", "run_local", "night_row"]

PathLike = Union[str, "os.PathLike[str]"]
#: One night: a file, or one file per sensor of the same night.
NightInput = Union[PathLike, Sequence[PathLike]]

#: Columns every row has, before the night's own figures.
BASE_COLUMNS = ("night", "ok", "error", "error_kind", "error_file", "error_line", "n_events")


def _paths(night: NightInput) -> List[str]:
    if isinstance(night, (str, os.PathLike)):
        return [os.fspath(night)]
    return [os.fspath(p) for p in night]


def _flatten(summary: Dict[str, Any]) -> Dict[str, Any]:
    """The summary's scalar figures as one flat row.

    Top-level numbers and strings keep their names; the fields of ``metrics`` keep theirs
    (``plms_index_per_h``, ``total_sleep_time_s``...); other objects' scalar fields are named
    ``<object>.<field>``; ``n_events`` becomes ``n_<kind>`` per kind. Lists (per-sensor
    streams, sleep bouts) stay in the summary JSON.
    """
    row: Dict[str, Any] = {}
    for key, value in summary.items():
        if key == "n_events" and isinstance(value, list):
            row.update({f"n_{kind}": n for kind, n in zip(KINDS, value)})
        elif isinstance(value, dict):
            prefix = "" if key == "metrics" else f"{key}."
            for sub, v in value.items():
                if v is None or isinstance(v, (bool, int, float, str)):
                    row[prefix + sub] = v
        elif value is None or isinstance(value, (bool, int, float, str)):
            row[key] = value
    return row


def _error_row(name: str, error: BaseException) -> Dict[str, Any]:
    return {
        "night": name,
        "ok": False,
        "error": str(error) or type(error).__name__,
        "error_kind": getattr(error, "kind", type(error).__name__),
        "error_file": getattr(error, "file", None),
        "error_line": getattr(error, "line", None),
        "n_events": None,
    }


def night_row(
    night: NightInput,
    *,
    site: Union[None, str, Sequence[str]] = None,
    config_json: Optional[str] = None,
    out_dir: Optional[str] = None,
    out_subdir: str = "",
    threads: Optional[int] = 1,
) -> Dict[str, Any]:
    """Analyses one night and returns its row (the task each worker runs).

    Never raises for a bad night: the error becomes the row (``ok`` False, ``error`` its
    text, ``error_kind``, ``error_file``, ``error_line``). ``config_json``: the config as
    JSON text; ``out_subdir``: where under ``out_dir`` the night's outputs go.
    """
    paths = _paths(night)
    name = paths[0] if paths else ""
    try:
        config = None if config_json is None else __import__("json").loads(config_json)
        result = analyze(paths, site=site, config=config, threads=threads)
        row: Dict[str, Any] = {
            "night": name,
            "ok": True,
            "error": None,
            "error_kind": None,
            "error_file": None,
            "error_line": None,
            "n_events": len(result),
        }
        row.update(_flatten(result.summary))
        if out_dir is not None:
            written = result.write(Path(out_dir) / out_subdir)
            row["events_csv"] = written["events"]
            row["summary_json"] = written["summary"]
        return row
    except (SleeptwitchError, OSError, ValueError) as e:
        return _error_row(name, e)


def _subdirs(nights: Sequence[NightInput]) -> List[str]:
    """Each night's folder relative to the folder all nights share, for mirrored outputs."""
    dirs = [os.path.dirname(os.path.abspath(_paths(n)[0])) if _paths(n) else os.getcwd() for n in nights]
    if not dirs:
        return []
    common = os.path.commonpath(dirs)
    return [os.path.relpath(d, common) if d != common else "" for d in dirs]


def _table(rows: Sequence[Dict[str, Any]]) -> "pandas.DataFrame":
    import pandas as pd

    columns = list(BASE_COLUMNS)
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return pd.DataFrame(list(rows), columns=columns)


def run_local(
    nights: Sequence[NightInput],
    out_dir: Optional[PathLike] = None,
    *,
    site: Union[None, str, Sequence[str]] = None,
    config: ConfigLike = None,
    threads: Optional[int] = None,
) -> "pandas.DataFrame":
    """The table :func:`run` returns, computed in this process, one night after another."""
    cfg = _config_json(config)
    out = None if out_dir is None else os.fspath(out_dir)
    rows = [
        night_row(n, site=site, config_json=cfg, out_dir=out, out_subdir=sub, threads=threads)
        for n, sub in zip(nights, _subdirs(nights))
    ]
    return _table(rows)


def run(
    nights: Sequence[NightInput],
    client: Optional["Client"] = None,
    out_dir: Optional[PathLike] = None,
    *,
    site: Union[None, str, Sequence[str]] = None,
    config: ConfigLike = None,
    threads: int = 1,
    on_row: Optional[Callable[[Dict[str, Any]], None]] = None,
) -> "pandas.DataFrame":
    """Analyses every night on a Dask cluster; returns one row per night, in input order.

    ``nights``: paths (or, for a night seen by several sensors, a list of paths each).
    ``client``: a ``distributed.Client``; ``None`` starts a :class:`LocalCluster` with one
    single-threaded worker process per core and closes it at the end. ``out_dir``: where
    each night's ``<name>.events.csv`` and ``<name>.summary.json`` go (``None``: nowhere);
    the paths are in the row's ``events_csv`` and ``summary_json``. ``site`` and ``config``
    as for :func:`~sleeptwitch.analyze`. ``threads``: CSV parsing threads per night (1, so
    a worker thread is one core). ``on_row`` is called in this process with each row as it
    arrives (for progress).

    Columns: ``night`` (its first path), ``ok``, ``error``, ``error_kind``, ``error_file``,
    ``error_line``, ``n_events``, then the summary's figures (``n_<kind>`` per event kind,
    the night's metrics such as ``plms_index_per_h`` and ``total_sleep_time_s``). Files
    must be readable by the workers at the same paths.
    """
    from distributed import Client, LocalCluster, as_completed

    nights = list(nights)
    cfg = _config_json(config)
    out = None if out_dir is None else os.path.abspath(os.fspath(out_dir))
    subdirs = _subdirs(nights)
    own = None
    if client is None:
        own = LocalCluster(threads_per_worker=1, processes=True)
        client = Client(own)
    try:
        futures = {}
        for idx, (night, sub) in enumerate(zip(nights, subdirs)):
            fut = client.submit(
                night_row,
                _paths(night),
                site=site,
                config_json=cfg,
                out_dir=out,
                out_subdir=sub,
                threads=threads,
                key=f"sleeptwitch-night-{idx}-{os.urandom(4).hex()}",
                pure=False,
            )
            futures[fut.key] = (idx, fut)
        rows: List[Optional[Dict[str, Any]]] = [None] * len(nights)
        for fut in as_completed([f for _, f in futures.values()]):
            idx, _ = futures[fut.key]
            if fut.status == "finished":
                row = fut.result()
            else:
                # The task itself failed (a worker lost too many times, an import error on
                # a worker): the night is still one row, with that error.
                row = _error_row(_paths(nights[idx])[0], fut.exception())
            rows[idx] = row
            if on_row is not None:
                on_row(row)
        return _table([r for r in rows if r is not None])
    finally:
        if own is not None:
            client.close()
            own.close()
