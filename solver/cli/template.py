"""`prodbudget template --out plan.xlsx`: the empty planning workbook (every sheet and column
of the instance format, a README sheet, drop-downs), generated from `solver.io.schema`."""

from __future__ import annotations

from pathlib import Path

from solver.cli.common import err_console
from solver.io.workbook import write_template
from solver.io.writers import check_output


def add_arguments(p) -> None:
    p.add_argument("--out", required=True, metavar="FILE", help="workbook to write (.xlsx)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(run=run)


def run(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        err_console.print(f"prodbudget template: {out} must end in .xlsx")
        return 2
    check_output(out, force=args.force, folder=False)
    write_template(out)
    err_console.print(f"template written to {out} (fill it, then: prodbudget solve {out})")
    return 0
