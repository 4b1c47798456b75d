"""Relax-and-fix heuristic (solver/engine/heuristics.py): a checker-valid plan with a proven bound."""

from __future__ import annotations

import pytest

import solver.engine.heuristics as heuristics
from solver import load_instance
from solver.analysis.checker import assert_plan_ok
from solver.devtools.generator import generate, ladder
from solver.engine.heuristics import solve_with_heuristic
from solver.engine.options import SolveOptions
from solver.io.instance_writer import write_instance_folder

pytestmark = pytest.mark.solver


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("heur")
    return load_instance(write_instance_folder(out / "i", *generate(ladder("tiny", seed=1, periods=6))))


def _check(result):
    assert result.status.has_plan, result.message
    assert_plan_ok(result)
    assert result.bound >= result.objective - 1e-6 * max(1.0, abs(result.objective))  # maximisation
    assert result.gap == pytest.approx(abs(result.bound - result.objective) / abs(result.objective), rel=1e-9, abs=1e-12)
    assert result.kpis["strategy"] == "relax-and-fix"


def test_mip_windows(tiny):
    r = solve_with_heuristic(tiny, SolveOptions(time_limit=20, threads=1), window=2)
    _check(r)
    assert any(step[0] == "relax-and-fix" for step in r.kpis["heuristic"])


def test_lp_windows(tiny, monkeypatch):
    """The LP-based path of large plans, forced on a tiny instance."""
    monkeypatch.setattr(heuristics, "LARGE_ROWS", 0)
    r = solve_with_heuristic(tiny, SolveOptions(time_limit=20, threads=1, formulation="ls"))
    _check(r)
