"""``define`` refuses bad formulas and names with a ValueError that names the problem."""

from __future__ import annotations

import pytest

pytest.importorskip("sympy")

from actlab.symbolic import define, undefine


@pytest.mark.parametrize(("formula", "params", "message"), [
    ("x+*", {}, "cannot parse"),
    ("3", {}, "not a function of x"),
    ("a*x", {}, "uses a, which is neither x nor a declared parameter"),
    ("x*b", {"b": float("nan")}, "finite number"),
    ("floor(x)", {}, "cannot differentiate"),
    ("g(x)", {}, "cannot differentiate"),
])
def test_bad_formula_is_refused(formula: str, params: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        define("refused_demo", formula, **params)


def test_registered_name_is_not_shadowed() -> None:
    with pytest.raises(ValueError, match="'relu' is already an activation"):
        define("relu", "x")


def test_undefine_refuses_a_builtin() -> None:
    with pytest.raises(ValueError, match="not an activation made by define"):
        undefine("relu")
