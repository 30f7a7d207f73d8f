"""Parquet in and out: the same data gives the same model and forecasts as its CSV."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecaster.data import load_panel
from forecaster.errors import DataError
from tests.conftest import FAST, invoke, long_frame, run_forecaster, seasonal_frame


def forecasts(args: list[str]) -> pd.DataFrame:
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout))


def train(data: Path, model: Path) -> None:
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def long_data(tmp_path: Path) -> tuple[pd.DataFrame, Path, Path]:
    frame = long_frame()
    frame["ds"] = pd.to_datetime(frame["ds"])
    csv, parquet = tmp_path / "long.csv", tmp_path / "long.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return frame, csv, parquet


def test_parquet_trains_and_forecasts_as_its_csv(
    long_data: tuple[pd.DataFrame, Path, Path], tmp_path: Path
) -> None:
    _, csv, parquet = long_data
    train(csv, tmp_path / "csv.fcst")
    train(parquet, tmp_path / "parquet.fcst")
    a = forecasts(["predict", "-m", str(tmp_path / "csv.fcst")])
    b = forecasts(["predict", "-m", str(tmp_path / "parquet.fcst")])
    pd.testing.assert_frame_equal(a, b)
    from_data = forecasts(["predict", "-m", str(tmp_path / "csv.fcst"), str(parquet)])
    pd.testing.assert_frame_equal(a, from_data)


def test_a_directory_of_parquet_files_is_one_data_set(
    long_data: tuple[pd.DataFrame, Path, Path], tmp_path: Path
) -> None:
    frame, csv, _ = long_data
    parts = tmp_path / "parts"
    parts.mkdir()
    for k, (_, part) in enumerate(frame.groupby("unique_id")):
        part.to_parquet(parts / f"part-{k}.parquet", index=False)
    train(csv, tmp_path / "m.fcst")
    whole = forecasts(["predict", "-m", str(tmp_path / "m.fcst"), str(csv)])
    from_parts = forecasts(["predict", "-m", str(tmp_path / "m.fcst"), str(parts)])
    pd.testing.assert_frame_equal(whole, from_parts)


def test_parquet_on_standard_input(
    long_data: tuple[pd.DataFrame, Path, Path], tmp_path: Path
) -> None:
    _, csv, parquet = long_data
    train(csv, tmp_path / "m.fcst")
    result = run_forecaster(["predict", "-m", str(tmp_path / "m.fcst"), "-"],
                            input=parquet.read_bytes())  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = forecasts(["predict", "-m", str(tmp_path / "m.fcst"), str(csv)])
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(result.stdout)), expected)


def test_ids_keep_their_text_and_integer_ids_become_text(tmp_path: Path) -> None:
    frame = long_frame((120, 120))
    frame["unique_id"] = frame["unique_id"].map({"s0": "01", "s1": "1"})
    frame.to_parquet(tmp_path / "text.parquet", index=False)
    train(tmp_path / "text.parquet", tmp_path / "m.fcst")
    text = invoke(["predict", "-m", str(tmp_path / "m.fcst")]).stdout
    assert set(pd.read_csv(io.StringIO(text), dtype={"unique_id": str})["unique_id"]) == {"01", "1"}
    numbers = long_frame((120, 120))
    numbers["unique_id"] = numbers["unique_id"].map({"s0": 7, "s1": 8})
    numbers.to_parquet(tmp_path / "ints.parquet", index=False)
    train(tmp_path / "ints.parquet", tmp_path / "ints.fcst")
    out = pd.read_csv(io.StringIO(invoke(["predict", "-m", str(tmp_path / "ints.fcst")]).stdout),
                      dtype={"unique_id": str})  # fmt: skip
    assert set(out["unique_id"]) == {"7", "8"}


def test_zone_aware_timestamps_keep_their_zone(tmp_path: Path) -> None:
    frame = seasonal_frame(300, freq="h", period=24)
    frame["date"] = frame["date"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    frame.to_parquet(tmp_path / "berlin.parquet", index=False)
    csv = tmp_path / "berlin.csv"
    frame.assign(date=frame["date"].map(lambda t: t.isoformat(sep=" "))).to_csv(csv, index=False)
    train(tmp_path / "berlin.parquet", tmp_path / "p.fcst")
    train(csv, tmp_path / "c.fcst")
    a = forecasts(["predict", "-m", str(tmp_path / "p.fcst")])
    b = forecasts(["predict", "-m", str(tmp_path / "c.fcst")])
    # The same forecasts; the CSV's spelling (a space before the time) is the CSV's own.
    pd.testing.assert_frame_equal(a.drop(columns="date"), b.drop(columns="date"))
    assert (pd.to_datetime(a["date"], utc=True) == pd.to_datetime(b["date"], utc=True)).all()
    assert b["date"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:00:00\+0[12]:00").all()
    out = tmp_path / "forecast.parquet"
    assert invoke(["predict", "-m", str(tmp_path / "p.fcst"), "-o", str(out)]).exit_code == 0
    back = pd.read_parquet(out)
    assert back["date"].dt.tz is not None
    assert list(back["date"].map(lambda t: t.isoformat())) == list(a["date"])


def test_predict_and_evaluate_write_parquet(
    long_data: tuple[pd.DataFrame, Path, Path], tmp_path: Path
) -> None:
    _, csv, _ = long_data
    train(csv, tmp_path / "m.fcst")
    out = tmp_path / "forecast.parquet"
    args = ["predict", "-m", str(tmp_path / "m.fcst"), "--level", "80"]
    assert invoke([*args, "-o", str(out)]).exit_code == 0
    back = pd.read_parquet(out)
    as_csv = forecasts(args)
    assert list(back.columns) == list(as_csv.columns)
    assert pd.api.types.is_datetime64_any_dtype(back["ds"])
    assert back["y"].round(4).tolist() == as_csv["y"].round(4).tolist()
    report, steps = tmp_path / "report.parquet", tmp_path / "steps.parquet"
    result = invoke(["evaluate", "-m", str(tmp_path / "m.fcst"), str(csv), "-o", str(report),
                     "--forecasts", str(steps), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = pd.read_parquet(report)
    assert {"target", "method", "mase", "coverage_80"} <= set(rows.columns)
    assert set(rows["method"]) == {"model", "naive", "seasonal_naive"}
    assert {"actual", "model", "seasonal_naive"} <= set(pd.read_parquet(steps).columns)


@pytest.mark.parametrize("kind", ["truncated", "empty directory", "repeated column"])
def test_unreadable_parquet_is_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "truncated":
        bad = tmp_path / "bad.parquet"
        seasonal_frame().to_parquet(bad)
        bad.write_bytes(bad.read_bytes()[:100])
        phrase = "cannot read"
    elif kind == "repeated column":
        import pyarrow as pa
        import pyarrow.parquet as pq

        bad = tmp_path / "twice.parquet"
        frame = seasonal_frame()
        columns = [pa.array(frame["date"]), pa.array(frame["value"]), pa.array(frame["value"])]
        pq.write_table(pa.table(columns, names=["date", "value", "value"]), bad)
        phrase = "more than one column named 'value'"
    else:
        bad = tmp_path / "nothing"
        bad.mkdir()
        phrase = "without Parquet files"
    result = invoke(["train", str(bad), "-o", str(tmp_path / "m.fcst"), *FAST])
    assert result.exit_code == 3
    assert phrase in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.fcst").exists()


@st.composite
def messy_long_panels(draw: st.DrawFn) -> pd.DataFrame:
    """A few series with gaps, ids that differ only in spaces, rows in any order."""
    frames = []
    start = pd.Timestamp("2024-01-01")
    for s in range(draw(st.integers(1, 4))):
        n = draw(st.integers(3, 30))
        stamps = pd.date_range(start, periods=n, freq="h")
        keep = np.ones(n, dtype=bool)
        keep[1:-1] = draw(st.lists(st.booleans(), min_size=n - 2, max_size=n - 2))
        spelled = st.sampled_from([f"s{s}", f" s{s}", f"s{s} "])  # one series however spaced
        names = draw(st.lists(spelled, min_size=n, max_size=n))
        values = draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n))
        frames.append(pd.DataFrame({"unique_id": names, "ds": stamps, "y": values})[keep])
    frame = pd.concat(frames, ignore_index=True)
    order = draw(st.permutations(range(len(frame))))
    return frame.iloc[list(order)].reset_index(drop=True)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=messy_long_panels(), unit=st.sampled_from(["s", "ms", "us", "ns"]),
       dictionary=st.booleans(),
       zone=st.sampled_from([None, "UTC", "+05:30", "Europe/Berlin"]))  # fmt: skip
def test_parquet_and_csv_of_the_same_rows_give_the_same_panel(
    tmp_path: Path, frame: pd.DataFrame, unit: str, dictionary: bool, zone: str | None
) -> None:
    """The typed, dictionary-encoded Parquet path against the text path of a CSV (whose
    zone-aware timestamps are written with their offsets)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if zone is not None:  # local wall times in March, across Berlin's change to summer time
        frame = frame.assign(ds=(frame["ds"] + pd.Timedelta("83D")).dt.tz_localize(
            "UTC").dt.tz_convert(zone))  # fmt: skip
    csv, parquet = tmp_path / "rows.csv", tmp_path / "rows.parquet"
    frame.to_csv(csv, index=False)
    typed = frame["ds"].astype(f"datetime64[{unit}, {zone}]" if zone else f"datetime64[{unit}]")
    table = pa.Table.from_pandas(frame.assign(ds=typed), preserve_index=False)
    if dictionary:
        table = table.set_column(0, "unique_id", table.column("unique_id").dictionary_encode())
    pq.write_table(table, parquet, row_group_size=7)  # several row groups, several dictionaries
    try:
        b = load_panel(csv)
    except DataError as exc:  # e.g. gaps that leave no frequency: the same words for both
        with pytest.raises(DataError) as refused:
            load_panel(parquet)
        assert str(refused.value) == str(exc).replace(str(csv), str(parquet))
        return
    a = load_panel(parquet)
    assert a.schema.zone == b.schema.zone and a.schema.utc_grid == b.schema.utc_grid
    assert a.ids == b.ids
    assert a.starts == b.starts and a.freq == b.freq
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12)  # the CSV rounds to 17 digits
    assert a.notes == b.notes
    if a.freq != "h" or zone is not None:
        return
    # Against pandas: ids stripped, rows sorted, the hourly grid, gaps interpolated.
    expected = {}
    for name, part in frame.assign(unique_id=frame["unique_id"].str.strip()).groupby("unique_id"):
        series = part.sort_values("ds").set_index("ds")["y"]
        grid = pd.date_range(series.index[0], series.index[-1], freq="h")
        expected[name] = series.reindex(grid).interpolate().to_numpy()
    assert a.ids == sorted(expected)
    for i, name in enumerate(a.ids):
        np.testing.assert_allclose(a.series(i)[:, 0], expected[name], rtol=1e-9, atol=1e-6)


def test_empty_parquet_timestamp_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    frame = seasonal_frame(60)
    frame.loc[5, "date"] = pd.NaT
    frame.to_parquet(tmp_path / "gap.parquet", index=False)
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(tmp_path / "gap.parquet"), "-o", str(model), *FAST])
    assert result.exit_code == 3
    assert "'date': 1 value(s) are empty, first at row(s) 7" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not model.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["gap.parquet"]


def test_parquet_dates_are_daily_data(tmp_path: Path) -> None:
    frame = seasonal_frame(120, freq="D", period=7)
    frame["date"] = frame["date"].dt.date  # a date32 column
    frame.to_parquet(tmp_path / "days.parquet", index=False)
    panel = load_panel(tmp_path / "days.parquet")
    assert panel.freq == "D" and panel.starts[0] == pd.Timestamp(frame["date"][0])


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_timestamps_beyond_2262_are_refused_not_wrapped(tmp_path: Path, kind: str) -> None:
    """Microsecond timestamps of 2300 once became 1715 on the way to nanoseconds."""
    frame = pd.DataFrame(
        {"date": pd.date_range("2299-12-01", periods=60, freq="D").as_unit("us"), "v": 1.0}
    )
    data = tmp_path / f"far.{kind}"
    frame.to_csv(data, index=False) if kind == "csv" else frame.to_parquet(data, index=False)
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), *FAST])
    assert result.exit_code == 3, result.stderr
    assert "outside the years 1678 to 2261" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not model.exists()


def test_a_date_typed_id_stays_its_date_text(tmp_path: Path) -> None:
    frame = long_frame((60, 60))
    frame["unique_id"] = frame["unique_id"].map(
        {"s0": pd.Timestamp("2020-01-01").date(), "s1": pd.Timestamp("2021-06-30").date()}
    )
    frame.to_parquet(tmp_path / "dated.parquet", index=False)
    assert load_panel(tmp_path / "dated.parquet").ids == ["2020-01-01", "2021-06-30"]
