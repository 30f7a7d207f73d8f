"""Short series: intervals that never collapse onto the forecast or onto each other.

A 144-row monthly series holds one validation window of 18 rows: its 80% and 95% bounds
were once the same single error, both on the forecast. Its intervals now come from origins
through the training rows (`forecaster.pooled`), and every command says when a level is
more than the windows resolve.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.intervals import PROBABILITIES, quantiles_at
from tests.conftest import FAST, invoke, seasonal_frame

UNRESOLVED = "resolve central intervals up to"


def monthly(n: int = 144, seed: int = 0) -> pd.DataFrame:
    """A yearly cycle on a trend with noise, far from zero (nothing to clip)."""
    frame = seasonal_frame(n, freq="MS", period=12, noise=0.5, seed=seed)
    frame["value"] = 300 + 20 * frame["value"] + 0.5 * np.arange(n)
    return frame


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The 144-row monthly series (one validation window) and its model; train's stderr."""
    directory = tmp_path_factory.mktemp("short")
    data, model = directory / "monthly.csv", directory / "m.fcst"
    monthly().to_csv(data, index=False)
    args = ["train", str(data), "-o", str(model), *FAST]
    result = invoke([a for a in args if a != "--quiet"])
    assert result.exit_code == 0, result.stderr
    return data, model, result.stderr


def bounds_frame(model: Path, *more: str) -> tuple[pd.DataFrame, str]:
    result = invoke(["predict", "-m", str(model), "--level", "80", "--level", "95", *more])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout)), result.stderr


def test_a_short_series_gets_two_distinct_intervals_around_its_forecast(
    short: tuple[Path, Path, str],
) -> None:
    """lo-95 < lo-80 < forecast < hi-80 < hi-95 on every row, with nothing said about
    unresolved levels: 97 origins through the training rows resolve the 95% interval."""
    _, model, _ = short
    frame, stderr = bounds_frame(model)
    point = frame["value"]
    assert (frame["value-lo-95"] < frame["value-lo-80"]).all()
    assert (frame["value-lo-80"] < point).all() and (point < frame["value-hi-80"]).all()
    assert (frame["value-hi-80"] < frame["value-hi-95"]).all()
    assert UNRESOLVED not in stderr
    from forecaster.pooled import SOURCE_POOLED

    info = artifact_io.load(model).intervals.info  # type: ignore[union-attr]
    assert info["windows"] == 1 and info["source"] == SOURCE_POOLED
    assert info["training_windows"] >= 19 and info["resolved_level"] >= 95
    assert min(info["widening"]) >= 1.0


def test_train_info_and_json_say_where_the_intervals_come_from(
    short: tuple[Path, Path, str], tmp_path: Path
) -> None:
    data, model, stderr = short
    assert "intervals from" in stderr and "origins through the training rows" in stderr
    from forecaster.pooled import SOURCE_POOLED, SOURCE_VALIDATION

    n = artifact_io.load(model).intervals.info["training_windows"]  # type: ignore[union-attr]
    assert f"intervals from {n} origins through the training rows widened x" in stderr
    assert "to the errors of 1 validation window of 1 series, too few alone" in stderr
    text = invoke(["info", str(model)]).stdout
    assert f"from {n} origins through the training rows" in text.split("intervals:")[1]
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["intervals"]["source"] == SOURCE_POOLED
    assert set(described["intervals"]["validation_coverage"]) == {"80", "95"}
    again = invoke(["train", str(data), "-o", str(tmp_path / "j.fcst"), "--format", "json", *FAST])
    assert json.loads(again.stdout)["intervals"]["source"] == SOURCE_POOLED
    # a series long enough keeps its validation windows alone, and says so
    long_data, long_model = tmp_path / "long.csv", tmp_path / "long.fcst"
    seasonal_frame(1000).to_csv(long_data, index=False)
    trained = invoke(["train", str(long_data), "-o", str(long_model), "--horizon", "7",
                      *FAST[:-1]])  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    summary = artifact_io.load(long_model).intervals.info  # type: ignore[union-attr]
    assert summary["source"] == SOURCE_VALIDATION and "training_windows" not in summary
    windows = summary["windows"]
    assert f"intervals from {windows} validation windows: 80% covered" in trained.stderr


def test_evaluate_and_plot_warn_when_a_level_is_not_resolved(
    short: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """As predict does: 99.5% needs the 0.0025 quantile, about 400 windows; 80 and 95 are
    resolved and draw no warning."""
    data, model, _ = short
    scored = ["evaluate", "-m", str(model), str(data), "--windows", "2"]
    quiet = invoke(scored)
    assert quiet.exit_code == 0, quiet.stderr
    assert UNRESOLVED not in quiet.stderr
    loud = invoke([*scored, "--level", "80", "--level", "99.5"])
    assert loud.exit_code == 0
    assert "level 99.5: the model's 1 validation windows and" in loud.stderr
    assert UNRESOLVED in loud.stderr and "level 80" not in loud.stderr
    picture = tmp_path / "p.png"
    drawn = invoke(["plot", "-m", str(model), "-o", str(picture)])
    assert drawn.exit_code == 0 and UNRESOLVED not in drawn.stderr
    wide = invoke(["plot", "-m", str(model), "--level", "99.5", "-o", str(picture)])
    assert wide.exit_code == 0 and "level 99.5: the model's" in wide.stderr


@settings(max_examples=40, deadline=None)
@given(
    validation=st.integers(1, 6),
    training=st.integers(19, 120),
    horizon=st.integers(1, 8),
    tail=st.floats(1.0, 6.0),
    seed=st.integers(0, 2**16),
)
def test_pooled_quantiles_are_symmetric_nested_and_never_narrowed(
    validation: int, training: int, horizon: int, tail: float, seed: int
) -> None:
    """Zero at the median, symmetric, increasing in p; strictly nested 80% inside 95% once
    19 windows resolve it; widened, never narrowed, by the validation windows."""
    from forecaster.pooled import pooled_quantiles

    rng = np.random.default_rng(seed)
    train = (
        rng.standard_t(tail + 1, size=(training, horizon, 1))
        * (1 + np.arange(horizon))[None, :, None]
    )
    val = 2 * rng.standard_normal((validation, horizon, 1))
    result = pooled_quantiles(val, train)
    assert result is not None
    quantiles, info = result
    assert np.all(np.diff(quantiles, axis=1) >= 0)
    middle = int(np.flatnonzero(np.isclose(PROBABILITIES, 0.5))[0])
    assert np.all(quantiles[:, middle] == 0)
    np.testing.assert_allclose(quantiles, -quantiles[:, ::-1], atol=1e-12)
    table = quantiles_at(quantiles, [0.025, 0.1, 0.9, 0.975])[:, :, 0]
    assert np.all(table[:, 0] < table[:, 1]) and np.all(table[:, 1] < 0)
    assert np.all(table[:, 2] > 0) and np.all(table[:, 2] < table[:, 3])
    assert info["widening"][0] >= 1.0 and info["weight"] == validation + training
