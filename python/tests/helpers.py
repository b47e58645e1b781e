"""Comparing events exactly, column by column."""

from __future__ import annotations

from typing import Mapping

import numpy as np

import sleeptwitch


def assert_events_equal(got: Mapping[str, np.ndarray], want: Mapping[str, np.ndarray], label: str = "") -> None:
    """Every column equal, bit for bit (NaN equal to NaN in ``imi_s``), with the column named."""
    assert list(got) == list(sleeptwitch.EVENT_COLUMNS), label
    assert list(want) == list(sleeptwitch.EVENT_COLUMNS), label
    for name in sleeptwitch.EVENT_COLUMNS:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.shape == w.shape, f"{label}: column {name}: {g.shape} events, expected {w.shape}"
        if g.dtype.kind == "f":
            same = np.array_equal(g, w, equal_nan=True)
        else:
            same = np.array_equal(g, w)
        if not same:
            bad = int(np.flatnonzero(g != w)[0]) if g.dtype.kind != "f" else int(
                np.flatnonzero(~((g == w) | (np.isnan(g) & np.isnan(w))))[0]
            )
            raise AssertionError(f"{label}: column {name} differs first at event {bad}: {g[bad]!r} != {w[bad]!r}")
