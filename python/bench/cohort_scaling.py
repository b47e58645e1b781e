#!/usr/bin/env python3
"""Cohort throughput on a Dask LocalCluster: the same nights with 1 worker and with 2.

    python python/bench/cohort_scaling.py DIR [--nights 16] [--hours 8] [--rate 100] [--repeats 2]

Simulates the nights into DIR/pNN/night.csv if they are not there (seeds 1, 2, ...), reads
them once so they sit in the page cache, then runs `sleeptwitch.cohort.run` over all of them
on a fresh LocalCluster of N single-threaded worker processes, for N = 1, 2, 2, 1, ...
Reports the wall time of each run (cluster start-up excluded), nights per hour per core and
the speed-up of 2 workers over 1.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

from distributed import Client, LocalCluster

import sleeptwitch
from sleeptwitch import cohort


def nights(root: Path, n: int, hours: float, rate: float) -> list:
    paths = []
    for i in range(1, n + 1):
        p = root / f"p{i:02d}" / "night.csv"
        if not p.exists():
            sleeptwitch.simulate(p.parent, seed=i, hours=hours, rate_hz=rate)
        paths.append(str(p))
    for p in paths:  # into the page cache
        Path(p).read_bytes()
    return paths


def timed_run(paths: list, workers: int) -> float:
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:
        client.run(lambda: __import__("sleeptwitch") and None)  # workers import before timing
        t0 = time.perf_counter()
        table = cohort.run(paths, client=client)
        seconds = time.perf_counter() - t0
    ok = table["status"] == "ok"
    assert ok.all(), table.loc[~ok, "error"].tolist()
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--nights", type=int, default=16)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    paths = nights(Path(args.dir), args.nights, args.hours, args.rate)
    times = {1: [], 2: []}
    for r in range(args.repeats):
        for w in (1, 2) if r % 2 == 0 else (2, 1):
            s = timed_run(paths, w)
            times[w].append(s)
            print(f"{w} worker(s): {s:7.2f} s for {len(paths)} nights", flush=True)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    per_night = one / len(paths)
    print(f"median: 1 worker {one:.2f} s, 2 workers {two:.2f} s, speed-up {one / two:.2f}x")
    print(f"one core: {per_night:.2f} s a night, {3600 / per_night:.0f} nights per hour")
    print(f"100,000 such nights: {100_000 * per_night / 3600:.0f} core-hours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
