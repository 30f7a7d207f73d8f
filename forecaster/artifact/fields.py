"""Checks of single metadata values and tensors, shared by the model file's parts.

Each refuses, with a `ModelFileError` naming the field, a value forecaster would not have
written: the field checks bound what an edit that recomputes the checksum can do
(docs/model-file.md).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from forecaster.artifact.safe import EDITED, dtype_name
from forecaster.config import FieldTypeError, describe_value, short_repr, typed_fields
from forecaster.errors import ModelFileError

# Data values beyond 1e100 (data.MAX_MAGNITUDE) are refused when read, so no training run
# stores a scaler or context beyond this (twice that, for rounding).
MAX_SCALE = 2e100


def bad(field: str, value: Any, expected: str) -> ModelFileError:
    given = describe_value(value, "an object")
    return ModelFileError(f"model metadata {field} is {given}; expected {expected}; {EDITED}")


def keys(field: str, value: Any, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``value`` must be a JSON object with exactly the keys ``names``."""
    if not isinstance(value, dict):
        raise bad(field, value, "an object")
    missing = [k for k in names if k not in value]
    unknown = sorted(set(value) - set(names))
    if missing or unknown:
        listed = ", ".join(missing or unknown)
        listed = listed if len(listed) <= 120 else listed[:117] + "..."
        detail = f"lacks key(s) {listed}" if missing else f"has unknown key(s) {listed}"
        where = "model metadata" if field == "" else f"model metadata {field}"
        raise ModelFileError(f"{where} {detail}; {EDITED}")
    return value


def present(value: Any, names: tuple[str, ...] | list[str], optional: tuple[str, ...]) -> list[str]:
    """``names`` with those of ``optional`` that ``value`` holds (older files lack them)."""
    held = value if isinstance(value, dict) else {}
    return [k for k in names if k not in optional or k in held]


def typed(cls: type, field: str, values: dict[str, Any]) -> dict[str, Any]:
    try:
        return typed_fields(cls, values, null=True)
    except FieldTypeError as exc:
        raise ModelFileError(
            f"model metadata {field}.{exc.key} is {exc.given}; expected {exc.expected}; {EDITED}"
        ) from None


def strings(field: str, value: Any, count: int | None = None) -> list[str]:
    """A list of unique strings (``count`` of them, if given)."""
    expected = "a list of unique strings" + (f", {count} of them" if count is not None else "")
    if not isinstance(value, list):
        raise bad(field, value, expected)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise bad(f"{field}[{i}]", item, "a string")
    if len(set(value)) != len(value):
        first = {v: i for i, v in reversed(list(enumerate(value)))}
        i = next(i for i, v in enumerate(value) if first[v] != i)
        raise bad(f"{field}[{i}]", value[i], f"a string not already in {field}")
    if count is not None and len(value) != count:
        raise ModelFileError(
            f"model metadata {field} has {len(value)} entries; expected {count}; {EDITED}"
        )
    return value


def tensor(
    tensors: dict[str, np.ndarray], name: str, dtype: np.dtype, shape: tuple[int, ...]
) -> np.ndarray:
    """The tensor ``name``, of the dtype and shape the metadata implies."""
    array = tensors[name]
    if array.dtype != dtype:
        raise ModelFileError(
            f"model file's tensor {name} is {dtype_name(array.dtype)}; "
            f"expected {dtype_name(dtype)}; {EDITED}"
        )
    if array.shape != shape:
        raise ModelFileError(
            f"model file's tensor {name} has shape {array.shape}; the metadata implies "
            f"{shape}; {EDITED}"
        )
    return array


def within_scale(array: np.ndarray) -> bool:
    """Every value finite and at most `MAX_SCALE` in magnitude (False for NaN as well)."""
    return bool(np.all(np.abs(array) <= MAX_SCALE))


def matrix(field: str, value: Any, shape: tuple[int, int], positive: bool) -> np.ndarray:
    """Finite numbers of at most `MAX_SCALE` in magnitude, as a list of ``shape[0]`` rows."""
    rows, columns = shape
    number = f"a finite number{' > 0' if positive else ''} of at most {MAX_SCALE:g} in magnitude"
    if not isinstance(value, list) or len(value) != rows:
        raise bad(field, value, f"a list of {rows} row(s), one per series")
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != columns:
            raise bad(f"{field}[{i}]", row, f"a list of {columns} number(s), one per target")
        for j, item in enumerate(row):
            if type(item) not in (int, float):
                raise bad(f"{field}[{i}][{j}]", item, number)
    array = np.asarray(value, dtype=np.float64).reshape(shape)
    with np.errstate(invalid="ignore"):
        wrong = ~(np.abs(array) <= MAX_SCALE) | ((array <= 0) if positive else False)
    if wrong.any():
        series, target = (int(i) for i in np.argwhere(wrong)[0])
        item = float(array[series, target])
        raise bad(f"{field}[{series}][{target}]", item, number)
    return array


def timestamps(field: str, value: Any, count: int) -> list[pd.Timestamp]:
    """Timestamps as forecaster writes them (``str(pd.Timestamp)``), none NaT, one time zone."""
    expected = "a timestamp as forecaster writes them ('2020-01-31 00:00:00')"
    if not isinstance(value, list) or len(value) != count:
        raise bad(field, value, f"a list of {count} timestamp(s), one per series")
    stamps: list[pd.Timestamp] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise bad(f"{field}[{i}]", item, expected)
        try:
            stamp = pd.Timestamp(item)
        except (ValueError, TypeError, OverflowError):
            raise bad(f"{field}[{i}]", item, expected) from None
        if stamp is pd.NaT or pd.isna(stamp) or str(stamp) != item:
            raise bad(f"{field}[{i}]", item, expected)
        stamps.append(stamp)
    zones = {str(s.tz) for s in stamps}
    if len(zones) > 1:
        raise ModelFileError(
            f"model metadata {field} mixes time zones ({short_repr(sorted(zones))}); {EDITED}"
        )
    return stamps


def frequency(freq: Any, last: pd.Timestamp | None, horizon: int) -> str:
    """A pandas alias with a positive multiple that steps ``horizon`` times past ``last``."""
    expected = "a pandas frequency alias with a positive multiple ('D', 'h', '15min', 'MS')"
    if not isinstance(freq, str):
        raise bad("freq", freq, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            offset = pd.tseries.frequencies.to_offset(freq)
        except (ValueError, TypeError, OverflowError):
            raise bad("freq", freq, expected) from None
        if not isinstance(offset.n, int) or offset.n < 1:
            raise bad("freq", freq, expected)
        start = pd.Timestamp("2000-01-01") if last is None else last
        try:
            steps = pd.date_range(start, periods=horizon + 1, freq=offset)
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            steps = None
        if steps is None or len(steps) != horizon + 1 or not steps.is_monotonic_increasing:
            raise bad("freq", freq, f"{expected} that steps {horizon} times past {start}")
        if len(steps.unique()) != len(steps):
            raise bad("freq", freq, f"{expected} that steps {horizon} times past {start}")
    return freq
