"""The job queue of `prodbudget serve`: solves and analyses in spawned worker processes.

At most `workers` jobs run at once, each in its own process (a solve holds one HiGHS, and a
process can be stopped: cancel terminates it, and HiGHS children die with it); at most
`max_queued` more wait. A submission beyond that is refused (`QueueFull`, HTTP 429), so
memory stays bounded whatever arrives. A job reports through a pipe: progress messages while
it works (the solve's incumbent, bound, gap and seconds, at least every 2 s), then one result
or one error. The children are spawned from one long-lived scheduler thread (Linux ends a
child when the thread that started it ends) and die with the server (solver/engine/bound_worker.py).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from solver.engine.bound_worker import child_main, sigint_blocked

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "error", "cancelled"
HISTORY = 600  # progress samples kept per job (10 min at one a second)


class QueueFull(RuntimeError):
    """Every worker is busy and the waiting line is full: try again later."""


@dataclass
class Job:
    """One unit of work and what is known of it so far."""

    id: str
    kind: str
    payload: dict
    status: str = QUEUED
    progress: dict = field(default_factory=dict)  # the last progress message
    history: list = field(default_factory=list)  # every progress message, time-stamped
    result: object = None
    error: str = ""
    problems: list = field(default_factory=list)  # located input problems, when the input was refused
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    process: object = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    def view(self) -> dict:
        """What the API shows of the job (no result: each kind has its own document)."""
        now = self.finished or time.time()
        return {"id": self.id, "kind": self.kind, "status": self.status, "progress": self.progress,
                "error": self.error or None, "problems": self.problems,
                "seconds": round(now - (self.started or now), 3), "queued_seconds":
                round((self.started or now) - self.created, 3)}


class JobQueue:
    """`submit(kind, payload)` runs `work(conn, kind, payload)` in a spawned process, where
    `work` is a module-level function (solver/web/tasks.py's `run`) that sends
    `("progress", dict)` messages and ends with `("result", object)` or `("error", text, problems)`.
    `on_finish(job)` is called (in a queue thread) once the job has ended, however it ended."""

    def __init__(self, work: Callable, workers: int = 2, max_queued: int = 16,
                 on_finish: Callable[[Job], None] | None = None):
        self.work, self.workers, self.max_queued = work, max(1, workers), max(0, max_queued)
        self.on_finish = on_finish
        self.jobs: dict[str, Job] = {}
        self._waiting: deque[Job] = deque()
        self._running: set[str] = set()
        self._lock = threading.Condition()
        self._closed = False
        self._ctx = mp.get_context("spawn")
        self._scheduler = threading.Thread(target=self._schedule, name="job-scheduler", daemon=True)
        self._scheduler.start()

    # ------------------------------------------------------------------ public

    def submit(self, kind: str, payload: dict, job_id: str | None = None) -> Job:
        with self._lock:
            if self._closed:
                raise QueueFull("the server is shutting down")
            if len(self._waiting) >= self.max_queued and len(self._running) >= self.workers:
                raise QueueFull(f"all {self.workers} workers are busy and {len(self._waiting)} jobs are waiting; "
                                "try again when one has finished")
            job = Job(id=job_id or uuid.uuid4().hex[:12], kind=kind, payload=payload)
            self.jobs[job.id] = job
            self._waiting.append(job)
            self._lock.notify_all()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def counts(self) -> dict:
        with self._lock:
            return {"workers": self.workers, "running": len(self._running), "queued": len(self._waiting),
                    "max_queued": self.max_queued}

    def cancel(self, job_id: str) -> bool:
        """Stop a job: a waiting one never starts, a running one's process is terminated (its
        output is written whole at its end or not at all). False when it had already ended."""
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or not job.active:
                return False
            if job.status == QUEUED:
                self._waiting.remove(job)
                self._end(job, CANCELLED, error="cancelled before it started")
                return True
            job.error = "cancelled"
            proc = job.process
        _stop(proc)
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job has ended (or `timeout` seconds)."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            job = self.jobs[job_id]
            while job.active:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._lock.wait(left if left is not None else 1.0)
        return job

    def close(self) -> None:
        """Refuse new jobs, drop the waiting ones, stop the running ones."""
        with self._lock:
            self._closed = True
            while self._waiting:
                self._end(self._waiting.popleft(), CANCELLED, error="the server stopped")
            procs = [self.jobs[j].process for j in self._running]
            self._lock.notify_all()
        for proc in procs:
            _stop(proc)

    # ------------------------------------------------------------------ inside

    def _schedule(self) -> None:
        while True:
            with self._lock:
                while not self._closed and (not self._waiting or len(self._running) >= self.workers):
                    self._lock.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                self._running.add(job.id)
                job.status, job.started = RUNNING, time.time()
            try:
                recv, send = self._ctx.Pipe(duplex=False)
                proc = self._ctx.Process(target=child_main, args=(self.work, os.getpid(), send, job.kind, job.payload),
                                         name=f"prodbudget-job-{job.id}")
                with sigint_blocked():
                    proc.start()
                send.close()
            except Exception as err:  # could not start a process: the job fails, the queue goes on
                with self._lock:
                    self._running.discard(job.id)
                    self._end(job, FAILED, error=f"could not start a worker process: {err}")
                continue
            with self._lock:
                job.process = proc
                cancelled = job.error == "cancelled"
            if cancelled:
                _stop(proc)
            threading.Thread(target=self._listen, args=(job, recv, proc), name=f"job-{job.id}", daemon=True).start()

    def _listen(self, job: Job, recv, proc) -> None:
        outcome: tuple = ()
        try:
            while True:
                try:
                    msg = recv.recv()
                except (EOFError, OSError):
                    break
                if msg[0] == "progress":
                    sample = {**msg[1], "at": round(time.time() - job.started, 3)}
                    with self._lock:
                        job.progress = sample
                        job.history.append(sample)
                        del job.history[:-HISTORY]
                        self._lock.notify_all()
                else:
                    outcome = msg
        finally:
            recv.close()
            proc.join(timeout=5)
            if proc.is_alive():
                _stop(proc)
        with self._lock:
            self._running.discard(job.id)
            if job.error == "cancelled":
                self._end(job, CANCELLED, error="cancelled while running")
            elif outcome and outcome[0] == "result":
                job.result = outcome[1]
                self._end(job, DONE)
            elif outcome and outcome[0] == "error":
                self._end(job, FAILED, error=outcome[1], problems=outcome[2] if len(outcome) > 2 else [])
            else:
                self._end(job, FAILED, error=f"the worker process ended without an answer (exit code {proc.exitcode})")
            self._lock.notify_all()

    def _end(self, job: Job, status: str, error: str = "", problems: list | None = None) -> None:
        """Called with the lock held."""
        job.status, job.finished = status, time.time()
        job.error = error or ("" if status == DONE else job.error)
        job.problems = problems or []
        job.process = None
        if self.on_finish is not None:
            threading.Thread(target=self._finished, args=(job,), daemon=True).start()
        self._lock.notify_all()

    def _finished(self, job: Job) -> None:
        with contextlib.suppress(Exception):  # a failed record must not stop the queue
            self.on_finish(job)


def _stop(proc, grace: float = 3.0) -> None:
    """Terminate a worker process (SIGTERM), then kill it if it has not gone after `grace` s."""
    if proc is None:
        return
    with contextlib.suppress(Exception):
        proc.terminate()
        proc.join(grace)
        if proc.is_alive():
            proc.kill()
            proc.join(grace)
