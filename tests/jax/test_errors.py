"""Bad input to actlab.jax is a ValueError or TypeError that names the problem."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

import actlab.jax as aj  # noqa: E402


@pytest.mark.parametrize("call,message", [
    (lambda: aj.get("sigmod"), "unknown activation 'sigmod'; did you mean 'sigmoid'?"),
    (lambda: aj.get("leaky_relu", slop=0.2), "unknown parameter 'slop'; did you mean 'slope'?"),
    (lambda: aj.leaky_relu(jnp.ones(3), slope="steep"), "slope must be a finite real number, got 'steep'"),
    (lambda: aj.leaky_relu(jnp.ones(3), slope=float("nan")), "leaky_relu: slope must be finite, got nan"),
    (lambda: aj.gelu(jnp.ones(3), approximate="fast"), "approximate must be one of ('none', 'tanh'), got 'fast'"),
    (lambda: aj.softmax(jnp.ones(3), axis=1.5), "axis must be an integer, got 1.5"),
    (lambda: aj.softmax(jnp.ones((2, 3)), axis=2), "softmax: axis 2 is out of bounds for an array of dimension 2"),
    (lambda: aj.softmax(jnp.ones((2, 3)), axis=-3), "softmax: axis -3 is out of bounds"),
    (lambda: aj.log_softmax(jnp.float32(1.0)), "log_softmax: axis -1 is out of bounds for an array of dimension 0"),
    (lambda: aj.maxout(jnp.ones(5), pieces=2), "maxout: pieces=2 does not divide the axis of length 5"),
    (lambda: aj.glu(jnp.ones(3)), "glu: the axis has odd length 3"),
    (lambda: jax.jit(aj.glu)(jnp.ones(3)), "glu: the axis has odd length 3"),
])
def test_bad_names_parameters_and_shapes_are_named_value_errors(call: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_a_complex_dtype_is_a_type_error(name: str) -> None:
    with pytest.raises(TypeError, match=f"{name}: input has dtype complex64; actlab.jax computes"):
        aj.get(name)(jnp.ones(4, dtype=jnp.complex64))


@pytest.mark.parametrize("name", ["sigmoid", "gelu", "softmax"])
def test_bfloat16_is_computed_in_float32_and_rounded_once(name: str) -> None:
    x = jnp.linspace(-4.0, 4.0, 16).astype(jnp.bfloat16)
    y = aj.get(name)(x)
    assert y.dtype == jnp.bfloat16
    np.testing.assert_array_equal(np.asarray(y.astype(jnp.float32)),
                                  np.asarray(aj.get(name)(x.astype(jnp.float32)).astype(jnp.bfloat16).astype(jnp.float32)))


def test_vector_functions_have_no_elementwise_derivative() -> None:
    with pytest.raises(TypeError, match="softmax is a vector function"):
        aj.get("softmax").derivative(jnp.ones(3))


def test_aliases_parameters_and_repr() -> None:
    assert aj.get("swish") is aj.get("silu")
    assert aj.get("leaky_relu", slope=0.2) is aj.get("leaky_relu", slope=0.2)
    assert repr(aj.get("leaky_relu", slope=0.2)) == "actlab.jax.get('leaky_relu', slope=0.2)"
    x = np.array([-2.0, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(aj.leaky_relu(x, slope=0.2)),
                                  np.array([-0.4, 3.0], dtype=np.float32))
    np.testing.assert_array_equal(np.asarray(aj.get("softplus", beta=2.0).derivative(0.0)), 0.5)
