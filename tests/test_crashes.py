"""Inputs that used to crash (exit 1, a signal or a MemoryError) now get their own exit code.

Each through the CLI: binary and UTF-16 input (the process once aborted at exit), grids that
would be enormous, absurd --freq / --seed / --threads / OMP_NUM_THREADS, a symlink loop or
a closed standard input as DATA, a target named twice, evaluate -o without --format, and
JSON that must never hold NaN.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FAST, ROOT, invoke, run_forecaster, seasonal_frame


def one_line(stderr: str | bytes) -> str:
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def strict_json(text: str) -> object:
    """Parse as jq would: NaN, Infinity and -Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------------------------------
# Unreadable bytes: exit 3, and a clean exit (no SIGABRT from a parser thread)


def _bad_inputs(directory: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    cases = {
        "binary": rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes(),
        "utf16": "date,value\n2020-01-01,1\n2020-01-02,2\n".encode("utf-16"),
        "ragged": b"date,value\n2020-01-01,1\n2020-01-02,2,3\n2020-01-03,4\n",
        "header-then-binary": b"date,value\n"
        + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
    }
    paths = {}
    for name, payload in cases.items():
        paths[name] = directory / f"{name}.csv"
        paths[name].write_bytes(payload)
    return paths


@pytest.mark.slow
def test_unreadable_input_exits_3_cleanly_every_time(tmp_path: Path) -> None:
    """Once torch was loaded, a failed threaded pyarrow parse aborted about one exit in
    twenty; four kinds of bad bytes, three runs each, all must exit 3 with one line."""
    paths = _bad_inputs(tmp_path)
    runs = [(name, path) for name, path in paths.items() for _ in range(3)]

    def run(case: tuple[str, Path]) -> tuple[str, int, str]:
        done = run_forecaster(["train", str(case[1]), "-o", str(tmp_path / "m.fcst"), *FAST])
        return case[0], done.returncode, done.stderr.decode()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, runs))
    for name, code, stderr in results:
        assert code == 3, (name, code, stderr)
        line = one_line(stderr)
        assert "terminate called" not in stderr
        assert ("not UTF-8" in line) or ("cannot parse" in line), (name, line)
    assert not (tmp_path / "m.fcst").exists()


def test_utf16_names_the_byte(tmp_path: Path) -> None:
    path = _bad_inputs(tmp_path)["utf16"]
    result = invoke(["train", str(path), "-o", str(tmp_path / "m.fcst"), *FAST])
    assert result.exit_code == 3
    assert "is not UTF-8 text (it holds byte 0xff)" in one_line(result.stderr)


# ---------------------------------------------------------------------------------------
# Grids that would not fit in memory are refused before they are built


def test_a_hundred_year_gap_in_one_second_data(tmp_path: Path) -> None:
    stamps = [f"2020-01-01 00:00:0{i}" for i in range(6)] + ["2120-01-01 00:00:00"]
    path = tmp_path / "gap.csv"
    pd.DataFrame({"ts": stamps, "y": np.arange(7.0)}).to_csv(path, index=False)
    started = time.perf_counter()
    result = invoke(["train", str(path), "-o", str(tmp_path / "m.fcst"), "--horizon", "1", *FAST])
    assert result.exit_code == 3, result.stderr
    line = one_line(result.stderr)
    assert "would hold 3,155,673,601 rows for the 7 given" in line
    assert "gap of 36523 days" in line
    assert time.perf_counter() - started < 10


def test_a_far_too_fine_freq_option(tmp_path: Path) -> None:
    path = tmp_path / "daily.csv"
    seasonal_frame(300).to_csv(path, index=False)
    result = invoke(["train", str(path), "-o", str(tmp_path / "m.fcst"), "--freq", "1ns", *FAST])
    assert result.exit_code == 2, result.stderr
    line = one_line(result.stderr)
    assert "--freq 1ns would put the data on a grid of 25,833,600,000,000,001 rows" in line


# ---------------------------------------------------------------------------------------
# Options and environment


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--freq", "0D"], "invalid value for --freq: '0D'"),
        (["--freq", "-1h"], "invalid value for --freq: '-1h'"),
        (["--freq", "fortnightly"], "invalid value for --freq: 'fortnightly'"),
        (["--seed", str(2**70)], "--seed"),
        (["--seed", "-1"], "--seed"),
        (["--threads", "100000"], "--threads"),
    ],
    ids=["freq-0D", "freq-negative", "freq-unknown", "seed-70-bits", "seed-negative", "threads"],
)
def test_absurd_options_exit_2(args: list[str], phrase: str, tmp_path: Path) -> None:
    path = tmp_path / "daily.csv"
    seasonal_frame(80).to_csv(path, index=False)
    result = invoke(["train", str(path), "-o", str(tmp_path / "m.fcst"), *args, *FAST])
    assert result.exit_code == 2, result.stderr
    assert phrase in one_line(result.stderr)
    assert not (tmp_path / "m.fcst").exists()


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_a_bad_omp_num_threads_is_refused_before_openmp_sees_it(value: str, tmp_path: Path) -> None:
    path = tmp_path / "daily.csv"
    seasonal_frame(80).to_csv(path, index=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": value}
    done = subprocess.run(
        [sys.executable, "-m", "forecaster", "train", str(path), "-o", str(tmp_path / "m.fcst"),
         *FAST],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    line = one_line(done.stderr)  # and no "libgomp: Invalid value" line
    assert f"OMP_NUM_THREADS={value!r} is not a thread count" in line


def test_a_nested_omp_num_threads_is_what_openmp_accepts(tmp_path: Path) -> None:
    path = tmp_path / "daily.csv"
    seasonal_frame(80).to_csv(path, index=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2,1"}
    out = tmp_path / "m.fcst"
    done = subprocess.run(
        [sys.executable, "-m", "forecaster", "train", str(path), "-o", str(out), *FAST],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    info = json.loads(invoke(["info", str(out), "--format", "json"]).stdout)
    assert info["training"]["threads"] == 2


def test_a_symlink_loop_as_data(tmp_path: Path) -> None:
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    result = invoke(["train", str(loop), "-o", str(tmp_path / "m.fcst"), *FAST])
    assert result.exit_code == 3
    assert "Too many levels of symbolic links" in one_line(result.stderr)


def test_closed_standard_input_as_data(tmp_path: Path) -> None:
    command = (
        f"PYTHONPATH={ROOT} {sys.executable} -m forecaster train - -o {tmp_path / 'm.fcst'} "
        f"{' '.join(FAST)} <&-"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=120)
    assert done.returncode == 3, done.stderr.decode()
    assert "standard input is closed" in one_line(done.stderr)


def test_a_target_named_twice_is_one_target(tmp_path: Path) -> None:
    path = tmp_path / "daily.csv"
    seasonal_frame(80).to_csv(path, index=False)
    out = tmp_path / "m.fcst"
    args = ["train", str(path), "-o", str(out), "--target", "value", "--target", "value"]
    result = invoke([*args, *FAST[:-1]])  # not --quiet: the note must show
    assert result.exit_code == 0, result.stderr
    assert "--target 'value' given more than once; each column is one target" in result.stderr
    info = json.loads(invoke(["info", str(out), "--format", "json"]).stdout)
    assert info["schema"]["targets"] == ["value"]


# ---------------------------------------------------------------------------------------
# evaluate -o without --format, and JSON without NaN


def test_evaluate_output_file_takes_its_format_from_the_name(
    trained_model: Path, seasonal_csv: Path, tmp_path: Path
) -> None:
    for name, check in [
        ("metrics.json", lambda text: strict_json(text)["metrics"]["mase"] > 0),
        ("metrics.csv", lambda text: text.startswith("target,method,mae")),
    ]:
        out = tmp_path / name
        result = invoke(["evaluate", "-m", str(trained_model), str(seasonal_csv), "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        assert check(out.read_text()), name
    result = invoke(
        ["evaluate", "-m", str(trained_model), str(seasonal_csv), "-o", str(tmp_path / "m.txt")]
    )
    assert result.exit_code == 2
    assert "give --format json or --format csv" in one_line(result.stderr)
    assert not (tmp_path / "m.txt").exists()


def test_json_never_holds_nan(tmp_path: Path) -> None:
    """A constant history has no MASE scale: null, and a note that says why."""
    path = tmp_path / "flat.csv"
    frame = seasonal_frame(120)
    frame["value"] = 5.0
    frame.to_csv(path, index=False)
    out = tmp_path / "m.fcst"
    train = invoke(["train", str(path), "-o", str(out), "--horizon", "7", *FAST])
    assert train.exit_code == 0, train.stderr
    result = invoke(["evaluate", "-m", str(out), str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = strict_json(result.stdout)
    assert isinstance(report, dict)
    assert report["metrics"]["mase"] is None
    assert any("mase" in note and "no variation" in note for note in report["notes"])
    strict_json(invoke(["info", str(out), "--format", "json"]).stdout)
    strict_json(invoke(["predict", "-m", str(out), "--format", "json"]).stdout)
