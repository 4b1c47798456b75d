"""One behavioural test per docs/model.md mechanism (§4 items 1–9, §5 terms).

Each test solves a tiny instance of `instances/tiny/<mechanism>/` whose data force exactly that
constraint to bind. The optimum is derived by hand in the docstring; the test asserts the
objective and only the primal facts that are unique at the optimum.

Conventions of the derivations: periods are labelled 1..n; "margin" = price − unit_cost; cash
is ample (initial 10000) unless the instance is about cash, so the cash rows never bind there.
"""

from __future__ import annotations

import pytest
from helpers import TINY, approx, plan_value

from solver import load_instance, solve
from solver.analysis.checker import assert_plan_ok
from solver.engine.status import Status

pytestmark = pytest.mark.solver



def plan(name: str):
    """Solve `instances/tiny/<name>` and check it is optimal and passes the independent checker."""
    r = solve(load_instance(TINY / name))
    assert r.status == Status.OPTIMAL, r.status
    assert_plan_ok(r)
    return r


def v(r, table: str, column: str, **where) -> float:
    return plan_value(r, table, column, **where)


# --------------------------------------------------------------------------- §4.1, §4.2 stock


def test_made_item_lead_time():
    """§4.1: P has lead time 1; demand (lost) 3, 5, 4 at price 20; unit_cost 10, holding 1.

    A start in t is available in t+1, and no start exists in period 3 (it would finish after
    n = 3). Period 1's demand cannot be met: lost 3. Periods 2 and 3 are served by starts in
    1 and 2 (just in time: producing earlier only adds holding 1 per unit and period).
        profit = (5 + 4)·(20 − 10) = 90
    Unique: x = (5, 4) in periods 1, 2; closing stock 0 everywhere (the pipeline is not stock).
    """
    r = plan("made_lead_time")
    assert r.objective == approx(90.0)
    assert v(r, "production", "quantity", t=1) == approx(5.0)
    assert v(r, "production", "quantity", t=2) == approx(4.0)
    assert v(r, "production", "available_t", t=1) == 2
    assert v(r, "sales", "lost", t=1) == approx(3.0)
    assert v(r, "inventory", "closing", item="P", t=1) == approx(0.0)


def test_material_lead_time_and_open_orders():
    """§4.2: P (unit_cost 1, lead 0) needs 1 M; M costs 5, lead time 1; an open order brings 4 M
    in period 1 at no cost. Demand (lost) 6 and 3 at price 20; n = 2.

    Period 1: an order placed in 1 arrives in 2, so only the 4 open-order units exist: make and
    sell 4, lose 2. Period 2: order 3 in period 1 (an order in 2 would arrive after n), make
    and sell 3.
        profit = 7·20 − 7·1 (making P) − 3·5 (buying M) = 140 − 7 − 15 = 118
    Unique: x = (4, 3), q = 3 ordered in period 1 arriving in 2, lost 2 in period 1.
    """
    r = plan("material_lead_time")
    assert r.objective == approx(118.0)
    assert v(r, "production", "quantity", t=1) == approx(4.0)
    assert v(r, "production", "quantity", t=2) == approx(3.0)
    assert v(r, "purchases", "quantity", item="M", t=1) == approx(3.0)
    assert v(r, "purchases", "arrival_t", item="M", t=1) == 2
    assert v(r, "inventory", "open_orders", item="M", t=1) == approx(4.0)
    assert v(r, "sales", "lost", t=1) == approx(2.0)
    assert v(r, "pnl", "purchases") == approx(15.0)


# --------------------------------------------------------------------------- §4.3 demand


def test_demand_must_ships_at_a_loss():
    """§4.3 must: 3 units must ship at price 5 though each costs 10 to make.
        profit = 3·(5 − 10) = −15      (a lost channel would ship 0 and earn 0)
    Unique: shipped 3, made 3.
    """
    r = plan("demand_must")
    assert r.objective == approx(-15.0)
    assert v(r, "sales", "shipped") == approx(3.0)
    assert v(r, "production", "quantity") == approx(3.0)


def test_demand_lost_with_lost_cost():
    """§4.3 lost: capacity 5 h at 1 h/unit, unit_cost 0; channel a: 4 at price 10, lost_cost 0;
    channel b: 4 at price 8, lost_cost 5. A unit to b is worth 8 + 5 = 13 (revenue plus the
    lost_cost avoided), to a 10. So b gets 4, a gets 1 and loses 3 (free).
        profit = 4·8 + 1·10 − 3·0 = 42      (a first would give 4·10 + 1·8 − 3·5 = 33)
    Unique: shipped b 4, a 1; lost a 3, b 0.
    """
    r = plan("demand_lost")
    assert r.objective == approx(42.0)
    assert v(r, "sales", "shipped", channel="b") == approx(4.0)
    assert v(r, "sales", "shipped", channel="a") == approx(1.0)
    assert v(r, "sales", "lost", channel="a") == approx(3.0)
    assert v(r, "sales", "lost", channel="b") == approx(0.0)


def test_demand_backlog_carried_price_and_end_loss():
    """§4.3 backlog: one demand row, 7 units in period 1 at price 20; capacity 2 units a period,
    unit_cost 10, backlog_cost 1 per unit and period, lost_cost 3; n = 3.

    Every unit made is shipped at once (margin 10 > 0, the carried-forward price 20 applies to
    the late shipments in 2 and 3): shipped 2, 2, 2; backlog b = 7−2, 5−2, 3−2 = 5, 3, 1; the
    last unit is still owed at n and is lost, paying lost_cost 3 (plus its backlog cost in 3).
        profit = 6·(20 − 10) − (5 + 3 + 1)·1 − 1·3 = 60 − 9 − 3 = 48
    Unique: x = v = (2, 2, 2), b = (5, 3, 1), lost 1 in period 3, revenue 40 in period 2.
    """
    r = plan("demand_backlog")
    assert r.objective == approx(48.0)
    for t, b in ((1, 5.0), (2, 3.0), (3, 1.0)):
        assert v(r, "sales", "shipped", t=t) == approx(2.0)
        assert v(r, "sales", "backlog", t=t) == approx(b)
    assert v(r, "sales", "lost", t=3) == approx(1.0)
    assert v(r, "sales", "revenue", t=2) == approx(40.0)
    assert v(r, "sales", "revenue", t=3) == approx(40.0)
    assert v(r, "pnl", "backlog") == approx(9.0)
    assert v(r, "pnl", "lost") == approx(3.0)


def test_infeasible_must_demand_is_a_status():
    """§7: 10 units must ship, capacity makes 5: no plan. Status infeasible, no exception."""
    r = solve(load_instance(TINY / "infeasible_must"))
    assert r.status == Status.INFEASIBLE
    assert not r.status.has_plan


# --------------------------------------------------------------------------- §4.4 capacity


def test_capacity_with_overtime():
    """§4.4: capacity 10 h, overtime ≤ 3 h at 2/h, 1 h/unit; demand 15 (lost), margin 10.
    An overtime unit earns 10 − 2 = 8 > 0, so all 13 hours are used, 2 units are lost.
        profit = 13·10 − 3·2 = 124
    Unique: x = 13, overtime 3, lost 2.
    """
    r = plan("capacity_overtime")
    assert r.objective == approx(124.0)
    assert v(r, "production", "quantity") == approx(13.0)
    assert v(r, "capacity", "overtime") == approx(3.0)
    assert v(r, "sales", "lost") == approx(2.0)


def test_capacity_reserve():
    """§4.4: capacity 10 h with reserve 0.2: the plan may use (1 − 0.2)·10 = 8 h; demand 15,
    margin 10.
        profit = 8·10 = 80
    Unique: x = 8, used 8 h, lost 7.
    """
    r = plan("capacity_reserve")
    assert r.objective == approx(80.0)
    assert v(r, "production", "quantity") == approx(8.0)
    assert v(r, "capacity", "used") == approx(8.0)
    assert v(r, "sales", "lost") == approx(7.0)


def test_capacity_per_period_override():
    """§2 capacity.csv: 10 h a period, overridden to 4 h in period 2; demand 6, 8 (lost), margin
    10, holding 1. Period 2 makes 4; the other 4 are built in period 1 (10 h = 6 + 4) and held
    one period (margin 10 − 1 = 9 > 0).
        profit = 14·10 − 4·1 = 136      (without the override: 140, x = (6, 8))
    Unique: x = (10, 4), closing stock 4 after period 1.
    """
    r = plan("capacity_override")
    assert r.objective == approx(136.0)
    assert v(r, "production", "quantity", t=1) == approx(10.0)
    assert v(r, "production", "quantity", t=2) == approx(4.0)
    assert v(r, "inventory", "closing", t=1) == approx(4.0)
    assert v(r, "capacity", "available", t=2) == approx(4.0)


# --------------------------------------------------------------------------- §4.5 setups and lots


def test_setup_cost_lot_sizing():
    """§4.5 classic lot sizing: must demand 10, 10, 20 at price 0; setup cost 30, holding 1,
    no production cost. Total cost of each setup pattern (setup + holding):
        {1}: 30 + (30 + 20) = 80      {1,2}: 60 + (0 + 20) = 80
        {1,3}: 60 + (10 + 0) = 70     {2,3}, {2}, {3}: infeasible (period 1 needs a setup)
        {1,2,3}: 90
    Best {1,3}: profit = −70. Unique: x = (20, 0, 20), setups in 1 and 3.
    """
    r = plan("setup_lot_sizing")
    assert r.objective == approx(-70.0)
    assert v(r, "production", "quantity", t=1) == approx(20.0)
    assert v(r, "production", "quantity", t=2) == approx(0.0)
    assert v(r, "production", "quantity", t=3) == approx(20.0)
    assert v(r, "production", "setup", t=2) == approx(0.0)


def test_setup_hours_eat_capacity():
    """§4.4–4.5: capacity 10 h, a setup takes 2 h, 1 h/unit; demand 15 (lost), margin 10.
    Producing at all needs the setup: 8 units fit.
        profit = 8·10 = 80
    Unique: x = 8, one setup, 10 h used.
    """
    r = plan("setup_hours")
    assert r.objective == approx(80.0)
    assert v(r, "production", "quantity") == approx(8.0)
    assert v(r, "production", "setup") == approx(1.0)
    assert v(r, "capacity", "used") == approx(10.0)


def test_min_lot_forces_a_larger_lot():
    """§4.5: min_lot 10; demand 4 (lost) at price 20; unit_cost 1, holding 1, n = 1.
    Making nothing earns 0; a lot of 10 earns 4·20 − 10·1 − 6·1 (the 6 left in stock) = 64.
    A larger lot only adds cost.
        profit = 64
    Unique: x = 10, closing stock 6.
    """
    r = plan("min_lot")
    assert r.objective == approx(64.0)
    assert v(r, "production", "quantity") == approx(10.0)
    assert v(r, "inventory", "closing", item="P") == approx(6.0)


# --------------------------------------------------------------------------- §4.6 orders


def test_moq_forces_a_larger_order():
    """§4.6: P needs 1 M; M's moq is 10 at 2 each; demand 4 (lost) at price 20; n = 1.
    Ordering the minimum 10 and selling 4: 4·20 − 10·2 = 60 (nothing: 0).
        profit = 60
    Unique: q = 10 (more only costs), x = 4, M closing stock 6.
    """
    r = plan("moq")
    assert r.objective == approx(60.0)
    assert v(r, "purchases", "quantity", item="M") == approx(10.0)
    assert v(r, "production", "quantity") == approx(4.0)
    assert v(r, "inventory", "closing", item="M") == approx(6.0)


def test_order_cost_batches_orders():
    """§4.6: must demand 5, 5 of P (price 0); P needs 1 M; M costs 1, order_cost 15, holding 1;
    holding P costs 2; lead times 0. Options (cost):
        order in both periods:        2·15 + 10·1                = 40
        one order of 10 in 1, hold M:   15 + 10·1 + 5·1 (M, end 1) = 30
        one order, make 10 P in 1:      15 + 10·1 + 5·2 (P, end 1) = 35
    profit = −30. Unique: one order of 10 in period 1; x = (5, 5); M stock 5 after period 1.
    """
    r = plan("order_cost")
    assert r.objective == approx(-30.0)
    assert v(r, "purchases", "quantity", item="M", t=1) == approx(10.0)
    assert v(r, "purchases", "quantity", item="M", t=2) == approx(0.0)
    assert v(r, "purchases", "order_placed", item="M", t=2) == approx(0.0)
    assert v(r, "production", "quantity", t=1) == approx(5.0)
    assert v(r, "production", "quantity", t=2) == approx(5.0)
    assert v(r, "inventory", "closing", item="M", t=1) == approx(5.0)


# --------------------------------------------------------------------------- §4.7 stock targets


def test_hard_safety_stock():
    """§4.7 hard: safety stock 3 in every period; must demand 5, 5 at price 20; unit_cost 10,
    holding 1. s1 ≥ 3 needs x1 ≥ 8; s2 ≥ 3 needs x1 + x2 ≥ 13; cheapest x = (8, 5), s = (3, 3).
        profit = 10·20 − 13·10 − (3 + 3)·1 = 200 − 130 − 6 = 64
    Unique: x = (8, 5), closing stock (3, 3).
    """
    r = plan("safety_hard")
    assert r.objective == approx(64.0)
    assert v(r, "production", "quantity", t=1) == approx(8.0)
    assert v(r, "production", "quantity", t=2) == approx(5.0)
    assert v(r, "inventory", "closing", t=1) == approx(3.0)
    assert v(r, "inventory", "closing", t=2) == approx(3.0)


def test_soft_safety_stock_shortfall_when_cheaper():
    """§4.7 soft: safety stock 3 with penalty 2 per unit short per period; must demand 5, 5 at
    price 20; unit_cost 10, holding 1; no terminal value.
    Period 1: a unit of stock costs only holding 1 (it is sold in period 2 instead of a unit
    made there) < penalty 2: hold 3. Period 2: a unit of ending stock costs 10 + 1 > 2: take the
    shortfall 3.
        profit = 200 − 10·10 − 3·1 (holding) − 3·2 (penalty) = 91
    Unique: x = (8, 2), stock (3, 0), shortfall (0, 3).
    """
    r = plan("safety_soft")
    assert r.objective == approx(91.0)
    assert v(r, "production", "quantity", t=1) == approx(8.0)
    assert v(r, "production", "quantity", t=2) == approx(2.0)
    assert v(r, "inventory", "closing", t=1) == approx(3.0)
    assert v(r, "inventory", "shortfall", t=1) == approx(0.0)
    assert v(r, "inventory", "shortfall", t=2) == approx(3.0)
    assert v(r, "pnl", "safety") == approx(6.0)


def test_max_stock_forces_later_production():
    """§4.7: must demand 10, 10 (price 0); setup cost 50, holding 1, max_stock 5.
    Unlimited, one lot of 20 in period 1 would cost 50 + 10 = 60. With s1 ≤ 5 a lot in period 1
    covers at most 15, so period 2 needs its own setup: cost 100 + (x1 − 10), best x1 = 10.
        profit = −100
    Unique: x = (10, 10), closing stock 0 after period 1.
    """
    r = plan("max_stock")
    assert r.objective == approx(-100.0)
    assert v(r, "production", "quantity", t=1) == approx(10.0)
    assert v(r, "production", "quantity", t=2) == approx(10.0)
    assert v(r, "inventory", "closing", t=1) == approx(0.0)


def test_stock_targets_override():
    """§2 stock_targets.csv, §4.7: must demand 5, 5, 5 at price 20; unit_cost 10, holding 1;
    max_stock 2, but period 2's row sets min 4 and max 6. Period 2 must close with 4 (made in
    period 2: cheapest), which is then sold in period 3. (Without the max override min 4 > max 2
    would be infeasible.)
        profit = 15·(20 − 10) − 4·1 = 146
    Unique: x = (5, 9, 1), stock (0, 4, 0).
    """
    r = plan("stock_targets")
    assert r.objective == approx(146.0)
    for t, x, s in ((1, 5.0, 0.0), (2, 9.0, 4.0), (3, 1.0, 0.0)):
        assert v(r, "production", "quantity", t=t) == approx(x)
        assert v(r, "inventory", "closing", t=t) == approx(s)
    assert v(r, "inventory", "target_min", t=2) == approx(4.0)
    assert v(r, "inventory", "target_max", t=2) == approx(6.0)


# --------------------------------------------------------------------------- §4.8 cash


def test_min_cash_forces_a_loan_with_interest():
    """§4.8: cash 50, min_balance 20, credit 1000 at 5% a period. Must demand 10 at price 30,
    collected one period later; unit_cost 10. Period 1 pays 100: c1 = 50 − 100 + λ1 ≥ 20 gives
    λ1 ≥ 70; interest 0.05·λ1 is paid in period 2 (none on λ2), so λ1 = 70.
        profit = 300 − 100 − 0.05·70 = 196.5
    Unique: λ1 = 70, closing cash 20 in period 1, interest 3.5 in period 2 (λ2 is not unique).
    """
    r = plan("cash_loan_interest")
    assert r.objective == approx(196.5)
    assert v(r, "cash", "loan", t=1) == approx(70.0)
    assert v(r, "cash", "closing", t=1) == approx(20.0)
    assert v(r, "cash", "interest", t=2) == approx(3.5)
    assert v(r, "cash", "receipts", t=2) == approx(300.0)


def test_collection_lag_delays_receipts():
    """§4.8: cash 100, no credit; sales (lost) 15 and 15 at price 30 are collected one period
    after shipment; unit_cost 10. Period 1 can pay for 10 units (c1 = 100 − 10·x1 ≥ 0, nothing
    collected yet): sell 10, lose 5. Period 2: 300 collected pays for 15 units. Period 2's
    revenue 450 counts in profit although collected after n (a closing receivable).
        profit = 25·(30 − 10) = 500
    Unique: x = (10, 15) (any stock carried to period 2 would lower period-1 sales and hence
    the cash that funds period 2), lost 5 in period 1, receivables 450, closing cash 150.
    """
    r = plan("collection_lag")
    assert r.objective == approx(500.0)
    assert v(r, "production", "quantity", t=1) == approx(10.0)
    assert v(r, "production", "quantity", t=2) == approx(15.0)
    assert v(r, "sales", "lost", t=1) == approx(5.0)
    assert v(r, "cash", "receipts", t=1) == approx(0.0)
    assert v(r, "balances", "receivables") == approx(450.0)
    assert v(r, "balances", "cash") == approx(150.0)


def test_payment_terms_pay_later():
    """§4.8: no cash, no credit; sale (lost) 5 at price 30 in period 1, collected in period 2;
    P needs 1 M (10 each, paid one period after arrival). Buying, making and selling in period
    1 costs no cash in period 1; period 2 receives 150 and pays 50.
        profit = 5·30 − 5·10 = 100      (with cash terms: nothing can be bought, profit 0)
    Unique: q = 5 and x = 5 in period 1; materials paid 50 in period 2, 0 in period 1.
    """
    r = plan("pay_later")
    assert r.objective == approx(100.0)
    assert v(r, "purchases", "quantity", t=1) == approx(5.0)
    assert v(r, "production", "quantity", t=1) == approx(5.0)
    assert v(r, "cash", "pay_materials", t=1) == approx(0.0)
    assert v(r, "cash", "pay_materials", t=2) == approx(50.0)


def test_payment_terms_prepay():
    """§4.8: M has lead time 1 and terms lag −1 (paid one period before arrival, i.e. at order).
    No cash; credit 1000 at 10%. Demand (lost) 5 at price 30 in period 2, collected at once.
    Order 5 M in period 1 (arrive in 2), paid 50 in period 1: borrow λ1 = 50; interest 5 in 2.
        profit = 150 − 50 − 0.1·50 = 95      (cash-on-arrival terms: 100, no loan)
    Unique: q = 5 in period 1, materials paid 50 in period 1, λ1 = 50, interest 5, x2 = 5.
    """
    r = plan("prepay")
    assert r.objective == approx(95.0)
    assert v(r, "purchases", "quantity", t=1) == approx(5.0)
    assert v(r, "cash", "pay_materials", t=1) == approx(50.0)
    assert v(r, "cash", "pay_materials", t=2) == approx(0.0)
    assert v(r, "cash", "loan", t=1) == approx(50.0)
    assert v(r, "cash", "interest", t=2) == approx(5.0)
    assert v(r, "production", "quantity", t=2) == approx(5.0)


def test_credit_limit_gives_up_a_profitable_sale():
    """§4.8: no cash, credit limit 40 (no interest); demand (lost) 5 at price 30 in period 1,
    collected in period 2; unit_cost 10. Period 1's production is financed by the loan only:
    10·x1 ≤ 40, so 4 units; the fifth (margin 20) is given up.
        profit = 4·20 = 80
    Unique: x1 = 4, lost 1, λ1 = 40.
    """
    r = plan("credit_limit")
    assert r.objective == approx(80.0)
    assert v(r, "production", "quantity", t=1) == approx(4.0)
    assert v(r, "sales", "lost", t=1) == approx(1.0)
    assert v(r, "cash", "loan", t=1) == approx(40.0)


# --------------------------------------------------------------------------- §4.9 budget


def test_budget_per_period_ceiling():
    """§4.9: production line ceiling 40 in period 1 (none in 2); demand (lost) 6, 6 at price 30;
    unit_cost 10, holding 1. Period 1 commits 10·x1 ≤ 40: 4 units, lose 2; period 2 makes 6
    (making them in period 1 is impossible under the ceiling anyway).
        profit = 10·20 = 200
    Unique: x = (4, 6), lost 2 in period 1, 40 allocated and spent in period 1.
    """
    r = plan("budget_period_ceiling")
    assert r.objective == approx(200.0)
    assert v(r, "production", "quantity", t=1) == approx(4.0)
    assert v(r, "production", "quantity", t=2) == approx(6.0)
    assert v(r, "sales", "lost", t=1) == approx(2.0)
    assert v(r, "budget", "spent", t=1) == approx(40.0)
    assert v(r, "budget", "allocated", t=1) == approx(40.0)


def test_budget_horizon_ceiling():
    """§4.9: production line ceiling 100 over the horizon (10 units); demand (lost) 6 at 30 in
    period 1, 6 at 25 in period 2; unit_cost 10, holding 1. Serve period 1 fully (margin 20),
    then 4 in period 2 (margin 15), made in period 2 (no holding).
        profit = 6·20 + 4·15 = 180
    Unique: x = (6, 4), lost 2 in period 2, 100 spent in total.
    """
    r = plan("budget_horizon_ceiling")
    assert r.objective == approx(180.0)
    assert v(r, "production", "quantity", t=1) == approx(6.0)
    assert v(r, "production", "quantity", t=2) == approx(4.0)
    assert v(r, "sales", "lost", t=2) == approx(2.0)
    assert v(r, "budget", "spent") == approx(100.0)


def test_budget_carryover_changes_the_optimum():
    """§4.9, same data with and without carryover: ceilings 100 (period 1) and 20 (period 2) on
    the production line; demand (lost) 10 at 30 in period 2 only; unit_cost 10, holding 1.

    Without carryover: period 2 may spend 20 (2 units); 8 are made in period 1 and held one
    period (margin 20 − 1 = 19 > 0).
        profit = 10·20 − 8·1 = 192;   x = (8, 2)
    With carryover: Σ_{τ≤2} spend ≤ a1 + a2 ≤ 120, so period 1's unspent allocation is spent in
    period 2 and all 10 are made just in time.
        profit = 10·20 = 200;   x = (0, 10)
    """
    no = plan("budget_carryover_false")
    assert no.objective == approx(192.0)
    assert v(no, "production", "quantity", t=1) == approx(8.0)
    assert v(no, "production", "quantity", t=2) == approx(2.0)
    assert v(no, "inventory", "closing", t=1) == approx(8.0)
    yes = plan("budget_carryover_true")
    assert yes.objective == approx(200.0)
    assert v(yes, "production", "quantity", t=1) == approx(0.0)
    assert v(yes, "production", "quantity", t=2) == approx(10.0)
    assert v(yes, "budget", "spent", t=2) == approx(100.0)


def test_budget_pool_shared_by_lines():
    """§4.9: pool 60 over all lines; a unit of P takes 4 of procurement (its M) and 2 of
    production; demand (lost) 20 at price 10, margin 10 − 6 = 4. The pool buys 60 / 6 = 10 units.
        profit = 10·4 = 40
    Unique: q = x = 10, lost 10; procurement spends 40, production 20.
    """
    r = plan("budget_pool")
    assert r.objective == approx(40.0)
    assert v(r, "production", "quantity") == approx(10.0)
    assert v(r, "purchases", "quantity") == approx(10.0)
    assert v(r, "sales", "lost") == approx(10.0)
    assert v(r, "budget", "spent", line="procurement") == approx(40.0)
    assert v(r, "budget", "spent", line="production") == approx(20.0)
    assert v(r, "budget", "allocated") == approx(60.0)


def test_budget_emergency_pool_with_premium():
    """§4.9, §5: ceiling 40 in period 1 (4 units at unit_cost 10); emergency pool 30 at premium
    0.5 per unit of budget drawn; demand (lost) 10 at price 30. An emergency-funded unit earns
    20 − 10·0.5 = 15 > 0, so the whole pool is drawn: 3 more units.
        profit = 7·20 − 30·0.5 = 125
    Unique: x = 7, emergency 30, lost 3.
    """
    r = plan("budget_emergency")
    assert r.objective == approx(125.0)
    assert v(r, "production", "quantity") == approx(7.0)
    assert v(r, "budget", "emergency") == approx(30.0)
    assert v(r, "sales", "lost") == approx(3.0)
    assert v(r, "pnl", "emergency") == approx(15.0)


def test_budget_fixed_costs_committed_every_period():
    """§4.9, §7: R's fixed cost 30 is committed to the production line in both periods; ceiling
    50 a period; demand (lost) 5 at price 30 in period 1 only; unit_cost 10, holding 1.
    Period 1: 30 + 10·x1 ≤ 50, x1 = 2. Period 2 pays 30 with nothing to make.
        profit = 2·20 − 2·30 = −20
    Unique: x1 = 2, lost 3; 50 spent in period 1, 30 in period 2.
    """
    r = plan("budget_fixed_costs")
    assert r.objective == approx(-20.0)
    assert v(r, "production", "quantity", t=1) == approx(2.0)
    assert v(r, "sales", "lost", t=1) == approx(3.0)
    assert v(r, "budget", "spent", t=1) == approx(50.0)
    assert v(r, "budget", "spent", t=2) == approx(30.0)
    assert v(r, "cash", "pay_fixed", t=2) == approx(30.0)


# --------------------------------------------------------------------------- §5 objective terms


def test_terminal_value():
    """§5, §7: terminal_value 0.5; P: unit_cost 10, min_lot 10, demand (lost) 4 at price 20;
    M: unit_cost 4, initial stock 3, used by nothing. A lot of 10 earns 4·20 − 10·10 + 6·5 = 10
    (> 0: without the terminal value it would be −20 and nothing would be made); M's 3 units
    add 3·0.5·4 = 6.
        profit = 10 + 6 = 16
    Unique: x = 10, P closing 6, M closing 3, terminal value 36.
    """
    r = plan("terminal_value")
    assert r.objective == approx(16.0)
    assert v(r, "production", "quantity") == approx(10.0)
    assert v(r, "inventory", "closing", item="P") == approx(6.0)
    assert v(r, "inventory", "closing", item="M") == approx(3.0)
    assert v(r, "pnl", "terminal") == approx(36.0)


def test_holding_cost():
    """§5: capacity 4 a period; demand (lost) 10 in period 3 only at price 15; unit_cost 10
    (margin 5), holding 3 per unit and period. Made in 3: +5; in 2: 5 − 3 = +2; in 1: 5 − 6 = −1.
        profit = 4·5 + 4·2 = 28
    Unique: x = (0, 4, 4), stock (0, 4, 0), lost 2.
    """
    r = plan("holding_cost")
    assert r.objective == approx(28.0)
    assert v(r, "production", "quantity", t=1) == approx(0.0)
    assert v(r, "production", "quantity", t=2) == approx(4.0)
    assert v(r, "production", "quantity", t=3) == approx(4.0)
    assert v(r, "inventory", "closing", t=2) == approx(4.0)
    assert v(r, "sales", "lost", t=3) == approx(2.0)
    assert v(r, "pnl", "holding") == approx(12.0)


def test_alternative_routing_chosen_by_cost():
    """§2 routings, §5: P by routing a (plant A, setup 30) or b (plant B, setup 12), capacity
    unlimited; demand (lost) 8 at price 20, unit_cost 10. Only one setup is needed; b's is
    cheaper.
        profit = 8·10 − 12 = 68
    Unique: routing b makes 8, routing a nothing.
    """
    r = plan("alt_routing")
    assert r.objective == approx(68.0)
    assert v(r, "production", "quantity", routing="b") == approx(8.0)
    assert v(r, "production", "quantity", routing="a") == approx(0.0)
    assert v(r, "production", "setup", routing="a") == approx(0.0)


def test_multi_step_routing_uses_both_resources():
    """§2 routings, §4.4: one routing with two steps, R1 (1 h/unit, setup 0 h, cost 5; 10 h) and
    R2 (2 h/unit, setup 2 h, cost 3; 12 h); demand (lost) 10 at price 20, unit_cost 10.
    R2 binds: 2·x + 2 ≤ 12, x = 5 (R1 needs 5 ≤ 10). The setup costs 5 + 3 = 8.
        profit = 5·10 − 8 = 42
    Unique: x = 5, R1 uses 5 h, R2 uses 12 h.
    """
    r = plan("multi_step_routing")
    assert r.objective == approx(42.0)
    assert v(r, "production", "quantity") == approx(5.0)
    assert v(r, "capacity", "used", resource="R1") == approx(5.0)
    assert v(r, "capacity", "used", resource="R2") == approx(12.0)
    assert v(r, "pnl", "setup") == approx(8.0)
