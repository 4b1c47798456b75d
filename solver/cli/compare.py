"""`prodbudget compare PATH --scenarios low,base,high [--robust --commit N] [--out DIR]`:
demand scenarios side by side, and optionally one plan for the first N periods shared by all."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from solver.analysis.scenarios import ScenarioComparison, compare_scenarios
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
from solver.io.loading import load_instance, scenario_weights
from solver.io.problems import InputError, Problem
from solver.io.writers import (
    check_outputs,
    result_filler,
    safe_file_names,
    to_jsonable,
    write_csv,
    write_folder_atomically,
    write_json,
)
from solver.money import money
from solver.present.charts import scenario_chart
from solver.present.terminal import console as make_console
from solver.present.terminal import styled


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder or .xlsx workbook")
    p.add_argument("--scenarios", metavar="A,B,…", help="scenarios of demand.csv to compare (default: all of them)")
    p.add_argument("--robust", action="store_true",
                   help="also the two-stage plan: periods 1..N shared by all scenarios, weights from instance.toml [scenarios]")
    p.add_argument("--commit", type=COUNT, default=1, metavar="N", help="with --robust: periods committed (default 1)")
    p.add_argument("--out", metavar="DIR", help="write comparison.csv, scenarios.csv, comparison.png and each plan here")
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


def _scenario_names(path: str, text: str | None) -> list[str]:
    """The scenarios named on the command line, else every scenario of demand.csv (found by
    loading scenario `base`; without one, name them with --scenarios)."""
    if not text:
        return list(load_instance(path).scenarios)
    names = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not names:
        raise InputError([Problem("command line", None, "--scenarios", "no scenario named", "A,B,…")])
    return names


def run(args) -> int:
    check_xlsx_name(args.xlsx)
    check_outputs([(args.out, "--out", True), (args.xlsx, "--xlsx", False)], inputs=[input_location(args.path)],
                  force=args.force)
    names = _scenario_names(args.path, args.scenarios)
    instances = {s: load_instance(args.path, scenario=s) for s in names}
    weights = scenario_weights(args.path, names)
    comp = compare_scenarios(instances, weights, solve_options(args), args.commit if args.robust else None,
                              warm=not args.cold, jobs=args.jobs, scheduler=args.scheduler)
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
    scenario, after the key figures of the comparison."""
    from solver.io.workbook import tables_workbook

    kpis = {"currency": comp.currency, "scenarios": ", ".join(comp.scenarios),
            "weights": ", ".join(f"{s} {w:.3g}" for s, w in comp.weights.items())}
    if comp.robust is not None:
        kpis |= {"robust plan": comp.robust_status, "periods committed": comp.commit,
                 "expected profit (robust plan)": comp.expected_profit}
    return tables_workbook("prodbudget · demand scenarios side by side",
                           {"comparison": comp.table(), "scenarios": comp.rows()}, kpis, money,
                           metric_sheets=["comparison"])


def comparison_filler(comp: ScenarioComparison, csv_safe: bool = False):
    """The `fill` of a comparison folder: comparison.csv (metric × scenario), scenarios.csv (one
    row per scenario), comparison.png, and each plan as a `solve --out` folder:
    plans/<folder>/ and (robust) robust/<folder>/. Scenario names come from the data, so they
    never form a path by themselves: plans/index.csv maps each scenario to its folder
    (`safe_file_names`; a plain name such as `base` keeps its own), and each plan's
    summary.json names its scenario."""
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
        summary = {"scenarios": comp.scenarios, "weights": comp.weights, "commit": comp.commit or None,
                   "robust_status": comp.robust_status or None, "expected_profit": comp.expected_profit,
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
    if comp.robust is not None:
        console.print(f"robust plan: {comp.robust_status}; expected profit {money(comp.expected_profit, comp.currency)} "
                      f"(weights {', '.join(f'{s} {w:.3g}' for s, w in comp.weights.items())})")
    bad = [s for s, r in comp.plans.items() if not r.has_plan]
    for s in bad:
        err_console.print(styled(("no plan", "red"), f" for scenario {s}: {comp.plans[s].message}"))
