"""A trained model's prediction intervals at given windows: the error scale of each
window, the bounds at the probabilities asked for, and their output columns.

`intervals` fits the calibration when a model is trained; this module reads it back for
`predict` and `evaluate`, and `calibration` measures the same scales at training's
validation origins, so that a bound is computed one way wherever it is used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from forecaster.artifact import Artifact
from forecaster.data import Panel
from forecaster.errors import ModelFileError
from forecaster.inputs import (
    model_inputs,
    required_rows,
    run_ensemble,
    shown_ids,
    window_scaler,
)
from forecaster.intervals import (
    LOCAL_SEASONS,
    Intervals,
    base_scale,
    recent_ratio,
    too_few_windows,
    unresolved,
)
from forecaster.metrics import hold_forecast, level_name, level_probabilities
from forecaster.seasons import season_length

log = logging.getLogger("forecaster")


def require_intervals(artifact: Artifact) -> Intervals:
    """The model's calibration, or a `ModelFileError` saying why it has none."""
    if artifact.intervals is not None:
        return artifact.intervals
    if artifact.summary.get("val_windows") == 0:
        why = "it was trained without validation windows to calibrate them on (more data, "
        why += "or a --val-fraction above 0, gives them)"
    else:
        why = "it was written by a forecaster before intervals existed: train it again"
    raise ModelFileError(f"the model file has no prediction intervals: {why}")


@dataclass
class Uncertainty:
    """The intervals and quantiles asked for: levels in percent, quantiles in (0, 1)."""

    levels: list[float]
    quantiles: list[float]

    def __bool__(self) -> bool:
        return bool(self.levels or self.quantiles)

    def probabilities(self) -> list[float]:
        return level_probabilities(self.levels) + list(self.quantiles)

    def check(self, artifact: Artifact) -> None:
        if self:
            stored = require_intervals(artifact)
            few = too_few_windows(stored, self.levels, self.quantiles)
            if few:
                log.warning("%s", few)
            beyond = unresolved(self.levels, self.quantiles)
            if beyond:
                log.warning(
                    "%s: beyond the 0.001 to 0.999 quantiles the model stores; given the "
                    "outermost of them",
                    ", ".join(beyond),
                )


def error_scales(
    artifact: Artifact, panel: Panel | None, series: np.ndarray, origins: np.ndarray
) -> np.ndarray:
    """The error scale (N, C) of each window's forecast, in data units: the recent
    seasonal-naive MAE of the rows before its origin (`intervals.base_scale`) times the
    series' difficulty, or a typical training series' for a series the model has not
    seen. From the stored history (no ``panel``), the scale stored at its end."""
    intervals = require_intervals(artifact)
    if panel is None:
        return intervals.scale[series]
    known = panel.positions(artifact.ids, series)
    factor = np.where(
        (known >= 0)[:, None], intervals.difficulty[np.maximum(known, 0)],
        intervals.new_series_factor[None, :],
    )  # fmt: skip
    history = panel.histories(series, origins)
    scale = base_scale(history, season_length(artifact.freq, artifact.schema.session))
    recent = None
    if intervals.recent_prior is not None:
        recent = recent_difficulty(artifact, panel, series, origins, scale)
    return intervals.factor(factor, recent) * scale


def recent_difficulty(
    artifact: Artifact, panel: Panel, series: np.ndarray, origins: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """How the model did on the horizon just before each origin (`intervals.recent_ratio`,
    (N, C)): its forecast of the rows [origin - H, origin) from the rows before them,
    against what they were. NaN where the rows before the origin are too few for it.

    Only rows before the origin are read, so a backtest stays honest; it costs one more
    pass of the network over the windows."""
    horizon = artifact.model_config.horizon
    ratio = np.full(scale.shape, np.nan)
    starts = np.asarray(origins, dtype=np.int64) - horizon
    usable = np.flatnonzero(starts >= required_rows(artifact))
    if not len(usable):
        return ratio
    s, o = series[usable], starts[usable]
    scaler = window_scaler(artifact, panel, s, o, warn=False)
    contexts = model_inputs(artifact, panel, scaler, s, o, window_scaler=scaler)
    scaled, _ = run_ensemble(artifact, contexts)
    forecasts = scaler.inverse(scaled.astype(np.float64), np.arange(len(s)))
    actuals = panel.actuals(s, o, horizon)
    ratio[usable] = recent_ratio(actuals - forecasts, scale[usable])
    return ratio


def model_bounds(
    artifact: Artifact,
    forecasts: np.ndarray,
    spread: np.ndarray,
    scale: np.ndarray,
    probabilities: list[float],
) -> np.ndarray:
    """Bounds (N, H, Q, C) of forecasts (N, H, C), with the members' spread (N, H, C) and
    the error scales (N, C), all in data units."""
    bounds = require_intervals(artifact).bounds(forecasts, spread, scale, probabilities)
    return hold_forecast(bounds, forecasts, probabilities)


def uncertainty_columns(
    artifact: Artifact,
    forecasts: np.ndarray,
    spread: np.ndarray,
    scale: np.ndarray,
    asked: Uncertainty,
    ids: list[str],
) -> dict[str, np.ndarray]:
    """Bounds and quantiles (N, H, C) of the series ``ids`` by column suffix: ``lo-95`` ...
    ``hi-95``, ``q-0.9``.

    Lower bounds from the widest level in, then upper bounds outward (the order of the
    Nixtla libraries), so a row reads from low to high; an interval always holds its
    forecast (`metrics.hold_forecast`).
    """
    if not asked:
        return {}
    bounds = model_bounds(artifact, forecasts, spread, scale, asked.probabilities())
    flat = np.flatnonzero(((scale <= 0)[:, None, :] & (spread <= 0)).any(axis=(1, 2)))
    if len(flat):
        log.warning(
            "%d series did not move over their last %d seasonal cycles and the networks "
            "agree on them, so their intervals have zero width: %s",
            len(flat),
            LOCAL_SEASONS,
            shown_ids([ids[k] for k in flat]),
        )
    columns: dict[str, np.ndarray] = {}
    n_levels = len(asked.levels)
    for k, level in sorted(enumerate(asked.levels), key=lambda x: -x[1]):
        columns[f"lo-{level_name(level)}"] = bounds[:, :, 2 * k]
    for k, level in enumerate(asked.levels):
        columns[f"hi-{level_name(level)}"] = bounds[:, :, 2 * k + 1]
    for k, q in enumerate(asked.quantiles):
        columns[f"q-{q:g}"] = bounds[:, :, 2 * n_levels + k]
    return columns
