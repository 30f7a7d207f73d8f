"""Training with several processes: torchrun's environment, how the networks are shared out,
and the few collectives training needs (gloo on CPU, NCCL on GPU).

The same `forecaster train` runs in every process (a *rank*). Every rank reads the data and
fits the scalers and the linear skip itself: they are deterministic, so each rank holds
what one process would, and the least-squares fit needs no reduction. The networks of the
ensemble are then shared out (`share_networks`): whole networks on different ranks while
there are at least as many left as ranks, since they are independent until the average and
need no communication. The rest: when every rank is on one machine's CPU, whole again, on
the first ranks, each with the threads of the ranks left without a network; otherwise
(GPUs, several machines) data parallel over every rank, DistributedDataParallel averaging
the gradients of each rank's share of every batch. `--batch-size` stays the batch of one
optimiser step over all ranks, so a network trained data parallel takes the same steps as
in one process, to float rounding (without dropout: each rank draws its own masks). Rank 0
collects the networks and writes the model file; the others end there. Starting the ranks
on one machine (`train --nproc`) is `launch`'s; what each rank runs, `ranks`'.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from forecaster.errors import ForecasterError, UsageError

# A rank that finished its networks waits in a collective for the others: as long as the
# longest network takes, which on a big panel is hours. Failures do not wait for this:
# torchrun ends every rank as soon as one exits non-zero.
COLLECTIVE_TIMEOUT = timedelta(days=7)


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (one, when not under torchrun)."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.size > 1

    def sum(self, *values: torch.Tensor | float) -> list[float]:
        """Sums over every rank of a few numbers (loss totals, window counts)."""
        if not self.parallel:
            return [float(v) for v in values]
        total = torch.tensor([float(v) for v in values], dtype=torch.float64)
        dist.all_reduce(total)
        return total.tolist()

    def any(self, flag: bool) -> bool:
        """Whether any rank says yes: they then all stop at the same step."""
        if not self.parallel:
            return flag
        value = torch.tensor([1 if flag else 0], dtype=torch.int32)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.parallel:
            return [value]
        values: list[Any] = [None] * self.size
        dist.all_gather_object(values, value)
        return values

    @contextmanager
    def agreed(self) -> Iterator[None]:
        """Errors raised in the block end every rank the same way: rank 0 reports the first
        rank's error as one line and each rank exits with its code.

        Reading the data and sizing the model fail alike on every rank (the same file, the
        same options); without this each rank would print the same line, or a rank would be
        ended by torchrun before it could print it.
        """
        failure: tuple[int, str] | None = None
        try:
            yield
        except ForecasterError as exc:
            if not self.parallel:
                raise
            failure = (exc.exit_code, str(exc))
        failures = [f for f in self.gather(failure) if f is not None]
        if failures:
            # Every rank is here, past the same collective: leave the group now. A process
            # that exits with it alive can be aborted by gloo's threads at teardown
            # ("terminate called without an active exception", SIGABRT: 9 of 25 runs).
            stop()
            code, message = failures[0]
            raise AgreedFailure(message, code, report=self.main)


class AgreedFailure(ForecasterError):
    """An error every rank ends with; only rank 0 says it (`World.agreed`)."""

    def __init__(self, message: str, exit_code: int, report: bool) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.report = report


def environment() -> World:
    """The rank and world size torchrun gives this process (0 and 1 without torchrun)."""
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    rank = int(os.environ.get("RANK", "0") or 0)
    return World(rank, size) if size > 1 else World()


def start(device: str) -> World:
    """Join the other ranks (gloo on CPU, NCCL on GPU); one process needs nothing."""
    world = environment()
    if not world.parallel or dist.is_initialized():
        return world
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if cuda:
        local, gpus = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
        if local >= gpus:
            raise UsageError(
                f"{world.size} processes on this machine but {gpus} GPU(s): give each process "
                f"a GPU of its own (--nproc {gpus}) or use --device cpu"
            )
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if cuda else "gloo", timeout=COLLECTIVE_TIMEOUT)
    return world


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


@dataclass(frozen=True)
class Share:
    """Which networks of the ensemble this rank trains alone, which it trains alone with
    the threads of ranks that have nothing left to train (``pooled``, ``pool`` x its own),
    and which all ranks train together (data parallel), in the order it trains them."""

    alone: list[int]
    together: list[int]
    pooled: list[int] = field(default_factory=list)
    pool: int = 1
    # Leftovers trained pooled: every rank counts that round. A rank that finishes its whole
    # networks first starts its pooled one at once, on cores the others may still use for
    # a while: measured on M4, waiting for them instead (a barrier) left its core idle and
    # took 443 s against 413 s (one run each).
    pooled_round: bool = False

    @property
    def phases(self) -> int:
        """Rounds of training every rank goes through (the same on every rank, so that
        `--max-time` gives each network the same share of the budget)."""
        return len(self.alone) + len(self.together) + (1 if self.pooled_round else 0)

    @property
    def whole(self) -> list[int]:
        """The networks this rank trains by itself, in the order it trains them."""
        return self.alone + self.pooled


# Set to 1 to train the networks left over after the round-robin data parallel on one
# machine too (tests and benchmarks compare the two).
FORCE_DATA_PARALLEL = "FORECASTER_DATA_PARALLEL"


def one_machine_cpu(device: str) -> bool:
    """Whether every rank runs on this machine's CPU cores (torchrun's local world is the
    whole world): the cores of a rank without a network are then free for another's."""
    if os.environ.get(FORCE_DATA_PARALLEL) == "1":
        return False
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        return False
    size = os.environ.get("WORLD_SIZE", "1")
    return os.environ.get("LOCAL_WORLD_SIZE", size) == size


def share_networks(members: int, world: World, pooled: bool = False) -> Share:
    """Whole networks round-robin while every rank gets one; then the rest.

    The rest (fewer networks than ranks) are trained data parallel over every rank, or,
    with ``pooled`` (all ranks on one machine's CPU), whole on the first ranks, each with
    the threads of the ranks left idle. Three networks on two ranks: networks 0 and 1 at
    the same time, then network 2 on both, or on rank 0 with both ranks' threads. Whole
    networks need no communication and take the same steps as in one process. Measured on
    M4 Hourly (benchmarks/README.md, "Scale out"): the data-parallel network took 4.5 s
    an epoch, one rank with two threads 3.1 s, one thread 4.0 s: a gloo all-reduce every
    step of a small LSTM costs more than half a batch saves.
    """
    alone_count = members - members % world.size
    alone = [k for k in range(alone_count) if k % world.size == world.rank]
    rest = list(range(alone_count, members))
    if not pooled or not rest:
        return Share(alone, rest)
    mine = [k for j, k in enumerate(rest) if j == world.rank]
    pool = world.size // len(rest) + (1 if world.rank < world.size % len(rest) else 0)
    return Share(alone, [], mine, pool if mine else 1, pooled_round=True)


def placements(members: int, size: int, pooled: bool) -> list[tuple[int, int]]:
    """Per network, how many ranks train it and how many times a rank's threads each
    uses: what the model's summary says of where each network was trained."""
    out = [(1, 1)] * members
    for rank in range(size):
        share = share_networks(members, World(rank, size), pooled)
        for k in share.together:
            out[k] = (size, 1)
        for k in share.pooled:
            out[k] = (1, share.pool)
    return out


def batch_share(batch: torch.Tensor, world: World) -> tuple[torch.Tensor, float]:
    """This rank's windows of a batch and the weight of their mean loss.

    DistributedDataParallel averages the ranks' gradients; weighting each rank's mean loss
    by its share of the batch x ranks makes that average the gradient of the whole batch's
    mean loss, as in one process, also for a last batch that does not divide evenly. A rank
    left without a window (a batch smaller than the ranks) runs one at weight 0, since every
    rank must take part in every backward pass.
    """
    share = batch[world.rank :: world.size]
    if not len(share):
        return batch[:1], 0.0
    return share, len(share) * world.size / len(batch)
