"""Terminal renderings of a plan and its analyses (rich): the solve summary, the limits, the
joint-vs-sequential comparison. The library returns data; this module prints it."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.table import Table

from solver.analysis.sequential import CUTS, Comparison
from solver.money import money
from solver.present.terminal import console as make_console
from solver.present.terminal import styled


def render_summary(result, console: Console | None = None) -> None:
    console = console or make_console()
    k = result.kpis
    cur = k.get("currency", "CNY")
    t = Table(title=f"prodbudget · {k.get('name', '')} · scenario {k.get('scenario', '')}", show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    colour = {"optimal": "green", "feasible": "yellow"}.get(str(result.status), "red")
    said = "" if result.message.strip().lower() == str(result.status) else f" — {result.message}"  # not "optimal — optimal"
    t.add_row("status", styled((str(result.status), colour), said))
    if result.has_plan:
        gap = k.get("gap", math.nan)
        t.add_row("profit", f"{money(result.objective, cur)}  (bound {money(result.bound, cur)}, gap {gap:.2%})")
        t.add_row("revenue", money(k["revenue"], cur))
        t.add_row("service level", f"{k['service_level']:.1%} of {k['units_demanded']:,.0f} units demanded")
        t.add_row("lowest cash headroom", f"{money(k['min_cash_headroom'], cur)} in {k['min_cash_period']}"
                  + (f"; peak loan {money(k['max_loan'], cur)}" if k["max_loan"] > 0 else ""))
        if not math.isnan(k.get("peak_utilisation", math.nan)):
            t.add_row("peak utilisation", f"{k['peak_utilisation']:.0%} on {k['peak_resource']} in {k['peak_period']}")
        at = k["budget_at_period_ceiling"] + [f"{b} (horizon)" for b in k["budget_at_line_ceiling"]]
        t.add_row("budget at ceiling", ", ".join(at[:8]) + (f" … +{len(at) - 8}" if len(at) > 8 else "") if at else "none")
        if k.get("emergency_drawn", 0) > 0:
            t.add_row("emergency budget", money(k["emergency_drawn"], cur))
    t.add_row("model", f"{k['rows']:,} rows × {k['cols']:,} cols, {k['integers']:,} integers")
    t.add_row("time", f"build {k['build_seconds']:.2f} s, solve {k['solve_seconds']:.2f} s "
              f"({k['solver']}, threads {k['threads']}{' + a bound process' if k.get('bound_process') else ''}, "
              f"seed {k['seed']})")
    console.print(t)


DEFAULT_LIMITS_SHOWN = 8


def render_limits(sens, console: Console | None = None, top: int = DEFAULT_LIMITS_SHOWN, currency: str = "CNY",
                  seconds: float | None = None) -> None:
    """The binding limits worth the most, in words, then the most valuable extra demand.

    Each limit ends with the value of relaxing it by its step: re-solved ("measured" in
    limits.csv) or, where it was not re-solved, the lower bound it is ("at least")."""
    console = console or make_console()
    lim = sens.limits
    limits = lim[lim["kind"] == "limit"]
    extra = lim[(lim["kind"] == "opportunity") & (lim["shadow_price"] > 0)]
    if limits.empty:
        console.print("no binding capacity, budget, cash or stock limit has a value at the margin")
    else:
        measured = int((limits["value_basis"] == "measured").sum())
        how = (f"re-solved for the top {measured} in {seconds:.1f} s" if measured and seconds is not None
               else "no re-solves: lower bounds")
        console.print(styled(("What limits the plan", "bold"), f" (top {min(top, len(limits))} of {len(limits)} binding "
                             f"limits, by the value of relaxing them one step; {how}):"), soft_wrap=True)
        for r in limits.head(top).itertuples(index=False):
            console.print(styled(f"  • {r.text}  ", (f"({_step_value(r, currency)})", "dim")), soft_wrap=True)
    if not extra.empty:
        console.print(styled(("Most valuable extra demand", "bold"), ":"))
        for r in extra.head(3).itertuples(index=False):
            console.print(f"  • {r.text}", soft_wrap=True)
    console.print(styled((str(sens.label), "dim")), soft_wrap=True)


def _step_value(r, currency: str) -> str:
    if r.value_basis == "measured":
        return f"worth {money(r.value_of_step, currency)} for {r.step}, re-solved"
    return (f"worth at least {money(r.value_of_step, currency)} for {r.step}: price × the part of the step it holds "
            "for; not re-solved")


def render_comparison(comp: Comparison, console) -> None:
    """The comparison table and the headline on a rich console."""
    table = comp.table()
    short = {"metric": "", "joint plan": "joint", **{s.label: CUTS[s.cut].removeprefix("per-")
             for s in comp.sequential.values()}}
    t = Table(title="joint planning vs plan-then-cut (the ERP way)")
    for col in table.columns[1:]:
        t.add_column(short.get(col, "before cuts"), justify="left" if col == "metric" else "right", overflow="fold")
    section = None
    for rec in table.itertuples(index=False):
        if rec[0] != section:
            section = rec[0]
            if rec[0] not in ("feasibility", "plan"):
                t.add_section()
        t.add_row(*[_cell(rec[1], v, comp.currency) for v in rec[1:]])
    console.print(t)
    console.print(styled(("per-period/per-order: plan-then-cut with one cut factor per period / per "
                          "start and order; before cuts: the operations plan, ignoring budgets and cash", "dim")),
                  soft_wrap=True)
    console.print(styled((comp.headline, "bold")), soft_wrap=True)


def _cell(metric: str, value, currency: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, str):
        return value
    if "service" in metric:
        return f"{value:.1%}"
    if metric.startswith(("production", "purchases")):
        return f"{value:,.0f}"
    return money(float(value), currency)
