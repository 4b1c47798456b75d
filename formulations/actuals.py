"""Extension for rolling re-plans: cash that is already decided before the re-plan starts.

Receivables (collections of sales already made) and payables (payments for goods already
ordered) falling in the re-planned periods are constants of the cash balance (MODEL.md §4.8):

    receipts[t] += receivable[t]        payments[materials, t] += payable[t]

They are cash only, never profit or budget: their revenue and cost belong to the periods
already closed (accrual), so the re-plan's profit stays that of its own decisions.
"""

from __future__ import annotations

from collections.abc import Mapping

from formulations.assembly import Extension
from formulations.context import Context


def known_cash_flows(receivables: Mapping[int, float], payables: Mapping[int, float]) -> Extension:
    """Register fixed receipts and payments (period t = 1..n of the model -> amount)."""

    def extend(ctx: Context) -> None:
        for t, amount in receivables.items():
            if amount:
                ctx.receipts.add_constant(int(t), float(amount))
        for t, amount in payables.items():
            if amount:
                ctx.payments.add_constant(("materials", int(t)), float(amount))

    return extend
