"""Accuracy on public benchmarks with their standard protocols, beside published figures.

Run by hand (not in CI), from the repository root:

    python benchmarks/accuracy.py                      # ETTh1 (6 horizons) + M4 Hourly, 3 seeds
    python benchmarks/accuracy.py --dataset m4 --seeds 0
    python benchmarks/accuracy.py --quick              # a smoke run in seconds
    python benchmarks/accuracy.py --set linear_skip=false --variant no-skip   # an ablation
    python benchmarks/accuracy.py --patch check-every=8000 --variant coarse   # not a config key

It drives the same library code as `forecaster train` (data.build_panel, pipeline.fit,
inputs.run_ensemble). Only the horizon and the data split come from the protocol; every other
setting is the default a user gets, unless `--set` overrides it for an ablation.

ETTh1 (univariate, target OT; DLinear/PatchTST protocol): rows [0, 8640) train,
[8640, 11520) validation, [11520, 14400) test; z-score with the training rows' mean and
standard deviation; MSE and MAE on that scale over every test window, stride 1 (inputs may
reach back before the test border).

M4 Hourly: 414 series, horizon 48, one global model; sMAPE and MASE as in the M4
competition (MASE scaled by each series' in-sample seasonal-naive error, m = 24), and
OWA = (sMAPE / 18.383 + MASE / 2.395) / 2 against Naive2's published hourly scores.

Intervals (the model's stored calibration, `forecaster.intervals`): on M4 Hourly the 95%
interval's MSIS and ACD = |coverage - 0.95| as in the competition, beside its official
rows, and the Naive row recomputed here (last value +- 1.96 sigma sqrt(step), sigma the RMS
of the in-sample one-step changes) to check the scoring; on ETTh1 the coverage of the 80%
and 95% intervals over every test window and the scaled pinball loss.

Each run appends a JSON line to benchmarks/results/accuracy.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ablations import parse_overrides, tuning_for  # noqa: E402
from benchmarks.accuracy_report import (  # noqa: E402
    LEVELS as LEVELS,  # benchmarks/intervals.py reads it here
)
from benchmarks.accuracy_report import (  # noqa: E402
    interval_figures,
    m4_naive_intervals,
    m4_scores,
    print_etth1,
    print_etth1_intervals,
    print_m4,
    print_m4_intervals,
)
from benchmarks.common import git_commit  # noqa: E402
from forecaster import outliers  # noqa: E402
from forecaster.artifact import Artifact, checksum  # noqa: E402
from forecaster.artifact import load as load_model  # noqa: E402
from forecaster.artifact import save as save_model  # noqa: E402
from forecaster.calibration import calibrate  # noqa: E402
from forecaster.config import TrainConfig  # noqa: E402
from forecaster.data import Panel, Schema, build_panel, detect_schema, read_table  # noqa: E402
from forecaster.inputs import run_ensemble  # noqa: E402
from forecaster.metrics import mase_scale, seasonal_naive  # noqa: E402
from forecaster.pipeline import fit  # noqa: E402
from forecaster.tuning import TUNING, Tuning  # noqa: E402
from forecaster.uncertainty import error_scales  # noqa: E402
from forecaster.windows import context_windows, split_series  # noqa: E402

ETT_TRAIN, ETT_VAL, ETT_TEST = 8640, 11520, 14400


# ---------------------------------------------------------------------------------------
# ETTh1


def load_etth1(path: Path) -> Panel:
    frame = read_table(path)
    return build_panel(frame, Schema(time="date", targets=["OT"]))


def truncate(panel: Panel, rows: int) -> Panel:
    return Panel(
        ids=panel.ids,
        starts=panel.starts,
        offsets=np.array([0, rows]),
        values=panel.values[:rows],
        freq=panel.freq,
        schema=panel.schema,
    )


def run_etth1(
    panel: Panel,
    horizon: int,
    seed: int,
    overrides: dict[str, Any],
    quick: bool,
    models: tuple[Path, bool] | None = None,
    tuning: Tuning = TUNING,
) -> dict[str, Any]:
    train_rows = ETT_VAL if not quick else 3000
    test_end = ETT_TEST if not quick else 3600
    config = TrainConfig(horizon=horizon, seed=seed, **overrides)
    # The protocol's split: validation is [8640, 11520), a quarter of the rows given to fit.
    config.val_fraction = (ETT_VAL - ETT_TRAIN) / ETT_VAL
    if quick:
        config.epochs, config.hidden = 2, 8
    started = time.perf_counter()
    artifact, summary, train_seconds = fit_or_load(
        truncate(panel, train_rows), config, models, f"etth1-h{horizon}-seed{seed}.fcst", tuning
    )
    fit_wall = time.perf_counter() - started
    lookback = artifact.model_config.lookback
    origins = np.arange(train_rows, test_end - horizon + 1)
    # As `evaluate` reads them: outliers filled before the first test origin (none in OT).
    read = outliers.cleaned(panel, config.outliers, until=np.array([train_rows]))
    contexts = context_windows(
        read, artifact.scaler, lookback, np.zeros(len(origins), int), origins
    )
    scaled_forecasts, spread = run_ensemble(artifact, contexts)
    forecasts = scaled_forecasts[..., 0].astype(np.float64)
    scaled = artifact.scaler.transform(panel.series(0), 0)[:, 0]
    actuals = np.stack([scaled[o : o + horizon] for o in origins])
    mse = float(np.mean((forecasts - actuals) ** 2))
    mae = float(np.mean(np.abs(forecasts - actuals)))
    intervals = None
    if artifact.intervals is not None:  # in data units, scaled as MASE (m = 24)
        std, mean = artifact.scaler.std[0, 0], artifact.scaler.mean[0, 0]
        raw = panel.series(0)[:, 0]
        history = [raw[:o, None] for o in origins]
        intervals = interval_figures(
            artifact,
            forecasts * std + mean,
            spread[..., 0] * std,
            np.stack([raw[o : o + horizon] for o in origins]),
            error_scales(artifact, panel, np.zeros(len(origins), int), origins),
            mase_scale(history, 24)[:, 0],
        )
    # Seasonal naive (m = 24) on the same windows and scale.
    snaive = np.stack([scaled[o - 24 : o][np.arange(horizon) % 24] for o in origins])
    return {
        "dataset": "ETTh1",
        "horizon": horizon,
        "seed": seed,
        "metrics": {"mse": mse, "mae": mae},
        "seasonal_naive": {
            "mse": float(np.mean((snaive - actuals) ** 2)),
            "mae": float(np.mean(np.abs(snaive - actuals))),
        },
        "lookback": lookback,
        "epochs": summary["epochs_run"],
        "best_epoch": summary["best_epoch"],
        "seconds": round(time.perf_counter() - started + train_seconds - fit_wall, 1),
        "train_seconds": round(train_seconds, 1),
        "test_windows": len(origins),
        "intervals": intervals,
    }


def load_uncalibrated(path: Path) -> Artifact:
    """A saved model without its intervals, so that a model calibrated by an earlier
    version of the code (whose interval tensors this one would refuse) can be calibrated
    again: the intervals' tensors and metadata dropped, the checksum recomputed."""
    import tempfile

    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(path, "np") as handle:
        meta = json.loads(handle.metadata()["forecaster"])
    tensors = {k: v for k, v in load_file(path).items() if not k.startswith("intervals.")}
    meta["intervals"] = None
    text = json.dumps(meta, allow_nan=True)
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / path.name
        save_file(tensors, copy, metadata={"forecaster": text, "checksum": checksum(text, tensors)})
        return load_model(copy)


# --nproc N: train through `forecaster train --nproc N` (a subprocess) instead of fit().
NPROC: int | None = None


def fit_by_cli(panel: Panel, config: TrainConfig, nproc: int) -> tuple[Artifact, float]:
    """Train as a user would with ``--nproc``: the panel as a long CSV, the config's
    non-default values as a --config file; returns the model and the command's wall time."""
    import subprocess
    import tempfile

    defaults = dataclasses.asdict(TrainConfig())
    values = {k: v for k, v in dataclasses.asdict(config).items()
              if v != defaults[k] and isinstance(v, (int, float, str))}  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        data, toml, model = (Path(directory) / n for n in ("data.csv", "c.toml", "m.fcst"))
        frames = [
            pd.DataFrame(
                {"unique_id": panel.ids[i], "ds": panel.index(i), "y": panel.series(i)[:, 0]}
            )
            for i in range(panel.n_series)
        ]
        pd.concat(frames).to_csv(data, index=False)
        toml.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "forecaster", "train", str(data), "-o", str(model),
             "--config", str(toml), "--nproc", str(nproc), "-q"],
            check=True, cwd=ROOT,  # this checkout's package, wherever the harness runs from
        )  # fmt: skip
        seconds = time.perf_counter() - started
        artifact = load_model(model)
    assert list(artifact.ids) == list(panel.ids)
    return artifact, seconds


def fit_or_load(
    panel: Panel,
    config: TrainConfig,
    models: tuple[Path, bool] | None,
    name: str,
    tuning: Tuning = TUNING,
) -> tuple[Artifact, dict[str, Any], float]:
    """Train (and save, with ``models`` = (DIR, False)), or load the model trained before
    (``models`` = (DIR, True)) and calibrate its intervals again with this checkout's code.

    Returns the model, its training summary and the seconds of the fit: for a loaded
    model, those of its training run with the calibration measured now in place of the
    one it ran then (the weights, hence the point forecast, are the same).
    """
    if models is not None and models[1]:
        artifact = load_uncalibrated(models[0] / name)
        started = time.perf_counter()
        lookback, horizon = artifact.model_config.lookback, artifact.model_config.horizon
        split = split_series(panel.lengths, horizon, lookback, config.val_fraction)
        artifact.intervals = calibrate(artifact, panel, split)
        seconds = time.perf_counter() - started
        old = artifact.summary.get("calibration_seconds", 0.0)
        return artifact, artifact.summary, artifact.summary["seconds"] - old + seconds
    if NPROC is not None:
        artifact, seconds = fit_by_cli(panel, config, NPROC)
        return artifact, artifact.summary, seconds
    started = time.perf_counter()
    artifact, _ = fit(panel, config, tuning=tuning)
    seconds = time.perf_counter() - started
    if models is not None:
        save_model(artifact, models[0] / name)
    return artifact, artifact.summary, seconds


# ---------------------------------------------------------------------------------------
# M4 Hourly


def load_m4_hourly(directory: Path, limit: int | None = None) -> tuple[Panel, np.ndarray]:
    train = pd.read_csv(directory / "Hourly-train.csv")
    test = pd.read_csv(directory / "Hourly-test.csv")
    if limit:
        train, test = train.head(limit), test.head(limit)
    rows = []
    for _, row in train.iterrows():
        values = row.iloc[1:].dropna().to_numpy(dtype=np.float64)
        # M4 gives no timestamps: every series gets an hourly index from the same start.
        rows.append(
            pd.DataFrame(
                {
                    "unique_id": row.iloc[0],
                    "ds": pd.date_range("2000-01-01", periods=len(values), freq="h"),
                    "y": values,
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    panel = build_panel(frame, detect_schema(frame))
    order = {sid: i for i, sid in enumerate(test.iloc[:, 0])}
    actuals = test.iloc[:, 1:].to_numpy(dtype=np.float64)[[order[s] for s in panel.ids]]
    return panel, actuals


def run_m4(
    panel: Panel,
    actuals: np.ndarray,
    seed: int,
    overrides: dict[str, Any],
    quick: bool,
    models: tuple[Path, bool] | None = None,
    tuning: Tuning = TUNING,
) -> dict[str, Any]:
    config = TrainConfig(horizon=48, seed=seed, **overrides)
    if quick:
        config.epochs, config.hidden = 2, 8
    started = time.perf_counter()
    artifact, summary, train_seconds = fit_or_load(
        panel, config, models, f"m4-seed{seed}.fcst", tuning
    )
    fit_wall = time.perf_counter() - started
    # As `predict` reads them: outliers filled as training filled them (8 values in 6 series).
    read = outliers.cleaned(panel, config.outliers)
    contexts = context_windows(read, artifact.scaler, artifact.model_config.lookback)
    scaled, spread = run_ensemble(artifact, contexts)
    forecasts = artifact.scaler.inverse(scaled.astype(np.float64), np.arange(panel.n_series))
    forecasts, spread = forecasts[..., 0], spread[..., 0] * artifact.scaler.std[:, :1]
    history = [panel.series(i) for i in range(panel.n_series)]
    snaive = seasonal_naive(history, 48, 24)[..., 0]
    intervals = None
    if artifact.intervals is not None:
        error_scale = error_scales(artifact, None, np.arange(panel.n_series), panel.lengths)
        intervals = interval_figures(
            artifact, forecasts, spread, actuals, error_scale, mase_scale(history, 24)[:, 0]
        )
    return {
        "dataset": "M4 Hourly",
        "horizon": 48,
        "seed": seed,
        "metrics": m4_scores(forecasts, actuals, panel),
        "seasonal_naive": m4_scores(snaive, actuals, panel),
        "lookback": artifact.model_config.lookback,
        "epochs": summary["epochs_run"],
        "best_epoch": summary["best_epoch"],
        "seconds": round(time.perf_counter() - started + train_seconds - fit_wall, 1),
        "train_seconds": round(train_seconds, 1),
        "series": panel.n_series,
        "intervals": intervals,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--dataset", choices=["etth1", "m4", "all"], default="all")
    parser.add_argument("--horizons", type=int, nargs="+", default=[24, 48, 96, 192, 336, 720])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a TrainConfig default (ablation)",
    )
    parser.add_argument(
        "--patch",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="ablate a non-config choice (see tuning_for): zero-head, no-lstsq, adamw=WD, ...",
    )
    parser.add_argument("--variant", default="default", help="label for the JSON lines")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument(
        "--save-models",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write each trained model to DIR (for benchmarks/intervals.py)",
    )
    parser.add_argument(
        "--from-models",
        type=Path,
        default=None,
        metavar="DIR",
        help="load the models --save-models wrote instead of training, and calibrate their "
        "intervals again (the point figures are those of the run that trained them)",
    )
    parser.add_argument(
        "--nproc",
        type=int,
        default=None,
        metavar="N",
        help="train through `forecaster train --nproc N` (a subprocess; seconds are its wall "
        "time, CSV reading and process start included)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "accuracy.jsonl"
    )
    args = parser.parse_args()
    global NPROC
    NPROC = args.nproc
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = parse_overrides(args.overrides)
    tuning = tuning_for(args.patch)
    if args.nproc is not None and tuning != TUNING:
        raise SystemExit("--patch applies to this process only: not with --nproc")
    # fit() sets torch's threads from the config: pass the harness' own on.
    overrides.setdefault("threads", torch.get_num_threads())
    if args.quick:
        args.horizons, args.seeds = args.horizons[:1], args.seeds[:1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.save_models is not None:
        args.save_models.mkdir(parents=True, exist_ok=True)
    models = None
    if args.save_models is not None or args.from_models is not None:
        models = (args.from_models or args.save_models, args.from_models is not None)
    commit = git_commit()

    def record(run: dict[str, Any]) -> None:
        run.update(
            variant=args.variant,
            overrides=overrides,
            patches=args.patch,
            commit=commit,
            threads=torch.get_num_threads(),
            quick=args.quick,
            torch=torch.__version__,
        )
        with args.out.open("a") as handle:
            handle.write(json.dumps(run) + "\n")
        print(
            json.dumps(
                {k: run[k] for k in ("dataset", "horizon", "seed", "metrics", "epochs", "seconds")}
            ),
            flush=True,
        )

    if args.dataset in ("etth1", "all"):
        panel = load_etth1(args.data_dir / "ETTh1.csv")
        etth1: dict[int, list[dict[str, Any]]] = {}
        for horizon in args.horizons:
            for seed in args.seeds:
                run = run_etth1(panel, horizon, seed, overrides, args.quick, models, tuning)
                record(run)
                etth1.setdefault(horizon, []).append(run)
        print_etth1(etth1)
        print_etth1_intervals(etth1)
    if args.dataset in ("m4", "all"):
        panel, actuals = load_m4_hourly(args.data_dir / "m4", limit=20 if args.quick else None)
        m4 = []
        for seed in args.seeds:
            run = run_m4(panel, actuals, seed, overrides, args.quick, models, tuning)
            record(run)
            m4.append(run)
        print_m4(m4)
        print_m4_intervals(m4, m4_naive_intervals(panel, actuals))
    print(
        f"\ncommit {commit}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"JSON lines in {args.out}"
    )


if __name__ == "__main__":
    main()
