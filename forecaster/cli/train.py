"""`forecaster train DATA`: read, train, and write a model file (only once training succeeded)."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forecaster.cli.core import (
    Command,
    app,
    check_interrupted,
    command_line,
    errors_to_exit_codes,
    loading,
    setup_logging,
    silence_stdout,
)
from forecaster.cli.options import (
    COVARIATES,
    DATA,
    DEFAULTS,
    MODEL,
    OUTPUT,
    TRAINING,
    CalendarRule,
    Device,
    Duplicates,
    Fill,
    Loss,
    Precision,
    QuietOption,
    SummaryFormat,
    default,
)
from forecaster.config import UPDATABLE

if TYPE_CHECKING:
    from forecaster.train import EpochReport


@app.command(cls=Command)
def train(
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            help="CSV or Parquet file (or a directory of Parquet files), or - for standard input.",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Model file to write.", rich_help_panel=OUTPUT
        ),
    ] = "model.fcst",
    time_column: Annotated[
        str | None,
        typer.Option(
            "--time",
            metavar="COL",
            help="Time column." + default("detected"),
            rich_help_panel=DATA,
        ),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            metavar="COL",
            help="Target column; repeat for several." + default("every numeric column, or y"),
            rich_help_panel=DATA,
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id",
            metavar="COL",
            help="Series id column, for long format." + default("unique_id, or detected"),
            rich_help_panel=DATA,
        ),
    ] = None,
    future_covariate: Annotated[
        list[str] | None,
        typer.Option(
            "--future-covariate",
            metavar="COL",
            help="A column known ahead of time (a weather or load forecast, a planned price, "
            "a promotion flag); repeat for several. predict then needs its values for the "
            "horizon: rows after the last target value in DATA, or --future FILE.",
            rich_help_panel=COVARIATES,
        ),
    ] = None,
    past_covariate: Annotated[
        list[str] | None,
        typer.Option(
            "--past-covariate",
            metavar="COL",
            help="A column observed only up to the forecast time (a measured temperature, "
            "another sensor); repeat for several.",
            rich_help_panel=COVARIATES,
        ),
    ] = None,
    static_covariate: Annotated[
        list[str] | None,
        typer.Option(
            "--static-covariate",
            metavar="COL",
            help="Long format: a column constant within each series (a store's region, a "
            "sensor's type; text categories allowed); repeat for several.",
            rich_help_panel=COVARIATES,
        ),
    ] = None,
    calendar: Annotated[
        CalendarRule | None,
        typer.Option(
            "--calendar",
            help="Features derived from the timestamps, suited to the frequency (hour of "
            "day and weekday for hourly data, weekday and day of year for daily, month for "
            "monthly); future-known, so predict computes them for the horizon. auto: with "
            "any covariate or --holidays." + default(DEFAULTS.calendar),
            rich_help_panel=COVARIATES,
        ),
    ] = None,
    holidays: Annotated[
        list[str] | None,
        typer.Option(
            "--holidays",
            metavar="CC",
            help="Add the public holidays of country CC (ISO code, e.g. US, DE, FR; from the "
            "holidays package) as a feature; repeat for several countries.",
            rich_help_panel=COVARIATES,
        ),
    ] = None,
    freq: Annotated[
        str | None,
        typer.Option(
            "--freq",
            metavar="ALIAS",
            help="Frequency alias, e.g. h, D, B, W, MS; for integer times that are step "
            "numbers, a whole number of steps, e.g. 1. Data held only in some hours or on some "
            "weekdays (business hours) is modelled on those slots alone." + default("inferred"),
            rich_help_panel=DATA,
        ),
    ] = None,
    dayfirst: Annotated[
        bool | None,
        typer.Option(
            "--dayfirst/--monthfirst",
            metavar="",
            help="Read dates such as 01/02/2020 day first (1 February) or month first. "
            "\\[default: decided by the values; refused when they cannot decide]",
            rich_help_panel=DATA,
        ),
    ] = None,
    fill: Annotated[
        Fill | None,
        typer.Option(
            "--fill",
            help="How to fill gaps and empty cells." + default(DEFAULTS.fill),
            rich_help_panel=DATA,
        ),
    ] = None,
    duplicates: Annotated[
        Duplicates | None,
        typer.Option(
            "--duplicates",
            help="Rows of one series that repeat a timestamp: refuse them (error) or merge "
            "them into one (their mean, or the first or last in the file); predict and "
            "evaluate read new data the same way." + default(DEFAULTS.duplicates),
            rich_help_panel=DATA,
        ),
    ] = None,
    holdout: Annotated[
        int,
        typer.Option(
            "--holdout",
            min=0,
            metavar="N",
            help="Leave out the last N steps of every series (to evaluate on them later).",
            rich_help_panel=DATA,
        ),
    ] = 0,
    allow_negative: Annotated[
        bool,
        typer.Option(
            "--allow-negative",
            metavar="",
            help="Let forecasts and bounds go below 0 for series whose history never did "
            "(by default they are kept >= 0 there: counts, sales, volumes).",
            rich_help_panel=MODEL,
        ),
    ] = False,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            metavar="N",
            help="Steps to forecast. \\[default: by frequency: hourly 48, daily 14, weekly 13, "
            "monthly 18, quarterly 8, yearly 6]",
            rich_help_panel=MODEL,
        ),
    ] = None,
    lookback: Annotated[
        int | None,
        typer.Option(
            "--lookback",
            min=1,
            metavar="N",
            help="Past steps the model reads. \\[default: max(2 x horizon, 2 seasons), hourly "
            "at least 168, and up to 8x as many for its linear part]",
            rich_help_panel=MODEL,
        ),
    ] = None,
    layers: Annotated[
        int | None,
        typer.Option(
            "--layers",
            min=1,
            metavar="N",
            help="Stacked LSTM layers." + default(DEFAULTS.layers),
            rich_help_panel=MODEL,
        ),
    ] = None,
    hidden: Annotated[
        int | None,
        typer.Option(
            "--hidden",
            min=1,
            metavar="N",
            help="Hidden units per layer." + default(DEFAULTS.hidden),
            rich_help_panel=MODEL,
        ),
    ] = None,
    dropout: Annotated[
        float | None,
        typer.Option(
            "--dropout",
            min=0.0,
            metavar="P",
            help="Dropout between layers, in [0, 1)." + default(DEFAULTS.dropout),
            rich_help_panel=MODEL,
        ),
    ] = None,
    ensemble: Annotated[
        int | None,
        typer.Option(
            "--ensemble",
            min=1,
            metavar="N",
            help="Networks trained from seeds seed, seed+1, ...; forecasts averaged."
            + default(DEFAULTS.ensemble),
            rich_help_panel=MODEL,
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs",
            min=1,
            metavar="N",
            help="Maximum epochs of each network." + default(DEFAULTS.epochs),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    loss: Annotated[
        Loss | None,
        typer.Option(
            "--loss",
            help="Training loss on the scaled series." + default(DEFAULTS.loss),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            min=1,
            metavar="N",
            help="Windows per batch." + default(DEFAULTS.batch_size),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(
            "--lr",
            metavar="X",
            help="Adam learning rate, in (0, 10]." + default(DEFAULTS.lr),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    patience: Annotated[
        int | None,
        typer.Option(
            "--patience",
            min=1,
            metavar="N",
            help="Epochs without validation improvement before stopping. \\[default: 8; at "
            "most 10 checks (20,000 windows) when every epoch revisits all the windows; when "
            "epochs sample more, 3 if the first epoch's best was not bettered by 2%, and then "
            "the rate decays towards zero over 6 epochs]",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    val_fraction: Annotated[
        float | None,
        typer.Option(
            "--val-fraction",
            min=0.0,
            metavar="P",
            help="Share of each series' end used for validation (at least one horizon)."
            + default(DEFAULTS.val_fraction),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=0,
            metavar="N",
            help="CPU threads for training; 0: OMP_NUM_THREADS, else one."
            + default(DEFAULTS.threads),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            metavar="N",
            help="Random seed, 0 to 2^63-1." + default(DEFAULTS.seed),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    device: Annotated[
        Device | None,
        typer.Option(
            "--device", help="Where to train." + default(DEFAULTS.device), rich_help_panel=TRAINING
        ),
    ] = None,
    precision: Annotated[
        Precision | None,
        typer.Option(
            "--precision",
            help="bf16 autocast (GPU only)." + default(DEFAULTS.precision),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    max_time: Annotated[
        str | None,
        typer.Option(
            "--max-time",
            metavar="DURATION",
            help="Stop training when this much time has passed (90s, 10m, 1h30m), keeping "
            "the best weights so far." + default("no limit"),
            rich_help_panel=TRAINING,
        ),
    ] = None,
    nproc: Annotated[
        int,
        typer.Option(
            "--nproc",
            min=1,
            metavar="N",
            help="Train with N local processes through PyTorch's launcher (what torchrun "
            "--nproc-per-node N does): whole networks of the ensemble on different "
            "processes; the rest on one process with the idle processes' threads, or, on "
            "GPUs and several machines, data parallel with --batch-size split between "
            "them. Every flag means what it means in one process; each process uses --threads "
            "threads (keep N x threads within the cores). See docs/distributed.md for torchrun "
            "across machines." + default(1),
            rich_help_panel=TRAINING,
        ),
    ] = 1,
    from_model: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="MODEL",
            help="Update MODEL with DATA instead of training anew: its networks, shape and "
            "settings are kept, DATA may hold only the rows that came after MODEL's, and "
            "only " + ", ".join("--" + k.replace("_", "-") for k in UPDATABLE) + " apply "
            "(any other flag that differs from MODEL's is refused). -o MODEL replaces it "
            "once the update succeeded.",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="TOML file with the same keys as the flags; flags win.",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    quiet: QuietOption = False,
    fmt: Annotated[
        SummaryFormat,
        typer.Option(
            "--format", help="json: a summary on standard output.", rich_help_panel=OUTPUT
        ),
    ] = SummaryFormat.text,
) -> None:
    """Train a model on DATA and write it to a model file.

    The model file is written only once training succeeded (and, with --format json, once
    the summary is printed); a failed or interrupted run leaves any previous file untouched.

    How long the defaults take, in CPU seconds on one core: a series of 4,000 rows about
    8 s, of 20,000 rows about 10 s; ETTh1 (11,520 hourly rows) 10 s at horizon 96 and 33 s
    at 720; 359 weekly series of 1,031 rows 50 s; M4 Hourly (414 series, 353,500 rows)
    about 3 minutes. --max-time caps it; --ensemble 1 takes about a third.
    """
    setup_logging(quiet)
    with errors_to_exit_codes():
        with loading():
            from forecaster import files
            from forecaster.config import load_config, parse_duration
            from forecaster.data.calendar import check_countries
            from forecaster.threads import threads_from_env

        target_file = files.check_output(
            output, [("the training data", data), ("the config file", config_file)]
        )
        overrides = {
            "time": time_column,
            "targets": target or [],
            "id": id_column,
            "freq": freq,
            "fill": fill.value if fill else None,
            "duplicates": duplicates.value if duplicates else None,
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
            "max_time": parse_duration(max_time) if max_time is not None else None,
            "past_covariates": past_covariate or [],
            "future_covariates": future_covariate or [],
            "static_covariates": static_covariate or [],
            "calendar": calendar.value if calendar else None,
            "holidays": check_countries(holidays) if holidays else [],
            "allow_negative": True if allow_negative else None,
        }
        config = load_config(config_file, overrides)
        old = None
        if from_model is not None:
            from forecaster import artifact as artifact_io
            from forecaster.config import given_values
            from forecaster.warmstart import update_config

            old = artifact_io.load(from_model)
            given = given_values(config_file, overrides)
            config = update_config(old, str(from_model), given, dayfirst)
        if config.holidays:
            config.holidays = check_countries(config.holidays)
        if not config.threads:
            threads_from_env()  # refuse a bad OMP_NUM_THREADS before torch loads OpenMP
        if fmt is SummaryFormat.json:
            _check_stdout()
        with loading():
            from forecaster import distributed
            from forecaster.errors import UsageError

        parallel = nproc > 1 or distributed.environment().parallel
        if parallel and old is not None:
            raise UsageError("--from updates a model in one process: leave out --nproc")
        if parallel and data == "-":
            raise UsageError(
                "several training processes cannot share standard input: give DATA as a file"
            )
        if nproc > 1 and not distributed.environment().parallel:
            from forecaster.threads import oversubscription, resolve_threads

            crowded = oversubscription(nproc, resolve_threads(config.threads))
            if crowded:
                logging.getLogger("forecaster").warning("%s", crowded)
            raise typer.Exit(code=distributed.launch(nproc, command_line()))
        with loading():
            from forecaster import artifact as artifact_io
            from forecaster.data import drop_last, load_panel
            from forecaster.pipeline import fit, train_share

        if old is not None:
            assert from_model is not None
            from forecaster.warmstart import run_update

            with _progress(quiet) as on_epoch:
                model = run_update(data, from_model, old, config, holdout, on_epoch)
            check_interrupted()  # never save a model from a run the user interrupted
            _write(model, output, target_file, fmt, quiet, config.epochs)
            return
        world = distributed.start(config.device)
        if not world.main:
            setup_logging(quiet=True)  # rank 0 says what there is to say
        order = None if dayfirst is None else ("dmy" if dayfirst else "mdy")
        with world.agreed():
            panel = load_panel(
                data, config.time, config.targets, config.id, config.freq, config.fill, order,
                past=config.past_covariates, future=config.future_covariates,
                static=config.static_covariates, calendar=config.calendar,
                holidays=config.holidays, duplicates=config.duplicates,
            )  # fmt: skip
            panel = drop_last(panel, holdout)
        if not world.main:
            train_share(panel, config, world)
            distributed.stop()
            return
        with _progress(quiet) as on_epoch:
            model, _ = fit(panel, config, on_epoch=on_epoch, world=world)
        distributed.stop()
        check_interrupted()  # never save a model from a run the user interrupted
        _write(model, output, target_file, fmt, quiet, config.epochs)


def _write(
    model: Any, output: str, target_file: Any, fmt: SummaryFormat, quiet: bool, epochs: int
) -> None:
    """Put the model in place once its summary is out; then say what was written."""
    from forecaster import artifact as artifact_io
    from forecaster import files

    summary = _summary(output, model.summary, model)
    with files.staged(target_file, artifact_io.to_bytes(model)):
        # Success is decided before the model is put in place: a summary that cannot
        # be printed (stdout closed) fails the run and leaves no model behind.
        if fmt is SummaryFormat.json:
            from forecaster.output import write_json

            try:
                write_json(summary)
            except BrokenPipeError:  # a reader that left early: not an error
                silence_stdout()
    if fmt is SummaryFormat.text and not quiet:
        calibration = None if model.intervals is None else model.intervals.info
        typer.echo(_summary_line(output, model.summary, epochs, calibration), err=True)


def _check_stdout() -> None:
    """With --format json the summary must reach standard output: refuse a closed one now."""
    from forecaster.errors import UsageError

    closed = sys.stdout is None
    if not closed:
        try:
            os.fstat(sys.stdout.fileno())
        except (io.UnsupportedOperation, AttributeError):
            pass  # a stream without a descriptor (a test's capture): writable
        except (OSError, ValueError):
            closed = True  # a descriptor that is not open
    if closed:
        raise UsageError(
            "standard output is closed, so the --format json summary cannot be written; "
            "redirect it (> summary.json) or use --format text"
        )


def _summary(output: str, summary: dict[str, Any], model: Any) -> dict[str, Any]:
    cfg = model.model_config
    return {
        "model": output,
        "epochs_run": summary["epochs_run"],
        "best_epoch": summary["best_epoch"],
        "best_val_loss": summary["best_val_loss"],
        "best_train_loss": summary["best_train_loss"],
        "series": summary["series"],
        "targets": model.schema.targets,
        "freq": model.freq,
        "horizon": cfg.horizon,
        "lookback": cfg.lookback,
        "lstm_lookback": cfg.recurrent_rows,
        "networks": cfg.members,
        "members": summary["members"],
        "validation": summary.get("validation"),
        **(
            {"validation_before": summary["validation_before"]}
            if "validation_before" in summary
            else {}
        ),
        **({"kept_networks": summary["kept_networks"]} if "kept_networks" in summary else {}),
        **({"lineage": model.lineage} if model.lineage else {}),
        "intervals": None if model.intervals is None else model.intervals.info,
        "stopped_by_time": summary.get("stopped_by_time", False),
        "seconds": summary["seconds"],
    }


def _summary_line(
    output: str, summary: dict[str, Any], epochs: int, intervals: dict[str, Any] | None = None
) -> str:
    """One line: what was written, epochs per network, validation against naive, time."""
    members = summary["members"]
    runs = [str(m["epochs_run"]) for m in members]
    if len(members) > 1:
        trained = f"{len(members)} networks, epochs {'/'.join(runs)} of at most {epochs} each"
    else:
        trained = f"{runs[0]} of at most {epochs} epochs"
    parts = [trained]
    best = summary["best_val_loss"]
    if best is not None:
        parts.append(f"validation loss {best:.4g}")
    elif summary["best_train_loss"] is not None:
        parts.append(f"training loss {summary['best_train_loss']:.4g} (no validation)")
    validation = summary.get("validation")
    if validation:
        mase = validation["mase"]
        text = lambda v: "-" if v is None else f"{v:.3g}"  # noqa: E731
        parts.append(
            f"validation MASE {text(mase['model'])} (naive {text(mase.get('naive'))}, "
            f"seasonal naive {text(mase.get('seasonal_naive'))})"
        )
    if summary.get("blend"):
        from forecaster.blend import describe as blended

        parts.append(f"forecast = {blended(summary['blend'])}")
    before = summary.get("validation_before")
    if before and validation:  # `train --from`: OLD on the same newest rows
        name = summary.get("updated_from", "the model updated from")
        kept = "; its networks kept" if summary.get("kept_networks") == "old" else ""
        parts.append(f"{name} scored {text(before['mase']['model'])} there{kept}")
    if intervals:
        from forecaster.pooled import describe

        parts.append(f"intervals {describe(intervals)}")
    if summary.get("stopped_by_time"):
        parts.append("stopped at --max-time, with the best weights so far")
    parts.append(f"{summary['seconds']:.1f} s")
    return f"forecaster: wrote {output} ({'; '.join(parts)})"


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[EpochReport], None] | None]:
    """A progress line on stderr when it is a terminal (what is trained, losses, time
    left from the first check on); nothing otherwise.

    Either way the callback ends training at the next check after an interrupt that library
    code swallowed.
    """
    if quiet or not sys.stderr.isatty():
        yield lambda report: check_interrupted()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.fields[network]}"),
        BarColumn(),
        TextColumn("{task.fields[losses]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("train", total=None, network="training", losses="")

        def on_epoch(report: EpochReport) -> None:
            check_interrupted()
            val = f" val {report.val_loss:.4f}" if report.val_loss is not None else ""
            network = (
                f"network {report.member + 1}/{report.members}: " if report.members > 1 else ""
            )
            # The bar spans every network's window budget; one that stops early skips ahead.
            bar.update(
                task,
                total=report.budget * report.members,
                completed=report.member * report.budget + report.windows,
                network=f"{network}{report.what}, epoch {report.epoch}/{report.epochs}",
                losses=f"train {report.train_loss:.4f}{val}{' *' if report.best else ''}",
            )

        yield on_epoch
