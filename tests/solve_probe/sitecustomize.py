"""Part of the test suite's guard rail that every test which solves carries the `solver`
marker (tests/conftest.py).

Every HiGHS solve goes through `highspy._core._Highs.run` (`Highs.run`, `Highs.solve` and the
thread of `Highs.startSolve`, which `solver.engine.highs.run` uses). `count_runs` wraps it so
that each run appends a line to the file named by $PRODBUDGET_TEST_SOLVES (nothing when unset).
The pytest process wraps it directly; for the processes a test starts (the CLI as a
subprocess, worker processes), conftest puts this folder first on PYTHONPATH, so Python imports
this module at start-up and it wraps `_Highs` when highspy is imported. It imports nothing
heavy itself, and never fails a process: a probe that cannot install stays silent.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from importlib.machinery import PathFinder

ENV = "PRODBUDGET_TEST_SOLVES"
MODULE = "highspy._core"


def count_runs(core) -> None:
    """Wrap `core._Highs.run` (once) to record each run in $PRODBUDGET_TEST_SOLVES."""
    cls = core._Highs
    if getattr(cls.run, "counted_for_tests", False):
        return
    original = cls.run

    def run(self, *args, **kwargs):
        path = os.environ.get(ENV)
        if path:
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"{os.getpid()}\n")
        return original(self, *args, **kwargs)

    run.counted_for_tests = True
    cls.run = run


class _CountOnImport:
    """A meta-path finder that lets the normal finder load highspy's extension module, then
    wraps it before anyone uses it."""

    def find_spec(self, name, path=None, target=None):
        if name != MODULE:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            with contextlib.suppress(Exception):  # the probe must never break the process it watches
                count_runs(module)

        spec.loader.exec_module = exec_module
        return spec


def _run_the_next_sitecustomize() -> None:
    """The sitecustomize this one shadows, if the interpreter has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


if __name__ == "sitecustomize":  # at a process's start-up (conftest loads it under another name)
    if os.environ.get(ENV):
        sys.meta_path.insert(0, _CountOnImport())
    _run_the_next_sitecustomize()
