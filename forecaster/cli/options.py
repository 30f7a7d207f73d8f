"""Options shared by several commands, defined once, with help text from the defaults' source.

Defaults printed in ``--help`` come from `TrainConfig`'s fields, so the text cannot drift
from the behaviour; every default is written the same way, ``[default: X]``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from forecaster.config import TrainConfig

DEFAULTS = TrainConfig()

DATA = "Data"
MODEL = "Model"
TRAINING = "Training"
OUTPUT = "Output"


def default(value: object) -> str:
    """The help suffix for a default that Typer cannot show itself (the option is None)."""
    return f" \\[default: {value}]"  # escaped: rich would take [default: ...] for markup


class TableFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


class SummaryFormat(StrEnum):
    text = "text"
    json = "json"


class MetricsFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Fill(StrEnum):
    interpolate = "interpolate"
    ffill = "ffill"
    error = "error"


class Loss(StrEnum):
    mae = "mae"
    mse = "mse"
    huber = "huber"


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Precision(StrEnum):
    fp32 = "fp32"
    bf16 = "bf16"


ModelPath = Annotated[
    Path,
    typer.Option("--model", "-m", metavar="FILE", help="Model file written by `forecaster train`."),
]
OutputPath = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE (atomically) instead of standard output.",
        rich_help_panel=OUTPUT,
    ),
]
HorizonOption = Annotated[
    int | None,
    typer.Option(
        "--horizon",
        min=1,
        metavar="N",
        help="Steps to forecast, at most the trained horizon." + default("the trained horizon"),
        rich_help_panel=MODEL,
    ),
]
FillOption = Annotated[
    Fill | None,
    typer.Option(
        "--fill",
        help="How to fill gaps and empty cells in DATA."
        + default("the fill the model was trained with"),
        rich_help_panel=DATA,
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", metavar="", help="No progress and no warnings.", rich_help_panel=OUTPUT
    ),
]
DecimalsOption = Annotated[
    int | None,
    typer.Option(
        "--decimals",
        min=0,
        max=15,
        metavar="N",
        help="Digits after the decimal point in the output." + default("6 significant digits"),
        rich_help_panel=OUTPUT,
    ),
]
