"""Sphinx configuration of actlab's documentation site (``make docs``).

Sphinx with the pydata theme, the convention of NumPy, SciPy, scikit-learn and pandas, with
MyST so that the Markdown pages the repository already has (accuracy, numerics, the
architecture, the benchmarks) are pages of the site as they are.  The pages read from the
registries are written by ``_ext/actlab_docs.py`` before each build.  The site is offline:
formulas are images drawn by matplotlib, and no page loads anything from the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import actlab  # noqa: E402

project = "actlab"
author = "the actlab authors"
release = version = actlab.__version__
extensions = ["myst_parser", "actlab_docs"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md"]
myst_heading_anchors = 3
html_theme = "pydata_sphinx_theme"
html_title = f"actlab {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "icon_links": [],
}
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False
suppress_warnings: list[str] = []
html_context = {"default_mode": "light"}
