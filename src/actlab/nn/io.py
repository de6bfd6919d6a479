"""Save and load models as .npz: architecture as JSON text, weights as arrays.

The round trip is exact (same layers, parameters, dtype and bits).  :func:`load` treats
the file as untrusted: it holds no code (no pickles are read), and every size is checked
against the header before anything is read, so that a small file cannot make it read,
allocate or wait without bound.
"""

from __future__ import annotations

import json
import math
import os
import stat
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from ..checks import positive_int
from . import _format
from ._format import FORMAT
from .layers import Activation, Dense, Layer, Maxout, Sequential

#: The most weight bytes :func:`load` reads: all arrays of a model together, 1 GiB.
MAX_MODEL_BYTES = 2**30
#: The largest header (the JSON text describing the layers) :func:`load` reads: 1 MiB.
MAX_HEADER_BYTES = 2**20

_HEADER = _format.HEADER
_MARK = "not a valid actlab model file"
_FLOAT_DTYPES = ("float16", "float32", "float64")


def save(model: Sequential, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` (an .npz file; a str or os.PathLike, not a file object)."""
    _format.write(model, path)


def _bad(path: Any, why: str) -> ValueError:
    return ValueError(f"{os.fspath(path)!s}: {_MARK} ({why})")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def _open_regular(path: str | os.PathLike[str]) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file; ValueError for a FIFO, a device
    or a directory, which could block or never end.  Stat before opening (so that no device
    is opened), and once more after (the path may have changed in between); O_NONBLOCK keeps
    the open itself from waiting on a FIFO."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _bad(path, f"{_kind(st.st_mode)}, not a regular file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _bad(path, f"{_kind(st.st_mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@dataclass
class _Array:
    """One .npy member: its zip entry and what its own header declares."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype[Any]
    offset: int  # bytes before the data

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Any) -> _Array:
    """Read only the .npy preamble of ``info``: shape, order and dtype."""
    if info.flag_bits & 0x1:
        raise _bad(path, f"member {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _bad(
            path,
            f"member {info.filename!r} uses compression method {info.compress_type} "
            f"(an .npz is stored or deflated)",
        )
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise _bad(path, f"member {info.filename!r} has .npy version {version}")
        offset = fh.tell()
    if dtype.hasobject:
        raise _bad(path, f"member {info.filename!r} holds Python objects; a model holds numbers only")
    arr = _Array(info, tuple(shape), bool(fortran), dtype, offset)
    if info.file_size != offset + arr.nbytes:
        raise _bad(
            path,
            f"member {info.filename!r} is {info.file_size} bytes; its shape {arr.shape} "
            f"and dtype {dtype} take {offset + arr.nbytes}",
        )
    return arr


#: Bytes read at a time into an array (a multiple of every itemsize).
_CHUNK = 2**20


def _npy_data(
    zf: zipfile.ZipFile, arr: _Array, path: Any, *, finite: str | None = None
) -> np.ndarray[Any, Any]:
    """The array of a member whose header :func:`_npy_header` has checked, read in chunks
    straight into a new writable array (no second copy).  With ``finite`` (the name to give
    it), NaN or infinity is a ValueError naming it and the index."""
    out = np.empty(arr.shape[::-1] if arr.fortran else arr.shape, dtype=arr.dtype)
    flat = out.reshape(-1)
    raw = flat.view(np.uint8)
    fh: Any
    with zf.open(arr.info) as fh:
        fh.read(arr.offset)
        done = 0
        while done < arr.nbytes:
            got = fh.readinto(raw[done : done + _CHUNK])
            if not got:
                break
            if finite is not None and arr.dtype.kind == "f":
                lo, hi = done // arr.dtype.itemsize, (done + got) // arr.dtype.itemsize
                bad = np.flatnonzero(~np.isfinite(flat[lo:hi]))
                if bad.size:
                    index = np.unravel_index(lo + int(bad[0]), out.shape)
                    where = tuple(int(i) for i in (index[::-1] if arr.fortran else index))
                    raise _bad(path, f"{finite} holds NaN or infinity at {where}: {float(flat[lo + bad[0]])}")
            done += got
        if done != arr.nbytes or fh.read(1):  # reading to the end checks the CRC too
            raise _bad(path, f"member {arr.info.filename!r} does not hold the {arr.nbytes} bytes it declares")
    return out.T if arr.fortran else out


def load(path: str | os.PathLike[str]) -> Sequential:
    """Read a model written by :func:`save` from ``path``.

    ``path`` is a str or os.PathLike naming a regular file; a file object, a descriptor or
    anything else is a TypeError (nothing is opened).  A FIFO, a device, a directory, or a
    corrupt, truncated, foreign or inconsistent file is a ValueError naming the problem:

    - the archive may hold only the header (``__actlab__.npy``, at most
      :data:`MAX_HEADER_BYTES`) and ``W<i>.npy`` and ``b<i>.npy`` per dense layer;
    - each array's declared size (the zip entry's and the .npy header's shape and dtype) must
      match the layer the header describes, and all weights together may take at most
      :data:`MAX_MODEL_BYTES` (1 GiB); both are checked before any array is read;
    - weights must be finite: NaN or infinity names the array and the index.
    """
    _format.check_path(path)
    with _open_regular(path) as fh:
        # np.load takes anything that is not .npy/.npz for a pickle and then advises loading
        # it "unsafely": say what the file is not, instead.
        if fh.read(4) != b"PK\x03\x04":
            raise _bad(path, "not an .npz archive; a model is written by actlab.nn.save")
        fh.seek(0)
        try:
            with zipfile.ZipFile(fh) as zf:
                return _read(zf, path)
        except ValueError as exc:
            if _MARK in str(exc):
                raise
            raise _bad(path, str(exc)) from None
        except MemoryError:
            raise
        except Exception as exc:  # zipfile/zlib/struct errors from a damaged archive
            raise _bad(path, f"{type(exc).__name__}: {exc}") from None


def _read(zf: zipfile.ZipFile, path: Any) -> Sequential:
    infos = {}
    for info in zf.infolist():
        if info.filename in infos:
            raise _bad(path, f"member {info.filename!r} appears twice")
        infos[info.filename] = info
    if _HEADER not in infos:
        raise _bad(path, "no actlab header; is it a model saved by actlab.nn.save?")
    if infos[_HEADER].file_size > MAX_HEADER_BYTES:
        raise _bad(
            path,
            f"member {_HEADER!r} is {infos[_HEADER].file_size} bytes, more than the "
            f"{MAX_HEADER_BYTES} bytes a header may take",
        )
    header = _npy_header(zf, infos[_HEADER], path)
    if header.dtype.kind != "U" or header.shape != ():
        raise _bad(path, f"the header is a {header.dtype} array of shape {header.shape}, not a JSON text")
    try:
        meta = json.loads(str(_npy_data(zf, header, path)[()]))
    except RecursionError:
        raise _bad(path, "the header's JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise _bad(path, f"the header is not JSON: {exc}") from None
    try:
        return _build(zf, infos, meta, path)
    except (KeyError, TypeError, AttributeError) as exc:
        raise _bad(path, f"{type(exc).__name__}: {exc}") from None


def _build(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], meta: Any, path: Any) -> Sequential:
    if not isinstance(meta, dict):
        raise _bad(path, f"the header is a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != FORMAT:
        raise _bad(path, f"unknown format {meta.get('format')!r}")
    if meta.get("dtype") not in _FLOAT_DTYPES:
        raise _bad(path, f"dtype must be float16, float32 or float64, got {meta.get('dtype')!r}")
    dtype = np.dtype(meta["dtype"])
    specs = meta["layers"]
    if not isinstance(specs, list):
        raise _bad(path, f"layers must be a list, got {type(specs).__name__}")
    # The dense layers' shapes, from the header alone.
    dense: list[tuple[dict[str, Any], int, int, int]] = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise _bad(path, f"a layer must be a JSON object, got {spec!r:.80}")
        if spec["type"] in ("Dense", "Maxout"):
            n_in, n_out = positive_int("n_in", spec["n_in"]), positive_int("n_out", spec["n_out"])
            pieces = positive_int("pieces", spec["pieces"]) if spec["type"] == "Maxout" else 1
            dense.append((spec, n_in, n_out, pieces))
        elif spec["type"] != "Activation":
            raise _bad(path, f"unknown layer type {spec['type']!r}")
    members = {_HEADER} | {f"{p}{k}.npy" for k in range(len(dense)) for p in "Wb"}
    extra = sorted(set(infos) - members)
    if extra:
        raise _bad(
            path,
            f"unexpected member {extra[0]!r}: a model holds {_HEADER} and W<i>.npy, b<i>.npy "
            f"for each of its {len(dense)} dense layers",
        )
    missing = [m for m in sorted(members) if m not in infos]
    if missing:
        raise _bad(path, f"missing member {missing[0]!r}")
    # Each array's declared shape against its layer, then the total, before reading any.
    stored: list[tuple[_Array, _Array]] = []
    for k, (_, n_in, n_out, pieces) in enumerate(dense):
        cols = n_out * pieces
        W_head, b_head = _npy_header(zf, infos[f"W{k}.npy"], path), _npy_header(zf, infos[f"b{k}.npy"], path)
        if (
            W_head.shape != (n_in, cols)
            or b_head.shape != (cols,)
            or W_head.dtype != dtype
            or b_head.dtype != dtype
        ):
            raise _bad(
                path,
                f"weights of layer {k} have shape {W_head.shape}/{b_head.shape} and dtype "
                f"{W_head.dtype}, expected {(n_in, cols)}/{(cols,)} and {dtype}",
            )
        stored.append((W_head, b_head))
    total = sum(w.nbytes + v.nbytes for w, v in stored)
    if total > MAX_MODEL_BYTES:
        raise _bad(
            path,
            f"its layers hold {total} bytes of weights, more than the {MAX_MODEL_BYTES} bytes "
            f"load reads (MAX_MODEL_BYTES)",
        )
    layers: list[Layer] = []
    k = 0
    for spec in specs:
        if spec["type"] == "Activation":
            layers.append(Activation(spec["name"], **spec["params"]))
            continue
        W, b = (
            _npy_data(zf, member, path, finite=f"{name} (dense layer {k})")
            for name, member in zip((f"W{k}", f"b{k}"), stored[k])
        )
        if spec["type"] == "Dense":
            layer: Dense = Dense.from_arrays(W, b, init=spec["init"])
        else:
            layer = Maxout.from_arrays(W, b, init=spec["init"], pieces=dense[k][3])
        layers.append(layer)
        k += 1
    return Sequential(layers, output=meta["output"])
