"""Ctrl-C from the first moment, a closed standard output, denormal values, wide headers:
the corners an adversarial run found (each once lost a signal, printed a warning, or
refused good data)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster.data.read import read_table
from forecaster.errors import EXIT_INTERRUPTED, EXIT_USAGE
from forecaster.metrics import score
from tests.conftest import ROOT, invoke, seasonal_frame

# `python -m forecaster` as runpy runs it, once the interpreter has told the test it is up
# (through the pipe whose descriptor is the first argument): delays are counted from there,
# not from fork, so a slow machine does not move them into the interpreter's own start.
_AFTER_STARTUP = (
    "import os, runpy, sys\n"
    "os.write(int(sys.argv.pop(1)), b'up')\n"
    "runpy.run_module('forecaster', run_name='__main__', alter_sys=True)\n"
)


@pytest.mark.parametrize("delay", [0.1, 0.3, 0.6])
def test_ctrl_c_while_python_imports_ends_train_with_one_line(delay: float, tmp_path: Path) -> None:
    """0.1 s in, typer is still importing (Python's own handler used to print a traceback,
    or importlib swallowed the interrupt and training ran to the end); 0.3-0.6 s in, typer
    parses the options (it used to turn the interrupt into a silent 130)."""
    data = tmp_path / "data.csv"
    seasonal_frame(144).to_csv(data, index=False)
    model = tmp_path / "model.fcst"
    read_end, write_end = os.pipe()
    args = ["train", str(data), "-o", str(model), "--epochs", "500", "--hidden", "8"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", _AFTER_STARTUP, str(write_end), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,  # -c puts the working directory first on sys.path
        env=env,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 60)
        assert ready and os.read(read_end, 2) == b"up", "the interpreter did not start"
        time.sleep(delay)
        assert process.poll() is None, process.communicate()[1].decode()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(read_end)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == EXIT_INTERRUPTED, stderr.decode()
    assert stderr.decode().splitlines() == ["forecaster: interrupted"]
    assert stdout == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]  # no model, no temp file


def _closed_stdout(args: list[str]) -> subprocess.CompletedProcess[str]:
    """The real command with its standard output closed, as ``command >&-`` leaves it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        ["sh", "-c", '"$@" >&-', "sh", sys.executable, "-m", "forecaster", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "fix"),
    [
        (["info", "{model}"], "redirect it (> FILE)"),
        (["info", "{model}", "--format", "json"], "redirect it, or write to a file with -o FILE"),
        (["predict", "-m", "{model}"], "redirect it, or write to a file with -o FILE"),
        (["plot", "-m", "{model}", "-o", "-"], "redirect it, or write to a file with -o FILE"),
        (["--version"], "redirect it"),
        (["--help"], "redirect it"),
        (["train", "--help"], "redirect it"),
    ],
)
def test_a_closed_stdout_is_refused_by_every_command(
    args: list[str], fix: str, trained_model: Path
) -> None:
    """`info model.fcst >&-` used to exit 0 having written nothing, and `plot -o -` failed
    with an AttributeError; like `predict`, each now says so and exits 2."""
    done = _closed_stdout([a.format(model=trained_model) for a in args])
    assert done.returncode == EXIT_USAGE, done.stderr
    assert done.stderr.splitlines() == [f"forecaster: error: standard output is closed; {fix}"]


def _exact_mean_ratio(numerator: np.ndarray, denominator: np.ndarray) -> Fraction:
    pairs = zip(numerator.tolist(), denominator.tolist(), strict=True)
    return sum((Fraction(a) / Fraction(b) for a, b in pairs), Fraction(0)) / len(numerator)


def _as_float(value: Fraction) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf")


@settings(max_examples=150, deadline=None)
@given(
    normal=st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=40),
    tiny=st.lists(st.floats(5e-324, 2.2e-308), min_size=1, max_size=3),
    errors=st.lists(st.floats(0, 1e3), min_size=43, max_size=43),
)
def test_mean_ratio_is_exact_and_quiet_with_denormal_divisors(
    normal: list[float], tiny: list[float], errors: list[float]
) -> None:
    """A few denormal divisors among normal ones: quotients past float64's range, a mean
    that may or may not be; either way no warning and the correctly rounded number."""
    from forecaster.metrics import mean_ratio  # new: imported here so the rest runs without

    denominator = np.array(normal + tiny)
    numerator = np.array(errors[: len(denominator)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = mean_ratio(numerator, denominator)
    expected = _as_float(_exact_mean_ratio(numerator, denominator))
    if expected == float("inf"):
        assert got == float("inf")
    else:
        # A mean in the denormal range (below 2.2e-308) is held to a few of its steps of
        # 5e-324: each denormal quotient was already rounded to one.
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-322)


def test_mape_over_a_denormal_actual_is_the_right_number_without_a_warning() -> None:
    """One actual of 5e-309 (denormal) among 999 normal ones: its quotient, 2e308, is past
    float64's range, the mean percentage (2e307) is not. numpy printed "overflow
    encountered in divide" and gave inf."""
    actual = np.full((1, 1000), 10.0)
    actual[0, 500] = 5e-309
    forecast = actual + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = score(forecast, actual, np.array([1.0]))
    exact = 100 * _exact_mean_ratio(np.abs(forecast - actual)[0], np.abs(actual)[0])
    assert scores.values["mape"] == pytest.approx(float(exact), rel=1e-12)
    assert scores.values["mae"] == pytest.approx(1.0)


def test_evaluate_with_denormal_actuals_prints_no_numpy_warning(
    trained_model: Path, tmp_path: Path
) -> None:
    """Through the CLI: the MAPE past a float's range is null with a note, not a warning."""
    frame = seasonal_frame()
    frame.loc[[293, 296, 298], "value"] = 5e-320  # among the last 7: the evaluated steps
    data = tmp_path / "denormal.csv"
    frame.to_csv(data, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = invoke(["evaluate", "-m", str(trained_model), str(data), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr
    assert "passes the largest number a float holds" in result.stdout


def test_a_header_longer_than_64_kib_is_read_whole(tmp_path: Path) -> None:
    """11,000 columns: the header (72 KB) used to be cut at 65,536 bytes, mid-name, and the
    stub (``c1094``) refused as a duplicate of a real column."""
    names = ["date", *(f"c{i}" for i in range(11000))]
    header = ",".join(names)
    assert header[65535] not in ",\n" and header[65536] not in ",\n"  # the cut is mid-name
    rows = [",".join(["2024-01-0" + str(d + 1), *["1"] * 11000]) for d in range(3)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    frame = read_table(path)
    assert list(frame.columns) == names
    assert frame.shape == (3, 11001)


def test_reading_a_csv_closes_the_file(tmp_path: Path) -> None:
    """read_table left every CSV it opened to the garbage collector (a ResourceWarning under
    `python -X dev`, and one file handle per read held until then)."""
    data = tmp_path / "d.csv"
    data.write_text("date,y\n2020-01-01,1\n2020-01-02,2\n")
    script = (
        "import gc\nfrom forecaster.data.read import read_table\n"
        f"for _ in range(3):\n    read_table({str(data)!r})\ngc.collect()\nprint('read')\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "read", done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
