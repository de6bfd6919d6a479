"""benchmarks/bench_frameworks.py's command line (a run of a few calls; no timing checked)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_frameworks.py"
TINY = ["--functions", "sigmoid,softmax", "--sizes", "1e3", "--dtypes", "float64",
        "--repeats", "1", "--min-time", "0.0001", "--settle", "0"]


def load() -> Any:
    spec = importlib.util.spec_from_file_location("bench_frameworks", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_run_prints_the_machine_and_one_row_per_configuration(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert load().main(TINY) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CPU: ") and "ISA: " in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("function "))
    rows = [line.split() for line in lines[header + 1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [("sigmoid", "float64", "1000"),
                                                  ("softmax", "float64", "1000")]
    assert all(float(r[5]) > 0 for r in rows)


def test_the_ops_path_is_named_in_the_header(capsys: pytest.CaptureFixture[str]) -> None:
    import actlab.torch as at

    try:
        assert load().main([*TINY, "--path", "ops"]) == 0
        assert at.get_path() == "ops"
    finally:
        at.set_path("kernels")
    lines = capsys.readouterr().out.splitlines()
    assert "actlab.torch's ops path" in lines[1]
    assert lines[-1].split()[:3] == ["softmax", "float64", "1000"]


@pytest.mark.parametrize("argv,message", [
    (["--functions", "sigmod"], "unknown function 'sigmod'"),
    (["--sizes", "0"], "expected a whole number from 1 to 1e9, got '0'"),
    (["--dtypes", "float16"], "unknown dtype 'float16'"),
    (["--path", "gpu"], "argument --path: invalid choice: 'gpu'"),
])
def test_a_usage_error_is_one_line_and_exit_status_2(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load().main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
