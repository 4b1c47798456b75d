"""The status re-check calls a plan optimal when either gap HiGHS stops at is met: the relative
gap (`--gap`) or HiGHS's absolute gap (1e-6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver import Status, load_instance, solve
from solver.engine.highs import MIP_ABS_GAP, within_gap

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def test_within_gap_relative_or_absolute() -> None:
    assert within_gap(-260.0, -259.999999, 0.0)  # absolute gap 1e-6 met, relative 3.8e-9 > 0
    assert within_gap(64.0, 64.0 + MIP_ABS_GAP, 0.0)
    assert not within_gap(64.0, 64.0 + 10 * MIP_ABS_GAP, 0.0)  # neither gap met
    assert within_gap(1e6, 1e6 + 50.0, 1e-4)  # relative gap 5e-5 met, absolute 50 not
    assert not within_gap(1e6, 1e6 + 500.0, 1e-4)


@pytest.mark.solver
def test_exact_plan_at_gap_zero_is_optimal() -> None:
    """min_lot: one lot of 10 (unit cost 1) for demand 4 at price 20, 6 held at 1 → profit 64.
    At `--gap 0` HiGHS ends on its absolute gap with a bound of 64.000001; that plan is optimal,
    not "feasible — incumbent value that differs"."""
    result = solve(load_instance(TINY / "min_lot"), gap=0.0)
    assert result.status == Status.OPTIMAL, result.message
    assert result.objective == pytest.approx(64.0)
    assert abs(result.bound - result.objective) <= MIP_ABS_GAP * (1 + 1e-6)
