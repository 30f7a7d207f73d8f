"""Where a series starts: leading zeros, and one value held for two seasons, are left out
before a model reads them, said in one line, never below what a forecast needs and never
in the rows a backtest scores."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster.data import drop_first, load_panel
from forecaster.starts import leading_rows, started, to_drop
from tests.conftest import FAST, evaluated_frame, invoke
from tests.test_model_files import edit_metadata
from tests.test_sessions import _business_hours

NOTE = "are left out as rows before it began"
PANEL_NOTE = "left out as rows before they began"
LOUD = FAST[:-1]  # FAST with warnings on stderr


def launched(zeros: int = 100, months: int = 30, seed: int = 0, held: float = 0.0) -> np.ndarray:
    """``zeros`` months of ``held`` (0: before a product's launch), then ``months`` near 100."""
    rng = np.random.default_rng(seed)
    return np.r_[np.full(zeros, held), 100 + 3 * rng.standard_normal(months)]


def frame(values: np.ndarray, start: str = "2000-01-01") -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": values.round(3)})


def rows(values: np.ndarray | list[float], season: int = 12) -> int:
    return leading_rows(np.asarray(values, dtype=float)[:, None], season)


def test_leading_zeros_are_left_out_however_few() -> None:
    for zeros in (1, 3, 100):
        assert rows(launched(zeros)) == zeros
    assert rows(launched(0)) == 0


def test_a_held_value_other_than_zero_must_last_two_seasons() -> None:
    assert rows(launched(24, held=50.0)) == 24  # two years of one value: a placeholder
    assert rows(launched(23, held=50.0)) == 0
    # Six trading days of one closing price (a season of 5) are data, ten are not.
    assert rows(launched(6, held=0.07533), season=5) == 0
    assert rows(launched(10, held=0.07533), season=5) == 10
    # A yearly series (no season) needs four rows of one value.
    assert rows(launched(3, held=7.0), season=1) == 0
    assert rows(launched(4, held=7.0), season=1) == 4


def snowfall(months: int = 120, seed: int = 0) -> np.ndarray:
    """A yearly cycle cut at 0: five months of no snow every summer."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    return np.maximum(0.0, 50 * np.cos(2 * np.pi * t / 12) + 5 * rng.standard_normal(months))


def test_zeros_the_series_shows_as_data_are_not_a_start() -> None:
    """A snowfall that opens in summer opens with zeros like every summer after it: that
    run is data. Only a run more than twice as long as any later one is a start."""
    snow = snowfall()
    for first in range(12):  # whichever month the history (or a recent window) opens in
        assert rows(snow[first:]) == 0
    longest = max(len(r) for r in "".join("0" if v == 0 else "1" for v in snow).split("1"))
    assert rows(np.r_[np.zeros(2 * longest), snow[3:]]) == 0  # the summer's 2 + 2 x longest
    assert rows(np.r_[np.zeros(2 * longest + 3), snow[3:]]) > 2 * longest
    # A launch whose sales later drop to 0 for two months still starts at the launch.
    sold = launched(100, 60)
    sold[[120, 121]] = 0.0
    assert rows(sold) == 100


def test_a_start_is_found_in_one_pass() -> None:
    """Zeros, then a value held for 30 months, then the data (or the other way round): both
    runs are before the start, so leaving the rows out a second time leaves out nothing."""
    body = 100 + 10 * np.sin(np.arange(60) * np.pi / 6)
    for opening in (np.r_[np.zeros(5), np.full(30, 7.0)], np.r_[np.full(30, 7.0), np.zeros(5)]):
        values = np.r_[opening, body]
        assert rows(values) == 35
        assert rows(values[35:]) == 0


def test_a_series_that_never_changes_keeps_every_row() -> None:
    assert rows(np.zeros(50)) == 0
    assert rows(np.full(50, 3.0)) == 0
    assert rows([0.0]) == 0


def test_a_row_leads_only_when_every_target_does() -> None:
    both = np.c_[launched(10), np.r_[np.zeros(4), np.arange(1.0, 37.0)]]
    assert leading_rows(both, 12) == 4
    other = np.c_[launched(10), np.arange(1.0, 41.0)]  # the second target moves from row 1
    assert leading_rows(other, 12) == 0


@given(
    zeros=st.integers(0, 40),
    body=st.lists(st.floats(1e-3, 1e6), min_size=2, max_size=60, unique=True),
)
@settings(max_examples=200, deadline=None)
def test_planted_zeros_are_exactly_what_is_left_out(zeros: int, body: list[float]) -> None:
    """In front of data with no zeros and no repeated value, the rows left out are exactly
    the zeros planted."""
    assert rows(np.r_[np.zeros(zeros), body]) == zeros


@given(
    opening=st.lists(st.sampled_from([0.0, 7.0]), max_size=40),
    body=st.lists(st.sampled_from([0.0, 1.0, 2.0, 7.0, 3.5]), min_size=1, max_size=80),
)
@settings(max_examples=300, deadline=None)
def test_leaving_the_rows_out_again_leaves_out_nothing(
    opening: list[float], body: list[float]
) -> None:
    """Whatever the values (runs of zeros and of held values everywhere), the rows left out
    are fewer than all of a series that changes, and what is left has no start to find."""
    values = np.r_[opening, body]
    left_out = rows(values, season=3)
    if len(set(values.tolist())) > 1:
        assert left_out < len(values)
    assert rows(values[left_out:], season=3) == 0


def panel_of(tmp_path: Path, series: dict[str, np.ndarray], **extra: np.ndarray) -> object:
    """A long-format panel from ``series`` (each monthly from 2000), with ``extra`` columns."""
    parts = []
    for name, values in series.items():
        part = frame(values).assign(unique_id=name)
        for column, more in extra.items():
            part[column] = more[: len(values)]
        parts.append(part)
    path = tmp_path / "panel.csv"
    pd.concat(parts).to_csv(path, index=False)
    return load_panel(path, time="date", targets=["sales"], id="unique_id",
                      past=list(extra))  # fmt: skip


def test_a_panel_moves_only_the_starts_it_drops_and_keeps_rows_aligned(tmp_path: Path) -> None:
    promo = np.arange(200.0)
    panel = panel_of(tmp_path, {"new": launched(12), "old": launched(0, 42, seed=1)},
                     promo=promo)  # fmt: skip
    later = started(panel, "drop", keep=5)
    assert later.lengths.tolist() == [30, 42] and later.ids == panel.ids
    assert later.starts[0] == pd.Timestamp("2001-01-01") and later.starts[1] == panel.starts[1]
    assert np.array_equal(later.series(0), panel.series(0)[12:])
    assert np.array_equal(later.series(1), panel.series(1))
    assert later.covariates is not None and later.covariates[0, 0] == 12.0  # its row 12
    assert later.index(0).equals(panel.index(0)[12:])
    assert started(panel, "keep", keep=5) is panel


def test_never_below_what_the_caller_needs_nor_past_its_limit(tmp_path: Path) -> None:
    panel = panel_of(tmp_path, {"a": launched(100, 10), "b": launched(20, 30)})
    assert to_drop(panel, keep=18).tolist() == [92, 20]  # a keeps 8 of its zeros
    assert to_drop(panel, keep=1).tolist() == [100, 20]
    # Before row 15 series b has only zeros: nothing starts there, nothing is dropped.
    assert to_drop(panel, keep=1, until=np.array([110, 15])).tolist() == [100, 0]
    assert to_drop(panel, keep=10, until=np.array([105, 40])).tolist() == [95, 20]


def test_business_hours_start_on_a_later_slot_of_their_session(tmp_path: Path) -> None:
    """Rows counted on the session's slots: a start 20 slots later is that slot's time."""
    data = _business_hours(2, freq="30min")
    path = tmp_path / "hours.csv"
    data.to_csv(path, index=False)
    panel = load_panel(path)
    later = drop_first(panel, np.array([40]))
    assert later.index(0).equals(panel.index(0)[40:])


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """100 months of 0 before a launch, then 30 near 100; models trained with both policies."""
    directory = tmp_path_factory.mktemp("launch")
    data = directory / "launch.csv"
    frame(launched()).to_csv(data, index=False)
    paths = {"data": data}
    for policy in ("drop", "keep"):
        model = directory / f"{policy}.fcst"
        args = ["train", str(data), "-o", str(model), "--horizon", "18",
                "--leading-run", policy, *LOUD]  # fmt: skip
        result = invoke(args)
        assert result.exit_code == 0, result.stderr
        assert (NOTE in result.stderr) == (policy == "drop")
        (directory / f"{policy}.txt").write_text(" ".join(result.stderr.split()))
        paths[policy] = model
    return paths


def forecast(model: Path, *more: str) -> tuple[pd.DataFrame, str]:
    result = invoke(["predict", "-m", str(model), *more])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout)), " ".join(result.stderr.split())


def test_train_says_where_the_series_starts(launch: dict[str, Path]) -> None:
    said = (launch["drop"].parent / "drop.txt").read_text()
    assert "the series' first 100 row(s) of 0 before 2008-05-01 are left out" in said
    assert "--leading-run keep" in said
    assert artifact_io.load(launch["drop"]).train_config.leading_run == "drop"
    assert artifact_io.load(launch["keep"]).train_config.leading_run == "keep"


def test_a_launch_is_forecast_from_its_own_level(launch: dict[str, Path]) -> None:
    """Kept, the zeros teach a step and the forecast climbs far beyond anything seen; left
    out, it stays near the 100 the product has sold since its launch."""
    started_at, _ = forecast(launch["drop"])
    assert started_at["sales"].between(80, 120).all()
    kept, _ = forecast(launch["keep"])
    assert kept["sales"].max() > 300


def test_predict_reads_the_data_it_is_given_as_training_did(launch: dict[str, Path]) -> None:
    stored, quiet = forecast(launch["drop"])
    given, said = forecast(launch["drop"], str(launch["data"]))
    assert NOTE not in quiet and NOTE in said
    assert np.allclose(given["sales"], stored["sales"], rtol=1e-4)
    _, kept = forecast(launch["keep"], str(launch["data"]))
    assert NOTE not in kept


def evaluated(model: Path, values: np.ndarray, tmp_path: Path) -> tuple[pd.DataFrame, str]:
    steps, stderr = evaluated_frame(model, frame(values), tmp_path)
    return steps, " ".join(stderr.split())


def test_evaluate_reads_the_history_as_training_did_and_scores_the_same_rows(
    launch: dict[str, Path], tmp_path: Path
) -> None:
    """The zeros before the launch are left out for the model and its baselines alike (the
    drift of seasonal naive with drift would read the step); the scored rows, their times
    and their actual values are those of the file."""
    values = launched(100, 48, seed=2)
    dropped, said = evaluated(launch["drop"], values, tmp_path)
    kept, quiet = evaluated(launch["keep"], values, tmp_path)
    assert said.count(NOTE) == 1 and NOTE not in quiet
    assert dropped["date"].equals(kept["date"]) and dropped["actual"].equals(kept["actual"])
    assert np.allclose(dropped["actual"], values[-18:], atol=1e-3)
    error = lambda f, c: float((f[c] - f["actual"]).abs().mean())  # noqa: E731
    assert error(dropped, "model") < error(kept, "model")


def test_evaluate_never_drops_a_scored_row(launch: dict[str, Path], tmp_path: Path) -> None:
    """A product launched after the origin: before it, zeros are all there is."""
    values = np.r_[np.zeros(140), launched(0, 10, seed=3)]
    scored, said = evaluated(launch["drop"], values, tmp_path)
    assert NOTE not in said and len(scored) == 18
    assert (scored["actual"] == 0).sum() == 8


def test_a_model_file_from_before_keeps_every_row(launch: dict[str, Path], tmp_path: Path) -> None:
    older = tmp_path / "older.fcst"
    damage = edit_metadata(lambda meta: meta["train_config"].pop("leading_run"))
    older.write_bytes(damage(launch["drop"].read_bytes()))
    assert artifact_io.load(older).train_config.leading_run == "keep"
    _, said = forecast(older, str(launch["data"]))
    assert NOTE not in said


def test_an_update_may_turn_it_on(launch: dict[str, Path], tmp_path: Path) -> None:
    """`train --from` a model that kept the zeros, with --leading-run drop: the update reads
    the data from the launch on (the rows it counts as new move with the start)."""
    more = launched(100, 60, seed=0)
    data = tmp_path / "more.csv"
    frame(more).to_csv(data, index=False)
    new = tmp_path / "new.fcst"
    result = invoke(["train", str(data), "--from", str(launch["keep"]), "-o", str(new),
                     "--leading-run", "drop", *LOUD])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert NOTE in " ".join(result.stderr.split())
    assert artifact_io.load(new).train_config.leading_run == "drop"
    updated, _ = forecast(new)
    assert np.isfinite(updated["sales"]).all() and len(updated) == 18


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """60 months near 100, 36 of 0 (a closure), 24 near 100 again; a model trained on all but
    the last 6 months, whose stored rows open inside the closure."""
    directory = tmp_path_factory.mktemp("paused")
    values = launched(0, 120, seed=5)
    values[60:96] = 0.0
    whole, first, last = (directory / f"{n}.csv" for n in ("whole", "first", "last"))
    frame(values).to_csv(whole, index=False)
    frame(values).head(114).to_csv(first, index=False)
    frame(values).tail(6).to_csv(last, index=False)
    model = directory / "model.fcst"
    result = invoke(["train", str(first), "-o", str(model), "--horizon", "6", *LOUD])
    assert result.exit_code == 0 and NOTE not in " ".join(result.stderr.split())
    stored = artifact_io.load(model).context[0, :, 0]
    assert stored[0] == 0.0 and stored[-1] != 0.0  # what a wrongly judged start would drop
    return {"whole": whole, "last": last, "model": model}


def test_rows_from_the_model_file_are_not_where_a_series_started(
    paused: dict[str, Path], tmp_path: Path
) -> None:
    """`evaluate` on the new rows alone puts the model's stored rows before them; those open
    inside the closure, not at the series' start, and are kept: the model forecasts from the
    context it forecasts from when given the whole file."""
    steps = {}
    for name in ("last", "whole"):
        steps[name] = tmp_path / f"{name}.csv"
        result = invoke(["evaluate", "-m", str(paused["model"]), str(paused[name]),
                         "--horizon", "6", "--forecasts", str(steps[name])])  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert NOTE not in " ".join(result.stderr.split())
    alone, whole = pd.read_csv(steps["last"]), pd.read_csv(steps["whole"])
    assert np.allclose(alone["model"], whole["model"], rtol=1e-5)


def test_an_update_that_continues_the_stored_rows_keeps_them(
    paused: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`train --from` with the new rows alone joins them to the rows OLD stored, which for a
    big panel are its last few hundred: here 24 before its context, all in the closure."""
    monkeypatch.setattr("forecaster.artifact.tensors.EARLIER_VALUES", 24)
    old, new = tmp_path / "old.fcst", tmp_path / "new.fcst"
    first = paused["whole"].parent / "first.csv"
    assert invoke(["train", str(first), "-o", str(old), "--horizon", "6", *FAST]).exit_code == 0
    stored = artifact_io.load(old)
    assert stored.earlier is not None and stored.earlier[0, -int(stored.earlier_real[0]), 0] == 0
    result = invoke(["train", str(paused["last"]), "--from", str(old), "-o", str(new),
                     "--val-fraction", "0", *LOUD])  # fmt: skip
    assert NOTE not in " ".join(result.stderr.split()), result.stderr


POLICIES = [("--leading-run", "leading_run", "trim"), ("--outliers", "outliers", "drop")]


@pytest.mark.parametrize(("flag", "key", "bad"), POLICIES)
def test_an_unknown_policy_is_refused(
    flag: str, key: str, bad: str, launch: dict[str, Path], tmp_path: Path
) -> None:
    """In one line, before any work: nothing written, the data untouched."""
    out = tmp_path / "never.fcst"
    before = launch["data"].read_bytes()
    result = invoke(["train", str(launch["data"]), "-o", str(out), flag, bad])
    assert result.exit_code == 2 and flag in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and launch["data"].read_bytes() == before


@pytest.mark.parametrize(("flag", "key", "bad"), POLICIES)
def test_a_model_file_naming_an_unknown_policy_is_refused(
    flag: str, key: str, bad: str, launch: dict[str, Path], tmp_path: Path
) -> None:
    edited = tmp_path / "edited.fcst"
    damage = edit_metadata(lambda meta: meta["train_config"].update({key: bad}))
    edited.write_bytes(damage(launch["drop"].read_bytes()))
    result = invoke(["predict", "-m", str(edited), str(launch["data"])])
    assert result.exit_code == 4 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and flag in lines[0] and result.stdout == ""


def test_a_panel_names_the_series_it_starts_later(tmp_path: Path) -> None:
    path = tmp_path / "panel.csv"
    parts = [frame(launched(z, 40, seed=z)).assign(unique_id=f"s{z}") for z in (0, 5, 30)]
    pd.concat(parts).to_csv(path, index=False)
    model = tmp_path / "panel.fcst"
    result = invoke(["train", str(path), "-o", str(model), "--horizon", "6", *LOUD])
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert f"2 series open with rows of 0 or of one value held, {PANEL_NOTE}" in said
    assert "'s5' (5 row(s) of 0 before 2000-06-01)" in said
    assert "'s30' (30 row(s) of 0 before 2002-07-01)" in said
    assert "'s0'" not in said


def test_the_line_names_the_start_as_the_input_spelled_its_dates(tmp_path: Path) -> None:
    days = pd.date_range("2020-01-01", periods=80, freq="D")
    values = np.r_[np.zeros(20), 10 + np.sin(np.arange(60) * 2 * np.pi / 7)]
    data = tmp_path / "us.csv"
    pd.DataFrame({"date": [f"{d.month}/{d.day}/{d.year % 100}" for d in days],
                  "y": values.round(3)}).to_csv(data, index=False)  # fmt: skip
    result = invoke(["train", str(data), "-o", str(tmp_path / "m.fcst"), "--horizon", "7", *LOUD])
    assert result.exit_code == 0, result.stderr
    assert "first 20 row(s) of 0 before 1/21/20 are left out" in " ".join(result.stderr.split())
