"""Losses, each fused with its output activation.

SoftmaxCrossEntropy: L = -(1/n) Σ_i log_softmax(z_i)[y_i]; ∂L/∂z = (softmax(z) - onehot(y))/n,
computed as actlab's log_softmax vector-Jacobian product with upstream g = -onehot(y)/n.

MeanSquaredError (identity output): L = (1/(n·m)) Σ (z - y)²; ∂L/∂z = 2(z - y)/(n·m).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

import actlab

Array = NDArray[Any]


class SoftmaxCrossEntropy:
    """Cross-entropy of integer class labels under softmax(logits), via log_softmax."""

    output = "softmax"

    def __init__(self) -> None:
        self._lsm = actlab.get("log_softmax")

    def _onehot(self, logits: Array, y: ArrayLike, fill: float = 1.0) -> Array:
        labels = np.asarray(y)
        if labels.ndim != 1 or labels.shape[0] != logits.shape[0]:
            raise ValueError(f"y must be 1-d labels of length {logits.shape[0]}, got shape {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
            raise ValueError(f"labels must be in [0, {logits.shape[1]}), got {labels.min()}..{labels.max()}")
        onehot = np.zeros(logits.shape, dtype=logits.dtype)
        onehot[np.arange(labels.shape[0]), labels.astype(np.intp)] = fill
        return onehot

    def value(self, logits: Array, y: ArrayLike) -> float:
        onehot = self._onehot(logits, y)
        return float(-np.sum(self._lsm(logits) * onehot) / logits.shape[0])

    def gradient(self, logits: Array, y: ArrayLike) -> Array:
        return self.value_and_gradient(logits, y)[1]

    def value_and_gradient(self, logits: Array, y: ArrayLike) -> tuple[float, Array]:
        """Both at the cost of one log_softmax (its saved output feeds the backward pass)."""
        g = self._onehot(logits, y, fill=-1.0 / logits.shape[0])
        lsm = self._lsm(logits)
        value = float(np.sum(lsm * g))
        grad = self._lsm.backward(logits, g, y=lsm)
        return value, grad.astype(logits.dtype, copy=False)


class MeanSquaredError:
    """Mean squared error of an identity output."""

    output = "identity"

    @staticmethod
    def _target(logits: Array, y: ArrayLike) -> Array:
        t = np.asarray(y, dtype=logits.dtype)
        if t.ndim == 1:
            t = t[:, None]
        if t.shape != logits.shape:
            raise ValueError(f"y has shape {np.shape(y)}, expected {logits.shape} or ({logits.shape[0]},)")
        return t

    def value(self, logits: Array, y: ArrayLike) -> float:
        d = logits - self._target(logits, y)
        return float(np.mean(d * d))

    def gradient(self, logits: Array, y: ArrayLike) -> Array:
        d = logits - self._target(logits, y)
        d *= 2 / d.size
        return d

    def value_and_gradient(self, logits: Array, y: ArrayLike) -> tuple[float, Array]:
        d = logits - self._target(logits, y)
        value = float(np.mean(d * d))
        d *= 2 / d.size
        return value, d


def loss_for(output: str) -> SoftmaxCrossEntropy | MeanSquaredError:
    return SoftmaxCrossEntropy() if output == "softmax" else MeanSquaredError()
