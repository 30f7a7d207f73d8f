"""The model file: safetensors tensors plus JSON metadata, checked on load, never unpickled.

Layout (one safetensors file; docs/model-file.md):
    tensors   ``model.members.K.*`` the weights of ensemble member K; ``context.values``
              (S, L, C) the last ``lookback`` raw rows of each series; ``context.real`` (S,)
              how many are real; the earlier rows, covariates and intervals where present
    metadata  ``forecaster``: JSON with config, schema, frequency, ids, scalers, timestamps,
              history and versions; ``checksum``: SHA-256 of that JSON text and of every
              tensor's name, dtype, shape and bytes (`checksum`)

The file is made of parts (`layout`): each writes its own metadata keys and tensors and
checks them when read, against the parts read before it. Reading the bytes safely and the
checksum are `safe`'s job. Loading refuses (`ModelFileError`, exit code 4, one line)
anything forecaster would not have written: JSON nested deeper than `MAX_JSON_DEPTH`, a
checksum that does not match, and any metadata field of the wrong type or out of range.
The checksum catches accidental damage and edits that do not recompute it; the checks
bound what an edit that does recompute it can do (no NaN scalers, no zero-step frequency,
no float64 context read as int64).

Reading a model never imports torch: weights load as NumPy arrays (`safetensors.numpy`) and
are checked against the shapes the metadata implies, so `predict`, `evaluate` and `info`
start in a second.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from forecaster import files
from forecaster.artifact import layout, safe
from forecaster.artifact.record import Artifact, versions
from forecaster.artifact.safe import FORMAT_VERSION, MAX_JSON_DEPTH, checksum, json_depth
from forecaster.artifact.tensors import earlier_rows
from forecaster.errors import ModelFileError

__all__ = [
    "FORMAT_VERSION",
    "MAX_JSON_DEPTH",
    "Artifact",
    "checksum",
    "earlier_rows",
    "json_depth",
    "load",
    "save",
    "to_bytes",
    "versions",
]


def to_bytes(artifact: Artifact) -> bytes:
    """The model file's bytes: tensors, metadata and the checksum over both."""
    from safetensors.numpy import save as save_bytes

    tensors = layout.tensors(artifact)
    meta_text = json.dumps(layout.metadata(artifact), allow_nan=True)
    metadata = {"forecaster": meta_text, "checksum": checksum(meta_text, tensors)}
    return bytes(save_bytes(tensors, metadata=metadata))


def save(artifact: Artifact, path: str | os.PathLike[str]) -> None:
    """Write the model file atomically (see `files`): a failure leaves any previous file."""
    files.write_file(path, to_bytes(artifact))


def load(path: Path) -> Artifact:
    """Read and check a model file; any problem is a `ModelFileError` naming it."""
    path = Path(path)
    meta, tensors = safe.read_parts(path)
    try:
        return layout.read(meta, tensors)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ModelFileError(
            f"{path}: model metadata is inconsistent ({type(exc).__name__}: "
            f"{safe.one_line(exc)}); {safe.EDITED}"
        ) from None
