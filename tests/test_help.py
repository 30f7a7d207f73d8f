"""`--help` quotes values owned by modules that import pandas or torch (frequency, train,
metrics, output, plot, intervals): the CLI cannot import them to write its help without
making every command slow to start, so these tests hold the quoted text to the values.
Values owned by `config` are interpolated (`cli.train_options`), and `train --from`'s flags
come from `config.UPDATABLE`; `options.config_flags` maps the flags to the config by name."""

from __future__ import annotations

import dataclasses
import re

import pytest

from forecaster.cli import options
from forecaster.config import MAX_LR, MAX_SEED, UPDATABLE, TrainConfig
from tests.conftest import invoke


def flat(text: str) -> str:
    """Help text without the box drawing and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def help_of(command: str) -> str:
    result = invoke([command, "--help"])
    assert result.exit_code == 0, result.output
    return flat(result.stdout)


def test_train_quotes_the_frequency_defaults() -> None:
    from forecaster.seasons import default_horizon

    horizons = ", ".join(
        f"{name} {default_horizon(alias)}"
        for name, alias in [
            ("hourly", "h"),
            ("daily", "D"),
            ("weekly", "W"),
            ("monthly", "MS"),
            ("quarterly", "QS"),
            ("yearly", "YS"),
        ]
    )
    assert f"[default: by frequency: {horizons}]" in help_of("train")


def test_evaluate_quotes_the_seasons() -> None:
    from forecaster.seasons import season_length

    seasons = ", ".join(
        f"{name} {season_length(alias)}"
        for name, alias in [
            ("hourly", "h"),
            ("daily", "D"),
            ("weekly", "W"),
            ("monthly", "MS"),
            ("quarterly", "QS"),
        ]
    )
    assert f"[default: by frequency: {seasons}]" in help_of("evaluate")


def test_train_quotes_the_patience_rule() -> None:
    from forecaster.tuning import TUNING

    text = help_of("train")
    assert f"{TUNING.plateau_epochs} if the first epoch's best was not bettered by " in text
    assert f"bettered by {TUNING.plateau_gain:.0%}" in text
    assert f"decays towards zero over {TUNING.final_decay_epochs} epochs" in text


def test_train_quotes_the_config_limits() -> None:
    text = help_of("train")
    assert f"Adam learning rate, in (0, {MAX_LR:g}]." in text
    assert MAX_SEED == 2**63 - 1 and "Random seed, 0 to 2^63-1." in text
    flags = ", ".join("--" + k.replace("_", "-") for k in UPDATABLE)
    assert f"only {flags} apply" in text


@pytest.mark.parametrize("command", ["evaluate", "plot"])
def test_the_default_levels_are_the_scored_ones(command: str) -> None:
    from forecaster.metrics import DEFAULT_LEVELS

    low, high = (f"{v:g}" for v in DEFAULT_LEVELS)
    assert f"[default: {low} and {high}]" in help_of(command)


def test_the_other_quoted_values() -> None:
    from forecaster.intervals import LOCAL_SEASONS
    from forecaster.metrics import PINBALL_QUANTILES
    from forecaster.output import SIGNIFICANT_DIGITS
    from forecaster.plot import MAX_PANELS

    assert f"[default: {SIGNIFICANT_DIGITS} significant digits]" in help_of("predict")
    assert f"over its last {LOCAL_SEASONS} seasonal cycles" in help_of("predict")
    evaluate = help_of("evaluate")
    quantiles = f"{min(PINBALL_QUANTILES):g} to {max(PINBALL_QUANTILES):g}"
    assert f"averaged over the quantiles {quantiles}," in evaluate
    assert f"one panel per series, at most {MAX_PANELS}." in evaluate
    assert f"at most {MAX_PANELS} (choose with --series)" in help_of("plot")


def test_every_config_flag_reaches_its_field() -> None:
    """`train`'s parameters named after a field are the flags that set it, by name."""
    import inspect

    from forecaster.cli.train import train

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    named = [p for p in inspect.signature(train).parameters if p in fields]
    assert len(named) == 32  # all but window_norm, linear_skip, segment, schedule (the file)
    given = {
        "lr": 0.01,
        "targets": ["y"],
        "loss": options.Loss.mse,
        "allow_negative": False,
        "holidays": [],
        "data": "x.csv",  # not a field: left out
        "max_time": "10m",
    }
    values = options.config_flags(given, max_time=lambda text: 600.0)
    assert values == {
        "targets": ["y"],
        "lr": 0.01,
        "loss": "mse",
        "max_time": 600.0,
        "holidays": None,
        "allow_negative": None,
    }
    assert list(values) == [
        f for f in (f.name for f in dataclasses.fields(TrainConfig)) if f in values
    ]
