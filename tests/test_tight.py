"""The (l,S) formulation (formulations/setup/ls_inequalities.py) against big-M.

Valid inequalities must never cut off an optimum: on tiny lot-sizing instances both
formulations reach the same optimal profit, and the (l,S) LP relaxation bound is at least as
tight (for a maximisation: not above big-M's).
"""

from __future__ import annotations

import pytest
from helpers import TINY, lp_bound

from formulations.setup.variants import formulation_extensions, tight_extensions
from solver import load_instance, solve
from solver.engine.options import SolveOptions

pytestmark = pytest.mark.solver

NAMES = ["setup_lot_sizing", "setup_hours", "min_lot", "moq", "order_cost", "alt_routing", "made_lead_time",
         "demand_backlog", "demand_lost"]
OPTS = SolveOptions(time_limit=30, gap=1e-9)


def _instances(generated_tiny):
    for name in NAMES:
        yield name, load_instance(TINY / name)
    for seed, path in generated_tiny.items():
        yield f"gen-tiny-{seed}", load_instance(path)


def test_same_optimum_and_tighter_lp(generated_tiny):
    for name, inst in _instances(generated_tiny):
        a = solve(inst, OPTS)
        b = solve(inst, OPTS, extensions=formulation_extensions("ls"))
        assert a.status == b.status, name
        assert b.objective == pytest.approx(a.objective, rel=1e-6, abs=1e-6), name
        lp_bigm, lp_ls = lp_bound(inst, "bigm"), lp_bound(inst, "ls")
        assert lp_ls <= lp_bigm + 1e-6 * max(1.0, abs(lp_bigm)), name
        assert lp_ls >= a.objective - 1e-6 * max(1.0, abs(a.objective)), name  # still a bound


def test_ls_closes_the_lp_gap_of_uncapacitated_lot_sizing():
    """setup_lot_sizing: one product, must demand, setup cost, no capacity: (l,S) gives the
    convex hull, so the LP bound equals the optimum; big-M's is strictly weaker."""
    inst = load_instance(TINY / "setup_lot_sizing")
    opt = solve(inst, OPTS).objective
    assert lp_bound(inst, "ls") == pytest.approx(opt, rel=1e-7)
    assert lp_bound(inst, "bigm") > opt + 1e-6


def test_option_routing():
    assert tight_extensions(SolveOptions()) == []
    assert len(tight_extensions(SolveOptions(formulation="ls"))) == 1
    with pytest.raises(ValueError):
        formulation_extensions("nope")
