"""The HTML report: escaping, every section from the registries, nothing from the network."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import actlab
from actlab import lab
from actlab.cli import main
from actlab.report import ReportError, build_report
from actlab.report.page import formula_html

from .conftest import NASTY_CELL, NASTY_TITLE, broken_run


class _Collect(HTMLParser):
    """Tags with their attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Collect:
    parser = _Collect()
    parser.feed(text)
    parser.close()
    return parser


@pytest.fixture
def report(tmp_path: Path, fake_experiments: object) -> str:
    path = build_report(tmp_path / "out", seed=3)
    assert path == tmp_path / "out" / "index.html"
    return path.read_text(encoding="utf-8")


def test_everything_printed_is_escaped(report: str) -> None:
    # No tag but the page's own: the fake's <script>, <b>, <i>, <img onerror> are text.
    tags = {tag for tag, _ in _parse(report).tags}
    assert "script" not in tags and "b" not in tags and "i" not in tags
    assert "onerror" not in report.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in report
    assert "Fake &lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; &amp; co" in report
    assert "Tiny &lt;networks&gt; &amp; big &quot;claims&quot;" in report
    assert "found &lt;i&gt;this&lt;/i&gt; &amp; that" in report
    text = "".join(_parse(report).text)
    assert NASTY_CELL in text and NASTY_TITLE in text


def test_every_function_and_experiment_has_its_section(report: str) -> None:
    ids = [attrs.get("id") for tag, attrs in _parse(report).tags if tag == "section"]
    expected = [f"fn-{n}" for n in actlab.names()] + ["exp-fake-experiment"]
    for section in ["header", "functions", "experiments", "versions", "machine", *expected]:
        assert section in ids or f'id="{section}"' in report, section
    for name in actlab.names():
        act = actlab.get(name)
        section = report.split(f'id="fn-{name}"', 1)[1].split("</section>", 1)[0]
        for fact in (act.summary, act.plain_formula, act.reference, *act.problems):
            assert _escaped(fact) in section, (name, fact)
        assert section.count('class="plot"') == 1
        assert 'class="math"' in section
    exp = report.split('id="exp-fake-experiment"', 1)[1].split("</section>", 1)[0]
    assert "0.1235" in exp and "nan" in exp and "—" in exp  # float, NaN and None cells
    assert "seed = 3" in exp
    assert 'href="figures/fake-experiment.svg"' in exp and exp.count('class="plot"') == 1


def _escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_versions_and_machine(report: str) -> None:
    import platform

    import numpy as np

    versions = report.split('id="versions"', 1)[1].split("</section>", 1)[0]
    for package, version in [("actlab", actlab.__version__), ("numpy", np.__version__),
                             ("python", platform.python_version())]:
        assert f"<td>{package}</td><td>{version}" in versions
    assert "matplotlib" in versions
    machine = report.split('id="machine"', 1)[1].split("</section>", 1)[0]
    assert "CPU count" in machine and "processor" in machine and platform.machine() in machine


def test_offline_nothing_loads_from_elsewhere(report: str) -> None:
    for tag, attrs in _parse(report).tags:
        assert tag not in ("script", "link", "iframe", "object", "embed", "base"), tag
        for attr in ("src", "href", "srcset", "action", "data", "poster"):
            value = (attrs.get(attr) or "").strip().lower()
            assert not re.match(r"^([a-z][a-z0-9+.-]*:)?//", value), (tag, attr, value)
            if tag == "img" and attr == "src":
                assert value.startswith("data:image/"), value
            if attr == "href" and value:
                assert value.startswith("#") or not re.match(r"^[a-z][a-z0-9+.-]*:", value), value
    assert "@import" not in report and "url(" not in report
    csp = [a.get("content") or "" for t, a in _parse(report).tags
           if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1 and "default-src 'none'" in csp[0] and "img-src data:;" in csp[0]


def test_figures_are_also_written_beside_the_page(report: str, tmp_path: Path) -> None:
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == [
        "fake-experiment.png", "fake-experiment.svg"
    ]


def test_cases_formulas_render_row_by_row() -> None:
    out = formula_html(r"f(x) = \begin{cases} 0 & x < 0 \\ 1 & x \ge 0 \end{cases}")
    assert 'class="cases"' in out and out.count("<tr>") == 2 and "<code" not in out
    assert formula_html(r"\unknowncommand{x}").startswith('<code class="tex">')
    assert formula_html(r"\frac{<}{&}").count("&lt;") >= 1  # alt text escaped too


def test_a_failing_experiment_is_shown_and_reported(
    tmp_path: Path, fake_experiments: dict[str, lab.Experiment]
) -> None:
    fake_experiments["broken"] = lab.Experiment("broken", "Broken", "claim", broken_run)
    with pytest.raises(ReportError, match="broken") as info:
        build_report(tmp_path, experiments=["broken", "fake-experiment"])
    text = info.value.path.read_text(encoding="utf-8")
    assert "RuntimeError: it broke &lt;badly&gt; &amp; loudly" in text
    assert 'id="exp-fake-experiment"' in text


def test_unknown_experiment_is_refused_before_any_work(
    tmp_path: Path, fake_experiments: object
) -> None:
    with pytest.raises(ValueError, match="did you mean 'fake-experiment'"):
        build_report(tmp_path / "r", experiments=["fake-experperiment"])
    assert not (tmp_path / "r").exists()


def test_cli_report(tmp_path: Path, fake_experiments: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path), "--seed", "7", "--quick"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "index.html")
    assert "fake-experiment" in captured.err
    text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "seed = 7" in text and "quick = yes" in text
    assert main(["report", "--out", str(tmp_path), "--experiments", "nope"]) == 2
    assert main(["report", "--out", str(tmp_path), "--seed", "x"]) == 2


def test_the_overview_is_one_table_in_two_groups(report: str) -> None:
    """The founding document's functions, then the wider family, every one once."""
    table = report.split('<table class="overview">', 1)[1].split("</table>", 1)[0]
    classic, wider = table.split('class="group">classic</th>', 1)[1].split('class="group">wider family</th>')
    linked = re.compile(r'href="#fn-([a-z0-9_]+)"')
    assert linked.findall(classic) == actlab.names(classic_only=True)
    assert linked.findall(wider) == [n for n in actlab.names() if not actlab.get(n).classic]
