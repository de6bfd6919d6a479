"""The gallery: files written, sizes, not blank, one panel per function, read from the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import actlab
from actlab.activations import _registry
from actlab.cli import main
from actlab.plots.gallery import curves, gallery_figure, gallery_pixel_size, plot_function, plot_gallery


def _image(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    return imread(path)


def test_png_has_the_expected_size_and_is_not_blank(tmp_path: Path) -> None:
    path = plot_gallery(out=tmp_path / "gallery.png")
    assert path == tmp_path / "gallery.png" and path.stat().st_size > 10_000
    img = _image(path)
    width, height = gallery_pixel_size(len(actlab.names()))
    assert img.shape[:2] == (height, width)
    rgb = img[..., :3]
    assert rgb.std() > 0.05
    colours = np.unique((rgb.reshape(-1, 3) * 255).round().astype(np.uint8), axis=0)
    assert len(colours) > 50  # lines, text, grid, markers: not one flat colour
    # The three curve colours are all drawn (allowing for anti-aliasing).
    for hex_colour in ("#1f77b4", "#d62728", "#2ca02c"):
        target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
        assert (np.abs(rgb - target).max(axis=-1) < 0.03).sum() > 500, hex_colour


def test_svg_by_suffix(tmp_path: Path) -> None:
    path = plot_gallery(["relu", "logistic"], out=tmp_path / "two.SVG")
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text


def test_bad_suffix_and_unknown_name_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="suffix"):
        plot_gallery(["relu"], out=tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="did you mean 'relu'"):
        plot_gallery(["rleu"], out=tmp_path / "g.png")
    assert not list(tmp_path.iterdir())


def test_one_panel_per_name_aliases_resolved_once() -> None:
    fig = gallery_figure(["sigmoid", "logistic", "relu", "softmax", "maxout"])
    drawn = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title(loc="left").split("\n")[0] for ax in drawn] == [
        "sigmoid", "relu", "softmax (vector)", "maxout (vector)"
    ]
    assert gallery_pixel_size(4) == (1600, 365)
    assert len(gallery_figure().axes) >= len(actlab.names())
    assert len([ax for ax in gallery_figure().axes if ax.axison]) == len(actlab.names())


@pytest.mark.parametrize("name", actlab.names())
def test_curves_are_finite_and_kinks_marked(name: str) -> None:
    c = curves(name)
    assert np.isfinite(c.f).all() and np.isfinite(c.d1).all()
    assert c.x[0] <= -5 and c.x[-1] >= 5 and 0.0 in c.x
    act = actlab.get(name)
    if act.elementwise:
        assert [k[0] for k in c.kinks] == [k.x for k in act.kinks]
        assert [k[2] for k in c.kinks] == [k.derivative for k in act.kinks]


def test_vector_slices_are_the_known_scalar_functions() -> None:
    sm, ls, mx = curves("softmax"), curves("log_softmax"), curves("maxout")
    np.testing.assert_allclose(sm.f, actlab.sigmoid(sm.x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sm.d1, actlab.get("sigmoid").derivative(sm.x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ls.f, -np.logaddexp(0.0, -ls.x), rtol=1e-12)
    np.testing.assert_array_equal(mx.f, actlab.relu(mx.x))
    # maxout's slice has relu's kink, found from its Jacobian: the first maximum wins at 0.
    assert mx.kinks == ((0.0, 0.0, 1.0),)
    # f'' by central differences matches sigmoid'' away from nothing in particular.
    np.testing.assert_allclose(sm.d2, actlab.get("sigmoid").second_derivative(sm.x), atol=1e-4)


def test_a_new_activation_gets_a_panel_with_no_other_edit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    monkeypatch.setattr(_registry, "_ALIASES", dict(_registry._ALIASES))

    @_registry.activation(
        "relu6_test",
        formula=r"f(x) = \min(\max(x, 0), 6)",
        plain_formula="min(max(x, 0), 6)",
        derivative_formula=r"f'(x) = [0 \le x < 6]",
        output_range=(0.0, 6.0),
        monotonic=True,
        zero_centered=False,
        max_derivative=1.0,
        use=("hidden layer",),
        problems=(),
        reference="test",
        summary="test",
        kinks=(_registry.Kink(0.0, 1.0), _registry.Kink(6.0, 0.0)),
    )
    def relu6_test(x: np.ndarray) -> np.ndarray:
        return np.clip(x, 0.0, 6.0)

    @relu6_test.derivative_rule
    def _d(x: np.ndarray, y: object) -> np.ndarray:
        return ((x >= 0) & (x < 6)).astype(x.dtype)

    fig = gallery_figure()
    titles = [ax.get_title(loc="left").split("\n")[0] for ax in fig.axes if ax.axison]
    assert titles[-1] == "relu6_test" and len(titles) == len(actlab.names())
    c = curves("relu6_test")
    assert c.x[-1] >= 7.0 and 6.0 in c.x  # the range widens to show every kink
    assert c.d2 is None


def test_cli_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "g.png"
    assert main(["plot", "relu", "tanh", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert _image(out).shape[:2] == gallery_pixel_size(2)[::-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["plot", "rleu"], "did you mean 'relu'"), (["plot", "relu", "--out", "g.pdf"], "suffix")],
)
def test_cli_plot_usage_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def _panel_lines(ax: object) -> dict[str, object]:
    """The f, f' and f'' lines of one panel, by the start of their label."""
    lines = {}
    for line in ax.get_lines():  # type: ignore[attr-defined]
        label = line.get_label()
        for key in ("f''(x)", "f'(x)", "f(x)"):
            if label.startswith(key):
                lines.setdefault(key, line)
                break
    return lines


def test_every_panel_has_axis_labels() -> None:
    fig = gallery_figure()
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == len(actlab.names())
    for ax in drawn:
        assert ax.get_xlabel() == "x", ax.get_title()
        ylabel = ax.get_ylabel()
        assert "f(x)" in ylabel and "f'(x)" in ylabel, (ax.get_title(), ylabel)
        if "f''(x)" in _panel_lines(ax):
            assert "f''(x)" in ylabel
    own = plot_function("relu")
    assert own.get_xlabel() == "x" and "f'(x)" in own.get_ylabel()


@pytest.mark.parametrize("name", actlab.names())
def test_coinciding_curves_are_layered_thick_solid_under_thin_dashed(name: str) -> None:
    fig = gallery_figure([name])
    (ax,) = [ax for ax in fig.axes if ax.axison]
    lines = list(_panel_lines(ax).values())  # f, f', f'' (those the function has)
    assert [ln.get_label()[:2] for ln in lines][:2] == ["f(", "f'"]
    # Each later curve is drawn above the one before and thinner, in another line style,
    # so where two curves coincide the lower one shows on both sides and between dashes.
    for below, above in zip(lines, lines[1:]):
        assert above.get_zorder() > below.get_zorder(), (below.get_label(), above.get_label())
        assert below.get_linewidth() >= above.get_linewidth() + 0.6, (below.get_label(), above.get_label())
    assert len({ln.get_linestyle() for ln in lines}) == len(lines)
    assert lines[0].get_linestyle() == "-"
    # The shared legend shows the same styles as the panels.
    legend = {h.get_label(): h for h in fig.legends[0].legend_handles}
    for ln in lines:
        key = ln.get_label().split(" ")[0]
        assert legend[key].get_linestyle() == ln.get_linestyle()
        assert legend[key].get_linewidth() == ln.get_linewidth()


def _colour_pixels(ax: object, hex_colour: str, x: tuple[float, float], y: tuple[float, float]) -> int:
    """Pixels of about ``hex_colour`` inside the data rectangle x × y of the drawn ``ax``."""
    fig = ax.figure  # type: ignore[attr-defined]
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float) / 255
    (x0, y0), (x1, y1) = ax.transData.transform([(x[0], y[0]), (x[1], y[1])])  # type: ignore[attr-defined]
    h = img.shape[0]
    region = img[int(h - y1):int(h - y0), int(x0):int(x1)]
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return int((np.abs(region - target).max(axis=-1) < 0.15).sum())


def test_step_f_shows_under_its_derivatives_where_all_three_are_zero() -> None:
    from actlab.plots.gallery import COLOURS

    ax = plot_function("step")
    counts = {k: _colour_pixels(ax, COLOURS[k], (-4.5, -0.5), (-0.06, 0.06)) for k in ("f", "d1", "d2")}
    assert min(counts.values()) >= 40, counts  # the old drawing showed no pixel of f there
