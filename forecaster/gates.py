"""What the LSTM did on one window: its gates, cell states, memory spans and attributions.

The network's own weights run through the LSTM gate equations one step at a time
(`model.explicit_lstm`), so every quantity below is the one the trained `nn.LSTM`
computed (tests hold the two together). For one window of one series:

- gates: forget f, input i and output o (0 to 1), the candidate g (-1 to 1), the cell
  state c and the hidden state h of every unit at every recurrent step of every layer;
- memory span of a unit: tau = -1 / ln(f), the number of recurrent steps after which
  what its cell holds has decayed to 1/e when its forget gate stays at f (f = 0.9: 9.49
  steps), times the time one step reads (`segment` rows of the data's frequency);
- attribution: how much each input row (lag) moved the forecast, gradient x input,
  through backpropagation over the whole window; separately for the LSTM path (head of
  the last hidden state) and the linear skip (exactly its weights times the inputs);
- each path's share of the forecast's departure from the window's level.

Values are in the window's normalised units (centred on its last value or mean and divided
by its spread, as the network reads them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from forecaster.errors import DataError, UsageError
from forecaster.model import Ensemble, LSTMForecaster, explicit_lstm
from forecaster.seasons import step_numbers

if TYPE_CHECKING:
    from forecaster.artifact import Artifact
    from forecaster.data import Panel as DataPanel
    from forecaster.windows import Scaler

GATES = ("forget", "input", "output", "candidate", "cell", "hidden")
SATURATED = (0.05, 0.95)  # a gate below or above is shut or wide open


@dataclass
class LayerTrace:
    """One member's layer over the window: each quantity (T, hidden)."""

    member: int
    layer: int
    values: dict[str, np.ndarray]  # GATES -> (T, hidden)


@dataclass
class Inspection:
    traces: list[LayerTrace]
    step_times: pd.DatetimeIndex  # (T,) the time each recurrent step ends at
    lag_times: pd.DatetimeIndex  # (L,) the time of each input row
    attribution: dict[str, np.ndarray]  # "lstm" / "skip" -> (L, C) gradient x input
    share: dict[str, float]  # "lstm" / "skip" -> share of the forecast's departure
    step_seconds: float | None  # the time one recurrent step reads; None: step numbers

    def table(self) -> pd.DataFrame:
        """Tidy rows: member, layer, step, time, unit, and every quantity."""
        frames = []
        for trace in self.traces:
            steps, units = trace.values["forget"].shape
            frame = pd.DataFrame(
                {
                    "member": trace.member + 1,
                    "layer": trace.layer + 1,
                    "step": np.repeat(np.arange(1, steps + 1), units),
                    "time": np.repeat(self.step_times, units),
                    "unit": np.tile(np.arange(1, units + 1), steps),
                    **{name: trace.values[name].reshape(-1) for name in GATES},
                }
            )
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> list[dict[str, float | int]]:
        """Per member and layer: mean gates, saturated share, memory spans."""
        seconds = float("nan") if self.step_seconds is None else self.step_seconds
        out = []
        for trace in self.traces:
            gates = np.stack([trace.values[g] for g in ("forget", "input", "output")])
            low, high = SATURATED
            tau = memory_span(trace.values["forget"].mean(axis=0))  # (hidden,) in steps
            out.append(
                {
                    "member": trace.member + 1,
                    "layer": trace.layer + 1,
                    "forget": float(trace.values["forget"].mean()),
                    "input": float(trace.values["input"].mean()),
                    "output": float(trace.values["output"].mean()),
                    "saturated": float(((gates < low) | (gates > high)).mean()),
                    "span_median_steps": float(np.median(tau)),
                    "span_max_steps": float(np.max(tau)),
                    "span_median_seconds": float(np.median(tau)) * seconds,
                    "span_max_seconds": float(np.max(tau)) * seconds,
                }
            )
        return out


def memory_span(forget: np.ndarray) -> np.ndarray:
    """tau = -1 / ln(f) recurrent steps: how long a unit whose forget gate stays at f keeps
    1/e of what its cell holds (f = 0.9: 9.49 steps; f -> 1: forever, capped at 1e6)."""
    f = np.clip(np.asarray(forget, dtype=np.float64), 1e-12, 1 - 1e-12)
    result: np.ndarray = np.minimum(-1.0 / np.log(f), 1e6)
    return result


def trace_member(member: LSTMForecaster, inputs: torch.Tensor) -> list[dict[str, np.ndarray]]:
    """Every layer's gates, cell and hidden states over the window (B = 1)."""
    context, _, _ = member.normalise(inputs)
    steps = member.lstm_steps(context, inputs)
    with torch.no_grad():
        _, layers = explicit_lstm(member.lstm, steps)
    out = []
    for gates in layers:
        f, i, g, o = (gates[k][0].numpy() for k in ("forget", "input", "candidate", "output"))
        c = np.zeros_like(f)
        previous = np.zeros(f.shape[1], dtype=f.dtype)
        for t in range(len(f)):
            previous = f[t] * previous + i[t] * g[t]  # c_t = f_t * c_{t-1} + i_t * g_t
            c[t] = previous
        h = o * np.tanh(c)  # h_t = o_t * tanh(c_t)
        out.append({"forget": f, "input": i, "output": o, "candidate": g, "cell": c, "hidden": h})
    return out


def paths(
    member: LSTMForecaster,
    context: torch.Tensor,
    inputs: torch.Tensor | None = None,
    spread: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The LSTM path's and the linear skip's outputs (B, H, C), in normalised units, from
    normalised windows (B, L, C) (so their sum, restored, is the member's forecast);
    ``inputs`` and ``spread`` for a model with covariates."""
    lstm, skip = member.paths(context, context if inputs is None else inputs, spread)
    return lstm, torch.zeros_like(lstm) if skip is None else skip


def attribute(
    ensemble: Ensemble, context: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Gradient x input of the mean forecast over the horizon, per input row and target,
    for each path, averaged over members; and each path's share of the forecast's
    departure from the window's level (mean absolute output over the horizon)."""
    raw = torch.from_numpy(np.asarray(context, dtype=np.float32))[None]
    first = ensemble.members[0]
    assert isinstance(first, LSTMForecaster)
    normalised, _, spread = first.normalise(raw)
    x0 = normalised.detach()
    totals = {"lstm": np.zeros(x0.shape[1:]), "skip": np.zeros(x0.shape[1:])}
    size = {"lstm": 0.0, "skip": 0.0}
    for member in ensemble.members:
        assert isinstance(member, LSTMForecaster)
        for name in ("lstm", "skip"):
            x = x0.clone().requires_grad_(True)
            out = paths(member, x, raw, spread)[0 if name == "lstm" else 1]
            size[name] += float(out.detach().abs().mean())
            if out.requires_grad:
                out.mean().backward()
                assert x.grad is not None
                totals[name] += (x.grad * x).detach()[0].numpy()
    members = len(ensemble.members)
    attribution = {name: value / members for name, value in totals.items()}
    whole = size["lstm"] + size["skip"]
    share = {name: (size[name] / whole if whole > 0 else 0.0) for name in size}
    return attribution, share


def human(seconds: float) -> str:
    """A duration as people say it: 45 min, 9.5 hours, 3.2 days, 12 weeks, 4.1 months."""
    units = (
        ("years", 365.25 * 86400),
        ("months", 30.44 * 86400),
        ("weeks", 604800),
        ("days", 86400),
        ("hours", 3600),
        ("min", 60),
    )
    for unit, size in units:
        if seconds >= 2 * size or unit == "min":
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def inspect_window(
    artifact: Artifact, panel: DataPanel | None, series_id: str, origin: str | None
) -> Inspection:
    """Run the model on the window of ``series_id`` that ends at ``origin`` (its last row;
    default the end of the history) through the explicit cell; see the module docstring."""
    config = artifact.model_config
    lookback = config.lookback
    if panel is None:
        scaler, scaled, shown = _stored_window(artifact, series_id, origin)
    else:
        from forecaster.forecast import read_as_trained

        panel = read_as_trained(artifact, panel)  # the window `predict` reads
        s, row, scaler, scaled, shown = _data_window(artifact, panel, series_id, origin)
    if config.n_covariates:
        # The network reads covariates over the horizon as well: DATA must hold them.
        if panel is None or row + 1 + config.horizon > int(panel.lengths[s]):
            raise DataError(
                f"the model reads covariates over the {config.horizon} steps after the "
                "window: give DATA and an --origin with that many rows after it"
            )
        from forecaster.inputs import model_inputs

        scaled = model_inputs(artifact, panel, scaler, np.array([s]), np.array([row + 1]),
                              window_scaler=scaler)[0]  # fmt: skip
    ensemble = artifact.build_model()
    members = [m for m in ensemble.members if isinstance(m, LSTMForecaster)]
    context = torch.from_numpy(np.asarray(scaled, dtype=np.float32))[None]
    traces = [
        LayerTrace(k, layer, values)
        for k, member in enumerate(members)
        for layer, values in enumerate(trace_member(member, context))
    ]
    rows, segment = config.recurrent_rows, config.segment
    ends = np.arange(lookback - rows + segment - 1, lookback, segment)
    attribution, share = attribute(ensemble, scaled)
    stamps = shown.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    step = float(np.median(np.diff(stamps))) / 1e9 if len(shown) > 1 else 0.0
    return Inspection(
        traces=traces,
        step_times=shown[ends],
        lag_times=shown,
        attribution=attribution,
        share=share,
        step_seconds=None if step_numbers(artifact.freq) else step * segment,
    )


def _stored_window(
    artifact: Artifact, series_id: str, origin: str | None
) -> tuple[Scaler, np.ndarray, pd.DatetimeIndex]:
    """Without DATA: the scaler, the scaled window and its times, from the context the
    model file stores (the end of the history only)."""
    from forecaster.data.panel import grid_before
    from forecaster.frames import output_times

    lookback, form = artifact.model_config.lookback, artifact.schema.time_form
    position = artifact.series_position(series_id)
    if position is None:
        raise UsageError(_unknown(series_id, artifact.ids, "the model"))
    end = pd.Timestamp(artifact.series_end[position])
    times = grid_before(end, lookback, artifact.freq, artifact.schema.session)
    shown = output_times(artifact, times)
    if origin is not None and _as_time(origin, shown, form) != shown[-1]:
        raise DataError(
            f"--origin {origin}: the model stores the last {lookback} rows of "
            f"{series_id!r}, ending {_said(shown[-1:], form)}; give DATA to inspect an "
            "earlier origin"
        )
    if int(artifact.context_real[position]) < lookback:
        raise DataError(
            f"series {series_id!r} has {int(artifact.context_real[position])} stored "
            f"rows, fewer than the {lookback} of a full window"
        )
    scaler = artifact.scaler
    raw = artifact.context[position]
    return scaler, (raw - scaler.mean[position]) / scaler.std[position], shown


def _data_window(
    artifact: Artifact, panel: DataPanel, series_id: str, origin: str | None
) -> tuple[int, int, Scaler, np.ndarray, pd.DatetimeIndex]:
    """From DATA: the series, the window's last row, its scaler, the scaled window and its
    times (``origin``, default the end of the series)."""
    from forecaster.frames import output_times
    from forecaster.inputs import window_scaler

    lookback, form = artifact.model_config.lookback, artifact.schema.time_form
    if series_id not in panel.ids:
        raise UsageError(_unknown(series_id, panel.ids, "DATA"))
    s = panel.ids.index(series_id)
    shown_all = output_times(artifact, panel.index(s))
    row = len(shown_all) - 1
    if origin is not None:
        wanted = _as_time(origin, shown_all, form)
        where = shown_all.get_indexer(pd.DatetimeIndex([wanted]))[0]
        if where < 0:
            raise DataError(
                f"--origin {origin} is not a timestamp of {series_id!r} in DATA (it runs "
                f"from {_said(shown_all[:1], form)} to {_said(shown_all[-1:], form)})"
            )
        row = int(where)
    if row + 1 < lookback:
        raise DataError(
            f"--origin {_said(shown_all[row : row + 1], form)} is too early: the window "
            f"ending there has {row + 1} "
            f"rows of {series_id!r}, the model reads {lookback}"
        )
    scaler = window_scaler(artifact, panel, np.array([s]), np.array([row + 1]))
    raw = panel.series(s)[row + 1 - lookback : row + 1]
    scaled = (raw - scaler.mean[0]) / scaler.std[0]
    return s, row, scaler, scaled, shown_all[row + 1 - lookback : row + 1]


def _as_time(text: str, times: pd.DatetimeIndex, form: str | None = None) -> pd.Timestamp:
    """``--origin`` as a grid time: read in the input's own form when it had one (a year,
    a step number, ``Q1 1990``), else as a timestamp."""
    if form is not None:
        from forecaster.data.forms import describe, parse_form

        try:
            return pd.Timestamp(parse_form(pd.Series([text]), form, "--origin")[0])
        except DataError:
            raise UsageError(
                f"invalid value for --origin: {text!r} is not one of the data's {describe(form)}"
            ) from None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise UsageError(f"invalid value for --origin: {text!r} is not a timestamp") from None
    if times.tz is not None and stamp.tzinfo is None:
        stamp = stamp.tz_localize(times.tz)
    elif times.tz is None and stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp


def _said(times: pd.DatetimeIndex, form: str | None) -> object:
    """One grid time for a message, as the input wrote it."""
    if form is None:
        return times[0]
    from forecaster.data.forms import shown_times

    return shown_times(times.to_numpy(), form)[0]


def _unknown(series_id: str, ids: list[str], where: str) -> str:
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    return (
        f"invalid value for --series: {series_id!r} is not in {where} ({len(ids)} series: {shown})"
    )


def model_summary(
    ensemble: Ensemble, contexts: np.ndarray, step_seconds: float | None
) -> dict[str, object]:
    """What `forecaster info` says about the network, from scaled windows (N, L, C): per
    layer the mean forget gate and the median memory span of its units (over members),
    and the LSTM path's share of the forecast's departure from each window's level."""
    config = ensemble.config
    raw = torch.from_numpy(np.asarray(contexts, dtype=np.float32))
    first = ensemble.members[0]
    assert isinstance(first, LSTMForecaster)
    x, _, spread = first.normalise(raw)
    steps = first.lstm_steps(x, raw)
    forget: list[list[np.ndarray]] = [[] for _ in range(config.layers)]
    sizes = {"lstm": 0.0, "skip": 0.0}
    with torch.no_grad():
        for member in ensemble.members:
            assert isinstance(member, LSTMForecaster)
            _, layers = explicit_lstm(member.lstm, steps)
            for k, gates in enumerate(layers):
                forget[k].append(gates["forget"].numpy())  # (N, T, hidden)
            lstm, skip = paths(member, x, raw, spread)
            sizes["lstm"] += float(lstm.abs().mean())
            sizes["skip"] += float(skip.abs().mean())
    layers_out = []
    for k, values in enumerate(forget):
        stacked = np.stack(values)  # (M, N, T, hidden)
        spans = memory_span(stacked.mean(axis=(1, 2)))  # (M, hidden): each unit's mean f
        layers_out.append(
            {
                "layer": k + 1,
                "forget": round(float(stacked.mean()), 4),
                "span_median_steps": round(float(np.median(spans)), 3),
                # a step-number axis has no clock: its span is said in steps alone
                "span_median": None
                if step_seconds is None
                else human(float(np.median(spans)) * step_seconds),
            }
        )
    whole = sizes["lstm"] + sizes["skip"]
    return {
        "windows": len(contexts),
        "layers": layers_out,
        "lstm_share": round(sizes["lstm"] / whole, 4) if whole > 0 else 0.0,
    }
