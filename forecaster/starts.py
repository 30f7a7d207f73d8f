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
price, or two hours of one count, are kept. Either run must also be more than `LONGER`
times as long as any run of zeros (or of one held value) later in the series: a snowfall
with five dry months every summer, or intermittent counts, show such runs as their data,
and a history (or a recent window of it) that opens in one keeps it. A series that never
changes keeps all its rows. The search repeats until the rows left open with neither, so
zeros then a held value are both left out, and leaving the rows out again changes nothing.

Rows are never dropped below what the caller needs (`keep`: one training window, the rows
a forecast reads, or those before a backtest's first origin), and never on or after a
backtest origin: the rows a forecast is scored on stay as given. A series that DATA
continues from a model's stored rows (`evaluate` or `train --from` given only the new rows)
is not judged: its first rows are the model's, cut from the middle of its history, and its
start was decided when the model was trained. `train --leading-run keep` turns it off;
model files from before it keep every row.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from forecaster.data import Panel, drop_first
from forecaster.frames import shown_time
from forecaster.seasons import season_length

if TYPE_CHECKING:
    from forecaster.artifact import Artifact

log = logging.getLogger("forecaster")

DROP = "drop"
# A leading value other than 0 repeated for this many seasons (and at least `MIN_HELD`
# rows) is taken as a placeholder, not data: a seasonal series does not hold one value
# through two whole cycles.
SEASONS_HELD = 2
MIN_HELD = 4
SHOWN = 3  # series named in the one line
# An opening run is before the start only when it is longer than this many times any run of
# zeros (or of one held value) after it: a series whose data hold such runs opens with one.
LONGER = 2


def leading_rows(values: np.ndarray, season: int) -> int:
    """How many of the first rows of one series' (rows, C) ``values`` come before it starts:
    its leading zeros, then perhaps a value held `SEASONS_HELD` seasons, and so on until the
    rows left open with neither (so that leaving them out again leaves out nothing more); 0
    when there are none or the series never changes."""
    total = 0
    while True:
        run = _run_before_start(values[total:], season)
        if not run:
            return total
        total += run


def _run_before_start(values: np.ndarray, season: int) -> int:
    """The rows of one opening run of ``values`` that come before the series starts: zeros,
    or a value other than 0 held `SEASONS_HELD` seasons, either longer than `LONGER` times
    any such run the rest of the series shows as its data (a snowfall's zero summers, a rate
    held for a year); 0 otherwise."""
    if len(values) < 2:
        return 0
    same = np.all(values == values[0], axis=1)
    changed = np.flatnonzero(~same)
    if not len(changed):
        return 0  # one value throughout: nothing to start from
    run = int(changed[0])
    rest = values[run:]
    if np.all(values[0] == 0):
        later = _longest(np.all(rest == 0, axis=1))
    else:
        if run < max(SEASONS_HELD * season, MIN_HELD):
            return 0
        later = _longest(np.all(rest[1:] == rest[:-1], axis=1)) + 1
    return run if run > LONGER * later else 0


def _longest(flags: np.ndarray) -> int:
    """The longest run of True in ``flags`` (0 for none)."""
    if not flags.any():
        return 0
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def to_drop(
    panel: Panel, keep: int, until: np.ndarray | None = None, judged: np.ndarray | None = None
) -> np.ndarray:
    """(S,) rows to leave out at the start of each series: its `leading_rows` among those
    before ``until`` (default: all), as many as leave ``keep`` rows before ``until``; none
    where ``judged`` (S,) is False."""
    season = season_length(panel.freq, panel.schema.session)
    ends = panel.lengths if until is None else np.minimum(np.asarray(until), panel.lengths)
    drop = np.zeros(panel.n_series, dtype=np.int64)
    candidates = np.flatnonzero((ends > 1) & (True if judged is None else np.asarray(judged)))
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
    panel: Panel,
    policy: str,
    keep: int,
    until: np.ndarray | None = None,
    source: str = "",
    judged: np.ndarray | None = None,
) -> Panel:
    """``panel`` with each series' rows before its start left out (``policy`` "drop"), said
    in one line; as it is with "keep". ``judged`` (S,): the series whose first row is their
    own first (False for one that DATA continues from a model's stored rows: its start was
    decided when the model was trained)."""
    if policy != DROP:
        return panel
    drop = to_drop(panel, max(int(keep), 1), until, judged)
    if not drop.any():
        return panel
    log.warning("%s%s", f"{source}: " if source else "", describe(panel, drop))
    return drop_first(panel, drop)


def kept_rows(artifact: Artifact) -> int:
    """The rows `predict` and `evaluate` keep of a history: those a forecast reads, and as
    many as `train` keeps (the horizon and two more), so that a forecast from DATA is the
    forecast from the history the model stored."""
    from forecaster.inputs import required_rows

    return max(required_rows(artifact), artifact.model_config.horizon + 2)


def _opening(values: np.ndarray) -> str:
    """The values of the rows left out, in order (``0``, ``0, then 7``)."""
    firsts = values[np.r_[0, np.flatnonzero(np.any(values[1:] != values[:-1], axis=1)) + 1]]
    spelled = ["0" if np.all(row == 0) else ", ".join(f"{v:.6g}" for v in row) for row in firsts]
    return ", then ".join(spelled[:3]) + (", ..." if len(spelled) > 3 else "")


def describe(panel: Panel, drop: np.ndarray) -> str:
    """One line: which series start later than their first row, from when, and after what."""
    dropped = np.flatnonzero(drop)
    shown = []
    for s in dropped[:SHOWN]:
        rows = int(drop[s])
        values = panel.values[panel.offsets[s] : panel.offsets[s] + rows]
        when = shown_time(panel, int(s), rows)
        shown.append((str(panel.ids[s]), f"{rows} row(s) of {_opening(values)} before {when}"))
    keep = "(--leading-run keep: keep them)"
    if panel.n_series == 1:
        return f"the series' first {shown[0][1]} are left out as rows before it began {keep}"
    more = f" and {len(dropped) - SHOWN} more" if len(dropped) > SHOWN else ""
    named = ", ".join(f"{name!r} ({before})" for name, before in shown)
    verb = "opens" if len(dropped) == 1 else "open"
    return (
        f"{len(dropped)} series {verb} with rows of 0 or of one value held, left out as "
        f"rows before they began: {named}{more} {keep}"
    )
