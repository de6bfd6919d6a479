"""``define(name, formula, **params_and_facts)``: a new activation from a formula (SymPy;
``pip install actlab[define]``).

The formula, a string or a SymPy expression in ``x`` and the named parameters (given with
their defaults as keywords), is differentiated twice by SymPy.  Each of f, f', f'' is
rewritten onto stable primitives (log(1+e^u) -> softplus(u), 1/(1+e^-u) -> σ(u),
1 - σ(u) -> σ(-u), e^u - 1 -> expm1(u), log(1+u) -> log1p(u), 1 ± tanh(u) -> 2σ(±2u),
1 - tanh² -> sech², 1 ± erf(u) -> erfc(∓u), log σ(u) -> -softplus(-u), e^a·e^b -> e^(a+b)),
in several algebraic forms (as given, simplified, over one denominator, factored); each
form is measured against mpmath and the most accurate is kept per region of x.  The
result is registered as a first-class activation (NumPy kernels from sympy.lambdify, no
per-element Python) with an mpmath reference for :mod:`actlab.audit`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from tokenize import TokenError
from typing import Any

import numpy as np

__all__ = ["define", "undefine"]

#: Region edges of x over which the most accurate form is chosen.
EDGES = (-math.inf, -1e3, -40.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0, 40.0, 1e3, math.inf)


def _sympy() -> Any:
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover
        raise ImportError("actlab.define needs SymPy: pip install 'actlab[define]'") from exc
    return sympy


def _primitives() -> dict[str, Any]:
    sp = _sympy()

    class sigmoid(sp.Function):  # type: ignore[name-defined,misc]  # the printed name
        def fdiff(self, argindex: int = 1) -> Any:
            u = self.args[0]
            return sigmoid(u) * sigmoid(-u)

    class softplus(sp.Function):  # type: ignore[name-defined,misc]  # the printed name
        def fdiff(self, argindex: int = 1) -> Any:
            return sigmoid(self.args[0])

    class expm1(sp.Function):  # type: ignore[name-defined,misc]  # the printed name
        def fdiff(self, argindex: int = 1) -> Any:
            return sp.exp(self.args[0])

    class log1p(sp.Function):  # type: ignore[name-defined,misc]  # the printed name
        def fdiff(self, argindex: int = 1) -> Any:
            return 1 / (1 + self.args[0])

    class recip(sp.Function):  # type: ignore[name-defined,misc]  # the printed name
        """1/u, kept apart so that u**-n is evaluated as (1/u)**n."""

        def fdiff(self, argindex: int = 1) -> Any:
            return -(recip(self.args[0]) ** 2)

    return {"sigmoid": sigmoid, "softplus": softplus, "expm1": expm1, "log1p": log1p, "recip": recip}


_PRIMS: dict[str, Any] | None = None
_LIFTED: dict[str, Any] | None = None

#: The actlab activations a sub-expression is mapped onto (name, parameters): each one's
#: kernels for f, f', f'' are exact through its tails, where the textbook form multiplies a
#: subnormal e^x-like factor by x.
_ACTLAB_PRIMS = {
    "silu": ("silu", {}),
    "mish": ("mish", {}),
    "gelu": ("gelu", {"approximate": "none"}),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
}


def _lifted() -> dict[str, Any]:
    """SymPy functions standing for actlab kernels: ``silu``, ``silu_d1``, ``silu_d2``, ...
    (each one's derivative is the next), and ``Phi`` (the normal cdf), with their NumPy
    implementations under the same names in ``"numpy"``."""
    global _LIFTED
    if _LIFTED is not None:
        return _LIFTED
    sp = _sympy()
    import actlab
    from actlab.activations._stable_modern import normal_cdf

    out: dict[str, Any] = {}
    numpy_fns: dict[str, Any] = {}
    for short, (act_name, values) in _ACTLAB_PRIMS.items():
        act = actlab.get(act_name, **values)
        calls = (act, act.derivative, act.second_derivative)
        classes: list[Any] = []
        for order in (2, 1, 0):
            label = short if order == 0 else f"{short}_d{order}"
            attrs: dict[str, Any] = {}
            if order < 2:
                nxt = classes[0]
                attrs["fdiff"] = (lambda nxt: lambda self, argindex=1: nxt(self.args[0]))(nxt)  # noqa: B023
            classes.insert(0, type(label, (sp.Function,), attrs))
            numpy_fns[label] = (lambda call: lambda u: call(np.asarray(u, dtype=np.float64)))(calls[order])
        for cls in classes:
            out[cls.__name__] = cls

    class Phi(sp.Function):  # type: ignore[name-defined,misc]  # the printed name
        def fdiff(self, argindex: int = 1) -> Any:
            u = self.args[0]
            return sp.exp(-(u**2) / 2) / sp.sqrt(2 * sp.pi)

    out["Phi"] = Phi
    numpy_fns["Phi"] = lambda u: normal_cdf(np.asarray(u, dtype=np.float64))
    out["numpy"] = numpy_fns
    _LIFTED = out
    return out


def lift(expr: Any) -> Any:
    """``expr`` (stabilized) with u·σ(u), u·tanh(softplus(u)), erfc(-u/√2)/2, u·Φ(u) and
    u·σ(2√(2/π)(u + 0.044715u³)) mapped onto actlab's Φ, silu, mish, gelu and tanh-gelu."""
    sp = _sympy()
    p, q = _prims(), _lifted()

    def is_gelu_tanh_arg(a: Any, u: Any) -> bool:
        r = sp.expand(sp.expand(a * sp.sqrt(sp.pi) / (2 * sp.sqrt(2))) - u)
        c, rest = r.as_coeff_Mul()
        return bool(rest == sp.expand(u**3)) and float(c) == 0.044715

    def lift_mul(node: Any) -> Any:
        if not isinstance(node, sp.Mul):
            return node
        for factor in node.args:
            rest = node / factor
            coeff, u = rest.as_coeff_Mul()
            if not u.has(sp.Symbol):
                continue
            if isinstance(factor, p["sigmoid"]):
                a = factor.args[0]
                if sp.expand(a - u) == 0:
                    return coeff * q["silu"](u)
                if is_gelu_tanh_arg(a, u):
                    return coeff * q["gelu_tanh"](u)
            elif isinstance(factor, sp.tanh) and isinstance(factor.args[0], p["softplus"]):
                if sp.expand(factor.args[0].args[0] - u) == 0:
                    return coeff * q["mish"](u)
            elif isinstance(factor, q["Phi"]) and sp.expand(factor.args[0] - u) == 0:
                return coeff * q["gelu"](u)
        return node

    return expr.replace(lambda n: isinstance(n, sp.Mul), lift_mul)


def _prims() -> dict[str, Any]:
    global _PRIMS
    if _PRIMS is None:
        _PRIMS = _primitives()
    return _PRIMS


def _np_sigmoid(u: Any) -> Any:
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1 / (1 + e), e / (1 + e))


def _np_softplus(u: Any) -> Any:
    return np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))


def _numpy_module() -> dict[str, Any]:
    from scipy import special

    return {
        "sigmoid": _np_sigmoid,
        "softplus": _np_softplus,
        "expm1": np.expm1,
        "log1p": np.log1p,
        "recip": np.reciprocal,
        "erf": special.erf,
        "erfc": special.erfc,
    }


def _mp_module() -> dict[str, Any]:
    import mpmath

    def exp(u: Any) -> Any:
        # past |u| = 10^4, e^u is 2^round(u·log2 e), within a factor 2: far beyond every
        # float's range either way (mpmath's own reduction would need |u|'s digits); the
        # rounding is odd-symmetric, so that e^u·e^-u is still 1 (σ(-x)·e^x for softplus')
        if abs(u) > 1e4:
            return mpmath.ldexp(mpmath.mpf(1), int(mpmath.nint(u / mpmath.log(2))))
        return mpmath.exp(u)

    def sig(u: Any) -> Any:
        e = exp(-abs(u))
        return 1 / (1 + e) if u >= 0 else e / (1 + e)

    def spl(u: Any) -> Any:
        return max(u, 0) + mpmath.log1p(exp(-abs(u)))

    return {
        "exp": exp,
        "sech": lambda u: 2 / (exp(u) + exp(-u)),
        "sigmoid": sig,
        "softplus": spl,
        "expm1": mpmath.expm1,
        "log1p": mpmath.log1p,
        "recip": lambda u: 1 / u,
        "Phi": mpmath.ncdf,
        "Heaviside": lambda u, h=1: mpmath.mpf(1) if u > 0 else (mpmath.mpf(h) if u == 0 else mpmath.mpf(0)),
    }


def stabilize(expr: Any) -> Any:
    """``expr`` with its unstable sub-expressions mapped onto the stable primitives."""
    sp = _sympy()
    p = _prims()
    phi = _lifted()["Phi"]
    u = sp.Wild("u")
    rules = [
        (sp.log(1 + sp.exp(u)), lambda u: p["softplus"](u)),
        (sp.log(p["sigmoid"](u)), lambda u: -p["softplus"](-u)),
        (1 / (1 + sp.exp(-u)), lambda u: p["sigmoid"](u)),
        (1 / (1 + sp.exp(u)), lambda u: p["sigmoid"](-u)),
        (sp.exp(u) / (1 + sp.exp(u)), lambda u: p["sigmoid"](u)),
        (1 - p["sigmoid"](u), lambda u: p["sigmoid"](-u)),
        (sp.exp(u) - 1, lambda u: p["expm1"](u)),
        (p["log1p"](sp.exp(u)), lambda u: p["softplus"](u)),
        (1 - sp.tanh(u) ** 2, lambda u: sp.sech(u) ** 2),
        (1 + sp.tanh(u), lambda u: 2 * p["sigmoid"](2 * u)),
        (1 - sp.tanh(u), lambda u: 2 * p["sigmoid"](-2 * u)),
        (1 + sp.erf(u), lambda u: 2 * phi(sp.sqrt(2) * u)),
        (1 - sp.erf(u), lambda u: 2 * phi(-sp.sqrt(2) * u)),
        (sp.erfc(u), lambda u: 2 * phi(-sp.sqrt(2) * u)),
        (sp.log(1 + u), lambda u: p["log1p"](u)),
    ]
    for _ in range(6):
        before = expr
        expr = sp.powsimp(expr, combine="exp")
        expr = expr.replace(lambda n: isinstance(n, sp.Add), _paired_constants)
        for pattern, make in rules:
            expr = _replace(expr, pattern, make, u)
        if expr == before:
            break
    return expr


def _paired_constants(node: Any) -> Any:
    """c ± c·erf(u) -> 2c·Φ(±√2·u) and c ± c·tanh(u) -> 2c·σ(±2u) inside a sum."""
    sp = _sympy()
    if not isinstance(node, sp.Add):
        return node
    constant = sum((t for t in node.args if t.is_number), sp.Integer(0))
    if constant == 0:
        return node
    for term in node.args:
        k, f = term.as_coeff_Mul()
        if not isinstance(f, (sp.erf, sp.tanh)) or k == 0 or abs(constant) != abs(k):
            continue
        s = 1 if constant == k else -1
        u = f.args[0]
        mapped = (
            2 * constant * _lifted()["Phi"](s * sp.sqrt(2) * u)
            if isinstance(f, sp.erf)
            else 2 * constant * _prims()["sigmoid"](s * 2 * u)
        )
        return node - constant - term + mapped
    return node


def _replace(expr: Any, pattern: Any, make: Callable[[Any], Any], u: Any) -> Any:
    def query(node: Any) -> bool:
        m = node.match(pattern)
        return bool(m) and u in m

    return expr.replace(query, lambda node: make(node.match(pattern)[u]))


def _reciprocal_powers(expr: Any) -> Any:
    """u**-n (n >= 2) as (1/u)**n: 1/(1 + x)² stays finite where (1 + x)² overflows."""
    sp = _sympy()
    recip = _prims()["recip"]

    def is_negative_power(node: Any) -> bool:
        return isinstance(node, sp.Pow) and node.exp.is_Integer and node.exp < -1

    return expr.replace(is_negative_power, lambda node: recip(node.base) ** (-node.exp))


def _right_conventions(expr: Any) -> Any:
    """Heaviside(u) -> 1 at u = 0, sign -> the right piece, DiracDelta -> 0."""
    sp = _sympy()
    expr = expr.replace(sp.DiracDelta, lambda *a: sp.Integer(0))
    expr = expr.replace(sp.Heaviside, lambda u, *rest: sp.Heaviside(u, 1))
    return expr.replace(sp.sign, lambda u: sp.Piecewise((1, u >= 0), (-1, True)))


def _forms(expr: Any, lifted: Any) -> list[Any]:
    """The candidate forms of one order: mapped onto actlab's kernels, stabilized, and
    stabilized over one denominator (each distinct one once), with u**-n as (1/u)**n."""
    sp = _sympy()
    forms = [lifted, stabilize(expr), lift(stabilize(expr))]
    try:
        forms.append(stabilize(sp.together(expr)))
        if sp.count_ops(expr) < 60:
            forms.append(stabilize(_by_pieces(expr)))
    except Exception:  # a transform that cannot handle the expression adds no form
        pass
    forms = [_reciprocal_powers(form) for form in forms]
    seen, out = set(), []
    for form in forms:
        key = sp.srepr(form)
        if key not in seen:
            seen.add(key)
            out.append(form)
    return out


def _far_branch(expr: Any, x: Any, sign: int) -> Any:
    """``expr`` with each Piecewise replaced by its piece that holds as x -> sign·inf."""
    sp = _sympy()

    def branch(node: Any) -> Any:
        for value, cond in node.args:
            try:
                holds = cond.subs(x, sign * sp.oo)
            except Exception:  # a condition SymPy cannot take to infinity
                return node
            if holds == sp.true:
                return value
            if holds != sp.false:
                return node
        return node

    return expr.replace(lambda n: isinstance(n, sp.Piecewise), branch)


def _by_pieces(expr: Any) -> Any:
    """``expr`` as one Piecewise (|u| split at u = 0), each piece over one cancelled
    denominator: 1/(1 + |x|) - x·sign(x)/(1 + |x|)² becomes 1/(1 + x)² for x >= 0."""
    sp = _sympy()
    e = expr.replace(sp.Abs, lambda u: sp.Piecewise((u, u >= 0), (-u, True)))
    # sign(u) times anything that vanishes at u = 0 (its use in a derivative): either side
    e = e.replace(sp.sign, lambda u: sp.Piecewise((1, u >= 0), (-1, True)))
    e = sp.piecewise_fold(e)
    # factored, not expanded: (1 + x)² as a square, whose expansion x² + 2x + 1 overflows
    if not isinstance(e, sp.Piecewise):
        return sp.factor(sp.cancel(e))
    return sp.Piecewise(*[(sp.factor(sp.cancel(value)), cond) for value, cond in e.args])


class _Limits:
    """f, f', f'' at x = ±inf by sympy.limit, once per parameter values (NaN: no limit)."""

    def __init__(self, x: Any, symbols: dict[str, Any], originals: list[Any]) -> None:
        self.x, self.symbols, self.originals = x, symbols, originals
        self.cache: dict[tuple[float, ...], list[tuple[float, float]]] = {}

    def __call__(self, values: tuple[float, ...]) -> list[tuple[float, float]]:
        if values not in self.cache:
            sp = _sympy()
            subs = dict(zip(self.symbols.values(), values))
            table = []
            for e in self.originals:
                pair = []
                for sign in (-1, 1):
                    try:
                        value = sp.limit(_far_branch(e.subs(subs), self.x, sign), self.x, sign * sp.oo)
                        pair.append(
                            float(value)
                            if (value.is_real or value.is_infinite) and value != sp.zoo
                            else math.nan
                        )
                    except Exception:  # no limit SymPy can find
                        pair.append(math.nan)
                table.append((pair[0], pair[1]))
            self.cache[values] = table
        return self.cache[values]


def _parse(name: str, formula: Any, params: dict[str, float]) -> tuple[Any, Any, dict[str, Any]]:
    sp = _sympy()
    x = sp.Symbol("x", real=True)
    symbols = {k: sp.Symbol(k, real=True) for k in params}
    if isinstance(formula, str):
        try:
            expr = sp.sympify(formula, locals={"x": x, **symbols, **_prims()})
        except (sp.SympifyError, SyntaxError, TypeError, TokenError) as exc:
            raise ValueError(f"define {name}: cannot parse the formula {formula!r} ({exc})") from None
    elif isinstance(formula, sp.Basic):
        expr = formula.subs(
            {s: (x if s.name == "x" else symbols.get(s.name, s)) for s in formula.free_symbols}
        )
    else:
        raise TypeError(f"define {name}: the formula must be a string or a SymPy expression, got {formula!r}")
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"define {name}: the formula {formula!r} is not an expression")
    free = {s.name for s in expr.free_symbols}
    extra = sorted(free - {"x", *params})
    if extra:
        raise ValueError(
            f"define {name}: the formula {formula!r} uses {', '.join(extra)}, which is neither x "
            "nor a declared parameter (give each parameter with its default: a=1.0)"
        )
    if "x" not in free:
        raise ValueError(f"define {name}: the formula {formula!r} is not a function of x")
    return x, expr, symbols


def _numpy_fn(x: Any, symbols: dict[str, Any], expr: Any) -> Callable[..., Any]:
    sp = _sympy()
    names = list(symbols)
    fn = sp.lambdify([x, *symbols.values()], expr, modules=[_numpy_module(), _lifted()["numpy"], "numpy"])

    def kernel(v: Any, **params: Any) -> Any:
        with np.errstate(all="ignore"):
            out = fn(v, *(params[n] for n in names))
        return np.broadcast_to(np.asarray(out, dtype=v.dtype), v.shape).copy()

    return kernel


def _mp_fn(x: Any, symbols: dict[str, Any], expr: Any) -> Callable[..., Any]:
    sp = _sympy()
    return sp.lambdify([x, *symbols.values()], expr, modules=[_mp_module(), "mpmath"])


def _reference_of(x: Any, symbols: dict[str, Any], orders: list[Any], limits: _Limits) -> Callable[..., Any]:
    """(f, f', f'') at an mpf x from the stable forms, the precision raised until two
    evaluations agree to 40 digits; the limits at ±inf by SymPy."""
    import mpmath
    from mpmath import mp

    sp = _sympy()
    # a decimal in the formula is that decimal exactly (0.044715 is 44715/10^6)
    exact = [e.replace(lambda n: isinstance(n, sp.Float), lambda n: sp.Rational(str(n))) for e in orders]
    fns = [_mp_fn(x, symbols, e) for e in exact]
    names = list(symbols)

    def limit(k: int, sign: int, values: tuple[Any, ...]) -> Any:
        return mpmath.mpf(limits(values)[k][0 if sign < 0 else 1])

    def one(k: int, v: Any, values: tuple[Any, ...]) -> Any:
        if mpmath.isnan(v):
            return mpmath.nan
        if mpmath.isinf(v):
            return limit(k, 1 if v > 0 else -1, values)
        # terms of size |x|^2 that cancel need twice its digits beyond the working ones
        dps = mp.dps + (3 * int(mpmath.log10(abs(v))) if abs(v) > 1 else 0)
        value = None
        while True:
            try:
                with mp.workdps(dps + 25):
                    better = mpmath.mpf(fns[k](mpmath.mpf(v), *(mpmath.mpf(p) for p in values)))
            except (OverflowError, ValueError, ZeroDivisionError, TypeError):  # mpmath gives up far out
                return limit(k, 1 if v > 0 else -1, values)
            settled = value is not None and (
                value == better or abs(value - better) <= abs(better) * mpmath.mpf(10) ** -40
            )
            if settled and (better != 0 or dps >= 400):  # a zero may be a cancellation not yet resolved
                return +better
            if dps > 1600:
                return +better
            value, dps = better, 2 * dps

    def triple(v: Any, **params: Any) -> tuple[Any, Any, Any]:
        values = tuple(float(params[n]) for n in names)
        return tuple(one(k, v, values) for k in range(3))  # type: ignore[return-value]

    return triple


def _probe_tables(reference: Callable[..., Any], defaults: dict[str, float]) -> tuple[np.ndarray, list[Any]]:
    """Finite float64 probe points and, per order, the reference table there."""
    import mpmath

    from actlab.audit.points import audit_points
    from actlab.audit.references import round_to

    probe = audit_points(np.float64, 300)
    probe = probe[np.isfinite(probe)]
    triples = [reference(mpmath.mpf(float(v)), **defaults) for v in probe]
    tables = []
    for order in range(3):
        exact = [t[order] for t in triples]
        r = np.array([round_to(v, np.float64) for v in exact])
        a = np.abs(r)
        ulp = np.where(a == 0, 5e-324, a - np.nextafter(a, 0))
        with mpmath.mp.workdps(50):
            residual = np.array(
                [
                    float((e - mpmath.mpf(float(ri))) / mpmath.mpf(float(u))) if math.isfinite(ri) else 0.0
                    for e, ri, u in zip(exact, r, ulp)
                ]
            )
        tables.append((r, ulp, residual))
    return probe, tables


#: Past this |x| a non-finite result of a finite x (inf - inf, inf/inf, 0·inf of the
#: overflowing pieces) is replaced by the finite limit at that end.
_FAR = 1e8


def _selected(
    x: Any,
    symbols: dict[str, Any],
    forms: list[Any],
    order: int,
    probe: np.ndarray,
    table: Any,
    limits: _Limits,
    defaults: dict[str, float],
) -> tuple[Callable[..., Any], list[str]]:
    """A kernel that uses, per region of x, the most accurate of ``forms`` there; at ±inf
    the limits."""
    from actlab.audit.measure import errors_in_ulp

    names = list(symbols)
    kernels = [_numpy_fn(x, symbols, f) for f in forms]
    choice = [0] * (len(EDGES) - 1)
    if len(kernels) > 1:
        errs = []
        for candidate in kernels:
            try:
                ours = candidate(probe.copy(), **defaults)
            except Exception:  # a form NumPy cannot evaluate is not chosen
                ours = np.full_like(probe, np.nan)
            errs.append(errors_in_ulp(ours, table))
        for i, (lo, hi) in enumerate(zip(EDGES[:-1], EDGES[1:])):
            inside = (probe >= lo) & (probe < hi)
            if inside.any():
                # the smallest worst error, ties (every form exact on the few probe points
                # there) broken by the smallest mean: a form that flushes some point loses
                scores = [(float(np.max(e[inside])), float(np.mean(e[inside]))) for e in errs]
                choice[i] = min(range(len(scores)), key=scores.__getitem__)
    used = sorted(set(choice))

    def kernel(v: Any, **params: Any) -> Any:
        values = {k: kernels[k](v, **params) for k in used}
        if len(used) == 1:
            out = values[used[0]]
        else:
            conditions = [(v >= lo) & (v < hi) for lo, hi in zip(EDGES[:-1], EDGES[1:])]
            out = np.select(conditions, [values[c] for c in choice], default=np.nan)
        low, high = limits(tuple(float(params[n]) for n in names))[order]
        with np.errstate(invalid="ignore"):
            far = ~np.isfinite(out) & np.isfinite(v) & (np.abs(v) > _FAR)
        out = np.where(far & (v < 0) & math.isfinite(low), low, out)
        out = np.where(far & (v > 0) & math.isfinite(high), high, out)
        out = np.where(v == -math.inf, low, out)
        return np.where(v == math.inf, high, out).astype(v.dtype, copy=False)

    return kernel, [str(forms[k]) for k in used]


def _kinks(
    x: Any, exprs: list[Any], d1: Callable[..., Any], defaults: dict[str, float], symbols: dict[str, Any]
) -> tuple[Any, ...]:
    sp = _sympy()
    from actlab.activations import Kink

    places: set[float] = set()
    subs = {symbols[k]: v for k, v in defaults.items()}
    for expr in exprs:
        args = [a.args[0] for a in expr.atoms(sp.Abs, sp.Heaviside, sp.sign)]
        args += [a.args[0] - a.args[1] for a in expr.atoms(sp.Max, sp.Min) if len(a.args) == 2]
        for pw in expr.atoms(sp.Piecewise):
            args += [c.lhs - c.rhs for _, c in pw.args if isinstance(c, sp.core.relational.Relational)]
        for arg in args:
            try:
                for root in sp.solve(sp.Eq(arg.subs(subs), 0), x):
                    if root.is_real:
                        places.add(float(root))
            except Exception:  # no closed-form root: no kink recorded
                continue
    kinks = []
    for p in sorted(places):
        value = float(d1(np.array([p]), **defaults)[0])
        kinks.append(Kink(p, value, "the right piece"))
    return tuple(kinks)


def define(name: str, formula: Any, **params_and_facts: Any) -> Any:
    """Register the activation ``name`` with f given by ``formula`` (a string or a SymPy
    expression in x and the parameters), and return it.

    Keywords that name a symbol of the formula are its parameters, with their defaults
    (numbers); the others are facts of :class:`actlab.Facts` (summary, use, ...).  Range,
    monotonicity, f'(0)'s bound and the kinks are derived where not given.  ValueError:
    unparsable, not a function of x and its parameters, not differentiable, or a name
    already taken.

    >>> import actlab
    >>> snake = actlab.symbolic.define("snake_demo", "x + sin(a*x)**2/a", a=1.0)
    >>> round(float(snake.derivative(0.0)), 12)
    1.0
    >>> actlab.symbolic.undefine("snake_demo")
    """
    from actlab.activations import Facts, Param, _registry
    from actlab.activations._registry import finite_real
    from actlab.audit.references import register_reference

    sp = _sympy()
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define: the name must be an identifier, got {name!r}")
    if name in _registry._REGISTRY or name in _registry._ALIASES:
        raise ValueError(f"define: {name!r} is already an activation; choose another name")
    fact_names = {f.name for f in dataclasses.fields(Facts)} - {"name", "kind", "params", "family"}
    facts = {k: v for k, v in params_and_facts.items() if k in fact_names}
    params = {k: v for k, v in params_and_facts.items() if k not in fact_names}
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"define {name}: parameter {k} needs a finite number as its default, got {v!r}")
    defaults = {k: float(v) for k, v in params.items()}
    x, expr, symbols = _parse(name, formula, defaults)
    unused = sorted(set(defaults) - {s.name for s in expr.free_symbols})
    if unused:
        raise ValueError(
            f"define {name}: {', '.join(unused)} is not in the formula {formula!r} "
            f"(and not a fact: {', '.join(sorted(fact_names))})"
        )
    d1 = sp.diff(expr, x)
    d2 = sp.diff(d1, x)
    for order, d in ((1, d1), (2, d2)):
        if d.has(sp.Derivative) or d.has(sp.Subs):
            raise ValueError(f"define {name}: SymPy cannot differentiate {formula!r} (order {order}: {d})")
    originals = [_right_conventions(e) for e in (expr, d1, d2)]
    stable = [stabilize(e) for e in originals]
    limits = _Limits(x, symbols, originals)
    reference = _reference_of(x, symbols, stable, limits)
    lifted = [lift(stable[0])]
    for _ in range(2):
        lifted.append(lift(stabilize(_right_conventions(sp.diff(lifted[-1], x)))))
    probe, tables = _probe_tables(reference, defaults)
    kernels, chosen = [], []
    for order in range(3):
        kernel, used = _selected(
            x, symbols, _forms(originals[order], lifted[order]), order, probe, tables[order], limits, defaults
        )
        kernels.append(kernel)
        chosen.append(used)

    grid = np.concatenate([-np.logspace(3, -6, 400), [0.0], np.logspace(-6, 3, 400)])
    with np.errstate(all="ignore"):
        fy, dy = kernels[0](grid, **defaults), kernels[1](grid, **defaults)
    lo = float(np.nanmin(fy))
    hi = float(np.nanmax(fy))
    lim = limits(tuple(defaults.values()))[0]
    lo = min(lo, float(lim[0])) if not math.isnan(float(lim[0])) else lo
    hi = max(hi, float(lim[1])) if not math.isnan(float(lim[1])) else hi
    derived = dict(
        formula=f"f(x) = {sp.latex(expr)}",
        plain_formula=str(expr),
        derivative_formula=str(d1),
        second_derivative_formula=str(d2),
        output_range=(lo, hi),
        monotonic=bool(np.all(dy[np.isfinite(dy)] >= 0) or np.all(dy[np.isfinite(dy)] <= 0)),
        zero_centered=bool(abs(float(kernels[0](np.array([0.0]), **defaults)[0])) < 1e-12),
        max_derivative=float(np.nanmax(np.abs(dy))),
        use=("hidden layer",),
        problems=(),
        reference=f"defined by the formula {formula!s}",
        summary=f"f(x) = {expr} (defined)",
        kinks=_kinks(x, [expr, d1], kernels[1], defaults, symbols),
    )
    derived.update(facts)
    param_facts = tuple(Param(k, v, f"the parameter {k} of {expr}", finite_real) for k, v in defaults.items())

    def forward(v: Any, **p: Any) -> Any:
        return kernels[0](v, **p)

    forward.__module__ = "actlab.defined"
    forward.__doc__ = f"f(x) = {expr}; forms used per region: {'; '.join(chosen[0])}"
    act = _registry.activation(name, params=param_facts, **derived)(forward)
    act.derivative_rule(lambda v, y=None, **p: kernels[1](v, **p))
    act.second_derivative_rule(lambda v, **p: kernels[2](v, **p))
    register_reference(name, reference)
    return _registry.get(name)


def undefine(name: str) -> None:
    """Remove an activation made by :func:`define` (and its reference)."""
    from actlab.activations import _registry
    from actlab.audit.references import register_reference

    act = _registry._REGISTRY.get(name)
    if act is None or act.family != "defined":
        raise ValueError(f"undefine: {name!r} is not an activation made by define")
    del _registry._REGISTRY[name]
    for alias in act.aliases:
        _registry._ALIASES.pop(alias, None)
    register_reference(name, None)
