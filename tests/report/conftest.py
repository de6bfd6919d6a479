"""A fake experiment for the report tests, so they don't depend on the real ones' timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from actlab import lab
from actlab.report import page

NASTY_TITLE = "Fake <script>alert('title')</script> & co"
NASTY_CELL = "<script>alert(1)</script> & <b>bold</b>"


def fake_run(*, seed: int = 0, quick: bool = False) -> lab.ExperimentResult:
    return lab.ExperimentResult(
        name="fake-experiment",
        title=NASTY_TITLE,
        claim="Tiny <networks> & big \"claims\"",
        columns=["activation <col>", "score & more", "none"],
        rows=[[NASTY_CELL, 0.123456789, None], ["relu", 3, float("nan")]],
        data={"x": np.arange(3.0)},
        findings=["found <i>this</i> & that"],
        settings={"seed": seed, "quick": quick, "note": "<img src=x onerror=alert(1)>"},
    )


def fake_plot(result: Any, out_dir: Path) -> list[Path]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2), dpi=50)
    FigureCanvasAgg(fig)
    fig.add_subplot(1, 1, 1).plot(result.data["x"], result.data["x"] ** 2)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{result.name}.png", out_dir / f"{result.name}.svg"]
    for p in paths:
        fig.savefig(p)
    return paths


def broken_run(*, seed: int = 0, quick: bool = False) -> lab.ExperimentResult:
    raise RuntimeError("it broke <badly> & loudly")


@pytest.fixture
def fake_experiments(monkeypatch: pytest.MonkeyPatch) -> dict[str, lab.Experiment]:
    """The experiment registry holding only the fake experiment, and a fake plotter."""
    registry = {
        "fake-experiment": lab.Experiment(
            name="fake-experiment", title=NASTY_TITLE, claim="a claim", run=fake_run
        ),
    }
    monkeypatch.setattr(lab, "EXPERIMENTS", registry)
    monkeypatch.setattr(page, "_plot_experiment", fake_plot)
    return registry
