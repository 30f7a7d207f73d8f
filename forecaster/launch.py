"""`train --nproc N`: the training processes started on this machine through PyTorch's
launcher, after refusing what several processes cannot do.

The parent process only launches and waits; every rank then runs `forecaster train` again
(`ranks.train_here`). docs/distributed.md says how the networks are shared out.
"""

from __future__ import annotations

import logging
import os
import sys

from forecaster.distributed import environment
from forecaster.errors import EXIT_FAILURE, EXIT_INTERRUPTED, UsageError
from forecaster.interrupts import LAUNCHED
from forecaster.threads import oversubscription, resolve_threads


def launch_if_asked(
    nproc: int, data: str, threads: int, updating: bool, argv: list[str]
) -> int | None:
    """The exit code of ``forecaster <argv>`` run in ``nproc`` local processes, or ``None``
    when this process trains (alone, or as a rank torchrun started).

    ``updating`` (`train --from`) and DATA on standard input are refused with several
    processes; ``threads`` per process beyond the cores is warned about once, here.
    """
    parallel = nproc > 1 or environment().parallel
    if parallel and updating:
        raise UsageError("--from updates a model in one process: leave out --nproc")
    if parallel and data == "-":
        raise UsageError(
            "several training processes cannot share standard input: give DATA as a file"
        )
    if nproc <= 1 or environment().parallel:
        return None
    crowded = oversubscription(nproc, resolve_threads(threads))
    if crowded:
        logging.getLogger("forecaster").warning("%s", crowded)
    return launch(nproc, argv)


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``forecaster <argv>`` in ``nproc`` local processes through PyTorch's launcher
    (what `torchrun --standalone --nproc-per-node N` does) and return the exit code.

    A rank that fails ends the others (the launcher watches every 0.1 s); its own line on
    stderr says why, and the launcher adds one only for a rank ended by a signal.
    """
    import uuid

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    for name in list(logging.root.manager.loggerDict):  # the launcher's own chatter
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    os.environ[LAUNCHED] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default, said once not per rank
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=str(uuid.uuid4()),
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",
        max_restarts=0,
        monitor_interval=0.1,
    )
    try:
        elastic_launch(config, sys.executable)("-m", "forecaster", *argv)
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        if failure.exitcode < 0:
            sys.stderr.write(
                f"forecaster: error: rank {rank} was ended by {failure.signal_name()}; "
                "no model was written\n"
            )
            return EXIT_FAILURE
        return failure.exitcode
    except KeyboardInterrupt:
        sys.stderr.write("forecaster: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the launcher's own SignalException on SIGTERM, rendezvous errors
        if type(exc).__name__ == "SignalException":
            sys.stderr.write("forecaster: interrupted\n")
            return EXIT_INTERRUPTED
        raise UsageError(f"--nproc {nproc}: the processes could not start: {exc}") from None
    return 0
