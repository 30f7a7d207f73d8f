"""`forecaster info MODEL`: what a model file holds and how its training went."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from forecaster.cli.core import Command, app, errors_to_exit_codes, setup_logging
from forecaster.cli.options import OUTPUT, SummaryFormat
from forecaster.cli.train import kept_start

# A network that stopped where its final decay would have begun (`pipeline.train_networks`).
SKIPPED_DECAY = ", final decay skipped (network 1's gained nothing)"


@app.command(cls=Command)
def info(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file.")] = Path(
        "model.fcst"
    ),
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", help="Output format.", rich_help_panel=OUTPUT)
    ] = SummaryFormat.text,
) -> None:
    """Describe a model file: schema, frequency, sizes and how training went."""
    setup_logging()
    with errors_to_exit_codes():
        from forecaster import artifact as artifact_io
        from forecaster import nonnegative
        from forecaster.output import write_json, write_text

        artifact = artifact_io.load(model)
        cfg = artifact.model_config
        schema = artifact.schema
        description: dict[str, Any] = {
            "model": str(model),
            "schema": {"time": schema.time, "targets": schema.targets, "id": schema.id},
            "time_form": schema.time_form,
            # How the input spelled ISO timestamps, where forecasts keep it (data.layouts).
            **({"time_layout": schema.time_layout} if schema.time_layout else {}),
            "time_zone": schema.zone,
            "date_order": schema.date_order,
            "freq": artifact.freq,
            # Business hours and the like: the grid is these slots alone (data.sessions).
            **({"session": schema.session.describe()} if schema.session else {}),
            "series": len(artifact.ids),
            "horizon": cfg.horizon,
            "lookback": cfg.lookback,
            "lstm_lookback": cfg.recurrent_rows,
            "networks": cfg.members,
            "layers": cfg.layers,
            "hidden": cfg.hidden,
            "dropout": cfg.dropout,
            "parameters": int(sum(w.size for w in artifact.weights.values())),
            "training": artifact.summary,
            "covariates": _covariates(schema) if schema.has_covariates else None,
            "intervals": None if artifact.intervals is None else artifact.intervals.info,
            "nonnegative": nonnegative.describe(artifact),
            "last_timestamp": _last(artifact),
            "lineage": artifact.lineage,
            "versions": artifact.versions,
        }
        if fmt is SummaryFormat.json:
            write_json(description)
            return
        write_text("".join(line + "\n" for line in _text(description)), None, instead=None)


def _covariates(schema: Any) -> dict[str, Any]:
    """The columns in each role and the features derived from the timestamps."""
    return {
        "past": schema.past,
        "future": schema.future,
        "static": schema.static,
        "categories": schema.categories,
        "calendar": schema.calendar,
    }


def _last(artifact: Any) -> str:
    """The last timestamp, as the training data wrote its times (`data.forms`)."""
    last = max(artifact.series_end)
    if artifact.schema.time_form is None:
        return str(last)
    import pandas as pd

    from forecaster.data.forms import format_form

    return str(format_form(pd.DatetimeIndex([last]), artifact.schema.time_form)[0])


def _text(description: dict[str, Any]) -> list[str]:
    """A readable listing: one line a field, the training summary as a small table."""
    lines = []
    for key, value in description.items():
        if key in ("training", "versions", "intervals"):
            continue
        if key == "covariates" and value is not None:
            lines += _covariates_text(value)
            continue
        if key == "nonnegative" and value is not None:
            from forecaster.nonnegative import text

            value = text(value)
        if key == "lineage":
            from forecaster.warmstart import describe

            lines += [f"{'lineage:':16}{line}" for line in describe(value)]
            continue
        if key == "schema":
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
        if value is None:
            continue
        lines.append(f"{key + ':':16}{value}")
    lines += _training_text(description["training"])
    intervals = description["intervals"]
    lines.append(
        "intervals:      "
        + (
            "none (the model was trained before intervals, or without validation windows)"
            if intervals is None
            else _intervals_text(intervals)
        )
    )
    versions = description["versions"]
    lines.append("versions:       " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return lines


def _training_text(training: dict[str, Any]) -> list[str]:
    """The training summary: data, device, each network, validation, the linear skip."""
    lines = ["training:", f"  {'seconds:':22}{training.get('seconds')}"]
    lines.append(
        f"  {'rows / series:':22}{training.get('rows')} / {training.get('series')}"
        f" ({training.get('train_windows')} training, {training.get('val_windows')} "
        "validation windows)"
    )
    processes = training.get("processes") or 1
    ranks = f" x {processes} processes" if processes > 1 else ""
    lines.append(
        f"  {'device / threads:':22}{training.get('device')} / {training.get('threads')}{ranks}"
    )
    untrained = kept_start(training.get("members", [])) if training.get("members") else False
    for k, member in enumerate(training.get("members", [])):
        best = member.get("best_val_loss")
        label = f"network {k + 1} (seed {member.get('seed')}):"
        lines.append(
            f"  {label:22}{member.get('epochs_run')} epochs, best at {member.get('best_epoch')}"
            + (f", validation loss {best:.4g}" if best is not None else "")
            + (", stopped early" if member.get("stopped_early") else "")
            + (", stopped at --max-time" if member.get("stopped_by_time") else "")
            + (", kept untrained (network 1 never bettered its start)" if k and untrained else "")
            + (SKIPPED_DECAY if member.get("decay_skipped") else "")
            + _placement(member, processes)
        )
    validation = training.get("validation")
    if validation:
        mase = validation["mase"]
        shown = ", ".join(
            f"{name.replace('_', ' ')} {value:.3g}" if value is not None else f"{name} -"
            for name, value in mase.items()
        )
        windows = f"{validation['windows']} validation windows"
        lines.append(f"  {'validation MASE:':22}{shown} ({windows})")
    if training.get("blend"):
        from forecaster.blend import describe as blended

        lines.append(f"  {'forecast:':22}{blended(training['blend'])}")
    skip = training.get("linear_skip")
    if skip:
        lines.append(
            f"  {'linear skip:':22}lookbacks {skip.get('lookbacks')}"
            + (f", validation MSE {skip['val_mse']:.4g}" if skip.get("val_mse") else "")
            + _skip_covariates(skip)
        )
    gates = training.get("gates")
    if gates:
        lines += _gates_text(gates)
    return lines


def _gates_text(gates: dict[str, Any]) -> list[str]:
    """Each layer's mean forget gate and memory span, and the LSTM's share of the forecast."""
    lines = []
    for layer in gates.get("layers", []):
        lines.append(
            f"  {'layer ' + str(layer['layer']) + ' gates:':22}mean forget gate "
            f"{layer['forget']:.2f}, median memory span "
            + (
                f"{layer['span_median']} ({layer['span_median_steps']:.3g} LSTM steps)"
                if layer["span_median"]
                else f"{layer['span_median_steps']:.3g} LSTM steps"
            )
        )
    lines.append(
        f"  {'LSTM share:':22}{100 * gates['lstm_share']:.0f}% of the forecast's departure "
        f"from the window's level ({gates['windows']} validation windows; the linear "
        "skip the rest)"
    )
    return lines


def _covariates_text(covariates: dict[str, Any]) -> list[str]:
    lines = ["covariates:"]
    for role in ("past", "future", "static"):
        if covariates[role]:
            lines.append(f"  {role + ':':22}{', '.join(covariates[role])}")
    for column, values in (covariates["categories"] or {}).items():
        lines.append(f"  {'categories of ' + column + ':':22}{', '.join(map(str, values))}")
    if covariates["calendar"]:
        lines.append(f"  {'calendar:':22}{', '.join(covariates['calendar'])}")
    return lines


def _intervals_text(intervals: dict[str, Any]) -> str:
    coverage = intervals.get("coverage") or {}
    reached = "; ".join(f"{k}% interval covered {100 * v:.1f}%" for k, v in coverage.items())
    level = intervals.get("resolved_level")
    resolved = f" (central intervals up to {level:g}% resolved)" if level else ""
    if intervals.get("training_windows") is not None:  # pooled over training origins
        from forecaster.pooled import describe

        return f"{intervals.get('method')}; {describe(intervals)}{resolved}"
    return (
        f"{intervals.get('method')}; {intervals.get('windows')} validation windows of "
        f"{intervals.get('series')} series{resolved}"
        + (f"; on validation windows the quantiles were not fit on, {reached}" if reached else "")
    )


def _skip_covariates(skip: dict[str, Any]) -> str:
    """Which covariate part of the skip validation kept, when there was one to choose."""
    if not any(c.get("covariate_rows") for c in skip.get("candidates", [])):
        return ""
    rows = skip.get("covariate_rows", 0)
    if rows == 0:
        return ", reads no covariates (they did not pay on validation)"
    if rows == 1:
        return ", reads the future covariates over the horizon"
    return f", reads the covariates' changes (horizon and last {rows - 1} rows)"


def _placement(member: dict[str, Any], processes: int) -> str:
    """Where a network of a several-process run was trained (older files do not say)."""
    if processes <= 1 or "processes" not in member:
        return ""
    if member["processes"] > 1:
        return f"; data parallel on {member['processes']} processes"
    return f"; on one process, {member['threads']} thread(s)"
