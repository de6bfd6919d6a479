"""The measurement: a target's f, f', f'' against the mpmath oracle, in ULP of the dtype.

The error of a result ``v`` against the exact value ``e`` is |v - e| / ulp, where ulp is
the gap between the correctly rounded ``e`` (call it r) and its neighbour toward zero (the
smallest subnormal when r is 0): a correctly rounded result scores at most 0.5.  Where r
is ±inf the result must be that infinity (error 0, else inf); a NaN or an infinity where
r is finite is an infinite error, and is also listed as a non-finite result.  At a kink
the derivatives are not measured but compared with the convention (the right-hand
piece's value, which the oracle gives) and with the left-hand piece's.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import mpmath
import numpy as np
from mpmath import mp

from .references import DPS, reference, round_to

__all__ = [
    "BOUNDS",
    "AuditResult",
    "KinkCheck",
    "OrderResult",
    "Range",
    "audit_evaluate",
    "reference_tables",
]

DTYPES: dict[str, Any] = {"float32": np.float32, "float64": np.float64}
ORDER_NAMES = ("f", "f'", "f''")


def bound(order: int, dtype: str) -> float:
    """The bound in ULP: 2 (float32) and 4 (float64) for f and f', 8 for f''."""
    if order == 2:
        return 8.0
    return 2.0 if dtype == "float32" else 4.0


BOUNDS = {(order, dtype): bound(order, dtype) for order in range(3) for dtype in DTYPES}

#: What one reference table holds per dtype and order: the correctly rounded exact value,
#: its ULP and (exact - rounded)/ULP.
Table = tuple[np.ndarray, np.ndarray, np.ndarray]


def _ulp_below(r: np.ndarray) -> np.ndarray:
    a = np.abs(r)
    gap = a - np.nextafter(a, np.zeros_like(a))
    return np.where(a == 0, np.finfo(r.dtype).smallest_subnormal, gap)


def _rounded(exact: Sequence[Any], dtype: Any) -> Table:
    r = np.array([round_to(v, dtype) for v in exact], dtype=dtype)
    ulp = _ulp_below(r)
    with mp.workdps(DPS):
        residual = np.array(
            [
                float((v - mpmath.mpf(float(ri))) / mpmath.mpf(float(u))) if math.isfinite(ri) else 0.0
                for v, ri, u in zip(exact, r, ulp)
            ],
            dtype=np.float64,
        )
    return r, ulp, residual


def reference_tables(
    name: str, params: dict[str, Any], orders: Sequence[int], points: dict[str, np.ndarray]
) -> dict[str, dict[int, Table]]:
    """Per dtype and order, the rounded oracle at ``points[dtype]`` (float64 values of
    finite or infinite inputs); each input is evaluated once for every dtype (cached)."""
    tables: dict[str, dict[int, Table]] = {}
    for dtype, x in points.items():
        triples = [reference(name, float(v), **params) for v in x]
        tables[dtype] = {k: _rounded([t[k] for t in triples], DTYPES[dtype]) for k in orders}
    return tables


def _tables_job(job: tuple[str, dict[str, Any], tuple[int, ...], dict[str, np.ndarray]]) -> Any:
    return reference_tables(*job)


def many_reference_tables(
    jobs: Sequence[tuple[str, dict[str, Any], tuple[int, ...], dict[str, np.ndarray]]], *, workers: int = 1
) -> list[dict[str, dict[int, Table]]]:
    """:func:`reference_tables` for several functions, over ``workers`` processes."""
    if workers <= 1 or len(jobs) <= 1:
        return [reference_tables(*job) for job in jobs]
    import multiprocessing

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_tables_job, jobs))


def errors_in_ulp(ours: np.ndarray, table: Table) -> np.ndarray:
    """The error in ULP per point of ``ours`` against a reference table."""
    r, ulp, residual = table
    finite = np.isfinite(r)
    with np.errstate(all="ignore"):
        diff = (ours.astype(np.float64) - r.astype(np.float64)) / ulp.astype(np.float64)
        err = np.abs(diff - residual)
    err = np.where(np.isfinite(ours) & finite, err, np.inf)
    return np.where(~finite, np.where(ours == r, 0.0, np.inf), err)


# ------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Range:
    """A run of consecutive sample points (in the order of x) whose error exceeds the bound."""

    lo: float
    hi: float
    count: int
    worst: float


@dataclass(frozen=True)
class OrderResult:
    """One order of derivative in one dtype."""

    order: int
    dtype: str
    bound: float
    points: int
    worst_ulp: float
    worst_x: float
    worst_value: float
    worst_truth: float
    over: int
    ranges: tuple[Range, ...]
    nonfinite: int
    nonfinite_x: tuple[float, ...]
    nan_ok: bool
    x: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)
    values: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)
    errors: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)

    def at(self, x: float) -> tuple[float, float]:
        """(the target's value, its error in ULP) at the sample point ``x``."""
        hits = np.flatnonzero(self.x == x)
        if hits.size == 0:
            raise ValueError(f"audit: {x!r} is not among the {self.dtype} sample points")
        return float(self.values[hits[0]]), float(self.errors[hits[0]])

    @property
    def within(self) -> bool:
        return self.over == 0 and self.nan_ok

    @property
    def label(self) -> str:
        return ORDER_NAMES[self.order]


@dataclass(frozen=True)
class KinkCheck:
    """The value a target gives at a kink for one order, with the oracle's (the right
    piece's, the convention) and the left piece's."""

    x: float
    order: int
    dtype: str
    value: float
    right: float
    left: float
    note: str = ""

    @property
    def side(self) -> str:
        """ "right" (the convention), "left", "both" (the pieces agree), or "other"."""

        def same(a: float, b: float) -> bool:
            return a == b or (
                math.isfinite(a)
                and math.isfinite(b)
                and abs(a - b) <= 4 * np.spacing(np.float64(max(abs(a), abs(b))))
            )

        on_right, on_left = same(self.value, self.right), same(self.value, self.left)
        if on_right and on_left:
            return "both"
        return "right" if on_right else ("left" if on_left else "other")


@dataclass
class AuditResult:
    """The audit of one target against one reference (an actlab name)."""

    target: str
    reference: str
    params: dict[str, Any]
    results: list[OrderResult] = field(default_factory=list)
    kinks: list[KinkCheck] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # orders the target does not give

    @property
    def within(self) -> bool:
        """Every measured order within its bound, NaN propagated."""
        return all(r.within for r in self.results)

    def result(self, order: int, dtype: str) -> OrderResult | None:
        for r in self.results:
            if r.order == order and r.dtype == dtype:
                return r
        return None

    def worst(self, order: int, dtype: str) -> float | None:
        r = self.result(order, dtype)
        return None if r is None else r.worst_ulp

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (non-finite floats as the strings "inf", "-inf", "nan")."""
        data = {
            "target": self.target,
            "reference": self.reference,
            "params": self.params,
            "within": self.within,
            "skipped": self.skipped,
            "results": [
                {
                    **{k: v for k, v in asdict(r).items() if k not in _ARRAYS},
                    "label": r.label,
                    "within": r.within,
                }
                for r in self.results
            ],
            "kinks": [{**asdict(k), "side": k.side} for k in self.kinks],
        }
        return _json_safe(data)

    def table(self) -> str:
        """The terminal table of this audit."""
        return format_result(self)


_ARRAYS = ("x", "values", "errors")


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return _json_safe(value.item())
    return value


def _ranges(x: np.ndarray, err: np.ndarray, limit: float) -> tuple[Range, ...]:
    order = np.argsort(x.astype(np.float64), kind="stable")
    xs, es = x[order].astype(np.float64), err[order]
    bad = es > limit
    runs: list[Range] = []
    i = 0
    while i < xs.size:
        if not bad[i]:
            i += 1
            continue
        j = i
        while j + 1 < xs.size and bad[j + 1]:
            j += 1
        runs.append(Range(float(xs[i]), float(xs[j]), j - i + 1, float(np.max(es[i : j + 1]))))
        i = j + 1
    return tuple(runs)


# --------------------------------------------------------------------------- measure
Evaluate = Callable[[int, np.ndarray], "np.ndarray | None"]


def _call(evaluate: Evaluate, order: int, x: np.ndarray) -> np.ndarray | None:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = evaluate(order, x)
    if result is None:
        return None
    result = np.asarray(result)
    if result.shape != x.shape:
        raise ValueError(f"the target returned shape {result.shape} for an input of shape {x.shape}")
    with np.errstate(all="ignore"):
        return result.astype(x.dtype)


def audit_evaluate(
    evaluate: Evaluate,
    *,
    target: str,
    reference_name: str,
    params: dict[str, Any],
    orders: Iterable[int],
    points: dict[str, np.ndarray],
    tables: dict[str, dict[int, Table]],
    kinks: Sequence[Any] = (),
) -> AuditResult:
    """Audit ``evaluate(order, x) -> values or None`` (None: the target has no such order)
    at ``points[dtype]`` against the reference ``tables`` of :func:`reference_tables`.
    ``kinks`` (actlab Kink facts) are left out of the derivatives' errors and checked as
    conventions instead."""
    audit = AuditResult(target=target, reference=reference_name, params=dict(params))
    kink_x = np.array([k.x for k in kinks], dtype=np.float64)
    for order in orders:
        for dtype, x64 in points.items():
            x = x64.astype(DTYPES[dtype])
            # NaN rides along as the last input: one call per order and dtype.
            both = _call(evaluate, order, np.append(x, DTYPES[dtype](np.nan)))
            if both is None:
                if ORDER_NAMES[order] not in audit.skipped:
                    audit.skipped.append(ORDER_NAMES[order])
                continue
            ours, nan_out = both[:-1], both[-1]
            table = tables[dtype][order]
            err = errors_in_ulp(ours, table)
            at_kink = np.isin(x64, kink_x) if order > 0 else np.zeros(x.shape, dtype=bool)
            err = np.where(at_kink, 0.0, err)
            limit = bound(order, dtype)
            nonfinite = ~np.isfinite(ours) & np.isfinite(table[0])
            worst = int(np.argmax(np.nan_to_num(err, nan=np.inf, posinf=np.inf)))
            audit.results.append(
                OrderResult(
                    order=order,
                    dtype=dtype,
                    bound=limit,
                    points=int(x.size),
                    worst_ulp=float(err[worst]),
                    worst_x=float(x[worst]),
                    worst_value=float(ours[worst]),
                    worst_truth=float(table[0][worst]),
                    over=int(np.sum(err > limit)),
                    ranges=_ranges(x, err, limit),
                    nonfinite=int(np.sum(nonfinite)),
                    nonfinite_x=tuple(float(v) for v in x[nonfinite][:8]),
                    nan_ok=bool(np.isnan(nan_out)),
                    x=x,
                    values=ours,
                    errors=err,
                )
            )
            if order > 0:
                for kink in kinks:
                    here = np.flatnonzero(x64 == kink.x)
                    if here.size == 0:
                        continue
                    left_x = float(np.nextafter(DTYPES[dtype](kink.x), DTYPES[dtype](-np.inf)))
                    audit.kinks.append(
                        KinkCheck(
                            x=float(kink.x),
                            order=order,
                            dtype=dtype,
                            value=float(ours[here[0]]),
                            right=float(table[0][here[0]]),
                            left=round_to(reference(reference_name, left_x, **params)[order], DTYPES[dtype]),
                            note=getattr(kink, "note", ""),
                        )
                    )
    return audit


# ---------------------------------------------------------------------------- format
def fmt_ulp(value: float | None) -> str:
    """An error in ULP, short: 0.50, 3.2, 41, 3.5e+05, inf; "-" when not measured."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.0f}"
    return f"{value:.2g}"


def _fmt_x(v: float) -> str:
    return repr(float(v)) if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def describe_over(r: OrderResult, *, max_ranges: int = 3) -> str:
    """Where an order exceeds its bound: the worst input and the ranges of x."""
    text = (
        f"{r.over} of {r.points} points over {r.bound:g} ULP; worst {fmt_ulp(r.worst_ulp)} ULP at "
        f"x={_fmt_x(r.worst_x)} (gives {r.worst_value!r}, truth {r.worst_truth!r})"
    )
    if r.ranges:
        shown = ", ".join(
            (f"[{_fmt_x(g.lo)}, {_fmt_x(g.hi)}]" if g.lo != g.hi else f"{{{_fmt_x(g.lo)}}}")
            + f" ({g.count}, ≤{fmt_ulp(g.worst)})"
            for g in r.ranges[:max_ranges]
        )
        more = f", and {len(r.ranges) - max_ranges} more" if len(r.ranges) > max_ranges else ""
        text += f"; over the bound in {shown}{more}"
    if r.nonfinite:
        text += f"; {r.nonfinite} non-finite where the truth is finite (x={', '.join(map(_fmt_x, r.nonfinite_x[:4]))})"
    return text


def format_result(audit: AuditResult) -> str:
    """The table of one audit, then where it exceeds its bounds, its kinks and NaN."""
    params = ", ".join(f"{k}={v!r}" for k, v in audit.params.items())
    lines = [
        f"{audit.target} against the mpmath reference of {audit.reference}"
        f"{f'({params})' if params else ''} at {DPS} digits"
    ]
    lines.append(
        f"{'dtype':<8} {'order':<5} {'points':>6} {'worst ULP':>9} {'bound':>5} "
        f"{'over':>5} {'non-finite':>10}  {'NaN->NaN':<8}  worst at x"
    )
    for r in audit.results:
        lines.append(
            f"{r.dtype:<8} {r.label:<5} {r.points:>6} {fmt_ulp(r.worst_ulp):>9} {r.bound:>5g} "
            f"{r.over:>5} {r.nonfinite:>10}  {'yes' if r.nan_ok else 'NO':<8}  {_fmt_x(r.worst_x)}"
        )
    for r in audit.results:
        if r.over or r.nonfinite:
            lines.append(f"  {r.dtype} {r.label}: {describe_over(r)}")
    if audit.skipped:
        lines.append(f"  not measured: {', '.join(audit.skipped)} (the target gives no such order)")
    for k in audit.kinks:
        if k.dtype != "float64":
            continue
        lines.append(
            f"  kink x={k.x:g}: {ORDER_NAMES[k.order]} = {k.value!r} ({k.side} piece; right "
            f"{k.right!r}, left {k.left!r})"
        )
    lines.append("within the bounds" if audit.within else "OVER THE BOUNDS")
    return "\n".join(lines)
