"""Sparse index sets and parameters prepared from an `Instance` (docs/model.md §1–§3).

Everything the blocks index over comes from the data: a start x[i,ρ,t] exists only for the
routings in routings.csv and the periods where t + lead_time ≤ n, a setup binary only where
the routing has a setup or the item a minimum lot, and so on. Nothing here knows about Pyomo.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

import pandas as pd

from formulations.plan_data import PlanData, Step
from formulations.setup.bigm import big_m

if TYPE_CHECKING:  # formulations depend on the instance only for types (no import cycle)
    from solver.io.instance import Instance


INF = math.inf


def _per_period(df: pd.DataFrame, key: str, value: str) -> dict:
    return {(k, int(t)): float(v) for k, t, v in zip(df[key].tolist(), df["t"].tolist(), df[value].tolist(), strict=True)}


def prepare(inst: Instance) -> PlanData:
    """The index sets and parameters of `inst`, with the big-M values (formulations/setup/bigm.py)."""
    n = inst.n
    T = range(1, n + 1)
    items = inst.tables["items"]
    names = items["item"].tolist()
    cols = {c: dict(zip(names, items[c].tolist(), strict=True)) for c in items.columns}
    col = cols.__getitem__
    kind = col("kind")
    made = [i for i in names if kind[i] != "material"]
    materials = [i for i in names if kind[i] == "material"]
    lead = {i: int(v) for i, v in col("lead_time").items()}
    unit_cost = {i: float(v) for i, v in col("unit_cost").items()}
    penalty = {i: float(v) for i, v in col("safety_penalty").items() if pd.notna(v)}

    # --- routings (file order matters: the first step's resource line is charged for unit_cost·x)
    res = inst.tables["resources"]
    resource_line = dict(zip(res["resource"], res["budget_line"], strict=True))
    steps: dict[tuple[str, str], list[Step]] = defaultdict(list)
    for item, rho, r, hpu, sh, sc in inst.tables["routings"][
        ["item", "routing", "resource", "hours_per_unit", "setup_hours", "setup_cost"]
    ].itertuples(index=False):
        steps[(item, rho)].append(Step(r, float(hpu), float(sh), float(sc)))
    routings = list(steps)
    routing_line = {k: resource_line[s[0].resource] for k, s in steps.items()}

    # --- capacity per (resource, period)
    base_cap = dict(zip(res["resource"], res["capacity"].astype(float), strict=True))
    capacity = {(r, t): base_cap[r] for r in res["resource"] for t in T}
    capacity.update(_per_period(inst.tables["capacity"], "resource", "capacity"))
    reserve = dict(zip(res["resource"], res["reserve"].astype(float), strict=True))
    overtime_max = dict(zip(res["resource"], res["overtime_max"].astype(float), strict=True))

    # --- stock targets
    target_min = {(i, t): float(v) for i, v in col("safety_stock").items() for t in T}
    target_max = {(i, t): float(v) for i, v in col("max_stock").items() for t in T}
    st = inst.tables["stock_targets"]
    target_min.update(_per_period(st, "item", "min"))
    target_max.update(_per_period(st, "item", "max"))

    oo = inst.tables["open_orders"]
    open_orders = _per_period(oo.groupby(["item", "t"], as_index=False)["quantity"].sum(), "item", "quantity") if len(oo) else {}

    # --- sales
    ch = inst.tables["channels"]
    service = dict(zip(ch["channel"], ch["service"], strict=True))
    dem = inst.tables["demand"]
    demand = {(p, k, int(t)): float(q) for p, k, t, q in zip(dem["product"], dem["channel"], dem["t"], dem["quantity"], strict=True)}
    row_price = {(p, k, int(t)): float(v) for p, k, t, v in zip(dem["product"], dem["channel"], dem["t"], dem["price"], strict=True)}
    first: dict[tuple[str, str], int] = {}
    for p, k, t in demand:
        first[(p, k)] = min(t, first.get((p, k), n + 1))
    ship_index, backlog_index, lost_index = [], [], []
    price = dict(row_price)
    for (p, k), t0 in sorted(first.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        mode = service[k]
        if mode == "backlog":
            last_price = 0.0
            for t in range(t0, n + 1):
                last_price = row_price.get((p, k, t), last_price)
                price[(p, k, t)] = last_price
                ship_index.append((p, k, t))
                backlog_index.append((p, k, t))
            lost_index.append((p, k, n))
        else:
            for t in range(t0, n + 1):
                if (p, k, t) in demand:
                    ship_index.append((p, k, t))
                    if mode == "lost":
                        lost_index.append((p, k, t))

    # --- terms
    terms: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for tid, lag, share in inst.tables["terms"][["terms", "lag", "share"]].itertuples(index=False):
        terms[tid].append((int(lag), float(share)))
    terms.setdefault("cash", [(0, 1.0)])

    # --- cash and budget
    cash_min = {t: inst.cash.min_balance for t in T}
    cash_min.update({int(t): float(a) for t, a in zip(inst.tables["cash_min"]["t"], inst.tables["cash_min"]["amount"], strict=True)})
    overhead = {t: inst.cash.overhead for t in T}
    overhead.update({int(t): float(a) for t, a in zip(inst.tables["overhead"]["t"], inst.tables["overhead"]["amount"], strict=True)})
    bl = inst.tables["budget_lines"]
    lines = list(bl["line"])
    line_ceiling = {b: float(c) for b, c in zip(bl["line"], bl["ceiling"], strict=True)}
    carryover = {b: bool(c) for b, c in zip(bl["line"], bl["carryover"], strict=True)}
    period_ceiling = _per_period(inst.tables["budgets"], "line", "ceiling")

    # --- BOM
    bom = inst.tables["bom"]
    parents_of: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for parent, child, qty in bom[["parent", "child", "quantity"]].itertuples(index=False):
        parents_of[child].append((parent, float(qty)))

    min_lot = {i: float(v) for i, v in col("min_lot").items()}
    moq = {i: float(v) for i, v in col("moq").items()}
    order_cost = {i: float(v) for i, v in col("order_cost").items()}

    # --- index sets of production and purchases
    x_index = [(i, rho, t) for (i, rho) in routings for t in range(1, n - lead[i] + 1)]
    with_setup = {
        k for k, s in steps.items()
        if min_lot[k[0]] > 0 or any(st_.setup_hours > 0 or st_.setup_cost > 0 for st_ in s)
    }
    y_index = [k for k in x_index if (k[0], k[1]) in with_setup]
    q_index = [(m, t) for m in materials for t in range(1, n - lead[m] + 1)]
    z_index = [k for k in q_index if moq[k[0]] > 0 or order_cost[k[0]] > 0]

    d = PlanData(
        n=n, periods=inst.periods, kind=kind, made=made, materials=materials, lead=lead,
        unit_cost=unit_cost, holding_cost={i: float(v) for i, v in col("holding_cost").items()},
        initial_stock={i: float(v) for i, v in col("initial_stock").items()},
        safety_penalty=penalty, min_lot=min_lot, moq=moq, order_cost=order_cost,
        pay_terms={m: col("terms")[m] for m in materials},
        material_line={m: col("budget_line")[m] for m in materials},
        routings=routings, steps=dict(steps), routing_line=routing_line,
        x_index=x_index, y_index=y_index, x_bound={},
        q_index=q_index, z_index=z_index, q_bound={}, parents_of=dict(parents_of),
        resources=list(res["resource"]), capacity=capacity, reserve=reserve,
        overtime_max=overtime_max,
        overtime_cost=dict(zip(res["resource"], res["overtime_cost"].astype(float), strict=True)),
        fixed_cost=dict(zip(res["resource"], res["fixed_cost"].astype(float), strict=True)),
        resource_line=resource_line, target_min=target_min, target_max=target_max,
        open_orders=open_orders, demand=demand, price=price, service=service,
        collect_terms=dict(zip(ch["channel"], ch["terms"], strict=True)),
        backlog_cost=dict(zip(ch["channel"], ch["backlog_cost"].astype(float), strict=True)),
        lost_cost=dict(zip(ch["channel"], ch["lost_cost"].astype(float), strict=True)),
        ship_index=ship_index, backlog_index=backlog_index, lost_index=lost_index,
        terms=dict(terms), cash_min=cash_min, overhead=overhead, lines=lines,
        line_ceiling=line_ceiling, carryover=carryover, period_ceiling=period_ceiling,
    )
    bounds = big_m(d, inst.policy.terminal_value, inst.cash, inst.budget, inst.opening)
    d.x_bound, d.q_bound, d.unbounded = bounds.x_bound, bounds.q_bound, bounds.unbounded
    return d
