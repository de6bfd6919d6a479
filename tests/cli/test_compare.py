"""actlab compare: a quick run, JSON, best-first order and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actlab.cli import main
from actlab.lab.compare import compare, default_activations


def test_default_activations_from_registry() -> None:
    names = default_activations()
    assert {"sigmoid", "tanh", "arctan", "relu", "leaky_relu", "selu", "maxout", "step"} <= set(names)
    assert "softmax" not in names and "identity" not in names


def test_compare_results_best_first() -> None:
    results = compare(dataset="moons", activations=["tanh", "relu", "step"], hidden=(8,), epochs=3, seeds=2)
    assert results[-1].activation == "step" and "zero" in (results[-1].error or "")
    trained = results[:-1]
    assert trained[0].score >= trained[1].score
    for r in trained:
        assert len(r.runs) == 2 and len(r.runs[0].scores) == 3
        assert 0 <= r.dead_fraction <= 1 and r.grad_ratio > 0 and r.time_per_epoch > 0


def test_regression_uses_r2() -> None:
    (r,) = compare(dataset="diabetes", activations=["tanh"], hidden=(8,), epochs=2, target=0.0)
    assert r.metric == "r2"


def test_cli_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "not-yet" / "c.json"  # the missing folder is made
    rc = main(["compare", "--dataset", "iris", "--activations", "relu,tanh", "--hidden", "8",
               "--epochs", "2", "--seeds", "2", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "relu" in text and "tanh" in text and "±" in text
    payload = json.loads(out.read_text())
    assert payload["dataset"] == "iris" and len(payload["results"]) == 2
    assert {"score", "final_loss", "epochs_to_target", "time_per_epoch", "dead_fraction", "grad_ratio"} <= set(
        payload["results"][0]
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--dataset", "mnist"],
        ["--activations", "relux"],
        ["--activations", ","],
        ["--hidden", "64,x"],
        ["--hidden", "0"],
        ["--epochs", "0"],
        ["--epochs", "ten"],
        ["--lr", "-0.1"],
        ["--lr", "nan"],
        ["--batch-size", "0"],
        ["--seeds", "0"],
        ["--target", "2"],
    ],
)
def test_bad_values_exit_2_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:")
