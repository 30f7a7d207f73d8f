"""`evaluate` on the held-out rows alone: `train --holdout N` and then the last N rows of each
series in a file of their own score as the full file scores them, the history coming from
the model; rows that do not continue the stored history are refused in one line that says
where they must start."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.data import Panel, load_panel_like
from tests.conftest import FAST, invoke, long_frame, seasonal_frame

HOLDOUT = 7


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A long panel of three series, a model trained without their last `HOLDOUT` rows, and
    those rows alone in a file."""
    directory = tmp_path_factory.mktemp("holdout")
    frame = long_frame()
    full, rows = directory / "full.csv", directory / "holdout.csv"
    frame.to_csv(full, index=False)
    frame.groupby("unique_id", sort=False).tail(HOLDOUT).to_csv(rows, index=False)
    model = directory / "model.fcst"
    result = invoke(["train", str(full), "-o", str(model), "--horizon", str(HOLDOUT),
                     "--holdout", str(HOLDOUT), *FAST])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return model, full, rows


def evaluated(model: Path, data: Path, steps: Path) -> dict:  # type: ignore[type-arg]
    result = invoke(["evaluate", "-m", str(model), str(data), "--format", "json",
                     "--forecasts", str(steps)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_the_held_out_rows_alone_score_as_the_full_file_does(
    held_out: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    model, full, rows = held_out
    alone = evaluated(model, rows, tmp_path / "alone.csv")
    whole = evaluated(model, full, tmp_path / "whole.csv")
    # The same forecasts of the same actuals: every metric of the errors alone agrees.
    for method, values in whole["per_target"]["y"].items():
        for metric in ("mae", "rmse", "mape", "smape"):
            assert alone["per_target"]["y"][method][metric] == values[metric], (method, metric)
    for level, scores in whole["intervals"].items():
        assert alone["intervals"][level]["coverage"] == scores["coverage"], level
    assert alone["forecasts"] == whole["forecasts"] == 3
    steps = pd.read_csv(tmp_path / "alone.csv")
    expected = pd.read_csv(tmp_path / "whole.csv")
    # The model's bounds too: the error scale stored at the history's end is the full file's.
    columns = ["unique_id", "ds", "actual", "model", "naive", "seasonal_naive",
               "model-lo-95", "model-lo-80", "model-hi-80", "model-hi-95"]  # fmt: skip
    pd.testing.assert_frame_equal(steps[columns], expected[columns])
    # MASE is scaled by the rows it has: the note says which.
    assert any("history from the model file" in note for note in alone["notes"])
    assert not any("history from the model file" in note for note in whole["notes"])


def test_rows_that_do_not_continue_the_stored_history_are_refused_saying_where(
    held_out: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    model, _, rows = held_out
    late = tmp_path / "late.csv"
    pd.read_csv(rows).groupby("unique_id", sort=False).tail(HOLDOUT - 1).to_csv(late, index=False)
    result = invoke(["evaluate", "-m", str(model), str(late)])
    assert result.exit_code == 3
    ends = artifact_io.load(model).series_end
    first = f"{ends[0].date()} for 's0'"
    assert result.stderr.strip().splitlines()[-1] == (
        "forecaster: error: no series has enough rows to evaluate, and DATA does not continue "
        f"the history stored in the model, which ends at {first}, "
        f"{ends[1].date()} for 's1', {ends[2].date()} for 's2': give the rows from the step "
        "after each series' end on, or the full history (each series needs 7 rows of history "
        "plus 7 actual values)"
    )


def test_a_wide_file_names_the_date_to_start_from(tmp_path: Path) -> None:
    data, model = tmp_path / "wide.csv", tmp_path / "model.fcst"
    frame = seasonal_frame(n=120)
    frame.to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", "--holdout", "7",
                     *FAST])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    wrong = tmp_path / "wrong.csv"
    frame.tail(5).to_csv(wrong, index=False)  # inside the held-out stretch, not its start
    refused = invoke(["evaluate", "-m", str(model), str(wrong)])
    assert refused.exit_code == 3
    assert "which ends at 2020-04-22: give the rows from 2020-04-23 on" in refused.stderr
    right = tmp_path / "right.csv"
    frame.tail(7).to_csv(right, index=False)
    assert invoke(["evaluate", "-m", str(model), str(right)]).exit_code == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shift=st.integers(-20, HOLDOUT - 1), keep=st.integers(1, 12))
def test_only_a_file_starting_one_step_after_the_stored_end_continues_it(
    held_out: tuple[Path, Path, Path], shift: int, keep: int
) -> None:
    """Rows starting ``shift`` steps from the held-out stretch's first: only shift 0 is the
    stored history's continuation, and then the joined series end as DATA ends."""
    from forecaster.continuation import continues, with_stored_history

    model, full, _ = held_out
    artifact = artifact_io.load(model)
    frame = pd.read_csv(full)
    parts = []
    for _, rows in frame.groupby("unique_id", sort=False):
        start = len(rows) - HOLDOUT + shift
        parts.append(rows.iloc[max(start, 0) : max(start, 0) + keep])
    data = pd.concat(parts)
    panel = load_panel_like_frame(data, artifact)
    follows = continues(artifact, panel)
    assert follows.tolist() == [shift == 0] * 3
    joined, joined_at = with_stored_history(artifact, panel)
    if shift == 0:
        assert (joined_at == artifact.context_real).all()
        assert (joined.lengths == artifact.context_real + panel.lengths).all()
        assert list(joined.ends()) == list(panel.ends())
        np.testing.assert_array_equal(joined.series(0)[-len(panel.series(0)) :], panel.series(0))
    else:
        assert (joined_at == -1).all() and joined is panel


def load_panel_like_frame(frame: pd.DataFrame, artifact: artifact_io.Artifact) -> Panel:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "data.csv"
        frame.to_csv(path, index=False)
        return load_panel_like(path, artifact.schema, artifact.freq)


def test_held_out_rows_score_alike_where_the_blend_reads_more_than_the_lookback(
    tmp_path: Path,
) -> None:
    """84 months, a lookback of 24 and a blend that reads 36: the history the held-out rows
    are forecast from includes the 12 rows the model stores before its context."""
    from tests.test_blend import _short_monthly

    full = _short_monthly(tmp_path)
    rows = tmp_path / "held.csv"
    pd.read_csv(full).tail(6).to_csv(rows, index=False)
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(full), "-o", str(model), "--horizon", "6", "--holdout", "6",
                     *FAST])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    blend = artifact_io.load(model).blend
    assert blend is not None and blend.rows == 36
    alone = evaluated(model, rows, tmp_path / "alone.csv")
    whole = evaluated(model, full, tmp_path / "whole.csv")
    for method, values in whole["per_target"]["sales"].items():
        assert alone["per_target"]["sales"][method]["mae"] == values["mae"], method
    assert pd.read_csv(tmp_path / "alone.csv").equals(pd.read_csv(tmp_path / "whole.csv"))
    assert any("its last 36 rows before DATA" in note for note in alone["notes"])
