"""Property tests: random shapes, dtypes and values (±0, subnormals, huge, ±inf, NaN)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actlab

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

NAMES = actlab.names()
ELEMENTWISE = [n for n in NAMES if actlab.get(n).elementwise]
VECTOR = [n for n in NAMES if not actlab.get(n).elementwise]
MONOTONIC = [n for n in ELEMENTWISE if actlab.get(n).monotonic]

SETTINGS = settings(deadline=None, max_examples=40, derandomize=True)
DTYPES = st.sampled_from([np.float32, np.float64])


@st.composite
def arrays(draw: Any, *, min_dims: int = 0, allow_nan: bool = True, allow_infinity: bool = True,
           min_side: int = 0, max_value: float | None = None) -> np.ndarray:
    dtype = draw(DTYPES)
    width = 32 if dtype == np.float32 else 64
    if max_value is None:
        elements = st.floats(width=width, allow_nan=allow_nan, allow_infinity=allow_infinity)
    else:
        elements = st.floats(-max_value, max_value, width=width)
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=min_side, max_side=5))
    return draw(hnp.arrays(dtype, shape, elements=elements))


def strict(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with np.errstate(all="raise"):
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------- every function
@pytest.mark.parametrize("name", ELEMENTWISE)
@SETTINGS
@given(x=arrays())
def test_elementwise_shape_dtype_range_nan(name: str, x: np.ndarray) -> None:
    act = actlab.get(name)
    y = strict(act, x)
    assert y.shape == x.shape and y.dtype == x.dtype
    nan = np.isnan(x)
    np.testing.assert_array_equal(np.isnan(y), nan)
    low, high = act.output_range
    assert np.all((low <= y[~nan]) & (y[~nan] <= high))
    for method in (act.derivative, act.second_derivative):
        d = strict(method, x)
        assert d.shape == x.shape and d.dtype == x.dtype
        np.testing.assert_array_equal(np.isnan(d), nan)
    d = strict(act.derivative, x)
    assert np.all(np.abs(d[~nan]) <= act.max_derivative * (1 + 1e-6))


@pytest.mark.parametrize("name", VECTOR)
@SETTINGS
@given(x=arrays(min_dims=1, min_side=1), data=st.data())
def test_vector_shape_dtype_range(name: str, x: np.ndarray, data: Any) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    act = actlab.get(name, axis=axis)
    if name == "glu":
        x = np.concatenate([x, x[::-1]], axis=axis)  # an even length along the axis
    y = strict(act, x)
    assert y.dtype == x.dtype
    expected = list(x.shape)
    if name == "maxout":
        expected[axis] = 1  # pieces=None: the whole axis is one group
    if name == "glu":
        expected[axis] //= 2
    assert list(y.shape) == expected
    if name == "glu":  # a ⊗ σ(b): NaN from a NaN in the pair, or ±inf·σ(-inf) = ±inf·0
        a, b = np.split(x, 2, axis=axis)
        nan = np.isnan(a) | np.isnan(b) | (np.isinf(a) & (b == -np.inf))
        np.testing.assert_array_equal(np.isnan(y), nan)
    else:
        nan_slices = np.isnan(x).any(axis=axis, keepdims=True)
        np.testing.assert_array_equal(np.isnan(y), np.broadcast_to(nan_slices, y.shape))
    low, high = act.output_range
    ok = y[~np.isnan(y)]
    assert np.all((low <= ok) & (ok <= high))
    b = strict(act.backward, x, np.ones_like(y))
    assert b.shape == x.shape and b.dtype == x.dtype


@pytest.mark.parametrize("name", MONOTONIC)
@SETTINGS
@given(x=arrays(allow_nan=False))
def test_monotonic_functions_are_monotone(name: str, x: np.ndarray) -> None:
    s = np.sort(x.ravel())
    y = strict(actlab.get(name), s)
    assert np.all(y[1:] >= y[:-1]), (s, y)


@pytest.mark.parametrize("name", [n for n in VECTOR if actlab.get(n).monotonic])
@SETTINGS
@given(x=arrays(min_dims=1, min_side=1, allow_nan=False, allow_infinity=False, max_value=1e3),
       bump=st.floats(0, 1e3))
def test_vector_outputs_rise_with_their_own_input(name: str, x: np.ndarray, bump: float) -> None:
    """Raising the first entry along the axis never lowers the first output."""
    act = actlab.get(name)
    higher = x.copy()
    higher[..., 0] = higher[..., 0] + x.dtype.type(bump)
    assert np.all(strict(act, higher)[..., 0] >= strict(act, x)[..., 0])


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(x=arrays(min_dims=1, min_side=1, allow_nan=False), data=st.data())
def test_backward_is_linear_in_grad(name: str, x: np.ndarray, data: Any) -> None:
    act = actlab.get(name)
    if name == "glu":
        # an even length along the axis; finite entries, since ∂/∂b = a·σ'(b) is inf·g
        # where a is infinite, and inf·g1 + inf·g2 need not be inf·(g1 + g2)
        x = np.concatenate([x, x[..., ::-1]], axis=-1)
        x = np.where(np.isfinite(x), x, x.dtype.type(0))
    y = strict(act, x)
    grads = hnp.arrays(np.float64, y.shape, elements=st.floats(-1e3, 1e3))
    g1, g2 = data.draw(grads), data.draw(grads)
    a, b = data.draw(st.floats(-10, 10)), data.draw(st.floats(-10, 10))
    x64 = x.astype(np.float64)
    combined = strict(act.backward, x64, a * g1 + b * g2)
    separate = a * strict(act.backward, x64, g1) + b * strict(act.backward, x64, g2)
    # Rounding only: a few eps of the largest term, |a|·|g1| + |b|·|g2| times the largest
    # derivative, times the axis length for the vector kinds (their VJP sums over it).
    n = 1 if act.elementwise else x.shape[-1]
    largest = act.max_derivative
    if np.isinf(largest):  # unbounded (glu's a·σ'(b)): bounded here by the largest |x|
        largest = float(np.max(np.abs(x64), initial=0.0))
    tolerance = 1e-13 * (abs(a) + abs(b)) * 1e3 * max(1.0, largest) * n
    both_nan = np.isnan(combined) & np.isnan(separate)
    assert np.all(both_nan | (np.abs(combined - separate) <= tolerance))


# ---------------------------------------------------------------------------- identities
@SETTINGS
@given(x=arrays(allow_nan=False))
def test_sigmoid_of_x_plus_sigmoid_of_minus_x_is_one(x: np.ndarray) -> None:
    total = strict(actlab.sigmoid, x).astype(np.float64) + strict(actlab.sigmoid, -x)
    assert np.all(np.abs(total - 1) <= 2 * np.finfo(x.dtype).eps)


@SETTINGS
@given(x=arrays())
def test_tanh_is_odd_exactly(x: np.ndarray) -> None:
    a, b = strict(actlab.tanh, -x), -strict(actlab.tanh, x)
    np.testing.assert_array_equal(a, b)
    bits = np.dtype(f"u{x.itemsize}")
    assert np.all((a.view(bits) == b.view(bits)) | np.isnan(a))


@SETTINGS
@given(x=arrays(min_dims=1, min_side=1, allow_nan=False), data=st.data())
def test_softmax_sums_to_one(x: np.ndarray, data: Any) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    s = strict(actlab.softmax, x, axis=axis)
    n = x.shape[axis]
    total = s.astype(np.float64).sum(axis=axis)
    # each entry within a few ULP: the sum within a few eps per entry
    assert np.all(np.abs(total - 1) <= (2 + n) * np.finfo(x.dtype).eps)


@SETTINGS
@given(k=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                    elements=st.integers(-4000, 4000)),
       c=st.integers(-10_000, 10_000), dtype=DTYPES, data=st.data())
def test_softmax_ignores_a_constant_shift(k: np.ndarray, c: int, dtype: Any, data: Any) -> None:
    """x on a grid of 1/8 so that x + c is exact in both dtypes: only the shift changes."""
    axis = data.draw(st.integers(-k.ndim, k.ndim - 1))
    x = (k / 8).astype(dtype)
    shifted = (k / 8 + c).astype(dtype)
    assert np.array_equal(shifted.astype(np.float64) - c, x.astype(np.float64))  # exact
    eps = np.finfo(dtype).eps
    for name in ("softmax", "log_softmax"):
        act = actlab.get(name, axis=axis)
        np.testing.assert_allclose(strict(act, shifted), strict(act, x), rtol=4 * eps, atol=4 * eps)
