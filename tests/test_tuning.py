"""`Tuning`: the measured switches travel as one frozen value from the caller to each use,
and every ablation of benchmarks/accuracy.py sets the field it names."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from forecaster import pipeline, train
from forecaster.config import TrainConfig
from forecaster.optim import Adam
from forecaster.tuning import TUNING, Tuning
from tests.conftest import seasonal_frame


def test_the_defaults_are_the_measured_values_and_cannot_be_reassigned() -> None:
    assert Tuning() == TUNING
    assert (TUNING.check_at_start, TUNING.windows_per_check, TUNING.max_val_windows) == (
        True,
        2000,
        None,
    )
    assert (TUNING.default_patience, TUNING.patience_max_checks) == (8, 10)
    assert (TUNING.sampled_epoch_checks, TUNING.final_decay_epochs) == (True, 6)
    assert (TUNING.plateau_epochs, TUNING.plateau_gain) == (3, 0.02)
    assert TUNING.unbeaten_first_decides and TUNING.fruitless_decay_first_decides
    assert TUNING.skip_candidates == ((1, 2, 4, 8), (0.5, 1, 2, 4, 8), (0.25, 0.5, 1, 2, 4, 8))
    assert TUNING.skip_max_share == 1 / 3
    assert TUNING.flat_adam and TUNING.optimizer is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        TUNING.check_at_start = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spec", "changes"),
    [
        ("single-lookback", {"skip_candidates": ((1,),)}),
        ("skip-scales=1,2", {"skip_candidates": ((1.0, 2.0),)}),
        ("skip-share=0.5", {"skip_max_share": 0.5}),
        ("no-start-check", {"check_at_start": False}),
        ("check-every=8000", {"windows_per_check": 8000}),
        ("max-val-windows=1000", {"max_val_windows": 1000}),
        ("patience-checks=4", {"patience_max_checks": 4}),
        ("per-tensor-adam", {"flat_adam": False}),
        ("no-final-decay", {"final_decay_epochs": 0}),
        ("every-check", {"sampled_epoch_checks": False}),
        ("every-member", {"unbeaten_first_decides": False}),
        ("every-decay", {"fruitless_decay_first_decides": False}),
    ],
)
def test_each_accuracy_patch_sets_its_field_and_only_it(spec: str, changes: dict[str, Any]) -> None:
    from benchmarks.accuracy import tuning_for

    assert tuning_for([spec]) == dataclasses.replace(TUNING, **changes)


def test_accuracy_patches_combine_and_adamw_trains_with_the_loops_interface() -> None:
    from benchmarks.accuracy import tuning_for

    tuning = tuning_for(["adamw=0.1", "every-check"])
    assert tuning.optimizer is not None and not tuning.sampled_epoch_checks
    model = torch.nn.Linear(3, 1)
    optimizer = tuning.optimizer(model.parameters(), 0.01)
    assert optimizer.param_groups[0]["weight_decay"] == 0.1
    model(torch.ones(2, 3)).sum().backward()
    optimizer.lr = 0.005
    optimizer.clip_grad_norm(1.0)
    optimizer.step()
    optimizer.release()
    assert optimizer.lr == 0.005
    with pytest.raises(SystemExit):
        tuning_for(["no-such-patch"])


def test_the_switches_reach_the_code_they_steer() -> None:
    assert train.validation_checks(8000, 1) == 4
    assert train.validation_checks(8000, 1, Tuning(windows_per_check=8000)) == 1
    assert Adam(torch.nn.Linear(2, 1).parameters(), lr=0.1).flat is not None
    assert Adam(torch.nn.Linear(2, 1).parameters(), lr=0.1, flat=False).flat is None
    config = TrainConfig()
    lengths = np.array([2000])
    assert pipeline.skip_candidates(24, config, lengths) == [
        [24, 48, 96, 192],
        [12, 24, 48, 96, 192],
        [6, 12, 24, 48, 96, 192],
    ]
    assert pipeline.skip_candidates(24, config, lengths, Tuning(skip_candidates=((1,),))) == [[24]]
    narrow = Tuning(skip_max_share=0.05)  # 2,000 x 0.9 x 0.05 = 90 rows at most
    assert pipeline.skip_candidates(24, config, lengths, narrow)[0] == [24, 48]


def test_fit_passes_its_tuning_down_to_the_windows_and_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from forecaster.data import build_panel, detect_schema

    seen: dict[str, Any] = {}
    make_windows, train_model = pipeline.make_windows, pipeline.train_model

    def windows_spy(*args: Any, **kwargs: Any) -> Any:
        seen["max_val_windows"] = kwargs["max_val_windows"]
        return make_windows(*args, **kwargs)

    def train_spy(*args: Any, **kwargs: Any) -> Any:
        seen["tuning"] = kwargs["tuning"]
        return train_model(*args, **kwargs)

    monkeypatch.setattr(pipeline, "make_windows", windows_spy)
    monkeypatch.setattr(pipeline, "train_model", train_spy)
    frame = seasonal_frame(200)
    panel = build_panel(frame, detect_schema(frame))
    tuning = Tuning(max_val_windows=7, check_at_start=False)
    config = TrainConfig(epochs=1, hidden=4, horizon=7, ensemble=1).validate()
    artifact, _ = pipeline.fit(panel, config, tuning=tuning)
    assert seen == {"max_val_windows": 7, "tuning": tuning}
    assert artifact.summary["val_windows"] == 7


# Epochs of 3,000 of about 7,000 windows: sampled, so patience running out starts the final
# decay (`stopping.Stopping`); at most 4 epochs keep it short. A rate too small to move
# float32 weights stands in for data no network can better (the glucose monitor of
# benchmarks/README.md: three networks, 9 epochs each, none bettered its start).
UNBEATABLE = {"epochs": 4, "hidden": 4, "horizon": 7, "ensemble": 3, "lr": 1e-12,
              "max_windows_per_epoch": 3000}  # fmt: skip


@pytest.fixture(scope="module")
def unbeatable() -> tuple[Any, Any, TrainConfig]:
    """The model with the rule and without it (every network trained), from the same data."""
    from forecaster.data import build_panel, detect_schema

    frame = seasonal_frame(7200, freq="h", period=24)
    panel = build_panel(frame, detect_schema(frame))
    config = TrainConfig(**UNBEATABLE).validate()  # type: ignore[arg-type]
    kept, _ = pipeline.fit(panel, config)
    neither = Tuning(unbeaten_first_decides=False, fruitless_decay_first_decides=False)
    every, _ = pipeline.fit(panel, config, tuning=neither)
    return kept, every, config


def test_networks_keep_their_start_untrained_when_the_first_never_bettered_it(
    unbeatable: tuple[Any, Any, TrainConfig],
) -> None:
    kept, every, _ = unbeatable
    runs = [m["epochs_run"] for m in kept.summary["members"]]
    assert runs[0] == 4 and runs[1:] == [0, 0], runs
    assert [m["best_epoch"] for m in every.summary["members"]] == [0, 0, 0]  # none bettered it
    # Each restored its starting weights: the same model, to the bit, in a third of the epochs.
    for name, weights in every.weights.items():
        np.testing.assert_array_equal(kept.weights[name], weights, err_msg=name)
    assert [m["best_val_loss"] for m in kept.summary["members"]] == [
        m["best_val_loss"] for m in every.summary["members"]
    ]


def test_without_the_final_decay_the_first_network_decides_nothing() -> None:
    """A few epochs' patience on a series of few windows is no evidence (the trading-day
    prices: the later networks bettered their start where the first had not)."""
    from forecaster.data import build_panel, detect_schema

    frame = seasonal_frame(300)
    panel = build_panel(frame, detect_schema(frame))
    config = TrainConfig(epochs=2, hidden=4, horizon=7, ensemble=3, lr=1e-12).validate()
    artifact, _ = pipeline.fit(panel, config)
    assert [m["epochs_run"] for m in artifact.summary["members"]] == [2, 2, 2]


def test_every_network_trains_when_the_first_bettered_its_start() -> None:
    from forecaster.data import build_panel, detect_schema

    frame = seasonal_frame(300)
    panel = build_panel(frame, detect_schema(frame))
    config = TrainConfig(epochs=2, hidden=8, horizon=7, ensemble=3).validate()
    artifact, _ = pipeline.fit(panel, config)
    members = artifact.summary["members"]
    assert members[0]["best_epoch"] > 0  # the first network bettered its start
    assert all(m["epochs_run"] > 0 for m in members)


def test_train_and_info_say_why_networks_kept_their_start(
    tmp_path: Any, unbeatable: tuple[Any, Any, TrainConfig]
) -> None:
    from forecaster.cli.train import _summary_line

    kept, every, config = unbeatable
    line = _summary_line("m.fcst", kept.summary, config.epochs)
    assert "epochs 4/0/0 of at most 4 each (network 1 never bettered the fitted linear skip: " \
        "the rest keep it)" in line  # fmt: skip
    later = ["network 2 (seed 1)", "network 3 (seed 2)"]
    assert _networks_said(kept, tmp_path, "kept untrained") == later
    # Networks that trained say nothing of the kind.
    assert "never bettered" not in _summary_line("m.fcst", every.summary, config.epochs)


def test_a_fruitless_first_decay_stops_the_others_where_theirs_would_begin(
    unbeatable: tuple[Any, Any, TrainConfig],
) -> None:
    """Without the rule above, the first network's decay finds nothing (the rate cannot
    move the weights), so the others skip theirs: the same model to the bit as when every
    network decays, in fewer epochs."""
    from forecaster.data import build_panel, detect_schema

    _, every, config = unbeatable
    frame = seasonal_frame(7200, freq="h", period=24)
    panel = build_panel(frame, detect_schema(frame))
    shorter, _ = pipeline.fit(panel, config, tuning=Tuning(unbeaten_first_decides=False))
    longer = [m["epochs_run"] for m in every.summary["members"]]
    runs = [m["epochs_run"] for m in shorter.summary["members"]]
    assert runs[0] == longer[0], (runs, longer)
    assert all(r < n for r, n in zip(runs[1:], longer[1:], strict=True)), (runs, longer)
    for name, weights in every.weights.items():
        np.testing.assert_array_equal(shorter.weights[name], weights, err_msg=name)


def test_a_stopping_that_may_not_decay_stops_where_the_decay_would_begin() -> None:
    from forecaster.stopping import Stopping

    def run(decays: bool) -> Stopping:
        stop = Stopping.plan(0, 3000, 7000, 2, "cosine")
        stop.decays = decays
        model = torch.nn.Linear(1, 1)
        stop.start(1.0, model)
        for epoch in range(1, 30):
            stop.check(model, epoch, epoch * 3000, 1.0, 1.0)  # never better
            if not stop.end_epoch(epoch, 30):
                return stop
        raise AssertionError("never stopped")

    decaying, stopping = run(True), run(False)
    assert decaying.decay is not None and stopping.decay is None
    assert stopping.stopped_early and decaying.stopped_early
    assert decaying.decay[0] == 3 and decaying.decay[1] == TUNING.final_decay_epochs


def test_train_and_info_say_which_networks_skipped_their_decay(tmp_path: Any) -> None:
    from forecaster.cli.train import _summary_line
    from forecaster.data import build_panel, detect_schema

    frame = seasonal_frame(7200, freq="h", period=24)
    panel = build_panel(frame, detect_schema(frame))
    config = TrainConfig(**UNBEATABLE).validate()  # type: ignore[arg-type]
    model, _ = pipeline.fit(panel, config, tuning=Tuning(unbeaten_first_decides=False))
    members = model.summary["members"]
    assert "decay_skipped" not in members[0] and all(m["decay_skipped"] for m in members[1:])
    line = _summary_line("m.fcst", model.summary, config.epochs)
    assert "(network 1's final decay found nothing: the rest skip theirs)" in line
    later = ["network 2 (seed 1)", "network 3 (seed 2)"]
    assert _networks_said(model, tmp_path, "final decay skipped") == later


def _networks_said(model: Any, tmp_path: Any, words: str) -> list[str]:
    """The networks `forecaster info` says ``words`` of, for ``model`` saved to a file."""
    from forecaster import artifact as artifact_io
    from tests.conftest import invoke

    path = tmp_path / "said.fcst"
    artifact_io.save(model, path)
    shown = invoke(["info", str(path)]).stdout
    return [line.split(":")[0].strip() for line in shown.splitlines() if words in line]
