"""Backprop against central differences, in float64.

For each parameter θ_k: numeric ∂L/∂θ_k ≈ (L(θ_k + h) - L(θ_k - h)) / 2h.  The error of a
parameter array is ‖a - n‖ / max(‖a‖ + ‖n‖, tiny) with a the backprop gradient and n the
numeric one; :func:`gradcheck` returns the largest over all arrays.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..checks import positive_number
from .layers import Sequential
from .losses import MeanSquaredError, SoftmaxCrossEntropy, loss_for
from .train import _check_loss, _check_step, _check_xy


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
    """The maximum relative error between backprop and central differences (float64).

    X, y and the model's parameters must be finite; an error that is not a number is
    returned as NaN, never hidden behind a smaller one.
    """
    _check_step(model)
    h = positive_number("h", h)
    m = as_float64(model)
    if loss is None:
        loss = loss_for(m.output)
    _check_loss(m, loss, "gradcheck")
    Xa, ya = _check_xy(m, X, y, "gradcheck")
    for i, layer in enumerate(m.dense_layers):
        if not (np.isfinite(layer.W).all() and np.isfinite(layer.b).all()):
            raise ValueError(f"gradcheck: the weights of dense layer {i} contain NaN or infinity")
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return _max_error(m, Xa, ya, loss, h)
    except FloatingPointError as exc:
        raise ValueError(
            f"gradcheck: the loss overflowed at θ ± h with h={h!r} ({exc}): use a smaller h"
        ) from None


def _max_error(m: Sequential, Xa: NDArray[Any], y: NDArray[Any], loss: Any, h: float) -> float:
    m.backward(loss.gradient(m._run(Xa, train=True), y))
    worst = 0.0
    for p, g in m.parameters():
        analytic = g.copy()
        numeric = np.zeros_like(p)
        flat, nflat = p.reshape(-1), numeric.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + h
            up = loss.value(m._run(Xa, train=False), y)
            flat[i] = keep - h
            down = loss.value(m._run(Xa, train=False), y)
            flat[i] = keep
            nflat[i] = (up - down) / (2 * h)
        denom = max(float(np.linalg.norm(analytic) + np.linalg.norm(numeric)), 1e-300)
        err = float(np.linalg.norm(analytic - numeric)) / denom
        if not err <= worst:  # NaN, or larger: max(worst, nan) would keep worst
            worst = err
    return worst
