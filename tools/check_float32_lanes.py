"""Check the compiled float32-lane forwards on every float32 input against the NumPy kernels.

The float32 forwards of hard_sigmoid and hard_swish are computed in float32 lanes and are
meant to be correctly rounded, the same bits as the NumPy kernels (which are checked against
mpmath by the test suite).  2^32 inputs are too many for a unit test; this goes through all
of them, in blocks, and prints each function's count of differing results (NaN inputs give
NaN on both sides and are compared as NaN).  It takes a few minutes per function.

    python tools/check_float32_lanes.py                       # hard_sigmoid and hard_swish
    python tools/check_float32_lanes.py --functions hard_swish --block-bits 22
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import actlab
from actlab.activations import _fast


def differences(name: str, *, block_bits: int) -> tuple[int, list[float]]:
    """(how many float32 inputs differ, up to 5 of them)."""
    act = actlab.get(name)
    block = 1 << block_bits
    count, examples = 0, []
    for start in range(0, 1 << 32, block):
        x = np.arange(start, start + block, dtype=np.uint64).astype(np.uint32).view(np.float32)
        ours = act(x)
        with _fast.numpy_only():
            spec = act(x)
        same = (ours.view(np.uint32) == spec.view(np.uint32)) | (np.isnan(ours) & np.isnan(spec))
        if not same.all():
            count += int((~same).sum())
            examples.extend(float(v) for v in x[~same][: 5 - len(examples)])
    return count, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", default="hard_sigmoid,hard_swish")
    parser.add_argument("--block-bits", type=int, default=24, choices=range(16, 29))
    args = parser.parse_args(argv)
    if not _fast.available():
        print("the compiled kernels are not built: nothing to check", file=sys.stderr)
        return 2
    print(f"{actlab.kernel_status()}")
    failed = False
    for name in args.functions.split(","):
        t0 = time.perf_counter()
        count, examples = differences(name, block_bits=args.block_bits)
        failed |= count > 0
        print(f"{name}: {count} of 2^32 float32 inputs differ {examples if count else ''}"
              f"({time.perf_counter() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
