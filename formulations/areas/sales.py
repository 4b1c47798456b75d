"""Sales: shipments, backlog and lost sales per product, channel and period (docs/model.md §4.3).

    must:     v[p,k,t] = d[p,k,t]
    lost:     v[p,k,t] + l[p,k,t] = d[p,k,t]
    backlog:  b[t] - b[t-1] + v[t] = d[t]   (t from the first demand row; d = 0 without a row)
              l[p,k,n] - b[p,k,n] = 0       (what is still owed at the end is lost)

Shipments leave the product's stock; revenue price·v is collected by the channel's terms
(share at t + lag; amounts after n are closing receivables).
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import Blocking, Limit, RowFamily, VarFamily, share_of

DEMAND = RowFamily(
    "sales.demand", ("product", "channel", "t"), "unit", "demand",
    limit=Limit(
        noun="demand", relax=-1, step=share_of(0.1, 1.0, "10 % of the demand"),
        weight=2.0, keys=(),  # serving less loses the sale and the customer
        relax_text="serve {amount} less of {product} to {channel}{where} (must-serve demand {current} → {proposed})",
        number=lambda inst, d, key: d.demand.get(key, 0.0),
        only_where=lambda d, key: d.service.get(key[1]) == "must",  # other channels may ship less anyway
        opportunity=True,  # more demand is more sales: ranked after the limits
    ),
    blocking=Blocking(14, "firm (must) demand of {entity}{where} ({rhs:,.0f} units) takes the same resources",
                      "unit less"),
)
BACKLOG_END = RowFamily("sales.backlog_end", ("product", "channel", "t"), "unit", "end backlog")
FAMILIES = (DEMAND, BACKLOG_END)
VARIABLES = (
    VarFamily("sales.ship", ("product", "channel", "t"), "shipment", table="sales", column="shipped"),
    VarFamily("sales.backlog", ("product", "channel", "t"), "backlog", table="sales", column="backlog"),
    VarFamily("sales.lost", ("product", "channel", "t"), "lost sales", table="sales", column="lost"),
)


def add_sales(ctx: Context) -> pyo.Block:
    d = ctx.data
    b = pyo.Block()
    ctx.model.sales = b
    b.ship = pyo.Var(d.ship_index, within=pyo.NonNegativeReals)
    b.backlog = pyo.Var(d.backlog_index, within=pyo.NonNegativeReals)
    b.lost = pyo.Var(d.lost_index, within=pyo.NonNegativeReals)

    with ctx.rows.batch(DEMAND) as demand:
        for p, k, t in d.ship_index:
            qty = d.demand.get((p, k, t), 0.0)
            v = b.ship[p, k, t]
            mode = d.service[k]
            if mode == "must":
                demand.add((p, k, t), [1.0], [v], qty, qty)
            elif mode == "lost":
                demand.add((p, k, t), [1.0, 1.0], [v, b.lost[p, k, t]], qty, qty)
            elif (p, k, t - 1) in b.backlog:
                demand.add((p, k, t), [1.0, -1.0, 1.0], [b.backlog[p, k, t], b.backlog[p, k, t - 1], v], qty, qty)
            else:
                demand.add((p, k, t), [1.0, 1.0], [b.backlog[p, k, t], v], qty, qty)
    ends = [key for key in d.lost_index if d.service[key[1]] == "backlog"]
    ctx.rows.add_many(BACKLOG_END, ends, [[1.0, -1.0]] * len(ends), [[b.lost[key], b.backlog[key]] for key in ends], 0.0, 0.0)

    for p, k, t in d.ship_index:
        v = b.ship[p, k, t]
        price = d.price[(p, k, t)]
        ctx.stock.add((p, t), -1.0, v)
        ctx.pnl.add(("revenue", t), price, v)
        for lag, share in d.terms[d.collect_terms[k]]:
            when = t + lag
            if when <= d.n:
                ctx.receipts.add(when, share * price, v)
            else:
                ctx.closing.add("receivables", share * price, v)
    for p, k, t in d.backlog_index:
        ctx.pnl.add(("backlog", t), d.backlog_cost[k], b.backlog[p, k, t])
    for p, k, t in d.lost_index:
        ctx.pnl.add(("lost", t), d.lost_cost[k], b.lost[p, k, t])
    return b
