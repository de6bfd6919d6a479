"""The portable forms of the vector built-ins, run with NumPy's array namespace: values
against mpmath (softmax, log_softmax, glu) or the exact rational projection (sparsemax);
the JVP and the VJP against the exact Jacobian times the vector; the ±inf and NaN slices;
the refusals of bad axes and shapes."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from actlab import portable

mpmath = pytest.importorskip("mpmath")
array_api_compat = pytest.importorskip("array_api_compat")

from actlab.audit.references import glu_reference, round_to, sparsemax_reference  # noqa: E402

XP = array_api_compat.array_namespace(np.ones(1))
DTYPES = [np.float32, np.float64]
#: Twice the core's bounds for values: 4 ULP (float32), 8 (float64).
VALUE_BOUND = {np.float32: 4.0, np.float64: 8.0}
mp = mpmath.mp


def rows(dtype: Any) -> np.ndarray:
    rng = np.random.default_rng(7)
    r = rng.standard_normal((6, 6)) * 4
    r[0] = [20.0, -20.0, 1.0, 2.0, 3.0, 4.0]  # a dominant entry: log_softmax's log1p
    r[1] = [40.0, 0.0, -3.0, 0.5, 1e-3, -700.0]
    r[2] = [-745.0, 0.0, 0.0, 1e-300, -1e-300, 3.0]
    return r.astype(dtype)


def exact_softmax(row: np.ndarray) -> tuple[list[Any], list[Any], list[list[Any]]]:
    """softmax, log_softmax and the softmax Jacobian s_i(δ_ij - s_j) at 50 digits."""
    with mp.workdps(60):
        x = [mpmath.mpf(float(v)) for v in row]
        m = max(x)
        total = mpmath.fsum(mpmath.exp(v - m) for v in x)
        s = [mpmath.exp(v - m) / total for v in x]
        log_s = [v - m - mpmath.log(total) for v in x]
        jac = [[s[i] * ((i == j) - s[j]) for j in range(len(x))] for i in range(len(x))]
        return s, log_s, jac


def ulp_error(ours: np.ndarray, exact: list[Any]) -> np.ndarray:
    dtype = ours.dtype.type
    out = []
    for o, e in zip(ours, exact):
        r = round_to(e, dtype)
        ulp = float(np.spacing(dtype(abs(r)))) if r != 0 else float(np.finfo(dtype).smallest_subnormal)
        with mp.workdps(60):
            out.append(float(abs(mpmath.mpf(float(o)) - e) / ulp))
    return np.array(out)


def product_error(ours: np.ndarray, jac: list[list[Any]], v: np.ndarray, *, transpose: bool) -> float:
    """max_i |ours_i - (J·v)_i| / (eps · Σ_j |J_ij v_j|): the error relative to the
    size of the terms (1 is the rounding of the sum's terms themselves)."""
    eps = float(np.finfo(ours.dtype).eps)
    worst = 0.0
    with mp.workdps(60):
        for i in range(len(ours)):
            terms = [(jac[j][i] if transpose else jac[i][j]) * mpmath.mpf(float(v[j])) for j in range(len(v))]
            exact = mpmath.fsum(terms)
            scale = mpmath.fsum(abs(t) for t in terms)
            tiny = mpmath.mpf(float(np.finfo(ours.dtype).smallest_normal))
            worst = max(worst, float(abs(mpmath.mpf(float(ours[i])) - exact) / (eps * scale + tiny)))
    return worst


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_softmax_and_log_softmax_values_within_twice_the_bound(dtype: Any) -> None:
    x = rows(dtype)
    s = portable.form("softmax").f(XP, x, axis=-1)
    log_s = portable.form("log_softmax").f(XP, x, axis=-1)
    assert s.dtype == x.dtype and log_s.dtype == x.dtype
    for i, row in enumerate(x):
        exact_s, exact_log, _ = exact_softmax(row)
        assert ulp_error(s[i], exact_s).max() <= VALUE_BOUND[dtype], (row, s[i])
        assert ulp_error(log_s[i], exact_log).max() <= VALUE_BOUND[dtype], (row, log_s[i])
    if dtype is np.float64:  # log Σe^z = log1p(rest) keeps the digits of the first entry
        assert float(log_s[0, 0]) != 0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_jvp_and_vjp_against_the_exact_jacobian(name: str, dtype: Any) -> None:
    x = rows(dtype)
    rng = np.random.default_rng(8)
    v = rng.standard_normal(x.shape).astype(dtype)
    form = portable.form(name)
    jvp, vjp = form.jvp(XP, x, v, axis=-1), form.vjp(XP, x, v, axis=-1)
    for i, row in enumerate(x):
        _, _, jac = exact_softmax(row)
        if name == "log_softmax":  # ∂ log s_i/∂x_j = δ_ij - s_j
            s = exact_softmax(row)[0]
            jac = [[(i2 == j) - s[j] for j in range(len(row))] for i2 in range(len(row))]
        assert product_error(jvp[i], jac, v[i], transpose=False) <= 8, (name, row)
        assert product_error(vjp[i], jac, v[i], transpose=True) <= 8, (name, row)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_sparsemax_against_the_exact_projection(dtype: Any) -> None:
    x = rows(dtype)
    form = portable.form("sparsemax")
    p = form.f(XP, x, axis=-1)
    rng = np.random.default_rng(9)
    v = rng.standard_normal(x.shape).astype(dtype)
    jvp, vjp = form.jvp(XP, x, v, axis=-1), form.vjp(XP, x, v, axis=-1)
    eps = float(np.finfo(dtype).eps)
    for i, row in enumerate(x):
        exact_p, jac = sparsemax_reference([float(r) for r in row])
        assert np.all(np.abs(p[i] - np.array([float(e) for e in exact_p])) <= 8 * eps * max(1.0, float(np.max(np.abs(row)))))
        assert [bool(e > 0) for e in exact_p] == list(p[i] > 0)
        exact_jvp = [float(sum(jac[a][b] * Fraction(float(v[i, b])) for b in range(len(row)))) for a in range(len(row))]
        np.testing.assert_allclose(jvp[i], exact_jvp, rtol=8 * eps, atol=8 * eps)
        np.testing.assert_allclose(vjp[i], exact_jvp, rtol=8 * eps, atol=8 * eps)  # J is symmetric


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_glu_values_jvp_and_vjp_against_mpmath(dtype: Any) -> None:
    x = rows(dtype)
    x[3, :3] = [1e30 if dtype is np.float64 else 1e20, -2.0, 3.0]
    x[3, 3:] = [-80.0, -745.0 if dtype is np.float64 else -100.0, 0.0]
    form = portable.form("glu")
    y = form.f(XP, x, axis=-1)
    rng = np.random.default_rng(10)
    t = rng.standard_normal(x.shape).astype(dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    jvp, vjp = form.jvp(XP, x, t, axis=-1), form.vjp(XP, x, g, axis=-1)
    for i, row in enumerate(x):
        exact, jac = glu_reference([float(r) for r in row])
        assert ulp_error(y[i], exact).max() <= VALUE_BOUND[dtype], (row, y[i])
        assert product_error(jvp[i], jac, t[i], transpose=False) <= 8
        assert product_error(vjp[i], jac, g[i], transpose=True) <= 8


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_maxout_values_jvp_and_vjp(dtype: Any) -> None:
    x = np.array([[1.0, 5.0, -2.0, -2.0, 3.0, np.nan], [0.0, -0.0, np.inf, 1.0, -np.inf, -np.inf]], dtype=dtype)
    form = portable.form("maxout")
    np.testing.assert_array_equal(form.f(XP, x, pieces=2, axis=-1), [[5.0, -2.0, np.nan], [0.0, np.inf, -np.inf]])
    t = np.arange(1.0, 13.0, dtype=dtype).reshape(2, 6)
    # each group's first maximum takes the tangent; a group with NaN gives NaN
    np.testing.assert_array_equal(form.jvp(XP, x, t, pieces=2, axis=-1), [[2.0, 3.0, np.nan], [7.0, 9.0, 11.0]])
    g = np.array([[10.0, 20.0, 30.0], [1.0, 2.0, 3.0]], dtype=dtype)
    np.testing.assert_array_equal(form.vjp(XP, x, g, pieces=2, axis=-1),
                                  [[0.0, 10.0, 20.0, 0.0, np.nan, np.nan], [1.0, 0.0, 2.0, 0.0, 3.0, 0.0]])
    np.testing.assert_array_equal(form.f(XP, x.T, pieces=3, axis=0), np.max(x.T.reshape(2, 3, 2), axis=1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax"])
def test_infinite_and_nan_slices(name: str) -> None:
    x = np.array([[np.inf, 1.0, np.inf], [-np.inf, -np.inf, -np.inf], [1.0, np.nan, 2.0], [-1e308, 1e308, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ours = portable.form(name).f(XP, x, axis=-1)
    expected = {
        "softmax": [[0.5, 0.0, 0.5], [1 / 3] * 3, [np.nan] * 3, [0.0, 1.0, 0.0]],
        "log_softmax": [[-np.log(2), -np.inf, -np.log(2)], [-np.log(3)] * 3, [np.nan] * 3, [-np.inf, 0.0, -1e308]],
        "sparsemax": [[0.5, 0.0, 0.5], [1 / 3] * 3, [np.nan] * 3, [0.0, 1.0, 0.0]],
    }[name]
    np.testing.assert_allclose(ours, expected, rtol=1e-15)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax", "maxout", "glu"])
def test_along_another_axis_is_the_moved_last_axis(name: str) -> None:
    x = np.random.default_rng(11).standard_normal((4, 3, 6))
    p = {"pieces": 2} if name == "maxout" else {}
    form = portable.form(name)
    moved = np.moveaxis(x, 1, -1)[..., :2] if name in ("glu", "maxout") else np.moveaxis(x, 1, -1)
    x1 = np.moveaxis(moved, -1, 1)
    along = form.f(XP, x1, axis=1, **p)
    np.testing.assert_array_equal(np.moveaxis(along, 1, -1), form.f(XP, np.ascontiguousarray(moved), axis=-1, **p))


@pytest.mark.parametrize("call,message", [
    (lambda: portable.form("softmax").f(XP, np.float64(1.0), axis=-1), "softmax needs at least 1 dimension"),
    (lambda: portable.form("softmax").f(XP, np.ones((2, 3)), axis=2), "softmax: axis 2 is out of bounds for an array of dimension 2"),
    (lambda: portable.form("glu").f(XP, np.ones(3), axis=-1), "glu: the axis has odd length 3"),
    (lambda: portable.form("maxout").f(XP, np.ones(5), pieces=2, axis=-1), "maxout: pieces=2 does not divide the axis of length 5"),
    (lambda: portable.form("maxout").vjp(XP, np.ones(4), np.ones(3), pieces=2, axis=-1), "maxout: grad has shape (3,), expected (2,)"),
    (lambda: portable.form("glu").vjp(XP, np.ones(4), np.ones(3), axis=-1), "glu: grad has shape (3,), expected (2,)"),
])
def test_bad_axes_and_shapes_are_named_value_errors(call: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax", "maxout", "glu"])
def test_dtype_kept_and_no_warning(name: str, dtype: Any) -> None:
    x = np.array([[0.0, -0.0, 1.0, -1.0], [np.inf, -np.inf, np.nan, 2.0], [-7e4, 6e4, 1e-30, -1e-30]], dtype=np.float64)
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    p = {"pieces": 2} if name == "maxout" else {}
    form = portable.form(name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = form.f(XP, x, axis=-1, **p)
        results = [y, form.jvp(XP, x, np.ones_like(x), axis=-1, **p), form.vjp(XP, x, np.ones_like(y), axis=-1, **p)]
    assert all(r.dtype == x.dtype for r in results)
