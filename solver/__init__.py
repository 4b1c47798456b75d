"""prodbudget: plan production, purchases, inventory, cash and budget allocation at once.

    from solver import load_instance, solve
    plan = solve(load_instance("instances/appliance"))
    plan.objective, plan.tables["production"], plan.kpis
"""

from solver.instance import Instance
from solver.loading import load_instance, validate
from solver.options import SolveOptions
from solver.planning import solve
from solver.problems import InputError, Problem
from solver.results import Result
from solver.status import Status

__all__ = [
    "Instance", "InputError", "Problem", "Result", "SolveOptions", "Status",
    "load_instance", "solve", "validate",
]
