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
