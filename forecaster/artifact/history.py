"""The model file's record of its training: the epochs' history, the summary, the library
versions, and the models a `train --from` update came from (`warmstart`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forecaster.artifact import fields
from forecaster.artifact.part import Part, Reading
from forecaster.artifact.record import versions

if TYPE_CHECKING:
    from forecaster.artifact.record import Artifact


class History(Part):
    keys = ("history", "summary", "versions")

    def write(self, artifact: Artifact) -> dict[str, Any]:
        return {
            "history": artifact.history,
            "summary": artifact.summary,
            "versions": artifact.versions or versions(),
        }

    def read(self, file: Reading) -> None:
        history = file.meta["history"]
        if not isinstance(history, list):
            raise fields.bad("history", history, "a list of objects")
        for entry in history:
            if not isinstance(entry, dict):
                raise fields.bad("history", entry, "a list of objects")
        summary, stored = file.meta["summary"], file.meta["versions"]
        if not isinstance(summary, dict):
            raise fields.bad("summary", summary, "an object")
        if not isinstance(stored, dict):
            raise fields.bad("versions", stored, "an object of strings")
        for value in stored.values():
            if not isinstance(value, str):
                raise fields.bad("versions", value, "an object of strings")
        file.found.update(history=history, summary=summary, versions=stored)


_COUNTS = ("rows_added", "series_added", "series_dropped")
_TEXTS = ("file", "sha256", "updated_at")


class Lineage(Part):
    """The updates a model came from (`warmstart.Lineage`), oldest first; written only
    for updated models."""

    keys = optional = ("lineage",)

    def write(self, artifact: Artifact) -> dict[str, Any]:
        return {"lineage": artifact.lineage} if artifact.lineage else {}

    def read(self, file: Reading) -> None:
        value = file.meta.get("lineage")
        if value is None:
            file.found["lineage"] = []
            return
        if not isinstance(value, list):
            raise fields.bad("lineage", value, "a list of objects")
        for entry in value:
            found = fields.keys("lineage", entry, (*_TEXTS, *_COUNTS))
            for key in _TEXTS:
                if not isinstance(found[key], str):
                    raise fields.bad(f"lineage.{key}", found[key], "a string")
            for key in _COUNTS:
                count = found[key]
                if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                    raise fields.bad(f"lineage.{key}", count, "a count (an integer >= 0)")
        file.found["lineage"] = value
