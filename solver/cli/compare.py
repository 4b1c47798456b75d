"""`prodbudget compare PATH --scenarios low=0.85,base,high [--robust --commit N] [--out DIR]`:
demand scenarios side by side (a scenario of demand.csv, or one made by scaling the reference
scenario's demand), and optionally one plan for the first N periods shared by all, its commit
plan and what committing to the base plan instead would cost."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from solver.analysis.scenarios import (
    ScenarioComparison,
    commit_plan,
    compare_scenarios,
    compared_weights,
    load_compared,
    robust_has_plan,
    scenario_specs,
)
from solver.cli.common import (
    COUNT,
    add_csv_safe_option,
    add_scheduler_option,
    add_solve_options,
    add_xlsx_options,
    check_xlsx_name,
    err_console,
    input_location,
    solve_options,
    write_outputs,
)
from solver.cli.progress import progress_reporter
from solver.io.writers import (
    check_outputs,
    result_filler,
    safe_file_names,
    to_jsonable,
    write_csv,
    write_folder_atomically,
    write_json,
)
from solver.money import money, quantity
from solver.present.charts import scenario_chart
from solver.present.terminal import console as make_console
from solver.present.terminal import styled


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder or .xlsx workbook")
    p.add_argument("--scenarios", metavar="A,B=F,…",
                   help="scenarios to compare (default: all of demand.csv's); NAME=F is a scenario with no rows of its "
                        "own: the demand of --scenario (default base) with every quantity x F, e.g. low=0.85,base,high=1.15")
    p.add_argument("--robust", action="store_true",
                   help="also the two-stage plan: periods 1..N shared by all scenarios, weights from instance.toml [scenarios]")
    p.add_argument("--commit", type=COUNT, default=1, metavar="N", help="with --robust: periods committed (default 1)")
    p.add_argument("--out", metavar="DIR",
                   help="write comparison.csv, scenarios.csv, comparison.png and each plan here (with --robust also "
                        "commit_plan.csv: the decisions of periods 1..N)")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    p.add_argument("--json", action="store_true", help="print the per-scenario rows as JSON")
    p.add_argument("--cold", action="store_true",
                   help="solve every scenario from scratch (default: start from the base scenario's plan)")
    add_xlsx_options(p, "the comparison as a formatted workbook (metric × scenario, one row per scenario)")
    p.add_argument("--jobs", type=COUNT, default=1,
                   help="worker processes for the scenarios after the reference one (default 1: one after the other)")
    add_scheduler_option(p)
    add_csv_safe_option(p)
    add_solve_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    check_xlsx_name(args.xlsx)
    check_outputs([(args.out, "--out", True), (args.xlsx, "--xlsx", False)], inputs=[input_location(args.path)],
                  force=args.force)
    specs = scenario_specs(args.path, args.scenarios)
    instances = load_compared(args.path, specs, args.scenario)
    weights = compared_weights(args.path, specs)
    currency = next(iter(instances.values())).currency
    with progress_reporter(enabled=not args.json, currency=currency) as progress:
        comp = compare_scenarios(instances, weights, solve_options(args), args.commit if args.robust else None,
                                 warm=not args.cold, jobs=args.jobs, scheduler=args.scheduler, progress=progress)
    if args.out or args.xlsx:
        write_outputs(args.out, comparison_filler(comp, args.csv_safe), args.xlsx,
                      lambda: comparison_workbook(comp, args.money), args.force)
    if args.json:
        print(json.dumps(to_jsonable(comp.rows().to_dict("records")), ensure_ascii=False, indent=2))
    else:
        render(comp, make_console())
        if args.out:
            err_console.print(f"comparison written to {args.out}/")
        if args.xlsx:
            err_console.print(f"comparison workbook written to {args.xlsx}")
    ok = all(r.has_plan for r in comp.plans.values()) and (comp.robust is None or all(r.has_plan for r in comp.robust.values()))
    return 0 if ok else 1


def comparison_workbook(comp: ScenarioComparison, money: str = "auto"):
    """`--xlsx`: the side-by-side table (a row per metric, formatted by it) and a row per
    scenario, after the key figures of the comparison; with a robust plan also its commit plan
    and the value of the stochastic solution."""
    from solver.io.workbook import tables_workbook

    kpis = {"currency": comp.currency, "scenarios": ", ".join(comp.scenarios),
            "weights": ", ".join(f"{s} {w:.3g}" for s, w in comp.weights.items())}
    tables = {"comparison": comp.table(), "scenarios": comp.rows()}
    if comp.robust is not None:
        kpis |= {"robust plan": comp.robust_status, "periods committed": comp.commit,
                 "expected profit (robust plan)": comp.expected_profit}
        if comp.committed is not None:
            kpis |= {f"expected profit committing to {comp.reference}'s plan": comp.committed.expected_profit,
                     "expected profit the robust plan adds (VSS)": comp.value_of_stochastic_solution}
        if robust_has_plan(comp):
            tables["commit plan"] = commit_plan(comp.robust[comp.scenarios[0]], comp.commit)
    return tables_workbook("prodbudget · demand scenarios side by side", tables, kpis, money,
                           metric_sheets=["comparison"])


def comparison_filler(comp: ScenarioComparison, csv_safe: bool = False):
    """The `fill` of a comparison folder: comparison.csv (metric × scenario), scenarios.csv (one
    row per scenario), comparison.png, and each plan as a `solve --out` folder:
    plans/<folder>/ and (robust) robust/<folder>/, with commit_plan.csv (the robust plan's
    decisions of the committed periods, `solver.analysis.scenarios.commit_plan`). Scenario
    names come from the data, so they never form a path by themselves: plans/index.csv maps
    each scenario to its folder (`safe_file_names`; a plain name such as `base` keeps its own),
    and each plan's summary.json names its scenario. summary.json carries the expected profits
    and the value of the stochastic solution."""
    folders = safe_file_names(comp.scenarios)

    def fill(tmp: Path) -> None:
        write_csv(comp.table(), tmp / "comparison.csv", csv_safe)
        write_csv(comp.rows(), tmp / "scenarios.csv", csv_safe)
        scenario_chart(comp, tmp / "comparison.png")
        for sub, plans in (("plans", comp.plans), ("robust", comp.robust or {})):
            written = {s: res for s, res in plans.items() if res.has_plan}
            if not written:
                continue
            (tmp / sub).mkdir()
            for s, res in written.items():
                write_folder_atomically(tmp / sub / folders[s], result_filler(res, csv_safe=csv_safe))
            index = pd.DataFrame({"scenario": list(written), "folder": [folders[s] for s in written]})
            write_csv(index, tmp / sub / "index.csv", csv_safe)
        if comp.robust is not None and robust_has_plan(comp):
            write_csv(commit_plan(comp.robust[comp.scenarios[0]], comp.commit), tmp / "commit_plan.csv", csv_safe)
        committed = comp.committed
        summary = {"scenarios": comp.scenarios, "weights": comp.weights, "commit": comp.commit or None,
                   "robust_status": comp.robust_status or None, "expected_profit": comp.expected_profit,
                   "reference": comp.reference,
                   "expected_profit_committing_reference": committed.expected_profit if committed else None,
                   "reference_commitment_infeasible_in": committed.infeasible if committed else None,
                   "value_of_stochastic_solution": comp.value_of_stochastic_solution if committed else None,
                   "seconds": comp.seconds, "plan_folders": {s: folders[s] for s in comp.scenarios}}
        write_json(summary, tmp / "summary.json")

    return fill


def _fmt(metric: str, value: float, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if metric in ("weight",) or "service" in metric or "utilisation" in metric:
        return f"{value:.1%}" if metric != "weight" else f"{value:.3g}"
    return money(value, currency)


def render(comp: ScenarioComparison, console: Console) -> None:
    side = comp.table()
    title = "demand scenarios" + (f" · robust plan: periods 1..{comp.commit} shared" if comp.robust is not None else "")
    t = Table(title=title)
    t.add_column("metric")
    for s in comp.scenarios:
        t.add_column(s, justify="right")
    for row in side.to_dict("records"):
        t.add_row(row["metric"], *[_fmt(row["metric"], row[s], comp.currency) for s in comp.scenarios])
    console.print(t)
    cur = comp.currency
    if robust_has_plan(comp):
        console.print(f"robust plan: {comp.robust_status}; expected profit {money(comp.expected_profit, cur)} "
                      f"(weights {', '.join(f'{s} {w:.3g}' for s, w in comp.weights.items())})", soft_wrap=True)
        render_commit_plan(commit_plan(comp.robust[comp.scenarios[0]], comp.commit), comp, console)
        render_commitment_cost(comp, console)
    elif comp.robust is not None:
        err_console.print(styled(("no robust plan", "red"), f": {comp.robust_message}"))
    for s, r in comp.plans.items():
        if not r.has_plan:
            err_console.print(styled(("no plan", "red"), f" for scenario {s}: {r.message}"))


MAX_COMMIT_ROWS = 30  # larger commit plans are summarised; commit_plan.csv (--out) has every row


def render_commit_plan(plan: pd.DataFrame, comp: ScenarioComparison, console: Console) -> None:
    """The decisions every scenario shares: what to make and buy in periods 1..N."""
    if plan.empty:
        console.print(f"commit plan, periods 1..{comp.commit}: nothing made or bought")
        return
    if len(plan) > MAX_COMMIT_ROWS:
        made, bought = (int((plan["decision"] == d).sum()) for d in ("make", "buy"))
        console.print(f"commit plan, periods 1..{comp.commit}: {made} lots made, {bought} purchases "
                      "(every one in commit_plan.csv with --out)")
        return
    t = Table(title=f"commit plan: periods 1..{comp.commit}, the same in every scenario")
    for c in ("period", "decision", "item", "routing", "quantity", "setup/order", "cost"):  # the rest: the CSV
        t.add_column(c, justify="right" if c in ("quantity", "cost") else "left", min_width=len(c))
    for r in plan.itertuples(index=False):
        t.add_row(str(r.period), r.decision, str(r.item), str(r.routing), quantity(r.quantity),
                  "yes" if r.setup_or_order else "no", money(r.cost, comp.currency))
    console.print(t)


def render_commitment_cost(comp: ScenarioComparison, console: Console) -> None:
    """What committing to the reference scenario's own plan would cost instead (VSS)."""
    committed, ref, cur = comp.committed, comp.reference, comp.currency
    if committed is None:
        return
    what = f"committing to {ref}'s own plan for periods 1..{comp.commit} instead"
    if committed.infeasible:
        console.print(f"{what} leaves no plan in scenario {', '.join(committed.infeasible)}: the robust plan "
                      "is the commitment that works in every scenario", soft_wrap=True)
        return
    vss = comp.value_of_stochastic_solution
    console.print(f"{what} (the rest re-planned per scenario): expected profit {money(committed.expected_profit, cur)}; "
                  f"the robust plan is worth {money(vss, cur)} more (value of the stochastic solution)", soft_wrap=True)
    if committed.unproven:
        console.print(f"  (re-solves of {', '.join(committed.unproven)} stopped at a limit: figures within their gap)")
