"""The public forms, generated from the registry: :func:`get` and one function per name.

Parameters keep the registry's names (a vector function's ``axis`` too) and are validated by
actlab's own checks when the function is made.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import actlab

from ._rules import (
    KERNEL_DTYPES,
    PORTABLE_DTYPES,
    Elementwise,
    PortableElementwise,
    elementwise,
    has_portable_form,
    portable_elementwise,
    portable_vector,
    typed_key,
    vector,
)

_AXIS = "axis"


def as_input(name: str, x: Any, dtypes: tuple[np.dtype, ...] = KERNEL_DTYPES) -> jax.Array:
    """x as a jax value of a dtype actlab computes (``dtypes``): integers and booleans
    become jax's default float (float32, float64 with jax_enable_x64); other dtypes are a
    TypeError."""
    x = jnp.asarray(x)
    dtype = np.dtype(x.dtype)
    if dtype in dtypes:
        return x
    if dtype == np.bool_ or np.issubdtype(dtype, np.integer):
        return x.astype(jnp.result_type(float))
    shown = ", ".join(str(d) for d in dtypes[:-1]) + f" and {dtypes[-1]}"
    raise TypeError(
        f"{name}: input has dtype {dtype}; actlab.jax computes {shown} values only for this "
        f"function (convert with .astype(jnp.float32))"
    )


def check_axis(name: str, axis: int, ndim: int) -> int:
    """The axis as a negative index, or a ValueError naming it."""
    if ndim == 0:
        raise ValueError(
            f"{name}: axis {axis} is out of bounds for an array of dimension 0; {name} acts "
            f"along an axis, so it needs at least one"
        )
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis - ndim if axis >= 0 else axis


class Function:
    """A registered activation with its parameters bound, as a function of jax values.

    ``fn(x)`` works under jit, vmap, grad (of any order for a built-in, to second order for
    a function made by actlab.define), jvp, jacfwd, jacrev and hessian; elementwise ones
    also have ``fn.derivative(x)`` and ``fn.second_derivative(x)``.  ``fn.activation`` is
    the registry's Activation; ``fn.portable`` says whether it runs the portable forms
    in jax.numpy (else actlab's kernels through callbacks).
    """

    def __init__(self, act: actlab.Activation) -> None:
        self.activation = act
        self.name = act.name
        self.portable = has_portable_form(act)
        self._dtypes = PORTABLE_DTYPES if self.portable else KERNEL_DTYPES
        self._key = typed_key(dict(act.values))
        self._rules: Elementwise | PortableElementwise | None = None
        if act.elementwise:
            maker = portable_elementwise if self.portable else elementwise
            self._rules = maker(act.name, self._key)
        self.__name__ = self.__qualname__ = act.name
        self.__doc__ = docstring(act)

    def __call__(self, x: Any) -> jax.Array:
        x = as_input(self.name, x, self._dtypes)
        if self._rules is not None:
            return self._rules.f(x)
        values = dict(self.activation.values)
        values[_AXIS] = check_axis(self.name, values[_AXIS], x.ndim)
        maker = portable_vector if self.portable else vector
        return maker(self.name, typed_key(values))(x)

    def _elementwise(self, what: str) -> Elementwise | PortableElementwise:
        if self._rules is None:
            raise TypeError(
                f"{self.name} is a vector function: it has no elementwise {what} (use jax.jacfwd or jax.jvp)"
            )
        return self._rules

    def derivative(self, x: Any) -> jax.Array:
        """f'(x) (elementwise functions); differentiable again."""
        return self._elementwise("derivative").derivative(as_input(self.name, x, self._dtypes))

    def second_derivative(self, x: Any) -> jax.Array:
        """f''(x) (elementwise functions); differentiable by jax for a built-in, not for a
        function made by actlab.define (whose f'' is a callback)."""
        return self._elementwise("second derivative").second_derivative(as_input(self.name, x, self._dtypes))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.activation.values.items())
        return f"actlab.jax.get({self.name!r}{', ' if shown else ''}{shown})"


@functools.lru_cache(maxsize=1024)
def _get_cached(name: str, key: tuple[tuple[str, type, Any], ...]) -> Function:
    return Function(actlab.get(name, **{k: v for k, _t, v in key}))


def get(name: str, /, **params: Any) -> Function:
    """The activation ``name`` (aliases too) with ``params`` bound, as a jax function.

    An unknown name or parameter, or a bad value, is actlab's ValueError ("did you mean").
    """
    act = actlab.get(name, **params)
    try:
        key = typed_key(dict(act.values))
        hash(key)
    except TypeError:
        return Function(act)
    return _get_cached(act.name, key)


def docstring(act: actlab.Activation) -> str:
    """The jax form's documentation, from the activation's facts."""
    lines = [act.summary, "", f"f(x) = {act.plain_formula}"]
    if act.params:
        lines += ["", "Parameters (keyword-only):"]
        lines += [f"    {p.name}: {p.doc} (default {p.default!r})" for p in act.params]
    for kink in act.kinks:
        note = f" ({kink.note})" if kink.note else ""
        lines.append(f"At x = {kink.x:g} the derivative is taken as {kink.derivative:g}{note}.")
    if has_portable_form(act):
        how = "Computed by actlab's portable stable forms in jax.numpy (jitted); " + (
            "f' and f'' are its forms, and jax differentiates f'' for higher orders."
            if act.elementwise
            else "its JVP is the form's Jacobian-vector product, differentiable again."
        )
    else:
        order = (
            "f' and f'' are actlab's kernels; a third derivative is a NotImplementedError"
            if act.elementwise
            else "its Jacobian-vector product is the JVP rule"
        )
        how = f"Computed by actlab's NumPy kernels through jax.pure_callback; {order}."
    lines += ["", how]
    return "\n".join(lines)


def make_function(name: str) -> Callable[..., jax.Array]:
    """The module-level form of ``name``: ``fn(x, **params)``."""
    act = actlab.get(name)
    default = get(name)

    def function(x: Any, /, **params: Any) -> jax.Array:
        return (get(name, **params) if params else default)(x)

    function.__name__ = function.__qualname__ = name
    function.__module__ = "actlab.jax"
    function.__doc__ = docstring(act)
    function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("x", inspect.Parameter.POSITIONAL_ONLY),
            *(
                inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
                for p in act.params
            ),
        ]
    )
    return function
