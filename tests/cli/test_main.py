"""What every subcommand shares: an output path that cannot be written is named in one
line, before any work is done; so is a bad seed; numbers in scientific notation and -inf
are numbers; a closed stdout pipe ends the command quietly."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from actlab.cli import SEED_MAX, build_parser, check_writable, main


@pytest.mark.parametrize(
    "argv",
    [
        ["plot", "relu", "--out", "{blocker}/gallery.png"],
        ["experiment", "softmax", "--quick", "--out", "{blocker}/figures"],
        ["report", "--quick", "--experiments", "", "--out", "{blocker}/report"],
        ["compare", "--dataset", "iris", "--activations", "relu", "--epochs", "1",
         "--json", "{blocker}/deeper/c.json"],
    ],
)
def test_unwritable_out_exits_2_with_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"  # a regular file where a directory is needed
    blocker.write_text("")
    assert main([a.format(blocker=blocker) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"actlab {argv[0]}: error: argument ") and str(blocker) in err[0], err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["plot", "relu", "--out", "{tmp}/a-dir.png"], "is a directory"),
        (["compare", "--json", "{tmp}"], "is a directory"),
        (["experiment", "softmax", "--out", "{tmp}/a-file"], "is not a directory"),
        (["report", "--out", "{tmp}/a-file"], "is not a directory"),
    ],
)
def test_bad_out_fails_before_any_work(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-dir.png").mkdir()
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and str(tmp_path) in err[0], err


def test_read_only_folder_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root may write anywhere: make the folder refuse the trial file
        real = tempfile.NamedTemporaryFile

        def refuse(*args: object, dir: object = None, **kwargs: object) -> object:
            if dir is not None and Path(str(dir)) == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    try:
        assert main(["plot", "relu", "--out", str(folder / "sub" / "g.png")]) == 2
    finally:
        folder.chmod(0o700)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(f"cannot write {folder}/sub/g.png: Permission denied"), err
    assert not (folder / "sub").exists()


@pytest.mark.parametrize(
    "text",
    ["-1e5", "-2.5E-1", "-3.", "-.5", "-inf", "-Infinity", "-nan", "-7",
     "-1_000", "-1_0.2_5e-0_1", "-.5_5", "-1e1_0", "-\u0661\u0662"],  # underscores, Arabic-Indic digits
)
def test_negative_numbers_in_any_notation_are_values(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse alone takes -1e5 and -inf for options; ``show --at`` reads them as floats."""
    import actlab

    assert main(["show", "sigmoid", "--at", text, "1"]) == 0
    out = capsys.readouterr().out
    x = float(text)
    value = float(actlab.get("sigmoid")(x))
    assert format(x, "g") in out and format(value, ".10g") in out, (text, out)


@pytest.mark.parametrize("text", ["-e5", "-1__0", "-_1", "-1_", "-1e"])  # float() rejects them all
def test_an_option_is_still_an_option(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "sigmoid", "--at", text]) == 2
    assert "expected at least one argument" in capsys.readouterr().err


def _creatable(path: str) -> bool:
    """Whether a file can really be made at ``path`` (it is removed again)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except OSError:
        return False
    os.close(fd)
    os.unlink(path)
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and /sys are Linux's")
@pytest.mark.parametrize("root", ["/proc", "/sys"])
@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["compare", "--dataset", "iris", "--activations", "relu", "--epochs", "1", "--json", "{root}/x.json"],
         "--json"),
        (["experiment", "vanishing-gradient", "--quick", "--out", "{root}/x"], "--out"),
        (["plot", "relu", "--out", "{root}/x.png"], "--out"),
        (["report", "--quick", "--experiments", "", "--out", "{root}/x"], "--out"),
    ],
)
def test_proc_and_sys_are_not_writable_even_for_root(
    root: str, argv: list[str], flag: str, no_work: None, stderr_line: Callable[[], str]
) -> None:
    """os.access tells root that /proc and /sys are writable: the check tries to write."""
    if not os.path.isdir(root) or _creatable(f"{root}/actlab-probe-{os.getpid()}"):
        pytest.skip(f"{root} takes new files here")
    assert main([a.format(root=root) for a in argv]) == 2
    line = stderr_line()
    assert line.startswith(f"actlab {argv[0]}: error: argument {flag}: cannot write {root}/x"), line


def test_the_check_leaves_nothing_behind(tmp_path: Path) -> None:
    existing = tmp_path / "old.json"
    existing.write_text("keep me")
    check_writable(existing, flag="--json")
    check_writable(tmp_path / "new.json", flag="--json")
    check_writable(tmp_path / "missing" / "deeper", flag="--out", directory=True)
    check_writable(tmp_path, flag="--out", directory=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]
    assert existing.read_text() == "keep me"
    if os.path.exists(os.devnull):  # a writable file in a folder that may not take new ones
        assert check_writable(os.devnull, flag="--json") == Path(os.devnull)


def test_a_read_only_file_is_named(
    tmp_path: Path, stderr_line: Callable[[], str], monkeypatch: pytest.MonkeyPatch, no_work: None
) -> None:
    target = tmp_path / "old.json"
    target.write_text("")
    target.chmod(0o400)
    if os.geteuid() == 0:  # root may write anyway: make the file refuse to be opened
        real_open = os.open

        def refuse(file: object, *args: object, **kwargs: object) -> int:
            if Path(str(file)) == target:
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", refuse)
    assert main(["compare", "--json", str(target)]) == 2
    assert stderr_line() == f"actlab compare: error: argument --json: cannot write {target}: Permission denied"


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--dataset", "iris", "--activations", "relu", "--epochs", "1"],
        ["experiment", "softmax", "--quick"],
        ["report", "--quick", "--experiments", "softmax"],
    ],
)
@pytest.mark.parametrize("value", ["-1", str(SEED_MAX + 1), "99999999999", "1.5", "x"])
def test_a_bad_seed_is_named_before_any_work(
    argv: list[str], value: str, tmp_path: Path, no_work: None, stderr_line: Callable[[], str]
) -> None:
    assert main([*argv, "--out" if argv[0] != "compare" else "--json", str(tmp_path / "o"), "--seed", value]) == 2
    line = stderr_line()
    assert "argument --seed: must be an integer in [0, 4294967295]" in line and repr(value) in line, line


@pytest.mark.parametrize("command", [["compare"], ["experiment", "softmax"], ["report"]])
def test_every_seed_numpy_takes_is_accepted(command: list[str]) -> None:
    for value in ("0", str(SEED_MAX)):
        assert build_parser().parse_args([*command, "--seed", value]).seed == int(value)


class _ClosedPipe:
    """A stdout whose reader has gone: every write is a BrokenPipeError."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_a_closed_stdout_is_not_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["list", "--markdown"]) == 0
    assert capsys.readouterr().err == ""


def test_a_closed_stdout_pipe_ends_quietly() -> None:
    """``actlab list | head -0``, for real: no message, no "Exception ignored" at exit."""
    code = "import sys; from actlab.cli import main; sys.exit(main(['list']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes before the first line is written
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert err == b"", err
