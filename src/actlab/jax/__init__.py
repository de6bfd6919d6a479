"""actlab's activations in JAX models (the optional extra ``actlab[jax]``).

- one function per registered activation: ``actlab.jax.sigmoid(x)``,
  ``actlab.jax.leaky_relu(x, slope=0.1)``, ``actlab.jax.softmax(x, axis=-1)``;
- ``actlab.jax.get(name, **params)``: the function with its parameters bound (a
  :class:`Function`; elementwise ones also carry ``.derivative`` and ``.second_derivative``).

>>> import jax
>>> import actlab.jax
>>> float(jax.grad(actlab.jax.sigmoid)(0.0)), float(jax.grad(jax.grad(actlab.jax.softplus))(0.0))
(0.25, 0.25)
>>> actlab.jax.softmax(jax.numpy.zeros((2, 4)), axis=0).shape
(2, 4)

Each built-in activation runs actlab's portable stable forms (:mod:`actlab.portable`: the
NumPy kernels' formulas written once against an array namespace) in jax.numpy, jitted, so
that XLA compiles and fuses them with the rest of a program (no host round trip).
An elementwise one is a ``jax.custom_jvp`` chain: the JVP of f is t·f'(x), that of f' is
t·f''(x), and jax differentiates the f'' form itself for a third derivative and beyond.  A
vector one's JVP is its portable Jacobian-vector product, which jax differentiates again.
They work under jit, vmap, grad of any order, jvp, jacfwd, jacrev and jax.hessian, with
``jax_enable_x64`` on (float64) or off (float32); float16 and bfloat16 are computed in
float32 and rounded once.  Integer input becomes jax's default float; any other dtype is a
TypeError.  Parameters are actlab's, with its ValueErrors ("did you mean").

The values are not the NumPy kernels' bits: those compute float32 in float64 and round
once, these round in the input's dtype with XLA's exp, log1p and tanh; the tests hold them
to twice the core's ULP bounds against mpmath (f'' to 16 ULP).  XLA on the CPU flushes
subnormal inputs and results to zero (jax.nn too), where actlab's kernels keep them.

An activation made by ``actlab.define`` has no portable form: it calls actlab's NumPy
kernels through ``jax.pure_callback`` (about 50-80 µs a call, CPU only, not fused), with
f' and f'' from its kernels and a NotImplementedError naming it for a third derivative;
a vector function without a form would use the closed-form JVPs of
:data:`CLOSED_FORM_JVPS` or the registry's Jacobian.
"""

from __future__ import annotations

try:
    import jax as _jax  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("actlab.jax needs JAX; install it with: pip install 'actlab[jax]'") from exc

from typing import Any

import actlab as _actlab

from ._api import Function, get, make_function
from ._rules import CLOSED_FORM_JVPS, KERNEL_DTYPES, PORTABLE_DTYPES

for _name in _actlab.names():
    globals()[_name] = make_function(_name)
del _name


def __getattr__(name: str) -> Any:
    """The function of an activation registered after this package was imported."""
    if name in _actlab.names():
        function = globals()[name] = make_function(name)
        return function
    raise AttributeError(f"module 'actlab.jax' has no attribute {name!r}")


__all__ = ["CLOSED_FORM_JVPS", "Function", "KERNEL_DTYPES", "PORTABLE_DTYPES", "get", *_actlab.names()]
