"""Data that holds rows only in some slots, or whose clock jitters (docs/data.md).

Business hours on a plain 5-minute grid were 59% invented night and weekend, and the
forecast covered the night; a session grid models and forecasts the slots that exist.
Trading days, trading hours and a jittered sensor clock are the same family: each says in
one line what was done, and no grid that would be mostly invented is filled.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FAST, invoke
from tests.test_drawn_data import lines_of, panels

if TYPE_CHECKING:
    from forecaster.data.sessions import Session

LOUD = FAST[:-1]  # FAST with warnings on stderr


def _business_hours(weeks: int, holiday: str | None = None, freq: str = "5min") -> pd.DataFrame:
    """Weekdays 07:00-21:00 from Monday 2024-03-04, a daily and a weekday pattern."""
    days = pd.bdate_range("2024-03-04", periods=5 * weeks)
    if holiday is not None:
        days = days[days != pd.Timestamp(holiday)]
    slots = pd.timedelta_range("07:00:00", "21:00:00", freq=freq)
    stamps = (days.to_numpy()[:, None] + slots.to_numpy()[None, :]).reshape(-1)
    hours = (slots / pd.Timedelta(hours=1)).to_numpy()
    rng = np.random.default_rng(0)
    shape = 100 + 80 * np.sin(np.pi * (hours - 7) / 14)
    values = shape[None, :] * (1 + 0.1 * days.day_of_week.to_numpy()[:, None])
    calls = values.reshape(-1) + rng.normal(0, 5, len(stamps))
    return pd.DataFrame({"DateTime": pd.DatetimeIndex(stamps), "Calls": calls.round(1)})


def _train(data: Path, model: Path, *args: str) -> str:
    result = invoke(["train", str(data), "-o", str(model), *args, *LOUD])
    assert result.exit_code == 0, result.stderr
    return " ".join(result.stderr.split())  # as one line, however the console wrapped it


def _forecast_times(model: Path, *args: str) -> pd.DatetimeIndex:
    result = invoke(["predict", "-m", str(model), *args])
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    return pd.DatetimeIndex(pd.to_datetime(frame[frame.columns[0]]))


def test_business_hours_forecast_the_next_business_days_slots(tmp_path: Path) -> None:
    frame = _business_hours(3, holiday="2024-03-13")  # ends on Friday 2024-03-22 21:00
    data = tmp_path / "calls.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    stderr = _train(data, model)
    assert "rows only on Mon-Fri 07:00-21:00 (169 slots of 5min a day)" in stderr
    assert "a plain 5min grid would have filled 2,987 of its 5,353 rows, 56%" in stderr
    assert "filled 169 missing cell(s)" in stderr  # the holiday, not the nights
    monday = pd.date_range("2024-03-25 07:00", "2024-03-25 21:00", freq="5min")
    assert list(_forecast_times(model)) == list(monday)
    # From DATA given to predict, the same slots; from a Wednesday, Thursday's.
    assert list(_forecast_times(model, str(data))) == list(monday)
    wednesday = tmp_path / "to_wednesday.csv"
    frame[frame["DateTime"] < "2024-03-21"].to_csv(wednesday, index=False)
    thursday = pd.date_range("2024-03-21 07:00", "2024-03-21 21:00", freq="5min")
    assert list(_forecast_times(model, str(wednesday))) == list(thursday)
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["session"] == "Mon-Fri 07:00-21:00"
    assert described["horizon"] == 169


def test_business_hours_keep_to_the_clock_across_daylight_saving(tmp_path: Path) -> None:
    frame = _business_hours(3)  # New York's clocks go forward on Sunday 2024-03-10
    local = pd.DatetimeIndex(frame["DateTime"]).tz_localize("America/New_York")
    frame["DateTime"] = [t.isoformat() for t in local]
    assert frame["DateTime"].iloc[0].endswith("-05:00")
    assert frame["DateTime"].iloc[-1].endswith("-04:00")
    data, model = tmp_path / "calls.csv", tmp_path / "m.fcst"
    frame.to_csv(data, index=False)
    stderr = _train(data, model)
    assert "rows only on Mon-Fri 07:00-21:00 (169 slots of 5min a day)" in stderr
    result = invoke(["predict", "-m", str(model)])
    assert result.exit_code == 0, result.stderr
    written = list(pd.read_csv(io.StringIO(result.stdout))["DateTime"])
    monday = pd.date_range("2024-03-25 07:00", "2024-03-25 21:00", freq="5min")
    assert written == [t.isoformat() for t in monday.tz_localize("America/New_York")]


def test_rows_outside_the_models_session_are_refused(tmp_path: Path) -> None:
    frame = _business_hours(3)
    data, model = tmp_path / "calls.csv", tmp_path / "m.fcst"
    frame.to_csv(data, index=False)
    _train(data, model, "--horizon", "12")
    night = frame.copy()
    night.loc[len(night)] = [pd.Timestamp("2024-03-22 23:00"), 50.0]
    night.to_csv(tmp_path / "night.csv", index=False)
    result = invoke(["predict", "-m", str(model), str(tmp_path / "night.csv")])
    assert result.exit_code == 3
    assert "timestamp 2024-03-22 23:00:00 is outside the model's session (Mon-Fri 07:00-21:00" in (
        " ".join(result.stderr.split())
    )


def test_trading_days_and_trading_hours(tmp_path: Path) -> None:
    # Daily closes: weekdays only, two holidays missing: business days, holidays filled.
    days = pd.bdate_range("2023-01-02", periods=120).delete([15, 70])
    rng = np.random.default_rng(1)
    closes = pd.DataFrame({"Date": days.strftime("%Y-%m-%d"),
                           "Close": 100 + rng.normal(0, 1, len(days)).cumsum()})  # fmt: skip
    daily = tmp_path / "closes.csv"
    closes.to_csv(daily, index=False)
    stderr = _train(daily, tmp_path / "d.fcst", "--horizon", "5")
    assert "a weekday without a row (a holiday) is a gap, filled as --fill says" in stderr
    assert "filled 2 missing cell(s)" in stderr
    after = _forecast_times(tmp_path / "d.fcst")
    assert list(after) == list(pd.bdate_range(days[-1], periods=6)[1:])
    # Hourly bars 09:00-16:00: eight slots a session-day; the week (40) is in the lookback.
    bars = _business_hours(8, holiday="2024-04-01", freq="h")
    bars = bars[bars["DateTime"].dt.hour.between(9, 16)]
    hourly = tmp_path / "bars.csv"
    bars.to_csv(hourly, index=False)
    model = tmp_path / "h.fcst"
    stderr = _train(hourly, model)
    assert "rows only on Mon-Fri 09:00-16:00 (8 slots of h a day)" in stderr
    friday = bars["DateTime"].iloc[-1]
    assert friday == pd.Timestamp("2024-04-26 16:00")
    assert list(_forecast_times(model)) == list(
        pd.date_range("2024-04-29 09:00", periods=8, freq="h")
    )
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["horizon"] == 8 and described["lookback"] >= 40


def _jittered() -> pd.DataFrame:
    """Three days of 5-minute readings: a 4-then-1-minute pair (an extra reading), and a
    4-minute step that moves every later reading a minute earlier."""
    stamps = list(pd.date_range("2024-05-01 00:02", periods=864, freq="5min"))
    stamps.insert(101, stamps[100] + pd.Timedelta(minutes=4))  # 4 then 1 minute
    stamps = stamps[:500] + [s - pd.Timedelta(minutes=1) for s in stamps[500:]]
    t = np.arange(len(stamps))
    glucose = 120 + 30 * np.sin(2 * np.pi * t / 288) + np.random.default_rng(2).normal(0, 2, len(t))
    return pd.DataFrame({"datetime": [f"{s:%Y-%m-%d %H:%M:%S}" for s in stamps],
                         "glucose": glucose.round(1)})  # fmt: skip


def test_a_jittered_clock_is_snapped_to_its_grid_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "glucose.csv"
    frame = _jittered()
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    stderr = _train(data, model, "--horizon", "12")
    # The grid is the phase of the latest readings (after the clock's minute shift): the
    # 500 readings before the shift are moved, less the extra one (on that grid already),
    # which meets its neighbour's slot and is averaged with it.
    assert (
        "499 of 865 timestamps were off the 5 min grid by up to 1 min: moved each to its "
        "nearest slot; 1 reading(s) that met another in one slot were averaged with it"
    ) in stderr
    after = _forecast_times(model)
    last = pd.Timestamp(frame["datetime"].iloc[-1])  # on the latest readings' grid
    assert list(after) == list(pd.date_range(last + pd.Timedelta(minutes=5), periods=12,
                                             freq="5min"))  # fmt: skip


def test_repeated_stamps_merged_before_a_jittered_clock_is_snapped(tmp_path: Path) -> None:
    """glucose_5min.csv has both: three repeated stamps and a jittered clock. Merging the
    repeats left the snap a stale list of series codes, one per row before the merge (an
    unexpected ValueError, exit 1)."""
    frame = _jittered()
    frame = pd.concat([frame.iloc[:300], frame.iloc[[299, 299]], frame.iloc[300:]])
    data = tmp_path / "glucose.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    refused = invoke(["train", str(data), "-o", str(model), *LOUD])
    assert refused.exit_code == 3 and "--duplicates mean|first|last" in refused.stderr
    stderr = _train(data, model, "--horizon", "12", "--duplicates", "mean")
    assert "merged 3 rows that repeat 1 timestamp(s) into one row each, by mean" in stderr
    assert "499 of 865 timestamps were off the 5 min grid by up to 1 min" in stderr
    assert len(_forecast_times(model)) == 12


def test_data_finer_than_the_step_is_not_snapped(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-05-01", periods=600, freq="min")
    data = tmp_path / "minutes.csv"
    pd.DataFrame({"ts": stamps, "y": np.sin(np.arange(600) / 30)}).to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(tmp_path / "m.fcst"), "--freq", "5min",
                     *FAST])  # fmt: skip
    assert result.exit_code == 3
    assert "is not on the '5min' grid" in result.stderr


def test_a_grid_that_would_be_mostly_invented_is_refused(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-01-01", periods=100, freq="h")
    later = pd.date_range(stamps[-1] + pd.Timedelta(hours=160), periods=50, freq="h")
    data = tmp_path / "gappy.csv"
    pd.DataFrame({"ts": stamps.append(later), "y": np.arange(150.0)}).to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    result = invoke(["train", str(data), "-o", str(model), *FAST])
    assert result.exit_code == 3
    assert " ".join(result.stderr.split()).endswith(
        "gappy.csv: filling would invent 159 of the 309 rows of the 'h' grid (51%), more "
        "than half: check the timestamps, give the data's own --freq, or fill the gaps yourself"
    )
    assert not model.exists()
    # Just under half is filled, and said.
    nearer = stamps.append(later - pd.Timedelta(hours=14))
    pd.DataFrame({"ts": nearer, "y": np.arange(150.0)}).to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "6", *LOUD])
    assert result.exit_code == 0, result.stderr
    assert "filled 145 missing cell(s)" in result.stderr


@pytest.fixture(scope="module")
def session_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("session")
    data, model = directory / "calls.csv", directory / "m.fcst"
    _business_hours(3, freq="15min").to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "12", *FAST])
    assert result.exit_code == 0, result.stderr
    return model


@pytest.mark.parametrize(
    "value",
    [
        {"weekdays": [0, 7], "times": ["07:00:00-21:00:00"]},
        {"weekdays": [0, 1], "times": ["07:00:00-21:05:00"]},  # not on the 15min grid
        {"weekdays": [0, 1], "times": ["21:00:00-07:00:00"]},
        {"weekdays": [0, 1], "times": ["07:00:00-21:00:00"], "holidays": []},
        "Mon-Fri 07:00-21:00",
    ],
)
def test_an_edited_session_is_refused(session_model: Path, value: object, tmp_path: Path) -> None:
    from tests.test_model_tamper import assert_refused, put, tamper

    assert (
        json.loads(invoke(["info", str(session_model), "--format", "json"]).stdout)["session"]
        == "Mon-Fri 07:00-21:00"
    )
    bad = tmp_path / "bad.fcst"
    bad.write_bytes(tamper(session_model.read_bytes(), "new", meta=put("schema.session", value)))
    assert_refused(bad, ["model metadata schema.session is"], tmp_path)


# ---------------------------------------------------------------------------------------
# The session grid's arithmetic, on any session


@st.composite
def _sessions(draw: st.DrawFn) -> Session:
    from forecaster.data.sessions import Session

    step = draw(st.sampled_from([5, 15, 30, 60, 120])) * 60_000_000_000
    per_day = 86_400_000_000_000 // step
    slots = draw(st.sets(st.integers(0, per_day - 1), min_size=1, max_size=per_day))
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    return Session(step, tuple(sorted(s * step for s in slots)), tuple(sorted(days)))


@settings(max_examples=60, deadline=None)
@given(_sessions(), st.integers(0, 2000), st.lists(st.integers(-3000, 3000), min_size=1,
                                                  max_size=30))  # fmt: skip
def test_session_steps_land_on_its_slots_in_order(
    session: Session, first: int, rows: list[int]
) -> None:
    from forecaster.data.sessions import Session

    origin = session.timestamps(np.array(["2024-01-03"], "datetime64[ns]")[:0], np.array([]))
    assert len(origin) == 0
    start = _slot(session, first)
    stamps = session.timestamps(np.full(len(rows), start), np.asarray(rows))
    assert set(stamps.day_of_week) <= set(session.days)
    times_of_day = (stamps - stamps.normalize()).to_numpy().astype(np.int64)
    assert set(times_of_day.tolist()) <= set(session.slots)
    order = np.argsort(rows, kind="stable")
    assert pd.DatetimeIndex(stamps[order]).is_monotonic_increasing
    # Numbering back: each stamp is its rows from the start; one slot on, no gap between.
    back = session.ordinals(stamps.to_numpy()) - session.ordinals(np.array([start]))
    assert back.tolist() == rows
    nxt = session.timestamps(stamps.to_numpy(), np.ones(len(rows), dtype=np.int64))
    assert ((nxt - stamps).to_numpy() > np.timedelta64(0)).all()
    next_day = nxt.normalize() != stamps.normalize()
    assert ((nxt - nxt.normalize())[next_day] == pd.Timedelta(session.slots[0])).all()
    assert Session.from_dict(session.to_dict(), session.step) == session


def _slot(session: Session, k: int) -> np.datetime64:
    """The k-th slot of the session from the week of 2024-01-01."""
    day, slot = divmod(k, session.per_day)
    date = np.busday_offset("2024-01-01", day, roll="forward", weekmask=session.weekmask)
    return date.astype("datetime64[ns]") + np.timedelta64(session.slots[slot], "ns")


BANK_CALLS = Path(__file__).resolve().parents[2] / "shared/data/realworld/bank_calls_5min.csv"


@pytest.mark.skipif(not BANK_CALLS.exists(), reason="the real-world suite is not beside the repo")
def test_a_slice_of_the_real_bank_calls_is_forecast_on_its_business_slots(tmp_path: Path) -> None:
    """The last three weeks of the real file (fpp3's bank_calls, Mon-Fri 07:00-21:00 every
    5 minutes, ending Friday 2003-10-24 21:00 UTC): trained on, they forecast Monday's 169
    slots, not Friday night's (on a plain 5-minute grid, 57% of it would be invented)."""
    frame = pd.read_csv(BANK_CALLS)
    data = tmp_path / "bank.csv"
    frame.iloc[-15 * 169 :].to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    stderr = _train(data, model)
    assert "rows only on Mon-Fri 07:00-21:00 (169 slots of 5min a day)" in stderr
    times = _forecast_times(model)
    expected = pd.date_range("2003-10-27 07:00", "2003-10-27 21:00", freq="5min", tz="UTC")
    assert len(times) == 169 and (times == expected).all()


def test_a_session_plot_breaks_its_lines_between_session_days(
    tmp_path: Path, figures: list[Any]
) -> None:
    """The history drew straight lines from 21:00 across the night to 07:00, and across the
    weekend; each break now ends the line, and the title names the session."""
    data, model = tmp_path / "calls.csv", tmp_path / "m.fcst"
    _business_hours(3).to_csv(data, index=False)
    _train(data, model)
    drawn = invoke(["plot", "-m", str(model), "-o", str(tmp_path / "p.png")])
    assert drawn.exit_code == 0, drawn.stderr
    (figure,) = figures
    assert "on Mon-Fri 07:00-21:00" in figure.get_suptitle()
    (panel,) = panels(figure)
    times, values = lines_of(panel)["history"]
    drawn_days = pd.DatetimeIndex(times[~np.isnan(values)]).normalize().unique()
    assert np.isnan(values).sum() == len(drawn_days) - 1  # one break between each two days
    before_break = np.flatnonzero(np.isnan(values)) - 1
    assert (pd.DatetimeIndex(times[before_break]).strftime("%H:%M") == "21:00").all()
    forecast_times, _ = lines_of(panel)["forecast"]
    assert not np.isnan(lines_of(panel)["forecast"][1]).any()  # one session-day: unbroken
    assert len(forecast_times) == 169


# ---------------------------------------------------------------------------------------
# Trading days: an exchange's holidays are neither filled nor forecast


def _nyse_closes(last: str = "2017-11-21", drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Daily closes on NYSE trading days from 2014 (its holidays have no row), and
    ``drop``: one-off closures the calendar does not list."""
    import holidays

    closed = pd.DatetimeIndex(sorted(holidays.financial_holidays("NYSE", years=range(2014, 2018))))
    days = pd.bdate_range("2014-01-02", last)
    days = days[~days.isin(closed) & ~days.isin(pd.DatetimeIndex(list(drop)))]
    rng = np.random.default_rng(3)
    closes = 50 + rng.normal(0, 0.5, len(days)).cumsum() + np.sin(np.arange(len(days)))
    return pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": closes.round(3)})


def test_trading_days_leave_out_the_exchanges_holidays(tmp_path: Path) -> None:
    data, model = tmp_path / "closes.csv", tmp_path / "closes.fcst"
    _nyse_closes(drop=("2016-03-09",)).to_csv(data, index=False)
    stderr = _train(data, model, "--horizon", "5")
    assert "business days with NYSE holidays closed" in stderr
    assert "filled 1 missing cell(s)" in stderr  # the one-off closure, not the holidays
    # Wednesday 22 November 2017, then Thanksgiving (Thursday 23) is skipped.
    assert [f"{t:%Y-%m-%d}" for t in _forecast_times(model)] == [
        "2017-11-22", "2017-11-24", "2017-11-27", "2017-11-28", "2017-11-29",
    ]  # fmt: skip
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["session"] == "Mon-Fri except NYSE holidays"
    # The sizes of a business-day model: what the same weekdays without holidays give.
    plain = tmp_path / "plain.csv"
    every = pd.bdate_range("2014-01-02", "2017-11-21")
    pd.DataFrame({"Date": every.strftime("%Y-%m-%d"), "Close": np.arange(len(every)) % 7.0}).to_csv(
        plain, index=False
    )
    _train(plain, tmp_path / "plain.fcst", "--horizon", "5")
    other = json.loads(invoke(["info", str(tmp_path / "plain.fcst"), "--format", "json"]).stdout)
    assert "session" not in other
    assert (described["lookback"], described["lstm_lookback"]) == (
        other["lookback"], other["lstm_lookback"],
    )  # fmt: skip


def test_a_holiday_that_traded_stays_a_day_and_new_rows_continue_the_calendar(
    tmp_path: Path,
) -> None:
    frame = _nyse_closes(last="2017-11-10")
    traded = pd.DataFrame({"Date": ["2016-07-04"], "Close": [51.0]})  # a listed holiday
    frame = pd.concat([frame, traded]).sort_values("Date", ignore_index=True)
    data, model = tmp_path / "closes.csv", tmp_path / "closes.fcst"
    frame.to_csv(data, index=False)
    _train(data, model, "--horizon", "5")
    from forecaster import artifact

    session = artifact.load(model).schema.session
    assert session is not None and "2016-07-04" not in session.closed
    assert "2017-11-23" in session.closed and "2027-12-24" in session.closed  # years ahead
    # The rows after the model's, alone: they continue the stored history on the calendar.
    later = _nyse_closes(last="2017-11-21")
    later = later[later["Date"] > "2017-11-10"]
    new_rows = tmp_path / "new.csv"
    later.to_csv(new_rows, index=False)
    times = _forecast_times(model, str(new_rows))
    assert f"{times[1]:%Y-%m-%d}" == "2017-11-24"
    on_holiday = tmp_path / "holiday.csv"
    pd.DataFrame({"Date": ["2017-11-22", "2017-11-23"], "Close": [1.0, 2.0]}).to_csv(
        on_holiday, index=False
    )
    refused = invoke(["predict", "-m", str(model), str(on_holiday)])
    assert refused.exit_code == 3
    assert "2017-11-23 00:00:00 is outside the model's session (Mon-Fri except NYSE holidays" in (
        " ".join(refused.stderr.split())
    )


def test_missing_weekdays_no_calendar_explains_stay_gaps(tmp_path: Path) -> None:
    """Weekdays missing at random: a business-day grid with gaps filled, as before."""
    days = pd.bdate_range("2020-01-06", periods=300)
    rng = np.random.default_rng(4)
    days = days.delete(rng.choice(np.arange(1, 299), 12, replace=False))
    data = tmp_path / "closes.csv"
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": rng.normal(size=len(days))}).to_csv(
        data, index=False
    )
    stderr = _train(data, tmp_path / "m.fcst", "--horizon", "5")
    assert "holidays closed" not in stderr and "filled 12 missing cell(s)" in stderr
    described = json.loads(invoke(["info", str(tmp_path / "m.fcst"), "--format", "json"]).stdout)
    assert "session" not in described


@pytest.mark.parametrize(
    "closed",
    [["2017-11-24", "2017-11-23"], ["2017-11-23", "2017-11-23"], ["23/11/2017"], "2017-11-23"],
)
def test_an_edited_trading_calendar_is_refused(closed: object, tmp_path: Path) -> None:
    from tests.test_model_tamper import assert_refused, put, tamper

    data, model = tmp_path / "closes.csv", tmp_path / "closes.fcst"
    _nyse_closes().to_csv(data, index=False)
    _train(data, model, "--horizon", "5")
    value = {"weekdays": [0, 1, 2, 3, 4], "times": ["00:00:00-00:00:00"], "calendar": "NYSE",
             "closed": closed}  # fmt: skip
    bad = tmp_path / "bad.fcst"
    bad.write_bytes(tamper(model.read_bytes(), "new", meta=put("schema.session", value)))
    assert_refused(bad, ["model metadata schema.session is"], tmp_path)


def test_a_clock_whose_phase_drifted_is_snapped_to_its_latest_phase(tmp_path: Path) -> None:
    """A monitor's readings at minute 1 of each 5 for two days, then at minute 3 for the
    last day: the grid (and so the forecast's timestamps) is the latest phase, where the
    next readings will fall, though most readings held the older one."""
    early = pd.date_range("2024-05-01 00:01", periods=576, freq="5min")
    late = pd.date_range(early[-1] + pd.Timedelta(minutes=7), periods=288, freq="5min")
    stamps = early.append(late)
    t = np.arange(len(stamps))
    glucose = (120 + 30 * np.sin(2 * np.pi * t / 288)).round(1)
    frame = pd.DataFrame({"datetime": stamps.strftime("%Y-%m-%d %H:%M:%S"), "glucose": glucose})
    data = tmp_path / "drift.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    stderr = _train(data, model, "--horizon", "12")
    assert "576 of 864 timestamps were off the 5 min grid by up to 2 min" in stderr
    assert list(_forecast_times(model)) == list(
        pd.date_range(stamps[-1] + pd.Timedelta(minutes=5), periods=12, freq="5min")
    )
