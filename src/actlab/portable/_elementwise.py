"""f, f' and f'' of every elementwise built-in, as functions ``(xp, x, **params)``.

The stable forms are the NumPy kernels' (src/actlab/activations), written once against
an array namespace ``xp`` and computed in x's own dtype: exponentials from -|x| or from a
clamped x, c·e^z never flushed before the result is subnormal, exact products and sums
(two_prod, two_sum, double-double) where a sum cancels, Taylor series about the roots of
f' and f''.  Kinks take the right-hand piece; limits at ±inf are exact; NaN stays NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..activations._stable_modern import ROOT_PATCHES, SQRT2_HI
from ..activations.elementwise import SELU_ALPHA, SELU_LAMBDA
from ._arith import (
    Array,
    Num,
    clamp,
    const,
    dd_add,
    dd_div,
    dd_mul,
    div_exact_const,
    keep_nan,
    mul_exp,
    num,
    patch_root,
    scaled_exp,
    two_prod,
    two_prod_const,
    two_sum,
)
from ._normal import INV_SQRT_2PI, normal_cdf, normal_pdf_scaled, normal_tail_factor

Triple = tuple[Callable[..., Array], Callable[..., Array], Callable[..., Array]]
#: name -> (f, f', f''), each (xp, x, **params) with the registry's parameter names.
TRIPLES: dict[str, Triple] = {}

SELU_LAMBDA_ALPHA = 1.7580993408473768599402175208123
#: Below this |x|, c·x² is under half an ULP of x/2 (silu, gelu, hard_swish).
TINY_HALF = 2.0**-60


def _register(name: str, f: Callable[..., Array], d1: Callable[..., Array], d2: Callable[..., Array]) -> None:
    TRIPLES[name] = (f, d1, d2)


def _zeros(xp: Any, x: Array, **_: Any) -> Array:
    return keep_nan(xp, xp.zeros_like(x), x)


def _ones(xp: Any, x: Array, **_: Any) -> Array:
    return keep_nan(xp, xp.ones_like(x), x)


def _indicator(xp: Any, x: Array, lo: float, hi: float, value: float = 1.0) -> Array:
    inside = (x >= lo) & (x < hi)
    return keep_nan(xp, xp.where(inside, const(xp, x, value), const(xp, x, 0.0)), x)


def _patch(xp: Any, n: Num, name: str, order: int, x: Array, result: Array) -> Array:
    for root, coefficients, radius in ROOT_PATCHES.get((name, order), ()):
        result = patch_root(xp, n, x, result, root, coefficients, radius)
    return result


def _half_plus_square(xp: Any, n: Num, x: Array, result: Array) -> Array:
    """f(x) = x/2 + c·x² (c > 0) where |x| < TINY_HALF: x/2, moved one step up where the
    halving of a subnormal x was a rounding tie (the exact value lies above it)."""
    small = xp.abs(x) < TINY_HALF
    h = 0.5 * x
    up = h + float(n.np_dtype(1.0e-45 if n.bits == 32 else 5.0e-324))
    h = xp.where(h + h < x, up, h)
    return xp.where(small, h, result)


# ----------------------------------------------------------------------------- helpers
def _logistic(xp: Any, x: Array) -> Array:
    e = xp.exp(-xp.abs(x))
    return xp.where(x < 0, e, const(xp, x, 1.0)) / (1.0 + e)


def _logistic_derivative(xp: Any, x: Array) -> Array:
    # e^{-|x|}/(1 + e·(2 + e)): σ(1 - σ) loses every digit once σ rounds to 1
    e = xp.exp(-xp.abs(x))
    return e / (1.0 + e * (2.0 + e))


def _sech2(xp: Any, n: Num, x: Array, scale: float = 1.0) -> Array:
    """scale·sech²(x) = 4·scale·e^{-2|x|}/(1 + e(2 + e)), e^{-2|x|} not flushed early."""
    a = xp.minimum(xp.abs(x), const(xp, x, 1.0e4))
    z = -(a + a)
    e = xp.exp(z)
    d = (4.0 * scale) * (e / (1.0 + e * (2.0 + e)))
    tail = mul_exp(xp, n, 4.0 * scale, z)
    return keep_nan(xp, xp.where(e < n.smallest_normal, tail, d), x)


def _finite(xp: Any, x: Array, bound: float) -> Array:
    return clamp(xp, x, -bound, bound)


def _scaled_product(xp: Any, n: Num, x: Array, c: float) -> Array:
    """c·x rounded once, ±inf past the dtype's range without an overflowing product."""
    t = n.overflow_threshold(c)
    inf = const(xp, x, float("inf"))
    if c == 0.0:
        return _finite(xp, x, n.max) * c
    big = xp.abs(x) > t
    sign = xp.where(x < 0, -inf, inf) if c > 0 else xp.where(x < 0, inf, -inf)
    return xp.where(big, sign, _finite(xp, x, t) * c)


# ----------------------------------------------------------------------------- classic
def step(xp: Any, x: Array) -> Array:
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 1.0), const(xp, x, 0.0)), x)


_register("step", step, _zeros, _zeros)


def sigmoid(xp: Any, x: Array) -> Array:
    return _logistic(xp, x)


def sigmoid_d1(xp: Any, x: Array) -> Array:
    return _logistic_derivative(xp, x)


def sigmoid_d2(xp: Any, x: Array) -> Array:
    # 1 - 2σ(x) = -tanh(x/2), which keeps its digits where σ is near 1/2 or 1
    return -_logistic_derivative(xp, x) * xp.tanh(x * 0.5)


_register("sigmoid", sigmoid, sigmoid_d1, sigmoid_d2)


def tanh(xp: Any, x: Array) -> Array:
    return xp.tanh(x)


def tanh_d1(xp: Any, x: Array) -> Array:
    return _sech2(xp, num(xp, x), x)


def tanh_d2(xp: Any, x: Array) -> Array:
    return _sech2(xp, num(xp, x), x, -2.0) * xp.tanh(x)


_register("tanh", tanh, tanh_d1, tanh_d2)


def _arctan_parts(xp: Any, x: Array) -> tuple[Array, Array]:
    """(1/(1+x²), x/(1+x²)); for |x| > 1 from r = 1/x, so x² never overflows."""
    small = xp.abs(x) <= 1.0
    s = xp.where(small, x, const(xp, x, 0.0))
    big = xp.where(small, const(xp, x, 2.0), x)
    r = 1.0 / big
    denom_small = s * s + 1.0
    denom_big = big + r
    inv = xp.where(small, 1.0 / denom_small, r / denom_big)
    ratio = xp.where(small, s / denom_small, 1.0 / denom_big)
    return keep_nan(xp, inv, x), keep_nan(xp, ratio, x)


def arctan(xp: Any, x: Array) -> Array:
    return xp.atan(x)


def arctan_d1(xp: Any, x: Array) -> Array:
    return _arctan_parts(xp, x)[0]


def arctan_d2(xp: Any, x: Array) -> Array:
    inv, ratio = _arctan_parts(xp, x)
    return (ratio * inv) * -2.0


_register("arctan", arctan, arctan_d1, arctan_d2)


def relu(xp: Any, x: Array) -> Array:
    return keep_nan(xp, xp.where(x > 0, x, const(xp, x, 0.0)), x)


def relu_d1(xp: Any, x: Array) -> Array:
    return step(xp, x)


_register("relu", relu, relu_d1, _zeros)


def _linear_negative(xp: Any, x: Array, slope: float) -> Array:
    """x for x >= 0, slope·x (slope rounded to x's dtype, rounded once) for x < 0."""
    n = num(xp, x)
    negative = xp.minimum(x, const(xp, x, 0.0))
    return xp.where(x >= 0, x, _scaled_product(xp, n, negative, slope))


def leaky_relu(xp: Any, x: Array, *, slope: float) -> Array:
    return _linear_negative(xp, x, slope)


def leaky_relu_d1(xp: Any, x: Array, *, slope: float) -> Array:
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 1.0), const(xp, x, slope)), x)


_register("leaky_relu", leaky_relu, leaky_relu_d1, _zeros)


def selu(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    negative = xp.expm1(xp.minimum(x, const(xp, x, 0.0))) * SELU_LAMBDA_ALPHA
    return xp.where(x >= 0, _scaled_product(xp, n, x, SELU_LAMBDA), negative)


def selu_d1(xp: Any, x: Array) -> Array:
    # λα·e^x from x, not f(x) + λα: that sum cancels to 0 for x below about -37
    negative = scaled_exp(xp, num(xp, x), xp.minimum(x, const(xp, x, 0.0)), SELU_LAMBDA_ALPHA)
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, SELU_LAMBDA), negative), x)


def selu_d2(xp: Any, x: Array) -> Array:
    negative = scaled_exp(xp, num(xp, x), xp.minimum(x, const(xp, x, 0.0)), SELU_LAMBDA_ALPHA)
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 0.0), negative), x)


_register("selu", selu, selu_d1, selu_d2)


def identity(xp: Any, x: Array) -> Array:
    return x * 1.0


_register("identity", identity, _ones, _zeros)


# ----------------------------------------------------------------------------- elu, celu
def elu(xp: Any, x: Array, *, alpha: float) -> Array:
    negative = xp.expm1(xp.minimum(x, const(xp, x, 0.0))) * alpha
    return xp.where(x > 0, x, negative)


def elu_d1(xp: Any, x: Array, *, alpha: float) -> Array:
    tail = scaled_exp(xp, num(xp, x), xp.minimum(x, const(xp, x, 0.0)), alpha)
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 1.0), tail), x)


def elu_d2(xp: Any, x: Array, *, alpha: float) -> Array:
    tail = scaled_exp(xp, num(xp, x), xp.minimum(x, const(xp, x, 0.0)), alpha)
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 0.0), tail), x)


_register("elu", elu, elu_d1, elu_d2)


def _celu_exponent(xp: Any, n: Num, x: Array, alpha: float) -> tuple[Array, Array | None]:
    """(z, z_lo) with z + z_lo = min(x, 0)/α to twice the precision: an error in z is
    amplified by |z| in e^z."""
    xc = xp.maximum(xp.minimum(x, const(xp, x, 0.0)), const(xp, x, -min(1.0e4 * alpha, n.max / 4)))
    ah, al = n.pair(alpha)
    z = xc / ah
    if (ah == 1.0 and al == 0.0) or not n.max**-0.25 < alpha < n.max**0.25:
        return z, None
    p, e = two_prod_const(n, (ah, 0.0), z)
    return z, (((xc - p) - e) - z * al) / ah


def celu(xp: Any, x: Array, *, alpha: float) -> Array:
    n = num(xp, x)
    z, z_lo = _celu_exponent(xp, n, x, alpha)
    negative = xp.expm1(z)
    if z_lo is not None:
        negative = negative + mul_exp(xp, n, z_lo, z)  # expm1(z + lo) = expm1(z) + e^z·lo
    return xp.where(x >= 0, x, negative * alpha)


def celu_d1(xp: Any, x: Array, *, alpha: float) -> Array:
    n = num(xp, x)
    z, z_lo = _celu_exponent(xp, n, x, alpha)
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 1.0), mul_exp(xp, n, 1.0, z, z_lo)), x)


def celu_d2(xp: Any, x: Array, *, alpha: float) -> Array:
    n = num(xp, x)
    z, z_lo = _celu_exponent(xp, n, x, alpha)
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 0.0), mul_exp(xp, n, 1.0 / alpha, z, z_lo)), x)


_register("celu", celu, celu_d1, celu_d2)


# ----------------------------------------------------------------------------- gelu
#: 2√(2/π) and 2√(2/π)·0.044715 as hi + lo: v = 2u = C1·x + C3·x³ in the tanh form.
_C1 = (1.5957691216057308, -9.96930880911092e-17)
_C3 = (0.07135481627260025, -6.175149918155315e-19)


def _cube_bound(n: Num) -> float:
    """|x| below which x³ and its exact split stay finite (1e30 in float64)."""
    return min(1.0e30, (n.max / (4.0 * n.splitter)) ** (1.0 / 3.0) / n.splitter)


def _tanh_gelu_v(xp: Any, n: Num, x: Array, *, with_slope: bool = False) -> Any:
    """(xc, v_hi, v_lo[, x·v' as a pair]) for v = C1·x + C3·x³, from exact pieces."""
    xc = _finite(xp, x, _cube_bound(n))
    x2, x2e = two_prod(n, xc, xc)
    x3, x3e = two_prod(n, x2, xc)
    x3e = x3e + x2e * xc
    c1, c3 = n.pair(*_C1), n.pair(*_C3)
    p1, e1 = two_prod_const(n, c1, xc)
    p3, e3 = two_prod_const(n, c3, x3)
    e3 = e3 + c3[0] * x3e
    s, es = two_sum(p1, p3)
    lo = es + e1 + e3
    hi = s + lo
    if with_slope:
        t3, t3e = two_prod_const(n, (3.0, 0.0), p3)
        ts, tse = two_sum(p1, t3)
        xdv = dd_add((ts, tse), (t3e, e1 + 3.0 * e3))
        return xc, hi, lo - (hi - s), xdv
    return xc, hi, lo - (hi - s)


def _gelu_exact(xp: Any, n: Num, x: Array) -> Array:
    xc = _finite(xp, x, n.max / 4)
    result = normal_cdf(xp, n, x, scale=xc)
    result = xp.where(x == -float("inf"), const(xp, x, -0.0), result)
    return xp.where(x > 64.0, x, result)


def _gelu_tanh(xp: Any, n: Num, x: Array) -> Array:
    xc, vh, vl = _tanh_gelu_v(xp, n, x)
    neg = x < 0
    e = xp.exp(xp.where(neg, vh, -vh))
    lower = mul_exp(xp, n, xc / (1.0 + e), vh, vl)
    upper = x / (1.0 + e)
    return xp.where(neg, lower, upper)


def gelu(xp: Any, x: Array, *, approximate: str) -> Array:
    n = num(xp, x)
    result = _gelu_exact(xp, n, x) if approximate == "none" else _gelu_tanh(xp, n, x)
    return _half_plus_square(xp, n, x, result)


def _tanh_gelu_left_factor(xp: Any, n: Num, e: Array, xdv: tuple[Array, Array]) -> Array:
    """((1 + e) + x·v')/(1 + e)² (e = e^v), in hi + lo: it cancels near the root of f'."""
    one_e = two_sum(xp.ones_like(e), e)
    return dd_div(n, dd_add(one_e, xdv), dd_mul(n, one_e, one_e))[0]


def gelu_d1(xp: Any, x: Array, *, approximate: str) -> Array:
    n = num(xp, x)
    if approximate == "tanh":
        xc, vh, vl, xdv = _tanh_gelu_v(xp, n, x, with_slope=True)
        neg = x < 0
        e = xp.exp(xp.where(neg, vh, -vh))
        lower = mul_exp(xp, n, _tanh_gelu_left_factor(xp, n, e, xdv), vh, vl)
        upper = (1.0 + xdv[0] * (e / (1.0 + e))) / (1.0 + e)
        return keep_nan(xp, _patch(xp, n, "gelu_tanh", 1, x, xp.where(neg, lower, upper)), x)
    a = xp.minimum(xp.abs(x), const(xp, x, 64.0))
    neg = x < 0
    result = normal_cdf(xp, n, x) + normal_pdf_scaled(xp, n, x, _finite(xp, x, 64.0))
    # Φ(x) + xφ(x) = e^{-x²/2}(R(x) - |x|/√(2π)) in the lower tail, rounded once
    sq = float(n.np_dtype(1.25 * SQRT2_HI))
    at = xp.maximum(a, const(xp, a, sq))
    tail = normal_pdf_scaled(xp, n, at, normal_tail_factor(xp, n, at) / INV_SQRT_2PI - at)
    result = xp.where(neg & (a >= sq), tail, result)
    return keep_nan(xp, _patch(xp, n, "gelu", 1, x, result), x)


def gelu_d2(xp: Any, x: Array, *, approximate: str) -> Array:
    n = num(xp, x)
    if approximate == "tanh":
        xc, vh, vl = _tanh_gelu_v(xp, n, x)
        c1, c3 = n.pair(*_C1)[0], n.pair(*_C3)[0]
        dv = c1 + 3.0 * c3 * (xc * xc)
        ddv = 6.0 * c3 * xc
        bracket = 2.0 * dv + xc * (ddv - dv * dv * xp.tanh(vh * 0.5))
        t = xp.exp(-xp.abs(vh))
        sign = xp.where(vh < 0, const(xp, vh, -1.0), const(xp, vh, 1.0))
        result = mul_exp(xp, n, bracket / ((1.0 + t) * (1.0 + t)), -xp.abs(vh), -sign * vl)
        return keep_nan(xp, _patch(xp, n, "gelu_tanh", 2, x, result), x)
    a = xp.minimum(xp.abs(x), const(xp, x, 64.0))
    # 2 - x² = (2 - p) - e with p + e = x² exactly (2 - p is exact near x² = 2): exact signs
    # and digits near ±√2.  (Not (√2_hi - |x|) + √2_lo: XLA folds the two constants.)
    p, e = two_prod(n, a, a)
    return keep_nan(xp, normal_pdf_scaled(xp, n, a, (2.0 - p) - e), x)


_register("gelu", gelu, gelu_d1, gelu_d2)


# ----------------------------------------------------------------------------- silu
def silu(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = xp.maximum(x, const(xp, x, -1.0e4))
    e = xp.exp(-xp.abs(xc))
    lower = mul_exp(xp, n, xc / (1.0 + e), xc)
    return _half_plus_square(xp, n, x, xp.where(x < 0, lower, x / (1.0 + e)))


def silu_d1(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = _finite(xp, x, 1.0e4)
    e = xp.exp(-xp.abs(xc))
    # x < 0: σ(x)(1 + xσ(-x)) = e^x·((1 + x) + e^x)/(1 + e^x)²
    lower = mul_exp(xp, n, ((1.0 + xc) + e) / ((1.0 + e) * (1.0 + e)), xc)
    upper = (1.0 + xc * (e / (1.0 + e))) / (1.0 + e)
    return keep_nan(xp, _patch(xp, n, "silu", 1, x, xp.where(x < 0, lower, upper)), x)


def silu_d2(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = _finite(xp, x, 1.0e4)
    a = xp.abs(xc)
    t = xp.exp(-a)
    result = mul_exp(xp, n, (2.0 - xc * xp.tanh(xc * 0.5)) / ((1.0 + t) * (1.0 + t)), -a)
    return keep_nan(xp, _patch(xp, n, "silu", 2, x, result), x)


_register("silu", silu, silu_d1, silu_d2)


# ----------------------------------------------------------------------------- mish
def mish(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = _finite(xp, x, 1.0e4)
    e = xp.exp(xp.minimum(xc, const(xp, xc, 0.0)))
    d = e * (e + 2.0) + 2.0
    lower = mul_exp(xp, n, xc * (e + 2.0) / d, xc)
    t = xp.exp(-xp.maximum(x, const(xp, x, 0.0)))
    upper = x * ((1.0 + 2.0 * t) / (1.0 + 2.0 * t * (1.0 + t)))
    return xp.where(x < 0, lower, upper)


def _mish_left_factor(xp: Any, n: Num, xc: Array) -> Array:
    """(e + 2)/d + 4x(n + 1)/(d²(1 + e)) for x < 0 (e = e^x, n = e(e + 2), d = n + 2), in
    hi + lo: the two terms cancel on both sides of the root of f'."""
    e = xp.exp(xp.minimum(xc, const(xp, xc, 0.0)))
    zero = xp.zeros_like(e)
    e2 = two_sum(e, xp.full_like(e, 2.0))
    nn = dd_mul(n, (e, zero), e2)
    d = dd_add(nn, (xp.full_like(e, 2.0), zero))
    one_e = two_sum(xp.ones_like(e), e)
    term2 = dd_div(
        n,
        dd_mul(n, (4.0 * xc, zero), dd_add(nn, (xp.ones_like(e), zero))),
        dd_mul(n, dd_mul(n, d, d), one_e),
    )
    return dd_add(dd_div(n, e2, d), term2)[0]


def mish_d1(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = _finite(xp, x, 1.0e4)
    lower = mul_exp(xp, n, _mish_left_factor(xp, n, xc), xc)
    t = xp.exp(-xp.maximum(xc, const(xp, xc, 0.0)))
    big_d = 1.0 + 2.0 * t * (1.0 + t)
    upper = (1.0 + 2.0 * t) / big_d + xc * (4.0 * t * t * (1.0 + t)) / (big_d * big_d)
    return keep_nan(xp, _patch(xp, n, "mish", 1, x, xp.where(x < 0, lower, upper)), x)


def _mish_second_left_factor(xp: Any, n: Num, xc: Array) -> Array:
    e = xp.exp(xp.minimum(xc, const(xp, xc, 0.0)))
    zero = xp.zeros_like(e)
    one, two = (xp.ones_like(e), zero), (xp.full_like(e, 2.0), zero)
    nn = dd_mul(n, (e, zero), two_sum(e, xp.full_like(e, 2.0)))
    d = dd_add(nn, two)
    one_e = two_sum(xp.ones_like(e), e)
    g = dd_div(n, dd_mul(n, (xp.full_like(e, 4.0), zero), dd_add(nn, one)), dd_mul(n, dd_mul(n, d, d), one_e))
    inner = dd_add(one, dd_mul(n, (xp.full_like(e, -2.0), zero), dd_mul(n, dd_div(n, nn, d), (e, zero))))
    bracket = dd_add(two, dd_div(n, dd_mul(n, (xc, zero), inner), one_e))
    return dd_mul(n, g, bracket)[0]


def _mish_second_right_factor(xp: Any, n: Num, xc: Array) -> Array:
    t = xp.exp(-xp.maximum(xc, const(xp, xc, 0.0)))
    zero = xp.zeros_like(t)
    one, two = (xp.ones_like(t), zero), (xp.full_like(t, 2.0), zero)
    one_t = two_sum(xp.ones_like(t), t)
    big_d = dd_add(one, dd_mul(n, dd_mul(n, two, (t, zero)), one_t))
    tsp = dd_div(n, dd_add(one, dd_mul(n, two, (t, zero))), big_d)
    inner = dd_add((t, zero), dd_mul(n, (xp.full_like(t, -2.0), zero), tsp))
    bracket = dd_add(two, dd_div(n, dd_mul(n, (xc, zero), inner), one_t))
    factor = dd_div(n, dd_mul(n, (xp.full_like(t, 4.0), zero), one_t), dd_mul(n, big_d, big_d))
    return dd_mul(n, factor, bracket)[0]


def mish_d2(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = _finite(xp, x, 1.0e4)
    lower = mul_exp(xp, n, _mish_second_left_factor(xp, n, xc), xc)
    upper = mul_exp(xp, n, _mish_second_right_factor(xp, n, xc), -2.0 * xp.maximum(xc, const(xp, xc, 0.0)))
    return keep_nan(xp, _patch(xp, n, "mish", 2, x, xp.where(xc < 0, lower, upper)), x)


_register("mish", mish, mish_d1, mish_d2)


# ----------------------------------------------------------------------------- softplus
def _exp_neg_abs_scaled(xp: Any, n: Num, x: Array, beta: float) -> tuple[Array, Array | None, Array]:
    """(z, z_lo, e^{z + z_lo}) for z + z_lo = -|βx| (βx exact as hi + lo)."""
    xc = _finite(xp, x, n.max / (4.0 * n.splitter * max(1.0, beta)))
    if beta == 1.0:
        z = -xp.abs(xc)
        return z, None, xp.exp(z)
    p, pe = two_prod_const(n, n.pair(beta), xc)
    sign = xp.where(p < 0, const(xp, p, -1.0), const(xp, p, 1.0))
    z, z_lo = -xp.abs(p), -sign * pe
    return z, z_lo, mul_exp(xp, n, 1.0, z, z_lo)


def softplus(xp: Any, x: Array, *, beta: float) -> Array:
    n = num(xp, x)
    z, z_lo, e = _exp_neg_abs_scaled(xp, n, x, beta)
    tail = xp.log1p(e)
    if beta != 1.0:  # log1p(e)/β = e/β, rounded once, where e is tiny
        tail = xp.where(e < n.eps, mul_exp(xp, n, 1.0 / beta, z, z_lo), tail / beta)
    return xp.maximum(x, const(xp, x, 0.0)) + tail


def softplus_d1(xp: Any, x: Array, *, beta: float) -> Array:
    if beta == 1.0:
        return _logistic(xp, x)
    _, _, e = _exp_neg_abs_scaled(xp, num(xp, x), x, beta)
    return keep_nan(xp, xp.where(x < 0, e, const(xp, e, 1.0)) / (1.0 + e), x)


def softplus_d2(xp: Any, x: Array, *, beta: float) -> Array:
    if beta == 1.0:
        return _logistic_derivative(xp, x)
    n = num(xp, x)
    z, z_lo, e = _exp_neg_abs_scaled(xp, n, x, beta)
    return keep_nan(xp, mul_exp(xp, n, beta / ((1.0 + e) * (1.0 + e)), z, z_lo), x)


_register("softplus", softplus, softplus_d1, softplus_d2)


def log_sigmoid(xp: Any, x: Array) -> Array:
    return -(xp.maximum(-x, const(xp, x, 0.0)) + xp.log1p(xp.exp(-xp.abs(x))))


def log_sigmoid_d1(xp: Any, x: Array) -> Array:
    return _logistic(xp, -x)


def log_sigmoid_d2(xp: Any, x: Array) -> Array:
    return -_logistic_derivative(xp, x)


_register("log_sigmoid", log_sigmoid, log_sigmoid_d1, log_sigmoid_d2)


# ----------------------------------------------------------------------------- softsign
def softsign(xp: Any, x: Array) -> Array:
    xc = _finite(xp, x, num(xp, x).max / 4)
    return xc / (1.0 + xp.abs(xc))


def _softsign_power(xp: Any, n: Num, x: Array, k: int) -> Array:
    """1/(1 + |x|)^k: in hi + lo below a bound where the power stays finite, from
    r = 1/(1 + |x|) beyond."""
    a = xp.minimum(xp.abs(x), const(xp, x, n.max / 4))
    bound = 1.0e100 if n.bits == 64 else 1.0e10
    small = a < bound
    s = two_sum(xp.ones_like(a), xp.where(small, a, const(xp, a, 0.0)))
    power = s
    for _ in range(k - 1):
        power = dd_mul(n, power, s)
    exact = dd_div(n, (xp.ones_like(a), xp.zeros_like(a)), power)[0]
    r = 1.0 / (1.0 + a)
    far = r
    for _ in range(k - 1):
        far = far * r
    return keep_nan(xp, xp.where(small, exact, far), x)


def softsign_d1(xp: Any, x: Array) -> Array:
    return _softsign_power(xp, num(xp, x), x, 2)


def softsign_d2(xp: Any, x: Array) -> Array:
    sign = xp.where(x >= 0, const(xp, x, -2.0), const(xp, x, 2.0))
    return sign * _softsign_power(xp, num(xp, x), x, 3)


_register("softsign", softsign, softsign_d1, softsign_d2)


# ----------------------------------------------------------------------------- piecewise
def hardtanh(xp: Any, x: Array) -> Array:
    return clamp(xp, x, -1.0, 1.0)


def hardtanh_d1(xp: Any, x: Array) -> Array:
    return _indicator(xp, x, -1.0, 1.0)


_register("hardtanh", hardtanh, hardtanh_d1, _zeros)


def relu6(xp: Any, x: Array) -> Array:
    return xp.minimum(relu(xp, x), const(xp, x, 6.0))


def relu6_d1(xp: Any, x: Array) -> Array:
    return _indicator(xp, x, 0.0, 6.0)


_register("relu6", relu6, relu6_d1, _zeros)


def hard_sigmoid(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = clamp(xp, x, -3.0, 3.0)
    s, e = two_sum(xc, xp.full_like(xc, 3.0))
    return div_exact_const(n, s, e, 6.0)


def hard_sigmoid_d1(xp: Any, x: Array) -> Array:
    return _indicator(xp, x, -3.0, 3.0, 1.0 / 6.0)


_register("hard_sigmoid", hard_sigmoid, hard_sigmoid_d1, _zeros)


def hard_swish(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = clamp(xp, x, -3.0, 3.0)
    s, e = two_sum(xc, xp.full_like(xc, 3.0))
    p, pe = two_prod(n, xc, s)
    middle = div_exact_const(n, p, pe + xc * e, 6.0)
    result = xp.where(x < -3.0, const(xp, x, -0.0), xp.where(x >= 3.0, x, middle))
    return _half_plus_square(xp, n, x, result)


def hard_swish_d1(xp: Any, x: Array) -> Array:
    n = num(xp, x)
    xc = clamp(xp, x, -3.0, 3.0)
    s, e = two_sum(xc + xc, xp.full_like(xc, 3.0))
    middle = div_exact_const(n, s, e, 6.0)
    return xp.where(x < -3.0, const(xp, x, 0.0), xp.where(x >= 3.0, const(xp, x, 1.0), middle))


def hard_swish_d2(xp: Any, x: Array) -> Array:
    return _indicator(xp, x, -3.0, 3.0, 1.0 / 3.0)


_register("hard_swish", hard_swish, hard_swish_d1, hard_swish_d2)


def prelu(xp: Any, x: Array, *, a: float) -> Array:
    return _linear_negative(xp, x, a)


def prelu_d1(xp: Any, x: Array, *, a: float) -> Array:
    return keep_nan(xp, xp.where(x >= 0, const(xp, x, 1.0), const(xp, x, a)), x)


_register("prelu", prelu, prelu_d1, _zeros)

__all__ = ["SELU_ALPHA", "SELU_LAMBDA", "TRIPLES"]
