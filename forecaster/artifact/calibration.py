"""What the model file holds besides the networks to shape their forecast: the interval
calibration, the blend with a baseline, and which series are kept at or above zero."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from forecaster.artifact import fields
from forecaster.artifact.part import F64, Part, Reading
from forecaster.artifact.safe import EDITED
from forecaster.blend import Blend
from forecaster.errors import ModelFileError
from forecaster.intervals import PROBABILITIES, Intervals

if TYPE_CHECKING:
    from forecaster.artifact.record import Artifact


class IntervalsPart(Part):
    """The calibration (`intervals`): metadata and tensors, or none of them (trained
    without validation windows, or by a forecaster before intervals)."""

    keys = optional = ("intervals",)
    tensors: ClassVar[dict[str, np.dtype]] = {
        "intervals.quantiles": F64,
        "intervals.scale": F64,
        "intervals.difficulty": F64,
    }
    optional_tensors = tuple(tensors)

    def write(self, artifact: Artifact) -> dict[str, Any]:
        intervals = artifact.intervals
        if intervals is None:
            return {"intervals": None}
        return {
            "intervals": {
                "probabilities": PROBABILITIES.tolist(),
                "new_series_factor": intervals.new_series_factor.tolist(),
                "spread_weight": intervals.spread_weight,
                "info": intervals.info,
                **(
                    {}
                    if intervals.recent_prior is None
                    else {"recent_prior": intervals.recent_prior}
                ),
            }
        }

    def write_tensors(self, artifact: Artifact) -> dict[str, np.ndarray]:
        if artifact.intervals is None:
            return {}
        return {
            "intervals.quantiles": np.ascontiguousarray(
                artifact.intervals.quantiles, dtype=np.float64
            ),
            "intervals.scale": np.ascontiguousarray(artifact.intervals.scale, np.float64),
            "intervals.difficulty": np.ascontiguousarray(artifact.intervals.difficulty, np.float64),
        }

    def read(self, file: Reading) -> None:
        value = file.meta.get("intervals")
        present = [name for name in self.tensors if name in file.tensors]
        if value is None:
            if present:
                raise ModelFileError(f"model file's tensor {present[0]} has no metadata; {EDITED}")
            file.found["intervals"] = None
            return
        keys = ["probabilities", "new_series_factor", "spread_weight", "info"]
        if isinstance(value, dict) and "recent_prior" in value:  # written since it counts
            keys.append("recent_prior")
        values = fields.keys("intervals", value, keys)
        if len(present) != len(self.tensors):
            raise ModelFileError(f"model file's intervals lack their tensors; {EDITED}")
        if values["probabilities"] != PROBABILITIES.tolist():
            raise ModelFileError(
                f"model metadata intervals.probabilities is not the grid this version reads; "
                f"{EDITED}"
            )
        file.found["intervals"] = self._calibration(file, values)

    def _calibration(self, file: Reading, values: dict[str, Any]) -> Intervals:
        """The numbers: finite, the spreads >= 0 and the quantiles increasing."""
        config, n_series = file.config, file.n_series
        channels = config.n_targets
        factor = fields.matrix("intervals.new_series_factor", [values["new_series_factor"]],
                               (1, channels), True)[0]  # fmt: skip
        weight = values["spread_weight"]
        if type(weight) not in (int, float) or not 0 <= weight <= fields.MAX_SCALE:
            raise fields.bad("intervals.spread_weight", weight, "a finite number >= 0")
        if not isinstance(values["info"], dict):
            raise fields.bad("intervals.info", values["info"], "an object")
        recent_prior: Any = values.get("recent_prior")  # absent in files written before it
        if "recent_prior" in values and (
            type(recent_prior) not in (int, float) or not 0 <= recent_prior <= fields.MAX_SCALE
        ):
            raise fields.bad("intervals.recent_prior", recent_prior, "a finite number >= 0")
        quantiles = self.tensor(file, "intervals.quantiles",
                                (config.horizon, len(PROBABILITIES), channels))  # fmt: skip
        scale = self.tensor(file, "intervals.scale", (n_series, channels))
        difficulty = self.tensor(file, "intervals.difficulty", (n_series, channels))
        if not (fields.within_scale(quantiles) and np.all(np.diff(quantiles, axis=1) >= 0)):
            raise ModelFileError(
                f"model file's tensor intervals.quantiles is not finite and increasing; {EDITED}"
            )
        for name, array in (("scale", scale), ("difficulty", difficulty)):
            if not np.all((array >= 0) & (array <= fields.MAX_SCALE)):
                raise ModelFileError(
                    f"model file's tensor intervals.{name} holds a value that is not finite "
                    f"and >= 0; {EDITED}"
                )
        return Intervals(quantiles, difficulty, scale, factor, float(weight), values["info"],
                         None if recent_prior is None else float(recent_prior))  # fmt: skip


class Nonnegative(Part):
    """Per series and target, whether its history never went below 0: its forecasts are
    kept >= 0 unless ``train_config.allow_negative``. Absent in files written before it
    (unknown: nothing is clipped)."""

    keys = optional = ("nonnegative",)

    def write(self, artifact: Artifact) -> dict[str, Any]:
        if artifact.nonnegative is None:
            return {}
        return {"nonnegative": np.asarray(artifact.nonnegative, dtype=bool).tolist()}

    def read(self, file: Reading) -> None:
        value = file.meta.get("nonnegative")
        n_series, channels = file.n_series, file.config.n_targets
        if value is not None and not (
            isinstance(value, list) and len(value) == n_series
            and all(isinstance(row, list) and len(row) == channels
                    and all(isinstance(v, bool) for v in row) for row in value)
        ):  # fmt: skip
            raise fields.bad("nonnegative", value, f"{n_series} lists of {channels} booleans")
        file.found["nonnegative"] = (
            None if value is None else np.array(value, dtype=bool).reshape(n_series, channels)
        )


class BlendPart(Part):
    """The networks' forecast mixed with a baseline, as validation chose (`blend`);
    written only when one was chosen."""

    keys = optional = ("blend",)

    def write(self, artifact: Artifact) -> dict[str, Any]:
        return {} if artifact.blend is None else {"blend": artifact.blend.to_dict()}

    def read(self, file: Reading) -> None:
        value = file.meta.get("blend")
        try:
            file.found["blend"] = None if value is None else Blend.from_dict(value)
        except ValueError as exc:
            raise fields.bad("blend", value, f"{exc}") from None
