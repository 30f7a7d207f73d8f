"""Memory and time against data size: read a long CSV, train one epoch, predict every series.

Run by hand (not in CI), from the repository root:

    python benchmarks/scale.py                         # 1e5, 1e6, 1e7 rows
    python benchmarks/scale.py --rows 100000 1000000   # some sizes only
    python benchmarks/scale.py --full-epoch-upto 1e6  # uncapped epochs up to 1e6 (default 1e5)
    python benchmarks/scale.py --quick                 # a smoke run in seconds

The script writes synthetic long-format CSVs (``unique_id,ds,y``; hourly series of
``--steps`` rows each, so 1e7 rows is 1000 series of 10,000 steps) into ``--workdir`` (a
temporary folder unless given; given, the files are kept and reused). Each size runs in a
fresh process doing what `forecaster train` and `forecaster predict` do, stage by stage:

    read      data.read_table + detect_schema + build_panel (the CLI's load_panel)
    fit       pipeline.fit with the defaults, --epochs 1 and --ensemble 1: split, scalers,
              windows, the least-squares fit of the linear skip, one epoch (at most
              max_windows_per_epoch = 20,000 training windows, plus the validation over
              at most 3,000 windows every 2,000 training windows), packaging the artifact
    save      artifact.save
    predict   forecast.predict for every series, from the context stored in the model and
              from the data's own tail (what `forecaster predict -m M data.csv` does)

Peak RSS is the child's ru_maxrss as the kernel reports it to the parent (wait4), and
RSS after each stage shows where it was reached. "ms/1k win" is the training part of the
epoch per 1,000 windows: constant across sizes means a full epoch grows linearly with rows.

Each size appends a JSON line to benchmarks/results/scale.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, append_jsonl, describe, machine  # noqa: E402
from benchmarks.common import print_table as table  # noqa: E402

STAGES = ("imports", "read", "fit", "save", "predict", "predict_data")


# ---------------------------------------------------------------------------------------
# Data


def series_values(rng: Any, count: int, t: Any) -> Any:
    """``count`` hourly series over steps ``t``: daily cycles at different levels, noise."""
    import numpy as np

    level = rng.uniform(10, 1000, (count, 1))
    phase = rng.uniform(0, 2 * np.pi, (count, 1))
    return level * (
        1 + 0.2 * np.sin(2 * np.pi * t / 24 + phase) + 0.05 * rng.standard_normal((count, len(t)))
    )


def generate(path: Path, series: int, steps: int, seed: int = 0) -> None:
    """A long CSV of hourly series with daily cycles at different levels, written in chunks."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2020-01-01", periods=steps, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    stamps = np.asarray(stamps, dtype=object)
    t = np.arange(steps)
    partial = path.with_suffix(".partial")
    chunk = max(1, 1_000_000 // steps)
    with partial.open("w", encoding="utf-8") as handle:
        for first in range(0, series, chunk):
            count = min(chunk, series - first)
            values = series_values(rng, count, t)
            frame = pd.DataFrame(
                {
                    "unique_id": np.repeat([f"s{first + k:05d}" for k in range(count)], steps),
                    "ds": np.tile(stamps, count),
                    "y": values.ravel(),
                }
            )
            frame.to_csv(handle, header=first == 0, index=False, float_format="%.4f")
    partial.rename(path)


def generate_parquet(path: Path, series: int, steps: int, seed: int = 0) -> None:
    """The same series as `generate`, as one Parquet file (string ids, typed timestamps).

    Written by pyarrow one row group of about a million rows at a time, so that 10^8 rows
    never sit in memory at once.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    stamps = pa.array(pd.date_range("2020-01-01", periods=steps, freq="h").as_unit("us"))
    t = np.arange(steps)
    schema = pa.schema(
        [("unique_id", pa.string()), ("ds", pa.timestamp("us")), ("y", pa.float64())]
    )
    partial = path.with_suffix(".partial")
    chunk = max(1, 1_000_000 // steps)
    with pq.ParquetWriter(partial, schema) as writer:
        for first in range(0, series, chunk):
            count = min(chunk, series - first)
            values = series_values(rng, count, t)
            names = pa.array([f"s{first + k:06d}" for k in range(count)])
            ids = pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(count, dtype=np.int32), steps)), names
            ).cast(pa.string())
            table = pa.Table.from_arrays(
                [ids, pa.concat_arrays([stamps] * count), pa.array(values.ravel().round(4))],
                schema=schema,
            )
            writer.write_table(table)
    partial.rename(path)


# ---------------------------------------------------------------------------------------
# One size, in a fresh process


def rss_now_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(args: argparse.Namespace) -> None:
    """Run the stages on ``args.child`` and write their times and memory as JSON."""
    report: dict[str, Any] = {"stages": {}}

    def stage(name: str, started: float, **extra: Any) -> None:
        report["stages"][name] = {
            "s": time.perf_counter() - started,
            "rss_mb": rss_now_mb(),
            "peak_mb": peak_mb(),
            **extra,
        }

    started = time.perf_counter()
    import torch

    from forecaster import artifact as artifact_io
    from forecaster import distributed, train
    from forecaster.config import TrainConfig
    from forecaster.data import build_panel, detect_schema, read_table
    from forecaster.forecast import predict
    from forecaster.pipeline import fit, train_share

    if args.threads:
        torch.set_num_threads(args.threads)
    report["threads"] = torch.get_num_threads()
    world = distributed.start("cpu")  # one process: nothing to join
    report["processes"] = world.size
    stage("imports", started)

    started = time.perf_counter()
    frame = read_table(args.child)
    read_s = time.perf_counter() - started
    schema = detect_schema(frame)
    panel = build_panel(frame, schema, source=str(args.child))
    del frame
    stage("read", started, read_table_s=read_s, rows=int(panel.lengths.sum()))

    # Time the validation pass inside the epoch, so that training windows/s can be told apart.
    validation = {"s": 0.0}
    evaluate_loss = train.evaluate_loss

    def timed_evaluate_loss(*a: Any, **k: Any) -> float:
        begun = time.perf_counter()
        try:
            return evaluate_loss(*a, **k)
        finally:
            validation["s"] += time.perf_counter() - begun

    train.evaluate_loss = timed_evaluate_loss
    # fit() sets torch's threads from the config: pass the benchmark's own on.
    # One network for one epoch (the default ensemble trains three, one after another).
    config = TrainConfig(epochs=1, ensemble=1, seed=0, threads=torch.get_num_threads())
    if args.max_windows is not None:
        config.max_windows_per_epoch = args.max_windows
    if args.hidden:
        config.hidden = args.hidden
    started = time.perf_counter()
    if not world.main:  # its share of the epoch; its memory reaches the parent through wait4
        train_share(panel, config, world)
        distributed.stop()
        return
    artifact, result = fit(panel, config, world=world)
    distributed.stop()
    train_windows = int(artifact.summary["train_windows"])
    per_epoch = min(train_windows, config.max_windows_per_epoch)
    epoch_s = float(result.history[0]["seconds"] or 0.0)
    stage(
        "fit",
        started,
        train_model_s=result.seconds,
        epoch_s=epoch_s,
        val_s=validation["s"],
        train_s=epoch_s - validation["s"],
        windows_per_epoch=per_epoch,
        train_windows=train_windows,
        val_windows=int(artifact.summary["val_windows"]),
        lookback=artifact.model_config.lookback,
        horizon=artifact.model_config.horizon,
        segment=artifact.model_config.segment,
        hidden=artifact.model_config.hidden,
        batch_size=config.batch_size,
    )

    started = time.perf_counter()
    model_path = Path(args.report).with_suffix(".fcst")
    artifact_io.save(artifact, model_path)
    stage("save", started, bytes=model_path.stat().st_size)

    started = time.perf_counter()
    loaded = artifact_io.load(model_path)
    forecast = predict(loaded)
    stage("predict", started, forecast_rows=len(forecast))

    started = time.perf_counter()
    forecast = predict(loaded, panel)
    stage("predict_data", started, forecast_rows=len(forecast))
    model_path.unlink()
    Path(args.report).write_text(json.dumps(report), encoding="utf-8")


def run_child(csv: Path, args: argparse.Namespace, max_windows: int | None) -> dict[str, Any]:
    """One size in a fresh process; its peak RSS comes from the kernel via wait4."""
    report = csv.with_suffix(".report.json")
    command = [sys.executable, __file__, "--child", str(csv), "--report", str(report)]
    if args.nproc > 1:  # as `forecaster train --nproc N` launches them
        launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]
        command = [sys.executable, *launcher, str(args.nproc), *command[1:]]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if max_windows is not None:
        command += ["--max-windows", str(max_windows)]
    if args.hidden:
        command += ["--hidden", str(args.hidden)]
    started = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads or 1)} if args.nproc > 1 else None
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"the measurement of {csv.name} failed (exit {process.returncode})")
    out = json.loads(report.read_text(encoding="utf-8"))
    report.unlink()
    out.update(wall_s=wall, peak_rss_mb=usage.ru_maxrss / 1024)
    return out


# ---------------------------------------------------------------------------------------


def size_label(record: dict[str, Any]) -> str:
    label = f"{record['rows']:,}" + (" full" if record["uncapped"] else "")
    processes = record.get("processes", 1)
    return label + (f" x {processes} proc" if processes > 1 else "")


def print_tables(records: list[dict[str, Any]], info: dict[str, Any]) -> None:
    rows = []
    for r in records:
        st = r["stages"]
        fit = st["fit"]
        rows.append(
            [
                size_label(r),
                r["series"],
                f"{r['csv_mb']:.0f}",
                f"{r['peak_rss_mb']:,.0f}",
                st["read"]["s"],
                fit["s"],
                fit["epoch_s"],
                fit["windows_per_epoch"],
                fit["train_s"] / fit["windows_per_epoch"] * 1e6,  # ms per 1,000 windows
                fit["val_s"],
                st["predict"]["s"],
                st["predict_data"]["s"],
                r["wall_s"],
            ]
        )
    table(
        "Scale: read + fit one epoch + predict every series, one fresh process per size",
        [
            "rows",
            "series",
            "file MB",
            "peak RSS MB",
            "read s",
            "fit s",
            "epoch s",
            "windows",
            "ms/1k win",
            "val s",
            "predict s",
            "predict data s",
            "wall s",
        ],
        rows,
    )
    table(
        "Where memory goes: RSS (MB) after each stage, peak so far in brackets",
        ["rows", *STAGES],
        [
            [size_label(r)]
            + [
                f"{r['stages'][s]['rss_mb']:,.0f} ({r['stages'][s]['peak_mb']:,.0f})"
                for s in STAGES
            ]
            for r in records
        ],
    )
    fit_rows = [
        [
            size_label(r),
            r["stages"]["fit"]["train_windows"],
            r["stages"]["fit"]["val_windows"],
            r["stages"]["read"]["read_table_s"],
            r["stages"]["read"]["s"] - r["stages"]["read"]["read_table_s"],
            r["stages"]["fit"]["s"] - r["stages"]["fit"]["train_model_s"],
            r["stages"]["fit"]["train_model_s"],
            r["stages"]["fit"]["train_windows"]
            * r["stages"]["fit"]["train_s"]
            / r["stages"]["fit"]["windows_per_epoch"],
        ]
        for r in records
    ]
    table(
        "Time by part (s): parsing the CSV, building the panel, fit outside train_model "
        "(split, scalers, windows, packaging), train_model; and a full uncapped epoch "
        "extrapolated from ms/1k win",
        [
            "rows",
            "train windows",
            "val windows",
            "read_table",
            "build_panel",
            "fit setup+pack",
            "train_model",
            "full epoch (est.)",
        ],
        fit_rows,
    )
    fit0 = records[0]["stages"]["fit"] if records else {}
    if fit0:
        print(
            f"\nmodel: lookback {fit0['lookback']}, horizon {fit0['horizon']}, segment "
            f"{fit0['segment']}, hidden {fit0['hidden']} x 2, batch {fit0['batch_size']} "
            "(the defaults for hourly data)"
        )
    print(f"machine: {describe(info)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=float, nargs="+", default=[1e5, 1e6, 1e7], help="sizes in rows"
    )
    parser.add_argument("--steps", type=int, default=10_000, help="rows per series")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="the data file's format"
    )
    parser.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="processes for the fit (gloo ranks under torch.distributed.run); each reads "
        "the data; peak RSS is the largest process's",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="keep and reuse CSVs here")
    parser.add_argument(
        "--full-epoch-upto",
        type=float,
        default=1e5,
        help="also run an uncapped epoch (every training window) for sizes up to this many "
        "rows (0: never)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.jsonl")
    # Internal: one measurement in a fresh process.
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--max-windows", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.quick:
        args.rows, args.steps, args.hidden, args.full_epoch_upto = [2e3, 2e4], 1000, 8, 2e3
    info = machine(args.threads)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fcst-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {describe(info)}", flush=True)
    records: list[dict[str, Any]] = []
    try:
        for rows in sorted(int(r) for r in args.rows):
            series = max(1, rows // args.steps)
            csv = workdir / f"long_{series}x{args.steps}.{args.format}"
            if not csv.exists():
                started = time.perf_counter()
                (generate_parquet if args.format == "parquet" else generate)(
                    csv, series, args.steps
                )
                print(
                    f"wrote {csv} ({series} x {args.steps} rows) in "
                    f"{time.perf_counter() - started:.1f} s",
                    flush=True,
                )
            caps: list[int | None] = [256 if args.quick else None]  # None: the tool's default
            if rows <= args.full_epoch_upto:
                caps.append(10**9)  # every training window
            for max_windows in caps:
                record = run_child(csv, args, max_windows)
                record.update(
                    benchmark="scale",
                    rows=series * args.steps,
                    series=series,
                    steps=args.steps,
                    csv_mb=csv.stat().st_size / 2**20,
                    uncapped=max_windows == 10**9,
                    machine=info,
                    quick=args.quick,
                    processes=args.nproc,
                    format=args.format,
                    loadavg_after=list(os.getloadavg()),
                )
                info["threads"] = record["threads"]
                append_jsonl(args.out, record)
                records.append(record)
                fit = record["stages"]["fit"]
                print(
                    f"{record['rows']:,} rows{' (full epoch)' if record['uncapped'] else ''}: "
                    f"peak RSS {record['peak_rss_mb']:,.0f} MB, read "
                    f"{record['stages']['read']['s']:.1f} s, epoch {fit['epoch_s']:.1f} s "
                    f"({fit['windows_per_epoch']} windows), predict "
                    f"{record['stages']['predict']['s']:.2f} s, wall {record['wall_s']:.1f} s",
                    flush=True,
                )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print_tables(records, info)
    print(f"JSON lines appended to {args.out}")


if __name__ == "__main__":
    main()
