"""Pictures of forecasts and backtests: history, forecast and interval bands, one panel each.

matplotlib with the Agg backend (no display), imported only here and only by the commands
that draw, so `forecaster --help` and `predict` never pay for it. A figure is rendered to
bytes and written like every other output: atomically to a file, or to stdout with ``-``.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster.errors import UsageError

if TYPE_CHECKING:
    from forecaster.artifact import Artifact
    from forecaster.backtest import Backtest
    from forecaster.data import Panel as DataPanel
    from forecaster.data import Schema
    from forecaster.gates import Inspection

log = logging.getLogger("forecaster")

IMAGE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# Panels in one figure: 12 stay readable on a laptop screen at 100 dpi; more, and a note
# says how to choose (--series).
MAX_PANELS = 12
DPI = 100
PANEL_WIDTH, PANEL_HEIGHT = 6.0, 2.8  # inches
COLOURS = {
    "history": "#333333",
    "model": "#1f77b4",
    "seasonal naive": "#d62728",
    "actual": "#333333",
}


def image_format(path: str) -> str:
    """png, svg or pdf from the file name's extension; ``-`` (standard output) is png."""
    if path == "-":
        return "png"
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in IMAGE_FORMATS:
        raise UsageError(
            f"invalid value for --output: {path}; name an image file .png, .svg or .pdf "
            "(or - for PNG on standard output)"
        )
    return IMAGE_FORMATS[suffix]


@dataclass
class Chart:
    """One panel: lines over time, and interval bands around one of them."""

    title: str
    ylabel: str
    lines: dict[str, tuple[pd.DatetimeIndex, np.ndarray]] = field(default_factory=dict)
    bands: list[tuple[str, pd.DatetimeIndex, np.ndarray, np.ndarray]] = field(
        default_factory=list
    )  # (label, times, lower, upper), widest first
    divider: pd.Timestamp | None = None  # where the forecast starts


def naive_times(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Timestamps as wall-clock times in their zone, without it (matplotlib draws those)."""
    return times.tz_localize(None) if times.tz is not None else times


def render(
    charts: list[Chart], title: str, xlabel: str, fmt: str, steps: bool = False,
    gap_ns: int | None = None,
) -> bytes:  # fmt: skip
    """The figure as bytes of ``fmt``: a grid of panels, one legend, no overlapping text.

    With ``steps`` the times are step numbers (`data.forms.STEPS`), drawn as the numbers.
    With ``gap_ns`` (a session's step: business hours) a line breaks where two points lie
    further apart than that, so nights and weekends are not drawn as straight lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import MaxNLocator

    columns = 1 if len(charts) == 1 else 2 if len(charts) <= 4 else 3
    rows = math.ceil(len(charts) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(PANEL_WIDTH * columns, PANEL_HEIGHT * rows + 0.9),
        squeeze=False, layout="constrained",
    )  # fmt: skip
    handles: dict[str, Any] = {}

    def x(times: pd.DatetimeIndex) -> Any:
        return naive_times(times).as_unit("ns").asi8 if steps else naive_times(times)

    for ax, chart in zip(axes.flat, charts, strict=False):
        alphas = np.linspace(0.18, 0.35, len(chart.bands))  # widest band the palest
        for (label, times, lower, upper), alpha in zip(chart.bands, alphas, strict=True):
            handles[label] = ax.fill_between(
                x(times), lower, upper, color=COLOURS["model"], alpha=alpha,
                linewidth=0, label=label,
            )  # fmt: skip
        for name, (times, values) in chart.lines.items():
            style = "--" if name == "seasonal naive" else "-"
            drawn_x, drawn = x(times), values
            if gap_ns is not None and len(times) > 1:
                after = np.flatnonzero(np.diff(naive_times(times).as_unit("ns").asi8) > gap_ns)
                drawn_x = np.insert(np.asarray(drawn_x), after + 1, np.asarray(drawn_x)[after])
                drawn = np.insert(np.asarray(values, dtype=np.float64), after + 1, np.nan)
            (line,) = ax.plot(
                drawn_x, drawn, style, color=COLOURS.get(name),
                linewidth=1.3 if name in ("model", "forecast") else 1.0, label=name,
            )  # fmt: skip
            handles.setdefault(name, line)
        if chart.divider is not None:
            ax.axvline(x(pd.DatetimeIndex([chart.divider]))[0], color="#999999",
                       linewidth=0.8, linestyle=":")  # fmt: skip
        ax.set_title(chart.title, fontsize=10, loc="left")
        ax.set_ylabel(chart.ylabel, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=9)
        if steps:  # whole steps only: a tick at step 202.5 names a row that does not exist
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.tick_params(labelsize=8)
        ax.grid(True, linewidth=0.3, alpha=0.5)
    for ax in list(axes.flat)[len(charts) :]:
        ax.set_visible(False)
    figure.suptitle(title, fontsize=11)
    known = ("history", "actual", "forecast", "model", "seasonal naive")
    order = [k for k in known if k in handles]
    order += [k for k in handles if k not in order]
    figure.legend(
        [handles[k] for k in order], order, loc="outside lower center",
        ncol=len(order), fontsize=9, frameon=False,
    )  # fmt: skip
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=DPI)
    plt.close(figure)
    return buffer.getvalue()


def _label(schema: Schema, series_id: str, target: str) -> str:
    """A panel's name: the series, and its target when it has several; a wide file's one
    series by its target alone (its id is made of the targets' names)."""
    if schema.id is None:
        return target
    return str(series_id) if len(schema.targets) == 1 else f"{series_id}: {target}"


def chosen(ids: list[str], wanted: list[str] | None, what: str) -> tuple[list[int], str | None]:
    """Positions of the series to draw: those asked for (each must exist), else the first
    `MAX_PANELS`; and a note when some were left out."""
    if wanted:
        position = {series_id: k for k, series_id in enumerate(ids)}
        missing = [w for w in wanted if w not in position]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:3])
            raise UsageError(
                f"invalid value for --series: {shown} not in {what} (it has "
                f"{len(ids)} series: {', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})"
            )
        picks = list(dict.fromkeys(position[w] for w in wanted))
    else:
        picks = list(range(len(ids)))
    note = None
    if len(picks) > MAX_PANELS:
        note = (
            f"showing {MAX_PANELS} of {len(picks)} series (one panel each); choose which "
            "with --series ID"
        )
        picks = picks[:MAX_PANELS]
    return picks, note


def _stored_history(artifact: Artifact, s: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The real rows of the history stored in the model for series ``s``: (times, (n, C))."""
    real = int(artifact.context_real[s])
    values = artifact.context[s, -real:]
    from forecaster.data.panel import grid_before

    times = grid_before(artifact.series_end[s], real, artifact.freq, artifact.schema.session)
    return times, values


def _steps(artifact: Artifact) -> bool:
    from forecaster.data.forms import STEPS

    return artifact.schema.time_form == STEPS


def _gap(artifact: Artifact) -> int | None:
    """The step beyond which a session model's lines break (None: a plain grid)."""
    session = artifact.schema.session
    return None if session is None or session.trading_days else int(session.step)


def _levels(artifact: Artifact, asked: list[float] | None) -> list[float]:
    if asked:
        return asked
    return [80.0, 95.0] if artifact.intervals is not None else []


def _title(artifact: Artifact, what: str) -> str:
    validation = artifact.summary.get("validation") or {}
    mase = (validation.get("mase") or {}).get("model")
    score = f"; validation MASE {mase:.3g}" if isinstance(mase, float) else ""
    freq = artifact.freq
    if _steps(artifact):
        step = int(pd.tseries.frequencies.to_offset(freq).n)
        freq = "1 step" if step == 1 else f"{step} steps"
    if artifact.schema.session is not None:
        freq = f"{freq} on {artifact.schema.session.describe()}"
    return f"{what}: horizon {artifact.model_config.horizon} (frequency {freq}){score}"


def forecast_figure(
    artifact: Artifact,
    panel: DataPanel | None,
    wanted: list[str] | None,
    history: int | None,
    levels: list[float] | None,
    fmt: str,
) -> bytes:
    """The forecast of each chosen series after the last ``history`` steps of its history,
    with interval bands when the model has them."""
    from forecaster.forecast import predict as run_predict
    from forecaster.frames import output_times, read_written
    from forecaster.seasons import season_length
    from forecaster.uncertainty import Uncertainty

    ids = artifact.ids if panel is None else panel.ids
    picks, note = chosen(ids, wanted, "the model" if panel is None else "DATA")
    if note:
        log.warning("%s", note)
    levels = _levels(artifact, levels)
    asked = Uncertainty(levels, [])
    asked.check(artifact)  # bands the model's windows do not resolve are said, as predict does
    frame = run_predict(artifact, panel, None, asked)
    schema, horizon = artifact.schema, artifact.model_config.horizon
    shown = history or max(3 * horizon, 2 * season_length(artifact.freq, artifact.schema.session))
    charts: list[Chart] = []
    for s in picks:
        rows = frame.iloc[s * horizon : (s + 1) * horizon]
        future = read_written(artifact, rows[schema.time])
        if panel is None:
            times, values = _stored_history(artifact, s)
        else:
            values = panel.series(s)
            times = output_times(artifact, panel.index(s))
        times, values = times[-shown:], values[-shown:]
        for c, target in enumerate(schema.targets):
            if len(charts) == MAX_PANELS:
                break
            chart = Chart(
                title=_label(schema, ids[s], target),
                ylabel=target,
                divider=future[0],
            )
            for level in sorted(levels, reverse=True):
                name = f"{level:g}"
                chart.bands.append((f"{name}% interval", future,
                                    rows[f"{target}-lo-{name}"].to_numpy(),
                                    rows[f"{target}-hi-{name}"].to_numpy()))  # fmt: skip
            chart.lines["history"] = (pd.DatetimeIndex(times), values[:, c])
            chart.lines["forecast"] = (future, rows[target].to_numpy())
            charts.append(chart)
    what = (
        f"forecast of {len(picks)} of {len(ids)} series"
        if len(picks) < len(ids)
        else ("forecast" if len(ids) == 1 else f"forecast of {len(ids)} series")
    )
    return render(charts, _title(artifact, what), schema.time, fmt, _steps(artifact),
                  _gap(artifact))  # fmt: skip


def backtest_figure(
    artifact: Artifact,
    panel: DataPanel,
    result: Backtest,
    snaive: np.ndarray,
    season: int,
    levels: list[float],
    wanted: list[str] | None,
    fmt: str,
) -> bytes:
    """Each chosen series over its evaluated windows: actuals, the model's forecasts (with
    bands when scored) and seasonal naive's, titled with both MASEs."""
    from forecaster.frames import output_times
    from forecaster.metrics import mase_scale, score

    evaluated = sorted(set(result.series.tolist()))
    ids = [panel.ids[s] for s in evaluated]
    picks, note = chosen(ids, wanted, "the evaluated series")
    if note:
        log.warning("%s", note)
    schema, horizon = artifact.schema, result.forecasts.shape[1]
    charts: list[Chart] = []
    for pick in picks:
        s = evaluated[pick]
        rows = np.flatnonzero(result.series == s)
        rows = rows[np.argsort(result.origins[rows])]
        history = panel.histories(result.series[rows], result.origins[rows])
        scale = mase_scale(history, season)
        first = int(result.origins[rows[0]])
        start = max(0, first - horizon)
        end = int(result.origins[rows[-1]]) + horizon
        index = output_times(artifact, panel.index(s))
        for c, target in enumerate(schema.targets):
            if len(charts) == MAX_PANELS:
                break
            model = score(result.forecasts[rows, :, c], result.actuals[rows, :, c], scale[:, c])
            naive = score(snaive[rows, :, c], result.actuals[rows, :, c], scale[:, c])
            label = _label(schema, panel.ids[s], target)
            chart = Chart(
                title=f"{label}: MASE {model.values['mase']:.3g} (seasonal naive "
                f"{naive.values['mase']:.3g})",
                ylabel=target,
                divider=index[first],
            )
            chart.lines["actual"] = (index[start:end], panel.series(s)[start:end, c])
            # Windows one after another: gaps between them split the lines (NaN).
            times, model_line, naive_line = [], [], []
            bands: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
            for r in rows:
                origin = int(result.origins[r])
                times.append(index[origin : origin + horizon].append(pd.DatetimeIndex([pd.NaT])))
                model_line.append(np.append(result.forecasts[r, :, c], np.nan))
                naive_line.append(np.append(snaive[r, :, c], np.nan))
                if result.bounds is not None:
                    for k, level in enumerate(levels):
                        lo, hi = bands.setdefault(f"{level:g}% interval", ([], []))
                        lo.append(np.append(result.bounds[r, :, 2 * k, c], np.nan))
                        hi.append(np.append(result.bounds[r, :, 2 * k + 1, c], np.nan))
            stitched = times[0].append(times[1:]) if len(times) > 1 else times[0]
            for label_, (lo, hi) in sorted(bands.items(), key=lambda x: -float(x[0][:-10])):
                chart.bands.append((label_, stitched, np.concatenate(lo), np.concatenate(hi)))
            chart.lines["model"] = (stitched, np.concatenate(model_line))
            chart.lines["seasonal naive"] = (stitched, np.concatenate(naive_line))
            charts.append(chart)
    windows = len(result.series)
    title = f"backtest: {windows} window(s) of {horizon} steps over {len(ids)} series"
    return render(charts, title, schema.time, fmt, _steps(artifact), _gap(artifact))


def inspect_figure(inspection: Inspection, series: str, fmt: str) -> bytes:
    """The first network's gates as heat maps (units by step, a row per layer), the cell
    states of its most active units, and the lag attributions of both paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    traces = [t for t in inspection.traces if t.member == 0]
    rows = len(traces) + 1
    figure, axes = plt.subplots(
        rows, 4, figsize=(4 * PANEL_WIDTH * 0.75, PANEL_HEIGHT * rows + 0.6),
        squeeze=False, layout="constrained",
    )  # fmt: skip
    steps = len(inspection.step_times)
    for row, trace in zip(axes, traces, strict=False):
        for ax, gate in zip(row[:3], ("forget", "input", "output"), strict=True):
            units = trace.values[gate].shape[1]
            image = ax.imshow(
                trace.values[gate].T, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                interpolation="nearest", extent=(0.5, steps + 0.5, units + 0.5, 0.5),
            )  # fmt: skip
            ax.set_title(f"layer {trace.layer + 1}: {gate} gate", fontsize=10, loc="left")
            ax.set_xlabel("LSTM step (oldest to newest)", fontsize=9)
            ax.set_ylabel("unit", fontsize=9)
            ax.tick_params(labelsize=8)
        figure.colorbar(image, ax=row[2], fraction=0.05)
        cell = trace.values["cell"]
        active = np.argsort(-cell.std(axis=0))[:5]
        for unit in active:
            row[3].plot(np.arange(1, steps + 1), cell[:, unit], linewidth=1.0,
                        label=f"unit {unit + 1}")  # fmt: skip
        row[3].set_title(f"layer {trace.layer + 1}: cell state, most active units", fontsize=10,
                         loc="left")  # fmt: skip
        row[3].set_xlabel("LSTM step", fontsize=9)
        row[3].set_ylabel("c", fontsize=9)
        row[3].legend(fontsize=7, frameon=False)
        row[3].tick_params(labelsize=8)
        row[3].grid(True, linewidth=0.3, alpha=0.5)
    bottom = axes[-1]
    lags = len(inspection.lag_times)
    for ax, (name, label) in zip(bottom[:2], (("lstm", "LSTM"), ("skip", "linear skip")),
                                 strict=True):  # fmt: skip
        values = inspection.attribution[name].sum(axis=1)
        shown = lags
        lag = np.arange(shown, 0, -1)
        if shown <= 200:
            ax.bar(lag, values[-shown:], width=1.0, color=COLOURS["model"])
        else:  # thousands of bars take seconds to draw; the same shape as one filled area
            ax.fill_between(lag, 0, values[-shown:], step="mid", color=COLOURS["model"])
        ax.invert_xaxis()
        ax.set_title(f"{label} attribution ({100 * inspection.share[name]:.0f}% of the forecast)",
                     fontsize=10, loc="left")  # fmt: skip
        ax.set_xlabel("lag (rows before the forecast)", fontsize=9)
        ax.set_ylabel("gradient x input", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, linewidth=0.3, alpha=0.5)
    for ax in bottom[2:]:
        ax.set_visible(False)
    figure.suptitle(f"inside the LSTM: {series}, window ending {inspection.lag_times[-1]}",
                    fontsize=11)  # fmt: skip
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=DPI)
    plt.close(figure)
    return buffer.getvalue()
