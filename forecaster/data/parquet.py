"""Parquet in (a file, a directory of files, or bytes on standard input) and out.

A Parquet column already has a type, so nothing is guessed: series ids become text as
written ("01" stays "01"; an integer id 7 becomes "7"), numbers stay numbers, and
timestamps and dates stay timestamps (no text to parse: 10^8 rows read in half a minute).
`times` reads a zone-aware column as it reads a CSV's timestamps with offsets: UTC instants
and each row's offset, so the column keeps its zone (offsets that change with daylight
saving are matched to it again). pyarrow does the reading; text columns are read
dictionary-encoded, so an id repeated on 10^8 rows is one string, not 10^8.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecaster.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

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
    """The table as `read_table` returns a CSV's, but typed: ids as text, timestamps as
    timestamps, numbers as numbers."""
    import pyarrow as pa

    name = "standard input" if str(source) == "-" else str(source)
    pool = pa.default_memory_pool()
    pa.set_memory_pool(_returning_pool())
    try:
        table = _read_table(source, name, payload)
        if table.num_rows == 0:
            raise DataError(f"{name} has columns but no rows")
        out = {}
        for column in table.column_names:
            chunked = table.column(column)
            table = table.drop_columns([column])  # one column in two forms at a time
            chunked = _nanoseconds(chunked)
            # Dates as timestamps, but a date id stays the text "2020-01-01".
            values = chunked.to_pandas(date_as_object=column in text_columns)
            del chunked
            out[str(column)] = _as_read(values, column in text_columns)
    finally:
        pa.set_memory_pool(pool)
    return pd.DataFrame(out, copy=False)


def _returning_pool() -> pa.MemoryPool:
    """Arrow memory that goes back to the system as soon as it is freed: pyarrow's default
    pool keeps it, and a 10^8-row read would hold gigabytes the next stages cannot use
    (measured at 10^7 rows: peak 524 MB with jemalloc at decay 0, 722 MB with malloc's)."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
        return pool
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return pa.system_memory_pool()


def _read_table(source: str | Path, name: str, payload: bytes | None) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if payload is not None:
            text = _text_fields(payload, name)
            return pq.read_table(io.BytesIO(payload), read_dictionary=text)
        path = Path(source)
        if path.is_dir() and not any(path.rglob("*.parquet")) and not any(path.rglob("*.pq")):
            raise DataError(f"{name} is a directory without Parquet files")
        return pq.read_table(path, read_dictionary=_text_fields(path, name))
    except FileNotFoundError:
        raise DataError(f"file not found: {name}") from None
    except (pa.ArrowException, OSError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise DataError(f"cannot read {name} as Parquet: {first}") from None


def _nanoseconds(chunked: pa.ChunkedArray) -> pa.ChunkedArray:
    """Naive timestamps in the unit `times` works in, converted here once, not in pandas
    after (out-of-range ones are left for `times` to refuse with its message)."""
    import pyarrow as pa

    kind = chunked.type
    if not pa.types.is_timestamp(kind) or kind.tz is not None or kind.unit == "ns":
        return chunked
    try:
        return chunked.cast(pa.timestamp("ns"))
    except pa.ArrowInvalid:
        return chunked


def _as_read(values: pd.Series, text: bool) -> pd.Series:
    """A column as `times` and `columns` take it: text as text (ids, static categories),
    timestamps typed, with or without a zone, numbers as numbers."""
    if text or _is_text(values):
        return _text(values)
    if values.dtype == object and _dates(values):
        return values.map(lambda v: None if pd.isna(v) else v.isoformat())
    return values


def _text_fields(source: Path | bytes, name: str) -> list[str]:
    """Text columns, to be read dictionary-encoded: a panel's ids repeat on every row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(source, bytes):
        schema = pq.read_schema(io.BytesIO(source))
    elif source.is_dir():
        schema = pq.ParquetDataset(source).schema
    else:
        schema = pq.read_schema(source)
    repeated = sorted({n for n in schema.names if schema.names.count(n) > 1})
    if repeated:
        raise DataError(f"{name} has more than one column named {repeated[0]!r}")
    return [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]


def _text(values: pd.Series) -> pd.Series:
    """Values as text, each distinct one converted once and shared by its rows (a panel of
    10^8 rows holds 10^5 ids, not 10^8 strings); missing ones None. An empty string is
    missing too, as an empty CSV field is: an id "" would be a series nobody named."""
    codes, uniques = pd.factorize(values)
    text = np.array([str(u) or None for u in uniques] + [None], dtype=object)
    return pd.Series(text[codes], index=values.index, dtype=object)


def _is_text(values: pd.Series) -> bool:
    if isinstance(values.dtype, (pd.CategoricalDtype, pd.StringDtype)):
        return True
    return values.dtype == object and _all_text(values)


def _all_text(values: pd.Series) -> bool:
    return bool(values.map(lambda v: v is None or isinstance(v, str)).all())


def _dates(values: pd.Series) -> bool:
    import datetime

    present = values.dropna()
    return len(present) > 0 and bool(present.map(lambda v: isinstance(v, datetime.date)).all())


def write_parquet(frame: pd.DataFrame) -> bytes:
    """A table as Parquet bytes (timestamps typed, with their zone)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()
