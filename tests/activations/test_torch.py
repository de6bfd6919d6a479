"""Derivatives cross-checked against torch.autograd, the third independent check.

Where the textbook formulas torch uses are well conditioned, its float64 gradients and
ours agree to a few ULP.  At the kinks the conventions differ (docs/numerics.md): both values are
asserted.  Where torch's σ(1-σ) and 1-tanh² lose their digits, ours is the one that
matches the 50-digit mpmath value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actlab

torch = pytest.importorskip("torch")
F = torch.nn.functional
mpmath = pytest.importorskip("mpmath")

EPS = float(np.finfo(np.float64).eps)
LAMBDA = 1.0507009873554804934193349852946
LAMBDA_ALPHA = 1.7580993408473768599402175208123

#: actlab name -> (torch function, an interval where torch's backward formula is well
#: conditioned, so both should be within a few ULP of the truth there).
ELEMENTWISE: dict[str, tuple[Callable[[Any], Any], tuple[float, float]]] = {
    # σ(1-σ): 1-σ cancels for x > 0; fine below (σ small, 1-σ near 1).
    "sigmoid": (torch.sigmoid, (-30.0, 0.5)),
    # 1-tanh²: cancels as |tanh| → 1.
    "tanh": (torch.tanh, (-0.5, 0.5)),
    "arctan": (torch.atan, (-50.0, 50.0)),
    "relu": (torch.relu, (-10.0, 10.0)),
    "leaky_relu": (lambda t: F.leaky_relu(t, negative_slope=0.1), (-10.0, 10.0)),
    "selu": (F.selu, (-30.0, 10.0)),
    "identity": (lambda t: t * 1.0, (-10.0, 10.0)),
}


def torch_gradient(fn: Callable[[Any], Any], x: np.ndarray, grad: np.ndarray | None = None) -> np.ndarray:
    """The vector-Jacobian product grad · ∂fn/∂x by torch.autograd, in float64."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    g = torch.ones_like(y) if grad is None else torch.tensor(grad, dtype=torch.float64)
    y.backward(g)
    return t.grad.numpy()


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| in ULP of the larger magnitude (0 where both are 0)."""
    scale = np.spacing(np.maximum(np.abs(a), np.abs(b)))
    return np.abs(a - b) / scale


def grid_without_kinks(name: str, low: float, high: float) -> np.ndarray:
    x = np.linspace(low, high, 2001)
    for kink in actlab.get(name).kinks:
        x = x[np.abs(x - kink.x) > 1e-9]
    return x


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_derivative_agrees_with_autograd(name: str) -> None:
    fn, (low, high) = ELEMENTWISE[name]
    x = grid_without_kinks(name, low, high)
    theirs = torch_gradient(fn, x)
    act = actlab.get(name)
    ours = act.derivative(x)
    assert np.max(ulp_distance(ours, theirs)) <= 4
    g = np.random.default_rng(0).standard_normal(x.shape)
    assert np.max(ulp_distance(act.backward(x, g), torch_gradient(fn, x, g))) <= 4
    # and the forward values agree too
    assert np.max(ulp_distance(act(x), fn(torch.tensor(x)).numpy())) <= 4


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_vector_backward_agrees_with_autograd(name: str, axis: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 7)) * 4
    g = rng.standard_normal((5, 7))
    fn = {"softmax": torch.softmax, "log_softmax": torch.log_softmax}[name]
    theirs = torch_gradient(lambda t: fn(t, dim=axis), x, g)
    ours = actlab.get(name, axis=axis).backward(x, g)
    # The VJP subtracts a sum from g: compare to a few eps of g's scale.
    np.testing.assert_allclose(ours, theirs, rtol=4 * EPS, atol=8 * EPS * np.abs(g).max())
    np.testing.assert_allclose(actlab.get(name, axis=axis)(x), fn(torch.tensor(x), dim=axis).numpy(),
                               rtol=4 * EPS, atol=4 * EPS)


def test_kink_conventions_differ_from_torch() -> None:
    """actlab takes the x >= 0 side at 0 (the seed's choice); torch the other."""
    at_zero = np.array([0.0])
    cases = {  # name: (torch's value, ours)
        "relu": (0.0, 1.0),
        "leaky_relu": (0.1, 1.0),
        "selu": (LAMBDA_ALPHA, LAMBDA),
    }
    for name, (torch_value, our_value) in cases.items():
        fn = ELEMENTWISE[name][0]
        assert torch_gradient(fn, at_zero)[0] == pytest.approx(torch_value, rel=4 * EPS)
        assert actlab.get(name).derivative(0.0) == pytest.approx(our_value, rel=4 * EPS)
        assert our_value == actlab.get(name).kinks[0].derivative
    # Just off the kink the two agree again.
    for name in cases:
        fn = ELEMENTWISE[name][0]
        x = np.array([-1e-300, 1e-300])
        np.testing.assert_allclose(actlab.get(name).derivative(x), torch_gradient(fn, x), rtol=4 * EPS)


def test_relu_derivative_of_nan() -> None:
    """torch's relu'(nan) is 1 (its mask is x <= 0 → 0); actlab gives nan (NaN in, NaN out)."""
    assert torch_gradient(torch.relu, np.array([np.nan]))[0] == 1.0
    assert np.isnan(actlab.get("relu").derivative(np.nan))


# ---------------------------------------------------------------------------- where torch fails
def exact_sigmoid_derivative(x: float) -> Any:
    with mpmath.workdps(50):
        t = mpmath.exp(-abs(mpmath.mpf(x)))
        return t / (1 + t) ** 2


def exact_tanh_derivative(x: float) -> Any:
    with mpmath.workdps(50):
        return mpmath.sech(mpmath.mpf(x)) ** 2


def exact_log_softmax_first(a: float, b: float) -> Any:
    with mpmath.workdps(50):
        return -mpmath.log1p(mpmath.exp(mpmath.mpf(b) - mpmath.mpf(a)))


def errors_in_ulp(values: np.ndarray, exact: list[Any]) -> np.ndarray:
    """|value - exact| in ULP of the exact value rounded to float64."""
    with mpmath.workdps(50):
        rounded = np.array([float(e) for e in exact])
        return np.array([float(abs(mpmath.mpf(float(v)) - e)) for v, e in zip(values, exact)]) / \
            np.spacing(np.abs(rounded))


@pytest.mark.parametrize(
    "name,fn,exact,low,high",
    [("sigmoid", torch.sigmoid, exact_sigmoid_derivative, 1.0, 40.0),
     ("tanh", torch.tanh, exact_tanh_derivative, 0.6, 20.0)],
    ids=["sigmoid", "tanh"],
)
def test_ours_is_closer_to_mpmath_where_torch_cancels(
    name: str, fn: Callable[[Any], Any], exact: Callable[[float], Any], low: float, high: float
) -> None:
    x = np.linspace(low, high, 400)
    reference = [exact(float(v)) for v in x]
    ours = errors_in_ulp(actlab.get(name).derivative(x), reference)
    theirs = errors_in_ulp(torch_gradient(fn, x), reference)
    assert np.max(ours) <= 4
    assert np.all(ours <= np.maximum(theirs, 4))
    assert np.max(theirs) > 1e6  # torch's 1-σ or 1-tanh² has lost every digit by the end


def test_the_issues_peer_failures_in_torch() -> None:
    """Inputs where the textbook forms lose every digit: torch gets them wrong, actlab right."""
    sig = actlab.get("sigmoid").derivative(37.0)
    assert torch_gradient(torch.sigmoid, np.array([37.0]))[0] == 0.0
    assert errors_in_ulp(np.array([sig]), [exact_sigmoid_derivative(37.0)])[0] <= 4
    th = actlab.get("tanh").derivative(19.0)
    assert errors_in_ulp(np.array([th]), [exact_tanh_derivative(19.0)])[0] <= 4
    assert errors_in_ulp(torch_gradient(torch.tanh, np.array([19.0])), [exact_tanh_derivative(19.0)])[0] > 1e3
    first = actlab.log_softmax(np.array([20.0, -20.0]))[0]
    assert torch.log_softmax(torch.tensor([20.0, -20.0], dtype=torch.float64), 0)[0].item() == 0.0
    assert errors_in_ulp(np.array([first]), [exact_log_softmax_first(20.0, -20.0)])[0] <= 4
