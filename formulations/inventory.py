"""Inventory: stock balances and stock targets (MODEL.md §4.1, §4.2, §4.7).

    s[i,t] - s[i,t-1] - (registered inflows - outflows) = open[i,t]      (s[i,0] = initial_stock)
    s[i,t] + u[i,t] >= min[i,t]     (u only where the item has a safety_penalty; u <= min)
    s[i,t] <= max[i,t]

Holding cost on closing stock each period; terminal value terminal_value·unit_cost on s[i,n].
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from formulations.context import Context


def add_inventory(ctx: Context) -> pyo.Block:
    d = ctx.data
    b = pyo.Block()
    ctx.model.inventory = b
    items = list(d.kind)
    index = [(i, t) for i in items for t in d.T]
    b.stock = pyo.Var(index, within=pyo.NonNegativeReals)
    soft = [(i, t) for (i, t) in index if i in d.safety_penalty and d.target_min[(i, t)] > 0]
    b.shortfall = pyo.Var(soft, within=pyo.NonNegativeReals, bounds=lambda blk, i, t: (0.0, d.target_min[(i, t)]))

    def balance_rule(blk, i, t):
        prev = blk.stock[i, t - 1] if t > 1 else d.initial_stock[i]
        rhs = d.open_orders.get((i, t), 0.0)
        return blk.stock[i, t] - prev - ctx.stock.expr((i, t)) == rhs

    b.balance = pyo.Constraint(index, rule=balance_rule)
    mins = [k for k in index if d.target_min[k] > 0]

    def min_rule(blk, i, t):
        lhs = blk.stock[i, t] + blk.shortfall[i, t] if (i, t) in blk.shortfall else blk.stock[i, t]
        return lhs >= d.target_min[(i, t)]

    b.target_min = pyo.Constraint(mins, rule=min_rule)
    maxes = [k for k in index if math.isfinite(d.target_max[k])]
    b.target_max = pyo.Constraint(maxes, rule=lambda blk, i, t: blk.stock[i, t] <= d.target_max[(i, t)])

    tv = ctx.inst.policy.terminal_value
    for i, t in index:
        ctx.pnl.add(("holding", t), d.holding_cost[i], b.stock[i, t])
    for i in items:
        ctx.pnl.add(("terminal", d.n), tv * d.unit_cost[i], b.stock[i, d.n])
    for i, t in soft:
        ctx.pnl.add(("safety", t), d.safety_penalty[i], b.shortfall[i, t])
    return b
