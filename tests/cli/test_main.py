"""What every subcommand shares: an output path that cannot be written is named in one
line, before any work is done; numbers in scientific notation and -inf are numbers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from actlab.cli import main


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
    assert len(err) == 1 and err[0].startswith("error: ") and str(blocker) in err[0], err


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
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-dir.png").mkdir()

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command started its work before checking --out")

    import actlab.lab
    import actlab.lab.compare
    import actlab.report

    monkeypatch.setattr(actlab.lab.compare, "compare", no_work)
    monkeypatch.setattr(actlab.lab, "get_experiment", lambda name: type("E", (), {"run": no_work})())
    monkeypatch.setattr(actlab.report, "build_report", no_work)
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and str(tmp_path) in err[0], err


def test_read_only_folder_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root may write anywhere: the folder is read-only to os.access only
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != folder and real_access(p, mode))
    try:
        assert main(["plot", "relu", "--out", str(folder / "sub" / "g.png")]) == 2
    finally:
        folder.chmod(0o700)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{folder} is not writable" in err[0], err
    assert not (folder / "sub").exists()


@pytest.mark.parametrize("text", ["-1e5", "-2.5E-1", "-3.", "-.5", "-inf", "-Infinity", "-nan", "-7"])
def test_negative_numbers_in_any_notation_are_values(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse alone takes -1e5 and -inf for options; ``show --at`` reads them as floats."""
    import actlab

    assert main(["show", "sigmoid", "--at", text, "1"]) == 0
    out = capsys.readouterr().out
    x = float(text)
    value = float(actlab.get("sigmoid")(x))
    assert format(x, "g") in out and format(value, ".10g") in out, (text, out)


def test_an_option_is_still_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "sigmoid", "--at", "-e5"]) == 2
    assert "expected at least one argument" in capsys.readouterr().err
