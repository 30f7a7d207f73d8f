"""Training, callable from Python: panel + config -> trained networks -> model.

`prepare` sizes the windows (`sizing`), splits, scales and cuts them (`windows`) and fits
the linear skip; `train_networks` trains the ensemble's networks on them; `fit` runs both
and hands the networks to `packaging`, which scores (`validation`) and calibrates
(`calibration`) them into an `Artifact`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from forecaster import outliers, starts
from forecaster.artifact import Artifact
from forecaster.config import ModelConfig, TrainConfig
from forecaster.data import Panel
from forecaster.distributed import World, one_machine_cpu, share_networks
from forecaster.linear import fit_skip
from forecaster.model import LSTMForecaster
from forecaster.packaging import package
from forecaster.seasons import default_horizon, season_length
from forecaster.sizing import covariate_rows, resolve_segment, resolve_sizes
from forecaster.train import (
    EpochReport,
    TrainResult,
    seed_everything,
    select_device,
    set_threads,
    train_model,
)
from forecaster.tuning import TUNING, Tuning
from forecaster.windows import (
    CovariateScaler,
    Scaler,
    Split,
    WindowSet,
    fit_covariate_scaler,
    fit_scaler,
    make_windows,
    split_series,
)

__all__ = ["Prepared", "fit", "prepare", "skip_candidates", "train_networks", "train_share"]

log = logging.getLogger("forecaster")


def skip_candidates(
    lookback: int, config: TrainConfig, lengths: np.ndarray, tuning: Tuning = TUNING
) -> list[list[int]]:
    """Sets of window lengths the linear skip may average: lookback x 1, 2, 4, 8, and with
    1/2 or 1/2 and 1/4 added, as the data allows.

    Only for the default lookback (an explicit --lookback is what the model reads). The
    longest stays within a third of the median series' training rows, so that most series
    still fill it and keep most of their training windows. Validation then chooses: on
    ETTh1 it takes the shorter lengths at every horizon, on M4 Hourly none (test MSE and
    OWA in benchmarks/README.md).
    """
    if config.lookback is not None or not config.linear_skip:
        return [[lookback]]
    rows = float(np.median(lengths)) * (1 - config.val_fraction) * tuning.skip_max_share
    candidates: list[list[int]] = []
    for scales in tuning.skip_candidates:
        lookbacks = sorted(
            {max(1, int(lookback * s)) for s in scales if s <= 1 or lookback * s <= rows}
        )
        if lookbacks not in candidates:
            candidates.append(lookbacks)
    return candidates


@dataclasses.dataclass
class Prepared:
    """What every network of a run trains from: sizes, split, scalers, windows, the skip."""

    split: Split
    scaler: Scaler
    covariate_scaler: CovariateScaler | None
    device: torch.device
    threads: int
    windows: WindowSet
    model_config: ModelConfig
    skip: Any  # linear.fit_skip's result, or None without the skip


def prepare(panel: Panel, config: TrainConfig, tuning: Tuning = TUNING) -> Prepared:
    """Sizes, split, scalers and windows, and the least-squares fit of the linear skip."""
    horizon, lstm_lookback = resolve_sizes(panel, config)
    segment, lstm_lookback = resolve_segment(
        config.segment, lstm_lookback, season_length(panel.freq, panel.schema.session)
    )
    candidates = skip_candidates(lstm_lookback, config, panel.lengths, tuning)
    lookback = max(max(c) for c in candidates)  # the context every window holds
    split = split_series(panel.lengths, horizon, lookback, config.val_fraction)
    if config.val_fraction > 0 and not split.n_val.any():
        wanted = max(horizon, int(np.ceil(config.val_fraction * int(panel.lengths.max()))))
        log.warning(
            "no validation windows: holding out %d rows for validation would leave no "
            "series the %d rows of one training window (lookback %d + horizon %d); training "
            "runs every epoch, keeps the last weights, and the forecast is not checked "
            "against naive. Give more data, or a smaller --horizon or --lookback",
            wanted,
            lookback + horizon,
            lookback,
            horizon,
        )
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
    covariate_scaler = fit_covariate_scaler(panel, split)
    device = select_device(config.device)
    threads = set_threads(config.threads)
    windows = make_windows(panel, scaler, split, lookback, horizon, device, seed=config.seed,
                           max_val_windows=tuning.max_val_windows,
                           covariate_scaler=covariate_scaler)  # fmt: skip
    schema = panel.schema
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
        lstm_lookback=lstm_lookback if lstm_lookback < lookback else None,
        members=config.ensemble,
        n_past=schema.n_past,
        n_future=schema.n_future,
        n_calendar=len(schema.calendar),
        n_static=schema.n_static,
        covariate_rows=covariate_rows(
            schema, lookback, season_length(panel.freq, panel.schema.session)
        ),
    )
    skip = (
        fit_skip(windows, config.window_norm, candidates, seed=config.seed, config=model_config)
        if config.linear_skip
        else None
    )
    if skip is not None:  # the covariate part validation chose for the skip
        model_config = dataclasses.replace(model_config, covariate_rows=skip[3].covariate_rows)
    return Prepared(split, scaler, covariate_scaler, device, threads, windows, model_config, skip)


def train_networks(
    panel: Panel,
    prep: Prepared,
    config: TrainConfig,
    on_epoch: Callable[[EpochReport], None] | None = None,
    world: World | None = None,
    deadline: float | None = None,
    start: list[dict[str, torch.Tensor]] | None = None,
    tuning: Tuning = TUNING,
) -> tuple[list[LSTMForecaster], list[TrainResult]]:
    """Train the ensemble's networks, this rank's share of them when there are several
    ranks (`distributed.share_networks`), and give every rank all of them in order.

    ``start``: each network's starting weights (`warmstart`), instead of fresh ones and
    the fitted skip."""
    world = world or World()
    pooled = world.parallel and one_machine_cpu(prep.device.type)
    share = share_networks(config.ensemble, world, pooled)
    what = (  # for the progress line
        f"{panel.n_series:,} series, {len(prep.windows.train_starts):,} windows, "
        f"{config.layers} x {config.hidden} LSTM"
    )
    trained: dict[int, tuple[LSTMForecaster, TrainResult]] = {}
    keep_start = False  # the first network never bettered its starting weights: see below
    decay = True  # False: the first network's final decay found nothing: see below
    for phase, k in enumerate(share.whole + share.together):
        seed_everything(config.seed + k)  # each member draws its weights and batches from its own
        member = LSTMForecaster(prep.model_config)
        skip = prep.skip
        if start is not None:
            member.load_state_dict(start[k])
        elif skip is not None and member.skip is not None:
            with torch.no_grad():
                member.skip.weight.copy_(skip[0])
                member.skip.bias.copy_(skip[1])
                if member.cov_skip is not None and skip[2] is not None:
                    member.cov_skip.weight.copy_(skip[2])
        report = None if on_epoch is None else _member_reports(on_epoch, k, config.ensemble, what)
        # A network trained with the cores of ranks that have none left (`share_networks`).
        torch.set_num_threads(prep.threads * (share.pool if k in share.pooled else 1))
        try:
            result = train_model(
                member,
                prep.windows,
                epochs=0 if keep_start else config.epochs,
                batch_size=config.batch_size,
                lr=config.lr,
                patience=config.patience,
                seed=config.seed + k,
                max_windows_per_epoch=config.max_windows_per_epoch,
                precision=config.precision,
                loss=config.loss,
                schedule=config.schedule,
                on_epoch=report,
                deadline=_member_deadline(deadline, phase, share.phases),
                world=world if k in share.together else None,
                tuning=tuning,
                final_decay=decay,
            )
        finally:
            torch.set_num_threads(prep.threads)
        trained[k] = (member, result)
        if phase == 0 and start is None and not world.parallel and _fruitless_decay(result, tuning):
            decay = False
            log.info(
                "network 1's final decay never bettered the weights it began from: the other "
                "networks stop where theirs would begin"
            )
        if phase == 0 and start is None and not world.parallel and _unbeaten(result, tuning):
            keep_start = True
            log.info(
                "network 1 never bettered the fitted linear skip it started from in %d epoch(s): "
                "the other networks keep theirs untrained", result.epochs_run,
            )  # fmt: skip
    if world.parallel:  # the networks trained whole, from every rank to every rank
        mine = {k: (_cpu_state(trained[k][0]), trained[k][1]) for k in share.whole}
        for theirs in world.gather(mine):
            for k, (state, result) in theirs.items():
                if k not in trained:
                    member = LSTMForecaster(prep.model_config)
                    member.load_state_dict(state)
                    trained[k] = (member.to(prep.device), result)
    order = sorted(trained)
    return [trained[k][0] for k in order], [trained[k][1] for k in order]


def _unbeaten(result: TrainResult, tuning: Tuning) -> bool:
    """Whether a network's whole training, up to the end of its final decay, never bettered
    on validation the starting weights every network shares: the fitted skip (and a head of
    small random output). The others would then most likely keep theirs too, which is what
    `Tuning.unbeaten_first_decides` has them do without the epochs. Without the decay (one
    series of a few thousand windows: patience of one epoch's checks) it is no such
    evidence: on the trading-day prices the later networks bettered their start."""
    return (
        tuning.unbeaten_first_decides
        and tuning.check_at_start
        and result.best_epoch == 0
        and result.best_val_loss is not None
        and result.decayed
        and not result.stopped_by_time
    )


def _fruitless_decay(result: TrainResult, tuning: Tuning) -> bool:
    """Whether a network's final decay ran and never bettered on validation the best weights
    it began from; the others' decays would then most likely find nothing either, and be
    restored away (`Tuning.fruitless_decay_first_decides`)."""
    return (
        tuning.fruitless_decay_first_decides
        and result.decayed
        and result.best_val_loss is not None
        and result.best_epoch <= result.decay_began
        and not result.stopped_by_time
    )


def as_trained(panel: Panel, config: TrainConfig, source: str = "") -> Panel:
    """What training reads of ``panel``: each series from its start (`starts`; at least one
    training window of the horizon and two rows before it), its outliers filled."""
    horizon = config.horizon or default_horizon(panel.freq, panel.schema.session)
    panel = starts.started(panel, config.leading_run, horizon + 2, source=source)
    return outliers.cleaned(panel, config.outliers, source=source)


def train_share(panel: Panel, config: TrainConfig, world: World) -> None:
    """What a rank other than 0 does: its share of the networks, then rank 0 writes."""
    panel = as_trained(panel, config)
    with world.agreed():
        prep = prepare(panel, config)
    deadline = time.perf_counter() + config.max_time if config.max_time else None
    train_networks(panel, prep, config, None, world, deadline)


def fit(
    panel: Panel,
    config: TrainConfig,
    on_epoch: Callable[[EpochReport], None] | None = None,
    world: World | None = None,
    tuning: Tuning = TUNING,
) -> tuple[Artifact, TrainResult]:
    """Split, scale, window, train every ensemble member, and package what prediction needs.

    With ``world`` (torchrun's ranks), rank 0's part: every rank prepares the same windows
    and trains its share of the networks; rank 0 packages them (the others: `train_share`).
    """
    started = time.perf_counter()
    world = world or World()
    panel = as_trained(panel, config, source="DATA")
    with world.agreed():
        prep = prepare(panel, config, tuning)
    prepared = time.perf_counter() - started
    deadline = started + config.max_time if config.max_time else None
    members, results = train_networks(panel, prep, config, on_epoch, world, deadline, tuning=tuning)
    trained = time.perf_counter() - started
    return package(panel, config, prep, members, results, world, started, prepared, trained)


def _member_deadline(deadline: float | None, phase: int, phases: int) -> float | None:
    """Each network's share of what is left of --max-time: an equal part of the rest, so a
    network that stops early leaves its time to the next ones (networks that ranks train at
    the same time are one phase)."""
    if deadline is None:
        return None
    now = time.perf_counter()
    return now + max(0.0, deadline - now) / (phases - phase)


def _cpu_state(member: LSTMForecaster) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in member.state_dict().items()}


def _member_reports(
    on_epoch: Callable[[EpochReport], None], member: int, members: int, what: str
) -> Callable[[EpochReport], None]:
    def report(epoch: EpochReport) -> None:
        on_epoch(dataclasses.replace(epoch, member=member, members=members, what=what))

    return report
