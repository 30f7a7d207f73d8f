"""The model file's schema: the column roles, how timestamps are read, and the session.

Read in three steps (`layout`): the columns first, the time form once the frequency is
known, and the covariate roles and the session (which needs the frequency as well) last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from forecaster.artifact import fields
from forecaster.artifact.part import Part, Reading
from forecaster.data import Schema
from forecaster.data.forms import known_form
from forecaster.data.layouts import known_layout
from forecaster.data.times import DATE_ORDERS, zone_object
from forecaster.errors import UsageError

if TYPE_CHECKING:
    from forecaster.artifact.record import Artifact

_COLUMN_KEYS = ("time", "targets", "id", "date_order", "zone", "utc_grid")
# Written since covariates, time forms (years, quarters, ...) and sessions exist; older
# files lack them (and have none).
_ROLE_KEYS = ("past", "future", "static", "categories", "calendar")
_LATER_KEYS = (*_ROLE_KEYS, "time_form", "session", "time_layout")


class SchemaPart(Part):
    keys = ("schema",)

    def write(self, artifact: Artifact) -> dict[str, Any]:
        schema = artifact.schema
        return {
            "schema": {
                "time": schema.time,
                "targets": schema.targets,
                "id": schema.id,
                "date_order": schema.date_order,
                "zone": schema.zone,
                "utc_grid": schema.utc_grid,
                "time_form": schema.time_form,
                "past": schema.past,
                "future": schema.future,
                "static": schema.static,
                "categories": schema.categories,
                "calendar": schema.calendar,
                # Written only for data with a session: other models' files stay as they were.
                **({} if schema.session is None else {"session": schema.session.to_dict()}),
                # Likewise only where the input spelled its timestamps its own way.
                **({} if schema.time_layout is None else {"time_layout": schema.time_layout}),
            }
        }

    def read_columns(self, file: Reading) -> None:
        """The time, id and target columns, and the date order and zone."""
        value = file.meta["schema"]
        values = fields.keys("schema", value, fields.present(
            value, [*_COLUMN_KEYS, *_LATER_KEYS], _LATER_KEYS))  # fmt: skip
        if not isinstance(values["time"], str):
            raise fields.bad("schema.time", values["time"], "a string")
        if values["id"] is not None and not isinstance(values["id"], str):
            raise fields.bad("schema.id", values["id"], "a string or null")
        file.pending["schema"] = values
        file.pending["zone"] = _zone(values)
        channels = file.config.n_targets
        file.pending["targets"] = fields.strings("schema.targets", values["targets"], channels)

    def read_time_form(self, file: Reading) -> None:
        time_form = file.pending["schema"].get("time_form")
        freq = file.found["freq"]
        if not known_form(time_form, freq):
            raise fields.bad("schema.time_form", time_form, "null, or a form forecaster "
                             f"writes that fits freq {freq!r}")  # fmt: skip
        layout = file.pending["schema"].get("time_layout")
        if layout is not None and (time_form is not None or not known_layout(layout)):
            raise fields.bad("schema.time_layout", layout, "absent, or a timestamp layout "
                             "forecaster writes (for a column without a time form)")  # fmt: skip

    def read_roles(self, file: Reading) -> None:
        """The covariate roles and the session: then the whole `Schema`."""
        values = file.pending["schema"]
        file.found["schema"] = Schema(
            time=values["time"],
            targets=file.pending["targets"],
            id=values["id"],
            date_order=values["date_order"],
            zone=file.pending["zone"],
            utc_grid=values["utc_grid"],
            time_form=values.get("time_form"),
            time_layout=values.get("time_layout"),
            **_covariate_roles(values),
            session=_session(values.get("session"), file.found["freq"]),
        )


def _zone(schema: dict[str, Any]) -> str | None:
    """The schema's date order, zone and grid basis: known values that fit together."""
    order, zone, utc_grid = schema["date_order"], schema["zone"], schema["utc_grid"]
    if order is not None and order not in DATE_ORDERS:
        raise fields.bad("schema.date_order", order, f"null or one of {', '.join(DATE_ORDERS)}")
    if not isinstance(utc_grid, bool):
        raise fields.bad("schema.utc_grid", utc_grid, "true or false")
    if zone is None:
        if utc_grid:
            raise fields.bad("schema.utc_grid", utc_grid, "false for timestamps without a zone")
        return None
    expected = "null, an offset such as '-08:00', or an IANA time zone name"
    if not isinstance(zone, str):
        raise fields.bad("schema.zone", zone, expected)
    try:
        zone_object(zone)
    except UsageError:
        raise fields.bad("schema.zone", zone, expected) from None
    return zone


def _covariate_roles(values: dict[str, Any]) -> dict[str, Any]:
    """The schema's covariate roles: lists of column names, categories per static text
    column, and calendar features this version can compute."""
    from forecaster.data.calendar import calendar_values

    roles = {name: fields.strings(f"schema.{name}", values.get(name, [])) for name in
             ("past", "future", "static", "calendar")}  # fmt: skip
    categories = values.get("categories", {})
    if not isinstance(categories, dict) or not all(
        column in roles["static"] and isinstance(items, list) and items
        and all(isinstance(v, str) for v in items)
        for column, items in categories.items()
    ):  # fmt: skip
        raise fields.bad(
            "schema.categories", categories, "lists of text categories of static columns"
        )
    try:
        calendar_values(pd.DatetimeIndex(["2000-01-01"]), "D", roles["calendar"])
    except Exception:  # an unknown feature or holiday country: not what forecaster writes
        raise fields.bad(
            "schema.calendar", roles["calendar"], "calendar features forecaster derives"
        ) from None
    return {**roles, "categories": categories}


def _session(value: Any, freq: str) -> Any:
    """The stored session (`data.sessions`), on a grid of the model's frequency."""
    if value is None:
        return None
    from forecaster.data.panel import fixed_step_ns
    from forecaster.data.sessions import Session

    step = fixed_step_ns(freq)
    if step is None and freq == "B":  # trading days: one slot a day
        step = 86_400_000_000_000
    try:
        return Session.from_dict(value, step)
    except (ValueError, TypeError, AttributeError):
        raise fields.bad(
            "schema.session", value, "weekdays 0-6 and 'HH:MM:SS-HH:MM:SS' ranges a step apart"
        ) from None
