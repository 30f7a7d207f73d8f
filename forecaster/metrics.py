"""Forecast accuracy and the baselines every forecast is judged against.

Arrays in, numbers out; nothing here knows about models. Definitions follow the M4
competition: sMAPE = mean 200|F - A| / (|F| + |A|); MASE = MAE / in-sample MAE of the
seasonal-naive forecast with period m, per series and origin, then averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

METRICS = ("mae", "rmse", "mape", "smape", "mase")
# Levels (percent) evaluate scores intervals at unless told, and the quantiles whose scaled
# pinball loss it averages (an approximation of the CRPS, half of it on this grid).
DEFAULT_LEVELS = (80.0, 95.0)
PINBALL_QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# Metrics without units, the only ones that may be averaged over targets in different units.
SCALE_FREE = ("smape", "mase")


@dataclass
class Scores:
    values: dict[str, float]
    mape_skipped: int = 0  # actual values of 0, left out of MAPE
    mase_skipped: int = 0  # windows whose history has no seasonal variation
    intervals: IntervalScores | None = None  # when the model has intervals to score

    def undefined(self) -> dict[str, str]:
        """Why a metric is not a number, for the notes of a report."""
        reasons = {}
        if self.values["mape"] != self.values["mape"]:
            reasons["mape"] = "every actual value is 0"
        elif self.values["mape"] == float("inf"):
            reasons["mape"] = (
                "some actual values are so near 0 that the mean percentage error passes the "
                "largest number a float holds"
            )
        if self.values["mase"] != self.values["mase"]:
            reasons["mase"] = (
                "the history has no variation to scale by (its in-sample seasonal-naive error is 0)"
            )
        return reasons


def mean_ratio(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """The mean of ``numerator / denominator`` (divisors positive), also when a quotient
    passes float64's largest value while the mean need not.

    A denormal actual value (1e-310) under an ordinary error makes a quotient of 1e310:
    numpy would print an overflow warning and the mean would be inf. Each quotient is
    taken as mantissa x 2^exponent instead, and their sum scaled by the largest power of
    two, so the mean is right whenever it is finite, and inf, quietly, only when it is not.
    """
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(over="ignore"):
        quotients = numerator / denominator
        mean = np.mean(quotients)  # finite quotients of 1e308 can still sum past the range
    if np.isfinite(mean):
        return float(mean)
    top, top_exp = np.frexp(numerator)
    bottom, bottom_exp = np.frexp(denominator)
    exponent = top_exp.astype(np.int64) - bottom_exp
    largest = int(exponent.max())
    total = np.sum((top / bottom) * np.exp2((exponent - largest).astype(np.float64)))
    with np.errstate(over="ignore"):
        return float(np.ldexp(total / numerator.size, largest))


def score(forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> Scores:
    """Metrics of forecasts (N, H) against actuals (N, H); ``scale`` (N,) is MASE's divisor."""
    error = forecast - actual
    absolute = np.abs(error)
    nonzero = actual != 0
    if nonzero.any():
        with np.errstate(over="ignore"):  # a mean past float64's range is inf, said quietly
            mape = 100 * mean_ratio(absolute[nonzero], np.abs(actual[nonzero]))
    else:
        mape = np.nan
    denominator = np.abs(forecast) + np.abs(actual)
    smape_terms = np.divide(
        200 * absolute, denominator, out=np.zeros_like(absolute), where=denominator > 0
    )
    usable = scale > 0
    mase = mean_ratio(absolute[usable].mean(axis=1), scale[usable]) if usable.any() else np.nan
    return Scores(
        values={
            "mae": float(absolute.mean()),
            "rmse": float(np.sqrt(np.mean(error**2))),
            "mape": float(mape),
            "smape": float(smape_terms.mean()),
            "mase": float(mase),
        },
        mape_skipped=int((~nonzero).sum()),
        mase_skipped=int((~usable).sum()),
    )


def level_name(level: float) -> str:
    """80 -> '80', 97.5 -> '97.5': a level as column names and JSON keys spell it."""
    return f"{level:g}"


def level_probabilities(levels: list[float] | tuple[float, ...]) -> list[float]:
    """The lower and upper probabilities of central intervals at ``levels`` (percent),
    in pairs: [lo_1, hi_1, lo_2, hi_2, ...]."""
    out = []
    for level in levels:
        alpha = 1 - level / 100
        out += [alpha / 2, 1 - alpha / 2]
    return out


def scoring_probabilities(levels: list[float] | tuple[float, ...]) -> list[float]:
    """What `interval_scores` reads: each level's bounds, then `PINBALL_QUANTILES`."""
    return level_probabilities(levels) + list(PINBALL_QUANTILES)


@dataclass
class IntervalScores:
    """Coverage and MSIS per level (keys as `level_name`), and the scaled pinball loss."""

    coverage: dict[str, float]
    msis: dict[str, float]
    pinball: float

    def to_dict(self) -> dict[str, object]:
        return {
            "intervals": {
                level: {"coverage": self.coverage[level], "msis": self.msis[level]}
                for level in self.coverage
            },
            "pinball": self.pinball,
        }


def interval_scores(
    bounds: np.ndarray, actual: np.ndarray, scale: np.ndarray, levels: list[float]
) -> IntervalScores:
    """Scores of bounds (N, H, Q) laid out as `scoring_probabilities(levels)` against
    actuals (N, H); ``scale`` (N,) is MASE's divisor.

    Coverage: the share of actuals inside the interval. MSIS (the M4 definition): per
    window, the mean over steps of width + 2/alpha x how far each actual falls outside,
    divided by the scale, then averaged over windows. Pinball: per window, the mean over
    steps and `PINBALL_QUANTILES` of the quantile loss, divided by the scale, averaged.
    Windows whose scale is 0 are left out of MSIS and pinball, as out of MASE.
    """
    usable = scale > 0
    coverage, msis = {}, {}
    for k, level in enumerate(levels):
        alpha = 1 - level / 100
        lo, hi = bounds[:, :, 2 * k], bounds[:, :, 2 * k + 1]
        below, above = np.maximum(lo - actual, 0), np.maximum(actual - hi, 0)
        terms = (hi - lo + 2 / alpha * (below + above)).mean(axis=1)
        name = level_name(level)
        coverage[name] = float(np.mean((actual >= lo) & (actual <= hi)))
        msis[name] = mean_ratio(terms[usable], scale[usable]) if usable.any() else np.nan
    q = np.asarray(PINBALL_QUANTILES)
    predicted = bounds[:, :, 2 * len(levels) :]  # (N, H, 9)
    miss = actual[:, :, None] - predicted
    loss = np.maximum(q * miss, (q - 1) * miss).mean(axis=(1, 2))
    pinball = mean_ratio(loss[usable], scale[usable]) if usable.any() else np.nan
    return IntervalScores(coverage, msis, pinball)


def baseline_bounds(
    history: list[np.ndarray], horizon: int, season: int, probabilities: list[float], lag: int
) -> np.ndarray:
    """Bounds (N, H, Q, C) of naive (``lag`` 1) or seasonal naive (``lag`` = the season)
    forecasts from empirical residual quantiles, as statsforecast widens them.

    The quantiles at ``probabilities`` of each history's in-sample lag residuals
    (y_t - y_{t-lag}), times sqrt(k) at step k for naive, times sqrt(complete seasons
    ahead + 1) for seasonal naive; an interval always holds its forecast.
    """
    seasonal = lag > 1
    points = seasonal_naive(history, horizon, season) if seasonal else naive(history, horizon)
    steps = np.arange(1, horizon + 1)
    out = np.empty((len(history), horizon, len(probabilities), points.shape[2]))
    for k, h in enumerate(history):
        used = lag if seasonal and len(h) > lag else 1
        residuals = h[used:] - h[:-used]
        if not len(residuals):
            out[k] = points[k][:, None, :]
            continue
        table = np.quantile(residuals, probabilities, axis=0)  # (Q, C)
        grow = np.sqrt((steps - 1) // used + 1) if used > 1 else np.sqrt(steps)
        out[k] = points[k][:, None, :] + grow[:, None, None] * table[None]
    return hold_forecast(out, points, probabilities)


def hold_forecast(bounds: np.ndarray, points: np.ndarray, probabilities: list[float]) -> np.ndarray:
    """Bounds (N, H, Q, C) at probabilities below 0.5 never above the forecast (N, H, C),
    above 0.5 never below it: every interval holds its forecast, and the order of the
    quantiles stays as it was."""
    p = np.asarray(probabilities)[None, None, :, None]
    point = points[:, :, None, :]
    held: np.ndarray = np.where(
        p < 0.5, np.minimum(bounds, point), np.where(p > 0.5, np.maximum(bounds, point), bounds)
    )
    return held


def naive(history: list[np.ndarray], horizon: int) -> np.ndarray:
    """The last observed value, repeated: (N, H, C)."""
    return np.stack([np.repeat(h[-1:], horizon, axis=0) for h in history])


def seasonal_naive(history: list[np.ndarray], horizon: int, season: int) -> np.ndarray:
    """The last observed season, repeated; naive where the history is shorter than a season."""
    out = []
    for h in history:
        if season <= 1 or len(h) < season:
            out.append(np.repeat(h[-1:], horizon, axis=0))
        else:
            last_cycle = h[-season:]
            out.append(last_cycle[np.arange(horizon) % season])
    return np.stack(out)


def mase_scale(history: list[np.ndarray], season: int) -> np.ndarray:
    """In-sample MAE of the seasonal-naive forecast (lag 1 when history is too short): (N, C)."""
    scales = []
    for h in history:
        lag = season if len(h) > season else 1
        if len(h) <= lag:
            scales.append(np.zeros(h.shape[1]))
        else:
            scales.append(np.mean(np.abs(h[lag:] - h[:-lag]), axis=0))
    return np.stack(scales)


@dataclass
class Evaluation:
    """Scores of the model and both baselines, per target (and per series), and overall."""

    model: dict[str, Scores]
    baselines: dict[str, dict[str, Scores]]
    horizon: int
    windows: int
    season: int
    n_forecasts: int
    # series id -> target -> method ("model", "naive", ...) -> scores, when asked for
    per_series: dict[str, dict[str, dict[str, Scores]]] | None = None

    def overall(self, scores: dict[str, Scores]) -> dict[str, float | None]:
        """One target: its metrics. Several: only the scale-free ones are averaged (an MAE
        over GDP and percentages means nothing); the others are None."""
        if len(scores) == 1:
            return dict(next(iter(scores.values())).values)
        return {
            m: float(np.mean([s.values[m] for s in scores.values()])) if m in SCALE_FREE else None
            for m in METRICS
        }

    def overall_intervals(self, scores: dict[str, Scores]) -> dict[str, object]:
        """The interval scores of one method, averaged over targets (all are scale-free);
        empty when intervals were not scored."""
        parts = [s.intervals for s in scores.values() if s.intervals is not None]
        if not parts:
            return {}
        mean = IntervalScores(
            coverage={k: float(np.mean([p.coverage[k] for p in parts])) for k in parts[0].coverage},
            msis={k: float(np.mean([p.msis[k] for p in parts])) for k in parts[0].msis},
            pinball=float(np.mean([p.pinball for p in parts])),
        )
        return mean.to_dict()

    def notes(self) -> list[str]:
        notes = []
        if len(self.model) > 1:
            notes.append(
                f"metrics and baselines average only {', '.join(SCALE_FREE)} over the "
                f"{len(self.model)} targets; mae, rmse and mape are in each target's units "
                "(see per_target)"
            )
        methods = {"model": self.model, **self.baselines}
        for method, by_target in methods.items():
            for target, scores in by_target.items():
                for metric, why in scores.undefined().items():
                    notes.append(f"{method} {metric} of {target!r} is null: {why}")
        return notes

    def to_dict(self) -> dict[str, object]:
        def values(scores: Scores) -> dict[str, object]:
            extra = scores.intervals.to_dict() if scores.intervals is not None else {}
            return {**scores.values, **extra}

        report: dict[str, object] = {
            "metrics": self.overall(self.model),
            **self.overall_intervals(self.model),
            "baselines": {
                name: {**self.overall(s), **self.overall_intervals(s)}
                for name, s in self.baselines.items()
            },
            "per_target": {
                target: {
                    "model": values(self.model[target]),
                    **{name: values(s[target]) for name, s in self.baselines.items()},
                }
                for target in self.model
            },
            "horizon": self.horizon,
            "windows": self.windows,
            "season": self.season,
            "forecasts": self.n_forecasts,
            "mape_skipped_zero_actuals": sum(s.mape_skipped for s in self.model.values()),
        }
        if self.per_series is not None:
            report["per_series"] = {
                series: {
                    target: {method: values(s) for method, s in by_method.items()}
                    for target, by_method in by_target.items()
                }
                for series, by_target in self.per_series.items()
            }
        report["notes"] = self.notes()
        return report


def evaluate(
    forecasts: np.ndarray,
    actuals: np.ndarray,
    history: list[np.ndarray],
    targets: list[str],
    season: int,
    windows: int,
    series_labels: list[str] | None = None,
    model_bounds: np.ndarray | None = None,
    levels: list[float] | tuple[float, ...] = DEFAULT_LEVELS,
) -> Evaluation:
    """Score forecasts (N, H, C) from N origins whose preceding rows are ``history``.

    With ``series_labels`` (N,), the series each forecast belongs to, scores per series too.
    With ``model_bounds`` (N, H, Q, C) at `scoring_probabilities(levels)`, the intervals
    as well, beside those of the baselines (`baseline_bounds`).
    """
    horizon = forecasts.shape[1]
    scale = mase_scale(history, season)  # (N, C)
    candidates = {
        "model": forecasts,
        "naive": naive(history, horizon),
        "seasonal_naive": seasonal_naive(history, horizon, season),
    }
    bounds: dict[str, np.ndarray] = {}
    if model_bounds is not None:
        probabilities = scoring_probabilities(levels)
        bounds = {
            "model": model_bounds,
            "naive": baseline_bounds(history, horizon, season, probabilities, 1),
            "seasonal_naive": baseline_bounds(history, horizon, season, probabilities, season),
        }

    def one(method: str, rows: np.ndarray | slice, c: int) -> Scores:
        result = score(candidates[method][rows, :, c], actuals[rows, :, c], scale[rows, c])
        if method in bounds:
            result.intervals = interval_scores(
                bounds[method][rows, :, :, c], actuals[rows, :, c], scale[rows, c], list(levels)
            )
        return result

    def scores_of(rows: np.ndarray | slice) -> dict[str, dict[str, Scores]]:
        return {
            method: {name: one(method, rows, c) for c, name in enumerate(targets)}
            for method in candidates
        }

    everything = scores_of(slice(None))
    per_series = None
    if series_labels is not None:
        codes, names = pd.factorize(np.asarray(series_labels, dtype=object))
        order = np.argsort(codes, kind="stable")
        edges = np.searchsorted(codes[order], np.arange(len(names) + 1))
        per_series = {}
        for k, label in enumerate(names):
            by_method = scores_of(order[edges[k] : edges[k + 1]])
            per_series[str(label)] = {
                name: {method: by_method[method][name] for method in candidates} for name in targets
            }
    model = everything.pop("model")
    return Evaluation(model, everything, horizon, windows, season, len(forecasts), per_series)
