"""Peak memory of each activation call, as a multiple of the result's size.

For every registered activation and method (f, f', backward, forward_with_derivative),
on the compiled path and the NumPy path, with 1e6 float64 elements given as a contiguous
array and as an ``np.broadcast_to`` view of one row, it prints the peak that
``tracemalloc`` saw during the call (NumPy reports its allocations to it) over the bytes
of what the call returns.  A call needs at least 1.0 (its result); a non-contiguous input
adds its contiguous copy (1.0 more for a float64 result of the input's size).  It prints
the CPU model and its instruction set first, and takes a few seconds.

    python benchmarks/bench_memory.py [--size 1000000]
"""

from __future__ import annotations

import contextlib
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import actlab
from actlab.activations import _fast

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import Parser, machine_line, positive_int  # noqa: E402

ROW = 1000  # the last axis of the vector functions' input


def peak_ratio(call: Callable[[], Any]) -> float:
    """The peak traced allocation during ``call()`` over the bytes of what it returns."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    parts = result if isinstance(result, tuple) else (result,)
    size = sum(np.asarray(p).nbytes for p in parts)
    return peak / size


def inputs(n: int, vector: bool) -> dict[str, np.ndarray]:
    """The contiguous input and a broadcast view holding the same values."""
    rng = np.random.default_rng(0)
    if vector:
        row = rng.standard_normal(ROW) * 4
        rows = max(1, n // ROW)
        return {"contiguous": np.tile(row, (rows, 1)), "broadcast": np.broadcast_to(row, (rows, ROW))}
    value = rng.standard_normal(1) * 4
    return {"contiguous": np.full(n, value[0]), "broadcast": np.broadcast_to(value, (n,))}


def methods(act: Any, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    y = act(np.ascontiguousarray(x))
    grad = np.ones(y.shape)
    calls: dict[str, Callable[[], Any]] = {
        "f": lambda: act(x),
        "backward": lambda: act.backward(x, grad),
    }
    if act.elementwise:
        calls["derivative"] = lambda: act.derivative(x)
        calls["f_and_f'"] = lambda: act.forward_with_derivative(x)
    return calls


@contextlib.contextmanager
def path(name: str) -> Iterator[None]:
    if name == "numpy":
        with _fast.numpy_only():
            yield
    else:
        yield


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=positive_int, default=1_000_000,
                        help="elements per input (default 1e6)")
    args = parser.parse_args(argv)
    print(machine_line())
    print(_fast.status())
    print(f"peak traced memory / result bytes, {args.size} float64 elements")
    cols = ["f", "derivative", "backward", "f_and_f'"]
    print(f"{'function':<12} {'path':<9} {'input':<11} " + " ".join(f"{c:>10}" for c in cols))
    worst = 0.0
    for name in actlab.names():
        act = actlab.get(name)
        if not act.elementwise and name == "maxout":
            act = actlab.get(name, pieces=2)
        for p in ("compiled", "numpy"):
            if p == "compiled" and name not in _fast.kernel_names():
                continue
            for kind, x in inputs(args.size, not act.elementwise).items():
                with path(p):
                    ratios = {m: peak_ratio(c) for m, c in methods(act, x).items()}
                worst = max(worst, *ratios.values())
                cells = " ".join(f"{ratios[c]:>10.2f}" if c in ratios else f"{'':>10}"
                                 for c in cols)
                print(f"{name:<12} {p:<9} {kind:<11} {cells}")
    print(f"worst: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
