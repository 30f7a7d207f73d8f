"""Which frequency the data has: a ``--freq`` checked, or one inferred from the timestamps.

pandas' inference wants a gapless stretch; real data has gaps, so the longest run of equal
steps is tried too, and daily data without weekends is read as business days. New data for
a trained model must come at the model's frequency (`check_frequency`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecaster.errors import DataError, UsageError

log = logging.getLogger("forecaster")


def validate_freq(freq: str) -> str:
    """A pandas alias with a positive step, normalised ("H" -> "h"); else exit code 2."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        offset = None
    if offset is None or int(offset.n) < 1:
        raise UsageError(
            f"invalid value for --freq: {freq!r}; use a pandas alias with a positive step, "
            "such as h, D, W, MS, QS, YS or 15min"
        )
    return str(offset.freqstr)


def _normalise_alias(freq: str) -> str:
    return str(pd.tseries.frequencies.to_offset(freq).freqstr)


def _pandas_infer_freq(index: pd.DatetimeIndex) -> str | None:
    """pandas' inference, as an alias string under pandas 2 and 3 alike."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces a change of return type
        found = pd.infer_freq(index)
    return None if found is None else _normalise_alias(found)


def infer_frequency(times: Sequence[pd.DatetimeIndex]) -> str:
    """One frequency for all series: pandas' inference on the densest stretch of the data,
    then the business-day grid when it fits with fewer gaps (see `_prefer_gapless`)."""
    by_length = sorted(times, key=len, reverse=True)
    found = next(
        (f for index in by_length if len(index) >= 3 and (f := _pandas_infer_freq(index))), None
    )
    if found is None:
        found = next((f for index in by_length if (f := _infer_from_runs(index))), None)
    if found is None:
        longest = max((len(index) for index in times), default=0)
        if longest < 3:
            raise DataError(
                f"too few rows to infer the frequency: the longest series has {longest} "
                "row(s); give more data (or the frequency with --freq)"
            )
        raise DataError(
            "cannot infer the frequency: timestamps are irregular; give it with --freq "
            "(for example --freq h, D, W, MS, QS, YS or 15min)"
        )
    return _prefer_gapless(found, times)


def _infer_from_runs(index: pd.DatetimeIndex) -> str | None:
    """With gaps, infer from the longest run of equal steps (at least 3 points)."""
    if len(index) < 3:
        return None
    steps = np.diff(index.asi8)
    change = np.flatnonzero(np.diff(steps) != 0) + 1
    bounds = np.concatenate([[0], change, [len(steps)]])
    runs = np.diff(bounds)
    best = int(np.argmax(runs))
    if runs[best] < 2:
        # Calendar steps (months) differ in length; try pandas on small windows instead.
        for lo in range(0, len(index) - 2):
            freq = _pandas_infer_freq(index[lo : lo + 3])
            if freq is not None:
                return freq
        return None
    start = int(bounds[best])
    return _pandas_infer_freq(index[start : start + int(runs[best]) + 1])


def _prefer_gapless(freq: str, times: Sequence[pd.DatetimeIndex]) -> str:
    """Among the inferred frequency and its business-day variant, the one without gaps.

    Daily data that never falls on a weekend (trading days) is read as "B": as "D" every
    weekend would be two missing days, filled by interpolation, and forecasts would land on
    Saturdays. Only when some weekend lies between the first and last timestamp, so that
    the choice matters.
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    if not (isinstance(offset, pd.offsets.Day) and int(offset.n) == 1):
        return freq
    every = pd.DatetimeIndex(np.concatenate([t.to_numpy(dtype="datetime64[ns]") for t in times]))
    if (every.day_of_week >= 5).any() or (every != every.normalize()).any():
        return freq
    spans_weekend = any(len(t) and (t[-1] - t[0]) >= pd.Timedelta(days=3) for t in times)
    if not spans_weekend:
        return freq
    log.warning(
        "inferred frequency 'B' (business days): no timestamp falls on a weekend; a weekday "
        "without a row (a holiday) is a gap, filled as --fill says, unless the missing "
        "weekdays are an exchange's holidays (then left out, as a note says); give --freq D "
        "to treat weekends as missing days"
    )
    return "B"


def check_frequency(times: Sequence[pd.DatetimeIndex], expected: str, source: str) -> str:
    """New data must come at the model's frequency; too few rows to tell is accepted."""
    try:
        with _silenced():
            inferred = infer_frequency(times)
    except DataError:
        return expected
    to_offset = pd.tseries.frequencies.to_offset
    if to_offset(inferred) == to_offset(expected) or max(len(t) for t in times) < 3:
        return expected
    if {_normalise_alias(inferred), _normalise_alias(expected)} == {"B", "D"}:
        # Weekdays only read as daily, or a daily stretch without a weekend read as business
        # days: the model's grid fits, as long as no row is a weekend day for a "B" model.
        every = pd.DatetimeIndex(
            np.concatenate([t.to_numpy(dtype="datetime64[ns]") for t in times])
        )
        if expected == "D" or not (every.day_of_week >= 5).any():
            return expected
    raise DataError(
        f"{source} has frequency {inferred!r} but the model was trained on {expected!r}; "
        "give data at the model's frequency"
    )


def infer_with_hint(stretches: list[pd.DatetimeIndex], hint: str, quiet: bool = False) -> str:
    """`infer_frequency`, its error ending in ``hint``; ``quiet``: "" instead of an error,
    and no notes (a trial inference, such as which grid a zone's data takes)."""
    if quiet:
        with _silenced():
            try:
                return infer_frequency(stretches)
            except DataError:
                return ""
    try:
        return infer_frequency(stretches)
    except DataError as exc:
        raise DataError(f"{exc}{hint}") from None


class _silenced:
    """Notes of a trial inference (which grid to use) are not the user's business."""

    def __enter__(self) -> None:
        self._level = log.level
        log.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        log.setLevel(self._level)
