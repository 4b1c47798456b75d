"""Large plans: time-boxed relax-and-fix, then fix-and-optimize, with a proven bound.

`SolveOptions(strategy="relax-and-fix")`; `solve_with_heuristic(inst, options)` returns a
`Result` like `solver.planning.solve`, whose `bound` is the best *proven* bound met on the way
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

The plan returned is re-built and re-solved by `solver.planning.solve` with every integer
fixed at the incumbent (an LP), so its tables, polish and KPIs are those of every other plan,
and it passes `solver.checker`. Where a window's MIP finds no plan in its time slice (or is
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
import pyomo.environ as pyo

from formulations.assembly import Extension, build_model
from formulations.tight import formulation_extensions
from solver.bound_worker import BackgroundBound, BoundJob
from solver.highs import (
    _MS,
    _PRESOLVE_AGGREGATOR,
    StandardForm,
    compile_model,
    fixed_lp,
    new_highs,
    run,
    scaling_options,
    set_scaling,
    solve_standard_form,
    split_dense_rows,
)
from solver.instance import Instance
from solver.options import SolveOptions
from solver.results import Result
from solver.status import Status

SUB_GAP = 0.002  # relative gap of each window's MIP (the windows are heuristics anyway)
RF_SHARE = 0.45  # share of the time left after the build for relax-and-fix
FO_SHARE = 0.30  # … for fix-and-optimize; the rest (minus the final build) for the bound
MIN_SLICE = 2.0  # seconds: no MIP is started with less
LARGE_ROWS = 20_000  # above this, the plan is built from LPs (a MIP window cannot leave the root in time)


@dataclass
class HeuristicLog:
    """What each phase did (kpis["heuristic"]): (phase, window, status, objective, bound, seconds)."""

    steps: list[tuple[str, str, str, float, float, float]]


def var_key(v) -> tuple[str, object]:
    """Stable name of a variable across builds: (component name, index)."""
    return v.parent_component().name, v.index()


def _period(index) -> int | None:
    t = index[-1] if isinstance(index, tuple) else index
    return int(t) if isinstance(t, (int, np.integer)) else None


def _item(index) -> str | None:
    return index[0] if isinstance(index, tuple) and isinstance(index[0], str) else None


def fix_integers(values: dict[tuple[str, object], float]) -> Extension:
    """Extension: fix every integer variable whose key is in `values` at its rounded value."""

    def extend(ctx) -> None:
        for v in ctx.model.component_data_objects(pyo.Var, descend_into=True):
            if v.is_integer():
                val = values.get(var_key(v))
                if val is not None:
                    v.fix(float(round(val)))

    return extend


class _Subproblems:
    """Solve the compiled model with some integers fixed, some binary, the rest relaxed."""

    def __init__(self, sf: StandardForm, options: SolveOptions, deadline: float):
        self.sf = sf
        self.options = options
        self.deadline = deadline
        self.int_cols = np.flatnonzero(sf.is_integer)
        self.log: list[tuple[str, str, str, float, float, float]] = []
        self.trace = None  # optional callable(step) for progress (benchmarks)

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
        out = solve_standard_form(sub, opts, start=start)
        self.log.append((phase, window, str(out.status), out.objective, out.bound, time.perf_counter() - t0))
        if self.trace:
            self.trace(self.log[-1])
        return out


def solve_with_heuristic(inst: Instance, options: SolveOptions | None = None, extensions: Sequence[Extension] = (),
                         window: int | None = None, trace=None) -> Result:
    """Relax-and-fix + fix-and-optimize within `options.time_limit`; see the module docstring.

    `window`: periods per relax-and-fix window (default: about n/4, at least 2); `trace`: a
    callable that receives each step's log tuple as it finishes (progress for benchmarks).
    """
    from solver.planning import solve  # planning may route here: import late

    options = options or SolveOptions()
    t_start = time.perf_counter()
    deadline = t_start + options.time_limit
    all_ext = [*extensions, *formulation_extensions(options.formulation)]
    base = replace(options, strategy="mip", formulation="bigm")  # formulation rows come in all_ext

    built = build_model(inst, all_ext, materialize=False)  # rows compiled straight to arrays
    sf = compile_model(built.model)
    build_seconds = time.perf_counter() - t_start
    final_reserve = 1.5 * build_seconds + 2.0  # the final re-build and LP

    if sf.num_integers == 0:
        return solve(inst, replace(base, time_limit=max(deadline - time.perf_counter(), 1.0)), extensions=all_ext)

    if sf.num_rows > LARGE_ROWS:
        incumbent, bound, log = _lp_guided(sf, base, deadline - final_reserve, trace)
        return _finish(inst, sf, base, options, all_ext, incumbent, bound, log, build_seconds, t_start, deadline)

    sub = _Subproblems(sf, base, deadline - final_reserve)
    sub.trace = trace
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

    return _finish(inst, sf, base, options, all_ext, incumbent, bound, sub.log, build_seconds, t_start, deadline)


def _finish(inst, sf, base, options, all_ext, incumbent, bound, log, build_seconds, t_start, deadline) -> Result:
    """The plan as a Result: every integer fixed at the incumbent, the LP re-built and re-solved."""
    from solver.planning import solve

    maximize = sf.maximize
    if incumbent is None:
        result = solve(inst, replace(base, time_limit=max(deadline - time.perf_counter(), 1.0)), extensions=all_ext)
        result.kpis.update(strategy="relax-and-fix", heuristic=list(log),
                           heuristic_message="the heuristic found no plan: the whole MIP was run instead")
        return result
    int_cols = np.flatnonzero(sf.is_integer)
    keyed = {var_key(sf.columns[j]): float(incumbent[j]) for j in int_cols}
    final = replace(base, time_limit=max(deadline - time.perf_counter(), 10.0))
    result = solve(inst, final, extensions=[*all_ext, fix_integers(keyed)])
    if result.status.has_plan:
        obj = result.kpis.get("objective_with_penalties", result.objective)  # the model's objective
        if math.isfinite(bound) and ((obj > bound) if maximize else (obj < bound)):
            bound = obj  # only within tolerances: a proven bound is ≥ every plan (max)
        gap = abs(bound - obj) / max(abs(obj), 1e-9) if math.isfinite(bound) else math.inf
        status = Status.OPTIMAL if gap <= options.gap else Status.FEASIBLE
        result.status = status
        result.bound = bound
        result.gap = gap
        result.message = (
            f"relax-and-fix heuristic: plan within {100 * gap:.2f} % of the proven bound"
            if status == Status.FEASIBLE else "optimal (relax-and-fix plan meets the proven bound)"
        )
        result.kpis.update(status=str(status), message=result.message, bound=bound, gap=gap)
    result.kpis.update(
        strategy="relax-and-fix", heuristic=list(log),
        build_seconds=build_seconds + result.kpis.get("build_seconds", 0.0),
        total_seconds=time.perf_counter() - t_start, time_limit=options.time_limit,
    )
    return result


def _lp_guided(sf: StandardForm, options: SolveOptions, deadline: float, trace):
    """Large plans: a plan built from LPs, beside the whole MIP run for its bound.

    HiGHS stays in its root cut loop on these models for minutes without a plan, even with the
    all-closed plan as a start, so the plan is built here and HiGHS is asked for a bound only:

    * **bound** (in a background process, solver/bound_worker.py, one thread): the whole MIP
      with long rows split (`split_dense_rows`); stopped at the deadline, its dual bound is
      proven (and any plan it found competes with ours).
    * **plan**: the LP relaxation says where production pays. Starting from every setup and
      order closed (an LP with the integers fixed), the setups/orders of one period at a time
      are opened where the LP makes at least a minimum lot; a step is kept when its LP is
      feasible and earns more, else its larger half is tried, then its larger quarter.
      Every accepted plan is an LP optimum with all integers fixed: feasible by construction.
    """
    log: list[tuple] = []
    maximize = sf.maximize
    better = (lambda a, b: a > b) if maximize else (lambda a, b: a < b)
    one = replace(options, threads=1)

    def note(phase, window_name, status, obj, bound, seconds):
        log.append((phase, window_name, status, obj, bound, seconds))
        if trace:
            trace(log[-1])

    split = split_dense_rows(sf)
    work = split.sf if split is not None else sf
    A = work.A.tocsc()
    highs_options = {
        "threads": 1, "random_seed": int(options.seed), "mip_rel_gap": float(options.gap),
        "time_limit": max(deadline - time.perf_counter(), 1.0), **scaling_options(sf),
    }
    if split is not None:
        highs_options["presolve_rule_off"] = _PRESOLVE_AGGREGATOR
    job = BoundJob(
        cost=work.cost, col_lower=work.col_lower, col_upper=work.col_upper, row_lower=work.row_lower,
        row_upper=work.row_upper, indptr=A.indptr.astype(np.int32), indices=A.indices.astype(np.int32),
        data=A.data.astype(float), is_integer=work.is_integer, maximize=work.maximize, offset=work.offset,
        options=highs_options,
    )
    background = BackgroundBound(job)
    report = None
    try:
        incumbent, inc_obj, lp_bound = _build_plan(sf, one, deadline, note, better)
    finally:
        report = background.result()
    mip_bound = math.nan
    if report is not None:
        b = report["bound"]
        mip_bound = b if math.isfinite(b) and abs(b) < 1e20 else math.nan
        note("bound", "whole MIP (background process)", report["status"], report["objective"], mip_bound,
             time.perf_counter() - background.started)
        if report["values"] is not None and (incumbent is None or better(report["objective"], inc_obj)):
            incumbent = report["values"][: sf.num_cols]
    candidates = [b for b in (lp_bound, mip_bound) if math.isfinite(b)]
    bound = (min(candidates) if maximize else max(candidates)) if candidates else math.nan
    return incumbent, bound, log


def _fixed_lp(sf: StandardForm, options: SolveOptions, int_cols: np.ndarray, pattern: np.ndarray, deadline: float):
    """(objective, values) of the LP with the integers fixed at `pattern`; (None, None) if none."""
    values = np.zeros(sf.num_cols)
    values[int_cols] = pattern
    h = new_highs(replace(options, time_limit=max(deadline - time.perf_counter(), 0.5)))
    set_scaling(h, sf)
    h.passModel(fixed_lp(sf, values))
    run(h)
    if h.getModelStatus() != _MS.kOptimal:
        return None, None
    return h.getInfo().objective_function_value, np.array(h.getSolution().col_value)


def _build_plan(sf: StandardForm, options: SolveOptions, deadline: float, note, better):
    """The plan half of `_lp_guided`: (values, objective, LP bound)."""
    int_cols = np.flatnonzero(sf.is_integer)
    t0 = time.perf_counter()
    h = new_highs(replace(options, time_limit=max(deadline - t0, 1.0)))
    set_scaling(h, sf)
    h.passModel(sf.to_lp(integer=False))
    run(h)
    if h.getModelStatus() != _MS.kOptimal:
        note("lp relaxation", "all", h.modelStatusToString(h.getModelStatus()), math.nan, math.nan, time.perf_counter() - t0)
        return None, math.nan, math.nan
    lp_bound = h.getInfo().objective_function_value
    lp = np.array(h.getSolution().col_value)
    note("lp relaxation", "all", "optimal", lp_bound, lp_bound, time.perf_counter() - t0)

    lots = _lot_columns(sf, int_cols)
    lot = np.array([lp[lots[j][0]] if lots.get(j, (None,))[0] is not None else 0.0 for j in int_cols])
    least = np.array([max(lots.get(j, (None, 0.0, 0.0))[2], 1e-6) for j in int_cols])
    period = np.array([(_period(sf.columns[j].index()) or 0) for j in int_cols])
    wanted = lot >= least * (1 - 1e-9)

    pattern = np.zeros(len(int_cols))
    t1 = time.perf_counter()
    inc_obj, incumbent = _fixed_lp(sf, options, int_cols, pattern, deadline)
    note("plan", "all closed", "optimal" if incumbent is not None else "infeasible", inc_obj if incumbent is not None else math.nan,
         math.nan, time.perf_counter() - t1)
    if incumbent is None:  # the all-closed plan is infeasible: open everything the LP wants at once
        pattern = wanted.astype(float)
        inc_obj, incumbent = _fixed_lp(sf, options, int_cols, pattern, deadline)
        note("plan", "open where the LP makes a lot", "optimal" if incumbent is not None else "infeasible",
             inc_obj if incumbent is not None else math.nan, math.nan, time.perf_counter() - t1)
        if incumbent is None:
            return None, math.nan, lp_bound
    for t in np.unique(period):
        group = np.flatnonzero(wanted & (period == t) & (pattern < 0.5))
        group = group[np.argsort(-lot[group] / least[group], kind="stable")]  # most worthwhile first
        for share in (1.0, 0.5, 0.25):
            if time.perf_counter() > deadline - 1.0 or not len(group):
                break
            trial = pattern.copy()
            take = group[: max(1, math.ceil(share * len(group)))]
            trial[take] = 1.0
            t1 = time.perf_counter()
            obj, values = _fixed_lp(sf, options, int_cols, trial, deadline)
            ok = values is not None and better(obj, inc_obj)
            note("plan", f"open t{t} ({len(take)})", "kept" if ok else ("worse" if values is not None else "infeasible"),
                 obj if values is not None else math.nan, math.nan, time.perf_counter() - t1)
            if ok:
                pattern, incumbent, inc_obj = trial, values, obj
                break
    return incumbent, inc_obj, lp_bound


def _lot_columns(sf: StandardForm, int_cols: np.ndarray) -> dict[int, tuple[int | None, float, float]]:
    """integer column -> (column of the lot or order it switches, its big-M, its minimum lot)."""
    out: dict[int, list] = {}
    least: dict[int, float] = {}
    A = sf.A.tocsr()
    for i, (con, _kind) in enumerate(sf.rows):
        name = con.parent_component().name
        if name not in ("production.setup_link", "procurement.order_link", "production.min_lot", "procurement.moq"):
            continue
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        vals = A.data[A.indptr[i]:A.indptr[i + 1]]
        yc = [k for k, c in enumerate(cols) if sf.is_integer[c]]
        xc = [k for k, c in enumerate(cols) if not sf.is_integer[c]]
        if len(yc) != 1 or len(xc) != 1:
            continue
        y = int(cols[yc[0]])
        if name.endswith("link"):
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
