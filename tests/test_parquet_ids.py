"""A Parquet row without a series id is refused, naming the row, as a CSV's is.

An id cell that is null or the empty string belongs to no series: read as the id "" it
would make a series nobody named, and filled from its neighbours it would glue the row
to whichever series came before. Either is a wrong model written without a word.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import FAST, invoke, long_frame


def panel_with_missing_id(rows: list[int], empty: str | None, dictionary: bool) -> pd.DataFrame:
    frame = long_frame((40, 40, 40))
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["unique_id"] = frame["unique_id"].astype(object)
    frame.loc[rows, "unique_id"] = empty
    if dictionary:
        frame["unique_id"] = frame["unique_id"].astype("category")
    return frame


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@example(rows=[5], empty="", dictionary=False)  # tried first: a failure shows at once
@example(rows=[45, 46], empty=None, dictionary=True)
@given(
    rows=st.lists(st.integers(0, 119), min_size=1, max_size=3, unique=True),
    empty=st.sampled_from([None, ""]),
    dictionary=st.booleans(),
)
def test_a_parquet_row_without_an_id_exits_3_naming_it(
    tmp_path: Path, rows: list[int], empty: str | None, dictionary: bool
) -> None:
    frame = panel_with_missing_id(rows, empty, dictionary)
    data = tmp_path / "gap.parquet"
    frame.to_parquet(data, index=False)
    model = tmp_path / "m.fcst"
    model.unlink(missing_ok=True)
    result = invoke(["train", str(data), "-o", str(model), *FAST])
    assert result.exit_code == 3, result.stderr
    named = ", ".join(str(r + 2) for r in sorted(rows))  # numbered as file_rows numbers a CSV's
    assert f"id column 'unique_id' is empty at row(s) {named};" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not model.exists()


@pytest.mark.parametrize("empty", [None, ""])
def test_predict_on_parquet_without_an_id_exits_3(
    tmp_path: Path, trained_long: Path, empty: str | None
) -> None:
    frame = panel_with_missing_id([45], empty, dictionary=False)
    data = tmp_path / "gap.parquet"
    frame.to_parquet(data, index=False)
    out = tmp_path / "forecast.csv"
    result = invoke(["predict", "-m", str(trained_long), str(data), "-o", str(out)])
    assert result.exit_code == 3, result.stderr
    assert "id column 'unique_id' is empty at row(s) 47;" in result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def trained_long(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ids")
    data = directory / "long.csv"
    long_frame((40, 40, 40)).to_csv(data, index=False)
    model = directory / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "3", *FAST])
    assert result.exit_code == 0, result.stderr
    return model
