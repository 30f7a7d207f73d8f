"""Damped-trend exponential smoothing of a seasonally adjusted window: the statistical
forecast the blend may mix with the networks' (`blend`).

Why this one: on short seasonal series the networks have a few dozen training windows and
the statistical models a user compares with (statsforecast's MSTL and AutoETS: a
decomposition, then exponential smoothing) forecast better; their errors and the
networks' are far from perfectly correlated, so a mix beats both, as the M4 combinations
did. Damped-trend smoothing on classically deseasonalised data (Gardner and McKenzie 1985;
one of M4's benchmarks) covers simple smoothing (no trend) and Holt's (a trend damped
slowly) with one model.

It reads only the rows before a forecast's origin that the model reads (the networks'
window, or 3 seasons where that window holds fewer: `blend.statistical_rows`), as naive and
seasonal naive do in the blend: train, predict, evaluate and calibration see the same
forecast. The three smoothing
parameters are fitted once, on the training rows, by the one-step squared error over a
grid (pooled over the series of a panel, each z-scored); the seasonal profile is estimated
from each window itself. Whether there is a season to estimate is decided once too, on the
training rows (`seasonal_rows`): a window of 4 quarters x 4 years rarely shows its season
significantly (the wool production's did at 2 of 5 origins, its training rows at once), and
a window left unadjusted forecasts a seasonal series with its season smoothed away. Models
trained before that decision was stored test each window alone, as they always did.
"""

from __future__ import annotations

import numpy as np

# The grid the parameters are chosen from: level, trend (as a share of the level's
# correction) and damping. phi < 1 keeps a fitted trend from running away over long horizons.
ALPHAS = np.linspace(0.05, 1.0, 12)
BETAS = np.linspace(0.0, 0.5, 6)
PHIS = np.array([0.8, 0.9, 0.95, 0.98])
# Bounds on the fitting cost: the series of a panel sampled evenly, each its latest rows.
FIT_SERIES = 64
FIT_ROWS = 5000
# Float64 values held at once by a fit or a forecast (128 MB): more series or windows are
# taken in groups.
CHUNK_ELEMENTS = 1 << 24
# A profile is estimated only from windows with this many seasons, and kept only where the
# autocorrelation at the season's lag is significant (90%, Bartlett's bound), as M4's
# benchmarks decide whether to deseasonalise.
MIN_SEASONS = 3
SEASONALITY_Z = 1.645

# The rows the starting level and trend are drawn through: two seasons, at least 10.
INIT_MIN_ROWS = 10

Parameters = tuple[float, float, float]  # alpha, beta, phi


def init_rows(season: int) -> int:
    return max(INIT_MIN_ROWS, 2 * season)


def seasonal_profile(windows: np.ndarray, season: int, known: bool = False) -> np.ndarray:
    """Additive seasonal indices (N, season) of each window (N, L), zeros where it holds too
    few seasons or, unless the season is ``known`` (`seasonal_rows`), no significant
    seasonality of its own; index j belongs to rows whose distance from the window's end is
    congruent to ``season - j`` (the next row takes index 0)."""
    count, length = windows.shape
    profile = np.zeros((count, max(season, 1)))
    if season <= 1 or length < MIN_SEASONS * season:
        return profile
    significant = np.ones(count, dtype=bool) if known else _seasonal(windows, season)
    if not significant.any():
        return profile
    chosen = windows[significant]
    trend = _centred_moving_average(chosen, season)  # (n, L - 2 * half)
    half = (length - trend.shape[1]) // 2
    detrended = chosen[:, half : half + trend.shape[1]] - trend
    # Row r of the window (0-based) is (r - length) mod season steps from the next row's index.
    phase = (np.arange(half, half + trend.shape[1]) - length) % season
    sums = np.zeros((len(chosen), season))
    counts = np.bincount(phase, minlength=season)
    for j in range(season):
        sums[:, j] = detrended[:, phase == j].sum(axis=1)
    indices = sums / np.maximum(counts, 1)
    profile[significant] = indices - indices.mean(axis=1, keepdims=True)
    return profile


def _seasonal(windows: np.ndarray, season: int) -> np.ndarray:
    """(N,) bool: the autocorrelation at lag ``season`` exceeds its 90% bound."""
    length = windows.shape[1]
    centred = windows - windows.mean(axis=1, keepdims=True)
    size = 1 << int(2 * length - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, : season + 1]
    variance = autocovariance[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        acf = np.where(variance > 0, autocovariance / variance, 0.0)
    bound = SEASONALITY_Z * np.sqrt((1.0 + 2.0 * (acf[:, 1:season] ** 2).sum(axis=1)) / length)
    significant: np.ndarray = np.abs(acf[:, season]) > bound
    return significant


def _centred_moving_average(windows: np.ndarray, season: int) -> np.ndarray:
    """The classical decomposition's trend: a centred moving average over one season
    (2 x season for an even one), (N, L - season + 1) or (N, L - season)."""
    length = windows.shape[1]
    cumulative = np.cumsum(np.pad(windows, ((0, 0), (1, 0))), axis=1)  # c[k]: first k rows
    if season % 2 == 1:
        return (cumulative[:, season:] - cumulative[:, :-season]) / season
    inner = cumulative[:, season:length] - cumulative[:, 1 : length - season + 1]
    ends = windows[:, : length - season] + windows[:, season:]
    return (inner + 0.5 * ends) / season


def adjusted(
    windows: np.ndarray, season: int, known: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Windows (N, L) less their seasonal profile, and the profile (N, season)."""
    profile = seasonal_profile(windows, season, known)
    if season <= 1:
        return windows, profile
    phase = (np.arange(windows.shape[1]) - windows.shape[1]) % season
    return windows - profile[:, phase], profile


def initial_state(values: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Level and trend (N,) each, the state before the first column of ``values`` (N, T):
    the least-squares line through its first ``rows`` columns (one difference alone, the
    textbook start, let a noisy pair of rows set a trend that beta = 0 then never revisits)."""
    segment = values[:, : max(1, min(rows, values.shape[1]))]
    steps = np.arange(segment.shape[1], dtype=np.float64)
    centred = steps - steps.mean()
    spread = (centred**2).sum()
    slope = (segment * centred).sum(axis=1) / spread if spread > 0 else np.zeros(len(segment))
    intercept = segment.mean(axis=1) - slope * steps.mean()
    return intercept - slope, slope


def _smooth(
    values: np.ndarray,
    parameters: tuple[np.ndarray, np.ndarray, np.ndarray],
    start: np.ndarray,
    state: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped-trend smoothing of each row of ``values`` (N, T) from its column ``start``
    (N,) on, from ``state`` (level, trend) and with its own ``parameters`` (alpha, beta,
    phi; (N,) each): the one-step squared error summed, and the final level and trend."""
    alpha, beta, phi = parameters
    level, trend = (np.asarray(x, dtype=np.float64) for x in state)
    columns = np.ascontiguousarray(values.T)  # one row per step: read in order
    error_sum = np.zeros(len(values))
    staggered = bool(start.any())
    for t in range(values.shape[1]):
        expected = level + phi * trend
        error = columns[t] - expected
        new_level, new_trend = expected + alpha * error, phi * trend + beta * alpha * error
        if staggered:  # rows that have not started keep their state and add no error
            active = t >= start
            error = np.where(active, error, 0.0)
            new_level = np.where(active, new_level, level)
            new_trend = np.where(active, new_trend, trend)
        error_sum += error * error
        level, trend = new_level, new_trend
    return error_sum, level, trend


def seasonal_rows(training: list[np.ndarray], season: int) -> bool:
    """Whether the series' training rows (each a series' rows of one target) show the
    season: at least half of those with `MIN_SEASONS` seasons pass the autocorrelation test
    (`sampled` series of a panel, each its latest `FIT_ROWS`)."""
    if season <= 1:
        return False
    rows = [np.asarray(training[i], dtype=np.float64)[-FIT_ROWS:] for i in sampled(len(training))]
    tested = [
        bool(_seasonal(r[None, :], season)[0]) for r in rows if len(r) >= MIN_SEASONS * season
    ]
    return bool(tested) and 2 * sum(tested) >= len(tested)


def sampled(count: int) -> np.ndarray:
    """Which of ``count`` series the parameters are fitted on: all, or `FIT_SERIES`
    evenly spread."""
    if count <= FIT_SERIES:
        return np.arange(count)
    chosen: np.ndarray = np.unique(np.linspace(0, count - 1, FIT_SERIES).round().astype(int))
    return chosen


def fit(training: list[np.ndarray], season: int) -> Parameters:
    """The grid's parameters of the lowest one-step squared error over ``training`` (each a
    series' training rows of one target, z-scored), deseasonalised as windows are."""
    training = [training[i] for i in sampled(len(training))]
    rows = [np.asarray(t, dtype=np.float64)[-FIT_ROWS:] for t in training]
    rows = [r for r in rows if len(r) >= 3]
    if not rows:
        return float(ALPHAS[-1]), 0.0, float(PHIS[0])
    longest = max(len(r) for r in rows)
    padded = np.zeros((len(rows), longest))
    start = np.zeros(len(rows), dtype=np.int64)
    level, trend = np.zeros(len(rows)), np.zeros(len(rows))
    for i, r in enumerate(rows):
        seasonal = adjusted(r[None, :], season)[0]
        padded[i, longest - len(r) :] = seasonal[0]
        start[i] = longest - len(r)
        (level[i],), (trend[i],) = initial_state(seasonal, init_rows(season))
    alpha, beta, phi = (g.ravel() for g in np.meshgrid(ALPHAS, BETAS, PHIS, indexing="ij"))
    grid = len(alpha)
    errors = np.zeros(grid)
    # Series against every grid point at once, (series x grid, T), a group of series at a time.
    group = max(1, CHUNK_ELEMENTS // (grid * longest))
    for first in range(0, len(rows), group):
        part = slice(first, first + group)
        count = len(padded[part])
        squared, _, _ = _smooth(
            np.repeat(padded[part], grid, axis=0),
            (np.tile(alpha, count), np.tile(beta, count), np.tile(phi, count)),
            np.repeat(start[part], grid),
            (np.repeat(level[part], grid), np.repeat(trend[part], grid)),
        )
        errors += squared.reshape(count, grid).sum(axis=0)
    best = int(np.argmin(errors))
    return float(alpha[best]), float(beta[best]), float(phi[best])


def forecast(
    windows: np.ndarray, horizon: int, season: int, parameters: Parameters, known: bool = False
) -> np.ndarray:
    """Each window's (N, L) forecast (N, H): damped-trend smoothing of its seasonally
    adjusted rows (every window's, where the training rows showed the season: ``known``),
    the profile added back. Windows are taken a chunk at a time (each is forecast alone), so
    that a large panel's FFTs and copies stay within `CHUNK_ELEMENTS`."""
    windows = np.asarray(windows, dtype=np.float64)
    chunk = max(1, CHUNK_ELEMENTS // (4 * max(1, windows.shape[1])))  # the FFT's 2-4 x L
    if len(windows) > chunk:
        parts = [forecast(windows[i : i + chunk], horizon, season, parameters, known)
                 for i in range(0, len(windows), chunk)]  # fmt: skip
        return np.concatenate(parts)
    seasonal, profile = adjusted(windows, season, known)
    count = len(seasonal)
    alpha, beta, phi = (np.full(count, p) for p in parameters)
    state = initial_state(seasonal, init_rows(season))
    _, level, trend = _smooth(seasonal, (alpha, beta, phi), np.zeros(count, np.int64), state)
    damping = np.cumsum(parameters[2] ** np.arange(1, horizon + 1))
    out = level[:, None] + trend[:, None] * damping[None, :]
    if season > 1:
        out = out + profile[:, np.arange(horizon) % season]
    return out
