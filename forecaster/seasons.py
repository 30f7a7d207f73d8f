"""What a sampling frequency implies: its seasonal period and a default horizon.

Frequencies are pandas offset aliases ("h", "D", "W-SUN", "MS", "QS-OCT", "YE-DEC", "15min").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from forecaster.data.sessions import Session

# Horizons follow the M4 competition (hourly 48, daily 14, weekly 13, monthly 18,
# quarterly 8, yearly 6); sub-hourly data forecast one day ahead.
_BY_BASE: dict[str, tuple[int, int]] = {
    # base alias: (seasonal period, default horizon)
    "h": (24, 48),
    "D": (7, 14),
    "B": (5, 10),
    "W": (52, 13),
    "M": (12, 18),
    "Q": (4, 8),
    "Y": (1, 6),
}


def _base(freq: str) -> tuple[str, int, pd.Timedelta | None]:
    """The family of an alias ('h', 'M', 'min', ...), its multiple, and a fixed step if any."""
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.rule_code.split("-")[0]
    multiple = int(offset.n)
    if name in ("ME", "MS", "BME", "BMS", "SME", "SMS"):
        return "M", multiple, None
    if name in ("QE", "QS", "BQE", "BQS"):
        return "Q", multiple, None
    if name in ("YE", "YS", "BYE", "BYS"):
        return "Y", multiple, None
    if name == "W":
        return "W", multiple, pd.Timedelta(weeks=multiple)
    if name == "B":
        return "B", multiple, None
    try:
        step = pd.Timedelta(offset)
    except (ValueError, TypeError):
        return name, multiple, None
    return name, multiple, step


def step_numbers(freq: str) -> bool:
    """Whether ``freq`` is a step-number axis (integer times that are not years, held one
    nanosecond a step: `data.forms.STEPS`), whose steps have no length in time."""
    return isinstance(pd.tseries.frequencies.to_offset(freq), pd.offsets.Nano)


def season_length(freq: str, session: Session | None = None) -> int:
    """Steps in one seasonal cycle (hourly: a day; daily: a week; monthly: a year; business
    hours: a session-day)."""
    if session is not None and not session.trading_days:
        return session.season
    family, multiple, step = _base(freq)
    if step_numbers(freq):
        return 1  # no cycle is known
    if family in _BY_BASE and family not in ("h", "D"):
        period = _BY_BASE[family][0]
        return max(1, period // multiple) if period % multiple == 0 else 1
    if step is not None:
        hour, day, week = pd.Timedelta(hours=1), pd.Timedelta(days=1), pd.Timedelta(weeks=1)
        # A daily cycle, unless it is too long to learn (finer than 5 minutes): then hourly.
        if step < day and day % step == pd.Timedelta(0) and day / step <= 288:
            return int(day / step)
        if step < hour and hour % step == pd.Timedelta(0):
            return int(hour / step)
        if step <= week and week % step == pd.Timedelta(0):
            return int(week / step)
    return 1


def default_horizon(freq: str, session: Session | None = None) -> int:
    """The M4 horizon for the frequency's family; one seasonal cycle for sub-hourly data;
    the next session-day for business hours."""
    if session is not None and not session.trading_days:
        return session.horizon
    family, multiple, _ = _base(freq)
    if family in _BY_BASE and multiple == 1:
        return _BY_BASE[family][1]
    season = season_length(freq)
    return min(max(season, 6), 96)


def weekly_cycle(freq: str, session: Session | None = None) -> int:
    """Steps in a week for hourly to sub-daily data (hourly: 168); 1 for any other frequency.

    Hourly series often repeat weekly as well as daily (weekdays against weekends).
    """
    if session is not None and not session.trading_days:
        return session.week
    _, _, step = _base(freq)
    hour, day, week = pd.Timedelta(hours=1), pd.Timedelta(days=1), pd.Timedelta(weeks=1)
    if step is not None and hour <= step < day and week % step == pd.Timedelta(0):
        return int(week / step)
    return 1


def default_lookback(horizon: int, season: int, week: int = 1) -> int:
    """Cover the horizon twice, at least two seasonal cycles, and a week of hourly data.

    The week was measured on M4 Hourly (OWA 0.521 / 0.572 with 168 hours against 0.566 /
    0.586 with 96, seeds 0 / 1); 336 hours was worse (0.692): M4's 700-hour series then
    leave too few training windows.
    """
    return max(2 * horizon, 2 * season, week, 8)
