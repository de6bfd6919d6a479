"""The torch-ops path: actlab's stable forms (:mod:`actlab.portable`) run with torch
operations, for the tensors actlab's kernels do not take (other devices, float16 and
bfloat16) and for every tensor when the path is forced (:func:`actlab.torch.set_path`).

Each function takes a form, the activation's bound values (the registry's names: ``axis``
for a vector function) and tensors; it runs inside an autograd Function or a custom
operator, so nothing here is recorded by autograd.  Float32 and float64 are computed in
their own dtype.  Float16 and bfloat16 are computed in float32 and rounded once: the forms
do so for f, f' and f'', and the gradient g·f'(x) is formed in float32 before its one
rounding.
"""

from __future__ import annotations

from typing import Any

import torch

try:
    import array_api_compat.torch as XP
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "actlab.torch's torch-ops path (other devices, float16 and bfloat16) needs array-api-compat; "
        "install it with: pip install array-api-compat"
    ) from exc

from actlab import portable

#: The dtypes computed in float32 and rounded back.
HALF_DTYPES = (torch.float16, torch.bfloat16)

Form = Any  # portable.ElementwiseForm | portable.VectorForm


def form_for(name: str, x: torch.Tensor) -> Form:
    """The portable form of ``name``; ValueError naming the function, the tensor's device
    and dtype and why, when it has none."""
    try:
        return portable.form(name)
    except ValueError as exc:
        raise ValueError(
            f"{name}: a tensor on {x.device} of dtype {x.dtype} runs through actlab's torch-ops forms, "
            f"and {exc}; actlab's kernels take CPU float32 and float64 tensors"
        ) from None


def _own(result: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``result`` as a C-contiguous tensor of its own: a form may return x itself or a view
    (an axis moved back), and neither may leave a custom operator (no aliasing) or an
    autograd Function (a view's tangent would need its layout)."""
    if result is x or result._is_view():
        return result.clone(memory_format=torch.contiguous_format)
    return result.contiguous()


def forward(form: Form, values: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    return _own(form.f(XP, x, **values), x)


def derivative(form: Form, values: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    return _own(form.derivative(XP, x, **values), x)


def second_derivative(form: Form, values: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    return _own(form.second_derivative(XP, x, **values), x)


def backward(form: Form, values: dict[str, Any], x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """The VJP: g·f'(x) for an elementwise form, the form's own for a vector one."""
    if isinstance(form, portable.VectorForm):
        return _own(form.vjp(XP, x, g, **values), x)
    if x.dtype in HALF_DTYPES:
        wide = form.derivative(XP, x.float(), **values)
        return (g.float() * wide).to(x.dtype).contiguous()
    return (g * form.derivative(XP, x, **values)).contiguous()


def jvp(form: Form, values: dict[str, Any], x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """∂f/∂x · t of a vector form."""
    return _own(form.jvp(XP, x, t, **values), x)
