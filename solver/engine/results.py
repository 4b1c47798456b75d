"""The plan as tidy tables (docs/model.md §6), extracted from the solution column values.

Flows that also enter a balance (stock, cash, budget spend, P&L) are evaluated from the same
registered terms the model was built from, so a report can never disagree with its model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from formulations.assembly import BuiltModel
from formulations.context import CASH_OUT_KINDS, PNL_SIGN
from solver.engine.highs import SolveOutcome, StandardForm
from solver.engine.status import Status

TABLE_NAMES = (
    "production", "purchases", "inventory", "sales", "capacity", "budget", "cash", "pnl", "balances",
)


@dataclass
class Result:
    """Everything a solve reports. Tables are empty DataFrames when there is no plan."""

    status: Status
    message: str
    objective: float
    bound: float
    gap: float
    kpis: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sensitivity: object | None = None  # solver.engine.sensitivity.Sensitivity when computed
    instance: object | None = field(default=None, repr=False)
    built: BuiltModel | None = field(default=None, repr=False)
    standard_form: StandardForm | None = field(default=None, repr=False)
    outcome: SolveOutcome | None = field(default=None, repr=False)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def has_plan(self) -> bool:
        return self.status.has_plan


def var_values(component, sf: StandardForm, values: np.ndarray) -> np.ndarray:
    """Values of an indexed Var in its index order.

    Fixed variables are not columns (the compiler substitutes them): they read their fixed
    value; variables in no row at all read 0.
    """
    col = sf.column_of
    out = np.zeros(len(component), dtype=float)
    for k, v in enumerate(component.values()):
        j = col.get(id(v))
        if j is not None:
            out[k] = values[j]
        elif v.fixed:
            out[k] = v.value
    return out


def _frame(keys: list[tuple], names: list[str], **cols) -> pd.DataFrame:
    df = pd.DataFrame(keys, columns=names) if keys else pd.DataFrame(columns=names)
    for name, arr in cols.items():
        df[name] = arr
    return df


def _clean(a: np.ndarray) -> np.ndarray:
    """Round solver noise (1e-10) to zero so tables read cleanly."""
    a = np.asarray(a, dtype=float)
    return np.where(np.abs(a) < 1e-7, 0.0, a)


def extract_tables(built: BuiltModel, sf: StandardForm, values: np.ndarray) -> dict[str, pd.DataFrame]:
    m, ctx, d = built.model, built.ctx, built.data
    inst = ctx.inst
    label = {t: p for t, p in enumerate(inst.periods, start=1)}
    ev = lambda terms: terms.evaluate(sf.column_of, values)  # noqa: E731

    # --- production
    x = _clean(var_values(m.production.x, sf, values))
    prod = _frame(list(m.production.x.keys()), ["item", "routing", "t"], quantity=x)
    ymap = dict(zip(m.production.y.keys(), np.round(var_values(m.production.y, sf, values)), strict=True))
    prod["setup"] = [int(ymap.get(k, 1.0 if q > 0 else 0.0)) for k, q in zip(m.production.x.keys(), x, strict=True)]
    prod["available_t"] = prod["t"] + prod["item"].map(d.lead)
    prod["variable_cost"] = prod["quantity"] * prod["item"].map(d.unit_cost)
    setup_cost = {k: sum(s.setup_cost for s in st) for k, st in d.steps.items()}
    prod["setup_cost"] = [setup_cost[(i, r)] * s if (i, r, t) in ymap else 0.0 for (i, r, t), s in zip(m.production.x.keys(), prod["setup"], strict=True)]
    prod["budget_line"] = [d.routing_line[(i, r)] for i, r in zip(prod["item"], prod["routing"], strict=True)]
    prod = prod[(prod["quantity"] > 0) | (prod["setup"] > 0)].reset_index(drop=True)

    # --- purchases
    q = _clean(var_values(m.procurement.q, sf, values))
    pur = _frame(list(m.procurement.q.keys()), ["item", "t"], quantity=q)
    zmap = dict(zip(m.procurement.z.keys(), np.round(var_values(m.procurement.z, sf, values)), strict=True))
    pur["order_placed"] = [int(zmap.get(k, 1.0 if v > 0 else 0.0)) for k, v in zip(m.procurement.q.keys(), q, strict=True)]
    pur["arrival_t"] = pur["t"] + pur["item"].map(d.lead)
    pur["cost"] = pur["quantity"] * pur["item"].map(d.unit_cost)
    pur["order_cost"] = [d.order_cost[i] * z if (i, t) in zmap else 0.0 for (i, t), z in zip(m.procurement.q.keys(), pur["order_placed"], strict=True)]
    pur["terms"] = pur["item"].map(d.pay_terms)
    pur["budget_line"] = pur["item"].map(d.material_line)
    pur = pur[(pur["quantity"] > 0) | (pur["order_placed"] > 0)].reset_index(drop=True)

    # --- sales
    v = _clean(var_values(m.sales.ship, sf, values))
    sales = _frame(list(m.sales.ship.keys()), ["product", "channel", "t"], shipped=v)
    sales.insert(3, "demand", [d.demand.get(k, 0.0) for k in m.sales.ship])
    bmap = dict(zip(m.sales.backlog.keys(), _clean(var_values(m.sales.backlog, sf, values)), strict=True))
    lmap = dict(zip(m.sales.lost.keys(), _clean(var_values(m.sales.lost, sf, values)), strict=True))
    keys = list(m.sales.ship.keys())
    sales["backlog"] = [bmap.get(k, 0.0) for k in keys]
    sales["lost"] = [lmap.get(k, 0.0) for k in keys]
    sales["service"] = sales["channel"].map(d.service)
    sales["price"] = [d.price[k] for k in keys]
    sales["revenue"] = sales["price"] * sales["shipped"]

    # --- inventory
    s = _clean(var_values(m.inventory.stock, sf, values))
    inv = _frame(list(m.inventory.stock.keys()), ["item", "t"], closing=s)
    inv.insert(1, "kind", inv["item"].map(d.kind))
    inv["opening"] = inv.groupby("item")["closing"].shift(1)
    inv["opening"] = inv["opening"].fillna(inv["item"].map(d.initial_stock))
    keys = list(m.inventory.stock.keys())
    inv["target_min"] = [d.target_min[k] for k in keys]
    inv["target_max"] = [d.target_max[k] for k in keys]
    umap = dict(zip(m.inventory.shortfall.keys(), _clean(var_values(m.inventory.shortfall, sf, values)), strict=True))
    inv["shortfall"] = [umap.get(k, 0.0) for k in keys]
    inv["open_orders"] = [d.open_orders.get(k, 0.0) for k in keys]
    inv["unit_cost"] = inv["item"].map(d.unit_cost)
    inv["value"] = inv["closing"] * inv["unit_cost"]
    inv = inv[["item", "kind", "t", "opening", "open_orders", "closing", "target_min", "target_max", "shortfall", "unit_cost", "value"]]

    # --- capacity
    hours = ev(ctx.hours)
    omap = dict(zip(m.capacity.overtime.keys(), _clean(var_values(m.capacity.overtime, sf, values)), strict=True))
    res = inst.tables["resources"].set_index("resource")
    rows = []
    for r in d.resources:
        for t in d.T:
            cap = d.capacity[(r, t)]
            regular = (1 - d.reserve[r]) * cap
            used = hours.get((r, t), 0.0)
            rows.append((r, res.at[r, "plant"], t, cap, d.reserve[r] * cap if math.isfinite(cap) else 0.0, regular, used,
                         omap.get((r, t), 0.0), d.overtime_max[r],
                         used / regular if math.isfinite(regular) and regular > 0 else (math.nan if used == 0 or math.isinf(regular) else math.inf)))
    capt = pd.DataFrame(rows, columns=["resource", "plant", "t", "capacity", "reserved", "available", "used", "overtime", "overtime_max", "utilisation"])
    capt["used"] = _clean(capt["used"].to_numpy())

    # --- budget
    spend = ev(ctx.spend)
    amap = dict(zip(m.budget.alloc.keys(), _clean(var_values(m.budget.alloc, sf, values)), strict=True))
    emap = dict(zip(m.budget.emergency.keys(), _clean(var_values(m.budget.emergency, sf, values)), strict=True))
    budget = pd.DataFrame(
        [(b, t, d.period_ceiling.get((b, t), math.inf), amap.get((b, t), 0.0), spend.get((b, t), 0.0), emap.get((b, t), 0.0), d.line_ceiling[b], d.carryover[b])
         for b in d.lines for t in d.T],
        columns=["line", "t", "ceiling", "allocated", "spent", "emergency", "line_ceiling", "carryover"],
    )
    budget["spent"] = _clean(budget["spent"].to_numpy())

    # --- cash
    receipts = ev(ctx.receipts)
    pay = ev(ctx.payments)
    cvals = var_values(m.cash.cash, sf, values)
    lvals = var_values(m.cash.loan, sf, values) if len(m.cash.loan) else np.zeros(d.n)
    cash = pd.DataFrame({"t": list(d.T)})
    cash["opening"] = np.concatenate([[inst.cash.initial], cvals[:-1]])
    cash["receipts"] = [receipts.get(t, 0.0) for t in d.T]
    for kind in CASH_OUT_KINDS:
        cash[f"pay_{kind}"] = [pay.get((kind, t), 0.0) for t in d.T]
    loan_prev = np.concatenate([[inst.cash.initial_loan], lvals[:-1]])
    cash["interest"] = inst.cash.interest_rate * loan_prev
    cash["borrowing"] = lvals - loan_prev
    cash["loan"] = lvals
    cash["closing"] = cvals
    cash["minimum"] = [d.cash_min[t] for t in d.T]
    cash["headroom"] = cash["closing"] - cash["minimum"]
    for c in cash.columns[1:]:
        cash[c] = _clean(cash[c].to_numpy())

    # --- P&L
    pnl_vals = ev(ctx.pnl)
    pnl = pd.DataFrame({"t": list(d.T)})
    for comp in PNL_SIGN:
        pnl[comp] = _clean(np.array([pnl_vals.get((comp, t), 0.0) for t in d.T]))
    pnl["profit"] = sum(PNL_SIGN[c] * pnl[c] for c in PNL_SIGN)

    # --- closing balances
    closing = ev(ctx.closing)
    balances = pd.DataFrame([{
        "cash": float(cvals[-1]),
        "receivables": closing.get("receivables", 0.0),
        "payables": closing.get("payables", 0.0),
        "stock_value": float(inv.loc[inv["t"] == d.n, "value"].sum()),
        "loan": float(lvals[-1]),
    }])

    tables = {
        "production": prod, "purchases": pur, "inventory": inv, "sales": sales, "capacity": capt,
        "budget": budget, "cash": cash, "pnl": pnl, "balances": balances,
    }
    for df in tables.values():  # period labels beside the integer index
        for tcol in ("t", "available_t", "arrival_t"):
            if tcol in df.columns:
                pos = df.columns.get_loc(tcol)
                name = {"t": "period", "available_t": "available", "arrival_t": "arrival"}[tcol]
                df.insert(pos, name, df[tcol].map(label))
    return tables


def kpis(tables: dict[str, pd.DataFrame]) -> dict:
    sales, cash, capt, budget = tables["sales"], tables["cash"], tables["capacity"], tables["budget"]
    demand = float(sales["demand"].sum())
    lost = float(sales["lost"].sum())
    finite = capt[np.isfinite(capt["utilisation"])]
    at_ceiling = budget[np.isfinite(budget["ceiling"]) & (budget["allocated"] >= budget["ceiling"] - 1e-6 * np.maximum(1, budget["ceiling"]))]
    line_totals = budget.groupby("line").agg(allocated=("allocated", "sum"), ceiling=("line_ceiling", "first"))
    line_full = line_totals[np.isfinite(line_totals["ceiling"]) & (line_totals["allocated"] >= line_totals["ceiling"] - 1e-6 * np.maximum(1, line_totals["ceiling"]))]
    return {
        "revenue": float(tables["pnl"]["revenue"].sum()),
        "service_level": 1.0 - lost / demand if demand > 0 else 1.0,
        "units_demanded": demand,
        "units_lost": lost,
        "min_cash_headroom": float(cash["headroom"].min()),
        "min_cash_period": str(cash.loc[cash["headroom"].idxmin(), "period"]),
        "max_loan": float(cash["loan"].max()),
        "peak_utilisation": float(finite["utilisation"].max()) if len(finite) else math.nan,
        "peak_resource": str(finite.loc[finite["utilisation"].idxmax(), "resource"]) if len(finite) else "",
        "peak_period": str(finite.loc[finite["utilisation"].idxmax(), "period"]) if len(finite) else "",
        "budget_at_period_ceiling": [f"{b} {p}" for b, p in zip(at_ceiling["line"], at_ceiling["period"], strict=True)],
        "budget_at_line_ceiling": list(line_full.index),
        "emergency_drawn": float(budget["emergency"].sum()),
    }
