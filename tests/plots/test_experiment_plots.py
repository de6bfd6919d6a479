"""Each experiment's figure, written as PNG and SVG and checked as an image."""

from __future__ import annotations

import math
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


#: Legend text smaller than this (points) is hard to read at the figures' 100 dpi.
MIN_LEGEND_FONT = 9.0

#: Every hidden activation the vanishing-gradient figure draws by default, tanh beside arctan.
SEVEN = ("sigmoid", "tanh", "arctan", "relu", "leaky_relu", "selu", "maxout")


def _legends(fig: object) -> list[object]:
    found = list(fig.legends)  # type: ignore[attr-defined]
    for ax in fig.axes:  # type: ignore[attr-defined]
        if ax.get_legend() is not None:
            found.append(ax.get_legend())
    return found


@pytest.mark.parametrize("name", lab.experiment_names())
def test_every_legend_is_readable(name: str) -> None:
    fig = experiment_figure(quick(name))
    legends = _legends(fig)
    assert legends, name
    for legend in legends:
        for text in legend.get_texts():
            assert text.get_fontsize() >= MIN_LEGEND_FONT, (name, text.get_text(), text.get_fontsize())


def test_vanishing_gradient_lines_differ_and_are_labelled_at_their_ends() -> None:
    from matplotlib.text import Text

    r = lab.run_experiment("vanishing-gradient", seed=0, quick=True, activations=SEVEN, depths=(4, 6), batches=2)
    fig = experiment_figure(r)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.get_lines()]
    # Two depths, two stages, and a zoom on the lines that crowd together at each stage.
    assert len(panels) == 8 and sum("zoom" in ax.get_title() for ax in panels) == 4
    for ax in panels:
        lines = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_label() in SEVEN}
        assert set(lines) == set(SEVEN)
        assert len({(ln.get_marker(), ln.get_linestyle()) for ln in lines.values()}) == len(SEVEN)
        # Where two lines coincide (tanh and arctan), the one drawn below is the thicker,
        # with the larger marker, so it shows around the one above.
        for a in lines.values():
            for b in lines.values():
                if a.get_zorder() < b.get_zorder():
                    assert a.get_linewidth() > b.get_linewidth(), (a.get_label(), b.get_label())
                    assert a.get_markersize() > b.get_markersize(), (a.get_label(), b.get_label())
        # Each line is named at its end, and the names do not overlap one another.
        labels = {t.get_text(): t for t in ax.texts if t.get_text() in SEVEN}
        lo, hi = ax.get_ylim()
        shown = {k for k, ln in lines.items() if lo <= ln.get_ydata()[-1] <= hi}
        assert set(labels) == shown and len(shown) >= 6
        if "zoom" not in ax.get_title():
            assert shown == set(SEVEN)
        else:  # the zoom spreads the crowded lines over a good part of its height
            ys = np.log10(np.concatenate([lines[k].get_ydata() for k in SEVEN if k != "sigmoid"]))
            assert float(np.ptp(ys)) >= 0.5 * (math.log10(hi) - math.log10(lo))
        # The text alone, without the leader line an annotation's extent includes.
        boxes = {k: Text.get_window_extent(t, renderer) for k, t in labels.items()}
        axes_box = ax.get_window_extent(renderer)
        for k, box in boxes.items():
            assert axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1 + 1, k
            assert axes_box.y0 <= box.y0 and box.y1 <= axes_box.y1 + 1, k
            for j, other in boxes.items():
                assert j == k or not box.overlaps(other), (k, j)
        # The labels stand right of the last layer, where no line is drawn.
        last = max(float(np.max(ln.get_xdata())) for ln in lines.values())
        right_end = ax.transData.transform((last, 1.0))[0]
        assert all(box.x0 > right_end for box in boxes.values())


def test_softmax_legend_covers_no_bar() -> None:
    # The quick configuration proper: its low-confidence bins have tall bars.
    fig = experiment_figure(lab.run_experiment("softmax", seed=0, quick=True))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax_rel = fig.axes[0]
    bars = [p for p in ax_rel.patches if p.get_height() > 0]
    assert bars
    legends = _legends(fig)
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for bar in bars:
            assert not box.overlaps(bar.get_window_extent(renderer)), (bar.get_x(), bar.get_height())
        for text in ax_rel.texts:  # the per-bin counts
            assert not box.overlaps(text.get_window_extent(renderer)), text.get_text()


def test_perceptron_legends_are_outside_every_panel() -> None:
    fig = experiment_figure(quick("perceptron"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = _legends(fig)
    assert legends
    labels = {t.get_text() for legend in legends for t in legend.get_texts()}
    assert {"class 0", "class 1"} <= labels
    assert all(any(label.startswith(m) for label in labels) for m in quick("perceptron").data["methods"])
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()


@pytest.mark.parametrize("name", lab.experiment_names())
def test_every_legend_lies_inside_its_figure(name: str) -> None:
    # vanishing-gradient with one depth: seven names in a figure one panel wide.
    result = (lab.run_experiment(name, seed=0, quick=True, activations=SEVEN, depths=(4,), batches=2)
              if name == "vanishing-gradient" else quick(name))
    fig = experiment_figure(result)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for legend in _legends(fig):
        box = legend.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, (name, box)
    for ax in fig.axes:
        title = ax.title.get_window_extent(renderer)
        assert page.x0 <= title.x0 and title.x1 <= page.x1, (name, ax.get_title())


def test_dead_units_panels_give_each_test_accuracy() -> None:
    # A unit count of 0 can sit beside a failed run, so each panel says how well each trained.
    r = quick("dead-units")
    fig = experiment_figure(r)
    titles = [ax.get_title() for ax in fig.axes if ax.get_lines()]
    assert len(titles) == len(r.settings["lrs"])
    for title, lr in zip(titles, r.settings["lrs"]):
        for name, row_lr, *_, acc in r.rows:
            if row_lr == lr:
                assert f"{name} {acc:.3g}" in title, (name, title)
