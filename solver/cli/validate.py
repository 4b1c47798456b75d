"""`prodbudget validate PATH`: every problem in an instance, at once."""

from __future__ import annotations

from solver.cli.common import err_console, print_problems
from solver.io.loading import validate


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder (instance.toml + CSV) or .xlsx workbook")
    p.add_argument("--scenario", default="base", help="demand scenario to check (default base)")
    p.set_defaults(run=run)


def run(args) -> int:
    problems = validate(args.path, scenario=args.scenario)
    print_problems(problems)
    if any(p.is_error for p in problems):
        return 2
    err_console.print(f"{args.path}: valid" + (f" ({len(problems)} warning(s))" if problems else ""))
    return 0
