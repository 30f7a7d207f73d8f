"""Isolated outliers: found only where a value lies far outside both its neighbours in time
and those a season apart, filled as a gap before the model reads it, said in one line, and
never in the rows a backtest scores."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.data import Panel, Schema, load_panel
from forecaster.outliers import cleaned, find, outlier_mask
from tests.conftest import FAST, evaluated_frame, invoke
from tests.test_model_files import edit_metadata

NOTE = "far outside both their neighbours' range as outliers"


def monthly(n: int = 120, seed: int = 0) -> np.ndarray:
    """A yearly cycle around 100 with noise of sd 3."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 8 * np.sin(2 * np.pi * t / 12) + 3 * rng.standard_normal(n)


def frame(values: np.ndarray) -> pd.DataFrame:
    dates = pd.date_range("2000-01-01", periods=len(values), freq="MS")
    return pd.DataFrame({"date": dates, "value": values})


def mask(values: np.ndarray, season: int = 12) -> np.ndarray:
    return outlier_mask(np.asarray(values, dtype=float)[:, None], season)[:, 0]


def test_one_wild_value_is_found_and_nothing_else() -> None:
    values = monthly()
    values[60] = 5000.0
    assert np.flatnonzero(mask(values)).tolist() == [60]
    values[60] = 0.0  # as far below
    assert np.flatnonzero(mask(values)).tolist() == [60]


def test_two_wild_values_in_a_short_series_are_both_found() -> None:
    """A value is not its own bar: with every value counted, the second of two typos in 120
    months set the first one's bar, and neither was taken. Three as large are the data."""
    values = monthly()
    values[[40, 100]] = [5000.0, 3000.0]
    assert np.flatnonzero(mask(values)).tolist() == [40, 100]
    values[70] = 4000.0
    assert not mask(values).any()


def only_the_typo(values: np.ndarray, season: int = 12, week: int = 1) -> bool:
    """Whether ``values`` hold no outlier, while a wild value planted in them is found alone:
    the rule is not simply off."""
    planted = values.copy()
    planted[33] += 100 * (values.max() - values.min())
    return not outlier_mask(values[:, None], season, week).any() and np.flatnonzero(
        outlier_mask(planted[:, None], season, week)
    ).tolist() == [33]


def test_level_shifts_seasonal_peaks_and_sharp_peaks_are_not_outliers() -> None:
    shift = monthly()
    shift[70:] += 400  # a new level: each value lies inside its neighbours' range
    assert only_the_typo(shift)
    peaks = monthly()
    peaks[11::12] *= 8  # every December: inside the range of the Decembers around it
    assert only_the_typo(peaks)
    sharp = monthly()
    sharp[50:55] = [100, 130, 400, 330, 220]  # a rise and decay, not one wild value
    assert only_the_typo(sharp)


def test_intermittent_and_heavy_tailed_series_keep_their_spikes() -> None:
    """Where a lone large value is the data: mostly zeros (the median step is 0), or rain
    (the wettest 5% of days stand out from their neighbours as far as any)."""
    rng = np.random.default_rng(1)
    counts = np.where(rng.random(365) < 0.05, rng.integers(1, 50, 365), 0).astype(float)
    counts[200] = 400.0
    assert not mask(counts, 7).any()
    rain = np.where(rng.random(365) < 0.3, rng.exponential(5.0, 365), 0.0) + 0.1
    assert only_the_typo(rain, 7)
    t = np.arange(24 * 7 * 8)
    prices = 50 + 10 * np.sin(2 * np.pi * t / 24) + rng.standard_normal(len(t))
    evenings = rng.choice(np.arange(1, 56) * 24 + 18, 12, replace=False)
    prices[evenings] += rng.uniform(150, 600, 12)  # a dozen spikes at no fixed day
    assert only_the_typo(prices, 24, 168)


def test_the_first_and_last_rows_are_never_judged() -> None:
    """The last value may be the start of a new level; neither end has neighbours on both
    sides."""
    values = monthly()
    values[0], values[-1] = 5000.0, 5000.0
    assert not mask(values).any()
    values[60] = 5000.0
    assert np.flatnonzero(mask(values)).tolist() == [60]


def test_hourly_spikes_that_recur_a_week_apart_are_a_pattern() -> None:
    """Prices that spike at 18:00 on two Mondays running: each lies inside the range of its
    neighbours a week away, though far outside those of the day before and after."""
    rng = np.random.default_rng(3)
    t = np.arange(24 * 7 * 6)
    prices = 50 + 10 * np.sin(2 * np.pi * t / 24) + rng.standard_normal(len(t))
    mondays = [24 * 7 * 2 + 18, 24 * 7 * 3 + 18]
    prices[mondays] = 600.0
    hourly = prices[:, None]
    assert not outlier_mask(hourly, 24, 168).any()
    assert np.flatnonzero(outlier_mask(hourly, 24))[:2].tolist() == mondays  # a day alone
    prices[mondays[1]] = prices[mondays[1] - 168 * 2]
    assert np.flatnonzero(outlier_mask(prices[:, None], 24, 168)).tolist() == mondays[:1]


def test_a_series_without_a_season_is_judged_on_its_neighbours_in_time() -> None:
    values = 50 + np.random.default_rng(2).standard_normal(80)
    values[40] = 90.0
    assert np.flatnonzero(mask(values, 1)).tolist() == [40]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=60))
def test_any_series_keeps_its_ends_and_its_unflagged_values(values: list[float]) -> None:
    """Whatever the values: the ends are never flagged, and filling changes only flagged
    cells, each to a value between its neighbours."""
    array = np.asarray(values, dtype=float)
    flags = mask(array)
    assert flags.shape == array.shape
    if len(array):
        assert not flags[0] and not flags[-1]
    panel = Panel(
        ids=["s"],
        starts=[pd.Timestamp("2000-01-01")],
        offsets=np.array([0, len(array)]),
        values=array[:, None],
        freq="MS",
        schema=Schema(time="date", targets=["value"]),
    )
    after = cleaned(panel, "fill").values[:, 0]
    assert np.array_equal(after[~flags], array[~flags])
    for k in np.flatnonzero(flags):
        low, high = sorted((after[k - 1], after[k + 1]))
        assert low - 1e-6 <= after[k] <= high + 1e-6


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(30, 150),
    st.floats(0.0, 1.0),
    st.sampled_from([-1.0, 1.0]),
    st.floats(50.0, 1e4),
)
def test_a_planted_wild_value_is_the_one_filled_between_its_neighbours(
    seed: int, n: int, where: float, sign: float, size: float
) -> None:
    """Noise around a yearly cycle with one value moved ``size`` noise deviations away:
    that value, and only it, is taken, and filled between its neighbours."""
    rng = np.random.default_rng(seed)
    values = 100 + 8 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.standard_normal(n)
    row = 1 + int(where * (n - 3))
    values[row] += sign * size
    panel = Panel(
        ids=["s"],
        starts=[pd.Timestamp("2000-01-01")],
        offsets=np.array([0, n]),
        values=values[:, None].copy(),
        freq="MS",
        schema=Schema(time="date", targets=["value"]),
    )
    assert find(panel).cells.tolist() == [row]
    after = cleaned(panel, "fill").values[:, 0]
    assert after[row] == pytest.approx((values[row - 1] + values[row + 1]) / 2)
    assert np.array_equal(np.delete(after, row), np.delete(values, row))


def test_only_rows_before_the_limit_are_judged_or_changed(tmp_path: Path) -> None:
    values = monthly()
    values[[40, 100]] = 5000.0
    path = tmp_path / "two.csv"
    frame(values).to_csv(path, index=False)
    panel = load_panel(path)
    found = find(panel, until=np.array([90]))
    assert found.cells.tolist() == [40] and found.values.tolist() == [5000.0]
    kept = cleaned(panel, "fill", until=np.array([90])).values[:, 0]
    assert kept[100] == 5000.0 and kept[40] == pytest.approx((values[39] + values[41]) / 2)
    assert cleaned(panel, "keep") is panel


@pytest.fixture(scope="module")
def spiked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A monthly series with 5000 in place of about 100, ten months before its end, and
    models trained on it with and without filling it."""
    directory = tmp_path_factory.mktemp("spiked")
    values = monthly()
    values[110] = 5000.0
    data = directory / "spiked.csv"
    frame(values).to_csv(data, index=False)
    paths = {"data": data}
    for policy in ("fill", "keep"):
        model = directory / f"{policy}.fcst"
        args = ["train", str(data), "-o", str(model), "--outliers", policy, *FAST]
        result = invoke([a for a in args if a != "--quiet"])
        assert result.exit_code == 0, result.stderr
        assert (NOTE in result.stderr) == (policy == "fill")
        paths[policy] = model
        (directory / f"{policy}.txt").write_text(result.stderr)
    return paths


def test_train_says_which_value_it_filled(spiked: dict[str, Path]) -> None:
    stderr = (spiked["fill"].parent / "fill.txt").read_text()
    assert "took 1 value(s)" in stderr and "'value' at 2009-03-01 (5000)" in stderr
    assert "--outliers keep" in stderr
    assert artifact_io.load(spiked["fill"]).train_config.outliers == "fill"


def forecast(model: Path, *more: str) -> tuple[pd.DataFrame, str]:
    result = invoke(["predict", "-m", str(model), "--level", "80", *more])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout)), result.stderr


def test_a_filled_outlier_is_not_repeated_a_season_later(spiked: dict[str, Path]) -> None:
    """Kept, the value sits in the context a season back and the forecast repeats it, and
    the error scale that sizes the intervals holds it; filled, neither."""
    kept, _ = forecast(spiked["keep"])
    filled, _ = forecast(spiked["fill"])
    assert kept["value"].max() > 1000
    assert filled["value"].between(70, 130).all()
    width = lambda f: (f["value-hi-80"] - f["value-lo-80"]).median()  # noqa: E731
    assert width(filled) < 60 < width(kept)


def test_predict_fills_the_data_it_is_given_as_the_model_did(spiked: dict[str, Path]) -> None:
    stored, quiet = forecast(spiked["fill"])
    given, said = forecast(spiked["fill"], str(spiked["data"]))
    assert NOTE not in quiet and NOTE in said
    assert np.allclose(given["value"], stored["value"], rtol=1e-4)
    _, kept = forecast(spiked["keep"], str(spiked["data"]))
    assert NOTE not in kept


def evaluated(model: Path, values: np.ndarray, tmp_path: Path) -> tuple[pd.DataFrame, str]:
    """`evaluate --horizon 18` of ``values``: every scored step, and stderr."""
    return evaluated_frame(model, frame(values), tmp_path)


def test_evaluate_never_fills_the_rows_it_scores(spiked: dict[str, Path], tmp_path: Path) -> None:
    """A wild value among the scored rows is an error the model made, kept as the actual."""
    values = monthly(150)
    values[140] = 5000.0  # scored: the origin is row 132
    scored, stderr = evaluated(spiked["fill"], values, tmp_path)
    assert NOTE not in stderr
    assert scored["actual"].max() == 5000.0 and scored["model"].max() < 200


def test_evaluate_fills_the_history_its_model_and_baselines_read(
    spiked: dict[str, Path], tmp_path: Path
) -> None:
    """One before the origin is filled once, for the model and for seasonal naive alike (it
    would repeat the value a season later); the row just before the origin has no neighbour
    after it there, so it is never judged."""
    values = monthly(150)
    values[125] = 5000.0  # a season before scored row 137
    scored, stderr = evaluated(spiked["fill"], values, tmp_path)
    assert stderr.count(NOTE) == 1 and "'value' at 2010-06-01 (5000)" in stderr
    assert scored["seasonal_naive"].max() < 200 and scored["model"].max() < 200
    values[125] = values[124]
    values[131] = 5000.0  # the last row before the origin: the forecast starts from it
    scored, stderr = evaluated(spiked["fill"], values, tmp_path)
    assert NOTE not in stderr and scored["naive"].max() == 5000.0


def test_a_model_file_from_before_keeps_every_value(
    spiked: dict[str, Path], tmp_path: Path
) -> None:
    older = tmp_path / "older.fcst"
    damage = edit_metadata(lambda meta: meta["train_config"].pop("outliers"))
    older.write_bytes(damage(spiked["fill"].read_bytes()))
    assert artifact_io.load(older).train_config.outliers == "keep"
    _, said = forecast(older, str(spiked["data"]))
    assert NOTE not in said
    values = monthly(150)
    values[125] = 5000.0
    scored, said = evaluated(older, values, tmp_path)
    assert NOTE not in said and scored["seasonal_naive"].max() == 5000.0


def test_a_series_whose_only_negative_value_was_filled_counts_as_never_below_zero(
    tmp_path: Path,
) -> None:
    """Forecasts of a series that never went below 0 are kept >= 0; a lone -50 in a series
    near 100 was a typo, not a sign that it can."""
    values = monthly()
    values[40] = -50.0
    data = tmp_path / "typo.csv"
    frame(values).to_csv(data, index=False)
    held = {}
    for policy in ("fill", "keep"):
        model = tmp_path / f"{policy}.fcst"
        args = ["train", str(data), "-o", str(model), "--outliers", policy, *FAST]
        assert invoke(args).exit_code == 0
        held[policy] = bool(artifact_io.load(model).nonnegative.all())
    assert held == {"fill": True, "keep": False}


# Unknown --outliers and --leading-run values, given or in a model file: tests/test_starts.py.


def test_inspect_reads_the_window_predict_reads(spiked: dict[str, Path]) -> None:
    """Given DATA, `inspect` shows the gates on the window `predict` forecasts from: with the
    outlier filled (as in the history the model stored), not the raw value."""
    stored = invoke(["inspect", "-m", str(spiked["fill"])])
    given = invoke(["inspect", "-m", str(spiked["fill"]), str(spiked["data"])])
    assert stored.exit_code == 0 and given.exit_code == 0, given.stderr
    assert NOTE in given.stderr and given.stdout == stored.stdout
