"""Covariate columns: their numbers, static categories, future rows, and the ``--future`` file.

Covariates are channels beside the targets, one row per grid row (`Panel.covariates`), in
the order of `Schema.covariate_channels`: past, future, calendar, static. Rows given after
a series' last target value carry future covariates for its horizon (`Panel.future`);
everything here refuses what cannot be right with one line naming the column, the series
and the row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecaster.data.calendar import calendar_values
from forecaster.data.columns import _looks_numeric, parse_numbers
from forecaster.data.panel import RowIds, Schema, grid_timestamps
from forecaster.data.read import file_rows, name_of, read_table
from forecaster.data.sessions import Session
from forecaster.data.times import local_wall_times, parse_times
from forecaster.errors import DataError

log = logging.getLogger("forecaster")


def static_categories(frame: pd.DataFrame, schema: Schema) -> dict[str, list[str]]:
    """Text static columns and their categories (sorted), as training sees them."""
    categories = {}
    for column in schema.static:
        if not _looks_numeric(frame[column]):
            text = frame[column].dropna().astype(str).str.strip()
            categories[column] = sorted(set(text) - {""})
    return categories


def user_covariates(frame: pd.DataFrame, schema: Schema, source: str) -> np.ndarray:
    """The user's covariate channels (N, past + future + static) of every input row.

    Static text columns become one 0/1 channel per category of ``schema.categories``; a
    category training never saw is all zeros, with a warning.
    """
    columns = [parse_numbers(frame, c, role="covariate") for c in [*schema.past, *schema.future]]
    for column in schema.static:
        if column in schema.categories:
            text = frame[column].astype("string").str.strip()
            known = schema.categories[column]
            unseen = sorted(set(text.dropna()) - set(known) - {""})
            if unseen:
                log.warning(
                    "%s: static covariate %r has categories the model has not seen (%s): "
                    "they read as none of the known ones",
                    source,
                    column,
                    ", ".join(map(repr, unseen[:5])),
                )
            empty = text.isna() | (text == "")
            for category in known:
                indicator = (text == category).fillna(False).to_numpy(dtype=np.float64)
                columns.append(np.where(empty.to_numpy(), np.nan, indicator))
        else:
            columns.append(parse_numbers(frame, column, role="static covariate"))
    if not columns:
        return np.empty((len(frame), 0))
    return np.column_stack(columns)


def check_static(
    values: np.ndarray, bounds: np.ndarray, ids: RowIds, schema: Schema, times: np.ndarray
) -> None:
    """A static covariate must hold one value within each series (rows sorted by series)."""
    start = len(schema.past) + len(schema.future)
    names = schema.static_channels
    for k, name in enumerate(names):
        column = values[:, start + k]
        for s in range(len(bounds) - 1):
            part = column[bounds[s] : bounds[s + 1]]
            seen = part[~np.isnan(part)]
            if len(seen) and (seen != seen[0]).any():
                row = int(np.flatnonzero(~np.isnan(part) & (part != seen[0]))[0]) + int(bounds[s])
                column_name = name.split("=")[0]
                raise DataError(
                    f"static covariate {column_name!r} varies within series {ids[bounds[s]]!r} "
                    f"(it changes at {pd.Timestamp(times[row])}); a static covariate holds one "
                    "value per series: name it --past-covariate or --future-covariate instead"
                )


def split_future(
    targets: np.ndarray, covariates: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the rows after each series' last target value: (offsets, targets, covariates) of
    what remains, and those rows' covariates (S, F, K), NaN-padded."""
    lengths = np.diff(offsets)
    series_of_row = np.repeat(np.arange(len(lengths)), lengths)
    within = np.arange(len(targets)) - offsets[:-1][series_of_row]
    observed = ~np.isnan(targets).all(axis=1)
    last = np.full(len(lengths), -1, dtype=np.int64)
    np.maximum.at(last, series_of_row[observed], within[observed])
    keep = np.where(last >= 0, last + 1, lengths)  # no target at all: reported later
    extra = lengths - keep
    rows = within < keep[series_of_row]
    future = np.full((len(lengths), int(extra.max(initial=0)), covariates.shape[1]), np.nan)
    later = ~rows
    future[series_of_row[later], within[later] - keep[series_of_row[later]]] = covariates[later]
    new_offsets = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
    return new_offsets, targets[rows], covariates[rows], future


def local_times(naive: np.ndarray | pd.DatetimeIndex, schema: Schema) -> pd.DatetimeIndex:
    """Grid timestamps as wall-clock times of the data's zone (calendar features use them)."""
    if schema.zone is not None and schema.utc_grid:
        return pd.DatetimeIndex(local_wall_times(np.asarray(naive, "datetime64[ns]"), schema.zone))
    return pd.DatetimeIndex(naive)


def with_calendar(
    user: np.ndarray, naive: np.ndarray | pd.DatetimeIndex, schema: Schema, freq: str
) -> np.ndarray:
    """All covariate channels (N, K): the user's (past, future, static) with the calendar
    features of the grid timestamps ``naive`` put in after the future ones."""
    split = len(schema.past) + len(schema.future)
    calendar = calendar_values(local_times(naive, schema), freq, schema.calendar)
    return np.concatenate([user[:, :split], calendar, user[:, split:]], axis=1)


def future_from_file(
    source: str,
    schema: Schema,
    freq: str,
    ids: list[str],
    ends: pd.DatetimeIndex,
    horizon: int,
) -> np.ndarray:
    """The future covariates (S, H, Kf) of each series' next ``horizon`` steps from a file
    of id and time columns plus the future covariates (NeuralForecast's ``futr_df``).

    Rows beyond the horizon, of other series, or other columns are ignored; a missing
    value is exit 3 naming the column, the series and the first missing timestamp.
    """
    frame = read_table(source, text_columns=[schema.id] if schema.id is not None else ())
    name = name_of(source)
    wanted = [schema.time, *([schema.id] if schema.id else []), *schema.future]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name} lacks column(s) {', '.join(map(repr, missing))}: --future needs "
            f"{', '.join(map(repr, wanted))}"
        )
    parsed = parse_times(frame[schema.time], schema.time, schema.date_order,
                         form=schema.time_form, detect=False)  # fmt: skip
    if parsed.aware != (schema.zone is not None):
        with_or_not = "with" if schema.zone is not None else "without"
        raise DataError(f"{name}: give the timestamps {with_or_not} UTC offsets, as in training")
    times = parsed.values
    if schema.zone is not None and not schema.utc_grid:
        times = local_wall_times(times, schema.zone)
    keys = pd.Series(np.arange(len(frame)))
    row_ids = (
        frame[schema.id].astype(str).str.strip().to_numpy()
        if schema.id
        else np.full(len(frame), schema.wide_id, dtype=object)
    )
    index = pd.MultiIndex.from_arrays([row_ids, pd.DatetimeIndex(times)])
    if index.duplicated().any():
        at = int(np.flatnonzero(index.duplicated())[0])
        raise DataError(
            f"{name} repeats timestamp {pd.Timestamp(times[at])}"
            + (f" of series {row_ids[at]!r}" if schema.id else "")
            + f" (row {file_rows(pd.Series(index.duplicated()))})"
        )
    keys.index = index
    values = np.column_stack(
        [parse_numbers(frame, c, role="future covariate") for c in schema.future]
    )
    steps = np.tile(np.arange(1, horizon + 1), len(ids))
    needed = grid_timestamps(np.repeat(ends.to_numpy("datetime64[ns]"), horizon), steps, freq,
                             schema.session)  # fmt: skip
    wanted_index = pd.MultiIndex.from_arrays([np.repeat(np.asarray(ids, object), horizon), needed])
    where = keys.reindex(wanted_index).to_numpy(dtype=np.float64)
    flat = np.full((len(wanted_index), len(schema.future)), np.nan)
    found = ~np.isnan(where)
    flat[found] = values[where[found].astype(np.int64)]
    out = flat.reshape(len(ids), horizon, len(schema.future))
    check_future(out, schema.future, ids, ends, freq, name, schema.session)
    return out


def check_future(
    values: np.ndarray,
    names: Sequence[str],
    ids: list[str],
    ends: pd.DatetimeIndex,
    freq: str,
    source: str,
    session: Session | None = None,
) -> None:
    """Every future covariate (S, H, Kf) must be given for every horizon step: exit 3 with
    the column, the series and the first missing timestamp otherwise."""
    gaps = np.isnan(values)
    if not gaps.any():
        return
    s, step, k = (int(v) for v in np.argwhere(gaps)[0])
    when = grid_timestamps(np.asarray([ends[s]], "datetime64[ns]"), np.asarray([step + 1]), freq,
                           session)  # fmt: skip
    raise DataError(
        f"future covariate {names[k]!r} of series {ids[s]!r} is missing at {when[0]} (horizon "
        f"step {step + 1} of {values.shape[1]}): give it for every step, as rows after the "
        "last target value in DATA or in a --future file"
    )
