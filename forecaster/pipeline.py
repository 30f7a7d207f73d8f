"""Wiring of the training stages, callable from Python: panel + config -> trained artifact."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from forecaster import verdict
from forecaster.artifact import Artifact, earlier_rows, versions
from forecaster.blend import choose as choose_blend
from forecaster.config import ModelConfig, TrainConfig
from forecaster.data import Panel, Schema
from forecaster.distributed import World, one_machine_cpu, placements, share_networks
from forecaster.drivers import covariates_do_not_pay, hold_covariates
from forecaster.errors import DataError, UsageError
from forecaster.forecast import model_inputs, recent_difficulty, run_ensemble, run_model
from forecaster.frequency import (
    default_horizon,
    default_lookback,
    season_length,
    step_numbers,
    weekly_cycle,
)
from forecaster.intervals import (
    CALIBRATION_WINDOWS,
    DIFFICULTY_PRIOR,
    SPREAD_WEIGHT,
    Intervals,
    base_scale,
    calibration_origins,
    difficulty_origins,
    fit_intervals,
    recency_weights,
)
from forecaster.linear import fit_skip
from forecaster.metrics import evaluate as score_forecasts
from forecaster.model import Ensemble, LSTMForecaster
from forecaster.nonnegative import recorded
from forecaster.pooled import (
    SOURCE_VALIDATION,
    needs_pooling,
    pool_intervals,
    training_origins,
)
from forecaster.train import (
    LOSSES,
    EpochReport,
    TrainResult,
    evaluate_loss,
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
    context_windows,
    fit_covariate_scaler,
    fit_scaler,
    make_windows,
    resolve_lookback,
    split_series,
)

log = logging.getLogger("forecaster")


def resolve_sizes(panel: Panel, config: TrainConfig) -> tuple[int, int]:
    """Horizon and lookback for this data: the user's, or defaults from the frequency."""
    horizon = config.horizon or default_horizon(panel.freq, panel.schema.session)
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
    default = default_lookback(
        horizon,
        season_length(panel.freq, panel.schema.session),
        weekly_cycle(panel.freq, panel.schema.session),
    )
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


# The most recurrent steps an automatic segment leaves the LSTM. Backpropagation through
# time costs in proportion to them: half-hourly data read 96 rows one by one, weekly data
# 104, and ETTh1 at h = 720 60 segments of a day, and took minutes where 16 steps take
# seconds (benchmarks/README.md, "Time to forecast").
MAX_LSTM_STEPS = 16


def resolve_segment(requested: int, lookback: int, season: int) -> tuple[int, int]:
    """Steps per LSTM input and the lookback rounded down to a multiple of it.

    Automatic (0): whole seasonal cycles per step when the window holds at least four
    cycles (one cycle, or as many as keep the LSTM within `MAX_LSTM_STEPS` steps), else
    as few time steps per LSTM step as keep it within `MAX_LSTM_STEPS`.
    """
    unit = season if season > 1 and lookback >= 4 * season else 1
    segment = requested or unit * math.ceil(lookback / (unit * MAX_LSTM_STEPS))
    if segment > lookback:
        segment = 1
    return segment, lookback - lookback % segment


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
                epochs=config.epochs,
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
            )
        finally:
            torch.set_num_threads(prep.threads)
        trained[k] = (member, result)
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


def train_share(panel: Panel, config: TrainConfig, world: World) -> None:
    """What a rank other than 0 does: its share of the networks, then rank 0 writes."""
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
    with world.agreed():
        prep = prepare(panel, config, tuning)
    prepared = time.perf_counter() - started
    deadline = started + config.max_time if config.max_time else None
    members, results = train_networks(panel, prep, config, on_epoch, world, deadline, tuning=tuning)
    trained = time.perf_counter() - started
    return package(panel, config, prep, members, results, world, started, prepared, trained)


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
) -> tuple[Artifact, TrainResult]:
    """The trained networks with what prediction needs: scalers, the stored context,
    validation scores, gates and calibrated intervals (``started``: the fit's
    `time.perf_counter` start; ``prepared`` and ``trained``: seconds from it)."""
    pooled = world.parallel and one_machine_cpu(prep.device.type)
    placed = placements(config.ensemble, world.size, pooled)
    split, scaler, covariate_scaler = prep.split, prep.scaler, prep.covariate_scaler
    device, threads, windows = prep.device, prep.threads, prep.windows
    model_config, skip = prep.model_config, prep.skip
    lookback = model_config.lookback
    ensemble = Ensemble(model_config, members)
    result = _ensemble_result(ensemble, windows, results, config)
    raw = Scaler.identity(panel.n_series, len(panel.schema.targets))
    contexts = context_windows(panel, raw, lookback, dtype=np.float64)
    context_covariates = None
    if panel.covariates is not None:
        rows = np.maximum(panel.lengths[:, None] + np.arange(-lookback, 0)[None, :], 0)
        context_covariates = panel.covariates[panel.offsets[:-1][:, None] + rows]  # (S, L, K)
    train_end = list(panel.timestamps(np.arange(panel.n_series), split.n_train - 1))
    before = np.maximum(panel.lengths - lookback, 0)  # rows before each stored context
    rows_before = earlier_rows(model_config)
    earlier = context_windows(panel, raw, rows_before, ends=before, dtype=np.float64)
    earlier_covariates = None
    if panel.covariates is not None:
        rows = np.maximum(before[:, None] + np.arange(-rows_before, 0)[None, :], 0)
        earlier_covariates = panel.covariates[panel.offsets[:-1][:, None] + rows]
    artifact = Artifact(
        model_config=model_config,
        train_config=config,
        schema=panel.schema,
        freq=panel.freq,
        ids=panel.ids,
        scaler=scaler,
        context=contexts,
        context_real=np.minimum(panel.lengths, lookback),
        series_end=list(panel.ends()),
        train_end=train_end,
        weights={k: v.detach().cpu().numpy().copy() for k, v in ensemble.state_dict().items()},
        history=result.history,
        covariate_scaler=covariate_scaler,
        context_covariates=context_covariates,
        nonnegative=recorded(panel),
        earlier=earlier,
        earlier_real=np.minimum(before, rows_before),
        earlier_covariates=earlier_covariates,
        summary={
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
            "train_windows": len(windows.train_starts),
            "val_windows": len(windows.val_starts),
            "device": str(device),
            "threads": threads,
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
                }
                for k, r in enumerate(results)
            ],
        },
        versions=versions(),
    )
    artifact.blend, chosen = choose_blend(artifact, panel, split)
    artifact.summary["blend"] = chosen or None
    artifact.summary["validation"] = validation_scores(artifact, panel, split)
    artifact.summary["gates"] = gate_summary(artifact, ensemble, panel, split)
    calibration_started = time.perf_counter()
    artifact.intervals = calibrate(artifact, panel, split)
    artifact.summary["calibration_seconds"] = round(time.perf_counter() - calibration_started, 3)
    # One measure of time, printed by `train` and stored for `info`: all of the fit.
    artifact.summary["seconds"] = round(time.perf_counter() - started, 3)
    return artifact, result


# Context rows of each covariate whose changes the linear skip reads: one seasonal cycle.
COVARIATE_CYCLES = 1


def covariate_rows(schema: Schema, lookback: int, season: int) -> int:
    """Most rows of the covariates' recent history the linear skip may read (0: no
    covariates); validation chooses how many of them pay (`linear.covariate_parts`)."""
    if not (schema.n_past + len(schema.future)):
        return 0
    return int(min(lookback, max(2, COVARIATE_CYCLES * season)))


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
    horizon = artifact.model_config.horizon
    series, origins = calibration_origins(split.n_train, split.n_val, horizon,
                                          MAX_REPORT_WINDOWS)  # fmt: skip
    if not len(series):
        return None
    contexts = model_inputs(artifact, panel, artifact.scaler, series, origins)
    actuals = panel.values[(panel.offsets[series] + origins)[:, None] + np.arange(horizon)]
    history = [panel.series(int(s))[: int(o)] for s, o in zip(series, origins, strict=True)]

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

    horizon = artifact.model_config.horizon
    series, origins = calibration_origins(split.n_train, split.n_val, horizon,
                                          GATE_SUMMARY_WINDOWS)  # fmt: skip
    if not len(series):
        return None
    contexts = model_inputs(artifact, panel, artifact.scaler, series, origins)
    first = panel.index(0)
    step = (first[1] - first[0]).total_seconds() if len(first) > 1 else 0.0
    ensemble.eval()
    if step_numbers(artifact.freq):
        return model_summary(ensemble, contexts, None)
    return model_summary(ensemble, contexts, step * artifact.model_config.segment)


def calibrate(
    artifact: Artifact,
    panel: Panel,
    split: Split,
    prior: float = DIFFICULTY_PRIOR,
    spread_weight: float = SPREAD_WEIGHT,
) -> Intervals | None:
    """Intervals from the trained model's errors on its validation windows (`intervals`).

    None when no series has a validation window: then the model gives point forecasts only.
    """
    horizon = artifact.model_config.horizon
    season = season_length(panel.freq, panel.schema.session)
    series, origins = calibration_origins(split.n_train, split.n_val, horizon)
    if not len(series):
        return None

    def recent(series: np.ndarray, origins: np.ndarray) -> np.ndarray:
        rows = [panel.series(int(s))[: int(o)] for s, o in zip(series, origins, strict=True)]
        return base_scale(rows, season)

    forecasts, spread = _window_forecasts(artifact, panel, series, origins)
    tr_series, tr_origins = difficulty_origins(split.n_train, horizon)
    tr_forecasts, _ = _window_forecasts(artifact, panel, tr_series, tr_origins)
    everyone = np.arange(panel.n_series)
    scale, end_scale = recent(series, origins), recent(everyone, panel.lengths)
    before = (recent_difficulty(artifact, panel, series, origins, scale),
              recent_difficulty(artifact, panel, everyone, panel.lengths, end_scale))  # fmt: skip
    actuals = _actuals(panel, series, origins, horizon)
    intervals = fit_intervals(
        (forecasts, spread, actuals, series, scale,
         recency_weights(series, origins, split.n_val)),
        (tr_forecasts, _actuals(panel, tr_series, tr_origins, horizon), tr_series,
         recent(tr_series, tr_origins)),
        end_scale,
        prior,
        spread_weight,
        before,
    )  # fmt: skip
    if intervals is None or not needs_pooling(intervals.info):
        if intervals is not None:
            intervals.info["source"] = SOURCE_VALIDATION
        return intervals
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat stretch: left out
        validation = (actuals - forecasts) / intervals.normaliser(
            spread, intervals.factor(intervals.difficulty[series], before[0]) * scale
        )
    # Origins with a whole context, as a forecast from the end of a series has (earlier ones
    # read padding and a recent scale of a few rows: lynx's first origins erred 10^5 scales).
    lookback = artifact.model_config.lookback
    pool_series, pool_origins = training_origins(split.n_train, horizon, lookback)
    pool_forecasts, pool_spread = _window_forecasts(artifact, panel, pool_series, pool_origins)
    pool_scale = recent(pool_series, pool_origins)
    pool_factor = intervals.factor(
        intervals.difficulty[pool_series],
        recent_difficulty(artifact, panel, pool_series, pool_origins, pool_scale),
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat stretch: left out
        training = (_actuals(panel, pool_series, pool_origins, horizon) - pool_forecasts) / (
            intervals.normaliser(pool_spread, pool_factor * pool_scale)
        )
    return pool_intervals(intervals, validation, training)


def _window_forecasts(
    artifact: Artifact, panel: Panel, series: np.ndarray, origins: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and the members' spread (N, H, C), in data units, of windows of known
    series (scaled with the training statistics)."""
    contexts = model_inputs(artifact, panel, artifact.scaler, series, origins)
    scaled, spread = run_ensemble(artifact, contexts)
    forecasts = artifact.scaler.inverse(scaled.astype(np.float64), series)
    return forecasts, spread * artifact.scaler.std[series][:, None, :]


def _actuals(panel: Panel, series: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return panel.values[(panel.offsets[series] + origins)[:, None] + np.arange(horizon)]


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
