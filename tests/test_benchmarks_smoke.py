"""The speed benchmarks still run: their --quick modes print a table and write JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# A cell each script's table must print.
TABLE_CELL = {"throughput": "| ours/bare ", "startup": "| forecaster --help "}


@pytest.mark.slow  # ~10 s on an idle 2-core machine: three fresh interpreters import torch
def test_throughput_and_startup_quick(tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    outs = {name: tmp_path / f"{name}.jsonl" for name in ("throughput", "startup")}
    # Both at once: each is mostly interpreter start-up and imports, one core apiece.
    processes = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--quick"]
            + (["--threads", "1"] if name == "throughput" else [])
            + ["--out", str(out)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, out in outs.items()
    }
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        assert TABLE_CELL[name] in stdout, stdout
        assert "machine: " in stdout
        records = [json.loads(line) for line in outs[name].read_text().splitlines()]
        assert records and all(r["benchmark"] == name for r in records)
        assert records[0]["machine"]["torch"]
    throughput = json.loads(outs["throughput"].read_text().splitlines()[0])
    assert throughput["ratio_ours_bare"] > 0 and throughput["cli_windows_per_s"] > 0
    # The same windows in the same order from the same seed: the same loss.
    assert throughput["loss_difference"] < 1e-5
    startup = json.loads(outs["startup"].read_text().splitlines()[0])
    assert startup["medians"]["forecaster --help"] > 0


def test_every_mutant_finds_its_text_once() -> None:
    """benchmarks/mutation.py mutates code by replacing a text; a move or rename of that code
    would stop the pass at the first mutant that no longer finds it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import mutation
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    for mutant in mutation.MUTANTS:
        source = (ROOT / mutant.path).read_text()
        assert source.count(mutant.old) == 1, f"{mutant.name}: {mutant.path}"
