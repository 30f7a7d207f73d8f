"""Wiring of the training stages, callable from Python: panel + config -> trained artifact."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from forecaster.artifact import Artifact, versions
from forecaster.config import ModelConfig, TrainConfig
from forecaster.data import Panel
from forecaster.errors import DataError, UsageError
from forecaster.frequency import default_horizon, default_lookback, season_length, weekly_cycle
from forecaster.model import LSTMForecaster
from forecaster.train import (
    EpochReport,
    TrainResult,
    seed_everything,
    select_device,
    set_threads,
    train_model,
)
from forecaster.windows import (
    Scaler,
    context_windows,
    fit_scaler,
    make_windows,
    resolve_lookback,
    split_series,
)

log = logging.getLogger("forecaster")


def resolve_sizes(panel: Panel, config: TrainConfig) -> tuple[int, int]:
    """Horizon and lookback for this data: the user's, or defaults from the frequency."""
    horizon = config.horizon or default_horizon(panel.freq)
    lengths = panel.lengths
    longest = int(lengths.max())
    if config.lookback is not None and config.lookback >= longest:
        raise UsageError(
            f"invalid value for --lookback: {config.lookback}; the longest series has {longest} "
            f"rows, so use 1 to {max(1, longest - horizon)}"
        )
    if horizon >= longest:
        raise DataError(
            f"the longest series has {longest} rows, too short for horizon {horizon}: "
            f"give more data or a smaller --horizon"
        )
    default = default_lookback(horizon, season_length(panel.freq), weekly_cycle(panel.freq))
    lookback, note = resolve_lookback(
        config.lookback, default, lengths, horizon, config.val_fraction
    )
    if note:
        log.warning("%s", note)
    if panel.n_series == 1 and longest < lookback + horizon:
        raise DataError(
            f"the series has {longest} rows; lookback {lookback} + horizon {horizon} needs at "
            f"least {lookback + horizon} rows: give more data or a smaller --lookback/--horizon"
        )
    return horizon, lookback


def resolve_segment(requested: int, lookback: int, season: int) -> tuple[int, int]:
    """Steps per LSTM input and the lookback rounded down to a multiple of it.

    Automatic (0): one seasonal cycle per step when the window holds at least four cycles,
    else one time step per LSTM step.
    """
    segment = requested or (season if season > 1 and lookback >= 4 * season else 1)
    if segment > lookback:
        segment = 1
    return segment, lookback - lookback % segment


def fit(
    panel: Panel,
    config: TrainConfig,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> tuple[Artifact, TrainResult]:
    """Split, scale, window, train, and package everything prediction needs."""
    horizon, lookback = resolve_sizes(panel, config)
    segment, lookback = resolve_segment(config.segment, lookback, season_length(panel.freq))
    split = split_series(panel.lengths, horizon, lookback, config.val_fraction)
    if panel.n_series > 1:
        short = [panel.ids[i] for i in np.flatnonzero(panel.lengths < lookback + horizon)]
        if short:
            log.warning(
                "%d series shorter than lookback + horizon (%d rows), trained and forecast from "
                "padded context: %s",
                len(short),
                lookback + horizon,
                ", ".join(short[:5]) + (", ..." if len(short) > 5 else ""),
            )
    scaler = fit_scaler(panel, split)
    device = select_device(config.device)
    threads = set_threads(config.threads)
    seed_everything(config.seed)
    windows = make_windows(panel, scaler, split, lookback, horizon, device, seed=config.seed)
    model_config = ModelConfig(
        n_targets=len(panel.schema.targets),
        lookback=lookback,
        horizon=horizon,
        hidden=config.hidden,
        layers=config.layers,
        dropout=config.dropout,
        window_norm=config.window_norm,
        linear_skip=config.linear_skip,
        segment=segment,
    )
    model = LSTMForecaster(model_config)
    result = train_model(
        model,
        windows,
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        patience=config.patience,
        seed=config.seed,
        max_windows_per_epoch=config.max_windows_per_epoch,
        precision=config.precision,
        loss=config.loss,
        schedule=config.schedule,
        on_epoch=on_epoch,
    )
    raw = Scaler.identity(panel.n_series, len(panel.schema.targets))
    contexts = context_windows(panel, raw, lookback, dtype=np.float64)
    train_end = [panel.index(i)[int(split.n_train[i]) - 1] for i in range(panel.n_series)]
    artifact = Artifact(
        model_config=model_config,
        train_config=config,
        schema=panel.schema,
        freq=panel.freq,
        ids=panel.ids,
        scaler=scaler,
        context=contexts,
        context_real=np.minimum(panel.lengths, lookback),
        series_end=[panel.end(i) for i in range(panel.n_series)],
        train_end=train_end,
        weights={k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()},
        history=result.history,
        summary={
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "best_train_loss": result.best_train_loss,
            "stopped_early": result.stopped_early,
            "seconds": round(result.seconds, 3),
            "series": panel.n_series,
            "rows": int(panel.lengths.sum()),
            "train_windows": len(windows.train_starts),
            "val_windows": len(windows.val_starts),
            "device": str(device),
            "threads": threads,
        },
        versions=versions(),
    )
    return artifact, result
