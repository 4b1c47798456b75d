"""What limits the plan, and what relaxing it is worth (fixed-pattern LP sensitivity).

HiGHS gives no duals for a MIP, so the integer decisions (setups, orders) are fixed at the
best plan and the LP is re-solved (the "polish" of solver/engine/highs.py); its duals, reduced costs
and `getRanging()` are reported in business terms. **Sign convention**: a positive shadow
price is profit gained per unit of *extra right-hand side* (per hour, per unit, per currency
unit); HiGHS's row duals are already ∂objective/∂rhs for either sense, and the objective is
profit. The prices are local: they hold for the plan's fixed setup and order pattern and
within the reported range; the exact value of a larger change is measured by re-solving
(`prodbudget sweep`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd

from formulations.areas.inventory import SHORTFALL, TARGET_MIN
from formulations.families import Place, RowFamily
from formulations.registry import ROWS, row_family, var_family
from solver.engine.highs import in_user_units
from solver.money import money

FIXED_PATTERN_LABEL = (
    "Shadow prices and ranges hold for the plan's fixed setup and order pattern "
    "(integer decisions fixed at the best plan, LP re-solved); larger changes: prodbudget sweep."
)
LP_LABEL = "Shadow prices and ranges of the LP (no integer decisions): exact within the ranges."
UNRANGED_LABEL = ("Ranges are not given: the LP without HiGHS's money scaling did not end optimal from the plan's "
                  "basis, so no ranging in your units could be read.")

TOL = 1e-7


@dataclass
class Sensitivity:
    constraints: pd.DataFrame
    variables: pd.DataFrame
    limits: pd.DataFrame
    label: str
    # sweep parameter -> units of its row's right-hand side per unit of the parameter (capacity
    # rows hold 1 − reserve of the hours): what solver.analysis.limits moves the number by
    rhs_per_unit: dict[str, float] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "sensitivity_constraints": self.constraints,
            "sensitivity_variables": self.variables,
            "limits": self.limits,
        }


def compute_sensitivity(result, options=None) -> Sensitivity | None:
    """Constraints and variables tables plus the ranked limits; None without a plan.

    Prices and ranges are in the user's units even when HiGHS ran with user scaling
    (`solver.engine.highs.in_user_units`); soft stock targets are priced and ranged as a planner moves
    them, the shortfall's cap with the target (`_soft_target_moves`)."""
    out, sf = result.outcome, result.standard_form
    if out is None or out.highs is None:
        return None
    inst = result.instance
    periods = inst.periods
    data = result.built.data if result.built is not None else None
    h = in_user_units(out.highs)
    ranged = h is not None
    h = h if ranged else out.highs
    sol = h.getSolution()
    row_value = np.array(sol.row_value, dtype=float)
    row_dual = np.array(sol.row_dual, dtype=float)
    col_value = np.array(sol.col_value, dtype=float)
    col_dual = np.array(sol.col_dual, dtype=float)
    label = FIXED_PATTERN_LABEL if sf.num_integers else LP_LABEL
    if ranged:
        _status, rg = h.getRanging()
        up_val = np.array(rg.row_bound_up.value_, dtype=float)
        dn_val = np.array(rg.row_bound_dn.value_, dtype=float)
        cost_up = np.array(rg.col_cost_up.value_, dtype=float)[: sf.num_cols]
        cost_dn = np.array(rg.col_cost_dn.value_, dtype=float)[: sf.num_cols]
    else:
        up_val = dn_val = np.full(sf.num_rows, math.nan)
        cost_up = cost_dn = np.full(sf.num_cols, math.nan)
        label += " " + UNRANGED_LABEL
    soft = _soft_target_moves(sf, h, col_value, col_dual)

    # ---- constraints
    recs = []
    per_unit: dict[str, float] = {}
    for j, (con, kind) in enumerate(sf.rows):
        fam = row_family(con)
        where = fam.place(con.index(), periods)
        parameter = _parameter(fam, where)
        if parameter and data is not None:
            per_unit[parameter] = fam.limit.per_unit(data, where.key)
        rhs = sf.row_upper[j] if kind == 1 else sf.row_lower[j]
        act = row_value[j]
        slack = rhs - act if kind == 1 else (act - rhs if kind == -1 else 0.0)
        price = row_dual[j]
        if abs(price) > TOL or kind == 0:
            inc, dec = up_val[j] - rhs, rhs - dn_val[j]
        elif kind == 1:  # non-binding <=: rhs can grow freely, fall by the slack
            inc, dec = math.inf, slack
        else:
            inc, dec = slack, math.inf
        if j in soft:
            price, inc, dec = soft[j](price, inc, dec, rhs)
        binding = abs(slack) <= TOL * max(1.0, abs(rhs)) and (kind == 0 or abs(price) > TOL)
        recs.append((fam.label, where.entity, where.period, fam.name, act,
                     "<=" if kind == 1 else (">=" if kind == -1 else "="), rhs, slack, binding, price,
                     _nonnegative(inc), _nonnegative(dec), fam.unit, parameter))
    cons = pd.DataFrame(recs, columns=[
        "family", "entity", "period", "constraint", "final_value", "sense", "rhs", "slack",
        "binding", "shadow_price", "allowable_increase", "allowable_decrease", "rhs_unit", "parameter",
    ])
    cons["rhs_unit"] = cons["rhs_unit"].replace("money", inst.currency)

    # ---- variables
    vrecs = []
    for j, var in enumerate(sf.columns):
        fam = var_family(var)
        where = fam.place(var.index(), periods)
        c = sf.cost[j]
        vrecs.append((fam.label, where.entity, where.period, var.name, col_value[j], col_dual[j], c,
                      _nonnegative(cost_up[j] - c), _nonnegative(c - cost_dn[j]), bool(sf.is_integer[j])))
    variables = pd.DataFrame(vrecs, columns=[
        "family", "entity", "period", "variable", "final_value", "reduced_cost",
        "objective_coefficient", "allowable_increase", "allowable_decrease", "fixed_integer",
    ])
    return Sensitivity(constraints=cons, variables=variables, limits=rank_limits(cons, inst.currency), label=label,
                       rhs_per_unit=per_unit)


def _nonnegative(x: float) -> float:
    """Ranging rounds to tiny negatives at degenerate vertices; NaN (not ranged) stays NaN."""
    return x if math.isnan(x) else max(x, 0.0) + 0.0


def _soft_target_moves(sf, h, col_value: np.ndarray, col_dual: np.ndarray) -> dict:
    """Row -> how its price and range change when the target also moves the shortfall's cap.

    A soft minimum stock target is two entries of one number T (docs/model.md §4.7, §7):
    s + u ≥ T and the shortfall's bound u ≤ T. HiGHS prices and ranges the row with the bound
    held, but a planner who moves the target moves both. The shortfall column is e_r (it
    enters only its target row; its penalty only the objective), so moving both by Δ:
    - u at its cap (nonbasic at upper, u = T): the basic solution is unchanged and u = T + Δ,
      so profit moves by (row dual + u's reduced cost)·Δ = −penalty·Δ, for every Δ ≥ −T;
    - u basic: B⁻¹e_r moves u alone, u + Δ ≤ T + Δ holds, so the row's price holds for every
      Δ ≥ −u;
    - u at 0: the cap never binds while T + Δ ≥ 0; the row's ranging holds, down to −T at most.
    Rows whose shortfall enters other rows are left as HiGHS ranges them."""
    cols = [j for j, v in enumerate(sf.columns) if v.parent_component().name == SHORTFALL.name]
    if not cols:
        return {}
    A = sf.A.tocsc()
    status = h.getBasis().col_status
    moves = {}
    for j in cols:
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        coef = A.data[A.indptr[j]:A.indptr[j + 1]]
        if len(rows) != 1 or coef[0] != 1.0 or sf.rows[rows[0]][0].parent_component().name != TARGET_MIN.name:
            continue
        u, st = col_value[j], status[j]
        if st == highspy.HighsBasisStatus.kUpper:
            moves[int(rows[0])] = lambda price, inc, dec, rhs, d=col_dual[j]: (price + d, math.inf, rhs)
        elif st == highspy.HighsBasisStatus.kBasic:
            moves[int(rows[0])] = lambda price, inc, dec, rhs, u=u: (price, math.inf, u)
        else:
            moves[int(rows[0])] = lambda price, inc, dec, rhs: (price, inc, min(dec, rhs))
    return moves


# what value_of_step is (limits.csv's value_basis)
MEASURED = "measured"  # profit of the re-solved changed instance minus the plan's profit
LOWER_BOUND = "lower_bound"  # price × the part of the step the price holds for; not re-solved
WITHIN_RANGE = "within_range"  # extra demand: price × the part of the step the price holds for
DEFAULT_MEASURED = 8  # limits `solve --sensitivity` re-solves (the number the terminal shows)

def _parameter(fam: RowFamily, where: Place) -> str:
    """The `prodbudget sweep --param` name of the number behind this row, or "" (the family's
    declaration says which number moves one row alone)."""
    if fam.limit is None or fam.limit.parameter is None:
        return ""
    return fam.limit.parameter.format(**where.fields(fam.dims))


def rank_limits(cons: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Binding limits ranked by the profit of relaxing them by a sensible step.

    Before any re-solve (`measure_limits`) the value of a step is price × the part of the step
    the price holds for: a lower bound (relaxing a limit never loses profit, and the plan's
    profit moves at the price over the whole range), not the value of the step, which can be
    many times more."""
    rows = []
    for r in cons.itertuples(index=False):
        fam = ROWS.get(r.constraint)
        if fam is None or fam.limit is None or abs(r.shadow_price) <= TOL:
            continue
        step_name, step = fam.limit.step.text, fam.limit.step.of_rhs(r.rhs)
        up = r.shadow_price > 0  # which way of moving the rhs gains profit
        valid = r.allowable_increase if up else r.allowable_decrease
        worth = abs(r.shadow_price) * min(step, valid)
        unit = currency if r.rhs_unit == currency else r.rhs_unit
        one = f"{'+' if up else '−'}{_one(unit, currency)}"
        where = ", ".join(x for x in (r.entity, r.period) if x)
        text = (f"{r.family}{' ' + where if where else ''}: {one} of {fam.limit.noun} is worth "
                f"{_per_unit_money(abs(r.shadow_price), currency)} profit, valid "
                f"{'up to +' if up else 'down to −'}{_amount(valid, unit, currency)}")
        kind = "opportunity" if fam.limit.opportunity else "limit"
        basis = WITHIN_RANGE if kind == "opportunity" else LOWER_BOUND
        rows.append((kind, r.family, r.entity, r.period, r.rhs, r.shadow_price, step_name, step, worth, basis,
                     math.nan, valid, r.parameter, text))
    lim = pd.DataFrame(rows, columns=["kind", "family", "entity", "period", "rhs", "shadow_price", "step", "step_size",
                                      "value_of_step", "value_basis", "resolved_profit", "valid_range", "parameter",
                                      "text"])
    return _sorted(lim)


def _sorted(lim: pd.DataFrame) -> pd.DataFrame:
    # limits a planner can relax (capacity, budgets, cash, credit, targets) first, then the
    # value of extra demand; each group by the value of its step
    return lim.sort_values(["kind", "value_of_step", "family", "entity", "period"],
                           ascending=[True, False, True, True, True], ignore_index=True)


def _one(unit: str, currency: str) -> str:
    if unit == currency:
        return money(1, currency)
    return f"1 {unit}"


def _per_unit_money(value: float, currency: str) -> str:
    sym = money(0, currency).replace("0", "")
    return f"{sym}{value:,.4g}" if value < 100 else money(value, currency)


def _amount(value: float, unit: str, currency: str) -> str:
    if not math.isfinite(value):
        return "any amount"
    if unit == currency:
        return money(value, currency)
    return f"{value:,.1f} {unit}s" if unit else f"{value:,.1f}"
