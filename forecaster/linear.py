"""Least squares for the network's linear skip, so that training starts from a linear model.

The skip maps each normalised window straight to the horizon (NLinear's model, inside
ours). Gradient descent reaches its optimum slowly, and on a small data set the LSTM
overfits long before it does; the optimum itself is a ridge regression with a closed form.
Solving it first means the LSTM learns only what a tuned linear model misses.

With the head at zero the network's forecast is ``spread * (W x_n + b) + level``, where
``x_n = (x - level) / spread``, so its squared error on the scaled series (the training
loss) is that of the regression ``y - level ~ W (x - level) + b * spread``: features are the
centred context and the spread (for the bias), targets the centred horizon. Every target
channel of every window is one sample, since the skip is shared by the targets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from forecaster import gram as gram_
from forecaster.config import ModelConfig
from forecaster.model import covariate_changes, window_level_spread
from forecaster.windows import WindowSet

# Ridge penalties tried, as multiples of the mean diagonal of X^T X (scale-free); the one
# with the lowest validation error wins. Without validation windows, `FALLBACK_RIDGE`.
RIDGE_GRID = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
FALLBACK_RIDGE = 1e-3
# The relative drop in validation MSE that a larger covariate part of the skip must bring
# to be used (see `covariate_parts`). On EPF each part lowers it by 13-22%; ETTh1's load
# columns as past covariates lowered it by 0.15% and raised the test MSE by 4%.
MIN_COVARIATE_GAIN = 0.01
# Training windows the regression is fit on (a random subset when there are more, unless
# the lagged sums of `gram` serve them): with a few hundred coefficients per output, more
# windows change nothing but the time.
MAX_FIT_WINDOWS = 50_000
# Above this many features the penalties are solved by one Cholesky factorisation each, not
# one eigendecomposition for all: 4,609 features (a 5-minute sensor's 16 days) took 16 s to
# decompose against 0.6 s to factor. Below it the eigendecomposition stays, and with it the
# bits of every figure in benchmarks/README.md (ETTh1's largest regression has 2,881).
MAX_EIGH_FEATURES = 3000
# Samples x features per chunk of the normal equations (float64): about 8 MB.
CHUNK_ELEMENTS = 1_000_000


@dataclass
class SkipFit:
    lookbacks: list[int]  # the regressions averaged, by how many recent rows each reads
    ridges: list[float]  # chosen penalty of each, as a multiple of mean(diag(X^T X))
    windows: list[int]  # training windows each regression saw
    train_mse: float  # of the averaged linear model alone, on the scaled series (full windows)
    val_mse: float | None
    # Every set of lookbacks and covariate part tried and its validation MSE; the lowest is
    # `lookbacks` with `covariate_rows` (`ModelConfig.covariate_rows`: 0 none, 1 the future
    # covariates over the horizon, more also the recent changes).
    candidates: list[dict[str, Any]] = field(default_factory=list)
    covariate_rows: int = 0


@dataclass
class _Moments:
    """X^T X and X^T Y of the regression over some windows."""

    gram: torch.Tensor  # (l + 1 + F, l + 1 + F)
    cross: torch.Tensor  # (l + 1 + F, H)

    def leading(self, size: int) -> _Moments:
        """The moments of the regression on the first ``size`` features alone."""
        return _Moments(self.gram[:size, :size], self.cross[:size])


def _design(
    windows: WindowSet,
    origins: torch.Tensor,
    lookback: int,
    norm: str,
    config: ModelConfig | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Features (B * C, l + 1 + F) and targets (B * C, H) of the regression, a chunk at a
    time; the F covariate features (`model.covariate_changes`) when ``config`` has them."""
    extra = config.covariate_features if config is not None else 0
    rows = max(lookback, config.covariate_rows) if config is not None and extra else lookback
    width = windows.series.shape[1]
    targets = windows.n_targets or width
    step = max(1, CHUNK_ELEMENTS // ((rows + 1 + extra) * width))
    for first in range(0, len(origins), step):
        starts = origins[first : first + step] - rows
        context, target = windows.gather_rows(starts, rows)
        context, target = context.double(), target.double()  # (B, l, C + K), (B, H, C + K)
        own, future = context[:, rows - lookback :, :targets], target[:, :, :targets]
        level, spread = window_level_spread(own, norm)  # (B, 1, C)
        features = torch.cat([own - level, spread], dim=1)  # (B, l + 1, C)
        x = features.transpose(1, 2).reshape(-1, lookback + 1)
        if extra:
            assert config is not None
            window = torch.cat([context, target], dim=1)
            changes = covariate_changes(window, dataclasses.replace(config, lookback=rows))
            repeated = changes[:, None, :].expand(-1, targets, -1).reshape(-1, extra)
            x = torch.cat([x, repeated], dim=1)
        yield x, (future - level).transpose(1, 2).reshape(-1, windows.horizon)


def _moments(
    windows: WindowSet,
    origins: torch.Tensor,
    lookback: int,
    norm: str,
    config: ModelConfig | None = None,
) -> _Moments:
    size = lookback + 1 + (config.covariate_features if config is not None else 0)
    device = windows.series.device
    gram = torch.zeros(size, size, dtype=torch.float64, device=device)
    cross = torch.zeros(size, windows.horizon, dtype=torch.float64, device=device)
    lagged = gram_.applies(origins, lookback)
    for x, y in _design(windows, origins, lookback, norm, config):
        if lagged:  # the context block comes from lagged sums below; the rest from here
            gram[lookback:] += x[:, lookback:].T @ x
        else:
            gram += x.T @ x
        cross += x.T @ y
    if lagged:
        targets = windows.n_targets or windows.series.shape[1]
        first = int(origins[0])
        gram[:lookback, :lookback] = gram_.centred_gram(
            windows.series, targets, first, len(origins), lookback, norm
        )
        gram[:lookback, lookback:] = gram[lookback:, :lookback].T
    return _Moments(gram, cross)


def _mse(
    windows: WindowSet,
    origins: torch.Tensor,
    coef: torch.Tensor,
    norm: str,
    config: ModelConfig | None = None,
) -> float:
    """Mean squared error of the map ``coef`` (L + 1 + F, H) over full windows."""
    total, count = 0.0, 0
    for x, y in _design(windows, origins, windows.lookback, norm, config):
        total += float(((x @ coef - y) ** 2).sum())
        count += y.numel()
    return total / max(count, 1)


def _subset(origins: torch.Tensor, seed: int) -> torch.Tensor:
    if len(origins) <= MAX_FIT_WINDOWS:
        return origins
    generator = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(origins), generator=generator)[:MAX_FIT_WINDOWS]
    return origins[pick.to(origins.device)]


def fit_skip(
    windows: WindowSet,
    norm: str,
    candidates: Sequence[Sequence[int]] | None = None,
    seed: int = 0,
    config: ModelConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, SkipFit]:
    """The skip's weight (H, L), bias (H,) and, when ``config`` has covariate features,
    their weight (H, F), which every regression fits beside its own rows: the mean of
    ridge regressions on the last l rows of the window for each l of one of the
    ``candidates`` sets (default: all L).

    A regression on fewer rows is one on all L with zeros for the older rows, so the mean
    is again one linear map of the window. Averaging over window lengths (as N-BEATS
    ensembles over lookbacks) spares choosing one: on ETTh1 the best single length
    changes with the horizon and the test period, the mean stays near the best. Which
    lengths to average is chosen on validation, like each regression's penalty: the set
    whose mean has the lowest validation error (without validation windows, the first).

    Each regression learns from every training window its own rows allow, not only those
    that fill the longest context: on ETTh1 at h = 720, 7,201 windows for 720 rows instead
    of 5,041 (test MSE of the mean of 720, 1440 and 2880 rows: 0.0755 against 0.0865).
    """
    lookback = windows.lookback
    sets = [sorted(set(lookbacks)) for lookbacks in candidates or [[lookback]]]
    every = sorted({rows for lookbacks in sets for rows in lookbacks})
    if every[0] < 1 or every[-1] > lookback:
        raise ValueError(f"skip lookbacks {every} must lie in 1..{lookback}")
    val_origins = windows.val_starts + lookback
    extra = config.covariate_features if config is not None else 0
    parts = covariate_parts(config) if config is not None and extra else {0: 0}
    fits = _regressions(windows, every, parts, norm, seed, config)

    def mean_map(lookbacks: list[int], part_rows: int) -> torch.Tensor:
        coef = torch.zeros(lookback + 1 + extra, windows.horizon, dtype=torch.float64)
        coef = coef.to(windows.series.device)  # rows 0..L-1 weights, L the bias, then F
        for rows in lookbacks:
            part = fits[rows, part_rows][0] / len(lookbacks)
            coef[lookback - rows : lookback + 1] += part[: rows + 1]
            coef[lookback + 1 : lookback + 1 + len(part) - rows - 1] += part[rows + 1 :]
        return coef

    # Without covariates first; a larger covariate part replaces the choice only when it
    # lowers the validation error by `MIN_COVARIATE_GAIN` (without validation: the largest).
    tried: list[tuple[list[int], int, torch.Tensor, float | None]] = []
    chosen = None
    for part_rows in sorted(parts):
        for lookbacks in sets:
            coef = mean_map(lookbacks, part_rows)
            val_mse = _mse(windows, val_origins, coef, norm, config) if len(val_origins) else None
            tried.append((lookbacks, part_rows, coef, val_mse))
        # min keeps the first of equals, so without validation (all None) the first set.
        best = min(tried[-len(sets) :], key=lambda t: -1.0 if t[3] is None else t[3])
        if chosen is None or pays(best[3], chosen[3]):
            chosen = best
    assert chosen is not None
    lookbacks, part_rows, coef, val_mse = chosen
    full = _subset(windows.train_starts + lookback, seed)
    train_mse = _mse(windows, full, coef, norm, config)
    features = parts[part_rows]
    return (
        coef[:lookback].T.float().contiguous(),
        coef[lookback].float().contiguous(),
        coef[lookback + 1 : lookback + 1 + features].T.float().contiguous() if features else None,
        SkipFit(
            lookbacks=lookbacks,
            ridges=[fits[rows, part_rows][1] for rows in lookbacks],
            windows=[fits[rows, part_rows][2] for rows in lookbacks],
            train_mse=train_mse,
            val_mse=val_mse,
            candidates=[
                {"lookbacks": t[0], "covariate_rows": t[1], "val_mse": t[3]} for t in tried
            ],
            covariate_rows=part_rows,
        ),
    )


def _regressions(
    windows: WindowSet,
    every: list[int],
    parts: dict[int, int],
    norm: str,
    seed: int,
    config: ModelConfig | None,
) -> dict[tuple[int, int], tuple[torch.Tensor, float, int]]:
    """The ridge regression on the last ``rows`` rows for each of ``every`` and each
    covariate part: (rows, covariate rows) -> (coefficients (rows + 1 + F', H), penalty,
    training windows), each from every training window its rows allow."""
    val_origins = windows.val_starts + windows.lookback
    extra = config.covariate_features if config is not None else 0
    fits = {}
    for rows in every:
        reach = max(rows, config.covariate_rows) if config is not None and extra else rows
        origins = windows.train_origins(reach)
        if not gram_.applies(origins, rows):  # lagged sums make every window free
            origins = _subset(origins, seed)
        fitted = _moments(windows, origins, rows, norm, config)
        validation = (
            _moments(windows, val_origins, rows, norm, config) if len(val_origins) else None
        )
        for part_rows, features in parts.items():
            # The covariate parts are prefixes of the features: solve on the leading block.
            size = rows + 1 + features
            coef, ridge = _ridge(fitted.leading(size), validation and validation.leading(size))
            fits[rows, part_rows] = (coef, ridge, len(origins))
    return fits


def pays(larger: float | None, smaller: float | None) -> bool:
    """Whether a larger covariate part, of validation MSE ``larger``, replaces a smaller
    one of ``smaller``: by `MIN_COVARIATE_GAIN` or more (without validation, always)."""
    if larger is None or smaller is None:
        return True
    return larger < smaller * (1 - MIN_COVARIATE_GAIN)


def covariate_parts(config: ModelConfig) -> dict[int, int]:
    """The skip's covariate parts to choose from on validation, as covariate rows ->
    features: none, the future covariates over the horizon (when there are any), and also
    the recent changes of past and future ones. Each is a prefix of the next's features.

    Covariates that carry no signal the target's own history lacks still get weights from
    least squares, and those overfit: ETTh1's six load columns as past covariates took the
    h = 96 test MSE of one network from 0.0524 to 0.0547 (see benchmarks/README.md).
    """
    parts = {0: 0}
    if config.skip_future:
        parts[1] = dataclasses.replace(config, covariate_rows=1).covariate_features
    parts[config.covariate_rows] = config.covariate_features
    return parts


def _ridge(fitted: _Moments, validation: _Moments | None) -> tuple[torch.Tensor, float]:
    """Ridge coefficients for the penalty in `RIDGE_GRID` with the lowest validation error."""
    solve = _solver(fitted)
    if validation is None:
        return solve(FALLBACK_RIDGE), FALLBACK_RIDGE

    def error(coef: torch.Tensor) -> float:
        # Validation squared error up to a constant (sum Y^2): enough to rank penalties.
        return float((coef * (validation.gram @ coef)).sum() - 2 * (coef * validation.cross).sum())

    solutions = {ridge: solve(ridge) for ridge in RIDGE_GRID}
    ridge = min(RIDGE_GRID, key=lambda r: error(solutions[r]))
    return solutions[ridge], ridge


def _solver(fitted: _Moments) -> Callable[[float], torch.Tensor]:
    """ridge -> (G + ridge * mean(diag G) I)^-1 X^T Y, G = X^T X."""
    unit = float(torch.diagonal(fitted.gram).mean().clamp_min(1e-12))
    if len(fitted.gram) <= MAX_EIGH_FEATURES:
        return _eigen(fitted, unit)

    def factored(ridge: float) -> torch.Tensor:
        # G + ridge x unit x I, made by adding to the diagonal of a copy: the same numbers
        # as the sum with an identity matrix, without building and adding one of 4,609^2.
        shifted = fitted.gram.clone()
        shifted.diagonal().add_(ridge * unit)
        factor, info = torch.linalg.cholesky_ex(shifted)
        if int(info):  # not positive definite in floating point: the clamped spectrum
            return _eigen(fitted, unit)(ridge)
        return torch.cholesky_solve(fitted.cross, factor)

    return factored


def _eigen(fitted: _Moments, unit: float) -> Callable[[float], torch.Tensor]:
    # One eigendecomposition serves every penalty: (G + r I)^-1 = V (S + r)^-1 V^T.
    eigenvalues, vectors = torch.linalg.eigh(fitted.gram)
    rotated = vectors.T @ fitted.cross  # (F, H)

    def solve(ridge: float) -> torch.Tensor:
        return vectors @ (rotated / (eigenvalues.clamp_min(0) + ridge * unit)[:, None])

    return solve
