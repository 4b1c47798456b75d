"""The one object every block receives: instance data, the model, and the shared balances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyomo.environ as pyo

from formulations.plan_data import PlanData
from formulations.rows import Rows
from formulations.terms import Terms

if TYPE_CHECKING:  # formulations depend on the instance only for types (no import cycle)
    from solver.io.instance import Instance

# P&L components (docs/model.md §5): +1 adds to profit, -1 is a cost.
PNL_SIGN: dict[str, int] = {
    "revenue": +1,
    "purchases": -1,
    "production": -1,
    "setup": -1,
    "overtime": -1,
    "fixed": -1,
    "ordering": -1,
    "holding": -1,
    "backlog": -1,
    "lost": -1,
    "safety": -1,
    "interest": -1,
    "emergency": -1,
    "overhead": -1,
    "terminal": +1,
}

# Cash flows by kind (docs/model.md §4.8): receipts come in, the rest go out.
CASH_OUT_KINDS = ("materials", "production", "setup", "overtime", "fixed", "ordering", "overhead")


@dataclass
class Context:
    """Passed to every block builder; blocks add variables and register their terms here."""

    inst: Instance
    data: PlanData
    model: pyo.ConcreteModel
    stock: Terms = field(default_factory=Terms)  # (item, t): net inflow into closing stock
    hours: Terms = field(default_factory=Terms)  # (resource, t): hours used
    receipts: Terms = field(default_factory=Terms)  # t: cash collected
    payments: Terms = field(default_factory=Terms)  # (kind, t): cash paid
    spend: Terms = field(default_factory=Terms)  # (line, t): budget committed
    pnl: Terms = field(default_factory=Terms)  # (component, t): amount (sign from PNL_SIGN)
    closing: Terms = field(default_factory=Terms)  # "receivables" / "payables" falling after n
    rows: Rows = field(default_factory=Rows)  # every constraint row of the blocks (see rows.py)
    penalty: Terms = field(default_factory=Terms)  # (name, t): objective-only costs of a re-plan
    # (change penalties, …); not profit: the reported objective stays docs/model.md §5
