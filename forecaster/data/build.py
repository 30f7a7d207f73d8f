"""A table's rows to a `Panel`: `build_panel` and its steps, in the order they run.

Rows are numbered by series and sorted (`rows`), read on the clock of their grid (UTC or the
zone's wall clock), given their frequency (`frequency`), placed on the grid (`grid`, or a
session's: `sessions`), and their gaps filled; covariates get their calendar features. Every
step that changes the data says so in one note, logged once at the end.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecaster.data import sessions
from forecaster.data.calendar import calendar_names, holiday_names
from forecaster.data.covariates import check_static, split_future, with_calendar
from forecaster.data.forms import STEPS, YEARS, step_freq, steps_hint
from forecaster.data.frequency import check_frequency, infer_with_hint, validate_freq
from forecaster.data.grid import Layout, fill_covariates, fill_targets, place
from forecaster.data.layouts import detect_layout
from forecaster.data.panel import Panel, Schema, fixed_step_ns, grid_timestamps
from forecaster.data.rows import Rows, columns_of, in_order, on_the_clock, one_per_stamp
from forecaster.data.sessions import Session
from forecaster.data.times import ParsedTimes, find_zone, fixed_zone, local_wall_times, parse_times
from forecaster.errors import DataError, UsageError

log = logging.getLogger("forecaster")

_DAY_NS = 86_400_000_000_000


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
    schema, values, user, ids = columns_of(frame, schema, like_model, source)
    zone, utc_grid = _zone(parsed, schema, like_model, source)
    rows = in_order(ids, parsed.values, values, user, notes)
    del values, user, ids
    hint = _offsets_hint(parsed, zone) + steps_hint(parsed.form)
    if utc_grid is None:
        utc_grid = _utc_grid(rows, zone, freq, hint)
    rows.times = _timeline(rows.times, zone, bool(utc_grid))
    rows = one_per_stamp(rows, schema, parsed, duplicates, notes)
    if schema.static:
        check_static(rows.user, rows.bounds, rows.ids, schema, rows.times)
    given_freq = freq
    freq = _frequency(rows, freq, expected_freq, source, hint)
    rows = on_the_clock(rows, fixed_step_ns(freq), notes)
    session, placed = _placed(rows, schema, freq, given_freq, hint, like_model)
    sessions.invented_check(len(rows.times), placed[1], freq, session, source)
    if session is not None and not like_model:
        notes.append(sessions.session_note(session, freq, rows.times, rows.bounds))
    layout, regular, regular_user, future_user = _on_grid(
        rows, placed, freq, session, schema, fill, keep_future, notes
    )
    spelling = detect_layout(frame[schema.time], parsed.date_order) if parsed.form is None else None
    schema = _as_read(schema, parsed, zone, utc_grid, session, like_model, spelling)
    if not like_model:
        schema = _with_calendar_names(schema, parsed.form, freq, calendar, holidays)
    covariates, future = _covariates(layout, regular_user, future_user, schema)
    for note in notes:
        log.warning("%s: %s", source, note)
    return Panel(
        ids=[str(rows.ids[b]) for b in rows.bounds[:-1]],
        starts=list(pd.DatetimeIndex(layout.starts)),
        offsets=layout.offsets,
        values=np.ascontiguousarray(regular),
        freq=freq,
        schema=schema,
        notes=notes,
        covariates=covariates,
        future=future,
    )


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


def _offsets_hint(parsed: ParsedTimes, zone: str | None) -> str:
    """A hint for irregular data whose timestamps carried UTC offsets, else ''."""
    if not parsed.aware:
        return ""
    return (
        f" (timestamps with UTC offsets were read in zone {zone}; if that is not the data's "
        "zone, give the timestamps without offsets, in local time)"
    )


def _utc_grid(rows: Rows, zone: str | None, freq: str | None, hint: str) -> bool:
    """In a zone with daylight saving: a UTC grid for data finer than a day (its wall clock
    repeats an hour in autumn), unless the data keeps to wall-clock business hours."""
    probe = validate_freq(freq) if freq else infer_with_hint(rows.stretches(), hint, quiet=True)
    step = fixed_step_ns(probe) if probe else None
    if step is None or step >= _DAY_NS:
        return False
    wall = _timeline(rows.times, zone, False)
    # Business hours: a session of the wall clock, not of UTC.
    return not sessions.keeps_to_the_clock(wall, rows.bounds, step)


def _timeline(instants: np.ndarray, zone: str | None, utc: bool) -> np.ndarray:
    """The rows' times on the grid's clock: UTC instants, or the zone's wall clock."""
    if zone is None or utc:
        return instants
    return local_wall_times(instants, zone)


def _frequency(rows: Rows, freq: str | None, expected: str | None, source: str, hint: str) -> str:
    """``--freq`` checked, else the model's (``expected``) checked against the data, else
    the data's own."""
    if freq:
        return validate_freq(freq)
    if expected:
        return check_frequency(rows.stretches(), expected, source)
    return infer_with_hint(rows.stretches(), hint)


def _placed(
    rows: Rows, schema: Schema, freq: str, given: str | None, hint: str, like_model: bool
) -> tuple[Session | None, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The grid's session, if any (`sessions`: the model's, else the hours of the day or
    an exchange's trading days the data keeps to), and the rows placed on it or on the
    plain ``freq`` grid: every row's position in its series, lengths and starts."""
    if like_model:
        session = schema.session
    else:
        session = sessions.detect(rows.times, rows.bounds, fixed_step_ns(freq))
        if session is None:
            session = sessions.trading_days(rows.times, rows.bounds, freq)
    if session is None:
        return None, place(rows.times, rows.bounds, rows.ids, freq, given=given, hint=hint)
    what = "the model's session" if like_model else "the session"
    return session, session.place(rows.times, rows.bounds, what)


def _on_grid(
    rows: Rows,
    placed: tuple[np.ndarray, np.ndarray, np.ndarray],
    freq: str,
    session: Session | None,
    schema: Schema,
    fill: str,
    keep_future: bool,
    notes: list[str],
) -> tuple[Layout, np.ndarray, np.ndarray, np.ndarray | None]:
    """The rows' targets and covariates on the grid, gaps filled, and the future rows'
    covariates (``keep_future``); where each series lies."""
    positions, lengths, starts = placed
    offsets, regular, regular_user = _scatter(rows, positions, lengths)
    rows.values = rows.values[:0]  # on the grid now: its memory goes before gaps are filled
    offsets, regular, regular_user, future_user = _future_rows(
        schema, offsets, regular, regular_user, keep_future, notes
    )
    layout = Layout(rows.ids, rows.bounds, starts, offsets, freq, session)
    regular = fill_targets(regular, layout, fill, schema.targets, notes)
    if rows.user.shape[1]:
        names = [*schema.past, *schema.future, *schema.static_channels]
        regular_user = fill_covariates(regular_user, layout, fill, names, notes)
    return layout, regular, regular_user, future_user


def _scatter(
    rows: Rows, positions: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each series' cells (offsets) and the targets and covariates on them, NaN in gaps."""
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    cells = positions  # each row's place in the whole grid, computed in place
    cells += np.repeat(offsets[:-1], np.diff(rows.bounds))
    regular = np.full((int(offsets[-1]), rows.values.shape[1]), np.nan)
    regular[cells] = rows.values
    regular_user = np.full((int(offsets[-1]), rows.user.shape[1]), np.nan)
    regular_user[cells] = rows.user
    return offsets, regular, regular_user


def _future_rows(
    schema: Schema,
    offsets: np.ndarray,
    regular: np.ndarray,
    regular_user: np.ndarray,
    keep_future: bool,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Rows after a series' last target value cut off: their future covariates kept with
    ``keep_future`` (predict), else left out with a note."""
    if not schema.future:
        return offsets, regular, regular_user, None
    offsets, regular, regular_user, future_user = split_future(regular, regular_user, offsets)
    beyond = int(np.isfinite(future_user).any(axis=2).sum())
    if beyond and not keep_future:
        notes.append(
            f"left out {beyond} row(s) after the last target value (future covariates "
            "only): they are for predict"
        )
        return offsets, regular, regular_user, None
    return offsets, regular, regular_user, future_user


def _as_read(
    schema: Schema,
    parsed: ParsedTimes,
    zone: str | None,
    utc_grid: bool | None,
    session: Session | None,
    like_model: bool,
    spelling: str | None,
) -> Schema:
    """The schema with how this data was read: date order, time form and spelling, zone,
    the grid's clock and session (a model's time form and spelling stay the model's)."""
    return dataclasses.replace(
        schema,
        date_order=parsed.date_order or schema.date_order,
        time_form=parsed.form if not like_model else schema.time_form,
        time_layout=spelling if not like_model else schema.time_layout,
        zone=zone,
        utc_grid=bool(utc_grid) if zone is not None else False,
        session=session,
    )


def _with_calendar_names(
    schema: Schema, form: str | None, freq: str, calendar: str, holidays: Sequence[str]
) -> Schema:
    """The calendar features a new model derives: ``calendar`` "on" and holiday countries."""
    if form == STEPS and holidays:
        raise UsageError(
            f"--holidays needs dates, and column {schema.time!r} holds step numbers; "
            "leave --holidays out"
        )
    names = calendar_names(freq) if calendar == "on" else []
    return dataclasses.replace(schema, calendar=names + holiday_names(list(holidays)))


def _covariates(
    layout: Layout, regular_user: np.ndarray, future_user: np.ndarray | None, schema: Schema
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """All covariate channels of the history (rows, K) and of the future rows (S, F, K):
    the user's with the calendar features of their grid timestamps."""
    if not schema.has_covariates:
        return None, None
    freq, session = layout.freq, layout.session
    starts = np.asarray(layout.starts, "datetime64[ns]")
    lengths = np.diff(layout.offsets)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    within = np.arange(int(layout.offsets[-1])) - layout.offsets[:-1][owner]
    naive = grid_timestamps(starts[owner], within, freq, session)
    covariates = np.ascontiguousarray(with_calendar(regular_user, naive, schema, freq))
    if future_user is None or not future_user.shape[1]:
        return covariates, None
    n, f, _ = future_user.shape
    rows_after = np.tile(np.arange(f), n) + np.repeat(lengths, f)
    later = grid_timestamps(np.repeat(starts, f), rows_after, freq, session)
    flat = with_calendar(future_user.reshape(n * f, -1), later, schema, freq)
    return covariates, flat.reshape(n, f, -1)
