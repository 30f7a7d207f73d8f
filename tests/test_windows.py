"""Splitting, scaling and windowing: the scaler never sees validation rows; windows are views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from hypothesis import given
from hypothesis import strategies as st

from forecaster.data import Panel, Schema
from forecaster.windows import (
    context_windows,
    fit_scaler,
    make_windows,
    resolve_lookback,
    split_series,
)


def make_panel(lengths: list[int], seed: int = 0) -> Panel:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(sum(lengths), 2)) * 3 + 7
    return Panel(
        ids=[f"s{i}" for i in range(len(lengths))],
        starts=[pd.Timestamp("2021-01-01")] * len(lengths),
        offsets=np.concatenate([[0], np.cumsum(lengths)]),
        values=values,
        freq="D",
        schema=Schema(time="ds", targets=["a", "b"], id="unique_id"),
    )


def test_split_keeps_validation_at_the_end() -> None:
    split = split_series(np.array([100, 30, 10]), horizon=5, lookback=10, val_fraction=0.2)
    # max(horizon, 20%) at the end; a series that would keep no full training window
    # (10 - 5 < lookback + horizon) gives up validation instead.
    assert split.n_val.tolist() == [20, 6, 0]
    assert split.n_train.tolist() == [80, 24, 10]


def test_scaler_never_sees_validation_rows() -> None:
    panel = make_panel([100, 60])
    split = split_series(panel.lengths, horizon=5, lookback=10, val_fraction=0.25)
    before = fit_scaler(panel, split)
    # Change every validation row wildly: the fitted scaler must not move.
    for i in range(panel.n_series):
        start = panel.offsets[i] + split.n_train[i]
        panel.values[start : panel.offsets[i + 1]] = 1e9
    after = fit_scaler(panel, split)
    np.testing.assert_array_equal(before.mean, after.mean)
    np.testing.assert_array_equal(before.std, after.std)
    # And it equals the plain statistics of the training rows.
    train_rows = panel.series(0)[: split.n_train[0]]
    np.testing.assert_allclose(before.mean[0], train_rows.mean(axis=0))
    np.testing.assert_allclose(before.std[0], train_rows.std(axis=0))


def test_constant_series_scales_without_dividing_by_zero() -> None:
    panel = make_panel([50])
    panel.values[:, 0] = 42.0
    scaler = fit_scaler(panel, split_series(panel.lengths, 5, 10, 0.2))
    assert scaler.std[0, 0] == 1.0
    assert np.isfinite(scaler.transform(panel.series(0), 0)).all()


def test_windows_index_one_array_and_match_the_series() -> None:
    panel = make_panel([100, 8])
    lookback, horizon = 10, 5
    split = split_series(panel.lengths, horizon, lookback, 0.2)
    scaler = fit_scaler(panel, split)
    windows = make_windows(panel, scaler, split, lookback, horizon)
    # One contiguous array: the scaled rows plus left padding for the short series only.
    assert windows.series.shape == (100 + 8 + (lookback + horizon - 8), 2)
    starts = windows.train_starts
    assert int(starts.max()) + lookback + horizon <= len(windows.series)
    context, target = windows.gather(starts[:1])
    expected = scaler.transform(panel.series(0)[: lookback + horizon], 0)
    torch.testing.assert_close(context[0], torch.from_numpy(expected[:lookback]).float())
    torch.testing.assert_close(target[0], torch.from_numpy(expected[lookback:]).float())
    # Training targets never reach into validation rows; validation targets lie inside them.
    n_train = int(split.n_train[0])
    train_ends = starts[starts < 100] + lookback + horizon
    assert int(train_ends.max()) == n_train
    val_origins = windows.val_starts + lookback
    assert int(val_origins.min()) == n_train
    assert int((val_origins + horizon).max()) == 100


def test_a_shorter_context_has_the_earlier_windows_too() -> None:
    """train_origins(l): every origin with l real rows before it, plus the padded series' one."""
    panel = make_panel([100, 12, 30])
    lookback, horizon = 10, 5
    split = split_series(panel.lengths, horizon, lookback, 0.2)
    windows = make_windows(panel, fit_scaler(panel, split), split, lookback, horizon)
    full = windows.train_starts + lookback
    assert torch.equal(windows.train_origins(lookback), full)
    n_train = split.n_train.tolist()
    assert n_train == [80, 12, 24]  # the 12-row series gives up validation and is padded
    pad = lookback + horizon - 12  # rows before the second series, whose data starts at 100 + pad
    for rows in (1, 4, 10):
        first = [0, 100, 100 + pad + 12]  # where each series begins in the padded array
        expected = np.concatenate(
            [
                np.arange(first[0] + rows, first[0] + 80 - horizon + 1),
                # padded: its one full window, and the real ones when 12 rows allow them
                np.arange(min(first[1] + pad + rows, first[1] + lookback), first[1] + pad + 8),
                np.arange(first[2] + rows, first[2] + 24 - horizon + 1),
            ]
        )
        origins = windows.train_origins(rows)
        assert origins.tolist() == expected.tolist()
        assert set(full.tolist()) <= set(origins.tolist())
        # A window's last `rows` context rows are the series' own rows, its target too.
        context, target = windows.gather_rows(origins - rows, rows)
        torch.testing.assert_close(context[:, -1], windows.series[origins - 1])
        torch.testing.assert_close(target[:, 0], windows.series[origins])


def test_context_windows_pad_short_history() -> None:
    panel = make_panel([3])
    scaler = fit_scaler(panel, split_series(panel.lengths, 1, 2, 0.0))
    contexts = context_windows(panel, scaler, lookback=5)
    scaled = scaler.transform(panel.series(0), 0)
    np.testing.assert_allclose(contexts[0, 2:], scaled, rtol=1e-6)
    np.testing.assert_allclose(contexts[0, :2], np.repeat(scaled[:1], 2, axis=0), rtol=1e-6)


def test_default_lookback_shrinks_to_fit_short_data() -> None:
    assert resolve_lookback(None, 96, np.array([1000]), 48, 0.2) == (96, None)
    lookback, note = resolve_lookback(None, 96, np.array([150]), 48, 0.2)
    assert lookback == 150 - 48 - 48 and note is not None
    assert resolve_lookback(30, 96, np.array([150]), 48, 0.2) == (30, None)


def test_segment_choice() -> None:
    from forecaster.sizing import resolve_segment

    assert resolve_segment(0, 96, 24) == (24, 96)  # four daily cycles: one day per step
    assert resolve_segment(0, 16, 12) == (1, 16)  # under four cycles, 16 rows: step by step
    assert resolve_segment(0, 36, 12) == (3, 36)  # 36 rows: 3 per step, 12 steps
    assert resolve_segment(0, 104, 52) == (7, 98)  # weekly: 14 steps of 7 weeks
    assert resolve_segment(0, 168, 24) == (24, 168)  # a week of hours: 7 days
    assert resolve_segment(0, 1440, 24) == (96, 1440)  # 60 days: 15 steps of 4 days
    assert resolve_segment(7, 30, 12) == (7, 28)  # a given segment rounds the lookback down
    assert resolve_segment(50, 30, 12) == (1, 30)


@given(lookback=st.integers(1, 5000), season=st.integers(1, 400))
def test_an_automatic_segment_keeps_the_lstm_short_and_most_of_the_window(
    lookback: int, season: int
) -> None:
    from forecaster.sizing import MAX_LSTM_STEPS, resolve_segment

    segment, rows = resolve_segment(0, lookback, season)
    assert 1 <= segment <= lookback and rows % segment == 0
    assert rows // segment <= MAX_LSTM_STEPS
    assert lookback - segment < rows <= lookback  # only the remainder is dropped
    if season > 1 and lookback >= 4 * season:
        assert segment % season == 0  # whole cycles per step
