"""The independent checker (solver/analysis/checker.py): solved plans pass it, corrupted plans do not.

The FULL instance exercises every mechanism of docs/model.md at once: a two-level BOM with lead
times, alternative routings (the alternative's first step on another budget line), setups and
min lots, a material with MOQ, order cost and prepayment terms, collection lags, backlog / lost /
must channels (one channel named only in demand), a carried-forward price, a second demand
scenario that must be ignored, overtime and a reserve, per-period capacity, a carryover line
whose later ceiling forces early allocation, an emergency pool, a credit line with interest on
an initial loan, soft and hard stock targets, a max-stock target, repeated BOM rows and open
orders that add up, per-period overhead and minimum cash, and terminal value of ending stock.
Each corruption test changes one number of one table and expects the family's check to fire.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from helpers import write_instance

from solver import load_instance, solve
from solver.analysis.checker import Violation, assert_plan_ok, check_plan

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[1]

FULL_TOML = """\
name = "checker-full"
currency = "CNY"
periods = ["P1", "P2", "P3", "P4", "P5"]

[cash]
initial = 500
min_balance = 0
credit_limit = 5000
interest_rate = 0.01
initial_loan = 100
overhead = 10

[budget]
pool = 100000
emergency_pool = 100
emergency_premium = 0.5

[policy]
terminal_value = 0.5
"""

FULL_TABLES = {
    "items": """\
        item,kind,unit_cost,holding_cost,initial_stock,safety_stock,safety_penalty,lead_time,min_lot,moq,order_cost,terms,budget_line,max_stock
        bike,product,10,1,5,2,50,1,10,,,,,
        gadget,product,20,0.5,0,,,0,,,,,,
        frame,component,4,0.5,0,,,1,,,,,,200
        steel,material,2,1.5,0,,,1,,50,30,PRE,,
        paint,material,1,0.05,20,,,0,,,5,NET2,paint_line,
        """,
    "demand": """\
        product,channel,period,quantity,price,scenario
        bike,retail,P1,20,100,
        bike,retail,P2,20,100,
        bike,retail,P4,25,110,
        bike,retail,P5,20,110,
        bike,retail,P3,5,999,high
        bike,web,P1,5,120,
        bike,web,P2,10,120,
        bike,web,P3,10,120,
        bike,web,P4,10,120,
        bike,web,P5,10,120,
        gadget,key,P2,4,60,
        gadget,key,P3,4,60,
        gadget,retail,P3,3,70,
        gadget,retail,P5,3,,
        gadget,outlet,P4,2,50,
        """,
    "channels": """\
        channel,terms,service,backlog_cost,lost_cost
        retail,D2,backlog,20,15
        web,cash,lost,,5
        key,NET2,must,,
        """,
    "terms": """\
        terms,lag,share
        D2,1,0.5
        D2,2,0.5
        NET2,2,1
        PRE,-1,0.3
        PRE,1,0.7
        """,
    "bom": """\
        parent,child,quantity
        bike,frame,1
        bike,paint,2
        frame,steel,1
        frame,steel,2
        gadget,steel,1
        """,
    "resources": """\
        resource,plant,capacity,overtime_max,overtime_cost,reserve,fixed_cost,budget_line
        assembly,A,40,10,3,0.1,20,production
        press,,14,,,,5,press_line
        paintshop,B,inf,,,,,
        """,
    "capacity": """\
        resource,period,capacity
        assembly,P3,20
        """,
    "routings": """\
        item,routing,resource,hours_per_unit,setup_hours,setup_cost
        bike,alt,press,0.5,,
        bike,main,assembly,1,2,15
        bike,alt,assembly,0.8,,4
        frame,main,press,0.2,,10
        gadget,main,assembly,0.5,,
        gadget,main,paintshop,0.1,,
        """,
    "budget_lines": """\
        line,ceiling,carryover
        procurement,3000,true
        production,,false
        """,
    "budgets": """\
        line,period,ceiling
        production,P1,10
        procurement,P1,1000
        procurement,P2,50
        """,
    "cash_min": """\
        period,amount
        P5,50
        """,
    "overhead": """\
        period,amount
        P2,30
        """,
    "open_orders": """\
        item,period,quantity
        steel,P1,60
        steel,P1,40
        frame,P2,10
        paint,P5,30
        """,
    "stock_targets": """\
        item,period,min,max
        bike,P5,10,
        frame,P3,5,
        steel,P2,,500
        """,
}

# A classic cost-minimisation lot-sizing case: prices 0, must service, setups, integer periods.
LOTSIZE_TOML = """\
name = "lotsize"
periods = 6

[cash]
initial = 1e6
"""

LOTSIZE_TABLES = {
    "items": """\
        item,kind,unit_cost,holding_cost,initial_stock,lead_time,min_lot
        A,product,1,0.5,0,0,
        B,product,2,0.3,5,1,8
        m,material,0.5,0.01,30,1,
        """,
    "demand": """\
        product,channel,period,quantity
        A,c,1,10
        A,c,2,0
        A,c,3,15
        A,c,4,5
        A,c,5,20
        A,c,6,10
        B,c,1,5
        B,c,3,10
        B,c,6,10
        """,
    "channels": """\
        channel,service
        c,must
        """,
    "bom": """\
        parent,child,quantity
        A,m,1
        B,m,2
        """,
    "resources": """\
        resource,capacity
        r,30
        """,
    "routings": """\
        item,resource,hours_per_unit,setup_hours,setup_cost
        A,r,1,3,40
        B,r,1,2,25
        """,
}


def _solve(tmp_path_factory, name: str, toml: str, tables: dict[str, str], **opts):
    path = write_instance(tmp_path_factory.mktemp(name), toml, **tables)
    inst = load_instance(path)
    result = solve(inst, time_limit=60, **opts)
    assert result.status.has_plan, result.message
    return result


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    return _solve(tmp_path_factory, "full", FULL_TOML, FULL_TABLES)


@pytest.fixture(scope="module")
def lotsize(tmp_path_factory):
    return _solve(tmp_path_factory, "lotsize", LOTSIZE_TOML, LOTSIZE_TABLES)


def _checks(found: list[Violation]) -> set[str]:
    return {v.check for v in found}


# --------------------------------------------------------------------------- solved plans pass


def test_full_instance_plan_passes(full):
    assert_plan_ok(full)


def test_full_instance_exercises_the_features(full):
    """The plan really uses what the checker is meant to check (else a pass proves little)."""
    t = full.tables
    prod, pur, sales, cash, budget, cap, inv = (t[k] for k in ("production", "purchases", "sales", "cash", "budget", "capacity", "inventory"))
    assert ((prod["item"] == "bike") & (prod["routing"] == "alt") & (prod["quantity"] > 0)).any()
    assert ((prod["item"] == "bike") & (prod["routing"] == "main") & (prod["quantity"] > 0)).any()
    assert (pur["item"] == "steel").any() and (pur["item"] == "paint").any()
    assert (sales.loc[sales["service"] == "backlog", "backlog"] > 0).any()
    assert (sales.loc[sales["service"] == "lost", "lost"] > 0).any()
    assert ((sales["channel"] == "retail") & (sales["product"] == "bike") & (sales["period"] == "P3") & (sales["shipped"] > 0)).any(), "carried-forward price unused"
    assert (cap["overtime"] > 0).any()
    assert (cash["interest"] > 0).any() and (cash["pay_materials"] > 0).any()
    assert budget["emergency"].sum() > 0
    proc = budget[budget["line"] == "procurement"].set_index("t")
    assert proc.at[1, "allocated"] > proc.at[1, "spent"] + 1, "carryover line should pre-allocate"
    assert (inv["shortfall"] > 0).any()
    assert full.tables["pnl"]["terminal"].sum() > 0


def test_lot_sizing_plan_passes_and_cost_is_minus_profit(lotsize):
    assert_plan_ok(lotsize)
    pnl = lotsize.tables["pnl"]
    assert pnl["revenue"].sum() == 0
    assert (lotsize.tables["production"]["setup"] == 1).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_tiny_plans_pass(generated_tiny, seed):
    result = solve(load_instance(generated_tiny[seed]), time_limit=20)
    assert result.status.has_plan, result.message
    assert_plan_ok(result)


def test_appliance_plan_passes():
    """A time-limited plan of the shipped instance must still close every balance."""
    path = ROOT / "instances" / "appliance"
    if not (path / "instance.toml").exists():
        pytest.skip("instances/appliance not present")
    result = solve(load_instance(path), time_limit=15)
    if not result.status.has_plan:
        pytest.skip(f"no plan within the time limit: {result.message}")
    assert_plan_ok(result)


def test_plan_read_back_from_csv_passes(full, tmp_path):
    """The checker works on the CSV files the CLI writes, read back with pandas."""
    for name, df in full.tables.items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    tables = {p.stem: pd.read_csv(p) for p in tmp_path.glob("*.csv")}
    assert check_plan(full.instance, tables, objective=full.objective) == []


# --------------------------------------------------------------------------- corrupted plans fail


def _row(df: pd.DataFrame, mask) -> int:
    idx = df.index[mask]
    assert len(idx), "the corruption found no row to change"
    return idx[0]


def _bump(table: str, col: str, where: Callable[[pd.DataFrame], pd.Series], by: float = 1.0, to: float | None = None):
    def mutate(tables):
        df = tables[table]
        i = _row(df, where(df))
        df.loc[i, col] = to if to is not None else df.loc[i, col] + by
    return mutate


def _append(table: str, row: dict):
    def mutate(tables):
        tables[table] = pd.concat([tables[table], pd.DataFrame([row])], ignore_index=True)
    return mutate


def _tp(t: int, label: str) -> dict:
    return {"t": t, "period": label}


CORRUPTIONS = {
    # stock balances and targets
    "closing stock": (_bump("inventory", "closing", lambda d: (d["item"] == "bike") & (d["t"] == 3)), "stock.balance"),
    "material stock": (_bump("inventory", "closing", lambda d: (d["item"] == "steel") & (d["t"] == 2), by=2), "stock.balance"),
    "shortfall without penalty": (_bump("inventory", "shortfall", lambda d: (d["item"] == "frame") & (d["t"] == 3)), "stock.shortfall_not_allowed"),
    "soft target": (_bump("inventory", "shortfall", lambda d: (d["item"] == "bike") & (d["shortfall"] > 0), to=0.0), "stock.target_min"),
    # starts, setups, lots, orders
    "setup missing": (_bump("production", "setup", lambda d: (d["item"] == "frame") & (d["quantity"] > 0), to=0), "production.setup"),
    "min lot": (_bump("production", "quantity", lambda d: (d["item"] == "bike") & (d["quantity"] > 0), to=4.0), "production.min_lot"),
    "start after horizon": (_append("production", {"item": "bike", "routing": "main", **_tp(5, "P5"), "quantity": 12.0, "setup": 1}), "production.horizon"),
    "moq": (_bump("purchases", "quantity", lambda d: d["item"] == "steel", to=20.0), "purchases.moq"),
    "order after horizon": (_append("purchases", {"item": "steel", **_tp(5, "P5"), "quantity": 60.0, "order_placed": 1}), "purchases.horizon"),
    "routing budget line": (_bump("production", "budget_line", lambda d: d["routing"] == "alt", to="production"), "production.budget_line"),
    # capacity
    "capacity used": (_bump("capacity", "used", lambda d: d["resource"] == "assembly", by=1), "capacity.used"),
    "overtime removed": (_bump("capacity", "overtime", lambda d: d["overtime"] > 0, to=0.0), "capacity.limit"),
    "overtime above max": (_bump("capacity", "overtime", lambda d: d["resource"] == "assembly", to=11.0), "capacity.overtime_max"),
    # demand by service
    "lost shipment": (_bump("sales", "shipped", lambda d: (d["service"] == "lost") & (d["shipped"] > 0), by=-1), "sales.lost"),
    "backlog": (_bump("sales", "backlog", lambda d: (d["service"] == "backlog") & (d["backlog"] > 0), by=1), "sales.backlog"),
    "must shipment": (_bump("sales", "shipped", lambda d: d["service"] == "must", by=-1), "sales.must"),
    "end backlog lost": (_bump("sales", "lost", lambda d: (d["service"] == "backlog") & (d["t"] == 5), by=1), "sales.backlog_lost"),
    "shipment before first demand": (_append("sales", {"product": "gadget", "channel": "retail", **_tp(2, "P2"), "demand": 0.0, "shipped": 1.0, "backlog": 0.0, "lost": 0.0}), "sales.before_first_demand"),
    "carried price": (_bump("sales", "price", lambda d: (d["product"] == "bike") & (d["channel"] == "retail") & (d["t"] == 3), to=999.0), "sales.price"),
    # cash
    "cash receipt": (_bump("cash", "receipts", lambda d: d["receipts"] > 0, by=10), "cash.receipts"),
    "material payment": (_bump("cash", "pay_materials", lambda d: d["pay_materials"] > 0, by=1), "cash.pay_materials"),
    "closing cash": (_bump("cash", "closing", lambda d: d["t"] == 3, by=5), "cash.balance"),
    "interest": (_bump("cash", "interest", lambda d: d["t"] == 1, to=0.0), "cash.interest"),
    "loan above credit": (_bump("cash", "loan", lambda d: d["t"] == 2, to=6000.0), "cash.credit_limit"),
    "cash below minimum": (_bump("cash", "closing", lambda d: d["t"] == 5, to=10.0), "cash.minimum"),
    # budget
    "allocation cut": (_bump("budget", "allocated", lambda d: (d["line"] == "production") & (d["t"] == 2), by=-5), "budget.commitment"),
    "carryover allocation cut": (_bump("budget", "allocated", lambda d: (d["line"] == "procurement") & (d["t"] == 1), by=-100), "budget.commitment"),
    "spent": (_bump("budget", "spent", lambda d: (d["line"] == "press_line") & (d["t"] == 1), by=1), "budget.spent"),
    "period ceiling": (_bump("budget", "allocated", lambda d: (d["line"] == "production") & (d["t"] == 1), by=5), "budget.period_ceiling"),
    "emergency pool": (_bump("budget", "emergency", lambda d: (d["line"] == "paint_line") & (d["t"] == 3), by=200), "budget.emergency_pool"),
    "over-allocation": (_bump("budget", "allocated", lambda d: (d["line"] == "press_line") & (d["t"] == 2), by=50), "budget.over_allocation"),
    # profit
    "pnl holding": (_bump("pnl", "holding", lambda d: d["t"] == 2, by=1), "pnl.holding"),
    "pnl terminal": (_bump("pnl", "terminal", lambda d: d["t"] == 5, by=-1), "pnl.terminal"),
    "pnl profit": (_bump("pnl", "profit", lambda d: d["t"] == 4, by=1), "pnl.profit"),
    # closing balances
    "receivables": (_bump("balances", "receivables", lambda d: d.index == 0, by=1), "balances.receivables"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corruption_is_caught(full, name):
    mutate, expected = CORRUPTIONS[name]
    tables = copy.deepcopy(dict(full.tables))
    mutate(tables)
    found = check_plan(full.instance, tables, objective=full.objective)
    assert expected in _checks(found), f"{name}: expected {expected}, got {sorted(_checks(found))}"


def test_wrong_objective_is_caught(full):
    found = check_plan(full.instance, full.tables, objective=full.objective + 1.0)
    assert _checks(found) == {"pnl.objective"}


def test_violation_names_check_entity_period_residual(full):
    tables = copy.deepcopy(dict(full.tables))
    _bump("inventory", "closing", lambda d: (d["item"] == "frame") & (d["t"] == 4), by=3)(tables)
    v = next(v for v in check_plan(full.instance, tables) if v.check == "stock.balance")
    assert (v.entity, v.period, v.residual) == ("frame", "P4", pytest.approx(3.0))
    assert "frame P4" in str(v)


def test_assert_plan_ok_lists_violations(full):
    broken = copy.copy(full)
    broken.tables = copy.deepcopy(dict(full.tables))
    _bump("cash", "closing", lambda d: d["t"] == 2, by=50)(broken.tables)
    with pytest.raises(AssertionError, match=r"cash\.balance"):
        assert_plan_ok(broken)


def test_empty_tables_fail(full):
    found = check_plan(full.instance, {})
    assert {"stock.row_missing", "cash.row_missing"} <= _checks(found)


# --------------------------------------------------------------------------- a plan derived by hand

HAND_TOML = """\
name = "hand"
periods = ["1", "2"]

[cash]
initial = 100
credit_limit = 50
interest_rate = 0.1
initial_loan = 10
"""

HAND_TABLES = {
    "items": """\
        item,kind,unit_cost,holding_cost,initial_stock,lead_time,moq,order_cost,terms
        P,product,2,1,0,0,,,
        M,material,3,0,2,1,4,1,T
        """,
    "demand": """\
        product,channel,period,quantity,price
        P,c,1,2,10
        P,c,2,4,10
        """,
    "channels": """\
        channel,terms,service,backlog_cost
        c,D,backlog,1
        """,
    "terms": """\
        terms,lag,share
        D,1,1
        T,-1,0.5
        T,1,0.5
        """,
    "bom": """\
        parent,child,quantity
        P,M,1
        """,
    "resources": """\
        resource,capacity,overtime_max,overtime_cost,reserve,fixed_cost
        R,6,2,5,0.5,1
        """,
    "routings": """\
        item,resource,hours_per_unit,setup_cost
        P,R,1,2
        """,
}


def _hand_plan() -> dict[str, pd.DataFrame]:
    """A feasible (not optimal) plan worked out by hand.

    P: make 2 in period 1 from the 2 M in stock, ship 1 (backlog 1), make 4 in 2 (3 regular hours
    + 1 overtime hour) and ship 5. M: order 4 in period 1 (arrives in 2): prepay 6 in 1, 6 falls
    after n. Cash 1: 100 − (6 + 4 + 2 + 1 + 1) − interest 1 − repay 10 = 75; cash 2: 75 + 10 −
    (8 + 2 + 5 + 1) = 69. Profit: −13 in period 1, +34 in period 2.
    """
    df = pd.DataFrame
    return {
        "production": df({"item": ["P", "P"], "routing": ["main", "main"], "t": [1, 2], "quantity": [2.0, 4.0], "setup": [1, 1]}),
        "purchases": df({"item": ["M"], "t": [1], "quantity": [4.0], "order_placed": [1]}),
        "inventory": df({"item": ["P", "P", "M", "M"], "t": [1, 2, 1, 2], "opening": [0.0, 1.0, 2.0, 0.0],
                         "closing": [1.0, 0.0, 0.0, 0.0], "shortfall": [0.0] * 4}),
        "sales": df({"product": ["P", "P"], "channel": ["c", "c"], "t": [1, 2], "demand": [2.0, 4.0], "shipped": [1.0, 5.0],
                     "backlog": [1.0, 0.0], "lost": [0.0, 0.0], "price": [10.0, 10.0], "revenue": [10.0, 50.0]}),
        "capacity": df({"resource": ["R", "R"], "t": [1, 2], "capacity": [6.0, 6.0], "available": [3.0, 3.0],
                        "used": [2.0, 4.0], "overtime": [0.0, 1.0]}),
        "budget": df({"line": ["procurement", "procurement", "production", "production"], "t": [1, 2, 1, 2],
                      "allocated": [13.0, 0.0, 7.0, 16.0], "spent": [13.0, 0.0, 7.0, 16.0], "emergency": [0.0] * 4}),
        "cash": df({"t": [1, 2], "opening": [100.0, 75.0], "receipts": [0.0, 10.0], "pay_materials": [6.0, 0.0],
                    "pay_production": [4.0, 8.0], "pay_setup": [2.0, 2.0], "pay_overtime": [0.0, 5.0], "pay_fixed": [1.0, 1.0],
                    "pay_ordering": [1.0, 0.0], "pay_overhead": [0.0, 0.0], "interest": [1.0, 0.0], "borrowing": [-10.0, 0.0],
                    "loan": [0.0, 0.0], "closing": [75.0, 69.0], "minimum": [0.0, 0.0]}),
        "pnl": df({"t": [1, 2], "revenue": [10.0, 50.0], "purchases": [12.0, 0.0], "production": [4.0, 8.0], "setup": [2.0, 2.0],
                   "overtime": [0.0, 5.0], "fixed": [1.0, 1.0], "ordering": [1.0, 0.0], "holding": [1.0, 0.0],
                   "backlog": [1.0, 0.0], "lost": [0.0, 0.0], "safety": [0.0, 0.0], "interest": [1.0, 0.0],
                   "emergency": [0.0, 0.0], "overhead": [0.0, 0.0], "terminal": [0.0, 0.0], "profit": [-13.0, 34.0]}),
        "balances": df({"cash": [69.0], "receivables": [50.0], "payables": [6.0], "stock_value": [0.0], "loan": [0.0]}),
    }


@pytest.fixture
def hand(tmp_path):
    return load_instance(write_instance(tmp_path / "hand", HAND_TOML, **HAND_TABLES))


def test_hand_plan_passes(hand):
    assert check_plan(hand, _hand_plan(), objective=21.0) == []


@pytest.mark.parametrize(("table", "col", "row", "value", "expected"), [
    ("cash", "closing", 1, 70.0, "cash.balance"),
    ("cash", "pay_materials", 0, 12.0, "cash.pay_materials"),  # prepayment share ignored
    ("balances", "payables", 0, 0.0, "balances.payables"),
    ("sales", "backlog", 0, 0.0, "sales.backlog"),
    ("capacity", "overtime", 1, 0.0, "capacity.limit"),
    ("budget", "allocated", 2, 5.0, "budget.commitment"),
    ("pnl", "backlog", 0, 0.0, "pnl.backlog"),
])
def test_hand_plan_corrupted(hand, table, col, row, value, expected):
    tables = _hand_plan()
    tables[table].loc[row, col] = value
    assert expected in _checks(check_plan(hand, tables, objective=21.0))


def test_hand_plan_is_no_better_than_the_optimum(hand):
    """Sanity: the solver's optimum of the same instance is at least the hand plan's 21."""
    result = solve(hand)
    assert_plan_ok(result)
    assert result.objective >= 21.0 - 1e-6
