"""`forecaster train DATA` in this process: the whole run alone, or one rank's share of a
distributed run (`distributed`), with the model on the rank that writes it.

Every rank reads DATA itself and fails alike (`World.agreed`); rank 0 trains its networks
with a progress report, collects the others' and returns the model; the other ranks train
theirs quietly and return nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

# Modules, not their functions, so that a `pipeline.fit` or `data.load_panel` replaced
# after this import (tests/test_faults.py) is the one called.
from forecaster import data, distributed, pipeline
from forecaster.artifact import Artifact
from forecaster.config import TrainConfig

if TYPE_CHECKING:
    from forecaster.train import EpochReport

    OnEpoch = Callable[[EpochReport], None] | None


def train_here(
    source: str,
    config: TrainConfig,
    holdout: int,
    date_order: str | None,
    progress: Callable[[], AbstractContextManager[OnEpoch]],
) -> Artifact | None:
    """Read ``source`` (DATA), leave out its last ``holdout`` steps and train; the model on
    rank 0 (or alone), ``None`` on another rank. ``progress`` is entered around rank 0's
    training."""
    world = distributed.start(config.device)
    if not world.main:
        logging.getLogger("forecaster").setLevel(logging.ERROR)  # rank 0 says what there is
    with world.agreed():
        panel = data.load_panel(
            source, config.time, config.targets, config.id, config.freq, config.fill, date_order,
            past=config.past_covariates, future=config.future_covariates,
            static=config.static_covariates, calendar=config.calendar,
            holidays=config.holidays, duplicates=config.duplicates,
        )  # fmt: skip
        panel = data.drop_last(panel, holdout)
    if not world.main:
        pipeline.train_share(panel, config, world)
        distributed.stop()
        return None
    with progress() as on_epoch:
        model, _ = pipeline.fit(panel, config, on_epoch=on_epoch, world=world)
    distributed.stop()
    return model
