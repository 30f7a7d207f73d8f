"""Rows to regular series: sort, split by id, infer the frequency, place on a grid, fill gaps.

Placement is arithmetic on one array of timestamps (offsets from each series' start in
steps of the frequency), not a loop of `pd.date_range` per series: 100,000 series of three
rows took most of a minute that way. The grid's size is computed before it is built, so a
100-year gap in one-second data is an error that names the size, not a MemoryError.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster.data import sessions
from forecaster.data.calendar import calendar_names, holiday_names
from forecaster.data.columns import ID_NAMES, detect_schema, parse_numbers
from forecaster.data.covariates import (
    check_static,
    split_future,
    static_categories,
    user_covariates,
    with_calendar,
)
from forecaster.data.duplicates import merge_repeated
from forecaster.data.forms import STEPS, YEARS, shown_times, step_freq, steps_hint
from forecaster.data.panel import Panel, RowIds, Schema, fixed_step_ns, grid_timestamps
from forecaster.data.read import file_rows, name_of, read_table
from forecaster.data.sessions import Session
from forecaster.data.times import (
    OFFSET_PATTERN,
    ParsedTimes,
    find_zone,
    fixed_zone,
    local_wall_times,
    parse_times,
)
from forecaster.errors import DataError, UsageError

log = logging.getLogger("forecaster")

_DAY_NS = 86_400_000_000_000
# A grid may hold this many times the rows given (gaps to fill), or this many rows, whichever
# is more; beyond, the data is mostly gaps or --freq is far too fine.
MAX_GRID_RATIO = 20
MIN_GRID_CAP = 1_000_000


def validate_freq(freq: str) -> str:
    """A pandas alias with a positive step, normalised ("H" -> "h"); else exit code 2."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        offset = None
    if offset is None or int(offset.n) < 1:
        raise UsageError(
            f"invalid value for --freq: {freq!r}; use a pandas alias with a positive step, "
            "such as h, D, W, MS, QS, YS or 15min"
        )
    return str(offset.freqstr)


def _normalise_alias(freq: str) -> str:
    return str(pd.tseries.frequencies.to_offset(freq).freqstr)


def _pandas_infer_freq(index: pd.DatetimeIndex) -> str | None:
    """pandas' inference, as an alias string under pandas 2 and 3 alike."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces a change of return type
        found = pd.infer_freq(index)
    return None if found is None else _normalise_alias(found)


def infer_frequency(times: Sequence[pd.DatetimeIndex]) -> str:
    """One frequency for all series: pandas' inference on the densest stretch of the data,
    then the business-day grid when it fits with fewer gaps (see `_prefer_gapless`)."""
    by_length = sorted(times, key=len, reverse=True)
    found = next(
        (f for index in by_length if len(index) >= 3 and (f := _pandas_infer_freq(index))), None
    )
    if found is None:
        found = next((f for index in by_length if (f := _infer_from_runs(index))), None)
    if found is None:
        longest = max((len(index) for index in times), default=0)
        if longest < 3:
            raise DataError(
                f"too few rows to infer the frequency: the longest series has {longest} "
                "row(s); give more data (or the frequency with --freq)"
            )
        raise DataError(
            "cannot infer the frequency: timestamps are irregular; give it with --freq "
            "(for example --freq h, D, W, MS, QS, YS or 15min)"
        )
    return _prefer_gapless(found, times)


def _infer_from_runs(index: pd.DatetimeIndex) -> str | None:
    """With gaps, infer from the longest run of equal steps (at least 3 points)."""
    if len(index) < 3:
        return None
    steps = np.diff(index.asi8)
    change = np.flatnonzero(np.diff(steps) != 0) + 1
    bounds = np.concatenate([[0], change, [len(steps)]])
    runs = np.diff(bounds)
    best = int(np.argmax(runs))
    if runs[best] < 2:
        # Calendar steps (months) differ in length; try pandas on small windows instead.
        for lo in range(0, len(index) - 2):
            freq = _pandas_infer_freq(index[lo : lo + 3])
            if freq is not None:
                return freq
        return None
    start = int(bounds[best])
    return _pandas_infer_freq(index[start : start + int(runs[best]) + 1])


def _prefer_gapless(freq: str, times: Sequence[pd.DatetimeIndex]) -> str:
    """Among the inferred frequency and its business-day variant, the one without gaps.

    Daily data that never falls on a weekend (trading days) is read as "B": as "D" every
    weekend would be two missing days, filled by interpolation, and forecasts would land on
    Saturdays. Only when some weekend lies between the first and last timestamp, so that
    the choice matters.
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    if not (isinstance(offset, pd.offsets.Day) and int(offset.n) == 1):
        return freq
    every = pd.DatetimeIndex(np.concatenate([t.to_numpy(dtype="datetime64[ns]") for t in times]))
    if (every.day_of_week >= 5).any() or (every != every.normalize()).any():
        return freq
    spans_weekend = any(len(t) and (t[-1] - t[0]) >= pd.Timedelta(days=3) for t in times)
    if not spans_weekend:
        return freq
    log.warning(
        "inferred frequency 'B' (business days): no timestamp falls on a weekend; a weekday "
        "without a row (a holiday) is a gap, filled as --fill says, unless the missing "
        "weekdays are an exchange's holidays (then left out, as a note says); give --freq D "
        "to treat weekends as missing days"
    )
    return "B"


def _check_frequency(times: Sequence[pd.DatetimeIndex], expected: str, source: str) -> str:
    """New data must come at the model's frequency; too few rows to tell is accepted."""
    try:
        with _silenced():
            inferred = infer_frequency(times)
    except DataError:
        return expected
    to_offset = pd.tseries.frequencies.to_offset
    if to_offset(inferred) == to_offset(expected) or max(len(t) for t in times) < 3:
        return expected
    if {_normalise_alias(inferred), _normalise_alias(expected)} == {"B", "D"}:
        # Weekdays only read as daily, or a daily stretch without a weekend read as business
        # days: the model's grid fits, as long as no row is a weekend day for a "B" model.
        every = pd.DatetimeIndex(
            np.concatenate([t.to_numpy(dtype="datetime64[ns]") for t in times])
        )
        if expected == "D" or not (every.day_of_week >= 5).any():
            return expected
    raise DataError(
        f"{source} has frequency {inferred!r} but the model was trained on {expected!r}; "
        "give data at the model's frequency"
    )


# ---------------------------------------------------------------------------------------
# Placing rows on the grid


def _grid_size_guard(
    lengths: np.ndarray,
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    freq: str,
    given: str | None,
) -> None:
    """Refuse a grid that is mostly gaps (or a far too fine ``--freq``, as ``given``) before
    building it."""
    rows, cells = len(times), int(lengths.sum())
    if cells <= max(MAX_GRID_RATIO * rows, MIN_GRID_CAP):
        return
    worst = int(np.argmax(lengths))
    stretch = times[bounds[worst] : bounds[worst + 1]]
    gaps = np.diff(stretch)
    where = int(np.argmax(gaps)) if len(gaps) else 0
    gap = pd.Timedelta(int(gaps[where]) if len(gaps) else 0, unit="ns")
    after = pd.Timestamp(stretch[where])
    if given:
        raise UsageError(
            f"--freq {given} would put the data on a grid of {cells:,} rows for the {rows:,} "
            f"given; give the data's own frequency (or let forecaster infer it)"
        )
    raise DataError(
        f"the {freq!r} grid would hold {cells:,} rows for the {rows:,} given (series "
        f"{ids[bounds[worst]]!r} has a gap of {gap} after {after}): the data is mostly gaps; "
        "check the timestamps, remove the outlying rows, or give the right --freq"
    )


def _place(
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    freq: str,
    given: str | None,
    hint: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid position of every row within its series, each series' length, and its start.

    ``times`` (N,) datetime64[ns] sorted within series; ``bounds`` (S + 1,) row offsets.
    """
    count = np.diff(bounds)
    first = times[bounds[:-1]]
    last = times[bounds[1:] - 1]
    step = fixed_step_ns(freq)
    offset = pd.tseries.frequencies.to_offset(freq)
    if step is not None:
        span = (last - first).astype(np.int64)
        lengths = span // step + 1
        _grid_size_guard(lengths, times, bounds, ids, freq, given)
        # In place, on one array of a number per row: 10^8 rows are 800 MB per array.
        positions = times.view(np.int64) - np.repeat(first.view(np.int64), count)
        off = (positions % step) != 0
        positions //= step
        if isinstance(offset, pd.offsets.Week) and offset.weekday is not None:
            wrong_day = pd.DatetimeIndex(first).day_of_week.to_numpy() != offset.weekday
            off |= np.repeat(wrong_day, count)
        if off.any():
            series_of_row = np.repeat(np.arange(len(count)), count)
            _off_grid(times, bounds, ids, series_of_row, int(np.flatnonzero(off)[0]), freq, hint)
        return positions, lengths, first
    series_of_row = np.repeat(np.arange(len(count)), count)
    # Calendar steps (business days, months, quarters): one grid through every series.
    lo, hi = times.min(), times.max()
    sample = pd.date_range(lo, periods=14, freq=freq).to_numpy(dtype="datetime64[ns]")
    shortest = max(int(np.diff(sample).astype(np.int64).min()), 1)
    estimate = (last - first).astype(np.int64) // shortest + 1
    _grid_size_guard(estimate, times, bounds, ids, freq, given)
    grid = pd.date_range(lo, hi, freq=freq)
    where = grid.get_indexer(pd.DatetimeIndex(times)) if int(offset.n) == 1 else None
    if where is None or (where < 0).any():
        return _place_each(times, bounds, ids, series_of_row, freq, hint)
    start = where[bounds[:-1]]
    lengths = where[bounds[1:] - 1] - start + 1
    return where - start[series_of_row], lengths, first


def _place_each(
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    series_of_row: np.ndarray,
    freq: str,
    hint: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Series by series, each on its own grid (calendar multiples such as 2MS)."""
    positions = np.empty(len(times), dtype=np.int64)
    lengths = np.empty(len(bounds) - 1, dtype=np.int64)
    for s, (a, b) in enumerate(itertools.pairwise(bounds)):
        index = pd.DatetimeIndex(times[a:b])
        grid = pd.date_range(index[0], index[-1], freq=freq)
        where = grid.get_indexer(index)
        if (where < 0).any():
            _off_grid(times, bounds, ids, series_of_row, a + int(np.flatnonzero(where < 0)[0]),
                      freq, hint)  # fmt: skip
        positions[a:b] = where
        lengths[s] = len(grid)
    return positions, lengths, times[bounds[:-1]]


def _off_grid(
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    series_of_row: np.ndarray,
    row: int,
    freq: str,
    hint: str,
) -> None:
    s = int(series_of_row[row])
    raise DataError(
        f"timestamp {pd.Timestamp(times[row])} of series {ids[bounds[s]]!r} is not on the "
        f"{freq!r} grid that starts at {pd.Timestamp(times[bounds[s]])}; give the right --freq "
        f"or resample the data{hint}"
    )


def fill_gaps(values: np.ndarray, offsets: np.ndarray, policy: str) -> np.ndarray:
    """Fill NaN cells within each series: linear in position ("interpolate") or the last
    value ("ffill"), the ends with the nearest value; never across series boundaries."""
    rows = len(values)
    lengths = np.diff(offsets)
    positions = np.arange(rows)
    first_row = np.repeat(offsets[:-1], lengths)
    last_row = np.repeat(offsets[1:] - 1, lengths)
    out = values.copy()
    for c in range(values.shape[1]):
        column = out[:, c]
        valid = ~np.isnan(column)
        if valid.all():
            continue
        before = np.maximum.accumulate(np.where(valid, positions, -1))
        after = np.minimum.accumulate(np.where(valid, positions, rows)[::-1])[::-1]
        has_before = before >= first_row
        has_after = after <= last_row
        gap = ~valid
        if policy == "ffill":
            source = np.where(has_before, before, after)
            column[gap] = column[source[gap]]
            continue
        inside = gap & has_before & has_after
        lo, hi = before[inside], after[inside]
        weight = (positions[inside] - lo) / (hi - lo)
        column[inside] = column[lo] + weight * (column[hi] - column[lo])
        leading, trailing = gap & ~has_before, gap & ~has_after & has_before
        column[leading] = column[after[leading]]
        column[trailing] = column[before[trailing]]
    return out


# ---------------------------------------------------------------------------------------
# The whole step


def build_panel(
    frame: pd.DataFrame,
    schema: Schema,
    freq: str | None = None,
    fill: str = "interpolate",
    source: str = "input",
    expected_freq: str | None = None,
    like_model: bool = False,
    calendar: str = "none",
    holidays: Sequence[str] = (),
    keep_future: bool = False,
    duplicates: str = "error",
) -> Panel:
    """Sort, split by id, check duplicates, put each series on a regular grid, fill gaps.

    Rows that repeat a series' timestamp are refused, or with ``duplicates`` "mean",
    "first" or "last" merged into one (`duplicates.merge_repeated`), said in one line.

    With ``like_model`` the schema is a trained model's: its date order and time zone are
    used for this data too (and must fit it), and its calendar features. Otherwise
    ``calendar`` ("on" / "none") and the ``holidays`` countries decide them. Rows after a
    series' last target value hold future covariates: kept in `Panel.future` with
    ``keep_future`` (predict), else left out with a note (train, evaluate).
    """
    notes: list[str] = []
    parsed = parse_times(frame[schema.time], schema.time, schema.date_order,
                         form=schema.time_form, detect=not like_model)  # fmt: skip
    if parsed.form in (STEPS, YEARS) and freq:
        freq = step_freq(freq, schema.time, parsed.form)
    values = _numbers(frame, schema.targets)
    if schema.static and not like_model:
        schema = dataclasses.replace(schema, categories=static_categories(frame, schema))
    user = user_covariates(frame, schema, source)
    if schema.id is not None:
        raw_ids = frame[schema.id]
        if raw_ids.isna().any():
            raise DataError(
                f"id column {schema.id!r} is empty at row(s) {file_rows(raw_ids.isna())}; "
                "every row needs a series id"
            )
        codes, id_names = _series_codes(raw_ids)
    else:
        codes = np.zeros(len(frame), dtype=np.int32)
        id_names = np.array([schema.wide_id], dtype=object)
    zone, utc_grid = _zone(parsed, schema, like_model, source)

    positions = _series_time_order(codes, parsed.values)
    if positions is None:  # already sorted, as most files are: no copies
        instants = parsed.values
    else:
        by_series = codes[positions]
        same = by_series[1:] == by_series[:-1]
        if (same & (positions[1:] < positions[:-1])).any():  # a series' rows out of time order
            notes.append("rows were not in time order; sorted them")
        codes, instants = by_series, parsed.values[positions]
        values, user = values[positions], user[positions]
    ids_sorted = RowIds(codes, id_names)
    change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    bounds = np.concatenate([[0], change, [len(codes)]]).astype(np.int64)
    hint = _offsets_hint(parsed, zone) + steps_hint(parsed.form)

    def timeline(utc: bool) -> np.ndarray:
        if zone is None or utc:
            return instants
        return local_wall_times(instants, zone)

    def stretches(times: np.ndarray) -> list[pd.DatetimeIndex]:
        return [pd.DatetimeIndex(times[a:b]) for a, b in itertools.pairwise(bounds)]

    if utc_grid is None:  # a zone with daylight saving: UTC for sub-daily data, else local
        probe = validate_freq(freq) if freq else _infer(stretches(instants), hint, quiet=True)
        step = fixed_step_ns(probe) if probe else None
        utc_grid = step is not None and step < _DAY_NS
        if utc_grid and sessions.keeps_to_the_clock(timeline(False), bounds, step):
            utc_grid = False  # business hours: a session of the wall clock, not of UTC
    times = timeline(bool(utc_grid))
    if duplicates == "error":
        _refuse_duplicates(ids_sorted, times, schema, parsed)
    else:
        merged = merge_repeated(ids_sorted.codes, times, values, user, duplicates)
        if merged is not None:
            codes = ids_sorted.codes[merged.keep]
            ids_sorted = RowIds(codes, id_names)
            times, values, user = times[merged.keep], merged.values, merged.user
            notes.append(f"{schema.time!r}: {merged.note(duplicates)}")
            change = np.flatnonzero(ids_sorted.codes[1:] != ids_sorted.codes[:-1]) + 1
            bounds = np.concatenate([[0], change, [len(times)]]).astype(np.int64)
    if schema.static:
        check_static(user, bounds, ids_sorted, schema, times)
    given_freq = freq
    if freq:
        freq = validate_freq(freq)
    elif expected_freq:
        freq = _check_frequency(stretches(times), expected_freq, source)
    else:
        freq = _infer(stretches(times), hint)
    step = fixed_step_ns(freq)
    snapped = sessions.snap(times, codes, bounds, values, user, step)
    if snapped is not None:  # a jittered clock, on the grid now (`sessions.snap`)
        times, codes, values, user = snapped.times, snapped.codes, snapped.values, snapped.user
        ids_sorted = RowIds(codes, id_names)
        bounds = np.concatenate([[0], np.flatnonzero(codes[1:] != codes[:-1]) + 1, [len(codes)]])
        notes.append(snapped.note)
    session = schema.session if like_model else sessions.detect(times, bounds, step)
    if session is None and not like_model:
        session = sessions.trading_days(times, bounds, freq)
    if session is not None:
        what = "the model's session" if like_model else "the session"
        positions_in_series, lengths, starts = session.place(times, bounds, what)
    else:
        positions_in_series, lengths, starts = _place(
            times, bounds, ids_sorted, freq, given=given_freq, hint=hint
        )
    sessions.invented_check(len(times), lengths, freq, session, source)
    if session is not None and not like_model:
        notes.append(sessions.session_note(session, freq, times, bounds))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    cells = positions_in_series  # each row's place in the whole grid, computed in place
    cells += np.repeat(offsets[:-1], np.diff(bounds))
    regular = np.full((int(offsets[-1]), values.shape[1]), np.nan)
    regular[cells] = values
    regular_user = np.full((int(offsets[-1]), user.shape[1]), np.nan)
    regular_user[cells] = user
    del cells, values
    future_user = None
    if schema.future:
        offsets, regular, regular_user, future_user = split_future(regular, regular_user, offsets)
        beyond = int(np.isfinite(future_user).any(axis=2).sum())
        if beyond and not keep_future:
            notes.append(
                f"left out {beyond} row(s) after the last target value (future covariates "
                "only): they are for predict"
            )
            future_user = None
    missing = np.isnan(regular)
    if missing.any():
        present = np.add.reduceat((~missing).astype(np.int64), offsets[:-1], axis=0)
        empty = np.argwhere(present == 0)
        if len(empty):
            s, c = (int(v) for v in empty[0])
            raise DataError(
                f"target {schema.targets[c]!r} has no values in series {ids_sorted[bounds[s]]!r}; "
                "drop that series or that target"
            )
        if fill == "error":
            row = int(np.flatnonzero(missing.any(axis=1))[0])
            s = int(np.searchsorted(offsets, row, side="right") - 1)
            first_gap = _grid_time(starts[s], row - int(offsets[s]), freq, session)
            count = int(missing[offsets[s] : offsets[s + 1]].sum())
            raise DataError(
                f"series {ids_sorted[bounds[s]]!r} has {count} missing cell(s), first at "
                f"{first_gap}; fill them, or use --fill interpolate or --fill ffill"
            )
        regular = fill_gaps(regular, offsets, fill)
        notes.append(f"filled {int(missing.sum())} missing cell(s) by {fill} (--fill to choose)")
    if user.shape[1]:
        with_session = dataclasses.replace(schema, session=session)
        regular_user = _fill_covariates(regular_user, offsets, fill, with_session, ids_sorted,
                                        bounds, starts, freq, notes)  # fmt: skip
    zone_schema = dataclasses.replace(
        schema,
        date_order=parsed.date_order or schema.date_order,
        time_form=parsed.form if not like_model else schema.time_form,
        zone=zone,
        utc_grid=bool(utc_grid) if zone is not None else False,
        session=session,
    )
    if not like_model:
        if parsed.form == STEPS and holidays:
            raise UsageError(
                f"--holidays needs dates, and column {schema.time!r} holds step numbers; "
                "leave --holidays out"
            )
        names = calendar_names(freq) if calendar == "on" else []
        zone_schema = dataclasses.replace(
            zone_schema, calendar=names + holiday_names(list(holidays))
        )
    covariates = future = None
    if zone_schema.has_covariates:
        lengths_now = np.diff(offsets)
        owner = np.repeat(np.arange(len(lengths_now)), lengths_now)
        within = np.arange(int(offsets[-1])) - offsets[:-1][owner]
        naive = grid_timestamps(np.asarray(starts, "datetime64[ns]")[owner], within, freq, session)
        covariates = np.ascontiguousarray(with_calendar(regular_user, naive, zone_schema, freq))
        if future_user is not None and future_user.shape[1]:
            n, f, _ = future_user.shape
            rows_after = np.tile(np.arange(f), n) + np.repeat(lengths_now, f)
            first_times = np.repeat(np.asarray(starts, "datetime64[ns]"), f)
            later = grid_timestamps(first_times, rows_after, freq, session)
            flat = with_calendar(future_user.reshape(n * f, -1), later, zone_schema, freq)
            future = flat.reshape(n, f, -1)
    for note in notes:
        log.warning("%s: %s", source, note)
    return Panel(
        ids=[str(ids_sorted[b]) for b in bounds[:-1]],
        starts=list(pd.DatetimeIndex(starts)),
        offsets=offsets,
        values=np.ascontiguousarray(regular),
        freq=freq,
        schema=zone_schema,
        notes=notes,
        covariates=covariates,
        future=future,
    )


def _fill_covariates(
    values: np.ndarray,
    offsets: np.ndarray,
    fill: str,
    schema: Schema,
    ids: RowIds,
    bounds: np.ndarray,
    starts: np.ndarray,
    freq: str,
    notes: list[str],
) -> np.ndarray:
    """Covariate gaps in the history are filled as the targets' are; a covariate with no
    value in a series is refused."""
    missing = np.isnan(values)
    if not missing.any():
        return values
    names = [*schema.past, *schema.future, *schema.static_channels]
    present = np.add.reduceat((~missing).astype(np.int64), offsets[:-1], axis=0)
    empty = np.argwhere(present == 0)
    if len(empty):
        s, c = (int(v) for v in empty[0])
        raise DataError(
            f"covariate {names[c].split('=')[0]!r} has no values in series {ids[bounds[s]]!r}; "
            "give its values, or leave the column out"
        )
    if fill == "error":
        row, c = (int(v) for v in np.argwhere(missing)[0])
        s = int(np.searchsorted(offsets, row, side="right") - 1)
        at = _grid_time(starts[s], row - int(offsets[s]), freq, schema.session)
        raise DataError(
            f"covariate {names[c]!r} of series {ids[bounds[s]]!r} is missing at {at}; fill it, "
            "or use --fill interpolate or --fill ffill"
        )
    notes.append(f"filled {int(missing.sum())} missing covariate cell(s) by {fill}")
    return fill_gaps(values, offsets, fill)


def _grid_time(start: np.datetime64, row: int, freq: str, session: Session | None) -> pd.Timestamp:
    if session is not None:
        return session.timestamps(np.asarray([start]), np.asarray([row]))[0]
    return pd.Timestamp(start) + pd.tseries.frequencies.to_offset(freq) * row


def _numbers(frame: pd.DataFrame, targets: Sequence[str]) -> np.ndarray:
    """The targets as one (N, T) array; one target is its column's array, not a copy."""
    if not targets:
        return np.empty((len(frame), 0))
    if len(targets) == 1:
        return parse_numbers(frame, targets[0]).reshape(-1, 1)
    return np.column_stack([parse_numbers(frame, c) for c in targets])


def _series_codes(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Rows' series numbers, numbered in the order of the ids' text, and each number's id.

    Each distinct id is made text and stripped once; ids that differ only in surrounding
    spaces are one series, as they always were.
    """
    if raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) != "string":
        raw = raw.astype(str)  # 1 and 1.0 (equal as numbers) are two ids, "1" and "1.0"
    codes, uniques = pd.factorize(raw, sort=False)
    text = np.asarray(pd.Index(uniques).astype(str).str.strip(), dtype=object)
    names, number = np.unique(text, return_inverse=True)
    small = np.int32 if len(names) < 2**31 else np.int64
    return number.astype(small)[codes], names


def _series_time_order(codes: np.ndarray, times: np.ndarray) -> np.ndarray | None:
    """The rows in order of series, then time (stable: equal rows keep the file's order);
    None when they already are."""
    if len(codes) < 2:
        return None
    step = codes[1:] - codes[:-1]
    if ((step > 0) | ((step == 0) & (times[1:] >= times[:-1]))).all():
        return None
    by_time = np.argsort(times, kind="stable")
    return by_time[np.argsort(codes[by_time], kind="stable")]


def _infer(stretches: list[pd.DatetimeIndex], hint: str, quiet: bool = False) -> str:
    if quiet:
        with _silenced():
            try:
                return infer_frequency(stretches)
            except DataError:
                return ""
    try:
        return infer_frequency(stretches)
    except DataError as exc:
        raise DataError(f"{exc}{hint}") from None


class _silenced:
    """Notes of a trial inference (which grid to use) are not the user's business."""

    def __enter__(self) -> None:
        self._level = log.level
        log.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        log.setLevel(self._level)


def _zone(
    parsed: ParsedTimes, schema: Schema, like_model: bool, source: str
) -> tuple[str | None, bool | None]:
    """The input's zone and whether its grid is UTC (None: decide from the frequency)."""
    if like_model:
        if parsed.aware and schema.zone is None:
            raise DataError(
                f"{source} gives timestamps with UTC offsets, but the model was trained on "
                "timestamps without; give them as the training data did"
            )
        if not parsed.aware and schema.zone is not None:
            raise DataError(
                f"{source} gives timestamps without UTC offsets, but the model was trained on "
                f"timestamps in zone {schema.zone}; give their offsets too"
            )
        return schema.zone, schema.utc_grid
    if not parsed.aware:
        return None, False
    assert parsed.offsets is not None
    zone = find_zone(parsed.values, parsed.offsets)
    if zone is None:
        log.warning(
            "%s: the UTC offsets change in a way no time zone explains; forecasts are "
            "written in UTC (+00:00)",
            source,
        )
        return fixed_zone(0), True
    return zone, None if "/" in zone else False


def _refuse_duplicates(
    ids_sorted: RowIds, times: np.ndarray, schema: Schema, parsed: ParsedTimes
) -> None:
    codes = ids_sorted.codes
    duplicated = (codes[1:] == codes[:-1]) & (times[1:] == times[:-1])
    if not duplicated.any():
        return
    first = np.flatnonzero(duplicated)[:3] + 1
    shown = shown_times(times[first], parsed.form)
    examples = ", ".join(
        (f"{ids_sorted[i]} " if schema.id else "") + str(text)
        for i, text in zip(first, shown, strict=True)
    )
    where = "within a series " if schema.id else ""
    repeated = pd.DatetimeIndex(times[first])
    dst = (
        "; if a repeated hour is the one the clocks go back (daylight saving), give the "
        "timestamps with their UTC offset or in UTC"
        if not parsed.aware and bool((repeated != repeated.normalize()).any())
        else ""
    )
    raise DataError(
        f"duplicate timestamps {where}in {schema.time!r}: {examples} ({int(duplicated.sum())} "
        "row(s) repeat a timestamp); remove or aggregate them, or merge them with --duplicates "
        f"mean|first|last (with several series, name the id column with --id){dst}"
    )


def _offsets_hint(parsed: ParsedTimes, zone: str | None) -> str:
    """A hint for irregular data whose timestamps carried UTC offsets, else ''."""
    if not parsed.aware:
        return ""
    return (
        f" (timestamps with UTC offsets were read in zone {zone}; if that is not the data's "
        "zone, give the timestamps without offsets, in local time)"
    )


def load_panel(
    source: str | Path,
    time: str | None = None,
    targets: Sequence[str] = (),
    id: str | None = None,
    freq: str | None = None,
    fill: str = "interpolate",
    date_order: str | None = None,
    past: Sequence[str] = (),
    future: Sequence[str] = (),
    static: Sequence[str] = (),
    calendar: str = "auto",
    holidays: Sequence[str] = (),
    duplicates: str = "error",
) -> Panel:
    """Read and regularise in one call: what `forecaster train DATA` does first.

    ``calendar`` "auto" derives calendar features when any covariate or holiday country is
    given: a model of the targets alone stays as it was (see `calendar_rule`).
    """
    text = [id] if id is not None else list(ID_NAMES)
    frame = read_table(source, text_columns=[*text, *static])
    schema = detect_schema(frame, time=time, targets=targets, id=id, past=past, future=future,
                           static=static)  # fmt: skip
    schema = dataclasses.replace(schema, date_order=date_order)
    rule = calendar_rule(calendar, bool(past or future or static or holidays))
    return build_panel(frame, schema, freq=freq, fill=fill, source=name_of(source),
                       calendar=rule, holidays=holidays, duplicates=duplicates)  # fmt: skip


def calendar_rule(calendar: str, covariates: bool) -> str:
    """ "on" or "none": "auto" is on exactly when the model has other covariates. A model of
    the targets alone keeps its accuracy and speed (benchmarks/README.md, "Covariates")."""
    if calendar == "auto":
        return "on" if covariates else "none"
    return calendar


def load_panel_like(
    source: str | Path,
    schema: Schema,
    freq: str,
    fill: str = "interpolate",
    keep_future: bool = False,
    duplicates: str = "error",
) -> Panel:
    """Read data that must match a trained model's columns, frequency, date order and zone."""
    text = [schema.id] if schema.id is not None else []
    frame = read_table(source, text_columns=[*text, *schema.static])
    columns = [schema.time, *schema.targets, *schema.past, *schema.future, *schema.static]
    missing = [c for c in columns if c not in frame.columns]
    if schema.id is not None and schema.id not in frame.columns:
        missing.append(schema.id)
    if missing:
        raise DataError(
            f"{name_of(source)} lacks the model's column(s) {', '.join(map(repr, missing))}; "
            f"the model was trained on time={schema.time!r}, targets={schema.targets!r}"
            + (f", id={schema.id!r}" if schema.id else "")
        )
    return build_panel(frame, schema, fill=fill, source=name_of(source), expected_freq=freq,
                       like_model=True, keep_future=keep_future,
                       duplicates=duplicates)  # fmt: skip


__all__ = ["OFFSET_PATTERN", "build_panel", "infer_frequency", "load_panel", "load_panel_like"]
