"""The ERP way on the same data: plan operations first, let finance cut afterwards.

This is the baseline that shows what joint planning is worth. The sequential process is

1. **Sales plan** = all demand.
2. **Operations plan** (`operations_plan`): production and purchases optimised on a copy of the
   instance whose finance limits are made non-binding — budget ceilings and pool removed,
   emergency pool 0, no cash floor (which also makes the credit line unnecessary: cash may go
   negative, so no loan is ever needed to stay above a floor). Every physical limit
   (capacity, lead times, lots, MOQ, stock targets, service modes) stays.
   *Service first*: operations serve as much demand as possible, as early as possible. This is
   done with dominating weights rather than several solves: every unit-period of backlog costs
   an extra objective-only penalty `W` and every lost unit `(n + 1)·W` (extension terms in
   `ctx.penalty`, never in the reported profit), so losing a unit is worse than serving it at
   any delay and each period of delay is worse than anything the unit's production could save.
   `W` = 2 × the largest (price + rolled-up unit cost of materials, production and overtime +
   holding over the horizon) of any product, at least 1. The plan thus maximises service first
   and profit second (only a setup or order whose fixed cost exceeds `W` times its whole lot
   could still be skipped — a proxy an MRP run shares). The existing loan may stay (credit
   line = initial loan); no new borrowing is needed because cash has no floor.
3. **Finance cuts** (`plan_then_cut`): the real instance (ceilings, cash floor, credit line)
   is solved with production and purchases only allowed to shrink from step 2, shipments,
   stock, overtime, loans and allocation re-optimised for profit:
   - `cut="period"`: one factor α_t ∈ [0,1] per period scales every start x[i,ρ,t] and every
     order q[m,t] of that period (x = α_t · x²; the classic "cut everything by 20 % in May");
   - `cut="order"`: each start and order is cut on its own (0 ≤ x ≤ x², 0 ≤ q ≤ q²).
   In both, setups and orders may only happen where step 2 had them (y ≤ y², z ≤ z²).
   Finance chooses the best cut for profit, which is generous to the baseline.
4. **Which limit breaks it**: if the cut plan is infeasible, the same cut model is re-solved
   with penalised slacks — extra budget per (line, period) (a negative spend term, so it
   bypasses that line's per-period and horizon ceilings and the pool) and extra cash per
   period (a receipt, so it bypasses the cash floor and the credit line). Slack weights fall
   slightly with t, so a slack sits in the period where the limit first breaks. The largest
   slack names the limit in business words ("the procurement budget in 2027-05").

`compare_sequential` runs both cuts beside a joint plan and reports them side by side
(`Comparison.table()`, `Comparison.headline`, `Comparison.differences`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd
import pyomo.environ as pyo

from formulations.areas.budget import LINE_CEILING, PERIOD_CEILING, POOL
from formulations.areas.cash import MIN_CASH
from formulations.context import Context
from formulations.families import RowFamily
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.engine.results import Result, var_values
from solver.engine.status import Status
from solver.io.instance import Instance, freeze_tables
from solver.money import money

CUTS = {"period": "per-period cut", "order": "per-order cut"}
SCALE = RowFamily("finance_cut.scale", ("j",), "unit", "finance_cut.scale")  # x = α_t · x_ops (q likewise)
SLACK_WEIGHT = 1000.0  # objective penalty per currency unit of slack (diagnosis only)
TOL = 1e-6


# ---------------------------------------------------------------------------- step 2


def relax_finance(inst: Instance) -> Instance:
    """A copy of `inst` whose budgets, cash floor and credit line cannot bind."""
    t = dict(inst.tables)
    t["budget_lines"] = t["budget_lines"].assign(ceiling=math.inf)
    t["budgets"] = t["budgets"].iloc[0:0].copy()
    t["cash_min"] = t["cash_min"].iloc[0:0].copy()
    return dataclasses.replace(
        inst,
        cash=dataclasses.replace(inst.cash, min_balance=-math.inf, credit_limit=inst.cash.initial_loan),
        budget=dataclasses.replace(inst.budget, pool=math.inf, emergency_pool=0.0),
        tables=freeze_tables(t),
    )


def service_weight(inst: Instance) -> float:
    """W of the module docstring: a lost or late unit costs more than any product is worth."""
    items = inst.tables["items"].set_index("item")
    res = inst.tables["resources"].set_index("resource")
    bom = inst.tables["bom"]
    g = nx.DiGraph()
    g.add_nodes_from(items.index)
    g.add_edges_from(zip(bom["parent"], bom["child"], strict=True))
    overtime_per_unit: dict[str, float] = {}
    for (item, _rho), steps in inst.tables["routings"].groupby(["item", "routing"]):
        cost = float((steps["hours_per_unit"] * steps["resource"].map(res["overtime_cost"])).sum())
        overtime_per_unit[item] = max(overtime_per_unit.get(item, 0.0), cost)
    rolled: dict[str, float] = {}
    children = bom.groupby("parent")
    for i in reversed(list(nx.topological_sort(g))):  # children first
        c = float(items.at[i, "unit_cost"]) + overtime_per_unit.get(i, 0.0)
        c += float(items.at[i, "holding_cost"]) * inst.n
        if i in children.groups:
            kids = children.get_group(i)
            c += float(sum(q * rolled[ch] for ch, q in zip(kids["child"], kids["quantity"], strict=True)))
        rolled[i] = c
    dem = inst.tables["demand"]
    worth = (dem["price"] + dem["product"].map(rolled)).max() if len(dem) else 0.0
    return max(2.0 * float(worth), 1.0)


def _service_first(weight: float):
    """Extension: every lost unit and unit-period of backlog costs `weight` (objective only)."""

    def extend(ctx: Context) -> None:
        sales = ctx.model.sales
        n = ctx.data.n
        for key, var in sales.lost.items():
            ctx.penalty.add(("service_first", key[-1]), weight * (n + 1), var)
        for key, var in sales.backlog.items():
            ctx.penalty.add(("service_first", key[-1]), weight, var)

    return extend


def operations_plan(inst: Instance, options: SolveOptions | None = None) -> Result:
    """Step 2: production and purchases for the whole sales plan, finance limits removed.

    The Result's `objective` is the plan's docs/model.md profit (the service weight is not in it);
    its cash table is the real cash flow, without the floor.
    """
    return solve(relax_finance(inst), options, extensions=[_service_first(service_weight(inst))])


# ---------------------------------------------------------------------------- step 3


def _planned(ops: Result) -> tuple[dict, dict, dict, dict]:
    """Step-2 starts, setups, orders and orders-placed keyed like the model variables."""
    prod, pur = ops.tables["production"], ops.tables["purchases"]
    x = {(i, r, int(t)): float(q) for i, r, t, q in zip(prod["item"], prod["routing"], prod["t"], prod["quantity"], strict=True)}
    y = {(i, r, int(t)): int(s) for i, r, t, s in zip(prod["item"], prod["routing"], prod["t"], prod["setup"], strict=True)}
    q = {(m, int(t)): float(v) for m, t, v in zip(pur["item"], pur["t"], pur["quantity"], strict=True)}
    z = {(m, int(t)): int(o) for m, t, o in zip(pur["item"], pur["t"], pur["order_placed"], strict=True)}
    return x, y, q, z


def finance_cut(ops: Result, cut: str):
    """Extension: production and purchases may only shrink from the operations plan `ops`."""
    if cut not in CUTS:
        raise ValueError(f"cut must be one of {', '.join(CUTS)}, got {cut!r}")
    x2, y2, q2, z2 = _planned(ops)

    def extend(ctx: Context) -> None:
        m = ctx.model
        x, y, q, z = m.production.x, m.production.y, m.procurement.q, m.procurement.z
        for key, var in y.items():
            if y2.get(key, 0) == 0:
                var.fix(0)
        for key, var in z.items():
            if z2.get(key, 0) == 0:
                var.fix(0)
        for key, var in list(x.items()) + list(q.items()):
            planned = (x2 if var.parent_component() is x else q2).get(key, 0.0)
            if planned <= TOL:
                var.fix(0.0)
            elif cut == "order":
                var.setub(planned)
        if cut == "period":
            b = pyo.Block()
            m.finance_cut = b
            b.alpha = pyo.Var(ctx.data.T, bounds=(0.0, 1.0))
            scaled = [(key, var, x2[key], key[-1]) for key, var in x.items() if not var.fixed]
            scaled += [(key, var, q2[key], key[-1]) for key, var in q.items() if not var.fixed]
            ctx.rows.add_many(SCALE, range(len(scaled)), [[1.0, -planned] for _key, _var, planned, _t in scaled],
                              [[var, b.alpha[t]] for _key, var, _planned, t in scaled], 0.0, 0.0, after_model=True)

    return extend


def _elastic(ctx: Context) -> None:
    """Extension: penalised extra budget per (line, t) and extra cash per t (diagnosis only)."""
    d = ctx.data
    b = pyo.Block()
    ctx.model.elastic = b
    b.budget = pyo.Var([(line, t) for line in d.lines for t in d.T], within=pyo.NonNegativeReals)
    b.cash = pyo.Var(d.T, within=pyo.NonNegativeReals)
    for t in d.T:
        w = SLACK_WEIGHT * (1.0 + (d.n - t) / (100.0 * d.n))  # later is cheaper: first break
        ctx.receipts.add(t, 1.0, b.cash[t])
        ctx.penalty.add(("elastic", t), w, b.cash[t])
        for line in d.lines:
            ctx.spend.add((line, t), -1.0, b.budget[line, t])
            ctx.penalty.add(("elastic", t), w, b.budget[line, t])


@dataclass
class SequentialResult:
    """The plan-then-cut outcome for one cut rule."""

    cut: str  # "period" | "order"
    feasible: bool
    result: Result  # the cut plan (no tables when infeasible)
    operations: Result  # step 2: the plan before the cuts
    breaks: pd.DataFrame = field(default_factory=pd.DataFrame)  # slacks that restore feasibility
    breaking_limit: str = ""  # business words, e.g. "the procurement budget in 2027-05"

    @property
    def profit(self) -> float:
        return self.result.objective if self.feasible else math.nan

    @property
    def label(self) -> str:
        return f"plan-then-cut ({CUTS[self.cut]})"


def plan_then_cut(inst: Instance, options: SolveOptions | None = None, cut: str = "period",
                  operations: Result | None = None) -> SequentialResult:
    """Steps 1–4 of the module docstring; pass `operations` to reuse a step-2 plan."""
    ops = operations if operations is not None else operations_plan(inst, options)
    if not ops.has_plan:
        return SequentialResult(cut, False, ops, ops, breaking_limit=f"no operations plan ({ops.message})")
    res = solve(inst, options, extensions=[finance_cut(ops, cut)])
    if res.has_plan:
        return SequentialResult(cut, True, res, ops)
    if res.status != Status.INFEASIBLE:
        return SequentialResult(cut, False, res, ops, breaking_limit=f"no cut plan found ({res.message})")
    breaks, text = diagnose(inst, options, ops, cut)
    return SequentialResult(cut, False, res, ops, breaks=breaks, breaking_limit=text)


def diagnose(inst: Instance, options: SolveOptions | None, ops: Result, cut: str) -> tuple[pd.DataFrame, str]:
    """Which finance limit makes the cut plan infeasible: the slacks of the elastic cut model,
    largest first, and the business words for the largest."""
    el = solve(inst, options, extensions=[finance_cut(ops, cut), _elastic])
    if not el.has_plan:
        return pd.DataFrame(), "a physical limit (must-serve demand or a hard stock target), not a finance limit"
    m, sf, vals = el.built.model, el.standard_form, el.outcome.values
    rows = []
    for (line, t), v in zip(m.elastic.budget.keys(), var_values(m.elastic.budget, sf, vals), strict=True):
        if v > TOL:
            rows.append(_budget_row(inst, el.tables["budget"], line, int(t), float(v)))
    for t, v in zip(m.elastic.cash.keys(), var_values(m.elastic.cash, sf, vals), strict=True):
        if v > TOL:
            rows.append(_cash_row(inst, int(t), float(v)))
    breaks = pd.DataFrame(rows, columns=["family", "constraint", "entity", "period", "t", "slack", "text"])
    if breaks.empty:
        return breaks, "a physical limit (must-serve demand or a hard stock target), not a finance limit"
    breaks = breaks.sort_values(["slack", "t"], ascending=[False, True], ignore_index=True)
    return breaks, str(breaks.at[0, "text"])


def _budget_row(inst: Instance, budget: pd.DataFrame, line: str, t: int, slack: float) -> tuple:
    """Name the ceiling that the extra budget of (line, t) bypasses: the per-period ceiling if
    the line's allocation sits at it in t, else the horizon ceiling if the line's total
    allocation sits at it, else the pool."""
    period = inst.periods[t - 1]
    rows = budget[budget["line"] == line]
    row = rows[rows["t"] == t].iloc[0]
    at = lambda value, limit: math.isfinite(limit) and value >= limit - TOL * max(1.0, abs(limit))  # noqa: E731
    if at(row["allocated"], row["ceiling"]):
        fam, text = PERIOD_CEILING, f"the {line} budget in {period}"
    elif at(rows["allocated"].sum(), row["line_ceiling"]):
        fam, text = LINE_CEILING, f"the {line} budget (horizon ceiling), first short in {period}"
    elif math.isfinite(inst.budget.pool):
        fam, text = POOL, f"the budget pool, first short on {line} in {period}"
    else:
        fam, text = PERIOD_CEILING, f"the {line} budget in {period}"
    return (fam.label, fam.name, line, period, t, slack, text)


def _cash_row(inst: Instance, t: int, slack: float) -> tuple:
    period = inst.periods[t - 1]
    credit = inst.cash.credit_limit
    text = f"the minimum cash in {period}" + (
        f" (credit line of {money(credit, inst.currency)} fully drawn)" if credit > 0 else "")
    return (MIN_CASH.label, MIN_CASH.name, "", period, t, slack, text)


# ---------------------------------------------------------------------------- step 5


def on_time_service(sales: pd.DataFrame) -> float:
    """Share of demanded units shipped in their own period (backlog shipments clear the oldest
    demand first, so a period's own demand is served after the backlog it inherited)."""
    if sales.empty or sales["demand"].sum() <= 0:
        return 1.0
    s = sales.sort_values(["product", "channel", "t"])
    prev = s.groupby(["product", "channel"])["backlog"].shift(1).fillna(0.0)
    on_time = (s["shipped"] - prev).clip(lower=0.0).clip(upper=s["demand"])
    return float(on_time.sum() / s["demand"].sum())


@dataclass
class Comparison:
    """The joint plan beside plan-then-cut (both cuts) and the operations plan before cuts."""

    currency: str
    joint: Result
    sequential: dict[str, SequentialResult]
    operations: Result
    differences: pd.DataFrame
    headline: str

    def columns(self) -> dict[str, Result | SequentialResult]:
        cols: dict[str, Result | SequentialResult] = {"joint plan": self.joint}
        cols.update({s.label: s for s in self.sequential.values()})
        cols["operations plan before cuts (ignores finance)"] = self.operations
        return cols

    def table(self) -> pd.DataFrame:
        """One row per measure (and per budget line, and per largest difference)."""
        cols = self.columns()
        lines = list(self.joint.instance.tables["budget_lines"]["line"]) if self.joint.instance is not None else []
        records: list[dict] = []

        def add(section: str, metric: str, fn) -> None:
            rec = {"section": section, "metric": metric}
            for name, obj in cols.items():
                res = obj.result if isinstance(obj, SequentialResult) else obj
                ok = obj.feasible if isinstance(obj, SequentialResult) else obj.has_plan
                rec[name] = fn(res) if ok else None
            records.append(rec)

        records.append({"section": "feasibility", "metric": "status", **{
            name: (("feasible" if obj.feasible else "infeasible") if isinstance(obj, SequentialResult) else str(obj.status))
            for name, obj in cols.items()}})
        records.append({"section": "feasibility", "metric": "breaks on", **{
            name: (obj.breaking_limit if isinstance(obj, SequentialResult) else "") for name, obj in cols.items()}})
        add("plan", "profit", lambda r: r.objective)
        add("plan", "revenue", lambda r: r.kpis["revenue"])
        add("plan", "on-time service", lambda r: on_time_service(r.tables["sales"]))
        add("plan", "service level (not lost)", lambda r: r.kpis["service_level"])
        for line in lines:
            add("budget used", f"budget used: {line}", lambda r, line=line: float(r.tables["budget"].query("line == @line")["spent"].sum()))
        add("cash", "lowest cash", lambda r: float(r.tables["cash"]["closing"].min()))
        add("cash", "lowest cash in", lambda r: str(r.tables["cash"].loc[r.tables["cash"]["closing"].idxmin(), "period"]))
        add("cash", "peak loan", lambda r: r.kpis["max_loan"])
        table = pd.DataFrame(records)
        if not self.differences.empty:
            versus = self.differences.attrs.get("versus", "")
            diff = pd.DataFrame({
                "section": "largest differences",
                "metric": [f"{w} {e} {p}".strip() for w, e, p in zip(
                    self.differences["what"], self.differences["entity"], self.differences["period"], strict=True)],
                "joint plan": self.differences["joint"],
            })
            if versus in table.columns:
                diff[versus] = self.differences["other"]
            table = pd.concat([table, diff], ignore_index=True)
        return table


def compare_sequential(inst: Instance, joint_result: Result, options: SolveOptions | None = None,
                       top: int = 5) -> Comparison:
    """Plan-then-cut with both cuts on `inst`, side by side with `joint_result`."""
    ops = operations_plan(inst, options)
    seq = {cut: plan_then_cut(inst, options, cut, operations=ops) for cut in CUTS}
    feasible = [s for s in seq.values() if s.feasible]
    best = max(feasible, key=lambda s: s.profit) if feasible else None
    other = best.result if best is not None else ops
    versus = best.label if best is not None else "operations plan before cuts (ignores finance)"
    diffs = differences(joint_result, other, top) if joint_result.has_plan and other.has_plan else pd.DataFrame()
    diffs.attrs["versus"] = versus
    return Comparison(inst.currency, joint_result, seq, ops, diffs, headline(joint_result, seq, inst.currency))


def headline(joint: Result, seq: dict[str, SequentialResult], currency: str) -> str:
    """"joint planning: +¥X profit (+Y %) over plan-then-cut (per-order cut); per-period cut
    breaks on the procurement budget in 2027-05"."""
    if not joint.has_plan:
        return f"joint planning finds no plan ({joint.message}); nothing to compare"
    feasible = [s for s in seq.values() if s.feasible]
    broken = [s for s in seq.values() if not s.feasible]
    if not feasible:
        limits = list(dict.fromkeys(s.breaking_limit for s in broken))
        text = f"joint planning: {money(joint.objective, currency)} profit; plan-then-cut finds no plan"
        if len(limits) == 1:
            return f"{text}: it breaks on {limits[0]}"
        return text + "".join(f"; {s.label} breaks on {s.breaking_limit}" for s in broken)
    best = max(feasible, key=lambda s: s.profit)
    gain = joint.objective - best.profit
    if abs(gain) <= TOL * max(1.0, abs(best.profit)):
        gain = 0.0
    pct = f" ({gain / abs(best.profit):+.1%})".replace("%", " %") if best.profit > 0 else ""
    text = f"joint planning: {'+' if gain >= 0 else '-'}{money(abs(gain), currency)} profit{pct} over {best.label}"
    bound = best.result.bound if math.isfinite(best.result.bound) else best.profit
    if gain > 0 and joint.objective - bound <= TOL * max(1.0, abs(bound)):
        text += " (within the MIP gaps: not significant)"
    return text + "".join(f"; {s.label} breaks on {s.breaking_limit}" for s in broken)


def differences(a: Result, b: Result, top: int = 5) -> pd.DataFrame:
    """Where plans `a` (joint) and `b` differ most: production by item and period, purchases by
    material and period, spend by budget line over the horizon (largest |difference| first)."""
    parts = []
    for what, table, keys, value in (
        ("production", "production", ["item", "period"], "quantity"),
        ("purchases", "purchases", ["item", "period"], "quantity"),
        ("spend", "budget", ["line"], "spent"),
    ):
        ga = a.tables[table].groupby(keys)[value].sum().rename("joint")
        gb = b.tables[table].groupby(keys)[value].sum().rename("other")
        df = pd.concat([ga, gb], axis=1).fillna(0.0).reset_index()
        df["difference"] = df["joint"] - df["other"]
        df = df[df["difference"].abs() > TOL]
        df = df.reindex(df["difference"].abs().sort_values(ascending=False).index).head(top)
        parts.append(pd.DataFrame({
            "what": what, "entity": df[keys[0]], "period": df.get("period", ""),
            "joint": df["joint"], "other": df["other"], "difference": df["difference"],
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
