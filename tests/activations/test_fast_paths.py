"""The compiled fast paths (actlab.activations._fast) against the NumPy kernels.

The exact functions (step, relu, leaky_relu, identity) must give the same bits.  The others
compute the same formulas in double with their own exponential and arctangent, so they may
differ from the NumPy kernels in the last bit: at most 1 ULP in float32, a few in float64,
and both stay inside the accuracy bounds against mpmath of docs/accuracy.md (checked here on
a sample; the full measurement is test_accuracy.py, which goes through the fast paths
too).  Also: arrays that cross the block and thread boundaries, in-place and overlapping ``out=``, non-contiguous and
other inputs that fall back, NaN and ±inf, and the fallback when the extension is absent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import actlab
from actlab.activations import _fast

#: The elementwise activations with a compiled kernel, and the exact ones among them.
ELEMENTWISE = tuple(n for n in actlab.names() if actlab.get(n).elementwise and actlab.get(n).fast)
EXACT = tuple(n for n in ELEMENTWISE if actlab.get(n).exact)
SMOOTH = tuple(n for n in ELEMENTWISE if not actlab.get(n).exact)
DTYPES = (np.float32, np.float64)
#: Largest difference from the NumPy kernels, in ULP, for the classic functions that are not
#: exact.
ULP_FROM_NUMPY = {np.float32: 1, np.float64: 4}
#: The wider family's smooth kernels follow the NumPy kernels' algorithms but not their bits:
#: each path is within these bounds of the exact value (test_accuracy.py's), so the two are
#: within twice them of each other, and where they are further apart than the bound itself
#: the compiled value is checked against mpmath.
BOUND = {np.float32: 2.0, np.float64: 4.0}
MODERN_SMOOTH = tuple(n for n in SMOOTH if not actlab.get(n).classic)
OPS = ("forward", "derivative", "backward", "forward_with_derivative")

needs_kernels = pytest.mark.skipif(not _fast.available(), reason="C kernels not built")
#: What the extension's stream_at() says where it has no streaming stores (not x86).
NO_STREAMING = sys.maxsize


def streaming_on_each(thread_counts: tuple[int, ...]) -> Iterator[int]:
    """Each thread count in turn, with streaming stores forced on at every size; the
    thread count and the threshold are restored afterwards."""
    threads = _fast.get_num_threads()
    try:
        for t in thread_counts:
            _fast.set_num_threads(t)
            with _fast.streaming_from(0):
                assert _fast.KERNELS.stream_at() in (0, NO_STREAMING)
                yield t
    finally:
        _fast.set_num_threads(threads)


def special_values(dtype: Any) -> np.ndarray:
    fi = np.finfo(dtype)
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, fi.max, -fi.max, fi.tiny, -fi.tiny,
         fi.smallest_subnormal, -fi.smallest_subnormal, 1.0, -1.0, 0.5, -0.5, 2.414213562373095,
         0.41421356237309503, 1e-30, -1e-30, 20.0, -20.0, 37.0, -37.0, 88.7, -88.7, 103.9,
         -103.9, 104.0, -104.0, 110.0, -110.0, 200.0, -200.0, 354.0, -354.0, 373.0, -373.0,
         708.0, -708.0, 744.0, -744.0, 745.2, -745.2, 1000.0, -1000.0, 1e20, -1e20]
    with np.errstate(over="ignore"):
        return np.array(v, dtype=np.float64).astype(dtype)


def points(dtype: Any, n: int = 40_000, seed: int = 0) -> np.ndarray:
    """Special values, a dense grid, log-spread magnitudes and subnormals, shuffled."""
    rng = np.random.default_rng(seed)
    fi = np.finfo(dtype)
    parts = [
        special_values(dtype),
        rng.uniform(-40, 40, n // 2),
        np.exp(rng.uniform(-60, np.log(float(fi.max)) - 1, n // 4)) * rng.choice([-1, 1], n // 4),
        rng.uniform(-800, 0, n // 8),
        rng.uniform(-1, 1, n // 16) * float(fi.tiny),
    ]
    with np.errstate(over="ignore"):
        x = np.concatenate([p.astype(np.float64) for p in parts]).astype(dtype)
    return rng.permutation(x)


def run(act: Any, op: str, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    if op == "forward":
        return (act(x),)
    if op == "derivative":
        return (act.derivative(x),)
    if op == "backward":
        return (act.backward(x, g),)
    return act.forward_with_derivative(x)


def reference(act: Any, op: str, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    # (the NumPy kernels warn on 0·inf when the gradient holds ±inf; the fast path does not)
    with _fast.numpy_only(), np.errstate(invalid="ignore"):
        if op == "forward_with_derivative":
            return act(x), act.derivative(x)
        return run(act, op, x, g)


def ulp_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in representable values between a and b (0 where both are NaN)."""
    bits = np.dtype(f"i{a.itemsize}")
    ia = a.view(bits).astype(np.int64)
    ib = b.view(bits).astype(np.int64)
    # map sign-magnitude to a monotonic integer line
    ia = np.where(ia < 0, np.iinfo(bits).min - ia, ia)
    ib = np.where(ib < 0, np.iinfo(bits).min - ib, ib)
    d = np.abs(ia - ib)
    both_nan = np.isnan(a) & np.isnan(b)
    return np.where(both_nan, 0, d)


def assert_within_bound_of_numpy(ours: np.ndarray, ref: np.ndarray, dtype: Any,
                                 exact: Any = None) -> None:
    """ours within 2 BOUND ULP of the NumPy kernels' ref; where further apart than BOUND,
    ``exact(i)`` (an mpmath value for element i of the flattened arrays) is within BOUND
    of ours."""
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(ref))
    apart = ulp_apart(ours, ref).ravel()
    assert apart.max() <= 2 * BOUND[dtype], (apart.max(), ours.ravel()[apart.argmax()],
                                             ref.ravel()[apart.argmax()])
    if exact is None:
        return
    import references as R
    for i in np.flatnonzero(apart > BOUND[dtype]):
        err = R.ulp_error(float(ours.ravel()[i]), exact(i), dtype)
        assert err <= BOUND[dtype], (i, ours.ravel()[i], ref.ravel()[i], err)


def assert_same(ours: np.ndarray, ref: np.ndarray, name: str, dtype: Any,
                exact: Any = None) -> None:
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    if name in MODERN_SMOOTH:
        assert_within_bound_of_numpy(ours, ref, dtype, exact)
        return
    if name in EXACT:
        same = (ours.view(f"u{ours.itemsize}") == ref.view(f"u{ref.itemsize}")) | np.isnan(ref)
        assert same.all(), (ours[~same][:5], ref[~same][:5])
        return
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(ref))
    np.testing.assert_array_equal(ours == 0, ref == 0)
    apart = ulp_apart(ours, ref)
    assert apart.max() <= ULP_FROM_NUMPY[dtype], (apart.max(), ours[apart.argmax()],
                                                  ref[apart.argmax()])


# ---------------------------------------------------------------------------- same results
@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_fast_path_matches_numpy_kernels(name: str, op: str, dtype: Any) -> None:
    act = actlab.get(name)
    x = points(dtype)
    g = np.random.default_rng(1).standard_normal(x.size).astype(dtype)
    g[:8] = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e30, -1e-30, 1.0]
    ours = run(act, op, x, g)
    ref = reference(act, op, x, g)
    for k, (o, r) in enumerate(zip(ours, ref)):
        assert_same(o, r, name, dtype, exact=exact_values(name, op, k, x, g))


def exact_values(name: str, op: str, k: int, x: np.ndarray, g: np.ndarray) -> Any:
    """Element i of output k of ``op`` from the mpmath oracle (f, f', or g·f')."""
    import mpmath
    from references import reference as oracle

    order = 1 if op in ("derivative", "backward") or k == 1 else 0

    def value(i: int) -> Any:
        v = oracle(name, float(x[i]))[order]
        return v * mpmath.mpf(float(g[i])) if op == "backward" else v

    return value


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", MODERN_SMOOTH)
def test_wider_family_parameters_reach_their_kernels(name: str, dtype: Any) -> None:
    """elu's α and softplus's β are the kernels' parameter, gelu's approximate picks the
    gelu or gelu_tanh kernel; a parameter outside the interval a kernel serves takes the
    NumPy path (the same bits)."""
    x = points(dtype, n=4000)
    g = np.random.default_rng(2).standard_normal(x.size).astype(dtype)
    variants = {"elu": [{"alpha": 0.3}, {"alpha": 2.0**20}], "softplus": [{"beta": 3.0}, {"beta": 1e-9}],
                "gelu": [{"approximate": "tanh"}]}.get(name, [])
    for params in variants:
        act = actlab.get(name, **params)
        served = _fast._kernel(act) is not None
        for op in OPS:
            ours, ref = run(act, op, x, g), reference(act, op, x, g)
            for o, r in zip(ours, ref):
                if served:
                    assert_within_bound_of_numpy(o, r, dtype)
                else:
                    np.testing.assert_array_equal(o.view(f"u{o.itemsize}"), r.view(f"u{r.itemsize}"))
    if name == "gelu":
        assert _fast.kernel_of(actlab.get("gelu", approximate="tanh")) == "gelu_tanh"
        assert _fast.kernel_of(actlab.get("gelu")) == "gelu"
        y = np.array([-1.0, 1.0], dtype)
        assert not np.array_equal(actlab.get("gelu", approximate="tanh")(y), actlab.get("gelu")(y))
    if name in ("elu", "softplus"):
        assert _fast._kernel(actlab.get(name, **variants[0])) is not None
        assert _fast._kernel(actlab.get(name, **variants[1])) is None


def float32_ulp_error(ours: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|ours - exact| in ULP of exact's float32 rounding r, the gap from r toward zero (the
    smallest subnormal at 0), as test_accuracy.py measures it."""
    r = np.abs(exact.astype(np.float32))
    gap = (r - np.nextafter(r, np.float32(0))).astype(np.float64)
    gap = np.where(r == 0, float(np.finfo(np.float32).smallest_subnormal), gap)
    return np.abs(ours.astype(np.float64) - exact) / gap


@needs_kernels
@pytest.mark.parametrize("name", ("sigmoid", "silu", "gelu"))
def test_float32_forward_within_one_ulp_on_a_dense_sweep(name: str) -> None:
    """The float32 forwards with kernels of their own for float32 results (sigmoid and silu
    in float32 lanes, gelu by its own Phi) stay within 1 ULP (the strict measure at powers
    of two included) on 600,000 points from the subnormal results to where f is x or 1,
    against the float64 kernel (within 4 float64 ULP of mpmath: exact to 2^-48 here)."""
    rng = np.random.default_rng(17)
    fi = np.finfo(np.float32)
    x = np.concatenate([rng.uniform(-115, 40, 300_000), rng.uniform(-2, 2, 200_000),
                        np.exp(rng.uniform(np.log(float(fi.smallest_subnormal)), 0, 100_000))
                        * rng.choice([-1.0, 1.0], 100_000)]).astype(np.float32)
    act = actlab.get(name)
    err = float32_ulp_error(act(x), act(x.astype(np.float64)))
    worst = int(err.argmax())
    assert err[worst] <= 1.0, (x[worst], err[worst])
    assert np.mean(err > 0.5) < 0.02  # rounded about once: few results beyond half an ULP


@needs_kernels
def test_the_float32_lane_kernels_are_listed() -> None:
    assert set(_fast.float32_lanes()) == {"sigmoid", "silu", "hard_sigmoid", "hard_swish"}


@needs_kernels
@pytest.mark.parametrize("name", _fast.float32_lanes())
def test_float32_forward_with_derivative_gives_the_forwards_bits(name: str) -> None:
    """forward_with_derivative's f is the forward's, bit for bit, where the float32 forward
    has a loop of its own, also written over x itself; its f' is derivative()'s."""
    act = actlab.get(name)
    x = points(np.float32)
    want_f, want_d = act(x), act.derivative(x)
    bits = "u4"
    f, d = act.forward_with_derivative(x)
    assert (f.view(bits) == want_f.view(bits)).all() and (d.view(bits) == want_d.view(bits)).all()
    xin = x.copy()
    f2, _ = act.forward_with_derivative(xin, out=xin)
    assert f2 is xin and (xin.view(bits) == want_f.view(bits)).all()


@needs_kernels
@pytest.mark.parametrize("name", ("hard_sigmoid", "hard_swish"))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_hard_sigmoid_and_hard_swish_kernels_give_the_numpy_bits(name: str, dtype: Any) -> None:
    """hard_sigmoid and hard_swish are correctly rounded on the NumPy path; the kernels give
    the same bits (x + 3 and x(x+3) exact by a two-sum and an fma; float32 in float32 lanes,
    which tools/check_float32_lanes.py checks on every float32), also for the ties of x/2
    below 2^-60."""
    act = actlab.get(name)
    fi = np.finfo(dtype)
    tiny = np.arange(1, 2000, dtype=np.float64) * float(fi.smallest_subnormal)
    x = np.concatenate([points(dtype, n=20_000).astype(np.float64), np.linspace(-3.5, 3.5, 7001),
                        tiny, -tiny, np.ldexp(np.arange(1, 3000) | 1, -90)]).astype(dtype)
    for op in ("forward", "derivative"):
        ours, ref = run(act, op, x, x), reference(act, op, x, x)
        same = (ours[0].view(f"u{x.itemsize}") == ref[0].view(f"u{x.itemsize}")) | np.isnan(ref[0])
        assert same.all(), (x[~same][:5], ours[0][~same][:5], ref[0][~same][:5])


#: The functions whose f is x/2 (a tie broken upward) below 2^-60: their kernels take a
#: faster rule for blocks without such an input.
HALF_BELOW_2_M60 = ("silu", "gelu", "hard_swish")


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", HALF_BELOW_2_M60)
def test_inputs_below_2_m60_are_found_in_any_block(name: str, dtype: Any) -> None:
    """A lone |x| < 2^-60 in a long array (at a block's first or last element, in place or
    not, one thread or two) gets the NumPy kernels' bits, as it does alone."""
    act = actlab.get(name)
    fi = np.finfo(dtype)
    specials = np.array([float(fi.smallest_subnormal), -3 * float(fi.smallest_subnormal),
                         2.0 ** -70, -(2.0 ** -61) * 1.5, 2.0 ** -127 * 3], dtype=dtype)
    with _fast.numpy_only():
        want = act(specials)
    base = np.random.default_rng(7).standard_normal(5000).astype(dtype) * 4
    plain = act(base)
    threads = _fast.get_num_threads()
    try:
        for t in (1, 2):
            _fast.set_num_threads(t)
            for at in (0, 511, 512, 1023, 4999):
                for k, v in enumerate(specials):
                    x = base.copy()
                    x[at] = v
                    y = act(x)
                    y2, _ = act.forward_with_derivative(x)
                    act(x, out=x)
                    for got in (y[at], y2[at], x[at]):
                        assert got.tobytes() == want[k].tobytes(), (name, at, v, got, want[k])
                    assert np.array_equal(np.delete(y, at), np.delete(plain, at))
    finally:
        _fast.set_num_threads(threads)


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("slope", [0.0, 0.01, 0.3, 0.999, 1.0])
def test_leaky_relu_every_slope_bit_equal(slope: float, dtype: Any) -> None:
    act = actlab.get("leaky_relu", slope=slope)
    x = points(dtype, n=4000)
    # (the NumPy kernel warns on slope·max overflowing and on 0·inf; the fast path does not)
    with np.errstate(invalid="ignore", over="ignore"):
        for op in OPS:
            ours = run(act, op, x, x)
            ref = reference(act, op, x, x)
            for o, r in zip(ours, ref):
                assert_same(o, r, "leaky_relu", dtype)


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", SMOOTH)
def test_fast_path_within_accuracy_bound_on_a_sample(name: str, dtype: Any) -> None:
    """Against the mpmath oracle, on 400 points: 2 ULP float32, 4 ULP float64."""
    mpmath = pytest.importorskip("mpmath")
    from references import reference

    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-30, 30, 300), np.exp(rng.uniform(-30, 4, 100))]).astype(dtype)
    act = actlab.get(name)
    fi = np.finfo(dtype)
    for order, values in enumerate(act.forward_with_derivative(x)):
        for v, xv in zip(values, x):
            true = reference(name, float(xv))[order]
            if true == 0:
                assert v == 0
                continue
            e = max(int(mpmath.floor(mpmath.log(abs(true), 2))), fi.minexp)
            ulp = mpmath.mpf(2) ** (e - fi.nmant)
            err = float(abs(mpmath.mpf(float(v)) - true) / ulp)
            assert err <= {np.float32: 2.0, np.float64: 4.0}[dtype], (name, xv, v, err)


# ---------------------------------------------------------------------------- threads, blocks
@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_threads_do_not_change_the_bits(name: str, dtype: Any) -> None:
    """An array past every split threshold (odd length: ragged pieces and SIMD tails)."""
    act = actlab.get(name)
    x = points(dtype, n=(1 << 18) + 77, seed=3)
    g = np.random.default_rng(4).standard_normal(x.size).astype(dtype)
    threads = _fast.get_num_threads()
    try:
        results = {}
        for t in (1, 2, 3, 7):
            _fast.set_num_threads(t)
            results[t] = (act(x), act.backward(x, g), *act.forward_with_derivative(x))
    finally:
        _fast.set_num_threads(threads)
    for t in (2, 3, 7):
        for a, b in zip(results[1], results[t]):
            assert a.view(f"u{a.itemsize}").tobytes() == b.view(f"u{b.itemsize}").tobytes()
    assert_same(results[2][0], reference(act, "forward", x, g)[0], name, dtype)


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_streaming_stores_do_not_change_the_bits(name: str, dtype: Any) -> None:
    """Large outputs of the exact kernels go through an L1 block and non-temporal stores;
    forced on here for every size, on a view that starts off the 16-byte grid (the stores'
    aligned middle and unaligned ends), ragged blocks, threads and in place."""
    act = actlab.get(name)
    base = points(dtype, n=70_000, seed=6)
    x = base[1:]  # contiguous, 4 or 8 bytes past an aligned start
    g = np.random.default_rng(7).standard_normal(x.size).astype(dtype)
    want = (act(x), act.derivative(x), act.backward(x, g), *act.forward_with_derivative(x))
    for _ in streaming_on_each((1, 2)):
        outs = [np.empty(x.size + 1, dtype)[1:] for _ in range(5)]
        got = (act(x, out=outs[0]), act.derivative(x, out=outs[1]),
               act.backward(x, g, out=outs[2]),
               *act.forward_with_derivative(x, out=outs[3], derivative_out=outs[4]))
        in_place = x.copy()
        act(in_place, out=in_place)
        got_g = g.copy()
        act.backward(x, got_g, out=got_g)
        for a, b in zip(want + (want[0], want[2]), got + (in_place, got_g)):
            assert a.view(f"u{a.itemsize}").tobytes() == b.view(f"u{b.itemsize}").tobytes()
    assert _fast.KERNELS.stream_at() in (16 << 20, NO_STREAMING)
    assert_same(want[0], reference(act, "forward", x, g)[0], name, dtype)


@needs_kernels
@pytest.mark.parametrize("spin", [0, 1, 5_000_000])
def test_helpers_spinning_or_asleep_give_the_same_bits(spin: int) -> None:
    """Pool helpers poll for the next job a while before they sleep (spin_ns); calls that
    follow one another find them polling, asleep (spin 0) or just going to sleep (1 ns)."""
    saved = _fast.KERNELS.spin_ns()
    if saved == 0:
        pytest.skip("this build has no pool of helper threads")
    act = actlab.get("sigmoid")
    x = points(np.float32, n=(1 << 16) + 77, seed=8)
    want = act(x)
    threads = _fast.get_num_threads()
    try:
        _fast.set_num_threads(2)
        assert _fast.KERNELS.spin_ns(spin) == spin
        got = [act(x) for _ in range(20)]
    finally:
        _fast.KERNELS.spin_ns(saved)
        _fast.set_num_threads(threads)
    for g in got:
        assert g.view(np.uint32).tobytes() == want.view(np.uint32).tobytes()


@needs_kernels
def test_spin_ns_validates() -> None:
    saved = _fast.KERNELS.spin_ns()
    with pytest.raises(ValueError, match="spin_ns must be >= 0 and <= 10000000000, got -1"):
        _fast.KERNELS.spin_ns(-1)
    with pytest.raises(TypeError, match="at most 1 argument"):
        _fast.KERNELS.spin_ns(1, 2)
    assert _fast.KERNELS.spin_ns() == saved  # left as it was


@needs_kernels
def test_streaming_threshold_validates() -> None:
    with pytest.raises(ValueError, match="stream_at must be >= 0"):
        with _fast.streaming_from(-1):
            pass
    with pytest.raises(TypeError, match="at most 1 argument"):
        _fast.KERNELS.stream_at(1, 2)
    assert _fast.KERNELS.stream_at() in (16 << 20, NO_STREAMING)  # left as it was


#: The softmax and maxout kernels' results on one input, for both builds (run here and in
#: the baseline build's subprocess): softmax along rows, forward and backward from x and
#: from the saved output; maxout in groups of 2 and 3, forward and backward.
_VECTOR_RUNS = """
def vector_runs(kernels, key, x):
    g = np.linspace(-3, 3, x.size).astype(x.dtype).reshape(x.shape)
    out = {}
    if key.startswith("softmax") or key.startswith("log_softmax"):
        rows = kernels.log_softmax if key.startswith("log_softmax") else kernels.softmax
        m = x.shape[-1]
        y = np.empty_like(x)
        assert rows(x, None, None, y, m, 2)
        out["fwd"] = y
        for label, saved in (("bwd", None), ("bwd_y", y)):
            o = np.empty_like(x)
            assert rows(x, g, saved, o, m, 2)
            out[label] = o
        return out
    flat = x.ravel()
    for k in (2, 3):
        f = np.empty(flat.size // k, x.dtype)
        assert kernels.maxout(flat, None, f, k, 2)
        b = np.empty_like(flat)
        assert kernels.maxout(flat, np.ascontiguousarray(g.ravel()[: flat.size // k]), b, k, 2)
        out[f"fwd{k}"], out[f"bwd{k}"] = f, b
    return out
"""

_BASELINE_SCRIPT = """
import sys
import numpy as np
from actlab.activations import _fast
assert _fast.KERNELS.isa == "baseline", _fast.KERNELS.isa
inputs = np.load(sys.argv[1], allow_pickle=False)
kernels = list(_fast.KERNELS.kernel_names())
results = {}
for key in inputs.files:
    name = key.split(":")[0]
    x = inputs[key]
    if name in ("softmax", "maxout"):
        for label, r in vector_runs(_fast.KERNELS, key, x).items():
            results[f"{key}:{label}"] = r
        continue
    g = np.linspace(-3, 3, x.size).astype(x.dtype)
    for mode in range(4):
        o, o2 = np.empty_like(x), np.empty_like(x)
        assert _fast.KERNELS.elementwise(kernels.index(name), mode, x, g, o, o2, 0.01, 2)
        results[f"{key}:{mode}"] = np.stack([o, o2]) if mode == 3 else o
np.savez(sys.argv[2], **results)
""".replace("results = {}", _VECTOR_RUNS + "results = {}")
exec(_VECTOR_RUNS)  # defines vector_runs here too


@needs_kernels
def test_avx2_and_baseline_kernels_give_the_same_bits(tmp_path: Any) -> None:
    """The kernels are compiled for AVX-512, AVX2+FMA and baseline x86-64 (the one in use
    is compared with the baseline here; test_isa.py compares every pair) and the
    float32 sigmoid, tanh and selu and the float32 softmax rows' maximum (and minimum, which
    spares the exponential's clamp) have hand-vectorised AVX2 code besides: every kernel and mode,
    softmax and maxout included, must give the same bits both ways.  The baseline build runs
    in a subprocess (ACTLAB_NO_AVX2=1)."""
    if _fast.KERNELS.isa == "baseline":
        pytest.skip("this machine runs the baseline kernels only")
    kernels = list(_fast.KERNELS.kernel_names())
    inputs = {f"{name}:{dtype.__name__}": points(dtype, n=20_000, seed=8)
              for name in kernels for dtype in DTYPES}
    vector_inputs = {}
    for dtype in DTYPES:
        # rows whose spread stays above the exponential's clamp and rows that cross it
        rows = np.random.default_rng(20).standard_normal((60, 1000)) * np.repeat([4, 40], 30)[:, None]
        vector_inputs[f"softmax:{dtype.__name__}:1000"] = rows.astype(dtype)
        vector_inputs[f"softmax:{dtype.__name__}:37"] = softmax_rows(dtype)[:, :37].copy()
        vector_inputs[f"softmax:{dtype.__name__}:rows"] = softmax_rows(dtype)
        pool = points(dtype, n=20_000, seed=9)
        vector_inputs[f"maxout:{dtype.__name__}"] = pool[: pool.size // 6 * 6].copy()
    np.savez(tmp_path / "in.npz", **inputs, **vector_inputs)
    env = {**os.environ, "ACTLAB_NO_AVX2": "1"}
    subprocess.run([sys.executable, "-c", _BASELINE_SCRIPT, str(tmp_path / "in.npz"),
                    str(tmp_path / "out.npz")], env=env, check=True, timeout=120)
    baseline = np.load(tmp_path / "out.npz", allow_pickle=False)
    for key, x in vector_inputs.items():
        for label, ours in vector_runs(_fast.KERNELS, key, x).items():
            theirs = baseline[f"{key}:{label}"]
            assert ours.tobytes() == theirs.tobytes(), (key, label)
    for key, x in inputs.items():
        name = key.split(":")[0]
        g = np.linspace(-3, 3, x.size).astype(x.dtype)
        for mode in range(4):
            o, o2 = np.empty_like(x), np.empty_like(x)
            assert _fast.KERNELS.elementwise(kernels.index(name), mode, x, g, o, o2, 0.01, 2)
            ours = np.stack([o, o2]) if mode == 3 else o
            theirs = baseline[f"{key}:{mode}"]
            bits = f"u{x.itemsize}"
            assert ours.view(bits).tobytes() == theirs.view(bits).tobytes(), (key, mode)


def test_set_num_threads_validates() -> None:
    with pytest.raises(ValueError, match="positive integer"):
        _fast.set_num_threads(0)
    with pytest.raises(ValueError, match="positive integer"):
        _fast.set_num_threads(True)


# ---------------------------------------------------------------------------- out=, in place
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_out_may_be_x_itself(name: str, dtype: Any) -> None:
    act = actlab.get(name)
    x = points(dtype, n=5000)
    g = np.random.default_rng(5).standard_normal(x.size).astype(dtype)
    want_f, want_d = act(x), act.derivative(x)
    want_b = act.backward(x, g)

    y = x.copy()
    assert act(y, out=y) is y
    assert_same(y, want_f, name, dtype)
    y = x.copy()
    assert act.derivative(y, out=y) is y
    assert_same(y, want_d, name, dtype)
    y, gg = x.copy(), g.copy()
    assert act.backward(y, gg, out=gg) is gg  # out is grad
    assert_same(gg, want_b, name, dtype)
    y = x.copy()
    assert act.backward(y, g, out=y) is y  # out is x
    assert_same(y, want_b, name, dtype)
    y, d = x.copy(), np.empty_like(x)
    f, d2 = act.forward_with_derivative(y, out=y, derivative_out=d)
    assert f is y and d2 is d
    assert_same(f, want_f, name, dtype)
    assert_same(d, want_d, name, dtype)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "leaky_relu"])
def test_partially_overlapping_out_falls_back_and_is_right(name: str) -> None:
    act = actlab.get(name)
    buf = np.linspace(-5, 5, 1001)
    x = buf[:-1].copy()
    want = act(x)
    got = act(buf[:-1], out=buf[1:])  # out shifted one element against x
    assert_same(got, want, name, np.float64)


def test_out_of_another_dtype_or_shape_takes_the_numpy_path() -> None:
    act = actlab.get("sigmoid")
    x32 = np.linspace(-3, 3, 10, dtype=np.float32)
    out64 = np.empty(10)
    act(x32, out=out64)
    np.testing.assert_array_equal(out64, act(x32).astype(np.float64))
    with pytest.raises(ValueError, match="shape"):
        act(x32, out=np.empty((2, 5), dtype=np.float32))
    with pytest.raises(ValueError):
        act(np.ones(3), out=np.empty(3, dtype=np.int64))
    read_only = np.empty(10, dtype=np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError):
        act(x32, out=read_only)


# ---------------------------------------------------------------------------- fallbacks
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_results_do_not_depend_on_layout_or_container(name: str) -> None:
    """Strided, Fortran-order and reversed arrays, lists and scalars give the bits of the
    contiguous array (the fast path copies them first)."""
    act = actlab.get(name)
    base = np.linspace(-9, 9, 64).reshape(8, 8)
    for x in (base[:, ::2], np.asfortranarray(base), base[::-1], base.astype(np.float32)[:, ::-3]):
        want = act(np.ascontiguousarray(x))
        for got in (act(x), act.derivative(x), act.backward(x, x), act.forward_with_derivative(x)[0]):
            assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(act(x), want)
        np.testing.assert_array_equal(act.backward(x, x), act.backward(want * 0 + x, x))
        out = np.empty((8, 8))[:, ::2] if x.shape == (8, 4) else None
        if out is not None and x.dtype == np.float64:
            assert act(x, out=out) is out
            np.testing.assert_array_equal(out, want)
    row = [-2.5, -0.5, 0.0, 1.5]
    np.testing.assert_array_equal(act(row), act(np.array(row)))
    s = act(-0.75)
    assert np.isscalar(s) and s == act(np.array([-0.75]))[0]
    f, d = act.forward_with_derivative(-0.75)
    assert np.isscalar(f) and np.isscalar(d) and d == act.derivative(np.array([-0.75]))[0]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_other_dtypes_take_the_numpy_path(name: str) -> None:
    act = actlab.get(name)
    base = np.linspace(-9, 9, 64).reshape(8, 8)
    for x in (base.astype(np.float16), np.arange(-4, 4), np.arange(-4, 4, dtype=np.int8)):
        got = act(x)
        with _fast.numpy_only():
            want = act(x)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    # a big-endian array is the same values as a native one: it takes the plain call's path
    np.testing.assert_array_equal(act(base.astype(">f8")), act(base))


def test_zero_d_and_empty_arrays() -> None:
    for name in ELEMENTWISE:
        act = actlab.get(name)
        for dtype in DTYPES:
            y = act(np.array(0.5, dtype=dtype))
            assert isinstance(y, np.ndarray) and y.shape == () and y.dtype == dtype
            e = act(np.empty((0, 3), dtype=dtype))
            assert e.shape == (0, 3) and e.dtype == dtype
            f, d = act.forward_with_derivative(np.array(-0.5, dtype=dtype))
            assert f.shape == () and d.shape == ()


def test_saved_output_is_validated_on_the_fast_path_too() -> None:
    act = actlab.get("sigmoid")
    x = np.linspace(-1, 1, 6)
    with pytest.raises(ValueError, match="saved output"):
        act.backward(x, np.ones(6), y=np.ones(5))
    np.testing.assert_array_equal(act.backward(x, np.ones(6), y=act(x)), act.derivative(x))


def test_without_the_extension_everything_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """What an install without a C compiler gets: the NumPy kernels, the same values."""
    x = points(np.float64, n=3000)
    g = np.ones_like(x)
    before = {n: (actlab.get(n)(x), actlab.get(n).backward(x, g)) for n in ELEMENTWISE}
    rows = x[:2800].reshape(28, 100)
    sm_before = actlab.softmax(rows)
    monkeypatch.setattr(_fast, "KERNELS", None)
    monkeypatch.setattr(_fast, "_IDS", {})
    assert not _fast.available() and "NumPy" in _fast.status() and _fast.kernel_names() == []
    for name in ELEMENTWISE:
        act = actlab.get(name)
        f, d = act.forward_with_derivative(x)
        assert_same(f, before[name][0], name, np.float64)
        assert_same(act.backward(x, g), before[name][1], name, np.float64)
        np.testing.assert_array_equal(d, act.derivative(x))
    np.testing.assert_allclose(actlab.softmax(rows), sm_before, rtol=1e-14, atol=0)


def test_kernels_module_refuses_unsuitable_buffers() -> None:
    if not _fast.available():
        pytest.skip("C kernels not built")
    k = _fast.KERNELS
    x = np.linspace(-1, 1, 16)
    out = np.empty(16)
    assert k.elementwise(1, 0, x, None, out, None, 0.0, 1)
    assert not k.elementwise(1, 0, x[::2], None, out[:8], None, 0.0, 1)  # strided
    ro = out.copy()
    ro.flags.writeable = False
    assert not k.elementwise(1, 0, x, None, ro, None, 0.0, 1)  # read-only
    assert not k.elementwise(1, 3, x, None, out, out, 0.0, 1)  # both outputs the same
    # wrong calls, rather than layouts to fall back from (test_kernel_arguments.py has all)
    with pytest.raises(ValueError, match="out has 8 elements"):
        k.elementwise(1, 0, x, None, out[:8], None, 0.0, 1)
    with pytest.raises(TypeError, match="out is float32 but x is float64"):
        k.elementwise(1, 0, x, None, out.astype(np.float32), None, 0.0, 1)
    with pytest.raises(TypeError, match="float32 or float64"):
        k.elementwise(1, 0, x, None, b"\0" * 128, None, 0.0, 1)
    with pytest.raises(ValueError, match="kernel"):
        k.elementwise(99, 0, x, None, out, None, 0.0, 1)
    with pytest.raises(TypeError):
        k.elementwise(1, 0, x)


# ---------------------------------------------------------------------------- softmax
def softmax_rows(dtype: Any) -> np.ndarray:
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((64, 1000)) * 8).astype(dtype)
    x[1, 3] = np.inf
    x[2, [5, 9]] = np.inf
    x[3, :] = -np.inf
    x[4, 7] = np.nan
    x[5, ::3] = -np.inf
    x[6, :] = np.finfo(dtype).max
    x[7, 0] = -np.finfo(dtype).max
    return x


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_softmax_fast_path_matches_numpy(dtype: Any) -> None:
    sm = actlab.get("softmax")
    x = softmax_rows(dtype)
    g = np.random.default_rng(12).standard_normal(x.shape).astype(dtype)
    ours, ours_b, ours_by = sm(x), sm.backward(x, g), sm.backward(x, g, y=sm(x))
    with _fast.numpy_only():
        ref, ref_b, ref_by = sm(x), sm.backward(x, g), sm.backward(x, g, y=sm(x))
    for o, r in ((ours, ref), (ours_b, ref_b), (ours_by, ref_by)):
        assert o.dtype == r.dtype and o.shape == r.shape
        np.testing.assert_array_equal(np.isnan(o), np.isnan(r))
        close = np.isclose(o, r, rtol=8 * np.finfo(dtype).eps, atol=0, equal_nan=True)
        # backward: y (g - Σgy) cancels where g ≈ Σgy; compare against the scale of y·g
        scale = np.abs(sm(x)) * (np.abs(g) + np.abs(g * sm(x)).sum(-1, keepdims=True))
        close |= np.abs(o - r) <= 8 * np.finfo(dtype).eps * np.nan_to_num(scale)
        assert close.all(), (o[~close][:3], r[~close][:3])
    np.testing.assert_array_equal(ours[1], np.where(np.arange(1000) == 3, 1.0, 0.0))
    assert ours[2, 5] == ours[2, 9] == 0.5
    np.testing.assert_array_equal(ours[3], np.full(1000, 1 / 1000, dtype=dtype))
    assert np.isnan(ours[4]).all()
    np.testing.assert_allclose(ours.sum(-1)[~np.isnan(ours).any(-1)], 1, rtol=1e-5)


def test_softmax_other_axes_and_shapes() -> None:
    sm0 = actlab.get("softmax", axis=0)
    x = np.random.default_rng(13).standard_normal((5, 7))
    with _fast.numpy_only():
        want = sm0(x)
    np.testing.assert_array_equal(sm0(x), want)  # axis 0: the NumPy path
    sm = actlab.get("softmax")
    for shape in [(7,), (2, 3, 4), (1, 1), (3, 0)]:
        x = np.random.default_rng(14).standard_normal(shape)
        with _fast.numpy_only():
            want = sm(x)
        np.testing.assert_allclose(sm(x), want, rtol=1e-15, atol=0)


@needs_kernels
def test_softmax_threads_do_not_change_the_bits() -> None:
    sm = actlab.get("softmax")
    x = np.random.default_rng(15).standard_normal((301, 257)).astype(np.float32)
    threads = _fast.get_num_threads()
    try:
        _fast.set_num_threads(1)
        one = sm(x)
        _fast.set_num_threads(3)
        three = sm(x)
    finally:
        _fast.set_num_threads(threads)
    np.testing.assert_array_equal(one, three)


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("row", [1000, 37, 3])
def test_softmax_backward_streaming_keeps_the_bits(dtype: Any, row: int) -> None:
    """Large backward outputs from the saved output are written by non-temporal stores;
    forced on here for every size, on views off the 16- and 32-byte grids (the stores'
    aligned middles and scalar ends), rows shorter than a vector, threads and in place."""
    sm = actlab.get("softmax")
    x = softmax_rows(dtype)[:, :row].copy()
    g = np.random.default_rng(18).standard_normal(x.shape).astype(dtype)
    y = sm(x)
    want = sm.backward(x, g, y=y)
    for _ in streaming_on_each((1, 2)):
        for shift in (0, 1, 3):
            out = np.empty(x.size + shift, dtype)[shift:].reshape(x.shape)
            got = sm.backward(x, g, y=y, out=out)
            assert got is out
            assert want.view(f"u{want.itemsize}").tobytes() == got.view(f"u{got.itemsize}").tobytes()
        in_place = g.copy()
        sm.backward(x, in_place, y=y, out=in_place)
        assert want.tobytes() == in_place.tobytes()
    assert _fast.KERNELS.stream_at() in (16 << 20, NO_STREAMING)
    with _fast.numpy_only():
        ref = sm.backward(x, g, y=y)
    np.testing.assert_array_equal(np.isnan(want), np.isnan(ref))


@pytest.mark.parametrize("name, params, shape", [
    ("softmax", {}, (5, 70_001)),  # rows longer than a thread's chunk of elements
    ("maxout", {"pieces": 70_001}, (5 * 70_001,)),  # and groups
])
def test_rows_longer_than_a_chunk_split_over_threads(name: str, params: dict[str, Any],
                                                     shape: tuple[int, ...]) -> None:
    """A thread's chunk holds at most 64k elements but never less than one row or group:
    such inputs once divided by a chunk of 0 rows and killed the process."""
    act = actlab.get(name, **params)
    x = np.random.default_rng(16).standard_normal(shape).astype(np.float32)
    g = np.random.default_rng(17).standard_normal(np.shape(act(x))).astype(np.float32)
    threads = _fast.get_num_threads()
    try:
        _fast.set_num_threads(1)
        one = (act(x), act.backward(x, g))
        _fast.set_num_threads(2)
        two = (act(x), act.backward(x, g))
    finally:
        _fast.set_num_threads(threads)
    with _fast.numpy_only():
        ref = act(x)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(two[0], ref, rtol=8 * np.finfo(np.float32).eps)


def test_forward_with_derivative_of_a_vector_function_points_to_jacobian() -> None:
    with pytest.raises(ValueError, match="jacobian"):
        actlab.get("softmax").forward_with_derivative(np.ones(3))


def test_status_line() -> None:
    text = _fast.status()
    assert ("compiled" in text) == _fast.available()


# ---------------------------------------------------------------------------- maxout
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("pieces", [1, 2, 3, 4, 6, 12, None])
def test_maxout_fast_path_bit_equal(pieces: Any, dtype: Any) -> None:
    """Forward and backward, with ±0, ±inf and NaN in the groups, and past the thread split."""
    rng = np.random.default_rng(16)
    pool = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0, 2.0, 3.5], dtype=dtype)
    for x in (rng.choice(pool, size=(300, 12)), rng.standard_normal((9000, 12)).astype(dtype)):
        act = actlab.get("maxout", pieces=pieces)
        f = act(x)
        g = rng.standard_normal(f.shape).astype(dtype)
        b = act.backward(x, g)
        with _fast.numpy_only():
            fr, br = act(x), act.backward(x, g)
        for o, r in ((f, fr), (b, br)):
            assert o.dtype == r.dtype and o.shape == r.shape
            np.testing.assert_array_equal(np.isnan(o), np.isnan(r))
            bits = f"u{o.itemsize}"
            assert ((o.view(bits) == r.view(bits)) | np.isnan(r)).all()


def test_maxout_other_axes_and_errors_take_the_numpy_path() -> None:
    x = np.random.default_rng(17).standard_normal((6, 4))
    act = actlab.get("maxout", pieces=2, axis=0)
    with _fast.numpy_only():
        want = act(x)
    np.testing.assert_array_equal(act(x), want)
    with pytest.raises(ValueError, match="does not divide"):
        actlab.get("maxout", pieces=3)(x)
    with pytest.raises(ValueError, match="grad"):
        actlab.get("maxout", pieces=2).backward(x, np.ones((6, 3)))


# ---------------------------------------------------------------------------- out= of softmax and maxout
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ["softmax", "maxout"])
def test_vector_kernels_write_out_directly(name: str, dtype: Any) -> None:
    """out= gives the bits of a fresh result and is what is returned: written by the kernel
    when out suits it (also in place, out = x or out = grad for softmax), through a fresh
    array when it is strided."""
    act = actlab.get(name, **({"pieces": 3} if name == "maxout" else {}))
    rng = np.random.default_rng(18)
    x = rng.standard_normal((2000, 12)).astype(dtype) * 30  # past the thread split
    x[5, 3] = np.nan
    x[7, :] = -np.inf
    want = act(x)
    g = rng.standard_normal(want.shape).astype(dtype)
    want_b = act.backward(x, g)
    bits = f"u{np.dtype(dtype).itemsize}"

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return a.dtype == b.dtype and a.shape == b.shape and a.view(bits).tobytes() == b.view(bits).tobytes()

    out = np.full(want.shape, 7, dtype)
    assert act(x, out=out) is out and same(out, want)
    out_b = np.full(x.shape, 7, dtype)
    assert act.backward(x, g, out=out_b) is out_b and same(out_b, want_b)
    strided = np.full((want.shape[0], 2 * want.shape[1]), 7, dtype)[:, ::2]
    assert act(x, out=strided) is strided and same(np.ascontiguousarray(strided), want)
    if name == "softmax":
        x_in = x.copy()
        assert act(x_in, out=x_in) is x_in and same(x_in, want)
        g_in = g.copy()
        assert act.backward(x, g_in, out=g_in) is g_in and same(g_in, want_b)
        y = act(x)
        assert same(act.backward(x, g, y=y, out=y), act.backward(x, g, y=act(x)))


_MISSPELT_FAST = """
import actlab
from actlab.activations import check_fast_names
from actlab.activations._registry import activation

@activation("throwaway_fn", formula="f(x) = x", plain_formula="x", derivative_formula="1",
            output_range=(-1.0, 1.0), monotonic=True, zero_centered=True, max_derivative=1.0,
            use=("hidden layer",), problems=(), reference="none", summary="a test double",
            fast="sigmiod")
def throwaway(x):
    return x

check_fast_names()
"""


@needs_kernels
def test_a_misspelt_fast_name_fails_loudly_naming_it() -> None:
    """fast="sigmiod" once sent the function down the NumPy path in silence."""
    run = subprocess.run([sys.executable, "-c", _MISSPELT_FAST], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "ImportError: actlab: fast= names no compiled kernel: 'sigmiod'" in run.stderr


@needs_kernels
def test_every_compiled_kernel_is_named_by_an_activation(monkeypatch: pytest.MonkeyPatch) -> None:
    import actlab.activations as activations

    activations.check_fast_names()  # the shipped registry and kernels agree
    every = activations.names()
    monkeypatch.setattr(activations, "names", lambda: [n for n in every if n != "relu"])
    with pytest.raises(ImportError, match="no activation names the compiled kernel.*'relu'"):
        activations.check_fast_names()


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_log_softmax_fast_path_matches_numpy(dtype: Any) -> None:
    ls = actlab.get("log_softmax")
    x = softmax_rows(dtype)
    g = np.random.default_rng(19).standard_normal(x.shape).astype(dtype)
    ours, ours_b, ours_by = ls(x), ls.backward(x, g), ls.backward(x, g, y=ls(x))
    with _fast.numpy_only():
        ref, ref_b, ref_by = ls(x), ls.backward(x, g), ls.backward(x, g, y=ls(x))
    eps = np.finfo(dtype).eps
    for o, r in ((ours, ref), (ours_b, ref_b), (ours_by, ref_by)):
        assert o.dtype == r.dtype and o.shape == r.shape
        np.testing.assert_array_equal(np.isnan(o), np.isnan(r))
        np.testing.assert_array_equal(o[np.isinf(r)], r[np.isinf(r)])
        scale = np.abs(g).sum(-1, keepdims=True) + np.abs(g) if o is not ours else np.abs(r)
        with np.errstate(invalid="ignore"):  # inf - inf where both are -inf
            ok = np.isnan(r) | np.isinf(r) | (np.abs(o - r) <= 8 * eps * np.nan_to_num(scale))
        assert ok.all(), (o[~ok][:3], r[~ok][:3])
    assert ours[2, 5] == ours[2, 9] == dtype(-np.log(2.0))
    np.testing.assert_array_equal(ours[3], np.full(1000, -np.log(1000.0), dtype=dtype))
    assert np.isnan(ours[4]).all()
    in_place = x.copy()
    assert ls(in_place, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, ours)
