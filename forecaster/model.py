"""The stacked LSTM forecaster and a plain, explicit-gate LSTM used to check and explain it."""

from __future__ import annotations

import torch
from torch import nn

from forecaster.config import ModelConfig

__all__ = ["Ensemble", "LSTMForecaster", "ModelConfig", "explicit_lstm", "window_level_spread"]


def window_level_spread(context: torch.Tensor, norm: str) -> tuple[torch.Tensor, torch.Tensor]:
    """What each window is centred on and divided by: (B, 1, C) each (``norm`` "none": 0 and 1)."""
    if norm == "none":
        ones = context.new_ones(context.shape[0], 1, context.shape[2])
        return ones * 0.0, ones
    level = context[:, -1:] if norm == "last" else context.mean(dim=1, keepdim=True)
    spread = context.std(dim=1, keepdim=True, correction=0) + 1e-3  # (B, 1, C)
    return level, spread


class LSTMForecaster(nn.Module):
    """Stacked LSTM over the lookback window; a linear head emits all horizon steps at once.

    With ``window_norm`` each window is shifted by its own last value ("last", as NLinear,
    Zeng et al. 2023) or mean ("mean", RevIN, Kim et al. 2022, without learned affine) and
    divided by its spread before the LSTM, and restored after the head, so that one global
    model serves series at any level and follows shifts of level between training and use.

    With ``segment`` P > 1 the LSTM reads the window P steps at a time (cf. SegRNN, Lin et
    al. 2023): L / P recurrent steps instead of L, so long windows stay cheap to unroll and
    gradients cross fewer steps. Backpropagation still runs through the whole window.

    With ``lstm_lookback`` R < L the LSTM reads only the last R rows, while the linear skip
    reads all L: a linear map can use a long history cheaply (see `linear.fit_skip`).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        rows = config.recurrent_rows
        if rows % config.segment or rows > config.lookback:
            raise ValueError(
                f"the LSTM's {rows} rows are not a multiple of {config.segment} within "
                f"lookback {config.lookback}"
            )
        self.lstm = nn.LSTM(
            input_size=config.n_targets * config.segment,
            hidden_size=config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Linear(config.hidden, config.horizon * config.n_targets)
        # A linear map from the context straight to the horizon, shared by all targets: the
        # LSTM then learns what a linear extrapolation misses (cf. NLinear, Zeng et al. 2023).
        self.skip = nn.Linear(config.lookback, config.horizon) if config.linear_skip else None
        if self.skip is not None:
            # Start at the naive forecast (windows are centred on their last value, so zero
            # weights repeat it). On ETTh1, 3 seeds: MSE at h = 24, 48, 336 0.0262, 0.0397,
            # 0.0863 against 0.0269, 0.0414, 0.0877 from PyTorch's random initialisation.
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        batch = context.shape[0]  # context: (B, L, C)
        norm = self.config.window_norm
        if norm != "none":
            level, spread = window_level_spread(context, norm)  # (B, 1, C) each
            context = (context - level) / spread
        recent = context[:, context.shape[1] - self.config.recurrent_rows :]  # (B, R, C)
        steps = recent.reshape(batch, -1, self.config.segment * context.shape[2])  # (B, R/P, P*C)
        hidden, _ = self.lstm(steps)  # (B, R/P, hidden)
        last = hidden[:, -1]  # (B, hidden)
        out = self.head(last).view(batch, self.config.horizon, self.config.n_targets)  # (B, H, C)
        if self.skip is not None:
            out = out + self.skip(context.transpose(1, 2)).transpose(1, 2)  # (B, H, C)
        if norm != "none":
            out = out * spread + level
        return out


class Ensemble(nn.Module):
    """Networks of one shape, trained from different seeds; the forecast is their mean.

    Averaging a few independently trained networks removes much of the variance that the
    seed alone causes (M4 Hourly: see `benchmarks/README.md`).
    """

    def __init__(self, config: ModelConfig, members: list[LSTMForecaster] | None = None) -> None:
        super().__init__()
        self.config = config
        if members is None:
            members = [LSTMForecaster(config) for _ in range(config.members)]
        if len(members) != config.members:
            raise ValueError(f"{len(members)} networks for an ensemble of {config.members}")
        self.members = nn.ModuleList(members)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(context) for member in self.members]).mean(dim=0)


def explicit_lstm(
    lstm: nn.LSTM, inputs: torch.Tensor
) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """Run ``lstm``'s weights through the gate equations of DESIGN.md, one step at a time.

    Slow and plain on purpose: it is the reference that `nn.LSTM` is tested against, and it
    returns every gate's activations so a user can see what the network did. Dropout between
    layers is not applied (evaluation mode). ``inputs`` is (B, T, input_size), batch first.
    Returns the top layer's hidden states (B, T, hidden) and, per layer, the gates (B, T, hidden).
    """
    batch, steps, _ = inputs.shape
    layer_input = inputs
    gates_per_layer: list[dict[str, torch.Tensor]] = []
    for layer in range(lstm.num_layers):
        w_ih = getattr(lstm, f"weight_ih_l{layer}")  # (4 * hidden, input): rows i, f, g, o
        w_hh = getattr(lstm, f"weight_hh_l{layer}")  # (4 * hidden, hidden)
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        hidden_size = w_hh.shape[1]
        # W [h_{t-1}; x_t] with W = [W_hh | W_ih], the concatenated form used in DESIGN.md.
        weight = torch.cat([w_hh, w_ih], dim=1)  # (4 * hidden, hidden + input)
        w_i, w_f, w_g, w_o = weight.chunk(4, dim=0)
        b_i, b_f, b_g, b_o = bias.chunk(4, dim=0)
        h = inputs.new_zeros(batch, hidden_size)
        c = inputs.new_zeros(batch, hidden_size)
        outputs: list[torch.Tensor] = []
        record: dict[str, list[torch.Tensor]] = {
            name: [] for name in ("forget", "input", "candidate", "output")
        }
        for t in range(steps):
            hx = torch.cat([h, layer_input[:, t]], dim=1)  # (B, hidden + input)
            f = torch.sigmoid(hx @ w_f.T + b_f)  # forget gate
            i = torch.sigmoid(hx @ w_i.T + b_i)  # input gate
            g = torch.tanh(hx @ w_g.T + b_g)  # candidate cell values
            c = f * c + i * g  # cell state: changed only linearly
            o = torch.sigmoid(hx @ w_o.T + b_o)  # output gate
            h = o * torch.tanh(c)  # hidden state
            outputs.append(h)
            for name, value in zip(record, (f, i, g, o), strict=True):
                record[name].append(value)
        layer_input = torch.stack(outputs, dim=1)  # (B, T, hidden)
        gates_per_layer.append({k: torch.stack(v, dim=1) for k, v in record.items()})
    return layer_input, gates_per_layer
