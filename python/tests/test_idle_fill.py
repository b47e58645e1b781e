"""An ActiGraph's idle-sleep fill (its last sample repeated while it sleeps) is left out as gaps."""

from __future__ import annotations

import sleeptwitch
from sleeptwitch import cohort

from conftest import TESTDATA


def _filled_copy(tmp_path):
    """The real idle-sleep excerpt with every gap filled by its last sample at 30 Hz."""
    lines = (TESTDATA / "actigraph_30hz_idle_gaps_10min.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    start = float(rows[0][0])
    by_row = {round((float(r[0]) - start) * 30): r[1:] for r in rows}
    out, last = ["t,x,y,z"], rows[0][1:]
    for k in range(max(by_row) + 1):
        last = by_row.get(k, last)
        out.append(",".join([f"{start + k / 30:.3f}"] + last))
    path = tmp_path / "filled.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def _gaps(night):
    return night.summary["inputs"][0]["recording"]["gaps"]


def test_idle_fill_is_asked_for_on_a_plain_csv_and_gives_the_gaps_and_events(tmp_path):
    original = sleeptwitch.analyze(TESTDATA / "actigraph_30hz_idle_gaps_10min.csv")
    path = _filled_copy(tmp_path)
    kept = sleeptwitch.analyze(path)
    assert _gaps(kept) == []
    dropped = sleeptwitch.analyze(path, idle_fill=True)
    assert len(_gaps(dropped)) == len(_gaps(original)) == 6
    want, got = original.events, dropped.events
    assert got.n_events == want.n_events > 0
    assert list(got["kind"]) == list(want["kind"])
    assert abs(got["onset_s"] - want["onset_s"]).max() < 2e-3
    assert abs(got["offset_s"] - want["offset_s"]).max() < 2e-3
    rows = cohort.run_local([path, path], site="ankle", idle_fill=True)
    assert list(rows["n_events"]) == [want.n_events] * 2
