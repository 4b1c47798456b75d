"""Progress of a long command on stderr, from the library's `progress(phase, detail)` callback.

On a terminal: one status line with a spinner, rewritten as the work moves and gone when it
ends. Elsewhere (a pipe, a log file): a plain line for each new phase, and at most one every
10 s within a phase, so that a log shows the run is alive without filling up. Off with
`--json`: stdout and stderr carry nothing but the answer and real messages.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console
from rich.text import Text

from solver.cli.common import err_console

QUIET_SECONDS = 10.0  # between two plain lines of one phase


def _sentence(phase: str, detail: str) -> str:
    return f"{phase}: {detail}" if detail else f"{phase} …"


@contextlib.contextmanager
def progress_reporter(enabled: bool = True, console: Console | None = None) -> Iterator:
    """`with progress_reporter(not args.json) as progress: diagnose(..., progress=progress)`."""
    console = console or err_console
    if not enabled:
        yield lambda _phase, _detail="": None
        return
    if console.is_terminal:
        with console.status("") as status:
            yield lambda phase, detail="": status.update(Text(_sentence(phase, detail)))
        return
    last = {"phase": None, "at": 0.0}

    def show(phase: str, detail: str = "") -> None:
        now = time.perf_counter()
        if phase != last["phase"] or now - last["at"] >= QUIET_SECONDS:
            console.print(Text(_sentence(phase, detail)), soft_wrap=True)
            last.update(phase=phase, at=now)

    yield show
