"""The state a rolling re-plan inherits (solver/analysis/rolling.py): with actuals equal to the plan the
re-plan keeps the plan, and every budget balance the closed periods leave carries over.

Two kinds of checks:

* the shipped appliance, rolled from 2027-03 with actuals written from its own plan
  (`plan_as_actuals`): nothing deviated, so the re-plan is the plan (same profit of the
  remaining months, empty diff, zero variance, checker-clean);
* one tiny instance per carried balance (carry-over unspent, horizon ceiling used, pool used,
  emergency drawn), with the re-plan's optimum derived by hand in the docstring and checked by
  re-solving the *whole* instance with the closed period fixed as it happened
  (`history_fixed_profit`: decisions, allocation and emergency draw of period 1 fixed). Each
  also re-solves the re-plan with that one balance carried wrongly and gets another optimum,
  so the test would catch the mistake.

Tiny instances: periods "1", "2", one product P (unit_cost 10, holding 1), made on R
(capacity inf, 1 h/unit), sold to `shop` (lost sales, cash terms), cash ample (10000): only
the budget binds. The re-plan covers period 2 (`--from 2`), nothing frozen.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from helpers import approx as approx_within
from helpers import write_instance

from formulations.assembly import build_model
from solver.analysis.checker import check_plan
from solver.analysis.rolling import (
    actual_spend,
    plan_as_actuals,
    read_actuals,
    roll,
    variance_tables,
    write_actuals,
)
from solver.cli.main import main
from solver.engine.highs import compile_model
from solver.engine.pipeline import solve
from solver.engine.status import Status
from solver.io.baseline import load_baseline
from solver.io.instance import OpeningBalances, freeze_tables
from solver.io.loading import load_instance
from solver.io.writers import write_result

APPLIANCE = Path(__file__).resolve().parents[1] / "instances" / "appliance"
DIFFS = ("diff_production", "diff_purchases", "diff_sales", "diff_budget")
approx = partial(approx_within, rel=1e-7)  # re-planned figures are sums of the plan's: a tighter tolerance

TINY_TOML = """\
name = "{name}"
periods = 2
[cash]
initial = 10000
{extra}
"""
TINY = {
    "items": "item,kind,unit_cost,holding_cost\nP,product,10,1\n",
    "channels": "channel,service\nshop,lost\n",
    "resources": "resource,capacity\nR,inf\n",
    "routings": "item,routing,resource,hours_per_unit\nP,main,R,1\n",
}


def tiny(tmp_path: Path, name: str, extra: str = "", **tables: str) -> Path:
    return write_instance(tmp_path / name, TINY_TOML.format(name=name, extra=extra), **{**TINY, **tables})


def baseline_of(tmp_path: Path, inst):
    """Solve `inst`, write the plan as `solve --out` does and read it back as a baseline."""
    plan = solve(inst)
    assert plan.status == Status.OPTIMAL, plan.message
    write_result(plan, tmp_path / "baseline")
    return plan, load_baseline(tmp_path / "baseline", inst)


def actuals_as_planned(tmp_path: Path, inst, baseline, from_t: int):
    """The closed periods exactly as planned, through the files `roll --actuals` reads."""
    write_actuals(plan_as_actuals(inst, baseline, from_t), tmp_path / "actuals")
    return read_actuals(tmp_path / "actuals", inst, from_t)


def actuals_files(tmp_path: Path, inst, from_t: int, **files: str):
    folder = write_instance(tmp_path / "actuals", None, **files)
    return read_actuals(folder, inst, from_t)


def history_fixed_profit(inst, from_t: int, made: dict, shipped: dict, allocated: dict, drawn: dict | None = None) -> float:
    """Profit of periods from_t..n of the whole instance re-solved with the periods before
    from_t fixed as they happened: production x[(item, routing, t)], shipments v[(p, k, t)],
    allocation a[(line, t)] and emergency draw e[(line, t)] (absent: 0). The reference a
    re-plan must reproduce: the same model, the past no longer a decision."""
    built = build_model(inst, materialize=False)
    m = built.model
    for comp, values in ((m.production.x, made), (m.sales.ship, shipped), (m.budget.alloc, allocated),
                         (m.budget.emergency, drawn or {}), (m.procurement.q, {})):
        for key, var in comp.items():
            if key[-1] < from_t:
                var.fix(values.get(key, 0.0))
    result = solve(inst, model=(built, compile_model(m)))
    assert result.status == Status.OPTIMAL, result.message
    pnl = result.tables["pnl"]
    return float(pnl.loc[pnl["t"] >= from_t, "profit"].sum())


def resolve_profit(inst) -> float:
    """Optimum of a (re-plan) instance as given."""
    r = solve(inst)
    return r.objective if r.status.has_plan else float("nan")


# ------------------------------------------------------------------ appliance, actuals = plan


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    """The appliance plan (`solve --out`), its baseline and its Jan–Feb actuals as planned."""
    tmp = tmp_path_factory.mktemp("appliance")
    inst = load_instance(APPLIANCE)
    _, baseline = baseline_of(tmp, inst)
    return inst, baseline, actuals_as_planned(tmp, inst, baseline, 3), tmp


@pytest.mark.solver
def test_appliance_rolled_from_actuals_as_planned_keeps_the_plan(appliance) -> None:
    """Nothing deviated in 2027-01..02, so the remaining months of the plan are a plan of the
    re-plan: it is feasible (it was infeasible while January's unspent procurement allocation,
    carried over in the plan to finance March, was dropped), earns at least the plan's profit of
    those months, changes no production, purchase, shipment or allocation, and passes the
    independent checker (opening receivables, payables and carried budget included)."""
    inst, baseline, actuals, _ = appliance
    res = roll(inst, baseline, actuals, 3, freeze=0)
    assert res.plan.status == Status.OPTIMAL, res.plan.message
    pnl = baseline.tables["pnl"]
    remaining = float(pnl.loc[pnl["t"] >= 3, "profit"].sum())
    assert res.baseline_profit == approx(remaining)
    assert res.plan.objective >= remaining - 1e-6 * abs(remaining)
    for name in DIFFS:
        assert res.tables[name].empty, (name, res.tables[name].head())
    assert res.instance.opening.budget_carried["procurement"] > 0
    assert check_plan(res.instance, res.plan.tables, objective=res.plan.objective) == []


@pytest.mark.solver
def test_appliance_variance_is_zero_when_actuals_are_as_planned(appliance) -> None:
    """Plan versus actual of the closed months is 0 on every line, period and table when the
    actuals are the plan's: the derived actual spend commits what the model commits (setup
    costs included; they were left out, −¥11,000 on production in 2027-01)."""
    inst, baseline, actuals, _ = appliance
    tables = variance_tables(inst, baseline, actuals, 3)
    budget = tables["variance_budget"]
    assert set(budget["period"]) == {"2027-01", "2027-02", "total"}
    assert (budget["variance"].abs() <= 1e-6 * budget["planned"].abs().clip(lower=1.0)).all(), budget
    spent = baseline.tables["budget"].query("t <= 2").set_index(["line", "period"])["spent"]
    closed = budget[budget["period"] != "total"].set_index(["line", "period"])["planned"]
    pd.testing.assert_series_equal(closed.sort_index(), spent.sort_index(), check_names=False)
    for name in ("variance_sales", "variance_production", "variance_stock"):
        df = tables[name]
        assert len(df) and (df["variance"].abs() <= 1e-6).all(), (name, df[df["variance"].abs() > 1e-6])


@pytest.mark.solver
def test_cli_seeds_actuals_and_rolls_the_demo(appliance, tmp_path: Path) -> None:
    """`prodbudget actuals` writes the plan's actuals; `prodbudget roll` from them (default
    freeze 1) exits 0 and writes empty diff tables and a zero variance."""
    _, _, _, folder = appliance
    seeded = tmp_path / "A"
    assert main(["actuals", str(APPLIANCE), "--baseline", str(folder / "baseline"), "--from", "2027-03",
                 "--out", str(seeded)]) == 0
    assert {p.name for p in seeded.iterdir()} >= {"stock.csv", "cash.csv", "sales.csv", "production.csv", "purchases.csv"}
    out = tmp_path / "rolled"
    assert main(["roll", str(APPLIANCE), "--baseline", str(folder / "baseline"), "--actuals", str(seeded),
                 "--from", "2027-03", "--out", str(out)]) == 0
    for name in DIFFS:
        assert pd.read_csv(out / f"{name}.csv").empty, name
    assert (pd.read_csv(out / "variance_budget.csv")["variance"].abs() < 1e-6).all()
    assert (out / "budget_state.csv").is_file()


# ------------------------------------------------------------------ one test per carried balance


@pytest.mark.solver
def test_unspent_carryover_allocation_is_carried(tmp_path: Path) -> None:
    """Carry-over line `production`, per-period ceilings 100 (period 1) and 20 (period 2);
    demand 10 at 30 in period 2 only.

    Plan: make the 10 units in period 2 (no holding): spend 100 in 2 ≤ a1 + a2 with a2 ≤ 20;
    the least allocation, made as late as the ceilings allow, is a = (80, 20). Profit
    10·(30 − 10) = 200, all of it in period 2.
    Re-plan of period 2 from actuals as planned: carried 80 (allocated, unspent) + a2 ≤ 20
    → spend 100 → 10 units, profit 200 — the whole instance with period 1 fixed as it happened
    gives 200 too. Carried balance dropped: spend ≤ 20 → 2 units, profit 2·20 = 40.
    """
    inst = load_instance(tiny(tmp_path, "carry", demand="product,channel,period,quantity,price\nP,shop,2,10,30\n",
                              budget_lines="line,ceiling,carryover\nproduction,,true\n",
                              budgets="line,period,ceiling\nproduction,1,100\nproduction,2,20\n"))
    plan, baseline = baseline_of(tmp_path, inst)
    assert plan.objective == approx(200)
    res = roll(inst, baseline, actuals_as_planned(tmp_path, inst, baseline, 2), 2, freeze=0)
    assert dict(res.instance.opening.budget_carried) == approx({"production": 80})
    assert res.plan.objective == approx(200)
    assert history_fixed_profit(inst, 2, made={}, shipped={}, allocated={("production", 1): 80}) == approx(200)
    assert check_plan(res.instance, res.plan.tables, objective=res.plan.objective) == []
    dropped = dataclasses.replace(res.instance, opening=OpeningBalances())
    assert resolve_profit(dropped) == approx(40)


@pytest.mark.solver
def test_horizon_ceiling_counts_the_allocation_made(tmp_path: Path) -> None:
    """Line `production` (no carry-over), horizon ceiling 100; demand 4 at 40 in period 1 and
    14 at 30 in period 2.

    Plan: the ceiling buys 10 units; 4 in period 1 (margin 30), 6 in period 2 (margin 20):
    a = (40, 60), profit 240. What happened: nothing was made or sold in period 1 (spend 0,
    stock 0, cash 10000). Period 1's allocation of 40 was made and lapsed unspent, so 60 of the
    ceiling is left: 6 units in period 2, profit 6·20 = 120 — the whole instance with period 1
    fixed (x1 = v1 = 0, a1 = 40) gives 120 too. Counting the actual spend against the ceiling
    instead (100 left) would plan 10 units, 200, against a ceiling already allocated.
    """
    inst = load_instance(tiny(tmp_path, "horizon",
                              demand="product,channel,period,quantity,price\nP,shop,1,4,40\nP,shop,2,14,30\n",
                              budget_lines="line,ceiling,carryover\nproduction,100,false\n"))
    plan, baseline = baseline_of(tmp_path, inst)
    assert plan.objective == approx(240)
    actuals = actuals_files(tmp_path, inst, 2, stock="item,quantity\nP,0\n", cash="cash,loan\n10000,0\n")
    res = roll(inst, baseline, actuals, 2, freeze=0)
    assert res.instance.tables["budget_lines"].set_index("line").at["production", "ceiling"] == approx(60)
    assert res.plan.objective == approx(120)
    assert history_fixed_profit(inst, 2, made={}, shipped={}, allocated={("production", 1): 40}) == approx(120)
    assert check_plan(res.instance, res.plan.tables, objective=res.plan.objective) == []
    lines = res.instance.tables["budget_lines"].assign(ceiling=100.0)
    by_spend = dataclasses.replace(res.instance, tables=freeze_tables({**res.instance.tables, "budget_lines": lines}))
    assert resolve_profit(by_spend) == approx(200)


@pytest.mark.solver
def test_pool_counts_the_allocation_made(tmp_path: Path) -> None:
    """Budget pool 100 over two lines: P (unit_cost 5, line production) needs one M (material,
    unit_cost 5, line procurement, lead time 0; holding 1 as P's, so nothing is bought ahead),
    so a unit takes 10 of the pool; demand 4 at 40 in period 1 and 14 at 30 in period 2.

    Plan: 10 units; 4 in period 1 (margin 30), 6 in period 2 (margin 20); period 1 allocates
    20 + 20 = 40 of the pool; profit 240. What happened: nothing bought, made or sold in
    period 1. The 40 allocated lapsed unspent: 60 of the pool is left, 6 units in period 2,
    profit 120 — as the whole instance with period 1 fixed (a1 = 20 on each line). Counting
    the actual spend (0) against the pool would leave 100: 10 units, 200.
    """
    inst = load_instance(tiny(tmp_path, "pool", extra="[budget]\npool = 100\n",
                              items="item,kind,unit_cost,holding_cost\nP,product,5,1\nM,material,5,1\n",
                              bom="parent,child,quantity\nP,M,1\n",
                              demand="product,channel,period,quantity,price\nP,shop,1,4,40\nP,shop,2,14,30\n"))
    plan, baseline = baseline_of(tmp_path, inst)
    assert plan.objective == approx(240)
    actuals = actuals_files(tmp_path, inst, 2, stock="item,quantity\nP,0\nM,0\n", cash="cash,loan\n10000,0\n")
    res = roll(inst, baseline, actuals, 2, freeze=0)
    assert res.instance.budget.pool == approx(60)
    assert res.plan.objective == approx(120)
    fixed = {("production", 1): 20, ("procurement", 1): 20}
    assert history_fixed_profit(inst, 2, made={}, shipped={}, allocated=fixed) == approx(120)
    assert check_plan(res.instance, res.plan.tables, objective=res.plan.objective) == []
    by_spend = dataclasses.replace(res.instance, budget=dataclasses.replace(res.instance.budget, pool=100.0))
    assert resolve_profit(by_spend) == approx(200)


@pytest.mark.solver
def test_emergency_drawn_is_gone(tmp_path: Path) -> None:
    """Line `production` (no carry-over), per-period ceilings 50 and 50; emergency pool 50 at
    premium 0.1; demand 10 at 40 in period 1 and 10 at 30 in period 2.

    Plan: a ¥ of emergency earns 30/10 − 0.1 = 2.9 in period 1 and 20/10 − 0.1 = 1.9 in
    period 2, so all 50 go to period 1: 10 units there (a1 = 50, e1 = 50), 5 in period 2;
    profit 10·30 − 5 + 5·20 = 395, of which 100 in period 2.
    Re-plan from actuals as planned: the pool is drawn: 5 units, profit 100 — as the whole
    instance with period 1 fixed (x1 = v1 = 10, a1 = e1 = 50). Pool not reduced: e2 = 50 buys
    5 more units, profit 10·20 − 5 = 195.
    """
    inst = load_instance(tiny(tmp_path, "emergency", extra="[budget]\nemergency_pool = 50\nemergency_premium = 0.1\n",
                              demand="product,channel,period,quantity,price\nP,shop,1,10,40\nP,shop,2,10,30\n",
                              budgets="line,period,ceiling\nproduction,1,50\nproduction,2,50\n"))
    plan, baseline = baseline_of(tmp_path, inst)
    assert plan.objective == approx(395)
    res = roll(inst, baseline, actuals_as_planned(tmp_path, inst, baseline, 2), 2, freeze=0)
    assert res.instance.budget.emergency_pool == approx(0)
    assert res.plan.objective == approx(100)
    assert history_fixed_profit(inst, 2, made={("P", "main", 1): 10}, shipped={("P", "shop", 1): 10},
                                allocated={("production", 1): 50}, drawn={("production", 1): 50}) == approx(100)
    assert check_plan(res.instance, res.plan.tables, objective=res.plan.objective) == []
    kept = dataclasses.replace(res.instance, budget=dataclasses.replace(res.instance.budget, emergency_pool=50.0))
    assert resolve_profit(kept) == approx(195)


# ------------------------------------------------------------------ spend derivation, infeasible re-plan


def test_derived_spend_commits_setups_and_overtime(tmp_path: Path) -> None:
    """Actual spend derived as the model commits it (docs/model.md §4.9): 6 units of P (unit_cost
    10) on R (capacity 10, reserve 0.5 → 5 regular hours, overtime cost 7, fixed cost 3),
    1 h/unit, setup 1 h and cost 4: hours 6 + 1 = 7, overtime 2, spend 60 + 4 + 2·7 + 3 = 81;
    period 2 (nothing made): the fixed cost 3."""
    inst = load_instance(tiny(tmp_path, "spend", demand="product,channel,period,quantity,price\nP,shop,2,10,30\n",
                              resources="resource,capacity,reserve,overtime_max,overtime_cost,fixed_cost\nR,10,0.5,5,7,3\n",
                              routings="item,routing,resource,hours_per_unit,setup_hours,setup_cost\nP,main,R,1,1,4\n"))
    inst = dataclasses.replace(inst, periods=(*inst.periods, "3"))  # two closed periods before "3"
    actuals = actuals_files(tmp_path, inst, 3, stock="item,quantity\nP,6\n", cash="cash,loan\n10000,0\n",
                            production="item,period,quantity\nP,1,6\n")
    spend = actual_spend(inst, actuals, 3).set_index("period")["amount"]
    assert spend.to_dict() == approx({"1": 81, "2": 3})


@pytest.mark.solver
def test_infeasible_replan_is_diagnosed(tmp_path: Path) -> None:
    """The carry-over instance with must-serve demand: the plan carries 80 of period 1's
    allocation into period 2. The ledger says period 1 spent 90 on the line (spend.csv): 10
    more than allocated, so nothing is carried and period 2's ceiling of 20 cannot pay for the
    100 the 10 units need. No re-plan; the diagnosis `solve` prints says what to relax: the
    budget of period 2 by 80 (to 100)."""
    path = tiny(tmp_path, "carry_must", channels="channel,service\nshop,must\n",
                demand="product,channel,period,quantity,price\nP,shop,2,10,30\n",
                budget_lines="line,ceiling,carryover\nproduction,,true\n",
                budgets="line,period,ceiling\nproduction,1,100\nproduction,2,20\n")
    inst = load_instance(path)
    _, baseline = baseline_of(tmp_path, inst)
    folder = write_instance(tmp_path / "actuals", None, stock="item,quantity\nP,0\n", cash="cash,loan\n10000,0\n",
                            spend="line,period,amount\nproduction,1,90\n")
    res = roll(inst, baseline, read_actuals(folder, inst, 2), 2, freeze=0)
    assert res.plan.status == Status.INFEASIBLE
    assert res.tables["budget_state"].set_index("line").loc["production", ["used", "carried"]].tolist() == approx([90, 0])
    assert res.diagnosis is not None and res.diagnosis.feasible is False
    [fix] = res.diagnosis.relaxations
    assert fix.family == "budget per period" and fix.period == "2" and fix.amount == approx(80)
    assert res.plan.kpis["diagnosis"]["relaxations"]
    code = main(["roll", str(path), "--baseline", str(tmp_path / "baseline"), "--actuals", str(folder), "--from", "2",
                 "--freeze", "0"])
    assert code == 1
