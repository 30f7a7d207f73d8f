"""`forecaster inspect`: the gates it reports are the network's, and the numbers add up."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import artifact as artifact_io
from forecaster.config import ModelConfig
from forecaster.gates import attribute, memory_span, paths, trace_member
from forecaster.model import Ensemble, LSTMForecaster, window_level_spread
from forecaster.plot import DPI, PANEL_HEIGHT, PANEL_WIDTH
from tests.conftest import FAST, invoke, long_frame, seasonal_frame
from tests.test_plot import read_png


@pytest.fixture(scope="module")
def two_layer_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An ensemble of two 2-layer networks on a daily series (segment of a week)."""
    directory = tmp_path_factory.mktemp("inspect")
    data = directory / "daily.csv"
    seasonal_frame(400).to_csv(data, index=False)
    model = directory / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", "7", *FAST, "--ensemble", "2"]
    assert invoke(args).exit_code == 0
    return model, data


def normalised(member: LSTMForecaster, context: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(context.astype(np.float32))[None]
    level, spread = window_level_spread(x, member.config.window_norm)
    return (x - level) / spread


def test_the_explicit_cell_is_the_trained_lstm(two_layer_model: tuple[Path, Path]) -> None:
    """Every member and layer of a trained model file: the explicit gates give nn.LSTM's
    hidden states at every step and its final cell state, within float32 rounding."""
    artifact = artifact_io.load(two_layer_model[0])
    ensemble = artifact.build_model()
    config = artifact.model_config
    rng = np.random.default_rng(0)
    context = rng.normal(size=(config.lookback, 1))
    for member in ensemble.members:
        assert isinstance(member, LSTMForecaster)
        traced = trace_member(member, torch.from_numpy(context.astype(np.float32))[None])
        x = normalised(member, context)
        steps = x[:, x.shape[1] - config.recurrent_rows :].reshape(1, -1, config.segment)
        with torch.no_grad():
            layer_input = steps
            for layer, values in enumerate(traced):
                single = torch.nn.LSTM(layer_input.shape[2], config.hidden, batch_first=True)
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(single, f"{name}_l0").copy_(getattr(member.lstm, f"{name}_l{layer}"))
                out, (_, c_n) = single(layer_input)
                assert np.allclose(values["hidden"], out[0].numpy(), atol=1e-5)
                assert np.allclose(values["cell"][-1], c_n[0, 0].numpy(), atol=1e-5)
                layer_input = out
    assert len(traced) == config.layers == 2


def test_a_forget_gate_held_at_0_9_keeps_memory_for_9_49_steps() -> None:
    config = ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=3, layers=1, dropout=0.0,
                         segment=1, members=1)  # fmt: skip
    member = LSTMForecaster(config)
    with torch.no_grad():
        for parameter in member.lstm.parameters():
            parameter.zero_()
        hidden = config.hidden  # bias rows: input, forget, candidate, output
        member.lstm.bias_ih_l0[hidden : 2 * hidden] = math.log(0.9 / 0.1)
    traced = trace_member(member, torch.randn(1, 8, 1))
    assert np.allclose(traced[0]["forget"], 0.9, atol=1e-6)
    assert memory_span(traced[0]["forget"].mean(axis=0)) == pytest.approx([9.4912] * 3, rel=1e-4)
    assert memory_span(np.array([0.5]))[0] == pytest.approx(1 / math.log(2))


def test_the_skip_attribution_is_its_weights_times_the_inputs() -> None:
    config = ModelConfig(n_targets=1, lookback=12, horizon=3, hidden=4, layers=2, dropout=0.0,
                         segment=2, lstm_lookback=6, members=1)  # fmt: skip
    torch.manual_seed(0)
    ensemble = Ensemble(config)
    member = ensemble.members[0]
    assert isinstance(member, LSTMForecaster) and member.skip is not None
    with torch.no_grad():
        member.skip.weight.normal_()
    context = np.random.default_rng(1).normal(size=(12, 1))
    attribution, share = attribute(ensemble, context)
    x = normalised(member, context)[0, :, 0].numpy()
    weights = member.skip.weight.detach().numpy().mean(axis=0)  # d mean(skip) / d x_l
    assert np.allclose(attribution["skip"][:, 0], weights * x, rtol=1e-5, atol=1e-7)
    assert share["lstm"] + share["skip"] == pytest.approx(1.0)
    # the LSTM reads only the last 6 rows: older lags do not reach it
    assert np.all(attribution["lstm"][:6] == 0)


def test_the_lstm_attribution_matches_finite_differences() -> None:
    """Backpropagation through time against central differences, in float64."""
    config = ModelConfig(n_targets=1, lookback=10, horizon=2, hidden=5, layers=2, dropout=0.0,
                         segment=1, members=1)  # fmt: skip
    torch.manual_seed(3)
    ensemble = Ensemble(config)
    member = ensemble.members[0]
    assert isinstance(member, LSTMForecaster)
    context = np.random.default_rng(2).normal(size=(10, 1))
    attribution, _ = attribute(ensemble, context)
    double = LSTMForecaster(config).double()
    double.load_state_dict({k: v.double() for k, v in member.state_dict().items()})
    x0 = normalised(member, context).double()
    eps = 1e-6
    for lag in range(10):
        up, down = x0.clone(), x0.clone()
        up[0, lag, 0] += eps
        down[0, lag, 0] -= eps
        with torch.no_grad():
            slope = (paths(double, up)[0].mean() - paths(double, down)[0].mean()) / (2 * eps)
        expected = float(slope) * float(x0[0, lag, 0])
        assert attribution["lstm"][lag, 0] == pytest.approx(expected, rel=1e-3, abs=1e-6)
        # the whole model (both paths) against differences of its full output
        with torch.no_grad():
            both = sum(p.mean() for p in paths(double, up)) - sum(
                p.mean() for p in paths(double, down)
            )
        whole = float(both) / (2 * eps) * float(x0[0, lag, 0])
        total = attribution["lstm"][lag, 0] + attribution["skip"][lag, 0]
        assert total == pytest.approx(whole, rel=1e-3, abs=1e-6)


def test_inspect_writes_the_tidy_table(two_layer_model: tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = two_layer_model
    artifact = artifact_io.load(model)
    config = artifact.model_config
    result = invoke(["inspect", "-m", str(model)])
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    columns = ["member", "layer", "step", "time", "unit", "forget", "input", "output",
               "candidate", "cell", "hidden"]  # fmt: skip
    assert list(table.columns) == columns
    steps = config.recurrent_rows // config.segment
    assert len(table) == config.members * config.layers * steps * config.hidden
    assert table[["forget", "input", "output"]].stack().between(0, 1).all()
    assert pd.Timestamp(table["time"].iloc[-1]) == pd.Timestamp(artifact.series_end[0])
    # the summary on stderr
    assert "memory span median" in result.stderr
    assert "lags that drive the LSTM" in result.stderr and "linear skip" in result.stderr
    lines = invoke(["inspect", "-m", str(model), "--format", "jsonl"]).stdout.splitlines()
    assert len(lines) == len(table) and set(json.loads(lines[0])) == set(columns)


def test_inspect_an_earlier_origin_from_data(
    two_layer_model: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = two_layer_model
    picture = tmp_path / "gates.png"
    result = invoke(["inspect", "-m", str(model), str(data), "--origin", "2020-12-01",
                     "--plot", str(picture), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert pd.Timestamp(table["time"].max()) == pd.Timestamp("2020-12-01")
    image = read_png(picture.read_bytes())
    layers = artifact_io.load(model).model_config.layers
    # four panels a row (three gates, the cell states), a row per layer and one of lags
    assert image.shape[:2] == (round((PANEL_HEIGHT * (layers + 1) + 0.6) * DPI),
                               round(4 * PANEL_WIDTH * 0.75 * DPI))  # fmt: skip
    assert image[..., :3].mean(axis=2).std() > 0.05


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["--series", "nope"], 2, "'nope' is not in the model"),
        (["DATA", "--origin", "2031-01-01"], 3, "is not a timestamp of"),
        (["DATA", "--origin", "2020-01-05"], 3, "is too early"),
        (["--origin", "2020-06-01"], 3, "give DATA to inspect an earlier origin"),
        (["--origin", "not a date"], 2, "is not a timestamp"),
        (["--plot", "missing-dir/g.png"], 2, "does not exist"),
        (["--plot", "g.bmp"], 2, "name an image file"),
    ],
)
def test_bad_inspect_requests_are_one_line_and_write_nothing(
    two_layer_model: tuple[Path, Path], tmp_path: Path, args: list[str], code: int, phrase: str
) -> None:
    model, data = two_layer_model
    out = tmp_path / "table.csv"
    out.write_text("precious\n")
    args = [str(data) if a == "DATA" else a for a in args]
    result = invoke(["inspect", "-m", str(model), *args, "-o", str(out)])
    assert result.exit_code == code, result.stderr
    assert phrase in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert out.read_text() == "precious\n"


def test_several_series_need_one_named(tmp_path: Path) -> None:
    data = tmp_path / "long.csv"
    long_frame().to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    result = invoke(["inspect", "-m", str(model)])
    assert result.exit_code == 2 and "--series is needed" in result.stderr
    assert invoke(["inspect", "-m", str(model), "--series", "s1", "-q"]).exit_code == 0


def test_info_summarises_the_gates(two_layer_model: tuple[Path, Path]) -> None:
    model, _ = two_layer_model
    text = invoke(["info", str(model)]).stdout
    assert "layer 1 gates:" in text and "layer 2 gates:" in text
    assert "median memory span" in text and "LSTM share:" in text
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    gates = described["training"]["gates"]
    assert [layer["layer"] for layer in gates["layers"]] == [1, 2]
    assert 0 <= gates["lstm_share"] <= 1


def test_the_table_and_the_picture_cannot_share_a_file(
    two_layer_model: tuple[Path, Path], tmp_path: Path
) -> None:
    same = tmp_path / "same.png"
    same.write_text("precious\n")
    result = invoke(
        ["inspect", "-m", str(two_layer_model[0]), "-o", str(same), "--plot", str(same)]
    )
    assert result.exit_code == 2 and "--plot and --output name the same file" in result.stderr
    assert same.read_text() == "precious\n"
