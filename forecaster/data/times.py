"""Timestamps as written to instants and wall times: ISO 8601, day- or month-first, offsets, zones.

Two ways to be silently wrong are refused here. A date such as ``01/02/2020`` is read day
first or month first only when the values decide it (a first field above 12 proves day
first) or the user says so; otherwise it is an error, never a guess that reorders the
series. And timestamps with UTC offsets keep their zone: the offset they were written
with, or the IANA zone whose daylight-saving rules explain their changing offsets, so that
forecasts are written in the input's own local time with its offset.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import warnings
import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster.data.forms import STEPS, YEARS, detect_form, parse_form
from forecaster.data.read import file_rows as _file_rows
from forecaster.errors import DataError, UsageError

# A UTC offset ending a timestamp: after a time of day, so that a date ending in its year
# (31-01-2020, 31-Jan-2020, 01-1990) is not taken for one at -20:20 or -19:90.
OFFSET_PATTERN = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s?(?:[+-]\d\d:?\d\d|Z)$"
_OFFSET_PARTS = re.compile(r"(Z|([+-])(\d\d):?(\d\d))$")
# Day and month in either order, then the year: 01/02/2020, 1.2.20, 01-02-2020 10:00.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?:\D|$)")
DATE_ORDERS = ("dmy", "mdy")
_NS = np.dtype("datetime64[ns]")
# Zones tried first when offsets change over the year (any zone with the same rules gives
# the same offsets; these are the names users expect to see); then every other zone.
_PREFERRED_ZONES = (
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Halifax",
    "America/Sao_Paulo",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
)
_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@dataclass
class ParsedTimes:
    """A time column parsed: wall times as written (naive input) or UTC instants (with offsets)."""

    values: np.ndarray  # (N,) datetime64[ns]
    offsets: np.ndarray | None  # (N,) minutes east of UTC of each row, when written with offsets
    date_order: str | None  # "dmy" / "mdy" when the text needed one, else None
    form: str | None = None  # years, step numbers, quarters, month names (`forms`); None: ISO

    @property
    def aware(self) -> bool:
        return self.offsets is not None


def looks_like_time(column: pd.Series) -> bool:
    """Whether most of a column's first values parse as timestamps (to find the time column)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False  # integers are a time column only when named so (`columns`)
    sample = column.dropna().astype(str).str.strip().head(50)
    if sample.empty:
        return False
    if detect_form(sample) not in (None, STEPS, YEARS):  # 1956Q1, Q1 1965, Jan 1980
        return True  # (integers, text or not, are a time column only when named so)
    aware = sample.str.contains(OFFSET_PATTERN, regex=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it guesses an order
        try:
            parsed = pd.to_datetime(sample, errors="coerce", utc=bool(aware.any()), format="mixed")
        except (ValueError, TypeError, OverflowError):
            return False
    return bool(parsed.notna().mean() >= 0.8)


def parse_times(
    column: pd.Series,
    name: str,
    date_order: str | None = None,
    form: str | None = None,
    detect: bool = True,
) -> ParsedTimes:
    """Parse a time column; refuse values that are not dates, and ambiguous day/month order.

    ``date_order`` ("dmy" or "mdy") is the user's word (``--dayfirst``) or the order the
    model was trained with; when None, the values must decide it if they need one.
    ``form`` is the model's time form (`forms`); with ``detect`` and none given, the
    column's own is found. A model without a form (trained before forms, or on ISO
    timestamps) reads its data as it always did: ``detect`` False.
    """
    if form is None and detect:
        form = detect_form(column)
    if form is not None:
        return ParsedTimes(parse_form(column, form, name), None, None, form)
    if pd.api.types.is_float_dtype(column):
        _refuse_decimals(column, name)
    if pd.api.types.is_datetime64_any_dtype(column):
        values = column
        offsets = None
        if getattr(values.dt, "tz", None) is not None:  # as its ISO text with offsets reads
            utc = values.dt.tz_convert("UTC").dt.tz_localize(None)
            wall = values.dt.tz_localize(None)
            offsets = _as_ns(wall, name).view(np.int64) - _as_ns(utc, name).view(np.int64)
            offsets //= 60 * 10**9
            values = utc
        missing = values.isna().to_numpy()
        if missing.any():
            raise DataError(
                f"column {name!r}: {int(missing.sum())} value(s) are empty, first at row(s) "
                f"{_file_rows(missing)}; fill or remove those rows"
            )
        return ParsedTimes(_as_ns(values, name), offsets, None)
    text = column.astype("string").str.strip()
    missing = text.isna() | (text == "")
    aware = text.str.contains(OFFSET_PATTERN, regex=True).fillna(False).to_numpy(dtype=bool)
    if aware.any() and not (aware | missing.to_numpy()).all():
        raise DataError(
            f"column {name!r} mixes timestamps with and without a UTC offset (without at "
            f"row(s) {_file_rows(~aware & ~missing.to_numpy())}); give every timestamp its "
            "offset, or none"
        )
    order = _date_order(text[~missing], name, date_order)
    parsed = _parse_text(text, bool(aware.any()), order)
    bad = parsed.isna().to_numpy()
    if bad.any():
        example = column[bad].iloc[0]
        raise DataError(
            f"column {name!r}: {int(bad.sum())} value(s) are not dates, first at row(s) "
            f"{_file_rows(bad)} (e.g. {example!r}); fix or remove those rows, or choose the "
            "column with --time"
        )
    offsets = None
    if aware.any():
        offsets = _offset_minutes(text)
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return ParsedTimes(_as_ns(parsed, name), offsets, order)


def _refuse_decimals(column: pd.Series, name: str) -> None:
    """Numbers with fractions that are not R's decimal years (`forms`) are not times: read
    as text, ``1980.01`` (January) parsed as ``%Y.%m`` and ``1980.1`` (October, its zero
    dropped by the CSV reader) as January again, and a merge of the "repeats" folded each
    October into January."""
    numbers = column.dropna().to_numpy(dtype=np.float64)
    fractional = numbers[np.isfinite(numbers) & (numbers != np.round(numbers))]
    if len(fractional) == 0:
        return
    raise DataError(
        f"column {name!r} holds numbers with fractions (e.g. {float(fractional[0])!r}) that "
        "are not times: decimal years are read where every one is a month or a quarter "
        "(R's time(): 1991.5, 1991.58333), and 1980.10 reaches forecaster as 1980.1, so "
        "months written as year.month cannot be; write the times as dates (1980-10)"
    )


def _as_ns(values: pd.Series, name: str) -> np.ndarray:
    try:
        # as_unit checks the range; to_numpy(dtype=...) alone wraps a year-2300 timestamp
        # of microsecond unit around to 1715 without a word (pandas 3.1).
        return np.asarray(values.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]"))
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        raise DataError(
            f"column {name!r} holds timestamps outside the years 1678 to 2261, which "
            "forecaster cannot represent; shift or remove those rows"
        ) from None


def _parse_text(text: pd.Series, aware: bool, order: str | None) -> pd.Series:
    """ISO 8601 first; then the format of the values themselves (day first if ``order`` says)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it guesses a format
        try:
            parsed = pd.to_datetime(text, errors="coerce", utc=aware, format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            parsed = pd.Series(pd.NaT, index=text.index)
        if not parsed.isna().any():
            return parsed
        dayfirst = order == "dmy"
        sample = text.dropna()
        guessed = (
            pd.tseries.api.guess_datetime_format(str(sample.iloc[0]), dayfirst=dayfirst)
            if len(sample)
            else None
        )
        candidates: list[pd.Series] = [parsed]
        for fmt in ([guessed] if guessed else []) + ["mixed"]:
            try:
                candidates.append(
                    pd.to_datetime(text, errors="coerce", utc=aware, format=fmt, dayfirst=dayfirst)
                )
            except (ValueError, TypeError, OverflowError):
                continue
            if not candidates[-1].isna().any():
                break
    return max(candidates, key=lambda c: int(c.notna().sum()))


# `_NUMERIC_DATE`'s shape without its backreference, which pyarrow's regular expressions
# lack: matched on every row at once, where `_NUMERIC_DATE` is matched row by row (16 s of
# the 25 s that read a 10^7-row CSV of ISO timestamps spent in `build_panel`).
_NUMERIC_DATE_SHAPE = r"^\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{2}|\d{4})(?:\D|$)"


def _mostly_not_numeric_dates(text: pd.Series) -> bool:
    """Whether fewer than half the values can be numeric dates, decided without matching
    `_NUMERIC_DATE` row by row; only for ASCII text, since pyarrow's \\d is ASCII digits."""
    if not isinstance(text.dtype, pd.StringDtype) or text.dtype.storage != "pyarrow":
        return False
    if not bool(text.str.isascii().all()):
        return False
    shaped = text.str.contains(_NUMERIC_DATE_SHAPE, regex=True).fillna(False)
    return bool(shaped.mean() < 0.5)


def _date_order(text: pd.Series, name: str, given: str | None) -> str | None:
    """The day/month order that numeric dates such as 01/02/2020 need, decided by the values.

    A first field above 12 proves day first, a second one month first; both is an error, and
    so is neither (unless the user or the model says which).
    """
    if _mostly_not_numeric_dates(text):
        return None
    parts = text.str.extract(_NUMERIC_DATE)
    numeric = parts[0].notna()
    if not numeric.any() or numeric.mean() < 0.5:
        return None
    first = parts.loc[numeric, 0].astype(int).to_numpy()
    second = parts.loc[numeric, 2].astype(int).to_numpy()
    shown = text[numeric]
    day_first = first > 12
    month_first = second > 12
    if day_first.any() and month_first.any():
        raise DataError(
            f"column {name!r} mixes day-first dates ({shown[day_first].iloc[0]!r}) with "
            f"month-first ones ({shown[month_first].iloc[0]!r}); write them one way, "
            "preferably as ISO dates (2020-02-01)"
        )
    found = "dmy" if day_first.any() else "mdy" if month_first.any() else None
    if found is not None and given is not None and found != given:
        example = shown[day_first if found == "dmy" else month_first].iloc[0]
        said = "--dayfirst" if given == "dmy" else "--monthfirst"
        raise DataError(
            f"column {name!r}: {example!r} cannot be read {_order_words(given)}, as "
            f"{said} (or the model) says; check the dates or the flag"
        )
    if found is None and given is None:
        raise DataError(
            f"column {name!r}: dates such as {shown.iloc[0]!r} could be day first or month "
            "first, and no value decides it; write ISO dates (2020-02-01), or give "
            "--dayfirst or --monthfirst"
        )
    return found or given


def _order_words(order: str) -> str:
    return "day first" if order == "dmy" else "month first"


def _offset_minutes(text: pd.Series) -> np.ndarray:
    parts = text.astype(object).str.extract(_OFFSET_PARTS)
    zulu = (parts[0] == "Z").fillna(False)
    sign = np.where((parts[1] == "-").fillna(False).to_numpy(dtype=bool), -1, 1)
    hours = pd.to_numeric(parts[2], errors="coerce").fillna(0).to_numpy()
    minutes = pd.to_numeric(parts[3], errors="coerce").fillna(0).to_numpy()
    out = sign * (hours * 60 + minutes)
    return np.where(zulu.to_numpy(dtype=bool), 0, out).astype(np.int64)


# ---------------------------------------------------------------------------------------
# Zones


def fixed_zone(minutes: int) -> str:
    """An offset as a zone name: "+00:00", "-08:00", "+05:30"."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(int(minutes)), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def zone_object(zone: str) -> dt.tzinfo:
    """A zone name (fixed "+HH:MM" or IANA) as a tzinfo."""
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", zone)
    if match:
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        return dt.timezone(dt.timedelta(minutes=-minutes if match.group(1) == "-" else minutes))
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"unknown time zone {zone!r} ({exc})") from None


def find_zone(utc: np.ndarray, offsets: np.ndarray) -> str | None:
    """A zone explaining every (instant, offset) pair: the single offset, or an IANA zone."""
    distinct = np.unique(offsets)
    if len(distinct) == 1:
        return fixed_zone(int(distinct[0]))
    order = np.argsort(utc, kind="stable")
    utc, offsets = utc[order], offsets[order]
    changes = np.flatnonzero(np.diff(offsets) != 0)
    picks = np.unique(
        np.concatenate(
            [
                [0, len(utc) - 1],
                changes,
                changes + 1,
                np.linspace(0, len(utc) - 1, min(len(utc), 200)).astype(np.int64),
            ]
        )
    )
    instants = pd.DatetimeIndex(utc[picks]).tz_localize("UTC")
    wanted = offsets[picks]
    first = instants[0].to_pydatetime()
    first_offset = dt.timedelta(minutes=int(wanted[0]))
    for name in _candidate_zones():
        zone = zoneinfo.ZoneInfo(name)
        if first.astimezone(zone).utcoffset() != first_offset:
            continue
        local = instants.tz_convert(name).tz_localize(None)
        got = (local - instants.tz_localize(None)) // pd.Timedelta(minutes=1)
        if np.array_equal(np.asarray(got, dtype=np.int64), wanted):
            return name
    return None


@functools.cache
def _candidate_zones() -> tuple[str, ...]:
    try:
        every = zoneinfo.available_timezones()
    except Exception:  # no time-zone database on this machine
        every = set()
    canonical = sorted(z for z in every if z.split("/")[0] in _REGIONS and "/" in z)
    preferred = [z for z in _PREFERRED_ZONES if z in every]
    return tuple(dict.fromkeys(preferred + canonical))


def local_wall_times(utc: np.ndarray, zone: str) -> np.ndarray:
    """UTC instants (naive datetime64[ns]) as the zone's wall-clock times (naive)."""
    index = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(zone_object(zone))
    return np.asarray(index.tz_localize(None).to_numpy(dtype="datetime64[ns]"))


def aware_times(
    naive: pd.DatetimeIndex | np.ndarray, zone: str, utc_grid: bool
) -> pd.DatetimeIndex:
    """Timestamps of the internal grid (naive) as aware timestamps in the input's zone."""
    index = pd.DatetimeIndex(naive)
    tz = zone_object(zone)
    if utc_grid:
        return index.tz_localize("UTC").tz_convert(tz)
    return index.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
