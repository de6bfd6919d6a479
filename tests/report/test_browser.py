"""The report as a browser renders it: headless Chromium over the DevTools pipe.

The real report on the experiments' quick settings (about 15 s on 2 cores).  Reads the
rendered page: every section present, every image loaded (complete and
naturalWidth > 0), no console error, no exception, no error logged (a Content-Security-
Policy violation, i.e. an attempt to load anything from elsewhere, is logged as one).
Skipped where Debian's chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import actlab
from actlab.report import build_report

_spec = importlib.util.spec_from_file_location("_actlab_cdp", Path(__file__).with_name("_cdp.py"))
assert _spec and _spec.loader
cdp = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cdp
_spec.loader.exec_module(cdp)

pytestmark = pytest.mark.skipif(
    not cdp.CHROMIUM.exists(), reason=f"{cdp.CHROMIUM} is not installed"
)

# Waits for every image to decode, then describes the page as JSON.
_INSPECT = """
(async () => {
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  const images = [...document.images].map(img => ({
    alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
    section: (img.closest('section[id]') || {}).id || null,
  }));
  return JSON.stringify({
    title: document.title,
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    scripts: document.scripts.length,
    images,
    experimentTitles: [...document.querySelectorAll('section.experiment h3')].map(h => h.textContent),
  });
})()
"""


def _inspect(path: Path) -> tuple[dict[str, Any], list[str]]:
    with cdp.Browser() as browser:
        session = browser.open_page(path.resolve().as_uri())
        page = json.loads(browser.evaluate(_INSPECT, session=session))
        return page, browser.errors(session)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str]]:
    """The real report on the experiments' quick settings, plus the fake experiment of
    conftest (a title and table full of ``<script>`` and ``&``)."""
    from actlab import lab
    from actlab.report import page

    from .conftest import fake_plot, fake_run

    real_plot = page._plot_experiment

    def plot(result: Any, out_dir: Path) -> list[Path]:
        return (fake_plot if result.name == "fake-experiment" else real_plot)(result, out_dir)

    registry = {name: lab.get_experiment(name) for name in lab.experiment_names()}
    registry["fake-experiment"] = lab.Experiment("fake-experiment", "t", "c", fake_run)
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(lab, "EXPERIMENTS", registry)
        mp.setattr(page, "_plot_experiment", plot)
        path = build_report(tmp_path_factory.mktemp("report"), quick=True)
    finally:
        mp.undo()
    return _inspect(path)


def _experiments() -> list[str]:
    from actlab import lab

    return [*lab.experiment_names(), "fake-experiment"]


def test_every_section_is_rendered(rendered: tuple[dict[str, Any], list[str]]) -> None:
    page, _ = rendered
    assert page["title"] == "actlab report"
    ids = set(page["ids"])
    for section in ["header", "contents", "functions", "experiments", "versions", "machine",
                    *(f"exp-{n}" for n in _experiments()), *(f"fn-{n}" for n in actlab.names())]:
        assert section in ids, section
    # The fake experiment's <script> title is text on the page, not a script.
    assert page["scripts"] == 0
    assert any("<script>alert('title')</script>" in t for t in page["experimentTitles"])


def test_every_image_loaded(rendered: tuple[dict[str, Any], list[str]]) -> None:
    page, _ = rendered
    images = page["images"]
    broken = [img for img in images if not img["complete"] or img["width"] == 0 or img["height"] == 0]
    assert not broken, broken
    per_section: dict[str, int] = {}
    for img in images:
        per_section[img["section"]] = per_section.get(img["section"], 0) + 1
    for name in actlab.names():  # its plot and its formulas
        assert per_section.get(f"fn-{name}", 0) >= 2, name
    for name in _experiments():  # at least one figure each
        assert per_section.get(f"exp-{name}", 0) >= 1, name


def test_no_console_error(rendered: tuple[dict[str, Any], list[str]]) -> None:
    _, errors = rendered
    assert errors == []


def test_the_checks_see_a_broken_page(tmp_path: Path) -> None:
    """The harness itself: a missing image, a network image and a throwing script are caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><title>bad</title><section id='s'></section>"
        "<img src='missing.png'><img src='https://example.invalid/x.png'>"
        "<script>console.error('boom'); throw new Error('thrown')</script>",
        encoding="utf-8",
    )
    page, errors = _inspect(bad)
    assert "s" in page["ids"]
    assert [img["width"] for img in page["images"]] == [0, 0]
    assert any("boom" in e for e in errors) and any("thrown" in e for e in errors)
