"""`train --from`: updating a model at each origin against training once or from scratch.

Scenario (issue: pipelines that run every day), on the real-world suite and its 5-origin
protocol (``shared/data/realworld``, see realworld.py), with the tool's defaults:

- once     train at the first origin; predict from every origin with that model (today's
           protocol, as realworld.py runs it)
- scratch  train anew at every origin on the history up to it
- update   train at the first origin; at each later origin `train ARRIVED --from PREVIOUS`
           with only the rows that arrived since the previous origin (they continue the
           history the previous model stored; `--update-data whole` gives the whole
           history up to the origin instead)

The model at the first origin is the same for all three (one training, seed 0). Scores:
MASE over the 5 origins as a ratio to the better of naive and seasonal naive (as
realworld.py). CPU: the children's rusage of each `train` process, per origin after the
first (mean of origins 2-5), start-up included.

The second table times the nightly case: a half-hourly series of 4,032 rows (the bank's
calls summed per half hour, 07:00 to 21:00 on weekdays: 29 slots a day, 139 business days),
trained once, then updated with one more business day (29 rows) given as the whole file;
the median of ``--timing`` updates, CPU seconds of the whole process.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/warmstart.py --out warmstart.json
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/warmstart.py --cases wineind_monthly --timing 0
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import ROOT, machine, print_table
from realworld_cases import (
    DATA_DIR,
    ID,
    N_ORIGINS,
    Loaded,
    TimestampMismatch,
    actuals,
    align,
    baseline_forecasts,
    cut,
    load,
    load_cases,
    mase,
    parse_time,
)

SCENARIOS = ("once", "scratch", "update")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Tool:
    """The CLI in subprocesses, as a user's pipeline calls it."""

    def __init__(self, code: Path, python: str) -> None:
        self.env = dict(os.environ, PYTHONPATH=str(code.resolve()), PYTHONWARNINGS="ignore")
        # -P: `-m` would put the working directory first on sys.path, so that a run from a
        # checkout measured that checkout's package, whatever --code named.
        self.base = [python, "-P", "-m", "forecaster"]

    def __call__(self, *args: str) -> tuple[str, float]:
        cpu = children_cpu()
        done = subprocess.run([*self.base, *args], env=self.env, capture_output=True, text=True)
        cpu = children_cpu() - cpu
        if done.returncode != 0:
            lines = [x for x in done.stderr.strip().splitlines() if x.strip()] or ["no message"]
            raise RuntimeError(f"{args[0]} exited {done.returncode}: {lines[-1].strip()}")
        return done.stdout, cpu


def scenario(
    loaded: Loaded,
    tool: Tool,
    workdir: Path,
    scenarios: tuple[str, ...] = SCENARIOS,
    update_data: str = "new",
) -> dict[str, Any]:
    case = loaded.case
    columns = ["--time", case.time, "--target", case.target, "--horizon", str(case.horizon)]
    columns += ["--id", case.id] if case.id else []
    histories = []
    for k in range(N_ORIGINS):
        path = workdir / f"history{k}.csv"
        loaded.raw[cut(loaded, k)].to_csv(path, index=False)
        histories.append(path)

    def forecast(model: Path, k: int) -> np.ndarray:
        out, _ = tool("predict", "-m", str(model), str(histories[k]), "-q")
        frame = pd.read_csv(io.StringIO(out))
        ids = frame[case.id].astype(str) if case.id else "series"
        got = pd.DataFrame(
            {ID: ids, "ds": parse_time(frame[case.time]), "yhat": frame[case.target]}
        )
        return align(got, actuals(loaded, k), "yhat")

    first = workdir / "once.fcst"
    _, first_cpu = tool("train", str(histories[0]), *columns, "-o", str(first), "-q")
    start = forecast(first, 0)
    forecasts = {name: [start] for name in scenarios}
    cpu: dict[str, list[float]] = {name: [] for name in scenarios}
    previous = first
    for k in range(1, N_ORIGINS):
        forecasts["once"].append(forecast(first, k))
        if "scratch" in scenarios:
            scratch = workdir / f"scratch{k}.fcst"
            _, seconds = tool("train", str(histories[k]), *columns, "-o", str(scratch), "-q")
            cpu["scratch"].append(seconds)
            forecasts["scratch"].append(forecast(scratch, k))
        if "update" not in scenarios:
            continue
        updated = workdir / f"update{k}.fcst"
        data = histories[k]
        if update_data == "new":  # the rows that arrived since the previous origin
            data = workdir / f"arrived{k}.csv"
            loaded.raw[cut(loaded, k) & ~cut(loaded, k - 1)].to_csv(data, index=False)
        _, seconds = tool("train", str(data), "--from", str(previous), "-o",
                          str(updated), "-q")  # fmt: skip
        cpu["update"].append(seconds)
        forecasts["update"].append(forecast(updated, k))
        previous = updated
    best_naive = min(mase(loaded, f) for f in baseline_forecasts(loaded).values())
    result: dict[str, Any] = {"first_train_cpu_s": round(first_cpu, 2)}
    for name in scenarios:
        result[name] = {
            "ratio": round(mase(loaded, forecasts[name]) / best_naive, 4),
            "cpu_s_per_origin": round(statistics.mean(cpu[name]), 2) if cpu[name] else 0.0,
        }
    return result


def half_hourly_calls(data_dir: Path, rows: int) -> pd.DataFrame:
    """The bank's 5-minute call counts summed per half hour, the last ``rows`` slots."""
    frame = pd.read_csv(data_dir / "bank_calls_5min.csv")
    stamps = pd.to_datetime(frame["DateTime"])
    summed = frame.groupby(stamps.dt.floor("30min"))["Calls"].sum()
    out = summed.reset_index().rename(columns={"DateTime": "time", "Calls": "calls"})
    return out.tail(rows).reset_index(drop=True)


def update_timing(
    data_dir: Path, tool: Tool, workdir: Path, repeats: int, update_data: str
) -> dict[str, Any]:
    day = 29  # half-hour slots of one business day, 07:00 to 21:00 inclusive
    calls = half_hourly_calls(data_dir, 4032 + day)
    old_csv, new_csv = workdir / "calls_old.csv", workdir / "calls_new.csv"
    calls.head(4032).to_csv(old_csv, index=False)
    (calls.tail(day) if update_data == "new" else calls).to_csv(new_csv, index=False)
    old = workdir / "calls.fcst"
    _, train_cpu = tool("train", str(old_csv), "-o", str(old), "-q")
    update_cpu, wall = [], []
    for k in range(repeats):
        started = time.perf_counter()
        _, seconds = tool("train", str(new_csv), "--from", str(old), "-o",
                          str(workdir / f"calls{k}.fcst"), "-q")  # fmt: skip
        wall.append(time.perf_counter() - started)
        update_cpu.append(seconds)
    return {
        "rows": 4032,
        "new_rows": day,
        "update_data": update_data,
        "train_cpu_s": round(train_cpu, 2),
        "update_cpu_s_median": round(statistics.median(update_cpu), 2),
        "update_cpu_s": [round(s, 2) for s in update_cpu],
        "update_wall_s_median": round(statistics.median(wall), 2),
    }


def geometric_mean(values: list[float]) -> float:
    return math.exp(statistics.mean(math.log(v) for v in values))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--timing", type=int, default=3, help="repeats of the update timing")
    parser.add_argument(
        "--update-data", choices=["new", "whole"], default="new",
        help="an update's DATA: the rows that arrived since the previous origin, or the "
        "whole history up to the origin",
    )  # fmt: skip
    parser.add_argument(
        "--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS,
        help="which to run (once always runs: the first model is its)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="results JSON (rewritten after every case)")
    args = parser.parse_args(argv)
    tool = Tool(args.code, args.python)
    cases = load_cases(args.data)
    if args.cases:
        cases = [c for c in cases if c.name in {n.removesuffix(".csv") for n in args.cases}]
    record: dict[str, Any] = {"benchmark": "warmstart", "machine": machine(), "cases": {}}

    def save() -> None:
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(record, indent=1) + "\n")

    with tempfile.TemporaryDirectory(prefix="warmstart-") as tmp:
        for case in cases:
            print(f"{case.name} ...", file=sys.stderr, flush=True)
            workdir = Path(tmp) / case.name
            workdir.mkdir()
            try:
                chosen = tuple(dict.fromkeys(["once", *args.scenarios]))
                record["cases"][case.name] = scenario(
                    load(case, args.data), tool, workdir, chosen, args.update_data
                )
            except (RuntimeError, TimestampMismatch) as error:
                record["cases"][case.name] = {"failed": str(error).splitlines()[0]}
            print(f"  {record['cases'][case.name]}", file=sys.stderr, flush=True)
            save()
        if args.timing:
            workdir = Path(tmp) / "timing"
            workdir.mkdir()
            record["timing"] = update_timing(
                args.data, tool, workdir, args.timing, args.update_data
            )
            save()
    rows, ratios = [], {name: [] for name in SCENARIOS}
    for name, result in record["cases"].items():
        if "failed" in result:
            rows.append([name, "failed: " + result["failed"][:60], "", "", "", "", ""])
            continue
        cells = [name]
        for scenario_name in SCENARIOS:
            ratio = result.get(scenario_name, {}).get("ratio")
            if ratio is not None:
                ratios[scenario_name].append(ratio)
            cells.append("" if ratio is None else ratio)
        cells += [result.get(s, {}).get("cpu_s_per_origin", "") for s in ("scratch", "update")]
        cells.append(result["first_train_cpu_s"])
        rows.append(cells)
    if ratios["once"]:
        rows.append(
            [
                "geometric mean",
                *(round(geometric_mean(ratios[s]), 4) if ratios[s] else "" for s in SCENARIOS),
                "",
                "",
                "",
            ]
        )
    header = ["case", "once", "scratch", "update", "scratch CPU-s/origin",
              "update CPU-s/origin", "first train CPU-s"]  # fmt: skip
    print_table("MASE ratio to the better naive; CPU seconds per origin", header, rows)
    if "timing" in record:
        timing = record["timing"]
        print(
            f"update of {timing['rows']} half-hourly rows with {timing['new_rows']} new "
            f"(DATA: {timing.get('update_data', 'whole')}): "
            f"{timing['update_cpu_s_median']} CPU-s median of {timing['update_cpu_s']} "
            f"(training it: {timing['train_cpu_s']} CPU-s)"
        )


if __name__ == "__main__":
    main()
