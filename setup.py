"""Build actlab's optional C kernels; everything else is in pyproject.toml.

``actlab.activations._kernels`` (the C sources in src/actlab/activations/_kernels_src/, one
declaration of the kernels in its kernels.def) is built from source by
``pip install .`` / ``pip install -e .`` when a C compiler and the Python headers are
there.  It is optional twice over: the Extension is marked optional, and the build_ext
below turns any failure (no compiler, no headers, a compile error) into a warning, so the
install always succeeds; actlab then uses its NumPy kernels (actlab.activations._fast
reports which).  Set ACTLAB_NO_EXTENSION=1 to skip the build on purpose.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# -fvisibility=hidden: the parts' shared functions stay inside the module (PyInit__kernels
# is exported by PyMODINIT_FUNC)
GCC_FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math",
             "-Wno-psabi", "-fvisibility=hidden"]


class optional_build_ext(build_ext):
    """build_ext that never fails the install: a failed build only loses the speed."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 (no compiler: DistutilsPlatformError etc.)
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        if self.compiler.compiler_type in ("unix", "mingw32", "cygwin"):
            ext.extra_compile_args = [*GCC_FLAGS, *ext.extra_compile_args]
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 (CompileError, LinkError, ...)
            self._skip(exc)

    @staticmethod
    def _skip(exc: BaseException) -> None:
        print(f"actlab: the C kernels were not built ({exc}); actlab will use its NumPy "
              f"kernels, which give the same results more slowly", file=sys.stderr)


KERNEL_DIR = "src/actlab/activations/_kernels_src"
# isa_base.c, isa_avx2.c and isa_avx512.c are the loops compiled for each instruction set
# (the AVX2 and AVX-512 ones by a #pragma GCC target of their own, so every source takes the
# same flags)
KERNEL_SOURCES = ["module.c", "args.c", "pool.c", "isa_base.c", "isa_avx2.c", "isa_avx512.c"]
KERNEL_HEADERS = ["kernels.def", "common.h", "args.h", "reductions.h", "rules_smooth.h",
                  "rules_modern.h", "rules_gated.h", "rules_piecewise.h", "rules_f32.h", "loop.h", "avx2.h", "pairwise.h", "softmax.h", "maxout.h"]

ext_modules = []
if not os.environ.get("ACTLAB_NO_EXTENSION"):
    ext_modules.append(
        Extension(
            "actlab.activations._kernels",
            sources=[f"{KERNEL_DIR}/{name}" for name in KERNEL_SOURCES],
            depends=[f"{KERNEL_DIR}/{name}" for name in KERNEL_HEADERS],
            optional=True,
        )
    )

setup(ext_modules=ext_modules, cmdclass={"build_ext": optional_build_ext})
