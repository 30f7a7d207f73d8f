"""Where a series starts: rows before a launch, left out before a model reads them.

A product's sales written as 0 for the 100 months before it went on sale, then near 100,
came out of `train` as a forecast that climbed from 112 to 1,289 over 18 months. Every
training window showed a step from nothing to 100, the scaler's mean and spread were set
mostly by the zeros, and seasonal naive with drift read a climb of 100 over its window. The
same 30 months alone forecast 102 to 106. Even one or three leading zeros in front of 30
months near 100 lifted the second year's forecast to 120: the drift read the step.

So a series starts at its first row that is not zero in every target, and a series that
opens with one value repeated for at least `SEASONS_HELD` seasons (a first value copied back
to a table's first date, a sensor reading a constant before it was connected) starts
at its first change. Zero is special because it means "nothing yet": leading zeros are left
out however few, as the M5 competition's series were read from their first sale. Any other
value must be held long enough that it cannot be data: six trading days of one closing
price, or two hours of one count, are kept. A series that never changes keeps all its rows.

Rows are never dropped below what the caller needs (`keep`: one training window, the rows
a forecast reads, or those before a backtest's first origin), and never on or after a
backtest origin: the rows a forecast is scored on stay as given. `train --leading-run keep`
turns it off; model files from before it keep every row.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecaster.data import Panel, drop_first
from forecaster.frames import as_written
from forecaster.seasons import season_length

log = logging.getLogger("forecaster")

DROP = "drop"
# A leading value other than 0 repeated for this many seasons (and at least `MIN_HELD`
# rows) is taken as a placeholder, not data: a seasonal series does not hold one value
# through two whole cycles.
SEASONS_HELD = 2
MIN_HELD = 4
SHOWN = 3  # series named in the one line


def leading_rows(values: np.ndarray, season: int) -> int:
    """How many of the first rows of one series' (rows, C) ``values`` come before it starts:
    its leading zeros, or a leading value held `SEASONS_HELD` seasons; 0 when there are none
    or the series never changes."""
    if len(values) < 2:
        return 0
    same = np.all(values == values[0], axis=1)
    changed = np.flatnonzero(~same)
    if not len(changed):
        return 0  # one value throughout: nothing to start from
    run = int(changed[0])
    if np.all(values[0] == 0):
        return run
    return run if run >= max(SEASONS_HELD * season, MIN_HELD) else 0


def to_drop(panel: Panel, keep: int, until: np.ndarray | None = None) -> np.ndarray:
    """(S,) rows to leave out at the start of each series: its `leading_rows` among those
    before ``until`` (default: all), as many as leave ``keep`` rows before ``until``."""
    season = season_length(panel.freq, panel.schema.session)
    ends = panel.lengths if until is None else np.minimum(np.asarray(until), panel.lengths)
    drop = np.zeros(panel.n_series, dtype=np.int64)
    candidates = np.flatnonzero(ends > 1)
    # Only series that open with zeros, or whose first two rows agree, can start later.
    first = panel.values[panel.offsets[:-1][candidates]]
    second = panel.values[panel.offsets[:-1][candidates] + 1]
    leads = candidates[np.all(first == 0, axis=1) | np.all(second == first, axis=1)]
    for s in leads:
        end = int(ends[s])
        values = panel.values[panel.offsets[s] : panel.offsets[s] + end]
        drop[s] = max(0, min(leading_rows(values, season), end - keep))
    return drop


def started(
    panel: Panel, policy: str, keep: int, until: np.ndarray | None = None, source: str = ""
) -> Panel:
    """``panel`` with each series' rows before its start left out (``policy`` "drop"), said
    in one line; as it is with "keep"."""
    if policy != DROP:
        return panel
    drop = to_drop(panel, max(int(keep), 1), until)
    if not drop.any():
        return panel
    log.warning("%s%s", f"{source}: " if source else "", describe(panel, drop))
    return drop_first(panel, drop)


def _shown_time(panel: Panel, series: int, row: int) -> str:
    """A series' row's timestamp as the input wrote its times (the date alone at midnight)."""
    shown = as_written(panel.schema, panel.timestamps(np.array([series]), np.array([row])))[0]
    if isinstance(shown, pd.Timestamp) and shown.tz is None and shown == shown.normalize():
        return str(shown.date())
    return str(shown)


def describe(panel: Panel, drop: np.ndarray) -> str:
    """One line: which series start later than their first row, from when, and after what."""
    dropped = np.flatnonzero(drop)
    shown = []
    for s in dropped[:SHOWN]:
        first = panel.values[panel.offsets[s]]
        value = "0" if np.all(first == 0) else ", ".join(f"{v:.6g}" for v in first)
        shown.append((str(panel.ids[s]), _shown_time(panel, int(s), int(drop[s])),
                      f"{int(drop[s])} row(s) of {value}"))  # fmt: skip
    keep = "(--leading-run keep: keep them)"
    if panel.n_series == 1:
        _, when, before = shown[0]
        return f"the series starts at {when}: the {before} before it are left out {keep}"
    more = f" and {len(dropped) - SHOWN} more" if len(dropped) > SHOWN else ""
    named = ", ".join(f"{name!r} at {when} ({before})" for name, when, before in shown)
    return (
        f"{len(dropped)} series start after rows of 0 or of one value held, left out as "
        f"before they began: {named}{more} {keep}"
    )
