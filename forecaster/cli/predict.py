"""`forecaster predict -m MODEL [DATA]`: forecast every series, from DATA or the stored history."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from forecaster.cli.core import Command, app, errors_to_exit_codes, loading, setup_logging
from forecaster.cli.options import (
    OUTPUT,
    DecimalsOption,
    DuplicatesOption,
    FillOption,
    HistoryArgument,
    HorizonOption,
    LevelOption,
    ModelPath,
    OutputPath,
    QuantileOption,
    QuietOption,
    TableFormat,
    read_history,
)


@app.command(cls=Command)
def predict(
    model: ModelPath = Path("model.fcst"),
    data: HistoryArgument = None,
    horizon: HorizonOption = None,
    level: LevelOption = None,
    quantile: QuantileOption = None,
    fill: FillOption = None,
    duplicates: DuplicatesOption = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.", rich_help_panel=OUTPUT)
    ] = TableFormat.csv,
    future: Annotated[
        Path | None,
        typer.Option(
            "--future",
            metavar="FILE",
            help="The future covariates for the horizon: a CSV or Parquet file of the id and "
            "time columns and the model's future covariates (extra rows and columns are "
            "ignored). Without it, they are read from rows after the last target value in "
            "DATA.",
        ),
    ] = None,
    output: OutputPath = None,
    decimals: DecimalsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Forecast the next steps of every series.

    With --level and --quantile, also the bounds of prediction intervals and quantiles,
    calibrated at training time on the model's own errors over its validation windows
    (split conformal prediction), step by step, and scaled to how much each series moved
    over its last 28 seasonal cycles and how hard it was to forecast: the 80% interval
    should hold 80% of outcomes (`forecaster info` shows the coverage reached on
    validation windows the calibration was not fit on).
    """
    setup_logging(quiet)
    with errors_to_exit_codes():
        with loading():
            import pandas as pd

            from forecaster import artifact as artifact_io
            from forecaster import files, verdict
            from forecaster.data.parquet import SUFFIXES as PARQUET_SUFFIXES
            from forecaster.errors import UsageError
            from forecaster.forecast import predict as run_predict
            from forecaster.output import frame_to_text, write_text
            from forecaster.uncertainty import Uncertainty

        target = None
        if output is not None:
            target = files.check_output(
                output, [("the model file", model), ("DATA", data), ("--future", future)]
            )
        artifact = artifact_io.load(model)
        asked = Uncertainty(level or [], quantile or [])
        asked.check(artifact)  # before reading DATA: a model without intervals is refused
        panel = read_history(data, artifact, fill, duplicates, keep_future=future is None)
        ahead, source = None, "DATA"
        if future is not None:
            from forecaster.data.covariates import future_from_file
            from forecaster.data.read import name_of

            if not artifact.schema.future:
                raise UsageError("--future: the model has no future covariates to read from it")
            ids = artifact.ids if panel is None else panel.ids
            ends = pd.DatetimeIndex(artifact.series_end) if panel is None else panel.ends()
            source = name_of(str(future))
            ahead = future_from_file(str(future), artifact.schema, artifact.freq, list(ids),
                                     ends, artifact.model_config.horizon)  # fmt: skip
        frame = run_predict(artifact, panel, horizon, asked, ahead, source)
        lost = verdict.from_validation(artifact.summary or {})
        if lost:
            logging.getLogger("forecaster").warning("%s", lost)
        if output is not None and Path(output).suffix.lower() in PARQUET_SUFFIXES:
            from forecaster.data.parquet import write_parquet

            assert target is not None
            files.write(target, write_parquet(frame))
            return
        write_text(frame_to_text(frame, fmt.value, decimals, artifact.schema.time_layout), target)
