"""Production: starts by routing, setups and minimum lots (docs/model.md §4.1, §4.5).

    x[i,ρ,t] - M[i,ρ,t] · y[i,ρ,t] <= 0     (setup link; M from formulations/setup/bigm.py)
    x[i,ρ,t] - min_lot_i · y[i,ρ,t] >= 0

A start in t adds to the item's stock in t + lead_time, consumes BOM children in t, uses
hours_per_unit on every step's resource (plus setup_hours per setup), and costs unit_cost·x
(charged to the line of the routing's first step) and the steps' setup costs (each charged to
its resource's line), paid and committed in t.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import Blocking, RowFamily, Switch, VarFamily

SETUP_LINK = RowFamily("production.setup_link", ("item", "routing", "t"), "unit", "setup link", role="link",
                       switch=Switch("production.y", lambda d: d.x_bound))
MIN_LOT = RowFamily("production.min_lot", ("item", "routing", "t"), "unit", "minimum lot", role="lot",
                    blocking=Blocking(12, "minimum lot {entity}{where} ({rhs:,.4g})", "unit"))
FAMILIES = (SETUP_LINK, MIN_LOT)
VARIABLES = (
    VarFamily("production.x", ("item", "routing", "t"), "production", table="production", column="quantity"),
    VarFamily("production.y", ("item", "routing", "t"), "setup", table="production", column="setup"),
)


def add_production(ctx: Context) -> pyo.Block:
    d = ctx.data
    b = pyo.Block()
    ctx.model.production = b
    b.x = pyo.Var(d.x_index, within=pyo.NonNegativeReals)
    b.y = pyo.Var(d.y_index, within=pyo.Binary)

    pairs = [[b.x[key], b.y[key]] for key in d.y_index]
    ctx.rows.add_many(SETUP_LINK, d.y_index, [[1.0, -d.x_bound[key]] for key in d.y_index], pairs, upper=0.0)
    lots = [k for k, key in enumerate(d.y_index) if d.min_lot[key[0]] > 0]
    ctx.rows.add_many(MIN_LOT, [d.y_index[k] for k in lots], [[1.0, -d.min_lot[d.y_index[k][0]]] for k in lots],
                      [pairs[k] for k in lots], lower=0.0)

    children: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for child, parents in d.parents_of.items():
        for parent, qty in parents:
            children[parent].append((child, qty))

    for i, rho, t in d.x_index:
        x = b.x[i, rho, t]
        uc = d.unit_cost[i]
        ctx.stock.add((i, t + d.lead[i]), 1.0, x)
        for child, qty in children.get(i, ()):
            ctx.stock.add((child, t), -qty, x)
        for s in d.steps[(i, rho)]:
            ctx.hours.add((s.resource, t), s.hours_per_unit, x)
        ctx.payments.add(("production", t), uc, x)
        ctx.spend.add((d.routing_line[(i, rho)], t), uc, x)
        ctx.pnl.add(("production", t), uc, x)
    for i, rho, t in d.y_index:
        y = b.y[i, rho, t]
        for s in d.steps[(i, rho)]:
            ctx.hours.add((s.resource, t), s.setup_hours, y)
            ctx.payments.add(("setup", t), s.setup_cost, y)
            ctx.spend.add((d.resource_line[s.resource], t), s.setup_cost, y)
            ctx.pnl.add(("setup", t), s.setup_cost, y)
    return b
