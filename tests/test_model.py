"""The network: the explicit gate equations match nn.LSTM, shapes, window normalisation."""

from __future__ import annotations

import pytest
import torch

from forecaster.model import LSTMForecaster, ModelConfig, explicit_lstm


@pytest.mark.parametrize(("layers", "inputs", "hidden"), [(1, 1, 4), (2, 3, 16), (3, 7, 8)])
def test_explicit_gates_match_nn_lstm(layers: int, inputs: int, hidden: int) -> None:
    torch.manual_seed(layers)
    dropout = 0.3 if layers > 1 else 0.0
    lstm = torch.nn.LSTM(inputs, hidden, num_layers=layers, batch_first=True, dropout=dropout)
    lstm.eval()  # the reference applies no dropout
    x = torch.randn(5, 12, inputs)
    expected, _ = lstm(x)
    got, gates = explicit_lstm(lstm, x)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert len(gates) == layers
    assert gates[0]["forget"].shape == (5, 12, hidden)
    forget = gates[-1]["forget"].detach()
    assert float(forget.min()) >= 0 and float(forget.max()) <= 1


def test_explicit_gates_by_hand_for_one_step() -> None:
    """One cell step computed from the LSTM gate equations with scalar weights."""
    lstm = torch.nn.LSTM(1, 1, batch_first=True)
    with torch.no_grad():
        # PyTorch stacks gate rows as input, forget, candidate, output.
        lstm.weight_ih_l0.copy_(torch.tensor([[0.5], [1.0], [2.0], [-1.0]]))
        lstm.weight_hh_l0.zero_()
        lstm.bias_ih_l0.copy_(torch.tensor([0.0, 1.0, 0.0, 0.5]))
        lstm.bias_hh_l0.zero_()
    x = torch.tensor([[[1.0]]])
    i, f, g, o = (
        torch.sigmoid(torch.tensor(0.5)),
        torch.sigmoid(torch.tensor(2.0)),
        torch.tanh(torch.tensor(2.0)),
        torch.sigmoid(torch.tensor(-0.5)),
    )
    c = f * 0 + i * g
    h = o * torch.tanh(c)
    with torch.no_grad():
        got, gates = explicit_lstm(lstm, x)
        from_torch = lstm(x)[0]
    assert float(got) == pytest.approx(float(h), abs=1e-6)
    assert float(gates[0]["forget"]) == pytest.approx(float(f), abs=1e-6)
    assert float(from_torch) == pytest.approx(float(h), abs=1e-6)


def test_forecaster_shapes_and_level_invariance() -> None:
    config = ModelConfig(n_targets=2, lookback=10, horizon=4, hidden=8, layers=2)
    model = LSTMForecaster(config).eval()
    x = torch.randn(3, 10, 2)
    out = model(x)
    assert out.shape == (3, 4, 2)
    # Window normalisation: shifting a window's level shifts its forecast by the same amount.
    torch.testing.assert_close(model(x + 100.0), out + 100.0, atol=1e-3, rtol=1e-4)


def test_segmented_lstm_reads_the_window_in_chunks() -> None:
    """What the LSTM receives is the normalised window, four rows (x 2 targets) per step."""
    from forecaster.model import window_level_spread

    config = ModelConfig(n_targets=2, lookback=12, horizon=3, hidden=8, layers=1, segment=4)
    model = LSTMForecaster(config).eval()
    assert model.lstm.input_size == 8  # 4 steps x 2 targets per LSTM step
    x = torch.randn(5, 12, 2)
    seen: list[torch.Tensor] = []
    model.lstm.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    out = model(x)
    assert out.shape == (5, 3, 2)
    level, spread = window_level_spread(x, "last")
    normalised = (x - level) / spread
    (steps,) = seen
    assert steps.shape == (5, 3, 8)  # 12 rows read as 3 recurrent steps
    torch.testing.assert_close(steps[:, 0], normalised[:, :4].reshape(5, 8))
    torch.testing.assert_close(steps[:, 2, 6:], normalised[:, 11])  # the last row, both targets
    # and the forecast is the head on the last hidden state plus the skip, restored
    hidden, _ = model.lstm(normalised.reshape(5, 3, 8))
    head = model.head(hidden[:, -1]).view(5, 3, 2)
    assert model.skip is not None
    skip = model.skip(normalised.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(out, (head + skip) * spread + level)


def test_lookback_must_be_a_multiple_of_the_segment() -> None:
    with pytest.raises(ValueError, match="multiple"):
        LSTMForecaster(ModelConfig(n_targets=1, lookback=10, horizon=2, segment=4))


def test_linear_skip_starts_as_the_naive_forecast() -> None:
    """Before training, with the LSTM's head silenced, every step repeats the last value."""
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=2, lookback=12, horizon=5, hidden=4))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    context = torch.randn(3, 12, 2) * 10 + 50
    forecast = model.eval()(context)
    expected = context[:, -1:].expand(-1, 5, -1)
    torch.testing.assert_close(forecast, expected, rtol=1e-5, atol=1e-4)
