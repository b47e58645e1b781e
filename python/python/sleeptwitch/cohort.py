"""Cohorts: many nights over a Dask cluster, one task per night, one row per night.

:func:`run` maps nights over a ``dask.distributed`` client (a :class:`LocalCluster` on this
machine when none is given) and returns a pandas DataFrame with a row per night, failures
included as rows carrying their error. Workers read the files themselves: only paths travel
through the scheduler, and only a row of figures comes back. The rows are those of the
``analyze`` example's cohort table (``summary.csv``); with ``out_dir``, each night's
``NAME.events.csv`` and ``NAME.summary.json`` are written there and the table as
``summary.csv``, as ``analyze --out-dir`` writes them. Each file is written under a hidden
name and renamed when whole, the summary last; with ``resume=True`` a night whose summary
a former run with the same config, ``units``, ``idle_fill`` and version left in ``out_dir``
(its events beside it, its recordings of the same sizes) is taken from there rather than
analysed again, as ``analyze --resume`` does: a cohort run that was stopped goes on where
it was, and nights that failed are tried again.

A worker that dies mid-night (killed, out of memory, its machine lost) costs nothing but
time: the scheduler hands its nights to the other workers, and each night is still reported
exactly once. A night whose file is bad is a row with ``status`` ``error`` and the error's
text, kind, file and line.

:func:`run_local` computes the same table in this process, night after night, for small
cohorts and for checking a cluster's result.

Needs ``pandas`` and ``dask[distributed]`` (``pip install "dask[distributed]" pandas``).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from . import _sleeptwitch as _native
from .night import _config_arg, _inputs

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    from distributed import Client

    from .night import ConfigLike

__all__ = ["run", "run_local", "night_row", "ROW_COLUMNS"]

PathLike = Union[str, "os.PathLike[str]"]
#: One night: a file, or one file per sensor of the same night.
NightInput = Union[PathLike, Sequence[PathLike]]
#: What a task takes: each file of the night with its site (None: the ankle).
Inputs = List[Tuple[str, Optional[str]]]

#: Columns of the table: the ``analyze`` example's cohort row (``name``; ``status``, ``ok``
#: or ``error``; ``error``; ``inputs`` as ``site:path`` joined by ``;``; then the night's
#: figures: ``duration_h``, ``total_sleep_time_h``, ``plms_index_per_h``, ``n_events``...),
#: then the error's ``error_kind``, ``error_file`` and ``error_line`` for a failed night.
ROW_COLUMNS: Tuple[str, ...] = tuple(_native.COHORT_COLUMNS) + ("error_kind", "error_file", "error_line")


def _night_inputs(night: NightInput, site: Union[None, str, Sequence[Optional[str]]]) -> Inputs:
    paths, sites = _inputs(night, site)
    return list(zip(paths, sites))


def night_row(
    inputs: Inputs,
    name: str,
    *,
    config: Optional[Tuple[str, str]] = None,
    out_dir: Optional[str] = None,
    threads: Optional[int] = 1,
    units: Optional[str] = None,
    idle_fill: Optional[bool] = None,
    resume: bool = False,
) -> Dict[str, Any]:
    """Analyses one night and returns its row: the task each worker runs.

    ``inputs``: ``(path, site or None)`` per file; ``name``: the night's name, which its
    outputs in ``out_dir`` are named by. Never raises for a bad night: the error is the row.
    The GIL is released while the night is read and analysed. With ``resume``, a night a
    former run finished in ``out_dir`` is its row from its summary there.
    """
    paths = [p for p, _ in inputs]
    sites = [s for _, s in inputs]
    row: Dict[str, Any] = json.loads(
        _native.cohort_row(paths, sites, name, config, out_dir, threads, units, idle_fill, resume)
    )
    return row


def _lost_row(name: str, inputs: Inputs, error: BaseException) -> Dict[str, Any]:
    """The row of a night whose task itself failed (not its analysis): the night is still a row."""
    paths = [p for p, _ in inputs]
    sites = [s for _, s in inputs]
    message = str(error) or type(error).__name__
    row: Dict[str, Any] = json.loads(_native.lost_row(paths, sites, name, type(error).__name__, message))
    return row


def _plan(
    nights: Sequence[NightInput], site: Union[None, str, Sequence[Optional[str]]]
) -> Tuple[List[Inputs], List[str]]:
    """Each night's inputs and its name, unique in order (``night``, ``night-2``...)."""
    inputs = [_night_inputs(n, site) for n in nights]
    return inputs, list(_native.night_names(inputs))


def _finish(rows: Sequence[Dict[str, Any]], out_dir: Optional[str]) -> "pandas.DataFrame":
    import pandas as pd

    if out_dir is not None:
        _native.write_cohort_table(os.path.join(out_dir, "summary.csv"), [json.dumps(r) for r in rows])
    return pd.DataFrame(list(rows), columns=list(ROW_COLUMNS))


def run_local(
    nights: Sequence[NightInput],
    out_dir: Optional[PathLike] = None,
    *,
    site: Union[None, str, Sequence[Optional[str]]] = None,
    config: ConfigLike = None,
    threads: Optional[int] = None,
    units: Optional[str] = None,
    idle_fill: Optional[bool] = None,
    resume: bool = False,
) -> "pandas.DataFrame":
    """The table :func:`run` returns (and the files it writes), made in this process, one
    night after another."""
    inputs, names = _plan(nights, site)
    cfg = _config_arg(config)
    out = None if out_dir is None else os.path.abspath(os.fspath(out_dir))
    rows = [
        night_row(
            i, n, config=cfg, out_dir=out, threads=threads, units=units, idle_fill=idle_fill, resume=resume
        )
        for i, n in zip(inputs, names)
    ]
    return _finish(rows, out)


def run(
    nights: Sequence[NightInput],
    client: Optional["Client"] = None,
    out_dir: Optional[PathLike] = None,
    *,
    site: Union[None, str, Sequence[Optional[str]]] = None,
    config: ConfigLike = None,
    threads: int = 1,
    units: Optional[str] = None,
    idle_fill: Optional[bool] = None,
    resume: bool = False,
    on_row: Optional[Callable[[Dict[str, Any]], None]] = None,
) -> "pandas.DataFrame":
    """Analyses every night on a Dask cluster; returns one row per night, in input order.

    ``nights``: paths, or for a night seen by several sensors a list of paths. ``client``: a
    ``distributed.Client``; ``None`` starts a :class:`LocalCluster` of one single-threaded
    worker process per core and closes it at the end. ``out_dir``: where each night's
    ``NAME.events.csv`` and ``NAME.summary.json`` and the table ``summary.csv`` go (``None``:
    nowhere), ``NAME`` being the row's ``name``. ``site``, ``config``, ``units`` and
    ``idle_fill`` as for :func:`~sleeptwitch.analyze`; a config file is read on the workers.
    ``threads``: CSV parsing threads per night (1, so that a worker thread is a core).
    ``resume``: take the nights a former run finished in ``out_dir`` from there (see the
    module's docs). ``on_row`` is called in this process with each row as it arrives (for progress).

    Columns: :data:`ROW_COLUMNS`. Files must be readable by the workers at the same paths.
    """
    from distributed import Client, LocalCluster, as_completed

    inputs, names = _plan(nights, site)
    cfg = _config_arg(config)
    if cfg is not None and cfg[0] == "path":
        cfg = ("path", os.path.abspath(cfg[1]))
    out = None if out_dir is None else os.path.abspath(os.fspath(out_dir))
    own = None
    if client is None:
        own = LocalCluster(threads_per_worker=1, processes=True)
        client = Client(own)
    try:
        token = os.urandom(4).hex()
        futures = {}
        for idx, (night, name) in enumerate(zip(inputs, names)):
            fut = client.submit(
                night_row,
                night,
                name,
                config=cfg,
                out_dir=out,
                threads=threads,
                units=units,
                idle_fill=idle_fill,
                resume=resume,
                key=f"sleeptwitch-night-{idx}-{token}",
                pure=False,
            )
            futures[fut.key] = (idx, fut)
        rows: List[Optional[Dict[str, Any]]] = [None] * len(inputs)
        for fut in as_completed([f for _, f in futures.values()]):
            idx, _ = futures[fut.key]
            try:
                # A result lost with a killed worker after it was done is computed again
                # elsewhere: its status is no longer "finished", and this waits for it.
                row = fut.result()
            except Exception as err:
                # The task itself failed (a worker lost too many times, an import error on
                # a worker): the night is still one row, with that error.
                row = _lost_row(names[idx], inputs[idx], err)
            rows[idx] = row
            if on_row is not None:
                on_row(row)
        return _finish([r for r in rows if r is not None], out)
    finally:
        if own is not None:
            client.close()
            own.close()
