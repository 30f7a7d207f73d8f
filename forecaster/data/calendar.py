"""Calendar and public-holiday features derived from timestamps: future-known by construction.

A model reads the same features for its history and for the horizon, so the rule that
makes them (which features suit the frequency, which countries' holidays) is stored in the
model and `predict` computes them for the forecast timestamps itself. Features are taken
in local (wall-clock) time: an hour-of-day effect follows the clock, not UTC.

Which features: the cycles a frequency can show, in the form a linear map uses best.
Hour of day as two harmonics of sine and cosine (a smooth daily shape in four numbers),
day of week and month as indicators (weekday effects are not smooth: Saturday is not half
way between Friday and Sunday), day of year and week of year as two harmonics.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from forecaster.errors import UsageError

_DAY_NS = 86_400_000_000_000


def calendar_names(freq: str) -> list[str]:
    """The derived features that suit data of frequency ``freq`` (none for yearly data)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Nano):  # step numbers (`forms.STEPS`): no calendar
        return []
    step = _step_ns(freq)
    names: list[str] = []
    if step is not None and step < _DAY_NS:
        names += ["hour_sin1", "hour_cos1", "hour_sin2", "hour_cos2"]
        names += [f"weekday_{d}" for d in range(7)]
    elif (step is not None and step == _DAY_NS) or isinstance(offset, pd.offsets.BusinessDay):
        names += [f"weekday_{d}" for d in range(7)]
        names += ["yearday_sin1", "yearday_cos1", "yearday_sin2", "yearday_cos2"]
    elif step is not None and step <= 7 * _DAY_NS:
        names += ["yearweek_sin1", "yearweek_cos1", "yearweek_sin2", "yearweek_cos2"]
    elif isinstance(offset, pd.offsets.MonthBegin | pd.offsets.MonthEnd) and offset.n == 1:
        names += [f"month_{m}" for m in range(1, 13)]
    elif isinstance(offset, pd.offsets.QuarterBegin | pd.offsets.QuarterEnd) or (
        isinstance(offset, pd.offsets.MonthBegin | pd.offsets.MonthEnd) and offset.n == 3
    ):
        names += [f"quarter_{q}" for q in range(1, 5)]
    return names


def _step_ns(freq: str) -> int | None:
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        return int(offset.nanos)
    if isinstance(offset, pd.offsets.Day):
        return int(offset.n) * _DAY_NS
    if isinstance(offset, pd.offsets.Week):
        return int(offset.n) * 7 * _DAY_NS
    return None


def check_countries(countries: list[str]) -> list[str]:
    """Country codes the `holidays` package knows (upper case); else exit code 2."""
    supported = _supported()
    checked = []
    for code in countries:
        upper = code.strip().upper()
        if upper not in supported:
            raise UsageError(
                f"invalid value for --holidays: {code!r}; give an ISO 3166 country code the "
                "holidays package knows, such as US, GB, DE, FR or JP"
            )
        if upper not in checked:
            checked.append(upper)
    return checked


@functools.cache
def _supported() -> frozenset[str]:
    import holidays

    return frozenset(holidays.list_supported_countries())


def holiday_names(countries: list[str]) -> list[str]:
    return [f"holiday_{code}" for code in countries]


def calendar_values(local: pd.DatetimeIndex, freq: str, names: list[str]) -> np.ndarray:
    """The features ``names`` (N, K) of the wall-clock times ``local`` (naive)."""
    out = np.empty((len(local), len(names)))
    if not names:
        return out
    hour = (local.hour + local.minute / 60 + local.second / 3600).to_numpy(dtype=np.float64)
    weekday = local.day_of_week.to_numpy()
    yearday = (local.day_of_year.to_numpy() - 1) / 365.25
    yearweek = (local.isocalendar().week.to_numpy(dtype=np.float64) - 1) / 52.18
    month = local.month.to_numpy()
    quarter = local.quarter.to_numpy()
    cycles = {"hour": hour / 24, "yearday": yearday, "yearweek": yearweek}
    countries = {}
    for k, name in enumerate(names):
        kind, _, value = name.rpartition("_")
        if kind in cycles and value[:3] in ("sin", "cos"):
            harmonic = int(value[3:])
            angle = 2 * np.pi * harmonic * cycles[kind]
            out[:, k] = np.sin(angle) if value.startswith("sin") else np.cos(angle)
        elif kind == "weekday":
            out[:, k] = weekday == int(value)
        elif kind == "month":
            out[:, k] = month == int(value)
        elif kind == "quarter":
            out[:, k] = quarter == int(value)
        elif kind == "holiday":
            countries[k] = value
        else:
            raise ValueError(f"unknown calendar feature {name!r}")
    for k, code in countries.items():
        out[:, k] = holiday_counts(local, freq, code)
    return out


def holiday_counts(local: pd.DatetimeIndex, freq: str, country: str) -> np.ndarray:
    """Public holidays of ``country`` in each row's period: for data finer than a day, 1 on
    the days that are holidays; for daily and coarser data, the holidays from the row's
    timestamp up to the next one (a week with Easter Monday holds one)."""
    import holidays

    if len(local) == 0:
        return np.zeros(0)
    step = _step_ns(freq)
    starts = local.normalize() if step is not None and step < _DAY_NS else local
    if step is not None and step < _DAY_NS:
        ends = starts + pd.Timedelta(days=1)
    else:
        ends = starts + pd.tseries.frequencies.to_offset(freq)
    years = range(int(starts.year.min()), int(ends.year.max()) + 1)
    dates = holidays.country_holidays(country, years=years)
    days = np.sort(pd.DatetimeIndex(sorted(dates)).to_numpy(dtype="datetime64[ns]"))
    first = np.searchsorted(days, starts.to_numpy(dtype="datetime64[ns]"), side="left")
    last = np.searchsorted(days, ends.to_numpy(dtype="datetime64[ns]"), side="left")
    return (last - first).astype(np.float64)
