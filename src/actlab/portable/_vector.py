"""The vector built-ins (softmax, log_softmax, maxout, sparsemax, glu) as portable forms.

Each acts along one axis (moved last inside, moved back at the end): ``f(xp, x, *, axis,
**params)``, ``jvp(xp, x, t, *, axis, **params)`` (J(x)·t, in xp operations, so that a
framework can differentiate it again) and ``vjp(xp, x, g, *, axis, **params)`` (g·J(x),
the gradient with respect to x).  The stable forms are the NumPy kernels': softmax and
log_softmax from x minus the slice's maximum, with log Σe^z as log1p of the sum without
its first largest term; where a slice's largest softmax is above 1/2 its entry of the
JVP/VJP is formed without the cancelling g_k - Σ g·y.  A slice whose maximum is ±inf
shares 1 among the entries equal to it; an all -inf slice is uniform; NaN in a slice
makes the slice NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._arith import Array, clamp, const, keep_nan, mul_exp, num, two_sum

#: name -> (f, jvp, vjp), each with keyword-only axis (and the function's parameters).
VECTOR: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {}


def _axis(name: str, x: Array, axis: int) -> int:
    ndim = len(x.shape)
    if ndim == 0:
        raise ValueError(f"{name} needs at least 1 dimension, got a scalar")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def _last(xp: Any, a: Array, axis: int) -> Array:
    return a if axis == len(a.shape) - 1 else xp.moveaxis(a, axis, -1)


def _back(xp: Any, a: Array, axis: int, ndim: int) -> Array:
    return a if axis == ndim - 1 else xp.moveaxis(a, -1, axis)


def _sum(xp: Any, a: Array) -> Array:
    return xp.sum(a, axis=-1, keepdims=True)


def _arange(xp: Any, start: int, stop: int, like: Array) -> Array:
    """xp.arange(start, stop) on ``like``'s device (a torch tensor may be on another one;
    NumPy and jax arrays, traced ones too, need no device)."""
    if type(like).__module__.startswith("torch"):
        return xp.arange(start, stop, device=like.device)
    return xp.arange(start, stop)


def _first_max(xp: Any, z: Array) -> Array:
    """True at each slice's first maximal entry (the last axis)."""
    n = z.shape[-1]
    index = xp.argmax(z, axis=-1, keepdims=True)
    return _arange(xp, 0, n, z) == index


def _shifted(xp: Any, x: Array) -> tuple[Array, Array]:
    """(z, z_lo): x minus its slice's maximum (last axis) as an exact hi + lo, never
    overflowing: the difference is formed from the halves and is -inf where it is below
    -max.  Where the maximum is ±inf the entries equal to it get 0 and the others -inf;
    NaN makes the slice NaN."""
    n = num(xp, x)
    m = xp.max(x, axis=-1, keepdims=True)
    infinite = xp.isinf(m)
    zero = const(xp, x, 0.0)
    m_finite = xp.where(infinite, zero, m)
    d, d_lo = two_sum(clamp(xp, x, -n.max, n.max) * 0.5, m_finite * -0.5)
    half = 0.5 * n.max
    inf = const(xp, x, float("inf"))
    gone = (d < -half) | (x == -inf)
    z = xp.where(gone, -inf, xp.maximum(d, const(xp, d, -half)) * 2.0)
    z_lo = xp.where(gone | infinite, zero, d_lo * 2.0)
    return xp.where(infinite, xp.where(x == m, zero, -inf), z), z_lo


def _exp_parts(xp: Any, x: Array) -> tuple[Array, Array, Array, Array]:
    """(z, z_lo, e^{z + z_lo}, Σ e^{z + z_lo} without the first largest term) along the
    last axis (e^{z_lo} = 1 + z_lo: z_lo is below half an ULP of z)."""
    z, z_lo = _shifted(xp, x)
    e = xp.exp(z)
    e = e + e * z_lo
    rest = _sum(xp, xp.where(_first_max(xp, z), const(xp, e, 0.0), e))
    return z, z_lo, e, rest


def _empty(x: Array) -> bool:
    return x.shape[-1] == 0


# ----------------------------------------------------------------------------- softmax
def _softmax_last(xp: Any, x: Array) -> Array:
    if _empty(x):
        return x * 1.0
    _, _, e, rest = _exp_parts(xp, x)
    return e / (1.0 + rest)


def _softmax_product(xp: Any, s: Array, g: Array) -> Array:
    """s ⊙ (g - Σ g·s), the JVP and the VJP (the Jacobian is symmetric).  Where the
    largest s_k of a slice is above 1/2, g_k - Σ g·s = Σ_{j≠k} (g_k - g_j)·s_j."""
    if _empty(s):
        return g * 1.0
    result = s * (g - _sum(xp, g * s))
    k = _first_max(xp, s)
    zero = const(xp, s, 0.0)
    gk = _sum(xp, xp.where(k, g, zero))
    sk = _sum(xp, xp.where(k, s, zero))
    dominant = sk * _sum(xp, xp.where(k, zero, (gk - g) * s))
    return xp.where(k & (sk > 0.5), dominant, result)


def softmax(xp: Any, x: Array, *, axis: int) -> Array:
    a = _axis("softmax", x, axis)
    return _back(xp, _softmax_last(xp, _last(xp, x, a)), a, len(x.shape))


def _softmax_jvp(xp: Any, x: Array, t: Array, *, axis: int) -> Array:
    a = _axis("softmax", x, axis)
    xl, tl = _last(xp, x, a), _last(xp, t, a)
    return _back(xp, _softmax_product(xp, _softmax_last(xp, xl), tl), a, len(x.shape))


VECTOR["softmax"] = (softmax, _softmax_jvp, _softmax_jvp)


# ----------------------------------------------------------------------------- log_softmax
def log_softmax(xp: Any, x: Array, *, axis: int) -> Array:
    a = _axis("log_softmax", x, axis)
    xl = _last(xp, x, a)
    if _empty(xl):
        return x * 1.0
    z, z_lo, _, rest = _exp_parts(xp, xl)
    return _back(xp, (z - xp.log1p(rest)) + z_lo, a, len(x.shape))


def _log_softmax_jvp(xp: Any, x: Array, t: Array, *, axis: int) -> Array:
    # t - Σ s·t; at the largest s_k: Σ_{j≠k} s_j (t_k - t_j), without the cancellation
    a = _axis("log_softmax", x, axis)
    xl, tl = _last(xp, x, a), _last(xp, t, a)
    if _empty(xl):
        return t * 1.0
    s = _softmax_last(xp, xl)
    zero = const(xp, s, 0.0)
    k = _first_max(xp, s)
    tk = _sum(xp, xp.where(k, tl, zero))
    result = tl - _sum(xp, s * tl)
    dominant = _sum(xp, xp.where(k, zero, s * (tk - tl)))
    return _back(xp, xp.where(k, dominant, result), a, len(x.shape))


def _log_softmax_vjp(xp: Any, x: Array, g: Array, *, axis: int) -> Array:
    # g - s·Σg; at the largest s_k: g_k Σ_{j≠k} s_j - s_k Σ_{j≠k} g_j
    a = _axis("log_softmax", x, axis)
    xl, gl = _last(xp, x, a), _last(xp, g, a)
    if _empty(xl):
        return g * 1.0
    s = _softmax_last(xp, xl)
    zero = const(xp, s, 0.0)
    k = _first_max(xp, s)
    result = gl - s * _sum(xp, gl)
    gk, sk = _sum(xp, xp.where(k, gl, zero)), _sum(xp, xp.where(k, s, zero))
    dominant = gk * _sum(xp, xp.where(k, zero, s)) - sk * _sum(xp, xp.where(k, zero, gl))
    return _back(xp, xp.where(k, dominant, result), a, len(x.shape))


VECTOR["log_softmax"] = (log_softmax, _log_softmax_jvp, _log_softmax_vjp)


# ----------------------------------------------------------------------------- maxout
def _groups(xp: Any, x: Array, pieces: int | None, axis: int) -> tuple[Array, int]:
    a = _axis("maxout", x, axis)
    xl = _last(xp, x, a)
    n = xl.shape[-1]
    k = n if pieces is None else pieces
    if n == 0 or n % k:
        raise ValueError(
            f"maxout: pieces={k} does not divide the axis of length {n}" if n else "maxout: the axis is empty"
        )
    return xp.reshape(xl, (*xl.shape[:-1], n // k, k)), a


def _nan_mask(xp: Any, nan: Array, like: Array) -> Array:
    """1 where ``nan`` is False, NaN where it is True: a JVP multiplied by it stays linear
    in the tangent (a framework transposes it for reverse mode), where a where() with a
    NaN branch would not."""
    return xp.where(nan, const(xp, like, float("nan")), const(xp, like, 1.0))


def _group_nan(xp: Any, groups: Array) -> Array:
    return xp.any(xp.isnan(groups), axis=-1)


def maxout(xp: Any, x: Array, *, pieces: int | None, axis: int) -> Array:
    groups, a = _groups(xp, x, pieces, axis)
    return _back(xp, xp.max(groups, axis=-1), a, len(x.shape))


def _maxout_jvp(xp: Any, x: Array, t: Array, *, pieces: int | None, axis: int) -> Array:
    # the tangent of each group's first maximum; NaN for a group holding NaN
    groups, a = _groups(xp, x, pieces, axis)
    tg = xp.reshape(_last(xp, t, a), groups.shape)
    picked = _sum(xp, xp.where(_first_max(xp, groups), tg, const(xp, tg, 0.0)))[..., 0]
    return _back(xp, picked * _nan_mask(xp, _group_nan(xp, groups), picked), a, len(x.shape))


def _maxout_vjp(xp: Any, x: Array, g: Array, *, pieces: int | None, axis: int) -> Array:
    # the whole gradient of a group to its first maximum
    groups, a = _groups(xp, x, pieces, axis)
    gl = _last(xp, g, a)
    if tuple(gl.shape) != tuple(groups.shape[:-1]):
        expected = list(x.shape)
        expected[a] = groups.shape[-2]
        raise ValueError(f"maxout: grad has shape {tuple(g.shape)}, expected {tuple(expected)}")
    spread = xp.where(_first_max(xp, groups), gl[..., None], const(xp, gl, 0.0))
    spread = xp.where(_group_nan(xp, groups)[..., None], const(xp, gl, float("nan")), spread)
    flat = xp.reshape(spread, (*groups.shape[:-2], groups.shape[-2] * groups.shape[-1]))
    return _back(xp, flat, a, len(x.shape))


VECTOR["maxout"] = (maxout, _maxout_jvp, _maxout_vjp)


# ----------------------------------------------------------------------------- sparsemax
def _sparsemax_last(xp: Any, x: Array) -> Array:
    if _empty(x):
        return x * 1.0
    n = x.shape[-1]
    z, _ = _shifted(xp, x)
    # the maximum is 0, so τ >= -1 and no entry below -1 is in the support: clamped to
    # -2 for the sums, which then never overflow
    srt = -xp.sort(-xp.maximum(z, const(xp, z, -2.0)), axis=-1)  # descending
    cs = xp.cumulative_sum(srt, axis=-1)
    k = xp.astype(_arange(xp, 1, n + 1, x), x.dtype)
    size = xp.sum(xp.astype(1.0 + k * srt > cs, x.dtype), axis=-1, keepdims=True)
    size = xp.maximum(size, const(xp, size, 1.0))
    at = xp.astype(_arange(xp, 0, n, x), x.dtype) == size - 1.0
    tau = (_sum(xp, xp.where(at, cs, const(xp, cs, 0.0))) - 1.0) / size
    p = xp.maximum(z - tau, const(xp, z, 0.0))
    m = xp.max(x, axis=-1, keepdims=True)
    return keep_nan(xp, p, m * xp.ones_like(p))


def sparsemax(xp: Any, x: Array, *, axis: int) -> Array:
    a = _axis("sparsemax", x, axis)
    return _back(xp, _sparsemax_last(xp, _last(xp, x, a)), a, len(x.shape))


def _sparsemax_jvp(xp: Any, x: Array, t: Array, *, axis: int) -> Array:
    # on the support S: t - Σ_S t/|S|; 0 off it (the Jacobian is symmetric: also the VJP)
    a = _axis("sparsemax", x, axis)
    p = _sparsemax_last(xp, _last(xp, x, a))
    tl = _last(xp, t, a)
    s = xp.astype(p > 0, tl.dtype)
    size = xp.maximum(_sum(xp, s), const(xp, s, 1.0))
    result = s * (tl - _sum(xp, s * tl) / size)
    return _back(xp, result * _nan_mask(xp, xp.isnan(p), result), a, len(x.shape))


VECTOR["sparsemax"] = (sparsemax, _sparsemax_jvp, _sparsemax_jvp)


# ----------------------------------------------------------------------------- glu
def _halves(xp: Any, x: Array, axis: int) -> tuple[Array, Array, int]:
    a = _axis("glu", x, axis)
    xl = _last(xp, x, a)
    n = xl.shape[-1]
    if n % 2:
        raise ValueError(f"glu: the axis has odd length {n}; it must split into two halves")
    return xl[..., : n // 2], xl[..., n // 2 :], a


def _times_logistic(xp: Any, c: Array, b: Array, *, derivative: bool = False, linear: bool = False) -> Array:
    """c·σ(b) (or c·σ'(b)) rounded about once, never flushed before the result is
    subnormal; ±inf in c gives ±inf where the factor is > 0, NaN where it is 0.
    ``linear``: c is a tangent, the result linear in it (finite c; NaN b gives NaN)."""
    n = num(xp, b)
    if linear:
        bc = clamp(xp, b, -1.0e4, 1.0e4)
        e = xp.exp(-xp.abs(bc))
        if derivative:
            result = mul_exp(xp, n, c / ((1.0 + e) * (1.0 + e)), -xp.abs(bc))
        else:
            result = xp.where(bc < 0, mul_exp(xp, n, c / (1.0 + e), bc), c / (1.0 + e))
        return result * _nan_mask(xp, xp.isnan(b), result)
    finite = xp.isfinite(c)
    cf = xp.where(finite, c, const(xp, c, 0.0))
    bc = clamp(xp, b, -1.0e4, 1.0e4)
    e = xp.exp(-xp.abs(bc))
    if derivative:
        result = mul_exp(xp, n, cf / ((1.0 + e) * (1.0 + e)), -xp.abs(bc))
        positive = xp.abs(b) < float("inf")
    else:
        lower = mul_exp(xp, n, cf / (1.0 + e), bc)
        result = xp.where(bc < 0, lower, cf / (1.0 + e))
        positive = b > -float("inf")
    nan = const(xp, c, float("nan"))
    result = xp.where(finite, result, xp.where(positive, c, nan))
    return keep_nan(xp, result, b)


def glu(xp: Any, x: Array, *, axis: int) -> Array:
    a_half, b_half, a = _halves(xp, x, axis)
    return _back(xp, _times_logistic(xp, a_half, b_half), a, len(x.shape))


def _glu_jvp(xp: Any, x: Array, t: Array, *, axis: int) -> Array:
    # t_a σ(b) + a σ'(b) t_b
    a_half, b_half, a = _halves(xp, x, axis)
    tl = _last(xp, t, a)
    h = a_half.shape[-1]
    t_a, t_b = tl[..., :h], tl[..., h:]
    out = _times_logistic(xp, t_a, b_half, linear=True) + _times_logistic(
        xp, a_half * t_b, b_half, derivative=True, linear=True
    )
    return _back(xp, out, a, len(x.shape))


def _glu_vjp(xp: Any, x: Array, g: Array, *, axis: int) -> Array:
    a_half, b_half, a = _halves(xp, x, axis)
    gl = _last(xp, g, a)
    if tuple(gl.shape) != tuple(a_half.shape):
        expected = list(x.shape)
        expected[a] = a_half.shape[-1]
        raise ValueError(f"glu: grad has shape {tuple(g.shape)}, expected {tuple(expected)}")
    grad_a = _times_logistic(xp, gl, b_half)
    grad_b = _times_logistic(xp, gl * a_half, b_half, derivative=True)
    return _back(xp, xp.concat([grad_a, grad_b], axis=-1), a, len(x.shape))


VECTOR["glu"] = (glu, _glu_jvp, _glu_vjp)
