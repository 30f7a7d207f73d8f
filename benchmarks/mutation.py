"""A small mutation pass: does the test suite notice when one line of the CLI, the
forecasting or the metrics code is wrong?

Each mutant is one exact text substitution in a copy of the project (never in the working
tree). The copy's tests run with ``pytest -x`` against the copy's code (PYTHONPATH points at
it, so subprocess tests use it too); a mutant is *killed* when a test fails, and *survives*
when all pass. Survivors are either a gap in the tests or an equivalent change; the table
says which the reason column claims, and benchmarks/README.md keeps the last run.

Run by hand (minutes: every survivor costs a run of the selected tests):

    .venv/bin/python benchmarks/mutation.py            # every mutant
    .venv/bin/python benchmarks/mutation.py -k stride season  # names containing either
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Files whose tests exercise the mutated code; the slow training tests add nothing here.
# The first three check outputs against a second route (seconds each): a mutant they kill
# stops there under -x instead of after the whole list.
TESTS = [
    "tests/test_forecast_steps.py",
    "tests/test_drawn_data.py",
    "tests/test_parquet_ids.py",
    "tests/test_metrics.py",
    "tests/test_trust.py",
    "tests/test_interface.py",
    "tests/test_cli.py",
    "tests/test_inference.py",
    "tests/test_bad_data.py",
    "tests/test_properties.py",
    "tests/test_output_safety.py",
    "tests/test_docs.py",
    "tests/test_faults.py",
    "tests/test_intervals.py",
]


@dataclass
class Mutant:
    name: str
    path: str
    old: str
    new: str
    note: str = ""  # why a survivor may be left (an equivalent change), if known


MUTANTS = [
    # report.py (what evaluate computes)
    Mutant("evaluate ignores --windows", "forecaster/report.py",
           "backtest(artifact, panel, horizon, windows, stride, probabilities, filled=True)",
           "backtest(artifact, panel, horizon, 1, stride, probabilities, filled=True)"),
    Mutant("evaluate ignores --stride", "forecaster/report.py",
           "backtest(artifact, panel, horizon, windows, stride, probabilities, filled=True)",
           "backtest(artifact, panel, horizon, windows, None, probabilities, filled=True)"),
    Mutant("evaluate ignores --season", "forecaster/report.py",
           "period = season or season_length(artifact.freq, artifact.schema.session)",
           "period = season_length(artifact.freq, artifact.schema.session)"),
    Mutant("evaluate and predict ignore the training fill", "forecaster/cli/options.py",
           "policy = fill.value if fill else artifact.train_config.fill",
           'policy = fill.value if fill else "interpolate"'),
    Mutant("evaluate drops the (all) rows", "forecaster/report.py",
           "if n_targets > 1:", "if n_targets > 99:"),
    Mutant("evaluate drops the MAPE-skips note", "forecaster/cli/evaluate.py",
           "if skipped and not quiet:", "if False:"),
    Mutant("evaluate ignores --per-series", "forecaster/report.py",
           "labels = [panel.ids[s] for s in result.series] if per_series else None",
           "labels = None"),
    Mutant("evaluate --forecasts omits the baselines", "forecaster/report.py",
           "return backtest_frame(evaluation.artifact, evaluation.panel, result, baselines)",
           "return backtest_frame(evaluation.artifact, evaluation.panel, result, {})"),
    Mutant("evaluate lets --forecasts overwrite -o", "forecaster/cli/evaluate.py",
           "if output is not None and files.same_file(output, forecasts):", "if False:"),
    # cli/predict.py, cli/train.py
    Mutant("predict -o may name the model", "forecaster/cli/predict.py",
           '[("the model file", model), ("DATA", data), ("--future", future)]',
           '[("DATA", data), ("--future", future)]'),
    Mutant("train ignores --holdout", "forecaster/ranks.py",
           "panel = data.drop_last(panel, holdout)", "panel = data.drop_last(panel, 0)"),
    Mutant("train saves an interrupted run", "forecaster/cli/train.py",
           "check_interrupted()  # never save", "pass  # never save"),
    # forecast.py and the modules it reads: inputs.py, backtest.py, frames.py
    Mutant("new series scaled with the scored actuals", "forecaster/inputs.py",
           "row_statistics(panel.history(int(series[k]), int(origins[k])))",
           "row_statistics(panel.series(int(series[k])))"),
    Mutant("no warning for series not seen in training", "forecaster/inputs.py",
           "    if new and warn:\n        log.warning(", "    if False:\n        log.warning("),
    Mutant("required rows: the longer of season and LSTM window", "forecaster/inputs.py",
           "        min(\n            season_length(artifact.freq, artifact.schema.session),",
           "        max(\n            season_length(artifact.freq, artifact.schema.session),"),
    Mutant("short history accepted one row early", "forecaster/forecast.py",
           "panel.lengths < needed)", "panel.lengths < needed - 1)"),
    Mutant("no short-context warning", "forecaster/inputs.py",
           "short = origins < lookback", "short = origins < 0"),
    Mutant("backtest keeps windows with too little history", "forecaster/backtest.py",
           "return candidates, candidates >= max(needed, 1)", "return candidates, candidates >= 1"),
    Mutant("backtest actuals one step late", "forecaster/data/panel.py",
           "+ origins)[:, None] + np.arange(horizon)",
           "+ origins)[:, None] + np.arange(horizon) + 1"),
    Mutant("forecast timestamps start at the last observed one", "forecaster/frames.py",
           "np.tile(np.arange(1, horizon + 1), len(ids))", "np.tile(np.arange(horizon), len(ids))"),
    Mutant("forecast times lose the zone", "forecaster/frames.py",
           "if schema.zone is None:\n        return naive", "if True:\n        return naive"),
    Mutant("--horizon above the trained one accepted", "forecaster/inputs.py",
           "if not 1 <= horizon <= trained:", "if not 1 <= horizon:"),
    Mutant("no in-training-range warning", "forecaster/backtest.py",
           "    if seen:\n        log.warning(", "    if False:\n        log.warning("),
    Mutant("in-training-range check misses the last step", "forecaster/backtest.py",
           '<= np.repeat(limit, horizon)).sum())', '< np.repeat(limit, horizon)).sum())'),
    # metrics.py
    Mutant("sMAPE on a 0-100 scale", "forecaster/metrics.py",
           "200 * absolute, denominator", "100 * absolute, denominator"),
    Mutant("MASE scaled by lag 1 always", "forecaster/metrics.py",
           "lag = season if len(h) > season else 1", "lag = 1"),
    Mutant("seasonal naive shifted by one", "forecaster/metrics.py",
           "last_cycle[np.arange(horizon) % season]",
           "last_cycle[(np.arange(horizon) + 1) % season]"),
    Mutant("naive repeats the first value", "forecaster/metrics.py",
           "np.repeat(h[-1:], horizon, axis=0) for h in history",
           "np.repeat(h[:1], horizon, axis=0) for h in history"),
    Mutant("units averaged across targets", "forecaster/metrics.py",
           "if m in SCALE_FREE else None", "if m else None"),
    Mutant("MASE divides by a zero scale", "forecaster/metrics.py",
           "usable = scale > 0\n    mase", "usable = scale >= 0\n    mase"),
    Mutant("RMSE computed as the error's spread", "forecaster/metrics.py",
           '"rmse": float(np.sqrt(np.mean(error**2)))', '"rmse": float(np.std(error))'),
    Mutant("MAPE skips not counted", "forecaster/metrics.py",
           "mape_skipped=int((~nonzero).sum())", "mape_skipped=0"),
    Mutant("MASE of signed errors", "forecaster/metrics.py",
           "absolute[usable].mean(axis=1)", "error[usable].mean(axis=1)"),
    Mutant("per-series scores on every row", "forecaster/metrics.py",
           "by_method = scores_of(order[edges[k] : edges[k + 1]])",
           "by_method = scores_of(slice(None))"),
    # prediction intervals: intervals.py, uncertainty.py, metrics.py, calibration.py
    Mutant("intervals lose the conformal correction", "forecaster/intervals.py",
           "total = w.sum() + 1.0", "total = w.sum()"),
    Mutant("intervals ignore the series' difficulty", "forecaster/intervals.py",
           "normaliser = spread + spread_weight * (window_factor * scale)[:, None, :]",
           "normaliser = spread + spread_weight * scale[:, None, :]"),
    Mutant("intervals need not hold the forecast", "forecaster/uncertainty.py",
           "return hold_forecast(bounds, forecasts, probabilities)", "return bounds"),
    Mutant("a new series gets the first series' difficulty", "forecaster/uncertainty.py",
           "intervals.new_series_factor[None, :],", "intervals.difficulty[0][None, :],"),
    Mutant("calibration windows all weigh the same", "forecaster/calibration.py",
           "recency_weights(series, origins, split.n_val)", "np.ones(len(series))"),
    Mutant("baseline intervals do not widen with the horizon", "forecaster/metrics.py",
           "grow = np.sqrt((steps - 1) // used + 1) if used > 1 else np.sqrt(steps)",
           "grow = np.ones(horizon)"),
    Mutant("MSIS penalises misses half as much", "forecaster/metrics.py",
           "terms = (hi - lo + 2 / alpha * (below + above)).mean(axis=1)",
           "terms = (hi - lo + 1 / alpha * (below + above)).mean(axis=1)"),
    Mutant("pinball loss with the quantile's sign flipped", "forecaster/metrics.py",
           "loss = np.maximum(q * miss, (q - 1) * miss)",
           "loss = np.maximum((1 - q) * miss, -q * miss)"),
    # steps, pictures and gates checked on their data: tests/test_forecast_steps.py,
    # test_drawn_data.py, test_parquet_ids.py
    Mutant("a shorter horizon reads the last quantile rows", "forecaster/intervals.py",
           "self.quantiles[:horizon]", "self.quantiles[-horizon:]"),
    Mutant("forecast steps' calendar one step early", "forecaster/inputs.py",
           "np.tile(np.arange(1, horizon + 1), count)", "np.tile(np.arange(horizon), count)"),
    Mutant("inspect's forget column is 1 - f", "forecaster/gates.py",
           "**{name: trace.values[name].reshape(-1) for name in GATES}",
           '**{name: trace.values[name].reshape(-1) for name in GATES}, '
           '"forget": 1 - trace.values["forget"].reshape(-1)'),
    Mutant("info's forget figure from the input gate", "forecaster/gates.py",
           'forget[k].append(gates["forget"]', 'forget[k].append(gates["input"]'),
    Mutant("every plot panel draws the first series' forecast", "forecaster/plot.py",
           "frame.iloc[s * horizon : (s + 1) * horizon]", "frame.iloc[:horizon]"),
    Mutant("plot axis in UTC, not the data's clock", "forecaster/plot.py",
           "times.tz_localize(None) if times.tz", "times.tz_convert(None) if times.tz"),
    Mutant("a missing Parquet id becomes the previous id", "forecaster/data/parquet.py",
           "pd.factorize(values)", "pd.factorize(values.ffill())"),
    Mutant("an empty Parquet id is a series", "forecaster/data/parquet.py",
           "str(u) or None for u in uniques", "str(u) for u in uniques"),
]  # fmt: skip


def copy_project(target: Path) -> None:
    """The working tree as it is (uncommitted changes included), without the venv."""
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.fcst", ".*_cache")
    for name in ("forecaster", "tests", "benchmarks", "sample_data"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "Makefile"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, target / name)


def run_tests(copy: Path) -> tuple[bool, str, float]:
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=copy, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    return proc.returncode == 0, (failed[0][7:] if failed else ""), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-k", nargs="*", default=[""], help="only mutants whose name contains one of these"
    )
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if any(k.lower() in m.name.lower() for k in args.k)]
    with tempfile.TemporaryDirectory(prefix="forecaster-mutants-") as tmp:
        copy = Path(tmp)
        copy_project(copy)
        ok, why, seconds = run_tests(copy)
        if not ok:
            sys.exit(f"the unmutated copy fails its tests ({why}); fix that first")
        print(f"unmutated: {len(TESTS)} test files pass in {seconds:.0f} s", flush=True)
        survivors = 0
        print(f"{'mutant':<55} {'file':<28} {'result':<8} {'s':>5}  killed by")
        for mutant in chosen:
            source = copy / mutant.path
            original = source.read_text()
            if original.count(mutant.old) != 1:
                sys.exit(f"{mutant.name}: the text to mutate is not found once in {mutant.path}")
            source.write_text(original.replace(mutant.old, mutant.new))
            try:
                ok, why, seconds = run_tests(copy)
            finally:
                source.write_text(original)
            survivors += ok
            result = "SURVIVED" if ok else "killed"
            print(f"{mutant.name:<55} {mutant.path[11:]:<28} {result:<8} {seconds:5.0f}  "
                  f"{mutant.note if ok else why}", flush=True)  # fmt: skip
        print(f"{len(chosen) - survivors} of {len(chosen)} mutants killed, {survivors} survived")


if __name__ == "__main__":
    main()
