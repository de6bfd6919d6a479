"""benchmarks/bench_frameworks.py --framework jax: its command line (a run of a few calls;
no timing checked)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jax")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_frameworks.py"
TINY = ["--framework", "jax", "--functions", "sigmoid,glu", "--sizes", "1e3",
        "--dtypes", "float32,float64", "--repeats", "1", "--min-time", "0.0001", "--settle", "0"]


def load() -> Any:
    spec = importlib.util.spec_from_file_location("bench_frameworks_jax", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_jax_run_prints_the_machine_and_one_row_per_configuration(
        capsys: pytest.CaptureFixture[str]) -> None:
    import jax

    before = jax.config.jax_enable_x64
    assert load().main(TINY) == 0
    assert jax.config.jax_enable_x64 == before  # x64 was on for the run only
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CPU: ") and "ISA: " in lines[0]
    assert lines[1].startswith(f"jax {jax.__version__}")
    header = next(i for i, line in enumerate(lines) if line.startswith("function "))
    assert lines[header].split()[-2:] == ["jax", "ratio"]
    rows = [line.split() for line in lines[header + 1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("sigmoid", "float32", "1000"), ("sigmoid", "float64", "1000"),
        ("glu", "float32", "1000"), ("glu", "float64", "1000")]
    assert all(float(r[5]) > 0 for r in rows)


@pytest.mark.parametrize("argv,message", [
    (["--framework", "jx"], "argument --framework: invalid choice: 'jx'"),
    (["--framework", "jax", "--functions", "maxout"], "unknown function 'maxout'"),
    (["--framework", "jax", "--dtypes", "bfloat16"], "unknown dtype 'bfloat16'"),
])
def test_a_usage_error_is_one_line_and_exit_status_2(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load().main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_a_long_function_name_keeps_its_columns_apart(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*TINY[:2], "--functions", "hard_sigmoid", *TINY[4:6], "--dtypes", "float32",
            *TINY[8:]]
    assert load().main(argv) == 0
    row = capsys.readouterr().out.splitlines()[-1].split()
    assert row[:3] == ["hard_sigmoid", "float32", "1000"] and len(row) == 6
