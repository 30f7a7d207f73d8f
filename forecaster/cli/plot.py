"""`forecaster plot -m MODEL [DATA] -o FILE`: the forecast of each series against its history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecaster.cli.core import Command, app, errors_to_exit_codes, setup_logging
from forecaster.cli.options import (
    DATA,
    OUTPUT,
    DuplicatesOption,
    FillOption,
    HistoryArgument,
    ModelPath,
    QuietOption,
    ShownLevelOption,
    read_history,
)

SeriesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--series",
        metavar="ID",
        help="Draw this series (repeatable). [default: the first 12]",
        rich_help_panel=DATA,
    ),
]


@app.command(cls=Command)
def plot(
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="The image: .png, .svg or .pdf by its extension, or - for PNG on standard output.",
            rich_help_panel=OUTPUT,
        ),
    ],
    model: ModelPath = Path("model.fcst"),
    data: HistoryArgument = None,
    series: SeriesOption = None,
    history: Annotated[
        int | None,
        typer.Option(
            "--history",
            min=1,
            metavar="N",
            help="Steps of history shown before the forecast. \\[default: 3 horizons or 2 "
            "seasons, whichever is longer]",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    level: ShownLevelOption = None,
    fill: FillOption = None,
    duplicates: DuplicatesOption = None,
    quiet: QuietOption = False,
) -> None:
    """Draw the forecast of each series after the last stretch of its history.

    One panel per series (and target), at most 12 (choose with --series), with real
    timestamps; the prediction intervals are shaded bands when the model has them (80% and
    95% unless --level says otherwise).
    """
    setup_logging(quiet)
    with errors_to_exit_codes():
        from forecaster import artifact as artifact_io
        from forecaster import files
        from forecaster.output import write_bytes
        from forecaster.plot import forecast_figure, image_format

        fmt = image_format(output)
        target = None
        if output != "-":
            target = files.check_output(output, [("the model file", model), ("DATA", data)])
        artifact = artifact_io.load(model)
        if level is not None:
            from forecaster.uncertainty import require_intervals

            require_intervals(artifact)
        panel = read_history(data, artifact, fill, duplicates)
        image = forecast_figure(artifact, panel, series, history, level, fmt)
        write_bytes(image, target)
