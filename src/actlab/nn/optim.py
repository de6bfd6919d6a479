"""Optimisers updating (parameter, gradient) pairs in place, in the parameters' dtype.

SGD with momentum: v ← μ v - η g;  θ ← θ + v.
Adam (Kingma & Ba 2015): m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;
θ ← θ - η m̂ / (√v̂ + ε) with m̂ = m/(1-β₁ᵗ), v̂ = v/(1-β₂ᵗ).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..checks import fraction_closed_open, positive_number

Pairs = list[tuple[NDArray[Any], NDArray[Any]]]


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = positive_number("lr", lr)
        self.momentum = fraction_closed_open("momentum", momentum)
        self._v: list[NDArray[Any]] | None = None

    def step(self, pairs: Pairs) -> None:
        if self._v is None:
            self._v = [np.zeros_like(p) for p, _ in pairs]
        for (p, g), v in zip(pairs, self._v):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    """Adam with bias correction."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr = positive_number("lr", lr)
        self.beta1 = fraction_closed_open("beta1", beta1)
        self.beta2 = fraction_closed_open("beta2", beta2)
        self.eps = positive_number("eps", eps)
        self.t = 0
        self._m: list[NDArray[Any]] | None = None
        self._v: list[NDArray[Any]] | None = None
        self._tmp: list[NDArray[Any]] | None = None

    def step(self, pairs: Pairs) -> None:
        if self._m is None or self._v is None:
            self._m = [np.zeros_like(p) for p, _ in pairs]
            self._v = [np.zeros_like(p) for p, _ in pairs]
        self.t += 1
        c1 = 1 - self.beta1**self.t
        c2 = 1 - self.beta2**self.t
        step = float(self.lr * np.sqrt(c2) / c1)
        eps = float(self.eps * np.sqrt(c2))
        if self._tmp is None:
            self._tmp = [np.empty_like(p) for p, _ in pairs]
        b2 = 1.0 - self.beta2
        for (p, g), m, v, tmp in zip(pairs, self._m, self._v, self._tmp):
            # In place, one scratch array per parameter: no allocation per step.
            m -= g
            m *= self.beta1
            m += g  # β₁m + (1-β₁)g = β₁(m - g) + g
            np.multiply(g, g, out=tmp)
            tmp *= b2
            v *= self.beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= step
            p -= tmp
