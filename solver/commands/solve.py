"""`prodbudget solve PATH`: the optimal plan, its tables and a terminal summary."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console

from solver.commands.common import add_solve_options, err_console, solve_options
from solver.loading import load_instance
from solver.planning import solve
from solver.sensitivity import DEFAULT_MEASURED, measure_limits
from solver.status import Status
from solver.summary import DEFAULT_LIMITS_SHOWN, render_limits, render_summary
from solver.writers import OutputExistsError, to_jsonable, write_result


def add_parser(sub) -> None:
    p = sub.add_parser("solve", help="plan an instance and write the plan tables")
    p.add_argument("path", help="instance folder (instance.toml + CSV) or .xlsx workbook")
    p.add_argument("--out", metavar="DIR", help="write <table>.csv and summary.json here")
    p.add_argument("--force", action="store_true", help="replace DIR (and FILE of --xlsx) if it exists")
    p.add_argument("--xlsx", metavar="FILE", help="also write the formatted result workbook (.xlsx)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    p.add_argument("--sensitivity", action="store_true",
                   help="shadow prices, ranges and the ranked binding limits (fixed-pattern LP); the value of "
                        "relaxing the top limits is measured by re-solving (see --measure)")
    p.add_argument("--measure", type=int, default=DEFAULT_MEASURED, metavar="N",
                   help="with --sensitivity: re-solve the changed instance for the top N limits to measure what "
                        f"relaxing each by its step is worth, and show them (default {DEFAULT_MEASURED}; 0: no "
                        "re-solves, the values shown are lower bounds: price x the range the price holds for)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes for the re-solves of --measure (default 2)")
    p.add_argument("--compare-sequential", action="store_true",
                   help="also plan the ERP way (operations first, finance cuts) and compare")
    add_solve_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    started = time.perf_counter()  # the diagnosis of an infeasible plan fits in --time-limit too
    if args.out and Path(args.out).exists() and not args.force:  # refuse before a long solve
        raise OutputExistsError(f"{args.out} exists; use --force to replace it")
    if args.xlsx and Path(args.xlsx).exists() and not args.force:
        raise OutputExistsError(f"{args.xlsx} exists; use --force to replace it")
    inst = load_instance(args.path, scenario=args.scenario)
    result = solve(inst, solve_options(args, sensitivity=args.sensitivity))
    shown = not args.json or args.out or args.xlsx  # --json alone prints the KPIs, not the limits
    if result.sensitivity is not None and args.measure > 0 and shown:  # before the tables are written
        from solver.commands.progress import progress_reporter

        phase = "valuing the top limits by re-solving"
        with progress_reporter(enabled=not args.json) as progress:
            progress(phase)
            seconds = measure_limits(result, solve_options(args), top=args.measure, jobs=args.jobs,
                                     progress=lambda done, total: progress(phase, f"{done} of {total} re-solved"))
        result.kpis["limits_seconds"] = seconds
    comparison = None
    if args.compare_sequential and result.has_plan:
        from solver.sequential import compare_sequential, render_comparison

        comparison = compare_sequential(inst, result, solve_options(args))
        result.kpis["joint_vs_sequential"] = comparison.headline
    if args.out and result.has_plan:
        extra = {"comparison": comparison.table()} if comparison is not None else None
        write_result(result, args.out, force=args.force, extra=extra)
    if args.xlsx and result.has_plan:
        from solver.workbook import write_result_workbook

        extra = {"comparison": comparison.table()} if comparison is not None else None
        write_result_workbook(result, args.xlsx, extra=extra)
    diagnosis = None
    if result.status == Status.INFEASIBLE:  # say what to relax, not just "infeasible"
        from solver.commands.progress import progress_reporter
        from solver.diagnosis import diagnose

        with progress_reporter(enabled=not args.json) as progress:
            diagnosis = diagnose(inst, solve_options(args), result=result, progress=progress,
                                 deadline=started + args.time_limit)
        result.kpis["diagnosis"] = diagnosis.to_dict()
    if result.status == Status.FEASIBLE:
        err_console.print(f"[yellow]warning[/]: {result.message}; the plan is not proven optimal "
                          f"(gap {result.gap:.2%})", soft_wrap=True)
    if args.json:
        print(json.dumps(to_jsonable(result.kpis), ensure_ascii=False, indent=2))
    else:
        console = Console()
        render_summary(result, console)
        if result.sensitivity is not None:
            render_limits(result.sensitivity, console, top=max(args.measure, DEFAULT_LIMITS_SHOWN),
                          currency=inst.currency, seconds=result.kpis.get("limits_seconds"))
        if comparison is not None:
            render_comparison(comparison, console)
        if diagnosis is not None:
            from solver.commands.diagnose import render

            render(diagnosis, console)
        if args.out and result.has_plan:
            err_console.print(f"plan written to {args.out}/")
        if args.xlsx and result.has_plan:
            err_console.print(f"result workbook written to {args.xlsx}")
    return 0 if result.has_plan else 1
