"""Sensitivity report and parametric sweeps (issue "Sensitivity report").

Every shadow price is checked against the thing it claims to predict: re-solving the model
with the right-hand side moved by a small δ (inside the reported allowable increase) by
changing the *instance data* (CSV / toml written to tmp_path), not the LP. The tiny LP
instances below are built so that each constraint family binds; the hand-solved LP pins the
ranges exactly; the sweeps check the monotonicity that theory guarantees.
"""

from __future__ import annotations

import copy
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pytest

from solver.analysis.limits import measure_limits
from solver.analysis.parametric import (
    Parameter,
    ParameterError,
    apply_parameter,
    base_value,
    breakpoint_table,
    locate_breakpoints,
    marginal_value,
    sweep,
)
from solver.cli.main import main as cli_main
from solver.devtools.generator import GeneratorParams, generate
from solver.engine.highs import scaling_options
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.engine.sensitivity import FIXED_PATTERN_LABEL
from solver.io.instance_writer import write_instance_folder
from solver.io.loading import load_instance

pytestmark = pytest.mark.solver

Spec = dict  # {"toml": {...}, "tables": {name: [row dicts]}}


# ------------------------------------------------------------------ instance writing


def per(k: int) -> str:
    """Label of period k (1-based)."""
    return f"2027-{k:02d}"


def _toml_value(v) -> str:
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def write_spec(folder: Path, spec: Spec) -> Path:
    """instance.toml (scalars first, then one [section] per dict) and one CSV per table."""
    folder = Path(folder)
    folder.mkdir(parents=True)  # a fresh folder: no stale table from an earlier write
    lines = [f"{k} = {_toml_value(v)}" for k, v in spec["toml"].items() if not isinstance(v, dict)]
    for section, values in spec["toml"].items():
        if isinstance(values, dict):
            lines.append(f"\n[{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    (folder / "instance.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, rows in spec["tables"].items():
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    return folder


def new_spec(n: int, cash: dict | None = None, budget: dict | None = None, **tables: list[dict]) -> Spec:
    toml: dict = {"name": "sensitivity", "currency": "CNY", "periods": [per(k) for k in range(1, n + 1)]}
    toml["cash"] = {"initial": 100_000} if cash is None else cash
    if budget:
        toml["budget"] = budget
    return {"toml": toml, "tables": tables}


_counter = iter(range(10**6))


def solve_spec(tmp_path: Path, spec: Spec, **options):
    folder = write_spec(tmp_path / f"inst{next(_counter)}", spec)
    result = solve(load_instance(folder), **options)
    assert result.status.has_plan, result.message
    return result


def item(name, kind, **kw) -> dict:
    return {"item": name, "kind": kind, **kw}


def dem(product, k, qty, price, channel="shop") -> dict:
    return {"product": product, "channel": channel, "period": per(k), "quantity": qty, "price": price}


# ------------------------------------------------------------------ the tiny LP instances
# P is made from one M on resource L (1 h/unit); production cost 1, material 2, price 10:
# margin 7 per unit unless said otherwise. Demand is lost when not served (default service).


def make_and_buy(n: int, demand: list[tuple[int, float]], capacity, **kw) -> dict:
    return dict(
        items=[item("P", "product", unit_cost=1, **kw.pop("p_item", {})), item("M", "material", unit_cost=2)],
        demand=[dem("P", k, q, 10) for k, q in demand],
        bom=[{"parent": "P", "child": "M", "quantity": 1}],
        resources=[{"resource": "L", "capacity": capacity, **kw.pop("resource", {})}],
        routings=[{"item": "P", "resource": "L", "hours_per_unit": 1}],
        **kw,
    )


# capacity 100 + overtime 20 (cost 3/h) bind in period 1 (demand 500); period 2 demand 50 binds
# with spare capacity. Duals: capacity 7, overtime limit 4 (= 7 - 3), demand(2) 7.
PRODUCTION = new_spec(2, **make_and_buy(2, [(1, 500), (2, 50)], 100,
                                        resource={"overtime_max": 20, "overtime_cost": 3}))

# P1 from material M (procurement, 2/unit, no production cost) with a per-period procurement
# ceiling of 100; P2 made on L2 (production line, 1/unit, fixed cost 5/period) under a horizon
# ceiling of 80; emergency pool 10 at premium 1. Margins: P1 8 (4 per ¥), P2 9 (9 per ¥).
BUDGETS = new_spec(
    1, budget={"emergency_pool": 10, "emergency_premium": 1.0},
    items=[item("P1", "product", unit_cost=0), item("P2", "product", unit_cost=1), item("M", "material", unit_cost=2)],
    demand=[dem("P1", 1, 1000, 10), dem("P2", 1, 1000, 10)],
    bom=[{"parent": "P1", "child": "M", "quantity": 1}],
    resources=[{"resource": "L1", "capacity": "inf"}, {"resource": "L2", "capacity": "inf", "fixed_cost": 5}],
    routings=[{"item": "P1", "resource": "L1", "hours_per_unit": 1}, {"item": "P2", "resource": "L2", "hours_per_unit": 1}],
    budgets=[{"line": "procurement", "period": per(1), "ceiling": 100}],
    budget_lines=[{"line": "production", "ceiling": 80}],
)
# the same without emergency budget, under a pool of 150: pool dual 4, production ceiling 9-4.
POOL = copy.deepcopy(BUDGETS)
POOL["toml"]["budget"] = {"pool": 150}

# net-30 collections: period-1 production is paid from 1000 initial cash above a 500 minimum
# plus a 200 credit line (1 % interest); period 2 from period-1 receipts.
CASH = new_spec(
    2, cash={"initial": 1000, "min_balance": 500, "credit_limit": 200, "interest_rate": 0.01},
    **make_and_buy(2, [(1, 1000), (2, 1000)], "inf",
                   channels=[{"channel": "shop", "terms": "net30"}],
                   terms=[{"terms": "net30", "lag": 1, "share": 1}]),
)

# capacity 100, demand 60/200/50, holding 1: the stock of P may not exceed 30 after period 1
# (dual 6 = 10 - 3 - 1) and must be at least 20 after period 2 (dual -8 = -10 + 3 - 1).
STOCK = new_spec(
    3, **make_and_buy(3, [(1, 60), (2, 200), (3, 50)], 100, p_item={"holding_cost": 1},
                      stock_targets=[{"item": "P", "period": per(1), "min": None, "max": 30},
                                     {"item": "P", "period": per(2), "min": 20, "max": None}]),
)

LP_INSTANCES = {
    "production": (PRODUCTION, {"capacity", "overtime limit", "demand", "stock balance"}),
    "budgets": (BUDGETS, {"budget per period", "budget horizon ceiling", "emergency pool", "budget commitment",
                          "stock balance"}),
    "pool": (POOL, {"budget pool", "budget horizon ceiling"}),
    "cash": (CASH, {"minimum cash", "credit limit", "cash balance", "stock balance"}),
    "stock": (STOCK, {"stock target min", "stock target max", "demand", "capacity"}),
}
REQUIRED_FAMILIES = {
    "capacity", "overtime limit", "budget per period", "budget horizon ceiling", "budget pool", "emergency pool",
    "minimum cash", "credit limit", "stock target min", "stock target max", "demand", "cash balance", "stock balance",
}


# ------------------------------------------------------------------ data perturbations
# perturb(spec, row, cons, delta) -> (new spec, expected profit change) or None when this row
# cannot be moved through the data alone. `row` is a row of the constraints table.


def _upsert(rows: list[dict], key: dict, **values) -> None:
    for r in rows:
        if all(r.get(k) == v for k, v in key.items()):
            r.update(values)
            return
    rows.append({**key, **values})


def _rows(cons: pd.DataFrame, family: str, **match) -> pd.DataFrame:
    sel = cons["family"] == family
    for k, v in match.items():
        sel &= cons[k] == v
    return cons[sel]


def _p_capacity(spec, row, cons, delta):
    # reserve is 0: the row's rhs is the period's capacity
    _upsert(spec["tables"].setdefault("capacity", []), {"resource": row.entity, "period": row.period},
            capacity=row.rhs + delta)
    return spec, delta * row.shadow_price


def _p_overtime(spec, row, cons, delta):
    # overtime_max is per resource: every period's row moves
    res = next(r for r in spec["tables"]["resources"] if r["resource"] == row.entity)
    res["overtime_max"] += delta
    return spec, delta * _rows(cons, "overtime limit", entity=row.entity)["shadow_price"].sum()


def _p_period_budget(spec, row, cons, delta):
    _upsert(spec["tables"].setdefault("budgets", []), {"line": row.entity, "period": row.period}, ceiling=row.rhs + delta)
    return spec, delta * row.shadow_price


def _p_line_budget(spec, row, cons, delta):
    _upsert(spec["tables"].setdefault("budget_lines", []), {"line": row.entity}, ceiling=row.rhs + delta)
    return spec, delta * row.shadow_price


def _p_pool(key):
    def perturb(spec, row, cons, delta):
        spec["toml"]["budget"][key] = row.rhs + delta
        return spec, delta * row.shadow_price
    return perturb


def _p_min_cash(spec, row, cons, delta):
    _upsert(spec["tables"].setdefault("cash_min", []), {"period": row.period}, amount=row.rhs + delta)
    return spec, delta * row.shadow_price


def _p_credit(spec, row, cons, delta):
    spec["toml"]["cash"]["credit_limit"] += delta  # one credit line: every period's row moves
    return spec, delta * _rows(cons, "credit limit")["shadow_price"].sum()


def _p_target(column):
    def perturb(spec, row, cons, delta):
        rows = spec["tables"].setdefault("stock_targets", [])
        _upsert(rows, {"item": row.entity, "period": row.period}, **{column: row.rhs + delta})
        return spec, delta * row.shadow_price
    return perturb


def _p_demand(spec, row, cons, delta):
    product, channel = row.entity.split(" / ")
    d = next(r for r in spec["tables"]["demand"]
             if (r["product"], r["channel"], r["period"]) == (product, channel, row.period))
    d["quantity"] += delta
    return spec, delta * row.shadow_price


def _p_cash_balance(spec, row, cons, delta):
    # the rhs of period 1's balance holds the initial cash; later periods have no pure-rhs datum
    if row.period != per(1):
        return None
    spec["toml"]["cash"]["initial"] += delta
    return spec, delta * row.shadow_price


def _p_stock_balance(spec, row, cons, delta):
    # an open order arrives at no cost, no cash, no budget: exactly the balance's rhs
    _upsert(spec["tables"].setdefault("open_orders", []), {"item": row.entity, "period": row.period},
            quantity=row.rhs + delta)
    return spec, delta * row.shadow_price


def _p_commit(spec, row, cons, delta):
    # spend - a - e <= -fixed_cost: lowering a resource's fixed cost by δ raises this row's rhs
    # by δ, and also every period's commit row of its line and cash balance, and profit by δ·n
    res = [r for r in spec["tables"]["resources"] if r.get("fixed_cost") and r.get("budget_line", "production") == row.entity]
    if len(res) != 1:
        return None
    res[0]["fixed_cost"] -= delta
    n = len(spec["toml"]["periods"])
    prices = _rows(cons, "budget commitment", entity=row.entity)["shadow_price"].sum() + _rows(cons, "cash balance")["shadow_price"].sum()
    return spec, delta * (n + prices)


PERTURB: dict[str, Callable] = {
    "capacity": _p_capacity,
    "overtime limit": _p_overtime,
    "budget per period": _p_period_budget,
    "budget horizon ceiling": _p_line_budget,
    "budget pool": _p_pool("pool"),
    "emergency pool": _p_pool("emergency_pool"),
    "minimum cash": _p_min_cash,
    "credit limit": _p_credit,
    "stock target min": _p_target("min"),
    "stock target max": _p_target("max"),
    "demand": _p_demand,
    "cash balance": _p_cash_balance,
    "stock balance": _p_stock_balance,
    "budget commitment": _p_commit,
}
# rows whose perturbation moves several rows at once: δ must respect the 100 % rule
MULTI_ROW = {"overtime limit": lambda c, r: _rows(c, "overtime limit", entity=r.entity),
             "credit limit": lambda c, r: _rows(c, "credit limit")}


def _delta(cons: pd.DataFrame, row) -> float:
    rows = MULTI_ROW[row.family](cons, row) if row.family in MULTI_ROW else cons.loc[[row.Index]]
    used = np.asarray(rows["allowable_increase"], dtype=float)
    return min(1.0, 0.5 / float(np.sum(1.0 / used)))


@pytest.mark.parametrize("name", list(LP_INSTANCES))
def test_shadow_prices_match_finite_differences(tmp_path: Path, name: str) -> None:
    """For every family with a binding priced row: price ≈ (profit(rhs+δ) − profit(rhs))/δ."""
    spec, must_cover = LP_INSTANCES[name]
    base = solve_spec(tmp_path, spec, sensitivity=True)
    sens = base.sensitivity
    assert base.kpis["integers"] == 0 and sens.label != FIXED_PATTERN_LABEL
    cons = sens.constraints
    checked = {}
    for family, rows in cons.groupby("family"):
        candidates = rows[rows["binding"] & (rows["shadow_price"].abs() > 1e-6) & (rows["allowable_increase"] > 1e-6)]
        for row in candidates.sort_values("shadow_price", key=abs, ascending=False).itertuples():
            delta = _delta(cons, row)
            moved = PERTURB[family](copy.deepcopy(spec), row, cons, delta)
            if moved is None:
                continue
            new_spec_, expected = moved
            profit = solve_spec(tmp_path, new_spec_).objective
            got = (profit - base.objective) / delta
            assert got == pytest.approx(expected / delta, rel=1e-6, abs=1e-6), (
                f"{name}: {family} {row.entity} {row.period}: shadow price {row.shadow_price}, "
                f"expected Δprofit/δ {expected / delta}, re-solve gave {got} (δ={delta})")
            checked[family] = row.shadow_price
            break
    assert must_cover <= set(checked), f"{name}: not checked: {must_cover - set(checked)}; got {checked}"


def test_lp_instances_cover_every_family() -> None:
    covered = set().union(*(fams for _spec, fams in LP_INSTANCES.values()))
    assert covered >= REQUIRED_FAMILIES


# ------------------------------------------------------------------ a hand-solved LP

HAND = new_spec(
    1,
    items=[item("A", "product", unit_cost=4), item("B", "product", unit_cost=2)],
    demand=[dem("A", 1, 80, 10), dem("B", 1, 80, 10)],
    resources=[{"resource": "L", "capacity": 100}],
    routings=[{"item": "A", "resource": "L", "hours_per_unit": 1}, {"item": "B", "resource": "L", "hours_per_unit": 2}],
    budget_lines=[{"line": "production", "ceiling": 280}],
)


def test_ranging_on_a_hand_solved_lp(tmp_path: Path) -> None:
    """Two products on one line, one budget line (production costs are charged to it).

        max 6a + 8b          (margins: A 10 - 4, B 10 - 2)
        a + 2b  <= R = 100   capacity of L (hours)
        4a + 2b <= C = 280   production budget ceiling
        a, b    <= 80        demand (lost otherwise)

    A earns more per hour (6 vs 4), B more per ¥ of budget (4 vs 1.5), so both rows bind:
    a = 60, b = 20, profit 520. Duals: y_R + 4 y_C = 6 and 2 y_R + 2 y_C = 8 give
    y_R = 10/3 per hour and y_C = 2/3 per ¥ (check: 100·10/3 + 280·2/3 = 520).
    Capacity range: a = (280 − R)/3 ≥ 0 and b = (4R − 280)/6 ∈ [0, 80] hold for R ∈ [70, 190]:
    allowable increase 90, decrease 30. Budget range: a = (C − 100)/3 ∈ [0, 80] for
    C ∈ [100, 340] (b = (100 − a)/2 stays in [0, 50]): increase 60, decrease 180.
    Cost range of A's shipment (coefficient = price 10): the vertex stays optimal while the
    margin ratio p_a / 8 lies between the normals' ratios 1/2 and 4/2, i.e. p_a ∈ [4, 16]:
    price 10 may rise by 10 and fall by 2. For B (p_b with p_a = 6): 6/p_b ∈ [1/2, 2] gives
    p_b ∈ [3, 12]: price may rise by 4 and fall by 5. Demand rows are slack (a, b < 80):
    price 0, range down to the quantity shipped.
    """
    r = solve_spec(tmp_path, HAND, sensitivity=True)
    assert r.objective == pytest.approx(520)
    cons = r.sensitivity.constraints.set_index(["family", "entity"])
    cap = cons.loc[("capacity", "L")]
    assert (cap.shadow_price, cap.allowable_increase, cap.allowable_decrease) == pytest.approx((10 / 3, 90, 30))
    assert cap.binding and cap.slack == pytest.approx(0) and cap.rhs == 100 and cap.rhs_unit == "hour"
    ceil = cons.loc[("budget horizon ceiling", "production")]
    assert (ceil.shadow_price, ceil.allowable_increase, ceil.allowable_decrease) == pytest.approx((2 / 3, 60, 180))
    assert ceil.binding and ceil.rhs == 280 and ceil.rhs_unit == "CNY"
    for product, shipped in (("A", 60), ("B", 20)):
        d = cons.loc[("demand", f"{product} / shop")]
        assert d.shadow_price == pytest.approx(0, abs=1e-9)
        assert d.allowable_decrease == pytest.approx(80 - shipped) and d.allowable_increase == math.inf
    var = r.sensitivity.variables.set_index("variable")
    ship_a, ship_b = var.loc["sales.ship[A,shop,1]"], var.loc["sales.ship[B,shop,1]"]
    assert (ship_a.final_value, ship_a.objective_coefficient) == pytest.approx((60, 10))
    assert (ship_a.allowable_increase, ship_a.allowable_decrease) == pytest.approx((10, 2))
    assert (ship_b.final_value, ship_b.allowable_increase, ship_b.allowable_decrease) == pytest.approx((20, 4, 5))
    # the production cost column carries A's cost: -4 may move by the same amounts
    x_a = var.loc["production.x[A,main,1]"]
    assert (x_a.objective_coefficient, x_a.allowable_increase, x_a.allowable_decrease) == pytest.approx((-4, 10, 2))
    # the ranges are real: at the ends of the capacity range the profit is 10/3 per hour linear
    for R in (70, 190):
        spec = copy.deepcopy(HAND)
        spec["tables"]["resources"][0]["capacity"] = R
        assert solve_spec(tmp_path, spec).objective == pytest.approx(520 + 10 / 3 * (R - 100))
    spec = copy.deepcopy(HAND)  # and end there: past 190 hours B is at its demand, profit stays 820
    spec["tables"]["resources"][0]["capacity"] = 200
    assert solve_spec(tmp_path, spec).objective == pytest.approx(820)


# ------------------------------------------------------------------ sign convention


def test_sign_convention_on_a_maximisation(tmp_path: Path) -> None:
    """Profit is maximised; a positive price means more right-hand side earns more profit."""
    prod = solve_spec(tmp_path, PRODUCTION, sensitivity=True).sensitivity.constraints
    cap = _rows(prod, "capacity", entity="L", period=per(1)).iloc[0]
    assert cap.binding and cap.shadow_price == pytest.approx(7)  # one more hour = one more unit at margin 7
    demand = _rows(prod, "demand", entity="P / shop", period=per(2)).iloc[0]
    assert demand.shadow_price == pytest.approx(7)  # a profitable product's extra demand earns its margin
    cash = solve_spec(tmp_path, CASH, sensitivity=True).sensitivity.constraints
    for period in (per(1), per(2)):
        row = _rows(cash, "minimum cash", period=period).iloc[0]
        assert row.binding and row.shadow_price < 0  # holding more cash back costs profit
    # period 2: each ¥ held back is 1/3 unit (cost 3) not made at margin 7
    assert _rows(cash, "minimum cash", period=per(2)).iloc[0].shadow_price == pytest.approx(-7 / 3)
    assert (_rows(cash, "credit limit")["shadow_price"] > 0).all()


def test_sign_convention_on_a_pure_cost_instance(tmp_path: Path) -> None:
    """Prices 0, service must (docs/model.md §5: cost minimisation as −profit): one more unit of
    demand costs its production cost 1 + material 2, so its price is −3; an hour more of the
    binding period-1 capacity saves producing ahead... here it saves overtime at 3 per hour."""
    spec = new_spec(1, **make_and_buy(1, [(1, 120)], 100, resource={"overtime_max": 50, "overtime_cost": 3},
                                      channels=[{"channel": "shop", "service": "must"}]))
    for d in spec["tables"]["demand"]:
        d["price"] = 0
    r = solve_spec(tmp_path, spec, sensitivity=True)
    assert r.objective == pytest.approx(-(120 * 3 + 20 * 3))
    cons = r.sensitivity.constraints
    assert _rows(cons, "demand").iloc[0].shadow_price == pytest.approx(-6)  # 3 unit cost + 3 overtime
    assert _rows(cons, "capacity").iloc[0].shadow_price == pytest.approx(3)


# ------------------------------------------------------------------ MIP label

SETUPS = new_spec(
    2, cash={"initial": 600, "min_balance": 200, "credit_limit": 100, "interest_rate": 0.01},
    items=[item("P", "product", unit_cost=1), item("M", "material", unit_cost=2, order_cost=5)],
    demand=[dem("P", 1, 150, 10), dem("P", 2, 150, 10)],
    channels=[{"channel": "shop", "terms": "net30"}],
    terms=[{"terms": "net30", "lag": 1, "share": 1}],
    bom=[{"parent": "P", "child": "M", "quantity": 1}],
    resources=[{"resource": "L", "capacity": 120}],
    routings=[{"item": "P", "resource": "L", "hours_per_unit": 1, "setup_hours": 10, "setup_cost": 40}],
    budget_lines=[{"line": "procurement", "ceiling": 400}, {"line": "production", "ceiling": 500}],
    budget={"pool": 850},
)


def test_label_says_fixed_pattern_only_for_a_mip(tmp_path: Path) -> None:
    mip = solve_spec(tmp_path, SETUPS, sensitivity=True)
    assert mip.kpis["integers"] > 0
    label = mip.sensitivity.label
    assert label == FIXED_PATTERN_LABEL
    assert "fixed setup and order pattern" in label
    assert mip.sensitivity.variables.loc[lambda v: v["family"] == "setup", "fixed_integer"].all()
    lp = solve_spec(tmp_path, PRODUCTION, sensitivity=True)
    assert "fixed" not in lp.sensitivity.label and "LP" in lp.sensitivity.label
    assert not lp.sensitivity.variables["fixed_integer"].any()


# ------------------------------------------------------------------ limits


def test_limits_ranked_and_worded(tmp_path: Path) -> None:
    sens = solve_spec(tmp_path, CASH, sensitivity=True).sensitivity
    lim = sens.limits
    assert list(lim["value_of_step"]) == sorted(lim["value_of_step"], reverse=True)
    assert set(lim["kind"]) == {"limit"}
    assert set(lim["family"]) == {"minimum cash", "credit limit"}
    assert (lim["shadow_price"].abs() > 0).all()
    for r in lim.itertuples():
        assert r.text.startswith(r.family) and r.entity in r.text and r.period in r.text
        assert ("valid up to" if r.shadow_price > 0 else "valid down to") in r.text
        assert r.value_of_step == pytest.approx(abs(r.shadow_price) * min(r.step_size, r.valid_range))
    prod = solve_spec(tmp_path, PRODUCTION, sensitivity=True).sensitivity.limits
    # limits first, by value; extra demand (an opportunity, not a limit) after them:
    # capacity(1): 7 × 100/30 h; overtime: 4 × 20/30 h; demand(2): price 7 × step 5 units = 35
    assert list(zip(prod["kind"], prod["family"], prod["period"], strict=True)) == [
        ("limit", "capacity", per(1)), ("limit", "overtime limit", per(1)), ("opportunity", "demand", per(2))]
    assert list(prod["value_of_step"]) == pytest.approx([70 / 3, 8 / 3, 35])
    cap = prod.iloc[0]
    assert cap.text == f"capacity L, {per(1)}: +1 hour of capacity is worth ¥7 profit, valid up to +380.0 hours"
    # only binding rows with a price; slack capacity in period 2 is not a limit
    assert not ((prod["family"] == "capacity") & (prod["period"] == per(2))).any()


# ------------------------------------------------------------------ sweeps

EXACT = SolveOptions(gap=1e-6)


@pytest.mark.parametrize(("param", "values", "direction"), [
    ("budget:procurement", [200, 300, 400, 500], +1),
    ("budget:production", [100, 200, 300, 400], +1),
    ("budget_pool", [500, 650, 800, 950], +1),
    ("capacity:L", [60, 90, 120, 150], +1),
    ("credit_limit", [0, 100, 200, 400], +1),
    ("min_cash", [0, 100, 200, 300], -1),
])
def test_sweeps_are_monotone(tmp_path: Path, param: str, values: list[float], direction: int) -> None:
    """More budget, capacity or credit never lowers optimal profit; a higher minimum cash never
    raises it (each point is a re-solved MIP: up to its gap)."""
    folder = write_spec(tmp_path / "setups", SETUPS)
    df = sweep(str(folder), param, values, EXACT, jobs=1)  # with the points that locate breakpoints
    assert list(df.loc[df["point"] == "grid", "value"]) == values and (df["status"] == "optimal").all()
    profit = df["profit"].to_numpy()
    tol = EXACT.gap * np.abs(profit).max() + 1e-6
    assert (direction * np.diff(profit) >= -tol).all(), df[["value", "profit"]]
    assert profit.max() - profit.min() > 1.0, f"{param} never binds in this range: {profit}"


def test_apply_parameter_changes_only_its_target(tmp_path: Path) -> None:
    inst = load_instance(write_spec(tmp_path / "setups", SETUPS))
    out = apply_parameter(inst, Parameter.parse("budget:procurement"), 200)
    lines = out.tables["budget_lines"].set_index("line")["ceiling"]
    assert lines["procurement"] == 200 and lines["production"] == 500
    assert inst.tables["budget_lines"].set_index("line").at["procurement", "ceiling"] == 400  # not in place
    assert apply_parameter(inst, Parameter.parse("credit_limit"), 7).cash.credit_limit == 7
    assert apply_parameter(inst, Parameter.parse("budget_pool"), 9).budget.pool == 9
    with pytest.raises(ParameterError):
        Parameter.parse("nonsense")
    with pytest.raises(ParameterError):
        apply_parameter(inst, Parameter.parse("capacity:NOPE"), 1)


def test_apply_parameter_from_a_zero_base(tmp_path: Path) -> None:
    """A line whose ceiling is 0 cannot be scaled (0·nan read as "no ceiling" before the fix:
    every point of the sweep was the unconstrained plan); it is set to the value instead."""
    spec = copy.deepcopy(BUDGETS)
    spec["tables"]["budgets"][0]["ceiling"] = 0  # the procurement line's only ceiling
    inst = load_instance(write_spec(tmp_path / "zero", spec))
    param = Parameter.parse("budget:procurement")
    got = apply_parameter(inst, param, 50)
    assert list(got.tables["budgets"]["ceiling"]) == [50]
    assert solve(got).objective == pytest.approx(solve(inst).objective + 4 * 50)  # 4 per ¥ (P1)
    assert apply_parameter(inst, param, 0).tables["budgets"]["ceiling"].tolist() == [0]
    # a minimum of 0 with a per-period override: the parameter is the minimum in every period
    spec = copy.deepcopy(CASH)
    spec["toml"]["cash"]["min_balance"] = 0
    spec["tables"]["cash_min"] = [{"period": per(1), "amount": 500}]
    inst = load_instance(write_spec(tmp_path / "cash0", spec))
    got = apply_parameter(inst, Parameter.parse("min_cash"), 300)
    assert got.cash.min_balance == 300 and got.tables["cash_min"]["amount"].tolist() == [300]


def test_sweep_jobs_and_breakpoints_on_the_hand_lp(tmp_path: Path) -> None:
    """Profit against the capacity R of the hand-solved LP (see its docstring): 6R up to
    R = 70 (only A, capacity binds), 520 + 10/3 (R − 100) on [70, 190], then flat 820
    (B at its demand, A held to 30 by the budget). Kinks at 70 and 190, both between grid
    points: the slope from point to point changes at 100 and at 160, which the sweep used to
    flag as breakpoints (grid artefacts). The tangents (marginal values 6, 10/3, 10/3, 0) meet
    at 70 and at 190: two probes, each on both tangents, locate them exactly."""
    folder = write_spec(tmp_path / "hand", HAND)
    values = [40.0, 100.0, 160.0, 220.0]
    one = sweep(str(folder), "capacity:L", values, EXACT, jobs=1)
    two = sweep(str(folder), "capacity:L", values, EXACT, jobs=2)
    cols = ["parameter", "value", "point", "status", "profit", "service_level", "marginal_value", "slope_before",
            "breakpoint"]
    pd.testing.assert_frame_equal(one[cols], two[cols])
    assert list(one["value"]) == pytest.approx([40, 70, 100, 160, 190, 220])
    assert list(one["point"]) == ["grid", "probe", "grid", "grid", "probe", "grid"]
    assert one["profit"].to_numpy() == pytest.approx([240, 420, 520, 720, 820, 820])
    assert one["marginal_value"].to_numpy() == pytest.approx([6, 6, 10 / 3, 10 / 3, 0, 0], abs=1e-9)
    assert list(one.loc[one["breakpoint"], "value"]) == pytest.approx([70.0, 190.0])
    table = breakpoint_table(one, EXACT.gap)
    assert table["exact"].all() and list(table["value"]) == pytest.approx([70, 190])
    assert list(table["slope_before"]) == pytest.approx([6, 10 / 3]) and list(table["slope_after"]) == pytest.approx([10 / 3, 0])


def test_without_refinement_a_kink_between_grid_points_is_an_interval(tmp_path: Path) -> None:
    """No grid point is called a breakpoint when the slope changes between two of them."""
    folder = write_spec(tmp_path / "hand", HAND)
    df = sweep(str(folder), "capacity:L", [40.0, 100.0, 160.0, 220.0], EXACT, jobs=1, refine=0)
    assert not df["breakpoint"].any() and (df["point"] == "grid").all()
    table = breakpoint_table(df, EXACT.gap)
    assert not table["exact"].any()
    assert list(zip(table["low"], table["high"], strict=True)) == [(40, 100), (160, 220)]


@pytest.mark.solver
@pytest.mark.parametrize(("param", "values"), [("credit_limit", [0, 100, 200, 400]),
                                                ("budget:procurement", [200, 300, 400, 500])])
def test_a_flagged_breakpoint_is_real_by_re_solving_around_it(tmp_path: Path, param: str, values: list[float]) -> None:
    """Every breakpoint the sweep flags on the setup MIP is where the re-solved profit changes
    slope: solving at θ − δ, θ and θ + δ gives the slopes the sweep reports on each side, and
    they differ."""
    folder = write_spec(tmp_path / "setups", SETUPS)
    df = sweep(str(folder), param, values, EXACT, jobs=1)
    table = breakpoint_table(df, EXACT.gap)
    exact = table[table["exact"]]
    assert len(exact) >= 2, table
    inst, p = load_instance(folder), Parameter.parse(param)
    points = df["value"].to_numpy()

    def profit(v: float) -> float:
        r = solve(apply_parameter(inst, p, v), EXACT)
        assert r.status == "optimal"
        return r.objective

    for row in exact.itertuples(index=False):
        theta = row.value
        delta = 0.25 * min(abs(points[points != theta] - theta).min(), theta if theta > 0 else math.inf)
        here = profit(theta)
        left, right = (here - profit(theta - delta)) / delta, (profit(theta + delta) - here) / delta
        assert here == pytest.approx(row.profit, abs=1e-6)
        assert left == pytest.approx(row.slope_before, abs=1e-6) and right == pytest.approx(row.slope_after, abs=1e-6)
        assert abs(left - right) > 1e-3, row


@pytest.mark.solver
@pytest.mark.parametrize(("spec", "param", "values"), [
    ("HAND", "capacity:L", [40.0, 100.0, 190.0]), ("HAND", "budget:production", [150.0, 280.0]),
    ("SETUPS", "credit_limit", [125.0]), ("SETUPS", "min_cash", [100.0, 175.0]),
    ("SETUPS", "budget:procurement", [300.0, 350.0]), ("BUDGETS", "emergency_pool", [10.0]),
])
def test_marginal_value_is_the_slope_of_the_re_solved_profit(tmp_path: Path, spec: str, param: str,
                                                             values: list[float]) -> None:
    """The plan's marginal value (envelope theorem on its polished LP) equals the profit's
    slope measured by re-solving the changed instance on one side (both, away from a kink)."""
    folder = write_spec(tmp_path / spec, globals()[spec])
    inst, p = load_instance(folder), Parameter.parse(param)
    for v in values:
        r = solve(apply_parameter(inst, p, v), EXACT)
        got = marginal_value(inst, p, v, r, EXACT)
        eps = 1e-3
        right = (solve(apply_parameter(inst, p, v + eps), EXACT).objective - r.objective) / eps
        left = (r.objective - solve(apply_parameter(inst, p, v - eps), EXACT).objective) / eps
        assert min(abs(got - left), abs(got - right)) < 1e-5, (v, got, left, right)


def test_locate_breakpoints_on_a_made_up_curve() -> None:
    """min(3v, 2v + 5.6): kink at 5.6. Every third point collinear: the kink between 5 and 6 is
    an interval whose probe is its midpoint; with the tangents known the probe is 5.6 itself,
    and with that point solved the kink is exact."""
    values = np.arange(0.0, 11.0)
    curve = pd.DataFrame({"value": values, "profit": np.minimum(3 * values, 2 * values + 5.6), "status": "optimal"})
    marked, probes = locate_breakpoints(curve)
    assert not marked["breakpoint"].any() and probes == pytest.approx([5.5])
    tangents = curve.assign(marginal_value=np.where(values < 5.6, 3.0, 2.0))
    _, probes = locate_breakpoints(tangents)
    assert probes == pytest.approx([5.6])
    probe = pd.DataFrame({"value": [5.6], "profit": [16.8], "status": "optimal", "marginal_value": [2.5]})
    marked, probes = locate_breakpoints(pd.concat([tangents, probe]))
    assert probes == [] and list(marked.loc[marked["breakpoint"], "value"]) == pytest.approx([5.6])
    at_grid = pd.DataFrame({"value": values, "profit": np.minimum(3 * values, 2 * values + 5), "status": "optimal"})
    assert list(locate_breakpoints(at_grid)[0].query("breakpoint")["value"]) == [5.0]
    flat = pd.DataFrame({"value": values, "profit": 4 * values + 1e-9 * values**2, "status": "optimal"})
    assert not locate_breakpoints(flat)[0]["breakpoint"].any()


def test_gap_noise_is_not_a_breakpoint() -> None:
    """A straight profit line whose points each sit up to their MIP gap below the optimum
    (bound − profit) has no breakpoint; the same wiggle with proven-optimal points has one."""
    values = np.arange(0.0, 7.0)
    profit = 1000 * values + np.array([0, 40, 0, 35, 0, 0, 0])
    noisy = pd.DataFrame({"value": values, "profit": profit, "bound": profit + 50, "status": "feasible"})
    assert not locate_breakpoints(noisy)[0]["breakpoint"].any()
    exact = noisy.assign(bound=profit, status="optimal")
    assert locate_breakpoints(exact)[0]["breakpoint"].any() or locate_breakpoints(exact)[1]


def test_cli_sweep_writes_csv_and_png_and_rejects_unknown_parameter(tmp_path: Path, capsys) -> None:
    folder = write_spec(tmp_path / "setups", SETUPS)
    out = tmp_path / "out"
    code = cli_main(["sweep", str(folder), "--param", "budget:procurement", "--from", "-30%", "--to", "+30%",
                     "--steps", "2", "--jobs", "1", "--refine", "3", "--out", str(out)])
    assert code == 0
    df = pd.read_csv(out / "sweep.csv")
    assert list(df.loc[df["point"] == "grid", "value"]) == pytest.approx([280, 520])
    assert (df["point"] == "probe").sum() <= 3
    assert {"parameter", "value", "status", "profit", "marginal_value", "slope_before", "breakpoint"} <= set(df.columns)
    breaks = pd.read_csv(out / "breakpoints.csv")
    assert list(breaks.columns) == ["exact", "value", "low", "high", "profit", "slope_before", "slope_after"]
    assert list(breaks.loc[breaks["exact"], "value"]) == pytest.approx(list(df.loc[df["breakpoint"], "value"]))
    printed = capsys.readouterr().out
    assert "breakpoint " in printed
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli_main(["sweep", str(folder), "--param", "warp_drive", "--out", str(tmp_path / "x")]) == 2
    assert cli_main(["sweep", str(folder), "--param", "capacity:NOPE", "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert "unknown parameter" in capsys.readouterr().err


def test_cli_solve_writes_sensitivity_tables(tmp_path: Path) -> None:
    folder = write_spec(tmp_path / "hand", HAND)
    out = tmp_path / "plan"
    assert cli_main(["solve", str(folder), "--sensitivity", "--out", str(out)]) == 0
    cons = pd.read_csv(out / "sensitivity_constraints.csv")
    assert {"family", "entity", "period", "shadow_price", "allowable_increase", "allowable_decrease"} <= set(cons.columns)
    assert (out / "sensitivity_variables.csv").exists()
    lim = pd.read_csv(out / "limits.csv")
    assert set(lim["family"]) == {"capacity", "budget horizon ceiling"}


# ------------------------------------------------------------------ ranges under HiGHS's money scaling

YUAN = 1000.0  # money × 1000: bounds over 1e6 and costs over 1e3, so HiGHS runs with both user scales


def _yuan_lp(tmp_path: Path) -> Path:
    """`prodbudget generate` at 4 products × 4 periods (budget lines with per-period ceilings
    and carry-over, must / backlog / lost channels, payment terms, a credit line, tight
    capacity with a reserve) without setups, minimum lots, MOQs or order costs, so no integer
    decision, and with every amount of money in yuan × 1000."""
    toml, tables = generate(GeneratorParams(products=4, periods=4, resources=2, materials=5, seed=0))
    items = tables["items"].assign(min_lot=np.nan, moq=np.nan, order_cost=np.nan)
    tables["routings"] = tables["routings"].assign(setup_hours=0.0, setup_cost=0.0)
    money_columns = {"items": ["unit_cost", "holding_cost", "safety_penalty"], "demand": ["price"],
                     "channels": ["backlog_cost", "lost_cost"], "resources": ["overtime_cost", "fixed_cost"],
                     "budget_lines": ["ceiling"], "budgets": ["ceiling"]}
    tables["items"] = items
    for name, columns in money_columns.items():
        tables[name] = tables[name].assign(**{c: tables[name][c] * YUAN for c in columns})
    for section, keys in (("cash", ("initial", "min_balance", "credit_limit", "initial_loan", "overhead")),
                          ("budget", ("pool", "emergency_pool"))):
        toml[section] = {k: (v * YUAN if k in keys else v) for k, v in toml[section].items()}
    return write_instance_folder(tmp_path / "yuan", toml, tables)


def _with_rhs(folder: Path, tmp_path: Path, row, rhs: float) -> Path:
    """A copy of the instance whose capacity or per-period budget row `row` has right-hand side
    `rhs` (capacity rows hold (1 − reserve) of the period's hours)."""
    target = tmp_path / f"moved{next(_counter)}"
    shutil.copytree(folder, target)
    if row.family == "capacity":
        res = pd.read_csv(target / "resources.csv").set_index("resource")
        cap = pd.read_csv(target / "capacity.csv")
        value = rhs / (1 - res.at[row.entity, "reserve"])
        at = (cap["resource"] == row.entity) & (cap["period"] == row.period)
        if at.any():
            cap.loc[at, "capacity"] = value
        else:
            cap = pd.concat([cap, pd.DataFrame([{"resource": row.entity, "period": row.period, "capacity": value}])])
        cap.to_csv(target / "capacity.csv", index=False)
    else:
        bud = pd.read_csv(target / "budgets.csv")
        at = (bud["line"] == row.entity) & (bud["period"] == row.period)
        assert at.sum() == 1
        bud.loc[at, "ceiling"] = rhs
        bud.to_csv(target / "budgets.csv", index=False)
    return target


def test_ranges_are_in_user_units_when_highs_scales_money(tmp_path: Path) -> None:
    """HiGHS returned ranging of a user-scaled run in scaled units: every binding capacity and
    per-period budget row read "increase 0, decrease ≈ the whole rhs", cost ranges were 2^10
    off. Reported ranges must equal HiGHS's ranging of the same LP solved without scaling
    (from the plan's vertex: a degenerate LP has other optimal vertices with other ranges),
    and moving a right-hand side to either end of its range must move profit by price × change
    (re-solved from the changed instance files)."""
    folder = _yuan_lp(tmp_path)
    r = solve(load_instance(folder), sensitivity=True)
    sf = r.standard_form
    assert r.status.has_plan and r.kpis["integers"] == 0
    assert set(scaling_options(sf)) == {"user_bound_scale", "user_objective_scale"}

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(sf.to_lp())
    h.setBasis(r.outcome.highs.getBasis())
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(r.objective, rel=1e-9)
    _, rg = h.getRanging()
    dual = np.array(h.getSolution().row_dual)
    cons = r.sensitivity.constraints
    priced = (np.abs(dual) > 1e-7) & (cons["family"] != "stock target min").to_numpy()  # targets: next test
    rhs = cons["rhs"].to_numpy()
    assert cons["shadow_price"].to_numpy()[priced] == pytest.approx(dual[priced], rel=1e-9, abs=1e-9)
    up = np.array(rg.row_bound_up.value_)[priced] - rhs[priced]
    dn = rhs[priced] - np.array(rg.row_bound_dn.value_)[priced]
    assert cons["allowable_increase"].to_numpy()[priced] == pytest.approx(np.maximum(up, 0), rel=1e-7, abs=1e-7)
    assert cons["allowable_decrease"].to_numpy()[priced] == pytest.approx(np.maximum(dn, 0), rel=1e-7, abs=1e-7)
    var = r.sensitivity.variables
    cost_up = np.maximum(np.array(rg.col_cost_up.value_)[: sf.num_cols] - sf.cost, 0)
    cost_dn = np.maximum(sf.cost - np.array(rg.col_cost_dn.value_)[: sf.num_cols], 0)
    assert var["allowable_increase"].to_numpy() == pytest.approx(cost_up, rel=1e-7, abs=1e-7)
    assert var["allowable_decrease"].to_numpy() == pytest.approx(cost_dn, rel=1e-7, abs=1e-7)

    limits = cons[cons["family"].isin(["capacity", "budget per period"]) & cons["binding"]]
    assert set(limits["family"]) == {"capacity", "budget per period"}
    assert (limits["allowable_increase"] > 1e-6).all(), limits  # "valid up to +0" was the bug
    for row in limits.itertuples():
        for change in (row.allowable_increase, -row.allowable_decrease):
            change = change if math.isfinite(change) else 0.1 * row.rhs
            moved = solve(load_instance(_with_rhs(folder, tmp_path, row, row.rhs + change)))
            assert moved.objective == pytest.approx(r.objective + row.shadow_price * change, rel=1e-9, abs=1e-3), (
                row.family, row.entity, row.period, change)


def test_cost_ranges_hold_when_highs_scales_money(tmp_path: Path) -> None:
    """Within a column's reported cost range the plan stays optimal: re-solving the LP with that
    objective coefficient moved to 99.9 % of either end changes profit by exactly change × value."""
    r = solve(load_instance(_yuan_lp(tmp_path)), sensitivity=True)
    sf = r.standard_form
    var = r.sensitivity.variables
    moved_some = 0
    for j in np.flatnonzero(var["final_value"].to_numpy() > 1e-6):
        v = var.iloc[j]
        for change in (v.allowable_increase, -v.allowable_decrease):
            if not math.isfinite(change) or abs(change) < 1e-6:
                continue
            lp = sf.to_lp()
            cost = sf.cost.copy()
            cost[j] += 0.999 * change
            lp.col_cost_ = cost
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.passModel(lp)
            h.run()
            expected = r.objective + 0.999 * change * v.final_value
            assert h.getInfo().objective_function_value == pytest.approx(expected, rel=1e-9), (v.variable, change)
            moved_some += 1
    assert moved_some > 20


# ------------------------------------------------------------------ soft stock targets

# P and Q on one line of 100 h (1 h/unit, cost 3, price 10, demand 40 + 40 each). P: holding 5,
# safety penalty 1, target 20 in period 2; Q: holding 0, penalty 4, target 30 in period 1.
SOFT = new_spec(
    2,
    items=[item("P", "product", unit_cost=3, holding_cost=5, safety_penalty=1),
           item("Q", "product", unit_cost=3, holding_cost=0, safety_penalty=4)],
    demand=[dem("P", 1, 40, 10), dem("P", 2, 40, 10), dem("Q", 1, 40, 10), dem("Q", 2, 40, 10)],
    resources=[{"resource": "L", "capacity": 100}],
    routings=[{"item": "P", "resource": "L", "hours_per_unit": 1}, {"item": "Q", "resource": "L", "hours_per_unit": 1}],
    stock_targets=[{"item": "P", "period": per(2), "min": 20}, {"item": "Q", "period": per(1), "min": 30}],
)


def test_soft_target_price_moves_the_cap_with_the_target(tmp_path: Path) -> None:
    """A soft target T is both s + u ≥ T and u ≤ T; moving the target moves both.

    P, period 2: a unit of closing stock costs 3 + 5 holding against a penalty of 1, so the
    shortfall sits at its cap (u = 20, s = 0). The row's dual with the cap held is −8 (one more
    unit of stock), but one unit less of target earns the penalty, 1, at any level down to 0,
    and a higher target costs 1 per unit without limit (the shortfall grows with it).
    Q, period 1: stock built ahead costs nothing (holding 0, it replaces period-2 production),
    so the 20 spare hours make s = 20 and the shortfall u = 10 (basic): price −4 (the penalty),
    valid down to −10 (u reaches 0) and up without limit (HiGHS, with the cap held, said +20).
    Profit 1600 − 480 − 20·1 − 10·4 = 1060. Each price and range end is re-solved."""
    r = solve_spec(tmp_path, SOFT, sensitivity=True)
    assert r.objective == pytest.approx(1060)
    cons = r.sensitivity.constraints
    p = _rows(cons, "stock target min", entity="P", period=per(2)).iloc[0]
    q = _rows(cons, "stock target min", entity="Q", period=per(1)).iloc[0]
    assert (p.shadow_price, p.allowable_increase, p.allowable_decrease) == pytest.approx((-1, math.inf, 20))
    assert (q.shadow_price, q.allowable_increase, q.allowable_decrease) == pytest.approx((-4, math.inf, 10))

    def profit_at(product: str, period: str, target: float) -> float:
        spec = copy.deepcopy(SOFT)
        _upsert(spec["tables"]["stock_targets"], {"item": product, "period": period}, min=target)
        return solve_spec(tmp_path, spec).objective

    for row in (p, q):
        for change in (-1.0, 1.0, -row.allowable_decrease, 50.0):
            assert profit_at(row.entity, row.period, row.rhs + change) == pytest.approx(
                r.objective + row.shadow_price * change), (row.entity, change)
    # past the decrease: Q's stock of 20 meets any target up to 20 without a shortfall
    assert profit_at("Q", per(1), 5) == pytest.approx(r.objective + 4 * 10)
    lim = r.sensitivity.limits.set_index(["family", "entity"])
    assert lim.loc[("stock target min", "P"), "text"].startswith(
        f"stock target min P, {per(2)}: −1 unit of target is worth ¥1 profit, valid down to −20.0 units")


# ------------------------------------------------------------------ the value of a step, re-solved

# HAND with A's demand 65 and a third product C (margin 1, 4 ¥ of production budget a unit, on
# an unlimited line): C is not made while budget earns 2/3 per ¥ through A and B.
STEP = copy.deepcopy(HAND)
STEP["tables"]["demand"] = [dem("A", 1, 65, 10), dem("B", 1, 80, 10), dem("C", 1, 100, 5)]
STEP["tables"]["items"].append(item("C", "product", unit_cost=4))
STEP["tables"]["resources"].append({"resource": "L2", "capacity": "inf"})
STEP["tables"]["routings"].append({"item": "C", "resource": "L2", "hours_per_unit": 1})


def _profit_with(tmp_path: Path, spec: Spec, row, change: float) -> float:
    """Profit re-solved from the instance files with the limit row's number moved by `change`."""
    moved = copy.deepcopy(spec)
    if row.family == "capacity":
        next(r for r in moved["tables"]["resources"] if r["resource"] == row.entity)["capacity"] += change
    elif row.family == "budget horizon ceiling":
        next(r for r in moved["tables"]["budget_lines"] if r["line"] == row.entity)["ceiling"] += change
    elif row.family == "stock target min":
        _upsert(moved["tables"]["stock_targets"], {"item": row.entity, "period": row.period}, min=row.rhs + change)
    else:
        raise AssertionError(f"no data move for {row.family}")
    return solve_spec(tmp_path, moved).objective


def test_value_of_a_step_is_measured_by_a_re_solve(tmp_path: Path) -> None:
    """Price × step holds only inside the price's range. Ceiling C = 280 earns 2/3 per ¥ up to
    295 (A reaches its demand 65 with a = (C − 100)/3), then C's product takes the budget at 1/4
    per ¥: +10 % (28) is worth 2/3·15 + 1/4·13 = 13.25, not 2/3·28 = 18.67 and more than the
    lower bound 2/3·15 = 10. One day of L (100/30 h at 10/3 per hour, range +90) is worth
    100/9 = 11.11. Ranked by lower bounds the capacity came first; measured, the ceiling does.
    Every measured value is the re-solved change of profit."""
    folder = write_spec(tmp_path / "step", STEP)
    unmeasured = solve(load_instance(folder), sensitivity=True).sensitivity.limits
    assert list(unmeasured["family"]) == ["capacity", "budget horizon ceiling"]
    assert set(unmeasured["value_basis"]) == {"lower_bound"}
    assert list(unmeasured["value_of_step"]) == pytest.approx([100 / 9, 10])

    r = solve(load_instance(folder), sensitivity=True)
    measure_limits(r, SolveOptions(), top=2, jobs=2)
    lim = r.sensitivity.limits
    assert list(lim["family"]) == ["budget horizon ceiling", "capacity"]
    assert list(lim["value_basis"]) == ["measured", "measured"]
    assert list(lim["value_of_step"]) == pytest.approx([13.25, 100 / 9])
    assert list(lim["parameter"]) == ["line_ceiling:production", f"capacity:L@{per(1)}"]
    for row in lim.itertuples():
        assert row.resolved_profit == pytest.approx(r.objective + row.value_of_step)
        assert _profit_with(tmp_path, STEP, row, row.step_size) == pytest.approx(r.objective + row.value_of_step)
        lower = unmeasured.set_index("family").at[row.family, "value_of_step"]
        assert row.value_of_step >= lower - 1e-9  # the unmeasured figure is a lower bound


def test_only_the_top_limits_are_re_solved(tmp_path: Path) -> None:
    """With top=1 the ceiling (largest price × step, 18.67) is re-solved (13.25) and then ranks
    first, above the capacity's lower bound 11.11, which is left unmeasured."""
    r = solve(load_instance(write_spec(tmp_path / "step", STEP)), sensitivity=True)
    measure_limits(r, SolveOptions(), top=1, jobs=1)
    lim = r.sensitivity.limits
    assert list(zip(lim["family"], lim["value_basis"], strict=True)) == [
        ("budget horizon ceiling", "measured"), ("capacity", "lower_bound")]
    assert math.isnan(lim["resolved_profit"].iloc[1])


def test_soft_target_step_is_measured(tmp_path: Path) -> None:
    """On SOFT, −10 % of P's target (2 units) earns 2 (the penalty), re-solved."""
    r = solve_spec(tmp_path, SOFT, sensitivity=True)
    measure_limits(r, SolveOptions(), top=4, jobs=1)
    lim = r.sensitivity.limits.set_index(["family", "entity"])
    p = lim.loc[("stock target min", "P")]
    assert (p.value_basis, p.value_of_step, p.parameter) == ("measured", pytest.approx(2), f"target_min:P@{per(2)}")
    q = lim.loc[("stock target min", "Q")]
    assert (q.value_basis, q.value_of_step) == ("measured", pytest.approx(4 * 3))


def test_cli_solve_measures_and_says_which(tmp_path: Path, capsys) -> None:
    folder = write_spec(tmp_path / "step", STEP)
    out = tmp_path / "plan"
    assert cli_main(["solve", str(folder), "--sensitivity", "--jobs", "1", "--out", str(out)]) == 0
    lim = pd.read_csv(out / "limits.csv")
    assert list(lim["value_basis"]) == ["measured", "measured"]
    text = capsys.readouterr().out
    assert "worth ¥13.25 for 10 % of the ceiling, re-solved" in text
    out0 = tmp_path / "plan0"
    assert cli_main(["solve", str(folder), "--sensitivity", "--measure", "0", "--out", str(out0)]) == 0
    assert set(pd.read_csv(out0 / "limits.csv")["value_basis"]) == {"lower_bound"}
    assert "worth at least ¥11.11 for one day of capacity" in capsys.readouterr().out


def test_one_period_parameters_change_one_row(tmp_path: Path) -> None:
    """`kind:target@PERIOD` sets that period's number alone, adding the row where the period
    took the default; the other periods and the other bound keep theirs."""
    inst = load_instance(write_spec(tmp_path / "stock", STOCK))
    got = apply_parameter(inst, Parameter.parse(f"capacity:L@{per(2)}"), 70)
    assert got.tables["capacity"][["period", "capacity"]].values.tolist() == [[per(2), 70]]
    assert base_value(got, Parameter.parse(f"capacity:L@{per(1)}")) == 100
    got = apply_parameter(inst, Parameter.parse(f"target_min:P@{per(1)}"), 5)
    st = got.tables["stock_targets"].set_index("period")
    assert (st.at[per(1), "min"], st.at[per(1), "max"], st.at[per(2), "min"]) == (5, 30, 20)
    got = apply_parameter(inst, Parameter.parse(f"min_cash@{per(3)}"), 50)
    assert got.tables["cash_min"][["period", "amount"]].values.tolist() == [[per(3), 50]]
    assert got.cash.min_balance == inst.cash.min_balance
    budgets = load_instance(write_spec(tmp_path / "budgets", BUDGETS))
    assert base_value(apply_parameter(budgets, Parameter.parse("line_ceiling:production"), 90),
                      Parameter.parse("budget:production")) == 90
    assert apply_parameter(budgets, Parameter.parse("emergency_pool"), 4).budget.emergency_pool == 4
    for bad in ("credit_limit@2027-01", "target_min:P", "capacity:L@2031-01", "line_ceiling:procurement"):
        with pytest.raises(ParameterError):
            p = Parameter.parse(bad)
            base_value(budgets if bad.startswith("line") else inst, p)
