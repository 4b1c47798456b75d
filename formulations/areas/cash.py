"""Cash: balance, minimum closing cash and the revolving credit line (docs/model.md §4.8).

    c[t] - c[t-1] - receipts[t] + payments[t] + rate·λ[t-1] - (λ[t] - λ[t-1]) = 0
    (an initial loan without a credit line must be repaid in period 1: λ[t] <= credit_limit = 0)
    c[t] >= min_balance[t]        λ[t] <= credit_limit

with c[0] = cash.initial and λ[0] = initial_loan. Interest is cash and cost, not budget;
overhead is cash and cost, not budget. An instance's opening balances (a rolling re-plan's,
`solver.io.instance.OpeningBalances`) add constants: receipts[t] += receivable[t] and
payments[materials, t] += payable[t] — cash only, never profit or budget (their revenue and
cost belong to the periods already closed).
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.context import CASH_OUT_KINDS, Context
from formulations.families import Blocking, Limit, RowFamily, VarFamily, share_of

BALANCE = RowFamily("cash.balance", ("t",), "money", "cash balance")
MIN_CASH = RowFamily(
    "cash.min_cash", ("t",), "money", "minimum cash",
    limit=Limit(
        noun="minimum cash", relax=-1, step=share_of(0.1, 1000.0, "10 % of the minimum"), weight=1.0,
        keys=("min-cash",),
        relax_text=("cash falls {amount} below the minimum{where}: lower the minimum cash{where} by {amount} "
                    "({current} → {proposed}){fund}"),
        number=lambda inst, d, key: d.cash_min[key[0]], parameter="min_cash@{period}",
    ),
    blocking=Blocking(7, "cash{where} is at its minimum balance ({rhs:,.0f} {currency})", "{currency} of cash"),
    words=lambda inst, d, key: {"fund": "" if inst.cash.credit_limit > 0 else " or open a credit line of that size"},
)
CREDIT_LIMIT = RowFamily(
    "cash.credit_limit", ("t",), "money", "credit limit",
    limit=Limit(
        noun="credit line", relax=+1, step=share_of(0.1, 1000.0, "10 % of the credit line"),
        weight=0.9, keys=("credit",),  # a cash hole is what a credit line fills
        relax_text="credit line short by {amount}: raise the credit limit from {current} to {proposed} (needed in {when})",
        number=lambda inst, d, key: inst.cash.credit_limit, shared=True,  # one number: no parameter per period
    ),
    blocking=Blocking(8, "the credit line{where} is fully drawn ({rhs:,.0f} {currency})", "{currency} of credit"),
)
FAMILIES = (BALANCE, MIN_CASH, CREDIT_LIMIT)
VARIABLES = (
    VarFamily("cash.cash", ("t",), "closing cash", table="cash", column="closing"),
    VarFamily("cash.loan", ("t",), "loan", table="cash", column="loan"),
)


def add_cash(ctx: Context) -> pyo.Block:
    d = ctx.data
    cash = ctx.inst.cash
    b = pyo.Block()
    ctx.model.cash = b
    b.cash = pyo.Var(d.T, within=pyo.Reals)
    has_loan = cash.credit_limit > 0 or cash.initial_loan > 0
    b.loan = pyo.Var(d.T if has_loan else [], within=pyo.NonNegativeReals)

    opening = ctx.inst.opening
    for t, amount in opening.receivables.items():
        if amount:
            ctx.receipts.add_constant(int(t), float(amount))
    for t, amount in opening.payables.items():
        if amount:
            ctx.payments.add_constant(("materials", int(t)), float(amount))
    for t in d.T:
        if cash.overhead or d.overhead[t]:
            ctx.payments.add_constant(("overhead", t), d.overhead[t])
            ctx.pnl.add_constant(("overhead", t), d.overhead[t])

    rate = cash.interest_rate
    with ctx.rows.batch(BALANCE) as balance:
        for t in d.T:
            # c[t] - c[t-1] - receipts + payments + (1 + rate)·λ[t-1] - λ[t] = 0, constants moved right
            r_const, r_coefs, r_vars = ctx.receipts.raw(t)
            coefs, vars_ = [1.0], [b.cash[t]]
            rhs = r_const
            if t > 1:
                coefs.append(-1.0)
                vars_.append(b.cash[t - 1])
            else:
                rhs += cash.initial
            coefs += [-c for c in r_coefs]
            vars_ += r_vars
            for kind in CASH_OUT_KINDS:
                p_const, p_coefs, p_vars = ctx.payments.raw((kind, t))
                rhs -= p_const
                coefs += p_coefs
                vars_ += p_vars
            if has_loan:
                coefs.append(-1.0)
                vars_.append(b.loan[t])
                if t > 1:
                    coefs.append(1.0 + rate)
                    vars_.append(b.loan[t - 1])
                else:
                    rhs -= (1.0 + rate) * cash.initial_loan
            balance.add(t, coefs, vars_, rhs, rhs)
    ctx.rows.add_many(MIN_CASH, d.T, [[1.0]] * d.n, [[b.cash[t]] for t in d.T], lower=[d.cash_min[t] for t in d.T])
    if has_loan:
        ctx.rows.add_many(CREDIT_LIMIT, d.T, [[1.0]] * d.n, [[b.loan[t]] for t in d.T], upper=cash.credit_limit)
    if has_loan and cash.interest_rate:
        for t in d.T:
            if t == 1:
                ctx.pnl.add_constant(("interest", 1), cash.interest_rate * cash.initial_loan)
            else:
                ctx.pnl.add(("interest", t), cash.interest_rate, b.loan[t - 1])
    return b
