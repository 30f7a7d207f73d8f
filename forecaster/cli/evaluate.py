"""`forecaster evaluate -m MODEL DATA`: its outputs checked, the report of `report.py` (a
backtest against naive and seasonal-naive forecasts) shown and written."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from forecaster.cli.core import Command, app, errors_to_exit_codes, setup_logging
from forecaster.cli.options import (
    MODEL,
    OUTPUT,
    DecimalsOption,
    DuplicatesOption,
    FillOption,
    HorizonOption,
    MetricsFormat,
    ModelPath,
    OutputPath,
    QuietOption,
    ScoredLevelOption,
    default,
    read_history,
)
from forecaster.errors import UsageError


@app.command(cls=Command)
def evaluate(
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            help="History followed by actuals, or actuals alone that continue the history "
            "stored in the model (CSV or Parquet, or - for stdin).",
        ),
    ],
    model: ModelPath = Path("model.fcst"),
    horizon: HorizonOption = None,
    windows: Annotated[
        int,
        typer.Option(
            "--windows",
            min=1,
            metavar="K",
            help="Rolling origins per series.",
            rich_help_panel=MODEL,
        ),
    ] = 1,
    stride: Annotated[
        int | None,
        typer.Option(
            "--stride",
            min=1,
            metavar="N",
            help="Steps between origins." + default("the horizon"),
            rich_help_panel=MODEL,
        ),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option(
            "--season",
            min=1,
            metavar="N",
            help="Seasonal period for MASE and seasonal naive. \\[default: by frequency: hourly "
            "24, daily 7, weekly 52, monthly 12, quarterly 4]",
            rich_help_panel=MODEL,
        ),
    ] = None,
    level: ScoredLevelOption = None,
    fill: FillOption = None,
    duplicates: DuplicatesOption = None,
    per_series: Annotated[
        bool,
        typer.Option(
            "--per-series",
            metavar="",
            help="Also score each series on its own (table rows, JSON per_series).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    fmt: Annotated[
        MetricsFormat | None,
        typer.Option(
            "--format",
            help="table: a table on stderr; json or csv: to standard output (or -o FILE). "
            "\\[default: table, or from the -o file's extension]",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    output: OutputPath = None,
    forecasts: Annotated[
        str | None,
        typer.Option(
            "--forecasts",
            metavar="FILE",
            help="Also write every evaluated step (time, target, actual, model, naive, "
            "seasonal naive) to FILE: CSV, or JSON / JSON lines by its extension.",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Also draw the backtest to FILE (.png, .svg or .pdf; - for PNG on standard "
            "output): actuals, the model's forecasts and bands, seasonal naive; one panel per "
            "series, at most 12.",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    decimals: DecimalsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Backtest the model on DATA and compare it with naive and seasonal-naive forecasts.

    Each window is forecast from the rows before it only (its statistics included); the
    metrics are MAE, RMSE, MAPE, sMAPE and MASE (scaled by the in-sample seasonal-naive
    error). Across several targets only sMAPE and MASE are averaged.

    A model with future covariates is backtested with their actual values in each window:
    what a user with perfect foresight of the drivers would get. The same model is also
    scored with them held at their last observed value (model_covariates_held), so the
    difference is what the drivers are worth.

    Prediction intervals are scored at each --level (80 and 95 unless given): coverage,
    the share of actuals inside the interval (0 to 1; it should be near the level); MSIS,
    the M4 competition's mean scaled interval score, the interval's width plus 2 / alpha
    times how far an actual falls outside it, scaled as MASE (lower is better; alpha = 1 -
    level / 100); and pinball, the quantile loss averaged over the quantiles 0.1 to 0.9,
    scaled as MASE (lower is better). The baselines' intervals come from the empirical
    quantiles of their in-sample residuals, widened with the horizon as statsforecast does.
    """
    setup_logging(quiet)
    with errors_to_exit_codes():
        from forecaster import artifact as artifact_io
        from forecaster import report as reports
        from forecaster import verdict

        out = _outputs(model, data, output, forecasts, plot, fmt)
        artifact = artifact_io.load(model)
        levels, scored = reports.scored_levels(artifact, level)
        panel = read_history(data, artifact, fill, duplicates)
        evaluation = reports.scored_backtest(
            artifact, panel, horizon, windows, stride, season, levels, scored, per_series
        )
        report = evaluation.report
        if out.steps is not None:
            _write_steps(reports.steps(evaluation), forecasts, out.steps, decimals,
                         artifact.schema.time_layout)  # fmt: skip
        if plot is not None:
            from forecaster.output import write_bytes

            image = reports.figure(evaluation, out.image_kind)
            write_bytes(image, out.picture, instead="--plot FILE")
        lost = verdict.from_report(report, evaluation.scores.n_forecasts)
        if lost:
            logging.getLogger("forecaster").warning("%s", lost)
        rows = reports.rows(report, len(artifact.schema.targets))
        if out.fmt is MetricsFormat.table or (sys.stderr.isatty() and not quiet):
            _print_tables(evaluation, rows, per_series, quiet)
        _write_report(report, rows, out, decimals)


class _Outputs(NamedTuple):
    """Where evaluate writes: the report (its file, format, and whether it is Parquet), the
    steps of --forecasts and the picture of --plot (a file, or None for standard output)."""

    report: Any
    fmt: MetricsFormat
    parquet: bool
    steps: Any
    picture: Any
    image_kind: str


def _outputs(
    model: Path,
    data: str,
    output: str | None,
    forecasts: str | None,
    plot: str | None,
    fmt: MetricsFormat | None,
) -> _Outputs:
    """Every output checked before any work: writable, not an input, no two the same."""
    from forecaster import files
    from forecaster.data.parquet import SUFFIXES as PARQUET_SUFFIXES

    inputs: list[tuple[str, str | Path | None]] = [("the model file", model), ("DATA", data)]
    target = files.check_output(output, inputs) if output is not None else None
    steps_file = None
    if forecasts is not None:
        if output is not None and files.same_file(output, forecasts):
            raise UsageError("--forecasts and --output name the same file; give two")
        steps_file = files.check_output(forecasts, inputs, "--forecasts")
    parquet_report = output is not None and Path(output).suffix.lower() in PARQUET_SUFFIXES
    fmt = MetricsFormat.csv if parquet_report else _format(fmt, output)
    picture, image_kind = None, ""
    if plot is not None:
        from forecaster.plot import image_format

        image_kind = image_format(plot)
        if plot == "-" and (output is None and fmt is not MetricsFormat.table):
            raise UsageError(
                "--plot - and the report both go to standard output; give -o FILE for "
                "the report, or --plot FILE"
            )
        for other, option in ((output, "--output"), (forecasts, "--forecasts")):
            if plot != "-" and other is not None and files.same_file(other, plot):
                raise UsageError(f"--plot and {option} name the same file; give two")
        if plot != "-":
            picture = files.check_output(plot, inputs, "--plot")
    return _Outputs(target, fmt, parquet_report, steps_file, picture, image_kind)


def _write_steps(
    steps: Any, name: str | None, steps_file: Any, decimals: int | None, layout: str | None
) -> None:
    """--forecasts FILE: Parquet, JSON or JSON lines by the file's extension, else CSV."""
    from forecaster import files
    from forecaster.data.parquet import SUFFIXES as PARQUET_SUFFIXES
    from forecaster.data.parquet import write_parquet
    from forecaster.output import frame_to_text, write_text

    suffix = Path(name or "").suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        files.write(steps_file, write_parquet(steps))
    else:
        kind = {".json": "json", ".jsonl": "jsonl"}.get(suffix, "csv")
        write_text(frame_to_text(steps, kind, decimals, layout), steps_file)


def _print_tables(
    evaluation: Any, rows: list[dict[str, Any]], per_series: bool, quiet: bool
) -> None:
    """The metrics table on stderr, the intervals' beside it, then the notes."""
    from forecaster.metrics import METRICS
    from forecaster.output import print_table
    from forecaster.report import interval_measures

    scores, report = evaluation.scores, evaluation.report
    title = f"{scores.n_forecasts} forecasts x {scores.horizon} steps, season {scores.season}"
    columns = ["series", "target", "method"] if per_series else ["target", "method"]
    table = [[r[c] for c in columns] + [r[m] for m in METRICS] for r in rows]
    print_table(title, [*columns, *METRICS], table)
    if evaluation.scored:
        measures = interval_measures(evaluation.levels)
        table = [
            [r[c] for c in columns] + [r[m] for m in measures]
            for r in rows
            if all(m in r for m in measures)
        ]
        print_table("prediction intervals", [*columns, *measures], table)
    skipped = report["mape_skipped_zero_actuals"]
    if skipped and not quiet:
        typer.echo(f"forecaster: MAPE skips {skipped} zero actual(s)", err=True)
    for note in report["notes"]:
        if not quiet:
            typer.echo(f"forecaster: note: {note}", err=True)


def _write_report(
    report: dict[str, Any], rows: list[dict[str, Any]], out: _Outputs, decimals: int | None
) -> None:
    """The report as JSON, Parquet or CSV (the table alone writes nothing here)."""
    from forecaster import files
    from forecaster.output import metrics_csv, write_json, write_text

    if out.fmt is MetricsFormat.json:
        write_json(report, out.report, decimals)
    elif out.fmt is MetricsFormat.csv and out.parquet:
        import pandas as pd

        from forecaster.data.parquet import write_parquet

        assert out.report is not None
        files.write(out.report, write_parquet(pd.DataFrame(rows)))
    elif out.fmt is MetricsFormat.csv:
        write_text(metrics_csv(rows, decimals), out.report)


def _format(fmt: MetricsFormat | None, output: str | None) -> MetricsFormat:
    """The output format: as asked, else from the -o file's extension, else the table."""
    if fmt is not None and fmt is not MetricsFormat.table:
        return fmt
    if output is None:
        return MetricsFormat.table
    suffix = Path(output).suffix.lower()
    by_suffix = {".json": MetricsFormat.json, ".csv": MetricsFormat.csv}
    if suffix in by_suffix and fmt is None:
        return by_suffix[suffix]
    raise UsageError(
        f"--output {output}: a table is printed on stderr, not written to a file; give "
        "--format json or --format csv (or name the file .json or .csv)"
    )
