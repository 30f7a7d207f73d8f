"""Reading a model file's bytes safely, and the checksum over them.

This module knows nothing of the metadata's fields (the parts check those): it makes sure
that what they are given is a safetensors file of this format, intact, that no hostile
header can exhaust memory or the recursive JSON parser on the way, and that nothing in it
is unpickled. See docs/model-file.md for what the checks cover and why.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from forecaster.config import short_repr
from forecaster.errors import ModelFileError

# 3: the checksum covers the metadata text and each tensor's dtype and shape, and every
# metadata field is checked on load. 2: weights named per ensemble member; 1: one network.
# Files of format 1 and 2 are refused: their checksum covers only the tensor bytes.
FORMAT_VERSION = 3
_MAX_HEADER = 100 * 1024 * 1024
# Nesting of the JSON header and metadata (forecaster writes 3 and 6 levels); measured
# before parsing, so that a file nested 200,000 deep never reaches the recursive parser.
MAX_JSON_DEPTH = 64
EDITED = "the file was edited or damaged: train the model again"

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


def dtype_name(dtype: np.dtype) -> str:
    """The name a message gives a dtype: safetensors' own where it has one."""
    return _DTYPE_NAMES.get(dtype, dtype.str)


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
        part(dtype_name(array.dtype).encode())
        part(json.dumps(list(array.shape)).encode())
        part(array.reshape(-1).view(np.uint8).data)
    return digest.hexdigest()


def read_parts(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and tensors of an intact model file of this format, not yet checked
    field by field; any problem is a `ModelFileError` naming the file."""
    payload = _read_bytes(path)
    header_meta = _read_header(payload, path).get("__metadata__")
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
            f"Unicode text; {EDITED}"
        ) from None
    extra = sorted(set(header_meta) - {"forecaster", "checksum"})
    if extra:
        raise ModelFileError(
            f"{path}: unexpected safetensors metadata key(s) {short_repr(extra)}; {EDITED}"
        )
    from safetensors.numpy import load as load_bytes

    try:
        tensors = load_bytes(payload)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ModelFileError(
            f"{path}: model weights cannot be read ({one_line(exc)}); the file is damaged"
        ) from None
    if checksum(meta_text, tensors) != header_meta.get("checksum"):
        raise ModelFileError(
            f"{path}: checksum mismatch, the file (settings or weights) was changed after "
            "training; train the model again"
        )
    return meta, tensors


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(
            f"model file not found: {path}; train one with forecaster train"
        ) from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror or exc}") from None


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


def one_line(exc: BaseException) -> str:
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
            f"version reads; {EDITED}"
        )
    try:
        return json.loads(text)
    except RecursionError:  # not reached after the depth check; kept as a guard
        raise ModelFileError(f"{what} is JSON nested too deep; {EDITED}") from None
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
