"""What covariates are worth: EPF electricity prices with day-ahead forecasts as future
covariates, and ETTh1 with its load columns as past covariates.

Run by hand (minutes; not in CI), from the repository root:

    .venv/bin/python benchmarks/covariates.py                  # EPF, 3 seeds, both variants
    .venv/bin/python benchmarks/covariates.py --case etth1     # ETTh1 h = 96 and 336
    .venv/bin/python benchmarks/covariates.py --variants cov --seeds 0

EPF protocol (../shared/data/epf/electricity-short-with-ex-vars.csv; 4 markets, hourly):
the last 14 days of each market are the test period; one model is trained on everything
before it (`--holdout 336`), then 14 day-ahead forecasts per market, one from each
midnight (h = 24), are scored with the actual values of the future covariates (they are
day-ahead forecasts, known at the origin). MAE in the price unit over the 56 forecasts.
"cov": `Exogenous1`, `Exogenous2` as future covariates and the calendar (hour of day,
weekday); "held": the same model with the two held at their value at the origin (what
the drivers are worth); "none": the targets alone. Seasonal naive (same hour yesterday)
comes from the same backtest.

ETTh1 protocol: the accuracy benchmark's (target OT, 12/4/4 months split, every test
origin; MSE and MAE on the training-scaled series), with HUFL ... LULL as past covariates
beside the univariate model.

Each run appends a JSON line to benchmarks/results/covariates.jsonl.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, append_jsonl, describe, machine, print_table  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
EPF = DATA / "epf" / "electricity-short-with-ex-vars.csv"
TEST_DAYS = 14
OUT = RESULTS / "covariates.jsonl"  # one JSON line per run


def epf_run(variant: str, seed: int, extra: dict[str, Any]) -> dict[str, Any]:
    from forecaster.backtest import backtest
    from forecaster.config import TrainConfig
    from forecaster.data import drop_last, load_panel
    from forecaster.pipeline import fit

    future = ["Exogenous1", "Exogenous2"] if variant in ("cov", "held") else []
    config = TrainConfig(horizon=24, seed=seed, future_covariates=future, **extra).validate()
    panel = load_panel(EPF, future=future, calendar=config.calendar)
    started = time.process_time()
    model, _ = fit(drop_last(panel, TEST_DAYS * 24), config)
    seconds = time.process_time() - started
    scores = {}
    for name, hold in (("actual", False), ("held", True)):
        if name == "held" and not future:
            continue
        result = backtest(model, panel, 24, TEST_DAYS, 24, hold_future=hold)
        scores[name] = float(np.abs(result.forecasts - result.actuals).mean())
    result = backtest(model, panel, 24, TEST_DAYS, 24)
    rows = (panel.offsets[result.series] + result.origins)[:, None] + np.arange(24) - 24
    seasonal = float(np.abs(panel.values[rows] - result.actuals).mean())
    return {"mae": scores, "seasonal_naive": seasonal, "seconds": seconds,
            "forecasts": len(result.series)}  # fmt: skip


def spread(values: list[float], digits: int = 3) -> str:
    """Median over seeds, with min-max when there are several."""
    med = statistics.median(values)
    text = f"{med:.{digits}f}"
    return text + (
        f" ({min(values):.{digits}f}-{max(values):.{digits}f})" if len(values) > 1 else ""
    )


def epf(seeds: list[int], variants: list[str], extra: dict[str, Any]) -> None:
    rows = []
    naive = float("nan")
    for variant in variants:
        runs = [epf_run(variant, seed, extra) for seed in seeds]
        for seed, run in zip(seeds, runs, strict=True):
            append_jsonl(OUT, {"case": "epf", "variant": variant, "seed": seed, **extra, **run,
                               **machine(1)})  # fmt: skip
        naive = runs[0]["seasonal_naive"]
        for key in runs[0]["mae"]:
            values = [r["mae"][key] for r in runs]
            label = {"actual": variant, "held": "cov, drivers held at the origin"}[key]
            seconds = [r["seconds"] for r in runs]
            rows.append([f"forecaster ({label})", spread(values), spread(seconds, 1),
                         runs[0]["forecasts"]])  # fmt: skip
            print(f"{variant}/{key}: {[round(v, 3) for v in values]}", file=sys.stderr)
    rows.append(["seasonal naive (same hour yesterday)", f"{naive:.3f}", "", ""])
    rows.append(["ridge, 168 prices (the issue's yardstick)", "8.77", "", ""])
    rows.append(["ridge, 168 prices + exogenous (the issue's yardstick)", "6.82", "", ""])
    print_table(
        f"EPF day-ahead MAE, seeds {seeds} ({describe(machine())})",
        ["model", "MAE", "train CPU s", "forecasts"],
        rows,
    )


ETT_TRAIN, ETT_VAL, ETT_TEST = 8640, 11520, 14400
LOADS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]


def etth1_run(horizon: int, seed: int, past: list[str]) -> dict[str, float]:
    """The accuracy protocol (benchmarks/accuracy.py), with ``past`` covariates."""
    from forecaster.config import TrainConfig
    from forecaster.data import Panel, load_panel
    from forecaster.inputs import model_inputs, run_model
    from forecaster.pipeline import fit

    panel = load_panel(DATA / "ETTh1.csv", targets=["OT"], past=past)
    covariates = panel.covariates
    train = Panel(
        ids=panel.ids, starts=panel.starts, offsets=np.array([0, ETT_VAL]),
        values=panel.values[:ETT_VAL], freq=panel.freq, schema=panel.schema,
        covariates=None if covariates is None else covariates[:ETT_VAL],
    )  # fmt: skip
    config = TrainConfig(horizon=horizon, seed=seed, past_covariates=past)
    config.val_fraction = (ETT_VAL - ETT_TRAIN) / ETT_VAL
    started = time.process_time()
    model, _ = fit(train, config)
    seconds = time.process_time() - started
    origins = np.arange(ETT_VAL, ETT_TEST - horizon + 1)
    series = np.zeros(len(origins), dtype=np.int64)
    room = model.model_config.input_rows - model.model_config.lookback
    keep = origins + room <= len(panel.values)
    origins, series = origins[keep], series[keep]
    inputs = model_inputs(model, panel, model.scaler, series, origins)
    forecasts = run_model(model, inputs)[..., 0].astype(np.float64)
    scaled = model.scaler.transform(panel.series(0), 0)[:, 0]
    actuals = np.stack([scaled[o : o + horizon] for o in origins])
    return {
        "mse": float(np.mean((forecasts - actuals) ** 2)),
        "mae": float(np.mean(np.abs(forecasts - actuals))),
        "seconds": seconds,
    }


def etth1(seeds: list[int], horizons: list[int]) -> None:
    rows = []
    for horizon in horizons:
        for past in ([], LOADS):
            runs = [etth1_run(horizon, seed, past) for seed in seeds]
            for seed, run in zip(seeds, runs, strict=True):
                append_jsonl(OUT, {"case": "etth1", "horizon": horizon, "past": past,
                                   "seed": seed, **run, **machine(1)})  # fmt: skip
            rows.append([horizon, "six load columns (past)" if past else "none",
                         spread([r["mse"] for r in runs], 4), spread([r["mae"] for r in runs], 4),
                         spread([r["seconds"] for r in runs], 1)])  # fmt: skip
            print(rows[-1], file=sys.stderr)
    print_table(
        f"ETTh1 (target OT), seeds {seeds} ({describe(machine())})",
        ["horizon", "covariates", "MSE", "MAE", "train CPU s"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=["epf", "etth1"], default="epf")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["cov", "none"])
    parser.add_argument("--horizons", type=int, nargs="+", default=[96, 336])
    parser.add_argument("--calendar", default="auto")
    args = parser.parse_args()
    if args.case == "epf":
        epf(args.seeds, args.variants, {"calendar": args.calendar})
    else:
        etth1(args.seeds, args.horizons)


if __name__ == "__main__":
    main()
