"""Warm starts (issue #8, target 4): re-solves start from the previous plan, and give what a
cold solve gives.

The small instance WARM: one product P (1 h of line L per unit, a setup of 10 h costing 30 in
any period it is made), one material M per P (moq 40, order cost 15, price 2) bought against
the `procurement` line (ceiling 600 over 4 periods), demand 60/90/70/80 at 10–11, lost when
not met. The setups and orders are the integer decisions a start carries; the procurement
ceiling is what a sweep varies (profit 683.75 at 200 … 2083 at 700).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pytest

import solver.engine.highs as highs_mod
from solver.analysis.parametric import (
    Parameter,
    apply_parameter,
    base_value,
    plan_values,
    start_vector,
    sweep,
    warm_order,
    warm_start,
)
from solver.analysis.rolling import read_actuals, roll
from solver.analysis.scenarios import compare_scenarios
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.engine.status import Status
from solver.io.baseline import load_baseline
from solver.io.loading import load_instance
from solver.io.writers import write_result
from tests.helpers import write_instance

ROOT = Path(__file__).resolve().parents[1]
EXACT = SolveOptions(gap=1e-6)
PROCUREMENT = Parameter.parse("budget:procurement")

WARM_TOML = """\
name = "warm"
periods = 4

[cash]
initial = 2000
"""
WARM_TABLES = {
    "items": "item,kind,unit_cost,holding_cost,moq,order_cost\nP,product,1,0.5,,\nM,material,2,0.1,40,15\n",
    "demand": "product,channel,period,quantity,price\nP,shop,1,60,10\nP,shop,2,90,10\nP,shop,3,70,11\nP,shop,4,80,11\n",
    "bom": "parent,child,quantity\nP,M,1\n",
    "resources": "resource,capacity\nL,120\n",
    "routings": "item,routing,resource,hours_per_unit,setup_hours,setup_cost\nP,main,L,1,10,30\n",
    "budget_lines": "line,ceiling\nprocurement,600\n",
}


@pytest.fixture
def warm_instance(tmp_path: Path) -> Path:
    return write_instance(tmp_path / "warm", WARM_TOML, **WARM_TABLES)


def _close(a: float, b: float, gap: float) -> bool:
    return abs(a - b) <= gap * max(abs(a), abs(b)) + 1e-6


# ------------------------------------------------------------------ mapping a plan onto a model


def test_warm_order_is_middle_out_and_the_same_for_one_and_two_jobs() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]  # unsorted on purpose
    pred = warm_order(values, jobs=1)
    assert pred == warm_order(values, jobs=2)
    by_value = {values[i]: (values[p] if p is not None else None) for i, p in pred.items()}
    assert by_value == {3.0: None, 4.0: 3.0, 5.0: 4.0, 2.0: 3.0, 1.0: 2.0}
    four = warm_order(list(range(8)), jobs=4)  # two segments, each rooted at its middle
    assert sorted(i for i, p in four.items() if p is None) == [2, 6]
    assert all(p is None or abs(i - p) == 1 for i, p in four.items())


@pytest.mark.solver
def test_start_is_mapped_by_name_onto_the_model_solve_builds(warm_instance: Path) -> None:
    """The start vector lines up with solve()'s own columns: a plan mapped onto its own
    instance gives back exactly its integer values, and leaves the continuous ones undefined."""
    inst = load_instance(warm_instance)
    r = solve(inst, EXACT)
    plan = plan_values(r)
    assert set(plan) == {"production.y", "procurement.z"}
    start, columns = warm_start(inst, EXACT, plan)
    sf = r.standard_form
    assert columns == sf.num_integers > 0 and len(start) == sf.num_cols
    np.testing.assert_array_equal(start[sf.is_integer], np.round(r.outcome.values[sf.is_integer]))
    assert (start[~sf.is_integer] == highspy.kHighsUndefined).all()
    # a plan of another shape: only the columns both models have are set
    short = {"production.y": {("P", "main", 1): 1.0, ("P", "main", 99): 1.0}}
    vec, n = start_vector(sf, short)
    assert n == 1 and (vec != highspy.kHighsUndefined).sum() == 1
    vec, n = start_vector(sf, short, missing=0.0)  # absent indices of a known component count as 0
    assert n == sum(1 for v in sf.columns if v.parent_component().name == "production.y")


# ------------------------------------------------------------------ sweeps


@pytest.mark.solver
def test_warm_sweep_gives_the_cold_profits(warm_instance: Path) -> None:
    values = [200.0, 300.0, 400.0, 500.0, 600.0, 700.0]
    cold = sweep(str(warm_instance), str(PROCUREMENT), values, EXACT, jobs=1, warm=False, refine=0)
    warm = sweep(str(warm_instance), str(PROCUREMENT), values, EXACT, jobs=1, warm=True, refine=0)
    assert (cold["status"] == "optimal").all() and (warm["status"] == "optimal").all()
    for a, b in zip(cold["profit"], warm["profit"], strict=True):
        assert _close(a, b, EXACT.gap), (a, b)
    assert cold["profit"].iloc[-1] - cold["profit"].iloc[0] > 1000  # the ceiling binds across the range
    assert not cold["warm_start"].any()
    # every point but the middle one started from a neighbour's plan
    assert warm["warm_start"].tolist() == [True, True, True, False, True, True]
    two = sweep(str(warm_instance), str(PROCUREMENT), values, EXACT, jobs=2, warm=True, refine=0)
    cols = ["value", "status", "profit", "warm_start", "marginal_value", "breakpoint"]
    pd.testing.assert_frame_equal(warm[cols], two[cols])  # same plans whatever finishes first


@pytest.mark.solver
def test_a_start_infeasible_for_the_new_data_still_gives_the_optimum(warm_instance: Path) -> None:
    """The plan for a ceiling of 700 places orders of at least 40 M (¥80 each) that a ceiling
    of 200 cannot pay for: as a start for 200 it is infeasible; the optimum is found anyway."""
    inst = load_instance(warm_instance)
    loose = solve(apply_parameter(inst, PROCUREMENT, 700), EXACT)
    orders = loose.tables["purchases"]
    assert (orders["quantity"] * 2 + orders["order_placed"] * 15).sum() > 200
    tight = apply_parameter(inst, PROCUREMENT, 200)
    start, columns = warm_start(tight, EXACT, plan_values(loose))
    assert columns > 0
    warm = solve(tight, EXACT, start=start)
    cold = solve(tight, EXACT)
    assert warm.status == cold.status == Status.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=EXACT.gap)
    assert warm.objective == pytest.approx(683.75)


# ------------------------------------------------------------------ the trap guard


@pytest.mark.solver
def test_guard_re_solves_when_the_warm_run_stops_outside_the_gap(warm_instance: Path, monkeypatch) -> None:
    """HiGHS calling a warm-started run optimal while the plan it returns misses the gap is
    constructed by letting the first HiGHS run (the warm MIP) stop at a 50 % gap: HiGHS then
    reports kOptimal with the start's plan, the recheck finds the gap unmet, and the guard
    re-solves without the start (HiGHS objects 3 and 4: MIP and polish of the cold run)."""
    inst = load_instance(warm_instance)
    start_plan = plan_values(solve(apply_parameter(inst, PROCUREMENT, 500), EXACT))
    target = apply_parameter(inst, PROCUREMENT, 700)
    cold = solve(target, EXACT)
    start, _ = warm_start(target, EXACT, start_plan)

    made: list[highspy.Highs] = []
    real = highs_mod.new_highs

    def loose_first_run(options):
        h = real(options)
        if not made:
            h.setOptionValue("mip_rel_gap", 0.5)
        made.append(h)
        return h

    monkeypatch.setattr(highs_mod, "new_highs", loose_first_run)
    warm = solve(target, EXACT, start=start)
    # the warm run: HiGHS says optimal, its plan is far outside the gap
    first, sf = made[0], warm.standard_form
    assert first.getModelStatus() == highspy.HighsModelStatus.kOptimal
    warm_run_profit = sf.cost @ np.array(first.getSolution().col_value) + sf.offset
    assert warm_run_profit < cold.objective - 1
    # the guard re-solved without the start (HiGHS objects 3 and 4: the cold MIP and its polish)
    assert len(made) >= 4 and "re-solved without the MIP start" in warm.message
    assert warm.kpis["seconds_highs"] > 0
    assert warm.status == Status.OPTIMAL and warm.gap <= EXACT.gap
    assert warm.objective == pytest.approx(cold.objective, rel=EXACT.gap)


@pytest.mark.solver
def test_guard_on_the_real_highs_trap_in_the_appliance_sweep() -> None:
    """The case that was seen: procurement ceiling cut from 95 % to 90 %, started from the 95 %
    plan. HiGHS 1.16's presolve values the start ~¥170,000 above the plan it returns and stops
    at its gap on that value; the guard's re-solve gives the cold optimum, honestly optimal."""
    inst = load_instance(ROOT / "instances" / "appliance")
    base = base_value(inst, PROCUREMENT)
    options = SolveOptions()
    prev = solve(apply_parameter(inst, PROCUREMENT, 0.95 * base), options)
    cut = apply_parameter(inst, PROCUREMENT, 0.90 * base)
    start, columns = warm_start(cut, options, plan_values(prev))
    assert columns == prev.kpis["integers"]
    warm = solve(cut, options, start=start)
    cold = solve(cut, options)
    assert "re-solved without the MIP start" in warm.message  # HiGHS 1.16 falls into it here
    assert warm.status == cold.status == Status.OPTIMAL and warm.gap <= options.gap
    assert warm.objective == pytest.approx(cold.objective, rel=options.gap)


# ------------------------------------------------------------------ scenarios and rolling


@pytest.mark.solver
def test_scenarios_start_from_the_base_plan_and_equal_the_cold_ones() -> None:
    path = ROOT / "instances" / "tiny" / "scenarios_demand"
    names = ["low", "base", "high"]
    instances = {s: load_instance(path, scenario=s) for s in names}
    weights = {"low": 0.25, "base": 0.5, "high": 0.25}
    warm = compare_scenarios(instances, weights, EXACT, robust_commit=1, warm=True)
    cold = compare_scenarios(instances, weights, EXACT, robust_commit=1, warm=False)
    assert {s: warm.plans[s].kpis["warm_start"] for s in names} == {"low": True, "base": False, "high": True}
    assert all(warm.plans[s].kpis["warm_start_columns"] > 0 for s in ("low", "high"))
    assert not any(cold.plans[s].kpis["warm_start"] for s in names)
    for s in names:
        assert warm.plans[s].objective == pytest.approx(cold.plans[s].objective, rel=EXACT.gap)
        assert warm.robust[s].kpis["warm_start"] and not cold.robust[s].kpis["warm_start"]
        assert warm.robust[s].objective == pytest.approx(cold.robust[s].objective, rel=1e-4, abs=1e-6)
    assert warm.robust_status == cold.robust_status == "optimal"
    assert warm.expected_profit == pytest.approx(cold.expected_profit, rel=EXACT.gap)


@pytest.mark.solver
def test_rolling_re_plan_starts_from_the_shifted_previous_plan(tmp_path: Path) -> None:
    """instances/tiny/rolling_basic with an order cost on M (so that orders are decisions a
    start carries): the re-plan from 2027-02, 2027-02 frozen, starts from the previous plan's
    later orders and gives the cold re-plan's profit."""
    src = ROOT / "instances" / "tiny" / "rolling_basic"
    folder = tmp_path / "rolling"
    shutil.copytree(src, folder)
    items = pd.read_csv(folder / "items.csv", dtype=str, keep_default_na=False)
    items["order_cost"] = ["", "5"]  # P product, M material
    items.to_csv(folder / "items.csv", index=False)
    inst = load_instance(folder)
    write_result(solve(inst, EXACT), tmp_path / "baseline")
    baseline = load_baseline(tmp_path / "baseline", inst)
    actuals = read_actuals(folder / "actuals", inst, 2)
    warm = roll(inst, baseline, actuals, 2, freeze=1, options=EXACT, warm=True)
    cold = roll(inst, baseline, actuals, 2, freeze=1, options=EXACT, warm=False)
    assert warm.has_plan and cold.has_plan
    assert warm.plan.kpis["warm_start"] and not cold.plan.kpis["warm_start"]
    # every order decision left free (period 1 of the re-plan is frozen) got the previous plan's value
    assert warm.plan.kpis["warm_start_columns"] == warm.plan.kpis["integers"] > 0
    assert warm.plan.objective == pytest.approx(cold.plan.objective, rel=EXACT.gap)
    assert warm.plan.kpis["objective_with_penalties"] == pytest.approx(cold.plan.kpis["objective_with_penalties"],
                                                                        rel=EXACT.gap)
