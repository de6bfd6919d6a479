"""load on files nobody should trust: sizes checked before reading, only regular files,
only paths, no NaN weights, no RecursionError."""

from __future__ import annotations

import json
import os
import re
import threading
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from actlab import nn
from actlab.nn import io as nn_io

MiB = 2**20


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    model = nn.build_mlp(4, [6], 3, activation="tanh", seed=1)
    path = tmp_path / "model.npz"
    nn.save(model, path)
    return path


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _peak_while(call: Any) -> tuple[BaseException | None, int]:
    """Run ``call``; the exception it raised (or None) and the peak traced memory in bytes."""
    tracemalloc.start()
    try:
        call()
        raised = None
    except Exception as exc:
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return raised, peak


# --------------------------------------------------------------------------- sizes
def test_unused_huge_member_is_refused_without_reading_it(saved: Path, tmp_path: Path) -> None:
    # 256 MiB of zeros, deflated to about 250 kB, beside a valid model.
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(saved.read_bytes())
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("junk.npy", "w", force_zip64=True) as member:
            chunk = bytes(16 * MiB)
            for _ in range(16):
                member.write(chunk)
    assert bomb.stat().st_size < 2 * MiB
    raised, peak = _peak_while(lambda: nn.load(bomb))
    assert isinstance(raised, ValueError), raised
    assert "unexpected member 'junk.npy'" in str(raised)
    assert peak < 4 * MiB


def test_member_larger_than_its_shape_is_refused(saved: Path, tmp_path: Path) -> None:
    # W0.npy says (4, 6) float64 but carries 8 MiB more: its declared size gives it away.
    bad = tmp_path / "long.npz"
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "W0.npy":
                data += bytes(8 * MiB)
            dst.writestr(info.filename, data)
    raised, peak = _peak_while(lambda: nn.load(bad))
    assert isinstance(raised, ValueError), raised
    assert "W0.npy" in str(raised) and "bytes" in str(raised)
    assert peak < 2 * MiB


def test_weights_beyond_the_cap_are_refused_before_any_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = nn.build_mlp(500, [1000], 10, activation="relu", seed=0)  # 4 MB of float64 weights
    path = tmp_path / "big.npz"
    nn.save(model, path)
    monkeypatch.setattr(nn_io, "MAX_MODEL_BYTES", MiB)
    raised, peak = _peak_while(lambda: nn.load(path))
    assert isinstance(raised, ValueError), raised
    need = 8 * (500 * 1000 + 1000 + 1000 * 10 + 10)
    assert f"{need} bytes of weights" in str(raised) and f"{MiB} bytes" in str(raised)
    assert peak < MiB // 2


def test_documented_cap() -> None:
    assert nn_io.MAX_MODEL_BYTES == 2**30
    assert "MAX_MODEL_BYTES" in (nn.load.__doc__ or "")


def test_oversized_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "header.npz"
    meta = {"format": "actlab.nn/1", "dtype": "float64", "output": "softmax", "layers": [],
            "padding": "x" * (2 * MiB)}
    np.savez(path, __actlab__=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match=r"__actlab__\.npy.*bytes"):
        nn.load(path)


def test_missing_member_is_named(saved: Path, tmp_path: Path) -> None:
    arrays = _arrays(saved)
    del arrays["b1"]
    bad = tmp_path / "missing.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match=r"not a valid actlab model file .*missing member 'b1\.npy'"):
        nn.load(bad)


def test_compressed_model_loads(saved: Path, tmp_path: Path) -> None:
    # np.savez_compressed (deflate) is an .npz too: the checks read it the same way.
    packed = tmp_path / "packed.npz"
    np.savez_compressed(packed, **_arrays(saved))
    X = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_array_equal(nn.load(packed).forward(X), nn.load(saved).forward(X))


def test_fortran_ordered_weights_load_exactly(saved: Path, tmp_path: Path) -> None:
    arrays = _arrays(saved)
    arrays["W0"] = np.asfortranarray(arrays["W0"])
    path = tmp_path / "fortran.npz"
    np.savez(path, **arrays)
    np.testing.assert_array_equal(nn.load(path).dense_layers[0].W, arrays["W0"])


# --------------------------------------------------------------------------- the header
def test_deeply_nested_header_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.npz"
    np.savez(path, __actlab__=np.array("[" * 100_000 + "]" * 100_000))
    with pytest.raises(ValueError, match="not a valid actlab model file .*nested"):
        nn.load(path)


def test_non_float_model_dtype_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dtype.npz"
    meta = {"format": "actlab.nn/1", "dtype": "U1000000", "output": "softmax", "layers": []}
    np.savez(path, __actlab__=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match="dtype must be float16, float32 or float64, got 'U1000000'"):
        nn.load(path)


# --------------------------------------------------------------------------- what a path is
def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "f.npz"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            nn.load(fifo)
            outcome.append(None)
        except BaseException as exc:  # reported below
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        # release the reader blocked in open() before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        pytest.fail("nn.load blocked on a FIFO")
    (exc,) = outcome
    assert isinstance(exc, ValueError) and "(a FIFO, not a regular file)" in str(exc), exc


@pytest.mark.parametrize(("where", "kind"), [("dir", "a directory"), ("/dev/null", "a character device")])
def test_other_non_regular_files_are_refused(tmp_path: Path, where: str, kind: str) -> None:
    path = tmp_path if where == "dir" else Path(where)
    with pytest.raises(ValueError, match=rf"not a valid actlab model file \({kind}, not a regular file\)"):
        nn.load(path)


def test_missing_file_is_still_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "absent.npz")


def test_descriptor_is_refused_and_left_open(saved: Path) -> None:
    fd = os.open(saved, os.O_RDONLY)
    try:
        with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike, got \d+ \(int\)"):
            nn.load(fd)  # type: ignore[arg-type]
        os.fstat(fd)  # still open: raises OSError if load closed it
        assert os.read(fd, 4) == b"PK\x03\x04"
    finally:
        os.close(fd)


def test_file_objects_and_other_types_are_refused(saved: Path, tmp_path: Path) -> None:
    with open(saved, "rb") as fh:
        with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike, got .*BufferedReader"):
            nn.load(fh)  # type: ignore[arg-type]
        assert not fh.closed and fh.tell() == 0
    for bad in (None, 3.0, True, b"model.npz"):
        with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
            nn.load(bad)  # type: ignore[arg-type]


def test_save_refuses_a_descriptor(tmp_path: Path) -> None:
    model = nn.build_mlp(2, [3], 2, activation="relu")
    fd = os.open(tmp_path / "out.npz", os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
            nn.save(model, fd)  # type: ignore[arg-type]
        os.fstat(fd)
        assert (tmp_path / "out.npz").stat().st_size == 0
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize(("name", "index", "value"), [("W0", (1, 2), np.nan), ("b1", (0,), np.inf),
                                                      ("W1", (0, 0), -np.inf)])
def test_non_finite_weights_are_refused(saved: Path, tmp_path: Path, name: str, index: tuple[int, ...],
                                        value: float) -> None:
    arrays = _arrays(saved)
    arrays[name][index] = value
    bad = tmp_path / "nan.npz"
    np.savez(bad, **arrays)
    layer = {"W0": 0, "b1": 1, "W1": 1}[name]
    with pytest.raises(ValueError, match=rf"{name} \(dense layer {layer}\) holds NaN or infinity at {re.escape(str(index))}"):
        nn.load(bad)


def test_non_finite_weight_in_a_fortran_order_array_is_named_by_its_index(saved: Path, tmp_path: Path) -> None:
    arrays = _arrays(saved)
    arrays["W0"] = np.asfortranarray(arrays["W0"])
    arrays["W0"][3, 1] = np.nan
    bad = tmp_path / "fortran.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match=r"W0 \(dense layer 0\) holds NaN or infinity at \(3, 1\): nan"):
        nn.load(bad)
    arrays["W0"][3, 1] = 0.5
    np.savez(bad, **arrays)
    np.testing.assert_array_equal(nn.load(bad).dense_layers[0].W, arrays["W0"])  # read in the order stored
