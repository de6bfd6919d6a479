"""The compiled kernels' table(): the one declaration of the C side (its kernels.def), read by
_fast.py for the flags, the modes and the check of the registry's ``fast=`` names."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import actlab.activations as activations
from actlab.activations import _fast

needs_kernels = pytest.mark.skipif(not _fast.available(), reason="the C kernels are not built")
FLAGS = {"exact": bool, "needs_fma": bool, "split_at": int, "streams": bool}


@needs_kernels
def test_table_lists_every_kernel_with_its_flags() -> None:
    table = _fast.KERNELS.table()
    assert set(table) == {*_fast.KERNELS.kernel_names(), "softmax", "log_softmax", "maxout"}
    for name, flags in table.items():
        assert {k: type(v) for k, v in flags.items()} == FLAGS, name
        assert flags["split_at"] >= 1024, name  # below that a helper costs more than it saves
        assert not (flags["exact"] and flags["needs_fma"]), name  # exact kernels use no fma


@needs_kernels
def test_table_agrees_with_the_registry() -> None:
    """Each kernel is named by exactly one activation, whose exact flag (computed in its own
    dtype) is the kernel's."""
    claimed = {kernel: activations.get(n) for n in activations.names()
               if activations.get(n).fast is not None
               for kernel in _fast.kernels_of(activations.get(n).fast)}
    assert set(claimed) == set(_fast.KERNELS.table())
    for name, flags in _fast.KERNELS.table().items():
        assert claimed[name].exact == flags["exact"], name


@needs_kernels
def test_the_modes_come_from_the_module_and_mean_what_they_say() -> None:
    k = _fast.KERNELS
    modes = (k.MODE_FWD, k.MODE_DER, k.MODE_BWD, k.MODE_FWD_DER)
    assert (_fast.FWD, _fast.DER, _fast.BWD, _fast.FWD_DER) == modes
    assert sorted(modes) == [0, 1, 2, 3]
    relu = list(k.kernel_names()).index("relu")
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    g = np.array([10.0, 20.0, 30.0, 40.0])
    want = {k.MODE_FWD: [0.0, 0.0, 0.5, 3.0], k.MODE_DER: [0.0, 0.0, 1.0, 1.0],
            k.MODE_BWD: [0.0, 0.0, 30.0, 40.0]}
    for mode, expected in want.items():
        out = np.empty_like(x)
        assert k.elementwise(relu, mode, x, g, out, None, 0.0, 1)
        assert out.tolist() == expected, mode
    f, d = np.empty_like(x), np.empty_like(x)
    assert k.elementwise(relu, k.MODE_FWD_DER, x, None, f, d, 0.0, 1)
    assert f.tolist() == want[k.MODE_FWD] and d.tolist() == want[k.MODE_DER]


@needs_kernels
def test_the_fma_rule_is_read_from_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a hardware fma exactly the kernels the table marks needs_fma go to NumPy."""
    real = _fast.KERNELS

    class NoFma:
        fast_fma = 0

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(_fast, "KERNELS", NoFma())
    kept = set(_fast._kernel_ids())
    assert kept == {n for n, f in _fast.TABLE.items() if not f["needs_fma"]}
    assert kept == {"step", "relu", "leaky_relu", "identity", "maxout", "hardtanh", "relu6", "prelu"}


@needs_kernels
def test_a_kernel_in_the_table_that_no_activation_claims_fails_naming_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_fast.TABLE, "swiglu", dict(_fast.TABLE["sigmoid"]))
    with pytest.raises(ImportError, match="no activation names the compiled kernel.*'swiglu'"):
        activations.check_fast_names()


@needs_kernels
def test_a_variant_kernel_is_claimed_through_its_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    """fast="gelu" stands for the gelu and gelu_tanh kernels (by approximate); a variant
    kernel that no mapping names, or a mapping to a kernel that is not compiled, fails."""
    assert _fast.kernels_of("gelu") == {"gelu", "gelu_tanh"}
    monkeypatch.setitem(_fast.VARIANTS, "gelu", ("approximate", {"none": "gelu"}))
    with pytest.raises(ImportError, match="no activation names the compiled kernel.*'gelu_tanh'"):
        activations.check_fast_names()
    monkeypatch.setitem(_fast.VARIANTS, "gelu", ("approximate", {"none": "gelu", "tanh": "gelu_tanh",
                                                                 "erf": "gelu_erf"}))
    with pytest.raises(ImportError, match="fast= names no compiled kernel: 'gelu_erf'"):
        activations.check_fast_names()


@needs_kernels
def test_a_fast_name_missing_from_the_table_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(_fast.TABLE, "selu")
    with pytest.raises(ImportError, match="fast= names no compiled kernel: 'selu'"):
        activations.check_fast_names()


def test_without_the_extension_there_is_no_table() -> None:
    code = ("from actlab.activations import _fast\n"
            "assert _fast.TABLE == {} and not _fast.available() and _fast.kernel_names() == []\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ACTLAB_NO_FAST": "1"})
    assert run.returncode == 0, run.stderr
