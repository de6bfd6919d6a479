"""The contract every registered activation keeps, tested for each name in actlab.names().

A function registered tomorrow is tested here without touching this file: derivatives
against central differences, the declared kinks, backward against the derivative or the
Jacobian, the saved output, dtypes and shapes, out=, NaN and ±inf, no floating-point
warnings, and the facts.  Function-specific checks (softmax, log_softmax, maxout, SELU)
follow at the end.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actlab

NAMES = actlab.names()
ELEMENTWISE = [n for n in NAMES if actlab.get(n).elementwise]
VECTOR = [n for n in NAMES if not actlab.get(n).elementwise]
#: Parameters beyond the defaults that change the shape of the computation.
EXTRA_PARAMS: dict[str, list[dict[str, Any]]] = {"maxout": [{"pieces": 2}, {"pieces": 3}]}
VARIANTS = [(n, {}) for n in NAMES] + [(n, p) for n, ps in EXTRA_PARAMS.items() for p in ps]
VECTOR_VARIANTS = [(n, p) for n, p in VARIANTS if n in VECTOR]


def variant_id(v: Any) -> str:
    return "-".join(f"{k}={w}" for k, w in v.items()) if isinstance(v, dict) else str(v)


def strict(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call with every floating-point exception an error (pytest makes warnings errors
    too; this also catches the under- and overflow NumPy ignores by default)."""
    with np.errstate(all="raise"):
        return fn(*args, **kwargs)


def away_from_kinks(act: actlab.Activation, x: np.ndarray, margin: float) -> np.ndarray:
    keep = np.ones(x.shape, dtype=bool)
    for kink in act.kinks:
        keep &= np.abs(x - kink.x) > margin
    return x[keep]


def output_length(name: str, params: dict[str, Any], n: int) -> int:
    if name == "maxout":
        pieces = params.get("pieces") or n
        return n // pieces
    if name == "glu":
        return n // 2
    return n


def same_values_tolerance(act: actlab.Activation) -> dict[str, float]:
    """How far two float64 evaluations of the same value by different code paths may
    differ: not at all for the exact functions, a few eps for the others (each is within
    4 ULP of the truth), a few eps of the slice's scale for the vector kinds."""
    if act.exact:
        return {"rtol": 0, "atol": 0}
    eps = float(np.finfo(np.float64).eps)
    return {"rtol": 16 * eps, "atol": 0 if act.elementwise else 8 * eps}


# ---------------------------------------------------------------------------- derivatives
GRID = np.linspace(-8.0, 8.0, 321)  # contains 0 and other likely kinks exactly


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name: str) -> None:
    act = actlab.get(name)
    h = 1e-5
    x = away_from_kinks(act, GRID, 10 * h)
    numeric = (strict(act, x + h) - strict(act, x - h)) / (2 * h)
    ours = strict(act.derivative, x)
    np.testing.assert_allclose(ours, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_second_derivative_matches_central_differences(name: str) -> None:
    act = actlab.get(name)
    h = 1e-5
    x = away_from_kinks(act, GRID, 10 * h)
    numeric = (strict(act.derivative, x + h) - strict(act.derivative, x - h)) / (2 * h)
    ours = strict(act.second_derivative, x)
    np.testing.assert_allclose(ours, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_declared_kinks(name: str) -> None:
    """f' at each declared kink is the declared value, and the kink is a real one: the
    one-sided difference quotients of f differ there (or f jumps), or those of f' do
    (a kink of the derivative, as elu's with α = 1 and softsign's)."""
    act = actlab.get(name)
    for kink in act.kinks:
        assert strict(act.derivative, kink.x) == kink.derivative, kink
        h = 1e-6
        for fn in (act, act.derivative):
            left = (fn(kink.x) - fn(kink.x - h)) / h
            right = (fn(kink.x + h) - fn(kink.x)) / h
            if not math.isclose(left, right, rel_tol=1e-3, abs_tol=1e-9):
                break
        else:
            raise AssertionError(f"{name}: no kink of f or f' at {kink}")
        assert kink.note


@pytest.mark.parametrize("name,params", VECTOR_VARIANTS, ids=variant_id)
def test_jacobian_matches_central_differences(name: str, params: dict[str, Any]) -> None:
    act = actlab.get(name, **params)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6)) * 2  # distinct entries: no maxout ties
    jac = strict(act.jacobian, x)
    m = output_length(name, params, 6)
    assert jac.shape == (4, m, 6)
    h = 1e-6
    for j in range(6):
        step = np.zeros(6)
        step[j] = h
        column = (strict(act, x + step) - strict(act, x - step)) / (2 * h)
        np.testing.assert_allclose(jac[:, :, j], column, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------- backward
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_is_grad_times_derivative(name: str) -> None:
    act = actlab.get(name)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7)) * 4
    g = rng.standard_normal((5, 7))
    expected = g * strict(act.derivative, x)
    np.testing.assert_allclose(strict(act.backward, x, g), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("name,params", VECTOR_VARIANTS, ids=variant_id)
def test_backward_is_grad_at_jacobian(name: str, params: dict[str, Any], axis: int) -> None:
    act = actlab.get(name, axis=axis, **params)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 6, 6)) * 3
    y = strict(act, x)
    g = rng.standard_normal(y.shape)
    jac = strict(act.jacobian, x)  # the function's axis moved last: (..., n_out, n_in)
    expected = np.einsum("...o,...oi->...i", np.moveaxis(g, axis, -1), jac)
    ours = strict(act.backward, x, g)
    assert ours.shape == x.shape
    np.testing.assert_allclose(np.moveaxis(ours, axis, -1), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_backward_with_saved_output_equals_without(name: str, params: dict[str, Any]) -> None:
    act = actlab.get(name, **params)
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.standard_normal((3, 6)) * 5, np.full((1, 6), 40.0),
                        np.full((1, 6), -40.0)])
    y = strict(act, x)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(strict(act.backward, x, g, y=y), strict(act.backward, x, g),
                               rtol=1e-13, atol=1e-300)
    if act.elementwise:
        np.testing.assert_allclose(strict(act.derivative, x, y=y), strict(act.derivative, x),
                                   rtol=1e-13, atol=1e-300)


# ---------------------------------------------------------------------------- dtypes, shapes
def sample_input(name: str, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    rng = np.random.default_rng(5)
    return (rng.standard_normal(shape) * 3).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_dtype_and_shape_kept(name: str, params: dict[str, Any], dtype: Any) -> None:
    act = actlab.get(name, **params)
    x = sample_input(name, (3, 2, 6), dtype)
    y = strict(act, x)
    assert y.dtype == dtype
    if act.elementwise:
        assert y.shape == x.shape
        assert strict(act.derivative, x).dtype == dtype
        assert strict(act.derivative, x).shape == x.shape
        assert strict(act.second_derivative, x).dtype == dtype
    else:
        assert y.shape == (3, 2, output_length(name, params, 6))
        assert strict(act.jacobian, x).dtype == dtype
    b = strict(act.backward, x, np.ones_like(y))
    assert b.dtype == dtype and b.shape == x.shape
    # float32 values computed in float64 and rounded: they agree with the float64 result.
    y64 = strict(act, x.astype(np.float64))
    np.testing.assert_allclose(y, y64, rtol=2 * np.finfo(dtype).eps, atol=1e-38)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_zero_d_empty_scalars_lists(name: str) -> None:
    act = actlab.get(name)
    y = strict(act, np.array(0.5))
    assert isinstance(y, np.ndarray) and y.shape == () and y.dtype == np.float64
    s = strict(act, 0.5)
    assert np.isscalar(s) and np.asarray(s).dtype == np.float64
    np.testing.assert_allclose(s, y, **same_values_tolerance(act))
    np.testing.assert_allclose(s, strict(act, [0.5])[0], **same_values_tolerance(act))
    for method in (act, act.derivative, act.second_derivative):
        empty = strict(method, np.zeros((0, 3), dtype=np.float32))
        assert empty.shape == (0, 3) and empty.dtype == np.float32
    assert strict(act.backward, np.zeros((0,)), np.zeros((0,))).shape == (0,)
    listed = strict(act, [[-1.0, 0.5], [2.0, 3.0]])
    assert isinstance(listed, np.ndarray) and listed.dtype == np.float64
    close = same_values_tolerance(act)
    np.testing.assert_allclose(listed, strict(act, np.array([[-1.0, 0.5], [2.0, 3.0]])), **close)
    np.testing.assert_allclose(strict(act.backward, [1.0, -2.0], [3.0, 4.0]),
                               strict(act.backward, np.array([1.0, -2.0]), np.array([3.0, 4.0])),
                               **close)


@pytest.mark.parametrize("name,params", VECTOR_VARIANTS, ids=variant_id)
def test_vector_empty_batch_and_lists(name: str, params: dict[str, Any]) -> None:
    act = actlab.get(name, **params)
    empty = strict(act, np.zeros((0, 6), dtype=np.float32))
    assert empty.shape == (0, output_length(name, params, 6)) and empty.dtype == np.float32
    assert strict(act.backward, np.zeros((0, 6)), np.zeros(empty.shape)).shape == (0, 6)
    assert strict(act.jacobian, np.zeros((0, 6))).shape == (0, output_length(name, params, 6), 6)
    row = [0.5, -1.0, 2.0, 0.0, 3.0, 1.0]
    np.testing.assert_array_equal(strict(act, row), strict(act, np.array(row)))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_over_an_empty_axis_is_empty(name: str) -> None:
    act = actlab.get(name)
    for x in (np.zeros(0), np.zeros((3, 0))):
        y = strict(act, x)
        assert y.shape == x.shape
        assert strict(act.backward, x, np.zeros(x.shape)).shape == x.shape


@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_non_contiguous_input(name: str, params: dict[str, Any]) -> None:
    act = actlab.get(name, **params)
    base = sample_input(name, (12, 18))
    rng = np.random.default_rng(10)
    # Another memory layout may take another code path (a compiled kernel for contiguous
    # arrays, NumPy for the rest) or add a sum in another order: each result is within
    # its few-ULP bound (test_accuracy measures both layouts), so they agree to a few eps;
    # the exact functions agree to the bit.
    close = same_values_tolerance(act)
    for x in (base[::2, ::3], base.T[::3], base[:, 1::3][::-1]):
        assert not x.flags.c_contiguous
        np.testing.assert_allclose(strict(act, x), strict(act, np.ascontiguousarray(x)), **close)
        y = strict(act, x)
        g = np.repeat(rng.standard_normal((y.shape[0], 1, y.shape[1])), 2, axis=1)[:, 0, :]
        assert not g.flags.c_contiguous
        np.testing.assert_allclose(strict(act.backward, x, g),
                                   strict(act.backward, np.ascontiguousarray(x),
                                          np.ascontiguousarray(g)), **close)


@pytest.mark.parametrize("int_dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_integers_promote_like_np_exp(name: str, params: dict[str, Any], int_dtype: Any) -> None:
    act = actlab.get(name, **params)
    x = np.array([[0, 1, 1, 0, 1, 0]], dtype=int_dtype)
    expected = np.exp(x).dtype
    y = strict(act, x)
    assert y.dtype == expected
    np.testing.assert_allclose(y.astype(np.float64), strict(act, x.astype(np.float64)),
                               rtol=np.finfo(expected).eps)
    assert strict(act.backward, x, np.ones(y.shape, dtype=int_dtype)).dtype == expected
    if act.elementwise:
        assert strict(act.derivative, x).dtype == expected
        assert strict(act, int(x[0, 1])).dtype == np.float64  # a Python int: like np.exp(1)


# ---------------------------------------------------------------------------- out=
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_out_is_filled_and_returned(name: str) -> None:
    act = actlab.get(name)
    x = sample_input(name, (4, 5))
    g = sample_input(name, (4, 5)) + 1
    for method, args in ((act, (x,)), (act.derivative, (x,)), (act.second_derivative, (x,)),
                         (act.backward, (x, g))):
        out = np.full(x.shape, np.nan)
        result = strict(method, *args, out=out)
        assert result is out
        np.testing.assert_array_equal(out, strict(method, *args))
    # A float32 input may write into a float64 buffer (same kind), and a view works.
    buf = np.zeros((4, 10))
    view = buf[:, ::2]
    assert strict(act, x.astype(np.float32), out=view) is view
    np.testing.assert_array_equal(buf[:, ::2], strict(act, x.astype(np.float32)))
    assert np.all(buf[:, 1::2] == 0)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_zero_d_out_of_a_scalar_is_returned(name: str) -> None:
    """out= is returned itself for a Python scalar too, on both paths."""
    from actlab.activations import _fast

    act = actlab.get(name)
    for path in (contextlib.nullcontext(), _fast.numpy_only()):
        with path:
            for method, args in ((act, (0.5,)), (act.derivative, (0.5,)),
                                 (act.backward, (0.5, 2.0))):
                out = np.full((), np.nan)
                assert strict(method, *args, out=out) is out
                assert out == strict(method, *args)
            f, d = np.full((), np.nan), np.full((), np.nan)
            pair = strict(act.forward_with_derivative, 0.5, out=f, derivative_out=d)
            assert pair[0] is f and pair[1] is d


# ---------------------------------------------------------------------------- NaN
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_nan_stays_where_it_came_in_elementwise(name: str) -> None:
    act = actlab.get(name)
    x = np.array([-3.0, -0.5, 0.0, np.nan, 0.5, 3.0, np.inf, -np.inf])
    nan = np.isnan(x)
    g = np.full(x.shape, 2.0)
    for method, args in ((act, (x,)), (act.derivative, (x,)), (act.second_derivative, (x,)),
                         (act.backward, (x, g))):
        result = strict(method, *args)
        assert np.all(np.isnan(result) == nan), (method, result)
        np.testing.assert_array_equal(result[~nan], strict(method, *(a[~nan] for a in args)))


def test_relu_derivative_of_nan_is_nan() -> None:
    relu = actlab.get("relu")
    assert np.isnan(strict(relu.derivative, math.nan))
    assert np.isnan(strict(relu.backward, math.nan, 1.0))
    assert np.isnan(strict(relu, math.nan))


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("name,params", VECTOR_VARIANTS, ids=variant_id)
def test_nan_poisons_only_its_slice(name: str, params: dict[str, Any], axis: int) -> None:
    """softmax and log_softmax: the whole slice along the axis; maxout: the group; glu:
    the pair it multiplies."""
    act = actlab.get(name, axis=axis, **params)
    x = sample_input(name, (6, 6))
    clean_y = strict(act, x)
    x_nan = x.copy()
    x_nan[2, 3] = np.nan
    y = strict(act, x_nan)
    g = np.ones_like(y)
    b = strict(act.backward, x_nan, g)
    clean_b = strict(act.backward, x, g)
    x_moved = np.moveaxis(x_nan, axis, -1)
    slice_index = 2 if axis == 1 else 3
    position = 3 if axis == 1 else 2
    expected_nan_out = np.zeros(np.moveaxis(y, axis, -1).shape, dtype=bool)
    expected_nan_in = np.zeros(x_moved.shape, dtype=bool)
    if name == "maxout":
        pieces = params.get("pieces") or 6
        g_index = position // pieces
        expected_nan_out[slice_index, g_index] = True
        expected_nan_in[slice_index, g_index * pieces:(g_index + 1) * pieces] = True
    elif name == "glu":  # a_j ⊗ σ(b_j), a = the first half: the pair (a_j, b_j)
        half = x_moved.shape[-1] // 2
        j = position % half
        expected_nan_out[slice_index, j] = True
        # ∂/∂a_j = g·σ(b_j) does not depend on a_j: a NaN in a_j poisons ∂/∂b_j alone
        expected_nan_in[slice_index, j + half] = True
        expected_nan_in[slice_index, j] = position >= half
    else:
        expected_nan_out[slice_index] = True
        expected_nan_in[slice_index] = True
    nan_out = np.moveaxis(np.isnan(y), axis, -1)
    nan_in = np.moveaxis(np.isnan(b), axis, -1)
    np.testing.assert_array_equal(nan_out, expected_nan_out)
    np.testing.assert_array_equal(nan_in, expected_nan_in)
    np.testing.assert_array_equal(y[~np.isnan(y)], clean_y[~np.isnan(y)])
    np.testing.assert_array_equal(b[~np.isnan(b)], clean_b[~np.isnan(b)])


# ---------------------------------------------------------------------------- ±inf
def limit_at(method: Callable[[Any], Any], sign: float) -> float:
    """The limit of method(x) as x → sign·inf, read off the largest floats: where
    method(±max) = method(±max/2) the function has saturated at that value; otherwise it
    is still growing and its limit is an infinity of its sign."""
    big = sign * np.finfo(np.float64).max
    at_max, at_half = strict(method, big), strict(method, big / 2)
    if at_max == at_half:
        return float(at_max)
    assert abs(at_max) > abs(at_half)
    return math.copysign(math.inf, float(at_max))


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["+inf", "-inf"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_infinities_give_the_limits(name: str, sign: float) -> None:
    act = actlab.get(name)
    x = sign * math.inf
    for method in (act, act.derivative, act.second_derivative):
        value = strict(method, x)
        assert value == limit_at(method, sign), (method, x, value)
    assert strict(act.backward, x, 3.0) == 3.0 * limit_at(act.derivative, sign)


SPEC_LIMITS = {  # f(-inf), f(+inf): the exact limits
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "arctan": (-math.pi / 2, math.pi / 2),
    "relu": (0.0, math.inf),
    "selu": (-1.7580993408473768599402175208123, math.inf),  # -λα, rounded once
    "identity": (-math.inf, math.inf),
    "leaky_relu": (-math.inf, math.inf),
    "step": (0.0, 1.0),
}


@pytest.mark.parametrize("name", sorted(SPEC_LIMITS))
def test_spec_limits(name: str) -> None:
    act = actlab.get(name)
    low, high = SPEC_LIMITS[name]
    assert strict(act, -math.inf) == low and strict(act, math.inf) == high
    # f' tends to 0 at ±inf where f saturates, to the end slopes where it does not.
    slopes = {"relu": (0, 1), "identity": (1, 1), "leaky_relu": (0.1, 1),
              "selu": (0, 1.0507009873554804934193349852946)}.get(name, (0, 0))
    assert strict(act.derivative, -math.inf) == pytest.approx(slopes[0], rel=1e-15)
    assert strict(act.derivative, math.inf) == pytest.approx(slopes[1], rel=1e-15)
    assert strict(act.second_derivative, math.inf) == 0
    assert strict(act.second_derivative, -math.inf) == 0


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("slope", [0.0, 1.0])
def test_leaky_relu_at_the_ends_of_its_slope_range(slope: float, dtype: Any) -> None:
    """slope 0 is relu, slope 1 the identity, at ±inf too: 0·(-inf) must not make a NaN."""
    from actlab.activations import _fast

    x = np.array([-np.inf, -3.0, -0.0, 0.0, 2.0, np.inf, np.nan], dtype=dtype)
    # 0·x for x < 0 is -0, and x >= 0 (-0 included) passes through
    relu = np.array([-0.0, -0.0, -0.0, 0.0, 2.0, np.inf, np.nan], dtype=dtype)
    expected = relu if slope == 0 else x.copy()
    for path in (contextlib.nullcontext(), _fast.numpy_only()):
        with path:
            ours = strict(actlab.get("leaky_relu", slope=slope), x)
        np.testing.assert_array_equal(ours, expected)
        assert np.array_equal(np.signbit(ours), np.signbit(expected))


def test_softmax_family_with_infinite_entries() -> None:
    softmax, log_softmax = actlab.get("softmax"), actlab.get("log_softmax")
    x = np.array([[0.0, np.log(3.0), -np.inf],  # -inf: probability 0
                  [np.inf, 1.0, 2.0],  # one +inf: all the mass
                  [np.inf, np.inf, 0.0],  # two: equal shares
                  [-np.inf, -np.inf, 5.0]])
    s = strict(softmax, x)
    np.testing.assert_allclose(s, [[0.25, 0.75, 0], [1, 0, 0], [0.5, 0.5, 0], [0, 0, 1]],
                               rtol=1e-15, atol=0)
    ls = strict(log_softmax, x)
    np.testing.assert_allclose(ls, [[np.log(0.25), np.log(0.75), -np.inf], [0, -np.inf, -np.inf],
                                    [np.log(0.5), np.log(0.5), -np.inf], [-np.inf, -np.inf, 0]],
                               rtol=1e-15, atol=0)
    g = np.array([1.0, 2.0, 4.0])
    for row in x:
        b = strict(softmax.backward, row, g)
        assert np.all(np.isfinite(b)) and abs(b.sum()) < 1e-15
    # Where the mass sits on one entry the Jacobian vanishes: the backward is 0.
    np.testing.assert_array_equal(strict(softmax.backward, x[1], g), 0)
    np.testing.assert_array_equal(strict(softmax.backward, x[3], g), 0)
    # log_softmax's backward is g - softmax·Σg, finite also at the -inf entries.
    np.testing.assert_allclose(strict(log_softmax.backward, x[0], g), g - s[0] * g.sum(), rtol=1e-15)
    np.testing.assert_allclose(strict(log_softmax.backward, x[2], g), g - s[2] * g.sum(), rtol=1e-15)


def test_maxout_with_infinite_entries() -> None:
    maxout = actlab.get("maxout", pieces=2)
    x = np.array([np.inf, 1.0, -np.inf, 2.0, -np.inf, -np.inf, 3.0, np.inf])
    np.testing.assert_array_equal(strict(maxout, x), [np.inf, 2.0, -np.inf, np.inf])
    np.testing.assert_array_equal(strict(maxout.backward, x, [1.0, 2.0, 3.0, 4.0]),
                                  [1, 0, 0, 2, 3, 0, 0, 4])


# ---------------------------------------------------------------------------- warnings
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_no_floating_point_warnings_anywhere(name: str, params: dict[str, Any], dtype: Any) -> None:
    fi = np.finfo(dtype)
    values = np.array([0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny,
                       1.0, -1.0, 30.0, -30.0, 100.0, -100.0, 800.0, -800.0,
                       fi.max, -fi.max, np.inf, -np.inf, np.nan], dtype=dtype)
    act = actlab.get(name, **params)
    rows = values.reshape(-1, 1) if act.elementwise else np.stack(
        [np.roll(values, k)[:6] for k in range(len(values))])
    y = strict(act, rows)
    strict(act.backward, rows, np.ones_like(y))
    strict(act.backward, rows, np.ones_like(y), y=y)
    if act.elementwise:
        strict(act.derivative, rows)
        strict(act.second_derivative, rows)
    else:
        strict(act.jacobian, rows)


@pytest.mark.parametrize("layout", ["native", "big-endian", "numpy-kernels"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_no_warnings_from_extreme_grads(name: str, params: dict[str, Any], dtype: Any,
                                        layout: str) -> None:
    """Infinite, huge and NaN grads: no warning; an elementwise result is NaN only where x
    or grad is NaN, or grad is infinite (inf·0 where f' is 0)."""
    from actlab.activations import _fast

    fi = np.finfo(dtype)
    xs = np.array([0.0, -1.0, 2.0, -30.0, 800.0, -800.0, fi.max, np.inf, -np.inf, np.nan],
                  dtype=dtype)
    gs = np.array([np.inf, -np.inf, fi.max, -fi.max, np.nan, 1.0], dtype=dtype)
    x, g = (a.ravel() for a in np.meshgrid(xs, gs))
    act = actlab.get(name, **params)
    if not act.elementwise:
        pieces = params.get("pieces") or 2
        x = x[: x.size - x.size % (6 * pieces)].reshape(-1, 6 * pieces)
        g = np.resize(g, strict(act, x).shape)
    if layout == "big-endian":
        x, g = x.astype(x.dtype.newbyteorder(">")), g.astype(g.dtype.newbyteorder(">"))
    path = _fast.numpy_only() if layout == "numpy-kernels" else contextlib.nullcontext()
    with path:
        result = strict(act.backward, x, g)
    if act.elementwise:
        nan_allowed = np.isnan(x) | np.isnan(g) | np.isinf(g)
        assert not np.isnan(result[~nan_allowed]).any(), (x[np.isnan(result) & ~nan_allowed])


# ---------------------------------------------------------------------------- facts
USES = {"hidden layer", "regression output", "classification output"}


@pytest.mark.parametrize("name", NAMES)
def test_facts_are_filled_in(name: str) -> None:
    act = actlab.get(name)
    for text in (act.formula, act.derivative_formula, act.reference, act.summary,
                 act.plain_formula):
        assert isinstance(text, str) and text.strip()
    assert "\\" in act.formula or "=" in act.formula  # LaTeX, not a placeholder
    low, high = act.output_range
    assert low < high
    assert isinstance(act.monotonic, bool) and isinstance(act.zero_centered, bool)
    # inf where the derivative is unbounded (glu's ∂/∂b = a·σ'(b))
    assert isinstance(act.max_derivative, (int, float)) and act.max_derivative >= 0
    assert act.use and set(act.use) <= USES
    assert act.problems and all(isinstance(p, str) and len(p) > 20 for p in act.problems)
    if act.elementwise:
        assert act.second_derivative_formula.strip()
    if act.zero_centered:
        assert low < 0 < high
        if act.elementwise:
            assert strict(act, 0.0) == 0


def observed_derivatives(act: actlab.Activation) -> np.ndarray:
    """f' (elementwise) or every Jacobian entry (vector kinds) over a dense grid, with
    points close to each side of 0 where the seed's functions take their extremes."""
    t = np.concatenate([np.linspace(-20, 20, 40001), np.geomspace(1e-12, 1e-3, 50),
                        -np.geomspace(1e-12, 1e-3, 50),
                        # just left of each kink: the supremum of a right-continuous f'
                        [np.nextafter(k.x, -np.inf) for k in act.kinks]])
    if act.elementwise:
        return strict(act.derivative, t)
    pairs = np.stack([t, np.zeros_like(t)], axis=-1)
    quads = np.stack([t, np.zeros_like(t), -t / 2, t / 3], axis=-1)
    # many equal entries: sparsemax's diagonal 1 - 1/n approaches its supremum 1
    wide = np.zeros((1, 10**6 // 1000 * 2))
    return np.concatenate([strict(act.jacobian, pairs).ravel(),
                           strict(act.jacobian, quads).ravel(),
                           strict(act.jacobian, wide).ravel()])


@pytest.mark.parametrize("name", NAMES)
def test_max_derivative_is_the_observed_maximum(name: str) -> None:
    act = actlab.get(name)
    observed = np.max(np.abs(observed_derivatives(act)))
    if math.isinf(act.max_derivative):  # unbounded: it grows with the input's scale
        scaled = actlab.get(name)
        assert np.max(np.abs(strict(scaled.jacobian, np.array([[1e5, 1e5, 0.0, 0.0]])))) > 100 * observed
        return
    assert observed <= act.max_derivative * (1 + 1e-12) + 1e-300
    # a supremum approached as the length n grows (sparsemax's 1 - 1/n) within 1/n
    rel = 1e-6 if act.elementwise or act.name != "sparsemax" else 1e-3
    assert observed == pytest.approx(act.max_derivative, rel=rel, abs=1e-12)


@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_output_range_contains_observed_outputs(name: str, params: dict[str, Any]) -> None:
    act = actlab.get(name, **params)
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.standard_normal((200, 6)) * 10.0 ** rng.integers(-3, 4, (200, 1)),
                        np.linspace(-50, 50, 600).reshape(100, 6),
                        np.full((1, 6), np.inf), np.full((1, 6), -np.inf)])
    if not act.elementwise:
        x = x[np.isfinite(x).all(axis=1)]
    y = strict(act, x)
    low, high = act.output_range
    assert np.all((low <= y) & (y <= high))
    if act.monotonic and act.elementwise:
        # The range's ends are its infimum and supremum: the limits at ∓inf.
        assert strict(act, -np.inf) == low and strict(act, np.inf) == high


# ---------------------------------------------------------------------------- softmax family
def test_softmax_jacobian_symmetric_rows_sum_to_zero() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 7)) * 3
    jac = strict(actlab.get("softmax").jacobian, x)
    np.testing.assert_array_equal(jac, np.swapaxes(jac, -1, -2))
    np.testing.assert_allclose(jac.sum(axis=-1), 0, atol=1e-16)
    s = np.exp(x - x.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    expected = np.eye(7) * s[:, None, :] - s[:, :, None] * s[:, None, :]  # f_i(δ_ij - f_j)
    np.testing.assert_allclose(jac, expected, rtol=1e-13, atol=1e-17)
    g = rng.standard_normal((5, 7))
    np.testing.assert_allclose(strict(actlab.get("softmax").backward, x, g),
                               np.einsum("bi,bij->bj", g, jac), rtol=1e-12, atol=1e-16)


def test_log_softmax_jacobian_rows() -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 7)) * 3
    jac = strict(actlab.get("log_softmax").jacobian, x)
    s = np.exp(x - x.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    expected = np.eye(7)[None] - s[:, None, :]  # δ_ij - softmax_j
    np.testing.assert_allclose(jac, expected, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(strict(actlab.get("log_softmax"), x), np.log(s), rtol=1e-13)


def test_softmax_sums_to_one_and_ignores_shifts() -> None:
    x = np.array([1000.0, 1001.0, 999.0])  # overflows e^x unless the max is subtracted
    s = strict(actlab.softmax, x)
    np.testing.assert_allclose(s, strict(actlab.softmax, x - 1000.0), rtol=1e-15)
    assert abs(s.sum() - 1) <= 2 * np.finfo(np.float64).eps


# ---------------------------------------------------------------------------- maxout
def test_maxout_first_max_takes_the_gradient() -> None:
    maxout = actlab.get("maxout", pieces=3)
    x = np.array([2.0, 5.0, 5.0, 7.0, 7.0, 7.0])
    np.testing.assert_array_equal(strict(maxout.backward, x, [10.0, 20.0]), [0, 10, 0, 20, 0, 0])
    np.testing.assert_array_equal(strict(maxout.jacobian, x),
                                  [[0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]])
    whole = actlab.get("maxout")  # the seed's max over all i
    np.testing.assert_array_equal(strict(whole.backward, [1.0, 3.0, 3.0], [1.0]), [0, 1, 0])


def _interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([a, b], axis=-1).reshape(*a.shape[:-1], -1)


def test_maxout_goodfellow_identities() -> None:
    """Goodfellow et al. 2013: with k = 2, maxout over (z, 0) is relu, over (z, -z) is
    abs, over (z, a·z) is leaky relu with slope a (0 <= a <= 1)."""
    z = np.concatenate([np.linspace(-5, 5, 101), [np.inf, -np.inf]])[None, :]
    maxout = actlab.get("maxout", pieces=2)
    g = np.ones_like(z)
    pairs = _interleave(z, np.zeros_like(z))
    np.testing.assert_array_equal(strict(maxout, pairs), strict(actlab.relu, z))
    # The gradient reaching z is relu's, and the tie at z = 0 goes to z: relu'(0) = 1.
    np.testing.assert_array_equal(strict(maxout.backward, pairs, g)[..., 0::2],
                                  strict(actlab.get("relu").derivative, z))
    np.testing.assert_array_equal(strict(maxout, _interleave(z, -z)), np.abs(z))
    # (z, a·z) ties at z = -inf as well as at 0; at -inf the first maximum, z, takes the
    # gradient (1, not a): leave -inf out of the leaky relu identity.
    z = z[np.isfinite(z) | (z > 0)][None, :]
    g = np.ones_like(z)
    for a in (0.1, 0.3, 1.0):
        az = strict(actlab.leaky_relu, z, slope=a)
        pairs = _interleave(z, z * a)
        np.testing.assert_array_equal(strict(maxout, pairs), az)
        grads = strict(maxout.backward, pairs, g)
        dz = grads[..., 0::2] + a * grads[..., 1::2]  # chain rule through (z, a·z)
        np.testing.assert_array_equal(dz, strict(actlab.get("leaky_relu", slope=a).derivative, z))


# ---------------------------------------------------------------------------- selu
def test_selu_derivative_fixes_the_seed_misprint() -> None:
    import mpmath

    selu = actlab.get("selu")
    lam = mpmath.mpf("1.0507009873554804934193349852946")
    alpha = mpmath.mpf("1.6732632423543772848170429916717")
    exact = float(lam * alpha * mpmath.exp(-1))
    assert exact == pytest.approx(0.6467686, abs=1e-7)
    assert strict(selu.derivative, -1.0) == pytest.approx(exact, rel=4e-16)
    misprint = float(lam) * (float(selu(-1.0)) + float(alpha))  # λ(f + α), f the output
    assert abs(strict(selu.derivative, -1.0) - misprint) > 0.05


def test_selu_derivative_is_output_plus_lambda_alpha_below_zero() -> None:
    selu = actlab.get("selu")
    x = np.linspace(-5, -1e-3, 500)
    lam_alpha = 1.7580993408473768599402175208123
    # f + λα cancels toward x = -5 (f → -λα): an absolute tolerance of a few eps·λα.
    np.testing.assert_allclose(strict(selu.derivative, x), strict(selu, x) + lam_alpha,
                               rtol=1e-15, atol=4 * np.finfo(np.float64).eps * lam_alpha)
    np.testing.assert_allclose(strict(selu.second_derivative, x), strict(selu.derivative, x),
                               rtol=8 * np.finfo(np.float64).eps)
    assert strict(selu.derivative, 0.0) == pytest.approx(1.0507009873554805, rel=1e-16)


@pytest.mark.parametrize("out_dtype", [np.float16, np.float32])
@pytest.mark.parametrize("name,params", VARIANTS, ids=variant_id)
def test_no_warnings_storing_into_a_narrower_out(name: str, params: dict[str, Any],
                                                 out_dtype: Any) -> None:
    """A float64 result stored into a float16 or float32 out= rounds to ±inf or 0 without
    a warning, by every method, as the plain call into such an out= does."""
    act = actlab.get(name, **params)
    x = np.array([1e6, -1e6, 1e300, -1e300, 1e-300, 0.5, -0.5, 7e4, -7e4, 1e39, 1e-46, 2.0])
    if not act.elementwise:
        x = x.reshape(2, 6)
    y = act(x)
    g = np.full(y.shape, 1e300)

    def out(shape: tuple[int, ...]) -> np.ndarray:
        return np.empty(shape, out_dtype)

    def narrow(a: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return a.astype(out_dtype)

    o = strict(act, x, out=out(y.shape))
    np.testing.assert_array_equal(o, narrow(y))
    o = strict(act.backward, x, g, out=out(x.shape))
    np.testing.assert_array_equal(o, narrow(act.backward(x, g)))
    if act.elementwise:
        d = act.derivative(x)
        np.testing.assert_array_equal(strict(act.derivative, x, out=out(x.shape)),
                                      narrow(d))
        np.testing.assert_array_equal(strict(act.second_derivative, x, out=out(x.shape)),
                                      narrow(act.second_derivative(x)))
        f2, d2 = strict(act.forward_with_derivative, x, out=out(x.shape),
                        derivative_out=out(x.shape))
        np.testing.assert_array_equal(f2, narrow(y))
        np.testing.assert_array_equal(d2, narrow(d))
