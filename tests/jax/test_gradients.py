"""Gradients of every registered activation through JAX: first, second and third order,
forward and reverse mode, under jit and vmap, against finite differences (check_grads),
against actlab's own kernels (within a few ULP: the portable forms round in the input's
dtype) and against mpmath."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
mpmath = pytest.importorskip("mpmath")

import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402
from jax_inputs import SHAPE, case_id, cases, sample, x64  # noqa: E402

import actlab  # noqa: E402
import actlab.jax as aj  # noqa: E402
from actlab.jax._rules import Vector  # noqa: E402

CASES = cases()
ELEMENTWISE = [n for n in actlab.names() if actlab.get(n).elementwise]
VECTOR_CASES = [c for c in CASES if not actlab.get(c[0]).elementwise]


def weights(shape: tuple[int, ...], dtype: Any, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name", actlab.names())
def test_check_grads_to_second_order_under_jit_and_vmap(name: str) -> None:
    # a vector function is mapped over the columns (a batch axis that is not the first),
    # each column being its one axis
    act = actlab.get(name)
    params = {"pieces": 2} if "pieces" in act.values else {}
    batch = 0 if act.elementwise else 1
    if not act.elementwise:
        params["axis"] = 0
    fn = jax.jit(jax.vmap(aj.get(name, **params), in_axes=batch, out_axes=batch))
    with x64():
        x = jnp.asarray(sample(name, **params))
        check_grads(fn, (x,), order=2, modes=("fwd", "rev"))


#: How far the jax values may be from actlab's kernels, relative: each side within its
#: bound of the exact value (8 ULP here at most, 4 there), in ULP of the dtype.
CLOSE = {"float32": 12 * 2.0**-24, "float64": 12 * 2.0**-53}


def assert_close(ours: Any, kernels: np.ndarray, dtype: str) -> None:
    tiny = float(np.finfo(dtype).smallest_normal)
    np.testing.assert_allclose(np.asarray(ours), kernels, rtol=CLOSE[dtype], atol=tiny)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_values_and_gradients_are_actlabs(case: tuple[str, dict[str, Any]], dtype: str) -> None:
    name, params = case
    act = actlab.get(name, **params)
    fn = aj.get(name, **params)
    with x64(dtype == "float64"):
        x_np = sample(name, seed=2, **params).astype(dtype)
        y = jax.jit(fn)(x_np)
        assert y.dtype == np.dtype(dtype)
        assert_close(y, act(x_np), dtype)
        np.testing.assert_array_equal(np.asarray(jax.vmap(fn)(x_np[None]))[0], np.asarray(y))
        g_np = weights(y.shape, dtype)
        grad = jax.jit(jax.grad(lambda v: jnp.sum(fn(v) * g_np)))(x_np)
        assert grad.dtype == np.dtype(dtype)
        if act.elementwise:  # g·f'(x), f'(x) the derivative form
            np.testing.assert_array_equal(np.asarray(grad), g_np * np.asarray(fn.derivative(x_np)))
            assert_close(fn.derivative(x_np), act.derivative(x_np), dtype)
        else:  # the JVP form, transposed, against actlab's VJP
            tol = 1e-5 if dtype == "float32" else 1e-13
            np.testing.assert_allclose(np.asarray(grad), act.backward(x_np, g_np),
                                       rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_first_and_second_derivatives_are_the_forms(name: str) -> None:
    act = actlab.get(name)
    fn = aj.get(name)
    with x64():
        x = sample(name, (9,), seed=4)
        d1 = jax.vmap(jax.grad(fn))(x)
        np.testing.assert_array_equal(np.asarray(d1), np.asarray(fn.derivative(x)))
        assert_close(d1, act.derivative(x), "float64")
        d2 = jax.vmap(jax.grad(jax.grad(fn)))(x)
        # the f'' form, compiled in another program (XLA may round a fused step apart)
        np.testing.assert_allclose(np.asarray(d2), np.asarray(fn.second_derivative(x)), rtol=2.0**-51)
        assert_close(d2, act.second_derivative(x), "float64")
        hess = jax.hessian(lambda v: jnp.sum(fn(v)))(x)
        np.testing.assert_array_equal(np.diag(np.asarray(hess)), np.asarray(d2))
        t = weights((9,), np.float64, seed=5)
        _, tangent = jax.jvp(fn, (x,), (t,))
        np.testing.assert_array_equal(np.asarray(tangent), t * np.asarray(d1))


@pytest.mark.parametrize("case", VECTOR_CASES, ids=case_id)
def test_vector_jvp_is_the_registrys_jacobian_times_the_tangent(case: tuple[str, dict[str, Any]]) -> None:
    name, params = case
    act = actlab.get(name, **params)
    with x64():
        x = sample(name, seed=6, **params)
        t = weights(x.shape, np.float64, seed=7)
        _, tangent = jax.jvp(aj.get(name, **params), (x,), (t,))
        axis = params["axis"]
        expected = np.moveaxis(np.einsum("...ij,...j->...i", act.jacobian(x),
                                         np.moveaxis(t, axis, -1)), -1, axis)
        np.testing.assert_allclose(np.asarray(tangent), expected, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("case", VECTOR_CASES, ids=case_id)
def test_the_jacobian_fallback_agrees_and_stops_at_first_order(case: tuple[str, dict[str, Any]]) -> None:
    name, params = case
    act = actlab.get(name, **{**params, "axis": params["axis"] - len(SHAPE) if params["axis"] >= 0
                              else params["axis"]})
    fallback, closed = Vector(act, closed_form=False), Vector(act)
    with x64():
        x = sample(name, seed=8, **params)
        t = weights(x.shape, np.float64, seed=9)
        np.testing.assert_allclose(np.asarray(jax.jvp(fallback, (x,), (t,))[1]),
                                   np.asarray(jax.jvp(closed, (x,), (t,))[1]), rtol=1e-13, atol=1e-14)
        stacked, tangents = np.stack([x, 2 * x]), np.stack([t, -t])  # vmap over a new first axis
        np.testing.assert_allclose(
            np.asarray(jax.vmap(lambda v, w: jax.jvp(fallback, (v,), (w,))[1])(stacked, tangents)),
            np.asarray(jax.vmap(lambda v, w: jax.jvp(closed, (v,), (w,))[1])(stacked, tangents)),
            rtol=1e-13, atol=1e-14)
        with pytest.raises(NotImplementedError, match=f"{name}: its second derivative"):
            jax.hessian(lambda v: jnp.sum(fallback(v)))(x)


def ulps(got: float, want: Any) -> float:
    return abs(got - float(want)) / float(np.spacing(abs(float(want))))


def test_tail_derivatives_against_mpmath_with_x64() -> None:
    mpmath.mp.dps = 50
    sigmoid_37 = mpmath.exp(-37) / (1 + mpmath.exp(-37)) ** 2
    tanh_19 = mpmath.sech(19) ** 2
    with x64():
        got_sigmoid = jax.jit(jax.grad(aj.sigmoid))(37.0)
        got_tanh = jax.jit(jax.grad(aj.tanh))(19.0)
        assert got_sigmoid.dtype == np.float64
        assert ulps(float(got_sigmoid), sigmoid_37) <= 4
        assert ulps(float(got_tanh), tanh_19) <= 4
    assert f"{float(sigmoid_37):.4g}" == "8.533e-17" and f"{float(tanh_19):.5g}" == "1.2557e-16"


@pytest.mark.parametrize("name", actlab.names())
def test_x64_off_gives_float32(name: str) -> None:
    params = {"pieces": 2} if name == "maxout" else {}
    with x64(False):
        x = jnp.asarray(sample(name, **params))
        fn = aj.get(name, **params)
        assert x.dtype == jnp.float32 and fn(x).dtype == jnp.float32
        assert jax.grad(lambda v: jnp.sum(fn(v)))(x).dtype == jnp.float32
        assert fn(np.ones(SHAPE, dtype=np.int32)).dtype == jnp.float32


def test_x64_on_makes_python_floats_and_integers_float64() -> None:
    with x64():
        assert aj.sigmoid(1.0).dtype == jnp.float64
        assert aj.softmax(np.arange(4)).dtype == jnp.float64
    assert aj.sigmoid(1.0).dtype == jnp.float32  # the block set nothing outside it


def _exact_second(name: str, t: Any) -> Any:
    """The oracle's f'' at an mpf t (mpmath.diff steps by mpf)."""
    from actlab.audit import references as R

    if name in R.MODERN:
        ref = R.MODERN[name]
        return ref.d2(t, **ref.params)
    return R.REFERENCES[name](t)[2]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_third_derivative_is_jax_differentiating_the_second_derivative_form(name: str) -> None:
    """The third derivative at points away from the kinks, against mpmath's derivative
    (at 50 digits) of the oracle's exact second derivative."""
    fn = aj.get(name)
    xs = sample(name, (5,), seed=12)
    with x64():
        ours = np.asarray(jax.vmap(jax.grad(jax.grad(jax.grad(fn))))(jnp.asarray(xs)))
    with mpmath.workdps(50):
        exact = [float(mpmath.diff(lambda t: _exact_second(name, t), mpmath.mpf(float(v)))) for v in xs]
    np.testing.assert_allclose(ours, exact, rtol=1e-9, atol=1e-12)


def test_a_defined_function_keeps_the_callback_and_its_third_derivative_is_a_named_error() -> None:
    pytest.importorskip("sympy")
    from actlab.symbolic import define, undefine

    act = define("jax_probe", "x*tanh(x)")
    try:
        fn = aj.get("jax_probe")
        x = np.linspace(-2.0, 2.0, 7)
        with x64():
            assert "callback" in str(jax.make_jaxpr(fn)(x))
            np.testing.assert_array_equal(np.asarray(fn(x)), act(x))
            np.testing.assert_array_equal(np.asarray(jax.vmap(jax.grad(fn))(x)), act.derivative(x))
            with pytest.raises(NotImplementedError, match="actlab.jax: jax_probe: the second derivative"):
                jax.grad(jax.grad(jax.grad(fn)))(0.3)
    finally:
        undefine("jax_probe")


def test_glu_and_softmax_have_every_order() -> None:
    x = jnp.asarray([0.1, -0.4, 0.9])
    third = jax.jit(jax.jacfwd(jax.hessian(lambda v: aj.softmax(v)[0])))(x)
    # ∂³s_0/∂x_0³ = s_0 (1 - s_0)(1 - 6 s_0 + 6 s_0²)
    s0 = float(np.exp(0.1) / np.exp([0.1, -0.4, 0.9]).sum())
    np.testing.assert_allclose(float(third[0, 0, 0]), s0 * (1 - s0) * (1 - 6 * s0 + 6 * s0 ** 2),
                               rtol=1e-5)
    xg = jnp.asarray([1.5, -0.7, 0.4, 2.0])
    third = jax.jit(jax.jacfwd(jax.hessian(lambda v: aj.glu(v)[0])))(xg)
    # ∂³(a σ(b))/∂b³ = a σ(b)(1 - σ(b))(1 - 6σ(b) + 6σ(b)²), a = 1.5, b = 0.4
    sb = 1 / (1 + np.exp(-0.4))
    np.testing.assert_allclose(float(third[2, 2, 2]), 1.5 * sb * (1 - sb) * (1 - 6 * sb + 6 * sb**2), rtol=1e-5)
