"""Typed configuration: the network's sizes (`ModelConfig`) and a training run (`TrainConfig`).

A training run is built from defaults < config file < flags.

Fields left as ``None`` are chosen from the data (horizon and lookback depend on the
frequency; see `sizing.resolve_sizes` and `windows.resolve_lookback`).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forecaster.errors import UsageError

FILL_POLICIES = ("interpolate", "ffill", "error")
OUTLIER_POLICIES = ("fill", "keep")  # `TrainConfig.outliers` (see forecaster/outliers.py)
LEADING_POLICIES = ("drop", "keep")  # `TrainConfig.leading_run` (see forecaster/starts.py)
DUPLICATES = ("auto", "error", "mean", "first", "last")
# `--duplicates auto` merges repeated timestamps when at most one row in this many repeats
# one (`data.duplicates`).
AUTO_ROWS_PER_REPEAT = 1000
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16")
LOSSES = ("mse", "mae", "huber")
WINDOW_NORMS = ("last", "mean", "none")
SCHEDULES = ("none", "cosine")
CALENDAR_RULES = ("auto", "on", "none")
# Adam's step is about the learning rate itself; far above this it overflows float32.
MAX_LR = 10.0
# torch.manual_seed takes a 64-bit seed; members use seed, seed + 1, ... (within 2**64 - 1).
MAX_SEED = 2**63 - 1
# --max-time: about three years; beyond, perf_counter arithmetic stops meaning anything.
MAX_SECONDS = 1e8
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(h|min|m|s)?")
_UNIT_SECONDS = {"h": 3600.0, "min": 60.0, "m": 60.0, "s": 1.0, None: 1.0}
# torch.set_num_threads(100000) crashes the process; far more than the cores of any machine.
MAX_THREADS = 1024


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90``, ``90s``, ``10m``, ``1.5h`` or ``1h30m``."""
    compact = text.strip().lower().replace(" ", "")
    parts = list(_DURATION_PART.finditer(compact))
    unitless = len(parts) > 1 and any(p.group(2) is None for p in parts)  # "5s5": 5 what?
    if not compact or unitless or "".join(p.group(0) for p in parts) != compact:
        raise UsageError(
            f"invalid value for --max-time: {text!r}; give a duration such as 90s, 10m, "
            "1.5h or 1h30m (a plain number is seconds)"
        )
    return sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2)] for p in parts)


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
    # Covariate channels after the targets in every input row (see `Schema`): past ones,
    # future-known ones (calendar included) and static ones; and how many of the last
    # context rows of past and future covariates the linear skip reads (see
    # `covariate_features`; validation chooses it, `linear.fit_skip`).
    n_past: int = 0
    n_future: int = 0
    n_static: int = 0
    n_calendar: int = 0  # the last of the n_future channels: derived from the timestamps
    covariate_rows: int = 0

    @property
    def recurrent_rows(self) -> int:
        return self.lookback if self.lstm_lookback is None else self.lstm_lookback

    @property
    def n_covariates(self) -> int:
        return self.n_past + self.n_future + self.n_static

    @property
    def input_rows(self) -> int:
        """Rows of a model input: the context, and with covariates the horizon too (whose
        target cells the network never reads)."""
        return self.lookback + self.horizon if self.n_covariates else self.lookback

    @property
    def covariate_features(self) -> int:
        """Inputs of the linear skip's covariate part (0: it has none). ``covariate_rows``
        0: no part; 1: the future covariates over the horizon; r > 1: also the changes of
        past and future ones over the last r - 1 context rows (`model.covariate_changes`)."""
        if not self.linear_skip or not self.covariate_rows:
            return 0
        rows = max(self.covariate_rows - 1, 0)
        return self.horizon * self.skip_future + rows * (self.n_past + self.skip_future)

    @property
    def skip_future(self) -> int:
        """Future channels the linear skip reads: the user's, not the calendar's. On EPF
        the calendar's changes in the skip cost more than they gave (MAE 7.65 against 6.08
        without any calendar, one network); the LSTM and the head still read it."""
        return self.n_future - self.n_calendar

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
    duplicates: str = "auto"  # rows repeating a timestamp: refused, or merged (data.duplicates)
    outliers: str = "fill"  # isolated wild target values: filled as gaps, or kept (outliers)
    leading_run: str = "drop"  # zeros or one held value before a series starts (starts)
    # Model
    horizon: int | None = None
    lookback: int | None = None
    layers: int = 2
    hidden: int = 64
    dropout: float = 0.1
    window_norm: str = "last"
    linear_skip: bool = True
    segment: int = 0  # 0: chosen from the frequency (see sizing.resolve_segment)
    ensemble: int = 3  # networks trained from seeds seed, seed + 1, ...; forecasts averaged
    # Training
    epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-3
    patience: int = 0  # epochs; 0: automatic (see tuning.Tuning.patience_max_checks)
    val_fraction: float = 0.1
    seed: int = 0
    threads: int = 0  # 0: one, unless OMP_NUM_THREADS says otherwise (see train.set_threads)
    device: str = "auto"
    precision: str = "fp32"
    max_windows_per_epoch: int = 20_000
    loss: str = "mae"
    schedule: str = "cosine"
    max_time: float | None = None  # seconds of training (all networks); None: no limit
    # Covariates (see data.Schema): columns by role, calendar features ("auto": when any
    # covariate is given) and countries whose public holidays are features.
    past_covariates: list[str] = field(default_factory=list)
    future_covariates: list[str] = field(default_factory=list)
    static_covariates: list[str] = field(default_factory=list)
    calendar: str = "auto"
    holidays: list[str] = field(default_factory=list)
    # Forecasts of a series whose history never went below 0 are kept >= 0 unless this is set.
    allow_negative: bool = False

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
            ("patience", self.patience >= 0, "an integer >= 1 (0: automatic)"),
            ("seed", 0 <= self.seed <= MAX_SEED, f"an integer in [0, {MAX_SEED}]"),
            (
                "threads",
                0 <= self.threads <= MAX_THREADS,
                f"an integer in [0, {MAX_THREADS}] (0: automatic)",
            ),
            ("val-fraction", 0.0 <= self.val_fraction < 1.0, "a number in [0, 1)"),
            ("fill", self.fill in FILL_POLICIES, " | ".join(FILL_POLICIES)),
            ("duplicates", self.duplicates in DUPLICATES, " | ".join(DUPLICATES)),
            ("outliers", self.outliers in OUTLIER_POLICIES, " | ".join(OUTLIER_POLICIES)),
            (
                "leading-run",
                self.leading_run in LEADING_POLICIES,
                " | ".join(LEADING_POLICIES),
            ),
            ("device", self.device in DEVICES, " | ".join(DEVICES)),
            ("precision", self.precision in PRECISIONS, " | ".join(PRECISIONS)),
            ("max-windows-per-epoch", self.max_windows_per_epoch >= 1, "an integer >= 1"),
            ("loss", self.loss in LOSSES, " | ".join(LOSSES)),
            ("schedule", self.schedule in SCHEDULES, " | ".join(SCHEDULES)),
            ("calendar", self.calendar in CALENDAR_RULES, " | ".join(CALENDAR_RULES)),
            (
                "max-time",
                self.max_time is None or 0 < self.max_time <= MAX_SECONDS,
                f"a duration above 0 and at most {MAX_SECONDS:g} seconds, e.g. 90s, 10m, 2h",
            ),
        ]
        for name, ok, valid in checks:
            if not ok:
                value = getattr(self, name.replace("-", "_"))
                raise UsageError(f"invalid value for --{name}: {value!r}; use {valid}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# What `train --from MODEL` may change (`warmstart`): how long and how fast the update
# learns, and how DATA is read; everything else is MODEL's.
UPDATABLE = (
    "epochs", "lr", "patience", "max_time", "batch_size", "seed", "threads", "device",
    "precision", "val_fraction", "fill", "duplicates", "outliers", "leading_run",
)  # fmt: skip


def load_config(path: Path | None, overrides: dict[str, Any]) -> TrainConfig:
    """Defaults, then the TOML file's keys, then the flags the user gave (``None`` = not given)."""
    return TrainConfig(**given_values(path, overrides)).validate()


def given_values(path: Path | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """The settings the user chose: the TOML file's keys, then the flags given."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_toml(path))
    values.update({k: v for k, v in overrides.items() if v is not None and v != []})
    return values


class FieldTypeError(ValueError):
    """A value whose type is not the one its dataclass field declares."""

    def __init__(self, key: str, given: str, expected: str) -> None:
        super().__init__(f"key {key!r} is {given}; expected {expected}")
        self.key, self.given, self.expected = key, given, expected


def typed_fields(
    cls: type, values: dict[str, Any], *, null: bool = False, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """``values`` checked against the field types of dataclass ``cls``, ints for floats converted.

    Types come from the class's annotations (``int``, ``float``, ``str``, ``bool``,
    ``list[str]``, ``X | None``), so a TOML config file and a model file's saved
    configuration are held to the same rules: a bool is not an int, an int is accepted (as a
    float) where a float belongs, ``None`` only where the field allows it and ``null`` is
    true (TOML has no null). Keys that are not fields are left to the caller. Raises
    `FieldTypeError` naming the key (as ``names`` spells it, else the field name).
    """
    hints = _field_types(cls)
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            checked[key] = value
            continue
        hint = hints[key]
        ok, converted = _conform(hint, value, null)
        if not ok:
            key_name = (names or {}).get(key, key)
            raise FieldTypeError(key_name, _given(hint, value), _expected(hint, null))
        checked[key] = converted
    return checked


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _optional(hint: Any) -> tuple[Any, bool]:
    """``X | None`` as (X, True); any other type as (itself, False)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported field type {hint}")
        return args[0], True
    return hint, False


def _conform(hint: Any, value: Any, null: bool) -> tuple[bool, Any]:
    inner, optional = _optional(hint)
    if value is None:
        return optional and null, None
    if inner is bool:
        return isinstance(value, bool), value
    if inner is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if inner is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False, value
        try:
            return True, float(value)
        except OverflowError:  # an integer beyond float range: as large as a float gets
            return True, math.inf if value > 0 else -math.inf
    if inner is str:
        return isinstance(value, str), value
    if typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        if not isinstance(value, list):
            return False, value
        items = [_conform(item, v, False) for v in value]
        return all(ok for ok, _ in items), [v for _, v in items]
    raise TypeError(f"unsupported field type {hint}")


def _expected(hint: Any, null: bool) -> str:
    inner, optional = _optional(hint)
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    plurals = {bool: "booleans", int: "integers", float: "numbers", str: "strings"}
    if typing.get_origin(inner) is list:
        text = f"a list of {plurals[typing.get_args(inner)[0]]}"
    else:
        text = names[inner]
    return f"{text} or null" if optional and null else text


def _given(hint: Any, value: Any) -> str:
    inner, _ = _optional(hint)
    if typing.get_origin(inner) is list and isinstance(value, list):
        (item,) = typing.get_args(inner)
        bad = next(v for v in value if not _conform(item, v, False)[0])
        return f"a list holding {describe_value(bad)}"
    return describe_value(value)


def describe_value(value: Any, mapping: str = "a table") -> str:
    """A value's type in words, with the value itself when short: "a string ('ten')"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({short_repr(value)})"
    if isinstance(value, float):
        return f"a number ({short_repr(value)})"
    if isinstance(value, str):
        return f"a string ({short_repr(value)})"
    if isinstance(value, list):
        return f"a list ({short_repr(value)})"
    if isinstance(value, dict):
        return mapping
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return f"a date or time ({value.isoformat()})"
    return f"a {type(value).__name__}"


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters (reprs escape newlines)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"config file {path} is a directory, not a TOML file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    # Accept the flag spelling (batch-size) as well as the field name (batch_size).
    values = {str(k).replace("-", "_"): v for k, v in raw.items()}
    names = {str(k).replace("-", "_"): str(k) for k in raw}
    if "target" in values:
        target = values.pop("target")  # one target, or several
        values["targets"] = [target] if isinstance(target, str) else target
        names["targets"] = "target"
    if isinstance(values.get("max_time"), str):  # max-time = "10m", as on the command line
        values["max_time"] = parse_duration(values["max_time"])
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(
            f"config file {path}: unknown key(s) {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(known))}"
        )
    try:
        return typed_fields(TrainConfig, values, names=names)
    except FieldTypeError as exc:
        expected = "a string or a list of strings" if exc.key == "target" else exc.expected
        raise UsageError(
            f"config file {path}: key {exc.key!r} is {exc.given}; expected {expected}"
        ) from None
