"""Inventory: stock balances and stock targets (docs/model.md §4.1, §4.2, §4.7).

    s[i,t] - s[i,t-1] - (registered inflows - outflows) = open[i,t]      (s[i,0] = initial_stock)
    s[i,t] + u[i,t] >= min[i,t]     (u only where the item has a safety_penalty; u <= min)
    s[i,t] <= max[i,t]

Holding cost on closing stock each period; terminal value terminal_value·unit_cost on s[i,n].
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import Blocking, Limit, RowFamily, Step, VarFamily, share_of


def _shortage_words(inst, d, key) -> dict[str, str]:
    item = key[0]
    return {"kind": d.kind[item], "how": "bought" if d.kind[item] == "material" else "made", "lead": str(d.lead[item])}


def _target_words(inst, d, key) -> dict[str, str]:
    soft = key[0] in d.safety_penalty
    return {"state": "is already drawn down to nothing" if soft else "is a hard target"}


BALANCE = RowFamily(
    "inventory.balance", ("item", "t"), "unit", "stock balance",
    blocking=Blocking(9, "{kind} {item} runs short{where} ({how} with a lead time of {lead} period(s){frozen})",
                      "unit on hand", step=Step("one unit of the item", lambda rhs: 1.0)),
    words=_shortage_words,
)
TARGET_MIN = RowFamily(
    "inventory.target_min", ("item", "t"), "unit", "stock target min",
    limit=Limit(
        noun="target", relax=-1, step=share_of(0.1, 1.0, "10 % of the target"), weight=1.0,
        keys=("safety-stock",),
        relax_text="lower the safety stock of {item}{where} by {number} ({current} → {proposed})",
        number=lambda inst, d, key: d.target_min[key], parameter="target_min:{item}@{period}",
    ),
    blocking=Blocking(11, "safety stock of {entity}{where} ({rhs:,.0f} units) {state}", "unit less"),
    words=_target_words,
)
TARGET_MAX = RowFamily(
    "inventory.target_max", ("item", "t"), "unit", "stock target max",
    limit=Limit(
        noun="limit", relax=+1, step=share_of(0.1, 1.0, "10 % of the limit"), weight=1.0, keys=("max-stock",),
        relax_text="raise the stock limit of {item}{where} by {number} ({current} → {proposed})",
        number=lambda inst, d, key: d.target_max[key], parameter="target_max:{item}@{period}",
    ),
    blocking=Blocking(10, "warehouse limit of {entity}{where} ({rhs:,.0f} units)", "unit of space"),
)
FAMILIES = (BALANCE, TARGET_MIN, TARGET_MAX)
STOCK = VarFamily("inventory.stock", ("item", "t"), "stock", table="inventory", column="closing")
SHORTFALL = VarFamily("inventory.shortfall", ("item", "t"), "safety shortfall", table="inventory", column="shortfall")
VARIABLES = (STOCK, SHORTFALL)


def add_inventory(ctx: Context) -> pyo.Block:
    d = ctx.data
    b = pyo.Block()
    ctx.model.inventory = b
    items = list(d.kind)
    index = [(i, t) for i in items for t in d.T]
    b.stock = pyo.Var(index, within=pyo.NonNegativeReals)
    soft = [(i, t) for (i, t) in index if i in d.safety_penalty and d.target_min[(i, t)] > 0]
    b.shortfall = pyo.Var(soft, within=pyo.NonNegativeReals, bounds=lambda blk, i, t: (0.0, d.target_min[(i, t)]))

    with ctx.rows.batch(BALANCE) as balance:
        for i, t in index:
            const, coefs, vars_ = ctx.stock.raw((i, t))
            rhs = d.open_orders.get((i, t), 0.0) + const
            if t > 1:
                head_c, head_v = [1.0, -1.0], [b.stock[i, t], b.stock[i, t - 1]]
            else:
                head_c, head_v = [1.0], [b.stock[i, t]]
                rhs += d.initial_stock[i]
            balance.add((i, t), head_c + [-c for c in coefs], head_v + list(vars_), rhs, rhs)
    with ctx.rows.batch(TARGET_MIN) as target_min:
        for i, t in index:
            target = d.target_min[(i, t)]
            if target > 0:
                if (i, t) in b.shortfall:
                    target_min.add((i, t), [1.0, 1.0], [b.stock[i, t], b.shortfall[i, t]], lower=target)
                else:
                    target_min.add((i, t), [1.0], [b.stock[i, t]], lower=target)
    capped = [key for key in index if math.isfinite(d.target_max[key])]
    ctx.rows.add_many(TARGET_MAX, capped, [[1.0]] * len(capped), [[b.stock[key]] for key in capped],
                      upper=[d.target_max[key] for key in capped])

    tv = ctx.inst.policy.terminal_value
    for i, t in index:
        ctx.pnl.add(("holding", t), d.holding_cost[i], b.stock[i, t])
    for i in items:
        ctx.pnl.add(("terminal", d.n), tv * d.unit_cost[i], b.stock[i, d.n])
    for i, t in soft:
        ctx.pnl.add(("safety", t), d.safety_penalty[i], b.shortfall[i, t])
    return b
