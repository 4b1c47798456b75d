"""The solve pipeline: Instance -> model -> HiGHS -> Result, by the route that suits the model:
branch-and-bound (solver/engine/exact.py) or, for large models, the relax-and-fix heuristic
with a background bound (solver/engine/heuristics.py). Build and solve are timed apart."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from formulations.assembly import Extension
from formulations.setup.bigm import UnboundedOrderError
from solver.engine.exact import build, no_plan, solve_built
from solver.engine.heuristics import solve_with_heuristic
from solver.engine.options import LARGE_ROWS, SolveOptions
from solver.engine.progress import ProgressCallback, Reporter
from solver.engine.results import Result
from solver.engine.status import Status
from solver.io.instance import Instance


def solve(inst: Instance, options: SolveOptions | None = None, extensions: Sequence[Extension] = (),
          start: np.ndarray | None = None, plan: np.ndarray | None = None, model=None,
          progress: ProgressCallback | None = None, **overrides) -> Result:
    """Plan the whole chain at once: `plan = solve(load_instance(path))`.

    Keyword overrides are SolveOptions fields, e.g. `solve(inst, time_limit=60)`.
    `start`: a MIP start in the model's column order. `plan`: column values of a plan found
    elsewhere for this same model (the heuristic's); HiGHS is skipped and the plan reported.
    `model`: (BuiltModel, StandardForm) already built with these extensions (not rebuilt).
    `extensions` add blocks to the model (see formulations.assembly.build_model); when they
    add objective-only penalties, `objective` is still the profit of docs/model.md §5 and the
    penalised value is in `kpis["objective_with_penalties"]`.
    `progress` receives `Progress` events as the solve moves, the last one `solved` with the
    plan's figures (solver/engine/progress.py).
    """
    report = Reporter(progress)
    result = _solve(inst, options, extensions, start, plan, model, report, overrides)
    if report:
        objective = result.kpis.get("objective_with_penalties", result.objective)
        report("solved", result.message, incumbent=objective, bound=result.bound, gap=result.gap)
    return result


def _solve(inst: Instance, options: SolveOptions | None, extensions: Sequence[Extension], start, plan, model,
           report: Reporter, overrides: dict) -> Result:
    options = options or SolveOptions()
    if overrides:
        options = SolveOptions(**{**options.__dict__, **overrides})
    if options.strategy == "relax-and-fix":  # the heuristic calls back with strategy="mip"
        return solve_with_heuristic(inst, options, extensions, report=report)
    given = list(extensions)
    t0 = time.perf_counter()
    if model is not None:
        built, sf = model
        build_seconds = blocks_seconds = 0.0
    else:
        if report:
            report("building the model")
        try:
            built, sf, build_seconds, blocks_seconds = build(inst, options, extensions)
        except UnboundedOrderError as err:
            return no_plan(inst, Status.UNBOUNDED, str(err), options, time.perf_counter() - t0)
    if options.strategy == "auto" and plan is None and sf.num_integers and sf.num_rows > LARGE_ROWS:
        # branch-and-bound alone finds no plan in minutes on models this size (measured on
        # the ladder: benchmarks/results/heuristics.md); the heuristic works on this model
        left = max(options.time_limit - build_seconds, 1.0)
        reuse = (built, sf) if options.handoff != "pyomo" else None  # the heuristic compiles from rows
        result = solve_with_heuristic(inst, replace(options, strategy="relax-and-fix", time_limit=left), given,
                                      model=reuse, report=report)
        for key in ("build_seconds", "total_seconds"):  # the build above is part of the run
            result.kpis[key] = result.kpis.get(key, 0.0) + build_seconds
        return result
    return solve_built(inst, options, built, sf, build_seconds, blocks_seconds, start=start, plan=plan, report=report)
