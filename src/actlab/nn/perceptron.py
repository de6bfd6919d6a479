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

from ..checks import features, positive_int, positive_number, seed_int
from .layers import check_dtype


class Perceptron:
    """A single layer of ``n_out`` step units over ``n_in`` inputs."""

    def __init__(self, n_in: int, n_out: int = 1, *, lr: float = 1.0, dtype: Any = np.float64) -> None:
        self.n_in, self.n_out = positive_int("n_in", n_in), positive_int("n_out", n_out)
        self.lr = positive_number("lr", lr)
        dtype = check_dtype(dtype)
        self.W: NDArray[Any] = np.zeros((self.n_in, self.n_out), dtype=dtype)
        self.b: NDArray[Any] = np.zeros(self.n_out, dtype=dtype)
        self._step = actlab.get("step")
        self.errors: list[int] = []
        self.converged = False

    def _targets(self, y: ArrayLike, n: int) -> NDArray[Any]:
        t = np.asarray(y)
        if t.dtype.kind not in "biuf":
            raise ValueError(f"perceptron targets must be 0 or 1, got dtype {t.dtype}")
        if t.ndim == 1:
            t = t[:, None]
        if t.shape != (n, self.n_out):
            raise ValueError(f"y has shape {np.shape(y)}, expected ({n},) or ({n}, {self.n_out})")
        if not np.all((t == 0) | (t == 1)):
            raise ValueError("perceptron targets must be 0 or 1")
        return t.astype(self.W.dtype)

    def _input(self, X: ArrayLike, what: str) -> NDArray[Any]:
        return features(X, dtype=self.W.dtype, what=what, n_features=self.n_in)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """step(X W + b), 0/1 per unit (1-d for a single unit); X finite, of shape (n, n_in)."""
        out = self._step(self._input(X, "Perceptron.predict") @ self.W + self.b)
        return out[:, 0] if self.n_out == 1 else out

    def fit(self, X: ArrayLike, y: ArrayLike, *, epochs: int = 100, seed: int = 0) -> Perceptron:
        """Apply the rule for up to ``epochs`` passes; stop at the first pass without a mistake.

        ``errors`` records the mistakes per pass and ``converged`` whether a pass was clean.
        """
        epochs = positive_int("epochs", epochs)
        rng = np.random.default_rng(seed_int("seed", seed))
        Xa = self._input(X, "Perceptron.fit")
        t = self._targets(y, Xa.shape[0])
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
