"""The regular grid: each row's place on it, a grid too big refused, and gaps filled.

Placement is arithmetic on one array of timestamps (offsets from each series' start in
steps of the frequency), not a loop of `pd.date_range` per series: 100,000 series of three
rows took most of a minute that way. The grid's size is computed before it is built, so a
100-year gap in one-second data is an error that names the size, not a MemoryError.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster.data.panel import RowIds, fixed_step_ns
from forecaster.data.sessions import Session
from forecaster.errors import DataError, UsageError

# A grid may hold this many times the rows given (gaps to fill), or this many rows, whichever
# is more; beyond, the data is mostly gaps or --freq is far too fine.
MAX_GRID_RATIO = 20
MIN_GRID_CAP = 1_000_000


def _grid_size_guard(
    lengths: np.ndarray,
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    freq: str,
    given: str | None,
) -> None:
    """Refuse a grid that is mostly gaps (or a far too fine ``--freq``, as ``given``) before
    building it."""
    rows, cells = len(times), int(lengths.sum())
    if cells <= max(MAX_GRID_RATIO * rows, MIN_GRID_CAP):
        return
    worst = int(np.argmax(lengths))
    stretch = times[bounds[worst] : bounds[worst + 1]]
    gaps = np.diff(stretch)
    where = int(np.argmax(gaps)) if len(gaps) else 0
    gap = pd.Timedelta(int(gaps[where]) if len(gaps) else 0, unit="ns")
    after = pd.Timestamp(stretch[where])
    if given:
        raise UsageError(
            f"--freq {given} would put the data on a grid of {cells:,} rows for the {rows:,} "
            f"given; give the data's own frequency (or let forecaster infer it)"
        )
    raise DataError(
        f"the {freq!r} grid would hold {cells:,} rows for the {rows:,} given (series "
        f"{ids[bounds[worst]]!r} has a gap of {gap} after {after}): the data is mostly gaps; "
        "check the timestamps, remove the outlying rows, or give the right --freq"
    )


def place(
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    freq: str,
    given: str | None,
    hint: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid position of every row within its series, each series' length, and its start.

    ``times`` (N,) datetime64[ns] sorted within series; ``bounds`` (S + 1,) row offsets.
    """
    count = np.diff(bounds)
    first = times[bounds[:-1]]
    last = times[bounds[1:] - 1]
    step = fixed_step_ns(freq)
    offset = pd.tseries.frequencies.to_offset(freq)
    if step is not None:
        span = (last - first).astype(np.int64)
        lengths = span // step + 1
        _grid_size_guard(lengths, times, bounds, ids, freq, given)
        # In place, on one array of a number per row: 10^8 rows are 800 MB per array.
        positions = times.view(np.int64) - np.repeat(first.view(np.int64), count)
        off = (positions % step) != 0
        positions //= step
        if isinstance(offset, pd.offsets.Week) and offset.weekday is not None:
            wrong_day = pd.DatetimeIndex(first).day_of_week.to_numpy() != offset.weekday
            off |= np.repeat(wrong_day, count)
        if off.any():
            series_of_row = np.repeat(np.arange(len(count)), count)
            _off_grid(times, bounds, ids, series_of_row, int(np.flatnonzero(off)[0]), freq, hint)
        return positions, lengths, first
    series_of_row = np.repeat(np.arange(len(count)), count)
    # Calendar steps (business days, months, quarters): one grid through every series.
    lo, hi = times.min(), times.max()
    sample = pd.date_range(lo, periods=14, freq=freq).to_numpy(dtype="datetime64[ns]")
    shortest = max(int(np.diff(sample).astype(np.int64).min()), 1)
    estimate = (last - first).astype(np.int64) // shortest + 1
    _grid_size_guard(estimate, times, bounds, ids, freq, given)
    grid = pd.date_range(lo, hi, freq=freq)
    where = grid.get_indexer(pd.DatetimeIndex(times)) if int(offset.n) == 1 else None
    if where is None or (where < 0).any():
        return _place_each(times, bounds, ids, series_of_row, freq, hint)
    start = where[bounds[:-1]]
    lengths = where[bounds[1:] - 1] - start + 1
    return where - start[series_of_row], lengths, first


def _place_each(
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    series_of_row: np.ndarray,
    freq: str,
    hint: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Series by series, each on its own grid (calendar multiples such as 2MS)."""
    positions = np.empty(len(times), dtype=np.int64)
    lengths = np.empty(len(bounds) - 1, dtype=np.int64)
    for s, (a, b) in enumerate(itertools.pairwise(bounds)):
        index = pd.DatetimeIndex(times[a:b])
        grid = pd.date_range(index[0], index[-1], freq=freq)
        where = grid.get_indexer(index)
        if (where < 0).any():
            _off_grid(times, bounds, ids, series_of_row, a + int(np.flatnonzero(where < 0)[0]),
                      freq, hint)  # fmt: skip
        positions[a:b] = where
        lengths[s] = len(grid)
    return positions, lengths, times[bounds[:-1]]


def _off_grid(
    times: np.ndarray,
    bounds: np.ndarray,
    ids: RowIds,
    series_of_row: np.ndarray,
    row: int,
    freq: str,
    hint: str,
) -> None:
    s = int(series_of_row[row])
    raise DataError(
        f"timestamp {pd.Timestamp(times[row])} of series {ids[bounds[s]]!r} is not on the "
        f"{freq!r} grid that starts at {pd.Timestamp(times[bounds[s]])}; give the right --freq "
        f"or resample the data{hint}"
    )


def fill_gaps(values: np.ndarray, offsets: np.ndarray, policy: str) -> np.ndarray:
    """Fill NaN cells within each series: linear in position ("interpolate") or the last
    value ("ffill"), the ends with the nearest value; never across series boundaries."""
    rows = len(values)
    lengths = np.diff(offsets)
    positions = np.arange(rows)
    first_row = np.repeat(offsets[:-1], lengths)
    last_row = np.repeat(offsets[1:] - 1, lengths)
    out = values.copy()
    for c in range(values.shape[1]):
        column = out[:, c]
        valid = ~np.isnan(column)
        if valid.all():
            continue
        before = np.maximum.accumulate(np.where(valid, positions, -1))
        after = np.minimum.accumulate(np.where(valid, positions, rows)[::-1])[::-1]
        has_before = before >= first_row
        has_after = after <= last_row
        gap = ~valid
        if policy == "ffill":
            source = np.where(has_before, before, after)
            column[gap] = column[source[gap]]
            continue
        inside = gap & has_before & has_after
        lo, hi = before[inside], after[inside]
        weight = (positions[inside] - lo) / (hi - lo)
        column[inside] = column[lo] + weight * (column[hi] - column[lo])
        leading, trailing = gap & ~has_before, gap & ~has_after & has_before
        column[leading] = column[after[leading]]
        column[trailing] = column[before[trailing]]
    return out


@dataclass(frozen=True)
class Layout:
    """Where every series lies: its rows in the input (``bounds``, sorted by series) and
    its cells in the regular arrays (``offsets``), from ``starts`` on the ``freq`` grid or
    the ``session``'s: what an error about a missing cell names."""

    ids: RowIds
    bounds: np.ndarray
    starts: np.ndarray
    offsets: np.ndarray
    freq: str
    session: Session | None

    def series_of(self, cell: int) -> int:
        return int(np.searchsorted(self.offsets, cell, side="right") - 1)

    def name(self, series: int) -> str:
        return self.ids[self.bounds[series]]

    def time_of(self, series: int, cell: int) -> pd.Timestamp:
        row = cell - int(self.offsets[series])
        return grid_time(self.starts[series], row, self.freq, self.session)


def fill_targets(
    values: np.ndarray, layout: Layout, fill: str, targets: Sequence[str], notes: list[str]
) -> np.ndarray:
    """Target gaps filled as ``fill`` says ("error": refused); a target with no value in a
    series is refused whatever ``fill`` is."""
    missing = _missing(
        values,
        layout,
        lambda c, series: (
            f"target {targets[c]!r} has no values in series {series!r}; "
            "drop that series or that target"
        ),
    )
    if missing is None:
        return values
    if fill == "error":
        cell = int(np.flatnonzero(missing.any(axis=1))[0])
        s = layout.series_of(cell)
        count = int(missing[layout.offsets[s] : layout.offsets[s + 1]].sum())
        raise DataError(
            f"series {layout.name(s)!r} has {count} missing cell(s), first at "
            f"{layout.time_of(s, cell)}; fill them, or use --fill interpolate or --fill ffill"
        )
    filled = fill_gaps(values, layout.offsets, fill)
    notes.append(f"filled {int(missing.sum())} missing cell(s) by {fill} (--fill to choose)")
    return filled


def fill_covariates(
    values: np.ndarray, layout: Layout, fill: str, names: Sequence[str], notes: list[str]
) -> np.ndarray:
    """Covariate gaps in the history are filled as the targets' are; a covariate with no
    value in a series is refused."""
    missing = _missing(
        values,
        layout,
        lambda c, series: (
            f"covariate {names[c].split('=')[0]!r} has no values in series "
            f"{series!r}; give its values, or leave the column out"
        ),
    )
    if missing is None:
        return values
    if fill == "error":
        cell, c = (int(v) for v in np.argwhere(missing)[0])
        s = layout.series_of(cell)
        raise DataError(
            f"covariate {names[c]!r} of series {layout.name(s)!r} is missing at "
            f"{layout.time_of(s, cell)}; fill it, or use --fill interpolate or --fill ffill"
        )
    notes.append(f"filled {int(missing.sum())} missing covariate cell(s) by {fill}")
    return fill_gaps(values, layout.offsets, fill)


def _missing(
    values: np.ndarray, layout: Layout, no_values: Callable[[int, str], str]
) -> np.ndarray | None:
    """Which cells are missing (None: none is). A channel with no value at all in a
    series is refused, with ``no_values(channel, series)``: no filling can mend it."""
    missing = np.isnan(values)
    if not missing.any():
        return None
    present = np.add.reduceat((~missing).astype(np.int64), layout.offsets[:-1], axis=0)
    empty = np.argwhere(present == 0)
    if len(empty):
        s, c = (int(v) for v in empty[0])
        raise DataError(no_values(c, layout.name(s)))
    return missing


def grid_time(start: np.datetime64, row: int, freq: str, session: Session | None) -> pd.Timestamp:
    """The time of row ``row`` of a series that starts at ``start``."""
    if session is not None:
        return session.timestamps(np.asarray([start]), np.asarray([row]))[0]
    return pd.Timestamp(start) + pd.tseries.frequencies.to_offset(freq) * row
