"""Options shared by several commands, defined once, with help text from the defaults' source.

Defaults printed in ``--help`` come from `TrainConfig`'s fields, so the text cannot drift
from the behaviour; every default is written the same way, ``[default: X]``. Values owned by
modules that import pandas or torch are quoted instead, and tests/test_help.py holds the
text to them: importing those modules here would make every command slow to start.

Two helpers read the options the same way for every command: `config_flags` (train's flags
as config values, by field name) and `read_history` (DATA read as the model's own data,
--fill and --duplicates defaulting to the model's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from forecaster.config import TrainConfig

DEFAULTS = TrainConfig()

DATA = "Data"
MODEL = "Model"
TRAINING = "Training"
OUTPUT = "Output"
COVARIATES = "Covariates"


def default(value: object) -> str:
    """The help suffix for a default that Typer cannot show itself (the option is None)."""
    return f" \\[default: {value}]"  # escaped: rich would take [default: ...] for markup


def config_flags(arguments: dict[str, Any], **convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The arguments named after a `TrainConfig` field, as that field's value (``None``: not
    given), in the fields' order; ``convert`` turns a flag's text into its field's type.

    A flag that is off, an empty list and an unset option all leave the field to the config
    file or the default; a choice becomes its name.
    """
    values: dict[str, Any] = {}
    for name in (f.name for f in dataclasses.fields(TrainConfig)):
        if name not in arguments:
            continue
        value = arguments[name]
        if value is None or value is False or value == []:
            values[name] = None
        elif name in convert:
            values[name] = convert[name](value)
        else:
            values[name] = value.value if isinstance(value, Enum) else value
    return values


def read_history(
    data: str | None, artifact: Any, fill: Fill | None, duplicates: Duplicates | None, **kw: Any
) -> Any:
    """DATA read as the model's training data was (``None`` without DATA): its columns and
    frequency, and --fill and --duplicates unless given."""
    if data is None:
        return None
    from forecaster.data import load_panel_like

    policy = fill.value if fill else artifact.train_config.fill
    repeats = duplicates.value if duplicates else artifact.train_config.duplicates
    return load_panel_like(data, artifact.schema, artifact.freq, policy, duplicates=repeats, **kw)


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


class Duplicates(StrEnum):
    auto = "auto"
    error = "error"
    mean = "mean"
    first = "first"
    last = "last"


class Outliers(StrEnum):
    fill = "fill"
    keep = "keep"


class LeadingRun(StrEnum):
    drop = "drop"
    keep = "keep"


class CalendarRule(StrEnum):
    auto = "auto"
    on = "on"
    none = "none"


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
HistoryArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="DATA",
        help="Recent history (CSV or Parquet), or - for standard input. \\[default: the history "
        "stored in the model]",
        show_default=False,
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
DuplicatesOption = Annotated[
    Duplicates | None,
    typer.Option(
        "--duplicates",
        help="Rows of one series that repeat a timestamp: refuse them (error) or merge them "
        "into one (their mean, or the first or last in the file); auto: their mean when "
        "they are few, else refuse them." + default("what the model was trained with"),
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


def _levels(values: list[float] | None) -> list[float] | None:
    for value in values or []:
        if not 0 < value < 100:
            raise typer.BadParameter(
                f"{value:g} is not a level: give a percentage between 0 and 100, such as 80 or 95"
            )
    return sorted(set(values)) if values else values


def _quantiles(values: list[float] | None) -> list[float] | None:
    for value in values or []:
        if not 0 < value < 1:
            raise typer.BadParameter(
                f"{value:g} is not a quantile: give a probability between 0 and 1, such as 0.9"
            )
    return sorted(set(values)) if values else values


LevelOption = Annotated[
    list[float] | None,
    typer.Option(
        "--level",
        metavar="PCT",
        callback=_levels,
        help="Add the central prediction interval that holds PCT% of outcomes, as columns "
        "<target>-lo-PCT and <target>-hi-PCT (repeatable: --level 80 --level 95).",
        rich_help_panel=OUTPUT,
    ),
]
ScoredLevelOption = Annotated[
    list[float] | None,
    typer.Option(
        "--level",
        metavar="PCT",
        callback=_levels,
        help="Score the central prediction interval that should hold PCT% of outcomes "
        "(repeatable)." + default("80 and 95"),
        rich_help_panel=OUTPUT,
    ),
]
ShownLevelOption = Annotated[
    list[float] | None,
    typer.Option(
        "--level",
        metavar="PCT",
        callback=_levels,
        help="Shade the central prediction interval that should hold PCT% of outcomes "
        "(repeatable)." + default("80 and 95"),
        rich_help_panel=OUTPUT,
    ),
]
QuantileOption = Annotated[
    list[float] | None,
    typer.Option(
        "--quantile",
        metavar="Q",
        callback=_quantiles,
        help="Add the forecast's Q quantile (0 < Q < 1), as column <target>-q-Q (repeatable).",
        rich_help_panel=OUTPUT,
    ),
]
