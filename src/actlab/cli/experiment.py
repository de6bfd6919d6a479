"""``actlab experiment NAME``: run one lab experiment, print its table and findings, write its figures."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from actlab.cli import SEED_MAX, check_writable, parse_path, parse_seed

DEFAULT_OUT = "actlab-out/experiments"


def add_parser(sub: Any, command: str) -> None:
    from actlab.lab import experiment_names

    names = experiment_names()
    p = sub.add_parser(
        "experiment",
        help="run a lab experiment: a table, its findings and its figures",
        description="Run one of the lab's experiments: " + ", ".join(names) + ".",
    )
    p.add_argument("name", metavar="NAME", help="the experiment: " + ", ".join(names))
    p.add_argument(
        "--out",
        type=parse_path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="folder for the figures, NAME.png and NAME.svg (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=parse_seed,
        default=0,
        help=f"seed of the data split, initialisation and shuffles, 0 to {SEED_MAX} (default: %(default)s)",
    )
    p.add_argument("--quick", action="store_true", help="the small, fast configuration the tests use")


def cell(value: Any) -> str:
    """One table cell: floats to 4 significant digits, None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return format(value, ".4g")
    return str(value)


def format_table(columns: list[str], rows: list[list[Any]]) -> str:
    """Plain text, one line per row, columns padded; the first column left-aligned, the rest right."""
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells if i < len(r)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = [v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))]
        return "  ".join(parts).rstrip()

    out = [line(columns), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def run(args: Any) -> int:
    from actlab.lab import get_experiment

    exp = get_experiment(args.name)  # ValueError ("did you mean ...?") exits 2
    check_writable(args.out, flag="--out", directory=True)
    start = time.perf_counter()
    result = exp.run(seed=args.seed, quick=args.quick)
    elapsed = time.perf_counter() - start

    from actlab.plots.experiments import plot_experiment

    paths = plot_experiment(result, args.out)
    out = sys.stdout
    print(
        f"{result.title} ({result.name}{', quick' if args.quick else ''}, seed {args.seed}, {elapsed:.1f} s)",
        file=out,
    )
    print(f"claim: {result.claim}", file=out)
    print(file=out)
    print(format_table(result.columns, result.rows), file=out)
    print(file=out)
    print("findings:", file=out)
    for finding in result.findings:
        print(f"- {finding}", file=out)
    print(file=out)
    for path in paths:
        print(f"wrote {path}", file=out)
    return 0
