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
from formulations.families import Blocking, RowFamily, Switch, VarFamily

ORDER_LINK = RowFamily("procurement.order_link", ("item", "t"), "unit", "order link", role="link",
                       switch=Switch("procurement.z", lambda d: d.q_bound))
MOQ = RowFamily("procurement.moq", ("item", "t"), "unit", "minimum order quantity", role="lot",
                blocking=Blocking(13, "minimum order quantity {entity}{where} ({rhs:,.4g})", "unit"))
FAMILIES = (ORDER_LINK, MOQ)
VARIABLES = (
    VarFamily("procurement.q", ("item", "t"), "purchase", table="purchases", column="quantity"),
    VarFamily("procurement.z", ("item", "t"), "order placed", table="purchases", column="order_placed"),
)


def add_procurement(ctx: Context) -> pyo.Block:
    d = ctx.data
    b = pyo.Block()
    ctx.model.procurement = b
    b.q = pyo.Var(d.q_index, within=pyo.NonNegativeReals)
    b.z = pyo.Var(d.z_index, within=pyo.Binary)
    pairs = [[b.q[key], b.z[key]] for key in d.z_index]
    ctx.rows.add_many(ORDER_LINK, d.z_index, [[1.0, -d.q_bound[key]] for key in d.z_index], pairs, upper=0.0)
    moq = [k for k, key in enumerate(d.z_index) if d.moq[key[0]] > 0]
    ctx.rows.add_many(MOQ, [d.z_index[k] for k in moq], [[1.0, -d.moq[d.z_index[k][0]]] for k in moq],
                      [pairs[k] for k in moq], lower=0.0)

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
