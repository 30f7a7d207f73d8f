"""Prediction intervals: the forecast's own errors on held-out windows, as quantiles.

Split conformal calibration, normalised; chosen against the alternatives in
benchmarks/README.md ("Intervals"). After training, the ensemble forecasts windows whose
targets lie in each series' validation rows (rows no weight was fit on). Each error is
divided by how uncertain that forecast was expected to be:

    spread of the ensemble members at that step + SPREAD_WEIGHT x error scale

The error scale of a window is the seasonal-naive MAE of the `LOCAL_SEASONS` seasonal
cycles before its origin (how much the series moves lately) times the series'
*difficulty*: the model's MAE in those units on its last training windows, shrunk toward
the median series, and on the one window just before the origin (the horizon's worth of
rows whose forecast is already known), which counts as one more window beside them
(`RECENT_PRIOR`). Difficulty comes from training windows and the rows before each
origin, never from the window itself, so the validation errors stay an honest sample
(estimating it on them made the 95% interval cover 93% on M4 Hourly); the recent scale
and the recent window follow a series that calms down or flares up after training
(ETTh1's test months are calmer than its validation months: a scale from all training
rows made the 80% interval cover 89%, the recent scale alone 84% at h = 720). Per
horizon step and target, the quantiles of these normalised, signed errors are stored on
a fixed grid of probabilities, so any level or quantile can be asked for at prediction
time without retraining:

    bound(p) = forecast + (spread + SPREAD_WEIGHT x error scale) x quantile of step k at p

Signed errors keep a bias the network has (a lower bound closer than the upper one); the
grid quantiles carry the finite-sample correction of split conformal prediction, so that a
bound at p covers at least p of exchangeable errors; and the windows are weighted by how
recent they are (`recency_weights`), as weighted conformal prediction allows for data that
drifts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forecaster.metrics import level_name, mase_scale

# Probabilities whose error quantiles a model stores; others are interpolated. Levels
# beyond 99.8% need quantiles the grid (and a few thousand windows) cannot resolve.
PROBABILITIES = np.array(
    [0.001, 0.0025, 0.005, *np.round(np.arange(0.01, 0.995, 0.01), 2), 0.995, 0.9975, 0.999]
)
# Validation windows forecast for calibration: spread over the series, evenly within each.
# 2,000 gave the same M4 and ETTh1 intervals as 4,000 (MSIS 6.36 / 6.37) in half the time
# (ETTh1 at h = 720: 5.5 s, 2,161 windows of 2,880 rows).
CALIBRATION_WINDOWS = 2000
# Training windows per series, back from the end of its training rows, whose errors
# measure its difficulty (4 beat 1 and 2 on M4 Hourly); fewer, down to one, when the
# series are so many that 4 each would exceed DIFFICULTY_BUDGET windows.
DIFFICULTY_WINDOWS = 4
DIFFICULTY_BUDGET = 20_000
# How many windows' worth of weight the median difficulty gets against a series' own.
DIFFICULTY_PRIOR = 1.0
# The error scale's weight beside the members' spread (spread alone: MSIS 11.3 on M4).
SPREAD_WEIGHT = 1.0
# Seasonal cycles before an origin whose seasonal-naive MAE is its recent scale (4 weeks of
# hourly data; 14 and 21 cycles, or the lookback, covered ETTh1 less evenly over horizons).
LOCAL_SEASONS = 28
# How many windows' weight the training difficulty gets beside the window just before an
# origin: as many as it was measured on, so the recent window counts as one more of them
# (1 and 3 followed ETTh1's noise: its 95% interval covered 92% at h = 96; 8 left its 80%
# interval at 83.5% at h = 720).
RECENT_PRIOR = float(DIFFICULTY_WINDOWS)
METHOD = (
    "weighted split conformal on validation errors (recent windows weigh more) / "
    "(ensemble spread + recent seasonal-naive MAE x difficulty on training windows "
    "and on the horizon before each origin)"
)


@dataclass
class Intervals:
    """What a model stores to put bounds around its forecasts."""

    quantiles: np.ndarray  # (H, P, C) normalised signed errors at `PROBABILITIES`
    difficulty: np.ndarray  # (S, C) each training series' difficulty
    scale: np.ndarray  # (S, C) its error scale at the end of its history, in data units
    new_series_factor: np.ndarray  # (C,) difficulty of a series the model has not seen
    spread_weight: float = SPREAD_WEIGHT
    info: dict[str, Any] = field(default_factory=dict)  # method, windows, coverage reached
    # Weight of the stored difficulty beside the window before each origin; None in models
    # calibrated before that window counted (their bounds stay as they were).
    recent_prior: float | None = None

    def factor(self, difficulty: np.ndarray, recent: np.ndarray | None) -> np.ndarray:
        """Each window's difficulty (N, C): the stored one (N, C) with the recent window's
        (`with_recent`), when this model counts it."""
        if self.recent_prior is None or recent is None:
            return difficulty
        return with_recent(difficulty, recent, self.recent_prior)

    def normaliser(self, spread: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """How uncertain each forecast step is (N, H, C): members' spread (N, H, C) plus
        the weighted error scale (N, C), in data units."""
        value: np.ndarray = spread + self.spread_weight * scale[:, None, :]
        return value

    def bounds(
        self,
        forecasts: np.ndarray,
        spread: np.ndarray,
        scale: np.ndarray,
        probabilities: list[float],
    ) -> np.ndarray:
        """Forecasts and members' spread (N, H, C), error scales (N, C) to bounds
        (N, H, Q, C)."""
        horizon = forecasts.shape[1]
        table = quantiles_at(self.quantiles[:horizon], probabilities)  # (H, Q, C)
        width = self.normaliser(spread, scale)[:, :, None, :]
        bounds: np.ndarray = forecasts[:, :, None, :] + width * table[None]
        return bounds


def quantiles_at(quantiles: np.ndarray, probabilities: list[float]) -> np.ndarray:
    """The stored quantiles (H, P, C) interpolated at ``probabilities``: (H, Q, C).

    Monotone in the probability, so quantiles never cross. Outside the grid, its ends.
    """
    wanted = np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITIES[0],
                     PROBABILITIES[-1])  # fmt: skip
    position = np.interp(wanted, PROBABILITIES, np.arange(len(PROBABILITIES)))
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(PROBABILITIES) - 1)
    weight = (position - low)[None, :, None]
    result: np.ndarray = quantiles[:, low] * (1 - weight) + quantiles[:, high] * weight
    return result


def conformal_quantiles(scores: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Quantiles (H, P, C) of scores (N, H, C) at `PROBABILITIES`, with the split-conformal
    correction, optionally weighted (weighted split conformal, Barber et al. 2023).

    The new score to be covered counts as one more, of weight 1, beyond every stored one:
    the bound at p > 0.5 is the smallest score whose cumulative weight reaches p of the
    total plus 1, at p < 0.5 the largest whose weight from the top reaches 1 - p of it. With
    no ``weights`` (all 1) that is the ceil((n + 1) p)-th smallest and the
    floor((n + 1) p)-th, so each covers at least p of a new exchangeable score (the plain
    quantile covers a little less); the median is the (weighted) median. ``weights`` (N,)
    in (0, 1] let recent windows count more than old ones.
    """
    n = len(scores)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(scores, axis=0, kind="stable")
    ordered = np.take_along_axis(scores, order, axis=0)
    below = np.cumsum(w[order], axis=0)  # weight of the scores <= each, (N, H, C)
    above = w.sum() - below + w[order]  # weight of the scores >= each
    total = w.sum() + 1.0
    tolerance = 1e-9 * total
    values = np.empty((len(PROBABILITIES), *scores.shape[1:]))
    for k, p in enumerate(PROBABILITIES):
        if np.isclose(p, 0.5):
            index = (below < 0.5 * w.sum() - tolerance).sum(axis=0)
        elif p > 0.5:
            index = (below < p * total - tolerance).sum(axis=0)
        else:
            index = (above >= (1 - p) * total - tolerance).sum(axis=0) - 1
        index = np.clip(index, 0, n - 1)
        values[k] = np.take_along_axis(ordered, index[None], axis=0)[0]
    return np.ascontiguousarray(np.moveaxis(values, 0, 1))


def with_recent(difficulty: np.ndarray, recent: np.ndarray, prior: float) -> np.ndarray:
    """The difficulty (N, C) of each window with the one just before its origin: the
    recent ratio (N, C; NaN where the rows before the origin hold no such window) beside
    ``prior`` windows' weight of the series' ``difficulty``."""
    known = np.isfinite(recent)
    blended = (np.where(known, recent, 0.0) + prior * difficulty) / (1.0 + prior)
    result: np.ndarray = np.where(known, blended, difficulty)
    return result


def recent_ratio(errors: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """MAE over the steps of each window before an origin (errors (N, H, C)) in units of
    the origin's recent scale (N, C): NaN where the scale is 0 or an error unknown."""
    mae = np.abs(errors).mean(axis=1)
    ratio: np.ndarray = np.divide(mae, scale, out=np.full_like(mae, np.nan), where=scale > 0)
    return ratio


def recency_weights(series: np.ndarray, origins: np.ndarray, n_val: np.ndarray) -> np.ndarray:
    """Weights (N,) of calibration windows: exp(-age / the series' validation rows), the
    age counted back from its newest window (weight 1). ETTh1's validation months are
    rougher than its test months, and its last ones are the nearest to them: the 80%
    interval covered 83% instead of 85-86% at h = 48 and 720; M4 Hourly did not move."""
    newest = np.zeros(int(series.max()) + 1 if len(series) else 0)
    np.maximum.at(newest, series, origins)
    age = newest[series] - origins
    return np.exp(-age / np.maximum(n_val[series], 1))


def base_scale(history: list[np.ndarray], season: int) -> np.ndarray:
    """In-sample seasonal-naive MAE of the last `LOCAL_SEASONS` cycles of each history
    (N, C); where it is 0 (a flat stretch), the MAE of lag-1 changes, and 0 only when the
    stretch never moves."""
    rows = LOCAL_SEASONS * max(season, 1)
    history = [h[-rows:] for h in history]
    scale = mase_scale(history, season)
    flat = ~(scale > 0)
    if flat.any():
        scale = np.where(flat, mase_scale(history, 1), scale)
    return scale


def calibration_origins(
    n_train: np.ndarray, n_val: np.ndarray, horizon: int, budget: int = CALIBRATION_WINDOWS
) -> tuple[np.ndarray, np.ndarray]:
    """Series and origins of the windows whose targets lie in the validation rows: up to
    an equal share of ``budget`` per series, evenly spaced, the last one at the end."""
    eligible = np.flatnonzero(n_val >= horizon)
    if not len(eligible):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if len(eligible) > budget:
        rng = np.random.default_rng(0)
        eligible = np.sort(rng.choice(eligible, budget, replace=False))
    share = max(1, budget // len(eligible))
    series, origins = [], []
    for s in eligible:
        first, last = int(n_train[s]), int(n_train[s] + n_val[s] - horizon)
        count = min(share, last - first + 1)
        picks = np.unique(np.round(np.linspace(last, first, count)).astype(np.int64))
        series.append(np.full(len(picks), s))
        origins.append(picks)
    return np.concatenate(series), np.concatenate(origins)


def difficulty(
    errors: np.ndarray, scale: np.ndarray, series: np.ndarray, n_series: int,
    prior: float = DIFFICULTY_PRIOR,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Each series' mean over its windows of MAE (``errors`` (N, H, C)) / the window's
    ``scale`` (N, C): (S, C), shrunk toward the median series with ``prior`` windows'
    weight against its own count of windows; and that median (C,)."""
    channels = errors.shape[2]
    per_window = np.abs(errors).mean(axis=1)  # (N, C)
    usable = scale > 0
    ratio = np.divide(per_window, scale, out=np.zeros_like(per_window), where=usable)
    own = np.full((n_series, channels), np.nan)
    count = np.zeros((n_series, channels))
    for c in range(channels):
        total = np.bincount(
            series, weights=np.where(usable[:, c], ratio[:, c], 0), minlength=n_series
        )
        count[:, c] = np.bincount(series, weights=usable[:, c], minlength=n_series)
        seen = count[:, c] > 0
        own[seen, c] = total[seen] / count[seen, c]
    known = np.isfinite(own)  # a target whose windows never moved has no ratio at all
    median = np.array([np.median(own[known[:, c], c]) if known[:, c].any() else 1.0
                       for c in range(channels)])  # fmt: skip
    median = np.where(np.isfinite(median) & (median > 0), median, 1.0)
    if np.isinf(prior):  # every series as difficult as the median one
        return np.broadcast_to(median, own.shape).copy(), median
    shrunk = np.where(np.isfinite(own), (count * own + prior * median) / (count + prior), median)
    return shrunk, median


def difficulty_origins(n_train: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Series and origins of the last `DIFFICULTY_WINDOWS` non-overlapping training
    windows of each series (as many as its training rows hold; at least one each, fewer
    than four when that would exceed `DIFFICULTY_BUDGET`)."""
    series, origins = [], []
    count = max(1, min(DIFFICULTY_WINDOWS, DIFFICULTY_BUDGET // max(len(n_train), 1)))
    for k in range(count):
        origin = n_train - horizon * (k + 1)
        keep = np.flatnonzero(origin >= 1)
        series.append(keep)
        origins.append(origin[keep])
    return np.concatenate(series), np.concatenate(origins)


def fit_intervals(
    validation: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    training: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    end_scale: np.ndarray,
    prior: float = DIFFICULTY_PRIOR,
    spread_weight: float = SPREAD_WEIGHT,
    recent: tuple[np.ndarray, np.ndarray] | None = None,
    recent_prior: float = RECENT_PRIOR,
) -> Intervals | None:
    """Intervals from the model's forecasts on its validation and last training windows.

    ``validation``: forecasts, members' spread and actuals (N, H, C), the series (N,), the
    recent scale (`base_scale`, (N, C)) and the weight (`recency_weights`, (N,)) of each
    window; ``training``: forecasts and
    actuals (M, H, C), series (M,) and recent scales (M, C) of the windows that measure
    difficulty; ``end_scale`` (S, C): each series' recent scale at the end of its history;
    ``recent``: the `recent_ratio` (N, C) of the window before each validation window and
    (S, C) before each series' end, NaN where there is none (without it, the difficulty
    is the training windows' alone). None without a usable validation window.
    """
    forecasts, spread, actuals, series, scale, weights = validation
    tr_forecasts, tr_actuals, tr_series, tr_scale = training
    n_series = len(end_scale)
    factor, median = difficulty(tr_actuals - tr_forecasts, tr_scale, tr_series, n_series, prior)
    window_factor, end_factor = factor[series], factor
    if recent is not None:
        window_factor = with_recent(window_factor, recent[0], recent_prior)
        end_factor = with_recent(factor, recent[1], recent_prior)
    normaliser = spread + spread_weight * (window_factor * scale)[:, None, :]
    moving = np.asarray((scale > 0).any(axis=0) | (tr_scale > 0).any(axis=0))
    usable = (normaliser > 0).all(axis=(1, 2)) & moved_windows(scale, moving)
    if not usable.any():
        return None
    scores = (actuals - forecasts)[usable] / normaliser[usable]
    weights = weights[usable]
    info = {
        "method": METHOD,
        "windows": int(usable.sum()),
        "series": len(np.unique(series[usable])),
        "difficulty_windows": len(tr_series),
        "weight": round(float(weights.sum()), 3),  # what the bounds resolve: `too_few_windows`
        "resolved_level": _central_level(float(weights.sum())),
        "coverage": held_out_coverage(scores, series[usable], weights),
    }
    quantiles = conformal_quantiles(scores, weights)
    return Intervals(quantiles, factor, end_factor * end_scale, median, spread_weight, info,
                     recent_prior if recent is not None else None)  # fmt: skip


def moved_windows(scale: np.ndarray, moving: np.ndarray | None = None) -> np.ndarray:
    """Which windows (N,) have a history that moved (recent scale (N, C) above 0) in every
    target that moves at all (``moving`` (C,): by default, in any of these windows). A window
    whose history never moved has its errors normalised by the members' spread alone: a
    series of zeros with one spike of 100 scored 10^6 there. A target that never moves (a
    constant column) leaves every window in, as it always did: its bounds sit on the
    forecast and the others' are unaffected."""
    moves = np.asarray(scale) > 0
    anywhere = np.asarray(moves.any(axis=0) if moving is None else moving, dtype=bool)
    return np.asarray(np.logical_or(moves, ~anywhere[None, :]).all(axis=1), dtype=bool)


def held_out_coverage(
    scores: np.ndarray, series: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Coverage of the 80% and 95% intervals on windows the quantiles were not fit on:
    windows split in two (alternate series, or alternate windows of one series), each
    half's quantiles scored on the other half."""
    key = series if len(np.unique(series)) > 1 else np.arange(len(series))
    halves = [np.flatnonzero(key % 2 == 0), np.flatnonzero(key % 2 == 1)]
    if min(len(h) for h in halves) == 0:
        return {}
    coverage = {}
    for level in (80, 95):
        alpha = 1 - level / 100
        covered = []
        for fit_on, score_on in (halves, halves[::-1]):
            fitted = conformal_quantiles(
                scores[fit_on], None if weights is None else weights[fit_on]
            )
            table = quantiles_at(fitted, [alpha / 2, 1 - alpha / 2])
            inside = (scores[score_on] >= table[None, :, 0]) & (
                scores[score_on] <= table[None, :, 1]
            )
            covered.append(inside.mean())
        coverage[str(level)] = round(float(np.mean(covered)), 4)
    return coverage


def resolved_probabilities(weight: float) -> tuple[float, float]:
    """The lowest and highest stored quantile (`PROBABILITIES`) that windows of total
    ``weight`` resolve. Beyond 1/(W+1) and W/(W+1) the split-conformal bound would need a
    score above every stored one (an infinite bound): the largest stored score stands in,
    covering less than asked. Asked quantiles between two stored ones are interpolated, so
    both must be resolved: 48 windows of weight 1 resolve 0.03 to 0.97 (94%), and the 95%
    interval, which reads the 0.98 quantile too, needs 49."""
    grid, margin = PROBABILITIES, 1e-12
    inside = grid[(grid >= 1 / (weight + 1) - margin) & (grid <= weight / (weight + 1) + margin)]
    if not len(inside):
        return 0.5, 0.5
    return float(inside[0]), float(inside[-1])


def _central_level(weight: float) -> float:
    low, high = resolved_probabilities(weight)
    return round(100 * (high - low), 1)


def too_few_windows(intervals: Intervals, levels: list[float], quantiles: list[float]) -> str:
    """One line for predict when some asked level or quantile needs more validation
    windows than the model was calibrated on; empty when all are resolved."""
    weight = intervals.info.get("weight", intervals.info.get("windows"))
    if not weight:
        return ""
    low, high = resolved_probabilities(float(weight))
    symmetric = intervals.info.get("beyond") == "laplace"  # `pooled`: one rank per level
    if symmetric:
        high = 0.5 + float(intervals.info["resolved_level"]) / 200
        low = 1.0 - high

    def resolved(q: float) -> bool:
        return low - 1e-9 <= q <= high + 1e-9

    asked = [f"level {level_name(v)}" for v in levels if not resolved((1 - v / 100) / 2)]
    asked += [f"quantile {q:g}" for q in quantiles if not resolved(q)]
    if not asked:
        return ""
    windows = f"{intervals.info.get('windows')} validation windows"
    if intervals.info.get("training_windows") is not None:  # pooled (`pooled`)
        windows += f" and {intervals.info['training_windows']} origins through training"
    # files written before `pooled`'s tail took the widest error
    beyond = "a Laplace tail of the errors' mean size" if symmetric else "the widest errors seen"
    return (
        f"{', '.join(asked)}: the model's {windows} resolve central intervals up to "
        f"{100 * (high - low):.0f}%; beyond, the bounds are {beyond} and may "
        "cover less than stated (more validation rows help: --val-fraction, or more history)"
    )


def unresolved(levels: list[float], quantiles: list[float]) -> list[str]:
    """Levels and quantiles beyond the stored grid, which get the grid's outermost bound."""
    low, high = PROBABILITIES[0], PROBABILITIES[-1]
    out = [f"level {level_name(v)}" for v in levels if (1 - v / 100) / 2 < low - 1e-12]
    out += [f"quantile {q:g}" for q in quantiles if not low - 1e-12 <= q <= high + 1e-12]
    return out
