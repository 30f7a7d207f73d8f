"""The regular grid and frequency inference, on small inputs (`data/grid.py`,
`data/frequency.py`): where each row lands, how each fill policy fills, which frequency
common data is read as, and which grids are refused before they are built."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from forecaster.data import Schema, build_panel, fill_gaps, infer_frequency, validate_freq
from forecaster.data.frequency import check_frequency
from forecaster.data.grid import MIN_GRID_CAP, Layout, fill_targets, grid_time, place
from forecaster.data.panel import RowIds
from forecaster.errors import DataError, UsageError

NS = "datetime64[ns]"


def _rows(*series: list[str]) -> tuple[np.ndarray, np.ndarray, RowIds]:
    """Times, bounds and ids of series given as lists of timestamps (sorted within each)."""
    times = np.concatenate([pd.DatetimeIndex(s).to_numpy(dtype=NS) for s in series])
    lengths = [len(s) for s in series]
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    codes = np.repeat(np.arange(len(series), dtype=np.int32), lengths)
    names = np.array([f"s{i}" for i in range(len(series))], dtype=object)
    return times, bounds, RowIds(codes, names)


def _frame(stamps: list[str], values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"ds": stamps, "y": values})


SCHEMA = Schema(time="ds", targets=["y"])


# ---------------------------------------------------------------------------------------
# Placement


def test_place_fixed_step_positions_lengths_and_starts() -> None:
    times, bounds, ids = _rows(
        ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 04:00"],
        ["2024-01-02 10:00", "2024-01-02 11:00"],
    )
    positions, lengths, starts = place(times, bounds, ids, "h", given=None, hint="")
    assert positions.tolist() == [0, 1, 4, 0, 1]
    assert lengths.tolist() == [5, 2]
    assert pd.DatetimeIndex(starts).tolist() == [
        pd.Timestamp("2024-01-01 00:00"),
        pd.Timestamp("2024-01-02 10:00"),
    ]


def test_place_calendar_grid_counts_months_not_days() -> None:
    times, bounds, ids = _rows(["2024-01-01", "2024-02-01", "2024-05-01"], ["2024-03-01"])
    positions, lengths, _ = place(times, bounds, ids, "MS", given=None, hint="")
    assert positions.tolist() == [0, 1, 4, 0]
    assert lengths.tolist() == [5, 1]


def test_place_calendar_multiple_puts_each_series_on_its_own_grid() -> None:
    # Two-monthly series that start in different months: no one grid through both.
    times, bounds, ids = _rows(
        ["2024-01-01", "2024-03-01", "2024-07-01"], ["2024-02-01", "2024-04-01"]
    )
    positions, lengths, _ = place(times, bounds, ids, "2MS", given=None, hint="")
    assert positions.tolist() == [0, 1, 3, 0, 1]
    assert lengths.tolist() == [4, 2]


def test_a_row_off_the_grid_is_named_with_its_series() -> None:
    times, bounds, ids = _rows(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:30"])
    with pytest.raises(DataError, match=r"2024-01-01 02:30:00 of series 's0' is not on the 'h'"):
        place(times, bounds, ids, "h", given=None, hint=" (a hint)")


def test_a_weekly_grid_refuses_rows_on_another_weekday() -> None:
    times, bounds, ids = _rows(["2024-01-07", "2024-01-14", "2024-01-21"])  # Sundays
    assert place(times, bounds, ids, "W-SUN", given=None, hint="")[1].tolist() == [3]
    with pytest.raises(DataError, match="not on the 'W-MON' grid"):
        place(times, bounds, ids, "W-MON", given=None, hint="")


def test_a_grid_too_big_is_refused_before_it_is_built() -> None:
    # Three rows a second apart, then one thirty years later: a billion one-second cells.
    times, bounds, ids = _rows(
        ["2024-01-01 00:00:00", "2024-01-01 00:00:01", "2024-01-01 00:00:02", "2054-01-01"]
    )
    with pytest.raises(DataError, match=r"the 's' grid would hold [\d,]+ rows for the 4 given"):
        place(times, bounds, ids, "s", given=None, hint="")
    with pytest.raises(UsageError, match="--freq s would put the data on a grid of"):
        place(times, bounds, ids, "s", given="s", hint="")


def test_a_grid_at_the_cap_is_built() -> None:
    times, bounds, ids = _rows(["2024-01-01 00:00:00", "2024-01-01 00:00:01"])
    end = pd.Timestamp("2024-01-01") + pd.Timedelta(seconds=MIN_GRID_CAP - 1)
    times = np.append(times, end.to_datetime64().astype(NS))
    bounds = np.array([0, 3])
    ids = RowIds(np.zeros(3, dtype=np.int32), ids.names)
    assert place(times, bounds, ids, "s", given=None, hint="")[1].tolist() == [MIN_GRID_CAP]


def test_jittered_stamps_are_placed_on_their_slots(caplog: pytest.LogCaptureFixture) -> None:
    stamps = [
        "2024-01-01 00:00:00",
        "2024-01-01 01:00:00",
        "2024-01-01 02:00:07",  # a few seconds late
        "2024-01-01 03:00:00",
        "2024-01-01 03:59:55",  # a few seconds early
        "2024-01-01 05:00:00",
    ]
    with caplog.at_level(logging.WARNING, logger="forecaster"):
        panel = build_panel(_frame(stamps, [1, 2, 3, 4, 5, 6]), SCHEMA, freq="h")
    assert panel.freq == "h"
    assert panel.lengths.tolist() == [6]
    assert panel.series(0)[:, 0].tolist() == [1, 2, 3, 4, 5, 6]
    assert panel.index(0)[2] == pd.Timestamp("2024-01-01 02:00")
    assert "moved each to its nearest slot" in caplog.text


def test_grid_time_continues_the_calendar() -> None:
    start = np.datetime64("2024-01-31", "ns")
    assert grid_time(start, 1, "ME", None) == pd.Timestamp("2024-02-29")
    assert grid_time(start, 3, "D", None) == pd.Timestamp("2024-02-03")


# ---------------------------------------------------------------------------------------
# Filling


def test_fill_gaps_interpolates_within_each_series_and_holds_the_ends() -> None:
    values = np.array([[np.nan], [1.0], [np.nan], [3.0], [np.nan], [10.0], [np.nan]])
    offsets = np.array([0, 5, 7])
    filled = fill_gaps(values, offsets, "interpolate")
    # The leading gap takes the first value, the trailing one the last: never the
    # neighbouring series' 10.
    assert filled[:, 0].tolist() == [1.0, 1.0, 2.0, 3.0, 3.0, 10.0, 10.0]
    assert np.isnan(values[0, 0])  # the input is left as it was


def test_fill_gaps_ffill_carries_the_last_value_and_backfills_the_start() -> None:
    values = np.array([[np.nan, 5.0], [1.0, np.nan], [np.nan, np.nan], [3.0, 6.0]])
    filled = fill_gaps(values, np.array([0, 4]), "ffill")
    assert filled.tolist() == [[1.0, 5.0], [1.0, 5.0], [1.0, 5.0], [3.0, 6.0]]


@pytest.mark.parametrize(
    ("fill", "expected"),
    [("interpolate", [1.0, 2.0, 3.0, 4.0]), ("ffill", [1.0, 1.0, 1.0, 4.0])],
)
def test_build_panel_fills_missing_days_as_told(fill: str, expected: list[float]) -> None:
    # An empty cell on 2024-01-02, and no row for 2024-01-03.
    frame = _frame(["2024-01-01", "2024-01-02", "2024-01-04"], [1, np.nan, 4])
    panel = build_panel(frame, SCHEMA, fill=fill, freq="D")
    assert panel.series(0)[:, 0].tolist() == expected
    assert panel.notes[-1] == f"filled 2 missing cell(s) by {fill} (--fill to choose)"


def test_fill_error_names_the_series_the_count_and_the_first_gap() -> None:
    days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-06", "2024-01-08"]
    frame = _frame(days, [1, 2, 3, 4, 5, 6])
    with pytest.raises(DataError, match=r"'y' has 2 missing cell\(s\), first at 2024-01-04"):
        build_panel(frame, SCHEMA, fill="error")


def test_a_target_with_no_value_in_a_series_is_refused_whatever_the_fill() -> None:
    values = np.array([[1.0], [2.0], [np.nan], [np.nan]])
    times, bounds, ids = _rows(["2024-01-01", "2024-01-02"], ["2024-01-01", "2024-01-02"])
    layout = Layout(ids, bounds, times[bounds[:-1]], np.array([0, 2, 4]), "D", None)
    for fill in ("interpolate", "ffill", "error"):
        with pytest.raises(DataError, match="target 'y' has no values in series 's1'"):
            fill_targets(values, layout, fill, ["y"], [])


def test_fill_targets_leaves_complete_values_alone() -> None:
    values = np.array([[1.0], [2.0]])
    times, bounds, ids = _rows(["2024-01-01", "2024-01-02"])
    notes: list[str] = []
    layout = Layout(ids, bounds, times[:1], np.array([0, 2]), "D", None)
    assert fill_targets(values, layout, "error", ["y"], notes) is values
    assert notes == []


# ---------------------------------------------------------------------------------------
# Frequency


@pytest.mark.parametrize("freq", ["15min", "h", "D", "W-SUN", "MS", "ME", "QS-JAN", "YS-JAN"])
def test_infer_frequency_reads_common_frequencies(freq: str) -> None:
    index = pd.date_range("2021-01-03", periods=12, freq=freq)
    assert infer_frequency([index]) == freq


def test_infer_frequency_uses_the_longest_regular_stretch_of_gappy_data() -> None:
    index = pd.DatetimeIndex(
        ["2024-01-01", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06", "2024-01-09"]
    )
    assert infer_frequency([index]) == "D"


def test_infer_frequency_reads_months_with_gaps() -> None:
    index = pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-03-01", "2024-05-01", "2024-06-01"])
    assert infer_frequency([index]) == "MS"


def test_weekdays_only_read_as_business_days(caplog: pytest.LogCaptureFixture) -> None:
    assert infer_frequency([pd.bdate_range("2024-01-01", periods=15)]) == "B"  # pandas' own
    # A weekday holiday leaves pandas nothing; the longest run reads as daily, and with no
    # weekend day anywhere the business-day grid is chosen, said in one line.
    holiday = pd.bdate_range("2024-01-01", periods=15).delete(7)
    with caplog.at_level(logging.WARNING, logger="forecaster"):
        assert infer_frequency([holiday]) == "B"
    assert "inferred frequency 'B' (business days)" in caplog.text
    # Less than a weekend long: the choice does not matter, and daily stays daily.
    assert infer_frequency([pd.date_range("2024-01-01", periods=3, freq="D")]) == "D"


def test_infer_frequency_refuses_too_few_rows_and_irregular_ones() -> None:
    with pytest.raises(DataError, match="the longest series has 2 row"):
        infer_frequency([pd.DatetimeIndex(["2024-01-01", "2024-01-02"])])
    irregular = pd.DatetimeIndex(["2024-01-01", "2024-01-03", "2024-01-08", "2024-01-20"])
    with pytest.raises(DataError, match="timestamps are irregular"):
        infer_frequency([irregular])


def test_validate_freq_normalises_and_refuses() -> None:
    assert validate_freq("15min") == "15min"
    assert validate_freq("2D") == "2D"
    for bad in ("0h", "-1D", "fortnightly"):
        with pytest.raises(UsageError, match=f"invalid value for --freq: '{bad}'"):
            validate_freq(bad)


def test_check_frequency_holds_new_data_to_the_models_frequency() -> None:
    hourly = [pd.date_range("2024-01-01", periods=10, freq="h")]
    assert check_frequency(hourly, "h", "new.csv") == "h"
    with pytest.raises(DataError, match=r"new\.csv has frequency 'h' but the model was trained"):
        check_frequency(hourly, "D", "new.csv")
    # Too short to tell: the model's frequency is taken.
    assert check_frequency([hourly[0][:2]], "D", "new.csv") == "D"
    # Weekdays read as daily fit a business-day model, and the other way round.
    assert check_frequency([pd.bdate_range("2024-01-01", periods=4)], "B", "x") == "B"
    assert check_frequency([pd.bdate_range("2024-01-01", periods=10)], "D", "x") == "D"


def test_build_panel_infers_the_frequency_it_places_on() -> None:
    stamps = [str(t) for t in pd.date_range("2024-01-01", periods=6, freq="MS").date]
    panel = build_panel(_frame(stamps, [1, 2, 3, 4, 5, 6]), SCHEMA)
    assert panel.freq == "MS"
    assert panel.lengths.tolist() == [6]
    assert panel.index(0)[-1] == pd.Timestamp("2024-06-01")
