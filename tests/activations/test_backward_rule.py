"""The backward rule of the elementwise activations, on every path.

``backward(x, g)`` is g·f'(x) rounded once to the result's dtype.  So it is ±inf where g is
±inf and f'(x) != 0 mathematically (with the product's sign) (also where f'(x) is too small for the working precision,
as the sigmoid's at x = 1000), NaN where g is ±inf and f'(x) is exactly 0 (the sigmoid's at
x = ±inf), NaN where g or x is NaN, and the rounded product otherwise, also where a huge g
meets a tiny f'(x).  The same on the NumPy kernels, the compiled ones (AVX2 and baseline),
with the saved output given or not, in float32 and float64.  References: f'(x) from mpmath
(50 digits), the product rounded to the dtype.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from typing import Any

import mpmath
import numpy as np
import pytest
from mpmath import mp

import actlab
from actlab.activations import _fast
from references import DPS, reference, round_to

DTYPES = (np.float32, np.float64)
#: Bound in ULP of the result against g·f'(x) rounded once (test_accuracy.py's bound for f').
BOUND = {np.float32: 2.0, np.float64: 4.0}

ELEMENTWISE = [n for n in actlab.names() if actlab.get(n).elementwise]
VARIANTS = [(n, {}) for n in ELEMENTWISE] + [("leaky_relu", {"slope": 0.0}),
                                              ("leaky_relu", {"slope": 1.0})]
#: The variants with a compiled kernel.
COMPILED = [v for v in VARIANTS if actlab.get(v[0]).fast is not None]


def variant_id(v: Any) -> str:
    name, params = v
    return name + "".join(f"-{k}={w}" for k, w in params.items())


def derivative_exact(name: str, params: dict[str, Any], x: float, dtype: Any) -> Any:
    """f'(x) to 50 digits, the limit at ±inf; None for NaN."""
    if math.isnan(x):
        return None
    if name == "leaky_relu":  # the slope is rounded to x's dtype first
        params = {"slope": float(dtype(params.get("slope", 0.1)))}
    return reference(name, x, **params)[1]


def grid(dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """x in {±inf, huge, tails, 0, ordinary, NaN} crossed with g in {±inf, NaN, huge,
    ordinary, 0}."""
    fi = np.finfo(dtype)
    big = [float(fi.max), 1e300, 1e200, 1e155, 1e30, 3e38, 1e20, 3000.0, 1000.0, 800.0,
           745.5, 720.0, 709.0, 400.0, 360.0, 354.0, 200.0, 104.0, 88.0, 30.0]
    xs = [math.inf, -math.inf, math.nan, 0.0, -0.0, 0.5, -0.5, 2.0, -2.0, 1e-30,
          float(fi.tiny), -float(fi.smallest_subnormal)]
    xs += [s * v for v in big if v <= float(fi.max) for s in (1, -1)]
    gs = [math.inf, -math.inf, math.nan, float(fi.max), -float(fi.max), float(fi.max) / 3,
          -1e30, 1e20, 1.0, -0.3, 0.0]
    x, g = np.meshgrid(np.array(xs), np.array(gs))
    return x.ravel().astype(dtype), g.ravel().astype(dtype)


def expected(name: str, params: dict[str, Any], x: np.ndarray, g: np.ndarray,
             dtype: Any) -> tuple[np.ndarray, list[Any]]:
    """(the rounded reference, the exact products; None where the result is NaN)."""
    ref, exact = [], []
    for xv, gv in zip(x.tolist(), g.tolist()):
        d = derivative_exact(name, params, xv, dtype)
        if d is None or math.isnan(gv) or (math.isinf(gv) and d == 0):
            ref.append(math.nan)
            exact.append(None)
        elif math.isinf(gv):
            ref.append(gv if d > 0 else -gv)
            exact.append(None)
        else:
            with mp.workdps(DPS):
                p = d * mpmath.mpf(gv)
            ref.append(round_to(p, dtype))
            exact.append(p)
    return np.array(ref, dtype=dtype), exact


def ulp_error(ours: np.ndarray, ref: np.ndarray, exact: list[Any], dtype: Any) -> np.ndarray:
    """|ours - exact| in ULP of the rounded reference (the smallest subnormal at 0)."""
    err = np.zeros(ours.size)
    tiny = float(np.finfo(dtype).smallest_subnormal)
    for i, (o, r, p) in enumerate(zip(ours.tolist(), ref.tolist(), exact)):
        if p is None or not math.isfinite(r):
            continue
        if not math.isfinite(o):
            err[i] = math.inf
            continue
        a = abs(np.array(r, dtype=dtype))
        gap = float(a - np.nextafter(a, np.zeros_like(a))) if a != 0 else tiny
        with mp.workdps(DPS):
            err[i] = float(abs(mpmath.mpf(o) - p) / mpmath.mpf(gap))
    return err


def pattern(a: np.ndarray) -> np.ndarray:
    """-2 NaN, -1 -inf, 1 +inf, 0 finite."""
    return np.where(np.isnan(a), -2, np.where(np.isposinf(a), 1, np.where(np.isneginf(a), -1, 0)))


def paths(act: Any, x: np.ndarray, g: np.ndarray) -> dict[str, np.ndarray]:
    results = {}
    with np.errstate(all="raise"):
        with _fast.numpy_only():
            results["numpy"] = act.backward(x, g)
            results["numpy, y given"] = act.backward(x, g, y=act(x))
        if _fast.available():
            results["compiled"] = act.backward(x, g)
            results["compiled, y given"] = act.backward(x, g, y=act(x))
            strided = np.zeros(2 * x.size, x.dtype)
            strided[::2] = x
            results["compiled, strided"] = act.backward(strided[::2], g)
    return results


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_backward_is_the_product_rounded_once_on_every_path(variant: Any, dtype: Any) -> None:
    name, params = variant
    act = actlab.get(name, **params)
    x, g = grid(dtype)
    ref, exact = expected(name, params, x, g, dtype)
    for path, ours in paths(act, x, g).items():
        assert ours.dtype == dtype and ours.shape == x.shape
        wrong = pattern(ours) != pattern(ref)
        assert not wrong.any(), (path, x[wrong][:6], g[wrong][:6], ours[wrong][:6], ref[wrong][:6])
        err = ulp_error(ours, ref, exact, dtype)
        worst = int(np.argmax(err))
        assert err[worst] <= BOUND[dtype], (path, x[worst], g[worst], ours[worst], ref[worst],
                                            err[worst])
        if act.exact:  # the exact functions: the correctly rounded product itself
            finite = np.isfinite(ref)
            assert np.array_equal(ours[finite], ref[finite]), path


def test_the_reported_case() -> None:
    x = np.array([np.inf, 1000.0], np.float32)
    g = np.full(2, np.inf, np.float32)
    sig = actlab.get("sigmoid")
    with _fast.numpy_only():
        numpy = sig.backward(x, g)
    compiled = sig.backward(x, g)
    for r in (numpy, compiled):
        assert np.isnan(r[0]) and r[1] == np.inf, r


_BASELINE = r"""
import sys
import numpy as np
import actlab
from actlab.activations import _fast
sys.path.insert(0, sys.argv[1])
from test_backward_rule import COMPILED, DTYPES, grid, variant_id
results = {}
names = list(_fast.KERNELS.kernel_names())
for variant in COMPILED:
    act = actlab.get(variant[0], **variant[1])
    for dtype in DTYPES:
        x, g = grid(dtype)
        key = f"{variant_id(variant)}:{dtype.__name__}"
        results[key] = act.backward(x, g)  # as dispatched (NumPy where no fast fma)
        out = np.empty_like(x)
        prm = float(variant[1].get("slope", 0.1 if variant[0] == "leaky_relu" else 0.0))
        assert _fast.KERNELS.elementwise(names.index(act.fast), 2, x, g, out, None, prm, 1)
        results[key + ":kernel"] = out
np.savez(sys.argv[2], **results)
"""


@pytest.mark.skipif(not _fast.available() or _fast.KERNELS.isa == "baseline",
                    reason="needs the AVX2 kernels to compare the baseline ones with")
def test_baseline_kernels_follow_the_rule_with_the_same_bits(tmp_path: Any) -> None:
    """ACTLAB_NO_AVX2=1: the baseline kernels give the AVX2 kernels' bits (but for a NaN's
    sign, which carries nothing), and what that process dispatches to follows the rule."""
    env = {**os.environ, "ACTLAB_NO_AVX2": "1"}
    subprocess.run([sys.executable, "-c", _BASELINE, os.path.dirname(__file__),
                    str(tmp_path / "out.npz")], env=env, check=True, timeout=120)
    baseline = np.load(tmp_path / "out.npz", allow_pickle=False)
    names = list(_fast.KERNELS.kernel_names())
    for variant in COMPILED:
        name, params = variant
        act = actlab.get(name, **params)
        for dtype in DTYPES:
            x, g = grid(dtype)
            key = f"{variant_id(variant)}:{dtype.__name__}"
            ours = np.empty_like(x)
            prm = float(params.get("slope", 0.1 if name == "leaky_relu" else 0.0))
            assert _fast.KERNELS.elementwise(names.index(act.fast), 2, x, g, ours, None, prm, 1)
            theirs = baseline[key + ":kernel"]
            nan = np.isnan(ours)
            assert np.array_equal(nan, np.isnan(theirs)), key
            assert ours[~nan].tobytes() == theirs[~nan].tobytes(), key
            ref, exact = expected(name, params, x, g, dtype)
            dispatched = baseline[key]
            assert np.array_equal(pattern(dispatched), pattern(ref)), key
            assert ulp_error(dispatched, ref, exact, dtype).max() <= BOUND[dtype], key
