"""The tool with its defaults beside statsforecast and NeuralForecast on real series.

The suite is ``shared/data/realworld`` beside the repository (ten real series and one panel of
148, with ``cases.json`` and the protocol in its README). Per case: train the tool ONCE on each
series' rows before the first of 5 origins (the last 5 horizons), with only the columns and
``--horizon`` given, then ``predict`` from each origin with the history up to it as DATA; score
every forecast by timestamp against the rows that follow (a missing or extra timestamp fails the
case). MASE over the 5 origins, scaled by the training part's seasonal-difference MAE, reported as
a ratio to the better of naive and seasonal naive on the same origins.

The tool runs as a user runs it: the CLI in a subprocess, ``PYTHONPATH=--code python -m
forecaster``, on the raw file (awkward time columns and all); its CPU is the children's rusage
around ``train``. The peers get the timestamps this script parses, and row numbers as ``ds``
(regular by construction: jittered, business-hours and trading-day series have no regular
calendar frequency), so a peer's h-th step is the h-th actual row. statsforecast MSTL, AutoETS,
AutoTheta, AutoARIMA and SeasonalNaive are refitted at every origin (``forecast``, as users call
them); NeuralForecast LSTM and NHITS keep their defaults but ``input_size`` = max(2 seasons,
2 horizons) and are trained once at the first origin. Their CPU is ``time.process_time``.

Seasons: MSTL takes the day and the week in rows for sub-daily data ([288, 2016] for 5-minute
readings, [169, 845] for the bank's business days), [7, 365] for daily, otherwise the case's
season; AutoARIMA the case's season when it is at most 12, else 1; AutoETS the case's season
when it is at most 24, else 1 (what R's ``ets`` does: statsforecast's ETS holds at most 24
seasonal states); AutoTheta and SeasonalNaive the case's season.

A case the tool cannot run (train or predict exits non-zero, or its timestamps do not match the
actual rows) is shown as ``failed`` with the one-line reason and counted as a loss: every peer
wins it, and in the geometric mean its ratio is 1.0, what the user falls back to (the better
naive), never credited below it; a fixed value, so the tool's mean does not move with the peers
chosen (the worst peer's ratio would: one peer's blow-up, AutoARIMA's 2.99 on the trading-day
prices, would decide it).

Setup (a venv of the benchmark's own, never dependencies of the package; ``make bench-realworld``
does this)::

    python3 -m venv /work/bench-venv
    /work/bench-venv/bin/pip install torch==2.13.0  # CPU build first: no CUDA torch
    /work/bench-venv/bin/pip install statsforecast neuralforecast supersmoother \\
        pandas typer rich scikit-learn safetensors pyarrow matplotlib holidays
    OMP_NUM_THREADS=1 nice -n 19 /work/bench-venv/bin/python benchmarks/realworld.py \\
        --code . --out benchmarks/results/realworld.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import machine
from realworld_cases import (
    DATA_DIR,
    ID,
    N_ORIGINS,
    Case,
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
from realworld_report import TOOL, merge, summary, table

STATS_PEERS = ["MSTL", "AutoETS", "AutoTheta", "AutoARIMA", "SeasonalNaive"]
NEURAL_PEERS = ["LSTM", "NHITS"]
PEERS = STATS_PEERS + NEURAL_PEERS
Forecasts = list[np.ndarray]


def mstl_seasons(case: Case) -> list[int]:
    """The day and the week in rows for sub-daily series, the week and year for daily ones."""
    if case.file.startswith("bank_calls"):
        return [169, 5 * 169]  # a business day of 5-minute slots, a business week
    if case.season == 288:
        return [288, 7 * 288]
    if case.season == 365:
        return [7, 365]
    return [case.season]


def neural_input_size(case: Case) -> int:
    return max(2 * case.season, 2 * case.horizon)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_tool(
    loaded: Loaded, code: Path, python: str, workdir: Path
) -> tuple[Forecasts, dict[str, Any]]:
    """Train once on the rows before the first origin, predict from each; raise on failure."""
    case = loaded.case
    env = dict(os.environ, PYTHONPATH=str(code.resolve()), PYTHONWARNINGS="ignore")
    # -P: `-m` would put the working directory first on sys.path, so that a run from a
    # checkout measured that checkout's package, whatever --code named.
    base = [python, "-P", "-m", "forecaster"]
    train_csv, model = workdir / "train.csv", workdir / "model.fcst"
    loaded.raw[cut(loaded, 0)].to_csv(train_csv, index=False)
    columns = ["--time", case.time, "--target", case.target]
    columns += ["--id", case.id] if case.id else []
    command = [*base, "train", str(train_csv), *columns, "--horizon", str(case.horizon)]
    command += ["-o", str(model), "-q"]

    def call(args: list[str]) -> tuple[str, float, float]:
        cpu, wall = children_cpu(), time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        cpu, wall = children_cpu() - cpu, time.perf_counter() - wall
        if done.returncode != 0:
            lines = [x for x in done.stderr.strip().splitlines() if x.strip()] or ["no message"]
            raise RuntimeError(f"{args[3]} exited {done.returncode}: {lines[-1].strip()}")
        return done.stdout, cpu, wall

    _, train_cpu, train_wall = call(command)
    forecasts, by_position, predict_cpu = [], [], 0.0
    mismatch: TimestampMismatch | None = None
    for k in range(N_ORIGINS):
        history = workdir / f"history{k}.csv"
        loaded.raw[cut(loaded, k)].to_csv(history, index=False)
        out, cpu, _ = call([*base, "predict", "-m", str(model), str(history), "-q"])
        predict_cpu += cpu
        frame = pd.read_csv(io.StringIO(out))
        ids = frame[case.id].astype(str) if case.id else "series"
        forecast = pd.DataFrame(
            {ID: ids, "ds": parse_time(frame[case.time]), "yhat": frame[case.target]}
        )
        # Each series' first horizon rows, whatever their timestamps: shown beside a failure.
        by_position.append(forecast.groupby(ID, sort=False).head(case.horizon)["yhat"].to_numpy())
        try:
            forecasts.append(align(forecast, actuals(loaded, k), "yhat"))
        except TimestampMismatch as error:
            mismatch = mismatch or error
    extra = {
        "fit_cpu_s": round(train_cpu, 2),
        "fit_wall_s": round(train_wall, 2),
        "predict_cpu_s": round(predict_cpu, 2),
    }
    if mismatch is not None:
        mismatch.extra = extra
        with contextlib.suppress(ValueError):  # fewer rows than the horizon: no such score
            mismatch.extra["mase_by_position"] = round(mase(loaded, by_position), 4)
        raise mismatch
    return forecasts, extra


def peer_frame(loaded: Loaded, k: int) -> pd.DataFrame:
    """History up to origin k with row numbers as ds (see the module's docstring)."""
    hist = loaded.frame[cut(loaded, k)]
    return pd.DataFrame({"unique_id": hist[ID], "ds": hist["step"], "y": hist["y"]})


def in_actuals_order(loaded: Loaded, k: int, pred: pd.DataFrame, column: str) -> np.ndarray:
    """A peer's forecast (by row number) at the actual rows after origin k."""
    truth = actuals(loaded, k).rename(columns={"ds": "stamp", "step": "ds"})
    pred = pred.reset_index() if "unique_id" not in pred.columns else pred
    pred = pred.assign(unique_id=pred["unique_id"].astype(str), ds=pred["ds"].astype("int64"))
    pred = pred.rename(columns={"unique_id": ID})
    return align(pred, truth, column)


def stats_model(name: str, case: Case) -> Any:
    from statsforecast import models

    season = case.season
    if name == "MSTL":
        return models.MSTL(season_length=mstl_seasons(case))
    if name == "AutoARIMA":
        return models.AutoARIMA(season_length=season if season <= 12 else 1)
    if name == "AutoETS":  # R's ets() ignores seasons over 24; statsforecast's would misfit them
        return models.AutoETS(season_length=season if season <= 24 else 1)
    return getattr(models, name)(season_length=season)


def run_stats(loaded: Loaded, name: str) -> tuple[Forecasts, dict[str, Any]]:
    from statsforecast import StatsForecast

    forecasts, cpu = [], 0.0
    for k in range(N_ORIGINS):
        sf = StatsForecast(models=[stats_model(name, loaded.case)], freq=1, n_jobs=1)
        start = time.process_time()
        pred = sf.forecast(df=peer_frame(loaded, k), h=loaded.case.horizon)
        cpu += time.process_time() - start
        forecasts.append(in_actuals_order(loaded, k, pred, name))
    return forecasts, {"fit_cpu_s": round(cpu, 2)}


def run_neural(loaded: Loaded, name: str) -> tuple[Forecasts, dict[str, Any]]:
    import logging

    from neuralforecast import NeuralForecast, models

    for noisy in ("pytorch_lightning", "lightning", "lightning.pytorch", "neuralforecast"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    case = loaded.case
    model = getattr(models, name)(
        h=case.horizon,
        input_size=neural_input_size(case),
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
    )
    nf = NeuralForecast(models=[model], freq=1)
    start = time.process_time()
    nf.fit(df=peer_frame(loaded, 0))
    fit_cpu = time.process_time() - start
    forecasts, predict_cpu = [], 0.0
    for k in range(N_ORIGINS):
        start = time.process_time()
        pred = nf.predict(df=peer_frame(loaded, k))
        predict_cpu += time.process_time() - start
        forecasts.append(in_actuals_order(loaded, k, pred, name))
    return forecasts, {"fit_cpu_s": round(fit_cpu, 2), "predict_cpu_s": round(predict_cpu, 2)}


def run_case(
    case: Case,
    peers: list[str],
    code: Path | None,
    python: str,
    data_dir: Path,
    results: list[dict[str, Any]],
    save: Callable[[], None],
) -> None:
    """Append the case's result to ``results`` and ``save`` after each method (a run cut short
    keeps what finished)."""
    loaded = load(case, data_dir)
    baselines = {name: mase(loaded, f) for name, f in baseline_forecasts(loaded).items()}
    best_naive = min(baselines.values())
    result: dict[str, Any] = {
        "case": case.name,
        "series": int(loaded.frame[ID].nunique()),
        "rows": len(loaded.frame),
        "horizon": case.horizon,
        "season": case.season,
        "mase_naive": round(baselines["naive"], 4),
        "mase_seasonal_naive": round(baselines["seasonal_naive"], 4),
        "methods": {},
    }
    results.append(result)
    runners: dict[str, Callable[[], tuple[Forecasts, dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory(prefix="realworld-") as tmp:
        if code is not None:
            runners[TOOL] = lambda: run_tool(loaded, code, python, Path(tmp))
        for peer in peers:
            runner = run_neural if peer in NEURAL_PEERS else run_stats
            runners[peer] = lambda runner=runner, peer=peer: runner(loaded, peer)
        for name, runner in runners.items():
            started = time.perf_counter()
            try:
                forecasts, extra = runner()
                score = mase(loaded, forecasts)
                entry = {"mase": round(score, 4), "ratio": round(score / best_naive, 4), **extra}
            except TimestampMismatch as error:
                entry = {"failed": str(error), **error.extra}
                if "mase_by_position" in entry:
                    entry["ratio_by_position"] = round(entry["mase_by_position"] / best_naive, 4)
            except RuntimeError as error:
                entry = {"failed": str(error)}
            except Exception as error:  # a peer's own failure is a result too, not the end
                first = (str(error).strip().splitlines() or [""])[0]
                entry = {"failed": f"{type(error).__name__}: {first}"}
            entry["wall_s"] = round(time.perf_counter() - started, 1)
            result["methods"][name] = entry
            print(f"  {case.name} {name}: {entry}", file=sys.stderr, flush=True)
            save()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="*", help="case names or files (default: all)")
    parser.add_argument("--peers", nargs="*", default=PEERS, choices=PEERS)
    parser.add_argument(
        "--no-tool", action="store_true", help="only the peers (to run them in another process)"
    )
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--python", default=sys.executable, help="interpreter for the tool")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--out", type=Path, help="results JSON (rewritten after every case)")
    parser.add_argument(
        "--report", nargs="+", type=Path, help="print the table of these results files, merged"
    )
    args = parser.parse_args(argv)
    if args.report:
        merged = merge([json.loads(path.read_text()) for path in args.report])
        order = [TOOL, *PEERS]
        present = {n for r in merged for n in r["methods"]}
        print(table(merged, [n for n in order if n in present]))
        return
    if not (args.data / "cases.json").exists():
        parser.error(f"no suite at {args.data} (expected cases.json there)")
    cases = load_cases(args.data)
    if args.cases:
        wanted = {c.removesuffix(".csv") for c in args.cases}
        unknown = wanted - {c.name for c in cases}
        if unknown:
            parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
        cases = [c for c in cases if c.name in wanted]
    names = ([] if args.no_tool else [TOOL]) + args.peers
    info = machine(threads=int(os.environ.get("OMP_NUM_THREADS", "0")) or None)
    info["code"] = str(args.code.resolve())
    info["code_commit"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=args.code, capture_output=True, text=True
    ).stdout.strip()
    for package in ("statsforecast", "neuralforecast"):
        info[package] = _version(package)
    results: list[dict[str, Any]] = []
    started = time.perf_counter()

    def save() -> None:
        if not args.out:
            return
        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "benchmark": "realworld",
            "machine": info,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "wall_s": round(time.perf_counter() - started, 1),
            "cases": results,
            "summary": summary(results, names),
        }
        args.out.write_text(json.dumps(record, indent=1) + "\n")

    code = None if args.no_tool else args.code
    for case in cases:
        print(f"{case.name} ...", file=sys.stderr, flush=True)
        run_case(case, args.peers, code, args.python, args.data, results, save)
    print(f"code {info['code']} at {info['code_commit']}; machine {info['cpu']}")
    print(table(results, names))
    print(f"wall time {time.perf_counter() - started:.0f} s")


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
