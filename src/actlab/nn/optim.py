"""Optimisers updating (parameter, gradient) pairs in place, in the parameters' dtype.

SGD with momentum: v ← μ v - η g;  θ ← θ + v.
Adam (Kingma & Ba 2015): m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;
θ ← θ - η m̂ / (√v̂ + ε) with m̂ = m/(1-β₁ᵗ), v̂ = v/(1-β₂ᵗ).

The state (velocity, moments) and the scratch space are flat arrays over all the parameters,
so that a step is a few NumPy calls on one array, not a few per parameter, and allocates
nothing.  Gradients that are consecutive pieces of one flat array (as :func:`actlab.nn.fit`
lays them out) are read in place; others are gathered into a flat buffer first.  Every entry
goes through the same operations in the same order either way, so the bits do not depend on
the layout.  Parameters of mixed dtypes keep one state array per parameter.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..checks import fraction_closed_open, positive_number

Array = NDArray[Any]
Pairs = list[tuple[Array, Array]]


def _address(a: Array) -> int:
    return int(a.__array_interface__["data"][0])


def tiling(arrays: list[Array]) -> Array | None:
    """The 1-d array that ``arrays`` are consecutive C-contiguous pieces of, in order and
    covering all of it, or None."""
    if not arrays:
        return None
    base = arrays[0].base
    if (
        not isinstance(base, np.ndarray)
        or base.ndim != 1
        or not base.flags.c_contiguous
        or base.size != sum(a.size for a in arrays)
    ):
        return None
    at = _address(base)
    for a in arrays:
        if a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous or _address(a) != at:
            return None
        at += a.nbytes
    return base


def _pieces(flat: Array, like: list[Array]) -> list[Array]:
    """Views of ``flat`` shaped like each of ``like``, one after the other."""
    views, at = [], 0
    for a in like:
        views.append(flat[at : at + a.size].reshape(a.shape))
        at += a.size
    return views


class _Layout:
    """The parameters and gradients of one list of pairs, with the flat arrays a step uses.

    ``flat`` is False when the parameters do not share one dtype (or a gradient's shape or
    dtype is not its parameter's): the step then works parameter by parameter.
    """

    def __init__(self, pairs: Pairs) -> None:
        self.params = [p for p, _ in pairs]
        self.grads = [g for _, g in pairs]
        dtypes = {p.dtype for p in self.params} | {g.dtype for g in self.grads}
        self.flat = (
            bool(pairs)
            and len(dtypes) == 1
            and all(isinstance(p, np.ndarray) and p.shape == g.shape for p, g in pairs)
        )
        if not self.flat:
            return
        dtype = dtypes.pop()
        self.size = sum(p.size for p in self.params)
        self.shapes = [p.shape for p in self.params]
        tiled = tiling(self.grads)
        self.gather = tiled is None
        self.g: Array = np.empty(self.size, dtype) if tiled is None else tiled
        self.g_pieces = _pieces(self.g, self.params)
        self.tmp: Array = np.empty(self.size, dtype)
        self.tmp_pieces = _pieces(self.tmp, self.params)

    def matches(self, pairs: Pairs) -> bool:
        if len(pairs) != len(self.params):
            return False
        for (p, g), q, h in zip(pairs, self.params, self.grads):
            if p is not q or g is not h:
                return False
        return True

    def flat_gradient(self) -> Array:
        """All gradients as one flat array (gathered when they are not one already)."""
        if self.gather:
            for piece, g in zip(self.g_pieces, self.grads):
                np.copyto(piece, g)
        return self.g


class _Optimizer:
    """The layout bookkeeping shared by SGD and Adam."""

    _layout: _Layout | None = None

    def _layout_for(self, pairs: Pairs) -> _Layout:
        layout = self._layout
        if layout is None or not layout.matches(pairs):
            new = _Layout(list(pairs))
            if layout is not None and (new.flat != layout.flat or self._shapes(new) != self._shapes(layout)):
                raise ValueError(
                    f"{type(self).__name__}.step: the parameters' shapes or dtypes changed since the "
                    f"first step; use a new optimizer for another model"
                )
            self._layout = layout = new
        return layout

    @staticmethod
    def _shapes(layout: _Layout) -> list[tuple[tuple[int, ...], np.dtype[Any]]]:
        return [(p.shape, p.dtype) for p in layout.params]


class SGD(_Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = positive_number("lr", lr)
        self.momentum = fraction_closed_open("momentum", momentum)
        self._v: Any = None

    def step(self, pairs: Pairs) -> None:
        """One update of every parameter in ``pairs`` (parameter, gradient), in place."""
        layout = self._layout_for(pairs)
        if not layout.flat:
            self._step_each(layout)
            return
        if self._v is None:
            self._v = np.zeros(layout.size, layout.g.dtype)
            self._v_pieces = _pieces(self._v, layout.params)
        g, v, tmp = layout.flat_gradient(), self._v, layout.tmp
        v *= self.momentum
        np.multiply(g, self.lr, out=tmp)
        v -= tmp
        for p, piece in zip(layout.params, self._v_pieces):
            p += piece

    def _step_each(self, layout: _Layout) -> None:
        if self._v is None:
            self._v = [np.zeros_like(p) for p in layout.params]
        for p, g, v in zip(layout.params, layout.grads, self._v):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam(_Optimizer):
    """Adam with bias correction."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr = positive_number("lr", lr)
        self.beta1 = fraction_closed_open("beta1", beta1)
        self.beta2 = fraction_closed_open("beta2", beta2)
        self.eps = positive_number("eps", eps)
        self.t = 0
        self._m: Any = None
        self._v: Any = None

    def step(self, pairs: Pairs) -> None:
        """One update of every parameter in ``pairs`` (parameter, gradient), in place."""
        layout = self._layout_for(pairs)
        self.t += 1
        c1 = 1 - self.beta1**self.t
        c2 = 1 - self.beta2**self.t
        step = self.lr * math.sqrt(c2) / c1
        eps = self.eps * math.sqrt(c2)
        if not layout.flat:
            self._step_each(layout, step, eps)
            return
        if self._m is None:
            self._m = np.zeros(layout.size, layout.g.dtype)
            self._v = np.zeros(layout.size, layout.g.dtype)
        self._direction(layout.flat_gradient(), self._m, self._v, layout.tmp, step, eps)
        for p, piece in zip(layout.params, layout.tmp_pieces):
            p -= piece

    def _step_each(self, layout: _Layout, step: float, eps: float) -> None:
        if self._m is None:
            self._m = [np.zeros_like(p) for p in layout.params]
            self._v = [np.zeros_like(p) for p in layout.params]
            self._tmp = [np.empty_like(p) for p in layout.params]
        for p, g, m, v, tmp in zip(layout.params, layout.grads, self._m, self._v, self._tmp):
            self._direction(g, m, v, tmp, step, eps)
            p -= tmp

    def _direction(self, g: Array, m: Array, v: Array, tmp: Array, step: float, eps: float) -> None:
        """m and v updated by g in place, and step·m/(√v + eps) written to tmp."""
        m -= g
        m *= self.beta1
        m += g  # β₁m + (1-β₁)g = β₁(m - g) + g
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v *= self.beta2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= step
