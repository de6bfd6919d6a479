"""actlab's framework adapters against the frameworks' own functions: one training step's
forward and backward pass on the CPU.

- ``--framework torch`` (the default): actlab.torch vs torch, ``y = f(x)`` then
  ``torch.autograd.grad(y, x, g)``;
- ``--framework jax``: actlab.jax vs jax.nn, ``y, vjp = jax.vjp(f, x)`` then ``vjp(g)``,
  the two under one ``jax.jit`` (float64 with jax_enable_x64 on for the whole run).

Each configuration times both runners in interleaved repeats (a sleep and one untimed call
before each timing, so that neither starts while the other's threads still spin); the
ratio actlab / torch is the median of the per-repeat ratios, so a drift of the machine's
speed cancels in each pair.  softmax and log_softmax act along rows of 1000.

    python benchmarks/bench_frameworks.py                  # the full table
    python benchmarks/bench_frameworks.py --functions sigmoid,softmax --sizes 1e3 --repeats 3
    python benchmarks/bench_frameworks.py --framework jax
    python benchmarks/bench_frameworks.py --path ops        # actlab.torch's torch-ops path
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


def jax_functions() -> dict[str, tuple[Callable[[Any], Any], dict[str, Any]]]:
    """actlab name -> (jax.nn's own function, the actlab parameters that make it the same
    function), for the registered activations jax.nn also has."""
    import jax
    import jax.numpy as jnp

    nn = jax.nn
    table: dict[str, tuple[Callable[[Any], Any], dict[str, Any]]] = {
        "sigmoid": (nn.sigmoid, {}),
        "tanh": (jnp.tanh, {}),
        "relu": (nn.relu, {}),
        "leaky_relu": (lambda x: nn.leaky_relu(x, 0.1), {"slope": 0.1}),
        "selu": (nn.selu, {}),
        "elu": (nn.elu, {}),
        "celu": (nn.celu, {}),
        "gelu": (lambda x: nn.gelu(x, approximate=False), {}),
        "silu": (nn.silu, {}),
        "softplus": (nn.softplus, {}),
        "log_sigmoid": (nn.log_sigmoid, {}),
        "softsign": (nn.soft_sign, {}),
        "hardtanh": (nn.hard_tanh, {}),
        "relu6": (nn.relu6, {}),
        "hard_sigmoid": (nn.hard_sigmoid, {}),
        "hard_swish": (nn.hard_swish, {}),
        "softmax": (lambda x: nn.softmax(x, axis=-1), {"axis": -1}),
        "log_softmax": (lambda x: nn.log_softmax(x, axis=-1), {"axis": -1}),
        "glu": (lambda x: nn.glu(x, axis=-1), {"axis": -1}),
    }
    if hasattr(nn, "mish"):
        table["mish"] = (nn.mish, {})
    known = set(actlab.names())
    return {name: entry for name, entry in table.items() if name in known}


#: The functions each framework is measured on (read lazily: the framework may be absent).
FRAMEWORKS: dict[str, Callable[[], dict[str, Any]]] = {"torch": torch_functions,
                                                       "jax": jax_functions}
#: Functions that act along rows of ROW.
ROWWISE = ("softmax", "log_softmax", "glu")


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


def jax_step_runner(fn: Callable[[Any], Any], x: Any, g: Any) -> Runner:
    import jax

    @jax.jit
    def step(x: Any, g: Any) -> Any:
        y, pull = jax.vjp(fn, x)
        return y, pull(g)[0]

    def run() -> Any:
        return jax.block_until_ready(step(x, g))

    return run


def bench_one_jax(name: str, dtype: str, n: int, repeats: int, min_time: float,
                  settle: float) -> dict[str, Any]:
    import jax.numpy as jnp
    import numpy as np

    import actlab.jax as aj

    theirs, params = jax_functions()[name]
    shape = (max(1, n // ROW), ROW) if name in ROWWISE else (n,)
    rng = np.random.default_rng(0)
    x = jnp.asarray((rng.standard_normal(shape) * 3).astype(dtype))
    y_shape = (shape[0], ROW // 2) if name == "glu" else shape
    g = jnp.asarray(rng.standard_normal(y_shape).astype(dtype))
    ours = aj.get(name, **params)
    runners = {"actlab": jax_step_runner(ours, x, g), "jax": jax_step_runner(theirs, x, g)}
    samples = time_interleaved(runners, repeats, min_time, settle)
    size = int(x.size)
    return {"function": name, "dtype": dtype, "n": size,
            "ns_per_element": {k: 1e9 * statistics.median(v) / size for k, v in samples.items()},
            "ratio": statistics.median(a / b for a, b in zip(samples["actlab"], samples["jax"]))}


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


def build_parser(allowed: list[str], framework: str = "torch") -> argparse.ArgumentParser:
    peer = "jax.nn" if framework == "jax" else "torch"
    ap = Parser(prog="bench_frameworks.py",
                description=f"actlab.{framework} vs {peer}'s own activations: forward + backward")
    ap.add_argument("--framework", choices=sorted(FRAMEWORKS), default="torch",
                    help="torch (default) or jax")
    ap.add_argument("--functions", type=lambda t: parse_names(t, allowed), default=allowed,
                    help=f"comma list (default: {','.join(allowed)})")
    ap.add_argument("--sizes", type=parse_sizes, default=[10**3, 10**6], help="default 1e3,1e6")
    ap.add_argument("--dtypes", type=lambda t: parse_names(t, ["float32", "float64"], "dtype"),
                    default=["float32", "float64"], help="default float32,float64")
    ap.add_argument("--repeats", type=positive_int, default=7, help="default 7")
    ap.add_argument("--min-time", type=positive_float, default=0.02,
                    help="seconds per timing (default 0.02)")
    ap.add_argument("--threads", type=positive_int, default=2,
                    help="PyTorch intra-op threads (default 2; torch only)")
    ap.add_argument("--path", choices=["kernels", "ops"], default="kernels",
                    help="actlab.torch's path: its kernels (default) or the torch-ops forms "
                         "(torch only)")
    ap.add_argument("--settle", type=non_negative_float, default=SETTLE,
                    help=f"seconds of sleep before each timing (default {SETTLE})")
    ap.add_argument("--json", type=writable_path, default=None, metavar="PATH",
                    help="also write the results there (default: none)")
    return ap


def _framework(argv: list[str] | None) -> str:
    """The --framework value alone (the full parser's function list depends on it)."""
    pre = Parser(prog="bench_frameworks.py", add_help=False)
    pre.add_argument("--framework", choices=sorted(FRAMEWORKS), default="torch")
    return pre.parse_known_args(argv)[0].framework


def main(argv: list[str] | None = None) -> int:
    framework = _framework(argv)
    try:
        module = __import__(framework)
    except ImportError:
        print(f"bench_frameworks.py: error: {framework} is not installed "
              f"(pip install 'actlab[{framework}]')", file=sys.stderr)
        return 2
    allowed = list(FRAMEWORKS[framework]())
    args = build_parser(allowed, framework).parse_args(argv)
    if framework != "jax":
        return _run(args, framework, module)
    x64 = module.config.jax_enable_x64
    module.config.update("jax_enable_x64", True)  # float64 arrays; float32 stay float32
    try:
        return _run(args, framework, module)
    finally:
        module.config.update("jax_enable_x64", x64)


def _run(args: argparse.Namespace, framework: str, module: Any) -> int:
    peer = framework
    print(machine_line())
    if framework == "torch":
        import actlab.torch as at

        module.set_num_threads(args.threads)
        at.set_path(args.path)
        print(f"torch {module.__version__} ({args.threads} intra-op threads); actlab.torch's "
              f"{args.path} path; one step = f(x) and autograd.grad; median of {args.repeats} "
              f"interleaved repeats")
        bench = bench_one
    else:
        print(f"jax {module.__version__} on {module.default_backend()} (XLA's own threads); "
              f"one step = jax.vjp and its pullback under one jax.jit; median of "
              f"{args.repeats} interleaved repeats")
        bench = bench_one_jax
    print(f"ns per element; ratio = actlab / {peer} (<1: actlab faster)")
    width = max(12, *(len(name) + 2 for name in args.functions))
    print(f"{'function':<{width}}{'dtype':<8}{'n':>9}{'actlab':>10}{peer:>10}{'ratio':>8}")
    records = []
    for name in args.functions:
        for dtype in args.dtypes:
            for n in args.sizes:
                rec = bench(name, dtype, n, args.repeats, args.min_time, args.settle)
                ns = rec["ns_per_element"]
                print(f"{name:<{width}}{dtype:<8}{rec['n']:>9}{ns['actlab']:>10.2f}"
                      f"{ns[peer]:>10.2f}{rec['ratio']:>8.2f}", flush=True)
                records.append(rec)
    if args.json is not None:
        meta = {"processor": cpu_model(), "isa": isa(), "framework": framework,
                framework: module.__version__, "repeats": args.repeats}
        if framework == "torch":
            meta["threads"] = args.threads
            meta["path"] = args.path
        args.json.write_text(json.dumps({"meta": meta, "results": records}, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
