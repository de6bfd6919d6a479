"""The jax.custom_jvp functions of actlab.jax.

Built-in activations run actlab's portable stable forms (:mod:`actlab.portable`) in
jax.numpy, jitted, so that XLA compiles and fuses them with the rest of a program.  For an
elementwise one three functions are chained: ``f`` (its JVP is t·f'(x)), ``f'`` (its JVP
is t·f''(x)) and the f'' form itself, which jax differentiates for higher orders.  A
vector one's JVP is its portable JVP form, which jax differentiates again.

Activations without a portable form (those made by ``actlab.define``) call actlab's NumPy
kernels through jax.pure_callback, as below: ``f``, ``f'`` (computed together when both are
needed, in one pass of the kernel) and ``f''``, whose JVP is a NotImplementedError naming
the function, since the registry's derivatives stop at the second.  A vector activation's
callback JVP is the Jacobian-vector product: in closed form in jax.numpy where
:data:`CLOSED_FORM_JVPS` has one, otherwise contracted from the registry's Jacobian, which
has no derivative of its own (second order is then a NotImplementedError naming it).

Vector functions are bound with a negative axis, so that the leading axes vmap adds do not
move it; the callbacks use ``vmap_method="broadcast_all"``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import actlab
from actlab import portable

Fn = Callable[[jax.Array], jax.Array]

#: The dtypes actlab's kernels compute (float16 in float64, rounded once).
KERNEL_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
#: The dtypes the portable forms compute (float16 and bfloat16 in float32, rounded once).
PORTABLE_DTYPES = (*KERNEL_DTYPES, np.dtype(jnp.bfloat16))


def has_portable_form(act: actlab.Activation) -> bool:
    """True for a built-in activation with a portable form (not one made by define)."""
    return getattr(act, "family", "") != "defined" and act.name in portable.names()


_AXIS = "axis"


def typed_key(values: dict[str, Any]) -> tuple[tuple[str, type, Any], ...]:
    """A hashable key of bound parameters (1 and True hash alike: each value's type too)."""
    return tuple(sorted((k, type(v), v) for k, v in values.items()))


def _untyped(key: tuple[tuple[str, type, Any], ...]) -> dict[str, Any]:
    return {k: v for k, _t, v in key}


Host = Callable[[Any], Any]


def host(kernel: Callable[[np.ndarray], Any]) -> Host:
    """kernel as a callback (made once per kernel: eager jax caches a callback's program by
    the callback's identity, so a new one per call would compile every call)."""

    def call(x: Any) -> Any:
        x = np.asarray(x)
        return np.asarray(kernel(x), dtype=x.dtype)  # a kernel keeps float16/32/64

    return call


def _callback(callback: Host, x: jax.Array, shape: tuple[int, ...] | None = None) -> jax.Array:
    """callback(x) on the host, as a jax value of ``shape`` (x's by default) and x's dtype."""
    result = jax.ShapeDtypeStruct(x.shape if shape is None else shape, x.dtype)
    return jax.pure_callback(callback, result, x, vmap_method="broadcast_all")


def _stop(label: str, what: str) -> Callable[..., Any]:
    def rule(primals: Any, tangents: Any) -> Any:
        raise NotImplementedError(
            f"actlab.jax: {label}: {what} is as far as actlab's derivatives go (the registry "
            f"gives f, f' and f''); a further derivative is not available"
        )

    return rule


# --------------------------------------------------------------------------- elementwise
class Elementwise:
    """f, f' and f'' of one bound elementwise activation as custom_jvp functions."""

    def __init__(self, act: actlab.Activation, label: str) -> None:
        self.act = act
        f_host, first_host = host(act), host(act.derivative)
        second_host = host(act.second_derivative)

        def both(a: Any) -> tuple[np.ndarray, np.ndarray]:
            a = np.asarray(a)
            y, d = act.forward_with_derivative(a)
            return np.asarray(y, dtype=a.dtype), np.asarray(d, dtype=a.dtype)

        @jax.custom_jvp
        def second(x: jax.Array) -> jax.Array:
            return _callback(second_host, x)

        second.defjvp(_stop(label, "the second derivative"))

        @jax.custom_jvp
        def first(x: jax.Array) -> jax.Array:
            return _callback(first_host, x)

        @first.defjvp
        def first_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            return first(x), t * second(x)

        @jax.custom_jvp
        def value_and_derivative(x: jax.Array) -> tuple[jax.Array, jax.Array]:
            shape = jax.ShapeDtypeStruct(x.shape, x.dtype)
            return jax.pure_callback(both, (shape, shape), x, vmap_method="broadcast_all")

        @value_and_derivative.defjvp
        def value_and_derivative_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            y, d = value_and_derivative(x)
            return (y, d), (t * d, t * second(x))

        @jax.custom_jvp
        def f(x: jax.Array) -> jax.Array:
            return _callback(f_host, x)

        @f.defjvp
        def f_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            y, d = value_and_derivative(x)
            return y, t * d

        self.f, self.derivative, self.second_derivative = f, first, second

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.f(x)


@functools.lru_cache(maxsize=1024)
def elementwise(name: str, key: tuple[tuple[str, type, Any], ...], label: str = "") -> Elementwise:
    return Elementwise(actlab.get(name, **_untyped(key)), label or name)


# --------------------------------------------------------------------------- vector: closed forms
def _sum(a: jax.Array, axis: int) -> jax.Array:
    return jnp.sum(a, axis=axis, keepdims=True)


def _softmax_jvp(x: jax.Array, y: jax.Array, t: jax.Array, values: dict[str, Any]) -> jax.Array:
    # ∂s = s ⊙ (t - <s, t>)
    return y * (t - _sum(y * t, values[_AXIS]))


def _log_softmax_jvp(x: jax.Array, y: jax.Array, t: jax.Array, values: dict[str, Any]) -> jax.Array:
    # ∂(log s) = t - <s, t>, s = softmax(x) by actlab's kernel
    axis = values[_AXIS]
    s = vector("softmax", typed_key({_AXIS: axis}))(x)
    return t - _sum(s * t, axis)


def _nan_mask(y: jax.Array) -> jax.Array:
    # multiplying by NaN keeps the JVP linear in t: an output that is NaN has a NaN derivative
    return jax.lax.stop_gradient(jnp.where(jnp.isnan(y), jnp.nan, 1.0).astype(y.dtype))


def _sparsemax_jvp(x: jax.Array, y: jax.Array, t: jax.Array, values: dict[str, Any]) -> jax.Array:
    # on the support S: t - Σ_S t / |S|; 0 off it (the Hessian is zero wherever it exists)
    axis = values[_AXIS]
    s = jax.lax.stop_gradient((y > 0).astype(y.dtype))
    size = jnp.maximum(_sum(s, axis), 1.0)
    return s * (t - _sum(s * t, axis) / size) * _nan_mask(y)


def _maxout_jvp(x: jax.Array, y: jax.Array, t: jax.Array, values: dict[str, Any]) -> jax.Array:
    # the tangent of each group's first maximum (np.argmax's and jnp.argmax's tie rule)
    axis = values[_AXIS]
    n = x.shape[axis]
    k = n if values["pieces"] is None else values["pieces"]
    xs, ts = jnp.moveaxis(x, axis, -1), jnp.moveaxis(t, axis, -1)
    groups = xs.reshape(*xs.shape[:-1], n // k, k)
    index = jnp.argmax(jax.lax.stop_gradient(groups), axis=-1)
    first_max = (index[..., None] == jnp.arange(k)).astype(t.dtype)
    picked = jnp.sum(ts.reshape(groups.shape) * first_max, axis=-1)
    return jnp.moveaxis(picked, -1, axis) * _nan_mask(y)


def _glu_jvp(x: jax.Array, y: jax.Array, t: jax.Array, values: dict[str, Any]) -> jax.Array:
    # f = a ⊙ σ(b): t_a σ(b) + a σ'(b) t_b, σ and σ' by actlab's kernels
    axis = values[_AXIS]
    a, b = jnp.split(x, 2, axis=axis)
    t_a, t_b = jnp.split(t, 2, axis=axis)
    sigmoid = elementwise("sigmoid", (), "glu (its sigmoid)")
    return t_a * sigmoid(b) + a * sigmoid.derivative(b) * t_b


#: name -> jvp(x, f(x), tangent, bound values) in jax.numpy, differentiable in x.
CLOSED_FORM_JVPS: dict[str, Callable[..., jax.Array]] = {
    "softmax": _softmax_jvp,
    "log_softmax": _log_softmax_jvp,
    "sparsemax": _sparsemax_jvp,
    "maxout": _maxout_jvp,
    "glu": _glu_jvp,
}


# --------------------------------------------------------------------------- vector functions
@functools.lru_cache(maxsize=512)
def result_shape(
    name: str, key: tuple[tuple[str, type, Any], ...], shape: tuple[int, ...]
) -> tuple[int, ...]:
    """The shape of f(x) for x of ``shape`` (axis negative): only the axis may change
    length, probed on a line of zeros (actlab's own error for a length it refuses)."""
    values = _untyped(key)
    axis = values[_AXIS]
    probe = np.zeros([n if d == len(shape) + axis else 1 for d, n in enumerate(shape)])
    out = list(shape)
    out[axis] = int(actlab.get(name, **values)(probe).shape[axis])
    return tuple(out)


def _jacobian_jvp(act: actlab.Activation, label: str) -> Callable[..., jax.Array]:
    """J(x)·t from the registry's Jacobian ((..., n_out, n_in), the axis moved last)."""
    jacobian_host = host(act.jacobian)

    @functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
    def jacobian(x: jax.Array, n_out: int) -> jax.Array:
        axis = act.values[_AXIS]
        moved = jnp.moveaxis(x, axis, -1).shape
        return _callback(jacobian_host, x, (*moved[:-1], n_out, moved[-1]))

    @jacobian.defjvp
    def jacobian_jvp(n_out: int, primals: Any, tangents: Any) -> Any:
        raise NotImplementedError(
            f"actlab.jax: {label}: its second derivative needs a closed-form JVP in "
            f"actlab.jax._rules.CLOSED_FORM_JVPS; its first derivatives work"
        )

    def jvp(x: jax.Array, y: jax.Array, t: jax.Array, values: dict[str, Any]) -> jax.Array:
        axis = values[_AXIS]
        j = jacobian(x, y.shape[axis])
        return jnp.moveaxis(jnp.einsum("...ij,...j->...i", j, jnp.moveaxis(t, axis, -1)), -1, axis)

    return jvp


class Vector:
    """One bound vector activation (negative axis) as a custom_jvp function."""

    def __init__(self, act: actlab.Activation, *, closed_form: bool = True) -> None:
        name, values = act.name, dict(act.values)
        key = typed_key(values)
        rule = CLOSED_FORM_JVPS.get(name) if closed_form else None
        jvp_rule = rule if rule is not None else _jacobian_jvp(act, name)
        f_host = host(act)

        @jax.custom_jvp
        def f(x: jax.Array) -> jax.Array:
            return _callback(f_host, x, result_shape(name, key, tuple(x.shape)))

        @f.defjvp
        def f_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            y = f(x)
            return y, jvp_rule(x, y, t, values)

        self.act, self.f = act, f

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.f(x)


@functools.lru_cache(maxsize=1024)
def vector(name: str, key: tuple[tuple[str, type, Any], ...]) -> Vector:
    return Vector(actlab.get(name, **_untyped(key)))


# --------------------------------------------------------------------------- portable forms
class PortableElementwise:
    """f, f' and f'' of one bound built-in elementwise activation, from its portable
    form in jax.numpy: f and f' are custom_jvp functions (the JVP of f is t·f'(x), that of
    f' is t·f''(x)), f'' is the form itself, differentiated by jax for higher orders."""

    def __init__(self, act: actlab.Activation) -> None:
        self.act = act
        form = portable.form(act.name)
        assert isinstance(form, portable.ElementwiseForm)
        params = dict(act.values)

        def second(x: jax.Array) -> jax.Array:
            return form.second_derivative(jnp, x, **params)

        @jax.custom_jvp
        def first(x: jax.Array) -> jax.Array:
            return form.derivative(jnp, x, **params)

        @first.defjvp
        def first_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            return first(x), t * second(x)

        @jax.custom_jvp
        def f(x: jax.Array) -> jax.Array:
            return form.f(jnp, x, **params)

        @f.defjvp
        def f_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            return f(x), t * first(x)

        self.f, self.derivative, self.second_derivative = jax.jit(f), jax.jit(first), jax.jit(second)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.f(x)


@functools.lru_cache(maxsize=1024)
def portable_elementwise(name: str, key: tuple[tuple[str, type, Any], ...]) -> PortableElementwise:
    return PortableElementwise(actlab.get(name, **_untyped(key)))


class PortableVector:
    """One bound built-in vector activation (negative axis) from its portable form: a
    custom_jvp function whose JVP is the form's JVP in jax.numpy (differentiable again)."""

    def __init__(self, act: actlab.Activation) -> None:
        form = portable.form(act.name)
        assert isinstance(form, portable.VectorForm)
        values = dict(act.values)

        @jax.custom_jvp
        def f(x: jax.Array) -> jax.Array:
            return form.f(jnp, x, **values)

        @f.defjvp
        def f_jvp(primals: Any, tangents: Any) -> Any:
            (x,), (t,) = primals, tangents
            return f(x), form.jvp(jnp, x, t, **values)

        self.act, self.f = act, jax.jit(f)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.f(x)


@functools.lru_cache(maxsize=1024)
def portable_vector(name: str, key: tuple[tuple[str, type, Any], ...]) -> PortableVector:
    return PortableVector(actlab.get(name, **_untyped(key)))
