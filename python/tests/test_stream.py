"""The streaming Detector from Python: any chunking gives the events of one whole night."""

from __future__ import annotations

from typing import Callable, Iterator, List, Tuple

import numpy as np
import pytest

import sleeptwitch
from sleeptwitch import Detector, Events

from helpers import assert_events_equal

RATE_HZ = 50.0


@pytest.fixture(scope="module")
def night() -> Tuple[np.ndarray, np.ndarray]:
    """A simulated 1 h ankle night at 50 Hz (180,000 samples) with leg movements."""
    return sleeptwitch.simulate_arrays(seed=5, hours=1.0, rate_hz=RATE_HZ)


@pytest.fixture(scope="module")
def whole(night: Tuple[np.ndarray, np.ndarray]) -> sleeptwitch.Night:
    t, acc = night
    return sleeptwitch.analyze_arrays(t, acc, sample_rate_hz=RATE_HZ)


def _fixed(k: int) -> Callable[[int], Iterator[Tuple[int, int]]]:
    def cuts(n: int) -> Iterator[Tuple[int, int]]:
        for i in range(0, n, k):
            yield i, min(i + k, n)

    return cuts


def _ones_then_large(n: int) -> Iterator[Tuple[int, int]]:
    # One sample at a time through the first minute, then large chunks.
    for i in range(3000):
        yield i, i + 1
    yield from ((a + 3000, b + 3000) for a, b in _fixed(65536)(n - 3000))


def _random(n: int) -> Iterator[Tuple[int, int]]:
    rng = np.random.default_rng(11)
    i = 0
    while i < n:
        k = int(rng.integers(0, 20000))  # empty chunks included
        yield i, min(i + k, n)
        i += k


def _with_empty(n: int) -> Iterator[Tuple[int, int]]:
    for a, b in _fixed(4096)(n):
        yield a, a
        yield a, b


CHUNKINGS = {
    "whole": lambda n: iter([(0, n)]),
    "7": _fixed(7),
    "4096": _fixed(4096),
    "1 then 65536": _ones_then_large,
    "random with empty chunks": _random,
    "4096 with empty chunks": _with_empty,
}


@pytest.mark.parametrize("label", list(CHUNKINGS))
def test_any_chunking_gives_the_whole_nights_events(night, whole, label):
    t, acc = night
    det = Detector(sample_rate_hz=RATE_HZ)
    parts: List[Events] = []
    for a, b in CHUNKINGS[label](len(t)):
        parts.append(det.push(t[a:b], acc[a:b]))
    rest, summary = det.finish()
    got = Events.concat(parts + [rest])
    assert got.n_events > 20, "the night should have leg movements to compare"
    assert_events_equal(got, whole.events, label)
    # The summary counts what was delivered.
    assert sum(summary["n_events"]) == got.n_events
    assert summary["sites"][0]["n_samples"] == len(t)


def test_finish_resets_so_the_same_detector_serves_the_next_night(night, whole):
    t, acc = night
    det = Detector(sample_rate_hz=RATE_HZ)
    for _ in range(2):
        first = det.push(t, acc)
        rest, _ = det.finish()
        assert_events_equal(Events.concat([first, rest]), whole.events, "second night")


def test_reset_forgets_a_half_pushed_night(night, whole):
    t, acc = night
    det = Detector(sample_rate_hz=RATE_HZ)
    det.push(t[: len(t) // 2], acc[: len(t) // 2])
    det.reset()
    first = det.push(t, acc)
    rest, _ = det.finish()
    assert_events_equal(Events.concat([first, rest]), whole.events, "after reset")


def test_events_come_in_onset_order_within_the_latency_bound(night):
    t, acc = night
    det = Detector(sample_rate_hz=RATE_HZ)
    assert det.latency_s > 0
    onsets = []
    for a, b in _fixed(4096)(len(t)):
        ev = det.push(t[a:b], acc[a:b])
        onsets.extend(ev["onset_s"])
        # Delivered no later than latency_s of input after its offset, give or take the
        # chunk itself (4096 samples, 81.92 s at 50 Hz).
        late = t[b - 1] - ev["offset_s"]
        chunk_s = (b - a) / RATE_HZ
        assert np.all(late <= det.latency_s + chunk_s), (late.max(), det.latency_s)
    rest, _ = det.finish()
    onsets.extend(rest["onset_s"])
    assert np.all(np.diff(onsets) >= 0)


def test_a_bad_sample_names_its_index_in_the_stream_and_keeps_earlier_events(night):
    t, acc = night
    acc = acc.copy()
    bad = 150_000
    acc[bad, 2] = np.nan
    det = Detector(sample_rate_hz=RATE_HZ)
    delivered = det.push(t[:100_000], acc[:100_000])
    with pytest.raises(sleeptwitch.InputError) as info:
        det.push(t[100_000:], acc[100_000:])
    e = info.value
    assert e.kind == "sample"
    assert e.sample_idx == bad
    assert f"sample {bad}" in str(e)
    # Events made final between sample 100,000 and the bad one travel with the exception.
    assert isinstance(e.events, Events)
    assert e.events.n_events > 0
    assert np.all(e.events["onset_s"] >= delivered["onset_s"].max())


def test_time_going_back_across_pushes_is_an_error(night):
    t, acc = night
    det = Detector(sample_rate_hz=RATE_HZ)
    det.push(t[:1000], acc[:1000])
    with pytest.raises(sleeptwitch.InputError) as info:
        det.push(t[500:1000], acc[500:1000])
    assert info.value.sample_idx == 1000


def test_concatenating_nothing_gives_empty_columns_of_the_right_types(whole):
    empty = Events.concat([])
    assert list(empty) == list(sleeptwitch.EVENT_COLUMNS)
    for name in sleeptwitch.EVENT_COLUMNS:
        assert empty[name].shape == (0,), name
        assert empty[name].dtype.kind == whole.events[name].dtype.kind, name


def test_several_sensors_are_numbered_by_site_idx():
    det = Detector(sites=[("left_ankle", 50.0), ("right_ankle", 50.0)])
    assert det.sites == ["left_ankle", "right_ankle"]
    with pytest.raises(ValueError):
        det.push(np.zeros(0), np.zeros((0, 3)), site_idx=2)


def test_constructor_errors():
    with pytest.raises(TypeError):
        Detector()
    with pytest.raises(ValueError):
        Detector(sample_rate_hz=50.0, site="elbow")
    # A rate the config cannot serve: a 2 Hz gravity corner needs more than 4 Hz.
    with pytest.raises(sleeptwitch.ConfigError):
        Detector(sample_rate_hz=1.0)


def _with_gap_and_table(night: Tuple[np.ndarray, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """The night with no samples from 1200 s to 1260 s, then 2.5 h on a table."""
    t, acc = night
    keep = (t < 1200.0) | (t >= 1260.0)
    n_table = int(2.5 * 3600 * RATE_HZ)
    t_table = t[-1] + np.arange(1, n_table + 1) / RATE_HZ
    rng = np.random.default_rng(3)
    acc_table = np.array([0.0, 0.0, 1.0]) + rng.normal(0.0, 0.001, (n_table, 3))
    return np.concatenate([t[keep], t_table]), np.concatenate([acc[keep], acc_table])


@pytest.mark.parametrize("label", ["whole", "4096", "random with empty chunks"])
def test_notices_tell_the_gap_the_sleep_onset_and_the_table(night, label):
    t, acc = _with_gap_and_table(night)
    det = Detector(sample_rate_hz=RATE_HZ)
    notices = []
    for a, b in CHUNKINGS[label](len(t)):
        det.push(t[a:b], acc[a:b])
        notices.extend(det.take_notices())
    _, summary = det.finish()
    notices.extend(det.take_notices())
    assert det.take_notices() == [], "taken notices are forgotten"
    by_kind = {k: [n for n in notices if n["kind"] == k] for k in ("gap", "sleep_onset", "unworn")}
    assert len(notices) == sum(len(v) for v in by_kind.values())
    # The gap: from the last sample before 1200 s to the first at 1260 s.
    (gap,) = by_kind["gap"]
    last_before = t[t < 1200.0][-1]
    assert gap["start_s"] == pytest.approx(last_before)
    assert gap["start_s"] + gap["duration_s"] == pytest.approx(1260.0, abs=1.0 / RATE_HZ)
    # The night's sleep onset, as the summary has it.
    assert by_kind["sleep_onset"], "the simulated night falls asleep"
    assert by_kind["sleep_onset"][0]["t_s"] == summary["metrics"]["sleep_onset_s"]
    # The table: one unworn stretch on the ankle, within a quarter of an hour of its ends,
    # as the summary counts it.
    (table,) = by_kind["unworn"]
    night_end = night[0][-1]
    assert table["site"] == "ankle"
    assert night_end - 1.0 <= table["start_s"] <= night_end + 900.0
    assert table["end_s"] >= t[-1] - 900.0
    assert summary["sites"][0]["n_unworn"] == 1
    assert summary["sites"][0]["unworn_s"] == pytest.approx(table["end_s"] - table["start_s"])


def test_reset_forgets_notices_not_taken(night):
    t, acc = _with_gap_and_table(night)
    told = Detector(sample_rate_hz=RATE_HZ)
    told.push(t[:70_000], acc[:70_000])
    assert [n["kind"] for n in told.take_notices()].count("gap") == 1
    det = Detector(sample_rate_hz=RATE_HZ)
    det.push(t[:70_000], acc[:70_000])
    det.reset()
    assert det.take_notices() == []


def test_analyze_arrays_lists_the_unworn_stretch_the_stream_tells(night):
    t, acc = _with_gap_and_table(night)
    det = Detector(sample_rate_hz=RATE_HZ)
    det.push(t, acc)
    det.finish()
    told = [n for n in det.take_notices() if n["kind"] == "unworn"]
    report = sleeptwitch.analyze_arrays(t, acc, sample_rate_hz=RATE_HZ).summary
    (inp,) = report["inputs"]
    assert [{"kind": "unworn", **u} for u in inp["unworn"]] == told
    # Its part inside the sleep bouts, as analyze computes it.
    asleep = sum(
        max(0.0, min(u["end_s"], b["end_s"]) - max(u["start_s"], b["start_s"]))
        for u in inp["unworn"]
        for b in report["sleep_bouts"]
    )
    assert asleep > 0.0, "the table follows the night's sleep"
    assert inp["unworn_asleep_s"] == pytest.approx(asleep)
