"""actlab --define NAME=FORMULA: a user-defined activation in compare, plot and report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import actlab
from actlab.cli import main

pytest.importorskip("sympy")

MISH2 = "mish2=x*tanh(log(1 + exp(x)))"


def test_a_defined_activation_trains_in_compare(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    argv = ["--define", MISH2, "compare", "--dataset", "digits", "--activations", "mish2,relu"]
    assert main([*argv, "--epochs", "2", "--seeds", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    rows = rows["results"] if isinstance(rows, dict) else rows
    by_name = {r["activation"]: r for r in rows}
    assert set(by_name) == {"mish2", "relu"}
    assert by_name["mish2"]["error"] is None and by_name["mish2"]["score"] > 0.5
    assert "mish2" not in actlab.names()  # undefined when the command returns


def test_a_defined_activation_is_drawn_and_reported(tmp_path: Path) -> None:
    assert main(["--define", MISH2, "plot", "mish2", "relu", "--out", str(tmp_path / "p.svg")]) == 0
    assert "mish2" in (tmp_path / "p.svg").read_text()
    assert main(["--define", MISH2, "report", "--out", str(tmp_path / "r"), "--experiments", ""]) == 0
    page = (tmp_path / "r" / "index.html").read_text()
    assert "mish2" in page and "tanh" in page


def test_parameters_follow_a_semicolon(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--define", "snake=x + sin(a*x)**2/a;a=2", "show", "snake", "--at", "1"]) == 0
    shown = capsys.readouterr().out
    assert f"{1 + math.sin(2) ** 2 / 2:.9f}" in shown  # f(1) with a = 2, in closed form


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("mish2", "expected NAME=FORMULA"),
        ("relu=x", "already an activation"),
        ("s=x + y", "neither x nor a declared parameter"),
        ("s=x*a;a=one", "expected PARAM=NUMBER"),
        ("s=x +* 2", "s"),
    ],
)
def test_a_bad_definition_is_a_usage_error(
    definition: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--define", definition, "list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("actlab: error: argument --define: ") and message in err
    assert "s" not in actlab.names()
