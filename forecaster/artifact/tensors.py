"""The model file's arrays: the networks' weights, each series' stored context and its
covariates, and the rows before the context that an update learns from (`warmstart`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from forecaster.artifact import fields
from forecaster.artifact.part import F64, I64, Part, Reading
from forecaster.artifact.safe import EDITED
from forecaster.config import ModelConfig
from forecaster.errors import ModelFileError
from forecaster.inference import weights_mismatch
from forecaster.windows import CovariateScaler

if TYPE_CHECKING:
    from forecaster.artifact.record import Artifact

WEIGHTS_PREFIX = "model."


class Weights(Part):
    """``model.members.K.*``: the network's state_dict as float32 arrays."""

    def write_tensors(self, artifact: Artifact) -> dict[str, np.ndarray]:
        return {
            f"{WEIGHTS_PREFIX}{k}": np.ascontiguousarray(v) for k, v in artifact.weights.items()
        }

    def read(self, file: Reading) -> None:
        """Last: the weights must be those of the network the metadata describes."""
        weights = {
            name[len(WEIGHTS_PREFIX) :]: array
            for name, array in file.tensors.items()
            if name.startswith(WEIGHTS_PREFIX)
        }
        check_weights(file.config, weights)
        file.found["weights"] = weights


def check_weights(config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
    """As many weights as the network has, each of its shape (the config already checked)."""
    # Counted first: weight_shapes enumerates members x layers, which a bad file could
    # make astronomically many.
    per_member = 4 * config.layers + 2 + (2 if config.linear_skip else 0)
    per_member += 1 if config.covariate_features else 0
    if config.members * per_member != len(weights):
        raise ModelFileError(
            f"model file's weights do not match its metadata ({len(weights)} weight "
            f"tensors, the metadata implies {config.members * per_member}); the file was "
            "edited or damaged: train the model again"
        )
    detail = weights_mismatch(config, weights)
    if detail is not None:
        raise ModelFileError(
            f"model file's weights do not match its metadata ({detail}); the file was "
            "edited or damaged: train the model again"
        )


class Context(Part):
    """``context.values`` (S, L, C): the last ``lookback`` raw rows of each series,
    left-padded; ``context.real`` (S,): how many are real."""

    tensors: ClassVar[dict[str, np.dtype]] = {"context.values": F64, "context.real": I64}

    def write_tensors(self, artifact: Artifact) -> dict[str, np.ndarray]:
        return {
            "context.values": np.ascontiguousarray(artifact.context),
            "context.real": artifact.context_real.astype(np.int64),
        }

    def read(self, file: Reading) -> None:
        n_series, lookback = file.n_series, file.config.lookback
        context = self.tensor(file, "context.values", (n_series, lookback, file.config.n_targets))
        if not fields.within_scale(context):
            series = int(np.argwhere(~(np.abs(context) <= fields.MAX_SCALE))[0][0])
            raise ModelFileError(
                f"model file's tensor context.values holds a value that is not finite or "
                f"beyond {fields.MAX_SCALE:g} (series {series}); {EDITED}"
            )
        context_real = self.tensor(file, "context.real", (n_series,))
        if n_series and not (context_real.min() >= 1 and context_real.max() <= lookback):
            raise ModelFileError(
                f"model file's tensor context.real holds {int(context_real.min())} to "
                f"{int(context_real.max())}; expected 1 to lookback {lookback}; {EDITED}"
            )
        file.found.update(context=context, context_real=context_real)


class Covariates(Part):
    """The covariates' scaling and their raw values over each stored context (S, L, K):
    present exactly when the schema has covariates."""

    keys = optional = ("covariates",)
    tensors: ClassVar[dict[str, np.dtype]] = {"context.covariates": F64}
    optional_tensors = ("context.covariates",)

    def write(self, artifact: Artifact) -> dict[str, Any]:
        scaler = artifact.covariate_scaler
        return {"covariates": None if scaler is None else scaler.to_dict()}

    def write_tensors(self, artifact: Artifact) -> dict[str, np.ndarray]:
        if artifact.context_covariates is None:
            return {}
        return {"context.covariates": np.ascontiguousarray(artifact.context_covariates, np.float64)}

    def read(self, file: Reading) -> None:
        """As many channels as the network reads."""
        value, schema, config = file.meta.get("covariates"), file.found["schema"], file.config
        counts = (schema.n_past, schema.n_future, schema.n_static, len(schema.calendar))
        network = (config.n_past, config.n_future, config.n_static, config.n_calendar)
        if counts != network:
            raise ModelFileError(
                f"model metadata: the schema's covariates {counts} do not match the network's "
                f"{network}; {EDITED}"
            )
        stored = "context.covariates" in file.tensors
        if not schema.has_covariates:
            if value is not None or stored:
                raise ModelFileError(
                    f"model file holds covariates its schema does not name; {EDITED}"
                )
            file.found.update(covariate_scaler=None, context_covariates=None)
            return
        if value is None or not stored:
            raise ModelFileError(f"model file's covariates lack their scaling or context; {EDITED}")
        channels = len(schema.covariate_channels)
        values = fields.keys("covariates", value, ("mean", "std"))
        mean = fields.matrix("covariates.mean", [values["mean"]], (1, channels), False)[0]
        std = fields.matrix("covariates.std", [values["std"]], (1, channels), True)[0]
        shape = (file.n_series, config.lookback, channels)
        context = self.tensor(file, "context.covariates", shape)
        if not fields.within_scale(context):
            raise ModelFileError(
                f"model file's tensor context.covariates holds a value that is not finite; {EDITED}"
            )
        file.found.update(covariate_scaler=CovariateScaler(mean, std), context_covariates=context)


# Values (rows x series) of history a model file keeps before its contexts, at most. A
# single series keeps all of its history up to this many rows, a panel as many rows of each
# series as fit, so that an update given only the rows that arrived learns and validates
# as one given the whole file (docs/updating.md). 200,000 float64 values are 1.6 MB.
EARLIER_VALUES = 200_000


def earlier_rows(config: ModelConfig, before: np.ndarray | None = None) -> int:
    """Rows stored before each context: the history before it (``before``: how many rows
    each series has there), within `EARLIER_VALUES` in all, and never fewer than one more
    window's context and horizon (what files stored before the whole history was kept)."""
    least = config.lookback + config.horizon
    if before is None or not len(before):
        return least
    return int(max(least, min(int(before.max()), EARLIER_VALUES // len(before))))


def _stored_width(file: Reading) -> int:
    """The earlier rows' width as written, when it is one `earlier_rows` could have
    chosen; else the least (and the shape check refuses the file)."""
    n_series, least = file.n_series, earlier_rows(file.config)
    shape = file.tensors["earlier.values"].shape
    width = int(shape[1]) if len(shape) == 3 else least
    if width < least or width * n_series > max(EARLIER_VALUES, least * n_series):
        return least
    return width


class Earlier(Part):
    """The `earlier_rows` raw rows before each stored context (S, T, C), how many are real
    (S,), and their covariates (S, T, K): what an update given only the new rows learns
    from besides them. All three (two without covariates) or none: a file written before
    them."""

    tensors: ClassVar[dict[str, np.dtype]] = {
        "earlier.values": F64,
        "earlier.real": I64,
        "earlier.covariates": F64,
    }
    optional_tensors = tuple(tensors)

    def write_tensors(self, artifact: Artifact) -> dict[str, np.ndarray]:
        if artifact.earlier is None or artifact.earlier_real is None:
            return {}
        tensors = {
            "earlier.values": np.ascontiguousarray(artifact.earlier, np.float64),
            "earlier.real": artifact.earlier_real.astype(np.int64),
        }
        if artifact.earlier_covariates is not None:
            tensors["earlier.covariates"] = np.ascontiguousarray(
                artifact.earlier_covariates, np.float64
            )
        return tensors

    def read(self, file: Reading) -> None:
        present = [name for name in self.tensors if name in file.tensors]
        if not present:
            return
        covariates = file.found["context_covariates"]
        wanted = ["earlier.values", "earlier.real"]
        wanted += [] if covariates is None else ["earlier.covariates"]
        if sorted(present) != sorted(wanted):
            raise ModelFileError(f"model file's earlier rows are incomplete ({present}); {EDITED}")
        n_series, rows = file.n_series, _stored_width(file)
        values = self.tensor(file, "earlier.values", (n_series, rows, file.config.n_targets))
        real = self.tensor(file, "earlier.real", (n_series,))
        if not fields.within_scale(values) or not (real.min() >= 0 and real.max() <= rows):
            raise ModelFileError(
                f"model file's tensors earlier.values / earlier.real hold a value out of "
                f"range; {EDITED}"
            )
        file.found.update(earlier=values, earlier_real=real)
        if covariates is not None:
            shape = (n_series, rows, covariates.shape[-1])
            stored = self.tensor(file, "earlier.covariates", shape)
            if not fields.within_scale(stored):
                raise ModelFileError(
                    f"model file's tensor earlier.covariates holds a value that is not "
                    f"finite; {EDITED}"
                )
            file.found["earlier_covariates"] = stored
