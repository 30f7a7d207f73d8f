"""Training behaviour: determinism, save/load round trip, and accuracy against seasonal naive."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import artifact as artifact_io
from forecaster.config import TrainConfig
from forecaster.data import build_panel, detect_schema
from forecaster.forecast import predict
from forecaster.pipeline import fit
from tests.conftest import FAST, invoke, seasonal_frame


def small_config(**overrides: object) -> TrainConfig:
    values: dict[str, object] = {
        "epochs": 3,
        "hidden": 8,
        "horizon": 7,
        "batch_size": 32,
        "ensemble": 1,
    }
    values.update(overrides)
    return TrainConfig(**values).validate()  # type: ignore[arg-type]


def panel_of(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    return build_panel(frame, detect_schema(frame))


def test_same_seed_same_forecast_on_cpu() -> None:
    panel = panel_of(seasonal_frame())
    first, _ = fit(panel, small_config(seed=3))
    second, _ = fit(panel, small_config(seed=3))
    other, _ = fit(panel, small_config(seed=4))
    a, b, c = predict(first), predict(second), predict(other)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["value"], c["value"])


def test_save_then_load_gives_identical_predictions(tmp_path: Path) -> None:
    panel = panel_of(seasonal_frame())
    trained, _ = fit(panel, small_config())
    path = tmp_path / "m.fcst"
    artifact_io.save(trained, path)
    loaded = artifact_io.load(path)
    pd.testing.assert_frame_equal(predict(trained), predict(loaded))
    assert loaded.schema == trained.schema and loaded.freq == "D"
    assert set(loaded.weights) == set(trained.weights)
    for name, array in trained.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], array)
    # The file is plain safetensors: its metadata is JSON, readable without forecaster.
    header_size = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_size])
    meta = json.loads(header["__metadata__"]["forecaster"])
    assert {"train_config", "schema", "freq", "scaler", "history", "versions"} <= set(meta)
    assert len(meta["history"]) == 3


def test_early_stopping_restores_best_weights() -> None:
    panel = panel_of(seasonal_frame())
    # Without the fitted linear skip, so that training improves on the starting weights.
    _, result = fit(panel, small_config(epochs=40, patience=2, lr=0.05, linear_skip=False))
    assert result.stopped_early
    best = min(h["val_loss"] for h in result.history)  # type: ignore[type-var]
    assert result.best_val_loss == best
    assert result.epochs_run == result.best_epoch + 2


@pytest.mark.slow
def test_beats_seasonal_naive_on_noisy_seasonal_series(tmp_path: Path) -> None:
    """Weekly cycle + trend + noise: the LSTM must beat repeating last week (MASE ratio < 1)."""
    frame = seasonal_frame(n=700, noise=0.8, seed=7)
    frame["value"] += 2 * np.sin(2 * np.pi * np.arange(700) / 91)  # a slower swing on top
    data = tmp_path / "noisy.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.fcst"
    trained = invoke(
        ["train", str(data), "-o", str(model), "--horizon", "14", "--holdout", "56", "--quiet"]
    )
    assert trained.exit_code == 0, trained.stderr
    result = invoke(["evaluate", "-m", str(model), str(data), "--windows", "4", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    ratio = report["metrics"]["mase"] / report["baselines"]["seasonal_naive"]["mase"]
    assert ratio < 1, report
    assert "training range" not in result.stderr  # --holdout kept the evaluated steps unseen


def test_cli_fast_options_are_fast(seasonal_csv: Path, tmp_path: Path) -> None:
    result = invoke(["train", str(seasonal_csv), "-o", str(tmp_path / "m.fcst"), *FAST])
    assert result.exit_code == 0
    pd.read_csv(io.StringIO(invoke(["predict", "-m", str(tmp_path / "m.fcst")]).stdout))


@pytest.mark.parametrize(("n_train", "per_epoch"), [(50, 50), (1000, 200), (10**6, 2000)])
def test_epoch_sample_is_in_range_seeded_and_permutes_when_it_covers_much(
    n_train: int, per_epoch: int
) -> None:
    import torch

    from forecaster.train import _epoch_sample

    first = _epoch_sample(n_train, per_epoch, torch.Generator().manual_seed(1))
    again = _epoch_sample(n_train, per_epoch, torch.Generator().manual_seed(1))
    assert first.shape == (per_epoch,) and first.dtype == torch.int64
    assert int(first.min()) >= 0 and int(first.max()) < n_train
    assert torch.equal(first, again)
    if n_train <= 10 * per_epoch:
        assert len(set(first.tolist())) == per_epoch  # a permutation: no repeats
    else:
        assert len(set(first.tolist())) > 0.99 * per_epoch  # with replacement: few repeats


@pytest.mark.parametrize(
    ("per_epoch", "n_val", "checks"),
    [(8065, 2689, 4), (20_000, 10_000, 10), (1500, 300, 1), (500, 100, 1), (9000, 0, 1)],
)
def test_validation_is_checked_every_two_thousand_windows(
    per_epoch: int, n_val: int, checks: int
) -> None:
    from forecaster.train import validation_checks

    assert validation_checks(per_epoch, n_val) == checks


def _sine_windows(n_train: int):  # type: ignore[no-untyped-def]
    from forecaster.windows import WindowSet

    rng = np.random.default_rng(0)
    steps = np.arange(n_train + 600)
    series = np.sin(steps / 3) + 0.3 * rng.normal(size=len(steps))
    return WindowSet(
        series=torch.from_numpy(series.astype(np.float32)[:, None]),
        train_starts=torch.arange(n_train),
        val_starts=torch.arange(n_train, n_train + 500),
        lookback=8,
        horizon=2,
    )


def _record_checks(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The validation loss of every check `train_model` makes, in order (computed as usual)."""
    from forecaster import train

    seen: list[float] = []
    original = train.evaluate_loss

    def counting(*args: object, **kwargs: object) -> float:
        seen.append(original(*args, **kwargs))  # type: ignore[arg-type]
        return seen[-1]

    monkeypatch.setattr(train, "evaluate_loss", counting)
    return seen


def test_mid_epoch_checks_keep_the_best_weights_seen_at_any_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """6,000 windows per epoch: three checks each; the weights kept are the best check's."""
    from forecaster import train
    from forecaster.model import LSTMForecaster, ModelConfig

    windows = _sine_windows(6000)
    original = train.evaluate_loss
    seen = _record_checks(monkeypatch)
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4, layers=1))
    result = train.train_model(
        model, windows, epochs=2, batch_size=200, lr=0.01, patience=5, schedule="none"
    )
    assert len(seen) == 7  # the starting weights, then 2 epochs x 3 checks
    assert result.best_val_loss == min(seen)
    assert [h["val_loss"] for h in result.history] == [seen[3], seen[6]]  # epoch-end checks
    loss = torch.nn.MSELoss()
    kept = original(model, windows, windows.val_starts, loss, torch.autocast("cpu", enabled=False))
    assert kept == pytest.approx(min(seen), rel=1e-6)


@pytest.mark.parametrize(
    ("n_train", "epoch_ends"),
    [(6000, [3, 6, 9]), (12000, [3, 4, 5])],
    ids=["every epoch sees every window", "epochs sample a larger set"],
)
def test_epochs_that_sample_a_larger_set_check_every_2000_windows_only_in_the_first(
    n_train: int, epoch_ends: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """6,000 windows an epoch: three checks in each, or, when there are more windows than
    an epoch visits, three in the first and one at the end of each later epoch."""
    from forecaster import train
    from forecaster.model import LSTMForecaster, ModelConfig

    seen = _record_checks(monkeypatch)
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4, layers=1))
    windows = _sine_windows(n_train)
    result = train.train_model(model, windows, epochs=3, batch_size=200, lr=0.01, patience=5,
                               max_windows_per_epoch=6000, schedule="none")  # fmt: skip
    assert result.epochs_run == 3
    assert len(seen) == epoch_ends[-1] + 1  # the starting weights' check first
    assert result.best_val_loss == min(seen)
    assert [h["val_loss"] for h in result.history] == [seen[i] for i in epoch_ends]


def _train_on_scores(
    scores: list[float], monkeypatch: pytest.MonkeyPatch, **options: object
) -> tuple[object, list[float]]:
    """Train on epochs of 6,000 of 12,000 windows (three checks in the first epoch, one in
    each later) with validation scores given in order (the last one repeated), and return
    the result with the learning rate of every epoch."""
    from forecaster import train
    from forecaster.model import LSTMForecaster, ModelConfig

    given = iter(scores)
    monkeypatch.setattr(train, "evaluate_loss", lambda *args: next(given, scores[-1]))
    rates: list[float] = []

    class Recording(train.Adam):  # type: ignore[misc,name-defined]
        def step(self) -> None:
            if not rates or rates[-1] != self.lr:
                rates.append(self.lr)
            super().step()

    monkeypatch.setattr(train, "Adam", Recording)
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4, layers=1))
    options = {"epochs": 50, **options}
    result = train.train_model(model, _sine_windows(12000), batch_size=2000, lr=0.01,
                               max_windows_per_epoch=6000, **options)  # fmt: skip
    return result, rates


@pytest.mark.parametrize(
    ("patience", "schedule", "epochs_run"),
    [(2, "cosine", 2), (0, "none", 8)],
    ids=["as given", "automatic, constant rate"],
)
def test_patience_in_epochs_holds_where_later_epochs_check_once(
    patience: int, schedule: str, epochs_run: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A validation loss that never improves: training waits ``patience`` epochs (8 by
    default), as it did when every epoch checked three times, and then stops."""
    result, _ = _train_on_scores([1.0], monkeypatch, patience=patience, schedule=schedule)
    assert result.stopped_early and result.epochs_run == epochs_run  # type: ignore[attr-defined]


@pytest.mark.parametrize("epochs", [3, 5])
def test_the_final_decay_fits_in_the_epochs_left_and_never_exceeds_the_schedule(
    epochs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Patience runs out at epoch 3 (nothing gained): with 5 epochs in all the decay takes
    the 2 left, below the cosine schedule's own rate; with 3, training stops there."""
    from forecaster.optim import cosine_decay

    result, rates = _train_on_scores([1.0], monkeypatch, patience=0, epochs=epochs)
    assert result.stopped_early and result.epochs_run == epochs  # type: ignore[attr-defined]
    schedule = [0.01]
    for epoch in range(1, epochs):
        schedule.append(cosine_decay(schedule[-1], epoch, epochs))
    assert len(rates) == epochs
    assert all(rate <= limit for rate, limit in zip(rates, schedule, strict=True))
    assert rates[:3] == schedule[:3]
    if epochs == 5:
        start, left = schedule[2], 2
        decay = [start * (1 + math.cos(math.pi * k / (left + 1))) / 2 for k in (1, 2)]
        expected = [min(d, s) for d, s in zip(decay, schedule[3:], strict=True)]
        assert rates[3:] == pytest.approx(expected)


def test_a_deadline_mid_epoch_stops_at_its_batch_and_checks_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Out of time in the middle of a later epoch, where checks are otherwise skipped: no
    batch after the one that ran out, and a check of the weights it left."""
    from forecaster import train
    from forecaster.distributed import World
    from forecaster.model import LSTMForecaster, ModelConfig

    steps: list[int] = []
    out_at: list[int] = []

    class Recording(train.Adam):  # type: ignore[misc,name-defined]
        def step(self) -> None:
            steps.append(1)
            super().step()

    class Clock(World):
        def any(self, flag: bool) -> bool:  # the deadline passes after 16 steps
            if len(steps) >= 16 and not out_at:
                out_at.append(len(steps))
            return bool(out_at)

    monkeypatch.setattr(train, "Adam", Recording)
    checks = _record_checks(monkeypatch)
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=8, horizon=2, hidden=4, layers=1))
    result = train.train_model(model, _sine_windows(12000), epochs=5, batch_size=500,
                               lr=0.01, patience=0, max_windows_per_epoch=6000, deadline=1e18,
                               world=Clock())  # fmt: skip
    assert result.stopped_by_time and result.epochs_run == 2
    assert len(steps) == out_at[0] == 16  # 12 steps an epoch: 4 into the second
    assert len(checks) == 1 + 3 + 1  # the start, the first epoch's three, the stop
    assert result.history[-1]["val_loss"] == checks[-1]


@pytest.mark.parametrize(
    ("scores", "decay_starts"),
    [([1.0], 4), ([1.0] * 4 + [0.9, 0.95], 11), ([1.0] * 4 + [0.99, 1.0], 6)],
    ids=["nothing gained: 3 epochs", "10% gained: 8 epochs", "1% gained: 3 epochs"],
)
def test_automatic_patience_ends_in_a_decay_of_the_rate_to_zero_over_six_epochs(
    scores: list[float], decay_starts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where epochs sample a larger set: when validation stops improving (for 8 epochs, or
    3 when it gained less than 2% on the first epoch's best), the rate falls from where it
    was to zero along a cosine over 6 more epochs, and then training ends."""
    from forecaster.optim import cosine_decay

    result, rates = _train_on_scores(scores, monkeypatch, patience=0)
    assert result.stopped_early  # type: ignore[attr-defined]
    assert result.epochs_run == decay_starts - 1 + 6  # type: ignore[attr-defined]
    expected = [0.01]
    for epoch in range(1, decay_starts - 1):
        expected.append(cosine_decay(expected[-1], epoch, 50))
    start = expected[-1]
    expected += [start * (1 + math.cos(math.pi * k / 7)) / 2 for k in range(1, 7)]
    assert rates == pytest.approx(expected, rel=1e-12)
    assert rates[-1] < 0.05 * start  # (1 + cos(6 pi / 7)) / 2 of it


@pytest.mark.parametrize(
    ("freq", "horizon", "lookback"),
    [("h", 48, 168), ("h", 24, 168), ("h", 96, 192), ("2h", 12, 84), ("D", 14, 28),
     ("MS", 18, 36), ("15min", 96, 192), ("W-SUN", 13, 104)],
)  # fmt: skip
def test_default_lookback_covers_a_week_of_hourly_data(
    freq: str, horizon: int, lookback: int
) -> None:
    from forecaster.seasons import default_lookback, season_length, weekly_cycle

    assert default_lookback(horizon, season_length(freq), weekly_cycle(freq)) == lookback


def test_the_starting_weights_are_kept_when_training_only_makes_them_worse() -> None:
    """With a fitted linear skip the start is a tuned model: a bad run must not replace it."""
    import torch

    from forecaster import train
    from forecaster.model import LSTMForecaster, ModelConfig
    from forecaster.windows import WindowSet

    steps = np.arange(3000, dtype=np.float32)
    windows = WindowSet(
        series=torch.from_numpy(np.sin(steps / 5)[:, None]),
        train_starts=torch.arange(2500),
        val_starts=torch.arange(2500, 2980),
        lookback=10,
        horizon=2,
    )
    torch.manual_seed(0)
    model = LSTMForecaster(ModelConfig(n_targets=1, lookback=10, horizon=2, hidden=4))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    # A learning rate far too high: every check is worse than the start.
    result = train.train_model(
        model, windows, epochs=2, batch_size=50, lr=5.0, patience=1, schedule="none"
    )
    assert result.best_epoch == 0 and result.best_train_loss is None
    assert all(h["val_loss"] > result.best_val_loss for h in result.history)  # type: ignore[operator]
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, start[name])


def unblended(model: Any) -> Any:
    import dataclasses

    return dataclasses.replace(model, blend=None)


def test_an_ensemble_is_the_mean_of_networks_trained_from_consecutive_seeds() -> None:
    panel = panel_of(seasonal_frame())
    ensemble, result = fit(panel, small_config(ensemble=3, seed=5))
    alone = [fit(panel, small_config(ensemble=1, seed=5 + k))[0] for k in range(3)]
    # The networks' forecasts, without the blend with a baseline each model may have chosen.
    ensemble, alone = unblended(ensemble), [unblended(a) for a in alone]
    frames = [predict(a) for a in alone]
    # Member k is exactly the network a single run with seed 5 + k trains.
    for k, single in enumerate(alone):
        for name, value in single.weights.items():
            np.testing.assert_array_equal(ensemble.weights[f"members.{k}.{name[10:]}"], value)
    mean = np.mean([f["value"].to_numpy() for f in frames], axis=0)
    np.testing.assert_allclose(predict(ensemble)["value"], mean, rtol=1e-5)
    assert not np.allclose(frames[0]["value"], frames[1]["value"])
    assert [m["seed"] for m in ensemble.summary["members"]] == [5, 6, 7]
    assert result.epochs_run == sum(m["epochs_run"] for m in ensemble.summary["members"])
    assert {h["member"] for h in result.history} == {0, 1, 2}
    # Its validation loss is that of the averaged forecast: no worse than the members' mean.
    member_losses = [m["best_val_loss"] for m in ensemble.summary["members"]]
    assert result.best_val_loss <= np.mean(member_losses) + 1e-9


@pytest.mark.parametrize(
    ("lookback", "linear_skip", "median_rows", "expected"),
    [
        (None, True, 3000, [168, 336, 672]),  # 3000 x 0.8 / 3 = 800: 1344 is too long
        (None, True, 12000, [168, 336, 672, 1344]),  # never beyond 8 x
        (None, True, 600, [168]),  # M4 Hourly's length: nothing longer than the LSTM's
        (168, True, 12000, None),  # an explicit --lookback is what the model reads
        (None, False, 12000, None),  # no skip
    ],
)
def test_skip_candidates_double_within_a_third_of_the_training_rows(
    lookback: int | None, linear_skip: bool, median_rows: int, expected: list[int] | None
) -> None:
    from forecaster.pipeline import skip_candidates

    config = TrainConfig(lookback=lookback, linear_skip=linear_skip, val_fraction=0.2)
    lengths = np.array([median_rows // 2, median_rows, median_rows * 3])
    candidates = skip_candidates(168, config, lengths)
    if expected is None:
        assert candidates == [[168]]
    else:  # the longer lengths alone, then with half and a quarter of L added
        assert candidates == [expected, [84, *expected], [42, 84, *expected]]


def _tensor_only_checksum(tensors: dict[str, np.ndarray]) -> str:
    """The checksum of model formats 1 and 2: tensor names and bytes, not the settings."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensors[name]).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("version", [1, 2])
def test_model_files_of_format_1_and_2_are_refused(version: int, tmp_path: Path) -> None:
    """Their checksum left the settings open to edits: such files must be trained again."""
    from safetensors.numpy import load_file, save_file

    from tests.conftest import run_forecaster

    panel = panel_of(seasonal_frame())
    trained, _ = fit(panel, small_config())
    path, old = tmp_path / "new.fcst", tmp_path / "old.fcst"
    artifact_io.save(trained, path)
    header_size = int.from_bytes(path.read_bytes()[:8], "little")
    metadata = json.loads(path.read_bytes()[8 : 8 + header_size])["__metadata__"]
    meta = json.loads(metadata["forecaster"])
    meta["format_version"] = version
    tensors = load_file(path)
    if version == 1:  # one network, weights named without a member prefix
        for key in ("members", "lstm_lookback"):
            del meta["model_config"][key]
        tensors = {k.replace("model.members.0.", "model."): v for k, v in tensors.items()}
    checksum = _tensor_only_checksum(tensors)
    save_file(tensors, old, metadata={"forecaster": json.dumps(meta), "checksum": checksum})
    expected = (
        f"forecaster: error: {old} was written by an older forecaster (model format {version}), "
        "whose checksum does not cover its settings; this version reads format 3 only: train "
        "the model again"
    )
    result = invoke(["predict", "-m", str(old)])
    assert result.exit_code == 4 and result.stdout == ""
    assert result.stderr.strip() == expected
    for command in (["info", str(old)], ["predict", "-m", str(old), "-o", str(tmp_path / "f")]):
        process = run_forecaster(command)
        assert process.returncode == 4
        assert process.stderr.decode().strip() == expected and process.stdout == b""
    assert not (tmp_path / "f").exists()


def test_auto_device_picks_cuda_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from forecaster.errors import UsageError
    from forecaster.train import select_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto").type == "cuda" and select_device("cuda").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device("auto").type == "cpu"
    with pytest.raises(UsageError, match="no CUDA device is available; use --device cpu"):
        select_device("cuda")


def test_cuda_without_a_gpu_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    data, model = tmp_path / "d.csv", tmp_path / "m.fcst"
    seasonal_frame().to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(model), "--device", "cuda", *FAST])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "forecaster: error: --device cuda: no CUDA device is available; use --device cpu or auto"
    )
    assert not model.exists() and list(tmp_path.iterdir()) == [data]


def test_bf16_on_cpu_warns_and_trains_the_same_fp32_model(caplog: pytest.LogCaptureFixture) -> None:
    """bf16 autocast is for GPUs; on CPU results stay deterministic, in fp32."""
    import logging

    panel = panel_of(seasonal_frame())
    logger = logging.getLogger("forecaster")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="forecaster"):
            bf16, _ = fit(panel, small_config(precision="bf16", device="cpu"))
    finally:
        logger.removeHandler(caplog.handler)
    fp32, _ = fit(panel, small_config(precision="fp32", device="cpu"))
    assert "--precision bf16 applies on GPU only; training in fp32 on cpu" in caplog.text
    pd.testing.assert_frame_equal(predict(bf16), predict(fp32))


@pytest.mark.parametrize("max_windows", [None, 40])  # every window an epoch, or a sample
def test_spreads_computed_once_train_the_same_weights_to_the_bit(
    monkeypatch: pytest.MonkeyPatch, max_windows: int | None
) -> None:
    """`train.window_spreads` computes each window's spread once instead of in every step:
    the same operation on the same rows, so the weights must not move by one bit."""
    from forecaster import train

    panel = panel_of(seasonal_frame())
    config = small_config(max_windows_per_epoch=max_windows or 20_000)
    monkeypatch.setattr(train, "SPREAD_CACHE_EPOCHS", 100)  # cached even for 40 a epoch
    cached_spreads: list[bool] = []
    real = train.window_spreads

    def spying(*args: Any) -> torch.Tensor | None:
        spreads = real(*args)
        cached_spreads.append(spreads is not None)
        return spreads

    monkeypatch.setattr(train, "window_spreads", spying)
    cached, _ = fit(panel, config)
    assert cached_spreads == [True]  # the cache was used
    monkeypatch.setattr(train, "SPREAD_CACHE_EPOCHS", 0)
    cached_spreads.clear()
    computed, _ = fit(panel, config)
    assert cached_spreads == [False]
    assert set(cached.weights) == set(computed.weights)
    for name, array in cached.weights.items():
        np.testing.assert_array_equal(computed.weights[name], array)
