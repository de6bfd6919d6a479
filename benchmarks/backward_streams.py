"""How many arrays a backward pass moves: step's and identity's against PyTorch's kernels.

    python benchmarks/backward_streams.py [--n 1e7] [--repeats 11] [--threads 2]

PyTorch's backward of identity copies g, and step's fills with 0: two arrays and one. Under
SPEC.md's NaN rule actlab's read x as well (and step's reads g, since g * 0 is NaN for an
infinite g): three arrays. This times both against PyTorch ops that move the same arrays,
``copy_`` (two), ``zero_`` (one) and ``add(x, g, out=o)`` (three), on one shared input, in a
shuffled order per repeat with a whole-array copy, a pause and an untimed call before each
timing (bench_functions.time_shuffled: PyTorch's worker threads spin after an op and slow
whatever follows, and a pool's threads are slow to wake after a pause). Prints medians in ns per element and
each row's ratio to ``add``: near 1 means the kernel runs at the speed of memory for three
arrays, and the rest of its gap to PyTorch's copy_ or zero_ is the extra arrays.
"""

from __future__ import annotations

import argparse

import numpy as np

import actlab
from bench_functions import time_shuffled  # the timing of compare_builds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=float, default=1e7)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeats < 1 or args.threads < 1:
        parser.error("--n, --repeats and --threads must be positive")
    try:
        import torch
    except ImportError:
        raise SystemExit("error: PyTorch is not installed (pip install -e '.[torch]')") from None
    torch.set_num_threads(args.threads)
    n = int(args.n)
    order = np.random.default_rng(5)
    flush_from = np.zeros(n)
    flush_to = np.empty_like(flush_from)
    print(f"{n:.0e} elements, output preallocated, PyTorch threads {args.threads}, "
          f"median of {args.repeats}; ns per element, and the ratio to PyTorch's add(x, g)")
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(0)
        x = rng.standard_normal(n).astype(dtype)
        g = rng.standard_normal(n).astype(dtype)
        o = np.empty_like(x)
        tx, tg, to = (torch.from_numpy(a) for a in (x, g, o))
        identity, step = actlab.get("identity"), actlab.get("step")
        runs = {
            "actlab identity backward (x, g -> o)": lambda: identity.backward(x, g, out=o),
            "actlab step backward (x, g -> o)": lambda: step.backward(x, g, out=o),
            "torch add (x, g -> o)": lambda: torch.add(tx, tg, out=to),
            "torch copy_, identity's backward (g -> o)": lambda: to.copy_(tg),
            "torch zero_, step's backward (-> o)": lambda: to.zero_(),
        }
        seconds = time_shuffled(runs, args.repeats, flush=lambda: np.copyto(flush_to, flush_from),
                                order=order)
        ns = {name: s / n * 1e9 for name, s in seconds.items()}
        add = ns["torch add (x, g -> o)"]
        for name, median in ns.items():
            print(f"{np.dtype(dtype).name:8s} {name:44s} {median:7.3f} ns  {median / add:5.2f}")


if __name__ == "__main__":
    main()
