#!/usr/bin/env python3
"""Nights on Python threads: the same nights on a pool of 1 thread and of 2.

    python python/bench/threads.py NIGHT.csv... [--repeats 4]

Each night is read on one thread (`threads=1`); the GIL is released while it is read and
analysed, so two Python threads keep two cores busy. Prints the median wall time of each
pool size and the speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import sleeptwitch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("nights", nargs="+")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    times = {1: [], 2: []}
    for r in range(args.repeats):
        for n in (1, 2) if r % 2 == 0 else (2, 1):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=n) as pool:
                done = list(pool.map(lambda p: len(sleeptwitch.analyze(p, threads=1)), args.nights))
            times[n].append(time.perf_counter() - t0)
            print(f"{n} thread(s): {times[n][-1]:.2f} s for {len(done)} nights", flush=True)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"median: 1 thread {one:.2f} s, 2 threads {two:.2f} s, speed-up {one / two:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
