"""benchmarks/bench_functions.py's arithmetic and report, on made-up samples and on the
stored results (nothing here is timed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_functions",
                                                  BENCHMARKS / "bench_functions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_ratio_is_the_median_of_the_ratios_within_each_repeat() -> None:
    bench = load_bench()
    # the machine slowed down in the third repeat for both: the pairs cancel it, while the
    # ratio of the medians (4 / 4) would not see that a was twice as slow in most repeats
    samples = {"a": [2.0, 4.0, 100.0], "b": [1.0, 4.0, 10.0]}
    assert bench.paired_ratio(samples, "a", "b") == pytest.approx(2.0)
    assert bench.paired_ratio(samples, "b", "a") == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["functions_bars.json", "functions.json"])
def test_the_report_of_a_stored_run_shows_its_stored_ratios(
        name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--report prints the README tables of a saved run; every ratio it shows for 1e7 with
    out= is the one stored with the record (the median of the paired ratios), not one
    recomputed from the medians."""
    bench = load_bench()
    path = BENCHMARKS / "results" / name
    records = json.loads(path.read_text())["results"]
    assert bench.main(["--report", str(path)]) == 0
    out = capsys.readouterr().out
    big = max(r["n"] for r in records)
    checked = 0
    for r in records:
        if r["n"] != big or not r["out"] or "ratio_to_torch" not in r:
            continue
        row = next(line for line in out.splitlines()
                   if line.startswith(f"| `{r['function']}` | {r['dtype']} |")
                   and f"| {1e9 * r['seconds']['actlab'] / big:.3f} |" in line)
        assert f"| {r['ratio_to_torch']:.2f} |" in row, (r["function"], r["dtype"], row)
        checked += 1
    assert checked >= 18  # every function with a PyTorch peer, both dtypes and directions


def test_a_negative_settle_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--settle", "-1", "--no-json"])
    assert exit_info.value.code == 2
    assert "--settle must be >= 0 seconds, got -1.0" in capsys.readouterr().err
