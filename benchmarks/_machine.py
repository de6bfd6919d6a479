"""What every benchmark prints with its table: the CPU, its vector instruction set, and the
command-line conventions the scripts share (one-line usage errors, explicit output paths)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import NoReturn

#: The /proc/cpuinfo flags that decide which kernels can run: AVX2 and FMA for actlab's
#: vector build, AVX-512 for what some peers' libraries pick at run time.
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl")


def cpu_model(*, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_flags(*, cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The flags of the first CPU in /proc/cpuinfo (empty where there is none)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def isa(*, cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, bool]:
    """Whether the CPU has each of ``ISA_FLAGS``."""
    flags = cpu_flags(cpuinfo=cpuinfo)
    return {name: name in flags for name in ISA_FLAGS}


def machine_line() -> str:
    """One line naming the CPU, its logical CPU count and its vector instruction set."""
    have = isa()
    parts = [", ".join(name for name, ok in have.items() if ok)]
    missing = [name for name, ok in have.items() if not ok]
    if missing:
        parts.append(f"no {', '.join(missing)}")
    isa_text = "; ".join(p for p in parts if p)
    return (f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; ISA: {isa_text}; "
            f"Python {sys.version.split()[0]}")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def writable_path(text: str) -> Path:
    """An argparse type: a file path that can be written, tried by opening it for appending
    (a file that did not exist is removed again), so that a run does not fail at its end."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    existed = path.exists()
    try:
        with path.open("a"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {exc.strerror}") from None
    if not existed:
        path.unlink()
    return path


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number of at least 0."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text!r}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value
