"""``actlab plot [NAMES...] --out FILE``: the gallery of f, f' and f'' per function."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import actlab
from actlab.cli import UsageError, check_writable, parse_path

SUFFIXES = (".png", ".svg")  # as actlab.plots.gallery.SUFFIXES, checked before matplotlib loads
DEFAULT_OUT = "gallery.png"


def add_parser(sub: Any, command: str) -> None:
    p = sub.add_parser(
        command,
        help="draw each function with its first and second derivative (PNG or SVG)",
        description="Draw each activation with f, f' and f'' on one panel; vector functions "
        "(softmax, log_softmax, maxout) on their two-input slice f([x, 0])[0].",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="activations to draw (default: all)")
    p.add_argument(
        "--out",
        type=parse_path,
        default=DEFAULT_OUT,
        metavar="FILE",
        help="the file to write; .png or .svg (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise UsageError(f"argument --out: the suffix of {args.out} must be {' or '.join(SUFFIXES)}")
    # Unknown names raise the registry's ValueError ("did you mean ..."): exit 2.
    names = [actlab.canonical_name(n) for n in args.names] or None
    check_writable(out, flag="--out")

    from actlab.plots.gallery import plot_gallery

    print(plot_gallery(names, out))
    return 0
