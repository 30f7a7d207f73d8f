"""Which column plays which role (time, id, targets), and the numbers in a value column.

Flags first, then the conventional names (``unique_id``, ``ds``, ``y``), then the contents.
Every problem is a `DataError` that names the column, the rows and the fix.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecaster.data.forms import DECIMAL_FORMS, detect_form
from forecaster.data.panel import Schema
from forecaster.data.read import file_rows as _file_rows
from forecaster.data.times import looks_like_time
from forecaster.errors import DataError, UsageError

log = logging.getLogger("forecaster")

TIME_NAMES = ("ds", "date", "datetime", "timestamp", "time", "period", "month", "week", "day")
# Names that make a column of integers the time column: years, or step numbers 0, 1, 2, ...
STEP_NAMES = ("year", "t", "step", "index", "idx")
ID_NAMES = ("unique_id",)
# Scaling squares deviations in float64: beyond these magnitudes they overflow or underflow.
MAX_MAGNITUDE = 1e100
MIN_MAGNITUDE = 1e-100


# ---------------------------------------------------------------------------------------
# Roles of columns


def _suggest(name: str, columns: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ";"
    return f"{hint} columns are: {', '.join(map(repr, columns))}"


def _require_column(frame: pd.DataFrame, name: str, flag: str) -> None:
    if name not in frame.columns:
        raise DataError(f"{flag} {name!r}: no such column{_suggest(name, list(frame.columns))}")


def detect_schema(
    frame: pd.DataFrame,
    time: str | None = None,
    targets: Sequence[str] = (),
    id: str | None = None,
    past: Sequence[str] = (),
    future: Sequence[str] = (),
    static: Sequence[str] = (),
) -> Schema:
    """Decide the time, id and target columns: flags first, then names, then contents.

    Covariate columns are named by their flags only; a numeric column in no role is left
    out, and said so (one line).
    """
    columns = list(frame.columns)
    covariates = _covariate_columns(frame, {"--past-covariate": past,
                                            "--future-covariate": future,
                                            "--static-covariate": static})  # fmt: skip
    for covariate in covariates:
        if covariate in targets:
            raise UsageError(f"column {covariate!r} cannot be both a target and a covariate")
    targets = _once_each(targets)
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise DataError(f"duplicate column names: {', '.join(map(repr, dupes))}; rename them")
    for name, flag in [(time, "--time"), (id, "--id")]:
        if name is not None:
            _require_column(frame, name, flag)
    for name in targets:
        _require_column(frame, name, "--target")

    time, id = _time_and_id(frame, time, id, targets, covariates, bool(static))
    if not targets:
        targets = _default_targets(frame, time, id, covariates)
    for role, name in (("time", time), ("id", id)):
        if name is not None and name in targets:
            raise UsageError(f"column {name!r} cannot be both the {role} column and a target")
    _note_unused(frame, time, id, targets, covariates)
    return Schema(
        time=time,
        targets=list(targets),
        id=id,
        past=list(past),
        future=list(future),
        static=list(static),
    )


def _time_and_id(
    frame: pd.DataFrame,
    time: str | None,
    id: str | None,
    targets: Sequence[str],
    covariates: list[str],
    static: bool,
) -> tuple[str, str | None]:
    """The time and id columns: the flags', else found by name and contents; neither may
    be a covariate, and static covariates need an id."""
    if time is None:
        time = _find_time_column(frame, exclude={id, *targets, *covariates})
    if id is None:
        id = next((c for c in ID_NAMES if c in frame.columns and c != time), None)
    if id is None:
        id = _find_id_column(frame, time, exclude={*targets, *covariates})
    if static and id is None:
        raise UsageError(
            "--static-covariate needs long-format data (an id column, named with --id): a "
            "static covariate is constant within each series"
        )
    for covariate in covariates:
        for role, other in (("time", time), ("id", id)):
            if covariate == other:
                raise UsageError(
                    f"column {covariate!r} cannot be both the {role} column and a covariate"
                )
    return time, id


def _covariate_columns(frame: pd.DataFrame, roles: dict[str, Sequence[str]]) -> list[str]:
    """The covariate columns of every flag, each column present and in one role only."""
    covariates: list[str] = []
    for flag, names in roles.items():
        for covariate in names:
            _require_column(frame, covariate, flag)
            if covariate in covariates:
                raise UsageError(
                    f"column {covariate!r} is named as a covariate twice; give it one role"
                )
            covariates.append(covariate)
    return covariates


def _once_each(targets: Sequence[str]) -> Sequence[str]:
    """A target given twice is one target, said in one line."""
    repeated = sorted({t for t in targets if list(targets).count(t) > 1})
    if not repeated:
        return targets
    log.warning(
        "--target %s given more than once; each column is one target",
        ", ".join(map(repr, repeated)),
    )
    return list(dict.fromkeys(targets))


def _default_targets(
    frame: pd.DataFrame, time: str, id: str | None, covariates: list[str]
) -> list[str]:
    """Without --target: "y" in long-format data, else every numeric column in no other
    role; none is an error that names a column of numbers written with commas, if any."""
    columns = list(frame.columns)
    if id is not None and "y" in columns and "y" not in (time, id, *covariates):
        return ["y"]
    targets = [
        c
        for c in columns
        if c not in (time, id) and c not in covariates and _looks_numeric(frame[c])
    ]
    if targets:
        return targets
    comma = _comma_numbers(frame, exclude={time, id})
    if comma is not None:
        column, example = comma
        raise DataError(
            f"column {column!r} is not numeric as written (e.g. {example!r}){_number_hint(example)}"
        )
    raise DataError(
        "no numeric target column found; name one with --target "
        f"(columns are: {', '.join(map(repr, columns))})"
    )


def _note_unused(
    frame: pd.DataFrame, time: str, id: str | None, targets: Sequence[str], covariates: list[str]
) -> None:
    """A numeric column in no role is left out, and said so (one line)."""
    unused = [
        c
        for c in frame.columns
        if c not in (time, id) and c not in targets and c not in covariates
        and _looks_numeric(frame[c])
    ]  # fmt: skip
    if unused:
        log.warning(
            "column(s) %s not used: neither a target nor a covariate (name them with "
            "--target, --past-covariate or --future-covariate)",
            ", ".join(map(repr, unused[:10])) + (", ..." if len(unused) > 10 else ""),
        )


def _find_time_column(frame: pd.DataFrame, exclude: set[str | None]) -> str:
    candidates = [c for c in frame.columns if c not in exclude]
    named = [c for c in candidates if c.lower() in TIME_NAMES]
    for column in named + [c for c in candidates if c not in named]:
        if looks_like_time(frame[column]):
            return column
    # Integers are years or step numbers (`forms`) only when named so: a count could as
    # well be the target.
    whole = [c for c in candidates if _whole_numbers(frame[c])]
    for column in whole:
        if column.lower() in TIME_NAMES + STEP_NAMES:
            return column
    fractions = []  # named as times, with fractions: R's decimal years of months, quarters
    for column in candidates:
        if column.lower() in TIME_NAMES + STEP_NAMES and pd.api.types.is_float_dtype(frame[column]):
            if detect_form(frame[column]) in DECIMAL_FORMS:
                return column
            fractions.append(column)
    hint = (
        f"; if column {whole[0]!r} holds years or step numbers, give --time {whole[0]}"
        if whole
        else ""
    )
    if fractions:
        hint += (
            f"; column {fractions[0]!r} holds decimal years that are not all months or "
            "quarters (R's time() of weekly or daily series): write them as dates"
        )
    raise DataError(
        f"no datetime column found; name it with --time{hint} "
        f"(columns are: {', '.join(map(repr, frame.columns))})"
    )


def _whole_numbers(column: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.dropna().to_numpy()
    return len(values) > 0 and bool(np.all(values == np.round(values)))


def _find_id_column(frame: pd.DataFrame, time: str, exclude: set[str]) -> str | None:
    """A non-numeric, non-time column whose values repeat makes the data long format."""
    candidates = [
        c
        for c in frame.columns
        if c not in exclude
        and c != time
        and not _looks_numeric(frame[c])
        and frame[c].nunique(dropna=True) < len(frame)
    ]
    if len(candidates) == 1 and frame[time].duplicated().any():
        return str(candidates[0])
    return None


_COMMA_NUMBER = r"^[+-]?\d+(?:[.,\s]\d{3})*,\d+$|^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


def _comma_numbers(frame: pd.DataFrame, exclude: set[str | None]) -> tuple[str, str] | None:
    """A column of numbers written with decimal commas or thousands separators, if any."""
    for column in frame.columns:
        if column in exclude or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        sample = frame[column].dropna().astype(str).str.strip().head(200)
        matches = sample.str.match(_COMMA_NUMBER)
        if len(sample) and matches.mean() >= 0.8:
            return str(column), str(sample[matches].iloc[0])
    return None


# Cells that mean "no value" besides the empty cell and what pandas reads as NaN ("NA",
# "null", ...): "." is the missing-value mark of FRED's, SAS's and Stata's exports.
MISSING_MARKS = ("", ".")


def _looks_numeric(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    sample = column.dropna().astype(str).str.strip()
    sample = sample[~sample.isin(MISSING_MARKS)].head(200)
    if sample.empty:
        return False
    return bool(pd.to_numeric(sample, errors="coerce").notna().mean() >= 0.8)


# ---------------------------------------------------------------------------------------
# Values


def parse_numbers(frame: pd.DataFrame, column: str, role: str = "target") -> np.ndarray:
    """The column's numbers (NaN for empty cells); ``role`` names it in the errors."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        if role != "target":
            return values.to_numpy(dtype=np.float64, na_value=np.nan)  # a 0/1 flag
        raise DataError(f"{role} column {column!r} holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = values.astype("string").str.strip()
        empty = text.isna() | text.isin(MISSING_MARKS)
        numbers_series = pd.to_numeric(text.where(~empty), errors="coerce")
        bad = numbers_series.isna() & ~empty
        if bad.any():
            example = str(text[bad].iloc[0])
            hint = _number_hint(example)
            raise DataError(
                f"{role} column {column!r} is not numeric: {example!r} at row(s) {_file_rows(bad)}"
                f"{hint}"
            )
        numbers = numbers_series.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(numbers)
    if infinite.any():
        raise DataError(
            f"{role} column {column!r} holds infinite values at row(s) "
            f"{_file_rows(pd.Series(infinite, index=frame.index))}; replace them or leave the "
            "cells empty to have them filled"
        )
    magnitude = np.abs(numbers)
    huge = magnitude > MAX_MAGNITUDE
    if huge.any():
        raise DataError(
            f"{role} column {column!r} holds values too large to model (above {MAX_MAGNITUDE:g}) "
            f"at row(s) {_file_rows(pd.Series(huge, index=frame.index))}; rescale the column "
            "(for example express it in larger units)"
        )
    largest = float(np.nanmax(magnitude)) if (~np.isnan(magnitude)).any() else 0.0
    if 0.0 < largest < MIN_MAGNITUDE:
        raise DataError(
            f"{role} column {column!r} holds only values too small to model (below "
            f"{MIN_MAGNITUDE:g}); rescale the column (for example express it in smaller units)"
        )
    return numbers


def _number_hint(example: str) -> str:
    if "," in example and any(ch.isdigit() for ch in example):
        return (
            "; it looks like a decimal comma or a thousands separator: export the file "
            "with '.' as the decimal point and no thousands separators"
        )
    return "; choose numeric targets with --target, or clean the column"
