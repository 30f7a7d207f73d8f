"""Start-up: wall time of `forecaster --help` and `forecaster predict -m MODEL`, fresh processes.

Run by hand (not in CI), from the repository root:

    python benchmarks/startup.py               # median of 10 runs of each command
    python benchmarks/startup.py --repeats 20
    python benchmarks/startup.py --quick       # a smoke run in seconds: --help only

The model is a one-series hourly model with the default network, trained for one epoch
into a temporary folder first (not timed). Commands run in a rotating order, and beside
them the floor every command pays: the interpreter alone and the imports of pandas and
torch, so that a slow command can be told apart from a slow library import.

This script imports neither torch nor pandas itself. Each run appends a JSON line to
benchmarks/results/startup.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, append_jsonl, describe, machine, median  # noqa: E402
from benchmarks.common import print_table as table  # noqa: E402

TARGETS = {"forecaster --help": 0.3, "forecaster predict -m MODEL": 1.5}


def forecaster_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m forecaster``."""
    script = Path(sys.executable).with_name("forecaster")
    return [str(script)] if script.exists() else [sys.executable, "-m", "forecaster"]


def one_series_csv(path: Path, rows: int = 1000) -> None:
    """An hourly series with a daily cycle, written without pandas."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ds", "y"])
        start = datetime(2024, 1, 1)
        for t in range(rows):
            stamp = (start + timedelta(hours=t)).isoformat(sep=" ")
            writer.writerow([stamp, f"{10 + 3 * math.sin(2 * math.pi * t / 24):.4f}"])


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode().strip()}"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS / "startup.jsonl")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    tool = forecaster_command()
    workdir = Path(tempfile.mkdtemp(prefix="fcst-startup-"))
    try:
        commands: dict[str, list[str]] = {
            "forecaster --help": [*tool, "--help"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        if not args.quick:  # a model to predict from takes a training run: not in a smoke run
            data, model = workdir / "one.csv", workdir / "one.fcst"
            one_series_csv(data)
            train = [*tool, "train", str(data), "-o", str(model), "--epochs", "1", "--quiet"]
            subprocess.run(train, cwd=ROOT, env=env, check=True, capture_output=True)
            commands["forecaster predict -m MODEL"] = [*tool, "predict", "-m", str(model)]
            commands["python -c 'import pandas'"] = [sys.executable, "-c", "import pandas"]
            commands["python -c 'import torch'"] = [sys.executable, "-c", "import torch"]
        names = list(commands)
        samples: dict[str, list[float]] = {name: [] for name in names}
        for repeat in range(args.repeats):
            for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
                samples[name].append(timed(commands[name], env))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    info = machine()
    rows: list[list[Any]] = []
    for name in names:
        target = TARGETS.get(name)
        value = median(samples[name])
        verdict = "-" if target is None else ("met" if value < target else "NOT met")
        rows.append(
            [
                name,
                f"{value:.3f}",
                f"{min(samples[name]):.3f}",
                f"{max(samples[name]):.3f}",
                f"< {target}" if target else "-",
                verdict,
            ]
        )
    table(
        f"Start-up wall time in seconds, fresh process, median of {args.repeats}",
        ["command", "median s", "min s", "max s", "target", "verdict"],
        rows,
    )
    print(f"command: {' '.join(tool)}")
    print(f"machine: {describe(info)}")
    record = {
        "benchmark": "startup",
        "repeats": args.repeats,
        "command": tool,
        "medians": {name: median(samples[name]) for name in names},
        "samples": samples,
        "targets": TARGETS,
        "machine": info,
        "quick": args.quick,
        "loadavg_after": list(os.getloadavg()),
    }
    append_jsonl(args.out, record)
    print(f"JSON lines appended to {args.out}")


if __name__ == "__main__":
    main()
