"""torch.compile(fullgraph=True) traces actlab's modules as custom operators: no graph
break, and the same outputs and gradients as eager.  The model is compiled once."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

import actlab.torch as at  # noqa: E402

# importing torch's compiler scripts a few helpers, which warns about torch.jit itself
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script.*` is deprecated:DeprecationWarning")


def make_model() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 8), at.SELU(),
        torch.nn.Linear(8, 8), at.LeakyReLU(slope=0.2),
        torch.nn.Linear(8, 5), at.LogSoftmax(dim=-1),
    ).double()


def run(model: Any, x: Any) -> tuple[Any, Any, list[Any]]:
    """Output, input gradient and parameter gradients of a weighted sum of the output."""
    x = x.clone().requires_grad_(True)
    model.zero_grad()
    y = model(x)
    (y * torch.arange(1.0, 6.0, dtype=torch.float64)).sum().backward()
    return y.detach(), x.grad, [p.grad.clone() for p in model.parameters()]


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    from torch._inductor.compile_fx import compile_fx

    model = make_model()
    traced: list[str] = []

    def backend(gm: Any, example_inputs: Any) -> Any:
        traced.extend(str(node.target) for node in gm.graph.nodes if node.op == "call_function")
        return compile_fx(gm, example_inputs)

    x = torch.randn(7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    eager = run(model, x)
    fast = torch.compile(model, fullgraph=True, backend=backend)
    return {"eager": eager, "compiled": run(fast, x), "traced": traced,
            "again": run(fast, x * 2), "eager_again": run(model, x * 2)}


def test_one_graph_with_the_three_operators(compiled: dict[str, Any]) -> None:
    traced = compiled["traced"]
    for op in ("actlab.selu.default", "actlab.leaky_relu.default", "actlab.log_softmax.default"):
        assert traced.count(op) == 1, traced


@pytest.mark.parametrize("run_name", ["compiled", "again"])
def test_compiled_outputs_and_gradients_are_eagers(compiled: dict[str, Any], run_name: str) -> None:
    eager = compiled["eager" if run_name == "compiled" else "eager_again"]
    y, gx, gparams = compiled[run_name]
    torch.testing.assert_close(y, eager[0], rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(gx, eager[1], rtol=1e-13, atol=1e-13)
    assert len(gparams) == len(eager[2]) == 6
    for ours, theirs in zip(gparams, eager[2]):
        torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", ["sigmoid", "softmax", "maxout"])
def test_operators_pass_torchs_opcheck(name: str) -> None:
    """Schema, fake kernel, autograd registration and AOT dispatch with dynamic shapes."""
    ops = at._ops.ops_for(name)
    params = at._ops.encode(at.Activation(name).activation.values)
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    g = torch.randn(ops.forward(x, params).shape, dtype=torch.float64)
    torch.library.opcheck(ops.forward, (x, params))
    torch.library.opcheck(ops.backward, (x, g, params))
