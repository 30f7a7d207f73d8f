"""Backtests: forecasts from past origins of every series, beside what really happened.

The same inputs, network and bounds as `predict` (`inputs`, `uncertainty`), from origins
inside the data instead of after its end; `evaluate` scores them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster import nonnegative, outliers, starts
from forecaster.artifact import Artifact
from forecaster.data import Panel
from forecaster.errors import DataError
from forecaster.inputs import (
    check_context,
    check_horizon,
    model_inputs,
    required_rows,
    run_ensemble,
    shown_ids,
    window_scaler,
)
from forecaster.uncertainty import error_scales, model_bounds

log = logging.getLogger("forecaster")


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
    candidates, usable = _candidates(panel, horizon, windows, stride, needed)
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
            shown_ids(skipped),
        )
    if not len(series):
        raise DataError(
            f"no series has enough rows to evaluate: each needs {needed} rows of history "
            f"plus {horizon} actual values at its end"
        )
    return series, origins


def _candidates(
    panel: Panel, horizon: int, windows: int, stride: int, needed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every series' last ``windows`` origins (S, windows), and which leave ``needed`` rows."""
    lengths = panel.lengths.astype(np.int64)
    candidates = lengths[:, None] - horizon - stride * np.arange(windows)[::-1][None, :]
    return candidates, candidates >= max(needed, 1)


def first_origins(panel: Panel, series: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Each series' first backtest origin (S,; its length where it has none): rows before a
    series' start are left out and outliers filled before it only, so that no scored row is
    changed or read."""
    first = panel.lengths.astype(np.int64)
    np.minimum.at(first, series, origins)
    return first


def fill_before_origins(
    artifact: Artifact,
    panel: Panel,
    horizon: int | None = None,
    windows: int = 1,
    stride: int | None = None,
    continued: np.ndarray | None = None,
) -> Panel:
    """``panel`` as the model's training read its data, before each series' first origin of
    `backtest` (same arguments): rows before a series' start left out and outliers filled,
    said once. What the model and the baselines of `evaluate` both read; origins count from
    each series' end, so they stand where they stood. A series ``continued`` (S,) from the
    model's stored rows keeps its first rows: they are not where it started."""
    horizon = check_horizon(artifact, horizon)
    room = rows_after_origin(artifact, horizon)
    needed = required_rows(artifact)
    config = artifact.train_config

    def until(panel: Panel) -> np.ndarray:
        candidates, usable = _candidates(panel, room, windows, stride or horizon, needed)
        series = np.repeat(np.arange(panel.n_series), usable.sum(axis=1))
        return first_origins(panel, series, candidates[usable])

    judged = None if continued is None else ~np.asarray(continued)
    panel = starts.started(panel, config.leading_run, starts.kept_rows(artifact),
                           until=until(panel), source="DATA", judged=judged)  # fmt: skip
    return outliers.cleaned(panel, config.outliers, until=until(panel), source="DATA")


def rows_after_origin(artifact: Artifact, horizon: int) -> int:
    """Rows a backtest origin must leave after it (``horizon``: as `check_horizon` gave
    it): the steps scored, or the model's whole horizon when it reads covariates over it."""
    config = artifact.model_config
    return config.horizon if config.n_covariates else horizon


def backtest(
    artifact: Artifact,
    panel: Panel,
    horizon: int | None = None,
    windows: int = 1,
    stride: int | None = None,
    probabilities: list[float] | None = None,
    hold_future: bool = False,
    filled: bool = False,
) -> Backtest:
    """Forecast the last ``windows`` horizons of every series, origins ``stride`` apart,
    with the model's bounds at ``probabilities`` when given.

    Future covariates are their actual values (perfect foresight of the drivers), or with
    ``hold_future`` the value at each origin's last context row held over the horizon:
    the difference is what knowing the drivers is worth. A model with covariates reads
    them over its whole horizon, so its origins leave that many rows after them. The rows
    before the first origin are read as the model's training read its data, unless the
    caller did (``filled``: `fill_before_origins`)."""
    horizon = check_horizon(artifact, horizon)
    if not filled:
        panel = fill_before_origins(artifact, panel, horizon, windows, stride)
    stride = stride or horizon
    config = artifact.model_config
    room = rows_after_origin(artifact, horizon)
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
    actuals = panel.actuals(series, origins, horizon)
    steps = np.arange(horizon)
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


def _warn_if_seen(
    artifact: Artifact, panel: Panel, series: np.ndarray, times: pd.DatetimeIndex, horizon: int
) -> None:
    known = panel.positions(artifact.ids, series)
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
