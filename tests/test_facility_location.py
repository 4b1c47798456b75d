"""The facility-location formulation (formulations/setup/facility_location.py, `--formulation fl`).

Valid rows never cut off an optimum: on tiny shipped, generated, mixed and TTM-format instances
fl reaches big-M's optimal profit, its plan passes the independent checker, and its LP bound is
at least as tight as big-M's and (l,S)'s (for a maximisation: not above them, never below the
optimum). A hand-derived instance shows the bound strictly tighter than big-M's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import TINY, lp_bound

from formulations.assembly import build_model
from formulations.setup.variants import FORMULATIONS, formulation_extensions
from solver import load_instance, solve
from solver.analysis.checker import check_plan
from solver.devtools.literature import ttm_instance
from solver.engine.options import SolveOptions
from solver.io.instance_writer import write_instance_folder

pytestmark = pytest.mark.solver

NAMES = ["setup_lot_sizing", "setup_hours", "min_lot", "alt_routing", "multi_step_routing", "max_stock",
         "terminal_value", "made_lead_time", "demand_backlog", "demand_lost", "safety_soft", "stock_targets"]
OPTS = SolveOptions(time_limit=30, gap=1e-9)

# 2 items x 4 periods in the Trigeiro-Thomas-McClain layout: N T / constant / C / N rows
# `a h st sc` / T rows of N demands.
TTM_TEXT = """2 4
1
100
1 1 10 50
2 2 5 80
30 20
0 40
50 10
20 15
"""


def _two_period_toml(name: str) -> dict:
    return {"name": name, "periods": 2, "cash": {"initial": 10_000.0}}


def _hand_instance(tmp_path: Path):
    """One product, must demand 10 and 10, setup cost 100, holding 6 per unit and period,
    1 hour per unit on a 100-hour resource (no setup time), price 0; cash ample.

    MIP: one setup in period 1 for 20 units costs 100 + 6·10 = 160; two setups cost 200.
    Optimum: profit −160.

    big-M: M = min(capacity 100, usage ahead) = 20 in period 1 and 10 in period 2. With
    x1 = 10 + a, x2 = 10 − a (0 ≤ a ≤ 10) the LP pays 100·(10 + a)/20 + 100·(10 − a)/10 + 6a =
    150 + a: best a = 0, y1 = 0.5, y2 = 1, LP bound −150.

    fl: period 1's 10 units can come only from start 1, w[1,1] = 10 ≤ 10·y1, so y1 = 1; period 2's
    10 units split into w[1,2] (holding 6 each) and w[2,2] ≤ 10·y2 (setup 10 each): the LP pays
    100 + 6·w[1,2] + 10·w[2,2], best w[1,2] = 10: LP bound −160, the optimum (the LP is integral).
    """
    tables = {
        "items": pd.DataFrame({"item": ["P"], "kind": ["product"], "holding_cost": [6.0]}),
        "demand": pd.DataFrame({"product": ["P", "P"], "channel": ["k", "k"], "period": ["1", "2"],
                                "quantity": [10.0, 10.0], "price": [0.0, 0.0]}),
        "channels": pd.DataFrame({"channel": ["k"], "service": ["must"]}),
        "resources": pd.DataFrame({"resource": ["R"], "capacity": [100.0]}),
        "routings": pd.DataFrame({"item": ["P"], "routing": ["main"], "resource": ["R"], "hours_per_unit": [1.0],
                                  "setup_hours": [0.0], "setup_cost": [100.0]}),
    }
    return load_instance(write_instance_folder(tmp_path / "hand", _two_period_toml("fl-hand"), tables))


def _mixed_instance(tmp_path: Path):
    """Everything the FL rows must stay valid under: a must and a lost channel, initial stock,
    an open order, a lead time, a second routing without setup, a min lot, a hard safety stock,
    shared capacity with setup hours; besides, a product on a backlog channel (gets (l,S) rows)
    and a component with a BOM parent (left to big-M)."""
    periods = ["1", "2", "3", "4"]
    items = pd.DataFrame({
        "item": ["A", "B", "C"], "kind": ["product", "product", "component"],
        "unit_cost": [2.0, 1.0, 1.0], "holding_cost": [1.0, 0.5, 0.2], "initial_stock": [5.0, 0.0, 0.0],
        "safety_stock": [3.0, 0.0, 0.0], "lead_time": [1, 0, 0], "min_lot": [6.0, 0.0, 0.0],
    })
    demand = pd.DataFrame({
        "product": ["A"] * 8 + ["B"] * 4,
        "channel": ["key"] * 4 + ["web"] * 4 + ["shop"] * 4,
        "period": periods * 3,
        "quantity": [2.0, 9.0, 3.0, 12.0, 2.0, 0.0, 7.0, 5.0, 6.0, 0.0, 8.0, 4.0],
        "price": [30.0] * 4 + [25.0] * 4 + [40.0] * 4,
    })
    channels = pd.DataFrame({"channel": ["shop", "web", "key"], "service": ["backlog", "lost", "must"],
                             "backlog_cost": [2.0, 0.0, 0.0], "lost_cost": [0.0, 3.0, 0.0]})
    resources = pd.DataFrame({"resource": ["R1", "R2"], "capacity": [30.0, 8.0]})
    routings = pd.DataFrame({
        "item": ["A", "A", "B", "C"], "routing": ["main", "alt", "main", "main"],
        "resource": ["R1", "R2", "R1", "R1"], "hours_per_unit": [1.0, 1.0, 1.0, 0.5],
        "setup_hours": [4.0, 0.0, 3.0, 2.0], "setup_cost": [20.0, 0.0, 15.0, 10.0],
    })
    bom = pd.DataFrame({"parent": ["B"], "child": ["C"], "quantity": [2.0]})
    open_orders = pd.DataFrame({"item": ["A"], "period": ["2"], "quantity": [8.0]})
    toml = {"name": "fl-mixed", "periods": periods, "cash": {"initial": 100_000.0}}
    tables = {"items": items, "demand": demand, "channels": channels, "resources": resources,
              "routings": routings, "bom": bom, "open_orders": open_orders}
    return load_instance(write_instance_folder(tmp_path / "mixed", toml, tables))


def _ttm_instance(tmp_path: Path):
    dat = tmp_path / "T1.DAT"
    dat.write_text(TTM_TEXT, encoding="ascii")
    toml, tables = ttm_instance(dat)
    return load_instance(write_instance_folder(tmp_path / "ttm", toml, tables))


def _instances(tmp_path: Path, generated_tiny: dict[int, Path]):
    for name in NAMES:
        yield name, load_instance(TINY / name)
    for seed, path in generated_tiny.items():
        yield f"gen-tiny-{seed}", load_instance(path)
    yield "mixed", _mixed_instance(tmp_path)
    yield "ttm", _ttm_instance(tmp_path)
    yield "hand", _hand_instance(tmp_path)


def test_same_optimum_checked_plan_and_tighter_lp(tmp_path, generated_tiny):
    for name, inst in _instances(tmp_path, generated_tiny):
        a = solve(inst, OPTS)
        b = solve(inst, OPTS, extensions=formulation_extensions("fl"))
        # both proven to gap 1e-9 (the status may read "feasible" when the polished plan's profit
        # differs from HiGHS's incumbent value by ~1e-9; the profits are compared instead)
        assert a.status.has_plan and b.status.has_plan, name
        assert b.objective == pytest.approx(a.objective, rel=1e-6, abs=1e-6), name
        assert check_plan(b.instance, b.tables, objective=b.objective) == [], name
        lp_bigm, lp_ls, lp_fl = (lp_bound(inst, f) for f in ("bigm", "ls", "fl"))
        tol = 1e-6 * max(1.0, abs(lp_bigm))
        assert lp_fl <= lp_bigm + tol, name
        assert lp_fl <= lp_ls + tol, name  # fl implies the (l,S) rows
        assert lp_fl >= a.objective - 1e-6 * max(1.0, abs(a.objective)), name  # still a bound


def test_fl_rows_are_built_where_valid(tmp_path):
    """A (must + lost) gets FL rows, B (backlog) (l,S) rows, the component C (parent B) neither."""
    built = build_model(_mixed_instance(tmp_path), formulation_extensions("fl"))
    assert {i for i, _src, _t in built.model.fl.w} == {"A"}
    assert {i for i, _r, _t, _l in built.model.tight.e} == {"B"}
    assert ("A", "alt@1") in built.model.fl.r  # a start without setup is a source, no link row
    assert ("A", "stock@1") in built.model.fl.r and ("A", "stock@2") in built.model.fl.r  # initial, open order
    assert not any(idx[1].startswith("alt@") for idx in built.model.fl.link)
    assert "C" not in {idx[0] for idx in built.model.fl.link}


def test_hand_derived_lp_bounds(tmp_path):
    inst = _hand_instance(tmp_path)
    assert solve(inst, OPTS).objective == pytest.approx(-160.0, abs=1e-6)
    assert lp_bound(inst, "bigm") == pytest.approx(-150.0, abs=1e-6)
    assert lp_bound(inst, "fl") == pytest.approx(-160.0, abs=1e-6)


def test_option_routing():
    assert "fl" in FORMULATIONS
    assert len(formulation_extensions("fl")) == 1
    r = solve(load_instance(TINY / "setup_lot_sizing"), SolveOptions(time_limit=30, formulation="fl"))
    assert r.objective == pytest.approx(-70.0, abs=1e-6)
    assert any(ref.parent_component().name.startswith("fl.") for ref, _k in r.standard_form.rows)
