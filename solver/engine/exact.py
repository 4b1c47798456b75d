"""The exact route: a built model solved by branch-and-bound (HiGHS), polished, its allocation
tidied and its tables extracted (docs/model.md §6). `solver.engine.pipeline.solve` chooses
between this route and the large-plan heuristic, which itself solves its sub-problems here."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, replace

import numpy as np

from formulations.assembly import Extension, build_model
from formulations.setup.bigm import UnboundedOrderError
from formulations.setup.variants import formulation_extensions
from solver.engine.cuts import root_cut_loop, with_rows
from solver.engine.highs import (
    allocation_columns,
    compile_model,
    given_plan,
    minimise_allocation,
    solve_standard_form,
    version,
)
from solver.engine.options import SolveOptions
from solver.engine.progress import Reporter
from solver.engine.results import Result, extract_tables, kpis
from solver.engine.sensitivity import compute_sensitivity
from solver.engine.status import Status
from solver.io.instance import Instance

CUT_SHARE = 0.25  # at most this share of the time limit goes to the root cut loop (`--formulation cuts`)


def build(inst: Instance, options: SolveOptions, extensions: Sequence[Extension]):
    """(built, sf, build_seconds, blocks_seconds): the model with `extensions` and the
    formulation's rows, compiled for HiGHS. Raises UnboundedOrderError."""
    t0 = time.perf_counter()
    built = build_model(inst, [*extensions, *formulation_extensions(options.formulation)],
                        materialize=options.handoff == "pyomo")
    t_blocks = time.perf_counter()
    sf = compile_model(built.model)
    return built, sf, time.perf_counter() - t0, t_blocks - t0


def solve_exact(inst: Instance, options: SolveOptions, extensions: Sequence[Extension] = (),
                start: np.ndarray | None = None, plan: np.ndarray | None = None, model=None,
                report: Reporter | None = None) -> Result:
    """Build (unless `model` = (built, sf) is given, built with these extensions) and solve by
    branch-and-bound; `start`/`plan` as in `solver.solve`; `report` hears the search."""
    if model is not None:
        built, sf = model
        return solve_built(inst, options, built, sf, 0.0, 0.0, start=start, plan=plan, report=report)
    t0 = time.perf_counter()
    if report:
        report("building the model")
    try:
        built, sf, build_seconds, blocks_seconds = build(inst, options, extensions)
    except UnboundedOrderError as err:
        return no_plan(inst, Status.UNBOUNDED, str(err), options, time.perf_counter() - t0)
    return solve_built(inst, options, built, sf, build_seconds, blocks_seconds, start=start, plan=plan, report=report)


def solve_built(inst: Instance, options: SolveOptions, built, sf, build_seconds: float, blocks_seconds: float,
                start: np.ndarray | None = None, plan: np.ndarray | None = None,
                report: Reporter | None = None) -> Result:
    """The exact route on a compiled model: HiGHS, polish, least allocation, tables, KPIs.
    `report` hears HiGHS's search (solver/engine/progress.py); the caller reports the end."""
    cut_report = None
    if plan is not None and len(plan) == sf.num_cols:
        out = given_plan(sf, plan)
    elif options.formulation == "cuts" and sf.num_integers:
        t0 = time.perf_counter()
        cuts, cut_report = root_cut_loop(sf, built, options, CUT_SHARE * options.time_limit)
        left = max(options.time_limit - (time.perf_counter() - t0), 1.0)
        out = solve_standard_form(sf, replace(options, time_limit=left), start=start, report=report,
                                  mip=with_rows(sf, cuts))
        out.solve_seconds += cut_report.seconds
    else:
        out = solve_standard_form(sf, options, start=start, report=report)
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
        "seconds_blocks": blocks_seconds,
        "seconds_compile": build_seconds - blocks_seconds,
        "seconds_highs": out.solve_seconds,
        "seconds_polish": out.polish_seconds,
    }
    if cut_report is not None:
        base_kpis["cut_loop"] = asdict(cut_report)
    result = Result(
        status=out.status, message=out.message, objective=out.objective, bound=out.bound,
        gap=out.gap, kpis=base_kpis, instance=inst, built=built, standard_form=sf, outcome=out,
    )
    if not out.status.has_plan:
        result.kpis.update(objective=math.nan, bound=math.nan, gap=math.nan)
        return result
    if report:
        report("extracting the plan")
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
        result.sensitivity = compute_sensitivity(result, options)
    return result


def no_plan(inst: Instance, status: Status, message: str, options: SolveOptions, build_seconds: float) -> Result:
    return Result(
        status=status, message=message, objective=math.nan, bound=math.nan, gap=math.nan,
        kpis={"instance": inst.source, "name": inst.name, "scenario": inst.scenario,
              "status": str(status), "message": message, "build_seconds": build_seconds,
              "solve_seconds": 0.0, "rows": 0, "cols": 0, "integers": 0,
              "threads": options.threads, "seed": options.seed, "solver": version(),
              "objective": math.nan, "bound": math.nan, "gap": math.nan},
        instance=inst,
    )
