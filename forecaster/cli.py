"""The `forecaster` command: option parsing, exit codes, stdout vs stderr. No computation.

Heavy libraries (torch, pandas) are imported inside commands so `forecaster --help` is fast.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from forecaster.errors import EXIT_FAILURE, EXIT_INTERRUPTED, ForecasterError

if TYPE_CHECKING:
    from forecaster.artifact import Artifact
    from forecaster.train import EpochReport

app = typer.Typer(
    name="forecaster",
    help="Train a stacked LSTM on time series from a CSV; forecast and evaluate from the shell.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

_state = {"debug": False, "interrupted": False}


class TableFormat(str, Enum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


class SummaryFormat(str, Enum):
    text = "text"
    json = "json"


class MetricsFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class Fill(str, Enum):
    interpolate = "interpolate"
    ffill = "ffill"
    error = "error"


class Loss(str, Enum):
    mae = "mae"
    mse = "mse"
    huber = "huber"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Precision(str, Enum):
    fp32 = "fp32"
    bf16 = "bf16"


# Options shared by several commands, defined once.
DATA = "Data"
MODEL = "Model"
TRAINING = "Training"
OUTPUT = "Output"

ModelPath = Annotated[
    Path, typer.Option("--model", "-m", help="Model file written by `forecaster train`.")
]
OutputPath = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (atomically) instead of stdout.",
        rich_help_panel=OUTPUT,
    ),
]
HorizonOption = Annotated[
    int | None,
    typer.Option(
        "--horizon",
        min=1,
        help="Steps to forecast (at most the trained horizon).",
        rich_help_panel=MODEL,
    ),
]
FillOption = Annotated[
    Fill | None,
    typer.Option(
        "--fill",
        help="How to fill gaps and empty cells. (default: interpolate)",
        rich_help_panel=DATA,
    ),
]


@contextmanager
def _errors_to_exit_codes() -> Iterator[None]:
    """Domain errors become one line on stderr and their exit code; Ctrl-C becomes 130."""
    try:
        yield
        _check_interrupted()
    except ForecasterError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"forecaster: error: {exc}", err=True)
        raise typer.Exit(code=exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("forecaster: interrupted", err=True)
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(code=0) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if _state["debug"]:
            raise
        typer.echo(
            f"forecaster: unexpected error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback)",
            err=True,
        )
        raise typer.Exit(code=EXIT_FAILURE) from None


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _setup_logging(quiet: bool = False) -> None:
    logger = logging.getLogger("forecaster")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("forecaster: warning: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    logger.propagate = False


def _print_version(value: bool) -> None:
    if value:
        from forecaster import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def train(
    data: Annotated[str, typer.Argument(help="CSV file, or - for standard input.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Model file to write.", rich_help_panel=OUTPUT)
    ] = Path("model.fcst"),
    time_column: Annotated[
        str | None,
        typer.Option("--time", help="Time column (default: detected).", rich_help_panel=DATA),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="Target column; repeat for several (default: all numeric).",
            rich_help_panel=DATA,
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Series id column, for long format (default: unique_id, or detected).",
            rich_help_panel=DATA,
        ),
    ] = None,
    freq: Annotated[
        str | None,
        typer.Option(
            "--freq",
            help="Frequency alias, e.g. h, D, W, MS (default: inferred).",
            rich_help_panel=DATA,
        ),
    ] = None,
    fill: FillOption = None,
    holdout: Annotated[
        int,
        typer.Option(
            "--holdout",
            min=0,
            help="Leave out the last N steps of every series (to evaluate on them later).",
            rich_help_panel=DATA,
        ),
    ] = 0,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            help="Steps to forecast (default from the "
            "frequency: hourly 48, daily 14, monthly 18, ...).",
            rich_help_panel=MODEL,
        ),
    ] = None,
    lookback: Annotated[
        int | None,
        typer.Option(
            "--lookback",
            min=1,
            help="Past steps the model reads (default: max(2 x horizon, 2 seasons), hourly "
            "168+, and up to 8x as many for its linear part).",
            rich_help_panel=MODEL,
        ),
    ] = None,
    layers: Annotated[
        int | None,
        typer.Option(
            "--layers", min=1, help="Stacked LSTM layers. (default: 2)", rich_help_panel=MODEL
        ),
    ] = None,
    hidden: Annotated[
        int | None,
        typer.Option(
            "--hidden", min=1, help="Hidden units per layer. (default: 64)", rich_help_panel=MODEL
        ),
    ] = None,
    dropout: Annotated[
        float | None,
        typer.Option(
            "--dropout",
            min=0.0,
            help="Dropout between layers. (default: 0.1)",
            rich_help_panel=MODEL,
        ),
    ] = None,
    ensemble: Annotated[
        int | None,
        typer.Option(
            "--ensemble",
            min=1,
            help="Networks trained from seeds seed, seed+1, ...; forecasts averaged. (default: 3)",
            rich_help_panel=MODEL,
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs", min=1, help="Maximum epochs. (default: 60)", rich_help_panel=TRAINING
        ),
    ] = None,
    loss: Annotated[
        Loss | None,
        typer.Option(
            "--loss",
            help="Training loss on the scaled series. (default: mae)",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size", min=1, help="Windows per batch. (default: 64)", rich_help_panel=TRAINING
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option("--lr", help="Adam learning rate. (default: 0.003)", rich_help_panel=TRAINING),
    ] = None,
    patience: Annotated[
        int | None,
        typer.Option(
            "--patience",
            min=1,
            help="Epochs without validation improvement before stopping. (default: 8)",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    val_fraction: Annotated[
        float | None,
        typer.Option(
            "--val-fraction",
            min=0.0,
            help="Share of each series' end used for validation "
            "(at least one horizon). (default: 0.1)",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=0,
            help="CPU threads for training; 0: one, or OMP_NUM_THREADS. (default: 0)",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Random seed. (default: 0)", rich_help_panel=TRAINING),
    ] = None,
    device: Annotated[
        Device | None,
        typer.Option("--device", help="Where to train. (default: auto)", rich_help_panel=TRAINING),
    ] = None,
    precision: Annotated[
        Precision | None,
        typer.Option(
            "--precision", help="bf16 autocast (GPU). (default: fp32)", rich_help_panel=TRAINING
        ),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file with the same keys as the flags; flags win.",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or warnings.", rich_help_panel=OUTPUT)
    ] = False,
    fmt: Annotated[
        SummaryFormat,
        typer.Option("--format", help="json prints a summary to stdout.", rich_help_panel=OUTPUT),
    ] = SummaryFormat.text,
) -> None:
    """Train a model on DATA and write it to a model file."""
    _setup_logging(quiet)
    with _errors_to_exit_codes():
        from forecaster import artifact as artifact_io
        from forecaster.config import load_config
        from forecaster.data import drop_last, load_panel
        from forecaster.pipeline import fit

        config = load_config(
            config_file,
            {
                "time": time_column,
                "targets": target or [],
                "id": id_column,
                "freq": freq,
                "fill": fill.value if fill else None,
                "horizon": horizon,
                "lookback": lookback,
                "layers": layers,
                "hidden": hidden,
                "dropout": dropout,
                "ensemble": ensemble,
                "epochs": epochs,
                "loss": loss.value if loss else None,
                "batch_size": batch_size,
                "lr": lr,
                "patience": patience,
                "val_fraction": val_fraction,
                "seed": seed,
                "threads": threads,
                "device": device.value if device else None,
                "precision": precision.value if precision else None,
            },
        )
        _check_writable(output)
        started = time.perf_counter()
        panel = load_panel(data, config.time, config.targets, config.id, config.freq, config.fill)
        panel = drop_last(panel, holdout)
        with _progress(quiet, config.epochs) as on_epoch:
            model, result = fit(panel, config, on_epoch=on_epoch)
        _check_interrupted()  # never save a model from a run the user interrupted
        artifact_io.save(model, output)
        seconds = time.perf_counter() - started
        summary = {
            "model": str(output),
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "best_train_loss": result.best_train_loss,
            "series": panel.n_series,
            "targets": panel.schema.targets,
            "freq": panel.freq,
            "horizon": model.model_config.horizon,
            "lookback": model.model_config.lookback,
            "lstm_lookback": model.model_config.recurrent_rows,
            "networks": model.model_config.members,
            "seconds": round(seconds, 3),
        }
        if fmt is SummaryFormat.json:
            from forecaster.output import write_json

            write_json(summary)
        elif not quiet:
            validated = result.best_val_loss is not None
            best = result.best_val_loss if validated else result.best_train_loss
            members = model.model_config.members
            typer.echo(
                f"forecaster: wrote {output} ("
                + (f"{members} networks, " if members > 1 else "")
                + f"{result.epochs_run} epochs, "
                + (
                    f"{'validation' if validated else 'training'} loss {best:.4g}, "
                    if best is not None
                    else ""
                )
                + f"{seconds:.1f} s)",
                err=True,
            )


def _check_writable(output: Path) -> None:
    """Fail before training, not after, when the model cannot be written."""
    from forecaster.errors import UsageError

    directory = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name")
    if not directory.is_dir():
        raise UsageError(f"cannot write {output}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"cannot write {output}: directory {directory} is not writable")


@contextmanager
def _progress(quiet: bool, epochs: int) -> Iterator[Callable[[EpochReport], None] | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise.

    Either way the callback ends training at the next epoch after an interrupt that library
    code swallowed.
    """
    if quiet or not sys.stderr.isatty():
        yield lambda report: _check_interrupted()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.fields[network]}epoch {task.fields[epoch]}/{task.fields[epochs]}"),
        BarColumn(),
        TextColumn("{task.fields[losses]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("train", total=epochs, network="", epoch=0, epochs=epochs, losses="")

        def on_epoch(report: EpochReport) -> None:
            _check_interrupted()
            val = f" val {report.val_loss:.4f}" if report.val_loss is not None else ""
            # The bar spans every member's epoch budget; a member that stops early skips ahead.
            bar.update(
                task,
                total=report.epochs * report.members,
                completed=report.member * report.epochs + report.epoch,
                network=f"network {report.member + 1}/{report.members} "
                if report.members > 1
                else "",
                epoch=report.epoch,
                losses=f"train {report.train_loss:.4f}{val}{' *' if report.best else ''}",
            )

        yield on_epoch


def _load_model(path: Path) -> Artifact:
    from forecaster import artifact as artifact_io

    return artifact_io.load(path)


@app.command()
def predict(
    model: ModelPath = Path("model.fcst"),
    data: Annotated[
        str | None,
        typer.Argument(
            help="Recent history as CSV, or - for stdin (default: the context stored in the model)."
        ),
    ] = None,
    horizon: HorizonOption = None,
    fill: FillOption = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="Output format.", rich_help_panel=OUTPUT)
    ] = TableFormat.csv,
    output: OutputPath = None,
) -> None:
    """Forecast the next steps of every series."""
    _setup_logging()
    with _errors_to_exit_codes():
        from forecaster.data import load_panel_like
        from forecaster.forecast import predict as run_predict
        from forecaster.output import frame_to_text, write_text

        artifact = _load_model(model)
        panel = None
        if data is not None:
            panel = load_panel_like(data, artifact.schema, artifact.freq, _fill(fill, artifact))
        frame = run_predict(artifact, panel, horizon)
        write_text(frame_to_text(frame, fmt.value), output)


def _fill(fill: Fill | None, artifact: Artifact) -> str:
    return fill.value if fill else artifact.train_config.fill


@app.command()
def evaluate(
    data: Annotated[str, typer.Argument(help="History followed by actuals (CSV, or - for stdin).")],
    model: ModelPath = Path("model.fcst"),
    horizon: HorizonOption = None,
    windows: Annotated[
        int,
        typer.Option("--windows", min=1, help="Rolling origins per series.", rich_help_panel=MODEL),
    ] = 1,
    stride: Annotated[
        int | None,
        typer.Option(
            "--stride",
            min=1,
            help="Steps between origins (default: the horizon)",
            rich_help_panel=MODEL,
        ),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option(
            "--season",
            min=1,
            help="Seasonal period for MASE and seasonal naive (default: from the frequency)",
            rich_help_panel=MODEL,
        ),
    ] = None,
    fill: FillOption = None,
    fmt: Annotated[
        MetricsFormat,
        typer.Option(
            "--format",
            help="table: a table on stderr; json or csv: to stdout.",
            rich_help_panel=OUTPUT,
        ),
    ] = MetricsFormat.table,
    output: OutputPath = None,
) -> None:
    """Backtest the model on DATA and compare it with naive and seasonal-naive forecasts."""
    _setup_logging()
    with _errors_to_exit_codes():
        from forecaster.data import load_panel_like
        from forecaster.forecast import backtest
        from forecaster.frequency import season_length
        from forecaster.metrics import METRICS
        from forecaster.metrics import evaluate as score_backtest
        from forecaster.output import metrics_csv, print_table, write_json, write_text

        artifact = _load_model(model)
        panel = load_panel_like(data, artifact.schema, artifact.freq, _fill(fill, artifact))
        result = backtest(artifact, panel, horizon, windows, stride)
        history = [panel.series(s)[:o] for s, o in zip(result.series, result.origins, strict=True)]
        period = season or season_length(artifact.freq)
        scores = score_backtest(
            result.forecasts, result.actuals, history, artifact.schema.targets, period, windows
        )
        report: dict[str, Any] = scores.to_dict()
        rows: list[dict[str, Any]] = []
        for target, by_method in report["per_target"].items():
            for method, values in by_method.items():
                rows.append({"target": target, "method": method, **values})
        overall = {"model": report["metrics"], **report["baselines"]}
        if len(artifact.schema.targets) > 1:
            rows += [{"target": "(all)", "method": m, **v} for m, v in overall.items()]
        if fmt is MetricsFormat.table or sys.stderr.isatty():
            title = (
                f"{scores.n_forecasts} forecasts x {scores.horizon} steps, season {scores.season}"
            )
            print_table(
                title,
                ["target", "method", *METRICS],
                [[r["target"], r["method"], *[r[m] for m in METRICS]] for r in rows],
            )
            skipped = report["mape_skipped_zero_actuals"]
            if skipped:
                typer.echo(f"forecaster: MAPE skips {skipped} zero actual(s)", err=True)
        if fmt is MetricsFormat.json:
            write_json(report, output)
        elif fmt is MetricsFormat.csv:
            write_text(metrics_csv(rows), output)


@app.command()
def info(
    model: Annotated[Path, typer.Argument(help="Model file.")] = Path("model.fcst"),
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", help="Output format.", rich_help_panel=OUTPUT)
    ] = SummaryFormat.text,
) -> None:
    """Describe a model file: schema, frequency, sizes and how training went."""
    _setup_logging()
    with _errors_to_exit_codes():
        artifact = _load_model(model)
        cfg = artifact.model_config
        description: dict[str, Any] = {
            "model": str(model),
            "schema": {
                "time": artifact.schema.time,
                "targets": artifact.schema.targets,
                "id": artifact.schema.id,
            },
            "freq": artifact.freq,
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
            "last_timestamp": str(max(artifact.series_end)),
            "versions": artifact.versions,
        }
        if fmt is SummaryFormat.json:
            from forecaster.output import write_json

            write_json(description)
            return
        for key, value in description.items():
            text = json.dumps(value) if isinstance(value, dict | list) else str(value)
            typer.echo(f"{key + ':':16}{text}")


def _raise_interrupt(signum: int, frame: Any) -> None:
    _state["interrupted"] = True
    raise KeyboardInterrupt


def _check_interrupted() -> None:
    """Raise again an interrupt that did not get through.

    A KeyboardInterrupt raised while Python runs a finalizer or a weakref callback (lazy
    imports run some) is only reported as "Exception ignored" and the program goes on.
    """
    if _state["interrupted"]:
        raise KeyboardInterrupt


def _unraisable(unraisable: Any) -> None:
    """Swallowed interrupts are remembered (and re-raised), not printed; the rest as usual."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        _state["interrupted"] = True
        return
    sys.__unraisablehook__(unraisable)


def _exit_interrupted() -> NoReturn:
    """Exit 130 for certain, once the interrupt has been handled and cleanup has run.

    When the interrupt lands in one of torch's lazy imports (while it builds dataclasses),
    CPython can take the KeyboardInterrupt for an unhandled one and end `python -m
    forecaster` by SIGINT (status -2) instead of the exit code asked for; so flush and
    leave directly.
    """
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    os._exit(EXIT_INTERRUPTED)


def main() -> None:
    """Console entry point: SIGTERM is treated like Ctrl-C, so cleanup paths run."""
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    sys.unraisablehook = _unraisable
    try:
        app()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.stderr.write("forecaster: interrupted\n")
        _exit_interrupted()
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:
            _exit_interrupted()
        raise
