"""Cohorts on a Dask cluster of two worker processes on the loopback interface."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Any, Dict, List

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
from distributed import Client, LocalCluster  # noqa: E402

from sleeptwitch import cohort  # noqa: E402



def _cluster() -> LocalCluster:
    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def _outputs(out_dir: Path) -> Dict[str, bytes]:
    """Every output file under ``out_dir`` by its relative path, with its bytes."""
    return {
        str(p.relative_to(out_dir)): p.read_bytes()
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _corrupt_copy(src: str, dst: Path, line: int) -> str:
    """A copy of a night's CSV with a number replaced by ``--`` on ``line`` (from 1)."""
    lines = Path(src).read_text().splitlines(keepends=True)
    t = lines[line - 1].split(",")[0]
    lines[line - 1] = f"{t},--,0,1\n"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join(lines))
    return str(dst)


def _inputs(path: str) -> str:
    """A night's ``inputs`` cell: ``site:path`` (the ankle, by default)."""
    return f"ankle:{path}"


def test_the_cluster_table_equals_the_single_process_table(sim_nights: List[str], tmp_path: Path):
    with _cluster() as cluster, Client(cluster) as client:
        table = cohort.run(sim_nights, client=client, out_dir=tmp_path / "dask")
    local = cohort.run_local(sim_nights, out_dir=tmp_path / "local", threads=1)
    assert len(table) == len(sim_nights) >= 8
    assert table["inputs"].tolist() == [_inputs(p) for p in sim_nights]
    # Every file is night.csv: names are made unique in order, as the example makes them.
    assert table["name"].tolist() == ["night"] + [f"night-{i}" for i in range(2, len(sim_nights) + 1)]
    assert (table["status"] == "ok").all(), table.loc[table["status"] != "ok", "error"].tolist()
    assert (table["n_events"] > 0).all()
    pd.testing.assert_frame_equal(table, local)
    # The same files, byte for byte: each night's events and summary, and the table.
    dask_files, local_files = _outputs(tmp_path / "dask"), _outputs(tmp_path / "local")
    assert dask_files == local_files
    assert sorted(dask_files) == sorted(
        [f"{n}.{what}" for n in table["name"] for what in ("events.csv", "summary.json")] + ["summary.csv"]
    )


def test_a_killed_worker_and_a_corrupt_file_leave_every_night_reported_once(sim_nights: List[str], tmp_path: Path):
    corrupt = _corrupt_copy(sim_nights[0], tmp_path / "in" / "bad" / "night.csv", line=1000)
    nights = sim_nights[:5] + [corrupt] + sim_nights[5:]
    kills: List[Dict[str, Any]] = []
    seen: List[str] = []

    with _cluster() as cluster, Client(cluster) as client:

        def on_row(row: Dict[str, Any]) -> None:
            seen.append(row["inputs"])
            if kills:
                return
            # Kill a worker that has nights in hand, as soon as one does: the scheduler must
            # hand its nights to the other worker (or to the one its nanny restarts).
            busy = [w for w, keys in client.processing().items() if keys]
            if not busy:
                return
            pids = client.run(os.getpid)
            victim = busy[0]
            os.kill(pids[victim], signal.SIGKILL)
            kills.append({"worker": victim, "pid": pids[victim], "rows_before": len(seen)})

        table = cohort.run(nights, client=client, out_dir=tmp_path / "out", on_row=on_row)
        pids_after = set(client.run(os.getpid).values())

    assert kills, "no worker had a night in hand while rows arrived: the kill never happened"
    assert kills[0]["rows_before"] < len(nights), "the kill came after the last night"
    assert kills[0]["pid"] not in pids_after
    # Every night exactly once, in input order, and told to the caller exactly once.
    assert table["inputs"].tolist() == [_inputs(p) for p in nights]
    assert sorted(seen) == sorted(table["inputs"])
    # The corrupt night is a row with its error; every other night completed.
    bad = table[table["inputs"] == _inputs(corrupt)].iloc[0]
    assert bad["status"] == "error"
    assert (bad["error_kind"], bad["error_file"], bad["error_line"]) == ("not_a_number", corrupt, 1000)
    assert bad["error"].startswith(f"{corrupt}:1000: ")
    good = table[table["inputs"] != _inputs(corrupt)].reset_index(drop=True)
    assert (good["status"] == "ok").all(), good.loc[good["status"] != "ok", "error"].tolist()
    # And their figures are those of one process (names aside: the bad night took one).
    local = cohort.run_local(sim_nights, threads=1)
    figures = [c for c in local.columns if c != "name" and not c.startswith("error")]
    pd.testing.assert_frame_equal(good[figures], local[figures], check_dtype=False)
    # The table on disk has every night once.
    on_disk = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert sorted(on_disk["inputs"]) == sorted(table["inputs"])


def test_a_night_whose_task_failed_is_still_a_row():
    # What run() makes of a task that Dask gave up on (KilledWorker after too many worker
    # deaths, say): the example's failed row, with what was raised.
    row = cohort._lost_row("n7", [("/data/n7.left_ankle.csv", "left_ankle"), ("/data/n7.csv", None)], RuntimeError("boom"))
    assert set(row) == set(cohort.ROW_COLUMNS)
    assert (row["name"], row["status"], row["error"]) == ("n7", "error", "boom")
    assert row["inputs"] == "left_ankle:/data/n7.left_ankle.csv;ankle:/data/n7.csv"
    assert (row["error_kind"], row["error_file"], row["error_line"]) == ("RuntimeError", None, None)
    assert row["n_events"] is None


def test_resume_takes_the_nights_a_former_run_finished_and_redoes_the_rest(
    sim_nights: List[str], tmp_path: Path
):
    import shutil

    data = tmp_path / "data"
    nights = []
    for i, src in enumerate(sim_nights[:3]):
        dst = data / f"n{i}.csv"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
        nights.append(str(dst))
    _corrupt_copy(sim_nights[3], data / "n3.csv", line=40)
    nights.append(str(data / "n3.csv"))
    out = tmp_path / "out"
    first = cohort.run_local(nights, out_dir=out, threads=1)
    assert first["status"].tolist() == ["ok", "ok", "ok", "error"]
    files = _outputs(out)
    # No hidden part-file is left either.
    assert sorted(p.name for p in out.iterdir()) == sorted(files)

    # n0 now reads as corrupt at the same size (it would fail if analysed again), n1's
    # summary is gone, n3 is fixed.
    lines = (data / "n0.csv").read_text().splitlines(keepends=True)
    lines[39] = "x" + lines[39][1:]
    (data / "n0.csv").write_text("".join(lines))
    (out / "n1.summary.json").unlink()
    shutil.copy(sim_nights[3], data / "n3.csv")
    second = cohort.run_local(nights, out_dir=out, threads=1, resume=True)
    assert second["status"].tolist() == ["ok"] * 4, second["error"].tolist()
    # The same rows (the first table's columns are of objects, having an error row).
    same = ["name", "status", "inputs", "n_gaps", "total_sleep_time_h", "n_plms", "plms_index_per_h", "n_events"]
    assert second.loc[:1, same].values.tolist() == first.loc[:1, same].values.tolist()
    assert (out / "n1.summary.json").read_bytes() == files["n1.summary.json"]
    # Without resume, n0 is analysed again and fails.
    third = cohort.run_local(nights, out_dir=out, threads=1)
    assert third["status"].tolist() == ["error", "ok", "ok", "ok"]
