"""From a trained model and recent history to future values with timestamps.

All series (and all backtest origins) go through the network in one batched pass, in
NumPy (`inference`): prediction never imports torch. Every number that scales a window
comes from rows before it: the stored statistics of the training rows for series the model
knows, and for a new series the rows before each window's origin, never the actuals a
backtest scores.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster import inference
from forecaster.artifact import Artifact
from forecaster.data import Panel, grid_timestamps
from forecaster.data.times import aware_times
from forecaster.errors import DataError, UsageError
from forecaster.frequency import season_length
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


def _shown(ids: list[str], limit: int = 5) -> str:
    return ", ".join(ids[:limit]) + (", ..." if len(ids) > limit else "")


def window_scaler(
    artifact: Artifact, panel: Panel, series: np.ndarray, origins: np.ndarray
) -> Scaler:
    """Statistics (N, C) for the window of ``series[k]`` that ends before row ``origins[k]``.

    Known series: the stored statistics of their training rows. New series: the mean and
    spread of their rows before the origin, so a backtest never scales a window with the
    actuals it is scored on.
    """
    channels = len(artifact.schema.targets)
    mean = np.empty((len(series), channels))
    std = np.empty((len(series), channels))
    position = {series_id: k for k, series_id in enumerate(artifact.ids)}
    known = np.array([position.get(panel.ids[s], -1) for s in series], dtype=np.int64)
    seen = known >= 0
    mean[seen] = artifact.scaler.mean[known[seen]]
    std[seen] = artifact.scaler.std[known[seen]]
    for k in np.flatnonzero(~seen):
        rows = panel.series(int(series[k]))[: int(origins[k])]
        spread = rows.std(axis=0)
        mean[k] = rows.mean(axis=0)
        std[k] = np.where(spread > 1e-12 * np.maximum(np.abs(mean[k]), 1e-300), spread, 1.0)
    new = sorted({panel.ids[s] for s in series[~seen]})
    if new:
        log.warning(
            "%d series not seen in training (%s): each window scaled by the rows before it",
            len(new),
            _shown(new),
        )
    return Scaler(mean=mean, std=std)


def required_rows(artifact: Artifact) -> int:
    """Fewest rows of history a fresh forecast may start from: one seasonal cycle, or the
    LSTM's own window when that is shorter. Fewer, and most of what the network reads is
    padding; between this and the full lookback, `check_context` warns."""
    return max(1, min(season_length(artifact.freq), artifact.model_config.recurrent_rows))


def check_context(
    artifact: Artifact,
    panel: Panel,
    series: np.ndarray,
    origins: np.ndarray,
    scaler: Scaler,
    contexts: np.ndarray,
) -> None:
    """Warn when a window has fewer rows than the model reads, with how far that can move it.

    The model pads the missing older rows with the first one. How much that matters is
    measured, not guessed: the same windows padded with the mean of their rows instead,
    and the largest change of the forecast, in standard deviations of the series.
    """
    lookback = artifact.model_config.lookback
    short = origins < lookback
    if not short.any():
        return
    alternative = contexts[short].copy()
    for j, k in enumerate(np.flatnonzero(short)):
        real = int(origins[k])
        alternative[j, : lookback - real] = contexts[k, lookback - real :].mean(axis=0)
    moved = np.abs(run_model(artifact, alternative) - run_model(artifact, contexts[short]))
    worst = float(moved.max()) if moved.size else 0.0  # scaled units: standard deviations
    ids = [panel.ids[s] for s in series[short]]
    fewest = int(origins[short].min())
    log.warning(
        "%d forecast(s) start from fewer rows than the model reads (%d): %s (fewest: %d "
        "rows); the older rows are padded, and padded another way the forecast moves by up "
        "to %.2g standard deviations of the series",
        int(short.sum()),
        lookback,
        _shown(sorted(set(ids))),
        fewest,
        worst,
    )


def predict(
    artifact: Artifact, panel: Panel | None = None, horizon: int | None = None
) -> pd.DataFrame:
    """Forecast every series: from the context stored in the model, or from ``panel``'s tail."""
    horizon = check_horizon(artifact, horizon)
    lookback = artifact.model_config.lookback
    if panel is None:
        ids, ends = artifact.ids, pd.DatetimeIndex(artifact.series_end)
        scaler = artifact.scaler
        contexts = (artifact.context - scaler.mean[:, None, :]) / scaler.std[:, None, :]
        contexts = contexts.astype(np.float32)
    else:
        needed = required_rows(artifact)
        too_short = np.flatnonzero(panel.lengths < needed)
        if len(too_short):
            s = int(too_short[0])
            raise DataError(
                f"series {panel.ids[s]!r} has {int(panel.lengths[s])} row(s); the model reads "
                f"{lookback} and cannot forecast from fewer than {needed} (one season, or its "
                "LSTM's window): give more recent history, or predict without DATA from the "
                "history stored in the model"
            )
        ids, ends = panel.ids, panel.ends()
        series = np.arange(panel.n_series)
        scaler = window_scaler(artifact, panel, series, panel.lengths)
        contexts = context_windows(panel, scaler, lookback, window_scaler=scaler)
        check_context(artifact, panel, series, panel.lengths, scaler, contexts)
    scaled = run_model(artifact, contexts)[:, :horizon]  # (S, H, C)
    values = scaler.inverse(scaled.astype(np.float64), np.arange(len(ids)))
    return forecast_frame(artifact, ids, ends, values)


def output_times(artifact: Artifact, naive: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Grid timestamps as the user's data wrote them: in its zone, with the offset."""
    schema = artifact.schema
    if schema.zone is None:
        return naive
    return aware_times(naive, schema.zone, schema.utc_grid)


def forecast_frame(
    artifact: Artifact, ids: list[str], ends: pd.DatetimeIndex, values: np.ndarray
) -> pd.DataFrame:
    """Rows of [id,] timestamp, one column per target, named as in the training data.

    Built in one go: inserting one column per target took minutes for 10,000 targets.
    """
    schema, horizon = artifact.schema, values.shape[1]
    steps = np.tile(np.arange(1, horizon + 1), len(ids))
    naive = grid_timestamps(np.repeat(ends.to_numpy(dtype="datetime64[ns]"), horizon), steps,
                            artifact.freq)  # fmt: skip
    columns: dict[str, object] = {}
    if schema.id is not None:
        columns[schema.id] = np.repeat(np.asarray(ids, dtype=object), horizon)
    columns[schema.time] = output_times(artifact, naive)
    head = pd.DataFrame(columns)
    body = pd.DataFrame(values.reshape(-1, values.shape[2]), columns=list(schema.targets))
    return pd.concat([head, body], axis=1)


@dataclass
class Backtest:
    """Forecasts from several origins of each series, with what really happened."""

    series: np.ndarray  # (N,) index into the panel
    origins: np.ndarray  # (N,) row of the first forecast step within its series
    forecasts: np.ndarray  # (N, H, C) in data units
    actuals: np.ndarray  # (N, H, C)
    times: pd.DatetimeIndex  # (N * H,) timestamps of the forecast steps, window by window


def backtest_origins(
    panel: Panel, horizon: int, windows: int, stride: int, needed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The last ``windows`` origins of every series, ``stride`` apart, with ``needed`` rows
    of history before each (earlier origins are left out, with a warning)."""
    lengths = panel.lengths.astype(np.int64)
    candidates = lengths[:, None] - horizon - stride * np.arange(windows)[::-1][None, :]
    usable = candidates >= max(needed, 1)
    too_early = int(((candidates >= 1) & ~usable).sum())
    series = np.repeat(np.arange(panel.n_series), usable.sum(axis=1))
    origins = candidates[usable]
    skipped = [panel.ids[i] for i in np.flatnonzero(~usable.any(axis=1))]
    if too_early:
        log.warning(
            "%d window(s) left out: fewer than %d rows of history before them (the rows "
            "the model's LSTM reads)",
            too_early,
            needed,
        )
    if skipped:
        log.warning(
            "%d series too short to evaluate (need %d rows of history plus %d): %s",
            len(skipped),
            needed,
            horizon,
            _shown(skipped),
        )
    if not len(series):
        raise DataError(
            f"no series has enough rows to evaluate: each needs {needed} rows of history "
            f"plus {horizon} actual values at its end"
        )
    return series, origins


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
    series, origins = backtest_origins(panel, horizon, windows, stride, required_rows(artifact))
    scaler = window_scaler(artifact, panel, series, origins)
    lookback = artifact.model_config.lookback
    contexts = context_windows(panel, scaler, lookback, series, origins, window_scaler=scaler)
    check_context(artifact, panel, series, origins, scaler, contexts)
    scaled = run_model(artifact, contexts)[:, :horizon]
    forecasts = scaler.inverse(scaled.astype(np.float64), np.arange(len(series)))
    steps = np.arange(horizon)
    rows = (panel.offsets[series] + origins)[:, None] + steps[None, :]  # (N, H)
    actuals = panel.values[rows]
    times = panel.timestamps(np.repeat(series, horizon), (origins[:, None] + steps).ravel())
    _warn_if_seen(artifact, panel, series, times, horizon)
    return Backtest(series, origins, forecasts, actuals, times)


def backtest_frame(
    artifact: Artifact, panel: Panel, result: Backtest, others: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Every evaluated step as a tidy row: [id,] time, target, actual, model and ``others``
    (baselines, (N, H, C) each), timestamps in the data's zone with their offset."""
    schema = artifact.schema
    n, horizon, channels = result.forecasts.shape
    repeat = horizon * channels
    columns: dict[str, object] = {}
    if schema.id is not None:
        columns[schema.id] = np.repeat(np.asarray(panel.ids, dtype=object)[result.series], repeat)
    times = output_times(artifact, result.times)  # (N * H,) window by window
    columns[schema.time] = times.repeat(channels)
    columns["target"] = np.tile(np.asarray(schema.targets, dtype=object), n * horizon)
    columns["actual"] = result.actuals.reshape(-1)
    columns["model"] = result.forecasts.reshape(-1)
    for name, values in others.items():
        columns[name] = values.reshape(-1)
    return pd.DataFrame(columns)


def _warn_if_seen(
    artifact: Artifact, panel: Panel, series: np.ndarray, times: pd.DatetimeIndex, horizon: int
) -> None:
    position = {series_id: k for k, series_id in enumerate(artifact.ids)}
    known = np.array([position.get(panel.ids[s], -1) for s in series], dtype=np.int64)
    if not (known >= 0).any():
        return
    ends = pd.DatetimeIndex(artifact.series_end).to_numpy(dtype="datetime64[ns]")
    limit = np.where(known >= 0, ends[np.maximum(known, 0)], np.datetime64("NaT"))
    seen = int((times.to_numpy(dtype="datetime64[ns]") <= np.repeat(limit, horizon)).sum())
    if seen:
        log.warning(
            "%d of %d evaluated steps fall inside the model's training range, so these scores "
            "are optimistic; evaluate on data after the training period (train --holdout N)",
            seen,
            len(times),
        )
