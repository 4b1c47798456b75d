"""`prodbudget actuals PATH --baseline DIR --from PERIOD --out DIR`: an actuals folder for the
periods before PERIOD holding exactly what the previous plan planned (`roll --actuals` reads
it): a template to overwrite with what happened, or the reference re-plan in which nothing
deviated."""

from __future__ import annotations

from solver.analysis.rolling import is_actuals_folder, period_index, plan_as_actuals, write_actuals
from solver.cli.common import err_console, input_location
from solver.io.baseline import load_baseline
from solver.io.loading import load_instance
from solver.io.writers import check_output


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder or .xlsx workbook (the baseline's input)")
    p.add_argument("--baseline", required=True, metavar="DIR", help="output folder of `prodbudget solve --out` (the previous plan)")
    p.add_argument("--from", dest="from_period", required=True, metavar="PERIOD",
                   help="first period the re-plan will cover (label or 1..n); the actuals cover the periods before it")
    p.add_argument("--out", required=True, metavar="DIR", help="actuals folder to write (stock, cash, sales, production, "
                   "purchases, receivables, payables .csv)")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    p.add_argument("--scenario", default="base", help="demand scenario of the baseline (default base)")
    p.set_defaults(run=run)


def run(args) -> int:
    check_output(args.out, inputs=[input_location(args.path), args.baseline], force=args.force,
                 replaceable=is_actuals_folder, recognised_by="stock.csv and cash.csv")
    inst = load_instance(args.path, scenario=args.scenario)
    baseline = load_baseline(args.baseline, inst)
    from_t = period_index(inst, args.from_period)
    tables = plan_as_actuals(inst, baseline, from_t)
    write_actuals(tables, args.out, force=args.force)
    closed = ", ".join(inst.periods[: from_t - 1])
    err_console.print(f"actuals of {closed} as planned written to {args.out}/")
    return 0
