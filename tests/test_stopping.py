"""Early stopping and the learning-rate schedule as pure units: no network is trained here."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from forecaster.distributed import World
from forecaster.optim import cosine_decay
from forecaster.stopping import Stopping, learning_rate
from forecaster.tuning import TUNING, Tuning

PER_EPOCH = 6000


def sampled(**options: object) -> Stopping:
    """Automatic patience, epochs of 6,000 of 12,000 windows, three checks an epoch."""
    values: dict[str, object] = {"patience": 0, "per_epoch": PER_EPOCH, "n_train": 12000,
                                 "checks": 3, "schedule": "cosine"}  # fmt: skip
    values.update(options)
    return Stopping.plan(**values)  # type: ignore[arg-type]


def run_epochs(stop: Stopping, scores: list[float], epochs: int = 50) -> int:
    """The starting weights scored ``scores[0]``, then one check at the end of each epoch
    (the next scores, the last repeated), as the loop would; returns the epochs run."""
    model = torch.nn.Linear(1, 1)
    stop.start(scores[0], model)
    for epoch in range(1, epochs + 1):
        score = scores[min(epoch, len(scores) - 1)]
        stop.check(model, epoch, epoch * stop.per_epoch, score, score)
        if not stop.end_epoch(epoch, epochs):
            return epoch
    return epochs


# The schedule


def test_the_cosine_rate_is_the_recursion_of_cosine_decay_to_the_bit() -> None:
    rate = 0.01
    for epoch in range(1, 61):
        assert learning_rate(0.01, epoch, 60) == rate  # ==: the same bits
        rate = cosine_decay(rate, epoch, 60)


def test_the_cosine_rate_falls_from_the_base_rate_to_zero() -> None:
    rates = [learning_rate(0.1, epoch, 10) for epoch in range(1, 12)]
    assert rates[0] == 0.1
    assert all(a > b for a, b in itertools.pairwise(rates[:-1]))
    assert rates[5] == pytest.approx(0.05)  # half-way: half the rate
    assert rates[-1] == pytest.approx(0.0, abs=1e-15)  # after the last epoch


def test_no_schedule_keeps_the_rate() -> None:
    assert {learning_rate(0.003, epoch, 20, "none") for epoch in range(1, 21)} == {0.003}


def test_the_final_decay_halves_a_cosine_from_where_patience_ran_out() -> None:
    """Decay begun after epoch 5 over 6 epochs: epoch 5 + k at (1 + cos(pi k / 7)) / 2 of
    epoch 5's rate, under the schedule's own rate, the last at under 5% of it."""
    start = learning_rate(0.01, 5, 50)
    for k in range(1, 7):
        expected = min(start * (1 + math.cos(math.pi * k / 7)) / 2, learning_rate(0.01, 5 + k, 50))
        assert learning_rate(0.01, 5 + k, 50, decay=(5, 6)) == expected
    assert learning_rate(0.01, 11, 50, decay=(5, 6)) < 0.05 * start
    assert learning_rate(0.01, 5, 50, decay=(5, 6)) == start  # up to its start: the schedule


def test_the_final_decay_never_exceeds_the_schedule() -> None:
    """Near the budget's end the schedule is lower than the decay would be: it wins."""
    for epoch in (9, 10):
        assert learning_rate(0.01, epoch, 10, decay=(8, 2)) <= learning_rate(0.01, epoch, 10)
    assert learning_rate(0.01, 10, 10, decay=(8, 2)) == learning_rate(0.01, 10, 10)


# Stopping: its plan


def test_automatic_patience_on_windows_already_seen_is_capped_in_checks() -> None:
    every = Stopping.plan(0, 4000, 4000, 2, "cosine")  # each epoch sees every window
    assert every.patience_checks == TUNING.patience_max_checks == 10
    assert not every.sampled and not every.final_decay
    given = Stopping.plan(3, 4000, 4000, 2, "cosine")
    assert given.patience_checks == 3 * 2  # as asked, even on windows already seen
    auto = sampled()
    assert auto.sampled and auto.final_decay
    assert auto.patience_windows == TUNING.default_patience * PER_EPOCH


@pytest.mark.parametrize(
    ("options", "is_sampled", "decays"),
    [
        ({"patience": 2}, True, False),  # given patience: no final decay
        ({"schedule": "none"}, True, False),  # no cosine schedule to end
        ({"checks": 1}, False, False),  # one check an epoch: nothing to thin
        ({"tuning": Tuning(final_decay_epochs=0)}, True, False),
        ({"tuning": Tuning(sampled_epoch_checks=False)}, False, False),
    ],
)
def test_when_checks_thin_and_the_final_decay_applies(
    options: dict[str, object], is_sampled: bool, decays: bool
) -> None:
    stop = sampled(**options)
    assert (stop.sampled, stop.final_decay) == (is_sampled, decays)


# Stopping: patience, the plateau, the final decay


def test_patience_in_checks_counts_checks_since_the_best() -> None:
    stop = Stopping.plan(2, 1000, 1000, 1, "none")  # 2 epochs, one check each
    model = torch.nn.Linear(1, 1)
    assert stop.check(model, 1, 1000, 1.0, 1.0) and stop.patient
    assert not stop.check(model, 2, 2000, 1.0, 1.0) and stop.patient  # equal: no better
    assert stop.check(model, 3, 3000, 0.5, 1.0) and stop.stale == 0
    stop.check(model, 4, 4000, 0.6, 1.0)
    assert stop.patient
    stop.check(model, 5, 5000, 0.6, 1.0)
    assert not stop.patient and not stop.end_epoch(5, 50)
    assert (stop.best, stop.best_epoch, stop.best_val_loss) == (0.5, 3, 0.5)


def test_patience_in_windows_where_checks_are_sampled_and_no_decay() -> None:
    """Given patience 2 epochs: training stops 2 epochs of windows after the best."""
    stop = sampled(patience=2)
    assert run_epochs(stop, [1.0, 1.0, 0.5, 0.6]) == 4


@pytest.mark.parametrize(
    ("scores", "decay_began", "epochs_run"),
    [([1.0], 3, 9), ([1.0, 1.0, 0.9, 0.95], 10, 16), ([1.0, 1.0, 0.99, 1.0], 5, 11)],
    ids=["nothing gained: plateau", "10% gained: full patience", "1% gained: plateau"],
)
def test_patience_running_out_starts_the_final_decay_then_stops(
    scores: list[float], decay_began: int, epochs_run: int
) -> None:
    """3 epochs of windows on a plateau (under 2% better than the first epoch's best), 8
    otherwise; then 6 epochs of decay, and the end."""
    stop = sampled()
    assert run_epochs(stop, scores) == epochs_run
    assert stop.decay == (decay_began, TUNING.final_decay_epochs)
    assert stop.stopped_early and not stop.stopped_by_time


def test_the_final_decay_takes_only_the_epochs_the_budget_has_left() -> None:
    stop = sampled()
    assert run_epochs(stop, [1.0], epochs=5) == 5
    assert stop.decay == (3, 2)
    stop = sampled()
    assert run_epochs(stop, [1.0], epochs=3) == 3  # none left: it stops where patience ran out
    assert stop.decay == (3, 0)


def test_patience_holds_during_the_final_decay() -> None:
    """Once the decay has begun, no check stops training before its last epoch."""
    stop = sampled()
    run_epochs(stop, [1.0], epochs=4)
    assert stop.decay is not None
    stop.check(torch.nn.Linear(1, 1), 5, 10**9, 2.0, 2.0)  # far past any patience
    assert stop.patient


# Stopping: the best weights, the starting check, the time budget


def test_the_best_weights_are_kept_and_restored() -> None:
    model = torch.nn.Linear(2, 1)
    stop = sampled()
    stop.start(1.0, model)
    assert stop.best_train_loss is None and stop.best_epoch == 0
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    stop.check(model, 1, PER_EPOCH, 2.0, 0.1)  # worse than the start: not kept
    stop.restore(model)
    assert all(torch.equal(v, start[k]) for k, v in model.state_dict().items())
    with torch.no_grad():
        model.weight.add_(1.0)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    assert stop.check(model, 2, 2 * PER_EPOCH, 0.5, 0.3)
    with torch.no_grad():
        model.weight.add_(1.0)  # later changes do not touch the copy kept
    stop.restore(model)
    assert all(torch.equal(v, best[k]) for k, v in model.state_dict().items())
    assert (stop.best_val_loss, stop.best_train_loss, stop.best_epoch) == (0.5, 0.3, 2)


def test_without_validation_the_training_loss_decides() -> None:
    stop = sampled()
    assert stop.check(torch.nn.Linear(1, 1), 1, 100, None, 0.7)
    assert stop.best == 0.7 and stop.best_val_loss is None


def test_the_time_budget_stops_at_once_and_on_every_rank() -> None:
    asked: list[bool] = []

    class Ranks(World):
        def any(self, flag: bool) -> bool:  # another rank is out of time
            asked.append(flag)
            return True

    assert not sampled().out_of_time()  # no deadline: never asks the ranks
    stop = sampled(deadline=1e18, world=Ranks())
    assert stop.out_of_time() and stop.stopped_by_time and asked == [False]
    assert stop.out_of_time() and asked == [False]  # decided: not asked again
    assert not stop.skips(2, last=False)  # the time-out's check is never skipped
    assert not stop.end_epoch(2, 50)
    assert not stop.stopped_early  # the time ran out, not patience


def test_later_sampled_epochs_check_only_at_their_end() -> None:
    stop = sampled()
    assert not stop.skips(1, last=False) and not stop.skips(2, last=True)
    assert stop.skips(2, last=False)
    assert not Stopping.plan(0, 4000, 4000, 2, "cosine").skips(2, last=False)
