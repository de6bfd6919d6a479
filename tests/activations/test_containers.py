"""The result never depends on the container: big-endian arrays, memmaps, ndarray
subclasses, Fortran order and strided views, as input or as out=, give the bits of the
plain call on a C-contiguous native array, for every registered activation and method."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import actlab

NAMES = actlab.names()
DTYPES = [np.float32, np.float64]


class Sub(np.ndarray):
    """A subclass that adds nothing."""


def points(dtype: Any) -> np.ndarray:
    """Values where the compiled and the NumPy kernels are most likely to differ."""
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.standard_normal(96) * 4, rng.uniform(-40, 40, 96)])
    return x.reshape(12, 16).astype(dtype)


def containers(a: np.ndarray, tmp: Path) -> dict[str, np.ndarray]:
    """The same values in each kind of container."""
    big = a.astype(a.dtype.newbyteorder(">"))
    mm = np.memmap(tmp / f"m{a.dtype}{a.shape}.dat", dtype=a.dtype, mode="w+", shape=a.shape)
    mm[...] = a
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
    wide[:, ::2] = a
    return {"big-endian": big, "memmap": mm, "subclass": a.copy().view(Sub),
            "fortran": np.asfortranarray(a), "strided": wide[:, ::2]}


def outs(shape: tuple[int, ...], dtype: Any, tmp: Path, tag: str) -> dict[str, Callable[[], np.ndarray]]:
    """Makers of an out= of each kind of container (fresh each call)."""
    dt = np.dtype(dtype)

    def memmap() -> np.ndarray:
        return np.memmap(tmp / f"o{tag}{dt}.dat", dtype=dt, mode="w+", shape=shape)

    def strided() -> np.ndarray:
        return np.zeros((shape[0], 2 * shape[1]), dt)[:, ::2]

    return {"big-endian": lambda: np.zeros(shape, dt.newbyteorder(">")), "memmap": memmap,
            "subclass": lambda: np.zeros(shape, dt).view(Sub),
            "fortran": lambda: np.zeros(shape, dt, order="F"), "strided": strided}


def same(got: Any, want: np.ndarray, what: str) -> None:
    got = np.asarray(got)
    assert type(want) is np.ndarray
    assert got.shape == want.shape, what
    native = got.astype(got.dtype.newbyteorder("="))
    assert native.dtype == want.dtype, what
    bits = f"u{want.itemsize}"
    diff = native.view(bits) != want.view(bits)
    assert not diff.any(), (what, native[diff][:4], want[diff][:4])


def methods(act: actlab.Activation) -> list[str]:
    return ["f", "derivative", "backward", "forward_with_derivative"] if act.elementwise \
        else ["f", "backward"]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_input_container_does_not_change_the_bits(name: str, dtype: Any, tmp_path: Path) -> None:
    act = actlab.get(name)
    x = points(dtype)
    y = act(x)
    g = np.random.default_rng(3).standard_normal(y.shape).astype(dtype)
    want_b = act.backward(x, g)
    (tmp_path / "g").mkdir()
    cg = containers(g, tmp_path / "g")
    for kind, cx in containers(x, tmp_path).items():
        same(act(cx), y, f"{kind} f")
        got = act.backward(cx, cg[kind])
        assert type(got) is np.ndarray, kind
        same(got, want_b, f"{kind} backward")
        if act.elementwise:
            d = act.derivative(x)
            same(act.derivative(cx), d, f"{kind} derivative")
            f2, d2 = act.forward_with_derivative(cx)
            same(f2, y, f"{kind} forward_with_derivative f")
            same(d2, d, f"{kind} forward_with_derivative f'")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_saved_output_container_does_not_change_the_bits(name: str, dtype: Any,
                                                         tmp_path: Path) -> None:
    act = actlab.get(name)
    x = points(dtype)
    y = act(x)
    g = np.ones(y.shape, dtype)
    want = act.backward(x, g, y=y)
    for kind, cy in containers(y, tmp_path).items():
        same(act.backward(x, g, y=cy), want, f"{kind} y backward")
        if act.elementwise:
            same(act.derivative(x, y=cy), act.derivative(x, y=y), f"{kind} y derivative")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_out_container_does_not_change_the_bits(name: str, dtype: Any, tmp_path: Path) -> None:
    act = actlab.get(name)
    x = points(dtype)
    y = act(x)
    g = np.random.default_rng(3).standard_normal(y.shape).astype(dtype)
    want_b = act.backward(x, g)
    for kind, make in outs(y.shape, dtype, tmp_path, "f").items():
        o = make()
        assert act(x, out=o) is o
        same(o, y, f"{kind} out f")
    for kind, make in outs(x.shape, dtype, tmp_path, "b").items():
        o = make()
        assert act.backward(x, g, out=o) is o
        same(o, want_b, f"{kind} out backward")
        if act.elementwise:
            d = act.derivative(x)
            o = make()
            assert act.derivative(x, out=o) is o
            same(o, d, f"{kind} out derivative")
            o, o2 = make(), outs(x.shape, dtype, tmp_path, "d")[kind]()
            f2, d2 = act.forward_with_derivative(x, out=o, derivative_out=o2)
            assert f2 is o and d2 is o2
            same(o, y, f"{kind} out forward_with_derivative f")
            same(o2, d, f"{kind} out forward_with_derivative f'")


@pytest.mark.parametrize("name", NAMES)
def test_out_of_another_float_dtype_holds_the_plain_result_rounded(name: str) -> None:
    """act(x, out=float32 buffer) for float64 x holds act(x) rounded to float32, and a
    float64 buffer for float32 x holds act(x) exactly."""
    act = actlab.get(name)
    for dtype, other in ((np.float64, np.float32), (np.float32, np.float64),
                         (np.float64, np.float16)):
        x = points(dtype)
        y = act(x)
        g = np.random.default_rng(3).standard_normal(y.shape).astype(dtype)

        def rounded(a: np.ndarray) -> np.ndarray:
            with np.errstate(over="ignore", under="ignore"):
                return a.astype(other)

        o = np.empty(y.shape, other)
        same(act(x, out=o), rounded(y), f"{dtype.__name__}->{other.__name__} f")
        o = np.empty(x.shape, other)
        same(act.backward(x, g, out=o), rounded(act.backward(x, g)), "backward")
        if act.elementwise:
            d = act.derivative(x)
            o = np.empty(x.shape, other)
            same(act.derivative(x, out=o), rounded(d), "derivative")
            o, o2 = np.empty(x.shape, other), np.empty(x.shape, other)
            act.forward_with_derivative(x, out=o, derivative_out=o2)
            same(o, rounded(y), "forward_with_derivative f")
            same(o2, rounded(d), "forward_with_derivative f'")


@pytest.mark.parametrize("method", ["f", "derivative", "backward"])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_a_broadcast_input_costs_one_contiguous_copy(name: str, method: str) -> None:
    """Beyond its result, a call on a non-contiguous input needs its contiguous copy and
    small blocks, not a second result-sized temporary."""
    import tracemalloc

    from actlab.activations import _fast

    if name not in _fast.kernel_names():
        pytest.skip("no compiled kernel")
    act = actlab.get(name)
    n = 200_000
    x = np.broadcast_to(np.array([0.3]), (n,))
    g = np.ones(n)
    call = {"f": lambda: act(x), "derivative": lambda: act.derivative(x),
            "backward": lambda: act.backward(x, g)}[method]
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 2.1 * result.nbytes, peak / result.nbytes


ELEMENTWISE_NAMES = [n for n in actlab.names() if actlab.get(n).elementwise]


@pytest.mark.parametrize("method", ["f", "derivative", "second_derivative", "backward"])
@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_the_numpy_kernels_need_the_result_and_cache_sized_blocks(name: str, method: str) -> None:
    """On the NumPy path an elementwise call on a contiguous input allocates its result and
    a few block-sized temporaries (a fixed amount, whatever the size), never a result-sized
    temporary."""
    import tracemalloc

    from actlab.activations import _fast
    from actlab.activations._registry import BLOCK

    act = actlab.get(name)
    n = 1_000_000
    x = np.linspace(-30, 30, n)
    g = np.ones(n)
    call = {"f": lambda: act(x), "derivative": lambda: act.derivative(x),
            "second_derivative": lambda: act.second_derivative(x),
            "backward": lambda: act.backward(x, g)}[method]
    with _fast.numpy_only():
        tracemalloc.start()
        try:
            result = call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    temporaries = peak - result.nbytes
    assert temporaries <= 24 * BLOCK * x.itemsize < result.nbytes, temporaries / (BLOCK * x.itemsize)
