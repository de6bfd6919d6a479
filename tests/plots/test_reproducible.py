"""The same figure, saved twice, gives the same bytes (PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

from actlab import lab
from actlab.plots.experiments import plot_experiment
from actlab.plots.gallery import plot_gallery


def test_gallery_svg_and_png_are_byte_identical(tmp_path: Path) -> None:
    for suffix in (".svg", ".png"):
        a = plot_gallery(["relu", "tanh", "softmax"], out=tmp_path / f"a{suffix}")
        b = plot_gallery(["relu", "tanh", "softmax"], out=tmp_path / f"b{suffix}")
        assert a.read_bytes() == b.read_bytes(), suffix
    assert "clip-path" in (tmp_path / "a.svg").read_text(encoding="utf-8")  # ids that used to be random


def test_experiment_figures_are_byte_identical(tmp_path: Path) -> None:
    r = lab.run_experiment("self-normalization", quick=True, layers=5, width=16, samples=16)
    first = plot_experiment(r, tmp_path / "one")
    second = plot_experiment(r, tmp_path / "two")
    for p, q in zip(first, second):
        assert p.read_bytes() == q.read_bytes(), p.name
