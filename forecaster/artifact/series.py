"""The model file's series: their ids and frequency, each one's scaler, and where each
one's data and training targets end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forecaster.artifact import fields
from forecaster.artifact.part import Part, Reading
from forecaster.artifact.safe import EDITED
from forecaster.errors import ModelFileError
from forecaster.windows import Scaler

if TYPE_CHECKING:
    from forecaster.artifact.record import Artifact


class Series(Part):
    keys = ("freq", "ids", "scaler", "series_end", "train_end")

    def write(self, artifact: Artifact) -> dict[str, Any]:
        return {
            "freq": artifact.freq,
            "ids": artifact.ids,
            "scaler": artifact.scaler.to_dict(),
            "series_end": [str(t) for t in artifact.series_end],
            "train_end": [str(t) for t in artifact.train_end],
        }

    def read_ids(self, file: Reading) -> None:
        """The ids first: every other part's shapes count the series."""
        ids = fields.strings("ids", file.meta["ids"])
        if len(ids) == 0:
            raise fields.bad("ids", ids, "at least one series id")
        file.found["ids"] = ids

    def read(self, file: Reading) -> None:
        """The scaler, the ends (no target after its series' end) and the frequency, which
        must step a horizon past the last end."""
        meta, n_series, channels = file.meta, file.n_series, file.config.n_targets
        values = fields.keys("scaler", meta["scaler"], ("mean", "std"))
        scaler = Scaler(
            mean=fields.matrix("scaler.mean", values["mean"], (n_series, channels), False),
            std=fields.matrix("scaler.std", values["std"], (n_series, channels), True),
        )
        series_end = fields.timestamps("series_end", meta["series_end"], n_series)
        train_end = fields.timestamps("train_end", meta["train_end"], n_series)
        if str(series_end[0].tz) != str(train_end[0].tz):
            raise ModelFileError(
                f"model metadata train_end and series_end mix time zones; {EDITED}"
            )
        for i, (trained, ended) in enumerate(zip(train_end, series_end, strict=True)):
            if trained > ended:
                raise ModelFileError(
                    f"model metadata train_end[{i}] ({trained}) is after series_end[{i}] "
                    f"({ended}); {EDITED}"
                )
        freq = fields.frequency(meta["freq"], max(series_end), file.config.horizon)
        file.found.update(scaler=scaler, series_end=series_end, train_end=train_end, freq=freq)

    def read_wide_id(self, file: Reading) -> None:
        """Files written before a wide file's series took its target's name called it
        "series": read as the name it has now (once the schema is known)."""
        schema = file.found["schema"]
        if schema.id is None and file.found["ids"] == ["series"]:
            file.found["ids"] = [schema.wide_id]
