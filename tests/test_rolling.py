"""Rolling re-plan from actuals (instances/tiny/rolling_basic, its actuals/ folder).

Period 1 happened differently from the plan (25 sold of 30, 28 made of 30, 30 M bought of 20,
stock P 3 and M 12, cash 1900, 250 still to collect in period 2 and 30 to pay in period 3);
the re-plan covers 2027-02..04 with 2027-02 frozen.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from solver.analysis.rolling import read_actuals, replan_instance, roll
from solver.cli.main import main
from solver.engine.pipeline import solve
from solver.io.baseline import load_baseline
from solver.io.loading import load_instance
from solver.io.problems import InputError
from solver.io.writers import write_result

INSTANCE = Path(__file__).resolve().parents[1] / "instances" / "tiny" / "rolling_basic"
ACTUALS = INSTANCE / "actuals"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    inst = load_instance(INSTANCE)
    out = tmp_path_factory.mktemp("roll") / "baseline"
    write_result(solve(inst), out)
    return inst, load_baseline(out, inst), out


def test_replan_instance_starts_from_the_actuals() -> None:
    inst = load_instance(INSTANCE)
    act = read_actuals(ACTUALS, inst, 2)
    new = replan_instance(inst, act, 2)
    assert new.periods == ("2027-02", "2027-03", "2027-04")
    assert new.cash.initial == 1900 and new.cash.initial_loan == 0
    stock = dict(zip(new.items["item"], new.items["initial_stock"], strict=True))
    assert stock == {"P": 3, "M": 12}
    assert new.open_orders[["item", "t", "quantity"]].values.tolist() == [["M", 1, 30.0]]  # bought in 1, arrives in 2
    assert new.demand["t"].tolist() == [1, 2, 3] and new.demand["period"].tolist() == list(new.periods)


@pytest.mark.solver
def test_roll_keeps_frozen_periods_and_respects_actuals(setup) -> None:
    inst, baseline, _ = setup
    res = roll(inst, baseline, read_actuals(ACTUALS, inst, 2), 2, freeze=1)
    assert res.has_plan
    t = res.plan.tables
    # frozen period (2027-02): production and purchases exactly the previous plan's
    for table, keys in (("production", ["item", "routing"]), ("purchases", ["item"])):
        prev = baseline.tables[table]
        prev = prev[prev["period"] == "2027-02"].set_index(keys)["quantity"]
        new = t[table][t[table]["period"] == "2027-02"].set_index(keys)["quantity"]
        pd.testing.assert_series_equal(new.sort_index(), prev.sort_index(), check_names=False)
    assert not res.tables["diff_production"]["frozen"].any()
    # starting stock and cash are the actuals; receivables and payables are fixed cash
    inv = t["inventory"][t["inventory"]["t"] == 1].set_index("item")
    assert inv.loc["P", "opening"] == 3 and inv.loc["M", "opening"] == 12 and inv.loc["M", "open_orders"] == 30
    cash = t["cash"].set_index("period")
    assert cash.loc["2027-02", "opening"] == 1900
    assert cash.loc["2027-02", "receipts"] == pytest.approx(250)  # the receivable; new sales collect a period later
    assert cash.loc["2027-03", "pay_materials"] == pytest.approx(30 + 0)  # the payable (nothing else arrives in 2)
    # the diff agrees with the plans it compares
    d = res.tables["diff_production"]
    assert ((d["replan"] - d["previous"] - d["change"]).abs() < 1e-9).all()
    for r in d.itertuples():
        assert t["production"].query("item == @r.item and period == @r.period")["quantity"].sum() == pytest.approx(r.replan)


@pytest.mark.solver
def test_variance_by_budget_line_is_consistent(setup) -> None:
    inst, baseline, _ = setup
    res = roll(inst, baseline, read_actuals(ACTUALS, inst, 2), 2)
    v = res.tables["variance_budget"]
    assert ((v["actual"] - v["planned"] - v["variance"]).abs() < 1e-9).all()
    rows = v.set_index(["line", "period"])
    # derived actual spend: production 2·28 + fixed 20 = 76; procurement 1·30 = 30
    assert rows.loc[("production", "2027-01"), "actual"] == pytest.approx(76)
    assert rows.loc[("procurement", "2027-01"), "actual"] == pytest.approx(30)
    assert rows.loc[("production", "2027-01"), "planned"] == pytest.approx(80)
    assert rows.loc[("production", "2027-01"), "variance_pct"] == pytest.approx(-0.05)
    periods = v[v["period"] != "total"].groupby("line")[["planned", "actual"]].sum()
    totals = v[v["period"] == "total"].set_index("line")[["planned", "actual"]]
    pd.testing.assert_frame_equal(periods.sort_index(), totals.sort_index())
    s = res.tables["variance_sales"].iloc[0]
    assert (s["planned"], s["actual"], s["variance"]) == (30, 25, -5)


def test_bad_actuals_name_file_row_and_column(tmp_path: Path) -> None:
    inst = load_instance(INSTANCE)
    bad = tmp_path / "actuals"
    shutil.copytree(ACTUALS, bad)
    (bad / "sales.csv").write_text("product,channel,period,quantity\nP,shop,2027-03,5\nX,shop,2027-01,-1\n")
    (bad / "cash.csv").unlink()
    with pytest.raises(InputError) as err:
        read_actuals(bad, inst, 2)
    where = {(p.file, p.row, p.column) for p in err.value.problems}
    assert ("actuals/cash.csv", None, None) in where
    assert ("actuals/sales.csv", 2, "period") in where  # not a closed period
    assert ("actuals/sales.csv", 3, "product") in where and ("actuals/sales.csv", 3, "quantity") in where


@pytest.mark.solver
def test_roll_cli(setup, tmp_path: Path) -> None:
    _, _, baseline_dir = setup
    out = tmp_path / "rolled"
    code = main(["roll", str(INSTANCE), "--baseline", str(baseline_dir), "--actuals", str(ACTUALS),
                 "--from", "2027-02", "--freeze", "2", "--out", str(out)])
    assert code == 0
    for name in ("production", "cash", "diff_production", "diff_purchases", "variance_budget", "variance_sales"):
        assert (out / f"{name}.csv").is_file(), name
    diff = pd.read_csv(out / "diff_production.csv")
    assert not diff["frozen"].any()  # frozen periods never change


@pytest.mark.solver
def test_baseline_reads_every_decision_where_its_declaration_says_it_is_written(setup) -> None:
    """Each variable family declared with a result table and column (formulations/families.py
    VarFamily) is read back from the `solve --out` folder under its own name and index, with the
    value the solve gave it; a declaration naming a column the tables lack would leave the
    decision out of the baseline."""
    from formulations.registry import VARIABLES
    from solver.engine.results import var_values
    from solver.io.baseline import REQUIRED

    inst, baseline, _ = setup
    res = solve(inst)
    declared = [v for v in VARIABLES.values() if v.table]
    assert {v.name for v in declared} == set(baseline.values)
    assert {v.table for v in declared} == set(REQUIRED)
    assert {"production.x", "procurement.z", "sales.lost", "cash.loan"} <= set(baseline.values)
    for var in declared:
        comp = res.built.model.find_component(var.name)
        solved = dict(zip(comp.keys(), var_values(comp, res.standard_form, res.outcome.values), strict=True))
        for key, value in solved.items():
            index = key if isinstance(key, tuple) else (key,)
            assert baseline.value(var.name, index) == pytest.approx(value, rel=1e-6, abs=1e-6), (var.name, key)
