"""`forecaster train DATA`: read, train, and write a model file (only once training succeeded)."""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from forecaster.cli import train_options as flags
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
from forecaster.cli.options import QuietOption, SummaryFormat, config_flags

if TYPE_CHECKING:
    from forecaster.train import EpochReport


@app.command(cls=Command)
def train(
    data: flags.Data,
    output: flags.Output = "model.fcst",
    time: flags.Time = None,
    targets: flags.Targets = None,
    id: flags.Id = None,
    future_covariates: flags.FutureCovariates = None,
    past_covariates: flags.PastCovariates = None,
    static_covariates: flags.StaticCovariates = None,
    calendar: flags.Calendar = None,
    holidays: flags.Holidays = None,
    freq: flags.Freq = None,
    dayfirst: flags.DayFirst = None,
    fill: flags.Fill = None,
    duplicates: flags.Duplicates = None,
    outliers: flags.Outliers = None,
    leading_run: flags.LeadingRun = None,
    holdout: flags.Holdout = 0,
    allow_negative: flags.AllowNegative = False,
    horizon: flags.Horizon = None,
    lookback: flags.Lookback = None,
    layers: flags.Layers = None,
    hidden: flags.Hidden = None,
    dropout: flags.Dropout = None,
    ensemble: flags.Ensemble = None,
    epochs: flags.Epochs = None,
    max_windows_per_epoch: flags.MaxWindowsPerEpoch = None,
    loss: flags.Loss = None,
    batch_size: flags.BatchSize = None,
    lr: flags.Lr = None,
    patience: flags.Patience = None,
    val_fraction: flags.ValFraction = None,
    threads: flags.Threads = None,
    seed: flags.Seed = None,
    device: flags.Device = None,
    precision: flags.Precision = None,
    max_time: flags.MaxTime = None,
    nproc: flags.Nproc = 1,
    from_model: flags.From = None,
    config_file: flags.ConfigFile = None,
    quiet: QuietOption = False,
    fmt: flags.Format = SummaryFormat.text,
) -> None:
    """Train a model on DATA and write it to a model file.

    The model file is written only once training succeeded (and, with --format json, once
    the summary is printed); a failed or interrupted run leaves any previous file untouched.
    """
    arguments = dict(locals())  # the parameters named after TrainConfig fields set them
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
        overrides = config_flags(arguments, max_time=parse_duration, holidays=check_countries)
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
            from forecaster.launch import launch_if_asked

        argv = command_line()
        code = launch_if_asked(nproc, data, config.threads, old is not None, argv)
        if code is not None:
            raise typer.Exit(code=code)
        with loading():
            from forecaster.memory import keep_freed_memory
            from forecaster.ranks import train_here

        keep_freed_memory()

        if old is None:
            order = None if dayfirst is None else ("dmy" if dayfirst else "mdy")
            model = train_here(data, config, holdout, order, lambda: _progress(quiet))
        else:
            assert from_model is not None
            from forecaster.warmstart import run_update

            with _progress(quiet) as on_epoch:
                model = run_update(data, from_model, old, config, holdout, on_epoch)
        if model is None:  # another rank: rank 0 writes the model
            return
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
        if kept_start(members):
            trained += " (network 1 never bettered the fitted linear skip: the rest keep it)"
        elif any(m.get("decay_skipped") for m in members):
            trained += " (network 1's final decay found nothing: the rest skip theirs)"
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
        text = lambda v: "-" if v is None or not math.isfinite(v) else f"{v:.3g}"  # noqa: E731
        if all(text(v) == "-" for v in mase.values()):
            # MASE divides by seasonal naive's in-sample error: 0 when the history repeats
            # its season exactly (a "nan" here said nothing).
            parts.append(
                "validation MASE undefined (the validation histories repeat their season "
                "exactly: seasonal naive's in-sample error, MASE's scale, is 0)"
            )
        else:
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


def kept_start(members: list[dict[str, Any]]) -> bool:
    """Whether the networks after the first kept their starting weights untrained because
    the first never bettered its own (`pipeline.train_networks`)."""
    first, rest = members[0], members[1:]
    return first.get("best_epoch") == 0 and all(
        m.get("epochs_run") == 0 and not m.get("stopped_by_time") for m in rest
    )
