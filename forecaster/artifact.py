"""The model file: safetensors tensors plus JSON metadata, checked on load, never unpickled.

Layout (one safetensors file):
    tensors   ``model.members.K.*`` the weights of ensemble member K; ``context.values``
              (S, L, C) the last ``lookback`` raw rows of each series; ``context.real`` (S,)
              how many are real
    metadata  ``forecaster``: JSON with config, schema, frequency, ids, scalers, timestamps,
              history and versions; ``checksum``: SHA-256 of every tensor's bytes

Reading a model never imports torch: weights load as NumPy arrays (`safetensors.numpy`) and
are checked against the shapes the metadata implies, so `predict`, `evaluate` and `info`
start in a second.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster import __version__
from forecaster.config import ModelConfig, TrainConfig
from forecaster.data import Schema
from forecaster.errors import ModelFileError, UsageError
from forecaster.inference import check_config, weights_mismatch
from forecaster.windows import Scaler

if TYPE_CHECKING:
    from forecaster.model import Ensemble

# 2: weights named per ensemble member ("members.0.lstm...."); 1 (read too): one network.
FORMAT_VERSION = 2
_MAX_HEADER = 100 * 1024 * 1024


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

    def check(self) -> None:
        """The weights must be those of the network the metadata describes."""
        try:
            check_config(self.model_config)
        except ValueError as exc:
            raise ModelFileError(
                f"model metadata describes a network that cannot be built ({exc}); "
                "the file was edited or damaged: train the model again"
            ) from None
        detail = weights_mismatch(self.model_config, self.weights)
        if detail is not None:
            raise ModelFileError(
                f"model file's weights do not match its metadata ({detail}); the file was "
                "edited or damaged: train the model again"
            )

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


def _tensors(artifact: Artifact) -> dict[str, np.ndarray]:
    tensors = {f"model.{k}": np.ascontiguousarray(v) for k, v in artifact.weights.items()}
    tensors["context.values"] = np.ascontiguousarray(artifact.context)
    tensors["context.real"] = artifact.context_real.astype(np.int64)
    return tensors


def _checksum(tensors: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensors[name]).tobytes())
    return digest.hexdigest()


def _metadata(artifact: Artifact) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "model_config": artifact.model_config.to_dict(),
        "train_config": artifact.train_config.to_dict(),
        "schema": {
            "time": artifact.schema.time,
            "targets": artifact.schema.targets,
            "id": artifact.schema.id,
        },
        "freq": artifact.freq,
        "ids": artifact.ids,
        "scaler": artifact.scaler.to_dict(),
        "series_end": [str(t) for t in artifact.series_end],
        "train_end": [str(t) for t in artifact.train_end],
        "history": artifact.history,
        "summary": artifact.summary,
        "versions": artifact.versions or versions(),
    }


def versions() -> dict[str, str]:
    """Library versions at training time (training has imported torch already)."""
    import torch

    return {
        "forecaster": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def save(artifact: Artifact, path: Path) -> None:
    """Write atomically: a temporary file in the same directory, renamed into place."""
    from safetensors.numpy import save as save_bytes

    tensors = _tensors(artifact)
    metadata = {
        "forecaster": json.dumps(_metadata(artifact), allow_nan=True),
        "checksum": _checksum(tensors),
    }
    payload = save_bytes(tensors, metadata=metadata)
    write_atomic(path, payload)


def write_atomic(path: Path, payload: bytes) -> None:
    """Never leave a half-written file, and never replace a good file with a partial one."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: directory {directory} does not exist")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except PermissionError:
        raise UsageError(f"cannot write {path}: directory {directory} is not writable") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def load(path: Path) -> Artifact:
    """Read and check a model file; any problem is a `ModelFileError` naming it."""
    path = Path(path)
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(
            f"model file not found: {path}; train one with forecaster train"
        ) from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    header = _read_header(payload, path)
    header_meta = header.get("__metadata__")
    meta_text = header_meta.get("forecaster") if isinstance(header_meta, dict) else None
    if not isinstance(meta_text, str):
        raise ModelFileError(f"{path} is a safetensors file but not a forecaster model")
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError:
        meta = None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: model metadata is not a JSON object; the file is damaged")
    version = meta.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer forecaster (model format {version}, this version "
            f"reads {FORMAT_VERSION}); upgrade forecaster to use it"
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(
            f"{path}: unknown model format version {version!r} (this version reads 1 to "
            f"{FORMAT_VERSION}); the file is damaged or was not written by forecaster"
        )
    from safetensors.numpy import load as load_bytes

    try:
        tensors = load_bytes(payload)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ModelFileError(
            f"{path}: model weights cannot be read ({exc}); the file is damaged"
        ) from None
    if _checksum(tensors) != header["__metadata__"].get("checksum"):
        raise ModelFileError(
            f"{path}: checksum mismatch, the weights were changed after training; "
            "train the model again"
        )
    try:
        artifact = _from_parts(meta, tensors)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(
            f"{path}: model metadata is incomplete or inconsistent ({type(exc).__name__}: {exc})"
        ) from None
    try:
        artifact.check()
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return artifact


def _read_header(payload: bytes, path: Path) -> dict[str, Any]:
    not_model = (
        f"{path} is not a forecaster model file (expected a .fcst written by forecaster train)"
    )
    if len(payload) < 8:
        raise ModelFileError(not_model if payload else f"{path} is empty, not a model file")
    (size,) = struct.unpack("<Q", payload[:8])
    if size > _MAX_HEADER or not payload[8:9] == b"{":
        raise ModelFileError(not_model)
    if 8 + size > len(payload):
        raise ModelFileError(f"{path} is truncated ({len(payload)} bytes); train the model again")
    try:
        header = json.loads(payload[8 : 8 + size])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError(not_model) from None
    if not isinstance(header, dict):
        raise ModelFileError(not_model)
    return header


def _from_parts(meta: dict[str, Any], tensors: dict[str, np.ndarray]) -> Artifact:
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    if meta["format_version"] == 1:  # one network, its weights named as LSTMForecaster's
        weights = {f"members.0.{k}": v for k, v in weights.items()}
    schema = meta["schema"]
    context = tensors["context.values"]
    ids = [str(i) for i in meta["ids"]]
    model_config = ModelConfig(**meta["model_config"])
    n_series, channels = len(ids), model_config.n_targets
    if context.shape != (n_series, model_config.lookback, channels):
        raise ValueError(f"stored context has shape {tuple(context.shape)}")
    targets = list(schema["targets"])
    if len(targets) != channels:
        raise ValueError(f"{len(targets)} target name(s) for {channels} target(s)")
    scaler = Scaler.from_dict(meta["scaler"])
    if scaler.mean.shape != (n_series, channels) or scaler.std.shape != (n_series, channels):
        raise ValueError(f"scaler has shape {scaler.mean.shape}, expected {(n_series, channels)}")
    freq = str(meta["freq"])
    pd.tseries.frequencies.to_offset(freq)  # ValueError for an unknown alias
    series_end = [pd.Timestamp(t) for t in meta["series_end"]]
    train_end = [pd.Timestamp(t) for t in meta["train_end"]]
    context_real = tensors["context.real"]
    if len(series_end) != n_series or len(train_end) != n_series or len(context_real) != n_series:
        raise ValueError(f"per-series fields do not all have {n_series} entries")
    return Artifact(
        model_config=model_config,
        train_config=TrainConfig.from_dict(meta["train_config"]),
        schema=Schema(time=schema["time"], targets=targets, id=schema["id"]),
        freq=freq,
        ids=ids,
        scaler=scaler,
        context=context,
        context_real=context_real,
        series_end=series_end,
        train_end=train_end,
        weights=weights,
        history=list(meta.get("history", [])),
        summary=dict(meta.get("summary", {})),
        versions=dict(meta.get("versions", {})),
    )
