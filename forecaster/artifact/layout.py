"""The model file's parts in the order they are written and in the order they are read.

Written: the metadata JSON's keys in the order of `WRITTEN` (the checksum covers that text,
so the order is part of the format). Read: each step checks one part against the parts
read before it (the number of series before anything shaped by it, the frequency before
the time form), in `_READ_STEPS`' order, which also decides which message a file with
several faults gets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from forecaster.artifact import fields
from forecaster.artifact.calibration import BlendPart, IntervalsPart, Nonnegative
from forecaster.artifact.history import History, Lineage
from forecaster.artifact.part import Part, Reading
from forecaster.artifact.record import Artifact
from forecaster.artifact.safe import EDITED, FORMAT_VERSION
from forecaster.artifact.schema import SchemaPart
from forecaster.artifact.series import Series
from forecaster.artifact.settings import Settings
from forecaster.artifact.tensors import WEIGHTS_PREFIX, Context, Covariates, Earlier, Weights
from forecaster.errors import ModelFileError

SETTINGS, SCHEMA, COVARIATES, SERIES = Settings(), SchemaPart(), Covariates(), Series()
HISTORY, NONNEGATIVE, LINEAGE, BLEND = History(), Nonnegative(), Lineage(), BlendPart()
INTERVALS, WEIGHTS, CONTEXT, EARLIER = IntervalsPart(), Weights(), Context(), Earlier()

WRITTEN: tuple[Part, ...] = (
    SETTINGS, SCHEMA, COVARIATES, SERIES, HISTORY, NONNEGATIVE, LINEAGE, BLEND, INTERVALS,
    WEIGHTS, CONTEXT, EARLIER,
)  # fmt: skip
_REQUIRED_KEYS = ("format_version", *(k for p in WRITTEN for k in p.keys if k not in p.optional))
_OPTIONAL_KEYS = tuple(k for p in WRITTEN for k in p.optional)
_TENSORS = {name: part for part in WRITTEN for name in part.tensors}
_REQUIRED_TENSORS = [n for p in WRITTEN for n in p.tensors if n not in p.optional_tensors]


def metadata(artifact: Artifact) -> dict[str, Any]:
    """The metadata JSON's object, every part's keys in the order written."""
    meta: dict[str, Any] = {"format_version": FORMAT_VERSION}
    for part in WRITTEN:
        meta.update(part.write(artifact))
    return meta


def tensors(artifact: Artifact) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for part in WRITTEN:
        found.update(part.write_tensors(artifact))
    return found


def _check_names(file: Reading) -> None:
    """No tensor that no part owns, and the stored context that every file has."""
    unknown = sorted(
        name for name in file.tensors
        if not name.startswith(WEIGHTS_PREFIX) and name not in _TENSORS
    )  # fmt: skip
    if unknown or any(name not in file.tensors for name in _REQUIRED_TENSORS):
        detail = f"unexpected {unknown[0]!r}" if unknown else "no stored context"
        raise ModelFileError(f"model file's tensors: {detail}; {EDITED}")


_READ_STEPS: tuple[Callable[[Reading], None], ...] = (
    SETTINGS.read,
    SCHEMA.read_columns,
    SERIES.read_ids,
    _check_names,
    CONTEXT.read,
    SERIES.read,
    SCHEMA.read_time_form,
    HISTORY.read,
    INTERVALS.read,
    SCHEMA.read_roles,
    SERIES.read_wide_id,
    COVARIATES.read,
    NONNEGATIVE.read,
    LINEAGE.read,
    BLEND.read,
    EARLIER.read,
    WEIGHTS.read,
)


def read(meta: dict[str, Any], tensors: dict[str, np.ndarray]) -> Artifact:
    """The artifact, once every part has the types, shapes and ranges forecaster writes."""
    fields.keys("", meta, [*_REQUIRED_KEYS, *(k for k in _OPTIONAL_KEYS if k in meta)])
    file = Reading(meta, tensors)
    for step in _READ_STEPS:
        step(file)
    return Artifact(**file.found)
