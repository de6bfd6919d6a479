"""Any strides, offsets, expanded and empty tensors give the contiguous input's bits; CPU
float32/float64 memory is handed to actlab without a copy."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import actlab  # noqa: E402
import actlab.torch as at  # noqa: E402
from torch_inputs import sample  # noqa: E402

#: Views of a (6, 8) tensor: what each layout case hands to the function.
LAYOUTS: dict[str, Callable[[Any], Any]] = {
    "transposed": lambda t: t.t(),
    "strided": lambda t: t[:, ::2],
    "offset": lambda t: t[1:, 2:],
    "expanded": lambda t: t[:1].expand(5, 8),
    "empty": lambda t: t[:0],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", actlab.names())
def test_any_layout_gives_the_contiguous_bits(name: str, layout: str) -> None:
    act = actlab.get(name)
    base = torch.tensor(sample(name, (6, 8), seed=8))
    view = LAYOUTS[layout](base)
    dense = np.ascontiguousarray(view.numpy())
    np.testing.assert_array_equal(getattr(at.functional, name)(view).numpy(), act(dense))
    # a leaf with the view's strides; the gradient of a sum arrives expanded (stride 0)
    leaf = torch.empty_strided(view.shape, view.stride(), dtype=view.dtype) \
        if layout != "expanded" else view.clone()
    with torch.no_grad():
        leaf.copy_(view)
    leaf.requires_grad_(True)
    out = getattr(at.functional, name)(leaf)
    (grad,) = torch.autograd.grad(out.sum(), leaf)
    np.testing.assert_array_equal(grad.numpy(), act.backward(dense, np.ones(out.shape)))


@pytest.mark.parametrize("name", [n for n in actlab.names() if actlab.get(n).elementwise])
def test_zero_dimensional_tensors(name: str) -> None:
    x = torch.tensor(float(sample(name, (1,), seed=9)[0]), dtype=torch.float64, requires_grad=True)
    y = getattr(at.functional, name)(x)
    assert y.shape == ()
    assert y.item() == float(actlab.get(name)(x.item()))
    (grad,) = torch.autograd.grad(y, x)
    assert grad.item() == float(actlab.get(name).derivative(x.item()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_no_copy_of_the_input_or_the_result(dtype: Any) -> None:
    """NumPy allocates nothing the size of the tensor: actlab reads the input's memory and
    writes into the result torch allocated (NumPy allocations are what tracemalloc sees)."""
    n = 1 << 20
    x = torch.linspace(-5, 5, n, dtype=dtype, requires_grad=True)
    g = torch.ones(n, dtype=dtype)
    at.functional.sigmoid(x).backward(g)  # warm up: first-call allocations
    tracemalloc.start()
    try:
        y = at.functional.sigmoid(x)
        (grad,) = torch.autograd.grad(y, x, g)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < x.element_size() * n / 4, peak
    assert y.shape == grad.shape == (n,)
