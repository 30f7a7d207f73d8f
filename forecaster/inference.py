"""The network's forward pass in NumPy, so that prediction never imports torch.

`forecaster predict` on a small model took 3 s, of which `import torch` was 2.1 s and the
forecast itself a few milliseconds. Inference needs only the LSTM gate equations
(the same ones `model.explicit_lstm` spells out), a few matrix products and the window
normalisation; tests hold this module to `model.LSTMForecaster` within float32 rounding.
Training, which needs autograd, is the only stage that imports torch.
"""

from __future__ import annotations

import hashlib

import numpy as np

from forecaster.config import WINDOW_NORMS, ModelConfig

BATCH = 4096  # windows per pass: bounds the (B, T, 4 x hidden) float64 gate pre-activations


def weight_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Name and shape of every weight of `model.Ensemble(config)`, as torch names them."""
    return {
        f"members.{k}.{name}": shape
        for k in range(config.members)
        for name, shape in member_shapes(config).items()
    }


def member_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Name and shape of every weight of one `LSTMForecaster(config)`."""
    hidden, gates = config.hidden, 4 * config.hidden
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(config.layers):
        recurrent = config.n_targets + config.n_past + config.n_future
        inputs = recurrent * config.segment if layer == 0 else hidden
        shapes[f"lstm.weight_ih_l{layer}"] = (gates, inputs)
        shapes[f"lstm.weight_hh_l{layer}"] = (gates, hidden)
        shapes[f"lstm.bias_ih_l{layer}"] = (gates,)
        shapes[f"lstm.bias_hh_l{layer}"] = (gates,)
    head_inputs = hidden + config.horizon * config.n_future + config.n_static
    shapes["head.weight"] = (config.horizon * config.n_targets, head_inputs)
    shapes["head.bias"] = (config.horizon * config.n_targets,)
    if config.linear_skip:
        shapes["skip.weight"] = (config.horizon, config.lookback)
        shapes["skip.bias"] = (config.horizon,)
    if config.covariate_features:
        shapes["cov_skip.weight"] = (config.horizon, config.covariate_features)
    return shapes


def check_config(config: ModelConfig) -> None:
    """Refuse sizes no network can have (ValueError), before anything is built from them."""
    names = ("n_targets", "lookback", "horizon", "hidden", "layers", "segment", "members")
    for name in (*names, *(["lstm_lookback"] if config.lstm_lookback is not None else [])):
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, not {value!r}")
    for name in ("n_past", "n_future", "n_static", "n_calendar", "covariate_rows"):
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
    if config.n_calendar > config.n_future:
        raise ValueError(f"n_calendar {config.n_calendar} exceeds n_future {config.n_future}")
    if config.covariate_rows > config.lookback:
        raise ValueError(
            f"covariate_rows {config.covariate_rows} exceeds lookback {config.lookback}"
        )
    rows = config.recurrent_rows
    if rows % config.segment or rows > config.lookback:
        raise ValueError(
            f"the LSTM's {rows} rows are not a multiple of {config.segment} within "
            f"lookback {config.lookback}"
        )
    if config.window_norm not in WINDOW_NORMS:
        raise ValueError(f"unknown window_norm {config.window_norm!r}")
    if not isinstance(config.linear_skip, bool):
        raise ValueError(f"linear_skip must be true or false, not {config.linear_skip!r}")
    dropout = config.dropout
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1), not {dropout!r}")


def weights_mismatch(config: ModelConfig, weights: dict[str, np.ndarray]) -> str | None:
    """What keeps ``weights`` from being those of the network ``config`` describes, if anything."""
    expected = weight_shapes(config)
    missing = sorted(set(expected) - set(weights))
    if missing:
        return f"missing {', '.join(missing)}"
    unexpected = sorted(set(weights) - set(expected))
    if unexpected:
        return f"unexpected {', '.join(unexpected)}"
    for name, shape in expected.items():
        if weights[name].shape != shape:
            return f"{name} has shape {weights[name].shape}, the metadata implies {shape}"
        if weights[name].dtype != np.float32:
            return f"{name} is {weights[name].dtype}, not float32"
    return None


def _sigmoid_from_half(x: np.ndarray) -> None:
    """x <- sigmoid(2x) in place: (tanh(x) + 1) / 2, saturating to 0 and 1 exactly."""
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5


def _lstm(weights: dict[str, np.ndarray], layers: int, steps: np.ndarray) -> np.ndarray:
    """The stacked LSTM's top-layer hidden state after the last step (B, hidden)."""
    batch = steps.shape[0]
    layer_input = steps  # (B, T, input)
    for layer in range(layers):
        w_ih = weights[f"lstm.weight_ih_l{layer}"]  # (4 * hidden, input): rows i, f, g, o
        w_hh_t = weights[f"lstm.weight_hh_l{layer}"].T  # (hidden, 4 * hidden)
        bias = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
        size = w_hh_t.shape[0]
        # The input part of every gate for every step in one product; only h recurs.
        from_input = layer_input @ w_ih.T + bias  # (B, T, 4 * hidden)
        h = np.zeros((batch, size), dtype=steps.dtype)
        c = np.zeros((batch, size), dtype=steps.dtype)
        outputs = np.empty((batch, steps.shape[1], size), dtype=steps.dtype)
        # The gates in float32 (torch's precision), the products and sums that carry the
        # state across steps in float64: five float64 tanh per step were most of the
        # forward pass, and NumPy's float32 tanh is 5x faster. sigmoid(x) = (tanh(x / 2)
        # + 1) / 2, the three sigmoid gates (i, f, o) in one buffer, in place; tanh
        # saturates to +-1 without overflow, so a huge pre-activation gives a gate of 0 or
        # 1 exactly. Elementwise, so a window's forecast still does not depend on its batch.
        sig = np.empty((batch, 3 * size), dtype=np.float32)
        cell = np.empty((batch, size), dtype=np.float32)
        squashed = np.empty((batch, size), dtype=np.float32)
        for t in range(steps.shape[1]):
            gates = h @ w_hh_t
            gates += from_input[:, t]
            with np.errstate(over="ignore"):  # beyond float32: inf, a saturated gate
                np.multiply(gates[:, : 2 * size], 0.5, out=sig[:, : 2 * size], casting="same_kind")
                np.multiply(gates[:, 3 * size :], 0.5, out=sig[:, 2 * size :], casting="same_kind")
                np.copyto(cell, gates[:, 2 * size : 3 * size], casting="same_kind")
            _sigmoid_from_half(sig)
            np.tanh(cell, out=cell)
            c = sig[:, size : 2 * size] * c  # f * c, float64 as c is
            c += sig[:, :size] * cell.astype(steps.dtype)  # i * tanh(g)
            with np.errstate(over="ignore"):
                np.copyto(squashed, c, casting="same_kind")
            np.tanh(squashed, out=squashed)
            h = squashed.astype(steps.dtype)
            h *= sig[:, 2 * size :]
            outputs[:, t] = h
        layer_input = outputs
    return layer_input[:, -1]


def forward(
    weights: dict[str, np.ndarray], config: ModelConfig, contexts: np.ndarray
) -> np.ndarray:
    """`Ensemble.forward` in evaluation mode: contexts (B, L, C) to forecasts (B, H, C)."""
    return forward_members(weights, config, contexts).mean(axis=0, dtype=np.float32)


def forward_members(
    weights: dict[str, np.ndarray], config: ModelConfig, contexts: np.ndarray
) -> np.ndarray:
    """Each ensemble member's forecast (M, B, H, C): their mean is the model's forecast,
    their spread one measure of its uncertainty (`intervals`).

    Computed in float64 from the float32 weights and rounded to float32 at the end, so
    that a window's forecast does not depend on the other windows of its batch: the
    rounding of a float32 matrix product does (a series forecast alone differed from the
    same series within a panel in the sixth digit).
    """
    inputs = np.asarray(contexts, dtype=np.float64)
    lookback, targets = config.lookback, config.n_targets
    context = inputs[:, :lookback, :targets]
    batch, _, channels = context.shape
    norm = config.window_norm
    if norm != "none":
        level = context[:, -1:] if norm == "last" else context.mean(axis=1, keepdims=True)
        spread = context.std(axis=1, keepdims=True) + 1e-3  # (B, 1, C)
        context = (context - level) / spread
    start = lookback - config.recurrent_rows
    recent = context[:, start:]  # (B, R, C)
    dynamic_end = targets + config.n_past + config.n_future
    if dynamic_end > targets:
        recent = np.concatenate([recent, inputs[:, start:lookback, targets:dynamic_end]], axis=2)
    steps = recent.reshape(batch, -1, config.segment * recent.shape[2])  # (B, R/P, P*...)
    head_parts = []
    if config.n_future:
        head_parts.append(
            inputs[:, lookback:, targets + config.n_past : dynamic_end].reshape(batch, -1)
        )
    if config.n_static:
        head_parts.append(inputs[:, lookback - 1, dynamic_end:])
    changes = covariate_changes(inputs, config) if config.covariate_features else None
    outs = np.empty((config.members, batch, config.horizon, config.n_targets))
    for k in range(config.members):
        member = {
            name: weights[f"members.{k}.{name}"].astype(np.float64)
            for name in member_shapes(config)
        }
        last = _lstm(member, config.layers, steps)
        if head_parts:
            last = np.concatenate([last, *head_parts], axis=1)
        out = last @ member["head.weight"].T + member["head.bias"]
        out = out.reshape(batch, config.horizon, config.n_targets)
        if config.linear_skip:
            # One (B * C, L) x (L, H) product: as a batch of (1, L) rows NumPy made B
            # vector products, 15 times slower (ETTh1 at h = 720: 3.1 s for 2,000 windows).
            flat = context.transpose(0, 2, 1).reshape(batch * channels, -1)
            skip = flat @ member["skip.weight"].T + member["skip.bias"]
            skip = skip.reshape(batch, channels, config.horizon)
            out = out + skip.transpose(0, 2, 1)  # (B, H, C)
        if changes is not None:
            effect = (changes @ member["cov_skip.weight"].T)[:, :, None]  # (B, H, 1)
            out = out + (effect / spread if norm != "none" else effect)
        outs[k] = out
    if norm != "none":
        outs = outs * spread[None] + level[None]
    return outs.astype(np.float32)


def covariate_changes(inputs: np.ndarray, config: ModelConfig) -> np.ndarray:
    """`model.covariate_changes` in NumPy: the covariates' changes from the last context row."""
    lookback, targets = config.lookback, config.n_targets
    first_future = targets + config.n_past
    dynamic_end = first_future + config.skip_future  # the calendar's are left out
    last = inputs[:, lookback - 1 : lookback]
    batch = inputs.shape[0]
    parts = []
    if config.skip_future:
        future = (
            inputs[:, lookback:, first_future:dynamic_end] - last[:, :, first_future:dynamic_end]
        )
        parts.append(future.reshape(batch, -1))
    rows = config.covariate_rows - 1
    if rows > 0 and dynamic_end > targets:
        recent = inputs[:, lookback - 1 - rows : lookback - 1, targets:dynamic_end]
        parts.append((recent - last[:, :, targets:dynamic_end]).reshape(batch, -1))
    return np.concatenate(parts, axis=1)


def run(weights: dict[str, np.ndarray], config: ModelConfig, contexts: np.ndarray) -> np.ndarray:
    """Forecasts for any number of contexts (N, L, C), in passes of at most `BATCH` windows."""
    return run_members(weights, config, contexts).mean(axis=0, dtype=np.float32)


# The last few forwards, by weights and contexts. After training, the blend's choice, the
# validation scores and the calibration each read the same validation windows, and the
# network's passes over them were most of their cost (an update of the bank's calls: 3 of
# its 5 passes). A hit returns the very same (read-only) array, so nothing differs by a bit.
_RECENT: list[tuple[dict[str, np.ndarray], ModelConfig, bytes, np.ndarray]] = []
RECENT_FORWARDS = 4
RECENT_BYTES = 64 << 20  # each kept forward at most


def run_members(
    weights: dict[str, np.ndarray], config: ModelConfig, contexts: np.ndarray
) -> np.ndarray:
    """Every member's forecasts (M, N, H, C) for any number of contexts (N, L, C)."""
    if len(contexts) == 0:
        return np.empty((config.members, 0, config.horizon, config.n_targets), np.float32)
    contexts = np.ascontiguousarray(contexts)
    digest = hashlib.blake2b(contexts.data, digest_size=16)
    digest.update(repr((contexts.shape, contexts.dtype.str)).encode())
    key = digest.digest()
    for seen_weights, seen_config, seen_key, seen in _RECENT:
        # The same dict object: its arrays are the trained weights, never edited in place.
        if seen_weights is weights and seen_config == config and seen_key == key:
            return seen
    members = np.concatenate(
        [
            forward_members(weights, config, contexts[first : first + BATCH])
            for first in range(0, len(contexts), BATCH)
        ],
        axis=1,
    )
    members.flags.writeable = False  # shared by every caller of the same forward
    if members.nbytes <= RECENT_BYTES:  # the big training-origin passes are read once
        _RECENT.insert(0, (weights, config, key, members))
        del _RECENT[RECENT_FORWARDS:]
    return members
