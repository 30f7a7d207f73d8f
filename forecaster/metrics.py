"""Forecast accuracy and the baselines every forecast is judged against.

Arrays in, numbers out; nothing here knows about models. Definitions follow the M4
competition: sMAPE = mean 200|F - A| / (|F| + |A|); MASE = MAE / in-sample MAE of the
seasonal-naive forecast with period m, per series and origin, then averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("mae", "rmse", "mape", "smape", "mase")


@dataclass
class Scores:
    values: dict[str, float]
    mape_skipped: int = 0  # actual values of 0, left out of MAPE
    mase_skipped: int = 0  # windows whose history has no seasonal variation


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
    """Scores of the model and both baselines, per target and averaged over targets."""

    model: dict[str, Scores]
    baselines: dict[str, dict[str, Scores]]
    horizon: int
    windows: int
    season: int
    n_forecasts: int

    def overall(self, scores: dict[str, Scores]) -> dict[str, float]:
        return {m: float(np.mean([s.values[m] for s in scores.values()])) for m in METRICS}

    def to_dict(self) -> dict[str, object]:
        return {
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


def evaluate(
    forecasts: np.ndarray,
    actuals: np.ndarray,
    history: list[np.ndarray],
    targets: list[str],
    season: int,
    windows: int,
) -> Evaluation:
    """Score forecasts (N, H, C) from N origins whose preceding rows are ``history``."""
    horizon = forecasts.shape[1]
    scale = mase_scale(history, season)  # (N, C)
    candidates = {
        "naive": naive(history, horizon),
        "seasonal_naive": seasonal_naive(history, horizon, season),
    }
    model_scores = {
        name: score(forecasts[..., c], actuals[..., c], scale[:, c])
        for c, name in enumerate(targets)
    }
    baseline_scores = {
        kind: {
            name: score(values[..., c], actuals[..., c], scale[:, c])
            for c, name in enumerate(targets)
        }
        for kind, values in candidates.items()
    }
    return Evaluation(model_scores, baseline_scores, horizon, windows, season, len(forecasts))
