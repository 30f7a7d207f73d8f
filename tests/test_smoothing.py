"""Damped-trend smoothing of a seasonally adjusted window (`smoothing`), the blend's
statistical baseline: its moving average against numpy's convolution, the profile it
recovers, exact forecasts of a line and of a repeated season, the parameters it fits on
series whose best parameters are known, and the stored form of a blend that uses it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import smoothing
from forecaster.blend import Blend, baseline_forecast


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 13), st.integers(0, 40), st.integers(0, 2**31 - 1))
def test_the_moving_average_is_the_classical_decompositions(
    season: int, extra: int, seed: int
) -> None:
    windows = np.random.default_rng(seed).normal(size=(3, 2 * season + 1 + extra))
    if season % 2:
        weights = np.ones(season) / season
    else:
        weights = np.r_[0.5, np.ones(season - 1), 0.5] / season
    expected = np.stack([np.convolve(row, weights, mode="valid") for row in windows])
    got = smoothing._centred_moving_average(windows, season)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_the_profile_of_a_seasonal_series_with_a_trend_is_its_season() -> None:
    rows = np.arange(120)
    pattern = np.array([3.0, -1.0, 0.5, -2.5])  # sums to 0
    values = 0.3 * rows + pattern[rows % 4] + np.random.default_rng(1).normal(0, 0.05, 120)
    profile = smoothing.seasonal_profile(values[None, :], 4)[0]
    # Index j belongs to the rows that fall j steps after the window's end, modulo 4.
    np.testing.assert_allclose(profile, pattern[(120 + np.arange(4)) % 4], atol=0.05)


def test_no_profile_without_seasonality_or_enough_seasons() -> None:
    noise = np.random.default_rng(2).normal(size=(1, 240))
    assert not smoothing.seasonal_profile(noise, 12).any()
    seasonal = np.tile([5.0, 0.0, -5.0, 0.0], 2)[None, :]  # 2 seasons: too few
    assert not smoothing.seasonal_profile(seasonal, 4).any()
    assert smoothing.seasonal_profile(np.tile(seasonal, 2), 4).any()


def test_a_line_is_continued_exactly_without_damping() -> None:
    line = 2.0 + 0.5 * np.arange(40)
    out = smoothing.forecast(line[None, :], 6, 1, (0.5, 0.3, 1.0))
    np.testing.assert_allclose(out[0], 2.0 + 0.5 * np.arange(40, 46), atol=1e-9)


def test_a_repeated_season_around_a_level_is_forecast_as_itself() -> None:
    pattern = np.array([4.0, -2.0, 1.0, -3.0, 0.0])
    values = 10.0 + np.tile(pattern, 8)
    out = smoothing.forecast(values[None, :], 7, 5, (0.3, 0.1, 0.9))
    np.testing.assert_allclose(out[0], 10.0 + pattern[np.arange(7) % 5], atol=1e-9)


def test_the_fitted_parameters_follow_the_series() -> None:
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(size=600))  # a random walk: the last value is best
    alpha, _, _ = smoothing.fit([walk], 1)
    assert alpha == smoothing.ALPHAS[-1]
    noise = rng.normal(size=600)  # noise around a level: smooth hard
    alpha, beta, _ = smoothing.fit([noise], 1)
    assert alpha == smoothing.ALPHAS[0] and beta == smoothing.BETAS[0]


def test_a_panels_fit_reads_at_most_the_sampled_series() -> None:
    assert len(smoothing.sampled(10)) == 10
    chosen = smoothing.sampled(1000)
    assert len(chosen) == smoothing.FIT_SERIES and chosen[0] == 0 and chosen[-1] == 999


def test_forecasts_are_equivariant_to_the_scale_the_blend_reads() -> None:
    """The blend forecasts on scaled inputs and scales back: the same as on the raw rows."""
    rng = np.random.default_rng(4)
    raw = 50.0 + np.cumsum(rng.normal(size=(3, 48)), axis=1) + np.tile([3.0, 0, -3.0, 0], 12)
    parameters = (0.4, 0.2, 0.95)
    scaled = (raw - 50.0) / 7.0
    on_scaled = smoothing.forecast(scaled, 8, 4, parameters) * 7.0 + 50.0
    np.testing.assert_allclose(on_scaled, smoothing.forecast(raw, 8, 4, parameters), atol=1e-9)


def test_the_blend_reads_each_targets_context_with_its_parameters() -> None:
    rng = np.random.default_rng(5)
    contexts = rng.normal(size=(4, 30, 3))  # 2 targets and a covariate
    parameters = ((0.2, 0.1, 0.9), (0.9, 0.0, 0.8))
    out = baseline_forecast("damped_trend", contexts, 24, 5, 2, 4, parameters)
    for c in range(2):
        expected = smoothing.forecast(contexts[:, :24, c], 5, 4, parameters[c])
        np.testing.assert_array_equal(out[:, :, c], expected)
    with pytest.raises(ValueError):
        baseline_forecast("damped_trend", contexts, 24, 5, 2, 4, parameters[:1])


@pytest.mark.parametrize(
    "value",
    [
        {"baseline": "damped_trend", "weight": 0.5},  # no parameters
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": []},
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.5, 0.1]]},
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.0, 0.1, 0.9]]},
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.5, 0.1, 1.5]]},
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.5, True, 0.9]]},
        {"baseline": "naive", "weight": 0.5, "smoothing": [[0.5, 0.1, 0.9]]},
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.5, 0.1, 0.9]],
         "seasonal": [1]},
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.5, 0.1, 0.9]],
         "seasonal": [True, False]},
        {"baseline": "damped_trend", "weight": 0.5, "smoothing": [[0.5, 0.1, 0.9]],
         "seasonal": True},
        {"baseline": "naive", "weight": 0.5, "seasonal": [True]},
    ],
)  # fmt: skip
def test_a_damped_blend_the_module_would_not_write_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        Blend.from_dict(value)


def test_a_damped_blend_round_trips() -> None:
    blend = Blend("damped_trend", 0.5, ((0.25, 0.1, 0.9), (1.0, 0.0, 0.8)))
    assert Blend.from_dict(blend.to_dict()) == blend
    assert "smoothing" not in Blend("naive", 0.25).to_dict()  # older files' form unchanged
    known = Blend("damped_trend", 0.5, ((0.25, 0.1, 0.9), (1.0, 0.0, 0.8)), (True, False))
    assert Blend.from_dict(known.to_dict()) == known
    # No season known anywhere is written as files before the decision was stored.
    unknown = Blend("damped_trend", 0.5, ((0.25, 0.1, 0.9),), (False,))
    assert "seasonal" not in unknown.to_dict()
    assert Blend.from_dict(unknown.to_dict()).seasonal is None


def short_quarterly(seed: int = 0) -> np.ndarray:
    """80 quarters: a trend, a season of amplitude 3 and noise of 2. The whole series shows
    the season; its last 16 rows alone do not (checked where used)."""
    rng = np.random.default_rng(seed)
    t = np.arange(80)
    return 100 + 0.2 * t + 3.0 * np.tile([1.0, -0.5, 0.8, -1.3], 20) + rng.normal(0, 2.0, 80)


def test_a_season_the_training_rows_show_is_taken_out_of_windows_too_short_to_show_it() -> None:
    series = short_quarterly()
    window = series[-16:][None, :]
    assert not smoothing._seasonal(window, 4)[0]  # the window's own test misses it
    assert smoothing.seasonal_rows([series[:64]], 4)
    assert not smoothing.seasonal_profile(window, 4).any()
    known = smoothing.seasonal_profile(window, 4, known=True)
    assert known.any()
    # The profile a window gets when the season is known is the one the classical
    # decomposition gives it (as for a window that shows the season itself).
    trend = smoothing._centred_moving_average(window, 4)
    detrended = window[:, 2:-2] - trend
    phase = (np.arange(2, 14) - 16) % 4
    indices = np.array([detrended[0, phase == j].mean() for j in range(4)])
    np.testing.assert_allclose(known[0], indices - indices.mean(), atol=1e-12)
    params = (0.5, 0.1, 0.9)
    unadjusted = smoothing.forecast(window, 8, 4, params)
    adjusted = smoothing.forecast(window, 8, 4, params, known=True)
    np.testing.assert_allclose(adjusted - known[0, np.arange(8) % 4],
                               smoothing.forecast(window - known[0, np.arange(16) % 4], 8, 4,
                                                  params),
                               atol=1e-9)  # fmt: skip
    assert not np.allclose(unadjusted, adjusted)


def test_no_season_is_known_from_noise_a_line_or_too_few_rows() -> None:
    rng = np.random.default_rng(1)
    assert not smoothing.seasonal_rows([rng.normal(size=200)], 4)
    assert not smoothing.seasonal_rows([np.arange(200.0)], 1)  # no season to know
    assert not smoothing.seasonal_rows([short_quarterly()[:11]], 4)  # under 3 seasons
    # A panel: at least half of the series with enough rows decide.
    seasonal = [short_quarterly(seed) for seed in range(3)]
    noise = [rng.normal(size=80) for _ in range(4)]
    assert smoothing.seasonal_rows(seasonal + noise[:3], 4)
    assert not smoothing.seasonal_rows(seasonal + noise, 4)


def test_a_large_panel_is_forecast_and_fitted_in_chunks_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(6)
    windows = 20.0 + np.cumsum(rng.normal(size=(50, 96)), axis=1) + np.tile([4.0, 0, -4.0], 32)
    series = [np.cumsum(rng.normal(size=int(n))) for n in rng.integers(40, 300, size=20)]
    whole = smoothing.forecast(windows, 9, 3, (0.3, 0.1, 0.9))
    fitted = smoothing.fit(series, 3)
    monkeypatch.setattr(smoothing, "CHUNK_ELEMENTS", 2000)  # a few windows, or 1 series
    np.testing.assert_array_equal(smoothing.forecast(windows, 9, 3, (0.3, 0.1, 0.9)), whole)
    assert smoothing.fit(series, 3) == fitted
