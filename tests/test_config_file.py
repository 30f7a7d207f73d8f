"""`train --config FILE.toml`: values of the wrong type, unreadable paths and out-of-range
seeds and thread counts are bad usage (exit 2, one exact line), and nothing is written.

The types come from the `TrainConfig` dataclass; the same validator checks the training
configuration saved in a model file (see tests/test_model_tamper.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forecaster.config import (
    MAX_SEED,
    MAX_THREADS,
    FieldTypeError,
    TrainConfig,
    load_config,
    typed_fields,
)
from tests.conftest import invoke, run_forecaster, seasonal_frame


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    seasonal_frame(80).to_csv(path, index=False)
    return path


def train(data: Path, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """Run `train` in-process; check that it wrote nothing beside the inputs."""
    before = sorted(tmp_path.rglob("*"))
    out = tmp_path / "model.fcst"
    result = invoke(["train", str(data), "-o", str(out), "-q", *args])
    assert not out.exists()
    assert sorted(tmp_path.rglob("*")) == before  # no model, no temporary file
    return result.exit_code, result.stderr, result.stdout


WRONG_TYPES: list[tuple[str, str, str]] = [
    (
        "target-an-int",
        "target = 5\n",
        "key 'target' is an integer (5); expected a string or a list of strings",
    ),
    (
        "target-list-holding-an-int",
        'target = ["value", 5]\n',
        "key 'target' is a list holding an integer (5); expected a string or a list of strings",
    ),
    (
        "target-a-table",
        "[target]\nname = 'value'\n",
        "key 'target' is a table; expected a string or a list of strings",
    ),
    (
        "epochs-a-string",
        'epochs = "ten"\n',
        "key 'epochs' is a string ('ten'); expected an integer",
    ),
    ("horizon-a-float", "horizon = 2.5\n", "key 'horizon' is a number (2.5); expected an integer"),
    ("dropout-a-string", 'dropout = "x"\n', "key 'dropout' is a string ('x'); expected a number"),
    ("fill-an-int", "fill = 3\n", "key 'fill' is an integer (3); expected a string"),
    ("seed-a-bool", "seed = true\n", "key 'seed' is a boolean (true); expected an integer"),
    ("lr-a-bool", "lr = false\n", "key 'lr' is a boolean (false); expected a number"),
    ("hidden-a-list", "hidden = [8]\n", "key 'hidden' is a list ([8]); expected an integer"),
    (
        "batch-size-as-written",
        "batch-size = 1.5\n",
        "key 'batch-size' is a number (1.5); expected an integer",
    ),
    ("freq-a-table", "[freq]\nstep = 1\n", "key 'freq' is a table; expected a string"),
    (
        "time-a-date",
        "time = 2020-01-01\n",
        "key 'time' is a date or time (2020-01-01); expected a string",
    ),
    (
        "linear-skip-a-string",
        'linear_skip = "yes"\n',
        "key 'linear_skip' is a string ('yes'); expected true or false",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in WRONG_TYPES], ids=[c[0] for c in WRONG_TYPES]
)
def test_a_value_of_the_wrong_type(text: str, message: str, data_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    code, stderr, stdout = train(data_csv, tmp_path, "--config", str(config))
    assert code == 2, stderr
    assert stderr == f"forecaster: error: config file {config}: {message}\n"
    assert stdout == ""


def test_config_is_a_directory(data_csv: Path, tmp_path: Path) -> None:
    directory = tmp_path / "configs"
    directory.mkdir()
    code, stderr, _ = train(data_csv, tmp_path, "--config", str(directory))
    assert code == 2
    assert stderr == f"forecaster: error: config file {directory} is a directory, not a TOML file\n"


def test_config_under_a_file(data_csv: Path, tmp_path: Path) -> None:
    config = data_csv / "c.toml"  # a path through a regular file: "Not a directory"
    code, stderr, _ = train(data_csv, tmp_path, "--config", str(config))
    assert code == 2
    assert stderr == f"forecaster: error: cannot read config file {config}: Not a directory\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_config_unreadable(data_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("epochs = 1\n")
    config.chmod(0)
    try:
        code, stderr, _ = train(data_csv, tmp_path, "--config", str(config))
    finally:
        config.chmod(0o600)
    assert code == 2
    assert stderr == f"forecaster: error: cannot read config file {config}: Permission denied\n"


def test_config_unreadable_whoever_runs_the_tests(
    data_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal as above, for a reader that cannot open the file (even as root)."""
    config = tmp_path / "c.toml"
    config.write_text("epochs = 1\n")

    def denied(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    code, stderr, _ = train(data_csv, tmp_path, "--config", str(config))
    assert code == 2
    assert stderr == f"forecaster: error: cannot read config file {config}: Permission denied\n"


def test_config_directory_in_a_real_process(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.fcst"
    process = run_forecaster(["train", str(data_csv), "-o", str(out), "--config", str(tmp_path)])
    assert process.returncode == 2
    assert process.stderr.decode() == (
        f"forecaster: error: config file {tmp_path} is a directory, not a TOML file\n"
    )
    assert process.stdout == b"" and not out.exists()


SEED_RANGE = f"use an integer in [0, {2**63 - 1}]"
THREAD_RANGE = "use an integer in [0, 1024] (0: automatic)"
OUT_OF_RANGE: list[tuple[str, list[str], str | None, str]] = [
    # (id, flags, config file text, message)
    (
        "seed-25-digits-flag",
        ["--seed", "1234567890123456789012345"],
        None,
        f"invalid value for --seed: 1234567890123456789012345; {SEED_RANGE}",
    ),
    (
        "seed-2-63-flag",
        ["--seed", str(2**63)],
        None,
        f"invalid value for --seed: {2**63}; {SEED_RANGE}",
    ),
    ("seed-negative-flag", ["--seed", "-1"], None, f"invalid value for --seed: -1; {SEED_RANGE}"),
    (
        "seed-huge-file",
        [],
        "seed = 99999999999999999999\n",
        f"invalid value for --seed: 99999999999999999999; {SEED_RANGE}",
    ),
    (
        "threads-100000-flag",
        ["--threads", "100000"],
        None,
        f"invalid value for --threads: 100000; {THREAD_RANGE}",
    ),
    (
        "threads-1025-flag",
        ["--threads", "1025"],
        None,
        f"invalid value for --threads: 1025; {THREAD_RANGE}",
    ),
    (
        "threads-100000-file",
        [],
        "threads = 100000\n",
        f"invalid value for --threads: 100000; {THREAD_RANGE}",
    ),
]


@pytest.mark.parametrize(
    ("flags", "text", "message"), [c[1:] for c in OUT_OF_RANGE], ids=[c[0] for c in OUT_OF_RANGE]
)
def test_seed_and_threads_out_of_range(
    flags: list[str], text: str | None, message: str, data_csv: Path, tmp_path: Path
) -> None:
    args = list(flags)
    if text is not None:
        config = tmp_path / "c.toml"
        config.write_text(text)
        args += ["--config", str(config)]
    code, stderr, stdout = train(data_csv, tmp_path, *args)
    assert code == 2, stderr
    assert stderr == f"forecaster: error: {message}\n"
    assert stdout == ""


def test_the_ends_of_the_ranges_are_accepted() -> None:
    assert TrainConfig(seed=MAX_SEED, threads=MAX_THREADS).validate().seed == 2**63 - 1
    assert TrainConfig(seed=0, threads=0).validate().threads == 0


def test_what_a_config_file_may_write(tmp_path: Path) -> None:
    """An int where a float belongs becomes a float; target is a string or a list; flags win."""
    config = tmp_path / "c.toml"
    config.write_text('dropout = 0\nlr = 1\ntarget = "value"\nbatch-size = 16\nepochs = 5\n')
    loaded = load_config(config, {"epochs": 2})
    assert loaded.dropout == 0.0 and isinstance(loaded.dropout, float)
    assert loaded.lr == 1.0 and isinstance(loaded.lr, float)
    assert loaded.targets == ["value"] and loaded.batch_size == 16 and loaded.epochs == 2
    config.write_text('target = ["a", "b"]\nlinear_skip = false\n')
    loaded = load_config(config, {})
    assert loaded.targets == ["a", "b"] and loaded.linear_skip is False


def test_the_validator_follows_the_dataclass_types() -> None:
    """One validator, derived from TrainConfig's annotations, for TOML and for model files."""
    assert typed_fields(TrainConfig, {"horizon": None, "freq": None}, null=True) == {
        "horizon": None,
        "freq": None,
    }
    with pytest.raises(FieldTypeError, match=r"key 'horizon' is null; expected an integer$"):
        typed_fields(TrainConfig, {"horizon": None})  # TOML has no null
    with pytest.raises(FieldTypeError, match=r"expected an integer or null$"):
        typed_fields(TrainConfig, {"horizon": "7"}, null=True)
    with pytest.raises(FieldTypeError, match=r"is a boolean \(true\); expected an integer$"):
        typed_fields(TrainConfig, {"epochs": True})
    assert typed_fields(TrainConfig, {"val_fraction": 0}) == {"val_fraction": 0.0}
    assert typed_fields(TrainConfig, {"lr": 10**400})["lr"] == float("inf")  # then out of range


def test_max_windows_per_epoch_from_the_flag_or_the_file_is_the_same_model(
    tmp_path: Path,
) -> None:
    """The flag and the TOML key set one field; a smaller epoch samples windows afresh
    (another model than the default's); 0 is refused before any work."""
    from safetensors.numpy import load_file

    from forecaster import artifact as artifact_io
    from tests.conftest import FAST

    data = tmp_path / "data.csv"
    seasonal_frame(300).to_csv(data, index=False)
    toml = tmp_path / "small.toml"
    toml.write_text("max-windows-per-epoch = 40\n")
    models = {name: tmp_path / f"{name}.fcst" for name in ("flag", "file", "default")}
    runs = {
        "flag": ["--max-windows-per-epoch", "40"],
        "file": ["--config", str(toml)],
        "default": [],
    }
    for name, args in runs.items():
        done = invoke(["train", str(data), "-o", str(models[name]), *FAST, *args])
        assert done.exit_code == 0, done.stderr
    assert artifact_io.load(models["flag"]).train_config.max_windows_per_epoch == 40
    assert artifact_io.load(models["default"]).train_config.max_windows_per_epoch == 20_000
    weights = {name: load_file(str(path)) for name, path in models.items()}
    member = next(k for k in weights["flag"] if k.startswith("model.members.0.lstm"))
    assert (weights["flag"][member] == weights["file"][member]).all()
    assert not (weights["flag"][member] == weights["default"][member]).all()
    refused = invoke(["train", str(data), "-o", str(tmp_path / "x.fcst"),
                      "--max-windows-per-epoch", "0"])  # fmt: skip
    assert refused.exit_code == 2 and not (tmp_path / "x.fcst").exists()
