"""Errors arrive as exceptions naming file, line and cause; nothing crashes the interpreter."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import sleeptwitch
from sleeptwitch import ConfigError, InputError, ReadError, SleeptwitchError, WriteError

from conftest import TESTDATA

# From testdata/README.md ("bad/"): file, error kind, line (from 1, the header is line 1).
BAD_FILES = [
    ("empty.csv", "empty", None),
    ("header_only.csv", "no_samples", 1),
    ("missing_time.csv", "missing_column", 1),
    ("missing_axis.csv", "missing_column", 1),
    ("mixed_units.csv", "bad_header", 1),
    ("five_numbers_no_header.csv", "bad_header", 1),
    ("not_a_number.csv", "not_a_number", 12),
    ("nan.csv", "not_finite", 15),
    ("inf.csv", "not_finite", 9),
    ("out_of_range_g.csv", "out_of_range", 20),
    ("out_of_range_ms2.csv", "out_of_range", 20),
    ("time_backwards.csv", "time_not_increasing", 25),
    ("time_repeats.csv", "time_not_increasing", 25),
    ("short_row.csv", "field_count", 18),
    ("garbage_mid_file.csv", "not_text", 39),
    ("binary_garbage.csv", "not_text", 1),
    ("bad_iso_time.csv", "bad_time", 7),
    ("rate_too_low.csv", "rate_too_low", None),
]


@pytest.mark.parametrize("name, kind, line", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_each_bad_file_names_its_file_line_and_cause(name, kind, line):
    path = TESTDATA / "bad" / name
    with pytest.raises(InputError) as info:
        sleeptwitch.analyze(path)
    e = info.value
    assert isinstance(e, SleeptwitchError) and isinstance(e, ValueError)
    assert e.kind == kind
    assert e.file == str(path)
    assert e.line == line
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(e) == where + e.cause


def test_a_missing_file_is_a_read_error_and_an_oserror(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(ReadError) as info:
        sleeptwitch.analyze(missing)
    e = info.value
    assert isinstance(e, OSError)
    assert (e.kind, e.file) == ("io", str(missing))
    assert str(e).startswith(f"{missing}: ")


def test_an_output_that_cannot_be_written_is_a_write_error_and_an_oserror(tmp_path):
    night = sleeptwitch.analyze(TESTDATA / "gap_100hz.csv")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(WriteError) as info:
        night.write(blocker / "out")
    e = info.value
    assert isinstance(e, OSError)
    assert (e.kind, e.file) == ("write", str(blocker / "out"))
    assert str(e).startswith(f"{blocker / 'out'}: write failed: ")


def test_damaged_device_blocks_are_warnings_and_a_bad_header_an_error(tmp_path):
    # testdata/README.md: blocks 0, 13, 14, 142, 143, 144 damaged on purpose, "6 checksum
    # failures -> 6 warnings, one 2.44 s gap, 16 680 samples".
    night = sleeptwitch.analyze(TESTDATA / "devices" / "ax3_right_wrist_100hz_3min_corrupt_blocks.cwa")
    (recording,) = [i["recording"] for i in night.summary["inputs"]]
    assert recording["n_samples"] == 16_680
    assert len(recording["warnings"]) == 6
    # A file whose header is not a CWA header at all is refused, naming the byte.
    data = bytearray((TESTDATA / "devices" / "ax3_right_wrist_100hz_3min.cwa").read_bytes())
    data[0:2] = b"XX"
    bad = tmp_path / "not_really.cwa"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError) as info:
        sleeptwitch.analyze(bad)
    assert info.value.file == str(bad)
    assert info.value.byte == 0, str(info.value)


def test_config_errors_name_the_field_and_rule():
    t = np.arange(10_000) / 50.0
    acc = np.tile([0.0, 0.0, 1.0], (10_000, 1))
    with pytest.raises(ConfigError) as info:
        sleeptwitch.analyze_arrays(t, acc, config={"signal": {"block_s": -1.0}})
    e = info.value
    assert isinstance(e, ValueError)
    assert (e.field, e.value) == ("signal.block_s", "-1")
    assert e.rule and e.rule in str(e)
    with pytest.raises(ConfigError, match="unknown field `nope`") as info:
        sleeptwitch.analyze_arrays(t, acc, config={"nope": 1})
    assert info.value.field is None
    with pytest.raises(TypeError):
        sleeptwitch.analyze_arrays(t, acc, config=42)


def test_a_config_file_is_read(tmp_path):
    t = np.arange(10_000) / 50.0
    acc = np.tile([0.0, 0.0, 1.0], (10_000, 1))
    cfg = tmp_path / "config.json"
    cfg.write_text('{"signal": {"block_s": 0.0}}')
    with pytest.raises(ConfigError) as info:
        sleeptwitch.analyze_arrays(t, acc, config=cfg)
    assert info.value.field == "signal.block_s"
    # TOML too; a file that does not parse names its line.
    good = tmp_path / "config.toml"
    good.write_text("[series]\nimi_max_s = 100.0\n")
    night = sleeptwitch.analyze_arrays(t, acc, config=good)
    assert night.summary["config"]["series"]["imi_max_s"] == 100.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[series]\nimi_max_s = 100.0\nimi_min_s = = 5\n")
    with pytest.raises(ConfigError) as info:
        sleeptwitch.analyze_arrays(t, acc, config=bad)
    assert (info.value.file, info.value.line) == (str(bad), 3)
    with pytest.raises(ReadError):
        sleeptwitch.analyze_arrays(t, acc, config=tmp_path / "missing.toml")
    defaults = sleeptwitch.default_config()
    assert defaults["signal"]["block_s"] == 0.05  # domain default: 50 ms blocks


def test_exceptions_pickle_with_their_attributes():
    with pytest.raises(InputError) as info:
        sleeptwitch.analyze(TESTDATA / "bad" / "nan.csv")
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is InputError
    assert (back.kind, back.file, back.line, str(back)) == (
        info.value.kind,
        info.value.file,
        info.value.line,
        str(info.value),
    )


def test_hostile_arrays_raise_or_return_never_crash():
    rng = np.random.default_rng(3)
    n = 20_000
    base_t = np.arange(n) / 50.0
    cases = {
        "huge values": (base_t, rng.normal(0, 1e300, (n, 3))),
        "negative infinity time": (np.concatenate([[-np.inf], base_t[1:]]), np.ones((n, 3))),
        "random times": (rng.normal(0, 1e9, n), rng.normal(0, 1, (n, 3))),
        "constant time": (np.zeros(n), np.ones((n, 3))),
        "denormals": (base_t, np.full((n, 3), 5e-324)),
        "epoch times": (base_t + 1.7e9, rng.normal(0, 0.5, (n, 3))),
        "sub-nanosecond steps": (np.arange(n) * 1e-12, np.ones((n, 3))),
    }
    for label, (t, acc) in cases.items():
        try:
            night = sleeptwitch.analyze_arrays(t, acc)
        except SleeptwitchError:
            continue
        onset, offset = night.events["onset_s"], night.events["offset_s"]
        assert np.all(np.diff(onset) >= 0) and np.all(offset >= onset), label
