"""What the user reads: one-line usage errors, clean help, summaries, tables and numbers.

And tests that fail when an option is ignored: evaluate's --stride, --windows and
--season, predict's use of the training fill, the "(all)" row, the MAPE note.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

from forecaster.cli import app
from forecaster.config import TrainConfig
from tests.conftest import FAST, invoke, long_frame, run_forecaster, seasonal_frame


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def flat(text: str) -> str:
    """Help text without the box drawing and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


# ---------------------------------------------------------------------------------------
# Usage errors and help


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["train", "data.csv", "--bogus"], "No such option: --bogus"),
        (["train", "data.csv", "--epochs", "ten"], "Invalid value for '--epochs'"),
        (["train"], "Missing argument 'DATA'"),
        (["predict", "--format", "xml"], "Invalid value for '--format'"),
        (["evaluate", "data.csv", "--windows", "0"], "Invalid value for '--windows'"),
    ],
    ids=["unknown-option", "bad-number", "missing-argument", "bad-choice", "out-of-range"],
)
def test_usage_errors_are_one_line(args: list[str], phrase: str) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("forecaster: error: ") and phrase in line
    assert line.endswith(f"see 'forecaster {args[0]} --help'")
    assert result.stdout == ""


def test_usage_errors_are_one_line_in_a_real_process() -> None:
    done = run_forecaster(["predict", "--horizon", "x"])
    assert done.returncode == 2
    assert "Invalid value for '--horizon'" in one_line(done.stderr.decode())


@pytest.mark.parametrize("command", ["", "train", "predict", "evaluate", "info"])
def test_help_is_clean(command: str) -> None:
    result = invoke([command, "--help"] if command else ["--help"])
    assert result.exit_code == 0
    text = result.stdout
    assert "<bool>" not in text  # flags take no value
    assert "{" not in text and "}" not in text  # usage names arguments plainly
    assert "(default:" not in text  # one style of default: [default: X]


def test_help_defaults_come_from_the_config() -> None:
    text = flat(invoke(["train", "--help"]).stdout)
    defaults = TrainConfig()
    for flag, value in [
        ("--layers", defaults.layers),
        ("--hidden", defaults.hidden),
        ("--ensemble", defaults.ensemble),
        ("--epochs", defaults.epochs),
        ("--lr", defaults.lr),
        ("--fill", defaults.fill),
        ("--loss", defaults.loss),
    ]:
        after = text[text.index(flag, text.index("Arguments")) :]  # the option, not the prose
        assert f"[default: {value}]" in after[:260], flag
    from forecaster.tuning import TUNING

    after = text[text.index("--patience") :]
    assert (
        f"[default: {TUNING.default_patience}; at most {TUNING.patience_max_checks} checks "
        f"({TUNING.patience_max_checks * TUNING.windows_per_check:,} windows)"
    ) in after[:300]
    for command in ("predict", "evaluate"):
        assert "[default: the fill the model was trained with]" in flat(
            invoke([command, "--help"]).stdout
        )


def test_every_command_takes_quiet() -> None:
    group = typer.main.get_command(app)
    for name in ("train", "predict", "evaluate"):
        command = group.commands[name]  # type: ignore[attr-defined]
        assert any("--quiet" in p.opts for p in command.params), name


# ---------------------------------------------------------------------------------------
# Train's summary and info


def test_summary_says_epochs_per_network_and_the_seconds_info_stores(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    seasonal_frame(200).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", "7", "--epochs", "2"]
    result = invoke([*args, "--hidden", "8", "--batch-size", "32", "--ensemble", "2"])
    assert result.exit_code == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    info = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    runs = "/".join(str(m["epochs_run"]) for m in info["training"]["members"])
    assert f"2 networks, epochs {runs} of at most 2 each" in line
    assert line.endswith(f"; {info['training']['seconds']:.1f} s)")
    text = invoke(["info", str(model)]).stdout
    assert "network 2 (seed 1):" in text and "{" not in text  # a table, not a JSON blob


# ---------------------------------------------------------------------------------------
# evaluate: (all), per series, quiet, decimals


@pytest.fixture(scope="module")
def two_target_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("two")
    frame = seasonal_frame(200)
    frame["percent"] = frame["value"] / 100  # another unit
    data = directory / "two.csv"
    frame.to_csv(data, index=False)
    model = directory / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr
    return model, data


def test_all_row_averages_only_scale_free_metrics(two_target_model: tuple[Path, Path]) -> None:
    model, data = two_target_model
    result = invoke(["evaluate", "-m", str(model), str(data), "--format", "csv"])
    rows = pd.read_csv(io.StringIO(result.stdout))
    every = rows[(rows["target"] == "(all)") & (rows["method"] == "model")].iloc[0]
    per = rows[(rows["target"] != "(all)") & (rows["method"] == "model")]
    assert np.isnan(every["mae"]) and np.isnan(every["rmse"]) and np.isnan(every["mape"])
    assert every["mase"] == pytest.approx(per["mase"].mean(), rel=1e-5)
    assert every["smape"] == pytest.approx(per["smape"].mean(), rel=1e-5)
    report = json.loads(
        invoke(["evaluate", "-m", str(model), str(data), "--format", "json"]).stdout
    )
    assert report["metrics"]["mae"] is None and report["metrics"]["mase"] > 0
    assert any("only smape, mase" in note for note in report["notes"])


@pytest.fixture(scope="module")
def panel_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("panel")
    data = directory / "long.csv"
    long_frame().to_csv(data, index=False)
    model = directory / "m.fcst"
    result = invoke(
        ["train", str(data), "-o", str(model), "--horizon", "7", "--holdout", "7", *FAST]
    )
    assert result.exit_code == 0, result.stderr
    return model, data


def test_per_series_scores_are_each_series_alone(
    panel_model: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = panel_model
    result = invoke(["evaluate", "-m", str(model), str(data), "--per-series", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    per_series = json.loads(result.stdout)["per_series"]
    assert sorted(per_series) == ["s0", "s1", "s2"]
    frame = pd.read_csv(data)
    for series_id in ("s0", "s2"):
        alone = tmp_path / f"{series_id}.csv"
        frame[frame["unique_id"] == series_id].to_csv(alone, index=False)
        report = json.loads(
            invoke(["evaluate", "-m", str(model), str(alone), "--format", "json"]).stdout
        )
        alone_model = {**report["metrics"], "intervals": report["intervals"]}
        assert per_series[series_id]["y"]["model"] == {**alone_model, "pinball": report["pinball"]}
        assert per_series[series_id]["y"]["seasonal_naive"] == report["baselines"]["seasonal_naive"]
    table = invoke(["evaluate", "-m", str(model), str(data), "--per-series", "--format", "csv"])
    rows = pd.read_csv(io.StringIO(table.stdout))
    assert set(rows["series"]) == {"(all)", "s0", "s1", "s2"}


def test_quiet_silences_predict_and_evaluate(
    panel_model: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = panel_model
    frame = pd.read_csv(data)
    frame["unique_id"] = frame["unique_id"] + "-new"  # unseen: a warning
    fresh = tmp_path / "fresh.csv"
    frame.to_csv(fresh, index=False)
    loud = invoke(["predict", "-m", str(model), str(fresh)])
    assert "not seen in training" in loud.stderr
    for command in (["predict", "-m", str(model), str(fresh)],
                    ["evaluate", "-m", str(model), str(fresh), "--format", "json"]):  # fmt: skip
        quiet = invoke([*command, "--quiet"])
        assert quiet.exit_code == 0 and quiet.stderr == "", command


def test_numbers_have_the_precision_asked_for(trained_model: Path) -> None:
    default = pd.read_csv(
        io.StringIO(invoke(["predict", "-m", str(trained_model)]).stdout), dtype=str
    )
    for text in default["value"]:
        digits = text.replace("-", "").replace(".", "").lstrip("0")
        assert len(digits) <= 6, text  # 6 significant digits, not 16
    two = invoke(["predict", "-m", str(trained_model), "--decimals", "2", "--format", "json"])
    for record in json.loads(two.stdout):
        assert record["value"] == round(record["value"], 2)
    zero = pd.read_csv(
        io.StringIO(invoke(["predict", "-m", str(trained_model), "--decimals", "0"]).stdout)
    )
    assert (zero["value"] == zero["value"].round()).all()


# ---------------------------------------------------------------------------------------
# Options that must change the result (each test fails if the option were ignored)


def _steps(model: Path, data: Path, tmp_path: Path, *args: str) -> pd.DataFrame:
    out = tmp_path / "steps.csv"
    result = invoke(["evaluate", "-m", str(model), str(data), "--forecasts", str(out), *args])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out)


def test_windows_and_stride_choose_the_origins(
    trained_model: Path, seasonal_csv: Path, tmp_path: Path
) -> None:
    days = pd.date_range("2020-01-01", periods=300, freq="D")
    default = _steps(trained_model, seasonal_csv, tmp_path)
    assert list(default["date"]) == list(days[-7:].strftime("%Y-%m-%d"))
    three = _steps(trained_model, seasonal_csv, tmp_path, "--windows", "3")
    assert list(three["date"]) == list(days[-21:].strftime("%Y-%m-%d"))
    strided = _steps(trained_model, seasonal_csv, tmp_path, "--windows", "3", "--stride", "2")
    want = [
        d for start in (286, 288, 290) for d in days[start + 3 : start + 10].strftime("%Y-%m-%d")
    ]
    assert list(strided["date"]) == want
    report = json.loads(
        invoke(["evaluate", "-m", str(trained_model), str(seasonal_csv), "--windows", "3",
                "--stride", "2", "--format", "json"]).stdout
    )  # fmt: skip
    assert report["forecasts"] == 3 and report["windows"] == 3
    mae = np.mean(np.abs(strided["model"] - strided["actual"]))
    assert report["metrics"]["mae"] == pytest.approx(mae, rel=1e-4)


@pytest.mark.parametrize("season", [3, 7, 30])
def test_season_sets_mase_and_seasonal_naive(
    season: int, trained_model: Path, seasonal_csv: Path, tmp_path: Path
) -> None:
    steps = _steps(trained_model, seasonal_csv, tmp_path, "--season", str(season))
    history = pd.read_csv(seasonal_csv)["value"].to_numpy()[:-7]
    scale = np.mean(np.abs(history[season:] - history[:-season]))
    report = json.loads(
        invoke(["evaluate", "-m", str(trained_model), str(seasonal_csv), "--season",
                str(season), "--format", "json"]).stdout
    )  # fmt: skip
    assert report["season"] == season
    mae = np.mean(np.abs(steps["model"] - steps["actual"]))
    assert report["metrics"]["mase"] == pytest.approx(mae / scale, rel=1e-4)
    last_cycle = history[-season:]
    assert steps["seasonal_naive"].to_numpy() == pytest.approx(
        last_cycle[np.arange(7) % season], rel=1e-5
    )


def test_predict_and_evaluate_fill_gaps_the_way_training_did(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    seasonal_frame(200).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    args = ["train", str(data), "-o", str(model), "--horizon", "7", "--fill", "ffill", *FAST]
    assert invoke(args).exit_code == 0
    gappy = seasonal_frame(200)
    gappy.loc[gappy.index[-3:-1], "value"] = np.nan  # two empty cells near the end
    fresh = tmp_path / "gappy.csv"
    gappy.to_csv(fresh, index=False)

    def forecast(*args: str) -> list[float]:
        out = invoke(["predict", "-m", str(model), str(fresh), *args, "--quiet"])
        assert out.exit_code == 0, out.stderr
        return pd.read_csv(io.StringIO(out.stdout))["value"].tolist()

    assert forecast() == forecast("--fill", "ffill")
    assert forecast() != forecast("--fill", "interpolate")
    evaluated = invoke(["evaluate", "-m", str(model), str(fresh), "--format", "json"])
    assert "by ffill" in evaluated.stderr


def test_mape_skips_zero_actuals_and_says_how_many(tmp_path: Path) -> None:
    frame = seasonal_frame(200)
    frame.loc[frame.index[-7:-4], "value"] = 0.0  # three zeros among the scored actuals
    data = tmp_path / "zeros.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    result = invoke(["evaluate", "-m", str(model), str(data)])
    assert result.exit_code == 0
    assert "forecaster: MAPE skips 3 zero actual(s)" in result.stderr


def test_help_paragraphs_are_reflowed_and_train_quotes_no_timings() -> None:
    from forecaster.cli.core import Command

    command = Command("x", help="First line\n    goes on.\n\n    Second\n    paragraph.")
    assert command.help == "First line goes on.\n\nSecond paragraph."
    text = flat(invoke(["train", "--help"]).stdout)
    assert "a failed or interrupted run leaves any previous file untouched" in text
    # Timings drift with every machine: benchmarks/README.md, "Time to forecast", has them.
    assert "CPU seconds" not in text and "M4 Hourly" not in text


def test_headerless_input_is_named_and_the_readme_pipeline_works(
    trained_model: Path, tmp_path: Path
) -> None:
    """`tail -n 5 data.csv | forecaster predict -` drops the header: exit 3 with the fix in
    the message; the README's `(head -n 1; tail -n 500)` form forecasts."""
    import subprocess
    import sys

    from tests.conftest import ROOT, seasonal_frame

    data = tmp_path / "latest.csv"
    seasonal_frame(800).to_csv(data, index=False)  # longer than the 500 rows kept
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    forecaster = f"{sys.executable} -m forecaster"
    tail = subprocess.run(
        f"tail -n 100 {data} | {forecaster} predict -m {trained_model} -",
        shell=True, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert tail.returncode == 3
    assert "looks like data, not a header" in tail.stderr
    assert "(head -n 1 data.csv; tail -n 500 data.csv)" in tail.stderr
    both = subprocess.run(
        f"(head -n 1 {data}; tail -n 500 {data}) | {forecaster} predict -m {trained_model} - "
        "--format jsonl",
        shell=True, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert both.returncode == 0, both.stderr
    assert len(both.stdout.splitlines()) == 7
