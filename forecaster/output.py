"""Writing results: tables as CSV / JSON / JSON lines to stdout or a file; rich tables to stderr."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from forecaster.artifact import write_atomic


def frame_to_text(frame: pd.DataFrame, fmt: str) -> str:
    """``fmt`` is csv, json (an array of records) or jsonl (one record a line)."""
    frame = _format_times(frame)
    if fmt == "csv":
        return str(frame.to_csv(index=False))
    records = frame.to_dict(orient="records")
    if fmt == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in records)
    return json.dumps(records, indent=2) + "\n"


def _format_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as YYYY-MM-DD when every timestamp is midnight, else YYYY-MM-DD HH:MM:SS."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            midnight = bool((values == values.dt.normalize()).all())
            frame[column] = values.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
    return frame


def write_text(text: str, destination: Path | None) -> None:
    """To stdout when no destination (or '-'), else atomically to the file."""
    if destination is None or str(destination) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(destination, text.encode("utf-8"))


def write_json(value: Any, destination: Path | None = None) -> None:
    write_text(json.dumps(value, indent=2, default=str) + "\n", destination)


def metrics_csv(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    pd.DataFrame(rows).to_csv(buffer, index=False)
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
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"
    return str(value)
