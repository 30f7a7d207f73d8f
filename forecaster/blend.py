"""A blend of the networks' forecast with naive or seasonal naive, weighted on validation.

On short seasonal series the networks can validate ahead of seasonal naive and still
forecast worse than it, or validate behind it: their errors and the baseline's are far
from perfectly correlated, so a mix of the two is often better than either (the M4
winners' combinations). After training, the forecasts of the validation windows are mixed
with each baseline at the weights `WEIGHTS`; the mix with the lowest validation MASE is
kept when it beats the networks alone by `MIN_GAIN` or more, else nothing changes.

Measured on the real-world suite (benchmarks/README.md, "Blend with a baseline"): it took
the monthly electricity series from 1.173 to 1.031 and the monthly wine sales from 1.262 to
1.021 (MASE ratio to the better naive on the test origins) and chose no blend on the other
seven; ETTh1 and M4 Hourly chose none either. Models that read covariates are left alone:
on EPF's prices the blend validated 4.6% better and tested 6% worse (MAE 5.684 to 6.028), a
rule drawn from that one case.

The blend is applied where every forecast is made (`inputs.run_model` and
`run_ensemble`), on the scaled inputs: the baselines are read from the context rows the
networks read, so predict, evaluate, the validation scores and the intervals' calibration
all see the same blended forecast. The members' spread shrinks with the networks' weight.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from forecaster.artifact import Artifact
    from forecaster.data import Panel
    from forecaster.windows import Split

BASELINES = ("naive", "seasonal_naive")
# The networks' weight in a blend (1, the networks alone, is the default it must beat).
WEIGHTS = (0.0, 0.25, 0.5, 0.75)
# How much lower the blend's validation MASE must be than the networks' alone.
MIN_GAIN = 0.01


@dataclass(frozen=True)
class Blend:
    """``weight`` x the networks' forecast + (1 - ``weight``) x ``baseline``'s."""

    baseline: str
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "weight": self.weight}

    @classmethod
    def from_dict(cls, value: Any) -> Blend:
        """The stored form back; ValueError when it is not one this module writes."""
        if not isinstance(value, dict) or set(value) != {"baseline", "weight"}:
            raise ValueError("an object of baseline and weight")
        baseline, weight = value["baseline"], value["weight"]
        if baseline not in BASELINES:
            raise ValueError(f"baseline: one of {', '.join(BASELINES)}")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError("weight: a number")
        if not 0.0 <= float(weight) < 1.0:
            raise ValueError("weight: from 0 to below 1")
        return cls(baseline, float(weight))


def baseline_forecast(
    baseline: str, contexts: np.ndarray, lookback: int, horizon: int, targets: int, season: int
) -> np.ndarray:
    """The baseline's forecast (N, H, C) from scaled model inputs (N, L[+H], C[+K]): the last
    context row, or the last season of context rows repeated (naive when the context is
    shorter than a season), as `metrics.naive` and `metrics.seasonal_naive` forecast."""
    own = contexts[:, :lookback, :targets]
    if baseline == "seasonal_naive" and 1 < season <= lookback:
        steps = lookback - season + np.arange(horizon) % season
        return own[:, steps, :]
    return np.repeat(own[:, -1:, :], horizon, axis=1)


def apply(
    blend: Blend | None, forecast: np.ndarray, contexts: np.ndarray, artifact: Artifact
) -> np.ndarray:
    """``forecast`` (N, H, C), scaled, blended with the baseline (unchanged without a blend)."""
    if blend is None:
        return forecast
    from forecaster.frequency import season_length

    config = artifact.model_config
    season = season_length(artifact.freq, artifact.schema.session)
    base = baseline_forecast(blend.baseline, contexts, config.lookback, forecast.shape[1],
                             config.n_targets, season)  # fmt: skip
    mixed = blend.weight * forecast + (1.0 - blend.weight) * base
    return mixed.astype(forecast.dtype, copy=False)


def choose(artifact: Artifact, panel: Panel, split: Split) -> tuple[Blend | None, dict[str, Any]]:
    """The blend of the lowest validation MASE when it beats the networks alone by
    `MIN_GAIN`, with its scores for the summary; (None, {}) otherwise, and without
    validation windows."""
    from forecaster.frequency import season_length
    from forecaster.inputs import run_model
    from forecaster.metrics import mase_scale, naive, seasonal_naive
    from forecaster.validation import MAX_REPORT_WINDOWS, validation_windows

    if artifact.model_config.n_covariates:
        # The baselines cannot see the covariates the networks read: on EPF's day-ahead
        # prices (future covariates) a blend validated 4.6% better and tested 6% worse.
        return None, {}
    horizon = artifact.model_config.horizon
    windows = validation_windows(artifact, panel, split, MAX_REPORT_WINDOWS)
    if windows is None:
        return None, {}
    series, origins, contexts = windows
    unblended = dataclasses.replace(artifact, blend=None)
    network = artifact.scaler.inverse(run_model(unblended, contexts).astype(np.float64), series)
    actuals = panel.actuals(series, origins, horizon)
    history = panel.histories(series, origins)
    season = season_length(panel.freq, panel.schema.session)
    scale = mase_scale(history, season)  # (N, C), as `metrics.evaluate` scales MASE
    alone = _mase(network, actuals, scale)
    if alone is None:  # no scale (a constant history): no choice
        return None, {}
    baselines = {"naive": naive(history, horizon),
                 "seasonal_naive": seasonal_naive(history, horizon, season)}  # fmt: skip
    tried: dict[tuple[str, float], float] = {}
    for name, forecast in baselines.items():
        for weight in WEIGHTS:
            mase = _mase(weight * network + (1.0 - weight) * forecast, actuals, scale)
            if mase is not None:
                tried[name, weight] = mase
    if not tried:
        return None, {}
    best = min(tried, key=lambda key: tried[key])
    if tried[best] > alone * (1.0 - MIN_GAIN):
        return None, {}
    chosen = Blend(best[0], best[1])
    return chosen, {**chosen.to_dict(), "mase": tried[best], "network_mase": alone,
                    "windows": len(series)}  # fmt: skip


def _mase(forecasts: np.ndarray, actuals: np.ndarray, scale: np.ndarray) -> float | None:
    """MASE over windows (N, H, C), averaged over targets, as `metrics.evaluate` gives it;
    None when it is not finite (no scale)."""
    from forecaster.metrics import mean_ratio

    absolute = np.abs(forecasts - actuals).mean(axis=1)  # (N, C)
    per_target = []
    for c in range(absolute.shape[1]):
        usable = scale[:, c] > 0
        if not usable.any():
            return None
        per_target.append(mean_ratio(absolute[usable, c], scale[usable, c]))
    value = float(np.mean(per_target))
    return value if math.isfinite(value) else None


def describe(blend: dict[str, Any] | None) -> str | None:
    """`train`'s and `info`'s words for a blend (None: the networks alone)."""
    if not blend:
        return None
    baseline = str(blend["baseline"]).replace("_", " ")
    weight = float(blend["weight"])
    return (
        f"{weight:g} x the networks + {1 - weight:g} x {baseline} (validation MASE "
        f"{blend['mase']:.3g} against the networks' {blend['network_mase']:.3g} on "
        f"{blend['windows']} validation window(s))"
    )
