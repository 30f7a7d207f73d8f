"""Identity: does a change of code leave what the tool computes exactly as it was?

A behaviour-preserving change (a redesign, a move of code) must give the same model files
to the bit and the same forecasts to the digit. This script runs the same commands with two
checkouts of the package, each as a fresh `python -m forecaster` process with PYTHONPATH
set to the checkout, and compares:

- every tensor of every model file, bit for bit (dtype, shape and bytes);
- the model file's JSON metadata, with the timings left out (keys named ``seconds`` or
  ending in ``_seconds``, the update's clock time, and the file name and checksum of the
  model it was updated from, which hold OLD's timings);
- the standard output of `predict` and `evaluate`, byte for byte.

Run by hand from the repository root (not in CI; a few CPU-minutes with ETTh1):

    git worktree add ../base <commit>               # the code before the change
    python benchmarks/identity.py --baseline ../base
    python benchmarks/identity.py --baseline ../base --quick     # sample data only

It prints one line per compared thing and exits 1 if anything differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "sample_data"
MEAT = SAMPLE / "us_meat_production_monthly_long.csv"

# (name, [argument lists]); "{data}" and "{tmp}" are filled in; a model is written as
# {tmp}/NAME.fcst by the first command of each case.
CASES: list[tuple[str, list[list[str]]]] = [
    ("meat", [
        ["train", str(MEAT), "--holdout", "18", "-o", "{tmp}/meat.fcst", "-q"],
        ["predict", "-m", "{tmp}/meat.fcst"],
        ["evaluate", "-m", "{tmp}/meat.fcst", str(MEAT), "--format", "json"],
        ["train", str(MEAT), "--from", "{tmp}/meat.fcst", "-o", "{tmp}/meat-update.fcst", "-q"],
        ["predict", "-m", "{tmp}/meat-update.fcst"],
    ]),
    ("co2", [
        ["train", str(SAMPLE / "mauna_loa_co2_monthly.csv"), "-o", "{tmp}/co2.fcst", "-q"],
        ["predict", "-m", "{tmp}/co2.fcst", "--level", "80", "--level", "95"],
    ]),
    ("weather", [
        ["train", str(SAMPLE / "seattle_weather_daily.csv"), "-o", "{tmp}/weather.fcst", "-q"],
        ["predict", "-m", "{tmp}/weather.fcst"],
        ["evaluate", "-m", "{tmp}/weather.fcst", str(SAMPLE / "seattle_weather_daily.csv"),
         "--format", "csv"],
    ]),
]  # fmt: skip
ETTH1 = (
    "etth1-h96",
    [
        ["train", str(SHARED / "ETTh1.csv"), "--target", "OT", "--horizon", "96",
         "--holdout", "2880", "-o", "{tmp}/etth1.fcst", "-q"],
        ["predict", "-m", "{tmp}/etth1.fcst"],
    ],
)  # fmt: skip
VOLATILE = {"updated_at", "sha256", "file", "updated_from"}


def run(code: Path, args: list[str], tmp: Path) -> bytes:
    env = dict(os.environ, PYTHONPATH=str(code), OMP_NUM_THREADS="1")
    filled = [a.replace("{tmp}", str(tmp)) for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "forecaster", *filled, "--threads", "1", "--seed", "0"]
        if args[0] == "train"
        else [sys.executable, "-m", "forecaster", *filled],
        env=env,
        capture_output=True,
        cwd=tmp,
    )
    if done.returncode != 0:
        raise SystemExit(f"{code}: forecaster {' '.join(filled)} failed:\n{done.stderr.decode()}")
    return done.stdout


def steady(value: Any) -> Any:
    """The metadata without its timings."""
    if isinstance(value, dict):
        return {
            k: steady(v)
            for k, v in value.items()
            if k not in VOLATILE and k != "seconds" and not k.endswith("_seconds")
        }
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


def model_parts(path: Path) -> tuple[dict[str, tuple[str, tuple[int, ...], bytes]], Any]:
    from safetensors import safe_open

    tensors = {}
    with safe_open(str(path), "np") as handle:
        meta = json.loads((handle.metadata() or {})["forecaster"])
        for name in handle.keys():  # noqa: SIM118 (safe_open is not iterable)
            array = handle.get_tensor(name)
            tensors[name] = (str(array.dtype), tuple(array.shape), array.tobytes())
    return tensors, steady(meta)


def first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}.{key}: only in {'after' if key not in a else 'before'}"
            found = first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return ""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return ""
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return "" if a == b or both_nan else f"{where}: {a!r} before, {b!r} after"


def compare_case(name: str, commands: list[list[str]], before: Path, after: Path) -> bool:
    same = True
    with tempfile.TemporaryDirectory() as t1, tempfile.TemporaryDirectory() as t2:
        dirs = {before: Path(t1), after: Path(t2)}
        for args in commands:
            outputs = [run(code, args, dirs[code]) for code in (before, after)]
            label = f"{name}: {args[0]}"
            if args[0] == "train":
                out = next(a for a in args if a.startswith("{tmp}/") and a.endswith(".fcst")
                           and args[args.index(a) - 1] == "-o")  # fmt: skip
                file = out.removeprefix("{tmp}/")
                t_before, m_before = model_parts(dirs[before] / file)
                t_after, m_after = model_parts(dirs[after] / file)
                differing = sorted(
                    n for n in set(t_before) | set(t_after) if t_before.get(n) != t_after.get(n)
                )
                meta = first_difference(m_before, m_after)
                ok = not differing and not meta
                detail = (
                    f"{len(t_before)} tensors identical, metadata identical"
                    if ok
                    else f"tensors differing: {differing[:5]}; metadata: {meta or 'identical'}"
                )
                print(f"{'same' if ok else 'DIFFERENT':9} {label} {file}: {detail}")
            else:
                ok = outputs[0] == outputs[1]
                lines = outputs[0].count(b"\n")
                print(f"{'same' if ok else 'DIFFERENT':9} {label}: {lines} lines of output")
            same &= ok
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="checkout before the change")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout after (default: this)")
    parser.add_argument("--quick", action="store_true", help="sample data only (no ETTh1)")
    args = parser.parse_args()
    cases = list(CASES)
    if not args.quick:
        if not (SHARED / "ETTh1.csv").exists():
            raise SystemExit(f"ETTh1 not found at {SHARED}: run with --quick")
        cases.append(ETTH1)
    before, after = args.baseline.resolve(), args.code.resolve()
    results = [compare_case(name, commands, before, after) for name, commands in cases]
    print("identical" if all(results) else "DIFFERENT: see above")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
