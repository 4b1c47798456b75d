"""Cash: balance, minimum closing cash and the revolving credit line (MODEL.md §4.8).

    c[t] - c[t-1] - receipts[t] + payments[t] + rate·λ[t-1] - (λ[t] - λ[t-1]) = 0
    c[t] >= min_balance[t]        λ[t] <= credit_limit

with c[0] = cash.initial and λ[0] = initial_loan. Interest is cash and cost, not budget;
overhead is cash and cost, not budget.
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.context import CASH_OUT_KINDS, Context


def add_cash(ctx: Context) -> pyo.Block:
    d = ctx.data
    cash = ctx.inst.cash
    b = pyo.Block()
    ctx.model.cash = b
    b.cash = pyo.Var(d.T, within=pyo.Reals)
    has_loan = cash.credit_limit > 0 or cash.initial_loan > 0
    b.loan = pyo.Var(d.T if has_loan else [], within=pyo.NonNegativeReals)

    for t in d.T:
        if cash.overhead or d.overhead[t]:
            ctx.payments.add_constant(("overhead", t), d.overhead[t])
            ctx.pnl.add_constant(("overhead", t), d.overhead[t])

    def loan(blk, t):
        if t == 0:
            return cash.initial_loan
        return blk.loan[t] if has_loan else 0.0

    def balance_rule(blk, t):
        prev = blk.cash[t - 1] if t > 1 else cash.initial
        out = sum((ctx.payments.expr((kind, t)) for kind in CASH_OUT_KINDS), start=0.0)
        interest = cash.interest_rate * loan(blk, t - 1)
        return (
            blk.cash[t] - prev - ctx.receipts.expr(t) + out + interest - (loan(blk, t) - loan(blk, t - 1))
            == 0.0
        )

    b.balance = pyo.Constraint(d.T, rule=balance_rule)
    b.min_cash = pyo.Constraint(d.T, rule=lambda blk, t: blk.cash[t] >= d.cash_min[t])
    b.credit_limit = pyo.Constraint(
        d.T if has_loan else [], rule=lambda blk, t: blk.loan[t] <= cash.credit_limit
    )
    if has_loan and cash.interest_rate:
        for t in d.T:
            if t == 1:
                ctx.pnl.add_constant(("interest", 1), cash.interest_rate * cash.initial_loan)
            else:
                ctx.pnl.add(("interest", t), cash.interest_rate, b.loan[t - 1])
    return b
