"""The root cut loop (solver/engine/cuts.py, `--formulation cuts`): its rows are valid.

A valid inequality never cuts off a feasible plan, so never an optimum: on small lot-sizing
instances (shipped tiny ones, generated ones, a Trigeiro-layout one with setup times and a
hand-made one with several channels, routings and a BOM) every row the loop finds holds at the
proven optimal plan of plain big-M and at a second feasible plan (every setup open), the loop's
LP bound stays ≥ the optimum (a maximisation) and ≤ the plain LP bound, and the cut route
proves the same optimum.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from formulations.setup.lot_paths import lot_paths
from solver import solve
from solver.engine.cuts import (
    CutRows,
    PathColumns,
    root_cut_loop,
    separate_interval_mir,
    separate_ls,
    with_rows,
)
from solver.engine.exact import build
from solver.engine.highs import solve_standard_form
from solver.engine.options import SolveOptions
from tests.test_facility_location import _instances

pytestmark = pytest.mark.solver

OPTS = SolveOptions(time_limit=30, gap=1e-9)


def _feasible_plans(sf, opt_values):
    """The optimum, and the plan with every setup/order open (LP over the rest)."""
    yield "optimum", opt_values
    lower = sf.col_lower.copy()
    lower[sf.is_integer] = sf.col_upper[sf.is_integer]
    out = solve_standard_form(replace(sf, col_lower=lower), OPTS)
    if out.status.has_plan:
        yield "all open", out.values


def _holds(cuts: CutRows, values: np.ndarray) -> np.ndarray:
    act = cuts.matrix(len(values)) @ values
    lo, up = np.array(cuts.lower), np.array(cuts.upper)
    tol = 1e-6 * (1 + np.abs(np.where(np.isfinite(lo), lo, up)))
    return (act >= lo - tol) & (act <= up + tol)


def test_cut_rows_hold_at_feasible_plans_and_bound_the_optimum(tmp_path, generated_tiny):
    checked = 0
    for name, inst in _instances(tmp_path, generated_tiny):
        built, sf, *_ = build(inst, OPTS, [])
        opt = solve_standard_form(sf, OPTS)
        assert opt.status.has_plan, name
        cuts, report = root_cut_loop(sf, built, OPTS, 30)
        if report.lp_bound == report.lp_bound:  # the loop ran
            assert report.cut_bound <= report.lp_bound + 1e-6 * max(1.0, abs(report.lp_bound)), name
            assert report.cut_bound >= opt.objective - 1e-6 * max(1.0, abs(opt.objective)), name
        # every row separated at any round, not only those kept: separate again at each plan
        for label, values in _feasible_plans(sf, opt.values):
            assert _holds(cuts, values).all(), (name, label)
            found = CutRows()
            for p in lot_paths(built.ctx):
                path = PathColumns(p, sf)
                separate_ls(path, values, found)
                separate_interval_mir(path, values, found)
            assert not len(found), (name, label, [r.name for r in found.refs])  # nothing violated at a plan
        checked += len(cuts)
    assert checked > 0  # the instances do exercise the loop


def test_cut_route_proves_the_same_optimum(tmp_path, generated_tiny):
    for name, inst in _instances(tmp_path, generated_tiny):
        plain = solve(inst, OPTS)
        cut = solve(inst, replace(OPTS, formulation="cuts"))
        assert cut.status == plain.status, name
        assert cut.objective == pytest.approx(plain.objective, rel=1e-6, abs=1e-6), name
        assert ("cut_loop" in cut.kpis) == (cut.kpis["integers"] > 0), name  # the loop runs on MIPs


def test_loop_tightens_the_ttm_relaxation(tmp_path, generated_tiny):
    """The Trigeiro-layout instance: big-M's LP pays a fraction of each setup; the (l,S) rows
    found by the loop move the bound strictly towards the optimum."""
    inst = dict(_instances(tmp_path, generated_tiny))["ttm"]
    built, sf, *_ = build(inst, OPTS, [])
    cuts, report = root_cut_loop(sf, built, OPTS, 30)
    assert len(cuts) > 0
    assert report.cut_bound < report.lp_bound - 1e-6 * abs(report.lp_bound)
    tightened = solve_standard_form(with_rows(sf, cuts), OPTS)
    assert tightened.objective == pytest.approx(solve_standard_form(sf, OPTS).objective, rel=1e-9, abs=1e-6)
