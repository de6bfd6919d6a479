"""actlab list / show, and the Markdown table of every function."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.cli import main
from actlab.cli.listing import markdown_table

def test_markdown_table_lists_every_function_once_in_its_group() -> None:
    lines = markdown_table().splitlines()
    assert lines[0].startswith("| group | name |")
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]
    assert all(len(row) == 7 for row in rows), "a pipe in a formula must be escaped"
    assert [row[1].strip("`") for row in rows] == (actlab.names(classic_only=True) + [
        n for n in actlab.names() if not actlab.get(n).classic])
    for row in rows:
        assert row[0] == ("classic" if actlab.get(row[1].strip("`")).classic else "wider family")


def test_list_names_every_registered_function(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in actlab.names():
        assert name in out


def test_classic_leaves_out_log_softmax(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--markdown", "--classic"]) == 0
    out = capsys.readouterr().out
    assert "`sigmoid`" in out and "`log_softmax`" not in out


@pytest.mark.parametrize("name", actlab.names())
def test_show_prints_the_facts(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", name]) == 0
    out = capsys.readouterr().out
    act = actlab.get(name)
    assert act.reference.split()[0] in out
    assert "formula" in out


def test_show_values_match_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "selu", "--at", "-1"]) == 0
    out = capsys.readouterr().out
    # selu'(-1) = λα e^{-1} = 0.6467686...
    assert "0.646768603" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["show", "rleu"], "did you mean 'relu'"),
        (["show"], "name"),
        (["frobnicate"], "invalid choice"),
        (["show", "relu", "--at", "abc"], "invalid float"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err_lines = captured.err.strip().splitlines()
    assert len(err_lines) == 1, captured.err
    assert needle in err_lines[0]


@pytest.mark.parametrize("name", actlab.names())
def test_show_prints_the_values_as_plain_numbers(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """f at the points, for every kind: a vector function's input and output are numbers,
    not a repr that rich reads as markup and drops."""
    points = [-2.0, 0.5, 3.0, 4.0]
    assert main(["show", name, "--at", *map(str, points)]) == 0
    out = capsys.readouterr().out
    assert "np.float64" not in out and "[]" not in out
    act = actlab.get(name)
    y = np.asarray(act(np.array(points)), dtype=np.float64).reshape(-1)
    assert y.size > 0
    for value in y:
        assert format(float(value), ".10g") in out, (name, value, out)
    if not act.elementwise:
        assert "x = (-2, 0.5, 3, 4)" in out, out


def test_rich_markup_in_a_fact_is_printed_as_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from actlab.cli import listing

    shown: list[tuple[str, ...]] = []
    real = listing._print_table

    def with_markup(title: str, header: tuple[str, ...], body: list[tuple[str, ...]]) -> None:
        body = [(row[0], f"[bold]{row[1]}[/bold] [x]", *row[2:]) for row in body]
        shown.extend(body)
        real(title, header, body)

    monkeypatch.setattr(listing, "_print_table", with_markup)
    assert main(["show", "relu"]) == 0
    out = capsys.readouterr().out
    assert shown and "[bold]" in out and "[x]" in out
