"""softmax and log_softmax backward against the exact vector-Jacobian product (mpmath).

The exact VJP of x (exact as floats) and g, to 50 digits:
  softmax:      v_i = y_i (g_i - Σ_j g_j y_j),      y = softmax(x)
  log_softmax:  v_i = g_i - y_i Σ_j g_j
The error of each entry is measured in units of
  u_i = max(ulp(v_i), eps · c_i),
where eps is the dtype's machine epsilon and c_i the entry's condition scale: the size of
the terms it is made of, |v_i| when nothing cancels,
  softmax:      c_i = y_i (|g_i| + Σ_j |g_j| y_j), and for the largest y_k
                c_k = y_k Σ_{j≠k} |g_k - g_j| y_j
  log_softmax:  c_i = |g_i| + y_i Σ_j |g_j|, and for the largest y_k
                c_k = |g_k| Σ_{j≠k} y_j + y_k |Σ_{j≠k} g_j|  (its computed form)
so that an entry that is a large cancellation (g_i close to Σ g y) is held to eps times
its terms, and every other entry to ULPs of itself.  The bound (docs/numerics.md):
  err_i <= BOUND[dtype] + SPREAD[dtype] · (max x - min x over the row's finite entries),
the second part from the forward's e^{x_j - max}, whose argument is rounded in float64
(float32 rows are computed in float64, where the difference is exact).  The exact VJP
is computed with 50 digits more than the e^{-spread} that 1 - y_k can be.
Rows: random, and near-one-hot with spreads up to ±700, in float32 and float64; both the
compiled and the NumPy kernels, with the saved output given or not.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import pytest
from mpmath import mp

import actlab
from actlab.activations import _fast

DPS = 50
DTYPES = (np.float32, np.float64)
BOUND = {np.float32: 3.0, np.float64: 4.0}
#: per unit of the row's spread: the error of e^{x_j - max} from rounding x_j - max
SPREAD = {np.float32: 0.0, np.float64: 1.0}


def exact_vjp(name: str, x: np.ndarray, g: np.ndarray) -> tuple[list[Any], list[Any]]:
    """(v, c): the exact VJP of one row and each entry's condition scale, as mpf."""
    # 50 digits in every entry: y_k = 1 - (about e^{-spread}) needs spread/ln 10 more
    spread = float(np.max(x)) - float(np.min(x))
    with mp.workdps(DPS + int(spread / math.log(10)) + 10):
        xm = [mpmath.mpf(float(v)) for v in x]
        gm = [mpmath.mpf(float(v)) for v in g]
        top = max(xm)
        e = [mpmath.exp(v - top) for v in xm]
        total = mpmath.fsum(e)
        y = [v / total for v in e]
        k = max(range(len(y)), key=lambda j: (y[j], -j))
        if name == "softmax":
            inner = mpmath.fsum(a * b for a, b in zip(gm, y))
            v = [yi * (gi - inner) for yi, gi in zip(y, gm)]
            size = mpmath.fsum(abs(a) * b for a, b in zip(gm, y))
            c = [yi * (abs(gi) + size) for yi, gi in zip(y, gm)]
            c[k] = y[k] * mpmath.fsum((abs(gm[k]) + abs(gm[j])) * y[j]
                                      for j in range(len(y)) if j != k)
        else:
            total_g = mpmath.fsum(gm)
            v = [gi - yi * total_g for yi, gi in zip(y, gm)]
            size = mpmath.fsum(abs(a) for a in gm)
            c = [abs(gi) + yi * size for yi, gi in zip(y, gm)]
            others_y = mpmath.fsum(y[j] for j in range(len(y)) if j != k)
            others_g = mpmath.fsum(abs(gm[j]) for j in range(len(y)) if j != k)
            c[k] = abs(gm[k]) * others_y + y[k] * others_g
    return v, c


def errors(name: str, x: np.ndarray, g: np.ndarray, ours: np.ndarray) -> np.ndarray:
    """err_i / allowance_i for every entry (<= 1 is within the bound)."""
    dtype = x.dtype.type
    fi = np.finfo(dtype)
    out = np.zeros(x.shape)
    for r in range(x.shape[0]):
        v, c = exact_vjp(name, x[r], g[r])
        finite = x[r][np.isfinite(x[r])]
        spread = float(np.max(finite)) - float(np.min(finite)) if finite.size else 0.0
        for i in range(x.shape[1]):
            with mp.workdps(DPS):
                vi = v[i]
                a = abs(np.array(float(vi), dtype=dtype))
                ulp = float(np.spacing(a)) if a != 0 else float(fi.smallest_subnormal)
                unit = max(mpmath.mpf(ulp), mpmath.mpf(float(fi.eps)) * c[i],
                           mpmath.mpf(float(fi.smallest_subnormal)))
                err = float(abs(mpmath.mpf(float(ours[r, i])) - vi) / unit)
            allowance = BOUND[dtype] + SPREAD[dtype] * spread
            out[r, i] = err / allowance if math.isfinite(float(ours[r, i])) else math.inf
    return out


def rows(dtype: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng({"random": 1, "one-hot": 2}[kind])
    if kind == "random":
        x = rng.standard_normal((40, 7)) * rng.choice([0.1, 1.0, 5.0, 30.0], (40, 1))
        g = rng.standard_normal((40, 7))
    else:
        spreads = [20.0, 50.0, 88.0, 104.0, 200.0, 300.0, 700.0]
        if dtype == np.float32:
            spreads = spreads[:5] + [88.0, 60.0]
        n = 6
        x = rng.standard_normal((len(spreads) * 4, n))
        for i, s in enumerate(np.repeat(spreads, 4)):
            x[i, 0] = s  # one entry far above the others
            x[i, 1] = -s
        x = rng.permuted(x, axis=1)
        g = rng.standard_normal(x.shape)
        g[::4] = np.round(g[::4], 1)
        # a grad on the largest entry far above the others'
        top = x[1::4] == np.max(x[1::4], axis=1, keepdims=True)
        g[1::4] = np.where(top, g[1::4], g[1::4] * 1e-6)
    return x.astype(dtype), g.astype(dtype)


def backward_paths(act: Any, x: np.ndarray, g: np.ndarray) -> dict[str, np.ndarray]:
    results = {}
    with _fast.numpy_only():
        results["numpy"] = act.backward(x, g)
        results["numpy, y given"] = act.backward(x, g, y=act(x))
    results["dispatched"] = act.backward(x, g)
    results["dispatched, y given"] = act.backward(x, g, y=act(x))
    return results


@pytest.mark.parametrize("kind", ("random", "one-hot"))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ("softmax", "log_softmax"))
def test_backward_within_the_bound(name: str, dtype: Any, kind: str) -> None:
    act = actlab.get(name)
    x, g = rows(dtype, kind)
    for path, ours in backward_paths(act, x, g).items():
        err = errors(name, x, g, ours)
        worst = np.unravel_index(int(np.argmax(err)), err.shape)
        assert err[worst] <= 1.0, (path, x[worst[0]], g[worst[0]], ours[worst[0]], err[worst])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_the_dominant_entry_keeps_its_gradient(dtype: Any) -> None:
    """x = [88, -88, 0], g = [0.3, -1.2, 0.7]: the exact first entry is -2.42e-39."""
    x = np.array([[88.0, -88.0, 0.0]], dtype=dtype)
    g = np.array([[0.3, -1.2, 0.7]], dtype=dtype)
    sm = actlab.get("softmax")
    for path, ours in backward_paths(sm, x, g).items():
        v, _ = exact_vjp("softmax", x[0], g[0])
        assert float(ours[0, 0]) != 0.0, path
        assert abs(float(ours[0, 0]) / float(v[0]) - 1) < 1e-6, (path, ours, v)
        # the gradient of a shift-invariant function sums to 0 (to the entries' rounding)
        assert abs(float(np.sum(ours[0].astype(np.float64)))) <= 1e-6 * abs(float(v[0])), path


def test_compiled_and_numpy_give_the_same_bits_from_the_saved_output() -> None:
    sm = actlab.get("softmax")
    for dtype in DTYPES:
        for kind in ("random", "one-hot"):
            x, g = rows(dtype, kind)
            y = sm(x)
            with _fast.numpy_only():
                ref = sm.backward(x, g, y=y)
            assert sm.backward(x, g, y=y).tobytes() == ref.tobytes(), (dtype, kind)
