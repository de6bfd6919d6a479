"""The ``actlab`` command line: one module per subcommand, registered in ``COMMANDS``.

``main(argv)`` returns the exit status, so tests call it directly.  A usage error (bad
option, unknown activation, bad value, an output path that cannot be written) exits with
status 2 and one line on stderr, before any work, in argparse's form
``actlab COMMAND: error: ...``; a failure while working (a full disk, no memory) with
status 1 and one line of the same form; a closed stdout pipe (``actlab list | head``)
with status 0, silently.  A bare ``actlab`` prints the usage and where to find the
commands, with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from actlab.checks import SEED_MAX  # the largest seed, as the library checks it

# Subcommand name -> module under actlab.cli defining add_parser(subparsers) and run(args).
# Modules are imported only when needed, so `actlab list` never loads matplotlib.
COMMANDS: dict[str, str] = {
    "list": "listing",
    "show": "listing",
    "compare": "compare",
    "experiment": "experiment",
    "plot": "plot",
    "report": "report",
    "audit": "audit",
}


class UsageError(Exception):
    """A bad command line: reported as one line on stderr, exit status 2.  ``prog`` is the
    parser that found it (``actlab`` or ``actlab COMMAND``); None: the command being run."""

    def __init__(self, message: str, *, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog


class OutputError(Exception):
    """An output that could not be written once the work was done (a full disk): one line
    on stderr, exit status 1."""


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
        # argparse's private matcher: any object with .match(), typed as a Pattern there
        self._negative_number_matcher = _NegativeNumber()  # type: ignore[assignment]

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, prog=self.prog)


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


def parse_path(text: str) -> str:
    """The argparse type of every output path: any path but the empty one (which would
    mean the current folder, or no file, without saying so)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got ''")
    return text


_Item = TypeVar("_Item")


def comma_list(
    text: str,
    *,
    what: str,
    item: Callable[[str], _Item] = str,  # type: ignore[assignment]
    unique: bool = False,
) -> list[_Item]:
    """The items of a comma-separated option, stripped, each passed through ``item``
    (which raises ValueError or ArgumentTypeError for a bad one); an empty item, a bad one,
    or with ``unique`` one given twice (after ``item``, so an alias repeats its name) is an
    ArgumentTypeError that quotes ``text``.  ``what``: the items, as in "expected
    comma-separated {what}"."""
    values: list[_Item] = []
    given: dict[_Item, str] = {}
    for number, part in enumerate(text.split(","), start=1):
        part = part.strip()
        problem = None
        if not part:
            problem = f"item {number} is empty"
        else:
            try:
                value = item(part)
            except (ValueError, argparse.ArgumentTypeError) as exc:
                problem = str(exc).splitlines()[0] if str(exc) else f"bad item {part!r}"
            else:
                if unique and value in given:
                    problem = (
                        f"{part!r} is given twice" if part == value else f"{part!r} is {value!r}, given twice"
                    )
                given.setdefault(value, part)
                values.append(value)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}: {problem}")
    return values


def check_writable(path: str | Path, *, flag: str, directory: bool = False) -> Path:
    """``path`` as a Path, or a UsageError naming ``flag`` when it cannot be written:
    called before a command does any work, so that a bad ``--out`` fails at once, not
    after minutes of training.  ``directory``: ``path`` is a folder (made if missing); else
    a file, whose folder is made if missing.  Missing folders are fine as long as a file
    can be made in the nearest existing one.  Writing is tried, not asked of os.access
    (which tells root that /proc and /sys are writable): an existing file is opened to
    append, which changes nothing; else a temporary file is made and removed in the folder."""
    if not str(path):
        raise UsageError(f"argument {flag}: expected a path, got ''")
    target = Path(path)
    try:
        if directory and target.exists() and not target.is_dir():
            raise UsageError(f"argument {flag}: {path} exists and is not a directory")
        if not directory and target.is_dir():
            raise UsageError(f"argument {flag}: {path} is a directory; give a file name")
        existing = (target if directory else target.parent).absolute()
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise UsageError(f"argument {flag}: cannot write {path}: {existing} is not a directory")
        if not directory and target.exists():  # a file, or /dev/null: open it to append
            os.close(
                os.open(target, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NONBLOCK", 0))
            )  # no wait on a FIFO
        else:
            with tempfile.NamedTemporaryFile(dir=existing, prefix=".actlab-check-"):
                pass
    except OSError as exc:
        raise UsageError(f"argument {flag}: cannot write {path}: {exc.strerror or exc}") from None
    return target


def _module(command: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"actlab.cli.{COMMANDS[command]}")


def parse_definition(text: str) -> tuple[str, str, dict[str, float]]:
    """``NAME=FORMULA[;PARAM=VALUE...]`` as (name, formula, parameters), or an
    ArgumentTypeError quoting ``text``."""
    head, *params = text.split(";")
    name, sep, formula = head.partition("=")
    if not sep or not name.strip() or not formula.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=FORMULA[;PARAM=VALUE...], got {text!r}")
    values: dict[str, float] = {}
    for item in params:
        key, sep, value = item.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            values[key.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected PARAM=NUMBER after ';' in {text!r}, got {item.strip()!r}"
            ) from None
    return name.strip(), formula.strip(), values


#: The activations ``--define`` registered during the current ``main`` call, undefined
#: when it returns (``main`` is called many times in one process by the tests).
_DEFINED: list[str] = []


class _Define(argparse.Action):
    """``--define NAME=FORMULA``: registers the activation as soon as the option is read,
    so that the command's own options (``--activations NAME``) see it."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        name, formula, params = values
        try:
            import actlab

            actlab.define(name, formula, **params)
        except ImportError:
            parser.error("argument --define: needs SymPy: pip install 'actlab[define]'")
        except ValueError as exc:
            parser.error(f"argument --define: {str(exc).splitlines()[0]}")
        _DEFINED.append(name)
        setattr(namespace, self.dest, [*getattr(namespace, self.dest), name])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="actlab", description="Activation functions and a lab to compare them.")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument(
        "--define",
        action=_Define,
        type=parse_definition,
        default=[],
        metavar="NAME=FORMULA",
        help="define an activation from a formula in x for this command (repeatable; "
        "parameters after ';': 'snake=x + sin(a*x)**2/a;a=1'); needs actlab[define]",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in COMMANDS:
        _module(command).add_parser(sub, command)
    return parser


def _version() -> str:
    import actlab

    return f"actlab {actlab.__version__}; {actlab.kernel_status()}"


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (its folder made if missing), or an OutputError naming the
    path and the reason: a device such as /dev/full opens, and fails on write or close."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = "actlab"

    def error(message: str, *, where: str | None = None) -> None:
        first = message.splitlines()[0] if message else "unknown error"
        print(f"{where or prog}: error: {first}", file=sys.stderr)

    try:
        parser = build_parser()
        if not argv:
            print(parser.format_usage().rstrip(), file=sys.stderr)
            print("run 'actlab --help' for the commands", file=sys.stderr)
            return 2
        args = parser.parse_args(argv)
        prog = f"{parser.prog} {args.command}"
        return int(_module(args.command).run(args) or 0)
    except UsageError as exc:
        error(str(exc), where=exc.prog)
        return 2
    except ValueError as exc:
        # Our ValueErrors name the bad value (unknown activation, bad parameter): usage.
        error(str(exc))
        return 2
    except OutputError as exc:
        error(str(exc))
        return 1
    except BrokenPipeError:
        # stdout was closed early (``actlab ... | head -1``): stop quietly and successfully,
        # as ``git log | head`` does, and point stdout at devnull so that Python's flush at
        # exit does not fail a second time.
        _stdout_to_devnull()
        return 0
    except OSError as exc:
        # Not a usage error: the paths the user gives are tried before any work starts
        # (check_writable), so this is the machine's doing (a full disk, say).  Status 1.
        where = f": {exc.filename}" if exc.filename else ""
        error(f"{exc.strerror or exc}{where}")
        return 1
    except MemoryError as exc:
        # Not a usage error either (the sizes are bounded when parsed), but one line, no traceback.
        detail = str(exc).splitlines()
        error("out of memory" + (f": {detail[0]}" if detail else ""))
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        _undefine_all()


def _undefine_all() -> None:
    if _DEFINED:
        import actlab
        from actlab.symbolic import undefine

        while _DEFINED:
            name = _DEFINED.pop()
            if name in actlab.names():  # not already undefined by the caller
                undefine(name)


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
