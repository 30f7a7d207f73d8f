"""Metrics against scikit-learn and hand-worked values; baselines by construction."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error

from forecaster.metrics import evaluate, mase_scale, naive, score, seasonal_naive


def test_point_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    actual = rng.uniform(1, 10, size=(4, 6))
    forecast = actual + rng.normal(size=(4, 6))
    got = score(forecast, actual, scale=np.ones(4)).values
    assert got["mae"] == pytest.approx(mean_absolute_error(actual.ravel(), forecast.ravel()))
    assert got["rmse"] == pytest.approx(
        np.sqrt(mean_squared_error(actual.ravel(), forecast.ravel()))
    )
    assert got["mape"] == pytest.approx(
        100 * mean_absolute_percentage_error(actual.ravel(), forecast.ravel())
    )
    assert got["mase"] == pytest.approx(got["mae"])  # scale 1


def test_mape_skips_zero_actuals_and_smape_by_hand() -> None:
    actual = np.array([[0.0, 2.0, 4.0]])
    forecast = np.array([[1.0, 1.0, 4.0]])
    scores = score(forecast, actual, scale=np.array([0.5]))
    assert scores.mape_skipped == 1
    assert scores.values["mape"] == pytest.approx(100 * (0.5 + 0.0) / 2)
    # sMAPE: 200*|1-0|/1 = 200, 200*1/3, 0 -> mean
    assert scores.values["smape"] == pytest.approx((200 + 200 / 3 + 0) / 3)
    assert scores.values["mase"] == pytest.approx((2 / 3) / 0.5)


def test_baselines_and_mase_scale() -> None:
    history = [np.array([[1.0], [2.0], [3.0], [10.0], [20.0], [30.0]])]
    np.testing.assert_array_equal(naive(history, 2)[0, :, 0], [30.0, 30.0])
    np.testing.assert_array_equal(seasonal_naive(history, 4, 3)[0, :, 0], [10, 20, 30, 10])
    # seasonal differences with m=3: |10-1|, |20-2|, |30-3| -> mean 18
    assert mase_scale(history, 3)[0, 0] == pytest.approx(18.0)
    # a history shorter than a season falls back to lag 1
    assert mase_scale([np.array([[1.0], [4.0]])], 12)[0, 0] == pytest.approx(3.0)


def test_seasonal_naive_is_perfect_on_a_pure_cycle() -> None:
    cycle = np.tile([1.0, 5.0, 3.0, 8.0], 10)[:, None]
    cycle[:4] += 1.0  # one uneven first cycle, so the MASE scale is not zero
    history, actual = [cycle[:32]], cycle[32:][None]
    result = evaluate(actual.copy(), actual, history, ["y"], season=4, windows=1)
    report = result.to_dict()
    assert report["baselines"]["seasonal_naive"]["mae"] == 0.0
    assert report["baselines"]["naive"]["mae"] > 0
    assert report["metrics"]["mase"] == 0.0


def test_mase_leaves_out_forecasts_whose_history_has_no_variation() -> None:
    """A flat history has a seasonal-naive error of 0: its MASE would be infinite, so it is
    left out of the mean and counted, and with nothing else left MASE is undefined."""
    forecast = np.array([[1.0, 2.0], [5.0, 5.0]])
    actual = np.array([[2.0, 2.0], [4.0, 4.0]])
    scores = score(forecast, actual, np.array([2.0, 0.0]))
    assert scores.values["mase"] == pytest.approx(0.5 / 2.0)
    assert scores.mase_skipped == 1
    flat = score(forecast, actual, np.zeros(2))
    assert np.isnan(flat.values["mase"]) and flat.mase_skipped == 2
    assert "no variation" in flat.undefined()["mase"]
