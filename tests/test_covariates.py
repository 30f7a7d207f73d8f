"""Covariates end to end: each role in wide and long format, future values from DATA rows
and from --future, calendar and holiday features, a known driver recovered, no leakage
from past covariates beyond the origin, and every bad input refused with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import artifact as artifact_io
from forecaster import inference
from forecaster.config import ModelConfig
from forecaster.data import load_panel
from forecaster.data.calendar import calendar_names, calendar_values, holiday_counts
from forecaster.model import Ensemble, LSTMForecaster
from tests.conftest import FAST, invoke, long_frame
from tests.test_bad_data import MODEL
from tests.test_bad_data import assert_refused as refused
from tests.test_inference import numpy_weights, randomised
from tests.test_model_tamper import drop, tamper


def driven_frame(n: int = 400, effect: float = 3.0, seed: int = 0) -> pd.DataFrame:
    """A daily series moved by a known promotion flag (``effect`` per unit) and a past-only
    temperature that carries nothing the target does not."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    promo = (rng.random(n) < 0.3).astype(float)
    promo[-1] = 0.0  # the last observed row: the forecast's reference level
    temp = 15 + 5 * np.sin(2 * np.pi * t / 365) + rng.normal(0, 1, n)
    y = 10 + 2 * np.sin(2 * np.pi * t / 7) + effect * promo + rng.normal(0, 0.1, n)
    dates = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.DataFrame({"date": dates, "sales": y, "promo": promo, "temp": temp})


def future_frame(start: pd.Timestamp, horizon: int, promo: list[float]) -> pd.DataFrame:
    dates = pd.date_range(start + pd.Timedelta(days=1), periods=horizon, freq="D")
    return pd.DataFrame({"date": dates, "promo": promo})


def train(tmp_path: Path, data: Path, *args: str):  # type: ignore[no-untyped-def]
    return invoke(["train", str(data), "-o", str(tmp_path / MODEL), *FAST, *args])


def forecast(result) -> np.ndarray:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(__import__("io").StringIO(result.stdout))
    return frame.iloc[:, -1].to_numpy()


@pytest.fixture(scope="module")
def driven(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """A model trained once with ``promo`` as a future covariate."""
    directory = tmp_path_factory.mktemp("driven")
    frame = driven_frame()
    data = directory / "driven.csv"
    frame[["date", "sales", "promo"]].to_csv(data, index=False)
    result = invoke(
        ["train", str(data), "-o", str(directory / MODEL), "--horizon", "7",
         "--future-covariate", "promo", *FAST]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return directory / MODEL, data, frame


def test_the_skip_reads_a_driver_that_pays_and_not_one_that_does_not(
    driven: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    """Validation keeps the skip's covariate part for the promotion (it lowers the error by
    far more than `MIN_COVARIATE_GAIN`) and drops it for noise carrying nothing new."""
    paid = artifact_io.load(driven[0])
    assert paid.model_config.covariate_rows > 0
    assert paid.summary["linear_skip"]["covariate_rows"] == paid.model_config.covariate_rows
    tried = {c["covariate_rows"] for c in paid.summary["linear_skip"]["candidates"]}
    assert tried == {0, 1, paid.model_config.covariate_rows}
    data = tmp_path / "noise.csv"
    frame = driven[2].assign(sales=lambda f: f.sales - 3.0 * f.promo)  # the promotion's effect off
    frame[["date", "sales", "temp"]].to_csv(data, index=False)
    assert train(tmp_path, data, "--horizon", "7", "--past-covariate", "temp").exit_code == 0
    unpaid = artifact_io.load(tmp_path / MODEL)
    assert unpaid.model_config.covariate_rows == 0
    assert "cov_skip.weight" not in unpaid.weights
    assert unpaid.model_config.n_past == 1  # the LSTM still reads it
    assert "reads no covariates" in invoke(["info", str(tmp_path / MODEL)]).stdout


def test_the_heads_calendar_columns_start_at_zero() -> None:
    config = ModelConfig(n_targets=2, lookback=10, horizon=3, hidden=4, n_past=1, n_future=3,
                         n_calendar=2, n_static=2, covariate_rows=2)  # fmt: skip
    weight = LSTMForecaster(config).head.weight.detach()
    future = weight[:, 4:13].reshape(-1, 3, 3)  # (outputs, horizon step, future channel)
    assert bool((future[:, :, 1:] == 0).all())  # the calendar's, last of the future block
    assert bool((future[:, :, 0] != 0).all()) and bool((weight[:, :4] != 0).all())
    assert bool((weight[:, -2:] != 0).all())  # the statics keep PyTorch's initialisation


# ---------------------------------------------------------------------------------------
# Future covariates


def test_a_future_covariate_at_step_k_moves_the_forecast_at_step_k(
    driven: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, _, frame = driven
    end = frame["date"].iloc[-1]
    plain = tmp_path / "plain.csv"
    future_frame(end, 7, [0.0] * 7).to_csv(plain, index=False)
    pushed = tmp_path / "pushed.csv"
    future_frame(end, 7, [0, 0, 0, 1, 0, 0, 0]).to_csv(pushed, index=False)
    base = forecast(invoke(["predict", "-m", str(model), "--future", str(plain)]))
    moved = forecast(invoke(["predict", "-m", str(model), "--future", str(pushed)]))
    change = moved - base
    # the series moves by 3 per unit of promo: most of that effect, at step 4 only
    assert 2.0 < change[3] < 4.0, change
    assert np.abs(np.delete(change, 3)).max() < 0.75, change


def test_future_rows_in_data_and_a_future_file_give_the_same_forecast(
    driven: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, _, frame = driven
    promo = [1, 0, 0, 1, 1, 0, 0]
    ahead = future_frame(frame["date"].iloc[-1], 7, promo)
    ahead_file = tmp_path / "ahead.csv"
    # extra rows beyond the horizon and extra columns are ignored
    longer = pd.concat([ahead, future_frame(ahead["date"].iloc[-1], 3, [9.0] * 3)])
    longer.assign(note="x").to_csv(ahead_file, index=False)
    with_rows = tmp_path / "with_rows.csv"
    history = frame[["date", "sales", "promo"]]
    pd.concat([history, ahead.assign(sales=np.nan)]).to_csv(with_rows, index=False)
    from_file = forecast(invoke(["predict", "-m", str(model), "--future", str(ahead_file)]))
    from_rows = forecast(invoke(["predict", "-m", str(model), str(with_rows)]))
    np.testing.assert_allclose(from_rows, from_file, rtol=1e-5)
    # DATA's history with --future: the same again
    history_file = tmp_path / "history.csv"
    history.to_csv(history_file, index=False)
    both = forecast(
        invoke(["predict", "-m", str(model), str(history_file), "--future", str(ahead_file)])
    )
    np.testing.assert_allclose(both, from_file, rtol=1e-5)


def test_future_values_with_a_gap_are_refused_naming_column_and_timestamp(
    driven: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, _, frame = driven
    ahead = future_frame(frame["date"].iloc[-1], 7, [0.0] * 7)
    gap = tmp_path / "gap.csv"
    ahead.drop(index=4).to_csv(gap, index=False)
    out = tmp_path / "forecast.csv"
    out.write_text("precious\n")
    result = invoke(["predict", "-m", str(model), "--future", str(gap), "-o", str(out)])
    assert result.exit_code == 3, result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "promo" in line and "2021-02-08" in line, line
    assert out.read_text() == "precious\n"
    # an empty cell is a gap too
    ahead.loc[2, "promo"] = np.nan
    ahead.to_csv(gap, index=False)
    result = invoke(["predict", "-m", str(model), "--future", str(gap), "-o", str(out)])
    assert result.exit_code == 3 and "2021-02-06" in result.stderr, result.stderr
    assert out.read_text() == "precious\n"


def test_a_model_with_future_covariates_needs_their_values(
    driven: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, data, _ = driven
    result = invoke(["predict", "-m", str(model)])
    assert result.exit_code == 3, result.stderr
    assert "promo" in result.stderr and result.stdout == ""
    result = invoke(["predict", "-m", str(model), str(data)])  # no rows after the history
    assert result.exit_code == 3 and "promo" in result.stderr, result.stderr


def test_future_for_a_model_without_future_covariates_is_a_usage_error(
    trained_model: Path, tmp_path: Path
) -> None:
    ahead = tmp_path / "ahead.csv"
    ahead.write_text("date,promo\n2020-10-27,1\n")
    result = invoke(["predict", "-m", str(trained_model), "--future", str(ahead)])
    assert result.exit_code == 2 and "no future covariates" in result.stderr, result.stderr


def test_evaluate_reports_the_score_with_the_drivers_held(
    driven: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, data, _ = driven
    result = invoke(["evaluate", "-m", str(model), str(data), "--windows", "4", "--format",
                     "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    held = report["covariates_held"]
    # knowing the promotions is worth most of their effect: holding them costs accuracy
    assert held["mae"] > 1.5 * report["metrics"]["mae"], (held, report["metrics"])
    methods = list(report["per_target"]["sales"])
    assert methods[:2] == ["model", "model_covariates_held"]
    assert any("perfect foresight" in note for note in report["notes"])
    csv = invoke(["evaluate", "-m", str(model), str(data), "--format", "csv"])
    assert "model_covariates_held" in csv.stdout


def test_info_lists_the_roles(driven: tuple[Path, Path, pd.DataFrame]) -> None:
    model, _, _ = driven
    result = invoke(["info", str(model), "--format", "json"])
    covariates = json.loads(result.stdout)["covariates"]
    assert covariates["future"] == ["promo"] and covariates["past"] == []
    assert covariates["calendar"] == calendar_names("D")  # auto: on, as a covariate is given
    text = invoke(["info", str(model)]).stdout
    assert "future:" in text and "promo" in text and "weekday_0" in text
    assert "reads the covariates' changes" in text or "reads the future covariates" in text


# ---------------------------------------------------------------------------------------
# Past covariates


def test_past_covariates_never_read_beyond_the_origin(tmp_path: Path) -> None:
    frame = driven_frame(300)[["date", "sales", "temp"]]
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    assert train(tmp_path, data, "--horizon", "7", "--past-covariate", "temp").exit_code == 0

    def backtest(values: pd.DataFrame) -> pd.DataFrame:
        path = tmp_path / "evaluated.csv"
        values.to_csv(path, index=False)
        steps = tmp_path / "steps.csv"
        args = ["evaluate", "-m", str(tmp_path / MODEL), str(path), "--windows", "2", "-q"]
        result = invoke([*args, "--forecasts", str(steps)])
        assert result.exit_code == 0, result.stderr
        return pd.read_csv(steps)

    base = backtest(frame)
    first, second = base["date"].iloc[0], base["date"].iloc[7]
    # the temperature after the last origin changes nothing
    after_last = frame.copy()
    after_last.loc[after_last.index[-7:], "temp"] += 50.0
    np.testing.assert_array_equal(backtest(after_last)["model"], base["model"])
    # after the first origin but before the second: the first window stays, the second moves
    between = frame.copy()
    between.loc[between.index[-14:-7], "temp"] += 50.0
    moved = backtest(between)
    assert pd.Timestamp(first) < pd.Timestamp(second)
    np.testing.assert_array_equal(moved["model"][:7], base["model"][:7])
    assert np.abs(moved["model"][7:].to_numpy() - base["model"][7:].to_numpy()).max() > 1e-4


def test_past_covariates_in_predict_come_from_the_stored_history(tmp_path: Path) -> None:
    frame = driven_frame(300)[["date", "sales", "temp"]]
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    assert train(tmp_path, data, "--horizon", "7", "--past-covariate", "temp").exit_code == 0
    stored = forecast(invoke(["predict", "-m", str(tmp_path / MODEL)]))
    given = forecast(invoke(["predict", "-m", str(tmp_path / MODEL), str(data)]))
    np.testing.assert_allclose(stored, given, rtol=1e-5)
    assert len(stored) == 7


# ---------------------------------------------------------------------------------------
# Long format, static covariates, unused columns


def long_with_covariates(seed: int = 0) -> pd.DataFrame:
    frame = long_frame(seed=seed)
    rng = np.random.default_rng(seed)
    frame["price"] = rng.normal(10, 1, len(frame))
    region = {"s0": "north", "s1": "south", "s2": "north"}
    frame["region"] = frame["unique_id"].map(region)
    frame["size"] = frame["unique_id"].map({"s0": 1.0, "s1": 2.5, "s2": 4.0})
    return frame


def test_long_format_with_every_role(tmp_path: Path) -> None:
    frame = long_with_covariates()
    frame["sensor"] = frame["price"] * 0.5 + 1
    data = tmp_path / "long.csv"
    frame.to_csv(data, index=False)
    result = invoke(
        ["train", str(data), "-o", str(tmp_path / MODEL), "--horizon", "7",
         "--ensemble", "1", "--epochs", "2", "--hidden", "8",
         "--future-covariate", "price", "--past-covariate", "sensor",
         "--static-covariate", "region", "--static-covariate", "size", "--holidays", "US"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    description = json.loads(invoke(["info", str(tmp_path / MODEL), "--format", "json"]).stdout)
    covariates = description["covariates"]
    assert covariates["static"] == ["region", "size"]
    assert covariates["categories"] == {"region": ["north", "south"]}
    assert covariates["calendar"][-1] == "holiday_US"
    rows = []
    for uid, part in frame.groupby("unique_id"):
        end = pd.Timestamp(part["ds"].iloc[-1])
        dates = pd.date_range(end + pd.Timedelta(days=1), periods=7, freq="D")
        rows.append(pd.DataFrame({"unique_id": uid, "ds": dates.strftime("%Y-%m-%d"),
                                  "price": 10.0}))  # fmt: skip
    ahead = tmp_path / "ahead.csv"
    pd.concat(rows).to_csv(ahead, index=False)
    result = invoke(["predict", "-m", str(tmp_path / MODEL), "--future", str(ahead)])
    assert result.exit_code == 0, result.stderr
    out = pd.read_csv(__import__("io").StringIO(result.stdout))
    assert list(out.columns) == ["unique_id", "ds", "y"] and len(out) == 21
    assert out["y"].notna().all()
    # with the history and future rows in one DATA file
    both = pd.concat([frame, pd.concat(rows).merge(
        frame[["unique_id", "region", "size"]].drop_duplicates())])  # fmt: skip
    combined = tmp_path / "combined.csv"
    both.to_csv(combined, index=False)
    again = invoke(["predict", "-m", str(tmp_path / MODEL), str(combined)])
    assert again.exit_code == 0, again.stderr
    np.testing.assert_allclose(pd.read_csv(__import__("io").StringIO(again.stdout))["y"],
                               out["y"], rtol=1e-4)  # fmt: skip


def test_train_names_the_numeric_columns_it_left_out(tmp_path: Path) -> None:
    frame = driven_frame(200)
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    result = invoke(
        ["train", str(data), "-o", str(tmp_path / MODEL), "--horizon", "7", "--ensemble", "1",
         "--epochs", "1", "--hidden", "8", "--target", "sales", "--future-covariate", "promo"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "not used" in line]
    assert len(notes) == 1 and "temp" in notes[0], result.stderr
    covariates = artifact_io.load(tmp_path / MODEL).schema
    assert covariates.targets == ["sales"] and covariates.future == ["promo"]


# ---------------------------------------------------------------------------------------
# Bad input: one line, the right exit code, nothing written


@pytest.mark.parametrize(
    ("columns", "args", "code", "phrases"),
    [
        ({}, ["--target", "sales", "--future-covariate", "sales"], 2, ["sales", "target"]),
        ({}, ["--future-covariate", "promo", "--past-covariate", "promo"], 2, ["promo"]),
        ({}, ["--time", "date", "--future-covariate", "date"], 2, ["date"]),
        ({}, ["--future-covariate", "nope"], 3, ["nope"]),
        ({"promo": "text"}, ["--future-covariate", "promo"], 3, ["promo"]),
        ({"promo": "empty"}, ["--future-covariate", "promo"], 3, ["promo"]),
        ({}, ["--static-covariate", "promo"], 2, ["long-format"]),
        ({}, ["--holidays", "XX"], 2, ["XX"]),
    ],
)
def test_bad_covariates_are_refused(
    tmp_path: Path, columns: dict[str, str], args: list[str], code: int, phrases: list[str]
) -> None:
    frame = driven_frame(120).astype({"promo": object})
    for column, kind in columns.items():
        frame[column] = "many" if kind == "text" else np.nan
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    refused(train(tmp_path, data, "--horizon", "7", *args), tmp_path, code, phrases)


def test_an_empty_covariate_in_one_series_is_refused(tmp_path: Path) -> None:
    frame = long_with_covariates()
    frame.loc[frame["unique_id"] == "s1", "price"] = np.nan
    data = tmp_path / "long.csv"
    frame.to_csv(data, index=False)
    result = train(tmp_path, data, "--horizon", "7", "--future-covariate", "price")
    refused(result, tmp_path, 3, ["price", "s1"])


def test_a_static_covariate_that_varies_within_a_series_is_refused(tmp_path: Path) -> None:
    frame = long_with_covariates()
    frame.loc[frame.index[5], "region"] = "east"
    data = tmp_path / "long.csv"
    frame.to_csv(data, index=False)
    result = train(tmp_path, data, "--horizon", "7", "--static-covariate", "region")
    refused(result, tmp_path, 3, ["region", "s0"])


def test_a_failed_train_leaves_the_previous_model_untouched(tmp_path: Path) -> None:
    (tmp_path / MODEL).write_bytes(b"previous")
    frame = driven_frame(120)
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    result = train(tmp_path, data, "--future-covariate", "nope")
    assert result.exit_code == 3
    assert (tmp_path / MODEL).read_bytes() == b"previous"


# ---------------------------------------------------------------------------------------
# Calendar and holidays


def test_calendar_features_suit_the_frequency() -> None:
    assert calendar_names("h")[:4] == ["hour_sin1", "hour_cos1", "hour_sin2", "hour_cos2"]
    assert calendar_names("15min")[4:] == [f"weekday_{d}" for d in range(7)]
    assert calendar_names("D")[:7] == [f"weekday_{d}" for d in range(7)]
    assert calendar_names("B")[:7] == [f"weekday_{d}" for d in range(7)]
    assert calendar_names("W")[0] == "yearweek_sin1"
    assert calendar_names("MS") == [f"month_{m}" for m in range(1, 13)]
    assert calendar_names("QS") == [f"quarter_{q}" for q in range(1, 5)]
    assert calendar_names("YS") == []


def test_hourly_calendar_follows_the_local_clock_across_daylight_saving(
    tmp_path: Path,
) -> None:
    # Berlin, spring forward on 2021-03-28: 01:00 UTC is 03:00 local
    stamps = pd.date_range("2021-03-26", periods=96, freq="h", tz="Europe/Berlin")
    frame = pd.DataFrame({"time": stamps.map(lambda t: t.isoformat()),
                          "load": np.arange(96.0)})  # fmt: skip
    data = tmp_path / "dst.csv"
    frame.to_csv(data, index=False)
    panel = load_panel(data, calendar="on")
    names = panel.schema.calendar
    hour_sin = panel.covariates[:, names.index("hour_sin1")]
    hour_cos = panel.covariates[:, names.index("hour_cos1")]
    local_hours = (np.degrees(np.arctan2(hour_sin, hour_cos)) % 360) / 15
    np.testing.assert_allclose(local_hours, stamps.hour, atol=1e-9)
    weekday = panel.covariates[:, [names.index(f"weekday_{d}") for d in range(7)]]
    np.testing.assert_array_equal(weekday.argmax(axis=1), stamps.day_of_week)
    assert (weekday.sum(axis=1) == 1).all()


def test_monthly_and_daily_calendar_values() -> None:
    months = pd.date_range("2020-01-01", periods=14, freq="MS")
    values = calendar_values(months, "MS", calendar_names("MS"))
    np.testing.assert_array_equal(values.argmax(axis=1) + 1, months.month)
    days = pd.date_range("2021-01-01", periods=366, freq="D")
    names = calendar_names("D")
    values = calendar_values(days, "D", names)
    angle = np.arctan2(values[:, names.index("yearday_sin1")],
                       values[:, names.index("yearday_cos1")])  # fmt: skip
    assert abs(angle[0]) < 1e-12  # 1 January
    assert np.abs(values[:, :7].argmax(axis=1) - days.day_of_week).max() == 0


def test_holidays_on_known_dates() -> None:
    days = pd.DatetimeIndex(["2021-10-02", "2021-10-03", "2021-10-04", "2021-12-25",
                             "2021-12-26", "2021-12-27"])  # fmt: skip
    # German Unity Day, Christmas Day and the second day of Christmas
    np.testing.assert_array_equal(holiday_counts(days, "D", "DE"), [0, 1, 0, 1, 1, 0])
    hours = pd.date_range("2021-10-02 22:00", periods=28, freq="h")
    counts = holiday_counts(hours, "h", "DE")
    np.testing.assert_array_equal(counts, [0, 0] + [1] * 24 + [0, 0])
    # the week starting on Easter Monday 2021 holds one German holiday, the next none
    weeks = pd.DatetimeIndex(["2021-04-05", "2021-04-12"])
    np.testing.assert_array_equal(holiday_counts(weeks, "W-MON", "DE"), [1, 0])
    # US Independence Day 2021 fell on a Sunday and was observed on Monday the 5th
    july = pd.date_range("2021-07-03", periods=4, freq="D")
    assert holiday_counts(july, "D", "US")[1:3].tolist() == [1, 1]


# ---------------------------------------------------------------------------------------
# The network and the model file


def test_numpy_forward_matches_torch_with_every_covariate_role() -> None:
    config = ModelConfig(
        n_targets=2, lookback=12, lstm_lookback=12, horizon=4, hidden=5, layers=2,
        members=2, segment=3, n_past=2, n_future=3, n_calendar=2, n_static=1,
        covariate_rows=4,
    )  # fmt: skip
    torch.manual_seed(0)
    model = randomised(Ensemble(config))
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(3, config.input_rows, 2 + 6)).astype(np.float32)
    model.eval()
    with torch.no_grad():
        expected = model(torch.from_numpy(inputs)).numpy()
    weights = numpy_weights(model)
    got = inference.forward(weights, config, inputs)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # the skip reads the user's future covariates, not the calendar's
    assert weights["members.0.cov_skip.weight"].shape == (4, 4 * 1 + 3 * (2 + 1))


def test_the_horizon_rows_of_targets_and_past_covariates_are_never_read() -> None:
    config = ModelConfig(
        n_targets=1, lookback=8, lstm_lookback=8, horizon=3, hidden=4, layers=1, members=1,
        segment=2, n_past=1, n_future=1, covariate_rows=3,
    )  # fmt: skip
    torch.manual_seed(1)
    model = randomised(Ensemble(config))
    inputs = np.random.default_rng(1).normal(size=(2, 11, 3)).astype(np.float32)
    weights = numpy_weights(model)
    base = inference.forward(weights, config, inputs)
    perturbed = inputs.copy()
    perturbed[:, 8:, :2] += 100.0  # targets and the past covariate over the horizon
    np.testing.assert_array_equal(inference.forward(weights, config, perturbed), base)
    perturbed = inputs.copy()
    perturbed[:, 9, 2] += 1.0  # the future covariate at horizon step 2
    assert not np.allclose(inference.forward(weights, config, perturbed), base)


def test_a_model_file_from_before_covariates_still_loads_and_forecasts(
    trained_model: Path, tmp_path: Path
) -> None:
    def strip(meta: dict) -> None:  # type: ignore[type-arg]
        for key in ("past", "future", "static", "categories", "calendar"):
            meta["schema"].pop(key)
        for key in ("n_past", "n_future", "n_static", "n_calendar", "covariate_rows"):
            meta["model_config"].pop(key)
        for key in ("past_covariates", "future_covariates", "static_covariates", "calendar",
                    "holidays"):  # fmt: skip
            meta["train_config"].pop(key)
        drop("covariates")(meta)

    old = tmp_path / "old.fcst"
    old.write_bytes(tamper(trained_model.read_bytes(), "new", meta=strip))
    before = invoke(["predict", "-m", str(trained_model)])
    after = invoke(["predict", "-m", str(old)])
    assert after.exit_code == 0, after.stderr
    assert after.stdout == before.stdout
    assert json.loads(invoke(["info", str(old), "--format", "json"]).stdout)["covariates"] is None


def test_an_outlier_in_data_is_named_once_as_datas_with_future_covariates(
    driven: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    """predict with --future names DATA, not the future file; evaluate, which backtests a
    model with future covariates twice (their values actual and held), says it once."""
    model, _, frame = driven
    history = frame[["date", "sales", "promo"]].copy()
    history.loc[300, "sales"] = 5000.0
    data, ahead_file = tmp_path / "history.csv", tmp_path / "ahead.csv"
    history.to_csv(data, index=False)
    future_frame(frame["date"].iloc[-1], 7, [0.0] * 7).to_csv(ahead_file, index=False)
    said = invoke(["predict", "-m", str(model), str(data), "--future", str(ahead_file)])
    assert said.exit_code == 0, said.stderr
    assert "DATA: took 1 value(s)" in said.stderr and "ahead.csv: took" not in said.stderr
    report = invoke(["evaluate", "-m", str(model), str(data), "--windows", "4", "--format",
                     "json"])  # fmt: skip
    assert report.exit_code == 0, report.stderr
    assert report.stderr.count("took 1 value(s)") == 1
