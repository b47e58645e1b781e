"""What importing the package costs: numpy is loaded only when arrays are made."""

from __future__ import annotations

import subprocess
import sys

from conftest import TESTDATA


def test_analysing_files_and_writing_outputs_never_imports_numpy(tmp_path):
    # numpy's import is a tenth of a second or more, half of an 8 h night's analysis: a
    # script that only turns files into outputs does not pay it.
    script = (
        "import sys, sleeptwitch\n"
        f"sleeptwitch.analyze({str(TESTDATA / 'night_ankle_100hz_10min.csv.gz')!r}).write({str(tmp_path)!r})\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
        "sleeptwitch.analyze_arrays([0.0, 0.02, 0.04], [[0, 0, 1]] * 3)\n"
        "assert 'numpy' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "night_ankle_100hz_10min.events.csv").exists()
