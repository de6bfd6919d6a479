"""The modern activation functions: ELU to GLU.

Each function is defined once: the forward kernel with its facts in the decorator, its
derivatives right below it.  Kernels see float64 (float16/float32 input is computed in
float64 and rounded once) and give the limits at ±inf exactly, NaN for NaN, and no
floating-point warning.  At a kink the derivative is that of the piece on the right
(x >= kink).  Near each root of f' and f'' of silu, gelu and mish the kernels switch to
the Taylor series about the root (``patch_root``), so that the relative accuracy holds up
to the root itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._registry import (
    Kink,
    Param,
    activation,
    axis_int,
    finite_real,
    one_of,
    positive_real,
)
from ._stable import keep_nan, logistic, logistic_derivative, scaled_exp
from ._stable_modern import (
    INV_SQRT_2PI,
    ROOT_PATCHES,
    SQRT2_HI,
    SQRT2_LO,
    dd_add,
    dd_div,
    dd_mul,
    div_exact_const,
    half_plus_square,
    mul_exp,
    normal_cdf,
    normal_pdf_scaled,
    normal_tail_factor,
    patch_root,
    tail_product,
    two_prod,
    two_sum,
)
from .vector import _check_axis, _shifted

Array = NDArray[Any]


def _patch(name: str, order: int, x: Array, result: Array) -> Array:
    for root, coefficients, radius in ROOT_PATCHES.get((name, order), ()):
        patch_root(x, result, root, coefficients, radius)
    return result


def _finite(x: Array, bound: float) -> Array:
    """x clamped to [-bound, bound] (NaN stays NaN): where the clamp acts, the formula's
    value no longer depends on x."""
    return np.clip(x, -bound, bound)


def _left_tail(x: Array) -> Array:
    """The finite x < 0, where f'(x) = c·e^{z(x)} tends to 0 but is never 0."""
    return (x < 0) & (x > -np.inf)


# ----------------------------------------------------------------------------- elu
_ALPHA = Param("alpha", 1.0, "the value -α that f approaches as x -> -inf (α > 0)", positive_real)


@activation(
    "elu",
    plain_formula="x if x > 0 else α(e^x - 1)",
    formula=r"f(x) = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
    derivative_formula=r"f'(x) = \begin{cases} 1 & x \ge 0 \\ \alpha e^{x} & x < 0 \end{cases}",
    second_derivative_formula=r"f''(x) = \begin{cases} 0 & x \ge 0 \\ \alpha e^{x} & x < 0 \end{cases}",
    output_range=(-1.0, np.inf),
    monotonic=True,
    zero_centered=True,
    max_derivative=1.0,
    kinks=(Kink(0.0, 1.0, "f' jumps from α to 1 unless α = 1; f'(0) = 1, the right piece"),),
    params=(_ALPHA,),
    use=("hidden layer",),
    problems=(
        "e^x costs more than relu's comparison.",
        "For α != 1 the derivative jumps at 0.",
    ),
    reference="Clevert, Unterthiner & Hochreiter (2016). Fast and accurate deep network "
    "learning by exponential linear units (ELUs). ICLR.",
    summary="Exponential linear unit: relu for x > 0, a smooth saturation to -α below.",
    init="he",
    fast="elu",
)
def elu(x: Array, *, alpha: float) -> Array:
    """x for x > 0, α·expm1(x) for x <= 0 (the output range -α, inf is for α = 1).

    >>> import actlab
    >>> round(float(actlab.elu(-1.0)), 12)
    -0.632120558829
    """
    negative = np.expm1(np.minimum(x, 0.0))
    negative *= alpha
    return np.where(x > 0, x, negative)


@elu.derivative_rule
def _elu_derivative(x: Array, y: Array | None, *, alpha: float) -> Array:
    # α·e^x from x (scaled_exp keeps the subnormal tail), not y + α, which cancels.
    return keep_nan(np.where(x >= 0, 1.0, scaled_exp(np.minimum(x, 0.0), alpha)), x)


@elu.backward_rule
def _elu_backward(x: Array, g: Array, y: Array | None, *, alpha: float) -> Array:
    return tail_product(
        _elu_derivative(x, None, alpha=alpha),
        g,
        _left_tail(x),
        lambda m, gm, k: mul_exp(alpha * gm, x[m], exponent=k),
    )


@elu.second_derivative_rule
def _elu_second_derivative(x: Array, *, alpha: float) -> Array:
    return keep_nan(np.where(x >= 0, 0.0, scaled_exp(np.minimum(x, 0.0), alpha)), x)


# ----------------------------------------------------------------------------- celu
def _celu_exponent(x: Array, alpha: float) -> tuple[Array, Array]:
    """x/α (x <= 0) as hi + lo: the rounding error of the quotient is put back, since
    e^{x/α} amplifies it by |x/α|."""
    z = np.maximum(np.minimum(x, 0.0), -min(1.0e4 * alpha, 1.0e300)) / alpha
    if alpha == 1.0 or not 1.0e-280 < alpha < 1.0e280:
        return z, np.zeros_like(z)
    p, e = two_prod(alpha, z)
    xc = np.maximum(np.minimum(x, 0.0), -min(1.0e4 * alpha, 1.0e300))
    return z, ((xc - p) - e) / alpha


@activation(
    "celu",
    plain_formula="max(0, x) + min(0, α(e^(x/α) - 1))",
    formula=r"f(x) = \max(0, x) + \min\bigl(0, \alpha (e^{x/\alpha} - 1)\bigr)",
    derivative_formula=r"f'(x) = \begin{cases} 1 & x \ge 0 \\ e^{x/\alpha} & x < 0 \end{cases}",
    second_derivative_formula=r"f''(x) = \begin{cases} 0 & x \ge 0 \\ e^{x/\alpha}/\alpha & x < 0"
    r" \end{cases}",
    output_range=(-1.0, np.inf),
    monotonic=True,
    zero_centered=True,
    max_derivative=1.0,
    kinks=(Kink(0.0, 1.0, "f' is continuous (1 on both sides); f'' jumps from 1/α to 0"),),
    params=(_ALPHA,),
    use=("hidden layer",),
    problems=("e^{x/α} costs more than relu's comparison.",),
    reference="Barron, J. T. (2017). Continuously differentiable exponential linear units. arXiv:1704.07483.",
    summary="ELU reparametrised so that f' is continuous at 0 for every α.",
    init="he",
    fast="celu",
)
def celu(x: Array, *, alpha: float) -> Array:
    """x for x >= 0, α·expm1(x/α) for x < 0.

    >>> import actlab
    >>> round(float(actlab.get("celu", alpha=2.0)(-2.0)), 12)
    -1.264241117657
    """
    z, z_lo = _celu_exponent(x, alpha)
    negative = np.expm1(z)
    negative += mul_exp(z_lo, z)  # expm1(z + lo) = expm1(z) + e^z·lo
    negative *= alpha
    return np.where(x >= 0, x, negative)


@celu.derivative_rule
def _celu_derivative(x: Array, y: Array | None, *, alpha: float) -> Array:
    z, z_lo = _celu_exponent(x, alpha)
    return keep_nan(np.where(x >= 0, 1.0, mul_exp(np.ones_like(z), z, z_lo)), x)


@celu.backward_rule
def _celu_backward(x: Array, g: Array, y: Array | None, *, alpha: float) -> Array:
    def tail(m: Array, gm: Array, k: Array) -> Array:
        z, z_lo = _celu_exponent(x[m], alpha)
        return mul_exp(gm, z, z_lo, exponent=k)

    return tail_product(_celu_derivative(x, None, alpha=alpha), g, _left_tail(x), tail)


@celu.second_derivative_rule
def _celu_second_derivative(x: Array, *, alpha: float) -> Array:
    z, z_lo = _celu_exponent(x, alpha)
    return keep_nan(np.where(x >= 0, 0.0, mul_exp(np.full_like(z, 1.0 / alpha), z, z_lo)), x)


# ----------------------------------------------------------------------------- gelu
#: 2√(2/π) and 2√(2/π)·0.044715 as hi + lo: v = 2u = C1·x + C3·x³ in the tanh form.
_C1 = (1.5957691216057308, -9.96930880911092e-17)
_C3 = (0.07135481627260025, -6.175149918155315e-19)


def _tanh_gelu_v(x: Array, *, with_slope: bool = False) -> Any:
    """(x clamped to ±1e30, v = 2u as hi + lo): v = C1·x + C3·x³ with every product kept
    exact, so that e^{v} at v = -700 is not off by 700 rounding errors.  With
    ``with_slope`` also x·v' = C1·x + 3·C3·x³ from the same exact pieces."""
    xc = _finite(x, 1.0e30)
    x2, x2e = two_prod(xc, xc)
    x3, x3e = two_prod(x2, xc)
    x3e += x2e * xc
    p1, e1 = two_prod(_C1[0], xc)
    e1 += _C1[1] * xc
    p3, e3 = two_prod(_C3[0], x3)
    e3 += _C3[1] * x3 + _C3[0] * x3e
    s, es = two_sum(p1, p3)
    lo = es + e1 + e3
    hi = s + lo
    if with_slope:
        t3, t3e = two_prod(3.0, p3)
        ts, tse = two_sum(p1, t3)
        xdv = dd_add((ts, tse), (t3e, e1 + 3.0 * e3))  # x·v' as hi + lo
        return xc, hi, lo - (hi - s), xdv
    return xc, hi, lo - (hi - s)


def _exact_gelu(x: Array) -> Array:
    xc = _finite(x, 1.0e300)
    result = normal_cdf(x, scale=xc)
    # x·Φ(x) = x for x > 64 (1 - Φ < 10^-890); the -0 limit at -inf
    return np.where(x > 64.0, x, np.where(x == -np.inf, -0.0, result))


def _tanh_gelu(x: Array) -> Array:
    xc, vh, vl = _tanh_gelu_v(x)
    neg = x < 0
    # x < 0: x·σ(v) = x·e^v/(1 + e^v) with e^v rounded once; x >= 0: x/(1 + e^{-v})
    e = np.exp(np.where(neg, vh, -vh))
    lower = mul_exp(xc / (1.0 + e), vh, vl)
    upper = x / (1.0 + e)
    return np.where(neg, lower, upper)


@activation(
    "gelu",
    plain_formula="x·Φ(x)",
    formula=r"f(x) = x\,\Phi(x) = \frac{x}{2}\operatorname{erfc}\!\left(-\frac{x}{\sqrt 2}\right)",
    derivative_formula=r"f'(x) = \Phi(x) + x\,\varphi(x)",
    second_derivative_formula=r"f''(x) = \varphi(x)\,(2 - x^2)",
    output_range=(-0.1699712074799037, np.inf),
    monotonic=False,
    zero_centered=False,
    max_derivative=1.128904145185155,
    params=(
        Param(
            "approximate",
            "none",
            '"none" for x·Φ(x) itself, "tanh" for the tanh approximation '
            "x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))",
            one_of("none", "tanh"),
        ),
    ),
    use=("hidden layer",),
    problems=(
        "Not monotonic: a minimum of -0.16997 at x = -0.75179.",
        "Φ needs erf; the tanh form is an approximation (within 5e-4), not the function.",
    ),
    reference="Hendrycks & Gimpel (2016). Gaussian error linear units (GELUs). arXiv:1606.08415.",
    summary="x weighted by the probability that a standard normal lies below x.",
    init="he",
    fast="gelu",
)
def gelu(x: Array, *, approximate: str) -> Array:
    """x·Φ(x), Φ the standard normal distribution function (or the tanh approximation).

    Φ in the lower tail is e^{-x²/2}·R(x) with e^{-x²/2} from x split exactly; the tanh
    form is x·σ(2u), free of the cancellation in 1 + tanh(u).

    >>> import actlab
    >>> f"{float(actlab.gelu(-5.55)):.14e}"   # where 1 + erf(x/√2) gives 0 in float32
    '-7.92733134112714e-08'
    """
    return half_plus_square(x, _exact_gelu(x) if approximate == "none" else _tanh_gelu(x))


@gelu.derivative_rule
def _gelu_derivative(x: Array, y: Array | None, *, approximate: str) -> Array:
    if approximate == "tanh":
        xc, vh, vl, xdv = _tanh_gelu_v(x, with_slope=True)
        neg = x < 0
        e = np.exp(np.where(neg, vh, -vh))  # e^{-|v|}
        # σ(v)·(1 + x·v'·σ(-v)): for x < 0, σ(v)(1 + x v'/(1+e^v)) = e^v((1+e^v) + x v')/(1+e^v)²
        lower = mul_exp(_tanh_gelu_left_factor(e, xdv), vh, vl)
        upper = (1.0 + xdv[0] * (e / (1.0 + e))) / (1.0 + e)
        result = np.where(neg, lower, upper)
        return _patch("gelu_tanh", 1, x, result)
    a = np.minimum(np.abs(x), 64.0)
    neg = x < 0
    result = normal_cdf(x) + normal_pdf_scaled(x, _finite(x, 64.0))
    tail = neg & (a >= 1.25 * SQRT2_HI)
    if tail.any():  # Φ(x) + xφ(x) = e^{-x²/2}(R(x) - |x|/√(2π)), rounded once
        at = a[tail]
        result[tail] = normal_pdf_scaled(at, _gelu_left_factor(at))
    return _patch("gelu", 1, x, result)


def _tanh_gelu_left_factor(e: Array, xdv: tuple[Array, Array]) -> Array:
    """((1 + e^v) + x·v')/(1 + e^v)², the factor of e^v in the tanh form's f' for x < 0
    (e = e^v); it cancels near the root of f', so it is formed in hi + lo."""
    one_e = two_sum(np.ones_like(e), e)
    return dd_div(dd_add(one_e, xdv), dd_mul(one_e, one_e))[0]


def _gelu_left_factor(a: Array) -> Array:
    """R(x)/φ-scale minus |x|: f'(x) = φ(x)·this for the exact form's left tail (a = |x|),
    Φ(x) + xφ(x) rounded once."""
    return normal_tail_factor(a) / INV_SQRT_2PI - a


@gelu.backward_rule
def _gelu_backward(x: Array, g: Array, y: Array | None, *, approximate: str) -> Array:
    d = _gelu_derivative(x, None, approximate=approximate)
    if approximate == "tanh":

        def tanh_tail(m: Array, gm: Array, k: Array) -> Array:
            _, vh, vl, xdv = _tanh_gelu_v(x[m], with_slope=True)
            return mul_exp(_tanh_gelu_left_factor(np.exp(vh), xdv) * gm, vh, vl, exponent=k)

        return tail_product(d, g, _left_tail(x), tanh_tail)

    def tail(m: Array, gm: Array, k: Array) -> Array:
        a = np.minimum(np.abs(x[m]), 64.0)
        return normal_pdf_scaled(a, _gelu_left_factor(a) * gm, exponent=k)

    return tail_product(d, g, _left_tail(x) & (x <= -1.25 * SQRT2_HI), tail)


@gelu.second_derivative_rule
def _gelu_second_derivative(x: Array, *, approximate: str) -> Array:
    if approximate == "tanh":
        xc, vh, vl = _tanh_gelu_v(x)
        dv = _C1[0] + 3.0 * _C3[0] * (xc * xc)
        ddv = 6.0 * _C3[0] * xc
        bracket = 2.0 * dv + xc * (ddv - dv * dv * np.tanh(vh * 0.5))
        t = np.exp(-np.abs(vh))
        sign = np.where(vh < 0, -1.0, 1.0)
        # σ'(v) = e^{-|v|}/(1 + e^{-|v|})², the exponential rounded once
        result = mul_exp(bracket / ((1.0 + t) * (1.0 + t)), -np.abs(vh), -sign * vl)
        return keep_nan(_patch("gelu_tanh", 2, x, result), x)
    a = np.minimum(np.abs(x), 64.0)
    # 2 - x² = (√2 - |x|)(√2 + |x|) with √2 as hi + lo: exact signs and digits near ±√2
    return normal_pdf_scaled(a, ((SQRT2_HI - a) + SQRT2_LO) * (SQRT2_HI + a))


# ----------------------------------------------------------------------------- silu
@activation(
    "silu",
    plain_formula="x·σ(x)",
    aliases=("swish",),
    formula=r"f(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}",
    derivative_formula=r"f'(x) = \sigma(x)\bigl(1 + x\,\sigma(-x)\bigr)",
    second_derivative_formula=r"f''(x) = \sigma'(x)\bigl(2 - x \tanh(x/2)\bigr)",
    output_range=(-0.2784645427610738, np.inf),
    monotonic=False,
    zero_centered=False,
    max_derivative=1.099839320128867,
    use=("hidden layer",),
    problems=("Not monotonic: a minimum of -0.27846 at x = -1.27846 (= -1 - W(1/e)).",),
    reference="Ramachandran, Zoph & Le (2017). Searching for activation functions "
    "(swish); Elfwing, Uchibe & Doya (2018), SiLU.",
    summary="The sigmoid-weighted linear unit: x gated by its own sigmoid.",
    init="he",
    fast="silu",
)
def silu(x: Array) -> Array:
    """x·σ(x); for x < 0 as x·e^x/(1 + e^x), e^x rounded once (x·e^x at x = -744 is
    subnormal, not 0).

    >>> import actlab
    >>> round(float(actlab.silu(-1.278464542761074)), 15)
    -0.278464542761074
    """
    xc = np.maximum(x, -1.0e4)
    e = np.exp(-np.abs(xc))
    return half_plus_square(x, np.where(x < 0, mul_exp(xc / (1.0 + e), xc), x / (1.0 + e)))


@silu.derivative_rule
def _silu_derivative(x: Array, y: Array | None) -> Array:
    xc = _finite(x, 1.0e4)
    e = np.exp(-np.abs(xc))
    lower = mul_exp(_silu_left_factor(xc, e), xc)
    upper = (1.0 + xc * (e / (1.0 + e))) / (1.0 + e)
    return _patch("silu", 1, x, np.where(x < 0, lower, upper))


def _silu_left_factor(xc: Array, e: Array) -> Array:
    """(1 + x + e^x)/(1 + e^x)², the factor of e^x in f' for x < 0 (e = e^x; 1 + x is exact
    for x <= -1)."""
    return ((1.0 + xc) + e) / ((1.0 + e) * (1.0 + e))


@silu.backward_rule
def _silu_backward(x: Array, g: Array, y: Array | None) -> Array:
    def tail(m: Array, gm: Array, k: Array) -> Array:
        xc = _finite(x[m], 1.0e4)
        return mul_exp(_silu_left_factor(xc, np.exp(xc)) * gm, xc, exponent=k)

    return tail_product(_silu_derivative(x, None), g, _left_tail(x), tail)


@silu.second_derivative_rule
def _silu_second_derivative(x: Array) -> Array:
    xc = _finite(x, 1.0e4)
    a = np.abs(xc)
    t = np.exp(-a)
    result = mul_exp((2.0 - xc * np.tanh(xc * 0.5)) / ((1.0 + t) * (1.0 + t)), -a)
    return _patch("silu", 2, x, result)


# ----------------------------------------------------------------------------- mish
def _mish_second_left_factor(xc: Array) -> Array:
    """4(n+1)/(d²(1+e)) · (2 + x(1 - 2(n/d)e)/(1+e)), the factor of e^x in f'' for x < 0
    (e = e^x, n = e(e+2), d = n + 2), formed in hi + lo: in plain doubles its nine
    roundings reach 8 ULP near x = -5.4 (e taken as exact)."""
    e = np.exp(np.minimum(xc, 0.0))
    zero = np.zeros_like(e)
    one, two = (np.ones_like(e), zero), (np.full_like(e, 2.0), zero)
    n = dd_mul((e, zero), two_sum(e, np.full_like(e, 2.0)))
    d = dd_add(n, two)
    one_e = two_sum(np.ones_like(e), e)
    g = dd_div(dd_mul((np.full_like(e, 4.0), zero), dd_add(n, one)), dd_mul(dd_mul(d, d), one_e))
    inner = dd_add(one, dd_mul((np.full_like(e, -2.0), zero), dd_mul(dd_div(n, d), (e, zero))))
    bracket = dd_add(two, dd_div(dd_mul((xc, zero), inner), one_e))
    return dd_mul(g, bracket)[0]


def _mish_parts(xc: Array) -> tuple[Array, Array, Array]:
    """(e, n, d) for x < 0: e = e^x, n = e(e + 2) = (1+e^x)² - 1, d = n + 2; then
    tanh(softplus(x)) = n/d and sech²(softplus(x)) = 4(n + 1)/d²."""
    e = np.exp(np.minimum(xc, 0.0))
    n = e * (e + 2.0)
    return e, n, n + 2.0


@activation(
    "mish",
    plain_formula="x·tanh(softplus(x))",
    formula=r"f(x) = x \tanh\bigl(\ln(1 + e^{x})\bigr)",
    derivative_formula=r"f'(x) = \tanh(s) + x \operatorname{sech}^2(s)\,\sigma(x), \quad s = \ln(1+e^x)",
    second_derivative_formula=r"f''(x) = \operatorname{sech}^2(s)\,\sigma(x)\,\bigl(2 + x(\sigma(-x) - "
    r"2\tanh(s)\,\sigma(x))\bigr)",
    output_range=(-0.3088434130172504, np.inf),
    monotonic=False,
    zero_centered=False,
    max_derivative=1.088498161251728,
    use=("hidden layer",),
    problems=(
        "Not monotonic: a minimum of -0.30884 at x = -1.19243.",
        "Three transcendental functions per element: the costliest of the smooth relus.",
    ),
    reference="Misra, D. (2019). Mish: a self regularized non-monotonic activation "
    "function. arXiv:1908.08681.",
    summary="x gated by tanh(softplus(x)): a smooth, non-monotonic relu.",
    init="he",
    fast="mish",
)
def mish(x: Array) -> Array:
    """x·tanh(softplus(x)), with tanh(softplus(x)) = e^x(e^x + 2)/(e^x(e^x + 2) + 2) for
    x < 0 and (1 + 2t)/(1 + 2t + 2t²), t = e^{-x}, for x >= 0.

    >>> import actlab
    >>> round(float(actlab.mish(1.0)), 12)
    0.865098388267
    """
    xc = _finite(x, 1.0e4)
    e, n, d = _mish_parts(xc)
    lower = mul_exp(xc * (e + 2.0) / d, xc)
    t = np.exp(-np.maximum(x, 0.0))
    upper = x * ((1.0 + 2.0 * t) / (1.0 + 2.0 * t * (1.0 + t)))
    return np.where(x < 0, lower, upper)


@mish.derivative_rule
def _mish_derivative(x: Array, y: Array | None) -> Array:
    xc = _finite(x, 1.0e4)
    # x < 0: e^x times the factor below
    lower = mul_exp(_mish_left_factor(xc), xc)
    t = np.exp(-np.maximum(xc, 0.0))
    big_d = 1.0 + 2.0 * t * (1.0 + t)
    upper = (1.0 + 2.0 * t) / big_d + xc * (4.0 * t * t * (1.0 + t)) / (big_d * big_d)
    return _patch("mish", 1, x, np.where(x < 0, lower, upper))


def _mish_left_factor(xc: Array) -> Array:
    """(e+2)/d + 4x(n+1)/(d²(1+e)), the factor of e^x in f' for x < 0 (e = e^x, n = e(e+2),
    d = n + 2); the two terms cancel on both sides of the root, so it is formed in hi + lo
    (e taken as exact)."""
    e = np.exp(np.minimum(xc, 0.0))
    zero = np.zeros_like(e)
    e2 = two_sum(e, np.full_like(e, 2.0))
    n = dd_mul((e, zero), e2)
    d = dd_add(n, (np.full_like(e, 2.0), zero))
    one_e = two_sum(np.ones_like(e), e)
    term2 = dd_div(dd_mul((4.0 * xc, zero), dd_add(n, (np.ones_like(e), zero))), dd_mul(dd_mul(d, d), one_e))
    return dd_add(dd_div(e2, d), term2)[0]


@mish.backward_rule
def _mish_backward(x: Array, g: Array, y: Array | None) -> Array:
    def tail(m: Array, gm: Array, k: Array) -> Array:
        xc = _finite(x[m], 1.0e4)
        return mul_exp(_mish_left_factor(xc) * gm, xc, exponent=k)

    return tail_product(_mish_derivative(x, None), g, _left_tail(x), tail)


@mish.second_derivative_rule
def _mish_second_derivative(x: Array) -> Array:
    result = np.empty_like(x)
    # a quarter block at a time: the double-double factors hold some thirty temporaries
    step = 8192
    for start in range(0, x.size, step):
        xc = _finite(x.reshape(-1)[start : start + step], 1.0e4)
        lower = mul_exp(_mish_second_left_factor(xc), xc)
        upper = mul_exp(_mish_second_right_factor(xc), -2.0 * np.maximum(xc, 0.0))
        result.reshape(-1)[start : start + step] = np.where(xc < 0, lower, upper)
    return _patch("mish", 2, x, result)


def _mish_second_right_factor(xc: Array) -> Array:
    """4(1+t)/D² · (2 + x(t - 2(1+2t)/D)/(1+t)), the factor of e^{-2x} in f'' for x >= 0
    (t = e^{-x}, D = 1 + 2t(1+t)), formed in hi + lo: the bracket cancels on both sides of
    the root of f'' at 1.49 (t taken as exact)."""
    t = np.exp(-np.maximum(xc, 0.0))
    zero = np.zeros_like(t)
    one, two = (np.ones_like(t), zero), (np.full_like(t, 2.0), zero)
    one_t = two_sum(np.ones_like(t), t)
    big_d = dd_add(one, dd_mul(dd_mul(two, (t, zero)), one_t))
    tsp = dd_div(dd_add(one, dd_mul(two, (t, zero))), big_d)
    inner = dd_add((t, zero), dd_mul((np.full_like(t, -2.0), zero), tsp))
    bracket = dd_add(two, dd_div(dd_mul((xc, zero), inner), one_t))
    factor = dd_div(dd_mul((np.full_like(t, 4.0), zero), one_t), dd_mul(big_d, big_d))
    return dd_mul(factor, bracket)[0]


# ----------------------------------------------------------------------------- softplus
def _exp_neg_abs_scaled(x: Array, beta: float) -> tuple[Array, Array, Array]:
    """(z, z_lo, e): z + z_lo = -|βx| exactly, e = e^{-|βx|} rounded once."""
    bound = min(1.0e290, 1.0e290 / beta)
    xc = _finite(x, bound)
    if beta == 1.0:
        z = -np.abs(xc)
        return z, np.zeros_like(z), np.exp(z)
    p, pe = two_prod(beta, xc)
    sign = np.where(p < 0, -1.0, 1.0)
    z, z_lo = -np.abs(p), -sign * pe
    return z, z_lo, mul_exp(np.ones_like(z), z, z_lo)


_BETA = Param("beta", 1.0, "the sharpness β: softplus(x) = log(1 + e^{βx})/β (β > 0)", positive_real)


@activation(
    "softplus",
    plain_formula="log(1 + e^(βx))/β",
    formula=r"f(x) = \frac{1}{\beta}\ln\bigl(1 + e^{\beta x}\bigr)",
    derivative_formula=r"f'(x) = \sigma(\beta x)",
    second_derivative_formula=r"f''(x) = \beta\,\sigma(\beta x)\,\sigma(-\beta x)",
    output_range=(0.0, np.inf),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    params=(_BETA,),
    use=("hidden layer",),
    problems=(
        "Computed naively, e^{βx} overflows for βx > 709; actlab uses max(x, 0) + "
        "log1p(e^{-|βx|})/β, right for every x (no switch to x at a threshold).",
    ),
    reference="Dugas, Bengio, Bélisle, Nadeau & Garcia (2001). Incorporating second-order "
    "functional knowledge for better option pricing. NeurIPS.",
    summary="A smooth relu: the integral of the sigmoid.",
    init="he",
    fast="softplus",
)
def softplus(x: Array, *, beta: float) -> Array:
    """max(x, 0) + log1p(e^{-|βx|})/β.

    >>> import actlab
    >>> softplus = actlab.get("softplus")
    >>> float(softplus(-20.0)), float(softplus.derivative(36.0)) < 1.0
    (2.061153620314381e-09, True)
    """
    z, z_lo, e = _exp_neg_abs_scaled(x, beta)
    tail = np.log1p(e)
    if beta != 1.0:
        tail /= beta
        tiny = e < 1.0e-290  # log1p(e)/β = e/β, rounded once
        if tiny.any():
            tail[tiny] = mul_exp(np.full(int(tiny.sum()), 1.0 / beta), z[tiny], z_lo[tiny])
    return np.maximum(x, 0.0) + tail


@softplus.derivative_rule
def _softplus_derivative(x: Array, y: Array | None, *, beta: float) -> Array:
    if beta == 1.0:
        return logistic(x)
    _, _, e = _exp_neg_abs_scaled(x, beta)
    return keep_nan(np.where(x < 0, e, 1.0) / (1.0 + e), x)


@softplus.backward_rule
def _softplus_backward(x: Array, g: Array, y: Array | None, *, beta: float) -> Array:
    def tail(m: Array, gm: Array, k: Array) -> Array:  # σ(βx) = e^{βx}/(1 + e^{βx})
        z, z_lo, e = _exp_neg_abs_scaled(x[m], beta)
        return mul_exp(gm / (1.0 + e), z, z_lo, exponent=k)

    return tail_product(_softplus_derivative(x, None, beta=beta), g, _left_tail(x), tail)


@softplus.second_derivative_rule
def _softplus_second_derivative(x: Array, *, beta: float) -> Array:
    if beta == 1.0:
        return logistic_derivative(x)
    z, z_lo, e = _exp_neg_abs_scaled(x, beta)
    return keep_nan(mul_exp(beta / ((1.0 + e) * (1.0 + e)), z, z_lo), x)


# ----------------------------------------------------------------------------- log_sigmoid
@activation(
    "log_sigmoid",
    plain_formula="log σ(x) = -softplus(-x)",
    formula=r"f(x) = \ln \sigma(x) = -\ln\bigl(1 + e^{-x}\bigr)",
    derivative_formula=r"f'(x) = \sigma(-x)",
    second_derivative_formula=r"f''(x) = -\sigma(x)\,\sigma(-x)",
    output_range=(-np.inf, 0.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    use=("classification output",),
    problems=("log(sigmoid(x)) computed in two steps is -inf for x < -745; this is not.",),
    reference="The log-likelihood of logistic regression; see Bishop (2006), Pattern "
    "Recognition and Machine Learning, §4.3.2.",
    summary="The logarithm of the sigmoid, computed directly.",
    init="glorot",
    fast="log_sigmoid",
)
def log_sigmoid(x: Array) -> Array:
    """-(max(-x, 0) + log1p(e^{-|x|})).

    >>> import actlab
    >>> float(actlab.log_sigmoid(-1000.0)), float(actlab.log_sigmoid(float("inf")))
    (-1000.0, -0.0)
    """
    result = np.maximum(-x, 0.0)
    result += np.log1p(np.exp(-np.abs(x)))
    return np.negative(result, out=result)


@log_sigmoid.derivative_rule
def _log_sigmoid_derivative(x: Array, y: Array | None) -> Array:
    return logistic(-x)


@log_sigmoid.backward_rule
def _log_sigmoid_backward(x: Array, g: Array, y: Array | None) -> Array:
    def tail(m: Array, gm: Array, k: Array) -> Array:  # σ(-x) = e^{-x}/(1 + e^{-x})
        z = -_finite(x[m], 1.0e4)
        return mul_exp(gm / (1.0 + np.exp(z)), z, exponent=k)

    return tail_product(_log_sigmoid_derivative(x, None), g, _left_tail(-x), tail)


@log_sigmoid.second_derivative_rule
def _log_sigmoid_second_derivative(x: Array) -> Array:
    return -logistic_derivative(x)


# ----------------------------------------------------------------------------- softsign
@activation(
    "softsign",
    plain_formula="x/(1 + |x|)",
    formula=r"f(x) = \frac{x}{1 + |x|}",
    derivative_formula=r"f'(x) = \frac{1}{(1 + |x|)^2}",
    second_derivative_formula=r"f''(x) = \frac{-2\operatorname{sign}(x)}{(1 + |x|)^3}"
    r" \quad (f''(0) = -2, \text{ the right piece})",
    output_range=(-1.0, 1.0),
    monotonic=True,
    zero_centered=True,
    max_derivative=1.0,
    kinks=(
        Kink(0.0, 1.0, "f' is continuous but f'' jumps from 2 to -2; f''(0) is -2, the right-hand side's"),
    ),
    use=("hidden layer",),
    problems=("f'' jumps from 2 to -2 at 0.",),
    reference="Bergstra, Desjardins, Lamblin & Bengio (2009). Quadratic polynomials learn "
    "better image features. Université de Montréal TR 1337.",
    summary="A sigmoid shape with polynomial tails: x/(1 + |x|).",
    init="glorot",
    fast="softsign",
)
def softsign(x: Array) -> Array:
    """x/(1 + |x|), ±1 at ±inf.

    >>> import actlab
    >>> actlab.softsign([-1.0, 3.0, float("inf")])
    array([-0.5 ,  0.75,  1.  ])
    """
    xc = _finite(x, 1.0e300)
    return xc / (1.0 + np.abs(xc))


def _softsign_power(x: Array, k: int) -> Array:
    """1/(1 + |x|)^k, rounded once: the power in hi + lo for |x| < 1e100, r^k with
    r = 1/(1 + |x|) beyond (never overflowing)."""
    a = np.minimum(np.abs(x), 1.0e300)
    small = a < 1.0e100
    s = two_sum(np.ones_like(a), np.where(small, a, 0.0))
    power = s
    for _ in range(k - 1):
        power = dd_mul(power, s)
    one = np.ones_like(a)
    exact = dd_div((one, np.zeros_like(a)), power)[0]
    r = 1.0 / (1.0 + a)
    return np.where(small, exact, r**k)


@softsign.derivative_rule
def _softsign_derivative(x: Array, y: Array | None) -> Array:
    return _softsign_power(x, 2)


@softsign.backward_rule
def _softsign_backward(x: Array, g: Array, y: Array | None) -> Array:
    result = _softsign_derivative(x, None) * g
    far = (np.abs(x) >= 1.0e100) & (np.abs(x) < np.inf)  # 1/(1+|x|)² below the normals
    if far.any():
        r = 1.0 / (1.0 + np.abs(x[far]))
        result[far] = (g[far] * r) * r
    return result


@softsign.second_derivative_rule
def _softsign_second_derivative(x: Array) -> Array:
    return keep_nan(np.where(x >= 0, -2.0, 2.0) * _softsign_power(x, 3), x)


# ----------------------------------------------------------------------------- hardtanh
def _indicator(x: Array, lo: float, hi: float, value: float = 1.0) -> Array:
    """value on [lo, hi), 0 elsewhere, NaN for NaN: a piecewise-linear derivative."""
    one = x.dtype.type(value)
    return keep_nan(np.where((x >= lo) & (x < hi), one, x.dtype.type(0)), x)


@activation(
    "hardtanh",
    plain_formula="clip(x, -1, 1)",
    formula=r"f(x) = \max(-1, \min(x, 1))",
    derivative_formula=r"f'(x) = \begin{cases} 1 & -1 \le x < 1 \\ 0 & \text{otherwise} \end{cases}",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(-1.0, 1.0),
    monotonic=True,
    zero_centered=True,
    max_derivative=1.0,
    kinks=(Kink(-1.0, 1.0, "the right piece"), Kink(1.0, 0.0, "the right piece")),
    use=("hidden layer",),
    problems=("Zero gradient outside [-1, 1]: saturated units stop learning.",),
    reference="Collobert, R. (2004). Large scale machine learning. PhD thesis, Université Paris VI.",
    summary="tanh's piecewise-linear stand-in: the identity clipped to [-1, 1].",
    exact=True,
    fast="hardtanh",
    init="glorot",
)
def hardtanh(x: Array) -> Array:
    """x clipped to [-1, 1].

    >>> import actlab
    >>> actlab.hardtanh([-3.0, 0.5, 2.0])
    array([-1. ,  0.5,  1. ])
    """
    return np.clip(x, -1.0, 1.0).astype(x.dtype, copy=False)


@hardtanh.derivative_rule
def _hardtanh_derivative(x: Array, y: Array | None) -> Array:
    return _indicator(x, -1.0, 1.0)


@hardtanh.second_derivative_rule
def _hardtanh_second_derivative(x: Array) -> Array:
    return keep_nan(np.zeros_like(x), x)


# ----------------------------------------------------------------------------- relu6
@activation(
    "relu6",
    plain_formula="min(max(x, 0), 6)",
    formula=r"f(x) = \min(\max(x, 0), 6)",
    derivative_formula=r"f'(x) = \begin{cases} 1 & 0 \le x < 6 \\ 0 & \text{otherwise} \end{cases}",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(0.0, 6.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    kinks=(Kink(0.0, 1.0, "the right piece, as relu"), Kink(6.0, 0.0, "the right piece")),
    use=("hidden layer",),
    problems=("Dies like relu below 0 and saturates above 6.",),
    reference="Krizhevsky, A. (2010). Convolutional deep belief networks on CIFAR-10; "
    "Howard et al. (2017), MobileNets.",
    summary="relu capped at 6, for low-precision arithmetic.",
    exact=True,
    fast="relu6",
    init="he",
)
def relu6(x: Array) -> Array:
    """min(max(x, 0), 6).

    >>> import actlab
    >>> actlab.relu6([-1.0, 3.0, 7.0])
    array([0., 3., 6.])
    """
    return np.minimum(np.maximum(x, 0), 6).astype(x.dtype, copy=False)


@relu6.derivative_rule
def _relu6_derivative(x: Array, y: Array | None) -> Array:
    return _indicator(x, 0.0, 6.0)


@relu6.second_derivative_rule
def _relu6_second_derivative(x: Array) -> Array:
    return keep_nan(np.zeros_like(x), x)


# ----------------------------------------------------------------------------- hard_sigmoid
@activation(
    "hard_sigmoid",
    plain_formula="relu6(x + 3)/6",
    formula=r"f(x) = \frac{\min(\max(x + 3, 0), 6)}{6}",
    derivative_formula=r"f'(x) = \begin{cases} 1/6 & -3 \le x < 3 \\ 0 & \text{otherwise} \end{cases}",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(0.0, 1.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=1 / 6,
    kinks=(Kink(-3.0, 1 / 6, "the right piece"), Kink(3.0, 0.0, "the right piece")),
    use=("hidden layer",),
    problems=("Zero gradient outside [-3, 3].",),
    reference="Howard et al. (2019). Searching for MobileNetV3. ICCV.",
    summary="The sigmoid's piecewise-linear stand-in, as in MobileNetV3.",
    init="glorot",
    fast="hard_sigmoid",
)
def hard_sigmoid(x: Array) -> Array:
    """(x + 3)/6 clipped to [0, 1], correctly rounded (x + 3 kept exact as hi + lo).

    >>> import actlab
    >>> actlab.hard_sigmoid([-4.0, 0.0, 1.5, 4.0])
    array([0.  , 0.5 , 0.75, 1.  ])
    """
    xc = np.clip(x, -3.0, 3.0)
    s, e = two_sum(xc, np.full_like(xc, 3.0))
    return div_exact_const(s, e, 6.0)


@hard_sigmoid.derivative_rule
def _hard_sigmoid_derivative(x: Array, y: Array | None) -> Array:
    return _indicator(x, -3.0, 3.0, 1.0 / 6.0)


@hard_sigmoid.second_derivative_rule
def _hard_sigmoid_second_derivative(x: Array) -> Array:
    return keep_nan(np.zeros_like(x), x)


# ----------------------------------------------------------------------------- hard_swish
@activation(
    "hard_swish",
    plain_formula="x·relu6(x + 3)/6",
    formula=r"f(x) = x\,\frac{\min(\max(x + 3, 0), 6)}{6}",
    derivative_formula=r"f'(x) = \begin{cases} 0 & x < -3 \\ (2x + 3)/6 & -3 \le x < 3 \\ 1 & x \ge 3"
    r" \end{cases}",
    second_derivative_formula=r"f''(x) = \begin{cases} 1/3 & -3 \le x < 3 \\ 0 & \text{otherwise}"
    r" \end{cases}",
    output_range=(-0.375, np.inf),
    monotonic=False,
    zero_centered=False,
    max_derivative=1.5,
    kinks=(Kink(-3.0, -0.5, "the right piece"), Kink(3.0, 1.0, "the right piece")),
    use=("hidden layer",),
    problems=(
        "Not monotonic: a minimum of -0.375 at x = -1.5.",
        "f' jumps at ±3 (from 0 to -1/2, and from 3/2 to 1).",
    ),
    reference="Howard et al. (2019). Searching for MobileNetV3. ICCV.",
    summary="swish's piecewise-quadratic stand-in, as in MobileNetV3.",
    init="he",
    fast="hard_swish",
)
def hard_swish(x: Array) -> Array:
    """x(x + 3)/6 on [-3, 3], 0 below, x above; correctly rounded (x(x+3) kept exact).

    >>> import actlab
    >>> actlab.hard_swish([-4.0, -1.5, 3.0, 4.0])
    array([-0.   , -0.375,  3.   ,  4.   ])
    """
    xc = np.clip(x, -3.0, 3.0)
    s, e = two_sum(xc, np.full_like(xc, 3.0))
    p, pe = two_prod(xc, s)
    middle = div_exact_const(p, pe + xc * e, 6.0)
    return half_plus_square(x, np.where(x < -3.0, -0.0, np.where(x >= 3.0, x, middle)))


@hard_swish.derivative_rule
def _hard_swish_derivative(x: Array, y: Array | None) -> Array:
    xc = np.clip(x, -3.0, 3.0)
    s, e = two_sum(xc + xc, np.full_like(xc, 3.0))
    middle = div_exact_const(s, e, 6.0)
    return np.where(x < -3.0, 0.0, np.where(x >= 3.0, 1.0, middle))


@hard_swish.second_derivative_rule
def _hard_swish_second_derivative(x: Array) -> Array:
    return _indicator(x, -3.0, 3.0, 1.0 / 3.0)


# ----------------------------------------------------------------------------- prelu
@activation(
    "prelu",
    plain_formula="x if x >= 0 else a·x",
    formula=r"f(x) = \begin{cases} x & x \ge 0 \\ a x & x < 0 \end{cases}",
    derivative_formula=r"\frac{\partial f}{\partial x} = \begin{cases} 1 & x \ge 0 \\ a & x < 0"
    r" \end{cases}, \quad \frac{\partial f}{\partial a} = \min(x, 0)",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(-np.inf, np.inf),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    kinks=(Kink(0.0, 1.0, "the right piece, as leaky_relu"),),
    params=(
        Param(
            "a",
            0.25,
            "the slope for x < 0, learned with the weights (any finite real; the facts "
            "monotonic and max f' = 1 hold for 0 <= a <= 1)",
            finite_real,
        ),
    ),
    use=("hidden layer",),
    problems=(
        "One more parameter to learn; with weight decay on a it drifts toward 0 (relu).",
        "a > 1 or a < 0 makes the unit non-monotonic or expanding.",
    ),
    reference="He, Zhang, Ren & Sun (2015). Delving deep into rectifiers. ICCV.",
    summary="leaky_relu whose slope a is learned; the backward pass also gives df/da.",
    exact=True,
    fast="prelu",
    init="he",
)
def prelu(x: Array, *, a: float) -> Array:
    """x for x >= 0, a·x for x < 0 (a rounded to x's dtype, the product rounded once).

    >>> import actlab
    >>> actlab.prelu([-2.0, 3.0])
    array([-0.5,  3. ])
    """
    negative = np.minimum(x, 0)
    if a == 0:  # 0·(-inf) is NaN; the limit is -0
        np.maximum(negative, -np.finfo(x.dtype).max, out=negative)
    with np.errstate(over="ignore"):  # a·x past ±max is ±inf, the rounded result
        negative *= x.dtype.type(a)
    return np.where(x >= 0, x, negative)


@prelu.derivative_rule
def _prelu_derivative(x: Array, y: Array | None, *, a: float) -> Array:
    return keep_nan(np.where(x >= 0, x.dtype.type(1), x.dtype.type(a)), x)


@prelu.second_derivative_rule
def _prelu_second_derivative(x: Array, *, a: float) -> Array:
    return keep_nan(np.zeros_like(x), x)


@prelu.parameter_gradient_rule
def _prelu_parameter_gradient(x: Array, grad: Array, *, a: float) -> dict[str, Array]:
    # ∂f/∂a = min(x, 0): the VJP for the one shared slope is Σ g·min(x, 0)
    with np.errstate(invalid="ignore", over="ignore"):
        return {"a": np.sum(grad * np.minimum(x, 0.0))}


# ----------------------------------------------------------------------------- sparsemax
_AXIS = Param("axis", -1, "the axis the function acts along", axis_int)


def _sparsemax_moved(x: Array, axis: int) -> Array:
    """sparsemax along the last axis of x moved (x already has the axis last)."""
    n = x.shape[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        z, m = _shifted(x, x.ndim - 1)
        srt = -np.sort(-z, axis=-1)
        cs = np.cumsum(srt, axis=-1)
        k = np.arange(1, n + 1, dtype=x.dtype)
        size = np.maximum(np.sum(1.0 + k * srt > cs, axis=-1, keepdims=True), 1)
        tau = (np.take_along_axis(cs, size - 1, axis=-1) - 1.0) / size
        p = np.maximum(z - tau, 0.0)
    return np.where(np.isnan(m), np.nan, p)


@activation(
    "sparsemax",
    plain_formula="argmin_p ||p - x||² over the probability simplex",
    kind="vector",
    formula=r"f(\vec x) = \arg\min_{\vec p \in \Delta} \|\vec p - \vec x\|^2 = "
    r"\max(\vec x - \tau, 0), \ \textstyle\sum_i f_i = 1",
    derivative_formula=r"\frac{\partial f_i}{\partial x_j} = s_i \delta_{ij} - \frac{s_i s_j}{|S|},"
    r" \quad s_i = [f_i > 0]",
    output_range=(0.0, 1.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    params=(_AXIS,),
    use=("classification output",),
    problems=(
        "Its zeros are exact: log-loss is undefined on them; pair it with the sparsemax loss instead.",
    ),
    reference="Martins & Astudillo (2016). From softmax to sparsemax. ICML.",
    summary="A softmax that can give exactly 0: the projection onto the simplex.",
    init="glorot",
)
def sparsemax(x: Array, *, axis: int) -> Array:
    """max(x - τ, 0) along ``axis``, τ chosen so the result sums to 1 (sort and scan).

    A slice whose maximum is +inf shares 1 among its +inf entries; an all -inf slice is
    uniform; NaN makes the slice NaN.

    >>> import actlab
    >>> actlab.sparsemax([0.0, 0.5, 1.0])
    array([0.  , 0.25, 0.75])
    """
    axis = _check_axis("sparsemax", x, axis)
    if x.shape[axis] == 0:
        return x.copy()
    return np.moveaxis(_sparsemax_moved(np.moveaxis(x, axis, -1), axis), -1, axis)


@sparsemax.backward_rule
def _sparsemax_backward(x: Array, grad: Array, y: Array | None, *, axis: int) -> Array:
    # s ⊙ (g - Σ_S g/|S|): the Jacobian is symmetric, so the VJP is J·g.
    axis = _check_axis("sparsemax", x, axis)
    if grad.shape != x.shape:
        raise ValueError(f"sparsemax: grad has shape {grad.shape}, expected {x.shape}")
    p = sparsemax.forward_kernel(x, axis=axis) if y is None else y
    s = (p > 0).astype(grad.dtype)
    size = np.maximum(np.sum(s, axis=axis, keepdims=True), 1.0)
    inner = np.sum(grad * s, axis=axis, keepdims=True) / size
    result = s * (grad - inner)
    return np.where(np.isnan(p), np.nan, result)


@sparsemax.jacobian_rule
def _sparsemax_jacobian(x: Array, *, axis: int) -> Array:
    axis = _check_axis("sparsemax", x, axis)
    p = np.moveaxis(sparsemax.forward_kernel(x, axis=axis), axis, -1)
    s = (p > 0).astype(p.dtype)
    size = np.maximum(np.sum(s, axis=-1, keepdims=True), 1.0)[..., None]
    jac = -(s[..., :, None] * s[..., None, :]) / size
    diagonal = np.einsum("...ii->...i", jac)
    diagonal += s
    return np.where(np.isnan(p)[..., :, None], np.nan, jac)


# ----------------------------------------------------------------------------- glu
def _halves(x: Array, axis: int) -> tuple[Array, Array, int]:
    axis = _check_axis("glu", x, axis)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: the axis has odd length {n}; it must split into two halves")
    a, b = np.split(x, 2, axis=axis)
    return a, b, axis


def _times_logistic(c: Array, b: Array, *, derivative: bool = False) -> Array:
    """c·σ(b) (or c·σ'(b)) with e^{-|b|} rounded once together with c: 1e300·σ(-800) is
    1e-47, not 0.  ±inf in c gives ±inf where the factor is > 0, NaN where it is 0."""
    finite = np.isfinite(c)
    cf = np.where(finite, c, 0.0)
    bc = _finite(b, 1.0e4)
    e = np.exp(-np.abs(bc))
    if derivative:
        result = mul_exp(cf / ((1.0 + e) * (1.0 + e)), -np.abs(bc))
        factor = logistic_derivative(b)
    else:
        result = np.where(bc < 0, mul_exp(cf / (1.0 + e), bc), cf / (1.0 + e))
        factor = logistic(b)
    if not finite.all():
        with np.errstate(invalid="ignore"):
            result = np.where(finite, result, np.where(factor > 0, c * np.sign(factor), np.nan))
    return keep_nan(result, b)


@activation(
    "glu",
    plain_formula="a ⊙ σ(b), x = [a, b] split in halves along an axis",
    kind="vector",
    formula=r"f(\vec x) = \vec a \odot \sigma(\vec b), \quad \vec x = [\vec a, \vec b]",
    derivative_formula=r"\frac{\partial f_i}{\partial a_i} = \sigma(b_i), \quad "
    r"\frac{\partial f_i}{\partial b_i} = a_i\,\sigma(b_i)\,\sigma(-b_i)",
    output_range=(-np.inf, np.inf),
    monotonic=False,
    zero_centered=False,
    max_derivative=np.inf,  # ∂f/∂b = a·σ'(b) grows with a
    params=(_AXIS,),
    use=("hidden layer",),
    problems=("Halves the width: the layer before it needs twice the outputs.",),
    reference="Dauphin, Fan, Auli & Grangier (2017). Language modeling with gated "
    "convolutional networks. ICML.",
    summary="Gated linear unit: the first half of x gated by the sigmoid of the second.",
    init="glorot",
    keeps_shape=False,
)
def glu(x: Array, *, axis: int) -> Array:
    """a·σ(b), x split into halves a, b along ``axis`` (which must have even length).

    >>> import actlab
    >>> actlab.glu([2.0, 0.0])
    array([1.])
    """
    a, b, _ = _halves(x, axis)
    return _times_logistic(a, b)


@glu.backward_rule
def _glu_backward(x: Array, grad: Array, y: Array | None, *, axis: int) -> Array:
    a, b, axis = _halves(x, axis)
    if grad.shape != a.shape:
        raise ValueError(f"glu: grad has shape {grad.shape}, expected {a.shape}")
    grad_a = _times_logistic(grad, b)
    grad_b = _times_logistic(grad * a, b, derivative=True)
    return np.concatenate([grad_a, grad_b], axis=axis)


@glu.jacobian_rule
def _glu_jacobian(x: Array, *, axis: int) -> Array:
    a, b, axis = _halves(x, axis)
    a, b = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
    h = a.shape[-1]
    jac = np.zeros((*a.shape, 2 * h), dtype=a.dtype)
    idx = np.arange(h)
    jac[..., idx, idx] = _times_logistic(np.ones_like(a), b)
    jac[..., idx, h + idx] = _times_logistic(a, b, derivative=True)
    return jac


__all__ = [
    "elu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "log_sigmoid",
    "softsign",
    "hardtanh",
    "relu6",
    "hard_sigmoid",
    "hard_swish",
    "prelu",
    "sparsemax",
    "glu",
]
