"""Calibration: a trained model's errors on its validation windows become its prediction
intervals (`intervals` fits them, `pooled` widens the pool when the windows are few).

Each window's error scale is measured here as `predict` measures it at an origin
(`uncertainty.recent_difficulty`, `intervals.base_scale`), so the stored quantiles answer
the question predict asks.
"""

from __future__ import annotations

import numpy as np

from forecaster.artifact import Artifact
from forecaster.data import Panel
from forecaster.inputs import model_inputs, run_ensemble
from forecaster.intervals import (
    DIFFICULTY_PRIOR,
    SPREAD_WEIGHT,
    Intervals,
    base_scale,
    calibration_origins,
    difficulty_origins,
    fit_intervals,
    moved_windows,
    recency_weights,
)
from forecaster.pooled import SOURCE_VALIDATION, needs_pooling, pool_intervals, training_origins
from forecaster.seasons import season_length
from forecaster.uncertainty import recent_difficulty
from forecaster.windows import Split


def calibrate(
    artifact: Artifact,
    panel: Panel,
    split: Split,
    prior: float = DIFFICULTY_PRIOR,
    spread_weight: float = SPREAD_WEIGHT,
) -> Intervals | None:
    """Intervals from the trained model's errors on its validation windows (`intervals`).

    None when no series has a validation window: then the model gives point forecasts only.
    """
    horizon = artifact.model_config.horizon
    season = season_length(panel.freq, panel.schema.session)
    series, origins = calibration_origins(split.n_train, split.n_val, horizon)
    if not len(series):
        return None

    def recent(series: np.ndarray, origins: np.ndarray) -> np.ndarray:
        return base_scale(panel.histories(series, origins), season)

    forecasts, spread = _window_forecasts(artifact, panel, series, origins)
    tr_series, tr_origins = difficulty_origins(split.n_train, horizon)
    tr_forecasts, _ = _window_forecasts(artifact, panel, tr_series, tr_origins)
    everyone = np.arange(panel.n_series)
    scale, end_scale = recent(series, origins), recent(everyone, panel.lengths)
    before = (recent_difficulty(artifact, panel, series, origins, scale),
              recent_difficulty(artifact, panel, everyone, panel.lengths, end_scale))  # fmt: skip
    actuals = panel.actuals(series, origins, horizon)
    intervals = fit_intervals(
        (forecasts, spread, actuals, series, scale,
         recency_weights(series, origins, split.n_val)),
        (tr_forecasts, panel.actuals(tr_series, tr_origins, horizon), tr_series,
         recent(tr_series, tr_origins)),
        end_scale,
        prior,
        spread_weight,
        before,
    )  # fmt: skip
    if intervals is None or not needs_pooling(intervals.info):
        if intervals is not None:
            intervals.info["source"] = SOURCE_VALIDATION
        return intervals
    with np.errstate(divide="ignore", invalid="ignore"):
        validation = (actuals - forecasts) / intervals.normaliser(
            spread, intervals.factor(intervals.difficulty[series], before[0]) * scale
        )
    # Origins with a whole context, as a forecast from the end of a series has (earlier ones
    # read padding and a recent scale of a few rows: lynx's first origins erred 10^5 scales).
    lookback = artifact.model_config.lookback
    pool_series, pool_origins = training_origins(split.n_train, horizon, lookback)
    pool_forecasts, pool_spread = _window_forecasts(artifact, panel, pool_series, pool_origins)
    pool_scale = recent(pool_series, pool_origins)
    pool_factor = intervals.factor(
        intervals.difficulty[pool_series],
        recent_difficulty(artifact, panel, pool_series, pool_origins, pool_scale),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        training = (panel.actuals(pool_series, pool_origins, horizon) - pool_forecasts) / (
            intervals.normaliser(pool_spread, pool_factor * pool_scale)
        )
    moving = np.asarray((scale > 0).any(axis=0) | (pool_scale > 0).any(axis=0))
    validation = flat_left_out(validation, scale, moving)
    training = flat_left_out(training, pool_scale, moving)
    validated = split.n_val[split.n_val >= horizon]
    return pool_intervals(intervals, validation, training, float(validated.sum()) / horizon)


def flat_left_out(errors: np.ndarray, scale: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Normalised errors (N, H, C), NaN (left out of the pool) for windows whose history
    never moved in a target that moves (`intervals.moved_windows`, on their recent scales
    (N, C)): their normaliser is the members' spread alone, so a series of zeros with one
    spike of 100 scored 10^6 there, and its 95% bound was 7,500 times the spike."""
    return np.where(moved_windows(scale, moving)[:, None, None], errors, np.nan)


def _window_forecasts(
    artifact: Artifact, panel: Panel, series: np.ndarray, origins: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and the members' spread (N, H, C), in data units, of windows of known
    series (scaled with the training statistics)."""
    contexts = model_inputs(artifact, panel, artifact.scaler, series, origins)
    scaled, spread = run_ensemble(artifact, contexts)
    forecasts = artifact.scaler.inverse(scaled.astype(np.float64), series)
    return forecasts, spread * artifact.scaler.std[series][:, None, :]
