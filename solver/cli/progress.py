"""Progress of a long command on stderr, from the library's `Progress` events
(solver/engine/progress.py).

On a terminal: one rich progress line (spinner, what is being done, the best plan's profit,
the proven bound and the gap as HiGHS moves them, elapsed time), rewritten in place and gone
when the command ends. Elsewhere (a pipe, a log file): plain lines at a low rate, so that a log
shows the run is alive, and how far the search has got, without filling up: nothing in the
first second (a quick command stays silent), then a line when the phase has changed, at most
one a second, and otherwise one every 10 s. Off with `--json`: stdout and stderr carry nothing
but the answer and real messages.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import replace

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from solver.cli.common import err_console
from solver.engine.progress import Progress, ProgressCallback
from solver.money import money, quantity

QUIET_SECONDS = 10.0  # between two plain lines of one phase
FIRST_SECONDS = 1.0  # before the first plain line, and between two lines of new phases


def describe(event: Progress, currency: str = "") -> str:
    """One line for an event: `solving: profit ¥144,464,970, bound ¥144,469,858, gap 0.00%`."""
    worded = (lambda v: money(v, currency)) if event.money else quantity
    figures = []
    if math.isfinite(event.incumbent):
        figures.append(f"{event.objective} {worded(event.incumbent)}")
    elif math.isfinite(event.bound):
        figures.append("no plan yet")
    if math.isfinite(event.bound):
        figures.append(f"bound {worded(event.bound)}")
    if math.isfinite(event.gap):
        figures.append(f"gap {event.gap:.2%}")
    if event.done is not None and event.total is not None:
        figures.append(f"{event.done} of {event.total} done")
    said = ": ".join(part for part in (event.detail, ", ".join(figures)) if part)
    return f"{event.phase}: {said}" if said else f"{event.phase} …"


def labelled(progress: ProgressCallback, k: int, n: int) -> ProgressCallback:
    """`progress` for the k-th of n similar runs (rush orders): phases read `k of n: …`
    when there are several."""
    if n <= 1:
        return progress
    return lambda event: progress(replace(event, phase=f"{k} of {n}: {event.phase}"))


@contextlib.contextmanager
def progress_reporter(enabled: bool = True, console: Console | None = None,
                      currency: str = "") -> Iterator[ProgressCallback]:
    """`with progress_reporter(not args.json, currency=inst.currency) as progress:
    solve(inst, options, progress=progress)`; money is worded in `currency`."""
    console = console or err_console
    if not enabled:
        yield lambda _event: None
        return
    if console.is_terminal:
        columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn())
        with RichProgress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("starting …", total=None)
            yield lambda event: bar.update(task, description=describe(event, currency))
        return
    started = time.perf_counter()
    last = {"phase": None, "at": started}  # as if a line had been printed at the start

    def show(event: Progress) -> None:
        now = time.perf_counter()
        since = now - last["at"]
        if (event.phase != last["phase"] and since >= FIRST_SECONDS) or since >= QUIET_SECONDS:
            console.print(Text(f"[{now - started:.0f} s] {describe(event, currency)}"), soft_wrap=True)
            last.update(phase=event.phase, at=now)

    yield show
