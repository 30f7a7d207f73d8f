"""Ablation of interval calibrations on trained models (M4 Hourly), scored on the test set.

Run by hand, on models that `benchmarks/accuracy.py --save-models DIR` wrote:

    python benchmarks/accuracy.py --dataset m4 --save-models /tmp/models
    python benchmarks/intervals.py /tmp/models/m4-seed*.fcst

Every variant is calibrated on the same validation windows of the same trained network, so
the point forecast (and its accuracy) is the same for all; only the bounds differ. Each is
split conformal on the validation errors divided by a normaliser:

- global: each series' in-sample seasonal-naive MAE (MASE's scale), one quantile table per
  step for all series;
- validation difficulty: that scale times the series' own validation MAE in those units,
  shrunk toward the median series with a prior of P windows (the same errors then give the
  quantiles);
- training difficulty: the same, measured on the series' last K training windows;
- spread: the ensemble members' standard deviation at that window and step, plus W times
  the training-difficulty scale (W = 0: the spread alone). The default is K = 4, W = 1;
- symmetric: the default's normaliser, quantiles of |error| (one width on each side).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import LEVELS, load_m4_hourly  # noqa: E402
from forecaster import artifact as artifact_io  # noqa: E402
from forecaster import inference  # noqa: E402
from forecaster.data import Panel  # noqa: E402
from forecaster.intervals import (  # noqa: E402
    DIFFICULTY_WINDOWS,
    base_scale,
    calibration_origins,
    conformal_quantiles,
    difficulty,
    quantiles_at,
)
from forecaster.metrics import (  # noqa: E402
    hold_forecast,
    interval_scores,
    mase_scale,
    scoring_probabilities,
)
from forecaster.windows import context_windows, split_series  # noqa: E402

SEASON = 24


def score(
    bounds: np.ndarray, points: np.ndarray, actuals: np.ndarray, scale: np.ndarray
) -> dict[str, float]:
    probabilities = scoring_probabilities(LEVELS)
    held = hold_forecast(bounds, points, probabilities)[..., 0]
    s = interval_scores(held, actuals, scale, LEVELS)
    return {
        "msis_95": s.msis["95"],
        "acd_95": abs(s.coverage["95"] - 0.95),
        "coverage_95": s.coverage["95"],
        "coverage_80": s.coverage["80"],
        "pinball": s.pinball,
    }


def run(path: Path, panel: Panel, actuals: np.ndarray) -> dict[str, dict[str, float]]:
    artifact = artifact_io.load(path)
    config = artifact.model_config
    horizon, lookback = config.horizon, config.lookback
    split = split_series(panel.lengths, horizon, lookback, artifact.train_config.val_fraction)
    n_series = panel.n_series

    def windows(series: np.ndarray, origins: np.ndarray) -> dict[str, np.ndarray]:
        """Members' forecasts (M, N, H, C) in data units, and the actuals (N, H, C)."""
        contexts = context_windows(panel, artifact.scaler, lookback, series, origins)
        members = inference.run_members(artifact.weights, config, contexts).astype(np.float64)
        std, mean = artifact.scaler.std[series], artifact.scaler.mean[series]
        members = members * std[None, :, None, :] + mean[None, :, None, :]
        rows = (panel.offsets[series] + origins)[:, None] + np.arange(horizon)
        inside = bool((origins + horizon <= panel.lengths[series]).all())
        return {
            "series": series,
            "point": members.mean(axis=0),
            "spread": members.std(axis=0),
            "actual": panel.values[rows] if inside else None,  # the test's are not in panel
        }

    val = windows(*calibration_origins(split.n_train, split.n_val, horizon))
    everyone = np.arange(n_series)
    test = windows(everyone, panel.lengths)
    base = base_scale([panel.series(s)[: int(n)] for s, n in enumerate(split.n_train)], SEASON)
    mscale = mase_scale([panel.series(i) for i in range(n_series)], SEASON)[:, 0]
    probabilities = scoring_probabilities(LEVELS)
    val_errors = val["actual"] - val["point"]
    results: dict[str, dict[str, float]] = {}

    def conformal(name: str, scale: np.ndarray, weight: float | None = None, **kw: Any) -> None:
        """Normaliser: ``scale`` (S, C), or the spread + ``weight`` x it."""
        val_norm = np.broadcast_to(scale[val["series"]][:, None, :], val_errors.shape)
        test_norm = np.broadcast_to(scale[:, None, :], test["point"].shape)
        if weight is not None:
            val_norm = val["spread"] + weight * val_norm
            test_norm = test["spread"] + weight * test_norm
        ok = (val_norm > 0).all(axis=(1, 2))
        scores = val_errors[ok] / val_norm[ok]
        if kw.get("symmetric"):
            table = quantiles_at(conformal_quantiles(np.abs(scores)),
                                 [abs(2 * p - 1) for p in probabilities])  # fmt: skip
            table = table * np.where(np.asarray(probabilities) < 0.5, -1.0, 1.0)[None, :, None]
        else:
            table = quantiles_at(conformal_quantiles(scores), probabilities)
        bounds = test["point"][:, :, None, :] + test_norm[:, :, None, :] * table[None]
        results[name] = score(bounds, test["point"], actuals, mscale)

    def shrunk(errors: np.ndarray, series: np.ndarray, prior: float) -> np.ndarray:
        counts = np.bincount(series, minlength=n_series).astype(np.float64)
        factor, _ = difficulty(errors, base, series, counts, n_series, prior)
        return base * factor

    conformal("global (seasonal-naive MAE)", base)
    for prior in (0.0, 1.0, 3.0):
        scale = shrunk(val_errors, val["series"], prior)
        conformal(f"validation difficulty, prior {prior:g}", scale)
    for count in (1, 2, 4):
        tail = split.n_train - horizon
        series = np.concatenate([everyone] * count)
        origins = np.concatenate([(tail - k * horizon).clip(1) for k in range(count)])
        train = windows(series, origins)
        scale = shrunk(train["actual"] - train["point"], series, 1.0)
        conformal(f"training difficulty, K = {count}", scale)
        if count == DIFFICULTY_WINDOWS:
            for weight in (0.0, 0.5, 1.0, 2.0):
                default = " (default)" if weight == 1.0 else ""
                conformal(f"spread + {weight:g} x training difficulty{default}", scale, weight)
            conformal("symmetric, default normaliser", scale, 1.0, symmetric=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    panel, actuals = load_m4_hourly(args.data_dir / "m4")
    runs = [run(path, panel, actuals) for path in args.models]
    keys = ("msis_95", "acd_95", "coverage_95", "coverage_80", "pinball")
    print(f"M4 Hourly test, {len(runs)} model(s): median (range) over models")
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
