"""The eager path of a CPU float32/float64 call: the compiled kernel is handed the tensors
themselves, without the registry's front door or a NumPy view, and follows actlab's kernel
table; a call with nothing to differentiate builds no autograd node; and the backward step
keeps autograd's rules (in-place changes caught, saved-tensor hooks obeyed, a retained
graph reused)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import actlab  # noqa: E402
import actlab.torch as at  # noqa: E402
from actlab.activations import _fast  # noqa: E402
from actlab.activations._registry import Activation as RegistryActivation  # noqa: E402
from actlab.torch import _ops  # noqa: E402

F = at.functional
needs_kernels = pytest.mark.skipif(not _fast.available(), reason="the compiled kernels are not built")


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the registry's front door was called")


@needs_kernels
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "leaky_relu", "gelu", "softmax"])
def test_a_contiguous_call_runs_the_kernel_without_the_front_door(
    name: str, dtype: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    x_np = np.linspace(-8, 8, 101).astype(torch.empty((), dtype=dtype).numpy().dtype)
    g_np = np.cos(np.arange(101.0)).astype(x_np.dtype)
    act = actlab.get(name)
    expected_y, expected_g = act(x_np), act.backward(x_np, g_np)
    monkeypatch.setattr(RegistryActivation, "__call__", _refuse)
    monkeypatch.setattr(RegistryActivation, "backward", _refuse)
    x = torch.tensor(x_np, requires_grad=True)
    y = getattr(F, name)(x)
    (gx,) = torch.autograd.grad(y, x, torch.tensor(g_np))
    np.testing.assert_array_equal(y.detach().numpy(), expected_y)
    np.testing.assert_array_equal(gx.numpy(), expected_g)
    with torch.no_grad():
        np.testing.assert_array_equal(getattr(F, name)(x).numpy(), expected_y)


@needs_kernels
@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_contiguous_tensors_go_to_the_kernel_as_tensors_and_numpy_only_is_obeyed(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = "_SOFTMAX_TENSOR" if name == "softmax" else "_ELEMENTWISE_TENSOR"
    seen: list[tuple[Any, ...]] = []
    real = getattr(_ops, entry)

    def spy(*args: Any) -> Any:
        seen.append(tuple(type(a) for a in args))
        return real(*args)

    monkeypatch.setattr(_ops, entry, spy)
    x_np = np.linspace(-8, 8, 24).reshape(2, 12)
    g_np = np.cos(np.arange(24.0)).reshape(2, 12)
    act = actlab.get(name)
    x = torch.tensor(x_np, requires_grad=True)
    (gx,) = torch.autograd.grad(getattr(F, name)(x), x, torch.tensor(g_np))
    np.testing.assert_array_equal(gx.numpy(), act.backward(x_np, g_np))
    assert len(seen) == 2 and all(torch.Tensor in types and np.ndarray not in types for types in seen)
    seen.clear()
    with _fast.numpy_only():  # the NumPy kernels' bits, the tensor entry points unused
        y = getattr(F, name)(x)
        (gx,) = torch.autograd.grad(y, x, torch.tensor(g_np))
        expected_y, expected_g = act(x_np), act.backward(x_np, g_np)
    assert seen == []
    np.testing.assert_array_equal(y.detach().numpy(), expected_y)
    np.testing.assert_array_equal(gx.numpy(), expected_g)


def test_nothing_to_differentiate_builds_no_autograd_node(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.linspace(-3, 3, 7, dtype=torch.float64, requires_grad=True)
    monkeypatch.setattr(_ops.kernel_engine("sigmoid", "{}"), "apply", _refuse)
    for context in (torch.no_grad, torch.inference_mode):
        with context():
            y = F.sigmoid(x)
        assert y.grad_fn is None and not y.requires_grad
    y = F.sigmoid(x.detach())
    assert y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), actlab.get("sigmoid")(x.detach().numpy()))
    with pytest.raises(AssertionError, match="front door"):  # x needs a gradient: the Function
        F.sigmoid(x)


def test_an_in_place_change_of_x_after_the_forward_pass_is_caught() -> None:
    x = torch.linspace(-3, 3, 7, dtype=torch.float64, requires_grad=True)
    h = x * 1.0
    y = F.tanh(h)
    with torch.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_saved_tensor_hooks_see_x_and_the_backward_uses_what_they_unpack() -> None:
    x_np = np.linspace(-3, 3, 7)
    x = torch.tensor(x_np, requires_grad=True)
    packed: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        packed.append(t)
        return t

    def unpack(t: torch.Tensor) -> torch.Tensor:
        return t * 2  # what an offloading hook would hand back, here visibly different

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = F.sigmoid(x)
    assert any(t is x for t in packed)
    (gx,) = torch.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(gx.numpy(), actlab.get("sigmoid").backward(2 * x_np, np.ones(7)))


def test_a_retained_graph_gives_the_same_gradient_twice_and_a_freed_one_refuses() -> None:
    x_np = np.linspace(-30, 30, 13)
    x = torch.tensor(x_np, requires_grad=True)
    y = F.sigmoid(x)
    g = torch.tensor(np.sin(x_np))
    (first,) = torch.autograd.grad(y, x, g, retain_graph=True)
    (second,) = torch.autograd.grad(y, x, g)
    expected = actlab.get("sigmoid").backward(x_np, np.sin(x_np))
    np.testing.assert_array_equal(first.numpy(), expected)
    np.testing.assert_array_equal(second.numpy(), expected)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        torch.autograd.grad(y, x, g)
