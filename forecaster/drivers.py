"""Whether a model's covariates pay: the same network, the same windows, with the
covariates held still.

Covariates can hurt: the network fits whatever their movements correlate with in the
training rows, and noise fitted there is error later (daily temperatures with precipitation
and wind as past covariates forecast worse than temperature alone). Training a second
model without them would settle it at twice the cost; holding them still is one more pass
over windows that are forecast anyway, and it asks the question that matters to a user:
does the model do better for reading how they moved (past ones) or will move (future ones)?
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from forecaster.artifact import Artifact

# What the covariates must take off the MASE, against them held, to pay: what the linear skip asks
# of its covariate part (`linear.MIN_COVARIATE_GAIN`).
MIN_GAIN = 0.01


def hold_covariates(artifact: Artifact, inputs: np.ndarray) -> np.ndarray:
    """Model inputs (N, L + H, C + K) with the covariates known only by their value in the
    last context row where they carry more: future ones held there over the horizon (as
    `evaluate`'s ``model_covariates_held``: no forecast of the drivers), past ones over the
    context (the network reads them nowhere else). Targets, calendar and static channels are
    left as they are: they are not the user's drivers."""
    config, schema = artifact.model_config, artifact.schema
    lookback, first = config.lookback, config.n_targets
    held = inputs.copy()
    last = inputs[:, lookback - 1 : lookback]
    past = slice(first, first + schema.n_past)
    held[:, :lookback, past] = last[:, :, past]  # their horizon rows stay zero
    future = slice(first + schema.n_past, first + schema.n_past + len(schema.future))
    held[:, lookback:, future] = last[:, :, future]
    return held


def covariates_do_not_pay(
    with_them: float | None, held: float | None, what: str, which: str = "covariates"
) -> str | None:
    """One line when the model's MASE on ``what`` with its covariates is not at least
    `MIN_GAIN` lower than with them held; None when they pay or a score is missing."""
    if with_them is None or held is None or not np.isfinite(with_them) or not np.isfinite(held):
        return None
    if with_them < held * (1 - MIN_GAIN):
        return None
    return (
        f"the {which} do not pay: on {what} the model's MASE is {with_them:.3g} with "
        f"them and {held:.3g} with them held at their last observed value; compare with a "
        "model trained without them"
    )
