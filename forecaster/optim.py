"""Adam and its cosine learning-rate decay, as `torch.optim` computes them, without its import.

Constructing any `torch.optim` optimizer imports `torch._dynamo` (torch 2.13: its methods
are wrapped by `torch._disable_dynamo`, which imports the compiler on first call). That
costs 1.6-3.5 s of every `train` process, and of every rank under `--nproc`: more than a
small data set's whole training. The update below is the one `torch.optim.Adam` applies by
default (no weight decay, no amsgrad), operation for operation, so the weights it gives
are the same to the bit (tests/test_optim.py holds them against torch's on CPU).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

__all__ = ["Adam", "cosine_decay"]


class Adam:
    """Adam (Kingma and Ba, 2015) with bias correction, on a fixed list of parameters."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.steps = [0] * len(self.params)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient (each counts its own steps).

        The `torch._foreach_*` form of `torch.optim.Adam` (its default on GPUs: a few
        kernel launches for all parameters, not a few per parameter); on CPU each such call
        applies the per-tensor operations of torch's CPU default, so both agree to the bit.
        """
        live = [i for i, param in enumerate(self.params) if param.grad is not None]
        if not live:
            return
        params: list[torch.Tensor] = [self.params[i] for i in live]
        grads: list[torch.Tensor] = [param.grad for param in params if param.grad is not None]
        exp_avgs = [self.exp_avg[i] for i in live]
        exp_avg_sqs = [self.exp_avg_sq[i] for i in live]
        for i in live:
            self.steps[i] += 1
        beta1, beta2 = self.beta1, self.beta2
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        step_size = [(self.lr / (1 - beta1 ** float(self.steps[i]))) * -1 for i in live]
        bias_correction2_sqrt = [(1 - beta2 ** float(self.steps[i])) ** 0.5 for i in live]
        denom = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, exp_avgs, denom, step_size)


def cosine_decay(lr: float, epoch: int, epochs: int) -> float:
    """The learning rate for ``epoch`` + 1 from the one ``epoch`` used, decaying from the
    base rate at epoch 0 to zero at ``epochs`` along half a cosine.

    The recursive form of `torch.optim.lr_scheduler.CosineAnnealingLR` (eta_min 0), not
    the closed one: the two differ in the last bits, and this one gives the rates every
    figure in benchmarks/README.md was measured with.
    """
    return (
        (1 + math.cos(math.pi * epoch / epochs))
        / (1 + math.cos(math.pi * (epoch - 1) / epochs))
        * lr
    )
