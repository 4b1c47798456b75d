"""`prodbudget convert SRC DST`: an instance folder to a workbook and back, losslessly.

The direction follows the names: DST ending in .xlsx writes a workbook from the folder SRC;
SRC ending in .xlsx writes the folder DST (instance.toml + one CSV per sheet; a demand grid sheet
as demand_grid.csv). `--demand-grid` writes the folder's demand as the product × period grid.
"""

from __future__ import annotations

from pathlib import Path

from solver.cli.common import err_console, input_location, print_problems
from solver.io.problems import InputError
from solver.io.workbook import convert
from solver.io.writers import check_output, is_instance_folder


def add_arguments(p) -> None:
    p.add_argument("src", help="instance folder, or .xlsx workbook")
    p.add_argument("dst", help=".xlsx workbook, or instance folder to write")
    p.add_argument("--demand-grid", action="store_true",
                   help="folder to workbook: demand as a product × period grid (sheet demand_grid), not as rows")
    p.add_argument("--force", action="store_true", help="replace DST if it exists (a folder only if it is an instance folder)")
    p.set_defaults(run=run)


def run(args) -> int:
    src, dst = Path(args.src), Path(args.dst)
    xlsx = (".xlsx", ".xlsm")
    if (src.suffix.lower() in xlsx) == (dst.suffix.lower() in xlsx):
        err_console.print("prodbudget convert: exactly one of SRC and DST must be an .xlsx workbook")
        return 2
    to_folder = src.suffix.lower() in xlsx
    if to_folder and args.demand_grid:
        err_console.print("prodbudget convert: --demand-grid writes a workbook; a workbook's grid is copied to the folder as it is")
        return 2
    check_output(dst, inputs=[input_location(args.src)], force=args.force, folder=to_folder,
                 replaceable=is_instance_folder, recognised_by="instance.toml", option="DST")
    try:
        convert(src, dst, args.demand_grid)
    except InputError as err:  # cells that cannot be typed; warnings alone do not stop it
        print_problems(err.problems)
        return 2
    except ValueError as err:
        err_console.print(f"prodbudget convert: {err}")
        return 2
    err_console.print(f"converted {src} → {dst}")
    return 0
