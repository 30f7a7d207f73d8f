"""Ctrl-C and SIGTERM before a command has anything to clean up: one line, exit 130, now.

From the first line of `python -m forecaster` until a command starts its work, Python's own
handler would raise KeyboardInterrupt in the middle of importing typer, pandas or torch,
where importlib can swallow it (a callback's "Exception ignored", and the run goes on to
the end) or Typer turns it into a silent exit. Nothing has been written by then, so ending
the process at once is both safe and certain. A running command installs a handler that
raises instead (`cli.core.errors_to_exit_codes`), so its cleanup runs.

Imports nothing heavy: `forecaster.__main__` installs this before anything else is loaded.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import suppress
from typing import Any

from forecaster.errors import EXIT_INTERRUPTED

# Set by `forecaster train --nproc`: its launcher reports interrupts and failures itself.
LAUNCHED = "FORECASTER_LAUNCHED"
_said = [False]


def rank_prefix() -> str:
    """``rank 1: `` in a process of a distributed run (torchrun's environment), else empty."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        return f"rank {os.environ.get('RANK', '?')}: "
    return ""


def say() -> None:
    """The one line an interrupted run writes, at most once a process (a second Ctrl-C
    adds nothing); none in a launched rank, whose launcher says it."""
    if _said[0]:
        return
    _said[0] = True
    rank = rank_prefix()
    if rank and os.environ.get(LAUNCHED):
        return
    line = f"forecaster: {rank}interrupted\n"
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except Exception:  # closed, or caught in the middle of another write to it
        with suppress(OSError):  # stderr closed: the exit code still says it
            os.write(2, line.encode())


def reset() -> None:
    """A command starts with nothing said (a test process runs many)."""
    _said[0] = False


def exit_now(signum: int, frame: Any) -> None:
    """Signal handler: say so and leave with 130, skipping cleanup there is none of."""
    say()
    os._exit(EXIT_INTERRUPTED)


def install_exit_now() -> None:
    signal.signal(signal.SIGINT, exit_now)
    signal.signal(signal.SIGTERM, exit_now)
