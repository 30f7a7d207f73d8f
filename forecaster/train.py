"""The training loop: any module mapping a context batch to a forecast batch, and windows.

Full backpropagation through the lookback window (no truncation: windows are short enough),
Adam (`optim`), gradient-norm clipping and early stopping that restores the best weights, with the
validation loss checked several times within a big epoch (`validation_checks`), and only at
the end of later epochs where epochs sample a larger set (`SAMPLED_EPOCH_CHECKS`).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from forecaster.distributed import World, batch_share
from forecaster.errors import TrainingDiverged, UsageError
from forecaster.optim import Adam, cosine_decay
from forecaster.threads import resolve_threads
from forecaster.windows import WindowSet

log = logging.getLogger("forecaster")

CLIP_NORM = 1.0
WINDOWS_PER_CHECK = 2000
CHECK_AT_START = True
# Early stopping by default waits DEFAULT_PATIENCE epochs without improvement; when every
# epoch revisits all the training windows, never more than this many validation checks
# (2,000 windows each): on one series, 8 more passes over windows already seen found nothing in
# any benchmark and cost most of the time (ETTh1: the same MSE at every horizon in a third
# of the time). Epochs that sample a larger set (M4 Hourly: 20,000 of 229,000 windows) keep
# the full patience: there 10 checks stopped training at OWA 0.523 instead of 0.434
# (benchmarks/README.md, "Time to forecast").
PATIENCE_MAX_CHECKS = 10
DEFAULT_PATIENCE = 8
# When epochs sample a larger set, only the first epoch checks every WINDOWS_PER_CHECK
# windows; later ones check at their end. On M4 Hourly the checks (3,000 validation windows
# every 2,000 training windows) were a quarter of the training time, while its networks
# improve up to their last epoch: 70 checks a network instead of 601 gave OWA 0.431
# (0.428-0.437) against 0.432 (0.429-0.436) (benchmarks/README.md, "Time to forecast").
SAMPLED_EPOCH_CHECKS = True
# There (with at least 3,000 windows an epoch, so that thinning applies, and the cosine
# schedule), automatic patience running out does not end training at once: the learning
# rate first decays along a cosine over FINAL_DECAY_EPOCHS more epochs (the last at 5% of
# where it started; as many as the budget has left, and never above the schedule's own
# rate), as at the end of the full schedule, where most of the gain in validation loss
# comes. And patience runs out after PLATEAU_EPOCHS when validation has gained less than
# PLATEAU_GAIN on the first epoch's best:
# a plateau at the full rate, where more epochs at that rate only add noise. The weekly panel
# of benchmarks/README.md (best weights at its first epoch) took 58-60 s for MASE 0.598, now
# 48-50 s for 0.590. M4 Hourly gains 9% by its fourth epoch, and in the accuracy protocol
# (seeds 0-2) no network ran out of patience: the same forecasts.
FINAL_DECAY_EPOCHS = 6
PLATEAU_EPOCHS = 3
PLATEAU_GAIN = 0.02
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
) -> TrainResult:
    """Train ``model`` in place on ``windows`` and leave it holding the best weights.

    ``deadline`` (a `time.perf_counter` value): stop at the first batch that ends after it,
    check validation once more, and keep the best weights seen (the starting ones if the
    time was up before any step). ``on_epoch`` is called at every validation check.
    ``world``: train data parallel with the other ranks (`distributed`); every rank takes
    its share of each batch, and losses, the stopping decisions and the best weights agree.
    """
    device = windows.series.device
    model.to(device)
    world = world or World()
    network: nn.Module = model
    if world.parallel:
        from torch.nn.parallel import DistributedDataParallel

        network = DistributedDataParallel(model)
    optimizer = Adam(model.parameters(), lr=lr)
    try:
        loss_fn = LOSSES[loss]()
        generator = torch.Generator().manual_seed(seed)
        # bf16 autocast is for GPUs: CPU kernels may lack it (oneDNN's LSTM fails on CPUs without
        # bf16 support), and fp32 keeps CPU results deterministic.
        bf16 = precision == "bf16" and device.type == "cuda"
        if precision == "bf16" and not bf16:
            log.warning("--precision bf16 applies on GPU only; training in fp32 on %s", device)
        autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)
        n_train = len(windows.train_starts)
        per_epoch = min(n_train, max_windows_per_epoch or n_train)
        use_val = len(windows.val_starts) > 0
        # Check points within the epoch (windows done), on whole batches; the last is its end.
        parts = validation_checks(per_epoch, len(windows.val_starts))
        bounds = sorted({min(per_epoch, math.ceil(per_epoch * k / parts / batch_size) * batch_size)
                         for k in range(1, parts + 1)})  # fmt: skip
        checks = len(bounds)
        patience_checks = (patience or DEFAULT_PATIENCE) * checks
        if not patience and per_epoch >= n_train:  # automatic, and each epoch sees every window
            patience_checks = min(patience_checks, PATIENCE_MAX_CHECKS)
        # Where epochs sample a larger set, epochs after the first check only at their end
        # (`SAMPLED_EPOCH_CHECKS`), so patience counts the windows seen since the best check.
        sampled = SAMPLED_EPOCH_CHECKS and per_epoch < n_train and checks > 1
        patience_windows = (patience or DEFAULT_PATIENCE) * per_epoch
        final_decay = sampled and not patience and schedule == "cosine" and FINAL_DECAY_EPOCHS > 0
        best_seen = 0
        result = TrainResult()
        best_state: dict[str, torch.Tensor] | None = None
        best_score, stale = math.inf, 0
        started = time.perf_counter()
        if use_val and CHECK_AT_START:
            # The starting weights compete too: with a fitted linear skip they are a tuned linear
            # model (plus the untrained head's small output), which on a small data set the
            # first steps of training can make worse.
            best_score = evaluate_loss(model, windows, windows.val_starts, loss_fn, autocast, world)
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            result.best_val_loss = best_score

        def out_of_time() -> bool:
            if deadline is None:
                return False
            return world.any(time.perf_counter() >= deadline)  # every rank stops at one step

        seen, patient = 0, True
        first_best = math.inf  # the best score at the end of the first epoch
        decaying, decay_from, decay_epochs = 0, lr, 0  # the final decay's epoch (0: not begun)
        scheduled = lr  # the cosine schedule's rate, which the final decay never exceeds
        for epoch in range(1, epochs + 1):
            if out_of_time():
                result.stopped_by_time = True
                break
            epoch_start = time.perf_counter()
            order = _epoch_sample(n_train, per_epoch, generator).to(device)
            total = torch.zeros((), device=device)  # summed on device: no sync per step
            val_loss, done = None, 0
            for bound in bounds:
                model.train()
                for first in range(done, bound, batch_size):
                    batch, weight = order[first : first + batch_size], 1.0
                    if world.parallel:
                        batch, weight = batch_share(order[first : first + batch_size], world)
                    starts = windows.train_starts[batch]
                    context, target = windows.gather(starts)
                    with autocast:
                        forecast = network(context)
                    batch_loss = loss_fn(forecast.float(), target)
                    optimizer.zero_grad()
                    (batch_loss * weight if world.parallel else batch_loss).backward()
                    # Clipping bounds the step when BPTT gradients spike on an unusual window.
                    optimizer.clip_grad_norm(CLIP_NORM)
                    optimizer.step()
                    total += batch_loss.detach() * (len(starts) if weight else 0)
                    done = min(first + batch_size, bound)
                    if out_of_time():
                        result.stopped_by_time = True
                        break
                seen = (epoch - 1) * per_epoch + done
                if sampled and epoch > 1 and bound != bounds[-1] and not result.stopped_by_time:
                    continue
                train_loss = world.sum(total.item())[0] / done
                if not math.isfinite(train_loss):
                    raise TrainingDiverged(
                        f"training diverged at epoch {epoch} (loss is {train_loss}); "
                        f"try a lower learning rate than --lr {lr:g}"
                    )
                val_loss = (
                    evaluate_loss(model, windows, windows.val_starts, loss_fn, autocast, world)
                    if use_val
                    else None
                )
                score = val_loss if val_loss is not None else train_loss
                best = score < best_score
                if best:
                    best_score, stale, result.best_epoch, best_seen = score, 0, epoch, seen
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    result.best_val_loss, result.best_train_loss = val_loss, train_loss
                else:
                    stale += 1
                if on_epoch is not None:
                    elapsed = time.perf_counter() - started
                    on_epoch(
                        EpochReport(
                            epoch, epochs, train_loss, val_loss, elapsed, best,
                            windows=seen, budget=epochs * per_epoch,
                        )
                    )  # fmt: skip
                if sampled:  # the same patience in windows, checks being fewer
                    limit = patience_windows
                    if final_decay and best_score > first_best * (1 - PLATEAU_GAIN):
                        limit = min(limit, PLATEAU_EPOCHS * per_epoch)
                    patient = bool(decaying) or seen - best_seen < limit
                else:
                    patient = stale < patience_checks
                if not patient or result.stopped_by_time:
                    break
            if epoch == 1:
                first_best = best_score
            if schedule == "cosine":
                # Cosine decay over the epoch budget: large steps early, fine ones before stopping.
                scheduled = cosine_decay(scheduled, epoch, epochs)
            if not patient and final_decay and not decaying and not result.stopped_by_time:
                # As many of the decay's epochs as the budget has left (none: stop now).
                decay_epochs = min(FINAL_DECAY_EPOCHS, epochs - epoch)
                decaying, decay_from, patient = 1, optimizer.lr, decay_epochs > 0
            if decaying:  # along a cosine from the rate where patience ran out, towards zero
                if decaying > decay_epochs:
                    patient = False
                else:
                    turn = math.pi * decaying / (decay_epochs + 1)
                    optimizer.lr = min(decay_from * (1 + math.cos(turn)) / 2, scheduled)
                    decaying += 1
            elif schedule == "cosine":
                optimizer.lr = scheduled
            seconds = time.perf_counter() - epoch_start
            result.history.append(
                {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "seconds": seconds}
            )
            result.epochs_run = epoch
            if result.stopped_by_time:
                break
            if not patient:
                result.stopped_early = True
                break

    finally:
        optimizer.release()  # the parameters own their storage again, whatever happened
    if best_state is not None:
        model.load_state_dict(best_state)
    result.seconds = time.perf_counter() - started
    return result


def validation_checks(per_epoch: int, n_val: int) -> int:
    """How many times an epoch checks the validation loss (for early stopping and the best weights).

    Every `WINDOWS_PER_CHECK` training windows, not once per epoch: on a small data set the
    best weights can come within the first epoch. Measured on ETTh1 (h = 192, 8,065 training
    windows, best weights after about 4,000): test MSE 0.071 / 0.072 (seeds 0 / 1) checking
    every 2,000 windows, 0.090 / 0.082 every 4,000, 0.089 / 0.097 once per epoch.
    """
    if n_val == 0:
        return 1
    return max(1, round(per_epoch / WINDOWS_PER_CHECK))


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
