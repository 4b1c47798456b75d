"""Parametric runs: vary one limit of the instance and re-solve the full MIP at each point.

LP shadow prices are local (and for a MIP hold only for the fixed setup pattern); a sweep is
the exact answer: profit and service level against the parameter, with the breakpoints where
the marginal value changes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd

from solver.instance import Instance, freeze_tables
from solver.options import SolveOptions

PARAMETERS = {
    "budget:LINE": "ceilings of a budget line (horizon and per period)",
    "capacity:RESOURCE": "capacity of a resource in every period",
    "reserve:RESOURCE": "rush reserve fraction of a resource",
    "credit_limit": "credit line",
    "min_cash": "minimum closing cash (every period)",
    "budget_pool": "total budget pool",
    "demand": "all demand quantities (scale factor, base 1)",
}


class ParameterError(ValueError):
    """The parameter does not exist in this instance or cannot take that value."""


@dataclass(frozen=True)
class Parameter:
    kind: str  # budget, capacity, reserve, credit_limit, min_cash, budget_pool, demand
    target: str = ""  # line or resource

    @classmethod
    def parse(cls, text: str) -> Parameter:
        kind, _, target = text.partition(":")
        if kind not in {"budget", "capacity", "reserve", "credit_limit", "min_cash", "budget_pool", "demand"}:
            raise ParameterError(f"unknown parameter {text!r}; expected one of {', '.join(PARAMETERS)}")
        if kind not in {"budget", "capacity", "reserve"} and target:
            raise ParameterError(f"{kind} takes no target (got {text!r})")
        if kind in {"budget", "capacity", "reserve"} and not target:
            raise ParameterError(f"{kind} needs a target, e.g. {kind}:{'procurement' if kind == 'budget' else 'L1'}")
        return cls(kind, target)

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" if self.target else self.kind


def base_value(inst: Instance, p: Parameter) -> float:
    """The parameter's value in the instance as given (what relative changes apply to)."""
    t = inst.tables
    if p.kind == "budget":
        lines = t["budget_lines"].set_index("line")
        if p.target not in lines.index:
            raise ParameterError(f"budget line {p.target!r} does not exist (lines: {', '.join(lines.index)})")
        ceiling = float(lines.at[p.target, "ceiling"])
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
        return float(res.at[p.target, p.kind])
    if p.kind == "credit_limit":
        return inst.cash.credit_limit
    if p.kind == "min_cash":
        return inst.cash.min_balance
    if p.kind == "budget_pool":
        return inst.budget.pool
    return 1.0  # demand scale


def apply_parameter(inst: Instance, p: Parameter, value: float) -> Instance:
    """A copy of the instance with the parameter set to `value` (tables never modified in place).

    Per-period values (budgets.csv, capacity.csv, cash_min.csv) scale with the parameter.
    Where the base value is 0 or unlimited there is nothing to scale by: they are then set
    to `value` (a line's per-period-only ceilings share it equally, so that their sum, the
    parameter, is `value`).
    """
    base = base_value(inst, p)
    factor = value / base if base not in (0.0,) and math.isfinite(base) else math.nan
    scalable = math.isfinite(factor)
    tables = dict(inst.tables)
    if p.kind == "budget":
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
    elif p.kind == "demand":
        dem = tables["demand"].copy()
        dem["quantity"] = dem["quantity"] * value
        tables["demand"] = dem
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


def _solve_point(path: str, scenario: str, param: str, value: float, options: SolveOptions,
                 start: np.ndarray | None = None, keep_plan: bool = False) -> dict:
    from solver.loading import load_instance
    from solver.planning import solve

    t0 = time.perf_counter()
    inst = apply_parameter(load_instance(path, scenario=scenario), Parameter.parse(param), value)
    r = solve(inst, options, start=start)
    k = r.kpis
    plan = r.outcome.values if keep_plan and r.outcome is not None and r.has_plan else None
    return {"_plan": plan} | {
        "value": value, "status": str(r.status), "profit": r.objective, "bound": r.bound, "gap": r.gap,
        "service_level": k.get("service_level", math.nan), "min_cash_headroom": k.get("min_cash_headroom", math.nan),
        "emergency_drawn": k.get("emergency_drawn", math.nan), "seconds": time.perf_counter() - t0,
    }


def sweep(path: str, param: str, values: list[float], options: SolveOptions, scenario: str = "base",
          jobs: int = 2, progress=None, warm: bool = False) -> pd.DataFrame:
    """Solve every point in worker processes; `progress(done, total)` is called as they finish.

    With `warm`, the middle point is solved first and its plan is the MIP start of every other
    point (the model's columns are the same along a sweep; a start that does not fit a point is
    only a hint HiGHS discards). Off by default: measured on the appliance sweep it saved no
    time, and HiGHS 1.16 then sometimes stops on a mis-recorded incumbent value
    (see solver/highs.py::_recheck_gap)."""
    rows: list[dict] = []
    todo = list(values)
    start = None
    if warm and len(todo) > 2:
        first = _solve_point(path, scenario, param, todo.pop(len(todo) // 2), options, keep_plan=True)
        start = first["_plan"]
        rows.append(first)
        if progress:
            progress(1, len(values))
    if jobs <= 1:
        for v in todo:
            rows.append(_solve_point(path, scenario, param, v, options, start))
            if progress:
                progress(len(rows), len(values))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_solve_point, path, scenario, param, v, options, start) for v in todo]
            for fut in as_completed(futures):
                rows.append(fut.result())
                if progress:
                    progress(len(rows), len(values))
    df = pd.DataFrame(rows).drop(columns="_plan").sort_values("value", ignore_index=True)
    df.insert(0, "parameter", param)
    return mark_breakpoints(df)


def mark_breakpoints(df: pd.DataFrame, rel_tol: float = 1e-3) -> pd.DataFrame:
    """Marginal value (Δprofit/Δparameter) between points, and where it changes."""
    df = df.copy()
    dv = df["value"].diff()
    slope = df["profit"].diff() / dv.replace(0, np.nan)
    df["marginal_value"] = slope
    change = slope.diff().abs()
    scale = np.maximum(slope.abs().shift(1).fillna(0), slope.abs()).fillna(0) + 1e-9
    df["breakpoint"] = False
    # the point between two segments of different slope is a breakpoint
    flags = (change > rel_tol * scale + 1e-9).fillna(False).to_numpy()
    df.loc[np.flatnonzero(flags) - 1, "breakpoint"] = True
    return df


def plot_sweep(df: pd.DataFrame, param: str, path, currency: str = "CNY") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ok = df["status"].isin(["optimal", "feasible"])
    ax.plot(df.loc[ok, "value"], df.loc[ok, "profit"], "o-", color="#1f5fa8", label="profit")
    bad = df[~ok]
    if len(bad):
        ax.plot(bad["value"], [df.loc[ok, "profit"].min() if ok.any() else 0] * len(bad), "x", color="#c0392b", label="no plan")
    for v in df.loc[df["breakpoint"], "value"]:
        ax.axvline(v, color="#888", ls="--", lw=0.8)
    from solver.formatting import money_axis

    money_axis(ax, axis="x")  # the parameter: ¥, hours or a factor: plain k / M
    money_axis(ax, currency)
    ax.set_xlabel(param)
    ax.set_ylabel(f"profit ({currency})")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(df.loc[ok, "value"], 100 * df.loc[ok, "service_level"], "s:", color="#e67e22", label="service level")
    ax2.set_ylabel("service level (%)")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(lines, labels, loc="lower right", fontsize=8)
    ax.set_title(f"Profit against {param} (dashed: breakpoints of the marginal value)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
