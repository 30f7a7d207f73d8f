"""The NumPy forward pass that prediction uses, against the torch module it must reproduce."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import inference
from forecaster.config import ModelConfig
from forecaster.model import Ensemble, LSTMForecaster
from tests.conftest import modules_imported_by


def numpy_weights(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def randomised(model: Ensemble) -> Ensemble:
    """Every weight random, so the skip (zero at initialisation) is exercised too."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
    return model


def torch_forecast(model: Ensemble, contexts: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(contexts)).numpy()


@st.composite
def networks(draw: st.DrawFn) -> tuple[ModelConfig, np.ndarray]:
    segment = draw(st.sampled_from([1, 2, 4]))
    recurrent = segment * draw(st.integers(1, 6))
    config = ModelConfig(
        n_targets=draw(st.integers(1, 3)),
        lookback=recurrent + draw(st.sampled_from([0, 0, 1, 5])),
        lstm_lookback=recurrent,
        members=draw(st.integers(1, 3)),
        horizon=draw(st.integers(1, 5)),
        hidden=draw(st.integers(1, 9)),
        layers=draw(st.integers(1, 3)),
        dropout=0.2,
        window_norm=draw(st.sampled_from(["last", "mean", "none"])),
        linear_skip=draw(st.booleans()),
        segment=segment,
    )
    batch = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    level = draw(st.sampled_from([0.0, 5.0, -300.0]))
    contexts = (level + rng.normal(size=(batch, config.lookback, config.n_targets))).astype(
        np.float32
    )
    torch.manual_seed(seed)
    return config, contexts


@settings(max_examples=60, deadline=None)
@given(networks())
def test_numpy_forward_matches_the_torch_module(network: tuple[ModelConfig, np.ndarray]) -> None:
    config, contexts = network
    model = randomised(Ensemble(config))
    expected = torch_forecast(model, contexts)
    got = inference.forward(numpy_weights(model), config, contexts)
    assert got.shape == expected.shape == (len(contexts), config.horizon, config.n_targets)
    assert got.dtype == np.float32
    scale = 1.0 + np.abs(contexts).max()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * scale)


def test_numpy_forward_matches_a_trained_sized_model_in_batches() -> None:
    """Default sizes (64 x 2, segment 24), more windows than one pass holds."""
    torch.manual_seed(0)
    config = ModelConfig(n_targets=1, lookback=192, horizon=24, segment=24, lstm_lookback=96)
    model = randomised(Ensemble(config))
    contexts = np.random.default_rng(0).normal(size=(inference.BATCH + 5, 192, 1))
    contexts = contexts.astype(np.float32)
    expected = torch_forecast(model, contexts)
    got = inference.run(numpy_weights(model), config, contexts)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    empty = inference.run(numpy_weights(model), config, contexts[:0])
    assert empty.shape == (0, 24, 1)


@pytest.mark.parametrize("size", [1e4, 87.5, 88.5, 104.0, 1e30])
def test_saturated_gates_stay_finite_and_silent(size: float) -> None:
    """Huge pre-activations (beyond float32 at 1e30 x 3; about -88, where float32's exp
    leaves the normal range): no overflow or underflow raised, no NaN, and the same
    forecast as the torch module."""
    config = ModelConfig(
        n_targets=1, lookback=4, horizon=2, hidden=3, layers=1, window_norm="none"
    )  # so the gates see -size at the first step
    model = Ensemble(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.fill_(-size if "weight_ih" in name else size)
    weights = numpy_weights(model)
    contexts = np.ones((2, 4, 1), np.float32) * 3
    with np.errstate(all="raise"):
        out = inference.forward(weights, config, contexts)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, torch_forecast(model, contexts), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("skip", [True, False])
def test_weight_shapes_are_torch_state_dict_shapes(layers: int, skip: bool) -> None:
    config = ModelConfig(n_targets=2, lookback=12, horizon=5, hidden=7, layers=layers,
                         linear_skip=skip, segment=3)  # fmt: skip
    state = LSTMForecaster(config).state_dict()
    assert inference.member_shapes(config) == {k: tuple(v.shape) for k, v in state.items()}
    config.members = 2
    state = Ensemble(config).state_dict()
    assert inference.weight_shapes(config) == {k: tuple(v.shape) for k, v in state.items()}
    assert inference.weights_mismatch(config, numpy_weights(Ensemble(config))) is None


def test_weights_mismatch_names_the_problem() -> None:
    config = ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4)
    weights = numpy_weights(Ensemble(config))
    bigger = ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=5)
    mismatch = inference.weights_mismatch(bigger, weights)
    assert "members.0.lstm.weight_ih_l0 has shape (16, 1)" in str(mismatch)
    deeper = ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4, layers=3)
    assert "missing members.0.lstm.bias_hh_l2" in str(inference.weights_mismatch(deeper, weights))
    no_skip = ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4, linear_skip=False)
    assert "unexpected members.0.skip.bias" in str(inference.weights_mismatch(no_skip, weights))
    more = ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4, members=2)
    assert "missing members.1.head.bias" in str(inference.weights_mismatch(more, weights))
    weights["members.0.head.bias"] = weights["members.0.head.bias"].astype(np.float64)
    assert "float64" in str(inference.weights_mismatch(config, weights))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hidden", 0),
        ("layers", -1),
        ("segment", 3),
        ("lookback", 2.5),
        ("window_norm", "max"),
        ("members", 0),
        ("lstm_lookback", 9),
        ("lstm_lookback", 0),
    ],
)
def test_check_config_refuses_impossible_networks(field: str, value: object) -> None:
    config = ModelConfig(n_targets=1, lookback=8, horizon=2)
    setattr(config, field, value)
    with pytest.raises(ValueError):
        inference.check_config(config)


def test_predict_and_evaluate_never_import_torch(trained_model: Path, tmp_path: Path) -> None:
    """The point of `inference`: a second of start-up instead of three."""
    data = tmp_path / "recent.csv"
    from tests.conftest import seasonal_frame

    seasonal_frame(60).to_csv(data, index=False)
    imported = modules_imported_by(
        ["predict", "-m", str(trained_model)],
        ["evaluate", "-m", str(trained_model), str(data)],
        ["info", str(trained_model)],
    )
    assert [m for m in imported if m == "torch" or m.startswith("torch.")] == []


def test_a_window_forecasts_the_same_alone_or_in_a_batch() -> None:
    """A series forecast alone gives the very bits it gets inside a panel: what the other
    windows of a batch are never changes a forecast (a float32 product for the linear skip
    did, in the sixth digit)."""
    config = ModelConfig(
        n_targets=2, lookback=1344, lstm_lookback=168, members=3, horizon=48, hidden=64,
        layers=2, dropout=0.0, window_norm="last", linear_skip=True, segment=24,
    )  # fmt: skip
    torch.manual_seed(0)
    weights = numpy_weights(randomised(Ensemble(config)))
    rng = np.random.default_rng(0)
    contexts = rng.normal(size=(37, config.lookback, 2)).astype(np.float32)
    together = inference.run(weights, config, contexts)
    for k in (0, 5, 36):
        assert np.array_equal(
            inference.run(weights, config, contexts[k : k + 1]), together[k : k + 1]
        )
    assert np.array_equal(inference.run(weights, config, contexts[3:20]), together[3:20])


def test_a_repeated_forward_is_read_from_the_recent_ones_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The blend, the validation scores and the calibration forecast the same windows: the
    second pass returns the first one's array; other weights or contexts are computed."""
    config = ModelConfig(n_targets=1, lookback=8, horizon=3, hidden=4, layers=1, members=2)
    torch.manual_seed(0)
    weights = {k: v.detach().numpy().copy()
               for k, v in Ensemble(config, [LSTMForecaster(config) for _ in range(2)])
               .state_dict().items()}  # fmt: skip
    contexts = np.random.default_rng(0).normal(size=(5, 8, 1))
    calls = []
    real = inference.forward_members
    monkeypatch.setattr(inference, "forward_members",
                        lambda *args: calls.append(1) or real(*args))  # fmt: skip
    first = inference.run_members(weights, config, contexts)
    again = inference.run_members(weights, config, contexts.copy())
    assert again is first and len(calls) == 1 and not first.flags.writeable
    other = inference.run_members(dict(weights), config, contexts)  # another model's dict
    assert other is not first and len(calls) == 2
    np.testing.assert_array_equal(other, first)
    reordered = inference.run_members(weights, config, contexts[::-1])
    assert len(calls) == 3
    np.testing.assert_array_equal(reordered, first[:, ::-1])
