"""Ablation of interval calibrations on trained models, scored on the test set.

Run by hand, on models that `benchmarks/accuracy.py --save-models DIR` wrote:

    python benchmarks/accuracy.py --save-models /tmp/models
    python benchmarks/intervals.py /tmp/models/m4-seed*.fcst
    python benchmarks/intervals.py --dataset etth1 /tmp/models/etth1-h96-seed*.fcst

Every variant is calibrated on the same validation windows of the same trained network, so
the point forecast (and its accuracy) is the same for all; only the bounds differ. Each is
split conformal on the validation errors divided by a normaliser:

- global: each series' in-sample seasonal-naive MAE over all its training rows (MASE's
  scale), one quantile table per step for all series;
- validation difficulty: that scale times the series' own validation MAE in those units,
  shrunk toward the median series with a prior of P windows (the same errors then give the
  quantiles);
- training difficulty: the same, measured on the series' last K training windows;
- spread: the ensemble members' standard deviation at that window and step, plus W times
  the training-difficulty scale (W = 0: the spread alone);
- symmetric: quantiles of |error| (one width on each side);
- recent scale: the seasonal-naive MAE of the last N seasonal cycles before each window's
  origin (or the lookback) instead of all training rows, times the training difficulty;
- recency: validation windows weighted exp(-age / (tau x the validation rows));
- the horizon before the origin: the difficulty blended with the model's MAE on the H rows
  just before each window's origin (`intervals.with_recent`, prior P windows' weight for
  the training difficulty). forecaster's default is the spread + 1 x the 28-cycle scale
  x this, recency-weighted, P = 4; the last row is forecaster's own
  `calibration.calibrate`, which must reproduce it (up to the split-conformal correction,
  which the weighted rows here leave out).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import (  # noqa: E402
    ETT_TEST,
    ETT_VAL,
    LEVELS,
    load_etth1,
    load_m4_hourly,
    load_uncalibrated,
)
from forecaster import inference  # noqa: E402
from forecaster.artifact import Artifact  # noqa: E402
from forecaster.calibration import calibrate  # noqa: E402
from forecaster.data import Panel  # noqa: E402
from forecaster.intervals import (  # noqa: E402
    DIFFICULTY_WINDOWS,
    RECENT_PRIOR,
    calibration_origins,
    conformal_quantiles,
    quantiles_at,
    with_recent,
)
from forecaster.metrics import (  # noqa: E402
    hold_forecast,
    interval_scores,
    mase_scale,
    scoring_probabilities,
)
from forecaster.seasons import season_length  # noqa: E402
from forecaster.uncertainty import error_scales, model_bounds, recent_difficulty  # noqa: E402
from forecaster.windows import Split, context_windows, split_series  # noqa: E402


def weighted_quantiles(
    scores: np.ndarray, weights: np.ndarray, probabilities: list[float]
) -> np.ndarray:
    """Quantiles (H, Q, C) of scores (N, H, C) whose windows weigh ``weights`` (N,): the
    smallest score whose cumulative weight reaches p (no finite-sample correction)."""
    order = np.argsort(scores, axis=0)
    ordered = np.take_along_axis(scores, order, axis=0)
    cumulative = np.cumsum(weights[order], axis=0) / weights.sum()
    columns = []
    for p in probabilities:
        index = (cumulative >= p - 1e-12).argmax(axis=0)
        columns.append(np.take_along_axis(ordered, index[None], axis=0)[0])
    return np.stack(columns, axis=1)


def score(
    bounds: np.ndarray, points: np.ndarray, actuals: np.ndarray, scale: np.ndarray
) -> dict[str, float]:
    probabilities = scoring_probabilities(LEVELS)
    held = hold_forecast(bounds, points, probabilities)[..., 0]
    s = interval_scores(held, actuals[..., 0], scale, LEVELS)
    return {
        "msis_95": s.msis["95"],
        "acd_95": abs(s.coverage["95"] - 0.95),
        "coverage_95": s.coverage["95"],
        "coverage_80": s.coverage["80"],
        "pinball": s.pinball,
    }


# Seasonal cycles before the origin whose seasonal-naive MAE is the "local" scale (0: the
# lookback); forecaster uses 28 (`intervals.LOCAL_SEASONS`).
LOCAL_CYCLES = (0, 14, 21, 28, 56, 84)


def seasonal_mae(history: list[np.ndarray], season: int) -> np.ndarray:
    """In-sample seasonal-naive MAE of each history (N, C), lag 1 where that is 0."""
    scale = mase_scale(history, season)
    return np.where(scale > 0, scale, mase_scale(history, 1))


@dataclass
class Case:
    """A trained model, the panel its windows come from, and its test windows."""

    artifact: Artifact
    panel: Panel
    split: Split
    test_series: np.ndarray
    test_origins: np.ndarray
    test_actuals: np.ndarray  # (N, H, C)


def m4_case(path: Path, panel: Panel, actuals: np.ndarray) -> Case:
    artifact = load_uncalibrated(path)
    config = artifact.model_config
    split = split_series(
        panel.lengths, config.horizon, config.lookback, artifact.train_config.val_fraction
    )
    everyone = np.arange(panel.n_series)
    return Case(artifact, panel, split, everyone, panel.lengths.copy(), actuals[..., None])


def etth1_case(path: Path, panel: Panel) -> Case:
    """The accuracy protocol: trained on rows [0, 11520), tested on every window of
    [11520, 14400), stride 1 (the rows before each origin as its history)."""
    artifact = load_uncalibrated(path)
    config = artifact.model_config
    horizon = config.horizon
    split = split_series(
        np.array([ETT_VAL]), horizon, config.lookback, artifact.train_config.val_fraction
    )
    origins = np.arange(ETT_VAL, ETT_TEST - horizon + 1)
    rows = origins[:, None] + np.arange(horizon)
    return Case(artifact, panel, split, np.zeros(len(origins), np.int64), origins,
                panel.values[rows])  # fmt: skip


def run(case: Case) -> dict[str, dict[str, float]]:
    artifact, panel, split = case.artifact, case.panel, case.split
    config = artifact.model_config
    horizon, lookback = config.horizon, config.lookback
    season = season_length(panel.freq)
    n_series = panel.n_series

    def windows(series: np.ndarray, origins: np.ndarray) -> dict[str, np.ndarray]:
        """Members' forecasts in data units: their mean and spread (N, H, C), and the
        in-sample seasonal-naive MAE of the rows before each origin (all of them, and the
        last ``lookback``)."""
        contexts = context_windows(panel, artifact.scaler, lookback, series, origins)
        members = inference.run_members(artifact.weights, config, contexts).astype(np.float64)
        std, mean = artifact.scaler.std[series], artifact.scaler.mean[series]
        members = members * std[None, :, None, :] + mean[None, :, None, :]
        history = [panel.series(int(s))[: int(o)] for s, o in zip(series, origins, strict=True)]
        out = {
            "series": series,
            "point": members.mean(axis=0),
            "spread": members.std(axis=0),
            "mase": mase_scale(history, season),
        }
        for cycles in LOCAL_CYCLES:
            recent = [h[-(cycles * season or lookback) :] for h in history]
            out[f"local{cycles}"] = seasonal_mae(recent, season)
        if bool((origins + horizon <= panel.lengths[series]).all()):
            out["actual"] = panel.values[
                (panel.offsets[series] + origins)[:, None] + np.arange(horizon)
            ]
        return out

    val_series, val_origins = calibration_origins(split.n_train, split.n_val, horizon)
    val = windows(val_series, val_origins)
    test = windows(case.test_series, case.test_origins)
    test["actual"] = case.test_actuals
    base = seasonal_mae([panel.series(s)[: int(n)] for s, n in enumerate(split.n_train)], season)
    probabilities = scoring_probabilities(LEVELS)
    val_errors = val["actual"] - val["point"]
    results: dict[str, dict[str, float]] = {}

    def conformal(
        name: str, val_scale: np.ndarray, test_scale: np.ndarray, weight: float | None = None,
        symmetric: bool = False, recency: float | None = None,
    ) -> None:  # fmt: skip
        """Normaliser: the windows' scale (N, C), or the spread + ``weight`` x it."""
        val_norm = np.broadcast_to(val_scale[:, None, :], val_errors.shape)
        test_norm = np.broadcast_to(test_scale[:, None, :], test["point"].shape)
        if weight is not None:
            val_norm = val["spread"] + weight * val_norm
            test_norm = test["spread"] + weight * test_norm
        ok = (val_norm > 0).all(axis=(1, 2))
        scores = val_errors[ok] / val_norm[ok]
        if recency is not None:  # weights exp(-age / (recency x the series' validation rows))
            last = np.zeros(n_series)
            np.maximum.at(last, val["series"], val_origins)
            age = last[val["series"]] - val_origins
            weights = np.exp(-age / (recency * split.n_val[val["series"]]))[ok]
            table = weighted_quantiles(scores, weights, probabilities)
        elif symmetric:
            table = quantiles_at(conformal_quantiles(np.abs(scores)),
                                 [abs(2 * p - 1) for p in probabilities])  # fmt: skip
            table = table * np.where(np.asarray(probabilities) < 0.5, -1.0, 1.0)[None, :, None]
        else:
            table = quantiles_at(conformal_quantiles(scores), probabilities)
        bounds = test["point"][:, :, None, :] + test_norm[:, :, None, :] * table[None]
        results[name] = score(bounds, test["point"], test["actual"], test["mase"][:, 0])

    def shrunk(
        errors: np.ndarray, scale: np.ndarray, series: np.ndarray, prior: float
    ) -> np.ndarray:
        """Each series' difficulty (S, C): the mean over its windows of MAE / ``scale`` (the
        window's (N, C)), shrunk toward the median series with ``prior`` windows' weight."""
        ratio = np.abs(errors).mean(axis=1) / np.where(scale > 0, scale, np.nan)  # (N, C)
        counts = np.bincount(series, minlength=n_series).astype(np.float64)[:, None]
        own = np.stack(
            [
                np.bincount(series, np.nan_to_num(ratio[:, c]), n_series)
                for c in range(ratio.shape[1])
            ],
            axis=1,
        ) / np.maximum(counts, 1)
        median = np.median(own[counts[:, 0] > 0], axis=0)
        return np.where(counts > 0, (counts * own + prior * median) / (counts + prior), median)

    fixed = lambda w: base[w["series"]]  # noqa: E731
    conformal("global (seasonal-naive MAE)", fixed(val), fixed(test))
    for prior in (0.0, 1.0, 3.0):
        rho = shrunk(val_errors, fixed(val), val["series"], prior)
        conformal(f"validation difficulty, prior {prior:g}", (base * rho)[val["series"]],
                  (base * rho)[test["series"]])  # fmt: skip
    everyone = np.arange(n_series)
    for count in (1, 2, 4):
        tail = split.n_train - horizon
        series = np.concatenate([everyone] * count)
        origins = np.concatenate([(tail - k * horizon).clip(1) for k in range(count)])
        train = windows(series, origins)
        errors = train["actual"] - train["point"]
        rho = shrunk(errors, fixed(train), series, 1.0)
        scale = base * rho
        conformal(f"training difficulty, K = {count}", scale[val["series"]], scale[test["series"]])
        if count != DIFFICULTY_WINDOWS:
            continue
        for weight in (0.0, 0.5, 1.0, 2.0):
            conformal(f"spread + {weight:g} x training difficulty",
                      scale[val["series"]], scale[test["series"]], weight)  # fmt: skip
        conformal("symmetric: spread + 1 x training difficulty, |error|", scale[val["series"]],
                  scale[test["series"]], 1.0, symmetric=True)  # fmt: skip
        for cycles in LOCAL_CYCLES:
            key = f"local{cycles}"
            rho = shrunk(errors, train[key], series, 1.0)
            what = f"{cycles} cycles" if cycles else "lookback"
            for weight in (None, 1.0):
                label = "" if weight is None else "spread + 1 x "
                default = " (default)" if cycles == 28 and weight == 1.0 else ""
                conformal(f"{label}recent scale ({what}) x training difficulty{default}",
                          val[key] * rho[val["series"]], test[key] * rho[test["series"]],
                          weight)  # fmt: skip

    rho = shrunk(errors, train["local28"], series, 1.0)
    conformal("28 cycles, symmetric (quantiles of |error|)", val["local28"] * rho[val["series"]],
              test["local28"] * rho[test["series"]], 1.0, symmetric=True)  # fmt: skip
    for recency in (1.0, 0.5):
        conformal(f"28 cycles, validation windows weighted by recency (tau = {recency:g} x "
                  "validation rows)", val["local28"] * rho[val["series"]],
                  test["local28"] * rho[test["series"]], 1.0, recency=recency)  # fmt: skip
    # the difficulty with the horizon before each window's origin counted beside it
    val_recent = recent_difficulty(artifact, panel, val["series"], val_origins, val["local28"])
    test_recent = recent_difficulty(artifact, panel, case.test_series, case.test_origins,
                                    test["local28"])  # fmt: skip
    for prior in (1.0, 3.0, 4.0, 8.0):
        default = " (default)" if prior == RECENT_PRIOR else ""
        conformal(f"... and the horizon before the origin, prior {prior:g}{default}",
                  val["local28"] * with_recent(rho[val["series"]], val_recent, prior),
                  test["local28"] * with_recent(rho[test["series"]], test_recent, prior), 1.0,
                  recency=1.0)  # fmt: skip

    # forecaster's own calibration and bounds, which the default row must reproduce
    artifact.intervals = calibrate(artifact, panel, split)
    bounds = model_bounds(
        artifact, test["point"], test["spread"],
        error_scales(artifact, panel, case.test_series, case.test_origins), probabilities,
    )  # fmt: skip
    results["forecaster (calibration.calibrate)"] = score(
        bounds, test["point"], test["actual"], test["mase"][:, 0]
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--dataset", choices=["m4", "etth1"], default="m4")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    if args.dataset == "m4":
        panel, actuals = load_m4_hourly(args.data_dir / "m4")
        runs = [run(m4_case(path, panel, actuals)) for path in args.models]
    else:
        panel = load_etth1(args.data_dir / "ETTh1.csv")
        runs = [run(etth1_case(path, panel)) for path in args.models]
    keys = ("msis_95", "acd_95", "coverage_95", "coverage_80", "pinball")
    print(f"{args.dataset} test, {len(runs)} model(s): median (range) over models")
    print("variant | " + " | ".join(keys))
    for variant in runs[0]:
        cells = []
        for key in keys:
            values = [r[variant][key] for r in runs]
            med = statistics.median(values)
            cells.append(
                f"{med:.3f}"
                + (f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else "")
            )
        print(f"{variant} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
