"""analyze_arrays: numpy in, the same night as from its file, whatever the arrays' layout."""

from __future__ import annotations

from typing import Tuple

import numpy as np
import pytest

import sleeptwitch

from helpers import assert_events_equal


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Tuple[str, np.ndarray, np.ndarray]:
    """A simulated 1 h night at 50 Hz: its CSV and the same samples in memory."""
    out = tmp_path_factory.mktemp("arrays")
    paths = sleeptwitch.simulate(out, seed=5, hours=1.0, rate_hz=50.0)
    t, acc = sleeptwitch.simulate_arrays(seed=5, hours=1.0, rate_hz=50.0)
    return paths[0], t, acc


def test_arrays_give_the_events_of_the_file(sim):
    # The CSV writes each simulated value in full (times on a 1 ms grid, accelerations on
    # the 1/256 g grid), so the reader gets back the very same float64 samples.
    path, t, acc = sim
    from_file = sleeptwitch.analyze(path)
    from_arrays = sleeptwitch.analyze_arrays(t, acc)
    assert from_file.events.n_events > 20
    assert_events_equal(from_arrays.events, from_file.events, "arrays vs file")
    a, f = from_arrays.summary, from_file.summary
    for field in ("metrics", "n_events", "sleep_bouts", "latency_s", "config"):
        assert a[field] == f[field], field
    # What the arrays' recording info shares with the reader's.
    (ra,), (rf,) = [i["recording"] for i in a["inputs"]], [i["recording"] for i in f["inputs"]]
    for field in ("n_samples", "start_s", "end_s", "gaps", "time_base"):
        assert ra[field] == rf[field], field
    assert ra["rate"]["median_interval_s"] == rf["rate"]["median_interval_s"]
    assert ra["rate"]["head_mean_interval_s"] == rf["rate"]["head_mean_interval_s"]
    assert ra["rate"]["rate_hz"] == pytest.approx(rf["rate"]["rate_hz"], rel=1e-9)
    assert ra["mean_norm_g"] == pytest.approx(rf["mean_norm_g"], rel=1e-9)
    assert (a["name"], f["name"]) == ("arrays", "night")


def test_every_layout_gives_the_same_events(sim):
    _, t, acc = sim
    want = sleeptwitch.analyze_arrays(t, acc).events
    wide = np.empty((len(t), 5))
    wide[:, 1] = t
    wide[:, 2:] = acc
    read_only = acc.copy()
    read_only.flags.writeable = False
    layouts = {
        "Fortran-ordered acc": (t, np.asfortranarray(acc)),
        "strided columns of one wide array": (wide[:, 1], wide[:, 2:]),
        "transposed (3, n) array": (t, np.ascontiguousarray(acc.T).T),
        "read-only acc": (t, read_only),
        "lists": (t[:20000].tolist(), acc[:20000].tolist()),
    }
    for label, (tt, aa) in layouts.items():
        got = sleeptwitch.analyze_arrays(tt, aa).events
        if label == "lists":
            assert_events_equal(got, sleeptwitch.analyze_arrays(t[:20000], acc[:20000]).events, label)
        else:
            assert_events_equal(got, want, label)


def test_wrong_shapes_are_value_errors():
    t = np.arange(100) / 50.0
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        sleeptwitch.analyze_arrays(t, np.zeros((100, 2)))
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        sleeptwitch.analyze_arrays(t, np.zeros((99, 3)))
    with pytest.raises(ValueError):
        sleeptwitch.analyze_arrays(t.reshape(10, 10), np.zeros((100, 3)))


def _still(n: int) -> Tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) / 50.0
    acc = np.zeros((n, 3))
    acc[:, 2] = 1.0
    return t, acc


@pytest.mark.parametrize(
    "what, index, value, needle",
    [
        ("nan", 1234, np.nan, "finite"),
        ("inf", 40_000, np.inf, "finite"),
        ("beyond 64 g", 777, 65.0, "64"),
    ],
)
def test_bad_samples_name_their_index(what, index, value, needle):
    t, acc = _still(60_000)
    acc[index, 0] = value
    with pytest.raises(sleeptwitch.InputError) as info:
        sleeptwitch.analyze_arrays(t, acc)
    e = info.value
    assert (e.kind, e.sample_idx) == ("sample", index), what
    assert needle in str(e), str(e)


def test_time_that_does_not_increase_is_an_error():
    t, acc = _still(10_000)
    t[5000] = t[4999]
    with pytest.raises(sleeptwitch.InputError) as info:
        sleeptwitch.analyze_arrays(t, acc)
    assert info.value.sample_idx == 5000


def test_no_samples_and_no_rate():
    with pytest.raises(sleeptwitch.InputError) as info:
        sleeptwitch.analyze_arrays(np.zeros(0), np.zeros((0, 3)))
    assert info.value.kind == "no_samples"
    with pytest.raises(sleeptwitch.SleeptwitchError, match="sample_rate_hz"):
        sleeptwitch.analyze_arrays(np.zeros(1), np.zeros((1, 3)))


def test_a_still_night_has_no_events_and_a_summary():
    t, acc = _still(30_000)
    night = sleeptwitch.analyze_arrays(t, acc, site="wrist")
    assert night.events.n_events == 0
    assert night.events["kind"].shape == (0,)
    assert night.summary["n_events"]["total"] == 0
    (recording,) = [i["recording"] for i in night.summary["inputs"]]
    assert recording["n_samples"] == 30_000
    # 50 Hz exactly: every interval is 20 ms, so no jitter.
    assert recording["rate"]["rate_hz"] == pytest.approx(50.0, rel=1e-12)
    assert recording["rate"]["jitter_s"] == pytest.approx(0.0, abs=1e-12)
    assert recording["mean_norm_g"] == pytest.approx(1.0, rel=1e-12)
    frame = night.events.to_pandas()
    assert list(frame.columns) == list(sleeptwitch.EVENT_COLUMNS)
    assert len(frame) == 0


def test_to_pandas_has_a_row_per_event(sim):
    path, _, _ = sim
    night = sleeptwitch.analyze(path)
    frame = night.events.to_pandas()
    assert len(frame) == night.events.n_events == len(night)
    assert frame["kind"].tolist() == night.events["kind"].tolist()
    assert np.array_equal(frame["onset_s"].to_numpy(), night.events["onset_s"])
    # series ids count from 1; 0 marks an event outside any series.
    plm = frame["kind"] == "plm"
    assert (frame.loc[plm, "series_id"] >= 1).all()
    assert (frame.loc[~plm, "series_id"] == 0).all()
