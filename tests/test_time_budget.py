"""Time spent training: --max-time, and the defaults' budget scaled to the data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.config import TrainConfig, parse_duration
from forecaster.errors import UsageError
from forecaster.forecast import predict
from forecaster.model import LSTMForecaster
from forecaster.train import train_model
from forecaster.windows import make_windows
from tests.conftest import FAST, invoke, seasonal_frame
from tests.test_training import panel_of, small_config


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("10m", 600), ("10min", 600), ("1.5h", 5400),
     ("1h30m", 5400), ("2h 5m 3s", 7503), (".5s", 0.5), ("0.25", 0.25)],
)  # fmt: skip
def test_durations_in_seconds_minutes_and_hours(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "ten minutes", "10x", "-5s", "1h-", "5s5", "1e3"])
def test_what_is_not_a_duration_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(UsageError, match="90s, 10m"):
        parse_duration(text)


@given(hours=st.integers(0, 99), minutes=st.integers(0, 59), seconds=st.integers(0, 59))
def test_any_hours_minutes_seconds_adds_up(hours: int, minutes: int, seconds: int) -> None:
    text = f"{hours}h{minutes}m{seconds}s"
    assert parse_duration(text) == 3600 * hours + 60 * minutes + seconds


@pytest.mark.parametrize("value", ["0", "0s", "abc", "9999999999h"])
def test_train_refuses_a_bad_max_time_before_reading_data(value: str, tmp_path: Path) -> None:
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(tmp_path / "missing.csv"), "-o", str(model),
                     "--max-time", value])  # fmt: skip
    assert result.exit_code == 2
    assert "--max-time" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not model.exists()


def test_a_deadline_in_the_past_keeps_the_starting_weights() -> None:
    """Out of time before any step: the best weights are the ones training started from
    (they were checked on validation first), and the result says why it stopped."""
    panel = panel_of(seasonal_frame(200))
    config = small_config()
    from forecaster.windows import fit_scaler, split_series

    split = split_series(panel.lengths, 7, 28, 0.2)
    windows = make_windows(panel, fit_scaler(panel, split), split, 28, 7, torch.device("cpu"))
    torch.manual_seed(0)
    from forecaster.config import ModelConfig

    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=28, horizon=7, hidden=8))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_model(model, windows, epochs=50, batch_size=32, lr=1e-2, patience=50,
                         deadline=time.perf_counter() - 1)  # fmt: skip
    assert result.stopped_by_time and not result.stopped_early
    assert result.epochs_run == 0
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    del config


def _small_windows():  # type: ignore[no-untyped-def]
    from forecaster.windows import fit_scaler, split_series

    panel = panel_of(seasonal_frame(4000))
    split = split_series(panel.lengths, 7, 28, 0.2)
    return make_windows(panel, fit_scaler(panel, split), split, 28, 7, torch.device("cpu"))


@pytest.mark.parametrize(
    ("patience", "per_epoch", "epochs_run"),
    [
        (0, None, 5),  # automatic, every epoch sees every window: 10 checks, 2 per epoch
        (3, None, 3),  # as given: 3 epochs, even though each revisits every window
        (0, 1000, 8),  # automatic, epochs sample the windows: 8 epochs (a check each)
    ],
)
def test_patience_on_windows_already_seen_is_short_unless_asked(
    patience: int, per_epoch: int | None, epochs_run: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A validation loss that never improves: how many epochs training waits."""
    from forecaster import train as train_module
    from forecaster.config import ModelConfig

    monkeypatch.setattr(train_module, "evaluate_loss", lambda *args: 1.0)
    windows = _small_windows()
    assert train_module.validation_checks(len(windows.train_starts), 1) == 2
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=28, horizon=7, hidden=4))
    result = train_model(model, windows, epochs=50, batch_size=256, lr=1e-3, patience=patience,
                         max_windows_per_epoch=per_epoch)  # fmt: skip
    assert result.stopped_early and result.epochs_run == epochs_run


def test_max_time_stops_training_and_says_so(tmp_path: Path) -> None:
    """A budget far below what the epochs would take: training ends within about the
    budget, the model is complete and forecasts, and both the summary and info say why."""
    data = tmp_path / "data.csv"
    seasonal_frame(600).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", "7", "--hidden", "16",
            "--epochs", "500", "--patience", "500", "--ensemble", "2", "--quiet"]  # fmt: skip
    started = time.perf_counter()
    result = invoke([*args, "--max-time", "1.5s", "--format", "json"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["stopped_by_time"] is True
    assert all(m["stopped_by_time"] for m in summary["members"])
    assert all(m["epochs_run"] < 500 for m in summary["members"])
    assert elapsed < 15  # 500 epochs would take minutes
    artifact = artifact_io.load(model)
    assert artifact.summary["stopped_by_time"] is True
    frame = predict(artifact)
    assert len(frame) == 7 and frame["value"].notna().all()
    info = invoke(["info", str(model)])
    assert "stopped at --max-time" in info.stdout

    text = invoke([*args[:-1], "--max-time", "1s"])
    assert text.exit_code == 0, text.stderr
    assert "stopped at --max-time, with the best weights so far" in text.stderr


def test_a_generous_max_time_changes_nothing(tmp_path: Path) -> None:
    """Same seed, a deadline never reached: the same weights as without one."""
    data = tmp_path / "data.csv"
    seasonal_frame().to_csv(data, index=False)
    models = []
    for extra in ([], ["--max-time", "1h"]):
        model = tmp_path / f"m{len(extra)}.fcst"
        result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST, *extra])
        assert result.exit_code == 0, result.stderr
        models.append(artifact_io.load(model))
    for name, tensor in models[0].weights.items():
        assert (tensor == models[1].weights[name]).all(), name
    assert models[1].summary["stopped_by_time"] is False


def test_max_time_is_a_config_key(tmp_path: Path) -> None:
    assert TrainConfig(max_time=90.0).validate().max_time == 90.0
    with pytest.raises(UsageError, match="--max-time"):
        TrainConfig(max_time=0.0).validate()


def test_a_config_file_takes_max_time_as_a_duration_or_seconds(tmp_path: Path) -> None:
    from forecaster.config import load_config

    for text, seconds in (('max-time = "10m"', 600.0), ("max-time = 90", 90.0)):
        path = tmp_path / "c.toml"
        path.write_text(text + "\n")
        assert load_config(path, {}).max_time == seconds
    path.write_text('max-time = "soon"\n')
    with pytest.raises(UsageError, match="--max-time"):
        load_config(path, {})


def test_a_terminal_sees_what_is_trained_and_the_time_left(tmp_path: Path) -> None:
    """stderr on a terminal: a progress line naming the network, the data and the LSTM,
    the epoch, the losses and an estimate of the time left (rich's h:mm:ss)."""
    import os
    import pty
    import re
    import subprocess
    import sys

    from tests.conftest import ROOT

    data = tmp_path / "data.csv"
    seasonal_frame().to_csv(data, index=False)
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "forecaster", "train", str(data), "-o", str(tmp_path / "m.fcst"),
         "--horizon", "7", "--epochs", "3", "--hidden", "8", "--ensemble", "2"],
        stderr=follower, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert "network 2/2: 1 series" in text
    assert re.search(r"\d+ windows, 2 x 8 LSTM, epoch \d/3", text), text[-500:]
    assert re.search(r"train \d+\.\d{4} val \d+\.\d{4}", text)
    assert re.search(r"\d+:\d\d:\d\d", text)  # time remaining
    assert "forecaster: wrote" in text
