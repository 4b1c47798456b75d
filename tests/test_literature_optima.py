"""Published optima of literature instances, reproduced end to end (import → load → solve).

These are pure cost-minimisation special cases (prices 0, service = must), so the solver's
objective (profit) is −(total cost). tr6-15 is G30.DAT: its published optimum 37721 holds for
the unit-coefficient variant G30b; the file as given has optimum 37809 (ttm/known_values.csv).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solver import load_instance, solve
from solver.devtools.literature import (
    DEFAULT_LITERATURE_DIR,
    dj_instances,
    known_values,
    ttm_instance,
)
from solver.io.instance_writer import write_instance_folder

pytestmark = pytest.mark.solver

REL_TOL = 1e-4
DJ_CASES = ("ph1in01st1de1mh0ms0", "ph1in03st3de1mh0ms0")


def _require_data() -> Path:
    if (
        not (DEFAULT_LITERATURE_DIR / "ttm").is_dir()
        or not (DEFAULT_LITERATURE_DIR / "dj2000").is_dir()
    ):
        pytest.skip(f"literature data absent: {DEFAULT_LITERATURE_DIR} has no ttm/ or dj2000/")
    return DEFAULT_LITERATURE_DIR


def _solve_cost(tmp_path: Path, name: str, toml: dict, tables: dict) -> float:
    folder = write_instance_folder(tmp_path / name, toml, tables)
    result = solve(load_instance(folder), time_limit=120, gap=1e-6)
    assert result.status.has_plan, f"{name}: {result.status} {result.message}"
    assert str(result.status) == "optimal", f"{name}: not proven optimal ({result.status})"
    return -result.objective


@pytest.mark.parametrize(
    ("instance", "unit_capacity_use"), [("G30b", True), ("G30", False)], ids=["tr6-15", "G30"]
)
def test_tr6_15(tmp_path: Path, instance: str, unit_capacity_use: bool) -> None:
    lit = _require_data()
    best = known_values(lit).set_index("instance")["best_known"][instance]
    toml, tables = ttm_instance(
        lit / "ttm" / "G30.DAT", unit_capacity_use=unit_capacity_use, name=instance
    )
    cost = _solve_cost(tmp_path, instance, toml, tables)
    assert cost == pytest.approx(best, rel=REL_TOL)


@pytest.mark.parametrize("instance", DJ_CASES)
def test_dellaert_jeunet(tmp_path: Path, instance: str) -> None:
    lit = _require_data()
    best = known_values(lit).set_index("instance")["best_known"][instance]
    toml, tables = dj_instances(lit / "dj2000" / "dj_phase1_subset.json")[instance]
    cost = _solve_cost(tmp_path, instance, toml, tables)
    assert cost == pytest.approx(best, rel=REL_TOL)
