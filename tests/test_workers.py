"""Sweeps, scenario comparisons and the robust plan on a Dask cluster give what local runs give
(issue 18, target 6): the same solves with the same starts, wherever they run
(solver/analysis/workers.py). A LocalCluster of worker processes stands in for a cluster, as in
tests/test_bench.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from solver.analysis.parametric import sweep
from solver.analysis.scenarios import compare_scenarios
from solver.analysis.workers import executor
from solver.io.loading import load_instance, scenario_weights
from tests.test_scenarios import INSTANCE as SCENARIOS
from tests.test_scenarios import NAMES
from tests.test_sensitivity import EXACT, HAND, write_spec

pytestmark = pytest.mark.solver


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local.scheduler_address


def test_one_local_job_runs_in_this_process():
    with executor(1) as pool:
        assert pool is None


def test_sweep_on_a_cluster_is_the_local_sweep(cluster, tmp_path: Path) -> None:
    """The hand LP of tests/test_sensitivity.py (profit 6R to R = 70, then 520 + 10/3 (R − 100)
    to 190, then 820): the same points, probes, profits and breakpoints from the cluster; the
    relative path is resolved for workers that do not share this working directory."""
    folder = write_spec(tmp_path / "hand", HAND)
    values = [40.0, 100.0, 160.0, 220.0]
    local = sweep(str(folder), "capacity:L", values, EXACT, jobs=1)
    remote = sweep(str(folder), "capacity:L", values, EXACT, scheduler=cluster)
    cols = ["parameter", "value", "point", "status", "profit", "service_level", "marginal_value", "slope_before",
                "breakpoint"]
    pd.testing.assert_frame_equal(local[cols], remote[cols])
    assert remote["profit"].to_numpy() == pytest.approx([240, 420, 520, 720, 820, 820])
    assert list(remote.loc[remote["breakpoint"], "value"]) == pytest.approx([70.0, 190.0])


def _same_plan(a, b) -> None:
    assert str(a.status) == str(b.status)
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    for name in ("production", "purchases", "sales", "cash"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


@pytest.mark.parametrize("where", ["cluster", "two local processes"])
def test_scenarios_and_robust_plan_elsewhere_are_the_local_ones(cluster, where) -> None:
    """scenarios_demand (own optima low 416, base 727, high 1076, see tests/test_scenarios.py):
    every scenario's plan, the robust plan and its expected profit as in one process, the
    reference scenario's plan starting the others and the robust plan as locally."""
    instances = {s: load_instance(SCENARIOS, scenario=s) for s in NAMES}
    weights = scenario_weights(SCENARIOS, NAMES)
    local = compare_scenarios(instances, weights, robust_commit=1)
    kw = {"scheduler": cluster} if where == "cluster" else {"jobs": 2}
    events = []
    other = compare_scenarios(instances, weights, robust_commit=1, progress=events.append, **kw)
    assert {s: other.plans[s].objective for s in NAMES} == pytest.approx({"low": 416, "base": 727, "high": 1076})
    for s in NAMES:
        _same_plan(local.plans[s], other.plans[s])
        _same_plan(local.robust[s], other.robust[s])
        assert other.plans[s].kpis["warm_start"] == local.plans[s].kpis["warm_start"]
    assert other.robust_status == local.robust_status == "optimal"
    assert other.expected_profit == pytest.approx(local.expected_profit, rel=1e-9)
    # committing to base's own plan, its decisions taken where base was solved, re-solved elsewhere
    assert other.committed.expected_profit == pytest.approx(local.committed.expected_profit, rel=1e-9)
    assert other.committed.infeasible == local.committed.infeasible
    for s in NAMES:
        _same_plan(local.committed.plans[s], other.committed.plans[s])
    # what happens elsewhere is reported as it is handed out and comes back (no HiGHS callback crosses)
    counted = [(e.done, e.total) for e in events if e.phase == "solving the scenarios"]
    assert counted[0] == (0, len(NAMES) - 1) and counted[-1] == (len(NAMES) - 1, len(NAMES) - 1)
    assert any(e.phase == "robust plan" for e in events)
    pd.testing.assert_frame_equal(local.rows(), other.rows())
