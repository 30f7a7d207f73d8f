"""Two performance cliffs a red team found, timed as whole commands (CPU and wall seconds).

    .venv/bin/python benchmarks/cliffs.py                      # this checkout
    .venv/bin/python benchmarks/cliffs.py --checkout /tmp/old  # another one, same data

1. ``train --epochs 1 --horizon 1`` (default ensemble of 3) on 100,000 series of 3 rows
   each, hourly and monthly with full timestamps (long format): the per-series Python
   loops of reading, windowing and packaging (181 s in the red team's run; target 20 s).
2. ``predict --horizon 1`` of a model with 10,000 target columns: the output frame was built
   one column at a time (did not finish in 90 s; target 5 s). The model: defaults but one
   epoch, one network, horizon 7, trained on 60 rows.

Each command runs as ``python -m forecaster`` with the checkout on PYTHONPATH; CPU seconds
are the child's user + system time (what `/usr/bin/time` reports).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, append_jsonl, describe, machine, print_table

RESULTS = ROOT / "benchmarks" / "results" / "cliffs.jsonl"


def many_short_series(path: Path, series: int, rows: int, freq: str) -> None:
    ids = np.repeat([f"s{i:06d}" for i in range(series)], rows)
    stamps = pd.date_range("2024-01-01", periods=rows, freq=freq).strftime("%Y-%m-%d %H:%M:%S")
    times = np.tile(stamps, series)
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(100, 10, series * rows), 3)
    pd.DataFrame({"unique_id": ids, "ds": times, "y": values}).to_csv(path, index=False)


def many_targets(path: Path, columns: int, rows: int) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        np.round(rng.normal(0, 1, (rows, columns)).cumsum(axis=0), 3),
        columns=[f"c{i:05d}" for i in range(columns)],
    )
    frame.insert(
        0, "date", pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d")
    )
    frame.to_csv(path, index=False)


def run(checkout: Path, args: list[str], timeout: float) -> dict[str, float | int]:
    """``python -m forecaster ARGS`` from ``checkout``: run elsewhere, since ``-m`` puts the
    working directory ahead of PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "forecaster", *args],
            capture_output=True,
            env=env,
            timeout=timeout,
            cwd=tempfile.gettempdir(),
        )
        code = done.returncode
        if code != 0:
            print(done.stderr.decode()[-2000:], file=sys.stderr)
    except subprocess.TimeoutExpired:
        code = -1
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "exit": code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=ROOT, help="source tree to time")
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for freq in ("h", "MS"):
            short = work / f"short-{freq}.csv"
            many_short_series(short, options.series, 3, freq)
            timed = run(
                options.checkout,
                ["train", str(short), "-o", str(work / "short.fcst"), "--epochs", "1",
                 "--horizon", "1", "--quiet"],
                options.timeout,
            )  # fmt: skip
            rows.append([f"train, {options.series:,} series x 3 rows ({freq})", *timed.values()])
            append_jsonl(RESULTS, {"case": f"many-series-train-{freq}", **timed, **machine(1)})
        wide = work / "wide.csv"
        many_targets(wide, options.columns, 60)
        model = work / "wide.fcst"
        trained = run(
            options.checkout,
            ["train", str(wide), "-o", str(model), "--epochs", "1", "--horizon", "7",
             "--ensemble", "1", "--quiet"],
            options.timeout,
        )  # fmt: skip
        rows.append([f"train, {options.columns:,} targets x 60 rows", *trained.values()])
        timed = run(options.checkout, ["predict", "-m", str(model), "--horizon", "1"], 300)
        rows.append([f"predict, {options.columns:,} targets, 1 step", *timed.values()])
        append_jsonl(RESULTS, {"case": "many-targets-predict", **timed, **machine(1)})
    print_table(f"Cliffs ({options.checkout})", ["case", "wall s", "CPU s", "exit"], rows)
    print(f"\n{describe(machine(1))}")


if __name__ == "__main__":
    main()
