"""The real-world suite's loader and scoring, on slices: every case loads, the awkward time
columns mean what they say, and a forecast is matched to the actual rows by timestamp.

Needs neither statsforecast nor NeuralForecast (the benchmark's own environment); the cases are
read from shared/ beside the repository and skipped where it is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.realworld_cases import (
    DATA_DIR,
    ID,
    N_ORIGINS,
    Case,
    Loaded,
    TimestampMismatch,
    actuals,
    align,
    baseline_forecasts,
    cut,
    load,
    load_cases,
    mase,
    parse_time,
)
from benchmarks.realworld_report import effective_ratio, merge, summary, table
from tests.conftest import ROOT

needs_suite = pytest.mark.skipif(
    not (DATA_DIR / "cases.json").exists(), reason=f"no real-world suite at {DATA_DIR}"
)


@needs_suite
def test_every_case_loads_from_a_slice() -> None:
    cases = load_cases()
    assert len(cases) >= 10
    for case in cases:
        loaded = load(case, nrows=600)
        frame = loaded.frame
        assert len(frame) == len(loaded.raw) == min(600, case.rows), case.file
        assert frame["ds"].notna().all() and np.isfinite(frame["y"]).all(), case.file
        for _, g in loaded.series():
            assert g["ds"].is_monotonic_increasing and g["ds"].is_unique, case.file
            assert list(g["step"]) == list(range(len(g)))
        # The raw rows (what the tool is given) stay aligned with the parsed ones.
        assert parse_time(loaded.raw[case.time]).equals(frame["ds"]), case.file
        assert (
            loaded.raw[case.target]
            .dropna()
            .astype(float)
            .equals(frame["y"][loaded.raw[case.target].notna()])
        ), case.file


@needs_suite
def test_the_panel_keeps_its_series_apart() -> None:
    case = next(c for c in load_cases() if c.id)
    loaded = load(case, nrows=2000)
    assert loaded.frame[ID].nunique() >= 2
    assert loaded.frame.groupby(ID)["ds"].apply(lambda s: s.is_monotonic_increasing).all()


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        (["Jan 1980", "Feb 1980"], ["1980-01-01", "1980-02-01"]),
        (["Q1 1965", "Q4 1965"], ["1965-01-01", "1965-10-01"]),
        (["1956Q1", "1956Q3"], ["1956-01-01", "1956-07-01"]),
        (["1939 Jan", "1939 Dec"], ["1939-01-01", "1939-12-01"]),
        (["1973-01", "1973-02"], ["1973-01-01", "1973-02-01"]),
        (["1991 W06", "2015 W53"], ["1991-02-04", "2015-12-28"]),  # tsibble's weeks: Mondays
        ([1991.5, 1991.58333333333], ["1991-07-01", "1991-08-01"]),  # R's decimal years
        (
            ["2003-03-03T07:00:00Z", "2003-03-03T07:05:00+00:00"],
            ["2003-03-03 07:00", "2003-03-03 07:05"],
        ),
    ],
)
def test_awkward_time_columns_read_as_period_starts(
    spelling: list[str], expected: list[str]
) -> None:
    parsed = parse_time(pd.Series(spelling))
    assert list(parsed) == list(pd.to_datetime(expected))


def test_the_second_suite_writes_r_ts_times_as_periods() -> None:
    """R's ts objects give decimal years (1991.5 is July; 1991.58333333333 August)."""
    from benchmarks.second_suite import decimal_years

    times = pd.Series([1991.5, 1991.58333333333, 1991.91666666667, 1992.0])
    years, months = decimal_years(times, 12)
    assert list(zip(years, months, strict=True)) == [(1991, 7), (1991, 8), (1991, 12), (1992, 1)]
    years, quarters = decimal_years(pd.Series([1956.0, 1956.75, 1957.25]), 4)
    assert list(zip(years, quarters, strict=True)) == [(1956, 1), (1956, 4), (1957, 2)]


def test_integer_years_stay_integers() -> None:
    assert list(parse_time(pd.Series([-6000, -5999, 1979]))) == [-6000, -5999, 1979]


def _loaded(n: int = 120, season: int = 4, horizon: int = 6) -> Loaded:
    """A series that repeats every season exactly: seasonal naive is perfect."""
    case = Case(file="toy.csv", time="t", target="y", horizon=horizon, season=season, rows=n)
    y = np.tile(np.arange(season, dtype=float), n // season + 1)[:n]
    stamps = pd.date_range("2000-01-01", periods=n, freq="D")
    raw = pd.DataFrame({"t": stamps.strftime("%Y-%m-%d"), "y": y})
    frame = pd.DataFrame({ID: "series", "ds": stamps, "y": y, "step": np.arange(n)})
    return Loaded(case, raw, frame)


def test_origins_are_the_last_five_horizons() -> None:
    loaded = _loaded()
    assert int(cut(loaded, 0).sum()) == 120 - N_ORIGINS * 6
    firsts = [int(actuals(loaded, k)["step"].iloc[0]) for k in range(N_ORIGINS)]
    assert firsts == [90, 96, 102, 108, 114]
    assert int(actuals(loaded, N_ORIGINS - 1)["step"].iloc[-1]) == 119


def test_seasonal_naive_scores_zero_on_a_seasonal_series() -> None:
    loaded = _loaded()
    scores = {name: mase(loaded, f) for name, f in baseline_forecasts(loaded).items()}
    assert scores["seasonal_naive"] == 0.0 and scores["naive"] > 0.5


def test_a_forecast_is_scored_by_timestamp() -> None:
    loaded = _loaded()
    truth = actuals(loaded, 0)
    # Given in another order, the values still land on their timestamps.
    forecast = truth.assign(yhat=truth["y"] + 1.0).iloc[::-1][[ID, "ds", "yhat"]]
    assert np.allclose(align(forecast, truth, "yhat"), truth["y"] + 1.0)
    shifted = forecast.assign(ds=forecast["ds"] + pd.Timedelta(days=1))
    with pytest.raises(TimestampMismatch, match="1 missing, 1 extra"):
        align(shifted, truth, "yhat")
    with pytest.raises(TimestampMismatch, match="1 missing, 0 extra"):
        align(forecast.iloc[1:], truth, "yhat")


def test_the_loader_needs_no_peer_package() -> None:
    code = (
        "import sys; import benchmarks.realworld_cases; "
        "print(sorted(m for m in ('statsforecast', 'neuralforecast', 'torch') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def _result(case: str, **methods: dict[str, object]) -> dict[str, object]:
    return {"case": case, "methods": methods}


def test_a_case_the_tool_cannot_run_counts_as_a_loss_to_every_peer() -> None:
    results = [
        _result("a", forecaster={"ratio": 0.5, "fit_cpu_s": 2.0}, MSTL={"ratio": 0.8}),
        _result("b", forecaster={"failed": "train exited 3: no"}, MSTL={"ratio": 1.3}),
        _result("c", forecaster={"failed": "train exited 3: no"}, MSTL={"ratio": 0.7}),
    ]
    # Never credited below the naive, whichever peers ran; a loss to each of them.
    assert effective_ratio(results[1], "forecaster") == effective_ratio(results[2], "forecaster")
    assert effective_ratio(results[2], "forecaster") == 1.0
    totals = summary(results, ["forecaster", "MSTL"])
    assert totals["MSTL"]["wins_vs_tool"] == 2
    assert totals["forecaster"]["geomean_ratio"] == pytest.approx(0.5 ** (1 / 3), abs=1e-4)
    assert totals["forecaster"]["beats_best_naive"] == 1
    text = table(results, ["forecaster", "MSTL"])
    assert "failed (counted 1.000): train: no" in text and "| **geometric mean** |" in text


def test_runs_of_peers_apart_merge_into_one_case() -> None:
    first = {"cases": [_result("a", forecaster={"ratio": 0.9})]}
    second = {"cases": [_result("a", LSTM={"ratio": 1.1}), _result("b", LSTM={"ratio": 1.0})]}
    merged = merge([first, second])
    assert [r["case"] for r in merged] == ["a", "b"]
    assert set(merged[0]["methods"]) == {"forecaster", "LSTM"}


@pytest.mark.slow  # trains the tool with its defaults on a 96-row series (a few seconds)
def test_the_tool_alone_on_a_tiny_suite(tmp_path: Path) -> None:
    n, season = 96, 12
    t = np.arange(n)
    y = 100 + 10 * np.sin(2 * np.pi * t / season) + 0.2 * t
    months = pd.period_range("2000-01", periods=n, freq="M").strftime("%b %Y")
    pd.DataFrame({"month": months, "sales": y}).to_csv(tmp_path / "toy.csv", index=False)
    case = {"file": "toy.csv", "time": "month", "target": "sales", "horizon": 3}
    (tmp_path / "cases.json").write_text(json.dumps([{**case, "season": season, "rows": n}]))
    out = tmp_path / "results.json"
    command = [sys.executable, "benchmarks/realworld.py", "--data", str(tmp_path), "--peers"]
    done = subprocess.run(
        [*command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    assert done.returncode == 0, done.stderr
    assert "| toy |" in done.stdout
    entry = json.loads(out.read_text())["cases"][0]["methods"]["forecaster"]
    assert entry["ratio"] > 0 and entry["fit_cpu_s"] > 0, entry


def test_a_failure_shows_what_was_measured_before_it() -> None:
    failed = {"failed": "forecast timestamps do not match", "ratio_by_position": 0.98}
    results = [_result("a", forecaster={**failed, "fit_cpu_s": 9.5}, MSTL={"ratio": 1.2})]
    text = table(results, ["forecaster", "MSTL"])
    assert "failed (counted 1.000; by position 0.980, 9.5 s): forecast timestamps" in text
