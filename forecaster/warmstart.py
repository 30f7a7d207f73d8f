"""`train DATA --from OLD`: a model updated with new rows, starting from OLD's networks.

A scheduled pipeline gets new rows every night. Training from scratch each time costs the
full training again and can change the lookback, scalers and networks from one day to the
next; an update keeps OLD's shape and settings and only learns. What it does:

- DATA is read as OLD reads data (its columns, frequency, zone, date order, business
  hours): whatever does not fit is refused in one line (exit 3), as `predict` refuses it.
- A series of DATA that starts one step after the history OLD stored of it continues that
  history (`continuation`): the stored rows go before it, so DATA may hold only the rows
  that arrived. Otherwise DATA is taken as the series' whole history.
- Known series keep OLD's scalers (the networks learnt in those units); new series get
  theirs as training gives any series; series absent from DATA are left out of NEW.
- Each network starts from OLD's weights (linear skip included) and trains at a tenth of
  the learning rate for a few epochs, on the windows that reach rows OLD never trained on
  and some older ones (`UPDATE_WINDOWS`). OLD's weights compete at each network's first
  validation check, and OLD's ensemble against NEW's on the validation MASE of the newest
  rows: an update never keeps networks that validate worse than OLD's (NEW then holds
  OLD's networks with the new rows as its history, and says so).

Only what leaves the networks' shape and the data's meaning alone can change
(`config.UPDATABLE`); any other flag is refused (exit 2), never ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster.artifact import Artifact
from forecaster.config import UPDATABLE, TrainConfig
from forecaster.continuation import with_stored_history
from forecaster.data import Panel
from forecaster.errors import DataError, UsageError

if TYPE_CHECKING:
    import torch

# An update's defaults where the user gave none: fewer epochs, smaller steps (fine-tuning
# from trained weights; a full learning rate undoes what OLD learnt in the first epoch).
# Five epochs, not ten: on the real-world suite's nightly-update scenario they scored as well
# (geometric mean 0.800 against 0.803) at two thirds of the CPU (docs/updating.md).
UPDATE_EPOCHS = 5
UPDATE_LR_FACTOR = 0.1
# Windows an update learns from: those reaching rows OLD never trained on, and older ones
# as many again, at least this many in all where there are that many
# (`_newest_and_some_older`).
UPDATE_WINDOWS = 1024


@dataclass(frozen=True)
class Lineage:
    """Where an updated model came from, stored in NEW (`info` shows the chain)."""

    file: str
    sha256: str
    updated_at: str
    rows_added: int
    series_added: int
    series_dropped: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def file_sha256(path: Path) -> str:
    """The file's SHA-256, as `sha256sum` prints it: what a user can check OLD against."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _flag(key: str) -> str:
    return "--" + {"past_covariates": "past-covariate", "future_covariates": "future-covariate",
                   "static_covariates": "static-covariate",
                   "targets": "target"}.get(key, key.replace("_", "-"))  # fmt: skip


def _same(key: str, value: Any, old: Artifact) -> bool:
    """Whether a flag asks for what OLD already is (then it is no change, and allowed)."""
    if key == "horizon":
        return bool(value == old.model_config.horizon)
    if key == "lookback":
        return value in (old.train_config.lookback, old.model_config.lookback)
    return bool(getattr(old.train_config, key, None) == value)


def update_config(
    old: Artifact, old_name: str, given: dict[str, Any], dayfirst: bool | None = None
) -> TrainConfig:
    """OLD's training settings with the changes an update may make (``given``: the flags
    and config-file keys the user set); any other change is refused (exit 2)."""
    order = None if dayfirst is None else ("dmy" if dayfirst else "mdy")
    if order is not None and order != old.schema.date_order:
        raise UsageError(
            f"--{'dayfirst' if dayfirst else 'monthfirst'} cannot be changed with --from: "
            f"{old_name} reads dates {old.schema.date_order or 'year first'}"
        )
    for key, value in given.items():
        if key in UPDATABLE or _same(key, value, old):
            continue
        was = getattr(old.train_config, key, None)
        if key == "horizon":
            was = old.model_config.horizon
        allowed = ", ".join(_flag(k) for k in UPDATABLE)
        raise UsageError(
            f"{_flag(key)} cannot be changed with --from: {old_name} was trained with "
            f"{key} = {was!r}, and an update keeps its network's shape and its data's "
            f"columns; with --from only {allowed} apply (train without --from for a new model)"
        )
    values = {k: v for k, v in given.items() if k in UPDATABLE}
    if not old.lineage:  # OLD was trained from scratch: an update's own defaults
        values.setdefault("epochs", UPDATE_EPOCHS)
        values.setdefault("lr", old.train_config.lr * UPDATE_LR_FACTOR)
    # else OLD is an update already: its settings are an update's, and carry over
    return dataclasses.replace(old.train_config, **values).validate()


@dataclass
class Joined:
    """DATA as the update trains on it, and what it added to OLD."""

    panel: Panel
    rows_added: int
    series_added: int
    series_dropped: int
    # Per series of ``panel``: its first row OLD's networks did not train on (after OLD's
    # train_end; 0 for a new series).
    learnt_to: np.ndarray
    # Per series: whether its first rows are OLD's stored ones (DATA continues them).
    continued: np.ndarray


def join(old: Artifact, panel: Panel) -> Joined:
    """DATA's series, with OLD's stored rows before each that continues them."""
    joined, joined_at = with_stored_history(old, panel, earlier=True)
    known = joined.positions(old.ids)
    learnt_to = np.zeros(joined.n_series, dtype=np.int64)
    rows_added = 0
    for i, k in enumerate(known.tolist()):
        length = int(joined.lengths[i])
        if k < 0:
            rows_added += length
            continue
        stamps = pd.DatetimeIndex(joined.timestamps(np.full(length, i), np.arange(length)))
        rows_added += length - _rows_to(stamps, old.series_end[k])
        learnt_to[i] = _rows_to(stamps, old.train_end[k])
    if rows_added == 0:
        raise DataError(
            "DATA holds no rows after the model's last timestamp: nothing to update with "
            f"(the model ends at {max(old.series_end)})"
        )
    added = int((known < 0).sum())
    present = set(joined.ids)
    dropped = sum(series_id not in present for series_id in old.ids)
    return Joined(joined, rows_added, added, dropped, learnt_to, joined_at >= 0)


def _rows_to(stamps: pd.DatetimeIndex, last: pd.Timestamp) -> int:
    """How many of a series' rows are at or before ``last``."""
    return int(np.searchsorted(stamps.asi8, pd.Timestamp(last).as_unit("ns").value, "right"))


def starting_weights(old: Artifact, members: int) -> list[dict[str, torch.Tensor]]:
    """Each network's weights in OLD, as `LSTMForecaster.load_state_dict` takes them."""
    import torch

    states: list[dict[str, torch.Tensor]] = [{} for _ in range(members)]
    for name, array in old.weights.items():
        _, k, rest = name.split(".", 2)  # members.K.<parameter>
        states[int(k)][rest] = torch.from_numpy(np.array(array, copy=True))
    return states


def update(
    old: Artifact,
    lineage: Lineage,
    joined: Joined,
    config: TrainConfig,
    on_epoch: Callable[..., None] | None = None,
) -> Artifact:
    """NEW: OLD's networks trained further on ``joined``, packaged as `train` packages a fit,
    with its lineage and OLD's validation scores on the same newest rows beside its own."""
    from forecaster import outliers, pipeline, starts
    from forecaster.distributed import World
    from forecaster.model import Ensemble
    from forecaster.packaging import finish_package, package
    from forecaster.train import select_device, set_threads
    from forecaster.validation import validation_scores
    from forecaster.windows import fit_scaler, make_windows, split_series

    started = time.perf_counter()
    model_config = old.model_config
    lookback, horizon = model_config.lookback, model_config.horizon
    panel = starts.started(joined.panel, config.leading_run, lookback + 2 * horizon,
                           source="DATA", judged=~joined.continued)  # fmt: skip
    learnt_to = np.maximum(joined.learnt_to - (joined.panel.lengths - panel.lengths), 0)
    panel = outliers.cleaned(panel, config.outliers, source="DATA")
    split = split_series(panel.lengths, horizon, lookback, config.val_fraction)
    if not split.n_val.any():
        raise DataError(
            f"too few rows to update with: {int(panel.lengths.max())} rows in the longest "
            f"series (with the rows the model stored before DATA where DATA continues them); "
            f"an update trains on and validates with the newest rows, which needs "
            f"lookback + 2 x horizon = {lookback + 2 * horizon}; give DATA with more history "
            "(the whole file)"
        )
    scaler = fit_scaler(panel, split)
    known = panel.positions(old.ids)
    for i, k in enumerate(known.tolist()):  # known series: the units OLD learnt in
        if k >= 0:
            scaler.mean[i], scaler.std[i] = old.scaler.mean[k], old.scaler.std[k]
    device = select_device(config.device)
    threads = set_threads(config.threads)
    windows = make_windows(panel, scaler, split, lookback, horizon, device, seed=config.seed,
                           covariate_scaler=old.covariate_scaler)  # fmt: skip
    windows = _newest_and_some_older(windows, panel, split, learnt_to, config.seed)
    prep = pipeline.Prepared(
        split, scaler, old.covariate_scaler, device, threads, windows, model_config, None
    )
    prepared = time.perf_counter() - started
    deadline = started + config.max_time if config.max_time else None
    start = starting_weights(old, model_config.members)
    members, results = pipeline.train_networks(
        panel, prep, config, on_epoch, None, deadline, start=start
    )
    trained = time.perf_counter() - started
    world = World()
    new, _ = package(panel, config, prep, members, results, world, started, prepared, trained,
                     finish=False)  # fmt: skip
    as_old = dataclasses.replace(new, weights=old.weights, blend=old.blend)  # OLD as it was
    before = validation_scores(as_old, panel, split, warn=False)
    kept = _better(before, new.summary.get("validation"))
    if kept:  # the update's networks validate worse on the newest rows than OLD's: keep OLD's
        for member, state in zip(members, start, strict=True):
            member.load_state_dict(state)
        new, _ = package(panel, config, prep, members, results, world, started, prepared,
                         trained, finish=False)  # fmt: skip
    # Gates and intervals once, for the networks NEW keeps.
    finish_package(new, Ensemble(model_config, members), panel, split, started)
    if new.nonnegative is not None and old.nonnegative is not None:
        # A series that went below 0 in the history OLD saw did so even if DATA (only the
        # new rows, after OLD's stored ones) does not show it.
        for i, k in enumerate(known.tolist()):
            if k >= 0:
                new.nonnegative[i] &= old.nonnegative[k]
    if "linear_skip" in old.summary:  # the skip's choice was OLD's
        new.summary["linear_skip"] = old.summary["linear_skip"]
    new.summary["validation_before"] = before
    new.summary["kept_networks"] = "old" if kept else "updated"
    new.summary["updated_from"] = lineage.file
    new.lineage = [*old.lineage, lineage.to_dict()]
    return new


def _better(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Whether OLD's validation MASE on the newest rows is below the update's."""
    was = (old or {}).get("mase", {}).get("model")
    now = (new or {}).get("mase", {}).get("model")
    return was is not None and now is not None and was < now


def _newest_and_some_older(
    windows: Any, panel: Panel, split: Any, learnt_to: np.ndarray, seed: int
) -> Any:
    """The training windows an update learns from: every one whose target reaches a row
    OLD's networks never trained on (after its ``train_end``), and older ones drawn at
    random, as many again and at least `UPDATE_WINDOWS` in all, so that the networks keep
    what the older seasons taught them."""
    import torch

    starts = windows.train_starts.cpu().numpy()
    if not len(starts):
        return windows
    lookback, horizon = windows.lookback, windows.horizon
    n_train = split.n_train.astype(np.int64)
    pads = np.maximum(0, lookback + horizon - n_train)  # the layout of `make_windows`
    bases = np.concatenate([[0], np.cumsum(panel.lengths + pads)])[:-1]
    owner = np.searchsorted(bases, starts, side="right") - 1
    last_target = starts + lookback + horizon - 1 - bases[owner] - pads[owner]
    reaches_new = last_target >= learnt_to[owner]
    older = np.flatnonzero(~reaches_new)
    wanted = max(int(reaches_new.sum()), UPDATE_WINDOWS - int(reaches_new.sum()))
    if wanted < len(older):
        older = np.sort(np.random.default_rng(seed).choice(older, wanted, replace=False))
    keep = np.sort(np.concatenate([np.flatnonzero(reaches_new), older]))
    chosen = windows.train_starts[torch.from_numpy(keep).to(windows.train_starts.device)]
    val_starts = windows.val_starts
    if len(val_starts) > UPDATE_WINDOWS:  # read after every epoch: evenly spread, fewer
        spread = np.linspace(0, len(val_starts) - 1, UPDATE_WINDOWS).round().astype(np.int64)
        val_starts = val_starts[torch.from_numpy(spread).to(val_starts.device)]
    return dataclasses.replace(windows, train_starts=chosen, val_starts=val_starts)


def run_update(
    data: str,
    old_path: Path,
    old: Artifact,
    config: TrainConfig,
    holdout: int = 0,
    on_epoch: Callable[..., None] | None = None,
) -> Artifact:
    """What `train DATA --from OLD` does after reading its flags: read DATA as OLD reads
    data, join it to OLD's stored rows, and update."""
    from forecaster.data import drop_last, load_panel_like

    panel = load_panel_like(data, old.schema, old.freq, config.fill,
                            duplicates=config.duplicates)  # fmt: skip
    joined = join(old, drop_last(panel, holdout))
    lineage = Lineage(
        file=str(old_path),
        sha256=file_sha256(old_path),
        updated_at=pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        rows_added=joined.rows_added,
        series_added=joined.series_added,
        series_dropped=joined.series_dropped,
    )
    return update(old, lineage, joined, config, on_epoch)


def describe(lineage: list[dict[str, Any]]) -> list[str]:
    """`info`'s lines: one per update, oldest first."""
    lines = []
    for entry in lineage:
        added, dropped = entry.get("series_added"), entry.get("series_dropped")
        lines.append(
            f"updated from {entry.get('file')} (sha256 {str(entry.get('sha256'))[:12]}) at "
            f"{entry.get('updated_at')}: {entry.get('rows_added')} new rows"
            + (f", {added} new series" if added else "")
            + (f", {dropped} series left out" if dropped else "")
        )
    return lines
