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

from ..checks import class_labels

Array = NDArray[Any]

OUTPUTS = ("softmax", "identity")


def _logits(logits: ArrayLike, what: str) -> Array:
    """A 2-d, non-empty batch of real logits (integers are taken as float64)."""
    z = np.asarray(logits)
    if z.dtype.kind not in "biuf":
        raise ValueError(f"{what}: logits must hold real numbers, got dtype {z.dtype}")
    if z.ndim != 2:
        raise ValueError(f"{what}: logits must be 2-d (samples, outputs), got shape {z.shape}")
    if z.shape[0] == 0:
        raise ValueError(f"{what}: logits has no rows: the mean loss of an empty batch is undefined")
    return z if z.dtype.kind == "f" else z.astype(np.float64)


class SoftmaxCrossEntropy:
    """Cross-entropy of integer class labels under softmax(logits), via log_softmax."""

    output = "softmax"

    def __init__(self) -> None:
        self._lsm = actlab.get("log_softmax")

    def _check(self, logits: ArrayLike, y: ArrayLike) -> tuple[Array, NDArray[np.intp]]:
        z = _logits(logits, "SoftmaxCrossEntropy")
        labels = class_labels(y, what="SoftmaxCrossEntropy", n=z.shape[0], n_classes=z.shape[1])
        return z, labels

    def value(self, logits: ArrayLike, y: ArrayLike) -> float:
        z, labels = self._check(logits, y)
        # Pick each row's target entry: a sum against one-hot would form -inf·0 = NaN for a
        # -inf logit of another class.
        return float(-np.mean(self._lsm(z)[np.arange(z.shape[0]), labels]))

    def gradient(self, logits: ArrayLike, y: ArrayLike) -> Array:
        return self.value_and_gradient(logits, y)[1]

    def value_and_gradient(self, logits: ArrayLike, y: ArrayLike) -> tuple[float, Array]:
        """Both at the cost of one log_softmax.

        The gradient is (softmax(z) - onehot(y))/n, each entry from log_softmax's output
        without cancellation: e^{ℓ_j} off the label, and e^{ℓ_y} - 1 = expm1(ℓ_y) at it, which
        keeps its digits where the softmax of the label rounds to 1.
        """
        z, labels = self._check(logits, y)
        rows = np.arange(z.shape[0])
        lsm = self._lsm(z)
        picked = lsm[rows, labels]
        value = float(-np.mean(picked))
        with np.errstate(under="ignore"):
            grad = np.exp(lsm)
            grad[rows, labels] = np.expm1(picked)
        grad /= z.shape[0]
        return value, grad.astype(z.dtype, copy=False)


class MeanSquaredError:
    """Mean squared error of an identity output.

    A difference too large for the dtype gives an infinite loss (its true value rounds to
    inf), not a warning.
    """

    output = "identity"

    @staticmethod
    def _diff(logits: ArrayLike, y: ArrayLike) -> Array:
        """z - y, y of shape (n, m) or, for one output, (n,)."""
        z = _logits(logits, "MeanSquaredError")
        t = np.asarray(y)
        if t.dtype.kind not in "biuf":
            raise ValueError(f"MeanSquaredError: y must be real numbers, got dtype {t.dtype}")
        if t.ndim == 1 and z.shape[1] == 1:
            t = t[:, None]
        if t.shape != z.shape:
            expected = f"({z.shape[0]},) or {z.shape}" if z.shape[1] == 1 else f"{z.shape}"
            raise ValueError(
                f"MeanSquaredError: y has shape {np.shape(y)}, expected {expected} "
                f"for logits of shape {z.shape}"
            )
        with np.errstate(over="ignore"):
            return z - t.astype(z.dtype, copy=False)

    def value(self, logits: ArrayLike, y: ArrayLike) -> float:
        d = self._diff(logits, y)
        with np.errstate(over="ignore"):
            return float(np.mean(d * d))

    def gradient(self, logits: ArrayLike, y: ArrayLike) -> Array:
        d = self._diff(logits, y)
        with np.errstate(over="ignore"):
            d *= 2 / d.size
        return d

    def value_and_gradient(self, logits: ArrayLike, y: ArrayLike) -> tuple[float, Array]:
        d = self._diff(logits, y)
        with np.errstate(over="ignore"):
            value = float(np.mean(d * d))
            d *= 2 / d.size
        return value, d


def loss_for(output: str) -> SoftmaxCrossEntropy | MeanSquaredError:
    """The loss fused with ``output``: SoftmaxCrossEntropy for "softmax", MeanSquaredError for "identity"."""
    if output == "softmax":
        return SoftmaxCrossEntropy()
    if output == "identity":
        return MeanSquaredError()
    raise ValueError(f"output must be one of {', '.join(map(repr, OUTPUTS))}, got {output!r}")
