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

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from forecaster.model import window_level_spread
from forecaster.windows import WindowSet

# Ridge penalties tried, as multiples of the mean diagonal of X^T X (scale-free); the one
# with the lowest validation error wins. Without validation windows, `FALLBACK_RIDGE`.
RIDGE_GRID = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
FALLBACK_RIDGE = 1e-3
# Training windows the regression is fit on (a random subset when there are more): with a
# few hundred coefficients per output, more windows change nothing but the time.
MAX_FIT_WINDOWS = 50_000
# Samples x features per chunk of the normal equations (float64): about 8 MB.
CHUNK_ELEMENTS = 1_000_000


@dataclass
class SkipFit:
    lookbacks: list[int]  # the regressions averaged, by how many recent rows each reads
    ridges: list[float]  # chosen penalty of each, as a multiple of mean(diag(X^T X))
    train_mse: float  # of the averaged linear model alone, on the scaled series
    val_mse: float | None
    windows: int  # training windows the regressions saw


@dataclass
class _Moments:
    """X^T X, X^T Y and sum(Y^2) of the regression over some windows, and the sample count."""

    gram: torch.Tensor  # (L + 1, L + 1)
    cross: torch.Tensor  # (L + 1, H)
    sum_sq: torch.Tensor  # ()
    samples: int

    def select(self, keep: torch.Tensor) -> _Moments:
        """The moments of the regression on the features ``keep`` only."""
        return _Moments(self.gram[keep][:, keep], self.cross[keep], self.sum_sq, self.samples)

    def mse(self, coef: torch.Tensor) -> float:
        """Mean squared error of ``coef`` (L + 1, H) on these windows, from the moments alone."""
        sse = self.sum_sq - 2 * (coef * self.cross).sum() + (coef * (self.gram @ coef)).sum()
        return float(sse) / (self.samples * coef.shape[1])


def _moments(windows: WindowSet, starts: torch.Tensor, norm: str) -> _Moments:
    lookback, horizon = windows.lookback, windows.horizon
    channels = windows.series.shape[1]
    device = windows.series.device
    gram = torch.zeros(lookback + 1, lookback + 1, dtype=torch.float64, device=device)
    cross = torch.zeros(lookback + 1, horizon, dtype=torch.float64, device=device)
    sum_sq = torch.zeros((), dtype=torch.float64, device=device)
    step = max(1, CHUNK_ELEMENTS // ((lookback + 1) * channels))
    for first in range(0, len(starts), step):
        context, target = windows.gather(starts[first : first + step])
        context, target = context.double(), target.double()  # (B, L, C), (B, H, C)
        level, spread = window_level_spread(context, norm)  # (B, 1, C)
        features = torch.cat([context - level, spread], dim=1)  # (B, L + 1, C)
        x = features.transpose(1, 2).reshape(-1, lookback + 1)  # (B * C, L + 1)
        y = (target - level).transpose(1, 2).reshape(-1, horizon)  # (B * C, H)
        gram += x.T @ x
        cross += x.T @ y
        sum_sq += (y * y).sum()
    return _Moments(gram, cross, sum_sq, len(starts) * channels)


def fit_skip(
    windows: WindowSet, norm: str, lookbacks: Sequence[int] | None = None, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, SkipFit]:
    """The skip's weight (H, L) and bias (H,): the mean of ridge regressions on the last
    ``lookbacks`` rows of the window (default: all L), each penalty chosen on validation.

    A regression on fewer rows is one on all L with zeros for the older rows, so the mean
    is again one linear map of the window. Averaging over window lengths (as N-BEATS
    ensembles over lookbacks) spares choosing one: on ETTh1 the best single length
    changes with the horizon and the test period, the mean stays near the best.
    """
    lookback = windows.lookback
    lookbacks = sorted(set(lookbacks or [lookback]))
    if lookbacks[0] < 1 or lookbacks[-1] > lookback:
        raise ValueError(f"skip lookbacks {lookbacks} must lie in 1..{lookback}")
    train = windows.train_starts
    if len(train) > MAX_FIT_WINDOWS:
        generator = torch.Generator().manual_seed(seed)
        pick = torch.randperm(len(train), generator=generator)[:MAX_FIT_WINDOWS]
        train = train[pick.to(train.device)]
    fitted = _moments(windows, train, norm)
    validation = _moments(windows, windows.val_starts, norm) if len(windows.val_starts) else None
    coef = torch.zeros_like(fitted.cross)  # (L + 1, H): rows 0..L-1 weights, row L the bias
    ridges = []
    for rows in lookbacks:
        keep = torch.arange(lookback - rows, lookback + 1, device=coef.device)  # + the bias
        part, ridge = _ridge(fitted.select(keep), validation.select(keep) if validation else None)
        coef[keep] += part / len(lookbacks)
        ridges.append(ridge)
    return (
        coef[:-1].T.float().contiguous(),
        coef[-1].float().contiguous(),
        SkipFit(
            lookbacks=lookbacks,
            ridges=ridges,
            train_mse=fitted.mse(coef),
            val_mse=validation.mse(coef) if validation is not None else None,
            windows=len(train),
        ),
    )


def _ridge(fitted: _Moments, validation: _Moments | None) -> tuple[torch.Tensor, float]:
    """Ridge coefficients for the penalty in `RIDGE_GRID` with the lowest validation error."""
    # One eigendecomposition serves every penalty: (G + r I)^-1 = V (S + r)^-1 V^T.
    eigenvalues, vectors = torch.linalg.eigh(fitted.gram)
    rotated = vectors.T @ fitted.cross  # (F, H)
    unit = float(torch.diagonal(fitted.gram).mean().clamp_min(1e-12))

    def solve(ridge: float) -> torch.Tensor:
        return vectors @ (rotated / (eigenvalues.clamp_min(0) + ridge * unit)[:, None])

    if validation is None:
        return solve(FALLBACK_RIDGE), FALLBACK_RIDGE
    ridge = min(RIDGE_GRID, key=lambda r: validation.mse(solve(r)))
    return solve(ridge), ridge
