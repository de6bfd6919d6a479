"""Accuracy against a 50-digit mpmath reference, in ULP of the output dtype.

For every elementwise function, order of derivative (0, 1, 2) and dtype (float32, float64)
the points span ±0, subnormals, tiny normals, a dense grid of |x| < 40, large values up to
the largest finite float, and ±inf; in float64 they add, per function, the points of
|x| in [1, 40] where a screen of a large random sample finds the largest errors.  The reference is the exact value computed by mpmath at
50 digits (or a closed form for the exact functions), rounded correctly to the dtype here,
never a peer library.

The error of a result ``v`` against the exact value ``ref`` is |v - ref| / ulp, where ulp is
the gap between the correctly rounded reference r and its neighbour toward zero (np.spacing
of that neighbour; the smallest subnormal when r is 0).  That gap is the usual ULP of r,
except at a power of two, where it is the smaller of the two gaps (the stricter choice),
and it stays finite at the largest float.  A correctly rounded result scores at most 0.5,
or up to 1 where the exact value lies just above a power of two and rounds down to it.

Run ``python tests/activations/test_accuracy.py`` to print the worst errors measured
(the table in docs/accuracy.md).
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Any

import numpy as np
import pytest

import actlab

mpmath = pytest.importorskip("mpmath")
import references  # noqa: E402
from references import DPS, reference, round_to  # noqa: E402
mp = mpmath.mp

DTYPES = (np.float32, np.float64)
#: Bounds in ULP of the output dtype, for the forward and the first derivative.
FIRST_ORDER_BOUND = {np.float32: 2.0, np.float64: 4.0}
SECOND_ORDER_BOUND = 8.0

#: Every elementwise activation: the exact ones must be bit-equal to the reference, the
#: others are measured in ULP against mpmath.
ELEMENTWISE = [n for n in actlab.names() if actlab.get(n).elementwise]
EXACT = tuple(n for n in ELEMENTWISE if actlab.get(n).exact)
SMOOTH = tuple(n for n in ELEMENTWISE if not actlab.get(n).exact)


def test_every_elementwise_activation_has_a_reference() -> None:
    """A registered function without an mpmath reference would escape every accuracy test."""
    absent = references.missing(ELEMENTWISE)
    assert not absent, f"no mpmath reference in actlab/audit/references.py for: {', '.join(absent)}"


_THROWAWAY = """
import sys, pytest
import actlab
from actlab.activations._registry import activation

@activation("throwaway_fn", formula="f(x) = x", plain_formula="x", derivative_formula="1",
            output_range=(-1.0, 1.0), monotonic=True, zero_centered=True, max_derivative=1.0,
            use=("hidden layer",), problems=(), reference="none", summary="a test double")
def throwaway(x):
    return x

sys.exit(pytest.main([sys.argv[1], "-q", "-p", "no:cacheprovider", "-k", "has_a_reference"]))
"""


def test_a_function_registered_without_a_reference_fails_the_suite_by_name() -> None:
    """Register a throwaway activation in a fresh process: the reference check must fail
    and name it."""
    import subprocess
    import sys
    from pathlib import Path

    run = subprocess.run([sys.executable, "-c", _THROWAWAY, str(Path(__file__))], capture_output=True,
                         text=True, timeout=300, cwd=Path(__file__).parent)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no mpmath reference in actlab/audit/references.py for: throwaway_fn" in run.stdout




def ulp_below(r: np.ndarray) -> np.ndarray:
    """The gap between |r| and the next float toward zero (smallest subnormal at 0)."""
    a = np.abs(r)
    gap = a - np.nextafter(a, np.zeros_like(a))
    return np.where(a == 0, np.finfo(r.dtype).smallest_subnormal, gap)


def rounded(exact: list[Any], dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(r, ulp, residual): the correctly rounded reference, its ULP, and (exact - r)/ulp.

    The residual is below 0.5 by construction, but kept so that the error is measured
    against the exact value, not against the rounded one.
    """
    r = np.array([round_to(v, dtype) for v in exact], dtype=dtype)
    ulp = ulp_below(r)
    with mp.workdps(DPS):
        residual = np.array(
            [float((v - mpmath.mpf(float(ri))) / mpmath.mpf(float(u))) if math.isfinite(ri)
             else 0.0 for v, ri, u in zip(exact, r, ulp)]
        )
    return r, ulp, residual


def errors_against(ours: np.ndarray, r: np.ndarray, ulp: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """Error in ULP per point.  Where the rounded reference is ±inf the result must be
    that infinity (error 0, else inf); a non-finite result against a finite reference is
    an infinite error."""
    finite = np.isfinite(r)
    with np.errstate(over="ignore", invalid="ignore"):
        diff = (ours.astype(np.float64) - r.astype(np.float64)) / ulp.astype(np.float64)
        err = np.abs(diff - residual)
    err = np.where(np.isfinite(ours) & finite, err, np.inf)
    return np.where(~finite, np.where(ours == r, 0.0, np.inf), err)


def ulp_errors(ours: np.ndarray, exact: list[Any], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """(error in ULP per point, the correctly rounded reference)."""
    r, ulp, residual = rounded(exact, dtype)
    return errors_against(ours, r, ulp, residual), r


# ---------------------------------------------------------------------------- points
# The sweep (sample_points) and its regression points (HARD_POINTS) are actlab.audit's.
from actlab.audit.points import HARD_POINTS, sample_points  # noqa: E402,F401


# ---------------------------------------------------------------------------- the screen
#: The screen: SCREEN_SIZE random float64 inputs with |x| in [1, 40] per function and
#: order, where f' and f'' are formed from several rounded terms; the SCREEN_KEEP worst
#: of them per kernel path, by an estimate against long double, join the sweep, where
#: mpmath measures them.  The worst errors are rare (just below a power of two, where an
#: ULP is smallest relative to the value, and where the roundings add up), so a plain
#: random sample of a few thousand points misses them.
SCREEN_SIZE = 200_000
SCREEN_KEEP = 24
_LD = np.longdouble
_SELU_LAMBDA_LD = _LD("1.0507009873554804934193349852946")
_SELU_LA_LD = _SELU_LAMBDA_LD * _LD("1.6732632423543772848170429916717")


def screen_estimate(name: str, order: int, x: np.ndarray) -> np.ndarray | None:
    """f, f' or f'' at float64 ``x`` in long double: only to rank candidate points (the
    measurement itself is against mpmath).  None for a function with no long-double form
    here: its sweep is the shared sample alone."""
    xl = x.astype(_LD)
    a = np.abs(xl)
    if name == "sigmoid":
        t = np.exp(-a)
        return [np.where(xl >= 0, 1 / (1 + t), t / (1 + t)), t / (1 + t) ** 2,
                -np.sign(xl) * t * -np.expm1(-a) / (1 + t) ** 3][order]
    if name == "tanh":
        t = np.exp(-2 * a)
        f = np.sign(xl) * -np.expm1(-2 * a) / (1 + t)
        d1 = 4 * t / (1 + t) ** 2
        return [f, d1, -2 * f * d1][order]
    if name == "arctan":
        q = 1 + xl * xl
        return [np.arctan(xl), 1 / q, -2 * xl / q**2][order]
    if name == "selu":
        neg = xl < 0
        return [np.where(neg, _SELU_LA_LD * np.expm1(np.minimum(xl, 0)), _SELU_LAMBDA_LD * xl),
                np.where(neg, _SELU_LA_LD * np.exp(np.minimum(xl, 0)), _SELU_LAMBDA_LD),
                np.where(neg, _SELU_LA_LD * np.exp(np.minimum(xl, 0)), _LD(0))][order]
    return None


def screen_can_rank() -> bool:
    """Long double carries at least 10 bits more than float64 (x86's 80-bit format)."""
    return np.finfo(_LD).nmant >= np.finfo(np.float64).nmant + 10


@functools.lru_cache(maxsize=None)
def screened_points(name: str) -> np.ndarray:
    """The float64 inputs the screen keeps for ``name``, over its three orders."""
    if not screen_can_rank():
        return np.array([], dtype=np.float64)
    rng = np.random.default_rng(sum(map(ord, name)))
    kept = []
    for order in (0, 1, 2):
        x = rng.uniform(1, 40, SCREEN_SIZE) * rng.choice([-1.0, 1.0], SCREEN_SIZE)
        estimate = screen_estimate(name, order, x)
        if estimate is None:
            return np.array([], dtype=np.float64)
        ulp = ulp_below(estimate.astype(np.float64)).astype(_LD)
        for layout in ("contiguous", "numpy-kernels"):
            ours = evaluate(name, order, x, layout).astype(_LD)
            with np.errstate(all="ignore"):
                err = np.nan_to_num(np.abs((ours - estimate) / ulp).astype(np.float64))
            kept.append(x[np.argsort(-err)[:SCREEN_KEEP]])
    return np.unique(np.concatenate(kept))




#: The exact functions with a closed form in exact_reference; the rest are checked against
#: their correctly rounded mpmath reference.
CLOSED_FORMS = ("step", "identity", "relu", "leaky_relu")


def exact_reference(name: str, order: int, x: np.ndarray) -> np.ndarray:
    """Closed forms for the exact functions, in x's dtype (leaky_relu's negative side is
    the correctly rounded product of x with the slope rounded to x's dtype); the others'
    mpmath references, correctly rounded (their constants are exact in binary)."""
    dtype = x.dtype.type
    one, zero = dtype(1), dtype(0)
    if order == 2:
        return np.zeros_like(x)
    if name == "step":
        return np.zeros_like(x) if order else np.where(x >= 0, one, zero)
    if name == "identity":
        return np.ones_like(x) if order else x.copy()
    if name == "relu":
        return np.where(x >= 0, one, zero) if order else np.where(x > 0, x, zero)
    if name == "leaky_relu":
        slope = dtype(0.1)
        if order:
            return np.where(x >= 0, one, slope)
        with mp.workdps(DPS):
            products = [
                round_to(mpmath.mpf(float(slope)) * mpmath.mpf(float(v)), dtype)
                if v < 0 else float(v)
                for v in x
            ]
        result = np.array(products, dtype=dtype)
        # mpmath has no -0: a zero product keeps the sign of x (a positive slope).
        return np.where(result == 0, np.copysign(zero, x), result)
    exact = [reference(name, float(v))[order] for v in x]
    result = np.array([round_to(v, dtype) for v in exact], dtype=dtype)
    # mpmath has no -0: a zero result takes its sign from ours, checked apart
    return result


#: How the values reach the kernels: a contiguous array, a strided view of the same values,
#: and a contiguous array with the compiled fast path switched off.  The optional C kernels
#: serve what they can and the NumPy kernels the rest, or everything when the
#: extension is not built: each path must meet the bounds on its own.
LAYOUTS = ("contiguous", "strided", "numpy-kernels")


def _numpy_only() -> contextlib.AbstractContextManager[Any]:
    from actlab.activations import _fast

    if not hasattr(_fast, "numpy_only"):
        pytest.skip("actlab.activations._fast.numpy_only() is gone: update this test")
    return _fast.numpy_only()


def laid_out(x: np.ndarray, layout: str) -> np.ndarray:
    if layout != "strided":
        return np.ascontiguousarray(x)
    buffer = np.zeros(2 * x.size, dtype=x.dtype)
    buffer[::2] = x
    return buffer[::2]


def evaluate(name: str, order: int, x: np.ndarray, layout: str = "contiguous") -> np.ndarray:
    act = actlab.get(name)
    x = laid_out(x, layout)
    path = _numpy_only() if layout == "numpy-kernels" else contextlib.nullcontext()
    with path, np.errstate(all="raise"):
        if order == 0:
            return act(x)
        if order == 1:
            return act.derivative(x)
        return act.second_derivative(x)


# ---------------------------------------------------------------------------- zeros of f''
#: Zeros of the second derivatives that fall between the sample points' sign changes.
#: Near a zero x0 of f'' the value is small while the terms it is computed from are not,
#: so a kernel that forms it by cancellation (f'·(1 - 2f) for sigmoid, say) loses all its
#: relative digits there and an ULP bound cannot hold; the bound then applies away from
#: the zeros.  actlab forms these three as products of factors that are each accurate
#: relative to themselves (σ'·tanh(x/2), -2 tanh·sech², -2x/(1+x²)²), so they vanish only
#: through their factor x and stay within the bound up to 0 itself: the neighbourhood
#: skipped is empty (radius 0), and the test checks the zeros too.  A future function
#: whose f'' crosses zero away from x = 0 (silu, gelu, mish) declares its zero here with a
#: radius in relative terms.
SECOND_DERIVATIVE_ZEROS: dict[str, list[tuple[float, float]]] = {
    "sigmoid": [(0.0, 0.0)],
    "tanh": [(0.0, 0.0)],
    "arctan": [(0.0, 0.0)],
}


def away_from_zeros(name: str, x: np.ndarray) -> np.ndarray:
    keep = np.ones(x.shape, dtype=bool)
    for x0, radius in SECOND_DERIVATIVE_ZEROS.get(name, []):
        if radius > 0:
            keep &= np.abs(x.astype(np.float64) - x0) > radius * max(1.0, abs(x0))
    return keep


# ---------------------------------------------------------------------------- measurement
@functools.lru_cache(maxsize=None)
def points(dtype: Any, name: str | None = None) -> np.ndarray:
    """The sample points of ``dtype``; for a function ``name`` in float64, with its
    screened points added (float32 results are computed in float64 and rounded once)."""
    shared = sample_points(dtype)
    if name not in SMOOTH or dtype is not np.float64:
        return shared
    extra = np.setdiff1d(screened_points(name), shared)
    return np.concatenate([shared, extra])


@functools.lru_cache(maxsize=None)
def measured(
    name: str, order: int, dtype: Any, layout: str = "contiguous"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, ours, error in ULP) for one function, order, dtype and memory layout, over
    the sample points."""
    x = points(dtype, name)
    ours = evaluate(name, order, x, layout)
    assert ours.dtype == x.dtype
    err = errors_against(ours, *rounded_table(name, order, dtype))
    return x, ours, err


@functools.lru_cache(maxsize=None)
def exact_values(name: str, order: int, dtype: Any) -> list[Any]:
    return [reference(name, float(v))[order] for v in points(dtype, name)]


@functools.lru_cache(maxsize=None)
def rounded_table(name: str, order: int, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rounded(exact_values(name, order, dtype), dtype)


def rounded_reference(name: str, order: int, dtype: Any) -> np.ndarray:
    return rounded_table(name, order, dtype)[0]


def describe_worst(x: np.ndarray, ours: np.ndarray, err: np.ndarray, k: int = 5) -> str:
    worst = np.argsort(-np.nan_to_num(err, posinf=1e300))[:k]
    return "; ".join(f"x={x[i]!r} ours={ours[i]!r} err={err[i]:.3g} ULP" for i in worst)


def test_sample_points_span_every_range() -> None:
    for dtype in DTYPES:
        x = points(dtype)
        fi = np.finfo(dtype)
        a = np.abs(x)
        assert x.size >= 4000
        assert np.sum(x == 0) == 2 and np.signbit(x[x == 0]).sum() == 1
        assert np.sum((a > 0) & (a < fi.smallest_normal)) >= 200  # subnormals
        assert np.sum((a >= fi.smallest_normal) & (a < 1e-3)) >= 400
        assert np.sum(a < 40) >= 3000
        assert np.sum((a > 1e3) & np.isfinite(a)) >= 400
        assert fi.max in x and -fi.max in x and np.inf in x and -np.inf in x


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("order", [0, 1], ids=["f", "f'"])
@pytest.mark.parametrize("name", SMOOTH)
def test_forward_and_first_derivative_within_bound(
    name: str, order: int, dtype: Any, layout: str
) -> None:
    x, ours, err = measured(name, order, dtype, layout)
    bound = FIRST_ORDER_BOUND[dtype]
    assert np.max(err) <= bound, describe_worst(x, ours, err)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", SMOOTH)
def test_second_derivative_within_bound_away_from_zeros(name: str, dtype: Any, layout: str) -> None:
    x, ours, err = measured(name, 2, dtype, layout)
    keep = away_from_zeros(name, x)
    assert keep.sum() > 0.9 * x.size
    assert np.max(err[keep]) <= SECOND_ORDER_BOUND, describe_worst(x[keep], ours[keep], err[keep])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("name", EXACT)
def test_exact_functions_bit_equal(name: str, order: int, dtype: Any, layout: str) -> None:
    x = points(dtype)
    ours = evaluate(name, order, x, layout)
    ref = exact_reference(name, order, x)
    assert ours.dtype == ref.dtype
    bits = np.dtype(f"u{ref.itemsize}")
    differ = ours.view(bits) != ref.view(bits)
    if name not in CLOSED_FORMS:  # mpmath's zeros are unsigned: compare zeros by value
        differ &= ~((ours == 0) & (ref == 0))
    assert not differ.any(), list(zip(x[differ][:5], ours[differ][:5], ref[differ][:5]))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("name", SMOOTH)
def test_subnormal_results_not_flushed(name: str, order: int, dtype: Any, layout: str) -> None:
    """Wherever the correctly rounded result is a nonzero subnormal, ours is nonzero.

    (The ULP bound alone would let the smallest subnormals go to 0 at 1 ULP.)"""
    x, ours, _ = measured(name, order, dtype, layout)
    r = rounded_reference(name, order, dtype)
    subnormal = (r != 0) & (np.abs(r) < np.finfo(dtype).smallest_normal)
    if name in ("sigmoid", "selu") or (order and actlab.get(name).classic):
        assert subnormal.sum() >= 4  # the sample reaches those results
    assert np.all(ours[subnormal] != 0), x[subnormal & (ours == 0)][:5]
    assert np.all(np.sign(ours[subnormal]) == np.sign(r[subnormal]))


# ---------------------------------------------------------------------------- peers' failures
def _ulp_error_at(value: Any, exact: Any, dtype: Any = np.float64) -> float:
    err, _ = ulp_errors(np.array([value], dtype=dtype), [exact], dtype)
    return float(err[0])


def test_sigmoid_derivative_at_37_is_not_zero() -> None:
    exact = reference("sigmoid", 37.0)[1]
    assert mpmath.almosteq(exact, mpmath.mpf("8.533047625744065e-17"), rel_eps=1e-12)
    ours = actlab.get("sigmoid").derivative(37.0)
    assert ours != 0 and _ulp_error_at(ours, exact) <= 4


def test_tanh_derivative_at_19_is_not_zero() -> None:
    exact = reference("tanh", 19.0)[1]
    assert mpmath.almosteq(exact, mpmath.mpf("1.2557e-16"), rel_eps=1e-4)
    ours = actlab.get("tanh").derivative(19.0)
    assert ours != 0 and _ulp_error_at(ours, exact) <= 4


def test_selu_derivative_at_minus_37_73_is_not_zero() -> None:
    exact = reference("selu", -37.73)[1]
    ours = actlab.get("selu").derivative(-37.73)
    assert ours != 0 and _ulp_error_at(ours, exact) <= 4


@pytest.mark.parametrize(("name", "x"), HARD_POINTS.items())
def test_derivative_at_the_hard_points_within_bound(name: str, x: float) -> None:
    for value in (x, -x):
        exact = reference(name, value)[1]
        ours = actlab.get(name).derivative(value)
        assert _ulp_error_at(ours, exact) <= FIRST_ORDER_BOUND[np.float64]


@pytest.mark.parametrize("name", sorted(HARD_POINTS))
def test_sweep_reaches_the_hard_points(name: str) -> None:
    """The sweep's worst f' in float64 is at least the error at the known hard point, on
    every path: it finds the rare inputs where the roundings add up."""
    x = HARD_POINTS[name]
    for layout in LAYOUTS:
        hard = evaluate(name, 1, np.array([x]), layout)
        at_hard, _ = ulp_errors(hard, [reference(name, x)[1]], np.float64)
        _, _, err = measured(name, 1, np.float64, layout)
        assert np.max(err) >= at_hard[0] > 1


def test_screen_adds_the_worst_points_of_a_large_sample() -> None:
    if not screen_can_rank():
        pytest.skip("long double is float64 here: no screen")
    x = screened_points("sigmoid")
    assert 3 * SCREEN_KEEP <= x.size <= 6 * SCREEN_KEEP
    assert np.all((np.abs(x) >= 1) & (np.abs(x) <= 40))
    assert np.isin(x, points(np.float64, "sigmoid")).all()
    # The screen's pick beats the generic sample: its worst f' in float64, measured
    # against mpmath, exceeds the worst over the shared sample points.
    shared = sample_points(np.float64)
    shared = shared[~np.isin(np.abs(shared), list(HARD_POINTS.values()))]
    worst_shared = np.max(ulp_errors(evaluate("sigmoid", 1, shared),
                                     [reference("sigmoid", float(v))[1] for v in shared],
                                     np.float64)[0])
    worst_screened = np.max(ulp_errors(evaluate("sigmoid", 1, x),
                                       [reference("sigmoid", float(v))[1] for v in x],
                                       np.float64)[0])
    assert worst_screened > worst_shared


#: A point the screen found where sigmoid' in float64 would be 4.09 ULP off, over its
#: 4 ULP bound, if the denominator (1 + e)², e = e^{-|x|}, were the square of a rounded
#: 1 + e (two roundings, up to 2.5 ULP); 1 + e·(2 + e) rounds it about once: 2.09 ULP.
SIGMOID_DERIVATIVE_OVER_BOUND = 5.544415666171566


@pytest.mark.parametrize("layout", LAYOUTS)
def test_sigmoid_derivative_at_5_544_within_bound(layout: str) -> None:
    x = SIGMOID_DERIVATIVE_OVER_BOUND
    ours = evaluate("sigmoid", 1, np.array([x, -x]), layout)
    err, _ = ulp_errors(ours, [reference("sigmoid", x)[1]] * 2, np.float64)
    assert np.max(err) <= FIRST_ORDER_BOUND[np.float64], err


@pytest.mark.parametrize(("name", "x"), [("sigmoid", SIGMOID_DERIVATIVE_OVER_BOUND),
                                         *HARD_POINTS.items()])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_derivative_denominator_rounded_about_once(name: str, x: float, layout: str) -> None:
    """With (1 + e)² as the square of a rounded 1 + e these points are 3.9-4.1 ULP off; with
    1 + e·(2 + e) about 2: the bound here leaves room for the exponential and the division,
    not for a second rounding of the denominator."""
    ours = evaluate(name, 1, np.array([x, -x]), layout)
    err, _ = ulp_errors(ours, [reference(name, x)[1]] * 2, np.float64)
    assert np.max(err) <= 2.5, err


def test_log_softmax_of_20_minus_20() -> None:
    with mp.workdps(DPS):
        exact = -mpmath.log1p(mpmath.exp(-40))
    assert mpmath.almosteq(exact, mpmath.mpf("-4.248354255291589e-18"), rel_eps=1e-12)
    ours = actlab.log_softmax(np.array([20.0, -20.0]))
    assert ours[0] != 0 and _ulp_error_at(ours[0], exact) <= 4


def test_sigmoid_of_minus_740_is_the_subnormal() -> None:
    with mp.workdps(DPS):
        exact = mpmath.exp(-740) / (1 + mpmath.exp(-740))
    r = round_to(exact, np.float64)
    assert 0 < r < np.finfo(np.float64).smallest_normal
    assert actlab.sigmoid(-740.0) == r
    # Its derivative there is the same subnormal; and on the positive side too.
    assert actlab.get("sigmoid").derivative(-740.0) == r
    assert actlab.get("sigmoid").derivative(740.0) == r


def test_float32_sigmoid_subnormal() -> None:
    with mp.workdps(DPS):
        exact = mpmath.exp(-100) / (1 + mpmath.exp(-100))
    r = round_to(exact, np.float32)
    assert 0 < r < np.finfo(np.float32).smallest_normal
    assert actlab.sigmoid(np.float32(-100.0)) == np.float32(r)


# ---------------------------------------------------------------------------- softmax family
def softmax_inputs(dtype: Any) -> list[np.ndarray]:
    """Batches of rows of several lengths: mixed scales, ties, -inf entries, subnormals."""
    rng = np.random.default_rng(7)
    fi = np.finfo(dtype)
    batches = []
    for n in (1, 2, 3, 5, 8):
        scale = 10.0 ** rng.integers(-3, 4, size=(300, 1))
        rows = rng.standard_normal((300, n)) * scale
        rows[:20] = np.round(rows[:20])  # ties
        if n > 1:
            rows[20:40, 0] = -np.inf
            rows[40:50] = rng.standard_normal((10, n)) * 1e30  # entries far below the max
        batch = rows.astype(dtype)
        with np.errstate(under="ignore"):
            batch[50:60] = (rng.integers(1, 1000, (10, n)) * fi.smallest_subnormal).astype(dtype)
        batches.append(batch)
    return batches


def softmax_reference(row: np.ndarray) -> tuple[list[Any], list[Any]]:
    """(softmax, log_softmax) of one finite-maximum row, exact to 50 digits."""
    with mp.workdps(DPS):
        xs = [mpmath.mpf(float(v)) for v in row]
        m = max(xs)
        shifted = [v - m for v in xs]
        exps = [mpmath.exp(z) for z in shifted]
        total = mpmath.fsum(exps)
        log_total = mpmath.log(total)
        return [e / total for e in exps], [z - log_total for z in shifted]


@functools.lru_cache(maxsize=None)
def softmax_measured(dtype: Any) -> dict[str, float]:
    """Worst softmax error in ULP (bound 4 + |x_i - max|), over all rows; worst
    log_softmax error as a fraction of its bound 2·eps·max(1, |y|)."""
    worst = {"softmax_ulp_near_max": 0.0, "softmax_bound_used": 0.0, "log_softmax_eps": 0.0,
             "log_softmax_bound_used": 0.0}
    eps = float(np.finfo(dtype).eps)
    for batch in softmax_inputs(dtype):
        with np.errstate(all="raise"):
            s = actlab.softmax(batch)
            ls = actlab.log_softmax(batch)
        assert s.dtype == ls.dtype == batch.dtype
        for row, s_row, ls_row in zip(batch, s, ls):
            ref_s, ref_ls = softmax_reference(row)
            err, _ = ulp_errors(s_row, ref_s, dtype)
            gap = np.abs(row.astype(np.float64) - np.max(row.astype(np.float64)))
            bound = 4 + gap
            used = np.where(np.isinf(gap), 0.0, err / bound)
            assert np.all(err[np.isfinite(gap)] <= bound[np.isfinite(gap)]), (row, s_row)
            assert np.all(s_row[np.isinf(gap)] == 0)  # -inf entries: probability 0
            near = gap <= 1
            if near.any():
                worst["softmax_ulp_near_max"] = max(worst["softmax_ulp_near_max"],
                                                    float(np.max(err[near])))
            worst["softmax_bound_used"] = max(worst["softmax_bound_used"], float(np.max(used)))
            finite = np.isfinite(row)
            ref = np.array([float(v) for v in ref_ls])
            abs_err = np.abs(ls_row[finite].astype(np.float64) - ref[finite])
            ls_bound = 2 * eps * np.maximum(1, np.abs(ref[finite]))
            assert np.all(abs_err <= ls_bound), (row, ls_row, ref)
            assert np.all(ls_row[~finite] == -np.inf)
            worst["log_softmax_eps"] = max(worst["log_softmax_eps"],
                                           float(np.max(abs_err / np.maximum(1, np.abs(ref[finite])))) / eps)
            worst["log_softmax_bound_used"] = max(worst["log_softmax_bound_used"],
                                                  float(np.max(abs_err / ls_bound)))
    return worst


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_softmax_of_an_all_minus_inf_row_is_uniform(dtype: Any) -> None:
    """An all -inf slice is the limit of equal entries: softmax 1/n, log_softmax -log n."""
    for n in (1, 2, 3, 7):
        row = np.full((2, n), -np.inf, dtype=dtype)
        with mp.workdps(DPS):
            share, log_share = round_to(1 / mpmath.mpf(n), dtype), round_to(-mpmath.log(n), dtype)
        with np.errstate(all="raise"):
            assert np.array_equal(actlab.softmax(row), np.full((2, n), share, dtype=dtype))
            ls = actlab.log_softmax(row)
        assert np.all(np.abs(ls.astype(np.float64) - log_share) <= 2 * np.finfo(dtype).eps * max(1, abs(log_share)))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_softmax_and_log_softmax_within_bounds(dtype: Any) -> None:
    worst = softmax_measured(dtype)  # the bounds are asserted row by row inside
    assert worst["softmax_bound_used"] <= 1 and worst["log_softmax_bound_used"] <= 1


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_maxout_bit_equal(dtype: Any) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 12)) * 10.0 ** rng.integers(-30, 30, size=(200, 1))
    x[:10, 3] = np.inf
    x[10:20, 5] = -np.inf
    x = x.astype(dtype)
    for pieces in (1, 2, 3, 4, 6, 12):
        ours = actlab.maxout(x, pieces=pieces)
        groups = [[max(float(v) for v in row[i:i + pieces]) for i in range(0, 12, pieces)]
                  for row in x]
        ref = np.array(groups, dtype=dtype)
        assert ours.dtype == x.dtype and ours.shape == ref.shape
        assert np.array_equal(ours.view(f"u{ref.itemsize}"), ref.view(f"u{ref.itemsize}"))


# ---------------------------------------------------------------------------- backward in the tails
#: Inputs where f' is far below float32's range, and grads up to float32's largest: their
#: product must still round as the exact one does (to 0 where that is below 2^-150).
TAIL_X = (-np.inf, -1000.0, -300.0, -210.0, -199.0, -150.0, -120.0, -111.0, -104.0, -60.0,
          -52.0, 52.0, 60.0, 104.0, 111.0, 150.0, 199.0, 210.0, 1000.0, np.inf)
HUGE_GRADS = (1e30, -3.4e38, 3.4e38, -1e20)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", SMOOTH)
def test_float32_backward_with_a_huge_grad_in_the_tails(name: str, layout: str) -> None:
    x = np.repeat(np.array(TAIL_X, dtype=np.float32), len(HUGE_GRADS))
    g = np.tile(np.array(HUGE_GRADS, dtype=np.float32), len(TAIL_X))
    path = _numpy_only() if layout == "numpy-kernels" else contextlib.nullcontext()
    with path, np.errstate(all="raise"):
        ours = actlab.get(name).backward(laid_out(x, layout), laid_out(g, layout))
    with mp.workdps(DPS):
        exact = [reference(name, float(v))[1] * mpmath.mpf(float(w)) for v, w in zip(x, g)]
    err, r = ulp_errors(ours, exact, np.float32)
    worst = int(np.argmax(err))
    assert err[worst] <= FIRST_ORDER_BOUND[np.float32], (x[worst], g[worst], ours[worst], r[worst])
    # a zero keeps the sign of the exact product (f' at ±inf has the sign it has at ±1000:
    # silu', gelu' and mish' are negative in their left tail)
    with mp.workdps(DPS):
        side = [mpmath.sign(reference(name, float(np.clip(v, -1000, 1000)))[1]) for v in x]
    negative = np.array([s_ < 0 for s_ in side]) ^ np.signbit(g)
    zero = (r == 0) & np.array([s_ != 0 for s_ in side])
    assert np.array_equal(np.signbit(ours[zero]), negative[zero]), (x[zero], ours[zero])


@pytest.mark.parametrize("layout", ("contiguous", "numpy-kernels"))
def test_float32_softmax_backward_with_a_huge_grad_on_a_far_entry(layout: str) -> None:
    rows = np.array([[0.0, -v] for v in (60.0, 104.0, 120.0, 150.0, 199.0, 210.0, 1000.0)],
                    dtype=np.float32)
    # a grad on the far entry only: y ⊙ (g - Σ g y) then has no cancellation to lose
    # digits to, so the result is held to an ULP bound
    for g in ([0.0, 1e38], [0.0, -3.4e38], [0.0, 1e30]):
        grads = np.tile(np.array(g, dtype=np.float32), (len(rows), 1))
        path = _numpy_only() if layout == "numpy-kernels" else contextlib.nullcontext()
        with path, np.errstate(all="raise"):
            ours = actlab.get("softmax").backward(rows, grads)
        for row, g_row, o_row in zip(rows, grads, ours):
            y, _ = softmax_reference(row)
            with mp.workdps(DPS):
                gm = [mpmath.mpf(float(v)) for v in g_row]
                inner = mpmath.fsum(yi * gi for yi, gi in zip(y, gm))
                exact = [yi * (gi - inner) for yi, gi in zip(y, gm)]
            err, r = ulp_errors(o_row, exact, np.float32)
            assert np.max(err) <= 4, (row, g_row, o_row, r)


# ---------------------------------------------------------------------------- the table
def worst_table(layouts: tuple[str, ...] = LAYOUTS) -> list[tuple[str, str, str, str]]:
    """The worst error in ULP per function, order and dtype, over the given layouts."""
    rows = []
    for name in SMOOTH:
        cells = []
        for order in (0, 1, 2):
            parts = []
            for dtype in DTYPES:
                worst = 0.0
                for layout in layouts:
                    x, _, err = measured(name, order, dtype, layout)
                    if order == 2:
                        err = err[away_from_zeros(name, x)]
                    worst = max(worst, float(np.max(err)))
                parts.append(f"{worst:.2f}")
            cells.append(" / ".join(parts))
        rows.append((name, *cells))
    return rows


if __name__ == "__main__":
    from actlab.activations import _fast

    print(_fast.status() if hasattr(_fast, "status") else "")
    for title, layouts in (("as dispatched (contiguous and strided)", ("contiguous", "strided")),
                           ("NumPy kernels only", ("numpy-kernels",))):
        print(f"Worst error in ULP over the sample points, float32 / float64, {title}")
        print("| function | f | f' | f'' |")
        print("|---|---|---|---|")
        for row in worst_table(layouts):
            print("| " + " | ".join(row) + " |")
    m32, m64 = softmax_measured(np.float32), softmax_measured(np.float64)
    print(f"softmax: worst ULP where |x_i - max| <= 1: {m32['softmax_ulp_near_max']:.2f} / "
          f"{m64['softmax_ulp_near_max']:.2f}; largest share of the bound 4 + |x_i - max| "
          f"used: {m32['softmax_bound_used']:.2f} / {m64['softmax_bound_used']:.2f}")
    print(f"log_softmax: worst |error| / max(1, |y|) in eps: {m32['log_softmax_eps']:.2f} / "
          f"{m64['log_softmax_eps']:.2f} (bound 2)")
