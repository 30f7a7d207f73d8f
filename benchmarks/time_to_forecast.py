"""Time to a first forecast: CPU seconds of the whole `forecaster train` process with its
defaults, on data of the sizes users bring, beside NeuralForecast's LSTM with its defaults.

Run by hand (minutes; not in CI), from the repository root:

    .venv/bin/python benchmarks/time_to_forecast.py                    # every case
    .venv/bin/python benchmarks/time_to_forecast.py --cases 4k 20k     # some
    .venv/bin/python benchmarks/time_to_forecast.py --nf-python /tmp/nfenv/bin/python

Cases: a 4,032-row half-hourly demand series (12 weeks; daily and weekly cycles, h = 48);
a 20,000-row hourly series (h = 48); ETTh1 (target OT, the accuracy protocol's first
11,520 rows, h = 96 and 720); M4 Hourly (414 series, h = 48); a 359-series weekly panel of
about 370,000 rows (trend, yearly cycle, noise; h = 13). The synthetic series are made here
from a fixed seed. Each `train` runs under /usr/bin/time (user + system CPU seconds, wall
seconds, peak memory) with one torch thread and `--holdout H`; `evaluate` then scores the
held-out last horizon of every series (MASE, and seasonal naive's beside it).

With ``--nf-python`` (a Python that has neuralforecast), the same data is given to
``NeuralForecast(models=[LSTM(h=H)], freq=...)`` with every LSTM default (1,000 steps) and
the whole process is timed the same way; its forecast of the same held-out horizon is
scored with the same MASE, so both columns answer "how good, after how long".
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import describe, git_commit, machine, print_table  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def demand(rows: int, freq: str, per_day: int, seed: int) -> pd.DataFrame:
    """Load-like series: daily and weekly cycles, a slow trend and autocorrelated noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    day = 2 * np.pi * t / per_day
    week = 2 * np.pi * t / (7 * per_day)
    noise = np.zeros(rows)
    shocks = rng.standard_normal(rows)
    for k in range(1, rows):
        noise[k] = 0.8 * noise[k - 1] + shocks[k]
    y = 100 + 20 * np.sin(day - 1) + 8 * np.sin(2 * day) + 10 * np.sin(week) + 0.002 * t
    y += 3 * noise
    times = pd.date_range("2024-01-01", periods=rows, freq=freq)
    return pd.DataFrame({"time": times, "load": np.round(y, 2)})


def weekly_panel(series: int, rows: int, seed: int) -> pd.DataFrame:
    """Sales-like weekly panel: per-series level, trend and yearly cycle, multiplicative noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    level = rng.uniform(50, 5000, series)[:, None]
    trend = rng.normal(0, 0.001, series)[:, None] * t
    phase = rng.uniform(0, 2 * np.pi, series)[:, None]
    amplitude = rng.uniform(0.05, 0.4, series)[:, None]
    yearly = amplitude * np.sin(2 * np.pi * t / 52.18 + phase)
    y = level * (1 + trend + yearly) * np.exp(rng.normal(0, 0.05, (series, rows)))
    times = pd.date_range("2005-01-02", periods=rows, freq="W-SUN")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{k:03d}" for k in range(series)], rows),
            "ds": np.tile(times, series),
            "y": np.round(y.ravel(), 2),
        }
    )


def m4_hourly() -> pd.DataFrame:
    train = pd.read_csv(DATA / "m4" / "Hourly-train.csv")
    parts = []
    for _, row in train.iterrows():
        values = row.iloc[1:].dropna().to_numpy(dtype=np.float64)
        times = pd.date_range("2000-01-01", periods=len(values), freq="h")
        parts.append(pd.DataFrame({"unique_id": row.iloc[0], "ds": times, "y": values}))
    return pd.concat(parts, ignore_index=True)


def etth1() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "ETTh1.csv").iloc[:11520]
    return frame[["date", "OT"]]


# name: (frame maker, horizon, frequency alias for NeuralForecast, target seconds)
CASES: dict[str, tuple[Any, int, str, float]] = {
    "4k": (lambda: demand(4032, "30min", 48, 0), 48, "30min", 30),
    "20k": (lambda: demand(20000, "h", 24, 1), 48, "h", 60),
    "etth1-96": (etth1, 96, "h", 30),
    "etth1-720": (etth1, 720, "h", 60),
    "m4": (m4_hourly, 48, "h", 120),
    "weekly": (lambda: weekly_panel(359, 1031, 2), 13, "W-SUN", 300),
}


def timed(command: list[str], env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Run under /usr/bin/time; CPU, wall seconds and peak RSS, and the command's stdout.

    From this checkout's root: ``-m forecaster`` imports the package of the working
    directory before PYTHONPATH's, so run elsewhere it would time another checkout's code.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%U %S %e %M", *command],
            capture_output=True, text=True, env=env, check=False, cwd=ROOT,
        )  # fmt: skip
        if proc.returncode != 0:
            raise SystemExit(f"{command[:4]} failed:\n{proc.stderr[-2000:]}")
        user, system, wall, rss = report.read().split()[-4:]
    figures = {"cpu": float(user) + float(system), "wall": float(wall), "rss_mb": int(rss) / 1024}
    return figures, proc.stdout


def run_ours(csv: Path, horizon: int, model: Path, extra: list[str]) -> dict[str, Any]:
    """Train with the last horizon of every series held out (timed), then score it."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "forecaster", "train", str(csv), "--horizon",
               str(horizon), "--holdout", str(horizon), "-o", str(model), "--format", "json",
               "--quiet", *extra]  # fmt: skip
    figures, out = timed(command, env)
    summary = json.loads(out)
    scored = subprocess.run(
        [sys.executable, "-m", "forecaster", "evaluate", "-m", str(model), str(csv),
         "--format", "json", "--quiet"],
        capture_output=True, text=True, env=env, check=True, cwd=ROOT,
    )  # fmt: skip
    report = json.loads(scored.stdout)
    figures.update(
        mase=report["metrics"]["mase"],
        snaive=report["baselines"]["seasonal_naive"]["mase"],
        epochs=[m.get("epochs_run") for m in summary.get("members") or []],
    )
    return figures


NF_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np, pandas as pd
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM
    csv, horizon, freq, season = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    frame = pd.read_csv(csv)
    if "unique_id" not in frame:
        frame = frame.rename(columns={frame.columns[0]: "ds", frame.columns[1]: "y"})
        frame.insert(0, "unique_id", "series")
    frame["ds"] = pd.to_datetime(frame["ds"])
    # Hold out the last horizon of every series, as forecaster's validation does at the end.
    rank = frame.groupby("unique_id").cumcount(ascending=False)
    train, test = frame[rank >= horizon], frame[rank < horizon]
    nf = NeuralForecast(models=[LSTM(h=horizon, logger=False, enable_progress_bar=False,
                                     enable_model_summary=False)], freq=freq)
    nf.fit(train)
    forecast = nf.predict().reset_index()
    merged = test.merge(forecast, on=["unique_id", "ds"])
    scores = []
    for sid, part in merged.groupby("unique_id"):
        history = train[train.unique_id == sid].y.to_numpy()
        lag = season if len(history) > season else 1
        scale = np.mean(np.abs(history[lag:] - history[:-lag]))
        if scale > 0:
            scores.append(np.mean(np.abs(part.LSTM - part.y)) / scale)
    print(json.dumps({"mase": float(np.mean(scores))}))
    """
)


def run_nf(python: str, csv: Path, horizon: int, freq: str, season: int) -> dict[str, Any]:
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    script = csv.parent / "nf_lstm.py"
    script.write_text(NF_SCRIPT)
    command = [python, str(script), str(csv), str(horizon), freq, str(season)]
    figures, out = timed(command, env)
    figures.update(json.loads(out.strip().splitlines()[-1]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument(
        "--train-args", default="", help="extra `train` flags, for an ablation ('--epochs 20')"
    )
    parser.add_argument("--nf-python", help="a Python with neuralforecast, to compare")
    parser.add_argument("--no-ours", action="store_true", help="only NeuralForecast")
    parser.add_argument(
        "--keep", type=Path, help="keep each case's model here, e.g. to time predict"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "time.jsonl")
    args = parser.parse_args()
    from forecaster.seasons import season_length

    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="forecaster-time-") as tmp:
        work = Path(tmp)
        for name in args.cases:
            make, horizon, freq, target = CASES[name]
            frame = make()
            csv = work / f"{name}.csv"
            frame.to_csv(csv, index=False)
            ours = (
                {"cpu": float("nan"), "wall": float("nan"), "mase": None, "snaive": None}
                if args.no_ours
                else run_ours(
                    csv, horizon, (args.keep or work) / f"{name}.fcst", shlex.split(args.train_args)
                )
            )
            record: dict[str, Any] = {"case": name, "rows": len(frame), "horizon": horizon,
                                      "ours": ours, "target_cpu": target,
                                      "train_args": args.train_args}  # fmt: skip
            if args.nf_python:
                record["nf"] = run_nf(args.nf_python, csv, horizon, freq, season_length(freq))
            record.update(commit=git_commit(), machine=machine())
            with args.out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            nf = record.get("nf", {})
            rows.append([
                name, f"{len(frame):,}", horizon, f"{ours['cpu']:.1f}", f"{ours['wall']:.1f}",
                f"< {target:g}", _num(ours["mase"]), _num(ours["snaive"]),
                f"{nf['cpu']:.1f}" if nf else "-", _num(nf.get("mase")),
            ])  # fmt: skip
            print(json.dumps(record), flush=True)
    print_table(
        f"time to forecast ({describe(machine(threads=1))})",
        ["case", "rows", "h", "CPU s", "wall s", "target", "MASE", "snaive MASE",
         "NF CPU s", "NF MASE"],
        rows,
    )  # fmt: skip


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
