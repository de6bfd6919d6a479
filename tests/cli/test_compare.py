"""actlab compare: a quick run, JSON, best-first order and usage errors."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from actlab.cli import SEED_MAX, build_parser, main
from actlab.cli.compare import MAX_WIDTH
from actlab.lab.compare import compare, default_activations


def test_default_activations_from_registry() -> None:
    names = default_activations()
    assert {"sigmoid", "tanh", "arctan", "relu", "leaky_relu", "selu", "maxout", "step"} <= set(names)
    assert "softmax" not in names and "identity" not in names


def test_compare_results_best_first() -> None:
    results = compare(dataset="moons", activations=["tanh", "relu", "step"], hidden=(8,), epochs=3, seeds=2)
    assert results[-1].activation == "step" and "zero" in (results[-1].error or "")
    trained = results[:-1]
    assert trained[0].score >= trained[1].score
    for r in trained:
        assert len(r.runs) == 2 and len(r.runs[0].scores) == 3
        assert 0 <= r.dead_fraction <= 1 and r.grad_ratio > 0 and r.time_per_epoch > 0


def test_a_diverging_run_is_a_row_not_the_end() -> None:
    """At an absurd learning rate the regression's loss overflows in the first epoch: that
    function's row says so, and the comparison goes on (no warning, no exception)."""
    results = compare(dataset="diabetes", activations=["relu", "tanh"], hidden=(8,), epochs=2, lr=1e300)
    assert sorted(r.activation for r in results) == ["relu", "tanh"]
    for r in results:
        assert r.error is not None and "diverged" in r.error and "lr=1e+300" in r.error
        assert r.runs == []


def test_regression_uses_r2() -> None:
    (r,) = compare(dataset="diabetes", activations=["tanh"], hidden=(8,), epochs=2, target=0.0)
    assert r.metric == "r2"


def test_cli_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "not-yet" / "c.json"  # the missing folder is made
    rc = main(["compare", "--dataset", "iris", "--activations", "relu,tanh", "--hidden", "8",
               "--epochs", "2", "--seeds", "2", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "relu" in text and "tanh" in text and "±" in text
    payload = json.loads(out.read_text())
    assert payload["dataset"] == "iris" and len(payload["results"]) == 2
    assert {"score", "final_loss", "epochs_to_target", "time_per_epoch", "dead_fraction", "grad_ratio"} <= set(
        payload["results"][0]
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--dataset", "mnist"],
        ["--activations", "relux"],
        ["--activations", ","],
        ["--hidden", "64,x"],
        ["--hidden", "0"],
        ["--epochs", "0"],
        ["--epochs", "ten"],
        ["--lr", "-0.1"],
        ["--lr", "nan"],
        ["--batch-size", "0"],
        ["--seeds", "0"],
        ["--target", "2"],
    ],
)
def test_bad_values_exit_2_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("actlab compare: error: argument --")


@pytest.mark.parametrize("hidden", ["99999999999", f"64,{MAX_WIDTH + 1}", "-5", "64,,64", ""])
def test_widths_are_bounded_when_parsed(hidden: str, no_work: None, stderr_line: Callable[[], str]) -> None:
    """Not a MemoryError traceback after the data is loaded: one line naming --hidden."""
    assert main(["compare", "--dataset", "iris", "--activations", "relu", "--epochs", "1", "--hidden", hidden]) == 2
    line = stderr_line()
    assert f"argument --hidden: expected comma-separated integers in [1, {MAX_WIDTH}], got {hidden!r}" in line, line


def test_the_width_bound_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["compare", "--hidden", f"1,{MAX_WIDTH}"]).hidden == [1, MAX_WIDTH]
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert f"each 1 to {MAX_WIDTH}" in capsys.readouterr().out


def test_the_last_seed_is_a_seed_too(no_work: None, stderr_line: Callable[[], str]) -> None:
    """--seeds 2 runs --seed and --seed + 1: that one must be a seed as well."""
    assert main(["compare", "--dataset", "iris", "--seed", str(SEED_MAX), "--seeds", "2"]) == 2
    assert stderr_line().startswith("actlab compare: error: argument --seeds: the last seed")


@pytest.mark.parametrize(
    ("error", "status", "needle"),
    [
        (ValueError("a bad parameter"), 2, "actlab compare: error: a bad parameter"),
        (MemoryError("Unable to allocate 2.91 TiB for an array"), 1,
         "actlab compare: error: out of memory: Unable to allocate"),
        (OSError(errno.ENOSPC, "No space left on device"), 1, "actlab compare: error: No space left on device"),
    ],
)
@pytest.mark.parametrize("bar", [False, True], ids=["before-a-bar", "with-a-bar"])
def test_an_error_while_training_is_one_line(
    error: BaseException, status: int, needle: str, bar: bool, monkeypatch: pytest.MonkeyPatch,
    stderr_line: Callable[[], str],
) -> None:
    """The progress display leaves no line, blank or not, before the error; only usage errors are 2."""
    import actlab.lab.compare

    def fail(**kwargs: object) -> None:
        if bar:
            kwargs["on_epoch"]("relu", 0, 1)  # type: ignore[operator]
        raise error

    monkeypatch.setattr(actlab.lab.compare, "compare", fail)
    assert main(["compare", "--dataset", "iris", "--activations", "relu", "--epochs", "1"]) == status
    line = stderr_line()
    assert line.startswith(needle), line


@pytest.mark.parametrize(
    ("flag", "text", "needle"),
    [
        ("--activations", "relu,,selu", "item 2 is empty"),
        ("--activations", "relu,", "item 2 is empty"),
        ("--activations", "", "item 1 is empty"),
        ("--activations", " ,relu", "item 1 is empty"),
        ("--hidden", "64,,64", "item 2 is empty"),
        ("--hidden", ",64", "item 1 is empty"),
        ("--activations", "relu,relu", "'relu' is given twice"),
        ("--activations", "tanh, selu,tanh", "'tanh' is given twice"),
    ],
)
def test_comma_lists_are_parsed_one_way(
    flag: str, text: str, needle: str, no_work: None, stderr_line: Callable[[], str]
) -> None:
    """An empty item is a usage error for every list; so is an activation given twice."""
    assert main(["compare", "--dataset", "iris", "--epochs", "1", flag, text]) == 2
    line = stderr_line()
    assert line.startswith(f"actlab compare: error: argument {flag}: ") and needle in line, line
    assert repr(text) in line, line


def test_an_alias_of_a_name_given_is_a_duplicate(no_work: None, stderr_line: Callable[[], str]) -> None:
    import actlab

    name, alias = next((n, actlab.get(n).aliases[0]) for n in actlab.names() if actlab.get(n).aliases)
    assert main(["compare", "--activations", f"{name},{alias}"]) == 2
    line = stderr_line()
    assert f"{alias!r}" in line and f"{name!r}" in line and "twice" in line, line


def test_a_good_list_is_kept_in_order() -> None:
    args = build_parser().parse_args(["compare", "--activations", " tanh,relu ", "--hidden", "8, 4"])
    assert args.activations == ["tanh", "relu"] and args.hidden == [8, 4]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_device_for_json_is_one_line(
    capsys: pytest.CaptureFixture[str], stderr_line: Callable[[], str]
) -> None:
    """/dev/full opens but fails on write: exit 1 with the error alone on stderr, no bars,
    and the table still on stdout."""
    assert main(["compare", "--dataset", "iris", "--activations", "relu", "--hidden", "4",
                 "--epochs", "1", "--json", "/dev/full"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0] == "actlab compare: error: cannot write /dev/full: No space left on device", lines[0]
    assert "relu" in captured.out


def test_the_table_prints_its_texts_as_they_are(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What reaches rich is escaped: a name that looks like markup is printed, not dropped."""
    import dataclasses

    import actlab.lab.compare

    real = actlab.lab.compare.compare

    def marked(**kwargs: object) -> list[object]:
        return [dataclasses.replace(r, activation=f"[bold]{r.activation}[/bold]") for r in real(**kwargs)]

    monkeypatch.setattr(actlab.lab.compare, "compare", marked)
    assert main(["compare", "--dataset", "iris", "--activations", "relu,step", "--hidden", "4",
                 "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "[bold]relu[/bold]" in out and "[bold]step[/bold]:" in out, out


def test_activation_groups_read_the_registry() -> None:
    from actlab.lab.compare import activation_group

    classic, modern, every = (activation_group(g) for g in ("classic", "modern", "all"))
    assert classic == default_activations()
    assert {"gelu", "silu", "mish", "elu", "softplus", "prelu", "hard_swish"} <= set(modern)
    assert not set(classic) & set(modern) and every == [n for n in every if n in classic + modern]
    assert set(every) == set(classic) | set(modern)
    # output functions and glu (which halves the width and has no layer of its own) are left out
    assert not {"softmax", "log_softmax", "sparsemax", "log_sigmoid", "identity", "glu"} & set(every)
    with pytest.raises(ValueError, match="unknown activation group 'moden'"):
        activation_group("moden")


def test_compare_modern_group_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["compare", "--activations", "modern"])
    from actlab.lab.compare import activation_group

    assert args.activations == activation_group("modern")


def test_compare_ranks_the_modern_functions(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", "--dataset", "digits", "--activations", "gelu,silu,mish,elu,softplus,relu",
                 "--hidden", "16", "--epochs", "2"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line for line in out.splitlines() if any(f" {n} " in f" {line} " for n in
                                                     ("gelu", "silu", "mish", "elu", "softplus", "relu"))]
    assert len(rows) >= 6, out
