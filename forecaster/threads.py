"""How many CPU threads training uses: ``--threads``, else ``OMP_NUM_THREADS``, else one.

Read without importing torch, so that a value OpenMP would choke on is refused (exit code
2, one line) before torch loads OpenMP at all.
"""

from __future__ import annotations

import os

from forecaster.config import MAX_THREADS
from forecaster.errors import UsageError


def threads_from_env() -> int | None:
    """``OMP_NUM_THREADS`` as OpenMP reads it ("4" or a nested list "4,2": its first
    level), or None when unset; anything else is a usage error."""
    raw = os.environ.get("OMP_NUM_THREADS")
    if raw is None or not raw.strip():
        return None
    first = raw.split(",")[0].strip()
    if not first.isdigit() or not 1 <= int(first) <= MAX_THREADS:
        raise UsageError(
            f"OMP_NUM_THREADS={raw!r} is not a thread count; set it to an integer from 1 to "
            f"{MAX_THREADS} (or unset it and use --threads)"
        )
    return int(first)


def resolve_threads(requested: int) -> int:
    """Threads for training: the request, or (0) the environment's, or one."""
    if requested:
        return requested
    return threads_from_env() or 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, as a container sets it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def oversubscription(nproc: int, threads: int, cores: int | None = None) -> str | None:
    """What to say when N processes of T threads each want more cores than there are:
    the threads then take turns on the cores, and the processes, which meet at every
    data-parallel step and at the end, wait for the slowest."""
    cores = cores or usable_cores()
    if nproc * threads <= cores:
        return None
    if nproc > cores:
        advice = f"use --nproc {cores} or fewer"
    else:
        advice = f"use --threads {cores // nproc} or fewer"
    return (
        f"--nproc {nproc} x {threads} thread(s) each = {nproc * threads} threads on {cores} "
        f"core(s): the processes will slow each other down; {advice}"
    )
