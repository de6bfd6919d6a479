"""Gradients of every registered activation through torch.autograd: first and second order,
reverse and forward mode, checked against finite differences (gradcheck) and against
actlab's own kernels bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mpmath = pytest.importorskip("mpmath")

import actlab  # noqa: E402
import actlab.torch as at  # noqa: E402
from torch_inputs import case_id, cases, sample  # noqa: E402

# torch's forward-mode AD scripts its decompositions on first use and warns about it
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script.*` is deprecated:DeprecationWarning")

CASES = cases()
SHAPE = (4, 6)


def function(name: str, params: dict[str, Any]) -> Any:
    fn = getattr(at.functional, name)
    return lambda t: fn(t, **params)


def numpy_activation(name: str, params: dict[str, Any]) -> actlab.Activation:
    return actlab.get(name, **{("axis" if k == "dim" else k): v for k, v in params.items()})


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradcheck_and_forward_mode(case: tuple[str, dict[str, Any]]) -> None:
    name, params = case
    x = torch.tensor(sample(name, SHAPE), requires_grad=True)
    assert torch.autograd.gradcheck(function(name, params), (x,), check_forward_ad=True)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradgradcheck_reverse_and_forward_over_reverse(case: tuple[str, dict[str, Any]]) -> None:
    name, params = case
    x = torch.tensor(sample(name, SHAPE, seed=1), requires_grad=True)
    assert torch.autograd.gradgradcheck(function(name, params), (x,), check_fwd_over_rev=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_values_and_gradient_are_actlabs_bits(case: tuple[str, dict[str, Any]], dtype: Any) -> None:
    name, params = case
    act = numpy_activation(name, params)
    x_np = sample(name, SHAPE, seed=2).astype(torch.empty((), dtype=dtype).numpy().dtype)
    x = torch.tensor(x_np, requires_grad=True)
    y = function(name, params)(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.detach().numpy(), act(x_np))
    g_np = np.random.default_rng(3).standard_normal(y.shape).astype(x_np.dtype)
    (gx,) = torch.autograd.grad(y, x, torch.tensor(g_np))
    assert gx.dtype == dtype
    np.testing.assert_array_equal(gx.numpy(), act.backward(x_np, g_np))


@pytest.mark.parametrize("name", [n for n in actlab.names() if actlab.get(n).elementwise])
def test_second_derivative_and_jvp_are_actlabs(name: str) -> None:
    act = actlab.get(name)
    x_np = sample(name, (7,), seed=4)
    x = torch.tensor(x_np, requires_grad=True)
    (d1,) = torch.autograd.grad(getattr(at.functional, name)(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(d1.detach().numpy(), act.derivative(x_np))
    (d2,) = torch.autograd.grad(d1.sum(), x)
    np.testing.assert_array_equal(d2.numpy(), act.second_derivative(x_np))
    tangent = torch.tensor(np.random.default_rng(5).standard_normal(7))
    _, jvp = torch.func.jvp(getattr(at.functional, name), (x.detach(),), (tangent,))
    np.testing.assert_array_equal(jvp.numpy(), act.derivative(x_np) * tangent.numpy())


@pytest.mark.parametrize("case", [c for c in CASES if not actlab.get(c[0]).elementwise],
                         ids=case_id)
def test_vector_jvp_is_the_jacobian_times_the_tangent(case: tuple[str, dict[str, Any]]) -> None:
    name, params = case
    act = numpy_activation(name, params)
    x_np = sample(name, SHAPE, seed=6)
    tangent = np.random.default_rng(7).standard_normal(SHAPE)
    _, jvp = torch.func.jvp(function(name, params), (torch.tensor(x_np),), (torch.tensor(tangent),))
    axis = act.values["axis"]
    expected = np.einsum("...ij,...j->...i", act.jacobian(x_np), np.moveaxis(tangent, axis, -1))
    np.testing.assert_allclose(jvp.numpy(), np.moveaxis(expected, -1, axis), rtol=1e-15, atol=1e-15)


# ---------------------------------------------------------------------------- exactness
def ulp_error(value: float, exact: Any) -> float:
    with mpmath.workdps(50):
        return float(abs(mpmath.mpf(value) - exact)) / float(np.spacing(abs(float(exact))))


def exact_sigmoid_derivative(x: float) -> Any:
    with mpmath.workdps(50):
        t = mpmath.exp(-abs(mpmath.mpf(x)))
        return t / (1 + t) ** 2


def exact_tanh_derivative(x: float) -> Any:
    with mpmath.workdps(50):
        return mpmath.sech(mpmath.mpf(x)) ** 2


@pytest.mark.parametrize("name,at_x,exact,torch_fn", [
    ("sigmoid", 37.0, exact_sigmoid_derivative, torch.sigmoid),
    ("tanh", 19.0, exact_tanh_derivative, torch.tanh),
], ids=["sigmoid", "tanh"])
def test_gradient_where_torchs_own_cancels(name: str, at_x: float, exact: Any, torch_fn: Any) -> None:
    x = torch.tensor([at_x], dtype=torch.float64, requires_grad=True)
    (ours,) = torch.autograd.grad(getattr(at.functional, name)(x).sum(), x)
    assert ulp_error(ours.item(), exact(at_x)) <= 4
    (theirs,) = torch.autograd.grad(torch_fn(x).sum(), x)
    assert ulp_error(theirs.item(), exact(at_x)) > 1e3  # 1 - σ² or 1 - tanh² cancels
    # the module and the compiled operator give the same bits
    module = at.Activation(name)
    (again,) = torch.autograd.grad(module(x).sum(), x)
    assert again.item() == ours.item()
