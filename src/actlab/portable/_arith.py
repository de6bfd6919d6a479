"""Exact and stable arithmetic on arrays of any array-API namespace.

Every helper takes the namespace ``xp`` and works in the dtype of its array arguments
(float32 or float64; narrower dtypes are widened to float32 by the caller).  The dtype's
constants (its Veltkamp splitter, its smallest normal, constants held as hi + lo pairs in
that dtype) come from :func:`num`.  Nothing here forms an intermediate that overflows or
an invalid operation (inf - inf, 0·inf) for finite or clamped input, so that NumPy raises
no floating-point warning; underflow to subnormals and to 0 is allowed and intended.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = Any
Pair = tuple[Array, Array]


@dataclass(frozen=True)
class Num:
    """The constants of one floating-point dtype."""

    bits: int  # 32 or 64
    precision: int  # significand bits, hidden bit included
    splitter: float  # 2^ceil(p/2) + 1
    eps: float
    smallest_normal: float
    max: float
    log_smallest_normal: float  # ln of the smallest normal: e^z below it is subnormal
    np_dtype: Any

    def pair(self, hi: float, lo: float = 0.0) -> tuple[float, float]:
        """The value hi + lo (a float64 pair) as a pair of this dtype's numbers."""
        h = float(self.np_dtype(hi))
        return h, float(self.np_dtype((hi - h) + lo))

    def split_const(self, c: float) -> tuple[float, float]:
        """The Veltkamp split of a constant of this dtype, computed in this dtype."""
        dt = self.np_dtype
        t = dt(c) * dt(self.splitter)
        hi = t - (t - dt(c))
        return float(hi), float(dt(c) - hi)

    def overflow_threshold(self, c: float) -> float:
        """The largest t of this dtype with fl(t·|c|) finite (max for |c| <= 1)."""
        c = abs(c)
        if c <= 1.0:
            return self.max
        dt = self.np_dtype
        t = dt(self.max / c)
        with np.errstate(over="ignore"):
            while np.isinf(t * dt(c)):
                t = np.nextafter(t, dt(0))
            while np.isfinite(np.nextafter(t, dt(np.inf)) * dt(c)):
                t = np.nextafter(t, dt(np.inf))
        return float(t)


@functools.lru_cache(maxsize=8)
def _num(bits: int) -> Num:
    dt: Any = {32: np.float32, 64: np.float64}[bits]
    fi: Any = np.finfo(dt)
    p = fi.nmant + 1
    return Num(
        bits=bits,
        precision=p,
        splitter=float(2 ** ((p + 1) // 2) + 1),
        eps=float(fi.eps),
        smallest_normal=float(fi.smallest_normal),
        max=float(fi.max),
        log_smallest_normal=math.log(float(fi.smallest_normal)),
        np_dtype=dt,
    )


def num(xp: Any, x: Array) -> Num:
    """The constants of x's dtype (float32 or float64)."""
    return _num(int(xp.finfo(x.dtype).bits))


def const(xp: Any, x: Array, value: float) -> Array:
    """value as a 0-d array of x's dtype (for maximum, minimum and where)."""
    return xp.asarray(value, dtype=x.dtype)


def keep_nan(xp: Any, result: Array, x: Array) -> Array:
    """result, with NaN where x is NaN."""
    return xp.where(xp.isnan(x), x, result)


def clamp(xp: Any, x: Array, lo: float, hi: float) -> Array:
    """min(max(x, lo), hi); NaN stays NaN."""
    return xp.minimum(xp.maximum(x, const(xp, x, lo)), const(xp, x, hi))


# ----------------------------------------------------------------------- exact arithmetic
def split(n: Num, a: Array) -> Pair:
    """Veltkamp split a = hi + lo, hi with half the significand (|a|·splitter finite)."""
    t = a * n.splitter
    hi = t - (t - a)
    return hi, a - hi


def two_prod(n: Num, a: Array, b: Array) -> Pair:
    """(p, e), p = fl(a·b), p + e = a·b exactly (Dekker)."""
    p = a * b
    ah, al = split(n, a)
    bh, bl = split(n, b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def two_prod_const(n: Num, c: tuple[float, float], b: Array) -> Pair:
    """(p, e) with p + e = (c_hi + c_lo)·b to about twice the dtype's precision."""
    ch, cl = c
    p = b * ch
    chh, chl = n.split_const(ch)
    bh, bl = split(n, b)
    e = ((bh * chh - p) + bl * chh + bh * chl) + bl * chl
    return p, e + b * cl


def two_sum(a: Array, b: Array) -> Pair:
    """(s, e), s = fl(a + b), s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a: Array, b: Array) -> Pair:
    s = a + b
    return s, b - (s - a)


def dd_add(a: Pair, b: Pair) -> Pair:
    s, e = two_sum(a[0], b[0])
    return fast_two_sum(s, e + (a[1] + b[1]))


def dd_mul(n: Num, a: Pair, b: Pair) -> Pair:
    p, e = two_prod(n, a[0], b[0])
    return fast_two_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def dd_div(n: Num, a: Pair, b: Pair) -> Pair:
    q = a[0] / b[0]
    p, e = two_prod(n, q, b[0])
    r = (((a[0] - p) - e) + a[1]) - q * b[1]
    return fast_two_sum(q, r / b[0])


def div_exact_const(n: Num, hi: Array, lo: Array, c: float) -> Array:
    """(hi + lo)/c for a constant c exact in the dtype, rounded nearly correctly."""
    q = hi / c
    p, e = two_prod_const(n, (c, 0.0), q)
    r = ((hi - p) - e) + lo
    return q + r / c


# ----------------------------------------------------------------------- exponentials
def mul_exp(xp: Any, n: Num, c: Array | float, z: Array, z_lo: Array | None = None) -> Array:
    """c·e^{z + z_lo} for finite c and z <= 0 (larger z is clamped to 0), one exponential.

    Where e^z alone would be subnormal the product is (c·e^{z/2})·e^{z/2}, whose factors
    are normal, so that it keeps its digits until the result itself is subnormal.
    ``z_lo`` is the low part of z as hi + lo (|z_lo| <= an ULP of z), taken as
    e^{z_lo} = 1 + z_lo.
    """
    z = xp.minimum(z, const(xp, z, 0.0))
    tiny = z < n.log_smallest_normal
    e = xp.exp(xp.where(tiny, z * 0.5, z))
    ce = c * e
    result = xp.where(tiny, ce * e, ce)
    if z_lo is not None:
        corrected = result + result * clamp(xp, z_lo, -1.0e-3, 1.0e-3)
        result = xp.where(result == 0, result, corrected)  # a zero keeps its sign
    return result


def scaled_exp(xp: Any, n: Num, z: Array, c: float) -> Array:
    """c·e^z for z <= 0, not flushed where e^z alone is subnormal."""
    return mul_exp(xp, n, c, z)


def poly(xp: Any, coefficients: Sequence[float], s: Array) -> Array:
    """Σ c_k s^k by Horner's rule."""
    p = xp.full_like(s, coefficients[-1])
    for c in coefficients[-2::-1]:
        p = p * s + c
    return p


def patch_root(
    xp: Any,
    n: Num,
    x: Array,
    result: Array,
    root: tuple[float, float],
    coefficients: Sequence[float],
    radius: float,
) -> Array:
    """Where |x - root| < radius, Σ_k c_k (x - root)^k (k >= 1) replaces result: near a
    simple root it vanishes through its factor x - root and keeps its relative digits."""
    hi, lo = n.pair(*root)
    d = x - hi
    near = xp.abs(d) < radius
    dm = xp.where(near, d, const(xp, d, 0.0)) - lo
    # the series is Σ c_k d^{k+1}: d times the polynomial Σ c_k d^k
    return xp.where(near, poly(xp, coefficients, dm) * dm, result)
