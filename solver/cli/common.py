"""Options and output shared by several commands."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from formulations.setup.variants import FORMULATIONS
from solver.engine.options import LARGE_ROWS, SolveOptions
from solver.io.problems import Problem
from solver.present.terminal import console, styled

err_console = console(stderr=True)  # data strings verbatim (solver/present/terminal.py), one line per message

MAX_SEED = 2_147_483_647  # HiGHS random_seed range


def number(kind: type = float, *, at_least: float | None = None, above: float | None = None,
           at_most: float | None = None, what: str = "") -> Callable[[str], float]:
    """An argparse `type=` that refuses NaN, ±inf and values outside the range (exit 2, as any
    bad usage), so `--time-limit -1`, `--gap nan` or `--threads 0` never reach a solve."""
    if what:
        expected = what
    else:
        bounds = [f">= {at_least:g}" if at_least is not None else "", f"> {above:g}" if above is not None else "",
                  f"<= {at_most:g}" if at_most is not None else ""]
        expected = ("an integer" if kind is int else "a number") + "".join(f" {b}" for b in bounds if b)

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}") from None
        if (not math.isfinite(value) or (at_least is not None and value < at_least)
                or (above is not None and value <= above) or (at_most is not None and value > at_most)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
        return value

    parse.__name__ = "integer" if kind is int else "number"  # argparse names the type in its message
    return parse


SECONDS = number(float, above=0, what="a positive number of seconds")
COUNT = number(int, at_least=1, what="a whole number >= 1")
NON_NEGATIVE_INT = number(int, at_least=0, what="a whole number >= 0")
NON_NEGATIVE = number(float, at_least=0, what="a finite number >= 0")
POSITIVE = number(float, above=0, what="a finite number > 0")


def relative_or_absolute(text: str) -> str:
    """`-30%` (relative to the instance's value) or a plain finite number, checked before any work."""
    body = text.strip().removesuffix("%")
    try:
        value = float(body)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is neither a percentage such as -30% nor a number")
    return text.strip()


def add_solve_options(p: argparse.ArgumentParser) -> None:
    d = SolveOptions()
    g = p.add_argument_group("solver")
    g.add_argument("--time-limit", type=SECONDS, default=d.time_limit, metavar="S", help=f"seconds for the MIP (default {d.time_limit:g})")
    g.add_argument("--gap", type=number(float, at_least=0, at_most=1), default=d.gap,
                   help=f"relative MIP gap counted as optimal, 0..1 (default {d.gap:g})")
    g.add_argument("--threads", type=COUNT, default=d.threads, help=f"HiGHS threads (default {d.threads}, reproducible)")
    g.add_argument("--seed", type=number(int, at_least=0, at_most=MAX_SEED), default=d.seed,
                   help=f"HiGHS random seed, 0..{MAX_SEED} (default {d.seed})")
    g.add_argument("--scenario", default="base", help="demand scenario to plan (default base)")
    g.add_argument("--log", action="store_true", help="show the HiGHS log")
    g.add_argument("--formulation", choices=FORMULATIONS, default=d.formulation,
                   help="setup formulation: bigm; ls = big-M plus the (l,S) inequalities of single-level items; "
                        "fl = big-M plus the facility-location rows of single-level items; "
                        "cuts = big-M plus the (l,S) and interval rows a root cut loop finds violated "
                        f"(default {d.formulation})")
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
    """Every problem on one line, errors first, each as `error: <where>: <what> (expected …)`."""
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    for label, colour, group in (("error", "red", errors), ("warning", "yellow", warnings)):
        for p in group:
            err_console.print(styled((label, colour), f": {p.location}: {p.message}"
                                     + (f" (expected {p.expected})" if p.expected else "")))
    if errors:
        err_console.print(f"{len(errors)} error(s), {len(warnings)} warning(s)")


def print_warning(message: str) -> None:
    """`warning: <message>` on stderr (the message printed as given)."""
    err_console.print(styled(("warning", "yellow"), f": {message}"))


def print_error(message: str) -> None:
    """`error: <message>` on stderr (the message printed as given)."""
    err_console.print(styled(("error", "red"), f": {message}"))


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def add_csv_safe_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv-safe", action="store_true",
                   help="prefix ' to text cells starting with = + - @ (or a tab/CR) in the CSV files, so a "
                        "spreadsheet shows them as text instead of running them as formulas")


def input_location(path: str | None) -> str | None:
    """The folder (or workbook) an instance path stands for: `x/instance.toml` stands for `x`."""
    if path is None:
        return None
    p = Path(path)
    return str(p.parent) if p.name == "instance.toml" and p.is_file() else str(p)
