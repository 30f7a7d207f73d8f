"""`forecaster inspect -m MODEL [DATA] --series ID`: what the LSTM's gates did on one window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from forecaster.cli.core import Command, app, errors_to_exit_codes, setup_logging
from forecaster.cli.options import (
    DATA,
    OUTPUT,
    DecimalsOption,
    DuplicatesOption,
    FillOption,
    HistoryArgument,
    ModelPath,
    OutputPath,
    QuietOption,
    TableFormat,
    read_history,
)


@app.command(name="inspect", cls=Command)
def inspect_gates(
    model: ModelPath = Path("model.fcst"),
    data: HistoryArgument = None,
    series: Annotated[
        str | None,
        typer.Option(
            "--series",
            metavar="ID",
            help="The series to inspect. \\[default: the only one, when there is one]",
            rich_help_panel=DATA,
        ),
    ] = None,
    origin: Annotated[
        str | None,
        typer.Option(
            "--origin",
            metavar="TIMESTAMP",
            help="The window's last timestamp. \\[default: the end of the history]",
            rich_help_panel=DATA,
        ),
    ] = None,
    fill: FillOption = None,
    duplicates: DuplicatesOption = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Table format.", rich_help_panel=OUTPUT)
    ] = TableFormat.csv,
    output: OutputPath = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Also draw the gates (heat maps of units by step, per layer), the cell states "
            "of the most active units and the lag attributions: .png, .svg or .pdf.",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    decimals: DecimalsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Run the model on one window through the gate equations and show what the LSTM did.

    Each LSTM step reads the previous hidden state h and the input x (several time steps of
    the data at once when the model reads segments): the forget gate f (0 to 1) says how much
    of the cell state c to keep, the input gate i how much of the candidate g (-1 to 1) to
    write, and the output gate o how much of the cell to show as the hidden state:
    c = f * c_prev + i * g and h = o * tanh(c). Standard output gets one row per member,
    layer, step and unit with all six values. Standard error gets, per member and layer,
    the mean gates; the share of saturated gates (below 0.05: shut; above 0.95: wide open);
    the memory span of the units, tau = -1 / ln(f), the time after which a unit keeps 1/e
    of what its cell held when its forget gate stays at f (f = 0.9: 9.5 steps), in the data's
    time units; which lags drive the forecast (gradient x input through backpropagation in
    time: how much each input row moved the mean forecast), for the LSTM path and the linear
    skip separately; and each path's share of the forecast's departure from the window's
    level.
    """
    setup_logging(quiet)
    with errors_to_exit_codes():
        from forecaster import artifact as artifact_io
        from forecaster import files
        from forecaster.output import frame_to_text, write_text

        inputs: list[tuple[str, str | Path | None]] = [("the model file", model), ("DATA", data)]
        target = files.check_output(output, inputs) if output is not None else None
        picture, image_kind = _picture(plot, output, inputs)
        artifact = artifact_io.load(model)
        panel = read_history(data, artifact, fill, duplicates)
        series = _one_series(series, artifact.ids if panel is None else panel.ids)
        from forecaster.gates import inspect_window

        inspection = inspect_window(artifact, panel, series, origin)
        form = artifact.schema.time_form
        if not quiet:
            for line in summary_lines(inspection, series, form):
                typer.echo(line, err=True)
        if picture is not None and image_kind is not None:
            from forecaster.plot import inspect_figure

            files.write(picture, inspect_figure(inspection, series, image_kind))
        table = inspection.table()
        if form is not None:  # years, step numbers, quarters: as the input wrote them
            import pandas as pd

            from forecaster.data.forms import format_form

            table["time"] = format_form(pd.DatetimeIndex(table["time"]), form)
        write_text(frame_to_text(table, fmt.value, decimals, artifact.schema.time_layout), target)
        sys.stdout.flush()


def _picture(
    plot: str | None, output: str | None, inputs: list[tuple[str, str | Path | None]]
) -> tuple[Any, str | None]:
    """--plot FILE checked before any work: the file to write and its image format."""
    if plot is None:
        return None, None
    from forecaster import files
    from forecaster.errors import UsageError
    from forecaster.plot import image_format

    image_kind = image_format(plot)
    if plot == "-":
        raise UsageError("--plot -: the table goes to standard output; give a file")
    if output is not None and files.same_file(output, plot):
        raise UsageError("--plot and --output name the same file; give two")
    return files.check_output(plot, inputs, "--plot"), image_kind


def _one_series(series: str | None, ids: list[str]) -> str:
    """--series, or the only series there is."""
    if series is not None:
        return series
    if len(ids) != 1:
        from forecaster.errors import UsageError

        raise UsageError(
            f"--series is needed: there are {len(ids)} series ({', '.join(ids[:3])}"
            f"{', ...' if len(ids) > 3 else ''})"
        )
    return ids[0]


def summary_lines(inspection: object, series: str, form: str | None = None) -> list[str]:
    """The summary on stderr: gates and spans per member and layer, lags, paths' shares."""
    from forecaster.gates import Inspection, human

    assert isinstance(inspection, Inspection)
    ending: object = inspection.lag_times[-1]
    if form is not None:  # a form has no zone: the naive grid time, written in it
        from forecaster.data.forms import shown_times

        (ending,) = shown_times(inspection.lag_times[-1:].to_numpy(), form)
    lines = [f"forecaster: inspect {series!r}, window ending {ending}"]
    for row in inspection.summary():
        lines.append(
            f"  network {row['member']} layer {row['layer']}: forget {row['forget']:.2f}, "
            f"input {row['input']:.2f}, output {row['output']:.2f}; saturated "
            f"{100 * row['saturated']:.0f}%; memory span median "
            + (
                f"{human(row['span_median_seconds'])} ({row['span_median_steps']:.3g} steps), "
                f"longest {human(row['span_max_seconds'])}"
                if inspection.step_seconds is not None  # step numbers: no clock
                else f"{row['span_median_steps']:.3g} steps, longest "
                f"{row['span_max_steps']:.3g} steps"
            )
        )
    share = inspection.share
    lines.append(
        f"  share of the forecast's departure from the window's level: LSTM "
        f"{100 * share['lstm']:.0f}%, linear skip {100 * share['skip']:.0f}%"
    )
    for name, label in (("lstm", "LSTM"), ("skip", "linear skip")):
        values = inspection.attribution[name].sum(axis=1)
        top = sorted(range(len(values)), key=lambda k: -abs(values[k]))[:5]
        lags = ", ".join(
            f"lag {len(values) - k} ({inspection.lag_times[k]}) {values[k]:+.3g}" for k in top
        )
        lines.append(f"  lags that drive the {label}: {lags}")
    return lines
