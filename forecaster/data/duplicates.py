"""Rows that repeat a series' timestamp, merged into one when the user says how.

A sensor that logs the same minute twice, or an export that repeats a row: which value is
right is the user's call. With ``--duplicates mean|first|last`` the repeated rows become
one, and the user is told how many timestamps that touched; with ``error`` they are
refused (`rows.one_per_stamp`). The default, ``auto``, merges them by their mean when they
are a handful in a long file (`config.AUTO_ROWS_PER_REPEAT`; the decision is
`rows.one_per_stamp`'s; a glucose monitor's 3 repeated minutes in 52,281 readings:
no reading is lost, and refusing cost the user the whole forecast), with a warning that
names them, and refuses them otherwise: many repeats mean something else (a long table
without --id, the hour the clocks go back), which averaging would hide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Merged:
    """The rows kept (one per distinct series and timestamp) and their merged values."""

    keep: np.ndarray  # (M,) row numbers into the sorted rows
    values: np.ndarray  # (M, T)
    user: np.ndarray  # (M, K)
    stamps: int  # timestamps that were repeated
    rows: int  # rows those timestamps had

    def note(self, how: str) -> str:
        return (
            f"merged {self.rows} rows that repeat {self.stamps} timestamp(s) into one row "
            f"each, by {how} (--duplicates)"
        )


def merge_repeated(
    codes: np.ndarray, times: np.ndarray, values: np.ndarray, user: np.ndarray, how: str
) -> Merged | None:
    """Merge rows of one series with equal timestamps: their ``mean`` (of the values given;
    empty cells do not count), or the ``first`` or ``last`` row in the file's order. Rows
    are sorted by series, then time, stably; None when no timestamp repeats.
    """
    same = (codes[1:] == codes[:-1]) & (times[1:] == times[:-1])
    if not same.any():
        return None
    starts_group = np.concatenate([[True], ~same])
    first_rows = np.flatnonzero(starts_group)
    sizes = np.diff(np.concatenate([first_rows, [len(codes)]]))
    repeated = sizes > 1
    stamps, rows = int(repeated.sum()), int(sizes[repeated].sum())
    if how == "first":
        keep = first_rows
        return Merged(keep, values[keep], user[keep], stamps, rows)
    if how == "last":
        keep = first_rows + sizes - 1
        return Merged(keep, values[keep], user[keep], stamps, rows)
    return Merged(
        first_rows, mean_runs(values, first_rows), mean_runs(user, first_rows), stamps, rows
    )


def mean_runs(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The NaN-ignoring mean of each run of rows that begins at ``starts`` (repeated stamps
    merged here, readings met in one slot in `sessions.snap`)."""
    if len(starts) == len(values) or values.shape[1] == 0:
        return values[starts]
    present = ~np.isnan(values)
    total = np.add.reduceat(np.where(present, values, 0.0), starts, axis=0)
    count = np.add.reduceat(present.astype(np.int64), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
