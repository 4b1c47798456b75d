"""Infeasibility diagnosis (solver/analysis/diagnosis.py): each contradictory tiny instance gets the right
limit and amount, and *applying* the suggestion to the data makes it feasible (while a little
less is not enough, so the amount is the cheapest). Instances: instances/tiny/infeasible_*/,
each explained in its instance.toml.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from formulations.registry import limits
from solver.analysis.diagnosis import DiagnosisError, diagnose, family_of, round_up
from solver.cli.main import main
from solver.engine.pipeline import solve
from solver.io.loading import load_instance
from solver.money import money

pytestmark = pytest.mark.solver

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(TINY / name, dst)
    return dst


def feasible(path: Path) -> bool:
    return solve(load_instance(path)).has_plan


def set_toml(path: Path, key: str, value: float) -> None:
    toml = path / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    text, n = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text)
    assert n == 1, key
    toml.write_text(text, encoding="utf-8")


def set_csv(path: Path, table: str, where: dict, column: str, value) -> None:
    f = path / f"{table}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, (table, where)
    df.loc[mask, column] = str(value)
    df.to_csv(f, index=False)


def only(diag, family: str):
    assert not diag.feasible
    assert [r.family for r in diag.relaxations] == [family], diag.lines()
    return diag.relaxations[0]


def test_budget_ceiling_below_fixed_costs(tmp_path):
    """R's fixed cost 1,000 is committed every period; 2027-02's ceiling is 600 -> +¥400."""
    path = copy("infeasible_budget", tmp_path)
    diag = diagnose(load_instance(path))
    r = only(diag, "budget per period")
    assert (r.entity, r.period, r.amount) == ("production", "2027-02", 400)
    assert r.text.startswith("raise the production budget in 2027-02 by ¥400")
    assert diag.lp_infeasible
    assert [m.family for m in diag.iis] == ["budget per period"]  # the commitment row is a definition
    assert diag.iis_left_out >= 1

    set_csv(path, "budgets", {"line": "production", "period": "2027-02"}, "ceiling", 600 + r.amount - 1)
    assert not feasible(path)
    set_csv(path, "budgets", {"line": "production", "period": "2027-02"}, "ceiling", r.proposed)
    assert feasible(path)


def test_must_serve_beyond_capacity_overtime_then_capacity_then_demand(tmp_path):
    """150 units must ship; 100 hours + 20 overtime make 120: 30 short, three ways to fix it."""
    path = copy("infeasible_overtime", tmp_path)
    inst = load_instance(path)

    r = only(diagnose(inst), "overtime limit")
    assert (r.entity, r.period, r.amount, r.proposed) == ("A2", "2027-07", 30, 50)
    assert "allow 30 hours of overtime beyond the limit on A2 in 2027-07" in r.text
    set_csv(path, "resources", {"resource": "A2"}, "overtime_max", r.proposed)
    assert feasible(path)

    r = only(diagnose(inst, never=["overtime"]), "capacity")
    assert (r.entity, r.period, r.amount, r.proposed) == ("A2", "2027-07", 30, 130)
    path2 = copy("infeasible_overtime", tmp_path / "b")
    set_csv(path2, "resources", {"resource": "A2"}, "capacity", r.proposed)
    assert feasible(path2)

    r = only(diagnose(inst, never=["overtime", "capacity"]), "demand")
    assert (r.entity, r.period, r.amount, r.proposed) == ("P04 / key", "2027-07", 30, 120)
    assert r.text.startswith("serve 30 units less of P04 to key in 2027-07")
    path3 = copy("infeasible_overtime", tmp_path / "c")
    set_csv(path3, "demand", {"product": "P04"}, "quantity", r.proposed)
    assert feasible(path3)


def test_weights_choose_between_families():
    """Overtime priced at 5 per money-hour costs more than capacity at 1: capacity is chosen."""
    inst = load_instance(TINY / "infeasible_overtime")
    assert only(diagnose(inst, weights={"overtime": 5}), "capacity").amount == 30
    assert only(diagnose(inst, weights={"overtime": 5, "capacity": 10}), "demand").amount == 30


def test_nothing_relaxable_left_still_names_the_conflict():
    inst = load_instance(TINY / "infeasible_overtime")
    diag = diagnose(inst, never=["overtime", "capacity", "demand"])
    assert not diag.feasible and not diag.relaxable and not diag.relaxations
    assert {"capacity", "overtime limit", "demand"} <= {m.family for m in diag.iis}
    assert "does not help" in diag.lines()[0]


def test_min_cash_the_collection_lag_cannot_meet(tmp_path):
    """500 paid in 2027-01, collected in 2027-03: the 1,000 minimum fails by 500 twice."""
    path = copy("infeasible_min_cash", tmp_path)
    diag = diagnose(load_instance(path))
    assert {r.family for r in diag.relaxations} == {"minimum cash"}, diag.lines()
    assert sorted((r.period, r.amount) for r in diag.relaxations) == [("2027-01", 500), ("2027-02", 500)]
    (path / "cash_min.csv").write_text(
        "period,amount\n" + "".join(f"{r.period},{r.proposed:g}\n" for r in diag.relaxations), encoding="utf-8")
    assert feasible(path)


def test_safety_stock_impossible_in_period_one(tmp_path):
    path = copy("infeasible_safety", tmp_path)
    diag = diagnose(load_instance(path))
    r = only(diag, "stock target min")
    assert (r.entity, r.period, r.amount) == ("M12", "2027-01", 40)
    assert r.text.startswith("lower the safety stock of M12 in 2027-01 by 40")
    (path / "stock_targets.csv").write_text(f"item,period,min,max\nM12,2027-01,{r.proposed:g},\n", encoding="utf-8")
    assert feasible(path)


def test_credit_line_too_small(tmp_path):
    """A loan of 500 is needed in 2027-01, the line is 200: short by ¥300."""
    path = copy("infeasible_credit", tmp_path)
    r = only(diagnose(load_instance(path)), "credit limit")
    assert r.amount == 300 and r.proposed == 500
    assert r.text.startswith("credit line short by ¥300")
    set_toml(path, "credit_limit", r.proposed - 1)
    assert not feasible(path)
    set_toml(path, "credit_limit", r.proposed)
    assert feasible(path)


def test_must_serve_beyond_capacity_without_overtime(tmp_path):
    path = copy("infeasible_must", tmp_path)
    r = only(diagnose(load_instance(path)), "capacity")
    assert (r.entity, r.amount, r.proposed) == ("R", 5, 10)
    set_csv(path, "resources", {"resource": "R"}, "capacity", r.proposed)
    assert feasible(path)


def test_integer_conflict_moq_and_max_stock(tmp_path):
    """Infeasible only with whole orders: no IIS (the LP is feasible), the elastic MIP still answers."""
    path = copy("infeasible_moq_max_stock", tmp_path)
    diag = diagnose(load_instance(path))
    r = only(diag, "stock target max")
    assert (r.entity, r.period, r.amount, r.proposed) == ("M7", "2027-01", 40, 90)
    assert not diag.lp_infeasible and not diag.iis
    (path / "stock_targets.csv").write_text(f"item,period,min,max\nM7,2027-01,,{r.proposed:g}\n", encoding="utf-8")
    assert feasible(path)


def test_feasible_instance_needs_nothing():
    diag = diagnose(load_instance(TINY / "demand_must"))
    assert diag.feasible and not diag.relaxations


LP_INFEASIBLE = ["infeasible_budget", "infeasible_credit", "infeasible_min_cash", "infeasible_must",
                 "infeasible_overtime", "infeasible_safety"]


@pytest.mark.parametrize("name", LP_INFEASIBLE)
def test_conflicting_limits_are_business_limits_only(name):
    """The IIS lists limits a planner can change (capacity, overtime limit, budgets, minimum cash,
    credit line, stock targets, must-serve demand), never a balance, a definition or a variable's
    natural bound ("production of P ≥ 0", "stock balance of P"); those are only counted."""
    inst = load_instance(TINY / name)
    diag = diagnose(inst)
    assert diag.lp_infeasible and diag.iis, diag.lines()
    for m in diag.iis:
        assert m.kind == "row" and m.family in {f.label for f in limits()}, m.text
        assert not m.text.endswith("≥ 0"), m.text
        if m.family == "demand":
            channel = m.entity.split(" / ")[1]
            assert inst.tables["channels"].set_index("channel").loc[channel, "service"] == "must"
    assert diag.iis_left_out > 0  # the balances the limits act through were in HiGHS's subset
    text = "\n".join(diag.lines())
    assert "≥ 0" not in text and "stock balance" not in text and "cash balance" not in text
    assert f"with {diag.iis_left_out} stock, cash or budget balances" in text


def test_family_names_and_rounding():
    assert family_of("min-cash") == "minimum cash" == family_of("minimum cash")
    assert family_of("SAFETY_STOCK") == "stock target min"
    with pytest.raises(DiagnosisError):
        family_of("budgte")
    assert round_up(5.0000000001, "unit", "CNY") == 5
    assert round_up(399.2, "CNY", "CNY") == 400
    assert round_up(0.0012345, "unit", "CNY") == pytest.approx(0.001235)


# ---------------------------------------------------------------------------- CLI

def test_cli_diagnose_and_solve_print_the_diagnosis(tmp_path, capsys):
    assert main(["diagnose", str(TINY / "infeasible_credit")]) == 1
    out = capsys.readouterr().out
    assert "credit line short by ¥300" in out

    plan = tmp_path / "plan"
    assert main(["solve", str(TINY / "infeasible_budget"), "--out", str(plan)]) == 1
    out = capsys.readouterr().out
    assert "infeasible" in out and "raise the production budget in 2027-02 by ¥400" in out
    assert not plan.exists()

    assert main(["diagnose", str(TINY / "infeasible_overtime"), "--never", "overtime", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(r["family"], r["amount"]) for r in data["relaxations"]] == [("capacity", 30)]

    assert main(["diagnose", str(TINY / "infeasible_overtime"), "--weight", "overtime=5"]) == 1
    assert "raise the capacity of A2 in 2027-07 by 30 hours" in capsys.readouterr().out

    assert main(["diagnose", str(TINY / "demand_must")]) == 0
    assert "nothing needs relaxing" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["setup_lot_sizing", "min_lot", "demand_must"])
def test_solve_and_diagnose_report_one_profit(name, capsys):
    """One plan, one amount: `diagnose` on a feasible instance reports the profit `solve` reports
    (it runs the same pipeline: build route, strategy, polish), in JSON and in text."""
    path = TINY / name
    assert main(["solve", str(path), "--json"]) == 0
    solved = json.loads(capsys.readouterr().out)
    assert main(["diagnose", str(path), "--json"]) == 0
    diagnosed = json.loads(capsys.readouterr().out)
    assert diagnosed["feasible"] is True and diagnosed["status"] == solved["status"]
    assert diagnosed["objective"] == solved["objective"]
    assert main(["diagnose", str(path)]) == 0
    assert f"profit {money(solved['objective'], 'CNY')}" in capsys.readouterr().out


def test_solve_and_diagnose_give_one_diagnosis(capsys):
    """An infeasible instance: the relaxation `solve` prints is the one `diagnose` prints, and
    --json keeps stderr free of progress lines."""
    path = TINY / "infeasible_overtime"
    assert main(["solve", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    from_solve = json.loads(captured.out)["diagnosis"]
    assert "searching" not in captured.err and "solving the plan" not in captured.err
    assert main(["diagnose", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    from_diagnose = json.loads(captured.out)
    assert "searching" not in captured.err
    assert from_solve["relaxations"] == from_diagnose["relaxations"]
    assert from_solve["iis"] == from_diagnose["iis"]


def test_cli_diagnose_rejects_unknown_family(capsys):
    assert main(["diagnose", str(TINY / "infeasible_credit"), "--weight", "budgte=2"]) == 2
    assert "unknown family 'budgte'" in capsys.readouterr().err
    assert main(["diagnose", str(TINY / "infeasible_credit"), "--weight", "credit=x"]) == 2
