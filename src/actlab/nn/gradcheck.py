"""Backprop against central differences, in float64.

For each parameter θ_k: numeric ∂L/∂θ_k ≈ (L(θ_k + h) - L(θ_k - h)) / 2h.  The error of a
parameter array is ‖a - n‖ / max(‖a‖ + ‖n‖, tiny) with a the backprop gradient and n the
numeric one; :func:`gradcheck` returns the largest over all arrays.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .layers import Sequential
from .losses import MeanSquaredError, SoftmaxCrossEntropy, loss_for
from .train import _check_step


def as_float64(model: Sequential) -> Sequential:
    """A float64 deep copy of ``model``."""
    m = copy.deepcopy(model)
    for layer in m.dense_layers:
        for name in ("W", "b", "grad_W", "grad_b"):
            setattr(layer, name, getattr(layer, name).astype(np.float64))
        layer.dtype = np.dtype(np.float64)
    m.dtype = np.dtype(np.float64)
    return m


def gradcheck(
    model: Sequential,
    X: ArrayLike,
    y: ArrayLike,
    loss: SoftmaxCrossEntropy | MeanSquaredError | None = None,
    *,
    h: float = 1e-6,
) -> float:
    """The maximum relative error between backprop and central differences (float64)."""
    _check_step(model)
    m = as_float64(model)
    loss = loss if loss is not None else loss_for(m.output)
    Xa = np.asarray(X, dtype=np.float64)
    m.backward(loss.gradient(m.forward(Xa), y))
    worst = 0.0
    for p, g in m.parameters():
        analytic = g.copy()
        numeric = np.zeros_like(p)
        flat, nflat = p.reshape(-1), numeric.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + h
            up = loss.value(m.forward(Xa, train=False), y)
            flat[i] = keep - h
            down = loss.value(m.forward(Xa, train=False), y)
            flat[i] = keep
            nflat[i] = (up - down) / (2 * h)
        denom = max(float(np.linalg.norm(analytic) + np.linalg.norm(numeric)), 1e-300)
        worst = max(worst, float(np.linalg.norm(analytic - numeric)) / denom)
    return worst
