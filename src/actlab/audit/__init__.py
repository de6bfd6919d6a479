"""Accuracy audits against the mpmath oracle (``pip install actlab[audit]``).

``actlab.audit.audit(target)`` (or ``actlab.audit(target)``: the module is callable)
measures the worst error in ULP of f, f' and f'' of ``target`` against the oracle at 50
digits (:mod:`actlab.audit.references`) over a few thousand inputs per dtype (float32,
float64) from ±0 through the subnormals to the largest float and ±inf
(:func:`actlab.audit.points.audit_points`), and checks that NaN gives NaN.  The bounds
are 2 ULP (float32) and 4 (float64) for f and f', 8 for f''.  The target is a registered
activation's name, or any Python callable (a ``module:function`` or dotted name, or the
object) checked against a registered name's reference, with derivatives through torch's or
jax's autograd when asked.  :func:`against` audits the frameworks' own implementations of
every elementwise function actlab has, beside actlab's.

>>> import actlab.audit
>>> result = actlab.audit("relu", size=200)
>>> result.within, [k.side for k in result.kinks if k.dtype == "float64"][:1]
(True, ['right'])
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:
    import mpmath  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is installed for the tests
    raise ImportError("actlab.audit needs mpmath: pip install 'actlab[audit]'") from exc

import actlab

from . import targets
from .measure import (
    DTYPES,
    ORDER_NAMES,
    AuditResult,
    audit_evaluate,
    bound,
    describe_over,
    fmt_ulp,
    many_reference_tables,
)
from .points import audit_points
from .references import REFERENCES

__all__ = ["AuditResult", "Comparison", "against", "audit", "bound"]

DEFAULT_SIZE = 2000


def _points(size: int, dtypes: Sequence[str], kinks: Iterable[Any]) -> dict[str, np.ndarray]:
    """Per dtype, float64 values of that dtype's sample points and the kinks."""
    unknown = [d for d in dtypes if d not in DTYPES]
    if unknown or not dtypes:
        raise ValueError(f"audit: dtypes must be among {tuple(DTYPES)}, got {tuple(dtypes)!r}")
    kink_x = [k.x for k in kinks]
    out = {}
    for dtype in dtypes:
        kind = DTYPES[dtype]
        x = np.concatenate([audit_points(kind, size), np.array(kink_x, dtype=kind)])
        x = np.unique(x)
        zeros = np.array([0.0, -0.0], dtype=kind)
        out[dtype] = np.concatenate([x[x != 0], zeros]).astype(np.float64)
    return out


def _check_reference(name: str) -> str:
    canonical = actlab.canonical_name(name)
    if canonical not in REFERENCES or not actlab.get(canonical).elementwise:
        raise ValueError(
            f"audit: {name!r} has no elementwise mpmath reference "
            f"(known: {', '.join(sorted(n for n in REFERENCES if n in actlab.names()))})"
        )
    return canonical


def _orders_of(name: str) -> tuple[int, ...]:
    act = actlab.get(name)
    return (0, 1, 2) if "second_derivative" in act._rules else (0, 1)


def _is_registered(target: Any) -> bool:
    if not isinstance(target, str) or ":" in target or "." in target:
        return False
    try:
        actlab.canonical_name(target)
    except ValueError:
        return False
    return True


def audit(
    target: str | Callable[..., Any],
    *,
    reference: str | None = None,
    grad: str | None = None,
    params: dict[str, Any] | None = None,
    dtypes: Sequence[str] = ("float32", "float64"),
    size: int = DEFAULT_SIZE,
) -> AuditResult:
    """Audit ``target`` against the mpmath reference of ``reference`` (default: the target
    itself, when it is a registered name).

    ``target``: a registered activation's name, a callable, or its name as
    ``module:function`` or dotted (``torch.nn.functional.gelu``); a foreign callable is
    given its framework's arrays (torch tensors, jax arrays, else NumPy arrays) and is
    measured for f alone unless ``grad`` is "torch" or "jax" (f' and f'' by that
    framework's autograd).  ``params``: the parameters of the reference (and of the
    registered target), default its defaults.  ``size``: about how many points per dtype.
    """
    params = dict(params or {})
    if _is_registered(target):
        name = actlab.canonical_name(target)  # type: ignore[arg-type]
        ref = _check_reference(reference or name)
        if grad is not None:
            raise ValueError(
                "audit: grad is for a foreign callable; a registered activation has its own derivatives"
            )
        evaluate = targets.actlab_target(name, **(params if ref == name else {}))
        label = f"actlab {name}"
        orders = _orders_of(name)
    else:
        if reference is None:
            raise ValueError(
                f"audit: {target!r} is not a registered activation; give reference= (--as), "
                "the registered name whose mpmath reference to check it against"
            )
        ref = _check_reference(reference)
        label, evaluate = targets.callable_target(target, grad=grad)
        orders = (0, 1, 2)
    values = {**actlab.get(ref, **params).values}
    kinks = actlab.get(ref).kinks
    if not isinstance(size, int) or isinstance(size, bool) or not 100 <= size <= 1_000_000:
        raise ValueError(f"audit: size must be an integer in [100, 1000000], got {size!r}")
    points = _points(size, dtypes, kinks)
    (tables,) = many_reference_tables([(ref, values, (0, 1, 2), points)])
    return audit_evaluate(
        evaluate,
        target=label,
        reference_name=ref,
        params=values,
        orders=orders,
        points=points,
        tables=tables,
        kinks=kinks,
    )


# -------------------------------------------------------------------------- against
@dataclass
class Comparison:
    """actlab beside the frameworks, per elementwise function: ``audits[name][who]`` is an
    AuditResult, or None where the framework has no such function."""

    frameworks: tuple[str, ...]
    audits: dict[str, dict[str, AuditResult | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "frameworks": list(self.frameworks),
            "functions": {
                n: {who: (a.to_dict() if a else None) for who, a in row.items()}
                for n, row in self.audits.items()
            },
        }

    def table(self, *, details: bool = False) -> str:
        return format_comparison(self, details=details)


def against(
    frameworks: Sequence[str] = ("torch",),
    *,
    names: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float32", "float64"),
    size: int = 1500,
    workers: int | None = None,
) -> Comparison:
    """Audit actlab and each framework's own implementation (with actlab's parameters) of
    every elementwise function actlab has (or ``names``), on the same points and reference
    values; ``workers`` processes compute the references (default: the CPUs, at most 4)."""
    frameworks = tuple(frameworks)
    for fw in frameworks:
        if fw not in targets.FRAMEWORKS:
            raise ValueError(f"audit: against must name frameworks among {targets.FRAMEWORKS}, got {fw!r}")
        if not targets.framework_available(fw):
            raise ValueError(f"audit: {fw} is not importable; pip install 'actlab[{fw}]'")
    chosen = (
        [_check_reference(n) for n in names]
        if names
        else [n for n in actlab.names() if actlab.get(n).elementwise and n in REFERENCES]
    )
    if workers is None:
        workers = min(os.cpu_count() or 1, 4)
    jobs = []
    for name in chosen:
        act = actlab.get(name)
        jobs.append((name, dict(act.values), (0, 1, 2), _points(size, dtypes, act.kinks)))
    all_tables = many_reference_tables(jobs, workers=workers)
    comparison = Comparison(frameworks=frameworks)
    for (name, values, _, points), tables in zip(jobs, all_tables):
        act = actlab.get(name)
        row: dict[str, AuditResult | None] = {}
        row["actlab"] = audit_evaluate(
            targets.actlab_target(name),
            target=f"actlab {name}",
            reference_name=name,
            params=values,
            orders=_orders_of(name),
            points=points,
            tables=tables,
            kinks=act.kinks,
        )
        for fw in frameworks:
            evaluate = targets.framework_function(fw, name, values)
            row[fw] = (
                None
                if evaluate is None
                else audit_evaluate(
                    evaluate,
                    target=f"{fw} {name}",
                    reference_name=name,
                    params=values,
                    orders=(0, 1, 2),
                    points=points,
                    tables=tables,
                    kinks=act.kinks,
                )
            )
        comparison.audits[name] = row
    return comparison


def _cell(audit: AuditResult | None, dtype: str) -> str:
    if audit is None:
        return "-"
    parts = []
    for order in range(3):
        r = audit.result(order, dtype)
        if r is None:
            parts.append("-")
        else:
            parts.append(fmt_ulp(r.worst_ulp) + ("!" if r.over else "") + ("" if r.nan_ok else "N"))
    return " / ".join(parts)


def format_comparison(comparison: Comparison, *, details: bool = False) -> str:
    """The side-by-side table (worst ULP of f / f' / f''; "!" over the bound, "N" NaN
    not given for NaN), then per implementation over its bounds the worst input (with
    ``details``: every order and dtype, with the ranges of x), and the kink conventions
    that differ from actlab's."""
    who = ("actlab", *comparison.frameworks)
    width = 26
    lines = [
        "worst error in ULP, f / f' / f''  (bounds: 2 float32, 4 float64, 8 f''; "
        "! over the bound, N: NaN does not give NaN; kinks apart)"
    ]
    lines.append(f"{'function':<13} {'dtype':<8} " + " ".join(f"{w:<{width}}" for w in who))
    for name, row in comparison.audits.items():
        for i, dtype in enumerate(DTYPES):
            if not any(a is not None and a.result(0, dtype) for a in row.values()):
                continue
            lines.append(
                f"{name if i == 0 else '':<13} {dtype:<8} "
                + " ".join(f"{_cell(row.get(w), dtype):<{width}}" for w in who)
            )
    found, conventions = [], []
    for name, row in comparison.audits.items():
        for w in who:
            a = row.get(w)
            if a is None:
                continue
            bad = [r for r in a.results if r.over or r.nonfinite]
            if details:
                for r in bad:
                    nan = "" if r.nan_ok else "; NaN does not give NaN"
                    found.append(f"  {w} {name} {r.dtype} {r.label}: {describe_over(r)}{nan}")
            elif bad:
                r = max(bad, key=lambda r: (r.worst_ulp, r.dtype))
                found.append(
                    f"  {w} {name}: worst {r.dtype} {r.label} {fmt_ulp(r.worst_ulp)} ULP at "
                    f"x={r.worst_x!r} (gives {r.worst_value!r}, truth {r.worst_truth!r}); "
                    f"over the bound in {', '.join(f'{q.dtype} {q.label}' for q in bad)}"
                )
            for k in a.kinks:
                if k.dtype == "float64" and k.side not in ("right", "both"):
                    conventions.append(
                        f"  {w} {name} {ORDER_NAMES[k.order]}({k.x:g}) = {k.value!r} "
                        f"({k.side} piece; actlab's convention {k.right!r})"
                    )
    if found:
        lines += [
            "",
            "over the bounds (worst input; --json for every range):" if not details else "over the bounds:",
            *found,
        ]
    if conventions:
        lines += ["", "kink conventions other than actlab's (the right piece):", *sorted(set(conventions))]
    return "\n".join(lines)


class _CallableModule(types.ModuleType):
    """``actlab.audit(target, ...)`` is :func:`audit`."""

    def __call__(self, target: Any, **options: Any) -> AuditResult:
        return audit(target, **options)


sys.modules[__name__].__class__ = _CallableModule
