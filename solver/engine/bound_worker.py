"""HiGHS work in child processes, beside the parent or where the parent must be able to stop it.

highspy runs one solve per process at a time (its solver lock is shared by every Highs
object), so the large-plan heuristic (solver/engine/heuristics.py) runs the whole MIP here, in a
*spawned* process (a fork would inherit HiGHS's thread pool in an undefined state): the child
gets the model as arrays, solves until the parent says stop (or its time limit), and sends back
its dual bound and any plan it found (`BackgroundBound`). The infeasibility diagnosis runs
HiGHS's IIS here too (`BackgroundIis`): `getIis` honours neither a time limit nor an
interrupt, and a Ctrl-C that reaches Python inside it crashes the process; a child can simply
be killed. What the children and solver/engine/highs.py share lives here, pyomo-free: `highs_lp`
(arrays -> HighsLp) and `quiet_highs`.

Every child ignores Ctrl-C (the terminal sends it to the whole process group; the parent
decides and stops its children) and dies with its parent: a parent killed outright (kill -9)
leaves no HiGHS process solving on for the rest of its time limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import multiprocessing as mp
import os
import signal
import sys
import threading
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


# --------------------------------------------------------------------------- child processes

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _tie_to_parent(parent_pid: int) -> None:
    """End this process when the parent is gone: at once on Linux (the kernel sends SIGKILL
    when the parent dies, even while HiGHS holds the interpreter), elsewhere within half a
    second (a thread watching the parent pid)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _child_main(work, parent_pid: int, conn, *args) -> None:
    """Entry point of every child: Ctrl-C is the parent's to handle, the child's life is the
    parent's, then `work(conn, *args)`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _tie_to_parent(parent_pid)
    try:
        work(conn, *args)
    finally:
        conn.close()


@contextlib.contextmanager
def _sigint_blocked():
    """Start a child with SIGINT blocked: it inherits the mask, so a Ctrl-C during its start
    (before `_child_main` ignores it) cannot end it with a traceback. A Ctrl-C meanwhile
    reaches the parent when the mask is restored."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class _Child:
    """A spawned process running `work(conn, *args)` that reports through a pipe."""

    def __init__(self, work, *args):
        ctx = mp.get_context("spawn")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child_main, args=(work, os.getpid(), send, *args), daemon=True)
        self.started = time.perf_counter()
        with _sigint_blocked():
            self._proc.start()
        send.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def message(self, timeout: float) -> dict | None:
        """The child's next message if it comes within `timeout` s; None if not, or if the
        child ended without one (killed, out of memory)."""
        try:
            return self._recv.recv() if self._recv.poll(max(timeout, 0.0)) else None
        except (EOFError, OSError):
            return None

    def kill(self) -> None:
        """Stop the child now (an interrupt, or a report that is no longer wanted)."""
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join(1.0)
        self._recv.close()


def _solve(conn, job: BoundJob, stop, bound) -> None:
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


class BackgroundBound(_Child):
    """Start with `BackgroundBound(job)`; `result()` stops the child and returns its report;
    `kill()` stops it without one (an interrupt)."""

    def __init__(self, job: BoundJob):
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._bound = ctx.Value("d", float("nan"))  # the latest dual bound the child saw
        super().__init__(_solve, job, self._stop, self._bound)

    @property
    def published(self) -> float:
        """The latest dual bound the child published (nan before its root LP)."""
        return self._bound.value

    def running(self) -> bool:
        return self._proc.is_alive()

    def wait(self, until: float) -> None:
        """Let the child work until `until` (perf_counter), unless it finishes first."""
        self._proc.join(max(until - time.perf_counter(), 0.0))

    def result(self, timeout: float = 5.0) -> dict | None:
        """Stop the solve and return its report. HiGHS may take long to stop in its root cut
        loop: after `timeout` s the report is the last bound the child published, without a
        plan (None if it published none)."""
        self._stop.set()
        report = self.message(timeout)
        self.kill()
        if report is None and math.isfinite(self.published):
            report = {"status": "stopped in the root", "bound": self.published, "objective": math.nan,
                      "values": None}
        return report


def _iis(conn, job: BoundJob, until: float) -> None:
    """The LP relaxation, and when it is infeasible HiGHS's irreducible infeasible subset, both
    by `until` (time.time(); getIis honours only its own option, iis_time_limit). Two messages:
    {"lp": model status, "lp_infeasible"} once the LP is solved, then {"iis": ...}."""
    h = quiet_highs()
    h.setOptionValue("output_flag", False)
    for name, value in job.options.items():
        h.setOptionValue(name, value)
    h.setOptionValue("time_limit", max(until - time.time(), 0.1))
    h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyIrreducible))
    h.passModel(highs_lp(job.cost, job.col_lower, job.col_upper, job.row_lower, job.row_upper, job.indptr,
                         job.indices, job.data, job.maximize, job.offset))
    h.run()
    infeasible = h.getModelStatus() == highspy.HighsModelStatus.kInfeasible
    conn.send({"lp": h.modelStatusToString(h.getModelStatus()), "lp_infeasible": infeasible})
    if not infeasible:
        return
    h.setOptionValue("iis_time_limit", max(until - time.time(), 0.1))
    try:
        status, iis = h.getIis()
    except Exception as err:  # noqa: BLE001 — reported, not raised: the IIS is a bonus
        conn.send({"iis": None, "error": str(err), "out_of_time": time.time() >= until})
        return
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        conn.send({"iis": None, "error": "HiGHS returned no IIS", "out_of_time": time.time() >= until})
        return
    conn.send({"iis": {"rows": [int(r) for r in iis.row_index_], "cols": [int(c) for c in iis.col_index_],
                       "col_bounds": [int(b) for b in iis.col_bound_]}})


class BackgroundIis(_Child):
    """The LP relaxation's IIS (`_iis`) in a child the parent can stop at its deadline or on
    an interrupt. `lp_infeasible(until)` and `iis(until)` wait for each answer up to `until`
    (perf_counter); None when it did not come in time (the child is then killed)."""

    def __init__(self, job: BoundJob, until: float):
        super().__init__(_iis, job, time.time() + (until - time.perf_counter()))
        self._lp: dict | None = None

    def lp_infeasible(self, until: float) -> bool | None:
        if self._lp is None:
            self._lp = self.message(until - time.perf_counter())
            if self._lp is None:
                self.kill()
        return None if self._lp is None else bool(self._lp["lp_infeasible"])

    def iis(self, until: float) -> dict | None:
        """{"rows", "cols", "col_bounds"} of the IIS; {"error": ...} when HiGHS gave none in
        its time; None when it did not finish by `until`, or ran out of time."""
        if not self.lp_infeasible(until):
            return None
        report = self.message(until - time.perf_counter())
        self.kill()
        if report is None or report.get("out_of_time"):
            return None
        return report["iis"] if report["iis"] is not None else {"error": report["error"]}


# the entry point and start guard of every spawned worker, for the other packages that run
# work in children of their own (the web workspace's job queue, solver/web/jobs.py)
child_main = _child_main
sigint_blocked = _sigint_blocked
