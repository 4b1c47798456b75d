"""Rush-order insertion (hand-derived answers in the docstrings).

`instances/tiny/rush_basic`: one line of 100 h per week with a 20 % rush reserve (the plan may
use 80 h), a widget takes 1 h and 2 steel at 3 (unit cost 10 + 6 = 16), firm retail demand
60/week at 50, shop demand 10/week at 40 with backlog (2 per unit-week). The baseline makes 70
a week and ships everything on time: 10 h spare plus 20 h of reserve each week. With the
default `--freeze 1`, week 1's 70 widgets are made already: a rush order can take week 1's
stock only from the shop (retail is `must`).

DEALER (written below): a line of 50 h per period, P takes 1 h and costs 10, a dealer buys
30 per period at 30 (lost sales, no penalty): the baseline makes 30 a period, 20 h spare
each. No reserve and `freeze=0`, so a rush order is just extra demand: the promises can be
re-checked independently by adding the order to the data files as a `must` demand and
solving the plain instance (holding stock is free of limits and cash is ample, so "all of it
by t" is feasible exactly when "all of it in t" is).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from solver.analysis.rush import (
    RushOrder,
    deliverable,
    evaluate_order,
    first_feasible,
    select_orders,
)
from solver.cli.main import main
from solver.engine.pipeline import solve
from solver.io.baseline import load_baseline
from solver.io.loading import load_instance
from solver.io.problems import InputError
from solver.io.writers import write_result
from tests.helpers import write_instance

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[1]
INSTANCE = ROOT / "instances" / "tiny" / "rush_basic"

DEALER_TOML = """\
name = "dealer"
periods = ["P1", "P2", "P3"]

[cash]
initial = 100000
"""
DEALER = {
    "items": "item,kind,unit_cost,holding_cost\nP,product,10,1\n",
    "channels": "channel,terms,service\ndealer,cash,lost\n",
    "demand": "product,channel,period,quantity,price\nP,dealer,P1,30,30\nP,dealer,P2,30,30\nP,dealer,P3,30,30\n",
    "resources": "resource,capacity\nL,50\n",
    "routings": "item,routing,resource,hours_per_unit\nP,main,L,1\n",
}


@pytest.fixture(scope="module")
def inst():
    return load_instance(INSTANCE)


def _baseline(inst, tmp_path_factory, name: str) -> Path:
    out = tmp_path_factory.mktemp(name) / "baseline"
    result = solve(inst)
    assert result.has_plan
    write_result(result, out)
    return out


@pytest.fixture(scope="module")
def baseline_dir(inst, tmp_path_factory) -> Path:
    return _baseline(inst, tmp_path_factory, "rush")


@pytest.fixture(scope="module")
def baseline(inst, baseline_dir):
    return load_baseline(baseline_dir, inst)


@pytest.fixture(scope="module")
def dealer_dir(tmp_path_factory) -> Path:
    return write_instance(tmp_path_factory.mktemp("dealer") / "inst", DEALER_TOML, **DEALER)


@pytest.fixture(scope="module")
def dealer(dealer_dir):
    return load_instance(dealer_dir)


@pytest.fixture(scope="module")
def dealer_baseline(dealer, tmp_path_factory):
    return load_baseline(_baseline(dealer, tmp_path_factory, "dealer"), dealer)


def _plain_solve_with_order(dealer_dir: Path, tmp_path: Path, quantity: float, period: str, protect: bool) -> bool:
    """The independent check: the order as a `must` demand row of the data files, the plain
    instance solved. `protect`: the dealer's baseline shipments (all of its demand) become
    `must` too."""
    folder = tmp_path / f"check-{quantity}-{period}-{protect}"
    shutil.copytree(dealer_dir, folder)
    service = "must" if protect else "lost"
    (folder / "channels.csv").write_text(f"channel,terms,service\ndealer,cash,{service}\nrush,cash,must\n", encoding="utf-8")
    with (folder / "demand.csv").open("a", encoding="utf-8") as f:
        f.write(f"P,rush,{period},{quantity},25\n")
    return solve(load_instance(folder)).has_plan


def test_baseline_reads_the_plan_back(baseline):
    assert baseline.profit == pytest.approx(9120.0)
    assert baseline.x[("widget", "main", 2)] == pytest.approx(70.0)
    # steel has no holding cost: when it is bought is not unique, how much is (2 per widget)
    assert sum(baseline.q.values()) == pytest.approx(560.0)
    assert baseline.ship[("widget", "shop", 3)] == pytest.approx(10.0)


@pytest.mark.parametrize("mode", ["replan", "reserve"])
def test_order_within_reserve_is_feasible_without_touching_other_orders(inst, baseline, mode):
    """15 widgets by W2: 10 spare hours + 5 of the reserve in W2. Profit +15·(30 − 16) = 210.
    Earliest: W2 when re-planning (week 1 is frozen); W1 in reserve mode, which adds to the
    baseline's production in any week (10 spare + 20 reserve hours in W1)."""
    a = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=30), mode=mode)
    assert a.feasible and a.profitable and a.status == "optimal"
    assert a.profit_delta == pytest.approx(210.0)
    assert a.earliest_period == ("W2" if mode == "replan" else "W1")
    assert a.tables["order_changes"].empty and a.cut_orders.empty
    sales = a.plan.tables["sales"]
    others = sales[sales["rush_order"] == ""].set_index(["product", "channel", "t"])["shipped"]
    base = baseline.tables["sales"].set_index(["product", "channel", "t"])["shipped"]
    pd.testing.assert_series_equal(others.sort_index(), base.sort_index(), check_names=False)
    cap = a.plan.tables["capacity"].set_index("t")
    assert cap.at[2, "available"] == pytest.approx(80.0)
    if mode == "replan":  # all 15 made in W2: 10 spare hours, 5 of the reserve
        assert cap.at[2, "used"] == pytest.approx(85.0)
        assert cap.at[2, "reserve_used"] == pytest.approx(5.0)
    else:  # made in W1 and W2, where is not unique
        assert cap.loc[[1, 2], "used"].sum() == pytest.approx(155.0)


def test_earliest_is_searched_not_the_due_date(inst, baseline):
    """15 widgets wanted by W3 ship by W2 already (W2 has 10 spare + 20 reserve hours), not by
    W1 (week 1 is made: only the shop's 10 could be taken). Re-solves: 15 by W2 deliverable,
    15 by W1 not."""
    a = evaluate_order(inst, baseline, RushOrder("widget", 15, "W3", price=30))
    assert a.feasible and a.earliest_period == "W2"
    assert deliverable(inst, baseline, RushOrder("widget", 15, "W3", price=30), by="W2")
    assert not deliverable(inst, baseline, RushOrder("widget", 15, "W3", price=30), by="W1")
    assert any(r["run"] == "feasible by W1?" and r["status"] == "infeasible" for r in a.runs)


def test_capable_to_promise_is_not_capped_at_the_request(inst, baseline):
    """By W3 the rush can take week 1's 10 shop widgets and 40 h in each of W2 and W3 (20 spare
    regular + 20 reserve; the shop waits for week 4): CTP 90 for an order of 15. Re-solves:
    90 deliverable by W3, 90.01 not."""
    order = RushOrder("widget", 15, "W3", price=30)
    a = evaluate_order(inst, baseline, order)
    assert a.ctp_quantity == pytest.approx(90.0)
    assert deliverable(inst, baseline, order, quantity=a.ctp_quantity)
    assert not deliverable(inst, baseline, order, quantity=a.ctp_quantity + 0.01)


def test_order_beyond_capacity_is_refused_naming_capacity(inst, baseline):
    """80 widgets by W2 with W1 frozen: W2 has 100 h (reserve included) of which retail takes
    60, and week 1's 10 shop widgets can be taken: 50 can be promised. By W3 the line gives
    another 40 (the shop waits): the earliest full delivery is W3. Re-solves: 50 by W2 yes,
    50.01 no; 80 by W3 yes, by W2 no."""
    order = RushOrder("widget", 80, "W2", price=30)
    a = evaluate_order(inst, baseline, order)
    assert not a.feasible and not a.profitable and a.status == "infeasible"
    assert a.ctp_quantity == pytest.approx(50.0)
    top = a.blocking.iloc[0]
    assert (top["family"], top["entity"], top["period"]) == ("capacity", "line", "W2")
    assert any("capacity of line in W2" in r for r in a.reasons)
    assert a.earliest_period == "W3"
    assert a.decision.startswith("not feasible by W2: 50 of 80 can be promised; all 80 by W3")
    assert deliverable(inst, baseline, order, quantity=50)
    assert not deliverable(inst, baseline, order, quantity=50.01)
    assert deliverable(inst, baseline, order, by="W3")
    assert a.tables["order_changes"]["effect"].isin(["delayed", "lost", "catch-up"]).all()


def test_promises_agree_with_the_plain_model(dealer, dealer_baseline, dealer_dir, tmp_path):
    """DEALER, 50 P by P2. Existing orders may be cut: all 100 hours by P2 can go to the rush
    (CTP 100; 50 even by P1, so P1 is the earliest). Protected (the dealer keeps its 30 a
    period): 20 spare hours a period, CTP 40 by P2, the 50 by P3. Each promise re-solved as
    plain data (the order as must demand; protected, the dealer must too): CTP yes, CTP + 0.01
    no; all of it by the earliest period yes, by the one before no."""
    order = RushOrder("P", 50, "P2", price=25)
    free = evaluate_order(dealer, dealer_baseline, order, freeze=0)
    assert free.feasible and free.earliest_period == "P1" and free.ctp_quantity == pytest.approx(100.0)
    assert _plain_solve_with_order(dealer_dir, tmp_path, 100, "P2", protect=False)
    assert not _plain_solve_with_order(dealer_dir, tmp_path, 100.01, "P2", protect=False)
    assert _plain_solve_with_order(dealer_dir, tmp_path, 50, "P1", protect=False)

    kept = evaluate_order(dealer, dealer_baseline, order, freeze=0, protect=True)
    assert not kept.feasible and kept.ctp_quantity == pytest.approx(40.0) and kept.earliest_period == "P3"
    assert _plain_solve_with_order(dealer_dir, tmp_path, 40, "P2", protect=True)
    assert not _plain_solve_with_order(dealer_dir, tmp_path, 40.01, "P2", protect=True)
    assert _plain_solve_with_order(dealer_dir, tmp_path, 50, "P3", protect=True)
    assert not _plain_solve_with_order(dealer_dir, tmp_path, 50, "P2", protect=True)


def test_feasible_and_profitable_are_apart(dealer, dealer_baseline):
    """DEALER, 50 P by P2 at 12: the line's 100 hours by P2 must make the dealer's 60 and the
    50, so 10 dealer units (30 each) are lost and 40 more made (10 each): Δprofit = 50·p − 700,
    −100 at 12; break-even 14. Re-solves at 14 ± 0.01: Δ = ±0.5."""
    a = evaluate_order(dealer, dealer_baseline, RushOrder("P", 50, "P2", price=12), freeze=0)
    assert a.feasible and not a.profitable
    assert a.profit_delta == pytest.approx(-100.0)
    assert a.break_even_price == pytest.approx(14.0)
    assert a.decision == "feasible by P2; loses ¥100 at ¥12; profitable from ¥14"
    answer = a.to_json()
    assert answer["feasible"] is True and answer["profitable"] is False and "accepted" not in answer
    above = evaluate_order(dealer, dealer_baseline, RushOrder("P", 50, "P2", price=a.break_even_price + 0.01), freeze=0)
    below = evaluate_order(dealer, dealer_baseline, RushOrder("P", 50, "P2", price=a.break_even_price - 0.01), freeze=0)
    assert above.profit_delta > 0 > below.profit_delta
    assert above.profit_delta == pytest.approx(0.5, abs=1e-6)
    cut = a.cut_orders
    assert cut["shipped_baseline"].sum() - cut["shipped_new"].sum() == pytest.approx(10.0)
    assert set(cut["effect"]) == {"lost"} and set(cut["channel"]) == {"dealer"}


def test_protect_keeps_every_existing_order(inst, baseline):
    """40 widgets by W2: unprotected, W2's 40 free hours (20 spare + 20 reserve) go to the rush
    and the shop's W2 order waits a week (10 delayed; Δ = 40·14 − 2·10 = 540). Protected, the
    shop ships on time: 30 by W2 (CTP), all 40 by W3."""
    order = RushOrder("widget", 40, "W2", price=30)
    free = evaluate_order(inst, baseline, order)
    assert free.feasible and free.profit_delta == pytest.approx(540.0)
    cut = free.cut_orders
    assert list(zip(cut["channel"], cut["period"], cut["effect"], strict=True)) == [("shop", "W2", "delayed")]
    assert cut.at[0, "shipped_baseline"] == pytest.approx(10.0) and cut.at[0, "shipped_new"] == pytest.approx(0.0)

    kept = evaluate_order(inst, baseline, order, protect=True)
    assert not kept.feasible and kept.ctp_quantity == pytest.approx(30.0) and kept.earliest_period == "W3"
    assert kept.cut_orders.empty
    sales = kept.plan.tables["sales"]
    base = baseline.tables["sales"].set_index(["product", "channel", "t"])["shipped"].cumsum()
    now = sales[sales["rush_order"] == ""].set_index(["product", "channel", "t"])["shipped"].cumsum()
    assert (now.reindex(base.index) >= base - 1e-6).all()


def test_break_even_price_flips_the_profit_change(inst, baseline):
    """The order costs 16 a unit (10 to make, 2 steel at 3): break-even 16."""
    a = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=30))
    assert a.break_even_price == pytest.approx(16.0)
    eps = 0.01
    above = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=a.break_even_price + eps))
    below = evaluate_order(inst, baseline, RushOrder("widget", 15, "W2", price=a.break_even_price - eps))
    assert above.profit_delta > 0 > below.profit_delta
    assert above.profit_delta == pytest.approx(15 * eps, abs=1e-6)


def test_default_price_says_where_it_comes_from(inst, baseline, tmp_path):
    """The shop's price in force at W2 is its W2 row (40); a channel with no price for the
    product gets the highest price in force (retail's 50) and a warning; a product with no
    price at or before the due period is priced at 0 with a warning."""
    a = evaluate_order(inst, baseline, RushOrder("widget", 5, "W2", channel="shop"))
    assert a.price == 40 and a.price_source == "shop's demand price in W2" and not a.warnings

    folder = tmp_path / "priced"
    shutil.copytree(INSTANCE, folder)
    (folder / "channels.csv").write_text("channel,terms,service,backlog_cost,lost_cost\nretail,cash,must,0,0\n"
                                         "shop,cash,backlog,2,5\nonline,cash,lost,0,0\n", encoding="utf-8")
    with (folder / "items.csv").open("a", encoding="utf-8") as f:
        f.write("gadget,product,10,1,0\n")
    with (folder / "routings.csv").open("a", encoding="utf-8") as f:
        f.write("gadget,main,line,1\n")
    with (folder / "demand.csv").open("a", encoding="utf-8") as f:
        f.write("gadget,shop,W3,5,70\n")
    other = load_instance(folder)
    base2 = load_baseline(_baseline_in(other, tmp_path / "b2"), other)
    b = evaluate_order(other, base2, RushOrder("widget", 5, "W2", channel="online"))
    assert b.price == 50 and "retail" in b.price_source
    assert len(b.warnings) == 1 and "online has no demand price for widget" in b.warnings[0]
    c = evaluate_order(other, base2, RushOrder("gadget", 5, "W2", channel="shop"))
    assert c.price == 0 and len(c.warnings) == 1 and "priced at 0" in c.warnings[0]


def _baseline_in(inst, out: Path) -> Path:
    result = solve(inst)
    assert result.has_plan
    write_result(result, out)
    return out


def test_rush_deliveries_carry_the_order_channel(inst, baseline_dir, tmp_path, capsys):
    """Sold through the shop: the deliveries (answer tables and the plan's sales table) say
    `shop`, told from the shop's own demand by `rush_order`."""
    out = tmp_path / "diff"
    code = main(["insert", str(INSTANCE), "--baseline", str(baseline_dir), "--product", "widget", "--quantity", "15",
                 "--due", "W2", "--price", "30", "--channel", "shop", "--json", "--out", str(out)])
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["channel"] == "shop"
    deliveries = pd.read_csv(out / "rush_deliveries.csv")
    assert set(deliveries["channel"]) == {"shop"} and set(deliveries["order"]) == {"rush"}
    assert deliveries["shipped"].sum() == pytest.approx(15.0)
    a = evaluate_order(inst, load_baseline(baseline_dir, inst), RushOrder("widget", 15, "W2", price=30, channel="shop"))
    sales = a.plan.tables["sales"]
    rush = sales[sales["rush_order"] != ""]
    assert set(rush["channel"]) == {"shop"} and rush["shipped"].sum() == pytest.approx(15.0)
    assert "rush" not in set(sales["channel"])


def test_frozen_periods_keep_production_and_purchases(inst, baseline):
    """35 by W3. Unfrozen, 5 more are made in W2 and shipped then; with W1–W2 frozen they
    cannot be, so the shop waits for 5 instead (Δ 490 against 480)."""
    free = evaluate_order(inst, baseline, RushOrder("widget", 35, "W3", price=30), freeze=0)
    frozen = evaluate_order(inst, baseline, RushOrder("widget", 35, "W3", price=30), freeze=2)
    assert free.feasible and frozen.feasible

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
    assert free.profit_delta == pytest.approx(490.0) and frozen.profit_delta == pytest.approx(480.0)


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
    others = plan["sales"][plan["sales"]["rush_order"] == ""]
    _check_diff(a.tables["order_changes"].rename(columns={"shipped_delta": "delta"}), baseline.tables["sales"], others,
                ["product", "channel", "t"], "shipped")
    rush = a.tables["rush_deliveries"]
    assert rush["shipped"].sum() == pytest.approx(80.0) and rush["t"].max() <= 3
    assert rush["cumulative"].iloc[-1] == pytest.approx(80.0)
    assert set(a.tables["production_changes"]["change"]) <= {"added", "cancelled", "increased", "reduced", "moved in", "moved out"}


def test_appliance_key_account_order_is_searched(tmp_path_factory):
    """The issue's example: 3,000 AC-12K by 2027-03 for the key account was answered "earliest
    2027-03, CTP 3,000" (the request echoed) although the full order ships earlier and more
    than 3,000 ship by 2027-03. Both promises re-solved: all 3,000 by the earliest period and
    not by the one before; CTP by 2027-03 and not one unit more. The price is the key
    account's in 2027-03, and the deliveries carry its name."""
    inst = load_instance(ROOT / "instances" / "appliance")
    base = load_baseline(_baseline(inst, tmp_path_factory, "appliance"), inst)
    order = RushOrder("挂机空调 AC-12K", 3000, "2027-03", channel="大客户 Key account")
    a = evaluate_order(inst, base, order)
    assert a.feasible and inst.periods.index(a.earliest_period) < inst.periods.index("2027-03")
    assert a.ctp_quantity > 3000 and a.ctp_bound == pytest.approx(a.ctp_quantity)
    k = inst.periods.index(a.earliest_period)
    assert deliverable(inst, base, order, by=a.earliest_period)
    assert k == 0 or not deliverable(inst, base, order, by=inst.periods[k - 1])
    assert deliverable(inst, base, order, quantity=a.ctp_quantity)
    assert not deliverable(inst, base, order, quantity=a.ctp_quantity + 1)
    assert a.price == 2089 and a.price_source == "大客户 Key account's demand price in 2027-03"
    assert set(a.tables["rush_deliveries"]["channel"]) == {"大客户 Key account"}
    assert a.tables["rush_deliveries"]["shipped"].sum() == pytest.approx(3000)


def test_first_feasible_is_a_binary_search():
    """Monotone feasibility from 5 on, over 1..12 known feasible at 12: found with ⌈log2 12⌉
    calls at most, and 4 (the period before) among them."""
    calls = []

    def feasible(t: int) -> bool:
        calls.append(t)
        return t >= 5

    assert first_feasible(1, 12, feasible) == 5
    assert len(calls) <= 4 and 4 in calls


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


def test_cli_json_keys_and_text(baseline_dir, tmp_path, capsys):
    out = tmp_path / "diff"
    code = main(["insert", str(INSTANCE), "--baseline", str(baseline_dir), "--product", "widget", "--quantity", "15",
                 "--due", "W2", "--price", "12", "--json", "--out", str(out)])
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    for key in ("decision", "feasible", "profitable", "profit_delta", "earliest_period", "ctp_quantity",
                "break_even_price", "price_source", "warnings", "cut_orders", "seconds"):
        assert key in answer
    assert answer["feasible"] is True and answer["profitable"] is False
    assert answer["break_even_price"] == pytest.approx(16.0) and answer["price_source"] == "given"
    assert (out / "production_changes.csv").is_file() and (out / "answer.json").is_file()

    code = main(["insert", str(INSTANCE), "--baseline", str(baseline_dir), "--product", "widget", "--quantity", "40",
                 "--due", "W2", "--price", "30"])
    text = capsys.readouterr().out
    assert code == 0
    assert "feasible by W2; adds ¥540 at ¥30 (break-even ¥16.50)" in text
    assert "widget · shop · W2: 10 → 0 shipped (10 delayed)" in text

    orders = tmp_path / "orders.csv"
    orders.write_text("product,quantity,due,price,channel\nwidget,10,W3,30,\nwidget,10,W3,12,shop\n", encoding="utf-8")
    code = main(["insert", str(INSTANCE), "--baseline", str(baseline_dir), "--orders", str(orders), "--select", "--json"])
    assert code == 0
    sel = json.loads(capsys.readouterr().out)
    assert sel["selected"] == [1]


def test_an_answer_builds_one_model_per_demand_quantity(inst, baseline, monkeypatch):
    """Issue 18: every run of an answer (capable-to-promise, the earliest-date probes, the plan
    with the order) built its own model; they now share one per demand quantity (the order's,
    the capable-to-promise cap) and differ by column bounds and costs only. 15 widgets by W3
    take CTP (cap 30, reached, then 120), the plan and the earliest-date probes: one build
    each for 15, 30 and 120 however many runs; the answer is the one
    test_earliest_is_searched_not_the_due_date and
    test_capable_to_promise_is_not_capped_at_the_request re-solve from scratch."""
    import solver.analysis.rush as rush

    builds = []
    real = rush.build_model

    def counting(inst2, *args, **kwargs):
        builds.append(float(inst2.tables["demand"]["quantity"].iloc[-1]))
        return real(inst2, *args, **kwargs)

    monkeypatch.setattr(rush, "build_model", counting)
    a = evaluate_order(inst, baseline, RushOrder("widget", 15, "W3", price=30))
    assert a.feasible and a.earliest_period == "W2" and a.ctp_quantity == pytest.approx(90.0)
    assert sorted(builds) == [15.0, 30.0, 120.0]
    assert len(a.runs) >= 4  # two CTP runs, the plan, at least one probe
