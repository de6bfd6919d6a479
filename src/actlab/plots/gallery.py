"""The gallery: each activation with its first and second derivative on one panel.

Everything is read from the registry: :func:`actlab.names` gives the panels and each
activation's facts give the title, the kinks and the x range, so registering a new
activation adds a panel with no edit here.

Elementwise functions are drawn as they are.  A vector function (softmax, log_softmax,
maxout) has no scalar graph, so its panel shows the two-input slice
``x -> f([x, 0])[0]``: softmax's slice is the sigmoid, log_softmax's is -softplus(-x) and
maxout's (over the pair (x, 0)) is relu.  The slice's first derivative is the Jacobian's
entry ``J[0, 0]``; its second derivative is taken by central differences of that entry.
The panel title says so.

Lines are broken where a curve jumps (relu', the step function), and each kink is marked
with the value actlab chooses there (the registry's :class:`~actlab.Kink` facts).

Matplotlib is imported only when a plot is drawn, and only its object-oriented API with
the Agg canvas is used, so nothing here touches pyplot's global state or backend.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

import actlab
from actlab.activations import Activation

from ._save import save_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "COLUMNS",
    "DPI",
    "PANEL_SIZE",
    "SUFFIXES",
    "Curves",
    "curves",
    "gallery_figure",
    "gallery_pixel_size",
    "plot_function",
    "plot_gallery",
]

#: Panels per row of the gallery (fewer when fewer functions are drawn).
COLUMNS = 4
#: The size of one panel in inches, and the resolution of PNG output.
PANEL_SIZE = (4.0, 3.2)
DPI = 100
#: The height, in inches, of the band above the panels that holds the legend.
LEGEND_BAND = 0.45
#: The file types :func:`plot_gallery` writes, chosen by the output's suffix.
SUFFIXES = (".png", ".svg")

COLOURS = {"f": "#1f77b4", "d1": "#d62728", "d2": "#2ca02c", "kink": "#111111"}
#: How f, f' and f'' are drawn.  Curves often coincide (step's three for x < 0, selu's f'
#: and f'' for x < 0, relu's left half), so each is drawn above the one before, thinner and
#: in another line style: the one below shows on both sides of it and between its dashes.
STYLES: dict[str, dict[str, Any]] = {
    "f": {"color": COLOURS["f"], "linewidth": 3.4, "linestyle": "-", "zorder": 2.0},
    "d1": {"color": COLOURS["d1"], "linewidth": 2.3, "linestyle": "--", "zorder": 2.1},
    "d2": {"color": COLOURS["d2"], "linewidth": 1.3, "linestyle": "-.", "zorder": 2.2},
}
_HALF_WIDTH = 5.0  # x runs over [-5, 5], widened to show every kink with a margin
_STEPS_PER_UNIT = 100


@dataclass(frozen=True)
class Curves:
    """What one panel draws: f, f' and f'' sampled on ``x``, and the kinks to mark.

    ``kinks`` holds (x, f(x), chosen f'(x)) for every point where the function is not
    differentiable.  ``title`` names the function; ``subtitle`` says what is drawn (the
    plain formula, or for a vector function which slice).
    """

    name: str
    title: str
    subtitle: str
    x: NDArray[np.float64]
    f: NDArray[np.float64]
    d1: NDArray[np.float64]
    d2: NDArray[np.float64] | None
    kinks: tuple[tuple[float, float, float], ...]
    numerical_d2: bool = False


def _grid(act: Activation) -> NDArray[np.float64]:
    """Sample points: a symmetric grid holding 0 and every kink exactly."""
    kink_xs = [k.x for k in act.kinks if math.isfinite(k.x)]
    lo = min([-_HALF_WIDTH, *(x - 1.0 for x in kink_xs)])
    hi = max([_HALF_WIDTH, *(x + 1.0 for x in kink_xs)])
    half = max(-lo, hi)
    n = int(round(half * _STEPS_PER_UNIT))
    x = np.arange(-n, n + 1, dtype=np.float64) / _STEPS_PER_UNIT
    return np.union1d(x, np.array(kink_xs, dtype=np.float64))


def _slice_input(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The batch of two-input vectors [x, 0] that a vector function's slice is taken on."""
    return np.stack([x, np.zeros_like(x)], axis=-1)


def _jumps(y: NDArray[np.float64]) -> NDArray[np.bool_]:
    """True between neighbours where a sampled curve jumps rather than moves smoothly.

    On the grid's step of 0.01 a smooth curve moves by a small part of its range; a jump
    (relu' at 0, the step function) moves by a large part of it.
    """
    finite = y[np.isfinite(y)]
    if finite.size < 2:
        return np.zeros(max(y.size - 1, 0), dtype=bool)
    span = float(finite.max() - finite.min())
    threshold = max(0.2 * span, 1e-9 * (1.0 + float(np.abs(finite).max())))
    with np.errstate(invalid="ignore"):
        return np.abs(np.diff(y)) > threshold


def _central_difference(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """dy/dx by central differences, not across jumps of y (one-sided at the ends of a piece)."""
    out = np.full_like(y, np.nan)
    cuts = np.flatnonzero(_jumps(y)) + 1
    for piece in np.split(np.arange(y.size), cuts):
        if piece.size >= 2:
            out[piece] = np.gradient(y[piece], x[piece])
    return out


def curves(name_or_act: str | Activation) -> Curves:
    """Sample f, f' and f'' of one activation (a vector one on its two-input slice)."""
    act = actlab.get(name_or_act) if isinstance(name_or_act, str) else name_or_act
    x = _grid(act)
    if act.elementwise:
        f = np.asarray(act(x), dtype=np.float64)
        d1 = np.asarray(act.derivative(x), dtype=np.float64)
        try:
            d2: NDArray[np.float64] | None = np.asarray(act.second_derivative(x), dtype=np.float64)
        except ValueError:  # an elementwise function without a second-derivative rule
            d2 = None
        kinks = tuple(
            (k.x, float(act(np.float64(k.x))), k.derivative) for k in act.kinks if math.isfinite(k.x)
        )
        return Curves(
            name=act.name,
            title=act.name,
            subtitle=act.plain_formula,
            x=x,
            f=f,
            d1=d1,
            d2=d2,
            kinks=kinks,
        )
    pairs = _slice_input(x)
    f = np.asarray(act(pairs), dtype=np.float64)[..., 0]
    d1 = np.asarray(act.jacobian(pairs), dtype=np.float64)[..., 0, 0]
    d2 = _central_difference(x, d1)
    # The slice's kinks are where its derivative jumps; mark the side the grid point at
    # the jump belongs to, i.e. the value actlab computes there.
    jumps: list[tuple[float, float, float]] = []
    for i in np.flatnonzero(_jumps(d1)):
        j = i if abs(x[i]) < abs(x[i + 1]) else i + 1  # the rounder of the two points
        jumps.append((float(x[j]), float(f[j]), float(d1[j])))
    return Curves(
        name=act.name,
        title=f"{act.name} (vector)",
        subtitle="slice f([x, 0])₀, f' = ∂f₀/∂x₀, f'' numerical",
        x=x,
        f=f,
        d1=d1,
        d2=d2,
        kinks=tuple(jumps),
        numerical_d2=True,
    )


def _broken(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[Any], NDArray[Any]]:
    """x and y with a NaN inserted at every jump, so the line is drawn in pieces."""
    at = np.flatnonzero(_jumps(y)) + 1
    return np.insert(x, at, np.nan), np.insert(y, at, np.nan)


def _format_value(v: float) -> str:
    return f"{v:.4g}"


def plot_function(name_or_act: str | Activation, ax: Axes | None = None, *, legend: bool = True) -> Axes:
    """Draw one activation with f, f' and f'' on ``ax`` (a new figure's axes if None).

    Kinks get a black dot on f' at the derivative actlab chooses there, labelled with its
    value, and a small dot on f at f(kink).
    """
    c = curves(name_or_act)
    own_figure = ax is None
    if ax is None:
        fig = _new_figure((PANEL_SIZE[0], PANEL_SIZE[1] + LEGEND_BAND))
        fig.subplots_adjust(left=0.15, right=0.97, top=0.84, bottom=0.27)
        ax = fig.add_subplot(1, 1, 1)
    ax.axhline(0.0, color="#999999", linewidth=0.6, zorder=0)
    ax.axvline(0.0, color="#999999", linewidth=0.6, zorder=0)
    ax.plot(*_broken(c.x, c.f), **STYLES["f"], label="f(x)")
    ax.plot(*_broken(c.x, c.d1), **STYLES["d1"], label="f'(x)")
    if c.d2 is not None:
        ax.plot(
            *_broken(c.x, c.d2), **STYLES["d2"], label="f''(x)" + (" (numerical)" if c.numerical_d2 else "")
        )
    for i, (kx, fx, dx) in enumerate(c.kinks):
        ax.plot([kx], [fx], "o", color=COLOURS["f"], markersize=4.5, zorder=4)
        ax.plot(
            [kx],
            [dx],
            "o",
            color=COLOURS["kink"],
            markersize=5.5,
            zorder=5,
            label="f' chosen at a kink" if i == 0 else None,
        )
    if c.kinks:
        # In the upper-left corner, which rising curves leave empty, not on the lines.
        ax.text(
            0.03,
            0.96,
            "\n".join(f"kink: f'({kx:g}) = {_format_value(dx)}" for kx, _, dx in c.kinks),
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            color=COLOURS["kink"],
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#cccccc", "alpha": 0.9},
            zorder=6,
        )
    ax.set_xlim(float(c.x[0]), float(c.x[-1]))
    _set_ylim(ax, c)
    ax.set_title(f"{c.title}\n{c.subtitle}", fontsize=9.5, loc="left")
    ax.set_xlabel("x", fontsize=8.5, labelpad=1)
    ax.set_ylabel("f(x), f'(x)" + (", f''(x)" if c.d2 is not None else ""), fontsize=8.5, labelpad=2)
    ax.tick_params(labelsize=8)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    if legend and own_figure:  # below the axes, where it hides no curve
        ax.legend(
            fontsize=7.5,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.15),
            ncol=4,
            frameon=False,
            handlelength=1.8,
            columnspacing=1.0,
        )
    elif legend:
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    return ax


def _set_ylim(ax: Axes, c: Curves) -> None:
    """A y range holding every curve, with a margin, never a degenerate one."""
    values = [c.f, c.d1] + ([c.d2] if c.d2 is not None else [])
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.08 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)


def _new_figure(size: tuple[float, float]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _resolve(names: Iterable[str | Activation] | None) -> list[Activation]:
    """Activations for ``names`` (default: all registered), aliases resolved, no repeats.

    ``names`` must be a list (or tuple): a single str or Activation is refused, not iterated.
    """
    if names is not None and (isinstance(names, (str, bytes, Activation)) or not isinstance(names, Iterable)):
        raise ValueError(f"names must be a list of activation names such as ['relu'], got {names!r}")
    chosen = actlab.names() if names is None else list(names)
    acts: list[Activation] = []
    seen: set[str] = set()
    for item in chosen:
        act = actlab.get(item)  # ValueError naming the closest name for an unknown one
        if act.name not in seen:
            seen.add(act.name)
            acts.append(act)
    if not acts:
        raise ValueError(
            "names must not be empty: give a list of activation names such as ['relu'], or None for all"
        )
    return acts


def _layout(n: int) -> tuple[int, int]:
    cols = min(n, COLUMNS)
    return math.ceil(n / cols), cols


def gallery_pixel_size(n: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG gallery of ``n`` functions.

    >>> gallery_pixel_size(11)  # three rows of four panels, and the legend band
    (1600, 1005)
    """
    rows, cols = _layout(n)
    return (
        round(cols * PANEL_SIZE[0] * DPI),
        round((rows * PANEL_SIZE[1] + LEGEND_BAND) * DPI),
    )


def gallery_figure(names: Sequence[str | Activation] | None = None) -> Figure:
    """The gallery as a matplotlib Figure: one panel per function, a shared legend on top."""
    acts = _resolve(names)
    rows, cols = _layout(len(acts))
    width, height = cols * PANEL_SIZE[0], rows * PANEL_SIZE[1] + LEGEND_BAND
    fig = _new_figure((width, height))
    top = 1.0 - LEGEND_BAND / height
    fig.subplots_adjust(
        left=0.6 / width,
        right=1.0 - 0.15 / width,
        bottom=0.45 / height,
        top=top - 0.55 / height,
        wspace=0.3,
        hspace=0.7,
    )
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, act in zip(axes.flat, acts):
        plot_function(act, ax, legend=False)
    for ax in list(axes.flat)[len(acts) :]:
        ax.set_axis_off()
    _figure_legend(fig, top)
    return fig


def _figure_legend(fig: Figure, top: float) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], **STYLES["f"], label="f(x)"),
        Line2D([], [], **STYLES["d1"], label="f'(x)"),
        Line2D([], [], **STYLES["d2"], label="f''(x)"),
        Line2D(
            [],
            [],
            color=COLOURS["kink"],
            marker="o",
            linestyle="none",
            markersize=5.5,
            label="f' chosen at a kink",
        ),
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(handles),
        fontsize=9,
        frameon=False,
    )


def plot_gallery(names: Sequence[str | Activation] | None = None, out: str | Path = "gallery.png") -> Path:
    """Draw the gallery of ``names`` (default: every registered function) to ``out``.

    The file type follows the suffix: ``.png`` or ``.svg``.  Returns the path written.
    A PNG has :func:`gallery_pixel_size` pixels.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"cannot write a gallery to {str(path)!r}: the suffix must be "
            f"{' or '.join(SUFFIXES)}, got {suffix or 'none'!r}"
        )
    fig = gallery_figure(names)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, fmt=suffix[1:], dpi=DPI)  # the same gallery gives the same bytes
    return path
