"""From a CSV (path or ``-``) to a `Panel`: regular, gap-free series as one float array.

Every problem with the input is raised as `DataError` with the column, rows and fix named;
nothing here knows about windows or tensors.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import logging
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from forecaster.errors import DataError, UsageError

log = logging.getLogger("forecaster")

TIME_NAMES = ("ds", "date", "datetime", "timestamp", "time", "period", "month", "week", "day")
ID_NAMES = ("unique_id",)
_GZIP_MAGIC = b"\x1f\x8b"
_OFFSET = r"(?:[+-]\d\d:?\d\d|Z)$"  # a UTC offset ending a timestamp
# Scaling squares deviations in float64: beyond these magnitudes they overflow or underflow.
MAX_MAGNITUDE = 1e100
MIN_MAGNITUDE = 1e-100


@dataclass(frozen=True)
class Schema:
    """Which input column plays which role; stored in the model to check later inputs."""

    time: str
    targets: list[str]
    id: str | None = None


@dataclass
class Panel:
    """Regular series, stacked end to end in one contiguous array.

    Series ``i`` is ``values[offsets[i]:offsets[i + 1]]`` with timestamps
    ``pd.date_range(starts[i], periods=lengths[i], freq=freq)``.
    """

    ids: list[str]
    starts: list[pd.Timestamp]
    offsets: np.ndarray  # (S + 1,) int64
    values: np.ndarray  # (total_rows, C) float64
    freq: str
    schema: Schema
    notes: list[str] = field(default_factory=list)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def n_series(self) -> int:
        return len(self.ids)

    def series(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def index(self, i: int) -> pd.DatetimeIndex:
        return pd.date_range(self.starts[i], periods=int(self.lengths[i]), freq=self.freq)

    def end(self, i: int) -> pd.Timestamp:
        return self.index(i)[-1]


# ---------------------------------------------------------------------------------------
# Reading


def read_table(source: str | Path, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV from a path or ``-`` (stdin); gzip and the delimiter are detected.

    ``text_columns`` (series ids) are read as written, never as numbers: ids "01" and "1"
    are two series, and "7" is not "7.0".
    """
    raw = _open_bytes(source)
    head = raw.read(65536)
    if head[:2] == _GZIP_MAGIC:
        raw = gzip.GzipFile(fileobj=_Chain(head, raw))  # type: ignore[assignment]
        try:
            head = raw.read(65536)
        except (OSError, EOFError) as exc:
            raise DataError(
                f"{_name(source)} looks gzip-compressed but cannot be decompressed ({exc}); "
                "check that the file is complete"
            ) from None
    text_head = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text_head.strip():
        raise DataError(f"{_name(source)} is empty; give a CSV with a header and data rows")
    delimiter = _sniff_delimiter(text_head)
    _refuse_duplicate_header(text_head, delimiter, source)
    stream = _Chain(head, raw)
    try:
        frame = _parse_csv(stream, delimiter, {c: str for c in text_columns})
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{_name(source)} is empty; give a CSV with a header and data rows"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{_name(source)} is not UTF-8 text (it holds byte "
            f"0x{exc.object[exc.start : exc.start + 1].hex()}); save it as UTF-8 CSV"
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot parse {_name(source)} as CSV: {first}") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {_name(source)}: {exc}") from None
    frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    if len(frame) == 0:
        raise DataError(f"{_name(source)} has a header but no data rows")
    return frame


def _refuse_duplicate_header(text_head: str, delimiter: str, source: str | Path) -> None:
    """Duplicate names must be refused before pandas renames them ("value", "value.1")."""
    header = next(csv.reader(io.StringIO(text_head), delimiter=delimiter), [])
    names = [name.strip() for name in header]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise DataError(
            f"{_name(source)}: duplicate column names: {', '.join(map(repr, dupes))}; rename them"
        )


def _open_bytes(source: str | Path) -> IO[bytes]:
    if str(source) == "-":
        if sys.stdin.isatty():
            print("forecaster: reading CSV from standard input (Ctrl-D to end)", file=sys.stderr)
        return sys.stdin.buffer
    path = Path(source)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory; give a CSV file") from None
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None


def _name(source: str | Path) -> str:
    return "standard input" if str(source) == "-" else str(source)


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


def _parse_csv(stream: io.RawIOBase, delimiter: str, dtype: dict[str, type]) -> pd.DataFrame:
    buffered = io.BufferedReader(stream, buffer_size=1 << 20)
    try:
        import pyarrow  # noqa: F401

        engine = "pyarrow"
    except ImportError:
        engine = "c"
    if engine == "pyarrow":
        data = buffered.read()
        try:
            return pd.read_csv(
                io.BytesIO(data), sep=delimiter, engine="pyarrow", encoding="utf-8-sig", dtype=dtype
            )
        except Exception:  # pyarrow is stricter (ragged rows); the C parser explains better
            return pd.read_csv(
                io.BytesIO(data),
                sep=delimiter,
                quoting=csv.QUOTE_MINIMAL,
                encoding="utf-8-sig",
                dtype=dtype,
            )
    return pd.read_csv(buffered, sep=delimiter, encoding="utf-8-sig", dtype=dtype)


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
) -> Schema:
    """Decide the time, id and target columns: flags first, then names, then contents."""
    columns = list(frame.columns)
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise DataError(f"duplicate column names: {', '.join(map(repr, dupes))}; rename them")
    for name, flag in [(time, "--time"), (id, "--id")]:
        if name is not None:
            _require_column(frame, name, flag)
    for name in targets:
        _require_column(frame, name, "--target")

    if time is None:
        time = _find_time_column(frame, exclude={id, *targets})
    if id is None:
        id = next((c for c in ID_NAMES if c in columns and c != time), None)
    if id is None:
        id = _find_id_column(frame, time, exclude=set(targets))
    if not targets:
        if id is not None and "y" in columns and "y" not in (time, id):
            targets = ["y"]
        else:
            targets = [c for c in columns if c not in (time, id) and _looks_numeric(frame[c])]
        if not targets:
            comma = _comma_numbers(frame, exclude={time, id})
            if comma is not None:
                column, example = comma
                raise DataError(
                    f"column {column!r} is not numeric as written (e.g. {example!r})"
                    f"{_number_hint(example)}"
                )
            raise DataError(
                "no numeric target column found; name one with --target "
                f"(columns are: {', '.join(map(repr, columns))})"
            )
    for role, name in (("time", time), ("id", id)):
        if name is not None and name in targets:
            raise UsageError(f"column {name!r} cannot be both the {role} column and a target")
    return Schema(time=time, targets=list(targets), id=id)


def _find_time_column(frame: pd.DataFrame, exclude: set[str | None]) -> str:
    candidates = [c for c in frame.columns if c not in exclude]
    named = [c for c in candidates if c.lower() in TIME_NAMES]
    for column in named + [c for c in candidates if c not in named]:
        if _looks_like_time(frame[column]):
            return column
    raise DataError(
        "no datetime column found; name it with --time "
        f"(columns are: {', '.join(map(repr, frame.columns))})"
    )


def _looks_like_time(column: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    sample = column.dropna().astype(str).head(50)
    if sample.empty:
        return False
    parsed = _to_datetime(sample)
    return bool(parsed.notna().mean() >= 0.8)


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


def _looks_numeric(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    sample = column.dropna().astype(str).str.strip().head(200)
    if sample.empty:
        return False
    return bool(pd.to_numeric(sample, errors="coerce").notna().mean() >= 0.8)


# ---------------------------------------------------------------------------------------
# Values


def _to_datetime(values: pd.Series) -> pd.Series:
    """Parse timestamps; time-zone-aware values are converted to UTC and made naive."""
    return _parse_text_times(values)[0]


def _parse_text_times(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parsed timestamps (naive UTC where an offset was given) and which rows had an offset."""
    text = values.astype(str).str.strip()
    aware = text.str.contains(_OFFSET, regex=True)
    try:
        parsed = pd.to_datetime(text, errors="coerce", utc=bool(aware.any()), format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.Series(pd.NaT, index=values.index)
    if parsed.isna().any():
        # Not ISO 8601 throughout: let pandas guess the format from the values themselves.
        try:
            fallback = pd.to_datetime(text, errors="coerce", utc=bool(aware.any()), format="mixed")
        except (ValueError, TypeError):
            fallback = parsed
        if fallback.notna().sum() > parsed.notna().sum():
            parsed = fallback
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed, aware


def parse_times(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column]
    aware = None
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    else:
        parsed, aware = _parse_text_times(values)
    bad = parsed.isna()
    if bad.any():
        rows = _file_rows(bad)
        example = values[bad].iloc[0]
        raise DataError(
            f"column {column!r}: {int(bad.sum())} value(s) are not dates, first at row(s) {rows} "
            f"(e.g. {example!r}); fix or remove those rows, or choose the column with --time"
        )
    if aware is not None and aware.any() and not aware.all():
        raise DataError(
            f"column {column!r} mixes timestamps with and without a UTC offset (without at "
            f"row(s) {_file_rows(~aware)}); give every timestamp its offset, or none"
        )
    return parsed


def parse_numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"target column {column!r} holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = values.astype("string").str.strip()
        empty = text.isna() | (text == "")
        numbers_series = pd.to_numeric(text.where(~empty), errors="coerce")
        bad = numbers_series.isna() & ~empty
        if bad.any():
            example = str(text[bad].iloc[0])
            hint = _number_hint(example)
            raise DataError(
                f"target column {column!r} is not numeric: {example!r} at row(s) {_file_rows(bad)}"
                f"{hint}"
            )
        numbers = numbers_series.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(numbers)
    if infinite.any():
        raise DataError(
            f"target column {column!r} holds infinite values at row(s) "
            f"{_file_rows(pd.Series(infinite, index=frame.index))}; replace them or leave the "
            "cells empty to have them filled"
        )
    magnitude = np.abs(numbers)
    huge = magnitude > MAX_MAGNITUDE
    if huge.any():
        raise DataError(
            f"target column {column!r} holds values too large to model (above {MAX_MAGNITUDE:g}) "
            f"at row(s) {_file_rows(pd.Series(huge, index=frame.index))}; rescale the column "
            "(for example express it in larger units)"
        )
    largest = float(np.nanmax(magnitude)) if (~np.isnan(magnitude)).any() else 0.0
    if 0.0 < largest < MIN_MAGNITUDE:
        raise DataError(
            f"target column {column!r} holds only values too small to model (below "
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


def _file_rows(mask: pd.Series, limit: int = 5) -> str:
    """Row numbers as a user sees them in the file: header is line 1."""
    positions = np.flatnonzero(np.asarray(mask))[:limit] + 2
    text = ", ".join(str(p) for p in positions)
    return text + (", ..." if int(np.asarray(mask).sum()) > limit else "")


# ---------------------------------------------------------------------------------------
# Frequency and regularising


def infer_frequency(times: Sequence[pd.DatetimeIndex]) -> str:
    """One frequency for all series: pandas' inference on the densest stretch of the data."""
    for index in sorted(times, key=len, reverse=True):
        if len(index) >= 3:
            freq = _pandas_infer_freq(index)
            if freq is not None:
                return _normalise_alias(freq)
    for index in sorted(times, key=len, reverse=True):
        freq = _infer_from_runs(index)
        if freq is not None:
            return freq
    longest = max((len(index) for index in times), default=0)
    if longest < 3:
        raise DataError(
            f"too few rows to infer the frequency: the longest series has {longest} row(s); "
            "give more data (or the frequency with --freq)"
        )
    raise DataError(
        "cannot infer the frequency: timestamps are irregular; give it with --freq "
        "(for example --freq h, D, W, MS, QS, YS or 15min)"
    )


def _infer_from_runs(index: pd.DatetimeIndex) -> str | None:
    """With gaps, infer from the longest run of equal steps (at least 3 points)."""
    if len(index) < 3:
        return None
    steps = np.diff(index.asi8)
    best_start, best_len, start = 0, 1, 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[start]:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = i
    if best_len < 2:
        # Calendar steps (months) differ in length; try pandas on small windows instead.
        for lo in range(0, len(index) - 2):
            freq = _pandas_infer_freq(index[lo : lo + 3])
            if freq is not None:
                return _normalise_alias(freq)
        return None
    run = index[best_start : best_start + best_len + 1]
    freq = _pandas_infer_freq(run)
    return _normalise_alias(freq) if freq is not None else None


def _pandas_infer_freq(index: pd.DatetimeIndex) -> str | None:
    """pandas' inference, as an alias string under pandas 2 and 3 alike."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces a change of return type
        found = pd.infer_freq(index)
    return None if found is None else str(pd.tseries.frequencies.to_offset(found).freqstr)


def _normalise_alias(freq: str) -> str:
    return str(pd.tseries.frequencies.to_offset(freq).freqstr)


def validate_freq(freq: str) -> str:
    try:
        return _normalise_alias(freq)
    except ValueError:
        raise UsageError(
            f"invalid value for --freq: {freq!r}; use a pandas alias such as h, D, W, MS, QS, "
            "YS or 15min"
        ) from None


def build_panel(
    frame: pd.DataFrame,
    schema: Schema,
    freq: str | None = None,
    fill: str = "interpolate",
    source: str = "input",
    expected_freq: str | None = None,
) -> Panel:
    """Sort, split by id, check duplicates, put each series on a regular grid, fill gaps."""
    notes: list[str] = []
    times = parse_times(frame, schema.time)
    columns = [parse_numbers(frame, c) for c in schema.targets]
    values = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    if schema.id is not None:
        ids = frame[schema.id]
        if ids.isna().any():
            raise DataError(
                f"id column {schema.id!r} is empty at row(s) {_file_rows(ids.isna())}; "
                "every row needs a series id"
            )
        ids = ids.astype(str).str.strip()
    else:
        ids = pd.Series("series", index=frame.index)

    order = pd.DataFrame({"id": ids.to_numpy(), "t": times.to_numpy()})
    sorted_order = order.sort_values(["id", "t"], kind="stable")
    reordered = not np.array_equal(sorted_order.index.to_numpy(), np.arange(len(order)))
    if reordered and not order.groupby("id", sort=False)["t"].is_monotonic_increasing.all():
        notes.append("rows were not in time order; sorted them")
    positions = sorted_order.index.to_numpy()
    ids_sorted = sorted_order["id"].to_numpy()
    times_sorted = pd.DatetimeIndex(sorted_order["t"].to_numpy())
    values = values[positions]

    duplicated = (ids_sorted[1:] == ids_sorted[:-1]) & (
        times_sorted.asi8[1:] == times_sorted.asi8[:-1]
    )
    if duplicated.any():
        first = np.flatnonzero(duplicated)[:3] + 1
        examples = ", ".join(
            (f"{ids_sorted[i]} " if schema.id else "") + str(times_sorted[i]) for i in first
        )
        where = "within a series " if schema.id else ""
        repeated = times_sorted[first]
        dst = (
            "; if a repeated hour is the one the clocks go back (daylight saving), give the "
            "timestamps with their UTC offset or in UTC"
            if bool((repeated != repeated.normalize()).any())
            else ""
        )
        raise DataError(
            f"duplicate timestamps {where}in {schema.time!r}: {examples}; remove or aggregate "
            f"them (with several series, name the id column with --id){dst}"
        )

    boundaries = np.flatnonzero(ids_sorted[1:] != ids_sorted[:-1]) + 1
    starts_at = np.concatenate([[0], boundaries])
    ends_at = np.concatenate([boundaries, [len(ids_sorted)]])
    series_times = [times_sorted[a:b] for a, b in zip(starts_at, ends_at, strict=True)]
    if freq:
        freq = validate_freq(freq)
    elif expected_freq:
        freq = _check_frequency(series_times, expected_freq, source)
    else:
        try:
            freq = infer_frequency(series_times)
        except DataError as exc:
            raise DataError(f"{exc}{_offsets_hint(frame[schema.time])}") from None

    out_values, out_starts, out_ids, lengths = [], [], [], []
    filled_cells = 0
    for a, b, index in zip(starts_at, ends_at, series_times, strict=True):
        grid = pd.date_range(index[0], index[-1], freq=freq)
        where = grid.get_indexer(index)
        if (where < 0).any():
            off = index[where < 0][0]
            raise DataError(
                f"timestamp {off} of series {ids_sorted[a]!r} is not on the {freq!r} grid that "
                f"starts at {index[0]}; give the right --freq or resample the data"
                f"{_offsets_hint(frame[schema.time])}"
            )
        regular = np.full((len(grid), values.shape[1]), np.nan)
        regular[where] = values[a:b]
        missing = np.isnan(regular)
        if missing.all(axis=0).any():
            column = schema.targets[int(np.flatnonzero(missing.all(axis=0))[0])]
            raise DataError(
                f"target {column!r} has no values in series {ids_sorted[a]!r}; drop that "
                "series or that target"
            )
        if missing.any():
            if fill == "error":
                first_gap = grid[np.flatnonzero(missing.any(axis=1))[0]]
                raise DataError(
                    f"series {ids_sorted[a]!r} has {int(missing.sum())} missing cell(s), first at "
                    f"{first_gap}; fill them, or use --fill interpolate or --fill ffill"
                )
            regular = _fill(regular, fill)
            filled_cells += int(missing.sum())
        out_values.append(regular)
        out_starts.append(pd.Timestamp(grid[0]))
        out_ids.append(str(ids_sorted[a]))
        lengths.append(len(grid))
    if filled_cells:
        notes.append(f"filled {filled_cells} missing cell(s) by {fill} (--fill to choose)")
    for note in notes:
        log.warning("%s: %s", source, note)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Panel(
        ids=out_ids,
        starts=out_starts,
        offsets=offsets,
        values=np.ascontiguousarray(np.concatenate(out_values)),
        freq=freq,
        schema=schema,
        notes=notes,
    )


def _offsets_hint(values: pd.Series) -> str:
    """A hint for irregular data whose timestamps were time-zone aware, else ''."""
    if pd.api.types.is_datetime64_any_dtype(values):
        aware = getattr(values.dt, "tz", None) is not None
    else:
        aware = bool(values.astype(str).str.strip().str.contains(_OFFSET, regex=True).any())
    if not aware:
        return ""
    return (
        " (time-zone-aware timestamps were converted to UTC; if their offset changes with "
        "daylight saving, as for daily data at local midnight, remove the offsets to keep "
        "local time)"
    )


def _check_frequency(times: Sequence[pd.DatetimeIndex], expected: str, source: str) -> str:
    """New data must come at the model's frequency; too few rows to tell is accepted."""
    try:
        inferred = infer_frequency(times)
    except DataError:
        return expected
    same = pd.tseries.frequencies.to_offset(inferred) == pd.tseries.frequencies.to_offset(expected)
    if not same and max(len(t) for t in times) >= 3:
        raise DataError(
            f"{source} has frequency {inferred!r} but the model was trained on {expected!r}; "
            "give data at the model's frequency"
        )
    return expected


def _fill(values: np.ndarray, policy: str) -> np.ndarray:
    frame = pd.DataFrame(values)
    if policy == "interpolate":
        frame = frame.interpolate(method="linear", limit_direction="both")
    else:
        frame = frame.ffill().bfill()
    return frame.to_numpy(dtype=np.float64)


def load_panel(
    source: str | Path,
    time: str | None = None,
    targets: Sequence[str] = (),
    id: str | None = None,
    freq: str | None = None,
    fill: str = "interpolate",
) -> Panel:
    """Read and regularise in one call: what `forecaster train DATA` does first."""
    frame = read_table(source, text_columns=[id] if id is not None else ID_NAMES)
    schema = detect_schema(frame, time=time, targets=targets, id=id)
    return build_panel(frame, schema, freq=freq, fill=fill, source=_name(source))


def load_panel_like(
    source: str | Path, schema: Schema, freq: str, fill: str = "interpolate"
) -> Panel:
    """Read data that must match a trained model's columns and frequency."""
    frame = read_table(source, text_columns=[schema.id] if schema.id is not None else ())
    missing = [c for c in [schema.time, *schema.targets] if c not in frame.columns]
    if schema.id is not None and schema.id not in frame.columns:
        missing.append(schema.id)
    if missing:
        raise DataError(
            f"{_name(source)} lacks the model's column(s) {', '.join(map(repr, missing))}; "
            f"the model was trained on time={schema.time!r}, targets={schema.targets!r}"
            + (f", id={schema.id!r}" if schema.id else "")
        )
    return build_panel(frame, schema, fill=fill, source=_name(source), expected_freq=freq)


def drop_last(panel: Panel, steps: int) -> Panel:
    """The panel without the last ``steps`` rows of each series (held out for evaluation)."""
    if steps <= 0:
        return panel
    keep = panel.lengths - steps
    if (keep < 1).any():
        short = [panel.ids[i] for i in np.flatnonzero(keep < 1)[:5]]
        raise DataError(
            f"--holdout {steps} leaves nothing of series {', '.join(short)}; "
            "use a smaller --holdout"
        )
    rows = np.concatenate(
        [np.arange(a, a + n) for a, n in zip(panel.offsets[:-1], keep, strict=True)]
    )
    return Panel(
        ids=panel.ids,
        starts=panel.starts,
        offsets=np.concatenate([[0], np.cumsum(keep)]).astype(np.int64),
        values=panel.values[rows],
        freq=panel.freq,
        schema=panel.schema,
        notes=panel.notes,
    )
