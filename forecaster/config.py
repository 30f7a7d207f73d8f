"""Typed configuration: the network's sizes (`ModelConfig`) and a training run (`TrainConfig`).

A training run is built from defaults < config file < flags.

Fields left as ``None`` are chosen from the data (horizon and lookback depend on the
frequency; see `resolve_horizon` and `resolve_lookback`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from forecaster.errors import UsageError

FILL_POLICIES = ("interpolate", "ffill", "error")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16")
LOSSES = ("mse", "mae", "huber")
WINDOW_NORMS = ("last", "mean", "none")
SCHEDULES = ("none", "cosine")
# Adam's step is about the learning rate itself; far above this it overflows float32.
MAX_LR = 10.0


@dataclass
class ModelConfig:
    """Sizes of the network: saved beside the weights, all that is needed to rebuild it."""

    n_targets: int
    lookback: int  # rows of context the network reads (the linear skip sees them all)
    horizon: int
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.1
    window_norm: str = "last"  # "last", "mean" or "none": what each window is centred on
    linear_skip: bool = True
    segment: int = 1  # time steps the LSTM reads per step; lstm_lookback is a multiple of it
    lstm_lookback: int | None = None  # the last rows the LSTM reads (None: all of lookback)
    members: int = 1  # networks of the same shape whose forecasts are averaged

    @property
    def recurrent_rows(self) -> int:
        return self.lookback if self.lstm_lookback is None else self.lstm_lookback

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TrainConfig:
    """Everything that decides how a model is trained; saved inside the model file."""

    # Data
    time: str | None = None
    targets: list[str] = field(default_factory=list)
    id: str | None = None
    freq: str | None = None
    fill: str = "interpolate"
    # Model
    horizon: int | None = None
    lookback: int | None = None
    layers: int = 2
    hidden: int = 64
    dropout: float = 0.1
    window_norm: str = "last"
    linear_skip: bool = True
    segment: int = 0  # 0: chosen from the frequency (see pipeline.resolve_sizes)
    ensemble: int = 3  # networks trained from seeds seed, seed + 1, ...; forecasts averaged
    # Training
    epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-3
    patience: int = 8
    val_fraction: float = 0.1
    seed: int = 0
    threads: int = 0  # 0: one, unless OMP_NUM_THREADS says otherwise (see train.set_threads)
    device: str = "auto"
    precision: str = "fp32"
    max_windows_per_epoch: int = 20_000
    loss: str = "mae"
    schedule: str = "cosine"

    def validate(self) -> TrainConfig:
        """Refuse values that cannot work, naming the valid range (exit code 2)."""
        checks: list[tuple[str, bool, str]] = [
            ("horizon", self.horizon is None or self.horizon >= 1, "an integer >= 1"),
            ("lookback", self.lookback is None or self.lookback >= 1, "an integer >= 1"),
            ("layers", self.layers >= 1, "an integer >= 1"),
            ("ensemble", self.ensemble >= 1, "an integer >= 1"),
            ("segment", self.segment >= 0, "an integer >= 0 (0: automatic)"),
            ("window-norm", self.window_norm in WINDOW_NORMS, " | ".join(WINDOW_NORMS)),
            ("hidden", self.hidden >= 1, "an integer >= 1"),
            ("dropout", 0.0 <= self.dropout < 1.0, "a number in [0, 1)"),
            ("epochs", self.epochs >= 1, "an integer >= 1"),
            ("batch-size", self.batch_size >= 1, "an integer >= 1"),
            ("lr", 0 < self.lr <= MAX_LR, f"a number in (0, {MAX_LR:g}]"),
            ("patience", self.patience >= 1, "an integer >= 1"),
            ("threads", self.threads >= 0, "an integer >= 0 (0: automatic)"),
            ("val-fraction", 0.0 <= self.val_fraction < 1.0, "a number in [0, 1)"),
            ("fill", self.fill in FILL_POLICIES, " | ".join(FILL_POLICIES)),
            ("device", self.device in DEVICES, " | ".join(DEVICES)),
            ("precision", self.precision in PRECISIONS, " | ".join(PRECISIONS)),
            ("max-windows-per-epoch", self.max_windows_per_epoch >= 1, "an integer >= 1"),
            ("loss", self.loss in LOSSES, " | ".join(LOSSES)),
            ("schedule", self.schedule in SCHEDULES, " | ".join(SCHEDULES)),
        ]
        for name, ok, valid in checks:
            if not ok:
                value = getattr(self, name.replace("-", "_"))
                raise UsageError(f"invalid value for --{name}: {value!r}; use {valid}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def load_config(path: Path | None, overrides: dict[str, Any]) -> TrainConfig:
    """Defaults, then the TOML file's keys, then the flags the user gave (``None`` = not given)."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_toml(path))
    values.update({k: v for k, v in overrides.items() if v is not None and v != []})
    return TrainConfig(**values).validate()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    # Accept the flag spelling (batch-size) as well as the field name (batch_size).
    values = {str(k).replace("-", "_"): v for k, v in raw.items()}
    if "target" in values:
        target = values.pop("target")
        values["targets"] = [target] if isinstance(target, str) else list(target)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(
            f"config file {path}: unknown key(s) {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(known))}"
        )
    return values
