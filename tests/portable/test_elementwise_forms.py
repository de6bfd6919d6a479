"""The portable forms of the elementwise built-ins, run with NumPy's array namespace:
every built-in has a form, f and f' within twice the core's ULP bounds and f'' within 16
ULP (away from its zeros) against the 50-digit mpmath oracle in float32 and float64, the
piecewise-linear functions bit for bit the core's, exact limits at ±inf, NaN kept, no
floating-point warning, and float16 computed in float32 and rounded once."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import actlab
from actlab import portable

mpmath = pytest.importorskip("mpmath")
array_api_compat = pytest.importorskip("array_api_compat")

from actlab.audit.measure import BOUNDS, errors_in_ulp, reference_tables  # noqa: E402
from actlab.audit.points import LANDMARKS, audit_points  # noqa: E402
from actlab.audit.references import reference  # noqa: E402

XP = array_api_compat.array_namespace(np.ones(1))
DTYPES = {"float32": np.float32, "float64": np.float64}
BUILTIN = [n for n in actlab.names() if getattr(actlab.get(n), "family", "") != "defined"]
ELEMENTWISE = [n for n in BUILTIN if actlab.get(n).elementwise]
#: Twice the core's bound for f and f'; 16 ULP for f''.
FACTOR = 2.0
SECOND_ORDER_BOUND = 16.0
#: The functions whose forms are exact: bit for bit the core's kernels (which its own
#: tests hold to the closed forms).
EXACT = [n for n in ELEMENTWISE if actlab.get(n).exact]
#: Piecewise functions that are not exact but correctly rounded in the core.
CORRECTLY_ROUNDED = ["hard_sigmoid", "hard_swish"]
#: (name, params) measured against mpmath: every smooth function with its defaults, and
#: the other parameter values whose forms take another branch.
SMOOTH = [(n, {}) for n in ELEMENTWISE if n not in EXACT and n not in CORRECTLY_ROUNDED] + [
    ("gelu", {"approximate": "tanh"}),
    ("elu", {"alpha": 0.3}),
    ("celu", {"alpha": 2.5}),
    ("softplus", {"beta": 3.0}),
]
#: The roots of f' and f'' of silu, gelu (both forms) and mish, the points where a form
#: that cancels would lose its relative digits, approached from both sides.
ROOTS = (-1.2784645427610738, -2.3993572805154677, 2.3993572805154677, -0.7517915246935645,
         -0.7524614220710163, -1.4185040087908284, 1.4185040087908284, -1.1924312145154952,
         -2.256376396360793, 1.4905711794854284, math.sqrt(2), -math.sqrt(2))
#: Zeros of f'' near which the bound is not applied: (x0, radius relative to max(1, |x0|)).
#: Every form here keeps its relative digits up to its zeros, so none is skipped.
SECOND_DERIVATIVE_ZEROS: dict[str, list[tuple[float, float]]] = {}


def _id(case: tuple[str, dict[str, Any]]) -> str:
    name, params = case
    return name + "".join(f"[{k}={v}]" for k, v in params.items())


def sweep(dtype: str) -> np.ndarray:
    """A subset of the core's sweep (actlab.audit's points) with its landmarks, the tails
    (gelu's -34.66 among them), the neighbourhoods of the roots, and ±inf."""
    dt = DTYPES[dtype]
    near = np.concatenate([np.array(ROOTS) + d for d in (0.0, 1e-9, -1e-9, 1e-6, -1e-6, 1e-4, -1e-3, 0.05)])
    tails = np.array([-34.66, -30.0, -20.0, -8.39, -5.55, -14.0, -37.0, -90.0, -103.0, -745.0, -1000.0])
    extra = np.concatenate([near, tails, -tails, np.array(LANDMARKS), -np.array(LANDMARKS)])
    fi = np.finfo(dt)
    extra = np.clip(extra, -fi.max, fi.max).astype(dt)
    return np.unique(np.concatenate([audit_points(dt, 900), extra]))


_TABLES: dict[tuple[str, tuple[tuple[str, Any], ...], str], Any] = {}


def tables(name: str, params: dict[str, Any], dtype: str) -> tuple[np.ndarray, dict[int, Any]]:
    key = (name, tuple(sorted(params.items())), dtype)
    if key not in _TABLES:
        x = sweep(dtype)
        _TABLES[key] = (x, reference_tables(name, params, (0, 1, 2), {dtype: x.astype(np.float64)})[dtype])
    return _TABLES[key]


def run(name: str, order: int, x: np.ndarray, **params: Any) -> np.ndarray:
    form = portable.form(name)
    fn = (form.f, form.derivative, form.second_derivative)[order]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        return fn(XP, x, **params)


def worst(x: np.ndarray, ours: np.ndarray, err: np.ndarray, k: int = 4) -> str:
    idx = np.argsort(-np.nan_to_num(err, posinf=1e300))[:k]
    return "; ".join(f"x={x[i]!r} ours={ours[i]!r} err={err[i]:.3g} ULP" for i in idx)


def away_from_zeros(name: str, x: np.ndarray) -> np.ndarray:
    keep = np.ones(x.shape, dtype=bool)
    for x0, radius in SECOND_DERIVATIVE_ZEROS.get(name, []):
        keep &= np.abs(x.astype(np.float64) - x0) > radius * max(1.0, abs(x0))
    return keep


# ----------------------------------------------------------------------------- coverage
def missing_forms(candidates: list[str]) -> list[str]:
    """The built-ins among ``candidates`` with neither a form nor a stated reason."""
    have = set(portable.names())
    return [n for n in candidates if n not in have and n not in portable.NO_PORTABLE_FORM]


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_has_a_portable_form_or_a_reason(name: str) -> None:
    assert not missing_forms([name]), f"{name} has no portable form and no entry in NO_PORTABLE_FORM"
    if name in portable.NO_PORTABLE_FORM:
        with pytest.raises(ValueError, match=name):
            portable.form(name)
        return
    form = portable.form(name)
    expected = portable.ElementwiseForm if actlab.get(name).elementwise else portable.VectorForm
    assert isinstance(form, expected) and form.name == name
    assert form.defaults == dict(actlab.get(name).values)


def test_a_name_without_a_form_is_reported_by_name() -> None:
    assert missing_forms(["sigmoid", "no_such_builtin"]) == ["no_such_builtin"]


def test_form_accepts_aliases_and_refuses_unknown_names_and_parameters() -> None:
    assert portable.form("swish") is portable.form("silu")
    with pytest.raises(ValueError, match="unknown activation 'sigmod'"):
        portable.form("sigmod")
    with pytest.raises(ValueError, match="leaky_relu: unknown parameter 'slop'"):
        portable.form("leaky_relu").f(XP, np.ones(2), slop=0.2)


def test_a_defined_function_has_no_portable_form() -> None:
    pytest.importorskip("sympy")
    from actlab.symbolic import define, undefine

    define("portable_probe", "x*tanh(x)")
    try:
        assert "portable_probe" not in portable.names()
        with pytest.raises(ValueError, match="portable_probe has no portable form: it was made by actlab.define"):
            portable.form("portable_probe")
    finally:
        undefine("portable_probe")


# ----------------------------------------------------------------------------- accuracy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SMOOTH, ids=_id)
def test_f_and_first_derivative_within_twice_the_core_bound(case: tuple[str, dict[str, Any]], dtype: str) -> None:
    name, params = case
    x, table = tables(name, params, dtype)
    for order in (0, 1):
        ours = run(name, order, x, **params)
        assert ours.dtype == x.dtype
        err = errors_in_ulp(ours, table[order])
        bound = FACTOR * BOUNDS[(order, dtype)]
        assert np.max(err) <= bound, f"order {order}: " + worst(x, ours, err)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SMOOTH, ids=_id)
def test_second_derivative_within_16_ulp_away_from_its_zeros(case: tuple[str, dict[str, Any]], dtype: str) -> None:
    name, params = case
    x, table = tables(name, params, dtype)
    ours = run(name, 2, x, **params)
    err = errors_in_ulp(ours, table[2])
    keep = away_from_zeros(name, x)
    assert keep.sum() > 0.9 * x.size
    assert np.max(err[keep]) <= SECOND_ORDER_BOUND, worst(x[keep], ours[keep], err[keep])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", EXACT)
def test_exact_functions_are_the_core_bit_for_bit(name: str, dtype: str) -> None:
    x = sweep(dtype)
    act = actlab.get(name)
    for order, core in enumerate((act, act.derivative, act.second_derivative)):
        ours, theirs = run(name, order, x), core(x)
        bits = np.dtype(f"u{x.itemsize}")
        differ = ours.view(bits) != theirs.view(bits)
        assert not differ.any(), (order, x[differ][:4], ours[differ][:4], theirs[differ][:4])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CORRECTLY_ROUNDED)
def test_hard_sigmoid_and_hard_swish_are_correctly_rounded(name: str, dtype: str) -> None:
    # at a subnormal x, hard_swish(x) = x/2 + x²/6 lies within 10^-300 of a rounding tie,
    # beyond the oracle's 50 digits: there the core's result (which breaks the tie by the
    # sign of x²/6) is the reference
    x, table = tables(name, {}, dtype)
    act = actlab.get(name)
    subnormal = np.abs(x) < np.finfo(x.dtype).smallest_normal
    for order, core in enumerate((act, act.derivative, act.second_derivative)):
        ours = run(name, order, x)
        rounded = np.where(subnormal, core(x), table[order][0])
        differ = (ours != rounded) & ~(np.isnan(ours) & np.isnan(rounded))
        assert not differ.any(), (order, x[differ][:4], ours[differ][:4], rounded[differ][:4])


def test_gelu_far_tail_keeps_its_digits() -> None:
    # e^{-x²/2} from an exactly split x²: erfc(-x/√2)/2 loses ~1,400 ULP at -34.66
    x = np.array([-34.66])
    exact = reference("gelu", -34.66)[0]
    assert mpmath.almosteq(exact, mpmath.mpf("-5.47244e-262"), rel_eps=1e-5)
    ours = run("gelu", 0, x)
    ulp = float(np.spacing(abs(float(exact))))
    assert abs(float(ours[0]) - float(exact)) / ulp <= 1.0


# ----------------------------------------------------------------------------- limits, NaN
CASES = [(n, {}) for n in ELEMENTWISE] + [("gelu", {"approximate": "tanh"})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_limits_at_infinity_are_exact(case: tuple[str, dict[str, Any]], dtype: str) -> None:
    name, params = case
    # the core's limits (its own tests hold them to the exact ones, -0 included)
    x = np.array([-np.inf, np.inf], dtype=DTYPES[dtype])
    act = actlab.get(name, **params)
    for order, core in enumerate((act, act.derivative, act.second_derivative)):
        ours, theirs = run(name, order, x, **params), core(x)
        assert np.array_equal(ours, theirs) and np.array_equal(np.signbit(ours), np.signbit(theirs)), (
            order, ours, theirs)


SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-30, 1.0, -1.0, 36.0, -88.0,
           -746.0, 1e30, -1e30, 1.7976931348623157e308, -1.7976931348623157e308, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_nan_kept_dtype_kept_no_warning(case: tuple[str, dict[str, Any]], dtype: str) -> None:
    name, params = case
    with np.errstate(over="ignore"):
        x = np.array(SPECIAL, dtype=dtype)
    for order in range(3):
        ours = run(name, order, x, **params)  # errstate raises on any warning
        assert ours.dtype == x.dtype
        assert np.array_equal(np.isnan(ours), np.isnan(x)), (order, x, ours)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_float16_is_float32_rounded_once(case: tuple[str, dict[str, Any]]) -> None:
    name, params = case
    x = np.linspace(-8, 8, 161).astype(np.float16)
    for order in range(3):
        ours = run(name, order, x, **params)
        via32 = run(name, order, x.astype(np.float32), **params).astype(np.float16)
        np.testing.assert_array_equal(ours, via32)
