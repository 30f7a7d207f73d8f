"""From a trained model and recent history to future values with timestamps.

All series go through the network in one batched pass, in NumPy (`inference`):
prediction never imports torch. What the network reads is built by `inputs`, the bounds by
`uncertainty`, the table by `frames`; backtests live in `backtest`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster import nonnegative, outliers, starts
from forecaster.artifact import Artifact
from forecaster.data import Panel
from forecaster.errors import DataError
from forecaster.frames import forecast_frame
from forecaster.inputs import (
    check_context,
    check_horizon,
    horizon_covariates,
    model_inputs,
    required_rows,
    run_ensemble,
    stored_contexts,
    window_scaler,
)
from forecaster.uncertainty import Uncertainty, error_scales, require_intervals, uncertainty_columns
from forecaster.windows import assemble_inputs, scale_contexts

__all__ = ["predict"]


def read_as_trained(artifact: Artifact, panel: Panel) -> Panel:
    """DATA as the model's training read its data: each series from its start (`starts`),
    its outliers filled (`outliers`), each said in one line."""
    config = artifact.train_config
    panel = starts.started(panel, config.leading_run, starts.kept_rows(artifact), source="DATA")
    return outliers.cleaned(panel, config.outliers, source="DATA")


def predict(
    artifact: Artifact,
    panel: Panel | None = None,
    horizon: int | None = None,
    asked: Uncertainty | None = None,
    future: np.ndarray | None = None,
    future_source: str = "DATA",
) -> pd.DataFrame:
    """Forecast every series: from the context stored in the model, or from ``panel``'s tail,
    with the intervals and quantiles ``asked`` for. A model with future covariates reads
    them from ``future`` (S, H, Kf; a --future file) or else from the rows after each
    series' last target value in ``panel``."""
    asked = asked or Uncertainty([], [])
    if asked:
        require_intervals(artifact)
    horizon = check_horizon(artifact, horizon)
    lookback = artifact.model_config.lookback
    if panel is None:
        ids, ends = artifact.ids, pd.DatetimeIndex(artifact.series_end)
        scaler = artifact.scaler
        contexts = scale_contexts(stored_contexts(artifact), scaler.mean, scaler.std)
        if artifact.covariate_scaler is not None:
            assert artifact.context_covariates is not None
            ahead = horizon_covariates(artifact, list(ids), ends, future, future_source)
            schema = artifact.schema
            contexts = assemble_inputs(
                contexts, np.concatenate([artifact.context_covariates, ahead], axis=1),
                artifact.covariate_scaler, schema.n_past, schema.n_future,
            )  # fmt: skip
    else:
        needed = required_rows(artifact)
        panel = read_as_trained(artifact, panel)
        too_short = np.flatnonzero(panel.lengths < needed)
        if len(too_short):
            s = int(too_short[0])
            raise DataError(
                f"series {panel.ids[s]!r} has {int(panel.lengths[s])} row(s); the model reads "
                f"{lookback} and cannot forecast from fewer than {needed} (one season, or its "
                "LSTM's window): give more recent history, or predict without DATA from the "
                "history stored in the model"
            )
        ids, ends = panel.ids, panel.ends()
        series = np.arange(panel.n_series)
        scaler = window_scaler(artifact, panel, series, panel.lengths)
        ahead = None
        if artifact.covariate_scaler is not None:
            given = future
            if given is None and panel.future is not None:
                first = artifact.schema.n_past
                given = panel.future[:, :, first : first + len(artifact.schema.future)]
            ahead = horizon_covariates(artifact, list(ids), ends, given, future_source)
        contexts = model_inputs(artifact, panel, scaler, series, panel.lengths,
                                window_scaler=scaler, future=ahead)  # fmt: skip
        check_context(artifact, panel, series, panel.lengths, scaler, contexts)
    scaled, spread = run_ensemble(artifact, contexts)
    everyone = np.arange(len(ids))
    values = scaler.inverse(scaled[:, :horizon].astype(np.float64), everyone)  # (S, H, C)
    ends_at = everyone if panel is None else panel.lengths
    held = nonnegative.mask(artifact, panel, everyone, ends_at)
    extra = {}
    if asked:
        spread = spread[:, :horizon] * scaler.std[:, None, :]
        scale = error_scales(artifact, panel, everyone, ends_at)
        extra = uncertainty_columns(artifact, values, spread, scale, asked, list(ids))
        extra = {name: nonnegative.clip(bounds, held) for name, bounds in extra.items()}
    return forecast_frame(artifact, ids, ends, nonnegative.clip(values, held), extra)
