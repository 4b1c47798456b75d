"""Demand scenarios side by side and the two-stage robust plan (instances/tiny/scenarios_demand).

The instance: P needs one M (lead time 1, fixed order cost 40) and one hour of R (40 h, overtime
30 h at 2/h); demand per period low 20, base 35, high 40/60/70 at price 10. Own optima (hand
check of the cheapest schedule, confirmed by the solver): low 416, base 727, high 1076.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from formulations.extensions.replan import hold_decisions
from solver.analysis.checker import assert_plan_ok
from solver.analysis.scenarios import (
    COMMIT_PLAN_COLUMNS,
    commit_cost,
    committed_decisions,
    compare_scenarios,
    robust_plan,
    scaled_scenario,
)
from solver.cli.main import main
from solver.engine.pipeline import solve
from solver.engine.status import Status
from solver.io.loading import load_instance, load_scenarios, scenario_weights, validate
from solver.io.problems import InputError
from tests.helpers import write_mini

ROOT = Path(__file__).resolve().parents[1]

INSTANCE = Path(__file__).resolve().parents[1] / "instances" / "tiny" / "scenarios_demand"
NAMES = ["low", "base", "high"]


@pytest.fixture(scope="module")
def instances():
    return {s: load_instance(INSTANCE, scenario=s) for s in NAMES}


def test_weights_come_from_instance_toml_normalised() -> None:
    assert scenario_weights(INSTANCE, NAMES) == pytest.approx({"low": 0.25, "base": 0.5, "high": 0.25})
    assert scenario_weights(INSTANCE, ["low", "high"]) == pytest.approx({"low": 0.5, "high": 0.5})


def test_weights_default_to_equal(tmp_path: Path) -> None:
    demand = "product,channel,period,quantity,scenario\nbike,retail,2027-01,1,a\nbike,retail,2027-01,2,b\n"
    path = write_mini(tmp_path / "m", demand=demand)
    assert scenario_weights(path, ["a", "b"]) == {"a": 0.5, "b": 0.5}


def test_bad_weights_are_errors(tmp_path: Path) -> None:
    from tests.helpers import MINI_TOML

    demand = "product,channel,period,quantity,scenario\nbike,retail,2027-01,1,base\nbike,retail,2027-01,2,high\n"
    path = write_mini(tmp_path / "m", toml=MINI_TOML + "\n[scenarios]\nbase = 1\nhgih = 0.5\nhigh = -1\n", demand=demand)
    errors = {(p.column, p.row) for p in validate(path) if p.is_error}
    assert ("scenarios.hgih", 11) in errors  # unknown scenario, with its line
    assert ("scenarios.high", 12) in errors  # negative weight
    zero = write_mini(tmp_path / "z", toml=MINI_TOML + "\n[scenarios]\nbase = 0\nhigh = 0\n", demand=demand)
    assert any(p.column == "scenarios" and "sum to 0" in p.message for p in validate(zero))
    partial = write_mini(tmp_path / "p", toml=MINI_TOML + "\n[scenarios]\nbase = 1\n", demand=demand)
    with pytest.raises(InputError, match="no weight"):
        scenario_weights(partial, ["base", "high"])


@pytest.mark.solver
def test_robust_plan_shares_the_committed_periods_and_regret_is_nonnegative(instances) -> None:
    weights = scenario_weights(INSTANCE, NAMES)
    comp = compare_scenarios(instances, weights, robust_commit=1)
    own = {s: comp.plans[s].objective for s in NAMES}
    assert own == pytest.approx({"low": 416, "base": 727, "high": 1076})
    assert comp.robust_status == "optimal"

    def first(s: str, table: str, cols: list[str]) -> pd.DataFrame:
        df = comp.robust[s].tables[table]
        df = df[(df["t"] <= 1) & (df["quantity"] > 1e-9)]
        return df[cols].sort_values(cols).reset_index(drop=True)

    for table, cols in (("production", ["item", "routing", "t", "quantity", "setup"]),
                        ("purchases", ["item", "t", "quantity", "order_placed"])):
        ref = first("low", table, cols)
        assert len(ref) > 0
        for s in NAMES[1:]:
            pd.testing.assert_frame_equal(first(s, table, cols), ref, obj=f"{table} of {s}")
    rows = comp.rows().set_index("scenario")
    assert (rows["regret"] >= -1e-9).all()
    assert rows["regret"].max() > 1  # one plan for all costs something somewhere
    # the expected profit of the shared plan is at most that of knowing the scenario in advance
    assert comp.expected_profit <= sum(weights[s] * own[s] for s in NAMES) + 1e-6
    assert comp.expected_profit == pytest.approx(sum(weights[s] * rows.loc[s, "robust_profit"] for s in NAMES))
    # later periods are recourse: the high scenario produces more than the low one
    prod = {s: comp.robust[s].tables["production"]["quantity"].sum() for s in NAMES}
    assert prod["high"] > prod["low"]


@pytest.mark.solver
def test_committing_the_whole_horizon_gives_one_plan(instances) -> None:
    rob = robust_plan(instances, dict.fromkeys(NAMES, 1 / 3), commit=3)
    ref = rob.plans["low"].tables["production"][["item", "t", "quantity"]].reset_index(drop=True)
    for s in NAMES[1:]:
        pd.testing.assert_frame_equal(rob.plans[s].tables["production"][["item", "t", "quantity"]].reset_index(drop=True), ref)


def test_commit_outside_the_horizon_is_an_input_error(instances) -> None:
    with pytest.raises(InputError, match="commit"):
        robust_plan(instances, dict.fromkeys(NAMES, 1 / 3), commit=4)


@pytest.mark.solver
def test_compare_cli_writes_table_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    code = main(["compare", str(INSTANCE), "--scenarios", "low,base,high", "--robust", "--commit", "1", "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == ["metric", *NAMES]
    metrics = set(table["metric"])
    assert {"profit", "revenue", "service_level", "lowest_cash", "peak_loan", "peak_utilisation",
            "budget_used:procurement", "budget_used:production", "robust_profit", "regret"} <= metrics
    profit = table.set_index("metric").loc["profit"]
    assert profit.to_dict() == pytest.approx({"low": 416, "base": 727, "high": 1076})
    png = (out / "comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    for s in NAMES:  # each plan is an ordinary `solve --out` folder
        assert (out / "plans" / s / "summary.json").is_file() and (out / "robust" / s / "production.csv").is_file()
    assert main(["compare", str(INSTANCE), "--scenarios", "low,nope"]) == 2


# ---------------------------------------------------------------- issue 17: what a planner needs


def flat(decisions: dict[str, dict[tuple, float]]) -> dict[tuple, float]:
    return {(name, *key): v for name, values in decisions.items() for key, v in values.items()}


def copy_instance(dst: Path, extra_demand: str = "", weights: bool = True) -> Path:
    """instances/tiny/scenarios_demand copied, with demand rows appended and (weights=False)
    without its [scenarios] table."""
    shutil.copytree(INSTANCE, dst)
    if extra_demand:
        with (dst / "demand.csv").open("a", encoding="utf-8") as f:
            f.write(extra_demand)
    if not weights:
        toml = (dst / "instance.toml").read_text(encoding="utf-8")
        (dst / "instance.toml").write_text(toml.split("[scenarios]")[0], encoding="utf-8")
    return dst


def test_scenarios_missing_from_demand_csv_are_one_error_each(capsys) -> None:
    """Before: `compare instances/appliance --scenarios low,base,high` warned that low and high
    were 'planned with zero demand', solved both, and ended with 'no plan for scenario low/high'
    and a table of dashes (exit 0). Now: one error per missing scenario, saying what exists and
    how to make one by scaling; nothing is solved (exit 2)."""
    assert main(["compare", str(ROOT / "instances" / "appliance"), "--scenarios", "low,base,high"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and all("(scenarios in the file" not in e for e in errors)
    assert "no demand rows for scenario 'low'" in errors[0] and "no demand rows for scenario 'high'" in errors[1]
    assert all("one of the scenarios in the file: base" in e and f"--scenarios {n}=FACTOR" in e
               for e, n in zip(errors, ("low", "high"), strict=True))
    assert not [line for line in captured.err.splitlines() if line.startswith("warning")]


def test_a_problem_of_the_shared_files_is_reported_once(tmp_path: Path, caplog) -> None:
    """A warning of the files every scenario shares used to come once per compared scenario."""
    path = copy_instance(tmp_path / "m", extra_demand="P,web,1,5,10,base\n")  # channel web is not declared
    with caplog.at_level("WARNING", logger="solver.io.loading"):
        loaded = load_scenarios(path, NAMES)
    assert list(loaded) == NAMES and [inst.scenario for inst in loaded.values()] == NAMES
    warnings = [r.getMessage() for r in caplog.records if "web" in r.getMessage()]
    assert len(warnings) == 1, warnings


def test_scaling_is_refused_where_it_would_be_ambiguous(tmp_path: Path, capsys) -> None:
    base = load_instance(INSTANCE, scenario="base")
    with pytest.raises(InputError, match="has demand rows of its own"):
        scaled_scenario(base, "low", 0.85)
    with pytest.raises(InputError, match="not a number >= 0"):
        scaled_scenario(base, "x", -1.0)
    assert main(["compare", str(INSTANCE), "--scenarios", "base,low=0.85,x=abc,y=nan"]) == 2
    err = capsys.readouterr().err
    assert "'x=abc'" in err and "'y=nan'" in err  # every malformed entry at once
    # instance.toml weighs the scenarios of demand.csv: a scaled one has no weight there
    assert main(["compare", str(INSTANCE), "--scenarios", "base,x=0.85"]) == 2
    assert "made by scaling" in capsys.readouterr().err


@pytest.mark.solver
def test_a_scaled_scenario_plans_as_the_hand_written_one(tmp_path: Path, capsys) -> None:
    """`x=0.8` is base's demand × 0.8: the same plan as the rows written out by hand."""
    rows = "".join(f"P,shop,{t},28,10,hand\n" for t in (1, 2, 3))  # base is 35 per period
    path = copy_instance(tmp_path / "m", extra_demand=rows, weights=False)
    base = load_instance(path, scenario="base")
    scaled, hand = (solve(inst) for inst in (scaled_scenario(base, "x", 0.8), load_instance(path, scenario="hand")))
    assert scaled.status == hand.status == Status.OPTIMAL
    assert scaled.objective == pytest.approx(hand.objective)
    for table in ("production", "purchases", "sales"):
        keep = [c for c in scaled.tables[table].columns if c != "scenario"]
        pd.testing.assert_frame_equal(scaled.tables[table][keep], hand.tables[table][keep], obj=table)
    # on the command line, with base's plan as the start of the others
    assert main(["compare", str(path), "--scenarios", "base,x=0.8,hand", "--json"]) == 0
    rows = {r["scenario"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["x"]["profit"] == pytest.approx(hand.objective) == pytest.approx(rows["hand"]["profit"])


@pytest.mark.solver
def test_committing_to_the_base_plan_costs_the_value_of_the_stochastic_solution(instances) -> None:
    """VSS = robust expected profit − expected profit of committing to base's own plan for
    period 1 and re-planning the rest per scenario; both expected profits are re-solves."""
    weights = scenario_weights(INSTANCE, NAMES)
    comp = compare_scenarios(instances, weights, robust_commit=1)
    committed = comp.committed
    assert comp.reference == "base" and committed is not None and not committed.infeasible
    gap_tol = 1e-4 * sum(abs(weights[s] * comp.plans[s].objective) for s in NAMES)  # the MIP gaps
    assert comp.value_of_stochastic_solution >= -gap_tol
    assert comp.value_of_stochastic_solution == pytest.approx(comp.expected_profit - committed.expected_profit)
    assert comp.value_of_stochastic_solution > 1  # on this instance the robust plan is worth more
    base_first = committed_decisions(comp.plans["base"], 1)
    for s in NAMES:
        plan = committed.plans[s]
        assert_plan_ok(plan)  # a true plan of scenario s, of the profit reported
        assert flat(committed_decisions(plan, 1)) == pytest.approx(flat(base_first))  # with base's period 1
    assert committed.expected_profit == pytest.approx(sum(weights[s] * committed.plans[s].objective for s in NAMES))
    # the promise of the robust plan re-solved the same way: its period 1 fixed in each scenario
    again = commit_cost(instances, weights, 1, comp.robust["low"])
    assert again.expected_profit == pytest.approx(comp.expected_profit, abs=gap_tol)
    # where base's order fits the scenario's own model, the plain re-plan route agrees
    fixed = hold_decisions(base_first, periods={1}, how="fix")
    assert solve(instances["high"], extensions=[fixed]).objective == pytest.approx(committed.plans["high"].objective)


@pytest.mark.solver
def test_the_robust_plan_may_commit_what_only_some_scenarios_need(instances) -> None:
    """Each scenario's big-M only admits lots its own optimal plans need: low demand capped the
    period-1 order at what low could use, so the robust plan could not buy what base and high
    need (expected profit 677.25 before; 710.75 with the links of the committed periods as wide
    as any scenario needs). The better plan is a plan: re-solved in every scenario with its
    period 1 fixed, it earns what was promised."""
    weights = scenario_weights(INSTANCE, NAMES)
    rob = robust_plan(instances, weights, commit=1)
    assert rob.expected_profit == pytest.approx(710.75, abs=0.1)
    for s in NAMES:
        assert_plan_ok(rob.plans[s])


@pytest.mark.solver
def test_compare_robust_writes_the_commit_plan(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", str(INSTANCE), "--robust", "--commit", "2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "value of the stochastic solution" in captured.out and "commit plan: periods 1..2" in captured.out
    written = pd.read_csv(out / "commit_plan.csv", keep_default_na=False)
    assert list(written.columns) == COMMIT_PLAN_COLUMNS
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["value_of_stochastic_solution"] == pytest.approx(
        summary["expected_profit"] - summary["expected_profit_committing_reference"])
    for s in NAMES:  # the file is each scenario's robust plan for periods 1..2
        folder = out / "robust" / s
        made = pd.read_csv(folder / "production.csv")
        made = made[(made["t"] <= 2) & ((made["quantity"] > 1e-9) | (made["setup"] == 1))]
        bought = pd.read_csv(folder / "purchases.csv")
        bought = bought[(bought["t"] <= 2) & ((bought["quantity"] > 1e-9) | (bought["order_placed"] == 1))]
        for decision, table, switch in (("make", made, "setup"), ("buy", bought, "order_placed")):
            mine = written[written["decision"] == decision].sort_values(["item", "t"])
            theirs = table.sort_values(["item", "t"])
            assert list(zip(mine["item"], mine["t"], mine["setup_or_order"], strict=True)) == \
                list(zip(theirs["item"], theirs["t"], theirs[switch], strict=True))
            assert list(mine["quantity"]) == pytest.approx(list(theirs["quantity"]))
    assert len(written) >= 2
    assert main(["compare", str(INSTANCE), "--robust", "--json"]) == 0
    assert capsys.readouterr().err == ""  # --json: no progress
