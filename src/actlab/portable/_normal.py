"""The normal distribution function Φ and density φ in array-API operations.

Φ comes from the rational approximations of erf/erfc of the FreeBSD msun s_erf.c (the
coefficients of actlab's NumPy kernels), in three regions of |x|; in the lower tail
Φ(x) = e^{-x²/2}·e^{-0.5625 + R(s)/S(s)}/(√2·|x|), s = 2/x², with e^{-x²/2} from an
exactly split x², so that the ~x² amplification of an error in x/√2 never happens.
"""

from __future__ import annotations

from typing import Any

from ..activations._stable_modern import (
    _A_END,
    _B_END,
    _C_SPLIT,
    _ERX,
    _PA,
    _PP,
    _QA,
    _QQ,
    _RA,
    _RB,
    _SA,
    _SB,
    INV_SQRT2_HI,
    INV_SQRT2_LO,
    INV_SQRT_2PI,
    SQRT2_HI,
    SQRT2_LO,
)
from ._arith import Array, Num, const, fast_two_sum, mul_exp, poly, split, two_prod_const

__all__ = ["INV_SQRT_2PI", "gauss", "normal_cdf", "normal_pdf_scaled", "normal_tail_factor"]


def gauss(xp: Any, n: Num, a: Array, c: Array) -> Array:
    """c·e^{-a²/2} for 0 <= a <= 64, with a² split exactly (hi² exact)."""
    hi, lo = split(n, a)
    # -a²/2 as hi + lo: hi² is exact, the rest is small; renormalised, so that the low
    # part is within an ULP of the high one (float32's half-width split leaves it large)
    z, z_lo = fast_two_sum(hi * hi * -0.5, -(hi * lo + lo * lo * 0.5))
    return mul_exp(xp, n, c, z, z_lo)


def _select_poly(xp: Any, first: Array, p: tuple[float, ...], q: tuple[float, ...], s: Array) -> Array:
    """p(s) where ``first``, else q(s): one Horner pass whose coefficients are selected
    (the shorter polynomial padded with zeros at the top)."""
    size = max(len(p), len(q))
    p = (*p, *([0.0] * (size - len(p))))
    q = (*q, *([0.0] * (size - len(q))))
    zero = const(xp, s, 0.0)
    result = xp.where(first, zero + p[-1], zero + q[-1])
    for cp, cq in zip(p[-2::-1], q[-2::-1]):
        result = result * s + xp.where(first, zero + cp, zero + cq)
    return result


def normal_tail_factor(xp: Any, n: Num, a: Array) -> Array:
    """Φ(-a)·e^{a²/2} = e^{-0.5625 + R(s)/S(s)}/(√2·a), s = 2/a², for a >= 1.25·√2
    (other a give finite values that the callers discard)."""
    a = xp.maximum(a, const(xp, a, 1.0))
    s = 2.0 / (a * a)
    near = a < _C_SPLIT
    rs = _select_poly(xp, near, _RA, _RB, s) / _select_poly(xp, near, _SA, _SB, s)
    sqrt2 = n.pair(SQRT2_HI, SQRT2_LO)[0]
    return xp.exp(rs - 0.5625) / (sqrt2 * a)


def normal_cdf(xp: Any, n: Num, x: Array, scale: Array | None = None) -> Array:
    """scale·Φ(x) (scale multiplies before the last rounding); NaN stays NaN, ±inf fine."""
    a = xp.minimum(xp.abs(x), const(xp, x, 64.0))
    neg = x < 0
    if scale is None:
        scale = xp.ones_like(a)
    zero = const(xp, a, 0.0)

    # region A: |z| < 0.84375, z = x/√2 as hi + lo, erf(z) = z + z·y(z²)
    aa = xp.where(a < _A_END, a, zero)
    zh, zl = two_prod_const(n, n.pair(INV_SQRT2_HI, INV_SQRT2_LO), aa)
    q = aa * aa * 0.5
    y = poly(xp, _PP, q) / poly(xp, _QQ, q)
    erf_a = zh + (zh * y + zl * (1.0 + y))
    erfc_a = xp.where(zh < 0.25, 1.0 - erf_a, 0.5 - (((zh - 0.5) + zh * y) + zl * (1.0 + y)))
    phi_a = scale * xp.where(neg, 0.5 * erfc_a, 0.5 + 0.5 * erf_a)

    # region B: 0.84375 <= |z| < 1.25, erf(z) = erx + P/Q(z - 1), z - 1 from x exactly
    sq2h, sq2l = n.pair(SQRT2_HI, SQRT2_LO)
    ab = xp.where((a >= _A_END) & (a < _B_END), a, const(xp, a, 1.5))
    s = ((ab - sq2h) - sq2l) * float(n.np_dtype(INV_SQRT2_HI))
    pq = poly(xp, _PA, s) / poly(xp, _QA, s)
    phi_b = scale * xp.where(neg, ((1.0 - _ERX) - pq) * 0.5, (1.0 + _ERX + pq) * 0.5)

    # region C: |z| >= 1.25, Φ(-a) = e^{-a²/2}·factor(a), from a itself
    ac = xp.where(a >= _B_END, a, const(xp, a, 2.0))
    lower = gauss(xp, n, ac, scale * normal_tail_factor(xp, n, ac))
    phi_c = xp.where(neg, lower, scale - lower)

    result = xp.where(a < _A_END, phi_a, xp.where(a < _B_END, phi_b, phi_c))
    return xp.where(xp.isnan(x), x, result)


def normal_pdf_scaled(xp: Any, n: Num, a: Array, c: Array) -> Array:
    """c·φ(a) = c·e^{-a²/2}/√(2π) for a = |x| (clamped to 64 here)."""
    a = xp.minimum(xp.abs(a), const(xp, a, 64.0))
    return gauss(xp, n, a, c * INV_SQRT_2PI)
