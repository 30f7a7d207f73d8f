"""Adam and its cosine learning-rate decay, as `torch.optim` computes them, without its import.

Constructing any `torch.optim` optimizer imports `torch._dynamo` (torch 2.13: its methods
are wrapped by `torch._disable_dynamo`, which imports the compiler on first call). That
costs 1.6-3.5 s of every `train` process, and of every rank under `--nproc`: more than a
small data set's whole training. The update below is the one `torch.optim.Adam` applies by
default (no weight decay, no amsgrad), operation for operation, so the weights it gives
are the same to the bit (tests/test_optim.py holds them against torch's on CPU). On CPU it
applies them to one buffer that holds every parameter (`_FlatBuffers`), which gives the same
bits in about two thirds of the time on small networks (`FLAT_MAX_ELEMENTS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

__all__ = ["Adam", "cosine_decay"]

# One buffer pays where dispatching an operation per tensor costs more than the operation:
# clipping and the update of 67,552 parameters (M4 Hourly) 0.26 -> 0.17 ms, 81,088 (ETTh1
# h = 96) 0.29 -> 0.20 ms; 320,416 0.81 / 0.78 ms; 1,140,640 (ETTh1 h = 720, whose skip
# reads 1,440 rows) 2.70 -> 2.86 ms, where gathering the gradients into it is the cost.
FLAT_MAX_ELEMENTS = 2**18


class Adam:
    """Adam (Kingma and Ba, 2015) with bias correction, on a fixed list of parameters."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        flat: bool = True,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.steps = [0] * len(self.params)
        # ``flat``: the one buffer where it pays; False: tensor by tensor, the same bits.
        self.flat: _FlatBuffers | None = _FlatBuffers.over(self.params) if flat else None
        if self.flat is not None:
            self.exp_avg, self.exp_avg_sq = self.flat.views(1), self.flat.views(2)
        else:
            self.exp_avg = [torch.zeros_like(p) for p in self.params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def clip_grad_norm(self, max_norm: float) -> None:
        """`torch.nn.utils.clip_grad_norm_` of these parameters' gradients, to the bit.

        When `step` will use the one buffer, the gradients are gathered into it here and
        clipped there (one scaling instead of one per tensor); the parameters' own `.grad`
        tensors are then left unclipped, for `step` reads only the buffer.
        """
        flat = self._buffer()
        if flat is None:
            torch.nn.utils.clip_grad_norm_(self.params, max_norm)
            return
        torch.cat([p.grad.reshape(-1) for p in self.params if p.grad is not None], out=flat.grad)
        norms = torch._foreach_norm(flat.grad_views, 2.0)
        total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
        flat.grad.mul_(torch.clamp(max_norm / (total + 1e-6), max=1.0))
        flat.gathered = True

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
        flat = self._buffer()
        if flat is not None:
            self._flat_step(flat)
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

    def _buffer(self) -> _FlatBuffers | None:
        """The one buffer, when this step can use it: every parameter has a gradient and
        as many steps as the others (else the per-tensor form, as torch skips a parameter
        without a gradient)."""
        if self.flat is None or len(set(self.steps)) != 1:
            return None
        return self.flat if all(p.grad is not None for p in self.params) else None

    def _flat_step(self, flat: _FlatBuffers) -> None:
        """`step` when every parameter has a gradient and as many steps as the others: the
        same operations on one buffer holding them all, not one tensor each (on small
        networks the per-tensor dispatch was most of the step: 0.28 ms against 0.11 ms for
        M4 Hourly's 2 x 64 LSTM)."""
        if not flat.gathered:
            grads = [param.grad.reshape(-1) for param in self.params if param.grad is not None]
            torch.cat(grads, out=flat.grad)
        flat.gathered = False
        self.steps = [step + 1 for step in self.steps]
        step = float(self.steps[0])
        beta1, beta2 = self.beta1, self.beta2
        exp_avg, exp_avg_sq = flat.data[1], flat.data[2]
        exp_avg.lerp_(flat.grad, 1 - beta1)
        exp_avg_sq.mul_(beta2)
        exp_avg_sq.addcmul_(flat.grad, flat.grad, value=1 - beta2)
        denom = torch.sqrt(exp_avg_sq)
        denom.div_((1 - beta2**step) ** 0.5)
        denom.add_(self.eps)
        flat.data[0].addcdiv_(exp_avg, denom, value=(self.lr / (1 - beta1**step)) * -1)

    def release(self) -> None:
        """Give each parameter its own storage again (they are views of one buffer while
        this optimiser trains them): a saved model keeps no tensor that shares memory."""
        if self.flat is not None:
            for param in self.params:
                param.data = param.data.clone()
            self.flat = None


class _FlatBuffers:
    """The parameters, their first and second moments (rows 0, 1, 2 of one buffer) and a
    gradient buffer, each parameter a view of its row; on CPU only: on a GPU the foreach
    form is already a few kernel launches, and cuDNN keeps its LSTM weights in its own
    buffer (`nn.LSTM.flatten_parameters`), which these views would undo."""

    def __init__(self, params: list[torch.nn.Parameter]) -> None:
        self.sizes = [param.numel() for param in params]
        self.shapes = [param.shape for param in params]
        first = params[0]
        self.data = first.new_zeros(3, sum(self.sizes))
        self.grad = first.new_zeros(sum(self.sizes))
        self.grad_views = self._shaped(self.grad)
        self.gathered = False  # `grad` holds this step's clipped gradients (`clip_grad_norm`)
        with torch.no_grad():
            torch.cat([param.detach().reshape(-1) for param in params], out=self.data[0])
        for param, view in zip(params, self.views(0), strict=True):
            param.data = view

    @classmethod
    def over(cls, params: list[torch.nn.Parameter]) -> _FlatBuffers | None:
        if not params:
            return None
        first = params[0]
        if any(
            p.device.type != "cpu" or p.dtype != first.dtype or p.layout != torch.strided
            for p in params
        ):
            return None
        if sum(p.numel() for p in params) > FLAT_MAX_ELEMENTS:
            return None
        return cls(params)

    def views(self, row: int) -> list[torch.Tensor]:
        return self._shaped(self.data[row])

    def _shaped(self, buffer: torch.Tensor) -> list[torch.Tensor]:
        """One view of ``buffer`` per parameter, in the parameter's shape."""
        parts = buffer.split(self.sizes)
        return [part.view(shape) for part, shape in zip(parts, self.shapes, strict=True)]


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
