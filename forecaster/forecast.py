"""From a trained model and recent history to future values with timestamps.

All series (and all backtest origins) go through the network in one batched pass, in
NumPy (`inference`): prediction never imports torch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster import inference
from forecaster.artifact import Artifact
from forecaster.data import Panel
from forecaster.errors import DataError, UsageError
from forecaster.windows import Scaler, context_windows

log = logging.getLogger("forecaster")


def run_model(artifact: Artifact, contexts: np.ndarray) -> np.ndarray:
    """Scaled contexts (N, L, C) to scaled forecasts (N, H, C)."""
    return inference.run(artifact.weights, artifact.model_config, contexts)


def check_horizon(artifact: Artifact, horizon: int | None) -> int:
    trained = artifact.model_config.horizon
    if horizon is None:
        return trained
    if not 1 <= horizon <= trained:
        raise UsageError(
            f"invalid value for --horizon: {horizon}; this model forecasts 1 to {trained} steps "
            "(train with a longer --horizon for more)"
        )
    return horizon


def scaler_for(artifact: Artifact, panel: Panel) -> Scaler:
    """The stored scalers of known series; series new to the model are scaled by their own rows."""
    channels = len(artifact.schema.targets)
    mean = np.empty((panel.n_series, channels))
    std = np.empty((panel.n_series, channels))
    new = []
    for i, series_id in enumerate(panel.ids):
        position = artifact.series_position(series_id)
        if position is not None:
            mean[i], std[i] = artifact.scaler.mean[position], artifact.scaler.std[position]
        else:
            rows = panel.series(i)
            spread = rows.std(axis=0)
            mean[i], std[i] = rows.mean(axis=0), np.where(spread > 0, spread, 1.0)
            new.append(series_id)
    if new:
        shown = ", ".join(new[:5]) + (", ..." if len(new) > 5 else "")
        log.warning(
            "%d series not seen in training (%s): scaled by their own history", len(new), shown
        )
    return Scaler(mean=mean, std=std)


def future_index(last: pd.Timestamp, freq: str, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]


def predict(
    artifact: Artifact, panel: Panel | None = None, horizon: int | None = None
) -> pd.DataFrame:
    """Forecast every series: from the context stored in the model, or from ``panel``'s tail."""
    horizon = check_horizon(artifact, horizon)
    lookback = artifact.model_config.lookback
    if panel is None:
        ids, ends = artifact.ids, artifact.series_end
        scaler = artifact.scaler
        contexts = (artifact.context - scaler.mean[:, None, :]) / scaler.std[:, None, :]
        contexts = contexts.astype(np.float32)
    else:
        ids, ends = panel.ids, [panel.end(i) for i in range(panel.n_series)]
        scaler = scaler_for(artifact, panel)
        contexts = context_windows(panel, scaler, lookback)
    scaled = run_model(artifact, contexts)[:, :horizon]  # (S, H, C)
    values = scaler.inverse(scaled.astype(np.float64), np.arange(len(ids)))
    return forecast_frame(artifact, ids, ends, values)


def forecast_frame(
    artifact: Artifact, ids: list[str], ends: list[pd.Timestamp], values: np.ndarray
) -> pd.DataFrame:
    """Rows of [id,] timestamp, one column per target, named as in the training data."""
    schema, horizon = artifact.schema, values.shape[1]
    times = np.concatenate([future_index(end, artifact.freq, horizon).to_numpy() for end in ends])
    frame = pd.DataFrame({schema.time: times})
    if schema.id is not None:
        frame.insert(0, schema.id, np.repeat(np.asarray(ids, dtype=object), horizon))
    flat = values.reshape(-1, values.shape[2])
    for c, name in enumerate(schema.targets):
        frame[name] = flat[:, c]
    return frame


@dataclass
class Backtest:
    """Forecasts from several origins of each series, with what really happened."""

    series: np.ndarray  # (N,) index into the panel
    origins: np.ndarray  # (N,) row of the first forecast step within its series
    forecasts: np.ndarray  # (N, H, C) in data units
    actuals: np.ndarray  # (N, H, C)
    times: list[pd.DatetimeIndex]  # (N,) timestamps of the forecast steps


def backtest(
    artifact: Artifact,
    panel: Panel,
    horizon: int | None = None,
    windows: int = 1,
    stride: int | None = None,
) -> Backtest:
    """Forecast the last ``windows`` horizons of every series, origins ``stride`` apart."""
    horizon = check_horizon(artifact, horizon)
    stride = stride or horizon
    series, origins, skipped = [], [], []
    for i, n in enumerate(panel.lengths):
        found = [n - horizon - k * stride for k in range(windows)]
        found = [o for o in found if o >= 1]
        if not found:
            skipped.append(panel.ids[i])
        series.extend([i] * len(found))
        origins.extend(sorted(found))
    if skipped:
        log.warning(
            "%d series too short to evaluate (need more than %d rows): %s",
            len(skipped),
            horizon,
            ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else ""),
        )
    if not series:
        raise DataError(
            f"no series has enough rows to evaluate: each needs history plus {horizon} actual "
            "values at its end"
        )
    series_arr, origins_arr = np.asarray(series), np.asarray(origins)
    scaler = scaler_for(artifact, panel)
    lookback = artifact.model_config.lookback
    contexts = context_windows(panel, scaler, lookback, series_arr, origins_arr)
    scaled = run_model(artifact, contexts)[:, :horizon]
    forecasts = scaler.inverse(scaled.astype(np.float64), series_arr)
    actuals = np.stack(
        [panel.series(s)[o : o + horizon] for s, o in zip(series_arr, origins_arr, strict=True)]
    )
    times = [panel.index(s)[o : o + horizon] for s, o in zip(series_arr, origins_arr, strict=True)]
    _warn_if_seen(artifact, panel, series_arr, times)
    return Backtest(series_arr, origins_arr, forecasts, actuals, times)


def _warn_if_seen(
    artifact: Artifact, panel: Panel, series: np.ndarray, times: list[pd.DatetimeIndex]
) -> None:
    seen = 0
    for s, index in zip(series, times, strict=True):
        position = artifact.series_position(panel.ids[s])
        if position is not None:
            seen += int((index <= artifact.series_end[position]).sum())
    if seen:
        total = sum(len(t) for t in times)
        log.warning(
            "%d of %d evaluated steps fall inside the model's training range, so these scores "
            "are optimistic; evaluate on data after the training period (train --holdout N)",
            seen,
            total,
        )
