"""What every subcommand shares: an output path that cannot be written is named in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from actlab.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["plot", "relu", "--out", "{blocker}/gallery.png"],
        ["experiment", "softmax", "--quick", "--out", "{blocker}/figures"],
        ["report", "--quick", "--experiments", "", "--out", "{blocker}/report"],
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
