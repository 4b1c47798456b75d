"""A MIP solved in a child process for its dual bound, while the parent builds a plan.

highspy runs one solve per process at a time (its solver lock is shared by every Highs
object), so the large-plan heuristic (solver/heuristics.py) runs the whole MIP here, in a
*spawned* process (a fork would inherit HiGHS's thread pool in an undefined state). The child
imports numpy and highspy only, gets the model as arrays, solves until the parent says stop
(or its time limit), and sends back its dual bound and any plan it found. What the child and
solver/highs.py share lives here, pyomo-free: `highs_lp` (arrays -> HighsLp) and `quiet_highs`.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np


@dataclass
class BoundJob:
    """The child's model and settings, as plain picklable arrays."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    indptr: np.ndarray  # column-wise
    indices: np.ndarray
    data: np.ndarray
    is_integer: np.ndarray
    maximize: bool
    offset: float
    options: dict  # HiGHS option name -> value


def highs_lp(cost, col_lower, col_upper, row_lower, row_upper, indptr, indices, data, maximize: bool,
             offset: float, is_integer=None):
    """A HighsLp from column-wise arrays (the one place the model becomes HiGHS's; pyomo-free so
    that the bound child can use it). `is_integer=None` or all False gives an LP."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), len(row_lower)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(indptr, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(indices, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(data, dtype=float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.offset_ = offset
    if is_integer is not None and np.any(is_integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
                           for f in is_integer]
    return lp


_banner_shown = False


def quiet_highs():
    """A Highs object; the first one in a process prints a banner to fd 1, which is swallowed
    so that `--json` output stays clean."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_shown = True
    return h


def _solve(job: BoundJob, stop, conn, bound) -> None:
    h = quiet_highs()
    h.setOptionValue("output_flag", False)
    for name, value in job.options.items():
        h.setOptionValue(name, value)
    h.passModel(highs_lp(job.cost, job.col_lower, job.col_upper, job.row_lower, job.row_upper, job.indptr,
                         job.indices, job.data, job.maximize, job.offset, job.is_integer))

    # callbacks see the user-scaled model: objective × 2^(bound scale + objective scale)
    unscale = 2.0 ** -(job.options.get("user_bound_scale", 0) + job.options.get("user_objective_scale", 0))

    def watch(e) -> None:  # every interrupt check: publish the bound, honour a stop
        b = e.data_out.mip_dual_bound
        if abs(b) < 1e20:
            bound.value = b * unscale
        if stop.is_set():
            e.interrupt()

    h.cbMipInterrupt.subscribe(watch)
    h.startSolve()
    while not h.wait(0.2)[0]:
        if stop.is_set():
            h.cancelSolve()
    info = h.getInfo()
    found = info.primal_solution_status == highspy.kSolutionStatusFeasible
    conn.send({
        "status": h.modelStatusToString(h.getModelStatus()),
        "bound": float(info.mip_dual_bound),
        "objective": float(info.objective_function_value) if found else float("nan"),
        "values": np.array(h.getSolution().col_value) if found else None,
    })
    conn.close()


class BackgroundBound:
    """Start with `BackgroundBound(job)`; `result()` stops the child and returns its report."""

    def __init__(self, job: BoundJob):
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._bound = ctx.Value("d", float("nan"))  # the latest dual bound the child saw
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_solve, args=(job, self._stop, send, self._bound), daemon=True)
        self.started = time.perf_counter()
        self._proc.start()
        send.close()

    @property
    def published(self) -> float:
        """The latest dual bound the child published (nan before its root LP)."""
        return self._bound.value

    def wait(self, until: float) -> None:
        """Let the child work until `until` (perf_counter), unless it finishes first."""
        self._proc.join(max(until - time.perf_counter(), 0.0))

    def result(self, timeout: float = 5.0) -> dict | None:
        """Stop the solve and return its report. HiGHS may take long to stop in its root cut
        loop: after `timeout` s the report is the last bound the child published, without a
        plan (None if it published none)."""
        self._stop.set()
        report = self._recv.recv() if self._recv.poll(timeout) else None
        self._proc.join(1.0)
        if self._proc.is_alive():
            self._proc.kill()
        if report is None and math.isfinite(self.published):
            report = {"status": "stopped in the root", "bound": self.published, "objective": math.nan,
                      "values": None}
        return report
