"""Outputs never destroy anything: not an input, not a device, not a symlink, not a mode.

Each case runs the real command. An output path that is one of the command's inputs (by
any spelling: ``./a``, ``d/../a``, a hard link, a symlink) is refused with exit code 2
before any work and the input is byte for byte what it was; special files are written
directly, never replaced; symlinks are followed; modes are kept or come from the umask;
success is decided before a model file is put in place.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from forecaster import files
from tests.conftest import FAST, ROOT, invoke, run_forecaster, seasonal_frame

PREVIOUS = b"the previous model file, which must survive"


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".*.tmp"))


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    path = tmp_path / "base.csv"
    seasonal_frame(80).to_csv(path, index=False)
    return path


@pytest.fixture
def model_copy(trained_model: Path, tmp_path: Path) -> Path:
    """A private copy of the session's model, so a test that fails cannot damage it."""
    path = tmp_path / "m.fcst"
    shutil.copyfile(trained_model, path)
    return path


def _spellings(path: Path) -> dict[str, Callable[[], str]]:
    """Ways to name ``path`` (made when called, inside the test's directory)."""

    def hard_link() -> str:
        link = path.with_name("hard-link" + path.suffix)
        os.link(path, link)
        return str(link)

    def symlink() -> str:
        link = path.with_name("sym-link" + path.suffix)
        link.symlink_to(path.name)
        return str(link)

    def via_parent() -> str:
        (path.parent / "sub").mkdir(exist_ok=True)
        return str(path.parent / "sub" / ".." / path.name)

    return {
        "same": lambda: str(path),
        "dot-slash": lambda: os.path.relpath(path),
        "dir-dot-dot": via_parent,
        "hard-link": hard_link,
        "symlink": symlink,
    }


SPELLINGS = ["same", "dot-slash", "dir-dot-dot", "hard-link", "symlink"]


def _assert_refused_as_input(result, protected: Path, before: bytes) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "writing there would destroy it" in lines[0], result.stderr
    assert protected.read_bytes() == before
    assert temp_files(protected.parent) == []


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_train_refuses_to_write_the_model_over_its_data(
    spelling: str, data_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(data_csv.parent)
    before = data_csv.read_bytes()
    output = _spellings(data_csv)[spelling]()
    started = time.perf_counter()
    result = invoke(["train", str(data_csv), "-o", output, *FAST])
    _assert_refused_as_input(result, data_csv, before)
    assert "is the training data" in result.stderr
    assert time.perf_counter() - started < 5  # refused before reading or training


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_predict_refuses_to_write_over_its_model(
    spelling: str, model_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(model_copy.parent)
    before = model_copy.read_bytes()
    output = _spellings(model_copy)[spelling]()
    result = invoke(["predict", "-m", str(model_copy), "-o", output])
    _assert_refused_as_input(result, model_copy, before)
    assert "is the model file" in result.stderr


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_predict_and_evaluate_refuse_to_write_over_their_data(
    command: str, model_copy: Path, data_csv: Path, tmp_path: Path
) -> None:
    recent = tmp_path / "recent.csv"
    seasonal_frame(350).to_csv(recent, index=False)
    before = recent.read_bytes()
    args = [command, "-m", str(model_copy), str(recent), "-o", str(recent)]
    result = invoke([*args, "--format", "json"] if command == "evaluate" else args)
    _assert_refused_as_input(result, recent, before)
    assert "is DATA" in result.stderr
    # ... and evaluate over the model file:
    model_before = model_copy.read_bytes()
    result = invoke(["evaluate", "-m", str(model_copy), str(recent), "-o", str(model_copy)])
    _assert_refused_as_input(result, model_copy, model_before)


@pytest.mark.parametrize("case", ["new", "exists", "hard-link"])
def test_evaluate_refuses_one_file_for_both_outputs(
    case: str, model_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--forecasts and -o naming one file (new or not, spelt differently, a hard link):
    one would overwrite the other, so neither is written."""
    recent = tmp_path / "recent.csv"
    seasonal_frame(350).to_csv(recent, index=False)
    out = tmp_path / "both.json"
    exists = case != "new"
    if exists:
        out.write_text("keep me\n")
    steps = "./both.json"
    if case == "hard-link":
        os.link(out, tmp_path / "link.json")
        steps = "link.json"
    monkeypatch.chdir(tmp_path)
    result = invoke(["evaluate", "-m", str(model_copy), str(recent), "-o", str(out),
                     "--forecasts", steps])  # fmt: skip
    assert result.exit_code == 2
    assert "name the same file" in result.stderr
    assert (out.read_text() == "keep me\n") if exists else not out.exists()


def test_train_refuses_to_write_over_its_config_file(data_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("hidden = 4\n")
    before = config.read_bytes()
    result = invoke(["train", str(data_csv), "--config", str(config), "-o", str(config), *FAST])
    _assert_refused_as_input(result, config, before)
    assert "is the config file" in result.stderr


def test_a_new_file_beside_the_input_is_fine(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "base.fcst"
    result = invoke(["train", str(data_csv), "-o", str(out), *FAST])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] != b"" and data_csv.read_bytes().startswith(b"date,value")


# ---------------------------------------------------------------------------------------
# Special files are written directly; symlinks are followed, never replaced


def test_dev_stdout_is_written_not_replaced(trained_model: Path) -> None:
    target = files.check_output("/dev/stdout")
    assert target.special  # refuse to go on (and risk the device) if this ever regresses
    done = run_forecaster(["predict", "-m", str(trained_model), "-o", "/dev/stdout"])
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().startswith("date,value\n")
    assert os.path.islink("/dev/stdout")


def test_dev_full_fails_cleanly_and_stays_a_device(trained_model: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    assert files.check_output("/dev/full").special
    done = run_forecaster(["predict", "-m", str(trained_model), "-o", "/dev/full"])
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0]
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.skipif(not hasattr(os, "mknod") or os.geteuid() != 0, reason="mknod needs root")
def test_a_character_device_of_our_own_is_written_not_replaced(
    trained_model: Path, tmp_path: Path
) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # another /dev/null
    result = invoke(["predict", "-m", str(trained_model), "-o", str(device)])
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert temp_files(tmp_path) == []


def test_a_fifo_is_written_not_replaced(trained_model: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = invoke(["predict", "-m", str(trained_model), "-o", str(fifo), "--format", "jsonl"])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received and received[0].count(b"\n") == 7
    assert temp_files(tmp_path) == []


def test_a_symlink_to_stdout_is_followed(trained_model: Path, tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    done = run_forecaster(["predict", "-m", str(trained_model), "-o", str(link)])
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().startswith("date,value\n")
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_a_symlink_is_followed_to_its_target(
    dangling: bool, trained_model: Path, tmp_path: Path
) -> None:
    real = tmp_path / "real" / "forecast.csv"
    real.parent.mkdir()
    if not dangling:
        real.write_text("old forecast\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = invoke(["predict", "-m", str(trained_model), "-o", str(link)])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_text().startswith("date,value\n")
    assert temp_files(tmp_path) == [] and temp_files(real.parent) == []


# ---------------------------------------------------------------------------------------
# Output paths checked fully before any work


def test_a_trailing_slash_names_a_directory(data_csv: Path, tmp_path: Path) -> None:
    for output in (f"{tmp_path}/models/", f"{tmp_path}/"):
        started = time.perf_counter()
        result = invoke(["train", str(data_csv), "-o", output, *FAST])
        assert result.exit_code == 2, result.stderr
        assert "names a directory" in result.stderr
        assert time.perf_counter() - started < 5
    assert not (tmp_path / "models").exists()


def test_a_file_where_a_directory_should_be(data_csv: Path) -> None:
    result = invoke(["train", str(data_csv), "-o", f"{data_csv}/model.fcst", *FAST])
    assert result.exit_code == 2, result.stderr
    assert "Not a directory" in result.stderr


def test_a_long_legal_name_is_written_and_too_long_a_name_refused_first(
    data_csv: Path, tmp_path: Path
) -> None:
    legal = tmp_path / ("m" * 245 + ".fcst")  # 250 bytes: legal, the temporary name is not
    result = invoke(["train", str(data_csv), "-o", str(legal), *FAST])
    assert result.exit_code == 0, result.stderr
    assert legal.exists() and temp_files(tmp_path) == []
    too_long = tmp_path / ("m" * 300 + ".fcst")
    started = time.perf_counter()
    result = invoke(["train", str(data_csv), "-o", str(too_long), *FAST])
    assert result.exit_code == 2, result.stderr
    assert "longer than this file system allows (255)" in result.stderr
    assert time.perf_counter() - started < 5


# ---------------------------------------------------------------------------------------
# Modes: kept from the file replaced, else from the umask


def _train_with_umask(umask: str, data: Path, out: Path) -> subprocess.CompletedProcess[bytes]:
    command = (
        f"umask {umask} && PYTHONPATH={ROOT} {sys.executable} -m forecaster train {data} "
        f"-o {out} {' '.join(FAST)}"
    )
    return subprocess.run(["bash", "-c", command], capture_output=True, timeout=120)


@pytest.mark.parametrize(("umask", "mode"), [("022", 0o644), ("077", 0o600), ("002", 0o664)])
def test_new_files_honour_the_umask(umask: str, mode: int, data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "new.fcst"
    done = _train_with_umask(umask, data_csv, out)
    assert done.returncode == 0, done.stderr.decode()
    assert stat.S_IMODE(os.stat(out).st_mode) == mode


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_replaced_file_keeps_its_mode(mode: int, data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "old.fcst"
    out.write_bytes(PREVIOUS)
    out.chmod(mode)
    done = _train_with_umask("077", data_csv, out)
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() != PREVIOUS
    assert stat.S_IMODE(os.stat(out).st_mode) == mode


def test_forecast_files_honour_the_umask_too(trained_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "forecast.csv"
    command = (
        f"umask 022 && PYTHONPATH={ROOT} {sys.executable} -m forecaster predict "
        f"-m {trained_model} -o {out}"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644


# ---------------------------------------------------------------------------------------
# Success is decided before the model is put in place


def test_closed_stdout_with_a_json_summary_writes_no_model(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.fcst"
    out.write_bytes(PREVIOUS)
    command = (
        f"PYTHONPATH={ROOT} {sys.executable} -m forecaster train {data_csv} -o {out} "
        f"--format json {' '.join(FAST)} >&-"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=120)
    assert done.returncode == 2, done.stderr.decode()
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "standard output is closed" in lines[0]
    assert out.read_bytes() == PREVIOUS
    assert temp_files(tmp_path) == []


def test_summary_that_cannot_be_printed_leaves_no_model(
    data_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stdout fails only when the summary is written (after training): no model either."""
    out = tmp_path / "model.fcst"
    out.write_bytes(PREVIOUS)

    def failing_write(*args: object, **kwargs: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("forecaster.output.write_json", failing_write)
    result = invoke(["train", str(data_csv), "-o", str(out), "--format", "json", *FAST])
    assert result.exit_code == 1, result.stderr
    assert "Input/output error" in result.stderr
    assert out.read_bytes() == PREVIOUS
    assert temp_files(tmp_path) == []


def test_a_reader_that_closes_early_still_gets_the_model_written(
    data_csv: Path, tmp_path: Path
) -> None:
    """A closed pipe is not an error: the summary is lost, the model is not."""
    out = tmp_path / "model.fcst"
    command = (
        f"set -o pipefail; PYTHONPATH={ROOT} {sys.executable} -m forecaster train {data_csv} "
        f"-o {out} --format json {' '.join(FAST)} | (exec 0<&-; true)"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode() == ""
    assert out.exists() and temp_files(tmp_path) == []
