"""Figures for the lab's experiments, drawn from each result's ``data``.

:func:`plot_experiment` dispatches on ``result.name`` to one drawing function per
experiment and writes ``<name>.png`` and ``<name>.svg`` into a folder.  Matplotlib is
imported only when a figure is drawn, and only its object-oriented API with the Agg canvas
is used: nothing here touches pyplot's global state or backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from actlab.lab import ExperimentResult

from ._save import save_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DPI", "DRAWERS", "experiment_figure", "plot_experiment"]

#: Resolution of the PNG output (the figure sizes below are in inches).
DPI = 100

_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


#: Legend and direct-label text size, in points.
LEGEND_FONT = 10.0
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_LINESTYLES = ("-", "--", "-.", ":")


def _color(names: list[str], name: str) -> str:
    return _COLORS[names.index(name) % len(_COLORS)]


def _layered(names: list[str], *, widest: float = 3.4, thinnest: float = 1.2) -> dict[str, dict[str, Any]]:
    """Line properties per name, so that lines which coincide all stay visible.

    The i-th name is drawn above the ones before it, thinner and with a smaller marker of
    another shape, so a line under another shows on both sides of it and around its
    markers; the line styles cycle too.
    """
    n = len(names)
    styles = {}
    for i, name in enumerate(names):
        t = i / (n - 1) if n > 1 else 0.0
        styles[name] = {
            "color": _color(names, name),
            "linewidth": widest - (widest - thinnest) * t,
            "marker": _MARKERS[i % len(_MARKERS)],
            "markersize": 8.0 - 4.0 * t,
            "linestyle": _LINESTYLES[i % len(_LINESTYLES)],
            "zorder": 2.0 + 0.5 * i / max(n, 1),
        }
    return styles


def _spread(targets: list[float], *, gap: float, lo: float, hi: float) -> list[float]:
    """Positions near ``targets`` (in one coordinate), at least ``gap`` apart, within
    [lo, hi] when they fit, in the targets' order."""
    order = sorted(range(len(targets)), key=lambda i: targets[i])
    pos = [targets[i] for i in order]
    for k in range(len(pos)):  # push up from the bottom
        pos[k] = max(pos[k], lo if k == 0 else pos[k - 1] + gap)
    for k in range(len(pos) - 1, -1, -1):  # then down from the top
        pos[k] = min(pos[k], hi if k == len(pos) - 1 else pos[k + 1] - gap)
    out = [0.0] * len(targets)
    for k, i in enumerate(order):
        out[i] = pos[k]
    return out


def _end_labels(
    ax: Axes,
    ends: dict[str, tuple[float, float]],
    colors: dict[str, str],
    *,
    log_lo: float,
    log_hi: float,
    x_text: float,
    gap: float,
) -> None:
    """Name each line right of its last point (x, y), on a log y axis spanning
    10**log_lo .. 10**log_hi, the names spread ``gap`` (in decades) apart, with a thin
    leader from each name to its line."""
    names = list(ends)
    ys = _spread([math.log10(ends[n][1]) for n in names], gap=gap, lo=log_lo + gap / 2, hi=log_hi - gap / 2)
    for name, y in zip(names, ys):
        x_end, y_end = ends[name]
        ax.annotate(
            name,
            xy=(x_end, y_end),
            xytext=(x_text, 10.0**y),
            textcoords="data",
            color=colors[name],
            fontsize=LEGEND_FONT - 1,
            va="center",
            ha="left",
            arrowprops={"arrowstyle": "-", "color": colors[name], "lw": 0.7, "shrinkA": 2, "shrinkB": 3},
        )


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _grid(ax: Axes) -> None:
    ax.grid(True, which="major", alpha=0.3)


def _integer_x(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


# --------------------------------------------------------------------------- the six figures
#: A line whose largest and smallest layer norms are within this factor keeps "the same
#: order of magnitude"; such lines crowd together, so a row zooms in on them.
STEADY_SPAN = 100.0


def _log_range(values: np.ndarray, *, pad: float, least: float) -> tuple[float, float]:
    """(lo, hi) in decades around the positive finite ``values``, padded, at least ``least`` wide."""
    v = values[np.isfinite(values) & (values > 0)]
    if not v.size:
        return -1.0, 1.0
    lo, hi = math.log10(float(v.min())) - pad, math.log10(float(v.max())) + pad
    if hi - lo < least:
        mid = (lo + hi) / 2
        lo, hi = mid - least / 2, mid + least / 2
    return lo, hi


def _vanishing_gradient(result: ExperimentResult) -> Figure:
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    d = result.data
    depths, names, norms = d["depths"], d["activations"], d["norms"]
    styles = _layered(names, widest=3.0)
    colors = {n: styles[n]["color"] for n in names}
    stages = (
        ("init", "at initialisation"),
        ("trained", f"after {d['epochs']} epoch{'s' * (d['epochs'] != 1)} of Adam"),
    )

    def series(stage: str, name: str, depth: int) -> np.ndarray:
        return np.asarray(norms[depth][name][stage], dtype=float)

    # Each stage gets a row with every line; when some lines vanish or explode and others
    # keep one order of magnitude, a second row zooms in on the latter, which crowd together.
    panel_rows = []
    for stage, label in stages:
        everything = np.concatenate([series(stage, n, depth) for n in names for depth in depths])
        panel_rows.append((stage, f"{label}", _log_range(everything, pad=0.3, least=1.0)))
        steady = [
            n
            for n in names
            if all(
                float(np.nanmax(series(stage, n, depth)))
                <= STEADY_SPAN * float(np.nanmin(series(stage, n, depth)))
                for depth in depths
            )
        ]
        if steady and len(steady) < len(names):
            band = np.concatenate([series(stage, n, depth) for n in steady for depth in depths])
            panel_rows.append(
                (
                    stage,
                    f"{label},\nzoomed in on the lines within ×{STEADY_SPAN:g}",
                    _log_range(band, pad=0.12, least=0.5),
                )
            )
    row_height = 3.3
    height = row_height * len(panel_rows) + 0.9
    fig = _figure(5.6 * len(depths), height)
    axes = fig.subplots(len(panel_rows), len(depths), squeeze=False, sharey="row")
    for row, (stage, label, (log_lo, log_hi)) in enumerate(panel_rows):
        # The names at the lines' ends stand about one line of text apart.
        gap = (log_hi - log_lo) * 1.2 * (LEGEND_FONT - 1) / (72.0 * (row_height - 1.0))
        for col, depth in enumerate(depths):
            ax = axes[row][col]
            ends = {}
            for name in names:
                y = series(stage, name, depth)
                x = np.arange(1, len(y) + 1)
                ax.plot(x, y, **styles[name], label=name)
                ends[name] = (float(x[-1]), float(y[-1]))
            last = max(x for x, _ in ends.values())
            # Room right of the last layer for the names; ticks only where there are layers.
            ax.set_xlim(0.5, last + 0.3 * (last - 0.5) + 0.8)
            ax.set_xticks(
                sorted({1.0, *(t for t in MaxNLocator(integer=True).tick_values(1, last) if 1 < t <= last)})
            )
            ax.set_yscale("log")
            ax.set_ylim(10.0**log_lo, 10.0**log_hi)
            inside = {n: e for n, e in ends.items() if log_lo <= math.log10(e[1]) <= log_hi}
            _end_labels(
                ax,
                inside,
                colors,
                log_lo=log_lo,
                log_hi=log_hi,
                x_text=last + 0.09 * (last - 0.5) + 0.3,
                gap=gap,
            )
            ax.set_title(f"depth {depth}, {label}", fontsize=10.5)
            ax.set_xlabel("Dense layer (1 = input side, last = output)")
            if col == 0:
                ax.set_ylabel("‖∂L/∂W‖ (median over batches)")
            _grid(ax)
    handles = [Line2D([], [], **styles[n], label=n) for n in names]
    # About 1.4 inches a column, so that a figure one panel wide still holds the legend.
    ncol = max(1, min(len(names), int(fig.get_figwidth() / 1.4)))
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, fontsize=LEGEND_FONT)
    fig.suptitle("Gradient norm of each layer's weights (log scale)")
    return fig


def _self_normalization(result: ExperimentResult) -> Figure:
    d = result.data
    names, stats, layers = d["activations"], d["stats"], d["layers"]
    fig = _figure(14.0, 4.6)
    ax_var, ax_mean, ax_txt = fig.subplots(1, 3, width_ratios=[1.2, 1.2, 0.9])
    x = np.arange(layers + 1)
    styles = {
        n: {k: v for k, v in st.items() if k not in ("marker", "markersize")}
        for n, st in _layered(names, widest=3.2, thinnest=1.4).items()
    }
    for name in names:
        var = np.asarray(stats[name]["var"], dtype=float)
        ax_var.plot(x, np.where(var > 0, var, np.nan), **styles[name], label=name)
        ax_mean.plot(x, stats[name]["mean"], **styles[name], label=name)
    ax_var.axhspan(0.8, 1.2, color="#2ca02c", alpha=0.12, label="[0.8, 1.2]")
    ax_var.set_yscale("log")
    ax_var.set_title("variance of each layer's output (log scale)")
    ax_var.set_xlabel("layer (0 = the N(0, 1) input)")
    ax_var.set_ylabel("variance over samples and units")
    ax_var.legend(loc="lower left", fontsize=LEGEND_FONT)
    ax_mean.axhline(0, color="black", lw=0.6)
    ax_mean.set_title("mean of each layer's output")
    ax_mean.set_xlabel("layer (0 = the N(0, 1) input)")
    ax_mean.set_ylabel("mean over samples and units")
    ax_mean.legend(loc="upper right", fontsize=LEGEND_FONT)
    for ax in (ax_var, ax_mean):
        _grid(ax)
    pa, pl = float(d["published_alpha"]), float(d["published_lambda"])
    text = (
        "SELU's constants from\nE[selu(z)] = 0, E[selu(z)²] = 1, z ~ N(0, 1)\n\n"
        f"α solved     {d['alpha']:.15g}\nα published  {pa:.15g}\n|difference| {abs(d['alpha'] - pa):.1e}\n\n"
        f"λ solved     {d['lambda']:.15g}\nλ published  {pl:.15g}\n|difference| {abs(d['lambda'] - pl):.1e}\n\n"
        f"Newton's method, {d['iterations']} iterations, float64"
    )
    ax_txt.axis("off")
    ax_txt.text(0.0, 0.95, text, family="monospace", fontsize=9.5, va="top", transform=ax_txt.transAxes)
    fig.suptitle(f"Through {layers} dense layers, LeCun-normal weights (variance 1/n), zero bias")
    return fig


def _perceptron(result: ExperimentResult) -> Figure:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    d = result.data
    methods, sets = d["methods"], d["datasets"]
    lines = _layered(list(methods), widest=3.0, thinnest=1.4)
    fig = _figure(4.0 * (len(methods) + 1), 3.8 * len(sets))
    axes = fig.subplots(len(sets), len(methods) + 1, squeeze=False)
    regions = ListedColormap(["#c6dbef", "#fdd0a2"])
    for r, set_name in enumerate(sets):
        run = d["runs"][set_name]
        X, y = np.asarray(run["X"]), np.asarray(run["y"])
        n = len(y)
        for c, method in enumerate(methods):
            ax = axes[r][c]
            m = run["methods"][method]
            ax.contourf(run["grid_x"], run["grid_y"], m["grid"], levels=[-0.5, 0.5, 1.5], cmap=regions)
            ax.scatter(X[y == 0, 0], X[y == 0, 1], s=12, color="#08519c", label="class 0")
            ax.scatter(X[y == 1, 0], X[y == 1, 1], s=12, color="#d94801", marker="^", label="class 1")
            status = "converged" if m["converged"] else "not converged"
            ax.set_title(f"{set_name}: {method}\naccuracy {m['final_accuracy']:.2f}, {status}", fontsize=10)
            ax.set_xlabel("x₁")
            ax.set_ylabel("x₂")
        ax = axes[r][-1]
        for method in methods:
            m = run["methods"][method]
            if "errors" in m:
                acc = 1 - np.asarray(m["errors"], dtype=float) / n
                label = f"{method} (1 - mistakes/n per pass)"
            else:
                acc = np.asarray(m["accuracy"], dtype=float)
                label = method
            ax.plot(
                np.arange(1, len(acc) + 1),
                acc,
                **lines[method],
                label=label,
                markevery=None if len(acc) < 5 else max(len(acc) // 10, 1),
            )
        ax.set_ylim(-0.02, 1.05)
        ax.set_title(f"{set_name}: training accuracy per epoch", fontsize=10)
        ax.set_xlabel("epoch (pass over the data)")
        _integer_x(ax)
        ax.set_ylabel("accuracy")
        _grid(ax)
    # One legend for every panel, below them all, where it covers no point and no line.
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles += [
        Patch(facecolor=regions(0), edgecolor="#999999", label="predicted class 0"),
        Patch(facecolor=regions(1), edgecolor="#999999", label="predicted class 1"),
    ]
    more, more_labels = axes[0][-1].get_legend_handles_labels()
    fig.legend(
        handles + more,
        labels + ["predicted class 0", "predicted class 1"] + more_labels,
        loc="outside lower center",
        ncol=4,
        fontsize=LEGEND_FONT,
    )
    fig.suptitle(
        "One unit: step by gradient descent (gradient 0), step by the perceptron rule, sigmoid by gradient descent"
    )
    return fig


def _dead_units(result: ExperimentResult) -> Figure:
    d = result.data
    names, lrs, curves = d["activations"], d["lrs"], d["curves"]
    fig = _figure(max(5.6 * len(lrs), 8.0), 5.0)
    axes = fig.subplots(1, len(lrs), squeeze=False, sharey=True)[0]
    styles = _layered(names, widest=3.4, thinnest=1.6)
    for ax, lr in zip(axes, lrs):
        for name in names:
            c = curves[lr][name]
            x = np.arange(len(c["dead"]))
            st = {**styles[name], "linestyle": "-"}
            ax.plot(x, 100 * np.asarray(c["dead"]), **st, label=f"{name}: dead")
            ax.plot(
                x,
                100 * np.asarray(c["never_positive"]),
                **{
                    **st,
                    "linestyle": "--",
                    "linewidth": 0.6 * st["linewidth"],
                    "markersize": 0.7 * st["markersize"],
                    "markerfacecolor": "white",
                },
                label=f"{name}: never positive",
            )
        acc = d.get("accuracy", {}).get(lr)
        ax.set_title(
            f"Adam, learning rate {lr}"
            + ("\ntest accuracy: " + ", ".join(f"{n} {acc[n]:.3g}" for n in names if n in acc) if acc else "")
        )
        ax.set_xlabel("epoch (0 = initialisation)")
        _integer_x(ax)
        _grid(ax)
    axes[0].set_ylabel("% of hidden units, on the test set")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(names), fontsize=LEGEND_FONT)
    axes[0].set_ylim(bottom=-2)
    fig.suptitle(
        "Dead units: f'(z) = 0 on every test sample (solid; for relu the same as never positive)\n"
        "Never-positive units: z < 0 on every test sample (dashed)",
        fontsize=11,
    )
    return fig


def _saturation(result: ExperimentResult) -> Figure:
    import actlab

    d = result.data
    names, scales, curves, thr = d["activations"], d["scales"], d["curves"], d["threshold"]
    inits = d.get("inits", {})
    fig = _figure(4.8 * (len(names) + 1), 4.2)
    axes = fig.subplots(1, len(names) + 1, squeeze=False)[0]
    ax = axes[0]
    reach = 8.0
    z = np.linspace(-reach, reach, 801)
    layered = _layered(names, widest=3.0, thinnest=1.4)
    for name in names:
        act = actlab.get(name)
        st = {k: v for k, v in layered[name].items() if k not in ("marker", "markersize")}
        ax.plot(z, act.derivative(z) / act.max_derivative, **st, label=name)
        below, above = d["edges"][name]  # -inf / inf: that side is never flat
        if below > -reach:
            ax.axvspan(-reach, below, color=_color(names, name), alpha=0.08)
        if above < reach:
            ax.axvspan(above, reach, color=_color(names, name), alpha=0.08)
    ax.set_xlim(-reach, reach)
    ax.axhline(thr, color="black", lw=0.8, ls=":", label=f"threshold {thr:g}")
    ax.set_title("f'(z) / max f': the flat region (shaded)")
    ax.set_xlabel("z")
    ax.set_ylabel("f'(z) / max f'")
    ax.legend(loc="upper right", fontsize=LEGEND_FONT - 1)
    _grid(ax)
    styles = ("-", "--", "-.", ":")
    for ax, name in zip(axes[1:], names):
        for i, scale in enumerate(scales):
            frac = 100 * np.asarray(curves[name][scale], dtype=float)
            ax.plot(
                np.arange(len(frac)),
                frac,
                lw=1.8,
                ls=styles[i % len(styles)],
                color=_color(names, name),
                label=f"{inits.get(name, 'default')} weights ×{scale}",
            )
        ax.set_ylim(0, 100)
        ax.set_title(f"{name}: saturated units through training")
        ax.set_xlabel("epoch (0 = initialisation)")
        _integer_x(ax)
        ax.set_ylabel(f"% of (sample, unit) with f' < {thr:g}·max f'")
        ax.legend(loc="best", fontsize=LEGEND_FONT)
        _grid(ax)
    fig.suptitle(f"Saturation of {', '.join(names)} units on the test set, by initial weight scale")
    return fig


def _softmax(result: ExperimentResult) -> Figure:
    d = result.data
    rel = d["reliability"]
    fig = _figure(12.0, 4.8)
    ax_rel, ax_hist = fig.subplots(1, 2)
    edges = np.asarray(rel["edges"], dtype=float)
    width = np.diff(edges)
    acc = np.nan_to_num(np.asarray(rel["accuracy"], dtype=float))
    conf = np.asarray(rel["confidence"], dtype=float)
    count = np.asarray(rel["count"])
    ax_rel.bar(
        edges[:-1],
        acc,
        width=width,
        align="edge",
        color="#6baed6",
        edgecolor="#08519c",
        label="accuracy in the bin",
    )
    ax_rel.plot([0, 1], [0, 1], color="black", lw=1, ls="--", label="perfect calibration")
    has = count > 0
    ax_rel.plot(conf[has], acc[has], "o", color="#d94801", markersize=5, label="(mean confidence, accuracy)")
    for left, w, n in zip(edges[:-1], width, count):
        if n:
            ax_rel.text(
                left + w / 2,
                0.02,
                str(int(n)),
                ha="center",
                va="bottom",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
    ax_rel.set_xlim(0, 1)
    ax_rel.set_ylim(0, 1.05)
    ax_rel.set_title(f"reliability diagram: ECE = {d['ece']:.3f} (numbers: test rows per bin)", fontsize=10)
    ax_rel.set_xlabel("confidence = top softmax probability")
    ax_rel.set_ylabel("accuracy")
    # Below the diagram: any bin may hold a tall bar, so no corner of it is sure to be free.
    ax_rel.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncol=3,
        fontsize=LEGEND_FONT - 1,
        frameon=False,
        columnspacing=1.2,
        handlelength=1.6,
    )
    _grid(ax_rel)
    hist_edges = np.asarray(d["histogram_edges"], dtype=float)
    hist = np.asarray(d["histogram"], dtype=float)
    ax_hist.bar(
        hist_edges[:-1],
        np.where(hist > 0, hist, np.nan),
        width=np.diff(hist_edges),
        align="edge",
        color="#74c476",
        edgecolor="#238b45",
    )
    ax_hist.set_yscale("log")
    ax_hist.set_xlim(0, 1)
    ax_hist.set_title(
        f"top probability per test row (log scale); rows sum to 1 within {d['row_sum_deviation']:.1e}",
        fontsize=10,
    )
    ax_hist.set_xlabel("top softmax probability")
    ax_hist.set_ylabel("test rows")
    _grid(ax_hist)
    fig.suptitle(
        f"Softmax output of a trained {d['activation']} classifier on the test split "
        f"(accuracy {d['accuracy']:.3f})"
    )
    return fig


#: Experiment name -> the function drawing its figure from the result.
DRAWERS: dict[str, Callable[[ExperimentResult], Figure]] = {
    "vanishing-gradient": _vanishing_gradient,
    "self-normalization": _self_normalization,
    "perceptron": _perceptron,
    "dead-units": _dead_units,
    "saturation": _saturation,
    "softmax": _softmax,
}


def experiment_figure(result: ExperimentResult) -> Figure:
    """The matplotlib Figure for ``result`` (ValueError if no drawing exists for its name)."""
    try:
        draw = DRAWERS[result.name]
    except KeyError:
        raise ValueError(f"no figure for experiment {result.name!r}; known: {', '.join(DRAWERS)}") from None
    return draw(result)


def plot_experiment(result: ExperimentResult, out_dir: str | Path) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` for ``result`` into ``out_dir`` (created if
    missing); return the two paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = experiment_figure(result)
    paths = [out / f"{result.name}.png", out / f"{result.name}.svg"]
    save_figure(fig, paths[0], fmt="png", dpi=DPI)
    # The constrained layout is solved by the first save; keep it rather than solve it again.
    fig.set_layout_engine("none")
    save_figure(fig, paths[1], fmt="svg", dpi=DPI)
    return paths
