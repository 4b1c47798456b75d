"""Budget: commitment of spend against allocation, ceilings, pool and emergency pool (§4.9).

    no carryover:  spend[β,t] - a[β,t] - e[β,t] <= 0
    carryover:     Σ_{τ<=t} (spend[β,τ] - a[β,τ] - e[β,τ]) <= 0
    a[β,t] <= ceiling[β,t]      Σ_t a[β,t] <= ceiling_β
    Σ_{β,t} a[β,t] <= pool      Σ_{β,t} e[β,t] <= emergency_pool

Allocation carries no cost; the emergency draw costs emergency_premium per unit (objective
only, never cash).
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from formulations.context import Context


def add_budget(ctx: Context) -> pyo.Block:
    d = ctx.data
    settings = ctx.inst.budget
    b = pyo.Block()
    ctx.model.budget = b
    index = [(line, t) for line in d.lines for t in d.T]
    b.alloc = pyo.Var(index, within=pyo.NonNegativeReals)
    b.emergency = pyo.Var(index if settings.emergency_pool > 0 else [], within=pyo.NonNegativeReals)

    def cover(blk, line, t):
        expr = ctx.spend.expr((line, t)) - blk.alloc[line, t]
        if (line, t) in blk.emergency:
            expr = expr - blk.emergency[line, t]
        return expr

    def commit_rule(blk, line, t):
        if d.carryover[line]:
            return sum((cover(blk, line, tau) for tau in range(1, t + 1)), start=0.0) <= 0.0
        return cover(blk, line, t) <= 0.0

    used = [(line, t) for (line, t) in index if any(
        ctx.spend.has_vars((line, tau)) or ctx.spend.constant((line, tau))
        for tau in (range(1, t + 1) if d.carryover[line] else (t,))
    )]
    b.commit = pyo.Constraint(used, rule=commit_rule)
    per_period = [k for k in index if math.isfinite(d.period_ceiling.get(k, math.inf))]
    b.period_ceiling = pyo.Constraint(per_period, rule=lambda blk, line, t: blk.alloc[line, t] <= d.period_ceiling[(line, t)])
    horizon = [line for line in d.lines if math.isfinite(d.line_ceiling[line])]
    b.line_ceiling = pyo.Constraint(
        horizon, rule=lambda blk, line: sum(blk.alloc[line, t] for t in d.T) <= d.line_ceiling[line]
    )
    if math.isfinite(settings.pool):
        b.pool = pyo.Constraint(expr=sum(b.alloc.values()) <= settings.pool)
    if settings.emergency_pool > 0:
        b.emergency_pool = pyo.Constraint(expr=sum(b.emergency.values()) <= settings.emergency_pool)
        for (line, t), e in b.emergency.items():
            ctx.pnl.add(("emergency", t), settings.emergency_premium, e)
    return b
