"""actlab experiment: one quick run into a folder, and usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from actlab.cli import main
from actlab.cli.experiment import cell, format_table


def test_quick_run_prints_table_findings_and_writes_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["experiment", "perceptron", "--quick", "--seed", "1", "--out", str(tmp_path / "figs")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "perceptron rule" in out and "findings:" in out and "seed 1" in out
    header = next(line for line in out.splitlines() if line.startswith("data"))
    assert "converged" in header and "accuracy" in header
    for suffix in (".png", ".svg"):
        path = tmp_path / "figs" / f"perceptron{suffix}"
        assert path.is_file() and path.stat().st_size > 1000
        assert f"wrote {path}" in out


def test_unknown_experiment_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["experiment", "vanishing"])
    assert rc == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "did you mean 'vanishing-gradient'" in err[0]
    assert captured.out == ""


def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "softmax", "--seed", "-1"]) == 2
    assert main(["experiment", "softmax", "--seed", "x"]) == 2
    assert main(["experiment"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("actlab experiment: error: ") for line in err), err


def test_help_lists_the_experiments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("vanishing-gradient", "self-normalization", "softmax"):
        assert name in out


def test_table_formatting() -> None:
    assert cell(None) == "—" and cell(float("nan")) == "—" and cell(0.123456) == "0.1235" and cell(3) == "3"
    text = format_table(["name", "value"], [["a", 1.5], ["longer", None]])
    lines = text.splitlines()
    assert lines[0].startswith("name") and set(lines[1]) <= {"-", " "}
    assert len({len(line) for line in lines}) == 1  # aligned
