"""The loop that trains one network (any module mapping a batch of contexts to a batch of
forecasts) on its windows: steps and validation checks; `stopping.Stopping` decides.

Full backpropagation through the lookback window (no truncation: windows are short enough),
Adam (`optim`), gradient-norm clipping, validation checked several times within a big epoch
(`validation_checks`), and early stopping that restores the best weights (`stopping`). The
loop itself only steps and checks; every decision it takes is `Stopping`'s, every rate
`stopping.learning_rate`'s, and its measured switches are fields of `tuning.Tuning`.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from forecaster.distributed import World, batch_share
from forecaster.errors import TrainingDiverged, UsageError
from forecaster.model import ModelConfig, window_level_spread
from forecaster.optim import Adam
from forecaster.stopping import Stopping, learning_rate
from forecaster.threads import resolve_threads
from forecaster.tuning import TUNING, Tuning
from forecaster.windows import WindowSet

log = logging.getLogger("forecaster")

CLIP_NORM = 1.0
LOSSES: dict[str, type[nn.Module]] = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss}


@dataclass
class EpochReport:
    """Progress at a validation check (several per epoch on big data sets)."""

    epoch: int
    epochs: int
    train_loss: float
    val_loss: float | None
    seconds: float  # since this network's training began
    best: bool
    member: int = 0  # which network of an ensemble (see pipeline.fit)
    members: int = 1
    windows: int = 0  # training windows this network has seen so far
    budget: int = 0  # the most it will see (epochs x windows per epoch)
    what: str = ""  # what is being trained, for a progress line


@dataclass
class TrainResult:
    history: list[dict[str, float | None]] = field(default_factory=list)
    epochs_run: int = 0
    best_epoch: int = 0
    best_val_loss: float | None = None
    best_train_loss: float | None = None  # None: the starting weights were best
    seconds: float = 0.0
    stopped_early: bool = False
    stopped_by_time: bool = False  # the --max-time budget ran out first
    decayed: bool = False  # patience ran out and the final decay ran (`Stopping.decay`)
    decay_began: int = 0  # the epoch the final decay began after (0: none ran)
    decay_skipped: bool = False  # ``final_decay`` False, and patience ran out where it began


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_threads(requested: int) -> int:
    """CPU threads for training: one by default, because these networks are small.

    Measured on a 2-core machine with other work running (`make demo`): 25 s with one
    thread, 525 s with two, as two threads of tiny kernels wait on each other. A user with
    a big network and idle cores asks for more with --threads or OMP_NUM_THREADS.
    """
    torch.set_num_threads(max(1, resolve_threads(requested)))
    return torch.get_num_threads()


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


def train_model(
    model: nn.Module,
    windows: WindowSet,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int,
    seed: int = 0,
    max_windows_per_epoch: int | None = None,
    precision: str = "fp32",
    loss: str = "mse",
    schedule: str = "cosine",
    on_epoch: Callable[[EpochReport], None] | None = None,
    deadline: float | None = None,
    world: World | None = None,
    tuning: Tuning = TUNING,
    final_decay: bool = True,
) -> TrainResult:
    """Train ``model`` in place on ``windows`` and leave it holding the best weights.

    ``deadline`` (`time.perf_counter`): stop after the batch that ends past it, check once
    more (`Stopping`). ``on_epoch``: called at every check. ``world``: data parallel with the
    other ranks (`distributed`); losses, decisions and the best weights agree on every rank.
    ``final_decay``: False stops where patience would start the final decay.
    """
    device = windows.series.device
    model.to(device)
    world = world or World()
    network = _data_parallel(model, world)
    optimizer = _optimizer(model, lr, tuning)
    try:
        loss_fn = LOSSES[loss]()
        generator = torch.Generator().manual_seed(seed)
        autocast = _autocast(precision, device)
        n_train, per_epoch, bounds, stop = _plan(
            windows, batch_size, max_windows_per_epoch, patience, schedule, tuning, deadline, world
        )
        stop.decays = final_decay
        spreads = window_spreads(model, windows, batch_size, autocast, per_epoch)
        step = partial(_step, network, optimizer, loss_fn, autocast, windows, world, spreads)
        validate = partial(evaluate_loss, model, windows, windows.val_starts, loss_fn, autocast,
                           world)  # fmt: skip
        use_val = len(windows.val_starts) > 0
        history: list[dict[str, float | None]] = []
        started = time.perf_counter()
        if use_val and tuning.check_at_start:
            stop.start(validate(), model)
        for epoch in range(1, epochs + 1):
            if stop.out_of_time():
                break
            epoch_start, total = time.perf_counter(), torch.zeros((), device=device)  # no sync
            order = _epoch_sample(n_train, per_epoch, generator).to(device)
            for first, done, bound in _batches(bounds, batch_size):
                if first == 0 or first in bounds:  # a part's first batch: a check may precede
                    model.train()
                total += step(order[first : first + batch_size])
                # A check at each bound (only the last in later sampled epochs) and on time out.
                last = bound == bounds[-1]
                if not stop.out_of_time() and (done < bound or stop.skips(epoch, last)):
                    continue
                seen = (epoch - 1) * per_epoch + done
                train_loss = _train_loss(total, done, world, epoch, lr)
                val_loss = validate() if use_val else None
                best = stop.check(model, epoch, seen, val_loss, train_loss)
                if on_epoch is not None:
                    on_epoch(EpochReport(epoch, epochs, train_loss, val_loss,
                                         time.perf_counter() - started, best, windows=seen,
                                         budget=epochs * per_epoch))  # fmt: skip
                if not stop.patient or stop.stopped_by_time:
                    break
            history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                            "seconds": time.perf_counter() - epoch_start})  # fmt: skip
            if not stop.end_epoch(epoch, epochs):
                break
            optimizer.lr = learning_rate(lr, epoch + 1, epochs, schedule, stop.decay)
    finally:
        optimizer.release()  # the parameters own their storage again, whatever happened
    stop.restore(model)
    return TrainResult(history, len(history), stop.best_epoch, stop.best_val_loss,
                       stop.best_train_loss, time.perf_counter() - started, stop.stopped_early,
                       stop.stopped_by_time, stop.decay is not None,
                       stop.decay[0] if stop.decay is not None else 0,
                       stop.skipped_decay)  # fmt: skip


def _batches(bounds: list[int], batch_size: int) -> Iterator[tuple[int, int, int]]:
    """An epoch's batches as (first window, windows done after it, the next check point)."""
    done = 0
    for bound in bounds:
        for first in range(done, bound, batch_size):
            yield first, min(first + batch_size, bound), bound
        done = bound


def _plan(
    windows: WindowSet,
    batch_size: int,
    max_windows_per_epoch: int | None,
    patience: int,
    schedule: str,
    tuning: Tuning,
    deadline: float | None,
    world: World,
) -> tuple[int, int, list[int], Stopping]:
    """Training windows, those an epoch visits, its check points, and its `Stopping`."""
    n_train = len(windows.train_starts)
    per_epoch = min(n_train, max_windows_per_epoch or n_train)
    bounds = check_points(per_epoch, len(windows.val_starts), batch_size, tuning)
    stop = Stopping.plan(patience, per_epoch, n_train, len(bounds), schedule, tuning,
                         deadline, world)  # fmt: skip
    return n_train, per_epoch, bounds, stop


def _step(
    network: nn.Module,
    optimizer: Any,
    loss_fn: nn.Module,
    autocast: torch.autocast,
    windows: WindowSet,
    world: World,
    spreads: torch.Tensor | None,
    batch: torch.Tensor,
) -> torch.Tensor:
    """One optimiser step on the training windows ``batch`` indexes (with ``world``, this
    rank's share of them); returns the batch's summed loss, still on the device."""
    weight = 1.0
    if world.parallel:
        batch, weight = batch_share(batch, world)
    starts = windows.train_starts[batch]
    context, target = windows.gather(starts)
    with autocast:
        forecast = network(context) if spreads is None else network(context, spreads[batch])
    batch_loss = loss_fn(forecast.float(), target)
    optimizer.zero_grad()
    (batch_loss * weight if world.parallel else batch_loss).backward()
    # Clipping bounds the step when BPTT gradients spike on an unusual window.
    optimizer.clip_grad_norm(CLIP_NORM)
    optimizer.step()
    return batch_loss.detach() * (len(starts) if weight else 0)


# Training windows' spreads are computed once for all networks (`window_spreads`) when
# there are at most this many epochs' worth of them: the networks together run 3 x 9 epochs
# on the big single series of the real-world suite, while epochs that sample a few windows
# of millions read too few of them for a pass over all to pay.
SPREAD_CACHE_EPOCHS = 4


@torch.no_grad()
def window_spreads(
    model: nn.Module,
    windows: WindowSet,
    batch_size: int,
    autocast: torch.autocast,
    per_epoch: int,
) -> torch.Tensor | None:
    """Every training window's spread (N, 1, C), as `LSTMForecaster.normalise` computes it,
    once for all the networks trained on ``windows``: a window's spread never changes, and
    recomputing it for every batch of every epoch cost the bank's calls (2,640-row windows)
    10.5 of 87 CPU-s and the glucose monitor's (4,608 rows) 21 of 168 (`Tensor.std` is
    about 40 times slower than `Tensor.mean`). Computed batch by batch with the same
    operation, so the values are those each step would have computed. None for a model that
    does not normalise its windows, and where the windows are more than
    `SPREAD_CACHE_EPOCHS` epochs (of ``per_epoch`` windows) hold."""
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig) or config.window_norm == "none":
        return None
    if len(windows.train_starts) > SPREAD_CACHE_EPOCHS * per_epoch:
        return None
    key = (config.lookback, config.n_targets, config.window_norm, batch_size,
           getattr(autocast, "fast_dtype", None), getattr(autocast, "_enabled", None))  # fmt: skip
    if key not in windows.spreads:
        parts = []
        with autocast:
            for first in range(0, len(windows.train_starts), batch_size):
                context, _ = windows.gather(windows.train_starts[first : first + batch_size])
                own = context[:, : config.lookback, : config.n_targets]
                parts.append(window_level_spread(own, config.window_norm)[1])
        if not parts:
            return None
        windows.spreads[key] = torch.cat(parts)
    return windows.spreads[key]


def _train_loss(total: torch.Tensor, done: int, world: World, epoch: int, lr: float) -> float:
    """The mean training loss of the epoch so far, over every rank; diverged: an error."""
    train_loss = world.sum(total.item())[0] / done
    if not math.isfinite(train_loss):
        raise TrainingDiverged(
            f"training diverged at epoch {epoch} (loss is {train_loss}); "
            f"try a lower learning rate than --lr {lr:g}"
        )
    return train_loss


def _data_parallel(model: nn.Module, world: World) -> nn.Module:
    if not world.parallel:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model)


def _optimizer(model: nn.Module, lr: float, tuning: Tuning) -> Any:
    """`optim.Adam` (its one buffer unless `Tuning.flat_adam` is off), or the ablation's."""
    if tuning.optimizer is not None:
        return tuning.optimizer(model.parameters(), lr)
    return Adam(model.parameters(), lr=lr, flat=tuning.flat_adam)


def _autocast(precision: str, device: torch.device) -> torch.autocast:
    """bf16 autocast is for GPUs: CPU kernels may lack it (oneDNN's LSTM fails on CPUs
    without bf16 support), and fp32 keeps CPU results deterministic."""
    bf16 = precision == "bf16" and device.type == "cuda"
    if precision == "bf16" and not bf16:
        log.warning("--precision bf16 applies on GPU only; training in fp32 on %s", device)
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)


def check_points(per_epoch: int, n_val: int, batch_size: int, tuning: Tuning = TUNING) -> list[int]:
    """Where an epoch checks validation (windows done), on whole batches; the last is its end."""
    parts = validation_checks(per_epoch, n_val, tuning)
    return sorted({min(per_epoch, math.ceil(per_epoch * k / parts / batch_size) * batch_size)
                   for k in range(1, parts + 1)})  # fmt: skip


def validation_checks(per_epoch: int, n_val: int, tuning: Tuning = TUNING) -> int:
    """How many times an epoch checks the validation loss (for early stopping and the best weights).

    Every `Tuning.windows_per_check` training windows, not once per epoch: on a small data set the
    best weights can come within the first epoch. Measured on ETTh1 (h = 192, 8,065 training
    windows, best weights after about 4,000): test MSE 0.071 / 0.072 (seeds 0 / 1) checking
    every 2,000 windows, 0.090 / 0.082 every 4,000, 0.089 / 0.097 once per epoch.
    """
    if n_val == 0:
        return 1
    return max(1, round(per_epoch / tuning.windows_per_check))


def _epoch_sample(n_train: int, per_epoch: int, generator: torch.Generator) -> torch.Tensor:
    """Which training windows an epoch visits, in order.

    A permutation when the epoch covers a good part of the windows. When it is a small
    sample of very many (10 million windows, 20,000 per epoch), shuffling all of them cost
    0.65 s per epoch; drawing with replacement costs nothing and repeats about
    per_epoch**2 / (2 * n_train) windows (20 of 20,000 there).
    """
    if n_train > 10 * per_epoch:
        return torch.randint(n_train, (per_epoch,), generator=generator)
    return torch.randperm(n_train, generator=generator)[:per_epoch]


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    windows: WindowSet,
    starts: torch.Tensor,
    loss_fn: nn.Module,
    autocast: torch.autocast,
    world: World | None = None,
    step: int = 1024,
) -> float:
    """The training loss over the given windows, in evaluation mode (no dropout); with
    ``world``, each rank scores its share and every rank gets the same total."""
    model.eval()
    world = world or World()
    share = starts[world.rank :: world.size]
    total = torch.zeros((), device=starts.device)
    for first in range(0, len(share), step):
        batch = share[first : first + step]
        context, target = windows.gather(batch)
        with autocast:
            forecast = model(context)
        total += loss_fn(forecast.float(), target) * len(batch)
    return world.sum(total.item())[0] / len(starts)
