"""prodbudget: plan production, purchases, inventory, cash and budget allocation at once.

    from solver import load_instance, solve
    plan = solve(load_instance("instances/appliance"))
    plan.objective, plan.tables["production"], plan.kpis

The names below are imported when first used, not with the package: the child processes that
run HiGHS beside a solve (solver/engine/bound_worker.py) import this package too, and should start in
a fraction of a second rather than load Pyomo and pandas first.
"""

from importlib import import_module

_EXPORTS = {
    "Instance": "solver.io.instance",
    "InputError": "solver.io.problems",
    "Problem": "solver.io.problems",
    "Result": "solver.engine.results",
    "SolveOptions": "solver.engine.options",
    "Status": "solver.engine.status",
    "load_instance": "solver.io.loading",
    "solve": "solver.engine.pipeline",
    "validate": "solver.io.loading",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'solver' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
