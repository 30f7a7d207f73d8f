"""Writing results: tables as CSV / JSON / JSON lines to stdout or a file; rich tables to stderr.

Numbers are written with the precision they have earned (six significant digits unless
``--decimals`` says otherwise), timestamps in the input's own zone with their offset, and
JSON never holds NaN or Infinity (which jq and most parsers reject): those become null,
and a report says why in its ``notes``.
"""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecaster import files
from forecaster.errors import UsageError

SIGNIFICANT_DIGITS = 6


def round_values(values: np.ndarray, decimals: int | None) -> np.ndarray:
    """``decimals`` places after the point, or `SIGNIFICANT_DIGITS` significant digits.

    Through text (``%.6g``), so that 2293.5393433468516 is written 2293.54, not
    2293.5400000000004.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return array
    spec = f"%.{decimals}f" if decimals is not None else f"%.{SIGNIFICANT_DIGITS}g"
    finite = np.isfinite(array)
    out = array.copy()
    out[finite] = np.char.mod(spec, array[finite]).astype(np.float64)
    return out


def _round_scalar(value: float, decimals: int | None) -> float:
    if not math.isfinite(value):
        return value
    spec = f".{decimals}f" if decimals is not None else f".{SIGNIFICANT_DIGITS}g"
    return float(format(value, spec))


def clean(value: Any, decimals: int | None = None) -> Any:
    """JSON-ready: NaN and Infinity become None, floats rounded, NumPy scalars plain."""
    if isinstance(value, dict):
        return {str(k): clean(v, decimals) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, decimals) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return _round_scalar(value, decimals) if math.isfinite(value) else None
    return value


def to_json(value: Any, decimals: int | None = None, indent: int | None = 2) -> str:
    return json.dumps(clean(value, decimals), indent=indent, default=str, allow_nan=False)


def format_times(values: pd.Series, layout: str | None = None) -> pd.Series:
    """As the input spelled its timestamps (``layout``: `data.layouts`) where that reads
    back as the same instants; else ISO 8601 with the offset for zoned timestamps, and
    YYYY-MM-DD when every one is at midnight, YYYY-MM-DD HH:MM:SS otherwise."""
    if layout is not None:
        from forecaster.data.layouts import format_layout

        spelled = format_layout(values, layout)
        if spelled is not None:
            return spelled
    if getattr(values.dt, "tz", None) is not None:
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
        return text.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True)
    midnight = bool((values == values.dt.normalize()).all())
    return values.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")


def frame_to_text(
    frame: pd.DataFrame, fmt: str, decimals: int | None = None, layout: str | None = None
) -> str:
    """``fmt`` is csv, json (an array of records) or jsonl (one record a line); timestamps
    spelled in ``layout`` (the model's `Schema.time_layout`) where it holds."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[column] = format_times(values, layout)
        elif pd.api.types.is_float_dtype(values):
            out[column] = pd.Series(round_values(values.to_numpy(), decimals), index=frame.index)
        else:
            out[column] = values
    table = pd.DataFrame(out, index=frame.index)
    if fmt == "csv":
        return str(table.to_csv(index=False))
    records = table.to_dict(orient="records")
    if fmt == "jsonl":
        return "".join(to_json(r, decimals, indent=None) + "\n" for r in records)
    return to_json(records, decimals) + "\n"


def standard_output(instead: str | None = "-o FILE") -> Any:
    """``sys.stdout``, or a usage error when it is closed (``>&-``: Python then has None).

    Every command refuses alike, rather than print into nothing and report success;
    ``instead`` is the option that writes to a file, for the message.
    """
    if sys.stdout is None:
        fix = f", or write to a file with {instead}" if instead else " (> FILE)"
        raise UsageError(f"standard output is closed; redirect it{fix}")
    return sys.stdout


def write_text(
    text: str, destination: files.Output | None, instead: str | None = "-o FILE"
) -> None:
    """To stdout when no destination, else to the checked output file (atomically)."""
    if destination is None:
        out = standard_output(instead)
        out.write(text)
        out.flush()
    else:
        files.write(destination, text.encode("utf-8"))


def write_bytes(payload: bytes, destination: files.Output | None, instead: str = "-o FILE") -> None:
    """An image to stdout's bytes when no destination, else to the checked output file."""
    if destination is None:
        out = standard_output(instead)
        out.buffer.write(payload)
        out.flush()
    else:
        files.write(destination, payload)


def write_json(
    value: Any, destination: files.Output | None = None, decimals: int | None = None
) -> None:
    write_text(to_json(value, decimals) + "\n", destination)


def metrics_csv(rows: Sequence[dict[str, Any]], decimals: int | None = None) -> str:
    buffer = io.StringIO()
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame[column] = round_values(frame[column].to_numpy(), decimals)
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on stderr (plain text when stderr is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    Console(stderr=True, width=None if sys.stderr.isatty() else 120).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    return str(value)
