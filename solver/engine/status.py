"""Our own status vocabulary; HiGHS and Pyomo terminations map onto it."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven optimal within the gap
    FEASIBLE = "feasible"  # a plan, stopped at a limit: see gap
    INFEASIBLE = "infeasible"  # no plan satisfies the constraints
    UNBOUNDED = "unbounded"  # profit can grow without limit (a data error)
    ERROR = "error"  # no plan for another reason (limit before any plan, solver failure)

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)

    def __str__(self) -> str:
        return self.value
