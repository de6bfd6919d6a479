"""The modern activations (elu ... glu): kinks, limits, no warnings, the inputs where other
libraries lose digits, and ULP bounds against the 50-digit mpmath references.

The references (``references.py``) are the textbook formulas in mpmath, independent of
the kernels; their derivative formulas are checked here against mpmath's numerical
differentiation.
"""

from __future__ import annotations

import math
import os
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import actlab  # noqa: E402

from actlab.activations import modern as _family  # noqa: E402

mpmath = pytest.importorskip("mpmath")
import references as R  # noqa: E402

DTYPES = (np.float32, np.float64)
FIRST_ORDER_BOUND = {np.float32: 2.0, np.float64: 4.0}
SECOND_ORDER_BOUND = 8.0
PIECEWISE = ("hardtanh", "relu6", "hard_sigmoid", "hard_swish", "prelu")
#: (registry name, params, reference name)
SMOOTH = [
    ("elu", {}), ("elu", {"alpha": 0.3}), ("celu", {}), ("celu", {"alpha": 2.5}),
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("softplus", {}), ("softplus", {"beta": 3.0}), ("log_sigmoid", {}), ("softsign", {}),
]
ELEMENTWISE = ["elu", "celu", "gelu", "silu", "mish", "softplus", "log_sigmoid", "softsign",
               "hardtanh", "relu6", "hard_sigmoid", "hard_swish", "prelu"]


def _id(case: tuple[str, dict]) -> str:
    name, params = case
    return name + "".join(f"[{k}={v}]" for k, v in params.items())


def points(dtype: Any) -> np.ndarray:
    """~700 inputs: ±0, subnormals, every binade to the largest float, a grid where the
    functions bend, the neighbourhoods of the roots of f' and f'', ±inf."""
    fi = np.finfo(dtype)
    rng = np.random.default_rng(11)
    mant = 1.0 + rng.integers(0, 2**fi.nmant, 400) / 2.0**fi.nmant
    every = np.ldexp(mant[:150], rng.integers(fi.minexp, fi.maxexp, 150))
    bend = np.ldexp(mant[150:], rng.integers(-3, 6, 250))
    with np.errstate(under="ignore"):
        sub = (rng.integers(1, 2**fi.nmant, 12) * fi.smallest_subnormal).astype(dtype)
    roots = [-1.2784645427610738, -2.3993572805154677, 2.3993572805154677, -0.7517915246935645,
             -0.7524614220710163, -1.4185040087908284, 1.4185040087908284, -1.1924312145154952,
             -2.256376396360793, 1.4905711794854284, math.sqrt(2), -math.sqrt(2)]
    near = np.concatenate([np.array(roots) + d for d in (0, 1e-9, -1e-9, 1e-4, -0.3, 0.3)])
    positive = np.concatenate([every, bend, [fi.max, fi.smallest_normal, np.inf]]).astype(dtype)
    x = np.concatenate([positive, -positive, sub, -sub, near.astype(dtype), [0.0, -0.0]])
    return x.astype(dtype)


def ulp_errors(name: str, params: dict, order: int, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    act = actlab.get(name, **params)
    x = points(dtype)
    with np.errstate(all="raise"):
        ours = (act, act.derivative, act.second_derivative)[order](x)
    assert ours.dtype == x.dtype
    errs = np.array([R.ulp_error(float(o), R.modern_reference(name, float(v), order, **params), dtype)
                     for v, o in zip(x, ours)])
    return x, errs


def worst(x: np.ndarray, errs: np.ndarray) -> str:
    i = np.argsort(-errs)[:3]
    return "; ".join(f"x={x[j]!r}: {errs[j]:.3g} ULP" for j in i)


# ---------------------------------------------------------------------------- references
@pytest.mark.parametrize("case", SMOOTH, ids=_id)
@pytest.mark.parametrize("x", [-3.7, -1.1, -0.2, 0.4, 1.3, 2.9])
def test_reference_derivatives_match_numerical_differentiation(case: tuple[str, dict], x: float) -> None:
    name, params = case
    ref = R.MODERN[name]
    kwargs = {**ref.params, **params}
    with mpmath.mp.workdps(40):
        for order, fn in ((1, ref.d1), (2, ref.d2)):
            numerical = mpmath.diff(lambda t: ref.f(t, **kwargs), mpmath.mpf(x), order)
            assert abs(fn(mpmath.mpf(x), **kwargs) - numerical) < mpmath.mpf(10) ** -25


# ---------------------------------------------------------------------------- accuracy
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("case", SMOOTH, ids=_id)
def test_forward_and_first_derivative_within_bound(case: tuple[str, dict], order: int, dtype: Any) -> None:
    x, errs = ulp_errors(*case, order, dtype)
    assert errs.max() <= FIRST_ORDER_BOUND[dtype], worst(x, errs)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", SMOOTH, ids=_id)
def test_second_derivative_within_bound_also_at_its_roots(case: tuple[str, dict], dtype: Any) -> None:
    x, errs = ulp_errors(*case, 2, dtype)
    assert errs.max() <= SECOND_ORDER_BOUND, worst(x, errs)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("name", PIECEWISE)
def test_piecewise_linear_correctly_rounded(name: str, order: int, dtype: Any) -> None:
    x, errs = ulp_errors(name, {}, order, dtype)
    # 0.5 ULP, or up to 1 where the exact value lies just above a power of two
    assert errs.max() <= 1.0, worst(x, errs)


# ---------------------------------------------------------------------------- kinks
KINKS = [
    ("hardtanh", -1.0, 1.0), ("hardtanh", 1.0, 0.0), ("relu6", 0.0, 1.0), ("relu6", 6.0, 0.0),
    ("hard_sigmoid", -3.0, 1 / 6), ("hard_sigmoid", 3.0, 0.0), ("hard_swish", -3.0, -0.5),
    ("hard_swish", 3.0, 1.0), ("elu", 0.0, 1.0), ("celu", 0.0, 1.0), ("prelu", 0.0, 1.0),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(("name", "x", "expected"), KINKS)
def test_kink_takes_the_right_hand_derivative(name: str, x: float, expected: float, dtype: Any) -> None:
    act = actlab.get(name)
    assert act.derivative(np.array([x], dtype=dtype))[0] == dtype(expected)
    assert act.derivative(np.array([-0.0 if x == 0 else x], dtype=dtype))[0] == dtype(expected)
    assert any(k.x == x and k.derivative == pytest.approx(expected) for k in act.kinks)


def test_elu_with_alpha_jumps_at_zero_to_one() -> None:
    act = actlab.get("elu", alpha=0.3)
    assert act.derivative(np.array([-1e-300, 0.0]))[1] == 1.0
    assert act.derivative(np.array([-1e-300]))[0] == pytest.approx(0.3)


# ---------------------------------------------------------------------------- limits
LIMITS = {  # (f, f', f'') at -inf and +inf
    "elu": ((-1.0, 0.0, 0.0), (np.inf, 1.0, 0.0)),
    "celu": ((-1.0, 0.0, 0.0), (np.inf, 1.0, 0.0)),
    "gelu": ((-0.0, 0.0, 0.0), (np.inf, 1.0, 0.0)),
    "silu": ((-0.0, 0.0, 0.0), (np.inf, 1.0, 0.0)),
    "mish": ((-0.0, 0.0, 0.0), (np.inf, 1.0, 0.0)),
    "softplus": ((0.0, 0.0, 0.0), (np.inf, 1.0, 0.0)),
    "log_sigmoid": ((-np.inf, 1.0, 0.0), (-0.0, 0.0, 0.0)),
    "softsign": ((-1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
    "hardtanh": ((-1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
    "relu6": ((0.0, 0.0, 0.0), (6.0, 0.0, 0.0)),
    "hard_sigmoid": ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
    "hard_swish": ((-0.0, 0.0, 0.0), (np.inf, 1.0, 0.0)),
    "prelu": ((-np.inf, 0.25, 0.0), (np.inf, 1.0, 0.0)),
}
SIGNED_ZEROS = {("gelu", -1), ("silu", -1), ("mish", -1), ("log_sigmoid", 1)}


LIMIT_VARIANTS = [(n, {}) for n in LIMITS] + [("gelu", {"approximate": "tanh"})]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(("name", "params"), LIMIT_VARIANTS,
                         ids=[n + "".join(f"-{v}" for v in p.values()) for n, p in LIMIT_VARIANTS])
def test_limits_at_infinity(name: str, params: dict[str, Any], dtype: Any) -> None:
    act = actlab.get(name, **params)
    x = np.array([-np.inf, np.inf], dtype=dtype)
    with np.errstate(all="raise"):
        got = [act(x), act.derivative(x), act.second_derivative(x)]
    for side, index in ((-1, 0), (1, 1)):
        for order in range(3):
            expected = LIMITS[name][index][order]
            assert got[order][index] == expected, (name, side, order, got[order][index])
        if (name, side) in SIGNED_ZEROS:
            assert math.copysign(1.0, got[0][index]) == -1.0, "the limit is -0"


# ---------------------------------------------------------------------------- no warnings
SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.0, -1.0, 36.0, -746.0,
           1.7976931348623157e308, -1.7976931348623157e308, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dtype", (np.float16, np.float32, np.float64), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_no_warning_dtype_kept_nan_kept(name: str, dtype: Any) -> None:
    acts = [actlab.get(name)] + ([actlab.get(name, approximate="tanh")] if name == "gelu" else [])
    with np.errstate(over="ignore"):
        x = np.array(SPECIAL, dtype=dtype)
    for act in acts:
        with np.errstate(all="raise"):
            results = [act(x), act.derivative(x), act.second_derivative(x),
                       act.backward(x, np.ones_like(x))]
        for r in results:
            assert r.dtype == x.dtype
            assert np.array_equal(np.isnan(r), np.isnan(x)), (act, r)


# ---------------------------------------------------------------------------- peers' failures
def ulp(name: str, x: float, dtype: Any, order: int = 0, **params: Any) -> float:
    act = actlab.get(name, **params)
    value = (act, act.derivative, act.second_derivative)[order](np.array([x], dtype=dtype))[0]
    return R.ulp_error(float(value), R.modern_reference(name, float(dtype(x)), order, **params), dtype)


def test_gelu_float32_at_minus_5_55_is_not_zero() -> None:
    # 1 + erf(x/√2) cancels to 0 there in float32; x·Φ(x) is -7.93e-8
    value = actlab.get("gelu")(np.float32(-5.55))
    assert value < 0 and ulp("gelu", -5.55, np.float32) <= 2.0


@pytest.mark.parametrize("x", [-8.39, -20.0, -34.66, -37.5])
def test_gelu_lower_tail_keeps_its_digits(x: float) -> None:
    for order in (0, 1, 2):
        assert ulp("gelu", x, np.float64, order) <= 4.0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("x", [5e19, -5e19, 1e30, -1e30])
def test_tanh_gelu_derivatives_at_huge_input(x: float, dtype: Any) -> None:
    act = actlab.get("gelu", approximate="tanh")
    with np.errstate(all="raise", over="ignore"):
        xs = np.array([x], dtype=dtype)
    with np.errstate(all="raise"):
        assert act.derivative(xs)[0] == (1.0 if x > 0 else 0.0)
        assert act.second_derivative(xs)[0] == 0.0


@pytest.mark.parametrize("x", [20.5, 25.0, 30.0, 36.0])
def test_softplus_past_20_is_not_x(x: float) -> None:
    assert ulp("softplus", x, np.float64) <= 4.0
    assert ulp("softplus", x, np.float64, 1) <= 4.0
    assert actlab.get("softplus").derivative(x) < 1.0


@pytest.mark.parametrize(("dtype", "x"), [(np.float32, -17.3), (np.float32, -100.0),
                                          (np.float64, -37.4), (np.float64, -700.0)])
@pytest.mark.parametrize("name", ["elu", "celu"])
def test_elu_derivative_in_the_tail_is_not_zero(name: str, dtype: Any, x: float) -> None:
    assert actlab.get(name).derivative(np.array([x], dtype=dtype))[0] > 0
    assert ulp(name, x, dtype, 1) <= FIRST_ORDER_BOUND[dtype]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ["silu", "mish", "softsign", "hard_swish", "gelu"])
@pytest.mark.parametrize("x", [-15.0, -40.0, -90.0, -700.0, 1e6, -1e6])
def test_gradient_tails(name: str, x: float, dtype: Any) -> None:
    assert ulp(name, x, dtype, 1) <= FIRST_ORDER_BOUND[dtype]


def test_silu_minimum_at_its_closed_form() -> None:
    # silu' vanishes at -1 - W(1/e); the value there is -W(1/e)
    w = mpmath.lambertw(1 / mpmath.e).real
    x0 = float(-1 - w)
    assert abs(actlab.get("silu").derivative(x0)) < 1e-16
    assert actlab.get("silu")(x0) == pytest.approx(float(-w), rel=1e-15)


# ---------------------------------------------------------------------------- prelu
def _parameter_gradient(act: Any, x: Any, g: Any) -> dict[str, Any]:
    return act.parameter_gradient(x, g)


def test_prelu_backward_and_parameter_gradient() -> None:
    rng = np.random.default_rng(3)
    x, g = rng.normal(size=50), rng.normal(size=50)
    act = actlab.get("prelu", a=0.4)
    np.testing.assert_array_equal(act.backward(x, g), g * np.where(x >= 0, 1.0, 0.4))
    expected = math.fsum(gi * xi for gi, xi in zip(g, x) if xi < 0)
    assert _parameter_gradient(act, x, g)["a"] == pytest.approx(expected, rel=1e-13)
    with pytest.raises(ValueError, match="shape"):
        _parameter_gradient(act, x, g[:3])
    with pytest.raises(ValueError, match="no learned parameters"):
        _parameter_gradient(actlab.get("silu"), x, g)
    assert act.parameter_gradient(x.tolist(), g.tolist())["a"] == pytest.approx(expected, rel=1e-13)


def test_prelu_parameter_gradient_matches_a_finite_difference() -> None:
    x = np.array([-2.0, -0.5, 1.0, 3.0])
    g = np.array([0.3, -1.0, 2.0, 0.5])
    h = 1e-6
    loss = lambda a: float(np.sum(g * actlab.get("prelu", a=a)(x)))  # noqa: E731
    numerical = (loss(0.25 + h) - loss(0.25 - h)) / (2 * h)
    assert _parameter_gradient(actlab.get("prelu"), x, g)["a"] == pytest.approx(numerical, rel=1e-8)


# ---------------------------------------------------------------------------- sparsemax
def test_sparsemax_example() -> None:
    np.testing.assert_array_equal(actlab.get("sparsemax")([0.0, 0.5, 1.0]), [0.0, 0.25, 0.75])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_sparsemax_against_the_exact_projection(dtype: Any) -> None:
    rng = np.random.default_rng(5)
    act = actlab.get("sparsemax")
    eps = float(np.finfo(dtype).eps)
    for _ in range(60):
        z = (rng.normal(size=int(rng.integers(2, 7))) * 3).astype(dtype)
        p_ref, j_ref = R.sparsemax_reference([float(v) for v in z])
        with np.errstate(all="raise"):
            p, jac = act(z), act.jacobian(z)
            g = rng.normal(size=z.size).astype(dtype)
            vjp = act.backward(z, g)
        assert p.dtype == z.dtype
        assert max(abs(Fraction(float(a)) - b) for a, b in zip(p, p_ref)) <= 2 * eps
        assert np.array_equal(jac.astype(np.float64) != 0, np.array(j_ref, dtype=float) != 0)
        np.testing.assert_allclose(jac, np.array(j_ref, dtype=float), atol=eps)
        np.testing.assert_allclose(vjp, jac.T @ g, atol=4 * eps * max(1, np.abs(g).max()))


def test_sparsemax_infinite_and_nan_slices() -> None:
    x = np.array([[np.inf, np.inf, 1.0], [-np.inf, 0.0, 0.0], [np.nan, 0.0, 1.0],
                  [-np.inf, -np.inf, -np.inf]])
    with np.errstate(all="raise"):
        p = actlab.get("sparsemax")(x)
        grad = actlab.get("sparsemax").backward(x, np.ones_like(x))
    np.testing.assert_array_equal(p[0], [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(p[1], [0.0, 0.5, 0.5])
    assert np.isnan(p[2]).all() and np.isnan(grad[2]).all()
    np.testing.assert_allclose(p[3], [1 / 3] * 3)
    assert not np.isnan(grad[[0, 1, 3]]).any()


def test_sparsemax_along_axis_0() -> None:
    x = np.array([[0.0, 3.0], [0.5, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(actlab.get("sparsemax", axis=0)(x)[:, 0], [0.0, 0.25, 0.75])


# ---------------------------------------------------------------------------- glu
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_glu_forward_jacobian_backward(dtype: Any) -> None:
    bound = FIRST_ORDER_BOUND[dtype]
    big = float(np.finfo(dtype).max) / 4
    a = np.array([2.0, -3.0, big, 1e-30, 0.7, -5.0], dtype=dtype)
    b = np.array([0.5, -40.0, -80.0, 30.0, 700.0 if dtype == np.float64 else 80.0, -740.0 if dtype == np.float64 else -100.0], dtype=dtype)
    x = np.concatenate([a, b])
    act = actlab.get("glu")
    with np.errstate(all="raise"):
        y, jac, grad = act(x), act.jacobian(x), act.backward(x, np.ones(6, dtype=dtype))
    y_ref, j_ref = R.glu_reference([float(v) for v in x])
    for i in range(6):
        assert R.ulp_error(float(y[i]), y_ref[i], dtype) <= bound
        for j in range(12):
            assert R.ulp_error(float(jac[i, j]), j_ref[i][j], dtype) <= bound
        assert R.ulp_error(float(grad[i]), j_ref[i][i], dtype) <= bound
        assert R.ulp_error(float(grad[6 + i]), j_ref[i][6 + i], dtype) <= bound


def test_glu_needs_an_even_axis() -> None:
    with pytest.raises(ValueError, match="odd length 3"):
        actlab.get("glu")([1.0, 2.0, 3.0])


@pytest.mark.parametrize("x", [2.4756924866693075, -5.36606733644868, 1.6431841854039864,
                               -2.1291145263190714])
def test_mish_second_derivative_where_its_roundings_added_up(x: float) -> None:
    """Plain doubles and a root patch of radius 1 put mish'' at 8.53 ULP at x = 2.4757 and
    7.68 at x = -5.366 (bound 8); the factors are now formed in hi + lo."""
    assert ulp("mish", x, np.float64, order=2) <= 4.0
