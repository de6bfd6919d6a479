"""Second derivatives of the vector functions, in torch operations.

The registry gives every vector function its forward pass, its vector-Jacobian product and
its Jacobian, but no Hessian.  Double backward (and forward over reverse) through a vector
function needs the Hessian-vector product ``Σ_i g_i ∇²f_i(x) · u``, the derivative of the
VJP ``g · ∂f/∂x`` along ``u``; it is written here in closed form.  Every first-order value
(f, its VJP, its JVP) still comes from actlab's kernels.

Each entry takes ``(x, g, u, **values)``, with the activation's bound parameters as the
registry names them (``axis``, not ``dim``).  A vector function missing from this table
works to first order; its second order raises NotImplementedError naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def _softmax(x: torch.Tensor, g: torch.Tensor, u: torch.Tensor, *, axis: int) -> torch.Tensor:
    # VJP: s ⊙ (g - <s, g>); its derivative along u, with ds = s ⊙ (u - <s, u>):
    # ds ⊙ (g - <s, g>) - s ⊙ <ds, g>
    s = torch.softmax(x, axis)
    ds = s * (u - (s * u).sum(axis, keepdim=True))
    return ds * (g - (s * g).sum(axis, keepdim=True)) - s * (ds * g).sum(axis, keepdim=True)


def _log_softmax(x: torch.Tensor, g: torch.Tensor, u: torch.Tensor, *, axis: int) -> torch.Tensor:
    # VJP: g - s Σg; its derivative along u: -ds Σg
    s = torch.softmax(x, axis)
    ds = s * (u - (s * u).sum(axis, keepdim=True))
    return -ds * g.sum(axis, keepdim=True)


def _glu(x: torch.Tensor, g: torch.Tensor, u: torch.Tensor, *, axis: int) -> torch.Tensor:
    # f = a ⊙ σ(b) with x = [a, b]; VJP: [g σ(b), g a σ'(b)]; its derivative along
    # u = [u_a, u_b]: [g σ'(b) u_b, g (σ'(b) u_a + a σ''(b) u_b)]
    a, b = x.chunk(2, axis)
    u_a, u_b = u.chunk(2, axis)
    s = torch.sigmoid(b)
    d1 = s * (1 - s)
    d2 = d1 * (1 - 2 * s)
    return torch.cat([g * d1 * u_b, g * (d1 * u_a + a * d2 * u_b)], axis)


def _piecewise_linear(x: torch.Tensor, g: torch.Tensor, u: torch.Tensor, **values: Any) -> torch.Tensor:
    # the Hessian is zero wherever it exists
    return torch.zeros_like(x)


HESSIAN_VECTOR_PRODUCTS: dict[str, Callable[..., torch.Tensor]] = {
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "maxout": _piecewise_linear,
    "sparsemax": _piecewise_linear,  # a projection onto a polytope's faces
    "glu": _glu,
}


def hessian_vector_product(
    name: str, x: torch.Tensor, g: torch.Tensor, u: torch.Tensor, values: dict[str, Any]
) -> torch.Tensor:
    """``Σ_i g_i ∇²f_i(x) · u`` for the vector function ``name`` with these parameters."""
    rule = HESSIAN_VECTOR_PRODUCTS.get(name)
    if rule is None:
        raise NotImplementedError(
            f"actlab.torch: {name} has no second derivative in torch: double backward and "
            f"forward over reverse need its Hessian-vector product in "
            f"actlab.torch._second_order.HESSIAN_VECTOR_PRODUCTS; its first derivatives work"
        )
    return rule(x, g, u, **values)
