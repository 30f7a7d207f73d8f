"""Start-up: wall and CPU time of `forecaster --help`, `predict -m MODEL` and `train` on a
144-row series, each as a whole fresh process.

Run by hand (not in CI), from the repository root:

    python benchmarks/startup.py                            # median of 10 runs of each command
    python benchmarks/startup.py --baseline ../base         # the same commands of another checkout
    python benchmarks/startup.py --repeats 20
    python benchmarks/startup.py --quick                    # a smoke run in seconds: --help only

Every command runs as `python -m forecaster` with PYTHONPATH set to the checkout (this one,
and with --baseline the other, alternating in the same run), so the code measured is the
code named, whatever console script is installed. The model is a one-series hourly model
with the default network, trained for one epoch into a temporary folder first (not timed);
`train` fits the defaults (three networks) to a 144-row monthly series, as a user's first
run would, and its own summary's fitting seconds are reported beside the process's. CPU
seconds are the child's user + system time (wait4): on a shared machine they move less than
wall time. Commands run in a rotating order, beside the floor every command pays: the
interpreter alone and the imports of pandas and torch.

This script imports neither torch nor pandas itself. Each run appends a JSON line to
benchmarks/results/startup.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import json
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


def one_series_csv(path: Path, rows: int = 1000) -> None:
    """An hourly series with a daily cycle, written without pandas."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ds", "y"])
        start = datetime(2024, 1, 1)
        for t in range(rows):
            stamp = (start + timedelta(hours=t)).isoformat(sep=" ")
            writer.writerow([stamp, f"{10 + 3 * math.sin(2 * math.pi * t / 24):.4f}"])


def monthly_csv(path: Path, rows: int = 144) -> None:
    """A monthly series of ``rows`` months (12 years by default) with a trend and a yearly
    cycle: the size of the classic small series a new user tries first."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "passengers"])
        for t in range(rows):
            value = 120 + 2 * t + 30 * math.sin(2 * math.pi * t / 12) * (1 + t / rows)
            writer.writerow([f"{1949 + t // 12}-{t % 12 + 1:02d}-01", f"{value:.1f}"])


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, the child's own) and standard output.

    ``cwd`` must be outside every checkout: `python -m` puts the working directory first on
    sys.path, ahead of PYTHONPATH, so run from a checkout it would measure that checkout.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(
                f"{' '.join(command)} failed ({child.returncode}): {err.read().decode().strip()}"
            )
        return seconds, usage.ru_utime + usage.ru_stime, out.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout whose commands run beside these"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "startup.jsonl")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    checkouts = {"": ROOT}
    if args.baseline is not None:
        checkouts = {" (baseline)": args.baseline.resolve(), "": ROOT}
    envs = {
        label: dict(os.environ, PYTHONWARNINGS="ignore", PYTHONPATH=str(path))
        for label, path in checkouts.items()
    }
    plain = dict(os.environ, PYTHONWARNINGS="ignore")
    tool = [sys.executable, "-m", "forecaster"]
    workdir = Path(tempfile.mkdtemp(prefix="fcst-startup-"))
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    try:
        for label, env in envs.items():
            commands[f"forecaster --help{label}"] = ([*tool, "--help"], env)
        commands["python -c pass"] = ([sys.executable, "-c", "pass"], plain)
        if not args.quick:  # a model to predict from takes a training run: not in a smoke run
            data = workdir / "one.csv"
            one_series_csv(data)
            small = workdir / "monthly.csv"
            monthly_csv(small)
            for label, env in envs.items():
                # each checkout predicts from a model it trained: an older one may refuse the
                # keys a newer one writes
                model = workdir / f"one{label.strip(' ()')}.fcst"
                train = [*tool, "train", str(data), "-o", str(model), "--epochs", "1", "--quiet"]
                subprocess.run(train, cwd=workdir, env=env, check=True, capture_output=True)
                commands[f"forecaster predict -m MODEL{label}"] = (
                    [*tool, "predict", "-m", str(model)],
                    env,
                )
                fitted = workdir / f"monthly{label.strip(' ()')}.fcst"
                commands[f"forecaster train (144 rows){label}"] = (
                    [*tool, "train", str(small), "-o", str(fitted), "--format", "json"],
                    env,
                )
            commands["python -c 'import pandas'"] = ([sys.executable, "-c", "import pandas"], plain)
            commands["python -c 'import torch'"] = ([sys.executable, "-c", "import torch"], plain)
        names = list(commands)
        walls: dict[str, list[float]] = {name: [] for name in names}
        cpus: dict[str, list[float]] = {name: [] for name in names}
        fits: dict[str, list[float]] = {name: [] for name in names}
        for repeat in range(args.repeats):
            for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
                wall, cpu, out = timed(*commands[name], cwd=workdir)
                walls[name].append(wall)
                cpus[name].append(cpu)
                if "train" in name:
                    fits[name].append(float(json.loads(out)["seconds"]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    info = machine()
    rows: list[list[Any]] = []
    for name in names:
        target = TARGETS.get(name)
        value = median(walls[name])
        verdict = "-" if target is None else ("met" if value < target else "NOT met")
        rows.append(
            [
                name,
                f"{value:.3f}",
                f"{min(walls[name]):.3f}-{max(walls[name]):.3f}",
                f"{median(cpus[name]):.3f}",
                f"{median(fits[name]):.2f}" if fits[name] else "-",
                f"< {target}" if target else "-",
                verdict,
            ]
        )
    table(
        f"Start-up in seconds, fresh process, median of {args.repeats}",
        ["command", "wall", "wall range", "CPU", "of which fitting", "target", "verdict"],
        rows,
    )
    for label, path in checkouts.items():
        print(f"checkout{label or ''}: {path}")
    print(f"machine: {describe(info)}")
    record = {
        "benchmark": "startup",
        "repeats": args.repeats,
        "checkouts": {label or "this": str(path) for label, path in checkouts.items()},
        "medians": {name: median(walls[name]) for name in names},
        "cpu_medians": {name: median(cpus[name]) for name in names},
        "fit_medians": {name: median(fits[name]) for name in names if fits[name]},
        "samples": walls,
        "cpu_samples": cpus,
        "targets": TARGETS,
        "machine": info,
        "quick": args.quick,
        "loadavg_after": list(os.getloadavg()),
    }
    append_jsonl(args.out, record)
    print(f"JSON lines appended to {args.out}")


if __name__ == "__main__":
    main()
