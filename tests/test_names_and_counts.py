"""What a user reads agrees with itself: one count of validation windows from `train`,
`info` and `predict`; a wide file's series named by its target; `plot --help` saying what
`--level` does there; one version number; every key of evaluate's JSON in docs/commands.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from forecaster import __version__
from forecaster import artifact as artifact_io
from tests.conftest import FAST, ROOT, invoke, run_forecaster, seasonal_frame
from tests.test_model_tamper import put, tamper


def test_train_info_and_predict_count_the_same_validation_windows(tmp_path: Path) -> None:
    """300 rows, 10% of them (30) for validation and a horizon of 7: 24 windows, the
    forecasts from each origin whose horizon lies in the validation rows. Validation MASE
    counted 30 // 7 = 4 non-overlapping ones where intervals counted 24."""
    data, model = tmp_path / "data.csv", tmp_path / "model.fcst"
    seasonal_frame(n=300).to_csv(data, index=False)
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "7", "--format",
                      "json", *FAST])  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["validation"]["windows"] == summary["intervals"]["windows"] == 24
    info = invoke(["info", str(model)]).stdout
    assert "(24 validation windows)" in info and "24 validation windows of 1 series" in info
    assert re.search(r"\(\d+ training, 24 validation windows\)", info), info
    # 24 windows alone are too few for a 95% interval, so it also pools training origins;
    # beyond what both resolve, predict names the same 24
    predicted = invoke(["predict", "-m", str(model), "--level", "99.8"])
    assert "the model's 24 validation windows" in predicted.stderr, predicted.stderr


def test_plot_help_says_the_level_is_drawn_not_scored() -> None:
    text = " ".join(invoke(["plot", "--help"]).stdout.split())
    assert "Shade the central prediction interval" in text
    assert "Score" not in text


def test_a_wide_files_series_is_named_by_its_target(trained_model: Path, tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    seasonal_frame(n=3).to_csv(short, index=False)
    refused = invoke(["predict", "-m", str(trained_model), str(short)])
    assert refused.exit_code == 3 and "series 'value' has 3 row(s)" in refused.stderr
    assert artifact_io.load(trained_model).ids == ["value"]
    data = tmp_path / "data.csv"
    seasonal_frame().to_csv(data, index=False)
    report = invoke(["evaluate", "-m", str(trained_model), str(data), "--per-series",
                     "--format", "json"])  # fmt: skip
    assert report.exit_code == 0, report.stderr
    assert list(json.loads(report.stdout)["per_series"]) == ["value"]


def test_a_model_file_that_called_it_series_still_knows_it(
    trained_model: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.fcst"
    old.write_bytes(tamper(trained_model.read_bytes(), "new", meta=put("ids", ["series"])))
    assert artifact_io.load(old).ids == ["value"]
    data = tmp_path / "data.csv"
    seasonal_frame().to_csv(data, index=False)
    fresh = invoke(["predict", "-m", str(old), str(data)])
    assert fresh.exit_code == 0 and "not seen in training" not in fresh.stderr, fresh.stderr
    same = invoke(["predict", "-m", str(trained_model), str(data)])
    assert fresh.stdout == same.stdout


@pytest.mark.parametrize(
    ("targets", "name"),
    [(["a"], "a"), (["a", "b"], "a + b"), (["a", "b", "c", "d"], "a + 3 more targets")],
)
def test_a_wide_file_with_several_targets_is_named_by_them(
    targets: list[str], name: str, tmp_path: Path
) -> None:
    frame = seasonal_frame(n=120)
    for target in targets:
        frame[target] = frame["value"]
    data, model = tmp_path / "data.csv", tmp_path / "model.fcst"
    frame[["date", *targets]].to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr
    assert artifact_io.load(model).ids == [name]


def test_one_version_for_the_package_its_metadata_and_the_command() -> None:
    from setuptools.config.pyprojecttoml import read_configuration

    declared = read_configuration(ROOT / "pyproject.toml")["project"]["version"]
    assert declared == __version__
    shown = run_forecaster(["--version"])
    assert shown.returncode == 0 and shown.stdout.decode().strip() == __version__


def test_the_docs_list_every_key_of_evaluates_json(tmp_path: Path) -> None:
    """A model with a future covariate: its report has every key, `covariates_held` and the
    `model_covariates_held` method included, and docs/commands.md's table lists them all."""
    from tests.test_covariates import driven_frame

    data, model = tmp_path / "data.csv", tmp_path / "model.fcst"
    driven_frame(n=200)[["date", "sales", "promo"]].to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7",
                     "--future-covariate", "promo", *FAST])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(invoke(["evaluate", "-m", str(model), str(data), "--per-series",
                                "--format", "json", "--quiet"]).stdout)  # fmt: skip
    page = (ROOT / "docs" / "commands.md").read_text()
    start = page.index("JSON keys (stable")
    table = page[start : page.index("\n\n", page.index("| key |", start))]
    keys = set(report) | set(report["per_target"]["sales"])
    missing = sorted(k for k in keys if f"`{k}`" not in table)
    assert not missing, f"evaluate's JSON keys missing from docs/commands.md's table: {missing}"
    assert {"covariates_held", "model_covariates_held"} <= keys
