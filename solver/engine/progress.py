"""What a long library call says while it works: one payload, `Progress`, for every caller.

A library function that can run for more than a moment (`solve`, the diagnosis, scenarios,
re-plans, rush orders, sweeps) takes `progress: ProgressCallback | None` and calls it with a
`Progress` as the work moves; it never prints. The terminal renders the events on stderr
(solver/cli/progress.py); the web app, whose solves run in worker processes, sends
`event.to_dict()` (JSON-ready) through a queue. Without a callback nothing is measured or sent.

The rules every caller can rely on:

* Events arrive in the thread that called the library function (never HiGHS's own thread:
  HiGHS's callbacks only store numbers, the thread waiting for HiGHS reports them).
* `seconds` never decreases within one call: it counts from the start of the outermost call
  that was handed the callback (a part of a longer run, e.g. one scenario of a comparison,
  is re-timed on the outer clock by `Reporter.part`).
* While HiGHS searches, an event comes at once on a better plan and otherwise at most every
  `REPORT_SECONDS`; the numbers are in the user's units (HiGHS's callbacks see its
  user-scaled model: solver/engine/highs.py converts them).
* A solve's last event (`phase == "solved"`) carries the figures of the plan returned:
  `incumbent` is its objective (the profit of docs/model.md §5, less any objective-only
  penalties an extension adds: the objective the bound refers to), `bound` and `gap` those of
  the `Result`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

REPORT_SECONDS = 1.0  # between two events of one HiGHS search when nothing improves


@dataclass(frozen=True)
class Progress:
    """One progress event (picklable; `to_dict()` for JSON).

    `phase`: what is being done, in words ("building the model", "solving", "scenario low:
    solving"); `detail`: more words, possibly empty. `incumbent`: the objective of the best
    solution found so far, `bound`: the proven bound on it (≥ incumbent when `maximize`, as
    for profit), `gap`: |bound − incumbent| / |incumbent|; NaN while unknown. `objective` names
    what they measure ("profit", "expected profit", "relaxation cost", "units deliverable"),
    in the instance's currency when `money`, else in units. `done`/`total`: counted steps
    (sweep points, re-solves), when the work is a count.
    """

    phase: str
    seconds: float = 0.0
    detail: str = ""
    incumbent: float = math.nan
    bound: float = math.nan
    gap: float = math.nan
    objective: str = "profit"
    maximize: bool = True
    money: bool = True
    done: int | None = None
    total: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready: NaN and infinities become None."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


ProgressCallback = Callable[[Progress], None]


def relative_gap(incumbent: float, bound: float) -> float:
    """|bound − incumbent| / |incumbent| (as solver/engine/highs.py reports a plan's gap); NaN
    when either is unknown."""
    if not (math.isfinite(incumbent) and math.isfinite(bound)):
        return math.nan
    return abs(bound - incumbent) / max(abs(incumbent), 1e-9)


class Reporter:
    """Sends `Progress` events to a callback, timed from this reporter's start (or `started`,
    a `time.perf_counter()` value). Without a callback every call does nothing, so library code
    reports unconditionally: `report = Reporter(progress); report("building the model")`."""

    def __init__(self, progress: ProgressCallback | None = None, started: float | None = None):
        self.progress = progress
        self.started = time.perf_counter() if started is None else started

    def __bool__(self) -> bool:
        return self.progress is not None

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, phase: str, detail: str = "", **numbers) -> None:
        """An event of `phase` now; `numbers` are further `Progress` fields (incumbent, bound, …)."""
        if self.progress is not None:
            self.progress(Progress(phase, self.seconds(), detail, **numbers))

    def part(self, label: str = "") -> ProgressCallback | None:
        """The callback for a part of this call (one scenario, one re-solve): its events come
        through with the phase prefixed by `label: ` and their seconds on this reporter's
        clock. None without a callback (the part then measures nothing either)."""
        if self.progress is None:
            return None
        outer = self.progress

        def forward(event: Progress) -> None:
            phase = f"{label}: {event.phase}" if label else event.phase
            outer(replace(event, phase=phase, seconds=self.seconds()))

        return forward
