"""The Gram matrix of a long series' sliding windows from lagged sums, not a matrix product.

The linear skip's least squares (`linear`) needs X^T X over every training window's
context. Built as a product it costs windows x rows^2 multiply-adds: 47,000 windows of
4,608 rows (a 5-minute sensor, a lookback of 16 days) are 10^12, a minute of CPU. But
consecutive windows of one series overlap in all but one row, so entry (i, j) is a sum of
the lagged products s[t] s[t + |i - j|] over a run of t that slides by one row as i does:
one cumulative sum per lag gives every entry of that diagonal, rows x (windows + rows)
operations in all (a second, not a minute).

Each window is centred on its own level before the regression (`model.window_level`: its
last value or its mean), which is a fixed linear map of the window, so the centred Gram is
the raw one with a rank-one correction on each side.
"""

from __future__ import annotations

import torch

# Below this many multiply-adds (windows x rows^2; about 1.5 CPU-s) the direct product is
# kept: it is cheap there, and every figure in benchmarks/README.md measured on such data
# (ETTh1 at every horizon: at most 4.2e10) keeps its bits. Was 1e11: at 5e10 the glucose
# monitor's 1,152-row fit (6.2e10) joins, 6 CPU-s less.
MIN_PRODUCTS = 5e10


def applies(origins: torch.Tensor, rows: int) -> bool:
    """Whether the lagged sums serve these origins: one run of consecutive origins (one
    series, no subsample) large enough for the product to be slow."""
    count = len(origins)
    if count == 0 or count * rows * rows < MIN_PRODUCTS:
        return False
    first, last = int(origins[0]), int(origins[-1])
    return last - first + 1 == count and bool((origins.diff() == 1).all())


def level_weights(rows: int, norm: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """v such that a window's level is v . x (`model.window_level`; "none": no level)."""
    weights = torch.zeros(rows, dtype=dtype, device=device)
    if norm == "last":
        weights[-1] = 1.0
    elif norm == "mean":
        weights += 1.0 / rows
    return weights


def raw_gram(values: torch.Tensor, first: int, count: int, rows: int) -> torch.Tensor:
    """sum over origins o in [first, first + count) of w_o w_o^T, where w_o is the ``rows``
    values before o in ``values`` (1-D, float64)."""
    span = values[first - rows : first + count - 1]  # every row some window reads
    gram = torch.zeros(rows, rows, dtype=values.dtype, device=values.device)
    zero = values.new_zeros(1)
    for lag in range(rows):
        products = span[: len(span) - lag] * span[lag:]
        sums = torch.cat([zero, torch.cumsum(products, 0)])
        # Entry (i, i + lag) sums products i .. i + count - 1.
        width = rows - lag
        gram.diagonal(lag).copy_(sums[count : count + width] - sums[:width])
    upper = torch.triu(gram, 1)
    return gram + upper.T


def centred_gram(
    series: torch.Tensor, channels: int, first: int, count: int, rows: int, norm: str
) -> torch.Tensor:
    """sum over the windows of origins first .. first + count - 1 and over the first
    ``channels`` channels of ``series`` (T, C) of (w - level)(w - level)^T, each window w
    the ``rows`` values before its origin."""
    raw = sum(
        raw_gram(series[:, channel].double(), first, count, rows) for channel in range(channels)
    )
    assert isinstance(raw, torch.Tensor)
    weights = level_weights(rows, norm, raw.dtype, raw.device)
    # (w - (v.w) 1)(w - (v.w) 1)^T summed: R - (R v) 1^T - 1 (R v)^T + (v^T R v) 1 1^T.
    towards = raw @ weights
    raw -= towards[:, None]
    raw -= towards[None, :]
    raw += weights @ towards
    return raw
