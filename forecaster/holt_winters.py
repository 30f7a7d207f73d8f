"""Damped-trend Holt-Winters (additive seasonality) over a series' history: the statistical
forecast the blend mixes with the networks' (`blend`).

Why this one, and why the whole history: the blend's first smoothing (`smoothing`,
damped-trend smoothing of a classically deseasonalised window) reads only the rows the
networks read and takes its seasonal profile from them as a fixed average: noisy from three
or four seasons, out of date from many where the season drifts (electricity demand, wine
sales). Holt-Winters keeps the profile as state, updated every season at a rate fitted to
the data, so it can read all the history there is without freezing an old season. On the
real-world suite's four short seasonal series (benchmarks/README.md, "Holt-Winters over the
history"), alone it scores a geometric mean of the MASE ratio of 0.854 against the window
smoothing's 0.921, and the two are different enough that their mean with the networks
(0.862) beats the networks with either alone (0.899 with the window smoothing).

The four parameters are fitted once on the training rows, by the one-step squared error over
a grid (pooled over a panel's series, each z-scored), as `smoothing` fits its three. A
forecast reads the window it is given (N, R) whose leading rows may be NaN: rows before a
series' start. Each row starts from the least-squares line and classical seasonal profile of
its first seasons and is smoothed from there. Every operation is affine in the data, so
forecasts on z-scored rows scale back to the forecasts of the raw rows.
"""

from __future__ import annotations

import numpy as np

from forecaster.smoothing import (
    ALPHAS,
    BETAS,
    CHUNK_ELEMENTS,
    FIT_ROWS,
    MIN_SEASONS,
    PHIS,
    init_rows,
    initial_state,
    sampled,
    seasonal_profile,
)

# The seasonal state's rate, as a share of what the level leaves (Hyndman et al.'s
# gamma* = gamma (1 - alpha)): from a fixed profile (0) to one that moves as fast as the
# level allows (1), evenly.
GAMMAS = np.linspace(0.0, 1.0, 6)

Parameters = tuple[float, float, float, float]  # alpha, beta, phi, gamma


def _start_state(
    values: np.ndarray, start: np.ndarray, season: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level, trend (N,) and seasonal ring (N, season) before column ``start[n]`` of each
    row of ``values`` (N, T): the ring's column ``t % season`` is the index of column t.
    Drawn from the row's first `MIN_SEASONS` seasons (a classical profile where they show a
    significant season, else none) and the line through them, seasonally adjusted."""
    count, width = values.shape
    level, trend = np.zeros(count), np.zeros(count)
    ring = np.zeros((count, max(season, 1)))
    for first in np.unique(start):
        rows = np.flatnonzero(start == first)
        real = width - int(first)
        if real <= 0:
            continue
        taken = min(real, MIN_SEASONS * season) if season > 1 else min(real, init_rows(season))
        segment = values[rows, first : first + taken]
        profile = seasonal_profile(segment, season)  # index j: (r - taken) % season == j
        columns = np.arange(first, first + max(season, 1))
        phase = (columns - first - taken) % max(season, 1)
        ring[np.ix_(rows, columns % max(season, 1))] = profile[:, phase]
        adjusted = segment - profile[:, (np.arange(taken) - taken) % max(season, 1)]
        level[rows], trend[rows] = initial_state(adjusted, init_rows(season))
    return level, trend, ring


def _smooth(
    values: np.ndarray,
    parameters: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    start: np.ndarray,
    season: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Holt-Winters over each row of ``values`` (N, T) from its column ``start`` (N,) on,
    with its own parameters ((N,) each): the one-step squared error summed, and the final
    level, trend (N,) and seasonal ring (N, season)."""
    alpha, beta, phi, gamma = parameters
    level, trend, ring = _start_state(values, start, season)
    width = ring.shape[1]
    columns = np.ascontiguousarray(values.T)
    error_sum = np.zeros(len(values))
    gain = gamma * (1.0 - alpha)
    staggered = bool(start.any())
    for t in range(values.shape[1]):
        k = t % width
        expected = level + phi * trend
        error = columns[t] - expected - ring[:, k]
        new_level, new_trend = expected + alpha * error, phi * trend + beta * alpha * error
        new_index = ring[:, k] + gain * error
        if staggered:  # rows that have not started keep their state and add no error
            active = t >= start
            error = np.where(active, error, 0.0)
            new_level = np.where(active, new_level, level)
            new_trend = np.where(active, new_trend, trend)
            new_index = np.where(active, new_index, ring[:, k])
        error_sum += error * error
        level, trend = new_level, new_trend
        ring[:, k] = new_index
    return error_sum, level, trend, ring


def _starts(values: np.ndarray) -> np.ndarray:
    """Each row's first finite column (the row's width when it has none)."""
    finite = np.isfinite(values)
    first: np.ndarray = np.where(finite.any(axis=1), finite.argmax(axis=1), values.shape[1])
    return first.astype(np.int64)


def fit(training: list[np.ndarray], season: int) -> Parameters:
    """The grid's parameters of the lowest one-step squared error over ``training`` (each a
    series' training rows of one target, z-scored; at most `FIT_ROWS` of the latest read)."""
    rows = [np.asarray(t, dtype=np.float64)[-FIT_ROWS:] for t in training]
    rows = [rows[i] for i in sampled(len(rows)) if len(rows[i]) >= 3]
    if not rows:
        return float(ALPHAS[-1]), 0.0, float(PHIS[0]), 0.0
    longest = max(len(r) for r in rows)
    padded = np.full((len(rows), longest), np.nan)
    for i, r in enumerate(rows):
        padded[i, longest - len(r) :] = r
    start = _starts(padded)
    gammas = GAMMAS if season > 1 else GAMMAS[:1]
    alpha, beta, phi, gamma = (
        g.ravel() for g in np.meshgrid(ALPHAS, BETAS, PHIS, gammas, indexing="ij")
    )
    grid = len(alpha)
    errors = np.zeros(grid)
    # Series against every grid point at once, (series x grid, T), a group of series at a
    # time; the seasonal ring counts too.
    group = max(1, CHUNK_ELEMENTS // (grid * (longest + max(season, 1))))
    for first in range(0, len(rows), group):
        part = slice(first, first + group)
        count = len(padded[part])
        squared, _, _, _ = _smooth(
            np.repeat(padded[part], grid, axis=0),
            (np.tile(alpha, count), np.tile(beta, count), np.tile(phi, count),
             np.tile(gamma, count)),
            np.repeat(start[part], grid),
            season,
        )  # fmt: skip
        errors += squared.reshape(count, grid).sum(axis=0)
    best = int(np.argmin(errors))
    return float(alpha[best]), float(beta[best]), float(phi[best]), float(gamma[best])


def forecast(windows: np.ndarray, horizon: int, season: int, parameters: Parameters) -> np.ndarray:
    """Each window's (N, R) forecast (N, H): Holt-Winters over its finite rows (leading NaN
    rows are before the series' start), a chunk of windows at a time."""
    windows = np.asarray(windows, dtype=np.float64)
    width = windows.shape[1] + max(season, 1)
    chunk = max(1, CHUNK_ELEMENTS // (2 * width))
    if len(windows) > chunk:
        parts = [forecast(windows[i : i + chunk], horizon, season, parameters)
                 for i in range(0, len(windows), chunk)]  # fmt: skip
        return np.concatenate(parts)
    count = len(windows)
    start = _starts(windows)
    if (start >= windows.shape[1]).any():
        raise ValueError("a window without a finite row")
    arrays = tuple(np.full(count, p) for p in parameters)
    _, level, trend, ring = _smooth(windows, (arrays[0], arrays[1], arrays[2], arrays[3]),
                                    start, season)  # fmt: skip
    damping = np.cumsum(parameters[2] ** np.arange(1, horizon + 1))
    steps = (windows.shape[1] + np.arange(horizon)) % ring.shape[1]
    out: np.ndarray = level[:, None] + trend[:, None] * damping[None, :] + ring[:, steps]
    return out
