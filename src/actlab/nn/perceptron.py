"""The perceptron learning rule (Rosenblatt 1958) for one layer of step units.

Unit j outputs step(x·w_j + b_j) ∈ {0, 1}.  For each sample, in a seeded order:
w_j ← w_j + η (t_j - o_j) x,  b_j ← b_j + η (t_j - o_j).  The weights change only on
mistakes.  On linearly separable data the rule converges in a finite number of updates
(Novikoff 1962); on XOR it never does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

import actlab


class Perceptron:
    """A single layer of ``n_out`` step units over ``n_in`` inputs."""

    def __init__(self, n_in: int, n_out: int = 1, *, lr: float = 1.0, dtype: Any = np.float64) -> None:
        for what, v in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{what} must be a positive integer, got {v!r}")
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        self.n_in, self.n_out, self.lr = int(n_in), int(n_out), float(lr)
        self.W: NDArray[Any] = np.zeros((self.n_in, self.n_out), dtype=dtype)
        self.b: NDArray[Any] = np.zeros(self.n_out, dtype=dtype)
        self._step = actlab.get("step")
        self.errors: list[int] = []
        self.converged = False

    def _targets(self, y: ArrayLike, n: int) -> NDArray[Any]:
        t = np.asarray(y)
        if t.ndim == 1:
            t = t[:, None]
        if t.shape != (n, self.n_out):
            raise ValueError(f"y has shape {np.shape(y)}, expected ({n},) or ({n}, {self.n_out})")
        if not np.all((t == 0) | (t == 1)):
            raise ValueError("perceptron targets must be 0 or 1")
        return t.astype(self.W.dtype)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """step(X W + b), 0/1 per unit (1-d for a single unit)."""
        out = self._step(np.asarray(X, dtype=self.W.dtype) @ self.W + self.b)
        return out[:, 0] if self.n_out == 1 else out

    def fit(self, X: ArrayLike, y: ArrayLike, *, epochs: int = 100, seed: int = 0) -> "Perceptron":
        """Apply the rule for up to ``epochs`` passes; stop at the first pass without a mistake.

        ``errors`` records the mistakes per pass and ``converged`` whether a pass was clean.
        """
        Xa = np.asarray(X, dtype=self.W.dtype)
        if Xa.ndim != 2 or Xa.shape[1] != self.n_in:
            raise ValueError(f"X has shape {Xa.shape}, expected (n, {self.n_in})")
        t = self._targets(y, Xa.shape[0])
        rng = np.random.default_rng(seed)
        self.errors, self.converged = [], False
        for _ in range(epochs):
            mistakes = 0
            for i in rng.permutation(Xa.shape[0]):
                o = self._step(Xa[i] @ self.W + self.b)
                delta = t[i] - o
                if np.any(delta):
                    mistakes += 1
                    self.W += self.lr * np.outer(Xa[i], delta)
                    self.b += self.lr * delta
            self.errors.append(mistakes)
            if mistakes == 0:
                self.converged = True
                break
        return self
