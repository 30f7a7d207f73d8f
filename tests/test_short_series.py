"""Short series: intervals that never collapse onto the forecast or onto each other.

A 144-row monthly series holds one validation window of 18 rows: its 80% and 95% bounds
were once the same single error, both on the forecast. Its intervals now come from origins
through the training rows (`forecaster.pooled`), and every command says when a level is
more than the windows resolve.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.intervals import PROBABILITIES, quantiles_at
from tests.conftest import FAST, invoke, seasonal_frame

UNRESOLVED = "resolve central intervals up to"


def monthly(n: int = 144, seed: int = 0) -> pd.DataFrame:
    """A yearly cycle on a trend with noise, far from zero (nothing to clip)."""
    frame = seasonal_frame(n, freq="MS", period=12, noise=0.5, seed=seed)
    frame["value"] = 300 + 20 * frame["value"] + 0.5 * np.arange(n)
    return frame


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The 144-row monthly series (one validation window) and its model; train's stderr."""
    directory = tmp_path_factory.mktemp("short")
    data, model = directory / "monthly.csv", directory / "m.fcst"
    monthly().to_csv(data, index=False)
    args = ["train", str(data), "-o", str(model), *FAST]
    result = invoke([a for a in args if a != "--quiet"])
    assert result.exit_code == 0, result.stderr
    return data, model, result.stderr


def bounds_frame(model: Path, *more: str) -> tuple[pd.DataFrame, str]:
    result = invoke(["predict", "-m", str(model), "--level", "80", "--level", "95", *more])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout)), result.stderr


def test_a_short_series_gets_two_distinct_intervals_around_its_forecast(
    short: tuple[Path, Path, str],
) -> None:
    """lo-95 < lo-80 < forecast < hi-80 < hi-95 on every row, with nothing said about
    unresolved levels: 97 origins through the training rows resolve the 95% interval."""
    _, model, _ = short
    frame, stderr = bounds_frame(model)
    point = frame["value"]
    assert (frame["value-lo-95"] < frame["value-lo-80"]).all()
    assert (frame["value-lo-80"] < point).all() and (point < frame["value-hi-80"]).all()
    assert (frame["value-hi-80"] < frame["value-hi-95"]).all()
    assert UNRESOLVED not in stderr
    from forecaster.pooled import SOURCE_POOLED

    info = artifact_io.load(model).intervals.info  # type: ignore[union-attr]
    assert info["windows"] == 1 and info["source"] == SOURCE_POOLED
    assert info["training_windows"] >= 19 and info["resolved_level"] >= 95
    assert min(info["widening"]) >= 1.0
    assert info["validation_horizons"] == 1.0  # 18 validation rows, a horizon of 18


def test_train_info_and_json_say_where_the_intervals_come_from(
    short: tuple[Path, Path, str], tmp_path: Path
) -> None:
    data, model, stderr = short
    assert "intervals from" in stderr and "origins through the training rows" in stderr
    from forecaster.pooled import SOURCE_POOLED, SOURCE_VALIDATION

    n = artifact_io.load(model).intervals.info["training_windows"]  # type: ignore[union-attr]
    assert f"intervals from {n} origins through the training rows widened x" in stderr
    assert "to the errors of 1 validation window of 1 series, too few alone" in stderr
    text = invoke(["info", str(model)]).stdout
    assert f"from {n} origins through the training rows" in text.split("intervals:")[1]
    described = json.loads(invoke(["info", str(model), "--format", "json"]).stdout)
    assert described["intervals"]["source"] == SOURCE_POOLED
    assert set(described["intervals"]["validation_coverage"]) == {"80", "95"}
    again = invoke(["train", str(data), "-o", str(tmp_path / "j.fcst"), "--format", "json", *FAST])
    assert json.loads(again.stdout)["intervals"]["source"] == SOURCE_POOLED
    # a series long enough keeps its validation windows alone, and says so
    long_data, long_model = tmp_path / "long.csv", tmp_path / "long.fcst"
    seasonal_frame(1000).to_csv(long_data, index=False)
    trained = invoke(["train", str(long_data), "-o", str(long_model), "--horizon", "7",
                      *FAST[:-1]])  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    summary = artifact_io.load(long_model).intervals.info  # type: ignore[union-attr]
    assert summary["source"] == SOURCE_VALIDATION and "training_windows" not in summary
    windows = summary["windows"]
    assert f"intervals from {windows} validation windows: 80% covered" in trained.stderr


def test_evaluate_and_plot_warn_when_a_level_is_not_resolved(
    short: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """As predict does: 99.5% needs the 0.0025 quantile, about 400 windows; 80 and 95 are
    resolved and draw no warning."""
    data, model, _ = short
    scored = ["evaluate", "-m", str(model), str(data), "--windows", "2"]
    quiet = invoke(scored)
    assert quiet.exit_code == 0, quiet.stderr
    assert UNRESOLVED not in quiet.stderr
    loud = invoke([*scored, "--level", "80", "--level", "99.5"])
    assert loud.exit_code == 0
    assert "level 99.5: the model's 1 validation windows and" in loud.stderr
    assert UNRESOLVED in loud.stderr and "level 80" not in loud.stderr
    assert "beyond, the bounds are a Laplace tail of the errors' mean size" in loud.stderr
    picture = tmp_path / "p.png"
    drawn = invoke(["plot", "-m", str(model), "-o", str(picture)])
    assert drawn.exit_code == 0 and UNRESOLVED not in drawn.stderr
    wide = invoke(["plot", "-m", str(model), "--level", "99.5", "-o", str(picture)])
    assert wide.exit_code == 0 and "level 99.5: the model's" in wide.stderr


@settings(max_examples=40, deadline=None)
@given(
    validation=st.integers(1, 6),
    training=st.integers(19, 120),
    horizon=st.integers(1, 8),
    tail=st.floats(1.0, 6.0),
    seed=st.integers(0, 2**16),
)
def test_pooled_quantiles_are_symmetric_nested_and_never_narrowed(
    validation: int, training: int, horizon: int, tail: float, seed: int
) -> None:
    """Zero at the median, symmetric, increasing in p; strictly nested 80% inside 95%;
    widened, never narrowed, by the validation windows: their measured ratio weighed by the
    horizons they span (`widening`), never more than they measured."""
    from forecaster.pooled import pooled_quantiles, widening

    rng = np.random.default_rng(seed)
    train = (
        rng.standard_t(tail + 1, size=(training, horizon, 1))
        * (1 + np.arange(horizon))[None, :, None]
    )
    val = 2 * rng.standard_normal((validation, horizon, 1))
    horizons = (validation - 1 + horizon) / horizon  # stride-1 windows' rows, in horizons
    result = pooled_quantiles(val, train, horizons)
    assert result is not None
    quantiles, info = result
    assert np.all(np.diff(quantiles, axis=1) >= 0)
    middle = int(np.flatnonzero(np.isclose(PROBABILITIES, 0.5))[0])
    assert np.all(quantiles[:, middle] == 0)
    np.testing.assert_allclose(quantiles, -quantiles[:, ::-1], atol=1e-12)
    table = quantiles_at(quantiles, [0.025, 0.1, 0.9, 0.975])[:, :, 0]
    assert np.all(table[:, 0] < table[:, 1]) and np.all(table[:, 1] < 0)
    assert np.all(table[:, 2] > 0) and np.all(table[:, 2] < table[:, 3])
    assert info["widening"][0] >= 1.0 and info["weight"] == validation + training
    assert info["widening"][0] <= max(info["widening_measured"][0], 1.0) + 1e-3
    measured = np.abs(val).mean() / np.abs(train).mean()
    np.testing.assert_allclose(info["widening"][0], widening(np.array([measured]), horizons)[0],
                               atol=5e-4)  # fmt: skip
    assert info["validation_horizons"] == round(max(horizons, 1.0), 2)


def test_pooled_quantiles_of_two_targets_each_from_its_own_errors() -> None:
    """Two target columns pool their own errors: the second's are 3x the first's (same
    shape), so its bounds are 3x too; the validation windows widen each by its own ratio."""
    from forecaster.pooled import pooled_quantiles

    rng = np.random.default_rng(5)
    one = rng.standard_normal((40, 6, 1))
    val = rng.standard_normal((2, 6, 1))
    training = np.concatenate([one, 3 * one], axis=2)
    validation = np.concatenate([val, 3 * val * 4.0], axis=2)  # the second: 4x worse
    result = pooled_quantiles(validation, training, 2.0)
    assert result is not None
    quantiles, info = result
    first, second = info["widening_measured"]
    assert second == pytest.approx(4 * first, rel=1e-2)
    assert info["widening"][1] > info["widening"][0] >= 1.0
    assert np.all(np.diff(quantiles, axis=1) >= 0)
    np.testing.assert_allclose(quantiles, -quantiles[:, ::-1], atol=1e-12)
    alone = pooled_quantiles(val, one, 2.0)
    assert alone is not None
    np.testing.assert_allclose(quantiles[:, :, :1], alone[0], rtol=1e-12)


def test_one_windows_widening_counts_as_much_as_one_horizon_of_none() -> None:
    """The measured ratio's geometric mean with the prior's horizons of 1: one horizon of
    validation rows measuring x4 widens x2, eight horizons x4^(8/9); below 1 stays 1."""
    from forecaster.pooled import widening

    np.testing.assert_allclose(widening(np.array([4.0]), 1.0), [2.0])
    np.testing.assert_allclose(widening(np.array([4.0]), 8.0), [4.0 ** (8 / 9)])
    np.testing.assert_allclose(widening(np.array([0.25, np.nan, np.inf]), 1.0), [1, 1, 1])
    np.testing.assert_allclose(widening(np.array([4.0]), 3.0, prior=0.0), [4.0])


def test_a_level_resolved_by_every_window_is_not_the_largest_error_of_all() -> None:
    """With n windows, k = ceil((n + 1) level) <= n of them resolve a level and stand at
    k / (n + 1) of the pooled errors: 24 windows x 4 steps resolve the grid's 0.97 and 0.98
    quantiles with k = 24, the share 24/25, and one wild step is not the 95% bound (reading
    k / n took it); the 80% bound is the share 20/25."""
    from forecaster.pooled import pooled_quantiles

    steps = np.linspace(0.5, 1.5, 23 * 4).reshape(23, 4, 1)
    training = steps / steps.mean(axis=0, keepdims=True)
    training[0, 0, 0] = 50.0  # one wild step
    validation = np.ones((1, 4, 1)) * 0.9  # a calm window: no widening
    result = pooled_quantiles(validation, training, 1.0)
    assert result is not None
    quantiles, info = result
    assert info["weight"] == 24 and info["widening"] == [1.0]
    size = np.abs(training).mean(axis=0)[:, 0]
    pooled = np.concatenate([training / size[None, :, None], validation / size[None, :, None]])
    flat = pooled.reshape(-1)
    hi95, hi80 = quantiles_at(quantiles, [0.975, 0.9])[:, :, 0].T
    np.testing.assert_allclose(hi95 / size, np.quantile(flat, 24 / 25), rtol=1e-9)
    assert (hi95 / size).max() < 0.2 * flat.max()
    np.testing.assert_allclose(hi80 / size, np.quantile(flat, 20 / 25), rtol=1e-9)


def test_levels_no_window_resolves_take_a_laplace_tail_of_the_mean_error() -> None:
    """Two windows resolve no 80% interval (k = 3 > 2): its bound is where an exponential
    |error| of the pooled mean size reaches 80%, ln(1 / 0.2) x the mean, the 0.98
    quantile's ln(1 / 0.04) x the mean, where both were once the single largest error."""
    from forecaster.pooled import pooled_quantiles

    rng = np.random.default_rng(3)
    training = rng.standard_normal((1, 48, 1))
    validation = rng.standard_normal((1, 48, 1))
    training[0, 5, 0] = 40.0  # the largest error, far out
    result = pooled_quantiles(validation, training, 1.0)
    assert result is not None
    quantiles, info = result
    size = np.abs(training).mean(axis=0)[:, 0]
    step = size * info["widening"][0]
    pooled = np.concatenate([np.abs(training)[0, :, 0] / size, np.abs(validation)[0, :, 0] / step])
    hi80, hi96 = quantiles_at(quantiles, [0.9, 0.98])[:, :, 0].T
    np.testing.assert_allclose(hi80 / step, np.log(5.0) * pooled.mean(), rtol=1e-9)
    np.testing.assert_allclose(hi96 / step, np.log(25.0) * pooled.mean(), rtol=1e-9)
    assert (hi96 / step).max() < 0.25 * pooled.max()


def test_a_file_written_before_says_what_its_bounds_were(
    short: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """Files calibrated before the widening was weighed and the Laplace tail came in keep
    their quantiles, and are described as they were made: the widening alone, the widest
    errors beyond what the windows resolve."""
    _, model, _ = short
    artifact = artifact_io.load(model)
    info = artifact.intervals.info  # type: ignore[union-attr]
    assert info["widening"][0] <= max(info["widening_measured"][0], 1.0)
    text = invoke(["info", str(model)]).stdout
    horizons = info["validation_horizons"]
    assert "horizon(s) of validation rows, weighed against 1 of no widening" in text
    assert f"measured on {horizons:g} horizon(s)" in text
    for key in ("widening_measured", "validation_horizons", "beyond"):
        del info[key]
    older = tmp_path / "older.fcst"
    artifact_io.save(artifact, older)
    text = invoke(["info", str(older)]).stdout
    assert "measured" not in text and f"widened x{info['widening'][0]:g} to the" in text
    loud = invoke(["predict", "-m", str(older), "--level", "99.5"])
    assert loud.exit_code == 0 and "the bounds are the widest errors seen" in loud.stderr


def test_a_short_panel_weighs_its_widening_by_every_series_validation_rows(
    tmp_path: Path,
) -> None:
    """Two 144-month series, one validation window each: two horizons of validation rows
    measured the widening, so it is the ratio's geometric mean with one horizon of none at
    weight 2 : 1."""
    from forecaster.pooled import SOURCE_POOLED, widening

    frames = [monthly(seed=seed).assign(series=name) for seed, name in ((0, "a"), (1, "b"))]
    data, model = tmp_path / "panel.csv", tmp_path / "panel.fcst"
    pd.concat(frames).to_csv(data, index=False)
    result = invoke(["train", str(data), "--id", "series", "-o", str(model), *FAST])
    assert result.exit_code == 0, result.stderr
    info = artifact_io.load(model).intervals.info  # type: ignore[union-attr]
    assert info["source"] == SOURCE_POOLED and info["validation_horizons"] == 2.0
    measured = np.array(info["widening_measured"], dtype=float)
    np.testing.assert_allclose(info["widening"], widening(measured, 2.0), rtol=2e-3)


def test_predict_warns_only_beyond_what_the_pooled_ranks_resolve() -> None:
    """Ten pooled windows resolve symmetric levels up to 10/11 (the grid's 90%), where a
    one-sided count of ten resolves 80%: the 90% interval is read off the ranks and draws no
    warning; 95% is the Laplace tail's and is named so. A file written before keeps the
    one-sided count (its bounds beyond were the widest error)."""
    from types import SimpleNamespace

    from forecaster.intervals import too_few_windows
    from forecaster.pooled import pooled_level

    assert [pooled_level(n) for n in (2, 10, 19, 24)] == [66.0, 90.0, 94.0, 96.0]
    info = {"weight": 10.0, "windows": 1, "training_windows": 9, "widening_measured": [1.2],
            "resolved_level": pooled_level(10), "beyond": "laplace"}  # fmt: skip
    pooled = SimpleNamespace(info=info)
    assert too_few_windows(pooled, [80, 90], [0.05, 0.95]) == ""  # type: ignore[arg-type]
    line = too_few_windows(pooled, [95], [])  # type: ignore[arg-type]
    assert line.startswith("level 95: the model's 1 validation windows and 9 origins")
    assert "up to 90%; beyond, the bounds are a Laplace tail" in line
    older = SimpleNamespace(info={k: v for k, v in info.items() if k != "beyond"})
    line = too_few_windows(older, [90], [])  # type: ignore[arg-type]
    assert "up to 80%; beyond, the bounds are the widest errors seen" in line


def test_windows_whose_history_never_moved_are_left_out_of_the_calibration(
    tmp_path: Path,
) -> None:
    """Zeros with one spike of 100: the windows before the spike have a flat history, so
    only the members' spread normalised their errors (10^6 scales), and the 95% bound was
    hundreds of thousands. They are left out; the bound stays within a few spikes."""
    values = np.zeros(60)
    values[30] = 100.0
    frame = pd.DataFrame({"date": pd.date_range("2000-01-01", periods=60, freq="MS"),
                          "value": values})  # fmt: skip
    data, model = tmp_path / "spike.csv", tmp_path / "spike.fcst"
    frame.to_csv(data, index=False)
    fast = [a for a in FAST if a not in ("--ensemble", "1")]  # the spread needs two members
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "6", *fast])
    assert trained.exit_code == 0, trained.stderr
    bounds, _ = bounds_frame(model)
    assert (bounds["value-hi-95"] <= 500).all(), bounds
    assert (bounds["value-hi-80"] <= bounds["value-hi-95"]).all()


def test_a_flat_series_in_a_panel_leaves_the_others_intervals_alone(tmp_path: Path) -> None:
    """A panel of a weekly cycle around 10 and a series of zeros with one spike of 50 in its
    validation rows: the zeros' windows before the spike were normalised by the members'
    spread alone, widened the pool x75,905, and the cycle's 95% interval ran from 0 to
    43,632. Left out, the cycle's interval stays near its values."""
    n = 400
    rng = np.random.default_rng(0)
    dates = pd.date_range("2020-01-01", periods=n, freq="D")
    cycle = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 7) + 0.3 * rng.standard_normal(n)
    zeros = np.zeros(n)
    zeros[385] = 50.0
    frame = pd.concat([pd.DataFrame({"id": "a", "date": dates, "value": cycle}),
                       pd.DataFrame({"id": "b", "date": dates, "value": zeros})])  # fmt: skip
    data, model = tmp_path / "panel.csv", tmp_path / "panel.fcst"
    frame.to_csv(data, index=False)
    fast = [a for a in FAST if a not in ("--ensemble", "1")]
    trained = invoke(["train", str(data), "--id", "id", "-o", str(model), "--horizon", "7", *fast])
    assert trained.exit_code == 0, trained.stderr
    bounds, _ = bounds_frame(model)
    cycle_rows = bounds[bounds["id"] == "a"]
    assert (cycle_rows["value-hi-95"] < 30).all() and (cycle_rows["value-lo-95"] > 0).all()


def test_with_no_training_origin_to_pool_the_bounds_stand_either_side_of_the_forecast(
    tmp_path: Path,
) -> None:
    """108 months at a constant 50, then 12 of a yearly cycle around 100: every training
    origin's history is flat (left out), so a few validation windows are all there is. Read
    signed, so few windows put both bounds of a level on one side of the forecast or on it
    (a series of zeros before its launch: the 80% lower bound was the forecast on every
    row); read symmetric, with the Laplace tail beyond their ranks, each level has a bound
    either side, 95% is wider than 80%, and predict says they may cover less than stated."""
    from forecaster.pooled import LAPLACE, SOURCE_VALIDATION

    rng = np.random.default_rng(4)
    values = np.r_[np.full(108, 50.0), 100 + 10 * np.sin(np.arange(12) * np.pi / 6)]
    values[108:] += rng.normal(0, 1, 12)
    frame = pd.DataFrame({"date": pd.date_range("2000-01-01", periods=120, freq="MS"),
                          "value": values})  # fmt: skip
    data, model = tmp_path / "launch.csv", tmp_path / "launch.fcst"
    frame.to_csv(data, index=False)
    fast = [a for a in FAST if a not in ("--ensemble", "1")]
    # The held 50s are kept: left out (the default), 12 rows would leave no validation.
    trained = invoke(["train", str(data), "-o", str(model), "--horizon", "6",
                      "--leading-run", "keep", *fast])  # fmt: skip
    assert trained.exit_code == 0, trained.stderr
    info = artifact_io.load(model).intervals.info  # type: ignore[union-attr]
    assert info["source"] == SOURCE_VALIDATION and info["beyond"] == LAPLACE
    bounds, stderr = bounds_frame(model)
    point = bounds["value"]
    assert (bounds["value-lo-80"] < point).all() and (point < bounds["value-hi-80"]).all()
    assert (bounds["value-hi-80"] < bounds["value-hi-95"]).all()
    inside = bounds["value-lo-80"] > 0  # not clipped at zero (the series is never negative)
    np.testing.assert_allclose((point - bounds["value-lo-80"])[inside],
                               (bounds["value-hi-80"] - point)[inside], rtol=1e-4)  # fmt: skip
    assert "a Laplace tail of the errors' mean size" in stderr


def test_a_heavy_tailed_pools_unresolved_levels_lie_beyond_its_last_rank() -> None:
    """30 windows resolve up to the grid's 96% level; most errors small and a few large put
    that rank's bound beyond the plain Laplace 99% quantile of their mean. The tail then
    continues from the last rank's bound (its 99% bound was the 95% one's before): level
    0.99 at bound(0.96) + mean x ln(0.04 / 0.01)."""
    from forecaster.pooled import pooled_quantiles

    rng = np.random.default_rng(6)
    training = np.where(rng.random((29, 6, 1)) < 0.1, 20.0, 0.1) * rng.choice([-1, 1], (29, 6, 1))
    validation = training[:1].copy()
    result = pooled_quantiles(validation, training, 1.0)
    assert result is not None
    quantiles, info = result
    assert info["weight"] == 30 and info["resolved_level"] == 96.0
    size = np.abs(training).mean(axis=0)[:, 0] * info["widening"][0]
    hi96, hi99 = quantiles_at(quantiles, [0.98, 0.995])[:, :, 0].T
    pooled = np.concatenate([np.abs(training) / np.abs(training).mean(axis=0),
                             np.abs(validation) / (size[None, :, None])])  # fmt: skip
    mean = pooled.mean()
    assert np.all(hi96 / size > np.log(100.0) * mean)  # the plain tail would sit below it
    np.testing.assert_allclose(hi99 / size, hi96 / size + mean * np.log(4.0), rtol=1e-9)


def test_a_constant_column_beside_a_target_leaves_its_pooled_intervals_alone(
    tmp_path: Path,
) -> None:
    """Every numeric column is a target by default: a constant flag beside a monthly series
    never moves in any window. Leaving out each window flat in it emptied the pool, and the
    series' 80% and 95% bounds collapsed onto one side of the forecast. A target flat
    everywhere leaves every window in; the series' intervals are pooled as without it."""
    from forecaster.pooled import SOURCE_POOLED

    frame = monthly(120).assign(flag=1.0)
    data, model = tmp_path / "two.csv", tmp_path / "two.fcst"
    frame.to_csv(data, index=False)
    fast = [a for a in FAST if a not in ("--ensemble", "1")]
    trained = invoke(["train", str(data), "-o", str(model), *fast])
    assert trained.exit_code == 0, trained.stderr
    assert "Warning" not in trained.stderr  # numpy's "All-NaN slice" for the flag, once
    info = artifact_io.load(model).intervals.info  # type: ignore[union-attr]
    assert info["source"] == SOURCE_POOLED
    bounds, _ = bounds_frame(model)
    point = bounds["value"]
    assert (bounds["value-lo-95"] < bounds["value-lo-80"]).all()
    assert (bounds["value-lo-80"] < point).all() and (point < bounds["value-hi-80"]).all()
    assert (bounds["value-hi-80"] < bounds["value-hi-95"]).all()


def test_moved_windows_by_target() -> None:
    """A window is left out when flat in a target that moves in some window; a target that
    never moves leaves every window in."""
    from forecaster.intervals import moved_windows

    scale = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    assert moved_windows(scale).tolist() == [True, False, True, True]
    scale[0, 1] = 3.0  # the second target now moves in one window
    assert moved_windows(scale).tolist() == [True, False, False, False]
    assert moved_windows(np.zeros((3, 2))).tolist() == [True, True, True]
