"""`forecaster evaluate`'s report: the backtest scored beside the naive baselines, with the
notes that say how to read it, as JSON, as rows, and as every evaluated step.

A report is a dict (the JSON `evaluate --format json` prints); its rows are what the table
and the CSV show. docs/commands.md describes both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecaster import metrics
from forecaster.artifact import Artifact
from forecaster.backtest import Backtest, backtest, fill_before_origins
from forecaster.continuation import require_enough, stored_scale_bounds, with_stored_history
from forecaster.data import Panel
from forecaster.inputs import check_horizon, required_rows
from forecaster.metrics import DEFAULT_LEVELS, level_name, scoring_probabilities
from forecaster.metrics import evaluate as score_backtest
from forecaster.seasons import season_length
from forecaster.uncertainty import Uncertainty, require_intervals


@dataclass
class Evaluation:
    """A scored backtest: what was forecast, from which rows, and its report."""

    artifact: Artifact
    panel: Panel
    result: Backtest
    history: list[np.ndarray]  # the rows before each window's origin
    period: int  # the seasonal period of MASE and seasonal naive
    levels: list[float]
    scored: bool  # whether the model's intervals were scored
    scores: metrics.Evaluation  # the model's and the baselines' scores
    report: dict[str, Any]


def scored_levels(artifact: Artifact, asked: list[float] | None) -> tuple[list[float], bool]:
    """The interval levels to score and whether the model has intervals to score; levels
    asked of a model without intervals, or finer than its windows resolve, are refused."""
    levels = list(asked or DEFAULT_LEVELS)
    if asked is not None:
        require_intervals(artifact)  # asked for: a model without them is refused
    scored = artifact.intervals is not None
    if scored:
        Uncertainty(levels, []).check(artifact)  # a level the windows do not resolve
    return levels, scored


def scored_backtest(
    artifact: Artifact,
    panel: Panel,
    horizon: int | None,
    windows: int,
    stride: int | None,
    season: int | None,
    levels: list[float],
    scored: bool,
    per_series: bool,
) -> Evaluation:
    """Backtest ``panel`` (continued from the model's stored rows when it holds only the
    rows after them) and score it against the baselines, notes included."""
    panel, joined_at = with_stored_history(artifact, panel)
    continued = int((joined_at >= 0).sum())
    if not continued:
        config = artifact.model_config
        room = config.horizon if config.n_covariates else check_horizon(artifact, horizon)
        require_enough(artifact, panel, room, required_rows(artifact))
    probabilities = scoring_probabilities(levels) if scored else None
    # The model and the baselines read the same history, its outliers filled once.
    panel = fill_before_origins(artifact, panel, horizon, windows, stride, joined_at >= 0)
    result = backtest(artifact, panel, horizon, windows, stride, probabilities, filled=True)
    if continued and probabilities:
        stored_scale_bounds(artifact, panel, result, joined_at, probabilities)
    history = panel.histories(result.series, result.origins)
    period = season or season_length(artifact.freq, artifact.schema.session)
    labels = [panel.ids[s] for s in result.series] if per_series else None
    scores = score_backtest(
        result.forecasts, result.actuals, history, artifact.schema.targets, period, windows,
        labels, result.bounds, levels,
    )  # fmt: skip
    report: dict[str, Any] = scores.to_dict()
    if artifact.schema.future:
        _add_covariates_held(report, artifact, panel, horizon, windows, stride, period)
    if continued:
        joined = joined_at[joined_at >= 0]  # the model's rows put before each series
        rows = f"{'up to ' if joined.min() < joined.max() else ''}its last {int(joined.max())}"
        report["notes"].append(
            f"history from the model file: {rows} rows "
            f"before DATA, for {continued} series; MASE, MSIS and pinball are scaled by "
            "those rows' in-sample error, and the baselines' intervals come from them (the "
            "full history in DATA uses all of it)"
        )
    if not scored:
        report["notes"].append(
            "intervals not scored: the model file has none (trained by a forecaster "
            "before intervals, or without validation windows)"
        )
    return Evaluation(artifact, panel, result, history, period, levels, scored, scores, report)


def _add_covariates_held(
    report: dict[str, Any],
    artifact: Artifact,
    panel: Panel,
    horizon: int | None,
    windows: int,
    stride: int | None,
    period: int,
) -> None:
    """The same backtest with the future covariates held at their value at each origin,
    as `covariates_held` and a `model_covariates_held` method per target: what a user
    without a forecast of the drivers would get, so what knowing them is worth."""
    held = backtest(artifact, panel, horizon, windows, stride, None, hold_future=True, filled=True)
    history = panel.histories(held.series, held.origins)
    scores: dict[str, Any] = score_backtest(
        held.forecasts, held.actuals, history, artifact.schema.targets, period, windows
    ).to_dict()
    report["covariates_held"] = scores["metrics"]
    for target, by_method in report["per_target"].items():
        model = scores["per_target"][target]["model"]
        held_values = {k: v for k, v in model.items() if k not in ("intervals", "pinball")}
        items = list(by_method.items())
        items.insert(1, ("model_covariates_held", held_values))
        report["per_target"][target] = dict(items)
    report["notes"].append(
        "model: the future covariates' actual values (perfect foresight of the drivers); "
        "model_covariates_held: the same model with them held at their last observed value"
    )
    from forecaster.drivers import covariates_do_not_pay

    what = f"the {report['forecasts']} evaluated windows"
    warning = covariates_do_not_pay(
        report["metrics"]["mase"], report["covariates_held"]["mase"], what, "future covariates"
    )
    if warning:
        logging.getLogger("forecaster").warning("%s", warning)


def steps(evaluation: Evaluation) -> pd.DataFrame:
    """Every evaluated step: the actual, the model's forecast, naive and seasonal naive,
    and the model's interval bounds (widest lower first, then the upper ones)."""
    from forecaster.frames import backtest_frame
    from forecaster.metrics import naive, seasonal_naive

    history, horizon, result = evaluation.history, evaluation.scores.horizon, evaluation.result
    baselines = {
        "naive": naive(history, horizon),
        "seasonal_naive": seasonal_naive(history, horizon, evaluation.period),
    }
    if result.bounds is not None:  # the model's bounds, widest lower first
        levels = evaluation.levels
        for k, value in sorted(enumerate(levels), key=lambda x: -x[1]):
            baselines[f"model-lo-{level_name(value)}"] = result.bounds[:, :, 2 * k]
        for k, value in enumerate(levels):
            baselines[f"model-hi-{level_name(value)}"] = result.bounds[:, :, 2 * k + 1]
    return backtest_frame(evaluation.artifact, evaluation.panel, result, baselines)


def figure(evaluation: Evaluation, kind: str) -> bytes:
    """The backtest drawn: actuals, the model's forecasts and bands, seasonal naive."""
    from forecaster.metrics import seasonal_naive as snaive_forecast
    from forecaster.plot import backtest_figure

    e = evaluation
    snaive = snaive_forecast(e.history, e.scores.horizon, e.period)
    levels = e.levels if e.scored else []
    return backtest_figure(e.artifact, e.panel, e.result, snaive, e.period, levels, None, kind)


def interval_measures(levels: list[float]) -> list[str]:
    """The interval columns of the rows: coverage and MSIS per level, then pinball."""
    names = [level_name(v) for v in levels]
    return [*(f"{m}_{n}" for n in names for m in ("coverage", "msis")), "pinball"]


def rows(report: dict[str, Any], n_targets: int) -> list[dict[str, Any]]:
    """Table and CSV rows: per target and method, "(all)" for several targets (scale-free
    metrics only), and per series when asked."""
    out: list[dict[str, Any]] = []
    for target, by_method in report["per_target"].items():
        for method, values in by_method.items():
            out.append({"series": "(all)", "target": target, "method": method, **_flat(values)})
    if n_targets > 1:
        model = {k: report[k] for k in ("intervals", "pinball") if k in report}
        overall = {"model": {**report["metrics"], **model}, **report["baselines"]}
        out += [
            {"series": "(all)", "target": "(all)", "method": m, **_flat(v)}
            for m, v in overall.items()
        ]
    for series, by_target in report.get("per_series", {}).items():
        for target, by_method in by_target.items():
            for method, values in by_method.items():
                out.append({"series": series, "target": target, "method": method, **_flat(values)})
    if "per_series" not in report:
        for row in out:
            del row["series"]
    return out


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    """One method's scores as one row: intervals as coverage_80, msis_80, ..."""
    row = {k: v for k, v in values.items() if k != "intervals"}
    for level, scores in values.get("intervals", {}).items():
        row[f"coverage_{level}"] = scores["coverage"]
        row[f"msis_{level}"] = scores["msis"]
    if "pinball" in row:
        row["pinball"] = row.pop("pinball")  # last, after the levels
    return row
