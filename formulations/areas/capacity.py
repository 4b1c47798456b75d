"""Capacity with overtime and the rush-order reserve; fixed resource costs (docs/model.md §4.4).

    Σ_steps (hours_per_unit·x + setup_hours·y) - o[r,t] <= (1 - reserve_r) · cap[r,t]
    o[r,t] <= overtime_max_r

The reserve is capacity the monthly plan may not use (rush orders may). Rows exist only for
finite capacity and periods with some use; overtime only where overtime_max > 0. Fixed costs
are paid and committed every period whether or not the resource is used.
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import Blocking, Limit, RowFamily, VarFamily, one_day

HOURS = RowFamily(
    "capacity.hours", ("resource", "t"), "hour", "capacity",
    limit=Limit(
        noun="capacity", relax=+1, step=one_day(8.0, "one day of capacity (1/30 of the period's hours)"),
        weight=1.0, keys=("capacity",),
        relax_text="raise the capacity of {resource}{where} by {amount}, to {proposed}{note}",
        number=lambda inst, d, key: d.capacity[key],
        parameter="capacity:{resource}@{period}",
        rhs_per_unit=lambda d, key: 1.0 - d.reserve[key[0]],  # the reserve is held back
        scaled_note=" ({rhs_amount} plannable after the {held:.0%} reserve)",
    ),
    blocking=Blocking(1, "capacity of {entity}{where} is fully used ({rhs:,.0f} h including the rush reserve)",
                      "hour"),
)
OVERTIME_LIMIT = RowFamily(
    "capacity.overtime_limit", ("resource", "t"), "hour", "overtime limit",
    limit=Limit(
        noun="overtime allowance", relax=+1, step=one_day(1.0, "one day of overtime (1/30 of the limit)"),
        weight=0.9, keys=("overtime",),  # beyond-limit overtime before new capacity
        relax_text="allow {amount} of overtime beyond the limit on {resource}{where} (limit {current} → {proposed})",
        number=lambda inst, d, key: d.overtime_max[key[0]],  # one number for every period: no parameter
    ),
    blocking=Blocking(2, "overtime of {entity}{where} is at its limit ({rhs:,.0f} h)", "hour"),
)
FAMILIES = (HOURS, OVERTIME_LIMIT)
VARIABLES = (VarFamily("capacity.overtime", ("resource", "t"), "overtime", table="capacity", column="overtime"),)


def add_capacity(ctx: Context) -> pyo.Block:
    d = ctx.data
    b = pyo.Block()
    ctx.model.capacity = b
    rows = [
        (r, t) for r in d.resources for t in d.T
        if math.isfinite(d.capacity[(r, t)]) and ctx.hours.has_vars((r, t))
    ]
    ot_index = [(r, t) for (r, t) in rows if d.overtime_max[r] > 0]
    b.overtime = pyo.Var(ot_index, within=pyo.NonNegativeReals)

    with ctx.rows.batch(HOURS) as hours:
        for r, t in rows:
            const, coefs, vars_ = ctx.hours.raw((r, t))
            if (r, t) in b.overtime:
                coefs, vars_ = [*coefs, -1.0], [*vars_, b.overtime[r, t]]
            hours.add((r, t), coefs, vars_, upper=(1.0 - d.reserve[r]) * d.capacity[(r, t)] - const)
    with ctx.rows.batch(OVERTIME_LIMIT) as limit:
        for r, t in ot_index:
            limit.add((r, t), [1.0], [b.overtime[r, t]], upper=d.overtime_max[r])

    for r, t in ot_index:
        o = b.overtime[r, t]
        cost = d.overtime_cost[r]
        ctx.payments.add(("overtime", t), cost, o)
        ctx.spend.add((d.resource_line[r], t), cost, o)
        ctx.pnl.add(("overtime", t), cost, o)
    for r in d.resources:
        for t in d.T:
            fc = d.fixed_cost[r]
            if fc:
                ctx.payments.add_constant(("fixed", t), fc)
                ctx.spend.add_constant((d.resource_line[r], t), fc)
                ctx.pnl.add_constant(("fixed", t), fc)
    return b
