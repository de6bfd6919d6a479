"""The ``actlab`` command line: one module per subcommand, registered in ``COMMANDS``.

``main(argv)`` returns the exit status, so tests call it directly.  A usage error (bad
option, unknown activation, bad value, an output path that cannot be written) exits with
status 2 and one line on stderr, before any work; a failure while working (a full disk,
no memory) with status 1 and one line; a closed stdout pipe with status 1, silently.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from actlab.nn._checks import SEED_MAX  # the largest seed, as the library checks it

# Subcommand name -> module under actlab.cli defining add_parser(subparsers) and run(args).
# Modules are imported only when needed, so `actlab list` never loads matplotlib.
COMMANDS: dict[str, str] = {
    "list": "listing",
    "show": "listing",
    "compare": "compare",
    "experiment": "experiment",
    "plot": "plot",
    "report": "report",
}


class UsageError(Exception):
    """A bad command line: reported as one line on stderr, exit status 2."""


class _NegativeNumber:
    """What argparse takes for a negative number rather than an option: anything starting
    with "-" that float() reads (-2, -.5, -1e5, -1_000, -inf, -nan), so that
    ``show --at -1e5 -inf`` works.  Stands in for argparse's regular expression."""

    @staticmethod
    def match(text: str) -> bool:
        if not text.startswith("-"):
            return False
        try:
            float(text)
        except ValueError:
            return False
        return True


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NegativeNumber()

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def int_in(text: str, low: int, high: int) -> int:
    """``text`` as an integer in [low, high], else argparse's ArgumentTypeError (which
    the parser reports naming the option)."""
    try:
        value = int(text)
    except ValueError:
        pass
    else:
        if low <= value <= high:
            return value
    raise argparse.ArgumentTypeError(f"must be an integer in [{low}, {high}], got {text!r}")


def parse_seed(text: str) -> int:
    """The argparse type of every ``--seed``: an integer in [0, SEED_MAX], checked when
    the command line is parsed, before any work."""
    return int_in(text, 0, SEED_MAX)


def check_writable(path: str | Path, *, flag: str, directory: bool = False) -> Path:
    """``path`` as a Path, or a UsageError naming ``flag`` when it cannot be written:
    called before a command does any work, so that a bad ``--out`` fails at once, not
    after minutes of training.  ``directory``: ``path`` is a folder (made if missing); else
    a file, whose folder is made if missing.  Missing folders are fine as long as a file
    can be made in the nearest existing one.  Writing is tried, not asked of os.access
    (which tells root that /proc and /sys are writable): an existing file is opened to
    append, which changes nothing; else a temporary file is made and removed in the folder."""
    target = Path(path)
    where = target
    try:
        if directory and target.exists() and not target.is_dir():
            raise UsageError(f"{flag} {path}: {target} exists and is not a directory")
        if not directory and target.is_dir():
            raise UsageError(f"{flag} {path}: {target} is a directory; give a file name")
        existing = (target if directory else target.parent).absolute()
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise UsageError(f"{flag} {path}: {existing} is not a directory")
        if not directory and target.exists():  # a file, or /dev/null: open it to append
            os.close(os.open(target, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK))  # no wait on a FIFO
        else:
            where = existing
            with tempfile.NamedTemporaryFile(dir=existing, prefix=".actlab-check-"):
                pass
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {where} is not writable ({exc.strerror or exc})") from None
    return target


def _module(command: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"actlab.cli.{COMMANDS[command]}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="actlab", description="Activation functions and a lab to compare them.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in COMMANDS:
        _module(command).add_parser(sub, command)
    return parser


def _version() -> str:
    from actlab import __version__

    return f"actlab {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return int(_module(args.command).run(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        # Our ValueErrors name the bad value (unknown activation, bad parameter): usage.
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # stdout was closed early (``actlab ... | head -1``): stop quietly, and point stdout
        # at devnull so that Python's flush at exit does not fail a second time.
        _stdout_to_devnull()
        return 1
    except OSError as exc:
        # Not a usage error: the paths the user gives are tried before any work starts
        # (check_writable), so this is the machine's doing (a full disk, say).  Status 1.
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        # Not a usage error either (the sizes are bounded when parsed), but one line, no traceback.
        detail = str(exc).splitlines()
        print("error: out of memory" + (f": {detail[0]}" if detail else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _stdout_to_devnull() -> None:
    """Send what is left for stdout to devnull (the recipe of Python's signal docs)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests capture it)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
