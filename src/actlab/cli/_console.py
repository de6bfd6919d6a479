"""rich's Console for the CLI: a closed stdout pipe is a BrokenPipeError, which ``main``
turns into a quiet exit with status 0, rather than rich's own SystemExit(1)."""

from __future__ import annotations

import errno

from rich.console import Console as _RichConsole
from rich.markup import escape


class Console(_RichConsole):
    """rich.console.Console whose broken pipe is left to ``actlab.cli.main``."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


__all__ = ["Console", "escape"]
