"""The in-memory data model: a `Schema` of column roles and a `Panel` of regular series."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from forecaster.data.sessions import Session
from forecaster.errors import DataError

_NS = "datetime64[ns]"


@dataclass(frozen=True)
class Schema:
    """Which input column plays which role, and how its times were read.

    Stored in the model to read later inputs the same way: ``date_order`` ("dmy" / "mdy")
    for text dates such as 01/02/2020; ``zone`` the input's time zone (a fixed offset such
    as "-08:00" or an IANA name) when timestamps carried offsets; ``utc_grid`` whether the
    regular grid is in UTC (sub-daily data whose offset changes with daylight saving) or in
    the zone's wall-clock time. ``time_form`` is how the input wrote times that are not
    timestamps (integer years, step numbers, ``1956Q1``, ``Jan 1980``: `forms`), so that
    forecasts are written the same way; None for timestamps. ``time_layout`` is how it
    spelled ISO timestamps where that differs from forecaster's own spelling (``1980-01``,
    ``...Z``, ``2022-01-21 00:15``: `layouts`); None otherwise.

    Covariates: ``past`` columns are observed up to the forecast origin, ``future`` ones are
    known for the horizon too, ``static`` ones are constant within a series (text ones are
    ``categories``, one indicator channel each). ``calendar`` names the features derived
    from the timestamps (`calendar`), holidays included; they are future-known.

    ``session``: the slots that exist when the data holds rows only at some times of day
    or on some weekdays (business hours); the grid is then those slots alone (`sessions`).
    """

    time: str
    targets: list[str]
    id: str | None = None
    date_order: str | None = None
    zone: str | None = None
    utc_grid: bool = False
    time_form: str | None = None
    time_layout: str | None = None
    past: list[str] = field(default_factory=list)
    future: list[str] = field(default_factory=list)
    static: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    calendar: list[str] = field(default_factory=list)
    session: Session | None = None

    @property
    def wide_id(self) -> str:
        """The name of a wide file's one series (no id column): its target's, so titles
        and messages name what the user's data calls it."""
        if len(self.targets) <= 3:
            return " + ".join(self.targets)
        return f"{self.targets[0]} + {len(self.targets) - 1} more targets"

    @property
    def static_channels(self) -> list[str]:
        """One channel per numeric static column, one per category of a text one."""
        names: list[str] = []
        for column in self.static:
            if column in self.categories:
                names += [f"{column}={c}" for c in self.categories[column]]
            else:
                names.append(column)
        return names

    @property
    def covariate_channels(self) -> list[str]:
        """Names of the covariate channels in their order: past, future, calendar, static."""
        return [*self.past, *self.future, *self.calendar, *self.static_channels]

    @property
    def n_past(self) -> int:
        return len(self.past)

    @property
    def n_future(self) -> int:
        return len(self.future) + len(self.calendar)

    @property
    def n_static(self) -> int:
        return len(self.static_channels)

    @property
    def has_covariates(self) -> bool:
        return bool(self.covariate_channels)


@dataclass
class Panel:
    """Regular series, stacked end to end in one contiguous array.

    Series ``i`` is ``values[offsets[i]:offsets[i + 1]]`` with timestamps
    ``pd.date_range(starts[i], periods=lengths[i], freq=freq)``: wall-clock times as the
    input wrote them, or (``schema.utc_grid``) UTC.

    ``covariates`` (rows, K) holds the covariate channels of every row (raw, in the order
    of ``schema.covariate_channels``); ``future`` (S, F, K) those of the rows given after
    each series' last target value (NaN where a series has fewer, or a channel none).
    """

    ids: list[str]
    starts: list[pd.Timestamp]
    offsets: np.ndarray  # (S + 1,) int64
    values: np.ndarray  # (total_rows, C) float64
    freq: str
    schema: Schema
    notes: list[str] = field(default_factory=list)
    covariates: np.ndarray | None = None  # (total_rows, K) float64
    future: np.ndarray | None = None  # (S, F, K) float64, NaN where not given

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def n_series(self) -> int:
        return len(self.ids)

    def series(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    # Train, predict, evaluate and calibration all cut windows with the three methods below,
    # so that what a forecast from an origin may read is written once (docs/design.md,
    # stage 3, "Windows and scaling").

    def history(self, i: int, origin: int) -> np.ndarray:
        """The rows of series ``i`` before row ``origin``: all that a forecast from that
        origin may read (a view)."""
        return self.series(i)[:origin]

    def histories(self, series: np.ndarray, origins: np.ndarray) -> list[np.ndarray]:
        """`history` of ``series[k]`` before ``origins[k]``, for each k."""
        return [self.history(int(s), int(o)) for s, o in zip(series, origins, strict=True)]

    def actuals(self, series: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """(N, H, C): the ``horizon`` rows of ``series[k]`` from row ``origins[k]`` on, what
        a forecast from that origin is scored against."""
        rows = (self.offsets[series] + origins)[:, None] + np.arange(horizon)
        actuals: np.ndarray = self.values[rows]
        return actuals

    def positions(self, ids: list[str], series: np.ndarray | None = None) -> np.ndarray:
        """(N,): where the id of each of ``series`` (default: every series) stands in
        ``ids``, a model's series; -1 for a series the model has not seen."""
        position = {series_id: k for k, series_id in enumerate(ids)}
        chosen = range(self.n_series) if series is None else series
        return np.array([position.get(self.ids[s], -1) for s in chosen], dtype=np.int64)

    def index(self, i: int) -> pd.DatetimeIndex:
        if self.schema.session is not None:
            rows = np.arange(int(self.lengths[i]))
            return self.timestamps(np.full(len(rows), i), rows)
        return pd.date_range(self.starts[i], periods=int(self.lengths[i]), freq=self.freq)

    def end(self, i: int) -> pd.Timestamp:
        return self.index(i)[-1]

    @cached_property
    def _start_values(self) -> np.ndarray:
        return np.asarray(pd.DatetimeIndex(self.starts).to_numpy(dtype=_NS))

    def ends(self) -> pd.DatetimeIndex:
        """The last timestamp of every series."""
        return self.timestamps(np.arange(self.n_series), self.lengths - 1)

    def timestamps(self, series: np.ndarray, rows: np.ndarray) -> pd.DatetimeIndex:
        """Timestamp of row ``rows[k]`` of series ``series[k]`` (rows past the end continue
        the grid), for many at once: a loop of `index` per series was most of the time of
        a 100,000-series panel."""
        return grid_timestamps(self._start_values[np.asarray(series)], rows, self.freq,
                               self.schema.session)  # fmt: skip


class RowIds:
    """Each row's series id, held as one number per row and one text per series.

    A panel of 10^8 rows has perhaps 10^5 ids: comparing, sorting and stripping numbers and
    10^5 texts instead of 10^8 texts is what keeps reading it in minutes and gigabytes.
    """

    def __init__(self, codes: np.ndarray, names: np.ndarray) -> None:
        self.codes, self.names = codes, names

    def __getitem__(self, row: int | np.integer) -> str:
        return str(self.names[self.codes[row]])


def fixed_step_ns(freq: str) -> int | None:
    """Nanoseconds between grid points when the step never varies (hours, days, weeks)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        return int(offset.nanos)
    if isinstance(offset, pd.offsets.Day):
        return int(offset.n) * 86_400_000_000_000
    if isinstance(offset, pd.offsets.Week):
        return int(offset.n) * 7 * 86_400_000_000_000
    return None


def grid_timestamps(
    starts: np.ndarray, rows: np.ndarray, freq: str, session: Session | None = None
) -> pd.DatetimeIndex:
    """``rows[k]`` steps of ``freq`` after ``starts[k]`` (naive datetime64[ns]), vectorised;
    with a ``session``, ``rows[k]`` of its slots."""
    starts = np.asarray(starts, dtype=_NS)
    rows = np.asarray(rows, dtype=np.int64)
    if session is not None:
        return session.timestamps(starts, rows)
    step = fixed_step_ns(freq)
    if step is not None:
        return pd.DatetimeIndex(starts + (rows * step).astype("timedelta64[ns]"))
    out = np.empty(len(starts), dtype=_NS)
    if len(starts) == 0:
        return pd.DatetimeIndex(out)
    distinct, inverse = np.unique(starts, return_inverse=True)
    if len(distinct) > 1:
        # One grid through every start, when they all lie on one (calendar steps of 1).
        through = pd.date_range(distinct[0], distinct[-1], freq=freq)
        where = through.get_indexer(pd.DatetimeIndex(distinct))
        if (where >= 0).all():
            grid = pd.date_range(distinct[0], periods=len(through) + int(rows.max()) + 1, freq=freq)
            return pd.DatetimeIndex(grid.to_numpy(dtype=_NS)[where[inverse] + rows])
    for k, start in enumerate(distinct):
        mask = inverse == k
        grid = pd.date_range(start, periods=int(rows[mask].max()) + 1, freq=freq)
        out[mask] = grid.to_numpy(dtype=_NS)[rows[mask]]
    return pd.DatetimeIndex(out)


def grid_before(
    end: pd.Timestamp, periods: int, freq: str, session: Session | None
) -> pd.DatetimeIndex:
    """The ``periods`` grid timestamps that end at ``end`` (naive)."""
    if session is None:
        return pd.date_range(end=end, periods=periods, freq=freq)
    rows = np.arange(-(periods - 1), 1)
    return session.timestamps(np.full(periods, np.datetime64(end.to_datetime64(), "ns")), rows)


def drop_first(panel: Panel, rows: np.ndarray) -> Panel:
    """The panel without the first ``rows[i]`` rows of series ``i`` (each less than its
    length), each series starting that many steps later on its grid."""
    rows = np.asarray(rows, dtype=np.int64)
    if not rows.any():
        return panel
    starts = [pd.Timestamp(t) for t in panel.timestamps(np.arange(panel.n_series), rows)]
    kept = _row_in_series(panel) >= np.repeat(rows, panel.lengths)
    return _rows_kept(panel, kept, panel.lengths - rows, starts, panel.future)


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
    kept = _row_in_series(panel) < np.repeat(keep, panel.lengths)
    return _rows_kept(panel, kept, keep, panel.starts, None)


def _row_in_series(panel: Panel) -> np.ndarray:
    """Each row's position within its series."""
    return np.arange(len(panel.values)) - np.repeat(panel.offsets[:-1], panel.lengths)


def _rows_kept(
    panel: Panel,
    kept: np.ndarray,
    lengths: np.ndarray,
    starts: list[pd.Timestamp],
    future: np.ndarray | None,
) -> Panel:
    """``panel``'s rows where ``kept``, series of ``lengths`` from ``starts``."""
    return Panel(
        ids=panel.ids,
        starts=starts,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        values=panel.values[kept],
        freq=panel.freq,
        schema=panel.schema,
        notes=panel.notes,
        covariates=None if panel.covariates is None else panel.covariates[kept],
        future=future,
    )
