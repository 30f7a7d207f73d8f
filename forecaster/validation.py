"""How a trained model does on its validation windows: its MASE beside naive and seasonal
naive (the verdict `train` and `info` report), and what its LSTM gates did there.

Scored on the windows intervals are calibrated on (`intervals.calibration_origins`), so
that `train`, `info` and `predict` count the same windows.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from forecaster import verdict
from forecaster.artifact import Artifact
from forecaster.data import Panel
from forecaster.drivers import covariates_do_not_pay, hold_covariates
from forecaster.inputs import model_inputs, run_model
from forecaster.intervals import CALIBRATION_WINDOWS, calibration_origins
from forecaster.metrics import evaluate as score_forecasts
from forecaster.model import Ensemble
from forecaster.seasons import season_length, step_numbers
from forecaster.windows import Split

log = logging.getLogger("forecaster")


def validation_windows(
    artifact: Artifact, panel: Panel, split: Split, budget: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Series, origins and network inputs (scaled with the training statistics) of up to
    ``budget`` validation windows, the ones intervals are calibrated on
    (`intervals.calibration_origins`); None when no series has one. Scores, gates and the
    blend's choice all read these, so they judge the model on the same windows."""
    horizon = artifact.model_config.horizon
    series, origins = calibration_origins(split.n_train, split.n_val, horizon, budget)
    if not len(series):
        return None
    return series, origins, model_inputs(artifact, panel, artifact.scaler, series, origins)


# Validation windows scored against the baselines (evenly spread when there are more).
MAX_REPORT_WINDOWS = CALIBRATION_WINDOWS


def validation_scores(
    artifact: Artifact, panel: Panel, split: Split, warn: bool = True
) -> dict[str, Any] | None:
    """MASE of the trained model and of naive and seasonal naive on the validation windows.

    The windows intervals are calibrated on (`calibration_origins`: forecasts from each
    origin whose horizon lies in a series' validation rows), so `train`, `info` and
    `predict` count the same windows. A model that loses to a baseline here should not be
    shipped without a look; nor one whose covariates do no better than the same covariates
    held still (`drivers`); `train` says so (unless not ``warn``: scores of another model,
    such as the one an update started from). None when there is no validation window.
    """
    scored = validation_windows(artifact, panel, split, MAX_REPORT_WINDOWS)
    if scored is None:
        return None
    series, origins, contexts = scored
    actuals = panel.actuals(series, origins, artifact.model_config.horizon)
    history = panel.histories(series, origins)

    def mase_of(inputs: np.ndarray) -> tuple[float | None, dict[str, Any]]:
        forecasts = artifact.scaler.inverse(run_model(artifact, inputs).astype(np.float64), series)
        scores: dict[str, Any] = score_forecasts(
            forecasts,
            actuals,
            history,
            panel.schema.targets,
            season_length(panel.freq, panel.schema.session),
            1,
        ).to_dict()
        return scores["metrics"]["mase"], scores

    model, scores = mase_of(contexts)
    mase = {"model": model}
    for name, values in scores["baselines"].items():
        mase[name] = values["mase"]
    windows = f"the {len(series)} validation windows"
    if panel.schema.past or panel.schema.future:
        held, _ = mase_of(hold_covariates(artifact, contexts))
        mase["model_covariates_held"] = held
        warning = covariates_do_not_pay(model, held, windows)
        if warning and warn:
            log.warning("%s", warning)
    report = {"windows": len(series), "mase": mase}
    lost = verdict.losing_to(mase, [k for k in scores["baselines"] if k in verdict.BASELINES])
    if warn and lost is not None and len(series) >= verdict.MIN_WINDOWS:
        log.warning(
            "%s; a window is a forecast from an origin whose horizon lies in a series' "
            "validation rows",
            verdict.warning(windows, lost),
        )
    return report


# Validation windows whose gates `forecaster info` summarises.
GATE_SUMMARY_WINDOWS = 64


def gate_summary(
    artifact: Artifact, ensemble: Ensemble, panel: Panel, split: Split
) -> dict[str, Any] | None:
    """Mean forget gate and memory span per layer and the LSTM's share of the forecast, on
    up to `GATE_SUMMARY_WINDOWS` validation windows (`gates.model_summary`)."""
    from forecaster.gates import model_summary

    windows = validation_windows(artifact, panel, split, GATE_SUMMARY_WINDOWS)
    if windows is None:
        return None
    contexts = windows[2]
    first = panel.index(0)
    step = (first[1] - first[0]).total_seconds() if len(first) > 1 else 0.0
    ensemble.eval()
    if step_numbers(artifact.freq):
        return model_summary(ensemble, contexts, None)
    return model_summary(ensemble, contexts, step * artifact.model_config.segment)
