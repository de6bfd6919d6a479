"""The torch.library custom operators, one set per registered activation and path, the
autograd that chains them, and the eager path that calls the kernels without them.

For an activation ``name`` (all read from the registry):

- ``actlab::name(Tensor x, str params)``: f(x);
- ``actlab::name_backward(Tensor x, Tensor grad, str params)``: the VJP, computed from x
  (f(x) is not saved: a float32 f(x) has been rounded, and the gradient would lose bits);
- elementwise: ``actlab::name_derivative`` and ``actlab::name_second_derivative``, f'(x)
  and f''(x);
- vector: ``actlab::name_jvp(Tensor x, Tensor tangent, str params)``, ∂f/∂x · tangent from
  the registry's Jacobian, and ``actlab::name_hvp(Tensor x, Tensor grad, Tensor u, str
  params)``, the Hessian-vector product from :mod:`._second_order`.

These take CPU float32 and float64 tensors and hand them to actlab's kernels (C-contiguous
ones as they are, others as NumPy views: no copy either way); results are allocated by
torch.  The same set with ``_ops`` after the name
(``actlab::name_ops``, ``actlab::name_ops_backward``, ...) computes the portable forms in
torch operations (:mod:`._portable`), on any device and in float16 to float64: the path of
other devices and dtypes, and of every tensor when :func:`set_path` says "ops".

``params`` is the activation's bound parameters as JSON (:func:`encode`), a constant of the
graph.  Each operator has a fake kernel, so that torch.compile traces it without running it,
and an autograd formula made of the others, so that gradients (to second order) are the
registry's own.

Eager calls go through :class:`Forward` and :class:`Backward`, autograd Functions that also
define ``jvp`` (custom operators carry no forward-mode derivative), with an :class:`Engine`
for the first-order work (:class:`KernelCalls`): for CPU float32/float64 the compiled
kernel run straight on the tensors' memory, which costs a few µs a call where a custom
operator's dispatch costs tens;
torch.compile, which cannot trace a custom ``jvp``, calls the operators.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.autograd.forward_ad as _forward_ad

from actlab import activations
from actlab.activations import _fast

from ._second_order import hessian_vector_product

NAMESPACE = "actlab"
KERNEL_DTYPES = (torch.float32, torch.float64)
#: The dtypes the torch-ops path computes (float16 and bfloat16 through float32).
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


# --------------------------------------------------------------------------- checks
def check_tensor(name: str, t: Any, what: str = "input") -> None:
    """TypeError or ValueError naming ``name`` unless ``t`` is a CPU float32/float64 tensor."""
    if isinstance(t, torch.Tensor) and t.is_cpu and t.dtype in KERNEL_DTYPES:
        return
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: {what} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype not in KERNEL_DTYPES:
        raise TypeError(
            f"{name}: {what} has dtype {t.dtype}; actlab.torch computes float32 and float64 "
            f"tensors (float16 and bfloat16 through float32; convert with .float() or .double())"
        )
    if t.device.type != "cpu":
        raise ValueError(
            f"{name}: {what} is on device {t.device}; actlab.torch runs on the CPU only (move it with .cpu()); "
            f"the functions and modules take other devices through the torch-ops operators"
        )


def encode(values: Mapping[str, Any]) -> str:
    """The bound parameters as the operators take them: JSON, keys sorted."""
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=512)
def bound(name: str, params: str) -> activations.Activation:
    """The registry's activation ``name`` with the encoded parameters bound."""
    return activations.get(name, **json.loads(params))


def _array(t: torch.Tensor) -> np.ndarray:
    """The tensor's memory as a NumPy array (a view: no copy, any strides)."""
    return t.detach().numpy() if t.requires_grad else t.numpy()


# --------------------------------------------------------------------------- shapes
@functools.lru_cache(maxsize=512)
def _vector_axis_length(name: str, params: str, ndim: int, axis: int, n: int) -> int:
    """The length f's axis takes for an input axis of length n, probed on a line of zeros."""
    probe = np.zeros([n if d == axis else 1 for d in range(ndim)])
    return int(bound(name, params)(probe).shape[axis])


def result_shape(act: activations.Activation, params: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of f(x) for x of ``shape``: the same for elementwise functions; a vector
    function acts along its axis, which alone may change length (maxout's shrinks)."""
    if act.elementwise:
        return shape
    axis = act.values.get("axis", -1)
    if not shape or not -len(shape) <= axis < len(shape):
        # actlab's own error, or its answer
        return tuple(act(np.zeros([int(n) for n in shape])).shape)
    axis %= len(shape)
    out = list(shape)
    # int() of a symbolic length (torch.compile's dynamic shapes) makes this one length
    # static: the others stay symbolic
    out[axis] = _vector_axis_length(act.name, params, len(shape), axis, int(shape[axis]))
    return tuple(out)


def _empty_result(act: activations.Activation, params: str, x: torch.Tensor) -> torch.Tensor:
    if act.elementwise:
        return torch.empty_like(x)
    return x.new_empty(result_shape(act, params, tuple(x.shape)))


# --------------------------------------------------------------------------- kernels
#: The compiled kernels' modes: f(x), f'(x), g·f'(x) (unused without the extension).
FWD, DER, BWD = (_fast.FWD, _fast.DER, _fast.BWD) if _fast.KERNELS is not None else (0, 1, 2)
#: The kernels' entry points that take torch tensors, None without the extension.
_ELEMENTWISE_TENSOR: Any = getattr(_fast.KERNELS, "elementwise_tensor", None)
_SOFTMAX_TENSOR: Any = getattr(_fast.KERNELS, "softmax_tensor", None)


def _kernel(act: activations.Activation) -> tuple[int, float] | None:
    """The compiled elementwise kernel of ``act`` and its parameter, or None: no extension,
    a vector function, a parameter it does not serve (the registry's path then)."""
    kernel = _fast._kernel(act) if act.fast is not None else None
    return kernel if kernel is not None and kernel[0] >= 0 else None


class KernelCalls:
    """f(x) and the VJP g·f'(x) of one activation with bound parameters on CPU float32 and
    float64 tensors: the compiled kernel handed the tensors themselves (it runs on the
    memory of C-contiguous ones, no NumPy view made), into a result torch allocates; the
    layouts it declines, and a function without a kernel, through NumPy views
    (:func:`_forward`, :func:`_backward`).  The kernel is looked up again whenever
    actlab's kernel table changes (``numpy_only()``, ``set_num_threads``)."""

    __slots__ = ("act", "params", "_table", "_kernel", "_softmax")

    def __init__(self, act: activations.Activation, params: str) -> None:
        self.act, self.params = act, params
        self._table: Any = None
        self._kernel: tuple[int, float] | None = None
        # softmax's kernel acts along the last axis: the axis it must be, as given
        self._softmax = act.values.get("axis", -1) if act.fast == "softmax" else None

    def kernel(self) -> tuple[int, float] | None:
        """The kernel id and parameter (softmax's id is -1), None for the NumPy views."""
        table = _fast._IDS
        if table is not self._table:
            if _ELEMENTWISE_TENSOR is None or self.act.fast is None:
                self._kernel = None
            else:
                self._kernel = _fast._kernel(self.act)  # a bad ACTLAB_NUM_THREADS raises here
            self._table = table
        return self._kernel

    def _rows(self, x: torch.Tensor) -> int:
        """softmax's row length when its kernel serves x (axis last, rows not empty), else 0."""
        axis, ndim = self._softmax, x.ndim
        if ndim and (axis == -1 or axis == ndim - 1):
            return int(x.shape[-1])
        return 0

    # forward and backward inline kernel(): they run on every call
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self._kernel if _fast._IDS is self._table else self.kernel()
        if kernel is not None:
            kid, prm = kernel
            if kid >= 0:
                out = torch.empty_like(x)
                if _ELEMENTWISE_TENSOR(kid, FWD, x, None, out, prm, _fast._THREADS):
                    return out
            elif kid == -1 and (m := self._rows(x)):
                out = torch.empty_like(x)
                if _SOFTMAX_TENSOR(x, None, out, m, _fast._THREADS):
                    return out
        return _forward(self.act, self.params, x)

    def backward(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """g·f'(x) for a ``grad`` of f(x)'s shape (autograd's, or checked by the caller)."""
        kernel = self._kernel if _fast._IDS is self._table else self.kernel()
        if kernel is not None:
            kid, prm = kernel
            if kid >= 0:
                out = torch.empty_like(x)
                if _ELEMENTWISE_TENSOR(kid, BWD, x, grad, out, prm, _fast._THREADS):
                    return out
            elif kid == -1 and (m := self._rows(x)):
                out = torch.empty_like(x)
                if _SOFTMAX_TENSOR(x, grad, out, m, _fast._THREADS):
                    return out
        return _backward(self.act, x, grad)


def _forward(act: activations.Activation, params: str, x: torch.Tensor) -> torch.Tensor:
    """f(x) into a tensor torch allocates: the compiled kernel run on NumPy views of the
    tensors (what ``act(x, out=)`` runs, without its front door) when the layout allows,
    else the registry's call on the views."""
    xn = _array(x)
    if not act.elementwise:
        out = x.new_empty(result_shape(act, params, tuple(x.shape)))
        act(xn, out=out.numpy())
        return out
    out = torch.empty_like(x)
    on = out.numpy()
    kernel = _kernel(act)
    if kernel is None or not _fast.KERNELS.elementwise(
        kernel[0], FWD, xn, None, on, None, kernel[1], _fast._THREADS
    ):
        act(xn, out=on)
    return out


def _backward(act: activations.Activation, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """g·f'(x) for a ``grad`` of f(x)'s shape (autograd's, or checked by the caller), like
    :func:`_forward`."""
    xn = _array(x)
    gn = _array(grad)
    out = torch.empty_like(x)
    on = out.numpy()
    kernel = _kernel(act) if grad.dtype is x.dtype else None
    if kernel is None or not _fast.KERNELS.elementwise(
        kernel[0], BWD, xn, gn, on, None, kernel[1], _fast._THREADS
    ):
        act.backward(xn, gn, out=on)
    return out


@functools.lru_cache(maxsize=512)
def kernel_calls(name: str, params: str) -> KernelCalls:
    """The kernels' calls of ``name`` with the encoded parameters."""
    return KernelCalls(bound(name, params), params)


def forward_kernel(name: str, x: torch.Tensor, params: str) -> torch.Tensor:
    check_tensor(name, x)
    return kernel_calls(name, params).forward(x)


def backward_kernel(name: str, x: torch.Tensor, grad: torch.Tensor, params: str) -> torch.Tensor:
    check_tensor(name, x)
    check_tensor(name, grad, "grad")
    act = bound(name, params)
    if act.elementwise and grad.shape != x.shape:  # the registry's ValueError names them
        act.backward(_array(x), _array(grad))
    return kernel_calls(name, params).backward(x, grad)


def derivative_kernel(name: str, x: torch.Tensor, params: str) -> torch.Tensor:
    check_tensor(name, x)
    act = bound(name, params)
    out = torch.empty_like(x)
    kernel = _kernel(act)
    if kernel is None or not _fast.KERNELS.elementwise(
        kernel[0], DER, _array(x), None, out.numpy(), None, kernel[1], _fast._THREADS
    ):
        act.derivative(_array(x), out=out.numpy())
    return out


def second_derivative_kernel(name: str, x: torch.Tensor, params: str) -> torch.Tensor:
    check_tensor(name, x)
    out = torch.empty_like(x)
    bound(name, params).second_derivative(_array(x), out=out.numpy())
    return out


def jvp_kernel(name: str, x: torch.Tensor, tangent: torch.Tensor, params: str) -> torch.Tensor:
    """∂f/∂x · tangent from the registry's Jacobian (axis moved last: (..., n_out, n_in))."""
    check_tensor(name, x)
    check_tensor(name, tangent, "tangent")
    act = bound(name, params)
    axis = act.values.get("axis", -1)
    jacobian = act.jacobian(_array(x))
    out = x.new_empty(result_shape(act, params, tuple(x.shape)))
    np.einsum(
        "...ij,...j->...i", jacobian, _array(tangent.movedim(axis, -1)), out=out.movedim(axis, -1).numpy()
    )
    return out


def hvp_kernel(name: str, x: torch.Tensor, grad: torch.Tensor, u: torch.Tensor, params: str) -> torch.Tensor:
    check_tensor(name, x)
    values = dict(bound(name, params).values)
    with torch.no_grad():
        return hessian_vector_product(name, x, grad, u, values).clone()


# --------------------------------------------------------------------------- torch ops
def _portable() -> Any:
    """The torch-ops path's module (array-api-compat imported on first use)."""
    from . import _portable as module

    return module


@functools.lru_cache(maxsize=512)
def _form(name: str, params: str) -> tuple[Any, dict[str, Any]]:
    """The portable form of ``name`` (None when it has none) and the bound values."""
    from actlab import portable

    try:
        form = portable.form(name)
    except ValueError:
        form = None
    return form, dict(bound(name, params).values)


def _form_or_error(name: str, params: str, x: torch.Tensor) -> tuple[Any, dict[str, Any]]:
    form, values = _form(name, params)
    if form is None:
        _portable().form_for(name, x)  # the ValueError that names the function and x
    return form, values


def forward_ops(name: str, x: torch.Tensor, params: str) -> torch.Tensor:
    return _portable().forward(*_form_or_error(name, params, x), x)


def backward_ops(name: str, x: torch.Tensor, grad: torch.Tensor, params: str) -> torch.Tensor:
    return _portable().backward(*_form_or_error(name, params, x), x, grad)


def derivative_ops(name: str, x: torch.Tensor, params: str) -> torch.Tensor:
    return _portable().derivative(*_form_or_error(name, params, x), x)


def second_derivative_ops(name: str, x: torch.Tensor, params: str) -> torch.Tensor:
    return _portable().second_derivative(*_form_or_error(name, params, x), x)


def jvp_ops(name: str, x: torch.Tensor, tangent: torch.Tensor, params: str) -> torch.Tensor:
    return _portable().jvp(*_form_or_error(name, params, x), x, tangent)


def hvp_ops(name: str, x: torch.Tensor, grad: torch.Tensor, u: torch.Tensor, params: str) -> torch.Tensor:
    values = dict(bound(name, params).values)
    with torch.no_grad():
        return hessian_vector_product(name, x, grad, u, values).clone()


def check_float(name: str, t: Any, what: str = "input") -> None:
    """TypeError naming ``name`` unless ``t`` is a tensor of a floating dtype the torch-ops
    path computes (float16, bfloat16, float32, float64)."""
    if isinstance(t, torch.Tensor) and t.dtype in FLOAT_DTYPES:
        return
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: {what} must be a torch.Tensor, got {type(t).__name__}")
    raise TypeError(
        f"{name}: {what} has dtype {t.dtype}; actlab.torch computes float16, bfloat16, float32 "
        f"and float64 tensors (convert with .float() or .double())"
    )


# --------------------------------------------------------------------------- operators
@dataclass(frozen=True)
class Ops:
    """The custom operators of one activation (the elementwise or the vector set)."""

    forward: Any
    backward: Any
    derivative: Any = None
    second_derivative: Any = None
    jvp: Any = None
    hvp: Any = None


@dataclass(frozen=True)
class Path:
    """What a set of custom operators computes with: each ``(name, *tensors, params)``,
    the suffix of the operators' names, and the check their fake kernels make."""

    suffix: str
    forward: Any
    backward: Any
    derivative: Any
    second_derivative: Any
    jvp: Any
    hvp: Any
    check: Any


#: actlab's kernels: ``actlab::name``, ``actlab::name_backward``, ... (CPU float32/float64).
KERNELS = Path(
    "",
    forward_kernel,
    backward_kernel,
    derivative_kernel,
    second_derivative_kernel,
    jvp_kernel,
    hvp_kernel,
    check_tensor,
)
#: The torch-ops forms: ``actlab::name_ops``, ``actlab::name_ops_backward``, ... (any device,
#: float16 to float64).
TORCH_OPS = Path(
    "_ops", forward_ops, backward_ops, derivative_ops, second_derivative_ops, jvp_ops, hvp_ops, check_float
)

#: The operators of each path, by activation name.
OPS: dict[str, Ops] = {}
PORTABLE_OPS: dict[str, Ops] = {}


def _define(qualname: str, schema: str, impl: Any, fake: Any) -> Any:
    op = torch.library.custom_op(f"{NAMESPACE}::{qualname}", impl, mutates_args=(), schema=schema)
    op.register_fake(fake)
    return op


def _no_higher_order(name: str, what: str) -> Any:
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError(
            f"actlab.torch: {name}: {what} is as far as the registry's derivatives go; "
            f"no further derivative is available"
        )

    return backward


def _register(name: str, path: Path) -> Ops:
    act = activations.get(name)
    stem = f"{name}{path.suffix}"

    def fake_forward(x: torch.Tensor, params: str) -> torch.Tensor:
        path.check(name, x)
        return _empty_result(bound(name, params), params, x)

    def fake_like_x(x: torch.Tensor, *rest: Any) -> torch.Tensor:
        path.check(name, x)
        return torch.empty_like(x)

    def fake_jvp(x: torch.Tensor, tangent: torch.Tensor, params: str) -> torch.Tensor:
        return x.new_empty(result_shape(bound(name, params), params, tuple(x.shape)))

    forward = _define(
        stem, "(Tensor x, str params) -> Tensor", functools.partial(path.forward, name), fake_forward
    )
    backward = _define(
        f"{stem}_backward",
        "(Tensor x, Tensor grad, str params) -> Tensor",
        functools.partial(path.backward, name),
        fake_like_x,
    )

    if act.elementwise:
        derivative = _define(
            f"{stem}_derivative",
            "(Tensor x, str params) -> Tensor",
            functools.partial(path.derivative, name),
            fake_like_x,
        )
        second = _define(
            f"{stem}_second_derivative",
            "(Tensor x, str params) -> Tensor",
            functools.partial(path.second_derivative, name),
            fake_like_x,
        )
        ops = Ops(forward, backward, derivative=derivative, second_derivative=second)
    else:
        jvp = _define(
            f"{stem}_jvp",
            "(Tensor x, Tensor tangent, str params) -> Tensor",
            functools.partial(path.jvp, name),
            fake_jvp,
        )
        hvp = _define(
            f"{stem}_hvp",
            "(Tensor x, Tensor grad, Tensor u, str params) -> Tensor",
            functools.partial(path.hvp, name),
            fake_like_x,
        )
        ops = Ops(forward, backward, jvp=jvp, hvp=hvp)

    # -- autograd: each operator's derivative made of the others
    def save_inputs(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_backward(*inputs[:-1])
        ctx.params = inputs[-1]

    def forward_grad(ctx: Any, g: torch.Tensor) -> Any:
        (x,) = ctx.saved_tensors
        return backward(x, g, ctx.params), None

    forward.register_autograd(forward_grad, setup_context=save_inputs)

    def backward_grad(ctx: Any, u: torch.Tensor) -> Any:
        x, g = ctx.saved_tensors
        gx, gg = second_order(ops, x, g, u, ctx.params, ctx.needs_input_grad[:2])
        return gx, gg, None

    backward.register_autograd(backward_grad, setup_context=save_inputs)

    if act.elementwise:

        def derivative_grad(ctx: Any, u: torch.Tensor) -> Any:
            (x,) = ctx.saved_tensors
            return u * ops.second_derivative(x, ctx.params), None

        ops.derivative.register_autograd(derivative_grad, setup_context=save_inputs)
        ops.second_derivative.register_autograd(
            _no_higher_order(name, "the second derivative"), setup_context=save_inputs
        )
    else:

        def jvp_grad(ctx: Any, u: torch.Tensor) -> Any:
            # J(x)·t: along t it is Jᵀu (the VJP), along x the Hessian-vector product
            x, t = ctx.saved_tensors
            gx = ops.hvp(x, u, t, ctx.params) if ctx.needs_input_grad[0] else None
            gt = ops.backward(x, u, ctx.params) if ctx.needs_input_grad[1] else None
            return gx, gt, None

        ops.jvp.register_autograd(jvp_grad, setup_context=save_inputs)
        ops.hvp.register_autograd(
            _no_higher_order(name, "the Hessian-vector product"), setup_context=save_inputs
        )
    return ops


def second_order(
    ops: Ops, x: torch.Tensor, g: torch.Tensor, u: torch.Tensor, params: str, needs: Any = (True, True)
) -> tuple[Any, Any]:
    """The derivatives of the VJP ``B(x, g) = g·∂f/∂x`` contracted with ``u``: along x
    (``g f''(x) u`` elementwise, the Hessian-vector product for vector functions) and along
    g (``u f'(x)``, i.e. B(x, u), elementwise; J(x)·u for vector functions)."""
    if ops.second_derivative is not None:
        gx = u * g * ops.second_derivative(x, params) if needs[0] else None
        gg = ops.backward(x, u, params) if needs[1] else None
    else:
        gx = ops.hvp(x, g, u, params) if needs[0] else None
        gg = ops.jvp(x, u, params) if needs[1] else None
    return gx, gg


def ops_for(name: str) -> Ops:
    """The kernel operators of ``name``, defined on first use (names registered later are
    covered)."""
    ops = OPS.get(name)
    if ops is None:
        ops = OPS[name] = _register(name, KERNELS)
        _function(name)
    return ops


def portable_ops_for(name: str) -> Ops:
    """The torch-ops operators of ``name``, defined on first use."""
    ops = PORTABLE_OPS.get(name)
    if ops is None:
        ops = PORTABLE_OPS[name] = _register(name, TORCH_OPS)
        _function(name)
    return ops


# --------------------------------------------------------------------------- eager autograd
class Engine:
    """One activation with bound parameters as the eager autograd Functions run it: the
    first-order calls (``forward(x)``, ``backward(x, g)``) and the custom operators that
    the higher orders go through."""

    __slots__ = ("act", "params", "ops", "forward", "backward", "apply", "calls")

    def __init__(
        self,
        act: activations.Activation,
        params: str,
        ops: Ops,
        forward: Any,
        backward: Any,
        calls: KernelCalls | None = None,
    ):
        self.act, self.params, self.ops = act, params, ops
        self.forward, self.backward = forward, backward
        #: the kernels' calls (the kernel path's engines), None on the torch-ops path
        self.calls = calls
        #: the activation's Forward Function: apply(x, engine) -> f(x), differentiable
        self.apply = APPLY[act.name]


@functools.lru_cache(maxsize=512)
def kernel_engine(name: str, params: str) -> Engine:
    """The engine of ``name`` on actlab's kernels (CPU float32 and float64)."""
    calls = kernel_calls(name, params)
    return Engine(calls.act, params, ops_for(name), calls.forward, calls.backward, calls)


def _portable_engine(name: str, params: str, x: torch.Tensor) -> Engine:
    """The engine of ``name`` on the torch-ops forms; ValueError naming the function and
    x's device and dtype when it has none."""
    engine = _PORTABLE_ENGINES.get((name, params))
    if engine is None:
        form, values = _form_or_error(name, params, x)
        module = _portable()

        def forward(x: torch.Tensor) -> torch.Tensor:
            return module.forward(form, values, x)

        def backward(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
            return module.backward(form, values, x, g)

        engine = Engine(bound(name, params), params, portable_ops_for(name), forward, backward)
        _PORTABLE_ENGINES[(name, params)] = engine
    return engine


_PORTABLE_ENGINES: dict[tuple[str, str], Engine] = {}


# torch.autograd.Function.apply binds its arguments with inspect.signature on every call
# when setup_context is defined (tens of µs): each Function has a combined form, its
# forward saving what it needs, for ordinary calls, and a form with setup_context for
# torch.func's transforms, which require one.
class _ForwardRules(torch.autograd.Function):
    """f(x) by an engine, with its VJP and JVP (eager calls)."""

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> Any:  # type: ignore[override]
        (x,) = ctx.saved_tensors  # torch's checks: x unchanged, the graph not yet freed
        if torch.is_grad_enabled():  # create_graph: the result must be differentiable
            return backward_function().apply(x, g, ctx.engine), None
        return ctx.engine.backward(x, g), None

    @staticmethod
    def jvp(ctx: Any, tangent: torch.Tensor, *_: Any) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        ops, params = ctx.engine.ops, ctx.engine.params
        if ops.derivative is not None:
            return tangent * ops.derivative(x, params)
        return ops.jvp(x, tangent, params)


class Forward(_ForwardRules):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, engine: Engine) -> torch.Tensor:  # type: ignore[override]
        ctx.engine = engine
        ctx.save_for_backward(x)
        if _forward_ad._current_level >= 0:  # forward AD is on: jvp reads x
            ctx.save_for_forward(x)
        return engine.forward(x)


class ForwardForTransforms(_ForwardRules):
    @staticmethod
    def forward(x: torch.Tensor, engine: Engine) -> torch.Tensor:  # type: ignore[override]
        return engine.forward(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        x, ctx.engine = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)


class _BackwardRules(torch.autograd.Function):
    """The VJP by an engine, with its own VJP and JVP (double backward, forward over
    reverse)."""

    @staticmethod
    def save(ctx: Any, x: torch.Tensor, g: torch.Tensor, engine: Engine) -> None:
        ctx.engine = engine
        ctx.save_for_backward(x, g)
        ctx.save_for_forward(x, g)

    @staticmethod
    def backward(ctx: Any, u: torch.Tensor) -> Any:  # type: ignore[override]
        x, g = ctx.saved_tensors
        engine = ctx.engine
        gx, gg = second_order(engine.ops, x, g, u, engine.params, ctx.needs_input_grad[:2])
        return gx, gg, None

    @staticmethod
    def jvp(
        ctx: Any,
        tx: torch.Tensor | None,
        tg: torch.Tensor | None,  # type: ignore[override]
        *_: Any,
    ) -> torch.Tensor:
        x, g = ctx.saved_tensors
        ops, params = ctx.engine.ops, ctx.engine.params
        total = torch.zeros_like(x)
        if tx is not None:
            total = total + second_order(ops, x, g, tx, params, (True, False))[0]
        if tg is not None:
            total = total + ops.backward(x, tg, params)
        return total


class Backward(_BackwardRules):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, g: torch.Tensor, engine: Engine) -> torch.Tensor:  # type: ignore[override]
        _BackwardRules.save(ctx, x, g, engine)
        return engine.backward(x, g)


class BackwardForTransforms(_BackwardRules):
    @staticmethod
    def forward(x: torch.Tensor, g: torch.Tensor, engine: Engine) -> torch.Tensor:  # type: ignore[override]
        return engine.backward(x, g)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        _BackwardRules.save(ctx, *inputs)


def backward_function() -> type[_BackwardRules]:
    return BackwardForTransforms if torch._C._are_functorch_transforms_active() else Backward


#: One Forward subclass per activation, so that a tensor's grad_fn names its function
#: (``ActlabSigmoidBackward``).
FUNCTIONS: dict[str, type[Forward]] = {}

# Function.apply's own work for a call outside torch.func's transforms is to unwrap a
# functorch wrapper whose transform has ended and to call the C entry point; a call with
# one tensor does both itself (Function.apply inspects every argument: µs per call).
_C_APPLY: Any = getattr(torch._C._FunctionBase, "__dict__", {}).get("apply")
_UNWRAP: Any = getattr(torch._C._functorch, "unwrap_if_dead", None)
_unwrap_if_dead: Any = _UNWRAP if _C_APPLY is not None and _UNWRAP is not None else (lambda x: x)
#: The apply of each activation's Forward subclass, called as apply(_unwrap_if_dead(x), engine).
APPLY: dict[str, Any] = {}


def _function(name: str) -> type[Forward]:
    cls = FUNCTIONS.get(name)
    if cls is None:
        title = "".join(part.capitalize() for part in name.split("_"))
        cls = FUNCTIONS[name] = type(f"Actlab{title}", (Forward,), {"__module__": __name__})
        if _C_APPLY is not None and _UNWRAP is not None:
            APPLY[name] = _C_APPLY.__get__(None, cls)
        else:  # pragma: no cover - a PyTorch without these internals
            APPLY[name] = cls.apply
    return cls


# --------------------------------------------------------------------------- the path
#: The paths a tensor may take: "kernels" (actlab's kernels for CPU float32 and float64
#: tensors, the torch-ops forms for the others) or "ops" (the torch-ops forms for all).
PATHS = ("kernels", "ops")
_PATH_VARIABLE = "ACTLAB_TORCH_PATH"


def _path_from_environment() -> tuple[str, str | None]:
    """The path ACTLAB_TORCH_PATH names ("kernels" when unset) and the error message of a
    bad value (raised by the first call, so that the import does not fail)."""
    value = os.environ.get(_PATH_VARIABLE, "").strip()
    if not value:
        return "kernels", None
    if value in PATHS:
        return value, None
    return "kernels", f"{_PATH_VARIABLE} must be one of {', '.join(PATHS)}, got {value!r}"


_PATH, _PATH_ERROR = _path_from_environment()
#: True while CPU float32 and float64 tensors take actlab's kernels.
_KERNELS_ON = _PATH == "kernels" and _PATH_ERROR is None


def get_path() -> str:
    """The path tensors take: "kernels" (the default: actlab's kernels for CPU float32 and
    float64 tensors, the torch-ops forms for other devices and dtypes) or "ops" (the
    torch-ops forms for every tensor); ValueError while ACTLAB_TORCH_PATH holds a bad value."""
    if _PATH_ERROR is not None:
        raise ValueError(_PATH_ERROR)
    return _PATH


def set_path(path: str) -> str:
    """Send tensors down ``path`` ("kernels" or "ops", see :func:`get_path`) and return the
    previous one; ValueError naming any other value.  Replaces ACTLAB_TORCH_PATH."""
    global _PATH, _PATH_ERROR, _KERNELS_ON
    if not isinstance(path, str) or path not in PATHS:
        raise ValueError(f"set_path: path must be one of {', '.join(PATHS)}, got {path!r}")
    previous = _PATH
    _PATH, _PATH_ERROR = path, None
    _KERNELS_ON = path == "kernels"
    return previous


# the eager path's queries, looked up once (torch.compile knows is_compiling by identity)
_is_compiling = torch.compiler.is_compiling
_functorch_active = torch._C._are_functorch_transforms_active
_grad_enabled = torch.is_grad_enabled


def apply(name: str, x: Any, params: str) -> torch.Tensor:
    """f(x) for the activation ``name`` with the encoded parameters, differentiable: CPU
    float32 and float64 tensors by actlab's kernels, the others (another device, float16,
    bfloat16), and all of them on the "ops" path, by the torch-ops forms."""
    if (
        _KERNELS_ON
        and isinstance(x, torch.Tensor)
        and x.dtype in KERNEL_DTYPES
        and x.is_cpu
        and not _is_compiling()
    ):
        engine = kernel_engine(name, params)
        if _functorch_active():
            return ForwardForTransforms.apply(x, engine)
        if (x.requires_grad and _grad_enabled()) or _forward_ad._current_level >= 0:
            return engine.apply(_unwrap_if_dead(x), engine)
        return engine.forward(x)  # nothing to differentiate
    check_float(name, x)
    if _PATH_ERROR is not None:
        raise ValueError(_PATH_ERROR)
    kernels = _KERNELS_ON and x.is_cpu and x.dtype in KERNEL_DTYPES
    if torch.compiler.is_compiling():  # torch.compile traces the operator
        return (ops_for(name) if kernels else portable_ops_for(name)).forward(x, params)
    engine = kernel_engine(name, params) if kernels else _portable_engine(name, params, x)
    if torch._C._are_functorch_transforms_active():
        return ForwardForTransforms.apply(x, engine)
    if (x.requires_grad and torch.is_grad_enabled()) or _forward_ad._current_level >= 0:
        return engine.apply(_unwrap_if_dead(x), engine)
    return engine.forward(x)
