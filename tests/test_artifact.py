"""The model file's parts, one at a time: each reads back what it wrote, and refuses an
edit of its own fields (with the checksum recomputed, as an informed editor would).

The artifact is built in memory, with every optional part present, so that no training
run is needed; tests/test_model_tamper.py and tests/test_model_files.py edit trained files.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load as load_bytes
from safetensors.numpy import save as save_bytes

from forecaster import artifact as artifact_io
from forecaster.artifact import Artifact, earlier_rows
from forecaster.blend import Blend
from forecaster.config import ModelConfig, TrainConfig
from forecaster.data import Schema
from forecaster.data.sessions import Session
from forecaster.errors import ModelFileError
from forecaster.inference import weight_shapes
from forecaster.intervals import PROBABILITIES, Intervals
from forecaster.windows import CovariateScaler, Scaler

S, C, K = 2, 2, 2  # series, targets, covariate channels
HOUR = 3_600_000_000_000


def full_artifact() -> Artifact:
    """An artifact with every part a model file can hold, of consistent shapes."""
    rng = np.random.default_rng(0)
    config = ModelConfig(
        n_targets=C, lookback=8, horizon=3, hidden=4, layers=1, n_past=1, n_future=1
    )
    rows = earlier_rows(config)
    weights = {
        name: rng.normal(size=shape).astype(np.float32)
        for name, shape in weight_shapes(config).items()
    }
    session = Session.from_dict({"weekdays": [0, 1, 2, 3, 4], "times": ["09:00:00-17:00:00"]}, HOUR)
    quantiles = np.sort(rng.normal(size=(config.horizon, len(PROBABILITIES), C)), axis=1)
    return Artifact(
        model_config=config,
        train_config=TrainConfig(),
        schema=Schema(
            time="t",
            targets=["a", "b"],
            id="id",
            zone="Europe/Paris",
            utc_grid=True,
            past=["p"],
            future=["f"],
            session=session,
        ),
        freq="h",
        ids=["x", "y"],
        scaler=Scaler(rng.normal(size=(S, C)), rng.uniform(0.5, 2, size=(S, C))),
        context=rng.normal(size=(S, config.lookback, C)),
        context_real=np.array([8, 5], dtype=np.int64),
        series_end=[pd.Timestamp("2024-01-05 16:00", tz="Europe/Paris")] * S,
        train_end=[pd.Timestamp("2024-01-04 16:00", tz="Europe/Paris")] * S,
        weights=weights,
        history=[{"epoch": 1, "train_loss": 0.5}],
        summary={"epochs": 1},
        versions={"forecaster": "test"},
        intervals=Intervals(
            quantiles,
            rng.uniform(size=(S, C)),
            rng.uniform(size=(S, C)),
            np.array([1.5, 2.0]),
            0.3,
            {"method": "test"},
            0.5,
        ),
        covariate_scaler=CovariateScaler(np.array([0.0, 1.0]), np.array([1.0, 2.0])),
        context_covariates=rng.normal(size=(S, config.lookback, K)),
        nonnegative=np.array([[True, False], [False, True]]),
        lineage=[
            {
                "file": "old.fcst",
                "sha256": "0" * 64,
                "updated_at": "2024-01-06",
                "rows_added": 3,
                "series_added": 0,
                "series_dropped": 1,
            }
        ],
        earlier=rng.normal(size=(S, rows, C)),
        earlier_real=np.array([rows, 2], dtype=np.int64),
        earlier_covariates=rng.normal(size=(S, rows, K)),
        blend=Blend("naive", 0.25),
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Artifact, bytes, Artifact]:
    """The artifact, its file's bytes, and what loading that file gives."""
    original = full_artifact()
    path = tmp_path_factory.mktemp("artifact") / "full.fcst"
    artifact_io.save(original, path)
    return original, path.read_bytes(), artifact_io.load(path)


def same(a: Any, b: Any) -> None:
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict) and a and isinstance(next(iter(a.values())), np.ndarray):
        assert a.keys() == b.keys()
        for key in a:
            same(a[key], b[key])
    else:
        assert a == b


# Each part's Artifact fields (their values as written must be their values as read).
PARTS = {
    "settings": ["model_config", "train_config"],
    "schema": ["schema"],
    "covariates": ["covariate_scaler", "context_covariates"],
    "series": ["freq", "ids", "scaler", "series_end", "train_end"],
    "history": ["history", "summary", "versions"],
    "lineage": ["lineage"],
    "nonnegative": ["nonnegative"],
    "blend": ["blend"],
    "intervals": ["intervals"],
    "weights": ["weights"],
    "context": ["context", "context_real"],
    "earlier": ["earlier", "earlier_real", "earlier_covariates"],
}


@pytest.mark.parametrize("part", list(PARTS))
def test_each_part_reads_back_what_it_wrote(
    part: str, written: tuple[Artifact, bytes, Artifact]
) -> None:
    original, _, loaded = written
    for name in PARTS[part]:
        before, after = getattr(original, name), getattr(loaded, name)
        if name in ("scaler", "covariate_scaler"):
            same(before.mean, after.mean)
            same(before.std, after.std)
        elif name == "intervals":
            for item in dataclasses.fields(Intervals):
                same(getattr(before, item.name), getattr(after, item.name))
        else:
            same(before, after)


def test_every_artifact_field_belongs_to_one_part() -> None:
    listed = [name for names in PARTS.values() for name in names]
    assert sorted(listed) == sorted(f.name for f in dataclasses.fields(Artifact))


def test_optional_parts_absent_stay_absent(tmp_path: Path) -> None:
    """A model without intervals, covariates, a blend, lineage, earlier rows or a session
    (as files written before them) reads back without them."""
    full = full_artifact()
    config = dataclasses.replace(full.model_config, n_past=0, n_future=0)
    bare = dataclasses.replace(
        full, model_config=config,
        weights={n: np.zeros(s, np.float32) for n, s in weight_shapes(config).items()},
        schema=Schema(time="t", targets=["a", "b"], id="id"),
        series_end=[pd.Timestamp("2024-01-05 16:00")] * S,
        train_end=[pd.Timestamp("2024-01-04 16:00")] * S,
        intervals=None, covariate_scaler=None, context_covariates=None, nonnegative=None,
        lineage=[], earlier=None, earlier_real=None, earlier_covariates=None, blend=None,
    )  # fmt: skip
    path = tmp_path / "bare.fcst"
    artifact_io.save(bare, path)
    meta = metadata(path.read_bytes())
    assert not {"nonnegative", "lineage", "blend"} & set(meta)
    assert meta["intervals"] is None and meta["covariates"] is None
    assert "session" not in meta["schema"]
    loaded = artifact_io.load(path)
    for name in ("intervals", "covariate_scaler", "nonnegative", "blend", "earlier"):
        assert getattr(loaded, name) is None
    assert loaded.lineage == [] and loaded.schema.session is None
    assert not any(
        name.startswith(("earlier.", "intervals.")) for name in load_bytes(path.read_bytes())
    )


def test_the_metadata_keys_keep_their_order(written: tuple[Artifact, bytes, Artifact]) -> None:
    """The checksum covers the JSON text, so the order of its keys is part of the format."""
    assert list(metadata(written[1])) == [
        "format_version", "model_config", "train_config", "schema", "covariates", "freq",
        "ids", "scaler", "series_end", "train_end", "history", "summary", "versions",
        "nonnegative", "lineage", "blend", "intervals",
    ]  # fmt: skip


def test_the_config_is_checked_once_per_load(
    written: tuple[Artifact, bytes, Artifact], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecaster.artifact import settings

    calls: list[ModelConfig] = []
    original_check = settings.check_config
    monkeypatch.setattr(settings, "check_config", lambda c: calls.append(c) or original_check(c))
    path = tmp_path / "m.fcst"
    path.write_bytes(written[1])
    artifact_io.load(path)
    assert len(calls) == 1


def test_earlier_rows_are_one_more_window() -> None:
    assert earlier_rows(ModelConfig(n_targets=1, lookback=8, horizon=3)) == 11


# ---------------------------------------------------------------------------------------
# One refusal per part


def metadata(payload: bytes) -> dict[str, Any]:
    (size,) = struct.unpack("<Q", payload[:8])
    meta: dict[str, Any] = json.loads(
        json.loads(payload[8 : 8 + size])["__metadata__"]["forecaster"]
    )
    return meta


def rewrite(
    payload: bytes,
    meta_edit: Callable[[dict[str, Any]], None] | None = None,
    tensor_edit: Callable[[dict[str, np.ndarray]], None] | None = None,
) -> bytes:
    """The file with its metadata or tensors edited and the checksum recomputed."""
    meta, tensors = metadata(payload), dict(load_bytes(payload))
    if meta_edit is not None:
        meta_edit(meta)
    if tensor_edit is not None:
        tensor_edit(tensors)
    text = json.dumps(meta)
    checksum = artifact_io.checksum(text, tensors)
    return bytes(save_bytes(tensors, metadata={"forecaster": text, "checksum": checksum}))


def set_in(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            meta = meta[key] if not key.isdigit() else meta[int(key)]  # type: ignore[index]
        meta[int(last) if last.isdigit() else last] = value  # type: ignore[index]

    return edit


def drop(name: str) -> Callable[[dict[str, np.ndarray]], None]:
    def edit(tensors: dict[str, np.ndarray]) -> None:
        del tensors[name]

    return edit


REFUSALS: dict[str, tuple[Any, Any, str]] = {
    "settings": (set_in("model_config.hidden", "4"), None, "model metadata model_config.hidden is"),
    "schema": (set_in("schema.zone", "Mars/Olympus"), None, "model metadata schema.zone is"),
    "covariates": (set_in("covariates.std", [0.0, 1.0]), None, "covariates.std[0][0] is"),
    "series": (set_in("train_end", ["2024-01-06 16:00:00+01:00"] * S), None,
               "train_end[0] (2024-01-06 16:00:00+01:00) is after series_end[0]"),
    "history": (set_in("versions", {"forecaster": 1}), None, "model metadata versions is"),
    "lineage": (set_in("lineage.0.rows_added", -1), None, "model metadata lineage.rows_added"),
    "nonnegative": (set_in("nonnegative", [[True]]), None, "model metadata nonnegative is"),
    "blend": (set_in("blend", {"baseline": "oracle", "weight": 0.5}), None,
              "model metadata blend is"),
    "intervals": (set_in("intervals.probabilities", [0.5]), None,
                  "intervals.probabilities is not the grid this version reads"),
    "weights": (None, drop("model.members.0.head.bias"), "model file's weights do not match"),
    "context": (None, lambda t: t.update({"context.real": np.zeros(S, np.int64)}),
                "model file's tensor context.real holds 0 to 0"),
    "earlier": (None, drop("earlier.real"), "model file's earlier rows are incomplete"),
    "format": (set_in("format_version", 4), None, "was written by a newer forecaster"),
}  # fmt: skip


@pytest.mark.parametrize("part", list(REFUSALS))
def test_each_part_refuses_an_edit_of_its_own(
    part: str, written: tuple[Artifact, bytes, Artifact], tmp_path: Path
) -> None:
    meta_edit, tensor_edit, phrase = REFUSALS[part]
    path = tmp_path / "edited.fcst"
    path.write_bytes(rewrite(written[1], meta_edit, tensor_edit))
    with pytest.raises(ModelFileError) as refused:
        artifact_io.load(path)
    message = str(refused.value)
    assert message.startswith(str(path)) and phrase in message, message
    assert "\n" not in message


def test_the_checksum_refuses_an_edit_that_does_not_recompute_it(
    written: tuple[Artifact, bytes, Artifact], tmp_path: Path
) -> None:
    payload = bytearray(written[1])
    payload[-1] ^= 1  # the last byte of the last tensor
    path = tmp_path / "edited.fcst"
    path.write_bytes(bytes(payload))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        artifact_io.load(path)
