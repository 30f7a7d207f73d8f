"""Prediction intervals: calibration, the numbers that score them, and the CLI around them."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.intervals import (
    PROBABILITIES,
    conformal_quantiles,
    fit_intervals,
    quantiles_at,
    resolved_probabilities,
)
from forecaster.metrics import (
    baseline_bounds,
    hold_forecast,
    interval_scores,
    scoring_probabilities,
)
from tests.conftest import FAST, invoke, long_frame, run_forecaster, seasonal_frame
from tests.test_model_tamper import drop, put, rebuilt, tamper

Z80, Z95 = 1.2815516, 1.9599640


# ---------------------------------------------------------------------------------------
# Calibration, on arrays with known noise


def test_gaussian_errors_give_the_normal_quantiles() -> None:
    """Validation errors N(0, sigma^2) around a forecast of 0: the 80% and 95% bounds come
    out at +-1.2816 and +-1.96 sigma, whatever the series' scale, to sampling error."""
    rng = np.random.default_rng(0)
    sigma, windows, horizon, n_series = 2.5, 20000, 3, 8
    series = np.arange(windows) % n_series
    base = np.linspace(1.0, 8.0, n_series)[:, None]  # seasonal-naive MAE: any unit
    errors = sigma * rng.standard_normal((windows, horizon, 1))
    train_errors = sigma * rng.standard_normal((400 * n_series, horizon, 1))
    zeros = np.zeros_like(errors)
    tr_series = np.arange(400 * n_series) % n_series
    fitted = fit_intervals(
        (zeros, zeros, errors, series, base[series], np.ones(windows)),
        (np.zeros_like(train_errors), train_errors, tr_series, base[tr_series]),
        base,
    )
    assert fitted is not None
    point = np.zeros((n_series, horizon, 1))
    bounds = fitted.bounds(point, point, fitted.scale, [0.1, 0.9, 0.025, 0.975])
    spread = 0.05 * sigma * Z95  # about 3 standard errors of 20,000 draws
    assert np.allclose(bounds[:, :, 1], Z80 * sigma, atol=spread)
    assert np.allclose(bounds[:, :, 0], -Z80 * sigma, atol=spread)
    assert np.allclose(bounds[:, :, 3], Z95 * sigma, atol=spread)
    assert np.allclose(bounds[:, :, 2], -Z95 * sigma, atol=spread)
    assert set(fitted.info) >= {"method", "windows", "series", "coverage"}
    assert fitted.info["coverage"]["80"] == pytest.approx(0.80, abs=0.02)
    assert fitted.info["coverage"]["95"] == pytest.approx(0.95, abs=0.01)


def test_harder_series_get_wider_intervals() -> None:
    """A series whose training errors were twice as large gets bounds twice as wide."""
    rng = np.random.default_rng(1)
    horizon, n_series = 2, 2
    series = np.arange(2000) % n_series
    noise = np.where(series == 1, 2.0, 1.0)[:, None, None]
    errors = noise * rng.standard_normal((2000, horizon, 1))
    tr_series = np.arange(400) % n_series
    tr_errors = np.where(tr_series == 1, 2.0, 1.0)[:, None, None] * rng.standard_normal(
        (400, horizon, 1)
    )
    zeros = np.zeros_like(errors)
    ones = np.ones((len(errors), 1))
    fitted = fit_intervals(
        (zeros, zeros, errors, series, ones, np.ones(len(errors))),
        (np.zeros_like(tr_errors), tr_errors, tr_series, np.ones((len(tr_errors), 1))),
        np.ones((n_series, 1)),
        prior=0.0,
    )
    assert fitted is not None
    point = np.zeros((n_series, horizon, 1))
    width = np.diff(fitted.bounds(point, point, fitted.scale, [0.1, 0.9]), axis=2)[:, :, 0, 0]
    assert width[1].mean() / width[0].mean() == pytest.approx(2.0, rel=0.1)


def test_the_conformal_bound_covers_at_least_its_level() -> None:
    """With n scores, the upper bound at p is the ceil((n + 1) p)-th smallest: of 19
    scores the 95% bound is the largest, the 90% the 18th (the plain quantile would be
    lower and cover less than p of a new score)."""
    scores = np.arange(1.0, 20.0)[:, None, None]  # 19 scores, one step, one target
    table = conformal_quantiles(scores)[0, :, 0]
    at = dict(zip(PROBABILITIES.round(4).tolist(), table.tolist(), strict=True))
    assert at[0.95] == 19.0
    assert at[0.9] == 18.0
    assert at[0.5] == 10.0
    assert at[0.05] == 1.0
    assert np.all(np.diff(table) >= 0)
    # where the correction shows: of 10 scores the 90% bound is the largest (the plain
    # quantile's 9th would cover a new score only 9 times in 11)
    ten = conformal_quantiles(np.arange(1.0, 11.0)[:, None, None])[0, :, 0]
    assert ten[list(PROBABILITIES.round(4)).index(0.9)] == 10.0
    assert ten[list(PROBABILITIES.round(4)).index(0.1)] == 1.0


def test_weighted_calibration_follows_the_recent_windows() -> None:
    """Old windows with errors four times as large weigh little: the bounds come out near
    the recent windows' spread; with equal weights, between the two."""
    rng = np.random.default_rng(2)
    old, recent = 4.0 * rng.standard_normal((3000, 1, 1)), rng.standard_normal((3000, 1, 1))
    scores = np.concatenate([old, recent])
    weights = np.concatenate([np.full(3000, 0.01), np.ones(3000)])
    at = {round(p, 4): k for k, p in enumerate(PROBABILITIES)}
    weighted = conformal_quantiles(scores, weights)[0, :, 0]
    plain = conformal_quantiles(scores)[0, :, 0]
    assert weighted[at[0.9]] == pytest.approx(Z80, rel=0.12)
    assert weighted[at[0.1]] == pytest.approx(-Z80, rel=0.12)
    assert plain[at[0.9]] > 1.8 * Z80
    assert np.all(np.diff(weighted) >= 0)
    # equal weights are the plain rule
    assert np.array_equal(conformal_quantiles(scores, np.ones(6000)), conformal_quantiles(scores))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=len(PROBABILITIES), max_size=len(PROBABILITIES)),
    st.floats(-1e3, 1e3),
    st.floats(0, 10),
    st.lists(st.floats(0.001, 0.999), min_size=2, max_size=8),
)
def test_quantiles_never_cross_and_intervals_hold_the_forecast(
    values: list[float], point: float, width: float, wanted: list[float]
) -> None:
    table = np.sort(np.asarray(values))[None, :, None]  # (H=1, P, C=1), as stored
    probabilities = sorted(wanted)
    interpolated = quantiles_at(table, probabilities)[0, :, 0]
    assert np.all(np.diff(interpolated) >= -1e-12)
    forecast = np.full((1, 1, 1), point)
    bounds = forecast[:, :, None, :] + width * quantiles_at(table, probabilities)[None]
    held = hold_forecast(bounds, forecast, probabilities)[0, 0, :, 0]
    assert np.all(np.diff(held) >= -1e-9)
    p = np.asarray(probabilities)
    assert np.all(held[p < 0.5] <= point) and np.all(held[p > 0.5] >= point)


# ---------------------------------------------------------------------------------------
# Scores, against hand-computed values


def test_msis_coverage_and_pinball_by_hand() -> None:
    """One window of two steps, scale 2, the 80% interval (alpha 0.2) and nine quantiles."""
    actual = np.array([[10.0, 14.0]])
    lo, hi = np.array([9.0, 9.0]), np.array([11.0, 12.0])
    quantiles = np.tile(np.array([10.0, 12.0])[:, None], (1, 9))  # every quantile the same
    bounds = np.concatenate([lo[:, None], hi[:, None], quantiles], axis=1)[None]  # (1, 2, 11)
    scores = interval_scores(bounds, actual, np.array([2.0]), [80.0])
    # step 1: width 2, inside; step 2: width 3, 2 above: 3 + 2 / 0.2 x 2 = 23
    assert scores.msis["80"] == pytest.approx(((2 + 23) / 2) / 2)
    assert scores.coverage["80"] == 0.5
    # step 1: actual = the quantile: loss 0; step 2: actual 2 above every quantile q: 2q
    q = np.arange(1, 10) / 10
    assert scores.pinball == pytest.approx(np.mean([0.0, np.mean(2 * q)]) / 2)


def test_msis_reproduces_the_m4_definition_for_a_normal_interval() -> None:
    """The expected interval score of the exact N(0, 1) 95% interval is 2 z + 2 / alpha x
    2 E[(Z - z)+] = 3.92 + 0.75: the score of many draws comes out at that, over scale."""
    rng = np.random.default_rng(3)
    actual = rng.standard_normal((20000, 1))
    bounds = np.zeros((20000, 1, 2 + 9))
    bounds[:, :, 0], bounds[:, :, 1] = -Z95, Z95
    from scipy.stats import norm  # type: ignore[import-untyped]

    bounds[:, :, 2:] = norm.ppf(np.arange(1, 10) / 10)
    expected = 2 * Z95 + 40 * 2 * (norm.pdf(Z95) - Z95 * norm.sf(Z95))
    scores = interval_scores(bounds, actual, np.full(20000, 0.5), [95.0])
    assert scores.msis["95"] == pytest.approx(expected / 0.5, rel=0.03)
    assert scores.coverage["95"] == pytest.approx(0.95, abs=0.005)


def test_baseline_bounds_by_hand() -> None:
    """Naive from [1, 2, 4, 7]: residuals 1, 2, 3, median 2, widening with sqrt(step);
    seasonal naive (season 2) from [1, 5, 2, 7, 4, 8]: residuals 1, 2, 2, 1, median 1.5,
    widening with sqrt(whole seasons ahead + 1)."""
    history = [np.array([[1.0], [2.0], [4.0], [7.0]])]
    bounds = baseline_bounds(history, 3, 2, [0.5], lag=1)[0, :, 0, 0]
    assert bounds == pytest.approx(7 + 2 * np.sqrt([1, 2, 3]))
    seasonal = [np.array([[1.0], [5.0], [2.0], [7.0], [4.0], [8.0]])]
    upper = baseline_bounds(seasonal, 4, 2, [0.5], lag=2)[0, :, 0, 0]
    assert upper == pytest.approx(np.array([4, 8, 4, 8]) + 1.5 * np.sqrt([1, 1, 2, 2]))
    assert scoring_probabilities([80.0])[:2] == pytest.approx([0.1, 0.9])


# ---------------------------------------------------------------------------------------
# The command line


@pytest.fixture(scope="module")
def sine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """An hourly sine plus Gaussian noise of known sigma, and an ensemble of two trained on
    all but its last 600 rows."""
    directory = tmp_path_factory.mktemp("sine")
    rng = np.random.default_rng(0)
    sigma, n = 0.5, 2400
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 24) + sigma * rng.standard_normal(n)
    frame = pd.DataFrame({"time": pd.date_range("2021-01-01", periods=n, freq="h"), "y": y})
    data = directory / "sine.csv"
    frame.to_csv(data, index=False)
    model = directory / "sine.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", "12", "--holdout", "600"]
    result = invoke([*args, *FAST, "--ensemble", "2"])
    assert result.exit_code == 0, result.stderr
    return model, data, sigma


def test_intervals_cover_held_out_noise_at_their_level(
    sine: tuple[Path, Path, float], tmp_path: Path
) -> None:
    """On the 600 held-out rows the 80% interval covers about 80% and is about 2 x 1.2816
    sigma wide (the forecast error is mostly the noise); the 95% about 95%."""
    model, data, sigma = sine
    steps = tmp_path / "steps.csv"
    result = invoke(
        ["evaluate", "-m", str(model), str(data), "--windows", "49", "--stride", "12",
         "--format", "json", "--forecasts", str(steps), "-q"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["intervals"]["80"]["coverage"] == pytest.approx(0.80, abs=0.07)
    assert report["intervals"]["95"]["coverage"] == pytest.approx(0.95, abs=0.04)
    rows = pd.read_csv(steps)
    width = (rows["model-hi-80"] - rows["model-lo-80"]).mean()
    assert width / (2 * Z80 * sigma) == pytest.approx(1.0, abs=0.25)
    inside = (rows["actual"] >= rows["model-lo-80"]) & (rows["actual"] <= rows["model-hi-80"])
    assert inside.mean() == pytest.approx(report["intervals"]["80"]["coverage"])
    # the model's uncertainty beats the trivial one on this series
    naive = report["baselines"]["naive"]
    assert report["intervals"]["95"]["msis"] < naive["intervals"]["95"]["msis"]
    assert report["pinball"] < report["baselines"]["seasonal_naive"]["pinball"]


def test_a_rough_horizon_before_the_origin_widens_the_interval(
    sine: tuple[Path, Path, float], tmp_path: Path
) -> None:
    """The model's miss on the horizon just before the origin counts in the width: noise
    added to those 12 rows widens the interval more than the recent scale alone would (a
    model calibrated before that window counted, `recent_prior` None, gets the scale
    alone)."""
    from forecaster.data import load_panel_like
    from forecaster.uncertainty import error_scales

    model, data, sigma = sine
    artifact = artifact_io.load(model)
    assert artifact.intervals is not None and artifact.intervals.recent_prior is not None
    frame = pd.read_csv(data)
    rough = frame.copy()
    rough.loc[len(rough) - 12 :, "y"] += 6 * sigma * np.random.default_rng(1).standard_normal(12)
    scales = {}
    for name, part in (("calm", frame), ("rough", rough)):
        path = tmp_path / f"{name}.csv"
        part.to_csv(path, index=False)
        panel = load_panel_like(path, artifact.schema, artifact.freq)
        one, end = np.zeros(1, np.int64), panel.lengths
        with_window = error_scales(artifact, panel, one, end)[0, 0]
        artifact.intervals.recent_prior = None
        scale_alone = error_scales(artifact, panel, one, end)[0, 0]
        artifact.intervals.recent_prior = 4.0
        scales[name] = (with_window, scale_alone)
    widened = scales["rough"][0] / scales["calm"][0]
    by_scale = scales["rough"][1] / scales["calm"][1]
    assert by_scale > 1.0  # the rough rows are among the recent 28 cycles too
    assert widened > 1.2 * by_scale


def test_the_horizon_before_an_origin_reads_no_row_after_it(
    sine: tuple[Path, Path, float],
) -> None:
    """A backtest's window before each origin is forecast and scored on rows before the
    origin only: changing every later row leaves it alone, changing one of its rows
    does not."""
    from forecaster.data import load_panel_like
    from forecaster.uncertainty import recent_difficulty

    model, data, _ = sine
    artifact = artifact_io.load(model)
    panel = load_panel_like(data, artifact.schema, artifact.freq)
    origins = np.array([600, 1000, 1500, 2000])
    series = np.zeros(len(origins), np.int64)
    scale = np.ones((len(origins), 1))
    before = recent_difficulty(artifact, panel, series, origins, scale)
    assert np.isfinite(before).all()
    for k, origin in enumerate(origins):
        later = panel.values.copy()
        later[origin:] += 100.0
        edited = dataclasses.replace(panel, values=later)
        again = recent_difficulty(artifact, edited, series[k : k + 1], origins[k : k + 1],
                                  scale[:1])  # fmt: skip
        assert again[0, 0] == pytest.approx(before[k, 0], rel=1e-9)
        inside = panel.values.copy()
        inside[origin - 1] += 100.0
        moved = recent_difficulty(artifact, dataclasses.replace(panel, values=inside),
                                  series[k : k + 1], origins[k : k + 1], scale[:1])  # fmt: skip
        assert moved[0, 0] > before[k, 0] + 5.0
    # too few rows before the origin for the window: no recent figure
    assert np.isnan(recent_difficulty(artifact, panel, series[:1], np.array([12]), scale[:1]))


def test_calibration_normalises_each_window_as_predict_would_at_its_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quantiles are fit on validation errors divided by the normaliser that `predict`
    and `evaluate` compute at those origins (`error_scales`: recent scale, difficulty and
    the horizon before the origin): recomputed from the predict side they are the stored
    quantiles. Calibrating with another normaliser (the recent window left out, or read
    over the window's own targets) would make the bounds answer another question."""
    from forecaster import calibration, packaging
    from forecaster.intervals import calibration_origins
    from forecaster.uncertainty import error_scales

    captured: dict[str, Any] = {}
    calibrate, fit = packaging.calibrate, calibration.fit_intervals

    def calibrating(artifact: Any, panel: Any, split: Any, *args: Any, **kwargs: Any) -> Any:
        captured.update(panel=panel, split=split)
        return calibrate(artifact, panel, split, *args, **kwargs)

    def fitting(validation: Any, *args: Any, **kwargs: Any) -> Any:
        captured["validation"] = validation
        return fit(validation, *args, **kwargs)

    monkeypatch.setattr(packaging, "calibrate", calibrating)
    monkeypatch.setattr(calibration, "fit_intervals", fitting)
    data, model = tmp_path / "long.csv", tmp_path / "m.fcst"
    long_frame((200, 160, 140)).to_csv(data, index=False)
    args = ["train", str(data), "-o", str(model), "--horizon", "7", "--val-fraction", "0.3"]
    result = invoke([*args, *FAST])
    assert result.exit_code == 0, result.stderr
    artifact = artifact_io.load(model)
    intervals = artifact.intervals
    assert intervals is not None and intervals.recent_prior is not None
    forecasts, spread, actuals, series, _, weights = captured["validation"]
    split, panel = captured["split"], captured["panel"]
    windows, origins = calibration_origins(split.n_train, split.n_val, 7)
    assert np.array_equal(windows, series) and len(np.unique(series)) == 3
    scale = error_scales(artifact, panel, series, origins)
    assert np.isfinite(scale).all()
    scores = (actuals - forecasts) / intervals.normaliser(spread, scale)
    np.testing.assert_allclose(conformal_quantiles(scores, weights), intervals.quantiles,
                               rtol=1e-9, atol=1e-12)  # fmt: skip


def test_with_recent_counts_the_window_as_one_more() -> None:
    """Difficulty 1 over four windows beside a recent window of 3: (3 + 4) / 5; without a
    recent window, the difficulty as it was."""
    from forecaster.intervals import with_recent

    blended = with_recent(np.array([[1.0], [2.0]]), np.array([[3.0], [np.nan]]), 4.0)
    assert blended[:, 0].tolist() == pytest.approx([7.0 / 5.0, 2.0])


def test_predict_adds_bounds_and_quantiles_named_as_nixtla(
    sine: tuple[Path, Path, float],
) -> None:
    model, _, _ = sine
    plain = invoke(["predict", "-m", str(model)])
    asked = ["--level", "95", "--level", "80", "--quantile", "0.9", "--quantile", "0.1"]
    result = invoke(["predict", "-m", str(model), *asked])
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns) == [
        "time", "y", "y-lo-95", "y-lo-80", "y-hi-80", "y-hi-95", "y-q-0.1", "y-q-0.9"
    ]  # fmt: skip
    # the point forecast is the one predict gives without intervals
    assert frame["y"].tolist() == pd.read_csv(io.StringIO(plain.stdout))["y"].tolist()
    ordered = frame[["y-lo-95", "y-lo-80", "y", "y-hi-80", "y-hi-95"]].to_numpy()
    assert np.all(np.diff(ordered, axis=1) >= 0)
    assert np.all(frame["y-q-0.1"] <= frame["y-q-0.9"])
    for fmt in ("json", "jsonl"):
        out = invoke(["predict", "-m", str(model), "--level", "80", "--format", fmt]).stdout
        first = json.loads(out)[0] if fmt == "json" else json.loads(out.splitlines()[0])
        assert list(first) == ["time", "y", "y-lo-80", "y-hi-80"]


def test_a_new_series_gets_intervals_from_its_own_history(tmp_path: Path) -> None:
    """A series the model has not seen is scaled by its history: ten times the values,
    ten times the width. A known series keeps the width stored for it."""
    frame = long_frame((300, 300))
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    fresh = frame[frame["unique_id"] == "s0"].assign(unique_id="new")
    widths = []
    for factor in (1, 10):
        path = tmp_path / f"new{factor}.csv"
        fresh.assign(y=fresh["y"] * factor).to_csv(path, index=False)
        result = invoke(["predict", "-m", str(model), str(path), "--level", "80", "-q"])
        assert result.exit_code == 0, result.stderr
        out = pd.read_csv(io.StringIO(result.stdout))
        widths.append((out["y-hi-80"] - out["y-lo-80"]).mean())
    assert widths[1] == pytest.approx(10 * widths[0], rel=1e-6)
    stored = pd.read_csv(io.StringIO(invoke(["predict", "-m", str(model), "--level", "80"]).stdout))
    given = pd.read_csv(
        io.StringIO(invoke(["predict", "-m", str(model), str(data), "--level", "80"]).stdout)
    )
    assert np.allclose(
        stored["y-hi-80"] - stored["y-lo-80"], given["y-hi-80"] - given["y-lo-80"], rtol=1e-5
    )


@pytest.mark.parametrize(
    ("flag", "value", "phrase"),
    [
        ("--level", "100", "100 is not a level"),
        ("--level", "0", "0 is not a level"),
        ("--level", "-5", "-5 is not a level"),
        ("--quantile", "1", "1 is not a quantile"),
        ("--quantile", "0", "0 is not a quantile"),
        ("--quantile", "1.5", "1.5 is not a quantile"),
    ],
)
def test_a_level_or_quantile_out_of_range_is_a_usage_error(
    trained_model: Path, tmp_path: Path, flag: str, value: str, phrase: str
) -> None:
    out = tmp_path / "forecast.csv"
    out.write_text("precious\n")
    result = invoke(["predict", "-m", str(trained_model), flag, value, "-o", str(out)])
    assert result.exit_code == 2
    assert phrase in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert out.read_text() == "precious\n"


def without_intervals(good: bytes) -> bytes:
    """The model file an older forecaster wrote: no intervals key, no interval tensors."""

    def strip(tensors: dict[str, np.ndarray]) -> None:
        tensors.pop("intervals.quantiles")
        tensors.pop("intervals.scale")
        tensors.pop("intervals.difficulty")

    stripped = rebuilt(good, strip)
    return tamper(stripped, "new", meta=drop("intervals"))


def test_a_model_without_intervals_is_refused_when_asked_for_them(
    trained_model: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.fcst"
    old.write_bytes(without_intervals(trained_model.read_bytes()))
    assert artifact_io.load(old).intervals is None
    out = tmp_path / "forecast.csv"
    for args in (["--level", "80"], ["--quantile", "0.5"]):
        result = invoke(["predict", "-m", str(old), *args, "-o", str(out)])
        assert result.exit_code == 4, result.stderr
        assert "has no prediction intervals" in result.stderr
        assert "train it again" in result.stderr
        assert not out.exists()
    # without the flags it forecasts as before
    plain = invoke(["predict", "-m", str(old)])
    assert plain.exit_code == 0
    assert plain.stdout == invoke(["predict", "-m", str(trained_model)]).stdout
    data = tmp_path / "data.csv"
    seasonal_frame().to_csv(data, index=False)
    asked = invoke(["evaluate", "-m", str(old), str(data), "--level", "90", "--format", "json"])
    assert asked.exit_code == 4 and "has no prediction intervals" in asked.stderr
    report = json.loads(invoke(["evaluate", "-m", str(old), str(data), "--format", "json"]).stdout)
    assert "intervals" not in report and "pinball" not in report
    assert any("intervals not scored" in note for note in report["notes"])
    assert "none" in invoke(["info", str(old)]).stdout.split("intervals:")[1].splitlines()[0]


def test_a_model_trained_without_validation_says_why_it_has_no_intervals(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    seasonal_frame().to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--val-fraction", "0", *FAST]
    assert invoke(args).exit_code == 0
    result = invoke(["predict", "-m", str(model), "--level", "80"])
    assert result.exit_code == 4
    assert "trained without validation windows" in result.stderr


def test_evaluate_reports_intervals_beside_the_baselines(
    sine: tuple[Path, Path, float], tmp_path: Path
) -> None:
    model, data, _ = sine
    args = ["evaluate", "-m", str(model), str(data), "--level", "50", "--level", "97.5"]
    report = json.loads(invoke([*args, "--format", "json", "-q"]).stdout)
    assert set(report["intervals"]) == {"50", "97.5"}
    for method in ("naive", "seasonal_naive"):
        assert set(report["baselines"][method]["intervals"]["97.5"]) == {"coverage", "msis"}
        assert report["baselines"][method]["pinball"] > 0
    assert report["per_target"]["y"]["model"]["intervals"] == report["intervals"]
    table = pd.read_csv(io.StringIO(invoke([*args, "--format", "csv", "-q"]).stdout))
    assert list(table.columns)[-5:] == [
        "coverage_50", "msis_50", "coverage_97.5", "msis_97.5", "pinball"
    ]  # fmt: skip
    shown = invoke([*args])  # the table on stderr
    assert "prediction intervals" in shown.stderr and "coverage_97.5" in shown.stderr


def test_levels_beyond_the_stored_grid_warn(sine: tuple[Path, Path, float]) -> None:
    model, _, _ = sine
    result = invoke(["predict", "-m", str(model), "--level", "99.95"])
    assert result.exit_code == 0
    assert "level 99.95: beyond the 0.001 to 0.999 quantiles" in result.stderr


def test_windows_too_few_for_a_level_are_named_at_predict(tmp_path: Path) -> None:
    """With total weight W the conformal bounds resolve quantiles 1/(W+1) ... W/(W+1); a
    level beyond gets the widest validation error, which predict says (and still writes)."""
    assert resolved_probabilities(49.0) == (0.02, 0.98) and resolved_probabilities(48.0)[1] < 0.98
    scores = np.arange(1.0, 49.0)[:, None, None]  # 48 windows: the 0.98 bound needs a 49th
    upper = int(np.flatnonzero(np.isclose(PROBABILITIES, 0.98))[0])
    assert conformal_quantiles(scores)[0, upper, 0] == 48.0  # the largest stands in
    assert conformal_quantiles(np.arange(1.0, 50.0)[:, None, None])[0, upper, 0] == 49.0
    data = tmp_path / "short.csv"
    seasonal_frame(n=200).to_csv(data, index=False)  # a few dozen validation windows
    model = tmp_path / "short.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "6", *FAST]).exit_code == 0
    info = artifact_io.load(model).intervals.info  # type: ignore[union-attr]
    assert 9 <= info["validation_weight"] < 49  # resolves 80%, not 95%: pooled (`pooled`)
    assert 49 <= info["weight"] < 399  # with the training origins: 95%, not 99.5%
    asked = invoke(["predict", "-m", str(model), "--level", "95", "--level", "99.5"])
    assert asked.exit_code == 0 and "value-hi-99.5" in asked.stdout.splitlines()[0]
    assert "level 99.5: the model's" in asked.stderr and "level 95" not in asked.stderr
    assert "resolve central intervals up to" in asked.stderr
    quiet = invoke(["predict", "-m", str(model), "--level", "80", "--level", "95"])
    assert quiet.exit_code == 0 and "resolve central intervals" not in quiet.stderr
    assert "resolved)" in invoke(["info", str(model)]).stdout


def test_info_and_the_train_summary_say_how_intervals_were_calibrated(
    sine: tuple[Path, Path, float],
) -> None:
    model, _, _ = sine
    text = invoke(["info", str(model)]).stdout
    line = text.split("intervals:")[1].splitlines()[0]
    assert "split conformal" in line and "validation windows" in line and "covered" in line
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert set(described["intervals"]["coverage"]) == {"80", "95"}


def test_predict_with_intervals_in_a_pipeline(sine: tuple[Path, Path, float]) -> None:
    """A real process reading DATA from stdin, bounds on stdout."""
    model, data, _ = sine
    result = run_forecaster(
        ["predict", "-m", str(model), "-", "--level", "90", "-q"], input=data.read_bytes()
    )
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(io.BytesIO(result.stdout))
    assert list(frame.columns) == ["time", "y", "y-lo-90", "y-hi-90"]
    assert len(frame) == 12


# ---------------------------------------------------------------------------------------
# The stored calibration is checked like every other field


@pytest.mark.parametrize(
    ("name", "edit", "phrase"),
    [
        ("factor", put("intervals.new_series_factor", [-1.0]), "new_series_factor"),
        ("weight", put("intervals.spread_weight", "x"), "spread_weight"),
        ("recent prior", put("intervals.recent_prior", -1.0), "recent_prior"),
        ("recent prior text", put("intervals.recent_prior", "4"), "recent_prior"),
        ("recent prior null", put("intervals.recent_prior", None), "recent_prior"),
        ("grid", put("intervals.probabilities", [0.5]), "not the grid"),
        ("keys", put("intervals.extra", 1), "unknown key"),
        ("no meta", put("intervals", None), "has no metadata"),
    ],
)
def test_an_edited_calibration_is_refused(
    trained_model: Path, tmp_path: Path, name: str, edit: object, phrase: str
) -> None:
    bad = tmp_path / f"{name}.fcst"
    bad.write_bytes(tamper(trained_model.read_bytes(), "new", meta=edit))  # type: ignore[arg-type]
    result = invoke(["predict", "-m", str(bad)])
    assert result.exit_code == 4
    assert phrase in result.stderr


def test_a_model_calibrated_before_the_recent_window_keeps_its_bounds(
    trained_model: Path, tmp_path: Path
) -> None:
    """A file without intervals.recent_prior (as forecasters before it wrote them) loads,
    and its bounds from DATA are the difficulty times the recent scale, as they were."""
    from forecaster.data import load_panel_like
    from forecaster.intervals import base_scale
    from forecaster.seasons import season_length
    from forecaster.uncertainty import error_scales

    old = tmp_path / "old.fcst"
    old.write_bytes(tamper(trained_model.read_bytes(), "new",
                           meta=drop("intervals.recent_prior")))  # fmt: skip
    artifact = artifact_io.load(old)
    assert artifact.intervals is not None and artifact.intervals.recent_prior is None
    data = tmp_path / "data.csv"
    seasonal_frame().to_csv(data, index=False)
    panel = load_panel_like(data, artifact.schema, artifact.freq)
    one = np.zeros(1, np.int64)
    recent_scale = base_scale([panel.series(0)], season_length(artifact.freq))[0]
    expected = artifact.intervals.difficulty[0] * recent_scale
    assert error_scales(artifact, panel, one, panel.lengths)[0] == pytest.approx(expected)
    result = invoke(["predict", "-m", str(old), str(data), "--level", "80"])
    assert result.exit_code == 0, result.stderr
    assert invoke(["predict", "-m", str(trained_model), str(data), "--level", "80"]).stdout != (
        result.stdout
    )


def test_crossing_stored_quantiles_are_refused(trained_model: Path, tmp_path: Path) -> None:
    def reverse(tensors: dict[str, np.ndarray]) -> None:
        tensors["intervals.quantiles"] = tensors["intervals.quantiles"][:, ::-1].copy()

    bad = tmp_path / "crossing.fcst"
    bad.write_bytes(rebuilt(trained_model.read_bytes(), reverse))
    result = invoke(["predict", "-m", str(bad), "--level", "80"])
    assert result.exit_code == 4
    assert "not finite and increasing" in result.stderr


def test_intervals_narrow_when_a_series_calms_down(
    sine: tuple[Path, Path, float], tmp_path: Path
) -> None:
    """The error scale is that of the last 28 seasonal cycles before the origin: the same
    series with the noise of its last four weeks cut to a fifth gets narrower bounds."""
    model, data, _ = sine
    frame = pd.read_csv(data)
    t = np.arange(len(frame))
    clean = 10 + 3 * np.sin(2 * np.pi * t / 24)
    calm = frame.copy()
    last = slice(len(frame) - 28 * 24, None)
    calm.loc[calm.index[last], "y"] = clean[last] + 0.2 * (frame["y"] - clean)[last]
    calm_path = tmp_path / "calm.csv"
    calm.to_csv(calm_path, index=False)
    widths = []
    for path in (data, calm_path):
        out = invoke(["predict", "-m", str(model), str(path), "--level", "80", "-q"])
        assert out.exit_code == 0, out.stderr
        bounds = pd.read_csv(io.StringIO(out.stdout))
        widths.append((bounds["y-hi-80"] - bounds["y-lo-80"]).mean())
    assert widths[1] < 0.6 * widths[0]


def test_several_targets_get_bounds_each_and_averaged_scores(tmp_path: Path) -> None:
    frame = seasonal_frame(300)
    frame["other"] = 100 + 10 * frame["value"]
    data = tmp_path / "two.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    out = pd.read_csv(io.StringIO(invoke(["predict", "-m", str(model), "--level", "80"]).stdout))
    assert list(out.columns) == ["date", "value", "value-lo-80", "value-hi-80", "other",
                                 "other-lo-80", "other-hi-80"]  # fmt: skip
    report = json.loads(
        invoke(["evaluate", "-m", str(model), str(data), "--format", "json"]).stdout
    )
    per = report["per_target"]
    for level in ("80", "95"):
        mean = np.mean([per[t]["model"]["intervals"][level]["msis"] for t in ("value", "other")])
        assert report["intervals"][level]["msis"] == pytest.approx(mean, rel=1e-4)
    rows = pd.read_csv(io.StringIO(invoke(["evaluate", "-m", str(model), str(data),
                                           "--format", "csv", "-q"]).stdout))  # fmt: skip
    overall = rows[(rows["target"] == "(all)") & (rows["method"] == "model")]
    assert len(overall) == 1 and overall["coverage_95"].between(0, 1).all()


def test_a_series_that_stopped_moving_is_warned_about(tmp_path: Path) -> None:
    """Zero-width intervals are said, with the series, not shown silently."""
    frame = long_frame((300, 300))
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    flat = frame.copy()
    flat.loc[flat["unique_id"] == "s1", "y"] = 5.0
    flat_csv = tmp_path / "flat.csv"
    flat.to_csv(flat_csv, index=False)
    result = invoke(["predict", "-m", str(model), str(flat_csv), "--level", "80"])
    assert result.exit_code == 0
    assert "1 series did not move" in result.stderr and "s1" in result.stderr
    out = pd.read_csv(io.StringIO(result.stdout))
    still = out[out["unique_id"] == "s1"]
    assert (still["y-hi-80"] == still["y-lo-80"]).all()


def test_a_new_series_gets_the_median_difficulty(tmp_path: Path) -> None:
    """The same history under a new id is scaled by the median series' difficulty instead
    of its own, beside the same window before the origin: the widths differ by exactly
    that ratio (one network: no spread)."""
    from forecaster.data import load_panel_like
    from forecaster.intervals import RECENT_PRIOR, base_scale
    from forecaster.seasons import season_length
    from forecaster.uncertainty import recent_difficulty

    frame = long_frame((300, 300, 300, 300))  # four: the median is no single series'
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    artifact = artifact_io.load(model)
    intervals = artifact.intervals
    assert intervals is not None and intervals.recent_prior == RECENT_PRIOR
    median = np.median(intervals.difficulty[:, 0])
    assert intervals.new_series_factor[0] == pytest.approx(median)
    assert not np.isclose(intervals.difficulty[:, 0], median).any()
    known = frame[frame["unique_id"] == "s2"]
    widths, recent = {}, {}
    for name, part in (("known", known), ("new", known.assign(unique_id="fresh"))):
        path = tmp_path / f"{name}.csv"
        part.to_csv(path, index=False)
        out = pd.read_csv(io.StringIO(
            invoke(["predict", "-m", str(model), str(path), "--level", "80", "-q"]).stdout
        ))  # fmt: skip
        widths[name] = (out["y-hi-80"] - out["y-lo-80"]).to_numpy()
        panel = load_panel_like(path, artifact.schema, artifact.freq)
        scale = base_scale([panel.series(0)], season_length(artifact.freq))
        recent[name] = recent_difficulty(artifact, panel, np.zeros(1, np.int64),
                                         panel.lengths, scale)[0, 0] * scale[0, 0]  # fmt: skip
    # the recent window's error in data units, beside RECENT_PRIOR windows of difficulty
    own = recent["known"] + RECENT_PRIOR * intervals.difficulty[2, 0] * scale[0, 0]
    typical = recent["new"] + RECENT_PRIOR * median * scale[0, 0]
    ratio = typical / own
    assert np.isfinite(ratio) and not np.isclose(ratio, 1.0)
    assert np.allclose(widths["new"], ratio * widths["known"], rtol=1e-3)  # 6 digits printed


def test_calibration_weighs_recent_validation_windows_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The windows reach the calibration with recency weights: 1 for each series' newest,
    exp(-age / its validation rows) for older ones."""
    from forecaster import calibration

    seen = {}
    real = calibration.fit_intervals

    def spy(validation, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen["series"], seen["weights"] = validation[3], validation[5]
        return real(validation, *args, **kwargs)

    monkeypatch.setattr(calibration, "fit_intervals", spy)
    data = tmp_path / "data.csv"
    seasonal_frame(400).to_csv(data, index=False)
    assert invoke(["train", str(data), "-o", str(tmp_path / "m.fcst"), *FAST]).exit_code == 0
    weights = seen["weights"]
    assert weights.max() == 1.0 and weights.min() < 0.9
    assert np.all(np.diff(np.sort(weights)) >= 0) and len(np.unique(weights)) > 2


def test_pinball_weighs_each_quantile_by_its_side() -> None:
    """Quantile predictions 10 + 10 q against an actual of 12: below the actual a quantile
    costs q x the miss, above it (1 - q) x the miss; the mean by hand is 8.5 / 9."""
    q = np.arange(1, 10) / 10
    bounds = np.concatenate([[11.0, 13.0], 10 + 10 * q])[None, None, :]  # (1, 1, 2 + 9)
    scores = interval_scores(bounds, np.array([[12.0]]), np.array([1.0]), [80.0])
    assert scores.pinball == pytest.approx(8.5 / 9)


def test_bounds_hold_the_forecast_even_when_every_error_was_positive(
    trained_model: Path,
) -> None:
    """A model that always under-forecast on validation has only positive error quantiles:
    its lower bounds are the forecast itself, never above it."""
    from forecaster.uncertainty import model_bounds

    artifact = artifact_io.load(trained_model)
    assert artifact.intervals is not None
    artifact.intervals.quantiles = np.abs(artifact.intervals.quantiles).cumsum(axis=1) + 0.5
    forecasts = np.full((2, artifact.model_config.horizon, 1), 10.0)
    probabilities = [0.1, 0.9, 0.3]
    bounds = model_bounds(
        artifact, forecasts, np.zeros_like(forecasts), np.ones((2, 1)), probabilities
    )
    assert np.all(bounds[:, :, 0] == forecasts) and np.all(bounds[:, :, 2] == forecasts)
    assert np.all(bounds[:, :, 1] > forecasts)
