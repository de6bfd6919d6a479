"""The same forms under PyTorch's and JAX's array namespaces (where installed): the values
NumPy's namespace gives, to within the roundings of the libraries' own exp, log1p, tanh
and sums, with NaN in the same places and the dtype kept."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from actlab import portable

array_api_compat = pytest.importorskip("array_api_compat")

X = np.array([-np.inf, -1e30, -800.0, -40.0, -5.55, -1.2, -0.0, 0.0, 0.3, 2.0, 37.0, 800.0, 1e30, np.inf, np.nan])
FRAMEWORKS = ["torch", "jax"]
#: 16 ULP of float64 relative (the libraries' exp and tanh differ from libm's by an ULP or
#: two, and some forms take several of them); absolute below the normals.
RTOL = 16 * 2.0**-52


def convert(framework: str, a: np.ndarray) -> Any:
    if framework == "torch":
        torch = pytest.importorskip("torch")
        return torch.from_numpy(a.copy())
    jnp = pytest.importorskip("jax.numpy")
    from jax import config

    assert config.jax_enable_x64 or a.dtype != np.float64
    return jnp.asarray(a)


def back(value: Any) -> np.ndarray:
    return np.asarray(value.numpy() if hasattr(value, "numpy") and not hasattr(value, "block_until_ready") else value)


@pytest.fixture
def x64() -> Any:
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        yield


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", portable.names())
def test_forms_agree_across_namespaces(name: str, framework: str) -> None:
    form = portable.form(name)
    if isinstance(form, portable.ElementwiseForm):
        x = convert(framework, X)
        xp = array_api_compat.array_namespace(x)
        for rule in (form.f, form.derivative, form.second_derivative):
            ours, numpy = back(rule(xp, x)), rule(np, X)
            assert ours.dtype == np.float64
            np.testing.assert_allclose(ours, numpy, rtol=RTOL, atol=1e-300)
        return
    params = {"pieces": 2} if name == "maxout" else {}
    a = np.random.default_rng(5).standard_normal((3, 6)) * 4
    a[0, 1], a[1, 2], a[2, 3] = np.inf, -np.inf, np.nan
    xa = convert(framework, a)
    xp = array_api_compat.array_namespace(xa)
    y = form.f(np, a, axis=-1, **params)
    pairs = [
        (form.f(xp, xa, axis=-1, **params), y),
        (form.jvp(xp, xa, convert(framework, np.ones_like(a)), axis=-1, **params),
         form.jvp(np, a, np.ones_like(a), axis=-1, **params)),
        (form.vjp(xp, xa, convert(framework, np.ones_like(y)), axis=-1, **params),
         form.vjp(np, a, np.ones_like(y), axis=-1, **params)),
    ]
    for ours, numpy in pairs:
        np.testing.assert_allclose(back(ours), numpy, rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_float32_kept(framework: str) -> None:
    x = convert(framework, X.astype(np.float32))
    xp = array_api_compat.array_namespace(x)
    for name in ("sigmoid", "gelu", "mish"):
        assert back(portable.form(name).f(xp, x)).dtype == np.float32
