"""Covariates that do not pay are named: `train` when, on its validation windows, the model
does no better with their movements than with them held still, and `evaluate` when the
model with its future covariates held scores at least as well as with their actual values.
Neither says a word about a driver that pays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import artifact as artifact_io
from tests.conftest import FAST, invoke
from tests.test_covariates import driven_frame

WARNING = "do not pay"


def noise_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A weekly-seasonal daily series and two columns of pure noise beside it."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + 2 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n)
    return pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=n, freq="D"),
        "sales": y,
        "rain": rng.normal(0, 1, n),
        "wind": rng.normal(0, 1, n),
    })  # fmt: skip


def trained(tmp_path: Path, frame: pd.DataFrame, *roles: str) -> tuple[Path, Path, str]:
    data, model = tmp_path / "data.csv", tmp_path / "model.fcst"
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *roles,
                     *FAST[:-1]])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return model, data, result.stderr


def test_train_says_noise_covariates_do_not_pay(tmp_path: Path) -> None:
    model, _, stderr = trained(tmp_path, noise_frame(), "--past-covariate", "rain",
                               "--past-covariate", "wind")  # fmt: skip
    lines = [line for line in stderr.splitlines() if WARNING in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("forecaster: warning: the covariates do not pay: on the ")
    assert "validation windows the model's MASE is" in lines[0]
    validation = artifact_io.load(model).summary["validation"]
    with_them, held = validation["mase"]["model"], validation["mase"]["model_covariates_held"]
    assert f"is {with_them:.3g} with them and {held:.3g} with them held" in lines[0]
    assert with_them >= 0.99 * held
    # `info` shows both beside the baselines.
    assert "model covariates held" in invoke(["info", str(model)]).stdout


def test_train_and_evaluate_are_silent_about_a_driver_that_pays(tmp_path: Path) -> None:
    frame = driven_frame()[["date", "sales", "promo"]]
    model, data, stderr = trained(tmp_path, frame, "--future-covariate", "promo")
    assert WARNING not in stderr
    mase = artifact_io.load(model).summary["validation"]["mase"]
    assert mase["model"] < 0.8 * mase["model_covariates_held"], mase
    result = invoke(["evaluate", "-m", str(model), str(data), "--windows", "4"])
    assert result.exit_code == 0 and WARNING not in result.stderr, result.stderr


def test_evaluate_says_when_holding_the_future_covariates_scores_as_well(
    tmp_path: Path,
) -> None:
    frame = noise_frame().rename(columns={"rain": "promo"})[["date", "sales", "promo"]]
    model, data, _ = trained(tmp_path, frame, "--future-covariate", "promo")
    result = invoke(["evaluate", "-m", str(model), str(data), "--windows", "4", "--format",
                     "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    with_them, held = report["metrics"]["mase"], report["covariates_held"]["mase"]
    assert with_them >= 0.99 * held, (with_them, held)
    assert (
        f"forecaster: warning: the future covariates do not pay: on the 4 evaluated windows "
        f"the model's MASE is {with_them:.3g} with them and {held:.3g} with them held at their "
        "last observed value; compare with a model trained without them"
    ) in result.stderr
    quiet = invoke(["evaluate", "-m", str(model), str(data), "--quiet"])
    assert quiet.exit_code == 0 and WARNING not in quiet.stderr


@pytest.mark.parametrize(
    ("with_them", "held", "says"),
    [(1.0, 1.0, True), (0.995, 1.0, True), (0.98, 1.0, False), (1.2, 1.0, True),
     (None, 1.0, False), (float("nan"), 1.0, False)],
)  # fmt: skip
def test_the_rule_asks_the_covariates_for_one_percent(
    with_them: float | None, held: float, says: bool
) -> None:
    """As the linear skip asks of its covariate part: 1% off the error, or they do not pay."""
    from forecaster.drivers import covariates_do_not_pay

    assert (covariates_do_not_pay(with_them, held, "w") is not None) is says


def test_holding_keeps_the_targets_calendar_and_the_future_covariates_history(
    tmp_path: Path,
) -> None:
    from forecaster.drivers import hold_covariates

    frame = driven_frame()
    model, _, _ = trained(tmp_path, frame[["date", "sales", "promo", "temp"]],
                             "--future-covariate", "promo", "--past-covariate", "temp",
                             "--calendar", "on")  # fmt: skip
    artifact = artifact_io.load(model)
    rng = np.random.default_rng(1)
    config, schema = artifact.model_config, artifact.schema
    lookback, horizon = config.lookback, config.horizon
    channels = config.n_targets + len(schema.covariate_channels)
    inputs = rng.normal(size=(3, lookback + horizon, channels))
    held = hold_covariates(artifact, inputs)
    past, future = config.n_targets, config.n_targets + 1  # temp, then promo
    np.testing.assert_array_equal(held[:, :, 0], inputs[:, :, 0])  # the target
    np.testing.assert_array_equal(held[:, :, future + 1 :], inputs[:, :, future + 1 :])
    np.testing.assert_array_equal(held[:, :lookback, past], np.repeat(
        inputs[:, lookback - 1 : lookback, past], lookback, axis=1))  # fmt: skip
    np.testing.assert_array_equal(held[:, lookback:, past], inputs[:, lookback:, past])
    np.testing.assert_array_equal(held[:, :lookback, future], inputs[:, :lookback, future])
    np.testing.assert_array_equal(held[:, lookback:, future], np.repeat(
        inputs[:, lookback - 1 : lookback, future], horizon, axis=1))  # fmt: skip
