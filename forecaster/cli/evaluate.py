"""`forecaster evaluate -m MODEL DATA`: backtest against naive and seasonal-naive forecasts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

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
        from forecaster import files, verdict
        from forecaster.continuation import (
            require_enough,
            stored_scale_bounds,
            with_stored_history,
        )
        from forecaster.data import load_panel_like
        from forecaster.data.parquet import SUFFIXES as PARQUET_SUFFIXES
        from forecaster.data.parquet import write_parquet
        from forecaster.forecast import (
            Uncertainty,
            backtest,
            check_horizon,
            require_intervals,
            required_rows,
        )
        from forecaster.frequency import season_length
        from forecaster.metrics import DEFAULT_LEVELS, METRICS, level_name, scoring_probabilities
        from forecaster.metrics import evaluate as score_backtest
        from forecaster.output import metrics_csv, print_table, write_bytes, write_json, write_text

        inputs: list[tuple[str, str | Path | None]] = [("the model file", model), ("DATA", data)]
        target = files.check_output(output, inputs) if output is not None else None
        steps_file = None
        if forecasts is not None:
            if output is not None and files.same_file(output, forecasts):
                raise UsageError("--forecasts and --output name the same file; give two")
            steps_file = files.check_output(forecasts, inputs, "--forecasts")
        parquet_report = output is not None and Path(output).suffix.lower() in PARQUET_SUFFIXES
        fmt = MetricsFormat.csv if parquet_report else _format(fmt, output)
        picture = None
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
        artifact = artifact_io.load(model)
        levels = list(level or DEFAULT_LEVELS)
        if level is not None:
            require_intervals(artifact)  # asked for: a model without them is refused
        scored = artifact.intervals is not None
        if scored:
            Uncertainty(levels, []).check(artifact)  # a level the windows do not resolve
        policy = fill.value if fill else artifact.train_config.fill
        repeats = duplicates.value if duplicates else artifact.train_config.duplicates
        panel = load_panel_like(data, artifact.schema, artifact.freq, policy, duplicates=repeats)
        panel, joined_at = with_stored_history(artifact, panel)
        continued = int((joined_at >= 0).sum())
        if not continued:
            config = artifact.model_config
            room = config.horizon if config.n_covariates else check_horizon(artifact, horizon)
            require_enough(artifact, panel, room, required_rows(artifact))
        probabilities = scoring_probabilities(levels) if scored else None
        result = backtest(artifact, panel, horizon, windows, stride, probabilities)
        if continued and probabilities:
            stored_scale_bounds(artifact, panel, result, joined_at, probabilities)
        history = [panel.series(s)[:o] for s, o in zip(result.series, result.origins, strict=True)]
        period = season or season_length(artifact.freq, artifact.schema.session)
        labels = [panel.ids[s] for s in result.series] if per_series else None
        scores = score_backtest(
            result.forecasts, result.actuals, history, artifact.schema.targets, period, windows,
            labels, result.bounds, levels,
        )  # fmt: skip
        report: dict[str, Any] = scores.to_dict()
        if artifact.schema.future:
            _add_covariates_held(report, artifact, panel, horizon, windows, stride, period)
        if continued:
            report["notes"].append(
                f"history from the model file: its last {artifact.model_config.lookback} rows "
                f"before DATA, for {continued} series; MASE, MSIS and pinball are scaled by "
                "those rows' in-sample error, and the baselines' intervals come from them (the "
                "full history in DATA uses all of it)"
            )
        if not scored:
            report["notes"].append(
                "intervals not scored: the model file has none (trained by a forecaster "
                "before intervals, or without validation windows)"
            )
        if steps_file is not None:
            from forecaster.forecast import backtest_frame
            from forecaster.metrics import naive, seasonal_naive
            from forecaster.output import frame_to_text

            baselines = {
                "naive": naive(history, scores.horizon),
                "seasonal_naive": seasonal_naive(history, scores.horizon, period),
            }
            if result.bounds is not None:  # the model's bounds, widest lower first
                for k, value in sorted(enumerate(levels), key=lambda x: -x[1]):
                    baselines[f"model-lo-{level_name(value)}"] = result.bounds[:, :, 2 * k]
                for k, value in enumerate(levels):
                    baselines[f"model-hi-{level_name(value)}"] = result.bounds[:, :, 2 * k + 1]
            steps = backtest_frame(artifact, panel, result, baselines)
            suffix = Path(forecasts or "").suffix.lower()
            if suffix in PARQUET_SUFFIXES:
                files.write(steps_file, write_parquet(steps))
            else:
                kind = {".json": "json", ".jsonl": "jsonl"}.get(suffix, "csv")
                write_text(frame_to_text(steps, kind, decimals), steps_file)
        if plot is not None:
            from forecaster.metrics import seasonal_naive as snaive_forecast
            from forecaster.plot import backtest_figure

            snaive = snaive_forecast(history, scores.horizon, period)
            image = backtest_figure(
                artifact, panel, result, snaive, period, levels if scored else [], None,
                image_kind,
            )  # fmt: skip
            write_bytes(image, picture, instead="--plot FILE")
        lost = verdict.from_report(report, scores.n_forecasts)
        if lost:
            logging.getLogger("forecaster").warning("%s", lost)
        rows = _rows(report, len(artifact.schema.targets))
        if fmt is MetricsFormat.table or (sys.stderr.isatty() and not quiet):
            title = (
                f"{scores.n_forecasts} forecasts x {scores.horizon} steps, season {scores.season}"
            )
            columns = ["series", "target", "method"] if per_series else ["target", "method"]
            table = [[r[c] for c in columns] + [r[m] for m in METRICS] for r in rows]
            print_table(title, [*columns, *METRICS], table)
            if scored:
                names = [level_name(v) for v in levels]
                measures = [f"{m}_{n}" for n in names for m in ("coverage", "msis")]
                measures.append("pinball")
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
        if fmt is MetricsFormat.json:
            write_json(report, target, decimals)
        elif fmt is MetricsFormat.csv and parquet_report:
            import pandas as pd

            assert target is not None
            files.write(target, write_parquet(pd.DataFrame(rows)))
        elif fmt is MetricsFormat.csv:
            write_text(metrics_csv(rows, decimals), target)


def _add_covariates_held(
    report: dict[str, Any],
    artifact: Any,
    panel: Any,
    horizon: int | None,
    windows: int,
    stride: int | None,
    period: int,
) -> None:
    """The same backtest with the future covariates held at their value at each origin,
    as `covariates_held` and a `model_covariates_held` method per target: what a user
    without a forecast of the drivers would get, so what knowing them is worth."""
    from forecaster.forecast import backtest
    from forecaster.metrics import evaluate as score_backtest

    held = backtest(artifact, panel, horizon, windows, stride, None, hold_future=True)
    history = [panel.series(s)[:o] for s, o in zip(held.series, held.origins, strict=True)]
    scores: dict[str, Any] = score_backtest(
        held.forecasts, held.actuals, history, artifact.schema.targets, period, windows
    ).to_dict()
    report["covariates_held"] = scores["metrics"]
    for target, by_method in report["per_target"].items():
        model = scores["per_target"][target]["model"]
        held_values = {k: v for k, v in model.items() if k not in ("intervals", "pinball")}
        items = list(by_method.items())
        items.insert(1, ("model_covariates_held", held_values))
        report["per_target"][target] = dict(items)
    report["notes"].append(
        "model: the future covariates' actual values (perfect foresight of the drivers); "
        "model_covariates_held: the same model with them held at their last observed value"
    )
    from forecaster.drivers import covariates_do_not_pay

    what = f"the {report['forecasts']} evaluated windows"
    warning = covariates_do_not_pay(
        report["metrics"]["mase"], report["covariates_held"]["mase"], what, "future covariates"
    )
    if warning:
        logging.getLogger("forecaster").warning("%s", warning)


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


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    """One method's scores as one row: intervals as coverage_80, msis_80, ..."""
    row = {k: v for k, v in values.items() if k != "intervals"}
    for level, scores in values.get("intervals", {}).items():
        row[f"coverage_{level}"] = scores["coverage"]
        row[f"msis_{level}"] = scores["msis"]
    if "pinball" in row:
        row["pinball"] = row.pop("pinball")  # last, after the levels
    return row


def _rows(report: dict[str, Any], n_targets: int) -> list[dict[str, Any]]:
    """Table and CSV rows: per target and method, "(all)" for several targets (scale-free
    metrics only), and per series when asked."""
    rows: list[dict[str, Any]] = []
    for target, by_method in report["per_target"].items():
        for method, values in by_method.items():
            rows.append({"series": "(all)", "target": target, "method": method, **_flat(values)})
    if n_targets > 1:
        model = {k: report[k] for k in ("intervals", "pinball") if k in report}
        overall = {"model": {**report["metrics"], **model}, **report["baselines"]}
        rows += [
            {"series": "(all)", "target": "(all)", "method": m, **_flat(v)}
            for m, v in overall.items()
        ]
    for series, by_target in report.get("per_series", {}).items():
        for target, by_method in by_target.items():
            for method, values in by_method.items():
                rows.append({"series": series, "target": target, "method": method, **_flat(values)})
    if "per_series" not in report:
        for row in rows:
            del row["series"]
    return rows
