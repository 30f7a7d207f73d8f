"""When a network's training stops, the best weights it keeps, and its learning rate.

`Stopping` holds every decision the training loop (`train.train_model`) takes at a
validation check or at the end of an epoch: patience in checks or in windows, the plateau
rule, the final decay, the time budget, and the best weights to restore. `learning_rate` is
the schedule as a pure function of the epoch, so the loop keeps no rate of its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from forecaster.distributed import World
from forecaster.optim import cosine_decay
from forecaster.tuning import TUNING, Tuning


def learning_rate(
    lr: float,
    epoch: int,
    epochs: int,
    schedule: str = "cosine",
    decay: tuple[int, int] | None = None,
) -> float:
    """The rate of ``epoch`` (from 1) of ``epochs``, starting at ``lr``.

    "cosine": half a cosine from ``lr`` towards zero at ``epochs``, each epoch's rate
    computed from the one before (`optim.cosine_decay`: the recursive form, whose bits every
    figure in benchmarks/README.md was measured with); "none": ``lr`` throughout.
    ``decay`` = (the epoch patience ran out at, the final decay's length D): epoch s + k
    (k = 1..D) then runs at (1 + cos(pi k / (D + 1))) / 2 of the rate of s, never above the
    schedule's own rate (`Tuning.final_decay_epochs`).
    """
    rate = lr
    if schedule == "cosine":
        for done in range(1, epoch):
            rate = cosine_decay(rate, done, epochs)
    if decay is None or epoch <= decay[0]:
        return rate
    began, length = decay
    turn = math.pi * (epoch - began) / (length + 1)
    return min(learning_rate(lr, began, epochs, schedule) * (1 + math.cos(turn)) / 2, rate)


@dataclass
class Stopping:
    """Early stopping of one network's training, with the best weights seen and the time
    budget (``deadline``, a `time.perf_counter` value; on every rank of ``world`` alike).

    Patience counts checks without improvement (``patience_checks``) or, where epochs
    sample a larger set and later epochs check only at their end (``sampled``), windows
    seen since the best check (``patience_windows``).
    """

    per_epoch: int  # training windows an epoch visits
    patience_checks: int
    patience_windows: int
    sampled: bool
    final_decay: bool  # patience running out starts the final decay instead of stopping
    tuning: Tuning = TUNING
    deadline: float | None = None
    world: World = field(default_factory=World)
    best: float = math.inf  # the best score (validation loss, or training loss without)
    best_epoch: int = 0  # 0: the starting weights
    best_seen: int = 0  # training windows seen at the best check
    best_val_loss: float | None = None
    best_train_loss: float | None = None  # None: the starting weights were best
    best_state: dict[str, torch.Tensor] | None = None
    stale: int = 0  # checks since the best
    first_best: float = math.inf  # the best score at the end of the first epoch
    decay: tuple[int, int] | None = None  # (epoch it began after, its epochs) once begun
    patient: bool = True
    # False: where the final decay would start, stop instead (the plateau rule still
    # shortens patience): `Tuning.fruitless_decay_first_decides`.
    decays: bool = True
    skipped_decay: bool = False  # patience ran out where the decay would have begun
    stopped_early: bool = False  # patience ran out (and the final decay, if any, ended)
    stopped_by_time: bool = False

    @classmethod
    def plan(
        cls,
        patience: int,
        per_epoch: int,
        n_train: int,
        checks: int,
        schedule: str,
        tuning: Tuning = TUNING,
        deadline: float | None = None,
        world: World | None = None,
    ) -> Stopping:
        """Stopping for ``patience`` epochs (0: automatic) of ``per_epoch`` of ``n_train``
        windows, ``checks`` validation checks an epoch."""
        epochs_waited = patience or tuning.default_patience
        patience_checks = epochs_waited * checks
        if not patience and per_epoch >= n_train:  # automatic, and each epoch sees every window
            patience_checks = min(patience_checks, tuning.patience_max_checks)
        sampled = tuning.sampled_epoch_checks and per_epoch < n_train and checks > 1
        final_decay = (
            sampled and not patience and schedule == "cosine" and tuning.final_decay_epochs > 0
        )
        return cls(per_epoch, patience_checks, epochs_waited * per_epoch, sampled, final_decay,
                   tuning, deadline, world or World())  # fmt: skip

    def out_of_time(self) -> bool:
        """Whether the time budget is spent (on any rank: every rank stops at one step)."""
        if self.deadline is not None and not self.stopped_by_time:
            self.stopped_by_time = self.world.any(time.perf_counter() >= self.deadline)
        return self.stopped_by_time

    def skips(self, epoch: int, last: bool) -> bool:
        """Whether an epoch's check point other than its ``last`` goes unchecked: in epochs
        after the first where epochs sample a larger set, unless the time ran out there."""
        return self.sampled and epoch > 1 and not last and not self.stopped_by_time

    def start(self, score: float, model: nn.Module) -> None:
        """The starting weights' validation loss, which later checks must beat
        (`Tuning.check_at_start`)."""
        self.best, self.best_val_loss = score, score
        self.best_state = _copy(model)

    def check(
        self, model: nn.Module, epoch: int, seen: int, val_loss: float | None, train_loss: float
    ) -> bool:
        """Record a check after ``seen`` training windows: whether its weights are the best
        yet (then kept), and whether training stays patient (`patient`)."""
        score = val_loss if val_loss is not None else train_loss
        best = score < self.best
        if best:
            self.best, self.stale, self.best_epoch, self.best_seen = score, 0, epoch, seen
            self.best_state = _copy(model)
            self.best_val_loss, self.best_train_loss = val_loss, train_loss
        else:
            self.stale += 1
        if not self.sampled:
            self.patient = self.stale < self.patience_checks
            return best
        # The same patience in windows, checks being fewer; shorter on a plateau.
        limit = self.patience_windows
        if self.final_decay and self.best > self.first_best * (1 - self.tuning.plateau_gain):
            limit = min(limit, self.tuning.plateau_epochs * self.per_epoch)
        self.patient = self.decay is not None or seen - self.best_seen < limit
        return best

    def end_epoch(self, epoch: int, epochs: int) -> bool:
        """Whether training goes on after ``epoch``. Patience running out starts the final
        decay (`decay`) where it applies, as many of its epochs as the budget has left
        (none: stop now); training then ends with the decay's last epoch."""
        if epoch == 1:
            self.first_best = self.best
        if self.stopped_by_time:
            return False
        if not self.patient and self.final_decay and self.decay is None:
            if self.decays:
                self.decay = (epoch, min(self.tuning.final_decay_epochs, epochs - epoch))
                self.patient = True
            else:
                self.skipped_decay = True
        if self.decay is not None and epoch - self.decay[0] >= self.decay[1]:
            self.patient = False
        self.stopped_early = not self.patient
        return self.patient

    def restore(self, model: nn.Module) -> None:
        """Leave ``model`` holding the best weights seen (unchanged when none was kept)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


def _copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
