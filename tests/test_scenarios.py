"""Demand scenarios side by side and the two-stage robust plan (instances/tiny/scenarios_demand).

The instance: P needs one M (lead time 1, fixed order cost 40) and one hour of R (40 h, overtime
30 h at 2/h); demand per period low 20, base 35, high 40/60/70 at price 10. Own optima (hand
check of the cheapest schedule, confirmed by the solver): low 416, base 727, high 1076.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from solver.analysis.scenarios import compare_scenarios, robust_plan
from solver.cli.main import main
from solver.io.loading import load_instance, scenario_weights, validate
from solver.io.problems import InputError
from tests.helpers import write_mini

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
