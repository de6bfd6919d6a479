"""The ULP error against x of audits, one row per audit and one panel per order (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .measure import ORDER_NAMES, AuditResult

__all__ = ["plot_audits"]

SUFFIXES = (".png", ".svg")


def plot_audits(audits: Sequence[AuditResult], path: str | Path) -> Path:
    """Draw each audit's error in ULP against x (x on an asinh scale, so the subnormals,
    the bends and the largest floats all show; errors below 1/100 ULP at the floor, infinite
    ones at the top) with each bound dashed; write ``path`` (.png or .svg) and return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"plot: the suffix of {path} must be {' or '.join(SUFFIXES)}")
    if not audits:
        raise ValueError("plot: no audit to draw")
    rows = len(audits)
    fig, axes = plt.subplots(rows, 3, figsize=(13, 2.6 * rows + 0.6), squeeze=False)
    for row, audit in zip(axes, audits):
        for order, ax in enumerate(row):
            measured = [r for r in audit.results if r.order == order]
            for r in measured:
                finite = np.isfinite(r.x)
                x = np.arcsinh(r.x[finite].astype(np.float64))
                err = np.clip(np.nan_to_num(r.errors[finite], nan=1e30, posinf=1e30), 1e-2, 1e30)
                ax.scatter(x, err, s=3, label=r.dtype)
                ax.axhline(r.bound, ls="--", lw=0.8, color="C0" if r.dtype == "float32" else "C1")
            ax.set_yscale("log")
            ax.set_title(
                f"{audit.target}: {ORDER_NAMES[order]}" + ("" if measured else " (not measured)"), fontsize=9
            )
            ax.set_xlabel("asinh(x)", fontsize=8)
            ax.set_ylabel("error (ULP)", fontsize=8)
            if measured:
                ax.legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
