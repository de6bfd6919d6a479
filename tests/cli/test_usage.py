"""What a new user meets first: a bare ``actlab``, the help of every option, the one form
of every usage error, comma-separated lists, empty paths, the real reason a path cannot be
written, ``| head``, and the default outputs kept out of git."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import actlab
from actlab.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_a_bare_actlab_prints_the_usage_and_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 2, captured.err
    assert lines[0].startswith("usage: actlab") and "COMMAND" in lines[0]
    assert lines[1] == "run 'actlab --help' for the commands"


def test_version_is_the_installed_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith(f"actlab {importlib.metadata.version('actlab')}; ")
    assert out.endswith(actlab.kernel_status())  # which kernels compute, and with what


def test_python_m_actlab_version_names_the_kernels() -> None:
    run = subprocess.run([sys.executable, "-m", "actlab", "--version"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "ACTLAB_NO_FAST": "1"})
    assert run.returncode == 0 and "NumPy kernels only" in run.stdout, run


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _options() -> list[tuple[str, argparse.ArgumentParser, argparse.Action]]:
    return [
        (command, sub, action)
        for command, sub in _subparsers(build_parser())
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction)
    ]


def _shown(default: object) -> list[str]:
    """The ways a default may be written in a help text."""
    if isinstance(default, (list, tuple)):
        words = [format(v, "g") if isinstance(v, (int, float)) else str(v) for v in default]
        return [" ".join(words), ",".join(words)]
    if isinstance(default, float):
        return [format(default, "g"), str(default)]
    return [str(default)]


@pytest.mark.parametrize(("command", "sub", "action"), _options(),
                         ids=[f"{c}-{a.dest}" for c, _, a in _options()])
def test_every_option_has_a_help_text_with_its_default(
    command: str, sub: argparse.ArgumentParser, action: argparse.Action
) -> None:
    text = sub._get_formatter()._expand_help(action) if action.help else ""
    assert len(text.split()) >= 2, f"{command} {action.dest}: no help text"
    flag_only = isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))
    if action.option_strings and not flag_only:
        found = re.search(r"\(default: ([^)]*)\)", text)
        assert found, f"{command} {action.option_strings[0]}: no '(default: ...)' in {text!r}"
        if action.default is not None:
            assert found.group(1) in _shown(action.default), (command, action.dest, text)


def test_the_compare_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    for needle in ("(default: 30)", "(default: 1)", "(default: digits)", "(default: 0.001)"):
        assert needle in text, needle


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        (["frobnicate"], "actlab"),
        (["--frobnicate"], "actlab"),
        (["compare", "--epochs", "ten"], "actlab compare"),
        (["compare", "--epochs", "0"], "actlab compare"),
        (["compare", "--dataset", "mnist"], "actlab compare"),
        (["compare", "--activations", "relux"], "actlab compare"),
        (["compare", "--seed", "4294967295", "--seeds", "2"], "actlab compare"),
        (["show", "rleu"], "actlab show"),
        (["plot", "rleu"], "actlab plot"),
        (["plot", "--out", "g.pdf"], "actlab plot"),
        (["experiment", "softmax", "--seed", "-1"], "actlab experiment"),
        (["experiment", "softmax", "--out", "/dev/null"], "actlab experiment"),
        (["report", "--out", ""], "actlab report"),
        (["report", "--experiments", "softmax,,perceptron"], "actlab report"),
    ],
)
def test_every_usage_error_has_one_prefix(
    argv: list[str], prog: str, no_work: None, stderr_line: Callable[[], str]
) -> None:
    """As argparse writes them: "actlab COMMAND: error: ..."."""
    assert main(argv) == 2
    line = stderr_line()
    assert line.startswith(f"{prog}: error: "), line
    assert not re.search(r"error: .*error:", line), line


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["report", "--out", ""], "--out"),
        (["experiment", "softmax", "--out", ""], "--out"),
        (["plot", "relu", "--out", ""], "--out"),
        (["compare", "--json", ""], "--json"),
    ],
)
def test_an_empty_path_is_refused(
    argv: list[str], flag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_work: None,
    stderr_line: Callable[[], str],
) -> None:
    """Not the current folder, nor silently no file."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    line = stderr_line()
    assert f"argument {flag}: expected a path, got ''" in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["report", "--out", "/proc/foo"], "/proc/foo"),
        (["plot", "--out", "/proc/foo/g.png"], "/proc/foo/g.png"),
    ],
)
def test_the_real_reason_with_the_real_path(
    argv: list[str], path: str, no_work: None, stderr_line: Callable[[], str]
) -> None:
    assert main(argv) == 2
    line = stderr_line()
    assert line.endswith(f"argument --out: cannot write {path}: No such file or directory"), line


def test_a_closed_pipe_exits_0_like_git_log_head() -> None:
    """``actlab show relu | head -1``, for real, through rich's console."""
    code = "import sys; from actlab.cli import main; sys.exit(main(['show', 'relu']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert err == b"", err


def _default_outputs() -> list[str]:
    paths = []
    for command, sub in _subparsers(build_parser()):
        for action in sub._actions:
            if action.dest in ("out", "json") and action.default is not None:
                paths.append(str(action.default))
    return paths


def test_the_default_outputs_are_found() -> None:
    assert {"gallery.png", "actlab-out/experiments"} <= set(_default_outputs())


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
@pytest.mark.parametrize("path", _default_outputs())
def test_the_default_outputs_are_ignored_by_git(path: str) -> None:
    inside = f"{path}/index.html" if not Path(path).suffix else path
    done = subprocess.run(["git", "check-ignore", "-q", "--no-index", inside], cwd=ROOT, check=False)
    assert done.returncode == 0, f"{inside} is not in .gitignore"


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_no_tracked_file_is_ignored() -> None:
    """The ignored names are anchored: ``/report/`` is not src/actlab/report/."""
    done = subprocess.run(["git", "ls-files", "-ci", "--exclude-standard"], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    assert done.stdout == ""


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_every_ignored_path_names_a_folder_of_the_project_or_a_default_output() -> None:
    """A pattern with a folder in it (``src/actlab/**/*.so``) is about a folder the checkout
    has, or about what the CLI writes by default; none is left over for a folder that is gone."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.splitlines()
    folders = {str(Path(f).parents[i]) for f in tracked for i in range(len(Path(f).parents) - 1)}
    defaults = {Path(p).parts[0] for p in _default_outputs()}
    for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip().strip("/")
        if not pattern or line.startswith("#") or "/" not in pattern:
            continue
        fixed = re.split(r"[*?\[]", pattern)[0].rstrip("/")  # the part before any wildcard
        folder = fixed if fixed != pattern else str(Path(fixed).parent)
        assert folder in folders or fixed in defaults, f"{line!r}: no folder {folder!r} in the checkout"
