"""The type stubs match the native module, and the package type-checks strictly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

PYTHON_DIR = Path(__file__).resolve().parents[1]


def test_stubs_match_the_native_module():
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "sleeptwitch._sleeptwitch"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_type_checks_strictly():
    # mypy reads [tool.mypy] in python/pyproject.toml: strict, on python/sleeptwitch.
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=PYTHON_DIR, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
