"""The functional form and the modules, generated from the registry.

Parameters keep the registry's names, except a vector function's ``axis``, which is torch's
``dim``.  Values are validated by actlab's own checks when the function is called or the
module built.
"""

from __future__ import annotations

import difflib
import inspect
import numbers
from collections.abc import Callable
from typing import Any

import torch

from actlab import activations

from ._ops import apply, encode, ops_for, portable_ops_for

_AXIS, _DIM = "axis", "dim"
#: The parameter sets a functional form remembers bound (all forgotten when it is full).
_BINDINGS = 1024

#: Name parts written as torch writes them in its module names (LeakyReLU, SiLU, GELU).
_ACRONYMS = {
    "relu": "ReLU",
    "elu": "ELU",
    "selu": "SELU",
    "gelu": "GELU",
    "celu": "CELU",
    "silu": "SiLU",
    "prelu": "PReLU",
    "rrelu": "RReLU",
    "glu": "GLU",
    "relu6": "ReLU6",
}


def class_name(name: str) -> str:
    """The module class name of an activation: leaky_relu -> LeakyReLU, softmax -> Softmax."""
    return "".join(_ACRONYMS.get(part, part.capitalize()) for part in name.split("_"))


def torch_param_names(act: activations.Activation) -> list[str]:
    """The activation's parameter names as the torch API takes them (axis is dim)."""
    return [_DIM if p.name == _AXIS else p.name for p in act.params]


def _check_dim_type(name: str, dim: Any) -> int:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}: dim must be an integer, got {dim!r}")
    return int(dim)


def check_dim(name: str, dim: int, ndim: int) -> None:
    """ValueError unless ``dim`` is a dimension of a tensor with ``ndim`` dimensions."""
    if ndim == 0:
        raise ValueError(
            f"{name}: dim {dim} is out of range: the input is a 0-dimensional tensor; "
            f"{name} acts along a dimension, so it needs at least one"
        )
    if not -ndim <= dim < ndim:
        raise ValueError(
            f"{name}: dim {dim} is out of range for a tensor of {ndim} dimensions "
            f"(expected {-ndim} to {ndim - 1})"
        )


def bind(name: str, params: dict[str, Any]) -> tuple[str, int | None, dict[str, Any]]:
    """Validate the torch-side parameters of ``name``: (the operators' encoded parameters,
    the dim for vector functions or None, every parameter's value by its torch name)."""
    act = activations.get(name)
    known = torch_param_names(act)
    values: dict[str, Any] = {}
    for key, value in params.items():
        if key == _AXIS and _DIM in known:
            raise TypeError(f"{name}: the torch form takes dim=, not axis=")
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
            accepted = ", ".join(known) or "no parameters"
            raise TypeError(
                f"{name}: unknown parameter {key!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else f" (it takes {accepted})")
            )
        if key == _DIM:
            values[_AXIS] = _check_dim_type(name, value)
        else:
            values[key] = value
    bound = activations.get(name, **values)  # actlab's validation, its messages
    shown = {(_DIM if k == _AXIS else k): v for k, v in bound.values.items()}
    return encode(bound.values), bound.values.get(_AXIS), shown


def docstring(act: activations.Activation, *, module: bool) -> str:
    """The torch form's documentation, from the activation's facts."""
    lines = [act.summary, "", f"f(x) = {act.plain_formula}"]
    if act.derivative_formula:
        lines.append(f"derivative (LaTeX): {act.derivative_formula}")
    if act.elementwise and act.second_derivative_formula:
        lines.append(f"second derivative (LaTeX): {act.second_derivative_formula}")
    if act.params:
        lines += ["", "Parameters (keyword-only):" if not module else "Parameters:"]
        for p in act.params:
            if p.name == _AXIS:
                lines.append(f"    dim: the dimension the function acts along (default {p.default!r})")
            else:
                lines.append(f"    {p.name}: {p.doc} (default {p.default!r})")
    for kink in act.kinks:
        note = f" ({kink.note})" if kink.note else ""
        lines.append(f"At x = {kink.x:g} the derivative is taken as {kink.derivative:g}{note}.")
    lines += [
        "",
        "Computed by actlab's kernels on CPU float32 and float64 tensors, and by the "
        "same stable forms in torch operations on other devices and for float16 and "
        "bfloat16 (integer and complex dtypes are a TypeError); the gradient is "
        "actlab's backward step and double backward goes through its second "
        "derivative.",
    ]
    return "\n".join(lines)


def _signature(act: activations.Activation, first: list[inspect.Parameter]) -> inspect.Signature:
    options = [
        inspect.Parameter(
            _DIM if p.name == _AXIS else p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default
        )
        for p in act.params
    ]
    return inspect.Signature([*first, *options])


def make_function(name: str) -> Callable[..., torch.Tensor]:
    """The functional form of the activation ``name``: ``fn(input, **params)``."""
    act = activations.get(name)
    default_params, default_dim, _ = bind(name, {})
    ops_for(name)  # defined now: torch.compile cannot define an operator while it traces
    portable_ops_for(name)

    # the bound parameters by (*params.items(), *their types): 1 and True are equal keys
    # otherwise, and binding tells them apart
    bindings: dict[tuple[Any, ...], tuple[str, int | None]] = {}

    def function(input: torch.Tensor, /, **params: Any) -> torch.Tensor:
        if not params:
            encoded, dim = default_params, default_dim
        else:
            key: tuple[Any, ...] | None = (*params.items(), *map(type, params.values()))
            try:
                entry = bindings.get(key)  # type: ignore[arg-type]
            except TypeError:  # an unhashable value: bind says what is wrong with it
                entry = key = None
            if entry is None:
                entry = bind(name, params)[:2]
                if key is not None:
                    if len(bindings) >= _BINDINGS:
                        bindings.clear()
                    bindings[key] = entry
            encoded, dim = entry
        if dim is not None and isinstance(input, torch.Tensor):
            check_dim(name, dim, input.ndim)
        return apply(name, input, encoded)

    function.__name__ = function.__qualname__ = name
    function.__module__ = "actlab.torch.functional"
    function.__doc__ = docstring(act, module=False)
    function.__signature__ = _signature(  # type: ignore[attr-defined]
        act, [inspect.Parameter("input", inspect.Parameter.POSITIONAL_ONLY)]
    )
    return function


class Activation(torch.nn.Module):
    """An actlab activation as a module: ``Activation("leaky_relu", slope=0.2)``.

    It holds no parameters or buffers (its state_dict is empty); its settings show in its
    repr.  The forward pass, gradient and second derivative are actlab's (see
    :mod:`actlab.torch.functional`).
    """

    def __init__(self, name: str, /, **params: Any) -> None:
        super().__init__()
        canonical = activations.get(name).name  # ValueError with "did you mean"
        encoded, dim, shown = bind(canonical, params)
        self.name = canonical
        self.settings = shown
        self._params = encoded
        self._dim = dim

    @property
    def activation(self) -> activations.Activation:
        """The registry's activation with this module's parameters bound."""
        return activations.get(
            self.name, **{(_AXIS if k == _DIM else k): v for k, v in self.settings.items()}
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self._dim is not None and isinstance(input, torch.Tensor):
            check_dim(self.name, self._dim, input.ndim)
        return apply(self.name, input, self._params)

    def extra_repr(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.settings.items()]
        if type(self) is Activation:
            shown.insert(0, repr(self.name))
        return ", ".join(shown)


def make_module_class(name: str) -> type[Activation]:
    """The module class of the activation ``name`` (``LeakyReLU(slope=0.1)``)."""
    act = activations.get(name)

    def __init__(self: Activation, **params: Any) -> None:
        Activation.__init__(self, name, **params)

    cls_name = class_name(name)
    __init__.__signature__ = _signature(  # type: ignore[attr-defined]
        act, [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    )
    __init__.__qualname__ = f"{cls_name}.__init__"
    cls = type(
        cls_name,
        (Activation,),
        {
            "__init__": __init__,
            "__doc__": docstring(act, module=True),
            "__module__": "actlab.torch",
            "__qualname__": cls_name,
        },
    )
    return cls
