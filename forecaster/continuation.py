"""Evaluating the held-out rows alone: the history before them comes from the model file.

`train --holdout N` leaves the last N steps out; a user who then writes those rows to a file
of their own expects `evaluate` to score them. The model stores the last ``lookback`` rows
of every series (what `predict` without DATA forecasts from), so a series of DATA that
starts one step after its stored history is that history's continuation: the stored rows
go before it, and the backtest forecasts DATA's rows from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecaster.data.panel import Panel, fixed_step_ns, grid_before, grid_timestamps
from forecaster.errors import DataError

if TYPE_CHECKING:
    from forecaster.artifact import Artifact
    from forecaster.backtest import Backtest

_NS = "datetime64[ns]"


def continues(artifact: Artifact, panel: Panel) -> np.ndarray:
    """Which series of ``panel`` (bool, (S,)) the model has seen and that start one step
    after the history it stored of them."""
    known = panel.positions(artifact.ids)
    out = np.zeros(panel.n_series, dtype=bool)
    seen = np.flatnonzero(known >= 0)
    if not len(seen):
        return out
    ends = pd.DatetimeIndex(artifact.series_end).to_numpy(dtype=_NS)[known[seen]]
    session = artifact.schema.session
    following = grid_timestamps(ends, np.ones(len(seen), np.int64), artifact.freq, session)
    starts = pd.DatetimeIndex(panel.starts).to_numpy(dtype=_NS)[seen]
    out[seen] = starts == following.to_numpy(dtype=_NS)
    return out


def with_stored_history(
    artifact: Artifact, panel: Panel, earlier: bool = False
) -> tuple[Panel, np.ndarray]:
    """``panel`` with the model's stored rows (and their covariates) before each series that
    continues them, and where DATA's rows start in each (S,): the count of stored rows put
    before it, -1 for a series left as it was. ``earlier``: the rows the model stored
    before its contexts too, where it has them (an update learns from them)."""
    follows = continues(artifact, panel)
    joined_at = np.full(panel.n_series, -1, dtype=np.int64)
    if not follows.any():
        return panel, joined_at
    from forecaster.inputs import context_rows

    known = panel.positions(artifact.ids)
    lookback = artifact.model_config.lookback
    wider = context_rows(artifact) - lookback  # rows the blend reads before the context
    step = fixed_step_ns(artifact.freq)
    values: list[np.ndarray] = []
    covariates: list[np.ndarray] = []
    starts, lengths = [], []
    for i in range(panel.n_series):
        rows = slice(int(panel.offsets[i]), int(panel.offsets[i + 1]))
        own = panel.values[rows]
        own_covariates = None if panel.covariates is None else panel.covariates[rows]
        start = panel.starts[i]
        if follows[i]:
            k = int(known[i])
            real = int(artifact.context_real[k])
            stored = [artifact.context[k, lookback - real :]]
            covariate_rows = [artifact.context_covariates[k, lookback - real :]
                              if artifact.context_covariates is not None else None]  # fmt: skip
            if (earlier or wider) and artifact.earlier is not None:
                assert artifact.earlier_real is not None  # stored together
                more = int(artifact.earlier_real[k])
                more = more if earlier else min(more, wider)
                if more:
                    stored.insert(0, artifact.earlier[k, artifact.earlier.shape[1] - more :])
                    if artifact.earlier_covariates is not None:
                        width = artifact.earlier_covariates.shape[1]
                        covariate_rows.insert(0, artifact.earlier_covariates[k, width - more :])
                    real += more
            joined_at[i] = real
            own = np.concatenate([*stored, own])
            if own_covariates is not None:
                assert all(r is not None for r in covariate_rows)  # same schema as the model's
                own_covariates = np.concatenate([*covariate_rows, own_covariates])
            end = pd.Timestamp(artifact.series_end[k])
            if step is not None and artifact.schema.session is None:
                start = end - pd.Timedelta(int(step) * (real - 1), "ns")
            else:
                start = grid_before(end, real, artifact.freq, artifact.schema.session)[0]
        values.append(own)
        if own_covariates is not None:
            covariates.append(own_covariates)
        starts.append(start)
        lengths.append(len(own))
    joined = Panel(
        ids=panel.ids,
        starts=starts,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        values=np.concatenate(values),
        freq=panel.freq,
        schema=panel.schema,
        notes=panel.notes,
        covariates=None if panel.covariates is None else np.concatenate(covariates),
        future=panel.future,
    )
    return joined, joined_at


def stored_scale_bounds(
    artifact: Artifact,
    panel: Panel,
    result: Backtest,
    joined_at: np.ndarray,
    probabilities: list[float],
) -> None:
    """Bounds of the windows that start where DATA does, from the error scale the model
    stored at the end of its history, as `predict` without DATA uses it (in place).

    That scale was measured on the full history (its last seasonal cycles and how the model
    did just before the end); the stored rows alone are too few to measure it again, and
    with it these bounds are the ones the full file gets."""
    if result.bounds is None:
        return
    at = np.flatnonzero(result.origins == joined_at[result.series])
    if not len(at):
        return
    from forecaster import nonnegative
    from forecaster.inputs import model_inputs, run_ensemble, window_scaler
    from forecaster.uncertainty import model_bounds, require_intervals

    series, origins = result.series[at], result.origins[at]
    scaler = window_scaler(artifact, panel, series, origins, warn=False)
    contexts = model_inputs(artifact, panel, scaler, series, origins, window_scaler=scaler)
    _, spread = run_ensemble(artifact, contexts)
    horizon = result.forecasts.shape[1]
    spread = spread[:, :horizon] * scaler.std[:, None, :]
    known = panel.positions(artifact.ids, series)
    assert (known >= 0).all()  # only series that continue the model's own history
    scale = require_intervals(artifact).scale[known]
    forecasts = result.forecasts[at]
    bounds = model_bounds(artifact, forecasts, spread, scale, probabilities)
    result.bounds[at] = nonnegative.clip(bounds, nonnegative.mask(artifact, panel, series, origins))


def require_enough(artifact: Artifact, panel: Panel, room: int, needed: int) -> None:
    """Refuse, in one line, DATA with no series long enough to evaluate that does not
    continue the stored history either: a user who gave the held-out rows alone learns
    where they must start."""
    if (panel.lengths.astype(np.int64) - room >= max(needed, 1)).any():
        return
    from forecaster.frames import output_times

    naive = pd.DatetimeIndex(artifact.series_end).to_numpy(dtype=_NS)
    ends = output_times(artifact, pd.DatetimeIndex(naive))
    following = output_times(
        artifact,
        grid_timestamps(
            naive, np.ones(len(naive), np.int64), artifact.freq, artifact.schema.session
        ),
    )
    if len(set(naive)) == 1:
        where, start = f"ends at {_shown(ends[0])}", _shown(following[0])
    else:
        shown = [f"{_shown(e)} for {i!r}" for e, i in zip(ends[:3], artifact.ids, strict=False)]
        where = "ends at " + ", ".join(shown) + (", ..." if len(ends) > 3 else "")
        start = "the step after each series' end"
    raise DataError(
        f"no series has enough rows to evaluate, and DATA does not continue the history stored "
        f"in the model, which {where}: give the rows from {start} on, or the "
        f"full history (each series needs {needed} rows of history plus {room} actual values)"
    )


def _shown(time: pd.Timestamp) -> str:
    """A date alone at midnight, as monthly and daily data write it."""
    return str(time.date()) if time == time.normalize() else str(time)
