"""Saving figures so that the same figure gives the same bytes, in PNG and in SVG."""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: matplotlib's SVG writer hashes this, not a random salt, into its clip-path and glyph ids.
SVG_HASHSALT = "actlab"


def save_figure(fig: Figure, target: str | Path | IO[bytes], *, fmt: str, dpi: float) -> None:
    """Write ``fig`` to ``target`` as ``fmt`` ("png" or "svg"), reproducibly: no date in the
    SVG, no software version in the PNG, and fixed SVG ids (``svg.hashsalt``), so two
    identical calls give byte-identical files."""
    import matplotlib

    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT}):
        fig.savefig(target, format=fmt, dpi=dpi, metadata=metadata)
