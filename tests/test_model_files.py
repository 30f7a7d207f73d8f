"""Unusable model files: each is refused with exit code 4 and one clear line; nothing runs.

Every damaged file is made from the session's trained model (copied, then damaged), and each
is given to `predict`, `evaluate` and `info`.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.numpy import load as load_bytes

from forecaster import artifact as artifact_io
from forecaster.errors import ModelFileError
from tests.conftest import invoke, seasonal_frame

COMMANDS = ["predict", "evaluate", "info"]


def split_file(payload: bytes) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    """A safetensors file: 8-byte little-endian header length, JSON header, tensor bytes."""
    (size,) = struct.unpack("<Q", payload[:8])
    return json.loads(payload[8 : 8 + size]), payload[8 + size :]


def join_file(header: dict, body: bytes) -> bytes:  # type: ignore[type-arg]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads the header to 8 bytes
    return struct.pack("<Q", len(text)) + text + body


def edit_metadata(
    edit: Callable[[dict], None],  # type: ignore[type-arg]
    recompute: bool = True,
) -> Callable[[bytes], bytes]:
    """Change the forecaster metadata JSON and, as an informed editor would, its checksum.

    With the checksum recomputed, what refuses the file is the check of the edited field;
    with ``recompute=False`` the checksum itself must catch the edit.
    """

    def damage(payload: bytes) -> bytes:
        header, body = split_file(payload)
        meta = json.loads(header["__metadata__"]["forecaster"])
        edit(meta)
        text = json.dumps(meta)
        header["__metadata__"]["forecaster"] = text
        if recompute:
            tensors = load_bytes(payload)
            header["__metadata__"]["checksum"] = artifact_io.checksum(text, tensors)
        return join_file(header, body)

    return damage


def edit_header(edit: Callable[[dict], None]) -> Callable[[bytes], bytes]:  # type: ignore[type-arg]
    def damage(payload: bytes) -> bytes:
        header, body = split_file(payload)
        edit(header)
        return join_file(header, body)

    return damage


def flip_byte_in_weights(payload: bytes) -> bytes:
    """One bit of one LSTM weight changed; the file stays structurally valid."""
    header, body = split_file(payload)
    begin, end = header["model.members.0.lstm.weight_hh_l0"]["data_offsets"]
    damaged = bytearray(payload)
    damaged[len(payload) - len(body) + (begin + end) // 2] ^= 0x01
    return bytes(damaged)


def set_in(path: str, value: object) -> Callable[[dict], None]:  # type: ignore[type-arg]
    def edit(meta: dict) -> None:  # type: ignore[type-arg]
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def drop_key(key: str) -> Callable[[dict], None]:  # type: ignore[type-arg]
    return lambda meta: meta.pop(key)


# (id, how to damage the good bytes, phrases the one-line message must contain)
DAMAGED: list[tuple[str, Callable[[bytes], bytes], list[str]]] = [
    (
        "a-csv-file",
        lambda _: seasonal_frame(20).to_csv(index=False).encode(),
        ["not a forecaster model file"],
    ),
    ("empty-file", lambda _: b"", ["is empty, not a model file"]),
    ("seven-bytes", lambda _: b"\x01" * 7, ["not a forecaster model file"]),
    ("random-bytes", lambda _: os.urandom(4096), ["not a forecaster model file"]),
    ("truncated-in-header", lambda good: good[:100], ["is truncated"]),
    ("truncated-in-weights", lambda good: good[: len(good) // 2], ["the file is damaged"]),
    ("last-byte-missing", lambda good: good[:-1], ["the file is damaged"]),
    ("trailing-garbage", lambda good: good + b"\x00" * 16, ["the file is damaged"]),
    ("one-byte-flipped-in-weights", flip_byte_in_weights, ["checksum mismatch"]),
    (
        "checksum-removed",
        edit_header(lambda h: h["__metadata__"].pop("checksum")),
        ["checksum mismatch"],
    ),
    (
        "checksum-edited",
        edit_header(set_in("__metadata__.checksum", "0" * 64)),
        ["checksum mismatch"],
    ),
    (
        "plain-safetensors-no-forecaster-metadata",
        edit_header(lambda h: h.pop("__metadata__")),
        ["not a forecaster model"],
    ),
    (
        "metadata-not-json",
        edit_header(set_in("__metadata__.forecaster", "{oops")),
        ["metadata is not a JSON object"],
    ),
    (
        "metadata-a-json-list",
        edit_header(set_in("__metadata__.forecaster", "[1, 2]")),
        ["metadata is not a JSON object"],
    ),
    (
        "hidden-size-edited",
        edit_metadata(set_in("model_config.hidden", 16)),
        ["weights do not match its metadata", "train the model again"],
    ),
    (
        "layers-edited",
        edit_metadata(set_in("model_config.layers", 3)),
        ["weights do not match its metadata"],
    ),
    (
        "lookback-edited",
        edit_metadata(set_in("model_config.lookback", 5)),
        ["network that cannot be built", "edited or damaged"],
    ),
    (
        "targets-edited",
        edit_metadata(set_in("schema.targets", ["value", "other"])),
        ["schema.targets has 2 entries; expected 1"],
    ),
    (
        "series-ids-edited",
        edit_metadata(set_in("ids", ["a", "b"])),
        ["tensor context.values has shape (1, "],
    ),
    ("scaler-emptied", edit_metadata(set_in("scaler.mean", [])), ["scaler.mean is a list ([])"]),
    (
        "frequency-edited",
        edit_metadata(set_in("freq", "fortnightly")),
        ["freq is a string ('fortnightly'); expected a pandas frequency alias"],
    ),
    (
        "series-end-not-a-date",
        edit_metadata(set_in("series_end", ["yesterday"])),
        ["series_end[0] is a string ('yesterday'); expected a timestamp"],
    ),
    ("schema-removed", edit_metadata(drop_key("schema")), ["model metadata lacks key(s) schema"]),
    (
        "settings-edited-checksum-kept",
        edit_metadata(set_in("freq", "W"), recompute=False),
        ["checksum mismatch", "settings or weights"],
    ),
    (
        "newer-format-version",
        edit_metadata(set_in("format_version", 99)),
        ["newer forecaster", "model format 99", "upgrade"],
    ),
    (
        "format-version-a-string",
        edit_metadata(set_in("format_version", "1")),
        ["unknown model format version"],
    ),
    (
        "format-version-zero",
        edit_metadata(set_in("format_version", 0)),
        ["unknown model format version"],
    ),
    (
        "format-version-missing",
        edit_metadata(drop_key("format_version")),
        ["unknown model format version"],
    ),
]


@pytest.fixture(scope="module")
def good_bytes(trained_model: Path) -> bytes:
    return trained_model.read_bytes()


@pytest.fixture(scope="module")
def holdout_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("holdout") / "holdout.csv"
    seasonal_frame(60).to_csv(path, index=False)
    return path


def run_command(command: str, model: Path, data: Path) -> object:
    if command == "predict":
        return invoke(["predict", "-m", str(model)])
    if command == "evaluate":
        return invoke(["evaluate", "-m", str(model), str(data), "--format", "json"])
    return invoke(["info", str(model), "--format", "json"])


def assert_refused_model(result: object, phrases: list[str]) -> None:
    exit_code, stderr, stdout = result.exit_code, result.stderr, result.stdout  # type: ignore[attr-defined]
    assert exit_code == 4, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forecaster: error: "), stderr
    for phrase in phrases:
        assert phrase in stderr, (phrase, stderr)
    assert "Traceback" not in stderr
    assert stdout == ""


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("damage", "phrases"), [d[1:] for d in DAMAGED], ids=[d[0] for d in DAMAGED]
)
def test_damaged_model_is_refused(
    damage: Callable[[bytes], bytes],
    phrases: list[str],
    command: str,
    good_bytes: bytes,
    holdout_csv: Path,
    tmp_path: Path,
) -> None:
    model = tmp_path / "model.fcst"
    model.write_bytes(damage(good_bytes))
    assert_refused_model(run_command(command, model, holdout_csv), phrases)


def test_the_undamaged_copy_works(good_bytes: bytes, holdout_csv: Path, tmp_path: Path) -> None:
    """The damage helpers themselves keep a valid file valid (so refusals are the damage's)."""
    model = tmp_path / "model.fcst"
    model.write_bytes(join_file(*split_file(good_bytes)))
    for command in COMMANDS:
        result = run_command(command, model, holdout_csv)
        assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    edited = edit_metadata(set_in("summary.note", "harmless"))(good_bytes)
    model.write_bytes(edited)
    assert run_command("predict", model, holdout_csv).exit_code == 0  # type: ignore[attr-defined]


def test_missing_model_file_and_a_directory(tmp_path: Path) -> None:
    missing = invoke(["predict", "-m", str(tmp_path / "nope.fcst")])
    assert_refused_model(missing, ["model file not found", "forecaster train"])
    directory = invoke(["info", str(tmp_path)])
    assert_refused_model(directory, ["is a directory"])


class _Payload:
    """Unpickling this creates the marker file: proof that the pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _pickles(marker: Path) -> dict[str, bytes]:
    """Malicious pickles in the shapes people meet: torch.save (zip and legacy) and raw."""
    import io

    zipped, legacy = io.BytesIO(), io.BytesIO()
    state = {"model.head.weight": torch.zeros(2, 2), "evil": _Payload(marker)}
    torch.save(state, zipped)
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    return {
        "torch-save-zip": zipped.getvalue(),
        "torch-save-legacy": legacy.getvalue(),
        "raw-pickle": pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),
        "raw-pickle-protocol-0": pickle.dumps(_Payload(marker), protocol=0),
    }


@pytest.mark.parametrize(
    "kind", ["torch-save-zip", "torch-save-legacy", "raw-pickle", "raw-pickle-protocol-0"]
)
@pytest.mark.parametrize("command", COMMANDS)
def test_pickle_renamed_to_fcst_is_refused_without_running(
    kind: str, command: str, holdout_csv: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "PAYLOAD_RAN"
    model = tmp_path / "model.fcst"
    model.write_bytes(_pickles(marker)[kind])
    # The payload is live: unpickling it here would create the marker.
    assert not marker.exists()
    result = run_command(command, model, holdout_csv)
    assert_refused_model(result, ["not a forecaster model file"])
    assert not marker.exists(), "loading a model file ran a pickle payload"


def test_payload_is_real(tmp_path: Path) -> None:
    """Control: the same bytes given to pickle do run the payload (so the test above means it)."""
    marker = tmp_path / "PAYLOAD_RAN"
    pickle.loads(_pickles(marker)["raw-pickle"])
    assert marker.exists()


def test_loading_never_unpickles(
    good_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither a good nor a bad file reaches pickle or torch.load."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("model loading must not unpickle")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    good = tmp_path / "good.fcst"
    good.write_bytes(good_bytes)
    assert artifact_io.load(good).freq == "D"
    bad = tmp_path / "bad.fcst"
    bad.write_bytes(_pickles(tmp_path / "marker")["torch-save-zip"])
    with pytest.raises(ModelFileError):
        artifact_io.load(bad)
