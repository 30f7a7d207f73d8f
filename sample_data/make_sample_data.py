#!/usr/bin/env python3
"""Rebuild the CSV files in sample_data/ from the data files shipped inside
three PyPI packages (statsmodels, plotnine, vega-datasets).

Nothing is installed and nothing is fetched from the internet: the script
reads the CSV files straight out of the downloaded package archives
(wheels are zip files; .tar.gz sdists work too).

Usage (from the repository root):

    pip download --no-deps -d /tmp/pkgs statsmodels==0.15.0 plotnine==0.15.9 vega-datasets==0.9.0
    .venv/bin/python sample_data/make_sample_data.py \
        --statsmodels /tmp/pkgs/statsmodels-0.15.0-*.whl \
        --plotnine /tmp/pkgs/plotnine-0.15.9-py3-none-any.whl \
        --vega-datasets /tmp/pkgs/vega_datasets-0.9.0-py3-none-any.whl

Output goes to the directory holding this script unless --out is given.
Only pandas and the standard library are needed.  See README.md (same
directory) for what every transformation does and why.
"""

from __future__ import annotations

import argparse
import io
import tarfile
import zipfile
from pathlib import Path

import pandas as pd

# Member paths inside the package archives (matched as path suffixes, so the
# same code works for wheels and for sdists, which add a top-level folder).
CO2_MEMBER = "statsmodels/datasets/co2/co2.csv"
MEAT_MEMBER = "plotnine/data/meat.csv"
SEATTLE_MEMBER = "vega_datasets/_data/seattle-weather.csv"

# Selection for the long file (see README.md).
MEAT_SERIES = ["beef", "veal", "pork", "lamb_and_mutton", "broilers", "turkey"]
MEAT_START = "1990-01-01"
MEAT_END = "2023-12-01"

SEATTLE_COLUMNS = ["temp_max", "temp_min", "precipitation", "wind"]


def read_member(archive: Path, suffix: str) -> bytes:
    """Return the bytes of the one archive member whose path ends in `suffix`."""
    archive = Path(archive)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.endswith(suffix)]
            if len(names) != 1:
                raise SystemExit(f"{archive}: expected one member *{suffix}, found {names}")
            return zf.read(names[0])
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = [m for m in tf.getmembers() if m.name.endswith(suffix)]
            if len(members) != 1:
                raise SystemExit(
                    f"{archive}: expected one member *{suffix}, found {[m.name for m in members]}"
                )
            fh = tf.extractfile(members[0])
            assert fh is not None
            return fh.read()
    raise SystemExit(f"{archive}: not a zip (wheel) or tar archive")


def check_regular(dates: pd.Series, freq: str, label: str) -> None:
    """Fail loudly unless `dates` is sorted, unique and exactly one row per period."""
    dates = pd.DatetimeIndex(dates)
    expected = pd.date_range(dates.min(), dates.max(), freq=freq)
    if (
        not dates.is_monotonic_increasing
        or dates.has_duplicates
        or len(dates) != len(expected)
        or not (dates == expected).all()
    ):
        raise SystemExit(f"{label}: dates are not a regular {freq} range")


def build_meat_long(plotnine_archive: Path) -> pd.DataFrame:
    """USDA ERS monthly US meat production -> long format unique_id,ds,y."""
    raw = pd.read_csv(io.BytesIO(read_member(plotnine_archive, MEAT_MEMBER)))
    raw["date"] = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    sel = raw[(raw["date"] >= MEAT_START) & (raw["date"] <= MEAT_END)]
    long = sel.melt(id_vars="date", value_vars=MEAT_SERIES, var_name="unique_id", value_name="y")
    long = long.rename(columns={"date": "ds"})
    if long["y"].isna().any():
        raise SystemExit("meat: unexpected missing values in the selected window")
    long = long.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    for uid, grp in long.groupby("unique_id"):
        check_regular(grp["ds"], "MS", f"meat/{uid}")
    long["ds"] = long["ds"].dt.strftime("%Y-%m-%d")
    return long[["unique_id", "ds", "y"]]


def build_co2_monthly(statsmodels_archive: Path) -> pd.DataFrame:
    """Mauna Loa weekly CO2 (statsmodels) -> calendar-month means."""
    raw = pd.read_csv(io.BytesIO(read_member(statsmodels_archive, CO2_MEMBER)), dtype={"date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    check_regular(raw["date"], "W-SAT", "co2 weekly")
    # Mean of the non-missing weekly values whose week-ending Saturday falls in
    # the month; a month with no valid week stays empty (NaN -> empty cell).
    monthly = raw.set_index("date")["co2"].resample("MS").mean().round(3)
    out = monthly.rename("co2_ppm").reset_index().rename(columns={"date": "month"})
    check_regular(out["month"], "MS", "co2 monthly")
    out["month"] = out["month"].dt.strftime("%Y-%m-%d")
    return out


def build_seattle_daily(vega_archive: Path) -> pd.DataFrame:
    """NOAA daily Seattle weather (vega-datasets) -> numeric columns, ISO dates."""
    raw = pd.read_csv(io.BytesIO(read_member(vega_archive, SEATTLE_MEMBER)))
    raw["date"] = pd.to_datetime(raw["date"], format="%Y/%m/%d")
    raw = raw.sort_values("date", kind="stable").reset_index(drop=True)
    check_regular(raw["date"], "D", "seattle daily")
    out = raw[["date", *SEATTLE_COLUMNS]].copy()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    return out


def main(argv: list[str] | None = None) -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--statsmodels", type=Path, required=True, help="statsmodels wheel or sdist")
    ap.add_argument("--plotnine", type=Path, required=True, help="plotnine wheel or sdist")
    ap.add_argument(
        "--vega-datasets", type=Path, required=True, help="vega-datasets wheel or sdist"
    )
    ap.add_argument("--out", type=Path, default=here, help=f"output directory (default: {here})")
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    outputs = {
        "us_meat_production_monthly_long.csv": build_meat_long(args.plotnine),
        "mauna_loa_co2_monthly.csv": build_co2_monthly(args.statsmodels),
        "seattle_weather_daily.csv": build_seattle_daily(args.vega_datasets),
    }
    for name, df in outputs.items():
        path = args.out / name
        df.to_csv(path, index=False, lineterminator="\n")
        print(f"wrote {path}  rows={len(df)} cols={list(df.columns)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
