"""`prodbudget roll PATH --baseline DIR --actuals ACTUALS --from PERIOD`: rolling re-plan from
actuals, with the plan diff and plan-versus-actual (预实比较) by budget line."""

from __future__ import annotations

import json
import math

from rich.console import Console
from rich.table import Table

from solver.analysis.rolling import (
    DEFAULT_CHANGE_PENALTY,
    RollResult,
    period_index,
    read_actuals,
    roll,
)
from solver.cli.common import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    add_csv_safe_option,
    add_solve_options,
    add_xlsx_options,
    check_xlsx_name,
    err_console,
    input_location,
    solve_options,
    write_outputs,
)
from solver.cli.diagnose import render as render_diagnosis
from solver.cli.progress import progress_reporter
from solver.io.baseline import load_baseline
from solver.io.loading import load_instance
from solver.io.writers import check_outputs, result_filler, to_jsonable
from solver.money import money
from solver.present.terminal import console as make_console
from solver.present.terminal import styled


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder or .xlsx workbook (the baseline's input)")
    p.add_argument("--baseline", required=True, metavar="DIR", help="output folder of `prodbudget solve --out` (the previous plan)")
    p.add_argument("--actuals", required=True, metavar="DIR",
                   help="actuals folder: stock.csv, cash.csv [, sales, production, purchases, receivables, payables, spend .csv]")
    p.add_argument("--from", dest="from_period", required=True, metavar="PERIOD",
                   help="first period to re-plan (label or 1..n); the actuals cover the periods before it")
    p.add_argument("--freeze", type=NON_NEGATIVE_INT, default=1, metavar="N",
                   help="re-planned periods whose production and purchases stay at the previous plan's (default 1)")
    p.add_argument("--change-penalty", type=NON_NEGATIVE, default=DEFAULT_CHANGE_PENALTY, metavar="X",
                   help=f"objective cost per unit changed against the previous plan (default {DEFAULT_CHANGE_PENALTY:g})")
    p.add_argument("--out", metavar="DIR", help="write the re-plan tables, diff_*.csv and variance_*.csv here")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    p.add_argument("--json", action="store_true", help="print the KPIs as JSON")
    p.add_argument("--cold", action="store_true",
                   help="solve the re-plan from scratch (default: start from the previous plan's setups and orders)")
    add_xlsx_options(p, "the re-plan's formatted workbook with its diff and plan-versus-actual sheets")
    add_csv_safe_option(p)
    add_solve_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    check_xlsx_name(args.xlsx)
    check_outputs([(args.out, "--out", True), (args.xlsx, "--xlsx", False)],
                  inputs=[input_location(args.path), args.baseline, args.actuals], force=args.force)
    inst = load_instance(args.path, scenario=args.scenario)
    baseline = load_baseline(args.baseline, inst)
    from_t = period_index(inst, args.from_period)
    actuals = read_actuals(args.actuals, inst, from_t)
    with progress_reporter(enabled=not args.json, currency=inst.currency) as progress:
        res = roll(inst, baseline, actuals, from_t, freeze=args.freeze, change_penalty=args.change_penalty,
                   options=solve_options(args), warm=not args.cold, progress=progress)
    if (args.out or args.xlsx) and res.has_plan:
        from solver.io.workbook import result_workbook_for

        write_outputs(args.out, result_filler(res.plan, res.tables, args.csv_safe), args.xlsx,
                      lambda: result_workbook_for(res.plan, res.tables, args.money), args.force)
    elif args.out or args.xlsx:
        err_console.print("no re-plan: nothing written")
    if args.json:
        print(json.dumps(to_jsonable(res.plan.kpis), ensure_ascii=False, indent=2))
    else:
        render(res, make_console())
        if args.out and res.has_plan:
            err_console.print(f"re-plan written to {args.out}/")
        if args.xlsx and res.has_plan:
            err_console.print(f"re-plan workbook written to {args.xlsx}")
    return 0 if res.has_plan else 1


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.1%}"


def render(res: RollResult, console: Console) -> None:
    cur = res.instance.currency
    plan = res.plan
    head = f"re-plan from {res.from_period} · {len(res.instance.periods)} periods · freeze {res.freeze} · change penalty {res.change_penalty:g}"
    if plan.has_plan:
        console.print(styled((head, "bold"), f": {plan.status}, profit of the remaining periods "
                             f"{money(plan.objective, cur)} (previous plan: {money(res.baseline_profit, cur)})"))
    else:
        console.print(styled((head, "bold"), ": ", (str(plan.status), "red"), f" — {plan.message}"))
    state = res.tables.get("budget_state")
    if state is not None and len(state):
        t = Table(title=f"budget used before {res.from_period} and carried into the re-plan")
        for c in ("line", "allocated", "emergency", "spent", "carried in"):
            t.add_column(c, justify="right" if c != "line" else "left")
        for r in state.itertuples(index=False):  # allocated: counted against ceilings and pool, overruns included
            t.add_row(str(r.line), money(r.used, cur), money(r.emergency, cur), money(r.spent, cur),
                      money(r.carried, cur) if r.carryover else "no carry-over")
        console.print(t)
    var = res.tables.get("variance_budget")
    if var is not None and len(var):
        t = Table(title="plan vs actual by budget line (预实比较)")
        for c in ("line", "period", "planned", "actual", "variance", "%"):
            t.add_column(c, justify="right" if c not in ("line", "period") else "left")
        for r in var.itertuples(index=False):
            style = "bold" if r.period == "total" else ""
            t.add_row(str(r.line), str(r.period), money(r.planned, cur), money(r.actual, cur), money(r.variance, cur),
                      _pct(r.variance_pct), style=style)
        console.print(t)
    if res.diagnosis is not None:
        render_diagnosis(res.diagnosis, console)
    if plan.has_plan:
        t = Table(title="plan changes against the previous plan")
        t.add_column("table")
        t.add_column("rows changed", justify="right")
        t.add_column("in frozen periods", justify="right")
        for name in ("diff_production", "diff_purchases", "diff_sales", "diff_budget"):
            df = res.tables.get(name)
            if df is not None:
                t.add_row(name.removeprefix("diff_"), str(len(df)), str(int(df["frozen"].sum())))
        console.print(t)
