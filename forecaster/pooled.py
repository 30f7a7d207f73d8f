"""Intervals for models with too few validation windows: errors pooled over training origins.

Split conformal calibration (`intervals`) needs a few dozen validation windows before its
95% bound is an error it has seen rather than the largest one: a 144-row monthly series
holds one window of 18 rows, and its quantiles at 10% and 2.5% were then the same single
error, so both intervals sat on the forecast. Here the same normalised errors are taken
from many more origins, every row through the training part that leaves a whole horizon
before validation starts, forecast by the trained model from the rows before each.

Those errors were fit on, so they may understate what a new forecast will miss. The
validation windows say by how much: their mean absolute normalised error over the mean of
the training origins' at the same steps. One window's ratio is mostly noise (on 25
quarterly employment series with one 4-quarter window each it ran from 0.07 to 7.5), and
floored at 1 that noise only ever widened: the 80% interval covered 97% there. So the
measured ratio counts as its validation rows' worth of horizons against `WIDENING_PRIOR`
horizons' worth of no widening (a geometric mean, as the difficulty's median gets one
window's weight in `intervals`), and the result is still never below 1 (a model cannot be
shown to do better out of sample than in). Per horizon step the training origins give the
error's typical size (the mean absolute error, widened); the shape of the distribution is
pooled over steps and windows, so the tails come from hundreds of errors instead of a
handful. The bounds are symmetric: with this few windows a bias cannot be told from noise,
and a signed quantile on one side could sit on the forecast. Validation windows join the
pool in units of the widened scale.

The split-conformal correction is counted in windows (errors of one window and of
neighbouring origins are not independent): a level needs k = ceil((n + 1) x level) <= n of
them, so 24 windows resolve the 95% interval (it reads the grid's 0.97 and 0.98 quantiles,
levels 0.94 and 0.96). The k-th of n windows stands, on average, at
the share k / (n + 1) of the distribution, and that share is read off the pooled errors;
reading k / n instead took the largest of every step of every window whenever k = n. Levels the
windows cannot resolve (k > n) take the Laplace quantile of the pooled errors' mean size, the
exponential tail a known mean absolute error implies, where the largest error seen stood
before: with 2 windows of 48 hours that was an 80% interval a hundred times the forecast's
error. Where the ranks' last bound lies beyond that quantile (a heavy-tailed pool), the tail
continues from it instead, so that each level's bound lies beyond the last resolved one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecaster.intervals import (
    CALIBRATION_WINDOWS,
    PROBABILITIES,
    Intervals,
    calibration_origins,
    resolved_probabilities,
)

# Below this central level resolved by the validation windows alone, intervals are pooled
# over training origins: the 95% interval needs the 0.02 and 0.98 quantiles (weight 49).
MIN_RESOLVED_LEVEL = 95.0
# Horizons' worth of "no widening" the validation windows' measured widening is weighed
# against (`widening`).
WIDENING_PRIOR = 1.0
SOURCE_VALIDATION = "validation windows"
# `Intervals.info["beyond"]`: the bounds beyond what the windows' ranks resolve (files without
# it took the largest error seen).
LAPLACE = "laplace"
NO_POOL = "no training origin to pool: too few training rows, or their histories never moved"
METHOD_ALONE = (
    "symmetric split conformal on the validation windows' errors (a Laplace tail beyond what "
    "they resolve) / (ensemble spread + recent seasonal-naive MAE x difficulty on training "
    "windows and on the horizon before each origin)"
)
SOURCE_POOLED = "training origins, widened to the validation windows"
METHOD = (
    "symmetric split conformal on errors pooled over origins through the training rows, "
    "widened to the validation windows' (shrunk toward none by their count; Laplace tails "
    "beyond what the windows resolve) / (ensemble spread + recent seasonal-naive MAE x "
    "difficulty on training windows and on the horizon before each origin)"
)


def needs_pooling(info: dict[str, Any]) -> bool:
    """Whether the validation windows alone leave the 95% interval unresolved."""
    low, high = resolved_probabilities(float(info.get("weight", 0.0)))
    return 100 * (high - low) < MIN_RESOLVED_LEVEL - 1e-9


def training_origins(
    n_train: np.ndarray, horizon: int, needed: int, budget: int = CALIBRATION_WINDOWS
) -> tuple[np.ndarray, np.ndarray]:
    """Series and origins of windows inside each series' training rows: every origin from
    ``needed`` rows of history (the model's context) to a horizon before the end of
    training, evenly thinned to an equal share of ``budget``."""
    first = np.full(len(n_train), max(needed, 1), dtype=np.int64)
    return calibration_origins(first, np.maximum(n_train - first, 0), horizon, budget)


def pool_intervals(
    intervals: Intervals, validation: np.ndarray, training: np.ndarray, horizons: float
) -> Intervals:
    """``intervals`` with quantiles pooled over the training origins' normalised errors
    (N, H, C) beside the validation windows' (`pooled_quantiles`; ``horizons``: the
    validation rows in horizons, summed over the series); as they were, and saying why,
    when the training origins give nothing to pool."""
    usable = lambda s: s[np.isfinite(s).all(axis=(1, 2))]  # noqa: E731
    validation_level = intervals.info.get("resolved_level", 0.0)
    validation_weight = intervals.info.get("weight", 0.0)
    pooled = pooled_quantiles(usable(validation), usable(training), horizons)
    if pooled is None:
        pooled = validation_alone(usable(validation))
    if pooled is None:
        intervals.info["source"] = SOURCE_VALIDATION
        intervals.info["note"] = NO_POOL
        return intervals
    quantiles, info = pooled
    intervals.quantiles = quantiles
    intervals.info.pop("coverage", None)  # the validation-only quantiles' halves: not these
    intervals.info.update(
        info, validation_weight=validation_weight, validation_level=validation_level
    )
    return intervals


def widening(measured: np.ndarray, horizons: float, prior: float = WIDENING_PRIOR) -> np.ndarray:
    """The widening (C,) from the ratio ``measured`` on ``horizons`` horizons of validation
    rows: their geometric mean with ``prior`` horizons of 1, never below 1 (1 where the
    ratio is not finite)."""
    usable = np.isfinite(measured) & (measured > 0)
    logs = np.log(np.where(usable, measured, 1.0))
    shrunk = np.exp(horizons * logs / (horizons + prior))
    return np.where(usable, np.maximum(shrunk, 1.0), 1.0)


def pooled_quantiles(
    validation: np.ndarray, training: np.ndarray, horizons: float
) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Symmetric quantiles (H, P, C) at `PROBABILITIES` from normalised signed errors of
    the validation windows (Nv, H, C, spanning ``horizons`` horizons of rows) and of the
    training origins (Nt, H, C), with what was done; None when the training origins give
    nothing to pool (no origin, or errors that are all zero)."""
    if not len(training) or not len(validation):
        return None
    size = np.abs(training).mean(axis=0)  # (H, C): the typical error at each step
    if not np.all(size > 0):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = np.abs(validation).mean(axis=(0, 1)) / size.mean(axis=0)  # (C,)
    horizons = max(float(horizons), 1.0)
    widened = widening(measured, horizons)
    step = size * widened[None, :]  # (H, C)
    pooled = np.concatenate(
        [np.abs(training) / size[None], np.abs(validation) / step[None]]
    )  # (N, H, C)
    windows = len(pooled)
    quantiles = step[:, None, :] * symmetric_magnitudes(pooled)[None, :, :]  # (H, P, C)
    info = {
        "method": METHOD,
        "source": SOURCE_POOLED,
        "beyond": LAPLACE,
        "training_windows": len(training),
        "widening": [round(float(w), 3) for w in widened],
        "widening_measured": [round(float(m), 3) if np.isfinite(m) else None for m in measured],
        "validation_horizons": round(float(horizons), 2),
        "weight": float(windows),
        "resolved_level": pooled_level(windows),
        "validation_coverage": coverage_on(validation, quantiles),
    }
    return np.ascontiguousarray(quantiles), info


def symmetric_magnitudes(pooled: np.ndarray) -> np.ndarray:
    """Signed bounds (P, C) at `PROBABILITIES`, in units of ``pooled`` (N windows, H, C: the
    absolute normalised errors): the rank k = ceil((N + 1) level) of N windows at the share
    k / (N + 1) of every error, and beyond N the Laplace tail of their mean (the module's
    docstring); zero at the median, nested, symmetric."""
    windows = len(pooled)
    flat = pooled.reshape(-1, pooled.shape[2])
    levels = np.abs(2 * PROBABILITIES - 1)
    # The split-conformal rank in windows, at the share of the distribution it stands at.
    ranks = np.ceil((windows + 1) * levels - 1e-9)
    resolved = ranks <= windows
    shares = np.where(resolved, ranks / (windows + 1), 1.0)
    magnitude = np.quantile(flat, shares, axis=0, method="linear")  # (P, C)
    magnitude[np.isclose(levels, 0.0)] = 0.0
    # |error| ~ exponential of the pooled mean: P(|e| <= m) = level at m = mean ln(1 / (1 - level));
    # and the same tail continued from the last level the ranks resolve, so that a heavy-tailed
    # pool's 99% bound is not its 95% one: the larger of the two.
    tail = -np.log1p(-np.minimum(levels, 1.0 - 1e-9))  # (P,)
    mean = flat.mean(axis=0)[None, :]  # (1, C)
    if resolved.any():
        last = float(levels[resolved].max())
        anchor = magnitude[resolved & np.isclose(levels, last)].max(axis=0)[None, :]
        onward = anchor + mean * (tail + np.log1p(-min(last, 1.0 - 1e-9)))[:, None]
    else:
        onward = mean * tail[:, None]
    beyond = np.maximum(mean * tail[:, None], onward)
    magnitude = np.where(resolved[:, None], magnitude, beyond)
    by_level = np.argsort(levels, kind="stable")
    magnitude[by_level] = np.maximum.accumulate(magnitude[by_level], axis=0)  # nested
    signed: np.ndarray = np.sign(PROBABILITIES - 0.5)[:, None] * magnitude
    return signed


def validation_alone(validation: np.ndarray) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Symmetric quantiles (H, P, C) from the validation windows' normalised errors alone
    (Nv, H, C), read as the pooled ones are (`symmetric_magnitudes`, per step the windows'
    mean absolute error): for a model with no training origin to pool (its training rows
    too few, or their histories flat). One window's signed quantiles put both bounds of every
    level on one side of the forecast; None when the windows give no error to scale by."""
    if not len(validation):
        return None
    size = np.abs(validation).mean(axis=0)  # (H, C)
    if not np.all(size > 0):
        return None
    quantiles = size[:, None, :] * symmetric_magnitudes(np.abs(validation) / size[None])[None]
    windows = len(validation)
    info = {
        "method": METHOD_ALONE,
        "source": SOURCE_VALIDATION,
        "beyond": LAPLACE,
        "weight": float(windows),
        "resolved_level": pooled_level(windows),
        "note": NO_POOL,
    }
    return np.ascontiguousarray(quantiles), info


def central_level(weight: float) -> float:
    low, high = resolved_probabilities(weight)
    return round(100 * (high - low), 1)


def pooled_level(windows: int) -> float:
    """The widest central level (%) whose grid quantiles ``windows`` pooled windows resolve:
    the grid's levels 2p - 1 with ceil((n + 1) level) <= n (symmetric bounds need one rank
    per level, where `central_level`'s one-sided rule needs one per tail)."""
    upper = PROBABILITIES[PROBABILITIES > 0.5]
    levels = 2 * upper - 1
    resolved = np.ceil((windows + 1) * levels - 1e-9) <= windows
    return round(100 * float(levels[resolved].max()), 1) if resolved.any() else 0.0


def coverage_on(scores: np.ndarray, quantiles: np.ndarray) -> dict[str, float]:
    """Share of the normalised errors (N, H, C) inside the 80% and 95% bounds."""
    from forecaster.intervals import quantiles_at

    coverage = {}
    for level in (80, 95):
        alpha = 1 - level / 100
        table = quantiles_at(quantiles, [alpha / 2, 1 - alpha / 2])  # (H, 2, C)
        inside = (scores >= table[None, :, 0]) & (scores <= table[None, :, 1])
        coverage[str(level)] = round(float(inside.mean()), 4)
    return coverage


def describe(info: dict[str, Any]) -> str:
    """Where a model's intervals come from and how they covered, in words (`train`, `info`)."""
    windows = info.get("windows")
    if info.get("source") != SOURCE_POOLED:
        coverage = info.get("coverage") or {}
        shown = ", ".join(f"{k}% covered {100 * v:.0f}%" for k, v in coverage.items())
        return f"from {windows} validation windows" + (
            f": {shown} of held-out validation windows" if shown else ""
        )
    widening = "/".join(f"{w:g}" for w in info.get("widening", []))
    measured = info.get("widening_measured")
    if measured is not None:  # files written before measured it and used it alone
        shown_ratio = "/".join("-" if m is None else f"{m:g}" for m in measured)
        horizons = info.get("validation_horizons", 0)
        widening += (
            f" (x{shown_ratio} measured on {horizons:g} horizon(s) of validation rows, "
            f"weighed against {WIDENING_PRIOR:g} of no widening)"
        )
    coverage = info.get("validation_coverage") or {}
    shown = ", ".join(f"{k}% covered {100 * v:.0f}%" for k, v in coverage.items())
    plural = "" if windows == 1 else "s"
    return (
        f"from {info.get('training_windows')} origins through the training rows "
        f"widened x{widening} to the errors of {windows} validation window{plural} of "
        f"{info.get('series')} series, too few "
        f"alone (they resolve central intervals up to {info.get('validation_level', 0):g}%)"
        + (f"; on them {shown}" if shown else "")
    )
