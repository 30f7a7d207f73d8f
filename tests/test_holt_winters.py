"""Holt-Winters over a series' history (`holt_winters`), the blend's second smoothing:
exact forecasts of a repeated season and of a line, rows before a series' start that change
nothing, forecasts that scale with the data, fits that follow the series, and the stored
form of the blend that reads it; and the history windows it reads (`windows`), whose last
rows are the networks' contexts to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import holt_winters
from forecaster.blend import Blend, HoltWinters, baseline_forecast
from forecaster.windows import Scaler, context_windows, history_windows, network_part
from tests.test_linear import panel_of


def test_a_repeated_season_around_a_level_is_forecast_as_itself() -> None:
    pattern = np.array([4.0, -2.0, 1.0, -3.0, 0.0])
    values = 10.0 + np.tile(pattern, 9)[:43]  # ends part-way through a season
    for gamma in (0.0, 0.6):
        out = holt_winters.forecast(values[None, :], 7, 5, (0.3, 0.1, 0.9, gamma))[0]
        np.testing.assert_allclose(out, 10.0 + pattern[(43 + np.arange(7)) % 5], atol=1e-9)


def test_a_line_is_continued_exactly_without_damping() -> None:
    line = 2.0 + 0.5 * np.arange(40)
    out = holt_winters.forecast(line[None, :], 6, 1, (0.5, 0.3, 1.0, 0.0))
    np.testing.assert_allclose(out[0], 2.0 + 0.5 * np.arange(40, 46), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 6),  # season
    st.integers(0, 30),  # rows before the start
    st.integers(2, 60),  # real rows
    st.integers(0, 2**31 - 1),
)
def test_rows_before_a_series_start_change_nothing(
    season: int, missing: int, real: int, seed: int
) -> None:
    """NaN rows before a window's start (a series shorter than the history read) give the
    forecast of the real rows alone, whatever else is in the batch."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=real) + np.tile(rng.normal(size=season), real)[:real]
    other = rng.normal(size=missing + real)
    parameters = (0.4, 0.1, 0.9, 0.4)
    alone = holt_winters.forecast(values[None, :], 5, season, parameters)
    padded = np.concatenate([np.full(missing, np.nan), values])
    together = holt_winters.forecast(np.stack([padded, other]), 5, season, parameters)
    np.testing.assert_allclose(together[0], alone[0], rtol=1e-9, atol=1e-9)


def test_forecasts_are_equivariant_to_the_scale_the_blend_reads() -> None:
    rng = np.random.default_rng(4)
    raw = 50.0 + np.cumsum(rng.normal(size=(3, 48)), axis=1) + np.tile([3.0, 0, -3.0, 0], 12)
    parameters = (0.4, 0.2, 0.95, 0.4)
    on_scaled = holt_winters.forecast((raw - 50.0) / 7.0, 8, 4, parameters) * 7.0 + 50.0
    np.testing.assert_allclose(on_scaled, holt_winters.forecast(raw, 8, 4, parameters), atol=1e-9)


def test_the_fitted_parameters_follow_the_series() -> None:
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(size=400))  # a random walk: the last value is best
    assert holt_winters.fit([walk], 1)[0] == holt_winters.ALPHAS[-1]
    noise = rng.normal(size=400)  # noise around a level: smooth hard, no season
    alpha, beta, _, gamma = holt_winters.fit([noise], 1)
    assert (alpha, beta, gamma) == (holt_winters.ALPHAS[0], 0.0, 0.0)
    # A season that drifts (each index a random walk) needs a profile that moves faster than
    # a fixed season repeated around noise does (there only the start's noise is corrected).
    steps = np.arange(480)
    drifting = np.cumsum(rng.normal(0, 0.5, size=(40, 12)), axis=0).ravel()
    fixed = np.sin(2 * np.pi * steps / 12) * 3 + rng.normal(size=480)
    assert holt_winters.fit([drifting], 12)[3] > holt_winters.fit([fixed], 12)[3]


def test_a_window_without_a_finite_row_is_refused() -> None:
    with pytest.raises(ValueError, match="without a finite row"):
        holt_winters.forecast(np.full((1, 8), np.nan), 3, 2, (0.5, 0.1, 0.9, 0.2))


def test_large_batches_are_forecast_and_fitted_in_chunks_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(6)
    windows = 20.0 + np.cumsum(rng.normal(size=(50, 96)), axis=1) + np.tile([4.0, 0, -4.0], 32)
    windows[::3, :20] = np.nan
    series = [np.cumsum(rng.normal(size=int(n))) for n in rng.integers(40, 200, size=12)]
    whole = holt_winters.forecast(windows, 9, 3, (0.3, 0.1, 0.9, 0.4))
    fitted = holt_winters.fit(series, 3)
    monkeypatch.setattr(holt_winters, "CHUNK_ELEMENTS", 2000)
    np.testing.assert_array_equal(holt_winters.forecast(windows, 9, 3, (0.3, 0.1, 0.9, 0.4)), whole)
    assert holt_winters.fit(series, 3) == fitted


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=4),  # series lengths
    st.integers(1, 12),  # lookback
    st.integers(0, 20),  # extra rows of history
    st.integers(0, 2**31 - 1),
)
def test_the_networks_part_of_a_history_window_is_their_context_to_the_bit(
    lengths: list[int], lookback: int, extra: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    panel = panel_of(rng.normal(10, 3, size=(sum(lengths), 2)), lengths)
    scaler = Scaler(
        mean=rng.normal(size=(len(lengths), 2)), std=rng.uniform(1, 2, (len(lengths), 2))
    )
    series = rng.integers(0, len(lengths), size=6)
    ends = np.array([int(rng.integers(1, lengths[s] + 1)) for s in series])
    history = history_windows(panel, scaler, lookback + extra, series, ends)
    contexts = context_windows(panel, scaler, lookback, series, ends)
    part = network_part(history, lookback)
    assert part.dtype == contexts.dtype and part.shape == contexts.shape
    assert part.tobytes() == contexts.tobytes()
    real = np.isfinite(history[:, :, 0]).sum(axis=1)
    np.testing.assert_array_equal(real, np.minimum(ends, lookback + extra))


def _blend() -> Blend:
    return Blend("smoothings", 1 / 3, ((0.25, 0.1, 0.9),),
                 HoltWinters(((0.5, 0.0, 0.98, 0.4),), 120))  # fmt: skip


def test_a_smoothings_blend_round_trips() -> None:
    assert Blend.from_dict(_blend().to_dict()) == _blend()


@pytest.mark.parametrize(
    "edit",
    [
        {"rows": 0},
        {"rows": 12.5},
        {"rows": True},
        {"holt_winters": [[0.5, 0.0, 0.98]]},  # no gamma
        {"holt_winters": [[0.5, 0.0, 0.98, 1.5]]},
        {"holt_winters": [[0.5, 0.0, 0.98, 0.4], [0.5, 0.0, 0.98, 0.4]]},  # a target too many
        {"smoothing": [[0.5, 0.0, 0.98, 0.4]]},  # four for the damped trend
    ],
)
def test_a_smoothings_blend_the_module_would_not_write_is_refused(edit: dict[str, object]) -> None:
    stored = {**_blend().to_dict(), **edit}
    with pytest.raises(ValueError):
        Blend.from_dict(stored)
    missing = _blend().to_dict()
    del missing["rows"]
    with pytest.raises(ValueError):
        Blend.from_dict(missing)


def test_the_smoothings_baseline_is_the_mean_of_both() -> None:
    from forecaster import smoothing

    rng = np.random.default_rng(8)
    history = rng.normal(size=(3, 40, 1))
    history[0, :25] = np.nan  # a short series
    blend = _blend()
    out = baseline_forecast("smoothings", history, 16, 5, 1, 4, blend.smoothing, blend.holt_winters)
    window = network_part(history, 16)[:, :, 0]
    assert blend.smoothing is not None and blend.holt_winters is not None
    damped = smoothing.forecast(window, 5, 4, blend.smoothing[0])
    seasonal = holt_winters.forecast(history[:, :, 0], 5, 4, blend.holt_winters.parameters[0])
    np.testing.assert_allclose(out[:, :, 0], 0.5 * (damped + seasonal), atol=1e-12)
    with pytest.raises(ValueError):
        baseline_forecast("smoothings", history, 16, 5, 1, 4, blend.smoothing, None)
