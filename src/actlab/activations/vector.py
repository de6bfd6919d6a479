"""Activations that act on a whole axis: softmax, log_softmax and maxout.

Their derivative is a Jacobian matrix, so they offer ``jacobian`` (shape
(..., n_out, n_in), the function's axis moved last) and ``backward`` (the
vector-Jacobian product, which never builds the matrix).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._registry import Param, activation, axis_int, optional_positive_int

Array = NDArray[Any]

_AXIS = Param("axis", -1, "the axis the function acts along", axis_int)


def _check_axis(name: str, x: Array, axis: int) -> int:
    if x.ndim == 0:
        raise ValueError(f"{name} needs at least 1 dimension, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for an array of dimension {x.ndim}")
    return axis % x.ndim


def _shifted(x: Array, axis: int) -> tuple[Array, Array]:
    """(x - max, max) along ``axis``, with the limits docs/numerics.md gives for infinite maxima.

    Where a slice's maximum is ±inf, the entries equal to it get shift 0 and the others
    -inf: equal shares among the maximal entries, 0 elsewhere (an all -inf slice is
    uniform). NaN anywhere in a slice makes the maximum NaN, and the slice NaN.
    """
    m = np.max(x, axis=axis, keepdims=True)
    infinite = np.isinf(m)
    # x - max overflows to -inf only where the true difference is below -max: e^z is 0
    # there and log_softmax's value rounds to -inf, so the overflow is not an error.
    if not infinite.any():
        with np.errstate(over="ignore"):
            return x - m, m
    m_finite = np.where(infinite, 0.0, m)
    with np.errstate(over="ignore"):
        z = x - m_finite
    at_max = x == m
    z = np.where(infinite, np.where(at_max, 0.0, -np.inf), z)
    return z, m


def _exp_sum_parts(z: Array, axis: int, *, in_place: bool = False) -> tuple[Array, Array]:
    """(e^z, Σ e^z - 1): the sum less the 1 of the first maximal entry, kept apart.

    log Σ e^z = log1p(rest) keeps the digits that log(1 + rest) would round away:
    log_softmax([20, -20])[0] is -4.248e-18, not 0.  ``in_place``: e^z overwrites z.
    """
    first_max = np.argmax(z, axis=axis, keepdims=True)
    e = np.exp(z, out=z) if in_place else np.exp(z)
    # the first maximal entry set aside for the sum, then put back: no second array
    at_max = np.take_along_axis(e, first_max, axis=axis)
    np.put_along_axis(e, first_max, 0.0, axis=axis)
    rest = np.sum(e, axis=axis, keepdims=True)
    np.put_along_axis(e, first_max, at_max, axis=axis)
    return e, rest


# ----------------------------------------------------------------------------- softmax
@activation(
    "softmax",
    plain_formula="e^x_i / Σ_j e^x_j",
    kind="vector",
    formula=r"f_i(\vec x) = \frac{e^{x_i}}{\sum_j e^{x_j}}",
    derivative_formula=r"\frac{\partial f_i}{\partial x_j} = f_i(\delta_{ij} - f_j)",
    output_range=(0.0, 1.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=0.25,
    params=(_AXIS,),
    use=("classification output",),
    problems=(
        "Computed naively, e^{x} overflows for x > 709; actlab subtracts the maximum first.",
        "Paired with cross-entropy, use log_softmax: the log of a rounded probability loses the small ones.",
    ),
    reference="Bridle, J. S. (1990). Probabilistic interpretation of feedforward "
    "classification network outputs. Neurocomputing.",
    summary="Turns a vector of scores into a probability distribution along an axis.",
    classic=True,
    fast="softmax",
)
def softmax(x: Array, *, axis: int) -> Array:
    """e^{x_i}/Σ_j e^{x_j} along ``axis``, computed as e^{x_i - max}/Σ e^{x_j - max}.

    >>> import actlab
    >>> actlab.softmax([0.0, 0.0, float("-inf")])
    array([0.5, 0.5, 0. ])
    """
    axis = _check_axis("softmax", x, axis)
    if x.shape[axis] == 0:  # an empty axis: nothing to normalise, nothing to return
        return x.copy()
    z, _ = _shifted(x, axis)
    e, rest = _exp_sum_parts(z, axis, in_place=True)
    rest += 1.0
    e /= rest
    return e


@softmax.backward_rule
def _softmax_backward(x: Array, grad: Array, y: Array | None, *, axis: int) -> Array:
    # y ⊙ (g - Σ g⊙y): the vector-Jacobian product, without the n×n matrix.
    axis = _check_axis("softmax", x, axis)
    if grad.shape != x.shape:
        raise ValueError(f"softmax: grad has shape {grad.shape}, expected {x.shape}")
    if y is not None and y.shape != x.shape:
        raise ValueError(f"softmax: the saved output y has shape {y.shape}, expected {x.shape}")
    s = softmax.forward_kernel(x, axis=axis) if y is None else y
    inner = np.sum(grad * s, axis=axis, keepdims=True)
    result = s * (grad - inner)
    if s.shape[axis] == 0:
        return result
    # A slice's largest y_k above 1/2 may round to 1, and g_k - Σ g y then cancels to
    # nothing: there g_k - Σ g y = Σ_{j≠k} (g_k - g_j) y_j, with no cancellation (its terms
    # are differences times the small y_j).  (The compiled kernel does the same, in the
    # same order.)
    top = np.max(s, axis=axis, keepdims=True)
    dominated = top > 0.5
    if not dominated.any():
        return result
    k = np.argmax(s, axis=axis, keepdims=True)
    gk = np.take_along_axis(grad, k, axis=axis)
    terms = (gk - grad) * s
    np.put_along_axis(terms, k, 0.0, axis=axis)  # j = k is not in the sum (inf - inf)
    dominant = np.take_along_axis(s, k, axis=axis) * np.sum(terms, axis=axis, keepdims=True)
    current = np.take_along_axis(result, k, axis=axis)
    np.put_along_axis(result, k, np.where(dominated, dominant, current), axis=axis)
    return result


@softmax.jacobian_rule
def _softmax_jacobian(x: Array, *, axis: int) -> Array:
    axis = _check_axis("softmax", x, axis)
    s = np.moveaxis(softmax.forward_kernel(x, axis=axis), axis, -1)
    jac = -s[..., :, None] * s[..., None, :]
    diagonal = np.einsum("...ii->...i", jac)
    diagonal += s
    return jac


# ----------------------------------------------------------------------------- log_softmax
@activation(
    "log_softmax",
    plain_formula="x_i - log Σ_j e^x_j",
    kind="vector",
    formula=r"f_i(\vec x) = x_i - \log \sum_j e^{x_j}",
    derivative_formula=r"\frac{\partial f_i}{\partial x_j} = \delta_{ij} - "
    r"\operatorname{softmax}_j(\vec x)",
    output_range=(-np.inf, 0.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    params=(_AXIS,),
    use=("classification output",),
    problems=("Its outputs are log-probabilities: exponentiate them to get probabilities.",),
    reference="The log-sum-exp form of the cross-entropy loss; see Goodfellow, Bengio & "
    "Courville (2016), Deep Learning, §6.2.2.3.",
    summary="The logarithm of softmax, computed directly: what a classifier's loss needs.",
    fast="log_softmax",
)
def log_softmax(x: Array, *, axis: int) -> Array:
    """x_i - log Σ_j e^{x_j} along ``axis``, as (x_i - max) - log1p(Σ_{j≠argmax} e^{x_j-max}).

    >>> import actlab
    >>> float(actlab.log_softmax([20.0, -20.0])[0])
    -4.248354255291589e-18
    """
    axis = _check_axis("log_softmax", x, axis)
    if x.shape[axis] == 0:
        return x.copy()
    z, _ = _shifted(x, axis)
    _, rest = _exp_sum_parts(z, axis)
    z -= np.log1p(rest)
    return z


@log_softmax.backward_rule
def _log_softmax_backward(x: Array, grad: Array, y: Array | None, *, axis: int) -> Array:
    # g - softmax(x)·Σg; softmax = e^y when the saved output is given.
    axis = _check_axis("log_softmax", x, axis)
    if grad.shape != x.shape:
        raise ValueError(f"log_softmax: grad has shape {grad.shape}, expected {x.shape}")
    if y is not None and y.shape != x.shape:
        raise ValueError(f"log_softmax: the saved output y has shape {y.shape}, expected {x.shape}")
    s = softmax.forward_kernel(x, axis=axis) if y is None else np.exp(y)
    result = grad - s * np.sum(grad, axis=axis, keepdims=True)
    if s.shape[axis] == 0:
        return result
    # For the largest softmax_k, near 1, g_k - s_k Σg cancels: it is written as
    # g_k (1 - s_k) - s_k Σ_{j≠k} g_j with 1 - s_k = Σ_{j≠k} s_j, both sums without g_k.
    k = np.argmax(s, axis=axis, keepdims=True)
    others_s = s.copy()
    np.put_along_axis(others_s, k, 0.0, axis=axis)
    others_g = grad.copy()
    np.put_along_axis(others_g, k, 0.0, axis=axis)
    gk = np.take_along_axis(grad, k, axis=axis)
    sk = np.take_along_axis(s, k, axis=axis)
    dominant = gk * np.sum(others_s, axis=axis, keepdims=True) - sk * np.sum(
        others_g, axis=axis, keepdims=True
    )
    np.put_along_axis(result, k, dominant, axis=axis)
    return result


@log_softmax.jacobian_rule
def _log_softmax_jacobian(x: Array, *, axis: int) -> Array:
    axis = _check_axis("log_softmax", x, axis)
    s = np.moveaxis(softmax.forward_kernel(x, axis=axis), axis, -1)
    n = s.shape[-1]
    return np.eye(n, dtype=s.dtype) - s[..., None, :] * np.ones((n, 1), dtype=s.dtype)


# ----------------------------------------------------------------------------- maxout
def _groups(x: Array, pieces: int | None, axis: int) -> tuple[Array, int]:
    """x with ``axis`` moved last and split into (..., n_groups, k)."""
    axis = _check_axis("maxout", x, axis)
    moved = x if axis == x.ndim - 1 else np.moveaxis(x, axis, -1)  # moveaxis costs µs
    n = moved.shape[-1]
    k = n if pieces is None else pieces
    if n == 0 or n % k:
        raise ValueError(
            f"maxout: pieces={k} does not divide the axis of length {n}" if n else "maxout: the axis is empty"
        )
    return moved.reshape(*moved.shape[:-1], n // k, k), axis


def _first_max(groups: Array) -> Array:
    """Index of each group's first maximum (of its first NaN, if it holds one)."""
    return np.argmax(groups, axis=-1)[..., None]


@activation(
    "maxout",
    plain_formula="max of each group of k",
    kind="vector",
    formula=r"f_g(\vec x) = \max_{i \in \text{group } g} x_i",
    derivative_formula=r"\frac{\partial f_g}{\partial x_i} = \begin{cases} 1 & i = "
    r"\text{the first } \arg\max \text{ of group } g \\ 0 & \text{otherwise} \end{cases}",
    output_range=(-np.inf, np.inf),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    params=(
        Param(
            "pieces",
            None,
            "the group size k; None takes the whole axis (the founding document's max over all i)",
            optional_positive_int,
        ),
        _AXIS,
    ),
    use=("hidden layer",),
    problems=(
        "k times the weights of a plain layer for the same number of outputs.",
        "Only one input per group receives gradient at each step.",
    ),
    reference="Goodfellow, Warde-Farley, Mirza, Courville & Bengio (2013). Maxout networks. ICML.",
    summary="The maximum of each group of k inputs: a learned piecewise-linear convex unit.",
    init="lecun",
    keeps_shape=False,
    classic=True,
    exact=True,
    fast="maxout",
)
def maxout(x: Array, *, pieces: int | None, axis: int) -> Array:
    """The maximum over each group of ``pieces`` consecutive entries along ``axis``.

    >>> import actlab
    >>> actlab.maxout([1.0, 5.0, -2.0, 0.0], pieces=2)
    array([5., 0.])
    """
    groups, axis = _groups(x, pieces, axis)
    k = groups.shape[-1]
    if 1 < k <= 8 and groups.size:
        # Small groups: a chain of np.maximum over the k strided columns, 10-20x faster than
        # reducing axes of length 2 (the same values; NaN propagates as in np.max).
        result = np.maximum(groups[..., 0], groups[..., 1])
        for j in range(2, k):
            np.maximum(result, groups[..., j], out=result)
    else:
        result = np.max(groups, axis=-1)
    return result if axis == x.ndim - 1 else np.moveaxis(result, -1, axis)


@maxout.backward_rule
def _maxout_backward(x: Array, grad: Array, y: Array | None, *, pieces: int | None, axis: int) -> Array:
    groups, axis = _groups(x, pieces, axis)
    g = np.moveaxis(grad, axis, -1) if grad.ndim == x.ndim else grad
    if g.shape != groups.shape[:-1]:
        expected = list(x.shape)
        expected[axis] = groups.shape[-2]
        raise ValueError(f"maxout: grad has shape {grad.shape}, expected {tuple(expected)}")
    result = np.zeros_like(groups, dtype=np.result_type(groups, g))
    np.put_along_axis(result, _first_max(groups), g[..., None], axis=-1)
    # A group holding NaN has no defined gradient: NaN for all its inputs.
    nan_group = np.isnan(groups).any(axis=-1, keepdims=True)
    if nan_group.any():
        result = np.where(nan_group, np.nan, result)
    n_in = groups.shape[-2] * groups.shape[-1]  # not -1: an empty batch leaves it ambiguous
    return np.moveaxis(result.reshape(*groups.shape[:-2], n_in), -1, axis)


@maxout.jacobian_rule
def _maxout_jacobian(x: Array, *, pieces: int | None, axis: int) -> Array:
    groups, _ = _groups(x, pieces, axis)
    n_groups, k = groups.shape[-2:]
    hit = np.zeros((*groups.shape[:-2], n_groups, n_groups, k), dtype=groups.dtype)
    for g in range(n_groups):
        np.put_along_axis(hit[..., g, g, :], _first_max(groups[..., g, :]), 1.0, axis=-1)
    nan_group = np.asarray(np.isnan(groups).any(axis=-1))
    if nan_group.any():
        hit = np.where(nan_group[..., :, None, None], np.nan, hit)
    return hit.reshape(*groups.shape[:-2], n_groups, n_groups * k)


__all__ = ["softmax", "log_softmax", "maxout"]
