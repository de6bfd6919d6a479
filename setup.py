"""Build actlab's optional C kernels; everything else is in pyproject.toml.

``actlab.activations._kernels`` (src/actlab/activations/_kernels.c) is built from source by
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

GCC_FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math",
             "-Wno-psabi"]


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


ext_modules = []
if not os.environ.get("ACTLAB_NO_EXTENSION"):
    ext_modules.append(
        Extension(
            "actlab.activations._kernels",
            sources=["src/actlab/activations/_kernels.c"],
            depends=["src/actlab/activations/_kernels_body.h"],
            optional=True,
        )
    )

setup(ext_modules=ext_modules, cmdclass={"build_ext": optional_build_ext})
