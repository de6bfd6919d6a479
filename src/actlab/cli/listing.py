"""``actlab list`` and ``actlab show NAME``: the registry as tables."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

import actlab

#: Six points: an even count, which glu (two halves) needs of a vector.
SHOW_POINTS = (-5.0, -1.0, -0.5, 0.0, 1.0, 5.0)


def add_parser(sub: Any, command: str) -> None:
    if command == "list":
        p = sub.add_parser("list", help="the activation functions: formula, range, f'(0), use")
        p.add_argument(
            "--classic",
            action="store_true",
            help="only the classic functions, the ones the founding document covers",
        )
        p.add_argument(
            "--markdown", action="store_true", help="print the table as Markdown, in its two groups"
        )
    else:
        p = sub.add_parser("show", help="one function's facts, and f, f', f'' at a few points")
        p.add_argument("name", help="an activation name or alias")
        p.add_argument(
            "--at",
            type=float,
            nargs="+",
            default=list(SHOW_POINTS),
            metavar="X",
            help="the points to evaluate at; a vector function takes them as one vector "
            f"(default: {' '.join(format(v, 'g') for v in SHOW_POINTS)})",
        )


def _fmt_range(r: tuple[float, float]) -> str:
    def one(v: float) -> str:
        if np.isinf(v):
            return "∞" if v > 0 else "-∞"
        if np.isclose(abs(v), np.pi / 2):
            return "π/2" if v > 0 else "-π/2"
        return f"{v:.4g}"

    return f"({one(r[0])}, {one(r[1])})"


def _derivative_at_zero(act: actlab.Activation) -> str:
    if act.elementwise:
        return f"{float(act.derivative(0.0)):.6g}"
    return "Jacobian"


def rows(classic_only: bool = False) -> list[tuple[str, str, str, str, str]]:
    """The rows of ``actlab list``: name, formula, range, f'(0), use."""
    out = []
    for name in actlab.names(classic_only=classic_only):
        act = actlab.get(name)
        out.append(
            (
                name,
                act.plain_formula,
                _fmt_range(act.output_range),
                _derivative_at_zero(act),
                ", ".join(act.use),
            )
        )
    return out


def _markdown_cell(text: str) -> str:
    """text for a Markdown table cell: a pipe (softsign's |x|) would end the cell."""
    return text.replace("|", r"\|")


def markdown_table(classic_only: bool = False) -> str:
    """The function table as Markdown: the classic group, then the wider family."""
    lines = [
        "| group | name | aliases | f(x) | range | f'(0) | use |",
        "|---|---|---|---|---|---|---|",
    ]
    table = rows(classic_only)
    # the classic functions first, then the wider family, each in definition order
    table.sort(key=lambda row: not actlab.get(row[0]).classic)
    for name, plain, rng, d0, use in table:
        act = actlab.get(name)
        lines.append(
            f"| {'classic' if act.classic else 'wider family'} | `{name}` "
            f"| {', '.join(f'`{a}`' for a in act.aliases) or ''} | {_markdown_cell(plain)} | {rng} "
            f"| {d0} | {use} |"
        )
    return "\n".join(lines)


def _print_table(title: str, header: tuple[str, ...], body: Sequence[tuple[str, ...]]) -> None:
    """A table on stdout; every text is printed as it is (rich markup is escaped)."""
    try:
        from rich.table import Table

        from actlab.cli._console import Console, escape
    except ImportError:  # the core needs NumPy only; rich comes with the lab extra
        print(title)
        print("  ".join(header))
        for row in body:
            print("  ".join(row))
        return
    table = Table(title=escape(title))
    for h in header:
        table.add_column(escape(h))
    for row in body:
        table.add_row(*map(escape, row))
    Console(soft_wrap=True).print(table)


def run(args: argparse.Namespace) -> int:
    if args.command == "list":
        if args.markdown:
            print(markdown_table(args.classic))
            return 0
        _print_table(
            "actlab activation functions",
            ("name", "formula", "range", "f'(0)", "use"),
            rows(args.classic),
        )
        return 0
    act = actlab.get(args.name)
    facts = [
        ("name", act.name),
        ("aliases", ", ".join(act.aliases) or "-"),
        ("summary", act.summary),
        ("formula", act.plain_formula),
        ("LaTeX", act.formula),
        ("derivative", act.derivative_formula),
        ("range", _fmt_range(act.output_range)),
        ("monotonic", str(act.monotonic)),
        ("zero-centred", str(act.zero_centered)),
        ("max |f'|", "-" if act.max_derivative is None else f"{act.max_derivative:.6g}"),
        ("use", ", ".join(act.use)),
        ("kinks", "; ".join(f"x={k.x:g}: f'={k.derivative:.6g} ({k.note})" for k in act.kinks) or "-"),
        ("parameters", "; ".join(f"{p.name}={act.values[p.name]!r}: {p.doc}" for p in act.params) or "-"),
        ("problems", " ".join(act.problems)),
        ("reference", act.reference),
    ]
    _print_table(f"actlab show {act.name}", ("fact", "value"), facts)
    x = np.array(args.at, dtype=np.float64)
    if act.elementwise:
        f, d1, d2 = act(x), act.derivative(x), act.second_derivative(x)
        body = [(f"{xi:g}", f"{a:.10g}", f"{b:.10g}", f"{c:.10g}") for xi, a, b, c in zip(x, f, d1, d2)]
        _print_table("values", ("x", "f(x)", "f'(x)", "f''(x)"), body)
    else:
        y = np.asarray(act(x), dtype=np.float64).reshape(-1)
        vector = ", ".join(format(float(v), "g") for v in x)
        _print_table(
            f"{act.name} of the vector x = ({vector})",
            ("i", "f(x)_i"),
            [(str(i), f"{float(v):.10g}") for i, v in enumerate(y)],
        )
    return 0
