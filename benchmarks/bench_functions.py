"""Time every registered activation, forward and backward, against its peers in one run.

For each function, dtype (float32, float64), size (1e3, 1e5, 1e7 elements), direction
(forward, backward) and output mode (a preallocated ``out=`` array, or a fresh result)
this times, interleaved and repeated:

- ``actlab``: ``act(x, out=)`` and ``act.backward(x, g, out=)``;
- ``numpy``: the textbook formula in NumPy (backward from the saved output, as the peers do);
- ``scipy``: ``scipy.special`` where it has the function (expit, softmax);
- ``torch``: PyTorch on ``--threads`` intra-op threads (default 2), forward by its
  functional op, backward by the aten kernel autograd runs (``sigmoid_backward``,
  ``tanh_backward``, ``threshold_backward``, ``leaky_relu_backward``, ``elu_backward``,
  ``_softmax_backward_data``), with ``out=`` where the op has one; tensors share the
  NumPy buffers (``torch.from_numpy``);
- ``jax``: ``jax.jit`` of jax.nn's function and of its ``jax.vjp`` (always allocates;
  ``block_until_ready``), when JAX is installed;
- ``copy``: ``np.copyto`` into a preallocated array of the same size and dtype, the
  memory-bandwidth ceiling for a function that reads one array and writes one.

It prints the CPU model and its instruction set (AVX2, FMA, AVX-512 flags), then for each
configuration ns per element (median of the repeats), the ratios to PyTorch and to NumPy
(below 1: faster than the peer) and the fraction of the copy ceiling reached (copy time / time; 1.0 is the
ceiling, 0.8 is "within 1.25x of the copy").  Both ratios are medians of the ratios within
each repeat, so that a drift of the machine's speed between repeats cancels.  Peers that
are not installed are skipped.  Nothing is written unless ``--json PATH`` is given.

    python benchmarks/bench_functions.py                      # everything (about 10 minutes)
    python benchmarks/bench_functions.py --quick              # < 1 minute
    python benchmarks/bench_functions.py --functions sigmoid,relu --sizes 1e7 \\
        --dtypes float32 --directions forward --modes out --repeats 9
    python benchmarks/bench_functions.py --markdown --json run.json  # README tables, a file

Softmax runs over rows of 1,000 (shape (n/1000, 1000)); maxout over groups of 2.

Every timing starts on a quiet machine, with the runner's own threads awake: the harness
sleeps ``--settle`` seconds (default 0.025), then calls the runner once untimed.
PyTorch's OpenMP workers spin for several milliseconds after an op before they sleep (JAX's
pool spins too), and a timing started inside that window shares a core with a spinning
thread.  The other way round, a worker thread that has slept for 0.1 s or more is slow to
wake on a virtual machine (its vCPU is halted), and a call of several milliseconds may run
on the calling thread alone.  The untimed call wakes the runner's threads, as the previous
op of a training loop would have.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

import actlab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import (Parser, cpu_model, isa, machine_line, non_negative_float,  # noqa: E402
                      positive_float, positive_int, writable_path)

#: Every registered activation, in the registry's order.
FUNCTIONS = tuple(n for name in actlab.names()
                  for n in ((name, "gelu_tanh") if name == "gelu" else (name,)))
#: Rows that are a registered activation with a parameter bound: (its name, the values).
BOUND = {"gelu_tanh": ("gelu", {"approximate": "tanh"})}
#: The functions whose input is cut into rows of ROW along the last axis.
ROWS = ("softmax", "log_softmax", "sparsemax", "glu")
SLOPE = 0.1  # actlab's leaky_relu default; every peer gets the same slope
LAM = 1.0507009873554804934193349852946
ALPHA = 1.6732632423543772848170429916717
ROW = 1000  # softmax row length
PIECES = 2  # maxout group size
PEERS = ("numpy", "scipy", "torch", "jax")
#: Seconds of sleep before each timing, so that no runner starts while another library's
#: worker threads still spin (they spin for up to about 10 ms; see the module docstring).
SETTLE = 0.025

Runner = Callable[[], Any]


# ----------------------------------------------------------------------------- inputs
def make_inputs(fn: str, n: int, dtype: Any, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 4.0).astype(dtype)
    if fn in ROWS:
        x = x.reshape(-1, min(ROW, n))
    y = np.asarray(activation(fn)(x), dtype=dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    return {"x": x, "y": y, "g": g, "out_f": np.empty_like(y), "out_b": np.empty_like(x)}


def activation(fn: str) -> Any:
    """The activation a row times (gelu_tanh: gelu with approximate="tanh")."""
    name, values = BOUND.get(fn, (fn, {}))
    return actlab.get(name, **values, **params(fn))


def params(fn: str) -> dict[str, Any]:
    if fn == "leaky_relu":
        return {"slope": SLOPE}
    if fn == "maxout":
        return {"pieces": PIECES}
    return {}


# ----------------------------------------------------------------------------- runners
def actlab_runner(fn: str, d: dict[str, np.ndarray], out: bool, direction: str) -> Runner:
    act = activation(fn)
    x, y, g, of, ob = d["x"], d["y"], d["g"], d["out_f"], d["out_b"]
    if direction == "forward":
        return (lambda: act(x, out=of)) if out else (lambda: act(x))
    # The saved output y is passed as a network passes it (and as PyTorch's kernels get it);
    # the elementwise kernels compute from x all the same (the accurate forms need x).
    if fn == "maxout":  # its backward needs no saved output
        return (lambda: act.backward(x, g, out=ob)) if out else (lambda: act.backward(x, g))
    return (lambda: act.backward(x, g, y=y, out=ob)) if out else (lambda: act.backward(x, g, y=y))


def numpy_runner(fn: str, d: dict[str, np.ndarray], out: bool, direction: str) -> Runner | None:
    """The textbook formula; backward from the saved output y where the peers use it."""
    x, y, g = d["x"], d["y"], d["g"]
    o = d["out_f"] if direction == "forward" else d["out_b"]
    t = x.dtype.type
    a, lam, la = t(SLOPE), t(LAM), t(LAM * ALPHA)
    if direction == "forward":
        if fn == "step":
            return (lambda: np.heaviside(x, 1.0, out=o)) if out else (lambda: np.heaviside(x, 1.0))
        if fn == "sigmoid":
            if out:
                def sig() -> Any:
                    np.negative(x, out=o)
                    np.exp(o, out=o)
                    np.add(o, 1, out=o)
                    return np.reciprocal(o, out=o)
                return sig
            return lambda: 1 / (1 + np.exp(-x))
        if fn == "tanh":
            return (lambda: np.tanh(x, out=o)) if out else (lambda: np.tanh(x))
        if fn == "arctan":
            return (lambda: np.arctan(x, out=o)) if out else (lambda: np.arctan(x))
        if fn == "relu":
            return (lambda: np.maximum(x, 0, out=o)) if out else (lambda: np.maximum(x, 0))
        if fn == "leaky_relu":
            if out:
                return lambda: np.copyto(o, np.where(x >= 0, x, a * x))
            return lambda: np.where(x >= 0, x, a * x)
        if fn == "selu":
            if out:
                return lambda: np.multiply(lam, np.where(x >= 0, x, t(ALPHA) * (np.exp(x) - 1)),
                                           out=o)
            return lambda: lam * np.where(x >= 0, x, t(ALPHA) * (np.exp(x) - 1))
        if fn == "identity":
            return (lambda: np.copyto(o, x)) if out else (lambda: x.copy())
        if fn == "softmax":
            def softmax() -> Any:
                e = np.exp(x - x.max(axis=1, keepdims=True))
                return np.divide(e, e.sum(axis=1, keepdims=True), out=o if out else None)
            return softmax
        if fn == "maxout":
            xr = x.reshape(-1, PIECES)
            return (lambda: np.max(xr, axis=1, out=o)) if out else (lambda: np.max(xr, axis=1))
        return None
    # backward
    if fn == "step":
        return (lambda: o.fill(0)) if out else (lambda: np.zeros_like(x))
    if fn == "sigmoid":
        return lambda: np.multiply(g * y, 1 - y, out=o if out else None)
    if fn == "tanh":
        return lambda: np.multiply(g, 1 - y * y, out=o if out else None)
    if fn == "arctan":
        return lambda: np.divide(g, 1 + x * x, out=o if out else None)
    if fn == "relu":
        return lambda: np.multiply(g, x > 0, out=o if out else None)
    if fn == "leaky_relu":
        return lambda: np.multiply(g, np.where(x >= 0, 1, a), out=o if out else None)
    if fn == "selu":
        return lambda: np.multiply(g, np.where(x >= 0, lam, y + la), out=o if out else None)
    if fn == "identity":
        return (lambda: np.copyto(o, g)) if out else (lambda: g.copy())
    if fn == "softmax":
        return lambda: np.multiply(y, g - (g * y).sum(axis=1, keepdims=True),
                                   out=o if out else None)
    return None


def scipy_runner(fn: str, d: dict[str, np.ndarray], out: bool, direction: str) -> Runner | None:
    try:
        import scipy.special as sp
    except ImportError:
        return None
    x, o = d["x"], d["out_f"]
    if direction != "forward":
        return None
    if fn == "sigmoid":
        return (lambda: sp.expit(x, out=o)) if out else (lambda: sp.expit(x))
    if fn == "softmax":
        return lambda: sp.softmax(x, axis=1)
    return None


def torch_runner(fn: str, d: dict[str, np.ndarray], out: bool, direction: str) -> Runner | None:
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    aten = torch.ops.aten
    x, y, g = (torch.from_numpy(d[k]) for k in ("x", "y", "g"))
    o = torch.from_numpy(d["out_f"] if direction == "forward" else d["out_b"])
    if fn in _TORCH_WIDER:
        forward, backward = _TORCH_WIDER[fn](torch, x, y, g, o, out)
        return forward if direction == "forward" else backward
    if direction == "forward":
        if fn == "step":
            one = torch.ones((), dtype=x.dtype)
            return (lambda: torch.heaviside(x, one, out=o)) if out else (lambda: torch.heaviside(x, one))
        if fn in ("sigmoid", "tanh", "arctan"):
            op = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "arctan": torch.atan}[fn]
            return (lambda: op(x, out=o)) if out else (lambda: op(x))
        if fn == "relu":
            return (lambda: torch.clamp_min(x, 0, out=o)) if out else (lambda: torch.relu(x))
        if fn == "leaky_relu":
            if out:
                return lambda: aten.leaky_relu.out(x, SLOPE, out=o)
            return lambda: F.leaky_relu(x, SLOPE)
        if fn == "selu":
            if out:
                return lambda: aten.elu.out(x, ALPHA, LAM, 1.0, out=o)
            return lambda: torch.selu(x)
        if fn == "identity":
            return (lambda: o.copy_(x)) if out else (lambda: x.clone())
        if fn == "softmax":
            if out:
                return lambda: aten._softmax.out(x, 1, False, out=o)
            return lambda: torch.softmax(x, 1)
        if fn == "maxout":
            xr = x.reshape(-1, PIECES)
            if out:
                return lambda: torch.amax(xr, 1, out=o)
            return lambda: torch.amax(xr, 1)
        return None
    # backward: the kernels autograd runs
    if fn == "step":
        return (lambda: o.zero_()) if out else (lambda: torch.zeros_like(x))
    if fn == "sigmoid":
        if out:
            return lambda: aten.sigmoid_backward.grad_input(g, y, grad_input=o)
        return lambda: aten.sigmoid_backward(g, y)
    if fn == "tanh":
        if out:
            return lambda: aten.tanh_backward.grad_input(g, y, grad_input=o)
        return lambda: aten.tanh_backward(g, y)
    if fn == "arctan":
        # autograd's atan backward: grad / (x*x + 1)
        return lambda: torch.div(g, x * x + 1, out=o) if out else torch.div(g, x * x + 1)
    if fn == "relu":
        if out:
            return lambda: aten.threshold_backward.grad_input(g, y, 0, grad_input=o)
        return lambda: aten.threshold_backward(g, y, 0)
    if fn == "leaky_relu":
        if out:
            return lambda: aten.leaky_relu_backward.grad_input(g, x, SLOPE, False, grad_input=o)
        return lambda: aten.leaky_relu_backward(g, x, SLOPE, False)
    if fn == "selu":
        if out:
            return lambda: aten.elu_backward.grad_input(g, ALPHA, LAM, 1.0, False, x, grad_input=o)
        return lambda: aten.elu_backward(g, ALPHA, LAM, 1.0, False, x)
    if fn == "identity":
        return (lambda: o.copy_(g)) if out else (lambda: g.clone())
    if fn == "softmax":
        if out:
            return lambda: aten._softmax_backward_data.out(g, y, 1, y.dtype, grad_input=o)
        return lambda: aten._softmax_backward_data(g, y, 1, y.dtype)
    return None


def _torch_wider(fn: str) -> Callable[..., tuple[Runner | None, Runner | None]]:
    """(forward, backward) runners of PyTorch's op for one of the wider family: its out=
    variant where it has one, backward by the aten kernel autograd runs; None where PyTorch
    has no such op (sparsemax) or no backward kernel of its own (softsign)."""

    def make(torch: Any, x: Any, y: Any, g: Any, o: Any, out: bool) -> tuple[Any, Any]:
        aten = torch.ops.aten
        F = torch.nn.functional
        if fn in ("gelu", "gelu_tanh"):
            ap = "tanh" if fn == "gelu_tanh" else "none"
            fw = (lambda: aten.gelu.out(x, approximate=ap, out=o)) if out else (lambda: F.gelu(x, approximate=ap))
            bw = ((lambda: aten.gelu_backward.grad_input(g, x, approximate=ap, grad_input=o)) if out
                  else (lambda: aten.gelu_backward(g, x, approximate=ap)))
        elif fn == "silu":
            fw = (lambda: aten.silu.out(x, out=o)) if out else (lambda: F.silu(x))
            bw = ((lambda: aten.silu_backward.grad_input(g, x, grad_input=o)) if out
                  else (lambda: aten.silu_backward(g, x)))
        elif fn == "mish":
            fw = (lambda: aten.mish.out(x, out=o)) if out else (lambda: F.mish(x))
            bw = lambda: aten.mish_backward(g, x)
        elif fn == "softplus":
            fw = (lambda: aten.softplus.out(x, 1.0, 20.0, out=o)) if out else (lambda: F.softplus(x))
            bw = ((lambda: aten.softplus_backward.grad_input(g, x, 1.0, 20.0, grad_input=o)) if out
                  else (lambda: aten.softplus_backward(g, x, 1.0, 20.0)))
        elif fn in ("elu", "celu"):
            fw = ((lambda: aten.elu.out(x, 1.0, 1.0, 1.0, out=o)) if out
                  else (lambda: F.elu(x) if fn == "elu" else F.celu(x)))
            bw = ((lambda: aten.elu_backward.grad_input(g, 1.0, 1.0, 1.0, False, x, grad_input=o)) if out
                  else (lambda: aten.elu_backward(g, 1.0, 1.0, 1.0, False, x)))
        elif fn == "log_sigmoid":
            buffer = aten.log_sigmoid_forward(x)[1]
            fw = (lambda: aten.log_sigmoid.out(x, out=o)) if out else (lambda: F.logsigmoid(x))
            bw = ((lambda: aten.log_sigmoid_backward.grad_input(g, x, buffer, grad_input=o)) if out
                  else (lambda: aten.log_sigmoid_backward(g, x, buffer)))
        elif fn == "hard_swish":
            fw = (lambda: aten.hardswish.out(x, out=o)) if out else (lambda: F.hardswish(x))
            bw = lambda: aten.hardswish_backward(g, x)
        elif fn == "hard_sigmoid":
            fw = (lambda: aten.hardsigmoid.out(x, out=o)) if out else (lambda: F.hardsigmoid(x))
            bw = lambda: aten.hardsigmoid_backward(g, x)
        elif fn in ("hardtanh", "relu6"):
            lo, hi = (-1.0, 1.0) if fn == "hardtanh" else (0.0, 6.0)
            fw = (lambda: aten.hardtanh.out(x, lo, hi, out=o)) if out else (lambda: F.hardtanh(x, lo, hi))
            bw = ((lambda: aten.hardtanh_backward.grad_input(g, x, lo, hi, grad_input=o)) if out
                  else (lambda: aten.hardtanh_backward(g, x, lo, hi)))
        elif fn == "softsign":
            fw, bw = (lambda: F.softsign(x)), None
        elif fn == "prelu":
            w = torch.full((1,), 0.25, dtype=x.dtype)
            fw = lambda: F.prelu(x, w)
            bw = lambda: aten._prelu_kernel_backward(g, x, w)
        elif fn == "log_softmax":
            fw = ((lambda: aten._log_softmax.out(x, 1, False, out=o)) if out
                  else (lambda: torch.log_softmax(x, 1)))
            bw = ((lambda: aten._log_softmax_backward_data.out(g, y, 1, y.dtype, out=o)) if out
                  else (lambda: aten._log_softmax_backward_data(g, y, 1, y.dtype)))
        elif fn == "glu":
            fw = (lambda: aten.glu.out(x, -1, out=o)) if out else (lambda: F.glu(x, -1))
            bw = lambda: aten.glu_backward(g, x, -1)
        else:  # sparsemax
            fw = bw = None
        return fw, bw

    return make


_TORCH_WIDER = {fn: _torch_wider(fn) for fn in FUNCTIONS if fn not in (
    "step", "sigmoid", "tanh", "arctan", "relu", "leaky_relu", "selu", "identity", "softmax",
    "maxout")}


def jax_runner(fn: str, d: dict[str, np.ndarray], out: bool, direction: str) -> Runner | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    if out:
        return None  # JAX has no out=: it appears in the fresh-output rows only
    jnn = jax.nn
    f = {
        "step": lambda v: jnp.heaviside(v, 1.0),
        "sigmoid": jnn.sigmoid,
        "tanh": jnp.tanh,
        "arctan": jnp.arctan,
        "relu": jnn.relu,
        "leaky_relu": lambda v: jnn.leaky_relu(v, SLOPE),
        "selu": jnn.selu,
        "identity": lambda v: v,
        "softmax": lambda v: jnn.softmax(v, axis=1),
        "maxout": lambda v: jnp.max(v.reshape(-1, PIECES), axis=1),
    }[fn]
    x = jax.device_put(d["x"])
    g = jax.device_put(d["g"])
    if direction == "forward":
        jf = jax.jit(f)
        return lambda: jf(x).block_until_ready()
    if fn == "identity":
        jb = jax.jit(lambda v, w: w * 1)
    else:
        jb = jax.jit(lambda v, w: jax.vjp(f, v)[1](w)[0])
    return lambda: jb(x, g).block_until_ready()


def copy_runner(d: dict[str, np.ndarray]) -> Runner:
    x = d["x"]
    dst = np.empty_like(x)
    return lambda: np.copyto(dst, x)


# ----------------------------------------------------------------------------- timing
def calibrate(run: Runner, min_time: float) -> int:
    """Calls per timing so that one timing lasts about ``min_time`` seconds."""
    run()  # warm up (JIT, page faults of the output)
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, int(min_time / once))


def time_runners(runners: dict[str, Runner], repeats: int, min_time: float, *,
                 settle: float = SETTLE) -> dict[str, list[float]]:
    """Seconds per call of each runner in every repeat, repeats interleaved across runners.
    Before each timing: ``settle`` seconds of sleep, then one untimed call, which wakes the
    runner's own worker threads (see the module docstring)."""
    numbers = {k: calibrate(r, min_time) for k, r in runners.items()}
    samples: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(repeats):
        for key, run in runners.items():
            num = numbers[key]
            time.sleep(settle)
            run()  # wakes the runner's own worker threads
            start = time.perf_counter()
            for _ in range(num):
                run()
            samples[key].append((time.perf_counter() - start) / num)
    return samples


def paired_ratio(samples: dict[str, list[float]], num: str, den: str) -> float:
    """The median over repeats of num's time / den's time in the same repeat: a drift of
    the machine's speed between repeats (another tenant, the clock) cancels in each pair."""
    return statistics.median(a / b for a, b in zip(samples[num], samples[den]))


def bench_one(fn: str, dtype: Any, n: int, direction: str, out: bool, peers: list[str],
              repeats: int, min_time: float, settle: float = SETTLE) -> dict[str, list[float]]:
    d = make_inputs(fn, n, dtype)
    makers = {
        "actlab": actlab_runner, "numpy": numpy_runner, "scipy": scipy_runner,
        "torch": torch_runner, "jax": jax_runner,
    }
    runners: dict[str, Runner] = {}
    for name in ["actlab", *peers]:
        if direction == "backward" and fn == "maxout" and name not in ("actlab",):
            continue
        r = makers[name](fn, d, out, direction)
        if r is not None:
            runners[name] = r
    runners["copy"] = copy_runner(d)
    return time_runners(runners, repeats, min_time, settle=settle)


# ----------------------------------------------------------------------------- report
def fmt_row(rec: dict[str, Any], names: list[str]) -> str:
    n = rec["n"]
    t = rec["seconds"]
    cells = []
    for name in names:
        if name not in t:
            cells.append(f"{'-':>8}")
            continue
        cells.append(f"{1e9 * t[name] / n:8.3f}")
    ratio = f"{rec['ratio_to_torch']:6.2f}" if "ratio_to_torch" in rec else f"{'-':>6}"
    vs_np = f"{rec['ratio_to_numpy']:6.2f}" if "ratio_to_numpy" in rec else f"{'-':>6}"
    frac = f"{rec['fraction_of_copy']:5.2f}"
    return (f"{rec['function']:<11}{rec['dtype']:<8}{n:>9.0e} {rec['direction']:<9}"
            f"{'out' if rec['out'] else 'new':<4}" + "".join(cells) + f"  {ratio}   {vs_np} {frac}")


def markdown(records: list[dict[str, Any]], sizes: list[int]) -> str:
    """The README table: ns/elem of actlab and PyTorch, their ratio, actlab's fraction of copy."""
    lines = []
    for n in sizes:
        for out in (True, False):
            rows = [r for r in records if r["n"] == n and r["out"] == out]
            if not rows:
                continue
            mode = "preallocated output" if out else "fresh output"
            lines.append(f"\n{n:.0e} elements, {mode}: ns per element, actlab / PyTorch, "
                         f"copy ceiling / actlab\n")
            lines.append("| function | dtype | forward actlab | torch | ratio | of copy "
                         "| backward actlab | torch | ratio | of copy |")
            lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            keys = sorted({(r["function"], r["dtype"]) for r in rows},
                          key=lambda k: (FUNCTIONS.index(k[0]), k[1]))
            for fn, dt in keys:
                cells = [f"`{fn}`", dt]
                for direction in ("forward", "backward"):
                    rec = next((r for r in rows if r["function"] == fn and r["dtype"] == dt
                                and r["direction"] == direction), None)
                    if rec is None:
                        cells += ["", "", "", ""]
                        continue
                    t = rec["seconds"]
                    cells.append(f"{1e9 * t['actlab'] / n:.3f}")
                    if "ratio_to_torch" in rec:
                        cells += [f"{1e9 * t['torch'] / n:.3f}", f"{rec['ratio_to_torch']:.2f}"]
                    else:
                        cells += ["", ""]
                    cells.append(f"{rec['fraction_of_copy']:.2f}")
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(records: list[dict[str, Any]]) -> str:
    """The README table: actlab's time over PyTorch's at the largest and smallest sizes,
    with a preallocated output on both sides."""
    sizes = sorted({r["n"] for r in records})
    big, small = sizes[-1], sizes[0]

    def rec(fn: str, dt: str, n: int, direction: str) -> dict[str, Any] | None:
        return next((r for r in records if r["function"] == fn and r["dtype"] == dt
                     and r["n"] == n and r["direction"] == direction and r["out"]), None)

    def ratio(r: dict[str, Any] | None, key: str = "ratio_to_torch") -> str:
        if r is None or key not in r:
            return ""
        return f"{r[key]:.2f}"

    def ns(r: dict[str, Any] | None) -> str:
        return "" if r is None else f"{1e9 * r['seconds']['actlab'] / r['n']:.2f}"

    def copy(r: dict[str, Any] | None) -> str:
        return "" if r is None else f"{r['fraction_of_copy']:.2f}"

    lines = [f"| function | {big:.0e} fwd f32: ns, vs torch, of copy | bwd f32: ns, vs torch "
             f"| fwd f64: ns, vs torch, of copy | bwd f64: ns, vs torch "
             f"| {small:.0e} fwd vs torch f32 / f64 | {big:.0e} fwd vs numpy f32 / f64 |",
             "|---|---|---|---|---|---|---|"]
    fns = [f for f in FUNCTIONS if any(r["function"] == f for r in records)]
    for fn in fns:
        cells = [f"`{fn}`"]
        for dt in ("float32", "float64"):
            f, b = rec(fn, dt, big, "forward"), rec(fn, dt, big, "backward")
            cells.append(f"{ns(f)}, {ratio(f)}, {copy(f)}" if f else "")
            cells.append(f"{ns(b)}, {ratio(b)}" if b else "")
        cells.append(f"{ratio(rec(fn, 'float32', small, 'forward'))} / "
                     f"{ratio(rec(fn, 'float64', small, 'forward'))}")
        cells.append(f"{ratio(rec(fn, 'float32', big, 'forward'), 'ratio_to_numpy')} / "
                     f"{ratio(rec(fn, 'float64', big, 'forward'), 'ratio_to_numpy')}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


MAX_SIZE = 10**8  #: elements; a float64 run of this size holds about 5 GB of arrays


def parse_list(text: str, allowed: tuple[str, ...]) -> list[str]:
    """Comma-separated names, each one of ``allowed``, at least one."""
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    bad = [s for s in items if s not in allowed]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown {', '.join(map(repr, bad))} (choose from {', '.join(allowed)})")
    return items


def parse_sizes(text: str) -> list[int]:
    """Comma-separated element counts such as ``1e3,1e7``: whole numbers in [1, MAX_SIZE]."""
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    sizes = []
    for item in items:
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of elements, got {item!r}") from None
        if not (1 <= value <= MAX_SIZE) or value != int(value):
            raise argparse.ArgumentTypeError(
                f"a size is a whole number from 1 to {MAX_SIZE:.0e}, got {item!r}")
        sizes.append(int(value))
    return sizes


def check_shapes(functions: list[str], sizes: list[int]) -> str | None:
    """Why a size does not fit a function's grouping (softmax rows, maxout groups), or None."""
    for n in sizes:
        if "softmax" in functions and n > ROW and n % ROW:
            return f"softmax runs over rows of {ROW}: a size above {ROW} must be a multiple of it, got {n}"
        if "maxout" in functions and n % PIECES:
            return f"maxout runs over groups of {PIECES}: a size must be a multiple of it, got {n}"
    return None


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=lambda t: parse_list(t, FUNCTIONS), default=None,
                    help="comma-separated (default: all)")
    ap.add_argument("--dtypes", type=lambda t: parse_list(t, ("float32", "float64")),
                    default=["float32", "float64"])
    ap.add_argument("--sizes", type=parse_sizes, default=None, help="default 1e3,1e5,1e7")
    ap.add_argument("--directions", type=lambda t: parse_list(t, ("forward", "backward")),
                    default=["forward", "backward"])
    ap.add_argument("--modes", type=lambda t: parse_list(t, ("out", "new")), default=["out", "new"],
                    help="out (preallocated), new (fresh output)")
    ap.add_argument("--peers", type=lambda t: parse_list(t, PEERS), default=list(PEERS))
    ap.add_argument("--repeats", type=positive_int, default=None, help="default 7")
    ap.add_argument("--min-time", type=positive_float, default=None,
                    help="seconds per timing, calls repeated to fill it (default 0.02)")
    ap.add_argument("--threads", type=positive_int, default=2, help="PyTorch intra-op threads")
    ap.add_argument("--settle", type=non_negative_float, default=SETTLE,
                    help=f"seconds of sleep before each timing (default {SETTLE}), so that "
                         "none starts while PyTorch's worker threads spin; 0: no sleep")
    ap.add_argument("--quick", action="store_true",
                    help="defaults sigmoid,relu,softmax; sizes 1e3,1e6; 3 repeats (< 1 minute)")
    ap.add_argument("--json", type=writable_path, default=None, metavar="PATH",
                    help="also write the results and the machine to PATH (default: no file)")
    ap.add_argument("--markdown", action="store_true", help="print the README tables too")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    quick = {"functions": ["sigmoid", "relu", "softmax"], "sizes": [10**3, 10**6], "repeats": 3,
             "min_time": 0.01}
    full = {"functions": list(FUNCTIONS), "sizes": [10**3, 10**5, 10**7], "repeats": 7,
            "min_time": 0.02}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    problem = check_shapes(args.functions, args.sizes)
    if problem:
        ap.error(problem)
    functions, dtypes, sizes = args.functions, args.dtypes, args.sizes
    directions, modes, peers = args.directions, args.modes, args.peers

    versions: dict[str, str] = {"numpy": np.__version__, "actlab_fast": str(fast_status())}
    try:
        import torch

        torch.set_num_threads(args.threads)
        versions["torch"] = torch.__version__
    except ImportError:
        peers = [p for p in peers if p != "torch"]
    for mod in ("scipy", "jax"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            peers = [p for p in peers if p != mod]
    print(machine_line())
    print(f"actlab fast kernels: {versions['actlab_fast']}; peers: {', '.join(peers) or 'none'} "
          f"({', '.join(f'{k} {v}' for k, v in versions.items() if k != 'actlab_fast')}); "
          f"torch threads {args.threads}; median of {args.repeats} interleaved repeats, "
          f"{args.settle} s of sleep before each")
    names = ["actlab", *peers, "copy"]
    header = (f"{'function':<11}{'dtype':<8}{'n':>9} {'direction':<9}{'out':<4}"
              + "".join(f"{k:>8}" for k in names) + "  vs_torch vs_numpy of_copy")
    print("ns per element; vs_torch = actlab / torch, vs_numpy = actlab / numpy (<1: faster); "
          "of_copy = copy / actlab")
    print(header)
    records: list[dict[str, Any]] = []
    for fn in functions:
        for dt in dtypes:
            for n in sizes:
                for direction in directions:
                    for mode in modes:
                        out = mode == "out"
                        samples = bench_one(fn, np.dtype(dt), n, direction, out, peers,
                                            args.repeats, args.min_time, args.settle)
                        secs = {k: statistics.median(v) for k, v in samples.items()}
                        rec = {"function": fn, "dtype": dt, "n": n, "direction": direction,
                               "out": out, "seconds": secs,
                               "ns_per_element": {k: 1e9 * v / n for k, v in secs.items()}}
                        if "torch" in secs:
                            rec["ratio_to_torch"] = paired_ratio(samples, "actlab", "torch")
                        if "numpy" in secs:
                            rec["ratio_to_numpy"] = paired_ratio(samples, "actlab", "numpy")
                        rec["fraction_of_copy"] = paired_ratio(samples, "copy", "actlab")
                        records.append(rec)
                        print(fmt_row(rec, names), flush=True)
    if args.markdown:
        print()
        print(machine_line())
        print(summary(records))
        print(markdown(records, sizes))
    if args.json is not None:
        meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "machine": platform.machine(), "processor": cpu_model(), "isa": isa(),
                "cpus": os.cpu_count(), "python": sys.version.split()[0],
                "versions": versions, "torch_threads": args.threads,
                "repeats": args.repeats, "min_time": args.min_time, "settle": args.settle}
        args.json.write_text(json.dumps({"meta": meta, "results": records}, indent=1) + "\n")
        print(f"\nwrote {args.json}")
    return 0


def fast_status() -> Any:
    try:
        from actlab.activations import _fast
    except ImportError:
        return "unavailable"
    return _fast.status() if hasattr(_fast, "status") else "available"


if __name__ == "__main__":
    raise SystemExit(main())
