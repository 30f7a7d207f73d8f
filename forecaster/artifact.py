"""The model file: safetensors tensors plus JSON metadata, checked on load, never unpickled.

Layout (one safetensors file):
    tensors   ``model.members.K.*`` the weights of ensemble member K; ``context.values``
              (S, L, C) the last ``lookback`` raw rows of each series; ``context.real`` (S,)
              how many are real
    metadata  ``forecaster``: JSON with config, schema, frequency, ids, scalers, timestamps,
              history and versions; ``checksum``: SHA-256 of that JSON text and of every
              tensor's name, dtype, shape and bytes (`checksum`)

Loading refuses (`ModelFileError`, exit code 4, one line) anything forecaster would not have
written: JSON nested deeper than `MAX_JSON_DEPTH`, a checksum that does not match, and any
metadata field of the wrong type or out of range (each is checked in `_from_parts`). The
checksum catches accidental damage and edits that do not recompute it; the checks bound what
an edit that does recompute it can do (no NaN scalers, no zero-step frequency, no float64
context read as int64).

Reading a model never imports torch: weights load as NumPy arrays (`safetensors.numpy`) and
are checked against the shapes the metadata implies, so `predict`, `evaluate` and `info`
start in a second.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster import __version__, files
from forecaster.blend import Blend
from forecaster.config import (
    FieldTypeError,
    ModelConfig,
    TrainConfig,
    describe_value,
    short_repr,
    typed_fields,
)
from forecaster.data import Schema
from forecaster.data.forms import known_form
from forecaster.data.times import DATE_ORDERS, zone_object
from forecaster.errors import ModelFileError, UsageError
from forecaster.inference import check_config, weights_mismatch
from forecaster.intervals import PROBABILITIES, Intervals
from forecaster.windows import CovariateScaler, Scaler

if TYPE_CHECKING:
    from forecaster.model import Ensemble

# 3: the checksum covers the metadata text and each tensor's dtype and shape, and every
# metadata field is checked on load. 2: weights named per ensemble member; 1: one network.
# Files of format 1 and 2 are refused: their checksum covers only the tensor bytes.
FORMAT_VERSION = 3
_MAX_HEADER = 100 * 1024 * 1024
# Nesting of the JSON header and metadata (forecaster writes 3 and 6 levels); measured
# before parsing, so that a file nested 200,000 deep never reaches the recursive parser.
MAX_JSON_DEPTH = 64
_EDITED = "the file was edited or damaged: train the model again"


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
        """The weights must be those of the network the metadata describes."""
        try:
            check_config(self.model_config)
        except ValueError as exc:
            raise ModelFileError(
                f"model metadata describes a network that cannot be built ({exc}); "
                "the file was edited or damaged: train the model again"
            ) from None
        config = self.model_config
        # Counted first: weight_shapes enumerates members x layers, which a bad file could
        # make astronomically many.
        per_member = 4 * config.layers + 2 + (2 if config.linear_skip else 0)
        per_member += 1 if config.covariate_features else 0
        if config.members * per_member != len(self.weights):
            raise ModelFileError(
                f"model file's weights do not match its metadata ({len(self.weights)} weight "
                f"tensors, the metadata implies {config.members * per_member}); the file was "
                "edited or damaged: train the model again"
            )
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
    if artifact.context_covariates is not None:
        tensors["context.covariates"] = np.ascontiguousarray(
            artifact.context_covariates, np.float64
        )
    if artifact.earlier is not None and artifact.earlier_real is not None:
        tensors["earlier.values"] = np.ascontiguousarray(artifact.earlier, np.float64)
        tensors["earlier.real"] = artifact.earlier_real.astype(np.int64)
        if artifact.earlier_covariates is not None:
            tensors["earlier.covariates"] = np.ascontiguousarray(
                artifact.earlier_covariates, np.float64
            )
    if artifact.intervals is not None:
        tensors["intervals.quantiles"] = np.ascontiguousarray(
            artifact.intervals.quantiles, dtype=np.float64
        )
        tensors["intervals.scale"] = np.ascontiguousarray(artifact.intervals.scale, np.float64)
        tensors["intervals.difficulty"] = np.ascontiguousarray(
            artifact.intervals.difficulty, np.float64
        )
    return tensors


# Safetensors' names of the dtypes a model file holds (others are named by NumPy).
_DTYPE_NAMES = {
    np.dtype(np.float16): "F16",
    np.dtype(np.float32): "F32",
    np.dtype(np.float64): "F64",
    np.dtype(np.int8): "I8",
    np.dtype(np.int16): "I16",
    np.dtype(np.int32): "I32",
    np.dtype(np.int64): "I64",
    np.dtype(np.uint8): "U8",
    np.dtype(np.bool_): "BOOL",
}


def checksum(meta_text: str, tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 hex digest of everything a forecast depends on.

    The metadata JSON text exactly as stored, then for each tensor in name order its name,
    dtype, shape and bytes, each part preceded by its length (so no two different files
    hash the same parts): a dtype or shape edited in the safetensors header changes the
    digest even when the bytes stay the same.
    """
    digest = hashlib.sha256()

    def part(data: bytes | memoryview) -> None:
        digest.update(struct.pack("<Q", len(data)))
        digest.update(data)

    part(f"forecaster model format {FORMAT_VERSION}".encode())
    part(meta_text.encode("utf-8", "surrogatepass"))
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        part(name.encode("utf-8", "surrogatepass"))
        part(_DTYPE_NAMES.get(array.dtype, array.dtype.str).encode())
        part(json.dumps(list(array.shape)).encode())
        part(array.reshape(-1).view(np.uint8).data)
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
            "date_order": artifact.schema.date_order,
            "zone": artifact.schema.zone,
            "utc_grid": artifact.schema.utc_grid,
            "time_form": artifact.schema.time_form,
            "past": artifact.schema.past,
            "future": artifact.schema.future,
            "static": artifact.schema.static,
            "categories": artifact.schema.categories,
            "calendar": artifact.schema.calendar,
            **_session_meta(artifact.schema),
        },
        "covariates": None
        if artifact.covariate_scaler is None
        else artifact.covariate_scaler.to_dict(),
        "freq": artifact.freq,
        "ids": artifact.ids,
        "scaler": artifact.scaler.to_dict(),
        "series_end": [str(t) for t in artifact.series_end],
        "train_end": [str(t) for t in artifact.train_end],
        "history": artifact.history,
        "summary": artifact.summary,
        "versions": artifact.versions or versions(),
        **(
            {}
            if artifact.nonnegative is None
            else {"nonnegative": np.asarray(artifact.nonnegative, dtype=bool).tolist()}
        ),
        **({"lineage": artifact.lineage} if artifact.lineage else {}),
        **({"blend": artifact.blend.to_dict()} if artifact.blend is not None else {}),
        "intervals": None
        if artifact.intervals is None
        else {
            "probabilities": PROBABILITIES.tolist(),
            "new_series_factor": artifact.intervals.new_series_factor.tolist(),
            "spread_weight": artifact.intervals.spread_weight,
            "info": artifact.intervals.info,
            **(
                {}
                if artifact.intervals.recent_prior is None
                else {"recent_prior": artifact.intervals.recent_prior}
            ),
        },
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


def to_bytes(artifact: Artifact) -> bytes:
    """The model file's bytes: tensors, metadata and the checksum over both."""
    from safetensors.numpy import save as save_bytes

    tensors = _tensors(artifact)
    meta_text = json.dumps(_metadata(artifact), allow_nan=True)
    metadata = {"forecaster": meta_text, "checksum": checksum(meta_text, tensors)}
    return bytes(save_bytes(tensors, metadata=metadata))


def save(artifact: Artifact, path: str | os.PathLike[str]) -> None:
    """Write the model file atomically (see `files`): a failure leaves any previous file."""
    files.write_file(path, to_bytes(artifact))


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
    if not isinstance(header_meta, dict) or not isinstance(meta_text, str):
        raise ModelFileError(f"{path} is a safetensors file but not a forecaster model")
    meta = _parse_json(meta_text, f"{path}: model metadata")
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: model metadata is not a JSON object; the file is damaged")
    _check_version(meta.get("format_version"), path)
    try:  # a "\ud800" escape decodes to a lone surrogate, which no output can encode
        json.dumps(meta, ensure_ascii=False, allow_nan=True).encode("utf-8")
    except UnicodeEncodeError:
        raise ModelFileError(
            f"{path}: model metadata holds a lone surrogate (\\ud800 to \\udfff), not "
            f"Unicode text; {_EDITED}"
        ) from None
    extra = sorted(set(header_meta) - {"forecaster", "checksum"})
    if extra:
        raise ModelFileError(
            f"{path}: unexpected safetensors metadata key(s) {short_repr(extra)}; {_EDITED}"
        )
    from safetensors.numpy import load as load_bytes

    try:
        tensors = load_bytes(payload)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ModelFileError(
            f"{path}: model weights cannot be read ({_one_line(exc)}); the file is damaged"
        ) from None
    if checksum(meta_text, tensors) != header_meta.get("checksum"):
        raise ModelFileError(
            f"{path}: checksum mismatch, the file (settings or weights) was changed after "
            "training; train the model again"
        )
    try:
        artifact = _from_parts(meta, tensors)
        artifact.check()
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ModelFileError(
            f"{path}: model metadata is inconsistent ({type(exc).__name__}: "
            f"{_one_line(exc)}); {_EDITED}"
        ) from None
    return artifact


def _check_version(version: Any, path: Path) -> None:
    is_int = isinstance(version, int) and not isinstance(version, bool)
    if is_int and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer forecaster (model format {version}, this version "
            f"reads {FORMAT_VERSION}); upgrade forecaster to use it"
        )
    if is_int and version in (1, 2):
        raise ModelFileError(
            f"{path} was written by an older forecaster (model format {version}), whose "
            f"checksum does not cover its settings; this version reads format "
            f"{FORMAT_VERSION} only: train the model again"
        )
    if version != FORMAT_VERSION or not is_int:
        raise ModelFileError(
            f"{path}: unknown model format version {short_repr(version)} (this version reads "
            f"{FORMAT_VERSION}); the file is damaged or was not written by forecaster"
        )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


# A JSON string literal (escapes included), and every byte that is not a bracket. A string
# left open runs to the end of the text: the match then never fails, so it never backtracks
# (one that needs the closing quote takes quadratic time on an open run of escaped quotes).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_CHUNK = 1 << 20


def json_depth(text: str | bytes) -> int:
    """Deepest nesting of brackets outside string literals, without parsing the JSON.

    One regular expression drops the strings, ``bytes.translate`` keeps only the brackets,
    and a cumulative sum in chunks of a MiB finds the depth: linear time, no recursion.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    deepest = level = 0
    for first in range(0, len(brackets), _DEPTH_CHUNK):
        codes = np.frombuffer(brackets, np.uint8, min(_DEPTH_CHUNK, len(brackets) - first), first)
        steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
        levels = level + np.cumsum(steps)
        deepest, level = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


def _parse_json(text: str | bytes, what: str) -> Any:
    """``json.loads``, refusing nesting beyond `MAX_JSON_DEPTH`; None when it is not JSON."""
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(
            f"{what} is JSON nested {depth} levels deep, beyond the {MAX_JSON_DEPTH} this "
            f"version reads; {_EDITED}"
        )
    try:
        return json.loads(text)
    except RecursionError:  # not reached after the depth check; kept as a guard
        raise ModelFileError(f"{what} is JSON nested too deep; {_EDITED}") from None
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError; an int beyond 4,300 digits
        return None


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
    header = _parse_json(payload[8 : 8 + size], f"{path}: the safetensors header")
    if not isinstance(header, dict):
        raise ModelFileError(not_model)
    return header


# ---------------------------------------------------------------------------------------
# Checks of every metadata field: a file that passes them holds what forecaster writes.

_META_KEYS = (
    "format_version",
    "model_config",
    "train_config",
    "schema",
    "freq",
    "ids",
    "scaler",
    "series_end",
    "train_end",
    "history",
    "summary",
    "versions",
)
# Data values beyond 1e100 (data.MAX_MAGNITUDE) are refused when read, so no training run
# stores a scaler or context beyond this (twice that, for rounding).
_MAX_SCALE = 2e100
# Written since intervals exist; a file without it (an older forecaster's) still loads.
_OPTIONAL_META_KEYS = ("intervals", "covariates", "nonnegative", "lineage", "blend")
_TENSOR_DTYPES = {
    "context.values": np.dtype(np.float64),
    "context.real": np.dtype(np.int64),
    "context.covariates": np.dtype(np.float64),
    "intervals.quantiles": np.dtype(np.float64),
    "intervals.scale": np.dtype(np.float64),
    "intervals.difficulty": np.dtype(np.float64),
    "earlier.values": np.dtype(np.float64),
    "earlier.real": np.dtype(np.int64),
    "earlier.covariates": np.dtype(np.float64),
}
_INTERVAL_TENSORS = ("intervals.quantiles", "intervals.scale", "intervals.difficulty")
_EARLIER_TENSORS = ("earlier.values", "earlier.real", "earlier.covariates")


def _bad(field: str, value: Any, expected: str) -> ModelFileError:
    given = describe_value(value, "an object")
    return ModelFileError(f"model metadata {field} is {given}; expected {expected}; {_EDITED}")


def _keys(field: str, value: Any, keys: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``value`` must be a JSON object with exactly ``keys``."""
    if not isinstance(value, dict):
        raise _bad(field, value, "an object")
    missing = [k for k in keys if k not in value]
    unknown = sorted(set(value) - set(keys))
    if missing or unknown:
        names = ", ".join(missing or unknown)
        names = names if len(names) <= 120 else names[:117] + "..."
        detail = f"lacks key(s) {names}" if missing else f"has unknown key(s) {names}"
        where = "model metadata" if field == "" else f"model metadata {field}"
        raise ModelFileError(f"{where} {detail}; {_EDITED}")
    return value


def _typed(cls: type, field: str, values: dict[str, Any]) -> dict[str, Any]:
    try:
        return typed_fields(cls, values, null=True)
    except FieldTypeError as exc:
        raise ModelFileError(
            f"model metadata {field}.{exc.key} is {exc.given}; expected {exc.expected}; {_EDITED}"
        ) from None


def _strings(field: str, value: Any, count: int | None = None) -> list[str]:
    """A list of unique strings (``count`` of them, if given)."""
    expected = "a list of unique strings" + (f", {count} of them" if count is not None else "")
    if not isinstance(value, list):
        raise _bad(field, value, expected)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _bad(f"{field}[{i}]", item, "a string")
    if len(set(value)) != len(value):
        first = {v: i for i, v in reversed(list(enumerate(value)))}
        i = next(i for i, v in enumerate(value) if first[v] != i)
        raise _bad(f"{field}[{i}]", value[i], f"a string not already in {field}")
    if count is not None and len(value) != count:
        raise ModelFileError(
            f"model metadata {field} has {len(value)} entries; expected {count}; {_EDITED}"
        )
    return value


def _tensor(tensors: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = tensors[name]
    dtype = _TENSOR_DTYPES[name]
    if array.dtype != dtype:
        raise ModelFileError(
            f"model file's tensor {name} is {_DTYPE_NAMES.get(array.dtype, array.dtype.str)}; "
            f"expected {_DTYPE_NAMES[dtype]}; {_EDITED}"
        )
    if array.shape != shape:
        raise ModelFileError(
            f"model file's tensor {name} has shape {array.shape}; the metadata implies "
            f"{shape}; {_EDITED}"
        )
    return array


def _matrix(field: str, value: Any, shape: tuple[int, int], positive: bool) -> np.ndarray:
    """Finite numbers of at most `_MAX_SCALE` in magnitude, as a list of ``shape[0]`` rows."""
    rows, columns = shape
    number = f"a finite number{' > 0' if positive else ''} of at most {_MAX_SCALE:g} in magnitude"
    if not isinstance(value, list) or len(value) != rows:
        raise _bad(field, value, f"a list of {rows} row(s), one per series")
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != columns:
            raise _bad(f"{field}[{i}]", row, f"a list of {columns} number(s), one per target")
        for j, item in enumerate(row):
            if type(item) not in (int, float):
                raise _bad(f"{field}[{i}][{j}]", item, number)
    array = np.asarray(value, dtype=np.float64).reshape(shape)
    with np.errstate(invalid="ignore"):
        wrong = ~(np.abs(array) <= _MAX_SCALE) | ((array <= 0) if positive else False)
    if wrong.any():
        series, target = (int(i) for i in np.argwhere(wrong)[0])
        item = float(array[series, target])
        raise _bad(f"{field}[{series}][{target}]", item, number)
    return array


def _timestamps(field: str, value: Any, count: int) -> list[pd.Timestamp]:
    """Timestamps as forecaster writes them (``str(pd.Timestamp)``), none NaT, one time zone."""
    expected = "a timestamp as forecaster writes them ('2020-01-31 00:00:00')"
    if not isinstance(value, list) or len(value) != count:
        raise _bad(field, value, f"a list of {count} timestamp(s), one per series")
    stamps: list[pd.Timestamp] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _bad(f"{field}[{i}]", item, expected)
        try:
            stamp = pd.Timestamp(item)
        except (ValueError, TypeError, OverflowError):
            raise _bad(f"{field}[{i}]", item, expected) from None
        if stamp is pd.NaT or pd.isna(stamp) or str(stamp) != item:
            raise _bad(f"{field}[{i}]", item, expected)
        stamps.append(stamp)
    zones = {str(s.tz) for s in stamps}
    if len(zones) > 1:
        raise ModelFileError(
            f"model metadata {field} mixes time zones ({short_repr(sorted(zones))}); {_EDITED}"
        )
    return stamps


def _frequency(freq: Any, last: pd.Timestamp | None, horizon: int) -> str:
    """A pandas alias with a positive multiple that steps ``horizon`` times past ``last``."""
    expected = "a pandas frequency alias with a positive multiple ('D', 'h', '15min', 'MS')"
    if not isinstance(freq, str):
        raise _bad("freq", freq, expected)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            offset = pd.tseries.frequencies.to_offset(freq)
        except (ValueError, TypeError, OverflowError):
            raise _bad("freq", freq, expected) from None
        if not isinstance(offset.n, int) or offset.n < 1:
            raise _bad("freq", freq, expected)
        start = pd.Timestamp("2000-01-01") if last is None else last
        try:
            steps = pd.date_range(start, periods=horizon + 1, freq=offset)
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            steps = None
        if steps is None or len(steps) != horizon + 1 or not steps.is_monotonic_increasing:
            raise _bad("freq", freq, f"{expected} that steps {horizon} times past {start}")
        if len(steps.unique()) != len(steps):
            raise _bad("freq", freq, f"{expected} that steps {horizon} times past {start}")
    return freq


_SCHEMA_KEYS = ("time", "targets", "id", "date_order", "zone", "utc_grid")
# Written since covariates exist; older files lack them (and have none).
_COVARIATE_SCHEMA_KEYS = ("past", "future", "static", "categories", "calendar")
# Written since time forms (years, quarters, ...) and --duplicates exist; older files lack them.
_FORM_SCHEMA_KEYS = ("time_form",)
_DUPLICATES_TRAIN_KEYS = ("duplicates",)
_COVARIATE_MODEL_KEYS = ("n_past", "n_future", "n_static", "n_calendar", "covariate_rows")
_COVARIATE_TRAIN_KEYS = (
    "past_covariates", "future_covariates", "static_covariates", "calendar", "holidays",
)  # fmt: skip
_LATER_TRAIN_KEYS = ("allow_negative",)  # files written before them lack them


def _present(value: Any, keys: tuple[str, ...] | list[str], optional: tuple[str, ...]) -> list[str]:
    """``keys`` with those of ``optional`` that ``value`` holds (older files lack them)."""
    held = value if isinstance(value, dict) else {}
    return [k for k in keys if k not in optional or k in held]


def _zone(schema: dict[str, Any]) -> str | None:
    """The schema's date order, zone and grid basis: known values that fit together."""
    order, zone, utc_grid = schema["date_order"], schema["zone"], schema["utc_grid"]
    if order is not None and order not in DATE_ORDERS:
        raise _bad("schema.date_order", order, f"null or one of {', '.join(DATE_ORDERS)}")
    if not isinstance(utc_grid, bool):
        raise _bad("schema.utc_grid", utc_grid, "true or false")
    if zone is None:
        if utc_grid:
            raise _bad("schema.utc_grid", utc_grid, "false for timestamps without a zone")
        return None
    expected = "null, an offset such as '-08:00', or an IANA time zone name"
    if not isinstance(zone, str):
        raise _bad("schema.zone", zone, expected)
    try:
        zone_object(zone)
    except UsageError:
        raise _bad("schema.zone", zone, expected) from None
    return zone


def _from_parts(meta: dict[str, Any], tensors: dict[str, np.ndarray]) -> Artifact:
    """The artifact, once every field has the type, shape and range forecaster writes."""
    _keys("", meta, [*_META_KEYS, *(k for k in _OPTIONAL_META_KEYS if k in meta)])
    model_values = _keys(
        "model_config",
        meta["model_config"],
        _present(meta["model_config"], [f.name for f in dataclasses.fields(ModelConfig)],
                 _COVARIATE_MODEL_KEYS),
    )  # fmt: skip
    model_config = ModelConfig(**_typed(ModelConfig, "model_config", model_values))
    try:
        check_config(model_config)
    except ValueError as exc:
        raise ModelFileError(
            f"model metadata describes a network that cannot be built ({exc}); {_EDITED}"
        ) from None
    train_values = _keys(
        "train_config",
        meta["train_config"],
        _present(meta["train_config"], [f.name for f in dataclasses.fields(TrainConfig)],
                 _COVARIATE_TRAIN_KEYS + _DUPLICATES_TRAIN_KEYS + _LATER_TRAIN_KEYS),
    )  # fmt: skip
    try:
        train_config = TrainConfig(**_typed(TrainConfig, "train_config", train_values)).validate()
    except UsageError as exc:
        raise ModelFileError(f"model metadata train_config is invalid ({exc}); {_EDITED}") from None
    optional = (*_COVARIATE_SCHEMA_KEYS, *_FORM_SCHEMA_KEYS, "session")
    schema_values = _keys(
        "schema",
        meta["schema"],
        _present(meta["schema"], [*_SCHEMA_KEYS, *optional], optional),
    )
    if not isinstance(schema_values["time"], str):
        raise _bad("schema.time", schema_values["time"], "a string")
    if schema_values["id"] is not None and not isinstance(schema_values["id"], str):
        raise _bad("schema.id", schema_values["id"], "a string or null")
    zone = _zone(schema_values)
    channels = model_config.n_targets
    targets = _strings("schema.targets", schema_values["targets"], channels)
    ids = _strings("ids", meta["ids"])
    n_series, lookback = len(ids), model_config.lookback
    if n_series == 0:
        raise _bad("ids", ids, "at least one series id")

    unknown = sorted(
        name for name in tensors if not name.startswith("model.") and name not in _TENSOR_DTYPES
    )
    optional_tensors = (*_INTERVAL_TENSORS, *_EARLIER_TENSORS, "context.covariates")
    required = [n for n in _TENSOR_DTYPES if n not in optional_tensors]
    if unknown or any(name not in tensors for name in required):
        detail = f"unexpected {unknown[0]!r}" if unknown else "no stored context"
        raise ModelFileError(f"model file's tensors: {detail}; {_EDITED}")
    context = _tensor(tensors, "context.values", (n_series, lookback, channels))
    if not np.all(np.abs(context) <= _MAX_SCALE):  # False for NaN as well
        series = int(np.argwhere(~(np.abs(context) <= _MAX_SCALE))[0][0])
        raise ModelFileError(
            f"model file's tensor context.values holds a value that is not finite or beyond "
            f"{_MAX_SCALE:g} (series {series}); {_EDITED}"
        )
    context_real = _tensor(tensors, "context.real", (n_series,))
    if n_series and not (context_real.min() >= 1 and context_real.max() <= lookback):
        raise ModelFileError(
            f"model file's tensor context.real holds {int(context_real.min())} to "
            f"{int(context_real.max())}; expected 1 to lookback {lookback}; {_EDITED}"
        )

    scaler_values = _keys("scaler", meta["scaler"], ("mean", "std"))
    scaler = Scaler(
        mean=_matrix("scaler.mean", scaler_values["mean"], (n_series, channels), False),
        std=_matrix("scaler.std", scaler_values["std"], (n_series, channels), True),
    )
    series_end = _timestamps("series_end", meta["series_end"], n_series)
    train_end = _timestamps("train_end", meta["train_end"], n_series)
    if str(series_end[0].tz) != str(train_end[0].tz):
        raise ModelFileError(f"model metadata train_end and series_end mix time zones; {_EDITED}")
    for i, (trained, ended) in enumerate(zip(train_end, series_end, strict=True)):
        if trained > ended:
            raise ModelFileError(
                f"model metadata train_end[{i}] ({trained}) is after series_end[{i}] "
                f"({ended}); {_EDITED}"
            )
    freq = _frequency(meta["freq"], max(series_end), model_config.horizon)
    time_form = schema_values.get("time_form")
    if not known_form(time_form, freq):
        raise _bad("schema.time_form", time_form, "null, or a form forecaster writes that "
                   f"fits freq {freq!r}")  # fmt: skip

    history = meta["history"]
    if not isinstance(history, list):
        raise _bad("history", history, "a list of objects")
    for entry in history:
        if not isinstance(entry, dict):
            raise _bad("history", entry, "a list of objects")
    summary, versions_ = meta["summary"], meta["versions"]
    if not isinstance(summary, dict):
        raise _bad("summary", summary, "an object")
    if not isinstance(versions_, dict):
        raise _bad("versions", versions_, "an object of strings")
    for value in versions_.values():
        if not isinstance(value, str):
            raise _bad("versions", value, "an object of strings")
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    intervals = _intervals(meta.get("intervals"), tensors, model_config, n_series)
    schema = Schema(
        time=schema_values["time"],
        targets=targets,
        id=schema_values["id"],
        date_order=schema_values["date_order"],
        zone=zone,
        utc_grid=schema_values["utc_grid"],
        time_form=time_form,
        **_covariate_schema(schema_values),
        session=_session(schema_values.get("session"), freq),
    )
    covariate_scaler, context_covariates = _covariates(
        meta.get("covariates"), tensors, schema, model_config, n_series
    )
    covariate_channels = None if context_covariates is None else context_covariates.shape[-1]
    return Artifact(
        model_config=model_config,
        train_config=train_config,
        covariate_scaler=covariate_scaler,
        context_covariates=context_covariates,
        schema=schema,
        freq=freq,
        # Files written before a wide file's series took its target's name called it "series".
        ids=[schema.wide_id] if schema.id is None and ids == ["series"] else ids,
        scaler=scaler,
        context=context,
        context_real=context_real,
        series_end=series_end,
        train_end=train_end,
        weights=weights,
        history=history,
        summary=summary,
        versions=versions_,
        intervals=intervals,
        nonnegative=_nonnegative(meta.get("nonnegative"), n_series, model_config.n_targets),
        lineage=_lineage(meta.get("lineage")),
        blend=_blend(meta.get("blend")),
        **_earlier(tensors, n_series, model_config, channels, covariate_channels),
    )


def earlier_rows(config: ModelConfig) -> int:
    """Rows stored before each context: one more window's context and horizon."""
    return config.lookback + config.horizon


def _earlier(
    tensors: dict[str, np.ndarray],
    n_series: int,
    config: ModelConfig,
    channels: int,
    covariate_channels: int | None,
) -> dict[str, np.ndarray | None]:
    """The rows before the stored contexts: all three tensors or none (a file written
    before them), of the shapes the metadata implies and finite."""
    present = [name for name in _EARLIER_TENSORS if name in tensors]
    if not present:
        return {}
    covariates = covariate_channels is not None
    wanted = ["earlier.values", "earlier.real"] + (["earlier.covariates"] if covariates else [])
    if sorted(present) != sorted(wanted):
        raise ModelFileError(f"model file's earlier rows are incomplete ({present}); {_EDITED}")
    rows = earlier_rows(config)
    values = _tensor(tensors, "earlier.values", (n_series, rows, channels))
    real = _tensor(tensors, "earlier.real", (n_series,))
    if not np.all(np.abs(values) <= _MAX_SCALE) or not (
        real.min() >= 0 and real.max() <= rows
    ):  # fmt: skip
        raise ModelFileError(
            f"model file's tensors earlier.values / earlier.real hold a value out of range; "
            f"{_EDITED}"
        )
    out: dict[str, np.ndarray | None] = {"earlier": values, "earlier_real": real}
    if covariate_channels is not None:
        shape = (n_series, rows, covariate_channels)
        out["earlier_covariates"] = stored = _tensor(tensors, "earlier.covariates", shape)
        if not np.all(np.abs(stored) <= _MAX_SCALE):
            raise ModelFileError(
                f"model file's tensor earlier.covariates holds a value that is not finite; "
                f"{_EDITED}"
            )
    return out


def _blend(value: Any) -> Blend | None:
    """The stored blend (`blend.Blend`), or None for the networks alone."""
    if value is None:
        return None
    try:
        return Blend.from_dict(value)
    except ValueError as exc:
        raise _bad("blend", value, f"{exc}") from None


_LINEAGE_KEYS = ("file", "sha256", "updated_at", "rows_added", "series_added", "series_dropped")


def _lineage(value: Any) -> list[dict[str, Any]]:
    """The updates a model came from (`warmstart.Lineage`), each with its fields' types."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad("lineage", value, "a list of objects")
    for entry in value:
        fields = _keys("lineage", entry, _LINEAGE_KEYS)
        for key in ("file", "sha256", "updated_at"):
            if not isinstance(fields[key], str):
                raise _bad(f"lineage.{key}", fields[key], "a string")
        for key in ("rows_added", "series_added", "series_dropped"):
            count = fields[key]
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise _bad(f"lineage.{key}", count, "a count (an integer >= 0)")
    return value


def _nonnegative(value: Any, n_series: int, channels: int) -> np.ndarray | None:
    """Per series and target, whether its history never went below 0 (absent: unknown)."""
    if value is None:
        return None
    if not (
        isinstance(value, list) and len(value) == n_series
        and all(isinstance(row, list) and len(row) == channels
                and all(isinstance(v, bool) for v in row) for row in value)
    ):  # fmt: skip
        raise _bad("nonnegative", value, f"{n_series} lists of {channels} booleans")
    return np.array(value, dtype=bool).reshape(n_series, channels)


def _session_meta(schema: Schema) -> dict[str, Any]:
    """Written only for data with a session: other models' files stay as they were."""
    return {} if schema.session is None else {"session": schema.session.to_dict()}


def _session(value: Any, freq: str) -> Any:
    """The stored session (`data.sessions`), on a grid of the model's frequency."""
    if value is None:
        return None
    from forecaster.data.panel import fixed_step_ns
    from forecaster.data.sessions import Session

    step = fixed_step_ns(freq)
    if step is None and freq == "B":  # trading days: one slot a day
        step = 86_400_000_000_000
    try:
        return Session.from_dict(value, step)
    except (ValueError, TypeError, AttributeError):
        raise _bad(
            "schema.session", value, "weekdays 0-6 and 'HH:MM:SS-HH:MM:SS' ranges a step apart"
        ) from None


def _covariate_schema(values: dict[str, Any]) -> dict[str, Any]:
    """The schema's covariate roles: lists of column names, categories per static text
    column, and calendar features this version can compute."""
    from forecaster.data.calendar import calendar_values

    roles = {name: _strings(f"schema.{name}", values.get(name, [])) for name in
             ("past", "future", "static", "calendar")}  # fmt: skip
    categories = values.get("categories", {})
    if not isinstance(categories, dict) or not all(
        column in roles["static"] and isinstance(items, list) and items
        and all(isinstance(v, str) for v in items)
        for column, items in categories.items()
    ):  # fmt: skip
        raise _bad("schema.categories", categories, "lists of text categories of static columns")
    try:
        calendar_values(pd.DatetimeIndex(["2000-01-01"]), "D", roles["calendar"])
    except Exception:  # an unknown feature or holiday country: not what forecaster writes
        raise _bad(
            "schema.calendar", roles["calendar"], "calendar features forecaster derives"
        ) from None
    return {**roles, "categories": categories}


def _covariates(
    value: Any,
    tensors: dict[str, np.ndarray],
    schema: Schema,
    config: ModelConfig,
    n_series: int,
) -> tuple[CovariateScaler | None, np.ndarray | None]:
    """The covariates' scaling and stored context: present exactly when the schema has
    covariates, and as many channels as the network reads."""
    counts = (schema.n_past, schema.n_future, schema.n_static, len(schema.calendar))
    network = (config.n_past, config.n_future, config.n_static, config.n_calendar)
    if counts != network:
        raise ModelFileError(
            f"model metadata: the schema's covariates {counts} do not match the network's "
            f"{network}; {_EDITED}"
        )
    stored = "context.covariates" in tensors
    if not schema.has_covariates:
        if value is not None or stored:
            raise ModelFileError(f"model file holds covariates its schema does not name; {_EDITED}")
        return None, None
    if value is None or not stored:
        raise ModelFileError(f"model file's covariates lack their scaling or context; {_EDITED}")
    channels = len(schema.covariate_channels)
    values = _keys("covariates", value, ("mean", "std"))
    mean = _matrix("covariates.mean", [values["mean"]], (1, channels), False)[0]
    std = _matrix("covariates.std", [values["std"]], (1, channels), True)[0]
    context = _tensor(tensors, "context.covariates", (n_series, config.lookback, channels))
    if not np.all(np.abs(context) <= _MAX_SCALE):
        raise ModelFileError(
            f"model file's tensor context.covariates holds a value that is not finite; {_EDITED}"
        )
    return CovariateScaler(mean, std), context


def _intervals(
    value: Any, tensors: dict[str, np.ndarray], config: ModelConfig, n_series: int
) -> Intervals | None:
    """The calibration: metadata and both tensors, or none of them."""
    present = [name for name in _INTERVAL_TENSORS if name in tensors]
    if value is None:
        if present:
            raise ModelFileError(f"model file's tensor {present[0]} has no metadata; {_EDITED}")
        return None
    keys = ["probabilities", "new_series_factor", "spread_weight", "info"]
    if isinstance(value, dict) and "recent_prior" in value:  # written since it counts
        keys.append("recent_prior")
    values = _keys("intervals", value, keys)
    if len(present) != len(_INTERVAL_TENSORS):
        raise ModelFileError(f"model file's intervals lack their tensors; {_EDITED}")
    if values["probabilities"] != PROBABILITIES.tolist():
        raise ModelFileError(
            f"model metadata intervals.probabilities is not the grid this version reads; {_EDITED}"
        )
    channels = config.n_targets
    factor = _matrix("intervals.new_series_factor", [values["new_series_factor"]],
                     (1, channels), True)[0]  # fmt: skip
    weight = values["spread_weight"]
    if type(weight) not in (int, float) or not 0 <= weight <= _MAX_SCALE:
        raise _bad("intervals.spread_weight", weight, "a finite number >= 0")
    if not isinstance(values["info"], dict):
        raise _bad("intervals.info", values["info"], "an object")
    recent_prior: Any = values.get("recent_prior")  # absent in files written before it
    if "recent_prior" in values and (
        type(recent_prior) not in (int, float) or not 0 <= recent_prior <= _MAX_SCALE
    ):
        raise _bad("intervals.recent_prior", recent_prior, "a finite number >= 0")
    quantiles = _tensor(tensors, "intervals.quantiles",
                        (config.horizon, len(PROBABILITIES), channels))  # fmt: skip
    scale = _tensor(tensors, "intervals.scale", (n_series, channels))
    difficulty = _tensor(tensors, "intervals.difficulty", (n_series, channels))
    if not (np.all(np.abs(quantiles) <= _MAX_SCALE) and np.all(np.diff(quantiles, axis=1) >= 0)):
        raise ModelFileError(
            f"model file's tensor intervals.quantiles is not finite and increasing; {_EDITED}"
        )
    for name, array in (("scale", scale), ("difficulty", difficulty)):
        if not np.all((array >= 0) & (array <= _MAX_SCALE)):
            raise ModelFileError(
                f"model file's tensor intervals.{name} holds a value that is not finite and "
                f">= 0; {_EDITED}"
            )
    return Intervals(quantiles, difficulty, scale, factor, float(weight), values["info"],
                     None if recent_prior is None else float(recent_prior))  # fmt: skip
