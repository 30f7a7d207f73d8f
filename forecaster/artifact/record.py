"""The trained model as `predict`, `evaluate` and `info` use it: what a model file holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster import __version__
from forecaster.blend import Blend
from forecaster.config import ModelConfig, TrainConfig
from forecaster.data import Schema
from forecaster.errors import ModelFileError
from forecaster.intervals import Intervals
from forecaster.windows import CovariateScaler, Scaler

if TYPE_CHECKING:
    from forecaster.model import Ensemble


@dataclass
class Artifact:
    """Everything `predict`, `evaluate` and `info` need from a trained model."""

    model_config: ModelConfig
    train_config: TrainConfig
    schema: Schema
    freq: str
    ids: list[str]
    scaler: Scaler
    context: np.ndarray  # (S, L, C) raw values, left-padded
    context_real: np.ndarray  # (S,) real rows in each context
    series_end: list[pd.Timestamp]  # last timestamp of each series in the training data
    train_end: list[pd.Timestamp]  # last timestamp whose value was a training target
    weights: dict[str, np.ndarray]  # the network's state_dict as float32 arrays
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    # None: trained without validation windows, or by a forecaster before intervals
    intervals: Intervals | None = None
    # With covariates: their scaling and their raw values over each stored context (S, L, K)
    covariate_scaler: CovariateScaler | None = None
    context_covariates: np.ndarray | None = None
    # (S, C): every value of the series' history >= 0 (its forecasts are kept >= 0 unless
    # train_config.allow_negative); None in files written before it (nothing is clipped)
    nonnegative: np.ndarray | None = None
    # `train --from`: the models this one was updated from, oldest first (`warmstart`)
    lineage: list[dict[str, Any]] = field(default_factory=list)
    # The `earlier_rows` raw rows before each stored context (S, T, C), how many are real
    # (S,), and their covariates (S, T, K): what an update given only the new rows learns
    # from besides them (`warmstart`). None in files written before it.
    earlier: np.ndarray | None = None
    earlier_real: np.ndarray | None = None
    earlier_covariates: np.ndarray | None = None
    # The networks' forecast mixed with a baseline, as validation chose (`blend`); None:
    # the networks alone (and every file written before blends)
    blend: Blend | None = None

    def check(self) -> None:
        """The weights must be those of the network the metadata describes (`load` checks
        a file's parts as it reads them; this is for artifacts built otherwise)."""
        from forecaster.artifact.tensors import check_weights
        from forecaster.inference import check_config

        try:
            check_config(self.model_config)
        except ValueError as exc:
            raise ModelFileError(
                f"model metadata describes a network that cannot be built ({exc}); "
                "the file was edited or damaged: train the model again"
            ) from None
        check_weights(self.model_config, self.weights)

    def build_model(self) -> Ensemble:
        """The torch module, for training code and tests; prediction uses `inference`."""
        import torch

        from forecaster.model import Ensemble

        self.check()
        model = Ensemble(self.model_config)
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in self.weights.items()})
        model.eval()
        return model

    def series_position(self, series_id: str) -> int | None:
        try:
            return self.ids.index(series_id)
        except ValueError:
            return None


def versions() -> dict[str, str]:
    """Library versions at training time (training has imported torch already)."""
    import torch

    return {
        "forecaster": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
