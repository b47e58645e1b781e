"""Python and the Rust `analyze` example agree on every file of testdata/.

For a file that reads, both write the events CSV and the summary JSON: the CSVs must be the
same bytes and the summaries the same values. For a file that does not, the example exits 1
with one line ``error: <message>`` and Python raises an exception whose text is that message.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import sleeptwitch

from conftest import TESTDATA


def _recordings():
    files = sorted(
        p
        for p in [*TESTDATA.glob("*.csv"), *TESTDATA.glob("*.csv.gz")]
        if not p.name.endswith(("_truth.csv", ".truth.csv"))
    )
    files += sorted((TESTDATA / "devices").iterdir())
    files += sorted((TESTDATA / "bad").iterdir())
    return files


RECORDINGS = _recordings()


def test_the_list_covers_testdata():
    # Every recording kind is there: real and synthetic CSVs, device files, bad files.
    names = {p.name for p in RECORDINGS}
    assert "night_ankle_100hz_10min.csv.gz" in names
    assert "ax3_right_wrist_100hz_3min.cwa" in names
    assert "nan.csv" in names
    assert len(RECORDINGS) >= 35


@pytest.mark.parametrize("path", RECORDINGS, ids=[f"{p.parent.name}/{p.name}" for p in RECORDINGS])
def test_python_and_the_rust_example_agree(path: Path, analyze_example: Path, tmp_path: Path):
    rust_events, rust_summary = tmp_path / "rust.events.csv", tmp_path / "rust.summary.json"
    done = subprocess.run(
        [str(analyze_example), str(path), "--events", str(rust_events), "--summary", str(rust_summary), "--quiet"],
        capture_output=True,
        text=True,
    )
    try:
        night = sleeptwitch.analyze(path)
    except sleeptwitch.SleeptwitchError as e:
        assert done.returncode == 1, f"Python raised {e!r}, the example exited {done.returncode}"
        assert done.stderr.strip().splitlines() == [f"error: {e}"]
        return
    assert done.returncode == 0, done.stderr
    written = night.write(tmp_path / "py")
    assert Path(written["events"]).read_bytes() == rust_events.read_bytes()
    assert json.loads(Path(written["summary"]).read_text()) == json.loads(rust_summary.read_text())
    # And the numpy columns are the CSV's rows.
    rows = rust_events.read_text().splitlines()[1:]
    assert len(rows) == night.events.n_events
    for row, onset, kind in zip(rows, night.events["onset_s"], night.events["kind"]):
        fields = row.split(",")
        assert (float(fields[0]), fields[2]) == (onset, kind)
