"""The trained networks with what prediction needs, as one `Artifact`: scalers, the stored
end of every series' history, the run's summary, the blend, validation scores, gate
summary and calibrated intervals (docs/model-file.md).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from forecaster.artifact import Artifact, earlier_rows, versions
from forecaster.blend import choose as choose_blend
from forecaster.calibration import calibrate
from forecaster.config import TrainConfig
from forecaster.data import Panel
from forecaster.distributed import World, one_machine_cpu, placements
from forecaster.model import Ensemble, LSTMForecaster
from forecaster.nonnegative import recorded
from forecaster.train import LOSSES, TrainResult, evaluate_loss
from forecaster.validation import gate_summary, validation_scores
from forecaster.windows import Scaler, Split, WindowSet, context_windows

if TYPE_CHECKING:  # pipeline imports this module: its Prepared is a type here
    from forecaster.pipeline import Prepared


def package(
    panel: Panel,
    config: TrainConfig,
    prep: Prepared,
    members: list[LSTMForecaster],
    results: list[TrainResult],
    world: World,
    started: float,
    prepared: float,
    trained: float,
    finish: bool = True,
) -> tuple[Artifact, TrainResult]:
    """The trained networks with what prediction needs: scalers, the stored context,
    validation scores, gates and calibrated intervals (``started``: the fit's
    `time.perf_counter` start; ``prepared`` and ``trained``: seconds from it). Not
    ``finish``: without gates and intervals yet (`finish_package`: an update first
    compares its networks with the ones it started from)."""
    split, model_config = prep.split, prep.model_config
    lookback = model_config.lookback
    ensemble = Ensemble(model_config, members)
    result = _ensemble_result(ensemble, prep.windows, results, config)
    before = np.maximum(panel.lengths - lookback, 0)  # rows before each stored context
    stored = stored_history(panel, lookback, earlier_rows(model_config, before))
    artifact = Artifact(
        model_config=model_config,
        train_config=config,
        schema=panel.schema,
        freq=panel.freq,
        ids=panel.ids,
        scaler=prep.scaler,
        context=stored.context,
        context_real=np.minimum(panel.lengths, lookback),
        series_end=list(panel.ends()),
        train_end=list(panel.timestamps(np.arange(panel.n_series), split.n_train - 1)),
        weights={k: v.detach().cpu().numpy().copy() for k, v in ensemble.state_dict().items()},
        history=result.history,
        covariate_scaler=prep.covariate_scaler,
        context_covariates=stored.context_covariates,
        nonnegative=recorded(panel),
        earlier=stored.earlier,
        earlier_real=stored.earlier_real,
        earlier_covariates=stored.earlier_covariates,
        summary=run_summary(panel, config, prep, result, results, world, prepared, trained),
        versions=versions(),
    )
    artifact.blend, chosen = choose_blend(artifact, panel, split)
    artifact.summary["blend"] = chosen or None
    artifact.summary["validation"] = validation_scores(artifact, panel, split)
    if finish:
        finish_package(artifact, ensemble, panel, split, started)
    return artifact, result


def finish_package(
    artifact: Artifact, ensemble: Ensemble, panel: Panel, split: Split, started: float
) -> None:
    """A packaged model's gate summary and calibrated intervals, and its fit's seconds."""
    artifact.summary["gates"] = gate_summary(artifact, ensemble, panel, split)
    calibration_started = time.perf_counter()
    artifact.intervals = calibrate(artifact, panel, split)
    artifact.summary["calibration_seconds"] = round(time.perf_counter() - calibration_started, 3)
    # One measure of time, printed by `train` and stored for `info`: all of the fit.
    artifact.summary["seconds"] = round(time.perf_counter() - started, 3)


@dataclasses.dataclass
class StoredHistory:
    """The end of every series' history as the model file keeps it, in data units: the
    ``lookback`` rows `predict` without DATA forecasts from, and the rows before them that
    an update learns from (`warmstart`), each with their covariates (None without)."""

    context: np.ndarray  # (S, L, C)
    context_covariates: np.ndarray | None  # (S, L, K)
    earlier: np.ndarray  # (S, E, C)
    earlier_real: np.ndarray  # (S,) how many of the E rows are real, not padding
    earlier_covariates: np.ndarray | None  # (S, E, K)


def stored_history(panel: Panel, lookback: int, rows_before: int) -> StoredHistory:
    """The last ``lookback`` rows of each series and the ``rows_before`` before them, cut
    as `context_windows` cuts a window (short series left-padded with their first row)."""
    raw = Scaler.identity(panel.n_series, len(panel.schema.targets))
    contexts = context_windows(panel, raw, lookback, dtype=np.float64)
    before = np.maximum(panel.lengths - lookback, 0)  # rows before each stored context
    earlier = context_windows(panel, raw, rows_before, ends=before, dtype=np.float64)
    return StoredHistory(
        context=contexts,
        context_covariates=_covariate_rows(panel, panel.lengths, lookback),
        earlier=earlier,
        earlier_real=np.minimum(before, rows_before),
        earlier_covariates=_covariate_rows(panel, before, rows_before),
    )


def _covariate_rows(panel: Panel, ends: np.ndarray, rows: int) -> np.ndarray | None:
    """The raw covariates (S, rows, K) of the ``rows`` rows before ``ends[s]`` of each series,
    left-padded as `context_windows` pads; None without covariates."""
    if panel.covariates is None:
        return None
    within = np.maximum(ends[:, None] + np.arange(-rows, 0)[None, :], 0)
    covariates: np.ndarray = panel.covariates[panel.offsets[:-1][:, None] + within]
    return covariates


def run_summary(
    panel: Panel,
    config: TrainConfig,
    prep: Prepared,
    result: TrainResult,
    results: list[TrainResult],
    world: World,
    prepared: float,
    trained: float,
) -> dict[str, Any]:
    """How the run went, for `info`: the ensemble's ``result`` and each member's
    ``results``, the data's size, where the time went and what ran where."""
    pooled = world.parallel and one_machine_cpu(prep.device.type)
    placed = placements(config.ensemble, world.size, pooled)
    skip = prep.skip
    return {
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "best_val_loss": result.best_val_loss,
        "best_train_loss": result.best_train_loss,
        "stopped_early": result.stopped_early,
        "stopped_by_time": result.stopped_by_time,
        "training_seconds": round(result.seconds, 3),
        # Where the fit's time went (wall clock, from its start): to see what pays.
        "preparation_seconds": round(prepared, 3),
        "networks_done_seconds": round(trained, 3),
        "series": panel.n_series,
        "rows": int(panel.lengths.sum()),
        "train_windows": len(prep.windows.train_starts),
        "val_windows": len(prep.windows.val_starts),
        "device": str(prep.device),
        "threads": prep.threads,
        "processes": world.size,
        "linear_skip": dataclasses.asdict(skip[3]) if skip is not None else None,
        "members": [
            {
                "seed": config.seed + k,
                "epochs_run": r.epochs_run,
                "best_epoch": r.best_epoch,
                "best_val_loss": r.best_val_loss,
                "stopped_early": r.stopped_early,
                "stopped_by_time": r.stopped_by_time,
                "seconds": round(r.seconds, 3),
                "processes": placed[k][0],
                "threads": prep.threads * placed[k][1],
                **({"decay_skipped": True} if r.decay_skipped else {}),
            }
            for k, r in enumerate(results)
        ],
    }


def _ensemble_result(
    ensemble: Ensemble, windows: WindowSet, results: list[TrainResult], config: TrainConfig
) -> TrainResult:
    """One summary of the members' runs; the validation loss is the averaged forecast's."""
    if len(results) == 1:
        return results[0]
    val_loss = None
    if len(windows.val_starts):
        autocast = torch.autocast(windows.series.device.type, enabled=False)
        loss_fn = LOSSES[config.loss]()
        val_loss = evaluate_loss(ensemble, windows, windows.val_starts, loss_fn, autocast)
    return TrainResult(
        history=[{**h, "member": k} for k, r in enumerate(results) for h in r.history],
        epochs_run=sum(r.epochs_run for r in results),
        best_epoch=max(r.best_epoch for r in results),
        best_val_loss=val_loss,
        best_train_loss=None if val_loss is not None else results[0].best_train_loss,
        seconds=sum(r.seconds for r in results),
        stopped_early=all(r.stopped_early for r in results),
        stopped_by_time=any(r.stopped_by_time for r in results),
    )
