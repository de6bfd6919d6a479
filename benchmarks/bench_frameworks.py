"""actlab.torch against PyTorch's own functions: one training step's forward and backward
pass (``y = f(x)``, then ``torch.autograd.grad(y, x, g)``) on CPU tensors.

Each configuration times both runners in interleaved repeats (a sleep and one untimed call
before each timing, so that neither starts while the other's threads still spin); the
ratio actlab / torch is the median of the per-repeat ratios, so a drift of the machine's
speed cancels in each pair.  softmax and log_softmax act along rows of 1000.

    python benchmarks/bench_frameworks.py                  # the full table
    python benchmarks/bench_frameworks.py --functions sigmoid,softmax --sizes 1e3 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import actlab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import (Parser, cpu_model, isa, machine_line, non_negative_float,  # noqa: E402
                      positive_float, positive_int, writable_path)

ROW = 1000  # softmax row length
SETTLE = 0.025
Runner = Callable[[], Any]


def torch_functions() -> dict[str, tuple[Callable[[Any], Any], dict[str, Any]]]:
    """actlab name -> (torch's own function, the actlab parameters that make it the same
    function), for the registered activations torch also has."""
    import torch

    F = torch.nn.functional
    table: dict[str, tuple[Callable[[Any], Any], dict[str, Any]]] = {
        "sigmoid": (torch.sigmoid, {}),
        "tanh": (torch.tanh, {}),
        "relu": (torch.relu, {}),
        "leaky_relu": (lambda t: F.leaky_relu(t, 0.1), {"slope": 0.1}),
        "selu": (F.selu, {}),
        "elu": (F.elu, {}),
        "gelu": (F.gelu, {}),
        "silu": (F.silu, {}),
        "mish": (F.mish, {}),
        "softplus": (F.softplus, {}),
        "softmax": (lambda t: torch.softmax(t, -1), {"dim": -1}),
        "log_softmax": (lambda t: torch.log_softmax(t, -1), {"dim": -1}),
    }
    known = set(actlab.names())
    return {name: entry for name, entry in table.items() if name in known}


def step_runner(fn: Callable[[Any], Any], x: Any, g: Any) -> Runner:
    import torch

    def step() -> Any:
        return torch.autograd.grad(fn(x), x, g)

    return step


def calibrate(run: Runner, min_time: float) -> int:
    run()
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, int(min_time / once))


def time_interleaved(runners: dict[str, Runner], repeats: int, min_time: float,
                     settle: float) -> dict[str, list[float]]:
    """Seconds per call of each runner in every repeat, the runners taking turns."""
    numbers = {k: calibrate(r, min_time) for k, r in runners.items()}
    samples: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(repeats):
        for key, run in runners.items():
            time.sleep(settle)
            run()
            start = time.perf_counter()
            for _ in range(numbers[key]):
                run()
            samples[key].append((time.perf_counter() - start) / numbers[key])
    return samples


def bench_one(name: str, dtype: str, n: int, repeats: int, min_time: float,
              settle: float) -> dict[str, Any]:
    import torch

    import actlab.torch as at

    theirs, params = torch_functions()[name]
    shape = (max(1, n // ROW), ROW) if name in ("softmax", "log_softmax") else (n,)
    gen = torch.Generator().manual_seed(0)
    tdtype = getattr(torch, dtype)
    x = (torch.randn(shape, generator=gen, dtype=torch.float64) * 3).to(tdtype).requires_grad_(True)
    g = torch.randn(shape, generator=gen, dtype=torch.float64).to(tdtype)
    ours = getattr(at.functional, name)
    runners = {"actlab": step_runner(lambda t: ours(t, **params), x, g),
               "torch": step_runner(theirs, x, g)}
    samples = time_interleaved(runners, repeats, min_time, settle)
    size = x.numel()
    return {"function": name, "dtype": dtype, "n": size,
            "ns_per_element": {k: 1e9 * statistics.median(v) / size for k, v in samples.items()},
            "ratio": statistics.median(a / b for a, b in zip(samples["actlab"], samples["torch"]))}


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of elements, got {item!r}") from None
        if not value >= 1 or value != int(value) or value > 1e9:
            raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 1e9, got {item!r}")
        sizes.append(int(value))
    return sizes


def parse_names(text: str, allowed: list[str], what: str = "function") -> list[str]:
    names = [item.strip() for item in text.split(",")]
    for name in names:
        if name not in allowed:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {name!r} (choose from {', '.join(allowed)})")
    return names


def build_parser(allowed: list[str]) -> argparse.ArgumentParser:
    ap = Parser(prog="bench_frameworks.py",
                description="actlab.torch vs torch's own activations: forward + backward")
    ap.add_argument("--functions", type=lambda t: parse_names(t, allowed), default=allowed,
                    help=f"comma list (default: {','.join(allowed)})")
    ap.add_argument("--sizes", type=parse_sizes, default=[10**3, 10**6], help="default 1e3,1e6")
    ap.add_argument("--dtypes", type=lambda t: parse_names(t, ["float32", "float64"], "dtype"),
                    default=["float32", "float64"], help="default float32,float64")
    ap.add_argument("--repeats", type=positive_int, default=7, help="default 7")
    ap.add_argument("--min-time", type=positive_float, default=0.02,
                    help="seconds per timing (default 0.02)")
    ap.add_argument("--threads", type=positive_int, default=2,
                    help="PyTorch intra-op threads (default 2)")
    ap.add_argument("--settle", type=non_negative_float, default=SETTLE,
                    help=f"seconds of sleep before each timing (default {SETTLE})")
    ap.add_argument("--json", type=writable_path, default=None, metavar="PATH",
                    help="also write the results there (default: none)")
    return ap


def main(argv: list[str] | None = None) -> int:
    try:
        import torch
    except ImportError:
        print("bench_frameworks.py: error: PyTorch is not installed (pip install 'actlab[torch]')",
              file=sys.stderr)
        return 2
    allowed = list(torch_functions())
    args = build_parser(allowed).parse_args(argv)
    torch.set_num_threads(args.threads)
    print(machine_line())
    print(f"torch {torch.__version__} ({args.threads} intra-op threads); one step = f(x) and "
          f"autograd.grad; median of {args.repeats} interleaved repeats")
    print("ns per element; ratio = actlab / torch (<1: actlab faster)")
    print(f"{'function':<12}{'dtype':<8}{'n':>9}{'actlab':>10}{'torch':>10}{'ratio':>8}")
    records = []
    for name in args.functions:
        for dtype in args.dtypes:
            for n in args.sizes:
                rec = bench_one(name, dtype, n, args.repeats, args.min_time, args.settle)
                ns = rec["ns_per_element"]
                print(f"{name:<12}{dtype:<8}{rec['n']:>9}{ns['actlab']:>10.2f}"
                      f"{ns['torch']:>10.2f}{rec['ratio']:>8.2f}", flush=True)
                records.append(rec)
    if args.json is not None:
        meta = {"processor": cpu_model(), "isa": isa(), "torch": torch.__version__,
                "threads": args.threads, "repeats": args.repeats}
        args.json.write_text(json.dumps({"meta": meta, "results": records}, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
