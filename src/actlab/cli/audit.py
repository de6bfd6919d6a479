"""``actlab audit``: the worst error in ULP of f, f', f'' against the mpmath oracle."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from actlab.cli import UsageError, check_writable, comma_list, int_in, parse_path, write_text

FRAMEWORKS = ("torch", "jax")
DTYPES = ("float32", "float64")
PLOT_SUFFIXES = (".png", ".svg")


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return key.strip(), float(value)
    except ValueError:
        return key.strip(), value.strip()


def _framework(text: str) -> str:
    if text not in FRAMEWORKS:
        raise ValueError(f"unknown framework {text!r} (known: {', '.join(FRAMEWORKS)})")
    return text


def _dtype(text: str) -> str:
    if text not in DTYPES:
        raise ValueError(f"unknown dtype {text!r} (known: {', '.join(DTYPES)})")
    return text


def add_parser(sub: Any, command: str) -> None:
    p = sub.add_parser(
        command,
        help="measure f, f', f'' in ULP against mpmath at 50 digits",
        description="Measure the worst error in ULP of f, f' and f'' against an mpmath reference at "
        "50 digits, over a few thousand inputs per dtype from ±0 through the subnormals to the largest "
        "float and ±inf; NaN must give NaN.  Bounds: 2 ULP (float32) and 4 (float64) for f and f', 8 "
        "for f''.  TARGET is a registered activation, or a callable (module:function, or dotted such "
        "as torch.nn.functional.gelu) checked against --as NAME.",
    )
    p.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="what to audit (with --against: the functions, default every elementwise one)",
    )
    p.add_argument(
        "--as",
        dest="reference",
        metavar="NAME",
        default=None,
        help="the registered activation whose reference a callable is checked against "
        "(default: a registered TARGET's own)",
    )
    p.add_argument(
        "--grad",
        choices=FRAMEWORKS,
        default=None,
        help="measure a callable's f' and f'' through this framework's autograd (default: f only)",
    )
    p.add_argument(
        "--against",
        type=lambda t: comma_list(t, what="frameworks", item=_framework, unique=True),
        default=None,
        metavar="FRAMEWORKS",
        help="audit these frameworks' own implementations (torch, jax) beside actlab's (default: none)",
    )
    p.add_argument(
        "--param",
        type=_param,
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="a parameter of the reference (and of a registered target); repeatable (default: the defaults)",
    )
    p.add_argument(
        "--dtypes",
        type=lambda t: comma_list(t, what="dtypes", item=_dtype, unique=True),
        default=list(DTYPES),
        metavar="DTYPES",
        help="comma-separated (default: float32,float64)",
    )
    p.add_argument(
        "--points",
        type=lambda t: int_in(t, 100, 1_000_000),
        default=None,
        metavar="N",
        help="about N inputs per dtype (default: 2000, 1500 with --against)",
    )
    p.add_argument(
        "--jobs",
        type=lambda t: int_in(t, 1, 64),
        default=None,
        metavar="N",
        help="processes for the references with --against (default: the CPUs, at most 4)",
    )
    p.add_argument(
        "--details",
        action="store_true",
        help="with --against: every order and dtype over its bound, with the ranges of x",
    )
    p.add_argument(
        "--json",
        type=parse_path,
        default=None,
        metavar="PATH",
        help="also write the results as JSON (default: none)",
    )
    p.add_argument(
        "--plot",
        type=parse_path,
        default=None,
        metavar="PATH",
        help="draw the error in ULP against x (.png or .svg); with --against, the results "
        "over a bound (default: none)",
    )


def run(args: argparse.Namespace) -> int:
    if args.against is None and len(args.targets) != 1:
        raise UsageError(
            "give one TARGET (or --against FRAMEWORKS)"
            if not args.targets
            else f"give one TARGET, got {len(args.targets)}: {' '.join(args.targets)}"
        )
    if args.against is not None and (args.reference or args.grad):
        raise UsageError("--as and --grad are for one callable TARGET, not with --against")
    if args.plot is not None and Path(args.plot).suffix.lower() not in PLOT_SUFFIXES:
        raise UsageError(f"argument --plot: the suffix of {args.plot} must be {' or '.join(PLOT_SUFFIXES)}")
    json_path = check_writable(args.json, flag="--json") if args.json else None
    plot_path = check_writable(args.plot, flag="--plot") if args.plot else None
    try:
        import actlab.audit as audit
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    params = dict(args.param or [])
    if args.against is not None:
        if params:
            raise UsageError("--param is for one TARGET; --against uses actlab's defaults")
        comparison = audit.against(
            args.against,
            names=args.targets or None,
            dtypes=args.dtypes,
            size=args.points or 1500,
            workers=args.jobs,
        )
        print(comparison.table(details=args.details))
        data: Any = comparison.to_dict()
        shown = [
            a for row in comparison.audits.values() for a in row.values() if a is not None and not a.within
        ]
    else:
        result = audit.audit(
            args.targets[0],
            reference=args.reference,
            grad=args.grad,
            params=params,
            dtypes=args.dtypes,
            size=args.points or audit.DEFAULT_SIZE,
        )
        print(result.table())
        data = result.to_dict()
        shown = [result]
    if json_path is not None:
        write_text(json_path, json.dumps(data, indent=1, allow_nan=False) + "\n")
    if plot_path is not None and shown:
        from actlab.audit.plot import plot_audits

        try:
            plot_audits(shown, plot_path)
        except OSError as exc:
            from actlab.cli import OutputError

            raise OutputError(f"cannot write {plot_path}: {exc.strerror or exc}") from None
    return 0
