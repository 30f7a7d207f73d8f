"""`train DATA --from OLD`: an update that starts from OLD's networks, what it refuses, and
that OLD is never harmed (checksums before and after)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import artifact, warmstart
from forecaster.errors import EXIT_DATA, EXIT_INTERRUPTED, EXIT_USAGE, ModelFileError
from tests.conftest import FAST, ROOT, invoke, long_frame, seasonal_frame

OLD_ROWS, ALL_ROWS = 260, 300


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A daily series: OLD's rows, the whole history, and only the rows after OLD's."""
    directory = tmp_path_factory.mktemp("warmstart")
    frame = seasonal_frame(ALL_ROWS)
    paths = {name: directory / f"{name}.csv" for name in ("old", "all", "new")}
    frame.head(OLD_ROWS).to_csv(paths["old"], index=False)
    frame.to_csv(paths["all"], index=False)
    frame.tail(ALL_ROWS - OLD_ROWS).to_csv(paths["new"], index=False)
    return paths


@pytest.fixture(scope="module")
def old_model(series: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = tmp_path_factory.mktemp("old") / "old.fcst"
    result = invoke(["train", str(series["old"]), "-o", str(model), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr
    return model


@pytest.fixture
def old_copy(old_model: Path, tmp_path: Path) -> Path:
    """A copy of OLD that a test may see replaced (the module's own stays as it is)."""
    copy = tmp_path / "old.fcst"
    copy.write_bytes(old_model.read_bytes())
    return copy


def forecast(model: Path) -> pd.DataFrame:
    result = invoke(["predict", "-m", str(model)])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(pd.io.common.StringIO(result.stdout))


@pytest.mark.parametrize("data", ["all", "new"])
def test_an_update_learns_from_the_new_rows_and_records_where_it_came_from(
    data: str, series: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    """The whole history, or only the rows after OLD's (joined to the rows OLD stored): a
    valid model ending at the new last row, trained from OLD's weights, its forecast not
    OLD's, and its lineage naming OLD by name and checksum."""
    before = sha256(old_model)
    new = tmp_path / "new.fcst"
    result = invoke(["train", str(series[data]), "--from", str(old_model), "-o", str(new)])
    assert result.exit_code == 0, result.stderr
    assert sha256(old_model) == before
    old, updated = artifact.load(old_model), artifact.load(new)
    assert updated.model_config == old.model_config  # OLD's shape, whatever the defaults
    assert updated.series_end[0] == pd.Timestamp("2020-01-01") + pd.Timedelta(days=ALL_ROWS - 1)
    assert max(h["epoch"] for h in updated.history) <= warmstart.UPDATE_EPOCHS  # the default
    same = all(np.array_equal(updated.weights[k], old.weights[k]) for k in old.weights)
    assert same == (updated.summary["kept_networks"] == "old")
    ours, theirs = forecast(new), forecast(old_model)
    assert ours.iloc[0, 0] != theirs.iloc[0, 0]  # it forecasts from the new end
    np.testing.assert_array_equal(updated.scaler.mean, old.scaler.mean)  # OLD's units

    described = invoke(["info", str(new), "--format", "json"])
    assert described.exit_code == 0, described.stderr
    (entry,) = json.loads(described.stdout)["lineage"]
    assert entry["file"] == str(old_model) and entry["sha256"] == before
    assert entry["rows_added"] == ALL_ROWS - OLD_ROWS
    assert (entry["series_added"], entry["series_dropped"]) == (0, 0)
    pd.Timestamp(entry["updated_at"])  # a time
    text = invoke(["info", str(new)]).stdout
    assert f"lineage:        updated from {old_model} (sha256 {before[:12]})" in text


def test_the_summary_compares_the_update_with_old_on_the_newest_rows(
    series: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new.fcst"
    args = ["train", str(series["all"]), "--from", str(old_model), "-o", str(new)]
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    summary = artifact.load(new).summary
    old_score = summary["validation_before"]["mase"]["model"]
    assert f"{old_model} scored {old_score:.3g} there" in line
    assert f"validation MASE {summary['validation']['mase']['model']:.3g}" in line
    as_json = invoke([*args, "--format", "json", "-q"])
    assert json.loads(as_json.stdout)["validation_before"]["mase"]["model"] == pytest.approx(
        old_score, rel=1e-5
    )


def test_a_second_update_chains_the_lineage(
    series: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    frame = seasonal_frame(ALL_ROWS + 20)
    later = tmp_path / "later.csv"
    frame.to_csv(later, index=False)
    first, second = tmp_path / "first.fcst", tmp_path / "second.fcst"
    assert invoke(["train", str(series["all"]), "--from", str(old_model), "-o", str(first),
                   "-q"]).exit_code == 0  # fmt: skip
    result = invoke(["train", str(later), "--from", str(first), "-o", str(second), "-q"])
    assert result.exit_code == 0, result.stderr
    lineage = artifact.load(second).lineage
    # The second update learns as the first did (not at a tenth of its rate again).
    configs = [artifact.load(m).train_config for m in (old_model, first, second)]
    assert [c.lr for c in configs] == pytest.approx([3e-3, 3e-4, 3e-4])
    assert [c.epochs for c in configs] == [2, warmstart.UPDATE_EPOCHS, warmstart.UPDATE_EPOCHS]
    assert [e["file"] for e in lineage] == [str(old_model), str(first)]
    assert [e["rows_added"] for e in lineage] == [ALL_ROWS - OLD_ROWS, 20]


def test_output_old_is_replaced_only_after_success(series: dict[str, Path], old_copy: Path) -> None:
    before = sha256(old_copy)
    failed = invoke(["train", str(series["old"]), "--from", str(old_copy), "-o", str(old_copy)])
    assert failed.exit_code == EXIT_DATA  # no row after OLD's last: nothing to update with
    assert "no rows after the model's last timestamp" in failed.stderr
    assert sha256(old_copy) == before
    done = invoke(["train", str(series["all"]), "--from", str(old_copy), "-o", str(old_copy)])
    assert done.exit_code == 0, done.stderr
    assert sha256(old_copy) != before
    assert artifact.load(old_copy).lineage[0]["sha256"] == before
    assert list(old_copy.parent.iterdir()) == [old_copy]  # no staging file left behind


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--hidden", "16"], "--hidden cannot be changed with --from"),
        (["--horizon", "14"], "--horizon cannot be changed with --from"),
        (["--lookback", "20"], "--lookback cannot be changed with --from"),
        (["--ensemble", "3"], "--ensemble cannot be changed with --from"),
        (["--layers", "1"], "--layers cannot be changed with --from"),
        (["--target", "other"], "--target cannot be changed with --from"),
        (["--past-covariate", "x"], "--past-covariate cannot be changed with --from"),
        (["--nproc", "2"], "--from updates a model in one process"),
        (["--dayfirst"], "--dayfirst cannot be changed with --from"),
    ],
)
def test_flags_that_change_the_shape_are_refused_and_old_is_untouched(
    flags: list[str], named: str, series: dict[str, Path], old_copy: Path
) -> None:
    before = sha256(old_copy)
    result = invoke(["train", str(series["all"]), "--from", str(old_copy), "-o", str(old_copy),
                     *flags])  # fmt: skip
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sha256(old_copy) == before


def test_flags_that_ask_for_what_old_is_and_those_an_update_honours_apply(
    series: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new.fcst"
    result = invoke(["train", str(series["all"]), "--from", str(old_model), "-o", str(new),
                     "--horizon", "7", "--hidden", "8", "--epochs", "3", "--lr", "0.001",
                     "--seed", "5", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    updated = artifact.load(new)
    assert (updated.train_config.epochs, updated.train_config.lr) == (3, 0.001)
    assert max(h["epoch"] for h in updated.history) <= 3
    assert updated.summary["members"][0]["seed"] == 5


def _refused(data: Path, model: Path, *flags: str) -> str:
    before = sha256(model)
    result = invoke(["train", str(data), "--from", str(model), "-o", str(model), *flags])
    assert result.exit_code == EXIT_DATA, result.stderr
    assert sha256(model) == before
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_data_that_does_not_fit_old_is_refused_with_the_difference(
    series: dict[str, Path], old_copy: Path, tmp_path: Path
) -> None:
    frame = seasonal_frame(ALL_ROWS)
    other_columns = tmp_path / "columns.csv"
    frame.rename(columns={"value": "sales"}).to_csv(other_columns, index=False)
    assert "lacks the model's column(s) 'value'" in _refused(other_columns, old_copy)
    weekly = tmp_path / "weekly.csv"
    seasonal_frame(ALL_ROWS, freq="W").to_csv(weekly, index=False)
    assert "frequency" in _refused(weekly, old_copy)
    zoned = tmp_path / "zoned.csv"
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%dT00:00:00+05:00")).to_csv(
        zoned, index=False
    )
    assert "offset" in _refused(zoned, old_copy)


def test_one_horizon_of_new_rows_is_enough(old_model: Path, tmp_path: Path) -> None:
    """The nightly case: only the rows since OLD, one horizon of them. OLD stored the rows
    before its context as well, so the update has windows to learn from and validate on;
    a model file without them (written before they were stored) refuses, saying why."""
    night = tmp_path / "night.csv"
    seasonal_frame(OLD_ROWS + 7).tail(7).to_csv(night, index=False)
    new = tmp_path / "new.fcst"
    result = invoke(["train", str(night), "--from", str(old_model), "-o", str(new), "-q"])
    assert result.exit_code == 0, result.stderr
    updated, old = artifact.load(new), artifact.load(old_model)
    assert updated.lineage[0]["rows_added"] == 7
    # OLD stored all of its history: the update learnt from all of it and the new rows.
    assert old.earlier is not None and old.earlier_real is not None
    assert old.earlier_real.tolist() == [OLD_ROWS - old.model_config.lookback]
    assert updated.summary["rows"] == OLD_ROWS + 7
    bare = tmp_path / "bare.fcst"
    import dataclasses

    artifact.save(dataclasses.replace(old, earlier=None, earlier_real=None), bare)
    assert artifact.load(bare).earlier is None
    assert "too few rows to update with" in _refused(night, bare)


def test_only_the_new_rows_update_as_the_whole_file_does(
    series: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    """OLD keeps its whole history (within `EARLIER_VALUES`), so the nightly pipeline that
    passes only the rows that arrived gets the model it would get from the whole file."""
    models = {}
    for name in ("new", "all"):
        models[name] = tmp_path / f"{name}.fcst"
        result = invoke(["train", str(series[name]), "--from", str(old_model), "-o",
                         str(models[name]), "-q"])  # fmt: skip
        assert result.exit_code == 0, result.stderr
    new, whole = artifact.load(models["new"]), artifact.load(models["all"])
    assert new.summary["rows"] == whole.summary["rows"] == ALL_ROWS
    for name, weights in whole.weights.items():
        np.testing.assert_array_equal(new.weights[name], weights)
    forecasts = [invoke(["predict", "-m", str(models[k])]).stdout for k in ("new", "all")]
    assert forecasts[0] == forecasts[1] and forecasts[0].count("\n") > 7


def test_a_panel_stores_its_history_within_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A panel keeps as many rows of each series as `EARLIER_VALUES` allows, never fewer
    than one more window; a file whose earlier rows are wider than that is refused."""
    from forecaster.artifact import tensors

    monkeypatch.setattr(tensors, "EARLIER_VALUES", 300)
    frames = [seasonal_frame(ALL_ROWS).assign(shop=shop) for shop in ("a", "b")]
    data = tmp_path / "panel.csv"
    pd.concat(frames).to_csv(data, index=False)
    model = tmp_path / "panel.fcst"
    result = invoke(["train", str(data), "--id", "shop", "-o", str(model), "--horizon", "7",
                     "--lookback", "28", *FAST])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    stored = artifact.load(model)
    assert stored.earlier is not None and stored.earlier_real is not None
    least = stored.model_config.lookback + stored.model_config.horizon  # 35
    assert stored.earlier.shape[1] == 150  # 300 values over 2 series
    assert stored.earlier_real.tolist() == [150, 150]
    monkeypatch.setattr(tensors, "EARLIER_VALUES", 2 * least)
    with pytest.raises(ModelFileError, match=r"earlier\.values has shape"):
        artifact.load(model)


def test_covariates_old_was_trained_with_must_be_in_data(tmp_path: Path) -> None:
    frame = seasonal_frame(ALL_ROWS)
    frame["temperature"] = np.sin(np.arange(ALL_ROWS) / 5.0)
    old_csv, all_csv, bare_csv = (tmp_path / f"{n}.csv" for n in ("old", "all", "bare"))
    frame.head(OLD_ROWS).to_csv(old_csv, index=False)
    frame.to_csv(all_csv, index=False)
    frame.drop(columns="temperature").to_csv(bare_csv, index=False)
    model = tmp_path / "cov.fcst"
    trained = invoke(["train", str(old_csv), "--target", "value", "--past-covariate",
                      "temperature", "--horizon", "7", "-o", str(model), *FAST])  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    assert "lacks the model's column(s) 'temperature'" in _refused(bare_csv, model)
    new = tmp_path / "new.fcst"
    result = invoke(["train", str(all_csv), "--from", str(model), "-o", str(new), "-q"])
    assert result.exit_code == 0, result.stderr
    assert artifact.load(new).schema.past == ["temperature"]


def test_a_panel_update_scales_new_series_and_drops_vanished_ones(tmp_path: Path) -> None:
    """s0 and s1 known (s1 keeps OLD's scaler), s2 gone, s9 new (its own scaler)."""
    frame = long_frame((200, 200, 200))
    cut = pd.Timestamp("2020-01-01") + pd.Timedelta(days=169)
    old_csv, new_csv = tmp_path / "old.csv", tmp_path / "new.csv"
    frame[frame["ds"] <= cut].to_csv(old_csv, index=False)
    newcomer = long_frame((200,), seed=9).assign(unique_id="s9", y=lambda f: f["y"] * 10 + 100)
    later = pd.concat([frame[frame["unique_id"] != "s2"], newcomer], ignore_index=True)
    later.to_csv(new_csv, index=False)
    old_model, new_model = tmp_path / "old.fcst", tmp_path / "new.fcst"
    assert invoke(["train", str(old_csv), "-o", str(old_model), "--horizon", "7",
                   *FAST]).exit_code == 0  # fmt: skip
    result = invoke(["train", str(new_csv), "--from", str(old_model), "-o", str(new_model)])
    assert result.exit_code == 0, result.stderr
    old, new = artifact.load(old_model), artifact.load(new_model)
    assert new.ids == ["s0", "s1", "s9"]
    np.testing.assert_array_equal(new.scaler.mean[:2], old.scaler.mean[:2])
    np.testing.assert_array_equal(new.scaler.std[:2], old.scaler.std[:2])
    assert new.scaler.mean[2, 0] == pytest.approx(newcomer["y"].head(170).mean(), rel=0.05)
    (entry,) = new.lineage
    assert (entry["series_added"], entry["series_dropped"]) == (1, 1)
    assert entry["rows_added"] == 2 * 30 + 200
    predicted = invoke(["predict", "-m", str(new_model)])
    assert sorted(set(pd.read_csv(pd.io.common.StringIO(predicted.stdout))["unique_id"])) == [
        "s0", "s1", "s9",
    ]  # fmt: skip


@pytest.mark.slow
def test_an_interrupted_update_leaves_old_intact(series: dict[str, Path], old_copy: Path) -> None:
    before = sha256(old_copy)
    process = subprocess.Popen(
        [sys.executable, "-m", "forecaster", "train", str(series["all"]), "--from",
         str(old_copy), "-o", str(old_copy), "--epochs", "100000", "--patience", "100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    time.sleep(4.0)  # start-up and reading take about 2 s; by now it is training
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr.decode()
    assert stderr.decode().strip().splitlines()[-1] == "forecaster: interrupted"
    assert sha256(old_copy) == before
    assert list(old_copy.parent.iterdir()) == [old_copy]


def test_the_networks_start_from_old_weights(
    series: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    """With a learning rate too small to move them, NEW's weights are OLD's (fresh networks
    would be drawn at random, and the linear skip fitted again)."""
    new = tmp_path / "new.fcst"
    result = invoke(["train", str(series["all"]), "--from", str(old_model), "-o", str(new),
                     "--lr", "1e-9", "--epochs", "1", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    old, updated = artifact.load(old_model), artifact.load(new)
    assert updated.weights.keys() == old.weights.keys()
    for name, weights in old.weights.items():
        np.testing.assert_allclose(updated.weights[name], weights, atol=1e-6)


@pytest.mark.parametrize("old_better", [True, False])
def test_old_networks_are_kept_when_they_validate_better(
    old_better: bool,
    series: dict[str, Path],
    old_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The update's ensemble against OLD's on the newest rows' validation MASE: the better
    one's networks go into NEW, and the summary line says which."""
    from forecaster import warmstart

    monkeypatch.setattr(warmstart, "_better", lambda old, new: old_better)
    new = tmp_path / "new.fcst"
    result = invoke(["train", str(series["all"]), "--from", str(old_model), "-o", str(new),
                     "--lr", "0.01"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    old, updated = artifact.load(old_model), artifact.load(new)
    same = all(np.array_equal(updated.weights[k], old.weights[k]) for k in old.weights)
    assert same == old_better
    assert updated.summary["kept_networks"] == ("old" if old_better else "updated")
    assert ("its networks kept" in result.stderr) == old_better
    assert updated.series_end == [pd.Timestamp("2020-01-01") + pd.Timedelta(days=ALL_ROWS - 1)]


def test_better_compares_validation_mase() -> None:
    from forecaster.warmstart import _better

    def scores(mase: float | None) -> dict[str, object]:
        return {"mase": {"model": mase, "naive": 1.0}}

    assert _better(scores(0.5), scores(0.6)) and not _better(scores(0.6), scores(0.5))
    assert not _better(scores(0.5), scores(0.5))  # a tie keeps the update
    assert not _better(None, scores(0.5)) and not _better(scores(None), scores(0.5))


def test_a_series_that_went_below_zero_before_stays_unclipped(tmp_path: Path) -> None:
    """OLD saw a negative value early on; the rows after OLD's alone never go below 0: the
    update still lets that series' forecasts go below 0, as OLD did."""
    frame = seasonal_frame(ALL_ROWS)
    frame.loc[5:6, "value"] = -50.0  # long before the rows OLD stores; two: not an outlier
    old_csv, new_csv = tmp_path / "old.csv", tmp_path / "new.csv"
    frame.head(OLD_ROWS).to_csv(old_csv, index=False)
    frame.tail(ALL_ROWS - OLD_ROWS).to_csv(new_csv, index=False)
    old_model, new_model = tmp_path / "old.fcst", tmp_path / "new.fcst"
    assert invoke(["train", str(old_csv), "-o", str(old_model), "--horizon", "7",
                   *FAST]).exit_code == 0  # fmt: skip
    assert not artifact.load(old_model).nonnegative.any()
    result = invoke(["train", str(new_csv), "--from", str(old_model), "-o", str(new_model)])
    assert result.exit_code == 0, result.stderr
    assert not artifact.load(new_model).nonnegative.any()


def test_an_update_in_a_pipeline_reads_standard_input(
    series: dict[str, Path], old_copy: Path
) -> None:
    """`cat history.csv | forecaster train - --from MODEL -o MODEL && forecaster predict`."""
    from tests.conftest import run_forecaster

    before = sha256(old_copy)
    updated = run_forecaster(["train", "-", "--from", str(old_copy), "-o", str(old_copy), "-q"],
                             input=series["all"].read_bytes())  # fmt: skip
    assert updated.returncode == 0, updated.stderr.decode()
    assert updated.stdout == b"" and sha256(old_copy) != before
    predicted = run_forecaster(["predict", "-m", str(old_copy)])
    assert predicted.returncode == 0, predicted.stderr.decode()
    first = pd.read_csv(pd.io.common.BytesIO(predicted.stdout))["date"].iloc[0]
    assert pd.Timestamp(first) == pd.Timestamp("2020-01-01") + pd.Timedelta(days=ALL_ROWS)
