"""Shared fixtures: the repository's testdata, the Rust example to compare with, simulated nights."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List

import pytest

import sleeptwitch

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"


def _target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


@pytest.fixture(scope="session")
def analyze_example() -> Path:
    """The Rust `analyze` example, built in release if it is not there yet."""
    exe = _target_dir() / "release" / "examples" / "analyze"
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--example", "analyze"], cwd=REPO, check=True
        )
    assert exe.exists(), f"no {exe} after building the analyze example"
    return exe


@pytest.fixture(scope="session")
def sim_nights(tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    """Twelve simulated 1 h ankle nights at 50 Hz, one folder each (p01/night.csv ...).

    1 h is the simulator's shortest night; 50 Hz keeps each one about 3.5 MB and a few
    hundredths of a second to analyse.
    """
    root = tmp_path_factory.mktemp("cohort")
    paths = []
    for i in range(1, 13):
        written = sleeptwitch.simulate(root / f"p{i:02d}", seed=100 + i, hours=1.0, rate_hz=50.0)
        paths.append(next(p for p in written if p.endswith("night.csv")))
    return paths
