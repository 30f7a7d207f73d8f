"""The real-world suite's totals: MASE ratios per case, geometric means, wins, CPU seconds.

Apart from ``realworld.py`` so that the tests check the rules (above all how a case the tool
cannot run counts) without statsforecast or NeuralForecast.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

try:
    from realworld_cases import load_cases
except ImportError:  # imported as benchmarks.realworld_report (the tests)
    from benchmarks.realworld_cases import load_cases

TOOL = "forecaster"
FAILED_RATIO = 1.0
SHORT_FAILURE = re.compile(r"^(\w+) exited \d+: (forecaster: error: )?")


def effective_ratio(result: dict[str, Any], name: str) -> float | None:
    """A failed tool counts as 1.0, the better naive that the user falls back to (and, in
    ``summary``, as a loss to every peer)."""
    entry = result["methods"].get(name, {})
    if "ratio" in entry:
        return float(entry["ratio"])
    if name == TOOL and "failed" in entry:
        return FAILED_RATIO
    return None


def summary(results: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Per method: the geometric mean of its (effective) ratios over the cases it was run on,
    how many are below 1, how many cases it beats the tool on, and its CPU seconds of fitting."""
    out: dict[str, Any] = {}
    for name in names:
        ratios = [effective_ratio(r, name) for r in results]
        scored = [x for x in ratios if x is not None]
        wins = 0  # cases where this peer beats the tool (a failed tool loses every case)
        for r in results:
            mine, tool = effective_ratio(r, name), effective_ratio(r, TOOL)
            failed = "failed" in r["methods"].get(TOOL, {})
            if name != TOOL and mine is not None and (failed or (tool and mine < tool)):
                wins += 1
        cpu = sum(r["methods"].get(name, {}).get("fit_cpu_s", 0.0) for r in results)
        out[name] = {
            "geomean_ratio": round(math.exp(np.mean(np.log(scored))), 4) if scored else None,
            "cases": len(scored),
            "beats_best_naive": sum(x < 1.0 for x in scored),
            "wins_vs_tool": wins if name != TOOL else None,
            "fit_cpu_s": round(cpu, 1),
        }
    return out


def table(results: list[dict[str, Any]], names: list[str]) -> str:
    """Markdown: MASE ratio (fit CPU seconds) per case and method, then the totals."""
    lines = [
        "| case | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for r in results:
        cells = []
        for name in names:
            entry = r["methods"].get(name)
            if entry is None:
                cells.append("")
            elif "failed" in entry:
                reason = SHORT_FAILURE.sub(r"\1: ", entry["failed"])
                reason = reason[:77] + "..." if len(reason) > 80 else reason
                counted = effective_ratio(r, name)
                seen = ""
                if "ratio_by_position" in entry:
                    seen = f"; by position {entry['ratio_by_position']:.3f}"
                if "fit_cpu_s" in entry:
                    seen += f", {entry['fit_cpu_s']:.1f} s"
                shown = "not counted" if counted is None else f"counted {counted:.3f}"
                cells.append(f"failed ({shown}{seen}): {reason}")
            else:
                cells.append(f"{entry['ratio']:.3f} ({entry.get('fit_cpu_s', 0.0):.1f} s)")
        lines.append(f"| {r['case']} | " + " | ".join(cells) + " |")
    totals = summary(results, names)
    rows = {
        "geometric mean": lambda t: f"{t['geomean_ratio']:.3f}" if t["geomean_ratio"] else "",
        "cases scored": lambda t: str(t["cases"]),
        "below 1 (beats the best naive)": lambda t: str(t["beats_best_naive"]),
        "wins vs the tool": lambda t: "" if t["wins_vs_tool"] is None else str(t["wins_vs_tool"]),
        "fit CPU s, total": lambda t: f"{t['fit_cpu_s']:.1f}",
    }
    for label, cell in rows.items():
        lines.append(f"| **{label}** | " + " | ".join(cell(totals[n]) for n in names) + " |")
    return "\n".join(lines)


def merge(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cases of several runs (e.g. the peers of the big cases run apart), in the suite's order;
    a later file's method replaces an earlier one's."""
    cases: dict[str, dict[str, Any]] = {}
    for record in records:
        for result in record["cases"]:
            known = cases.setdefault(result["case"], {**result, "methods": {}})
            known["methods"].update(result["methods"])
    try:
        order = [c.name for c in load_cases()]
    except OSError:
        order = list(cases)
    rank = {name: i for i, name in enumerate(order)}
    return sorted(cases.values(), key=lambda r: rank.get(r["case"], len(rank)))
