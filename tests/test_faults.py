"""Process faults: interrupts, unwritable or full disks, closed pipes, divergence, absurd options.

In every case the previous model file at the output path is untouched, no temporary file is
left behind, and the user sees one clear line (or nothing at all, for a closed pipe).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest
import torch

from forecaster import files
from forecaster.cli import core as cli
from forecaster.errors import EXIT_INTERRUPTED, TrainingDiverged
from forecaster.model import LSTMForecaster, ModelConfig
from forecaster.train import train_model
from forecaster.windows import WindowSet
from tests.conftest import FAST, ROOT, invoke, long_frame, seasonal_frame

PREVIOUS = b"the previous model file, which must survive"


def temp_files(directory: Path) -> list[Path]:
    """Temporary files of an atomic write (``.NAME.XXXX.tmp``)."""
    return sorted(directory.glob(".*.tmp"))


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    seasonal_frame(80).to_csv(path, index=False)
    return path


@pytest.fixture
def previous_model(tmp_path: Path) -> Path:
    """An output path that already holds a file: a failed run must leave it as it was."""
    out = tmp_path / "out" / "model.fcst"
    out.parent.mkdir()
    out.write_bytes(PREVIOUS)
    return out


def assert_untouched(model: Path) -> None:
    assert model.read_bytes() == PREVIOUS
    assert temp_files(model.parent) == []


# ---------------------------------------------------------------------------------------
# Interrupts: a real process, a real signal


def _start_training(out: Path, payload: bytes) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    args = ["train", "-", "-o", str(out), "--horizon", "7", "--epochs", "100000"]
    args += ["--patience", "100000", "--hidden", "8", "--batch-size", "32", "--quiet"]
    return subprocess.Popen(
        [sys.executable, "-m", "forecaster", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "phase"),
    [(signal.SIGINT, "training"), (signal.SIGTERM, "training"), (signal.SIGINT, "reading")],
    ids=["sigint-while-training", "sigterm-while-training", "sigint-while-reading-stdin"],
)
def test_interrupt_exits_130_and_keeps_the_previous_model(
    signum: signal.Signals, phase: str, previous_model: Path
) -> None:
    # More than a pipe buffer (64 KiB): once the write returns, the child is past its
    # imports and reading the data, so the signal reaches forecaster's own handling.
    payload = seasonal_frame(6000).to_csv(index=False).encode()
    assert len(payload) > 2 * 65536
    process = _start_training(previous_model, payload)
    assert process.stdin is not None
    try:
        if phase == "reading":
            process.stdin.write(payload[: len(payload) // 2])
            process.stdin.flush()
            time.sleep(0.5)  # blocked in the middle of reading standard input
        else:
            process.stdin.write(payload)
            process.stdin.close()
            process.stdin = None  # type: ignore[assignment]  # communicate() must not flush it
            time.sleep(2.0)  # parsing takes milliseconds; by now it is training
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = stderr.decode()
    assert process.returncode == EXIT_INTERRUPTED, text
    assert text.strip() == "forecaster: interrupted"
    assert_untouched(previous_model)


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_interrupt_during_the_save_itself(
    where: str, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C at any step of the atomic write: the old file stays, the temp file goes."""
    _fail_at(where, KeyboardInterrupt(), monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        files.write_file(previous_model, b"new model bytes" * 1000)
    assert_untouched(previous_model)


def test_interrupt_during_save_through_the_cli(
    data_csv: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_at("replace", KeyboardInterrupt(), monkeypatch)
    result = invoke(["train", str(data_csv), "-o", str(previous_model), "--horizon", "7", *FAST])
    assert result.exit_code == EXIT_INTERRUPTED, result.stderr
    assert result.stderr.strip() == "forecaster: interrupted"
    assert_untouched(previous_model)


def test_swallowed_interrupt_still_stops_training_and_saves_nothing(
    data_csv: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt that library code swallowed (see below) ends training at the next epoch."""
    monkeypatch.setitem(cli._state, "interrupted", True)
    args = ["-o", str(previous_model), "--horizon", "7", "--epochs", "1000", *FAST[2:]]
    result = invoke(["train", str(data_csv), *args])
    assert result.exit_code == EXIT_INTERRUPTED, result.stderr
    assert result.stderr.strip() == "forecaster: interrupted"
    assert_untouched(previous_model)


def test_interrupt_swallowed_after_the_last_check_saves_nothing(
    data_csv: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swallowed after training's last callback (while the ensemble is put together): the
    run still ends with 130 before the model file is put in place."""
    from forecaster import pipeline

    fit = pipeline.fit

    def fit_then_interrupted(*args: object, **kwargs: object) -> object:
        result = fit(*args, **kwargs)  # type: ignore[arg-type]
        cli._state["interrupted"] = True
        return result

    monkeypatch.setitem(cli._state, "interrupted", False)
    monkeypatch.setattr(pipeline, "fit", fit_then_interrupted)
    args = ["-o", str(previous_model), "--horizon", "7", *FAST]
    result = invoke(["train", str(data_csv), *args])
    assert result.exit_code == EXIT_INTERRUPTED, result.stderr
    assert_untouched(previous_model)


def test_interrupt_raised_in_a_weakref_callback_is_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python only prints ("Exception ignored") a KeyboardInterrupt raised in a callback such
    as importlib's module-lock weakref; seen when a signal lands in torch's lazy imports."""
    monkeypatch.setattr(sys, "unraisablehook", cli._unraisable)
    monkeypatch.setitem(cli._state, "interrupted", False)

    class Thing:
        pass

    def callback(ref: object) -> None:
        raise KeyboardInterrupt

    thing = Thing()
    ref = weakref.ref(thing, callback)
    del thing  # the callback runs, its KeyboardInterrupt goes to the unraisable hook
    assert ref() is None
    assert cli._state["interrupted"] is True
    with pytest.raises(KeyboardInterrupt):
        cli.check_interrupted()


def test_main_exits_130_directly(
    data_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The entry point leaves with os._exit(130): CPython could otherwise turn the exit of an
    interrupted `python -m forecaster` into death by SIGINT (status -2)."""

    class Exited(Exception):
        pass

    def fake_exit(code: int) -> None:
        raise Exited(code)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # keep pytest's handlers
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # restored afterwards
    monkeypatch.setitem(cli._state, "process", False)  # restored: no gc freezing in pytest
    monkeypatch.setattr("forecaster.data.load_panel", interrupted)
    monkeypatch.setattr(
        sys, "argv", ["forecaster", "train", str(data_csv), "-o", str(tmp_path / "m.fcst")]
    )
    with pytest.raises(Exited) as exited:
        cli.main()
    assert exited.value.args == (EXIT_INTERRUPTED,)
    assert capsys.readouterr().err.strip() == "forecaster: interrupted"
    assert not (tmp_path / "m.fcst").exists()


def _fail_at(where: str, error: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make one step of an atomic write (`files.write`) raise ``error``."""

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    if where == "fsync":
        monkeypatch.setattr(files.os, "fsync", fail)
    elif where == "replace":
        monkeypatch.setattr(files.os, "replace", fail)
    elif where == "create":
        monkeypatch.setattr(files, "_open_new", fail)
    else:
        real_fdopen = os.fdopen

        class FailingFile:
            def __init__(self, fd: int, mode: str) -> None:
                self.inner = real_fdopen(fd, mode)

            def __enter__(self) -> FailingFile:
                return self

            def __exit__(self, *exc: object) -> None:
                self.inner.close()

            def fileno(self) -> int:
                return int(self.inner.fileno())

            def write(self, data: bytes) -> int:
                self.inner.write(data[: len(data) // 2])  # a partial write, then the failure
                raise error

        monkeypatch.setattr(files.os, "fdopen", FailingFile)


# ---------------------------------------------------------------------------------------
# Unwritable output, full disk


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_disk_full_during_save(
    where: str, data_csv: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_at(where, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), monkeypatch)
    result = invoke(["train", str(data_csv), "-o", str(previous_model), "--horizon", "7", *FAST])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"cannot write {previous_model}" in lines[0]
    assert "No space left on device" in lines[0]
    assert "Traceback" not in result.stderr
    assert_untouched(previous_model)


def test_disk_full_when_writing_a_forecast(
    trained_model: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forecast = previous_model.with_name("forecast.csv")
    forecast.write_bytes(PREVIOUS)
    _fail_at("write", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), monkeypatch)
    result = invoke(["predict", "-m", str(trained_model), "-o", str(forecast)])
    assert result.exit_code == 2, result.stderr
    assert "No space left on device" in result.stderr
    assert forecast.read_bytes() == PREVIOUS
    assert temp_files(forecast.parent) == []


def test_unwritable_directory_fails_before_training(
    data_csv: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked up front (no wasted training). Simulated: tests often run as root."""
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(str(path)) == previous_model.parent and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    started = time.perf_counter()
    result = invoke(["train", str(data_csv), "-o", str(previous_model), *FAST])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == (
        f"forecaster: error: cannot write {previous_model}: directory "
        f"{previous_model.parent} is not writable"
    )
    assert time.perf_counter() - started < 5
    assert_untouched(previous_model)


def test_permission_denied_at_save_time(
    data_csv: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The directory became unwritable during training: refused at save, old file kept."""
    _fail_at("create", PermissionError(errno.EACCES, "Permission denied"), monkeypatch)
    result = invoke(["train", str(data_csv), "-o", str(previous_model), "--horizon", "7", *FAST])
    assert result.exit_code == 2, result.stderr
    assert "is not writable" in result.stderr
    assert_untouched(previous_model)


def test_read_only_directory_for_real(tmp_path: Path) -> None:
    """A directory the process truly cannot write. Root writes anywhere, so as root the
    command runs without the capability to override file permissions (setpriv), the way
    a service user would meet a read-only directory."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root without setpriv cannot be denied a write")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    data = tmp_path / "data.csv"
    seasonal_frame(80).to_csv(data, index=False)
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    model = out_dir / "model.fcst"
    model.write_bytes(PREVIOUS)
    out_dir.chmod(0o555)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [*prefix, sys.executable, "-m", "forecaster", "train", str(data), "-o", str(model)]
    try:
        done = subprocess.run(
            [*command, *FAST], capture_output=True, env=env, cwd=tmp_path, timeout=120
        )
    finally:
        out_dir.chmod(0o755)
    assert done.returncode == 2, done.stderr.decode()
    assert done.stderr.decode().strip() == (
        f"forecaster: error: cannot write {model}: directory {out_dir} is not writable"
    )
    assert model.read_bytes() == PREVIOUS
    assert temp_files(out_dir) == []


@pytest.mark.parametrize(
    ("output", "phrase"),
    [
        ("missing-dir/model.fcst", "does not exist"),
        (".", "is a directory"),
    ],
    ids=["directory-does-not-exist", "output-is-a-directory"],
)
def test_bad_output_paths(data_csv: Path, tmp_path: Path, output: str, phrase: str) -> None:
    target = tmp_path / output
    result = invoke(["train", str(data_csv), "-o", str(target), *FAST])
    assert result.exit_code == 2, result.stderr
    assert phrase in result.stderr and "Traceback" not in result.stderr
    assert temp_files(tmp_path) == []


# ---------------------------------------------------------------------------------------
# Closed pipes


@pytest.fixture(scope="module")
def many_series_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model whose forecast is far larger than a pipe buffer (so the write really fails)."""
    directory = tmp_path_factory.mktemp("pipe")
    data = directory / "long.csv"
    long_frame(lengths=(40,) * 120).to_csv(data, index=False)
    model = directory / "many.fcst"
    result = invoke(
        ["train", str(data), "-o", str(model), "--horizon", "12", "--epochs", "1", *FAST[2:]]
    )
    assert result.exit_code == 0, result.stderr
    return model


@pytest.mark.slow
def test_early_closed_pipes_are_not_errors(many_series_model: Path, tmp_path: Path) -> None:
    command = f"PYTHONPATH={ROOT} OMP_NUM_THREADS=1 {sys.executable} -m forecaster"
    pipelines = {
        "head-1": f"{command} predict -m {many_series_model} --format json | head -1",
        "true": f"{command} predict -m {many_series_model} --format jsonl | true",
    }
    # Both pipelines at once (fewer seconds of interpreter start-up); each reports its
    # forecaster's exit status (pipefail) and keeps its stderr apart.
    script = "set -o pipefail\n"
    for name, pipeline in pipelines.items():
        script += f"( {pipeline} 2>{tmp_path / name}.err; echo $? > {tmp_path / name}.rc ) &\n"
    script += "wait\n"
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    full = invoke(["predict", "-m", str(many_series_model), "--format", "json"])
    assert len(full.stdout.encode()) > 65536  # more than a pipe holds: the write did fail
    assert done.stdout.decode().strip() == "["  # head -1 printed the first line
    for name in pipelines:
        assert (tmp_path / f"{name}.err").read_text() == "", name
        assert (tmp_path / f"{name}.rc").read_text().strip() == "0", name


# ---------------------------------------------------------------------------------------
# Divergence


def _nan_forward(
    self: LSTMForecaster, context: torch.Tensor, spread: torch.Tensor | None = None
) -> torch.Tensor:
    # Still a function of the weights (so backward runs), but not a number.
    return _real_forward(self, context, spread) * float("nan")


_real_forward = LSTMForecaster.forward


def test_diverging_training_stops_with_a_hint_and_writes_nothing(
    data_csv: Path, previous_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LSTMForecaster, "forward", _nan_forward)
    args = ["-o", str(previous_model), "--horizon", "7", "--epochs", "50", *FAST[2:]]
    result = invoke(["train", str(data_csv), *args])
    assert result.exit_code == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "training diverged at epoch 1" in lines[0]
    assert "try a lower learning rate than --lr 0.003" in lines[0]
    assert "Traceback" not in result.stderr
    assert_untouched(previous_model)


def test_divergence_is_detected_by_the_training_loop() -> None:
    torch.manual_seed(0)
    config = ModelConfig(n_targets=1, lookback=4, horizon=2, hidden=4, layers=1, dropout=0.0)
    model = LSTMForecaster(config)
    series = torch.randn(50, 1)
    series[20] = float("inf")  # one poisoned row reaches the loss
    windows = WindowSet(
        series=series,
        train_starts=torch.arange(0, 44),
        val_starts=torch.empty(0, dtype=torch.int64),
        lookback=4,
        horizon=2,
    )
    with pytest.raises(TrainingDiverged, match="lower learning rate"):
        train_model(model, windows, epochs=3, batch_size=8, lr=1e-3, patience=3)


# ---------------------------------------------------------------------------------------
# Absurd options: exit 2, naming the valid range, before anything is written

# (id, extra arguments, any one of these phrases must appear)
ABSURD_TRAIN: list[tuple[str, list[str], list[str]]] = [
    ("lookback-0", ["--lookback", "0"], [">=1", "greater than or equal to 1"]),
    ("horizon-negative", ["--horizon", "-1"], [">=1", "greater than or equal to 1"]),
    ("horizon-0", ["--horizon", "0"], [">=1", "greater than or equal to 1"]),
    ("epochs-0", ["--epochs", "0"], [">=1", "greater than or equal to 1"]),
    ("batch-size-0", ["--batch-size", "0"], [">=1", "greater than or equal to 1"]),
    ("hidden-0", ["--hidden", "0"], [">=1", "greater than or equal to 1"]),
    ("layers-0", ["--layers", "0"], [">=1", "greater than or equal to 1"]),
    ("patience-0", ["--patience", "0"], [">=1", "greater than or equal to 1"]),
    ("ensemble-0", ["--ensemble", "0"], [">=1", "greater than or equal to 1"]),
    ("loss-unknown", ["--loss", "mape"], ["mae", "mse", "huber"]),
    ("holdout-negative", ["--holdout", "-1"], [">=0", "greater than or equal to 0"]),
    ("dropout-1.5", ["--dropout", "1.5"], ["--dropout: 1.5; use a number in [0, 1)"]),
    ("dropout-1", ["--dropout", "1"], ["--dropout: 1.0; use a number in [0, 1)"]),
    ("dropout-negative", ["--dropout", "-0.1"], [">=0", "greater than or equal to 0"]),
    ("val-fraction-1", ["--val-fraction", "1"], ["--val-fraction: 1.0; use a number in [0, 1)"]),
    ("val-fraction-2", ["--val-fraction", "2"], ["--val-fraction: 2.0; use a number in [0, 1)"]),
    ("lr-0", ["--lr", "0"], ["--lr: 0.0; use a number in (0, 10]"]),
    ("lr-negative", ["--lr", "-0.1"], ["use a number in (0, 10]"]),
    ("lr-nan", ["--lr", "nan"], ["use a number in (0, 10]"]),
    ("lr-inf", ["--lr", "inf"], ["use a number in (0, 10]"]),
    ("lr-1e38", ["--lr", "1e38"], ["use a number in (0, 10]"]),
    ("lookback-longer-than-the-series", ["--lookback", "80"], ["has 80 rows, so use 1 to 66"]),
    ("lookback-far-longer", ["--lookback", "100000"], ["so use 1 to 66"]),
    ("freq-unknown", ["--freq", "fortnightly"], ["invalid value for --freq", "such as h, D"]),
    ("fill-unknown", ["--fill", "guess"], ["interpolate", "ffill"]),
    ("device-unknown", ["--device", "tpu"], ["auto", "cpu", "cuda"]),
    (
        "time-is-also-target",
        ["--time", "date", "--target", "date"],
        ["cannot be both the time column and a target"],
    ),
    ("not-a-number", ["--epochs", "many"], ["not a valid integer", "a valid integer"]),
]


@pytest.mark.parametrize(
    ("args", "phrases"), [c[1:] for c in ABSURD_TRAIN], ids=[c[0] for c in ABSURD_TRAIN]
)
def test_absurd_train_options(
    args: list[str], phrases: list[str], data_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model.fcst"
    result = invoke(["train", str(data_csv), "-o", str(out), "--epochs", "1", "--quiet", *args])
    assert result.exit_code == 2, result.stderr
    assert any(p in result.stderr for p in phrases), result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and temp_files(tmp_path) == []


def test_lookback_longer_than_every_series_in_long_format(tmp_path: Path) -> None:
    data = tmp_path / "long.csv"
    long_frame(lengths=(30, 25, 20)).to_csv(data, index=False)
    out = tmp_path / "model.fcst"
    result = invoke(["train", str(data), "-o", str(out), "--lookback", "40", *FAST])
    assert result.exit_code == 2, result.stderr
    assert "--lookback: 40; the longest series has 30 rows, so use 1 to" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("hidden = 0\n", "--hidden: 0; use an integer >= 1"),
        ("ensemble = 0\n", "--ensemble: 0; use an integer >= 1"),
        ("dropout = 2.0\n", "--dropout: 2.0; use a number in [0, 1)"),
        ("lr = 1e9\n", "use a number in (0, 10]"),
        ("epochz = 3\n", "unknown key(s) epochz"),
        ("epochs = [\n", "is not valid TOML"),
        ('epochs = "ten"\n', "key 'epochs' is a string ('ten'); expected an integer"),
        ("target = 5\n", "key 'target' is an integer (5); expected a string or a list of"),
        ("seed = true\n", "key 'seed' is a boolean (true); expected an integer"),
        ("seed = 99999999999999999999\n", "--seed: 99999999999999999999; use an integer in"),
        ("threads = 100000\n", "--threads: 100000; use an integer in [0, 1024]"),
    ],
    ids=[
        "hidden-0",
        "ensemble-0",
        "dropout-2",
        "lr-huge",
        "unknown-key",
        "broken-toml",
        "epochs-a-string",
        "target-an-int",
        "seed-a-bool",
        "seed-huge",
        "threads-huge",
    ],
)
def test_absurd_values_in_a_config_file(
    text: str, phrase: str, data_csv: Path, tmp_path: Path
) -> None:
    config = tmp_path / "train.toml"
    config.write_text(text)
    out = tmp_path / "model.fcst"
    result = invoke(["train", str(data_csv), "-o", str(out), "--config", str(config), "-q"])
    assert result.exit_code == 2, result.stderr
    assert phrase in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert not out.exists() and temp_files(tmp_path) == []


ABSURD_USE: list[tuple[str, list[str], list[str]]] = [
    ("predict-horizon-0", ["predict", "--horizon", "0"], [">=1", "greater than or equal to 1"]),
    (
        "predict-horizon-too-far",
        ["predict", "--horizon", "8"],
        ["this model forecasts 1 to 7 steps"],
    ),
    ("predict-format-unknown", ["predict", "--format", "xml"], ["csv", "jsonl"]),
    (
        "evaluate-windows-0",
        ["evaluate", "DATA", "--windows", "0"],
        [">=1", "greater than or equal to 1"],
    ),
    (
        "evaluate-stride-0",
        ["evaluate", "DATA", "--stride", "0"],
        [">=1", "greater than or equal to 1"],
    ),
    (
        "evaluate-season-0",
        ["evaluate", "DATA", "--season", "0"],
        [">=1", "greater than or equal to 1"],
    ),
    (
        "evaluate-horizon-too-far",
        ["evaluate", "DATA", "--horizon", "30"],
        ["this model forecasts 1 to 7 steps"],
    ),
]


@pytest.mark.parametrize(
    ("args", "phrases"), [c[1:] for c in ABSURD_USE], ids=[c[0] for c in ABSURD_USE]
)
def test_absurd_predict_and_evaluate_options(
    args: list[str], phrases: list[str], trained_model: Path, data_csv: Path
) -> None:
    args = [str(data_csv) if a == "DATA" else a for a in args]
    result = invoke([*args, "-m", str(trained_model)])
    assert result.exit_code == 2, result.stderr
    assert any(p in result.stderr for p in phrases), result.stderr
    assert result.stdout == ""
