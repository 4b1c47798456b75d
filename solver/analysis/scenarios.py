"""Demand scenarios side by side, and one robust plan shared by all of them.

`compare_scenarios` solves each demand scenario of demand.csv (`scenario` column) on its own
and tabulates what a planner compares: profit, revenue, service level, lowest cash, peak
loan, budget used by line and peak utilisation.

`robust_plan` is the two-stage stochastic program (extensive form): one copy of the docs/model.md
model per scenario, the production, setup, purchase and order decisions of the first
`commit` periods shared by all copies, the rest (recourse) free per scenario, and the
objective the weighted expected profit

    max Σ_s w_s · profit_s(x_s)   s.t.  x_s feasible for scenario s,
        x_s[k] = x_1[k]  for every first-stage decision k (production.x/y, procurement.q/z, t ≤ commit)

Each scenario's model is built and compiled as usual (`formulations.assembly.build_model`,
`solver.engine.highs.compile_model`); the copies are stacked block-diagonally into one
`StandardForm` with the linking rows appended, and solved by the usual route
(`solve_standard_form`: MIP, then the polish LP). Every scenario's part of the solution is
then extracted with its own model's maps, so its tables are ordinary plan tables.

Weights come from `instance.toml`'s `[scenarios]` table (`solver.io.loading.scenario_weights`),
normalised over the compared scenarios; equal when absent. A scenario's regret is its own
optimum minus its profit under the robust plan. Its "own optimum" is the better of its own
solve and its robust-plan profit (both are plans of that scenario; with a MIP gap the latter
can be marginally better), so a regret is never negative.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.assembly import BuiltModel, build_model
from solver.analysis.parametric import PlanValues, mark_warm, plan_values, start_vector, warm_start
from solver.analysis.workers import executor
from solver.engine.highs import (
    SolveOutcome,
    StandardForm,
    allocation_columns,
    compile_model,
    minimise_allocation,
    solve_standard_form,
)
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.engine.results import Result, extract_tables, kpis
from solver.engine.status import Status
from solver.io.instance import Instance
from solver.io.problems import InputError, Problem

FIRST_STAGE = ("production.x", "production.y", "procurement.q", "procurement.z")

# metrics of the side-by-side table, in display order: (key, label)
METRICS = (
    ("profit", "profit"),
    ("revenue", "revenue"),
    ("service_level", "service level"),
    ("lowest_cash", "lowest closing cash"),
    ("peak_loan", "peak loan"),
    ("peak_utilisation", "peak utilisation"),
)


@dataclass
class ScenarioComparison:
    """Own optimum per scenario (`plans`), optionally the robust plan (`robust`)."""

    scenarios: list[str]
    weights: dict[str, float]
    plans: dict[str, Result]
    robust: dict[str, Result] | None = None
    commit: int = 0
    robust_status: str = ""
    robust_message: str = ""
    expected_profit: float = math.nan  # Σ w_s · profit under the robust plan
    seconds: float = 0.0
    currency: str = "CNY"
    periods: tuple[str, ...] = ()
    lines: list[str] = field(default_factory=list)

    def rows(self) -> pd.DataFrame:
        """One row per scenario: the metrics of its own optimum (and of the robust plan)."""
        out = []
        for s in self.scenarios:
            row = {"scenario": s, "weight": self.weights.get(s, math.nan)}
            row.update(plan_metrics(self.plans[s], self.lines))
            if self.robust is not None:
                rob = self.robust[s]
                own = row["profit"]
                rprofit = rob.objective if rob.has_plan else math.nan
                best = max(own, rprofit) if math.isfinite(own) and math.isfinite(rprofit) else own
                row["own_optimum"] = best
                row["robust_profit"] = rprofit
                row["regret"] = best - rprofit if math.isfinite(rprofit) else math.nan
                for k, v in plan_metrics(rob, self.lines).items():
                    if k != "profit":
                        row[f"robust_{k}"] = v
            out.append(row)
        return pd.DataFrame(out)

    def table(self) -> pd.DataFrame:
        """The side-by-side table: one row per metric, one column per scenario."""
        rows = self.rows().set_index("scenario")
        order = [k for k, _ in METRICS] + [f"budget_used:{b}" for b in self.lines]
        if self.robust is not None:
            order += ["robust_profit", "regret"] + [f"robust_{k}" for k, _ in METRICS[1:]]
        order = ["weight"] + [k for k in order if k in rows.columns]
        side = rows[order].T
        side.index.name = "metric"
        side.columns.name = None
        return side.reset_index()


def plan_metrics(result: Result, lines: Sequence[str]) -> dict[str, float]:
    """The compared metrics of one plan (NaN without a plan)."""
    out = {k: math.nan for k, _ in METRICS} | {f"budget_used:{b}": math.nan for b in lines}
    if not result.has_plan:
        return out
    k = result.kpis
    cash = result.tables["cash"]
    spent = result.tables["budget"].groupby("line")["spent"].sum()
    out.update(
        profit=float(result.objective),
        revenue=float(k.get("revenue", math.nan)),
        service_level=float(k.get("service_level", math.nan)),
        lowest_cash=float(cash["closing"].min()),
        peak_loan=float(cash["loan"].max()),
        peak_utilisation=float(k.get("peak_utilisation", math.nan)),
    )
    for b in lines:
        out[f"budget_used:{b}"] = float(spent.get(b, 0.0))
    return out


# ---------------------------------------------------------------- comparison


def compare_scenarios(instances: dict[str, Instance], weights: dict[str, float] | None = None,
                      options: SolveOptions | None = None, robust_commit: int | None = None,
                      warm: bool = True, jobs: int = 1, scheduler: str | None = None) -> ScenarioComparison:
    """Solve every scenario on its own; with `robust_commit` N also the robust plan for the
    first N periods. `instances` maps scenario name -> the instance loaded with that scenario.

    With `warm`, the reference scenario (`base`, else the first) is solved first and its setups
    and orders are the MIP start of every other scenario, and the scenarios' own plans that of
    the robust plan (`kpis["warm_start"]` says which solves used one).

    The solves run here one after the other, or in `jobs` local worker processes, or on the
    Dask cluster at `scheduler` (`solver.analysis.workers`): the reference first, then the
    other scenarios side by side, then the robust plan; the same solves with the same starts
    wherever they run. Plans solved elsewhere come back without their model (`built`,
    `standard_form`, `outcome`: Pyomo and HiGHS objects stay in the worker); their tables,
    KPIs and plan are complete."""
    options = options or SolveOptions()
    names = list(instances)
    if not names:
        raise InputError([Problem("command line", None, "scenarios", "no scenario to compare")])
    weights = weights or dict.fromkeys(names, 1.0 / len(names))
    t0 = time.perf_counter()
    first = instances[names[0]]
    ref = "base" if "base" in instances else names[0]
    with executor(jobs, scheduler) as pool:

        def run(fn, *args):
            return fn(*args) if pool is None else pool.submit(fn, *args).result()

        solved = {ref: run(_scenario_plan, instances[ref], options, None, pool is not None)}
        ref_plan = solved[ref].decisions if warm else None
        others = [s for s in names if s != ref]
        if pool is None:
            solved |= {s: _scenario_plan(instances[s], options, ref_plan, False) for s in others}
        else:
            futures = {s: pool.submit(_scenario_plan, instances[s], options, ref_plan, True) for s in others}
            solved |= {s: f.result() for s, f in futures.items()}
        plans = {s: solved[s].result for s in names}
        lines = list(first.tables["budget_lines"]["line"])
        comp = ScenarioComparison(scenarios=names, weights=weights, plans=plans, currency=first.currency,
                                  periods=first.periods, lines=lines)
        if robust_commit is not None:
            starts = {s: solved[s].decisions for s in names} if warm else None
            rob = run(_robust_plan_task, instances, weights, robust_commit, options, starts, pool is not None)
    if robust_commit is not None:
        comp.robust, comp.commit = rob.plans, robust_commit
        comp.robust_status, comp.robust_message = str(rob.status), rob.message
        comp.expected_profit = rob.expected_profit
    comp.seconds = time.perf_counter() - t0
    return comp


@dataclass
class _ScenarioPlan:
    """A scenario's own plan and its setups and orders (`plan_values`), the start of others."""

    result: Result
    decisions: PlanValues | None


def portable(result: Result) -> Result:
    """`result` without its model, HiGHS session and compiled arrays (what a worker process
    sends back: tables, KPIs, status, the instance; the HiGHS object cannot travel)."""
    return dataclasses.replace(result, built=None, standard_form=None, outcome=None)


def _scenario_plan(inst: Instance, options: SolveOptions, start_plan: PlanValues | None,
                   remote: bool) -> _ScenarioPlan:
    """One scenario solved, from `start_plan`'s setups and orders when given (in a worker
    process when `remote`: then returned `portable`)."""
    start, columns = warm_start(inst, options, start_plan)
    result = solve(inst, options, start=start)
    mark_warm(result, columns)
    return _ScenarioPlan(portable(result) if remote else result, plan_values(result))


def _robust_plan_task(instances: dict[str, Instance], weights: dict[str, float], commit: int,
                      options: SolveOptions, start_plans: dict[str, PlanValues | None] | None,
                      remote: bool) -> RobustPlan:
    """`robust_plan`, in a worker process when `remote` (its plans then `portable`)."""
    rob = robust_plan(instances, weights, commit, options, start_plans=start_plans)
    if remote:
        rob = dataclasses.replace(rob, plans={s: portable(r) for s, r in rob.plans.items()}, standard_form=None)
    return rob


# ---------------------------------------------------------------- the two-stage robust plan


@dataclass
class RobustPlan:
    status: Status
    message: str
    plans: dict[str, Result]  # each scenario's part of the joint solution
    expected_profit: float
    commit: int
    weights: dict[str, float]
    standard_form: StandardForm | None = field(default=None, repr=False)


def _check_commit(inst: Instance, commit: int) -> None:
    if not (isinstance(commit, int) and 1 <= commit <= inst.n):
        raise InputError([Problem("command line", None, "commit", f"--commit {commit} is not a number of periods 1..{inst.n}",
                                  f"an integer between 1 and {inst.n}")])


def _check_same_structure(instances: dict[str, Instance]) -> None:
    """Scenarios differ in demand only: same periods and first-stage index sets."""
    names = list(instances)
    ref = instances[names[0]]
    for s in names[1:]:
        if instances[s].periods != ref.periods or instances[s].fingerprint != ref.fingerprint:
            raise InputError([Problem(instances[s].source or s, None, None,
                                      f"scenario {s!r} is not a demand scenario of the same instance as {names[0]!r}",
                                      "scenarios of one instance (demand.csv's scenario column)")])


def stack(parts: Sequence[tuple[StandardForm, float]], links: Sequence[tuple[int, int]]) -> tuple[StandardForm, list[int]]:
    """Block-diagonal StandardForm of `parts` (each objective scaled by its weight) plus one
    equality row `col_a − col_b = 0` per link (global column numbers). Returns it and each
    part's first column."""
    offsets = list(np.cumsum([0] + [sf.num_cols for sf, _ in parts[:-1]]))
    blocks = sp.block_diag([sf.A for sf, _ in parts], format="csr")
    if links:
        k = len(links)
        rows = np.repeat(np.arange(k), 2)
        cols = np.array([c for a, b in links for c in (a, b)])
        vals = np.tile([1.0, -1.0], k)
        link = sp.csr_matrix((vals, (rows, cols)), shape=(k, blocks.shape[1]))
        A = sp.vstack([blocks, link], format="csc")
    else:
        A = blocks.tocsc()
    cat = lambda name: np.concatenate([getattr(sf, name) for sf, _ in parts])  # noqa: E731
    zeros = np.zeros(len(links))
    column_of: dict[int, int] = {}
    for (sf, _w), off in zip(parts, offsets, strict=True):
        column_of.update({key: j + off for key, j in sf.column_of.items()})
    combined = StandardForm(
        cost=np.concatenate([w * sf.cost for sf, w in parts]),
        col_lower=cat("col_lower"), col_upper=cat("col_upper"),
        row_lower=np.concatenate([cat("row_lower"), zeros]), row_upper=np.concatenate([cat("row_upper"), zeros]),
        A=A, maximize=True,
        columns=[c for sf, _ in parts for c in sf.columns],
        rows=[r for sf, _ in parts for r in sf.rows] + [(None, 0)] * len(links),
        is_integer=cat("is_integer"), column_of=column_of,
        offset=float(sum(w * sf.offset for sf, w in parts)),
    )
    return combined, offsets


def robust_plan(instances: dict[str, Instance], weights: dict[str, float], commit: int,
                options: SolveOptions | None = None,
                start_plans: dict[str, PlanValues | None] | None = None) -> RobustPlan:
    """One plan for the first `commit` periods shared by every scenario (see module docstring).

    `start_plans` (each scenario's own plan's setups and orders, `plan_values`) warm-start it: every copy's setups and orders from
    its own plan, those of the committed periods from the first scenario's (the links tie every
    copy to it)."""
    options = options or SolveOptions()
    names = list(instances)
    _check_same_structure(instances)
    _check_commit(instances[names[0]], commit)
    t0 = time.perf_counter()
    built: dict[str, BuiltModel] = {s: build_model(inst) for s, inst in instances.items()}
    sfs = {s: compile_model(b.model) for s, b in built.items()}
    for s in names:
        if not sfs[s].maximize:
            raise ValueError("the plan objective must be a maximisation")
    parts = [(sfs[s], weights[s]) for s in names]
    offsets = dict(zip(names, np.cumsum([0] + [sfs[s].num_cols for s in names[:-1]]).tolist(), strict=True))
    links = _links(built, sfs, offsets, names, commit)
    combined, _ = stack(parts, links)
    build_seconds = time.perf_counter() - t0
    start, start_columns = _robust_start(combined, sfs, offsets, names, commit, start_plans)
    out = solve_standard_form(combined, options, start=start)
    plans: dict[str, Result] = {}
    expected = math.nan
    if out.status.has_plan:
        expected = 0.0
    for s in names:
        inst, sf, off = instances[s], sfs[s], offsets[s]
        base_kpis = {"instance": inst.source, "name": inst.name, "scenario": s, "status": str(out.status),
                     "message": out.message, "build_seconds": build_seconds, "solve_seconds": out.solve_seconds,
                     "rows": combined.num_rows, "cols": combined.num_cols, "integers": combined.num_integers,
                     "threads": options.threads, "seed": options.seed, "solver": out.solver_version,
                     "currency": inst.currency, "robust_commit": commit, "weight": weights[s]}
        res = Result(status=out.status, message=out.message, objective=math.nan, bound=math.nan, gap=out.gap,
                     kpis=base_kpis, instance=inst, built=built[s], standard_form=sf)
        if out.status.has_plan:
            values = np.array(out.values[off: off + sf.num_cols], dtype=float)
            part = SolveOutcome(status=out.status, message=out.message, values=values)
            alloc, alloc_weights = allocation_columns(built[s].model, sf, inst.n)
            minimise_allocation(sf, part, alloc, options, weights=alloc_weights)  # each scenario's own least allocation
            res.tables = extract_tables(built[s], sf, part.values)
            res.objective = float(sf.cost @ part.values + sf.offset)
            res.kpis.update(objective=res.objective, bound=math.nan)
            res.kpis.update(kpis(res.tables))
            expected += weights[s] * res.objective
        mark_warm(res, start_columns)
        plans[s] = res
    return RobustPlan(status=out.status, message=out.message, plans=plans, expected_profit=expected,
                      commit=commit, weights=weights, standard_form=combined)


def _robust_start(combined: StandardForm, sfs: dict[str, StandardForm], offsets: dict[str, int], names: list[str],
                  commit: int, start_plans: dict[str, PlanValues | None] | None) -> tuple[np.ndarray | None, int]:
    """The robust plan's MIP start from the scenarios' own plans (see `robust_plan`)."""
    if not start_plans:
        return None, 0
    ref = start_plans.get(names[0])
    if not ref:
        return None, 0
    vec = np.full(combined.num_cols, highspy.kHighsUndefined)
    total = 0
    for s in names:
        own = start_plans.get(s) or {}
        plan = {comp: dict(own.get(comp, ref.get(comp, {}))) for comp in set(own) | set(ref)}
        for comp in FIRST_STAGE:  # the committed periods: the reference scenario's decisions
            shared = {k: v for k, v in ref.get(comp, {}).items() if k[-1] <= commit}
            plan.setdefault(comp, {}).update(shared)
        part, n = start_vector(sfs[s], plan)
        vec[offsets[s]: offsets[s] + sfs[s].num_cols] = part
        total += n
    return (vec, total) if total else (None, 0)


def _links(built: dict[str, BuiltModel], sfs: dict[str, StandardForm], offsets: dict[str, int],
           names: list[str], commit: int) -> list[tuple[int, int]]:
    """(column in scenario s, column in the first scenario) for every first-stage decision."""
    ref = names[0]
    links = []
    for comp_name in FIRST_STAGE:
        blk, var = comp_name.split(".")
        ref_comp = getattr(getattr(built[ref].model, blk), var)
        for s in names[1:]:
            comp = getattr(getattr(built[s].model, blk), var)
            for key, v in comp.items():
                if key[-1] > commit:
                    continue
                a, b = sfs[s].column_of.get(id(v)), sfs[ref].column_of.get(id(ref_comp[key]))
                if a is None or b is None:  # a decision in no row: nothing to share
                    continue
                links.append((a + offsets[s], b + offsets[ref]))
    return links
