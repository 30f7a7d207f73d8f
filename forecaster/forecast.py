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

from forecaster import blend, inference, nonnegative
from forecaster.artifact import Artifact
from forecaster.data import Panel, grid_timestamps
from forecaster.data.covariates import check_future, with_calendar
from forecaster.data.forms import format_form, parse_form
from forecaster.data.times import aware_times
from forecaster.errors import DataError, ModelFileError, UsageError
from forecaster.frequency import season_length
from forecaster.intervals import (
    LOCAL_SEASONS,
    Intervals,
    base_scale,
    recent_ratio,
    too_few_windows,
    unresolved,
)
from forecaster.metrics import hold_forecast, level_name, level_probabilities
from forecaster.windows import Scaler, assemble_inputs, context_windows

log = logging.getLogger("forecaster")


def model_inputs(
    artifact: Artifact,
    panel: Panel,
    scaler: Scaler,
    series: np.ndarray,
    ends: np.ndarray,
    window_scaler: Scaler | None = None,
    future: np.ndarray | None = None,
) -> np.ndarray:
    """What the network reads for the windows of ``series[k]`` ending before row
    ``ends[k]``: scaled contexts (N, L, C), and with covariates the whole window of
    covariates too (N, L + H, C + K; rows past a series' end from ``future``)."""
    config = artifact.model_config
    with_covariates = artifact.covariate_scaler is not None
    return context_windows(
        panel, scaler, config.lookback, series, ends, window_scaler=window_scaler,
        covariates=artifact.covariate_scaler, horizon=config.horizon if with_covariates else 0,
        future=future,
    )  # fmt: skip


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
    forecast = inference.run(artifact.weights, artifact.model_config, contexts)
    return blend.apply(artifact.blend, forecast, contexts, artifact)


def run_ensemble(artifact: Artifact, contexts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaled contexts (N, L, C) to the scaled forecast (float32, as `run_model`) and the
    spread of the members' forecasts (float64), (N, H, C) each; with a blend, the blended
    forecast and the spread times the networks' weight."""
    members = inference.run_members(artifact.weights, artifact.model_config, contexts)
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


def _shown(ids: list[str], limit: int = 5) -> str:
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
    if new and warn:
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
    lookback = artifact.model_config.lookback
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
        _shown(sorted(set(ids))),
        fewest,
        worst,
    )


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
    position = {series_id: k for k, series_id in enumerate(artifact.ids)}
    known = np.array([position.get(panel.ids[s], -1) for s in series], dtype=np.int64)
    factor = np.where(
        (known >= 0)[:, None], intervals.difficulty[np.maximum(known, 0)],
        intervals.new_series_factor[None, :],
    )  # fmt: skip
    rows = [panel.series(int(s))[: int(o)] for s, o in zip(series, origins, strict=True)]
    scale = base_scale(rows, season_length(artifact.freq, artifact.schema.session))
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
    actuals = panel.values[(panel.offsets[s] + o)[:, None] + np.arange(horizon)]
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
            _shown([ids[k] for k in flat]),
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


def predict(
    artifact: Artifact,
    panel: Panel | None = None,
    horizon: int | None = None,
    asked: Uncertainty | None = None,
    future: np.ndarray | None = None,
    future_source: str = "DATA",
) -> pd.DataFrame:
    """Forecast every series: from the context stored in the model, or from ``panel``'s tail,
    with the intervals and quantiles ``asked`` for. A model with future covariates reads
    them from ``future`` (S, H, Kf; a --future file) or else from the rows after each
    series' last target value in ``panel``."""
    asked = asked or Uncertainty([], [])
    if asked:
        require_intervals(artifact)
    horizon = check_horizon(artifact, horizon)
    lookback = artifact.model_config.lookback
    if panel is None:
        ids, ends = artifact.ids, pd.DatetimeIndex(artifact.series_end)
        scaler = artifact.scaler
        contexts = (artifact.context - scaler.mean[:, None, :]) / scaler.std[:, None, :]
        contexts = contexts.astype(np.float32)
        if artifact.covariate_scaler is not None:
            assert artifact.context_covariates is not None
            ahead = horizon_covariates(artifact, list(ids), ends, future, future_source)
            schema = artifact.schema
            contexts = assemble_inputs(
                contexts, np.concatenate([artifact.context_covariates, ahead], axis=1),
                artifact.covariate_scaler, schema.n_past, schema.n_future,
            )  # fmt: skip
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
        ahead = None
        if artifact.covariate_scaler is not None:
            given = future
            if given is None and panel.future is not None:
                first = artifact.schema.n_past
                given = panel.future[:, :, first : first + len(artifact.schema.future)]
            ahead = horizon_covariates(artifact, list(ids), ends, given, future_source)
        contexts = model_inputs(artifact, panel, scaler, series, panel.lengths,
                                window_scaler=scaler, future=ahead)  # fmt: skip
        check_context(artifact, panel, series, panel.lengths, scaler, contexts)
    scaled, spread = run_ensemble(artifact, contexts)
    everyone = np.arange(len(ids))
    values = scaler.inverse(scaled[:, :horizon].astype(np.float64), everyone)  # (S, H, C)
    ends_at = everyone if panel is None else panel.lengths
    held = nonnegative.mask(artifact, panel, everyone, ends_at)
    extra = {}
    if asked:
        spread = spread[:, :horizon] * scaler.std[:, None, :]
        scale = error_scales(artifact, panel, everyone, ends_at)
        extra = uncertainty_columns(artifact, values, spread, scale, asked, list(ids))
        extra = {name: nonnegative.clip(bounds, held) for name, bounds in extra.items()}
    return forecast_frame(artifact, ids, ends, nonnegative.clip(values, held), extra)


def output_times(artifact: Artifact, naive: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Grid timestamps as the user's data wrote them: in its zone, with the offset."""
    schema = artifact.schema
    if schema.zone is None:
        return naive
    return aware_times(naive, schema.zone, schema.utc_grid)


def written_times(artifact: Artifact, naive: pd.DatetimeIndex) -> pd.Index:
    """Grid timestamps as the input wrote its times: in its form (years, step numbers,
    ``2011Q3``, ``Sep 1995``: `forms`) or, for timestamps, as `output_times`."""
    form = artifact.schema.time_form
    if form is None:
        return output_times(artifact, naive)
    return pd.Index(format_form(pd.DatetimeIndex(naive), form))


def read_written(artifact: Artifact, column: pd.Series) -> pd.DatetimeIndex:
    """`written_times` read back: the grid timestamps of a forecast frame's time column."""
    form = artifact.schema.time_form
    if form is None:
        return pd.DatetimeIndex(column)
    return pd.DatetimeIndex(parse_form(column, form, artifact.schema.time))


def forecast_frame(
    artifact: Artifact,
    ids: list[str],
    ends: pd.DatetimeIndex,
    values: np.ndarray,
    extra: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Rows of [id,] timestamp, one column per target, named as in the training data, each
    followed by its ``extra`` columns (``<target>-<suffix>``, arrays shaped as ``values``).

    Built in one go: inserting one column per target took minutes for 10,000 targets.
    """
    schema, horizon = artifact.schema, values.shape[1]
    steps = np.tile(np.arange(1, horizon + 1), len(ids))
    naive = grid_timestamps(np.repeat(ends.to_numpy(dtype="datetime64[ns]"), horizon), steps,
                            artifact.freq, schema.session)  # fmt: skip
    columns: dict[str, object] = {}
    if schema.id is not None:
        columns[schema.id] = np.repeat(np.asarray(ids, dtype=object), horizon)
    columns[schema.time] = written_times(artifact, naive)
    head = pd.DataFrame(columns)
    if not extra:
        body = pd.DataFrame(values.reshape(-1, values.shape[2]), columns=list(schema.targets))
        return pd.concat([head, body], axis=1)
    arrays = [values, *extra.values()]  # each (S, H, C)
    names = [[t for t in schema.targets]] + [[f"{t}-{suffix}" for t in schema.targets]
                                              for suffix in extra]  # fmt: skip
    stacked = np.stack(arrays, axis=-1).reshape(-1, len(schema.targets) * len(arrays))
    order = [name for c in range(len(schema.targets)) for name in (n[c] for n in names)]
    body = pd.DataFrame(stacked, columns=order)
    return pd.concat([head, body], axis=1)


@dataclass
class Backtest:
    """Forecasts from several origins of each series, with what really happened."""

    series: np.ndarray  # (N,) index into the panel
    origins: np.ndarray  # (N,) row of the first forecast step within its series
    forecasts: np.ndarray  # (N, H, C) in data units
    actuals: np.ndarray  # (N, H, C)
    times: pd.DatetimeIndex  # (N * H,) timestamps of the forecast steps, window by window
    bounds: np.ndarray | None = None  # (N, H, Q, C) at the probabilities asked for


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
    probabilities: list[float] | None = None,
    hold_future: bool = False,
) -> Backtest:
    """Forecast the last ``windows`` horizons of every series, origins ``stride`` apart,
    with the model's bounds at ``probabilities`` when given.

    Future covariates are their actual values (perfect foresight of the drivers), or with
    ``hold_future`` the value at each origin's last context row held over the horizon:
    the difference is what knowing the drivers is worth. A model with covariates reads
    them over its whole horizon, so its origins leave that many rows after them."""
    horizon = check_horizon(artifact, horizon)
    stride = stride or horizon
    config = artifact.model_config
    room = config.horizon if config.n_covariates else horizon
    series, origins = backtest_origins(panel, room, windows, stride, required_rows(artifact))
    scaler = window_scaler(artifact, panel, series, origins)
    lookback = config.lookback
    contexts = model_inputs(artifact, panel, scaler, series, origins, window_scaler=scaler)
    if hold_future and artifact.schema.future:
        first = config.n_targets + config.n_past
        user = slice(first, first + len(artifact.schema.future))
        contexts[:, lookback:, user] = contexts[:, lookback - 1 : lookback, user]
    check_context(artifact, panel, series, origins, scaler, contexts)
    scaled, spread = run_ensemble(artifact, contexts)
    forecasts = scaler.inverse(scaled[:, :horizon].astype(np.float64), np.arange(len(series)))
    steps = np.arange(horizon)
    rows = (panel.offsets[series] + origins)[:, None] + steps[None, :]  # (N, H)
    actuals = panel.values[rows]
    times = panel.timestamps(np.repeat(series, horizon), (origins[:, None] + steps).ravel())
    _warn_if_seen(artifact, panel, series, times, horizon)
    bounds = None
    held = nonnegative.mask(artifact, panel, series, origins)
    if probabilities:
        scale = error_scales(artifact, panel, series, origins)
        spread = spread[:, :horizon] * scaler.std[:, None, :]
        bounds = model_bounds(artifact, forecasts, spread, scale, probabilities)
        bounds = nonnegative.clip(bounds, held)
    forecasts = nonnegative.clip(forecasts, held)
    return Backtest(series, origins, forecasts, actuals, times, bounds)


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
    times = written_times(artifact, result.times)  # (N * H,) window by window
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
