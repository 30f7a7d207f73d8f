"""Edited model files: every edit that would change a forecast is refused (exit 4, one line).

A model file is a safetensors file: an 8-byte little-endian header length, a JSON header
(tensor dtypes, shapes and offsets, and ``__metadata__`` holding the forecaster metadata
JSON and a checksum), then the tensor bytes. Each case below edits a copy of one small
trained model and signs it one of three ways:

- ``kept``: the checksum is left as it was;
- ``old``: the checksum is recomputed by the rule of formats 1 and 2 (tensor names and
  bytes only), which is what made these edits pass before: only the new rule catches them;
- ``new``: the checksum is recomputed by the current rule, as an editor who knows it would;
  then the check of the edited field must catch the invalid value.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load as load_bytes
from safetensors.numpy import save as save_bytes

from forecaster import artifact as artifact_io
from tests.conftest import FAST, invoke, run_forecaster, seasonal_frame

EDITED = "the file was edited or damaged: train the model again"
MISMATCH = "checksum mismatch, the file (settings or weights) was changed after training"
DEEP = 200_000

Header = dict[str, Any]
Meta = dict[str, Any]


# ---------------------------------------------------------------------------------------
# Building tampered files by hand


def split_file(payload: bytes) -> tuple[Header, bytes]:
    (size,) = struct.unpack("<Q", payload[:8])
    return json.loads(payload[8 : 8 + size]), payload[8 + size :]


def join_text(text: str, body: bytes) -> bytes:
    raw = text.encode()
    raw += b" " * (-len(raw) % 8)  # safetensors pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + body


def join_file(header: Header, body: bytes) -> bytes:
    return join_text(json.dumps(header), body)


def old_rule(tensors: dict[str, np.ndarray]) -> str:
    """The checksum of model formats 1 and 2: tensor names and bytes, nothing else."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensors[name]).tobytes())
    return digest.hexdigest()


def tamper(
    good: bytes,
    sign: str,
    meta: Callable[[Meta], None] | None = None,
    text: Callable[[str], str] | None = None,
    header: Callable[[Header, bytearray], None] | None = None,
) -> bytes:
    """A copy of ``good`` with its metadata (as a dict or as text), header or body edited."""
    head, body = split_file(good)
    meta_text = head["__metadata__"]["forecaster"]
    if meta is not None:
        values = json.loads(meta_text)
        meta(values)
        meta_text = json.dumps(values)
    if text is not None:
        meta_text = text(meta_text)
    head["__metadata__"]["forecaster"] = meta_text
    data = bytearray(body)
    if header is not None:
        header(head, data)
    if sign != "kept":
        tensors = load_bytes(join_file(head, bytes(data)))
        rule = old_rule(tensors) if sign == "old" else artifact_io.checksum(meta_text, tensors)
        head["__metadata__"]["checksum"] = rule
    return join_file(head, bytes(data))


def rebuilt(good: bytes, edit: Callable[[dict[str, np.ndarray]], None]) -> bytes:
    """The same metadata over a different set of tensors, signed by the new rule."""
    head, _ = split_file(good)
    tensors = dict(load_bytes(good))
    edit(tensors)
    meta_text = head["__metadata__"]["forecaster"]
    checksum = artifact_io.checksum(meta_text, tensors)
    return save_bytes(tensors, metadata={"forecaster": meta_text, "checksum": checksum})


def put(path: str, value: object) -> Callable[[Meta], None]:
    def edit(meta: Meta) -> None:
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def drop(path: str) -> Callable[[Meta], None]:
    def edit(meta: Meta) -> None:
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        del node[last]

    return edit


def scale_mean(meta: Meta) -> None:
    meta["scaler"]["mean"][0][0] += 1.0


def scale_std(meta: Meta) -> None:
    meta["scaler"]["std"][0][0] *= 10.0


def lstm_reads_one_step(meta: Meta) -> None:
    """A valid but different network: the LSTM reads only the last segment."""
    config = meta["model_config"]
    config["lstm_lookback"] = config["segment"]


def lstm_reads_beyond_lookback(meta: Meta) -> None:
    config = meta["model_config"]
    config["lstm_lookback"] = config["lookback"] + config["segment"]


def dtype(name: str, new: str) -> Callable[[Header, bytearray], None]:
    def edit(head: Header, body: bytearray) -> None:
        head[name]["dtype"] = new

    return edit


def reshape_context(head: Header, body: bytearray) -> None:
    series, lookback, channels = head["context.values"]["shape"]
    head["context.values"]["shape"] = [series, channels, lookback]  # same bytes, other shape


def reshape(name: str) -> Callable[[Header, bytearray], None]:
    def edit(head: Header, body: bytearray) -> None:
        series, rows, channels = head[name]["shape"]
        head[name]["shape"] = [series, channels, rows]  # same bytes, other shape

    return edit


def write_tensor(name: str, value: np.ndarray) -> Callable[[Header, bytearray], None]:
    def edit(head: Header, body: bytearray) -> None:
        begin, _ = head[name]["data_offsets"]
        raw = value.tobytes()
        body[begin : begin + len(raw)] = raw

    return edit


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_header_file(good: bytes) -> bytes:
    head, body = split_file(good)
    text = json.dumps(head)
    return join_text('{"deep": ' + nest(DEEP) + ", " + text[1:], body)


def deep_summary(depth: int) -> Callable[[str], str]:
    def edit(text: str) -> str:
        return text.replace('"summary": {', f'"summary": {{"deep": {nest(depth)}, ', 1)

    return edit


# ---------------------------------------------------------------------------------------
# The model, trained once


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tamper")
    data = directory / "data.csv"
    seasonal_frame(80).to_csv(data, index=False)
    path = directory / "model.fcst"
    result = invoke(["train", str(data), "-o", str(path), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def good(model: Path) -> bytes:
    return model.read_bytes()


@pytest.fixture(scope="module")
def good_forecast(model: Path) -> str:
    result = invoke(["predict", "-m", str(model)])
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def assert_refused(model: Path, phrases: list[str], tmp_path: Path) -> None:
    """predict (to stdout and to -o FILE) and info: exit 4, one line, nothing written."""
    out = tmp_path / "forecast.csv"
    for args in (
        ["predict", "-m", str(model)],
        ["predict", "-m", str(model), "-o", str(out)],
        ["info", str(model), "--format", "json"],
    ):
        result = invoke(args)
        assert result.exit_code == 4, (args, result.stderr, result.stdout)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("forecaster: error: "), result.stderr
        for phrase in phrases:
            assert phrase in lines[0], (phrase, lines[0])
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        assert not out.exists()


# ---------------------------------------------------------------------------------------
# The red team's edits: each was accepted before (exit 0), most with a different forecast


RED_TEAM: list[tuple[str, dict[str, Any]]] = [
    ("freq-D-to-W", {"meta": put("freq", "W")}),
    ("scaler-mean", {"meta": scale_mean}),
    ("scaler-std", {"meta": scale_std}),
    ("window-norm", {"meta": put("model_config.window_norm", "mean")}),
    ("lstm-lookback", {"meta": lstm_reads_one_step}),
    ("series-end-2030", {"meta": put("series_end", ["2030-01-01 00:00:00"])}),
    ("dtype-F64-to-I64", {"header": dtype("context.values", "I64")}),
    ("shape-of-context", {"header": reshape_context}),
]


# Those whose effect shows in the forecast once signed. (A shifted scaler mean cancels under
# the default window_norm "last": each window is centred on its last value, then restored;
# it shifts forecasts only of models trained with window_norm "none".)
VISIBLE = [
    c for c in RED_TEAM if c[0] not in ("scaler-mean", "dtype-F64-to-I64", "shape-of-context")
]


class TestRedTeamEditsAreCaughtByTheChecksum:
    @pytest.mark.parametrize("sign", ["kept", "old"])
    @pytest.mark.parametrize(("edit"), [c[1] for c in RED_TEAM], ids=[c[0] for c in RED_TEAM])
    def test_refused(self, edit: dict[str, Any], sign: str, good: bytes, tmp_path: Path) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(good, sign, **edit))
        assert_refused(bad, [MISMATCH, "train the model again"], tmp_path)

    @pytest.mark.parametrize(("edit"), [c[1] for c in VISIBLE], ids=[c[0] for c in VISIBLE])
    def test_each_edit_would_change_the_forecast(
        self, edit: dict[str, Any], good: bytes, good_forecast: str, tmp_path: Path
    ) -> None:
        """Control: signed by the new rule, these valid values load and forecast otherwise.

        (A checksum without a secret cannot tell a deliberate, correctly signed edit from a
        trained model; what it guarantees is that no edit goes unnoticed by accident or by
        a tool that does not know the rule, and the field checks bound the rest.)
        """
        edited = tmp_path / "edited.fcst"
        edited.write_bytes(tamper(good, "new", **edit))
        result = invoke(["predict", "-m", str(edited)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout != good_forecast

    def test_dtype_and_shape_edits_signed_by_the_new_rule_fail_their_checks(
        self, good: bytes, tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(good, "new", header=dtype("context.values", "I64")))
        assert_refused(bad, ["tensor context.values is I64; expected F64", EDITED], tmp_path)
        bad.write_bytes(tamper(good, "new", header=reshape_context))
        assert_refused(bad, ["tensor context.values has shape (1, 1, ", EDITED], tmp_path)
        bad.write_bytes(tamper(good, "new", header=dtype("model.members.0.head.bias", "I32")))
        assert_refused(bad, ["weights do not match its metadata", "int32"], tmp_path)


# ---------------------------------------------------------------------------------------
# Signed by the new rule, with a value forecaster never writes: the field checks refuse it

INVALID: list[tuple[str, dict[str, Any], str]] = [
    # scaler
    ("std-zero", {"meta": put("scaler.std", [[0.0]])}, "scaler.std[0][0] is a number (0.0)"),
    ("std-negative", {"meta": put("scaler.std", [[-2.0]])}, "scaler.std[0][0] is a number (-2.0)"),
    ("std-nan", {"meta": put("scaler.std", [[math.nan]])}, "scaler.std[0][0] is a number (nan)"),
    ("std-huge", {"meta": put("scaler.std", [[1e300]])}, "scaler.std[0][0] is a number (1e+300)"),
    ("mean-inf", {"meta": put("scaler.mean", [[math.inf]])}, "scaler.mean[0][0] is a number (inf)"),
    (
        "mean-a-string",
        {"meta": put("scaler.mean", [["10.4"]])},
        "scaler.mean[0][0] is a string ('10.4'); expected a finite number",
    ),
    (
        "std-two-targets",
        {"meta": put("scaler.std", [[1.0, 2.0]])},
        "scaler.std[0] is a list ([1.0, 2.0]); expected a list of 1 number(s), one per target",
    ),
    (
        "scaler-a-list",
        {"meta": put("scaler", [[1.0]])},
        "scaler is a list ([[1.0]]); expected an object",
    ),
    ("scaler-extra-key", {"meta": put("scaler.min", [[0.0]])}, "scaler has unknown key(s) min"),
    # frequency
    ("freq-0D", {"meta": put("freq", "0D")}, "freq is a string ('0D'); expected a pandas"),
    ("freq-minus-1h", {"meta": put("freq", "-1h")}, "freq is a string ('-1h')"),
    ("freq-unknown", {"meta": put("freq", "fortnightly")}, "freq is a string ('fortnightly')"),
    ("freq-an-int", {"meta": put("freq", 7)}, "freq is an integer (7)"),
    (
        "freq-steps-out-of-range",
        {"meta": put("freq", "100000000000D")},
        "freq is a string ('100000000000D'); expected a pandas frequency alias with a positive "
        "multiple ('D', 'h', '15min', 'MS') that steps 7 times past",
    ),
    # timestamps
    (
        "series-end-NaT",
        {"meta": put("series_end", ["NaT"])},
        "series_end[0] is a string ('NaT'); expected a timestamp as forecaster writes them",
    ),
    ("series-end-now", {"meta": put("series_end", ["now"])}, "series_end[0] is a string ('now')"),
    ("series-end-null", {"meta": put("series_end", [None])}, "series_end[0] is null"),
    (
        "series-end-two",
        {"meta": put("series_end", ["2020-03-20 00:00:00"] * 2)},
        "series_end is a list (['2020-03-20 00:00:00', '2020-03-20 00:00:00']); expected a "
        "list of 1 timestamp(s), one per series",
    ),
    (
        "train-end-after-series-end",
        {"meta": put("train_end", ["2030-01-01 00:00:00"])},
        "train_end[0] (2030-01-01 00:00:00) is after series_end[0]",
    ),
    (
        "train-end-other-zone",
        {"meta": put("train_end", ["2020-03-01 00:00:00+00:00"])},
        "train_end and series_end mix time zones",
    ),
    # the network
    (
        "window-norm-unknown",
        {"meta": put("model_config.window_norm", "max")},
        "network that cannot be built (unknown window_norm 'max')",
    ),
    (
        "lstm-lookback-beyond-lookback",
        {"meta": lstm_reads_beyond_lookback},
        "network that cannot be built (the LSTM's",
    ),
    (
        "dropout-1.5",
        {"meta": put("model_config.dropout", 1.5)},
        "dropout must be a number in [0, 1), not 1.5",
    ),
    (
        "hidden-a-string",
        {"meta": put("model_config.hidden", "8")},
        "model_config.hidden is a string ('8'); expected an integer",
    ),
    (
        "layers-a-bool",
        {"meta": put("model_config.layers", True)},
        "model_config.layers is a boolean (true); expected an integer",
    ),
    (
        "linear-skip-an-int",
        {"meta": put("model_config.linear_skip", 1)},
        "model_config.linear_skip is an integer (1); expected true or false",
    ),
    (
        "lstm-lookback-a-string",
        {"meta": put("model_config.lstm_lookback", "all")},
        "model_config.lstm_lookback is a string ('all'); expected an integer or null",
    ),
    (
        "members-huge",
        {"meta": put("model_config.members", 10**15)},
        "weights do not match its metadata (12 weight tensors, the metadata implies",
    ),
    (
        "model-config-a-list",
        {"meta": put("model_config", [1, 2])},
        "model_config is a list ([1, 2]); expected an object",
    ),
    (
        "model-config-extra-key",
        {"meta": put("model_config.bias", True)},
        "model_config has unknown key(s) bias",
    ),
    (
        "model-config-missing-key",
        {"meta": drop("model_config.members")},
        "model_config lacks key(s) members",
    ),
    # the training configuration, held to the rules of a TOML config file
    (
        "train-epochs-a-string",
        {"meta": put("train_config.epochs", "ten")},
        "train_config.epochs is a string ('ten'); expected an integer",
    ),
    (
        "train-targets-a-string",
        {"meta": put("train_config.targets", "value")},
        "train_config.targets is a string ('value'); expected a list of strings",
    ),
    (
        "train-fill-unknown",
        {"meta": put("train_config.fill", "zero")},
        "train_config is invalid (invalid value for --fill: 'zero'; use interpolate | ffill",
    ),
    (
        "train-seed-huge",
        {"meta": put("train_config.seed", 10**25)},
        "invalid value for --seed: 10000000000000000000000000",
    ),
    (
        "train-threads-huge",
        {"meta": put("train_config.threads", 100_000)},
        "invalid value for --threads: 100000; use an integer in [0, 1024]",
    ),
    (
        "train-config-extra-key",
        {"meta": put("train_config.holdout", 3)},
        "train_config has unknown key(s) holdout",
    ),
    (
        "train-config-missing-key",
        {"meta": drop("train_config.fill")},
        "train_config lacks key(s) fill",
    ),
    # schema and ids
    (
        "targets-empty",
        {"meta": put("schema.targets", [])},
        "schema.targets has 0 entries; expected 1",
    ),
    (
        "target-an-int",
        {"meta": put("schema.targets", [5])},
        "schema.targets[0] is an integer (5); expected a string",
    ),
    ("time-an-int", {"meta": put("schema.time", 5)}, "schema.time is an integer (5)"),
    (
        "id-a-list",
        {"meta": put("schema.id", ["a"])},
        "schema.id is a list (['a']); expected a string or null",
    ),
    ("schema-missing-id", {"meta": drop("schema.id")}, "schema lacks key(s) id"),
    ("ids-an-int", {"meta": put("ids", [5])}, "ids[0] is an integer (5); expected a string"),
    ("ids-an-object", {"meta": put("ids", {"a": 1})}, "ids is an object; expected a list"),
    (
        "id-a-lone-surrogate",
        {"meta": put("ids", ["\ud800"])},
        "model metadata holds a lone surrogate (\\ud800 to \\udfff), not Unicode text",
    ),
    # the rest
    ("history-an-object", {"meta": put("history", {})}, "history is an object; expected a list"),
    ("history-of-numbers", {"meta": put("history", [1])}, "history is an integer (1)"),
    ("summary-a-list", {"meta": put("summary", [])}, "summary is a list ([]); expected an object"),
    (
        "versions-a-number",
        {"meta": put("versions.torch", 2)},
        "versions is an integer (2); expected an object of strings",
    ),
    ("extra-top-level-key", {"meta": put("note", "hi")}, "model metadata has unknown key(s) note"),
    ("missing-versions", {"meta": drop("versions")}, "model metadata lacks key(s) versions"),
    # tensors
    (
        "context-nan",
        {"header": write_tensor("context.values", np.array([math.nan]))},
        "tensor context.values holds a value that is not finite or beyond 2e+100 (series 0)",
    ),
    (
        "context-real-zero",
        {"header": write_tensor("context.real", np.array([0], dtype=np.int64))},
        "tensor context.real holds 0 to 0; expected 1 to lookback",
    ),
    (
        "context-real-beyond-lookback",
        {"header": write_tensor("context.real", np.array([10**6], dtype=np.int64))},
        "tensor context.real holds 1000000 to 1000000; expected 1 to lookback",
    ),
    (
        "context-real-I32",
        {"header": dtype("context.real", "F64")},
        "tensor context.real is F64; expected I64",
    ),
    (
        "earlier-nan",
        {"header": write_tensor("earlier.values", np.array([math.nan]))},
        "tensors earlier.values / earlier.real hold a value out of range",
    ),
    (
        "earlier-real-beyond-its-rows",
        {"header": write_tensor("earlier.real", np.array([10**6], dtype=np.int64))},
        "tensors earlier.values / earlier.real hold a value out of range",
    ),
    (
        "earlier-real-negative",
        {"header": write_tensor("earlier.real", np.array([-1], dtype=np.int64))},
        "tensors earlier.values / earlier.real hold a value out of range",
    ),
    (
        "earlier-reshaped",
        {"header": reshape("earlier.values")},
        "tensor earlier.values has shape",
    ),
]


class TestInvalidValuesSignedByTheNewRule:
    @pytest.mark.parametrize(
        ("edit", "phrase"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
    )
    def test_refused(self, edit: dict[str, Any], phrase: str, good: bytes, tmp_path: Path) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(good, "new", **edit))
        assert_refused(bad, [phrase, EDITED], tmp_path)

    def test_earlier_rows_alone_without_their_count(self, good: bytes, tmp_path: Path) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(rebuilt(good, lambda t: t.pop("earlier.real")))
        assert_refused(bad, ["model file's earlier rows are incomplete", EDITED], tmp_path)

    def test_a_file_without_earlier_rows_still_loads(self, good: bytes, tmp_path: Path) -> None:
        """Files written before the earlier rows were stored: forecasts are unchanged."""
        older = tmp_path / "older.fcst"
        older.write_bytes(
            rebuilt(good, lambda t: [t.pop(n) for n in ("earlier.values", "earlier.real")])
        )
        assert artifact_io.load(older).earlier is None

    def test_an_extra_tensor(self, good: bytes, tmp_path: Path) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(rebuilt(good, lambda t: t.update(evil=np.zeros(3, np.float32))))
        assert_refused(bad, ["model file's tensors: unexpected 'evil'", EDITED], tmp_path)

    def test_a_missing_tensor(self, good: bytes, tmp_path: Path) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(rebuilt(good, lambda t: t.pop("context.real")))
        assert_refused(bad, ["model file's tensors: no stored context", EDITED], tmp_path)

    def test_an_extra_safetensors_metadata_key(self, good: bytes, tmp_path: Path) -> None:
        def add_key(head: Header, body: bytearray) -> None:
            head["__metadata__"]["note"] = "unchecked"

        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(good, "new", header=add_key))
        assert_refused(bad, ["unexpected safetensors metadata key(s) ['note']", EDITED], tmp_path)


# ---------------------------------------------------------------------------------------
# Nesting: measured before any JSON parser sees it


class TestDeepNesting:
    def test_header_nested_200000_deep(self, good: bytes, tmp_path: Path) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(deep_header_file(good))
        assert_refused(
            bad, [f"the safetensors header is JSON nested {DEEP + 1} levels deep", EDITED], tmp_path
        )

    @pytest.mark.parametrize("sign", ["kept", "new"])
    def test_metadata_nested_200000_deep(self, sign: str, good: bytes, tmp_path: Path) -> None:
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(good, sign, text=deep_summary(DEEP)))
        assert_refused(
            bad, [f"model metadata is JSON nested {DEEP + 2} levels deep", EDITED], tmp_path
        )

    def test_metadata_just_past_the_limit(self, good: bytes, tmp_path: Path) -> None:
        """65 levels parse fine, but forecaster never writes them: refused all the same.

        (The nested list sits in ``summary``, itself inside the metadata object: 2 levels.)
        """
        limit = artifact_io.MAX_JSON_DEPTH
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(good, "new", text=deep_summary(limit - 1)))
        assert_refused(bad, [f"JSON nested {limit + 1} levels deep"], tmp_path)
        fine = tmp_path / "fine.fcst"
        fine.write_bytes(tamper(good, "new", text=deep_summary(limit - 2)))
        assert invoke(["predict", "-m", str(fine)]).exit_code == 0

    def test_brackets_inside_strings_do_not_count(self) -> None:
        text = json.dumps({"a": "[" * 1000, "b": ['"\\[{'] * 3, "c": [[{"d": "]]]"}]]})
        assert artifact_io.json_depth(text) == 4
        assert artifact_io.json_depth(json.dumps(text)) == 0
        assert artifact_io.json_depth(nest(DEEP).encode()) == DEEP

    def test_an_open_string_of_escaped_quotes_is_measured_in_linear_time(
        self, tmp_path: Path
    ) -> None:
        """A string that never closes must not make the measure backtrack (quadratic time)."""
        text = b'{"__metadata__": "' + b'\\"' * 1_000_000
        started = time.perf_counter()
        assert artifact_io.json_depth(text) == 1
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(struct.pack("<Q", len(text)) + text)
        assert_refused(bad, ["is not a forecaster model file"], tmp_path)
        assert time.perf_counter() - started < 20  # about 0.1 s; hours if quadratic

    def test_a_recursion_error_is_caught_if_the_measure_were_missed(
        self, good: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(artifact_io.safe, "json_depth", lambda text: 0)
        bad = tmp_path / "bad.fcst"
        bad.write_bytes(tamper(good, "new", text=deep_summary(DEEP)))
        assert_refused(bad, ["model metadata is JSON nested too deep", EDITED], tmp_path)


# ---------------------------------------------------------------------------------------
# The real command, in a subprocess


class TestRealProcess:
    @pytest.mark.parametrize(
        ("case", "phrase"),
        [
            ("freq-0D", "freq is a string ('0D')"),
            ("series-end-NaT", "series_end[0] is a string ('NaT')"),
            ("deep-header", f"header is JSON nested {DEEP + 1} levels deep"),
            ("red-team-dtype", MISMATCH),
        ],
    )
    def test_exit_4_one_line_no_traceback_nothing_written(
        self, case: str, phrase: str, good: bytes, tmp_path: Path
    ) -> None:
        payload = {
            "freq-0D": lambda: tamper(good, "new", meta=put("freq", "0D")),
            "series-end-NaT": lambda: tamper(good, "new", meta=put("series_end", ["NaT"])),
            "deep-header": lambda: deep_header_file(good),
            "red-team-dtype": lambda: tamper(good, "old", header=dtype("context.values", "I64")),
        }[case]()
        bad, out = tmp_path / "bad.fcst", tmp_path / "forecast.csv"
        bad.write_bytes(payload)
        process = run_forecaster(["predict", "-m", str(bad), "-o", str(out)])
        stderr = process.stderr.decode()
        assert process.returncode == 4, stderr
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
        assert stderr.startswith("forecaster: error: ") and phrase in stderr, stderr
        assert process.stdout == b"" and not out.exists()


# ---------------------------------------------------------------------------------------
# What is not an edit


class TestGoodFiles:
    def test_resaved_by_the_code_loads_and_predicts_the_same(
        self, model: Path, good: bytes, good_forecast: str, tmp_path: Path
    ) -> None:
        again = tmp_path / "again.fcst"
        artifact_io.save(artifact_io.load(model), again)
        # The same metadata text and tensors (safetensors may lay them out in another order).
        assert (
            split_file(again.read_bytes())[0]["__metadata__"] == split_file(good)[0]["__metadata__"]
        )
        result = invoke(["predict", "-m", str(again)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout == good_forecast

    def test_a_valid_edit_signed_by_the_new_rule_loads(self, good: bytes, tmp_path: Path) -> None:
        """What the checks refuse is what forecaster never writes, not any change at all."""
        edited = tmp_path / "edited.fcst"
        edited.write_bytes(tamper(good, "new", meta=put("schema.targets", ["value 😀"])))
        result = invoke(["predict", "-m", str(edited)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith("date,value 😀\n")

    def test_the_checksum_covers_metadata_dtype_and_shape(self, good: bytes) -> None:
        head, _ = split_file(good)
        meta_text = head["__metadata__"]["forecaster"]
        tensors = dict(load_bytes(good))
        stored = head["__metadata__"]["checksum"]
        assert artifact_io.checksum(meta_text, tensors) == stored
        assert len(stored) == 64 and int(stored, 16) >= 0  # a plain SHA-256 hex digest
        assert artifact_io.checksum(meta_text + " ", tensors) != stored
        values = tensors["context.values"]
        for changed in (values.view(np.int64), values.reshape(values.shape[0], 1, -1)):
            assert artifact_io.checksum(meta_text, {**tensors, "context.values": changed}) != stored

    def test_format_version_is_3(self, good: bytes) -> None:
        head, _ = split_file(good)
        assert json.loads(head["__metadata__"]["forecaster"])["format_version"] == 3
        assert artifact_io.FORMAT_VERSION == 3
