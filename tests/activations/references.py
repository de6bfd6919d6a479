"""The oracle: an mpmath reference of every registered elementwise activation, keyed by name.

``REFERENCES[name](x, **params)`` gives (f, f', f'') at the float ``x`` to :data:`DPS`
digits, and their limits at ±inf.  The references are the textbook formulas evaluated in
mpmath (exact to the digits asked for, since ``x`` is a float and exact in mpmath), never
actlab's own kernels nor a peer library.  :func:`round_to` rounds such a value correctly to
a NumPy float dtype.

The accuracy, fast-path and backward tests read it; ``test_accuracy.py`` fails for any
elementwise activation in ``actlab.names()`` that has no entry here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
from mpmath import mp

DPS = 50

SELU_ALPHA = mpmath.mpf("1.6732632423543772848170429916717")
SELU_LAMBDA = mpmath.mpf("1.0507009873554804934193349852946")

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


@functools.lru_cache(maxsize=None)
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
        raise KeyError(f"no mpmath reference for {name!r}: add one to tests/activations/references.py")
    return _cached(name, float(x), tuple(sorted(params.items())))


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
