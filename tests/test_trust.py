"""Paths that once gave a plausible, wrong answer without a word (issue: trust).

Each test failed on the code before the fix: forecasts in UTC without an offset, weekends
invented for business-day data, day-first dates read month first, a backtest scaled with
the actuals it scores, forecasts from padding, training that could not validate, and a
model that loses to naive, all silently.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FAST, invoke, long_frame, seasonal_frame

FAST_LOUD = FAST[:-1]  # the same, with warnings on stderr


def _series(n: int, period: int = 24, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 10 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.5, n)


def _train(data: Path, model: Path, *args: str, quiet: bool = True) -> str:
    result = invoke(["train", str(data), "-o", str(model), *args, *(FAST if quiet else FAST_LOUD)])
    assert result.exit_code == 0, result.stderr
    return result.stderr


# ---------------------------------------------------------------------------------------
# 1. Time zones: forecasts in the input's zone, with its offset


def test_a_fixed_offset_stays_the_forecasts_offset(tmp_path: Path) -> None:
    stamps = pd.date_range(end="2010-12-31 23:00", periods=400, freq="h")
    data = tmp_path / "pst.csv"
    text = [f"{t:%Y-%m-%dT%H:%M:%S}-08:00" for t in stamps]
    pd.DataFrame({"ts": text, "load": _series(400)}).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    _train(data, model, "--horizon", "6", "--lookback", "48")
    out = invoke(["predict", "-m", str(model)])
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert list(frame["ts"]) == [f"2011-01-01T0{h}:00:00-08:00" for h in range(6)]
    info = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert info["time_zone"] == "-08:00"


def test_offsets_that_change_with_daylight_saving_keep_the_zone(tmp_path: Path) -> None:
    """Hourly data across the autumn change, forecast across the spring one: the zone's
    rules, found from the offsets, give the forecasts' local times and offsets."""
    zone = "America/Los_Angeles"
    stamps = pd.date_range("2010-10-25", "2011-03-12 23:00", freq="h", tz=zone)
    data = tmp_path / "la.csv"
    frame = pd.DataFrame({"ts": [t.isoformat() for t in stamps], "load": _series(len(stamps))})
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    _train(data, model, "--horizon", "6", "--lookback", "48")
    out = pd.read_csv(io.StringIO(invoke(["predict", "-m", str(model)]).stdout))
    want = pd.date_range(stamps[-1].tz_convert("UTC"), periods=7, freq="h")[1:].tz_convert(zone)
    assert list(out["ts"]) == [t.isoformat() for t in want]
    # 02:00 does not exist on 2011-03-13: 01:00 in standard time, then 03:00 in daylight time
    assert list(out["ts"])[1:3] == ["2011-03-13T01:00:00-08:00", "2011-03-13T03:00:00-07:00"]
    info = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert info["time_zone"] == zone


def test_daily_data_at_local_midnight_forecasts_local_midnights(tmp_path: Path) -> None:
    stamps = pd.date_range("2021-01-01", periods=90, freq="D", tz="Europe/Berlin")
    data = tmp_path / "berlin.csv"
    frame = pd.DataFrame({"date": [t.isoformat() for t in stamps], "y": _series(90, 7)})
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    _train(data, model, "--horizon", "3", "--lookback", "14", "--holdout", "3")
    out = pd.read_csv(io.StringIO(invoke(["predict", "-m", str(model)]).stdout))
    # 2021-03-28 is the spring change: the offset moves from +01:00 to +02:00 at midnight
    assert list(out["date"]) == [
        "2021-03-29T00:00:00+02:00",
        "2021-03-30T00:00:00+02:00",
        "2021-03-31T00:00:00+02:00",
    ]
    steps = tmp_path / "steps.csv"
    result = invoke(["evaluate", "-m", str(model), str(data), "--forecasts", str(steps)])
    assert result.exit_code == 0, result.stderr
    assert list(pd.read_csv(steps)["date"]) == list(out["date"])


# ---------------------------------------------------------------------------------------
# 2. Business days


def test_weekday_only_data_is_business_daily(tmp_path: Path) -> None:
    days = pd.bdate_range("2023-01-02", periods=260)
    days = days.delete([40, 41, 120])  # three holidays: the only gaps
    data = tmp_path / "stocks.csv"
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": _series(len(days), 5)}).to_csv(
        data, index=False
    )
    model = tmp_path / "m.fcst"
    stderr = _train(data, model, "--horizon", "10", quiet=False)
    assert "inferred frequency 'B' (business days)" in stderr
    assert "filled 3 missing cell(s)" in stderr  # the holidays, not 100 weekend days
    out = pd.read_csv(io.StringIO(invoke(["predict", "-m", str(model)]).stdout))
    forecast_days = pd.to_datetime(out["date"])
    assert (forecast_days.dt.day_of_week < 5).all()
    assert list(forecast_days) == list(pd.bdate_range(days[-1], periods=11)[1:])


# ---------------------------------------------------------------------------------------
# 3. Day-first dates


def _dated(tmp_path: Path, fmt: str, n: int = 80, name: str = "d.csv") -> tuple[Path, pd.Series]:
    days = pd.date_range("2020-01-01", periods=n, freq="D")
    values = pd.Series(np.arange(n, dtype=float) * 1.5 + 10)
    path = tmp_path / name
    pd.DataFrame({"date": days.strftime(fmt), "value": values}).to_csv(path, index=False)
    return path, values


def test_day_first_dates_are_read_day_first(tmp_path: Path) -> None:
    from forecaster.data import load_panel

    path, values = _dated(tmp_path, "%d/%m/%Y")
    panel = load_panel(path)
    assert panel.starts == [pd.Timestamp("2020-01-01")] and panel.freq == "D"
    assert panel.series(0)[:, 0].tolist() == values.tolist()  # in order, nothing shuffled
    assert panel.schema.date_order == "dmy"


def test_month_first_dates_are_read_month_first(tmp_path: Path) -> None:
    from forecaster.data import load_panel

    path, values = _dated(tmp_path, "%m/%d/%Y")
    panel = load_panel(path)
    assert panel.series(0)[:, 0].tolist() == values.tolist()
    assert panel.schema.date_order == "mdy"


def test_dates_no_value_decides_are_refused_unless_told(tmp_path: Path) -> None:
    path, _ = _dated(tmp_path, "%d/%m/%Y", n=12)  # 01/01 ... 12/01: either order parses
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(path), "-o", str(model), "--horizon", "2", *FAST])
    assert result.exit_code == 3
    assert "could be day first or month first" in result.stderr
    assert "--dayfirst or --monthfirst" in result.stderr and not model.exists()
    told = invoke(["train", str(path), "-o", str(model), "--horizon", "2", "--dayfirst", *FAST])
    assert told.exit_code == 0, told.stderr
    # Fresh data that cannot decide is read the model's way.
    recent, _ = _dated(tmp_path, "%d/%m/%Y", n=12, name="recent.csv")
    out = invoke(["predict", "-m", str(model), str(recent)])
    assert out.exit_code == 0, out.stderr
    # The 13th of January, spelled as the input spells its dates (`data.layouts`).
    assert pd.read_csv(io.StringIO(out.stdout))["date"].iloc[0] == "13/01/2020"


def test_mixed_orders_and_a_contradicted_flag_are_refused(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("date,value\n13/01/2020,1\n01/14/2020,2\n" + "01/02/2020,3\n" * 3)
    result = invoke(["train", str(mixed), "-o", str(tmp_path / "m.fcst"), *FAST])
    assert result.exit_code == 3 and "mixes day-first dates" in result.stderr
    path, _ = _dated(tmp_path, "%d/%m/%Y")
    result = invoke(["train", str(path), "-o", str(tmp_path / "m.fcst"), "--monthfirst", *FAST])
    assert result.exit_code == 3 and "cannot be read month first" in result.stderr


# ---------------------------------------------------------------------------------------
# 4. No leakage: a window is scaled by the rows before it only


def test_a_new_series_is_not_scaled_with_the_actuals_it_is_scored_on(tmp_path: Path) -> None:
    train_data = tmp_path / "known.csv"
    long_frame().to_csv(train_data, index=False)
    model = tmp_path / "m.fcst"
    _train(train_data, model, "--horizon", "7")
    new = seasonal_frame(150, seed=9).rename(columns={"date": "ds", "value": "y"})
    new.insert(0, "unique_id", "new")
    changed = new.copy()
    changed.loc[changed.index[-7:], "y"] *= 10  # only the scored actuals differ
    outputs = []
    for frame, name in ((new, "a"), (changed, "b")):
        data, steps = tmp_path / f"{name}.csv", tmp_path / f"{name}-steps.csv"
        frame.to_csv(data, index=False)
        result = invoke(["evaluate", "-m", str(model), str(data), "--forecasts", str(steps)])
        assert result.exit_code == 0, result.stderr
        assert "not seen in training" in result.stderr
        outputs.append(pd.read_csv(steps))
    assert outputs[0]["model"].tolist() == outputs[1]["model"].tolist()
    assert outputs[0]["actual"].tolist() != outputs[1]["actual"].tolist()


# ---------------------------------------------------------------------------------------
# 5. Short context at predict


@pytest.fixture(scope="module")
def weekly_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Daily data, lookback 56 (8 weeks): a season is 7 rows."""
    directory = tmp_path_factory.mktemp("short")
    data = directory / "d.csv"
    seasonal_frame(300).to_csv(data, index=False)
    model = directory / "m.fcst"
    _train(data, model, "--horizon", "7", "--lookback", "56")
    return model


def test_fewer_rows_than_a_season_are_refused(weekly_model: Path, tmp_path: Path) -> None:
    recent = tmp_path / "r.csv"
    seasonal_frame(300).tail(3).to_csv(recent, index=False)
    result = invoke(["predict", "-m", str(weekly_model), str(recent), "-o", str(tmp_path / "f")])
    assert result.exit_code == 3
    assert "has 3 row(s); the model reads 56 and cannot forecast from fewer than 7" in (
        result.stderr
    )
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize(("rows", "code"), [(6, 3), (7, 0)])
def test_one_season_of_rows_is_the_least_predict_accepts(
    rows: int, code: int, weekly_model: Path, tmp_path: Path
) -> None:
    recent = tmp_path / "r.csv"
    seasonal_frame(300).tail(rows).to_csv(recent, index=False)
    result = invoke(["predict", "-m", str(weekly_model), str(recent)])
    assert result.exit_code == code, result.stderr


def test_evaluate_leaves_out_windows_with_less_than_a_season_before_them(
    weekly_model: Path, tmp_path: Path
) -> None:
    """30 rows, horizon 7, stride 7: origins at rows 23, 16, 9 and 2; the one with 2 rows
    of history before it (fewer than the season of 7) is left out, and said."""
    recent = tmp_path / "r.csv"
    seasonal_frame(300).tail(30).to_csv(recent, index=False)
    result = invoke(["evaluate", "-m", str(weekly_model), str(recent), "--windows", "4",
                     "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["forecasts"] == 3
    assert "1 window(s) left out: fewer than 7 rows of history" in result.stderr


def test_fewer_rows_than_the_lookback_warn_with_the_counts(
    weekly_model: Path, tmp_path: Path
) -> None:
    recent = tmp_path / "r.csv"
    seasonal_frame(300).tail(20).to_csv(recent, index=False)
    result = invoke(["predict", "-m", str(weekly_model), str(recent)])
    assert result.exit_code == 0, result.stderr
    assert "start from fewer rows than the model reads (56)" in result.stderr
    assert "(fewest: 20 rows)" in result.stderr and "standard deviations" in result.stderr
    full = tmp_path / "full.csv"
    seasonal_frame(300).tail(60).to_csv(full, index=False)
    quiet = invoke(["predict", "-m", str(weekly_model), str(full)])
    assert quiet.exit_code == 0 and quiet.stderr == ""


# ---------------------------------------------------------------------------------------
# 6 and 7. Training that cannot validate, and a model worse than naive


def test_no_validation_window_is_said(tmp_path: Path) -> None:
    data = tmp_path / "m.csv"
    days = pd.date_range("2020-01-01", periods=20, freq="MS")
    pd.DataFrame({"month": days.strftime("%Y-%m-%d"), "sales": _series(20, 12)}).to_csv(
        data, index=False
    )
    stderr = _train(data, tmp_path / "m.fcst", quiet=False)
    assert "lookback shortened to 2 (default 36)" in stderr
    assert "the longest series has 20 rows" in stderr
    assert "no validation windows" in stderr and "not checked against naive" in stderr


def test_the_validation_score_is_reported_against_naive(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    seasonal_frame(300).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST[:-1]])
    assert "validation MASE" in result.stderr and "seasonal naive" in result.stderr
    info = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    mase = info["training"]["validation"]["mase"]
    assert set(mase) == {"model", "naive", "seasonal_naive"}
    assert all(v > 0 for v in mase.values())
    assert "validation MASE:" in invoke(["info", str(model)]).stdout


def test_a_model_worse_than_naive_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forecaster.validation

    real = forecaster.validation.run_model

    def far_off(artifact, contexts):  # type: ignore[no-untyped-def]
        return real(artifact, contexts) + 5.0  # five standard deviations too high

    monkeypatch.setattr(forecaster.validation, "run_model", far_off)
    data = tmp_path / "d.csv"
    seasonal_frame(300).to_csv(data, index=False)
    stderr = _train(data, tmp_path / "m.fcst", "--horizon", "7", quiet=False)
    assert "validation windows the model (MASE" in stderr
    assert "is worse than seasonal naive" in stderr or "is worse than naive" in stderr


def test_evaluate_counts_exactly_the_steps_inside_the_training_range(
    weekly_model: Path, tmp_path: Path
) -> None:
    """The model was trained on the first 300 days. Data of 302 days evaluated with horizon
    7 scores days 296-302: 296-300 were trained on (5 of 7), the last training day
    included."""
    data = tmp_path / "d.csv"
    seasonal_frame(302).to_csv(data, index=False)
    result = invoke(["evaluate", "-m", str(weekly_model), str(data), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert "5 of 7 evaluated steps fall inside the model's training range" in result.stderr


def test_ids_equal_as_numbers_but_not_as_text_stay_two_series() -> None:
    """A frame handed to build_panel with ids 1 and 1.0 (or True and 1): two series, named as
    their text, as when ids were compared as text row by row."""
    from forecaster.data import Schema, build_panel

    stamps = list(pd.date_range("2024-01-01", periods=30, freq="D")) * 3
    ids = [1] * 30 + [1.0] * 30 + [True] * 30
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object), "t": stamps, "y": 1.0})
    panel = build_panel(frame, Schema(time="t", targets=["y"], id="id"))
    assert panel.ids == ["1", "1.0", "True"]


@pytest.mark.parametrize(
    ("values", "skipped"),
    [
        (["2020-01-01 00:00:00", "2020-01-01 01:00:00"], True),  # ISO: no order to decide
        (["01/02/2020", "13/02/2020"], False),  # numeric dates: matched row by row
        (["01/02/2020", "2020-01-03"], False),  # half of them: the exact match decides
        (["٠١/٠٢/٢٠٢٠", "2020-01-03", "2020-01-04"], False),  # non-ASCII digits
    ],
)
def test_the_fast_date_order_pass_only_skips_what_cannot_be_numeric_dates(
    values: list[str], skipped: bool
) -> None:
    from forecaster.data.times import _mostly_not_numeric_dates

    assert _mostly_not_numeric_dates(pd.Series(values, dtype="string[pyarrow]")) is skipped
