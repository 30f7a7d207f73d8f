"""What `plot` draws and what `inspect` and `info` report, checked on their data.

A picture's pixels say that something was drawn, not what: here the figure's artists are
caught as they are saved and their data compared with `predict`'s output and the input
file (each panel its own series, times on the data's wall clock). The gates are compared
with an LSTM forget gate computed here from the weights, in PyTorch's documented layout
(rows of each weight: input, forget, candidate, output).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import artifact as artifact_io
from forecaster.config import ModelConfig
from forecaster.gates import model_summary
from forecaster.model import Ensemble, LSTMForecaster
from tests.conftest import FAST, invoke, long_frame, seasonal_frame

HORIZON = 7


def lines_of(ax: Any) -> dict[str, tuple[pd.DatetimeIndex, np.ndarray]]:
    """A panel's lines by label: wall-clock times as drawn, and values."""
    from matplotlib.dates import num2date

    out = {}
    for line in ax.get_lines():
        label = line.get_label()
        if label.startswith("_"):  # the divider
            continue
        x = line.get_xdata(orig=False)
        if np.issubdtype(np.asarray(x).dtype, np.number):
            times = pd.DatetimeIndex(
                [pd.NaT if np.isnan(v) else num2date(v).replace(tzinfo=None) for v in x]
            )  # NaN: the gap between backtest windows
        else:
            times = pd.DatetimeIndex(x)
        out[label] = (times, np.asarray(line.get_ydata(), dtype=np.float64))
    return out


def panels(figure: Any) -> list[Any]:
    return [ax for ax in figure.axes if ax.get_visible() and ax.get_title(loc="left")]


def wall_clock(texts: pd.Series) -> pd.DatetimeIndex:
    """The times as written, offset dropped: what the reader of the file sees."""
    return pd.DatetimeIndex([pd.Timestamp(t).tz_localize(None) for t in texts])


def test_each_plot_panel_draws_its_own_series_forecast_and_history(
    tmp_path: Path, figures: list[Any]
) -> None:
    data = tmp_path / "long.csv"
    frame = long_frame()
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", str(HORIZON), *FAST])
    assert trained.exit_code == 0, trained.stderr
    predicted = invoke(["predict", "-m", str(model), "--level", "80", "--level", "95", "-q"])
    assert predicted.exit_code == 0, predicted.stderr
    forecast = pd.read_csv(io.StringIO(predicted.stdout))
    result = invoke(["plot", "-m", str(model), str(data), "-o", str(tmp_path / "f.png"),
                     "--history", "20", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert len(figures) == 1
    drawn = panels(figures[0])
    assert [ax.get_title(loc="left") for ax in drawn] == ["s0", "s1", "s2"]
    for ax in drawn:
        series = ax.get_title(loc="left")
        assert ax.get_xlabel() == "ds" and ax.get_ylabel() == "y"
        rows = forecast[forecast["unique_id"] == series]
        own = frame[frame["unique_id"] == series].tail(20)
        lines = lines_of(ax)
        times, values = lines["forecast"]
        assert times.equals(wall_clock(rows["ds"]))
        np.testing.assert_allclose(values, rows["y"], rtol=1e-5)
        times, values = lines["history"]
        assert times.equals(wall_clock(own["ds"]))
        np.testing.assert_allclose(values, own["y"], rtol=1e-9)
        bands = {c.get_label(): c for c in ax.collections}
        assert set(bands) == {"80% interval", "95% interval"}
        for level, band in bands.items():
            name = level.split("%")[0]
            lower, upper = band_edges(band, len(rows))
            np.testing.assert_allclose(lower, rows[f"y-lo-{name}"], rtol=1e-5)
            np.testing.assert_allclose(upper, rows[f"y-hi-{name}"], rtol=1e-5)


def band_edges(band: Any, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A fill_between's lower and upper edges, from the outline of its polygon."""
    vertices = band.get_paths()[0].vertices
    # The outline: start, the upper edge forwards, the lower edge backwards (matplotlib
    # >= 3.8 starts with the lower edge forwards); find both by x order.
    xs, ys = vertices[:, 0], vertices[:, 1]
    order = np.unique(xs)
    assert len(order) == steps
    lower = np.array([ys[xs == x].min() for x in order])
    upper = np.array([ys[xs == x].max() for x in order])
    return lower, upper


@pytest.mark.parametrize("offset", ["+05:30", "-03:00"])
def test_plot_and_backtest_times_are_the_data_wall_clock(
    tmp_path: Path, figures: list[Any], offset: str
) -> None:
    """Timestamps written with an offset are drawn at the times the file shows, not in UTC:
    the forecast panel and the backtest panel both."""
    frame = seasonal_frame(160, freq="h", period=24)
    frame["date"] = frame["date"].dt.strftime(f"%Y-%m-%d %H:%M:%S{offset}")
    data = tmp_path / "offset.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "12", *FAST])
    assert trained.exit_code == 0, trained.stderr
    forecast = pd.read_csv(io.StringIO(invoke(["predict", "-m", str(model), "-q"]).stdout))
    assert forecast["date"].iloc[0].endswith(offset)
    result = invoke(["plot", "-m", str(model), str(data), "-o", str(tmp_path / "f.png"),
                     "--history", "30", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    picture, report = str(tmp_path / "b.png"), str(tmp_path / "r.csv")
    evaluated = invoke(["evaluate", "-m", str(model), str(data), "--windows", "1", "-q",
                        "--plot", picture, "-o", report])  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.stderr
    assert len(figures) == 2
    (forecast_panel,) = panels(figures[0])
    lines = lines_of(forecast_panel)
    assert lines["forecast"][0].equals(wall_clock(forecast["date"]))
    assert lines["history"][0].equals(wall_clock(frame["date"].tail(30)))
    (backtest_panel,) = panels(figures[1])
    actual_times, actual = lines_of(backtest_panel)["actual"]
    written = dict(zip(wall_clock(frame["date"]), frame["value"], strict=True))
    assert all(t in written for t in actual_times)
    np.testing.assert_allclose(actual, [written[t] for t in actual_times], rtol=1e-9)
    assert actual_times[-1] == wall_clock(frame["date"])[-1]


# ---------------------------------------------------------------------------------------
# Gates, from the weights


def forget_gates(lstm: torch.nn.LSTM, steps: torch.Tensor) -> list[np.ndarray]:
    """Each layer's forget gate (B, T, hidden) of ``lstm`` on ``steps`` (B, T, input):
    sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf), h_{t-1} from PyTorch's own LSTM run one
    layer at a time (h_{-1} = 0), the forget rows the second quarter of each weight."""
    hidden = lstm.hidden_size
    rows = slice(hidden, 2 * hidden)
    out = []
    layer_input = steps
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            single = torch.nn.LSTM(layer_input.shape[2], hidden, batch_first=True)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(single, f"{name}_l0").copy_(getattr(lstm, f"{name}_l{layer}"))
            h, _ = single(layer_input)  # (B, T, hidden)
            before = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
            b = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
            pre = layer_input @ w_ih[rows].T + before @ w_hh[rows].T + b[rows]
            out.append(torch.sigmoid(pre).numpy())
            layer_input = h
    return out


def test_inspect_forget_column_is_the_lstm_forget_gate(tmp_path: Path) -> None:
    """Every row of the tidy table (member, layer, step, unit) holds the forget gate
    computed from that member's weights on the window the model stores."""
    data = tmp_path / "daily.csv"
    seasonal_frame(200).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", "7", *FAST, "--ensemble", "2"]
    trained = invoke(args)
    assert trained.exit_code == 0, trained.stderr
    result = invoke(["inspect", "-m", str(model), "-q"])
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    artifact = artifact_io.load(model)
    config = artifact.model_config
    window = (artifact.context[0] - artifact.scaler.mean[0]) / artifact.scaler.std[0]
    raw = torch.from_numpy(np.asarray(window, dtype=np.float32))[None]
    members = artifact.build_model().members
    assert len(members) == 2 and config.layers == 2
    for m, member in enumerate(members):
        assert isinstance(member, LSTMForecaster)
        context, _, _ = member.normalise(raw)
        expected = forget_gates(member.lstm, member.lstm_steps(context, raw))
        for layer, gates in enumerate(expected):
            rows = table[(table["member"] == m + 1) & (table["layer"] == layer + 1)]
            got = rows.pivot(index="step", columns="unit", values="forget").to_numpy()
            assert got.shape == gates[0].shape
            np.testing.assert_allclose(got, gates[0], rtol=1e-4, atol=1e-5)


def test_info_forget_figure_is_the_mean_forget_gate() -> None:
    """`info`'s mean forget gate per layer (model_summary) is the forget gate's mean over
    members, windows, steps and units, not another gate's: the forget bias is raised so
    the gates' means are far apart."""
    config = ModelConfig(n_targets=1, lookback=12, horizon=3, hidden=4, layers=2, dropout=0.0,
                         segment=2, lstm_lookback=8, members=2)  # fmt: skip
    torch.manual_seed(5)
    ensemble = Ensemble(config)
    with torch.no_grad():
        for member in ensemble.members:
            for layer in range(config.layers):
                getattr(member.lstm, f"bias_ih_l{layer}")[4:8] += 2.0  # forget rows
    ensemble.eval()
    contexts = np.random.default_rng(4).normal(size=(6, 12, 1)).cumsum(axis=1)
    summary = model_summary(ensemble, contexts, 3600.0)
    raw = torch.from_numpy(contexts.astype(np.float32))
    means: list[list[np.ndarray]] = [[] for _ in range(config.layers)]
    for member in ensemble.members:
        assert isinstance(member, LSTMForecaster)
        context, _, _ = member.normalise(raw)
        for layer, gates in enumerate(forget_gates(member.lstm, member.lstm_steps(context, raw))):
            means[layer].append(gates)
    layers = summary["layers"]
    assert isinstance(layers, list) and len(layers) == 2
    for layer, values in zip(layers, means, strict=True):
        expected = float(np.mean(values))
        assert expected > 0.75  # the raised bias: the input gate's mean is near 0.5
        assert layer["forget"] == pytest.approx(expected, abs=1e-4)
