"""Bad input gets a ValueError that names the offending value (and, for names, the
closest valid one), never a deep NumPy traceback or a silent NaN."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actlab

VECTOR = [n for n in actlab.names() if not actlab.get(n).elementwise]
ELEMENTWISE = [n for n in actlab.names() if actlab.get(n).elementwise]


# ---------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    "typo,meant",
    [("rleu", "relu"), ("sigmod", "sigmoid"), ("tahn", "tanh"), ("leaky_rlu", "leaky_relu"),
     ("softmx", "softmax"), ("maxot", "maxout"), ("logistc", "logistic")],
)
def test_unknown_name_suggests_the_closest(typo: str, meant: str) -> None:
    with pytest.raises(ValueError) as info:
        actlab.get(typo)
    message = str(info.value)
    assert message.startswith(f"unknown activation {typo!r}; did you mean {meant!r}?")
    for name in actlab.names():  # and lists what exists
        assert name in message


def test_unknown_name_without_a_close_match_lists_the_known() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'qqqqqq' \(known: step, "):
        actlab.get("qqqqqq")


@pytest.mark.parametrize("bad", [3, None, 1.5, ["relu"]])
def test_name_must_be_a_string(bad: Any) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        actlab.get(bad)


def test_names_and_aliases_are_normalised() -> None:
    assert actlab.get("ReLU").name == "relu"
    assert actlab.get("Leaky-ReLU").name == "leaky_relu"
    assert actlab.get("logistic").name == "sigmoid"
    for alias, name in actlab.aliases().items():
        assert actlab.get(alias).name == name and name in actlab.names()


# ---------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("slope", [math.nan, math.inf, -math.inf, "0.1", None, True, [0.1], 1j, -0.1, 1.5])
def test_bad_slope(slope: Any) -> None:
    with pytest.raises(ValueError) as info:
        actlab.get("leaky_relu", slope=slope)
    assert str(info.value).startswith("leaky_relu: slope")
    assert repr(slope) in str(info.value)
    with pytest.raises(ValueError, match="slope"):  # the shortcut validates the same way
        actlab.leaky_relu([1.0], slope=slope)


@pytest.mark.parametrize("pieces", [0, -2, 2.0, "2", True])
def test_bad_pieces(pieces: Any) -> None:
    with pytest.raises(ValueError) as info:
        actlab.get("maxout", pieces=pieces)
    assert str(info.value).startswith("maxout: pieces")
    assert repr(pieces) in str(info.value)


@pytest.mark.parametrize("pieces,n", [(3, 4), (4, 6), (5, 3)])
def test_pieces_must_divide_the_axis(pieces: int, n: int) -> None:
    maxout = actlab.get("maxout", pieces=pieces)
    x = np.arange(2.0 * n).reshape(2, n)
    expected = f"maxout: pieces={pieces} does not divide the axis of length {n}"
    for call in (lambda: maxout(x), lambda: maxout.jacobian(x),
                 lambda: maxout.backward(x, np.ones((2, 1)))):
        with pytest.raises(ValueError, match=re.escape(expected)):
            call()


@pytest.mark.parametrize("axis", ["0", 1.0, None, True])
@pytest.mark.parametrize("name", VECTOR)
def test_axis_must_be_an_integer(name: str, axis: Any) -> None:
    with pytest.raises(ValueError, match=f"{name}: axis must be an integer, got {re.escape(repr(axis))}"):
        actlab.get(name, axis=axis)


@pytest.mark.parametrize("axis", [2, -3, 7])
@pytest.mark.parametrize("name", VECTOR)
def test_axis_out_of_bounds(name: str, axis: int) -> None:
    act = actlab.get(name, axis=axis)
    x = np.ones((2, 4))
    expected = f"{name}: axis {axis} is out of bounds for an array of dimension 2"
    for call in (lambda: act(x), lambda: act.jacobian(x), lambda: act.backward(x, np.ones((2, 4)))):
        with pytest.raises(ValueError, match=re.escape(expected)):
            call()


@pytest.mark.parametrize("name", VECTOR)
def test_vector_functions_need_an_axis(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} needs at least 1 dimension"):
        actlab.get(name)(2.0)


def test_unknown_parameter() -> None:
    with pytest.raises(ValueError, match=r"leaky_relu: unknown parameter 'slop'; did you mean 'slope'\?"):
        actlab.get("leaky_relu", slop=0.2)
    with pytest.raises(ValueError, match=r"relu: unknown parameter 'slope' \(it takes no parameters\)"):
        actlab.get("relu", slope=0.2)
    with pytest.raises(ValueError, match="sigmoid: unknown parameter 'axis'"):
        actlab.sigmoid([1.0], axis=0)


# ---------------------------------------------------------------------------- methods by kind
@pytest.mark.parametrize("name", VECTOR)
def test_derivative_of_a_vector_function_points_to_jacobian_and_backward(name: str) -> None:
    act = actlab.get(name)
    with pytest.raises(ValueError) as info:
        act.derivative([1.0, 2.0])
    message = str(info.value)
    assert message.startswith(f"{name} is not elementwise")
    assert ".jacobian(x)" in message and ".backward(x, grad)" in message


@pytest.mark.parametrize("name", VECTOR)
def test_second_derivative_of_a_vector_function(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} has no elementwise second derivative"):
        actlab.get(name).second_derivative([1.0, 2.0])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_jacobian_of_an_elementwise_function_points_to_derivative(name: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{name} is elementwise") + ".*derivative"):
        actlab.get(name).jacobian([1.0, 2.0])


@pytest.mark.parametrize("name", VECTOR)
def test_out_of_a_vector_function(name: str) -> None:
    """out= takes the result: x's shape (maxout: the last axis divided by pieces) for the
    forward, x's shape for the backward; a wrong one is named, and left untouched."""
    act = actlab.get(name)
    x = np.random.default_rng(2).standard_normal((2, 4))
    want = act(x)
    g = np.ones_like(want)
    groups = {"maxout": 4 // (act.values.get("pieces") or 4), "glu": 2}.get(name, 4)
    assert want.shape == (2, groups)
    for dtype in (np.float64, np.float32):  # a narrower float: same_kind, as NumPy allows
        buf = np.empty(want.shape, dtype)
        assert act(x, out=buf) is buf
        np.testing.assert_array_equal(buf, want.astype(dtype))
    buf = np.empty((2, 4))
    assert act.backward(x, g, out=buf) is buf
    np.testing.assert_array_equal(buf, act.backward(x, g))
    bad_forward = np.zeros((2, 3))
    with pytest.raises(ValueError, match=re.escape(f"{name}: out has shape (2, 3), "
                                                   f"the result has shape {want.shape}")):
        act(x, out=bad_forward)
    with pytest.raises(ValueError, match=re.escape(f"{name}: out has shape (2, 3), "
                                                   "the result has shape (2, 4)")):
        act.backward(x, g, out=bad_forward)
    assert not bad_forward.any()
    with pytest.raises(ValueError, match=f"{name}: out has dtype int64, the result is float64"):
        act(x, out=np.zeros(want.shape, np.int64))
    read_only = np.zeros(want.shape)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=f"{name}: out is read-only"):
        act(x, out=read_only)


# ---------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_grad_of_the_wrong_shape_elementwise(name: str) -> None:
    act = actlab.get(name)
    x = np.ones((2, 3))
    for grad in (np.ones(3), np.ones((3, 2)), np.ones((2, 3, 1)), 1.0):
        with pytest.raises(ValueError, match=re.escape(f"{name}: grad has shape {np.shape(grad)}, "
                                                       f"expected the shape of x (2, 3)")):
            act.backward(x, grad)


@pytest.mark.parametrize("name", VECTOR)
def test_grad_of_the_wrong_shape_vector(name: str) -> None:
    act = actlab.get(name, **({"pieces": 2} if name == "maxout" else {}))
    x = np.ones((2, 4))
    narrows = not act.keeps_shape  # maxout with 2 pieces and glu halve the axis
    expected = (2, 2) if narrows else (2, 4)
    for grad in (np.ones(4), np.ones((2, 3)), np.ones((2, 4)) if narrows else np.ones((4, 2))):
        with pytest.raises(ValueError, match=re.escape(f"{name}: grad has shape {grad.shape}, "
                                                       f"expected {expected}")):
            act.backward(x, grad)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "selu", "softmax", "log_softmax"])
def test_saved_output_of_the_wrong_shape(name: str) -> None:
    act = actlab.get(name)
    with pytest.raises(ValueError, match=f"{name}: the saved output y has shape \\(3,\\)"):
        act.backward([1.0, 2.0], [1.0, 1.0], y=[0.5, 0.5, 0.5])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_out_of_the_wrong_shape_or_dtype(name: str) -> None:
    act = actlab.get(name)
    x = np.ones((2, 3))
    calls = {"forward": lambda out: act(x, out=out),
             "derivative": lambda out: act.derivative(x, out=out),
             "second_derivative": lambda out: act.second_derivative(x, out=out),
             "backward": lambda out: act.backward(x, np.ones((2, 3)), out=out),
             "forward_with_derivative": lambda out: act.forward_with_derivative(x, out=out)[0],
             "its derivative_out": lambda out: act.forward_with_derivative(x, derivative_out=out)[1]}
    for what, call in calls.items():
        with pytest.raises(ValueError, match=re.escape(f"{name}: out has shape (3, 2), "
                                                       "the result has shape (2, 3)")):
            call(np.empty((3, 2)))
        with pytest.raises(ValueError, match=f"{name}: out has dtype int64, the result is float64"):
            call(np.empty((2, 3), dtype=np.int64))
        with pytest.raises(ValueError, match=f"{name}: out must be a NumPy array, got list"):
            call([[0.0] * 3] * 2)
        read_only = np.zeros((2, 3))
        read_only.flags.writeable = False
        with pytest.raises(ValueError, match=f"{name}: out is read-only"):
            call(read_only)
        assert not read_only.any()
        # A narrower float is allowed, as NumPy's ufuncs allow it (same_kind casting).
        buf = np.empty((2, 3), dtype=np.float32)
        assert call(buf) is buf, what


# ---------------------------------------------------------------------------- input values
@pytest.mark.parametrize("name", actlab.names())
def test_input_that_is_not_real_numbers(name: str) -> None:
    act = actlab.get(name)
    with pytest.raises(ValueError, match=f"{name}: x is complex"):
        act([1 + 2j, 3.0])
    with pytest.raises(ValueError, match=f"{name}: x has dtype <U1, expected real numbers"):
        act(["a", "b"])
    with pytest.raises(ValueError, match=f"{name}: x has dtype object, expected real numbers"):
        act(np.array([None, 1.0]))
    with pytest.raises(ValueError, match=f"{name}: x is not convertible to a numeric array"):
        act([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=f"{name}: grad has dtype <U1"):
        act.backward([1.0, 2.0], ["a", "b"])


@pytest.mark.parametrize("numpy_only", [False, True], ids=["compiled", "numpy"])
def test_maxout_backward_checks_grad_and_y(numpy_only: bool) -> None:
    from actlab.activations import _fast

    maxout = actlab.get("maxout", pieces=2)
    x = np.array([[1.0, 5.0, -2.0, 0.0]])
    with _fast.numpy_only() if numpy_only else contextlib.nullcontext():
        with pytest.raises(ValueError, match="maxout: grad is None"):
            maxout.backward(x, None)
        with pytest.raises(ValueError, match="maxout: y has dtype <U3"):
            maxout.backward(x, np.ones((1, 2)), y="abc")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_forward_with_derivative_into_the_same_array(name: str) -> None:
    act = actlab.get(name)
    buf = np.empty(4)
    with pytest.raises(ValueError, match=f"{name}: out and derivative_out share memory"):
        act.forward_with_derivative(np.arange(4.0), out=buf, derivative_out=buf)
    with pytest.raises(ValueError, match="share memory"):
        act.forward_with_derivative(np.arange(2.0), out=buf[:2], derivative_out=buf[1:3])
    f, d = act.forward_with_derivative(np.arange(2.0), out=buf[:2], derivative_out=buf[2:])
    np.testing.assert_array_equal(f, act(np.arange(2.0)))
    np.testing.assert_array_equal(d, act.derivative(np.arange(2.0)))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_saved_output_of_the_right_size_but_wrong_shape(name: str) -> None:
    act = actlab.get(name)
    with pytest.raises(ValueError, match=r"y has shape \(4,\), expected the shape of x \(2, 2\)"):
        act.derivative(np.zeros((2, 2)), y=np.zeros(4))
    with pytest.raises(ValueError, match=r"y has shape \(4,\), expected the shape of x \(2, 2\)"):
        act.backward(np.zeros((2, 2)), np.ones((2, 2)), y=np.zeros(4))


@pytest.mark.parametrize("numpy_only", [False, True], ids=["compiled", "numpy"])
@pytest.mark.parametrize("name,params,x_shape,y_shape", [
    ("maxout", {"pieces": 2}, (4,), (7,)),
    ("maxout", {"pieces": 2}, (3, 4), (3, 4)),  # x's shape, not f(x)'s
    ("maxout", {"pieces": 2}, (3, 4), (2,)),
    ("maxout", {}, (3, 4), (3,)),
    ("softmax", {}, (3, 4), (3, 2)),
    ("log_softmax", {}, (3, 4), (4,)),
])
def test_vector_backward_checks_the_saved_output_shape(
        name: str, params: dict[str, Any], x_shape: tuple[int, ...], y_shape: tuple[int, ...],
        numpy_only: bool) -> None:
    from actlab.activations import _fast

    act = actlab.get(name, **params)
    x = np.random.default_rng(0).standard_normal(x_shape)
    grad = np.ones(np.shape(act(x)))
    with _fast.numpy_only() if numpy_only else contextlib.nullcontext():
        with pytest.raises(ValueError, match=re.escape(
                f"{name}: the saved output y has shape {y_shape}")):
            act.backward(x, grad, y=np.zeros(y_shape))
        # the right shape is taken (log_softmax uses e^y: a few ULP apart)
        np.testing.assert_allclose(act.backward(x, grad, y=act(x)), act.backward(x, grad),
                                   rtol=1e-14, atol=1e-15)


HUGE_INTS = [10**400, -10**400, 2**63, -(2**63) - 1, 2**1024]
NOT_NUMBERS = [True, False, np.bool_(True), "1", np.str_("1"), b"1", None, [1], np.array([1]),
               1j, np.complex128(1)]


@pytest.mark.parametrize("value", [*HUGE_INTS, *NOT_NUMBERS, math.nan, math.inf, -math.inf,
                                   np.float64(math.nan), np.float32(math.inf), np.float16(-math.inf),
                                   np.float64(1.5), np.int64(2), 10**20],
                         ids=repr)
def test_every_bad_slope_is_a_value_error_naming_it(value: Any) -> None:
    with pytest.raises(ValueError) as info:
        actlab.get("leaky_relu", slope=value)
    assert str(info.value).startswith("leaky_relu: slope")
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [*NOT_NUMBERS, 0, -1, -(10**400), np.int64(0), math.nan,
                                   np.float64(2.0), 2.5], ids=repr)
def test_every_bad_pieces_is_a_value_error_naming_it(value: Any) -> None:
    if value is None:
        return  # None takes the whole axis
    with pytest.raises(ValueError) as info:
        actlab.get("maxout", pieces=value)
    assert str(info.value).startswith("maxout: pieces")
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [*NOT_NUMBERS, math.nan, math.inf, np.float64(0.0), 1.0],
                         ids=repr)
@pytest.mark.parametrize("name", VECTOR)
def test_every_bad_axis_is_a_value_error_naming_it(name: str, value: Any) -> None:
    with pytest.raises(ValueError) as info:
        actlab.get(name, axis=value)
    assert str(info.value).startswith(f"{name}: axis")
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("name,param,value", [
    *[(n, "axis", v) for n in VECTOR for v in HUGE_INTS],
    *[("maxout", "pieces", v) for v in HUGE_INTS if v > 0],
])
def test_huge_integer_parameters_are_refused_at_the_call(name: str, param: str, value: int) -> None:
    """A huge axis or group size is an integer: get() takes it, and every call says that it
    does not fit the array, for the compiled and the NumPy path."""
    from actlab.activations import _fast

    act = actlab.get(name, **{param: value})
    x = np.ones((2, 4))
    for path in (contextlib.nullcontext(), _fast.numpy_only()):
        with path:
            for call in (lambda: act(x), lambda: act.backward(x, np.ones((2, 4))),
                         lambda: act.jacobian(x)):
                with pytest.raises(ValueError, match=re.escape(str(value))):
                    call()


@pytest.mark.parametrize("name,param,value,want", [
    ("leaky_relu", "slope", np.float32(0.25), 0.25),
    ("leaky_relu", "slope", np.int64(1), 1.0),
    ("leaky_relu", "slope", np.float64(0.0), 0.0),
    ("maxout", "pieces", np.int64(2), 2),
    ("maxout", "pieces", np.uint8(3), 3),
    ("softmax", "axis", np.int8(-1), -1),
])
def test_numpy_scalars_are_taken_as_python_numbers(name: str, param: str, value: Any,
                                                   want: Any) -> None:
    bound = actlab.get(name, **{param: value}).values[param]
    assert bound == want and type(bound) is type(want)


@pytest.mark.parametrize("value", [*NOT_NUMBERS, "b ", 1, 1.0, np.array(["a"])], ids=repr)
def test_one_of_refuses_what_is_none_of_its_choices(value: Any) -> None:
    from actlab.activations._registry import one_of

    validate = one_of("a", "b", 2)
    assert validate("f", "mode", "b") == "b" and validate("f", "mode", 2) == 2
    with pytest.raises(ValueError) as info:
        validate("f", "mode", value)
    assert str(info.value).startswith("f: mode must be one of") and repr(value) in str(info.value)


@pytest.mark.parametrize("numpy_only", [False, True], ids=["compiled", "numpy"])
@pytest.mark.parametrize("name", actlab.names())
def test_masked_arrays_are_refused(name: str, numpy_only: bool) -> None:
    from actlab.activations import _fast

    act = actlab.get(name)
    x = np.linspace(-2.0, 2.0, 8).reshape(2, 4)
    y = act(x)
    g = np.ones(y.shape)
    mask = np.zeros(x.shape, bool)
    mask[0, 1] = True

    def masked(a: np.ndarray) -> np.ma.MaskedArray:
        return np.ma.MaskedArray(a.copy(), mask=np.zeros(a.shape, bool) | (a.shape == x.shape and mask))

    calls: list[tuple[str, Callable[[], Any]]] = [
        ("x", lambda: act(masked(x))),
        ("out", lambda: act(x, out=masked(y))),
        ("x", lambda: act.backward(masked(x), g)),
        ("grad", lambda: act.backward(x, masked(g))),
        ("y", lambda: act.backward(x, g, y=masked(y))),
        ("out", lambda: act.backward(x, g, out=masked(x))),
    ]
    if act.elementwise:
        calls += [
            ("x", lambda: act.derivative(masked(x))),
            ("y", lambda: act.derivative(x, y=masked(y))),
            ("out", lambda: act.derivative(x, out=masked(x))),
            ("x", lambda: act.second_derivative(masked(x))),
            ("x", lambda: act.forward_with_derivative(masked(x))),
            ("out", lambda: act.forward_with_derivative(x, out=masked(x))),
            ("derivative_out", lambda: act.forward_with_derivative(x, derivative_out=masked(x))),
        ]
    else:
        calls.append(("x", lambda: act.jacobian(masked(x))))
    with _fast.numpy_only() if numpy_only else contextlib.nullcontext():
        for what, call in calls:
            with pytest.raises(ValueError, match=re.escape(
                    f"{name}: {what} is a masked array; masked arrays are not supported; "
                    f"pass {what}.filled(...) or {what}.data")):
                call()
