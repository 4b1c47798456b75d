"""The value of relaxing a limit by its sensible step, measured by re-solving (limits.csv's
`value_basis` = "measured"): the shadow price and its range (solver/engine/sensitivity.py)
only give a lower bound of it."""

from __future__ import annotations

import math
import time
from dataclasses import replace

from solver.analysis.parametric import Parameter, base_value, solve_points
from solver.engine.progress import ProgressCallback, Reporter
from solver.engine.sensitivity import DEFAULT_MEASURED, MEASURED, _sorted


def measure_limits(result, options, top: int = DEFAULT_MEASURED, jobs: int = 2,
                   progress: ProgressCallback | None = None) -> float:
    """Measure the value of the step of the top `top` limits by re-solving the changed instance.

    Each limit's number (its `parameter`) is moved by the step in the direction that earns
    profit and the whole instance is re-solved as `solve` does (setups and orders re-decided),
    from scratch, in `jobs` worker processes. (Started from the plan's setups and orders, which
    stay feasible, the appliance's re-solves took 3-4 times longer: HiGHS's time goes into the
    bound.) value_of_step becomes the re-solved profit minus the plan's (value_basis
    "measured"; both are within the MIP gap of their optimum). Which limits: first the `top`
    with the largest price × step (the value if the price held for the whole step); then,
    while a limit not yet measured ranks in the top `top` by its lower bound, that one too, so
    the limits shown are ranked by measured values. Limits without a number of their own (the
    credit line and the overtime allowance of one period) keep their lower bound. Updates
    `result.sensitivity.limits` in place; returns the seconds spent. `progress` hears
    `valuing the top limits: re-solving` events with `done`/`total`.
    """
    sens = result.sensitivity
    if sens is None or top <= 0 or not result.has_plan:
        return 0.0
    t0 = time.perf_counter()
    report = Reporter(progress, started=t0)
    inst = result.instance
    lim = sens.limits
    opts = replace(options, sensitivity=False)
    measurable = (lim["kind"] == "limit") & (lim["parameter"] != "")
    optimistic = (lim["shadow_price"].abs() * lim["step_size"]).where(measurable, -math.inf)
    wanted = list(optimistic[measurable].sort_values(ascending=False, kind="stable").index[:top])
    done: set[int] = set()
    while wanted:
        points = []
        for i in wanted:
            r = lim.loc[i]
            p = Parameter.parse(r["parameter"])
            sign = 1.0 if r["shadow_price"] > 0 else -1.0
            per_unit = sens.rhs_per_unit.get(r["parameter"], 1.0)  # the row holds this much of the number
            points.append((r["parameter"], base_value(inst, p) + sign * r["step_size"] / per_unit))
        rows = solve_points(inst, points, opts, jobs=jobs, progress=report.part("valuing the top limits"))
        for i, row in zip(wanted, rows, strict=True):
            done.add(i)
            if row["status"] in ("optimal", "feasible"):
                lim.loc[i, ["value_of_step", "resolved_profit"]] = [row["profit"] - result.objective, row["profit"]]
                lim.loc[i, "value_basis"] = MEASURED
        limits = lim[lim["kind"] == "limit"].sort_values("value_of_step", ascending=False, kind="stable")
        wanted = [i for i in limits.index[:top] if measurable[i] and i not in done]
    sens.limits = _sorted(lim)
    return time.perf_counter() - t0
