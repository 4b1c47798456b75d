"""`prodbudget template plan.xlsx [--periods 2027-01..2027-12]` (or `--out plan.xlsx`): the empty planning
workbook (every sheet and column of the instance format, the demand grid, a bilingual README
sheet, drop-downs), generated from `solver.io.schema`."""

from __future__ import annotations

import argparse
from pathlib import Path

from solver.cli.common import err_console
from solver.io.workbook import parse_periods, write_template
from solver.io.writers import check_output


def add_arguments(p) -> None:
    p.add_argument("file", nargs="?", metavar="FILE", help="workbook to write (.xlsx)")
    p.add_argument("--out", metavar="FILE", help="the same, as an option")
    p.add_argument("--periods", type=_periods, metavar="SPEC",
                   help="the plan's periods, filled in and offered by the drop-downs of every period column and "
                        "as the demand grid's columns: 2027-01..2027-12 (months), W1,W2,W3 (labels) or 12")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(run=run)


def _periods(text: str) -> list[str] | int:
    try:
        return parse_periods(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def run(args) -> int:
    if (args.file is None) == (args.out is None):
        err_console.print("prodbudget template: name the workbook to write once: prodbudget template plan.xlsx")
        return 2
    out = Path(args.file or args.out)
    if out.suffix.lower() != ".xlsx":
        err_console.print(f"prodbudget template: {out} must end in .xlsx")
        return 2
    check_output(out, force=args.force, folder=False)
    write_template(out, args.periods)
    err_console.print(f"template written to {out} (fill it, then: prodbudget solve {out})")
    return 0
