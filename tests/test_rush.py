"""Rush-order insertion on instances/tiny/rush_basic (hand-derived answers in the docstrings).

The instance: one line of 100 h per week with a 20 % rush reserve (the plan may use 80 h),
a widget takes 1 h and 2 steel at 3 (unit cost 10 + 6 = 16), firm retail demand 60/week at
50, shop demand 10/week at 40 with backlog (2 per unit-week). The baseline makes 70 a week and
ships everything on time: 10 h spare plus 20 h of reserve each week.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from solver.baseline import load_baseline
from solver.cli import main
from solver.loading import load_instance
from solver.planning import solve
from solver.problems import InputError
from solver.rush import RushOrder, evaluate_order, select_orders
from solver.writers import write_result

pytestmark = pytest.mark.solver

INSTANCE = Path(__file__).resolve().parents[1] / "instances" / "tiny" / "rush_basic"


@pytest.fixture(scope="module")
def inst():
    return load_instance(INSTANCE)


@pytest.fixture(scope="module")
def baseline_dir(inst, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rush") / "baseline"
    result = solve(inst)
    assert result.has_plan
    write_result(result, out)
    return out


@pytest.fixture(scope="module")
def baseline(inst, baseline_dir):
    return load_baseline(baseline_dir, inst)


def test_baseline_reads_the_plan_back(baseline):
    assert baseline.profit == pytest.approx(9120.0)
    assert baseline.x[("widget", "main", 2)] == pytest.approx(70.0)
    # steel has no holding cost: when it is bought is not unique, how much is (2 per widget)
    assert sum(baseline.q.values()) == pytest.approx(560.0)
    assert baseline.ship[("widget", "shop", 3)] == pytest.approx(10.0)


@pytest.mark.parametrize("mode", ["replan", "reserve"])
def test_order_within_reserve_is_accepted_without_touching_other_orders(inst, baseline, mode):
    """15 widgets in W2: 10 spare hours + 5 of the reserve. Profit +15·(30 − 16) = 210."""
    a = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=30), mode=mode)
    assert a.accepted and a.status == "optimal"
    assert a.profit_delta == pytest.approx(210.0)
    assert a.ctp_quantity == 15 and a.earliest_period == "W2"
    assert a.tables["order_changes"].empty
    sales = a.plan.tables["sales"]
    others = sales[sales["channel"] != "rush"].set_index(["product", "channel", "t"])["shipped"]
    base = baseline.tables["sales"].set_index(["product", "channel", "t"])["shipped"]
    pd.testing.assert_series_equal(others.sort_index(), base.sort_index(), check_names=False)
    cap = a.plan.tables["capacity"].set_index("t")
    assert cap.at[2, "used"] == pytest.approx(85.0)
    assert cap.at[2, "reserve_used"] == pytest.approx(5.0)
    assert cap.at[2, "available"] == pytest.approx(80.0)


def test_order_beyond_capacity_is_refused_naming_capacity(inst, baseline):
    """80 widgets by W2 with W1 frozen: W2 has 100 h (reserve included) of which retail takes
    60, and delaying the shop's W1 order frees 10 from stock: 50 can be promised. By W3 the
    line gives another 40 (the shop waits): the earliest full delivery is W3."""
    a = evaluate_order(inst, baseline, RushOrder("widget", 80, "W2", price=30))
    assert not a.accepted and a.status == "infeasible"
    assert a.ctp_quantity == pytest.approx(50.0)
    top = a.blocking.iloc[0]
    assert (top["family"], top["entity"], top["period"]) == ("capacity", "line", "W2")
    assert any("capacity of line in W2" in r for r in a.reasons)
    assert a.earliest_period == "W3"
    again = evaluate_order(inst, baseline, RushOrder("widget", 80, a.earliest_period, price=30))
    assert again.accepted
    assert a.tables["order_changes"]["effect"].isin(["delayed", "lost", "catch-up"]).all()


def test_break_even_price_flips_the_profit_change(inst, baseline):
    """The order costs 16 a unit (10 to make, 2 steel at 3): break-even 16."""
    a = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=30))
    assert a.break_even_price == pytest.approx(16.0)
    eps = 0.01
    above = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=a.break_even_price + eps))
    below = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=a.break_even_price - eps))
    assert above.profit_delta > 0 > below.profit_delta
    assert above.profit_delta == pytest.approx(15 * eps, abs=1e-6)


def test_frozen_periods_keep_production_and_purchases(inst, baseline):
    """35 by W3. Unfrozen, 5 are made in W2 (holding 1 < backlog 2); with W1–W2 frozen they
    cannot be, so the shop waits for 5 instead."""
    free = evaluate_order(inst, baseline, RushOrder("widget", 35, "W3", price=30), freeze=0)
    frozen = evaluate_order(inst, baseline, RushOrder("widget", 35, "W3", price=30), freeze=2)
    assert free.accepted and frozen.accepted

    def early(answer, table, keys):
        df = answer.plan.tables[table]
        return df[df["t"] <= 2].set_index(keys)["quantity"].sort_index()

    def base(table, keys):
        df = baseline.tables[table]
        return df[df["t"] <= 2].set_index(keys)["quantity"].sort_index()

    pd.testing.assert_series_equal(early(frozen, "production", ["item", "routing", "t"]),
                                   base("production", ["item", "routing", "t"]), check_names=False)
    pd.testing.assert_series_equal(early(frozen, "purchases", ["item", "t"]), base("purchases", ["item", "t"]),
                                   check_names=False)
    assert not early(free, "production", ["item", "routing", "t"]).equals(base("production", ["item", "routing", "t"]))
    assert frozen.tables["order_changes"]["effect"].eq("delayed").any()
    assert free.profit_delta > frozen.profit_delta


def _check_diff(diff: pd.DataFrame, base: pd.DataFrame, new: pd.DataFrame, keys: list[str], value: str) -> None:
    b = base.groupby(keys)[value].sum()
    n = new.groupby(keys)[value].sum()
    allk = b.index.union(n.index)
    delta = n.reindex(allk, fill_value=0.0) - b.reindex(allk, fill_value=0.0)
    changed = delta[delta.abs() > 1e-6]
    d = diff.set_index(keys)
    assert sorted(d.index) == sorted(changed.index)
    for k, v in changed.items():
        assert d.at[k, "delta"] == pytest.approx(v)
        assert d.at[k, f"{value}_new"] == pytest.approx(n.get(k, 0.0))
        assert d.at[k, f"{value}_baseline"] == pytest.approx(b.get(k, 0.0))


def test_diff_tables_match_the_two_plans(inst, baseline):
    a = evaluate_order(inst, baseline, RushOrder("widget", 80, "W2", price=30))  # plan at W3: lots move, shop waits
    plan = a.plan.tables
    _check_diff(a.tables["production_changes"], baseline.tables["production"], plan["production"], ["item", "routing", "t"], "quantity")
    _check_diff(a.tables["purchase_changes"], baseline.tables["purchases"], plan["purchases"], ["item", "t"], "quantity")
    others = plan["sales"][plan["sales"]["channel"] != "rush"]
    _check_diff(a.tables["order_changes"].rename(columns={"shipped_delta": "delta"}), baseline.tables["sales"], others,
                ["product", "channel", "t"], "shipped")
    rush = a.tables["rush_deliveries"]
    assert rush["shipped"].sum() == pytest.approx(80.0) and list(rush["period"]) == ["W3"]
    assert set(a.tables["production_changes"]["change"]) <= {"added", "cancelled", "increased", "reduced", "moved in", "moved out"}


def test_baseline_of_other_data_is_rejected(inst, baseline_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(INSTANCE, other)
    demand = (other / "demand.csv").read_text(encoding="utf-8").replace("W4,10,40", "W4,12,40")
    (other / "demand.csv").write_text(demand, encoding="utf-8")
    with pytest.raises(InputError, match="fingerprint"):
        load_baseline(baseline_dir, load_instance(other))
    code = main(["insert", str(other), "--baseline", str(baseline_dir), "--product", "widget",
                 "--quantity", "5", "--due", "W2", "--json"])
    assert code == 2


def test_select_chooses_the_profitable_subset(inst, baseline):
    """Two candidates for W3: one at 30 (profit +14 a unit), one at 12 (below the cost of 16)."""
    sel = select_orders(inst, baseline, [RushOrder("widget", 10, "W3", price=30), RushOrder("widget", 10, "W3", price=12)])
    assert list(sel.orders["accepted"]) == [True, False]
    assert sel.profit_delta == pytest.approx(140.0)


def test_cli_json_keys_and_tables(baseline_dir, tmp_path, capsys):
    out = tmp_path / "diff"
    code = main(["insert", str(INSTANCE), "--baseline", str(baseline_dir), "--product", "widget", "--quantity", "15",
                 "--due", "W2", "--price", "30", "--json", "--out", str(out)])
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    for key in ("accepted", "profit_delta", "earliest_period", "ctp_quantity", "break_even_price", "seconds"):
        assert key in answer
    assert answer["accepted"] is True and answer["break_even_price"] == pytest.approx(16.0)
    assert (out / "production_changes.csv").is_file() and (out / "answer.json").is_file()

    orders = tmp_path / "orders.csv"
    orders.write_text("product,quantity,due,price,channel\nwidget,10,W3,30,\nwidget,10,W3,12,shop\n", encoding="utf-8")
    code = main(["insert", str(INSTANCE), "--baseline", str(baseline_dir), "--orders", str(orders), "--select", "--json"])
    assert code == 0
    sel = json.loads(capsys.readouterr().out)
    assert sel["selected"] == [1]
