"""What limits the plan, and what relaxing it is worth (fixed-pattern LP sensitivity).

HiGHS gives no duals for a MIP, so the integer decisions (setups, orders) are fixed at the
best plan and the LP is re-solved (the "polish" of solver/highs.py); its duals, reduced costs
and `getRanging()` are reported in business terms. **Sign convention**: a positive shadow
price is profit gained per unit of *extra right-hand side* (per hour, per unit, per currency
unit); HiGHS's row duals are already ∂objective/∂rhs for either sense, and the objective is
profit. The prices are local: they hold for the plan's fixed setup and order pattern and
within the reported range; the exact value of a larger change is measured by re-solving
(`prodbudget sweep`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from solver.summary import money

FIXED_PATTERN_LABEL = (
    "Shadow prices and ranges hold for the plan's fixed setup and order pattern "
    "(integer decisions fixed at the best plan, LP re-solved); larger changes: prodbudget sweep."
)
LP_LABEL = "Shadow prices and ranges of the LP (no integer decisions): exact within the ranges."

# constraint component -> (family, index names, unit of the right-hand side)
ROW_FAMILIES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "capacity.hours": ("capacity", ("resource", "t"), "hour"),
    "capacity.overtime_limit": ("overtime limit", ("resource", "t"), "hour"),
    "budget.commit": ("budget commitment", ("line", "t"), "money"),
    "budget.period_ceiling": ("budget per period", ("line", "t"), "money"),
    "budget.line_ceiling": ("budget horizon ceiling", ("line",), "money"),
    "budget.pool": ("budget pool", (), "money"),
    "budget.emergency_pool": ("emergency pool", (), "money"),
    "cash.balance": ("cash balance", ("t",), "money"),
    "cash.min_cash": ("minimum cash", ("t",), "money"),
    "cash.credit_limit": ("credit limit", ("t",), "money"),
    "inventory.balance": ("stock balance", ("item", "t"), "unit"),
    "inventory.target_min": ("stock target min", ("item", "t"), "unit"),
    "inventory.target_max": ("stock target max", ("item", "t"), "unit"),
    "sales.demand": ("demand", ("product", "channel", "t"), "unit"),
    "sales.backlog_end": ("end backlog", ("product", "channel", "t"), "unit"),
    "production.setup_link": ("setup link", ("item", "routing", "t"), "unit"),
    "production.min_lot": ("minimum lot", ("item", "routing", "t"), "unit"),
    "procurement.order_link": ("order link", ("item", "t"), "unit"),
    "procurement.moq": ("minimum order quantity", ("item", "t"), "unit"),
}
# families a planner can relax, with the step their value is quoted for
LIMIT_FAMILIES = {
    "capacity": ("one day of capacity (1/30 of the period's hours)", lambda rhs: abs(rhs) / 30 if rhs else 8.0),
    "overtime limit": ("one day of overtime (1/30 of the limit)", lambda rhs: abs(rhs) / 30 if rhs else 1.0),
    "budget per period": ("10 % of the ceiling", lambda rhs: 0.1 * abs(rhs) if rhs else 1000.0),
    "budget horizon ceiling": ("10 % of the ceiling", lambda rhs: 0.1 * abs(rhs) if rhs else 1000.0),
    "budget pool": ("10 % of the pool", lambda rhs: 0.1 * abs(rhs) if rhs else 1000.0),
    "emergency pool": ("10 % of the pool", lambda rhs: 0.1 * abs(rhs) if rhs else 1000.0),
    "minimum cash": ("10 % of the minimum", lambda rhs: 0.1 * abs(rhs) if rhs else 1000.0),
    "credit limit": ("10 % of the credit line", lambda rhs: 0.1 * abs(rhs) if rhs else 1000.0),
    "stock target min": ("10 % of the target", lambda rhs: 0.1 * abs(rhs) if rhs else 1.0),
    "stock target max": ("10 % of the limit", lambda rhs: 0.1 * abs(rhs) if rhs else 1.0),
    "demand": ("10 % of the demand", lambda rhs: 0.1 * abs(rhs) if rhs else 1.0),
}
VAR_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "production.x": ("production", ("item", "routing", "t")),
    "production.y": ("setup", ("item", "routing", "t")),
    "procurement.q": ("purchase", ("item", "t")),
    "procurement.z": ("order placed", ("item", "t")),
    "inventory.stock": ("stock", ("item", "t")),
    "inventory.shortfall": ("safety shortfall", ("item", "t")),
    "sales.ship": ("shipment", ("product", "channel", "t")),
    "sales.backlog": ("backlog", ("product", "channel", "t")),
    "sales.lost": ("lost sales", ("product", "channel", "t")),
    "capacity.overtime": ("overtime", ("resource", "t")),
    "budget.alloc": ("budget allocation", ("line", "t")),
    "budget.emergency": ("emergency budget", ("line", "t")),
    "cash.cash": ("closing cash", ("t",)),
    "cash.loan": ("loan", ("t",)),
}
# extra demand is an opportunity, not a limit to relax: ranked after the limits
OPPORTUNITY_FAMILIES = {"demand"}
TOL = 1e-7


@dataclass
class Sensitivity:
    constraints: pd.DataFrame
    variables: pd.DataFrame
    limits: pd.DataFrame
    label: str

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "sensitivity_constraints": self.constraints,
            "sensitivity_variables": self.variables,
            "limits": self.limits,
        }


def _split_index(index, names: tuple[str, ...], periods: tuple[str, ...]) -> tuple[str, str]:
    """(entity, period label) from a component index."""
    if index is None:
        return "", ""
    idx = index if isinstance(index, tuple) else (index,)
    entity = [str(v) for v, n in zip(idx, names, strict=False) if n != "t"]
    period = ""
    if "t" in names:
        t = idx[names.index("t")]
        period = periods[int(t) - 1]
    return " / ".join(entity), period


def compute_sensitivity(result, options=None) -> Sensitivity | None:
    """Constraints and variables tables plus the ranked limits; None without a plan."""
    out, sf = result.outcome, result.standard_form
    if out is None or out.highs is None:
        return None
    h = out.highs
    inst = result.instance
    periods = inst.periods
    sol = h.getSolution()
    row_value = np.array(sol.row_value, dtype=float)
    row_dual = np.array(sol.row_dual, dtype=float)
    col_value = np.array(sol.col_value, dtype=float)
    col_dual = np.array(sol.col_dual, dtype=float)
    _status, rg = h.getRanging()
    label = FIXED_PATTERN_LABEL if sf.num_integers else LP_LABEL

    # ---- constraints
    recs = []
    up_val = np.array(rg.row_bound_up.value_, dtype=float)
    dn_val = np.array(rg.row_bound_dn.value_, dtype=float)
    for j, (con, kind) in enumerate(sf.rows):
        comp = con.parent_component().name
        family, names, unit = ROW_FAMILIES.get(comp, (comp, (), ""))
        entity, period = _split_index(con.index(), names, periods)
        rhs = sf.row_upper[j] if kind == 1 else sf.row_lower[j]
        act = row_value[j]
        slack = rhs - act if kind == 1 else (act - rhs if kind == -1 else 0.0)
        price = row_dual[j]
        binding = abs(slack) <= TOL * max(1.0, abs(rhs)) and (kind == 0 or abs(price) > TOL)
        if abs(price) > TOL or kind == 0:
            inc, dec = up_val[j] - rhs, rhs - dn_val[j]
        elif kind == 1:  # non-binding <=: rhs can grow freely, fall by the slack
            inc, dec = math.inf, slack
        else:
            inc, dec = slack, math.inf
        recs.append((family, entity, period, comp, act, "<=" if kind == 1 else (">=" if kind == -1 else "="),
                     rhs, slack, binding, price, max(inc, 0.0) + 0.0, max(dec, 0.0) + 0.0, unit))
    cons = pd.DataFrame(recs, columns=[
        "family", "entity", "period", "constraint", "final_value", "sense", "rhs", "slack",
        "binding", "shadow_price", "allowable_increase", "allowable_decrease", "rhs_unit",
    ])
    cons["rhs_unit"] = cons["rhs_unit"].replace("money", inst.currency)

    # ---- variables
    cost_up = np.array(rg.col_cost_up.value_, dtype=float)[: sf.num_cols]
    cost_dn = np.array(rg.col_cost_dn.value_, dtype=float)[: sf.num_cols]
    vrecs = []
    for j, var in enumerate(sf.columns):
        comp = var.parent_component().name
        family, names = VAR_FAMILIES.get(comp, (comp, ()))
        entity, period = _split_index(var.index(), names, periods)
        c = sf.cost[j]
        vrecs.append((family, entity, period, var.name, col_value[j], col_dual[j], c,
                      max(cost_up[j] - c, 0.0) + 0.0, max(c - cost_dn[j], 0.0) + 0.0, bool(sf.is_integer[j])))
    variables = pd.DataFrame(vrecs, columns=[
        "family", "entity", "period", "variable", "final_value", "reduced_cost",
        "objective_coefficient", "allowable_increase", "allowable_decrease", "fixed_integer",
    ])
    return Sensitivity(constraints=cons, variables=variables, limits=rank_limits(cons, inst.currency), label=label)


def rank_limits(cons: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Binding limits ranked by the profit of relaxing them by a sensible step."""
    rows = []
    for r in cons.itertuples(index=False):
        if r.family not in LIMIT_FAMILIES or abs(r.shadow_price) <= TOL:
            continue
        step_name, step_of = LIMIT_FAMILIES[r.family]
        step = step_of(r.rhs)
        up = r.shadow_price > 0  # which way of moving the rhs gains profit
        valid = r.allowable_increase if up else r.allowable_decrease
        worth = abs(r.shadow_price) * min(step, valid)
        unit = currency if r.rhs_unit == currency else r.rhs_unit
        one = f"{'+' if up else '−'}{_one(unit, currency)}"
        where = ", ".join(x for x in (r.entity, r.period) if x)
        text = (f"{r.family}{' ' + where if where else ''}: {one} of {_what(r.family)} is worth "
                f"{_per_unit_money(abs(r.shadow_price), currency)} profit, valid "
                f"{'up to +' if up else 'down to −'}{_amount(valid, unit, currency)}")
        kind = "opportunity" if r.family in OPPORTUNITY_FAMILIES else "limit"
        rows.append((kind, r.family, r.entity, r.period, r.rhs, r.shadow_price, step_name, step, worth, valid, text))
    lim = pd.DataFrame(rows, columns=["kind", "family", "entity", "period", "rhs", "shadow_price", "step", "step_size",
                                      "value_of_step", "valid_range", "text"])
    # limits a planner can relax (capacity, budgets, cash, credit, targets) first, then the
    # value of extra demand; each group by the value of its step
    return lim.sort_values(["kind", "value_of_step", "family", "entity", "period"],
                           ascending=[True, False, True, True, True], ignore_index=True)


def _one(unit: str, currency: str) -> str:
    if unit == currency:
        return money(1, currency)
    return f"1 {unit}"


def _what(family: str) -> str:
    return {
        "capacity": "capacity", "overtime limit": "overtime allowance", "budget per period": "ceiling",
        "budget horizon ceiling": "ceiling", "budget pool": "pool", "emergency pool": "emergency pool",
        "minimum cash": "minimum cash", "credit limit": "credit line", "stock target min": "target",
        "stock target max": "limit", "demand": "demand",
    }.get(family, "right-hand side")


def _per_unit_money(value: float, currency: str) -> str:
    sym = money(0, currency).replace("0", "")
    return f"{sym}{value:,.4g}" if value < 100 else money(value, currency)


def _amount(value: float, unit: str, currency: str) -> str:
    if not math.isfinite(value):
        return "any amount"
    if unit == currency:
        return money(value, currency)
    return f"{value:,.1f} {unit}s" if unit else f"{value:,.1f}"
