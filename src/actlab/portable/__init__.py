"""actlab's stable forms written once against an array namespace (NumPy, PyTorch, JAX).

``xp`` is any namespace of the Python array API, e.g. ``array_api_compat.array_namespace(x)``
(``jax.numpy`` is one as it is).  Each built-in activation has one form:

- :class:`ElementwiseForm`: ``f(xp, x, **params)``, ``derivative(xp, x, **params)`` and
  ``second_derivative(xp, x, **params)``;
- :class:`VectorForm` (softmax, log_softmax, maxout, sparsemax, glu):
  ``f(xp, x, *, axis, **params)``, ``jvp(xp, x, t, *, axis, **params)`` (the tangent of
  the output, in xp operations, so that a framework can differentiate it again) and
  ``vjp(xp, x, g, *, axis, **params)`` (the gradient with respect to x).

Parameters are the registry's names, keyword-only, with the registry's defaults
(``form("leaky_relu").f(xp, x)`` uses slope=0.1); they are not validated here, since the
frameworks bind them through ``actlab.get(name, **params)``, which does.  ``form(name)``
accepts aliases; a name without a form is a ValueError saying why.  ``names()`` lists the
names that have one, :data:`NO_PORTABLE_FORM` the built-ins that have none, with the
reason (empty today: every built-in has a form); functions made by ``actlab.define`` have
none (their kernels are generated NumPy code).

The forms compute in x's dtype: float32 or float64 (float16 and bfloat16 are computed in
float32 and rounded once).  They use only array-API operations (exp, expm1, log1p, tanh,
atan, abs, where, maximum, minimum, isnan, arithmetic, sums and sorts along an axis), and
exact products and sums (Dekker's two_prod with the dtype's splitter, Knuth's two_sum,
double-double) written in plain arithmetic: no special-function library is needed (the
normal distribution function is FreeBSD msun's rational fit, as in the NumPy kernels).
The formulas are the NumPy kernels' (src/actlab/activations): kinks take the right-hand
piece, the limits at ±inf are exact, NaN stays NaN, and under NumPy no floating-point
warning is raised (underflow, which NumPy ignores by default, is intended).  They are
not the NumPy kernels' bits: those compute float32 in float64 and round once, these
round in the dtype; tests/portable holds them to twice the core's ULP bounds.

>>> import numpy as np, array_api_compat
>>> from actlab import portable
>>> x = np.array([-1.0, 0.0, 37.0])
>>> xp = array_api_compat.array_namespace(x)
>>> f"{float(portable.form('sigmoid').derivative(xp, x)[2]):.4g}"  # σ(1 - σ) gives 0 here
'8.533e-17'
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import actlab

from ._elementwise import TRIPLES
from ._vector import VECTOR

__all__ = ["NO_PORTABLE_FORM", "ElementwiseForm", "VectorForm", "form", "names"]

#: Built-in activations with no portable form, each with the reason (none today).
NO_PORTABLE_FORM: dict[str, str] = {}

_LOW_PRECISION_BITS = 16


@dataclass(frozen=True)
class ElementwiseForm:
    """f, f' and f'' of one elementwise activation, each ``(xp, x, **params)``."""

    name: str
    f: Callable[..., Any]
    derivative: Callable[..., Any]
    second_derivative: Callable[..., Any]
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorForm:
    """f, its JVP and its VJP along one axis, ``f(xp, x, *, axis, **params)``,
    ``jvp(xp, x, t, *, axis, **params)``, ``vjp(xp, x, g, *, axis, **params)``."""

    name: str
    f: Callable[..., Any]
    jvp: Callable[..., Any]
    vjp: Callable[..., Any]
    defaults: dict[str, Any] = field(default_factory=dict)


def _widened(
    name: str, rule: Callable[..., Any], defaults: dict[str, Any], arrays: int
) -> Callable[..., Any]:
    """rule with the registry's defaults filled in, unknown parameters refused, and
    float16/bfloat16 arrays computed in float32 and rounded back once."""

    @functools.wraps(rule)
    def call(xp: Any, *args: Any, **params: Any) -> Any:
        unknown = set(params) - set(defaults)
        if unknown:
            raise ValueError(
                f"{name}: unknown parameter {sorted(unknown)[0]!r} (parameters: {', '.join(defaults) or 'none'})"
            )
        bound = {**defaults, **params}
        x = args[0]
        if xp.finfo(x.dtype).bits <= _LOW_PRECISION_BITS:
            wide = [xp.astype(a, xp.float32) for a in args[:arrays]]
            result = rule(xp, *wide, *args[arrays:], **bound)
            # past the narrow dtype's range the rounded value is ±inf: no overflowing cast
            limit = float(xp.finfo(x.dtype).max) * (1.0 + 2.0 ** -(_narrow_precision(xp, x) + 1))
            inf = xp.asarray(float("inf"), dtype=result.dtype)
            result = xp.where(xp.abs(result) >= limit, xp.where(result < 0, -inf, inf), result)
            return xp.astype(result, x.dtype)
        return rule(xp, *args, **bound)

    return call


def _narrow_precision(xp: Any, x: Any) -> int:
    """Significand bits (hidden bit included) of a 16-bit float dtype."""
    eps = float(xp.finfo(x.dtype).eps)
    return round(-math.log2(eps)) + 1


@functools.cache
def _form(name: str) -> ElementwiseForm | VectorForm:
    defaults = dict(actlab.get(name).values)
    if name in TRIPLES:
        f, d1, d2 = TRIPLES[name]
        return ElementwiseForm(
            name,
            _widened(name, f, defaults, 1),
            _widened(name, d1, defaults, 1),
            _widened(name, d2, defaults, 1),
            defaults,
        )
    f, jvp, vjp = VECTOR[name]
    return VectorForm(
        name,
        _widened(name, f, defaults, 1),
        _widened(name, jvp, defaults, 2),
        _widened(name, vjp, defaults, 2),
        defaults,
    )


def names() -> tuple[str, ...]:
    """The registered activations that have a portable form, in the registry's order."""
    return tuple(n for n in actlab.names() if n in TRIPLES or n in VECTOR)


def form(name: str) -> ElementwiseForm | VectorForm:
    """The portable form of ``name`` (an alias too); ValueError naming the function and
    why when it has none."""
    canonical = actlab.get(name).name  # an unknown name is actlab's ValueError
    if canonical in TRIPLES or canonical in VECTOR:
        return _form(canonical)
    if canonical in NO_PORTABLE_FORM:
        raise ValueError(f"{canonical} has no portable form: {NO_PORTABLE_FORM[canonical]}")
    family = getattr(actlab.get(canonical), "family", "")
    why = (
        "it was made by actlab.define (its kernels are generated NumPy code)"
        if family == "defined"
        else "it is not one of actlab's built-in activations"
    )
    raise ValueError(f"{canonical} has no portable form: {why}")
