"""The real-world suite's cases, origins and scores, without the peers' packages.

`realworld.py` runs the tool and the peers; this module holds what must not depend on them (only
pandas and numpy), so that the tests can check that every case loads, that the awkward time columns
are read the same way for every method, and that the scoring follows the suite's protocol
(``shared/data/realworld/README.md`` beside the repository).

Timestamps are put in one canonical form, naive UTC ``Timestamp`` (or plain integers for years
before 1677 that pandas cannot hold), so that a forecast is matched to the actual row by its
timestamp whatever the spelling of the file (``Jan 1980``, ``Q1 1965``, ``1956Q1``, ``1939 Jan``,
``...Z``) or of the tool's output (ISO dates, ``+00:00``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# In a clone and in CI, shared/ lies beside the repository.
DATA_DIR = ROOT.parent / "shared" / "data" / "realworld"
N_ORIGINS = 5
ID = "unique_id"

# Spellings pandas reads wrongly or not at all; each becomes a period start.
_QUARTER_FIRST = re.compile(r"^Q([1-4]) (\d{4})$")  # Q1 1965
_YEAR_QUARTER = re.compile(r"^(\d{4}) ?Q([1-4])$")  # 1956Q1
_MONTH_YEAR = re.compile(r"^[A-Z][a-z]{2} \d{4}$")  # Jan 1980
_YEAR_MONTH = re.compile(r"^\d{4} [A-Z][a-z]{2}$")  # 1939 Jan
_YEAR_WEEK = re.compile(r"^\d{4} W\d{2}$")  # 1991 W06 (R's tsibble)


@dataclass(frozen=True)
class Case:
    file: str
    time: str
    target: str
    horizon: int
    season: int
    rows: int
    id: str | None = None
    note: str = ""

    @property
    def name(self) -> str:
        return self.file.removesuffix(".csv")


def load_cases(data_dir: Path = DATA_DIR) -> list[Case]:
    fields = set(Case.__dataclass_fields__)
    raw = json.loads((data_dir / "cases.json").read_text())
    return [Case(**{k: v for k, v in entry.items() if k in fields}) for entry in raw]


def parse_time(values: pd.Series) -> pd.Series:
    """One canonical timestamp per value: naive UTC, or the integer itself for integer years."""
    if pd.api.types.is_integer_dtype(values):
        return values.astype("int64")
    if pd.api.types.is_float_dtype(values):  # R's decimal years of months (1991.58333)
        years = np.floor(values + 1e-6)
        months = np.round((values - years) * 12).astype(int)
        text = [f"{int(y)}-{m + 1:02d}-01" for y, m in zip(years, months, strict=True)]
        return pd.Series(pd.to_datetime(text), index=values.index)
    text = values.astype(str).str.strip()
    sample = text.iloc[0] if len(text) else ""
    if _QUARTER_FIRST.match(sample):
        periods = text.str.replace(_QUARTER_FIRST, r"\2Q\1", regex=True)
        return pd.Series(pd.PeriodIndex(periods, freq="Q").to_timestamp(), index=values.index)
    if _YEAR_QUARTER.match(sample):
        periods = text.str.replace(_YEAR_QUARTER, r"\1Q\2", regex=True)
        return pd.Series(pd.PeriodIndex(periods, freq="Q").to_timestamp(), index=values.index)
    if _MONTH_YEAR.match(sample):
        return pd.to_datetime(text, format="%b %Y")
    if _YEAR_MONTH.match(sample):
        return pd.to_datetime(text, format="%Y %b")
    if _YEAR_WEEK.match(sample):  # R's tsibble weeks, "1991 W06": the week's Monday
        return pd.to_datetime(text + " 1", format="%G W%V %u")
    # Naive values are taken as UTC, offsets converted to it: ...Z and +00:00 meet.
    return pd.to_datetime(text, utc=True, format="ISO8601").dt.tz_localize(None)


@dataclass
class Loaded:
    """A case's rows: ``raw`` as the file gives them (for the tool), ``frame`` canonical (for
    the peers and the scores), both in the same order, each series contiguous and sorted."""

    case: Case
    raw: pd.DataFrame
    frame: pd.DataFrame  # unique_id, ds (canonical), step (row within its series), y

    def series(self) -> Iterator[tuple[str, pd.DataFrame]]:
        yield from self.frame.groupby(ID, sort=False)


def load(case: Case, data_dir: Path = DATA_DIR, nrows: int | None = None) -> Loaded:
    raw = pd.read_csv(data_dir / case.file, nrows=nrows)
    for column in (case.time, case.target) + ((case.id,) if case.id else ()):
        if column not in raw.columns:
            raise ValueError(f"{case.file}: no column {column!r}")
    ids = raw[case.id].astype(str) if case.id else pd.Series("series", index=raw.index)
    frame = pd.DataFrame(
        {ID: ids, "ds": parse_time(raw[case.time]), "y": raw[case.target].astype(float)}
    )
    order = frame.sort_values([ID, "ds"], kind="stable").index
    # Keep the file's order of series (stable): the first appearance of each id.
    first = {k: i for i, k in enumerate(dict.fromkeys(ids))}
    order = sorted(order, key=lambda i: first[ids[i]])
    raw, frame = raw.loc[order].reset_index(drop=True), frame.loc[order].reset_index(drop=True)
    # Empty cells (a few days of clemson's, all in training) are interpolated for the peers and
    # the naive baselines, as the tool's default --fill does; the tool reads the raw file.
    frame["y"] = frame.groupby(ID, sort=False)["y"].transform(
        lambda y: y.interpolate(limit_direction="both")
    )
    frame["step"] = frame.groupby(ID, sort=False).cumcount()
    return Loaded(case, raw, frame)


def origins(length: int, horizon: int, n: int = N_ORIGINS) -> list[int]:
    """Rows of history before each origin: the last ``n`` horizons of the series."""
    first = length - n * horizon
    if first <= horizon:
        raise ValueError(f"a series of {length} rows is too short for {n} origins of {horizon}")
    return [first + k * horizon for k in range(n)]


def cut(loaded: Loaded, k: int) -> pd.Series:
    """A mask of each series' rows before its origin ``k`` (0 = the first, the training cut)."""
    h = loaded.case.horizon
    lengths = loaded.frame.groupby(ID, sort=False)["step"].transform("size")
    return loaded.frame["step"] < lengths - (N_ORIGINS - k) * h


def actuals(loaded: Loaded, k: int) -> pd.DataFrame:
    """The rows that follow origin ``k``: the next horizon rows of each series."""
    h = loaded.case.horizon
    lengths = loaded.frame.groupby(ID, sort=False)["step"].transform("size")
    start = lengths - (N_ORIGINS - k) * h
    rows = (loaded.frame["step"] >= start) & (loaded.frame["step"] < start + h)
    return loaded.frame.loc[rows, [ID, "ds", "step", "y"]]


def scale(y: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal difference (MASE's denominator); falls back to lag 1 when
    the seasonal difference is all zero or the series is shorter than two seasons."""
    for lag in (season, 1):
        if len(y) > lag:
            value = float(np.mean(np.abs(y[lag:] - y[:-lag])))
            if value > 0:
                return value
    return 1.0


def naive_forecasts(history: np.ndarray, horizon: int, season: int) -> dict[str, np.ndarray]:
    last_season = history[-season:] if len(history) >= season else history[-1:]
    reps = -(-horizon // len(last_season))
    return {
        "naive": np.repeat(history[-1], horizon),
        "seasonal_naive": np.tile(last_season, reps)[:horizon],
    }


class TimestampMismatch(ValueError):
    """A forecast whose timestamps are not the actual rows'; ``extra`` carries what was
    measured before it was found (the tool's CPU seconds, its score by position)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.extra: dict[str, float] = {}


def align(forecast: pd.DataFrame, truth: pd.DataFrame, column: str) -> np.ndarray:
    """The forecast's values at the actual rows' timestamps, series by series.

    A missing timestamp or an extra one is an error (the protocol), never a silent zero."""
    merged = truth.merge(
        forecast[[ID, "ds", column]], on=[ID, "ds"], how="outer", indicator=True, sort=False
    )
    missing = int((merged["_merge"] == "left_only").sum())
    extra = int((merged["_merge"] == "right_only").sum())
    if missing or extra:
        example = merged.loc[merged["_merge"] != "both", "ds"].iloc[0]
        raise TimestampMismatch(
            f"forecast timestamps do not match the actual rows: {missing} missing, {extra} extra "
            f"(e.g. {example})"
        )
    both = truth.merge(forecast[[ID, "ds", column]], on=[ID, "ds"], how="left", sort=False)
    return both[column].to_numpy(float)


def mase(loaded: Loaded, forecasts: list[np.ndarray]) -> float:
    """MASE over all origins, each series scaled by its training part; the panel's is the mean
    over series. ``forecasts[k]`` is aligned with ``actuals(loaded, k)``."""
    season = loaded.case.season
    train = loaded.frame[cut(loaded, 0)]
    scales = {key: scale(g["y"].to_numpy(), season) for key, g in train.groupby(ID, sort=False)}
    errors: dict[str, list[np.ndarray]] = {key: [] for key in scales}
    for k, values in enumerate(forecasts):
        truth = actuals(loaded, k)
        err = np.abs(truth["y"].to_numpy() - np.asarray(values, float))
        for key, idx in truth.groupby(ID, sort=False).indices.items():
            errors[key].append(err[idx] / scales[key])
    per_series = [float(np.mean(np.concatenate(e))) for e in errors.values()]
    return float(np.mean(per_series))


def baseline_forecasts(loaded: Loaded) -> dict[str, list[np.ndarray]]:
    """Naive and seasonal naive from every origin, in ``actuals`` order."""
    out: dict[str, list[np.ndarray]] = {"naive": [], "seasonal_naive": []}
    h, season = loaded.case.horizon, loaded.case.season
    for k in range(N_ORIGINS):
        hist = loaded.frame[cut(loaded, k)]
        per: dict[str, list[np.ndarray]] = {"naive": [], "seasonal_naive": []}
        for _, g in hist.groupby(ID, sort=False):
            for name, values in naive_forecasts(g["y"].to_numpy(), h, season).items():
                per[name].append(values)
        for name in out:
            out[name].append(np.concatenate(per[name]))
    return out
