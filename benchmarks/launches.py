"""Real series with zeros written in front of them, as a sales table pivoted from the day a
catalogue began writes a product's months before its launch: a suite for `realworld.py`.

For each single monthly, quarterly or weekly series of a real-world suite (its
``cases.json``), this writes the series as it is and with 1, 24 and 100 rows of 0 before
its first row, on its own grid, with ISO dates (the same dates for the series' own rows), and
a ``cases.json`` naming them ``NAME`` and ``NAME_zerosZ``. It writes a recent launch the same
way (``NAME_recent``, ``NAME_recent_zerosZ``): the series' last rows only, those its 5 origins
score and two seasons or two horizons (the more) before them, as a product two or three years
on sale. The horizon and season are the
case's; so are the 5 origins, which count from the end. Running `realworld.py` on the result
scores the tool and the peers on every copy by the suite's protocol: the ratio to the better
naive, on the same origins, makes the padded copies comparable with the series as it is
(the zeros change the MASE scale, not the ratio).

    .venv/bin/python benchmarks/launches.py --out /tmp/launches \\
        --data ../shared/data/realworld SECOND-SUITE-DIR  # as second_suite.py wrote it
    OMP_NUM_THREADS=1 ../bench-venv/bin/python benchmarks/realworld.py --data /tmp/launches \\
        --code . --python .venv/bin/python --peers SeasonalNaive AutoETS MSTL \\
        --out /tmp/launches/after.json

and again with ``--code`` a checkout of the code before, ``--no-tool`` left off, to compare.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from realworld_cases import DATA_DIR, N_ORIGINS, load, load_cases

ZEROS = (1, 24, 100)
REGULAR = {"MS": "monthly", "QS-OCT": "quarterly", "QS-JAN": "quarterly", "W-MON": "weekly"}


def padded_copies(data_dirs: list[Path], out: Path, zeros: tuple[int, ...]) -> list[dict]:
    """Write every single regular series of ``data_dirs`` to ``out`` as it is and padded
    with each count of ``zeros``; the new cases, in order."""
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for data_dir in data_dirs:
        raw = json.loads((data_dir / "cases.json").read_text())
        for entry, case in zip(raw, load_cases(data_dir), strict=True):
            if case.id:
                continue
            frame = load(case, data_dir).frame
            dates = pd.DatetimeIndex(frame["ds"])
            with pd.option_context("future.infer_freq_returns_offset", True):
                offset = pd.infer_freq(dates)
            freq = offset.freqstr if offset is not None else None
            if freq not in REGULAR:
                continue
            # A recent launch: the rows the 5 origins score and `launched_rows` before them.
            recent = max(2 * case.season, 2 * case.horizon) + N_ORIGINS * case.horizon
            for kind, rows in (("", len(dates)), ("_recent", min(recent, len(dates)))):
                own, values = dates[-rows:], frame["y"].to_numpy()[-rows:]
                for count in (0, *zeros):
                    before = pd.date_range(end=own[0], periods=count + 1, freq=freq)[:-1]
                    series = pd.DataFrame({
                        "date": [*before.strftime("%Y-%m-%d"), *own.strftime("%Y-%m-%d")],
                        "y": [0.0] * count + values.tolist(),
                    })  # fmt: skip
                    name = case.name + kind + (f"_zeros{count}" if count else "")
                    series.to_csv(out / f"{name}.csv", index=False)
                    note = f"the last {rows} rows, {count} zero row(s) in front"
                    cases.append({**entry, "file": f"{name}.csv", "time": "date", "target": "y",
                                  "rows": len(series), "note": note})  # fmt: skip
    (out / "cases.json").write_text(json.dumps(cases, indent=1))
    return cases


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--data",
        type=Path,
        nargs="*",
        default=[DATA_DIR],
        help="suites (directories with cases.json); add the one second_suite.py writes",
    )
    parser.add_argument("--zeros", type=int, nargs="*", default=list(ZEROS))
    args = parser.parse_args(argv)
    cases = padded_copies([d for d in args.data if d.exists()], args.out, tuple(args.zeros))
    for case in cases:
        print(f"{case['file']:40} {case['rows']:6} rows, horizon {case['horizon']}")


if __name__ == "__main__":
    main()
