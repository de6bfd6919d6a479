"""The accuracy of actlab.jax against the 50-digit mpmath oracle, on a subset of the core's
sweep (actlab.audit's points, the tails and the roots of f' and f''): f, f' (jax.grad) and
f'' (jax.grad twice) within twice the core's ULP bounds for f and f' and 16 ULP for f'',
in float64 (jax_enable_x64) and float32, with XLA's own exp, log1p and tanh.

XLA on the CPU flushes subnormal numbers to zero, as inputs and as results (for jax.nn
too): the points with a subnormal input or a subnormal correctly rounded result are left
out of the bound, and a test below pins that behaviour."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
mpmath = pytest.importorskip("mpmath")

from jax_inputs import x64  # noqa: E402

import actlab  # noqa: E402
import actlab.jax as aj  # noqa: E402
from actlab.audit.measure import BOUNDS, errors_in_ulp, reference_tables  # noqa: E402
from actlab.audit.points import LANDMARKS, audit_points  # noqa: E402

DTYPES = {"float32": np.float32, "float64": np.float64}
ELEMENTWISE = [n for n in actlab.names() if actlab.get(n).elementwise and getattr(actlab.get(n), "family", "") != "defined"]
CASES = [(n, {}) for n in ELEMENTWISE] + [("gelu", {"approximate": "tanh"}), ("softplus", {"beta": 3.0})]
ROOTS = (-1.2784645427610738, -2.3993572805154677, 2.3993572805154677, -0.7517915246935645,
         -0.7524614220710163, -1.4185040087908284, 1.4185040087908284, -1.1924312145154952,
         -2.256376396360793, 1.4905711794854284, math.sqrt(2), -math.sqrt(2))
BOUND = {0: 2.0, 1: 2.0}  # times the core's bound
SECOND_ORDER_BOUND = 16.0


def _id(case: tuple[str, dict[str, Any]]) -> str:
    name, params = case
    return name + "".join(f"[{k}={v}]" for k, v in params.items())


def points(dtype: str) -> np.ndarray:
    dt = DTYPES[dtype]
    near = np.concatenate([np.array(ROOTS) + d for d in (0.0, 1e-9, -1e-6, 1e-4, 0.05)])
    tails = np.array([-34.66, -20.0, -8.39, -5.55, -14.0, -37.0, -90.0, -745.0, 37.0, 19.0, 20.5])
    fi = np.finfo(dt)
    extra = np.clip(np.concatenate([near, tails, np.array(LANDMARKS), -np.array(LANDMARKS)]), -fi.max, fi.max)
    return np.unique(np.concatenate([audit_points(dt, 300), extra.astype(dt)]))


def jax_orders(name: str, params: dict[str, Any], x: np.ndarray) -> list[np.ndarray]:
    fn = aj.get(name, **params)
    first = jax.grad(fn)
    forms = [fn, jax.vmap(first), jax.vmap(jax.grad(first))]
    return [np.asarray(jax.jit(g)(x)) for g in forms]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_jax_within_twice_the_core_bound(case: tuple[str, dict[str, Any]], dtype: str) -> None:
    name, params = case
    x = points(dtype)
    tables = reference_tables(name, params, (0, 1, 2), {dtype: x.astype(np.float64)})[dtype]
    with x64(dtype == "float64"):
        results = jax_orders(name, params, x)
    act = actlab.get(name, **params)
    tiny = np.finfo(x.dtype).smallest_normal
    normal_input = (np.abs(x) >= tiny) | (x == 0)
    for order, ours in enumerate(results):
        assert ours.dtype == x.dtype
        r = tables[order][0]
        keep = normal_input & ((np.abs(r) >= tiny) | (r == 0))
        assert keep.sum() > 0.8 * x.size
        err = np.where(keep, errors_in_ulp(ours, tables[order]), 0.0)
        bound = SECOND_ORDER_BOUND if order == 2 else BOUND[order] * BOUNDS[(order, dtype)]
        if act.exact:  # the core's bits (its slope rounded to the dtype first)
            core = (act, act.derivative, act.second_derivative)[order](x)
            err = np.where(keep & (ours != core), np.inf, 0.0)
        worst = np.argsort(-np.nan_to_num(err, posinf=1e300))[:3]
        assert np.max(err) <= bound, (order, [(x[i], ours[i], err[i]) for i in worst])


def test_xla_flushes_subnormals_to_zero_on_the_cpu() -> None:
    """What the bounds above leave out: a subnormal input reads as 0 and a subnormal
    result is 0 (NumPy and actlab's kernels keep both)."""
    with x64():
        x = np.array([-5e-324, -750.0])
        np.testing.assert_array_equal(np.asarray(aj.step(x)), [1.0, 0.0])  # -5e-324 read as -0
        assert float(actlab.sigmoid(-740.0)) > 0 and float(aj.sigmoid(-740.0)) == 0.0
