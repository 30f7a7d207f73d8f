"""How benchmarks/accuracy.py scores its runs and prints them beside the published figures:
M4's sMAPE / MASE / OWA, the intervals' coverage, MSIS, ACD and pinball loss, and the tables."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from forecaster.artifact import Artifact
from forecaster.data import Panel
from forecaster.metrics import (
    baseline_bounds,
    interval_scores,
    mase_scale,
    score,
    scoring_probabilities,
)
from forecaster.uncertainty import model_bounds

M4_SMAPE_NAIVE2, M4_MASE_NAIVE2 = 18.383, 2.395
LEVELS = [80.0, 95.0]

# Published univariate ETTh1 (MSE, MAE) and M4 Hourly (sMAPE, MASE, OWA) figures.
PUBLISHED_ETTH1: dict[str, dict[int, tuple[float, float]]] = {
    "DLinear (L=336)": {
        96: (0.056, 0.180),
        192: (0.071, 0.204),
        336: (0.098, 0.244),
        720: (0.189, 0.359),
    },
    "NLinear (L=336)": {
        96: (0.053, 0.177),
        192: (0.069, 0.204),
        336: (0.081, 0.226),
        720: (0.080, 0.226),
    },
    "LSTMa": {
        24: (0.114, 0.272),
        48: (0.193, 0.358),
        168: (0.236, 0.392),
        336: (0.590, 0.698),
        720: (0.683, 0.768),
    },
    "Informer": {24: (0.098, 0.247), 48: (0.158, 0.319)},
}
# 95% intervals on M4 Hourly, MSIS / ACD, from the M4 "Evaluation and Ranks" workbook.
PUBLISHED_M4_INTERVALS = {
    "Naive": (71.245, 0.011),
    "ETS": (17.487, 0.001),
    "ARIMA": (7.538, 0.001),
    "ES-RNN (Smyl)": (7.928, 0.040),
    "Doornik et al. (best)": (6.139, 0.002),
}


PUBLISHED_M4 = {
    "seasonal naive": (13.912, 1.193, 0.627),
    "M4 RNN benchmark": (14.698, 3.048, 1.036),
    "ES-RNN (Smyl)": (9.328, 0.893, 0.440),
    "best hourly (Doornik et al.)": (8.913, 0.801, 0.410),
}


def interval_figures(
    artifact: Artifact,
    forecasts: np.ndarray,
    spread: np.ndarray,
    actuals: np.ndarray,
    error_scale: np.ndarray,
    scale: np.ndarray,
) -> dict[str, float]:
    """Coverage, MSIS, ACD and pinball of the model's intervals: forecasts, the members'
    spread and actuals (N, H) in data units, each window's error scale (N, 1)
    (`uncertainty.error_scales`), MASE's ``scale`` (N,)."""
    assert artifact.intervals is not None
    probabilities = scoring_probabilities(LEVELS)
    bounds = model_bounds(
        artifact,
        forecasts[..., None],
        spread[..., None],
        error_scale,
        probabilities,
    )[..., 0]
    scores = interval_scores(bounds, actuals, scale, LEVELS)
    return {
        "coverage_80": scores.coverage["80"],
        "coverage_95": scores.coverage["95"],
        "msis_95": scores.msis["95"],
        "msis_80": scores.msis["80"],
        "acd_95": abs(scores.coverage["95"] - 0.95),
        "pinball": scores.pinball,
    }


def m4_naive_intervals(panel: Panel, actuals: np.ndarray) -> dict[str, float]:
    """The competition's Naive row, to check the scoring: last value +- 1.96 sigma sqrt(k)."""
    history = [panel.series(i)[:, 0] for i in range(panel.n_series)]
    last = np.array([h[-1] for h in history])[:, None]
    sigma = np.array([np.sqrt(np.mean(np.diff(h) ** 2)) for h in history])[:, None]
    width = 1.959964 * sigma * np.sqrt(np.arange(1, actuals.shape[1] + 1))[None, :]
    probabilities = scoring_probabilities([95.0])
    bounds = np.repeat(last[:, :, None], len(probabilities), axis=2).repeat(actuals.shape[1], 1)
    bounds[:, :, 0] -= width
    bounds[:, :, 1] += width
    scale = mase_scale([h[:, None] for h in history], 24)[:, 0]
    scores = interval_scores(bounds, actuals, scale, [95.0])
    figures = {"msis_95": scores.msis["95"], "coverage_95": scores.coverage["95"]}
    # forecaster evaluate's baselines: empirical quantiles of the in-sample residuals
    columns = [h[:, None] for h in history]
    for name, lag in (("naive", 1), ("seasonal_naive", 24)):
        bounds = baseline_bounds(columns, actuals.shape[1], 24, probabilities, lag)[..., 0]
        scores = interval_scores(bounds, actuals, scale, [95.0])
        figures[f"{name}_msis_95"] = scores.msis["95"]
        figures[f"{name}_coverage_95"] = scores.coverage["95"]
    return figures


def m4_scores(forecasts: np.ndarray, actuals: np.ndarray, panel: Panel) -> dict[str, float]:
    history = [panel.series(i) for i in range(panel.n_series)]
    scale = mase_scale(history, 24)[:, 0]
    values = score(forecasts, actuals, scale).values
    owa = (values["smape"] / M4_SMAPE_NAIVE2 + values["mase"] / M4_MASE_NAIVE2) / 2
    return {"smape": values["smape"], "mase": values["mase"], "owa": owa}


def summarise(runs: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, str]:
    """Median over seeds, with the spread (min-max) when there are several."""
    out = {}
    for key in keys:
        values = [r["metrics"][key] for r in runs]
        med = statistics.median(values)
        out[key] = f"{med:.3f}" + (
            f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else ""
        )
    return out


def print_etth1(results: dict[int, list[dict[str, Any]]]) -> None:
    print("\nETTh1 univariate (OT), MSE / MAE on the z-scored scale, median of seeds (range)")
    header = ["horizon", "ours MSE", "ours MAE", "seasonal naive", "s", *PUBLISHED_ETTH1]
    print(" | ".join(header))
    for horizon, runs in sorted(results.items()):
        ours = summarise(runs, ("mse", "mae"))
        sn = runs[0]["seasonal_naive"]
        seconds = statistics.median(r["seconds"] for r in runs)
        published = [
            "{:.3f} / {:.3f}".format(*table[horizon]) if horizon in table else "-"
            for table in PUBLISHED_ETTH1.values()
        ]
        print(
            " | ".join(
                [
                    str(horizon),
                    ours["mse"],
                    ours["mae"],
                    f"{sn['mse']:.3f} / {sn['mae']:.3f}",
                    f"{seconds:.0f}",
                    *published,
                ]
            )
        )


def print_m4(runs: list[dict[str, Any]]) -> None:
    print("\nM4 Hourly (414 series, h=48): sMAPE / MASE / OWA, median of seeds (range)")
    ours = summarise(runs, ("smape", "mase", "owa"))
    seconds = statistics.median(r["seconds"] for r in runs)
    print(f"ours | {ours['smape']} | {ours['mase']} | {ours['owa']} | {seconds:.0f} s")
    sn = runs[0]["seasonal_naive"]
    print(f"seasonal naive (this harness) | {sn['smape']:.3f} | {sn['mase']:.3f} | {sn['owa']:.3f}")
    for name, (smape, mase, owa) in PUBLISHED_M4.items():
        print(f"{name} (published) | {smape:.3f} | {mase:.3f} | {owa:.3f}")


def interval_summary(runs: list[dict[str, Any]], key: str) -> str:
    values = [r["intervals"][key] for r in runs if r.get("intervals")]
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{med:.3f}" + (f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else "")


def print_m4_intervals(runs: list[dict[str, Any]], naive: dict[str, float]) -> None:
    print("\nM4 Hourly 95% intervals: MSIS / ACD (coverage), median of seeds (range)")
    print(
        f"ours | {interval_summary(runs, 'msis_95')} | {interval_summary(runs, 'acd_95')} "
        f"({interval_summary(runs, 'coverage_95')})"
    )
    acd = abs(naive["coverage_95"] - 0.95)
    print(f"Naive (this harness) | {naive['msis_95']:.3f} | {acd:.3f} ({naive['coverage_95']:.4f})")
    for name in ("naive", "seasonal_naive"):
        msis, coverage = naive[f"{name}_msis_95"], naive[f"{name}_coverage_95"]
        label = f"{name.replace('_', ' ')}, empirical residual quantiles (forecaster evaluate)"
        print(f"{label} | {msis:.3f} | {abs(coverage - 0.95):.3f} ({coverage:.4f})")
    for name, (msis, acd) in PUBLISHED_M4_INTERVALS.items():
        print(f"{name} (official) | {msis:.3f} | {acd:.3f}")


def print_etth1_intervals(results: dict[int, list[dict[str, Any]]]) -> None:
    print("\nETTh1 intervals over every test window: coverage 80% / 95%, scaled pinball")
    for horizon, runs in sorted(results.items()):
        print(
            f"{horizon} | {interval_summary(runs, 'coverage_80')} | "
            f"{interval_summary(runs, 'coverage_95')} | {interval_summary(runs, 'pinball')}"
        )
