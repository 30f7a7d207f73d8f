"""The Typer app, its exit codes and signals: what every command shares.

Errors reach the user as one line on stderr with their exit code (the README lists them): domain
errors from the library, usage errors from option parsing (Typer's boxed panel would be
several lines), interrupts (130). Heavy libraries are imported inside commands, so
`forecaster --help` is fast.
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from forecaster import interrupts
from forecaster.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, ForecasterError

try:  # Typer 0.26+ vendors click; older Typer uses the click package
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException  # type: ignore[no-redef]

_state: dict[str, Any] = {"debug": False, "interrupted": False, "argv": [], "process": False}


def _plain_help(option: Any) -> Any:
    """``--help`` takes no value: no ``<bool>`` beside it in the help."""
    if option is not None:
        option.metavar = ""
    return option


class Command(TyperCommand):
    """A command whose help lists ``--help`` like every other flag and whose usage line
    names its arguments plainly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.help:  # docstring paragraphs reflowed: rich keeps every line break
            paragraphs = inspect.cleandoc(self.help).split("\n\n")
            self.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)

    def get_help_option(self, ctx: Any) -> Any:
        return _plain_help(super().get_help_option(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``forecaster train [OPTIONS] DATA``: the usual spelling, not Typer's ``{DATA}``."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.display_name_raw
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class OneLineErrors(TyperGroup):
    """Usage errors as one line (``forecaster: error: ...; see 'forecaster train --help'``)."""

    def get_help_option(self, ctx: Any) -> Any:
        return _plain_help(super().get_help_option(ctx))

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        _state["argv"] = list(sys.argv[1:] if args is None else args)
        if sys.stdout is None and {"--help", "-h"} & set(_state["argv"]):
            # help goes to stdout, which Python set to None: Click would print nothing, exit 0
            typer.echo("forecaster: error: standard output is closed; redirect it", err=True)
            sys.exit(EXIT_USAGE)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # help was asked for by omission
                typer.echo(exc.format_message(), err=True)
                sys.exit(EXIT_USAGE)
            context = getattr(exc, "ctx", None)
            where = f"; see '{context.command_path} --help'" if context is not None else ""
            message = " ".join(exc.format_message().split()).rstrip(".")
            typer.echo(f"forecaster: error: {message}{where}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("forecaster: aborted", err=True)
            sys.exit(EXIT_FAILURE)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    name="forecaster",
    cls=OneLineErrors,
    help="Train a stacked LSTM on time series from a CSV; forecast and evaluate from the shell.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    """Domain errors become one line on stderr and their exit code; Ctrl-C becomes 130."""
    rank = _rank()
    interrupts.reset()
    if _state["process"]:  # from here on there may be cleanup to run: raise, do not exit
        signal.signal(signal.SIGINT, _raise_interrupt)
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
        check_interrupted()
    except ForecasterError as exc:
        if _state["debug"]:
            raise
        if getattr(exc, "report", True):  # distributed.AgreedFailure: rank 0 says it, once
            where = "" if hasattr(exc, "report") else rank  # every rank's error, not one's
            typer.echo(f"forecaster: {where}error: {exc}", err=True)
        raise typer.Exit(code=exc.exit_code) from None
    except KeyboardInterrupt:
        interrupts.say()
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(code=0) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if _state["debug"]:
            raise
        if rank and _peer_lost(exc):  # the rank that failed says why; torchrun ends us
            raise typer.Exit(code=EXIT_FAILURE) from None
        typer.echo(
            f"forecaster: {rank}unexpected error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback)",
            err=True,
        )
        raise typer.Exit(code=EXIT_FAILURE) from None


@contextmanager
def loading() -> Iterator[None]:
    """Import the heavy libraries (torch, pandas) with the garbage collector off, then
    freeze what they made.

    Their imports make a few hundred thousand long-lived objects and no garbage, yet each
    full collection while they load walks all of them, and so would every one during
    training: about 0.3 s of CPU on a small run. Frozen, the collector never looks at them
    again. Only in the console process (`main`): a test process calling the app would
    freeze its own garbage for good.
    """
    if not _state["process"]:
        yield
        check_interrupted()
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    check_interrupted()  # one swallowed while importing (see `_unraisable`): stop before work


def command_line() -> list[str]:
    """The arguments this command was run with (after the program name)."""
    return list(_state["argv"])


def _peer_lost(exc: Exception) -> bool:
    """A collective that failed because another rank is gone (gloo: connection closed)."""
    distributed = sys.modules.get("torch.distributed")
    error = getattr(distributed, "DistError", None)
    text = str(exc)
    return (error is not None and isinstance(exc, error)) or (
        isinstance(exc, RuntimeError) and ("gloo" in text or "NCCL" in text)
    )


def _rank() -> str:
    return interrupts.rank_prefix()


def silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's flush stays quiet."""
    with suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def setup_logging(quiet: bool = False) -> None:
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

        if sys.stdout is None:  # as every command refuses a closed stdout (output.py)
            typer.echo("forecaster: error: standard output is closed; redirect it", err=True)
            raise typer.Exit(code=EXIT_USAGE)
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", metavar="", help="Show tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            help="Print the version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


def _raise_interrupt(signum: int, frame: Any) -> None:
    _state["interrupted"] = True
    raise KeyboardInterrupt


def check_interrupted() -> None:
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
    _exit_at_once(EXIT_INTERRUPTED)


def _exit_at_once(code: int) -> NoReturn:
    """Flush the standard streams and end the process, skipping the interpreter's teardown
    and C++ static destructors (files are written, synced and closed before a command
    returns)."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            if stream is not None:
                stream.flush()
    os._exit(code)


def _rank_of_several() -> bool:
    """A process of a distributed run (`train --nproc`, torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1


def main() -> None:
    """Console entry point. SIGTERM is treated like Ctrl-C: until a command runs, either
    ends the process at once (`interrupts`); inside one they raise, so cleanup paths run."""
    signal.signal(signal.SIGINT, interrupts.exit_now)
    signal.signal(signal.SIGTERM, interrupts.exit_now)
    sys.unraisablehook = _unraisable
    _state["process"] = True
    try:
        app()
    except BrokenPipeError:
        silence_stdout()
        sys.exit(0)
    except KeyboardInterrupt:
        interrupts.say()
        _exit_interrupted()
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:
            _exit_interrupted()
        if _rank_of_several() and (exc.code is None or isinstance(exc.code, int)):
            # A rank's teardown after its process group is destroyed could still end in
            # C++'s "terminate called without an active exception" (SIGABRT, with no
            # Python frame left): about 1 run in 20 of two gloo ranks on a loaded 2-core
            # machine, reported by the launcher as a failed run after the model was
            # written. Nothing is left to clean up by then, so leave at once.
            _exit_at_once(exc.code or 0)
        # The interpreter's collections at exit would walk every object torch and pandas
        # made (about 0.5 s of CPU after a small run) only to free memory the system takes
        # back anyway; frozen objects are skipped. Files are closed by then: outputs are
        # written whole and synced before a command returns.
        gc.freeze()
        raise
