"""Parquet in (a file, a directory of files, or bytes on standard input) and out.

A Parquet column already has a type, so nothing is guessed: series ids become text as
written ("01" stays "01"; an integer id 7 becomes "7"), numbers stay numbers, and
timestamps and dates become ISO text, with the offset for zone-aware ones, which `times`
then reads exactly as it reads a CSV's (a zone-aware column keeps its zone: offsets that
change with daylight saving are matched to it again). pyarrow does the reading.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from forecaster.errors import DataError

MAGIC = b"PAR1"
SUFFIXES = (".parquet", ".pq")


def is_parquet(source: str | Path, head: bytes = b"") -> bool:
    """By content (the PAR1 magic), by extension, or a directory (of Parquet files)."""
    if head[:4] == MAGIC:
        return True
    if str(source) == "-":
        return False
    path = Path(source)
    return path.suffix.lower() in SUFFIXES or path.is_dir()


def read_parquet(
    source: str | Path, text_columns: Sequence[str] = (), payload: bytes | None = None
) -> pd.DataFrame:
    """The table as `read_table` returns a CSV's: ids and timestamps as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = "standard input" if str(source) == "-" else str(source)
    try:
        if payload is not None:
            table = pq.read_table(io.BytesIO(payload))
        else:
            path = Path(source)
            if path.is_dir() and not any(path.rglob("*.parquet")) and not any(path.rglob("*.pq")):
                raise DataError(f"{name} is a directory without Parquet files")
            table = pq.read_table(path)
    except FileNotFoundError:
        raise DataError(f"file not found: {name}") from None
    except (pa.ArrowException, OSError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise DataError(f"cannot read {name} as Parquet: {first}") from None
    frame = table.to_pandas()
    if len(frame) == 0:
        raise DataError(f"{name} has columns but no rows")
    out = {}
    for column in frame.columns:
        values = frame[column]
        if column in text_columns or (values.dtype == object and _all_text(values)):
            out[str(column)] = values.map(lambda v: None if pd.isna(v) else str(v)).astype(object)
        elif pd.api.types.is_datetime64_any_dtype(values):
            out[str(column)] = _iso(values)
        elif values.dtype == object and _dates(values):
            out[str(column)] = values.map(lambda v: None if pd.isna(v) else v.isoformat())
        else:
            out[str(column)] = values
    return pd.DataFrame(out)


def _all_text(values: pd.Series) -> bool:
    return bool(values.map(lambda v: v is None or isinstance(v, str)).all())


def _dates(values: pd.Series) -> bool:
    import datetime

    present = values.dropna()
    return len(present) > 0 and bool(present.map(lambda v: isinstance(v, datetime.date)).all())


def _iso(values: pd.Series) -> pd.Series:
    """Timestamps as ISO text: "2024-03-31 02:00:00", with "+02:00" when zone-aware."""
    text = values.dt.strftime("%Y-%m-%d %H:%M:%S")
    if values.dt.tz is not None:
        offset = values.dt.strftime("%z")  # +0200
        text = text + offset.str[:3] + ":" + offset.str[3:]
    return text.where(values.notna(), None).astype(object)


def write_parquet(frame: pd.DataFrame) -> bytes:
    """A table as Parquet bytes (timestamps typed, with their zone)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()
