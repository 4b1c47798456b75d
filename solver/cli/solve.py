"""`prodbudget solve PATH`: the optimal plan, its tables and a terminal summary."""

from __future__ import annotations

import json
import time

from solver.analysis.limits import measure_limits
from solver.cli.common import (
    COUNT,
    NON_NEGATIVE_INT,
    add_csv_safe_option,
    add_option,
    add_solve_options,
    add_xlsx_options,
    check_xlsx_name,
    err_console,
    input_location,
    print_warning,
    solve_options,
    write_outputs,
)
from solver.cli.progress import progress_reporter
from solver.engine.pipeline import solve
from solver.engine.sensitivity import DEFAULT_MEASURED
from solver.engine.status import Status
from solver.io.loading import load_instance
from solver.io.writers import check_outputs, result_filler, to_jsonable
from solver.present.summary import DEFAULT_LIMITS_SHOWN, render_limits, render_summary
from solver.present.terminal import console as make_console


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder (instance.toml + CSV) or .xlsx workbook")
    p.add_argument("--out", metavar="DIR", help="write <table>.csv and summary.json here")
    p.add_argument("--force", action="store_true", help="replace DIR (and FILE of --xlsx) if it exists")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    add_option(p, "sensitivity", note="the value of relaxing the top limits is measured by re-solving (see --measure)")
    p.add_argument("--measure", type=NON_NEGATIVE_INT, default=DEFAULT_MEASURED, metavar="N",
                   help="with --sensitivity: re-solve the changed instance for the top N limits to measure what "
                        f"relaxing each by its step is worth, and show them (default {DEFAULT_MEASURED}; 0: no "
                        "re-solves, the values shown are lower bounds: price x the range the price holds for)")
    p.add_argument("--jobs", type=COUNT, default=2, help="worker processes for the re-solves of --measure (default 2)")
    p.add_argument("--compare-sequential", action="store_true",
                   help="also plan the ERP way (operations first, finance cuts) and compare")
    add_xlsx_options(p)
    add_csv_safe_option(p)
    add_solve_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    started = time.perf_counter()  # the diagnosis of an infeasible plan fits in --time-limit too
    check_xlsx_name(args.xlsx)
    # every output checked before a long solve: none is, holds or lies inside the input
    check_outputs([(args.out, "--out", True), (args.xlsx, "--xlsx", False)],
                  inputs=[input_location(args.path)], force=args.force)
    inst = load_instance(args.path, scenario=args.scenario)
    with progress_reporter(enabled=not args.json, currency=inst.currency) as progress:
        result = solve(inst, solve_options(args, sensitivity=args.sensitivity), progress=progress)
    shown = not args.json or args.out or args.xlsx  # --json alone prints the KPIs, not the limits
    if result.sensitivity is not None and args.measure > 0 and shown:  # before the tables are written
        with progress_reporter(enabled=not args.json, currency=inst.currency) as progress:
            seconds = measure_limits(result, solve_options(args), top=args.measure, jobs=args.jobs, progress=progress)
        result.kpis["limits_seconds"] = seconds
    comparison = None
    if args.compare_sequential and result.has_plan:
        from solver.analysis.sequential import compare_sequential
        from solver.present.summary import render_comparison

        comparison = compare_sequential(inst, result, solve_options(args))
        result.kpis["joint_vs_sequential"] = comparison.headline
    if result.has_plan and (args.out or args.xlsx):
        _write(result, args, {"comparison": comparison.table()} if comparison is not None else None)
    diagnosis = None
    if result.status == Status.INFEASIBLE:  # say what to relax, not just "infeasible"
        from solver.analysis.diagnosis import diagnose

        with progress_reporter(enabled=not args.json, currency=inst.currency) as progress:
            diagnosis = diagnose(inst, solve_options(args), result=result, progress=progress,
                                 deadline=started + args.time_limit)
        result.kpis["diagnosis"] = diagnosis.to_dict()
    if result.status == Status.FEASIBLE:
        print_warning(f"{result.message}; the plan is not proven optimal (gap {result.gap:.2%})")
    if args.json:
        print(json.dumps(to_jsonable(result.kpis), ensure_ascii=False, indent=2))
    else:
        console = make_console()
        render_summary(result, console)
        if result.sensitivity is not None:
            render_limits(result.sensitivity, console, top=max(args.measure, DEFAULT_LIMITS_SHOWN),
                          currency=inst.currency, seconds=result.kpis.get("limits_seconds"))
        if comparison is not None:
            render_comparison(comparison, console)
        if diagnosis is not None:
            from solver.cli.diagnose import render

            render(diagnosis, console)
        if args.out and result.has_plan:
            err_console.print(f"plan written to {args.out}/")
        if args.xlsx and result.has_plan:
            err_console.print(f"result workbook written to {args.xlsx}")
    return 0 if result.has_plan else 1


def _write(result, args, extra) -> None:
    """The plan folder and the workbook, both staged before either is moved into place."""
    from solver.io.workbook import result_workbook_for

    write_outputs(args.out, result_filler(result, extra, args.csv_safe), args.xlsx,
                  lambda: result_workbook_for(result, extra, args.money), args.force)
