"""Progress while solving: the library's `Progress` events (solver/engine/progress.py) and their
rendering on stderr (solver/cli/progress.py).

Before: `solve`, `compare --robust`, `roll`, `insert` printed nothing while HiGHS searched (for
minutes on larger plans); the library had no way to say how far the search had got.
"""

from __future__ import annotations

import io
import json
import math
from itertools import pairwise
from pathlib import Path

import pytest
from rich.console import Console

import solver.cli.progress as plain_lines
from solver.cli.main import main
from solver.cli.progress import describe, progress_reporter
from solver.devtools.generator import generate_to, ladder
from solver.engine.pipeline import solve
from solver.engine.progress import Progress, Reporter, relative_gap
from solver.io.loading import load_instance

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"
TOL = 1e-6


def check_events(events: list[Progress], result) -> list[Progress]:
    """The invariants of a solve's events (the solve maximises profit); returns the search's."""
    seconds = [e.seconds for e in events]
    assert seconds == sorted(seconds), "elapsed time went backwards"
    assert events[-1].phase == "solved"
    last = events[-1]
    assert last.incumbent == result.objective and last.bound == result.bound and last.gap == result.gap
    assert result.gap == pytest.approx(relative_gap(result.objective, result.bound), abs=1e-12)
    search = [e for e in events[:-1] if e.phase not in ("building the model", "polishing the plan")]
    scale = TOL * max(1.0, abs(result.objective))
    for e in search:
        if math.isfinite(e.incumbent) and math.isfinite(e.bound):
            assert e.bound >= e.incumbent - scale
            assert e.gap == pytest.approx(relative_gap(e.incumbent, e.bound))
        if math.isfinite(e.bound):  # a proven bound holds for every plan, the final one too
            assert e.bound >= result.objective - scale
        if math.isfinite(e.incumbent):  # every plan found is within the final proven bound
            assert e.incumbent <= result.bound + scale
    found = [e.incumbent for e in search if math.isfinite(e.incumbent)]
    assert all(b >= a - scale for a, b in pairwise(found)), "the best plan's profit fell"
    bounds = [e.bound for e in search if math.isfinite(e.bound)]
    assert all(b <= a + scale for a, b in pairwise(bounds)), "the proven bound loosened"
    json.dumps([e.to_dict() for e in events], allow_nan=False)  # what the web sends through its queue
    return search


@pytest.mark.solver
def test_solve_reports_the_search_as_it_moves(tmp_path: Path) -> None:
    """A branch-and-bound solve of a few seconds: several plans found on the way, each event's
    numbers consistent with the plan returned."""
    path = generate_to(ladder("small", seed=0, products=4, periods=4, materials=6), tmp_path / "gen")
    events: list[Progress] = []
    result = solve(load_instance(path), time_limit=60, progress=events.append)
    assert result.has_plan
    search = check_events(events, result)
    assert len({e.incumbent for e in search if math.isfinite(e.incumbent)}) >= 2  # it did move
    assert events[0].phase == "building the model"


@pytest.mark.solver
def test_the_heuristic_reports_its_best_plan_and_bound(tmp_path: Path) -> None:
    """relax-and-fix: each step reported with the whole plan's best profit and proven bound."""
    path = generate_to(ladder("small", seed=0, products=4, periods=4, materials=6), tmp_path / "gen")
    events: list[Progress] = []
    result = solve(load_instance(path), time_limit=20, strategy="relax-and-fix", progress=events.append)
    assert result.has_plan
    check_events(events, result)
    assert {"relax-and-fix", "fix-and-optimize"} <= {e.phase for e in events}


@pytest.mark.solver
def test_search_figures_are_in_the_users_units() -> None:
    """The appliance model runs with HiGHS's user scaling (2^-10 bounds, 2^-4 costs): its
    callbacks see the objective scaled by 2^-14. Unconverted, a bound of ¥144M would read 8,818
    and fall below the plan's profit."""
    events: list[Progress] = []
    result = solve(load_instance(ROOT / "instances" / "appliance"), time_limit=3, progress=events.append)
    assert result.has_plan
    search = check_events(events, result)
    assert any(math.isfinite(e.bound) for e in search)


def test_a_part_is_timed_on_the_outer_clock_and_labelled() -> None:
    events: list[Progress] = []
    outer = Reporter(events.append, started=0.0)  # a clock started long ago
    inner = Reporter(outer.part("scenario low"))
    inner("solving", incumbent=5.0, bound=6.0)
    (event,) = events
    assert event.phase == "scenario low: solving" and event.incumbent == 5.0 and event.seconds > 1000
    assert Reporter().part("x") is None  # no callback: nothing measured below either


def test_describe_words_the_figures() -> None:
    event = Progress("solving", 3.0, incumbent=139_410_803.1, bound=144_634_968.7, gap=0.03747)
    assert describe(event, "CNY") == "solving: profit ¥139,410,803, bound ¥144,634,969, gap 3.75%"
    assert describe(Progress("solving", bound=10.0), "CNY") == "solving: no plan yet, bound ¥10"
    units = Progress("capable-to-promise: solving", incumbent=120.0, bound=150.0, objective="units deliverable",
                     money=False)
    assert describe(units) == "capable-to-promise: solving: units deliverable 120, bound 150"
    assert describe(Progress("re-solving", done=3, total=5)) == "re-solving: 3 of 5 done"
    assert describe(Progress("building the model")) == "building the model …"


def test_plain_lines_at_a_low_rate_when_not_a_terminal(monkeypatch) -> None:
    """Silent for the first second; then a line when the phase changes (at most one a second)
    and otherwise one every 10 s."""
    clock = {"now": 100.0}
    monkeypatch.setattr("solver.cli.progress.time.perf_counter", lambda: clock["now"])
    out = io.StringIO()
    with progress_reporter(console=Console(file=out, force_terminal=False, width=200), currency="CNY") as progress:
        def at(seconds: float, event: Progress) -> None:
            clock["now"] = 100.0 + seconds
            progress(event)

        at(0.0, Progress("building the model"))  # a quick command says nothing
        at(0.5, Progress("solving", incumbent=1.0, bound=100.0))
        at(1.5, Progress("solving", incumbent=2.0, bound=90.0))  # printed: new since the last line
        for k in range(1, 9):  # the same phase: quiet for 10 s
            at(1.5 + k, Progress("solving", incumbent=2.0 + k, bound=90.0))
        at(11.6, Progress("solving", incumbent=20.0, bound=90.0))  # 10 s on
        at(12.0, Progress("polishing the plan"))  # a new phase, but within a second of the last line
        at(12.7, Progress("solved", incumbent=20.0, bound=20.0, gap=0.0))
    lines = out.getvalue().splitlines()
    assert lines == ["[2 s] solving: profit ¥2, bound ¥90",
                     "[12 s] solving: profit ¥20, bound ¥90",
                     "[13 s] solved: profit ¥20, bound ¥20, gap 0.00%"]


def test_a_terminal_gets_one_live_line() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    with progress_reporter(console=console, currency="CNY") as progress:
        progress(Progress("solving", incumbent=1234.0, bound=1300.0, gap=0.05))
    assert "solving: profit ¥1,234, bound ¥1,300, gap 5.00%" in out.getvalue()


def test_quiet_when_disabled() -> None:
    out = io.StringIO()
    with progress_reporter(enabled=False, console=Console(file=out)) as progress:
        progress(Progress("solving", incumbent=1.0))
    assert out.getvalue() == ""


@pytest.mark.solver
def test_cli_solve_prints_progress_on_stderr_and_nothing_with_json(tmp_path: Path, capsys, monkeypatch) -> None:
    """Stderr not a terminal: plain progress lines with the search's figures; with --json,
    stderr stays empty. The plain lines' rate limits (nothing in the first second, then one a
    second) are lifted here: on an idle machine this solve ends within its first second, and
    whether a line came out depended on the machine's load (CI found none)."""
    monkeypatch.setattr(plain_lines, "FIRST_SECONDS", 0.0)
    monkeypatch.setattr(plain_lines, "QUIET_SECONDS", 0.0)
    path = generate_to(ladder("small", seed=0, products=4, periods=4, materials=6), tmp_path / "gen")
    assert main(["solve", str(path)]) == 0
    err = capsys.readouterr().err
    assert "solving: profit ¥" in err and ", bound ¥" in err
    assert main(["solve", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert json.loads(captured.out)["status"] == "optimal"
