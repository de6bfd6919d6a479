"""The HTML report: every registered function, every registered experiment, one page.

The page is self-contained and works offline: images are inline ``data:`` URIs (PNG
figures, SVG formulas pre-rendered by matplotlib's mathtext), the style sheet is inline,
there is no script at all, and a Content-Security-Policy forbids loading anything from
elsewhere.  The experiments' figures are also written beside the page, in ``figures/``,
as PNG and SVG files.

Everything printed comes from the registries (:func:`actlab.names`,
:func:`actlab.lab.experiment_names`) and goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import importlib
import importlib.metadata
import io
import math
import numbers
import os
import platform
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

import actlab
from actlab.activations import Activation

__all__ = ["ReportError", "build_report", "environment", "machine"]

Progress = Callable[[str], None]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class ReportError(RuntimeError):
    """Some experiments failed; the page was written anyway, with their errors in it."""

    def __init__(self, path: Path, failures: dict[str, str]) -> None:
        self.path = path
        self.failures = failures
        names = ", ".join(failures)
        super().__init__(f"{len(failures)} experiment(s) failed ({names}); see {path}")


def esc(value: Any) -> str:
    """The text of ``value``, HTML-escaped (quotes too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------- images
def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


_PLOT_DPI = 120  # a little sharper than the gallery's 100
_MIME = {".png": "image/png", ".svg": "image/svg+xml"}


def _img(src: str, alt: str, cls: str = "") -> str:
    klass = f' class="{esc(cls)}"' if cls else ""
    return f'<img{klass} src="{src}" alt="{esc(alt)}">'


def _figure_png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_PLOT_DPI)
    return buf.getvalue()


def _function_plot(act: Activation) -> str:
    from actlab.plots.gallery import plot_function

    ax = plot_function(act)
    return _img(_data_uri(_figure_png(ax.figure), "image/png"), f"{act.name}: f, f' and f''", "plot")


# --------------------------------------------------------------------------- formulas
_CASES = re.compile(r"^(?P<pre>.*?)\\begin\{cases\}(?P<body>.*?)\\end\{cases\}(?P<post>.*)$", re.S)


# LaTeX commands mathtext lacks, and the ones it has for them.
_MATHTEXT_SPELLING = {r"\ge": r"\geq", r"\le": r"\leq", r"\ne": r"\neq"}


def _for_mathtext(latex: str) -> str:
    for tex, mt in _MATHTEXT_SPELLING.items():
        latex = re.sub(re.escape(tex) + r"(?![A-Za-z])", mt.replace("\\", "\\\\"), latex)
    return latex


@cache
def _mathtext_svg(latex: str) -> str | None:
    """``latex`` rendered by matplotlib's mathtext as an SVG data URI; None if it can't."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    try:
        mathtext.math_to_image(f"${_for_mathtext(latex)}$", buf, prop=FontProperties(size=13), format="svg")
    except (ValueError, RuntimeError):
        return None
    svg = re.sub(rb"<dc:date>.*?</dc:date>", b"", buf.getvalue(), flags=re.S)
    return _data_uri(svg, "image/svg+xml")


def _math_piece(latex: str) -> str:
    latex = latex.strip()
    if not latex:
        return ""
    uri = _mathtext_svg(latex)
    return _img(uri, latex, "math") if uri else f'<code class="tex">{esc(latex)}</code>'


def formula_html(latex: str) -> str:
    """A LaTeX formula as HTML: mathtext images; ``cases`` laid out as a small table.

    Mathtext has no ``cases`` environment, so its rows are rendered cell by cell beside a
    brace.  What mathtext cannot render at all is shown as its LaTeX source.
    """
    if not latex:
        return '<span class="none">-</span>'
    uri = _mathtext_svg(latex)
    if uri:
        return _img(uri, latex, "math")
    m = _CASES.match(latex)
    if m:
        rows = []
        for row in re.split(r"\\\\", m.group("body")):
            cells = row.split("&", 1)
            value = _math_piece(cells[0])
            cond = _math_piece(cells[1]) if len(cells) > 1 else ""
            rows.append(f"<tr><td>{value}</td><td>{cond}</td></tr>")
        return (
            f'<span class="cases" title="{esc(latex)}">{_math_piece(m.group("pre"))}'
            f'<span class="brace">{{</span><table>{"".join(rows)}</table>'
            f"{_math_piece(m.group('post'))}</span>"
        )
    return f'<code class="tex">{esc(latex)}</code>'


# --------------------------------------------------------------------------- formatting
def _number(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if np.isclose(abs(v), math.pi / 2, rtol=1e-15, atol=0):
        return "π/2" if v > 0 else "-π/2"
    return f"{v:.6g}"


def cell(value: Any) -> str:
    """One table cell's text (not yet escaped): floats to 4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return _number(v)
        return f"{v:.4g}"
    return str(value)


def _table(columns: Sequence[Any], rows: Iterable[Sequence[Any]], cls: str = "") -> str:
    klass = f' class="{esc(cls)}"' if cls else ""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in rows)
    return f'<table class="facts"><tbody>{body}</tbody></table>'


def _range(r: tuple[float, float]) -> str:
    return f"({_number(r[0])}, {_number(r[1])})"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


# --------------------------------------------------------------------------- functions
def _function_section(act: Activation) -> str:
    if act.elementwise:
        d0 = esc(_number(float(act.derivative(0.0))))
    else:
        d0 = "a Jacobian matrix (vector function)"
    kinks = (
        "<br>".join(
            f"x = {esc(_number(k.x))}: f′ = {esc(_number(k.derivative))}"
            + (f" — {esc(k.note)}" if k.note else "")
            for k in act.kinks
        )
        or "none"
    )
    params = (
        "<br>".join(
            f"<code>{esc(p.name)}</code> = {esc(repr(act.values.get(p.name, p.default)))}: {esc(p.doc)}"
            for p in act.params
        )
        or "none"
    )
    facts = _facts(
        [
            ("f(x)", f"<code>{esc(act.plain_formula)}</code>"),
            ("LaTeX", f'<code class="tex">{esc(act.formula)}</code>'),
            ("range", esc(_range(act.output_range))),
            ("f′(0)", d0),
            ("max |f′|", "—" if act.max_derivative is None else esc(_number(act.max_derivative))),
            ("monotonic", "yes" if act.monotonic else "no"),
            ("zero-centred", "yes" if act.zero_centered else "no"),
            ("kind", esc(act.kind)),
            ("kinks", kinks),
            ("parameters", params),
            ("use", esc(", ".join(act.use))),
            ("aliases", esc(", ".join(act.aliases)) or "none"),
            ("classic", "yes" if act.classic else "no"),
        ]
    )
    formulas = (
        '<dl class="formulas">'
        f"<dt>function</dt><dd>{formula_html(act.formula)}</dd>"
        f"<dt>derivative</dt><dd>{formula_html(act.derivative_formula)}</dd>"
        f"<dt>second derivative</dt><dd>{formula_html(act.second_derivative_formula)}</dd>"
        "</dl>"
    )
    problems = "".join(f"<li>{esc(p)}</li>" for p in act.problems) or "<li>none noted</li>"
    return (
        f'<section class="function" id="fn-{esc(_slug(act.name))}">'
        f"<h3>{esc(act.name)}</h3>"
        f'<p class="summary">{esc(act.summary)}</p>'
        f'<div class="columns"><div>{formulas}{facts}</div>'
        f"<div>{_function_plot(act)}</div></div>"
        f"<h4>Use</h4><p>{esc(', '.join(act.use))}</p>"
        f"<h4>Problems</h4><ul>{problems}</ul>"
        f'<h4>Reference</h4><p class="reference">{esc(act.reference)}</p>'
        "</section>"
    )


def _function_overview(acts: Sequence[Activation]) -> str:
    """One table in two groups: the founding document's functions, then the wider family."""
    groups = []
    for title, members in (
        ("classic", [a for a in acts if a.classic]),
        ("wider family", [a for a in acts if not a.classic]),
    ):
        if not members:
            continue
        rows = "".join(
            f'<tr><td><a href="#fn-{esc(_slug(a.name))}">{esc(a.name)}</a></td>'
            f"<td><code>{esc(a.plain_formula)}</code></td><td>{esc(_range(a.output_range))}</td>"
            f"<td>{esc(', '.join(a.use))}</td></tr>"
            for a in members
        )
        groups.append(f'<tbody><tr><th colspan="4" class="group">{esc(title)}</th></tr>{rows}</tbody>')
    return (
        '<table class="overview"><thead><tr><th>name</th><th>f(x)</th><th>range</th>'
        f"<th>use</th></tr></thead>{''.join(groups)}</table>"
    )


# --------------------------------------------------------------------------- experiments
@dataclass
class _Run:
    name: str
    title: str
    claim: str
    seconds: float
    result: Any = None
    figures: list[Path] = field(default_factory=list)
    error: str = ""


def _plot_experiment(result: Any, out_dir: Path) -> list[Path]:
    """The experiment's figures, drawn by ``actlab.plots.experiments.plot_experiment``."""
    module = importlib.import_module("actlab.plots.experiments")
    return list(module.plot_experiment(result, out_dir))


def _run_experiment(name: str, figures_dir: Path, seed: int, quick: bool) -> _Run:
    from actlab import lab

    spec = lab.get_experiment(name)
    start = time.perf_counter()
    run = _Run(name=name, title=spec.title, claim=spec.claim, seconds=0.0)
    try:
        run.result = lab.run_experiment(name, seed=seed, quick=quick)
        run.title = run.result.title or run.title
        run.claim = run.result.claim or run.claim
        run.figures = [Path(p) for p in _plot_experiment(run.result, figures_dir)]
    except Exception as exc:  # the page shows it; build_report raises at the end
        run.error = f"{type(exc).__name__}: {exc}"
    run.seconds = time.perf_counter() - start
    return run


def _experiment_figures(run: _Run, out_dir: Path) -> str:
    """Each figure inline (PNG preferred), with links to the files written beside the page."""
    by_stem: dict[str, dict[str, Path]] = {}
    for path in run.figures:
        by_stem.setdefault(path.stem, {})[path.suffix.lower()] = path
    parts = []
    for stem, files in by_stem.items():
        shown = files.get(".png") or files.get(".svg")
        if shown is None:
            continue
        uri = _data_uri(shown.read_bytes(), _MIME[shown.suffix.lower()])
        links = " · ".join(
            f'<a href="{esc(_relative(p, out_dir))}">{esc(s[1:].upper())}</a>'
            for s, p in sorted(files.items())
        )
        parts.append(
            f"<figure>{_img(uri, f'{run.name}: {stem}', 'plot')}"
            f"<figcaption>{esc(stem)} ({links})</figcaption></figure>"
        )
    return "".join(parts)


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.name


def _experiment_section(run: _Run, out_dir: Path) -> str:
    head = (
        f'<section class="experiment" id="exp-{esc(_slug(run.name))}">'
        f"<h3>{esc(run.title)} <small><code>{esc(run.name)}</code></small></h3>"
        f'<p class="claim"><strong>The claim:</strong> {esc(run.claim)}</p>'
    )
    if run.error:
        return (
            head + f'<p class="error">This experiment failed after {run.seconds:.1f} s: '
            f"{esc(run.error)}</p></section>"
        )
    r = run.result
    findings = "".join(f"<li>{esc(f)}</li>" for f in r.findings)
    settings = ", ".join(f"{k} = {cell(v)}" for k, v in r.settings.items())
    return (
        head
        + _experiment_figures(run, out_dir)
        + _table(r.columns, r.rows, "results")
        + (f'<h4>Findings</h4><ul class="findings">{findings}</ul>' if findings else "")
        + f'<p class="settings">Settings: {esc(settings or "defaults")}; '
        f"ran in {run.seconds:.1f} s.</p></section>"
    )


# --------------------------------------------------------------------------- environment
def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment() -> list[tuple[str, str]]:
    """(package, version) for actlab, Python and the libraries the report used."""
    import matplotlib

    rows = [
        ("actlab", actlab.__version__),
        ("python", platform.python_version() + f" ({platform.python_implementation()})"),
        ("numpy", np.__version__),
        ("matplotlib", matplotlib.__version__),
    ]
    for label, dist in (("scikit-learn", "scikit-learn"), ("torch", "torch")):
        version = _version(dist)
        if version is not None:
            rows.append((label, version))
    return rows


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine() -> list[tuple[str, str]]:
    """(fact, value) about the machine the report ran on."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    rows = [
        ("platform", platform.platform()),
        ("machine", platform.machine()),
        ("processor", platform.processor() or _cpu_model() or "unknown"),
        ("CPU count", str(os.cpu_count())),
    ]
    if affinity is not None:
        rows.append(("CPUs available to this process", str(affinity)))
    return rows


# --------------------------------------------------------------------------- page
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d1d1f; background: #fafafa; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
header { background: #14365d; color: #fff; padding: 1.5rem 2rem; }
header h1 { margin: 0 0 .3rem; } header p { margin: .2rem 0; opacity: .9; }
nav ul { columns: 3; padding-left: 1.2rem; }
section.function, section.experiment { background: #fff; border: 1px solid #ddd;
  border-radius: 6px; padding: .4rem 1.2rem 1rem; margin: 1.2rem 0; }
.columns { display: flex; gap: 1.5rem; flex-wrap: wrap; }
.columns > div { flex: 1 1 420px; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .92rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #eef2f7; }
table.facts th { background: #f6f6f6; white-space: nowrap; }
table.results td { font-variant-numeric: tabular-nums; }
dl.formulas dt { font-size: .8rem; color: #666; margin-top: .4rem; }
dl.formulas dd { margin: .1rem 0 .3rem 0; }
img.math { vertical-align: middle; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eee; }
.cases { display: inline-flex; align-items: center; gap: .2rem; }
.cases .brace { font-size: 2.6rem; font-weight: 200; line-height: 1; }
.cases table, .cases td { border: none; margin: 0; padding: 0 .6rem 0 0; }
code.tex { font-size: .8rem; color: #555; word-break: break-word; }
p.claim { background: #f3f7ec; border-left: 4px solid #6a9f2a; padding: .4rem .7rem; }
p.error { background: #fdecea; border-left: 4px solid #c62828; padding: .4rem .7rem; }
p.settings, p.reference { color: #555; font-size: .9rem; }
figure { margin: .8rem 0; } figcaption { color: #666; font-size: .85rem; }
"""


def _page(
    *,
    acts: Sequence[Activation],
    runs: Sequence[_Run],
    out_dir: Path,
    seed: int,
    quick: bool,
    started: _dt.datetime,
    seconds: float,
) -> str:
    toc_functions = "".join(f'<li><a href="#fn-{esc(_slug(a.name))}">{esc(a.name)}</a></li>' for a in acts)
    toc_experiments = "".join(
        f'<li><a href="#exp-{esc(_slug(r.name))}">{esc(r.title)}</a></li>' for r in runs
    )
    experiments = "".join(_experiment_section(r, out_dir) for r in runs) or ("<p>No experiment was run.</p>")
    settings = f"seed {seed}, {'quick' if quick else 'default'} settings"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>actlab report</title>
<style>{_STYLE}</style>
</head>
<body>
<header id="header">
<h1>actlab report</h1>
<p>Activation functions with their exact derivatives, and experiments that test what the
founding document claims about them, run on this machine.</p>
<p>Generated {esc(started.strftime("%Y-%m-%d %H:%M:%S UTC"))} with {esc(settings)} in
{esc(f"{seconds:.1f}")} s.</p>
</header>
<main>
<nav id="contents"><h2>Contents</h2>
<h4>Functions</h4><ul>{toc_functions}</ul>
<h4>Experiments</h4><ul>{toc_experiments}</ul>
<p><a href="#versions">Versions</a> · <a href="#machine">Machine</a></p>
</nav>
<section id="functions">
<h2>The functions</h2>
{_function_overview(acts)}
<p>Each panel draws f, f′ and f″; a dot marks the derivative actlab takes at a kink.
A vector function (softmax, log_softmax, maxout) is drawn on its two-input slice
x ↦ f([x, 0])₀, with f′ the Jacobian entry ∂f₀/∂x₀ and f″ by central differences.</p>
{"".join(_function_section(a) for a in acts)}
</section>
<section id="experiments">
<h2>The experiments</h2>
{experiments}
</section>
<section id="versions">
<h2>Versions</h2>
{_table(("package", "version"), environment())}
</section>
<section id="machine">
<h2>Machine</h2>
{_table(("fact", "value"), machine())}
</section>
</main>
</body>
</html>
"""


def build_report(
    out_dir: str | Path,
    *,
    seed: int = 0,
    quick: bool = False,
    experiments: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Run the experiments and write ``out_dir/index.html``; return its path.

    ``experiments`` picks experiments by name: a list (default: every registered one; an
    empty list for a page of the functions only; an unknown name raises ValueError before
    anything runs).  ``seed`` must be an int in [0, 2**32 - 1] and ``quick`` a bool.
    ``progress``, if given, is called with a line of text as each experiment starts and
    ends.  The experiments' figures are also
    written to ``out_dir/figures``.  If an experiment raises, its section shows the error,
    the rest of the page is written, and :class:`ReportError` is raised at the end.
    """
    from actlab import lab
    from actlab.checks import flag, seed_int
    from actlab.lab import _checks

    started = _dt.datetime.now(_dt.UTC)
    t0 = time.perf_counter()
    seed = seed_int("seed", seed)  # before any work: a bad seed would fail every experiment
    quick = flag("quick", quick)
    names = lab.experiment_names() if experiments is None else _checks.experiment_names(experiments)
    for name in names:
        lab.get_experiment(name)  # ValueError with the closest name, before any work
    out = Path(out_dir)
    figures_dir = out / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)

    acts = [actlab.get(n) for n in actlab.names()]
    runs = []
    for name in names:
        if progress:
            progress(f"running experiment {name} ...")
        run = _run_experiment(name, figures_dir, seed, quick)
        if progress:
            status = f"failed: {run.error}" if run.error else "done"
            progress(f"experiment {name}: {status} in {run.seconds:.1f} s")
        runs.append(run)

    page = _page(
        acts=acts,
        runs=runs,
        out_dir=out,
        seed=seed,
        quick=quick,
        started=started,
        seconds=time.perf_counter() - t0,
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    failures = {r.name: r.error for r in runs if r.error}
    if failures:
        raise ReportError(path, failures)
    return path
