"""The blend of the networks with a baseline, chosen on validation (`blend`):
the baselines read from the scaled inputs match the metrics' own, the choice, what the
model file holds, and that predict's forecast is the blend."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact
from forecaster.blend import Blend, apply, baseline_forecast
from forecaster.metrics import naive, seasonal_naive
from tests.conftest import FAST, invoke, seasonal_frame


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 40),  # lookback
    st.integers(1, 30),  # horizon
    st.integers(1, 12),  # season
    st.integers(0, 2**31 - 1),
)
def test_baselines_from_the_inputs_are_the_metrics_baselines(
    lookback: int, horizon: int, season: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    contexts = rng.normal(size=(3, lookback, 2))
    history = list(contexts)
    np.testing.assert_array_equal(
        baseline_forecast("naive", contexts, lookback, horizon, 2, season),
        naive(history, horizon),
    )
    np.testing.assert_array_equal(
        baseline_forecast("seasonal_naive", contexts, lookback, horizon, 2, season),
        seasonal_naive(history, horizon, season),
    )


def test_with_covariates_only_the_targets_context_rows_are_read() -> None:
    contexts = np.arange(2 * 7 * 3, dtype=float).reshape(2, 7, 3)  # L 5 + H 2 rows, C 1 + K 2
    out = baseline_forecast("naive", contexts, lookback=5, horizon=2, targets=1, season=1)
    np.testing.assert_array_equal(out[:, :, 0], contexts[:, [4, 4], 0])


@pytest.mark.parametrize(
    "value",
    [
        {"baseline": "mean", "weight": 0.5},
        {"baseline": "naive", "weight": 1.0},  # the networks alone are written as no blend
        {"baseline": "naive", "weight": -0.25},
        {"baseline": "naive", "weight": True},
        {"baseline": "naive"},
        [0.5],
    ],
)
def test_a_blend_the_module_would_not_write_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        Blend.from_dict(value)
    assert Blend.from_dict({"baseline": "naive", "weight": 0.25}) == Blend("naive", 0.25)


def _seasonal_exact(tmp_path: Path) -> tuple[Path, Path]:
    """A weekly cycle that wanders week by week (a seasonal random walk: seasonal naive is
    the best forecast there is; a profile averaged over weeks lags it) and networks too
    small and too briefly trained to learn it: validation picks a blend."""
    frame = seasonal_frame(280, noise=0.0)
    values = np.tile([3.0, 9.0, 1.0, 7.0, 2.0, 8.0, 5.0], 40)
    steps = np.random.default_rng(5).normal(0, 0.3, 280)
    for t in range(7, 280):
        values[t] = values[t - 7] + steps[t]
    frame["value"] = values
    data, model = tmp_path / "exact.csv", tmp_path / "exact.fcst"
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", "--epochs", "1",
                     "--hidden", "4", "--ensemble", "1", "--lookback", "14"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "forecast = " in result.stderr and "x seasonal naive" in result.stderr
    return data, model


def _without_blend(blended: artifact.Artifact, tmp_path: Path) -> Path:
    """The same model file with its blend taken out: the networks' forecast alone."""
    alone = tmp_path / "alone.fcst"
    artifact.save(dataclasses.replace(blended, blend=None), alone)
    return alone


def _predicted(path: Path) -> np.ndarray:
    """`predict`'s forecast values from the model file at ``path``."""
    result = invoke(["predict", "-m", str(path)])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout))["value"].to_numpy()


def test_a_validated_blend_is_what_predict_forecasts(tmp_path: Path) -> None:
    data, model = _seasonal_exact(tmp_path)
    blended = artifact.load(model)
    assert blended.blend is not None and blended.blend.baseline == "seasonal_naive"
    summary = blended.summary["blend"]
    assert summary["mase"] <= summary["network_mase"] * 0.99
    assert blended.summary["validation"]["mase"]["model"] == pytest.approx(summary["mase"])
    alone = _without_blend(blended, tmp_path)
    last_week = pd.read_csv(data)["value"].to_numpy()[-7:]  # seasonal naive's forecast
    w = blended.blend.weight
    np.testing.assert_allclose(
        _predicted(model), w * _predicted(alone) + (1 - w) * last_week, rtol=1e-5, atol=1e-4
    )
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["training"]["blend"]["baseline"] == "seasonal_naive"
    assert "forecast:" in invoke(["info", str(model)]).stdout


def test_a_model_that_validates_well_ahead_is_left_alone(tmp_path: Path) -> None:
    """A damped oscillation of period about 10 days (an AR(2) process): the linear skip fits
    it; naive and seasonal naive lag it and damped-trend smoothing (a level, a trend and a
    weekly profile) cannot follow it, so any mix with them only adds their error."""
    rng = np.random.default_rng(0)
    values = np.zeros(300)
    values[:2] = 1.0, 1.5
    for t in range(2, 300):
        values[t] = 1.6 * values[t - 1] - 0.9 * values[t - 2] + rng.normal(0, 0.01)
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=300, freq="D"),
                          "value": 10.0 + values})  # fmt: skip
    data, model = tmp_path / "d.csv", tmp_path / "m.fcst"
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST[:-1]])
    assert result.exit_code == 0, result.stderr
    loaded = artifact.load(model)
    assert loaded.blend is None and loaded.summary["blend"] is None
    assert "forecast = " not in result.stderr
    mase = loaded.summary["validation"]["mase"]
    assert mase["model"] < 0.5 * min(mase["naive"], mase["seasonal_naive"])


def test_apply_mixes_and_leaves_the_networks_alone_without_a_blend() -> None:
    class Stub:
        model_config = type("C", (), {"lookback": 3, "n_targets": 1})()
        freq = "D"
        schema = type("S", (), {"session": None})()

    contexts = np.array([[[1.0], [2.0], [4.0]]])
    forecast = np.array([[[10.0], [20.0]]], dtype=np.float32)
    assert apply(None, forecast, contexts, Stub()) is forecast  # type: ignore[arg-type]
    mixed = apply(Blend("naive", 0.25), forecast, contexts, Stub())  # type: ignore[arg-type]
    np.testing.assert_allclose(mixed[0, :, 0], [0.25 * 10 + 0.75 * 4, 0.25 * 20 + 0.75 * 4])
    assert mixed.dtype == np.float32


def test_an_edited_blend_is_refused(tmp_path: Path) -> None:
    from tests.test_model_tamper import assert_refused, put, tamper

    _, model = _seasonal_exact(tmp_path)
    bad = tmp_path / "bad.fcst"
    bad.write_bytes(tamper(model.read_bytes(), "new", meta=put("blend.weight", 3.0)))
    assert_refused(bad, ["model metadata blend is"], tmp_path)


def test_no_blend_when_the_history_has_no_scale(tmp_path: Path) -> None:
    """A constant series long enough to choose by validation: MASE has no scale (0), so
    nothing can be chosen; no NaN is kept."""
    frame = seasonal_frame(400)
    frame["value"] = 4.0
    data, model = tmp_path / "flat.csv", tmp_path / "flat.fcst"
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr
    loaded = artifact.load(model)
    assert loaded.blend is None and loaded.summary["blend"] is None


def test_a_model_that_reads_covariates_is_never_blended(tmp_path: Path) -> None:
    """The seasonal-exact series of `_seasonal_exact` with a covariate: no blend, though
    validation would choose one without the covariate."""
    frame = seasonal_frame(280, noise=0.0)
    noise = np.random.default_rng(5).normal(0, 0.05, 280)
    frame["value"] = np.tile([3.0, 9.0, 1.0, 7.0, 2.0, 8.0, 5.0], 40) + noise
    frame["driver"] = np.random.default_rng(6).normal(size=280)
    data, model = tmp_path / "cov.csv", tmp_path / "cov.fcst"
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", "--epochs", "1",
                     "--hidden", "4", "--ensemble", "1", "--lookback", "14", "--target",
                     "value", "--past-covariate", "driver"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    loaded = artifact.load(model)
    assert loaded.blend is None and loaded.summary["blend"] is None


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_the_choices_mase_is_the_metrics_mase(targets: int, seed: int) -> None:
    """`blend` scores its candidates without `metrics.evaluate` (it tries eight); the
    figure must be evaluate's own, which the validation scores report."""
    from forecaster.blend import _mase
    from forecaster.metrics import evaluate, mase_scale

    rng = np.random.default_rng(seed)
    history = [rng.normal(size=(int(rng.integers(10, 30)), targets)) for _ in range(5)]
    forecasts, actuals = rng.normal(size=(2, 5, 4, targets))
    names = [f"t{c}" for c in range(targets)]
    expected = evaluate(forecasts, actuals, history, names, 3, 1)
    got = _mase(forecasts, actuals, mase_scale(history, 3))
    assert got == pytest.approx(expected.overall(expected.model)["mase"], rel=1e-12)


def test_too_little_validation_mixes_three_forecasts_at_equal_weights(tmp_path: Path) -> None:
    """120 daily rows and a 14-day horizon: validation holds one horizon, too little to
    choose a blend by. The forecast is a third each of the networks', damped-trend smoothing
    of the window and seasonal naive with drift (the last week, moved by the window's
    trend), which predict computes from the rows it is given."""
    from forecaster import smoothing

    frame = seasonal_frame(120)
    data, model = tmp_path / "short.csv", tmp_path / "short.fcst"
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "14", *FAST[:-1]])
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert ("0.333 x the networks + 0.667 x the mean of damped-trend smoothing and seasonal "
            "naive with drift (equal weights: 1 horizon(s)") in said  # fmt: skip
    blended = artifact.load(model)
    assert blended.blend is not None
    assert blended.blend.baseline == "damped_trend_seasonal_drift"
    assert blended.blend.weight == pytest.approx(1 / 3)
    assert blended.summary["blend"]["rule"] == "equal"
    alone = _without_blend(blended, tmp_path)
    lookback = blended.model_config.lookback
    window = frame["value"].to_numpy()[-lookback:]
    assert blended.blend.smoothing is not None
    damped = smoothing.forecast(window[None, :], 14, 7, blended.blend.smoothing[0])[0]
    weekly_trend = (window[-7:].mean() - window[:7].mean()) / (lookback - 7)
    drifted = np.tile(window[-7:], 2) + weekly_trend * 7 * np.repeat([1, 2], 7)
    np.testing.assert_allclose(_predicted(model), (_predicted(alone) + damped + drifted) / 3,
                               rtol=1e-4, atol=1e-3)  # fmt: skip
    assert "equal weights" in invoke(["info", str(model)]).stdout


def test_the_equal_weight_smoothing_adjusts_by_the_season_the_training_rows_show(
    tmp_path: Path,
) -> None:
    """80 quarters whose season the last 16 rows alone do not show significantly: the
    smoothing in the mix still takes it out (the training rows decided), where it used to
    smooth the window unadjusted; a file from before that decision forecasts as it did."""
    from forecaster import smoothing
    from tests.test_smoothing import short_quarterly

    series = short_quarterly()
    frame = pd.DataFrame({"quarter": pd.date_range("1990-01-01", periods=80, freq="QS"),
                          "value": series})  # fmt: skip
    data, model = tmp_path / "wool.csv", tmp_path / "wool.fcst"
    frame.to_csv(data, index=False)
    args = ["--horizon", "8", "--lookback", "16", *FAST]
    assert invoke(["train", str(data), "-o", str(model), *args]).exit_code == 0
    trained = artifact.load(model)
    assert trained.blend is not None and trained.blend.smoothing is not None
    assert trained.blend.baseline == "damped_trend_seasonal_drift"
    assert trained.blend.seasonal == (True,)
    window = series[-16:]
    assert not smoothing._seasonal(window[None, :], 4)[0]  # the window alone: no season
    alone = _predicted(_without_blend(trained, tmp_path))
    params = trained.blend.smoothing[0]
    known = smoothing.forecast(window[None, :], 8, 4, params, known=True)[0]
    yearly_trend = (window[-4:].mean() - window[:4].mean()) / 12
    drifted = np.tile(window[-4:], 2) + yearly_trend * 4 * np.repeat([1, 2], 4)
    np.testing.assert_allclose(_predicted(model), (alone + known + drifted) / 3,
                               rtol=1e-4, atol=1e-3)  # fmt: skip
    earlier = tmp_path / "earlier.fcst"
    before = dataclasses.replace(trained.blend, seasonal=None)
    artifact.save(dataclasses.replace(trained, blend=before), earlier)
    unadjusted = smoothing.forecast(window[None, :], 8, 4, params)[0]
    np.testing.assert_allclose(_predicted(earlier), (alone + unadjusted + drifted) / 3,
                               rtol=1e-4, atol=1e-3)  # fmt: skip
    assert not np.allclose(known, unadjusted, atol=1e-2)


def test_a_constant_short_series_stays_constant_at_equal_weights(tmp_path: Path) -> None:
    frame = seasonal_frame(120)
    frame["value"] = 4.0
    data, model = tmp_path / "flat.csv", tmp_path / "flat.fcst"
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "14", *FAST])
    assert result.exit_code == 0, result.stderr
    predicted = invoke(["predict", "-m", str(model)])
    assert predicted.exit_code == 0, predicted.stderr
    values = pd.read_csv(io.StringIO(predicted.stdout))["value"].to_numpy()
    np.testing.assert_allclose(values, 4.0, atol=1e-3)


def test_a_file_with_the_earlier_mix_forecasts_as_it_did(tmp_path: Path) -> None:
    """A model file from before seasonal naive with drift joined the mix holds 0.5 x the
    networks + 0.5 x damped-trend smoothing of their window: it loads and forecasts that."""
    from forecaster import smoothing

    frame = seasonal_frame(120)
    data, model = tmp_path / "short.csv", tmp_path / "short.fcst"
    frame.to_csv(data, index=False)
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "14", *FAST]).exit_code == 0
    trained = artifact.load(model)
    assert trained.blend is not None and trained.blend.smoothing is not None
    earlier = tmp_path / "earlier.fcst"
    old_form = Blend("damped_trend", 0.5, trained.blend.smoothing)
    artifact.save(dataclasses.replace(trained, blend=old_form), earlier)
    alone = _without_blend(trained, tmp_path)
    window = frame["value"].to_numpy()[-trained.model_config.lookback :]
    damped = smoothing.forecast(window[None, :], 14, 7, trained.blend.smoothing[0])[0]
    np.testing.assert_allclose(_predicted(earlier), 0.5 * _predicted(alone) + 0.5 * damped,
                               rtol=1e-4, atol=1e-3)  # fmt: skip


def test_seasonal_naive_with_drift_continues_a_trending_season_exactly() -> None:
    """A season on a straight line is forecast exactly; so is a line without a season
    (naive with drift), and a flat season is seasonal naive."""
    from forecaster.blend import seasonal_drift

    pattern = np.array([3.0, -1.0, 0.5, -2.5])
    rows = np.arange(24 + 10)
    series = 0.7 * rows + pattern[rows % 4]
    out = seasonal_drift(series[None, :24, None], 10, 4)[0, :, 0]
    np.testing.assert_allclose(out, series[24:], atol=1e-9)
    line = 5.0 - 0.25 * rows
    np.testing.assert_allclose(seasonal_drift(line[None, :24, None], 10, 1)[0, :, 0], line[24:],
                               atol=1e-9)  # fmt: skip
    flat = np.tile(pattern, 6)
    np.testing.assert_allclose(seasonal_drift(flat[None, :, None], 10, 4)[0, :, 0],
                               np.tile(pattern, 3)[:10], atol=1e-12)  # fmt: skip
    # A season longer than half the window: the last season repeated without drift.
    np.testing.assert_allclose(seasonal_drift(series[None, :6, None], 6, 4)[0, :, 0],
                               np.tile(series[2:6], 2)[:6], atol=1e-12)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.integers(1, 30), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_the_equal_weight_baseline_is_the_mean_of_its_two_members(
    lookback: int, horizon: int, season: int, seed: int
) -> None:
    from forecaster.blend import seasonal_drift

    rng = np.random.default_rng(seed)
    contexts = rng.normal(size=(3, lookback, 2))
    parameters = ((0.3, 0.1, 0.9), (0.8, 0.0, 0.8))
    mixed = baseline_forecast("damped_trend_seasonal_drift", contexts, lookback, horizon, 2,
                              season, parameters)  # fmt: skip
    damped = baseline_forecast("damped_trend", contexts, lookback, horizon, 2, season, parameters)
    np.testing.assert_allclose(mixed, 0.5 * (damped + seasonal_drift(contexts, horizon, season)),
                               atol=1e-12)  # fmt: skip
    stored = Blend("damped_trend_seasonal_drift", 1 / 3, parameters)
    assert Blend.from_dict(stored.to_dict()) == stored
    with pytest.raises(ValueError):
        Blend.from_dict({"baseline": "damped_trend_seasonal_drift", "weight": 1 / 3})


def _short_monthly(tmp_path: Path, rows: int = 84) -> Path:
    """Monthly sales whose season grows with a trend, as short as a newcomer's file: the
    default lookback (24 months) holds 2 seasons, fewer than a profile is estimated from."""
    rng = np.random.default_rng(3)
    t = np.arange(rows)
    season = np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0, -1.0, 6.0])
    values = 50 + 0.3 * t + season[t % 12] * (1 + t / rows) + rng.normal(0, 0.3, rows)
    frame = pd.DataFrame({"month": pd.date_range("2010-01-01", periods=rows, freq="MS"),
                          "sales": values})  # fmt: skip
    data = tmp_path / "monthly.csv"
    frame.to_csv(data, index=False)
    return data


def test_a_lookback_shorter_than_three_seasons_gives_the_baseline_three(tmp_path: Path) -> None:
    """The blend's smoothing reads 3 seasons where the networks' lookback holds 2, and every
    path gives the same forecast: from the stored history, from DATA, and the backtest."""
    data = _short_monthly(tmp_path)
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "6", *FAST])
    assert result.exit_code == 0, result.stderr
    loaded = artifact.load(model)
    assert loaded.model_config.lookback == 24
    assert loaded.blend is not None and loaded.blend.baseline == "damped_trend_seasonal_drift"
    assert loaded.blend.rows == 36
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["training"]["blend"]["rows"] == 36
    shown = " ".join(invoke(["info", str(model)]).stdout.split())
    assert "the smoothing reads the last 36 rows" in shown
    stored = _predicted_from(model)
    np.testing.assert_allclose(stored, _predicted_from(model, data), rtol=1e-6)
    # the 12th month's peak (index 11) is forecast: the season is not smoothed away
    assert int(np.argmax(stored)) == 5  # the 6 months after the 84th (December) run Jan..Jun
    two_seasons = dataclasses.replace(loaded, blend=dataclasses.replace(loaded.blend, rows=None))
    narrow = tmp_path / "narrow.fcst"
    artifact.save(two_seasons, narrow)  # as a file without "rows" forecasts: from 24 rows
    assert not np.allclose(_predicted_from(narrow), stored)


def _predicted_from(path: Path, data: Path | None = None) -> np.ndarray:
    """`predict`'s forecast of the sales, from DATA or (None) the stored history."""
    result = invoke(["predict", "-m", str(path), *([str(data)] if data else [])])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout))["sales"].to_numpy()


def test_a_history_shorter_than_the_baseline_reads_is_padded_alike(tmp_path: Path) -> None:
    """30 months: fewer than the 36 the smoothing reads; the stored history and DATA are
    padded with the first row alike, so both forecasts agree."""
    data = _short_monthly(tmp_path, rows=40)
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "6", *FAST])
    assert result.exit_code == 0, result.stderr
    loaded = artifact.load(model)
    assert loaded.blend is not None and loaded.blend.rows == 36
    np.testing.assert_allclose(_predicted_from(model), _predicted_from(model, data), rtol=1e-6)


def test_the_smoothing_reads_its_season_from_three_seasons_of_rows() -> None:
    """A seasonal window of 36 rows gets its profile back in the forecast; the same series'
    last 24 rows (2 seasons) get none: the forecast is a damped line."""
    season = 12
    pattern = np.sin(2 * np.pi * np.arange(season) / season) * 3.0
    values = np.tile(pattern, 3)[None, :, None]  # (1, 36, 1)
    parameters = ((0.3, 0.0, 0.98),)
    wide = baseline_forecast("damped_trend", values, 36, 12, 1, season, parameters, (True,))
    narrow = baseline_forecast("damped_trend", values[:, 12:], 24, 12, 1, season, parameters,
                               (True,))  # fmt: skip
    np.testing.assert_allclose(wide[0, :, 0], pattern, atol=1e-6)
    steps = np.diff(narrow[0, :, 0])
    assert (steps < 0).all() or (steps > 0).all()
    assert np.abs(narrow[0, :, 0] - pattern).max() > 2.0


def test_stored_rows_of_a_blend_are_checked() -> None:
    smoothing = {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.5, 0.1, 0.9]]}
    blend = Blend.from_dict({**smoothing, "rows": 36})
    assert blend.rows == 36 and Blend.from_dict(blend.to_dict()) == blend
    for rows in (1, 36.0, True, "36", None):
        with pytest.raises(ValueError):
            Blend.from_dict({**smoothing, "rows": rows})
    with pytest.raises(ValueError):  # naive reads the last row: no rows of its own
        Blend.from_dict({"baseline": "naive", "weight": 0.5, "rows": 36})


def test_apply_refuses_windows_narrower_than_the_blend_reads() -> None:
    class Stub:
        model_config = type("C", (), {"lookback": 3, "n_targets": 1})()
        freq = "MS"
        schema = type("S", (), {"session": None})()

    blend = Blend("damped_trend", 0.5, ((0.5, 0.0, 0.9),), (True,), rows=36)
    forecast = np.zeros((1, 2, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="reads 36 rows"):
        apply(blend, forecast, np.ones((1, 3, 1)), Stub())  # type: ignore[arg-type]


def test_an_edited_blend_rows_is_refused(tmp_path: Path) -> None:
    from tests.test_model_tamper import assert_refused, put, tamper

    data = _short_monthly(tmp_path)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "6", *FAST]).exit_code == 0
    assert artifact.load(model).blend.rows == 36  # type: ignore[union-attr]
    for rows in (1, 36.5, "36"):
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(model.read_bytes(), "new", meta=put("blend.rows", rows)))
        assert_refused(bad, ["model metadata blend is"], tmp_path)
