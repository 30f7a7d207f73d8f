"""The model file's settings: the network's sizes and the training run that made it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from forecaster.artifact import fields
from forecaster.artifact.part import Part, Reading
from forecaster.artifact.safe import EDITED
from forecaster.config import ModelConfig, TrainConfig
from forecaster.errors import ModelFileError, UsageError
from forecaster.inference import check_config

if TYPE_CHECKING:
    from forecaster.artifact.record import Artifact

# Keys files written before covariates, --duplicates, --allow-negative, --outliers and
# --leading-run lack.
_COVARIATE_MODEL_KEYS = ("n_past", "n_future", "n_static", "n_calendar", "covariate_rows")
_LATER_TRAIN_KEYS = (
    "past_covariates", "future_covariates", "static_covariates", "calendar", "holidays",
    "duplicates", "allow_negative", "outliers", "leading_run",
)  # fmt: skip


class Settings(Part):
    keys = ("model_config", "train_config")

    def write(self, artifact: Artifact) -> dict[str, Any]:
        return {
            "model_config": artifact.model_config.to_dict(),
            "train_config": artifact.train_config.to_dict(),
        }

    def read(self, file: Reading) -> None:
        """Both configs, of their types, and a network that can be built (checked once per
        load: `record.Artifact.check` is for artifacts that were not read from a file)."""
        model_config = ModelConfig(**_values(file.meta, "model_config", ModelConfig,
                                             _COVARIATE_MODEL_KEYS))  # fmt: skip
        try:
            check_config(model_config)
        except ValueError as exc:
            raise ModelFileError(
                f"model metadata describes a network that cannot be built ({exc}); {EDITED}"
            ) from None
        train_values = _values(file.meta, "train_config", TrainConfig, _LATER_TRAIN_KEYS)
        # A file from before --duplicates refused repeated timestamps, and still does.
        train_values.setdefault("duplicates", "error")
        # One from before --outliers kept every value, and still does.
        train_values.setdefault("outliers", "keep")
        # And one from before --leading-run kept every row.
        train_values.setdefault("leading_run", "keep")
        try:
            train_config = TrainConfig(**train_values).validate()
        except UsageError as exc:
            raise ModelFileError(
                f"model metadata train_config is invalid ({exc}); {EDITED}"
            ) from None
        file.found.update(model_config=model_config, train_config=train_config)


def _values(meta: dict[str, Any], key: str, cls: type, later: tuple[str, ...]) -> dict[str, Any]:
    """The dataclass's fields, exactly (``later`` ones may be absent), each of its type."""
    names = [f.name for f in dataclasses.fields(cls)]
    return fields.typed(
        cls, key, fields.keys(key, meta[key], fields.present(meta[key], names, later))
    )
