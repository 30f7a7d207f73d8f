"""Isolated outliers in the targets: found, and filled as a gap would be, before a model
reads them.

One mistyped value (5,000 in a monthly series near 100) did two kinds of harm. Ten months
before the end, it sat in the network's context a season back, and the forecast repeated
it: 2,722 and 2,929 in the next two Marches where the history said about 100, and 93 to 399
in the other months. Anywhere in the history, it sat in the seasonal-naive error scale that
sizes the intervals, and the 80% interval ran from 0 to 354. Seasonal naive and
statsforecast's models take such a value as given; R's ``tsclean`` is what careful users run
first. Here it is done by default, said in one line, and ``train --outliers keep`` turns it
off.

A value is an outlier only when it lies far outside the range of its neighbours in time (two
on each side) *and*, for seasonal data, outside the range of those a season and two seasons
away (on either side), and for hourly and finer data those a week and two weeks away too:
electricity prices that spike at 18:00 on two Mondays running are a pattern, not a typo. "Far"
is `OUTLIER_FACTOR` times the larger of the series' median absolute step and the distance the
`USUAL` share of its other values stand out from their own neighbours, and beyond the width of the
neighbours' range. So a level shift (inside its neighbours' range: old level on one side, new
on the other), a peak that recurs every season, a sharp rise and decay (beyond a wide range by
less than its width), rain (whose wet days stand out as a rule) and intermittent counts
(median step 0) are all left alone. A run of two or more wild values is not caught: each lies
inside the other's range. This is the narrow case on purpose. The first and last rows, which
have neighbours on one side only, are never judged (the last may be the start of a new
level), and neither is any row from a backtest's first origin on: the rows a forecast is
scored on stay as given.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from forecaster.data import Panel
from forecaster.data.grid import fill_gaps
from forecaster.frames import shown_time
from forecaster.seasons import season_length, weekly_cycle

log = logging.getLogger("forecaster")

FILL = "fill"  # `TrainConfig.outliers`: the other is "keep"
# How far outside its neighbours' range a value lies, in median absolute steps of its series,
# before it is an outlier: 10 steps is 9.5 standard deviations of Gaussian noise. Counted on
# the benchmark data (benchmarks/README.md, "Outliers"): ETTh1, M4 Hourly, EPF and the
# real-world suite.
OUTLIER_FACTOR = 10.0
# The share of a series' values whose distance outside their neighbours' range is usual for
# it: an outlier stands out `OUTLIER_FACTOR` times as far as the rest of the series' rarest
# departures (the 99.5% quantile of the others: the second largest of 119 other months). Rain
# falls on isolated days, and Belgian prices spiked in several November evenings of 2016:
# there the spikes are the data (filled at the 95% quantile, they cost EPF's forecast 2-3%;
# benchmarks/README.md).
USUAL = 0.995
# Neighbours in time on each side, and seasons on each side.
NEIGHBOURS = 2
# Outliers named in the note; the rest are counted.
SHOWN = 3


@dataclasses.dataclass(frozen=True)
class Found:
    """Outlier cells of a panel: (row in the panel's values, target column), and the values
    they held."""

    cells: np.ndarray  # (K,) rows of Panel.values
    columns: np.ndarray  # (K,) target columns
    values: np.ndarray  # (K,)

    def __len__(self) -> int:
        return len(self.cells)


def outlier_mask(
    values: np.ndarray, season: int, week: int = 1, factor: float = OUTLIER_FACTOR
) -> np.ndarray:
    """Which cells (n, C) of one series' ``values`` (n, C) are isolated outliers (see the
    module's docstring), judged from these rows alone; hourly and finer data (``week``: its
    steps in a week) is judged against its neighbours a week away too."""
    if len(values) < 3:
        return np.zeros(values.shape, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):  # values near 1e308: inf steps
        return _judged(values, season, week, factor)


def _judged(values: np.ndarray, season: int, week: int, factor: float) -> np.ndarray:
    typical = np.median(np.abs(np.diff(values, axis=0)), axis=0)
    outside, width = _outside(values, list(range(1, NEIGHBOURS + 1)), both_sides=True)
    limit = factor * np.maximum(typical[None, :], _usual_of_the_others(outside))
    # Farther out than the neighbours' own spread: a value that far outside a spread-out
    # neighbourhood is a sharp peak (a glucose reading of 246 between 128 and 224).
    found = (outside > limit) & (outside > width) & (typical > 0)[None, :]
    for cycle in {season, week} - {1}:
        if len(values) > cycle:
            seasons = [cycle * k for k in range(1, NEIGHBOURS + 1)]
            found &= _outside(values, seasons, both_sides=False)[0] > limit
    return found


def _usual_of_the_others(outside: np.ndarray) -> np.ndarray:
    """For each cell (n, C), the `USUAL` quantile ("lower") of the other cells' distances in
    its column: a value is not its own bar, so two wild values in 120 months are both
    caught (with all cells, the second largest of 120 sets the bar, and each hid the other)."""
    n = len(outside)
    if n < 2:
        return np.full(outside.shape, np.inf)
    order = np.argsort(outside, axis=0, kind="stable")
    ranked = np.take_along_axis(outside, order, axis=0)
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(n)[:, None].repeat(outside.shape[1], 1), 0)
    k = int(np.floor(USUAL * (n - 2)))  # the quantile's index among the n - 1 others
    return np.where(position > k, ranked[k][None, :], ranked[min(k + 1, n - 1)][None, :])


def _outside(
    values: np.ndarray, lags: list[int], both_sides: bool
) -> tuple[np.ndarray, np.ndarray]:
    """How far each cell lies outside the range of the cells ``lags`` before and after it (0
    inside it, and where no neighbour exists: on either side, with ``both_sides``), and
    that range's width."""
    n = len(values)
    low = np.full(values.shape, np.inf)
    high = np.full(values.shape, -np.inf)
    before = np.zeros(n, dtype=bool)
    after = np.zeros(n, dtype=bool)
    for lag in lags:
        if lag >= n:
            continue
        low[lag:] = np.minimum(low[lag:], values[:-lag])
        high[lag:] = np.maximum(high[lag:], values[:-lag])
        low[:-lag] = np.minimum(low[:-lag], values[lag:])
        high[:-lag] = np.maximum(high[:-lag], values[lag:])
        before[lag:] = True
        after[:-lag] = True
    judged = ((before & after) if both_sides else (before | after))[:, None]
    outside = np.maximum(np.maximum(values - high, low - values), 0.0)
    return np.where(judged, outside, 0.0), np.where(judged, high - low, 0.0)


def find(panel: Panel, until: np.ndarray | None = None) -> Found:
    """The targets' isolated outliers in each series' rows before ``until`` (S,; default:
    all of them), judged from those rows alone."""
    season = season_length(panel.freq, panel.schema.session)
    week = weekly_cycle(panel.freq, panel.schema.session)
    offsets = panel.offsets
    limits = panel.lengths if until is None else np.minimum(until, panel.lengths)
    cells, columns = [], []
    for s in range(panel.n_series):
        rows = panel.values[offsets[s] : offsets[s] + int(limits[s])]
        row, column = np.nonzero(outlier_mask(rows, season, week))
        cells.append(row + offsets[s])
        columns.append(column)
    cell = np.concatenate(cells).astype(np.int64) if cells else np.empty(0, np.int64)
    column = np.concatenate(columns).astype(np.int64) if columns else np.empty(0, np.int64)
    return Found(cell, column, panel.values[cell, column])


def filled(panel: Panel, found: Found) -> Panel:
    """``panel`` with the ``found`` cells filled by linear interpolation between their
    neighbours, as a gap is (the panel's values are not changed in place)."""
    if not len(found):
        return panel
    values = panel.values.copy()
    values[found.cells, found.columns] = np.nan
    return dataclasses.replace(panel, values=fill_gaps(values, panel.offsets, "interpolate"))


def cleaned(panel: Panel, policy: str, until: np.ndarray | None = None, source: str = "") -> Panel:
    """``panel`` with its isolated outliers before ``until`` filled (``policy`` "fill"), said in
    one line; as it is with "keep"."""
    if policy != FILL:
        return panel
    found = find(panel, until)
    if len(found):
        log.warning("%s%s", f"{source}: " if source else "", describe(panel, found))
    return filled(panel, found)


def describe(panel: Panel, found: Found) -> str:
    """One line: how many values were taken as outliers, the first few by series, target and
    time, and how to keep them."""
    series = np.searchsorted(panel.offsets, found.cells, side="right") - 1
    shown = []
    for k in range(min(SHOWN, len(found))):
        s, c = int(series[k]), int(found.columns[k])
        row = int(found.cells[k] - panel.offsets[s])
        when = shown_time(panel, s, row)
        name = panel.schema.targets[c]
        where = f"{name!r}" + (f" of series {panel.ids[s]!r}" if panel.n_series > 1 else "")
        shown.append(f"{where} at {when} ({found.values[k]:.6g})")
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return (
        f"took {len(found)} value(s) far outside both their neighbours' range as outliers and "
        f"filled them by interpolation: {', '.join(shown)}{more} (--outliers keep: keep them)"
    )
