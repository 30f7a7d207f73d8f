"""ETTh1 test MSE / MAE of the linear skip alone (the least-squares start), by lookback set.

Run by hand (not in CI), from the repository root:

    python benchmarks/linear_skip.py                  # horizons 24 ... 720, a few seconds each
    python benchmarks/linear_skip.py --horizons 192 336

The network starts from `linear.fit_skip`: a ridge regression of the horizon on the window
(penalty chosen on validation), averaged over several window lengths. This isolates that
start from training: the head is zero, so the forecast is the linear map alone. Columns:
the LSTM's lookback L alone; each candidate set of `pipeline.skip_candidates` (L times 1, 2,
4, 8 within a third of the training rows, then with L/2, then with L/2 and L/4 added); the
set validation chooses among them (the default); and the fixed 336 of DLinear and NLinear.
Same protocol as `accuracy.py` (split, scaling, stride-1 test windows).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import ETT_TEST, ETT_TRAIN, ETT_VAL, load_etth1, truncate  # noqa: E402
from benchmarks.common import print_table  # noqa: E402
from forecaster import pipeline  # noqa: E402
from forecaster.config import ModelConfig, TrainConfig  # noqa: E402
from forecaster.linear import fit_skip  # noqa: E402
from forecaster.model import LSTMForecaster  # noqa: E402
from forecaster.seasons import default_lookback  # noqa: E402
from forecaster.windows import context_windows, fit_scaler, make_windows, split_series  # noqa: E402


def lookback_sets(horizon: int) -> dict[str, list[list[int]]]:
    """Candidate sets of lookbacks, by column name; each column is one `fit_skip` call."""
    rule = default_lookback(horizon, 24, 168)
    config = TrainConfig(val_fraction=(ETT_VAL - ETT_TRAIN) / ETT_VAL)
    candidates = pipeline.skip_candidates(rule, config, np.array([ETT_VAL]))
    longer, half, quarter = candidates  # ETTh1's rows allow every one
    return {
        "L": [[rule]],
        "L..8L": [longer],
        "L/2..8L": [half],
        "L/4..8L": [quarter],
        "validation's choice (default)": candidates,
        "336": [[336]],
    }


def test_errors(panel, horizon: int, candidates: list[list[int]]):  # type: ignore[no-untyped-def]
    """Test MSE and MAE, validation MSE, and the lookbacks of the averaged least-squares map."""
    lookback = max(max(c) for c in candidates)
    train = truncate(panel, ETT_VAL)
    split = split_series(train.lengths, horizon, lookback, (ETT_VAL - ETT_TRAIN) / ETT_VAL)
    scaler = fit_scaler(train, split)
    windows = make_windows(train, scaler, split, lookback, horizon)
    weight, bias, _, fitted = fit_skip(windows, "last", candidates)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=lookback, horizon=horizon, hidden=1))
    with torch.no_grad():
        model.skip.weight.copy_(weight)  # type: ignore[union-attr]
        model.skip.bias.copy_(bias)  # type: ignore[union-attr]
        model.head.weight.zero_()
        model.head.bias.zero_()
        origins = np.arange(ETT_VAL, ETT_TEST - horizon + 1)
        contexts = context_windows(panel, scaler, lookback, np.zeros(len(origins), int), origins)
        forecast = model(torch.from_numpy(contexts))[..., 0].double().numpy()
    scaled = scaler.transform(panel.series(0), 0)[:, 0]
    actual = np.stack([scaled[o : o + horizon] for o in origins])
    error = forecast - actual
    return (
        float(np.mean(error**2)),
        float(np.mean(np.abs(error))),
        float(fitted.val_mse or np.nan),
        fitted.lookbacks,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--horizons", type=int, nargs="+", default=[24, 48, 96, 192, 336, 720])
    args = parser.parse_args()
    torch.set_num_threads(1)
    panel = load_etth1(args.data_dir / "ETTh1.csv")
    names = list(lookback_sets(args.horizons[0]))
    rows = []
    for horizon in args.horizons:
        row: list[str] = [str(horizon)]
        for lookbacks in lookback_sets(horizon).values():
            mse, mae, val, chosen = test_errors(panel, horizon, lookbacks)
            row.append(f"{mse:.4f} / {mae:.4f} (val {val:.4f}) {chosen}")
        rows.append(row)
        print(" | ".join(row), flush=True)
    print_table(
        "ETTh1 test MSE / MAE of the least-squares linear skip alone (validation MSE)",
        ["horizon", *names],
        rows,
    )


if __name__ == "__main__":
    main()
