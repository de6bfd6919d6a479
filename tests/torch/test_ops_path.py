"""The torch-ops path: the portable forms in torch operations, taken by other devices and
by float16/bfloat16, and by every tensor when forced (set_path("ops"), ACTLAB_TORCH_PATH):
gradients to second order, accuracy against the mpmath oracle, the gradients where torch's
own cancel, and a clear error for what has no form."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("array_api_compat")
mpmath = pytest.importorskip("mpmath")

import actlab  # noqa: E402
import actlab.torch as at  # noqa: E402
from actlab import portable  # noqa: E402
from actlab.audit.measure import BOUNDS, errors_in_ulp, reference_tables  # noqa: E402
from actlab.audit.points import LANDMARKS, audit_points  # noqa: E402
from torch_inputs import case_id, cases, sample  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script.*` is deprecated:DeprecationWarning")

F = at.functional
CASES = [c for c in cases() if c[0] in portable.names()]
SHAPE = (4, 6)
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@pytest.fixture
def ops_path() -> Iterator[None]:
    previous = at.set_path("ops")
    try:
        yield
    finally:
        at.set_path(previous)


def function(name: str, params: dict[str, Any]) -> Any:
    fn = getattr(F, name)
    return lambda t: fn(t, **params)


def test_every_registered_builtin_has_a_form() -> None:
    builtin = [n for n in actlab.names() if getattr(actlab.get(n), "family", "") != "defined"]
    assert [n for n in builtin if n not in portable.names()] == []


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradcheck_and_gradgradcheck_on_the_ops_path(case: tuple[str, dict[str, Any]], ops_path: None) -> None:
    name, params = case
    fn = function(name, params)
    x = torch.tensor(sample(name, SHAPE), requires_grad=True)
    assert type(fn(x).grad_fn).__name__ == "Actlab" + "".join(p.capitalize() for p in name.split("_")) + "Backward"
    assert torch.autograd.gradcheck(fn, (x,), check_forward_ad=True)
    x = torch.tensor(sample(name, SHAPE, seed=1), requires_grad=True)
    assert torch.autograd.gradgradcheck(fn, (x,), check_fwd_over_rev=True)


def test_the_path_is_the_ops_one(ops_path: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the forced path a CPU float64 tensor never reaches actlab's kernels."""

    def refuse(*args: Any) -> Any:
        raise AssertionError("the kernel engine was used")

    monkeypatch.setattr(at._ops, "kernel_engine", refuse)
    xp = pytest.importorskip("array_api_compat.torch")
    x = torch.tensor(sample("gelu", SHAPE), requires_grad=True)
    y = F.gelu(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    form = portable.form("gelu")
    assert torch.equal(y.detach(), form.f(xp, x.detach()))
    assert torch.equal(g, form.derivative(xp, x.detach()))


# ----------------------------------------------------------------------------- accuracy
#: The smooth elementwise functions (the exact and piecewise ones are checked bit for bit).
SMOOTH = [
    n
    for n in portable.names()
    if actlab.get(n).elementwise and not actlab.get(n).exact and n not in ("hard_sigmoid", "hard_swish")
]
EXACT = [n for n in portable.names() if actlab.get(n).elementwise and actlab.get(n).exact]


def sweep(dtype: Any) -> np.ndarray:
    """Some of actlab.audit's sweep points (``dtype`` is np.float32 or np.float64), with
    its landmarks of both signs."""
    fi = np.finfo(dtype)
    extra = np.clip(np.concatenate([LANDMARKS, -np.array(LANDMARKS)]), -fi.max, fi.max)
    return np.unique(np.concatenate([audit_points(dtype, 160), extra.astype(dtype)]))


def value_and_gradient(name: str, x_np: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = torch.tensor(x_np, requires_grad=True)
    y = getattr(F, name)(x)
    (g,) = torch.autograd.grad(y, x, torch.ones_like(y))
    return y.detach().numpy(), g.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SMOOTH)
def test_value_and_gradient_within_twice_the_core_bound(name: str, dtype: str, ops_path: None) -> None:
    x = sweep(np.float32 if dtype == "float32" else np.float64)
    table = reference_tables(name, {}, (0, 1), {dtype: x.astype(np.float64)})[dtype]
    for order, ours in enumerate(value_and_gradient(name, x)):
        assert ours.dtype == x.dtype
        err = errors_in_ulp(ours, table[order])
        bound = 2 * BOUNDS[(order, dtype)]
        worst = int(np.argmax(err))
        assert err[worst] <= bound, f"order {order}: x={x[worst]!r} ours={ours[worst]!r} {err[worst]:.3g} ULP"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", EXACT)
def test_exact_functions_are_the_cores_bits(name: str, dtype: str, ops_path: None) -> None:
    x = sweep(np.float32 if dtype == "float32" else np.float64)
    y, g = value_and_gradient(name, x)
    act = actlab.get(name)
    np.testing.assert_array_equal(y, act(x))
    np.testing.assert_array_equal(g, act.derivative(x))


def ulp_error(value: float, exact: Any) -> float:
    with mpmath.workdps(50):
        return float(abs(mpmath.mpf(value) - exact)) / float(np.spacing(abs(float(exact))))


@pytest.mark.parametrize(
    "name,at_x,exact",
    [
        ("sigmoid", 37.0, lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2),
        ("tanh", 19.0, lambda x: mpmath.sech(x) ** 2),
    ],
    ids=["sigmoid", "tanh"],
)
def test_gradient_where_torchs_own_cancels(name: str, at_x: float, exact: Any, ops_path: None) -> None:
    x = torch.tensor([at_x], dtype=torch.float64, requires_grad=True)
    (ours,) = torch.autograd.grad(getattr(F, name)(x).sum(), x)
    with mpmath.workdps(50):
        reference = exact(mpmath.mpf(at_x))
    assert ulp_error(ours.item(), reference) <= 4
    if name == "sigmoid":
        assert abs(ours.item() - 8.533047625744066e-17) <= 4 * np.spacing(8.533047625744066e-17)


# ----------------------------------------------------------------------------- other dtypes, devices
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_half_precision_takes_the_forms_by_default(dtype: Any) -> None:
    x = torch.linspace(-6, 6, 49, dtype=dtype, requires_grad=True)
    y = F.tanh(x)
    xp = pytest.importorskip("array_api_compat.torch")
    assert torch.equal(y.detach(), portable.form("tanh").f(xp, x.detach()))
    assert type(y.grad_fn).__name__ == "ActlabTanhBackward"


def test_the_meta_device_takes_the_forms() -> None:
    """Another device than the CPU (meta: shapes without data) runs the forms, to second order."""
    x = torch.empty(3, 5, device="meta", requires_grad=True)
    y = F.gelu(x)
    assert y.device.type == "meta" and y.shape == (3, 5) and type(y.grad_fn).__name__ == "ActlabGeluBackward"
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    assert g.device.type == gg.device.type == "meta" and gg.shape == (3, 5)


def test_the_vector_forms_on_another_device() -> None:
    x = torch.empty(3, 4, device="meta", requires_grad=True)
    assert F.softmax(x, dim=0).device.type == "meta"
    assert F.maxout(x, pieces=2).shape == (3, 2)
    assert F.sparsemax(x, dim=-1).device.type == "meta"
    assert F.log_softmax(x, dim=-1).device.type == "meta"


def test_no_form_is_a_value_error_naming_the_function_device_and_dtype(ops_path: None) -> None:
    pytest.importorskip("sympy")
    from actlab.symbolic import define, undefine

    define("torch_probe", "x*tanh(x)")
    try:
        x64 = torch.linspace(-1, 1, 5, dtype=torch.float64)
        message = r"torch_probe: a tensor on cpu of dtype torch.float64 runs through actlab's torch-ops forms"
        with pytest.raises(ValueError, match=message + r".*made by actlab.define"):
            F.torch_probe(x64)
        at.set_path("kernels")
        np.testing.assert_array_equal(F.torch_probe(x64).numpy(), actlab.get("torch_probe")(x64.numpy()))
        with pytest.raises(ValueError, match="torch_probe: a tensor on cpu of dtype torch.float16"):
            F.torch_probe(x64.half())
    finally:
        undefine("torch_probe")


# ----------------------------------------------------------------------------- choosing the path
def test_set_path_returns_the_previous_one_and_refuses_other_names() -> None:
    assert at.get_path() == "kernels"
    assert at.set_path("ops") == "kernels"
    try:
        assert at.get_path() == "ops"
    finally:
        assert at.set_path("kernels") == "ops"
    with pytest.raises(ValueError, match="set_path: path must be one of kernels, ops, got 'gpu'"):
        at.set_path("gpu")


def _run(code: str, value: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACTLAB_TORCH_PATH": value}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env,
                          check=False)


def test_the_environment_variable_forces_the_ops_path() -> None:
    code = (
        "import torch, actlab.torch as at\n"
        "x = torch.tensor([37.0], dtype=torch.float64, requires_grad=True)\n"
        "y = at.functional.sigmoid(x)\n"
        "(g,) = torch.autograd.grad(y.sum(), x)\n"
        "print(at.get_path(), at._ops.PORTABLE_OPS.keys() >= {'sigmoid'}, g.item())\n"
    )
    done = _run(code, "ops")
    assert done.returncode == 0, done.stderr
    path, used, grad = done.stdout.split()
    assert (path, used) == ("ops", "True") and abs(float(grad) - 8.533047625744066e-17) < 1e-30


def test_a_bad_environment_value_is_named_by_the_first_call() -> None:
    code = (
        "import torch, actlab.torch as at\n"
        "try:\n"
        "    at.functional.tanh(torch.zeros(2))\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    done = _run(code, "cuda")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ACTLAB_TORCH_PATH must be one of kernels, ops, got 'cuda'"


def test_compile_traces_the_ops_operator_with_no_graph_break(ops_path: None) -> None:
    traced: list[str] = []

    def backend(gm: Any, example_inputs: Any) -> Any:
        traced.extend(str(node.target) for node in gm.graph.nodes if node.op == "call_function")
        return gm.forward

    fn = torch.compile(lambda t: F.silu(t) * 2, fullgraph=True, backend=backend)
    x = torch.tensor(sample("silu", (7,)))
    torch.testing.assert_close(fn(x), F.silu(x) * 2, rtol=0, atol=0)
    assert "actlab.silu_ops.default" in traced, traced


def half_ulps(got: Any, exact: Any, dtype: Any) -> float:
    """The largest error of ``got`` in ULP of the half format, against float64 ``exact``."""
    fi = torch.finfo(dtype)
    exact = torch.as_tensor(exact, dtype=torch.float64)
    ulp = torch.exp2(torch.floor(torch.log2(exact.abs().clamp(min=fi.tiny)))) * fi.eps
    return float(((got.double() - exact).abs() / ulp).max())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu", "softplus"])
def test_a_half_precision_gradient_is_rounded_once(name: str, dtype: Any) -> None:
    """g·f'(x) is formed in float32 and rounded once to the half format: within half an
    ULP (and the float32 stage's few 2^-24, 2^-10 of that ULP at most) of the float64 value
    at every finite input in [-12, 12]; a product formed in the half format is up to 2 ULP
    off."""
    every = torch.arange(1 << 16, dtype=torch.int32).to(torch.int16).view(dtype)
    x = every[torch.isfinite(every) & (every.float().abs() <= 12)]
    g = torch.linspace(-3, 3, x.numel()).to(dtype)
    leaf = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(getattr(F, name)(leaf), leaf, g)
    assert grad.dtype == dtype
    exact = g.double().numpy() * actlab.get(name).derivative(x.double().numpy())
    assert half_ulps(grad, exact, dtype) <= 0.5 + 2.0**-10


def test_compile_of_a_half_precision_call_in_a_fresh_process() -> None:
    """The torch-ops operators exist from the import on: torch.compile, which cannot define
    one while it traces, finds them for a float16 tensor no eager call has met."""
    code = (
        "import torch, actlab.torch as at\n"
        "traced = []\n"
        "def backend(gm, example_inputs):\n"
        "    traced.extend(str(n.target) for n in gm.graph.nodes if n.op == 'call_function')\n"
        "    return gm.forward\n"
        "fn = torch.compile(lambda t: at.functional.tanh(t), fullgraph=True, backend=backend)\n"
        "x = torch.linspace(-3, 3, 7, dtype=torch.float16)\n"
        "y = fn(x)\n"
        "print(y.dtype, 'actlab.tanh_ops.default' in traced, torch.equal(y, at.functional.tanh(x)))\n"
    )
    done = _run(code, "kernels")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["torch.float16", "True", "True"]
