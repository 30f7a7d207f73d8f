"""The package as pip builds it: a wheel must carry every subpackage, not only the top one."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_holds_every_module_of_the_source_tree(tmp_path: Path) -> None:
    # From a copy without the editable install's egg-info: its file list would fill the
    # wheel's gaps here and hide a package list that leaves out forecaster.cli and .data.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "forecaster", source / "forecaster",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = tmp_path / "wheel"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(built), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"pip could not build a wheel here: {done.stderr.strip()[-200:]}")
    (wheel,) = built.glob("forecaster-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(source).as_posix() for p in (source / "forecaster").rglob("*.py")}
    assert modules - names == set()
    import forecaster

    assert wheel.name.startswith(f"forecaster-{forecaster.__version__}-")
