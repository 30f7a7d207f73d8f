"""Grids of the slots that exist: sessions, jittered clocks, and how much may be invented.

Business hours (every 5 minutes, 07:00 to 21:00 on weekdays) on a plain 5-minute grid are
59% night and weekend: interpolating them invents most of the data, the seasonal cycle the
model learns is mostly that invention, and forecasts land at 03:00 on a Sunday. A session is
the times of day and the weekdays that ever hold a row; its grid is those slots alone, one
session-day after another (Friday 21:00 is followed by Monday 07:00), so a model's season
is the slots of a session-day and its forecast the next ones. A weekday inside the session
without any row (a bank holiday) stays a gap, filled and counted.

Slots are numbered from a fixed Monday with numpy's business-day calendar and a weekmask,
so placing rows and stepping a grid forward are array arithmetic, as on a plain grid.

Trading days are the daily case: a business-day series whose missing weekdays are an
exchange's holidays (`trading_days`) gets a session of one slot a day on Mon-Fri with that
exchange's closures left out, so the holidays are neither interpolated into the history nor
forecast (a plain business-day grid forecasts Labor Day).

Sensor clocks that jitter (a reading at 4 or 1 minute after the last among 5-minute ones)
are put on the grid of the step when every reading lies within half a step of a slot: each
is moved to its slot, and readings that meet in one slot are averaged; both are counted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from forecaster.data.duplicates import mean_runs
from forecaster.errors import DataError

_DAY = 86_400_000_000_000
# A jittered clock is snapped to the phase of its most recent rows: the forecast's
# timestamps are where the next readings will fall. A glucose monitor's phase drifted over
# months (each of the 5 minutes of a 5-minute step held a fifth of its readings); its last
# day's readings, and the ones after it, held one.
PHASE_ROWS = 100
_HOUR = 3_600_000_000_000
_REF = np.datetime64("1970-01-05", "D")  # a Monday: slot numbers count from it
_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# A session is only read from data that passed every slot twice: two days for the times
# of day, two weeks for the weekdays (a short sample says nothing about weekends).
_DAYS_FOR_TIMES, _DAYS_FOR_WEEKDAYS = 2, 14
# Slots a day beyond which a session is not looked for (finer than a second).
_MAX_SLOTS = 86_400
# Snapping is for jitter, not for data finer than the step: if more than this share of the
# readings would meet another in a slot, the data is left as it is (and refused off-grid).
_MAX_MERGED = 0.05
# Filling may not invent more than this share of a grid's rows.
MAX_INVENTED = 0.5
# Exchanges (the `holidays` package's financial calendars) that a business-day series'
# missing weekdays are matched against; the one matching most is taken when it explains
# at least `_CALENDAR_COVERED` of its in-span holidays (no trading then) and
# `_CALENDAR_EXPLAINS` of the missing weekdays (the rest stay gaps: one-off closures).
EXCHANGES = ("NYSE", "XLON", "XETR", "XPAR", "XTSE", "XJPX", "XHKG", "XASX", "XNSE", "XECB")
_CALENDAR_COVERED, _CALENDAR_EXPLAINS = 0.9, 0.5
# Years of an exchange's future closures stored with a model (forecasts beyond them step
# over weekends only).
CALENDAR_YEARS_AHEAD = 10


@dataclass(frozen=True, repr=False)
class Session:
    """The slots that exist: ``slots`` times of day (ns after midnight, sorted, ``step``
    apart or more) on the ``days`` weekdays (0 = Monday), except the ``closed`` dates
    (ISO, of the exchange ``calendar``: trading days)."""

    step: int
    slots: tuple[int, ...]
    days: tuple[int, ...]
    closed: tuple[str, ...] = ()
    calendar: str | None = None

    def __repr__(self) -> str:
        return f"Session({self.describe()} every {_duration(self.step)})"

    @cached_property
    def _slots(self) -> np.ndarray:
        return np.asarray(self.slots, dtype=np.int64)

    @cached_property
    def _closed(self) -> np.ndarray:
        return np.asarray(self.closed, dtype="datetime64[D]")

    @property
    def trading_days(self) -> bool:
        """A daily session (an exchange's days): its sizes are the business day's."""
        return self.step == _DAY

    @property
    def weekmask(self) -> str:
        return "".join("1" if d in self.days else "0" for d in range(7))

    @property
    def per_day(self) -> int:
        return len(self.slots)

    @property
    def season(self) -> int:
        """A session-day, as a plain grid's season is a day; hourly when a session-day is
        too long to learn (finer than 5 minutes); the week when a day holds one slot."""
        if self.per_day == 1:
            return len(self.days)
        if self.per_day > 288 and _HOUR % self.step == 0:
            return _HOUR // self.step
        return self.per_day

    @property
    def week(self) -> int:
        """A session-week, for hourly and coarser steps (as `frequency.weekly_cycle`)."""
        return self.per_day * len(self.days) if self.step >= _HOUR else 1

    @property
    def horizon(self) -> int:
        """The next session-day (the next business day's slots)."""
        return min(max(self.per_day, 6), 288)

    def describe(self) -> str:
        """``Mon-Fri 07:00-21:00`` (ranges of slots one step apart); ``Mon-Fri except NYSE
        holidays`` for trading days."""
        if self.trading_days:
            return f"{_day_ranges(self.days)} except {self.calendar} holidays"
        return f"{_day_ranges(self.days)} {', '.join(_time_ranges(self._slots, self.step))}"

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "weekdays": list(self.days), "times": _time_ranges(self._slots, self.step, True)
        }  # fmt: skip
        if self.calendar is not None:
            out.update(calendar=self.calendar, closed=list(self.closed))
        return out

    @classmethod
    def from_dict(cls, value: object, step: int | None) -> Session:
        """The stored form back; ValueError when it is not one this module writes."""
        if step is None or step > _DAY or _DAY % step:
            raise ValueError("a session needs a step that divides a day")
        keys = {"weekdays", "times"} | ({"calendar", "closed"} if step == _DAY else set())
        if not isinstance(value, dict) or set(value) != keys:
            raise ValueError("an object of weekdays and times (and a daily one's closures)")
        calendar, closed = value.get("calendar"), value.get("closed", [])
        if step == _DAY:
            if not isinstance(calendar, str) or not isinstance(closed, list):
                raise ValueError("calendar: a name; closed: a list of dates")
            try:
                dates = np.asarray(closed, dtype="datetime64[D]")
            except (ValueError, TypeError):
                raise ValueError("closed: ISO dates") from None
            if len(dates) and ((np.diff(dates) <= np.timedelta64(0, "D")).any()
                               or [str(d) for d in dates] != closed):  # fmt: skip
                raise ValueError("closed: increasing ISO dates")
        days, times = value["weekdays"], value["times"]
        if not (isinstance(days, list) and days and all(type(d) is int for d in days)
                and days == sorted(set(days)) and days[0] >= 0 and days[-1] <= 6):  # fmt: skip
            raise ValueError("weekdays: a sorted list of distinct numbers 0 to 6")
        if not isinstance(times, list) or not times:
            raise ValueError("times: a list of 'HH:MM:SS-HH:MM:SS' ranges")
        slots: list[int] = []
        for item in times:
            parts = item.split("-") if isinstance(item, str) else []
            if len(parts) != 2:
                raise ValueError("times: a list of 'HH:MM:SS-HH:MM:SS' ranges")
            lo, hi = (int(pd.Timedelta(p).value) for p in parts)
            if not (0 <= lo <= hi < _DAY) or (hi - lo) % step or (slots and lo <= slots[-1]):
                raise ValueError("times: increasing ranges within a day, a step apart")
            slots += range(lo, hi + 1, step)
        if any((s - slots[0]) % step for s in slots):
            raise ValueError("times: every slot on one grid of the step")
        if step == _DAY and slots != [0]:
            raise ValueError("a daily session's one slot is midnight")
        return cls(step, tuple(slots), tuple(days), tuple(closed), calendar)

    def ordinals(self, times: np.ndarray, what: str = "the session") -> np.ndarray:
        """Each naive timestamp's slot number; DataError naming the first one off the
        session."""
        t = np.asarray(times, dtype="datetime64[ns]").view(np.int64)
        day = np.floor_divide(t, _DAY)
        tod = t - day * _DAY
        slot = np.searchsorted(self._slots, tod)
        inside = (slot < len(self._slots)) & (self._slots[np.minimum(slot, len(self._slots) - 1)]
                                              == tod)  # fmt: skip
        inside &= np.isin((day + 3) % 7, self.days)  # 1970-01-01 was a Thursday
        if len(self._closed):
            inside &= ~np.isin(day.astype("datetime64[D]"), self._closed)
        if not inside.all():
            row = int(np.flatnonzero(~inside)[0])
            raise DataError(
                f"timestamp {pd.Timestamp(int(t[row]))} is outside {what} ({self.describe()}, "
                f"every {_duration(self.step)}); give rows within it"
            )
        dates = day.astype("datetime64[D]")
        # Session-days from _REF; numpy counts a span backwards without its first day.
        mask = self.weekmask
        closed = self._closed
        days = np.where(dates >= _REF, np.busday_count(_REF, dates, mask, closed),
                        -np.busday_count(dates, _REF, mask, closed))  # fmt: skip
        return days * self.per_day + slot

    def timestamps(self, starts: np.ndarray, rows: np.ndarray) -> pd.DatetimeIndex:
        """``rows[k]`` slots after ``starts[k]`` (on the session), vectorised."""
        number = self.ordinals(starts) + np.asarray(rows, dtype=np.int64)
        day, slot = np.divmod(number, self.per_day)
        dates = np.busday_offset(_REF, day, roll="forward", weekmask=self.weekmask,
                                 holidays=self._closed)  # fmt: skip
        out = dates.astype("datetime64[ns]") + self._slots[slot].astype("timedelta64[ns]")
        return pd.DatetimeIndex(out)

    def place(
        self, times: np.ndarray, bounds: np.ndarray, what: str = "the session"
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As `grid.place`: every row's position in its series, lengths and starts."""
        number = self.ordinals(times, what)
        first, last = number[bounds[:-1]], number[bounds[1:] - 1]
        return number - np.repeat(first, np.diff(bounds)), last - first + 1, times[bounds[:-1]]


def detect(times: np.ndarray, bounds: np.ndarray, step: int | None) -> Session | None:
    """The session of data on a grid finer than a day that leaves some slots empty: the
    times of day and weekdays that ever hold a row. None when every slot holds one, or the
    data is too short to tell, or its series do not share one grid."""
    if step is None or step >= _DAY or _DAY % step or _DAY // step > _MAX_SLOTS:
        return None
    t = np.asarray(times, dtype="datetime64[ns]").view(np.int64)
    first, last = t[bounds[:-1]], t[bounds[1:] - 1]
    if int(((last - first) // step + 1).sum()) == len(t):
        return None  # no gaps at all: nothing to decide
    tod = np.mod(t, _DAY)
    phase = int(tod[0] % step)
    if ((tod % step) != phase).any():
        return None
    span = int((last - first).max())
    every = np.arange(phase, _DAY, step, dtype=np.int64)
    slots = every
    if span >= _DAYS_FOR_TIMES * _DAY:
        held = np.bincount((tod - phase) // step, minlength=len(every)) > 0
        slots = every[held]
    days = np.arange(7)
    if span >= _DAYS_FOR_WEEKDAYS * _DAY:
        weekday = (np.floor_divide(t, _DAY) + 3) % 7
        days = np.flatnonzero(np.bincount(weekday, minlength=7))
    if len(slots) == len(every) and len(days) == 7:
        return None
    session = Session(step, tuple(int(s) for s in slots), tuple(int(d) for d in days))
    ends = session.ordinals(np.concatenate([times[bounds[:-1]], times[bounds[1:] - 1]]))
    cells = int((ends[len(first) :] - ends[: len(first)] + 1).sum())
    if cells - len(t) > MAX_INVENTED * cells:
        return None  # mostly empty even so: a few scattered rows, not a session
    return session


def trading_days(times: np.ndarray, bounds: np.ndarray, freq: str) -> Session | None:
    """The session of a business-day series whose missing weekdays are an exchange's
    holidays (`EXCHANGES`): Mon-Fri except that exchange's closures, from the first year
    of the data to `CALENDAR_YEARS_AHEAD` after the last (less any date that holds a row).
    None for other data, or when no exchange's calendar explains the missing weekdays."""
    if freq != "B" or not len(times):
        return None
    dates = np.asarray(times, dtype="datetime64[D]")
    missing_parts = []
    for a, b in itertools.pairwise(bounds):
        span = np.arange(dates[a], dates[b - 1] + 1)
        weekdays = span[np.is_busday(span)]
        missing_parts.append(np.setdiff1d(weekdays, dates[a:b]))
    missing = np.unique(np.concatenate(missing_parts))
    if not len(missing):
        return None
    import holidays

    first, last = dates.min(), dates.max()
    years = range(first.astype(object).year, last.astype(object).year + CALENDAR_YEARS_AHEAD + 1)
    best: tuple[int, str, np.ndarray] | None = None
    for name in EXCHANGES:
        calendar = np.asarray(sorted(holidays.financial_holidays(name, years=years)),
                              dtype="datetime64[D]")  # fmt: skip
        calendar = calendar[np.is_busday(calendar)]
        in_span = calendar[(calendar >= first) & (calendar <= last)]
        if not len(in_span):
            continue
        matched = int(np.isin(in_span, missing).sum())
        if (matched >= _CALENDAR_COVERED * len(in_span)
                and matched >= _CALENDAR_EXPLAINS * len(missing)
                and (best is None or matched > best[0])):  # fmt: skip
            best = (matched, name, calendar)
    if best is None:
        return None
    _, name, calendar = best
    closed = np.setdiff1d(calendar, dates)  # a listed holiday that traded stays a day
    return Session(_DAY, (0,), (0, 1, 2, 3, 4), tuple(str(d) for d in closed), name)


def keeps_to_the_clock(wall: np.ndarray, bounds: np.ndarray, step: int | None) -> bool:
    """Whether sub-daily data in a zone with daylight saving holds a session in wall-clock
    time (and never repeats a wall-clock time): then its grid is the wall clock's, or the
    session would move by an hour in UTC twice a year and take in both hours."""
    t = np.asarray(wall, dtype="datetime64[ns]").view(np.int64)
    later = np.diff(t) > 0
    later[bounds[1:-1] - 1] = True  # a new series may start earlier
    return bool(later.all()) and detect(wall, bounds, step) is not None


@dataclass
class Snapped:
    """Rows moved onto the grid of their step: what `snap` gives back."""

    times: np.ndarray
    codes: np.ndarray
    values: np.ndarray
    user: np.ndarray
    note: str


def snap(
    times: np.ndarray,
    codes: np.ndarray,
    bounds: np.ndarray,
    values: np.ndarray,
    user: np.ndarray,
    step: int | None,
) -> Snapped | None:
    """Rows off their series' grid moved to the nearest slot of one grid of ``step`` (the
    phase most of each series' last `PHASE_ROWS` rows hold), when every row is less than
    half a step from a slot and few meet another in one; readings that meet are averaged.
    None when the rows are on their grids already, or when moving them would not be a
    correction of jitter."""
    if step is None or step >= _DAY or len(times) < 2:
        return None
    t = np.asarray(times, dtype="datetime64[ns]").view(np.int64)
    first = np.repeat(t[bounds[:-1]], np.diff(bounds))
    if not ((t - first) % step).any():
        return None
    within = np.arange(len(t)) - np.repeat(bounds[:-1], np.diff(bounds))
    recent = within >= np.repeat(np.diff(bounds), np.diff(bounds)) - PHASE_ROWS
    phases, counts = np.unique(np.mod(t[recent], step), return_counts=True)
    phase = int(phases[np.argmax(counts)])
    off = np.mod(t - phase, step)
    if (2 * off == step).any():
        return None  # half way between two slots: no nearest one
    moved_to = t - off + np.where(2 * off > step, step, 0)
    moved = int((moved_to != t).sum())
    starts = np.flatnonzero(
        np.r_[True, (codes[1:] != codes[:-1]) | (moved_to[1:] != moved_to[:-1])]
    )
    merged = len(t) - len(starts)
    if merged > _MAX_MERGED * len(t):
        return None
    note = (
        f"{moved:,} of {len(t):,} timestamps were off the {_duration(step)} grid by up to "
        f"{_duration(int(np.abs(moved_to - t).max()))}: moved each to its nearest slot"
    )
    if merged:
        note += f"; {merged:,} reading(s) that met another in one slot were averaged with it"
    return Snapped(
        times=moved_to[starts].view("datetime64[ns]"),
        codes=codes[starts],
        values=mean_runs(values, starts),
        user=mean_runs(user, starts),
        note=note,
    )


def invented_check(
    rows: int, lengths: np.ndarray, freq: str, session: Session | None, source: str
) -> None:
    """Refuse to fill a grid most of whose rows no input row holds."""
    cells = int(lengths.sum())
    invented = cells - rows
    if invented <= MAX_INVENTED * cells:
        return
    if session is not None:
        grid = f"the session's grid ({session.describe()})"
    elif isinstance(pd.tseries.frequencies.to_offset(freq), pd.offsets.Nano):  # step numbers
        grid = f"the grid of steps of {pd.tseries.frequencies.to_offset(freq).n}"
    else:
        grid = f"the {freq!r} grid"
    raise DataError(
        f"{source}: filling would invent {invented:,} of the {cells:,} rows of {grid} "
        f"({invented / cells:.0%}), more than half: check the timestamps, give the data's own "
        "--freq, or fill the gaps yourself"
    )


def session_note(session: Session, freq: str, times: np.ndarray, bounds: np.ndarray) -> str:
    """The one line that says what a session grid changed: what a plain grid would have
    invented."""
    t = np.asarray(times, dtype="datetime64[ns]").view(np.int64)
    if session.trading_days:
        dates = np.asarray(times, dtype="datetime64[D]")
        held = session._closed[(session._closed >= dates.min()) & (session._closed <= dates.max())]
        return (
            f"business days with {session.calendar} holidays closed: {len(held):,} holiday(s) "
            "in the data left out of the grid (not filled), and none forecast"
        )
    plain = int(((t[bounds[1:] - 1] - t[bounds[:-1]]) // session.step + 1).sum())
    return (
        f"rows only on {session.describe()} ({session.per_day} slots of {freq} a day): "
        f"modelled and forecast on those slots alone (a plain {freq} grid would have filled "
        f"{plain - len(t):,} of its {plain:,} rows, {(plain - len(t)) / plain:.0%})"
    )


def _duration(ns: int) -> str:
    text = str(pd.Timedelta(ns, unit="ns"))
    days, _, clock = text.partition(" days ")
    if days == "0" and clock.endswith(":00") and clock.startswith("00:"):
        return f"{int(clock[3:5])} min"
    return text.replace("0 days ", "")


def _clock(ns: int, seconds: bool) -> str:
    h, rem = divmod(ns // 1_000_000_000, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if seconds or s else f"{h:02d}:{m:02d}"


def _time_ranges(slots: np.ndarray, step: int, seconds: bool = False) -> list[str]:
    breaks = np.flatnonzero(np.diff(slots) != step) + 1
    runs = np.split(slots, breaks)
    return [f"{_clock(int(r[0]), seconds)}-{_clock(int(r[-1]), seconds)}" for r in runs]


def _day_ranges(days: tuple[int, ...]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(_NAMES[r[0]] + (f"-{_NAMES[r[-1]]}" if len(r) > 1 else "") for r in runs)
