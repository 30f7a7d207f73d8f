"""Shared fixtures: small real-shaped CSVs made on the fly and fast training options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from forecaster.cli import app

ROOT = Path(__file__).resolve().parents[1]
# Tiny networks gain nothing from several threads, and oversubscribed cores slow them badly.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)
# Small and quick: enough to exercise every stage, not to forecast well. One network, not
# the default ensemble of three (tests that need an ensemble ask for one).
FAST = ["--epochs", "2", "--hidden", "8", "--batch-size", "32", "--ensemble", "1", "--quiet"]


def seasonal_frame(
    n: int = 300, freq: str = "D", period: int = 7, noise: float = 0.3, seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / period) + 0.01 * t + noise * rng.standard_normal(n)
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq=freq), "value": y})


def long_frame(lengths: tuple[int, ...] = (200, 160, 120), seed: int = 0) -> pd.DataFrame:
    parts = []
    for k, n in enumerate(lengths):
        part = seasonal_frame(n, seed=seed + k).rename(columns={"date": "ds", "value": "y"})
        part["y"] = part["y"] * (k + 1) + 5 * k
        part.insert(0, "unique_id", f"s{k}")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def seasonal_csv(tmp_path: Path) -> Path:
    path = tmp_path / "seasonal.csv"
    seasonal_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def long_csv(tmp_path: Path) -> Path:
    path = tmp_path / "long.csv"
    long_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model trained once per session on a weekly-seasonal daily series."""
    directory = tmp_path_factory.mktemp("model")
    data = directory / "seasonal.csv"
    seasonal_frame().to_csv(data, index=False)
    model = directory / "model.fcst"
    result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *FAST])
    assert result.exit_code == 0, result.stderr
    return model


def invoke(args: list[str], input: str | bytes | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, input=input)


def evaluated_frame(
    model: Path, frame: pd.DataFrame, tmp_path: Path, horizon: int = 18
) -> tuple[pd.DataFrame, str]:
    """`evaluate --horizon H` (one window: its origin is row len - H) of ``frame`` written as
    a CSV: every scored step (its --forecasts file), and stderr."""
    data, steps = tmp_path / "later.csv", tmp_path / "steps.csv"
    frame.to_csv(data, index=False)
    result = invoke(["evaluate", "-m", str(model), str(data), "--horizon", str(horizon),
                     "--forecasts", str(steps), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(steps), result.stderr


def run_forecaster(
    args: list[str], input: bytes | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """The real command in a subprocess (as `python -m forecaster`, this checkout's code)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "forecaster", *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def modules_imported_by(*commands: list[str]) -> list[str]:
    """The modules a fresh interpreter holds after running these CLI commands (each must
    succeed): what a command costs at start-up is what it imports."""
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from forecaster.cli import app\n"
        "runner = CliRunner()\n"
        f"for args in {[list(c) for c in commands]!r}:\n"
        "    result = runner.invoke(app, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every matplotlib figure saved while the test runs, kept with its artists."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    saved: list[Any] = []
    original = Figure.savefig

    def keep(self: Any, *args: Any, **kwargs: Any) -> Any:
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return saved
