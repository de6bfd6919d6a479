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

Each is a ``jax.custom_jvp`` function whose primal and tangent rules call actlab's NumPy
kernels through ``jax.pure_callback``: the JVP of f is t·f'(x) and the JVP of f' is
t·f''(x), each from the registry's kernel.  A vector function's JVP is its Jacobian-vector
product, in closed form in jax.numpy for softmax, log_softmax, sparsemax, maxout and glu
(built on the kernels' own outputs), else contracted from the registry's Jacobian.  They
work under jit, vmap, grad of order 1 and 2, jvp, jacfwd, jacrev and jax.hessian, with
``jax_enable_x64`` on (float64) or off (float32); float16 is computed too.  Integer input
becomes jax's default float; any other dtype is a TypeError.  Parameters are actlab's, with
its ValueErrors ("did you mean").

Third derivatives: an elementwise function's f'' has no derivative in the registry, so
differentiating it (a third derivative of f, e.g. ``jax.jacfwd(jax.hessian(f))``) raises a
NotImplementedError naming the function when jax traces it; nothing is approximated.  The
same holds for glu (through its sigmoid) and for the second derivative of a vector function
without a closed-form JVP.  softmax, log_softmax, sparsemax and maxout have every order
(their closed forms are differentiated again; sparsemax's and maxout's are zero).

Why callbacks: the values are actlab's kernels' own bits on the CPU (the compiled kernels
where built, float16/32 computed in float64 and rounded once), which a re-implementation in
jax.numpy would not give: XLA rounds and fuses in its own way.  The cost: each callback leaves
the compiled program for the host and copies its result (measured on a 2-core EPYC: about
50-80 µs per callback, against a few µs for an XLA operation), XLA cannot fuse across it,
and it runs on the CPU only (on an accelerator the data would travel to the host and back).
A jitted forward + gradient step takes one callback for an elementwise function (f and f'
in one pass), two for log_softmax and three for glu; ``python benchmarks/bench_frameworks.py
--framework jax`` measures it against jax.nn, which is faster (1.3-40x in that table):
use actlab.jax where the exact bits matter more than speed.  A gradient is
the product t·f'(x) in the input's dtype (in float32 two roundings, where actlab's own
``backward`` rounds once), and within jit a callback whose result is unused may be dropped.
"""

from __future__ import annotations

try:
    import jax as _jax  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("actlab.jax needs JAX; install it with: pip install 'actlab[jax]'") from exc

from typing import Any

import actlab as _actlab

from ._api import Function, get, make_function
from ._rules import CLOSED_FORM_JVPS, KERNEL_DTYPES

for _name in _actlab.names():
    globals()[_name] = make_function(_name)
del _name


def __getattr__(name: str) -> Any:
    """The function of an activation registered after this package was imported."""
    if name in _actlab.names():
        function = globals()[name] = make_function(name)
        return function
    raise AttributeError(f"module 'actlab.jax' has no attribute {name!r}")


__all__ = ["CLOSED_FORM_JVPS", "Function", "KERNEL_DTYPES", "get", *_actlab.names()]
