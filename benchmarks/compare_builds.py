"""Time two builds of actlab's compiled kernels against each other, and PyTorch, in one run.

    python benchmarks/compare_builds.py OLD.so [--functions sigmoid,selu] [--n 1e7]

OLD.so is a copy of ``src/actlab/activations/_kernels*.so`` saved before a change; the
installed build is the new one.  Both are loaded side by side and called directly
(``elementwise(kernel, mode, ...)``), forward and backward, float32 and float64, with a
preallocated output on 2 threads.  Each repeat runs the three in a shuffled order, with a
copy of the whole array, a pause and an untimed call before each timing
(bench_functions.time_shuffled): PyTorch's worker threads keep spinning for a while after
an op and slow down whatever runs next (a fixed order showed a false 0.82 between two
copies of the same build), and each build has its own pool of helper threads, which are
slow to wake after a pause unless a call has just woken them.  Prints medians and the ratios new/old and
new/torch; run it with OLD.so = the installed build to see the noise floor (on the shared
2-core test machine, 0.89-1.07 between two copies of one build).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

from actlab.activations import _fast
from bench_functions import SLOPE, make_inputs, time_shuffled, torch_runner  # the same inputs, peers and timing


def load_build(path: Path):  # noqa: ANN201 - an extension module
    spec = importlib.util.spec_from_file_location("_kernels", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: cannot load {path} as an extension module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="the saved extension module to compare with")
    parser.add_argument("--functions", default="sigmoid,tanh,selu")
    parser.add_argument("--n", type=float, default=1e7)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.old.is_file():
        parser.error(f"{args.old}: no such file")
    if _fast.KERNELS is None:
        raise SystemExit("error: the compiled kernels are not built")
    old, new = load_build(args.old), _fast.KERNELS
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    names = list(new.kernel_names())
    n = int(args.n)
    order = np.random.default_rng(5)
    for fn in args.functions.split(","):
        if fn not in names:
            raise SystemExit(f"error: no compiled kernel {fn!r}; choose from {names}")
        kid = names.index(fn)
        prm = SLOPE if fn == "leaky_relu" else 0.0
        for dtype in (np.float32, np.float64):
            d = make_inputs(fn, n, dtype)
            x, g, o, scratch = d["x"], d["g"], d["out_b"], np.empty_like(d["x"])
            for mode, label in ((0, "forward"), (2, "backward")):
                runs = {
                    "old": lambda m=mode: old.elementwise(kid, m, x, g, o, None, prm, args.threads),
                    "new": lambda m=mode: new.elementwise(kid, m, x, g, o, None, prm, args.threads),
                }
                peer = torch_runner(fn, d, True, label) if torch is not None else None
                if peer is not None:
                    runs["torch"] = peer
                seconds = time_shuffled(runs, args.repeats, flush=lambda: np.copyto(scratch, g),
                                        order=order)
                med = {k: v / n * 1e9 for k, v in seconds.items()}
                line = " ".join(f"{k} {v:.3f}" for k, v in med.items())
                ratios = f"new/old {med['new'] / med['old']:.2f}"
                if "torch" in med:
                    ratios += (f"  new/torch {med['new'] / med['torch']:.2f}"
                               f"  old/torch {med['old'] / med['torch']:.2f}")
                print(f"{fn:10s} {dtype.__name__:8s} {label:8s} ns/element: {line}   {ratios}")


if __name__ == "__main__":
    main()
