"""The solve pipeline: Instance -> model -> HiGHS -> Result. Build and solve are timed apart."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from formulations.assembly import Extension, build_model
from formulations.setup.bigm import UnboundedOrderError
from formulations.setup.ls_inequalities import formulation_extensions
from solver.engine.highs import (
    LARGE_ROWS,
    allocation_columns,
    compile_model,
    given_plan,
    minimise_allocation,
    solve_standard_form,
    version,
)
from solver.engine.options import SolveOptions
from solver.engine.results import Result, extract_tables, kpis
from solver.engine.status import Status
from solver.io.instance import Instance


def solve(inst: Instance, options: SolveOptions | None = None, extensions: Sequence[Extension] = (),
          start: np.ndarray | None = None, plan: np.ndarray | None = None, model=None, **overrides) -> Result:
    """Plan the whole chain at once: `plan = solve(load_instance(path))`.

    Keyword overrides are SolveOptions fields, e.g. `solve(inst, time_limit=60)`.
    `start`: a MIP start in the model's column order. `plan`: column values of a plan found
    elsewhere for this same model (the heuristic's); HiGHS is skipped and the plan reported.
    `model`: (BuiltModel, StandardForm) already built with these extensions (not rebuilt).
    `extensions` add blocks to the model (see formulations.assembly.build_model); when they
    add objective-only penalties, `objective` is still the profit of MODEL.md §5 and the
    penalised value is in `kpis["objective_with_penalties"]`.
    """
    options = options or SolveOptions()
    if overrides:
        options = SolveOptions(**{**options.__dict__, **overrides})
    if options.strategy == "relax-and-fix":  # the heuristic calls back with strategy="mip"
        from solver.engine.heuristics import solve_with_heuristic

        return solve_with_heuristic(inst, options, extensions)
    given = list(extensions)
    extensions = [*extensions, *formulation_extensions(options.formulation)]
    t0 = time.perf_counter()
    if model is not None:
        built, sf = model
        t_blocks = t0
    else:
        try:
            built = build_model(inst, extensions, materialize=options.handoff == "pyomo")
        except UnboundedOrderError as err:
            return _no_plan(inst, Status.UNBOUNDED, str(err), options, time.perf_counter() - t0)
        t_blocks = time.perf_counter()
        sf = compile_model(built.model)
    build_seconds = time.perf_counter() - t0
    if options.strategy == "auto" and plan is None and sf.num_integers and sf.num_rows > LARGE_ROWS:
        # branch-and-bound alone finds no plan in minutes on models this size (measured on
        # the ladder: benchmarks/results/heuristics.md); the heuristic works on this model
        from solver.engine.heuristics import solve_with_heuristic

        left = max(options.time_limit - build_seconds, 1.0)
        reuse = (built, sf) if options.handoff != "pyomo" else None  # the heuristic compiles from rows
        result = solve_with_heuristic(inst, replace(options, strategy="relax-and-fix", time_limit=left), given,
                                      model=reuse)
        for key in ("build_seconds", "total_seconds"):  # the build above is part of the run
            result.kpis[key] = result.kpis.get(key, 0.0) + build_seconds
        return result

    if plan is not None and len(plan) == sf.num_cols:
        out = given_plan(sf, plan)
    else:
        out = solve_standard_form(sf, options, start=start)
    base_kpis = {
        "instance": inst.source,
        "name": inst.name,
        "scenario": inst.scenario,
        "status": str(out.status),
        "message": out.message,
        "build_seconds": build_seconds,
        "solve_seconds": out.solve_seconds + out.polish_seconds,
        "rows": sf.num_rows,
        "cols": sf.num_cols,
        "integers": sf.num_integers,
        "threads": options.threads,
        "seed": options.seed,
        "time_limit": options.time_limit,
        "gap_limit": options.gap,
        "solver": out.solver_version,
        "strategy": "mip",
        "currency": inst.currency,
        # where the time goes: blocks (Pyomo variables + rows), compile (arrays for HiGHS),
        # HiGHS (MIP), polish (fixed-integer LP), extract (allocation tidy-up + tables)
        "seconds_blocks": t_blocks - t0,
        "seconds_compile": build_seconds - (t_blocks - t0),
        "seconds_highs": out.solve_seconds,
        "seconds_polish": out.polish_seconds,
    }
    result = Result(
        status=out.status, message=out.message, objective=out.objective, bound=out.bound,
        gap=out.gap, kpis=base_kpis, instance=inst, built=built, standard_form=sf, outcome=out,
    )
    if not out.status.has_plan:
        result.kpis.update(objective=math.nan, bound=math.nan, gap=math.nan)
        return result
    alloc_cols, alloc_weights = allocation_columns(built.model, sf, inst.n)
    t1 = time.perf_counter()
    # the last period's loan costs nothing (no interest on λ[n]): keep it to what cash needs
    m = built.model
    last = [m.cash.loan[inst.n]] if len(m.cash.loan) else []
    tidy = np.array([sf.column_of[id(v)] for v in last if id(v) in sf.column_of], dtype=np.int64)
    cash_n = np.array([sf.column_of[id(m.cash.cash[inst.n])]] if id(m.cash.cash[inst.n]) in sf.column_of else [], dtype=np.int64)
    minimise_allocation(sf, out, np.concatenate([alloc_cols, tidy]), options, free_cols=cash_n,
                        weights=np.concatenate([alloc_weights, np.ones(len(tidy))]))
    result.tables = extract_tables(built, sf, out.values)
    result.objective = out.objective
    penalties = built.ctx.penalty.evaluate(sf.column_of, out.values)
    if penalties:
        result.kpis["objective_with_penalties"] = out.objective
        result.kpis["penalties"] = float(sum(penalties.values()))
        result.objective = out.objective + result.kpis["penalties"]
        out.objective = result.objective
    result.kpis["seconds_extract"] = time.perf_counter() - t1
    result.kpis["solve_seconds"] += result.kpis["seconds_extract"]
    result.kpis.update(objective=out.objective, bound=out.bound, gap=out.gap)
    result.kpis.update(kpis(result.tables))
    if options.sensitivity:
        from solver.analysis.sensitivity import compute_sensitivity

        result.sensitivity = compute_sensitivity(result, options)
    return result


def _no_plan(inst: Instance, status: Status, message: str, options: SolveOptions, build_seconds: float) -> Result:
    return Result(
        status=status, message=message, objective=math.nan, bound=math.nan, gap=math.nan,
        kpis={"instance": inst.source, "name": inst.name, "scenario": inst.scenario,
              "status": str(status), "message": message, "build_seconds": build_seconds,
              "solve_seconds": 0.0, "rows": 0, "cols": 0, "integers": 0,
              "threads": options.threads, "seed": options.seed, "solver": version(),
              "objective": math.nan, "bound": math.nan, "gap": math.nan},
        instance=inst,
    )
