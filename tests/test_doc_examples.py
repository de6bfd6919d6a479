"""Every example in README.md and in the documentation's hand-written pages runs.

- Each ```python block runs on its own, in a fresh namespace and a scratch folder: a block
  must be complete enough to paste into a new interpreter.
- Each ``>>>`` line of an untagged block runs and must raise the error printed below it
  (``...`` in the printed message stands for any text).
- Each ``actlab ...`` line of a ```sh / ```console / ```bash block is parsed by the CLI's
  own parser (a usage error fails the test); the cheap, read-only ones (``list``, ``show``)
  run for real.
- The ``actlab compare`` table shows the columns the command prints today.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The README and the site's hand-written pages (the generated ones are read from the code).
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md")
                                    if not {"_build", "generated"} & set(p.relative_to(ROOT / "docs").parts))]
SHELL_LANGUAGES = ("sh", "console", "bash", "shell")
#: Subcommands cheap enough (well under a second, nothing written) to run for real.
RUN_FOR_REAL = ("list", "show")

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, body, line number of the opening fence) of every fenced block."""
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in _FENCE.finditer(text)]


def readme_blocks(*languages: str) -> list[tuple[str, str]]:
    """(body, "page:line") of every block of these languages on every page."""
    return [(body, f"{page.relative_to(ROOT)}:{line}") for page in PAGES
            for lang, body, line in blocks(page.read_text(encoding="utf-8")) if lang in languages]


def _ids(items: list[tuple[Any, str]]) -> list[str]:
    return [where for _, where in items]


PYTHON_BLOCKS = readme_blocks("python")
ERROR_BLOCKS = [(body, line) for body, line in readme_blocks("")
                if body.lstrip().startswith(">>>")]
COMMAND_LINES = [
    (shlex.split(raw.split("#", 1)[0]), line)
    for body, line in readme_blocks(*SHELL_LANGUAGES)
    for raw in body.splitlines()
    if raw.strip().startswith("actlab ")
]


def test_the_readme_has_examples_of_each_kind() -> None:
    assert len(PYTHON_BLOCKS) >= 3 and ERROR_BLOCKS and len(COMMAND_LINES) >= 8
    assert any(where.startswith("README.md") for _, where in PYTHON_BLOCKS)


def test_block_extraction() -> None:
    text = "x\n```python\na = 1\n```\n\n```sh\nactlab list   # comment\n```\n```\n>>> 1\n```\n"
    assert blocks(text) == [("python", "a = 1\n", 2), ("sh", "actlab list   # comment\n", 6),
                            ("", ">>> 1\n", 9)]


@pytest.mark.parametrize(("code", "line"), PYTHON_BLOCKS, ids=_ids(PYTHON_BLOCKS))
def test_python_block_runs(code: str, line: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    for framework in ("torch", "jax"):
        if f"import {framework}" in code:
            pytest.importorskip(framework)
    monkeypatch.chdir(tmp_path)  # blocks that save files write them here
    namespace: dict[str, object] = {"__name__": "__readme__"}
    exec(compile(code, line, "exec"), namespace)  # noqa: S102


def _expected_errors(body: str) -> list[tuple[str, str, str]]:
    """(expression, exception name, message pattern) for each ``>>>`` line."""
    lines = body.strip().splitlines()
    cases = []
    for i, text in enumerate(lines):
        if text.startswith(">>> "):
            name, _, message = lines[i + 1].partition(": ")
            cases.append((text[4:], name, message))
    return cases


@pytest.mark.parametrize(("body", "line"), ERROR_BLOCKS, ids=_ids(ERROR_BLOCKS))
def test_printed_errors_are_the_errors_raised(body: str, line: str) -> None:
    import actlab

    cases = _expected_errors(body)
    assert cases
    for expression, name, message in cases:
        pattern = ".*".join(re.escape(part) for part in message.split("..."))
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is checked below
            eval(expression, {"actlab": actlab})  # noqa: S307
        assert type(caught.value).__name__ == name, (expression, caught.value)
        assert re.fullmatch(pattern, str(caught.value)), (expression, str(caught.value))


@pytest.mark.parametrize(("argv", "line"), COMMAND_LINES, ids=_ids(COMMAND_LINES))
def test_command_line_parses(argv: list[str], line: str, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    from actlab.cli import build_parser, main

    import actlab

    assert argv[0] == "actlab"
    args = build_parser().parse_args(argv[1:])  # a usage error raises here
    for name in args.define:  # registered while parsing
        actlab.undefine(name)
    command = argv[1 + 2 * len(args.define)]  # after the --define NAME=FORMULA pairs
    assert args.command == command
    if command in RUN_FOR_REAL:
        monkeypatch.chdir(tmp_path)
        assert main(argv[1:]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out.strip()


def _header(table: str) -> list[str]:
    """The column names of a table drawn with box characters (the ┃ row)."""
    row = next(text for text in table.splitlines() if text.lstrip().startswith("┃"))
    return [cell.strip() for cell in row.strip().strip("┃").split("┃")]


def test_compare_table_in_the_docs_is_what_the_command_prints() -> None:
    shown = [body for body, _ in readme_blocks("text") if "activation" in body and "┃" in body]
    assert len(shown) == 1, "the docs show one actlab compare table, drawn as printed"
    done = subprocess.run(
        [sys.executable, "-m", "actlab", "compare", "--dataset", "iris",
         "--activations", "relu,step", "--hidden", "8", "--epochs", "1"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert _header(shown[0]) == _header(done.stdout)
    readme_rows = {text.split("│")[1].strip() for text in shown[0].splitlines() if "│" in text}
    assert {"arctan", "relu", "maxout", "tanh", "leaky_relu", "sigmoid", "selu", "step"} == readme_rows
