"""ISO timestamps are written back as the input spelled them (`data.layouts`).

``1980-01``, ``2022-01-21 00:15``, ``...Z``, ``+0100``, a daily column written with
``00:00:00`` and milliseconds come back in the forecast with the same spelling, so that it
joins onto the user's data as text; spellings forecaster writes anyway store nothing in the
model file (files stay as they were), and a spelling that cannot hold a forecast's time is
never used for it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.artifact.safe import read_parts
from forecaster.data.layouts import detect_layout, format_layout, known_layout
from forecaster.output import format_times
from tests.conftest import FAST, invoke
from tests.test_model_tamper import put, tamper

HORIZON = ["--horizon", "3"]


def values(n: int) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(0)
    return np.round(50 + 10 * np.sin(2 * np.pi * t / 7) + 0.1 * t + rng.standard_normal(n), 3)


@dataclass
class Spelling:
    id: str
    times: list[str]  # the time column as the user wrote it
    expected: list[str]  # the first three forecast times, spelled the same way
    layout: str | None  # what the model stores (None: forecaster's own spelling)


def spelled(index: pd.DatetimeIndex, pattern: str) -> list[str]:
    return [str(t) for t in index.strftime(pattern)]


MONTHS = pd.date_range("1990-01-01", periods=60, freq="MS")
QUARTER_HOURS = pd.date_range("2022-01-01", periods=200, freq="15min")
HOURS_UTC = pd.date_range("2021-01-01", periods=100, freq="h", tz="UTC")
DAYS = pd.date_range("2020-01-01", periods=80, freq="D")
SECONDS = pd.date_range("2021-01-01", periods=100, freq="s")

SPELLINGS = [
    Spelling("year-month", spelled(MONTHS, "%Y-%m"), ["1995-01", "1995-02", "1995-03"], "%Y-%m"),
    Spelling(
        "minutes without seconds",
        spelled(QUARTER_HOURS, "%Y-%m-%d %H:%M"),
        ["2022-01-03 02:00", "2022-01-03 02:15", "2022-01-03 02:30"],
        "%Y-%m-%d %H:%M",
    ),
    Spelling(
        "Z",
        spelled(HOURS_UTC, "%Y-%m-%dT%H:%M:%SZ"),
        ["2021-01-05T04:00:00Z", "2021-01-05T05:00:00Z", "2021-01-05T06:00:00Z"],
        "%Y-%m-%dT%H:%M:%SZ",
    ),
    Spelling(
        "offset without a colon",
        spelled(HOURS_UTC.tz_convert("+01:00"), "%Y-%m-%dT%H:%M:%S%z"),
        ["2021-01-05T05:00:00+0100", "2021-01-05T06:00:00+0100", "2021-01-05T07:00:00+0100"],
        "%Y-%m-%dT%H:%M:%S%z",
    ),
    Spelling(
        "T without an offset",
        spelled(HOURS_UTC.tz_localize(None), "%Y-%m-%dT%H:%M"),
        ["2021-01-05T04:00", "2021-01-05T05:00", "2021-01-05T06:00"],
        "%Y-%m-%dT%H:%M",
    ),
    Spelling(
        "midnights written out",
        spelled(DAYS, "%Y-%m-%d %H:%M:%S"),
        ["2020-03-21 00:00:00", "2020-03-22 00:00:00", "2020-03-23 00:00:00"],
        "%Y-%m-%d %H:%M:%S",
    ),
    Spelling(
        "milliseconds",
        [t[:-3] for t in spelled(SECONDS, "%Y-%m-%d %H:%M:%S.%f")],
        ["2021-01-01 00:01:40.000", "2021-01-01 00:01:41.000", "2021-01-01 00:01:42.000"],
        "%Y-%m-%d %H:%M:%S.%3f",
    ),
    Spelling(
        "slashes",
        spelled(DAYS, "%Y/%m/%d"),
        ["2020/03/21", "2020/03/22", "2020/03/23"],
        "%Y/%m/%d",
    ),
    # Dates that are not ISO, in the order the values decide (a first field above 12: day
    # first; a second one: month first).
    Spelling(
        "day first",
        spelled(DAYS, "%d/%m/%Y"),
        ["21/03/2020", "22/03/2020", "23/03/2020"],
        "%d/%m/%Y",
    ),
    Spelling(
        "month first with hyphens",
        spelled(DAYS, "%m-%d-%Y"),
        ["03-21-2020", "03-22-2020", "03-23-2020"],
        "%m-%d-%Y",
    ),
    Spelling(
        "month names",
        spelled(DAYS, "%d-%b-%Y"),
        ["21-Mar-2020", "22-Mar-2020", "23-Mar-2020"],
        "%d-%b-%Y",
    ),
    Spelling(
        "dotted, with the time",
        spelled(pd.date_range("2022-01-11", periods=100, freq="h"), "%d.%m.%Y %H:%M"),
        ["15.01.2022 04:00", "15.01.2022 05:00", "15.01.2022 06:00"],
        "%d.%m.%Y %H:%M",
    ),
    # Parts pandas names no format for: spelled from the parts, without the zeros the input
    # left out, with two-digit years and a 12-hour clock.
    Spelling(
        "month first without zeros, two-digit years",
        [f"{t.month}/{t.day}/{t.year % 100:02d}" for t in DAYS],
        ["3/21/20", "3/22/20", "3/23/20"],
        "%-m/%-d/%y",
    ),
    Spelling(
        "a 12-hour clock",
        spelled(pd.date_range("2022-01-11", periods=100, freq="h"), "%Y-%m-%d %I:%M %p"),
        ["2022-01-15 04:00 AM", "2022-01-15 05:00 AM", "2022-01-15 06:00 AM"],
        "%Y-%m-%d %I:%M %p",
    ),
    Spelling(
        "day first dotted without zeros, with the hour",
        [
            f"{t.day}.{t.month}.{t.year} {t.hour}:00"
            for t in pd.date_range("2022-01-11", periods=100, freq="h")
        ],
        ["15.1.2022 4:00", "15.1.2022 5:00", "15.1.2022 6:00"],
        "%-d.%-m.%Y %-H:%M",
    ),
    # forecaster's own spellings: nothing stored
    Spelling("dates", spelled(DAYS, "%Y-%m-%d"), ["2020-03-21", "2020-03-22", "2020-03-23"], None),
    Spelling(
        "seconds",
        spelled(QUARTER_HOURS, "%Y-%m-%d %H:%M:%S"),
        ["2022-01-03 02:00:00", "2022-01-03 02:15:00", "2022-01-03 02:30:00"],
        None,
    ),
    Spelling(
        "offset with a colon",
        [t.isoformat() for t in HOURS_UTC.tz_convert("-05:00")],
        ["2021-01-04T23:00:00-05:00", "2021-01-05T00:00:00-05:00", "2021-01-05T01:00:00-05:00"],
        None,
    ),
]


def first_times(text: str, column: str = "when") -> list[str]:
    return pd.read_csv(io.StringIO(text), dtype=str)[column].head(3).tolist()


@pytest.mark.parametrize("case", SPELLINGS, ids=[s.id for s in SPELLINGS])
def test_the_forecast_spells_its_times_as_the_input_did(case: Spelling, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    pd.DataFrame({"when": case.times, "y": values(len(case.times))}).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST])
    assert trained.exit_code == 0, trained.stderr
    assert artifact_io.load(model).schema.time_layout == case.layout
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described.get("time_layout") == case.layout
    for args in ([], [str(data)]):  # from the stored history, and from DATA
        predicted = invoke(["predict", "-m", str(model), *args])
        assert predicted.exit_code == 0, predicted.stderr
        assert first_times(predicted.stdout) == case.expected
    as_json = invoke(["predict", "-m", str(model), "--format", "json"])
    assert [row["when"] for row in json.loads(as_json.stdout)[:3]] == case.expected
    steps = tmp_path / "steps.csv"
    evaluated = invoke(["evaluate", "-m", str(model), str(data), "--forecasts", str(steps)])
    assert evaluated.exit_code == 0, evaluated.stderr
    written = pd.read_csv(steps, dtype=str)
    time_columns = [c for c in written.columns if c == "when"]
    assert time_columns and written["when"].isin(case.times).all()


def test_forecasters_own_spelling_leaves_the_model_file_as_it_was(tmp_path: Path) -> None:
    """No ``time_layout`` key where the default spells the input: files written before
    layouts existed and after are the same."""
    data = tmp_path / "data.csv"
    pd.DataFrame({"when": spelled(DAYS, "%Y-%m-%d"), "y": values(len(DAYS))}).to_csv(
        data, index=False
    )
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST]).exit_code == 0
    meta, _ = read_parts(model)
    assert "schema" in meta and "time_layout" not in meta["schema"]


def test_an_edited_layout_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    pd.DataFrame({"when": spelled(MONTHS, "%Y-%m"), "y": values(len(MONTHS))}).to_csv(
        data, index=False
    )
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST]).exit_code == 0
    for bad in ("%Q", 3, "%Y-%m-%d %H:%M:%S%"):
        edited = tmp_path / "edited.fcst"
        edited.write_bytes(tamper(model.read_bytes(), "new", meta=put("schema.time_layout", bad)))
        refused = invoke(["predict", "-m", str(edited)])
        assert refused.exit_code == 4  # a model file forecaster did not write
        assert "schema.time_layout" in refused.stderr


def test_a_layout_that_cannot_hold_the_time_is_not_used() -> None:
    """A month's spelling for a mid-month time, a Z for a time an hour east of UTC: the
    default spelling instead, which names the instant."""
    mid_month = pd.Series(pd.to_datetime(["1990-01-15", "1990-02-15"]))
    assert format_layout(mid_month, "%Y-%m") is None
    assert format_times(mid_month, "%Y-%m").tolist() == ["1990-01-15", "1990-02-15"]
    east = pd.Series(pd.date_range("2021-01-01", periods=2, freq="h", tz="+01:00"))
    assert format_layout(east, "%Y-%m-%dT%H:%M:%SZ") is None
    assert format_times(east, "%Y-%m-%dT%H:%M:%SZ").tolist() == [
        "2021-01-01T00:00:00+01:00",
        "2021-01-01T01:00:00+01:00",
    ]
    sub_millisecond = pd.Series(pd.date_range("2021-01-01", periods=2, freq="250us"))
    assert format_layout(sub_millisecond, "%Y-%m-%d %H:%M:%S.%3f") is None


def test_a_date_ending_in_its_year_is_not_taken_for_a_utc_offset(tmp_path: Path) -> None:
    """``31-01-2020`` ends like an offset of -20:20: it was read as one, and the forecast
    came back as ``2020-01-31T00:00:00+00:00`` with a zone the input never had."""
    data = tmp_path / "data.csv"
    pd.DataFrame({"when": spelled(DAYS, "%d-%m-%Y"), "y": values(len(DAYS))}).to_csv(
        data, index=False
    )
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST]).exit_code == 0
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["time_zone"] is None and described["freq"] == "D"
    assert first_times(invoke(["predict", "-m", str(model)]).stdout) == [
        "21-03-2020", "22-03-2020", "23-03-2020"]  # fmt: skip


def test_dates_as_integers_come_back_as_integers(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    digits = [int(t) for t in spelled(DAYS, "%Y%m%d")]
    pd.DataFrame({"when": digits, "y": values(len(DAYS))}).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    args = ["train", str(data), "--time", "when", "-o", str(model), *HORIZON, *FAST]
    assert invoke(args).exit_code == 0
    assert artifact_io.load(model).schema.time_layout == "%Y%m%d"
    out = invoke(["predict", "-m", str(model), "--format", "json"])
    assert [row["when"] for row in json.loads(out.stdout)[:2]] == ["20200321", "20200322"]


def test_a_layout_in_the_other_day_month_order_is_not_used() -> None:
    """Both orders write their own reading back unchanged; only the order the values were
    read in may spell the forecast (else 01/02 would come back as the 2nd of January)."""
    text = pd.Series(spelled(DAYS, "%d/%m/%Y"))
    assert detect_layout(text, "dmy") == "%d/%m/%Y"
    assert detect_layout(text, "mdy") is None
    assert detect_layout(text) is None
    unpadded = pd.Series(["1/31/20", "2/1/20"])
    assert detect_layout(unpadded, "mdy") == "%-m/%-d/%y"
    assert detect_layout(unpadded, "dmy") is None  # 31 is no month


def test_mixed_spellings_keep_the_default() -> None:
    assert detect_layout(pd.Series(["2021-01-01", "2021-01-01 01:00"])) is None
    assert detect_layout(pd.Series(pd.date_range("2021-01-01", periods=3))) is None  # datetimes


_LAYOUTS = [
    "%Y-%m",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%3f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%dT%H:%M:%S%:z",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%b-%Y",
    "%Y%m%d",
    "%-m/%-d/%y",
    "%-d.%-m.%Y %-H:%M",
    "%Y-%m-%d %I:%M %p",
    "%-m/%-d/%Y %-I:%M:%S %p",
]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_LAYOUTS),
    st.sampled_from(["MS", "D", "h", "15min", "s", "10ms", "7us"]),
    st.integers(1, 30),
    st.integers(1700, 2150),
    st.sampled_from(["UTC", "+01:00", "-05:30", "Europe/Berlin"]),
)
def test_a_spelled_time_reads_back_as_the_same_instant(
    layout: str, freq: str, count: int, year: int, zone: str
) -> None:
    """Whatever the grid, a layout either spells every time exactly (read back, the same
    instants; detected again, the same layout) or is not used."""
    aware = layout.endswith(("Z", "%z", "%:z"))
    grid = pd.date_range(f"{year}-03-01", periods=count, freq=freq, tz=zone if aware else None)
    times = pd.Series(grid)
    text = format_layout(times, layout)
    assert known_layout(layout)
    if text is None:
        return
    iso = layout.startswith(("%Y-", "%Y/")) and "%p" not in layout
    back = pd.to_datetime(text, format="ISO8601" if iso else layout.replace("%-", "%"), utc=aware)
    expected = times.dt.tz_convert("UTC") if aware else times
    assert (back == expected).all()
    plain = layout.replace("%-", "%")
    order = "dmy" if plain.startswith(("%d/%m", "%d.%m")) else None
    order = "mdy" if plain.startswith("%m/%d") else order
    found = detect_layout(text, order)
    assert found == layout or found is None  # None: the default spells it the same
    if found is None:
        assert format_times(times).tolist() == text.tolist()
