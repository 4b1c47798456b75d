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

**Scaled scenarios** (`scaled_scenario`): a scenario with no rows of its own in demand.csv,
made from the reference scenario's demand rows with every quantity multiplied by a factor
(prices, channels and periods unchanged; quantities not rounded). Scaling is refused for a
name that has demand rows (the rows would be ambiguous with the factor).

**The commit plan** (`commit_plan`): the robust plan's decisions of the committed periods —
what to make (item, routing, quantity, setup) and buy (item, quantity, order) in periods
1..N — identical in every scenario's copy by construction.

**The cost of committing to the reference plan** (`commit_cost`, the value of the stochastic
solution, VSS): commit periods 1..N to the reference scenario's own plan (`base`, else the
first compared scenario), i.e. fix its production, setups, purchases and orders of those
periods in every scenario, re-solve each scenario for the rest, and weigh the profits:

    EEV = Σ_s w_s · profit_s(reference plan's periods 1..N fixed, the rest re-planned)
    VSS = expected profit of the robust plan − EEV   (≥ 0 up to the MIP gaps)

A scenario in which the reference plan's commitments leave no plan makes EEV undefined (NaN)
and is named: the robust plan is then the only one of the two that works in every scenario.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.assembly import BuiltModel, build_model
from formulations.registry import ROWS, row_family
from solver.analysis.parametric import (
    Parameter,
    PlanValues,
    apply_parameter,
    mark_warm,
    plan_values,
    start_vector,
    warm_start,
)
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
from solver.engine.progress import ProgressCallback, Reporter
from solver.engine.results import Result, extract_tables, kpis
from solver.engine.status import Status
from solver.io.instance import Instance
from solver.io.loading import load_instance, load_scenarios, scenario_weights
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
    reference: str = ""  # the scenario whose own plan `commit_cost` commits to
    committed: CommitCost | None = None  # the reference plan committed for periods 1..commit (with robust)

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
            if self.committed is not None:
                committed = self.committed.plans[s]
                row["reference_committed_profit"] = committed.objective if committed.has_plan else math.nan
            out.append(row)
        return pd.DataFrame(out)

    @property
    def value_of_stochastic_solution(self) -> float:
        """The robust plan's expected profit minus that of committing to the reference
        scenario's own plan (`commit_cost`); NaN without both."""
        return self.committed.value_of(self.expected_profit) if self.committed is not None else math.nan

    def table(self) -> pd.DataFrame:
        """The side-by-side table: one row per metric, one column per scenario."""
        rows = self.rows().set_index("scenario")
        order = [k for k, _ in METRICS] + [f"budget_used:{b}" for b in self.lines]
        if self.robust is not None:
            order += ["robust_profit", "regret", "reference_committed_profit"] + [f"robust_{k}" for k, _ in METRICS[1:]]
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


# ---------------------------------------------------------------- scenarios made by scaling


def reference_scenario(names: Sequence[str]) -> str:
    """The scenario others are measured against: `base` when compared, else the first."""
    return "base" if "base" in names else names[0]


def scaled_scenario(reference: Instance, name: str, factor: float) -> Instance:
    """Scenario `name`: `reference`'s demand rows with every quantity × `factor` (module
    docstring). Refused when demand.csv has rows of `name`, or for a factor that is not a
    finite number ≥ 0."""
    if not (math.isfinite(factor) and factor >= 0):
        raise InputError([Problem("command line", None, "scenarios", f"{name}={factor:g}: the factor is not a number >= 0",
                                  "NAME=FACTOR with a factor such as 0.85 or 1.15")])
    if name in reference.scenarios:
        raise InputError([Problem(reference.source or "demand.csv", None, "scenario",
                                  f"scenario '{name}' has demand rows of its own: it cannot also be made by scaling "
                                  f"'{reference.scenario}' by {factor:g}",
                                  f"a new name for the scaled scenario, e.g. {name}_x{factor:g}")])
    scaled = apply_parameter(reference, Parameter("demand"), factor)
    return dataclasses.replace(scaled, scenario=name)


# ---------------------------------------------------------------- the scenarios a caller names

COMMAND_LINE = ("command line", "--scenarios")  # (file, column) of the problems of `compare --scenarios`


def scenario_specs(path: str | Path, text: str | None, where: tuple[str, str] = COMMAND_LINE) -> list[tuple[str, float | None]]:
    """(name, scale factor or None) for each scenario named in `text`, comma-separated (`low=0.85`:
    made by scaling), else every scenario of demand.csv (found by loading scenario `base`; without
    one, they must be named). Every malformed entry is reported at once, located at `where`."""
    if not text:
        return [(s, None) for s in load_instance(path).scenarios]
    specs: dict[str, float | None] = {}
    problems = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, factor_text = (x.strip() for x in part.partition("="))
        factor = None
        if eq:
            try:
                factor = float(factor_text)
            except ValueError:
                factor = math.nan
            if not (math.isfinite(factor) and factor >= 0):
                problems.append(Problem(where[0], None, where[1], f"{part!r}: {factor_text!r} is not a factor",
                                        "NAME=FACTOR with a number >= 0, e.g. low=0.85"))
                continue
        if not name:
            problems.append(Problem(where[0], None, where[1], f"{part!r} names no scenario", "NAME or NAME=FACTOR"))
        elif name in specs and specs[name] != factor:
            problems.append(Problem(where[0], None, where[1], f"scenario {name!r} is given twice, differently",
                                    "each scenario once"))
        else:
            specs[name] = factor
    if not specs and not problems:
        problems.append(Problem(where[0], None, where[1], "no scenario named", "A,B,… or NAME=FACTOR"))
    if problems:
        raise InputError(problems)
    return list(specs.items())


def load_compared(path: str | Path, specs: list[tuple[str, float | None]], reference: str,
                  where: tuple[str, str] = COMMAND_LINE) -> dict[str, Instance]:
    """Each compared scenario's instance: loaded from demand.csv, or `reference`'s with its
    demand scaled (`scaled_scenario`). A scenario demand.csv lacks is an error that says how to
    make it by scaling, as written at `where`."""
    scaled = {name: f for name, f in specs if f is not None}
    wanted = [name for name, f in specs if f is None] + ([reference] if scaled else [])
    hint = f"or make it by scaling {reference}'s demand: {where[1]} {{name}}=FACTOR (e.g. 0.85 or 1.15)"
    loaded = load_scenarios(path, wanted, hint=hint)
    return {name: loaded[name] if f is None else scaled_scenario(loaded[reference], name, f) for name, f in specs}


def compared_weights(path: str | Path, specs: list[tuple[str, float | None]],
                     where: tuple[str, str] = COMMAND_LINE) -> dict[str, float]:
    """`scenario_weights` of the compared scenarios. instance.toml's [scenarios] weighs
    scenarios of demand.csv only, so with that table a scaled scenario has no weight: refused,
    saying so."""
    names = [name for name, _f in specs]
    try:
        return scenario_weights(path, names)
    except InputError as err:
        scaled = [name for name, f in specs if f is not None]
        unweighted = [name for name in scaled if any(p.column == f"scenarios.{name}" for p in err.problems)]
        if not unweighted:
            raise
        raise InputError([Problem(where[0], None, where[1],
                                  f"scenario {name!r} is made by scaling, and instance.toml's [scenarios] table weighs "
                                  "the scenarios of demand.csv only",
                                  f"{name}'s demand rows in demand.csv and its weight in [scenarios], or an instance "
                                  "without a [scenarios] table (equal weights)") for name in unweighted]) from None


def robust_has_plan(comp: ScenarioComparison) -> bool:
    """A robust plan was asked for and found in every scenario."""
    return comp.robust is not None and all(r.has_plan for r in comp.robust.values())



# ---------------------------------------------------------------- comparison


def compare_scenarios(instances: dict[str, Instance], weights: dict[str, float] | None = None,
                      options: SolveOptions | None = None, robust_commit: int | None = None,
                      warm: bool = True, jobs: int = 1, scheduler: str | None = None,
                      progress: ProgressCallback | None = None) -> ScenarioComparison:
    """Solve every scenario on its own; with `robust_commit` N also the robust plan for the
    first N periods. `instances` maps scenario name -> the instance loaded with that scenario.

    With `warm`, the reference scenario (`base`, else the first) is solved first and its setups
    and orders are the MIP start of every other scenario, and the scenarios' own plans that of
    the robust plan (`kpis["warm_start"]` says which solves used one). With `robust_commit`,
    also what committing periods 1..N to the reference scenario's own plan would earn
    (`commit_cost`, in `committed`).

    The solves run here one after the other, or in `jobs` local worker processes, or on the
    Dask cluster at `scheduler` (`solver.analysis.workers`): the reference first, then the
    other scenarios side by side, then the robust plan and the commitment's re-solves side by
    side; the same solves with the same starts wherever they run. Plans solved elsewhere come
    back without their model (`built`, `standard_form`, `outcome`: Pyomo and HiGHS objects stay
    in the worker); their tables, KPIs and plan are complete.

    `progress` hears every solve run here, its phases prefixed `scenario NAME:` (and `robust
    plan:`, `committing to NAME's plan:`); of solves run elsewhere it hears when each is handed
    out and how many are done (a worker's HiGHS search cannot call back across processes)."""
    options = options or SolveOptions()
    names = list(instances)
    if not names:
        raise InputError([Problem("command line", None, "scenarios", "no scenario to compare")])
    weights = weights or dict.fromkeys(names, 1.0 / len(names))
    t0 = time.perf_counter()
    report = Reporter(progress, started=t0)
    first = instances[names[0]]
    ref = reference_scenario(names)
    commit = robust_commit
    with executor(jobs, scheduler) as pool:
        remote = pool is not None
        solved = {ref: _run_part(pool, report, f"scenario {ref}", _scenario_plan, instances[ref], options, None,
                                 commit, remote)}
        ref_plan = solved[ref].decisions if warm else None
        others = [s for s in names if s != ref]
        if not remote:
            solved |= {s: _scenario_plan(instances[s], options, ref_plan, None, False,
                                         report.part(f"scenario {s}")) for s in others}
        elif others:
            report("solving the scenarios", f"{', '.join(others)} in worker processes", done=0, total=len(others))
            futures = {s: pool.submit(_scenario_plan, instances[s], options, ref_plan, None, True) for s in others}
            for k, s in enumerate(others, start=1):
                solved[s] = futures[s].result()
                report("solving the scenarios", f"scenario {s} solved", done=k, total=len(others))
        plans = {s: solved[s].result for s in names}
        lines = list(first.tables["budget_lines"]["line"])
        comp = ScenarioComparison(scenarios=names, weights=weights, plans=plans, currency=first.currency,
                                  periods=first.periods, lines=lines, reference=ref)
        if commit is not None:
            starts = {s: solved[s].decisions for s in names} if warm else None
            committed = solved[ref].committed
            if not remote:
                rob = robust_plan(instances, weights, commit, options, start_plans=starts,
                                  progress=report.part("robust plan"))
                if committed is not None:
                    comp.committed = _commit_cost(instances, weights, commit, committed, options,
                                                  progress=report.part(f"committing to {ref}'s plan"))
            else:  # both at once: neither needs the other
                report("robust plan", "solving in a worker process"
                       + (f", and committing to {ref}'s plan in another" if committed is not None else ""))
                rob_future = pool.submit(_robust_plan_task, instances, weights, commit, options, starts, True)
                cost_future = (pool.submit(_commit_cost_task, instances, weights, commit, committed, options)
                               if committed is not None else None)
                rob = rob_future.result()
                if cost_future is not None:
                    comp.committed = cost_future.result()
            comp.robust, comp.commit = rob.plans, commit
            comp.robust_status, comp.robust_message = str(rob.status), rob.message
            comp.expected_profit = rob.expected_profit
    comp.seconds = time.perf_counter() - t0
    return comp


@dataclass
class _ScenarioPlan:
    """A scenario's own plan and its setups and orders (`plan_values`), the start of others;
    `committed`: its decisions of the committed periods (`committed_decisions`), when asked."""

    result: Result
    decisions: PlanValues | None
    committed: dict[str, dict[tuple, float]] | None = None


def portable(result: Result) -> Result:
    """`result` without its model, HiGHS session and compiled arrays (what a worker process
    sends back: tables, KPIs, status, the instance; the HiGHS object cannot travel)."""
    return dataclasses.replace(result, built=None, standard_form=None, outcome=None)


def _run_part(pool, report: Reporter, label: str, fn, *args):
    """`fn(*args)` here, hearing `report.part(label)` as its last argument, or in `pool` (the
    part's start and end reported: a worker cannot call back)."""
    if pool is None:
        return fn(*args, report.part(label))
    report(label, "solving in a worker process")
    return pool.submit(fn, *args).result()


def _scenario_plan(inst: Instance, options: SolveOptions, start_plan: PlanValues | None, commit: int | None,
                   remote: bool, progress: ProgressCallback | None = None) -> _ScenarioPlan:
    """One scenario solved, from `start_plan`'s setups and orders when given (in a worker
    process when `remote`: then returned `portable`); with `commit`, its decisions of periods
    1..`commit` too (taken where the model is)."""
    start, columns = warm_start(inst, options, start_plan)
    result = solve(inst, options, start=start, progress=progress)
    mark_warm(result, columns)
    committed = committed_decisions(result, commit) if commit is not None and result.has_plan else None
    return _ScenarioPlan(portable(result) if remote else result, plan_values(result), committed)


def _robust_plan_task(instances: dict[str, Instance], weights: dict[str, float], commit: int,
                      options: SolveOptions, start_plans: dict[str, PlanValues | None] | None,
                      remote: bool) -> RobustPlan:
    """`robust_plan`, in a worker process when `remote` (its plans then `portable`)."""
    rob = robust_plan(instances, weights, commit, options, start_plans=start_plans)
    if remote:
        rob = dataclasses.replace(rob, plans={s: portable(r) for s, r in rob.plans.items()}, standard_form=None)
    return rob


def _commit_cost_task(instances: dict[str, Instance], weights: dict[str, float], commit: int,
                      decisions: dict[str, dict[tuple, float]], options: SolveOptions) -> CommitCost:
    """`commit_cost` of these decisions in a worker process (its plans `portable`)."""
    cost = _commit_cost(instances, weights, commit, decisions, options)
    return dataclasses.replace(cost, plans={s: portable(r) for s, r in cost.plans.items()})


# ---------------------------------------------------------------- committing to one plan


@dataclass
class CommitCost:
    """Every scenario re-solved with one plan's periods 1..`commit` fixed (module docstring)."""

    commit: int
    plans: dict[str, Result]  # each scenario with the committed periods fixed, the rest re-planned
    weights: dict[str, float]
    expected_profit: float  # Σ w_s · profit_s; NaN when a scenario has no plan
    infeasible: list[str] = field(default_factory=list)  # scenarios the commitment leaves without a plan
    unproven: list[str] = field(default_factory=list)  # scenarios whose re-solve stopped at a limit

    def value_of(self, robust_expected_profit: float) -> float:
        """The value of the stochastic solution when this is the reference plan committed:
        the robust plan's expected profit minus this one's (NaN when either is undefined)."""
        return robust_expected_profit - self.expected_profit


def committed_decisions(plan: Result, commit: int) -> dict[str, dict[tuple, float]]:
    """The production, setup, purchase and order decisions of `plan` for periods 1..`commit`,
    keyed by component name and index as `hold_decisions` takes them: every variable of the
    plan's model, those the model fixed itself (no column: a setup that cannot be needed) at
    their fixed value."""
    model, sf, values = plan.built.model, plan.standard_form, plan.outcome.values
    out: dict[str, dict[tuple, float]] = {}
    for name in FIRST_STAGE:
        blk, var = name.split(".")
        chosen = out.setdefault(name, {})
        for key, v in getattr(getattr(model, blk), var).items():
            if key[-1] <= commit:
                j = sf.column_of.get(id(v))
                chosen[key] = float(values[j]) if j is not None else float(v.value or 0.0)
    return out


def commit_cost(instances: dict[str, Instance], weights: dict[str, float], commit: int, plan: Result,
                options: SolveOptions | None = None, progress: ProgressCallback | None = None) -> CommitCost:
    """Every scenario solved with `plan`'s decisions of periods 1..`commit` fixed and the rest
    re-planned (branch-and-bound, as the robust plan): the expected profit of committing to
    `plan` (module docstring). The scenario models are those of `robust_plan`
    (`_scenario_models`), so the robust plan could have chosen the same commitment."""
    return _commit_cost(instances, weights, commit, committed_decisions(plan, commit), options, progress)


def _commit_cost(instances: dict[str, Instance], weights: dict[str, float], commit: int,
                 decisions: dict[str, dict[tuple, float]], options: SolveOptions | None = None,
                 progress: ProgressCallback | None = None) -> CommitCost:
    """`commit_cost` of a plan's committed decisions (`committed_decisions`, taken where the
    plan's model is: a plan solved in a worker process comes back without it)."""
    options = replace(options or SolveOptions(), strategy="mip")
    names = list(instances)
    _check_same_structure(instances)
    _check_commit(instances[names[0]], commit)
    built, sfs = _scenario_models(instances, commit)
    report = Reporter(progress)
    plans: dict[str, Result] = {}
    for s in names:
        sf = sfs[s]
        lower, upper = sf.col_lower.copy(), sf.col_upper.copy()
        for name, chosen in decisions.items():
            blk, var = name.split(".")
            for key, v in getattr(getattr(built[s].model, blk), var).items():
                j = sf.column_of.get(id(v))
                if j is not None and key in chosen:
                    value = float(round(chosen[key])) if sf.is_integer[j] else max(chosen[key], 0.0)
                    lower[j] = upper[j] = value
        fixed = dataclasses.replace(sf, col_lower=lower, col_upper=upper)
        plans[s] = solve(instances[s], options, model=(built[s], fixed), progress=report.part(f"scenario {s}"))
    infeasible = [s for s, r in plans.items() if not r.has_plan]
    unproven = [s for s, r in plans.items() if r.status == Status.FEASIBLE]
    expected = math.nan if infeasible else float(sum(weights[s] * r.objective for s, r in plans.items()))
    return CommitCost(commit=commit, plans=plans, weights=dict(weights), expected_profit=expected,
                      infeasible=infeasible, unproven=unproven)


COMMIT_PLAN_COLUMNS = ["decision", "item", "routing", "period", "t", "quantity", "setup_or_order", "available",
                       "cost", "budget_line"]


def commit_plan(plan: Result, commit: int) -> pd.DataFrame:
    """The decisions of periods 1..`commit` of `plan` as one table a planner can act on: one
    row per make (item, routing) or buy (item) with a quantity or a setup/order, in period
    order. `setup_or_order` is 1 where a setup (make) or an order (buy) is placed; `available`
    is the period the goods are there; `cost` the variable plus fixed cost; every decision of
    those periods not listed is zero."""
    if not plan.has_plan:
        return pd.DataFrame(columns=COMMIT_PLAN_COLUMNS)
    made = plan.tables["production"]
    made = made[(made["t"] <= commit) & ((made["quantity"] > 1e-9) | (made["setup"] > 0.5))]
    bought = plan.tables["purchases"]
    bought = bought[(bought["t"] <= commit) & ((bought["quantity"] > 1e-9) | (bought["order_placed"] > 0.5))]
    rows = pd.concat([
        pd.DataFrame({"decision": "make", "item": made["item"], "routing": made["routing"], "period": made["period"],
                      "t": made["t"], "quantity": made["quantity"], "setup_or_order": made["setup"].round().astype(int),
                      "available": made["available"], "cost": made["variable_cost"] + made["setup_cost"],
                      "budget_line": made["budget_line"]}),
        pd.DataFrame({"decision": "buy", "item": bought["item"], "routing": "", "period": bought["period"],
                      "t": bought["t"], "quantity": bought["quantity"],
                      "setup_or_order": bought["order_placed"].round().astype(int), "available": bought["arrival"],
                      "cost": bought["cost"] + bought["order_cost"], "budget_line": bought["budget_line"]}),
    ], ignore_index=True)
    return rows.sort_values(["t", "decision", "item", "routing"], kind="stable").reset_index(drop=True)[COMMIT_PLAN_COLUMNS]


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
                start_plans: dict[str, PlanValues | None] | None = None,
                progress: ProgressCallback | None = None) -> RobustPlan:
    """One plan for the first `commit` periods shared by every scenario (see module docstring).

    `start_plans` (each scenario's own plan's setups and orders, `plan_values`) warm-start it: every copy's setups and orders from
    its own plan, those of the committed periods from the first scenario's (the links tie every
    copy to it). `progress` hears the search, its objective the expected profit."""
    options = options or SolveOptions()
    names = list(instances)
    _check_same_structure(instances)
    _check_commit(instances[names[0]], commit)
    t0 = time.perf_counter()
    report = Reporter(progress, started=t0)
    report("building the scenario models", f"{len(names)} copies, periods 1..{commit} shared")
    built, sfs = _scenario_models(instances, commit)
    for s in names:
        if not sfs[s].maximize:
            raise ValueError("the plan objective must be a maximisation")
    parts = [(sfs[s], weights[s]) for s in names]
    offsets = dict(zip(names, np.cumsum([0] + [sfs[s].num_cols for s in names[:-1]]).tolist(), strict=True))
    links = _links(built, sfs, offsets, names, commit)
    combined, _ = stack(parts, links)
    build_seconds = time.perf_counter() - t0
    start, start_columns = _robust_start(combined, sfs, offsets, names, commit, start_plans)
    out = solve_standard_form(combined, options, start=start, report=report, objective="expected profit")
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
            res.outcome = part
            res.tables = extract_tables(built[s], sf, part.values)
            res.objective = float(sf.cost @ part.values + sf.offset)
            res.kpis.update(objective=res.objective, bound=math.nan)
            res.kpis.update(kpis(res.tables))
            expected += weights[s] * res.objective
        mark_warm(res, start_columns)
        plans[s] = res
    return RobustPlan(status=out.status, message=out.message, plans=plans, expected_profit=expected,
                      commit=commit, weights=weights, standard_form=combined)


def _scenario_models(instances: dict[str, Instance], commit: int) -> tuple[dict[str, BuiltModel], dict[str, StandardForm]]:
    """Each scenario's model, compiled, with the big-M of every setup and order link of periods
    1..`commit` set to the largest any scenario has for it.

    A scenario's big-M is valid for that scenario's optimal plans only (formulations/setup/bigm.py:
    a larger lot could be cut back): low demand gives small values, and a commitment shared by
    every scenario, or one scenario's plan committed in another, may need more. A committed lot
    above every scenario's bound could be cut back in each of them, so the largest is valid for
    the shared decisions."""
    built = {s: build_model(inst) for s, inst in instances.items()}
    links = [f for f in ROWS.values() if f.switch is not None]  # setup and order links
    widest: dict[tuple[str, tuple], float] = {}
    for b in built.values():
        for fam in links:
            for key, m in fam.switch.big_m(b.ctx.data).items():
                if key[-1] <= commit:
                    widest[(fam.name, key)] = max(widest.get((fam.name, key), -math.inf), m)
    sfs: dict[str, StandardForm] = {}
    for s, b in built.items():
        sf = compile_model(b.model)
        switches = {fam.name: b.model.find_component(fam.switch.variable) for fam in links}
        rows, cols, delta = [], [], []
        for i, (ref, _kind) in enumerate(sf.rows):
            fam = row_family(ref) if ref is not None else None
            if fam is None or fam.switch is None:
                continue
            key = ref.index()
            own, most = fam.switch.big_m(b.ctx.data).get(key, math.inf), widest.get((fam.name, key), math.inf)
            j = sf.column_of.get(id(switches[fam.name][key]))
            if j is not None and math.isfinite(most) and most > own:
                rows.append(i)
                cols.append(j)
                delta.append(own - most)  # the coefficient −M becomes −(largest M)
        if rows:
            sf = dataclasses.replace(sf, A=(sf.A + sp.csc_array((delta, (rows, cols)), shape=sf.A.shape)).tocsc())
        sfs[s] = sf
    return built, sfs


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
