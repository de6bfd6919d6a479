"""What the CLI tests share: stop every command before its work, and read stderr as the
one line a usage error must be."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def _no_work(*args: object, **kwargs: object) -> None:
    raise AssertionError("the command started its work before checking its options")


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command's work (training, experiments, report, gallery) fails the test if it starts."""
    import actlab.lab
    import actlab.lab.compare
    import actlab.plots.gallery
    import actlab.report

    monkeypatch.setattr(actlab.lab.compare, "compare", _no_work)
    monkeypatch.setattr(actlab.lab, "get_experiment", lambda name: type("E", (), {"run": _no_work})())
    monkeypatch.setattr(actlab.report, "build_report", _no_work)
    monkeypatch.setattr(actlab.plots.gallery, "plot_gallery", _no_work)


@pytest.fixture
def stderr_line(capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Read the captured stderr: exactly one line, no blank one before it, no traceback."""

    def read() -> str:
        err = capsys.readouterr().err
        lines = err.splitlines()
        assert len(lines) == 1 and err.endswith("\n"), repr(err)
        return lines[0]

    return read
