"""The forecast steps agree with each other and with the calendar, checked from outside.

Each test here compares two routes to the same numbers that share no shortcut: a shorter
horizon against the first rows of the full one, `evaluate --forecasts` against `predict`
given the same rows, and the calendar features of each step against the step's own
timestamp. A slip by one step or one quantile row moves the numbers; it does not move
the code's agreement with itself.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import artifact as artifact_io
from forecaster.inputs import horizon_covariates
from tests.conftest import FAST, invoke, long_frame

HORIZON = 7


def read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


@pytest.fixture(scope="module")
def covariate_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Three daily series with a future covariate and the calendar (weekday indicators,
    day of year): every forecast step reads features of its own date."""
    directory = tmp_path_factory.mktemp("steps")
    frame = long_frame()
    frame["promo"] = np.sin(np.arange(len(frame)) * 0.7)
    data = directory / "long.csv"
    frame.to_csv(data, index=False)
    model = directory / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", str(HORIZON),
            "--future-covariate", "promo", "--calendar", "on", *FAST]  # fmt: skip
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    return model, data


@pytest.fixture(scope="module")
def panel_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three daily series, no covariates, intervals from validation."""
    directory = tmp_path_factory.mktemp("prefix")
    data = directory / "long.csv"
    long_frame().to_csv(data, index=False)
    model = directory / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), "--horizon", str(HORIZON), *FAST])
    assert result.exit_code == 0, result.stderr
    return model


@pytest.mark.parametrize("levels", [["--level", "80"], ["--level", "95", "--level", "50"]])
@pytest.mark.parametrize("short", [1, 3, HORIZON - 1])
def test_a_shorter_horizon_is_the_first_rows_of_the_full_one(
    panel_model: Path, short: int, levels: list[str]
) -> None:
    """`--horizon h` forecasts and bounds equal the first h steps of each series' full
    forecast: the steps' quantiles are read from the first rows, not the last."""
    full = invoke(["predict", "-m", str(panel_model), *levels, "-q"])
    assert full.exit_code == 0, full.stderr
    part = invoke(["predict", "-m", str(panel_model), "--horizon", str(short), *levels, "-q"])
    assert part.exit_code == 0, part.stderr
    whole, head = read_csv(full.stdout), read_csv(part.stdout)
    expected = whole.groupby("unique_id", sort=False).head(short).reset_index(drop=True)
    assert len(head) == 3 * short
    assert [c for c in head.columns if "-lo-" in c or "-hi-" in c]  # bounds are compared
    pd.testing.assert_frame_equal(head, expected)


def test_evaluate_forecasts_equal_predict_given_the_same_rows(
    covariate_model: tuple[Path, Path], tmp_path: Path
) -> None:
    """The last backtest window of each series is the forecast `predict` makes from the
    rows before it with the same future covariate rows: points and bounds, step by step."""
    model, data = covariate_model
    steps_file = tmp_path / "steps.csv"
    result = invoke(["evaluate", "-m", str(model), str(data), "--windows", "1",
                     "--forecasts", str(steps_file), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    steps = pd.read_csv(steps_file)
    frame = pd.read_csv(data)
    future = frame.copy()
    last = future.groupby("unique_id").cumcount(ascending=False) < HORIZON
    future.loc[last, "y"] = np.nan  # the actuals withheld, the covariate kept
    given = tmp_path / "future.csv"
    future.to_csv(given, index=False)
    predicted = invoke(["predict", "-m", str(model), str(given), "--level", "80", "--level",
                        "95", "-q"])  # fmt: skip
    assert predicted.exit_code == 0, predicted.stderr
    forecast = read_csv(predicted.stdout)
    assert len(forecast) == len(steps) == 3 * HORIZON
    assert forecast["unique_id"].tolist() == steps["unique_id"].tolist()
    assert forecast["ds"].tolist() == steps["ds"].tolist()
    assert steps["ds"].tolist() == frame.loc[last, "ds"].tolist()
    np.testing.assert_allclose(forecast["y"], steps["model"], rtol=1e-5, atol=1e-6)
    for bound in ("lo-80", "hi-80", "lo-95", "hi-95"):
        np.testing.assert_allclose(forecast[f"y-{bound}"], steps[f"model-{bound}"],
                                   rtol=1e-5, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(steps["actual"], frame.loc[last, "y"], rtol=1e-5)


def test_each_forecast_step_reads_the_calendar_of_its_own_date(
    covariate_model: tuple[Path, Path],
) -> None:
    """The weekday indicators and day-of-year harmonics of step k are those of the series'
    last date plus k days, computed here from the date itself."""
    model, data = covariate_model
    artifact = artifact_io.load(model)
    names = artifact.schema.calendar
    assert "weekday_0" in names and "yearday_sin1" in names
    frame = pd.read_csv(data, parse_dates=["ds"])
    ends = pd.DatetimeIndex(frame.groupby("unique_id", sort=False)["ds"].max())
    ids = list(frame["unique_id"].unique())
    promo = np.zeros((len(ids), HORIZON, 1))
    covariates = horizon_covariates(artifact, ids, ends, promo, "DATA")
    first = len(artifact.schema.past) + len(artifact.schema.future)  # the calendar's block
    calendar = covariates[:, :, first : first + len(names)]
    for s, end in enumerate(ends):
        for k in range(HORIZON):
            day = end.to_pydatetime() + pd.Timedelta(days=k + 1).to_pytimedelta()
            expected = {f"weekday_{d}": float(day.weekday() == d) for d in range(7)}
            angle = 2 * np.pi * (day.timetuple().tm_yday - 1) / 365.25
            expected["yearday_sin1"] = np.sin(angle)
            expected["yearday_cos2"] = np.cos(2 * angle)
            for name, value in expected.items():
                got = calendar[s, k, names.index(name)]
                assert got == pytest.approx(value, abs=1e-9), (ids[s], k + 1, name)
