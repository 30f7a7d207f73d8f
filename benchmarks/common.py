"""What the speed benchmarks share: the machine's description, tables, JSON lines.

Imports nothing heavy (no torch, no pandas), so that `startup.py` measures the tool alone.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def git_commit() -> str:
    """Short commit of the checkout, with ``-dirty`` when tracked files have changed."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine(threads: int | None = None, device: str = "cpu") -> dict[str, Any]:
    """Where the numbers come from; the load average shows how busy the machine was."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": threads,
        "device": device,
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "pandas": package_version("pandas"),
        "pyarrow": package_version("pyarrow"),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "commit": git_commit(),
    }


def describe(info: dict[str, Any]) -> str:
    threads = f", {info['threads']} threads" if info.get("threads") else ""
    return (
        f"{info['cores']}-core {info['cpu']}{threads}, device {info['device']}, "
        f"torch {info['torch']}, pandas {info['pandas']}, pyarrow {info['pyarrow']}, "
        f"python {info['python']}, commit {info['commit']}, load average {info['loadavg']}"
    )


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain pipe table (Markdown) on stdout, columns padded to line up."""
    text = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(header))]
    print(f"\n{title}")
    for k, row in enumerate(text):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
