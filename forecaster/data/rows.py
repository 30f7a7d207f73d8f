"""The input's rows as arrays, in series-then-time order, one row per timestamp.

Ids are numbered once (`RowIds`: a number per row, a text per series), so that sorting and
splitting 10^8 rows compares numbers, not texts. Rows that repeat a series' timestamp are
refused, or merged as ``--duplicates`` says (`duplicates.merge_repeated`); a jittered clock
is moved onto its grid (`sessions.snap`). Each step says what it changed in one note.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecaster.config import AUTO_ROWS_PER_REPEAT
from forecaster.data import sessions
from forecaster.data.columns import parse_numbers
from forecaster.data.covariates import static_categories, user_covariates
from forecaster.data.duplicates import Merged, merge_repeated
from forecaster.data.forms import shown_times
from forecaster.data.panel import RowIds, Schema
from forecaster.data.read import file_rows
from forecaster.data.times import ParsedTimes
from forecaster.errors import DataError


@dataclass
class Rows:
    """Every input row's series (``ids``), time, targets (N, T) and covariates (N, K);
    ``bounds`` (S + 1,) the first row of each series, the rows sorted by series."""

    ids: RowIds
    times: np.ndarray
    values: np.ndarray
    user: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, ids: RowIds, times: np.ndarray, values: np.ndarray, user: np.ndarray) -> Rows:
        codes = ids.codes
        change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        bounds = np.concatenate([[0], change, [len(codes)]]).astype(np.int64)
        return cls(ids, times, values, user, bounds)

    def stretches(self) -> list[pd.DatetimeIndex]:
        """Each series' times, for frequency inference."""
        return [pd.DatetimeIndex(self.times[a:b]) for a, b in itertools.pairwise(self.bounds)]


def columns_of(
    frame: pd.DataFrame, schema: Schema, like_model: bool, source: str
) -> tuple[Schema, np.ndarray, np.ndarray, RowIds]:
    """The targets, the covariates and the series of every row, in the file's order; the
    schema with its static categories (a model's own, ``like_model``)."""
    values = _numbers(frame, schema.targets)
    if schema.static and not like_model:
        schema = replace(schema, categories=static_categories(frame, schema))
    user = user_covariates(frame, schema, source)
    return schema, values, user, _row_ids(frame, schema)


def _row_ids(frame: pd.DataFrame, schema: Schema) -> RowIds:
    """Each row's series: from the id column, else one series named for its targets."""
    if schema.id is None:
        codes = np.zeros(len(frame), dtype=np.int32)
        return RowIds(codes, np.array([schema.wide_id], dtype=object))
    raw_ids = frame[schema.id]
    if raw_ids.isna().any():
        raise DataError(
            f"id column {schema.id!r} is empty at row(s) {file_rows(raw_ids.isna())}; "
            "every row needs a series id"
        )
    codes, id_names = _series_codes(raw_ids)
    return RowIds(codes, id_names)


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


def in_order(
    ids: RowIds, instants: np.ndarray, values: np.ndarray, user: np.ndarray, notes: list[str]
) -> Rows:
    """The rows sorted by series, then time; a note when a series' rows were not in time
    order. Already sorted, as most files are: no copies."""
    positions = _series_time_order(ids.codes, instants)
    if positions is None:
        return Rows.of(ids, instants, values, user)
    by_series = ids.codes[positions]
    same = by_series[1:] == by_series[:-1]
    if (same & (positions[1:] < positions[:-1])).any():  # a series' rows out of time order
        notes.append("rows were not in time order; sorted them")
    sorted_ids = RowIds(by_series, ids.names)
    return Rows.of(sorted_ids, instants[positions], values[positions], user[positions])


def one_per_stamp(
    rows: Rows, schema: Schema, parsed: ParsedTimes, how: str, notes: list[str]
) -> Rows:
    """Rows that repeat a series' timestamp refused (``how`` "error"), or merged into one
    ("mean", "first", "last"), said in a note; "auto": merged by their mean when few
    (`duplicates.AUTO_ROWS_PER_REPEAT`), else refused."""
    if how == "auto":
        codes, times = rows.ids.codes, rows.times
        repeats = int(((codes[1:] == codes[:-1]) & (times[1:] == times[:-1])).sum())
        if repeats * AUTO_ROWS_PER_REPEAT > len(times):
            how = "error"
    if how == "error":
        _refuse_duplicates(rows.ids, rows.times, schema, parsed)
        return rows
    merged = merge_repeated(rows.ids.codes, rows.times, rows.values, rows.user,
                            "mean" if how == "auto" else how)  # fmt: skip
    if merged is None:
        return rows
    if how == "auto":
        notes.append(_merged_few(merged, rows, schema, parsed))
    else:
        notes.append(f"{schema.time!r}: {merged.note(how)}")
    ids = RowIds(rows.ids.codes[merged.keep], rows.ids.names)
    return Rows.of(ids, rows.times[merged.keep], merged.values, merged.user)


def on_the_clock(rows: Rows, step: int | None, notes: list[str]) -> Rows:
    """A jittered clock's rows moved onto the grid of their ``step`` (`sessions.snap`)."""
    snapped = sessions.snap(rows.times, rows.ids.codes, rows.bounds, rows.values, rows.user, step)
    if snapped is None:
        return rows
    notes.append(snapped.note)
    ids = RowIds(snapped.codes, rows.ids.names)
    return Rows.of(ids, snapped.times, snapped.values, snapped.user)


def _repeated_examples(
    ids_sorted: RowIds, times: np.ndarray, schema: Schema, parsed: ParsedTimes
) -> tuple[str, np.ndarray]:
    """The first three repeated timestamps as the data wrote them (with their series), and
    where each repeated row is (True at row k + 1 when it repeats row k)."""
    codes = ids_sorted.codes
    duplicated = (codes[1:] == codes[:-1]) & (times[1:] == times[:-1])
    first = np.flatnonzero(duplicated)[:3] + 1
    shown = shown_times(times[first], parsed.form)
    examples = ", ".join(
        (f"{ids_sorted[i]} " if schema.id else "") + str(text)
        for i, text in zip(first, shown, strict=True)
    )
    return examples, duplicated


def _merged_few(merged: Merged, rows: Rows, schema: Schema, parsed: ParsedTimes) -> str:
    """`--duplicates auto`'s warning: which timestamps repeated, and what became of them."""
    examples, _ = _repeated_examples(rows.ids, rows.times, schema, parsed)
    more = ", ..." if merged.stamps > 3 else ""
    return (
        f"{schema.time!r}: {merged.stamps} timestamp(s) repeat ({examples}{more}); merged "
        f"{merged.rows} rows into one per timestamp, by their mean, as they are few (at "
        f"most 1 row in {AUTO_ROWS_PER_REPEAT:,}; --duplicates error refuses them, first "
        "or last keeps one)"
    )


def _refuse_duplicates(
    ids_sorted: RowIds, times: np.ndarray, schema: Schema, parsed: ParsedTimes
) -> None:
    examples, duplicated = _repeated_examples(ids_sorted, times, schema, parsed)
    if not duplicated.any():
        return
    first = np.flatnonzero(duplicated)[:3] + 1
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
