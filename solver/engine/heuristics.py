"""Large plans: time-boxed relax-and-fix, then fix-and-optimize, with a proven bound.

`SolveOptions(strategy="relax-and-fix")`; `solve_with_heuristic(inst, options)` returns a
`Result` like `solver.engine.pipeline.solve`, whose `bound` is the best *proven* bound met on the way
and whose `gap` is recomputed against it. `options.time_limit` is the budget of the whole call.

The lot-sizing literature's MIP heuristics (Dillenberger et al. 1994; Stadtler 2003;
Helber & Sahling 2010), run on one compiled model (`StandardForm`) by changing column bounds
and integrality only, so the Pyomo model is built once (building dominates the hand-off on
large plans):

1. **Relax-and-fix** over the horizon: windows of periods in order; the setups/orders of the
   window are binary, those of later periods relaxed to [0, 1], those of earlier windows fixed
   at the value the previous window chose. The first window fixes nothing: its MIP is a
   relaxation of the whole plan, so its dual bound is a proven bound.
2. **Fix-and-optimize**: with every integer fixed at the incumbent, free one window at a time
   (alternately a block of periods and a block of items), solve that MIP started from the
   incumbent (a warm start: the incumbent is feasible for it), keep any improvement.
3. **Bound**: the whole MIP, started from the incumbent, for the time that is left: its dual
   bound (and any better plan it finds) count too.

Above `LARGE_ROWS` rows a MIP window cannot even leave HiGHS's root in time, so 1–3 become
`_lp_guided`: the plan from an LP dive (relax-and-fix done with warm-started LPs), the bound
from the whole MIP in a background process (measured in benchmarks/results/heuristics.md).

The plan returned is re-solved on the exact route (`solver.engine.exact.solve_exact`, on the
model already built) with every integer fixed at the incumbent (an LP), so its tables, polish
and KPIs are those of every other plan,
and it passes `solver.analysis.checker`. Where a window's MIP finds no plan in its time slice (or is
infeasible because of earlier fixings), the window's integers are left to the next window
(relax-and-fix) or the window is skipped (fix-and-optimize).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from formulations.areas import inventory
from formulations.assembly import Extension, build_model
from formulations.registry import row_family
from formulations.setup.variants import formulation_extensions
from solver.engine.bound_worker import BackgroundBound, BoundJob, highs_lp
from solver.engine.exact import no_plan, solve_exact
from solver.engine.highs import (
    _MS,
    _PRESOLVE_AGGREGATOR,
    MIP_ABS_GAP,
    StandardForm,
    compile_model,
    new_highs,
    run,
    scaling_options,
    set_scaling,
    solve_standard_form,
    split_dense_rows,
    within_gap,
)
from solver.engine.options import LARGE_ROWS, SolveOptions
from solver.engine.progress import REPORT_SECONDS, Reporter, relative_gap
from solver.engine.results import Result
from solver.engine.status import Status
from solver.io.instance import Instance

SUB_GAP = 0.002  # relative gap of each window's MIP (the windows are heuristics anyway)
RF_SHARE = 0.45  # share of the time left after the build for relax-and-fix
FO_SHARE = 0.30  # … for fix-and-optimize; the rest (minus the final build) for the bound
MIN_SLICE = 2.0  # seconds: no MIP is started with less
STOP_GRACE = 2.0  # seconds the background MIP gets to stop and report (then its last published bound counts)


@dataclass
class HeuristicLog:
    """What each phase did (kpis["heuristic"]): (phase, window, status, objective, bound, seconds)."""

    steps: list[tuple[str, str, str, float, float, float]]


def _period(index) -> int | None:
    t = index[-1] if isinstance(index, tuple) else index
    return int(t) if isinstance(t, (int, np.integer)) else None


def _item(index) -> str | None:
    return index[0] if isinstance(index, tuple) and isinstance(index[0], str) else None


def integers_fixed(sf: StandardForm, values: np.ndarray) -> StandardForm:
    """`sf` with every integer column fixed at its rounded value in `values` (by its bounds; the
    arrays of `sf` are not changed): the model of the plan's fixed-integer LP."""
    ints = np.flatnonzero(sf.is_integer)
    lower, upper = sf.col_lower.copy(), sf.col_upper.copy()
    lower[ints] = upper[ints] = np.round(np.asarray(values, dtype=float)[ints])
    return replace(sf, col_lower=lower, col_upper=upper)


class _Subproblems:
    """Solve the compiled model with some integers fixed, some binary, the rest relaxed."""

    def __init__(self, sf: StandardForm, options: SolveOptions, deadline: float):
        self.sf = sf
        self.options = options
        self.deadline = deadline
        self.int_cols = np.flatnonzero(sf.is_integer)
        self.log: list[tuple[str, str, str, float, float, float]] = []
        self.trace = None  # optional callable(step) for progress (benchmarks)
        self.report: Reporter | None = None  # hears each step, with the best plan and bound so far
        self.incumbent = self.bound = math.nan

    def best(self, incumbent: float, bound: float) -> None:
        """The whole model's best plan (objective) and proven bound so far, for `report`."""
        self.incumbent = incumbent if math.isfinite(incumbent) else math.nan
        self.bound = bound if math.isfinite(bound) else math.nan

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def run(self, phase: str, window: str, binary: np.ndarray, fixed: np.ndarray, fixed_values: np.ndarray | None,
            seconds: float, start: np.ndarray | None = None, gap: float = SUB_GAP):
        """binary/fixed: boolean masks over columns (integer columns only); the other integer
        columns are relaxed to their bounds. Returns the SolveOutcome."""
        sf = self.sf
        lower = sf.col_lower.copy()
        upper = sf.col_upper.copy()
        if fixed.any():
            rounded = np.round(fixed_values[fixed])
            lower[fixed] = rounded
            upper[fixed] = rounded
        is_int = sf.is_integer & binary & ~fixed
        sub = replace(sf, col_lower=lower, col_upper=upper, is_integer=is_int)
        opts = replace(self.options, time_limit=max(seconds, 0.5), gap=max(gap, self.options.gap), polish=True,
                       sensitivity=False, strategy="mip")
        t0 = time.perf_counter()
        if self.report:
            self.report(phase, f"window {window}", incumbent=self.incumbent, bound=self.bound,
                        gap=relative_gap(self.incumbent, self.bound), maximize=self.sf.maximize)
        out = solve_standard_form(sub, opts, start=start)
        self.log.append((phase, window, str(out.status), out.objective, out.bound, time.perf_counter() - t0))
        if self.trace:
            self.trace(self.log[-1])
        return out


def solve_with_heuristic(inst: Instance, options: SolveOptions | None = None, extensions: Sequence[Extension] = (),
                         window: int | None = None, trace=None, model=None, report: Reporter | None = None) -> Result:
    """Relax-and-fix + fix-and-optimize within `options.time_limit`; see the module docstring.

    `window`: periods per relax-and-fix window (default: about n/4, at least 2); `trace`: a
    callable that receives each step's log tuple as it finishes (progress for benchmarks);
    `model`: (BuiltModel, StandardForm) of these extensions, compiled from rows, if built already;
    `report` hears each step with the whole plan's best objective and bound so far.
    """
    options = options or SolveOptions()
    report = report or Reporter()
    t_start = time.perf_counter()
    deadline = t_start + options.time_limit
    all_ext = [*extensions, *formulation_extensions(options.formulation)]
    base = replace(options, strategy="mip", formulation="bigm")  # formulation rows come in all_ext

    if model is None:
        report("building the model")
        built = build_model(inst, all_ext, materialize=False)  # rows compiled straight to arrays
        sf = compile_model(built.model)
    else:
        built, sf = model
    build_seconds = time.perf_counter() - t_start
    final_reserve = 1.5 * build_seconds + 2.0  # the final re-build and LP

    if sf.num_integers == 0:
        return solve_exact(inst, replace(base, time_limit=max(deadline - time.perf_counter(), 1.0)), extensions=all_ext,
                           model=(built, sf), report=report)

    if sf.num_rows > LARGE_ROWS:
        incumbent, bound, log, exact = _lp_guided(sf, base, deadline - final_reserve, trace, report)
        return _finish(inst, (built, sf), base, options, all_ext, incumbent, bound, log, build_seconds, t_start,
                       deadline, exact=exact, report=report)

    sub = _Subproblems(sf, base, deadline - final_reserve)
    sub.trace = trace
    sub.report = report
    if trace:
        trace(("build", "", "", math.nan, math.nan, build_seconds))
    maximize = sf.maximize
    better = (lambda a, b: a > b) if maximize else (lambda a, b: a < b)
    tighter = min if maximize else max

    period = np.full(sf.num_cols, -1)
    item = np.full(sf.num_cols, None, dtype=object)
    for j in sub.int_cols:
        v = sf.columns[j]
        t = _period(v.index())
        period[j] = t if t is not None else 0  # integers without a period belong to the first window
        item[j] = _item(v.index())
    n = inst.n
    w = window or max(2, math.ceil(n / 4))

    bound = math.inf if maximize else -math.inf
    incumbent: np.ndarray | None = None
    inc_obj = -math.inf if maximize else math.inf

    # --- 1. relax-and-fix ------------------------------------------------------------
    rf_end = time.perf_counter() + RF_SHARE * max(sub.left(), 0.0)
    fixed = np.zeros(sf.num_cols, dtype=bool)
    values = np.zeros(sf.num_cols)
    lo = 1
    first = True
    while lo <= n:
        hi = min(lo + w - 1, n)
        windows_left = math.ceil((n - lo + 1) / w)
        slice_s = max((rf_end - time.perf_counter()) / windows_left, MIN_SLICE)
        binary = sf.is_integer & (period <= hi) & ~fixed
        out = sub.run("relax-and-fix", f"t{lo}-{hi}", binary, fixed, values, slice_s)
        if first and out.status.has_plan and math.isfinite(out.bound):
            bound = tighter(bound, out.bound)  # nothing fixed: a relaxation of the whole MIP
            sub.best(inc_obj, bound)
        first = False
        if not out.status.has_plan:
            if out.status == Status.INFEASIBLE or hi >= n:
                break
            w += w  # no plan in the slice: widen the window (the next solve includes these)
            continue
        now_fixed = binary
        values[now_fixed] = np.round(out.values[now_fixed])
        fixed |= now_fixed
        if hi >= n:
            incumbent, inc_obj = out.values.copy(), out.objective
            sub.best(inc_obj, bound)
        lo = hi + 1

    # --- 2. fix-and-optimize ----------------------------------------------------------
    if incumbent is not None:
        fo_end = time.perf_counter() + FO_SHARE / (1 - RF_SHARE) * max(sub.left(), 0.0)
        windows = _fo_windows(period, item, sf.is_integer, n, w)
        k = 0
        stale = 0
        while windows and time.perf_counter() < fo_end - MIN_SLICE and stale < len(windows):
            name, free = windows[k % len(windows)]
            k += 1
            slice_s = max(min((fo_end - time.perf_counter()) / 2, (fo_end - time.perf_counter())), MIN_SLICE)
            fx = sf.is_integer & ~free
            out = sub.run("fix-and-optimize", name, free, fx, incumbent, slice_s, start=incumbent)
            if out.status.has_plan and better(out.objective, inc_obj + (1e-7 * abs(inc_obj) if maximize else -1e-7 * abs(inc_obj))):
                incumbent, inc_obj = out.values.copy(), out.objective
                sub.best(inc_obj, bound)
                stale = 0
            else:
                stale += 1

    # --- 3. the whole MIP, started from the incumbent, for a bound -----------------------
    left = sub.left()
    if left >= MIN_SLICE:
        every = sf.is_integer.copy()
        out = sub.run("bound", "all", every, np.zeros(sf.num_cols, dtype=bool), None, left,
                      start=incumbent, gap=options.gap)
        if math.isfinite(out.bound) and out.status in (Status.OPTIMAL, Status.FEASIBLE):
            bound = tighter(bound, out.bound)
        if out.status.has_plan and (incumbent is None or better(out.objective, inc_obj)):
            incumbent, inc_obj = out.values.copy(), out.objective

    return _finish(inst, (built, sf), base, options, all_ext, incumbent, bound, sub.log, build_seconds, t_start,
                   deadline, report=report)


def _finish(inst, model, base, options, all_ext, incumbent, bound, log, build_seconds, t_start, deadline,
            exact: bool = False, report: Reporter | None = None) -> Result:
    """The plan as a Result: every integer fixed at the incumbent and the LP re-solved, on the
    model already built (`model` = (BuiltModel, StandardForm); the integers are fixed by their
    column bounds, not by building the model again: at 400 × 24 a build is 2 s).

    `exact`: the incumbent is an LP optimum of the model with every integer fixed (the dive's
    last LP): its tables are read off it, not re-solved, unless duals are wanted (sensitivity).
    At 1,000 × 24 the cold fixed-integer LP took longer than the whole dive."""
    built, sf = model
    maximize = sf.maximize
    report = report or Reporter()
    if incumbent is None:
        lp = next((step for step in log if step[0] == "lp relaxation"), None)
        lp_unsolved = lp is not None and lp[2] != "optimal"
        too_short = (f"no plan within the time limit: the LP relaxation alone was not solved in "
                     f"{lp[5]:.0f} s ({lp[2]}); give a longer --time-limit") if lp_unsolved else ""
        if lp_unsolved and "infeasible" not in lp[2].lower() and lp[5] >= deadline - time.perf_counter():
            # The whole MIP starts with this same LP, which already ran out of a longer time
            # than is left: running it would only overrun the limit (1,000 x 24: 183 s for 77 s)
            result = no_plan(inst, Status.ERROR, too_short, options, build_seconds)
            result.kpis.update(strategy="relax-and-fix", heuristic=list(log), total_seconds=time.perf_counter() - t_start,
                               time_limit=options.time_limit,
                               heuristic_message="the heuristic found no plan; the whole MIP was not run (its LP alone "
                                                 "needs more than the time left)")
            return result
        report("solving the whole model", "the heuristic found no plan")
        result = solve_exact(inst, replace(base, time_limit=max(deadline - time.perf_counter(), 1.0)), extensions=all_ext,
                             model=model, report=report)
        result.kpis.update(strategy="relax-and-fix", heuristic=list(log),
                           heuristic_message="the heuristic found no plan: the whole MIP was run instead")
        if not result.status.has_plan and lp_unsolved:
            result.message = result.kpis["message"] = too_short
        return result
    final = replace(base, time_limit=max(deadline - time.perf_counter(), 10.0))
    report("re-solving the plan's LP", "every setup and order fixed at the best plan's")
    if exact and not options.sensitivity:
        result = solve_exact(inst, final, extensions=all_ext, plan=incumbent, model=model)
    else:
        result = solve_exact(inst, final, extensions=all_ext, model=(built, integers_fixed(sf, incumbent)))
    as_found = not result.status.has_plan
    if as_found:
        # The LP with every integer fixed did not end in the time left (2,000 x 24: a cold LP of
        # 273k rows for ~10 s, after fix-and-optimize had reached 1.98 %). The plan itself is a
        # plan of the whole model (the dive's LP, or windows' MIPs with the rest fixed), so it
        # is returned as found, integers within HiGHS's tolerance, rather than lost.
        result = solve_exact(inst, final, extensions=all_ext, plan=incumbent, model=model)
    if result.status.has_plan:
        obj = result.kpis.get("objective_with_penalties", result.objective)  # the model's objective
        if math.isfinite(bound) and ((obj > bound) if maximize else (obj < bound)):
            bound = obj  # only within tolerances: a proven bound is ≥ every plan (max)
        gap = abs(bound - obj) / max(abs(obj), 1e-9) if math.isfinite(bound) else math.inf
        status = Status.OPTIMAL if math.isfinite(bound) and within_gap(obj, bound, options.gap) else Status.FEASIBLE
        result.status = status
        result.bound = bound
        result.gap = gap
        result.message = (
            f"relax-and-fix heuristic: plan within {100 * gap:.2f} % of the proven bound"
            if status == Status.FEASIBLE else "optimal (relax-and-fix plan meets the proven bound)"
        )
        if as_found:
            result.message += ("; the plan as found: its LP with every setup and order fixed was not "
                               "solved in the time left (no re-solved flows, no prices)")
        result.kpis.update(status=str(status), message=result.message, bound=bound, gap=gap)
    total = time.perf_counter() - t_start
    builds = build_seconds + result.kpis.get("build_seconds", 0.0)
    result.kpis.update(
        strategy="relax-and-fix", heuristic=list(log), build_seconds=builds,
        solve_seconds=max(total - builds, 0.0),  # every phase, not only the final LP
        total_seconds=total, time_limit=options.time_limit,
        bound_process=any(step[0] == "bound" and "background" in step[1] for step in log),
    )
    return result


def _lp_guided(sf: StandardForm, options: SolveOptions, deadline: float, trace, progress: Reporter | None = None):
    """Large plans: a plan built from LPs, beside the whole MIP run for its bound.

    HiGHS stays in its root cut loop on these models for minutes without a plan, even with the
    all-closed plan as a start, so the plan is built here and HiGHS is asked for a bound:

    * **plan** (`_lp_dive`): relax-and-fix done with LPs, deciding a few setups/orders at a
      time from the LP relaxation; every step is a warm re-solve, and the final plan is an LP
      with every integer fixed, so it is feasible by construction.
    * **bound** (in a background process, solver/engine/bound_worker.py, one thread): the whole MIP
      with long rows split (`split_dense_rows`), run to the deadline. Its dual bound is proven
      (it is read while HiGHS is still in its root cut loop), and any better plan it finds
      replaces ours. (A plan handed to it through HiGHS's user-solution callback was not taken:
      the callback works in the user-scaled space, and HiGHS does not leave the root anyway.)

    The child starts once the dive's LP relaxation is solved, and only if the time left can
    buy a bound better than that LP's (`bound_worth_starting`): it must start (a Python
    process: ~2 s on a busy 2-core machine), solve the same LP again and then cut. With less
    time it would only take the CPU the dive needs (at 400 × 24 and a 1 s limit it cost 2.1 s
    and returned nothing).
    """
    log: list[tuple] = []
    maximize = sf.maximize
    better = (lambda a, b: a > b) if maximize else (lambda a, b: a < b)
    one = replace(options, threads=1)
    background: BackgroundBound | None = None
    progress = progress or Reporter()
    best = {"incumbent": math.nan, "bound": math.nan}  # the whole model's, for `progress`

    def tell(phase: str, detail: str = "") -> None:
        published = background.published if background is not None else math.nan
        bounds = [b for b in (best["bound"], published) if math.isfinite(b)]
        bound = (min(bounds) if maximize else max(bounds)) if bounds else math.nan
        progress(phase, detail, incumbent=best["incumbent"], bound=bound, gap=relative_gap(best["incumbent"], bound),
                 maximize=maximize)

    def note(phase, window_name, status, obj, bound, seconds):
        nonlocal background
        log.append((phase, window_name, status, obj, bound, seconds))
        if trace:
            trace(log[-1])
        if phase == "lp relaxation" and math.isfinite(bound):
            best["bound"] = bound
        elif (phase in ("plan", "fix-and-optimize") and math.isfinite(obj)
              and not (math.isfinite(best["incumbent"]) and not better(obj, best["incumbent"]))):
            best["incumbent"] = obj  # the dive's plan, or a window that improved it
        tell(phase if phase in ("bound", "fix-and-optimize") else "LP dive", f"{phase}: {window_name}")
        if phase == "lp relaxation" and status == "optimal" and background is None:
            left = deadline - time.perf_counter()
            if bound_worth_starting(left, seconds):
                background = BackgroundBound(_bound_job(sf, options, left))

    try:
        incumbent, inc_obj, lp_bound, dive, dive_final = _lp_dive(sf, one, deadline, note)
        exact = incumbent is not None
        lp = next((step for step in log if step[0] == "lp relaxation"), None)
        if lp is not None and lp[2] == "Infeasible":
            return None, math.nan, log, False  # no plan exists: the caller's MIP says so and diagnoses it
        if exact:  # the time left improves the dive's plan (while the bound process works, if it runs)
            incumbent, inc_obj, changed = _fix_and_optimize(sf, one, incumbent, inc_obj,
                                                            deadline - STOP_GRACE - dive_final, note)
            if changed:  # the plan's LP with every integer fixed, warm from the dive's basis
                final = dive.plan_lp(incumbent)
                if final is not None:
                    incumbent, inc_obj = final
                else:
                    exact = False  # re-solved with its integers fixed by _finish
        # the bound keeps tightening (HiGHS may improve the plan) until the deadline; without a
        # dive plan, time is kept for a fixed-integer LP of HiGHS's (about half the relaxation)
        lp_seconds = lp[5] if lp is not None else 0.0
        if background is not None:
            until = deadline - STOP_GRACE - (0.0 if exact else 0.5 * lp_seconds)
            while progress and time.perf_counter() < until and background.running():  # the bound as it moves
                background.wait(min(until, time.perf_counter() + REPORT_SECONDS))
                tell("proving the bound", "the whole model in a background process")
            background.wait(until)
    except BaseException:  # an interrupt: the child goes now, without its report
        if background is not None:
            background.kill()
        raise
    report = background.result(timeout=STOP_GRACE) if background is not None else None
    mip_bound = math.nan
    if report is not None:
        b = report["bound"]
        mip_bound = b if math.isfinite(b) and abs(b) < 1e20 else math.nan
        note("bound", "whole MIP (background process)", report["status"], report["objective"], mip_bound,
             time.perf_counter() - background.started)
        if report["values"] is not None and (incumbent is None or better(report["objective"], inc_obj)):
            incumbent = report["values"][: sf.num_cols]
            exact = False  # a MIP plan: integers within tolerance, re-solved with them fixed
    candidates = [b for b in (lp_bound, mip_bound) if math.isfinite(b)]
    bound = (min(candidates) if maximize else max(candidates)) if candidates else math.nan
    return incumbent, bound, log, exact


BOUND_START_SECONDS = 2.0  # starting the bound process (spawn, imports, the model sent), measured busy


def bound_worth_starting(left: float, lp_seconds: float) -> bool:
    """Whether the background MIP can improve on the LP bound in the `left` seconds: it starts,
    solves the LP relaxation again (`lp_seconds`, as long as the dive's) and needs at least as
    long again for its cuts to move the bound."""
    return left >= BOUND_START_SECONDS + 2.0 * lp_seconds


def _bound_job(sf: StandardForm, options: SolveOptions, seconds: float) -> BoundJob:
    """The whole MIP for the background process, long money rows split (`split_dense_rows`)."""
    split = split_dense_rows(sf)
    work = split.sf if split is not None else sf
    A = work.A.tocsc()
    highs_options = {
        "threads": 1, "random_seed": int(options.seed), "mip_rel_gap": float(options.gap), "mip_abs_gap": MIP_ABS_GAP,
        "time_limit": max(seconds, 1.0), **scaling_options(sf),
    }
    if split is not None:
        highs_options["presolve_rule_off"] = _PRESOLVE_AGGREGATOR
    return BoundJob(
        cost=work.cost, col_lower=work.col_lower, col_upper=work.col_upper, row_lower=work.row_lower,
        row_upper=work.row_upper, indptr=A.indptr.astype(np.int32), indices=A.indices.astype(np.int32),
        data=A.data.astype(float), is_integer=work.is_integer, maximize=work.maximize, offset=work.offset,
        options=highs_options,
    )


FO_FREE = 100  # setup/order columns of the items a fix-and-optimize window frees (before its BOM closure)
FO_SLICE = 20.0  # seconds at most per window
FO_GAP = 1e-6  # relative MIP gap of a window (of the whole plan's profit)


def _item_windows(sf: StandardForm) -> list[np.ndarray]:
    """Fix-and-optimize windows on a large plan (Helber & Sahling 2010's product-oriented
    decomposition): groups of items in name order, each with about FO_FREE setup/order
    columns, closed under the BOM (a product's components and materials come with it, or its
    production could not move); each window as the mask of the columns it frees: every column
    of its items, and every column that belongs to no item (cash, loans, budget, overtime)."""
    stock = [(j, v) for j, v in enumerate(sf.columns) if v.parent_component().name == inventory.STOCK.name]
    items = sorted({v.index()[0] for _j, v in stock})
    code = {name: k for k, name in enumerate(items)}
    owner = np.full(sf.num_cols, -1)
    for j, v in enumerate(sf.columns):
        idx = v.index()
        if isinstance(idx, tuple) and idx and idx[0] in code:
            owner[j] = code[idx[0]]
    # children from the stock balances: a parent's start columns appear in its children's rows
    A = sf.A.tocsr()
    balance = np.array([ref.parent_component().name == inventory.BALANCE.name for ref, _k in sf.rows])
    row_item = np.array([code.get(ref.index()[0], -1) if b else -1 for (ref, _k), b in zip(sf.rows, balance, strict=True)])
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    use = balance[rows] & (owner[A.indices] >= 0) & (row_item[rows] >= 0) & (owner[A.indices] != row_item[rows])
    children: dict[int, set[int]] = defaultdict(set)
    for parent, child in zip(owner[A.indices[use]], row_item[rows[use]], strict=True):
        children[int(parent)].add(int(child))
    ints_of = np.bincount(owner[sf.is_integer & (owner >= 0)], minlength=len(items))
    windows, group, count = [], [], 0
    for k in range(len(items)):
        if not ints_of[k]:
            continue
        group.append(k)
        count += ints_of[k]
        if count >= FO_FREE or k == len(items) - 1:
            closure, todo = set(group), list(group)
            while todo:
                for c in children.get(todo.pop(), ()):
                    if c not in closure:
                        closure.add(c)
                        todo.append(c)
            windows.append((owner < 0) | np.isin(owner, sorted(closure)))
            group, count = [], 0
    return windows


def _restricted(sf: StandardForm, free: np.ndarray, values: np.ndarray) -> StandardForm:
    """The model with every column outside `free` fixed at `values` and eliminated: its terms
    move to the row bounds and the objective offset, rows left without a free column (which
    `values` satisfy) are dropped. Small where the window is, so HiGHS neither presolves nor
    re-solves the whole plan's LP for each window."""
    A = sf.A.tocsc()
    fixed = ~free
    shift = A[:, fixed] @ values[fixed]
    Af = A[:, free].tocsr()
    keep = np.diff(Af.indptr) > 0
    return StandardForm(
        cost=sf.cost[free], col_lower=sf.col_lower[free], col_upper=sf.col_upper[free],
        row_lower=(sf.row_lower - shift)[keep], row_upper=(sf.row_upper - shift)[keep], A=Af[keep].tocsc(),
        maximize=sf.maximize, columns=[sf.columns[j] for j in np.flatnonzero(free)],
        rows=[r for r, k in zip(sf.rows, keep, strict=True) if k], is_integer=sf.is_integer[free],
        column_of={}, offset=sf.offset + float(sf.cost[fixed] @ values[fixed]),
    )


def _fix_and_optimize(sf: StandardForm, options: SolveOptions, incumbent: np.ndarray, inc_obj: float,
                      deadline: float, note) -> tuple[np.ndarray, float, bool]:
    """Fix-and-optimize (Helber & Sahling 2010) on the dive's plan for the time left: each
    window (`_item_windows`) is a MIP over its items' columns with the rest of the plan fixed
    (`_restricted`), solved from the plan (a feasible start); a better plan is kept. Windows
    in order, round after round, until a round improves nothing or time runs out. Returns
    (plan, objective, changed)."""
    maximize = sf.maximize
    windows = _item_windows(sf)
    changed = False
    improved_in_round = True
    while improved_in_round and windows:
        improved_in_round = False
        for k, free in enumerate(windows):
            left = deadline - time.perf_counter()
            if left < MIN_SLICE:
                return incumbent, inc_obj, changed
            t0 = time.perf_counter()
            sub = _restricted(sf, free, incumbent)
            # the gap is relative to the whole plan's profit (the fixed part is in the offset):
            # SUB_GAP would accept the start in every window
            opts = replace(options, time_limit=min(FO_SLICE, left), gap=FO_GAP, polish=True,
                           sensitivity=False, strategy="mip")
            out = solve_standard_form(sub, opts, start=incumbent[free])
            gain = (out.objective - inc_obj) if maximize else (inc_obj - out.objective)
            note("fix-and-optimize", f"window {k + 1}/{len(windows)} ({int(free.sum())} columns)", str(out.status),
                 out.objective, out.bound, time.perf_counter() - t0)
            if out.status.has_plan and gain > 1e-7 * max(abs(inc_obj), 1.0):
                incumbent = incumbent.copy()
                incumbent[free] = out.values
                inc_obj = out.objective
                improved_in_round = changed = True
    return incumbent, inc_obj, changed


DIVE_PENALTY = 10.0  # per unit short of a minimum lot, in multiples of the largest cost coefficient
# (100 wrecked dual simplex on the 200k-row 1,000 × 24 ladder instance: a wrong "optimal" LP)


class _Dive:
    """The LP relaxation with its setups/orders fixed a few at a time (see `_lp_dive`).

    Each minimum-lot / MOQ row gets a penalised slack column (fixed at 0 for the relaxation
    itself), so fixing a setup open where its lot cannot be made leaves the LP feasible (the
    slack shows which to close) and HiGHS keeps its basis: every step is a warm dual-simplex
    re-solve, not a cold LP."""

    def __init__(self, sf: StandardForm, options: SolveOptions, deadline: float):
        self.sf, self.deadline, self.options = sf, deadline, options
        self.int_cols = np.flatnonzero(sf.is_integer)
        lots = _lot_columns(sf, self.int_cols)
        self.lot_col = np.array([lots[j][0] if j in lots and lots[j][0] is not None else -1 for j in self.int_cols])
        self.least = np.array([max(lots[j][2], 1e-6) if j in lots else 1e-6 for j in self.int_cols])
        self.period = np.array([(_period(sf.columns[j].index()) or 0) for j in self.int_cols])
        families: dict[tuple, list[int]] = defaultdict(list)  # one setup/order per period: a family
        for k, j in enumerate(self.int_cols):
            v = sf.columns[j]
            idx = v.index()
            families[(v.parent_component().name, idx[:-1] if isinstance(idx, tuple) else None)].append(k)
        self.families = [np.array(sorted(ks, key=lambda k: self.period[k])) for ks in families.values()]
        self.slack_row, self.slack_of = self._slack_rows()
        self.state = np.full(len(self.int_cols), -1.0)  # -1 free in [0, 1], else fixed at 0 or 1
        self.stuck = np.zeros(len(self.int_cols), dtype=bool)
        self.lp_solves = 0
        self.status = _MS.kNotset  # of the last LP solved
        self.h = self._highs()

    def _slack_rows(self):
        pos = {int(j): k for k, j in enumerate(self.int_cols)}
        A = self.sf.A.tocsr()
        rows, owner = [], []
        for i, (con, _kind) in enumerate(self.sf.rows):
            if row_family(con).role != "lot":  # minimum lot / MOQ: x - m·y >= 0
                continue
            ks = [pos[int(c)] for c in A.indices[A.indptr[i]:A.indptr[i + 1]] if self.sf.is_integer[c]]
            if len(ks) == 1:
                rows.append(i)
                owner.append(ks[0])
        return np.array(rows, dtype=np.int64), np.array(owner, dtype=np.int64)

    def _highs(self):
        sf = self.sf
        m, ns = sf.num_rows, len(self.slack_row)
        sign = np.where(np.isfinite(sf.row_lower[self.slack_row]), 1.0, -1.0)  # x - m·y + s ≥ 0
        E = sp.csc_array((sign, (self.slack_row, np.arange(ns))), shape=(m, ns))
        A = sp.hstack([sf.A.tocsc(), E]).tocsc()
        penalty = DIVE_PENALTY * float(np.abs(sf.cost).max() or 1.0)
        cost = np.concatenate([sf.cost, np.full(ns, -penalty if sf.maximize else penalty)])
        h = new_highs(replace(self.options, time_limit=max(self.deadline - time.perf_counter(), 1.0)))
        set_scaling(h, sf)
        # the relaxation by interior point + crossover: 25 % faster than dual simplex on the
        # 500 × 12 ladder instance, 2× on 1,000 × 24 (one thread each)
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "on")
        h.passModel(highs_lp(cost, np.concatenate([sf.col_lower, np.zeros(ns)]),
                             np.concatenate([sf.col_upper, np.zeros(ns)]), sf.row_lower, sf.row_upper,
                             A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data, sf.maximize, sf.offset))
        return h

    def elastic(self, on: bool = True) -> None:
        """Let minimum lots be missed at the penalty (on), or not (the relaxation, the final plan)."""
        n, ns = self.sf.num_cols, len(self.slack_row)
        self.h.changeColsBounds(ns, np.arange(n, n + ns, dtype=np.int32), np.zeros(ns),
                                np.full(ns, np.inf if on else 0.0))

    def solve(self) -> bool:
        lo = np.where(self.state < 0, 0.0, self.state)
        up = np.where(self.state < 0, 1.0, self.state)
        self.h.changeColsBounds(len(self.int_cols), self.int_cols.astype(np.int32), lo, up)
        # HiGHS counts time_limit from the object's first run, not from this re-solve
        self.h.setOptionValue("time_limit", self.h.getRunTime() + max(self.deadline - time.perf_counter(), 0.5))
        run(self.h)
        self.lp_solves += 1
        self.status = self.h.getModelStatus()  # clearSolver() below resets HiGHS's own to "Not Set"
        if self.status == _MS.kOptimal:
            return True
        self.h.clearSolver()  # a warm re-solve after an infeasible one is not to be trusted
        return False

    def values(self) -> np.ndarray:
        return np.array(self.h.getSolution().col_value)

    def plan_lp(self, plan: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The LP with every integer fixed at `plan`'s (slack off), warm from the last basis:
        (values, objective), or None if it does not end optimal."""
        self.state = np.round(plan[self.int_cols])
        self.elastic(False)
        if not self.solve():
            return None
        return self.values()[: self.sf.num_cols], self.objective()

    def objective(self) -> float:
        return self.h.getInfo().objective_function_value

    def lots(self, x: np.ndarray) -> np.ndarray:
        return np.where(self.lot_col >= 0, x[np.maximum(self.lot_col, 0)], 0.0)

    def fix(self, decisions: list[tuple[int, float]]) -> bool:
        """Fix (k, value) pairs; a setup fixed open whose lot cannot be made is closed again.
        An infeasible LP (closing what a hard row needs) is undone by halves, a single decision
        flipped. False when even that fails (or time ran out)."""
        for k, v in decisions:
            self.state[k] = v
        while True:
            if not self.solve():
                break
            x = self.values()
            short = self.slack_of[x[self.sf.num_cols:] > 1e-6 * np.maximum(self.least[self.slack_of], 1.0)]
            short = short[self.state[short] > 0.5]
            if not len(short):
                return True
            self.state[short] = 0.0
        for k, _v in decisions:
            self.state[k] = -1.0
        if time.perf_counter() > self.deadline:
            return False
        if len(decisions) == 1:
            k, v = decisions[0]
            self.state[k] = 1.0 - v
            if self.solve():
                return True
            self.state[k] = -1.0
            self.stuck[k] = True  # neither value fits beside the others: left to the end
            self.solve()
            return False
        half = len(decisions) // 2
        first, second = self.fix(decisions[:half]), self.fix(decisions[half:])
        return first or second


def _lp_dive(sf: StandardForm, options: SolveOptions, deadline: float, note):
    """The plan half of `_lp_guided`: (values, objective, LP bound, the dive, seconds of its
    final LP), values None if no plan.

    A dive from the LP relaxation, period by period as relax-and-fix goes, on LPs only:
    setups/orders whose LP lot already reaches the minimum lot are fixed open; otherwise each
    family's (item's, routing's) earliest free setup that the LP uses is decided: open when the
    LP's lots of the family from there on add up to a minimum lot, else closed. The LP re-plans
    the rest around each decision. What is still free at the end is unused: closed."""
    t0 = time.perf_counter()
    dive = _Dive(sf, options, deadline)
    if not dive.solve():
        note("lp relaxation", "all", dive.h.modelStatusToString(dive.status), math.nan, math.nan,
             time.perf_counter() - t0)
        return None, math.nan, math.nan, dive, 0.0
    lp_bound = dive.objective()
    note("lp relaxation", "all", "optimal", lp_bound, lp_bound, time.perf_counter() - t0)
    dive.elastic()
    dive.h.setOptionValue("solver", "simplex")  # warm re-solves from the crossover's basis
    t1 = time.perf_counter()
    steps = 0
    while time.perf_counter() < deadline:
        lot = dive.lots(dive.values())
        free = dive.state < 0
        used = free & ~dive.stuck & (lot > 1e-6 * np.maximum(dive.least, 1.0))
        full = used & (lot >= dive.least * (1 - 1e-9))
        if full.any():
            decisions = [(int(k), 1.0) for k in np.flatnonzero(full)]
        else:
            decisions = []
            for ks in dive.families:
                u = ks[used[ks]]
                if len(u):
                    decisions.append((int(u[0]), 1.0 if lot[u].sum() >= dive.least[u[0]] else 0.0))
            if not decisions:
                break
        steps += 1
        if not dive.fix(decisions) and time.perf_counter() > deadline:
            break
    done = dive.fix([(int(k), 0.0) for k in np.flatnonzero(dive.state < 0)])
    t_final = time.perf_counter()
    if done and not (dive.state < 0).any():
        dive.elastic(False)  # the plan is the model's own LP, not one with slack at ~1e-7
        done = dive.solve()
    final_seconds = time.perf_counter() - t_final
    if not done or (dive.state < 0).any():
        note("plan", "LP dive", "no plan", math.nan, math.nan, time.perf_counter() - t1)
        return None, math.nan, lp_bound, dive, 0.0
    note("plan", f"LP dive ({steps} steps, {dive.lp_solves} LPs)", "feasible", dive.objective(), math.nan,
         time.perf_counter() - t1)
    return dive.values()[: sf.num_cols], dive.objective(), lp_bound, dive, final_seconds


def _lot_columns(sf: StandardForm, int_cols: np.ndarray) -> dict[int, tuple[int | None, float, float]]:
    """integer column -> (column of the lot or order it switches, its big-M, its minimum lot)."""
    out: dict[int, list] = {}
    least: dict[int, float] = {}
    A = sf.A.tocsr()
    for i, (con, _kind) in enumerate(sf.rows):
        role = row_family(con).role  # link: x - M·y <= 0; lot: x - m·y >= 0
        if role not in ("link", "lot"):
            continue
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        vals = A.data[A.indptr[i]:A.indptr[i + 1]]
        yc = [k for k, c in enumerate(cols) if sf.is_integer[c]]
        xc = [k for k, c in enumerate(cols) if not sf.is_integer[c]]
        if len(yc) != 1 or len(xc) != 1:
            continue
        y = int(cols[yc[0]])
        if role == "link":
            out[y] = [int(cols[xc[0]]), float(abs(vals[yc[0]]))]
        else:
            least[y] = float(abs(vals[yc[0]]))
    return {j: (x, m, least.get(j, 0.0)) for j, (x, m) in out.items()}


def _fo_windows(period: np.ndarray, item: np.ndarray, is_int: np.ndarray, n: int, w: int):
    """Fix-and-optimize windows: overlapping period blocks, then blocks of items, interleaved."""
    out_p = []
    step = max(1, w // 2)
    lo = 1
    while lo <= n:
        hi = min(lo + w - 1, n)
        out_p.append((f"t{lo}-{hi}", is_int & (period >= lo) & (period <= hi)))
        if hi >= n:
            break
        lo += step
    by_item: dict[object, list[int]] = defaultdict(list)
    for j in np.flatnonzero(is_int):
        by_item[item[j]].append(j)
    names = sorted(by_item, key=str)
    groups = max(1, len(out_p))
    out_i = []
    size = math.ceil(len(names) / groups)
    for g in range(groups):
        chunk = names[g * size:(g + 1) * size]
        if not chunk:
            continue
        mask = np.zeros(len(period), dtype=bool)
        for nm in chunk:
            mask[by_item[nm]] = True
        out_i.append((f"items {chunk[0]}..{chunk[-1]}", mask))
    inter = []
    for k in range(max(len(out_p), len(out_i))):
        if k < len(out_p):
            inter.append(out_p[k])
        if k < len(out_i):
            inter.append(out_i[k])
    return inter
