"""The large-plan path of the heuristic (solver/heuristics.py `_lp_guided`), forced on a small plan."""

import math

import solver.heuristics as heuristics
from solver.checker import check_plan
from solver.loading import load_instance
from solver.options import SolveOptions
from solver.planning import solve

APPLIANCE = "instances/appliance"


def test_lp_built_plan_is_feasible_and_bounded(monkeypatch):
    """With every model treated as large, the heuristic builds its plan from fixed-integer LPs
    and takes its bound from the LP relaxation and the background MIP: the plan passes the
    independent checker, its profit is at most the proven optimum, and the bound is at least it
    (a maximisation: plan ≤ optimum ≤ bound)."""
    inst = load_instance(APPLIANCE)
    exact = solve(inst, time_limit=120)
    monkeypatch.setattr(heuristics, "LARGE_ROWS", 0)
    r = heuristics.solve_with_heuristic(inst, SolveOptions(time_limit=40))
    assert r.status.has_plan
    assert len(check_plan(inst, r.tables)) == 0
    assert r.objective <= exact.objective * (1 + 1e-6)
    assert math.isfinite(r.bound) and r.bound >= exact.objective * (1 - 1e-6)
    phases = [step[0] for step in r.kpis["heuristic"]]
    assert "lp relaxation" in phases and "bound" in phases
