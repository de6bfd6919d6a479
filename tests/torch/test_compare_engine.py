"""actlab compare --engine torch: the same comparison trained as a PyTorch model of
actlab.torch modules, from the same initial weights, measured the same way."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from actlab.cli import main  # noqa: E402
from actlab.lab.compare import compare  # noqa: E402

SETTINGS = dict(dataset="moons", hidden=(8,), epochs=3, batch_size=16, seed=0)


def test_torch_trains_what_numpy_trains() -> None:
    """Adam with the same defaults on the same batches from the same weights: the two engines
    follow the same path, up to float rounding (the order of torch's sums)."""
    names = ["tanh", "gelu", "maxout", "step"]
    numpy_runs = {r.activation: r for r in compare(activations=names, **SETTINGS)}
    torch_runs = {r.activation: r for r in compare(activations=names, engine="torch", **SETTINGS)}
    for name in ("tanh", "gelu", "maxout"):
        a, b = numpy_runs[name], torch_runs[name]
        assert b.error is None and len(b.runs[0].scores) == 3
        np.testing.assert_allclose(b.final_loss, a.final_loss, rtol=1e-8)
        np.testing.assert_allclose(b.runs[0].scores, a.runs[0].scores, atol=0.01)
        assert b.dead_fraction == a.dead_fraction
        np.testing.assert_allclose(b.grad_ratio, a.grad_ratio, rtol=1e-6)
    assert torch_runs["step"].error is not None and "not trainable" in torch_runs["step"].error


def test_unknown_engine_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="unknown engine 'jaxx'"):
        compare(activations=["relu"], engine="jaxx", **SETTINGS)


def test_cli_engine_torch_writes_the_same_json(tmp_path: Path) -> None:
    out = tmp_path / "torch.json"
    assert main(["compare", "--dataset", "moons", "--activations", "relu,silu", "--hidden", "8",
                 "--epochs", "2", "--engine", "torch", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert [r["activation"] for r in payload["results"]] and payload["dataset"] == "moons"
    assert {r["activation"] for r in payload["results"]} == {"relu", "silu"}
