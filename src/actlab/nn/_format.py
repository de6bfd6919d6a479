"""The model file format that :func:`actlab.nn.save` writes and :func:`actlab.nn.load` reads.

An .npz archive: ``__actlab__.npy`` holds the header, a JSON text naming the format, the
dtype, the output and each layer's ``spec()``; ``W<i>.npy`` and ``b<i>.npy`` hold the
weights of the i-th dense layer.  This module knows nothing of the layer classes, so that
both the layers (``Sequential.save``) and the loader can use it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

FORMAT = "actlab.nn/1"
#: The archive member that holds the header.
HEADER = "__actlab__.npy"


def check_path(path: Any) -> str | os.PathLike[str]:
    """``path`` itself if it is a str or os.PathLike; TypeError naming it otherwise (before
    anything is opened, so that a caller's file descriptor is never used or closed)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a str or os.PathLike, got {path!r} ({type(path).__name__}); "
            f"file objects and descriptors are not accepted"
        )
    return path


def write(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model`` (a Sequential: ``layers``, each with ``spec()``, ``dense_layers``,
    ``dtype`` and ``output``) to ``path``, a str or os.PathLike, not a file object."""
    check_path(path)
    meta = {
        "format": FORMAT,
        "dtype": model.dtype.name,
        "output": model.output,
        "layers": [layer.spec() for layer in model.layers],
    }
    arrays: dict[str, Any] = {HEADER.removesuffix(".npy"): np.array(json.dumps(meta))}
    for i, layer in enumerate(model.dense_layers):
        arrays[f"W{i}"] = layer.W
        arrays[f"b{i}"] = layer.b
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
