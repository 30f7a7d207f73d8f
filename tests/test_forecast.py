"""Predicting from Python (`forecast`, `inputs`, `backtest`): the stored history and the
data's own tail give the network the same input, a new series is scaled by the rows
before its origin only, and a backtest scores the rows after each origin."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import artifact as artifact_io
from forecaster.artifact import Artifact
from forecaster.backtest import backtest, rows_after_origin
from forecaster.data import Panel, drop_last, load_panel_like
from forecaster.forecast import predict
from forecaster.inputs import model_inputs, window_scaler
from forecaster.windows import row_statistics, scale_contexts


@pytest.fixture(scope="module")
def model_and_panel(trained_model: Path) -> tuple[Artifact, Panel]:
    artifact = artifact_io.load(trained_model)
    data = trained_model.parent / "seasonal.csv"
    return artifact, load_panel_like(data, artifact.schema, artifact.freq)


def test_stored_and_given_history_are_the_same_network_input(
    model_and_panel: tuple[Artifact, Panel],
) -> None:
    """The contexts a model stores are scaled as a window cut from the data is: the same
    bits, so `predict` with and without DATA cannot drift apart."""
    artifact, panel = model_and_panel
    scaler = artifact.scaler
    stored = scale_contexts(artifact.context, scaler.mean, scaler.std)
    given = model_inputs(artifact, panel, scaler, np.arange(panel.n_series), panel.lengths)
    assert stored.dtype == given.dtype == np.float32
    np.testing.assert_array_equal(stored, given)
    pd.testing.assert_frame_equal(predict(artifact), predict(artifact, panel), check_exact=True)


def test_a_new_series_is_scaled_by_the_rows_before_its_origin(
    model_and_panel: tuple[Artifact, Panel],
) -> None:
    artifact, panel = model_and_panel
    renamed = dataclasses.replace(panel, ids=["never seen"])
    origins = np.array([50, 200])
    scaler = window_scaler(artifact, renamed, np.array([0, 0]), origins, warn=False)
    for k, origin in enumerate(origins):
        mean, std = row_statistics(panel.series(0)[:origin])
        np.testing.assert_array_equal(scaler.mean[k], mean)
        np.testing.assert_array_equal(scaler.std[k], std)
    # A series the model knows keeps the statistics of its training rows, whatever the origin.
    known = window_scaler(artifact, panel, np.array([0, 0]), origins)
    np.testing.assert_array_equal(known.mean, np.repeat(artifact.scaler.mean, 2, axis=0))


def test_a_backtest_scores_the_rows_after_each_origin(
    model_and_panel: tuple[Artifact, Panel],
) -> None:
    artifact, panel = model_and_panel
    result = backtest(artifact, panel, windows=3, stride=5)
    length = int(panel.lengths[0])
    assert result.origins.tolist() == [length - 7 - 10, length - 7 - 5, length - 7]
    np.testing.assert_array_equal(result.actuals, panel.actuals(result.series, result.origins, 7))
    assert np.isfinite(result.forecasts).all() and result.forecasts.shape == (3, 7, 1)
    # The last window forecasts what `predict` forecasts from the data cut at its origin.
    cut = drop_last(panel, 7)
    alone = predict(artifact, cut)[artifact.schema.targets[0]].to_numpy()
    np.testing.assert_allclose(result.forecasts[-1, :, 0], alone, rtol=1e-6)
    # Without covariates an origin leaves the steps scored after it, no more.
    assert rows_after_origin(artifact, 3) == 3
