"""Whether a naive baseline beat the model, said in one line wherever its forecasts are used.

A forecast that a seasonal-naive copy of last season would have beaten is worse than no
model, and a user who reads only `predict`'s output has no other way to learn it. `train`
scores its validation windows against the baselines; `predict` repeats that verdict from the
model file every time it forecasts; `evaluate` gives its own from the windows it scored.
One window can lose by chance, so the verdict needs at least `MIN_WINDOWS` of them.
"""

from __future__ import annotations

import math
from typing import Any

# Fewer windows than this say too little to call a baseline better (one window of 18 steps
# is one draw of a season's noise).
MIN_WINDOWS = 2
# The baselines a model must beat (not the model with its covariates held, a diagnosis).
BASELINES = ("naive", "seasonal_naive")
# Scores this close are a tie, not a loss: a model whose blend is seasonal naive alone
# (weight 0) forecasts it through float32 and scored 0.93851993 against its 0.93851989;
# `train` called it worse than itself while `predict`, reading the scores as stored (5
# digits), did not.
TIE = 1e-4


def losing_to(mase: dict[str, Any], baselines: list[str]) -> tuple[str, float, float] | None:
    """(baseline, its MASE, the model's) when the best of ``baselines`` in ``mase`` scored
    lower than ``mase["model"]`` by more than `TIE`; None when the model won or tied, or a
    score is missing."""
    if not _finite(mase.get("model")):
        return None
    model = float(mase["model"])
    scored = [(float(mase[name]), name) for name in baselines if _finite(mase.get(name))]
    if not scored:
        return None
    best_score, best = min(scored)
    return (best, best_score, model) if best_score < model * (1.0 - TIE) else None


def warning(what: str, lost: tuple[str, float, float]) -> str:
    """The one line: on which windows, the model's score, which baseline and its score."""
    baseline, theirs, ours = lost
    return (
        f"on {what} the model (MASE {ours:.3g}) is worse than {baseline.replace('_', ' ')} "
        f"(MASE {theirs:.3g}): check its forecasts before using them (see forecaster evaluate)"
    )


def from_validation(summary: dict[str, Any]) -> str | None:
    """`predict`'s line, from the validation scores `train` stored in the model file."""
    validation = summary.get("validation") or {}
    windows = int(validation.get("windows") or 0)
    lost = losing_to(validation.get("mase") or {}, list(BASELINES))
    if lost is None or windows < MIN_WINDOWS:
        return None
    return warning(f"its {windows} validation windows (scored by train)", lost)


def from_report(report: dict[str, Any], windows: int) -> str | None:
    """`evaluate`'s line, from the scores of the windows it evaluated."""
    baselines = report.get("baselines") or {}
    mase = {"model": (report.get("metrics") or {}).get("mase")}
    mase.update({name: (scores or {}).get("mase") for name, scores in baselines.items()})
    lost = losing_to(mase, [name for name in baselines if name in BASELINES])
    if lost is None or windows < MIN_WINDOWS:
        return None
    return warning(f"the {windows} evaluated windows", lost)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
