"""The fast path: compiled loops for contiguous float32/float64 NumPy arrays.

An activation names its compiled kernel in its decorator (``@activation(..., fast="sigmoid")``);
:class:`~actlab.activations._registry.Activation` asks this module first and falls back to
the NumPy kernels whenever it returns ``None``: when the extension
``actlab.activations._kernels`` was not built (no C compiler at install time), for other
dtypes, non-contiguous arrays, subclasses, an ``out=`` of another dtype or a partially
overlapping one, softmax along an axis other than the last, and every call that is an
error (the NumPy path then raises the usual ValueError).

The compiled kernels compute what the NumPy kernels compute (in double, rounded once to
the input's dtype; the exact functions in their own dtype), fused into one pass with no
temporary arrays, and split large arrays over :func:`get_num_threads` threads with the GIL
released.  Exact functions give the same bits as NumPy; the others agree to within the
accuracy bounds of the tests (an ULP in rare cases, from a different exponential).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

try:
    from . import _kernels as KERNELS
except ImportError:  # not built: the NumPy kernels do everything
    KERNELS = None
if os.environ.get("ACTLAB_NO_FAST"):  # ACTLAB_NO_FAST=1: the NumPy kernels only
    KERNELS = None

__all__ = ["available", "status", "get_num_threads", "set_num_threads", "kernel_names",
           "numpy_only"]

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)

# Kernels that need a hardware fma to be faster than NumPy (every x86 CPU with AVX2, every
# arm64); without one the compiled exact kernels are still used.
_NEEDS_FMA = {"sigmoid", "tanh", "arctan", "selu", "softmax"}


def _kernel_ids() -> dict[str, int]:
    if KERNELS is None:
        return {}
    ids = {name: i for i, name in enumerate(KERNELS.kernel_names())}
    ids["softmax"] = -1  # its own entry point
    if not KERNELS.fast_fma:
        ids = {k: v for k, v in ids.items() if k not in _NEEDS_FMA}
    return ids


_IDS: dict[str, int] = _kernel_ids()


def _default_threads() -> int:
    env = os.environ.get("ACTLAB_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(n, 16))


_THREADS = _default_threads()


def get_num_threads() -> int:
    """How many threads a large array is split over (default: the usable CPUs, at most 16;
    the environment variable ``ACTLAB_NUM_THREADS`` sets it at import)."""
    return _THREADS


def set_num_threads(n: int) -> None:
    """Split large arrays over ``n`` threads (1: never start a thread)."""
    global _THREADS
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    _THREADS = n


def available() -> bool:
    """True when the compiled kernels are built and in use."""
    return KERNELS is not None


def kernel_names() -> list[str]:
    """The activations that have a compiled kernel on this machine."""
    return sorted(_IDS) if KERNELS is not None else []


@contextmanager
def numpy_only() -> Iterator[None]:
    """Within the block, every call takes the NumPy kernels (for tests and benchmarks)."""
    global _IDS
    saved = _IDS
    _IDS = {}
    try:
        yield
    finally:
        _IDS = saved


def status() -> str:
    """One line: whether the compiled kernels are in use, their instruction set, threads."""
    if KERNELS is None:
        return "NumPy kernels only (the C extension actlab.activations._kernels is not built)"
    return (f"compiled kernels ({KERNELS.isa}) for {', '.join(kernel_names())}; "
            f"{_THREADS} thread(s)")


# ----------------------------------------------------------------------------- dispatch
# Each returns the result, or None to send the call down the NumPy path.  They are called
# for every activation that names a kernel, so they check the cheapest things first.

def _param(act: Any) -> float:
    """The kernel's one parameter (leaky_relu's slope), 0.0 when it has none."""
    for value in act.values.values():
        return float(value)
    return 0.0


def _same(a: Any, x: np.ndarray) -> bool:
    return type(a) is np.ndarray and a.dtype is x.dtype and a.shape == x.shape


def _row_length(act: Any, x: np.ndarray) -> int:
    """softmax's row length when it acts along the last axis, else 0 (NumPy path)."""
    if x.ndim == 0:
        return 0
    axis = act.values["axis"]
    if axis != -1 and axis != x.ndim - 1:
        return 0
    return x.shape[-1]


def forward(act: Any, x: Any, out: Any) -> Any:
    kid = _IDS.get(act.fast)
    if kid is None or type(x) is not np.ndarray or (x.dtype is not F32 and x.dtype is not F64):
        return None
    if kid < 0:  # softmax
        m = _row_length(act, x)
        if out is not None or m == 0:
            return None
        result = np.empty_like(x, order="C")
        return result if KERNELS.softmax(x, None, None, result, m, _THREADS) else None
    if out is None:
        result = np.empty_like(x, order="C")
    elif _same(out, x):
        result = out
    else:
        return None
    ok = KERNELS.elementwise(kid, 0, x, None, result, None, _param(act), _THREADS)
    return result if ok else None


def _saved_ok(y: Any, x: np.ndarray) -> bool:
    """A saved output the fast path may take (else NumPy validates it and raises)."""
    return y is None or _same(y, x)


def derivative(act: Any, x: Any, y: Any, out: Any) -> Any:
    kid = _IDS.get(act.fast)
    if (kid is None or kid < 0 or type(x) is not np.ndarray
            or (x.dtype is not F32 and x.dtype is not F64) or not _saved_ok(y, x)):
        return None
    if out is None:
        result = np.empty_like(x, order="C")
    elif _same(out, x):
        result = out
    else:
        return None
    ok = KERNELS.elementwise(kid, 1, x, None, result, None, _param(act), _THREADS)
    return result if ok else None


def backward(act: Any, x: Any, grad: Any, y: Any, out: Any) -> Any:
    kid = _IDS.get(act.fast)
    if (kid is None or type(x) is not np.ndarray
            or (x.dtype is not F32 and x.dtype is not F64) or not _same(grad, x)):
        return None
    if kid < 0:  # softmax: y (g - Σ g y), from the saved output when given
        m = _row_length(act, x)
        if out is not None or m == 0 or not _saved_ok(y, x):
            return None
        result = np.empty_like(x, order="C")
        return result if KERNELS.softmax(x, grad, y, result, m, _THREADS) else None
    if not _saved_ok(y, x):
        return None
    if out is None:
        result = np.empty_like(x, order="C")
    elif _same(out, x):
        result = out
    else:
        return None
    ok = KERNELS.elementwise(kid, 2, x, grad, result, None, _param(act), _THREADS)
    return result if ok else None


def forward_with_derivative(act: Any, x: Any, out: Any, dout: Any) -> Any:
    kid = _IDS.get(act.fast)
    if (kid is None or kid < 0 or type(x) is not np.ndarray
            or (x.dtype is not F32 and x.dtype is not F64)):
        return None
    if out is None:
        f = np.empty_like(x, order="C")
    elif _same(out, x):
        f = out
    else:
        return None
    if dout is None:
        d = np.empty_like(x, order="C")
    elif _same(dout, x):
        d = dout
    else:
        return None
    ok = KERNELS.elementwise(kid, 3, x, None, f, d, _param(act), _THREADS)
    return (f, d) if ok else None
