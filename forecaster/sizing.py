"""How big a model's windows are for this data: horizon, lookback, the LSTM's segment, and
how many rows of covariate history the linear skip may read.

Decided before any window is cut, from the frequency and the series' lengths; `prepare`
(`pipeline`) asks here, and the choices are stored in the model's `ModelConfig`.
"""

from __future__ import annotations

import logging
import math

from forecaster.config import TrainConfig
from forecaster.data import Panel, Schema
from forecaster.errors import DataError, UsageError
from forecaster.seasons import default_horizon, default_lookback, season_length, weekly_cycle
from forecaster.windows import resolve_lookback

log = logging.getLogger("forecaster")


def resolve_sizes(panel: Panel, config: TrainConfig) -> tuple[int, int]:
    """Horizon and lookback for this data: the user's, or defaults from the frequency."""
    horizon = config.horizon or default_horizon(panel.freq, panel.schema.session)
    lengths = panel.lengths
    longest = int(lengths.max())
    if config.lookback is not None and config.lookback >= longest:
        raise UsageError(
            f"invalid value for --lookback: {config.lookback}; the longest series has {longest} "
            f"rows, so use 1 to {max(1, longest - horizon)}"
        )
    if horizon >= longest:
        raise DataError(
            f"the longest series has {longest} rows, too short for horizon {horizon}: "
            f"give more data or a smaller --horizon"
        )
    default = default_lookback(
        horizon,
        season_length(panel.freq, panel.schema.session),
        weekly_cycle(panel.freq, panel.schema.session),
    )
    lookback, note = resolve_lookback(
        config.lookback, default, lengths, horizon, config.val_fraction
    )
    if note:
        log.warning("%s", note)
    if panel.n_series == 1 and longest < lookback + horizon:
        raise DataError(
            f"the series has {longest} rows; lookback {lookback} + horizon {horizon} needs at "
            f"least {lookback + horizon} rows: give more data or a smaller --lookback/--horizon"
        )
    return horizon, lookback


# The most recurrent steps an automatic segment leaves the LSTM. Backpropagation through
# time costs in proportion to them: half-hourly data read 96 rows one by one, weekly data
# 104, and ETTh1 at h = 720 60 segments of a day, and took minutes where 16 steps take
# seconds (benchmarks/README.md, "Time to forecast").
MAX_LSTM_STEPS = 16


def resolve_segment(requested: int, lookback: int, season: int) -> tuple[int, int]:
    """Steps per LSTM input and the lookback rounded down to a multiple of it.

    Automatic (0): whole seasonal cycles per step when the window holds at least four
    cycles (one cycle, or as many as keep the LSTM within `MAX_LSTM_STEPS` steps), else
    as few time steps per LSTM step as keep it within `MAX_LSTM_STEPS`.
    """
    unit = season if season > 1 and lookback >= 4 * season else 1
    segment = requested or unit * math.ceil(lookback / (unit * MAX_LSTM_STEPS))
    if segment > lookback:
        segment = 1
    return segment, lookback - lookback % segment


# Context rows of each covariate whose changes the linear skip reads: one seasonal cycle.
COVARIATE_CYCLES = 1


def covariate_rows(schema: Schema, lookback: int, season: int) -> int:
    """Most rows of the covariates' recent history the linear skip may read (0: no
    covariates); validation chooses how many of them pay (`linear.covariate_parts`)."""
    if not (schema.n_past + len(schema.future)):
        return 0
    return int(min(lookback, max(2, COVARIATE_CYCLES * season)))
