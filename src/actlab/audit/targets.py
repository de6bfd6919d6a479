"""What an audit measures: an actlab activation, any Python callable, or a framework's own
implementation of an actlab function, each as ``evaluate(order, x) -> values or None``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

import actlab

__all__ = ["FRAMEWORKS", "actlab_target", "callable_target", "framework_function", "resolve"]

Evaluate = Callable[[int, np.ndarray], "np.ndarray | None"]
FRAMEWORKS = ("torch", "jax")


def actlab_target(name: str, **params: Any) -> Evaluate:
    """actlab's own f, f', f'' of ``name``."""
    act = actlab.get(name, **params)
    if not act.elementwise:
        raise ValueError(f"audit: {act.name} is a vector function; only elementwise functions are audited")

    methods: list[Callable[[np.ndarray], np.ndarray]] = [act, act.derivative, act.second_derivative]

    def evaluate(order: int, x: np.ndarray) -> np.ndarray:
        return methods[order](x)

    return evaluate


def resolve(spec: str) -> Callable[..., Any]:
    """The callable named ``module:attr.path`` or dotted ``package.module.attr``; a
    ValueError names the spec and what is missing."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"audit: expected a callable as module:function or a dotted name, got {spec!r}")
    spec = spec.strip()
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        candidates = [(module_name, attr.split("."))]
    else:
        parts = spec.split(".")
        candidates = [(".".join(parts[:i]), parts[i:]) for i in range(len(parts) - 1, 0, -1)]
    problem = f"no module in {spec!r}"
    for module_name, attrs in candidates:
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as exc:
            problem = f"cannot import {module_name!r} ({exc})"
            continue
        try:
            for attr in attrs:
                obj = getattr(obj, attr)
        except AttributeError:
            raise ValueError(
                f"audit: {module_name!r} has no attribute {'.'.join(attrs)!r} ({spec!r})"
            ) from None
        if not callable(obj):
            raise ValueError(f"audit: {spec!r} is not callable")
        return obj
    raise ValueError(f"audit: cannot find {spec!r}: {problem}")


def _framework_of(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or type(fn).__module__ or ""
    root = module.split(".", 1)[0]
    return root if root in FRAMEWORKS or root == "jaxlib" else "numpy"


def torch_evaluate(fn: Callable[..., Any], *, grad: bool) -> Evaluate:
    """``fn`` on torch tensors; f' and f'' by torch's autograd when ``grad``."""
    import torch

    def evaluate(order: int, x: np.ndarray) -> np.ndarray | None:
        if order and not grad:
            return None
        t = torch.from_numpy(x.copy())
        if order == 0:
            with torch.no_grad():
                return fn(t).numpy()
        t.requires_grad_(True)
        y = fn(t)
        (d1,) = torch.autograd.grad(y.sum(), t, create_graph=order == 2)
        if order == 1:
            return d1.detach().numpy()
        if not d1.requires_grad:  # f' is constant piecewise (relu): torch keeps no graph
            return np.zeros_like(x)
        try:
            (d2,) = torch.autograd.grad(d1.sum(), t)
        except RuntimeError:  # "derivative for ... is not implemented": no f''
            return None
        return d2.detach().numpy()

    return evaluate


def jax_evaluate(fn: Callable[..., Any], *, grad: bool) -> Evaluate:
    """``fn`` on jax arrays (float64 enabled); f' and f'' by jax.grad when ``grad``."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    d1 = jax.grad(lambda v: jnp.sum(fn(v)))
    d2 = jax.grad(lambda v: jnp.sum(d1(v)))
    compiled = [jax.jit(g) for g in (fn, d1, d2)]

    def evaluate(order: int, x: np.ndarray) -> np.ndarray | None:
        if order and not grad:
            return None
        v = jnp.asarray(x)
        return np.asarray(compiled[order](v))

    return evaluate


def numpy_evaluate(fn: Callable[..., Any]) -> Evaluate:
    """``fn`` on NumPy arrays: f only."""

    def evaluate(order: int, x: np.ndarray) -> np.ndarray | None:
        return np.asarray(fn(x)) if order == 0 else None

    return evaluate


def callable_target(fn: Callable[..., Any] | str, *, grad: str | None = None) -> tuple[str, Evaluate]:
    """(label, evaluate) for a Python callable (or its name); ``grad`` "torch" or "jax"
    gives f' and f'' through that framework's autograd (the callable then takes its
    tensors), None f alone (on the framework's arrays when it belongs to one)."""
    label = fn if isinstance(fn, str) else getattr(fn, "__qualname__", repr(fn))
    if isinstance(fn, str):
        fn = resolve(fn)
    if grad not in (None, *FRAMEWORKS):
        raise ValueError(f"audit: grad must be one of {FRAMEWORKS} or None, got {grad!r}")
    framework = grad or _framework_of(fn)
    if framework == "torch":
        return label, torch_evaluate(fn, grad=grad is not None)
    if framework in ("jax", "jaxlib"):
        return label, jax_evaluate(fn, grad=grad is not None)
    return label, numpy_evaluate(fn)


# -------------------------------------------------------------------- the frameworks
def _torch_table() -> dict[str, Callable[..., Any]]:
    import torch
    import torch.nn.functional as F

    return {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "arctan": torch.atan,
        "relu": torch.relu,
        "leaky_relu": lambda x, slope: F.leaky_relu(x, negative_slope=slope),
        "selu": F.selu,
        "elu": lambda x, alpha: F.elu(x, alpha=alpha),
        "celu": lambda x, alpha: F.celu(x, alpha=alpha),
        "gelu": lambda x, approximate: F.gelu(x, approximate=approximate),
        "silu": F.silu,
        "mish": F.mish,
        "softplus": lambda x, beta: F.softplus(x, beta=beta),
        "log_sigmoid": F.logsigmoid,
        "softsign": F.softsign,
        "hardtanh": F.hardtanh,
        "relu6": F.relu6,
        "hard_sigmoid": F.hardsigmoid,
        "hard_swish": F.hardswish,
        "prelu": lambda x, a: F.prelu(x, torch.tensor([a], dtype=x.dtype)),
    }


def _jax_table() -> dict[str, Callable[..., Any]]:
    import jax.nn as nn
    import jax.numpy as jnp

    table: dict[str, Callable[..., Any]] = {
        "sigmoid": nn.sigmoid,
        "tanh": jnp.tanh,
        "arctan": jnp.arctan,
        "relu": nn.relu,
        "leaky_relu": lambda x, slope: nn.leaky_relu(x, negative_slope=slope),
        "selu": nn.selu,
        "elu": lambda x, alpha: nn.elu(x, alpha=alpha),
        "celu": lambda x, alpha: nn.celu(x, alpha=alpha),
        "gelu": lambda x, approximate: nn.gelu(x, approximate=approximate == "tanh"),
        "silu": nn.silu,
        "softplus": lambda x, beta: nn.softplus(beta * x) / beta,
        "log_sigmoid": nn.log_sigmoid,
        "softsign": nn.soft_sign,
        "hardtanh": nn.hard_tanh,
        "relu6": nn.relu6,
        "hard_sigmoid": nn.hard_sigmoid,
        "hard_swish": nn.hard_swish,
        "prelu": lambda x, a: jnp.where(x >= 0, x, a * x),
    }
    if hasattr(nn, "mish"):
        table["mish"] = nn.mish
    return table


def framework_available(framework: str) -> bool:
    """Whether ``framework`` ("torch" or "jax") can be imported."""
    try:
        importlib.import_module(framework)
    except ImportError:
        return False
    return True


def framework_function(framework: str, name: str, params: dict[str, Any]) -> Evaluate | None:
    """The framework's own implementation of actlab's ``name`` with actlab's parameters
    (f, and f', f'' through its autograd), or None when it has none."""
    table = {"torch": _torch_table, "jax": _jax_table}[framework]()
    fn = table.get(name)
    if fn is None:
        return None
    bound = (lambda x: fn(x, **params)) if params else fn
    return (torch_evaluate if framework == "torch" else jax_evaluate)(bound, grad=True)
