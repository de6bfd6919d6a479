"""``actlab report --out DIR [--seed N] [--quick]``: every function and experiment, one page."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from actlab.cli import SEED_MAX, check_writable, comma_list, parse_path, parse_seed

DEFAULT_OUT = "report"


def add_parser(sub: Any, command: str) -> None:
    p = sub.add_parser(
        command,
        help="run the experiments and write one self-contained HTML page (DIR/index.html)",
        description="Write DIR/index.html: each function's formulas, facts and plot, each "
        "experiment's claim, figures, table and findings, and the versions and machine. "
        "The page works offline; the experiments' figures are also written to DIR/figures.",
    )
    p.add_argument(
        "--out",
        type=parse_path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="the directory to write (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=parse_seed,
        default=0,
        metavar="N",
        help=f"the experiments' seed, 0 to {SEED_MAX} (default: %(default)s)",
    )
    p.add_argument("--quick", action="store_true", help="the experiments' small, fast configurations")
    p.add_argument(
        "--experiments",
        type=parse_experiments,
        metavar="NAMES",
        default=None,
        help="comma-separated experiments to run, each once; '' for none (default: all)",
    )


def parse_experiments(text: str) -> list[str]:
    """The argparse type of ``--experiments``: comma-separated names, each once; '' is none.
    Unknown names are the report's to refuse, before any work."""
    return [] if text == "" else comma_list(text, what="experiment names", unique=True)


def run(args: argparse.Namespace) -> int:
    from actlab.report import ReportError, build_report

    check_writable(args.out, flag="--out", directory=True)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        path = build_report(
            args.out, seed=args.seed, quick=args.quick, experiments=args.experiments, progress=progress
        )
    except ReportError as exc:
        print(exc.path)
        print(f"actlab report: error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0
