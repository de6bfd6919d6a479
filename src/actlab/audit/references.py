"""The oracle: an mpmath reference of every registered elementwise activation, keyed by name.

``REFERENCES[name](x, **params)`` gives (f, f', f'') at the float ``x`` to :data:`DPS`
digits, and their limits at ±inf.  The references are the textbook formulas evaluated in
mpmath (exact to the digits asked for, since ``x`` is a float and exact in mpmath), never
actlab's own kernels nor a peer library.  :func:`round_to` rounds such a value correctly to
a NumPy float dtype.

The wider family (elu ... glu) has its own section below.  :mod:`actlab.audit` measures
against this oracle, and so do the accuracy, fast-path and backward tests (through
``tests/activations/references.py``, which re-exports it); the test suite fails for any
elementwise activation in ``actlab.names()`` that has no entry here.  mpmath is the
optional dependency ``actlab[audit]``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from mpmath import mp, mpf

DPS = 50

SELU_ALPHA = mpmath.mpf("1.6732632423543772848170429916717")
SELU_LAMBDA = mpmath.mpf("1.0507009873554804934193349852946")

__all__ = [
    "DPS",
    "INF",
    "MODERN",
    "REFERENCES",
    "Ref",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "Triple",
    "glu_reference",
    "missing",
    "modern_reference",
    "reference",
    "register_reference",
    "round_to",
    "sparsemax_reference",
    "ulp_error",
]

Triple = tuple[Any, Any, Any]
REFERENCES: dict[str, Callable[..., Triple]] = {}


def _reference(name: str) -> Callable[[Callable[..., Triple]], Callable[..., Triple]]:
    def register(fn: Callable[..., Triple]) -> Callable[..., Triple]:
        REFERENCES[name] = fn
        return fn

    return register


def _zero() -> Any:
    return mpmath.mpf(0)


def _one() -> Any:
    return mpmath.mpf(1)


@_reference("step")
def _step(x: Any) -> Triple:
    return (_one() if x >= 0 else _zero()), _zero(), _zero()


@_reference("identity")
def _identity(x: Any) -> Triple:
    return x, _one(), _zero()


@_reference("relu")
def _relu(x: Any) -> Triple:
    return (x if x > 0 else _zero()), (_one() if x >= 0 else _zero()), _zero()


@_reference("leaky_relu")
def _leaky_relu(x: Any, slope: float = 0.1) -> Triple:
    a = mpmath.mpf(slope)
    return (x if x >= 0 else a * x), (_one() if x >= 0 else a), _zero()


@_reference("sigmoid")
def _sigmoid(x: Any) -> Triple:
    if mpmath.isinf(x):
        return (_one() if x > 0 else _zero()), _zero(), _zero()
    # t = e^{-|x|}; 1 - t through expm1 keeps the digits for tiny x.
    t = mpmath.exp(-abs(x))
    one_minus_t = -mpmath.expm1(-abs(x))
    f = 1 / (1 + t) if x >= 0 else t / (1 + t)
    d1 = t / (1 + t) ** 2
    d2 = -mpmath.sign(x) * t * one_minus_t / (1 + t) ** 3  # σ'(1 - 2σ)
    return f, d1, d2


@_reference("tanh")
def _tanh(x: Any) -> Triple:
    if mpmath.isinf(x):
        return (_one() if x > 0 else -_one()), _zero(), _zero()
    t = mpmath.exp(-2 * abs(x))
    f = mpmath.sign(x) * -mpmath.expm1(-2 * abs(x)) / (1 + t)
    d1 = 4 * t / (1 + t) ** 2  # sech²
    return f, d1, -2 * f * d1


@_reference("arctan")
def _arctan(x: Any) -> Triple:
    if mpmath.isinf(x):
        return (mp.pi / 2 if x > 0 else -mp.pi / 2), _zero(), _zero()
    q = 1 + x * x
    return mpmath.atan(x), 1 / q, -2 * x / q**2


@_reference("selu")
def _selu(x: Any) -> Triple:
    if x >= 0:
        return SELU_LAMBDA * x, SELU_LAMBDA, _zero()
    la = SELU_LAMBDA * SELU_ALPHA
    if mpmath.isinf(x):
        return -la, _zero(), _zero()
    return la * mpmath.expm1(x), la * mpmath.exp(x), la * mpmath.exp(x)


@functools.cache
def _cached(name: str, x: float, params: tuple[tuple[str, Any], ...]) -> Triple:
    with mp.workdps(DPS):
        return REFERENCES[name](mpmath.mpf(x), **dict(params))


def reference(name: str, x: float, **params: Any) -> Triple:
    """(f, f', f'') of ``name`` at the float ``x`` (limits at ±inf), to :data:`DPS` digits.

    >>> f, d1, d2 = reference("sigmoid", 0.0)
    >>> float(f), float(d1), float(d2)
    (0.5, 0.25, 0.0)
    """
    if name not in REFERENCES:
        raise KeyError(f"no mpmath reference for {name!r}: add one to actlab/audit/references.py")
    return _cached(name, float(x), tuple(sorted(params.items())))


def register_reference(name: str, triple: Callable[..., Triple] | None) -> None:
    """Give ``name`` the reference ``triple(x, **params) -> (f, f', f'')`` (x an mpf at
    the working precision), or remove it with None; cached values are dropped."""
    if triple is None:
        REFERENCES.pop(name, None)
    else:
        REFERENCES[name] = triple
    _cached.cache_clear()


def missing(names: list[str]) -> list[str]:
    """The names among ``names`` that have no reference here."""
    return [n for n in names if n not in REFERENCES]


def round_to(value: Any, dtype: Any) -> float:
    """``value`` (an mpf) correctly rounded to ``dtype``: nearest, ties to even,
    gradual underflow to the subnormals, and ±inf past the largest finite float.

    >>> round_to(mpmath.mpf(1) / 3, np.float32) == float(np.float32(1 / 3))
    True
    """
    if mpmath.isnan(value):
        return math.nan
    if mpmath.isinf(value):
        return math.inf if value > 0 else -math.inf
    if value == 0:
        return 0.0
    fi = np.finfo(dtype)
    precision = fi.nmant + 1
    sign, man, exp, bc = value._mpf_  # value = (-1)^sign · man · 2^exp, man odd
    top = exp + bc - 1  # floor(log2 |value|)
    if top < fi.minexp - precision:  # below half the smallest subnormal
        return -0.0 if sign else 0.0
    quantum = max(top, fi.minexp) - (precision - 1)  # ULP exponent, fixed below minexp
    shift = exp - quantum
    if shift >= 0:
        n = man << shift
    else:
        n, rem = divmod(man, 1 << -shift)
        half = 1 << (-shift - 1)
        if rem > half or (rem == half and n & 1):
            n += 1
    result = math.inf if quantum + n.bit_length() > fi.maxexp else math.ldexp(n, quantum)
    return -result if sign else result


# ------------------------------------------------------------- the wider family (elu ... glu)
# Each entry of MODERN holds the textbook f, f', f'' as functions of an mpf x and the
# parameters (keywords), and the limits at ±inf, written with mpmath's erfc/expm1/log1p and
# with 1 + tanh(u) = 2/(1 + e^{-2u}) so that nothing cancels catastrophically;
# modern_reference evaluates them at 50 digits and again at 75, raising the precision
# until the two agree to 40 digits.  At a kink the value is the right-hand piece's.
# The vector functions have sparsemax_reference (exact, rational) and glu_reference.

Fn = Callable[..., Any]


@dataclass(frozen=True)
class Ref:
    """f, f', f'' as mpmath functions of x (params as keywords); limits at ±inf."""

    f: Fn
    d1: Fn
    d2: Fn
    at_pos_inf: Fn  # params -> (f, f', f'') at +inf
    at_neg_inf: Fn  # params -> (f, f', f'') at -inf
    params: dict[str, Any] = field(default_factory=dict)


INF = mpmath.inf


#: Past this t, e^{-t} < 10^(-4·10^29), far below every float's subnormals (mpmath would
#: need 10^30-digit argument reduction to form it): 2^-floor(t·log2(e)) stands in for it,
#: within a factor 2, so that a product with any float rounds to 0 while f' stays nonzero.
_HUGE = mpf(10) ** 30


def _exp_neg(t: Any) -> Any:
    """e^{-t} for t >= 0."""
    if t > _HUGE:
        return mpmath.ldexp(mpf(1), -int(mpmath.floor(t / mpmath.log(2))))
    return mpmath.exp(-t)


def _sig(x: Any) -> Any:
    """σ(x) = 1/(1 + e^{-x}), as e^x/(1 + e^x) for x < 0 (no cancellation either way)."""
    e = _exp_neg(abs(x))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


def _sech(u: Any) -> Any:
    e = _exp_neg(abs(u))
    return 2 * e / (1 + e * e)


def _tanh_m(u: Any) -> Any:
    return mpmath.tanh(u) if abs(u) < _HUGE else mpmath.sign(u)


def _relu6(x: Any) -> Any:
    return min(max(x, mpf(0)), mpf(6))


# ---------------------------------------------------------------------- elementwise
def _elu_f(x, alpha=1.0):
    return x if x > 0 else mpf(alpha) * mpmath.expm1(x)


def _celu_f(x, alpha=1.0):
    a = mpf(alpha)
    return max(mpf(0), x) + min(mpf(0), a * mpmath.expm1(x / a))


def _ncdf(x):
    """Φ(x); for |x| > 10^6 (where mpmath's erfc gives up) by the asymptotic series
    erfc(z) = e^{-z²}/(z√π)·Σ (-1)^k (2k-1)!!/(2z²)^k, whose 6 terms then give 60+ digits."""
    if abs(x) <= 10**6:
        return mpmath.ncdf(x)
    z = abs(x) / mpmath.sqrt(2)
    term, total = mpf(1), mpf(1)
    for k in range(1, 6):
        term *= -(2 * k - 1) / (2 * z * z)
        total += term
    tail = _exp_neg(z * z) / (z * mpmath.sqrt(mp.pi)) * total / 2
    return tail if x < 0 else 1 - tail


def _npdf(x):
    """φ(x) = e^{-x²/2}/√(2π)."""
    return _exp_neg(x * x / 2) / mpmath.sqrt(2 * mp.pi)


def _gelu_f(x, approximate="none"):
    if approximate == "none":
        return x * _ncdf(x)
    u = _tanh_u(x)
    return x * _sig(2 * u)  # (x/2)(1 + tanh u) = x·σ(2u)


def _tanh_u(x):
    return mpmath.sqrt(2 / mp.pi) * (x + mpf("0.044715") * x**3)


def _tanh_du(x):
    return mpmath.sqrt(2 / mp.pi) * (1 + 3 * mpf("0.044715") * x**2)


def _tanh_ddu(x):
    return mpmath.sqrt(2 / mp.pi) * 6 * mpf("0.044715") * x


def _gelu_d1(x, approximate="none"):
    if approximate == "none":
        return _ncdf(x) + x * _npdf(x)
    u = _tanh_u(x)
    return _sig(2 * u) + x * _tanh_du(x) * _sech(u) ** 2 / 2


def _gelu_d2(x, approximate="none"):
    if approximate == "none":
        return _npdf(x) * (2 - x * x)
    u = _tanh_u(x)
    du = _tanh_du(x)
    return _sech(u) ** 2 * (du + x / 2 * (_tanh_ddu(x) - 2 * _tanh_m(u) * du**2))


def _silu_f(x):
    return x * _sig(x)


def _silu_d1(x):
    return _sig(x) * (1 + x * _sig(-x))


def _silu_d2(x):
    return _sig(x) * _sig(-x) * (2 - x * _tanh_m(x / 2))


def _sp(x):
    """softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^{-|x|})."""
    return max(x, mpf(0)) + mpmath.log1p(_exp_neg(abs(x)))


def _mish_f(x):
    return x * _tanh_m(_sp(x))


def _mish_d1(x):
    sp = _sp(x)
    return _tanh_m(sp) + x * _sech(sp) ** 2 * _sig(x)


def _mish_d2(x):
    sp = _sp(x)
    t = _tanh_m(sp)
    return _sech(sp) ** 2 * _sig(x) * (2 + x * (_sig(-x) - 2 * t * _sig(x)))


def _softplus_f(x, beta=1.0):
    return _sp(mpf(beta) * x) / mpf(beta)


def _softsign_d2(x):
    sign = 1 if x >= 0 else -1  # the right-hand piece at 0
    return -2 * sign / (1 + abs(x)) ** 3


def _hard_swish_d1(x):
    if x < -3:
        return mpf(0)
    return (2 * x + 3) / 6 if x < 3 else mpf(1)


def _const(*values):
    return lambda **params: tuple(mpf(v) for v in values)


MODERN: dict[str, Ref] = {
    "elu": Ref(
        _elu_f,
        lambda x, alpha=1.0: mpf(1) if x >= 0 else mpf(alpha) * mpmath.exp(x),
        lambda x, alpha=1.0: mpf(0) if x >= 0 else mpf(alpha) * mpmath.exp(x),
        _const(INF, 1, 0),
        lambda alpha=1.0: (-mpf(alpha), mpf(0), mpf(0)),
        {"alpha": 1.0},
    ),
    "celu": Ref(
        _celu_f,
        lambda x, alpha=1.0: mpf(1) if x >= 0 else mpmath.exp(x / mpf(alpha)),
        lambda x, alpha=1.0: mpf(0) if x >= 0 else mpmath.exp(x / mpf(alpha)) / mpf(alpha),
        _const(INF, 1, 0),
        lambda alpha=1.0: (-mpf(alpha), mpf(0), mpf(0)),
        {"alpha": 1.0},
    ),
    "gelu": Ref(_gelu_f, _gelu_d1, _gelu_d2, _const(INF, 1, 0), _const(0, 0, 0), {"approximate": "none"}),
    "silu": Ref(_silu_f, _silu_d1, _silu_d2, _const(INF, 1, 0), _const(0, 0, 0)),
    "mish": Ref(_mish_f, _mish_d1, _mish_d2, _const(INF, 1, 0), _const(0, 0, 0)),
    "softplus": Ref(
        _softplus_f,
        lambda x, beta=1.0: _sig(mpf(beta) * x),
        lambda x, beta=1.0: mpf(beta) * _sig(mpf(beta) * x) * _sig(-mpf(beta) * x),
        _const(INF, 1, 0),
        _const(0, 0, 0),
        {"beta": 1.0},
    ),
    "log_sigmoid": Ref(
        lambda x: -_sp(-x),
        lambda x: _sig(-x),
        lambda x: -_sig(x) * _sig(-x),
        _const(0, 0, 0),
        _const(-INF, 1, 0),
    ),
    "softsign": Ref(
        lambda x: x / (1 + abs(x)),
        lambda x: 1 / (1 + abs(x)) ** 2,
        _softsign_d2,
        _const(1, 0, 0),
        _const(-1, 0, 0),
    ),
    "hardtanh": Ref(
        lambda x: min(max(x, mpf(-1)), mpf(1)),
        lambda x: mpf(1) if -1 <= x < 1 else mpf(0),
        lambda x: mpf(0),
        _const(1, 0, 0),
        _const(-1, 0, 0),
    ),
    "relu6": Ref(
        _relu6,
        lambda x: mpf(1) if 0 <= x < 6 else mpf(0),
        lambda x: mpf(0),
        _const(6, 0, 0),
        _const(0, 0, 0),
    ),
    "hard_sigmoid": Ref(
        lambda x: _relu6(x + 3) / 6,
        lambda x: mpf(1) / 6 if -3 <= x < 3 else mpf(0),
        lambda x: mpf(0),
        _const(1, 0, 0),
        _const(0, 0, 0),
    ),
    "hard_swish": Ref(
        lambda x: x * _relu6(x + 3) / 6,
        _hard_swish_d1,
        lambda x: mpf(1) / 3 if -3 <= x < 3 else mpf(0),
        _const(INF, 1, 0),
        _const(0, 0, 0),
    ),
    "prelu": Ref(
        lambda x, a=0.25: x if x >= 0 else mpf(a) * x,
        lambda x, a=0.25: mpf(1) if x >= 0 else mpf(a),
        lambda x, a=0.25: mpf(0),
        _const(INF, 1, 0),
        lambda a=0.25: (-INF if a > 0 else (INF if a < 0 else mpf(0)), mpf(a), mpf(0)),
        {"a": 0.25},
    ),
}
MODERN["swish"] = MODERN["silu"]


def _close(u: Any, v: Any, digits: int) -> bool:
    if u == v:
        return True
    scale = max(abs(u), abs(v))
    return abs(u - v) <= scale * mpf(10) ** (-digits)


def modern_reference(name: str, x: float, order: int = 0, **params: Any) -> Any:
    """f^(order)(x) to 50 digits as an mpf (NaN as mpf('nan'); ±inf by the limits).

    Evaluated at 50 and 75 digits; where the two differ beyond 40 digits (cancellation),
    the precision is doubled until they agree.
    """
    ref = MODERN[name]
    kwargs = {**ref.params, **params}
    if math.isnan(x):
        return mpf("nan")
    if math.isinf(x):
        with mp.workdps(DPS):
            limits = (ref.at_pos_inf if x > 0 else ref.at_neg_inf)(**kwargs)
        return limits[order]
    fn = (ref.f, ref.d1, ref.d2)[order]
    dps = DPS
    with mp.workdps(dps):
        value = fn(mpf(x), **kwargs)
    while True:
        with mp.workdps(dps + 25):
            better = fn(mpf(x), **kwargs)
        if _close(value, better, 40) or dps > 3200:
            with mp.workdps(DPS):
                return +better
        value, dps = better, 2 * dps


# ---------------------------------------------------------------------- vector functions
def sparsemax_reference(z: list[float]) -> tuple[list[Fraction], list[list[Fraction]]]:
    """sparsemax(z) and its Jacobian, exactly (floats are rationals).

    p = max(z - τ, 0) with τ such that Σ p = 1; J = diag(s) - s sᵀ/|S|, s the support.
    """
    q = [Fraction(v) for v in z]
    srt = sorted(q, reverse=True)
    cumulative, k, tau_sum = Fraction(0), 0, Fraction(0)
    for i, v in enumerate(srt, start=1):
        cumulative += v
        if 1 + i * v > cumulative:
            k, tau_sum = i, cumulative
    tau = (tau_sum - 1) / k
    p = [max(v - tau, Fraction(0)) for v in q]
    support = [1 if v > 0 else 0 for v in p]
    size = sum(support)
    n = len(q)
    jac = [
        [Fraction(support[i] * (i == j)) - Fraction(support[i] * support[j], size) for j in range(n)]
        for i in range(n)
    ]
    return p, jac


def glu_reference(x: list[float]) -> tuple[list[Any], list[list[Any]]]:
    """glu(x) = a·σ(b) (x = [a, b]) and its Jacobian (n/2 × n), at 50 digits."""
    with mp.workdps(DPS):
        n = len(x) // 2
        a = [mpf(v) for v in x[:n]]
        b = [mpf(v) for v in x[n:]]
        y = [ai * _sig(bi) for ai, bi in zip(a, b)]
        jac = [[mpf(0)] * (2 * n) for _ in range(n)]
        for i in range(n):
            jac[i][i] = _sig(b[i])
            jac[i][n + i] = a[i] * _sig(b[i]) * _sig(-b[i])
        return y, jac


def _modern_triple(name: str) -> Callable[..., Triple]:
    def triple(x: Any, **params: Any) -> Triple:
        return tuple(modern_reference(name, float(x), k, **params) for k in range(3))  # type: ignore[return-value]

    return triple


for _name in MODERN:
    REFERENCES[_name] = _modern_triple(_name)


def ulp_error(ours: float, exact: Any, dtype: Any) -> float:
    """|ours - exact| in ULP of dtype at the correctly rounded exact value r (the gap
    from |r| toward zero; the smallest subnormal at 0).  NaN must meet NaN, ±inf its
    own infinity; anything else is an infinite error."""
    if mpmath.isnan(exact):
        return 0.0 if math.isnan(ours) else math.inf
    if math.isnan(ours):
        return math.inf
    r = round_to(exact, dtype)
    if math.isinf(r) or math.isinf(ours):
        return 0.0 if ours == r else math.inf
    a = np.abs(np.asarray(r, dtype=dtype))
    gap = float(a - np.nextafter(a, dtype(0))) if a != 0 else float(np.finfo(dtype).smallest_subnormal)
    with mp.workdps(DPS):
        return float(abs(mpf(ours) - exact) / mpf(gap))
