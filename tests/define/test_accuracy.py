"""Textbook formulas given to ``define`` are within 4 ULP (float32) and 8 ULP (float64)
for f and f' over the whole range, measured by the audit against mpmath."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("sympy")

import actlab.audit
from actlab.audit.measure import describe_over
from actlab.symbolic import define, undefine

FORMULAS = {
    "mish": "x*tanh(log(1+exp(x)))",
    "silu": "x/(1+exp(-x))",
    "softplus": "log(1+exp(x))",
    "gelu": "x*(1+erf(x/sqrt(2)))/2",
    "gelu_tanh": "x/2*(1+tanh(sqrt(2/pi)*(x+0.044715*x**3)))",
    "elu": "Piecewise((x, x > 0), (exp(x)-1, True))",
    "log_sigmoid": "-log(1+exp(-x))",
    "softsign": "x/(1+Abs(x))",
}

BOUND = {"float32": 4.0, "float64": 8.0}


@pytest.fixture(scope="module", params=list(FORMULAS))
def audited(request: pytest.FixtureRequest) -> Iterator[actlab.audit.AuditResult]:
    name = f"textbook_{request.param}"
    define(name, FORMULAS[request.param])
    try:
        yield actlab.audit.audit(name, size=400)
    finally:
        undefine(name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("order", [0, 1])
def test_textbook_formula_within_bound(audited: actlab.audit.AuditResult, order: int, dtype: str) -> None:
    r = audited.result(order, dtype)
    assert r is not None
    assert r.nan_ok
    assert r.worst_ulp <= BOUND[dtype], f"{audited.target} {r.label} {dtype}: {describe_over(r)}"


def test_infinite_inputs_give_the_limits() -> None:
    define("textbook_softsign_limits", FORMULAS["softsign"])
    try:
        act = actlab.get("textbook_softsign_limits")
        x = np.array([-math.inf, math.inf, -np.finfo(np.float64).max, np.finfo(np.float64).max])
        assert act(x).tolist() == [-1.0, 1.0, -1.0, 1.0]
        assert act.derivative(x).tolist() == [0.0, 0.0, 0.0, 0.0]
    finally:
        undefine("textbook_softsign_limits")


def test_out_of_bound_formula_is_reported_with_where_and_how_much() -> None:
    # e^x - 1 - x cancels near 0 (f ~ x²/2) in every form: the audit must say so.
    define("textbook_cancelling", "exp(x) - 1 - x")
    try:
        result = actlab.audit.audit("textbook_cancelling", dtypes=("float64",), size=200)
    finally:
        undefine("textbook_cancelling")
    r = result.result(0, "float64")
    assert r is not None and not result.within
    assert r.worst_ulp > 8 and r.over > 0
    assert abs(r.worst_x) < 1e-3
    assert any(g.lo <= r.worst_x <= g.hi for g in r.ranges)
    text = describe_over(r)
    assert "worst" in text and "ULP" in text
    assert "OVER THE BOUNDS" in result.table()
