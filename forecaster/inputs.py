"""What the network reads for a window, and the network run on it.

Every number that scales a window comes from rows before it: the stored statistics of the
training rows for series the model knows, and for a new series the rows before each
window's origin, never the actuals a backtest scores (docs/design.md, stage 3, "Windows and
scaling"). Predict, evaluate, calibration and validation all build their inputs here, so
that what the network reads cannot differ between them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecaster import blend, inference
from forecaster.artifact import Artifact
from forecaster.data import Panel, grid_timestamps
from forecaster.data.covariates import check_future, with_calendar
from forecaster.errors import DataError, UsageError
from forecaster.seasons import season_length
from forecaster.windows import Scaler, context_windows, row_statistics

log = logging.getLogger("forecaster")


def model_inputs(
    artifact: Artifact,
    panel: Panel,
    scaler: Scaler,
    series: np.ndarray,
    ends: np.ndarray,
    window_scaler: Scaler | None = None,
    future: np.ndarray | None = None,
    rows: int | None = None,
) -> np.ndarray:
    """What the model reads for the windows of ``series[k]`` ending before row ``ends[k]``:
    scaled contexts (N, R, C) of ``rows`` rows (default `context_rows`: the networks'
    lookback, or more where the blend's baseline reads more; the networks read the last
    lookback rows, `network_view`), and with covariates the whole window of covariates too
    (N, L + H, C + K; rows past a series' end from ``future``)."""
    config = artifact.model_config
    with_covariates = artifact.covariate_scaler is not None
    return context_windows(
        panel, scaler, rows or context_rows(artifact), series, ends, window_scaler=window_scaler,
        covariates=artifact.covariate_scaler, horizon=config.horizon if with_covariates else 0,
        future=future,
    )  # fmt: skip


def context_rows(artifact: Artifact) -> int:
    """Rows before each origin the model reads: its networks' lookback, or more where its
    blend's baseline reads more (never with covariates: such models are not blended)."""
    return blend.reads(artifact.blend, artifact.model_config.lookback)


def network_view(artifact: Artifact, contexts: np.ndarray) -> np.ndarray:
    """The rows of ``contexts`` the networks read: the last lookback rows of each window."""
    lookback = artifact.model_config.lookback
    if artifact.covariate_scaler is not None or contexts.shape[1] == lookback:
        return contexts
    return contexts[:, contexts.shape[1] - lookback :]


def stored_contexts(artifact: Artifact) -> np.ndarray:
    """The raw rows (S, R, C) before each series' end that the model stores, R = `context_rows`:
    its stored context, after the rows it stores before that (`Artifact.earlier`) where the
    model reads more than its lookback; left-padded with the first real row, as
    `windows.context_windows` pads a short history."""
    context, rows = artifact.context, context_rows(artifact)
    more = rows - context.shape[1]
    if more <= 0:
        return context
    count = len(context)
    out = np.empty((count, rows, context.shape[2]), dtype=context.dtype)
    out[:, more:] = context
    for k in range(count):
        real, earlier = int(artifact.context_real[k]), 0
        if real == context.shape[1] and artifact.earlier is not None:
            assert artifact.earlier_real is not None  # stored together
            earlier = min(more, int(artifact.earlier_real[k]))
            width = artifact.earlier.shape[1]
            out[k, more - earlier : more] = artifact.earlier[k, width - earlier :]
        first = out[k, more - earlier] if earlier else context[k, context.shape[1] - real]
        out[k, : more - earlier] = first
    return out


def horizon_covariates(
    artifact: Artifact,
    ids: list[str],
    ends: pd.DatetimeIndex,
    user_future: np.ndarray | None,
    source: str,
) -> np.ndarray:
    """Raw covariates (S, H, K) of each series' next H steps: the user's future ones
    (S, H, Kf), checked complete, and the calendar features of the forecast timestamps.

    The network reads its future covariates over its whole horizon, so all H steps are
    needed even when fewer are asked for."""
    schema, config = artifact.schema, artifact.model_config
    count, horizon = len(ids), config.horizon
    user = np.full((count, horizon, schema.n_past + len(schema.future) + schema.n_static), np.nan)
    if schema.future:
        if user_future is None:
            raise DataError(
                f"the model needs its future covariates ({', '.join(map(repr, schema.future))}) "
                f"for the {horizon} steps after each series' end: give them as rows after "
                "the last target value in DATA, or in a file with --future"
            )
        given = np.full((count, horizon, len(schema.future)), np.nan)
        steps = min(horizon, user_future.shape[1])
        given[:, :steps] = user_future[:, :steps]
        check_future(given, schema.future, ids, ends, artifact.freq, source, schema.session)
        user[:, :, schema.n_past : schema.n_past + len(schema.future)] = given
    steps_ahead = np.tile(np.arange(1, horizon + 1), count)
    naive = grid_timestamps(np.repeat(ends.to_numpy(dtype="datetime64[ns]"), horizon),
                            steps_ahead, artifact.freq, schema.session)  # fmt: skip
    flat = with_calendar(user.reshape(count * horizon, -1), naive, schema, artifact.freq)
    return flat.reshape(count, horizon, -1)


def run_model(artifact: Artifact, contexts: np.ndarray) -> np.ndarray:
    """Scaled contexts (N, L, C) to scaled forecasts (N, H, C), blended with a baseline
    when the model holds a blend (`blend`)."""
    config = artifact.model_config
    forecast = inference.run(artifact.weights, config, network_view(artifact, contexts))
    return blend.apply(artifact.blend, forecast, contexts, artifact)


def run_ensemble(artifact: Artifact, contexts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaled contexts (N, L, C) to the scaled forecast (float32, as `run_model`) and the
    spread of the members' forecasts (float64), (N, H, C) each; with a blend, the blended
    forecast and the spread times the networks' weight."""
    members = inference.run_members(
        artifact.weights, artifact.model_config, network_view(artifact, contexts)
    )
    forecast = members.mean(axis=0, dtype=np.float32)
    spread = members.std(axis=0, dtype=np.float64)
    if artifact.blend is None:
        return forecast, spread
    return blend.apply(artifact.blend, forecast, contexts, artifact), spread * artifact.blend.weight


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


def shown_ids(ids: list[str], limit: int = 5) -> str:
    return ", ".join(ids[:limit]) + (", ..." if len(ids) > limit else "")


def window_scaler(
    artifact: Artifact, panel: Panel, series: np.ndarray, origins: np.ndarray, warn: bool = True
) -> Scaler:
    """Statistics (N, C) for the window of ``series[k]`` that ends before row ``origins[k]``.

    Known series: the stored statistics of their training rows. New series: the mean and
    spread of their rows before the origin, so a backtest never scales a window with the
    actuals it is scored on.
    """
    channels = len(artifact.schema.targets)
    mean = np.empty((len(series), channels))
    std = np.empty((len(series), channels))
    known = panel.positions(artifact.ids, series)
    seen = known >= 0
    mean[seen] = artifact.scaler.mean[known[seen]]
    std[seen] = artifact.scaler.std[known[seen]]
    for k in np.flatnonzero(~seen):
        mean[k], std[k] = row_statistics(panel.history(int(series[k]), int(origins[k])))
    new = sorted({panel.ids[s] for s in series[~seen]})
    if new and warn:
        log.warning(
            "%d series not seen in training (%s): each window scaled by the rows before it",
            len(new),
            shown_ids(new),
        )
    return Scaler(mean=mean, std=std)


def required_rows(artifact: Artifact) -> int:
    """Fewest rows of history a fresh forecast may start from: one seasonal cycle, or the
    LSTM's own window when that is shorter. Fewer, and most of what the network reads is
    padding; between this and the full lookback, `check_context` warns."""
    return max(
        1,
        min(
            season_length(artifact.freq, artifact.schema.session),
            artifact.model_config.recurrent_rows,
        ),
    )


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
    lookback = context_rows(artifact)  # the networks' lookback, or the blend's rows
    short = origins < lookback
    if not short.any():
        return
    alternative = contexts[short].copy()
    channels = artifact.model_config.n_targets
    for j, k in enumerate(np.flatnonzero(short)):
        real = int(origins[k])
        padding = contexts[k, lookback - real : lookback, :channels].mean(axis=0)
        alternative[j, : lookback - real, :channels] = padding
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
        shown_ids(sorted(set(ids))),
        fewest,
        worst,
    )
