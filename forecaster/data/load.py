"""A data file to a `Panel` in one call: `load_panel` for training, `load_panel_like` for
data that must match a trained model (predict, evaluate, ``train --from``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from forecaster.data.build import build_panel
from forecaster.data.columns import ID_NAMES, detect_schema
from forecaster.data.panel import Panel, Schema
from forecaster.data.read import name_of, read_table
from forecaster.errors import DataError


def load_panel(
    source: str | Path,
    time: str | None = None,
    targets: Sequence[str] = (),
    id: str | None = None,
    freq: str | None = None,
    fill: str = "interpolate",
    date_order: str | None = None,
    past: Sequence[str] = (),
    future: Sequence[str] = (),
    static: Sequence[str] = (),
    calendar: str = "auto",
    holidays: Sequence[str] = (),
    duplicates: str = "error",
) -> Panel:
    """Read and regularise in one call: what `forecaster train DATA` does first.

    ``calendar`` "auto" derives calendar features when any covariate or holiday country is
    given: a model of the targets alone stays as it was (see `calendar_rule`).
    """
    text = [id] if id is not None else list(ID_NAMES)
    frame = read_table(source, text_columns=[*text, *static])
    schema = detect_schema(frame, time=time, targets=targets, id=id, past=past, future=future,
                           static=static)  # fmt: skip
    schema = dataclasses.replace(schema, date_order=date_order)
    rule = calendar_rule(calendar, bool(past or future or static or holidays))
    return build_panel(frame, schema, freq=freq, fill=fill, source=name_of(source),
                       calendar=rule, holidays=holidays, duplicates=duplicates)  # fmt: skip


def calendar_rule(calendar: str, covariates: bool) -> str:
    """ "on" or "none": "auto" is on exactly when the model has other covariates. A model of
    the targets alone keeps its accuracy and speed (benchmarks/README.md, "Covariates")."""
    if calendar == "auto":
        return "on" if covariates else "none"
    return calendar


def load_panel_like(
    source: str | Path,
    schema: Schema,
    freq: str,
    fill: str = "interpolate",
    keep_future: bool = False,
    duplicates: str = "error",
) -> Panel:
    """Read data that must match a trained model's columns, frequency, date order and zone."""
    text = [schema.id] if schema.id is not None else []
    frame = read_table(source, text_columns=[*text, *schema.static])
    columns = [schema.time, *schema.targets, *schema.past, *schema.future, *schema.static]
    missing = [c for c in columns if c not in frame.columns]
    if schema.id is not None and schema.id not in frame.columns:
        missing.append(schema.id)
    if missing:
        raise DataError(
            f"{name_of(source)} lacks the model's column(s) {', '.join(map(repr, missing))}; "
            f"the model was trained on time={schema.time!r}, targets={schema.targets!r}"
            + (f", id={schema.id!r}" if schema.id else "")
        )
    return build_panel(frame, schema, fill=fill, source=name_of(source), expected_freq=freq,
                       like_model=True, keep_future=keep_future,
                       duplicates=duplicates)  # fmt: skip
