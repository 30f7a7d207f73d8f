"""Forecasts and backtests as tables, with timestamps written as the user's data wrote them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecaster.artifact import Artifact
from forecaster.data import Panel, Schema, grid_timestamps
from forecaster.data.forms import format_form, parse_form
from forecaster.data.times import aware_times

if TYPE_CHECKING:
    from forecaster.backtest import Backtest


def output_times(artifact: Artifact, naive: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Grid timestamps as the user's data wrote them: in its zone, with the offset."""
    schema = artifact.schema
    if schema.zone is None:
        return naive
    return aware_times(naive, schema.zone, schema.utc_grid)


def written_times(artifact: Artifact, naive: pd.DatetimeIndex) -> pd.Index:
    """Grid timestamps as the input wrote its times: in its form (years, step numbers,
    ``2011Q3``, ``Sep 1995``: `forms`) or, for timestamps, as `output_times`."""
    return as_written(artifact.schema, naive)


def as_written(schema: Schema, naive: pd.DatetimeIndex) -> pd.Index:
    """`written_times` for data read with ``schema`` (a panel's, before any model)."""
    if schema.time_form is None:
        return naive if schema.zone is None else aware_times(naive, schema.zone, schema.utc_grid)
    return pd.Index(format_form(pd.DatetimeIndex(naive), schema.time_form))


def shown_time(panel: Panel, series: int, row: int) -> str:
    """A series' row's timestamp as a warning names it, as the input wrote its times: its
    form (1983, 1960Q1, step numbers), its zone and its spelling (1/31/20, 10:00 PM), or the
    date alone for a midnight."""
    from forecaster.output import format_times

    schema = panel.schema
    shown = as_written(schema, panel.timestamps(np.array([series]), np.array([row])))[0]
    if not isinstance(shown, pd.Timestamp):
        return str(shown)
    if schema.time_layout is not None:
        return str(format_times(pd.Series([shown]), schema.time_layout).iloc[0])
    if shown.tz is None and shown == shown.normalize():
        return str(shown.date())
    return str(shown)


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
