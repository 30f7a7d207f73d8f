"""Training from Python (`pipeline`, `sizing`, `packaging`, `validation`, `calibration`):
what the model file stores is the data's own rows, and every stage scores and calibrates
the same validation windows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from forecaster import pipeline
from forecaster.config import TrainConfig
from forecaster.data import Panel, Schema, build_panel, detect_schema
from forecaster.errors import DataError, UsageError
from forecaster.intervals import calibration_origins
from forecaster.packaging import stored_history
from forecaster.sizing import covariate_rows, resolve_sizes
from forecaster.validation import MAX_REPORT_WINDOWS, validation_scores
from tests.conftest import long_frame


def config(**overrides: object) -> TrainConfig:
    values: dict[str, object] = {"epochs": 1, "hidden": 8, "horizon": 7, "batch_size": 32,
                                 "ensemble": 1}  # fmt: skip
    values.update(overrides)
    return TrainConfig(**values).validate()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained() -> tuple[Panel, Any]:
    frame = long_frame((120, 90, 70))
    panel = build_panel(frame, detect_schema(frame))
    artifact, _ = pipeline.fit(panel, config())
    return panel, artifact


def test_pipeline_and_forecast_export_only_what_they_define() -> None:
    """Each name is reached from the module that defines it (no re-exports to keep alive)."""
    from forecaster import forecast

    for module in (pipeline, forecast):
        for name in module.__all__:
            assert getattr(module, name).__module__ == module.__name__, name
    assert {"fit", "prepare", "train_networks", "train_share"} <= set(pipeline.__all__)
    assert forecast.__all__ == ["predict"]


def test_the_model_stores_each_series_last_rows(trained: tuple[Panel, Any]) -> None:
    panel, artifact = trained
    lookback = artifact.model_config.lookback
    for s in range(panel.n_series):
        np.testing.assert_array_equal(artifact.context[s], panel.series(s)[-lookback:])
    assert artifact.context_real.tolist() == np.minimum(panel.lengths, lookback).tolist()
    assert list(artifact.series_end) == list(panel.ends())


def test_stored_history_pads_short_series_and_keeps_the_rows_before() -> None:
    values = np.arange(10.0)[:, None]  # s0: rows 0..5, s1: rows 6..9 (4 rows)
    panel = Panel(ids=["s0", "s1"], starts=[pd.Timestamp("2021-01-01")] * 2,
                  offsets=np.array([0, 6, 10]), values=values, freq="D",
                  schema=Schema(time="ds", targets=["y"]))  # fmt: skip
    stored = stored_history(panel, lookback=3, rows_before=2)
    np.testing.assert_array_equal(stored.context[:, :, 0], [[3, 4, 5], [7, 8, 9]])
    # Before s0's context: rows 1, 2; before s1's: row 6 alone, left-padded with itself.
    np.testing.assert_array_equal(stored.earlier[:, :, 0], [[1, 2], [6, 6]])
    assert stored.earlier_real.tolist() == [2, 1]
    assert stored.context_covariates is None and stored.earlier_covariates is None


def test_validation_scores_the_calibration_windows(trained: tuple[Panel, Any]) -> None:
    panel, artifact = trained
    split = pipeline.prepare(panel, config()).split
    series, _ = calibration_origins(split.n_train, split.n_val, artifact.model_config.horizon,
                                    MAX_REPORT_WINDOWS)  # fmt: skip
    report = artifact.summary["validation"]
    assert report["windows"] == len(series) > 0
    assert set(report["mase"]) == {"model", "naive", "seasonal_naive"}
    # The same call again gives the same numbers: scoring reads nothing it changes.
    again = validation_scores(artifact, panel, split, warn=False)
    assert again == report


def test_the_summary_counts_what_was_trained(trained: tuple[Panel, Any]) -> None:
    panel, artifact = trained
    summary = artifact.summary
    assert summary["series"] == 3 and summary["rows"] == int(panel.lengths.sum())
    assert summary["train_windows"] > 0 and summary["val_windows"] > 0
    assert [m["seed"] for m in summary["members"]] == [0]
    assert artifact.intervals is not None and artifact.intervals.scale.shape == (3, 1)
    assert summary["seconds"] >= summary["networks_done_seconds"] >= 0


def test_sizes_are_refused_when_the_data_cannot_hold_them() -> None:
    frame = long_frame((40,))
    panel = build_panel(frame, detect_schema(frame))
    with pytest.raises(UsageError, match="--lookback"):
        resolve_sizes(panel, config(lookback=40))
    with pytest.raises(DataError, match="too short for horizon"):
        resolve_sizes(panel, config(horizon=40))
    horizon, lookback = resolve_sizes(panel, config())
    assert horizon == 7 and 1 <= lookback <= 40 - 7


def test_covariate_rows_are_one_cycle_within_the_lookback() -> None:
    plain = Schema(time="ds", targets=["y"])
    with_past = Schema(time="ds", targets=["y"], past=["x"])
    assert covariate_rows(plain, 28, 7) == 0
    assert covariate_rows(with_past, 28, 7) == 7
    assert covariate_rows(with_past, 5, 7) == 5
    assert covariate_rows(with_past, 28, 1) == 2
