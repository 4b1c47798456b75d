"""Options and output shared by several commands."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from formulations.tight import FORMULATIONS
from solver.highs import LARGE_ROWS
from solver.options import SolveOptions
from solver.problems import Problem

err_console = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay one line each: greppable, never split


def add_solve_options(p: argparse.ArgumentParser) -> None:
    d = SolveOptions()
    g = p.add_argument_group("solver")
    g.add_argument("--time-limit", type=float, default=d.time_limit, metavar="S", help=f"seconds for the MIP (default {d.time_limit:g})")
    g.add_argument("--gap", type=float, default=d.gap, help=f"relative MIP gap counted as optimal (default {d.gap:g})")
    g.add_argument("--threads", type=int, default=d.threads, help=f"HiGHS threads (default {d.threads}, reproducible)")
    g.add_argument("--seed", type=int, default=d.seed, help=f"HiGHS random seed (default {d.seed})")
    g.add_argument("--scenario", default="base", help="demand scenario to plan (default base)")
    g.add_argument("--log", action="store_true", help="show the HiGHS log")
    g.add_argument("--formulation", choices=FORMULATIONS, default=d.formulation,
                   help="setup formulation: bigm; ls = big-M plus the (l,S) inequalities of single-level items; "
                        f"fl = big-M plus the facility-location rows of single-level items (default {d.formulation})")
    g.add_argument("--strategy", choices=("auto", "mip", "relax-and-fix"), default=d.strategy,
                   help="mip = branch-and-bound on the whole plan; relax-and-fix = time-boxed heuristic for large "
                        f"plans, with a proven bound; auto = mip up to {LARGE_ROWS:,} rows, relax-and-fix above "
                        f"(default {d.strategy})")


def solve_options(args: argparse.Namespace, **extra) -> SolveOptions:
    return SolveOptions(
        time_limit=args.time_limit, gap=args.gap, threads=args.threads, seed=args.seed,
        log=args.log, formulation=getattr(args, "formulation", "bigm"),
        strategy=getattr(args, "strategy", SolveOptions().strategy), **extra,
    )


def print_problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    for p in errors:
        err_console.print(f"[red]error[/]: {p.location}: {p.message}" + (f" (expected {p.expected})" if p.expected else ""), markup=True, soft_wrap=True)
    for p in warnings:
        err_console.print(f"[yellow]warning[/]: {p.location}: {p.message}" + (f" (expected {p.expected})" if p.expected else ""), soft_wrap=True)
    if errors:
        err_console.print(f"{len(errors)} error(s), {len(warnings)} warning(s)")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
