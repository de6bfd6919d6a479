"""The documentation site: it builds with no warning, every internal link and image
resolves, and Chromium renders its pages with no console error (its code examples run in
tests/test_doc_examples.py)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import actlab

pytest.importorskip("sphinx")
pytest.importorskip("pydata_sphinx_theme")
pytest.importorskip("myst_parser")

DOCS = Path(__file__).resolve().parents[2] / "docs"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          str(DOCS), str(out)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        for key in ("href", "src"):
            value = a.get(key)
            if value and not value.startswith(("data:", "mailto:", "javascript:")):
                self.links.append(value)


def test_every_page_of_every_function_is_built(site: Path) -> None:
    for name in actlab.names():
        page = (site / "generated" / "functions" / f"{name}.html").read_text()
        assert page.count('class="plot"') == 1 and 'class="math"' in page, name
        assert "Accuracy" in page and "Kinks" in page


def test_no_internal_link_is_broken_and_nothing_loads_from_elsewhere(site: Path) -> None:
    pages = [p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts]
    parsed = {}
    for page in pages:
        p = _Links()
        p.feed(page.read_text())
        parsed[page.resolve()] = p
    broken = []
    for page, p in parsed.items():
        for link in p.links:
            url = urlsplit(link)
            if url.scheme in ("http", "https"):
                continue  # the theme's footer credits: links, never loaded (checked below)
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if not target.exists():
                broken.append((page.name, link))
            elif url.fragment and target.suffix == ".html" and target in parsed \
                    and url.fragment not in parsed[target].ids:
                broken.append((page.name, link))
    assert not broken, broken[:10]
    for page in pages:
        text = page.read_text()
        assert not re.search(r'<(script|img|link)[^>]+(src|href)="https?://', text), page.name


_spec = importlib.util.spec_from_file_location("_actlab_cdp_docs", DOCS.parent / "tests" / "report" / "_cdp.py")
assert _spec and _spec.loader
cdp = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cdp
_spec.loader.exec_module(cdp)

_INSPECT = """
(async () => {
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  return JSON.stringify({
    title: document.title,
    h1: (document.querySelector('h1') || {}).textContent || '',
    images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth})),
  });
})()
"""


@pytest.mark.skipif(not cdp.CHROMIUM.exists(), reason=f"{cdp.CHROMIUM} is not installed")
@pytest.mark.parametrize("page", ["index.html", "generated/functions/gelu.html", "generated/api.html"])
def test_chromium_renders_the_page_with_no_error(site: Path, page: str) -> None:
    with cdp.Browser() as browser:
        session = browser.open_page((site / page).as_uri())
        seen = json.loads(browser.evaluate(_INSPECT, session=session))
        errors = browser.errors(session)
    assert not errors, errors
    assert seen["h1"].strip(" #¶")
    assert all(i["complete"] and i["width"] > 0 for i in seen["images"]), seen["images"]
