"""Training throughput of forecaster against a bare PyTorch loop on the same windows.

Run by hand (not in CI), from the repository root:

    python benchmarks/throughput.py                  # three configurations, 7 repeats each
    python benchmarks/throughput.py --threads 1      # steadier on a busy machine
    python benchmarks/throughput.py --segment 1 --windows 1024 --repeats 3   # full-step LSTM
    python benchmarks/throughput.py --device cuda --precision bf16            # on a GPU
    python benchmarks/throughput.py --quick          # a smoke run in seconds

Three ways to run one epoch of the same network on the same windows, alternated in one
process, in a rotating order, several times; the tables give medians:

- ours: `forecaster.train.train_model` on a `WindowSet` that `windows.make_windows` built
  from a `Panel` (the library path `pipeline.fit` takes), with ``val_fraction = 0`` so the
  epoch is training only (the validation pass is timed on its own, as "+val");
- bare: what a user would write by hand: the same `LSTMForecaster` (same class, same
  weights, so only the loop differs), Adam, clip_grad_norm, on a pre-built (N, L + H, C)
  tensor of every training window, one random index per batch, no validation;
- CLI: `python -m forecaster train CSV --quiet --format json` end to end in a fresh
  process, the same settings and ``epochs = 2`` given through ``--config``; its throughput is
  that of the second epoch, from the model's history (the first also builds kernels), and
  its wall time includes start-up, reading and saving.

Both in-process loops draw the same windows in the same order from the same seed, so
their losses agree; the table shows the difference as a check. Throughput is windows per
second of training, and the ratio is the median of the per-repeat ratios ours / bare.

Each configuration appends a JSON line to benchmarks/results/throughput.jsonl.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, append_jsonl, describe, machine, median  # noqa: E402
from benchmarks.common import print_table as table  # noqa: E402
from forecaster.artifact import load as load_artifact  # noqa: E402
from forecaster.config import TrainConfig  # noqa: E402
from forecaster.data import Panel, Schema, build_panel  # noqa: E402
from forecaster.model import LSTMForecaster, ModelConfig  # noqa: E402
from forecaster.seasons import season_length  # noqa: E402
from forecaster.sizing import resolve_segment  # noqa: E402
from forecaster.train import (  # noqa: E402
    CLIP_NORM,
    evaluate_loss,
    select_device,
    train_model,
    validation_checks,
)
from forecaster.windows import WindowSet, fit_scaler, make_windows, split_series  # noqa: E402

FREQ = "h"
LR = 3e-3


@dataclass(frozen=True)
class Setting:
    name: str
    targets: int
    hidden: int
    layers: int
    lookback: int
    horizon: int
    batch: int


SETTINGS = [
    Setting("univariate", 1, 64, 2, 96, 24, 32),
    Setting("univariate", 1, 64, 2, 96, 24, 256),
    Setting("7 targets", 7, 128, 2, 336, 96, 256),
]


def synthetic_frame(rows: int, targets: int, seed: int = 0) -> pd.DataFrame:
    """Hourly series with daily and weekly cycles, a trend and noise (wide format)."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    frame = pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=rows, freq=FREQ)})
    for c in range(targets):
        phase = rng.uniform(0, 2 * np.pi)
        frame[f"y{c}" if targets > 1 else "y"] = (
            10
            + 3 * np.sin(2 * np.pi * t / 24 + phase)
            + np.sin(2 * np.pi * t / 168)
            + 0.001 * t
            + 0.3 * rng.standard_normal(rows)
        )
    return frame


def model_config(setting: Setting, segment: int) -> ModelConfig:
    return ModelConfig(
        n_targets=setting.targets,
        lookback=setting.lookback,
        horizon=setting.horizon,
        hidden=setting.hidden,
        layers=setting.layers,
        segment=segment,
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


# ---------------------------------------------------------------------------------------
# The three ways to train one epoch


def run_ours(
    windows: WindowSet, config: ModelConfig, args: argparse.Namespace, per_epoch: int
) -> dict[str, float]:
    torch.manual_seed(args.seed)
    model = LSTMForecaster(config)
    cpu: list[float] = []
    sync(windows.series.device)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = train_model(
        model,
        windows,
        epochs=1,
        batch_size=args.batch,
        lr=LR,
        patience=1,
        seed=args.seed,
        max_windows_per_epoch=per_epoch,
        precision=args.precision,
        on_epoch=lambda _: cpu.append(time.process_time() - cpu_started),
    )
    sync(windows.series.device)
    return {
        "epoch_s": float(result.history[0]["seconds"] or 0.0),
        "call_s": time.perf_counter() - started,
        "cpu_s": cpu[0],
        "loss": float(result.history[0]["train_loss"] or 0.0),
    }


def run_bare(
    data: torch.Tensor, config: ModelConfig, args: argparse.Namespace, per_epoch: int
) -> dict[str, float]:
    """The loop a user writes by hand over pre-built windows ``data`` (N, L + H, C)."""
    torch.manual_seed(args.seed)
    model = LSTMForecaster(config).to(data.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(args.seed)
    bf16 = args.precision == "bf16"
    lookback = config.lookback
    sync(data.device)
    started, cpu_started = time.perf_counter(), time.process_time()
    model.train()
    order = torch.randperm(len(data), generator=generator)[:per_epoch].to(data.device)
    total = torch.zeros((), device=data.device)
    for first in range(0, per_epoch, args.batch):
        batch = data[order[first : first + args.batch]]  # (B, L + H, C)
        context, target = batch[:, :lookback], batch[:, lookback:]
        with torch.autocast(data.device.type, dtype=torch.bfloat16, enabled=bf16):
            forecast = model(context)
        loss = loss_fn(forecast.float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
        optimizer.step()
        total += loss.detach() * len(batch)
    mean_loss = float(total.item()) / per_epoch
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"epoch_s": seconds, "call_s": seconds, "cpu_s": cpu, "loss": mean_loss}


def data_handling(
    windows: WindowSet, data: torch.Tensor, batch: int, per_epoch: int, rounds: int = 5
) -> dict[str, float]:
    """Microseconds per batch spent getting (context, target): ours vs bare, nothing else."""
    lookback = windows.lookback
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(data), generator=generator)[:per_epoch].to(data.device)
    firsts = range(0, per_epoch, batch)
    times: dict[str, list[float]] = {"ours": [], "bare": []}
    for _ in range(rounds):
        sync(data.device)
        started = time.perf_counter()
        for first in firsts:
            starts = windows.train_starts[order[first : first + batch]]
            windows.gather(starts)
        sync(data.device)
        times["ours"].append((time.perf_counter() - started) / len(firsts) * 1e6)
        started = time.perf_counter()
        for first in firsts:
            window = data[order[first : first + batch]]  # (B, L + H, C)
            window[:, :lookback], window[:, lookback:]
        sync(data.device)
        times["bare"].append((time.perf_counter() - started) / len(firsts) * 1e6)
    return {k: median(v) for k, v in times.items()}


def run_validation(
    windows: WindowSet, val_windows: WindowSet, config: ModelConfig, args: argparse.Namespace
) -> float:
    """Seconds of one validation pass (train_model runs one per check, see validation_checks)."""
    torch.manual_seed(args.seed)
    model = LSTMForecaster(config).to(windows.series.device)
    autocast = torch.autocast(
        windows.series.device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16"
    )
    sync(windows.series.device)
    started = time.perf_counter()
    evaluate_loss(model, val_windows, val_windows.val_starts, nn.MSELoss(), autocast)
    sync(windows.series.device)
    return time.perf_counter() - started


def run_cli(
    csv: Path, setting: Setting, args: argparse.Namespace, per_epoch: int
) -> dict[str, Any]:
    """`forecaster train --epochs 2` in a fresh process; epoch seconds from the model file."""
    workdir = csv.parent
    config = workdir / "train.toml"
    values = {
        "horizon": setting.horizon,
        "lookback": setting.lookback,
        "hidden": setting.hidden,
        "layers": setting.layers,
        "batch_size": setting.batch,
        "epochs": 2,
        "ensemble": 1,
        "val_fraction": 0.0,
        "max_windows_per_epoch": per_epoch,
        "segment": args.segment_resolved,
        "seed": args.seed,
        "lr": LR,
        "device": args.device,
        "precision": args.precision,
    }
    config.write_text(
        "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n", encoding="utf-8"
    )
    model = workdir / "cli.fcst"
    command = [sys.executable, "-m", "forecaster", "train", str(csv), "-o", str(model)]
    command += ["--config", str(config), "--quiet", "--format", "json"]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"forecaster train failed ({done.returncode}): {done.stderr.strip()}")
    summary = json.loads(done.stdout)
    artifact = load_artifact(model)
    return {
        "wall_s": wall,
        "command_s": float(summary["seconds"]),  # read + fit + save, after imports
        "train_s": float(artifact.summary["seconds"]),  # train_model, both epochs
        "cold_epoch_s": float(artifact.history[0]["seconds"]),  # first calls build kernels
        "epoch_s": float(artifact.history[1]["seconds"]),  # steady state, as in epochs 2-60
        "loss": float(artifact.history[0]["train_loss"]),
    }


# ---------------------------------------------------------------------------------------
# One configuration


def library_windows(
    panel: Panel, setting: Setting, device: torch.device, val_fraction: float
) -> WindowSet:
    split = split_series(panel.lengths, setting.horizon, setting.lookback, val_fraction)
    scaler = fit_scaler(panel, split)
    return make_windows(panel, scaler, split, setting.lookback, setting.horizon, device)


def bare_windows(windows: WindowSet) -> torch.Tensor:
    """Every training window as its own copy: (N, L + H, C), what a hand-written loop uses."""
    span = windows.lookback + windows.horizon
    views = windows.series.unfold(0, span, 1)  # (rows - span + 1, C, span), a view
    return views[windows.train_starts].transpose(1, 2).contiguous()  # (N, L + H, C)


def bench(setting: Setting, args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    per_epoch = args.windows
    rows = args.rows or 2 * per_epoch + setting.lookback + setting.horizon
    frame = synthetic_frame(rows, setting.targets, args.seed)
    schema = Schema(time="ds", targets=[c for c in frame.columns if c != "ds"])
    panel = build_panel(frame, schema)
    segment, lookback = resolve_segment(args.segment, setting.lookback, season_length(FREQ))
    if lookback != setting.lookback:
        raise SystemExit(f"lookback {setting.lookback} is not a multiple of segment {segment}")
    args.segment_resolved, args.batch = segment, setting.batch
    config = model_config(setting, segment)
    windows = library_windows(panel, setting, device, val_fraction=0.0)
    data = bare_windows(windows)
    per_epoch = min(per_epoch, len(windows.train_starts))

    workdir = Path(tempfile.mkdtemp(prefix="fcst-throughput-"))
    csv = workdir / "data.csv"
    frame.to_csv(csv, index=False)

    # Warm-up: first calls build kernels and caches that every later run reuses.
    warm = max(setting.batch, min(per_epoch, 4 * setting.batch))
    run_ours(windows, config, args, warm)
    run_bare(data, config, args, warm)

    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "bare": [], "cli": []}
    for repeat in range(max(args.repeats, args.cli_repeats)):
        kinds = (["ours", "bare"] if repeat < args.repeats else []) + (
            ["cli"] if repeat < args.cli_repeats else []
        )
        # A rotating order, so that a slow spell of a busy machine hits each side in turn.
        for kind in kinds[repeat % len(kinds) :] + kinds[: repeat % len(kinds)]:
            if kind == "ours":
                runs["ours"].append(run_ours(windows, config, args, per_epoch))
            elif kind == "bare":
                runs["bare"].append(run_bare(data, config, args, per_epoch))
            else:
                runs["cli"].append(run_cli(csv, setting, args, per_epoch))

    # The validation pass that `forecaster train` runs at each check by default.
    val_set = library_windows(panel, setting, device, val_fraction=TrainConfig().val_fraction)
    val_seconds = [run_validation(windows, val_set, config, args) for _ in range(3)]
    handling = data_handling(windows, data, setting.batch, per_epoch)
    for path in workdir.iterdir():
        path.unlink()
    workdir.rmdir()

    def rate(run: dict[str, Any]) -> float:
        return per_epoch / run["epoch_s"]

    ratios = [rate(o) / rate(b) for o, b in zip(runs["ours"], runs["bare"], strict=True)]
    cpu_ratios = [b["cpu_s"] / o["cpu_s"] for o, b in zip(runs["ours"], runs["bare"], strict=True)]
    # Each CLI run against the bare run closest in time (the same repeat).
    cli_ratios = [rate(c) / rate(b) for c, b in zip(runs["cli"], runs["bare"], strict=False)]
    batches = math.ceil(per_epoch / setting.batch)
    record: dict[str, Any] = {
        "benchmark": "throughput",
        "setting": setting.__dict__,
        "segment": segment,
        "lstm_steps": setting.lookback // segment,
        "parameters": sum(p.numel() for p in LSTMForecaster(config).parameters()),
        "windows_per_epoch": per_epoch,
        "train_windows": len(windows.train_starts),
        "rows": rows,
        "repeats": args.repeats,
        "precision": args.precision,
        "ours_windows_per_s": median([rate(r) for r in runs["ours"]]),
        "bare_windows_per_s": median([rate(r) for r in runs["bare"]]),
        "ratio_ours_bare": median(ratios),
        "ratios": ratios,
        "ratio_ours_bare_cpu": median(cpu_ratios),
        "cpu_ratios": cpu_ratios,
        "ours_cpu_s": median([r["cpu_s"] for r in runs["ours"]]),
        "bare_cpu_s": median([r["cpu_s"] for r in runs["bare"]]),
        "ours_epoch_s": median([r["epoch_s"] for r in runs["ours"]]),
        "ours_call_s": median([r["call_s"] for r in runs["ours"]]),
        "bare_epoch_s": median([r["epoch_s"] for r in runs["bare"]]),
        "loss_difference": max(
            abs(o["loss"] - b["loss"]) for o, b in zip(runs["ours"], runs["bare"], strict=True)
        ),
        "handling_us_per_batch": handling,
        "step_ms": median([r["epoch_s"] for r in runs["bare"]]) / batches * 1e3,
        "val_windows": len(val_set.val_starts),
        "val_s": median(val_seconds),
        # train_model checks validation every 2,000 windows: this many passes per epoch.
        "val_checks": validation_checks(per_epoch, len(val_set.val_starts)),
        "val_s_per_epoch": median(val_seconds)
        * validation_checks(per_epoch, len(val_set.val_starts)),
        "runs": runs,
    }
    if runs["cli"]:
        record.update(
            cli_windows_per_s=median([rate(r) for r in runs["cli"]]),
            ratio_cli_bare=median(cli_ratios),
            cli_epoch_s=median([r["epoch_s"] for r in runs["cli"]]),
            cli_cold_epoch_s=median([r["cold_epoch_s"] for r in runs["cli"]]),
            cli_train_s=median([r["train_s"] for r in runs["cli"]]),
            cli_command_s=median([r["command_s"] for r in runs["cli"]]),
            cli_wall_s=median([r["wall_s"] for r in runs["cli"]]),
        )
    return record


def label(record: dict[str, Any]) -> str:
    s = record["setting"]
    return (
        f"{s['name']} {s['hidden']}x{s['layers']} L{s['lookback']} H{s['horizon']} "
        f"P{record['segment']}"
    )


def handling_share(record: dict[str, Any]) -> float:
    """Ours' extra data-handling time per batch, as a share of a bare training step."""
    handling = record["handling_us_per_batch"]
    return float((handling["ours"] - handling["bare"]) / (record["step_ms"] * 1e3))


def print_tables(records: list[dict[str, Any]], info: dict[str, Any]) -> None:
    table(
        "Training throughput in one process, one epoch: windows/s (median of repeats); "
        "ratios are medians of the per-repeat ratios ours / bare",
        [
            "configuration",
            "batch",
            "windows",
            "ours win/s",
            "bare win/s",
            "ours/bare",
            "ours/bare (CPU s)",
            "ours s/epoch",
            "bare s/epoch",
            "|loss diff|",
        ],
        [
            [
                label(r),
                r["setting"]["batch"],
                r["windows_per_epoch"],
                r["ours_windows_per_s"],
                r["bare_windows_per_s"],
                f"{r['ratio_ours_bare']:.3f}",
                f"{r['ratio_ours_bare_cpu']:.3f}",
                r["ours_epoch_s"],
                r["bare_epoch_s"],
                f"{r['loss_difference']:.1e}",
            ]
            for r in records
        ],
    )
    table(
        "Data handling alone, microseconds per batch to get (context, target): ours = "
        "WindowSet.gather by index, bare = indexing the pre-built windows",
        ["configuration", "batch", "ours us", "bare us", "bare step ms", "ours extra / step"],
        [
            [
                label(r),
                r["setting"]["batch"],
                r["handling_us_per_batch"]["ours"],
                r["handling_us_per_batch"]["bare"],
                r["step_ms"],
                f"{handling_share(r):+.2%}",
            ]
            for r in records
        ],
    )
    table(
        "`forecaster train --epochs 2` end to end, fresh process each run (median): win/s "
        "of the steady second epoch; cold = first epoch; command = read + fit + save; "
        "wall = the whole process",
        [
            "configuration",
            "batch",
            "CLI win/s",
            "CLI/bare",
            "epoch s",
            "cold epoch s",
            "train_model s",
            "command s",
            "wall s",
            "+val s/epoch",
            "val windows",
        ],
        [
            [
                label(r),
                r["setting"]["batch"],
                r.get("cli_windows_per_s", math.nan),
                f"{r['ratio_cli_bare']:.3f}" if "ratio_cli_bare" in r else "-",
                r.get("cli_epoch_s", math.nan),
                r.get("cli_cold_epoch_s", math.nan),
                r.get("cli_train_s", math.nan),
                r.get("cli_command_s", math.nan),
                r.get("cli_wall_s", math.nan),
                r["val_s_per_epoch"],
                r["val_windows"],
            ]
            for r in records
        ],
    )
    print(
        "\nours/bare (CPU s): the same ratio from the process's CPU time per epoch, which a "
        "busy machine disturbs less than wall time when torch runs one thread."
    )
    print(
        "+val s/epoch: the validation passes `forecaster train` adds to each epoch with the "
        f"default --val-fraction {TrainConfig().val_fraction:g} (at most 3,000 windows, "
        "checked every 2,000 training "
        "windows); not in the ratios."
    )
    print(f"machine: {describe(info)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", type=int, default=8192, help="windows per epoch")
    parser.add_argument("--repeats", type=int, default=7, help="ours/bare pairs")
    parser.add_argument("--cli-repeats", type=int, default=3, help="CLI runs (fresh processes)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's own)"
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument(
        "--segment",
        type=int,
        default=0,
        help="time steps per LSTM step; 0 = what `forecaster train` picks for hourly data "
        "(24 when the lookback holds 4 days), 1 = the LSTM reads every step",
    )
    parser.add_argument(
        "--config",
        type=int,
        nargs="+",
        choices=range(1, len(SETTINGS) + 1),
        default=list(range(1, len(SETTINGS) + 1)),
        help="which configurations to run (1-3)",
    )
    parser.add_argument("--rows", type=int, default=None, help="rows of synthetic data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "throughput.jsonl", help="JSON lines appended here"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    device = select_device(args.device)
    args.device = device.type
    if args.precision == "bf16" and device.type != "cuda":
        print("--precision bf16 applies on GPU only (as in forecaster train): measuring fp32")
        args.precision = "fp32"
    settings = [SETTINGS[i - 1] for i in args.config]
    if args.quick:
        args.windows, args.repeats, args.cli_repeats = 64, 1, 1
        settings = [Setting("tiny", 1, 8, 1, 48, 12, 32)]
    info = machine(args.threads, str(device))
    print(f"machine: {describe(info)}", flush=True)
    records = []
    for setting in settings:
        record = bench(setting, args, device)
        record.update(machine=info, quick=args.quick, loadavg_after=list(os.getloadavg()))
        append_jsonl(args.out, record)
        records.append(record)
        print(
            f"{label(record)} batch {setting.batch}: ours/bare {record['ratio_ours_bare']:.3f} "
            f"({record['ours_windows_per_s']:.0f} vs {record['bare_windows_per_s']:.0f} win/s)",
            flush=True,
        )
    print_tables(records, info)
    print(f"JSON lines appended to {args.out}")


if __name__ == "__main__":
    main()
