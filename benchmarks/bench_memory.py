"""Peak memory of each activation call, as a multiple of its result's size.

For every registered activation, on the compiled and on the NumPy path, for a contiguous
float64 input and for an ``np.broadcast_to`` view of one row, the peak that tracemalloc
sees during f(x), f'(x), the backward step and forward_with_derivative, divided by the
bytes of what the call returns.  A call needs its result; beyond it, a non-contiguous
input costs one contiguous copy (1.0 more) and the rest should be small blocks.

    python benchmarks/bench_memory.py [--elements 1000000]
"""

from __future__ import annotations

import contextlib
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import Parser, machine_line  # noqa: E402

import actlab  # noqa: E402
from actlab.activations import _fast  # noqa: E402


def peak_ratio(call: Callable[[], Any]) -> float:
    """The peak traced allocation during ``call()`` over the bytes it returns."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    parts = result if isinstance(result, tuple) else (result,)
    size = sum(np.asarray(p).nbytes for p in parts)
    return peak / size if size else float("nan")


def inputs(elements: int, vector: bool) -> dict[str, np.ndarray]:
    rows = max(1, int(round(elements ** 0.5))) if vector else 1
    cols = elements // rows
    rng = np.random.default_rng(0)
    row = rng.standard_normal(cols)
    contiguous = rng.standard_normal((rows, cols)) if vector else rng.standard_normal(elements)
    broadcast = np.broadcast_to(row, (rows, cols)) if vector else np.broadcast_to(
        row[:1], (elements,))
    return {"contiguous": contiguous, "broadcast_to": broadcast}


#: maxout over the whole axis returns one number a row; groups of two are what layers use.
PARAMS: dict[str, dict[str, Any]] = {"maxout": {"pieces": 2}}


def measure(name: str, elements: int) -> list[tuple[str, str, str, float]]:
    act = actlab.get(name, **PARAMS.get(name, {}))
    rows: list[tuple[str, str, str, float]] = []
    for kind, x in inputs(elements, not act.elementwise).items():
        grad = np.ones(np.shape(act(x)))
        calls: dict[str, Callable[[], Any]] = {"f": lambda: act(x),
                                               "backward": lambda: act.backward(x, grad)}
        if act.elementwise:
            calls["derivative"] = lambda: act.derivative(x)
            calls["f_and_f'"] = lambda: act.forward_with_derivative(x)
        for path in ("compiled", "numpy"):
            if path == "compiled" and name not in _fast.kernel_names():
                continue
            ctx = _fast.numpy_only() if path == "numpy" else contextlib.nullcontext()
            with ctx:
                for method, call in calls.items():
                    rows.append((path, kind, method, peak_ratio(call)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="bench_memory.py", description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=1_000_000,
                        help="float64 elements per input (default 1e6)")
    args = parser.parse_args(argv)
    if not 1 <= args.elements <= 10**8:
        parser.error(f"--elements must be in [1, 100000000], got {args.elements}")
    print(machine_line())
    print(_fast.status())
    print(f"peak traced memory / result size, {args.elements} float64 elements")
    print(f"{'activation':12} {'path':9} {'input':13} {'method':11} {'ratio':>6}")
    worst = 0.0
    for name in actlab.names():
        for path, kind, method, ratio in measure(name, args.elements):
            worst = max(worst, ratio)
            print(f"{name:12} {path:9} {kind:13} {method:11} {ratio:6.2f}")
    print(f"largest ratio: {worst:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
