"""What every part of the model file has: the metadata keys and tensors it owns, how it
writes them from an `Artifact`, and the state its checks read while a file is loaded.

Each part names its keys and tensors once (here, as class attributes); the list of all
keys a file may hold and of all tensors it may hold is the union over the parts
(`layout`), so that a part added or changed is added or changed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from forecaster.artifact import fields

if TYPE_CHECKING:
    from forecaster.artifact.record import Artifact
    from forecaster.config import ModelConfig

F64, I64 = np.dtype(np.float64), np.dtype(np.int64)


@dataclass
class Reading:
    """A model file being read: its metadata and tensors, and the `Artifact` fields read
    from them so far (later parts check theirs against those)."""

    meta: dict[str, Any]
    tensors: dict[str, np.ndarray]
    found: dict[str, Any] = field(default_factory=dict)  # Artifact field -> checked value
    # Values one part reads in one step and uses in a later one (the schema's, the series')
    pending: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> ModelConfig:
        config: ModelConfig = self.found["model_config"]
        return config

    @property
    def n_series(self) -> int:
        return len(self.found["ids"])


class Part:
    """One part of the model file. Subclasses set the keys and tensors they own and
    override `write` and `write_tensors`; their reading steps are listed in `layout`."""

    keys: ClassVar[tuple[str, ...]] = ()  # metadata keys, in the order they are written
    optional: ClassVar[tuple[str, ...]] = ()  # keys that files written before them lack
    tensors: ClassVar[dict[str, np.dtype]] = {}  # tensor names and their dtypes
    optional_tensors: ClassVar[tuple[str, ...]] = ()  # tensors not every file holds

    def write(self, artifact: Artifact) -> dict[str, Any]:
        """This part's metadata entries, in the order written."""
        return {}

    def write_tensors(self, artifact: Artifact) -> dict[str, np.ndarray]:
        return {}

    def tensor(self, file: Reading, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """This part's tensor ``name``, of its dtype and the shape the metadata implies."""
        return fields.tensor(file.tensors, name, self.tensors[name], shape)
