"""The stacked LSTM forecaster and a plain, explicit-gate LSTM used to check and explain it."""

from __future__ import annotations

import torch
from torch import nn

from forecaster.config import ModelConfig

__all__ = [
    "Ensemble",
    "LSTMForecaster",
    "ModelConfig",
    "explicit_lstm",
    "window_level",
    "window_level_spread",
]


def window_level_spread(context: torch.Tensor, norm: str) -> tuple[torch.Tensor, torch.Tensor]:
    """What each window is centred on and divided by: (B, 1, C) each (``norm`` "none": 0 and 1)."""
    if norm == "none":
        ones = context.new_ones(context.shape[0], 1, context.shape[2])
        return ones * 0.0, ones
    spread = context.std(dim=1, keepdim=True, correction=0) + 1e-3  # (B, 1, C)
    return window_level(context, norm), spread


def window_level(context: torch.Tensor, norm: str) -> torch.Tensor:
    """What each window (B, L, C) is centred on, (B, 1, C) ("last" or "mean" ``norm``)."""
    return context[:, -1:] if norm == "last" else context.mean(dim=1, keepdim=True)


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
        recurrent_channels = config.n_targets + config.n_past + config.n_future
        self.lstm = nn.LSTM(
            input_size=recurrent_channels * config.segment,
            hidden_size=config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        # Future covariates over the whole horizon and the static ones reach the head
        # directly, beside the LSTM's state (MQ-RNN's global decoder, Wen et al. 2017).
        head_inputs = config.hidden + config.horizon * config.n_future + config.n_static
        self.head = nn.Linear(head_inputs, config.horizon * config.n_targets)
        if config.n_calendar:
            # The calendar's columns start at zero, so that the starting network is the fitted
            # skip plus the small output of an untrained head. Drawn at random, its H x
            # n_calendar inputs (nearly all of the head's) add a large random forecast that
            # training must first unlearn: ETTh1 with past covariates, one network, h = 96,
            # test MSE 0.0603 against 0.0523 at zero; EPF MAE 5.96 against 5.90.
            with torch.no_grad():
                head_future = self.head.weight[:, config.hidden : head_inputs - config.n_static]
                calendar = head_future.view(-1, config.horizon, config.n_future)
                calendar[:, :, config.n_future - config.n_calendar :] = 0
        # A linear map from the context straight to the horizon, shared by all targets: the
        # LSTM then learns what a linear extrapolation misses (cf. NLinear, Zeng et al. 2023).
        self.skip = nn.Linear(config.lookback, config.horizon) if config.linear_skip else None
        if self.skip is not None:
            # Start at the naive forecast (windows are centred on their last value, so zero
            # weights repeat it). On ETTh1, 3 seeds: MSE at h = 24, 48, 336 0.0262, 0.0397,
            # 0.0863 against 0.0269, 0.0414, 0.0877 from PyTorch's random initialisation.
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
        # The skip's covariate part: a linear map of the covariates' changes from the last
        # context row (over the horizon for future ones, over recent rows for all) to the
        # horizon, as NBEATSx and LEAR extend their linear models; fit by least squares.
        features = config.covariate_features
        self.cov_skip = nn.Linear(features, config.horizon, bias=False) if features else None
        if self.cov_skip is not None:
            nn.init.zeros_(self.cov_skip.weight)

    def normalise(
        self, inputs: torch.Tensor, spread: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """The targets' context (B, L, C) centred and divided by each window's level and
        spread (None, None with ``window_norm`` "none"); ``spread``, when given, is the
        windows' own, computed before (`train.window_spreads`)."""
        context = inputs[:, : self.config.lookback, : self.config.n_targets]
        if self.config.window_norm == "none":
            return context, None, None
        if spread is None:
            level, spread = window_level_spread(context, self.config.window_norm)  # (B, 1, C)
        else:
            level = window_level(context, self.config.window_norm)
        return (context - level) / spread, level, spread

    def lstm_steps(self, context: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """What the LSTM reads (B, R / P, P x (C + Kp + Kf)): the normalised ``context``'s
        last R rows beside the past and future covariates of those rows, P rows a step."""
        config = self.config
        batch, lookback, targets = context.shape[0], config.lookback, config.n_targets
        start = lookback - config.recurrent_rows
        recent = context[:, start:]  # (B, R, C)
        if config.n_past + config.n_future:
            dynamic = inputs[:, start:lookback, targets : targets + config.n_past + config.n_future]
            recent = torch.cat([recent, dynamic], dim=2)  # (B, R, C + Kp + Kf)
        return recent.reshape(batch, -1, config.segment * recent.shape[2])

    def paths(
        self, context: torch.Tensor, inputs: torch.Tensor, spread: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The LSTM path's and the linear skip's outputs (B, H, C) in normalised units
        (their sum, restored by the window's spread and level, is the forecast), from the
        normalised ``context`` and the ``inputs`` it came from (for the covariates)."""
        config = self.config
        batch, lookback, targets = context.shape[0], config.lookback, config.n_targets
        hidden, _ = self.lstm(self.lstm_steps(context, inputs))  # (B, R/P, hidden)
        head_inputs = [hidden[:, -1]]  # (B, hidden)
        if config.n_future:
            first = targets + config.n_past
            head_inputs.append(inputs[:, lookback:, first : first + config.n_future].flatten(1))
        if config.n_static:
            head_inputs.append(inputs[:, lookback - 1, targets + config.n_past + config.n_future :])
        head_input = head_inputs[0] if len(head_inputs) == 1 else torch.cat(head_inputs, dim=1)
        lstm = self.head(head_input).view(batch, config.horizon, targets)  # (B, H, C)
        skip = None
        if self.skip is not None:
            skip = self.skip(context.transpose(1, 2)).transpose(1, 2)  # (B, H, C)
        if self.cov_skip is not None:
            effect = self.cov_skip(covariate_changes(inputs, config))[:, :, None]  # (B, H, 1)
            effect = effect / spread if spread is not None else effect
            skip = effect if skip is None else skip + effect
        return lstm, skip

    def forward(self, inputs: torch.Tensor, spread: torch.Tensor | None = None) -> torch.Tensor:
        """Inputs (B, L, C), or with covariates (B, L + H, C + K), to forecasts (B, H, C);
        ``spread``: see `normalise`."""
        context, level, spread = self.normalise(inputs, spread)
        lstm, skip = self.paths(context, inputs, spread)
        out = lstm if skip is None else lstm + skip
        if level is not None and spread is not None:
            out = out * spread + level
        return out


def covariate_changes(inputs: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """What the skip's covariate part reads (B, F): the future covariates over the horizon
    and the past and future ones over the last ``covariate_rows - 1`` context rows, each
    minus its value at the last context row.

    Changes, not levels, as the target's own part reads the window centred on its last
    value: a covariate that moves the target linearly moves it by the same map at any level.
    """
    lookback, targets = config.lookback, config.n_targets
    first_future = targets + config.n_past
    dynamic_end = first_future + config.skip_future  # the calendar's are left out
    last = inputs[:, lookback - 1 : lookback]  # (B, 1, C + K)
    parts = []
    if config.skip_future:
        future = (
            inputs[:, lookback:, first_future:dynamic_end] - last[:, :, first_future:dynamic_end]
        )
        parts.append(future.flatten(1))
    rows = config.covariate_rows - 1
    if rows > 0 and dynamic_end > targets:
        recent = inputs[:, lookback - 1 - rows : lookback - 1, targets:dynamic_end]
        parts.append((recent - last[:, :, targets:dynamic_end]).flatten(1))
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


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
    """Run ``lstm``'s weights through the LSTM gate equations, one step at a time:
    i, f, o = sigmoid(W [h; x] + b) by gate, g = tanh(...), c = f c + i g, h = o tanh(c).

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
        # W [h_{t-1}; x_t] with W = [W_hh | W_ih], the concatenated form of the equations above.
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
