"""The ablations of benchmarks/accuracy.py: `--set` (TrainConfig fields) and `--patch`
(choices that are not configuration keys, as a `forecaster.tuning.Tuning` passed to
`pipeline.fit`, or, for the two that replace library code, patched into this process)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch

from forecaster.config import TrainConfig
from forecaster.tuning import TUNING, Tuning


def tuning_for(specs: list[str]) -> Tuning:
    """The `Tuning` that ``--patch`` options ask for (the library's own without any),
    passed to `pipeline.fit`; a patch of code rather than of a setting is applied to this
    process here (`patch_code`).

    zero-head        start the LSTM's head at zero (the network begins as its linear skip)
    adamw=WD         AdamW with weight decay WD instead of Adam
    no-lstsq         leave the linear skip at zero instead of fitting it by least squares
    single-lookback  the skip reads the LSTM's lookback only (no averaging over 2x, 4x, 8x)
    skip-scales=A,B  the one set of window lengths the skip averages, as multiples of L
                     (default: validation chooses among 1,2,4,8 / 0.5,...,8 / 0.25,...,8)
    skip-share=F     the skip's longest window within F of the median training rows (1/3)
    no-start-check   do not count the starting weights as a validation check
    check-every=N    check validation every N training windows (default 2,000)
    max-val-windows=N  validation windows per check (default 3,000)
    patience-checks=N  early stopping waits at most N checks (default 10)
    per-tensor-adam  Adam's update tensor by tensor (before 2026-12-04: see optim._FlatBuffers)
    no-final-decay   stop when automatic patience runs out, without the final decay (and
                     without the plateau rule; before 2026-12-04: Tuning.final_decay_epochs)
    every-check      check every 2,000 windows in every epoch, also where epochs sample a
                     larger set (before 2026-12-04: Tuning.sampled_epoch_checks)
    every-member     train every network even when the first never bettered its starting
                     weights (before 2026-12-07: Tuning.unbeaten_first_decides)
    every-decay      every network runs its final decay even when the first network's found
                     nothing (before 2026-12-07: Tuning.fruitless_decay_first_decides)
    """
    tuning = TUNING
    for spec in specs:
        name, _, value = spec.partition("=")
        if name in TUNING_PATCHES:
            tuning = dataclasses.replace(tuning, **TUNING_PATCHES[name](value))
        else:
            patch_code(name)
    return tuning


def adamw(decay: float) -> Callable[[Any, float], Any]:
    """torch's AdamW with weight decay ``decay``, with the `optim.Adam` interface the
    training loop uses (`Tuning.optimizer`)."""

    class AdamW(torch.optim.AdamW):
        def __init__(self, params: Any, lr: float) -> None:
            super().__init__(params, lr=lr, weight_decay=decay)

        @property
        def lr(self) -> float:
            return float(self.param_groups[0]["lr"])

        @lr.setter
        def lr(self, value: float) -> None:
            for group in self.param_groups:
                group["lr"] = value

        def clip_grad_norm(self, max_norm: float) -> None:
            params = [p for group in self.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, max_norm)

        def release(self) -> None:
            """Nothing to give back: torch's optimisers leave the parameters' storage alone."""

    return AdamW


# --patch NAME[=VALUE] -> the `Tuning` fields it sets.
TUNING_PATCHES: dict[str, Callable[[str], dict[str, Any]]] = {
    "adamw": lambda value: {"optimizer": adamw(float(value or 0.05))},
    "single-lookback": lambda value: {"skip_candidates": ((1,),)},  # [[L]]: the L-row skip
    "skip-scales": lambda value: {"skip_candidates": (tuple(float(a) for a in value.split(",")),)},
    "skip-share": lambda value: {"skip_max_share": float(value)},
    "no-start-check": lambda value: {"check_at_start": False},
    "check-every": lambda value: {"windows_per_check": int(value)},
    "max-val-windows": lambda value: {"max_val_windows": int(value)},
    "patience-checks": lambda value: {"patience_max_checks": int(value)},
    "per-tensor-adam": lambda value: {"flat_adam": False},
    "no-final-decay": lambda value: {"final_decay_epochs": 0},
    "every-check": lambda value: {"sampled_epoch_checks": False},
    "every-member": lambda value: {"unbeaten_first_decides": False},
    "every-decay": lambda value: {"fruitless_decay_first_decides": False},
}


def patch_code(name: str) -> None:
    """The ablations that replace library code in this process (not settings): zero-head,
    no-lstsq (see `tuning_for`)."""
    if name == "zero-head":
        from forecaster import model as model_module

        init = model_module.LSTMForecaster.__init__

        def zero_head(self: Any, config: Any) -> None:
            init(self, config)
            torch.nn.init.zeros_(self.head.weight)
            torch.nn.init.zeros_(self.head.bias)

        model_module.LSTMForecaster.__init__ = zero_head  # type: ignore[method-assign]
    elif name == "no-lstsq":
        from forecaster import pipeline as pipeline_module

        fit_skip = pipeline_module.fit_skip

        def zero_skip_fit(*args: Any, **kwargs: Any) -> Any:
            weight, bias, covariate, fitted = fit_skip(*args, **kwargs)
            zero = None if covariate is None else torch.zeros_like(covariate)
            return torch.zeros_like(weight), torch.zeros_like(bias), zero, fitted

        pipeline_module.fit_skip = zero_skip_fit
    else:
        raise SystemExit(f"unknown --patch {name!r}; see tuning_for's docstring")


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """key=value pairs for TrainConfig fields, typed like the defaults."""
    defaults = TrainConfig()
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        current = getattr(defaults, key)
        if isinstance(current, bool):
            out[key] = text.lower() in ("1", "true", "yes")
        elif isinstance(current, int) or (current is None and text.isdigit()):
            out[key] = int(text)
        elif isinstance(current, float):
            out[key] = float(text)
        else:
            out[key] = text
    return out
