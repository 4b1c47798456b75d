"""Benchmark runner: a tiny suite runs locally and on a real Dask cluster, resumes, reports;
the performance-profile math on a table worked out by hand; configurations and suites."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solver.devtools.bench import (
    PROFILE_PNG,
    RESULTS_CSV,
    RESULTS_MD,
    TIMES_PNG,
    BenchConfig,
    ResultsStore,
    gap_to_best,
    markdown_report,
    parse_config,
    performance_profile,
    performance_ratios,
    pyomo_solver_available,
    resolve_configs,
    resolve_suite,
    run_bench,
)
from solver.devtools.literature import DEFAULT_LITERATURE_DIR
from solver.engine.options import SolveOptions

TIME_LIMIT = 30.0
CONFIGS = ("default", "seed-1")


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory: pytest.TempPathFactory):
    """Two generated tiny instances (seeds 0 and 1), cached in a temporary folder."""
    cache = tmp_path_factory.mktemp("cache")
    instances = resolve_suite("ladder-tiny", cache_dir=cache, seeds=2)
    assert [i.name for i in instances] == ["ladder-tiny-s0", "ladder-tiny-s1"]
    assert all((Path(i.path) / "instance.toml").is_file() for i in instances)
    return instances


def _check_table(table: pd.DataFrame, n_rows: int) -> None:
    assert len(table) == n_rows
    assert set(table["configuration"]) == set(CONFIGS)
    assert table["status"].isin(["optimal", "feasible"]).all(), table[
        ["instance", "status", "message"]
    ]
    assert (table["sense"] == "profit").all()
    assert (
        (table["rows"] > 0).all()
        and (table["integers"] > 0).all()
        and (table["nonzeros"] > 0).all()
    )
    assert (table["peak_mem_mb"] > 10).all()  # a Python process with Pyomo loaded
    assert table["solver"].str.startswith("HiGHS").all()
    assert table["machine"].str.contains("cores").all()
    # the same instance has the same size and (within the MIP gap) objective in every config
    for _, g in table.groupby("instance"):
        assert g["rows"].nunique() == 1
        obj = g["objective"].to_numpy(dtype=float)
        assert np.ptp(obj) <= 2e-4 * np.abs(obj).max()
        assert (g["gap"] <= 1e-4 + 1e-9).all() or (g["status"] == "feasible").any()


@pytest.mark.solver
def test_local_run_reports_and_resumes(tiny_suite, tmp_path: Path) -> None:
    configs = resolve_configs(CONFIGS)
    opts = SolveOptions(time_limit=TIME_LIMIT, threads=1)
    out = tmp_path / "out"
    seen: list[dict] = []
    first = run_bench(tiny_suite, configs, opts, out, jobs=2, on_result=seen.append)
    assert (first.ran, first.skipped, first.failures) == (4, 0, [])
    assert len(seen) == 4
    _check_table(first.table, 4)
    for name in (RESULTS_CSV, RESULTS_MD, PROFILE_PNG, TIMES_PNG):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    for name in (PROFILE_PNG, TIMES_PNG):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / RESULTS_MD).read_text(encoding="utf-8")
    assert "total cost = −profit" in md and "ladder-tiny-s1" in md and PROFILE_PNG in md

    # a second run re-runs nothing and leaves the rows as they were
    csv_before = (out / RESULTS_CSV).read_bytes()
    again = run_bench(tiny_suite, configs, opts, out, jobs=2)
    assert (again.ran, again.skipped) == (0, 4)
    assert (out / RESULTS_CSV).read_bytes() == csv_before

    # a deleted row is run again, and only that one
    lines = csv_before.decode().splitlines(keepends=True)
    victim = lines[2].split(",")[:3]  # instance, suite, configuration
    (out / RESULTS_CSV).write_text("".join(lines[:2] + lines[3:]), encoding="utf-8")
    third = run_bench(tiny_suite, configs, opts, out, jobs=1)
    assert (third.ran, third.skipped) == (1, 3)
    table = ResultsStore(out / RESULTS_CSV).load()
    _check_table(table, 4)
    assert ((table["instance"] == victim[0]) & (table["configuration"] == victim[2])).sum() == 1
    assert (out / RESULTS_CSV).read_text().splitlines()[1:3] == csv_before.decode().splitlines()[
        1:2
    ] + csv_before.decode().splitlines()[3:4]


@pytest.mark.solver
def test_dask_local_cluster(tiny_suite, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    configs = resolve_configs(CONFIGS)
    opts = SolveOptions(time_limit=TIME_LIMIT, threads=1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        run = run_bench(tiny_suite, configs, opts, tmp_path, scheduler=cluster.scheduler_address)
        assert (run.ran, run.skipped, run.failures) == (4, 0, [])
        _check_table(run.table, 4)
        again = run_bench(tiny_suite, configs, opts, tmp_path, scheduler=cluster.scheduler_address)
        assert (again.ran, again.skipped) == (0, 4)
    assert (tmp_path / RESULTS_MD).is_file() and (tmp_path / PROFILE_PNG).is_file()


@pytest.mark.solver
def test_cli_bench_and_pyomo_route(tiny_suite, tmp_path: Path) -> None:
    """The command runs a suite end to end; HiGHS through Pyomo agrees with the own route."""
    from solver.cli.main import main

    if not pyomo_solver_available("highs"):
        pytest.skip("Pyomo's HiGHS interface is not available")
    cache = Path(tiny_suite[0].path).parents[1]
    out = tmp_path / "out"
    argv = [
        "bench",
        "ladder-tiny",
        "--cache",
        str(cache),
        "--out",
        str(out),
        "--time-limit",
        "30",
        "--jobs",
        "1",
        "--config",
        "default",
        "--config",
        "pyomo-highs",
    ]
    assert main(argv) == 0
    table = ResultsStore(out / RESULTS_CSV).load()
    assert len(table) == 2 and table["status"].eq("optimal").all()
    obj = table.set_index("configuration")["objective"]
    assert obj["pyomo-highs"] == pytest.approx(obj["default"], rel=2e-4)
    assert "via Pyomo" in table.set_index("configuration").loc["pyomo-highs", "solver"]
    assert main(argv) == 0  # resumes: nothing to run
    assert len(ResultsStore(out / RESULTS_CSV).load()) == 2


# --- the performance profile on a hand-made table ----------------------------------------


def _table(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["instance", "configuration", "status", "solve_s"])


def test_performance_profile_by_hand() -> None:
    """Four instances, configurations A and B (times in s; `-` = not proved optimal):

        p1: A 1, B 2   -> r = 1, 2
        p2: A 4, B 2   -> r = 2, 1
        p3: A 3, B -   -> r = 1, ∞
        p4: A -, B -   -> r = ∞, ∞   (counts against both)

    ρ_A(τ): τ=1 → {p1,p3} = 1/2; τ=2 → {p1,p2,p3} = 3/4.  ρ_B: τ=1 → {p2} = 1/4; τ=2 → 1/2.
    """
    t = _table(
        [
            ("p1", "A", "optimal", 1.0),
            ("p1", "B", "optimal", 2.0),
            ("p2", "A", "optimal", 4.0),
            ("p2", "B", "optimal", 2.0),
            ("p3", "A", "optimal", 3.0),
            ("p3", "B", "feasible", 1.0),
            ("p4", "A", "error", 0.5),
            ("p4", "B", "feasible", 60.0),
        ]
    )
    r = performance_ratios(t)
    assert list(r.columns) == ["A", "B"] and list(r.index) == ["p1", "p2", "p3", "p4"]
    expected = np.array([[1, 2], [2, 1], [1, np.inf], [np.inf, np.inf]], dtype=float)
    np.testing.assert_array_equal(r.to_numpy(), expected)
    prof = performance_profile(r)
    assert list(prof.index) == [1.0, 2.0]
    np.testing.assert_allclose(prof["A"].to_numpy(), [0.5, 0.75])
    np.testing.assert_allclose(prof["B"].to_numpy(), [0.25, 0.5])
    at = performance_profile(r, taus=[0.5, 1.5, 1000])
    np.testing.assert_allclose(at.to_numpy(), [[0, 0], [0.5, 0.25], [0.75, 0.5]])


def test_performance_profile_edge_rules() -> None:
    """Instances not run by every configuration are left out; times are floored (no 0/0)."""
    t = _table(
        [
            ("p1", "A", "optimal", 0.0),
            ("p1", "B", "optimal", 0.0),
            ("p2", "A", "optimal", 1.0),  # B has no row for p2
        ]
    )
    r = performance_ratios(t)
    assert list(r.index) == ["p1"]
    np.testing.assert_array_equal(r.to_numpy(), [[1.0, 1.0]])


# --- configurations, suites, report ------------------------------------------------------


def test_configurations() -> None:
    assert parse_config("default").options == {}
    c = parse_config("gap=0.01,seed=3")
    assert c.name == "gap=0.01,seed=3" and dict(c.options) == {"gap": 0.01, "seed": 3}
    opts = c.solve_options(SolveOptions(time_limit=7))
    assert (opts.gap, opts.seed, opts.time_limit) == (0.01, 3, 7)
    assert parse_config("seed-1:polish=false").solve_options(SolveOptions()).polish is False
    with pytest.raises(ValueError, match="unknown SolveOptions field"):
        resolve_configs(["colour=red"])
    with pytest.raises(ValueError, match="unknown configuration"):
        parse_config("no-such-config")
    # a configuration may carry any SolveOptions field, including ones added later
    cfg = BenchConfig("x", options={"threads": 2, "time_limit": 5})
    assert cfg.solve_options(SolveOptions()).threads == 2
    # solvers that are not installed are refused up front, not at run time
    missing = [n for n in ("cbc", "glpk", "scip") if not pyomo_solver_available(n)]
    if missing:
        with pytest.raises(ValueError, match="not installed"):
            resolve_configs([missing[0]])
    names = [c.name for c in resolve_configs(["all"])]
    assert names[0] == "default" and not set(missing) & set(names)


def test_objective_sense_and_best_known() -> None:
    assert gap_to_best(101.0, 100.0, "cost") == pytest.approx(0.01)  # cost above best: worse
    assert gap_to_best(99.0, 100.0, "profit") == pytest.approx(0.01)  # profit below best: worse
    assert math.isnan(gap_to_best(1.0, None, "cost"))


def test_markdown_marks_reproduced_values() -> None:
    t = pd.DataFrame(
        [
            dict(
                instance="G53",
                suite="ttm-tr",
                configuration="default",
                size="12x15",
                rows=1,
                cols=1,
                integers=1,
                nonzeros=1,
                status="optimal",
                sense="cost",
                objective=74634.0,
                bound=74634.0,
                gap=0.0,
                best_known=74634.0,
                gap_to_best_known=0.0,
                build_s=0.1,
                solve_s=1.0,
                peak_mem_mb=100,
                solver="HiGHS 1.16.0",
                time_limit=60,
                machine="m",
                message="optimal",
            ),
        ]
    )
    md = markdown_report(t, machine={"cpu": "test cpu"})
    assert "0.000% ✓" in md and "| G53 | default | 12x15 |" in md and "test cpu" in md


def test_literature_suites_resolve(tmp_path: Path) -> None:
    if not (DEFAULT_LITERATURE_DIR / "ttm").is_dir():
        pytest.skip(f"literature data absent: {DEFAULT_LITERATURE_DIR}")
    tr = resolve_suite("ttm-tr", cache_dir=tmp_path)
    assert [i.name for i in tr] == ["G30b", "G53", "G57", "G62", "G69", "G72"]
    assert tr[0].best_known == 37721 and all(i.best_known for i in tr)
    dj = resolve_suite("dj", cache_dir=tmp_path)
    assert len(dj) == 6 and all(i.best_known for i in dj)
    # a folder suite: the cache written above, with best known values where a CSV gives them
    folder = resolve_suite(str(tmp_path / "ttm"))
    assert sorted(i.name for i in folder) == sorted(i.name for i in tr)
    with pytest.raises(ValueError, match="neither a folder nor a named suite"):
        resolve_suite("no-such-suite", cache_dir=tmp_path)


def test_formulation_configs_apply_the_extensions_once() -> None:
    """A `formulation` override becomes model extensions applied by the runner, and solve()
    gets the default formulation back, so the extensions cannot be added twice."""
    from dataclasses import fields

    from solver.devtools.bench import _formulation_extensions

    if "formulation" not in {f.name for f in fields(SolveOptions)}:
        pytest.skip("SolveOptions has no formulation field")
    from formulations.setup.variants import formulation_extensions

    opts = parse_config("ls").solve_options(SolveOptions())
    rest, ext = _formulation_extensions(opts)
    assert rest.formulation == SolveOptions().formulation
    assert ext == formulation_extensions("ls") and ext
    assert _formulation_extensions(SolveOptions()) == (SolveOptions(), [])


@pytest.mark.solver
def test_plan_then_cut_configuration_reports_the_joint_gain(tiny_suite, tmp_path: Path) -> None:
    """The ERP way as a configuration: every instance gets a plan-then-cut row, the joint plan
    never earns less (plan-then-cut is one of the joint model's feasible plans, up to the MIP
    gap), and the Markdown has the joint-gain section."""
    from solver.devtools.bench import joint_gain

    configs = resolve_configs(["default", "plan-then-cut"])
    run = run_bench(tiny_suite, configs, SolveOptions(time_limit=TIME_LIMIT, gap=1e-6), tmp_path, jobs=1)
    table = run.table
    seq = table[table["configuration"] == "plan-then-cut"]
    assert len(seq) == len(tiny_suite)
    gains = joint_gain(table)
    assert len(gains) == len(tiny_suite)
    ok = gains.dropna(subset=["gain"])
    assert (ok["gain"] >= -1e-4 * ok["joint_profit"].abs()).all(), gains
    md = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "Joint planning against plan-then-cut" in md
