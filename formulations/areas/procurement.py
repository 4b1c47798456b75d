"""Procurement: material orders, order costs and minimum order quantities (docs/model.md §4.2, §4.6).

    q[m,t] <= M[m,t] · z[m,t]     (M from formulations/setup/bigm.py: a larger order can be cut back)
    q[m,t] >= moq_m · z[m,t]

An order placed in t arrives in t + lead_time; it is committed against the material's budget
line in t (unit_cost·q + order_cost·z) and paid by the material's terms counted from arrival
(a negative lag is a prepayment). Payments after n are closing payables.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import Blocking, RowFamily, VarFamily

FAMILIES = (
    RowFamily("procurement.order_link", ("item", "t"), "unit", "order link", role="link"),
    RowFamily("procurement.moq", ("item", "t"), "unit", "minimum order quantity", role="lot",
              blocking=Blocking(13, "minimum order quantity {entity}{where} ({rhs:,.4g})", "unit")),
)
VARIABLES = (
    VarFamily("procurement.q", ("item", "t"), "purchase"),
    VarFamily("procurement.z", ("item", "t"), "order placed"),
)


def add_procurement(ctx: Context) -> pyo.Block:
    d = ctx.data
    b = pyo.Block()
    ctx.model.procurement = b
    b.q = pyo.Var(d.q_index, within=pyo.NonNegativeReals)
    b.z = pyo.Var(d.z_index, within=pyo.Binary)
    for key in d.z_index:
        ctx.rows.add("procurement.order_link", key, [1.0, -d.q_bound[key]], [b.q[key], b.z[key]], upper=0.0)
    for key in d.z_index:
        if d.moq[key[0]] > 0:
            ctx.rows.add("procurement.moq", key, [1.0, -d.moq[key[0]]], [b.q[key], b.z[key]], lower=0.0)

    for m, t in d.q_index:
        q = b.q[m, t]
        uc = d.unit_cost[m]
        arrival = t + d.lead[m]
        ctx.stock.add((m, arrival), 1.0, q)
        ctx.spend.add((d.material_line[m], t), uc, q)
        ctx.pnl.add(("purchases", t), uc, q)
        for lag, share in d.terms[d.pay_terms[m]]:
            when = arrival + lag
            if when <= d.n:
                ctx.payments.add(("materials", when), share * uc, q)
            else:
                ctx.closing.add("payables", share * uc, q)
    for m, t in d.z_index:
        z = b.z[m, t]
        oc = d.order_cost[m]
        ctx.payments.add(("ordering", t), oc, z)
        ctx.spend.add((d.material_line[m], t), oc, z)
        ctx.pnl.add(("ordering", t), oc, z)
    return b
