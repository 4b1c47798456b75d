"""`prodbudget diagnose PATH`: when no plan exists, what to relax and by how much."""

from __future__ import annotations

import json
import math
import time

from rich.console import Console

from formulations.registry import limits
from solver.analysis.diagnosis import (
    DEFAULT_WEIGHTS,
    Diagnosis,
    DiagnosisError,
    diagnose,
    family_of,
)
from solver.cli.common import add_solve_options, err_console, solve_options
from solver.cli.progress import progress_reporter
from solver.io.loading import load_instance
from solver.io.writers import to_jsonable
from solver.present.terminal import console as make_console

# the name each family is listed by (its first declared key)
MAIN_KEYS = tuple(f.limit.keys[0] if f.limit.keys else f.label.replace(" ", "-") for f in limits())


def add_arguments(p) -> None:
    keys = ", ".join(MAIN_KEYS)
    p.description = (
        "Solve the instance; if no plan exists, find the cheapest set of relaxations (capacity, "
        "overtime, budgets, pool, minimum cash, credit line, stock targets, must-serve demand) "
        "that makes it feasible, and when the LP is already infeasible an irreducible conflicting "
        "subset. Weights price one unit of a relaxation as weight × its money value (money: 1 per "
        "currency unit; an hour: the resource's overtime cost or the value it makes; a unit: the "
        "item's price or cost). Defaults: "
        + ", ".join(f"{f}={w:g}" for f, w in DEFAULT_WEIGHTS.items()) + "."
    )
    p.add_argument("path", help="instance folder (instance.toml + CSV) or .xlsx workbook")
    p.add_argument("--weight", action="append", default=[], metavar="FAMILY=W",
                   help=f"weight of a family's relaxations (families: {keys})")
    p.add_argument("--never", action="append", default=[], metavar="FAMILY",
                   help="never relax this family (repeatable)")
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    add_solve_options(p)
    p.set_defaults(run=run)


def parse_weights(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise DiagnosisError(f"--weight {item!r}: expected FAMILY=VALUE")
        try:
            out[key] = float(value)
        except ValueError:
            raise DiagnosisError(f"--weight {item!r}: {value!r} is not a number") from None
        if not math.isfinite(out[key]) or out[key] < 0:
            raise DiagnosisError(f"--weight {item!r}: expected a finite weight >= 0")
    return out


def render(diag: Diagnosis, console: Console | None = None) -> None:
    console = console or make_console()
    for line in diag.lines():
        console.print(line, soft_wrap=True, markup=False, emoji=False, highlight=False)


def run(args) -> int:
    started = time.perf_counter()  # --time-limit covers the whole run: load, solve, diagnosis
    try:
        weights = parse_weights(args.weight)
        diag_kwargs = {"weights": weights, "never": args.never}
        for k in list(weights) + list(args.never):
            family_of(k)
    except DiagnosisError as err:
        err_console.print(f"prodbudget diagnose: {err}")
        return 2
    inst = load_instance(args.path, scenario=args.scenario)
    with progress_reporter(enabled=not args.json, currency=inst.currency) as progress:
        diag = diagnose(inst, solve_options(args), progress=progress, deadline=started + args.time_limit,
                        **diag_kwargs)
    if args.json:
        print(json.dumps(to_jsonable(diag.to_dict()), ensure_ascii=False, indent=2))
    else:
        render(diag)
    return 0 if diag.feasible else 1

