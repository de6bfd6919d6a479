"""Sphinx extension: the pages that are read from the registries, written before the build.

- ``generated/functions/NAME.md``: one page per registered activation: its formulas (drawn
  by matplotlib's mathtext, so the site needs no MathJax and works offline), f, f' and f''
  plotted, its facts, kinks, parameters, problems and reference, the accuracy measured (read
  from accuracy.md's table) and the kink values where PyTorch and JAX differ;
- ``generated/functions.md``: the two groups of functions, linked;
- ``generated/api.md``: the public API's signatures and docstrings, as they are in the code;
- ``generated/lab.md``: each experiment's claim and its figure, from a quick run.
"""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
OUT = HERE / "generated"


def _accuracy_rows() -> dict[str, tuple[str, str, str]]:
    """function -> (f, f', f'') worst ULP, float32 / float64, from accuracy.md's first
    measured table (the compiled kernels, which contiguous and strided arrays use)."""
    text = (HERE / "accuracy.md").read_text()
    part = text.split("## What was measured", 1)[-1]
    table = part.split("\n\n| function |", 1)[-1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and not set(cells[0]) <= set("-"):
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def _html(raw: str) -> str:
    return "```{raw} html\n" + raw + "\n```\n"


def _function_page(name: str, accuracy: dict[str, tuple[str, str, str]]) -> str:
    import html

    import actlab
    from actlab.report.page import _function_plot, formula_html

    act = actlab.get(name)
    esc = html.escape
    lines = [f"# {name}", "", esc(act.summary), ""]
    formulas = [("f", act.formula), ("f′", act.derivative_formula)]
    if act.second_derivative_formula:
        formulas.append(("f″", act.second_derivative_formula))
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{formula_html(v)}</td></tr>" for k, v in formulas)
    lines += [_html(f'<table class="formulas">{rows}</table>'), _html(_function_plot(act)), ""]
    lines += ["## Facts", "", "| fact | value |", "|---|---|"]

    def cell(text: str) -> str:
        return str(text).replace("|", r"\|")

    facts = [
        ("group", "classic (the founding document)" if act.classic else "the wider family"),
        ("aliases", ", ".join(f"`{a}`" for a in act.aliases) or "—"),
        ("formula", f"`{cell(act.plain_formula)}`"),
        ("kind", act.kind), ("range", f"{act.output_range}"), ("monotonic", str(act.monotonic)),
        ("zero-centred", str(act.zero_centered)), ("largest derivative", str(act.max_derivative)),
        ("default init", act.init), ("trainable by backprop", str(act.trainable)),
        ("use", ", ".join(act.use)), ("exact in its own dtype", str(act.exact)),
        ("compiled kernel", f"`{act.fast}`" if act.fast else "— (NumPy)"),
    ]
    lines += [f"| {k} | {cell(v)} |" for k, v in facts]
    lines += ["", "## Parameters", ""]
    lines += [f"- `{p.name}` (default `{p.default!r}`): {cell(p.doc)}" for p in act.params] or ["None."]
    lines += ["", "## Kinks", ""]
    lines += [f"- x = {k.x:g}: f′ = {k.derivative:.6g}; {k.note}" for k in act.kinks] or [
        "None: f is differentiable everywhere."]
    lines += ["", "## Accuracy", ""]
    if name in accuracy:
        f, d1, d2 = accuracy[name]
        lines += ["Worst error measured against mpmath at 50 digits over the sweep "
                  "([how](../../accuracy.md)), float32 / float64, in ULP:", "",
                  "| f | f′ | f″ |", "|---|---|---|", f"| {f} | {d1} | {d2} |"]
    elif act.exact:
        lines += ["Exact: bit-equal to the correctly rounded result at every point of the "
                  "sweep ([how](../../accuracy.md))."]
    else:
        lines += ["Held to the bounds of [accuracy.md](../../accuracy.md) by the test suite "
                  "(`tests/activations/test_accuracy.py`, or `test_vector_backward.py` for the "
                  "vector functions)."]
    lines += ["", "## Problems", ""] + [f"- {cell(p)}" for p in act.problems]
    lines += ["", "## Reference", "", cell(act.reference), ""]
    return "\n".join(lines)


def _functions_index(names: list[str]) -> str:
    import actlab

    lines = ["# The functions", "",
             "One page per registered activation, generated from the registry. "
             "The classic group is the founding document's; the wider family is what today's "
             "networks use.", ""]
    for title, members in (("Classic", [n for n in names if actlab.get(n).classic]),
                           ("The wider family", [n for n in names if not actlab.get(n).classic])):
        lines += [f"## {title}", "", "| name | f(x) | use |", "|---|---|---|"]
        for n in members:
            act = actlab.get(n)
            formula = act.plain_formula.replace("|", r"\|")
            lines.append(f"| [{n}](functions/{n}.md) | `{formula}` | {', '.join(act.use)} |")
        lines.append("")
    lines += ["```{toctree}", ":hidden:", "", *[f"functions/{n}" for n in names], "```", ""]
    return "\n".join(lines)


API = [
    ("actlab", ["get", "names", "aliases", "canonical_name", "info", "kernel_status", "Activation", "Facts",
                "Kink", "Param"]),
    ("actlab.nn", ["build_mlp", "can_build", "Sequential", "Dense", "Activation", "Maxout", "fit",
                   "score", "gradient_norms", "gradcheck", "save", "load", "default_init",
                   "init_weights", "SoftmaxCrossEntropy", "MeanSquaredError", "SGD", "Adam",
                   "Perceptron", "History", "ZeroGradientError", "DivergenceError"]),
    ("actlab.lab", ["experiment_names", "get_experiment", "run_experiment", "ExperimentResult"]),
    ("actlab.lab.compare", ["compare", "activation_group", "default_activations", "CompareResult"]),
    ("actlab.checks", None),
]


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""


def _api_page() -> str:
    import importlib

    lines = ["# API reference", "",
             "The signatures and docstrings of the public API, as they are in the code. "
             "`actlab.torch` is on [its own page](../howto/pytorch.md).", ""]
    for module_name, members in API:
        module = importlib.import_module(module_name)
        lines += [f"## `{module_name}`", ""]
        if module.__doc__:
            lines += ["```text", inspect.cleandoc(module.__doc__), "```", ""]
        if members is None:
            members = [n for n, v in vars(module).items() if inspect.isfunction(v)
                       and not n.startswith("_") and v.__module__ == module_name]
        for member in members:
            obj = getattr(module, member)
            kind = "class" if inspect.isclass(obj) else "function"
            lines += [f"### `{module_name}.{member}`", "", f"```text\n{kind} {member}{_signature(obj)}\n```", ""]
            doc = inspect.getdoc(obj)
            if doc:
                lines += ["```text", doc, "```", ""]
    return "\n".join(lines)


def _lab_page(images: Path) -> str:
    from actlab import lab
    from actlab.plots.experiments import plot_experiment

    lines = ["# The lab", "",
             "Each experiment tests a claim of the founding document on this machine. The "
             "figures below come from each experiment's quick settings, run when these pages "
             "were built; `actlab experiment NAME` runs the full ones.", ""]
    for name in lab.experiment_names():
        exp = lab.get_experiment(name)
        result = lab.run_experiment(name, quick=True)
        files = plot_experiment(result, images)
        png = next(Path(f) for f in files if str(f).endswith(".png"))
        lines += [f"## {exp.title}", "", f"`actlab experiment {name}`", "", f"**Claim.** {exp.claim}", "",
                  f"![{name}](lab/{png.name})", ""]
        lines += [f"- {f}" for f in result.findings] + [""]
    return "\n".join(lines)


def generate(app: Any = None) -> None:
    import actlab

    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "functions").mkdir(parents=True)
    names = actlab.names()
    accuracy = _accuracy_rows()
    for name in names:
        (OUT / "functions" / f"{name}.md").write_text(_function_page(name, accuracy))
    (OUT / "functions.md").write_text(_functions_index(names))
    (OUT / "api.md").write_text(_api_page())
    (OUT / "lab").mkdir()
    (OUT / "lab.md").write_text(_lab_page(OUT / "lab"))


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "version": "1"}


