"""From a CSV (a path or ``-`` for standard input) to a DataFrame of text and numbers.

gzip, a UTF-8 byte-order mark and the delimiter are detected. Timestamps stay text here:
parsing them (day first or month first, offsets and zones) is `times`' job, and a parser
that turned them into UTC instants would lose the offset the user wrote.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from forecaster.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 65536
# A timestamp format no value can match: pyarrow then infers no timestamp column and
# leaves timestamps as the text they were (ISO dates still become date32: exact).
_NO_TIMESTAMPS = ["%Y-%m-%dT%H:%M:%S\x01"]

log = logging.getLogger("forecaster")


def file_rows(mask: Any, limit: int = 5) -> str:
    """Row numbers as a user sees them in the file (the header is line 1): "2, 5, 9, ..."."""
    flags = np.asarray(mask, dtype=bool)
    positions = np.flatnonzero(flags)[:limit] + 2
    text = ", ".join(str(p) for p in positions)
    return text + (", ..." if int(flags.sum()) > limit else "")


def name_of(source: str | Path) -> str:
    return "standard input" if str(source) == "-" else str(source)


# Lines of the file's head looked at for a hint about lines above the table.
_HINT_LINES = 50


def read_table(source: str | Path, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV from a path or ``-`` (stdin); gzip and the delimiter are detected, and a
    Parquet file or directory (by content, extension or being a directory) goes to
    `parquet.read_parquet`.

    ``text_columns`` (series ids) are read as written, never as numbers: ids "01" and "1"
    are two series, and "7" is not "7.0".
    """
    from forecaster.data.parquet import is_parquet, read_parquet

    if str(source) != "-" and is_parquet(source):
        return read_parquet(source, text_columns)
    opened = _open_bytes(source)
    try:
        return _read_opened(opened, source, text_columns)
    finally:
        if str(source) != "-":  # a file we opened (never standard input, which is the caller's)
            opened.close()


def _read_opened(raw: IO[bytes], source: str | Path, text_columns: Sequence[str]) -> pd.DataFrame:
    """`read_table` of an open byte stream."""
    from forecaster.data.parquet import is_parquet, read_parquet

    head = _read(raw, _SNIFF_BYTES, source)
    if is_parquet(source, head):
        return read_parquet(source, text_columns, head + _read(raw, -1, source))
    if head[:2] == _GZIP_MAGIC:
        raw = gzip.GzipFile(fileobj=_Chain(head, raw))  # type: ignore[assignment]
        try:
            head = raw.read(_SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise DataError(
                f"{name_of(source)} looks gzip-compressed but cannot be decompressed ({exc}); "
                "check that the file is complete"
            ) from None
    head = _whole_first_line(raw, head, source)
    text_head = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text_head.strip():
        raise DataError(f"{name_of(source)} is empty; give a CSV with a header and data rows")
    delimiter = _sniff_delimiter(text_head)
    header = _header(text_head, delimiter, source)
    data = head + _read(raw, -1, source)
    try:
        frame = _parse_csv(data, delimiter, [c for c in text_columns if c in header])
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{name_of(source)} is empty; give a CSV with a header and data rows"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{name_of(source)} is not UTF-8 text (it holds byte "
            f"0x{exc.object[exc.start : exc.start + 1].hex()}); save it as UTF-8 CSV"
        ) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = _title_hint(text_head, delimiter, len(header))
        raise DataError(f"cannot parse {name_of(source)} as CSV: {first}{hint}") from None
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    frame = _without_trailing_empty_rows(frame, source)
    if len(frame) == 0:
        raise DataError(f"{name_of(source)} has a header but no data rows")
    return frame


def _without_trailing_empty_rows(frame: pd.DataFrame, source: str | Path) -> pd.DataFrame:
    """The frame less the rows at its end whose every cell is empty (``,,`` lines that
    spreadsheets write below a table), said in one line. Only at the end: a row dropped
    above others would shift the row numbers that later messages give."""
    if len(frame) == 0 or bool(frame.iloc[-1].notna().any()):
        return frame  # the usual file: its last row holds something (no pass over 10^7 rows)
    filled = frame.notna().to_numpy().any(axis=1)
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    dropped = len(frame) - last
    if dropped and last:
        log.warning(
            "%s: skipped %d empty row(s) at the end (every cell empty, from row %d)",
            name_of(source), dropped, last + 2,
        )  # fmt: skip
        return frame.iloc[:last]
    return frame


def _whole_first_line(raw: IO[bytes], head: bytes, source: str | Path) -> bytes:
    """Read on until ``head`` holds the whole header line.

    A wide table's header outgrows the sniffed bytes (11,000 columns are about 70 KB), and
    a header cut there ends mid-name: ``c1094`` for ``c10948``, then refused as a duplicate.
    """
    while b"\n" not in head and b"\r" not in head:
        more = _read(raw, _SNIFF_BYTES, source)
        if not more:
            break
        head += more
    return head


def _read(raw: IO[bytes], size: int, source: str | Path) -> bytes:
    try:
        return raw.read(size)
    except OSError as exc:
        raise DataError(f"cannot read {name_of(source)}: {exc.strerror or exc}") from None


def _title_hint(text_head: str, delimiter: str, header_fields: int) -> str:
    """Where the table seems to start, when lines above it (a title, units: statistics
    offices' exports) hold fewer fields than the rows below; else ''."""
    lines = [line for line in text_head.splitlines()[:_HINT_LINES] if line.strip()]
    try:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:
        return ""
    if len(counts) < 3:
        return ""
    usual = max(set(counts), key=counts.count)
    if header_fields >= usual:
        return ""
    start = next(i for i, line in enumerate(text_head.splitlines()) if line.strip() and
                 len(next(csv.reader([line], delimiter=delimiter))) == usual)  # fmt: skip
    return (
        f"; the first line holds {header_fields} field(s) and most lines {usual}: if lines "
        f"above the table (a title, units) come first, start the file at its header (line "
        f"{start + 1}: tail -n +{start + 1} FILE)"
    )


def _header(text_head: str, delimiter: str, source: str | Path) -> list[str]:
    """The header's names; duplicates and a first line of data are refused.

    Duplicates must be refused before pandas renames them ("value", "value.1"); a first
    line of data (``tail -n 500 data.csv | ...`` drops the header) would otherwise name
    the columns after the first row's values.
    """
    try:
        header = next(csv.reader(io.StringIO(text_head), delimiter=delimiter), [])
    except csv.Error as exc:
        raise DataError(f"cannot parse {name_of(source)} as CSV: {exc}") from None
    names = [name.strip() for name in header]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise DataError(
            f"{name_of(source)}: duplicate column names: {', '.join(map(repr, dupes))}; rename them"
        )
    if names and all(_looks_like_a_value(n) for n in names):
        raise DataError(
            f"the first line of {name_of(source)} looks like data, not a header "
            f"({delimiter.join(names)[:60]!r}); give the header line first (e.g. "
            "'(head -n 1 data.csv; tail -n 500 data.csv)' instead of 'tail -n 500 data.csv')"
        )
    return names


def _looks_like_a_value(name: str) -> bool:
    if not name:
        return False
    try:
        float(name)
        return True
    except ValueError:
        pass
    has_digit = sum(ch.isdigit() for ch in name) >= 4
    return has_digit and not pd.isna(pd.to_datetime(name, errors="coerce", format="mixed"))


def _open_bytes(source: str | Path) -> IO[bytes]:
    if str(source) == "-":
        stdin = sys.stdin
        if stdin is None or not _fd_open(0):
            raise DataError("standard input is closed; give a CSV file, or pipe one in with DATA -")
        if stdin.isatty():
            print("forecaster: reading CSV from standard input (Ctrl-D to end)", file=sys.stderr)
        return stdin.buffer
    path = Path(source)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory; give a CSV file") from None
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None
    except OSError as exc:  # a symlink loop, a name too long, ...
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


class _Chain(io.RawIOBase):
    """A byte stream that replays bytes already read (for sniffing) before the rest."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _sniff_delimiter(text: str) -> str:
    """Comma unless the header row clearly uses semicolons or tabs."""
    first = text.splitlines()[0] if text.splitlines() else text
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _parse_csv(data: bytes, delimiter: str, text_columns: list[str]) -> pd.DataFrame:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return _parse_with_pyarrow(data, delimiter, text_columns)
    except ImportError:
        pass
    except Exception:  # pyarrow is stricter (ragged rows); the C parser explains better
        data.decode("utf-8")  # a UnicodeDecodeError names the byte
    return pd.read_csv(
        io.BytesIO(data),
        sep=delimiter,
        quoting=csv.QUOTE_MINIMAL,
        encoding="utf-8",
        dtype={c: str for c in text_columns},
    )


def _parse_with_pyarrow(data: bytes, delimiter: str, text_columns: list[str]) -> pd.DataFrame:
    """pyarrow's parser, single-threaded.

    With its thread pool, a failed parse (ragged rows, invalid UTF-8) left a worker that
    aborted the process at exit ("terminate called without an active exception", SIGABRT)
    in about one run in twenty once torch was loaded; one thread costs 0.05 s per 2 million
    rows.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in text_columns},
            strings_can_be_null=True,
            timestamp_parsers=_NO_TIMESTAMPS,
        ),
    )
    dates = [i for i, f in enumerate(table.schema) if pa.types.is_date(f.type)]
    for i in dates:  # ISO dates: exact, so datetime64 rather than text
        table = table.set_column(i, table.field(i).name, table.column(i).cast(pa.timestamp("s")))
    return table.to_pandas(use_threads=False)
