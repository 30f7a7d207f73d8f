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
# Metrics without units, the only ones that may be averaged over targets in different units.
SCALE_FREE = ("smape", "mase")


@dataclass
class Scores:
    values: dict[str, float]
    mape_skipped: int = 0  # actual values of 0, left out of MAPE
    mase_skipped: int = 0  # windows whose history has no seasonal variation

    def undefined(self) -> dict[str, str]:
        """Why a metric is not a number, for the notes of a report."""
        reasons = {}
        if self.values["mape"] != self.values["mape"]:
            reasons["mape"] = "every actual value is 0"
        if self.values["mase"] != self.values["mase"]:
            reasons["mase"] = (
                "the history has no variation to scale by (its in-sample seasonal-naive error is 0)"
            )
        return reasons


def score(forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> Scores:
    """Metrics of forecasts (N, H) against actuals (N, H); ``scale`` (N,) is MASE's divisor."""
    error = forecast - actual
    absolute = np.abs(error)
    nonzero = actual != 0
    mape = 100 * np.mean(absolute[nonzero] / np.abs(actual[nonzero])) if nonzero.any() else np.nan
    denominator = np.abs(forecast) + np.abs(actual)
    smape_terms = np.divide(
        200 * absolute, denominator, out=np.zeros_like(absolute), where=denominator > 0
    )
    usable = scale > 0
    mase = np.mean(absolute[usable].mean(axis=1) / scale[usable]) if usable.any() else np.nan
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
        report: dict[str, object] = {
            "metrics": self.overall(self.model),
            "baselines": {name: self.overall(s) for name, s in self.baselines.items()},
            "per_target": {
                target: {
                    "model": self.model[target].values,
                    **{name: s[target].values for name, s in self.baselines.items()},
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
                    target: {method: s.values for method, s in by_method.items()}
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
) -> Evaluation:
    """Score forecasts (N, H, C) from N origins whose preceding rows are ``history``.

    With ``series_labels`` (N,), the series each forecast belongs to, scores per series too.
    """
    horizon = forecasts.shape[1]
    scale = mase_scale(history, season)  # (N, C)
    candidates = {
        "model": forecasts,
        "naive": naive(history, horizon),
        "seasonal_naive": seasonal_naive(history, horizon, season),
    }

    def scores_of(rows: np.ndarray | slice) -> dict[str, dict[str, Scores]]:
        return {
            method: {
                name: score(values[rows, :, c], actuals[rows, :, c], scale[rows, c])
                for c, name in enumerate(targets)
            }
            for method, values in candidates.items()
        }

    everything = scores_of(slice(None))
    per_series = None
    if series_labels is not None:
        codes, names = pd.factorize(np.asarray(series_labels, dtype=object))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        per_series = {}
        for k, label in enumerate(names):
            by_method = scores_of(order[bounds[k] : bounds[k + 1]])
            per_series[str(label)] = {
                name: {method: by_method[method][name] for method in candidates} for name in targets
            }
    model = everything.pop("model")
    return Evaluation(model, everything, horizon, windows, season, len(forecasts), per_series)
