"""Each experiment's figure, written as PNG and SVG and checked as an image."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from actlab import lab
from actlab.lab import ExperimentResult
from actlab.plots.experiments import DPI, DRAWERS, experiment_figure, plot_experiment

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# Smaller still than the quick configuration: the figures are drawn the same way, and the
# report's own tests draw the quick ones.  Two depths and two learning rates keep two panels.
TINY: dict[str, dict[str, object]] = {
    "vanishing-gradient": {"activations": ("sigmoid", "relu", "selu"), "depths": (4, 6), "batches": 2},
    "self-normalization": {"layers": 20, "width": 64, "samples": 64},
    "perceptron": {"n": 40, "epochs": 5, "grid": 30},
    "dead-units": {"hidden": (16,), "epochs": 2, "lrs": (0.001, 0.05)},
    "saturation": {"hidden": (16,), "epochs": 2},
    "softmax": {"hidden": (16,), "epochs": 2},
}


@cache
def quick(name: str) -> ExperimentResult:
    return lab.run_experiment(name, seed=0, quick=True, **TINY.get(name, {}))


def test_every_experiment_has_a_drawing() -> None:
    assert set(DRAWERS) == set(lab.experiment_names())


@pytest.mark.parametrize("name", lab.experiment_names())
def test_figure_files(name: str, tmp_path: Path) -> None:
    import matplotlib.image

    result = quick(name)
    fig = experiment_figure(result)
    width, height = (round(v * DPI) for v in fig.get_size_inches())
    paths = plot_experiment(result, tmp_path / "out")
    assert [p.name for p in paths] == [f"{name}.png", f"{name}.svg"]
    png, svg = paths
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    img = matplotlib.image.imread(png)
    assert img.shape[:2] == (height, width)
    assert 400 <= width <= 2400 and 300 <= height <= 1600
    rgb = img[..., :3].reshape(-1, 3)
    assert float(rgb.std()) > 0.05  # not blank
    colours = np.unique(np.round(rgb * 255).astype(np.uint8), axis=0)
    assert len(colours) > 20  # lines in several colours, text, fills
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "</svg>" in text


def test_unknown_experiment_has_no_figure() -> None:
    bad = ExperimentResult(name="nosuch", title="t", claim="c", columns=["a"], rows=[["x"]])
    with pytest.raises(ValueError, match="nosuch"):
        experiment_figure(bad)
