"""Parametric runs: vary one limit of the instance and re-solve the full MIP at each point.

LP shadow prices are local (and for a MIP hold only for the fixed setup pattern); a sweep is
the exact answer: profit and service level against the parameter, with the breakpoints where
the marginal value changes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from concurrent.futures import FIRST_COMPLETED, as_completed, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from solver.analysis.workers import executor
from solver.engine.options import SolveOptions
from solver.engine.progress import ProgressCallback, Reporter
from solver.io.instance import Instance, freeze_tables

PARAMETERS = {
    "budget:LINE": "ceilings of a budget line (horizon and per period)",
    "budget:LINE@PERIOD": "per-period ceiling of a budget line in one period",
    "line_ceiling:LINE": "horizon ceiling of a budget line (per-period ceilings unchanged)",
    "capacity:RESOURCE": "capacity of a resource in every period",
    "capacity:RESOURCE@PERIOD": "capacity of a resource in one period",
    "reserve:RESOURCE": "rush reserve fraction of a resource",
    "credit_limit": "credit line",
    "min_cash": "minimum closing cash (every period)",
    "min_cash@PERIOD": "minimum closing cash of one period",
    "budget_pool": "total budget pool",
    "emergency_pool": "emergency budget pool",
    "target_min:ITEM@PERIOD": "minimum stock target of an item in one period",
    "target_max:ITEM@PERIOD": "stock limit of an item in one period",
    "demand": "all demand quantities (scale factor, base 1)",
    "demand:PRODUCT": "demand quantities of one product, every channel and period (scale factor, base 1)",
    "demand:PRODUCT@PERIOD": "demand quantities of one product in one period (scale factor, base 1)",
    "demand@PERIOD": "demand quantities of every product in one period (scale factor, base 1)",
}
PARAMETER_UNITS = {"budget": "money", "line_ceiling": "money", "credit_limit": "money", "min_cash": "money",
                   "budget_pool": "money", "emergency_pool": "money", "capacity": "hour", "reserve": "fraction",
                   "target_min": "unit", "target_max": "unit", "demand": "factor"}
_TARGETED = {"budget", "line_ceiling", "capacity", "reserve", "target_min", "target_max"}
_OPTIONAL_TARGET = {"demand"}  # a product, or every product without one
_PER_PERIOD = {"budget", "capacity", "min_cash", "target_min", "target_max", "demand"}  # may name one period
_ONE_PERIOD = {"target_min", "target_max"}  # must name one


class ParameterError(ValueError):
    """The parameter does not exist in this instance or cannot take that value."""


@dataclass(frozen=True)
class Parameter:
    """One number of the instance: `kind[:target][@period]` (see PARAMETERS)."""

    kind: str  # budget, line_ceiling, capacity, reserve, credit_limit, min_cash, budget_pool, ...
    target: str = ""  # line, resource or item
    period: str = ""  # a period label: that period's value alone

    @classmethod
    def parse(cls, text: str) -> Parameter:
        head, at, period = text.rpartition("@")
        if not at:
            head, period = text, ""
        kind, _, target = head.partition(":")
        kinds = {k.partition(":")[0].partition("@")[0] for k in PARAMETERS}
        if kind not in kinds:
            raise ParameterError(f"unknown parameter {text!r}; expected one of {', '.join(PARAMETERS)}")
        if kind not in _TARGETED | _OPTIONAL_TARGET and target:
            raise ParameterError(f"{kind} takes no target (got {text!r})")
        if kind in _TARGETED and not target:
            example = {"budget": "procurement", "line_ceiling": "procurement", "target_min": "P1"}.get(kind, "L1")
            raise ParameterError(f"{kind} needs a target, e.g. {kind}:{example}")
        if at and kind not in _PER_PERIOD:
            raise ParameterError(f"{kind} has one value for every period; drop '@{period}' (got {text!r})")
        if kind in _ONE_PERIOD and not period:
            raise ParameterError(f"{kind} is set per period: {kind}:{target}@PERIOD (got {text!r})")
        return cls(kind, target, period)

    def __str__(self) -> str:
        text = f"{self.kind}:{self.target}" if self.target else self.kind
        return f"{text}@{self.period}" if self.period else text

    @property
    def unit(self) -> str:
        """What the parameter's values are: "money", "hour", "unit", "fraction" or "factor"
        (the sweep chart words its axis by it)."""
        return PARAMETER_UNITS.get(self.kind, "factor")


def _period_index(inst: Instance, p: Parameter) -> int:
    if p.period not in inst.periods:
        raise ParameterError(f"{p}: period {p.period!r} is not a period of this instance "
                             f"({inst.periods[0]} … {inst.periods[-1]})")
    return inst.periods.index(p.period) + 1


def _row_of(table: pd.DataFrame, key: str, target: str, t: int) -> pd.Series:
    return (table[key] == target) & (table["t"] == t)


def base_value(inst: Instance, p: Parameter) -> float:
    """The parameter's value in the instance as given (what relative changes apply to)."""
    t = inst.tables
    if p.kind in {"budget", "line_ceiling"}:
        lines = t["budget_lines"].set_index("line")
        if p.target not in lines.index:
            raise ParameterError(f"budget line {p.target!r} does not exist (lines: {', '.join(lines.index)})")
        ceiling = float(lines.at[p.target, "ceiling"])
        if p.kind == "line_ceiling":
            if not math.isfinite(ceiling):
                raise ParameterError(f"budget line {p.target!r} has no horizon ceiling to vary")
            return ceiling
        if p.period:
            row = t["budgets"][_row_of(t["budgets"], "line", p.target, _period_index(inst, p))]["ceiling"]
            if row.empty or not math.isfinite(float(row.iloc[0])):
                raise ParameterError(f"budget line {p.target!r} has no ceiling in {p.period} to vary")
            return float(row.iloc[0])
        if math.isfinite(ceiling):
            return ceiling
        per = t["budgets"][t["budgets"]["line"] == p.target]["ceiling"]
        per = per[np.isfinite(per)]
        if per.empty:
            raise ParameterError(f"budget line {p.target!r} has no ceiling to vary")
        return float(per.sum())
    if p.kind in {"capacity", "reserve"}:
        res = t["resources"].set_index("resource")
        if p.target not in res.index:
            raise ParameterError(f"resource {p.target!r} does not exist (resources: {', '.join(res.index)})")
        if p.period:
            row = t["capacity"][_row_of(t["capacity"], "resource", p.target, _period_index(inst, p))]["capacity"]
            if not row.empty:
                return float(row.iloc[0])
        return float(res.at[p.target, p.kind])
    if p.kind in {"target_min", "target_max"}:
        items = t["items"].set_index("item")
        if p.target not in items.index:
            raise ParameterError(f"item {p.target!r} does not exist")
        column = p.kind.removeprefix("target_")
        row = t["stock_targets"][_row_of(t["stock_targets"], "item", p.target, _period_index(inst, p))][column]
        value = float(row.iloc[0]) if not row.empty else float(items.at[p.target, {"min": "safety_stock", "max": "max_stock"}[column]])
        if not math.isfinite(value):
            raise ParameterError(f"item {p.target!r} has no stock limit in {p.period} to vary")
        return value
    if p.kind == "credit_limit":
        return inst.cash.credit_limit
    if p.kind == "min_cash":
        if p.period:
            row = t["cash_min"][t["cash_min"]["t"] == _period_index(inst, p)]["amount"]
            if not row.empty:
                return float(row.iloc[0])
        return inst.cash.min_balance
    if p.kind == "budget_pool":
        return inst.budget.pool
    if p.kind == "emergency_pool":
        return inst.budget.emergency_pool
    if p.target and p.target not in set(t["demand"]["product"]):  # demand: a scale factor, base 1
        raise ParameterError(f"product {p.target!r} has no demand in this instance")
    if p.period:
        _period_index(inst, p)
    return 1.0


def _set_period_value(table: pd.DataFrame, key: str, target: str, t: int, period: str, column: str,
                      value: float, defaults: dict | None = None) -> pd.DataFrame:
    """`table` with `column` = value in the row of (target, period), added if missing."""
    table = table.copy()
    row = _row_of(table, key, target, t) if key else table["t"] == t
    if row.any():
        table.loc[row, column] = value
        return table
    new = {**(defaults or {}), "period": period, "t": t, column: value}
    if key:
        new[key] = target
    return pd.concat([table, pd.DataFrame([new])], ignore_index=True).astype(table.dtypes.to_dict())


def apply_parameter(inst: Instance, p: Parameter, value: float) -> Instance:
    """A copy of the instance with the parameter set to `value` (tables never modified in place).

    Per-period values (budgets.csv, capacity.csv, cash_min.csv) scale with a whole-horizon
    parameter. Where the base value is 0 or unlimited there is nothing to scale by: they are
    then set to `value` (a line's per-period-only ceilings share it equally, so that their sum,
    the parameter, is `value`). A parameter of one period (`@PERIOD`) sets that period's row
    alone, adding it where the period took the default.
    """
    base = base_value(inst, p)
    tables = dict(inst.tables)
    if p.kind == "demand":
        if value < 0:
            raise ParameterError(f"{p} is a scale factor ≥ 0, got {value}")
        dem = tables["demand"].copy()
        rows = pd.Series(True, index=dem.index)
        if p.target:
            rows &= dem["product"] == p.target
        if p.period:
            rows &= dem["period"] == p.period
        dem.loc[rows, "quantity"] = dem.loc[rows, "quantity"] * value
        tables["demand"] = dem
        return dataclasses.replace(inst, tables=freeze_tables(tables))
    if p.period:
        if value < 0 and p.kind != "min_cash":
            raise ParameterError(f"{p} must be ≥ 0, got {value}")
        t = _period_index(inst, p)
        if p.kind == "budget":
            tables["budgets"] = _set_period_value(tables["budgets"], "line", p.target, t, p.period, "ceiling", value)
        elif p.kind == "capacity":
            tables["capacity"] = _set_period_value(tables["capacity"], "resource", p.target, t, p.period, "capacity", value)
        elif p.kind == "min_cash":
            tables["cash_min"] = _set_period_value(tables["cash_min"], "", "", t, p.period, "amount", value)
        else:  # target_min / target_max: the other bound keeps the item's default
            items = tables["items"].set_index("item")
            defaults = {"min": float(items.at[p.target, "safety_stock"]), "max": float(items.at[p.target, "max_stock"])}
            tables["stock_targets"] = _set_period_value(tables["stock_targets"], "item", p.target, t, p.period,
                                                        p.kind.removeprefix("target_"), value, defaults)
        return dataclasses.replace(inst, tables=freeze_tables(tables))
    factor = value / base if base not in (0.0,) and math.isfinite(base) else math.nan
    scalable = math.isfinite(factor)
    if p.kind == "line_ceiling":
        bl = tables["budget_lines"].copy()
        bl.loc[bl["line"] == p.target, "ceiling"] = max(value, 0.0)
        tables["budget_lines"] = bl
    elif p.kind == "budget":
        bl = tables["budget_lines"].copy()
        row = bl["line"] == p.target
        horizon = math.isfinite(float(bl.loc[row, "ceiling"].iloc[0]))
        if horizon:
            bl.loc[row, "ceiling"] = bl.loc[row, "ceiling"] * factor if scalable else value
        tables["budget_lines"] = bl
        bud = tables["budgets"].copy()
        sel = (bud["line"] == p.target) & np.isfinite(bud["ceiling"])
        if scalable:
            bud.loc[sel, "ceiling"] = bud.loc[sel, "ceiling"] * factor
        else:  # a zero ceiling (times nan would read as "no ceiling")
            bud.loc[sel, "ceiling"] = value if horizon else value / max(int(sel.sum()), 1)
        tables["budgets"] = bud
    elif p.kind == "capacity":
        res = tables["resources"].copy()
        res.loc[res["resource"] == p.target, "capacity"] = value
        tables["resources"] = res
        cap = tables["capacity"].copy()
        sel = cap["resource"] == p.target
        cap.loc[sel, "capacity"] = cap.loc[sel, "capacity"] * factor if scalable else value
        tables["capacity"] = cap
    elif p.kind == "reserve":
        if not 0 <= value < 1:
            raise ParameterError(f"reserve must be in [0, 1), got {value}")
        res = tables["resources"].copy()
        res.loc[res["resource"] == p.target, "reserve"] = value
        tables["resources"] = res
    elif p.kind == "credit_limit":
        return dataclasses.replace(inst, cash=dataclasses.replace(inst.cash, credit_limit=max(value, 0.0)))
    elif p.kind == "min_cash":
        cm = tables["cash_min"].copy()
        cm["amount"] = cm["amount"] * factor if scalable else value
        tables["cash_min"] = cm
        return dataclasses.replace(inst, cash=dataclasses.replace(inst.cash, min_balance=value), tables=freeze_tables(tables))
    elif p.kind == "budget_pool":
        return dataclasses.replace(inst, budget=dataclasses.replace(inst.budget, pool=max(value, 0.0)))
    elif p.kind == "emergency_pool":
        return dataclasses.replace(inst, budget=dataclasses.replace(inst.budget, emergency_pool=max(value, 0.0)))
    return dataclasses.replace(inst, tables=freeze_tables(tables))


def sweep_values(inst: Instance, p: Parameter, start: str, stop: str, steps: int) -> list[float]:
    """`-30%`/`+30%` are relative to the instance's value; plain numbers are absolute."""
    base = base_value(inst, p)

    def one(text: str) -> float:
        text = str(text).strip()
        if text.endswith("%"):
            if not math.isfinite(base):
                raise ParameterError(f"{p} is unlimited in this instance; give absolute values")
            return base * (1 + float(text[:-1]) / 100)
        return float(text)

    lo, hi = one(start), one(stop)
    return [float(v) for v in np.linspace(lo, hi, max(int(steps), 2))]


# ---------------------------------------------------------------- warm starts

PlanValues = dict[str, dict[tuple, float]]  # component name -> {index: value}, as solver.io.baseline keeps them


def _key(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


def plan_values(result, integers_only: bool = True) -> PlanValues | None:
    """A solved plan's column values keyed by variable name and index (by default the integer
    decisions only: setups and orders). Keys, not column numbers, are what a start for another
    model is mapped by: a re-solve on other data is another model, maybe of another shape."""
    out = getattr(result, "outcome", None)
    sf = getattr(result, "standard_form", None)
    if not result.has_plan or out is None or out.values is None or sf is None:
        return None
    plan: dict[str, dict[tuple, float]] = {}
    for j, var in enumerate(sf.columns):
        if integers_only and not sf.is_integer[j]:
            continue
        plan.setdefault(var.parent_component().name, {})[_key(var.index())] = float(out.values[j])
    return plan


def start_vector(sf, plan: PlanValues, missing: float | None = None) -> tuple[np.ndarray, int]:
    """A MIP start for `sf` from `plan`: integer columns whose (name, index) the plan has get its
    value (rounded); every other column is left undefined (`kHighsUndefined`), and HiGHS completes
    the start by an LP (a sub-MIP if integers are undefined) or drops it if that fails. `missing`:
    the value of an index absent from a component the plan has (0 for plan tables that omit zero
    rows); None leaves it undefined. Returns the vector and how many columns it sets."""
    import highspy

    vec = np.full(sf.num_cols, highspy.kHighsUndefined)
    n = 0
    for j in np.flatnonzero(sf.is_integer):
        var = sf.columns[j]
        values = plan.get(var.parent_component().name)
        if values is None:
            continue
        v = values.get(_key(var.index()), missing)
        if v is None:
            continue
        vec[j] = float(round(v))
        n += 1
    return vec, n


def warm_start(inst: Instance, options: SolveOptions, plan: PlanValues | None, extensions=(),
               missing: float | None = None) -> tuple[np.ndarray | None, int]:
    """The `start` for `solve(inst, options, extensions, start=...)` from a previous plan.

    solve() takes the start as a vector in its own model's column order, so the model is built
    here the way solve() builds it (same extensions, formulation and hand-off route: the same
    columns in the same order) and the plan is mapped onto it by name (`start_vector`).
    (None, 0) when there is nothing to start from or the strategy is not the plain MIP."""
    if not plan or options.strategy == "relax-and-fix":
        return None, 0
    from formulations.assembly import build_model
    from formulations.setup.bigm import UnboundedOrderError
    from formulations.setup.variants import formulation_extensions
    from solver.engine.highs import compile_model

    try:
        built = build_model(inst, [*extensions, *formulation_extensions(options.formulation)],
                            materialize=options.handoff == "pyomo")
    except UnboundedOrderError:  # solve() reports it
        return None, 0
    vec, n = start_vector(compile_model(built.model), plan, missing)
    return (vec, n) if n else (None, 0)


WARM_FALLBACK = "re-solved without the MIP start"  # solver/engine/highs.py's message when its trap guard fired


def mark_warm(result, columns: int) -> None:
    """Record in the KPIs whether a re-solve started from a previous plan (`warm_start`), how
    many integer columns the start set, and whether the trap guard re-solved it cold."""
    result.kpis["warm_start"] = columns > 0
    result.kpis["warm_start_columns"] = columns
    result.kpis["warm_start_fallback"] = columns > 0 and WARM_FALLBACK in (result.message or "")


# ---------------------------------------------------------------- sweeps


def _solve_point(source: str | Instance, scenario: str, param: str, value: float, options: SolveOptions,
                 plan: PlanValues | None = None, keep_plan: bool = False, marginal: bool = False) -> dict:
    """One point: the instance (a path to load, or the Instance itself) with `param` = `value`,
    solved from `plan`'s setups and orders when given; with `marginal`, also the plan's marginal
    value there (`marginal_value`). Runs in a worker process."""
    from solver.engine.pipeline import solve
    from solver.io.loading import load_instance

    t0 = time.perf_counter()
    base = source if isinstance(source, Instance) else load_instance(source, scenario=scenario)
    parameter = Parameter.parse(param)
    inst = apply_parameter(base, parameter, value)
    start, columns = warm_start(inst, options, plan)
    r = solve(inst, options, start=start)
    mark_warm(r, columns)
    k = r.kpis
    slope = marginal_value(base, parameter, value, r, options) if marginal else math.nan
    return {"_plan": plan_values(r) if keep_plan else None} | {
        "value": value, "status": str(r.status), "profit": r.objective, "bound": r.bound, "gap": r.gap,
        "marginal_value": slope,
        "service_level": k.get("service_level", math.nan), "min_cash_headroom": k.get("min_cash_headroom", math.nan),
        "emergency_drawn": k.get("emergency_drawn", math.nan), "seconds": time.perf_counter() - t0,
        "seconds_highs": k.get("seconds_highs", math.nan), "warm_start": k["warm_start"],
        "warm_start_fallback": k["warm_start_fallback"],
    }


def marginal_value(inst: Instance, p: Parameter, value: float, result, options: SolveOptions) -> float:
    """d profit / d parameter at `value` for the plan's setup and order pattern: the envelope
    theorem on the polished LP (its duals y, reduced costs z and values x at `value`),

        dV/dθ = Δc·x + Δoffset + y·(Δb − ΔA·x) + z·Δbounds,   Δ = (data at θ + h − data at θ) / h,

    where b is each row's bound the plan sits at. The instance's data are linear in the
    parameter (scaled ceilings, hours, targets, demand), so the difference quotient of the
    data is exact for any h; only the duals are local. NaN when there is nothing to read
    (no plan, no duals: a large plan's heuristic route) or the model changes shape with the
    parameter. At a breakpoint the duals give one slope between the two sides'."""
    from formulations.setup.bigm import UnboundedOrderError
    from solver.engine.exact import build

    out, sf = getattr(result, "outcome", None), getattr(result, "standard_form", None)
    if not result.has_plan or out is None or sf is None or out.row_duals is None or out.col_duals is None:
        return math.nan
    h = 1e-3 * max(abs(value), abs(base_value(inst, p)), 1.0)
    if p.kind == "reserve" and value + h >= 1:
        h = -h
    try:
        _, moved, _, _ = build(apply_parameter(inst, p, value + h), options, ())
    except (UnboundedOrderError, ParameterError):
        return math.nan
    if moved.A.shape != sf.A.shape or [str(v) for v in moved.columns] != [str(v) for v in sf.columns]:
        return math.nan
    n, m = sf.num_cols, sf.num_rows
    x = np.asarray(out.values, dtype=float)[:n]
    y = np.asarray(out.row_duals, dtype=float)[:m]
    z = np.asarray(out.col_duals, dtype=float)[:n]

    def at_bound(activity, lower, upper, lower2, upper2):
        """Change of the bound each row (column) sits at; 0 where that bound is infinite."""
        with np.errstate(invalid="ignore"):  # inf − inf where a side is unbounded
            near_lower = (lower == upper) | (np.abs(activity - lower) <= np.abs(activity - upper))
            d = np.where(near_lower, lower2 - lower, upper2 - upper)
        return np.where(np.isfinite(d), d, 0.0)

    activity = sf.A @ x
    d_rows = at_bound(activity, sf.row_lower, sf.row_upper, moved.row_lower, moved.row_upper) - (moved.A - sf.A) @ x
    d_cols = at_bound(x, sf.col_lower, sf.col_upper, moved.col_lower, moved.col_upper)
    d_cols[sf.is_integer] = 0.0  # the polished LP holds them at the plan's values
    change = (moved.cost - sf.cost) @ x + (moved.offset - sf.offset) + y @ d_rows + z @ d_cols
    return float(change / h)


def solve_points(inst: Instance, points: list[tuple[str, float]], options: SolveOptions, jobs: int = 2,
                 progress: ProgressCallback | None = None, scheduler: str | None = None) -> list[dict]:
    """Solve the instance once per (parameter, value) point, from scratch, in `jobs` worker
    processes or on the Dask cluster at `scheduler` (`solver.analysis.workers`; the instance
    itself is sent, not re-read). Rows in point order; `progress` hears a `re-solving` event
    with `done`/`total` as they finish."""
    n = len(points)
    rows: list[dict | None] = [None] * n
    report = Reporter(progress)
    report("re-solving", done=0, total=n)
    with executor(min(jobs, n), scheduler) as pool:
        if pool is None:
            for k, (param, value) in enumerate(points):
                rows[k] = _solve_point(inst, inst.scenario, param, value, options)
                report("re-solving", done=k + 1, total=n)
        else:
            futures = {pool.submit(_solve_point, inst, inst.scenario, param, value, options): k
                       for k, (param, value) in enumerate(points)}
            for done, fut in enumerate(as_completed(futures), start=1):
                rows[futures[fut]] = fut.result()
                report("re-solving", done=done, total=n)
    for param, row in zip(points, rows, strict=True):
        row.pop("_plan")
        row["parameter"] = param[0]
    return rows


def warm_order(values: list[float], jobs: int = 2) -> dict[int, int | None]:
    """Which point's plan starts which: point i -> the point it warm-starts from (None: cold).

    The points, sorted by value, are cut into max(1, jobs // 2) contiguous segments; in each,
    the middle point is solved cold and the others from their neighbour one step nearer the
    middle, outward in both directions (two chains per segment, one per worker). The order
    depends on `jobs` only through the segments, so 1 and 2 jobs give the same plans; the same
    input, options and jobs always do (every start is a fixed point's plan, whatever finishes
    first)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    segments = np.array_split(np.array(order, dtype=int), max(1, min(jobs // 2, len(order))))
    pred: dict[int, int | None] = {}
    for seg in segments:
        seg = [int(i) for i in seg]
        if not seg:
            continue
        mid = len(seg) // 2
        pred[seg[mid]] = None
        for k in range(mid + 1, len(seg)):
            pred[seg[k]] = seg[k - 1]
        for k in range(mid - 1, -1, -1):
            pred[seg[k]] = seg[k + 1]
    return pred


def sweep(path: str, param: str, values: list[float], options: SolveOptions, scenario: str = "base",
          jobs: int = 2, progress: ProgressCallback | None = None, warm: bool = False,
          refine: int | None = None, scheduler: str | None = None) -> pd.DataFrame:
    """Solve every point in worker processes, then locate the breakpoints (`locate_breakpoints`)
    by solving up to `refine` more points (default: as many as `values`, at least
    DEFAULT_REFINE; 0: none) where the
    grid leaves a slope change unlocated. `progress` hears a `sweeping` event with
    `done`/`total` as points finish.

    Rows, sorted by value: the grid's points (`point` = "grid") and the refinement's ("probe"),
    each with its profit, bound, gap, the plan's marginal value there (`marginal_value`), the
    slope of the profit from the previous point (`slope_before`) and `breakpoint`: the slope
    changes exactly there. `breakpoint_table(df)` lists the breakpoints, also those only
    bracketed.

    With `warm`, each grid point starts from a neighbouring point's plan, its setups and orders
    mapped by name (`warm_order`, `warm_start`). HiGHS 1.16 may stop a warm-started run on a
    mis-valued incumbent; solver/engine/highs.py then re-solves that point without the start, so every
    point meets the gap as a cold solve does. Off by default: on the appliance sweep it was
    slower, not faster (benchmarks/results/warmstart.md): HiGHS's time goes into proving the
    bound, which a start does not shorten, and the guard's cold re-solves come on top.

    The points run in `jobs` local worker processes, or on the Dask cluster at `scheduler`
    (`solver.analysis.workers`: the workers load `path` themselves); the same points with the
    same starts either way, so the same table.
    """
    n = len(values)
    if scheduler:  # the cluster's workers read the instance themselves, from their own folder
        path = str(Path(path).resolve())
    budget = max(n, DEFAULT_REFINE) if refine is None else max(int(refine), 0)
    pred = warm_order(values, jobs) if warm else dict.fromkeys(range(n))
    children: dict[int, list[int]] = {i: [] for i in range(n)}
    for i, p in pred.items():
        if p is not None:
            children[p].append(i)
    has_children = {i for i, c in children.items() if c}
    plans: dict[int, PlanValues | None] = {}
    rows: list[dict] = []
    reporter = Reporter(progress)

    def report(total: int) -> None:
        reporter("sweeping", done=len(rows), total=total)

    def finished(i: int, row: dict) -> list[int]:
        plans[i] = row.pop("_plan")
        rows.append(row | {"point": "grid"})
        report(n)
        return children[i]

    def args(i: int) -> tuple:
        p = pred[i]
        return (path, scenario, param, values[i], options, plans.get(p) if p is not None else None, i in has_children,
                True)

    roots = [i for i in sorted(pred, key=lambda i: values[i]) if pred[i] is None]
    with executor(jobs, scheduler) as pool:
        if pool is None:
            stack = list(reversed(roots))
            while stack:
                i = stack.pop()
                stack.extend(reversed(finished(i, _solve_point(*args(i)))))
        else:
            running = {pool.submit(_solve_point, *args(i)): i for i in roots}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: running[f]):
                    i = running.pop(fut)
                    for c in finished(i, fut.result()):
                        running[pool.submit(_solve_point, *args(c))] = c
        while budget > 0:  # refine: one probe per unlocated slope change, all of a round at once
            probes = locate_breakpoints(_frame(rows, param), options.gap)[1][:budget]
            if not probes:
                break
            budget -= len(probes)
            total = len(rows) + len(probes)
            point_args = [(path, scenario, param, v, options, None, False, True) for v in probes]
            solved = (map(lambda a: _solve_point(*a), point_args) if pool is None
                      else pool.map(_solve_point, *zip(*point_args, strict=True)))
            for row in solved:
                row.pop("_plan")
                rows.append(row | {"point": "probe"})
                report(total)
    return locate_breakpoints(_frame(rows, param), options.gap)[0]


def _frame(rows: list[dict], param: str) -> pd.DataFrame:
    df = pd.DataFrame(rows).sort_values("value", ignore_index=True, kind="stable")
    df.insert(0, "parameter", param)
    return df


# ---------------------------------------------------------------- breakpoints
#
# The profit against a limit of the LP is concave and piecewise linear; against a limit of the
# MIP it is the upper envelope of such pieces, one per setup and order pattern. A breakpoint is
# where the slope changes. Between two solved points the slope changes nowhere when the
# tangent at one point (the marginal value of its plan, `marginal_value`) passes through the
# other point, or when three neighbouring points lie on one line (a concave function that meets
# a line three times follows it between them). Otherwise the tangents of the two points meet
# where the slope changes if it changes once: that value is solved next ("probe"), and when its
# profit lies on both tangents the breakpoint is exactly there. "On a line" allows each point's
# own uncertainty: its MIP gap (bound − profit) and the LP's tolerance.

DEFAULT_REFINE = 8  # at least this many points solved to locate breakpoints (more: as many as the grid has)
BRACKET_TOL = 1e-6  # an interval this small a fraction of the sweep's range is not split further


def _tolerances(df: pd.DataFrame, gap: float) -> np.ndarray:
    profit = df["profit"].to_numpy(dtype=float)
    bound = df["bound"].to_numpy(dtype=float) if "bound" in df else np.full(len(df), np.nan)
    mip = np.where(np.isfinite(bound), np.abs(bound - profit), gap * np.abs(profit))
    scale = float(np.nanmax(np.abs(profit))) if len(profit) else 0.0
    return np.maximum(mip, 0.0) + 1e-7 * max(scale, 1.0)


def locate_breakpoints(df: pd.DataFrame, gap: float = 1e-4) -> tuple[pd.DataFrame, list[float]]:
    """(`df` with `slope_before` and `breakpoint`, the values to solve next to locate the slope
    changes the points leave unlocated). Points without a plan are left out of the analysis;
    `marginal_value` (NaN where unknown) makes it exact with fewer points."""
    df, _ok, unlocated = _analyse(df, gap)
    open_ = [(miss, target) for _lo, _hi, target, miss in unlocated if target is not None]
    return df, [target for _miss, target in sorted(open_, key=lambda m: -m[0])]  # the largest misses first


def _analyse(df: pd.DataFrame, gap: float) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple]]:
    """(df marked, its points with a plan, the unlocated intervals of those as (index of the
    left point, of the right one, the value to solve next or None when too narrow to split,
    how far the left tangent misses the right point: what locating it is worth))."""
    df = df.sort_values("value", ignore_index=True, kind="stable").copy()
    df["slope_before"] = math.nan
    df["breakpoint"] = False
    ok = df["status"].isin(["optimal", "feasible"]).to_numpy(copy=True) if "status" in df else np.ones(len(df), bool)
    ok &= np.isfinite(df["profit"].to_numpy(dtype=float))
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return df, df.iloc[idx].reset_index(drop=True), []
    v = df["value"].to_numpy(dtype=float)[idx]
    f = df["profit"].to_numpy(dtype=float)[idx]
    s = (df["marginal_value"].to_numpy(dtype=float)[idx] if "marginal_value" in df else np.full(len(idx), np.nan))
    tol = _tolerances(df.iloc[idx], gap)
    width = v[1:] - v[:-1]
    slope = np.divide(f[1:] - f[:-1], width, out=np.full(len(width), np.nan), where=width > 0)
    df.loc[idx[1:], "slope_before"] = slope
    span = max(v[-1] - v[0], 1e-300)

    def collinear(a: int, b: int, c: int) -> bool:
        if a < 0 or c >= len(v) or v[c] <= v[a]:
            return False
        line = f[a] + (f[c] - f[a]) * (v[b] - v[a]) / (v[c] - v[a])
        return abs(f[b] - line) <= tol[a] + tol[b] + tol[c]

    def tangent_reaches(a: int, b: int) -> bool:
        return bool(np.isfinite(s[a]) and abs(f[b] - f[a] - s[a] * (v[b] - v[a])) <= tol[a] + tol[b])

    def straight(k: int) -> bool:
        if width[k] <= 0:
            return False
        if np.isfinite(s[k]) and np.isfinite(s[k + 1]):  # the tangents tell; three points might by chance
            return tangent_reaches(k, k + 1) or tangent_reaches(k + 1, k)
        return (tangent_reaches(k, k + 1) or tangent_reaches(k + 1, k) or collinear(k - 1, k, k + 1)
                or collinear(k, k + 1, k + 2))

    linear = np.array([straight(k) for k in range(len(width))], dtype=bool)
    for k in range(1, len(v) - 1):  # a change of slope between two straight intervals: exactly at v[k]
        if linear[k - 1] and linear[k]:
            noise = (tol[k - 1] + tol[k]) / width[k - 1] + (tol[k] + tol[k + 1]) / width[k]
            if abs(slope[k] - slope[k - 1]) > noise:
                df.loc[idx[k], "breakpoint"] = True
    unlocated: list[tuple] = []
    for k in np.flatnonzero(~linear):
        lo, hi = v[k], v[k + 1]
        target: float | None = None
        if width[k] > BRACKET_TOL * span:
            target = 0.5 * (lo + hi)
            if np.isfinite(s[k]) and np.isfinite(s[k + 1]) and abs(s[k] - s[k + 1]) > 1e-12:
                meet = (f[k + 1] - f[k] + s[k] * lo - s[k + 1] * hi) / (s[k] - s[k + 1])
                if lo + 1e-3 * width[k] < meet < hi - 1e-3 * width[k]:
                    target = float(meet)
        miss = abs(f[k + 1] - f[k] - (s[k] if np.isfinite(s[k]) else slope[k]) * width[k])
        unlocated.append((int(k), int(k) + 1, target, float(miss)))
    return df, df.iloc[idx].reset_index(drop=True), unlocated


def breakpoint_table(df: pd.DataFrame, gap: float = 1e-4) -> pd.DataFrame:
    """The breakpoints of a sweep: `exact` ones at `value`, the others bracketed between `low`
    and `high` (the slope changes somewhere there; a sweep with more points or more refinement
    locates them), with the slope of the profit before and after."""
    _, ok, unlocated = _analyse(df, gap)
    v, slope = ok["value"].to_numpy(dtype=float), ok["slope_before"].to_numpy(dtype=float)

    def slope_at(i: int) -> float:  # of the interval ending at point i
        return float(slope[i]) if 0 < i < len(v) else math.nan

    rows = [{"exact": True, "value": v[k], "low": v[k], "high": v[k], "profit": float(ok["profit"].iloc[k]),
             "slope_before": slope_at(k), "slope_after": slope_at(k + 1)}
            for k in np.flatnonzero(ok["breakpoint"].to_numpy())]
    rows += [{"exact": False, "value": math.nan, "low": v[a], "high": v[b], "profit": math.nan,
              "slope_before": slope_at(a), "slope_after": slope_at(b + 1)} for a, b, _, _ in unlocated]
    cols = ["exact", "value", "low", "high", "profit", "slope_before", "slope_after"]
    return pd.DataFrame(rows, columns=cols).sort_values("low", ignore_index=True)
