"""Series that never went below zero keep their forecasts and bounds >= 0.

Yearly lynx trappings once got a 95% lower bound of -535. Unless trained with
--allow-negative, a series whose history is >= 0 is forecast >= 0, bounds included.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster import artifact as artifact_io
from tests.conftest import FAST, invoke, long_frame
from tests.test_model_tamper import put, tamper


def counts(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Yearly-like counts: bursts every 10 rows, near zero between them."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    level = np.maximum(0.0, 400 * np.sin(2 * np.pi * t / 10)) ** 1.5 / 40
    y = rng.poisson(level + 1.0).astype(float)
    return pd.DataFrame({"date": pd.date_range("1900-01-01", periods=n, freq="YS"), "value": y})


def bounds_frame(model: Path, *more: str) -> tuple[pd.DataFrame, str]:
    result = invoke(["predict", "-m", str(model), "--level", "80", "--level", "95", *more])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout)), result.stderr


def test_counts_keep_forecasts_and_bounds_at_or_above_zero(tmp_path: Path) -> None:
    """A history that never went below 0 gives no forecast or bound below 0, in predict
    and in evaluate's forecasts; --allow-negative (flag or config key) lets them go."""
    data = tmp_path / "counts.csv"
    counts().to_csv(data, index=False)
    clipped, free = tmp_path / "clipped.fcst", tmp_path / "free.fcst"
    base = ["train", str(data), "--horizon", "6", *FAST]
    assert invoke([*base, "-o", str(clipped)]).exit_code == 0
    frame, _ = bounds_frame(clipped)
    numbers = frame.drop(columns="date")
    assert (numbers.to_numpy() >= 0).all()
    assert (frame["value-lo-95"] == 0).any()  # there was something to clip
    assert invoke([*base, "-o", str(free), "--allow-negative"]).exit_code == 0
    loose, _ = bounds_frame(free)
    assert (loose["value-lo-95"] < 0).any()
    steps = tmp_path / "steps.csv"
    scored = invoke(["evaluate", "-m", str(clipped), str(data), "--windows", "3",
                     "--forecasts", str(steps), "-q"])  # fmt: skip
    assert scored.exit_code == 0, scored.stderr
    rows = pd.read_csv(steps)
    assert (rows[[c for c in rows if c.startswith("model")]].to_numpy() >= 0).all()
    assert (
        "1 of 1 series never below 0: forecasts and bounds kept >= 0"
        in invoke(["info", str(clipped)]).stdout
    )
    described = json.loads(invoke(["info", str(free), "--format", "json"]).stdout)
    assert described["nonnegative"] == {
        "series": 1, "of": 1, "allow_negative": True, "clipped": False
    }  # fmt: skip
    config = tmp_path / "free.toml"
    config.write_text("allow-negative = true\n")
    from_file = tmp_path / "from_file.fcst"
    assert invoke([*base, "-o", str(from_file), "--config", str(config)]).exit_code == 0
    assert artifact_io.load(from_file).train_config.allow_negative is True
    assert bounds_frame(from_file)[0].equals(loose)


def test_a_series_that_went_negative_is_not_clipped(tmp_path: Path) -> None:
    """Per series: in a panel, only the series whose history stayed >= 0 are held; DATA
    that goes negative is not forced up even for a series that was >= 0 in training."""
    frame = long_frame((160, 160))
    frame.loc[frame["unique_id"] == "s1", "y"] -= frame["y"].max() + 1  # all below 0
    data = tmp_path / "panel.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST]).exit_code == 0
    assert artifact_io.load(model).nonnegative.tolist() == [[True], [False]]  # type: ignore[union-attr]
    out, _ = bounds_frame(model)
    assert (out[out["unique_id"] == "s1"]["y"] < 0).all()
    shifted = frame.copy()
    shifted.loc[shifted["unique_id"] == "s0", "y"] -= 100.0  # s0 now below 0 in DATA
    given = tmp_path / "given.csv"
    shifted.to_csv(given, index=False)
    result = invoke(["predict", "-m", str(model), str(given)])
    assert result.exit_code == 0, result.stderr
    forecast = pd.read_csv(io.StringIO(result.stdout))
    assert (forecast[forecast["unique_id"] == "s0"]["y"] < 0).all()


def test_an_edited_nonnegative_record_is_refused(tmp_path: Path) -> None:
    data, model = tmp_path / "counts.csv", tmp_path / "m.fcst"
    counts().to_csv(data, index=False)
    assert invoke(["train", str(data), "-o", str(model), "--horizon", "6", *FAST]).exit_code == 0
    bad = tmp_path / "bad.fcst"
    bad.write_bytes(tamper(model.read_bytes(), "new", meta=put("nonnegative", [[1]])))
    result = invoke(["predict", "-m", str(bad)])
    assert result.exit_code == 4
    assert "model metadata nonnegative is" in result.stderr
