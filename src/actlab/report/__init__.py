"""actlab.report: one self-contained HTML page with every function and every experiment.

>>> from actlab.report import build_report  # build_report("report/") writes report/index.html
"""

from __future__ import annotations

from .page import ReportError, build_report

__all__ = ["ReportError", "build_report"]
