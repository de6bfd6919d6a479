"""The fast path: compiled loops for contiguous float32/float64 NumPy arrays.

An activation names its compiled kernel in its decorator (``@activation(..., fast="sigmoid")``);
:class:`~actlab.activations._registry.Activation` asks this module first and falls back to
the NumPy kernels whenever it returns ``None``: when the extension
``actlab.activations._kernels`` was not built (no C compiler at install time), for other
dtypes, softmax along an axis other than the last, and every call that is an error (the
NumPy path then raises the usual ValueError).  The front door hands it base-class arrays
in native byte order (a memmap, a subclass or a big-endian array is converted first) and
an ``out=`` of the result's dtype (any other is filled from the plain call's result), so
that the bits never depend on the container.

The compiled kernels compute what the NumPy kernels compute (in double, rounded once to
the input's dtype; the exact functions in their own dtype), fused into one pass with no
temporary arrays, and split large arrays over :func:`get_num_threads` threads with the GIL
released.  Exact functions give the same bits as NumPy; the others agree to within the
accuracy bounds of docs/accuracy.md (a few ULP at most, from a different exponential).
The loops are compiled for baseline x86-64, AVX2+FMA and AVX-512, with the same bits; the
widest the CPU runs is taken at import (``KERNELS.isa`` says which), and
``ACTLAB_ISA=baseline|avx2|avx512`` forces one (a name the CPU cannot run makes the import
fail with a ValueError naming the missing feature).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

KERNELS: Any
try:
    from . import _kernels as KERNELS  # type: ignore[attr-defined,no-redef]  # built by setup.py
except ImportError:  # not built: the NumPy kernels do everything
    KERNELS = None
if os.environ.get("ACTLAB_NO_FAST"):  # ACTLAB_NO_FAST=1: the NumPy kernels only
    KERNELS = None

__all__ = [
    "available",
    "status",
    "get_num_threads",
    "set_num_threads",
    "kernel_names",
    "numpy_only",
    "streaming_from",
]

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)

#: Every compiled kernel's flags by name (exact, needs_fma, split_at, streams), as the C
#: side declares them (its kernels.def); empty without the extension.
TABLE: dict[str, dict[str, Any]] = KERNELS.table() if KERNELS is not None else {}

# The modes of KERNELS.elementwise: out = f(x), f'(x), g f'(x), and f(x) with out2 = f'(x)
# (none without the extension, when no kernel is in use).
if KERNELS is not None:
    FWD, DER = KERNELS.MODE_FWD, KERNELS.MODE_DER
    BWD, FWD_DER = KERNELS.MODE_BWD, KERNELS.MODE_FWD_DER


def _kernel_ids() -> dict[str, int]:
    """The kernels in use, by name: an elementwise kernel's id, -1 for softmax, -2 for
    maxout and -3 for log_softmax (their own entry points).  Without a hardware fma (x86 before AVX2) the kernels
    that need one are slower than NumPy and left out; the exact ones are still used."""
    if KERNELS is None:
        return {}
    ids = {name: i for i, name in enumerate(KERNELS.kernel_names())}
    ids["softmax"] = -1
    ids["maxout"] = -2
    ids["log_softmax"] = -3
    if not KERNELS.fast_fma:
        ids = {k: v for k, v in ids.items() if not TABLE[k]["needs_fma"]}
    return ids


_IDS: dict[str, int] = _kernel_ids()

#: A ``fast=`` name whose kernel depends on a bound parameter: (the parameter, the kernel
#: for each of its values).  gelu's two forms are two kernels.
VARIANTS: dict[str, tuple[str, dict[Any, str]]] = {
    "gelu": ("approximate", {"none": "gelu", "tanh": "gelu_tanh"}),
}

#: The kernels that take a bound parameter as their one double ``prm``: (the parameter, the
#: interval it is served on, None for every value).  Outside it the call takes the NumPy
#: path: elu's α·e^x and the float32 clamp of e^x at -200 hold for α up to 2^10, softplus's
#: β·x and 1/β need β within 2^±20.
PARAMS: dict[str, tuple[str, tuple[float, float] | None]] = {
    "leaky_relu": ("slope", None),
    "prelu": ("a", None),
    "elu": ("alpha", (2.0**-64, 2.0**10)),
    "celu": ("alpha", (2.0**-64, 2.0**10)),
    "softplus": ("beta", (2.0**-20, 2.0**20)),
}


def kernels_of(fast: str) -> set[str]:
    """The kernels a ``fast=`` name may run (its variants', or its own)."""
    variant = VARIANTS.get(fast)
    return set(variant[1].values()) if variant is not None else {fast}


def kernel_of(act: Any) -> str | None:
    """The kernel that computes ``act`` with its bound values, None for none."""
    fast = act.fast
    variant = VARIANTS.get(fast)
    if variant is None:
        return fast
    return variant[1].get(act.values.get(variant[0]))


def check_kernel_names(declared: Iterable[str]) -> None:
    """ImportError unless the ``fast=`` names of the registered activations (``declared``,
    each standing for the kernels of :data:`VARIANTS` where it is one of them) and the
    compiled kernels are the same set; nothing to check without the extension.

    A misspelt ``fast=`` would otherwise send that function down the NumPy path in silence,
    and a kernel no activation names would never run.
    """
    if KERNELS is None:
        return
    compiled = set(TABLE)
    wanted: set[str] = set()
    for name in declared:
        wanted |= kernels_of(name)
    if unknown := sorted(wanted - compiled):
        raise ImportError(
            f"actlab: fast= names no compiled kernel: {', '.join(map(repr, unknown))}; "
            f"the kernels are {', '.join(sorted(compiled))}"
        )
    if unclaimed := sorted(compiled - wanted):
        raise ImportError(
            f"actlab: no activation names the compiled kernel(s) {', '.join(map(repr, unclaimed))} with fast="
        )


#: The most threads a call may be split over (set_num_threads and ACTLAB_NUM_THREADS).
MAX_THREADS = 256


def _check_threads(n: Any, where: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"{where} must be a positive integer in [1, {MAX_THREADS}], got {n!r}")
    return n


class _BadThreads:
    """Stands in for the kernel table while ACTLAB_NUM_THREADS holds a bad value, so that
    the first call that would use the kernels raises the ValueError naming it (an import
    does not fail)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def get(self, key: Any, default: Any = None) -> Any:
        raise ValueError(self.message)

    def __iter__(self) -> Iterator[str]:
        raise ValueError(self.message)


def _default_threads() -> tuple[int, str | None]:
    """The thread count at import, and the error message when ACTLAB_NUM_THREADS is bad."""
    env = os.environ.get("ACTLAB_NUM_THREADS")
    if env is not None and env.strip():
        text = env.strip()
        try:
            return _check_threads(int(text) if text.isdigit() else text, "n"), None
        except ValueError:
            return 1, (f"ACTLAB_NUM_THREADS must be an integer in [1, {MAX_THREADS}], got {env!r}")
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(n, 16)), None


_THREADS, _THREADS_ERROR = _default_threads()
if _THREADS_ERROR is not None:
    _IDS = _BadThreads(_THREADS_ERROR)  # type: ignore[assignment]


def get_num_threads() -> int:
    """How many threads a large array is split over (default: the usable CPUs, at most 16;
    the environment variable ``ACTLAB_NUM_THREADS`` sets it at import, 1 to
    ``MAX_THREADS``; a bad value raises ValueError here and at the first call)."""
    if _THREADS_ERROR is not None:
        raise ValueError(_THREADS_ERROR)
    return _THREADS


def set_num_threads(n: int) -> None:
    """Split large arrays over ``n`` threads, an integer from 1 (never start a thread) to
    256 (``MAX_THREADS``); ValueError naming ``n`` otherwise.  Replaces a bad
    ``ACTLAB_NUM_THREADS``."""
    global _THREADS, _THREADS_ERROR, _IDS
    _THREADS = _check_threads(n, "set_num_threads: n")
    if _THREADS_ERROR is not None:
        _THREADS_ERROR = None
        _IDS = _kernel_ids()


def available() -> bool:
    """True when the compiled kernels are built and in use."""
    return KERNELS is not None


def kernel_names() -> list[str]:
    """The activations that have a compiled kernel on this machine."""
    if _THREADS_ERROR is not None:
        raise ValueError(_THREADS_ERROR)
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
        # a bad ACTLAB_NUM_THREADS replaced by set_num_threads within the block stays replaced
        _IDS = _kernel_ids() if isinstance(saved, _BadThreads) and _THREADS_ERROR is None else saved


@contextmanager
def streaming_from(nbytes: int) -> Iterator[None]:
    """Within the block, elementwise outputs of ``nbytes`` bytes or more are written with
    non-temporal (streaming) stores, which skip the cache; outside it, from 16 MiB (for
    tests and benchmarks: the bits are the same either way)."""
    if KERNELS is None:
        yield
        return
    saved = KERNELS.stream_at()
    KERNELS.stream_at(int(nbytes))
    try:
        yield
    finally:
        KERNELS.stream_at(saved)


def isa() -> str | None:
    """The instruction set the compiled kernels run (``baseline``, ``avx2+fma`` or
    ``avx512``), None without them."""
    return KERNELS.isa if KERNELS is not None else None


def isas() -> dict[str, str | None]:
    """Each instruction set the kernels are built for: None where this CPU runs it, else
    the first feature it lacks (empty without the compiled kernels)."""
    return dict(KERNELS.isas()) if KERNELS is not None else {}


def float32_lanes() -> list[str]:
    """The kernels whose float32 forward is computed in float32 lanes (the others compute
    float32 in float64 and round once)."""
    return sorted(KERNELS.float32_lanes()) if KERNELS is not None else []


def status() -> str:
    """One line: whether the compiled kernels are in use, their instruction set, threads."""
    if KERNELS is None:
        return "NumPy kernels only (the C extension actlab.activations._kernels is not built)"
    return f"compiled kernels ({KERNELS.isa}) for {', '.join(kernel_names())}; {get_num_threads()} thread(s)"


# ----------------------------------------------------------------------------- dispatch
# Each returns the result, or None to send the call down the NumPy path.  They run for every
# call of an activation that names a kernel, so the common case (a C-contiguous float array)
# is checked first and costs a few attribute reads.  Lists, scalars and non-contiguous
# arrays are made contiguous first, so that the result never depends on the container or
# the layout; float16, integers and other dtypes go to NumPy.


def _kernel(act: Any) -> tuple[int, float] | None:
    """(the kernel id, its parameter) for ``act`` with its bound values, or None for the
    NumPy path (no kernel, or a parameter outside the interval the kernel serves)."""
    fast = act.fast
    if fast in VARIANTS:
        fast = kernel_of(act)
    kid = _IDS.get(fast)
    if kid is None:
        return None
    spec = PARAMS.get(fast)
    if spec is None:
        return kid, 0.0
    prm = float(act.values[spec[0]])
    bounds = spec[1]
    if bounds is not None and not bounds[0] <= prm <= bounds[1]:
        return None
    return kid, prm


def _array(x: Any) -> np.ndarray | None:
    """x as a float32/float64 ndarray (any layout), or None for the NumPy path."""
    if type(x) is not np.ndarray:
        if isinstance(x, np.ndarray) or isinstance(x, (str, bytes)):
            return None  # subclasses keep their own semantics
        try:
            x = np.asarray(x)
        except Exception:  # ragged lists and the like: NumPy's path raises the error
            return None
    dt = x.dtype
    return x if dt is F32 or dt is F64 else None


def _same(a: Any, x: np.ndarray) -> bool:
    return type(a) is np.ndarray and a.dtype is x.dtype and a.shape == x.shape


def _fresh(x: np.ndarray) -> np.ndarray:
    return np.empty(x.shape, x.dtype)


def _scalar(result: np.ndarray, x: Any, out: Any) -> Any:
    """A 0-d result of a non-array input is returned as a scalar, as the NumPy path does;
    a given ``out`` is returned itself, also when it is 0-d."""
    if out is None and result.ndim == 0 and not isinstance(x, np.ndarray):
        return result[()]
    return result


def _elementwise(kid: int, mode: int, x: np.ndarray, g: Any, outs: list[np.ndarray], prm: float) -> bool:
    """Run one kernel; on a layout the C side refuses (strided, Fortran order, outputs
    overlapping inputs in part), retry on contiguous copies and copy the results back."""
    o2 = outs[1] if len(outs) > 1 else None
    if KERNELS.elementwise(kid, mode, x, g, outs[0], o2, prm, _THREADS):
        return True
    if not all(o.flags.writeable for o in outs):
        return False  # the NumPy path names the read-only out
    xc = np.ascontiguousarray(x)
    gc = None if g is None else np.ascontiguousarray(g)
    # an output the kernel can write (contiguous, apart from the inputs: a fresh result is)
    # is written directly; only the others get a temporary, copied back
    tmp = [
        o
        if o.flags.c_contiguous
        and not np.may_share_memory(o, xc)
        and (gc is None or not np.may_share_memory(o, gc))
        else _fresh(xc)
        for o in outs
    ]
    if not KERNELS.elementwise(kid, mode, xc, gc, tmp[0], tmp[1] if o2 is not None else None, prm, _THREADS):
        return False
    for o, t in zip(outs, tmp):
        if t is not o:
            np.copyto(o, t)
    return True


def forward(act: Any, x: Any, out: Any) -> Any:
    k = _kernel(act)
    if k is None:
        return None
    kid, prm = k
    if kid >= 0 and type(x) is np.ndarray:  # the common case, inline: small arrays pay ~1 µs
        dt = x.dtype
        if dt is F32 or dt is F64:
            if out is None:
                result = np.empty(x.shape, dt)
            elif type(out) is np.ndarray and out.dtype is dt and out.shape == x.shape:
                result = out
            else:
                return None
            if KERNELS.elementwise(kid, FWD, x, None, result, None, prm, _THREADS):
                return result
    a = _array(x)
    if a is None:
        return None
    if kid == -2:
        return _maxout(act, a, out)
    if kid < 0:  # softmax, log_softmax
        rows = KERNELS.softmax if kid == -1 else KERNELS.log_softmax
        m = _row_length(act, a)
        vector_result = _vector_out(out, a)
        if m == 0 or vector_result is None:
            return None
        ac = np.ascontiguousarray(a)
        return _deliver(vector_result, out) if rows(ac, None, None, vector_result, m, _THREADS) else None
    if out is None:
        result = _fresh(a)
    elif _same(out, a):
        result = out
    else:
        return None
    if not _elementwise(kid, FWD, a, None, [result], prm):
        return None
    return _scalar(result, x, out)


def _vector_out(out: Any, like: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray | None:
    """Where a softmax or maxout kernel writes: a fresh array, or ``out`` when the kernel
    can write it directly (C-contiguous, the dtype and shape of the result, writable).  A
    strided ``out`` gets a fresh array too, copied into it by _deliver, so that the bits do
    not depend on its layout; None (another dtype or shape, read-only) sends the call down
    the NumPy path, which validates ``out``."""
    shape = like.shape if shape is None else shape
    if out is None:
        return np.empty(shape, like.dtype)
    if type(out) is not np.ndarray or out.dtype is not like.dtype or out.shape != shape:
        return None
    if not out.flags.writeable:
        return None
    return out if out.flags.c_contiguous else np.empty(shape, like.dtype)


def _deliver(result: np.ndarray, out: Any) -> np.ndarray:
    """``result``, copied into ``out`` first when the kernel could not write ``out`` itself."""
    if out is None or result is out:
        return result
    np.copyto(out, result)
    return out


def _maxout(
    act: Any, x: np.ndarray, out: Any, *, backward: bool = False, grad: Any = None, y: Any = None
) -> Any:
    """maxout along the last axis: forward, or the backward step (which finds each
    group's winner in x again: a saved output y is only checked)."""
    m = _row_length(act, x)
    k = act.values["pieces"] or m
    if m == 0 or m % k:
        return None  # the NumPy path raises the right error
    xc = np.ascontiguousarray(x)
    out_shape = (*x.shape[:-1], m // k)
    if not backward:
        result = _vector_out(out, x, out_shape)
        g = None
    else:
        g = _array(grad)
        if g is None or g.dtype is not x.dtype or g.shape != out_shape:
            return None  # the NumPy path validates grad
        if y is not None and not (type(y) is np.ndarray and y.dtype is x.dtype and y.shape == out_shape):
            return None  # and y
        g = np.ascontiguousarray(g)
        result = _vector_out(out, x)
    if result is None:
        return None
    return _deliver(result, out) if KERNELS.maxout(xc, g, result, k, _THREADS) else None


def _saved_ok(y: Any, x: np.ndarray) -> bool:
    """A saved output the fast path may take (else NumPy validates it and raises)."""
    return y is None or _same(y, x)


def _row_length(act: Any, x: np.ndarray) -> int:
    """softmax's row length when it acts along the last axis, else 0 (NumPy path)."""
    if x.ndim == 0:
        return 0
    axis = act.values["axis"]
    if axis != -1 and axis != x.ndim - 1:
        return 0
    return x.shape[-1]


def derivative(act: Any, x: Any, y: Any, out: Any) -> Any:
    k = _kernel(act)
    if k is None or k[0] < 0:
        return None
    kid, prm = k
    a = _array(x)
    if a is None or not _saved_ok(y, a):
        return None
    if out is None:
        result = _fresh(a)
    elif _same(out, a):
        result = out
    else:
        return None
    if not _elementwise(kid, DER, a, None, [result], prm):
        return None
    return _scalar(result, x, out)


def backward(act: Any, x: Any, grad: Any, y: Any, out: Any) -> Any:
    k = _kernel(act)
    if k is None:
        return None
    kid, prm = k
    if kid >= 0 and type(x) is np.ndarray and type(grad) is np.ndarray:  # the common case
        dt = x.dtype
        if (
            (dt is F32 or dt is F64)
            and grad.dtype is dt
            and grad.shape == x.shape
            and (y is None or _same(y, x))
        ):
            if out is None:
                result = np.empty(x.shape, dt)
            elif type(out) is np.ndarray and out.dtype is dt and out.shape == x.shape:
                result = out
            else:
                return None
            if KERNELS.elementwise(kid, BWD, x, grad, result, None, prm, _THREADS):
                return result
    a = _array(x)
    if a is None:
        return None
    if kid == -2:
        return _maxout(act, a, out, backward=True, grad=grad, y=y)
    g = _array(grad)
    if g is None or g.dtype is not a.dtype or g.shape != a.shape or not _saved_ok(y, a):
        return None
    if kid < 0:  # softmax's y (g - Σ g y), log_softmax's g - e^y Σ g; y saved or recomputed
        rows = KERNELS.softmax if kid == -1 else KERNELS.log_softmax
        m = _row_length(act, a)
        vector_result = _vector_out(out, a)
        if m == 0 or vector_result is None:
            return None
        ac, gc = np.ascontiguousarray(a), np.ascontiguousarray(g)
        yc = None if y is None else np.ascontiguousarray(y)
        return _deliver(vector_result, out) if rows(ac, gc, yc, vector_result, m, _THREADS) else None
    if out is None:
        result = _fresh(a)
    elif _same(out, a):
        result = out
    else:
        return None
    if not _elementwise(kid, BWD, a, g, [result], prm):
        return None
    return _scalar(result, x, out)


def forward_with_derivative(act: Any, x: Any, out: Any, dout: Any) -> Any:
    k = _kernel(act)
    if k is None or k[0] < 0:
        return None
    kid, prm = k
    a = _array(x)
    if a is None:
        return None
    f = _fresh(a) if out is None else out if _same(out, a) else None
    d = _fresh(a) if dout is None else dout if _same(dout, a) else None
    if f is None or d is None or f is d:
        return None
    if not _elementwise(kid, FWD_DER, a, None, [f, d], prm):
        return None
    return _scalar(f, x, out), _scalar(d, x, dout)
