"""The single route from a Pyomo model to HiGHS and back.

Pyomo's `LinearStandardFormCompiler` turns the model into sparse arrays, one
`Highs.passModel` hands them over (several times faster than the persistent interfaces, which
walk every constraint in Python), and the solution comes back as one numpy array indexed by
column. The MIP plan is then *polished*: integers rounded and fixed, the LP re-solved, so the
reported profit belongs to a plan that truly satisfies the model (big-M rows otherwise leak
through the integrality tolerance). The polished LP is also where duals come from.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp  # loaded here so its import is not counted as build time
from pyomo.common.gc_manager import PauseGC
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from solver.engine.bound_worker import highs_lp, quiet_highs
from solver.engine.options import SolveOptions
from solver.engine.progress import REPORT_SECONDS, Reporter, relative_gap
from solver.engine.status import Status

_MS = highspy.HighsModelStatus
# HiGHS stops a MIP when either gap is met: the relative one (`--gap`) or this absolute one
# (its default, set explicitly so that the status re-check knows the value HiGHS used).
MIP_ABS_GAP = 1e-6
_LIMITS = {
    _MS.kTimeLimit, _MS.kIterationLimit, _MS.kSolutionLimit, _MS.kInterrupt,
    _MS.kObjectiveBound, _MS.kObjectiveTarget, _MS.kMemoryLimit,
}


@dataclass
class StandardForm:
    """The model as HiGHS sees it, with the maps back to Pyomo components."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: object  # scipy.sparse.csc_array, rows x cols
    maximize: bool
    columns: list  # column j -> Pyomo VarData
    rows: list  # row i -> (ConstraintData, bound_type)
    is_integer: np.ndarray
    column_of: dict[int, int]  # id(VarData) -> column
    offset: float
    # the model the columns and rows belong to, kept alive with them: a Pyomo VarData holds only
    # a weak reference to its parent, so a caller that kept `sf` but not the model found
    # `columns[j].parent_component()` None once the garbage collector had run
    model: object = field(default=None, repr=False, compare=False)

    @property
    def num_rows(self) -> int:
        return self.A.shape[0]

    @property
    def num_cols(self) -> int:
        return self.A.shape[1]

    def to_lp(self, lower: np.ndarray | None = None, upper: np.ndarray | None = None,
              integer: bool = True) -> highspy.HighsLp:
        """A fresh HighsLp; `integer=False` relaxes integrality (used with fixed columns)."""
        A = self.A
        return highs_lp(
            self.cost, self.col_lower if lower is None else lower, self.col_upper if upper is None else upper,
            self.row_lower, self.row_upper, A.indptr, A.indices, A.data, self.maximize, self.offset,
            self.is_integer if integer else None,
        )

    @property
    def num_integers(self) -> int:
        return int(self.is_integer.sum())


def compile_model(model: pyo.ConcreteModel) -> StandardForm:
    """Arrays for HiGHS. Models from `build_model(..., materialize=False)` compile straight from
    their row registry (plus any Pyomo constraints extensions added); others through Pyomo's
    LinearStandardFormCompiler. The garbage collector is paused meanwhile, as in `build_model`
    (the model's objects, new and not yet in an old generation, would be walked repeatedly)."""
    ctx = getattr(model, "_prodbudget_ctx", None)
    with PauseGC():
        if ctx is not None and not getattr(model, "_prodbudget_materialized", True):
            sf = _compile_registry(model, ctx)
        else:
            sf = _compile_pyomo(model)
    sf.model = model
    return sf


def _compile_registry(model: pyo.ConcreteModel, ctx) -> StandardForm:
    from formulations.assembly import objective_terms

    columns = [v for v in model.component_data_objects(pyo.Var, descend_into=True, sort=False) if not v.fixed]
    ncol = len(columns)
    column_of = {id(v): j for j, v in enumerate(columns)}
    # terms -> columns by sorted object ids (numpy), not a dict lookup per term: a million terms
    col_ids = np.fromiter(map(id, columns), dtype=np.uint64, count=ncol)
    by_id = np.argsort(col_ids, kind="stable")
    sorted_ids = col_ids[by_id]

    def fold(vars_, coefs):
        """Column of each term, and the constant of the fixed ones (value · coef)."""
        ids = np.fromiter(map(id, vars_), dtype=np.uint64, count=len(vars_))
        at = np.minimum(np.searchsorted(sorted_ids, ids), max(ncol - 1, 0))
        found = sorted_ids[at] == ids if ncol else np.zeros(len(ids), dtype=bool)
        cols = np.where(found, by_id[at] if ncol else 0, -1)
        fixed = cols < 0
        const = np.zeros(len(vars_))
        if fixed.any():
            const[fixed] = [coefs[k] * (vars_[k].value or 0.0) for k in np.flatnonzero(fixed)]
        return cols, fixed, const

    reg = ctx.rows
    ptr, coefs, lower, upper = reg.arrays()
    nrow = len(reg)
    row_of = np.repeat(np.arange(nrow), np.diff(ptr))
    cols, fixed, const = fold(reg.vars, coefs)
    if fixed.any():
        shift = np.bincount(row_of, weights=const, minlength=nrow)
        lower, upper = lower - shift, upper - shift
    keep = ~fixed
    A = sp.coo_array((coefs[keep], (row_of[keep], cols[keep])), shape=(nrow, ncol)).tocsc()
    A.sum_duplicates()
    A.eliminate_zeros()
    kinds = np.where(lower == upper, 0, np.where(np.isfinite(upper), 1, -1))
    rows = [(ref, int(k)) for ref, k in zip(reg.refs, kinds, strict=True)]
    row_lower = np.where(kinds == 1, -highspy.kHighsInf, lower)
    row_upper = np.where(kinds == -1, highspy.kHighsInf, upper)
    ranged = np.flatnonzero(np.isfinite(lower) & np.isfinite(upper) & (lower != upper))
    if ranged.size:  # both sides finite: keep both bounds on one row (HiGHS takes ranges)
        row_lower[ranged], row_upper[ranged] = lower[ranged], upper[ranged]

    extra = [c for c in model.component_data_objects(pyo.Constraint, active=True, descend_into=True)]
    if extra:  # rows added as Pyomo constraints by extensions
        repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
        sub = repn.A.tocoo()
        remap = np.array([column_of[id(v)] for v in repn.columns], dtype=np.int64)
        B = sp.coo_array((sub.data, (sub.row, remap[sub.col])), shape=(sub.shape[0], ncol)).tocsc()
        A = sp.vstack([A, B], format="csc")
        rhs = np.asarray(repn.rhs, dtype=float)
        k2 = np.array([r.bound_type for r in repn.rows], dtype=int)
        row_lower = np.concatenate([row_lower, np.where(k2 <= 0, rhs, -highspy.kHighsInf)])
        row_upper = np.concatenate([row_upper, np.where(k2 >= 0, rhs, highspy.kHighsInf)])
        rows += [(r.constraint, r.bound_type) for r in repn.rows]

    const0, ocoefs, ovars = objective_terms(ctx)
    ocoefs = np.asarray(ocoefs, dtype=float)
    ocols, ofixed, oconst = fold(ovars, ocoefs)
    cost = np.zeros(ncol)
    np.add.at(cost, ocols[~ofixed], ocoefs[~ofixed])
    offset = const0 + float(oconst.sum())

    bounds = np.array([v.bounds for v in columns], dtype=float).reshape(ncol, 2)  # None -> nan
    lower_b = np.where(np.isnan(bounds[:, 0]), -highspy.kHighsInf, bounds[:, 0])
    upper_b = np.where(np.isnan(bounds[:, 1]), highspy.kHighsInf, bounds[:, 1])
    is_integer = np.fromiter((v.is_integer() for v in columns), dtype=bool, count=ncol)
    return StandardForm(
        cost=cost, col_lower=lower_b, col_upper=upper_b, row_lower=row_lower, row_upper=row_upper,
        A=A, maximize=True, columns=columns, rows=rows, is_integer=is_integer,
        column_of=column_of, offset=offset,
    )


def _compile_pyomo(model: pyo.ConcreteModel) -> StandardForm:
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    columns = list(repn.columns)
    ncol = len(columns)
    A = repn.A.tocsc()
    rhs = np.asarray(repn.rhs, dtype=float)
    kinds = np.array([r.bound_type for r in repn.rows], dtype=int)
    row_lower = np.where(kinds <= 0, rhs, -highspy.kHighsInf)
    row_upper = np.where(kinds >= 0, rhs, highspy.kHighsInf)
    lower = np.array([-highspy.kHighsInf if v.lb is None else v.lb for v in columns], dtype=float)
    upper = np.array([highspy.kHighsInf if v.ub is None else v.ub for v in columns], dtype=float)
    is_integer = np.array([v.is_integer() for v in columns], dtype=bool)
    cost = np.asarray(repn.c.toarray()).ravel() if repn.c.shape[0] else np.zeros(ncol)
    sense = repn.objectives[0].sense if repn.objectives else pyo.minimize

    offset = float(np.asarray(repn.c_offset).ravel()[0]) if np.asarray(repn.c_offset).size else 0.0
    return StandardForm(
        cost=cost, col_lower=lower, col_upper=upper, row_lower=row_lower, row_upper=row_upper,
        A=A, maximize=(sense == pyo.maximize),
        columns=columns,
        rows=[(r.constraint, r.bound_type) for r in repn.rows],
        is_integer=is_integer,
        column_of={id(v): j for j, v in enumerate(columns)},
        offset=offset,
    )


@dataclass
class SolveOutcome:
    status: Status
    message: str
    objective: float = math.nan  # of the (polished) plan, model's own objective
    bound: float = math.nan
    gap: float = math.nan
    values: np.ndarray | None = None  # column values of the plan
    row_duals: np.ndarray | None = None  # polished LP duals (HiGHS sign convention)
    col_duals: np.ndarray | None = None
    solve_seconds: float = 0.0
    polish_seconds: float = 0.0
    highs: highspy.Highs | None = field(default=None, repr=False)  # holds the fixed LP
    solver_version: str = ""


def given_plan(sf: StandardForm, values: np.ndarray) -> SolveOutcome:
    """A plan found elsewhere (the heuristic's LP with every integer fixed) as if HiGHS had
    returned it: no solve, no duals; the caller sets status, bound and gap."""
    out = SolveOutcome(status=Status.FEASIBLE, message="plan given", solver_version=version())
    out.values = np.asarray(values, dtype=float).copy()
    out.objective = float(sf.cost @ out.values + sf.offset)
    return out


def new_highs(options: SolveOptions) -> highspy.Highs:
    h = quiet_highs()
    h.setOptionValue("output_flag", bool(options.log))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("mip_rel_gap", float(options.gap))
    h.setOptionValue("mip_abs_gap", MIP_ABS_GAP)
    h.setOptionValue("time_limit", float(options.time_limit))
    return h


def run(h: highspy.Highs, poll=None) -> None:
    """`h.run()`, except that Ctrl-C stops HiGHS at its next callback and propagates as
    KeyboardInterrupt at once (a plain run() only notices it when HiGHS returns by itself).
    `poll()`, if given, is called every tenth of a second while HiGHS works (progress).
    Whatever ends the wait, HiGHS has stopped before this returns or raises: Python never
    unwinds while HiGHS's thread still runs (further Ctrl-Cs meanwhile are ignored)."""
    h.HandleKeyboardInterrupt = True
    h.startSolve()
    try:
        while not h.wait(0.1)[0]:
            if poll is not None:
                poll()
    except BaseException:
        h.cancelSolve()
        while True:
            try:
                if h.wait(0.1)[0]:
                    break
            except KeyboardInterrupt:
                continue
        raise


def version() -> str:
    return f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"


def scaling_options(sf: StandardForm) -> dict[str, int]:
    """HiGHS options that scale money: yuan-sized bounds (1e8 of cash and budget) beside
    0.001-unit coefficients break its tolerances. Powers of two keep the scaling exact;
    results come back in the user's units."""
    bounds = np.concatenate([sf.col_lower, sf.col_upper, sf.row_lower, sf.row_upper])
    bounds = np.abs(bounds[np.isfinite(bounds)])
    biggest = float(bounds.max()) if bounds.size else 0.0
    bound_exp = -math.ceil(math.log2(biggest / 1e6)) if biggest > 1e6 else 0
    cost = np.abs(sf.cost)
    top = float(cost.max()) if cost.size else 0.0
    cost_exp = -math.ceil(math.log2(top / 1e3)) if top > 1e3 else 0
    out = {}
    if bound_exp:
        out["user_bound_scale"] = bound_exp
    if cost_exp:
        out["user_objective_scale"] = cost_exp
    return out


def set_scaling(h: highspy.Highs, sf: StandardForm) -> dict[str, int]:
    """Apply `scaling_options(sf)` to `h`; returns them."""
    opts = scaling_options(sf)
    for name, value in opts.items():
        h.setOptionValue(name, value)
    return opts


_USER_SCALES = ("user_bound_scale", "user_objective_scale")


def in_user_units(h: highspy.Highs) -> highspy.Highs | None:
    """A Highs holding the same optimal LP as `h` whose `getRanging()` is in the user's units.

    HiGHS 1.16 returns the solution and duals of a run with `user_bound_scale` /
    `user_objective_scale` unscaled, but not its ranging: row-bound ranges come back in scaled
    bound units and cost ranges in scaled cost units (on a yuan-sized LP every binding capacity
    row read "allowable increase 0"). So the user's LP (`getLp()` is unscaled) goes to a Highs
    without user scaling, started from `h`'s optimal basis: no simplex iteration when that basis
    is optimal in the unscaled tolerances too (every generated instance tried), and then its
    duals and ranging are exactly those of the unscaled LP at the plan's vertex. `h` itself when
    it ran unscaled; None if the unscaled LP does not end optimal (its ranging would mean
    nothing)."""
    if not any(h.getOptionValue(name)[1] for name in _USER_SCALES):
        return h
    u = quiet_highs()
    for name in ("output_flag", "threads", "random_seed", "time_limit"):
        u.setOptionValue(name, h.getOptionValue(name)[1])
    u.passModel(h.getLp())
    u.setBasis(h.getBasis())
    run(u)
    return u if u.getModelStatus() == _MS.kOptimal else None


DENSE_ROW = 400  # entries; longer rows are handed to the MIP as sums of partial-sum columns …
CHUNK = 40  # … of this many entries each
_PRESOLVE_AGGREGATOR = 1 << 12  # HiGHS presolve_rule_off bit: its aggregator would undo the split


@dataclass
class SplitRows:
    """`sf` with every row longer than DENSE_ROW written as a sum of partial sums.

    The money rows (cash balance, budget commitment) hold one entry per item and period; HiGHS's
    cut separation aggregates rows along continuous columns and slows to one round per half
    minute on rows of thousands of entries (measured on the medium ladder instance, 12k rows,
    2k-entry budget rows: 30 s for the first round, bound 125.4M after 60 s; split: a round per
    6 s, bound 123.8M). Chunks of ≤ CHUNK entries, each defining a free column p = Σ chunk,
    keep every row short and the model equivalent; plans map back by dropping the p columns.
    On small models (rows of ~100 entries) splitting only perturbed the search, hence
    DENSE_ROW.
    """

    sf: StandardForm
    chunk_rows: object  # csr: one row per partial sum, over the original columns

    def extend(self, values: np.ndarray) -> np.ndarray:
        """A plan of the original columns, with its partial sums appended."""
        return np.concatenate([values, self.chunk_rows @ values])


def split_dense_rows(sf: StandardForm, limit: int = DENSE_ROW, chunk_size: int = CHUNK) -> SplitRows | None:
    """The split model (see SplitRows), or None when no row is longer than `limit`."""
    A = sf.A.tocsr()
    lengths = np.diff(A.indptr)
    dense = np.flatnonzero(lengths > limit)
    if not len(dense):
        return None
    nrow, ncol = A.shape
    row_of = np.repeat(np.arange(nrow), lengths)
    in_dense = np.isin(row_of, dense)
    pos = np.arange(A.nnz) - A.indptr[row_of]  # position of each entry within its row
    # chunk number of each dense entry, numbered across all dense rows
    chunks_per_row = -(-lengths[dense] // chunk_size)
    first_chunk = np.zeros(nrow, dtype=np.int64)
    first_chunk[dense] = np.concatenate([[0], np.cumsum(chunks_per_row)[:-1]])
    d_rows = row_of[in_dense]
    chunk = first_chunk[d_rows] + pos[in_dense] // chunk_size
    nchunk = int(chunks_per_row.sum())
    chunk_rows = sp.csr_array((A.data[in_dense], (chunk, A.indices[in_dense])), shape=(nchunk, ncol))
    p_cols = ncol + np.arange(nchunk)
    owner = np.repeat(dense, chunks_per_row)  # the original row each partial sum enters
    keep = ~in_dense
    rows = np.concatenate([row_of[keep], owner, nrow + chunk, nrow + np.arange(nchunk)])
    cols = np.concatenate([A.indices[keep], p_cols, A.indices[in_dense], p_cols])
    vals = np.concatenate([A.data[keep], np.ones(nchunk), A.data[in_dense], -np.ones(nchunk)])
    B = sp.csc_array((vals, (rows, cols)), shape=(nrow + nchunk, ncol + nchunk))
    zeros, free = np.zeros(nchunk), np.full(nchunk, np.inf)
    split = StandardForm(
        cost=np.concatenate([sf.cost, zeros]), col_lower=np.concatenate([sf.col_lower, -free]),
        col_upper=np.concatenate([sf.col_upper, free]), row_lower=np.concatenate([sf.row_lower, zeros]),
        row_upper=np.concatenate([sf.row_upper, zeros]), A=B, maximize=sf.maximize,
        columns=sf.columns, rows=sf.rows, is_integer=np.concatenate([sf.is_integer, np.zeros(nchunk, dtype=bool)]),
        column_of=sf.column_of, offset=sf.offset,
    )
    return SplitRows(split, chunk_rows)


class SearchWatch:
    """Incumbent, bound and gap of a running HiGHS solve, reported as `Progress` events from the
    thread that waits for HiGHS (solver/engine/progress.py).

    HiGHS calls `seen` from its own thread on every improving solution and interrupt check; it
    only stores two numbers, converted from the user-scaled objective HiGHS's callbacks see
    (× 2^−(user_bound_scale + user_objective_scale), as solver/engine/bound_worker.py does for
    the background bound). `poll`, called by `run` every tenth of a second, reports at once on
    a better incumbent and otherwise every REPORT_SECONDS (an LP reports its time only);
    `finish` reports where HiGHS ended, from its info (user units; also when presolve alone
    solved the model and no callback came)."""

    def __init__(self, h: highspy.Highs, report: Reporter, phase: str, maximize: bool, mip: bool,
                 objective: str = "profit", in_money: bool = True):
        self.report, self.phase, self.maximize, self.objective = report, phase, maximize, objective
        self.in_money, self.mip = in_money, mip
        self.unscale = 2.0 ** -sum(int(h.getOptionValue(name)[1]) for name in _USER_SCALES)
        self.incumbent = self.bound = math.nan
        self.sent_incumbent = math.nan
        self.sent_at = -math.inf
        if mip:
            h.cbMipImprovingSolution.subscribe(self.seen)
            h.cbMipInterrupt.subscribe(self.seen)

    def seen(self, e) -> None:  # HiGHS's thread: store two floats, nothing that can raise
        primal, dual = e.data_out.mip_primal_bound, e.data_out.mip_dual_bound
        if abs(primal) < 1e20:
            self.incumbent = primal * self.unscale
        if abs(dual) < 1e20:
            self.bound = dual * self.unscale

    def poll(self, force: bool = False) -> None:
        """Report if due (`force`: now)."""
        now = time.perf_counter()
        incumbent = self.incumbent
        better = math.isfinite(incumbent) and incumbent != self.sent_incumbent
        if not (force or better or now - self.sent_at >= REPORT_SECONDS):
            return
        self.sent_incumbent, self.sent_at = incumbent, now
        self.report(self.phase, incumbent=incumbent, bound=self.bound, gap=relative_gap(incumbent, self.bound),
                    objective=self.objective, maximize=self.maximize, money=self.in_money)

    def finish(self, h: highspy.Highs) -> None:
        end = h.getInfo()
        if end.primal_solution_status == highspy.kSolutionStatusFeasible:
            self.incumbent = end.objective_function_value
            bound = end.mip_dual_bound if self.mip else end.objective_function_value
            self.bound = bound if abs(bound) < 1e20 else math.nan
        self.poll(force=True)


def solve_standard_form(sf: StandardForm, options: SolveOptions, start: np.ndarray | None = None,
                        report: Reporter | None = None, mip: StandardForm | None = None,
                        objective: str = "profit", in_money: bool = True) -> SolveOutcome:
    """Solve `sf` (MIP, then the polish LP), from the MIP `start` if given. `report` hears the
    search as it moves (`SearchWatch`); `objective` names what the model's objective measures
    in those events (`in_money`: currency, else units). `mip`: the model HiGHS is given instead,
    `sf` with valid rows appended (the root cut loop's, solver/engine/cuts.py); the plan, its
    polish and its duals are `sf`'s."""
    t_begin = time.perf_counter()
    h = new_highs(options)
    set_scaling(h, sf)
    given = sf if mip is None else mip
    split = split_dense_rows(given, DENSE_ROW, CHUNK) if sf.num_integers else None  # LPs are not slowed by long rows
    if split is not None:
        h.setOptionValue("presolve_rule_off", _PRESOLVE_AGGREGATOR)
        h.passModel(split.sf.to_lp())
    else:
        h.passModel(given.to_lp())
    if start is not None and len(start) == sf.num_cols:
        sol = highspy.HighsSolution()
        sol.col_value = list(start if split is None else split.extend(np.asarray(start, dtype=float)))
        sol.value_valid = True
        h.setSolution(sol)
    watch = SearchWatch(h, report, "solving", sf.maximize, sf.num_integers > 0, objective, in_money) if report else None
    if watch is not None:
        watch.poll(force=True)
    t0 = time.perf_counter()
    run(h, poll=watch.poll if watch is not None else None)
    seconds = time.perf_counter() - t0
    if watch is not None:
        watch.finish(h)
    ms = h.getModelStatus()
    info = h.getInfo()
    has_plan = info.primal_solution_status == highspy.kSolutionStatusFeasible
    integer = sf.num_integers > 0  # (not `mip`: that is the model given to HiGHS)
    if ms == _MS.kOptimal:
        status, message = Status.OPTIMAL, "optimal"
    elif ms in _LIMITS and has_plan:
        status, message = Status.FEASIBLE, f"stopped at {_limit_words(ms, options)} with a plan"
    elif ms == _MS.kInfeasible:
        status, message = Status.INFEASIBLE, "no plan satisfies all constraints"
    elif ms in (_MS.kUnbounded, _MS.kUnboundedOrInfeasible):
        status, message = _unbounded_or_infeasible(sf, options, ms)
    elif ms in _LIMITS:
        status, message = Status.ERROR, f"no plan found before {_limit_words(ms, options)}"
        if ms == _MS.kTimeLimit:
            message += ": give a longer --time-limit"
    else:
        status, message = Status.ERROR, f"HiGHS ended with {h.modelStatusToString(ms)}"
    out = SolveOutcome(status=status, message=message, solve_seconds=seconds, solver_version=version())
    if not status.has_plan:
        return out
    values = np.array(h.getSolution().col_value, dtype=float)[: sf.num_cols]
    out.objective = info.objective_function_value
    out.bound = info.mip_dual_bound if integer else info.objective_function_value
    out.gap = info.mip_gap if integer else 0.0
    out.values = values
    if not integer:
        sol = h.getSolution()
        out.row_duals = np.array(sol.row_dual, dtype=float)
        out.col_duals = np.array(sol.col_dual, dtype=float)
        out.highs = h
    elif options.polish:
        if report:
            report("polishing the plan", "integers rounded and fixed, the LP re-solved")
        _polish(sf, options, out)
        left = options.time_limit - (time.perf_counter() - t_begin)
        if start is not None and ms == _MS.kOptimal and out.status == Status.FEASIBLE and left > 0:
            # The warm-start trap: HiGHS called the run optimal on its value of the start's
            # incumbent (its presolve mis-values it), the plan returned is outside the gap.
            # Re-solve without the start in the time left, as a cold solve would, and keep
            # the better plan; its status is rechecked like any other.
            cold = solve_standard_form(sf, SolveOptions(**{**options.__dict__, "time_limit": left}), report=report,
                                       mip=mip, objective=objective, in_money=in_money)
            cold.solve_seconds += out.solve_seconds
            cold.polish_seconds += out.polish_seconds
            better = cold.status.has_plan and (cold.objective >= out.objective if sf.maximize
                                               else cold.objective <= out.objective)
            if better:
                cold.message += "; re-solved without the MIP start (HiGHS stopped the warm run on a mis-valued incumbent)"
                return cold
            out.solve_seconds, out.polish_seconds = cold.solve_seconds, cold.polish_seconds
            out.message += "; re-solved without the MIP start, no better plan in the time left"
    return out


def _limit_words(ms, options: SolveOptions) -> str:
    """The limit HiGHS stopped at, as a planner reads it."""
    if ms == _MS.kTimeLimit:
        return f"the time limit ({options.time_limit:g} s)"
    if ms == _MS.kInterrupt:
        return "an interrupt"
    if ms == _MS.kSolutionLimit:
        return "a solution or node limit"
    return "the iteration limit"


def _unbounded_or_infeasible(sf: StandardForm, options: SolveOptions, ms) -> tuple[Status, str]:
    """Presolve may not tell the two apart; a re-run without presolve does."""
    h = new_highs(options)
    h.setOptionValue("presolve", "off")
    h.passModel(sf.to_lp())
    run(h)
    if h.getModelStatus() == _MS.kInfeasible:
        return Status.INFEASIBLE, "no plan satisfies all constraints"
    return Status.UNBOUNDED, "profit is unbounded: some revenue or value has no limiting cost or capacity"


def fixed_lp(sf: StandardForm, values: np.ndarray) -> highspy.HighsLp:
    """The LP with every integer column fixed at its rounded value and made continuous."""
    lower = sf.col_lower.copy()
    upper = sf.col_upper.copy()
    rounded = np.round(values[sf.is_integer])
    lower[sf.is_integer] = rounded
    upper[sf.is_integer] = rounded
    return sf.to_lp(lower, upper, integer=False)


def _polish(sf: StandardForm, options: SolveOptions, out: SolveOutcome) -> None:
    t0 = time.perf_counter()
    h = new_highs(options)
    h.passModel(fixed_lp(sf, out.values))
    run(h)
    out.polish_seconds = time.perf_counter() - t0
    if h.getModelStatus() != _MS.kOptimal:  # keep the MIP values; say so
        out.message += "; polish LP failed, MIP values reported as found"
        return
    sol = h.getSolution()
    out.values = np.array(sol.col_value, dtype=float)
    out.row_duals = np.array(sol.row_dual, dtype=float)
    out.col_duals = np.array(sol.col_dual, dtype=float)
    out.objective = h.getInfo().objective_function_value
    out.highs = h
    _recheck_gap(sf, options, out)


def _recheck_gap(sf: StandardForm, options: SolveOptions, out: SolveOutcome) -> None:
    """Gap and status from the objective of the plan actually returned.

    HiGHS's own gap compares its bound with the objective value it recorded for the
    incumbent; given a MIP start, that value was seen to differ from cost·x of the returned
    columns (by an emergency-premium term on a rush/sweep re-solve). The plan reported is
    the returned one, so its gap is recomputed, and a plan outside the gap limit is not
    called optimal.
    """
    obj = out.objective
    bound = out.bound
    if math.isnan(bound) or math.isnan(obj):
        return
    if out.status == Status.OPTIMAL:  # a proven plan's bound cannot be worse than the plan
        bound = max(bound, obj) if sf.maximize else min(bound, obj)
    gap = abs(bound - obj) / max(abs(obj), 1e-9)
    out.bound, out.gap = bound, gap
    if out.status == Status.OPTIMAL and not within_gap(obj, bound, options.gap):
        out.status = Status.FEASIBLE
        out.message = (f"plan within {gap:.3%} of the proven bound (HiGHS stopped at its gap on an "
                       "incumbent value that differs from the returned plan's)")


def within_gap(objective: float, bound: float, rel_gap: float) -> bool:
    """The plan meets the gap HiGHS stops at: the relative gap `rel_gap` or the absolute gap
    MIP_ABS_GAP (a plan of profit 64 against a bound of 64.000001 is optimal at `--gap 0`, as
    HiGHS itself says). Both with a hair of tolerance for the floating-point difference."""
    diff = abs(bound - objective)
    return diff <= MIP_ABS_GAP * (1 + 1e-6) or diff / max(abs(objective), 1e-9) <= rel_gap * (1 + 1e-6) + 1e-9


def allocation_columns(model, sf: StandardForm, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The columns of the budget allocation a[β,t] and their weights in `minimise_allocation`:
    n − t + 1, the periods from t to the horizon's end.

    Any positive weights keep the least total (a carry-over line's cumulative needs only grow);
    these also break its ties the same way wherever the horizon starts: allocate as late as the
    spend and the per-period ceilings allow (ahead only where a ceiling forces it). So a
    rolling re-plan of periods k+1..n that nothing has changed reports the plan's allocation
    again, instead of another equally small split of the same total."""
    keyed = [(sf.column_of[id(v)], n - t + 1) for (_line, t), v in model.budget.alloc.items() if id(v) in sf.column_of]
    return np.array([c for c, _ in keyed], dtype=np.int64), np.array([w for _, w in keyed], dtype=float)


def minimise_allocation(sf: StandardForm, out: SolveOutcome, alloc_cols: np.ndarray, options: SolveOptions,
                        free_cols: np.ndarray | None = None, weights: np.ndarray | None = None) -> None:
    """Among plans with the same profit, report the least budget allocation (docs/model.md §5).

    Allocation carries no cost, so with every other column held at the plan's values,
    minimising Σ weight·a changes nothing but a: the profit and the duals stay those of the
    plan. `weights` (default 1; `allocation_columns`'s) order equally small allocations.
    `free_cols` are also freed at no cost (the closing loan and cash of the last period: a loan
    drawn in period n costs nothing, so it is likewise kept to what the cash floor needs).
    """
    moved = alloc_cols if free_cols is None else np.concatenate([alloc_cols, free_cols])
    if len(alloc_cols) == 0 or out.values is None:
        return
    lower = out.values.copy()
    upper = out.values.copy()
    lower[moved] = sf.col_lower[moved]
    upper[moved] = sf.col_upper[moved]
    lp = sf.to_lp(lower, upper, integer=False)
    cost = np.zeros(sf.num_cols)
    cost[alloc_cols] = 1.0 if weights is None else weights
    lp.col_cost_ = cost
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.offset_ = 0.0
    h = new_highs(options)
    h.setOptionValue("presolve", "off")  # nearly all columns fixed: presolve adds only noise
    set_scaling(h, sf)  # unscaled, a 500-product plan's fixed columns read as infeasible
    h.passModel(lp)
    run(h)
    if h.getModelStatus() == _MS.kOptimal:
        vals = np.array(h.getSolution().col_value, dtype=float)
        out.values[moved] = vals[moved]
