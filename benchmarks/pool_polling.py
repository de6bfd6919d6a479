"""What the kernels' helper threads gain and cost by polling for the next job before sleeping.

    python benchmarks/pool_polling.py [--repeats 15] [--spin-ns 200000]

A pool helper that sleeps between jobs is slow to wake on a virtual machine (its vCPU is
halted), and a call of 0.1-1 ms may then run on the calling thread alone. The helpers
poll for ``--spin-ns`` (``_kernels.spin_ns``) before they sleep, yielding the core to any
other runnable thread while they poll. This times, with polling off (0) and on, in a
shuffled order per repeat after a pause and an untimed call (as bench_functions does):

- the float32 sigmoid on 2 threads at 1e5 and 1e6 elements, calls back to back;
- a small layer's step, a float32 matmul (256x512 @ 512x512, NumPy's BLAS on its own
  threads) and then the sigmoid of its result (131k elements, so on 2 threads), which
  shows what the polling costs the BLAS threads that run next.

Prints medians and the ratio on/off (below 1: polling helps).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import actlab
from actlab.activations import _fast


def time_pair(run, spin_ns: int, repeats: int, calls: int,
              order: np.random.Generator) -> dict[int, list[float]]:
    """Seconds per call of ``run`` with polling off (0) and at ``spin_ns``, paired by
    repeat; 25 ms of sleep and one untimed call before each timing."""
    samples: dict[int, list[float]] = {0: [], spin_ns: []}
    saved = _fast.KERNELS.spin_ns()
    try:
        for _ in range(repeats):
            for spin in order.permutation([0, spin_ns]):
                _fast.KERNELS.spin_ns(int(spin))
                time.sleep(0.025)
                run()
                start = time.perf_counter()
                for _ in range(calls):
                    run()
                samples[int(spin)].append((time.perf_counter() - start) / calls)
    finally:
        _fast.KERNELS.spin_ns(saved)
    return samples


def report(label: str, samples: dict[int, list[float]], spin_ns: int, unit: float,
           unit_name: str) -> None:
    off, on = samples[0], samples[spin_ns]
    ratio = statistics.median(a / b for a, b in zip(on, off))
    print(f"{label:44s} off {statistics.median(off) / unit:8.3f}  on {statistics.median(on) / unit:8.3f}"
          f" {unit_name}  on/off {ratio:.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--spin-ns", type=int, default=200_000)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.spin_ns < 1:
        parser.error("--repeats and --spin-ns must be positive")
    if not _fast.available():
        raise SystemExit("error: the compiled kernels are not built (see benchmarks/README.md)")
    _fast.set_num_threads(2)
    order = np.random.default_rng(3)
    rng = np.random.default_rng(0)
    sigmoid = actlab.get("sigmoid")
    print(f"helpers polling for {args.spin_ns} ns against not at all (0); median of {args.repeats}")
    for n in (10**5, 10**6):
        x = (rng.standard_normal(n) * 4).astype(np.float32)
        o = np.empty_like(x)
        calls = max(1, int(0.02 / (n * 0.7e-9)))
        samples = time_pair(lambda: sigmoid(x, out=o), args.spin_ns, args.repeats, calls, order)
        report(f"float32 sigmoid, {n:.0e} elements", samples, args.spin_ns, n * 1e-9,
               "ns/element")
    a = rng.standard_normal((256, 512)).astype(np.float32)
    w = rng.standard_normal((512, 512)).astype(np.float32)
    z = np.empty((256, 512), np.float32)

    def layer() -> None:
        np.matmul(a, w, out=z)
        sigmoid(z, out=z)

    samples = time_pair(layer, args.spin_ns, args.repeats, 200, order)
    report("matmul 256x512 @ 512x512, then sigmoid", samples, args.spin_ns, 1e-6, "us/step ")


if __name__ == "__main__":
    main()
