"""Calls outside jit: a repeated eager call reuses its compiled program, a built-in runs
in jax.numpy (no callback), and ``import actlab`` does not need JAX."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

import actlab  # noqa: E402
import actlab.jax as aj  # noqa: E402


@pytest.mark.parametrize("name", ["sigmoid", "softmax", "glu"])
def test_a_second_eager_call_compiles_nothing(name: str, caplog: pytest.LogCaptureFixture) -> None:
    x = jnp.linspace(-2.0, 2.0, 8)
    fn = aj.get(name)
    fn(x).block_until_ready()
    jax.grad(lambda v: jnp.sum(fn(v)))(x).block_until_ready()
    with caplog.at_level(logging.DEBUG), jax.log_compiles():
        caplog.clear()
        np.testing.assert_allclose(np.asarray(fn(x)), actlab.get(name)(np.asarray(x)), rtol=8 * 2.0**-23)
        jax.grad(lambda v: jnp.sum(fn(v)))(x).block_until_ready()
    compiled = [r.getMessage() for r in caplog.records if "ompil" in r.getMessage()]
    assert compiled == []


def test_import_actlab_works_without_jax_and_actlab_jax_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['jax'] = None\n"
        "import actlab\n"
        "assert float(actlab.get('sigmoid')(0.0)) == 0.5\n"
        "try:\n"
        "    import actlab.jax\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert "pip install 'actlab[jax]'" in done.stdout


@pytest.mark.parametrize("name", ["sigmoid", "gelu", "softmax", "glu"])
def test_a_builtin_is_jax_numpy_not_a_callback(name: str) -> None:
    fn = aj.get(name)
    x = jnp.linspace(-2.0, 2.0, 8)
    programs = [jax.make_jaxpr(fn)(x), jax.make_jaxpr(jax.grad(lambda v: jnp.sum(fn(v))))(x)]
    assert all("callback" not in str(p) for p in programs)
