"""The large-plan route keeps its time limit when the dive found no plan (solver/engine/heuristics.py
`_finish`). Deliberately not marked `solver`: the suite's guard (tests/conftest.py) fails this
test if HiGHS runs at all, which is the point."""

from __future__ import annotations

import time

import solver.engine.heuristics as heuristics
from formulations.assembly import build_model
from solver.engine.highs import compile_model
from solver.engine.options import SolveOptions
from solver.engine.status import Status
from solver.io.loading import load_instance


def test_no_whole_mip_when_its_lp_alone_needs_more_than_the_time_left():
    """The dive's LP relaxation ran 50 s and stopped at its time limit; 1 s is left. The whole
    MIP starts with that same LP, so running it could only overrun the limit (measured at
    1,000 x 24: 183 s for the 77 s left). The answer is no plan at once, saying why, with the
    dive's log kept; the guard proves that HiGHS was not started."""
    inst = load_instance("instances/tiny/rush_basic")
    built = build_model(inst, [], materialize=False)
    options = SolveOptions(time_limit=60)
    now = time.perf_counter()
    log = [("lp relaxation", "all", "Time limit reached", float("nan"), float("nan"), 50.0)]
    result = heuristics._finish(inst, (built, compile_model(built.model)), options, options, [], None, float("nan"), log,
                                0.5, now - 59.0, now + 1.0)
    assert result.status == Status.ERROR and not result.has_plan
    assert "LP relaxation alone was not solved in 50 s" in result.message
    assert "not run" in result.kpis["heuristic_message"]
    assert result.kpis["heuristic"] == log
