"""Plan-then-cut (the ERP way) beside the joint plan: solver/analysis/sequential.py."""

from __future__ import annotations

import pytest

from solver.analysis.checker import assert_plan_ok
from solver.analysis.sequential import CUTS, compare_sequential, on_time_service, plan_then_cut
from solver.devtools.generator import GeneratorParams, generate_to
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.io.loading import load_instance
from tests.helpers import write_instance

pytestmark = pytest.mark.solver

OPTIONS = SolveOptions(time_limit=30)

# One product made 1:1 from one material; must-serve demand of 10 in each of two periods at
# ¥100. A purchase order costs ¥50 + ¥10 per unit; holding costs ¥1 per unit and period.
#
# Operations (no budget) order once: 20 units in 2027-01 (revenue 2000 − purchases 200 −
# ordering 50 − holding 10 = ¥1,740) rather than twice (2000 − 200 − 100 = ¥1,700).
# With a procurement ceiling of ¥150 per period, that single order (¥250) does not fit, and
# cutting it cannot help: period 2 has no order of its own to ship from and must-serve demand
# cannot be cut. The joint plan orders 10 units in each period (¥150 each): profit ¥1,700.
TOML = """\
name = "sequential"
currency = "CNY"
periods = ["2027-01", "2027-02"]

[cash]
initial = 10000
"""
TABLES = {
    "items": """\
        item,kind,unit_cost,holding_cost,lead_time,order_cost
        widget,product,0,1,0,
        steel,material,10,1,0,50
        """,
    "demand": """\
        product,channel,period,quantity,price
        widget,shop,2027-01,10,100
        widget,shop,2027-02,10,100
        """,
    "channels": """\
        channel,service
        shop,must
        """,
    "bom": """\
        parent,child,quantity
        widget,steel,1
        """,
    "resources": """\
        resource,capacity
        line,inf
        """,
    "routings": """\
        item,routing,resource,hours_per_unit
        widget,main,line,1
        """,
}
TIGHT_BUDGET = """\
    line,period,ceiling
    procurement,2027-01,150
    procurement,2027-02,150
    """
LOOSE_BUDGET = """\
    line,period,ceiling
    procurement,2027-01,1000
    procurement,2027-02,1000
    """


def _instance(tmp_path, budgets: str):
    return load_instance(write_instance(tmp_path / "inst", TOML, budgets=budgets, **TABLES))


def test_breaks_on_the_budget_ceiling_that_cannot_take_the_operations_plan(tmp_path):
    inst = _instance(tmp_path, TIGHT_BUDGET)
    joint = solve(inst, OPTIONS)
    assert joint.has_plan and joint.objective == pytest.approx(1700.0, abs=1e-6)
    comp = compare_sequential(inst, joint, OPTIONS)
    assert comp.operations.objective == pytest.approx(1740.0, abs=1e-6)
    for cut in CUTS:
        seq = comp.sequential[cut]
        assert not seq.feasible
        assert seq.breaking_limit == "the procurement budget in 2027-01"
        top = seq.breaks.iloc[0]
        assert (top["constraint"], top["entity"], top["period"]) == ("budget.period_ceiling", "procurement", "2027-01")
        assert top["slack"] == pytest.approx(100.0, abs=1e-6)  # ¥250 order against ¥150
    assert "breaks on the procurement budget in 2027-01" in comp.headline
    table = comp.table().set_index("metric")
    assert table.at["status", "joint plan"] == "optimal"
    assert table.at["status", "plan-then-cut (per-period cut)"] == "infeasible"


def test_same_profit_when_the_budget_does_not_bind(tmp_path):
    inst = _instance(tmp_path, LOOSE_BUDGET)
    joint = solve(inst, OPTIONS)
    assert joint.objective == pytest.approx(1740.0, abs=1e-6)
    for cut in CUTS:
        seq = plan_then_cut(inst, OPTIONS, cut)
        assert seq.feasible
        assert seq.profit == pytest.approx(joint.objective, abs=1e-6)
        assert_plan_ok(seq.result)
    comp = compare_sequential(inst, joint, OPTIONS)
    assert comp.headline.startswith("joint planning: +¥0 profit (+0.0 %) over plan-then-cut")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_joint_is_never_worse_and_sequential_plans_check_out(tmp_path, seed):
    params = GeneratorParams(products=2, periods=4, resources=2, materials=3, seed=seed, tightness=1.0)
    inst = load_instance(generate_to(params, tmp_path / "gen"))
    joint = solve(inst, OPTIONS)
    assert joint.has_plan
    comp = compare_sequential(inst, joint, OPTIONS)
    for seq in comp.sequential.values():
        if seq.feasible:
            assert_plan_ok(seq.result)
            assert joint.objective >= seq.profit - 1e-6 * max(1.0, abs(seq.profit))
        else:
            assert seq.breaking_limit
    period, order = comp.sequential["period"], comp.sequential["order"]
    if period.feasible:  # a per-period cut is one particular per-order cut
        assert order.feasible and order.profit >= period.profit - 1e-6 * max(1.0, abs(period.profit))
    table = comp.table()
    assert list(table.columns[:3]) == ["section", "metric", "joint plan"]
    assert comp.headline.startswith("joint planning:")


def test_on_time_service_counts_backlog_shipments_as_late():
    import pandas as pd

    sales = pd.DataFrame({
        "product": ["p"] * 3, "channel": ["k"] * 3, "t": [1, 2, 3],
        "demand": [10.0, 10.0, 0.0], "shipped": [5.0, 10.0, 5.0], "backlog": [5.0, 5.0, 0.0],
    })
    # period 1: 5 of 10 on time; period 2: 5 clear the backlog, 5 of 10 on time; period 3: late
    assert on_time_service(sales) == pytest.approx(10 / 20)


def test_cli_prints_the_headline_and_writes_comparison_csv(tmp_path, capsys):
    import pandas as pd

    from solver.cli.main import main

    path = write_instance(tmp_path / "inst", TOML, budgets=TIGHT_BUDGET, **TABLES)
    assert main(["solve", str(path), "--compare-sequential", "--out", str(tmp_path / "out")]) == 0
    assert "breaks on the procurement budget in 2027-01" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert float(table.loc[table["metric"] == "profit", "joint plan"].item()) == pytest.approx(1700.0)
