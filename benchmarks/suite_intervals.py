"""How the tool's 80% and 95% intervals cover on a suite in the real-world protocol.

Per single series of a suite directory (``cases.json`` and CSV files, as in
``shared/data/realworld`` or what ``second_suite.py`` writes): train once on the rows before the
first of 5 origins, then ``predict --level 80 --level 95`` from each origin with the history up
to it, and compare the bounds with the rows that follow (matched by position: the suite's
scoring by timestamp is ``realworld.py``'s job). Reported per series and over the suite:
coverage (the share of actuals inside), and the interval score (Gneiting and Raftery 2007:
width + 2 / alpha x the miss, averaged over steps and origins) over the point forecast's MAE
on the same origins, geometric mean over series: the proper score, so an interval that covers
more than asked by being wide does not look better than one at its level.

Only the intervals differ between two runs of the same code with different calibration (the
point forecasts are the same to the bit), so two ``--code`` copies compare directly:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/suite_intervals.py --data DIR --code COPY
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realworld_cases import DATA_DIR, N_ORIGINS, actuals, cut, load, load_cases

LEVELS = (80, 95)


def run_case(case, data: Path, code: Path, python: str, work: Path) -> dict:  # type: ignore[no-untyped-def]
    env = dict(os.environ, PYTHONPATH=str(code), PYTHONWARNINGS="ignore")
    tool = [python, "-P", "-m", "forecaster"]
    loaded = load(case, data)
    loaded.raw[cut(loaded, 0)].to_csv(work / "train.csv", index=False)
    model = work / "m.fcst"
    subprocess.run(
        [
            *tool,
            "train",
            str(work / "train.csv"),
            "--time",
            case.time,
            "--target",
            case.target,
            "--horizon",
            str(case.horizon),
            "-o",
            str(model),
            "-q",
        ],
        env=env,
        check=True,
    )
    described = json.loads(
        subprocess.run(
            [*tool, "info", str(model), "--format", "json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    if not described.get("intervals"):  # too short for a validation window: points only
        return {"source": "none"}
    source = described["intervals"].get("source", "")
    covered: dict[int, list[float]] = {level: [] for level in LEVELS}
    score: dict[int, list[float]] = {level: [] for level in LEVELS}
    errors = []
    for k in range(N_ORIGINS):
        loaded.raw[cut(loaded, k)].to_csv(work / "history.csv", index=False)
        levels = [arg for level in LEVELS for arg in ("--level", str(level))]
        out = subprocess.run(
            [*tool, "predict", "-m", str(model), str(work / "history.csv"), *levels],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        frame = pd.read_csv(io.StringIO(out.stdout))
        y = actuals(loaded, k)["y"].to_numpy(dtype=float)
        point = frame[case.target].to_numpy(dtype=float)
        errors.append(np.abs(y - point).mean())
        for level in LEVELS:
            low = frame[f"{case.target}-lo-{level}"].to_numpy(dtype=float)
            high = frame[f"{case.target}-hi-{level}"].to_numpy(dtype=float)
            alpha = 1 - level / 100
            covered[level].append(float(((y >= low) & (y <= high)).mean()))
            miss = np.maximum(low - y, 0) + np.maximum(y - high, 0)
            score[level].append(float(np.mean(high - low + 2 / alpha * miss)))
    mae = max(float(np.mean(errors)), 1e-12)  # an exact forecast: scores stay finite
    return {
        "source": source,
        **{f"coverage_{level}": float(np.mean(covered[level])) for level in LEVELS},
        **{f"score_{level}": float(np.mean(score[level])) / mae for level in LEVELS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument(
        "--pooled-only",
        action="store_true",
        help="summarise only the series whose intervals were pooled",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {}
    for case in load_cases(args.data):
        if case.id:  # panels: their intervals come from validation windows enough
            continue
        with tempfile.TemporaryDirectory() as work:
            results[case.name] = run_case(
                case, args.data, args.code.resolve(), args.python, Path(work)
            )
        r = results[case.name]
        if r["source"] == "none":
            print(f"{case.name:<34} no intervals (too short for a validation window)")
            continue
        print(
            f"{case.name:<34} {r['coverage_80']:6.1%} {r['coverage_95']:6.1%} "
            f"{r['score_80']:6.2f} {r['score_95']:6.2f}  {r['source']}",
            flush=True,
        )
    chosen = {
        name: r
        for name, r in results.items()
        if r["source"] != "none"
        and (not args.pooled_only or r["source"].startswith("training origins"))
    }
    if chosen:
        cov = [np.mean([r[f"coverage_{level}"] for r in chosen.values()]) for level in LEVELS]
        geo = [
            np.exp(np.mean([np.log(r[f"score_{level}"]) for r in chosen.values()]))
            for level in LEVELS
        ]
        print(
            f"{'mean over ' + str(len(chosen)) + ' series':<34} {cov[0]:6.1%} {cov[1]:6.1%} "
            f"{geo[0]:6.2f} {geo[1]:6.2f}  (coverage 80/95, interval score / MAE 80/95)"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
