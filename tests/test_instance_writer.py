"""An Instance written back as a folder loads as the same instance (solver/io/instance_writer.py's
`write_instance`, which the web workspace uses for every changed version), and the demand
parameters a planner changes by product and month."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from solver.analysis.parametric import Parameter, ParameterError, apply_parameter
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.engine.progress import Progress
from solver.io.instance_writer import write_instance
from solver.io.loading import load_instance

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.parent for p in (REPO / "instances").rglob("instance.toml"))


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: str(p.relative_to(REPO / "instances")))
def test_written_instance_loads_back_the_same(folder: Path, tmp_path: Path) -> None:
    inst = load_instance(folder)
    back = load_instance(write_instance(inst, tmp_path / "copy"))
    assert (back.name, back.currency, back.periods) == (inst.name, inst.currency, inst.periods)
    assert (back.cash, back.budget, back.policy) == (inst.cash, inst.budget, inst.policy)
    for name, df in inst.tables.items():
        if name.startswith("_") or name == "families":
            continue
        pd.testing.assert_frame_equal(back.tables[name], df, check_dtype=False, obj=name)


@pytest.mark.solver
def test_demand_parameters_by_product_and_period(tmp_path: Path) -> None:
    """`demand:P@M` scales that product's demand of that month only; written and re-read, the
    changed instance solves to the same profit as the changed Instance in memory."""
    inst = load_instance(REPO / "instances" / "tiny" / "rush_basic")
    changed = apply_parameter(inst, Parameter.parse("demand:widget@W2"), 1.5)
    dem = changed.tables["demand"].set_index(["channel", "period"])["quantity"]
    assert dem[("retail", "W2")] == 90 and dem[("shop", "W2")] == 15 and dem[("retail", "W1")] == 60
    month = apply_parameter(inst, Parameter.parse("demand@W3"), 0.0).tables["demand"]
    assert month.loc[month["period"] == "W3", "quantity"].sum() == 0 and month["quantity"].sum() == 3 * 70
    with pytest.raises(ParameterError):
        apply_parameter(inst, Parameter.parse("demand:nothing"), 2)
    with pytest.raises(ParameterError):
        apply_parameter(inst, Parameter.parse("demand@W9"), 2)
    written = load_instance(write_instance(changed, tmp_path / "v"))
    opts = SolveOptions(time_limit=60)
    assert solve(written, opts).objective == pytest.approx(solve(changed, opts).objective, rel=1e-9)


@pytest.mark.solver
def test_solve_reports_incumbent_bound_and_gap() -> None:
    """`solve(progress=...)` hears the phases and, while solving, `Progress` events in the
    user's units: the last `solving` event is where HiGHS ended (the plan's profit and HiGHS's
    bound, money scaling undone), the last event the plan returned."""
    heard: list[Progress] = []
    result = solve(load_instance(REPO / "instances" / "tiny" / "setup_lot_sizing"), SolveOptions(time_limit=60),
                   progress=heard.append)
    phases = [e.phase for e in heard]
    assert phases[0] == "building the model" and phases[-2:] == ["extracting the plan", "solved"]
    last = [e for e in heard if e.phase == "solving"][-1]
    assert last.incumbent == pytest.approx(result.objective, abs=1e-6)
    assert last.bound == pytest.approx(result.bound, abs=1e-6) and last.gap == pytest.approx(0, abs=1e-6)
    assert heard[-1].incumbent == result.objective and heard[-1].gap == result.gap
