"""Solve options. Defaults are fixed so that the same input gives the same plan."""

from __future__ import annotations

from dataclasses import dataclass

# Above this many rows the heuristic builds the plan by an LP dive, and strategy "auto" uses it:
# branch-and-bound and MIP windows found no plan on the 12k-row medium ladder in 60 s.
# (Here, not in solver/engine/highs.py, so that the command line shows it without loading HiGHS.)
LARGE_ROWS = 5_000


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 300.0  # seconds for the MIP (HiGHS time_limit)
    gap: float = 1e-4  # relative MIP gap at which the plan counts as optimal
    threads: int = 1  # HiGHS threads; fixed for reproducibility
    seed: int = 0  # HiGHS random_seed
    polish: bool = True  # round the integers and re-solve the LP (see solver/engine/highs.py)
    sensitivity: bool = False  # fixed-pattern LP duals and ranging
    log: bool = False  # show the HiGHS log
    handoff: str = "direct"  # "direct": rows compiled straight to arrays; "pyomo": Pyomo constraints + LinearStandardFormCompiler (comparison route)
    formulation: str = "bigm"  # setup/order links: "bigm" (docs/model.md §4.5 as written), "ls" (+ (l,S) rows) or "fl" (facility location); formulations/
    # "mip" (branch-and-bound on the whole model), "relax-and-fix" (solver/engine/heuristics.py), or
    # "auto": mip up to LARGE_ROWS rows (above), the heuristic above
    strategy: str = "auto"
