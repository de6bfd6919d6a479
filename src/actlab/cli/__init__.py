"""The ``actlab`` command line: one module per subcommand, registered in ``COMMANDS``.

``main(argv)`` returns the exit status, so tests call it directly.  A usage error (bad
option, unknown activation, bad value) exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

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


#: What argparse takes for a negative number rather than an option: its own forms (-2,
#: -.5) and also -1e5, -inf and -nan, which float() reads, so ``show --at -1e5 -inf`` works.
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def check_writable(path: str | Path, *, flag: str, directory: bool = False) -> Path:
    """``path`` as a Path, or a UsageError naming it when it cannot be written: called
    before a command does any work, so that a bad ``--out`` fails at once, not after
    minutes of training.  ``directory``: ``path`` is a folder (made if missing); else a
    file, whose folder is made if missing.  Missing folders are fine as long as the
    nearest existing one is a writable directory."""
    target = Path(path)
    if directory and target.exists() and not target.is_dir():
        raise UsageError(f"{flag} {path}: {target} exists and is not a directory")
    if not directory and target.is_dir():
        raise UsageError(f"{flag} {path}: {target} is a directory; give a file name")
    folder = target if directory else target.parent
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: {existing} is not writable")
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
    except OSError as exc:
        # A path the user gave cannot be read or written (--out in a missing or read-only
        # place): a usage error too, named in one line rather than a traceback.
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
