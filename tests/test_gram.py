"""The sliding windows' Gram matrix from lagged sums against the plain product it replaces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import artifact as artifact_io
from forecaster import gram, linear
from forecaster.windows import WindowSet
from tests.conftest import FAST, invoke
from tests.test_covariate_worth import noise_frame
from tests.test_linear import noisy_panel, windows_of


def product_gram(values: np.ndarray, first: int, count: int, rows: int, norm: str) -> np.ndarray:
    """Window by window, as the regression's design matrix writes it (T, C) -> (rows, rows)."""
    total = np.zeros((rows, rows))
    for origin in range(first, first + count):
        for channel in range(values.shape[1]):
            window = values[origin - rows : origin, channel]
            level = {"last": window[-1], "mean": window.mean(), "none": 0.0}[norm]
            total += np.outer(window - level, window - level)
    return total


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 9),
    count=st.integers(1, 30),
    extra=st.integers(0, 5),
    channels=st.integers(1, 2),
    norm=st.sampled_from(["last", "mean", "none"]),
    seed=st.integers(0, 2**16),
)
def test_lagged_sums_equal_the_product(
    rows: int, count: int, extra: int, channels: int, norm: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(loc=3.0, size=(rows + count + extra + 2, channels))
    first = rows + extra  # any origin with ``rows`` values before it
    got = gram.centred_gram(torch.from_numpy(values), channels, first, count, rows, norm)
    np.testing.assert_allclose(
        got.numpy(), product_gram(values, first, count, rows, norm), rtol=1e-9, atol=1e-9
    )


def test_applies_only_to_one_run_of_origins_worth_it(monkeypatch: pytest.MonkeyPatch) -> None:
    run = torch.arange(100, 400)
    assert not gram.applies(run, 12)  # 300 x 144 multiply-adds: the product is cheap
    monkeypatch.setattr(gram, "MIN_PRODUCTS", 0)
    assert gram.applies(run, 12)
    assert not gram.applies(torch.cat([run[:50], run[60:]]), 12)  # two series' runs
    assert not gram.applies(run[torch.randperm(len(run))], 12)  # a random subset's order
    assert not gram.applies(run[:0], 12)


def count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """Count the calls of ``module.name`` from here on (a one-element list)."""
    calls = [0]
    original = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def fit(windows: WindowSet, norm: str) -> list[torch.Tensor]:
    weight, bias, _, fitted = linear.fit_skip(windows, norm, [[6, 12]])
    assert fitted.val_mse is not None
    return [weight, bias, torch.tensor([fitted.val_mse, fitted.train_mse])]


@pytest.mark.parametrize("norm", ["last", "mean", "none"])
@pytest.mark.parametrize("channels", [1, 2])
def test_the_skip_fitted_either_way_is_the_same(
    monkeypatch: pytest.MonkeyPatch, norm: str, channels: int
) -> None:
    """One long series, every regression through the lagged sums (threshold 0) or the product."""
    windows = windows_of(noisy_panel([600], channels), lookback=12, horizon=4, val_fraction=0.2)
    calls = count_calls(monkeypatch, gram, "centred_gram")
    product = fit(windows, norm)
    assert calls == [0]  # below the threshold: the product
    monkeypatch.setattr(gram, "MIN_PRODUCTS", 0)
    lagged = fit(windows, norm)
    assert calls[0] > 0  # the lagged sums were taken
    for a, b in zip(lagged, product, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_model_with_covariates_trains_to_the_same_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The covariates' rows of the Gram still come from the product, beside the lagged block:
    `train` with every regression through the lagged sums fits the same skip."""
    data = tmp_path / "data.csv"
    noise_frame(n=500).to_csv(data, index=False)
    fits = []
    calls = count_calls(monkeypatch, gram, "centred_gram")
    for threshold in (gram.MIN_PRODUCTS, 0):
        monkeypatch.setattr(gram, "MIN_PRODUCTS", threshold)
        model = tmp_path / f"model{threshold}.fcst"
        roles = ["--future-covariate", "rain", "--past-covariate", "wind"]
        result = invoke(["train", str(data), "-o", str(model), "--horizon", "7", *roles,
                         *FAST[:-1]])  # fmt: skip
        assert result.exit_code == 0, result.stderr
        fits.append(artifact_io.load(model).summary["linear_skip"])
    product, lagged = fits
    assert calls[0] > 0  # the second training took the lagged sums
    assert lagged["lookbacks"] == product["lookbacks"] and lagged["ridges"] == product["ridges"]
    assert lagged["covariate_rows"] == product["covariate_rows"]
    for key in ("train_mse", "val_mse"):
        assert lagged[key] == pytest.approx(product[key], rel=1e-5)


def test_the_penalties_solved_by_factoring_equal_the_eigendecomposition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    windows = windows_of(noisy_panel([400, 300], 2), lookback=24, horizon=6, val_fraction=0.2)
    eigen = fit(windows, "last")
    monkeypatch.setattr(linear, "MAX_EIGH_FEATURES", 0)
    decompositions = count_calls(monkeypatch, linear, "_eigen")
    factored = fit(windows, "last")
    assert decompositions == [0]  # every penalty was solved by factoring
    for a, b in zip(factored, eigen, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_matrix_the_factoring_refuses_falls_back_to_the_clamped_spectrum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moments = linear._Moments(torch.diag(torch.tensor([4.0, 1.0, -1.0], dtype=torch.float64)),
                              torch.ones(3, 2, dtype=torch.float64))  # fmt: skip
    eigen = linear._solver(moments)(0.1)
    monkeypatch.setattr(linear, "MAX_EIGH_FEATURES", 0)
    torch.testing.assert_close(linear._solver(moments)(0.1), eigen)
    assert torch.isfinite(eigen).all()


def test_where_lagged_sums_serve_every_window_is_fitted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The subsample saves the product's time; the lagged sums cost none per window."""
    windows = windows_of(noisy_panel([600], 1), lookback=12, horizon=4, val_fraction=0.2)
    monkeypatch.setattr(linear, "MAX_FIT_WINDOWS", 50)
    _, _, _, fitted = linear.fit_skip(windows, "last")
    assert fitted.windows == [50]
    monkeypatch.setattr(gram, "MIN_PRODUCTS", 0)
    _, _, _, fitted = linear.fit_skip(windows, "last")
    assert fitted.windows == [len(windows.train_starts)]
