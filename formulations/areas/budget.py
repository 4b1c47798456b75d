"""Budget: commitment of spend against allocation, ceilings, pool and emergency pool (§4.9).

    no carryover:  spend[β,t] - a[β,t] - e[β,t] <= 0
    carryover:     Σ_{τ<=t} (spend[β,τ] - a[β,τ] - e[β,τ]) <= carried_β
    a[β,t] <= ceiling[β,t]      Σ_t a[β,t] <= ceiling_β
    Σ_{β,t} a[β,t] <= pool      Σ_{β,t} e[β,t] <= emergency_pool

Allocation carries no cost; the emergency draw costs emergency_premium per unit (objective
only, never cash). carried_β is the allocation a carry-over line brings in unspent from
before period 1 (`inst.opening.budget_carried`; 0 unless a rolling re-plan inherits it).
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import Blocking, Limit, RowFamily, VarFamily, share_of

_AT_CEILING = "budget line {entity}{where} is at its ceiling ({rhs:,.0f} {currency})"
COMMIT = RowFamily("budget.commit", ("line", "t"), "money", "budget commitment")
PERIOD_CEILING = RowFamily(
    "budget.period_ceiling", ("line", "t"), "money", "budget per period",
    limit=Limit(
        noun="ceiling", relax=+1, step=share_of(0.1, 1000.0, "10 % of the ceiling"), weight=1.0,
        keys=("budget", "budget-period"),
        relax_text="raise the {line} budget{where} by {amount} (ceiling {current} → {proposed})",
        number=lambda inst, d, key: d.period_ceiling[key], parameter="budget:{line}@{period}",
    ),
    blocking=Blocking(3, _AT_CEILING, "{currency}"),
)
LINE_CEILING = RowFamily(
    "budget.line_ceiling", ("line",), "money", "budget horizon ceiling",
    limit=Limit(
        noun="ceiling", relax=+1, step=share_of(0.1, 1000.0, "10 % of the ceiling"), weight=1.0,
        keys=("budget-horizon",),
        relax_text="raise the horizon ceiling of the {line} budget by {amount} ({current} → {proposed})",
        number=lambda inst, d, key: d.line_ceiling[key[0]], parameter="line_ceiling:{line}",
    ),
    blocking=Blocking(4, _AT_CEILING, "{currency}"),
)
POOL = RowFamily(
    "budget.pool", (), "money", "budget pool",
    limit=Limit(
        noun="pool", relax=+1, step=share_of(0.1, 1000.0, "10 % of the pool"), weight=1.0, keys=("pool",),
        relax_text="raise the budget pool by {amount} ({current} → {proposed})",
        number=lambda inst, d, key: inst.budget.pool, parameter="budget_pool",
    ),
    blocking=Blocking(5, "the budget pool is used up ({rhs:,.0f} {currency})", "{currency}"),
)
EMERGENCY_POOL = RowFamily(
    "budget.emergency_pool", (), "money", "emergency pool",
    limit=Limit(
        noun="emergency pool", relax=+1, step=share_of(0.1, 1000.0, "10 % of the pool"), weight=1.0,
        keys=("emergency-pool", "emergency"),
        relax_text="raise the emergency pool by {amount} ({current} → {proposed})",
        number=lambda inst, d, key: inst.budget.emergency_pool, parameter="emergency_pool",
    ),
    blocking=Blocking(6, "the emergency budget pool is used up ({rhs:,.0f} {currency})", "{currency}"),
)
FAMILIES = (COMMIT, PERIOD_CEILING, LINE_CEILING, POOL, EMERGENCY_POOL)
VARIABLES = (
    VarFamily("budget.alloc", ("line", "t"), "budget allocation", table="budget", column="allocated"),
    VarFamily("budget.emergency", ("line", "t"), "emergency budget", table="budget", column="emergency"),
)


def add_budget(ctx: Context) -> pyo.Block:
    d = ctx.data
    settings = ctx.inst.budget
    b = pyo.Block()
    ctx.model.budget = b
    index = [(line, t) for line in d.lines for t in d.T]
    b.alloc = pyo.Var(index, within=pyo.NonNegativeReals)
    b.emergency = pyo.Var(index if settings.emergency_pool > 0 else [], within=pyo.NonNegativeReals)

    carried = ctx.inst.opening.budget_carried
    with ctx.rows.batch(COMMIT) as commit:
        for line in d.lines:
            acc_c: list[float] = []
            acc_v: list = []
            acc_const = -float(carried.get(line, 0.0)) if d.carryover[line] else 0.0  # moves to the right side
            for t in d.T:
                const, coefs, vars_ = ctx.spend.raw((line, t))
                c = [*coefs, -1.0]
                v = [*vars_, b.alloc[line, t]]
                if (line, t) in b.emergency:
                    c.append(-1.0)
                    v.append(b.emergency[line, t])
                if d.carryover[line]:  # Σ_{τ<=t} (spend - a - e) <= 0
                    acc_c, acc_v, acc_const = acc_c + c, acc_v + v, acc_const + const
                    c, v, const = acc_c, acc_v, acc_const
                    used = any(ctx.spend.has_vars((line, tau)) or ctx.spend.constant((line, tau)) for tau in range(1, t + 1))
                else:
                    used = bool(coefs) or const != 0.0
                if used:
                    commit.add((line, t), c, v, upper=-const)
    with ctx.rows.batch(PERIOD_CEILING) as period_ceiling:
        for line in d.lines:
            for t in d.T:
                ceiling = d.period_ceiling.get((line, t), math.inf)
                if math.isfinite(ceiling):
                    period_ceiling.add((line, t), [1.0], [b.alloc[line, t]], upper=ceiling)
    with ctx.rows.batch(LINE_CEILING) as line_ceiling:
        for line in d.lines:
            if math.isfinite(d.line_ceiling[line]):
                line_ceiling.add(line, [1.0] * d.n, [b.alloc[line, t] for t in d.T], upper=d.line_ceiling[line])
    if math.isfinite(settings.pool):
        ctx.rows.add_many(POOL, [None], [[1.0] * len(b.alloc)], [list(b.alloc.values())], upper=settings.pool)
    if settings.emergency_pool > 0:
        ctx.rows.add_many(EMERGENCY_POOL, [None], [[1.0] * len(b.emergency)], [list(b.emergency.values())],
                          upper=settings.emergency_pool)
        for (_line, t), e in b.emergency.items():
            ctx.pnl.add(("emergency", t), settings.emergency_premium, e)
    return b
