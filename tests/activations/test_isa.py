"""The instruction sets the compiled kernels are built for (baseline x86-64, AVX2+FMA,
AVX-512): the best one the CPU runs is picked at import, ACTLAB_ISA=baseline|avx2|avx512
forces one, a name the CPU cannot run (or no name at all) is a ValueError that says why, and
every variant the CPU runs gives the same bits as the others for every kernel and mode.

What the CPU has is read from /proc/cpuinfo, not from the extension, so that the choice is
checked against an independent account of the features.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_fast_paths import _VECTOR_RUNS, DTYPES, points, softmax_rows

from actlab.activations import _fast

needs_kernels = pytest.mark.skipif(not _fast.available(), reason="C kernels not built")

#: ACTLAB_ISA's names, the features each needs, and the name the module then reports.
VARIANTS = {
    "baseline": ((), "baseline"),
    "avx2": (("avx2", "fma"), "avx2+fma"),
    "avx512": (("avx512f", "avx512dq", "avx512vl", "avx2", "fma"), "avx512"),
}


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags as Linux lists them, None where it does not."""
    path = Path("/proc/cpuinfo")
    if platform.machine() not in ("x86_64", "AMD64") or not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


FLAGS = cpu_flags()
needs_flags = pytest.mark.skipif(FLAGS is None, reason="no /proc/cpuinfo flags (not Linux x86-64)")


def missing(variant: str) -> list[str]:
    assert FLAGS is not None
    return [f for f in VARIANTS[variant][0] if f not in FLAGS]


def import_with(isa: str | None, code: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ACTLAB_ISA", "ACTLAB_NO_AVX2")}
    if isa is not None:
        env["ACTLAB_ISA"] = isa
    script = "import actlab\nfrom actlab.activations import _fast\nprint(_fast.KERNELS.isa)\n"
    return subprocess.run([sys.executable, "-c", script + code], env=env, capture_output=True,
                          text=True, timeout=120)


@needs_kernels
@needs_flags
def test_the_default_is_the_widest_variant_the_cpu_runs() -> None:
    best = next(v for v in ("avx512", "avx2", "baseline") if not missing(v))
    run = import_with(None, "print(actlab.kernel_status())")
    assert run.returncode == 0, run.stderr
    isa, status = run.stdout.splitlines()
    assert isa == VARIANTS[best][1]
    assert f"({isa})" in status


@needs_kernels
@needs_flags
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_actlab_isa_forces_a_variant_or_names_the_missing_feature(variant: str) -> None:
    run = import_with(variant, "print(actlab.kernel_status())")
    lacking = missing(variant)
    if not lacking:
        assert run.returncode == 0, run.stderr
        isa, status = run.stdout.splitlines()
        assert isa == VARIANTS[variant][1]
        assert f"({isa})" in status
    else:
        assert run.returncode != 0
        assert "ValueError" in run.stderr and f"ACTLAB_ISA={variant}" in run.stderr
        assert f"lacks {lacking[0]}" in run.stderr, run.stderr


@needs_kernels
@needs_flags
def test_info_names_the_variant_in_use_and_what_the_cpu_lacks_for_the_others() -> None:
    run = import_with(None, "import json\nprint(json.dumps(actlab.info()))")
    assert run.returncode == 0, run.stderr
    import json

    isa, line = run.stdout.splitlines()
    facts = json.loads(line)
    assert facts["compiled"] is True and facts["isa"] == isa
    assert set(facts["isas"]) == set(VARIANTS)
    for variant, lack in facts["isas"].items():
        if missing(variant):
            assert lack is not None and lack.startswith(missing(variant)[0]), (variant, lack)
        else:
            assert lack is None, (variant, lack)
    assert facts["threads"] >= 1
    assert {"sigmoid", "softmax", "relu"} <= set(facts["kernels"])
    assert "sigmoid" in facts["float32_lanes"] and "relu" not in facts["float32_lanes"]


def test_info_without_the_compiled_kernels_says_so() -> None:
    env = {**os.environ, "ACTLAB_NO_FAST": "1"}
    code = "import actlab; f = actlab.info(); print(f['compiled'], f['isa'], f['kernels'], f['isas'])"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "None", "[]", "{}"]


@needs_kernels
def test_an_unknown_isa_name_is_a_value_error_naming_it() -> None:
    run = import_with("sse9")
    assert run.returncode != 0
    assert "ValueError: ACTLAB_ISA must be baseline, avx2 or avx512, not 'sse9'" in run.stderr


_RUN_ALL = """
import sys
import numpy as np
from actlab.activations import _fast
inputs = np.load(sys.argv[1], allow_pickle=False)
kernels = list(_fast.KERNELS.kernel_names())
results = {}
for key in inputs.files:
    name = key.split(":")[0]
    x = inputs[key]
    if name in ("softmax", "log_softmax", "maxout"):
        for label, r in vector_runs(_fast.KERNELS, key, x).items():
            results[f"{key}:{label}"] = r
        continue
    g = np.linspace(-3, 3, x.size).astype(x.dtype)
    for threads in (1, 2):
        for mode in range(4):
            o, o2 = np.empty_like(x), np.empty_like(x)
            assert _fast.KERNELS.elementwise(kernels.index(name), mode, x, g, o, o2, 0.01, threads)
            results[f"{key}:{mode}:{threads}"] = np.stack([o, o2]) if mode == 3 else o
np.savez(sys.argv[2], **results)
""".replace("results = {}", _VECTOR_RUNS + "results = {}")


@pytest.fixture(scope="module")
def variant_results(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """results(variant): every kernel in every mode, on points from ±0 to ±inf and NaN, and
    softmax and maxout, as computed by that variant in a process of its own (cached)."""
    tmp = tmp_path_factory.mktemp("isa")
    kernels = list(_fast.KERNELS.kernel_names())
    inputs = {f"{name}:{dtype.__name__}": points(dtype, n=20_000, seed=11)
              for name in kernels for dtype in DTYPES}
    for dtype in DTYPES:
        inputs[f"softmax:{dtype.__name__}:rows"] = softmax_rows(dtype)
        inputs[f"softmax:{dtype.__name__}:37"] = softmax_rows(dtype)[:, :37].copy()
        inputs[f"log_softmax:{dtype.__name__}:rows"] = softmax_rows(dtype)
        pool = points(dtype, n=20_000, seed=12)
        inputs[f"maxout:{dtype.__name__}"] = pool[: pool.size // 6 * 6].copy()
    np.savez(tmp / "in.npz", **inputs)
    cache: dict[str, Any] = {}

    def results(variant: str) -> Any:
        if variant not in cache:
            env = {k: x for k, x in os.environ.items() if k != "ACTLAB_NO_AVX2"}
            env["ACTLAB_ISA"] = variant
            subprocess.run([sys.executable, "-c", _RUN_ALL, str(tmp / "in.npz"),
                            str(tmp / f"{variant}.npz")], env=env, check=True, timeout=300)
            cache[variant] = np.load(tmp / f"{variant}.npz", allow_pickle=False)
        return cache[variant]

    return results


@needs_kernels
@needs_flags
@pytest.mark.parametrize("variant", ["avx2", "avx512"])
def test_each_variant_gives_the_baseline_bits(variant: str, variant_results: Any) -> None:
    """Every kernel (the smooth ones included: fma() is correctly rounded in every build and
    nothing else is fused) in every mode gives the baseline variant's bits, so the accuracy
    tests, which run on the variant in use, hold for every variant.  One this CPU cannot run
    is skipped, naming what it lacks."""
    lacking = missing(variant)
    if lacking:
        pytest.skip(f"this CPU lacks {', '.join(lacking)}: the {variant} variant cannot run here")
    base, ours = variant_results("baseline"), variant_results(variant)
    keys = base.files
    assert len(keys) > 4 * len(_fast.KERNELS.kernel_names())
    assert sorted(ours.files) == sorted(keys)
    for key in keys:
        a, b = base[key], ours[key]
        assert a.dtype == b.dtype and a.shape == b.shape, (variant, key)
        assert a.tobytes() == b.tobytes(), (variant, key)
