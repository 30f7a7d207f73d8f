"""Tuning of training that is not a user's setting: one frozen value the library passes down.

These choices were measured, not configured: `TrainConfig` holds what a user asks for and
what the model file records, `Tuning` what the code decided on the user's behalf. Each field
is the default every run uses; an ablation (`benchmarks/accuracy.py --patch`) builds another
`Tuning` and passes it to `pipeline.fit`, so no module-level value is ever reassigned.
Figures are from benchmarks/README.md ("Time to forecast", "Accuracy").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Tuning:
    """The measured defaults of the training loop (`train`), early stopping (`stopping`)
    and the linear skip's candidates (`pipeline.skip_candidates`)."""

    # Count the starting weights as a validation check: with a fitted linear skip they are
    # a tuned linear model (plus the untrained head's small output), which on a small data
    # set the first steps of training can make worse.
    check_at_start: bool = True
    # Check validation every this many training windows, not once per epoch: on a small data
    # set the best weights can come within the first epoch (`train.validation_checks`).
    windows_per_check: int = 2000
    # Validation windows a check evaluates (None: `windows.MAX_VAL_WINDOWS`).
    max_val_windows: int | None = None
    # Early stopping by default (`--patience 0`) waits this many epochs without improvement.
    default_patience: int = 8
    # ... but when every epoch revisits all the training windows, never more than this many
    # checks: on one series, 8 more passes over windows already seen found nothing in any
    # benchmark and cost most of the time (ETTh1: the same MSE at every horizon in a third
    # of the time). Epochs that sample a larger set (M4 Hourly: 20,000 of 229,000 windows)
    # keep the full patience: there 10 checks stopped training at OWA 0.523 instead of 0.434.
    patience_max_checks: int = 10
    # Where epochs sample a larger set, only the first epoch checks every `windows_per_check`
    # windows; later ones check at their end, and patience counts the windows seen since the
    # best check. On M4 Hourly the checks (3,000 validation windows every 2,000 training
    # windows) were a quarter of the training time, while its networks improve up to their
    # last epoch: 70 checks a network instead of 601 gave OWA 0.431 (0.428-0.437) against
    # 0.432 (0.429-0.436).
    sampled_epoch_checks: bool = True
    # There (at least 3,000 windows an epoch, so that the checks thin, automatic patience and
    # the cosine schedule), patience running out does not end training at once: the rate
    # first decays along a cosine over this many more epochs (the last at 5% of where it
    # started; as many as the budget has left, never above the schedule's own rate), as at
    # the end of the full schedule, where most of the gain in validation loss comes
    # (`stopping.learning_rate`). 0: stop at once, without the plateau rule either.
    final_decay_epochs: int = 6
    # And patience runs out after `plateau_epochs` when validation has gained less than
    # `plateau_gain` on the first epoch's best: a plateau at the full rate, where more epochs
    # at that rate only add noise. The weekly panel (best weights at its first epoch) took
    # 58-60 s for MASE 0.598, now 48-50 s for 0.590; M4 Hourly gains 9% by its fourth epoch,
    # and in the accuracy protocol (seeds 0-2) no network ran out of patience.
    # Where the first network's whole training, its final decay included, never bettered
    # its starting weights on validation (the fitted skip), the other networks keep theirs
    # without training (one process only; with several, the networks train at once and each
    # decides for itself). Each would restore them anyway when it too finds nothing better:
    # the glucose monitor's model is the same to the bit in half the CPU. Not without the
    # decay: after a few epochs' patience on the trading-day prices (no decay there) the
    # first network had found nothing, the later two had (MASE ratio 1.005 against 0.962).
    unbeaten_first_decides: bool = True
    # Where the first network's final decay ran and never bettered the best weights it
    # began from, the others stop where their decay would begin (one process only): on the
    # employment panel no network's decay found anything.
    fruitless_decay_first_decides: bool = True
    plateau_epochs: int = 3
    plateau_gain: float = 0.02
    # Sets of window lengths the linear skip may average, as multiples of the LSTM's lookback
    # L; the one whose mean forecasts validation best is used (`linear.fit_skip`).
    skip_candidates: tuple[tuple[float, ...], ...] = (
        (1, 2, 4, 8),
        (0.5, 1, 2, 4, 8),
        (0.25, 0.5, 1, 2, 4, 8),
    )
    # The longest may read this share of the median series' training rows.
    skip_max_share: float = 1 / 3
    # Adam's update on one buffer holding every parameter, where it pays (`optim._FlatBuffers`);
    # False: tensor by tensor, the same bits (the form before 2026-12-04).
    flat_adam: bool = True
    # Another optimiser with `optim.Adam`'s interface, made from (parameters, rate); None:
    # `optim.Adam` (an ablation such as AdamW; see benchmarks/accuracy.py).
    optimizer: Callable[[Iterable[torch.nn.Parameter], float], Any] | None = None


# What every run uses unless a caller passes its own.
TUNING = Tuning()
