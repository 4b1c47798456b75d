"""Every shipped instance: a feasible one solves to a proven optimum whose tables pass the
independent checker; an `infeasible_*` one has no plan and no exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver import Status, load_instance, solve
from solver.analysis.checker import assert_plan_ok

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[1] / "instances"
SHIPPED = sorted(p.parent for p in ROOT.rglob("instance.toml"))


def test_instances_are_shipped():
    assert (ROOT / "appliance") in SHIPPED and len(SHIPPED) > 30


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_instance(folder: Path):
    inst = load_instance(folder)
    result = solve(inst, time_limit=120)
    if folder.name.startswith("infeasible_"):
        assert result.status == Status.INFEASIBLE, result.message
        return
    assert result.status == Status.OPTIMAL, result.message
    assert_plan_ok(result)
