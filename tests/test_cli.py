"""The commands end to end, through CliRunner and through real shell pipelines."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from forecaster import __version__
from tests.conftest import FAST, ROOT, invoke, long_frame, run_forecaster


def test_train_predict_evaluate_wide(seasonal_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(seasonal_csv), "-o", str(model), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr
    assert model.exists()
    assert result.stdout == ""

    result = invoke(["predict", "-m", str(model)])
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns) == ["date", "value"]
    assert len(frame) == 7
    # Timestamps continue the series at its frequency.
    assert frame["date"].iloc[0] == "2020-10-27"  # 300 days after 2020-01-01
    assert frame["date"].iloc[-1] == "2020-11-02"

    result = invoke(["evaluate", "-m", str(model), str(seasonal_csv), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["metrics"]) == {"mae", "rmse", "mape", "smape", "mase"}
    assert set(report["baselines"]) == {"naive", "seasonal_naive"}
    assert report["horizon"] == 7 and report["windows"] == 1
    assert "value" in report["per_target"]
    # Evaluating on the training data itself is flagged.
    assert "inside the model's training range" in result.stderr


def test_train_json_summary(seasonal_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(seasonal_csv), "-o", str(model), "--format", "json", *FAST])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["model"] == str(model)
    assert summary["epochs_run"] == 2
    assert summary["best_val_loss"] > 0
    assert summary["seconds"] > 0
    assert summary["horizon"] == 14  # daily default (M4)
    # The LSTM reads 28 days; the linear skip also 56 (within a third of 240 training rows).
    assert summary["lstm_lookback"] == 28 and summary["lookback"] == 56
    assert summary["networks"] == 1


def test_long_format_every_series_forecast(long_csv: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(long_csv), "-o", str(model), "--horizon", "5", *FAST])
    assert result.exit_code == 0, result.stderr
    out = invoke(["predict", "-m", str(model), "--format", "jsonl"])
    assert out.exit_code == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(records) == 15
    assert set(records[0]) == {"unique_id", "ds", "y"}
    assert {r["unique_id"] for r in records} == {"s0", "s1", "s2"}


def test_short_series_in_long_format_is_padded(tmp_path: Path) -> None:
    data = tmp_path / "mixed.csv"
    long_frame(lengths=(200, 150, 12)).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    result = invoke(
        ["train", str(data), "-o", str(model), "--horizon", "5", "--lookback", "20", *FAST[:-1]]
    )
    assert result.exit_code == 0, result.stderr
    assert "padded context: s2" in result.stderr
    out = invoke(["predict", "-m", str(model)])
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert frame.groupby("unique_id").size().to_dict() == {"s0": 5, "s1": 5, "s2": 5}


def test_multiple_targets_and_horizon_option(tmp_path: Path) -> None:
    frame = long_frame(lengths=(240,)).drop(columns="unique_id")
    frame["other"] = frame["y"] * 2 + 1
    frame["label"] = "x"
    data = tmp_path / "multi.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    result = invoke(
        [
            "train",
            str(data),
            "-o",
            str(model),
            "--target",
            "y",
            "--target",
            "other",
            "--horizon",
            "6",
            *FAST,
        ]
    )
    assert result.exit_code == 0, result.stderr
    out = invoke(["predict", "-m", str(model), "--horizon", "3", "--format", "json"])
    records = json.loads(out.stdout)
    assert len(records) == 3 and set(records[0]) == {"ds", "y", "other"}
    too_far = invoke(["predict", "-m", str(model), "--horizon", "7"])
    assert too_far.exit_code == 2
    assert "this model forecasts 1 to 6 steps" in too_far.stderr


def test_predict_from_new_data_and_output_file(trained_model: Path, tmp_path: Path) -> None:
    from tests.conftest import seasonal_frame

    recent = tmp_path / "recent.csv"
    seasonal_frame(n=350).to_csv(recent, index=False)
    out_file = tmp_path / "forecast.csv"
    result = invoke(["predict", "-m", str(trained_model), str(recent), "-o", str(out_file)])
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(out_file)
    assert frame["date"].iloc[0] == "2020-12-16"  # continues the new data, not the stored context
    assert result.stdout == ""


def test_config_file_and_flags_win(seasonal_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("hidden = 4\nepochs = 1\nbatch-size = 16\nhorizon = 3\n")
    model = tmp_path / "m.fcst"
    result = invoke(
        [
            "train",
            str(seasonal_csv),
            "-o",
            str(model),
            "--config",
            str(config),
            "--horizon",
            "4",
            "--format",
            "json",
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    # One epoch for each of the default three networks.
    assert summary["epochs_run"] == 3 and summary["horizon"] == 4
    info = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert info["hidden"] == 4 and info["networks"] == 3
    assert [m["seed"] for m in info["training"]["members"]] == [0, 1, 2]


def test_info(trained_model: Path) -> None:
    result = invoke(["info", str(trained_model), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["freq"] == "D" and info["horizon"] == 7 and info["series"] == 1
    assert info["schema"] == {"time": "date", "targets": ["value"], "id": None}
    assert info["training"]["epochs_run"] == 2
    text = invoke(["info", str(trained_model)])
    assert "lookback:" in text.stdout


def test_evaluate_rolling_windows_csv(trained_model: Path, seasonal_csv: Path) -> None:
    result = invoke(
        [
            "evaluate",
            "-m",
            str(trained_model),
            str(seasonal_csv),
            "--windows",
            "3",
            "--stride",
            "2",
            "--format",
            "csv",
        ]
    )
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame["method"]) == ["model", "naive", "seasonal_naive"]
    assert {"mae", "rmse", "mape", "smape", "mase"} <= set(frame.columns)


def test_pipeline_through_a_real_shell(seasonal_csv: Path, tmp_path: Path) -> None:
    """cat data | forecaster train - ... ; forecaster predict ... | forecaster-free consumer."""
    model = tmp_path / "piped.fcst"
    env_python = f"PYTHONPATH={ROOT} {sys.executable} -m forecaster"
    script = (
        f"set -euo pipefail; cat {seasonal_csv} | {env_python} train - -o {model} "
        f"--horizon 7 {' '.join(FAST)}; "
        f"{env_python} predict -m {model} | tail -n +2 | wc -l; "
        f"cat {seasonal_csv} | {env_python} predict -m {model} - --format jsonl | head -c 200"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert lines[0].strip() == "7"
    assert json.loads(lines[1])["date"] == "2020-10-27"


def test_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    """A forecast far larger than a pipe buffer, so that the write really fails."""
    data = tmp_path / "many.csv"
    long_frame(lengths=(60,) * 200).to_csv(data, index=False)
    model = tmp_path / "many.fcst"
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "30", *FAST])
    assert trained.exit_code == 0, trained.stderr
    assert len(invoke(["predict", "-m", str(model)]).stdout.encode()) > 2 * 65536
    script = (
        f"set -o pipefail; PYTHONPATH={ROOT} {sys.executable} -m forecaster predict "
        f"-m {model} | head -1"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=120)
    assert done.stdout.decode().strip() == "unique_id,ds,y"
    assert done.stderr.decode() == ""
    assert done.returncode == 0


def test_help_and_version() -> None:
    done = run_forecaster(["--help"])
    assert done.returncode == 0
    for command in ("train", "predict", "evaluate", "info"):
        assert command in done.stdout.decode()
    version = run_forecaster(["--version"])
    assert version.stdout.decode().strip() == __version__


def test_threads_option_is_applied_and_recorded(seasonal_csv: Path, tmp_path: Path) -> None:
    import torch

    model = tmp_path / "m.fcst"
    before = torch.get_num_threads()
    try:
        result = invoke(["train", str(seasonal_csv), "-o", str(model), "--threads", "2", *FAST])
        assert result.exit_code == 0, result.stderr
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    info = invoke(["info", str(model), "--format", "json"])
    assert json.loads(info.stdout)["training"]["threads"] == 2
    bad = invoke(["train", str(seasonal_csv), "-o", str(model), "--threads", "-1", *FAST])
    assert bad.exit_code == 2
