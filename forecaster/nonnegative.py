"""Forecasts of series that never went below zero stay at or above zero.

Counts, sales and volumes cannot be negative, but a forecast plus a symmetric error can
be: yearly lynx trappings got a 95% lower bound of -535. Training records, per series and
target, whether every value of its history was >= 0; forecasts and bounds of those are
clipped at 0 unless the model was trained with --allow-negative. A series given to
`predict` or `evaluate` as DATA is clipped only when the rows read are non-negative too
(and, for a series the model knows, its training history was), so data that did go
negative is never forced up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecaster.artifact import Artifact
from forecaster.data import Panel


def recorded(panel: Panel) -> np.ndarray:
    """(S, C): whether every value of each series' history is >= 0, per target."""
    if not panel.n_series:
        return np.zeros((0, panel.values.shape[1]), dtype=bool)
    lowest = np.minimum.reduceat(panel.values, panel.offsets[:-1], axis=0)
    result: np.ndarray = lowest >= 0
    return result


def mask(
    artifact: Artifact, panel: Panel | None, series: np.ndarray, origins: np.ndarray
) -> np.ndarray | None:
    """(N, C): which forecasts (series ``series`` of ``panel`` at ``origins``, or the
    model's own series without a panel) are held at or above zero; None when none is."""
    if artifact.train_config.allow_negative or artifact.nonnegative is None:
        return None
    stored = artifact.nonnegative
    if panel is None:
        held: np.ndarray = stored[series]
    else:
        known = panel.positions(artifact.ids, series)
        trained = np.where((known >= 0)[:, None], stored[np.maximum(known, 0)], True)
        given = np.stack([
            (history >= 0).all(axis=0) for history in panel.histories(series, origins)
        ]) if len(series) else np.zeros((0, stored.shape[1]), dtype=bool)  # fmt: skip
        held = trained & given
    return held if held.any() else None


def clip(values: np.ndarray, held: np.ndarray | None) -> np.ndarray:
    """Values (N, H, ...) with the last axis C, at least 0 where ``held`` (N, C)."""
    if held is None:
        return values
    shape = (held.shape[0],) + (1,) * (values.ndim - 2) + (held.shape[1],)
    result: np.ndarray = np.where(held.reshape(shape), np.maximum(values, 0.0), values)
    return result


def describe(artifact: Artifact) -> dict[str, Any] | None:
    """What `info` says: how many series are held at or above zero, and whether it is on."""
    if artifact.nonnegative is None:
        return None
    series = int(artifact.nonnegative.all(axis=1).sum())
    allowed = artifact.train_config.allow_negative
    return {"series": series, "of": len(artifact.ids), "allow_negative": allowed,
            "clipped": not allowed and bool(artifact.nonnegative.any())}  # fmt: skip


def text(value: dict[str, Any]) -> str:
    """The `info` line for `describe`'s value."""
    history = f"{value['series']} of {value['of']} series never below 0"
    if value["allow_negative"]:
        return f"{history}; forecasts not clipped at 0 (trained with --allow-negative)"
    if value["clipped"]:
        return f"{history}: forecasts and bounds kept >= 0 (train --allow-negative: not)"
    return f"{history}: nothing to clip"
