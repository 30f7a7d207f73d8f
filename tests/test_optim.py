"""`forecaster.optim` against `torch.optim`: the same weights to the bit, without torch's
compiler imported into the train process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from forecaster.config import ModelConfig
from forecaster.model import LSTMForecaster
from forecaster.optim import Adam, cosine_decay
from tests.conftest import long_frame, modules_imported_by


def _train(
    use_torch: bool, epochs: int = 4, foreach: bool = False, clip: bool = True
) -> list[torch.Tensor]:
    """A small LSTM forecaster trained with clipping and the cosine decay, as train.py does."""
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=2, lookback=24, horizon=6, segment=6))
    data = torch.Generator().manual_seed(1)
    optimizer: Adam | torch.optim.Adam
    if use_torch:
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, foreach=foreach)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    else:
        optimizer = Adam(model.parameters(), lr=3e-3)
        assert optimizer.flat is not None  # the one-buffer form is what is checked here
    for epoch in range(1, epochs + 1):
        model.train()  # dropout draws from torch's generator, the same in both runs
        for _ in range(15):
            context = torch.randn(8, 24, 2, generator=data).cumsum(1)
            target = torch.randn(8, 6, 2, generator=data)
            loss = nn.functional.l1_loss(model(context), target)
            optimizer.zero_grad()
            loss.backward()
            if clip and isinstance(optimizer, Adam):
                optimizer.clip_grad_norm(1.0)
            elif clip:
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        if use_torch:
            schedule.step()
        else:
            assert isinstance(optimizer, Adam)
            optimizer.lr = cosine_decay(optimizer.lr, epoch, epochs)
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("clip", [True, False], ids=["clipped", "not clipped"])
@pytest.mark.parametrize("foreach", [False, True], ids=["torch's CPU default", "foreach"])
def test_the_weights_are_torchs_to_the_bit(foreach: bool, clip: bool) -> None:
    ours = _train(use_torch=False, clip=clip)
    theirs = _train(use_torch=True, foreach=foreach, clip=clip)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert torch.equal(mine, reference)
    assert not torch.equal(ours[0], _train(use_torch=False, epochs=3)[0])  # the test can fail


@settings(max_examples=30, deadline=None)
@given(epochs=st.integers(1, 120), lr=st.floats(1e-5, 1.0))
def test_the_cosine_decay_is_torchs_rate_for_every_epoch(epochs: int, lr: float) -> None:
    parameter = nn.Parameter(torch.zeros(1))
    reference = torch.optim.SGD([parameter], lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(reference, T_max=epochs)
    ours = lr
    for epoch in range(1, epochs + 1):
        reference.step()
        schedule.step()
        ours = cosine_decay(ours, epoch, epochs)
        assert ours == reference.param_groups[0]["lr"]
    assert ours == pytest.approx(0.0, abs=1e-12 * lr)


@pytest.mark.parametrize("clip", [False, True], ids=["not clipped", "clipped"])
def test_a_parameter_without_a_gradient_is_left_alone_as_torch_leaves_it(clip: bool) -> None:
    def run(make: type) -> list[torch.Tensor]:
        torch.manual_seed(0)
        used, unused = nn.Parameter(torch.randn(3)), nn.Parameter(torch.randn(3))
        optimizer = make([used, unused], lr=0.1)
        for step in range(4):
            optimizer.zero_grad()
            loss = 5 * (used**2).sum() + ((unused**2).sum() if step >= 2 else 0)
            loss.backward()
            if clip and isinstance(optimizer, Adam):
                optimizer.clip_grad_norm(1.0)
            elif clip:
                nn.utils.clip_grad_norm_([used, unused], 1.0)
            optimizer.step()
        return [used.detach(), unused.detach()]

    ours, theirs = run(Adam), run(torch.optim.Adam)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_the_parameters_share_one_buffer_while_trained_and_own_their_storage_after() -> None:
    """One buffer makes each update a few operations in all; a model trained and saved
    afterwards must hold no tensor that shares memory with another."""
    from forecaster.train import train_model
    from tests.test_training import _sine_windows

    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4))
    optimizer = Adam(model.parameters(), lr=3e-3)
    storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    assert len(storages) == 1
    optimizer.release()
    assert len({p.untyped_storage().data_ptr() for p in model.parameters()}) == len(
        list(model.parameters())
    )
    train_model(model, _sine_windows(1000), epochs=1, batch_size=100, lr=3e-3, patience=1)
    assert len({p.untyped_storage().data_ptr() for p in model.parameters()}) == len(
        list(model.parameters())
    )


def test_big_parameter_sets_keep_the_per_tensor_update() -> None:
    """Past `FLAT_MAX_ELEMENTS`, copying the gradients into one buffer costs more than it saves."""
    from forecaster import optim

    small = nn.Linear(100, 100)
    big = nn.Linear(1000, optim.FLAT_MAX_ELEMENTS // 1000 + 1)
    assert Adam(small.parameters(), lr=1e-3).flat is not None
    assert Adam(big.parameters(), lr=1e-3).flat is None


def test_train_does_not_import_torchs_compiler(tmp_path: Path) -> None:
    """torch.optim's optimizers import torch._dynamo (1.6-3.5 s of every train process)."""
    data = tmp_path / "long.csv"
    long_frame().to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--epochs", "1", "--horizon", "6", "--quiet"]
    assert "torch._dynamo" not in modules_imported_by(args)
    assert model.exists()
