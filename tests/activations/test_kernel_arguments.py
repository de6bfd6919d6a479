"""Every argument of every entry point of the C extension, fuzzed in a subprocess.

The extension is private, but no Python call may crash the interpreter: a bad argument
(wrong type, None for a buffer, a buffer of another format, a short buffer, a kernel id,
mode, row length, group size or thread count out of range, an int that fits no C type) is
a TypeError, ValueError or OverflowError.  A well-formed call whose buffers have a layout
the loops do not take (not C-contiguous, a read-only output, outputs overlapping inputs in
part) returns False and writes nothing, so that the caller can fall back.  The entry
points that take torch tensors (when torch is installed) refuse anything that is not a
tensor and decline the tensors the loops do not take (another dtype, length, layout,
device, a subclass, a lazily negated view).

The calls run in a subprocess, so that a segfault fails the test instead of ending pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from actlab.activations import _fast

pytestmark = pytest.mark.skipif(not _fast.available(), reason="C kernels not built")

_SCRIPT = r'''
import json, random, sys
import numpy as np
from actlab.activations import _kernels as K

N = 12
ALLOWED = (TypeError, ValueError, OverflowError)
HUGE_INTS = [2**31, -2**31 - 1, 2**63 - 1, -2**63, 2**64, -2**64, 10**100]
report = {"accepted": [], "wrong_error": [], "declined_wrote": [], "not_declined": [],
          "calls": 0}


def f64(n=N):
    return np.linspace(-3.0, 3.0, n)


def f32(n=N):
    return f64(n).astype(np.float32)


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def bad_buffers(n):
    """Objects that are not a float32/float64 buffer of n elements of x's dtype (float64)."""
    return [
        ("None", None), ("float", 1.0), ("int", 3), ("str", "abc"), ("object", object()),
        ("list", [0.0] * n), ("bytes", b"\0" * (8 * n)), ("bytearray", bytearray(8 * n)),
        ("int64", np.zeros(n, np.int64)), ("float16", np.zeros(n, np.float16)),
        ("complex", np.zeros(n, np.complex128)), ("longdouble", np.zeros(n, np.longdouble)),
        ("float32", np.zeros(n, np.float32)), ("big-endian", np.zeros(n, ">f8")),
        ("short", np.zeros(n - 1)), ("long", np.zeros(n + 1)), ("empty", np.zeros(0)),
        ("memoryview-B", memoryview(bytearray(8 * n))),
        ("memoryview-q", memoryview(bytearray(8 * n)).cast("q")),
        ("struct", np.zeros(n, dtype=[("a", "f8")])),
    ]


def bad_ints(allowed_low=0):
    return [("None", None), ("float", 1.0), ("str", "1"), ("bool", True), ("object", object()),
            ("neg", allowed_low - 1)] + [(f"int{v}", v) for v in HUGE_INTS]


def expect_error(label, fn, args):
    report["calls"] += 1
    try:
        result = fn(*args)
    except ALLOWED:
        return
    except Exception as e:  # noqa: BLE001 - the kind of error is what is tested
        report["wrong_error"].append(f"{label}: {type(e).__name__}: {e}")
        return
    report["accepted"].append(f"{label} -> {result!r}")


def expect_declined(label, fn, args, watched):
    """A well-formed call with an unsuitable layout: False, the watched arrays untouched."""
    report["calls"] += 1
    before = [w.copy() for w in watched]
    try:
        result = fn(*args)
    except Exception as e:  # noqa: BLE001
        report["not_declined"].append(f"{label}: {type(e).__name__}: {e}")
        return
    if result is not False:
        report["not_declined"].append(f"{label} -> {result!r}")
    if any(not np.array_equal(b, w, equal_nan=True) for b, w in zip(before, watched)):
        report["declined_wrote"].append(label)


def substitute(args, i, value):
    a = list(args)
    a[i] = value
    return a


# ---------------------------------------------------------------- elementwise
def ew_good(mode, dtype=np.float64):
    x = f64().astype(dtype)
    return [1, mode, x, x.copy(), np.empty_like(x), np.empty_like(x), 0.1, 1]


BUFFER_USE = {2: (0, 1, 2, 3), 3: (2,), 4: (0, 1, 2, 3), 5: (3,)}  # position: modes using it
for mode in range(4):
    base = ew_good(mode)
    assert K.elementwise(*base) is True
    for pos, modes in BUFFER_USE.items():
        if mode not in modes:
            continue
        for name, value in bad_buffers(N):
            expect_error(f"elementwise mode {mode} arg {pos} = {name}", K.elementwise,
                         substitute(base, pos, value))
    for name, value in bad_ints():
        expect_error(f"elementwise kernel = {name}", K.elementwise, substitute(base, 0, value))
        expect_error(f"elementwise mode = {name}", K.elementwise, substitute(base, 1, value))
    for name, value in bad_ints(allowed_low=1) + [("zero", 0)]:
        expect_error(f"elementwise threads = {name}", K.elementwise, substitute(base, 7, value))
    for name, value in (("str", "0.1"), ("None", None), ("object", object()),
                        ("huge int", 10**400), ("list", [0.1])):
        expect_error(f"elementwise param = {name}", K.elementwise, substitute(base, 6, value))
    expect_error("elementwise kernel = count", K.elementwise,
                 substitute(base, 0, len(K.kernel_names())))
    expect_error("elementwise mode = 4", K.elementwise, substitute(base, 1, 4))
    # with threads and a large array, a thread count past a C int must not be truncated
    big = np.zeros(1 << 17)
    for name, value in (("2**32", 2**32), ("2**32+2", 2**32 + 2), ("2**63-1", 2**63 - 1)):
        expect_error(f"elementwise large, threads = {name}", K.elementwise,
                     [1, 0, big, None, np.empty_like(big), None, 0.0, value])
    # float32 x with float64 buffers elsewhere
    base32 = ew_good(mode, np.float32)
    for pos in BUFFER_USE:
        if mode in BUFFER_USE[pos] and pos != 2:
            expect_error(f"elementwise float32 x, arg {pos} float64", K.elementwise,
                         substitute(base32, pos, np.zeros(N)))
for count in range(8):
    expect_error(f"elementwise with {count} arguments", K.elementwise, ew_good(0)[:count])
expect_error("elementwise with 9 arguments", K.elementwise, ew_good(0) + [1])

# declined layouts: strided, read-only out, partial overlap, the two outputs the same
x = f64(2 * N)
for mode in range(4):
    base = ew_good(mode)
    out = base[4]
    expect_declined(f"elementwise mode {mode} strided x", K.elementwise,
                    substitute(base, 2, x[::2]), [out])
    expect_declined(f"elementwise mode {mode} strided out", K.elementwise,
                    substitute(base, 4, np.zeros(2 * N)[::2]), [])
    ro = read_only(np.zeros(N))
    expect_declined(f"elementwise mode {mode} read-only out", K.elementwise,
                    substitute(base, 4, ro), [ro])
    shared = f64(N + 1)
    expect_declined(f"elementwise mode {mode} out overlapping x in part", K.elementwise,
                    substitute(substitute(base, 2, shared[:N]), 4, shared[1:]), [shared])
both = np.zeros(N)
expect_declined("elementwise out2 = out", K.elementwise,
                substitute(substitute(ew_good(3), 4, both), 5, both), [])
ro = read_only(np.zeros(N))
expect_declined("elementwise read-only out2", K.elementwise, substitute(ew_good(3), 5, ro), [ro])

# ---------------------------------------------------------------- softmax
def sm_good(backward, saved, m=4):
    x = f64()
    return [x, x.copy() if backward else None, np.full(N, 0.25) if saved else None,
            np.empty_like(x), m, 1]


for backward, saved in ((False, False), (True, False), (True, True)):
    base = sm_good(backward, saved)
    assert K.softmax(*base) is True
    label = f"softmax {'backward' if backward else 'forward'}{' from y' if saved else ''}"
    for pos in (0, 3) + ((1,) if backward else ()) + ((2,) if saved else ()):
        for name, value in bad_buffers(N):
            if name == "None" and pos in (1, 2):
                continue  # None there is another well-formed call
            expect_error(f"{label} arg {pos} = {name}", K.softmax, substitute(base, pos, value))
    for name, value in bad_ints(allowed_low=1) + [("zero", 0)]:
        expect_error(f"{label} threads = {name}", K.softmax, substitute(base, 5, value))
    for name, value in bad_ints(allowed_low=1) + [("zero", 0), ("5 (does not divide 12)", 5),
                                                  ("13", 13)]:
        expect_error(f"{label} m = {name}", K.softmax, substitute(base, 4, value))
    ro = read_only(np.zeros(N))
    expect_declined(f"{label} read-only out", K.softmax, substitute(base, 3, ro), [ro])
    expect_declined(f"{label} strided x", K.softmax, substitute(base, 0, f64(2 * N)[::2]),
                    [base[3]])
expect_error("softmax forward with y", K.softmax, sm_good(False, True))
expect_error("softmax(np.zeros(10), None, None, None, 10, 1)", K.softmax,
             [np.zeros(10), None, None, None, 10, 1])
big = np.zeros(1 << 16)
for value in (2**32, 2**32 + 2, 2**63 - 1):
    expect_error(f"softmax large, threads = {value}", K.softmax,
                 [big, None, None, np.empty_like(big), 4, value])
for count in range(6):
    expect_error(f"softmax with {count} arguments", K.softmax, sm_good(False, False)[:count])

# ---------------------------------------------------------------- maxout
def mo_good(backward, k=3):
    x = f64()
    return [x, np.ones(N // k) if backward else None, np.empty(N if backward else N // k), k, 1]


for backward in (False, True):
    base = mo_good(backward)
    assert K.maxout(*base) is True
    label = f"maxout {'backward' if backward else 'forward'}"
    for pos in (0, 2) + ((1,) if backward else ()):
        n = (N, N // 3, N if backward else N // 3)[pos]
        for name, value in bad_buffers(n):
            if name == "None" and pos == 1:
                continue
            expect_error(f"{label} arg {pos} = {name}", K.maxout, substitute(base, pos, value))
    for name, value in bad_ints(allowed_low=1) + [("zero", 0)]:
        expect_error(f"{label} threads = {name}", K.maxout, substitute(base, 4, value))
    for name, value in bad_ints(allowed_low=1) + [("zero", 0), ("5 (does not divide 12)", 5)]:
        expect_error(f"{label} k = {name}", K.maxout, substitute(base, 3, value))
    ro = read_only(np.zeros(base[2].size))
    expect_declined(f"{label} read-only out", K.maxout, substitute(base, 2, ro), [ro])
big = np.zeros(1 << 17)
for value in (2**32, 2**32 + 2, 2**63 - 1):
    expect_error(f"maxout large, threads = {value}", K.maxout,
                 [big, None, np.empty(big.size // 2), 2, value])
for count in range(5):
    expect_error(f"maxout with {count} arguments", K.maxout, mo_good(False)[:count])

# ---------------------------------------------------------------- torch tensors
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    F64 = torch.float64

    def t64(n=N):
        return torch.linspace(-3.0, 3.0, n, dtype=F64)

    class Sub(torch.Tensor):
        pass

    NOT_TENSORS = [("None", None), ("ndarray", f64()), ("float", 1.0), ("list", [0.0] * N),
                   ("object", object()), ("bytes", b"\0" * (8 * N))]

    def declined_tensors():
        """Tensors the loops do not take: another dtype, length, layout, device or class."""
        return [("int64", torch.zeros(N, dtype=torch.int64)), ("float32", torch.zeros(N)),
                ("float16", torch.zeros(N, dtype=torch.float16)),
                ("complex", torch.zeros(N, dtype=torch.complex128)),
                ("short", torch.zeros(N - 1, dtype=F64)), ("long", torch.zeros(N + 1, dtype=F64)),
                ("strided", t64(2 * N)[::2]), ("sparse", t64().to_sparse()),
                ("meta", torch.empty(N, dtype=F64, device="meta")),
                ("subclass", t64().as_subclass(Sub)), ("neg view", torch._neg_view(t64()))]

    def et_good(mode):
        return [1, mode, t64(), t64(), torch.empty(N, dtype=F64), 0.1, 1]

    for mode in range(3):
        base = et_good(mode)
        assert K.elementwise_tensor(*base) is True
        for pos in (2, 4) + ((3,) if mode == 2 else ()):
            for name, value in NOT_TENSORS:
                expect_error(f"elementwise_tensor mode {mode} arg {pos} = {name}",
                             K.elementwise_tensor, substitute(base, pos, value))
            for name, value in declined_tensors():
                watched = [] if pos == 4 else [base[4].numpy()]
                expect_declined(f"elementwise_tensor mode {mode} arg {pos} = {name}",
                                K.elementwise_tensor, substitute(base, pos, value), watched)
        for name, value in bad_ints():
            expect_error(f"elementwise_tensor kernel = {name}", K.elementwise_tensor,
                         substitute(base, 0, value))
            expect_error(f"elementwise_tensor mode = {name}", K.elementwise_tensor,
                         substitute(base, 1, value))
        for name, value in bad_ints(allowed_low=1) + [("zero", 0)]:
            expect_error(f"elementwise_tensor threads = {name}", K.elementwise_tensor,
                         substitute(base, 6, value))
        for name, value in (("str", "0.1"), ("None", None), ("huge int", 10**400)):
            expect_error(f"elementwise_tensor param = {name}", K.elementwise_tensor,
                         substitute(base, 5, value))
        shared = t64(N + 1)
        expect_declined(f"elementwise_tensor mode {mode} out overlapping x in part",
                        K.elementwise_tensor,
                        substitute(substitute(base, 2, shared[:N]), 4, shared[1:]),
                        [shared.numpy()])
    expect_error("elementwise_tensor mode = 3 (no second output)", K.elementwise_tensor,
                 substitute(et_good(0), 1, 3))
    for count in (0, 6, 8):
        expect_error(f"elementwise_tensor with {count} arguments", K.elementwise_tensor,
                     (et_good(0) + [1])[:count])

    for backward in (False, True):
        base = [t64(), t64() if backward else None, torch.empty(N, dtype=F64), 4, 1]
        assert K.softmax_tensor(*base) is True
        label = f"softmax_tensor {'backward' if backward else 'forward'}"
        for pos in (0, 2) + ((1,) if backward else ()):
            for name, value in NOT_TENSORS:
                if name == "None" and pos == 1:
                    continue  # None there is the forward
                expect_error(f"{label} arg {pos} = {name}", K.softmax_tensor,
                             substitute(base, pos, value))
            for name, value in declined_tensors():
                watched = [] if pos == 2 else [base[2].numpy()]
                expect_declined(f"{label} arg {pos} = {name}", K.softmax_tensor,
                                substitute(base, pos, value), watched)
        for name, value in bad_ints(allowed_low=1) + [("zero", 0), ("5 (does not divide 12)", 5)]:
            expect_error(f"{label} m = {name}", K.softmax_tensor, substitute(base, 3, value))
        for name, value in bad_ints(allowed_low=1) + [("zero", 0)]:
            expect_error(f"{label} threads = {name}", K.softmax_tensor,
                         substitute(base, 4, value))
    for count in (0, 4, 6):
        expect_error(f"softmax_tensor with {count} arguments", K.softmax_tensor,
                     [t64(), None, torch.empty(N, dtype=F64), 4, 1, 1][:count])

# ---------------------------------------------------------------- settings, queries
SETTING_BAD = {  # spin_ns takes up to 10 s; stream_at any size
    "spin_ns": [None, 1.0, "1", object(), -1, -2**63, 2**64, 10**100, 10**10 + 1, 2**63 - 1],
    "stream_at": [None, 1.0, "1", object(), -1, -2**63, 2**64, 10**100]}
for fn in (K.spin_ns, K.stream_at):
    saved = fn()
    for value in SETTING_BAD[fn.__name__]:
        expect_error(f"{fn.__name__}({value!r})", fn, [value])
    expect_error(f"{fn.__name__}(1, 2)", fn, [1, 2])
    assert fn() == saved
for fn in (K.kernel_names, K.table, K.cpu_count):
    expect_error(f"{fn.__name__}(1)", fn, [1])

# ---------------------------------------------------------------- random combinations
rng = random.Random(0)
pool = [None, 0, 1, 3, -1, 2**63 - 1, 2**64, 1.5, "s", f64(), f32(), np.zeros(N - 1),
        read_only(f64()), f64(2 * N)[::2], np.zeros(N, np.int32), b"\0" * 96, np.zeros(4)]
for _ in range(2000):
    fn, count = rng.choice([(K.elementwise, 8), (K.softmax, 6), (K.maxout, 5)])
    args = [rng.choice(pool) for _ in range(count)]
    report["calls"] += 1
    try:
        result = fn(*args)
    except ALLOWED:
        continue
    except Exception as e:  # noqa: BLE001
        report["wrong_error"].append(f"random {fn.__name__}: {type(e).__name__}: {e}")
        continue
    if not isinstance(result, bool):
        report["accepted"].append(f"random {fn.__name__} -> {result!r}")

# ---------------------------------------------------------------- the messages
x = np.zeros(4)
MESSAGES = [
    ("out", TypeError, lambda: K.softmax(x, None, None, None, 4, 1)),
    ("threads", ValueError, lambda: K.elementwise(1, 0, x, None, np.empty(4), None, 0.0, 2**32)),
    ("threads", ValueError, lambda: K.softmax(x, None, None, np.empty(4), 4, 0)),
    ("m must", ValueError, lambda: K.softmax(x, None, None, np.empty(4), 3, 1)),
    ("out", ValueError, lambda: K.maxout(x, None, np.empty(3), 2, 1)),
    ("float32 or float64", TypeError,
     lambda: K.elementwise(1, 0, x, None, np.empty(4, np.int64), None, 0.0, 1)),
    ("kernel", ValueError, lambda: K.elementwise(99, 0, x, None, np.empty(4), None, 0.0, 1)),
]
report["messages"] = []
for word, kind, call in MESSAGES:
    try:
        call()
    except kind as e:
        if word not in str(e):
            report["messages"].append(f"{word!r} not in {e}")
    except Exception as e:  # noqa: BLE001
        report["messages"].append(f"{word!r}: {type(e).__name__}: {e}")
    else:
        report["messages"].append(f"{word!r}: no error")

print(json.dumps(report))
'''


def test_every_entry_point_refuses_bad_arguments_without_crashing() -> None:
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["calls"] > 1000
    assert report["accepted"] == [], report["accepted"][:20]
    assert report["wrong_error"] == [], report["wrong_error"][:20]
    assert report["not_declined"] == [], report["not_declined"][:20]
    assert report["declined_wrote"] == [], report["declined_wrote"]
    assert report["messages"] == [], report["messages"]
