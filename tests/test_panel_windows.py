"""The window-and-scaling layer train, predict, evaluate and calibration share: the history
before an origin, the actuals after it, a model's known series, and the z-score's floor.

Checked against slices written out by hand, so that a shift of one row (a window that reads
its own first actual, or is scored one step late) fails here before it hides in a score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster.data import Panel, Schema
from forecaster.windows import (
    Scaler,
    context_windows,
    fit_covariate_scaler,
    fit_scaler,
    floor_spread,
    row_statistics,
    scale_contexts,
    split_series,
)


def two_series() -> Panel:
    """s0: rows 0..9 hold (0, 100) .. (9, 109); s1: rows 0..5 hold (20, 120) .. (25, 125)."""
    first = np.stack([np.arange(10.0), 100 + np.arange(10.0)], axis=1)
    second = np.stack([20 + np.arange(6.0), 120 + np.arange(6.0)], axis=1)
    return Panel(
        ids=["s0", "s1"],
        starts=[pd.Timestamp("2021-01-01")] * 2,
        offsets=np.array([0, 10, 16]),
        values=np.concatenate([first, second]),
        freq="D",
        schema=Schema(time="ds", targets=["a", "b"], id="unique_id"),
    )


def test_history_is_every_row_before_the_origin() -> None:
    panel = two_series()
    np.testing.assert_array_equal(panel.history(0, 3), [[0, 100], [1, 101], [2, 102]])
    np.testing.assert_array_equal(panel.history(1, 2), [[20, 120], [21, 121]])
    assert panel.history(1, 0).shape == (0, 2)
    # A view, not a copy: the layer never duplicates a series' rows.
    assert np.shares_memory(panel.history(0, 5), panel.values)
    several = panel.histories(np.array([1, 0]), np.array([6, 1]))
    assert [h.shape for h in several] == [(6, 2), (1, 2)]
    np.testing.assert_array_equal(several[0][:, 0], [20, 21, 22, 23, 24, 25])
    np.testing.assert_array_equal(several[1], [[0, 100]])


def test_actuals_are_the_horizon_from_the_origin_on() -> None:
    panel = two_series()
    actuals = panel.actuals(np.array([0, 1, 0]), np.array([7, 3, 0]), 3)
    assert actuals.shape == (3, 3, 2)
    np.testing.assert_array_equal(actuals[0, :, 0], [7, 8, 9])
    np.testing.assert_array_equal(actuals[1, :, 1], [123, 124, 125])
    np.testing.assert_array_equal(actuals[2, :, 0], [0, 1, 2])
    # History and actuals meet at the origin: the last row read is the one before the first
    # row scored.
    assert panel.history(0, 7)[-1, 0] + 1 == actuals[0, 0, 0]


def test_positions_find_a_models_series_and_mark_new_ones() -> None:
    panel = two_series()
    model_ids = ["x", "s1", "y", "s0"]
    assert panel.positions(model_ids).tolist() == [3, 1]
    assert panel.positions(model_ids, np.array([1, 1, 0])).tolist() == [1, 1, 3]
    assert panel.positions(["other"]).tolist() == [-1, -1]
    assert panel.positions(model_ids, np.array([], dtype=np.int64)).dtype == np.int64


def test_spread_floor_is_relative_to_the_level() -> None:
    mean = np.array([0.0, 1e6, 1e6, 5.0, np.nan])
    spread = np.array([0.0, 1e-7, 1e-5, 2.0, 1.0])
    # 1e-7 is below 1e-12 of 1e6 and 1e-5 is above it; a zero spread of a zero level and a
    # spread beside an unknown level both become 1.
    np.testing.assert_array_equal(floor_spread(mean, spread), [1.0, 1.0, 1e-5, 2.0, 1.0])
    assert float(floor_spread(np.float64(3.0), np.float64(0.5))) == 0.5


def test_row_statistics_are_the_plain_ones_floored() -> None:
    rows = np.array([[1.0, 4.0], [3.0, 4.0], [5.0, 4.0]])
    mean, std = row_statistics(rows)
    np.testing.assert_array_equal(mean, [3.0, 4.0])
    assert std[0] == np.sqrt(8 / 3)
    assert std[1] == 1.0  # the constant column


def test_training_scaler_and_window_statistics_agree_on_one_series() -> None:
    """`fit_scaler` (bincounts over all series at once) and `row_statistics` (one window's
    rows) give the statistics of the same rows."""
    panel = two_series()
    split = split_series(panel.lengths, horizon=2, lookback=3, val_fraction=0.0)
    scaler = fit_scaler(panel, split)
    for s in range(panel.n_series):
        mean, std = row_statistics(panel.history(s, int(split.n_train[s])))
        np.testing.assert_allclose(scaler.mean[s], mean, rtol=1e-12)
        np.testing.assert_allclose(scaler.std[s], std, rtol=1e-12)


def test_a_constant_covariate_channel_is_not_divided_by_zero() -> None:
    panel = two_series()
    schema = Schema(time="ds", targets=["a", "b"], id="unique_id", past=["p", "q"])
    rows = len(panel.values)
    covariates = np.stack([np.full(rows, 3.0), np.arange(rows, dtype=np.float64)], axis=1)
    panel = Panel(panel.ids, panel.starts, panel.offsets, panel.values, "D", schema,
                  covariates=covariates)  # fmt: skip
    split = split_series(panel.lengths, horizon=2, lookback=3, val_fraction=0.0)
    scaler = fit_covariate_scaler(panel, split)
    assert scaler is not None
    assert scaler.mean[0] == 3.0 and scaler.std[0] == 1.0
    assert scaler.std[1] == np.arange(rows, dtype=np.float64).std()


def test_context_windows_are_the_rows_before_each_origin_scaled() -> None:
    panel = two_series()
    scaler = Scaler(mean=np.array([[1.0, 2.0], [3.0, 4.0]]), std=np.array([[2.0, 4.0], [1.0, 8.0]]))
    contexts = context_windows(panel, scaler, 3, np.array([0, 1]), np.array([5, 2]),
                               dtype=np.float64)  # fmt: skip
    # Series 0 before row 5: rows 2, 3, 4. Series 1 before row 2: rows 0, 1, left-padded
    # with its first row.
    np.testing.assert_array_equal(contexts[0, :, 0], (np.array([2, 3, 4]) - 1.0) / 2.0)
    np.testing.assert_array_equal(contexts[1, :, 1], (np.array([120, 120, 121]) - 4.0) / 8.0)
    # The same windows cut by hand and scaled by `scale_contexts` (the path of the contexts
    # a model stores) are the same bits.
    raw = np.stack([panel.history(0, 5)[-3:], panel.history(1, 2)[[0, 0, 1]]])
    again = scale_contexts(raw, scaler.mean, scaler.std, np.float64)
    np.testing.assert_array_equal(again, contexts)
    assert scale_contexts(raw, scaler.mean, scaler.std).dtype == np.float32


@pytest.mark.parametrize("origin", [1, 4, 7])
def test_history_never_reaches_the_actuals(origin: int) -> None:
    panel = two_series()
    seen = panel.history(0, origin)
    scored = panel.actuals(np.array([0]), np.array([origin]), 3)
    assert len(seen) == origin
    assert not set(seen[:, 0]) & set(scored[0, :, 0])
    assert seen[-1, 0] + 1 == scored[0, 0, 0]
