#!/usr/bin/env python3
"""Times `sleeptwitch.analyze` from Python against the Rust `analyze` example, side by side.

    python python/bench/compare_rust.py NIGHT.csv [--runs 9]

Each round runs both, in alternating order, as whole processes doing the same work: read the
night, detect, write the events CSV and the summary JSON. The Python process also reports
the time inside `analyze()` + `write()` alone (no interpreter start, no imports), and each
round times a bare interpreter (`python -c pass`). Prints the median and best of each and
the ratio of medians, then checks both wrote the same events and summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PY_SCRIPT = """
import sys, time
t0 = time.perf_counter()
import sleeptwitch
t1 = time.perf_counter()
night = sleeptwitch.analyze(sys.argv[1])
night.write(sys.argv[2])
t2 = time.perf_counter()
print(f"{t1 - t0:.6f} {t2 - t1:.6f}")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("night")
    ap.add_argument("--runs", type=int, default=9)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    ap.add_argument("--analyze", default=str(target / "release" / "examples" / "analyze"))
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out_rs, out_py = Path(tmp, "rust"), Path(tmp, "python")
        out_rs.mkdir()
        stem = Path(args.night).stem
        rust_cmd = [
            args.analyze,
            args.night,
            "--events",
            str(out_rs / f"{stem}.events.csv"),
            "--summary",
            str(out_rs / f"{stem}.summary.json"),
            "--quiet",
        ]
        py_cmd = [args.python, "-c", PY_SCRIPT, args.night, str(out_py)]
        rust, python, inner, imports, bare = [], [], [], [], []
        for i in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([args.python, "-c", "pass"], check=True)
            bare.append(time.perf_counter() - t0)
            order = ("rust", "python") if i % 2 == 0 else ("python", "rust")
            for which in order:
                t0 = time.perf_counter()
                if which == "rust":
                    subprocess.run(rust_cmd, check=True, stdout=subprocess.DEVNULL)
                    rust.append(time.perf_counter() - t0)
                else:
                    out = subprocess.run(py_cmd, check=True, capture_output=True, text=True).stdout
                    python.append(time.perf_counter() - t0)
                    imp, call = map(float, out.split())
                    imports.append(imp)
                    inner.append(call)

        def show(name: str, xs: list) -> None:
            print(f"{name:<34} median {statistics.median(xs):7.3f} s   best {min(xs):7.3f} s")

        print(f"{args.night}: {args.runs} rounds, alternating order")
        show("rust example (process)", rust)
        show("python analyze + write (process)", python)
        show("  of which the bare interpreter", bare)
        show("  of which import sleeptwitch", imports)
        show("  of which analyze() + write()", inner)
        print(f"ratio python / rust, whole process:  {statistics.median(python) / statistics.median(rust):.3f}")
        print(f"ratio python call / rust process:    {statistics.median(inner) / statistics.median(rust):.3f}")

        same_events = (out_rs / f"{stem}.events.csv").read_bytes() == (out_py / f"{stem}.events.csv").read_bytes()
        rs_summary = json.loads((out_rs / f"{stem}.summary.json").read_text())
        py_summary = json.loads((out_py / f"{stem}.summary.json").read_text())
        print(f"same events CSV: {same_events}; same summary: {rs_summary == py_summary}")
        return 0 if same_events and rs_summary == py_summary else 1


if __name__ == "__main__":
    sys.exit(main())
