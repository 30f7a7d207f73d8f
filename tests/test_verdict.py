"""Never silently worse: when a naive baseline beats the model on several windows, `train`,
`predict` and `evaluate` each say so in one line naming the baseline and both scores; when
the model wins, none of them does."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import verdict
from tests.conftest import FAST, invoke

LOUD = FAST[:-1]  # FAST with warnings on stderr
LINE = re.compile(
    r"the model \(MASE ([\d.e+-]+)\) is worse than (seasonal naive|naive) \(MASE ([\d.e+-]+)\)"
)


def _frame(values: np.ndarray, driver: bool = False) -> pd.DataFrame:
    """With ``driver``, a past covariate of noise: a model that reads covariates is never
    blended with a baseline (`blend`), so its verdict is the networks' own."""
    dates = pd.date_range("2021-01-01", periods=len(values), freq="D")
    frame = pd.DataFrame({"date": dates, "value": values.round(4)})
    if driver:
        frame["driver"] = np.random.default_rng(3).normal(size=len(values)).round(4)
    return frame


def _season_repeats(n: int = 320) -> np.ndarray:
    """Each week the same seven values, up to a hundredth: seasonal naive is all but exact."""
    week = np.array([3.0, 9.0, 4.0, 12.0, 1.0, 7.0, 15.0])
    return 20 + np.tile(week, n // 7 + 1)[:n] + np.random.default_rng(1).normal(0, 0.01, n)


def _trend(n: int = 320) -> np.ndarray:
    """A steady climb under a weekly wave: last week's values are a week's climb too low,
    and the model's linear skip follows the climb."""
    t = np.arange(n)
    return (
        10 + 0.5 * t + 3 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(2).normal(0, 0.05, n)
    )


def _said(stderr: str) -> list[tuple[float, str, float]]:
    text = " ".join(stderr.split())
    return [(float(a), b, float(c)) for a, b, c in LINE.findall(text)]


@pytest.mark.parametrize(("values", "loses"), [(_season_repeats(), True), (_trend(), False)])
def test_train_predict_and_evaluate_say_when_a_baseline_wins(
    values: np.ndarray, loses: bool, tmp_path: Path
) -> None:
    data, model = tmp_path / "d.csv", tmp_path / "m.fcst"
    _frame(values, driver=True).to_csv(data, index=False)
    covariate = ["--target", "value", "--past-covariate", "driver"]
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *covariate, *LOUD])
    assert trained.exit_code == 0, trained.stderr
    predicted = invoke(["predict", "-m", str(model), "--quiet"])
    assert predicted.exit_code == 0 and predicted.stderr == ""  # --quiet silences it
    predicted = invoke(["predict", "-m", str(model)])
    evaluated = invoke(["evaluate", "-m", str(model), str(data), "--windows", "4",
                        "--stride", "7", "--format", "json"])  # fmt: skip
    assert predicted.exit_code == 0 and evaluated.exit_code == 0, evaluated.stderr
    said = [_said(r.stderr) for r in (trained, predicted, evaluated)]
    if not loses:
        assert said == [[], [], []], said
        return
    for lines in said:
        assert len(lines) == 1, said
        ours, baseline, theirs = lines[0]
        assert baseline == "seasonal naive" and theirs < ours
    assert "validation windows" in " ".join(trained.stderr.split())
    assert "validation windows (scored by train)" in " ".join(predicted.stderr.split())
    assert "the 4 evaluated windows" in " ".join(evaluated.stderr.split())
    # the numbers are the model file's and the report's own
    import json

    from forecaster import artifact as artifact_io

    stored = artifact_io.load(model).summary["validation"]["mase"]
    assert said[1][0][0] == pytest.approx(stored["model"], rel=1e-2)
    assert said[1][0][2] == pytest.approx(stored["seasonal_naive"], rel=1e-2)
    report = json.loads(evaluated.stdout)
    assert said[2][0][0] == pytest.approx(report["metrics"]["mase"], rel=1e-2)
    assert said[2][0][2] == pytest.approx(report["baselines"]["seasonal_naive"]["mase"], rel=1e-2)


def test_the_verdict_needs_several_windows_and_finite_scores() -> None:
    mase = {"model": 1.2, "naive": 1.5, "seasonal_naive": 0.9, "model_covariates_held": 0.1}
    assert verdict.losing_to(mase, list(verdict.BASELINES)) == ("seasonal_naive", 0.9, 1.2)
    summary = {"validation": {"windows": 1, "mase": mase}}
    assert verdict.from_validation(summary) is None  # one window can lose by chance
    summary["validation"]["windows"] = 2
    assert "worse than seasonal naive (MASE 0.9)" in (verdict.from_validation(summary) or "")
    # the model with its covariates held is a diagnosis, not a baseline
    assert verdict.losing_to({"model": 1.0, "model_covariates_held": 0.5}, []) is None
    assert verdict.losing_to({"model": None, "naive": 0.5}, ["naive"]) is None
    assert verdict.losing_to({"model": float("inf"), "naive": 0.5}, ["naive"]) is None
    assert verdict.losing_to({"model": 0.5, "naive": float("nan")}, ["naive"]) is None
    assert verdict.losing_to({"model": 0.5, "naive": 0.5}, ["naive"]) is None  # a tie is no loss
    # a model that is seasonal naive (a blend of weight 0) scores it to float32's rounding
    tied = {"model": 0.9385199280991646, "seasonal_naive": 0.9385198912935097}
    assert verdict.losing_to(tied, ["seasonal_naive"]) is None
    assert verdict.losing_to({"model": 0.94, "naive": 0.939}, ["naive"]) == ("naive", 0.939, 0.94)
    assert verdict.from_validation({}) is None


def test_without_covariates_the_baseline_that_wins_is_blended_in(tmp_path: Path) -> None:
    """The series on which seasonal naive is all but exact, without a covariate: instead of
    a warning, the forecast is the blend validation chose (with seasonal naive, or with
    damped-trend smoothing, whose weekly profile averages the noise out), and it no longer
    loses."""
    data, model = tmp_path / "d.csv", tmp_path / "m.fcst"
    _frame(_season_repeats()).to_csv(data, index=False)
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *LOUD])
    assert trained.exit_code == 0, trained.stderr
    said = " ".join(trained.stderr.split())
    assert re.search(r"x (seasonal naive|damped-trend smoothing) \(validation MASE", said)
    assert _said(trained.stderr) == []
    from forecaster import artifact as artifact_io

    stored = artifact_io.load(model).summary
    assert stored["blend"]["baseline"] in ("seasonal_naive", "damped_trend")
    assert stored["validation"]["mase"]["model"] <= stored["validation"]["mase"]["seasonal_naive"]
    assert stored["blend"]["network_mase"] > stored["validation"]["mase"]["seasonal_naive"]


def test_an_exactly_repeating_history_says_why_mase_is_undefined(tmp_path: Path) -> None:
    """Seasonal naive's in-sample error, MASE's scale, is 0 on a cycle repeated exactly: the
    summary says so instead of "nan" three times."""
    data, model = tmp_path / "d.csv", tmp_path / "m.fcst"
    _frame(np.tile([3.0, 9.0, 4.0, 12.0, 1.0, 7.0, 15.0], 46)).to_csv(data, index=False)
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *LOUD])
    assert trained.exit_code == 0, trained.stderr
    said = " ".join(trained.stderr.split())
    assert "validation MASE undefined (the validation histories repeat their season" in said
    assert "nan" not in said
