"""Save and load models as .npz: architecture as JSON text, weights as arrays.

Read with ``np.load(..., allow_pickle=False)``: a file can hold no code.  The round trip is
exact (same layers, parameters, dtype and bits).
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from ._checks import positive_int
from .layers import Activation, Dense, Layer, Maxout, Sequential

FORMAT = "actlab.nn/1"


def _spec(layer: Layer) -> dict[str, Any]:
    if isinstance(layer, Maxout):
        return {"type": "Maxout", "n_in": layer.n_in, "n_out": layer.n_out, "pieces": layer.pieces, "init": layer.init}
    if isinstance(layer, Dense):
        return {"type": "Dense", "n_in": layer.n_in, "n_out": layer.n_out, "init": layer.init}
    if isinstance(layer, Activation):
        return {"type": "Activation", "name": layer.act.name, "params": dict(layer.act.values)}
    raise ValueError(f"cannot save layer {layer!r}")


def save(model: Sequential, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` (an .npz file)."""
    meta = {
        "format": FORMAT,
        "dtype": model.dtype.name,
        "output": model.output,
        "layers": [_spec(layer) for layer in model.layers],
    }
    arrays: dict[str, Any] = {"__actlab__": np.array(json.dumps(meta))}
    for i, layer in enumerate(model.dense_layers):
        arrays[f"W{i}"] = layer.W
        arrays[f"b{i}"] = layer.b
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _bad(path: Any, why: str) -> ValueError:
    return ValueError(f"{os.fspath(path)!s}: not a valid actlab model file ({why})")


def load(path: str | os.PathLike[str]) -> Sequential:
    """Read a model written by :func:`save`; a corrupt, truncated or foreign file raises ValueError."""
    # np.load takes anything that is not .npy/.npz for a pickle and then advises loading
    # it "unsafely": say what the file is not, instead.
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise _bad(path, "not an .npz archive; a model is written by actlab.nn.save")
    try:
        # Open the file ourselves: np.load leaks its handle when the archive is damaged.
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, AttributeError) as exc:
        raise _bad(path, f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # zlib/struct errors from a damaged archive
        raise _bad(path, f"{type(exc).__name__}: {exc}") from None
    if not isinstance(files, dict) or "__actlab__" not in files:
        raise _bad(path, "no actlab header; is it a model saved by actlab.nn.save?")
    try:
        meta = json.loads(str(files["__actlab__"]))
        if meta.get("format") != FORMAT:
            raise _bad(path, f"unknown format {meta.get('format')!r}")
        dtype = np.dtype(meta["dtype"])
        layers: list[Layer] = []
        k = 0
        for spec in meta["layers"]:
            kind = spec["type"]
            if kind in ("Dense", "Maxout"):
                # Check the stored arrays against the header before building (allocating) the
                # layer: a header may claim any size.
                n_in, n_out = positive_int("n_in", spec["n_in"]), positive_int("n_out", spec["n_out"])
                pieces = positive_int("pieces", spec["pieces"]) if kind == "Maxout" else 1
                W, b = files[f"W{k}"], files[f"b{k}"]
                if (W.shape != (n_in, n_out * pieces) or b.shape != (n_out * pieces,)
                        or W.dtype != dtype or b.dtype != dtype):
                    raise _bad(path, f"weights of layer {k} have shape {W.shape}/{b.shape} and dtype {W.dtype}, "
                                     f"expected {(n_in, n_out * pieces)}/{(n_out * pieces,)} and {dtype}")
                if kind == "Dense":
                    layer: Layer = Dense(n_in, n_out, init=spec["init"], rng=0, dtype=dtype)
                else:
                    layer = Maxout(n_in, n_out, pieces=pieces, init=spec["init"], rng=0, dtype=dtype)
                layer.W[...] = W  # type: ignore[attr-defined]
                layer.b[...] = b  # type: ignore[attr-defined]
                k += 1
            elif kind == "Activation":
                layer = Activation(spec["name"], **spec["params"])
            else:
                raise _bad(path, f"unknown layer type {kind!r}")
            layers.append(layer)
        return Sequential(layers, output=meta["output"])
    except ValueError as exc:
        if "not a valid actlab model file" in str(exc):
            raise
        raise _bad(path, str(exc)) from None
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"{type(exc).__name__}: {exc}") from None
