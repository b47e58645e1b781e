"""The GIL is released while nights are processed, so Python threads run them side by side."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import sleeptwitch

from helpers import assert_events_equal


@pytest.fixture(scope="module")
def long_night():
    """Two hours at 100 Hz (720,000 samples): long enough that the main thread surely
    wakes while the night is processed, when the GIL is released."""
    return sleeptwitch.simulate_arrays(seed=9, hours=2.0, rate_hz=100.0)


def _holds_gil_throughout(call) -> bool:
    """Runs ``call`` on a thread and tells whether the main thread was kept out until it ended.

    The switch interval is raised to an hour, so a thread that holds the GIL is never asked
    to give it up: the main thread, woken by ``started``, can only run once the worker
    releases the GIL, either inside ``call`` (if it releases it) or when the thread ends.
    The main thread then reads ``done``, which the worker sets right after ``call`` returns.
    """
    started = threading.Event()
    done = []

    def work():
        started.set()
        call()
        done.append(True)

    old = sys.getswitchinterval()
    sys.setswitchinterval(3600.0)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        finished_before_main_ran = bool(done)
        worker.join()
    finally:
        sys.setswitchinterval(old)
    assert done, "the call did not complete"
    return finished_before_main_ran


def test_analyze_arrays_releases_the_gil(long_night):
    t, acc = long_night
    assert not _holds_gil_throughout(lambda: sleeptwitch.analyze_arrays(t, acc))


def test_analyze_releases_the_gil(tmp_path):
    path = sleeptwitch.simulate(tmp_path, seed=9, hours=1.0, rate_hz=100.0)[0]
    assert not _holds_gil_throughout(lambda: sleeptwitch.analyze(path, threads=1))


def test_detector_push_releases_the_gil(long_night):
    t, acc = long_night
    det = sleeptwitch.Detector(sample_rate_hz=100.0)
    assert not _holds_gil_throughout(lambda: det.push(t, acc))


def test_the_check_sees_a_call_that_keeps_the_gil():
    # The same check on pure-Python work that never releases the GIL must say so, or the
    # tests above prove nothing.
    def spin():
        x = 0
        for i in range(3_000_000):
            x += i
        return x

    assert _holds_gil_throughout(spin)


def test_threads_give_the_results_of_one_thread(tmp_path):
    paths = [
        sleeptwitch.simulate(tmp_path / f"n{i}", seed=20 + i, hours=1.0, rate_hz=50.0)[0] for i in range(4)
    ]
    one_by_one = [sleeptwitch.analyze(p, threads=1) for p in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        side_by_side = list(pool.map(lambda p: sleeptwitch.analyze(p, threads=1), paths))
    for a, b, p in zip(one_by_one, side_by_side, paths):
        assert_events_equal(b.events, a.events, p)
        assert b.summary == a.summary
    assert len({n.events.n_events for n in one_by_one}) > 1, "four different nights"
    assert all(np.all(n.events["offset_s"] >= n.events["onset_s"]) for n in one_by_one)
