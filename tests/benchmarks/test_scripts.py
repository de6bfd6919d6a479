"""The benchmark scripts' command lines and what they print with a table (no timing is
checked: the runs here are a few calls long)."""

from __future__ import annotations

import importlib.util
import json
import statistics
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
CPUINFO = Path("/proc/cpuinfo")
#: one configuration, one repeat, calls of about a millisecond
TINY = ["--functions", "relu", "--sizes", "1e3", "--dtypes", "float32", "--directions",
        "forward", "--modes", "out", "--peers", "numpy", "--repeats", "1", "--min-time",
        "0.001", "--settle", "0"]


def load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpuinfo_field(name: str) -> str:
    for line in CPUINFO.read_text().splitlines():
        if line.split(":", 1)[0].strip() == name:
            return line.split(":", 1)[1].strip()
    pytest.skip(f"/proc/cpuinfo has no {name!r}")


def tree_state(*dirs: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for d in dirs for p in d.rglob("*") if p.is_file()}


needs_cpuinfo = pytest.mark.skipif(not CPUINFO.exists(), reason="no /proc/cpuinfo")


def test_a_run_writes_no_file_unless_given_a_path(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = tree_state(BENCHMARKS, tmp_path)
    assert load("bench_functions").main(TINY) == 0
    assert tree_state(BENCHMARKS, tmp_path) == before


@needs_cpuinfo
def test_the_table_is_printed_with_the_cpu_model_and_its_isa(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert load("bench_functions").main(TINY) == 0
    lines = capsys.readouterr().out.splitlines()
    table = next(i for i, line in enumerate(lines) if line.startswith("function "))
    machine = next(line for line in lines[:table] if line.startswith("CPU: "))
    assert cpuinfo_field("model name") in machine
    flags = cpuinfo_field("flags").split()
    isa = machine.split("ISA: ", 1)[1].split(";")
    present = [f.strip() for f in isa[0].split(",")]
    for flag in ("avx2", "fma", "avx512f"):
        assert (flag in present) == (flag in flags), (flag, machine)


@needs_cpuinfo
def test_json_path_gets_the_results_and_the_machine(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    assert load("bench_functions").main([*TINY, "--peers", "numpy,torch", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["meta"]["processor"] == cpuinfo_field("model name")
    flags = cpuinfo_field("flags").split()
    assert data["meta"]["isa"]["avx2"] == ("avx2" in flags)
    assert data["meta"]["isa"]["avx512f"] == ("avx512f" in flags)
    (rec,) = data["results"]
    assert (rec["function"], rec["dtype"], rec["n"], rec["direction"], rec["out"]) == (
        "relu", "float32", 1000, "forward", True)
    assert rec["ratio_to_torch"] > 0 and rec["fraction_of_copy"] > 0
    assert rec["ratio_to_numpy"] > 0  # NumPy is a peer of this run: its ratio is stored


def test_paired_ratio_is_the_median_of_the_ratios_within_each_repeat() -> None:
    bench = load("bench_functions")
    # the machine slowed down in the third repeat for both: the pairs cancel it, while the
    # ratio of the medians (4 / 4) would not see that a was twice as slow in most repeats
    samples = {"a": [2.0, 4.0, 100.0], "b": [1.0, 4.0, 10.0]}
    assert bench.paired_ratio(samples, "a", "b") == pytest.approx(2.0)
    assert bench.paired_ratio(samples, "b", "a") == pytest.approx(0.5)
    nn_bench = load("bench_nn")
    assert nn_bench.paired_ratio(samples["a"], samples["b"]) == pytest.approx(2.0)
    assert statistics.median(samples["a"]) / statistics.median(samples["b"]) == 1.0


def _usage_error(main: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize(("argv", "named"), [
    (["--repeats", "0"], "0"),
    (["--repeats", "x"], "'x'"),
    (["--min-time", "0"], "'0'"),
    (["--min-time", "nan"], "'nan'"),
    (["--settle", "-1"], "'-1'"),
    (["--threads", "0"], "0"),
    (["--sizes", "abc"], "'abc'"),
    (["--sizes", "0"], "'0'"),
    (["--sizes", "1e12"], "'1e12'"),
    (["--sizes", "1.5"], "'1.5'"),
    (["--sizes", ","], "','"),
    (["--functions", "relu,nope"], "'nope'"),
    (["--dtypes", "int8"], "'int8'"),
    (["--peers", "tensorflow"], "'tensorflow'"),
    (["--functions", "softmax", "--sizes", "1500"], "1500"),
    (["--functions", "maxout", "--sizes", "1001"], "1001"),
    (["--report", "x.json"], "--report"),
])
def test_a_bad_option_of_bench_functions_is_a_one_line_usage_error(
        argv: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(load("bench_functions").main, argv, capsys)
    assert named in line


def test_an_unwritable_json_path_is_refused_before_any_timing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = load("bench_functions").main
    line = _usage_error(main, [*TINY, "--json", str(tmp_path / "no" / "run.json")], capsys)
    assert "cannot write" in line and "run.json" in line
    line = _usage_error(main, [*TINY, "--json", str(tmp_path)], capsys)
    assert "is a directory" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "named"), [
    (["--epochs", "0"], "0"),
    (["--epochs", "ten"], "'ten'"),
    (["--repeats", "-2"], "-2"),
    (["--threads", "0"], "0"),
    (["--bogus"], "--bogus"),
])
def test_a_bad_option_of_bench_nn_is_a_one_line_usage_error(
        argv: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(load("bench_nn").main, argv, capsys)
    assert named in line
