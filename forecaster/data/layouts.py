"""How an input spelled its ISO timestamps, so that forecasts are spelled the same way.

A forecast is joined back onto the user's data by its time column, often as text (``join``,
a spreadsheet lookup, a merge on strings). ``2022-01-21 00:00`` read and written back as
``2022-01-21 00:00:00``, ``...Z`` as ``...+00:00`` or ``1980-01`` as ``1980-01-01`` name the
same instants and still match nothing. Years, quarters and month names keep their spelling
through `forms`; this is the same promise for ISO 8601 timestamps.

A *layout* is a strftime pattern of the date and time parts (``%Y-%m``, ``%Y-%m-%d
%H:%M``, ``%Y-%m-%dT%H:%M:%S.%f``; ``%3f`` for milliseconds) followed, for timestamps
with offsets, by one of `OFFSETS`: ``Z``, ``%:z`` (``+01:00``) or ``%z`` (``+0100``). It
is decided on the first values of the column, kept only when all of those share it, and
stored in the model only where the default spelling (`output.format_times`) would differ.
A forecast is written in it only when the text reads back as the same instants: a layout
never drops a part of a timestamp the forecast needs (a month layout cannot spell a day
that is not the first).

Dates that are not ISO (``31/01/2020``, ``01.31.2020 10:00``, ``31-Jan-2020``, ``20200131``)
keep their spelling too: the format pandas finds for the first value, in the day/month
order the values were read in (`times`), kept only when it reads every sampled value as
that order does and writes each back exactly as it stands. Where pandas names no format, or
one that writes zeros the input left out, numeric dates and times are spelled from their
parts (`_spelled_layout`): days, months and hours without a leading zero (``%-d``, ``%-m``,
``%-H``, ``%-I``, as glibc's strftime writes them), two-digit years and a 12-hour clock
(``1/31/20``, ``2020-01-31 10:00 PM``, ``31.1.2020 9:05``), under the same check.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

# Date, then optional time and fraction, then an optional offset; every separator kept.
_ISO = re.compile(
    r"^(?P<year>\d{4})(?P<dsep>[-/])(?P<month>\d{2})(?:(?P=dsep)(?P<day>\d{2}))?"
    r"(?:(?P<tsep>[ T])(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?)?)?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2}|[+-]\d{4})?$"
)
OFFSETS = ("Z", "%:z", "%z")
# What `output.format_times` writes without a layout: dates alone where every forecast is
# at midnight, else date and seconds; with offsets, a T and +HH:MM.
DEFAULT_NAIVE = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")
DEFAULT_AWARE = "%Y-%m-%dT%H:%M:%S%:z"
SAMPLE = 50


# The parts and separators a layout of other dates may hold (no zone: those are ISO here).
_OTHER_PARTS = re.compile(r"%-?[dmHI]|%[YybBMSp]|[ /.,:\-T]")
# Numeric dates and times pandas may name no format for: a date of three numbers (a year of
# 4 or 2 digits last, or of 4 first), then perhaps a time of 1-2 digit hours and an AM/PM.
_NUMERIC = re.compile(
    r"^(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})"
    r"(?:(?P<tsep>[ T])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"(?:(?P<psep> ?)(?P<ampm>AM|PM))?)?$"
)
# Left out: a leading zero (strftime's %-d); written through this mark, then taken out.
_UNPADDED = "\x1f"


def detect_layout(column: pd.Series, date_order: str | None = None) -> str | None:
    """The layout every one of the column's first `SAMPLE` values is written in, when it
    differs from the default spelling; None otherwise (the default then spells them).
    ``date_order`` ("dmy", "mdy" or None): how the values' numeric dates were read."""
    if pd.api.types.is_integer_dtype(column):  # 20200131 read as a number: a date's digits
        sample = column.dropna().head(SAMPLE).astype(str)
        return _other_layout(sample, date_order) if len(sample) else None
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return None  # datetimes (Parquet) and other numbers have no spelling of their own
    sample = column.dropna().head(SAMPLE).astype(str).str.strip()
    layouts = {_layout(value) for value in sample}
    if layouts == {None} and len(sample):
        return _other_layout(sample, date_order)
    if len(layouts) != 1:
        return None
    layout = layouts.pop()
    if layout is None or layout == DEFAULT_AWARE:
        return None
    if layout == DEFAULT_NAIVE[1]:
        # The default writes dates alone where every time is midnight: the layout is
        # needed only for a column that wrote midnights out in full.
        return layout if sample.str.endswith(" 00:00:00").all() else None
    return None if layout == DEFAULT_NAIVE[0] else layout


def _layout(value: str) -> str | None:
    match = _ISO.match(value)
    if match is None:
        return None
    sep = match["dsep"]
    layout = f"%Y{sep}%m" + (f"{sep}%d" if match["day"] else "")
    if match["hour"] is not None:
        layout += f"{match['tsep']}%H:%M"
        if match["second"] is not None:
            layout += ":%S"
            if match["fraction"] is not None:
                digits = len(match["fraction"])
                if digits not in (3, 6):
                    return None
                layout += ".%f" if digits == 6 else ".%3f"  # micro- or milliseconds
    offset = match["offset"]
    if offset is not None:
        layout += "Z" if offset == "Z" else "%:z" if ":" in offset else "%z"
    return layout


def _other_layout(sample: pd.Series, date_order: str | None) -> str | None:
    """The layout of dates that are not ISO, or None (`detect_layout`)."""
    guessed = guess_datetime_format(str(sample.iloc[0]), dayfirst=date_order == "dmy")
    for layout in (guessed, _spelled_layout(sample, date_order)):
        if layout is not None and _writes_back(sample, layout, date_order):
            return layout
    return None


def _writes_back(sample: pd.Series, layout: str, date_order: str | None) -> bool:
    """Whether ``layout`` is one of other dates, in ``date_order``, that reads every sampled
    value and writes each back exactly as it stands."""
    if not _other(layout) or _order(layout) != date_order:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = pd.to_datetime(sample, format=_padded(layout), errors="coerce")
    if read.isna().any():
        return False
    return bool((_strftime(read, layout) == sample).all())


def _spelled_layout(sample: pd.Series, date_order: str | None) -> str | None:
    """A layout built from the parts of numeric dates such as ``1/31/20 9:05 PM`` (in
    ``date_order``); None when the sampled values are not all such dates.

    A day, month or hour is written without its leading zero when a sampled value shows it
    so (``1``), with it when one shows ``01``; one the sample cannot tell (days 10 to 31
    alone) follows the other parts, as writers pad all of them or none."""
    matches = [_NUMERIC.match(value) for value in sample]
    if not matches or any(m is None for m in matches):
        return None
    found = [m for m in matches if m is not None]
    first = found[0]

    def padding(part: str) -> bool | None:
        seen = [m[part] for m in found if m[part]]
        if any(len(text) == 1 for text in seen):
            return False
        return True if any(len(text) == 2 and text[0] == "0" for text in seen) else None

    sep = first["sep"]
    if len(first["a"]) == 4:
        fields = [("a", "%Y"), ("b", "%m"), ("c", "%d")]
    elif date_order in ("mdy", "dmy") and len(first["c"]) in (2, 4):
        day, month = ("a", "b") if date_order == "dmy" else ("b", "a")
        year = "%Y" if len(first["c"]) == 4 else "%y"
        fields = sorted([(day, "%d"), (month, "%m"), ("c", year)])
    else:
        return None
    told = {part: padding(part) for part, token in fields if token in ("%d", "%m")}
    dates = next((value for value in told.values() if value is not None), True)
    pads = {part: dates if value is None else value for part, value in told.items()}
    hour = padding("hour")
    pads["hour"] = (dates if first["ampm"] else True) if hour is None else hour
    spell = lambda part, token: token if pads.get(part, True) else token.replace("%", "%-")  # noqa: E731
    layout = sep.join(spell(part, token) for part, token in fields)
    if first["hour"] is not None:
        layout += f"{first['tsep']}{spell('hour', '%I' if first['ampm'] else '%H')}:%M"
        layout += ":%S" if first["second"] is not None else ""
        layout += f"{first['psep']}%p" if first["ampm"] else ""
    return layout


def _padded(layout: str) -> str:
    """``layout`` as strptime reads it (which takes ``1`` for ``%m`` as it takes ``01``)."""
    return layout.replace("%-", "%")


def _strftime(values: pd.Series, layout: str) -> pd.Series:
    """``values`` written in ``layout``, its ``%-`` parts without their leading zero (what
    glibc's strftime does, written here so that it does not depend on the C library)."""
    text = values.dt.strftime(layout.replace("%-", _UNPADDED + "%"))
    return text.str.replace(_UNPADDED + "0?", "", regex=True) if "%-" in layout else text


def _other(layout: str) -> bool:
    """Whether ``layout`` is made of `_OTHER_PARTS` alone, with a year and not one of the
    ISO layouts `_layout` writes."""
    return (
        _OTHER_PARTS.sub("", layout) == ""
        and ("%Y" in layout or "%y" in layout)
        and not _iso_spelled(layout)
    )


def _order(layout: str) -> str | None:
    """The day/month order a layout's numeric day and month need ("dmy", "mdy"), as
    `times` decides it for the values; None where there is nothing to decide."""
    layout = _padded(layout)
    if "%d" not in layout or "%m" not in layout or layout.startswith(("%Y", "%y")):
        return None
    return "dmy" if layout.index("%d") < layout.index("%m") else "mdy"


def _is_iso(layout: str) -> bool:
    return re.match(r"%Y[-/]%m", layout) is not None


def _iso_spelled(layout: str) -> bool:
    """Whether ``layout`` is one `_layout` writes: ISO's shape, read back as ISO 8601 (a
    12-hour clock or a part without its leading zero is not)."""
    return _is_iso(layout) and "%p" not in layout and "%-" not in layout


def known_layout(layout: object) -> bool:
    """Whether a stored layout is one `detect_layout` writes (a model file's check)."""
    if not isinstance(layout, str):
        return False
    probe = pd.Timestamp("2001-02-01 04:05:06.000007", tz="UTC")
    probes = pd.Series([probe if _has_offset(layout) else probe.tz_localize(None)])
    written = format_layout(probes.dt.floor(_finest(layout)), layout)
    if written is None:
        return False
    if _other(layout):
        return True  # written and read back as the same instant by format_layout
    return _layout(str(written.iloc[0])) == layout


def _finest(layout: str) -> str:
    """The finest unit a layout spells, as a pandas frequency (to round a probe to it)."""
    layout = _padded(layout)
    for token, unit in (
        ("%f", "us"),
        ("%3f", "ms"),
        ("%S", "s"),
        ("%M", "min"),
        ("%H", "h"),
        ("%I", "h"),
        ("%d", "D"),
    ):
        if token in layout:
            return unit
    return "D"


def _has_offset(layout: str) -> bool:
    return layout.endswith(OFFSETS)


def format_layout(values: pd.Series, layout: str) -> pd.Series | None:
    """``values`` (datetimes, with a zone where the layout has an offset) spelled in
    ``layout``; None when the text would not read back as the same instants."""
    aware = getattr(values.dt, "tz", None) is not None
    if aware != _has_offset(layout):
        return None
    offset = next((o for o in OFFSETS if layout.endswith(o)), "")
    pattern = layout.removesuffix(offset).replace("%3f", "%f")
    text = _strftime(values, pattern) if len(values) else values.astype(str)
    if "%3f" in layout:  # strftime writes microseconds: keep the milliseconds
        text = text.str.replace(r"(\.\d{3})\d{3}", r"\1", regex=True)
    if offset == "Z":  # right only for times at UTC: the read-back below checks it
        text = text + "Z"
    elif offset:
        zones = values.dt.strftime("%z")
        if offset == "%:z":
            zones = zones.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True)
        text = text + zones
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            iso = _iso_spelled(layout)
            back = pd.to_datetime(text, format="ISO8601" if iso else _padded(pattern), utc=aware)
    except (ValueError, TypeError):
        return None
    same = _instants(back) == _instants(values)
    return text if bool(np.all(same)) else None


def _instants(values: pd.Series) -> np.ndarray:
    """Naive datetime64 values: UTC instants for zoned ones, wall times otherwise."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(values.to_numpy(dtype="datetime64[ns]"))
